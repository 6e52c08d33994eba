"""The mains check against periodic signals: a pulse train's comb of lines, and real hum on
top of a periodic signal's harmonic at the mains frequency."""

from __future__ import annotations

import numpy as np
import pytest

from eegprep.pipeline.qc import check_head, check_mains, summarize

LABELS = ["FP1", "FP2", "C3", "C4"]


def _mains_warnings(x: np.ndarray, sfreq: float, mains: float) -> list[str]:
    head = check_head(x, LABELS, sfreq)
    return [w for w in summarize([30.0] * 4, LABELS, head, mains)[1] if "line noise" in w]


def _pulse_train(n_wide: int, hum_uv: float = 0.0) -> np.ndarray:
    """(4, n) uV at 500 Hz: 100 uV pulses ``n_wide`` samples wide, 2 per second, 0.5 uV of
    noise, and ``hum_uv`` of 50 Hz hum."""
    sfreq = 500.0
    n = np.arange(int(40 * sfreq))
    train = np.where(n % 250 < n_wide, 100.0, 0.0) + hum_uv * np.sin(2 * np.pi * 50 * n / sfreq)
    return train + np.random.default_rng(1).normal(0, 0.5, (4, n.size))


@pytest.mark.parametrize("n_wide", [5, 8, 11, 19])
@pytest.mark.parametrize("mains", [50.0, 60.0])
def test_a_pulse_train_is_no_mains_interference(n_wide: int, mains: float) -> None:
    """A 2 Hz train of narrow pulses (10-38 ms at 500 Hz) has lines every 2 Hz, inside the
    2-5 Hz neighbourhood each line was measured against: every line stood ~6 dB tall, none
    counted as the series' harmonic, and where the pulses' envelope favoured one mains
    frequency (16, 22, 38 ms) the corpus got "line noise peaks at 50 Hz" (or 60)."""
    assert _mains_warnings(_pulse_train(n_wide), 500.0, mains) == []


@pytest.mark.parametrize("n_wide", [5, 11])
def test_hum_on_a_pulse_train_is_still_seen(n_wide: int) -> None:
    warnings = _mains_warnings(_pulse_train(n_wide, hum_uv=3.0), 500.0, 60.0)
    assert len(warnings) == 1 and "line noise peaks at 50 Hz" in warnings[0]


@pytest.mark.parametrize("n_wide", [4, 13, 25])
def test_hum_between_a_4_hz_train_s_lines_is_seen(n_wide: int) -> None:
    """A 4 Hz train (256 Hz) has lines at 48 and 52 Hz, none at 50: 10 uV of hum there is
    mains, though a fundamental near the train's (4.17 Hz = 50 / 12) finds lines of the train
    within a bin of some of its multiples, none near 50 Hz."""
    sfreq = 256.0
    n = np.arange(int(40 * sfreq))
    train = np.where(n % 64 < n_wide, 100.0, 0.0) + 10.0 * np.sin(2 * np.pi * 50 * n / sfreq + 0.3)
    x = train + np.random.default_rng(n_wide).normal(0, 0.5, (4, n.size))
    warnings = _mains_warnings(x, sfreq, 60.0)
    assert len(warnings) == 1 and "line noise peaks at 50 Hz" in warnings[0]


def _square_and_hum(hum_hz: float, hum_uv: float, phase: float = 0.0) -> np.ndarray:
    """(4, n) uV at 160 Hz: a 50 uV 10 Hz square wave, 1 uV of noise, and hum."""
    t = np.arange(int(40 * 160)) / 160.0
    x = 50.0 * np.sign(np.sin(2 * np.pi * 10 * t)) + hum_uv * np.sin(2 * np.pi * hum_hz * t + phase)
    return x + np.random.default_rng(0).normal(0, 1, (4, t.size))


@pytest.mark.parametrize(
    ("hum_hz", "phase"), [(50.0, 0.0), (50.0, 0.8), (49.97, 0.0), (50.03, 0.0)]
)
def test_hum_on_a_square_wave_s_harmonic_is_seen(hum_hz: float, phase: float) -> None:
    """At 160 Hz a 10 Hz square wave's lines are 10, 30, 50, 70 Hz (its 50 Hz line was taken
    for the 5th harmonic alone, as it was no more than 3 dB above the 30 Hz line below):
    15 uV of hum lifts the 50 Hz line out of the envelope of 30 and 70 Hz. Hum off the square
    wave's clock (49.97 Hz, as real mains drifts) or in step with it (phases 0, 0.8) alike."""
    warnings = _mains_warnings(_square_and_hum(hum_hz, 15.0, phase), 160.0, 60.0)
    assert len(warnings) == 1 and "line noise peaks at 50 Hz" in warnings[0]


def test_the_square_wave_alone_stays_a_harmonic() -> None:
    """Its 50 Hz line alone is tall enough to warn, were it not known for a harmonic."""
    head = check_head(_square_and_hum(50.0, 0.0), LABELS, 160.0)
    assert head.line_harmonics == ("50",)
    assert check_mains(head.line_noise_db, 60.0) is not None
    assert _mains_warnings(_square_and_hum(50.0, 0.0), 160.0, 60.0) == []
