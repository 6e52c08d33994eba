"""``labram pretrain``: tokenizer (unless given), then masked EEG modelling.

Reads top to bottom: config, leakage control, distributed setup, tokenizer stage, data, model,
loop. The run folder::

    OUT/config.json              both stages' resolved configs, and the tokenizer that gives
                                 the targets (path, SHA-256, config: tokenizer_used)
    OUT/excluded_subjects.json   what --exclude-subjects-of kept out
    OUT/tokenizer/               stage 1: last.pt, tokenizer.pt, log.csv, curves.png
    OUT/mem/                     stage 2: last.pt, model.pt, summary.json, log.csv, curves.png

Every checkpoint records the subjects it was trained on (:mod:`labram.train.leakage`); recordings
whose split is eval/test are left out unless ``pretrain_test_splits``.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from eegprep.base.errors import ConfigError, UsageError
from eegprep.base.files import write_atomically
from eegprep.base.path_limits import shown_path
from eegprep.base.sealed_json import sealed
from eegprep.base.shown_text import shown_paths
from eegprep.base.unchanged_reads import unchanged_between_reads
from eegprep.base.wording import counted, noun
from eegprep.store.reader import Store
from labram.checkpoints.errors import ChangedCheckpointError, CheckpointError
from labram.checkpoints.layouts import is_ours, official_from, ours_from
from labram.checkpoints.load import check_index_fits
from labram.checkpoints.made_by import stamped
from labram.checkpoints.safe_read import read_checkpoint
from labram.data.store_set import given_names, same_stores
from labram.data.subjects import subject_key
from labram.data.unreadable import KEY as UNREADABLE
from labram.data.windows import WindowIndex, open_each, open_stores, subjects_of
from labram.model.config import model_config
from labram.model.mem import LaBraMForMEM, mem_loss
from labram.model.original_init import original_init
from labram.model.quantizer import collapsed
from labram.model.tokenizer import VQNSPTokenizer
from labram.stages import tokenizer_used
from labram.stages.train_tokenizer import pretrain_dataset, pretrain_windows, train_tokenizer
from labram.train.checkpoint import save_model
from labram.train.config import TrainConfig
from labram.train.distributed import setup
from labram.train.leakage import KEY, merge, record_of, trained_record
from labram.train.loop import train
from labram.train.run import (
    Run,
    check_resume_stage,
    check_run_folder,
    read_run_json,
    run_lock,
    write_run_config,
)
from labram.train.run_folders import check_run_folders, make_run_folder
from labram.train.stage_checks import check_stage_config

log = logging.getLogger(__name__)


def load_tokenizer(path: str | Path) -> VQNSPTokenizer:
    """A trained tokenizer: our checkpoint, or the released ``vqnsp.pth`` (read without
    running code from the file: :func:`labram.checkpoints.safe_read.read_checkpoint`)."""
    return _load_tokenizer(path)[0]


def _load_tokenizer(path: str | Path) -> tuple[VQNSPTokenizer, dict[str, Any] | None]:
    """The tokenizer and the subjects it was trained on (None: no record, e.g. vqnsp.pth)."""
    obj = read_checkpoint(path, what="tokenizer checkpoint")
    if is_ours(obj):
        model = ours_from(obj, source=str(path))
    else:
        model = official_from(obj, "tokenizer", source=str(path))
    if not isinstance(model, VQNSPTokenizer):
        raise CheckpointError(
            f"{shown_path(path)}: holds a {type(model).__name__}, not a tokenizer"
        )
    why = collapsed(model.quantizer.codebook)
    if why is not None:  # (warned, not refused: the run is the user's to make)
        warnings.warn(
            f"{shown_path(path)}: {why}, so every window would map to one code and masked "
            "modelling on its codes learns nothing useful: pass a trained tokenizer",
            stacklevel=2,
        )
    return model, record_of(obj, str(path))


def exclusions(
    stores: Sequence[str | Store],
    out: Path,
    of: Sequence[str | Store],
    write: bool,
    *,
    resume: bool = False,
) -> set[str]:
    """Subject keys of the evaluation stores ``of``; recorded in ``excluded_subjects.json``
    (both lists of stores by the names they were given as:
    :func:`~labram.data.store_set.given_name`).

    Raises
    ------
    UsageError
        The keys exclude every recording of ``stores`` (checked before ``out`` is written), or
        ``resume`` and the folder's ``excluded_subjects.json`` records other stores, is
        damaged, or does not match its checksum (a flipped bit in a subject key would
        pre-train on a test subject): it is never rewritten then.
    """
    keys = subjects_of(of) if of else set()
    names, of_names = given_names(stores), given_names(of)
    if keys and not _any_left(stores, keys):
        raise UsageError(
            f"--exclude-subjects-of {' '.join(map(shown_path, of_names))}: every recording of "
            f"{' '.join(map(shown_path, names))} is "
            f"excluded (its subject is among the {counted(len(keys), 'subject')} of the "
            "evaluation stores), so no window is left to pre-train on; check the --store and "
            "--exclude-subjects-of stores"
        )
    if write:
        out.mkdir(parents=True, exist_ok=True)
        record = {
            "pretraining_stores": names,
            "evaluation_stores": of_names,
            "n_subjects": len(keys),
            "subject_keys": sorted(keys),
        }
        path = out / "excluded_subjects.json"
        if resume and (path.exists() or path.is_symlink()):
            _check_same_exclusions(out, path, record)
        write_atomically(path, sealed(record), durable=True, tidy=True)  # (checked on read)
    return keys


def _check_same_exclusions(out: Path, path: Path, record: dict[str, Any]) -> None:
    """On resume, refuse a run folder whose ``excluded_subjects.json`` (``path``) is damaged or
    records other stores than ``record``: it is never rewritten then."""
    before = read_run_json(path)  # (None: damaged; rewritten while read: raised)
    if not isinstance(before, dict):  # rewriting it would lose what it should check
        raise UsageError(
            f"cannot resume {shown_path(out)}: {shown_path(path)} is damaged (not a strict "
            "JSON object), so the stores the run pre-trained on cannot be compared with "
            "this command's; restore it, or delete it to resume with this command's stores"
        )
    if not (
        same_stores(before.get("pretraining_stores"), record["pretraining_stores"])
        and same_stores(before.get("evaluation_stores"), record["evaluation_stores"])
    ):  # (the same stores spelled otherwise, `s.zarr/` or a link, resume)
        raise UsageError(
            f"cannot resume {shown_path(out)}: the run pre-trained on "
            f"{_stores_said(before.get('pretraining_stores'))} without the subjects of "
            f"{_stores_said(before.get('evaluation_stores'))} ({shown_path(path)}); this "
            f"command names {_stores_said(record['pretraining_stores'])} and "
            f"{_stores_said(record['evaluation_stores'])}: resume "
            "with the run's own --store and --exclude-subjects-of, or pass another --out"
        )


def _stores_said(stores: object) -> str:
    """A record's list of stores in a sentence (:func:`~eegprep.base.shown_text.shown_paths`:
    each a path as shown, five at most): ``no store`` for none, and for a damaged entry what it
    is; it was Python's list, each path's repr whole."""
    if not isinstance(stores, list) or not all(isinstance(s, str) for s in stores):
        return f"(not a list of stores: a {type(stores).__name__})"
    return shown_paths(stores) if stores else "no store"


def _any_left(stores: Sequence[str | Store], excluded: set[str]) -> bool:
    """Whether a recording of ``stores`` is not excluded (read from the index alone)."""
    for store in open_stores(stores):
        for row in store.index_fields().values():
            key = subject_key(row.subject_key)
            if not key or key not in excluded:
                return True
    return False


def check_maskable(index: WindowIndex) -> None:
    """Refuse windows of a single token (channels x seconds under 2: one channel kept by
    ``max_channels`` and 1-s windows by ``max_seconds`` or ``token_budget``) before the first
    stage trains: masked modelling predicts half of each window's tokens from the other half,
    and such a window leaves one of its two passes without a token, so the first step's loss
    was NaN and the line blamed the learning rate.

    Raises
    ------
    UsageError
        Naming how many windows and recordings, the first recording and the settings to raise.
    """
    n_channels = np.array([len(p.channels) for p in index.recordings], dtype=np.int64)
    if not len(index) or not len(n_channels):
        return
    tokens = n_channels[index.rec] * index.n_patches.astype(np.int64)  # (n_windows,)
    single = np.flatnonzero(tokens < 2)
    if not single.size:
        return
    first = index.recordings[int(index.rec[single[0]])]
    n_recs = len(np.unique(index.rec[single]))
    raise UsageError(
        f"labram pretrain: {counted(single.size, 'window')} of {counted(n_recs, 'recording')} "
        f"{noun(single.size, 'holds', 'hold')} a single token ({first.id}: "
        f"{len(first.channels)} channel x "
        f"{int(index.n_patches[single[0]])} s), and masked modelling predicts half of a window's "
        "tokens from the other half: raise --set max_seconds=... or token_budget=... (or "
        "max_channels=...) so that every window holds at least 2 channel-seconds; nothing was "
        "trained"
    )


def make_mem_step(tokenizer: VQNSPTokenizer) -> Any:
    def mem_step(
        model: nn.Module, batch: dict[str, Tensor], gen: torch.Generator
    ) -> tuple[Tensor, dict[str, Any]]:
        out = mem_loss(model, tokenizer, batch["x"], batch["channels"], generator=gen)  # type: ignore[arg-type]
        return out["loss"], {
            "accuracy": float(out["accuracy"]),
            "accuracy_complement": float(out["accuracy_complement"]),
            "codes_used": int(out["n_codes_used"]),
        }

    return mem_step


def pretrain(
    stores: Sequence[str | Store],
    mem_cfg: TrainConfig,
    out: str | Path,
    *,
    tokenizer_cfg: TrainConfig | None = None,
    tokenizer: str | Path | None = None,
    exclude_subjects_of: Sequence[str | Store] = (),
    resume: bool = False,
    device: str | None = None,
    checked: bool = False,
) -> dict[str, Any]:
    """Pre-train LaBraM on ``stores``; returns paths and final metrics of both stages.

    Parameters
    ----------
    stores : sequence of str or Store
        Store URLs, or the stores as :func:`~labram.data.windows.open_stores` returned them
        (corpora are interleaved within each epoch, by ``corpus_weights``); each is opened
        once for both stages.
    mem_cfg, tokenizer_cfg : TrainConfig
        The two stages' configs (``tokenizer_cfg`` only used when ``tokenizer`` is None).
    tokenizer : path, optional
        A trained tokenizer (ours or ``vqnsp.pth``); trained first when not given.
    exclude_subjects_of : sequence of str or Store
        Evaluation stores whose subjects (by ``subject_key``) are kept out of both stages.
    resume : bool
        Continue from ``OUT/*/last.pt`` exactly where the run stopped; without it, an ``out``
        that holds a run already is refused (:func:`labram.train.run.check_run_folder`).
    checked : bool
        Each config is refused as the command line refuses its options, before the folder is
        touched (:func:`labram.train.stage_checks.check_stage_config`: a config of another
        stage, a field set that its stage leaves unread, a schedule that breaks the run), and
        so is a ``tokenizer_cfg`` given with ``tokenizer`` (no tokenizer stage reads it) or
        missing without it; True: the command line, which checked its options in its words.
    """
    out = Path(out)
    check_stage_config(mem_cfg, "pretrain", checked=checked)
    if tokenizer is None and tokenizer_cfg is None and not resume:  # (a resume may not need it)
        raise ConfigError("pretrain: tokenizer_cfg is needed when no tokenizer is given")
    if tokenizer is not None and tokenizer_cfg is not None and not checked:
        raise ConfigError(
            f"pretrain with tokenizer={shown_path(str(tokenizer))} trains no tokenizer stage, so "
            "tokenizer_cfg would never be read; give one of the two"
        )
    if tokenizer is None and tokenizer_cfg is not None:
        check_stage_config(tokenizer_cfg, "tokenizer", checked=checked)
    check_run_folder(out, resume=resume)
    if resume:
        check_resume_stage(out, "pretrain")
    stores, of = open_stores(stores), open_each(exclude_subjects_of)  # once for both stages
    exclusions(stores, out, of, False)  # refused before the folder is made
    check_run_folders(out, ["mem"] if tokenizer is not None else ["tokenizer", "mem"])
    with run_lock(out):
        return _pretrain(stores, mem_cfg, out, tokenizer_cfg, tokenizer, of, resume, device)


def _pretrain(
    stores: Sequence[Store],
    mem_cfg: TrainConfig,
    out: Path,
    tokenizer_cfg: TrainConfig | None,
    tokenizer: str | Path | None,
    exclude_subjects_of: Sequence[Store],
    resume: bool,
    device: str | None,
) -> dict[str, Any]:
    """The two stages under the run's lock: the run's config, the checks of the second
    stage's windows, the tokenizer (given, or trained now or before a resume), then masked
    EEG modelling; returns :func:`pretrain`'s summary."""
    dinfo = setup(device)
    # the tokenizer that gives the targets (tokenizer_used): read first when given, so that a
    # resume with another one is refused before any work
    loaded, used = None, None
    if tokenizer is not None:
        with unchanged_between_reads(tokenizer, ChangedCheckpointError):  # (hashed as read)
            loaded = _load_tokenizer(tokenizer)
            used = tokenizer_used.record(tokenizer, loaded[0].config.to_dict(), trained=False)
    before = tokenizer_used.read_run_record(out) if resume else None
    recorded = before.get(tokenizer_used.KEY) if isinstance(before, dict) else None
    recorded = recorded if isinstance(recorded, dict) else None
    cfgs = {
        "mem": mem_cfg.to_dict(),
        "tokenizer": tokenizer_cfg and tokenizer_cfg.to_dict(),
        "tokenizer_checkpoint": str(tokenizer) if tokenizer else None,
        tokenizer_used.KEY: recorded or used,  # the run's own record, once checked below
    }
    if dinfo.is_main:
        cfgs["tokenizer_checkpoint"] = tokenizer_used.check_resume(out, before, tokenizer, used)
        write_run_config(out, cfgs, resume=resume, apart=(tokenizer_used.KEY,))
    excluded = exclusions(stores, out, exclude_subjects_of, dinfo.is_main, resume=resume)
    # the second stage's windows, checked (NaN, none at all) before the first stage's step
    mem_windows = pretrain_windows(stores, mem_cfg, excluded, what="labram pretrain")
    check_maskable(mem_windows)
    if loaded is not None:  # (a tokenizer of tables smaller than the windows need: one line)
        check_index_fits(loaded[0], [mem_windows], source=str(tokenizer))
    result: dict[str, Any] = {"run_dir": out}
    if tokenizer is None:  # stage 1: the tokenizer
        tokenizer = _tokenizer_stage(stores, tokenizer_cfg, out, resume, excluded, device, result)
    if loaded is None:  # the tokenizer this run trained (now, or before a resume)
        loaded = _load_tokenizer(tokenizer)
        used = tokenizer_used.record(tokenizer, loaded[0].config.to_dict(), trained=True)
        if dinfo.is_main:
            tokenizer_used.check_unchanged(out, recorded, used)
            if recorded is None:  # known now: recorded for the resumes to come
                cfgs[tokenizer_used.KEY] = used
                write_run_config(out, cfgs, resume=False)
    result["tokenizer"] = Path(tokenizer)
    mem = _Mem(out=out, cfg=mem_cfg, windows=mem_windows, excluded=excluded, used=recorded or used)
    return _mem_stage(stores, mem, loaded, dinfo, resume, result)


def _tokenizer_stage(
    stores: Sequence[Store],
    tokenizer_cfg: TrainConfig | None,
    out: Path,
    resume: bool,
    excluded: set[str],
    device: str | None,
    result: dict[str, Any],
) -> str | Path:
    """Stage 1: the tokenizer of ``out/tokenizer`` (complete before a resume, or trained
    now, its summary put in ``result["tokenizer_stage"]``); returns its checkpoint's path."""
    tok_dir = out / "tokenizer"
    if resume and (tok_dir / "tokenizer.pt").exists():
        tokenizer = tok_dir / "tokenizer.pt"
        log.info("resume: the tokenizer stage is complete (%s)", shown_path(tokenizer))
        return tokenizer
    if tokenizer_cfg is None:
        raise ConfigError("pretrain: tokenizer_cfg is needed when no tokenizer is given")
    tok = train_tokenizer(
        stores,
        tokenizer_cfg,
        tok_dir,
        resume=resume,
        exclude_subjects=excluded,
        device=device,
        what="labram pretrain",
        checked=True,  # (by pretrain, before its folder)
    )
    result["tokenizer_stage"] = tok
    return tok["tokenizer"]  # type: ignore[no-any-return]


@dataclass(frozen=True, kw_only=True)
class _Mem:
    """What stage 2 (masked EEG modelling) is given: the run folder, its config, its windows
    (checked already), the subjects left out and the record of the tokenizer used."""

    out: Path
    cfg: TrainConfig
    windows: WindowIndex
    excluded: set[str]
    used: dict[str, Any] | None


def _mem_stage(
    stores: Sequence[Store],
    mem: _Mem,
    loaded: tuple[VQNSPTokenizer, dict[str, Any] | None],
    dinfo: Any,
    resume: bool,
    result: dict[str, Any],
) -> dict[str, Any]:
    """Stage 2: train the masked-EEG model of ``out/mem`` against ``loaded``'s codes, then
    (main rank) write its summary and ``model.pt``; returns ``result`` completed."""
    out, mem_cfg, used = mem.out, mem.cfg, mem.used
    tok_model, tok_subjects = loaded
    tok_model = tok_model.to(dinfo.device).eval().requires_grad_(False)
    mem_dir = out / "mem"
    if dinfo.is_main:
        make_run_folder(mem_dir)
        write_run_config(mem_dir, mem_cfg.to_dict(), resume=resume)
    ds = pretrain_dataset(stores, mem_cfg, dinfo, mem.excluded, index=mem.windows)
    torch.manual_seed(mem_cfg.seed)
    mcfg = model_config(mem_cfg.size, n_codes=tok_model.config.n_codes, drop_path=mem_cfg.drop_path)
    model = LaBraMForMEM(mcfg)
    if mem_cfg.init == "original":
        original_init(model)
    # what the model saw: its own windows and, through the targets, the tokenizer's
    subjects = merge(tok_subjects, trained_record(ds.plan.index))
    extra = {KEY: subjects, tokenizer_used.KEY: used}  # in every last.pt

    def same_tokenizer(saved: dict[str, Any]) -> None:  # last.pt's record (config.json lost)
        tokenizer_used.check_unchanged(out, saved.get(tokenizer_used.KEY), used)

    run = Run(mem_cfg, ds, mem_dir, dinfo, mcfg.to_dict(), "mem", extra=extra,
              check_extra=same_tokenizer)  # fmt: skip
    trained = train(run, model, make_mem_step(tok_model), resume=resume)
    final = mem_dir / "model.pt"
    if dinfo.is_main:
        # the stage's summary, as the tokenizer stage writes one: its metrics, and the windows
        # replaced because their samples cannot be read (only mem/last.pt held them)
        summary = {"metrics": trained["metrics"], "steps": trained["step"]}
        if trained[UNREADABLE]["windows"]:
            summary[UNREADABLE] = trained[UNREADABLE]
        write_atomically(mem_dir / "summary.json", sealed(stamped(summary)), durable=True,
                         tidy=True)  # fmt: skip
        save_model(model.cpu(), final, mem_cfg, subjects, extra={tokenizer_used.KEY: used})
    result.update(mem_stage=trained, checkpoint=final, log=trained["log"], plot=trained["plot"])
    return result
