"""Tests of eegprep.pipeline.preprocess (fast streamed path, MNE reference) and
eegprep.pipeline.recipe.

The tolerances come from docs/preprocessing.md, which gives the measured numbers behind them.
Signals are short (at most 150 s, a few channels) so that the whole file runs in seconds.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import mne
import numpy as np
import pytest

from eegprep.base.errors import EegprepError, UsageError
from eegprep.pipeline.preprocess import (
    _read_extended,
    _reflect_extend,
    array_source,
    design,
    mne_reference,
    output_length,
    process,
    stream,
)
from eegprep.pipeline.recipe import Recipe

SFREQ_OUT = 200
RATES = (160, 200, 250, 256, 400, 500, 512, 1000)
# MNE's FFT resampler (npad='auto') keeps time at these rates for whole-second recordings: the
# ratio 200/sfreq has a power-of-two denominator (see docs/preprocessing.md, "Tolerance").
RATES_MNE_KEEPS_TIME = (160, 200, 256, 400, 512)
RATES_MNE_STRETCHES = (250, 500, 1000)
# Interior = first and last 20 s dropped: the 0.1 Hz high-pass kernel reaches +-16.5 s (MNE) or
# +-19.8 s (ours, high-pass and notch convolved), so edge padding matters within that reach.
EDGE = 20 * SFREQ_OUT
RECIPE = Recipe()


def _noise(n_channels: int, n_samples: int, seed: int = 0, scale: float = 20.0) -> np.ndarray:
    """White noise, float32 microvolts (20 uV RMS: a typical EEG amplitude)."""
    rng = np.random.default_rng(seed)
    return (scale * rng.standard_normal((n_channels, n_samples))).astype(np.float32)


def _tone(sfreq: float, freq: float, n_samples: int, amp: float = 1.0, phase: float = 0.3):
    """One channel ``amp * sin(2 pi freq t + phase)`` sampled at ``sfreq``; float64."""
    t = np.arange(n_samples) / sfreq
    return amp * np.sin(2 * np.pi * freq * t + phase)[None, :]


def _rel_rms(a: np.ndarray, b: np.ndarray) -> float:
    """RMS of ``a - b`` relative to the RMS of ``b``."""
    return float(np.sqrt(np.mean((a - b) ** 2)) / np.sqrt(np.mean(b**2)))


def _interior(y: np.ndarray, edge: int = EDGE) -> np.ndarray:
    return y[..., edge:-edge]


def _gain_db(y: np.ndarray, amp: float) -> float:
    """Gain of a sinusoid of amplitude ``amp`` from the RMS of the output's interior."""
    return float(20 * np.log10(np.sqrt(2 * np.mean(_interior(y) ** 2)) / amp))


def _fit_tone(y: np.ndarray, freq: float, start: int = 0) -> tuple[float, float]:
    """Least-squares fit of ``g sin(2 pi freq (t - delay) + 0.3)`` to 200 Hz output samples
    ``[start, start + len(y))``.

    Returns (gain, delay in seconds) against the analytic tone ``sin(2 pi freq t + 0.3)``.
    """
    w = 2 * np.pi * freq * (start + np.arange(y.shape[-1])) / SFREQ_OUT + 0.3
    basis = np.stack([np.sin(w), np.cos(w)], axis=1)
    (c_sin, c_cos), *_ = np.linalg.lstsq(basis, y.astype(np.float64), rcond=None)
    return float(np.hypot(c_sin, c_cos)), float(np.arctan2(-c_cos, c_sin) / (2 * np.pi * freq))


def _mne_resample_npad0(x: np.ndarray, sfreq: float, mains: float) -> np.ndarray:
    """LaBraM's MNE path, but ``raw.resample(200, npad=0)``: no power-of-two padding."""
    raw = mne.io.RawArray(x * 1e-6, mne.create_info(x.shape[0], sfreq, "eeg"), verbose="error")
    raw.filter(0.1, 75, verbose="error")
    raw.notch_filter(mains, verbose="error")
    raw.resample(SFREQ_OUT, npad=0, verbose="error")
    return raw.get_data(units="uV")


# ---------------------------------------------------------------- lengths and streaming


@pytest.mark.parametrize("sfreq", RATES)
def test_output_length_is_rounded_ratio(sfreq):
    for n_in in (1, 2, 3, 7, 1001, 30 * sfreq + 7):
        y = process(_noise(2, n_in), sfreq, 60.0, RECIPE)
        assert y.dtype == np.float32
        assert (
            y.shape == (2, round(n_in * SFREQ_OUT / sfreq)) == (2, output_length(n_in, sfreq, 200))
        )
    # the same count as MNE's resample
    assert y.shape == mne_reference(_noise(2, n_in), sfreq, 60.0, RECIPE).shape


@pytest.mark.parametrize("sfreq", (200, 250, 256, 1000))
@pytest.mark.parametrize("block_seconds", (10, 13.7, 60))
def test_streamed_equals_whole(sfreq, block_seconds):
    x = _noise(3, int(95.3 * sfreq) + 3, seed=1)
    recipe = RECIPE.with_(block_seconds=block_seconds)
    blocks = list(stream(array_source(x), 3, x.shape[1], sfreq, 60.0, recipe))
    whole = process(x, sfreq, 60.0, RECIPE.with_(block_seconds=1e6))
    block = int(block_seconds * SFREQ_OUT)
    assert all(b.shape[1] == block for b in blocks[:-1])
    assert 0 < blocks[-1].shape[1] <= block
    # float32 round-off only (measured <= 4e-5 uV on 20 uV RMS noise)
    np.testing.assert_allclose(np.concatenate(blocks, axis=1), whole, rtol=0, atol=1e-3)


@pytest.mark.parametrize("sfreq", (160, 250, 256, 1000))
@pytest.mark.parametrize("n_channels", (1, 3, 8, 21))
def test_channels_in_groups_are_the_same_samples(sfreq, n_channels, monkeypatch):
    """A block's channels are transformed a few at a time (for the CPU's cache): the samples
    are those of transforming every channel at once, or each alone, to float32 round-off (a
    group's buffers never leak into the next group's rows)."""
    import eegprep.pipeline.preprocess as pp

    x = _noise(n_channels, int(70.5 * sfreq), seed=n_channels)
    x[n_channels // 2] *= 40  # one loud channel: a leak between rows would show
    grouped = process(x, sfreq, 60.0, RECIPE.with_(block_seconds=30))
    monkeypatch.setattr(pp, "ROWS_PER_TRANSFORM", 10**6)
    together = process(x, sfreq, 60.0, RECIPE.with_(block_seconds=30))
    for row in range(n_channels):  # each row alone gives the same row (float32 round-off)
        alone = process(x[row : row + 1], sfreq, 60.0, RECIPE.with_(block_seconds=30))
        peak = float(np.abs(alone).max())
        np.testing.assert_allclose(grouped[row], together[row], rtol=0, atol=1e-5 * peak)
        np.testing.assert_allclose(grouped[row], alone[0], rtol=0, atol=1e-5 * peak)


@pytest.mark.parametrize("sfreq", (200, 256, 1000))
@pytest.mark.parametrize("seconds", (0.005, 0.5, 3.0, 15.0, 25.0))
def test_short_recordings_stream_equals_whole(sfreq, seconds):
    # shorter than one 10 s block and/or than the 39.6 s high-pass + notch kernel
    x = _noise(2, int(seconds * sfreq), seed=2) + 50.0
    y = process(x, sfreq, 50.0, RECIPE.with_(block_seconds=10))
    whole = process(x, sfreq, 50.0, RECIPE.with_(block_seconds=1e6))
    assert y.shape == whole.shape == (2, output_length(x.shape[1], sfreq, SFREQ_OUT))
    assert np.isfinite(y).all()
    np.testing.assert_allclose(y, whole, rtol=0, atol=1e-3)


def test_reads_are_bounded_by_the_block():
    """Peak memory follows the block length, not the recording's: every read spans one block
    plus the filters' margins (rounded up to an FFT-friendly length)."""
    sfreq = 256
    d = design(float(sfreq), 60.0, RECIPE)
    for seconds in (600, 1800):
        x = _noise(2, seconds * sfreq, seed=3)
        spans: list[int] = []

        def read(a, b, out, x=x, spans=spans):
            assert 0 <= a <= b <= x.shape[1]
            spans.append(b - a)
            out[...] = x[:, a:b]

        recipe = RECIPE.with_(block_seconds=60)
        n_out = sum(b.shape[1] for b in stream(read, 2, x.shape[1], sfreq, 60.0, recipe))
        assert n_out == seconds * SFREQ_OUT
        bound = 1.1 * (60 * SFREQ_OUT + 2 * d.margin) * d.down / d.up  # source samples
        assert max(spans) <= bound
        assert len(spans) == seconds // 60
        # margins re-read: (60 s + 2 x 20.8 s) per 60 s block, FFT rounding included
        assert sum(spans) <= 1.1 * x.shape[1] * (60 * SFREQ_OUT + 2 * d.margin) / (60 * SFREQ_OUT)


@pytest.mark.parametrize("n", (1, 2, 7, 50))
def test_reflect_extend_is_mne_reflect_limited(n):
    """Odd reflection about the first and last samples, up to ``n - 1`` samples each side, then
    zeros; for any requested span and any part of the signal holding it."""
    rng = np.random.default_rng(n)
    x = rng.standard_normal((3, n)).astype(np.float32)
    reach = max(n - 1, 0)
    padded = np.concatenate(  # MNE's reflect_limited: odd reflection, then zeros
        [
            np.zeros((3, 3 * n + 5)),
            2 * x[:, :1] - x[:, reach:0:-1],
            x,
            2 * x[:, -1:] - x[:, -2 : -reach - 2 : -1] if reach else x[:, :0],
            np.zeros((3, 3 * n + 5)),
        ],
        axis=1,
    )
    origin = 3 * n + 5 + reach  # column of sample 0 in `padded`
    for _ in range(40):
        lo = int(rng.integers(-2 * n - 4, n))
        hi = int(rng.integers(max(lo, 0) + 1, 3 * n + 5))
        a = max(0, min(lo, 2 * (n - 1) - hi + 1))
        b = min(n, max(hi, -lo + 1))
        got = _reflect_extend(x[:, a:b], lo, hi, n, a)
        np.testing.assert_allclose(got, padded[:, origin + lo : origin + hi], atol=1e-6)
        # read into its place in the segment, edges reflected there: the same samples
        wide = np.full((3, hi - lo + 2), np.nan, dtype=np.float32)
        _read_extended(array_source(x), n, lo, hi, wide[:, 1:-1])
        np.testing.assert_array_equal(wide[:, 1:-1], got)
        assert np.isnan(wide[:, [0, -1]]).all()


@pytest.mark.parametrize("mains", (50.0, None))
def test_no_rate_change_is_the_exact_fir(mains):
    """At 200 Hz in, the FFT segments compute exactly the linear convolution with the low-pass,
    high-pass and notch kernels (odd-reflected edges), as a direct float64 convolution does."""
    x = _noise(2, 90 * SFREQ_OUT + 7, seed=11).astype(np.float64)
    d = design(float(SFREQ_OUT), mains, RECIPE)
    h = np.convolve(d.lowpass, d.kernel)
    half = (h.shape[0] - 1) // 2
    n = x.shape[1]
    idx = np.arange(-half, n + half)
    ext = np.where(idx < 0, 2 * x[:, :1] - x[:, np.abs(idx) % n], 0.0)  # odd reflection
    inside = (idx >= 0) & (idx < n)
    ext[:, inside] = x[:, idx[inside]]
    right = idx >= n
    ext[:, right] = 2 * x[:, -1:] - x[:, 2 * (n - 1) - idx[right]]
    direct = np.stack([np.convolve(row, h, mode="valid") for row in ext])
    ours = process(x, SFREQ_OUT, mains, RECIPE.with_(block_seconds=20))
    np.testing.assert_allclose(ours, direct, rtol=0, atol=2e-4)  # float32 round-off, uV


# ---------------------------------------------------------------- frequency response


@pytest.mark.parametrize("sfreq", RATES)
def test_10hz_tone_keeps_gain_and_time(sfreq):
    n_in = 70 * sfreq + 3
    y = process(_tone(sfreq, 10.0, n_in), sfreq, 60.0, RECIPE)[0]
    gain, delay = _fit_tone(_interior(y), 10.0, start=EDGE)
    assert abs(gain - 1) < 0.01
    assert abs(delay) < 10e-6  # seconds; measured < 3e-6 (MNE's path at 250 Hz: up to 5.7e-4)
    t = np.arange(y.shape[0]) / SFREQ_OUT
    analytic = np.sin(2 * np.pi * 10.0 * t + 0.3)
    assert np.abs(_interior(y) - _interior(analytic)).max() < 0.01


def test_rates_with_large_rational_ratios():
    """173.61 Hz (the Bonn recordings): 200 / 173.61 = 20000 / 17361, exact, one FFT segment
    per block; a 10 Hz tone keeps its gain and its time."""
    sfreq = 173.61
    n_in = int(120 * sfreq)
    y = process(_tone(sfreq, 10.0, n_in), sfreq, 50.0, RECIPE)[0]
    assert y.shape[0] == output_length(n_in, sfreq, SFREQ_OUT)
    gain, delay = _fit_tone(_interior(y), 10.0, start=EDGE)
    assert abs(gain - 1) < 0.01 and abs(delay) < 10e-6


@pytest.mark.parametrize("sfreq", (200, 256, 1000))
@pytest.mark.parametrize("mains", (50.0, 60.0))
def test_notch_removes_mains_only_when_asked(sfreq, mains):
    x = _tone(sfreq, mains, 60 * sfreq, amp=100.0)
    assert _gain_db(process(x, sfreq, mains, RECIPE), 100.0) < -30  # measured -56 dB
    other = 50.0 if mains == 60.0 else 60.0
    for y in (
        process(x, sfreq, None, RECIPE),
        process(x, sfreq, mains, RECIPE.with_(notch=False)),
        process(x, sfreq, other, RECIPE),
    ):
        assert abs(_gain_db(y, 100.0)) < 0.1


def test_slow_drift_removed():
    sfreq = 256
    x = _tone(sfreq, 0.02, 150 * sfreq, amp=100.0)  # 3 cycles
    assert _gain_db(process(x, sfreq, 60.0, RECIPE), 100.0) < -20  # measured -22.8 dB


@pytest.mark.parametrize(
    ("sfreq", "freq"),
    [
        (200, 95.0),
        (256, 95.0),
        (256, 120.0),
        (500, 95.0),
        (500, 120.0),
        (1000, 95.0),
        (1000, 180.0),
    ],
)
def test_high_frequencies_removed(sfreq, freq):
    # 93.75 Hz is the low-pass's stop edge (75 + 18.75); above 100 Hz a leak would alias, and
    # the band-limited resampler cuts there outright
    x = _tone(sfreq, freq, 60 * sfreq, amp=100.0)
    gain = _gain_db(process(x, sfreq, 60.0, RECIPE), 100.0)
    assert gain < (-100 if freq > 100 else -40)  # measured -55 to -70 dB; -136 to -140 dB


@pytest.mark.parametrize("sfreq", RATES)
def test_dc_offset_leaves_no_artifact(sfreq):
    x = _noise(2, 60 * sfreq, seed=5)
    y = process(x + 5000.0, sfreq, 60.0, RECIPE) - process(x, sfreq, 60.0, RECIPE)
    one_s = SFREQ_OUT
    # a constant passes every stage as a constant (the old polyphase resampler leaked 2.2 uV of
    # tones at 256 Hz until its branches were normalised); what is left is float32 rounding
    assert np.abs(y[:, one_s:-one_s]).max() < 0.01  # uV, for a 5000 uV offset; measured 0.002


# ---------------------------------------------------------------- fast vs MNE


@pytest.mark.parametrize("sfreq", RATES_MNE_KEEPS_TIME)
def test_fast_matches_mne_where_mne_keeps_time(sfreq):
    x = _noise(4, 120 * sfreq, seed=6)
    fast = process(x, sfreq, 60.0, RECIPE)
    ref = mne_reference(x, sfreq, 60.0, RECIPE)
    # measured 8.7e-4 at 160 Hz (MNE's handling of the source Nyquist bin), <= 1.1e-4 elsewhere
    assert _rel_rms(_interior(fast), _interior(ref)) < 0.002


def test_fast_equals_mne_at_200hz_everywhere():
    x = _noise(4, 60 * SFREQ_OUT, seed=7)
    fast = process(x, SFREQ_OUT, 50.0, RECIPE)
    ref = mne_reference(x, SFREQ_OUT, 50.0, RECIPE)
    assert _rel_rms(fast, ref) < 1e-4  # same designs, no resampling; measured 2e-6


@pytest.mark.parametrize("sfreq", RATES_MNE_STRETCHES)
def test_fast_keeps_time_where_mne_stretches(sfreq):
    n_in = 120 * sfreq
    freqs, amps, phases = (5.0, 10.0, 23.0, 40.0), (20.0, 30.0, 10.0, 5.0), (0.3, 1.1, 2.0, 0.7)

    def tones(t):
        return sum(a * np.sin(2 * np.pi * f * t + p) for f, a, p in zip(freqs, amps, phases))

    x = tones(np.arange(n_in) / sfreq)[None, :]
    fast = process(x, sfreq, 60.0, RECIPE)
    ref = mne_reference(x, sfreq, 60.0, RECIPE)
    truth = _interior(tones(np.arange(fast.shape[1]) / SFREQ_OUT)[None, :])
    err_fast = _rel_rms(_interior(fast), truth)  # measured 0.0011
    err_mne = _rel_rms(_interior(ref), truth)  # measured 0.026
    assert err_fast < 0.003
    assert err_mne > 5 * err_fast
    # the difference is MNE's time base: a 10 Hz tone drifts in MNE's output, not in ours
    tone = _tone(sfreq, 10.0, n_in)
    delays = {}
    for name, y in (
        ("fast", process(tone, sfreq, 60.0, RECIPE)[0]),
        ("mne", mne_reference(tone, sfreq, 60.0, RECIPE)[0]),
    ):
        # 20 s windows next to the edge zones: start 20-40 s, end 80-100 s
        end = len(y) - 2 * EDGE
        delays[name] = (
            _fit_tone(y[EDGE : 2 * EDGE], 10.0, start=EDGE)[1],
            _fit_tone(y[end : end + EDGE], 10.0, start=end)[1],
        )
    assert max(abs(d) for d in delays["fast"]) < 10e-6
    assert abs(delays["mne"][1] - delays["mne"][0]) > 100e-6
    # without the power-of-two padding, MNE's resampler keeps time and agrees with ours
    noise = _noise(4, n_in, seed=8).astype(np.float64)
    fast = process(noise, sfreq, 60.0, RECIPE)
    npad0 = _mne_resample_npad0(noise, sfreq, 60.0)
    assert _rel_rms(_interior(fast), _interior(npad0)) < 5e-4  # measured 4e-5 to 1.1e-4


def test_mode_mne_equals_reference_exactly():
    x = _noise(3, 30 * 256, seed=9)
    recipe = RECIPE.with_(mode="mne")
    blocks = list(stream(array_source(x), 3, x.shape[1], 256, 60.0, recipe))
    assert len(blocks) == 1
    np.testing.assert_array_equal(blocks[0], mne_reference(x, 256, 60.0, recipe))
    np.testing.assert_array_equal(process(x, 256, 60.0, recipe), blocks[0])


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize("sfreq", (100, 150))
def test_source_rate_too_low_for_the_lowpass(sfreq):
    with pytest.raises(ValueError, match=rf"source rate {sfreq}\.0 Hz is too low .* 75\.0 Hz"):
        process(_noise(2, 10 * sfreq), sfreq, 60.0, RECIPE)


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"mode": "scipy"}, r"Invalid value for `mode`: allowed 'fast', 'mne'; got 'scipy'"),
        ({"encoding": "int16"}, r"Invalid value for `encoding`: .* got 'int16'"),
        ({"l_freq": 0.0}, r"`l_freq`: expected a number in \(0, 50,000\]; got 0\.0"),
        ({"l_freq": 80.0}, r"band 80\.0-75\.0 Hz must satisfy"),
        ({"h_freq": 100.0}, r"band 0\.1-100\.0 Hz .* sfreq/2 = 100\.0 Hz"),
        ({"sfreq": 100.0}, r"band 0\.1-75\.0 Hz .* sfreq/2 = 50\.0 Hz"),
        ({"block_seconds": 5}, r"`block_seconds`: expected a number in \[10, 10,000,000\]; got 5"),
    ],
)
def test_invalid_recipe_raises_usage_error(changes, match):
    with pytest.raises(UsageError, match=match) as info:
        Recipe(**changes)
    assert isinstance(info.value, EegprepError)
    assert isinstance(info.value, ValueError)


# ---------------------------------------------------------------- recipe hash


def test_recipe_hash_is_stable_across_processes():
    code = "from eegprep.pipeline.recipe import Recipe; print(Recipe().hash())"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "123"},
        cwd=Path(__file__).resolve().parents[2],
    )
    assert out.stdout.strip() == RECIPE.hash() == Recipe().hash()
    assert len(RECIPE.hash()) == 16
    assert Recipe.from_dict(RECIPE.to_dict()).hash() == RECIPE.hash()


@pytest.mark.parametrize(
    "changes",
    [
        {"l_freq": 0.5},
        {"h_freq": 45.0},
        {"sfreq": 250.0},
        {"notch": False},
        {"mode": "mne"},
        {"encoding": "float16"},
    ],
)
def test_recipe_hash_changes_with_what_changes_samples(changes):
    assert RECIPE.with_(**changes).hash() != RECIPE.hash()


def test_recipe_hash_ignores_block_seconds():
    assert RECIPE.with_(block_seconds=120).hash() == RECIPE.hash()
