"""A checksum inside each JSON result file of a run, checked by the reader.

A run's results (``metrics.json`` of each seed, ``results.json``, each stage's ``summary.json``)
are read back by ``labram report``, perhaps months later and from a copy. A flipped bit in a
digit is still JSON (``0.8125`` read as ``0.8135``), so nothing but a checksum shows it. The
writer adds :data:`KEY`, the SHA-256 of the document's other entries in one canonical form
(:func:`digest`); :func:`unsealed` checks it and returns the document without it. A file without
it (an older labram's, or written by hand) is read as it is.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from eegprep.base import strict_json
from eegprep.base.errors import UsageError
from eegprep.base.path_limits import shown_path

KEY = "content_sha256"
"""The entry holding the SHA-256 (64 hex digits) of the document's other entries."""


def digest(doc: dict[str, Any]) -> str:
    """SHA-256 of ``doc`` without :data:`KEY`, as strict JSON with sorted keys: what a reader
    gets back from the file's text is hashed alike (a float's shortest text reads back as the
    same float)."""
    rest = {k: v for k, v in doc.items() if k != KEY}
    text = strict_json.dumps(rest, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def sealed(doc: dict[str, Any]) -> bytes:
    """``doc`` as the indented strict JSON a run file holds, :data:`KEY` last."""
    plain = strict_json.loads(strict_json.dumps(doc))  # (tuples, numpy scalars: as read back)
    rest = {k: v for k, v in plain.items() if k != KEY}
    return strict_json.dumps({**rest, KEY: digest(rest)}, indent=2).encode()


def near_key(doc: dict[str, Any]) -> str | None:
    """A key of ``doc`` that is :data:`KEY` with one character changed (a flipped bit in the
    key's own name), where ``doc`` has no :data:`KEY`: such a file would read as an older
    labram's, unchecked. None where there is none."""
    if KEY in doc:
        return None
    return next((key for key in doc if one_changed(key, KEY)), None)


def one_changed(name: str, expected: str) -> bool:
    """Whether ``name`` is ``expected`` with exactly one character changed (what a flipped
    bit in a name leaves): the test of a checksum entry or column found under another name."""
    return len(name) == len(expected) and sum(a != b for a, b in zip(name, expected)) == 1


def unsealed(path: Path, doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` (the JSON object read from ``path``) without :data:`KEY`, once it matches it.

    Raises
    ------
    UsageError
        It states a checksum its other entries do not have, or holds its checksum under a
        changed name (:func:`near_key`), naming ``path``.
    """
    near = near_key(doc)
    if near is not None:
        raise UsageError(
            f"{shown_path(path)}: its entry {near!r} is its {KEY} changed (a flipped bit, a bad "
            "copy): restore it from a copy"
        )
    if KEY not in doc:
        return doc
    rest = {k: v for k, v in doc.items() if k != KEY}
    if doc[KEY] != digest(rest):
        raise UsageError(
            f"{shown_path(path)}: its entries do not match its {KEY} (changed since labram wrote "
            f"it: a flipped bit, a bad copy, an edit): restore it from a copy, or remove its {KEY} "
            "entry if you edited it on purpose"
        )
    return rest


__all__ = ["KEY", "digest", "near_key", "one_changed", "sealed", "unsealed"]
