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
from pathlib import Path
from typing import Any

from eegprep.base.errors import UsageError
from labram.checkpoints.cards import file_sha256

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
    rec: dict[str, Any] = before[KEY] if isinstance(before.get(KEY), dict) else {}
    where = f"cannot resume {out}: the run's masked-modelling targets are the codes of"
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
) -> None:
    """Refuse to resume ``out`` when a file's SHA-256 (``now``, :func:`record` or any record
    with ``path``, ``resolved`` and ``sha256``) differs from the one the run recorded
    (``before``; nothing to compare: no refusal). ``what`` names the file in the message
    (the tokenizer; a fine-tuning run's initial weights: :mod:`labram.stages.backbone_used`),
    ``changes`` says what resuming with it would change."""
    if not isinstance(before, dict) or now is None or not isinstance(before.get("sha256"), str):
        return
    if before["sha256"] == now["sha256"]:
        return
    then = before.get("path")
    same = not isinstance(then, str) or _same_file(now["path"], then, before.get("resolved"))
    how = "changed since the run began" if same else f"is not the file the run began with ({then})"
    todo = "restore that file" if same else f"pass {then} again (put back if it moved)"
    raise UsageError(
        f"cannot resume {out}: {what} {now['path']} {how} (SHA-256 {before['sha256'][:16]}... "
        f"recorded, {str(now['sha256'])[:16]}... now), so {changes}: {todo}, or pass another "
        "--out for a new run"
    )


def found_in(info: Any, key: str = KEY) -> dict[str, Any] | None:
    """The record under ``key`` that a checkpoint's entries ``info`` hold (by default the
    tokenizer's, :func:`record`): a model file's or an export's own entry, a ``last.pt``'s in
    its ``extra``; None when it holds none (another kind, the released weights, an older
    labram's file). :mod:`labram.stages.backbone_used` finds its record so too, and
    ``evaluate``, ``predict`` and ``embed`` a fine-tuned model's ``task`` and ``split``."""
    if not isinstance(info, dict):
        return None
    found = info.get(key)
    extra = info.get("extra")
    if found is None and isinstance(extra, dict):
        found = extra.get(key)
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
    cfg: dict[str, Any] = rec["config"] if isinstance(rec.get("config"), dict) else {}
    sha = rec.get("sha256")
    how = "trained by its pre-training run" if rec.get("trained_by_run") else "--tokenizer"
    parts = [
        f"{rec.get('path')} ({how})",
        f"SHA-256 {sha[:16]}..." if isinstance(sha, str) else "SHA-256 not recorded",
    ]
    if "n_codes" in cfg:
        parts.append(f"{cfg['n_codes']} codes of dimension {cfg.get('code_dim', '?')}")
    return ", ".join(parts)


def read_run_record(out: Path) -> Any:
    """The folder's ``config.json`` as strict JSON (None when missing or damaged: the resume
    checks of :func:`~labram.train.run.write_run_config` say why)."""
    from eegprep.base import strict_json
    from eegprep.base.errors import UsageError
    from eegprep.base.user_files import read_user_file

    try:  # (bounded: a file of gigabytes is not read whole; it is damaged)
        return strict_json.loads(read_user_file(out / "config.json", "run file", UsageError))
    except (UsageError, ValueError):
        return None


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
