"""Promise: a stage resumed from its ``last.pt`` computes with the intra-op thread count the run
was trained with, so its losses, weights and reported metrics are the uninterrupted run's bit
for bit even where the resuming process's default count differs.

Parallel reductions (ATen's, MKL's products) split their sums by thread count: the tiny
tokenizer's step-4 phase loss was 0.9995774031 with 1 thread and 0.9995773435 with 2 to 16
(docs/training.md, "Reproducibility"). Without ``--set threads=N`` the count is torch's default,
the cores of the process's CPU affinity (``taskset -c 0`` gives 1 where the machine gives 2):
a run resumed under another affinity, in another container or on another machine continued
with other bits, and reported metrics it recomputes (``labram finetune``'s test scores, the
tokenizer's codebook report) with other bits too.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from eegprep.base import strict_json
from labram.stages.train_tokenizer import train_tokenizer
from labram.train import rng
from labram.train.checkpoint import load_checkpoint
from labram.train.config import train_config
from tests.labram.training_stores import write_pretrain_store


@pytest.fixture
def threads() -> Iterator[None]:
    """Put the process's intra-op thread count back after the test."""
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def _resumable_copy(run: Path, to: Path) -> Path:
    """``run``'s folder as a kill after its step-2 checkpoint left it: ``previous.pt`` (step
    2) as ``last.pt``, and nothing the final steps wrote."""
    shutil.copytree(run, to)
    for name in ("last.pt", "summary.json", "tokenizer.pt"):
        (to / name).unlink()
    (to / "previous.pt").rename(to / "last.pt")
    return to


def test_a_resume_under_another_default_thread_count_continues_bit_for_bit(
    tmp_path: Path, threads: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """~10 s: a 4-step tiny tokenizer at 2 threads, resumed at step 2 in a process at 1."""
    monkeypatch.setattr(rng, "usable_cores", lambda: 2)  # (a machine of one core too)
    store = write_pretrain_store(tmp_path / "s.zarr", n_subjects=3, seconds=60)
    cfg = train_config("tokenizer", "tiny", batch_size=8, max_steps=4, ckpt_every=2)
    torch.set_num_threads(2)
    train_tokenizer([store], cfg, tmp_path / "whole", device="cpu")
    resumed = _resumable_copy(tmp_path / "whole", tmp_path / "resumed")
    torch.set_num_threads(1)  # the resuming process's default (another affinity, machine)
    train_tokenizer([store], cfg, resumed, resume=True, device="cpu")
    got = strict_json.loads((resumed / "summary.json").read_text())
    want = strict_json.loads((tmp_path / "whole" / "summary.json").read_text())
    assert got["metrics"] == want["metrics"]  # bit for bit (the floats' shortest text)
    assert got["codebook"] == want["codebook"]
    model, want_model = (
        load_checkpoint(p / "last.pt")["model"] for p in (resumed, tmp_path / "whole")
    )
    assert all(torch.equal(model[k], want_model[k]) for k in want_model)
    assert load_checkpoint(resumed / "last.pt")["threads"] == 2


def test_a_resume_takes_no_more_threads_than_its_cores(
    threads: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run trained at 64 threads resumed on a machine of 2 keeps the process's count: 64
    threads on 2 cores would slow every step many times over. A count the config pins, or a
    checkpoint of an earlier version (none recorded), is left alone too."""
    monkeypatch.setattr(rng, "usable_cores", lambda: 2)
    torch.set_num_threads(1)
    cfg = train_config("tokenizer", "tiny")
    assert rng.resumed_threads(cfg, 64) is None and torch.get_num_threads() == 1
    assert rng.resumed_threads(cfg, None) is None and torch.get_num_threads() == 1
    assert rng.resumed_threads(train_config("tokenizer", "tiny", threads=1), 2) is None
    assert rng.resumed_threads(cfg, 2) == 2 and torch.get_num_threads() == 2
