"""Stage 1: train the VQ-NSP tokenizer on pre-training windows.

Reads top to bottom: config, distributed setup, data, model, loop, codebook report.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from eegprep.base.errors import UsageError
from eegprep.base.files import write_atomically
from eegprep.base.path_limits import shown_path
from eegprep.base.sealed_json import sealed
from eegprep.base.wording import counted, noun, of_total
from eegprep.store.reader import Store
from labram.checkpoints.made_by import stamped
from labram.data.finite_windows import check_finite_splits
from labram.data.loader import WindowDataset, make_loader
from labram.data.sampler import BatchPlan
from labram.data.splits import TEST_SPLITS
from labram.data.store_set import given_names
from labram.data.unreadable import FOUND, Found
from labram.data.unreadable import KEY as UNREADABLE
from labram.data.windows import WindowConfig, WindowIndex, build_pretrain_index
from labram.model.config import tokenizer_config
from labram.model.original_init import original_init
from labram.model.quantizer import usage
from labram.model.tokenizer import VQNSPTokenizer
from labram.train.checkpoint import save_model
from labram.train.config import TrainConfig
from labram.train.distributed import DistInfo, all_reduce_sum, barrier, setup
from labram.train.leakage import KEY, trained_record
from labram.train.loop import train
from labram.train.run import (
    Run,
    check_resume_stage,
    check_run_folder,
    run_lock,
    write_run_config,
)
from labram.train.stage_checks import check_stage_config

log = logging.getLogger(__name__)

TOKENIZER_SIZE = {"tiny": "tiny", "base": "base", "large": "base", "huge": "base"}
"""Tokenizer preset per model size (the released models all use the base tokenizer)."""


def window_config(cfg: TrainConfig) -> WindowConfig:
    """The pre-training windows of ``cfg``: its window settings, minus the held-out splits."""
    exclude = () if cfg.pretrain_test_splits else TEST_SPLITS
    return WindowConfig(**asdict(cfg.window_settings()), exclude_splits=exclude)


def pretrain_windows(
    stores: Sequence[str | Store], cfg: TrainConfig, exclude: set[str], *, what: str
) -> WindowIndex:
    """The stage's windows, checked before its first step: a stage with no window, or whose
    windows read a sample that is not finite (NaN, an infinity), is refused in one line naming
    the recording and the second (:func:`~labram.data.finite_windows.check_finite_splits`;
    ``what``: the command, for that line). Recordings whose record vouches for their samples
    (an ingest's ``qc``, the quantized encoding) are not read; others are, chunk by chunk."""
    index = build_pretrain_index(stores, window_config(cfg), exclude_subjects=exclude)
    if not len(index):
        raise UsageError(_no_windows(stores, index, cfg))
    check_finite_splits({"pre-training": index}, what=what)
    return index


def pretrain_dataset(
    stores: Sequence[str | Store],
    cfg: TrainConfig,
    dinfo: DistInfo,
    exclude: set[str],
    *,
    index: WindowIndex | None = None,
    what: str = "labram tokenizer",
) -> WindowDataset:
    """The stage's stream: windows at the token budget, bucketed, weighted, this rank's shard.

    ``index``: the stage's windows when :func:`pretrain_windows` gave them already (a
    pre-training run checks its second stage's windows before its first stage); else they are
    built and checked here, ``what`` naming the command."""
    if index is None:
        index = pretrain_windows(stores, cfg, exclude, what=what)
    plan = BatchPlan(
        index,
        batch_size=cfg.batch_size,
        seed=cfg.seed,
        rank=dinfo.rank,
        world_size=dinfo.world_size,
        weights=cfg.corpus_weights,
    )
    return WindowDataset(plan)


def _no_windows(stores: Sequence[str | Store], index: WindowIndex, cfg: TrainConfig) -> str:
    """Why a pre-training stage has no window at all, and what to do, in one line (it read
    "no complete batch ... lower --batch-size" for a store with no recording)."""
    names = ", ".join(shown_path(n) for n in given_names(stores))
    held = int(index.meta.get("n_recordings_excluded", 0))
    if index.recordings:
        why = (f"each of its {counted(len(index.recordings), 'recording')} is shorter than a "
               "window; lower --set token_budget=... or add longer recordings")  # fmt: skip
    elif held:
        why = (f"all {counted(held, 'recording')} {noun(held, 'is')} held out (eval/test splits or "
               "excluded subjects); add training recordings, or --set "
               "pretrain_test_splits=true")  # fmt: skip
    else:
        why = "the store holds no recordings; ingest a corpus into it first"
    return f"{names}: no pre-training windows: {why}"


def tokenizer_step(
    model: nn.Module, batch: dict[str, Tensor], _gen: torch.Generator
) -> tuple[Tensor, dict[str, Any]]:
    out = model(batch["x"], batch["channels"])
    return out["loss"], {
        "amplitude_loss": float(out["amplitude_loss"].detach()),
        "phase_loss": float(out["phase_loss"].detach()),
        "commit_loss": float(out["commit_loss"].detach()),
        "codes_used": int(out["n_codes_used"]),
        "perplexity": float(out["perplexity"]),
    }


@torch.no_grad()
def codebook_report(
    model: VQNSPTokenizer, ds: WindowDataset, device: torch.device, *, max_batches: int = 50
) -> dict[str, Any]:
    """Codes used and perplexity over (up to ``max_batches`` of) each rank's windows, summed
    over ranks (every rank returns the same report). A window the loader replaced because its
    samples cannot be read (:mod:`labram.data.unreadable`: a copy of another window of its
    batch, or zeros where none of the batch reads) is left out: it counted its stand-in's
    codes twice, or code usage of zeros."""
    model.eval()
    counts = torch.zeros(model.config.n_codes, device=device)
    ds.set_epoch(0)
    planned = ds.plan.batches(0)  # (one process, from the first batch: the loader's order)
    for i, batch in enumerate(make_loader(ds)):
        if i >= max_batches:
            break
        found: Any = batch.get(FOUND)  # (the loader's list, not a tensor)
        keep = _readable_rows(planned[i], found)
        if not keep.any():
            continue
        codes = model.encode(batch["x"].to(device), batch["channels"].to(device))
        kept = codes[torch.from_numpy(keep).to(codes.device)]
        counts += torch.bincount(kept.flatten(), minlength=model.config.n_codes)
    counts = all_reduce_sum(counts)
    n_used, ppl = usage(counts)
    return {
        "n_codes": model.config.n_codes,
        "codes_used": int(n_used),
        "usage": int(n_used) / model.config.n_codes,
        "perplexity": float(ppl),
        "n_tokens": int(counts.sum()),
    }


def _readable_rows(planned: np.ndarray, found: Found | None) -> np.ndarray:
    """Which rows of a batch of the windows ``planned`` read as themselves: not those
    ``found`` unreadable (:data:`labram.data.unreadable.FOUND`), each replaced by another."""
    if not found:
        return np.ones(len(planned), dtype=bool)
    return ~np.isin(planned, [w for w, _, _ in found])


def train_tokenizer(
    stores: Sequence[str | Store],
    cfg: TrainConfig,
    out: str | Path,
    *,
    resume: bool = False,
    exclude_subjects: set[str] | None = None,
    device: str | None = None,
    what: str = "labram tokenizer",
    checked: bool = False,
) -> dict[str, Any]:
    """Train a tokenizer; writes ``tokenizer.pt`` (a labram checkpoint) into ``out``.

    Returns the run's summary (final metrics, codebook usage, file paths). An ``out`` that
    holds a run already is refused unless ``resume`` (:func:`labram.train.run.check_run_folder`).
    Windows that read samples that are not finite are refused before the first step
    (:func:`pretrain_windows`; ``what``: the command its line names). ``cfg`` is refused as
    the command line refuses its options, before the folder is touched
    (:func:`labram.train.stage_checks.check_stage_config`; ``checked``: the command line, or
    ``pretrain``, checked its settings already).
    """
    run_dir = Path(out)
    check_stage_config(cfg, "tokenizer", checked=checked)
    check_run_folder(run_dir, resume=resume)
    if resume:
        check_resume_stage(run_dir, "tokenizer")
    with run_lock(run_dir):
        return _train_tokenizer(stores, cfg, run_dir, resume, exclude_subjects, device, what)


def _train_tokenizer(
    stores: Sequence[str | Store],
    cfg: TrainConfig,
    run_dir: Path,
    resume: bool,
    exclude_subjects: set[str] | None,
    device: str | None,
    what: str,
) -> dict[str, Any]:
    dinfo = setup(device)
    if dinfo.is_main:
        write_run_config(run_dir, cfg.to_dict(), resume=resume)
    ds = pretrain_dataset(stores, cfg, dinfo, exclude_subjects or set(), what=what)
    torch.manual_seed(cfg.seed)  # the same initial weights on every rank
    overrides: dict[str, Any] = {"revive_dead_codes": cfg.revive_dead_codes}
    if cfg.dead_after is not None:
        overrides["dead_after"] = cfg.dead_after
    tcfg = tokenizer_config(TOKENIZER_SIZE[cfg.size], **overrides)
    model = VQNSPTokenizer(tcfg)
    if cfg.init == "original":
        original_init(model)
    subjects = trained_record(ds.plan.index)
    run = Run(cfg, ds, run_dir, dinfo, tcfg.to_dict(), "tokenizer", extra={KEY: subjects})
    result = train(run, model, tokenizer_step, resume=resume)
    report = codebook_report(model, ds, dinfo.device)
    final = run_dir / "tokenizer.pt"
    if dinfo.is_main:
        # the summary first: a resumed `labram pretrain` skips a stage whose tokenizer.pt
        # exists, so a kill between the two writes must not leave tokenizer.pt alone
        summary = {"metrics": result["metrics"], "codebook": report, "steps": result["step"]}
        if result[UNREADABLE]["windows"]:  # windows replaced: their samples unreadable
            summary[UNREADABLE] = result[UNREADABLE]
        write_atomically(
            run_dir / "summary.json",
            sealed(stamped(summary)),  # (and the labram that wrote it)
            durable=True,
            tidy=True,
        )
        save_model(model.cpu(), final, cfg, subjects)
    barrier()  # the other ranks load tokenizer.pt next: wait until rank 0 has written it
    log.info(
        "tokenizer: %s used, perplexity %.1f",
        of_total(report["codes_used"], report["n_codes"], "code"),
        report["perplexity"],
    )
    return {**result, "codebook": report, "tokenizer": final, "run_dir": run_dir}
