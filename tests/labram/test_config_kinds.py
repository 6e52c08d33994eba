"""Every config refuses a value of the wrong kind, and every entry function a config it cannot
read, as the command line does (eegprep/base/validation.py ``check_kinds``,
labram/train/stage_checks.py ``check_scoring_config``).

Before: ``TrainConfig(amp=float("nan"))``, ``IngestConfig(progress="no")``,
``Recipe(notch="no")`` and ``EmbedConfig(per_patch=-1)`` were built (each taken as true, where
``--set amp=nan`` is refused); ``evaluate(..., cfg=train_config("pretrain"))`` and a config
setting ``token_budget`` for TUAB (whose windows are fixed) were taken unread, and
``embed(..., cfg=TrainConfig())`` read a training config as its own.
"""

from __future__ import annotations

import dataclasses
import re
import typing
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from eegprep.base.errors import ConfigError, UsageError
from eegprep.ingestion.options import IngestConfig
from eegprep.pipeline.recipe import Recipe
from labram.data.windows import WindowConfig
from labram.model.config import ModelConfig, TokenizerConfig
from labram.stages.embed import EmbedConfig
from labram.train.config import TrainConfig, train_config

CONFIGS: list[type] = [TrainConfig, WindowConfig, EmbedConfig, Recipe, IngestConfig,
                       ModelConfig, TokenizerConfig]  # fmt: skip


def _flags() -> list[tuple[type, str]]:
    return [
        (cls, f.name)
        for cls in CONFIGS
        for f in dataclasses.fields(cls)
        if typing.get_type_hints(cls)[f.name] is bool
    ]


@pytest.mark.parametrize("value", [float("nan"), -1, "no", [True]])
@pytest.mark.parametrize(("cls", "name"), _flags(), ids=lambda x: getattr(x, "__name__", x))
def test_a_flag_that_is_no_bool_is_refused(cls: type, name: str, value: Any) -> None:
    says = f"Invalid value for `{name}`: expected true or false; got "
    with pytest.raises(UsageError, match=f"^{re.escape(says)}") as err:
        cls(**{name: value})
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(("cls", "name"), _flags(), ids=lambda x: getattr(x, "__name__", x))
def test_a_numpy_bool_is_taken_as_a_plain_one(cls: type, name: str) -> None:
    cfg = cls(**{name: np.bool_(False)})
    assert getattr(cfg, name) is False


def test_text_and_names_of_the_wrong_kind_are_refused() -> None:
    with pytest.raises(UsageError, match=r"^Invalid value for `task`: expected text or none"):
        EmbedConfig(task=3)  # type: ignore[arg-type]
    with pytest.raises(UsageError, match=r"^Invalid value for `include`: expected a list of "):
        IngestConfig(include=("*.edf", 3))  # type: ignore[arg-type]
    with pytest.raises(UsageError, match=r"^Invalid value for `recipe`: expected Recipe; got"):
        IngestConfig(recipe={"sfreq": 200})  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"^Invalid value for `exclude_splits`: expected a "):
        WindowConfig(exclude_splits="test")  # type: ignore[arg-type]
    assert IngestConfig(include=["*.edf"]).include == ["*.edf"]  # type: ignore[arg-type]


def _evaluate(cfg: Any, task: str, tmp_path: Path) -> None:
    from labram.stages.evaluate import evaluate

    evaluate([str(tmp_path / "none.zarr")], task, tmp_path / "absent.pt", cfg=cfg)


@pytest.mark.parametrize(
    ("cfg", "task", "says"),
    [
        (train_config("pretrain", "tiny"), "tuab",
         r"^TrainConfig stage=pretrain: evaluate cuts a task's windows as the fine-tuning stage"),
        (train_config("tokenizer", "tiny"), "label:x", r"^TrainConfig stage=tokenizer: evaluate"),
        (train_config("finetune", "tiny", token_budget=40), "tuab",
         r"^TrainConfig token_budget=40: finetune of task tuab does not read `token_budget`"),
        ({"split_seed": 3}, "tuab", r"^evaluate cfg: a dict, not a TrainConfig; build it with"),
    ],
)  # fmt: skip
def test_evaluate_refuses_a_config_it_cannot_read(
    cfg: Any, task: str, says: str, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError, match=says) as err:
        _evaluate(cfg, task, tmp_path)
    assert "\n" not in str(err.value)


def test_evaluate_takes_a_finetune_config_the_task_reads(tmp_path: Path) -> None:
    """The check passes it: what fails next is the absent checkpoint, not the config."""
    with pytest.raises(Exception) as err:
        _evaluate(train_config("finetune", "tiny", split_seed=4), "tuab", tmp_path)
    assert not isinstance(err.value, ConfigError)
    assert "absent.pt" in str(err.value)


def test_embed_refuses_a_config_of_another_class(tmp_path: Path) -> None:
    from labram.stages.embed import embed

    with pytest.raises(UsageError, match=r"^embed cfg: a TrainConfig, not an EmbedConfig$"):
        embed([], tmp_path / "absent.pt", tmp_path / "out", cfg=TrainConfig())  # type: ignore[arg-type]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("kw", "says"),
    [({"recipe": {"sfreq": 200}}, r"^predict_files recipe: a dict, not a Recipe$"),
     ({"mains": float("nan")}, r"^Invalid value for `mains`: expected 50 or 60 \(Hz\); got nan"),
     ({"mains": 55}, r"^Invalid value for `mains`: expected 50 or 60 \(Hz\); got 55")],
)  # fmt: skip
def test_predict_files_refuses_a_recipe_or_mains_before_reading_the_model(
    kw: dict[str, Any], says: str, tmp_path: Path
) -> None:
    """Before: the checkpoint was read first (a missing one said so), and a recipe of another
    class failed every file, one ``skipped:`` line each."""
    from labram.stages.predict import predict_files

    with pytest.raises(UsageError, match=says):
        predict_files([str(tmp_path / "a.edf")], tmp_path / "absent.pt", **kw)
