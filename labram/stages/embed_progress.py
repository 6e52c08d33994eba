"""Which chunks of an embedding store (``labram embed --out``) are written.

Each rank records the chunks it finished in ``_labram/progress/rank<r>.json``
(``{"chunks": [...]}``); a resume computes the rest. A progress file another program damaged,
or a chunk object removed after it was recorded, costs a recomputation of those chunks, with
one warning naming them, never a wrong "complete" nor a run that can never finish.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from eegprep.base import strict_json
from eegprep.base.path_limits import shown_path
from eegprep.base.sealed_json import KEY, digest, near_key
from eegprep.base.wording import counted, noun

log = logging.getLogger(__name__)

META_DIR = "_labram"
"""The embedding store's own folder (:data:`labram.stages.embed.META_DIR`)."""


def completed(out: Path, n_chunks: int) -> set[int]:
    """Chunks every rank has recorded as written (any earlier world size), of the
    ``n_chunks`` of this run; a damaged progress file records none (:func:`recorded`)."""
    done: set[int] = set()
    for f in sorted((out / META_DIR / "progress").glob("rank*.json")):
        done |= recorded(f, n_chunks)
    return done


def recorded(path: Path, n_chunks: int, *, warn: bool = True) -> set[int]:
    """The chunks one rank's progress file ``path`` records: ``{"chunks": [...]}``, each a
    chunk number below ``n_chunks``. A file that is not (cut short, NaN, a chunk ``"0"`` or
    ``7`` of 1, entries that do not match its checksum: :mod:`eegprep.base.sealed_json`)
    records none, with one warning naming it (``warn``): its chunks are computed again and the
    file rewritten. (A flipped bit could turn ``[0, 1]`` into ``[2, 1]``: a chunk left out,
    its windows NaN, read as written, and the run called complete.) Such a file was an
    internal error (a chunk ``"0"``), a warning then an error that contradicted it (cut short),
    or kept a run incomplete forever (a chunk past the last)."""
    try:
        doc = strict_json.loads(path.read_text(encoding="utf-8"))
        if isinstance(doc, dict) and KEY in doc and doc[KEY] != digest(doc):
            raise ValueError(f"its entries do not match its {KEY}")  # a flipped bit, say
        if isinstance(doc, dict) and near_key(doc) is not None:
            raise ValueError(f"its {KEY} is under a changed name")  # (read as unchecked)
        chunks = doc.get("chunks") if isinstance(doc, dict) else None
        if not isinstance(chunks, list):
            raise ValueError('not {"chunks": [...]}')
        bad = [c for c in chunks if type(c) is not int or not 0 <= c < n_chunks]
        if bad:
            raise ValueError(f"{bad[0]!r} is no chunk of the {n_chunks} of this run")
        return set(chunks)
    except (OSError, ValueError) as exc:
        if warn:
            log.warning(
                "%s: damaged progress file (%s): its chunks are computed again",
                shown_path(path),
                exc,
            )
        return set()


def written(out: Path, embedding: Any, done: set[int]) -> set[int]:
    """The chunks of ``done`` whose ``embedding`` (the Zarr array) chunk object is in
    ``out``; a chunk recorded as done whose object is gone (a store copied in part, a file
    removed) is computed again, with one warning: it read as NaN windows of a complete run."""
    missing = sorted(
        c
        for c in done
        if not (out / embedding.path / embedding.metadata.encode_chunk_key((c, 0))).is_file()
    )
    if missing:
        log.warning(
            "%s: %s recorded as written %s missing (chunk %d, ...): computed again",
            shown_path(out), counted(len(missing), "chunk"), noun(len(missing), "is"), missing[0],
        )  # fmt: skip
    return done - set(missing)
