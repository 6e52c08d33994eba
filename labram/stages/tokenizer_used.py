"""Which tokenizer gave a masked-modelling run its targets: recorded, shown, checked on resume.

A masked EEG model learns to predict the codes of one tokenizer checkpoint; another tokenizer
gives other targets, so a model is only described, and a run only resumable, with that file
known. ``labram pretrain`` records it (:func:`record`: the path as given, its real path, the
file's SHA-256 and the tokenizer's own config) under :data:`KEY`

- in the run's ``OUT/config.json``, as soon as it is known (at the start for ``--tokenizer``,
  when stage 1 ends for a tokenizer the run trains);
- in every ``OUT/mem/last.pt`` (its ``extra``) and in ``OUT/mem/model.pt``;
- in an export of that model (the safetensors metadata and both model cards:
  :mod:`labram.stages.export`), and on ``labram report``'s lines for the run (:func:`describe`).

``labram pretrain --resume`` refuses, in one line, a tokenizer file whose bytes changed since
the run recorded it, and a ``--tokenizer`` that names another file than the run used (or is
missing or added: :func:`check_resume`); the same file by another spelling (``./tok.pt``, a
symbolic or hard link) is the same file.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eegprep.base.errors import UsageError
from eegprep.base.field_text import noted_text
from eegprep.base.path_limits import shown_path
from labram.checkpoints.cards import file_sha256
from labram.checkpoints.errors import CheckpointError
from labram.data.protocols import fold_problem
from labram.data.task_records import task_record_problem
from labram.stages import provenance_records

KEY = "tokenizer_used"
"""The entry holding :func:`record` in a run's config.json, a checkpoint and a model card."""


def record(
    given: str | os.PathLike[str], config: dict[str, Any], *, trained: bool
) -> dict[str, Any]:
    """What identifies the tokenizer checkpoint ``given`` (a path as the command named it):
    ``path`` (as given), ``resolved`` (its real path), ``sha256`` of its bytes, ``config``
    (the tokenizer's own, ``TokenizerConfig.to_dict``) and ``trained_by_run`` (stage 1 of this
    run made it, else ``--tokenizer`` named it)."""
    path = Path(given)
    return {
        "path": os.fspath(given),
        "resolved": os.path.realpath(path),
        "sha256": file_sha256(path),
        "config": config,
        "trained_by_run": trained,
    }


def _same_file(given: str | os.PathLike[str], recorded: str, resolved: Any) -> bool:
    """Whether ``given`` names the file the run recorded (as ``recorded``, real path
    ``resolved``): the same real path, or the same device and inode (a hard link)."""
    if os.path.realpath(given) == resolved or (os.fspath(given) == recorded and not resolved):
        return True
    try:
        return os.path.samefile(given, resolved if isinstance(resolved, str) else recorded)
    except OSError:
        return False


def check_resume(
    out: Path, before: Any, given: str | os.PathLike[str] | None, now: dict[str, Any] | None
) -> str | None:
    """Refuse to resume the run in ``out`` with another tokenizer than its own, and return the
    ``tokenizer_checkpoint`` text to record (the run's own spelling of the same file).

    ``before``: the folder's ``config.json`` as read (a dict; anything else is checked by
    :func:`~labram.train.run.write_run_config`); ``given``: this command's ``--tokenizer``;
    ``now``: :func:`record` of it.

    Raises
    ------
    UsageError
        ``--tokenizer`` left out, added, or naming another file than the run's; or the file's
        SHA-256 differs from the one the run recorded (its bytes changed since).
    """
    if not isinstance(before, dict) or "tokenizer_checkpoint" not in before:
        return os.fspath(given) if given is not None else None
    old = before.get("tokenizer_checkpoint")
    if before.get(KEY) is not None and not isinstance(before.get(KEY), dict):
        _check_sound(out, before[KEY], KEY)  # (raises: a record that is not even a table)
    rec: dict[str, Any] = before[KEY] if isinstance(before.get(KEY), dict) else {}
    where = f"cannot resume {shown_path(out)}: the run's masked-modelling targets are the codes of"
    if isinstance(old, str) and given is None:
        raise UsageError(
            f"{where} --tokenizer {old}; without --tokenizer a new tokenizer would be trained: "
            f"pass --tokenizer {old} again, or another --out for a new run"
        )
    if old is None and given is not None:
        raise UsageError(
            f"{where} the tokenizer it trained ({out / 'tokenizer' / 'tokenizer.pt'}), not "
            f"--tokenizer {os.fspath(given)}: resume without --tokenizer, or pass another --out "
            "for a new run"
        )
    if given is None or not isinstance(old, str):
        return None
    if not _same_file(given, old, rec.get("resolved")):
        raise UsageError(
            f"{where} --tokenizer {old}; this command's --tokenizer {os.fspath(given)} is another "
            f"file: pass --tokenizer {old} (the file the run used, put back if it moved), or "
            "another --out for a new run"
        )
    check_unchanged(out, rec, now)
    return old


def check_unchanged(
    out: Path,
    before: Any,
    now: dict[str, Any] | None,
    *,
    what: str = "the tokenizer",
    changes: str = "its masked-modelling targets would change mid-run",
    key: str = KEY,
) -> None:
    """Refuse to resume ``out`` when a file's SHA-256 (``now``, :func:`record` or any record
    with ``path``, ``resolved`` and ``sha256``) differs from the one the run recorded
    (``before``; nothing to compare: no refusal). ``what`` names the file in the message
    (the tokenizer; a fine-tuning run's initial weights: :mod:`labram.stages.backbone_used`),
    ``changes`` says what resuming with it would change; ``key``: the record's field
    (``tokenizer_used``; ``backbone_used``), named where ``before`` is malformed, which is
    refused (:func:`~labram.stages.provenance_records.problem`: one line)."""
    if isinstance(before, dict) and now is not None:
        _check_sound(out, before, key)
    if not isinstance(before, dict) or now is None or not isinstance(before.get("sha256"), str):
        return
    if before["sha256"] == now["sha256"]:
        return
    then = before.get("path")
    same = not isinstance(then, str) or _same_file(now["path"], then, before.get("resolved"))
    shown = noted_text(then) if isinstance(then, str) else then  # (escaped, capped)
    how = "changed since the run began" if same else f"is not the file the run began with ({shown})"
    todo = "restore that file" if same else f"pass {shown} again (put back if it moved)"
    raise UsageError(
        f"cannot resume {shown_path(out)}: {what} {shown_path(now['path'])} {how} (SHA-256 "
        f"{before['sha256'][:16]}... recorded, {str(now['sha256'])[:16]}... now), so {changes}: "
        f"{todo}, or pass another --out for a new run"
    )


def _check_sound(out: Path, rec: Any, key: str) -> None:
    """Refuse to resume ``out`` from a malformed ``key`` record (the run's own, which the
    resume compares its file with): one line naming the folder and the field."""
    why = provenance_records.problem(key, rec)
    if why is not None:
        raise UsageError(
            f"cannot resume {shown_path(out)}: its recorded {key} is malformed ({why}), so the "
            "file it names cannot be checked: pass another --out for a new run"
        )


SHAPED: dict[str, Callable[[Any], str | None]] = {
    "task": task_record_problem,
    "split": fold_problem,
}
"""The records a fine-tuned checkpoint carries, each with what says what is wrong with one
(``evaluate``, ``predict``, ``embed`` and ``export`` use them as they are given)."""


def found_in(info: Any, key: str = KEY, *, source: str = "a checkpoint") -> dict[str, Any] | None:
    """The record under ``key`` that a checkpoint's entries ``info`` hold (by default the
    tokenizer's, :func:`record`): a model file's or an export's own entry, a ``last.pt``'s in
    its ``extra``; None when it holds none (another kind, the released weights, an older
    labram's file). :mod:`labram.stages.backbone_used` finds its record so too, and
    ``evaluate``, ``predict`` and ``embed`` a fine-tuned model's ``task`` and ``split``.

    A ``task`` or ``split`` record is checked for the shape fine-tuning writes it in
    (:data:`SHAPED`): a malformed one is a :class:`CheckpointError`, one line naming ``source``
    and the field. A ``tokenizer_used`` or ``backbone_used`` record is checked
    (:func:`labram.stages.provenance_records.checked`): a malformed one is one warning line
    naming ``source`` (the file) and the field, and reads as ``MALFORMED``."""
    if not isinstance(info, dict):
        return None
    found = info.get(key)
    extra = info.get("extra")
    if found is None and isinstance(extra, dict):
        found = extra.get(key)
    if key in provenance_records.KEYS:
        return provenance_records.checked(source, key, found)
    if found is not None and key in SHAPED:
        problem = SHAPED[key](found) if isinstance(found, dict) else None
        if not isinstance(found, dict) or problem:
            why = problem or f"a {type(found).__name__}, not a table"
            raise CheckpointError(f"{shown_path(source)}: its {key} record is not valid: {why}")
    return dict(found) if isinstance(found, dict) else None


MODEL_WITHOUT = "not recorded (the released weights, or a model of an older labram)"
"""What :func:`describe` says of a masked model's file that holds no record."""


def describe(
    rec: Any,
    missing: str = "not recorded (a run of an older labram, or its tokenizer stage has not ended)",
) -> str:
    """``rec`` (:func:`record`) as one line of text: the path, the SHA-256's first 16 hex
    digits, the codebook size; ``missing`` when there is none (a run folder's words by
    default; a model file's: :data:`MODEL_WITHOUT`)."""
    if not isinstance(rec, dict):
        return missing
    if provenance_records.problem(KEY, rec) is not None:  # (the marker too)
        return provenance_records.SHOWN
    cfg: dict[str, Any] = rec["config"] if isinstance(rec.get("config"), dict) else {}
    sha = rec.get("sha256")
    how = "trained by its pre-training run" if rec.get("trained_by_run") else "--tokenizer"
    parts = [
        f"{noted_text(rec['path'])} ({how})",
        f"SHA-256 {sha[:16]}..." if isinstance(sha, str) else "SHA-256 not recorded",
    ]
    if "n_codes" in cfg:
        parts.append(f"{cfg['n_codes']} codes of dimension {cfg.get('code_dim', '?')}")
    return ", ".join(parts)


def read_run_record(out: Path) -> Any:
    """The folder's ``config.json`` as strict JSON (None when missing or damaged: the resume
    checks of :func:`~labram.train.run.write_run_config` say why; one rewritten while it was
    read is a :class:`~eegprep.base.errors.ChangedFileError`, :func:`~labram.train.run.
    read_run_json`)."""
    from labram.train.run import read_run_json

    return read_run_json(out / "config.json")


__all__ = [
    "KEY",
    "MODEL_WITHOUT",
    "check_resume",
    "check_unchanged",
    "describe",
    "found_in",
    "read_run_record",
    "record",
]
