"""A store's ``split`` names compared without case: ``Eval`` and `` TEST`` are held out as
``eval`` is (they were pre-trained on and put in a task's training subjects), and a split labram
does not know is named once when a command opens the store."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from eegprep.pipeline.recipe import Recipe
from eegprep.store.writer import StoreWriter
from labram.data.splits import is_test_split, unknown_splits_warning
from labram.data.tasks import build_task_indexes, get_task
from labram.data.windows import WindowConfig, build_pretrain_index, open_stores
from tests.labram.training_stores import TUAB_ORDER, eeg, put

SPLITS = {"a": "train", "b": "Eval", "c": " TEST", "d": "holdout", "e": "dev", "f": "eval"}


def _store(path: Path) -> str:
    url, rng = str(path), np.random.default_rng(0)
    with StoreWriter(url, Recipe()) as w:
        for k, (subj, split) in enumerate(SPLITS.items()):
            put(w, f"tuab/{subj}_r0", eeg(rng, 23, 20, k % 2), list(TUAB_ORDER), subject=subj,
                split=split, labels={"abnormal": k % 2})  # fmt: skip
    return url


def _ids(index) -> set[str]:  # type: ignore[no-untyped-def]
    return {p.id.split("/")[1][0] for p in index.recordings}


def test_names_are_compared_without_case_or_spaces() -> None:
    assert [is_test_split(s) for s in ("Eval", " TEST ", "eval", "test")] == [True] * 4
    assert [is_test_split(s) for s in ("train", "dev", "", None, "evaluation")] == [False] * 5


def test_pretraining_leaves_out_every_spelling_of_the_test_splits(tmp_path: Path) -> None:
    url = _store(tmp_path / "s.zarr")
    assert _ids(build_pretrain_index([url], WindowConfig())) == {"a", "d", "e"}
    assert _ids(build_pretrain_index([url], WindowConfig(exclude_splits=()))) == set("abcdef")


def test_a_task_tests_on_every_spelling_of_the_test_splits(tmp_path: Path) -> None:
    url = _store(tmp_path / "s.zarr")
    stores = open_stores([url])
    out = build_task_indexes(stores, get_task("tuab", stores))
    assert _ids(out["test"]) == {"b", "c", "f"}
    assert _ids(out["train"]) | _ids(out["val"]) == {"a", "d", "e"}


def test_an_unknown_split_is_named_once_when_a_command_opens_the_store(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = _store(tmp_path / "s.zarr")
    with caplog.at_level(logging.WARNING, logger="labram.data.windows"):
        open_stores([url], warn=True)
    lines = [r.getMessage() for r in caplog.records if "neither a test split" in r.getMessage()]
    assert len(lines) == 1 and "'holdout'" in lines[0]
    assert "Eval" not in lines[0] and "dev" not in lines[0]
    assert unknown_splits_warning(["train", "Eval", None, ""], "s") is None
