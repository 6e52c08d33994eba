"""``labram pretrain`` and ``labram tokenizer`` refuse windows that read NaN or infinite samples
before their first step, in one line naming the recording and the second (as ``labram
finetune`` does), and a recording whose record vouches for its samples is not read."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from eegprep.pipeline.recipe import Recipe
from eegprep.store.writer import StoreWriter
from labram.data.sample_peaks import SamplesError
from labram.stages.train_tokenizer import pretrain_windows
from labram.train.config import train_config
from tests.labram.cli_runs import one_error, run_labram
from tests.labram.training_stores import TUAB_ORDER, chunk_reads, eeg, put

TINY = ["--size", "tiny", "--max-steps", "2", "--batch-size", "4", "--device", "cpu",
        "--set", "token_budget=40", "--set", "max_channels=8"]  # fmt: skip
"""A few steps on small windows (8 channels x 5 s)."""


def _store(path: Path, *, qc: dict[str, object] | None = None) -> str:
    """Three 30-s training recordings; ``tuh/s001`` holds NaN at 12 s and an infinity at 20 s
    on its first channel (a store written by another tool: no ``qc`` unless given)."""
    rng = np.random.default_rng(5)
    extra = {"qc": qc} if qc else {}
    with StoreWriter(str(path), Recipe()) as w:
        for k in range(3):
            x = eeg(rng, 23, 30)
            if k == 1:
                x[0, 2400:2410] = np.nan
                x[0, 4000] = np.inf
            put(w, f"tuh/s{k:03d}", x, list(TUAB_ORDER), subject=f"s{k}",
                subject_key=f"tuh:s{k}", split="train", **extra)  # fmt: skip
    return str(path)


@pytest.fixture(scope="module")
def nan_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    return _store(tmp_path_factory.mktemp("nan") / "s.zarr")


@pytest.mark.parametrize("command", ["tokenizer", "pretrain"])
def test_nan_is_refused_before_the_first_step(nan_store: str, tmp_path: Path, command: str) -> None:
    """One line naming the command, the recording and the second; no step was taken (no
    checkpoint, no log), and for pretrain not even its tokenizer stage."""
    out = tmp_path / "run"
    code, output = run_labram(command, "--store", nan_store, *TINY, "--out", out)
    one_error(code, output, f"labram {command}", "tuh/s001 at 12 s", "not finite", "eegprep ingest")
    assert not list(out.rglob("*.pt")) and not list(out.rglob("log.csv"))
    assert not (out / "tokenizer").exists()


def test_the_second_stage_windows_are_checked_first(nan_store: str) -> None:
    """The masked-modelling stage's windows (its own config) are what pretrain checks up
    front: the line names the pre-training windows."""
    cfg = train_config("pretrain", "tiny", batch_size=4, token_budget=40, max_channels=8)
    with pytest.raises(SamplesError, match=r"pre-training: 1 recording, NaN or infinite "):
        pretrain_windows([nan_store], cfg, set(), what="labram pretrain")


def test_vouched_recordings_are_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A record with an ingest's ``qc`` (the ingest refuses non-finite samples) is taken as
    finite unread: the check costs no chunk read on an ingested store."""
    qc = {"median_rms_uv": 20.0, "flat_channels": [], "rms_uv": [20.0] * 23}
    url = _store(tmp_path / "v.zarr", qc=qc)
    reads = chunk_reads(monkeypatch)
    cfg = train_config("tokenizer", "tiny", batch_size=4, token_budget=40, max_channels=8)
    index = pretrain_windows([url], cfg, set(), what="labram tokenizer")
    assert len(index) > 0 and reads == []
