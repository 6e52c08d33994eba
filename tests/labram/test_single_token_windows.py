"""Pre-training windows of a single token (1 channel x 1 s) are refused before anything
trains: masked modelling masks half of a window's tokens and predicts them from the other
half, and such a window leaves one pass empty. Before, the tokenizer stage trained, then the
first masked-modelling step's loss was NaN and the line blamed the learning rate."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.labram.cli_runs import one_error, run_labram

TINY = ["--size", "tiny", "--max-steps", "2", "--tokenizer-max-steps", "2", "--batch-size",
        "4", "--device", "cpu"]  # fmt: skip


@pytest.mark.parametrize(
    "settings",
    [["max_channels=1", "max_seconds=1"], ["max_channels=1", "token_budget=1"]],
    ids=["max_seconds", "token_budget"],
)
def test_windows_of_one_token_are_refused_before_the_first_stage(
    store: str, tmp_path: Path, settings: list[str]
) -> None:
    out = tmp_path / "run"
    sets = [a for s in settings for a in ("--set", s)]
    code, output = run_labram("pretrain", "--store", store, *TINY, *sets, "--out", out)
    if "token_budget=1" in settings:  # (the budget's own warning first: eegprep/base/bounds.py)
        warned, output = output.split("\n", 1)
        assert warned.startswith("warning: token_budget 1 is under 2: a window is of no use"), (
            warned
        )
    one_error(code, output, "windows of 3 recordings hold a single token",
              "1 channel x 1 s", "max_seconds", "nothing was trained")  # fmt: skip
    assert "learning rate" not in output
    assert not list(out.rglob("*.pt"))


def test_windows_of_two_tokens_train(store: str, tmp_path: Path) -> None:
    """One channel of 2 s: one token masked, one seen, in each pass."""
    out = tmp_path / "run"
    code, output = run_labram("pretrain", "--store", store, *TINY, "--set", "max_channels=1",
                              "--set", "max_seconds=2", "--out", out)  # fmt: skip
    assert code == 0, output
    assert (out / "mem" / "model.pt").exists()
