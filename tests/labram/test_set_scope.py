"""A --set item that no stage of the command reads is refused, naming it and what is read.

Before: ``labram finetune --set tokenizer.lr=1e-4``, ``labram tokenizer --set mem.lr=1e-3``,
``labram finetune --set dead_after=5`` and ``labram pretrain --tokenizer FILE --set
tokenizer.lr=...`` (or ``--tokenizer-lr``) trained without a word about the setting, which no
stage read: the user believed it took effect.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cli import labram_cli
from eegprep.base.errors import ConfigError
from labram.train.config import STAGES, TrainConfig, config_from_options, train_config
from labram.train.set_scope import COMMANDS, STAGE_FIELDS, UNCHECKED

ARGS = {"tokenizer": ["tokenizer"], "pretrain": ["pretrain"],
        "finetune": ["finetune", "--task", "tuab"]}  # fmt: skip


def _run(command: str, *args: str, tmp_path: Path) -> tuple[int, list[str]]:
    store = str(tmp_path / "none.zarr")  # (the --set refusal comes first: nothing is opened)
    res = CliRunner().invoke(labram_cli, [*ARGS[command], "--store", store, "--size", "tiny",
                                          "--out", str(tmp_path / "run"), *args])  # fmt: skip
    return res.exit_code, res.output.splitlines()


REFUSED = [  # (command, the --set item, what the line lists)
    ("finetune", "tokenizer.lr=1e-4", "it reads --set FIELD=VALUE or finetune.FIELD=VALUE"),
    ("finetune", "mem.lr=1e-3", "it reads --set FIELD=VALUE or finetune.FIELD=VALUE"),
    ("finetune", "pretrain.epochs=2", "or finetune.FIELD=VALUE"),
    ("finetune", "tokenizer.lrr=1", "or finetune.FIELD=VALUE"),  # (any field of it)
    ("tokenizer", "mem.lr=1e-3", "it reads --set FIELD=VALUE or tokenizer.FIELD=VALUE"),
    ("tokenizer", "pretrain.lr=1e-3", "or tokenizer.FIELD=VALUE"),
    ("tokenizer", "finetune.lr=1e-3", "or tokenizer.FIELD=VALUE"),
    ("pretrain", "finetune.drop_path=0.2", "mem.FIELD=VALUE or pretrain.FIELD=VALUE"),
    ("finetune", "dead_after=5", "it reads amp, batch_size,"),
    ("finetune", "stride_seconds=1", "it reads amp, batch_size,"),
    ("finetune", "corpus_weights={tuh=2.0}", "it reads amp, batch_size,"),
    ("finetune", "finetune.revive_dead_codes=false", "it reads amp, batch_size,"),
    ("tokenizer", "drop_path=0.1", "it reads amp, batch_size,"),
    ("tokenizer", "tokenizer.layer_decay=0.5", "it reads amp, batch_size,"),
    ("tokenizer", "label_smoothing=0.1", "it reads amp, batch_size,"),
    ("pretrain", "split_seed=3", "it reads amp, batch_size,"),
    ("pretrain", "tokenizer.drop_path=0.1", "it reads amp, batch_size,"),
    ("pretrain", "mem.dead_after=4", "it reads amp, batch_size,"),
]


@pytest.mark.parametrize(("command", "item", "lists"), REFUSED)
def test_a_set_no_stage_reads_is_refused_in_one_line(
    command: str, item: str, lists: str, tmp_path: Path
) -> None:
    code, lines = _run(command, "--set", "lr=1e-3", "--set", item, tmp_path=tmp_path)
    errors = [x for x in lines if x.startswith("error: ")]
    assert code == 2 and len(errors) == 1, lines
    assert errors[0].startswith(f"error: --set {item}: "), errors
    assert "would never be read" in errors[0] and lists in errors[0], errors
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["--set", "tokenizer.lr=1e-4"],
        ["--set", "tokenizer.epochs=2"],
        ["--set", "dead_after=3"],  # (a field of the tokenizer stage alone)
        ["--tokenizer-lr", "1e-4"],
        ["--tokenizer-epochs", "2"],
        ["--tokenizer-batch-size", "8"],
        ["--tokenizer-max-steps", "5"],
    ],
)
def test_pretrain_with_a_tokenizer_refuses_the_tokenizer_stages_settings(
    args: list[str], tmp_path: Path
) -> None:
    tok = tmp_path / "tokenizer.pt"
    tok.write_bytes(b"")
    code, lines = _run("pretrain", "--tokenizer", str(tok), *args, tmp_path=tmp_path)
    errors = [x for x in lines if x.startswith("error: ")]
    assert code == 2 and len(errors) == 1, lines
    shown = f"--set {args[1]}" if args[0] == "--set" else args[0]
    assert errors[0].startswith(f"error: {shown}"), errors
    assert "labram pretrain with --tokenizer" in errors[0], errors
    assert "would never be read" in errors[0], errors


def _as_set(value: Any) -> str:
    """A field's value as ``--set`` takes it."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, tuple):
        return "[" + ", ".join(str(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {v}" for k, v in value.items()) + "}"
    return str(value)


def _cases() -> list[tuple[str, str, bool]]:
    """(command, field, whether a stage of the command reads it) for every field."""
    names = [f.name for f in dataclasses.fields(TrainConfig) if f.name not in UNCHECKED]
    out = []
    for command, stages in COMMANDS.items():
        for name in names:
            out.append((command, name, any(name in STAGE_FIELDS[s] for s in stages)))
    return out


@pytest.mark.parametrize(("command", "name", "read"), _cases())
def test_every_field_is_taken_where_read_and_refused_where_not(
    command: str, name: str, read: bool
) -> None:
    """Each field, at the preset's own value, bare and with each stage's prefix."""
    value = _as_set(getattr(train_config(command, "tiny"), name))
    if read:
        config_from_options(command, "tiny", sets=[f"{name}={value}"])
    else:
        with pytest.raises(ConfigError, match=rf"^--set {name}=.*would never be read"):
            config_from_options(command, "tiny", sets=[f"{name}={value}"])
    for prefix, stage in (("tokenizer", "tokenizer"), ("mem", "pretrain"),
                          ("finetune", "finetune")):  # fmt: skip
        item = f"{prefix}.{name}={_as_set(getattr(train_config(stage, 'tiny'), name))}"
        if stage in COMMANDS[command] and name in STAGE_FIELDS[stage]:
            config_from_options(command, "tiny", sets=[item])
        else:
            with pytest.raises(ConfigError, match=r"would never be read"):
                config_from_options(command, "tiny", sets=[item])


def test_every_field_is_classified() -> None:
    """A new TrainConfig field must say which stages read it (else --set refuses nothing)."""
    known = set().union(*STAGE_FIELDS.values()) | UNCHECKED
    assert {f.name for f in dataclasses.fields(TrainConfig)} <= known
    assert set(STAGE_FIELDS) == set(STAGES)


def test_the_settings_a_stage_reads_still_take_effect() -> None:
    sets = ["tokenizer.lr=1e-4", "drop_path=0.2", "dead_after=3", "finetune.lr=2e-3"]
    tok = config_from_options("tokenizer", "tiny", sets=sets[:1], stages=("tokenizer",))
    assert tok.lr == 1e-4
    mem = config_from_options("pretrain", "tiny", sets=sets[:3])
    tok = config_from_options("tokenizer", "tiny", sets=sets[:3], stages=COMMANDS["pretrain"])
    assert (mem.drop_path, tok.lr, tok.dead_after) == (0.2, 1e-4, 3)
    assert config_from_options("finetune", "tiny", sets=sets[3:]).lr == 2e-3


def test_a_bad_value_is_named_before_the_stage_that_reads_it() -> None:
    """(``--set val_split=stratifed`` on the tokenizer: the misspelt value first.)"""
    with pytest.raises(ConfigError, match="Did you mean 'stratified'"):
        config_from_options("tokenizer", "tiny", sets=["val_split=stratifed"])


TASK_REFUSED = [  # (task and protocol args, the --set item, the reason, who reads it)
    (["--task", "tuab"], "token_budget=40", "its windows are 10 s", "--task label:KEY"),
    (["--task", "tuev"], "max_seconds=8", "its windows are 5 s", "--task label:KEY"),
    (["--task", "seed_v"], "finetune.token_budget=64", "its windows are 4 s", "labram pretrain"),
    (["--task", "tuab"], "max_channels=8", "23 protocol channels", "seed_v or mobi or label:KEY"),
    (["--task", "tuev"], "finetune.max_channels=8", "23 protocol channels", "--task seed_v"),
    (["--task", "tuab"], "edge_events=wrap", "no window around an event", "--task tuev"),
    (["--task", "label:cond"], "edge_events=wrap", "no window around an event", "--task tuev"),
    (["--task", "mobi"], "label_smoothing=0.1", "MSE", "--task tuab or tuev or seed_v"),
    (["--task", "tuab", "--protocol", "linear-probe"], "layer_decay=0.5", "head alone",
     "any --protocol but linear-probe"),
    (["--task", "tuev", "--protocol", "linear-probe"], "drop_path=0.2", "head alone",
     "labram pretrain"),
    (["--task", "tuev", "--protocol", "linear-probe"], "time_embed_layer=top", "head alone",
     "labram pretrain"),
]  # fmt: skip


@pytest.mark.parametrize(("task", "item", "why", "readers"), TASK_REFUSED)
def test_a_set_the_task_or_protocol_leaves_unread_is_refused(
    task: list[str], item: str, why: str, readers: str, tmp_path: Path
) -> None:
    """``labram finetune --task tuab --set token_budget=40`` trained without a word: TUAB's
    windows are 10 s of 23 channels, whatever the token budget; so for each field a task or
    protocol leaves unread. The line names the item, the command, why and who reads it."""
    store = str(tmp_path / "none.zarr")
    args = ["finetune", *task, "--store", store, "--size", "tiny", "--out", str(tmp_path / "run")]
    res = CliRunner().invoke(labram_cli, [*args, "--set", item])
    errors = [x for x in res.output.splitlines() if x.startswith("error: ")]
    assert res.exit_code == 2 and len(errors) == 1, res.output
    assert errors[0].startswith(f"error: --set {item}: labram finetune {' '.join(task)} "), errors
    assert why in errors[0] and "would never be read" in errors[0], errors
    assert "it is read by labram " in errors[0] and readers in errors[0], errors
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    ("task", "protocol", "item"),
    [("label:cond", None, "token_budget=40"), ("label:cond", None, "max_seconds=4"),
     ("seed_v", None, "max_channels=8"), ("mobi", None, "finetune.max_channels=8"),
     ("tuev", None, "edge_events=wrap"), ("tuab", None, "label_smoothing=0.1"),
     ("tuab", None, "layer_decay=0.5"), ("tuab", "full", "drop_path=0.2"),
     ("tuev", "cross-subject", "time_embed_layer=top"), ("tuab", None, "block_seconds=4")],
)  # fmt: skip
def test_a_set_the_task_reads_is_taken(task: str, protocol: str | None, item: str) -> None:
    from labram.train.config import set_items
    from labram.train.set_scope import check_finetune_sets

    check_finetune_sets(set_items([item]), task, protocol)


@pytest.mark.parametrize(
    "args",
    [["--set", "split_seed=3"], ["--set", "finetune.val_split=subject"],
     ["--set", "val_rounding=floor"], ["--split-seed", "7"]],
)  # fmt: skip
def test_a_split_setting_with_a_splits_file_is_refused(args: list[str], tmp_path: Path) -> None:
    """With ``--splits FILE`` the folds and their seed come from the file: a split setting (or
    ``--split-seed``) was taken, and the file's seed silently replaced it."""
    splits = tmp_path / "splits.json"
    splits.write_text("{}")  # (the refusal comes before the file is read)
    line = ["finetune", "--task", "tuab", "--store", str(tmp_path / "none.zarr"), "--size",
            "tiny", "--splits", str(splits), "--out", str(tmp_path / "run"), *args]  # fmt: skip
    res = CliRunner().invoke(labram_cli, line)
    errors = [x for x in res.output.splitlines() if x.startswith("error: ")]
    assert res.exit_code == 2 and len(errors) == 1, res.output
    shown = f"--set {args[1]}" if args[0] == "--set" else " ".join(args)
    assert errors[0].startswith(f"error: {shown}: labram finetune --splits {splits}"), errors
    assert "come from that file" in errors[0], errors
    assert not (tmp_path / "run").exists()


def test_split_settings_without_a_splits_file_are_taken() -> None:
    from labram.train.config import set_items
    from labram.train.set_scope import check_finetune_sets

    check_finetune_sets(set_items(["split_seed=3", "val_split=subject"]), "tuab", None)
