"""benchmarks/store_opens.py reaches the first batch it times: its index-only stores have no
recording groups, which the check of the windows' samples before training refused, so the
script printed ``"seconds_to_first_batch": null`` and measured nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_script_times_its_first_batch_with_each_store_opened_once() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks/store_opens.py"), "--recordings", "40"],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["opens"] == {"a.zarr": 1, "b.zarr": 1}, result
    assert isinstance(result["seconds_to_first_batch"], float), result
