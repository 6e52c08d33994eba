"""Configs recorded by earlier versions, read under the one bounds table (eegprep/base/bounds.py).

The table made configs refuse, when built, numbers that earlier versions took (a
``batch_size`` of 100,000, a ``dead_after`` of 2**25). A checkpoint or
``config.json`` recording one must be refused in the existing one line naming the key path
(``train_config.batch_size``), never a traceback; one recording what every preset and default
gives, or an older form of it, must still read.
"""

from __future__ import annotations

from typing import Any

import pytest

from eegprep.base.bounds import BOUNDS
from eegprep.base.errors import UsageError
from eegprep.base.limits import Limits
from eegprep.ingestion.options import IngestConfig
from eegprep.pipeline.recipe import Recipe
from labram.data.windows import WINDOW_NUMBERS, saved_windows
from labram.model.config import MODEL_PRESETS, TOKENIZER_PRESETS, ModelConfig, TokenizerConfig
from labram.stages.embed import EmbedConfig
from labram.stages.scoring import run_config
from labram.train.config import NUMBERS, RECIPES, SIZES, STAGES, TrainConfig, train_config


def _beyond(name: str) -> Any:
    """A number above the field's top (what an older version could record)."""
    bound = BOUNDS[name]
    return int(bound.high) * 2 + 1 if bound.whole else bound.high * 2 + 1


FIELDS = sorted({*NUMBERS, *WINDOW_NUMBERS})
GOOD = train_config("finetune", "tiny").to_dict()


@pytest.mark.parametrize("field", FIELDS)
def test_a_recorded_number_out_of_range_is_one_line_naming_its_key_path(field: str) -> None:
    saved = {**GOOD, field: _beyond(field)}
    with pytest.raises(UsageError) as err:
        run_config("best.pt", {"train_config": saved})
    line = str(err.value)
    assert "\n" not in line and "Traceback" not in line, line
    assert f"config is not valid (`train_config.{field}`: Invalid value for `{field}`" in line
    assert BOUNDS[field].words() in line, line


@pytest.mark.parametrize("field", WINDOW_NUMBERS)
def test_recorded_window_settings_out_of_range_name_their_key_path(field: str) -> None:
    for obj, key in (
        ({"train_config": {**GOOD, field: _beyond(field)}}, "train_config"),
        ({"format": "labram-train", "config": {**GOOD, field: _beyond(field)}}, "config"),
    ):
        with pytest.raises(UsageError, match=rf"not valid \(`{key}\.{field}`: Invalid value"):
            saved_windows(obj, "best.pt")


@pytest.mark.parametrize(("field", "value"), [("batch_size", 100_000), ("dead_after", 2**25)])
def test_numbers_earlier_versions_took_are_refused_by_key_path(field: str, value: int) -> None:
    """Each was taken by the version before the table (its top was 2**31 - 1)."""
    with pytest.raises(UsageError, match=rf"\(`train_config\.{field}`: Invalid value for"):
        run_config("best.pt", {"train_config": {**GOOD, field: value}})


@pytest.mark.parametrize("recipe", RECIPES)
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("stage", STAGES)
def test_every_preset_builds_and_reads_back(stage: str, size: str, recipe: str) -> None:
    cfg = train_config(stage, size, recipe=recipe)
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg
    assert run_config("best.pt", {"train_config": cfg.to_dict()}) == cfg


def test_an_older_form_of_the_config_still_reads() -> None:
    """Form 1 (no ``config_format``): ``grad_clip`` and ``label_smoothing`` 0 meant unset."""
    old = {k: v for k, v in GOOD.items() if k != "config_format"}
    cfg = run_config("best.pt", {"train_config": {**old, "grad_clip": 0, "label_smoothing": 0}})
    assert cfg.grad_clip is None and cfg.label_smoothing is None


def test_every_documented_default_and_model_preset_builds() -> None:
    for cfg in (Recipe(), Limits(), IngestConfig(), EmbedConfig(), TrainConfig()):
        assert cfg is not None
    for preset in MODEL_PRESETS.values():
        assert ModelConfig.from_dict(preset.to_dict()) == preset
    for tok in TOKENIZER_PRESETS.values():
        assert TokenizerConfig.from_dict(tok.to_dict()) == tok
