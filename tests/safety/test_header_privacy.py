"""Identifying header fields never reach the store: a patient's name, code and birthdate, a
hospital's admin code, in every format that holds them (EDF+, BDF+, CNT, GDF 2, FIF), are
written nowhere under the store (records, index, reports) and shown in no message, also when
the field is why a file is refused (docs/store-format.md, "What a header gives")."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np

from eegprep.testing.edf_writer import field_span, write_edf
from eegprep.testing.fixtures.cnt_writer import write_cnt
from eegprep.testing.fixtures.gdf_writer import write_gdf
from tests.identifying import found_in
from tests.safety.corpus import files_under, ingest_folder

NAME = "Zorbaxian"
CODE = "HC-7731942"
SECRETS = (NAME.encode(), CODE.encode(), b"1951", b"ADM-55213")
LABELS = ["Fp1", "Fp2", "Cz", "Oz"]
EEG = np.random.default_rng(0).normal(0, 20, (4, 2000))


def _edf(src: Path, name: str, *, bdf: bool = False, colons: bool = False) -> None:
    out = write_edf(src / name, list(EEG), labels=LABELS, sfreqs=200, edf_plus=True, bdf=bdf,
                    patient=f"{CODE} F 02-MAY-1951 {NAME}_Harry",
                    recording="Startdate 01-JAN-2000 ADM-55213 NN Telemetry03")  # fmt: skip
    if colons:  # pyedflib refuses the file: our own parser reads it
        data = bytearray(out.read_bytes())
        data[field_span("starttime", n_signals=len(LABELS) + 1)] = b"10:20:30"
        out.write_bytes(bytes(data))


def _cnt(src: Path, name: str, patient_name: bytes) -> None:
    path = write_cnt(src / name, EEG, LABELS, 200, patient=CODE)
    data = bytearray(path.read_bytes())
    data[121 : 121 + len(patient_name)] = patient_name  # the SETUP's patient name
    path.write_bytes(bytes(data))


def _gdf(src: Path) -> None:
    path = write_gdf(src / "g.gdf", EEG, LABELS, 200, version="2.20")
    data = bytearray(path.read_bytes())
    text = f"{CODE} {NAME}".encode()
    data[8 : 8 + len(text)] = text  # GDF 2's patient field
    path.write_bytes(bytes(data))


def _fif(src: Path) -> None:
    import mne

    raw = mne.io.RawArray(EEG * 1e-6, mne.create_info(LABELS, 200.0, "eeg"), verbose=False)
    raw.set_meas_date(dt.datetime(1985, 1, 1, tzinfo=dt.UTC))  # an anonymised date
    raw.info["subject_info"] = {"his_id": CODE, "first_name": NAME, "last_name": NAME,
                                "birthday": dt.date(1951, 5, 2), "sex": 2}  # fmt: skip
    raw.save(src / "f_raw.fif", verbose=False)


def test_identifying_header_fields_reach_no_file_of_the_store(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "s.zarr"
    src.mkdir()
    _edf(src, "e.edf")
    _edf(src, "e_own.edf", colons=True)
    _edf(src, "b.bdf", bdf=True)
    _cnt(src, "c.cnt", NAME.encode())
    _cnt(src, "c_latin1.cnt", NAME.encode() + b"\xe9")  # MNE reads ASCII alone there
    _gdf(src)
    _fif(src)
    report = ingest_folder(src, out)
    assert report.n_ingested == 6, report.failed
    (refused,) = [str(f) for f in report.failed]
    assert "c_latin1.cnt" in refused and "patient name" in refused and "\n" not in refused
    stored = files_under(out)
    assert len(stored) > 20
    here = [str(tmp_path), tmp_path.as_posix()]
    leaks = [(k, s) for k, v in stored.items() for s in found_in(v, SECRETS, paths=here)]
    assert not leaks
    assert not found_in(repr(report.failed), SECRETS, paths=here)
