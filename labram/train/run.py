"""One stage's run as the training loop sees it: configuration, data, folder, processes."""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from eegprep.base.errors import EegprepError, UsageError
from eegprep.base.files import write_atomically, write_problem
from eegprep.base.flocks import try_exclusive
from eegprep.base.path_limits import shown_path
from eegprep.base.ranks import torchrun_place
from labram.checkpoints import made_by
from labram.data.loader import WindowDataset
from labram.data.sampler import ResumeError
from labram.train.config import TrainConfig, current_form
from labram.train.distributed import DistInfo

StepFn = Callable[[nn.Module, dict[str, Tensor], torch.Generator], tuple[Tensor, dict[str, Any]]]
"""A stage's optimisation step: ``(model, batch, generator) -> (loss, metrics)``."""


@dataclass
class Run:
    """One stage's run: what :func:`train` needs besides the model."""

    cfg: TrainConfig
    dataset: WindowDataset
    run_dir: Path
    dist: DistInfo
    model_config: dict[str, Any]
    kind: str  # tokenizer | mem | classifier
    extra: dict[str, Any] = field(default_factory=dict)  # saved in every checkpoint
    on_epoch_end: Callable[[nn.Module, int, int], dict[str, Any]] | None = None
    # called with a resumed checkpoint's ``extra`` before it replaces this run's: raises when
    # the checkpoint was trained with something this run would change (pretrain's tokenizer)
    check_extra: Callable[[dict[str, Any]], None] | None = None


RUN_FILES = (
    "config.json", "last.pt", "best.pt", "model.pt", "tokenizer.pt", "log.csv", "results.json",
    "splits.json", "summary.json", "command.txt", "results.md", "curves.png", "metrics.json",
    "predictions.csv",
)  # fmt: skip
"""Files a training command leaves in its run folder, or one or two levels below it
(``mem/``, ``seed0/``, ``fold0/seed0/``): a folder holding any of them holds a run (every
file a run writes: a folder holding the user's own ``results.md`` or ``command.txt`` was taken
for a new run's, and those files replaced), but ``excluded_subjects.json``, which `labram
tokenizer` writes before :func:`check_run_folder` looks."""


def check_run_folder(out: Path, *, resume: bool) -> None:
    """Refuse to train into ``out`` when it already holds a run, unless ``resume``.

    Called by every training command before anything is written, so that a second command
    with the same ``--out`` (by default ``runs/<command>``) cannot replace a finished run's
    checkpoints, log and results. Under torchrun only rank 0 looks (the others would see what
    rank 0 has begun to write); its error ends the job.

    Raises
    ------
    UsageError
        ``out`` holds one of :data:`RUN_FILES`, naming the folder and what to pass.
    """
    if resume or torchrun_place()[0] != 0 or not out.is_dir():
        return
    for pattern in ("{}", "*/{}", "*/*/{}"):
        found = [p for name in RUN_FILES for p in out.glob(pattern.format(name))]
        if found:
            raise UsageError(
                f"{shown_path(out)}: holds a run already ({found[0].relative_to(out)}); pass "
                "--resume to continue it, or another --out for a new run"
            )


RESUME_FREE = frozenset({"num_workers", "ckpt_every", "log_every", "max_steps", "epochs"})
"""Config fields a resumed run may change: the loader's workers and the checkpoint and log
intervals leave the weights and losses as they were; a new length (``max_steps``, ``epochs``)
extends or shortens the run, its learning-rate schedule following the new length from the step
it resumes at."""

LOCK_FILE = ".labram.lock"
"""Held with ``flock`` by the process training into a run folder (:func:`run_lock`)."""


def folder_stage(out: Path) -> str | None:
    """The command whose run ``out`` holds (``tokenizer``, ``pretrain``, ``finetune``), from its
    ``config.json`` or ``splits.json``; None when it holds neither (an empty or foreign folder)."""
    record = read_run_json(out / "config.json")
    if isinstance(record, dict):
        if "mem" in record:
            return "pretrain"
        if isinstance(record.get("stage"), str):
            return str(record["stage"])
    if (out / "splits.json").is_file() or (out / "results.json").is_file():
        return "finetune"
    return None


def read_run_json(path: Path) -> Any:
    """The strict JSON in ``path`` (a run folder's ``config.json``, ``splits.json`` or
    ``excluded_subjects.json``, a ``results.json`` beside a checkpoint); None when it is
    missing or damaged (the caller says what that costs). An object is returned without its
    :data:`~eegprep.base.sealed_json.KEY` once it matches it (one without it, an older
    labram's, as it is).

    Raises
    ------
    UsageError
        Its entries do not match its checksum (a flipped bit that left it JSON: a digit of a
        config value, a letter of a subject key), or the checksum's own name is changed: one
        line naming it, never read as other values (nor taken for a file that is missing).
    ChangedFileError
        The file was rewritten in place while it was read (a writer saving it meanwhile): no
        damage, so never taken for it (a ``--resume`` check said the run's ``config.json``
        was damaged, or went on without it); one line naming it, to be read again.
    """
    from eegprep.base import strict_json
    from eegprep.base.errors import ChangedFileError
    from eegprep.base.sealed_json import unsealed
    from eegprep.base.user_files import read_user_file

    try:  # (bounded: a file of gigabytes is not read whole; it is damaged)
        raw = read_user_file(path, "run file", UsageError, changed=ChangedFileError)
    except ChangedFileError:
        raise
    except UsageError:
        return None
    try:
        doc = strict_json.loads(raw)
    except ValueError:
        return None
    return unsealed(path, doc) if isinstance(doc, dict) else doc


def check_resume_stage(out: Path, stage: str) -> None:
    """Refuse ``--resume`` into a folder that holds another command's run.

    Raises
    ------
    UsageError
        ``out`` holds a run of another stage (``labram tokenizer --resume`` given a
        ``labram pretrain`` or ``finetune`` folder), naming both; or ``out`` is a stage folder
        of a ``labram pretrain`` run (``OUT/tokenizer``: resuming it alone would change the
        tokenizer its masked-modelling stage was trained with).
    """
    parent = out.absolute().parent
    inside = os.path.abspath(parent / LOCK_FILE) in _HELD  # (the pretrain run itself resumes)
    rank0 = torchrun_place()[0] == 0  # (rank 0 alone looks: its error ends the job)
    if (
        out.name in ("tokenizer", "mem")
        and rank0
        and not inside
        and folder_stage(parent) == "pretrain"
    ):
        raise UsageError(
            f"cannot resume {shown_path(out)}: it is the {shown_path(out.name)} stage of the "
            f"`labram pretrain` run in {shown_path(out.parent)}, which its other stage depends on; "
            f"resume that run (labram pretrain --resume --out {shown_path(out.parent)}), or pass "
            "another --out for a new run"
        )
    found = folder_stage(out) if out.is_dir() else None
    if found is not None and found != stage:
        raise UsageError(
            f"cannot resume {shown_path(out)}: it holds a `labram {found}` run, not a `labram "
            f"{stage}` one; pass that run's own folder, or another --out for a new run"
        )


def write_run_config(
    run_dir: Path, record: dict[str, Any], *, resume: bool, apart: tuple[str, ...] = ()
) -> None:
    """Write a run's resolved config to ``run_dir/config.json`` (whole or not at all).

    On ``resume``, a ``config.json`` already there must hold the same config (but for
    :data:`RESUME_FREE` fields): a resumed run continues the run it finds, and refusing here,
    before anything is written, keeps the folder's record of that run as it was. Each config
    in it is compared in this version's form of the same settings
    (:func:`~labram.train.config.current_form`: an older version's ``label_smoothing: 0``
    is the task's own, as ``null`` is now), so that a folder an older labram wrote resumes
    with the options it was made with; the file is then rewritten in this version's form.

    ``apart``: top-level entries the caller compares itself (``labram pretrain``'s tokenizer
    record, :mod:`labram.stages.tokenizer_used`, known only once its stage 1 has ended).

    The file records the labram that writes it (``labram_version``), and the versions that
    wrote it before, once one differs (:func:`labram.checkpoints.made_by.resumed`): neither is
    compared, so a run resumed by another labram goes on.

    Raises
    ------
    UsageError
        ``resume`` and the folder's config differs, naming the fields and both values; or
        the folder's config is of a form this version does not read, is damaged, or does not
        match its checksum (:func:`read_run_json`): it is never rewritten then.
    """
    from eegprep.base.sealed_json import sealed

    path = run_dir / "config.json"
    if resume and (path.exists() or path.is_symlink()):
        before = _checked_before(run_dir, path, record, apart)
    else:  # (a stage's own rewrite of the file it wrote: its versions kept)
        before = _written_before(path)
    data = sealed(made_by.resumed(record, before))  # (a flipped bit: refused by every reader)
    write_atomically(path, data, durable=True, tidy=True)


def _written_before(path: Path) -> Any:
    """The ``config.json`` at ``path`` as read, or None (none there, or damaged)."""
    try:
        return read_run_json(path) if path.is_file() else None
    except EegprepError:
        return None


def _checked_before(
    run_dir: Path, path: Path, record: dict[str, Any], apart: tuple[str, ...]
) -> dict[str, Any]:
    """The run's ``config.json`` at ``path``, read and compared with ``record`` (but for
    ``apart`` and the versions), for :func:`write_run_config`'s resume; returns it as read.

    Raises
    ------
    UsageError
        It is damaged, of a form this version does not read, or holds other options.
    """
    from eegprep.base import strict_json

    old = read_run_json(path)
    if not isinstance(old, dict):  # rewriting it would erase the record it should check
        raise UsageError(
            f"cannot resume {shown_path(run_dir)}: {shown_path(path)} is damaged (not a strict "
            "JSON object: NaN, cut short, or not a file), so the options cannot be compared "
            "with the run's; restore it, or delete it to resume with the options each last.pt "
            "records"
        )
    try:  # compared as the file states it: JSON's types and values
        form = _in_current_form(old)
    except UsageError as exc:
        raise UsageError(
            f"cannot resume {shown_path(run_dir)}: {shown_path(path)}: {exc}"
        ) from None
    skip = (*apart, *made_by.ENTRIES)  # (the versions that wrote it: no setting)
    new = {k: v for k, v in strict_json.loads(strict_json.dumps(record)).items()
           if k not in skip}  # fmt: skip
    changed = _differences({k: v for k, v in form.items() if k not in skip}, new)
    if changed:
        raise UsageError(
            f"cannot resume {shown_path(run_dir)}: options differ from the run's "
            f"({shown_path(path)}): {_first_four(changed)}; resume with the run's own options, "
            "or pass another --out for a new run"
        )
    return old


def check_resumed_config(path: Path, stored: Any, cfg: dict[str, Any]) -> None:
    """Refuse to resume checkpoint ``path`` under another config than it was saved with.

    ``stored`` is the checkpoint's own ``config`` entry, ``cfg`` this command's (both as
    :meth:`~labram.train.config.TrainConfig.to_dict` writes them). Compared like the run
    folder's ``config.json`` (:func:`write_run_config`: :data:`RESUME_FREE` fields may change),
    so a run whose ``config.json`` was lost or damaged still cannot continue with other options.

    Raises
    ------
    ResumeError
        The configs differ, naming the fields, or ``stored`` is not a config.
    """
    try:
        old = current_form(stored) if isinstance(stored, dict) else None
    except UsageError:
        old = None
    if old is None:
        raise ResumeError(
            f"cannot resume from {shown_path(path)}: it holds no config this labram reads"
        )
    changed = _differences(old, current_form(cfg))
    if changed:
        raise ResumeError(
            f"cannot resume from {shown_path(path)}: options differ from those it was saved with: "
            f"{_first_four(changed)}; resume with the run's own options, or pass another --out for "
            "a new run"
        )


def _first_four(changed: list[str]) -> str:
    """The first four differences :func:`_differences` found, and ``...`` for more."""
    return "; ".join(changed[:4]) + ("; ..." if len(changed) > 4 else "")


def _in_current_form(record: dict[str, Any]) -> dict[str, Any]:
    """A run's ``config.json`` with each stage config in it (the record itself, or the
    ``mem`` and ``tokenizer`` entries of ``labram pretrain``'s) in this version's form
    (:func:`~labram.train.config.current_form`); a stage config is a dict with ``stage``."""
    if "stage" in record:
        return current_form(record)
    return {
        k: current_form(v) if isinstance(v, dict) and "stage" in v else v for k, v in record.items()
    }


def _differences(old: Any, new: Any, prefix: str = "") -> list[str]:
    """``field: was X, now Y`` for each field that differs (nested dicts by dotted name)."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        first = ("stage", "size", "recipe", "seed")  # what picks the preset is named first
        for key in sorted(set(old) | set(new), key=lambda k: (k not in first, str(k))):
            if key in RESUME_FREE:
                continue
            out += _differences(old.get(key), new.get(key), f"{prefix}{key}.")
        return out
    if old != new:
        return [f"{prefix.rstrip('.')} was {old!r}, now {new!r}"]
    return []


_FOLDER_TODO = {
    errno.ENOSPC: "free some space",  # no block, or no inode, left
    errno.EDQUOT: "free some space",  # the quota used up
    errno.EIO: "check the disk (the system log names the failing device)",
    errno.EACCES: "fix its permissions",
    errno.EPERM: "fix its permissions",
}
"""What to do when the run folder cannot be made, or its lock file created, by ``errno``
(as :data:`~eegprep.base.write_errors.PLACE_ERRORS` says it); "make it writable" for the
rest. ``EIO`` (a bad sector, a device gone) said "make it writable", of a folder that was."""


@contextmanager
def run_lock(out: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``out/.labram.lock`` while training into ``out``, so that
    a second command on the same folder (``--resume`` or not) stops at once instead of both
    writing the same checkpoints and logs. The kernel drops the lock when the process dies.
    Under torchrun only rank 0 takes it; a process that holds it already passes.

    Raises
    ------
    UsageError
        Another process holds the lock.
    """
    path = out / LOCK_FILE
    key = os.path.abspath(path)
    if torchrun_place()[0] != 0 or key in _HELD:  # (this process holds it)
        yield
        return
    made = [d for d in (out, *out.parents) if not d.exists()]  # folders this call creates
    lock_made = not os.path.lexists(path)  # (in a folder that was there: removed the same)
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o644)
    except OSError as exc:  # a read-only folder or file system: refused before any work
        why = write_problem(out, exc)
        todo = _FOLDER_TODO.get(exc.errno or 0, "make it writable")
        if out.is_symlink() and not out.exists():  # (mkdir said only "File exists")
            why = f"a symbolic link to {os.readlink(out)}, which does not exist"
        elif isinstance(exc, IsADirectoryError):  # (a writable folder: not "make it writable")
            why, todo = f"its {LOCK_FILE} is a folder, not a lock file", "move that folder away"
        raise UsageError(
            f"{shown_path(out)}: cannot write into the run folder ({why}); {todo}, or pass another "
            "--out"
        ) from None
    try:
        # (no flock on this system or file system: the folder is not guarded)
        if try_exclusive(fd).state == "busy":
            raise UsageError(
                f"{shown_path(out)}: another labram run is writing this folder now (it holds "
                f"{shown_path(path)}); wait for it to end, or pass another --out"
            )
        _HELD.add(key)
        before, records = _tree(out), _Records.take(out)
        try:
            yield
        except EegprepError:  # refused before it trained (the data, a setting): no trace
            _undo_setup(out, before)
            records.restore_unless_trained(out)
            raise
        finally:
            _HELD.discard(key)
    finally:
        os.close(fd)
        _remove_if_unused(out, made, lock_made=lock_made)


RUN_DEPTH = 3
"""The deepest a run writes below its folder (``fold0/seed0/best.pt``)."""


def _tree(folder: Path) -> set[str]:
    """Every file and folder under ``folder`` down to :data:`RUN_DEPTH` levels (what a run
    may write), as paths relative to it. (Walked whole, ``--out .`` in a folder of stores and
    corpora listed each of their files, every path kept in memory.)"""
    out: set[str] = set()
    for top, dirs, files in os.walk(folder):
        rel = os.path.relpath(top, folder)
        out.update(os.path.normpath(os.path.join(rel, n)) for n in (*dirs, *files))
        if rel != "." and rel.count(os.sep) + 2 >= RUN_DEPTH:
            dirs.clear()  # (their entries would lie deeper than a run writes)
    return out


TRAINED = (".pt", "log.csv")
"""Names (endings) of files that mean a run trained: a checkpoint or a log row."""


def _undo_setup(out: Path, before: set[str]) -> None:
    """After a refusal (an :class:`EegprepError`: too few windows for the batch, an index
    larger than memory, ...), remove what the command wrote into ``out`` that was not there
    before it (its ``config.json``, ``excluded_subjects.json``, a stage's folder) unless it
    trained (:data:`TRAINED`): otherwise the folder "holds a run already" and the corrected
    command is refused. Nothing that was there before is touched."""
    new = sorted(_tree(out) - before, key=lambda rel: rel.count(os.sep), reverse=True)
    if any(rel.endswith(TRAINED) for rel in new):
        return
    for rel in new:  # deepest first: files, then the folders they were in
        path = out / rel
        try:
            if path.name == LOCK_FILE:
                continue  # (held: run_lock removes it)
            if path.is_dir() and not path.is_symlink():
                path.rmdir()  # fails, and stays, while it holds a lock or another's file
            else:
                path.unlink()
        except OSError:
            pass


@dataclass(frozen=True)
class _Records:
    """The run's ``config.json`` files (the folder's and one or two levels below) as they were
    before a command, and the stamps (ns, bytes) of what it trained (:data:`TRAINED`)."""

    configs: dict[Path, bytes]
    trained: dict[Path, tuple[int, int]]

    @classmethod
    def take(cls, out: Path) -> _Records:
        configs = {}
        for path in [*out.glob("config.json"), *out.glob("*/config.json"),
                     *out.glob("*/*/config.json")]:  # fmt: skip
            with contextlib.suppress(OSError):
                configs[path] = path.read_bytes()
        return cls(configs, _trained_stamps(out))

    def restore_unless_trained(self, out: Path) -> None:
        """Put back each ``config.json`` the refused command rewrote, when it trained
        nothing: ``--resume --max-steps 9`` over a damaged ``last.pt`` was refused, and the
        run's ``config.json`` said 9 steps all the same (a resume may change
        :data:`RESUME_FREE` fields, and rewrites the file before it reads ``last.pt``)."""
        if _trained_stamps(out) != self.trained:
            return
        for path, data in self.configs.items():
            with contextlib.suppress(OSError):
                if path.read_bytes() != data:
                    write_atomically(path, data, durable=True, tidy=True)


def _trained_stamps(out: Path) -> dict[Path, tuple[int, int]]:
    """Modification time (ns) and size of every file of ``out`` (to two levels below) that
    means it trained (:data:`TRAINED`)."""
    stamps = {}
    for pattern in ("*", "*/*", "*/*/*"):
        for path in out.glob(pattern):
            if path.name.endswith(TRAINED):
                with contextlib.suppress(OSError):
                    st = path.stat()
                    stamps[path] = (st.st_mtime_ns, st.st_size)
    return stamps


def _remove_if_unused(out: Path, made: list[Path], *, lock_made: bool) -> None:
    """A command refused before it wrote anything leaves no trace: the lock file (when this
    call made it: an existing empty ``--out`` kept a ``.labram.lock``) and the folders
    :func:`run_lock` created go again when the run folder holds nothing else."""
    try:
        if not (made or lock_made) or os.listdir(out) != [LOCK_FILE]:
            return
        (out / LOCK_FILE).unlink()
        for folder in made:  # innermost first; a folder something else wrote into stays
            folder.rmdir()
    except OSError:
        pass


_HELD: set[str] = set()
"""The lock files this process holds (:func:`run_lock` is re-entrant within a process)."""
