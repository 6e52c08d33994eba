"""``labram evaluate``: a fine-tuned classifier's metrics on one split of its task's windows.

The checkpoint says how it was trained (its task, its settings, the fold of a protocol); the
windows are cut and split as they were then, the scored split's subjects are checked against the
pre-training record as :func:`labram.stages.finetune.finetune` checks them, and the metrics
come with notes on any that are undefined on these windows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from eegprep.base.bounds import check_number
from eegprep.base.path_limits import shown_path
from eegprep.base.unchanged_reads import NamedVersion
from eegprep.base.validation import check_choice
from eegprep.base.wording import counted
from eegprep.store.reader import Store
from labram.checkpoints.errors import ChangedCheckpointError, CheckpointError
from labram.checkpoints.layouts import is_ours, ours_from
from labram.checkpoints.safe_read import read_checkpoint
from labram.data.protocols import check_split_leakage
from labram.data.store_set import given_names
from labram.data.task_records import check_outputs, checkpoint_task
from labram.data.tasks import Task
from labram.data.windows import WindowIndex, open_stores
from labram.model.classifier import LaBraMClassifier
from labram.stages.finetune import test_sources, test_subjects, unkeyed_tests
from labram.stages.scoring import checkpoint_splits, no_window_error, predict, run_config, score
from labram.stages.tokenizer_used import found_in
from labram.train.config import TrainConfig
from labram.train.distributed import setup
from labram.train.leakage import check_test_subjects, record_of
from labram.train.stage_checks import check_scoring_config


def evaluate(
    stores: Sequence[str | Store],
    task_name: str,
    checkpoint: str | Path,
    *,
    split: str = "test",
    split_seed: int | None = None,
    batch_size: int = 64,
    device: str | None = None,
    cfg: TrainConfig | None = None,
    allow_seen_subjects: bool = False,
) -> dict[str, Any]:
    """Metrics of a fine-tuned classifier on one split of the task's windows.

    The windows and splits follow ``cfg``; by default the settings the model was fine-tuned
    with (the checkpoint's own ``train_config``; for a ``best.pt`` of an older labram, the
    run's ``config.json`` beside it), and the checkpoint's fold (``split``) where a protocol
    other than ``full`` / ``linear-probe`` trained it. The scored split's subjects are
    checked against the checkpoint's pre-training subjects as in :func:`finetune`: a ``test``
    split is refused where they were seen; the line of a ``val`` or ``train`` split, named so,
    is information (those subjects are often pre-trained on by design). A ``cfg`` of another
    stage, or one that sets a field the task leaves unread, is refused
    (:func:`~labram.train.stage_checks.check_scoring_config`).
    """
    batch_size, split_seed = _checked_arguments(task_name, split, batch_size, split_seed, cfg)
    pin = NamedVersion(checkpoint, ChangedCheckpointError)  # (a last.pt is read twice)
    obj = read_checkpoint(Path(checkpoint), what="checkpoint")
    opened = open_stores(stores)
    stores = given_names(opened)
    record = found_in(obj, "task", source=str(checkpoint))  # (a last.pt's in its extra)
    task = checkpoint_task(task_name, opened, record, source=str(checkpoint))
    if cfg is None:
        cfg = run_config(checkpoint, obj)
    if split_seed is not None:
        cfg = replace(cfg, split_seed=split_seed)
    fold = found_in(obj, "split", source=str(checkpoint))
    # a protocol's fold: its own windows
    splits = checkpoint_splits(opened, task, cfg, obj, source=str(checkpoint))
    leakage = _checked_subjects(obj, str(checkpoint), splits, split, fold, allow_seen_subjects)
    model = _scored_model(obj, checkpoint, pin, task)
    if len(splits[split]) == 0:
        raise no_window_error(task.name, split, stores)
    dev = setup(device).device
    model.to(dev)
    outputs, labels = predict(
        model, splits[split], batch_size=batch_size, device=dev, source=str(checkpoint),
        where=f" of the {split} split",
    )  # fmt: skip
    metrics = score(task, outputs, labels)
    return {
        "task": task.name,
        "split": split,
        "n_windows": len(splits[split]),
        "metrics": metrics,
        "leakage": leakage,
        "notes": metric_notes(task, split, labels, metrics),
    }


def _checked_arguments(
    task_name: str, split: str, batch_size: int, split_seed: int | None, cfg: TrainConfig | None
) -> tuple[int, int | None]:
    """The batch size and split seed, checked with the split's name and ``cfg`` before anything
    is read (as finetune checks its own: a pretrain config was taken unread)."""
    check_choice("split", split, ("train", "val", "test"))
    batch_size = int(check_number("batch_size", batch_size))
    if split_seed is not None:
        split_seed = int(check_number("split_seed", split_seed))
    if cfg is not None:
        check_scoring_config(cfg, task_name, entry="evaluate")
    return batch_size, split_seed


def _checked_subjects(
    obj: Any,
    checkpoint: str,
    splits: dict[str, WindowIndex],
    split: str,
    fold: Any,
    allow: bool,
) -> str:
    """The leakage record of the scored ``split``'s subjects against the checkpoint's
    pre-training subjects (only a test split's are refused), after the splits' own check."""
    leakage = check_test_subjects(
        record_of(obj, checkpoint),
        test_subjects(splits[split]),
        allow=allow,
        source=checkpoint,
        test_sources=test_sources(splits[split]),
        unkeyed=unkeyed_tests(splits[split]),
        split=split,
    )
    calibration = (fold.get("calibration") or []) if isinstance(fold, dict) else []
    check_split_leakage(splits, allow=allow, calibration=calibration)
    return leakage


def _scored_model(
    obj: Any, checkpoint: str | Path, pin: NamedVersion, task: Task
) -> LaBraMClassifier:
    """The fine-tuned classifier of ``checkpoint`` (``obj`` read from it), refused in one line
    when it is none, its outputs do not fit ``task``, or it has no trained head."""
    if is_ours(obj):
        model, untrained = ours_from(obj, source=str(checkpoint)), False
    else:  # a training last.pt, a released fine-tuned file: what load_model reads
        from labram.checkpoints.load import load_model

        loaded = load_model(checkpoint)
        model, untrained = loaded.model, loaded.head_untrained
        pin.check()  # (the weights are those whose subjects and fold were checked)
    if not isinstance(model, LaBraMClassifier):
        raise CheckpointError(
            f"{shown_path(checkpoint)}: not a fine-tuned classifier (use labram finetune)"
        )
    check_outputs(model.n_outputs, task, source=str(checkpoint))
    if untrained:
        raise CheckpointError(
            f"{shown_path(checkpoint)}: the file has no classifier head (head.weight, head.bias): "
            "its outputs would come from random weights; fine-tune it first"
        )
    return model


NAMED = 20
"""The most classes a note names (a task of thousands of classes made one note of them all)."""


def metric_notes(
    task: Task, split: str, labels: np.ndarray, metrics: dict[str, float]
) -> list[str]:
    """Why a metric is undefined (NaN, null in JSON) or left out on these windows: one class
    only, classes missing, constant targets; empty when every metric is defined."""
    notes: list[str] = []
    undefined = [k for k, v in metrics.items() if isinstance(v, float) and math.isnan(v)]
    if task.kind == "regression":
        if undefined:
            notes.append(
                f"{', '.join(undefined)} undefined (null): the {split} targets or the "
                "predictions are constant"
            )
        return notes
    present = sorted({int(v) for v in labels[:, 0]}) if len(labels) else []
    names = [task.classes[i] if i < len(task.classes) else str(i) for i in present]
    if len(present) == 1:
        notes.append(
            f"the {split} windows hold one class only ({names[0]}): "
            + (f"{', '.join(undefined)} undefined (null); " if undefined else "")
            + f"balanced accuracy is the recall of {names[0]} alone"
        )
    elif undefined:
        notes.append(f"{', '.join(undefined)} undefined (null) on the {split} windows")
    n_classes = len(task.classes)
    if task.kind == "multiclass" and n_classes > 2 and 1 < len(present) < n_classes:
        absent = [c for i, c in enumerate(task.classes) if i not in present]
        more = f", ... ({counted(len(absent), 'class')})" if len(absent) > NAMED else ""
        shown = ", ".join(absent[:NAMED]) + more
        notes.append(
            f"no {split} window of class {shown}: AUROC (one-vs-rest) needs every class and is "
            "left out"
        )
    return notes
