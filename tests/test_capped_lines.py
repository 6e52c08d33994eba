"""`eegprep validate`'s `problem:` lines and `labram evaluate`'s notes are capped as every
other note is (5 of each kind, one line counting the rest, `-v` all), the exit status kept.

Before: a store with 10^6 problems printed 10^6 `problem:` lines (its summary scrolled off
the screen), and `labram evaluate` printed each note as it came, a task of thousands of
classes absent from the windows naming them all in one note.
"""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

import labram.stages.evaluate as E
from cli import eegprep_cli, labram_cli
from eegprep.cli_notes import SHOWN_PER_KIND
from labram.data.tasks import Task

N = 100_000


def _result(problems: list[str]) -> Any:
    return SimpleNamespace(problems=problems, notes=[], checked=N, retired=0, retired_problems=[])


@pytest.fixture
def many_problems(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    import eegprep.store.validate as V

    problems = [f"tuh/s{k:06d}_r0: chunk 0 fails its checksum (crc32c)" for k in range(N)]
    problems += [f"tuh/s{k:06d}_r1: missing shard c/0/0" for k in range(7)]
    monkeypatch.setattr(V, "check_store", lambda store: _result(problems))
    return problems


def test_validate_caps_its_problem_lines_and_keeps_the_exit_status(
    many_problems: list[str],
) -> None:
    res = CliRunner().invoke(eegprep_cli, ["validate", "s.zarr"])
    assert res.exit_code == 1, res.output
    lines = [x for x in res.stderr.splitlines() if x.startswith("problem: ")]
    assert len(lines) == 2 * SHOWN_PER_KIND + 2, lines[:20]
    assert lines[-2].startswith(f"problem: ... and {N - SHOWN_PER_KIND} more like")
    assert lines[-1].startswith(f"problem: ... and {7 - SHOWN_PER_KIND} more like")
    assert f"{N} recordings checked, {N + 7} problems" in res.output


def test_validate_names_them_all_with_v_and_in_json(many_problems: list[str]) -> None:
    res = CliRunner().invoke(eegprep_cli, ["-v", "validate", "s.zarr"])
    assert res.exit_code == 1
    assert sum(x.startswith("problem: ") for x in res.stderr.splitlines()) == N + 7
    res = CliRunner().invoke(eegprep_cli, ["validate", "s.zarr", "--json"])
    assert res.exit_code == 1 and len(json.loads(res.stdout)["problems"]) == N + 7


def test_evaluate_caps_its_notes(monkeypatch: pytest.MonkeyPatch) -> None:
    notes = [f"metric m{k} undefined (null) on the test windows" for k in range(40)]
    res = {"task": "tuab", "split": "test", "n_windows": 4, "metrics": {"auroc": 0.5},
           "leakage": "0 of 1 test subject was seen in pre-training", "notes": notes}  # fmt: skip
    monkeypatch.setattr(E, "evaluate", lambda *a, **k: res)
    args = ["evaluate", "--store", "s.zarr", "--task", "tuab", "--checkpoint", "best.pt"]
    out = CliRunner().invoke(labram_cli, args)
    assert out.exit_code == 0, out.output
    lines = [x for x in out.stdout.splitlines() if x.startswith("note: ")]
    assert len(lines) == SHOWN_PER_KIND + 1, lines
    assert lines[-1].startswith(f"note: ... and {40 - SHOWN_PER_KIND} more like")


def test_a_note_of_absent_classes_names_a_few_and_counts_them() -> None:
    classes = tuple(f"class{k}" for k in range(5000))
    task = Task(name="label:k", kind="multiclass", classes=classes, window_seconds=None)
    labels = np.array([[0], [1]], dtype=np.float32)
    (note,) = E.metric_notes(task, "test", labels, {"balanced_accuracy": 0.5})
    assert len(note) < 500 and "(4998 classes)" in note and "class2," in note, note
