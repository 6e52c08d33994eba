"""The CSV tables labram reads back from a run folder (``predictions.csv`` in ``labram
report``, ``log.csv`` in ``labram report`` and on ``--resume``) refuse bytes no such table
has, in one line naming the file and the line.

Before: a NUL byte was read as a character of its cell (Python's csv accepts one since 3.11):
a ``predictions.csv`` without checksums (an older labram's) was scored with it; bytes that
are not UTF-8 and a cell over csv's 128 kB limit were one line without the line's number; a
line of megabytes of commas became a header of 600,000 columns before it was refused as a
row of another length.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from eegprep.base.errors import UsageError
from labram.commands import labram_cli
from labram.data.tasks import Task
from labram.data.windows import RecordingPlan, WindowIndex
from labram.stages.predictions import read_predictions, write_predictions
from labram.train.runlog import RunLog


def _index() -> WindowIndex:
    plans = [
        RecordingPlan(0, f"c/r{k}", "c", f"s{k}", np.arange(19), np.arange(19)) for k in (0, 1)
    ]
    rec = np.arange(2)
    return WindowIndex(["s.zarr"], plans, rec, np.zeros(2, int), np.full(2, 4), np.zeros(2, int),
                       rec.astype(np.float32)[:, None])  # fmt: skip


def _predictions(path: Path, *, sealed: bool) -> bytes:
    task = Task(name="label:k", kind="multiclass", classes=("a", "b"), window_seconds=None)
    write_predictions(path, task, _index(), np.eye(2))
    raw = path.read_bytes()
    if not sealed:  # (an older labram's file: no row_crc32 column)
        raw = b"".join(line.rsplit(b",", 1)[0] + b"\n" for line in raw.splitlines())
    return raw


def _log(path: Path) -> bytes:
    log = RunLog(path, total=3)
    for step in (1, 2, 3):
        log.log({"step": step, "epoch": 0, "loss": 1.0 / step})
    log.close()
    return path.read_bytes()


def _damaged(raw: bytes, damage: str) -> tuple[bytes, int]:
    """``raw`` with ``damage`` done to its third line; the line it names."""
    lines = raw.split(b"\n")
    cells = lines[2].split(b",")
    if damage == "NUL":
        cells[1] = cells[1][:1] + b"\0" + cells[1][1:]
    elif damage == "not UTF-8":
        cells[1] = cells[1] + b"\xff"
    elif damage == "a cell over csv's limit":
        cells[1] = b"9" * 200_000
    elif damage == "a line of megabytes":
        cells[1] = b"," * (2**20 + 10)  # (over the 1 MiB a line may have)
    lines[2] = b",".join(cells)
    return b"\n".join(lines), 3


DAMAGE = ["NUL", "not UTF-8", "a cell over csv's limit", "a line of megabytes"]
SAYS = {
    "NUL": "holds a NUL byte",
    "not UTF-8": "holds bytes that are not UTF-8 text",
    "a cell over csv's limit": "(field larger than field limit (131072) on line 3)",
    "a line of megabytes": "characters, over the",
}


def _one_line(msg: str, path: Path, damage: str, line: int) -> None:
    assert "\n" not in msg and msg.startswith(f"{path}: "), msg
    assert f"line {line}" in msg, msg
    assert SAYS[damage] in msg, msg


@pytest.mark.parametrize("sealed", [True, False], ids=["with checksums", "older, without"])
@pytest.mark.parametrize("damage", DAMAGE)
def test_predictions_csv(damage: str, sealed: bool, tmp_path: Path) -> None:
    path = tmp_path / "predictions.csv"
    raw, line = _damaged(_predictions(path, sealed=sealed), damage)
    path.write_bytes(raw)
    with pytest.raises(UsageError) as info:
        read_predictions(path)
    _one_line(str(info.value), path, damage, line)


@pytest.mark.parametrize("damage", DAMAGE)
def test_log_csv_on_resume(damage: str, tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    raw, line = _damaged(_log(path), damage)
    path.write_bytes(raw)
    with pytest.raises(UsageError) as info:
        RunLog(path, total=3, resume_step=3)
    _one_line(str(info.value), path, damage, line)
    assert path.read_bytes() == raw  # (refused before it is rewritten: nothing lost)


@pytest.mark.parametrize("damage", DAMAGE)
def test_log_csv_in_the_report(damage: str, tmp_path: Path) -> None:
    run = tmp_path / "pt"
    run.mkdir()
    path = run / "log.csv"
    raw, line = _damaged(_log(path), damage)
    path.write_bytes(raw)
    res = CliRunner().invoke(labram_cli, ["report", str(run)])
    assert res.exit_code == 2, res.output
    (msg,) = [x for x in res.output.splitlines() if x.startswith("error: ")]
    _one_line(msg.removeprefix("error: "), path, damage, line)


def test_sound_tables_still_read(tmp_path: Path) -> None:
    pred = tmp_path / "predictions.csv"
    _predictions(pred, sealed=True)
    assert [r["subject"] for r in read_predictions(pred)["rows"]] == ["s0", "s1"]
    log = tmp_path / "log.csv"
    _log(log)
    assert len(RunLog(log, total=3, resume_step=2).rows) == 2
