"""What a fine-tune warns about its folds' windows before it trains: a fold with no
validation window, a split of one class, a class no training window holds.

Each is one warning for all folds (how many of them it concerns), through the module's logger,
which ``labram``'s command line prints as a ``warning:`` line.
"""

from __future__ import annotations

import logging

import numpy as np

from eegprep.base.wording import counted
from labram.data.tasks import Task
from labram.data.windows import WindowIndex

log = logging.getLogger(__name__)


def warn_no_validation(fold_splits: list[dict[str, WindowIndex]]) -> None:
    """One warning when a fold has no validation window: nothing can select an epoch, so the
    model of the last epoch is kept as ``best.pt`` (``labram finetune``'s ``_KeepBest``)."""
    empty = sum(len(s["val"]) == 0 for s in fold_splits)
    if empty:
        where = (
            f" in {empty} of {counted(len(fold_splits), 'fold')}" if len(fold_splits) > 1 else ""
        )
        log.warning(
            "there is no validation window%s: no epoch can be selected, so the model of the "
            "last epoch is kept as best.pt and tested; check the task's labels and splits",
            where,
        )


UNDEFINED_ON_ONE_CLASS = ("auroc", "auc_pr", "cohen_kappa")
"""The classification metrics that windows of one class leave undefined (NaN, ``null``)."""


def warn_single_class(
    task: Task, fold_splits: list[dict[str, WindowIndex]], *, selection: str | None = None
) -> None:
    """A warning for each split whose windows hold one class only, in any fold: training then
    has nothing to tell apart, and AUROC, AUC-PR and kappa are undefined (null) on it; for
    the validation split, when ``selection`` (the metric that picks ``best.pt``) is one of
    them, that no epoch can be selected and the last epoch's model is kept."""
    if task.kind == "regression":
        return
    for name in ("train", "val", "test"):
        short = [
            np.unique(s[name].labels[:, 0]).tolist()
            for s in fold_splits
            if len(s[name]) and len(np.unique(s[name].labels[:, 0])) < 2
        ]
        if not short:
            continue
        classes = short[0]
        label = task.classes[int(classes[0])] if task.classes else f"{classes[0]:g}"
        where = (
            f" in {len(short)} of {counted(len(fold_splits), 'fold')}"
            if len(fold_splits) > 1
            else ""
        )
        consequence = (
            "the model has nothing to tell apart"
            if name == "train"
            else "AUROC, AUC-PR and kappa are undefined (null) and the rest say little"
        )
        if name == "val" and selection in UNDEFINED_ON_ONE_CLASS:
            consequence += (
                f", and no epoch can be selected by {selection}, so the model of the last "
                "epoch is kept as best.pt"
            )
        log.warning(
            "the %s windows hold one class only (%s)%s: %s; check the task's labels and splits",
            name, label, where, consequence,
        )  # fmt: skip


def warn_untrained_classes(task: Task, fold_splits: list[dict[str, WindowIndex]]) -> None:
    """A warning for each of the validation and test splits that holds a class no training
    window of its fold holds: the model never learns it, so each such window is scored wrong
    and the metrics say less than they seem to."""
    if task.kind == "regression":
        return
    for name in ("val", "test"):
        unseen: set[int] = set()
        folds = 0
        for s in fold_splits:
            missing = set(np.unique(s[name].labels[:, 0]).tolist()) - set(
                np.unique(s["train"].labels[:, 0]).tolist()
            )
            unseen |= {int(c) for c in missing}
            folds += bool(missing)
        if not unseen:
            continue
        shown = [task.classes[c] if 0 <= c < len(task.classes) else str(c) for c in sorted(unseen)]
        where = (
            f" in {folds} of {counted(len(fold_splits), 'fold')}" if len(fold_splits) > 1 else ""
        )
        one = len(shown) == 1
        log.warning(
            "the %s windows hold %s %s, which no training window holds%s: the model never "
            "learns %s and scores each such window wrong; check the task's labels and splits",
            name, "class" if one else "classes", ", ".join(shown), where, "it" if one else "them",
        )  # fmt: skip
