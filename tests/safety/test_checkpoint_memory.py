"""A genuine checkpoint loads in one copy of its weights.

A LaBraM-Base-sized file (36.7 MB) added 2.6-3.0 times its size to a process's peak memory: the
model was built on the CPU (its initial values drawn), then the file's tensors were copied over
them. The model is now built on PyTorch's ``meta`` device and takes the tensors read as its own
(:mod:`labram.checkpoints.assign`): measured in a fresh process (``tests/peak_memory.py``),
after a tiny file's load (what the first load imports, ~50 MB, is not the file's), against
what was resident before.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from labram.checkpoints.safetensors_files import save_safetensors
from tests.labram.labram_layouts import fabricate, mem_layout

REPO = Path(__file__).resolve().parents[2]

_PEAK = """
import json, sys
from labram.checkpoints.load import load_model
from tests import peak_memory
load_model(sys.argv[1])  # (a tiny file first: what the first load imports is not the file's)
before = peak_memory.start()  # (resident now: memory freed since is not headroom)
load_model(sys.argv[2])
after = peak_memory.peak()
print(json.dumps({"added": after - before}))
"""
MOST_COPIES = 2.0
"""The most a Base-sized file may add to a process's peak memory, in multiples of its size:
its weights once, and the readers' passing buffers: 1.3 times here, where building the model
on the CPU (initialised) and copying the file's tensors over its values added 2.6-3.0 times."""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux's /proc")
@pytest.mark.parametrize("suffix", [".pth", ".safetensors"])
def test_a_base_sized_checkpoint_loads_in_one_copy_of_its_weights(suffix, tmp_path):
    sd = fabricate(mem_layout("base"))
    big = tmp_path / f"labram-base{suffix}"
    if suffix == ".pth":
        torch.save({"model": sd, "epoch": 3}, big)
    else:
        save_safetensors({"model": sd}, big)
    small = tmp_path / "tiny.pth"
    torch.save({"model": fabricate(mem_layout("tiny", n_codes=64))}, small)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run(
        [sys.executable, "-c", _PEAK, str(small), str(big)], capture_output=True, text=True,
        env=env, check=True, cwd=REPO,
    )  # fmt: skip
    added = json.loads(out.stdout.strip().splitlines()[-1])["added"]
    assert added < MOST_COPIES * big.stat().st_size, (added, big.stat().st_size)
