"""A fine-tuned checkpoint's task record whose classes or channels no fine-tuning writes: one
line naming the checkpoint and the field, not an internal error on every file."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import torch
from click.testing import CliRunner

from cli import labram_cli
from eegprep.base.errors import UsageError
from eegprep.testing.demo_labelled import write_tuab_demo
from labram.checkpoints.layouts import ours_dict
from labram.data.task_records import checkpoint_task, task_record
from labram.data.tasks import get_task
from labram.model.classifier import LaBraMClassifier
from labram.model.config import model_config
from labram.train.checkpoint import atomic_save


@pytest.fixture(scope="module")
def edf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = write_tuab_demo(tmp_path_factory.mktemp("rec") / "demo", n_subjects=1, seed=0,
                          minutes=0.5)  # fmt: skip
    return sorted(Path(src).rglob("*.edf"))[0]


TUAB = task_record(get_task("tuab"))
BAD: dict[str, tuple[dict[str, Any], str]] = {
    "no classes": ({"classes": []}, "classes: 0 names, where a binary task has two"),
    "three classes": ({"classes": ["a", "b", "c"]}, "classes: 3 names, where a binary task has"),
    "a class twice": ({"classes": ["a", "a"]}, "classes names 'a' twice"),
    "unknown channel": (
        {"channels": ["XX1", *TUAB["channels"][1:]]},
        "channels ['XX1'] are not names of the channel vocabulary",
    ),
    "a channel twice": (
        {"channels": ["FP1", *TUAB["channels"][:-1]]},
        "channels names 'FP1' twice",
    ),
    "a multiclass class twice": (
        {"name": "tuev", "kind": "multiclass", "classes": ["spsw", "gped", "spsw"]},
        "classes names 'spsw' twice",
    ),
    # the record text rule of the labels classes are made of (a 1 MB class name, or one holding
    # ESC or a bidi override, went into every prediction line and CSV cell)
    "a class of 100,000 characters": (
        {"classes": ["normal", "x" * 100_000]},
        "a class 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'... is 100000 characters long",
    ),
    "a class holding ESC": (
        {"classes": ["normal", "ab\x1b[2J"]},
        "a class 'ab\\x1b[2J' holds the control character U+001B at 3",
    ),
    "a class holding a bidi override": (
        {"classes": ["\u202eabnormal", "normal"]},
        "a class '\\u202eabnormal' holds the invisible format character U+202E at 1",
    ),
    "a task name holding a newline": (
        {"name": "tu\nab"},
        "name 'tu\\nab' holds the control character U+000A at 3",
    ),
}


def _crafted(tmp_path: Path, change: dict[str, Any]) -> Path:
    torch.manual_seed(0)
    record = {**TUAB, **change}
    n_outputs = 1 if record["kind"] == "binary" else len(record["classes"])
    obj = {**ours_dict(LaBraMClassifier(model_config("tiny"), n_outputs)), "task": record}
    path = tmp_path / "best.pt"
    atomic_save(obj, path, keep_previous=False)
    return path


@pytest.mark.parametrize("case", sorted(BAD))
def test_predict_refuses_the_record_in_one_line(case: str, edf: Path, tmp_path: Path) -> None:
    change, says = BAD[case]
    ckpt = _crafted(tmp_path, change)
    res = CliRunner().invoke(labram_cli, ["predict", str(edf), "--checkpoint", str(ckpt)])
    assert res.exit_code == 2, res.output
    assert res.output.count("\n") == 1, res.output
    assert res.output.startswith(f"error: {ckpt}: its task record is not valid: {says}")


@pytest.mark.parametrize("case", sorted(BAD))
def test_evaluate_refuses_the_record(case: str) -> None:
    change, says = BAD[case]
    record = {**TUAB, **change}
    said = re.escape(f"best.pt: its task record is not valid: {says}")
    with pytest.raises(UsageError, match=f"^{said}"):
        checkpoint_task(record["name"], [], record, source="best.pt")


def test_the_records_fine_tuning_writes_are_valid() -> None:
    from labram.data.task_records import task_from_record

    for name in ("tuab", "tuev", "seed_v"):
        record = task_record(get_task(name))
        assert task_record(task_from_record(record)) == record
