"""Quality checks on one recording: line noise, flat and clipped channels, amplitude scale.

Checks run on the first minutes of the source (before filtering) and on the per-channel RMS of
the stored output. They flag; they do not change data. A recording whose amplitude says the
units are wrong (volts labelled as microvolts, say) is refused with a clear message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

FLAT_RMS_UV = 0.1  # output RMS below this: a flat (disconnected or constant) channel
CLIP_FRACTION = 0.01  # share of samples pinned at the channel's extreme: clipped
CLIP_PILE_UP = 3.0  # ... and at least this many times the samples at the next value inward
TWO_LEVEL_FRACTION = 0.05  # fewer samples than this strictly between min and max: two levels
MIN_MEDIAN_RMS_UV = 0.05  # below: almost surely volts or millivolts stored as microvolts
MAX_MEDIAN_RMS_UV = 20_000.0  # above: almost surely a unit mix-up the other way
MAX_CHANNEL_RMS_UV = 1e6  # one channel above (1 V): no scalp potential; a damaged sample or scale
LINE_PEAK_DB = 6.0  # a peak this far above its neighbourhood counts as line noise
LINE_SECONDS = 30.0  # source span for the line-noise spectrum (0.5 Hz bins, 29 averages)
LINE_CHANNELS = 8  # channels, evenly spread, for the line-noise spectrum
HARMONIC_LOWEST_HZ = 2.0  # lowest fundamental whose harmonic may sit at a mains frequency
HARMONIC_STEP_DB = 3.0  # a harmonic at mains this much taller than the series' line below it


def line_noise_db(x: np.ndarray, sfreq: float) -> dict[str, float]:
    """Height (dB) of the 50 Hz and 60 Hz peaks above their neighbourhood, median over channels.

    ``x``: (n_channels, n_samples) microvolts at the source rate; the first
    :data:`LINE_SECONDS` of up to :data:`LINE_CHANNELS` channels are used. Frequencies at or
    above the Nyquist rate are left out.
    """
    return line_noise(x, sfreq)[0]


def line_noise(x: np.ndarray, sfreq: float) -> tuple[dict[str, float], tuple[str, ...]]:
    """:func:`line_noise_db` of ``x``, and the mains frequencies (``"50"``, ``"60"``) whose
    peak is a harmonic of a periodic signal rather than line noise: a line at ``mains / k``
    (k >= 2, at least :data:`HARMONIC_LOWEST_HZ`) at least as tall as the one at the mains
    frequency, with a further harmonic of it standing out too (a 10 Hz square wave from a
    calibration run has lines at 10, 30 and 50 Hz; mains interference has no line below it)."""
    n = min(x.shape[1], int(LINE_SECONDS * sfreq))
    if n < int(4 * sfreq):
        return {}, ()
    spread = np.linspace(0, x.shape[0] - 1, min(x.shape[0], LINE_CHANNELS)).round()
    rows = sorted({int(r) for r in spread})  # (np.unique would import numpy.ma: ~12 ms)
    with np.errstate(invalid="ignore", over="ignore"):  # NaN/inf samples: refused later, once
        f, p = welch(x[rows, :n], sfreq, int(2 * sfreq))
        p = median(p, axis=0)
    # rounding's floor, 120 dB below the spectrum's top: a noise-free signal's neighbourhood
    # is ~1e-25, and a peak of round-off over it read as hundreds of dB of line noise
    floor = float(np.max(p)) * 1e-12 if p.size and np.isfinite(p).all() else 0.0
    out: dict[str, float] = {}
    harmonics: list[str] = []
    for mains in (50.0, 60.0):
        if mains + 6 >= sfreq / 2:
            continue
        height = _line_height(f, p, mains, floor)
        if height is None:
            continue
        out[str(int(mains))] = round(height, 2)
        if height >= LINE_PEAK_DB and _is_harmonic(f, p, mains, floor, sfreq):
            harmonics.append(str(int(mains)))
    return out, tuple(harmonics)


def _line_height(f: np.ndarray, p: np.ndarray, hz: float, floor: float) -> float | None:
    """dB of the spectrum's peak within 0.6 Hz of ``hz`` above the median 2-5 Hz away from it;
    None where either is zero or not finite."""
    peak = p[(f >= hz - 0.6) & (f <= hz + 0.6)].max()
    ring = (np.abs(f - hz) >= 2) & (np.abs(f - hz) <= 5)
    base = max(float(median(p[ring])), floor)
    if not (base > 0 and peak > 0):
        return None
    return float(10 * np.log10(peak / base))


def _is_harmonic(f: np.ndarray, p: np.ndarray, mains: float, floor: float, sfreq: float) -> bool:
    """Whether the line at ``mains`` is the k-th harmonic of a periodic signal (see
    :func:`line_noise`): a fundamental at ``g = mains / k`` at least as tall, another harmonic
    of it standing out, and the line at ``mains`` no more than :data:`HARMONIC_STEP_DB` taller
    than the series' envelope there: the mean height (dB) of a pair of the series' lines
    standing out on either side of it, ``k - d`` and ``k + d`` (d up to 3; the tallest pair,
    as near a null of a pulse train's envelope the nearest pair dips below the line between
    them), or where no pair stands out, the nearest line below if no more than 3 harmonics
    down (a series with no line near the mains one, as a fundamental near a train's true one
    finds, is none). A periodic signal's lines change smoothly as they climb; mains
    interference on top of the harmonic stands out of that envelope: 15 uV of 50 Hz hum on a
    50 uV 10 Hz square wave sampled at 160 Hz, whose 50 Hz line stands under its 30 Hz one but
    over the mean of its 30 and 70 Hz ones.

    Each line's height is taken over the bins 2-5 Hz away that lie off the series (more than
    0.6 Hz from every multiple of ``g``): a fundamental under 5 Hz (a 2 Hz pulse train) puts
    its own lines in that neighbourhood, where they made every line of the series about 6 dB
    tall, so that none stood out and the train's 50 Hz line passed for mains interference.
    Fundamentals under :data:`HARMONIC_LOWEST_HZ` are not sought: the 0.5 Hz bins leave a 1 Hz
    train no bin off its lines.

    What no spectrum tells apart: hum phase-locked to the harmonic at its frequency (a
    synthetic square wave and hum both from one clock) adds to it as one sinusoid, and hum that
    raises that line by less than :data:`HARMONIC_STEP_DB` above the envelope (small, or out of
    phase) is taken for the harmonic."""
    top = sfreq / 2 - 6
    for k in range(2, int(mains // HARMONIC_LOWEST_HZ) + 1):
        g = mains / k
        below = _series_height(f, p, g, g, floor)
        if below is None or below < LINE_PEAK_DB:  # no fundamental: the common case, cheaply
            continue
        height = _series_height(f, p, mains, g, floor, member=False)
        if height is None or below < height:
            continue
        lines = {}
        for j in range(1, int(top // g) + 1):
            if j == k or any(abs(j * g - m) < 2 for m in (50.0, 60.0, 100.0, 120.0)):
                continue
            h = below if j == 1 else _series_height(f, p, j * g, g, floor)
            if h is not None and h >= LINE_PEAK_DB:
                lines[j] = h
        if not [j for j in lines if j > 1]:
            continue
        lines.setdefault(1, below)
        pairs = [
            (lines[k - d] + lines[k + d]) / 2 for d in (1, 2, 3) if {k - d, k + d} <= set(lines)
        ]
        lower = max(j for j in lines if j < k)
        if not pairs and k - lower > 3:  # no line of the series near it: no series here
            continue
        if height <= (max(pairs) if pairs else lines[lower]) + HARMONIC_STEP_DB:
            return True
    return False


def _series_height(
    f: np.ndarray, p: np.ndarray, hz: float, g: float, floor: float, *, member: bool = True
) -> float | None:
    """dB of the spectrum's peak at ``hz`` above the median of the bins 2-5 Hz away from it and
    more than 0.6 Hz from every multiple of ``g`` (Hz: the lines of the series whose member
    ``hz`` is); None where either is zero or not finite, or no such bin is left.

    ``member``: the peak is a line of the series, at ``hz`` exactly: a bin within 0.3 Hz of it
    that stands over both its neighbours (a line a bin away leaks into the bins beside it, and
    a fundamental near the true one, 4.55 Hz for a 4 Hz train, read their leaks as its lines);
    None where there is none. Else (the mains line) the largest bin within 0.6 Hz."""
    lo, hi = np.searchsorted(f, hz - 5), np.searchsorted(f, hz + 5, side="right")
    f, p = f[lo:hi], p[lo:hi]  # (the ring's bins and the peak's; f ascending)
    if member:
        near = np.flatnonzero(np.abs(f - hz) <= 0.3)
        tops = [p[i] for i in near if 0 < i < len(p) - 1 and p[i] >= max(p[i - 1], p[i + 1])]
        if not tops:
            return None
        peak = max(tops)
    else:
        peak = p[(f >= hz - 0.6) & (f <= hz + 0.6)].max()
    off = np.abs(f - g * np.round(f / g)) > 0.6
    ring = (np.abs(f - hz) >= 2) & off
    if not ring.any():
        return None
    base = max(float(median(p[ring])), floor)
    if not (base > 0 and peak > 0):
        return None
    return float(10 * np.log10(peak / base))


def median(a: np.ndarray, axis: int | None = None) -> Any:
    """``np.median(a, axis)``: the middle value, or the mean of the two middle ones, NaN where
    the values hold a NaN; without ``np.median``, whose NaN check imports ``numpy.ma`` (~12 ms
    of every ingesting process's first file). ``a`` non-empty along ``axis``."""
    flat = a.reshape(-1) if axis is None else np.moveaxis(a, axis, 0)
    n = flat.shape[0]
    part = np.partition(flat, [(n - 1) // 2, n // 2], axis=0)
    mid = (part[(n - 1) // 2] + part[n // 2]) / 2
    nan = np.isnan(flat).any(axis=0)
    return np.where(nan, np.nan, mid) if np.ndim(mid) else (np.nan if nan else mid)


def welch(x: np.ndarray, sfreq: float, nperseg: int) -> tuple[np.ndarray, np.ndarray]:
    """Welch's power spectral density of each row of ``x``, as ``scipy.signal.welch(x, sfreq,
    nperseg=nperseg)`` computes it by default (periodic Hann window, half-overlapping
    segments, each segment's mean removed, one-sided, density scaling, mean over segments)
    without importing scipy.signal (~0.5 s). Returns the frequencies (Hz) and ``(rows,
    nperseg // 2 + 1)`` powers (uV^2/Hz for uV input)."""
    import ducc0  # already imported by the preprocessing

    step = nperseg - nperseg // 2
    n_seg = (x.shape[-1] - nperseg) // step + 1
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(nperseg) / nperseg)  # periodic Hann
    # the segments as a strided view of ``x``, copied once (to float64)
    view = np.lib.stride_tricks.sliding_window_view(x, nperseg, axis=-1)[
        ..., : n_seg * step : step, :
    ]
    segments = view.astype(np.float64)
    segments -= segments.mean(axis=-1, keepdims=True)
    segments *= window
    spectrum = ducc0.fft.r2c(segments, axes=(segments.ndim - 1,), nthreads=1)
    power = np.square(spectrum.real)
    power += np.square(spectrum.imag)
    power *= 1.0 / (sfreq * (window * window).sum())
    power[..., 1 : None if nperseg % 2 else -1] *= 2
    return np.arange(nperseg // 2 + 1) * (sfreq / nperseg), power.mean(axis=-2)


def check_mains(
    line_db: dict[str, float], mains: float, harmonics: tuple[str, ...] = ()
) -> str | None:
    """A warning when the spectrum shows the other mains frequency, not the manifest's; not
    when that peak is a harmonic of a periodic signal (``harmonics``, see :func:`line_noise`)."""
    ours = line_db.get(str(int(mains)))
    other_f = "60" if int(mains) == 50 else "50"
    other = line_db.get(other_f)
    if other is None or ours is None or other_f in harmonics:
        return None
    if other >= LINE_PEAK_DB and other > ours + 3:
        return (
            f"line noise peaks at {other_f} Hz ({other:.1f} dB) but the manifest says "
            f"{int(mains)} Hz ({ours:.1f} dB): check the corpus's mains frequency"
        )
    return None


Rail = tuple[float, float, float]
"""A source channel's physical range and step: ``(low uV, high uV, step uV)``."""


def clipped_channels(
    x: np.ndarray,
    labels: list[str],
    rails: list[Rail | None] | None = None,
    extremes: tuple[np.ndarray, np.ndarray] | None = None,
) -> list[str]:
    """Channels saturated at their min or max: more than :data:`CLIP_FRACTION` of samples
    pinned at an extreme, piled up there.

    A clipped amplifier holds its rail: the extreme value then counts more samples than the
    next value inward, by :data:`CLIP_PILE_UP` or more (everything beyond the rail lands on
    it). A signal that merely reaches its extreme often (coarse ADC steps, a square wave, a
    ramp, an event channel) has an extreme no commoner than its neighbour, and is not flagged;
    nor is a two-level signal (a calibration square wave, a TTL line: under
    :data:`TWO_LEVEL_FRACTION` of its samples between its extremes).

    ``rails``: per channel, the source's physical range and step, ``(low, high, step)`` uV,
    where the reader knows it (EDF, BDF, GDF). Then only an extreme within one step of a rail
    counts: a signal far inside its converter's range is never called clipped, whatever its
    shape.

    ``extremes``: each row's minimum and maximum, when the caller has them (:func:`row_extremes`).
    """
    out: list[str] = []
    if x.size == 0:
        return out
    lows, highs = extremes if extremes is not None else row_extremes(x)
    for i, (row, label) in enumerate(zip(x, labels)):
        lo, hi = lows[i], highs[i]
        if not (np.isfinite(lo) and np.isfinite(hi)) or hi == lo:  # NaN/inf, or flat
            continue
        rail = rails[i] if rails is not None and i < len(rails) else None
        if rail is not None:
            near = [
                abs(float(e) - rail[at]) <= 1.5 * rail[2] + 1e-6 * abs(rail[at])
                for e, at in ((hi, 1), (lo, 0))
            ]
            if not any(near):  # far inside the converter's range: never clipped
                continue
        n_hi, n_lo = np.count_nonzero(row == hi), np.count_nonzero(row == lo)
        if row.size - n_hi - n_lo < TWO_LEVEL_FRACTION * row.size:  # a two-level signal
            continue
        for edge, n_edge, at in ((hi, n_hi, 0), (lo, n_lo, 1)):
            if rail is not None:
                if near[at] and n_edge / row.size > CLIP_FRACTION:
                    out.append(label)
                    break
                continue
            rest = row[row < hi] if edge == hi else row[row > lo]
            nearest = rest.max() if edge == hi else rest.min()
            n_next = np.count_nonzero(rest == nearest)
            if n_edge / row.size > CLIP_FRACTION and n_edge >= CLIP_PILE_UP * n_next:
                out.append(label)
                break
    return out


def row_extremes(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's minimum and maximum (``x`` not empty)."""
    return x.min(axis=1), x.max(axis=1)


@dataclass(frozen=True)
class HeadChecks:
    """What the source's first minutes say (:func:`check_head`).

    Attributes
    ----------
    line_noise_db : dict
        :func:`line_noise_db` of the head.
    line_harmonics : tuple of str
        The mains frequencies whose peak is a periodic signal's harmonic (:func:`line_noise`).
    clipped_channels : list of str
        :func:`clipped_channels` of the head.
    constant : bool
        Whether every channel of the head holds one value.
    """

    line_noise_db: dict[str, float]
    clipped_channels: list[str]
    constant: bool
    line_harmonics: tuple[str, ...] = ()


def check_head(
    head: np.ndarray, labels: list[str], sfreq_in: float, rails: list[Rail | None] | None = None
) -> HeadChecks:
    """The checks of the source's first minutes, ``head`` ``(len(labels), n)`` microvolts at
    ``sfreq_in`` (``n`` >= 1), each row's extremes found once for all of them. The ingest runs
    them on the first block's samples as they are decoded, so the head is never copied."""
    lows, highs = row_extremes(head)
    line_db, harmonics = line_noise(head, sfreq_in)
    return HeadChecks(
        line_db,
        clipped_channels(head, labels, rails, (lows, highs)),
        bool(np.all(highs == lows)),
        harmonics,
    )


def summarize(
    rms: list[float], labels: list[str], head: HeadChecks | None, mains: float
) -> tuple[dict[str, Any], list[str]]:
    """QC flags for the index and warnings for the report.

    ``rms``: output RMS per stored channel (``labels``); ``head``: the checks of the source's
    first minutes (:func:`check_head`).
    """
    warnings: list[str] = []
    flat = [lab for lab, r in zip(labels, rms) if r < FLAT_RMS_UV]
    qc: dict[str, Any] = {
        "flat_channels": flat,
        "median_rms_uv": round(float(median(np.asarray(rms))), 3) if rms else 0.0,
    }
    if head is not None:
        qc["line_noise_db"] = head.line_noise_db
        qc["clipped_channels"] = list(head.clipped_channels)
        msg = check_mains(head.line_noise_db, mains, head.line_harmonics)
        if msg:
            warnings.append(msg)
    if flat:
        warnings.append(f"flat channels: {', '.join(flat)}")
    if qc.get("clipped_channels"):
        warnings.append(f"clipped channels: {', '.join(qc['clipped_channels'])}")
    return qc, warnings


def loud_problem(rms: list[float], labels: list[str], ranged: list[bool]) -> str | None:
    """A one-line reason to refuse a recording with a channel no scalp can produce, judged for
    the channels whose source states no physical range (``ranged`` False: CSV, MATLAB and the
    other float formats, where nothing bounds a value; a stated range, EDF's, is checked by its
    reader): a single damaged value (``1e30`` in a text table) that the median of
    :func:`unit_problem` does not see, and that the filters spread over the whole channel."""
    loud = [
        (lab, r)
        for lab, r, known in zip(labels, rms, ranged, strict=True)
        if not known and not r <= MAX_CHANNEL_RMS_UV
    ]
    if not loud:
        return None
    shown = ", ".join(lab for lab, _ in loud[:5]) + (", ..." if len(loud) > 5 else "")
    return (
        f"channel{'s' if len(loud) > 1 else ''} {shown}: RMS up to "
        f"{max(r for _, r in loud):.3g} uV after filtering, beyond any scalp potential "
        f"({MAX_CHANNEL_RMS_UV:g} uV), in a format that states no range: a damaged value or a "
        "wrong scale in the source; fix the file, or leave the channel out ([channels] exclude "
        "in the manifest)"
    )


def unit_problem(median_rms_uv: float) -> str | None:
    """A one-line reason to refuse a recording whose amplitude betrays wrong units."""
    if median_rms_uv < MIN_MEDIAN_RMS_UV:
        return (
            f"median channel RMS is {median_rms_uv:.3g} uV after filtering, far below any EEG: "
            "the samples are probably in volts or millivolts taken as microvolts (fix the "
            "unit: manifest `unit`, or the file's physical dimension), or its channels record "
            "no EEG (leads not connected, as in an empty-room MEG recording)"
        )
    if median_rms_uv > MAX_MEDIAN_RMS_UV:
        return (
            f"median channel RMS is {median_rms_uv:.3g} uV after filtering, far above any EEG: "
            "the samples are probably in nanovolts or unscaled counts; fix the unit or scale"
        )
    return None
