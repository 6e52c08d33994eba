"""How a recording's samples are stored: the encoding chosen from the source's ADC step, and
its error bound.

``auto`` (the default) stores integer sources quantized, at 1/:data:`QUANTUM_FRACTION` of
the source's own step (error <= half of that), and sources without a known step as float32."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

QUANTUM_FRACTION = 8  # quantized encoding: step = source ADC resolution / 8


FLOAT_SOURCE_QUANTUM_UV = 1e-3  # step for sources that store floats (no ADC resolution known)


def quantum_uv(resolutions: list[float]) -> float:
    """The quantized encoding's step (uV): the finest source resolution / QUANTUM_FRACTION."""
    known = [r for r in resolutions if r > 0]
    return min(known) / QUANTUM_FRACTION if known else FLOAT_SOURCE_QUANTUM_UV


def choose_encoding(encoding: str, resolutions: list[float]) -> dict[str, Any]:
    """One recording's stored encoding, its step and its error bound (the record's fields).

    Parameters
    ----------
    encoding : str
        The recipe's: ``auto`` becomes ``quantized`` when every stored channel has a known ADC
        step (``resolutions``, uV, all > 0), ``float32`` otherwise; any other is kept.
    resolutions : list of float
        The source ADC step of each stored channel, uV (0: the format stores floats).

    Returns
    -------
    dict
        ``encoding``; ``quantum_uv`` (the quantized step, else ``None``); ``max_error_uv``
        (half the step: the largest rounding error, 1/16 of the finest ADC step; ``None`` for
        the float encodings: float32 holds the computed value, float16 a relative error).
    """
    if encoding == "auto":
        known = bool(resolutions) and all(r > 0 for r in resolutions)
        encoding = "quantized" if known else "float32"
    if encoding != "quantized":
        return {"encoding": encoding, "quantum_uv": None, "max_error_uv": None}
    quantum = quantum_uv(resolutions)
    return {"encoding": encoding, "quantum_uv": quantum, "max_error_uv": quantum / 2}


AS_STORED_BLOCK = 1 << 18
"""Samples :func:`as_stored` converts at once (its temporaries: 12 bytes a sample, 3 MiB)."""


def as_stored(x: np.ndarray, encoding: dict[str, Any], *, in_place: bool = False) -> np.ndarray:
    """float32 samples ``x`` as a store returns them once written with ``encoding`` (the
    fields :func:`choose_encoding` gives): what ``labram predict`` computes in memory equals,
    to the bit, what training reads from the store. Raises :class:`EncodingRangeError` where
    the store would refuse a sample (:func:`check_range`).

    Converted :data:`AS_STORED_BLOCK` samples at a time (each sample on its own, so the result
    is the same), so that the temporaries stay small whatever the recording's length (the
    whole-array steps took 4 times its size, a float64 copy among them); ``in_place``: written
    over ``x`` (C-contiguous), which is returned."""
    kind = encoding["encoding"]
    if kind not in ("quantized", "float16"):
        return x
    scale = 1.0 / encoding["quantum_uv"] if kind == "quantized" else None  # as its metadata
    check_range(x, kind, scale)
    assert not in_place or (x.dtype == np.float32 and x.flags.c_contiguous)
    src = x if in_place else np.ascontiguousarray(x)
    out = x if in_place else np.empty(src.shape, np.float32)
    flat_in, flat_out = src.reshape(-1), out.reshape(-1)  # (views: contiguous)
    for a in range(0, flat_in.size, AS_STORED_BLOCK):
        part = flat_in[a : a + AS_STORED_BLOCK]
        if scale is not None:
            ints = quantize(part, scale, np.empty(part.shape, "<i4"))
            flat_out[a : a + AS_STORED_BLOCK] = np.divide(ints, scale, dtype=np.float64)
        else:
            flat_out[a : a + AS_STORED_BLOCK] = part.astype(np.float16)
    return out


EXACT_CODES = 2.0**16
"""Codes below which :func:`quantize` multiplies in float32, as numcodecs' ``FixedScaleOffset``
does (its product's rounding: under 1/512 of a code); a sample of a larger code is multiplied
in float64, where float32's rounding of the product (``|code| * 2^-24`` codes, 4 at a 24-bit
BDF's full scale) would break the half-quantum bound."""


def quantize(
    x: np.ndarray, scale: float, out: np.ndarray, scratch: np.ndarray | None = None
) -> np.ndarray:
    """The quantized encoding's int32 codes of float32 samples ``x`` (uV, any shape), at
    ``scale`` codes per uV, written into ``out`` (int32, ``x``'s shape) and returned:
    ``x * scale`` rounded half to even, numcodecs' integers where every code is under
    :data:`EXACT_CODES`, the product taken in float64 for the samples whose code is not, so
    that each code is within half a code of ``x * scale`` (what ``max_error_uv`` states).

    ``scratch``: a float32 array of ``x``'s shape for the product (else one is made). The
    range is the caller's (:func:`check_range`)."""
    scaled = np.multiply(x, np.float32(scale), out=scratch, dtype=np.float32)
    lo, hi = (float(scaled.min()), float(scaled.max())) if scaled.size else (0.0, 0.0)
    np.rint(scaled, out=out, casting="unsafe")
    if max(-lo, hi) >= EXACT_CODES:  # (NaN: refused after the write, whatever its code)
        big = np.abs(scaled) >= EXACT_CODES
        out[big] = np.rint(x[big].astype(np.float64) * scale)
    return out


INT32_CODES = 2**31 - 256
"""The largest integer the quantizer stores: int32's, less float32's rounding of ``x * scale``
near 2^31 (128), so that every code in range stays in range."""
FLOAT16_MAX_UV = 65504.0  # float16's largest finite value: beyond it a sample becomes infinite


def limit_uv(encoding: str, scale: float | None = None) -> float:
    """The largest magnitude (uV) a sample can have in ``encoding``: int32 codes of ``1 /
    scale`` uV (``quantized``, ``scale`` as its quantizer holds it), float16's largest finite
    value, or no limit (float32)."""
    if encoding == "quantized" and scale:
        return INT32_CODES / scale
    if encoding == "float16":
        return FLOAT16_MAX_UV
    return float("inf")


class EncodingRangeError(ValueError):
    """A sample beyond what the encoding holds (:func:`limit_uv`): written, it would become
    another value (an int32 cast wraps; float16 overflows to infinity)."""

    def __init__(self, encoding: str, peak_uv: float, limit: float) -> None:
        self.encoding, self.peak_uv, self.limit_uv = encoding, peak_uv, limit
        super().__init__(self.problem())

    def problem(self) -> str:
        """One line for the report, with what to do."""
        return (
            f"samples reach {self.peak_uv:.4g} uV, beyond the {self.encoding} encoding's "
            f"+-{self.limit_uv:.4g} uV: ingest with --encoding float32, or check the "
            "channels' units"
        )

    def float32_note(self) -> str:
        """The report's warning when ``auto`` stores the recording as float32 instead."""
        return (
            f"stored as float32, not quantized: samples reach {self.peak_uv:.4g} uV, beyond the "
            f"quantized encoding's +-{self.limit_uv:.4g} uV at its step; check the channels' units"
        )


def check_range(x: np.ndarray, encoding: str, scale: float | None = None) -> None:
    """Raise :class:`EncodingRangeError` when a finite sample of ``x`` (uV) is beyond
    :func:`limit_uv` (non-finite samples are refused elsewhere, whatever the encoding)."""
    limit = limit_uv(encoding, scale)
    if limit == float("inf") or x.size == 0:
        return
    lo, hi = float(np.min(x)), float(np.max(x))
    peak = max(abs(lo), abs(hi))
    if math.isfinite(peak) and peak >= limit:
        raise EncodingRangeError(encoding, peak, limit)
