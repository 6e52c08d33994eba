"""A source rate the resampler takes, or one line where it cannot: never an internal error.

FIF keeps a recording's rate as a float32: 204.8 Hz (2048 Hz / 10) reads back as
204.8000030517578 Hz, whose ratio to 200 Hz has no denominator under 100,000 within 1e-6 Hz,
and every command said `internal error ValueError: cannot resample ...` of it (an ingest's
line, `labram predict`'s `skipped:` line). The rate is now taken as float32 writes it (204.8),
and the store and `labram predict` give the file the same windows. A rate with no such ratio
within 1 ppm (1000.002 Hz: its nearest, 1/5, is 2 ppm off) is one line saying why, in both.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from eegprep.pipeline.preprocess import RateRatioError, resampling_ratio


@pytest.mark.parametrize(
    ("rate", "expected"),
    [(float(np.float32(204.8)), (125, 128)), (250.0, (4, 5)), (float(np.float32(512.0)), (25, 64))],
)
def test_a_float32_rate_is_taken_as_float32_writes_it(
    rate: float, expected: tuple[int, int]
) -> None:
    assert resampling_ratio(rate, 200.0) == expected


def test_a_rate_with_no_ratio_is_its_own_error() -> None:
    with pytest.raises(RateRatioError, match=r"source rate 1000\.002 Hz has no ratio up/down"):
        resampling_ratio(1000.002, 200.0)
    assert issubclass(RateRatioError, ValueError)


def _fif(folder: Path, name: str, sfreq: float, *, repeats: int = 1) -> Path:
    import mne

    from tests.labram.test_predict_formats_equal_store import LABELS, X

    info = mne.create_info(LABELS, sfreq, "eeg")
    mne.io.RawArray(np.tile(X, repeats) * 1e-6, info, verbose=False).save(
        folder / name, verbose=False
    )
    return folder / name


@pytest.mark.parametrize(("rate", "repeats"), [(204.8, 1), (999.9999, 5)])  # (43 s each)
def test_a_fif_at_204_8_hz_is_stored_and_predicted_alike(
    tmp_path: Path, rate: float, repeats: int
) -> None:
    """And one at 999.9999 Hz, resampled by its nearest ratio (1/5), alike in both too."""
    from labram.stages.predict import predict_files
    from tests.labram.test_predict_formats_equal_store import _classifier, _stored

    src = tmp_path / "src"
    src.mkdir()
    path = _fif(src, "a_raw.fif", rate, repeats=repeats)
    ckpt = _classifier(tmp_path / "best.pt")
    stored = _stored(src, "folder", ckpt, tmp_path)["a_raw.fif"]
    res = predict_files([path], ckpt, corpus="folder", mains=50.0, device="cpu")
    assert res["failed"] == []
    (rec,) = res["recordings"]
    assert rec["channels"] == stored["channels"]
    assert [w["start_s"] for w in rec["windows"]] == stored["starts"] != []
    p = np.array([[w["probabilities"][c] for c in "abc"] for w in rec["windows"]])
    np.testing.assert_allclose(p, stored["probabilities"], atol=2e-6)


def test_a_rate_with_no_ratio_is_one_line_in_ingest_and_predict(tmp_path: Path) -> None:
    from eegprep.ingestion.driver import IngestConfig, ingest
    from labram.stages.predict import predict_files
    from tests.labram.test_predict_formats_equal_store import _classifier

    src = tmp_path / "src"
    src.mkdir()
    path = _fif(src, "odd_raw.fif", 1000.002, repeats=4)  # (35 s: longer than a window)
    config = IngestConfig(workers=0, progress=False, mains=50)
    rep = ingest("folder", src=src, out=tmp_path / "s.zarr", config=config)
    ckpt = _classifier(tmp_path / "best.pt")
    res = predict_files([path], ckpt, corpus="folder", mains=50.0, device="cpu")
    for line in (*rep.failed, *res["failed"]):
        assert "odd_raw.fif: " in line and "no ratio up/down" in line, line
        assert "internal error" not in line
    assert len(rep.failed) == len(res["failed"]) == 1
