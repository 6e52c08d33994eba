"""What a task's windows leave out for want of labels, said once: the recordings that lack the
task's label, and a test split that gives no window.

A recording whose record has no value under the task's label key (TUAB's ``abnormal``) gives
no window. When half a store's recordings had lost it, a fine-tune trained on the other half
without a word; when the test recordings had, the warning said that no recording had split
``eval``/``test``, which was not so.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from typing import Protocol

from eegprep.base.wording import counted, noun
from eegprep.store.reader import Store
from eegprep.store.recording import Recording
from labram.data.splits import is_test_split

log = logging.getLogger(__name__)


class LabelledTask(Protocol):
    """What these warnings read of a :class:`labram.data.tasks.Task` (which imports this
    module)."""

    @property
    def name(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def label_key(self) -> str | None: ...
    @property
    def events(self) -> bool: ...
    @property
    def event_prefix(self) -> str | None: ...


def lacks_label(task: LabelledTask, rec: Recording) -> bool:
    """Whether ``rec`` has no value at all under the recording label of ``task`` (a task
    labelled by one recording label: not by events, not a regression)."""
    key = task.label_key
    if key is None or task.events or task.event_prefix is not None or task.kind == "regression":
        return False
    return key not in rec.labels


def warn_unlabelled(task: LabelledTask, missing: Sequence[tuple[str, str]]) -> None:
    """One warning for the recordings of ``missing`` (recording id, split name) that lack
    the task's label: how many, in which splits, the first."""
    if not missing:
        return
    per_split = Counter(split for _, split in missing)
    where = ", ".join(f"{n} {split}" for split, n in sorted(per_split.items()) if split != "all")
    log.warning(
        "%s: %s %s no label %r (%se.g. %s): %s no window; check the stores' labels",
        task.name, counted(len(missing), "recording"), noun(len(missing), "has"), task.label_key,
        f"{where}; " if where else "", missing[0][0],
        "it gives" if len(missing) == 1 else "they give",
    )  # fmt: skip


def warn_empty_test(task: LabelledTask, opened: Sequence[Store]) -> None:
    """The warning of a task whose test split gives no window: no recording has split
    ``eval``/``test``, or those that have give no labelled window (and how many they are)."""
    n_test = sum(is_test_split(rec.split) for store in opened for rec in store)
    if not n_test:
        log.warning("%s: no recording has split 'eval'/'test': the test set is empty", task.name)
        return
    log.warning(
        "%s: the %s of split 'eval'/'test' %s no labelled window (%s label, channels or "
        "length): the test set is empty",
        task.name, counted(n_test, "recording"), noun(n_test, "gives", "give"),
        "its" if n_test == 1 else "their",
    )  # fmt: skip


__all__ = ["LabelledTask", "lacks_label", "warn_empty_test", "warn_unlabelled"]
