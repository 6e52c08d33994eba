"""A stage's config checked as the command line checks it, for a stage driven from Python.

``labram finetune --task tuab --set token_budget=40`` is refused (its windows are fixed by the
task), and so is ``--set min_lr=1e-2`` over ``--lr 1e-3``; ``finetune(stores, "tuab",
train_config("finetune", token_budget=40), out)`` trained without a word, and so did a config
of another stage handed to an entry function. :func:`check_stage_config`, called by
``finetune``, ``pretrain`` and ``train_tokenizer`` before they touch their folder, applies the
same rules, each kept in one place: which stage reads which field and which task, protocol,
``--splits`` file or ``--init`` file leaves a field unread (:mod:`labram.train.set_scope`),
which setting another makes a no-op (:mod:`labram.train.no_effect`, a warning), and the
schedule's numbers against each other (:mod:`labram.train.schedule_bounds`).

A config from Python does not say which fields were set: a field counts as set when its value
is neither its preset's (:func:`~labram.train.config.train_config` of the stage, size and recipe)
nor :class:`~labram.train.config.TrainConfig`'s own default (:func:`given_fields`). The command
line names its ``--set`` items as written and checks them itself (``checked=True``): a
``--config`` file's top-level keys are meant for every command, and are not refused where one
stage leaves them unread.
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

from eegprep.base.errors import ConfigError
from eegprep.base.path_limits import shown_path
from labram.train.config import TrainConfig, train_config
from labram.train.no_effect import warn_no_effect
from labram.train.schedule_bounds import check_stage_schedule, warn_long_warmup
from labram.train.set_scope import (
    SPLIT_FIELDS,
    STAGE_FIELDS,
    STAGE_WORDS,
    UNCHECKED,
    finetune_readers,
    joined,
    readers,
    task_named,
    task_reads,
    why_unread,
)

ENTRY = {"tokenizer": "train_tokenizer", "pretrain": "pretrain", "finetune": "finetune"}
"""The entry function of each stage, as a line names it."""


def given_fields(cfg: TrainConfig) -> list[str]:
    """The fields of ``cfg`` set away from every default: each whose value differs from the
    preset of ``cfg.stage`` for its size and recipe and from :class:`TrainConfig`'s own
    default (a config built as ``TrainConfig(stage="finetune")`` sets none)."""
    preset = train_config(cfg.stage, cfg.size, recipe=cfg.recipe)
    plain = TrainConfig(stage=cfg.stage, size=cfg.size, recipe=cfg.recipe)
    return [
        f.name
        for f in fields(TrainConfig)
        if f.name not in UNCHECKED
        and getattr(cfg, f.name) != getattr(preset, f.name)
        and getattr(cfg, f.name) != getattr(plain, f.name)
    ]


def _shown(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) or value is None else str(value)


def _refusal(cfg: TrainConfig, name: str, where: str, why: str, read_by: str) -> ConfigError:
    preset = getattr(train_config(cfg.stage, cfg.size, recipe=cfg.recipe), name)
    return ConfigError(
        f"TrainConfig {name}={_shown(getattr(cfg, name))}: {where} does not read `{name}` "
        f"({why}), so the setting would never be read; leave it at the preset's "
        f"{_shown(preset)}{read_by}"
    )


def _check_stage_reads(cfg: TrainConfig, stage: str, given: list[str]) -> None:
    words = STAGE_WORDS[stage]
    for name in given:
        if name not in STAGE_FIELDS[stage]:
            owners = [STAGE_WORDS[s] for s in readers(name)]
            whose = f"a setting of the {' and '.join(owners)} stage{'s' * (len(owners) > 1)}"
            raise _refusal(cfg, name, f"{ENTRY[stage]} (the {words} stage)", whose, "")


def _check_finetune_reads(
    cfg: TrainConfig,
    given: list[str],
    task_name: str,
    protocol: str | None,
    splits: str | Path | None,
    init: str | Path | None,
) -> None:
    task = task_named(task_name)
    what = f"finetune of task {task_name}" + (f", protocol {protocol}" if protocol else "")
    for name in given:
        if name == "init" and init is not None:
            why = f"its weights come from init={shown_path(str(init))}, not from an initialisation"
            raise _refusal(cfg, name, what, why, "")
        if name in SPLIT_FIELDS and splits is not None:
            why = f"the folds and their seed come from splits_file={shown_path(str(splits))}"
            raise _refusal(cfg, name, what, why, "")
        if task is not None and not task_reads(name, task, protocol):
            read_by = f"; it is read by {joined(finetune_readers(name))}"
            raise _refusal(cfg, name, what, why_unread(name, task, protocol), read_by)


def check_stage_config(
    cfg: TrainConfig,
    stage: str,
    *,
    checked: bool = False,
    task_name: str | None = None,
    protocol: str | None = None,
    splits: str | Path | None = None,
    init: str | Path | None = None,
) -> None:
    """Refuse ``cfg`` for ``stage`` as the command line refuses its options: a config of another
    stage; unless ``checked`` (the command line, which named its ``--set`` items itself), a
    field set (:func:`given_fields`) that the stage leaves unread, or for fine-tuning the task
    ``task_name``, the ``protocol`` (its name), the ``splits`` file or the ``init`` file does,
    and a warning for each setting another makes a no-op or for a warm-up as long as the run;
    and, always, a schedule that breaks the run
    (:func:`~labram.train.schedule_bounds.check_stage_schedule`).

    Raises
    ------
    ConfigError
        One line naming the field, its value, why it is not read (or what breaks) and what to
        change.
    """
    if cfg.stage != stage:
        raise ConfigError(
            f"TrainConfig stage={cfg.stage}: {ENTRY[stage]} trains the {STAGE_WORDS[stage]} "
            f"stage, and this config holds the {STAGE_WORDS.get(cfg.stage, cfg.stage)} "
            f"stage's settings; build it with train_config({stage!r}, ...)"
        )
    if not checked:
        given = given_fields(cfg)
        _check_stage_reads(cfg, stage, given)
        if stage == "finetune" and task_name is not None:
            _check_finetune_reads(cfg, given, task_name, protocol, splits, init)
        warn_no_effect(cfg, given, stage)
        warn_long_warmup(cfg)  # (the command line warned of it when it built the config)
    check_stage_schedule(cfg, error=ConfigError)


def check_scoring_config(cfg: object, task_name: str, *, entry: str) -> None:
    """Refuse a ``cfg`` handed to ``entry`` (``evaluate``), which cuts and splits a task's
    windows with it as fine-tuning did, where the command line could not give it: no
    :class:`TrainConfig` (a dict, a path), a config of another stage, or a field set
    (:func:`given_fields`) that task ``task_name`` leaves unread (``token_budget`` for TUAB,
    whose windows are fixed: the scores would be of windows the setting never cut). Its
    schedule is not read, so not checked.

    Raises
    ------
    ConfigError
        One line naming the entry, the field or the type, and what to give instead.
    """
    if not isinstance(cfg, TrainConfig):
        raise ConfigError(
            f"{entry} cfg: a {type(cfg).__name__}, not a TrainConfig; build it with "
            "train_config('finetune', ...), or leave it out for the checkpoint's own"
        )
    if cfg.stage != "finetune":
        raise ConfigError(
            f"TrainConfig stage={cfg.stage}: {entry} cuts a task's windows as the fine-tuning "
            f"stage cut them, and this config holds the {STAGE_WORDS.get(cfg.stage, cfg.stage)} "
            "stage's settings; build it with train_config('finetune', ...)"
        )
    _check_finetune_reads(cfg, given_fields(cfg), task_name, None, None, None)
