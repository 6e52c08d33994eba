"""Samples no EEG has (past 10^8 uV) in any split a run reads are refused before its first step.

A validation or test recording of 10^12 uV was found only when its split was scored, after
every epoch of ``labram finetune`` had run (hours on a real run); a loud pre-training window
only when its batch came. Now ``finetune``, ``pretrain`` and ``tokenizer`` name the split and
the recording in one line before anything trains. A recording whose ingest's ``qc`` bounds its
samples (each channel's RMS x sqrt(its samples)) under the bound is not read for it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from labram.data.finite_windows import check_finite_splits
from labram.data.sample_peaks import SamplesError
from labram.data.tasks import build_task_indexes, get_task
from tests.labram.cli_runs import one_error, run_labram
from tests.labram.test_loud_samples import BAD, _store
from tests.labram.test_training_safety import _loud_store
from tests.labram.training_stores import chunk_reads, write_tuab_like

TINY = ["--size", "tiny", "--max-steps", "2", "--batch-size", "4", "--device", "cpu"]
WIDE = ["--set", "token_budget=200", "--set", "max_channels=19"]


def test_finetune_refuses_a_loud_test_recording_before_training(tmp_path: Path) -> None:
    store = _store(tmp_path / "s.zarr", -1e12)
    out = tmp_path / "ft"
    code, output = run_labram("finetune", "--store", store, "--task", "tuab", *TINY, "--out", out)
    one_error(code, output, "labram finetune: the windows of test: 1 recording, 1e+12 uV in "
              f"{BAD} at 5 s", "nothing was trained", "eegprep validate")  # fmt: skip
    assert not (out / "seed0").exists()  # refused before the first step, not after the epochs


def test_a_loud_validation_recording_is_named_with_its_split(tmp_path: Path) -> None:
    rid = "tuab/t002_s001_t000"

    def plant(r: str, x: np.ndarray) -> None:
        if r == rid:
            x[4, 2000] = 3e9

    url = write_tuab_like(tmp_path / "v.zarr", n_train=6, n_eval=2, seconds=20, plant=plant)
    splits = build_task_indexes([url], get_task("tuab"))
    split = next(n for n in ("train", "val") if rid in {p.id for p in splits[n].recordings})
    with pytest.raises(SamplesError) as err:
        check_finite_splits(splits, what="labram finetune")
    assert f"{split}: 1 recording, 3e+09 uV in {rid} at 10 s" in str(err.value)
    assert "\n" not in str(err.value) and err.value.every_rank


@pytest.mark.parametrize("command", ["pretrain", "tokenizer"])
def test_pre_training_refuses_loud_windows_before_training(tmp_path: Path, command: str) -> None:
    store = _loud_store(tmp_path / "loud.zarr", -1e10)
    out = tmp_path / "run"
    code, output = run_labram(command, "--store", store, *TINY, *WIDE, "--out", out)
    one_error(code, output, f"labram {command}: the windows of pre-training: 1 recording, "
              "1e+10 uV in tuh/s001 at 5 s", "nothing was trained")  # fmt: skip
    assert not list(out.rglob("*.pt")) and not list(out.rglob("log.csv"))


def test_a_record_whose_rms_bounds_its_samples_is_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An ingest's ``qc`` of ordinary RMS vouches unread; one whose RMS allows 10^8 uV is read,
    and its loud sample found."""
    from labram.data.finite_windows import bad_recordings

    quiet = {"median_rms_uv": 20.0, "flat_channels": [], "rms_uv": [30.0] * 23}
    url = write_tuab_like(tmp_path / "q.zarr", n_train=2, n_eval=2, seconds=20, qc=quiet)
    reads = chunk_reads(monkeypatch)
    test = build_task_indexes([url], get_task("tuab"))["test"]
    assert bad_recordings(test) == ([], []) and reads == []

    def plant(r: str, x: np.ndarray) -> None:
        if r == BAD:
            x[0, 600] = 5e8

    loud = {**quiet, "rms_uv": [5e8 / 200] * 23}  # (its true RMS: bound 5e8 / 200 x 63)
    url = write_tuab_like(tmp_path / "l.zarr", n_train=2, n_eval=2, seconds=20, qc=loud,
                          plant=plant)  # fmt: skip
    test = build_task_indexes([url], get_task("tuab"))["test"]
    assert bad_recordings(test) == ([], [(BAD, 3.0, 5e8)])
    assert BAD in reads


def test_the_bound_from_a_record() -> None:
    from eegprep.store.recording import Recording
    from labram.data.peak_bounds import quiet_by_record

    def rec(**meta: object) -> Recording:
        base = {"id": "c/r", "group": "recordings/c/r", "corpus": "c", "channels": ["FP1", "FP2"],
                "channel_index": [0, 1], "n_samples": 10_000, "sfreq": 200.0}  # fmt: skip
        return Recording.from_record({**base, **meta})

    rows = np.array([0, 1])
    assert quiet_by_record(rec(qc={"rms_uv": [50.0, 1e5]}), rows)  # 1e5 x 100: 1e7 uV
    assert not quiet_by_record(rec(qc={"rms_uv": [50.0, 1e6]}), rows)  # 1e8 uV possible
    assert quiet_by_record(rec(qc={"rms_uv": [50.0, 1e6]}), np.array([0]))  # (its rows alone)
    for bad in ([50.0], [50.0, "1"], [50.0, float("nan")], [50.0, -1.0], None, [True, 1.0]):
        assert not quiet_by_record(rec(qc={"rms_uv": bad}), rows), bad
    assert quiet_by_record(rec(encoding="quantized", quantum_uv=0.0125), rows)  # 2.7e7 uV
    assert not quiet_by_record(rec(encoding="quantized", quantum_uv=1.0), rows)
    assert not quiet_by_record(rec(), rows)  # nothing stated: read
