"""Synthetic EEG: deterministic, realistic amplitudes and spectra, helpers do what they say."""

from __future__ import annotations

import numpy as np
import pytest

from eegprep.testing.synth import (
    clip_channel,
    ecg_like,
    eeg_like,
    flat_channel,
    focal_slowing,
    site_weights,
)

SFREQ = 256.0
LABELS = ["EEG FP1-REF", "EEG F3-REF", "EEG C3-REF", "EEG P3-REF", "EEG O1-REF", "EEG ROC-REF"]


def _power(x: np.ndarray, sfreq: float, lo: float, hi: float) -> np.ndarray:
    """Mean periodogram power per channel in [lo, hi] Hz."""
    spec = np.abs(np.fft.rfft(x, axis=-1)) ** 2
    freqs = np.fft.rfftfreq(x.shape[-1], 1.0 / sfreq)
    band = (freqs >= lo) & (freqs <= hi)
    return spec[..., band].mean(axis=-1)


def _quiet(**extra: object) -> dict:
    """Only the 1/f background."""
    return {"alpha_uv": 0.0, "line_hz": None, "blinks": False, "drift_uv": 0.0, **extra}


def test_shape_dtype_and_determinism() -> None:
    a = eeg_like(4, 1000, SFREQ, rng=np.random.default_rng(0))
    b = eeg_like(4, 1000, SFREQ, rng=np.random.default_rng(0))
    c = eeg_like(4, 1000, SFREQ, rng=np.random.default_rng(1))
    assert a.shape == (4, 1000) and a.dtype == np.float32
    assert np.all(np.isfinite(a))
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    assert eeg_like(2, 10, SFREQ, rng=np.random.default_rng(0), dtype=np.float64).dtype == (
        np.float64
    )


def test_background_rms_and_one_over_f() -> None:
    x = eeg_like(8, 60 * 256, SFREQ, rng=np.random.default_rng(0), **_quiet(background_uv=30.0))
    rms = np.sqrt(np.mean(x.astype(np.float64) ** 2, axis=1))
    assert np.all((rms > 0.8 * 30 - 1e-3) & (rms < 1.2 * 30 + 1e-3))
    assert np.all(_power(x, SFREQ, 1.5, 2.5) > 10 * _power(x, SFREQ, 19.5, 20.5))


def test_background_is_correlated_across_channels() -> None:
    x = eeg_like(6, 30 * 256, SFREQ, rng=np.random.default_rng(0), **_quiet(correlation=0.5))
    r = np.corrcoef(x)[np.triu_indices(6, 1)]
    assert 0.3 < r.mean() < 0.7


def test_line_noise_present_only_when_asked() -> None:
    kw = {"alpha_uv": 0.0, "blinks": False, "drift_uv": 0.0}
    on = eeg_like(3, 30 * 256, SFREQ, rng=np.random.default_rng(0), line_hz=60.0, **kw)
    off = eeg_like(3, 30 * 256, SFREQ, rng=np.random.default_rng(0), line_hz=None, **kw)
    at60, near = _power(on, SFREQ, 59.9, 60.1), _power(on, SFREQ, 55, 58)
    assert np.all(at60 > 100 * near)
    assert np.all(_power(off, SFREQ, 59.9, 60.1) < 10 * _power(off, SFREQ, 55, 58))
    eu = eeg_like(1, 30 * 256, SFREQ, rng=np.random.default_rng(0), line_hz=50.0, **kw)
    assert _power(eu, SFREQ, 49.9, 50.1)[0] > 20 * _power(eu, SFREQ, 55, 58)[0]


def test_alpha_occipital_and_blinks_frontal() -> None:
    kw = {"labels": LABELS, "line_hz": None, "drift_uv": 0.0}
    x = eeg_like(len(LABELS), 120 * 256, SFREQ, rng=np.random.default_rng(0), **kw)
    alpha = _power(x, SFREQ, 9.0, 11.0)
    fp1, o1, roc = 0, 4, 5
    assert alpha[o1] > 4 * alpha[fp1]
    # blinks are drawn last (drift off): the difference is the blink component alone
    no_blinks = eeg_like(
        len(LABELS), 120 * 256, SFREQ, rng=np.random.default_rng(0), blinks=False, **kw
    )
    blinks = x - no_blinks
    assert 80 < blinks[fp1].max() < 250  # ~150 uV at FP1
    assert blinks[o1].max() < 0.1 * blinks[fp1].max()
    assert blinks[roc].max() > blinks[fp1].max()
    assert blinks.min() > -1e-3  # positive deflections only


def test_site_weights() -> None:
    alpha, blink = site_weights(["Fp1.", "O2", "EEG CZ-LE", "EEG 26-REF"], 4)
    assert alpha[1] == 1.0 and blink[0] == 1.0
    assert alpha[3] == pytest.approx(0.2) and blink[3] < 0.1
    alpha, blink = site_weights(None, 5)
    assert alpha[-1] > alpha[0] and blink[0] > blink[-1]
    with pytest.raises(ValueError, match="expected 3"):
        site_weights(["a"], 3)


def test_bad_arguments() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="n_channels"):
        eeg_like(0, 10, SFREQ, rng=rng)
    with pytest.raises(ValueError, match="correlation"):
        eeg_like(1, 10, SFREQ, rng=rng, correlation=2.0)


def test_flat_channel() -> None:
    x = eeg_like(3, 500, SFREQ, rng=np.random.default_rng(0))
    y = flat_channel(x, 1, value=5.0)
    assert np.all(y[1] == 5.0)
    assert np.array_equal(y[[0, 2]], x[[0, 2]])
    assert not np.all(x[1] == 5.0)  # input untouched


def test_clip_channel() -> None:
    x = eeg_like(2, 10_000, SFREQ, rng=np.random.default_rng(0), dtype=np.float64)
    y = clip_channel(x, 0, limit_uv=4999.84, fraction=0.05)
    saturated = np.mean(np.abs(y[0]) == 4999.84)
    assert 0.03 < saturated < 0.07
    assert np.max(np.abs(y[0])) == 4999.84
    assert np.array_equal(y[1], x[1])
    with pytest.raises(ValueError, match="fraction"):
        clip_channel(x, 0, limit_uv=100.0, fraction=1.5)


def test_focal_slowing_adds_delta_where_asked() -> None:
    n = 60 * 256
    x = eeg_like(4, n, SFREQ, rng=np.random.default_rng(0), dtype=np.float64)
    y = focal_slowing(x, [1, 2], SFREQ, rng=np.random.default_rng(1), onset=20.0, duration=20.0)
    added = y - x
    assert np.all(added[[0, 3]] == 0)
    assert np.all(added[1, : 20 * 256] == 0) and np.all(added[1, 40 * 256 :] == 0)
    delta, beta = _power(added[1:3], SFREQ, 2.0, 4.0), _power(added[1:3], SFREQ, 8.0, 30.0)
    assert np.all(delta > 1e4 * beta)
    assert np.std(added[1]) > np.std(added[2])  # weights 1.0, 0.7
    with pytest.raises(ValueError, match="band"):
        focal_slowing(x, [0], SFREQ, rng=np.random.default_rng(0), band=(4.0, 2.0))


def test_ecg_like_heart_rate() -> None:
    ecg = ecg_like(60 * 256, SFREQ, rng=np.random.default_rng(0), heart_rate_hz=1.0)
    peaks = np.flatnonzero((ecg[1:-1] > 400) & (ecg[1:-1] >= ecg[:-2]) & (ecg[1:-1] > ecg[2:]))
    assert 50 <= peaks.size <= 70
