"""labram's outputs on values it did not make: class names, subjects, task names and paths that
hold line breaks, terminal escapes or direction overrides (a store's labels, a user's paths).

Every printed line stays one line, CSV rows stay rows, and the HTML page shows such characters
as escapes instead of reading as other text."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from eegprep.base import strict_json
from eegprep.base.errors import UsageError
from labram.commands import labram_cli
from labram.data.tasks import Task
from labram.data.windows import RecordingPlan, WindowIndex
from labram.stages.predict import write_csv
from labram.stages.predictions import read_predictions, write_predictions

CLASSES = ("a\rb", "c\nd", "\x1b[31mred", "\u202eevil", 'q"u,o')
SHOWN = ("\x1b[31mred", "\u202eevil", "\x85nel", "\x08bs", "plain")
"""Class names a CSV holds as they are, that a terminal or a page would show as other text."""
TASK = Task(name="label:k\r\n", kind="multiclass", classes=CLASSES, window_seconds=None)


def _index(subject: str = "s{k}\r\nforged,row") -> WindowIndex:
    """Two windows of each of 5 recordings, one per class; subjects hold a carriage return."""
    plans = [
        RecordingPlan(0, f"c/r{k}", "c", subject.format(k=k), np.arange(19), np.arange(19))
        for k in range(5)
    ]
    rec = np.repeat(np.arange(5), 2)
    n = len(rec)
    labels = rec.astype(np.float32)[:, None]
    return WindowIndex(["s.zarr"], plans, rec, np.zeros(n, int), np.full(n, 4), np.zeros(n, int),
                       labels)  # fmt: skip


def test_predictions_csv_keeps_rows_whole(tmp_path: Path) -> None:
    path = write_predictions(tmp_path / "predictions.csv", TASK, _index(), np.eye(5).repeat(2, 0))
    with path.open(newline="") as fh:
        rows = list(csv.reader(fh))
    assert len(rows) == 11 and {len(r) for r in rows} == {6 + 5}
    assert not path.read_bytes().split(b"\n", 1)[0].endswith(b"\r")  # rows end in \n
    back = read_predictions(path)
    assert back["classes"] == list(CLASSES)
    assert [r["label"] for r in back["rows"]] == [c for c in CLASSES for _ in (0, 1)]
    assert back["rows"][0]["subject"] == "s0\r\nforged,row"


def test_a_ragged_predictions_file_is_one_line_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "predictions.csv"
    path.write_text("split,recording,subject,label,p_0,p_1\ntest,r,s,0,0.5,0.5,extra\n")
    with pytest.raises(UsageError, match=r"predictions.csv: line 2 has 7 fields, the header 6"):
        read_predictions(path)
    path.write_text("split,recording,subject,label,p_0,p_1\ntest,r,s,0\n")
    with pytest.raises(UsageError, match=r"line 2 has 4 fields, the header 6"):
        read_predictions(path)


def test_predict_csv_keeps_rows_whole() -> None:
    probs = dict.fromkeys(CLASSES, 0.2)
    rec = {"file": "x\ry.edf", "n_windows": 1, "label": "a\rb", "probabilities": probs}
    res = {"classes": list(CLASSES), "recordings": [rec]}
    out = io.StringIO()
    write_csv(res, out)
    rows = list(csv.reader(io.StringIO(out.getvalue(), newline="")))
    assert len(rows) == 2 and {len(r) for r in rows} == {2 + 5 + 1}
    assert rows[1][0] == "x\ry.edf" and rows[1][-1] == "a\rb"


def _run_folder(root: Path) -> Path:
    run = root / "run\nforged line"
    seed = run / "seed0"
    seed.mkdir(parents=True)
    task = Task(name=TASK.name, kind="multiclass", classes=SHOWN, window_seconds=None)
    write_predictions(seed / "predictions.csv", task, _index("s{k}"), np.eye(5).repeat(2, 0))
    test = {"balanced_accuracy": 0.5}
    metrics = {"seed": 0, "test": test, "val": test, "checkpoint": str(seed / "best.pt")}
    (seed / "metrics.json").write_text(strict_json.dumps(metrics))
    results = {"task": TASK.name, "stores": ["s\n.zarr"], "leakage": "0 of 5\r\nforged",
               "seeds": [metrics], "windows": {"test": 10}}  # fmt: skip
    (run / "results.json").write_text(strict_json.dumps(results))
    return run


def test_report_prints_one_line_per_line_and_the_page_shows_escapes(tmp_path: Path) -> None:
    run = _run_folder(tmp_path)
    page = tmp_path / "page.html"
    res = CliRunner().invoke(labram_cli, ["report", str(run), "--html", str(page)])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert lines[0].startswith(f"{tmp_path}/run\\nforged line (finetune label:k\\r\\n, 1 seed")
    assert not any(x.startswith(("forged", "ird")) for x in lines)
    text = page.read_text()
    for raw in ("\x1b", "\u202e", "\x85", "\x08", "\r"):
        assert raw not in text
    for shown in (r"\x1b[31mred", r"\u202eevil", r"\x85nel", r"\x08bs", r"run\nforged line"):
        assert shown in text
