"""MNE's zero-phase FIR filter designs, computed with numpy alone.

:func:`fir_kernel` returns what ``mne.filter.create_filter(None, sfreq, l_freq, h_freq,
method="fir", fir_design="firwin", fir_window="hamming", phase="zero")`` returns for a low-pass,
a high-pass, a band-pass or one band-stop (``l_freq > h_freq``, as ``notch_filter`` asks for
it): the same automatic transition bands and filter length, the same frequency and gain points,
and each transition made, as MNE makes it, of a Hamming-windowed sinc low-pass the way
``scipy.signal.firwin`` computes one, added to or subtracted from the kernel. MNE and
scipy.signal are not imported: scipy.signal alone takes ~0.5 s to import, which every ingest
process (and every worker) paid for its first file. ``tests/eegprep/test_fir.py`` checks the
kernels against MNE's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

LENGTH_FACTOR = 3.3
"""Filter length per transition bandwidth for the Hamming window: ``3.3 / transition`` seconds
(MNE's ``_length_factors["hamming"]``)."""


def auto_l_trans(l_freq: float) -> float:
    """MNE's automatic high-pass transition bandwidth (Hz): ``min(max(l/4, 2), l)``."""
    return float(np.minimum(np.maximum(0.25 * l_freq, 2.0), l_freq))


def auto_h_trans(h_freq: float, sfreq: float) -> float:
    """MNE's automatic low-pass transition bandwidth (Hz): ``min(max(h/4, 2), sfreq/2 - h)``."""
    return float(np.minimum(np.maximum(0.25 * h_freq, 2.0), sfreq / 2.0 - h_freq))


def fir_kernel(
    sfreq: float,
    l_freq: float | None,
    h_freq: float | None,
    *,
    l_trans_bandwidth: float | None = None,
    h_trans_bandwidth: float | None = None,
) -> np.ndarray:
    """A zero-phase FIR kernel (odd length, float64), as MNE designs it.

    Parameters
    ----------
    sfreq : float
        Sampling rate, Hz.
    l_freq, h_freq : float or None
        Pass-band edges, Hz: ``l_freq`` alone a high-pass, ``h_freq`` alone a low-pass, both a
        band-pass, or a band-stop between ``h_freq`` and ``l_freq`` when ``l_freq > h_freq``.
    l_trans_bandwidth, h_trans_bandwidth : float, optional
        Transition widths, Hz; ``None``: MNE's automatic ones.

    Raises
    ------
    ValueError
        A band MNE refuses (an edge at or beyond Nyquist, a negative stop frequency).
    """
    sfreq = float(sfreq)
    nyq = sfreq / 2.0
    if l_freq is None and h_freq is None:
        raise ValueError("a filter needs l_freq, h_freq or both")
    band = _band(sfreq, l_freq, h_freq, l_trans_bandwidth, h_trans_bandwidth)
    lo, hi, lt, ht, stop_band = band.lo, band.hi, band.lt, band.ht, band.stop
    # the bands MNE refuses (a stop band's transitions lie inside it)
    if lo is not None and (lo <= 0 or lt <= 0 or (not stop_band and lo - lt < 0)):
        raise ValueError(f"high-pass edge {lo} Hz with transition {lt} Hz is not realisable")
    if hi is not None and (hi >= nyq or ht <= 0 or (not stop_band and hi + ht > nyq)):
        raise ValueError(f"low-pass edge {hi} Hz with transition {ht} Hz reaches Nyquist {nyq}")
    widths = [w for w in (lt, ht) if not math.isnan(w)]
    n_taps = _filter_length(LENGTH_FACTOR / float(min(widths)), sfreq)
    freq, gain = _response(band, nyq)
    return _firwin_design(n_taps, np.array(freq) / nyq, np.array(gain))


@dataclass(frozen=True)
class _Band:
    """A filter's edges and transition widths as MNE designs it, Hz: ``lo`` (a high-pass
    edge) and ``hi`` (a low-pass edge), each None when absent; ``lt`` and ``ht`` their
    transitions (NaN when absent); ``stop``: a band-stop from ``lo`` to ``hi``."""

    lo: float | None
    hi: float | None
    lt: float
    ht: float
    stop: bool


def _band(
    sfreq: float,
    l_freq: float | None,
    h_freq: float | None,
    l_trans_bandwidth: float | None,
    h_trans_bandwidth: float | None,
) -> _Band:
    """The edges and widths of :func:`fir_kernel`'s arguments: MNE's automatic widths where
    none is given; a band-stop's edges and widths swapped, as MNE swaps them."""
    stop_band = l_freq is not None and h_freq is not None and l_freq > h_freq
    lo: float | None
    hi: float | None
    if stop_band:  # MNE swaps the edges and the widths, then moves both inwards
        assert l_freq is not None and h_freq is not None
        lo, hi = float(h_freq), float(l_freq)
        lt = auto_l_trans(lo) if h_trans_bandwidth is None else float(h_trans_bandwidth)
        ht = auto_h_trans(hi, sfreq) if l_trans_bandwidth is None else float(l_trans_bandwidth)
    else:
        lo = None if l_freq is None else float(l_freq)
        hi = None if h_freq is None else float(h_freq)
        lt = ht = math.nan
        if lo is not None:
            lt = auto_l_trans(lo) if l_trans_bandwidth is None else float(l_trans_bandwidth)
        if hi is not None:
            ht = auto_h_trans(hi, sfreq) if h_trans_bandwidth is None else float(h_trans_bandwidth)
    return _Band(lo=lo, hi=hi, lt=lt, ht=ht, stop=stop_band)


def _response(band: _Band, nyq: float) -> tuple[list[float], list[float]]:
    """The frequencies (Hz, 0 to ``nyq``) and gains of the response ``band`` asks, as MNE's
    ``firwin`` design is given them."""
    lo, hi, lt, ht, stop_band = band.lo, band.hi, band.lt, band.ht, band.stop
    freq: list[float]
    gain: list[float]
    if stop_band:
        assert lo is not None and hi is not None
        # pass up to lo, stop from lo + lt to hi - ht, pass from hi (MNE's reverse triage)
        f_p1, f_s1, f_s2, f_p2 = lo, lo + lt, hi - ht, hi
        freq, gain = [f_p1, f_s1, f_s2, f_p2], [1.0, 0.0, 0.0, 1.0]
        order = np.argsort(freq)
        freq, gain = [freq[i] for i in order], [gain[i] for i in order]
        if freq[0] != 0:
            freq, gain = [0.0, *freq], [1.0, *gain]
        if freq[-1] != nyq:
            freq, gain = [*freq, nyq], [*gain, 1.0]
    elif lo is not None and hi is not None:
        f_s1, f_s2 = lo - lt, hi + ht
        freq, gain = [f_s1, lo, hi, f_s2], [0.0, 1.0, 1.0, 0.0]
        if f_s2 != nyq:
            freq, gain = [*freq, nyq], [*gain, 0.0]
        if f_s1 != 0:
            freq, gain = [0.0, *freq], [0.0, *gain]
    elif lo is not None:
        stop = lo - lt
        freq, gain = [stop, lo, nyq], [0.0, 1.0, 1.0]
        if stop != 0:
            freq, gain = [0.0, *freq], [0.0, *gain]
    else:
        assert hi is not None
        f_s = hi + ht
        freq, gain = [0.0, hi, f_s], [1.0, 1.0, 0.0]
        if f_s != nyq:
            freq, gain = [*freq, nyq], [*gain, 0.0]
    return freq, gain


def _filter_length(seconds: float, sfreq: float) -> int:
    """MNE's ``filter_length="auto"`` in samples: ``ceil(seconds * sfreq)``, made odd."""
    n = max(int(np.ceil(seconds * sfreq)), 1)
    return n + (n - 1) % 2


def _firwin_design(n_taps: int, freq: np.ndarray, gain: np.ndarray) -> np.ndarray:
    """MNE's ``_firwin_design``: ``freq`` (0 to 1, Nyquist = 1) and ``gain`` (0 or 1) points; from
    the top down, each change of gain adds (gain rises) or subtracts (gain falls) a low-pass
    at the transition's middle, as long as the transition asks for."""
    h = np.zeros(n_taps)
    prev_freq, prev_gain = freq[-1], gain[-1]
    if gain[-1] == 1:
        h[n_taps // 2] = 1  # start with "all up"
    for this_freq, this_gain in zip(freq[::-1][1:], gain[::-1][1:], strict=True):
        if this_gain != prev_gain:
            transition = (prev_freq - this_freq) / 2.0
            this_n = int(round(LENGTH_FACTOR / transition))
            this_n += 1 - this_n % 2  # odd
            if this_n > n_taps:
                raise ValueError(
                    f"filter length {n_taps} is too short for a transition needing {this_n}"
                )
            low = _firwin_lowpass(this_n, (prev_freq + this_freq) / 2.0)
            offset = (n_taps - this_n) // 2
            if this_gain == 0:
                h[offset : n_taps - offset] -= low
            else:
                h[offset : n_taps - offset] += low
        prev_gain, prev_freq = this_gain, this_freq
    return h


def _firwin_lowpass(n_taps: int, cutoff: float) -> np.ndarray:
    """``scipy.signal.firwin(n_taps, cutoff, window="hamming", fs=2)``: a windowed sinc with
    unit gain at 0 Hz; ``cutoff`` in units of Nyquist."""
    m = np.arange(0, n_taps, dtype=np.float64) - 0.5 * (n_taps - 1)
    h = cutoff * np.sinc(cutoff * m)
    h *= _hamming(n_taps)
    h /= np.sum(h)  # unit gain at 0 Hz
    return h


def _hamming(n: int) -> np.ndarray:
    """The symmetric Hamming window as scipy.signal.windows computes it."""
    if n <= 1:
        return np.ones(n)
    fac = np.linspace(-np.pi, np.pi, n, dtype=np.float64)
    return 0.54 + (1.0 - 0.54) * np.cos(fac)
