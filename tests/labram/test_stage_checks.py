"""The entry functions refuse what the command line refuses (labram/train/stage_checks.py).

Before: ``finetune(stores, "tuab", train_config("finetune", token_budget=40), out)`` trained as
if the field were not set (``labram finetune --task tuab --set token_budget=40`` is refused), a
tokenizer config with ``drop_path``, a fine-tuning config handed to ``train_tokenizer``, a
``tokenizer_cfg`` given with a trained ``tokenizer``, ``split_seed`` with ``splits_file`` each
trained without a word; a warm-up as long as the run was a warning from the command line
only (the rate never reached its cosine); ``lr=1e-30``, ``grad_clip=1e-20`` and
``layer_decay=1e-30`` were taken (nothing trained, or every step shrank to ~1e-12 of the rate,
or all but the head froze).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cli import labram_cli
from eegprep.base.errors import ConfigError
from labram.data.protocols import Protocol
from labram.train.config import RECIPES, SIZES, STAGES, TrainConfig, train_config


def _finetune(task: str, cfg: TrainConfig, **kw: Any) -> Callable[[Path], Any]:
    from labram.stages.finetune import finetune

    return lambda out: finetune([], task, cfg, out, **kw)


def _tokenizer(cfg: TrainConfig) -> Callable[[Path], Any]:
    from labram.stages.train_tokenizer import train_tokenizer

    return lambda out: train_tokenizer([], cfg, out)


def _pretrain(mem: TrainConfig, **kw: Any) -> Callable[[Path], Any]:
    from labram.stages.pretrain import pretrain

    return lambda out: pretrain([], mem, out, **kw)


def _preset(stage: str) -> Callable[..., TrainConfig]:
    return lambda **kw: train_config(stage, "tiny", **kw)


TOK, MEM, FT = _preset("tokenizer"), _preset("pretrain"), _preset("finetune")

BAD: list[tuple[str, Callable[[Path], Any], str]] = [
    ("unread token_budget", _finetune("tuab", FT(token_budget=40)),
     r"^TrainConfig token_budget=40: finetune of task tuab does not read `token_budget` \(its "
     r"windows are 10 s, fixed by the task\)"),
    ("unread max_channels", _finetune("tuev", FT(max_channels=8)),
     r"^TrainConfig max_channels=8: finetune of task tuev does not read"),
    ("unread edge_events", _finetune("tuab", FT(edge_events="wrap")),
     r"^TrainConfig edge_events=wrap: .* \(it cuts no window around an event\)"),
    ("unread label_smoothing", _finetune("mobi", FT(label_smoothing=0.2)),
     r"^TrainConfig label_smoothing=0.2: finetune of task mobi does not read"),
    ("a tokenizer field", _finetune("label:x", FT(dead_after=5)),
     r"^TrainConfig dead_after=5: finetune \(the fine-tuning stage\) does not read `dead_after` "
     r"\(a setting of the tokenizer stage\).* leave it at the preset's none$"),
    ("linear probe", _finetune("tuab", FT(layer_decay=0.8), protocol=Protocol(name="linear-probe")),
     r"^TrainConfig layer_decay=0.8: finetune of task tuab, protocol linear-probe does not read"),
    ("init with a file", _finetune("tuab", FT(init="original"), init="w.pt"),
     r"^TrainConfig init=original: .* \(its weights come from init=w.pt"),
    ("split field with a file", _finetune("tuab", FT(val_split="subject"), splits_file="s.json"),
     r"^TrainConfig val_split=subject: .* come from splits_file=s.json\)"),
    ("split seed with a file", _finetune("tuab", FT(), split_seed=3, splits_file="s.json"),
     r"^split_seed 3: finetune with splits_file=s.json cuts no fold"),
    ("another stage's config", _finetune("tuab", MEM()),
     r"^TrainConfig stage=pretrain: finetune trains the fine-tuning stage"),
    ("a backbone field", _tokenizer(TOK(drop_path=0.2)),
     r"^TrainConfig drop_path=0.2: train_tokenizer \(the tokenizer stage\) does not read .*"
     r"fine-tuning stages\)"),
    ("a config of fine-tuning", _tokenizer(FT()),
     r"^TrainConfig stage=finetune: train_tokenizer trains the tokenizer stage"),
    ("a tokenizer field on masked modelling", _pretrain(MEM(revive_dead_codes=False),
                                                        tokenizer_cfg=TOK()),
     r"^TrainConfig revive_dead_codes=false: pretrain \(the masked-modelling"),
    ("the tokenizer stage's config", _pretrain(MEM(), tokenizer_cfg=TOK(layer_decay=0.5)),
     r"^TrainConfig layer_decay=0.5: train_tokenizer \(the tokenizer stage\)"),
    ("a tokenizer config beside a tokenizer", _pretrain(MEM(), tokenizer_cfg=TOK(),
                                                        tokenizer="tok.pt"),
     r"^pretrain with tokenizer=tok.pt trains no tokenizer stage, so tokenizer_cfg"),
    ("a peak below the floor", _tokenizer(TOK(lr=1e-8, lr_batch=2**20, min_lr=0)),
     r"^the peak learning rate 1.52588e-13 \(lr 1e-08 x global batch / lr_batch\) \(tokenizer "
     r"stage\) is not a number in \[1e-08, 10\]: raise lr or lower lr_batch$"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "call", "says"), BAD, ids=[b[0] for b in BAD])
def test_an_entry_function_refuses_it_before_its_folder(
    name: str, call: Callable[[Path], Any], says: str, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError, match=says):
        call(tmp_path / "run")
    assert not list(tmp_path.iterdir())  # nothing written


@pytest.mark.parametrize(
    ("field", "value", "bound"),
    [("lr", 1e-30, "[1e-08, 10]"), ("lr", 5e-9, "[1e-08, 10]"),
     ("grad_clip", 1e-20, "[0.001, 1,000,000]"), ("layer_decay", 1e-30, "[0.1, 1]")],
)  # fmt: skip
def test_an_absurdly_small_rate_clip_or_decay_is_refused(
    field: str, value: float, bound: str
) -> None:
    says = f"Invalid value for `{field}`: expected a number in {bound}; got {value:g}"
    with pytest.raises(ConfigError, match=f"^{re.escape(says)}"):
        TrainConfig(**{field: value})


def test_the_recipes_values_sit_well_inside_the_new_floors() -> None:
    """Every preset of every stage, size and recipe passes, its peak at 1 to 64 processes."""
    from labram.train.stage_checks import check_stage_config, given_fields

    for stage in STAGES:
        for size in SIZES:
            for recipe in RECIPES:
                cfg = train_config(stage, size, recipe=recipe)
                assert given_fields(cfg) == []
                check_stage_config(cfg, stage)
                for world in (1, 64):
                    assert cfg.peak_lr(world) >= 10 * 1e-8
                assert cfg.grad_clip is None or cfg.grad_clip >= 100 * 1e-3
                assert cfg.layer_decay >= 5 * 0.1


def test_what_a_stage_reads_is_taken() -> None:
    """A field set that the task reads, and a config built without the preset (its own
    defaults: nothing set), pass the checks."""
    from labram.train.stage_checks import check_stage_config, given_fields

    check_stage_config(FT(token_budget=40, max_channels=8), "finetune", task_name="label:x")
    check_stage_config(FT(edge_events="wrap"), "finetune", task_name="tuev")
    check_stage_config(TrainConfig(stage="finetune", size="tiny"), "finetune",
                       task_name="tuab", protocol="linear-probe")  # fmt: skip
    check_stage_config(FT(split_seed=4), "finetune", task_name="tuab")
    check_stage_config(TOK(dead_after=3, stride_seconds=1.0), "tokenizer")
    check_stage_config(FT(epochs=2, warmup_epochs=1.5), "finetune", task_name="tuab")
    assert given_fields(FT(token_budget=40, lr=1e-3)) == ["token_budget"]  # (lr: the preset's)


def test_a_setting_made_a_no_op_is_a_warning_from_python_too() -> None:
    from labram.train.stage_checks import check_stage_config

    cfg = FT(layer_decay=1.0, time_embed_layer="top")
    with pytest.warns(UserWarning, match=r"^time_embed_layer top has no effect with layer_decay"):
        check_stage_config(cfg, "finetune", task_name="tuab")
    with warnings.catch_warnings():  # (the command line warned of its own items already)
        warnings.simplefilter("error")
        check_stage_config(cfg, "finetune", task_name="tuab", checked=True)


def _cli_error(*args: str, tmp_path: Path) -> str:
    line = [*args, "--store", str(tmp_path / "none.zarr"), "--size", "tiny", "--out",
            str(tmp_path / "run")]  # fmt: skip
    res = CliRunner().invoke(labram_cli, line)
    errors = [x for x in res.output.splitlines() if x.startswith("error: ")]
    assert res.exit_code == 2 and len(errors) == 1, res.output
    return errors[0].removeprefix("error: ")


def test_the_command_line_says_the_same(tmp_path: Path) -> None:
    """One rule each: the command line's line and the Python call's message are the same."""
    cli = _cli_error("finetune", "--task", "tuab", "--lr", "1e-3", "--set", "min_lr=1e-2",
                     tmp_path=tmp_path)  # fmt: skip
    with pytest.raises(ConfigError) as api:
        _finetune("tuab", FT(lr=1e-3, min_lr=1e-2))(tmp_path / "run")
    assert cli == str(api.value)
    cli = _cli_error("tokenizer", "--lr", "1e-8", "--set", "lr_batch=1048576", "--set",
                     "min_lr=0", tmp_path=tmp_path)  # fmt: skip
    with pytest.raises(ConfigError) as api:
        _tokenizer(TOK(lr=1e-8, lr_batch=2**20, min_lr=0))(tmp_path / "run")
    assert cli == str(api.value)
    cli = _cli_error("finetune", "--task", "tuab", "--set", "grad_clip=1e-20", tmp_path=tmp_path)
    with pytest.raises(ConfigError) as api:
        FT(grad_clip=1e-20)
    assert cli == f"--set grad_clip=1e-20: {api.value}"
    assert not (tmp_path / "run").exists()


LONG_WARMUPS = [("finetune", FT(epochs=2, warmup_epochs=2)),
                ("tokenizer", TOK(epochs=3, warmup_epochs=7.5))]  # fmt: skip


@pytest.mark.parametrize(("stage", "cfg"), LONG_WARMUPS)
def test_a_warm_up_as_long_as_the_run_is_a_warning_from_python_too(
    stage: str, cfg: TrainConfig
) -> None:
    """The command line's warning (tests/labram/test_set_conflicts.py), from the entry
    functions' check; not a refusal (a trial run of one epoch is meant so), and not said twice
    where the command line built the config (``checked``)."""
    from labram.train.stage_checks import check_stage_config

    task = "tuab" if stage == "finetune" else None
    with pytest.warns(UserWarning, match=rf"^warmup_epochs {cfg.warmup_epochs:g} is not below "):
        check_stage_config(cfg, stage, task_name=task)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_stage_config(cfg, stage, task_name=task, checked=True)
