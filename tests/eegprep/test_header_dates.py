"""EDF/BDF start dates and identification fields as other systems write them: each is read into
the documented value or kept as unknown, never a wrong date, and nothing identifying is kept
(``eegprep/readers/edf_dates.py``, docs/store-format.md "What a header gives")."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from eegprep.readers.edf import EdfReader
from eegprep.readers.edf_dates import edf_start
from eegprep.testing.edf_writer import field_span, write_edf
from tests.identifying import found_in

LABELS = ["Fp1", "Cz"]
PATIENT = "MCH-0234567 F 02-MAY-1951 Haagse_Harry"
RECORDING = "Startdate 02-MAR-2002 PSG-1234/2002 NN Telemetry03"
IDENTIFYING = ("MCH-0234567", "1951", "Haagse", "Harry", "PSG-1234", "NN")


def _edf(path: Path, fields: dict[str, bytes], *, bdf: bool = False) -> Path:
    signals = [10 * np.random.default_rng(0).standard_normal(500) for _ in LABELS]
    out = write_edf(path, signals, labels=LABELS, sfreqs=250, edf_plus=True, bdf=bdf)
    data = bytearray(out.read_bytes())
    for name, value in fields.items():
        span = field_span(name, n_signals=len(LABELS) + 1)
        data[span] = value.ljust(span.stop - span.start, b" ")
    out.write_bytes(bytes(data))
    return out


# (startdate, starttime, recording field) -> the start kept ("" for unknown)
CASES = {
    "plain": ("02.03.02", "10.20.30", "Startdate 02-MAR-2002 X X X", "2002-03-02T10:20:30"),
    "clip_85_is_1985": ("01.01.85", "00.00.00", "Startdate X X X X", "1985-01-01T00:00:00"),
    "clip_84_is_2084": ("01.01.84", "00.00.00", "Startdate X X X X", "2084-01-01T00:00:00"),
    "plus_full_year": (
        "01.01.85",
        "00.00.00",
        "Startdate 01-JAN-2085 X X X",
        "2085-01-01T00:00:00",
    ),
    "yy_after_2084": ("01.01.yy", "00.00.00", "Startdate 01-JAN-2090 X X X", "2090-01-01T00:00:00"),
    "month_lower_case": (
        "02.03.02",
        "10.20.30",
        "startdate 02-mar-2002 X X X",
        "2002-03-02T10:20:30",
    ),
    "colons": ("02.03.02", "12:30:00", "Startdate X X X X", "2002-03-02T12:30:00"),
    "spaces": ("2 .3 .02", " 1. 2. 3", "Startdate X X X X", "2002-03-02T01:02:03"),
    "zeros": ("00.00.00", "00.00.00", "Startdate X X X X", ""),
    "feb_31": ("31.02.20", "00.00.00", "Startdate X X X X", ""),
    "letter_in_day": ("1a.02.20", "00.00.00", "Startdate X X X X", ""),
    "minus_day": ("-1.02.20", "00.00.00", "Startdate X X X X", ""),
    "time_25_61_61": ("02.03.02", "25.61.61", "Startdate X X X X", ""),
    "two_dates": ("01.01.00", "00.00.00", "Startdate 02-MAR-2002 X X X", ""),
    "other_script_digits": ("\u0661.\u0661.20", "00.00.00", "Startdate X X X X", ""),
    "plus_other_script_digits": (  # read, it would be a second date: unknown
        "02.01.00",
        "00.00.00",
        "Startdate \u0660\u0661-JAN-2000 X X X",
        "2000-01-02T00:00:00",
    ),
    "yy_without_plus": ("01.01.yy", "00.00.00", "Startdate X X X X", ""),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_start_is_the_documented_date_or_unknown(tmp_path: Path, case: str) -> None:
    """Through pyedflib (compliant headers) and our own parser (the others) alike."""
    date, time, recording, kept = CASES[case]
    fields = {
        "startdate": date.encode(),
        "starttime": time.encode(),
        "recording": recording.encode(),
    }
    header = EdfReader.read_header(str(_edf(tmp_path / f"{case}.edf", fields)))
    assert header.meta_dict().get("start", "") == kept
    assert (edf_start(date, time, recording) or "") == (kept and edf_start(date, time, recording))


@pytest.mark.parametrize("bdf", [False, True])
@pytest.mark.parametrize("compliant", [True, False])
def test_no_identifying_field_is_kept(tmp_path: Path, bdf: bool, compliant: bool) -> None:
    """The patient's code, birthdate and name, the admin code and the technician are kept
    nowhere in the header; the sex subfield (any letter case) and the equipment are. A start
    time with colons and a sex in lower case send the file to our own parser (pyedflib refuses
    it)."""
    fields = {
        "patient": (PATIENT if compliant else PATIENT.replace(" F ", " f ")).encode(),
        "recording": RECORDING.encode(),
    }
    fields["startdate"], fields["starttime"] = (
        b"02.03.02",
        b"10.20.30" if compliant else b"10:20:30",
    )
    path = _edf(tmp_path / ("r.bdf" if bdf else "r.edf"), fields, bdf=bdf)
    header = EdfReader.read_header(str(path))
    assert any("not EDF-compliant" in w for w in header.warnings) is not compliant
    meta = header.meta_dict()
    assert meta == {"start": "2002-03-02T10:20:30", "sex": "F", "equipment": "Telemetry03"}
    assert not found_in(repr(header), IDENTIFYING, paths=[str(path)])


@pytest.mark.parametrize(
    "patient",
    ["X X X X", "X U 01-JAN-1950 X", "X female 01-JAN-1950 X", "X 2 X X", "Jane F Doe", "2 X"],
)
def test_a_sex_the_field_does_not_state_is_unknown(tmp_path: Path, patient: str) -> None:
    path = _edf(tmp_path / "s.edf", {"patient": patient.encode()})
    assert "sex" not in EdfReader.read_header(str(path)).meta_dict()


@pytest.mark.parametrize("case", ["plain", "letter_in_day", "two_dates", "yy_after_2084"])
def test_mne_s_reading_of_an_edf_states_the_same_start(tmp_path: Path, case: str) -> None:
    """With MNE options an EDF is opened by MNE, which took the EDF+ recording field's date
    over a main header stating another or none, and called the time UTC: ``meas_date`` is
    eegprep's start (no time zone: EDF states none), ``""`` when unknown."""
    from eegprep.readers.mne_formats import MneReader, clear_cache

    date, time, recording, kept = CASES[case]
    fields = {
        "startdate": date.encode(),
        "starttime": time.encode(),
        "recording": recording.encode(),
    }
    path = _edf(tmp_path / f"{case}.edf", fields)
    clear_cache()
    assert MneReader.read_header(str(path), infer_types=False).meta_dict()["meas_date"] == kept


def test_a_patient_subfield_mne_cannot_split_is_one_line_without_its_text(tmp_path: Path) -> None:
    """MNE splits each patient subfield after the fourth at ``=``: two of them stopped it with
    ``too many values to unpack``. Refused in one line naming the field, not its text; read
    without MNE options (eegprep's EDF reader), the file is read."""
    from eegprep.base.errors import SourceError
    from eegprep.readers.mne_formats import MneReader, clear_cache

    path = _edf(tmp_path / "p.edf", {"patient": f"{PATIENT} diagnosis=a=b".encode()})
    clear_cache()
    with pytest.raises(SourceError) as err:
        MneReader.read_header(str(path), infer_types=False)
    said = str(err.value)
    assert said.startswith(f"{path}: ") and "patient field's subfield 5" in said, said
    assert "\n" not in said and not found_in(said, (*IDENTIFYING, "diagnosis"), paths=[str(path)])
    assert MneReader.read_header(str(path)).meta_dict()["sex"] == "F"


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Asia/Tokyo"])
def test_a_cnt_or_brainvision_start_is_the_time_the_file_states_in_any_time_zone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, zone: str
) -> None:
    """A CNT states its session's date and time as text, a BrainVision marker file its
    ``New Segment`` date, neither with a time zone. MNE read the CNT's text in the zone of the
    machine reading it (10:00 became 15:00 UTC in New York) and calls the BrainVision time UTC:
    ``meas_date`` is the time as the file states it, with no zone, wherever it is read."""
    import time

    from eegprep.readers.mne_formats import MneReader, clear_cache
    from eegprep.testing.fixtures.cnt_writer import write_cnt

    eeg = np.random.default_rng(0).normal(0, 20, (2, 2000))
    cnt = write_cnt(tmp_path / "r.cnt", eeg, LABELS, 200, date="03/02/18", time="10:20:30")
    day = write_cnt(tmp_path / "d.cnt", eeg, LABELS, 200, date="03/02/18", time="10:20:30")
    vhdr = tmp_path / "v.vhdr"
    vhdr.write_text(
        "Brain Vision Data Exchange Header File Version 1.0\n[Common Infos]\nCodepage=UTF-8\n"
        "DataFile=v.eeg\nMarkerFile=v.vmrk\nDataFormat=BINARY\nDataOrientation=MULTIPLEXED\n"
        "NumberOfChannels=2\nSamplingInterval=5000\n[Binary Infos]\nBinaryFormat=IEEE_FLOAT_32\n"
        "[Channel Infos]\nCh1=Fp1,,1,µV\nCh2=Cz,,1,µV\n",
        encoding="utf-8",
    )
    (tmp_path / "v.eeg").write_bytes(eeg.T.astype("<f4").tobytes())
    (tmp_path / "v.vmrk").write_text(
        "Brain Vision Data Exchange Marker File, Version 1.0\n[Common Infos]\nCodepage=UTF-8\n"
        "DataFile=v.eeg\n[Marker Infos]\nMk1=New Segment,,1,1,0,20180302102030000000\n"
    )
    monkeypatch.setenv("TZ", zone)
    time.tzset()
    try:
        clear_cache()
        read = {p.name: MneReader.read_header(str(p)).meta_dict()["meas_date"] for p in (cnt, vhdr)}
        clear_cache()
        day_first = MneReader.read_header(str(day), date_format="dd/mm/yy").meta_dict()
    finally:
        monkeypatch.undo()
        time.tzset()
    assert read == {"r.cnt": "2018-03-02T10:20:30", "v.vhdr": "2018-03-02T10:20:30"}
    assert day_first["meas_date"] == "2018-02-03T10:20:30"
