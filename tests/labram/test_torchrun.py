"""Real multi-process runs under torchrun (gloo on CPU): two ranks see disjoint, complete shards,
and a DDP pre-training run completes and writes one checkpoint from rank 0."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from eegprep.ingestion.driver import IngestConfig, ingest
from eegprep.testing.demo import write_demo_corpus

REPO = Path(__file__).resolve().parents[2]

SHARD_SCRIPT = """
import json, os, sys
from labram.train import distributed
from labram.data.sampler import BatchPlan
from labram.data.windows import build_pretrain_index
info = distributed.setup("cpu")
index = build_pretrain_index([sys.argv[1]])
plan = BatchPlan(index, batch_size=4, seed=3, rank=info.rank, world_size=info.world_size)
seen = [int(w) for epoch in (0, 1) for b in plan.batches(epoch) for w in b]
out = {"rank": info.rank, "world": info.world_size, "seen": seen,
       "epoch0": [int(w) for b in plan.batches(0) for w in b],
       "all0": [int(w) for b in plan.global_batches(0) for w in b]}
json.dump(out, open(os.path.join(sys.argv[2], f"rank{info.rank}.json"), "w"))
distributed.teardown()
"""


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tr")
    src = write_demo_corpus(root / "demo", n_subjects=2, minutes=1.5)
    out = root / "demo.zarr"
    ingest("tuh", src=src, out=out, config=IngestConfig(workers=0, progress=False))
    return out


def _torchrun(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        *args,
    ]
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def test_two_ranks_see_disjoint_complete_shards(store: Path, tmp_path: Path) -> None:
    script = tmp_path / "shards.py"
    script.write_text(SHARD_SCRIPT)
    res = _torchrun([str(script), str(store), str(tmp_path)], tmp_path)
    assert res.returncode == 0, res.stderr[-3000:]
    r0, r1 = (json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1))
    assert (r0["world"], r1["world"]) == (2, 2)
    a, b = r0["epoch0"], r1["epoch0"]
    assert a and b and not set(a) & set(b)  # disjoint
    assert r0["all0"] == r1["all0"]  # both ranks agree on the global order
    n = len(a) + len(b)
    assert sorted(a + b) == sorted(r0["all0"][:n])  # together: the global epoch, no gap
    assert len(a) == len(b)  # equal shards (drop_last), so DDP steps stay in lockstep


@pytest.mark.slow
def test_ddp_pretraining_run_under_torchrun(store: Path, tmp_path: Path) -> None:
    runner = tmp_path / "labram_main.py"
    runner.write_text("from cli import labram_cli\nlabram_cli()\n")
    out = tmp_path / "run"
    res = _torchrun(
        [
            str(runner),
            "pretrain",
            "--store",
            str(store),
            "--size",
            "tiny",
            "--max-steps",
            "4",
            "--tokenizer-max-steps",
            "4",
            "--out",
            str(out),
            "--seed",
            "1",
        ],
        tmp_path,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    # only rank 0 prints, and what it prints is aggregated over both ranks
    assert res.stdout.count("masked modelling:") == 1, res.stdout
    assert res.stdout.count("tokenizer:") == 1, res.stdout
    ckpts = sorted(p.name for p in out.rglob("*.pt"))
    assert ckpts, list(out.rglob("*"))
    log = (out / "mem" / "log.csv").read_text().splitlines()
    assert len(log) >= 2 and np.isfinite(float(log[-1].split(",")[2]))
    shutil.rmtree(out)
