"""The EDF/BDF reader on real files pyedflib ships, on TUH-style multi-rate files, and on
broken files (every error one line naming the file)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pyedflib
import pytest

from eegprep.readers.edf import EdfReader
from tests.conftest import write_tuh_edf
from tests.eegprep.reader_checks import check_reader, check_source_error, check_usage_error

PYEDFLIB_DATA = Path(pyedflib.__file__).parent / "tests" / "data"


def test_real_edf_shipped_by_pyedflib() -> None:
    path = str(PYEDFLIB_DATA / "test_generator.edf")
    signals, _, _ = pyedflib.highlevel.read_edf(path)
    reference = np.stack(signals)  # physical values, file unit uV
    header, _ = check_reader(EdfReader, path, reference_uv=reference, expected_sfreq=200.0)
    assert header.labels[:2] == ["squarewave", "ramp"]
    assert [a.description for a in header.annotations][:1] == ["Recording starts"]
    assert dict(header.meta)["equipment"] == "test generator"


def test_real_multi_rate_bdf_shipped_by_pyedflib() -> None:
    path = str(PYEDFLIB_DATA / "test_generator.bdf")
    header = EdfReader.read_header(path)
    assert [s.sfreq for s in header.signals] == [1000, 800, 500, 975, 999]
    with pyedflib.EdfReader(path) as f:
        refs = [f.readSignal(i) for i in range(len(header.signals))]  # physical values, uV
    for i, (sig, ref) in enumerate(zip(header.signals, refs)):
        assert sig.n_samples == ref.shape[0]
        ours = EdfReader.read_segment(header, [i], 0, sig.n_samples)[0]
        np.testing.assert_allclose(ours, ref, atol=1e-3 * max(1.0, np.abs(ref).max()) / 100)
        mid = sig.n_samples // 3
        np.testing.assert_array_equal(
            EdfReader.read_segment(header, [i], mid, mid + 77)[0], ours[mid : mid + 77]
        )


@pytest.mark.parametrize("name", ["test_generator.edf", "test_generator.bdf"])
def test_reading_in_pieces_gives_the_same_samples(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Records read one at a time (the smallest piece) give every segment's samples as one
    read of all of them does, partial records at both ends included."""
    from eegprep.readers import edf_records

    header = EdfReader.read_header(str(PYEDFLIB_DATA / name))
    rng = np.random.default_rng(5)
    spans = []
    for i, sig in enumerate(header.signals):
        n = sig.n_samples
        spans += [(i, 0, n), (i, 1, n - 1), (i, n // 2, n // 2 + 1)]
        spans += [(i, *sorted(int(v) for v in rng.integers(0, n + 1, 2))) for _ in range(4)]
    whole = [EdfReader.read_segment(header, [i], a, b) for i, a, b in spans]
    monkeypatch.setattr(edf_records, "PIECE_BYTES", 1)  # one record per piece
    for (i, a, b), expected in zip(spans, whole, strict=True):
        np.testing.assert_array_equal(EdfReader.read_segment(header, [i], a, b), expected)


def test_agrees_with_mne(tmp_path: Path) -> None:
    import mne

    path = str(PYEDFLIB_DATA / "test_generator.edf")
    raw = mne.io.read_raw_edf(path, preload=True, verbose="error")
    header = EdfReader.read_header(path)
    ours = EdfReader.read_segment(header, list(range(len(header.signals))), 0, 2000)
    np.testing.assert_allclose(ours, raw.get_data(units="uV")[:, :2000], atol=2e-3)


def test_multi_rate_tuh_file(tmp_path: Path) -> None:
    path = tmp_path / "aaaaaaaa_s001_t000.edf"
    labels = write_tuh_edf(path, sfreq=250, seconds=12)
    header = EdfReader.read_header(str(path))
    assert header.labels == labels
    rates = {s.label: s.sfreq for s in header.signals}
    assert rates["EEG FP1-REF"] == 250 and rates["IBI"] == 1 and rates["BURSTS"] == 1
    assert header.signals[0].n_samples == 3000 and header.duration == 12
    eeg = [i for i, s in enumerate(header.signals) if s.sfreq == 250]
    full = EdfReader.read_segment(header, eeg, 0, 3000)
    np.testing.assert_array_equal(EdfReader.read_segment(header, eeg, 700, 1900), full[:, 700:1900])
    with pytest.raises(ValueError, match="different sampling rates"):
        EdfReader.read_segment(header, [0, labels.index("IBI")], 0, 1)


def _good(tmp_path: Path) -> bytes:
    path = tmp_path / "good.edf"
    write_tuh_edf(path, sfreq=250, seconds=4, extra=())
    return path.read_bytes()


def _write(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def test_broken_files_give_one_line_errors(tmp_path: Path) -> None:
    good = _good(tmp_path)
    n_sig = int(good[252:256])
    cases = {
        "empty.edf": (b"", "file is empty"),
        "random.edf": (os.urandom(3000), "not an EDF/BDF file"),
        "short_header.edf": (good[:100], "header truncated"),
        "no_records.edf": (good[: 256 * (n_sig + 1) + 1000], "truncated"),
        "signals.edf": (good[:252] + b"9999" + good[256:], "claims 9999 signals"),
        "hdrsize.edf": (good[:184] + b"1234    " + good[192:], "header size field"),
        "nonascii.edf": (good[:252] + b"\xff\xfe  " + good[256:], "malformed signal count"),
    }
    for name, (data, match) in cases.items():
        check_source_error(EdfReader, _write(tmp_path, name, data), match)
    check_source_error(EdfReader, str(tmp_path / "missing.edf"), "file not found")
    check_source_error(EdfReader, str(tmp_path), "is a directory")
    check_usage_error(
        EdfReader, _write(tmp_path, "ok.edf", good), "Unknown option .x. for the edf reader", x=1
    )


def test_fewer_records_than_the_header_claims(tmp_path: Path) -> None:
    good = _good(tmp_path)
    n_sig = int(good[252:256])
    record = (len(good) - 256 * (n_sig + 1)) // int(good[236:244])
    path = _write(tmp_path, "cut.edf", good[: len(good) - record])  # one data record missing
    check_source_error(EdfReader, path, "truncated")


def test_plain_edf_with_an_annotation_signal_is_read_annotations_included(tmp_path: Path) -> None:
    """Some exporters write an ``EDF Annotations`` signal without ``EDF+`` in the reserved
    field: pyedflib then lists it as a signal; the reader skips it and parses its TALs."""
    from eegprep.testing.edf_writer import write_edf

    rng = np.random.default_rng(0)
    signals = [20 * rng.standard_normal(2500) for _ in range(3)]
    path = tmp_path / "plain.edf"
    events = [(1.5, 0.5, "blink"), (3.0, None, "cue")]
    write_edf(path, signals, labels=["Fp1", "Cz", "O1"], sfreqs=250, edf_plus=True,
              annotations=events)  # fmt: skip
    data = bytearray(path.read_bytes())
    data[192:236] = b" " * 44  # no "EDF+C" in the reserved field
    path.write_bytes(bytes(data))
    header, full = check_reader(EdfReader, str(path), expected_labels=["Fp1", "Cz", "O1"])
    assert [(a.onset, a.duration, a.description) for a in header.annotations] == [
        (1.5, 0.5, "blink"),
        (3.0, 0.0, "cue"),
    ]
    np.testing.assert_allclose(full, np.stack(signals), atol=0.01)


def test_repeated_label_is_kept_as_the_file_has_it(tmp_path: Path) -> None:
    """CHB-MIT repeats ``T8-P8``: both copies keep their label (mapping keeps the first)."""
    from eegprep.pipeline.channels import map_channels
    from eegprep.testing.edf_writer import write_edf

    rng = np.random.default_rng(0)
    signals = [20 * rng.standard_normal(2500) for _ in range(3)]
    path = tmp_path / "chb.edf"
    write_edf(path, signals, labels=["FP1-F7", "T8-P8", "T8-P8"], sfreqs=250)
    header = EdfReader.read_header(str(path))
    assert header.labels == ["FP1-F7", "T8-P8", "T8-P8"]
    mapping = map_channels(header.labels, on_unknown="ignore")
    assert [d[0] for d in mapping.dropped if d[1].startswith("duplicate")] == ["T8-P8"]
