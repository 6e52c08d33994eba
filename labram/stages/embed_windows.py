"""Which windows ``labram embed`` covers: every recording's token-budget windows, or a task's
windows of its three splits, in a fixed order; and the recordings that give none.

Concurrency contract: stateless; the stores are opened read-only.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from eegprep.base.wording import counted, noun, some_of
from eegprep.store.reader import Store
from labram.data.windows import (
    RecordingPlan,
    WindowConfig,
    WindowIndex,
    WindowSettings,
    assign_blocks,
    build_pretrain_index,
    open_stores,
    recordings_used,
)
from labram.model.config import BLOCK_SECONDS, PATCH_SIZE
from labram.stages import tokenizer_used

log = logging.getLogger(__name__)


class WindowsAsked(Protocol):
    """What of ``labram embed``'s config chooses its windows (``EmbedConfig``)."""

    @property
    def task(self) -> str | None: ...


def _concat(parts: Sequence[WindowIndex]) -> WindowIndex:
    """One index of several (the splits of a task), recordings renumbered."""
    parts = [p for p in parts if len(p)] or list(parts[:1])
    recs: list[RecordingPlan] = []
    rec: list[np.ndarray] = []
    for p in parts:
        rec.append(p.rec + len(recs))
        recs += p.recordings
    rec_a = np.concatenate(rec)
    start = np.concatenate([p.start for p in parts])
    return WindowIndex(
        parts[0].urls,
        recs,
        rec_a,
        start,
        np.concatenate([p.n_patches for p in parts]),
        assign_blocks(rec_a, start, BLOCK_SECONDS * PATCH_SIZE),
        np.concatenate([p.labels for p in parts]),
        {},
        parts[0].opened,
    )


def window_index(
    stores: Sequence[str | Store],
    cfg: WindowsAsked,
    settings: WindowSettings | None = None,
    info: dict[str, Any] | None = None,
    source: str = "the checkpoint",
) -> tuple[WindowIndex, Any]:
    """Every window to embed, in a fixed order, and the task (None without one).

    Without a task: token-budget windows of every recording (all splits), non-overlapping.
    With one: the task's windows of its train, validation and test splits. ``settings``: the
    window settings the model was trained with (:func:`labram.data.windows.saved_windows`); LaBraM's
    defaults when it records none. ``info``: the checkpoint's entries; when it was fine-tuned for
    ``cfg.task``, its classes (by name) number the labels, so that they match its logits
    (:func:`labram.data.task_records.checkpoint_task`).
    """
    ws = settings or WindowSettings()
    if cfg.task is None:
        wcfg = WindowConfig(
            token_budget=ws.token_budget,
            max_seconds=ws.max_seconds,
            max_channels=ws.max_channels,
            exclude_splits=(),
        )
        return build_pretrain_index(list(stores), wcfg), None
    from labram.data.task_records import checkpoint_task
    from labram.data.tasks import build_task_indexes, get_task

    opened = open_stores(list(stores))
    record = tokenizer_used.found_in(info, "task", source=source)  # (a last.pt's in its extra)
    if record is not None and record.get("name") == cfg.task:
        task = checkpoint_task(cfg.task, opened, record, source=source)
    else:
        task = get_task(cfg.task, opened)
    splits = build_task_indexes(opened, task, windows=ws)
    return _concat([splits[s] for s in ("train", "val", "test")]), task


def why_no_window(task: str | None) -> str:
    """What leaves a store without a window to embed, for the one-line error."""
    if task is None:
        return "every recording is shorter than one window or has no channel the model reads"
    return (
        f"no recording gives a window of task {task!r} (too short, lacking the task's "
        "channels, or without its label: check the task and the stores' labels)"
    )


def skipped_recordings(stores: Sequence[str | Store], index: WindowIndex) -> list[str]:
    """The recordings of ``stores`` that give ``index`` no window (shorter than one window, no
    channel the model reads, or, with a task, no labelled window), in store order."""
    kept = {(plan.store, plan.id) for plan in recordings_used(index)}
    return [
        rid
        for s_i, store in enumerate(open_stores(list(stores)))
        for rid in store.index_fields()
        if (s_i, rid) not in kept
    ]


def warn_skipped(skipped: list[str], window_seconds: str) -> None:
    if skipped:
        log.warning(
            "%s %s no window and %s not embedded (shorter than one window of %s, no channel "
            "the model reads, or no labelled window of the task): %s",
            counted(len(skipped), "recording"), noun(len(skipped), "gives", "give"),
            noun(len(skipped), "is"), window_seconds, some_of(skipped),
        )  # fmt: skip
