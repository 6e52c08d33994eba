"""`labram predict` on files other tools wrote equals the model on the same files ingested.

pyedflib's EDF+ and BDF+ (TUH-style ``EEG Fp1-REF`` labels at 173.61 Hz, ``FP1-LE`` lower case
at 2048 Hz), MNE's FIF (with ECG, EMG and stim channels, dropped as the ingest drops them),
eeglabio's EEGLAB ``.set`` and pybv's BrainVision: each file's windows and probabilities, from
the file streamed, are those the classifier gives on the samples ``eegprep ingest folder``
stored (float32 round-off); a damaged file among them is its own ``skipped:`` line and no row.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import eegprep
from eegprep.ingestion.driver import IngestConfig, ingest
from eegprep.ingestion.inmemory import Preprocessed
from labram.checkpoints.load import load_model
from labram.stages.predict import predict_files, predict_recording, resolve_task
from tests.labram.test_predict_streamed import _classifier

SITES = ["Fp1", "Fp2", "C3", "C4", "O1", "O2", "Cz", "Pz"]


def _signals(n_channels: int, sfreq: float, seconds: float, seed: int) -> np.ndarray:
    """Microvolts: noise and a 10 Hz rhythm."""
    t = np.arange(int(round(sfreq * seconds))) / sfreq
    noise = np.random.default_rng(seed).normal(0, 20, (n_channels, len(t)))
    return noise + 30 * np.sin(2 * np.pi * 10 * t)


def _pyedflib(path: Path, labels: list[str], sfreq: float, bdf: bool, seed: int) -> None:
    import pyedflib

    kind = pyedflib.FILETYPE_BDFPLUS if bdf else pyedflib.FILETYPE_EDFPLUS
    top = 8388607 if bdf else 32767
    x = _signals(len(labels), sfreq, 40, seed)
    w = pyedflib.EdfWriter(str(path), len(labels), file_type=kind)
    w.setSignalHeaders([{"label": lab, "dimension": "uV", "sample_frequency": sfreq,
                         "physical_max": 3000.0, "physical_min": -3000.0,
                         "digital_max": top, "digital_min": -top - 1}
                        for lab in labels])  # fmt: skip
    w.writeSamples(list(x))
    w.close()


def _mne_raw(names: list[str], types: list[str], sfreq: float, seed: int):  # type: ignore[no-untyped-def]
    import mne

    info = mne.create_info(names, sfreq, types)
    return mne.io.RawArray(_signals(len(names), sfreq, 40, seed) * 1e-6, info, verbose=False)


def _corpus(src: Path) -> list[Path]:
    src.mkdir()
    _pyedflib(src / "tuh style.edf", [f"EEG {s}-REF" for s in SITES], 173.61, False, 0)
    _pyedflib(src / "le.bdf", [f"{s.lower()}-LE" for s in SITES], 2048, True, 1)
    names = [*SITES, "ECG", "EMG", "STI 014"]
    raw = _mne_raw(names, ["eeg"] * len(SITES) + ["ecg", "emg", "stim"], 256, 2)
    raw.save(src / "mne_raw.fif", verbose=False)
    _mne_raw(SITES, ["eeg"] * len(SITES), 250, 3).export(src / "eeglab.set", fmt="eeglab")
    _mne_raw(SITES, ["eeg"] * len(SITES), 500, 4).export(
        src / "pybv.vhdr", fmt="brainvision", verbose=False
    )
    return [src / n for n in ("tuh style.edf", "le.bdf", "mne_raw.fif", "eeglab.set", "pybv.vhdr")]


@pytest.mark.filterwarnings("ignore:Encountered data in 'double' format")  # (pybv's)
def test_foreign_files_predict_as_their_store_reads(tmp_path: Path) -> None:
    files = _corpus(tmp_path / "src")
    bad = tmp_path / "bad.edf"
    bad.write_bytes(files[0].read_bytes()[:1000])  # cut inside its data
    ckpt = _classifier(tmp_path / "best.pt", window=8)
    res = predict_files([files[0], bad, *files[1:]], ckpt, corpus="folder", mains=50.0,
                        device="cpu")  # fmt: skip
    assert len(res["failed"]) == 1 and res["failed"][0].startswith(f"{bad}: ")
    assert [r["file"] for r in res["recordings"]] == [str(f) for f in files]

    store_path = tmp_path / "s.zarr"
    cfg = IngestConfig(workers=0, progress=False, mains=50)
    assert ingest("folder", src=tmp_path / "src", out=store_path, config=cfg).failed == []
    store = eegprep.open_store(str(store_path))
    loaded = load_model(ckpt)
    task = resolve_task(loaded, None)
    by_source = {r.record.source: r for r in store.recordings}
    for got in res["recordings"]:
        rec = by_source[Path(got["file"]).name]
        stored = Preprocessed(got["file"], store.read(rec.id), list(rec.channels),
                              list(rec.channel_index), 200.0, joins=tuple(rec.joins))  # fmt: skip
        want = predict_recording(loaded.model.eval(), task, stored, source=str(ckpt))  # type: ignore[arg-type]
        assert got["channels"] == want["channels"] == [s.upper() for s in SITES]
        assert [w["start_s"] for w in got["windows"]] == [w["start_s"] for w in want["windows"]]
        for a, b in zip(got["windows"], want["windows"], strict=True):
            np.testing.assert_allclose(list(a["probabilities"].values()),
                                       list(b["probabilities"].values()), atol=2e-6)  # fmt: skip
        assert got["n_windows"] >= 4
