from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from cli import eegprep_cli
from eegprep.ingestion.driver import IngestConfig, ingest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def report(tuh_corpus: Path, tmp_path: Path) -> Path:
    (tuh_corpus / "edf" / "000" / "broken.edf").write_bytes(b"")
    out = tmp_path / "s.zarr"
    ingest("tuh", src=tuh_corpus, out=out, config=IngestConfig(workers=0, progress=False))
    page = tmp_path / "report.html"
    res = CliRunner().invoke(eegprep_cli, ["stats", str(out), "--html", str(page)])
    assert res.exit_code == 0, res.output
    return page


def test_report_is_one_self_contained_page(report: Path) -> None:
    text = report.read_text()
    for section in ("Corpora", "Channel coverage", "Sampling rates", "Spectra", "skipped"):
        assert section in text
    assert text.count("data:image/png;base64,") == 4
    assert "http://" not in text and "https://" not in text and "<script" not in text
    assert "edf/000/broken.edf: path matches no rule" in text


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not installed")
def test_report_renders_in_headless_chromium(report: Path, tmp_path: Path) -> None:
    import matplotlib.image as mpimg

    shot = tmp_path / "shot.png"
    cmd = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tempfile.mkdtemp()}",
        "--window-size=1100,2400",
        f"--screenshot={shot}",
        report.as_uri(),
    ]
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    img = mpimg.imread(shot)
    assert img.shape[0] == 2400 and img.shape[1] == 1100
    # not a blank page: a good share of non-white pixels, and colour (the plots)
    rgb = img[..., :3]
    assert (rgb.mean(axis=2) < 0.9).mean() > 0.05
    assert (np.ptp(rgb, axis=2) > 0.2).mean() > 0.01


def test_report_of_records_without_their_original_rate(tmp_path: Path) -> None:
    """A record written without ``orig_sfreq`` (not by an ingest): `stats` counts it as
    'unknown', and the page's histogram did not (a TypeError, an internal error)."""
    from tests.labram.training_stores import write_pretrain_store

    store = write_pretrain_store(tmp_path / "s.zarr", n_subjects=1, seconds=20)
    page = tmp_path / "report.html"
    res = CliRunner().invoke(eegprep_cli, ["stats", store, "--html", str(page)])
    assert res.exit_code == 0, res.output
    assert "unknownx1" in res.output and page.read_text().startswith("<!doctype html>")
