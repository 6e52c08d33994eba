"""eegprep.pipeline.fir against MNE's filter designs, and the QC's Welch spectrum against
scipy.signal.welch: the ingest path imports neither MNE's filter code nor scipy.signal."""

from __future__ import annotations

import mne
import numpy as np
import pytest
from scipy import signal as sps

from eegprep.pipeline.fir import auto_h_trans, fir_kernel
from eegprep.pipeline.qc import welch

RATES = (160.0, 173.61, 200.0, 250.0, 256.0, 400.0, 500.0, 512.0, 1000.0, 2048.0, 5000.0)


def _mne(sfreq: float, l_freq: float | None, h_freq: float | None, **kw: float) -> np.ndarray:
    return mne.filter.create_filter(
        None, sfreq, l_freq, h_freq, method="fir", fir_design="firwin", phase="zero",
        verbose="error", **kw,
    )  # fmt: skip


@pytest.mark.parametrize("sfreq", RATES)
def test_kernels_are_mnes_to_the_bit(sfreq: float) -> None:
    for h in (30.0, 45.0, 75.0):
        if auto_h_trans(h, sfreq) > 0:
            ht = auto_h_trans(h, sfreq)
            ours = fir_kernel(sfreq, None, h, h_trans_bandwidth=ht)
            np.testing.assert_array_equal(ours, _mne(sfreq, None, h, h_trans_bandwidth=ht))
            np.testing.assert_array_equal(fir_kernel(sfreq, None, h), _mne(sfreq, None, h))
    for low in (0.1, 0.5, 1.0, 4.0):
        np.testing.assert_array_equal(fir_kernel(sfreq, low, None), _mne(sfreq, low, None))
        if sfreq >= 200:
            np.testing.assert_array_equal(fir_kernel(sfreq, low, 75.0), _mne(sfreq, low, 75.0))
    for mains in (50.0, 60.0):
        if mains < sfreq / 2:
            half = mains / 400 + 0.5
            widths = {"l_trans_bandwidth": 0.5, "h_trans_bandwidth": 0.5}
            ours = fir_kernel(sfreq, mains + half, mains - half, **widths)
            np.testing.assert_array_equal(ours, _mne(sfreq, mains + half, mains - half, **widths))


def test_bands_mne_refuses_are_refused() -> None:
    with pytest.raises(ValueError, match="Nyquist"):
        fir_kernel(200.0, None, 100.0)
    with pytest.raises(ValueError, match="not realisable"):
        fir_kernel(200.0, 0.5, None, l_trans_bandwidth=1.0)
    with pytest.raises(ValueError, match="needs l_freq"):
        fir_kernel(200.0, None, None)


@pytest.mark.parametrize("sfreq", (160.0, 250.0, 256.0, 1000.0, 173.61))
@pytest.mark.parametrize("seconds", (4.0, 9.3, 30.0))
def test_welch_is_scipys(sfreq: float, seconds: float) -> None:
    x = 20 * np.random.default_rng(int(sfreq)).standard_normal((3, int(seconds * sfreq))) + 300
    nperseg = int(2 * sfreq)
    f_ref, p_ref = sps.welch(x, fs=sfreq, nperseg=nperseg, axis=-1)
    f, p = welch(x, sfreq, nperseg)
    np.testing.assert_allclose(f, f_ref, rtol=1e-14)
    np.testing.assert_allclose(p, p_ref, rtol=1e-10, atol=0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_qc_median_is_numpys(dtype):
    """``eegprep.pipeline.qc.median`` (no numpy.ma import) gives ``np.median``'s values, bit for
    bit: odd and even counts, along either axis or none, ties, and NaN where a NaN is."""
    from eegprep.pipeline.qc import median

    rng = np.random.default_rng(3)
    for shape in [(1,), (2,), (7,), (8,), (5, 1), (4, 9), (3, 10)]:
        a = rng.standard_normal(shape).astype(dtype) * 1e3
        for axis in [None, 0] + ([1] if a.ndim == 2 else []):
            np.testing.assert_array_equal(median(a, axis), np.median(a, axis=axis))
            assert np.asarray(median(a, axis)).dtype == np.asarray(np.median(a, axis=axis)).dtype
    b = np.array([[1.0, np.nan, 3.0], [2.0, 5.0, 2.0], [2.0, 1.0, 9.0]], dtype=dtype)
    for axis in (None, 0, 1):
        np.testing.assert_array_equal(median(b, axis), np.median(b, axis=axis))
