"""Real messages of eegprep and labram with a count of 1 and of 2: the noun (and the verb that
agrees with it) singular for one, plural for two; never "1 recordings" nor "recording(s)"
(eegprep/base/wording.py)."""

from __future__ import annotations

import logging

import pytest

from eegprep.base.errors import UsageError
from eegprep.store.record_values import channels_problem
from labram.data.task_records import check_outputs
from labram.data.tasks import Task, get_task
from labram.data.unlabelled import warn_unlabelled
from labram.stages.embed_windows import warn_skipped


def test_the_recordings_that_give_no_window(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        warn_skipped(["a/1"], "4-8 s")
        warn_skipped(["a/1", "a/2"], "4-8 s")
    one, two = caplog.messages
    assert one.startswith("1 recording gives no window and is not embedded")
    assert two.startswith("2 recordings give no window and are not embedded")
    assert "(s)" not in one + two


def test_the_recordings_that_lack_a_label(caplog: pytest.LogCaptureFixture) -> None:
    task = get_task("tuab")
    with caplog.at_level(logging.WARNING):
        warn_unlabelled(task, [("tuab/x", "train")])
        warn_unlabelled(task, [("tuab/x", "train"), ("tuab/y", "val")])
    one, two = caplog.messages
    assert "tuab: 1 recording has no label 'abnormal'" in one and "it gives no window" in one
    assert "tuab: 2 recordings have no label 'abnormal'" in two and "they give no window" in two


@pytest.mark.parametrize(("n", "said"), [(1, "1 output,"), (2, "2 outputs,")])
def test_a_head_of_another_size(n: int, said: str) -> None:
    task = Task(name="three", kind="multiclass", classes=("a", "b", "c"))
    with pytest.raises(UsageError, match=f"its head has {said} but task 'three' needs 3"):
        check_outputs(n, task, source="m.pt")


@pytest.mark.parametrize(
    ("index", "said"),
    [((0,), "channel_index has 1 entry for its 2 channels"),
     ((0, 1, 2), "channel_index has 3 entries for its 2 channels")],
)  # fmt: skip
def test_a_channel_index_of_another_length(index: tuple[int, ...], said: str) -> None:
    assert channels_problem(["FP1", "FP2"], list(index)) == said
