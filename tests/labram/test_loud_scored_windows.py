"""Windows that hold samples no EEG has (past 10^8 uV) are not scored, even where the model's
outputs of them are finite (its norm layers make 1e30 uV a finite output): `labram finetune`
(validation and test), `labram evaluate`, `labram report --predict`, `labram embed` and
`labram predict` (a file) stop in one line naming the recording or file. Before, such a test
recording was scored (or embedded, predicted) as EEG and its metrics reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from labram.data.sample_peaks import SamplesError
from tests.labram.cli_runs import one_error, run_labram
from tests.labram.test_loud_samples import BAD, _store


def test_evaluate_refuses_finite_outputs_of_no_eeg(sound: Path, tmp_path: Path) -> None:
    from labram.stages.predictions import FILENAME, predict_checkpoint

    store = _store(tmp_path / "s.zarr", 1e30)
    code, output = run_labram("evaluate", "--store", store, "--task", "tuab", "--checkpoint",
                              sound, "--device", "cpu")  # fmt: skip
    one_error(code, output, f"1e+30 uV in {BAD} at 0 s", "eegprep validate", "not scored")
    with pytest.raises(SamplesError, match="holds samples no EEG has"):
        predict_checkpoint(sound, [store], "tuab", device="cpu")
    assert not (sound.parent / FILENAME).exists()


def test_finetune_refuses_a_test_recording_of_no_eeg(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scoring's own refusal, for windows the check before training did not see (a store
    rewritten since: that check is made blind here; its refusal: test_loud_before_training)."""
    monkeypatch.setattr("labram.data.finite_windows._note_loud", lambda *args: None)
    store = _store(tmp_path / "s.zarr", -1e12)
    out = tmp_path / "ft"
    code, output = run_labram("finetune", "--store", store, "--task", "tuab", "--size", "tiny",
                              "--max-steps", "2", "--batch-size", "4", "--device", "cpu",
                              "--out", out)  # fmt: skip
    one_error(code, output, "of the test split holds samples no EEG has",
              f"1e+12 uV in {BAD} at 0 s", "eegprep validate")  # fmt: skip
    assert not (out / "results.json").exists() and not (out / "seed0" / "metrics.json").exists()


def test_embed_refuses_finite_outputs_of_no_eeg(sound: Path, tmp_path: Path) -> None:
    store = _store(tmp_path / "s.zarr", 1e30)
    code, output = run_labram("embed", "--store", store, "--task", "tuab", "--checkpoint",
                              sound, "--device", "cpu", "--out", tmp_path / "e.zarr")  # fmt: skip
    one_error(code, output, f"1e+30 uV in {BAD} at 0 s", "eegprep validate", "not embedded")


def test_predict_refuses_a_file_of_no_eeg(sound: Path) -> None:
    from tests.labram.test_loud_samples import predict_one

    predict_one(sound)()  # sound samples: predicted
    with pytest.raises(
        SamplesError, match=r"1 of its windows .* in r\.edf at 10 s;.*not predicted"
    ):
        predict_one(sound, 1e30)()
