"""A setting another setting's value makes a no-op is a warning, once, naming both.

Before: ``--set time_embed_layer=top`` with ``layer_decay`` 1.0 (pre-training's preset, or
``--set layer_decay=1`` on fine-tuning) and ``--set dead_after=5`` with ``revive_dead_codes``
false were taken without a word, and changed nothing.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import labram_cli
from labram.train.config import config_from_options


def _warned(stage: str, sets: list[str], **kw: object) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        config_from_options(stage, "tiny", sets=sets, **kw)  # type: ignore[arg-type]
    return [str(w.message) for w in caught]


@pytest.mark.parametrize(
    ("stage", "sets", "both"),
    [("finetune", ["time_embed_layer=top", "layer_decay=1"], ("time_embed_layer top",
                                                             "layer_decay 1.0")),
     ("finetune", ["finetune.time_embed_layer=embeddings", "finetune.layer_decay=1.0"],
      ("time_embed_layer embeddings", "layer_decay 1.0")),
     ("pretrain", ["time_embed_layer=top"], ("time_embed_layer top", "layer_decay 1.0")),
     ("tokenizer", ["dead_after=5", "revive_dead_codes=false"],
      ("dead_after 5", "revive_dead_codes false"))],
)  # fmt: skip
def test_a_setting_made_a_no_op_is_warned_naming_both(
    stage: str, sets: list[str], both: tuple[str, str]
) -> None:
    lines = _warned(stage, sets)
    assert len(lines) == 1 and "\n" not in lines[0], lines
    assert all(word in lines[0] for word in both) and "has no effect" in lines[0], lines


@pytest.mark.parametrize(
    ("stage", "sets", "kw"),
    [("finetune", ["time_embed_layer=top"], {}),  # (layer_decay 0.65: it takes effect)
     ("finetune", ["layer_decay=1"], {}),  # (time_embed_layer the preset's)
     ("pretrain", ["layer_decay=1"], {"recipe": "original"}),  # (the recipe's "top")
     ("tokenizer", ["dead_after=5"], {}),
     ("tokenizer", ["revive_dead_codes=false"], {}),
     ("tokenizer", ["time_embed_layer=top", "dead_after=3"],
      {"stages": ("tokenizer", "pretrain")})],  # (the tokenizer stage reads no time table)
)  # fmt: skip
def test_no_warning_where_the_setting_takes_effect_or_was_not_given(
    stage: str, sets: list[str], kw: dict[str, object]
) -> None:
    assert _warned(stage, sets, **kw) == []


def test_the_command_line_says_it_once(tmp_path: Path) -> None:
    args = ["pretrain", "--store", str(tmp_path / "none.zarr"), "--size", "tiny", "--out",
            str(tmp_path / "run"), "--set", "time_embed_layer=top"]  # fmt: skip
    res = CliRunner().invoke(labram_cli, args)
    said = [x for x in res.output.splitlines() if "has no effect" in x]
    assert len(said) == 1 and said[0].startswith("warning: time_embed_layer top"), res.output
