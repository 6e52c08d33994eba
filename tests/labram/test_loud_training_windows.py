"""A training batch holding samples no EEG has (past 10^8 uV) stops the run before its
update, naming the recording, whatever the loss: the model's norm layers turn 1e30 uV into a
finite loss and finite outputs, so the tokenizer, the masked model and a fine-tune trained on
such windows without a word (only a loss that overflowed float32, 3e38 uV, was caught).

The check before training refuses such windows before the first step
(``tests/labram/test_loud_before_training.py``); the loop's own check stays for what that check
did not see (a store rewritten since): here the check is made blind to them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.labram.cli_runs import one_error, run_labram
from tests.labram.test_training_safety import _loud_store
from tests.labram.training_stores import write_tuab_like

TINY = ["--size", "tiny", "--max-steps", "3", "--batch-size", "4", "--device", "cpu",
        "--ckpt-every", "1"]  # fmt: skip
WIDE = ["--set", "token_budget=200", "--set", "max_channels=19"]


@pytest.fixture(autouse=True)
def _unseen_before_training(monkeypatch: pytest.MonkeyPatch) -> None:
    """The check before training sees no loud sample (as if the store changed after it)."""
    monkeypatch.setattr("labram.data.finite_windows._note_loud", lambda *args: None)


@pytest.mark.parametrize("value", [1e30, -1e10])
@pytest.mark.parametrize("command", ["tokenizer", "pretrain"])
def test_pre_training_stops_on_windows_of_no_eeg(
    tmp_path: Path, command: str, value: float
) -> None:
    store = _loud_store(tmp_path / "loud.zarr", value)
    out = tmp_path / "run"
    code, output = run_labram(command, "--store", store, *TINY, *WIDE, "--out", out)
    one_error(code, output, "error: tokenizer: the batch's samples are no EEG's at step",
              f"{abs(value):.3g} uV in tuh/s001", "eegprep validate")  # fmt: skip
    assert "--lr" not in output
    assert not list(out.rglob("*.pt"))  # (every batch of this store holds one: none trained)


def test_fine_tuning_stops_on_a_training_window_of_no_eeg(tmp_path: Path) -> None:
    def plant(rid: str, x: np.ndarray) -> None:
        if rid.startswith("tuab/t"):  # every training recording, so that step 0 meets one
            x[:, 100:500] = 1e30

    store = write_tuab_like(tmp_path / "t.zarr", n_train=6, n_eval=2, seconds=20, plant=plant)
    out = tmp_path / "ft"
    code, output = run_labram("finetune", "--store", store, "--task", "tuab", *TINY, "--out", out)
    one_error(code, output, "error: finetune: the batch's samples are no EEG's at step 0",
              "1e+30 uV in tuab/t", "eegprep validate")  # fmt: skip
    assert not (out / "seed0" / "best.pt").exists() and not (out / "seed0" / "last.pt").exists()
