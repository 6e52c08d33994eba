"""Training configuration: one frozen dataclass, presets per stage and model size.

The ``base`` / ``large`` / ``huge`` presets hold the LaBraM recipe (docs/training.md); ``tiny``
is sized for the CPU demo and the tests (a few minutes on two cores). Every field can be
overridden from the command line or one TOML file; the resolved config is written into every
run folder (``config.json``) and every checkpoint.
"""

from __future__ import annotations

import tomllib
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from eegprep.base.bounds import check_fields, check_number
from eegprep.base.errors import ConfigError
from eegprep.base.path_limits import shown_path
from eegprep.base.resources import doc_path
from eegprep.base.strict_json import UNDERFLOW
from eegprep.base.toml_files import TomlUnderflowError, load_toml, loads_toml
from eegprep.base.validation import (
    check_choice,
    invalid_value,
    parse_field,
    unknown_names,
)
from labram.data.windows import WindowSettings
from labram.train.no_effect import warn_no_effect
from labram.train.schedule_bounds import check_stage_schedule, warn_long_warmup
from labram.train.set_scope import COMMANDS, STAGE_PREFIXES, check_set_scope

STAGES = ("tokenizer", "pretrain", "finetune")
SIZES = ("tiny", "base", "large", "huge")
RECIPES = ("default", "original")
CHOICES: dict[str, tuple[str, ...]] = {
    "recipe": RECIPES,
    "init": ("default", "original"),
    "time_embed_layer": ("embeddings", "top"),
    "selection_metric": ("auto", "accuracy"),
    "selection_ties": ("later", "earlier"),
    "val_split": ("stratified", "subject"),
    "val_rounding": ("round", "floor"),
    "edge_events": ("drop", "wrap"),
    "warmup_start": ("first_step", "zero"),
}


NUMBERS = (
    "lr", "lr_batch", "min_lr", "warmup_epochs", "epochs", "max_steps", "batch_size",
    "weight_decay", "grad_clip", "layer_decay", "drop_path", "label_smoothing", "num_workers",
    "seed", "ckpt_every", "log_every", "dead_after", "threads", "split_seed",
)  # fmt: skip
"""The numeric fields of :class:`TrainConfig` besides the window fields, ``betas`` and
``corpus_weights``: each bounded by its entry of :data:`eegprep.base.bounds.BOUNDS` (the
training commands' flags read the same entries). None, an optional field left unset, is
always allowed."""


def check_range(name: str, value: object) -> float:
    """``value`` as a number of the field (or item: ``betas[0]``) ``name``; else a
    ConfigError naming it, the value and its range (:func:`eegprep.base.bounds.check_number`)."""
    return check_number(name, value, key=name.partition("[")[0], error=ConfigError)


@dataclass(frozen=True, kw_only=True)
class TrainConfig(WindowSettings):
    """One training stage: optimiser, schedule, data, runtime.

    The window fields (``token_budget``, ``max_seconds``, ``max_channels``, ``stride_seconds``,
    ``block_seconds``) are inherited from :class:`~labram.data.windows.WindowSettings`, their one
    definition.
    """

    stage: str = "pretrain"  # tokenizer | pretrain | finetune
    size: str = "base"  # model preset (labram.model.config)
    # optimiser and schedule
    lr: float = 5e-4  # peak learning rate (at ``lr_batch`` windows per step, if set)
    lr_batch: int | None = None  # scale lr linearly by global batch / lr_batch (tokenizer: 128)
    min_lr: float = 1e-5  # end of the cosine
    warmup_epochs: float = 5.0  # linear warm-up, then cosine to min_lr
    epochs: int = 50
    max_steps: int | None = None  # a cap: the run ends at max_steps or after epochs, sooner wins
    batch_size: int = 64  # windows per step per process (the recipe: 64 x 8 GPUs)
    weight_decay: float = 0.05
    betas: tuple[float, float] = (0.9, 0.98)
    grad_clip: float | None = 3.0
    layer_decay: float = 1.0  # fine-tuning: 0.65 (lr x 0.65^(L+1-i) for layer i)
    drop_path: float = 0.0  # fine-tuning: 0.1
    label_smoothing: float | None = None  # None: the task's (tuev 0.1, others 0); 0 turns it off
    # data (and the window fields of WindowSettings)
    num_workers: int = 0  # dataloader workers per process
    corpus_weights: dict[str, float] = field(default_factory=dict)  # corpus -> weight
    # runtime
    seed: int = 0
    amp: bool = True  # bf16 autocast on CUDA (no effect on CPU)
    ckpt_every: int = 500  # steps between checkpoints (and one at the end)
    log_every: int = 10  # steps between CSV rows
    dead_after: int | None = None  # tokenizer: revive codes unused this many steps (None: preset)
    patience: int | None = None  # not implemented: must stay None (read in older run configs)
    deterministic: bool = False  # deterministic kernels, pinned threads (docs/training.md)
    threads: int | None = None  # intra-op CPU threads; None: torch's default (1 if deterministic)
    # recipe switches: each differs between recipe "default" and "original" (docs/model.md)
    recipe: str = "default"  # default | original: the preset these switches came from
    init: str = "default"  # default: trunc-normal +-2 sigma everywhere; original: as the authors
    time_embed_layer: str = "embeddings"  # layer decay: with the embeddings (0) | "top" (x1.0)
    revive_dead_codes: bool = True  # tokenizer: revive unused codes (the original never does)
    selection_metric: str = "auto"  # auto: AUROC / balanced accuracy / Pearson r; or "accuracy"
    selection_ties: str = "later"  # a tied validation score keeps the later | "earlier" epoch
    val_split: str = "stratified"  # val subjects drawn per recording label | "subject": all at once
    val_rounding: str = "round"  # validation subjects: round(0.2 n) | "floor": int(0.2 n)
    split_seed: int = 0  # seed of the train/validation subject split (original TUEV: 4523)
    edge_events: str = "drop"  # tuev: events whose window leaves the recording: drop | "wrap"
    pretrain_test_splits: bool = False  # pre-train on recordings whose split is eval/test too
    warmup_start: str = "first_step"  # warm-up step i at peak (i+1)/W | "zero": peak i/(W-1)

    def __post_init__(self) -> None:
        super().__post_init__()
        check_choice("stage", self.stage, STAGES, error=ConfigError)
        check_choice("size", self.size, SIZES, error=ConfigError)
        check_fields(self, NUMBERS, error=ConfigError)  # (True, nan, 10**30: not taken)
        self._check_items()
        for name, allowed in CHOICES.items():
            check_choice(name, getattr(self, name), allowed, error=ConfigError)
        if self.patience is not None:  # kept so that older run configs still read
            raise invalid_value(
                "patience", self.patience, expected="none (early stopping is not implemented: "
                "the best epoch on validation is kept as best.pt)", error=ConfigError,
            )  # fmt: skip

    def _check_items(self) -> None:
        """``betas`` two numbers and ``corpus_weights`` a table of them, each in its range,
        kept as plain floats (a numpy scalar of a notebook's is taken)."""
        betas = self.betas
        if not isinstance(betas, tuple | list) or len(betas) != 2:
            raise invalid_value("betas", betas, expected="2 numbers", error=ConfigError)
        object.__setattr__(
            self, "betas", tuple(check_range(f"betas[{i}]", b) for i, b in enumerate(betas))
        )
        weights = self.corpus_weights
        if not isinstance(weights, dict):
            raise invalid_value(
                "corpus_weights", weights, expected="a table of corpus weights", error=ConfigError
            )
        checked = {c: check_range(f"corpus_weights[{c}]", w) for c, w in weights.items()}
        object.__setattr__(self, "corpus_weights", checked)

    def peak_lr(self, world_size: int) -> float:
        if self.lr_batch is None:
            return self.lr
        return self.lr * self.batch_size * world_size / self.lr_batch

    def to_dict(self) -> dict[str, Any]:
        """The stored form (``config.json``, checkpoints): every field, plus
        :data:`FORMAT_KEY` (which tells this form from older ones: :func:`current_form`)."""
        d = asdict(self)
        d["betas"] = list(self.betas)
        d[FORMAT_KEY] = FORMAT
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """A config as :meth:`to_dict` wrote it, in this version or an older one
        (:func:`current_form`), each value checked against its field's type (a ``config.json``
        or checkpoint entry may be damaged: ``split_seed: NaN``).

        Raises
        ------
        UsageError
            An unknown field, or a value not of its field's type, naming the field.
        """
        current = current_form(data)
        current.pop(FORMAT_KEY, None)
        return cls(**{k: parse_field(cls, k, v) for k, v in current.items()})


FORMAT_KEY = "config_format"
"""The entry of a stored config that names its form (:data:`FORMAT`); configs written before
it have none (form 1)."""
FORMAT = 2
"""The stored form of :meth:`TrainConfig.to_dict`. 2: ``label_smoothing`` unset is ``null``
and a number, 0 included, replaces the task's. 1 (no :data:`FORMAT_KEY`): ``label_smoothing``
``0`` meant the task's own (TUEV's 0.1) and ``grad_clip`` ``0`` meant no clipping."""

_OLD_ZERO_IS_UNSET = ("label_smoothing", "grad_clip")
"""Fields whose 0 in form 1 meant what ``None`` means now: the old code read them as
``cfg.label_smoothing or task.label_smoothing`` and ``if cfg.grad_clip:``."""


_ADDED = {"warmup_start": "first_step"}
"""Fields added after configs were stored without them, each with the value that the code of
those versions used (their warm-up always started at ``peak / W``): such a run resumes with the
options it was made with."""


def current_form(data: dict[str, Any]) -> dict[str, Any]:
    """A stored config as this version stores the same setting (a new dict).

    Form 1 (no :data:`FORMAT_KEY`: written before it): each field of
    :data:`_OLD_ZERO_IS_UNSET` stored as 0 becomes ``None``, what the old code made of it
    (the task's label smoothing; no gradient clipping). ``grad_clip: 0`` reads so in any form
    (no version since writes it: the field's range refuses it). A field of :data:`_ADDED` that
    the config lacks gets the value its version used. The result carries
    :data:`FORMAT_KEY`; other entries are kept as they are (checked by :meth:`from_dict`).

    Raises
    ------
    ConfigError
        A form this version does not know (a newer labram's), naming it.
    """
    out = dict(data)
    form = out.get(FORMAT_KEY, 1)
    if isinstance(form, bool) or form not in (1, FORMAT):
        raise ConfigError(
            f"`{FORMAT_KEY}` {form!r}: a config stored in a form this labram does not read "
            f"(it reads 1 and {FORMAT}); use the labram version that wrote it"
        )
    for name, used in _ADDED.items():  # (a config older than the field: what its code did)
        out.setdefault(name, used)
    for name in _OLD_ZERO_IS_UNSET:
        value = out.get(name)
        zero = isinstance(value, int | float) and not isinstance(value, bool) and value == 0
        if zero and (form == 1 or name == "grad_clip"):
            out[name] = None
    out[FORMAT_KEY] = FORMAT
    return out


_TOKENIZER = TrainConfig(
    stage="tokenizer",
    lr=5e-5,
    lr_batch=128,  # 5e-5 x batch / 128 (4e-4 at 1024)
    warmup_epochs=10,
    epochs=100,
    batch_size=128,
    weight_decay=1e-4,
    betas=(0.9, 0.99),
    grad_clip=None,
    stride_seconds=1.0,  # the recipe's 1-s window stride
)
_PRETRAIN = TrainConfig(stage="pretrain")
_FINETUNE = TrainConfig(
    stage="finetune",
    betas=(0.9, 0.999),
    layer_decay=0.65,
    drop_path=0.1,
    grad_clip=None,
    patience=None,
)

PRESETS: dict[str, TrainConfig] = {
    "tokenizer": _TOKENIZER,
    "pretrain": _PRETRAIN,
    "finetune": _FINETUNE,
}

# tiny: the CPU demo (~1 min per stage on two cores) and the tests
_TINY: dict[str, dict[str, Any]] = {
    "tokenizer": {
        "lr": 5e-4,
        "lr_batch": None,
        "warmup_epochs": 0.5,
        "epochs": 8,
        "batch_size": 16,
        "stride_seconds": 2.0,
        "ckpt_every": 50,
        "dead_after": 10,
    },
    "pretrain": {
        "lr": 1e-3,
        "warmup_epochs": 0.5,
        "epochs": 8,
        "batch_size": 16,
        "stride_seconds": 2.0,
        "ckpt_every": 50,
    },
    "finetune": {
        "lr": 1e-3,
        "warmup_epochs": 1,
        "epochs": 10,
        "batch_size": 16,
        "drop_path": 0.0,
        "ckpt_every": 50,
    },
}


# The authors' code, where it differs from our default (docs/model.md, "Recipes"). Every field
# a recipe sets is listed for every stage, so that ``--recipe original`` is one switch.
_ORIGINAL_ALL: dict[str, Any] = {
    "recipe": "original",
    "init": "original",  # +-1 sigma in pre-training; PyTorch defaults for convs, lm_head bias
    "time_embed_layer": "top",  # their layer-id matcher predates the time table
    "revive_dead_codes": False,  # never revived (their issue #37: collapse to one code)
    "selection_metric": "accuracy",  # best validation accuracy, first best kept
    "selection_ties": "earlier",
    "val_split": "stratified",  # TUAB: abnormal and normal subjects split 80/20 separately
    "val_rounding": "floor",  # int(0.2 n) validation subjects
    "split_seed": 4523,  # TUEV's seed (their TUAB split is unseeded)
    "edge_events": "wrap",  # the TUEV signal is tiled three times: edge windows wrap around
    "pretrain_test_splits": True,  # whole corpora, eval/test recordings included
    "warmup_start": "zero",  # np.linspace(0, peak, W): the first step at lr 0 (every stage)
}
_ORIGINAL: dict[str, dict[str, Any]] = {
    "tokenizer": {},
    "pretrain": {"stride_seconds": 4.0},  # 800 samples between window starts
    "finetune": {"min_lr": 1e-6},
}


PRESET_FIELDS = {
    "stage": "each command trains its own stage",
    "size": "pass --size",
    "recipe": "pass --recipe",
}
"""Fields that pick the preset the other fields start from (``--set size=tiny`` would only
rename the preset: refused)."""


def refuse_preset_fields(overrides: dict[str, Any]) -> None:
    """A ConfigError for an override of a field that picks the preset (:data:`PRESET_FIELDS`)."""
    for name, how in PRESET_FIELDS.items():
        if overrides.get(name) is not None:
            raise ConfigError(
                f"`{name}` chooses the preset and cannot be overridden as a field: {how}"
            )


def train_config(
    stage: str, size: str = "base", /, *, recipe: str = "default", **overrides: Any
) -> TrainConfig:
    """The preset of ``stage`` for model ``size`` and ``recipe`` ('default' or 'original': the
    authors' code), with field overrides (None values ignored)."""
    check_choice("stage", stage, STAGES, error=ConfigError)
    check_choice("size", size, SIZES, error=ConfigError)
    check_choice("recipe", recipe, RECIPES, error=ConfigError)
    refuse_preset_fields(overrides)
    cfg = replace(PRESETS[stage], size=size)
    if size == "tiny":
        cfg = replace(cfg, **_TINY[stage])
    if recipe == "original":
        cfg = replace(cfg, **_ORIGINAL_ALL, **_ORIGINAL[stage])
    return apply_overrides(cfg, overrides)


def apply_overrides(cfg: TrainConfig, overrides: dict[str, Any]) -> TrainConfig:
    """``cfg`` with the given fields replaced (None values are left out: not given).

    Each value is parsed against its field's type (:func:`eegprep.base.validation.parse_field`):
    text from ``--set`` or TOML is accepted where it reads as that type (``"none"`` sets an
    optional field to None); anything else, and an unknown name, is a ConfigError naming the
    field.
    """
    known = {f.name for f in fields(TrainConfig)}
    given = {k: v for k, v in overrides.items() if v is not None}
    hint = f"({doc_path('docs/training.md')} lists every field)"
    unknown = unknown_names(given, known, hint=hint)
    if unknown is not None:
        raise ConfigError(str(unknown))
    try:
        parsed = {k: parse_field(TrainConfig, k, v) for k, v in given.items()}
    except ConfigError:
        raise
    except ValueError as exc:  # a UsageError of the helper: the same line, as a ConfigError
        raise ConfigError(str(exc)) from None
    return replace(cfg, **parsed)


def read_toml(path: str | Path, stage: str) -> dict[str, Any]:
    """Overrides from a TOML file: top-level keys, then a ``[stage]`` table that wins."""
    p = Path(path)
    data = load_toml(p, "config file")
    out = {k: v for k, v in data.items() if not isinstance(v, dict) or k == "corpus_weights"}
    table = data.get(stage, {})
    if not isinstance(table, dict):
        raise ConfigError(f"{p}: `{stage}` must be a table ([{stage}]) of config fields")
    out.update(table)
    tables = {k for k, v in data.items() if isinstance(v, dict) and k != "corpus_weights"}
    unknown = unknown_names(tables - set(STAGES), STAGES, what="table")
    if unknown is not None:
        raise ConfigError(f"{p}: {unknown} (tables: {', '.join(STAGES)})")
    return out


SetItem = tuple[str, str, Any]
"""One ``--set KEY=VALUE`` item: its key and value as the user wrote them (spaces around
stripped), and the value parsed (:func:`parse_sets`)."""


def _target(key: str) -> tuple[str, str]:
    """What a --set key sets: ``("", FIELD)`` for a bare field (every stage), ``(stage, FIELD)``
    for ``tokenizer.FIELD``, ``mem.FIELD`` or ``pretrain.FIELD`` (the last two one stage),
    ``finetune.FIELD``,
    ``(prefix, FIELD)`` for a prefix no stage has (refused by :func:`stage_sets`)."""
    prefix, dot, name = key.partition(".")
    if not dot:
        return "", key
    return STAGE_PREFIXES.get(prefix, prefix), name


def stage_sets(items: Sequence[SetItem], stage: str) -> dict[str, SetItem]:
    """The --set items of one stage by field: bare ``FIELD`` keys apply to every stage,
    ``tokenizer.FIELD`` only to the tokenizer, ``mem.FIELD`` / ``pretrain.FIELD`` only to
    masked modelling, ``finetune.FIELD`` only to fine-tuning (an item of a stage the command
    does not train is refused before: :func:`~labram.train.set_scope.check_set_scope`); a stage's
    own item wins over a bare one, and of two items of one field
    and stage the later wins. Each keeps the key as written, for the lines that name it."""
    bare: dict[str, SetItem] = {}
    own: dict[str, SetItem] = {}
    for item in items:
        key = item[0]
        prefix, dot, _ = key.partition(".")
        target, name = _target(key)
        if dot and prefix not in STAGE_PREFIXES:
            raise invalid_value(
                f"--set {key}", prefix, sorted(STAGE_PREFIXES), error=ConfigError,
                hint="(the stage prefix before the dot)",
            )  # fmt: skip
        if not target:
            bare[name] = item
        elif target == stage:
            own[name] = item  # a stage's own value wins over a bare one
    return {**bare, **own}


def stage_overrides(overrides: dict[str, Any], stage: str) -> dict[str, Any]:
    """The overrides of one stage (:func:`stage_sets`) from ``{KEY: value}``."""
    items = [(key, str(value), value) for key, value in overrides.items()]
    return {name: item[2] for name, item in stage_sets(items, stage).items()}


def repeated_sets(sets: Sequence[str]) -> list[str]:
    """One line for each ``--set KEY=...`` a later ``--set`` of the same field and stage
    overrides with another value (the last wins, as :func:`stage_sets` reads them), each
    named as written: ``mem.lr`` and ``pretrain.lr`` set the same field of the same stage."""
    last: dict[tuple[str, str], tuple[str, str]] = {}
    lines = []
    for item in sets:
        key, _, value = item.partition("=")
        key, value = key.strip(), value.strip()
        target = _target(key)
        if target in last and last[target][1] != value:
            before = "=".join(last[target])
            lines.append(f"--set {key}={value} overrides an earlier --set {before}: the last "
                         "wins; give one of the two")  # fmt: skip
        last[target] = (key, value)
    return lines


def set_items(sets: Sequence[str]) -> list[SetItem]:
    """``--set KEY=VALUE`` items -> ``(KEY, VALUE as written, value)``, in order: the value as
    TOML where it reads as TOML (``2``, ``1e-3``, ``[0.9, 0.98]``, ``{tuh = 2.0}``), else the
    text; each is then parsed against its field's type (:func:`apply_overrides`)."""
    out: list[SetItem] = []
    for item in sets:
        key, eq, value = item.partition("=")
        key, text = key.strip(), value.strip()
        if not eq or not key:
            raise invalid_value("--set", item, expected="FIELD=VALUE", error=ConfigError)
        try:
            out.append((key, text, loads_toml(f"v = {value}")["v"]))
        except TomlUnderflowError as exc:  # (1e-400: tomllib read it as 0.0)
            raise invalid_value(
                f"--set {key}", text, expected=f"a number a float holds "
                f"({exc.text[:30]} {UNDERFLOW})", error=ConfigError,
            ) from None  # fmt: skip
        except (tomllib.TOMLDecodeError, RecursionError):
            out.append((key, text, text))
    return out


def parse_sets(sets: Sequence[str]) -> dict[str, Any]:
    """``--set KEY=VALUE`` items -> ``{KEY: value}`` (:func:`set_items`); of two items of one
    KEY the later wins (:func:`repeated_sets` says so)."""
    return {key: value for key, _, value in set_items(sets)}


def _blame_set(
    stage: str, size: str, recipe: str, base: dict[str, Any], items: dict[str, SetItem]
) -> None:
    """Raise a ConfigError naming the first --set item (as written) that the config refuses on
    its own over ``base`` (the file's values); nothing when each is accepted alone."""
    for name, (key, text, value) in items.items():
        try:
            train_config(stage, size, recipe=recipe, **{**base, name: value})
        except ConfigError as exc:
            raise ConfigError(f"--set {key}={text}: {exc}") from None


STAGE_FLAGS = ("max_steps", "epochs", "batch_size", "lr")
"""Flags of one stage: on `labram pretrain` they set the masked-modelling stage only (the
tokenizer has --tokenizer-lr, ...); the other flags set every stage."""


def config_from_options(
    stage: str,
    size: str,
    *,
    recipe: str = "default",
    config_file: str | Path | None = None,
    sets: Sequence[str] = (),
    flags: dict[str, Any] | None = None,
    flag_names: dict[str, str] | None = None,
    stages: Sequence[str] | None = None,
    what: str | None = None,
) -> TrainConfig:
    """A stage's config from what a command line gives, later sources winning: the preset and
    recipe, then the TOML file's table for the stage, then ``--set`` items (``stage.FIELD`` or
    ``FIELD``), then the flags that were given (``None``: not given). A flag that overrides a
    different ``--set`` value of its field is a warning naming both (``flag_names``: how the
    flag of a field is spelt, where it is not ``--FIELD``). The schedule's numbers are checked
    against each other (:func:`~labram.train.schedule_bounds.check_stage_schedule`).

    ``stages``: the stages the command trains (default: those of the command named after
    ``stage``, :data:`~labram.train.set_scope.COMMANDS`), ``what`` the command as a line names
    it; a --set item that none of them reads is refused
    (:func:`~labram.train.set_scope.check_set_scope`)."""
    overrides: dict[str, Any] = {}
    if config_file:
        overrides.update(read_toml(config_file, stage))
        try:  # the file's values on their own first, so that a refusal names the file
            train_config(stage, size, recipe=recipe, **overrides)
        except ConfigError as exc:
            raise ConfigError(f"{shown_path(config_file)}: {exc}") from None
    base = dict(overrides)
    given_items = set_items(sets)
    items = stage_sets(given_items, stage)
    overrides.update((name, item[2]) for name, item in items.items())
    given = {k: v for k, v in (flags or {}).items() if v is not None}
    for name, value in given.items():  # (the documented order: a flag wins over --set)
        if name in items and items[name][2] != value:
            flag = (flag_names or {}).get(name) or f"--{name.replace('_', '-')}"
            key, text, _ = items[name]
            warnings.warn(
                f"{flag} {value} overrides --set {key}={text} ({stage} stage): a flag wins "
                "over --set; give one of the two",
                stacklevel=2,
            )
    overrides.update(given)
    try:
        refuse_preset_fields(overrides)
        cfg = train_config(stage, size, recipe=recipe, **overrides)
    except ConfigError:
        _blame_set(stage, size, recipe, base, {k: v for k, v in items.items() if k not in given})
        raise
    # (after the values: a value no field takes is named as such, read or not)
    check_set_scope(given_items, stages or COMMANDS[stage], what=what or f"labram {stage}")
    warn_no_effect(cfg, overrides, stage)  # (the file's, --set's and the flags' fields)
    # (min_lr, weight_decay against the peak, warmup_epochs against epochs: the rules the
    # entry functions check too)
    check_stage_schedule(cfg, error=ConfigError)
    warn_long_warmup(cfg)
    return cfg
