"""`labram report` (and `--predict`) reads only the predictions.csv labram writes.

Another file in a seed's folder under that name (the table `labram predict --csv` writes,
another tool's, a TSV, an empty, binary or UTF-16 file, a header of thousands of columns, a
field over csv's limit) is one line naming the file, what it holds, the columns a predictions
file has and what to do;
among several run folders it is that folder's ``skipped:`` line and the others are reported.
Before, the line listed every column of the file (3,000 names in one line), said nothing of
what to do, called a foreign table with rows of another length "damaged", and a binary file
"unreadable" without saying what was expected. A byte-order mark (a spreadsheet's save of
labram's own file) is no part of the first column's name.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from labram.commands import labram_cli
from labram.data.tasks import TASKS
from labram.data.windows import RecordingPlan, WindowIndex
from labram.stages.predict import write_csv
from labram.stages.predictions import read_predictions, write_predictions
from labram.stages.report import confusion
from tests.machine_paths import without_paths


def _predict_csv(per_window: bool) -> str:
    """What ``labram predict --csv`` writes (a row per recording, or per window)."""
    window = {"start_s": 0.0, "stop_s": 10.0, "probabilities": {"normal": 0.2, "abnormal": 0.8}}
    rec = {"file": "a.edf", "n_windows": 1, "windows": [window], **window, "label": "abnormal"}
    res = {"classes": ["normal", "abnormal"], "kind": "classification", "recordings": [rec]}
    out = io.StringIO()
    write_csv(res, out, per_window=per_window)
    return out.getvalue()


FOREIGN: dict[str, tuple[bytes, str]] = {
    "labram predict --csv": (_predict_csv(False).encode(), "got ['file', 'n_windows'"),
    "labram predict --csv --per-window": (_predict_csv(True).encode(), "got ['file', 'start_s'"),
    "another tool's table": (b"id,prob\n1,0.5\n", "got ['id', 'prob']"),
    "another table, rows of another length": (b"id,prob\n1,0.5,3\n", "got ['id', 'prob']"),
    "a TSV": (b"recording\tsubject\tlabel\tp_a\nr\ts\ta\t0.1\n", "got ['recording\\tsubject"),
    "an empty file": (b"", "got no header (an empty file)"),
    "a JSON file": (b'{"predictions": [1, 2]}\n', "got ['{\"predictions\": [1'"),
    "3,000 columns": (
        (",".join(f"c{i}" for i in range(3000)) + "\n").encode(),
        "got ['c0', 'c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7', 'c8', 'c9', 'c10', 'c11', ... "
        "(3000 columns)]",
    ),
    "one column of a whole line": (b"x" * 50_000 + b"\n", "got ['" + "x" * 40 + "...']"),
    "a binary file": (bytes(range(256)) * 4, "got bytes that are not UTF-8 text (0x80 at offset"),
    "UTF-16 text": ("recording,subject,label,p_a\n".encode("utf-16"), "(0xff at offset 0)"),
    "a field over csv's limit": (
        b"recording,subject,label,p_a\n" + b"r" * 200_000 + b",s,a,0.1\n",
        "got no CSV table (field larger than field limit",
    ),
}

EXPECTED = (
    "not a predictions file of labram's (expected a CSV table with the columns recording, "
    "subject, label and p_<class>, or target_<j> and pred_<j>, as `labram finetune` and "
    "`labram report --predict` write it; got "
)


def _run(folder: Path, predictions: bytes | None) -> Path:
    """A fine-tuning run folder with one seed (its metrics; ``predictions`` as its
    ``predictions.csv`` when given)."""
    seed = folder / "seed0"
    seed.mkdir(parents=True)
    (folder / "results.json").write_text(
        '{"task": "tuab", "stores": ["gone.zarr"], "seeds": [{"seed": 0}]}'
    )
    (seed / "metrics.json").write_text('{"seed": 0, "test": {"auroc": 0.5}}')
    if predictions is not None:
        (seed / "predictions.csv").write_bytes(predictions)
    return folder


@pytest.mark.parametrize("predict", [[], ["--predict"]], ids=["report", "report --predict"])
@pytest.mark.parametrize("name", sorted(FOREIGN))
def test_another_file_is_one_line_naming_it_and_the_expected_columns(
    name: str, predict: list[str], tmp_path: Path
) -> None:
    content, got = FOREIGN[name]
    run = _run(tmp_path / "run", content)
    path = run / "seed0" / "predictions.csv"
    res = CliRunner().invoke(labram_cli, ["report", str(run), *predict])
    assert res.exit_code == 2, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in res.output, res.output
    line = lines[0]
    assert line.startswith(f"error: {path}: {EXPECTED}"), line
    assert got in line, (got, line)
    assert line.endswith("): move it away and run `labram report --predict` to write it"), line
    assert len(without_paths(line, [path])) < 700, len(line)  # (the path's length is the machine's)
    assert path.read_bytes() == content  # (nothing written over it)


def test_among_several_runs_the_one_with_another_file_is_skipped(tmp_path: Path) -> None:
    bad = _run(tmp_path / "bad", FOREIGN["another tool's table"][0])
    good = _run(tmp_path / "good", None)
    page = tmp_path / "page.html"
    res = CliRunner().invoke(labram_cli, ["report", str(bad), str(good), "--html", str(page)])
    assert res.exit_code == 3, res.output
    skipped = [s for s in res.output.splitlines() if s.startswith("skipped: ")]
    assert len(skipped) == 1 and skipped[0].startswith(f"skipped: {bad}"), res.output
    assert "expected a CSV table with the columns recording, subject" in skipped[0]
    assert str(good) in page.read_text() and str(bad) not in page.read_text()


def _index() -> WindowIndex:
    plans = [
        RecordingPlan(0, f"tuab/{s}_s001_t000", "tuab", f"tuh:{s}", np.arange(23), np.arange(23))
        for s in ("e000", "e001")
    ]
    rec = np.repeat(np.arange(2), 2)
    n = len(rec)
    labels = (rec % 2).astype(np.float32)[:, None]
    return WindowIndex(["s.zarr"], plans, rec, np.tile([0, 2000], 2), np.full(n, 10),
                       np.zeros(n, int), labels)  # fmt: skip


def test_labrams_own_file_saved_with_a_byte_order_mark_reads_as_itself(tmp_path: Path) -> None:
    """A spreadsheet saving the table adds a UTF-8 byte-order mark: its first column read as
    ``'\\ufeffsplit'``, and the file was refused as not a predictions file."""
    path = write_predictions(tmp_path / "predictions.csv", TASKS["tuab"], _index(),
                             np.array([[0.1], [-0.2], [0.3], [0.9]]))  # fmt: skip
    want = read_predictions(path)
    marked = tmp_path / "marked.csv"
    marked.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    got = read_predictions(marked)
    assert got["rows"] == want["rows"] and got["classes"] == want["classes"]
    assert confusion(got).tolist() == confusion(want).tolist()
