"""``labram embed`` killed (SIGKILL, no clean-up) at seeded random moments, then run again:
every array of the output equals an uninterrupted run's, byte for byte (docs/training.md,
"Embeddings": a killed run finishes the job)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
import zarr

from labram.checkpoints.layouts import save_ours
from labram.model.config import model_config
from labram.model.mem import LaBraMForMEM
from tests.labram.training_stores import write_pretrain_store

pytestmark = pytest.mark.slow
RUNNER = "import sys; from labram.commands import labram_cli; sys.exit(labram_cli())"


def _arrays(out: Path) -> dict[str, bytes]:
    group = zarr.open_group(str(out), mode="r")
    return {name: np.asarray(arr[...]).tobytes() for name, arr in group.arrays()}


def test_killed_at_random_moments_then_run_again_gives_the_uninterrupted_arrays(
    tmp_path: Path,
) -> None:
    torch.manual_seed(0)
    save_ours(LaBraMForMEM(model_config("tiny")), tmp_path / "model.pt")
    store = write_pretrain_store(tmp_path / "a.zarr", n_subjects=3, seconds=80)

    def argv(out: Path) -> list[str]:
        return [sys.executable, "-c", RUNNER, "embed", "--store", store, "--checkpoint",
                str(tmp_path / "model.pt"), "--out", str(out), "--chunk-windows", "2",
                "--per-patch", "--device", "cpu"]  # fmt: skip

    start = time.monotonic()
    done = subprocess.run(argv(tmp_path / "ref.zarr"), capture_output=True, text=True)
    length = time.monotonic() - start
    assert done.returncode == 0, done.stderr[-2000:]
    ref = _arrays(tmp_path / "ref.zarr")
    rng = np.random.default_rng(0)
    for k, delay in enumerate(sorted(rng.uniform(0.3, length, 3))):
        out = tmp_path / f"k{k}.zarr"
        proc = subprocess.Popen(argv(out), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        again = subprocess.run(argv(out), capture_output=True, text=True)
        assert again.returncode == 0, f"killed after {delay:.2f} s: {again.stderr[-2000:]}"
        assert _arrays(out) == ref, f"killed after {delay:.2f} s"
