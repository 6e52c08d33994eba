"""Samples that are not finite in any split are found before training: one line naming the split
and the recordings; recordings whose record vouches for their samples are not read."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from eegprep.pipeline.recipe import Recipe
from eegprep.store.writer import StoreWriter
from labram.data.finite_windows import check_finite_splits, nonfinite_recordings
from labram.data.sample_peaks import SamplesError
from labram.data.tasks import build_task_indexes, get_task
from tests.labram.training_stores import TUAB_ORDER, chunk_reads, eeg, put, write_tuab_like

T2, E0, E1 = (f"tuab/{s}_s001_t000" for s in ("t002", "e000", "e001"))


def _store(path: Path, bad: dict[str, tuple[int, int]], **extra: object) -> str:
    """TUAB-like: 4 train, 2 eval subjects of 20 s; ``bad``: recording -> samples [a, b) set
    to NaN on channel 3."""

    def plant(rid: str, x: np.ndarray) -> None:
        if rid in bad:
            x[3, slice(*bad[rid])] = np.nan

    return write_tuab_like(path, n_train=4, n_eval=2, seconds=20, seed=2, plant=plant, **extra)


def test_every_split_is_checked_and_named(tmp_path: Path) -> None:
    """NaN in a train and a test recording: one line names both splits and recordings."""
    url = _store(tmp_path / "s.zarr", {T2: (600, 601), E1: (2200, 2400)})
    splits = build_task_indexes([url], get_task("tuab"))
    with pytest.raises(SamplesError) as err:
        check_finite_splits(splits, what="labram finetune")
    line = str(err.value)
    assert "\n" not in line
    where = {n for n in ("train", "val") if T2 in {p.id for p in splits[n].recordings}}
    assert f"{where.pop()}: 1 recording, NaN or infinite samples in {T2} at 3 s" in line
    assert f"test: 1 recording, NaN or infinite samples in {E1} at 11 s" in line
    assert "eegprep ingest" in line


def test_samples_no_window_reads_are_not_blamed(tmp_path: Path) -> None:
    """TUAB's 10-s windows of a 20-s recording read all of it; NaN on a channel the task does
    not read, or past the last window, is no fault of the run."""
    url = _store(tmp_path / "s.zarr", {})
    rng = np.random.default_rng(0)
    with StoreWriter(url, Recipe()) as w:
        x = eeg(rng, 24, 25)
        x[23] = np.nan  # a channel outside the protocol's 23
        x[:, 4500:] = np.nan  # after the second window (20 s)
        put(w, "tuab/e009", x, [*TUAB_ORDER, "OZ"], subject="e009", subject_key="tuh:e009",
            split="eval", labels={"abnormal": 0})  # fmt: skip
    splits = build_task_indexes([url], get_task("tuab"))
    assert "tuab/e009" in {p.id for p in splits["test"].recordings}
    check_finite_splits(splits, what="labram finetune")


def test_a_vouched_recording_is_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A record with an ingest's ``qc`` (the ingest refuses non-finite samples) is trusted: no
    chunk of it is read; one without is read."""
    reads = chunk_reads(monkeypatch)
    qc = {"median_rms_uv": 20.0, "flat_channels": [], "rms_uv": [20.0] * 23}
    vouched = _store(tmp_path / "v.zarr", {E1: (10, 20)}, qc=qc)
    index = build_task_indexes([vouched], get_task("tuab"))["test"]
    assert nonfinite_recordings(index) == [] and reads == []
    plain = _store(tmp_path / "p.zarr", {E1: (10, 20)})
    index = build_task_indexes([plain], get_task("tuab"))["test"]
    assert nonfinite_recordings(index) == [(E1, 10 / 200)]
    assert set(reads) == {E0, E1}


def test_a_window_wrapped_past_the_end_is_checked_where_it_reads_the_start(
    tmp_path: Path,
) -> None:
    """A TUEV window read wrapped (``edge_events="wrap"``) from 3 s before a 20-s recording's
    end reads its last 3 s and then its first 2 s; NaN at 0.5 s is in that window. The check
    looked only up to the end, and the NaN reached the training unsaid."""
    url = _store(tmp_path / "s.zarr", {E1: (100, 101)}, events=[[19.0, 1.0, "SPSW", ""]])
    test = build_task_indexes([url], get_task("tuev"), edge_events="wrap")["test"]
    rec = next(r for r, p in enumerate(test.recordings) if p.id == E1)
    mine = test.rec == rec
    assert test.start[mine].tolist() == [17 * 200]  # 17 s .. 22 s: 20-22 s is 0-2 s
    assert nonfinite_recordings(test) == [(E1, 100 / 200)]
    assert nonfinite_recordings(build_task_indexes([url], get_task("tuev"))["test"]) == []
