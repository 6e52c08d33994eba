"""A field given twice on one training command line, and float fields of absurd size.

Before: ``--set lr=1e-3 --lr 5e-4`` trained at 5e-4 without a word (the flag wins, as
docs/training.md says, but the --set value was dropped silently), and so did the first of two
``--set lr=...``; ``--set warmup_epochs=1e23`` and ``--set grad_clip=1e300`` were accepted
(1e300 warm-up epochs overflowed the warm-up's step count: an internal error), and a warm-up
as long as the run was never mentioned (now a warning, above and at the run's epochs).
"""

from __future__ import annotations

import dataclasses
import typing
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import labram_cli
from eegprep.base.errors import ConfigError
from labram.train.config import STAGE_FLAGS, TrainConfig, config_from_options

FLAGS = [  # (flag, its value, the field, the --set value)
    ("--lr", "5e-4", "lr", "1e-3"),
    ("--batch-size", "8", "batch_size", "16"),
    ("--epochs", "3", "epochs", "4"),
    ("--max-steps", "7", "max_steps", "9"),
    ("--seed", "2", "seed", "1"),
    ("--workers", "1", "num_workers", "0"),
    ("--ckpt-every", "5", "ckpt_every", "6"),
    ("--deterministic", None, "deterministic", "false"),
]
COMMANDS = {
    "tokenizer": ["tokenizer"],
    "pretrain": ["pretrain"],
    "finetune": ["finetune", "--task", "tuab"],
}


def _run(command: str, *args: str, tmp_path: Path) -> tuple[int, list[str]]:
    store = str(tmp_path / "none.zarr")  # (refused after the config is built: nothing runs)
    res = CliRunner().invoke(labram_cli, [*COMMANDS[command], "--store", store, "--size", "tiny",
                                          "--out", str(tmp_path / "run"), *args])  # fmt: skip
    return res.exit_code, res.output.splitlines()


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize(("flag", "value", "field", "set_value"), FLAGS)
def test_a_flag_over_a_set_of_its_field_is_a_warning_naming_both(
    command: str, flag: str, value: str | None, field: str, set_value: str, tmp_path: Path
) -> None:
    given = [flag] if value is None else [flag, value]
    code, lines = _run(command, "--set", f"{field}={set_value}", *given, tmp_path=tmp_path)
    warned = [x for x in lines if x.startswith("warning: ") and "overrides --set" in x]
    stages = 2 if command == "pretrain" and field not in STAGE_FLAGS else 1  # (one a stage)
    assert len(warned) == stages, lines
    assert warned[0].startswith(f"warning: {flag} ") and f"--set {field}=" in warned[0], warned
    assert code == 2 and not (tmp_path / "run").exists()  # (the missing store, as before)


@pytest.mark.parametrize(("flag", "value", "field", "set_value"), FLAGS[:4])
def test_pretrains_tokenizer_flags_name_themselves(
    flag: str, value: str, field: str, set_value: str, tmp_path: Path
) -> None:
    own = flag.replace("--", "--tokenizer-")
    _, lines = _run("pretrain", "--set", f"tokenizer.{field}={set_value}", own, value,
                    tmp_path=tmp_path)  # fmt: skip
    warned = [x for x in lines if "overrides --set" in x]
    assert len(warned) == 1 and warned[0].startswith(f"warning: {own} "), lines
    assert "(tokenizer stage)" in warned[0], warned


def test_the_flag_wins_and_the_same_value_twice_says_nothing() -> None:
    with pytest.warns(UserWarning, match=r"--lr 0.0005 overrides --set lr=1e-3 "):
        cfg = config_from_options("finetune", "tiny", sets=["lr=1e-3"], flags={"lr": 5e-4})
    assert cfg.lr == 5e-4
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        config_from_options("finetune", "tiny", sets=["lr=5e-4"], flags={"lr": 5e-4})


def test_a_repeated_set_is_a_warning(tmp_path: Path) -> None:
    _, lines = _run("finetune", "--set", "lr=1e-3", "--set", "lr=2e-3", tmp_path=tmp_path)
    warned = [x for x in lines if "overrides an earlier --set" in x]
    assert warned == [
        "warning: --set lr=2e-3 overrides an earlier --set lr=1e-3: the last wins; give one of "
        "the two"
    ], lines


@pytest.mark.parametrize("warmup", ["4", "2"])
def test_a_warm_up_as_long_as_the_run_is_a_warning(warmup: str, tmp_path: Path) -> None:
    """It was a warning above epochs and nothing at them: the rate climbs all run long and never
    follows its cosine (labram/train/schedule_bounds.py; tests/labram/test_stage_checks.py for the
    entry functions). A warning, not a refusal: a trial run of one epoch is meant so."""
    _, lines = _run("finetune", "--set", f"warmup_epochs={warmup}", "--epochs", "2",
                    tmp_path=tmp_path)  # fmt: skip
    warned = [x for x in lines if "warmup_epochs" in x]
    assert warned == [x for x in warned if x.startswith("warning: ")] and len(warned) == 1, lines
    assert warned[0].startswith(f"warning: warmup_epochs {warmup} is not below epochs 2 "), lines
    assert not any(x.startswith("error: warmup") for x in lines), lines
    _, lines = _run("finetune", "--set", "warmup_epochs=1.5", "--epochs", "2",
                    tmp_path=tmp_path)  # fmt: skip
    assert not any("warmup_epochs" in x for x in lines), lines


def _float_fields() -> list[str]:
    """Every field of TrainConfig holding floats (a float, an optional one, a tuple or a
    table of them)."""
    hints = typing.get_type_hints(TrainConfig)
    return [f.name for f in dataclasses.fields(TrainConfig) if "float" in str(hints[f.name])]


def _absurd(name: str, value: float) -> object:
    default = getattr(TrainConfig(), name)
    if isinstance(default, tuple):
        return (value,) * len(default)
    if isinstance(default, dict):
        return {"tuh": value}
    return value


@pytest.mark.parametrize("name", _float_fields())
def test_every_float_field_refuses_an_absurd_value(name: str) -> None:
    """1e23 (and 1e300) of any float field is one line naming it and its range."""
    for value in (1e23, 1e300):
        with pytest.raises(ConfigError, match=rf"`{name}(\[\w+\])?`"):
            TrainConfig(**{name: _absurd(name, value)})


def test_warmup_epochs_is_still_a_number_of_epochs() -> None:
    assert TrainConfig(warmup_epochs=0).warmup_epochs == 0
    assert TrainConfig(warmup_epochs=2.5, epochs=3).warmup_epochs == 2.5
    assert TrainConfig(grad_clip=1e6).grad_clip == 1e6


SET_FORMS = [  # (command, the --set key as written, the flag over it)
    ("finetune", "lr", "--lr"),
    ("tokenizer", "lr", "--lr"),
    ("pretrain", "mem.lr", "--lr"),
    ("pretrain", "pretrain.lr", "--lr"),
    ("pretrain", "tokenizer.lr", "--tokenizer-lr"),
]


@pytest.mark.parametrize(("command", "key", "flag"), SET_FORMS)
def test_a_flag_over_a_set_names_the_set_as_written(
    command: str, key: str, flag: str, tmp_path: Path
) -> None:
    """Before: ``--set mem.lr=1e-3 --lr 5e-4`` warned of ``--set lr=0.001``, a key and a value
    the user had not written."""
    _, lines = _run(command, "--set", f" {key} = 1e-3", flag, "5e-4", tmp_path=tmp_path)
    warned = [x for x in lines if "overrides --set" in x]
    assert warned and all(f"overrides --set {key}=1e-3 (" in x for x in warned), lines


def test_two_prefixes_of_one_stage_are_one_field_and_the_last_wins(tmp_path: Path) -> None:
    """Before: ``mem.lr`` and ``pretrain.lr`` (one field of one stage) were two keys: no
    warning, and of ``mem.lr=1e-3 pretrain.lr=2e-3 mem.lr=3e-3`` the middle one won."""
    sets = ["--set", "mem.lr=1e-3", "--set", "pretrain.lr=2e-3", "--set", "mem.lr=3e-3"]
    _, lines = _run("pretrain", *sets, tmp_path=tmp_path)
    assert [x for x in lines if "overrides an earlier" in x] == [
        "warning: --set pretrain.lr=2e-3 overrides an earlier --set mem.lr=1e-3: the last wins; "
        "give one of the two",
        "warning: --set mem.lr=3e-3 overrides an earlier --set pretrain.lr=2e-3: the last wins; "
        "give one of the two",
    ], lines
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cfg = config_from_options("pretrain", "tiny", sets=sets[1::2])
    assert cfg.lr == 3e-3
    assert config_from_options("pretrain", "tiny", sets=["mem.lr=1e-3", "lr=2e-3"]).lr == 1e-3


REFUSED = [  # (the --set value, what the refusal says after naming it)
    ("lr=fast", "Invalid value for `lr`: expected a number; got 'fast'"),
    ("lr=-1", "Invalid value for `lr`: expected a number in [1e-08, 10]"),
    ("lrr=1e-3", "unknown config field 'lrr'. Did you mean 'lr'?"),
    ("size=base", "`size` chooses the preset"),
    ("corpus_weights={tuh=-1}", "Invalid value for `corpus_weights[tuh]`"),
    ("betas=[0.9]", "Invalid value for `betas`: expected a list of 2 numbers"),
]


@pytest.mark.parametrize("prefix", ["", "mem.", "pretrain."])
@pytest.mark.parametrize(("item", "says"), REFUSED)
def test_a_refused_set_value_is_named_as_written(prefix: str, item: str, says: str) -> None:
    """Before: ``--set mem.lr=fast`` was refused as ``Invalid value for `lr```, which did not
    say which of the command's --set items (or its config file) held it."""
    with pytest.raises(ConfigError) as caught:
        config_from_options("pretrain", "tiny", sets=["epochs=2", f"{prefix}{item}"])
    assert str(caught.value).startswith(f"--set {prefix}{item}: {says}"), caught.value
