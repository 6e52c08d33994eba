"""The optimiser's numbers checked against each other before a stage trains.

Each number has its range in :data:`eegprep.base.bounds.BOUNDS` (``lr``, ``min_lr``,
``weight_decay``, ``betas``, ``grad_clip``, ``warmup_epochs``, the peak ``peak_lr``); some
pairs inside their ranges still break a run without a word, and are refused here in one line
naming both and what to change:

- ``min_lr`` above the peak learning rate: the cosine "decays" upwards, the rate rising over
  the whole run;
- the peak learning rate times ``weight_decay`` at 1 or more: AdamW's decoupled decay
  multiplies every decayed weight by ``1 - lr x weight_decay`` each step, so each step zeroes
  the weights or flips their sign.

``warmup_epochs`` at ``epochs`` or more is a warning (:func:`warn_long_warmup`), not a refusal:
the warm-up then takes all of the run's steps but the last
(:func:`labram.train.optim.schedule_steps`), so the rate climbs all run long and never follows
its cosine to ``min_lr``; the run is still well defined, and a short trial run
(``labram finetune --epochs 1`` on a preset of one warm-up epoch) is what a user means by it.

The command line and the entry functions (``finetune``, ``pretrain``, ``train_tokenizer``) both
call :func:`check_stage_schedule` and :func:`warn_long_warmup`: one rule, one line, whichever way
a stage is driven.
"""

from __future__ import annotations

import warnings
from typing import Protocol

from eegprep.base.bounds import bound_of, check_number
from eegprep.base.errors import UsageError
from eegprep.base.ranks import torchrun_place


class ScheduleConfig(Protocol):
    """What the checks read of a :class:`labram.train.config.TrainConfig` (which imports this
    module: a protocol, not an import back); read-only, as the frozen config's fields."""

    @property
    def stage(self) -> str: ...
    @property
    def lr(self) -> float: ...
    @property
    def lr_batch(self) -> int | None: ...
    @property
    def min_lr(self) -> float: ...
    @property
    def weight_decay(self) -> float: ...
    @property
    def warmup_epochs(self) -> float: ...
    @property
    def epochs(self) -> int: ...
    def peak_lr(self, world_size: int) -> float: ...


def check_schedule(
    cfg: ScheduleConfig, peak: float, *, error: type[Exception] = UsageError
) -> float:
    """``peak`` (``lr``, scaled by ``lr_batch`` where set) checked against its bound and
    against ``min_lr`` and ``weight_decay``; the peak returned as a float.

    Raises
    ------
    error
        One line naming the settings, their values and what to change.
    """
    scaled = "" if cfg.lr_batch is None else f" (lr {cfg.lr:g} x global batch / lr_batch)"
    what = f"the peak learning rate {peak:g}{scaled}"
    try:
        peak = float(check_number("lr", peak, key="peak_lr"))
    except UsageError:
        low = peak < bound_of("peak_lr").low
        fix = "raise lr or lower lr_batch" if low else "lower lr or raise lr_batch"
        if cfg.lr_batch is None:
            fix = fix.partition(" or ")[0]
        raise error(
            f"{what} ({cfg.stage} stage) is not {bound_of('peak_lr').words()}: {fix}"
        ) from None
    if cfg.min_lr > peak:
        raise error(
            f"min_lr {cfg.min_lr:g} is above {what} ({cfg.stage} stage): the cosine would raise "
            "the learning rate over the run instead of lowering it; lower min_lr or raise lr"
        )
    if peak * cfg.weight_decay >= 1:
        raise error(
            f"weight_decay {cfg.weight_decay:g} times {what} is {peak * cfg.weight_decay:g} "
            f"({cfg.stage} stage): AdamW multiplies each decayed weight by 1 - lr x "
            "weight_decay every step, so every step would zero the weights or flip their sign; "
            "lower weight_decay or lr so that their product is below 1"
        )
    return peak


def warn_long_warmup(cfg: ScheduleConfig) -> str | None:
    """Warn (one line, ``warnings.warn``) when ``warmup_epochs`` is ``epochs`` or more; the line
    warned, or None."""
    if cfg.warmup_epochs < cfg.epochs:
        return None
    line = (
        f"warmup_epochs {cfg.warmup_epochs:g} is not below epochs {cfg.epochs} ({cfg.stage} "
        "stage): the learning rate warms up over all of the run's steps but the last, reaches "
        "its peak only there and never follows its cosine to min_lr; lower warmup_epochs "
        "below epochs (or raise epochs) for the schedule as written"
    )
    warnings.warn(line, stacklevel=3)
    return line


def check_stage_schedule(cfg: ScheduleConfig, *, error: type[Exception] = UsageError) -> None:
    """:func:`check_schedule` of ``cfg`` at its peak for this run's processes: what an entry
    function (``finetune``, ``pretrain``, ``train_tokenizer``) checks before it touches its
    folder, and the command line when it builds the config; the processes are torchrun's
    (:func:`~eegprep.base.ranks.torchrun_place`)."""
    check_schedule(cfg, cfg.peak_lr(torchrun_place()[2]), error=error)
