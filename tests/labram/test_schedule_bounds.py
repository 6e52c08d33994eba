"""The optimiser's numbers are checked against each other, and the peak rate is bounded as lr.

Before: ``--set min_lr=1e-2`` above ``lr`` 1e-3 trained with a rate rising over the run (the
cosine "decayed" upwards); ``weight_decay`` 10 with ``lr`` 0.5 zeroed or flipped every decayed
weight each step (AdamW's ``1 - lr x weight_decay``); ``--lr 5 --set lr_batch=1`` reached a
peak of 80 (``param_groups`` took any peak up to 10^6 while ``lr`` itself stops at 10). Each
trained without a word.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import labram_cli
from eegprep.base.errors import ConfigError, UsageError
from labram.model.classifier import LaBraMClassifier
from labram.model.config import model_config
from labram.train.config import TrainConfig, train_config
from labram.train.optim import param_groups


@pytest.mark.parametrize(
    ("command", "args", "says"),
    [("finetune", ["--set", "min_lr=1e-2"], ("min_lr 0.01 is above the peak learning rate 0.001",
                                            "lower min_lr or raise lr")),
     ("finetune", ["--lr", "0.5", "--set", "weight_decay=10"],
      ("weight_decay 10 times the peak learning rate 0.5 is 5", "below 1")),
     ("tokenizer", ["--set", "lr_batch=1", "--lr", "5"],
      ("the peak learning rate 80 (lr 5 x global batch / lr_batch)", "[1e-08, 10]")),
     ("pretrain", ["--set", "mem.min_lr=5e-3"], ("min_lr 0.005", "pretrain stage")),
     ("pretrain", ["--set", "tokenizer.min_lr=1e-2"], ("min_lr 0.01", "tokenizer stage"))],
)  # fmt: skip
def test_the_command_refuses_a_schedule_that_breaks_the_run(
    command: str, args: list[str], says: tuple[str, ...], tmp_path: Path
) -> None:
    task = ["--task", "tuab"] if command == "finetune" else []
    line = [command, *task, "--store", str(tmp_path / "none.zarr"), "--size", "tiny", "--out",
            str(tmp_path / "run"), *args]  # fmt: skip
    res = CliRunner().invoke(labram_cli, line)
    errors = [x for x in res.output.splitlines() if x.startswith("error: ")]
    assert res.exit_code == 2 and len(errors) == 1, res.output
    assert all(s in errors[0] for s in says), errors
    assert not (tmp_path / "run").exists()


def test_the_entry_functions_refuse_it_before_the_folder(tmp_path: Path) -> None:
    from labram.stages.finetune import finetune
    from labram.stages.pretrain import pretrain
    from labram.stages.train_tokenizer import train_tokenizer

    bad = train_config("finetune", "tiny", lr=1e-4, min_lr=1e-3)
    with pytest.raises(ConfigError, match=r"^min_lr 0\.001 is above the peak learning rate"):
        finetune([], "tuab", bad, tmp_path / "ft")
    tok = train_config("tokenizer", "tiny", weight_decay=10.0, lr=0.2)
    with pytest.raises(UsageError, match=r"^weight_decay 10 times the peak"):
        train_tokenizer([], tok, tmp_path / "tok")
    mem = train_config("pretrain", "tiny", min_lr=0.5)
    with pytest.raises(UsageError, match=r"^min_lr 0\.5 is above"):
        pretrain([], mem, tmp_path / "pt")
    assert not list(tmp_path.iterdir())


def test_param_groups_bounds_the_peak_as_lr() -> None:
    model = LaBraMClassifier(model_config("tiny"), 2)
    for peak in (80.0, 1e5):
        with pytest.raises(UsageError, match=r"`lr`: expected a number in \[1e-08, 10\]"):
            param_groups(model, peak, 0.05)
    assert param_groups(model, 10.0, 0.05)[0]["lr"] <= 10.0


def test_a_clip_of_zero_or_less_and_a_sound_schedule() -> None:
    for clip in (0, -1.0):
        with pytest.raises(ConfigError, match="grad_clip"):
            TrainConfig(grad_clip=clip)
    same = train_config("finetune", "tiny", lr=1e-3, min_lr=1e-3, weight_decay=0.05)
    assert (same.lr, same.min_lr) == (1e-3, 1e-3)
