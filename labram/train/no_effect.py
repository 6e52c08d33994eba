"""Settings whose effect another setting's value takes away: one warning each, naming both.

``--set time_embed_layer=top`` moves the time table to the top layer of layer-wise learning-rate
decay; with ``layer_decay`` 1.0 every layer has the same rate, so the move changes nothing, and
the run went on as if it had. Such a setting, given (by ``--set``, a flag or the ``--config``
file) for a stage that reads it, is a warning (the style's rule for an option that silently has
no effect), once, in one line naming both settings and what to change. The preset's or the
recipe's own values are not warned about: ``--recipe original`` sets ``time_embed_layer`` for
every stage, where ``layer_decay`` is 1.0 in pre-training by design.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from labram.train.set_scope import STAGE_FIELDS


@dataclass(frozen=True)
class NoEffect:
    """``name`` has no effect when ``idle(cfg)``, because of ``other``; ``why`` says so."""

    name: str
    other: str
    idle: Callable[[Any], bool]
    why: str


RULES = (
    NoEffect("time_embed_layer", "layer_decay", lambda c: c.layer_decay == 1.0,
             "layer_decay 1.0 gives every layer the same learning rate, so the layer the time "
             "table is counted in changes nothing; set layer_decay below 1 (fine-tuning: 0.65) "
             "or leave time_embed_layer out"),
    NoEffect("dead_after", "revive_dead_codes", lambda c: not c.revive_dead_codes,
             "revive_dead_codes false revives no code, so how long a code may stay unused "
             "changes nothing; set revive_dead_codes true or leave dead_after out"),
    NoEffect("warmup_start", "warmup_epochs", lambda c: c.warmup_epochs == 0,
             "warmup_epochs 0 leaves no warm-up, so the rate it would start from changes "
             "nothing; set warmup_epochs above 0 or leave warmup_start out"),
)  # fmt: skip
"""Each setting whose effect depends on another's value."""


def _shown(value: object) -> str:
    """A value as ``--set`` takes it (``false``, ``1.0``, ``top``)."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def warn_no_effect(cfg: object, given: Iterable[str], stage: str) -> list[str]:
    """Warn (``warnings.warn``, one line each) of each setting of :data:`RULES` named in
    ``given`` (the fields set explicitly for ``stage``) that ``cfg`` makes a no-op; the lines
    warned, for a caller that wants them."""
    given = set(given)
    lines = []
    for rule in RULES:
        if rule.name in given and rule.name in STAGE_FIELDS[stage] and rule.idle(cfg):
            value, other = _shown(getattr(cfg, rule.name)), _shown(getattr(cfg, rule.other))
            lines.append(
                f"{rule.name} {value} has no effect with {rule.other} {other} ({stage} stage): "
                f"{rule.why}"
            )
    for line in lines:
        warnings.warn(line, stacklevel=3)
    return lines
