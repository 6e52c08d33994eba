"""``init = "original"`` reaches fine-tuning from scratch; with ``--init`` a --set of it is
refused.

Before: fine-tuning never applied the authors' initialisation (docs/model.md, Recipes, row 6:
"tokenizer and classifier"), so ``labram finetune --recipe original`` (or ``--set
init=original``) without ``--init`` trained a classifier initialised as ours, without a word.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import labram.stages.finetune as F
from labram.commands import labram_cli
from labram.model.classifier import LaBraMClassifier

ARGS = ["--task", "tuab", "--size", "tiny", "--max-steps", "1", "--batch-size", "4",
        "--device", "cpu"]  # fmt: skip


def _initialised(
    tuab: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *more: str
) -> list[Any]:
    """The models fine-tuning gave the authors' initialisation, in a run with ``more``."""
    done: list[Any] = []

    def recorded(model: Any) -> Any:
        done.append(model)
        return original(model)

    original = F.original_init
    monkeypatch.setattr(F, "original_init", recorded)
    args = ["finetune", "--store", tuab, *ARGS, "--out", str(tmp_path / "ft"), *more]
    res = CliRunner().invoke(labram_cli, args)
    assert res.exit_code == 0, res.output
    return done


@pytest.mark.parametrize("how", [["--recipe", "original"], ["--set", "init=original"],
                                 ["--set", "finetune.init=original"]])  # fmt: skip
def test_a_classifier_from_scratch_gets_the_original_initialisation(
    tuab: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: list[str]
) -> None:
    done = _initialised(tuab, tmp_path, monkeypatch, *how)
    assert len(done) == 1 and isinstance(done[0], LaBraMClassifier), done


def test_our_recipe_keeps_our_initialisation(
    tuab: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _initialised(tuab, tmp_path, monkeypatch) == []


def test_a_set_init_with_an_init_file_is_refused(tmp_path: Path) -> None:
    weights = tmp_path / "model.pt"
    weights.write_bytes(b"")
    for key in ("init", "finetune.init"):
        args = ["finetune", "--store", str(tmp_path / "none.zarr"), *ARGS, "--init", str(weights),
                "--set", f"{key}=original", "--out", str(tmp_path / "run")]  # fmt: skip
        res = CliRunner().invoke(labram_cli, args)
        lines = res.output.splitlines()
        assert res.exit_code == 2 and len(lines) == 1, lines
        assert lines[0].startswith(f"error: --set {key}=original: labram finetune with --init ")
        assert "would never be read" in lines[0] and not (tmp_path / "run").exists()
