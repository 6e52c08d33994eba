"""The training loop every stage shares: schedule, optimiser step, checkpoints, resume, logs.

A stage (tokenizer, pre-training, fine-tuning) supplies a model and a ``step_fn(model, batch,
generator) -> (loss, metrics)``; :func:`train` runs it over a
:class:`~labram.data.loader.WindowDataset`
under AdamW with linear warm-up and cosine decay, gradient clipping, bf16 autocast on CUDA and
DDP when ``WORLD_SIZE > 1``. The same code runs in one CPU process.

A checkpoint is a plain dict (:func:`checkpoint_dict`): format version, the unwrapped model's
state, optimiser, step, epoch, the data-loader state, every RNG state, the resolved config.
It holds only tensors and plain Python values (numpy's RNG state is converted), so that it
reads back with ``torch.load(weights_only=True)``
(:func:`labram.checkpoints.files.read_checkpoint`).
It is written under a temporary name and renamed; the previous one is kept as
``previous.pt``. A run resumed from it continues bit for bit as if never stopped (same world
size; a different one is refused).
"""

from __future__ import annotations

import logging
import math
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from eegprep.base.errors import UsageError
from eegprep.base.files import replaced_atomically
from labram.checkpoints.files import (
    CheckpointError,
    CorruptCheckpointError,
    check_loadable,
    read_checkpoint,
)
from labram.checkpoints.layouts import ours_dict
from labram.data.loader import WindowDataset, make_loader
from labram.data.sampler import LoaderState, ResumeError
from labram.data.windows import TRAIN_CONFIG_KEY
from labram.model.classifier import param_groups
from labram.train.config import TrainConfig
from labram.train.distributed import DistInfo, all_reduce_mean, barrier
from labram.train.runlog import RunLog

log = logging.getLogger(__name__)

CKPT_FORMAT = "labram-train"
CKPT_VERSION = 2  # 2: numpy's RNG state as a tensor and plain values (was an ndarray)
StepFn = Callable[[nn.Module, dict[str, Tensor], torch.Generator], tuple[Tensor, dict[str, Any]]]


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def lr_at(step: int, *, total: int, warmup: int, peak: float, floor: float) -> float:
    """Linear warm-up to ``peak`` over ``warmup`` steps, then cosine to ``floor`` at ``total``."""
    if step < warmup:
        return peak * (step + 1) / warmup
    t = (step - warmup) / max(1, total - warmup)
    return floor + 0.5 * (peak - floor) * (1 + math.cos(math.pi * min(t, 1.0)))


def schedule_steps(cfg: TrainConfig, steps_per_epoch: int) -> tuple[int, int]:
    """(total steps, warm-up steps) of the run as it will actually go.

    The run ends after ``epochs`` epochs or at ``max_steps``, whichever comes first
    (``max_steps`` is a cap: it never lengthens a run). The cosine ends at the last step, and the
    warm-up takes the share ``warmup_epochs / epochs`` of the steps the run takes.
    """
    if steps_per_epoch < 1:
        raise UsageError(
            f"no complete batch of {cfg.batch_size} windows per process: the stores are too "
            "small for this batch size (lower --batch-size)"
        )
    total = cfg.epochs * steps_per_epoch
    if cfg.max_steps is not None:
        total = min(total, cfg.max_steps)
    warmup = min(total - 1, round(total * cfg.warmup_epochs / cfg.epochs))
    return total, max(0, warmup)


def set_determinism(cfg: TrainConfig) -> None:
    """Threads and kernels for ``cfg.deterministic`` (docs/training.md, "Reproducibility").

    Deterministic: ``torch.use_deterministic_algorithms(True)`` (an op with no deterministic
    kernel raises instead of varying), cuDNN autotuning off, cuBLAS's fixed workspace
    (``CUBLAS_WORKSPACE_CONFIG=:4096:8``, if not already set) and the intra-op CPU threads pinned
    to ``cfg.threads`` (1 by default): parallel reductions split their sums by thread count, so
    the thread count is part of what makes a run's bits.
    """
    threads = cfg.threads if cfg.threads is not None else (1 if cfg.deterministic else None)
    if threads is not None:
        torch.set_num_threads(threads)
    if cfg.deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True)
        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.deterministic = True


def make_optimizer(model: nn.Module, cfg: TrainConfig, peak: float) -> torch.optim.AdamW:
    layer_of = None
    if cfg.time_embed_layer == "top" and hasattr(model, "layer_id"):
        top = getattr(model, "n_layers", 1) - 1
        own = model.layer_id

        def layer_of(name: str) -> int:  # the original's matcher: time_embed on the top layer
            return top if name.endswith("time_embed") else int(own(name))  # type: ignore[operator]

    groups = param_groups(model, peak, cfg.weight_decay, cfg.layer_decay, layer_of=layer_of)
    for g in groups:
        del g["names"]
    return torch.optim.AdamW(groups, lr=peak, betas=cfg.betas, fused=False)


def _numpy_state() -> dict[str, Any]:
    """numpy's global RNG state in plain types (a weights-only load refuses ndarrays)."""
    st: dict[str, Any] = np.random.get_state(legacy=False)  # type: ignore[assignment]
    return {
        "bit_generator": str(st["bit_generator"]),
        "key": torch.from_numpy(st["state"]["key"].astype(np.int64)),  # uint32, exact in int64
        "pos": int(st["state"]["pos"]),
        "has_gauss": int(st["has_gauss"]),
        "gauss": float(st["gauss"]),
    }


def _set_numpy_state(state: dict[str, Any]) -> None:
    key = state["key"].numpy().astype(np.uint32)
    np.random.set_state(
        {
            "bit_generator": state["bit_generator"],
            "state": {"key": key, "pos": state["pos"]},
            "has_gauss": state["has_gauss"],
            "gauss": state["gauss"],
        }
    )


def rng_state(gen: torch.Generator) -> dict[str, Any]:
    state = {
        "python": random.getstate(),
        "numpy": _numpy_state(),
        "torch": torch.get_rng_state(),
        "generator": gen.get_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any], gen: torch.Generator) -> None:
    random.setstate(state["python"])
    _set_numpy_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    gen.set_state(state["generator"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def atomic_save(obj: Any, path: Path, *, keep_previous: bool = True) -> None:
    """torch.save under a temporary name, then rename (the old file becomes previous.pt)."""
    check_loadable(obj, path.name)  # what we write, we can read back without unpickling code
    with replaced_atomically(path) as tmp:
        torch.save(obj, tmp)
        if keep_previous and path.exists():
            os.replace(path, path.with_name("previous.pt"))


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
    from labram.train.leakage import KEY

    obj = {**ours_dict(model), TRAIN_CONFIG_KEY: cfg.to_dict(), **(extra or {})}
    obj["model"] = {k: v.detach().cpu() for k, v in obj["model"].items()}
    if subjects is not None:
        obj[KEY] = subjects
    atomic_save(obj, path, keep_previous=False)


def load_checkpoint(path: Path) -> dict[str, Any]:
    """Read a training checkpoint (without running code from it: :func:`read_checkpoint`);
    a truncated, foreign or unsafe file is a clear one-line error."""
    if not path.is_file():
        raise ResumeError(f"cannot resume: no checkpoint at {path}")
    try:
        obj = read_checkpoint(path)
    except CorruptCheckpointError as exc:
        prev = path.with_name("previous.pt")
        hint = f"; the previous checkpoint {prev} may be intact" if prev.exists() else ""
        raise ResumeError(f"cannot resume: {exc}{hint}") from exc
    except CheckpointError as exc:
        old = "; written by an older labram (format version 1 kept numpy arrays): start a new run"
        hint = old if "`numpy." in str(exc) else ""
        raise ResumeError(f"cannot resume: {exc}{hint}") from exc
    if not isinstance(obj, dict) or obj.get("format") != CKPT_FORMAT:
        raise ResumeError(f"cannot resume: {path} is not a labram training checkpoint")
    if obj.get("format_version") != CKPT_VERSION:
        raise ResumeError(
            f"cannot resume: {path} has format version {obj.get('format_version')}; this labram "
            f"reads {CKPT_VERSION}"
        )
    return obj


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


def checkpoint_dict(
    run: Run, model: nn.Module, opt: Any, step: int, epoch: int, bie: int, gen: torch.Generator
) -> dict[str, Any]:
    extra_state = {}
    quantizer = getattr(model, "quantizer", None)
    if quantizer is not None:  # not in the state dict, but revival depends on it
        extra_state["steps_unused"] = quantizer.steps_unused.clone()
    return {
        "format": CKPT_FORMAT,
        "format_version": CKPT_VERSION,
        "kind": run.kind,
        "model": model.state_dict(),
        "model_config": run.model_config,
        "optimizer": opt.state_dict(),
        "step": step,
        "epoch": epoch,
        "loader": run.dataset.plan.state(epoch, bie).to_dict(),
        "rng": rng_state(gen),
        "config": run.cfg.to_dict(),
        "extra": run.extra,
        "model_extra": extra_state,
    }


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


def _restore(
    run: Run, model: nn.Module, opt: Any, gen: torch.Generator, path: Path
) -> tuple[int, int, int, LogInterval]:
    """Load ``path`` into the model, optimizer and RNGs; returns step, epoch, batch in epoch and
    the logging interval's values saved with it (so logged means after a resume are exact)."""
    ck = load_checkpoint(path)
    state = LoaderState.from_dict(ck["loader"])
    run.dataset.plan.check_resume(state)
    model.load_state_dict(ck["model"])
    if "steps_unused" in ck.get("model_extra", {}):
        model.quantizer.steps_unused.copy_(ck["model_extra"]["steps_unused"])  # type: ignore[union-attr,operator]
    opt.load_state_dict(ck["optimizer"])
    set_rng_state(ck["rng"], gen)
    run.extra.update(ck.get("extra", {}))
    log.info("resumed from %s at step %d (epoch %d)", path, ck["step"], ck["epoch"])
    window = {k: list(v) for k, v in ck.get("log_window", {}).items()}
    return int(ck["step"]), state.epoch, state.batch_in_epoch, window


def train(run: Run, model: nn.Module, step_fn: StepFn, *, resume: bool = False) -> dict[str, Any]:
    """Run the stage to its last step; returns the final metrics and file paths."""
    cfg, dinfo = run.cfg, run.dist
    set_determinism(cfg)
    seed_everything(cfg.seed + dinfo.rank)
    gen = torch.Generator().manual_seed(cfg.seed * 1000 + dinfo.rank)  # masks etc.
    model.to(dinfo.device)
    ds = run.dataset
    total, warmup = schedule_steps(cfg, len(ds.plan.batches(0)))
    peak = cfg.peak_lr(dinfo.world_size)
    opt = make_optimizer(model, cfg, peak)
    ckpt = run.run_dir / "last.pt"
    step, epoch, bie, window = _restore(run, model, opt, gen, ckpt) if resume else (0, 0, 0, {})
    wrapped: nn.Module = model
    if dinfo.world_size > 1:
        ids = [dinfo.device.index] if dinfo.device.type == "cuda" else None
        wrapped = nn.parallel.DistributedDataParallel(model, device_ids=ids)
    runlog = RunLog(
        run.run_dir / "log.csv",
        total=total,
        enabled=dinfo.is_main,
        resume_step=step,
        desc=cfg.stage,
    )
    autocast = torch.autocast(
        "cuda", dtype=torch.bfloat16, enabled=cfg.amp and dinfo.device.type == "cuda"
    )
    loader_gen = torch.Generator().manual_seed(cfg.seed)  # workers' seeds, not the global RNG
    last: dict[str, Any] = {}
    t0, tokens = time.perf_counter(), 0
    wrapped.train()
    loader = make_loader(  # once: its workers persist and follow ds.set_epoch
        ds,
        num_workers=cfg.num_workers,
        generator=loader_gen,
        pin_memory=dinfo.device.type == "cuda",
    )
    while step < total:
        ds.set_epoch(epoch, bie)
        for batch in loader:
            lr = lr_at(step, total=total, warmup=warmup, peak=peak, floor=cfg.min_lr)
            for g in opt.param_groups:
                g["lr"] = lr * g.get("lr_scale", 1.0)
            batch = {k: v.to(dinfo.device, non_blocking=True) for k, v in batch.items()}
            with autocast:
                loss, metrics = step_fn(wrapped, batch, gen)
            if not torch.isfinite(loss):
                raise FloatingPointError(f"{cfg.stage}: loss is {loss.item()} at step {step}")
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if cfg.grad_clip:
                metrics["grad_norm"] = float(
                    nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
                )
            opt.step()
            step, bie = step + 1, bie + 1
            n_tok = batch["x"].shape[0] * batch["x"].shape[1] * batch["x"].shape[2]
            tokens += n_tok
            last = reduce_metrics({"loss": loss.detach(), **metrics}, dinfo.device)  # rank mean
            for k, v in last.items():  # logged rows hold means over the logging interval
                window.setdefault(k, []).append(float(v))
            if step % cfg.log_every == 0 or step == total:
                tps = tokens * dinfo.world_size / max(time.perf_counter() - t0, 1e-9)
                means = {k: sum(v) / len(v) for k, v in window.items()}
                runlog.log({"step": step, "epoch": epoch, "lr": lr, **means, "tokens_per_s": tps})
                window = {}
            runlog.step(
                1, **{k: v for k, v in last.items() if k in ("loss", "accuracy", "codes_used")}
            )
            if step % cfg.ckpt_every == 0 and step < total and dinfo.is_main:
                state = checkpoint_dict(run, model, opt, step, epoch, bie, gen)
                atomic_save({**state, "log_window": window}, ckpt)
            if step >= total:
                break
        if bie >= len(ds.plan.batches(epoch)):  # the epoch is complete
            if run.on_epoch_end is not None:
                last.update(run.on_epoch_end(model, epoch, step) or {})
                wrapped.train()
            epoch, bie = epoch + 1, 0
    if bie > 0 and run.on_epoch_end is not None:  # max_steps ended the run inside an epoch:
        last.update(run.on_epoch_end(model, epoch, step) or {})  # its end is the run's end
    if dinfo.is_main:
        atomic_save(checkpoint_dict(run, model, opt, step, epoch, bie, gen), ckpt)
    barrier()  # every rank returns with the final checkpoint on disk
    plot = runlog.close(run.run_dir / "curves.png")
    return {"metrics": last, "step": step, "checkpoint": ckpt, "log": runlog.path, "plot": plot}
