"""benchmarks/gpu.py runs end to end on CPU (``--cpu-smoke``), so that the first session with a
GPU finds it working: every table row is filled, the loader rows measure real batches."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow  # 12-13 s on two cores; CI runs the slow tests
def test_gpu_benchmark_cpu_smoke(tmp_path: Path) -> None:
    out = tmp_path / "gpu.json"
    done = subprocess.run(
        [sys.executable, "benchmarks/gpu.py", "--cpu-smoke", "--json", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    res = json.loads(out.read_text())
    rows = {(r["dtype"], r["compile"]): r for r in res["rows"]}
    assert set(rows) == {("fp32", False), ("bf16", False), ("bf16", True)}
    for row in rows.values():
        assert "skipped" not in row, row
        assert row["samples_per_s"] > 0 and math.isfinite(row["s_per_step"])
        assert row["peak_gb"] is None  # no GPU memory on CPU
    feed = res["loader"]["workers"]
    assert set(feed) == {"0", "2"}
    for row in feed.values():
        assert 0.0 <= row["wait_share"] <= 1.0 and row["batches"] == 3
    # the printed tables are the ones docs/benchmarks.md takes
    assert "| tiny | " in done.stdout and "| loader workers |" in done.stdout
