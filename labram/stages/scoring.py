"""A fine-tuned classifier on a task's windows: its loss, outputs and scores.

Shared by ``labram finetune`` (validation after every epoch, the test metrics of the best
model), ``labram evaluate`` and the predictions file (:mod:`labram.stages.predictions`), so that
all of them cut the same windows (:func:`task_splits` under the run's own config,
:func:`run_config`) and score them the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from eegprep.base import strict_json
from eegprep.base.errors import EegprepError, UsageError
from eegprep.base.path_limits import shown_path
from eegprep.base.sealed_json import unsealed
from eegprep.base.shown_text import shown_paths
from eegprep.base.user_files import read_user_file
from labram.checkpoints.key_paths import first_refused
from labram.checkpoints.load import check_finite_outputs, check_index_fits
from labram.checkpoints.made_by import ENTRIES as VERSIONS
from labram.data.loader import WindowDataset, make_loader
from labram.data.sample_peaks import blame_samples, index_place, refuse_loud, window_peaks
from labram.data.sampler import BatchPlan
from labram.data.tasks import Task, build_task_indexes
from labram.data.unreadable import FOUND, TO_DO, UnreadableError
from labram.data.windows import TRAIN_CONFIG_KEY, WindowIndex
from labram.stages.backbone_used import KEY as BACKBONE_KEY
from labram.train import metrics as M
from labram.train.config import TrainConfig, train_config

log = logging.getLogger(__name__)


def with_smoothing(task: Task, cfg: TrainConfig) -> Task:
    """``task`` with the label smoothing ``cfg`` sets (``label_smoothing``), or its own (TUEV's
    0.1, 0 for the others) when ``cfg`` leaves it unset (None)."""
    if cfg.label_smoothing is None:
        return task
    return replace(task, label_smoothing=cfg.label_smoothing)


def task_loss(task: Task, logits: Tensor, y: Tensor) -> Tensor:
    """The training loss of a batch: BCE of one logit (targets smoothed towards 1/2 by
    ``label_smoothing``, as two-class cross-entropy smooths them), cross-entropy with label
    smoothing, or MSE for regression.

    logits : (B, n_outputs); y : (B, 1) class index, or (B, n_targets) regression targets.
    """
    if task.kind == "binary":
        eps = task.label_smoothing
        target = y[:, 0] * (1 - eps) + eps / 2
        return F.binary_cross_entropy_with_logits(logits[:, 0].float(), target)
    if task.kind == "multiclass":
        return F.cross_entropy(logits.float(), y[:, 0].long(), label_smoothing=task.label_smoothing)
    return F.mse_loss(logits.float(), y)


@torch.no_grad()
def predict(
    model: nn.Module,
    index: WindowIndex,
    *,
    batch_size: int,
    device: torch.device,
    source: str = "the model",
    where: str = "",
) -> tuple[np.ndarray, np.ndarray]:
    """Outputs, shape (n_windows, n_outputs), and labels of every window of ``index`` (in
    index order), all finite: else one line (:func:`check_finite_outputs`) naming the
    recordings when the windows' samples are no EEG's, the model ``source`` otherwise
    (``where``: what the windows are, `` of the test split``). Finite outputs of windows
    that hold samples no EEG has (past 10^8 uV: the model's norm layers make 10^30 uV a
    finite output) are refused too, naming them: they were scored as EEG."""
    try:
        check_index_fits(model, [index], source=source)  # (its tables hold every window's place)
        outs, peaks = _outputs(model, index, batch_size=batch_size, device=device, where=where)
        samples = blame_samples(peaks, index_place(index))
        check_finite_outputs(model, outs, source=source, where=where, samples=samples)
        refuse_loud(peaks, index_place(index), source=source, of=f"the windows{where}")
    except EegprepError as exc:  # every rank predicts every window: the same line on each
        exc.every_rank = True  # (printed by the main rank alone)
        raise
    return outs, index.labels


def _outputs(
    model: nn.Module, index: WindowIndex, *, batch_size: int, device: torch.device, where: str
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`predict`'s outputs and each window's peak (uV), its errors as they are raised."""
    model.eval()
    plan = BatchPlan(index, batch_size=batch_size, shuffle=False, drop_last=False)
    outs = np.zeros((len(index), getattr(model, "n_outputs", 1)), np.float32)
    peaks = np.zeros(len(index))
    for batch in make_loader(WindowDataset(plan)):
        refuse_replaced(batch, where)
        logits = model(batch["x"].to(device), batch["channels"].to(device))
        outs[batch["ids"].numpy()] = logits.float().cpu().numpy()
        peaks[batch["ids"].numpy()] = window_peaks(batch["x"])
    return outs, peaks


def refuse_replaced(batch: dict[str, Any], where: str) -> None:
    """Stop where the loader replaced a window it could not read (:mod:`labram.data.unreadable`):
    a window scored is scored for itself, never as another (its row would keep zeros), unlike
    a training window, which another may stand in for.

    Raises
    ------
    UnreadableError
        One line naming the recording, why, and what to run.
    """
    replaced = batch.get(FOUND)
    if replaced:
        _, rid, why = replaced[0]
        raise UnreadableError(
            f"windows{where} of recording {rid} cannot be read ({why}), and nothing was "
            f"scored: {TO_DO}"
        )


def no_window_error(task_name: str, split: str, stores: Sequence[str]) -> UsageError:
    """The refusal of a split with no window: there would be no metric to report."""
    why = (
        "no recording has split 'eval'/'test', or none of them gives a labelled window"
        if split == "test"
        else "check the task's labels and splits"
    )
    return UsageError(
        f"task {task_name!r}: the {split} split of {shown_paths(stores)} holds no window, so "
        f"there is nothing to score ({why})"
    )


def score(task: Task, outputs: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """The task's metrics of a model's ``outputs`` (n, n_outputs) against ``labels`` (n, 1)
    class indices or (n, n_targets) targets; ``{}`` for no window."""
    if len(labels) == 0:
        return {}
    if task.kind in ("binary", "multiclass"):
        return M.classification_of_outputs(task.kind, labels[:, 0], outputs)
    return M.regression(labels, outputs)


def run_config(checkpoint: str | Path, obj: Any = None) -> TrainConfig:
    """The fine-tuning config ``checkpoint`` was trained with, so that evaluation cuts the same
    windows and splits: its own ``train_config`` entry (``obj``, the checkpoint already read),
    else (a ``best.pt`` of an older labram) the run's ``config.json`` beside it (refused where
    it does not match its checksum), else the default preset, with a warning."""
    saved = obj.get(TRAIN_CONFIG_KEY) if isinstance(obj, dict) else None
    path = Path(checkpoint).with_name("config.json")
    where = f"{shown_path(checkpoint)} ({TRAIN_CONFIG_KEY})"
    if saved is None and path.is_file():
        where = str(path)
        raw = read_user_file(path, "run config", UsageError)  # (bounded: not read whole)
        try:
            saved = strict_json.loads(raw)
        except ValueError as exc:
            raise UsageError(f"{shown_path(path)}: unreadable run config ({exc})") from None
        if isinstance(saved, dict):  # beside the config: the initial weights' record, versions
            saved = unsealed(path, saved)  # (a flipped bit: one line, not other windows)
            saved = {k: v for k, v in saved.items() if k not in (BACKBONE_KEY, *VERSIONS)}
    if saved is not None:
        try:
            if not isinstance(saved, dict):
                raise TypeError(f"a {type(saved).__name__}, not a table")
            return TrainConfig.from_dict(saved)
        except (ValueError, TypeError) as exc:
            why = str(exc)
            if isinstance(saved, dict):  # the value refused, by its key path
                at = TRAIN_CONFIG_KEY if where.endswith(f"({TRAIN_CONFIG_KEY})") else ""
                why = first_refused(lambda **v: TrainConfig.from_dict(v), saved, at)
            raise UsageError(
                f"{where}: its fine-tuning config is not valid ({why}): the windows and splits "
                "it was trained on are unknown; pass a checkpoint whose config is sound"
            ) from None
    log.warning(
        "%s records no fine-tuning config: windows and splits are the default preset's",
        shown_path(checkpoint),
    )
    return train_config("finetune", "tiny")


def task_splits(
    opened: Sequence[Any], task: Task, cfg: TrainConfig, *, quiet: bool = False
) -> dict[str, WindowIndex]:
    """The task's train / val / test windows under ``cfg``'s split settings (``quiet``: the
    recordings that give no window were named already)."""
    return build_task_indexes(
        opened,
        task,
        windows=cfg.window_settings(),
        split_seed=cfg.split_seed,
        val_split=cfg.val_split,
        val_rounding=cfg.val_rounding,
        edge_events=cfg.edge_events,
        quiet=quiet,
    )


def checkpoint_splits(
    opened: Sequence[Any], task: Task, cfg: TrainConfig, obj: Any, *, source: str = "a checkpoint"
) -> dict[str, WindowIndex]:
    """The train / val / test windows the fine-tuned checkpoint ``obj`` (already read) was
    trained and tested on: its fold's where a protocol trained it (its ``split`` entry:
    :func:`labram.data.protocols.fold_indexes`), else the task's own splits under ``cfg``;
    ``source`` names the file when its ``split`` is malformed."""
    from labram.stages.tokenizer_used import found_in

    fold = found_in(obj, "split", source=source)  # (a last.pt's in its extra)
    if fold is not None:
        from labram.data.protocols import TaskWindows, fold_indexes

        return fold_indexes(TaskWindows.build(opened, task, cfg), fold)
    return task_splits(opened, task, cfg)


def selection_metric(task: Task, cfg: TrainConfig) -> str:
    """The validation metric that picks ``best.pt``: the task's, or accuracy (the authors')."""
    if cfg.selection_metric == "accuracy" and task.kind != "regression":
        return "accuracy"
    return task.selection_metric
