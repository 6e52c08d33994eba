"""The whole sampling rate a rounded header field stands for.

Some formats give the rate as a number a writer had to round: an EDF/BDF record duration fills
8 characters (one sample a record at 256 Hz is ``0.003906`` s, not 0.00390625), a BrainVision
``SamplingInterval`` is often whole microseconds (``3906`` for 256 Hz). Read as written, such a
file is 256.016 Hz: its samples stored 0.006% stretched, resampled by a ratio of large numbers.

The rule (:func:`simpler_rate`): a field written ``v`` with its last digit worth ``u`` (``1e-6``
for ``0.003906``, ``1`` for ``3906``) stands for any value within ``u / 2`` of ``v`` (a writer
that rounds to the nearest digit, as printf does). The rates those values give form an
interval; where it holds exactly one whole rate in Hz, that rate is the file's. Where it holds
several, the simplest is, if it is far simpler than every other: a rate's significand is the
smaller of its odd part (2048 -> 1, 1664 -> 13) and its digits before trailing zeros (250 ->
25, 5000 -> 5), and the chosen one's must be at most 1/:data:`_SIMPLER` of every other's (2048
beside 2047..2051 Hz, not 1666 beside 1667 and 1668). Else nothing is changed, as it is not for
an interval wider than :data:`_WIDEST` of the rate (a field too coarse to say), one that holds
no whole rate (409.6 Hz as ``SamplingInterval=2441.40625``, or ``2441``: 409.58 to 409.75 Hz),
or one reaching past :data:`~eegprep.readers.base.MAX_SFREQ_HZ` (a damaged field, refused by
the reader).
A writer that cuts digits off instead of rounding is read so where its value is also the
nearest (``0.003906``), else as written. The caller decides which fields may be rounded at
all: an EDF record duration only when it fills its 8 characters (``2.5`` s is exact).
"""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation

import numpy as np

from eegprep.readers.base import MAX_SFREQ_HZ

_WIDEST = 0.02
"""The widest interval of rates (relative to the rate) the rule reads a whole rate from: a
field precise to +-1% or better."""
_SIMPLER = 8
"""How much simpler (its significand, :func:`_significand`) the chosen whole rate must be than
every other in the interval: 2048 Hz (1) beside 2050 Hz (205), not 1668 (417) beside 1666 (833)."""
_EXACT = 1e-12
"""Relative slack on the interval's ends: a value exactly half a digit away (``0.0078125``
written ``0.007812``, as printf rounds a half to even) lies in it despite float arithmetic."""


def last_digit(text: str) -> float | None:
    """What the last digit of the decimal number ``text`` is worth (``1e-6`` for
    ``0.003906``, ``1`` for ``3906``, ``0.01`` for ``3.9e-1``); None if ``text`` is no finite
    decimal number. A decimal comma is read as a point."""
    try:
        number = Decimal(text.strip().replace(",", "."))
    except InvalidOperation:
        return None
    if not number.is_finite():
        return None
    exponent = number.as_tuple().exponent
    assert isinstance(exponent, int)  # (finite: an int)
    try:
        return 10.0**exponent
    except OverflowError:  # (``1e400``: no rate field's)
        return None


def _significand(k: int) -> int:
    """The smaller of ``k``'s odd part and ``k`` without its trailing decimal zeros."""
    odd, decimal = k, k
    while odd % 2 == 0:
        odd //= 2
    while decimal % 10 == 0:
        decimal //= 10
    return min(odd, decimal)


def simpler_rate(low: float, high: float) -> int | None:
    """The whole rate (Hz) the interval of rates ``[low, high]`` stands for, by the module's
    rule; None where it stands for none."""
    if not (0 < low < high <= MAX_SFREQ_HZ) or high - low > _WIDEST * low:
        return None  # (so at most 20,000 whole rates are weighed)
    whole = range(math.ceil(low * (1 - _EXACT)), math.floor(high * (1 + _EXACT)) + 1)
    if len(whole) <= 1:
        return whole[0] if whole else None
    ranked = sorted(whole, key=_significand)
    best, second = _significand(ranked[0]), _significand(ranked[1])
    return ranked[0] if best * _SIMPLER <= second else None


def rate_of_period(text: str, per_period: float) -> float | None:
    """The whole rate ``per_period`` samples in a period written ``text`` (in s) stand for,
    where that differs from ``per_period / float(text)``; else None (no simpler rate, or the
    text spelled it exactly)."""
    step = last_digit(text)
    if step is None or per_period <= 0:
        return None
    value = float(text.strip().replace(",", "."))
    if value - step / 2 <= 0:
        return None
    written = per_period / value
    rate = simpler_rate(per_period / (value + step / 2), per_period / (value - step / 2))
    if rate is None or math.isclose(rate, written, rel_tol=1e-12):  # (spelled exactly)
        return None
    return float(rate)


def written_step(values: np.ndarray) -> float | None:
    """The step a column of numbers is written to (``1e-3`` for times in ms to 3 decimals):
    the coarsest power of ten from 1 down to 1e-9 every value is a whole multiple of (within
    float error); None where there is none (a clock's times of 12 digits)."""
    if values.size == 0 or not np.isfinite(values).all():
        return None
    for digits in range(10):
        scaled = values * 10.0**digits
        slack = max(1e-6, 8 * np.finfo(float).eps * float(np.abs(scaled).max()))
        if float(np.abs(scaled - np.rint(scaled)).max()) <= slack:
            return 10.0**-digits
    return None


def rate_of_span(n_steps: int, span: float, step: float) -> float | None:
    """The whole rate ``n_steps`` sample periods over ``span`` (both ends written to ``step``,
    in the same unit as ``span``, s) stand for: the span is within ``step`` of its written
    value. None where there is none (:func:`simpler_rate`)."""
    if n_steps < 1 or span <= step:
        return None
    rate = simpler_rate(n_steps / (span + step), n_steps / (span - step))
    return None if rate is None else float(rate)


def rounded_note(field: str, rate: float, written_rate: float) -> str:
    """The warning a reader gives once per file whose rate it took from :func:`simpler_rate`:
    ``field`` as written (``record duration '0.003906' s``)."""
    return (
        f"{field} is rounded (it gives {written_rate:.6g} Hz): read at the {rate:g} Hz it "
        "stands for"
    )
