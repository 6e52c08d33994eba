"""One table of bounds for every numeric setting, read by both command lines and the library.

A notebook builds ``TrainConfig(batch_size=10**30)``, ``IngestConfig(commit_every=0)`` or
``Recipe(sfreq=1e30)`` without the command line's option types in the way: each such value was
taken at construction and failed deep inside a run (or allocated without bound), NaN passed every
``<`` check, ``True`` counted as 1. Each config checks its numeric fields here, when it is built
(:func:`check_number`), against :data:`BOUNDS`; the command lines' option types are made from
the same entries (:func:`eegprep.cli_numbers.bounded`), so an option and its field take the
same numbers. The table is in docs/cli.md, "Numeric options".

A value must be a number (an ``int`` or ``float``, or a numpy scalar of one; never a ``bool``),
finite, a whole number where a count is meant, and inside its bounds; it comes back as a plain
Python ``int`` or ``float`` (so that a config holding it writes to JSON).
"""

from __future__ import annotations

import math
import numbers
import sys
import warnings
from dataclasses import dataclass

from eegprep.base.errors import UsageError
from eegprep.base.validation import invalid_value

MAX_WHOLE = 2**31 - 1
"""The largest whole number any setting takes (steps, seeds, counts): larger ones overflowed
numpy's and torch's integers deep in a run."""

MOST_BATCH = 65_536
"""The most windows of one batch (or one embedding chunk): a batch is allocated whole."""

MOST_MODEL_COUNT = 1 << 20
"""The largest whole-number field of a model or tokenizer config (LaBraM's largest: 8,192
codes); :data:`labram.model.config.MAX_COUNT`."""

MOST_SEEDS = 1000
"""The most seeds one ``labram finetune`` runs (a run folder each)."""

KEEP_MOST_S = 315_360_000.0
"""The most ``keep_replaced`` takes: ten years, in seconds."""

FILE_TIME_MOST_S = 604_800.0
"""The most ``file_time_limit`` takes: a week, in seconds (no file's ingest takes it; ``inf``
passed and 1e300 overflowed the timer)."""

MOST_SIZE = 2**50
"""The most bytes one file may be given (``file_memory_limit``): 1 PiB."""

MOST_TABLE_LINES = 1_000_000
"""The most header lines a manifest may tell a text-table parser to skip."""

LEAST_LR = 1e-8
"""The smallest learning rate (and peak) a training stage takes. An AdamW step moves each weight
by about the rate (its update is normalised to ~1 per weight), and float32 spaces numbers near
0.1 (LaBraM's layer-scale gains start there; its norms' gains at 1.0, spaced 1.2e-7) 7.5e-9
apart: a smaller step rounds away and the run trains nothing (``lr=1e-30`` ran all its steps
without a word). The recipe's smallest rates sit well above: ``min_lr`` 1e-6 (``--recipe
original`` fine-tuning), the base tokenizer's 5e-5 x batch / 128 at one window a step 3.9e-7."""

LEAST_GRAD_CLIP = 1e-3
"""The smallest gradient-norm clip. Clipped to a total norm c, each of a model's P weights gets
a gradient of about c / sqrt(P), and AdamW divides it by sqrt(v) + eps (PyTorch's 1e-8): once
that is near eps the step shrinks with c, so a tiny clip is a hidden learning-rate cut, not a
clip (``grad_clip=1e-20`` made every step about 1e-12 of ``lr``). At 1e-3 Huge's 369 M weights
get 5e-8 each, still above eps; the recipe's clip is 3.0."""

LEAST_LAYER_DECAY = 0.1
"""The smallest layer-wise learning-rate decay: layer i trains at ``lr x layer_decay^(L+1-i)``,
so below 0.1 the top block trains at under a tenth of the head's rate and each block under it a
tenth of the one above: the backbone is frozen in effect, as by 0, which the bound refused
(a frozen backbone is ``--protocol linear-probe``). The recipe's is 0.65."""


LEAST_TOKENS = 2
"""The fewest tokens (channel-seconds) a window is any use with: masked modelling predicts half
of a window's tokens from the other half (``n_tokens``' floor)."""

FEW_TOKENS = (
    "a window is of no use under 2 tokens (channel-seconds: masked modelling predicts half of "
    "them from the other half) and holds 1 s of each of its channels at least, so no window "
    "keeps such a budget (each is cut at 1 s); give the channels x seconds a window should "
    "hold (LaBraM's 256)"
)
"""Why a ``token_budget`` under :data:`LEAST_TOKENS` is a warning."""

SMALLEST_NORMAL = sys.float_info.min
"""The smallest normal float64 (2.2e-308): a number not zero closer to 0 is denormal
(subnormal), holding fewer digits the smaller it is, and no setting means one (``5e-324`` as a
weight decay, a dropout or a duration was taken as written)."""


@dataclass(frozen=True)
class Bound:
    """The numbers one setting takes: ``low`` to ``high``, whole numbers only when ``whole``;
    ``above``: ``low`` itself excluded, ``below``: ``high`` itself excluded. ``useful``: the
    least value that does what the setting is for (taken below it, with a warning saying
    ``why``); None where every value in range does."""

    low: float
    high: float
    whole: bool = True
    above: bool = False
    below: bool = False
    useful: float | None = None
    why: str = ""

    def words(self) -> str:
        """``an integer from 1 to 65,536`` or ``a number in (0, 10]``."""
        if self.whole:
            return f"an integer from {self.low:,} to {self.high:,}"
        opening, closing = "(" if self.above else "[", ")" if self.below else "]"
        return f"a number in {opening}{_number(self.low)}, {_number(self.high)}{closing}"

    def holds(self, value: float) -> bool:
        """Whether the number ``value`` lies inside (False for NaN)."""
        over = value > self.low if self.above else value >= self.low
        under = value < self.high if self.below else value <= self.high
        return bool(over and under)


def _number(x: float) -> str:
    """``10,737,418`` for a large whole number, ``0.005`` or ``10`` otherwise."""
    return f"{int(x):,}" if x == int(x) and abs(x) >= 1e4 else f"{x:g}"


def _whole(low: float, high: float, *, useful: float | None = None, why: str = "") -> Bound:
    return Bound(low, high, useful=useful, why=why)


def _amount(low: float, high: float, *, above: bool = False, below: bool = False) -> Bound:
    return Bound(low, high, whole=False, above=above, below=below)


BOUNDS: dict[str, Bound] = {
    # labram training (TrainConfig, its window fields, the training commands' flags)
    "seed": _whole(0, MAX_WHOLE),  # numpy takes no negative seed
    "split_seed": _whole(0, MAX_WHOLE),
    "epochs": _whole(1, MAX_WHOLE),
    "max_steps": _whole(1, MAX_WHOLE),
    "ckpt_every": _whole(1, MAX_WHOLE),
    "log_every": _whole(1, MAX_WHOLE),
    "batch_size": _whole(1, MOST_BATCH),  # windows per step per process, allocated whole
    "lr_batch": _whole(1, MAX_WHOLE),  # a global batch: batch_size x processes
    "dead_after": _whole(1, MOST_MODEL_COUNT),  # the tokenizer config's field it sets
    "threads": _whole(1, 1024),  # 10^5 crashed torch
    "num_workers": _whole(0, 256),  # a process each
    "lr": _amount(LEAST_LR, 10),  # below: no step moves a weight; above 10 each dwarfs them
    "min_lr": _amount(0, 10),
    "weight_decay": _amount(0, 10),
    "layer_decay": _amount(LEAST_LAYER_DECAY, 1),  # 0 (or 1e-30) freezes all but the head
    "grad_clip": _amount(LEAST_GRAD_CLIP, 1e6),  # none: no clipping
    "warmup_epochs": _amount(0, MAX_WHOLE),  # 1e300 overflowed the warm-up's step count
    "drop_path": _amount(0, 1, below=True),  # 1 drops every block
    "label_smoothing": _amount(0, 1, below=True),  # 1 leaves no target
    "betas": _amount(0, 1, below=True),  # Adam's decays; 1 never forgets
    "corpus_weights": _amount(0, 1000),  # w repeats a corpus's windows w times an epoch
    "token_budget": _whole(1, MAX_WHOLE, useful=LEAST_TOKENS, why=FEW_TOKENS),  # channels x s
    "max_seconds": _whole(1, 16),  # the time table's rows
    "max_channels": _whole(1, MAX_WHOLE),
    "stride_seconds": _amount(1 / 200, MAX_WHOLE // 200),  # one sample to MAX_WHOLE samples
    "block_seconds": _whole(1, MAX_WHOLE),  # one Zarr read's span
    # labram embed, finetune, convert
    "chunk_windows": _whole(1, MOST_BATCH),  # held in memory and written as one chunk
    "seeds": _whole(1, MOST_SEEDS),
    "folds": _whole(2, 10_000),
    "shots": _whole(1, MAX_WHOLE),
    "n_outputs": _whole(1, 100_000),  # a classifier's logits (a checkpoint's claim too)
    "pool_batches": _whole(1, MAX_WHOLE),  # the sampler's batches per shuffling pool
    "cache_mb": _amount(0, 1_000_000),  # the block reader's chunk cache per process, MB
    "group_mb": _amount(0, 1_000_000, above=True),  # the batches filled at once, MB
    "head_init_scale": _amount(0, 1),  # the classifier head's init x this (0.001 as LaBraM)
    "peak_lr": _amount(LEAST_LR, 10),  # lr x global batch / lr_batch: as lr
    "n_layers": _whole(1, MAX_WHOLE),  # layer-wise lr decay's layers (depth + 2)
    "mask_ratio": _amount(0, 1, above=True, below=True),  # 0 or 1 leaves a pass no token
    "n_tokens": _whole(2, MAX_WHOLE),  # a sample's patches: one masked, one kept at least
    # eegprep ingest (IngestConfig, Limits)
    "workers": _whole(0, 1024),  # 0: this process; at most 4 per core, checked at the start
    "limit": _whole(1, MAX_WHOLE),
    "commit_every": _whole(1, MAX_WHOLE),
    "prune_max": _amount(0, 1),
    "keep_replaced": _amount(0, KEEP_MOST_S),
    "file_time_limit": _amount(0, FILE_TIME_MOST_S, above=True),
    "file_memory_limit": _whole(1, MOST_SIZE),
    # eegprep's preprocessing (Recipe): relations (l_freq < h_freq < sfreq / 2) checked after
    "sfreq": _amount(0, 100_000, above=True),
    "l_freq": _amount(0, 50_000, above=True),
    "h_freq": _amount(0, 50_000, above=True),
    "recipe.block_seconds": _amount(10, 10_000_000),  # 1e7 s (116 days): a whole recording
    # labram's model and tokenizer configs (every int field: 1 to MOST_MODEL_COUNT); a
    # checkpoint's config may claim any number: one outside describes no model this code trains
    "model.count": _whole(1, MOST_MODEL_COUNT),
    "model.mlp_ratio": _amount(0, 64, above=True),  # LaBraM's: 4; dim * mlp_ratio a count too
    "model.layer_scale_init": _amount(0, 1),  # LaBraM's: 0.1; 0 disables layer scale
    "model.norm_eps": _amount(0, 0.1, above=True),  # LaBraM's: 1e-6
    "model.drop_path": _amount(0, 1, below=True),  # 1 would drop the last block always
    "model.init_std": _amount(0, 1, above=True),  # LaBraM's: 0.02
    "model.decay": _amount(0, 1),  # LaBraM's: 0.99
    "model.beta": _amount(0, 100),  # LaBraM's: 1.0
    # a manifest's reader and sidecar-parser options (eegprep.readers.base.option_number)
    "option.header_lines": _whole(0, MOST_TABLE_LINES),  # lines before a table's rows
    "option.eeg_header_lines": _whole(0, MOST_TABLE_LINES),
    "option.channel_header_lines": _whole(0, MOST_TABLE_LINES),
    "option.n_targets": _whole(1, 100_000),  # a table's value columns after its time column
    "option.scale": _amount(0, 1e9, above=True),  # a factor of every sample or value
    "option.duration": _amount(0, 86_400),  # s, each event's: a day at most
    "option.duration_tolerance_s": _amount(0, 86_400),  # s
    "option.columns": _whole(-MAX_WHOLE - 1, MAX_WHOLE),  # a column index; negative from the end
}
"""Every bounded numeric setting, by field name (``scope.name`` where two settings of one name
differ: ``recipe.block_seconds``)."""


def bound_of(name: str) -> Bound:
    """The entry of :data:`BOUNDS` for ``name`` (``scope.name``, else the bare name)."""
    if name in BOUNDS:
        return BOUNDS[name]
    return BOUNDS[name.rpartition(".")[2]]


def check_number(
    name: str,
    value: object,
    *,
    key: str | None = None,
    error: type[Exception] = UsageError,
) -> int | float:
    """``value`` as setting ``name`` (its bounds: ``key``, else ``name``, in :data:`BOUNDS`): a
    plain ``int`` (whole settings) or ``float``; else ``error`` naming ``name``, the value and
    the range, in one line. A numpy scalar of a valid value is taken; a ``bool``, text, NaN,
    an infinity, a fraction where a count is meant, a number out of range are not."""
    bound = bound_of(key or name)
    if bound.whole:
        ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
        number: float = int(value) if ok else 0  # type: ignore[call-overload]
    else:
        ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
        try:  # (an int of 400 digits is no float: OverflowError, a traceback)
            number = float(value) if ok else math.nan  # type: ignore[arg-type]
        except OverflowError:
            number = math.nan
        ok = ok and math.isfinite(number)
    if ok and denormal(number):
        raise invalid_value(
            name, _shown(value), expected=bound.words(), hint=DENORMAL_FIX, error=error
        )
    if not ok or not bound.holds(number):
        raise invalid_value(name, _shown(value), expected=bound.words(), error=error)
    warn_useless(name, number, bound)
    return number + 0 if isinstance(number, float) else number  # (-0.0 is 0.0)


DENORMAL_FIX = (
    "It is a denormal float (not zero, closer to 0 than 2.2e-308, float64's smallest normal "
    "number), which no setting means: write 0, or a number of the range"
)
"""What a setting given a denormal float is told (after the range it takes)."""


def denormal(number: float) -> bool:
    """Whether ``number`` is a denormal (subnormal) float: not zero, closer to 0 than
    :data:`SMALLEST_NORMAL`."""
    return number != 0 and abs(number) < SMALLEST_NORMAL


def warn_useless(name: str, number: float, bound: Bound) -> None:
    """Warn (one line naming ``name``) where ``number`` is in range yet under the least value
    that does what the setting is for (:attr:`Bound.useful`)."""
    if bound.useful is not None and number < bound.useful:
        warnings.warn(
            f"{name} {number:g} is under {bound.useful:g}: {bound.why}",
            stacklevel=3,
        )


def _shown(value: object) -> object:
    """``value`` for a message: a number's own digits cut to 40 characters."""
    text = repr(value) if not isinstance(value, str) else value
    return value if len(text) <= 40 else text[:37] + "..."


def check_fields(obj: object, names: tuple[str, ...], *, scope: str = "", **kw: object) -> None:
    """Check each field ``names`` of the frozen dataclass ``obj`` (:func:`check_number`; None,
    an optional field left unset, passes) and store it back as a plain number."""
    for name in names:
        value = getattr(obj, name)
        if value is None:
            continue
        key = f"{scope}.{name}" if scope and f"{scope}.{name}" in BOUNDS else name
        number = check_number(name, value, key=key, **kw)  # type: ignore[arg-type]
        if type(value) is not type(number) or value != number or repr(value) != repr(number):
            object.__setattr__(obj, name, number)


__all__ = [
    "BOUNDS",
    "DENORMAL_FIX",
    "FILE_TIME_MOST_S",
    "KEEP_MOST_S",
    "MAX_WHOLE",
    "MOST_BATCH",
    "MOST_MODEL_COUNT",
    "MOST_SEEDS",
    "MOST_SIZE",
    "Bound",
    "bound_of",
    "check_fields",
    "check_number",
    "denormal",
    "warn_useless",
]
