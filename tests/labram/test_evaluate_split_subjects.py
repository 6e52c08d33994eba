"""``labram evaluate --split val|train`` counts the subjects of the split it scores.

Before: ``--split val`` printed "k of N test subjects were seen in pre-training", the test
split's count, while it scored val, and refused (exit 2) when a test subject had been seen;
the val subjects themselves were never counted. Now the line names the scored split and counts
its subjects, as information for val and train; the test split's refusal is as it was.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from eegprep.base.errors import UsageError
from labram.checkpoints.layouts import save_ours
from labram.commands import labram_cli
from labram.model.config import model_config
from labram.model.mem import LaBraMForMEM
from labram.train import leakage
from labram.train.checkpoint import attach_subjects
from tests.labram.training_stores import write_tuab_like


def test_the_line_names_the_split_and_only_test_is_refused() -> None:
    record = leakage.make_record(["a", "b"])
    for split in ("val", "train"):
        line = leakage.check_test_subjects(record, ["a", "z"], allow=False, source="m.pt",
                                           split=split)  # fmt: skip
        assert line.startswith(f"1 of 2 {split} subjects was seen in pre-training (m.pt)")
        assert "test" not in line.split("(information")[0] and leakage.INFORMATION in line
        line = leakage.check_test_subjects(None, ["a"], allow=False, source="x.pth", split=split)
        assert f"cannot check the 1 {split} subject for leakage" in line
    with pytest.raises(UsageError, match=r"^1 of 2 test subjects was seen"):
        leakage.check_test_subjects(record, ["a", "z"], allow=False, source="m.pt")


@pytest.fixture(scope="module")
def finetuned(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """A TUAB-like store and a fine-tuned ``best.pt`` whose pre-training saw every training
    subject and one of the two test subjects."""
    tmp = tmp_path_factory.mktemp("ev")
    store = write_tuab_like(tmp / "t.zarr", n_train=5, n_eval=2, seconds=20)
    init = tmp / "model.pt"
    save_ours(LaBraMForMEM(model_config("tiny", n_codes=64)), init)
    seen = [f"tuh:t{i:03d}" for i in range(5)] + ["tuh:e000"]
    attach_subjects(init, leakage.make_record(seen))
    args = ["finetune", "--store", store, "--task", "tuab", "--init", str(init), "--size", "tiny",
            "--max-steps", "2", "--batch-size", "4", "--device", "cpu", "--out", str(tmp / "ft"),
            "--allow-seen-subjects"]  # fmt: skip
    res = CliRunner().invoke(labram_cli, args)
    assert res.exit_code == 0, res.output
    return store, tmp / "ft" / "seed0" / "best.pt"


def _evaluate(store: str, best: Path, *more: str) -> tuple[int, str]:
    args = ["evaluate", "--store", store, "--task", "tuab", "--checkpoint", str(best), *more]
    res = CliRunner().invoke(labram_cli, args)
    return res.exit_code, res.output


def test_evaluate_counts_the_scored_splits_subjects(finetuned: tuple[str, Path]) -> None:
    store, best = finetuned
    counts = {}
    for split in ("val", "train"):
        code, out = _evaluate(store, best, "--split", split)
        assert code == 0, out  # (a seen test subject does not stop the scoring of val)
        first = out.splitlines()[0]
        found = re.match(
            rf"(\d+) of (\d+) {split} subjects? (?:was|were) seen in pre-training", first
        )
        assert found and found[1] == found[2], first  # every training subject was seen
        assert "test subjects" not in first and leakage.INFORMATION in first, first
        counts[split] = int(found[2])
    assert counts["val"] >= 1 and counts["val"] + counts["train"] == 5, counts
    code, out = _evaluate(store, best)  # the test split: refused as before
    assert code == 2 and "1 of 2 test subjects was seen in pre-training" in out, out
    code, out = _evaluate(store, best, "--allow-seen-subjects")
    assert code == 0 and out.startswith("1 of 2 test subjects was seen"), out
