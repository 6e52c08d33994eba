"""Band-pass, notch and resample to the store rate, streamed in blocks.

The fast pipeline has two stages, each a linear-phase FIR with MNE's own filter designs, so that
its output matches LaBraM's MNE path (``raw.filter(0.1, 75)``, ``raw.notch_filter(mains)``,
``raw.resample(200)``) closely while doing far less work:

1. at the source rate: the 75 Hz low-pass, designed as MNE designs it for that rate, applied
   inside polyphase resampling to 200 Hz (one ``upfirdn`` pass: filter and rate change at once);
2. at 200 Hz: the 0.1 Hz high-pass and the mains notch, convolved into one zero-phase kernel and
   applied by FFT overlap-save.

Both stages pad the recording's edges by odd reflection (MNE's ``reflect_limited``). Each stage
works on blocks with exact margins, so the streamed output equals the whole-recording result
to float32 round-off, and peak memory depends on the block length, not on the recording's length.
``mode='mne'`` runs MNE's functions instead (reference; whole recording in memory, float64).
See docs/preprocessing.md for the designs and the measured difference between the modes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

import numpy as np
from scipy import signal as sps

from eegprep.recipe import Recipe

ReadBlock = Callable[[int, int], np.ndarray]
"""``read(start, stop) -> (n_channels, stop - start)`` float32 microvolts at the source rate."""


def output_length(n_in: int, sfreq_in: float, sfreq_out: float) -> int:
    """Samples after resampling, as MNE counts them: ``round(n_in * sfreq_out / sfreq_in)``."""
    return int(round(n_in * sfreq_out / sfreq_in))


def h_trans_bandwidth(h_freq: float, sfreq: float) -> float:
    """MNE's automatic low-pass transition width (Hz): ``min(max(h/4, 2), sfreq/2 - h)``."""
    return min(max(h_freq * 0.25, 2.0), sfreq / 2.0 - h_freq)


def _mne_kernel(
    sfreq: float, l_freq: float | None, h_freq: float | None, **kw: float
) -> np.ndarray:
    import mne

    return mne.filter.create_filter(
        None,
        sfreq,
        l_freq,
        h_freq,
        method="fir",
        fir_design="firwin",
        phase="zero",
        verbose="error",
        **kw,
    )


@dataclass(frozen=True)
class Design:
    """The filters of one (source rate, mains, recipe) combination.

    Attributes
    ----------
    up, down : int
        Rational rate change ``sfreq_out / sfreq_in = up / down`` (reduced).
    lowpass : ndarray, shape (L,)
        Low-pass FIR at ``sfreq_in * up`` Hz, odd length, each of its ``up`` polyphase branches
        scaled to unit DC gain (so the whole has gain ``up``); empty when ``up == down``
        (then the low-pass is folded into ``kernel``).
    kernel : ndarray, shape (K,)
        Zero-phase FIR at the output rate: high-pass, notch (and the low-pass when no rate change).
    """

    up: int
    down: int
    lowpass: np.ndarray
    kernel: np.ndarray


@lru_cache(maxsize=64)
def design(sfreq_in: float, mains: float | None, recipe: Recipe) -> Design:
    """Filters for one source rate; cached per process."""
    ratio = Fraction(recipe.sfreq / sfreq_in).limit_denominator(10_000)
    up, down = ratio.numerator, ratio.denominator
    if abs(up / down * sfreq_in - recipe.sfreq) > 1e-6:
        raise ValueError(f"cannot resample {sfreq_in} Hz to {recipe.sfreq} Hz rationally")
    h_trans = h_trans_bandwidth(recipe.h_freq, sfreq_in)
    if h_trans <= 0:
        raise ValueError(
            f"source rate {sfreq_in} Hz is too low for a {recipe.h_freq} Hz low-pass "
            f"(needs more than {2 * recipe.h_freq} Hz)"
        )
    kernel = _mne_kernel(recipe.sfreq, recipe.l_freq, None)
    if recipe.notch and mains is not None and mains < recipe.sfreq / 2:
        # notch_filter's defaults: width mains/200, transition 1 Hz (0.5 each side)
        half = mains / 400.0 + 0.5
        notch = _mne_kernel(
            recipe.sfreq, mains + half, mains - half, l_trans_bandwidth=0.5, h_trans_bandwidth=0.5
        )
        kernel = np.convolve(kernel, notch)
    if up == down == 1:
        low = _mne_kernel(recipe.sfreq, None, recipe.h_freq, h_trans_bandwidth=h_trans)
        return Design(1, 1, np.zeros(0), np.convolve(kernel, low))
    low = _mne_kernel(sfreq_in * up, None, recipe.h_freq, h_trans_bandwidth=h_trans)
    return Design(up, down, _unit_dc_branches(low, up), kernel)


def _unit_dc_branches(h: np.ndarray, up: int) -> np.ndarray:
    """Scale each polyphase branch of ``h`` to a DC gain of exactly 1.

    A windowed-sinc design leaves the ``up`` branches with DC gains of 1 +- ~3e-4; the spread
    turns a DC offset (or slow drift) into tones at multiples of ``sfreq_in / up``: 2 uV from a
    5 mV amplifier offset. Per-branch normalisation removes that and changes the pass band by
    less than 0.03 %.
    """
    h = h.astype(np.float64).copy()
    for phase in range(up):
        h[phase::up] /= h[phase::up].sum()
    return h


def _reflect_extend(x: np.ndarray, lo: int, hi: int, n: int, start: int) -> np.ndarray:
    """Extend ``x`` (samples ``[start, start + x.shape[1])`` of a signal of length ``n``) to
    ``[lo, hi)`` by odd reflection about the signal's first and last samples; zeros beyond
    what reflection can reach (MNE's ``reflect_limited``)."""
    out = np.zeros((x.shape[0], hi - lo), dtype=x.dtype)
    a, b = max(lo, 0), min(hi, n)
    if b > a:  # the signal itself: one slice copy
        out[:, a - lo : b - lo] = x[:, a - start : b - start]
    if lo < 0:  # e[-j] = 2 x[0] - x[j], j = 1 .. min(-lo, n - 1)
        m = min(-lo, n - 1, hi - lo)
        if m > 0:
            j = np.arange(1, m + 1)
            out[:, -lo - j] = 2 * x[:, [0 - start]] - x[:, j - start]
    if hi > n:  # e[n-1+j] = 2 x[n-1] - x[n-1-j], j = 1 .. min(hi-n, n-1)
        first = max(n, lo)
        j = np.arange(first - (n - 1), min(hi - (n - 1), n))
        if j.size:
            out[:, n - 1 + j - lo] = 2 * x[:, [n - 1 - start]] - x[:, n - 1 - j - start]
    return out


def _read_extended(read: ReadBlock, n: int, lo: int, hi: int) -> np.ndarray:
    """Samples ``[lo, hi)`` of the odd-reflection extension of a signal read by ``read``."""
    # reflection about sample 0 needs samples up to -lo; about n-1 needs down to 2(n-1)-hi+1
    a = max(0, min(lo, 2 * (n - 1) - hi + 1))
    b = min(n, max(hi, -lo + 1))
    x = read(a, b)
    return _reflect_extend(x, lo, hi, n, a)


def _resample_block(read: ReadBlock, n_in: int, m0: int, m1: int, d: Design) -> np.ndarray:
    """Output samples ``[m0, m1)`` of low-pass + polyphase resampling of the whole signal."""
    up, down, h = d.up, d.down, d.lowpass
    half = (h.shape[0] - 1) // 2
    lo = math.floor((m0 * down - half) / up) - 1
    lo -= lo % down  # the segment's up-sampled grid must line up with the output grid
    hi = math.ceil((m1 * down + half) / up) + 2
    seg = _read_extended(read, n_in, lo, hi)
    pre = (down - half % down) % down
    hp = np.concatenate([np.zeros(pre, dtype=h.dtype), h]).astype(np.float32)
    y = sps.upfirdn(hp, seg, up, down, axis=-1)
    first = m0 - (lo // down) * up + (half + pre) // down
    out = y[:, first : first + (m1 - m0)]
    assert out.shape[1] == m1 - m0, (out.shape, m0, m1)
    return out.astype(np.float32, copy=False)


def _stage_one(
    read: ReadBlock, n_in: int, n_out: int, d: Design, block: int
) -> Iterator[np.ndarray]:
    """Blocks of the resampled (or, at the output rate already, raw) signal."""
    for m0 in range(0, n_out, block):
        m1 = min(n_out, m0 + block)
        if d.up == d.down == 1:
            yield read(m0, m1)
        else:
            yield _resample_block(read, n_in, m0, m1, d)


def _zero_phase_stream(
    blocks: Iterator[np.ndarray], n: int, kernel: np.ndarray, block: int
) -> Iterator[np.ndarray]:
    """Apply a zero-phase FIR to a signal arriving in blocks; yield it in blocks of ``block``.

    Holds at most ``block + len(kernel)`` samples per channel.
    """
    g = (kernel.shape[0] - 1) // 2
    k32 = kernel.astype(np.float32)
    # The left reflection needs samples [0, g]; gather at least that much (or everything).
    pending: list[np.ndarray] = []
    have = 0
    it = iter(blocks)
    while have < min(n, g + 1):
        b = next(it)
        pending.append(b)
        have += b.shape[1]
    head = np.concatenate(pending, axis=1)
    # buf holds the extension e[buf_lo : buf_lo + buf.shape[1]]
    left = _reflect_extend(head, -g, 0, n, 0) if n > 0 else head[:, :0]
    buf = np.concatenate([left, head], axis=1)
    buf_lo = -g
    received = have
    k0 = 0
    while k0 < n:
        k1 = min(n, k0 + block)
        need_hi = k1 + g  # exclusive end of e needed
        while buf_lo + buf.shape[1] < need_hi:
            if received < n:
                b = next(it)
                received += b.shape[1]
                buf = np.concatenate([buf, b], axis=1)
            else:  # past the end: odd reflection of the tail
                tail_lo = max(0, 2 * (n - 1) - need_hi + 1)
                tail = buf[:, tail_lo - buf_lo :]
                ext = _reflect_extend(tail, buf_lo + buf.shape[1], need_hi, n, tail_lo)
                buf = np.concatenate([buf, ext], axis=1)
        seg = buf[:, k0 - g - buf_lo : need_hi - buf_lo]
        yield sps.oaconvolve(seg, k32[None, :], mode="valid", axes=-1).astype(np.float32)
        # drop what no later block needs
        keep_from = k1 - g
        if keep_from > buf_lo:
            buf = buf[:, keep_from - buf_lo :]
            buf_lo = keep_from
        k0 = k1


def stream(
    read: ReadBlock,
    n_in: int,
    sfreq_in: float,
    mains: float | None,
    recipe: Recipe,
) -> Iterator[np.ndarray]:
    """Preprocess one group of same-rate channels, yielding output blocks in order.

    Parameters
    ----------
    read : callable
        ``read(start, stop)`` returns source samples ``[start, stop)`` as float32 microvolts,
        shape ``(n_channels, stop - start)``.
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
        yield mne_reference(read(0, n_in), sfreq_in, mains, recipe)
        return
    d = design(float(sfreq_in), mains, recipe)
    block = int(recipe.block_seconds * recipe.sfreq)
    if n_out == 0:
        return
    yield from _zero_phase_stream(_stage_one(read, n_in, n_out, d, block), n_out, d.kernel, block)


def process(x: np.ndarray, sfreq_in: float, mains: float | None, recipe: Recipe) -> np.ndarray:
    """Whole-array convenience: ``x`` (n_channels, n_times) microvolts -> store samples."""
    x32 = np.ascontiguousarray(x, dtype=np.float32)
    blocks = list(stream(lambda a, b: x32[:, a:b], x.shape[1], sfreq_in, mains, recipe))
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
