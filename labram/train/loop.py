"""The training loop every stage shares: schedule, optimiser step, checkpoints, resume, logs.

A stage (tokenizer, pre-training, fine-tuning) supplies a model and a ``step_fn(model, batch,
generator) -> (loss, metrics)``; :func:`train` runs it over a
:class:`~labram.data.loader.WindowDataset` under AdamW with linear warm-up and cosine decay,
gradient clipping, bf16 autocast on CUDA and DDP when ``WORLD_SIZE > 1``. The same code runs in
one CPU process.

Every ``ckpt_every`` steps and at the end it saves ``last.pt`` (:mod:`labram.train.checkpoint`);
a run resumed from it continues bit for bit as if never stopped (same world size; a different
one is refused). The optimiser and schedule are :mod:`labram.train.optim`, the generators
:mod:`labram.train.rng`.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from eegprep.base.errors import EegprepError
from eegprep.base.path_limits import shown_path
from eegprep.base.ranks import begin_own_work
from eegprep.base.version import __version__
from labram.checkpoints import made_by
from labram.checkpoints.errors import CheckpointError
from labram.checkpoints.layouts import load_strict
from labram.data.loader import make_loader
from labram.data.sample_peaks import (
    FIX,
    LOUD_UNITS,
    describe_loud,
    index_place,
    window_peaks,
)
from labram.data.sampler import LoaderState, ResumeError
from labram.data.unreadable import FOUND, KEY, Unreadable
from labram.train.checkpoint import (
    DivergedError,
    atomic_save,
    checkpoint_dict,
    load_checkpoint,
    non_finite_state,
    settle_rotation,
)
from labram.train.distributed import all_reduce_mean, barrier
from labram.train.optim import lr_at, make_optimizer, schedule_steps
from labram.train.optimizer_state import load_optimizer_state
from labram.train.rank_rngs import own_rng_state, rng_of_ranks
from labram.train.rng import resumed_threads, seed_everything, set_determinism, set_rng_state
from labram.train.run import Run, StepFn, check_resumed_config
from labram.train.runlog import RunLog
from labram.train.stop_ranks import GRADIENTS, NAMES_SAMPLES, OWN_LOSS, stop_line_of_ranks
from labram.train.unreadable_ranks import found_by_ranks

log = logging.getLogger(__name__)


def reduce_metrics(metrics: dict[str, Any], device: torch.device | None = None) -> dict[str, float]:
    """Each metric's mean over ranks (one all-reduce; the values themselves in one process).

    Every rank logs the same keys in the same order (one step function), so the vector lines up.
    """
    keys = list(metrics)
    vec = torch.tensor([float(metrics[k]) for k in keys], dtype=torch.float64, device=device)
    vec = all_reduce_mean(vec)
    return {k: float(v) for k, v in zip(keys, vec.tolist(), strict=True)}


LogInterval = dict[str, list[float]]
"""The current logging interval's values, by metric."""


FINISHED = ("previous.pt", "tokenizer.pt", "model.pt", "summary.json", "metrics.json",
            "predictions.csv")  # fmt: skip
"""Files of a stage folder written after its first checkpoint (a second ``last.pt`` moves the
first to ``previous.pt``) or when the stage ended: a folder holding one had a ``last.pt``."""


def _resumable(run_dir: Path, ckpt: Path) -> bool:
    """Whether ``--resume`` continues from ``ckpt``: yes when it is there (anything under that
    name: :func:`load_checkpoint` says what is wrong with it); no, starting at step 0, in a
    stage folder that never had one (killed before its first checkpoint, or not begun).

    Raises
    ------
    ResumeError
        ``ckpt`` is gone from a folder that had one (:data:`FINISHED`): starting again would
        replace what the run made (its ``tokenizer.pt``, ``model.pt``, results).
    """
    if ckpt.exists() or ckpt.is_symlink():
        return True
    made = [name for name in FINISHED if (run_dir / name).exists()]
    if made:
        last = shown_path(ckpt.name)
        raise ResumeError(
            f"cannot resume {shown_path(run_dir)}: it holds {made[0]} but no {last} (deleted or "
            f"moved), and starting again would replace what the run made; put {last} back "
            f"(previous.pt, if there, is the checkpoint before it: rename it to {last}), or pass "
            "another --out for a new run"
        )
    return False


def _restore(
    run: Run, model: nn.Module, opt: Any, gen: torch.Generator, path: Path
) -> tuple[int, int, int, LogInterval, dict[str, float]]:
    """Load ``path`` into the model, optimizer and RNGs; returns step, epoch, batch in epoch,
    the logging interval's values saved with it (so logged means after a resume are exact) and
    the last step's metrics a final ``last.pt`` holds (a stage resumed there reports them)."""
    ck = load_checkpoint(path)
    check_resumed_config(path, ck.get("config"), run.cfg.to_dict())
    try:
        state = LoaderState.from_dict(ck["loader"])
        run.dataset.plan.check_resume(state)
        load_strict(model, ck["model"], source=str(path))
        if "steps_unused" in ck.get("model_extra", {}):
            model.quantizer.steps_unused.copy_(ck["model_extra"]["steps_unused"])  # type: ignore[union-attr,operator]
        load_optimizer_state(opt, ck["optimizer"], model=model, source=str(path))
        set_rng_state(own_rng_state(ck, run.dist.rank, run.dist.world_size), gen)
        _keep_threads(run, ck.get("threads"), path)
        if run.check_extra is not None:
            run.check_extra(ck.get("extra", {}))
        run.extra.update(ck.get("extra", {}))
        step, epoch = int(ck["step"]), int(ck["epoch"])
        window = {k: [float(x) for x in v] for k, v in ck.get("log_window", {}).items()}
        last = {str(k): float(v) for k, v in ck.get("last_metrics", {}).items()}
    except EegprepError:
        raise
    except (KeyError, TypeError, ValueError, IndexError, AttributeError, RuntimeError) as exc:
        # a damaged or crafted training checkpoint: a missing entry, a state of another shape
        raise CheckpointError(
            f"{shown_path(path)}: cannot resume from it: {type(exc).__name__}: "
            f"{' '.join(str(exc).split())}"[:400]
        ) from exc
    saved_by = made_by.recorded(ck)  # (another labram's checkpoint resumes: said, not refused)
    other = "" if saved_by == __version__ else (
        f"; saved by labram {saved_by}, resumed by {__version__}" if saved_by
        else "; saved by an earlier labram (no version recorded)"
    )  # fmt: skip
    log.info("resumed from %s at step %d (epoch %d)%s", shown_path(path), step, epoch, other)
    return step, state.epoch, state.batch_in_epoch, window, last


def _keep_threads(run: Run, saved: object, path: Path) -> None:
    """Compute with the intra-op thread count ``path`` was trained with (``saved``), where the
    run's config pins none (:func:`~labram.train.rng.resumed_threads`), and say so."""
    kept = resumed_threads(run.cfg, saved)
    if kept is not None and run.dist.is_main:
        log.info(
            "%s was trained with %d intra-op CPU threads: the resume computes with them too, "
            "bit for bit as the run it continues (--set threads=N pins a count)",
            shown_path(path), kept,
        )  # fmt: skip


@dataclass
class _Progress:
    """Where the run is: the next step, the epoch and batch within it, and what is logged."""

    step: int
    epoch: int
    batch_in_epoch: int
    interval: LogInterval  # the current logging interval's values
    last: dict[str, Any] = field(default_factory=dict)  # the last step's metrics (rank means)
    tokens: int = 0
    t0: float = field(default_factory=time.perf_counter)


def train(run: Run, model: nn.Module, step_fn: StepFn, *, resume: bool = False) -> dict[str, Any]:
    """Run the stage to its last step; returns the final metrics and file paths."""
    lp = _start(run, model, step_fn, resume)
    begin_own_work()  # errors from here on may be this rank's own (eegprep.base.ranks)
    try:
        _run_epochs(lp)
    finally:  # the workers end here, whatever stopped the loop (a signal: docs/cli.md)
        lp.loader.close()
    return _finish(lp)


@dataclass
class _Loop:
    """What the loop's steps share: the run, its model and optimizer, the generator of its
    masks, where it is (``at``), the windows replaced so far, its log and batches, and the
    schedule (``total`` steps, ``warmup`` of them, the ``peak`` learning rate)."""

    run: Run
    model: nn.Module
    opt: torch.optim.Optimizer
    gen: torch.Generator
    ckpt: Path  # the run's last.pt
    at: _Progress
    unreadable: Unreadable
    wrapped: nn.Module  # the model, or its DDP wrapper
    runlog: RunLog
    stepper: _Stepper
    loader: Any  # the run's data loader (its workers persist across epochs)
    total: int
    warmup: int
    peak: float
    restored: int | None  # the step of the last.pt a resume restored (None: not resumed)


def _start(run: Run, model: nn.Module, step_fn: StepFn, resume: bool) -> _Loop:
    """Seed, place the model, make the optimizer and schedule, restore ``last.pt`` on a
    resume, open the log and the loader: everything before the first step, in that order."""
    cfg, dinfo = run.cfg, run.dist
    set_determinism(cfg, dinfo.device)
    seed_everything(cfg.seed + dinfo.rank)
    gen = torch.Generator().manual_seed(cfg.seed * 1000 + dinfo.rank)  # masks etc.
    model.to(dinfo.device)
    ds = run.dataset
    total, warmup = schedule_steps(cfg, len(ds.plan.batches(0)))
    peak = cfg.peak_lr(dinfo.world_size)
    opt = make_optimizer(model, cfg, peak)
    ckpt = run.run_dir / "last.pt"
    resume = resume and _resumable(run.run_dir, ckpt)
    at = _Progress(*_restore(run, model, opt, gen, ckpt)) if resume else _Progress(0, 0, 0, {})
    if resume and dinfo.is_main:
        settle_rotation(ckpt, at.step)  # (a save killed between its two renames)
    unreadable = Unreadable.restored(
        len(ds.plan.index), f"labram {cfg.stage}", run.extra.get(KEY), speak=dinfo.is_main,
        named=ds.plan.index.named_unreadable,
    )  # fmt: skip
    wrapped = _distributed(model, run)
    runlog = RunLog(
        run.run_dir / "log.csv", total=total, enabled=dinfo.is_main, resume_step=at.step,
        desc=cfg.stage,
    )  # fmt: skip
    autocast = torch.autocast(
        "cuda", dtype=torch.bfloat16, enabled=cfg.amp and dinfo.device.type == "cuda"
    )
    stepper = _Stepper(run, model, wrapped, opt, step_fn, gen, autocast)
    loader_gen = torch.Generator().manual_seed(cfg.seed)  # workers' seeds, not the global RNG
    wrapped.train()
    loader = make_loader(  # once: its workers persist and follow ds.set_epoch
        ds, num_workers=cfg.num_workers, generator=loader_gen,
        pin_memory=dinfo.device.type == "cuda",
    )  # fmt: skip
    return _Loop(
        run=run, model=model, opt=opt, gen=gen, ckpt=ckpt, at=at, unreadable=unreadable,
        wrapped=wrapped, runlog=runlog, stepper=stepper, loader=loader, total=total,
        warmup=warmup, peak=peak, restored=at.step if resume else None,
    )  # fmt: skip


def _run_epochs(lp: _Loop) -> None:
    """Step through the epochs' batches until ``lp.total`` steps; at each complete epoch's
    end, the stage's ``on_epoch_end`` (validation, ``best.pt``)."""
    run, model, at, ds = lp.run, lp.model, lp.at, lp.run.dataset
    while at.step < lp.total:
        ds.set_epoch(at.epoch, at.batch_in_epoch)
        for batch in lp.loader:
            _one_step(lp, batch)
            if at.step >= lp.total:
                break
        if at.batch_in_epoch >= len(ds.plan.batches(at.epoch)):  # the epoch is complete
            if run.on_epoch_end is not None:
                _check_state(run, model, lp.opt, at.step)  # (validates, may save best.pt)
                at.last.update(run.on_epoch_end(model, at.epoch, at.step) or {})
                lp.wrapped.train()
            at.epoch, at.batch_in_epoch = at.epoch + 1, 0


def _one_step(lp: _Loop, batch: dict[str, Any]) -> None:
    """One step on ``batch``: count the windows every rank replaced, update the weights at
    the step's learning rate, log it, and save ``last.pt`` every ``ckpt_every`` steps."""
    run, at, cfg, dinfo = lp.run, lp.at, lp.run.cfg, lp.run.dist
    replaced: Any = batch.pop(FOUND, None)  # windows that could not be read
    every = found_by_ranks(replaced or [], dinfo.device)  # (all ranks alike)
    lp.unreadable.add_ranks(every, len(batch["ids"]))  # (raises when too many)
    if lp.unreadable.windows:  # in every checkpoint: a resume counts on from there
        run.extra[KEY] = lp.unreadable.as_dict()
    lr = lr_at(
        at.step, total=lp.total, warmup=lp.warmup, peak=lp.peak, floor=cfg.min_lr,
        start=cfg.warmup_start,
    )  # fmt: skip
    loss, metrics = lp.stepper(batch, lr, at.step)
    at.step, at.batch_in_epoch = at.step + 1, at.batch_in_epoch + 1
    _log_step(run, at, batch, loss, metrics, lp.runlog, lr, lp.total)
    if at.step % cfg.ckpt_every == 0 and at.step < lp.total:
        _check_state(run, lp.model, lp.opt, at.step)  # (every rank: all stop together)
        ranks = rng_of_ranks(lp.gen, dinfo.device)  # (every rank: each one's generators)
        if dinfo.is_main:
            state = checkpoint_dict(
                run, lp.model, lp.opt, at.step, at.epoch, at.batch_in_epoch, lp.gen, ranks
            )
            atomic_save({**state, "log_window": at.interval}, lp.ckpt)


def _finish(lp: _Loop) -> dict[str, Any]:
    """After the last step: check the weights, validate a run that ended inside an epoch,
    save the final ``last.pt`` (main rank; every rank waits for it), close the log."""
    run, model, at = lp.run, lp.model, lp.at
    _check_state(run, model, lp.opt, at.step)  # before the last validation and checkpoint
    if at.batch_in_epoch > 0 and run.on_epoch_end is not None:  # max_steps ended the run
        at.last.update(run.on_epoch_end(model, at.epoch, at.step) or {})  # inside an epoch
    # a resume of a stage whose last.pt is its final one trains nothing: saving it again made
    # previous.pt a copy of it, losing the checkpoint before (what a damaged last.pt falls to)
    ranks = rng_of_ranks(lp.gen, run.dist.device) if lp.restored != at.step else None
    if run.dist.is_main and lp.restored != at.step:
        state = checkpoint_dict(
            run, model, lp.opt, at.step, at.epoch, at.batch_in_epoch, lp.gen, ranks
        )
        atomic_save({**state, "last_metrics": at.last}, lp.ckpt)  # (what a resume reports)
    barrier()  # every rank returns with the final checkpoint on disk
    plot = lp.runlog.close(run.run_dir / "curves.png")
    return {
        "metrics": at.last,
        "step": at.step,
        "checkpoint": lp.ckpt,
        "log": lp.runlog.path,
        "plot": plot,
        KEY: lp.unreadable.as_dict(),  # windows replaced because their samples cannot be read
    }


def _check_state(run: Run, model: nn.Module, opt: torch.optim.Optimizer, step: int) -> None:
    """Stop the run when ``step`` updates have left a weight or an optimizer moment that is
    not finite, before any of it is saved or validated: the loss check of each step sees only
    the weights the loss uses, and an update can poison the rest (a learning rate times
    weight decay above 2 grows every weight without bound, unused rows too).

    Raises
    ------
    DivergedError
        One line naming the stage, the step, what is not finite and what to try; no file of
        the run is written, so ``last.pt`` stays the last good checkpoint.
    """
    bad = non_finite_state(model, opt)
    if bad is None:
        return
    ckpt = run.run_dir / "last.pt"
    exc = DivergedError(
        f"{run.cfg.stage}: {bad} is NaN or infinite after the update of step {step - 1}, so the "
        "run stopped there and saved nothing of it: lower the learning rate (--lr, or --set "
        "lr=...) or the weight decay (--set weight_decay=...) and continue from "
        f"{shown_path(ckpt)} with --resume, if a checkpoint was saved (every ckpt_every steps), or "
        "start again"
    )
    exc.every_rank = True  # (DDP keeps every rank's state alike: one line, rank 0's)
    raise exc


def _distributed(model: nn.Module, run: Run) -> nn.Module:
    """The model wrapped in DistributedDataParallel when the run has several processes."""
    if run.dist.world_size <= 1:
        return model
    device = run.dist.device
    ids = [device.index] if device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(model, device_ids=ids)


@dataclass
class _Stepper:
    """One optimisation step of the run's model: :meth:`__call__`."""

    run: Run
    model: nn.Module  # the model itself (its parameters are clipped)
    wrapped: nn.Module  # what the stage's step function calls: the model, or its DDP wrapper
    opt: torch.optim.Optimizer
    step_fn: StepFn
    gen: torch.Generator
    autocast: torch.autocast

    def __call__(
        self, batch: dict[str, Tensor], lr: float, step: int
    ) -> tuple[Tensor, dict[str, Any]]:
        """Step ``step`` at learning rate ``lr`` (each group scaled by its ``lr_scale``): the
        stage's loss under autocast, backward, gradient clipping, the update. A loss or a
        gradient norm that is not finite stops the run before the update (so the weights stay
        finite), every rank together under DDP. Returns the loss and the stage's metrics (plus
        ``grad_norm`` when clipping)."""
        cfg, device = self.run.cfg, self.run.dist.device
        for g in self.opt.param_groups:
            g["lr"] = lr * g.get("lr_scale", 1.0)
        no_eeg = _holds_no_eeg(batch["x"])  # (the loader's batch, in the CPU's memory)
        batch = {k: v.to(device, non_blocking=True) for k, v in batch.items()}
        with self.autocast:
            loss, metrics = self.step_fn(self.wrapped, batch, self.gen)
        self.opt.zero_grad(set_to_none=True)
        if no_eeg:  # the model's norms make 1e30 uV a finite loss: trained on unsaid before;
            loss = loss * math.nan  # made NaN, so that every rank's gradients are (DDP)
        # backward before the checks: under DDP every rank then meets the all-reduced NaN
        # gradients of a rank whose loss was not finite, and all stop together (a rank that
        # stopped before its backward left the others waiting in theirs)
        loss.backward()
        norm = nn.utils.get_total_norm(
            [p.grad for p in self.model.parameters() if p.grad is not None]
        )
        if no_eeg or not (torch.isfinite(loss) and torch.isfinite(norm)):
            self._stop(no_eeg, loss, norm, batch, step)
        if cfg.grad_clip:
            nn.utils.clip_grads_with_norm_(self.model.parameters(), cfg.grad_clip, norm)
            metrics["grad_norm"] = float(norm)
        self.opt.step()
        return loss, metrics

    def _stop(
        self, no_eeg: bool, loss: Tensor, norm: Tensor, batch: dict[str, Tensor], step: int
    ) -> None:
        """Stop the run at ``step`` before its update, in one line: the batch's samples when
        they are no EEG's, else the loss or gradients that are not finite. Under DDP, where
        the gradients (all-reduced) are not finite on every rank alike, every rank raises the
        line of the rank that knows why (:func:`~labram.train.stop_ranks.stop_line_of_ranks`):
        a loud batch on rank 1 gave rank 0's "the gradients are nan" line, which blamed the
        learning rate, and was the line printed.

        Raises
        ------
        DivergedError
            That line; ``every_rank`` where every rank raises it alike.
        """
        if no_eeg:
            level, what = NAMES_SAMPLES, "the batch's samples are no EEG's"
        elif not torch.isfinite(loss):
            level, what = OWN_LOSS, f"the loss is {loss.item()}"
        else:
            level, what = GRADIENTS, f"the gradients are {norm.item()}"
        line, names = self._stopped(what, batch, step)
        level = NAMES_SAMPLES if names else level  # (a NaN loss of NaN samples names them too)
        if self.run.dist.world_size > 1 and not torch.isfinite(norm):  # (every rank is here)
            exc = DivergedError(stop_line_of_ranks((level, line), self.run.dist.device))
            exc.every_rank = True  # (the same line on every rank: printed by the main rank)
            raise exc
        raise DivergedError(line)

    def _stopped(self, what: str, batch: dict[str, Tensor], step: int) -> tuple[str, bool]:
        """The one line of a run stopped at ``step`` before its update: the batch's samples
        when they are not finite or past :data:`~labram.data.sample_peaks.LOUD_UNITS` (the
        store's data, which no learning rate fixes), else the learning rate; and whether it
        names the samples. Under DDP it says whose batch (the line may be raised by all)."""
        cfg, run_dir, dinfo = self.run.cfg, self.run.run_dir, self.run.dist
        peaks = window_peaks(batch["x"])
        at = f"{step} (rank {dinfo.rank}'s batch)" if dinfo.world_size > 1 else f"{step}"
        resume = (
            f"continue from {run_dir / 'last.pt'} with --resume, if a checkpoint was saved "
            "(every ckpt_every steps), or start again"
        )
        ids, in_index = batch["ids"].tolist(), index_place(self.run.dataset.plan.index)
        said = describe_loud(peaks, lambda i: in_index(int(ids[i])))
        if said is None:
            return (
                f"{cfg.stage}: {what} at step {at}, so the run stopped before that update: "
                f"lower the learning rate (--lr, or --set lr=...) and {resume}"
            ), False
        return (
            f"{cfg.stage}: {what} at step {at}, so the run stopped before that update: "
            f"{said}: {FIX}, then {resume}"
        ), True


def _holds_no_eeg(x: Tensor) -> bool:
    """Whether the batch ``x`` (model units, on the CPU) holds a sample past
    :data:`~labram.data.sample_peaks.LOUD_UNITS` (10^8 uV) or one that is not finite: two
    reductions, ~1 ms for 64 windows of 23 channels x 11 s (3 ms on 2 loaded cores)."""
    values = x.detach().numpy() if x.device.type == "cpu" else x.detach().cpu().numpy()
    if not values.size:
        return False
    top, bottom = float(values.max()), float(values.min())
    return not (bottom >= -LOUD_UNITS and top <= LOUD_UNITS)  # (NaN: neither holds)


def _log_step(
    run: Run,
    at: _Progress,
    batch: dict[str, Tensor],
    loss: Tensor,
    metrics: dict[str, Any],
    runlog: RunLog,
    lr: float,
    total: int,
) -> None:
    """Account the step just taken: its rank-mean metrics into the logging interval, a log row
    (the interval's means) every ``log_every`` steps and at the end, the progress bar."""
    cfg, dinfo = run.cfg, run.dist
    x = batch["x"]
    at.tokens += x.shape[0] * x.shape[1] * x.shape[2]
    at.last = reduce_metrics({"loss": loss.detach(), **metrics}, dinfo.device)  # rank mean
    for k, v in at.last.items():  # logged rows hold means over the logging interval
        at.interval.setdefault(k, []).append(float(v))
    if at.step % cfg.log_every == 0 or at.step == total:
        tps = at.tokens * dinfo.world_size / max(time.perf_counter() - at.t0, 1e-9)
        means = {k: sum(v) / len(v) for k, v in at.interval.items()}
        row = {"step": at.step, "epoch": at.epoch, "lr": lr, **means, "tokens_per_s": tps}
        runlog.log(row)
        at.interval = {}
    shown = {k: v for k, v in at.last.items() if k in ("loss", "accuracy", "codes_used")}
    runlog.step(1, **shown)
