"""Which model a fine-tuned classifier started from: recorded, shown, checked on resume.

A fine-tuned model is described only with its initial weights known, and through them the
tokenizer whose codes that backbone learned to predict (:mod:`labram.stages.tokenizer_used`).
``labram finetune`` records its ``--init`` file (:func:`record`: the path as given, its real
path, the file's SHA-256, its layout, the tokenizer record the file holds and, for a model that
was itself fine-tuned, the file's own record of its backbone) under :data:`KEY`

- in each seed's ``config.json``, every ``last.pt`` (its ``extra``) and ``best.pt``;
- in the run's ``results.json``;
- in an export of a fine-tuned model (the safetensors metadata, both model cards:
  :mod:`labram.stages.export`), and in what ``labram predict --json`` and ``labram embed``
  (the store's attributes) say of the model.

A file that records no tokenizer (the released ``labram-base.pth``, a model of an older labram)
gets ``null`` there, which :func:`describe` writes as ``unknown``: nothing is guessed.
``labram finetune --resume`` refuses, in one line, an ``--init`` whose bytes differ from those
the run recorded, and an ``--init`` left out or added (:func:`check_resume`), through the
tokenizer's own check (:func:`labram.stages.tokenizer_used.check_unchanged`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from eegprep.base.errors import UsageError
from eegprep.base.field_text import noted_text
from eegprep.base.path_limits import shown_path
from eegprep.base.unchanged_reads import unchanged_between_reads
from labram.checkpoints.cards import file_sha256
from labram.checkpoints.contents import CKPT_FORMAT
from labram.checkpoints.errors import ChangedCheckpointError
from labram.checkpoints.layouts import is_ours
from labram.checkpoints.safe_read import read_checkpoint
from labram.stages import provenance_records, tokenizer_used

KEY = "backbone_used"
"""The entry holding :func:`record` in a fine-tuning run's files, a checkpoint and a card."""

RANDOM = "random"
"""The ``layout`` of the record of a run with no ``--init`` (random initial weights)."""


def record(init: str | os.PathLike[str] | None, obj: Any = None) -> dict[str, Any]:
    """What identifies the initial weights ``init`` (a path as the command named it; None:
    random weights), whose entries ``obj`` are (the file as
    :func:`~labram.checkpoints.safe_read.read_checkpoint` returned it).

    Returns
    -------
    dict
        ``path`` (as given), ``resolved`` (its real path), ``sha256`` of its bytes, ``layout``
        (``training``: a ``last.pt``; ``labram``: our model file or export; ``released``; or
        :data:`RANDOM`, every other entry null), ``tokenizer_used`` (the record the file holds,
        directly or through its own backbone's; null when it holds none) and ``backbone_used``
        (the file's own record, when it was fine-tuned itself; else null).
    """
    if init is None:
        return {"path": None, "resolved": None, "sha256": None, "layout": RANDOM,
                tokenizer_used.KEY: None, KEY: None}  # fmt: skip
    path = Path(init)
    own = found_in(obj, source=os.fspath(init))  # (malformed: warned, recorded as such)
    tokenizer = tokenizer_used.found_in(obj, source=os.fspath(init)) or (own or {}).get(
        tokenizer_used.KEY
    )
    return {
        "path": os.fspath(init),
        "resolved": os.path.realpath(path),
        "sha256": file_sha256(path),
        "layout": _layout(obj),
        tokenizer_used.KEY: tokenizer if isinstance(tokenizer, dict) else None,
        KEY: own,
    }


def read(init: str | os.PathLike[str] | None) -> dict[str, Any]:
    """:func:`record` of ``init``, its entries read without running code from the file
    (:func:`~labram.checkpoints.safe_read.read_checkpoint`)."""
    if init is None:
        return record(None)
    with unchanged_between_reads(init, ChangedCheckpointError):  # (the SHA-256 of what was read)
        return record(init, read_checkpoint(Path(init), what="--init checkpoint"))


def _layout(obj: Any) -> str:
    """``training`` (a ``last.pt``), ``labram`` (our model file, an export) or ``released``."""
    if isinstance(obj, dict) and obj.get("format") == CKPT_FORMAT:
        return "training"
    return "labram" if is_ours(obj) else "released"


def found_in(info: Any, *, source: str = "a checkpoint") -> dict[str, Any] | None:
    """The record (:func:`record`) a checkpoint's entries hold: a ``best.pt``'s or an export's
    own, a ``last.pt``'s in its ``extra``; None when it holds none (no fine-tuned model, or one
    of an older labram)."""
    return tokenizer_used.found_in(info, KEY, source=source)


def check_resume(out: Path, saved: Any, now: dict[str, Any]) -> None:
    """Refuse to resume the fine-tuning run in ``out`` from other initial weights than it began
    with. ``saved``: what the run wrote (a seed's ``config.json``, or a ``last.pt``'s
    ``extra``); one without :data:`KEY` (an older labram's) is not compared. ``now``:
    :func:`record` of this command's ``--init``.

    Raises
    ------
    UsageError
        ``--init`` left out or added, or its file's SHA-256 differs from the run's.
    """
    if not isinstance(saved, dict) or saved.get(KEY) is None:
        return
    before = saved[KEY]
    why = provenance_records.problem(KEY, before)
    if why is not None:
        raise UsageError(
            f"cannot resume {shown_path(out)}: its recorded {KEY} is malformed ({why}), so the "
            "initial weights cannot be checked: pass another --out for a new run"
        )
    then, given = before.get("path"), now["path"]
    if (then is None) != (given is None):
        began = "random initial weights" if then is None else f"--init {then}"
        todo = "leave --init out" if then is None else f"pass --init {then} again"
        this = f"--init {given}" if given is not None else "no --init (random initial weights)"
        raise UsageError(
            f"cannot resume {shown_path(out)}: the run began from {began}, this command gives "
            f"{this}, so the seeds still to train would start from another backbone: {todo}, or "
            "pass another --out for a new run"
        )
    tokenizer_used.check_unchanged(
        out,
        before,
        now,
        what="the initial weights --init",
        changes="the seeds still to train would start from another backbone than those trained",
        key=KEY,
    )


def describe(
    rec: Any, missing: str = "not recorded (the released weights, or a model of an older labram)"
) -> str:
    """``rec`` (:func:`record`) as one line: the file, its SHA-256's first 16 hex digits, and
    the tokenizer its backbone learned the codes of (``unknown`` when the file records none);
    ``missing`` when there is no record."""
    if not isinstance(rec, dict):
        return missing
    if provenance_records.problem(KEY, rec) is not None:  # (the marker too)
        return provenance_records.SHOWN
    if rec.get("layout") == RANDOM:
        return "none (random initial weights)"
    sha = rec.get("sha256")
    said = f"SHA-256 {sha[:16]}..." if isinstance(sha, str) else "SHA-256 not recorded"
    tok = tokenizer_used.describe(
        rec.get(tokenizer_used.KEY), "unknown (the file records none: the released weights, or a "
        "model of an older labram)",
    )  # fmt: skip
    path = rec.get("path")
    return f"{noted_text(str(path))} ({rec.get('layout')} layout), {said}; tokenizer: {tok}"


__all__ = ["KEY", "RANDOM", "check_resume", "describe", "found_in", "read", "record"]
