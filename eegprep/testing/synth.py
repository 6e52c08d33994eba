"""Realistic synthetic EEG for tests and demo corpora, deterministic given a numpy Generator.

:func:`eeg_like` sums what a clinical scalp recording shows: a spatially correlated 1/f
background, an occipital alpha rhythm that waxes and wanes, mains line noise with harmonics,
eye blinks on the frontal (and EOG) channels, and slow electrode drift. Where ``labels`` are
given (any corpus spelling, ``EEG FP1-REF`` or ``Fp1.``), each component is weighted by the
channel's scalp site; without labels, channel 0 is taken as frontal and the last as occipital.

Helpers make one channel flat (:func:`flat_channel`) or saturated (:func:`clip_channel`), add
a planted class signal (:func:`focal_slowing`) and make non-EEG traces (:func:`ecg_like`).

Everything is vectorised: an hour of 32 channels at 256 Hz takes about a second. The same
Generator state gives the same samples on every platform numpy supports (no threads involved).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from eegprep.base.wording import counted
from eegprep.pipeline.channels import normalize_label

__all__ = ["clip_channel", "ecg_like", "eeg_like", "flat_channel", "focal_slowing", "site_weights"]

# Relative amplitude of the alpha rhythm and of blinks by scalp site (normalised labels).
_ALPHA_SITES = {
    1.0: ("O1", "O2", "OZ", "O9", "O10", "IZ"),
    0.7: ("P3", "P4", "PZ", "T5", "T6", "P7", "P8", "PO3", "PO4", "POZ", "PO7", "PO8"),
    0.35: ("C3", "C4", "CZ", "T3", "T4", "T7", "T8", "CP1", "CP2", "CP3", "CP4", "CPZ"),
    0.05: ("ROC", "LOC", "EOG", "VEOG", "HEOG"),
}
_BLINK_SITES = {
    1.3: ("ROC", "LOC", "EOG", "VEOG", "HEOG"),
    1.0: ("FP1", "FP2", "FPZ"),
    0.55: ("F7", "F8", "AF3", "AF4", "AF7", "AF8", "AFZ"),
    0.4: ("F3", "F4", "FZ", "F1", "F2", "F5", "F6", "T1", "T2"),
    0.12: ("C3", "C4", "CZ", "T3", "T4", "T7", "T8", "FC1", "FC2", "FC3", "FC4", "FCZ"),
}
_ALPHA_DEFAULT, _BLINK_DEFAULT = 0.2, 0.04


def site_weights(labels: Sequence[str] | None, n_channels: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel weights of the alpha rhythm and of blinks.

    Parameters
    ----------
    labels : sequence of str or None
        Channel labels in any spelling; ``None``: frontal-to-occipital by channel order.
    n_channels : int
        Number of channels.

    Returns
    -------
    alpha, blink : ndarray, shape (n_channels,)
        Relative amplitudes (1.0 = strongest site).
    """
    if labels is None:
        frac = np.linspace(0.0, 1.0, n_channels) if n_channels > 1 else np.ones(1)
        return 0.15 + 0.85 * frac, (1.0 - frac) ** 2
    if len(labels) != n_channels:
        raise ValueError(f"labels: expected {n_channels} (one per channel), got {len(labels)}")
    sites = [normalize_label(label) for label in labels]
    alpha = np.array([_lookup(_ALPHA_SITES, s, _ALPHA_DEFAULT) for s in sites])
    blink = np.array([_lookup(_BLINK_SITES, s, _BLINK_DEFAULT) for s in sites])
    return alpha, blink


def _lookup(table: dict[float, tuple[str, ...]], site: str, default: float) -> float:
    for weight, names in table.items():
        if site in names:
            return weight
    return default


def eeg_like(
    n_channels: int,
    n_samples: int,
    sfreq: float,
    *,
    rng: np.random.Generator,
    labels: Sequence[str] | None = None,
    background_uv: float = 30.0,
    exponent: float = 1.5,
    correlation: float = 0.3,
    alpha_hz: float = 10.0,
    alpha_uv: float = 20.0,
    line_hz: float | None = 60.0,
    line_uv: float = 8.0,
    blinks: bool = True,
    blink_uv: float = 150.0,
    blink_rate_hz: float = 0.25,
    drift_uv: float = 15.0,
    dtype: npt.DTypeLike = np.float32,
) -> np.ndarray:
    """Synthetic scalp EEG in microvolts.

    Parameters
    ----------
    n_channels, n_samples : int
        Output shape.
    sfreq : float
        Sampling rate in Hz.
    rng : numpy.random.Generator
        Source of randomness; the same state gives the same output.
    labels : sequence of str, optional
        Channel labels, used to weight alpha (occipital) and blinks (frontal, EOG).
    background_uv : float
        RMS of the 1/f background per channel, in uV (scaled by 0.8-1.2 per channel).
    exponent : float
        Spectral exponent of the background: power ~ 1 / f**exponent above 1 Hz.
    correlation : float
        Share of background power common to all channels (volume conduction), 0..1.
    alpha_hz, alpha_uv : float
        Alpha peak frequency (Hz) and RMS at the strongest (occipital) site (uV); 0 disables.
    line_hz : float or None
        Mains frequency in Hz (60 in the US, 50 in Europe); ``None`` disables line noise.
    line_uv : float
        Mean amplitude of the line component in uV (per channel 0.5-1.5x; harmonics 2 and 3
        at 0.25x and 0.1x where below 0.45 * sfreq).
    blinks : bool
        Add eye blinks (about 300 ms, positive on FP1/FP2).
    blink_uv, blink_rate_hz : float
        Typical blink peak at FP1/FP2 (uV) and mean blink rate (Hz, Poisson).
    drift_uv : float
        Standard deviation of the slow per-channel electrode drift (uV).
    dtype : dtype
        Output dtype (float32 by default: the computation runs in float32 for speed).

    Returns
    -------
    ndarray, shape (n_channels, n_samples)
        Signals in uV.
    """
    if n_channels < 1 or n_samples < 1 or not sfreq > 0:
        raise ValueError(
            "need n_channels >= 1, n_samples >= 1, sfreq > 0; "
            f"got {n_channels}, {n_samples}, {sfreq}"
        )
    if not 0.0 <= correlation <= 1.0:
        raise ValueError(f"correlation must be within [0, 1], got {correlation!r}")
    alpha_w, blink_w = site_weights(labels, n_channels)
    x = _background(n_channels, n_samples, sfreq, rng, exponent, correlation)
    x *= (background_uv * rng.uniform(0.8, 1.2, n_channels)).astype(np.float32)[:, None]
    if alpha_uv > 0:
        x += _alpha(n_samples, sfreq, rng, alpha_hz, alpha_uv, alpha_w)
    if line_hz is not None and line_uv > 0:
        x += _line(n_channels, n_samples, sfreq, rng, line_hz, line_uv)
    if blinks and blink_uv > 0:
        wave = _blink_train(n_samples, sfreq, rng, blink_uv, blink_rate_hz)
        x += blink_w.astype(np.float32)[:, None] * wave[None, :]
    if drift_uv > 0:
        x += _drift(n_channels, n_samples, sfreq, rng, drift_uv)
    return x.astype(dtype, copy=False)


def _spectral_noise(
    n_rows: int, n_samples: int, amplitude: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Gaussian noise with the given amplitude spectrum, unit RMS per row, float32.

    The spectrum is drawn directly (no forward FFT): ``irfft`` of complex white noise shaped
    by ``amplitude`` (shape (n_samples // 2 + 1,)).
    """
    n_freq = n_samples // 2 + 1
    # real and imaginary parts drawn side by side, viewed as complex64 without a copy
    spec = rng.standard_normal((n_rows, n_freq, 2), dtype=np.float32).view(np.complex64)[..., 0]
    spec *= amplitude.astype(np.float32)
    out = np.fft.irfft(spec, n=n_samples, axis=-1).astype(np.float32, copy=False)
    rms = np.sqrt(np.einsum("ij,ij->i", out, out) / n_samples)[:, None]
    out /= np.where(rms > 0, rms, 1.0).astype(np.float32)
    return out


def _background(
    n_channels: int,
    n_samples: int,
    sfreq: float,
    rng: np.random.Generator,
    exponent: float,
    correlation: float,
) -> np.ndarray:
    """Unit-RMS 1/f noise, a ``correlation`` share common to all channels; (n_ch, n_samples)."""
    freqs = np.fft.rfftfreq(n_samples, d=1.0 / sfreq)
    amplitude = np.maximum(freqs, 1.0) ** (-exponent / 2.0)
    amplitude[0] = 0.0  # no DC
    noise = _spectral_noise(n_channels + 1, n_samples, amplitude, rng)
    out = noise[:-1]
    out *= np.float32(np.sqrt(1.0 - correlation))
    out += np.float32(np.sqrt(correlation)) * noise[-1]
    rms = np.sqrt(np.einsum("ij,ij->i", out, out) / n_samples)[:, None]
    out /= np.where(rms > 0, rms, 1.0).astype(np.float32)  # exactly unit RMS after mixing
    return out


def _slow_curve(
    n_rows: int, n_samples: int, sfreq: float, rate_hz: float, knots: np.ndarray
) -> np.ndarray:
    """Linear interpolation of ``knots`` (n_rows, n_knots), spaced 1/rate_hz s, to n_samples."""
    pos = np.arange(n_samples, dtype=np.float64) * (rate_hz / sfreq)
    i0 = np.minimum(pos.astype(np.int64), knots.shape[1] - 2)
    frac = (pos - i0).astype(np.float32)
    k = knots.astype(np.float32)
    return k[:, i0] * (1.0 - frac) + k[:, i0 + 1] * frac


def _n_knots(n_samples: int, sfreq: float, rate_hz: float) -> int:
    return int(np.ceil(n_samples / sfreq * rate_hz)) + 2


def _alpha(
    n_samples: int,
    sfreq: float,
    rng: np.random.Generator,
    alpha_hz: float,
    alpha_uv: float,
    weights: np.ndarray,
) -> np.ndarray:
    """A waxing and waning alpha rhythm, weighted per channel; (n_ch, n_samples) float32."""
    n_knots = _n_knots(n_samples, sfreq, 1.0)
    envelope = np.abs(rng.normal(1.0, 0.6, (1, n_knots)))
    jitter = np.cumsum(rng.normal(0.0, 0.1, (1, n_knots)), axis=1).clip(-0.8, 0.8)
    env = _slow_curve(1, n_samples, sfreq, 1.0, envelope)[0]
    freq = alpha_hz + _slow_curve(1, n_samples, sfreq, 1.0, jitter)[0]
    phase = np.cumsum(freq, dtype=np.float64) * (2.0 * np.pi / sfreq)
    lag = rng.uniform(-0.3, 0.3, weights.size)  # small phase differences between sites
    amp = (alpha_uv * np.sqrt(2.0) * weights).astype(np.float32)
    sin, cos = np.sin(phase).astype(np.float32) * env, np.cos(phase).astype(np.float32) * env
    return (amp * np.cos(lag).astype(np.float32))[:, None] * sin[None, :] + (
        amp * np.sin(lag).astype(np.float32)
    )[:, None] * cos[None, :]


def _line(
    n_channels: int,
    n_samples: int,
    sfreq: float,
    rng: np.random.Generator,
    line_hz: float,
    line_uv: float,
) -> np.ndarray:
    """Mains interference and its harmonics below 0.45 * sfreq; (n_ch, n_samples) float32."""
    t = np.arange(n_samples, dtype=np.float64) / sfreq
    amp = line_uv * rng.uniform(0.5, 1.5, n_channels)
    phase = rng.uniform(-0.2, 0.2, n_channels)
    out = np.zeros((n_channels, n_samples), np.float32)
    for harmonic, share in ((1, 1.0), (2, 0.25), (3, 0.1)):
        if harmonic * line_hz >= 0.45 * sfreq:
            continue
        arg = 2.0 * np.pi * harmonic * line_hz * t
        s, c = np.sin(arg).astype(np.float32), np.cos(arg).astype(np.float32)
        a = (share * amp).astype(np.float32)[:, None]
        out += a * (np.cos(harmonic * phase).astype(np.float32)[:, None] * s[None, :])
        out += a * (np.sin(harmonic * phase).astype(np.float32)[:, None] * c[None, :])
    return out


def _blink_train(
    n_samples: int, sfreq: float, rng: np.random.Generator, blink_uv: float, rate_hz: float
) -> np.ndarray:
    """Blinks at Poisson times: 100 ms rise, 200 ms fall; shape (n_samples,) float32, uV."""
    rise, fall = max(int(0.1 * sfreq), 1), max(int(0.2 * sfreq), 1)
    kernel = np.concatenate(
        [
            0.5 - 0.5 * np.cos(np.linspace(0, np.pi, rise)),
            0.5 + 0.5 * np.cos(np.linspace(0, np.pi, fall)),
        ]
    )
    out = np.zeros(n_samples + kernel.size, np.float32)
    n_blinks = rng.poisson(rate_hz * n_samples / sfreq)
    onsets = np.sort(rng.integers(0, n_samples, n_blinks))
    peaks = blink_uv * rng.uniform(0.6, 1.3, n_blinks)
    idx = onsets[:, None] + np.arange(kernel.size)[None, :]
    np.add.at(out, idx, (peaks[:, None] * kernel[None, :]).astype(np.float32))
    return out[:n_samples]


def _drift(
    n_channels: int, n_samples: int, sfreq: float, rng: np.random.Generator, drift_uv: float
) -> np.ndarray:
    """Slow electrode drift: a random walk with knots every 4 s; (n_ch, n_samples) float32."""
    rate = 0.25
    walk = np.cumsum(rng.standard_normal((n_channels, _n_knots(n_samples, sfreq, rate))), axis=1)
    walk -= walk.mean(axis=1, keepdims=True)
    std = walk.std(axis=1, keepdims=True)
    walk *= drift_uv / np.where(std > 0, std, 1.0)
    return _slow_curve(n_channels, n_samples, sfreq, rate, walk)


def flat_channel(data: np.ndarray, channel: int, *, value: float = 0.0) -> np.ndarray:
    """A copy of ``data`` (n_channels, n_samples) with one channel constant at ``value`` uV.

    This is what a disconnected electrode or an unused amplifier input looks like.
    """
    out = np.array(data, copy=True)
    out[channel] = value
    return out


def clip_channel(
    data: np.ndarray, channel: int, *, limit_uv: float, fraction: float = 0.05
) -> np.ndarray:
    """A copy of ``data`` with one channel amplified until it saturates at ``+-limit_uv``.

    Parameters
    ----------
    data : ndarray, shape (n_channels, n_samples)
        Signals in uV.
    channel : int
        Row to saturate.
    limit_uv : float
        Saturation level in uV; write the file with this as its physical range so that the
        clipped samples sit exactly at the digital extremes, as a saturated amplifier gives.
    fraction : float
        Share of the channel's samples that end up saturated (0 < fraction < 1).
    """
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"fraction must be within (0, 1), got {fraction!r}")
    if not limit_uv > 0:
        raise ValueError(f"limit_uv must be > 0, got {limit_uv!r}")
    out = np.array(data, copy=True)
    row = out[channel].astype(np.float64)
    level = np.quantile(np.abs(row), 1.0 - fraction)
    gain = limit_uv / level if level > 0 else 1.0
    out[channel] = np.clip(row * gain * 1.000001, -limit_uv, limit_uv)
    return out


def focal_slowing(
    data: np.ndarray,
    channels: Sequence[int],
    sfreq: float,
    *,
    rng: np.random.Generator,
    band: tuple[float, float] = (2.0, 4.0),
    amplitude_uv: float = 40.0,
    onset: float = 0.0,
    duration: float | None = None,
    weights: Sequence[float] | None = None,
) -> np.ndarray:
    """A copy of ``data`` with delta-band activity added on a few channels (focal slowing).

    Parameters
    ----------
    data : ndarray, shape (n_channels, n_samples)
        Signals in uV.
    channels : sequence of int
        Rows that receive the slowing (one focus, e.g. T3 and its neighbours).
    sfreq : float
        Sampling rate in Hz.
    rng : numpy.random.Generator
        Source of randomness.
    band : (float, float)
        Frequency band in Hz of the added activity.
    amplitude_uv : float
        RMS in uV at the first listed channel.
    onset, duration : float
        Where the slowing lies, in s (``duration=None``: to the end). Edges get a 0.5 s taper.
    weights : sequence of float, optional
        Relative amplitude per listed channel; default 1.0, 0.7, 0.5, 0.35, ...

    Returns
    -------
    ndarray, shape (n_channels, n_samples)
        The signals with the slowing added.
    """
    n_samples = data.shape[-1]
    lo, hi = band
    if not 0 < lo < hi < sfreq / 2:
        raise ValueError(f"band must satisfy 0 < low < high < sfreq/2; got {band!r} at {sfreq} Hz")
    if weights is None:
        weights = [0.7**i for i in range(len(channels))]
    if len(weights) != len(channels):
        raise ValueError(f"weights: expected {counted(len(channels), 'value')}, got {len(weights)}")
    freqs = np.fft.rfftfreq(n_samples, d=1.0 / sfreq)
    wave = _spectral_noise(1, n_samples, ((freqs >= lo) & (freqs <= hi)).astype(float), rng)[0]
    wave *= _window(n_samples, sfreq, onset, duration)
    out = np.array(data, copy=True)
    for ch, w in zip(channels, weights, strict=True):
        out[ch] += (amplitude_uv * w) * wave
    return out


def _window(n_samples: int, sfreq: float, onset: float, duration: float | None) -> np.ndarray:
    """0/1 window over [onset, onset + duration) s with 0.5 s cosine edges; (n_samples,) float32."""
    start = round(onset * sfreq)
    stop = n_samples if duration is None else round((onset + duration) * sfreq)
    win = np.zeros(n_samples, np.float32)
    win[max(start, 0) : max(min(stop, n_samples), 0)] = 1.0
    ramp = int(0.5 * sfreq)
    if ramp > 1 and stop > start:
        edge = (0.5 - 0.5 * np.cos(np.linspace(0, np.pi, ramp))).astype(np.float32)
        a, b = max(start, 0), min(start + ramp, n_samples)
        win[a:b] *= edge[a - start : b - start]
        a, b = max(stop - ramp, 0), min(stop, n_samples)
        win[a:b] *= edge[::-1][a - (stop - ramp) : b - (stop - ramp)]
    return win


def ecg_like(
    n_samples: int,
    sfreq: float,
    *,
    rng: np.random.Generator,
    heart_rate_hz: float = 1.2,
    amplitude_uv: float = 800.0,
) -> np.ndarray:
    """An ECG-like trace in uV: narrow R peaks with T waves at a slightly variable heart rate.

    Returns
    -------
    ndarray, shape (n_samples,)
    """
    duration = n_samples / sfreq
    n_beats = int(duration * heart_rate_hz * 1.5) + 2
    intervals = rng.normal(1.0 / heart_rate_hz, 0.04 / heart_rate_hz, n_beats).clip(0.3, 3.0)
    beats = np.cumsum(intervals) - rng.uniform(0, intervals[0])
    beats = beats[beats < duration]
    t = np.arange(n_samples) / sfreq
    # the nearest beat at or before each sample; its R peak and T wave as Gaussians
    idx = np.searchsorted(beats, t, side="right") - 1
    since = np.where(idx >= 0, t - beats[np.maximum(idx, 0)], 10.0)
    r = np.exp(-0.5 * ((since - 0.05) / 0.012) ** 2)
    tw = 0.25 * np.exp(-0.5 * ((since - 0.3) / 0.04) ** 2)
    return amplitude_uv * (r + tw) + rng.normal(0.0, 0.02 * amplitude_uv, n_samples)
