"""Training checkpoints: what a run saves to resume bit for bit, and the model files it leaves.

A training checkpoint (``last.pt``) is a plain dict (:func:`checkpoint_dict`): format and
version, the labram that wrote it (``labram_version``), the unwrapped model's state, optimiser,
step, epoch, the data-loader state, every RNG state (:mod:`labram.train.rng`), the resolved
config. It holds only tensors and plain Python
values, so that it reads back with ``torch.load(weights_only=True)``
(:func:`labram.checkpoints.safe_read.read_checkpoint`). It is written under a temporary name and
renamed; the previous one is kept as ``previous.pt``.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import torch
from torch import nn

from eegprep.base.disk_sync import sync_file, sync_folder
from eegprep.base.errors import EegprepError
from eegprep.base.files import (
    claim_temporary,
    discard,
    named_error,
    remove_stale_temporaries,
    replaced_atomically,
    stale_temporaries,
    temporary_name,
    written_through,
)
from eegprep.base.path_limits import shown_path
from eegprep.base.version import __version__
from eegprep.base.write_errors import landed, landed_error
from labram.checkpoints.contents import CKPT_FORMAT, CKPT_VERSION, check_loadable
from labram.checkpoints.errors import CheckpointError, CorruptCheckpointError
from labram.checkpoints.layouts import ours_dict
from labram.checkpoints.made_by import KEY as MADE_BY
from labram.checkpoints.safe_read import read_checkpoint
from labram.data.sampler import ResumeError
from labram.data.windows import TRAIN_CONFIG_KEY
from labram.train.config import TrainConfig
from labram.train.leakage import KEY as SUBJECTS_KEY
from labram.train.rank_rngs import KEY as RNG_RANKS
from labram.train.rng import rng_state
from labram.train.run import Run


class DivergedError(EegprepError, FloatingPointError):
    """A training step's loss or gradients were not finite (NaN or infinite), or a model's
    weights are not: the run stops there, and no checkpoint of such weights is written."""


def atomic_save(obj: Any, path: Path, *, keep_previous: bool = True) -> None:
    """torch.save under a temporary name, flushed to the disk (``fsync``), then rename (the
    old file becomes previous.pt): a power cut or a host crash after the rename leaves the new
    checkpoint whole, never an empty ``last.pt`` (file systems may write a renamed file's bytes
    after its name).

    ``previous.pt`` is replaced only once the new file is in place (:func:`_rotated`): a
    write, a flush or the rename of the new file that fails leaves both ``path`` and
    ``previous.pt`` as they were (a failed rename had made ``previous.pt`` a copy of
    ``path``, losing the checkpoint before it).

    Raises
    ------
    DivergedError
        ``obj["model"]`` holds a NaN or infinite value: nothing is written, so the file
        already at ``path`` (a good checkpoint) stays, and so does ``previous.pt``.
    OSError
        A write, flush or rename failed, naming the file it concerns: ``path`` (as it was, or
        a :class:`~eegprep.base.write_errors.LandedError`: the new one, in place) or
        ``previous.pt`` (the new ``path`` is in place, ``previous.pt`` as it was).
    """
    check_loadable(obj, path.name)  # what we write, we can read back without unpickling code
    _check_finite(obj, path)
    with (
        _rotated(path, keep_previous) as keep,
        replaced_atomically(path, durable=True, before_replace=keep) as tmp,
        written_through(tmp) as fh,
    ):
        torch.save(obj, fh)  # a full disk: the OSError, not the zip writer's RuntimeError
    # a kill -9 during an earlier save left its temporary file (a whole checkpoint) for good
    remove_stale_temporaries(path)
    remove_stale_temporaries(path.with_name("previous.pt"))


@contextlib.contextmanager
def _rotated(path: Path, keep_previous: bool) -> Iterator[Callable[[], None]]:
    """The rotation of ``path`` into ``previous.pt`` around the write of a new ``path``.

    Yields the hook to call just before the new file's rename (``before_replace``): it makes
    a temporary name of ``previous.pt`` a hard link to (or, where links are refused, a
    flushed copy of) the ``path`` about to be replaced, and changes no final name. Once the
    new ``path`` is in place, that name is renamed over ``previous.pt`` and the folder
    flushed. The block failing before the new ``path`` is in place discards it:
    ``previous.pt`` and ``path`` are as they were, whatever the failure (a write, a flush,
    the rename of the new file).
    Renaming ``path`` away first, or ``previous.pt`` first, lost a checkpoint at a failed
    rename of the new one: ``path`` itself, or the one before it."""
    prev = path.with_name("previous.pt")
    kept: list[Path] = []

    def keep() -> None:
        if keep_previous and path.exists():
            kept.append(_link_or_copy(path, prev))

    try:
        yield keep
    except BaseException as exc:
        if kept and landed(exc):  # the new path is in place: previous.pt is the one it replaced
            with contextlib.suppress(OSError):  # (the error to report is the one raised)
                _rename_previous(kept[0], prev)
        if kept:
            discard(kept[0])  # (gone once renamed)
        raise
    if kept:
        _rename_previous(kept[0], prev)
        try:
            sync_folder(path.parent)
        except OSError as exc:
            raise landed_error(exc, prev) from exc


def _rename_previous(kept: Path, prev: Path) -> None:
    """``kept`` (the checkpoint the new ``last.pt`` replaced) renamed over ``prev``; when that
    fails, ``kept`` is discarded and the error raised naming ``prev`` (as it was)."""
    try:
        os.replace(kept, prev)
    except OSError as exc:
        discard(kept)
        raise named_error(exc, prev) from exc


def settle_rotation(path: Path, step: int) -> None:
    """Finish the rotation of a save of ``path`` (``last.pt``, at ``step`` now) that a kill cut
    short, before a resume goes on from it.

    A kill between the rename of the new ``path`` and that of the one it replaced to
    ``previous.pt`` leaves the latter under a temporary name of ``previous.pt`` (a whole
    checkpoint). Of such files that read back whole, the one of the latest step before
    ``step`` is renamed to ``previous.pt``, as the save would have; the others (a link to
    ``path`` itself, a copy cut short) are removed. Before, the resume's next save deleted it,
    and a resume that trained no step more left ``previous.pt`` missing or older.
    """
    prev = path.with_name("previous.pt")
    best: tuple[int, Path] | None = None
    for tmp in stale_temporaries(prev):
        try:
            ck = read_checkpoint(tmp)
            kept = int(ck["step"])
        except (EegprepError, OSError, KeyError, TypeError, ValueError):
            continue  # (a copy cut short, a foreign file: removed below)
        if kept < step and (best is None or kept > best[0]):
            best = (kept, tmp)
    if best is not None:
        try:
            os.replace(best[1], prev)
            sync_folder(path.parent)
        except OSError as exc:
            raise named_error(exc, prev) from exc
    remove_stale_temporaries(prev)


_NO_LINKS = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK, errno.ENOSYS, errno.EXDEV}
"""What ``os.link`` answers where a hard link cannot be made (the file system has none, too
many links, a protected link): the checkpoint is copied instead. Any other error (the disk's)
ends the save, nothing changed."""


def _link_or_copy(path: Path, prev: Path) -> Path:
    """A temporary name of ``prev`` holding ``path``'s bytes: a hard link to it, or, where the
    file system makes none, a copy flushed to the disk; an error names ``prev``."""
    tmp = temporary_name(prev)
    try:
        try:
            os.link(path, tmp)  # (a name taken already: EEXIST, never a write through it)
            return tmp
        except OSError as exc:
            if exc.errno not in _NO_LINKS:
                raise
        tmp = claim_temporary(prev)  # (a file this process made: no planted link written through)
        with open(path, "rb") as src, written_through(tmp) as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        sync_file(tmp)
        return tmp
    except OSError as exc:
        discard(tmp)
        raise named_error(exc, prev) from exc
    except BaseException:
        discard(tmp)
        raise


def _check_finite(obj: Any, path: Path) -> None:
    """Refuse to write weights or optimiser moments that hold NaN or infinity
    (:func:`read_checkpoint` and :func:`~labram.train.optimizer_state.load_optimizer_state`
    refuse to read them back): a checkpoint saved over a good one would lose the run."""
    if not isinstance(obj, dict):
        return
    state, opt = obj.get("model"), obj.get("optimizer")
    found = _non_finite(state.items()) if isinstance(state, dict) else None
    what = f"weight {found}"
    moments = opt.get("state") if isinstance(opt, dict) else None
    if found is None and isinstance(moments, dict):
        entries = ((f"{key} of parameter {i}", t) for i, s in moments.items()
                   if isinstance(s, dict) for key, t in s.items())  # fmt: skip
        found = _non_finite(entries)
        what = f"the optimizer's {found}"
    if found is not None:
        raise DivergedError(
            f"{shown_path(path)}: not written: {what} holds NaN or infinite values (the run "
            "diverged); the file already there, if any, is kept"
        )


def _non_finite(entries: Iterable[tuple[str, Any]]) -> str | None:
    """The name of the first floating-point tensor of ``entries`` that holds NaN or
    infinity, or None."""
    for name, t in entries:
        floating = isinstance(t, torch.Tensor) and t.is_floating_point() and t.numel()
        if floating and not bool(torch.isfinite(t).all()):
            return str(name)
    return None


def non_finite_state(model: nn.Module, opt: torch.optim.Optimizer) -> str | None:
    """What of a run's state in memory is not finite: ``weight NAME`` (a parameter or a
    buffer of ``model``, its codebook included) or ``the optimizer's KEY of NAME`` (a moment
    of ``opt``), the first found; None when all is finite. An update can make them so from
    finite gradients (a learning rate times weight decay above 2 grows a weight without
    bound, an unused row too, whose loss stays finite)."""
    found = _non_finite(model.state_dict().items())
    if found is not None:
        return f"weight {found}"
    names = {id(p): n for n, p in model.named_parameters()}
    for group in opt.param_groups:
        for p in group["params"]:
            entries = ((f"{k} of {names.get(id(p), 'a parameter')}", t)
                       for k, t in opt.state.get(p, {}).items())  # fmt: skip
            found = _non_finite(entries)
            if found is not None:
                return f"the optimizer's {found}"
    return None


def save_model(
    model: nn.Module,
    path: Path,
    cfg: TrainConfig,
    subjects: dict[str, Any] | None = None,
    *,
    extra: dict[str, Any] | None = None,
) -> None:
    """The model file a stage leaves (``tokenizer.pt``, ``model.pt``, ``best.pt``): our
    checkpoint (:func:`~labram.checkpoints.layouts.ours_dict`) plus the stage's resolved config
    under
    ``train_config`` (its window settings: :func:`labram.data.windows.saved_windows`) and the
    subjects it was trained on (``pretrain_subjects``, :mod:`labram.train.leakage`), plus ``extra``
    entries (a fine-tuned model's ``task``), written at once (temporary name, then rename)."""
    obj = {**ours_dict(model), TRAIN_CONFIG_KEY: cfg.to_dict(), **(extra or {})}
    obj["model"] = {k: v.detach().cpu() for k, v in obj["model"].items()}
    if subjects is not None:
        obj[SUBJECTS_KEY] = subjects
    atomic_save(obj, path, keep_previous=False)


_FORMAT_1 = "; written by an older labram (format version 1 kept numpy arrays): start a new run"


def load_checkpoint(path: Path) -> dict[str, Any]:
    """Read a training checkpoint (without running code from it: :func:`read_checkpoint`);
    a truncated, foreign or unsafe file is a clear one-line error."""
    if not path.is_file():
        raise ResumeError(f"cannot resume: no checkpoint at {shown_path(path)}")
    try:
        obj = read_checkpoint(path)
    except CorruptCheckpointError as exc:
        prev = path.with_name("previous.pt")
        hint = f"; the previous checkpoint {prev} may be intact" if prev.exists() else ""
        raise ResumeError(f"cannot resume: {exc}{hint}") from exc
    except CheckpointError as exc:  # (torch 2.5 refuses format 1's numpy arrays unread)
        hint = _FORMAT_1 if "`numpy." in str(exc) else ""
        raise ResumeError(f"cannot resume: {exc}{hint}") from exc
    if not isinstance(obj, dict) or obj.get("format") != CKPT_FORMAT:
        raise ResumeError(f"cannot resume: {shown_path(path)} is not a labram training checkpoint")
    if obj.get("format_version") != CKPT_VERSION:
        raise ResumeError(
            f"cannot resume: {shown_path(path)} has format version {obj.get('format_version')}; "
            f"this labram reads {CKPT_VERSION}{_FORMAT_1 if obj.get('format_version') == 1 else ''}"
        )
    problem = _bad_progress(obj)
    if problem:
        raise CorruptCheckpointError(
            f"{shown_path(path)}: cannot resume from it: {problem}: a damaged or crafted checkpoint"
        )
    return obj


MAX_COUNT = 2**31 - 1
"""The largest step, epoch or batch count a training checkpoint may give (a loader's epoch
seeds numpy's generator, which overflowed on 10^30 as an internal error)."""


def _count(value: Any, least: int = 0) -> bool:
    """Whether ``value`` is a whole number from ``least`` to :data:`MAX_COUNT`."""
    return isinstance(value, int) and not isinstance(value, bool) and least <= value <= MAX_COUNT


def _bad_progress(obj: dict[str, Any]) -> str | None:
    """What is wrong with where a training checkpoint says its run stands (the step, the
    epoch, the loader's place, the best validation score so far), or None: a negative step
    divided by zero in the schedule, a negative batch indexed past the epoch's, a best score
    that is text failed the first comparison, each as an internal error."""
    loader = obj.get("loader")
    counters = [("step", obj.get("step")), ("epoch", obj.get("epoch"))]
    if isinstance(loader, dict):
        counters += [(f"loader {k}", loader.get(k)) for k in ("epoch", "batch_in_epoch")]
    for name, value in counters:
        if not _count(value):
            shown = str(value)[:40]
            return f"its {name} is {shown}, not a count (a whole number from 0 to {MAX_COUNT:,})"
    extra = obj.get("extra")
    if isinstance(extra, dict):
        best = extra.get("best", 0.0)
        if not isinstance(best, int | float) or isinstance(best, bool) or best != best:
            return f"its best validation score is {best!r}, not a number"
        if not _count(extra.get("best_epoch", -1), least=-1):
            return f"its best epoch is {extra.get('best_epoch')!r}, not an epoch"
    return None


def attach_subjects(path: str | Path, record: dict[str, Any] | None) -> None:
    """Add the pre-training subject ``record`` (:mod:`labram.train.leakage`) to the checkpoint
    at ``path`` (written by ``save_ours``), atomically."""
    if record is None:
        return
    obj = read_checkpoint(path)
    obj[SUBJECTS_KEY] = record
    atomic_save(obj, Path(path), keep_previous=False)


def checkpoint_dict(
    run: Run,
    model: nn.Module,
    opt: Any,
    step: int,
    epoch: int,
    bie: int,
    gen: torch.Generator,
    rng_ranks: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The training checkpoint of step ``step`` (epoch ``epoch``, ``bie`` batches into it);
    ``rng_ranks``: every rank's generators under torchrun (:mod:`labram.train.rank_rngs`),
    ``None`` in one process."""
    extra_state = {}
    quantizer = getattr(model, "quantizer", None)
    if quantizer is not None:  # not in the state dict, but revival depends on it
        extra_state["steps_unused"] = quantizer.steps_unused.clone()
    return {
        "format": CKPT_FORMAT,
        "format_version": CKPT_VERSION,
        MADE_BY: __version__,  # the labram that wrote it (a resume by another: not refused)
        "kind": run.kind,
        "model": model.state_dict(),
        "model_config": run.model_config,
        "optimizer": opt.state_dict(),
        "step": step,
        "epoch": epoch,
        "loader": run.dataset.plan.state(epoch, bie).to_dict(),
        "rng": rng_state(gen),
        "config": run.cfg.to_dict(),
        "threads": torch.get_num_threads(),  # what its sums were split by (a resume keeps it)
        "extra": run.extra,
        "model_extra": extra_state,
        **({RNG_RANKS: rng_ranks} if rng_ranks is not None else {}),
    }
