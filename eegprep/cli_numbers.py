"""The numeric option types of both command lines: bounded on both sides, ASCII, finite.

click's own ``IntRange(min=1)`` and ``FloatRange(min=0)`` took any value above their floor:
``labram predict --batch-size 1000000000000`` allocated a batch of that many windows,
``--keep-replaced inf`` and ``--lr nan`` passed the option (NaN compares false with every
bound) to fail, if at all, deep in the command, without naming the option, and ``--workers ５``
(a full-width digit, which Python's ``int`` reads as 5) ran. :class:`Whole` and
:class:`Amount` take a number written in ASCII (spaces around it allowed), finite, inside both
bounds, and refuse anything else in one usage line naming the option and the range
(``docs/cli.md``, "Numeric options").
"""

from __future__ import annotations

import math
import re
from typing import Any

import click

from eegprep.base.bounds import DENORMAL_FIX, bound_of, denormal

# The bounds themselves live in eegprep/base/bounds.py (one table, read by the library's
# configs too): each option's type is made from its field's entry (:func:`bounded`).

_WHOLE = re.compile(r"[+-]?[0-9]{1,400}")
_DECIMAL = re.compile(r"[+-]?([0-9]{1,40}(\.[0-9]{0,40})?|\.[0-9]{1,40})([eE][+-]?[0-9]{1,4})?")


def _text(value: Any, pattern: re.Pattern[str], what: str, param: Any, ctx: Any) -> str:
    """``value`` stripped, if it is ``what`` written in ASCII (``pattern``); else the usage
    error (a full-width ``５`` or ``nan`` named as such)."""
    text = str(value).strip()
    if pattern.fullmatch(text) is None:
        if any(ch.isdigit() and not ch.isascii() for ch in text):
            why = "digits other than ASCII 0-9"
        elif text.lower().lstrip("+-") in ("nan", "inf", "infinity"):
            why = "not a finite number"
        else:
            why = f"not {what}"
        raise click.BadParameter(f"{str(value)[:40]!r} is {why}", ctx=ctx, param=param)
    return text


class Whole(click.IntRange):
    """A whole number from ``min`` to ``max`` (both required; at most
    :data:`eegprep.base.bounds.MAX_WHOLE`), written in ASCII digits."""

    def __init__(self, min: int, max: int) -> None:
        super().__init__(min=min, max=max)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str):
            value = _text(value, _WHOLE, "a whole number (e.g. 8)", param, ctx)
        return super().convert(value, param, ctx)


class Amount(click.FloatRange):
    """A finite number from ``min`` to ``max`` (both required; ``min_open``: above ``min``),
    written in ASCII (``0.5``, ``1e-3``)."""

    def __init__(
        self, min: float, max: float, *, min_open: bool = False, max_open: bool = False
    ) -> None:
        super().__init__(min=min, max=max, min_open=min_open, max_open=max_open)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str):
            value = _text(value, _DECIMAL, "a number (e.g. 0.5)", param, ctx)
        number = float(value) if isinstance(value, str) else value
        if isinstance(number, float) and denormal(number):  # (before the range: 5e-324 >= 0)
            self.fail(
                f"{value!r} is not zero, yet {DENORMAL_FIX.removeprefix('it is ')}", param, ctx
            )
        out = super().convert(value, param, ctx)
        if not math.isfinite(out):  # (NaN passes click's bounds: every comparison is false)
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return out + 0.0  # (-0.0 is 0.0)


def bounded(key: str) -> Whole | Amount:
    """The option type of setting ``key``: its entry of :data:`eegprep.base.bounds.BOUNDS`
    (the bounds the library's config field of that name checks)."""
    bound = bound_of(key)
    if bound.whole:
        return Whole(int(bound.low), int(bound.high))
    return Amount(bound.low, bound.high, min_open=bound.above, max_open=bound.below)


class ByteSize(click.ParamType):
    """A size in bytes: ``2G``, ``512M``, ``1.5GiB``, ``4096`` (binary units), 1 byte to 1 PiB
    (:func:`eegprep.base.limits.parse_size`), refused in the usage line naming the option."""

    name = "size"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from eegprep.base.errors import UsageError
        from eegprep.base.limits import parse_size

        try:
            return parse_size(value)
        except UsageError as exc:
            self.fail(str(exc).removeprefix("Invalid size ").rstrip("."), param, ctx)


__all__ = [
    "Amount",
    "ByteSize",
    "Whole",
    "bounded",
]
