"""Which ``--set`` items a training command reads: the sections (stage prefixes) and the
fields of each stage it trains.

A ``--set`` item that no stage of the command reads was dropped without a word before
(``labram finetune --set tokenizer.lr=1e-4``, ``labram tokenizer --set mem.lr=1e-3``,
``labram finetune --set dead_after=5``): the user believed a setting took effect that did not.
:func:`check_set_scope` refuses such an item in one line naming it as written and listing what
the command does read (docs/training.md, "Presets and config").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eegprep.base.errors import ConfigError
from eegprep.base.path_limits import shown_path

COMMON_FIELDS = frozenset(
    {
        # the loop, the optimiser and the schedule (labram/train/loop.py, optim.py, rng.py)
        "lr", "lr_batch", "min_lr", "warmup_epochs", "epochs", "max_steps", "batch_size",
        "weight_decay", "betas", "grad_clip", "num_workers", "seed", "amp", "ckpt_every",
        "log_every", "deterministic", "threads", "warmup_start",
        # windows: pre-training's, and fine-tuning's for tasks without fixed windows/channels
        "token_budget", "max_seconds", "max_channels", "block_seconds",
    }
)  # fmt: skip
"""Fields every training stage reads."""

_PRETRAINING = frozenset({"stride_seconds", "corpus_weights", "pretrain_test_splits", "init"})
"""Fields both pre-training stages read (their windows, corpus weights, initial weights)."""

_BACKBONE = frozenset({"drop_path", "layer_decay", "time_embed_layer"})
"""Fields of a stage that trains the transformer backbone (the tokenizer's model has no layer
ids: ``layer_decay`` and ``time_embed_layer`` change nothing there, and it has no drop path)."""

STAGE_FIELDS: dict[str, frozenset[str]] = {
    "tokenizer": COMMON_FIELDS | _PRETRAINING | {"dead_after", "revive_dead_codes"},
    "pretrain": COMMON_FIELDS | _PRETRAINING | _BACKBONE,
    "finetune": COMMON_FIELDS | _BACKBONE | {
        "init", "label_smoothing", "selection_metric", "selection_ties", "val_split",
        "val_rounding", "split_seed", "edge_events",
    },
}  # fmt: skip
"""The fields each stage reads (fine-tuning reads ``init`` for a model from scratch: with
``--init`` a --set of it is refused, :func:`check_init_set`)."""

UNCHECKED = frozenset({"stage", "size", "recipe", "patience"})
"""Fields left to their own refusal: the three that pick the preset
(:data:`labram.train.config.PRESET_FIELDS`) and ``patience`` (must stay none)."""

STAGE_PREFIXES = {"tokenizer": "tokenizer", "mem": "pretrain", "pretrain": "pretrain",
                  "finetune": "finetune"}  # fmt: skip
"""The stage each ``--set`` prefix sets (``mem.lr`` and ``pretrain.lr`` are one field)."""

STAGE_WORDS = {"tokenizer": "tokenizer", "pretrain": "masked-modelling (pretrain)",
               "finetune": "fine-tuning"}  # fmt: skip
"""Each stage as a line names it."""

COMMANDS = {"tokenizer": ("tokenizer",), "pretrain": ("tokenizer", "pretrain"),
            "finetune": ("finetune",)}  # fmt: skip
"""The stages each training command trains (``labram pretrain --tokenizer FILE``: the
masked-modelling stage only)."""


def readers(name: str) -> list[str]:
    """The stages that read field ``name``."""
    return [stage for stage, names in STAGE_FIELDS.items() if name in names]


def _sections(stages: Sequence[str]) -> str:
    prefixes = [p for p, s in STAGE_PREFIXES.items() if s in stages]
    return " or ".join(["FIELD=VALUE"] + [f"{p}.FIELD=VALUE" for p in prefixes])


def _refused_section(key: str, text: str, owner: str, stages: Sequence[str], what: str) -> str:
    return (
        f"--set {key}={text}: {what} trains no {STAGE_WORDS[owner]} stage, so the setting "
        f"would never be read; it reads --set {_sections(stages)}"
    )


def _refused_field(key: str, text: str, name: str, stages: Sequence[str], what: str) -> str:
    read = sorted(set().union(*(STAGE_FIELDS[s] for s in stages)))
    owners = readers(name)
    words = " and ".join(STAGE_WORDS[s] for s in owners)
    whose = f" (a setting of the {words} stage{'s' if len(owners) > 1 else ''})"
    stage = f"the {STAGE_WORDS[stages[0]]} stage of {what}" if len(stages) == 1 else what
    return (
        f"--set {key}={text}: {stage} does not read `{name}`{whose if owners else ''}, so the "
        f"setting would never be read; it reads {', '.join(read)}"
    )


def check_set_scope(
    items: Sequence[tuple[str, str, object]], stages: Sequence[str], *, what: str
) -> None:
    """Refuse the first ``--set`` item (``(KEY, VALUE as written, value)``) that no stage of
    ``stages`` reads: a prefix of another stage (``tokenizer.lr`` on ``labram finetune``) or a
    field the stages it sets never read (``dead_after`` on fine-tuning, ``tokenizer.drop_path``).

    Unknown prefixes, unknown fields of a stage it trains and :data:`UNCHECKED` fields are left
    to the refusals that name them (:func:`labram.train.config.stage_sets`,
    ``apply_overrides``). ``what``: the command, as a line names it (``labram finetune``).

    Raises
    ------
    ConfigError
        One line naming the item as written and what the command reads.
    """
    all_fields = set().union(*STAGE_FIELDS.values())
    for key, text, _ in items:
        prefix, dot, name = key.partition(".")
        if not dot:
            prefix, name = "", key
        owner = STAGE_PREFIXES.get(prefix)
        if dot and owner is None:
            continue  # an unknown prefix: refused by stage_sets, in its own words
        if owner is not None and owner not in stages:  # (whatever its field)
            raise ConfigError(_refused_section(key, text, owner, stages, what))
        if name in UNCHECKED or name not in all_fields:
            continue  # refused by apply_overrides (unknown: with a suggestion) or its own rule
        targets = [owner] if owner is not None else list(stages)
        if not any(name in STAGE_FIELDS[s] for s in targets):
            raise ConfigError(_refused_field(key, text, name, targets, what))


def check_init_set(items: Sequence[tuple[str, str, object]], init: str | None) -> None:
    """Refuse a fine-tuning ``--set init=...`` (or ``finetune.init``) given with ``--init``:
    the weights then come from that file, and the setting, how a model from scratch is
    initialised, would never be read.

    Raises
    ------
    ConfigError
        One line naming the item as written and the --init file.
    """
    if init is None:
        return
    for key, text, _ in items:
        if key in ("init", "finetune.init"):
            raise ConfigError(
                f"--set {key}={text}: labram finetune with --init {init} starts from that "
                "file's weights, so the setting (how a model from scratch is initialised) would "
                "never be read; give one of the two"
            )


def task_named(task_name: str) -> Any:
    """The :class:`~labram.data.tasks.Task` ``task_name`` names, as far as the fields it reads
    go (a ``label:KEY`` task: windows and channels of any length, classes of any kind); None for
    a name that is no task (left to its own refusal)."""
    from labram.data.tasks import TASKS, Task

    if task_name.startswith("label:"):
        return Task(name=task_name, kind="binary", window_seconds=None)  # (their shape, any kind)
    return TASKS.get(task_name)


def task_reads(name: str, task: Any, protocol: str | None) -> bool:
    """Whether ``labram finetune`` reads field ``name`` for ``task`` (a
    :class:`~labram.data.tasks.Task`) under ``protocol`` (None: the default, or a saved one)."""
    if name in ("token_budget", "max_seconds"):  # windows cut at the token budget
        return task.window_seconds is None
    if name == "max_channels":  # the channel cap of a task without fixed channels
        return task.channels is None
    if name == "edge_events":  # event windows that leave the recording
        return bool(task.events)
    if name == "label_smoothing":  # a classification loss
        return task.kind != "regression"
    if name in _BACKBONE:  # a linear probe trains the head alone, drop path off
        return protocol != "linear-probe"
    return True


def why_unread(name: str, task: Any, protocol: str | None) -> str:
    if name in ("token_budget", "max_seconds"):
        return f"its windows are {task.window_seconds} s, fixed by the task"
    if name == "max_channels":
        return f"it reads the task's {len(task.channels)} protocol channels"
    if name == "edge_events":
        return "it cuts no window around an event"
    if name == "label_smoothing":
        return "its loss is MSE, a regression's, with no class labels to smooth"
    return f"--protocol {protocol} trains the head alone, on a frozen backbone without drop path"


def joined(names: Sequence[str]) -> str:
    return ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else "".join(names)


def finetune_readers(name: str) -> list[str]:
    """The commands (and tasks, protocols) that read field ``name``: ``labram pretrain``,
    ``labram finetune --task tuev``, ``labram finetune --task label:KEY``..."""
    from labram.data.tasks import TASKS, Task

    label = Task(name="label:KEY", kind="binary", window_seconds=None)  # (every label:KEY task)
    tasks = [*TASKS.values(), label]
    out = [f"labram {c}" for c, stages in COMMANDS.items()
           if c != "finetune" and any(name in STAGE_FIELDS[s] for s in stages)]  # fmt: skip
    if name not in STAGE_FIELDS["finetune"]:
        return out
    if name in _BACKBONE:
        return [*out, "labram finetune with any --protocol but linear-probe"]
    readers_ = [t.name for t in tasks if task_reads(name, t, None)]
    if len(readers_) == len(tasks):
        return [*out, "labram finetune"]
    return [*out, f"labram finetune --task {' or '.join(readers_)}"]


def check_split_seed(split_seed: int | None, splits: object, *, named: str, what: str) -> None:
    """Refuse a fine-tuning split seed (``named``: ``--split-seed`` or the argument
    ``split_seed``) given with a splits file ``splits``: the file's folds and seed win.
    ``what``: the call as a line names it (``labram finetune --splits FILE``).

    Raises
    ------
    ConfigError
        One line naming both.
    """
    if splits is not None and split_seed is not None:
        raise ConfigError(
            f"{named} {split_seed}: {what} cuts no fold: the folds and their seed come from "
            "that file, so the seed would never be read; give one of the two"
        )


SPLIT_FIELDS = ("split_seed", "val_split", "val_rounding")
"""The fields that cut a fine-tune's folds: with ``--splits FILE`` the folds (and their seed)
come from the file, and none of them is read."""


def check_finetune_sets(
    items: Sequence[tuple[str, str, object]],
    task_name: str,
    protocol: str | None = None,
    *,
    splits: str | None = None,
) -> None:
    """Refuse the first ``--set`` item of ``labram finetune`` (``FIELD`` or ``finetune.FIELD``)
    that the task ``task_name`` or the ``protocol`` given leaves unread: a window length or a
    channel cap of a task that fixes them (``--set token_budget=40`` on ``--task tuab``: its
    windows are 10 s of 23 channels), ``edge_events`` of a task without event windows,
    ``label_smoothing`` of a regression, ``drop_path`` / ``layer_decay`` /
    ``time_embed_layer`` under ``--protocol linear-probe`` (the head alone trains), a field of
    :data:`SPLIT_FIELDS` with ``--splits FILE`` (``splits``: the folds come from the file).
    Each was accepted and dropped without a word. A task name that is no task is left to its
    refusal.

    Raises
    ------
    ConfigError
        One line naming the item as written, the command, why it is not read there, and the
        commands that do read it.
    """
    task = task_named(task_name)
    if task is None:
        return
    what = f"labram finetune --task {task_name}"
    if protocol is not None:
        what += f" --protocol {protocol}"
    for key, text, _ in items:
        prefix, dot, name = key.partition(".")
        if not dot:
            prefix, name = "", key
        if prefix not in ("", "finetune"):
            continue
        if splits is not None and name in SPLIT_FIELDS:
            raise ConfigError(
                f"--set {key}={text}: labram finetune --splits {shown_path(splits)} cuts no fold: "
                "the folds and their seed come from that file, so the setting would never be "
                "read; it is read by labram finetune without --splits (to write another splits "
                "file)"
            )
        if task_reads(name, task, protocol):
            continue
        raise ConfigError(
            f"--set {key}={text}: {what} does not read `{name}` "
            f"({why_unread(name, task, protocol)}), so the setting would never be read; it is "
            f"read by {joined(finetune_readers(name))}"
        )
