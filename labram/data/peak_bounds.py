"""How loud a recording can be, read from its record alone: whether it may hold a sample no EEG
has (past :data:`LOUD_UV`) without reading a chunk of it.

``labram pretrain``, ``tokenizer`` and ``finetune`` refuse, before their first step, windows
holding such samples (:func:`labram.data.finite_windows.check_finite_splits`); before, a
validation or test recording of 10^30 uV was found only when its split was scored, after every
epoch had run. Reading every window of a store to find them would cost its whole size, so a
recording's record answers first:

- an ingest's ``qc`` states each stored channel's RMS (``rms_uv``, uV, of the samples it
  wrote): no sample of a channel of ``n`` samples exceeds ``rms * sqrt(n)`` (the root of the
  sum of squares), so a channel whose bound is under :data:`LOUD_UV` needs no reading (for
  EEG, 50 uV for a day at 200 Hz bounds it by 2 x 10^5 uV);
- the ``quantized`` encoding stores int32 codes of ``quantum_uv``: no sample exceeds
  ``2^31 x quantum_uv`` (2.7 x 10^7 uV for an ADC step of 0.1 uV).

Either holds only for a record that vouches for its ``data``
(:func:`labram.data.finite_windows.vouched`). Any other recording, or one whose bound is not
under :data:`LOUD_UV`, is read: the chunks its windows use.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from eegprep.store.encoding import INT32_CODES
from eegprep.store.recording import Recording
from labram.data.block_reader import UV_PER_UNIT
from labram.data.sample_peaks import LOUD_UNITS

LOUD_UV = LOUD_UNITS * UV_PER_UNIT
"""Samples past this many microvolts (10^8 uV, 100 V) are no EEG's (:data:`LOUD_UNITS`)."""

MARGIN = 1.01
"""The bound's allowance for the ingest's float32 sums (relative error ~1e-7 per block) and a
float16 store's rounding (2^-11): 1%, as the shard writer allows its own range check."""


def _rms_bound(rec: Recording, rows: np.ndarray) -> float | None:
    """The largest sample magnitude (uV) the ``rows`` of ``rec`` can hold by its qc's
    ``rms_uv``; None where it states none for every stored channel (a number >= 0 each)."""
    rms: Any = rec.qc.get("rms_uv")
    if not isinstance(rms, list) or len(rms) != len(rec.channels):
        return None
    mine = [rms[int(r)] for r in rows if 0 <= int(r) < len(rms)]
    if len(mine) != len(rows):
        return None
    if any(_measure(v) is None for v in mine):
        return None
    top = max(mine, default=0.0) + 1e-4  # (stated to 4 decimals)
    error = _measure(rec.meta.get("max_error_uv"))
    extra = error if error is not None else 0.0
    return top * math.sqrt(max(rec.n_samples, 1)) * MARGIN + extra


def _code_bound(rec: Recording) -> float | None:
    """The largest sample magnitude (uV) the quantized encoding of ``rec`` holds; None for
    another encoding or a step that is not a positive number."""
    step = _measure(rec.meta.get("quantum_uv"))
    if rec.meta.get("encoding") != "quantized" or not step:
        return None
    return INT32_CODES * step * MARGIN


def _measure(value: Any) -> float | None:
    """``value`` as a float when it is a finite number >= 0 (not a bool), else None."""
    if type(value) not in (int, float) or not 0 <= value < math.inf:
        return None
    return float(value)


def quiet_by_record(rec: Recording, rows: np.ndarray) -> bool:
    """Whether the record of ``rec`` (one that vouches for its ``data``) shows that its rows
    ``rows`` (stored row numbers, int64) hold no sample past :data:`LOUD_UV`: by its channels'
    RMS or its encoding (module docstring). False: read them to know."""
    bounds = [b for b in (_rms_bound(rec, rows), _code_bound(rec)) if b is not None]
    return bool(bounds) and min(bounds) < LOUD_UV


__all__ = ["LOUD_UV", "MARGIN", "quiet_by_record"]
