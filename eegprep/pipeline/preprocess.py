"""Band-pass, notch and resample to the store rate, streamed in blocks.

The fast pipeline is one FFT pass per block, with MNE's filter designs (computed by
:mod:`eegprep.pipeline.fir`, the same kernels to the bit without importing MNE), so that its output
matches LaBraM's MNE path (``raw.filter(0.1, 75)``, ``raw.notch_filter(mains)``,
``raw.resample(200)``) closely while doing far less work. A segment of ``down * s`` source
samples and ``up * s`` output samples (``200 / sfreq_in = up / down``) spans the same time, so
their FFT bins share frequencies; the source spectrum is multiplied by

- the 75 Hz low-pass as MNE designs it for the source rate,
- the 0.1 Hz high-pass and the mains notch as MNE designs them at 200 Hz,
- a 1 Hz raised-cosine taper ending at the lower Nyquist frequency (band-limited resampling),

and transformed back at the output length. Each block's segment reaches ``Design.margin``
samples beyond it on both sides (the filters' reach), and the source is padded by odd
reflection at its edges (MNE's ``reflect_limited``), so the streamed output equals the
whole-recording result to float32 round-off and peak memory depends on the block length, not on
the recording's length. ``mode='mne'`` runs MNE's functions instead (reference; whole recording
in memory, float64). See docs/preprocessing.md for the designs and the measured difference
between the modes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

import ducc0
import numpy as np

from eegprep.base.errors import EegprepError
from eegprep.pipeline.fir import auto_h_trans, fir_kernel
from eegprep.pipeline.recipe import Recipe

ReadInto = Callable[[int, int, np.ndarray], None]
"""``read(start, stop, out)`` writes source samples ``[start, stop)`` of every channel, float32
microvolts at the source rate, into ``out`` of shape ``(n_channels, stop - start)`` (a view of a
larger array: its rows are contiguous, the array is not)."""


def array_source(x: np.ndarray) -> ReadInto:
    """The :data:`ReadInto` of an in-memory array ``(n_channels, n_samples)``."""

    def read(start: int, stop: int, out: np.ndarray) -> None:
        np.copyto(out, x[:, start:stop])

    return read


def output_length(n_in: int, sfreq_in: float, sfreq_out: float) -> int:
    """Samples after resampling, as MNE counts them: ``round(n_in * sfreq_out / sfreq_in)``."""
    return int(round(n_in * sfreq_out / sfreq_in))


@dataclass(frozen=True)
class Design:
    """The filters of one (source rate, mains, recipe) combination.

    Attributes
    ----------
    up, down : int
        Rational rate change ``sfreq_out / sfreq_in = up / down`` (reduced).
    lowpass : ndarray, shape (L,)
        MNE's low-pass FIR for ``sfreq_in`` (odd length, zero phase), as ``raw.filter`` designs
        its upper edge at the source rate.
    kernel : ndarray, shape (K,)
        Zero-phase FIR at the output rate: high-pass and notch.
    cut_hz : float
        The lower of the two Nyquist frequencies, where the response ends: it falls from 1 at
        ``cut_hz - TAPER_HZ`` to 0 at ``cut_hz`` (raised cosine); ``inf`` when there is no rate
        change (nothing to cut).
    margin : int
        Output samples each side of a block that a segment must cover: the reach of the kernel,
        of the low-pass and of the taper's ringing.
    """

    up: int
    down: int
    lowpass: np.ndarray
    kernel: np.ndarray
    cut_hz: float
    margin: int


TAPER_HZ = 1.0
"""Width of the raised-cosine taper that ends the response at the lower Nyquist frequency (Hz).
The low-pass is already in its stop band there (-53 dB or lower); the taper only keeps the cut
from ringing, so that FFT segments join to float32 round-off (docs/preprocessing.md)."""

GUARD_SECONDS = 1.0
"""Extra margin beyond the filters' reach for the taper's ringing (measured to be below float32
round-off well within this; see docs/preprocessing.md)."""


@lru_cache(maxsize=16)
def _output_kernel(sfreq: float, l_freq: float, mains: float | None) -> np.ndarray:
    """The high-pass, convolved with the mains notch when ``mains`` is given, at the output
    rate: the same for every source rate, so designed once per process."""
    kernel = fir_kernel(sfreq, l_freq, None)
    if mains is not None:
        # notch_filter's defaults: width mains/200, transition 1 Hz (0.5 each side)
        half = mains / 400.0 + 0.5
        notch = fir_kernel(
            sfreq, mains + half, mains - half, l_trans_bandwidth=0.5, h_trans_bandwidth=0.5
        )
        kernel = np.convolve(kernel, notch)
    kernel.setflags(write=False)  # shared by every design that uses it
    return kernel


MAX_DOWN = 100_000
"""The largest denominator of a resampling ratio ``up/down`` (the polyphase filter's phases)."""


MAX_RATE_ERROR = 1e-6
"""The largest relative error (1 ppm) of the rate a ratio ``up/down`` with ``down`` at most
:data:`MAX_DOWN` implies, where no ratio is exact to 1e-6 Hz: a rate measured from time stamps
(999.9999 Hz) is resampled by the nearest such ratio (1/5), its samples' times off by at most
3.6 ms an hour, far less than an amplifier's own clock (20-100 ppm; docs/preprocessing.md)."""


class RateRatioError(EegprepError, ValueError):
    """A source rate with no ratio ``up/down`` (``down`` at most :data:`MAX_DOWN`) to the
    recipe's rate within :data:`MAX_RATE_ERROR`: its samples cannot be resampled. A
    ``ValueError`` (it was one), and an :class:`~eegprep.base.errors.EegprepError`: the
    recording's one line says it, where it was an internal error."""


def resampling_ratio(sfreq_in: float, sfreq: float) -> tuple[int, int]:
    """``(up, down)`` with ``sfreq_in * up / down`` within 1e-6 Hz of ``sfreq``. A rate that is
    a float32 value (FIF keeps ``sfreq`` so: 204.8 Hz is 204.8000030517578) is taken as the
    shortest decimal that float32 writes so (204.8), when the value itself has no such ratio:
    a file at 204.8 Hz (2048 Hz / 10) was an internal error in every command. Where neither
    has one, a float32 rate is the fraction of smallest denominator it rounds from
    (:func:`_float32_fraction`): 5000/3 Hz, 1666.6666259765625 Hz as a float32, was refused.
    Where none is exact, the nearest ratio within :data:`MAX_RATE_ERROR` of the rate
    (:func:`_nearest_ratio`): 999.9999 Hz, refused before, is resampled by 1/5 (0.1 ppm off).

    Raises
    ------
    RateRatioError
        None of them has one."""
    exact = _exact_ratio(sfreq_in, sfreq)
    if exact is not None:
        return exact
    ratio, off = _nearest_ratio(sfreq_in, sfreq)
    if off <= MAX_RATE_ERROR:
        return ratio.numerator, ratio.denominator
    nearest = f" (the nearest, {ratio}, is {off * 1e6:.3g} ppm off)" if math.isfinite(off) else ""
    raise RateRatioError(
        f"source rate {sfreq_in!r} Hz has no ratio up/down (down at most {MAX_DOWN:,}) to the "
        f"recipe's {sfreq:g} Hz within {MAX_RATE_ERROR * 1e6:g} ppm{nearest}: its samples "
        "cannot be resampled; resample the file to a rate of a few digits (e.g. 250 or 256 Hz) "
        "first"
    )


def _exact_ratio(sfreq_in: float, sfreq: float) -> tuple[int, int] | None:
    """The ratio :func:`resampling_ratio` gives ``sfreq_in`` (Hz) where it is exact (to 1e-6
    Hz, of the rate or of the float32 it is); None where only a nearest one would do."""
    rates = [sfreq_in]
    if float(np.float32(sfreq_in)) == sfreq_in:
        rates.append(float(str(np.float32(sfreq_in))))
    for rate in rates:
        ratio = Fraction(sfreq / rate).limit_denominator(MAX_DOWN)
        if abs(ratio.numerator / ratio.denominator * rate - sfreq) <= 1e-6:
            return ratio.numerator, ratio.denominator
    if float(np.float32(sfreq_in)) == sfreq_in and sfreq_in > 0:
        exact = Fraction(sfreq).limit_denominator() / _float32_fraction(sfreq_in)
        if exact.denominator <= MAX_DOWN:
            return exact.numerator, exact.denominator
    return None


def near_ratio_note(sfreq_in: float, sfreq: float, seconds: float) -> str | None:
    """The warning for a recording of ``seconds`` s at ``sfreq_in`` Hz that is resampled to
    ``sfreq`` Hz by the nearest ratio (:func:`_nearest_ratio`), not an exact one: the ratio,
    how many ppm it is off and how far the last sample's time is off (ms); None where the
    ratio is exact. A rate with no ratio at all raises as :func:`resampling_ratio` does."""
    if _exact_ratio(sfreq_in, sfreq) is not None:
        return None
    up, down = resampling_ratio(sfreq_in, sfreq)
    off = abs(sfreq * down / up / sfreq_in - 1)
    return (
        f"source rate {sfreq_in!r} Hz resampled by {up}/{down}, the nearest ratio with down at "
        f"most {MAX_DOWN:,} to the recipe's {sfreq:g} Hz, {off * 1e6:.2g} ppm off: the last "
        f"sample's time is off by {off * seconds * 1e3:.2g} ms"
    )


def _nearest_ratio(sfreq_in: float, sfreq: float) -> tuple[Fraction, float]:
    """The ratio ``up/down``, ``down`` at most :data:`MAX_DOWN`, nearest ``sfreq / sfreq_in``
    (Hz / Hz), and how far the rate it implies, ``sfreq * down / up``, is from ``sfreq_in``
    (relative; ``inf`` for a rate that is not finite and above 0, or no ratio above 0)."""
    if not (math.isfinite(sfreq_in) and sfreq_in > 0):
        return Fraction(0), math.inf
    ratio = Fraction(sfreq / sfreq_in).limit_denominator(MAX_DOWN)
    if ratio == 0:
        return ratio, math.inf
    return ratio, abs(float(ratio) * sfreq_in / sfreq - 1)


def _float32_fraction(value: float) -> Fraction:
    """The fraction of smallest denominator that float32 rounds to ``value`` (a float32):
    5000/3 Hz for 1666.6666259765625 Hz, a 600 us sampling interval kept in a FIF, whose
    shortest decimal (1666.6666) is off by 4e-5 Hz."""
    half_ulp = Fraction(float(np.spacing(np.float32(value)))) / 2
    return _simplest_between(Fraction(value) - half_ulp, Fraction(value) + half_ulp)


def _simplest_between(low: Fraction, high: Fraction) -> Fraction:
    """The fraction of smallest denominator in ``[low, high]`` (``0 <= low < high``), by their
    continued fractions: the whole part they share, then the simplest between the reciprocals
    of what is left."""
    whole = math.floor(low)
    if whole == low or whole + 1 <= high:
        return Fraction(math.ceil(low))
    return whole + 1 / _simplest_between(1 / (high - whole), 1 / (low - whole))


@lru_cache(maxsize=64)
def design(sfreq_in: float, mains: float | None, recipe: Recipe) -> Design:
    """Filters for one source rate; cached per process."""
    up, down = resampling_ratio(sfreq_in, recipe.sfreq)
    h_trans = auto_h_trans(recipe.h_freq, sfreq_in)
    if h_trans <= 0:
        raise ValueError(
            f"source rate {sfreq_in} Hz is too low for a {recipe.h_freq} Hz low-pass "
            f"(needs more than {2 * recipe.h_freq} Hz)"
        )
    notch = recipe.notch and mains is not None and mains < recipe.sfreq / 2
    kernel = _output_kernel(recipe.sfreq, recipe.l_freq, mains if notch else None)
    low = fir_kernel(sfreq_in, None, recipe.h_freq, h_trans_bandwidth=h_trans)
    cut_hz = math.inf if up == down else min(sfreq_in, recipe.sfreq) / 2
    reach = (kernel.shape[0] - 1) // 2 + math.ceil((low.shape[0] - 1) // 2 * up / down)
    margin = reach + int(GUARD_SECONDS * recipe.sfreq)
    return Design(up, down, low, kernel, cut_hz, margin)


def _sampled_response(h: np.ndarray, n: int) -> np.ndarray:
    """The zero-phase response of the symmetric FIR ``h`` at the ``n // 2 + 1`` frequencies
    ``k / n`` (cycles per sample) of a length-``n`` real FFT (exact for any ``n``: the kernel is
    wrapped around the circle before transforming; float64, ducc0's transform: scipy.fft costs
    ~0.1 s to import)."""
    centre = (h.shape[0] - 1) // 2
    wrapped = np.zeros(n)
    np.add.at(wrapped, (np.arange(h.shape[0]) - centre) % n, h)
    return np.asarray(ducc0.fft.r2c(wrapped, nthreads=1).real)


@lru_cache(maxsize=32)
def _response(sfreq_in: float, mains: float | None, recipe: Recipe, s: int) -> np.ndarray:
    """Spectral weights of one segment of ``down * s`` source samples -> ``up * s`` output samples.

    Returns float32 values as complex64 (imaginary parts zero), shape
    ``(min(down, up) * s // 2 + 1,)``: low-pass x kernel x taper, scaled by
    ``up / down`` (the FFT-length ratio), for the bins the output keeps.
    """
    d = design(sfreq_in, mains, recipe)
    n_in, n_out = d.down * s, d.up * s
    n_bins = min(n_in, n_out) // 2 + 1
    weights = (
        _sampled_response(d.lowpass, n_in)[:n_bins] * _sampled_response(d.kernel, n_out)[:n_bins]
    )
    weights *= d.up / d.down
    if math.isfinite(d.cut_hz):
        f = np.arange(n_bins) * sfreq_in / n_in
        ramp = 0.5 * (1 + np.cos(np.pi * np.clip((f - d.cut_hz + TAPER_HZ) / TAPER_HZ, 0, 1)))
        weights *= np.where(f < d.cut_hz, ramp, 0.0)
    # float32 values held as complex64: multiplying the spectrum by them is then one complex
    # product per bin, as before, without numpy converting them to complex for every block's
    # rows (the same bits, 35-40% less time for that step)
    return weights.astype(np.float32).astype(np.complex64)


def _segment_size(d: Design, useful: int) -> int:
    """Smallest FFT-friendly ``s`` such that ``up * s`` output samples cover ``useful`` samples
    plus the margins on both sides and the grid alignment: even, with no prime factor above 7
    (:func:`_friendly`)."""
    return _friendly(math.ceil((useful + 2 * d.margin + d.up - 1) / d.up))


def _friendly(n: int) -> int:
    """The smallest even number >= ``n`` whose prime factors are 2, 3, 5 and 7 only.

    Both transform lengths of a segment, ``down * s`` and ``up * s``, are then even: ducc0's
    real transforms of odd lengths, or with factors of 11, ran up to 1.8x slower per sample
    (``ducc0.fft.good_size(n, False)`` allows both: 266,805 = 3^2 5 7^2 11^2 source samples for
    225 s at 1000 Hz took 29 ms for 31 channels, 268,800 = 2^9 3 5^2 7 took 16 ms;
    docs/benchmarks.md, section 8)."""
    s = max(2, n + n % 2)
    while True:
        m = s
        for p in (2, 3, 5, 7):
            while m % p == 0:
                m //= p
        if m == 1:
            return s
        s += 2


def _reflect_extend(
    x: np.ndarray,
    lo: int,
    hi: int,
    n: int,
    start: int,
    out: np.ndarray | None = None,
    *,
    placed: bool = False,
) -> np.ndarray:
    """Extend ``x`` (samples ``[start, start + x.shape[1])`` of a signal of length ``n``) to
    ``[lo, hi)`` by odd reflection about the signal's first and last samples; zeros beyond
    what reflection can reach (MNE's ``reflect_limited``). Written into ``out`` (shape
    ``(n_channels, hi - lo)``) when given; ``placed``: ``x`` is ``out``'s own view of samples
    ``[max(lo, 0), min(hi, n))``, which then stay where they are (only the edges are written)."""
    if out is None:
        out = np.empty((x.shape[0], hi - lo), dtype=x.dtype)
    # zeros only where reflection cannot reach (a recording shorter than the filters' reach)
    out[:, : max(0, min(hi, -(n - 1)) - lo)] = 0
    out[:, max(0, max(lo, 2 * n - 1) - lo) :] = 0
    s0, s1 = max(lo, 0), min(hi, n)
    if s1 > s0 and not placed:
        out[:, s0 - lo : s1 - lo] = x[:, s0 - start : s1 - start]
    p0, p1 = max(lo, -(n - 1)), min(hi, 0)
    if p1 > p0:  # e[p] = 2 x[0] - x[-p]: sources -p0 down to -p1 + 1
        mirrored = x[:, -p1 + 1 - start : -p0 + 1 - start][:, ::-1]
        np.subtract(2 * x[:, [0 - start]], mirrored, out=out[:, p0 - lo : p1 - lo])
    p0, p1 = max(lo, n), min(hi, 2 * n - 1)
    if p1 > p0:  # e[p] = 2 x[n-1] - x[2(n-1) - p]: sources 2(n-1) - p0 down to 2(n-1) - p1 + 1
        a, b = 2 * (n - 1) - p1 + 1 - start, 2 * (n - 1) - p0 + 1 - start
        np.subtract(2 * x[:, [n - 1 - start]], x[:, a:b][:, ::-1], out=out[:, p0 - lo : p1 - lo])
    return out


def _read_extended(read: ReadInto, n: int, lo: int, hi: int, out: np.ndarray) -> np.ndarray:
    """Samples ``[lo, hi)`` of the odd-reflection extension of a signal read by ``read``,
    written into ``out`` (shape ``(n_channels, hi - lo)``), which is returned.

    The source's samples are read straight into their place in ``out`` and the reflected
    edges computed from them there: no copy of the segment."""
    s0, s1 = max(lo, 0), min(hi, n)
    # reflection about sample 0 needs samples up to -lo; about n-1 needs down to 2(n-1)-hi+1
    a = max(0, min(lo, 2 * (n - 1) - hi + 1))
    b = min(n, max(hi, -lo + 1))
    if a == s0 and b == s1:  # what the edges mirror lies inside the segment (the usual case)
        core = out[:, s0 - lo : s1 - lo]
        if s1 > s0:
            read(s0, s1, core)
        if lo < 0 or hi > n:
            _reflect_extend(core, lo, hi, n, s0, out, placed=True)
        return out
    # a recording shorter than the filters' reach: its mirror images reach beyond the segment
    x = np.empty((out.shape[0], b - a), dtype=out.dtype)
    read(a, b, x)
    return _reflect_extend(x, lo, hi, n, a, out)


def _block(
    read: ReadInto,
    n_channels: int,
    n_in: int,
    m0: int,
    m1: int,
    d: Design,
    s: int,
    weights: np.ndarray,
) -> np.ndarray:
    """Output samples ``[m0, m1)``: one FFT segment of ``down * s`` source samples whose
    ``up * s`` output samples start on the output grid at least ``margin`` before ``m0``;
    ``weights`` from :func:`_response` for that ``s``."""
    j0 = (m0 - d.margin) // d.up  # segment = source [j0 down, ...) = output [j0 up, ...)
    segment = np.empty((n_channels, s * d.down), dtype=np.float32)
    x = _read_extended(read, n_in, j0 * d.down, (j0 + s) * d.down, segment)
    n_out, n_bins = d.up * s, weights.shape[0]
    first = m0 - j0 * d.up
    # the inverse transforms land in one array of the segment's length, of which the block is a
    # view: no copy of the block's samples out of a scratch buffer
    out = np.empty((x.shape[0], n_out), dtype=np.float32)
    # a few rows at a time, through one spectrum buffer reused by each group: the rows' spectrum
    # stays in the CPU's cache instead of streaming the whole block's spectrum through memory
    rows = min(ROWS_PER_TRANSFORM, x.shape[0])
    spectrum = np.empty((rows, x.shape[1] // 2 + 1), dtype=np.complex64)
    down_sampling = spectrum.shape[1] >= n_out // 2 + 1
    product = spectrum[:, : n_out // 2 + 1] if down_sampling else None
    for r0 in range(0, x.shape[0], rows):
        k = min(rows, x.shape[0] - r0)
        # ducc0 (pocketfft's successor) transforms float32 rows ~1.2-1.8x faster than scipy.fft
        ducc0.fft.r2c(x[r0 : r0 + k], axes=(1,), nthreads=1, out=spectrum[:k])
        if product is not None:  # down-sampling: the output's bins, weighted in place
            product[:k, n_bins:] = 0
            product[:k, :n_bins] *= weights
            bins = product[:k]
        else:  # up-sampling: the bins above the source's are zero
            bins = np.zeros((k, n_out // 2 + 1), dtype=np.complex64)
            np.multiply(spectrum[:k, :n_bins], weights, out=bins[:, :n_bins])
        ducc0.fft.c2r(
            bins,
            axes=(1,),
            lastsize=n_out,
            forward=False,
            inorm=2,
            nthreads=1,
            out=out[r0 : r0 + k],
            allow_overwriting_input=True,
        )
    return out[:, first : first + (m1 - m0)]


ROWS_PER_TRANSFORM = 8
"""Channels transformed together in a block (see :func:`_block`). Measured on the 3 h benchmark
corpus (CPU s, fastest of 5 alternating runs, one core): every row at once 1.049, 16 rows
1.056, 8 rows 0.977, 4 rows 1.034, 1 row 1.382 (ducc0 transforms several rows in SIMD lanes;
one row at a time loses that). Grouping changes no sample: the transforms are row by row."""


def stream(
    read: ReadInto,
    n_channels: int,
    n_in: int,
    sfreq_in: float,
    mains: float | None,
    recipe: Recipe,
) -> Iterator[np.ndarray]:
    """Preprocess one group of same-rate channels, yielding output blocks in order.

    Parameters
    ----------
    read : callable
        ``read(start, stop, out)`` writes source samples ``[start, stop)`` as float32
        microvolts into ``out``, shape ``(n_channels, stop - start)`` (:data:`ReadInto`;
        :func:`array_source` for an array in memory).
    n_channels : int
        Channels in the group.
    n_in : int
        Samples per channel in the source.
    sfreq_in : float
        Source sampling rate, Hz.
    mains : float or None
        Mains frequency to notch, Hz (50 or 60); ``None`` for no notch.
    recipe : Recipe
        Band, output rate, mode.

    Yields
    ------
    ndarray, shape (n_channels, n_block)
        float32 microvolts at ``recipe.sfreq``; blocks of ``recipe.block_seconds`` (the last
        shorter), ``output_length(n_in, sfreq_in, recipe.sfreq)`` samples in all.
    """
    n_out = output_length(n_in, sfreq_in, recipe.sfreq)
    if recipe.mode == "mne":
        whole = np.empty((n_channels, n_in), dtype=np.float32)
        read(0, n_in, whole)
        yield mne_reference(whole, sfreq_in, mains, recipe)
        return
    if n_out == 0:
        return
    d = design(float(sfreq_in), mains, recipe)
    block = int(recipe.block_seconds * recipe.sfreq)
    for m0 in range(0, n_out, block):
        m1 = min(n_out, m0 + block)
        s = _segment_size(d, m1 - m0)  # the last block gets a shorter segment
        weights = _response(float(sfreq_in), mains, recipe, s)
        yield _block(read, n_channels, n_in, m0, m1, d, s, weights)


def process(x: np.ndarray, sfreq_in: float, mains: float | None, recipe: Recipe) -> np.ndarray:
    """Whole-array convenience: ``x`` (n_channels, n_samples) microvolts -> store samples."""
    x32 = np.ascontiguousarray(x, dtype=np.float32)
    read = array_source(x32)
    blocks = list(stream(read, x.shape[0], x.shape[1], sfreq_in, mains, recipe))
    if not blocks:
        return np.zeros((x.shape[0], 0), dtype=np.float32)
    return np.concatenate(blocks, axis=1)


def mne_reference(
    x: np.ndarray, sfreq_in: float, mains: float | None, recipe: Recipe
) -> np.ndarray:
    """LaBraM's MNE path on an array: filter, notch, resample, in float64; returns float32.

    The same calls as ``raw.filter(l, h)``, ``raw.notch_filter(mains)``, ``raw.resample(sfreq)``
    on a preloaded Raw of EEG channels in volts, then ``get_data(units='uV')``.
    """
    import mne

    info = mne.create_info(x.shape[0], sfreq_in, "eeg")
    raw = mne.io.RawArray(np.asarray(x, dtype=np.float64) * 1e-6, info, verbose="error")
    raw.filter(recipe.l_freq, recipe.h_freq, verbose="error")
    if recipe.notch and mains is not None and mains < sfreq_in / 2:
        raw.notch_filter(mains, verbose="error")
    raw.resample(recipe.sfreq, verbose="error")
    return raw.get_data(units="uV").astype(np.float32)
