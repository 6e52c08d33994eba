"""EDF and BDF files as other systems write them, within the specification or close to it:
fields padded with NUL bytes (as writers in C pad them) instead of spaces. Each is read with the
samples, units, labels, events and start the file holds, by eegprep's EDF reader and by MNE
(an EDF given MNE reader options), or refused in one line naming the file and the problem."""

from __future__ import annotations

import re
import warnings
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from eegprep.readers import Reader
from eegprep.readers.edf import EdfReader
from eegprep.readers.mne_formats import MneReader, clear_cache
from eegprep.testing.edf_writer import MAIN_FIELDS, SIGNAL_FIELDS, field_span, write_edf
from tests.eegprep.reader_checks import check_reader, check_source_error

LABELS = ["EEG Fp1-REF", "EEG Cz-REF", "ECG"]
UNITS = ["uV", "mV", "V"]
TO_UV = np.array([1.0, 1e3, 1e6])
EVENTS = [(1.5, 0.5, "blink"), (3.25, 0.0, "cue")]
START = datetime(2019, 7, 4, 13, 5, 9)


def _edf(path: Path, *, bdf: bool = False) -> np.ndarray:
    """An EDF+C (BDF+C) of three signals at 250 Hz, 5 s, in uV, mV and V; its samples in
    microvolts as the file's calibration gives them (read with the unit each states)."""
    rng = np.random.default_rng(3)
    uv = rng.normal(0, 30, (3, 1250))
    write_edf(
        path, list(uv / TO_UV[:, None]), labels=LABELS, sfreqs=250, physical_dims=UNITS,
        physical_min=[-500.0, -0.5, -0.0005], physical_max=[500.0, 0.5, 0.0005],
        edf_plus=True, annotations=EVENTS, start=START, bdf=bdf,
    )  # fmt: skip
    return uv


def _step(bdf: bool) -> np.ndarray:
    """One code of each signal of :func:`_edf`, uV."""
    return np.array([1000.0, 1.0e3, 0.001e6]) / (2**24 - 1 if bdf else 2**16 - 1)


PADDED = {
    "every field": (tuple(n for n, _ in MAIN_FIELDS), tuple(n for n, _ in SIGNAL_FIELDS)),
    "labels and units": ((), ("label", "physical_dim")),
}


def _reader(reader: str) -> tuple[type[Reader], dict[str, Any]]:
    """The reader ``reader`` names (``edf``: eegprep's own; ``mne``: MNE's, which a reader
    option sends an EDF through) and those options; MNE's opened files forgotten."""
    clear_cache()
    if reader == "edf":
        return EdfReader, {}
    return MneReader, {"infer_types": False}


def _read(path: Path, reader: str) -> tuple[Any, np.ndarray]:
    """:func:`check_reader` of the file :func:`_edf` wrote, through ``reader``."""
    cls, options = _reader(reader)
    return check_reader(
        cls, str(path), expected_labels=LABELS, expected_sfreq=250.0,
        expected_n_samples=1250, **options,
    )  # fmt: skip


def _nul_padded(path: Path, fields: str) -> None:
    """The trailing spaces of the header fields of :data:`PADDED` ``[fields]`` (main, per
    signal) as NUL bytes."""
    data = bytearray(path.read_bytes())
    n_signals = int(data[252:256].decode())
    main, per_signal = PADDED[fields]
    spans = [field_span(name, n_signals=n_signals) for name in main]
    spans += [
        field_span(name, n_signals=n_signals, channel=i)
        for name in per_signal
        for i in range(n_signals)
    ]
    for span in spans:
        if data[span.start : span.stop] == b"\xffBIOSEMI":
            continue
        text = bytes(data[span]).rstrip(b" ")
        data[span] = text.ljust(span.stop - span.start, b"\x00")
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("fields", sorted(PADDED))
@pytest.mark.parametrize("bdf", [False, True], ids=["EDF", "BDF"])
@pytest.mark.parametrize("reader", ["edf", "mne"])
def test_a_header_padded_with_nul_bytes_reads_as_one_padded_with_spaces(
    tmp_path: Path, reader: str, bdf: bool, fields: str
) -> None:
    """The version field ``0\\0\\0\\0\\0\\0\\0`` was 'not an EDF/BDF file', a count ``256\\0\\0``
    'malformed'; MNE, given a reader option, kept a label ``Fp1\\0\\0..`` whole (mapped to no
    site) and a unit ``mV\\0\\0..`` too, which it knew no unit of: read as volts, the samples
    were 1000 and 10^6 times too small."""
    path = tmp_path / ("rec.bdf" if bdf else "rec.edf")
    uv = _edf(path, bdf=bdf)
    _nul_padded(path, fields)
    header, got = _read(path, reader)
    assert [s.unit for s in header.signals] == UNITS
    assert np.all(np.abs(got - uv) <= _step(bdf)[:, None])
    events = [(a.onset, a.duration, a.description) for a in header.annotations]
    assert events == EVENTS
    key = "start" if reader == "edf" else "meas_date"
    assert header.meta_dict()[key] == START.isoformat()


@pytest.mark.parametrize("cut", [0, 7], ids=["whole records", "a record cut short"])
@pytest.mark.parametrize("bdf", [False, True], ids=["EDF", "BDF"])
@pytest.mark.parametrize("reader", ["edf", "mne"])
def test_a_record_count_of_minus_one_reads_the_records_the_file_holds(
    tmp_path: Path, reader: str, bdf: bool, cut: int
) -> None:
    """EDF's header counts -1 records while recording, and a recorder that was not closed (a
    crash, a power cut) leaves it so: the file was refused; it is read for the whole records
    it holds, as MNE counts them, with its events and a warning saying so; the bytes of a
    record cut short after them are left out."""
    path = tmp_path / ("rec.bdf" if bdf else "rec.edf")
    uv = _edf(path, bdf=bdf)
    data = bytearray(path.read_bytes())
    data[236:244] = b"-1".ljust(8)
    path.write_bytes(bytes(data) + b"\x01" * cut)
    header, got = _read(path, reader)
    assert np.all(np.abs(got - uv) <= _step(bdf)[:, None])
    assert [(a.onset, a.duration, a.description) for a in header.annotations] == EVENTS
    record = (len(data) - 256 * 5) // 5  # 5 s, 1 s records; 3 signals and annotations
    assert [w for w in header.warnings if "-1" in w] == [
        "EDF header gives -1 data records (unknown: the recording was not closed): read the 5 "
        f"whole records of {record} bytes the file holds"
        + (f", and not the {cut} bytes of a record cut short after them" if cut else "")
    ]


@pytest.mark.parametrize("seconds", [b"0", b"1"])
@pytest.mark.parametrize("bdf", [False, True], ids=["EDF", "BDF"])
@pytest.mark.parametrize("reader", ["edf", "mne"])
def test_a_file_of_annotations_only_is_named_so(
    tmp_path: Path, reader: str, bdf: bool, seconds: bytes
) -> None:
    """EDF+ allows a file of annotations alone, its record duration 0. It was refused for that
    duration (`it must be positive`), or, of 1 s, read as a recording of no channels (the
    ingest's `no EEG channel in the vocabulary among: `, naming none), or by MNE as `picks
    ... yielded no channels`: now one line saying what the file is."""
    path = tmp_path / ("notes.bdf" if bdf else "notes.edf")
    write_edf(
        path, [], labels=[], sfreqs=[], edf_plus=True, annotations=EVENTS, bdf=bdf,
    )  # fmt: skip
    data = bytearray(path.read_bytes())
    data[244:252] = seconds.ljust(8)
    path.write_bytes(bytes(data))
    cls, options = _reader(reader)
    label = "BDF Annotations" if bdf else "EDF Annotations"
    check_source_error(
        cls, str(path), rf"^{re.escape(str(path))}: an EDF\+ file of annotations only \(its 1 "
        rf"signal all '{label}'\): no samples to ingest \(the recording it annotates is "
        r"another file\)$", **options,
    )  # fmt: skip


@pytest.mark.parametrize("bdf", [False, True], ids=["EDF named .bdf", "BDF named .edf"])
def test_a_sample_width_the_name_belies_is_read_by_its_header(tmp_path: Path, bdf: bool) -> None:
    """eegprep's EDF reader takes the width of a sample from the version field; MNE takes it
    from the suffix and read a BDF named .edf as 16-bit samples (1.5 times as many, every one
    wrong) without a word: given MNE options, such a file is one line saying how to read it."""
    written = tmp_path / ("rec.bdf" if bdf else "rec.edf")
    uv = _edf(written, bdf=bdf)
    path = written.rename(tmp_path / ("rec.edf" if bdf else "rec.bdf"))
    clear_cache()
    _, got = check_reader(EdfReader, str(path), expected_labels=LABELS, expected_n_samples=1250)
    assert np.all(np.abs(got - uv) <= _step(bdf)[:, None])
    kind, bits, name = ("a BDF", 24, "edf") if bdf else ("an EDF", 16, "bdf")
    check_source_error(
        MneReader, str(path), rf"its header is {kind}'s \({bits}-bit samples\) but it is named "
        rf"\.{name}, and MNE takes the sample width from the name: rename it \.(edf|bdf), or "
        r"read it without MNE reader options", infer_types=False,
    )  # fmt: skip


def test_latin1_annotations_are_read_or_named_with_the_option_that_reads_them(
    tmp_path: Path,
) -> None:
    """EDF+ texts are UTF-8, older writers' Latin-1: eegprep's EDF reader decodes either
    (pyedflib's warning of it, `Could not decode string '{s=}'`, went to the terminal); MNE
    (given reader options) refused the file saying to try `encoding='latin1'` and then to
    check the file is complete; the line now names the option, and with it MNE reads them."""
    path = tmp_path / "rec.edf"
    _edf(path)
    data = path.read_bytes()
    assert data.count(b"blink") == 1
    path.write_bytes(data.replace(b"blink", "blök!".encode("latin-1")))
    clear_cache()
    with warnings.catch_warnings(record=True) as caught:  # (pyedflib's reached the terminal)
        warnings.simplefilter("always")
        texts = [a.description for a in EdfReader.read_header(str(path)).annotations]
    assert texts == ["blök!", "cue"]
    assert [str(w.message) for w in caught] == []
    check_source_error(
        MneReader, str(path), r": its annotation texts are not UTF-8 \(Latin-1, say, as older "
        r'writers write them\), which MNE decodes as UTF-8: add encoding = "latin1" to the '
        r"reader options, or read it without MNE reader options \(eegprep's EDF reader "
        r"decodes either\)$", infer_types=False,
    )  # fmt: skip
    header = MneReader.read_header(str(path), infer_types=False, encoding="latin1")
    assert [a.description for a in header.annotations] == texts
