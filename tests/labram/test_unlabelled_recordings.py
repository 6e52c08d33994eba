"""Recordings that lack a task's label give no window, and a warning says how many and names
the first: a fine-tune trained on half a store whose other half had lost TUAB's ``abnormal``,
without a word, and a test split of such recordings was warned as no recording of split
``eval``/``test`` at all."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from eegprep.pipeline.recipe import Recipe
from eegprep.store.writer import StoreWriter
from labram.data.tasks import build_task_indexes, get_task
from labram.stages.finetune import finetune
from labram.train.config import train_config
from tests.labram.training_stores import TUAB_ORDER, eeg, put


def _store(path: Path, train: list[int | None], test: list[int | None]) -> str:
    """A TUAB-like store, one recording a subject; ``None``: a recording without the label."""
    rng = np.random.default_rng(2)
    with StoreWriter(str(path), Recipe()) as w:
        for split, labels in (("train", train), ("eval", test)):
            for k, label in enumerate(labels):
                subj = f"{split[0]}{k:03d}"
                put(w, f"tuab/{subj}_s001_t000", eeg(rng, 23, 20, label or 0), list(TUAB_ORDER),
                    subject=subj, subject_key=f"tuh:{subj}", split=split,
                    labels={} if label is None else {"abnormal": label})  # fmt: skip
    return str(path)


def _said(caplog: pytest.LogCaptureFixture, words: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if words in r.getMessage()]


def test_recordings_without_the_label_are_counted_by_split_and_named(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = _store(tmp_path / "half.zarr", [0, 1, None, None, 0, 1], [0, None, 1])
    with caplog.at_level(logging.WARNING):
        split = build_task_indexes([url], get_task("tuab"))
    kept = {p.id for name in ("train", "val", "test") for p in split[name].recordings}
    assert len(kept) == 6
    assert _said(caplog, "have no label") == [
        "tuab: 3 recordings have no label 'abnormal' (1 test, 1 train, 1 val; e.g. "
        "tuab/e001_s001_t000): they give no window; check the stores' labels"
    ]


def test_a_test_split_without_labels_is_not_called_missing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = _store(tmp_path / "untested.zarr", [0, 1, 0, 1], [None, None])
    with caplog.at_level(logging.WARNING):
        split = build_task_indexes([url], get_task("tuab"))
    assert len(split["test"]) == 0
    assert not _said(caplog, "no recording has split")
    said = _said(caplog, "the test set is empty")
    assert said == [
        "tuab: the 2 recordings of split 'eval'/'test' give no labelled window (their "
        "label, channels or length): the test set is empty"
    ]
    assert len(_said(caplog, "2 recordings have no label 'abnormal' (2 test;")) == 1


def test_a_fine_tune_says_it_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """``finetune`` cuts the task's recordings twice (the folds' table, the split): one line."""
    url = _store(tmp_path / "half.zarr", [0, 1, None, None, 0, 1, 0, 1], [0, 1])
    cfg = train_config("finetune", "tiny", max_steps=1, batch_size=4)  # (tuab: its windows)
    with caplog.at_level(logging.WARNING):
        finetune([url], "tuab", cfg, tmp_path / "ft", device="cpu")
    said = _said(caplog, "have no label")
    assert said == [
        "tuab: 2 recordings have no label 'abnormal' (e.g. tuab/t002_s001_t000): they give "
        "no window; check the stores' labels"
    ]
