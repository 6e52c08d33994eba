"""EDF headers other systems write: the files pyedflib refuses but whose samples are sound are
read by eegprep's own header parser; annotation onsets count from the first sample whatever the
first record's time offset; an unusable field is one line naming it."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from eegprep.base.errors import SourceError
from eegprep.readers.edf import EdfReader
from eegprep.testing.edf_writer import SIGNAL_FIELDS, field_span, write_edf
from tests.eegprep.reader_checks import check_reader, check_source_error

LABELS = ["Fp1", "Cz", "O1"]
EVENTS = [(1.5, 0.5, "blink"), (3.25, None, "cue")]


def _edf(path: Path, **kw: object) -> tuple[Path, np.ndarray]:
    rng = np.random.default_rng(0)
    signals = [20 * rng.standard_normal(1250) for _ in LABELS]
    args = {"labels": LABELS, "sfreqs": 250, "edf_plus": True, "annotations": EVENTS, **kw}
    return write_edf(path, signals, **args), np.stack(signals)  # type: ignore[arg-type]


def _patch(path: Path, name: str, value: bytes, channel: int | None = None) -> None:
    """Overwrite one header field (space-padded) of a file with 3 data signals + annotations."""
    data = bytearray(path.read_bytes())
    span = field_span(name, n_signals=len(LABELS) + 1, channel=channel)
    data[span] = value.ljust(span.stop - span.start, b" ")
    path.write_bytes(bytes(data))


def _events(header: object) -> list[tuple[float, float, str]]:
    return [(a.onset, a.duration, a.description) for a in header.annotations]  # type: ignore[attr-defined]


@pytest.mark.parametrize("reserved", ["EDF+C", ""])
@pytest.mark.parametrize("first_onset", [0.5, 100.0])
def test_annotation_onsets_count_from_the_first_sample(
    tmp_path: Path, reserved: str, first_onset: float
) -> None:
    """EDF+ counts TAL onsets from the header's start time; the first record's time-keeping
    TAL says when the first sample is. Onsets are given from the first sample (pyedflib's
    and MNE's convention), in plain EDF files (our TAL parser) as in EDF+ (pyedflib's)."""
    path, _ = _edf(tmp_path / "offset.edf", first_onset=first_onset)
    if not reserved:
        _patch(path, "reserved", b"")
    header = EdfReader.read_header(str(path))
    assert _events(header) == [(1.5, 0.5, "blink"), (3.25, 0.0, "cue")]


# (field, channel, bytes): header faults pyedflib refuses whole, though the samples are sound
NON_COMPLIANT = {
    "latin1_micro_sign": ("physical_dim", 1, b"\xb5V"),
    "utf8_micro_sign": ("physical_dim", 1, "\u00b5V".encode()),
    "utf8_greek_mu": ("physical_dim", 1, "\u03bcV".encode()),
    "accented_patient": ("patient", None, "X X X Ren\u00e9e".encode("latin-1")),
    "start_time_with_colons": ("starttime", None, b"10:20:30"),
    "start_date_of_zeros": ("startdate", None, b"00.00.00"),
    "nul_padded_label": ("label", 0, b"Fp1\x00\x00\x00"),
}


@pytest.mark.parametrize("fault", sorted(NON_COMPLIANT))
def test_a_header_pyedflib_refuses_is_read_by_our_own_parser(tmp_path: Path, fault: str) -> None:
    field, channel, value = NON_COMPLIANT[fault]
    path, signals = _edf(tmp_path / f"{fault}.edf")
    _patch(path, field, value, channel)
    header, full = check_reader(EdfReader, str(path), expected_labels=LABELS, expected_sfreq=250.0)
    assert any("header not EDF-compliant" in w for w in header.warnings)
    assert [s.to_uv for s in header.signals] == [1.0, 1.0, 1.0]
    np.testing.assert_allclose(full, signals, atol=0.01)
    assert _events(header) == [(1.5, 0.5, "blink"), (3.25, 0.0, "cue")]
    if field == "starttime":
        assert dict(header.meta)["start"].endswith("10:20:30")


def test_edf_plus_c_without_an_annotation_signal(tmp_path: Path) -> None:
    path, signals = _edf(tmp_path / "noannot.edf", edf_plus=False, annotations=())
    _patch_reserved = bytearray(path.read_bytes())
    _patch_reserved[192:236] = b"EDF+C".ljust(44)
    path.write_bytes(bytes(_patch_reserved))
    header, full = check_reader(EdfReader, str(path), expected_labels=LABELS)
    np.testing.assert_allclose(full, signals, atol=0.01)
    assert header.annotations == ()


def test_edf_plus_d_is_read_when_contiguous_and_with_gaps(tmp_path: Path) -> None:
    """An EDF+D whose records leave a gap (stamped 0, 1, 2, 7, 8 s) was refused whole; its
    stretches are read end to end, the join listed (3 s on the samples kept), an event after
    the gap moved back by it (7.5 s -> 3.5 s) and one inside the gap (3.25 s) dropped and
    counted."""
    path, signals = _edf(tmp_path / "contiguous.edf", reserved="EDF+D")
    header, full = check_reader(EdfReader, str(path), expected_labels=LABELS)
    np.testing.assert_allclose(full, signals, atol=0.01)
    assert _events(header) == [(1.5, 0.5, "blink"), (3.25, 0.0, "cue")]
    assert header.joins == () and header.warnings == ()
    events = [*EVENTS, (7.5, None, "late")]
    gap, signals = _edf(
        tmp_path / "gap.edf", reserved="EDF+D", record_onsets=[0, 1, 2, 7, 8], annotations=events
    )
    header, full = check_reader(EdfReader, str(gap), expected_labels=LABELS)
    np.testing.assert_allclose(full, signals, atol=0.01)  # every record's samples, end to end
    assert header.joins == (3.0,)
    assert _events(header) == [(1.5, 0.5, "blink"), (3.5, 0.0, "late")]
    (warning,) = header.warnings
    assert warning == (
        "discontinuous: 1 gap (4 s) between data records; its 2 stretches are kept "
        "separately (filtered each alone, no window across a join), stored end to end with "
        "joins at 3 s; 1 event inside a gap dropped"
    )


def test_edf_plus_d_with_two_gaps_places_each_event_after_its_own(tmp_path: Path) -> None:
    """Records stamped 0, 1, 4, 5, 10 s: stretches of 2, 2 and 1 s with gaps of 2 and 4 s."""
    events = [(0.5, None, "a"), (2.5, None, "in first gap"), (4.5, None, "b"), (10.25, 1, "c")]
    path, _ = _edf(
        tmp_path / "gaps.edf", reserved="EDF+D", record_onsets=[0, 1, 4, 5, 10], annotations=events
    )
    header = EdfReader.read_header(str(path))
    assert header.joins == (2.0, 4.0)
    assert _events(header) == [(0.5, 0.0, "a"), (2.5, 0.0, "b"), (4.25, 1.0, "c")]
    assert header.warnings[-1].startswith("discontinuous: 2 gaps (2 s, 4 s)")


def test_records_out_of_order_are_still_refused(tmp_path: Path) -> None:
    """A record stamped before the one before it ends is damage, not a gap."""
    path, _ = _edf(tmp_path / "overlap.edf", reserved="EDF+D", record_onsets=[0, 1, 2, 2.5, 3.5])
    check_source_error(
        EdfReader, str(path), r"discontinuous EDF\+D: data record 3 starts at 2.5 s, before the "
        r"record stamped before it ends \(3 s\): records out of order or overlapping"
    )  # fmt: skip


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (b"0", "record duration of '0' s: it must be positive"),
        (b"-1", "record duration of '-1' s: it must be positive"),
        (b"abc", "EDF header field record duration is 'abc', not a number"),
        (b"nan", "EDF header field record duration is 'nan'"),
        (b"1e-9", r"a sampling rate of 2.5e\+11 Hz \(above 1e\+06\)"),
    ],
)
def test_an_unusable_record_duration_is_named(tmp_path: Path, value: bytes, message: str) -> None:
    path, _ = _edf(tmp_path / "duration.edf")
    _patch(path, "record_duration", value)
    check_source_error(EdfReader, str(path), message)


def test_an_unusable_calibration_field_names_the_signal(tmp_path: Path) -> None:
    path, _ = _edf(tmp_path / "cal.edf")
    _patch(path, "physical_min", b"n/a", channel=1)
    _check_own_samples_refused(path, "signal 'Cz': header field physical minimum is 'n/a'")


def _check_own_samples_refused(path: Path, message: str) -> None:
    """The header is read (the other signals' samples too); a read of signal 1's samples is
    refused in one line naming the signal and its damaged field."""
    header = EdfReader.read_header(str(path))
    assert sum(message in w for w in header.warnings) == 1
    np.testing.assert_array_equal(EdfReader.read_segment(header, [0, 2], 0, 10).shape, (2, 10))
    with pytest.raises(SourceError, match=re.escape(message)) as info:
        EdfReader.read_segment(header, [1], 0, 10)
    assert "\n" not in str(info.value) and info.value.path == str(path)


def test_inverted_digital_range_keeps_a_positive_step(tmp_path: Path) -> None:
    """Digital minimum above maximum (an inverted gain, as some systems write): the values
    follow the calibration and the ADC step stays positive (the quantized encoding needs it)."""
    rng = np.random.default_rng(1)
    x = 20 * rng.standard_normal(1000)
    path = write_edf(tmp_path / "inv.edf", [x], labels=["Cz"], sfreqs=250)
    data = bytearray(path.read_bytes())
    for a, b in (("digital_min", "digital_max"), ("physical_min", "physical_max")):
        sa, sb = field_span(a, n_signals=1, channel=0), field_span(b, n_signals=1, channel=0)
        data[sa], data[sb] = data[sb], data[sa]  # the same gain, written the other way round
    path.write_bytes(bytes(data))
    header, full = check_reader(EdfReader, str(path), expected_labels=["Cz"])
    np.testing.assert_allclose(full[0], x, atol=0.01)
    assert header.signals[0].resolution > 0


def test_an_absurd_physical_range_is_named_not_overflowed(tmp_path: Path) -> None:
    """+-1e300 uV overflowed float32 to infinity in the reader, the filters and the encoder,
    each printing numpy warnings before the recording was refused for non-finite samples."""
    path, _ = _edf(tmp_path / "range.edf")
    _patch(path, "physical_min", b"-1e300", channel=1)
    _patch(path, "physical_max", b"1e300", channel=1)
    _check_own_samples_refused(path, "signal 'Cz': a physical range of -1e+300")


@pytest.mark.parametrize("reserved", ["EDF+C", ""])
def test_time_keeping_gaps_are_joins_whatever_the_header_says(
    tmp_path: Path, reserved: str
) -> None:
    """An EDF+C (or a plain EDF with an annotation signal) whose records are stamped 0, 1, 2,
    7, 8 s was read as 5 s of continuous samples: every sample and event after the gap 5 s
    early, and the join filtered as if it were signal; then it was refused whole. It is read
    as an EDF+D with gaps is: the join listed, the events on the samples kept."""
    path, _ = _edf(tmp_path / "gap.edf", reserved="EDF+D", record_onsets=[0, 1, 2, 7, 8])
    _patch(path, "reserved", reserved.encode())
    header = EdfReader.read_header(str(path))
    assert header.joins == (3.0,)
    assert _events(header) == [(1.5, 0.5, "blink")]  # the cue at 3.25 s lies in the gap
    assert header.warnings[-1].startswith(
        "discontinuous, by its time-keeping annotations: 1 gap (4 s) between data records"
    )


def _annotations_first(path: Path) -> None:
    """Move the annotation signal of an :func:`_edf` file (3 data signals, then annotations)
    to the front, header fields and data records alike: EDF+ lets it stand anywhere."""
    data = bytearray(path.read_bytes())
    n = len(LABELS) + 1
    order = [n - 1, *range(n - 1)]
    spans = [field_span("samples_per_record", n_signals=n, channel=i) for i in range(n)]
    spr = [int(data[s].decode()) for s in spans]
    head = bytearray(data[: 256 * (n + 1)])
    for name, _ in SIGNAL_FIELDS:
        cells = [bytes(data[field_span(name, n_signals=n, channel=i)]) for i in range(n)]
        for i, j in enumerate(order):
            head[field_span(name, n_signals=n, channel=i)] = cells[j]
    starts = np.cumsum([0, *spr]) * 2
    record = int(starts[-1])
    body = bytearray()
    for r in range(256 * (n + 1), len(data), record):
        body += b"".join(data[r + starts[j] : r + starts[j + 1]] for j in order)
    path.write_bytes(bytes(head + body))


@pytest.mark.parametrize("padding", [b" ", b"\x00"])
@pytest.mark.parametrize("first", [False, True])
def test_an_annotation_signal_anywhere_with_its_label_padded_either_way(
    tmp_path: Path, padding: bytes, first: bool
) -> None:
    """``EDF Annotations`` padded with a NUL (a C writer's 16th byte) was a data signal to the
    record layout though not to the header: its events were lost, and where it came first
    every EEG signal was read from the bytes of the signal before it (its TAL text as EEG)."""
    path, signals = _edf(tmp_path / "annotations.edf")
    _patch(path, "label", b"EDF Annotations" + padding, channel=len(LABELS))
    if first:
        _annotations_first(path)
    header, full = check_reader(EdfReader, str(path), expected_labels=LABELS)
    np.testing.assert_allclose(full, signals, atol=0.01)
    assert _events(header) == [(1.5, 0.5, "blink"), (3.25, 0.0, "cue")]


def test_a_text_field_ends_at_its_first_nul(tmp_path: Path) -> None:
    """A C writer's string ends at its NUL; the bytes after it are its buffer's old contents
    (0xCC, 0xCD: uninitialised memory). ``mV\\0\\xcc..`` was an unknown unit, taken as uV (1000x
    too small), and ``Cz\\0\\xcd..`` a label no 10-20 name matched (the channel left out)."""
    path, signals = _edf(tmp_path / "cstrings.edf", physical_dims=["uV", "mV", "uV"])
    _patch(path, "physical_dim", b"mV\x00" + b"\xcc" * 5, channel=1)
    _patch(path, "label", b"Cz\x00" + b"\xcd" * 13, channel=1)
    header, full = check_reader(EdfReader, str(path), expected_labels=LABELS)
    assert [s.unit for s in header.signals] == ["uV", "mV", "uV"]
    assert [s.to_uv for s in header.signals] == [1.0, 1000.0, 1.0]
    np.testing.assert_allclose(full / np.array([[1.0], [1000.0], [1.0]]), signals, atol=0.01)


@pytest.mark.parametrize("field", ["physical", "digital"])
def test_a_channel_without_calibration_refuses_only_its_own_samples(
    tmp_path: Path, field: str
) -> None:
    """Writers leave a channel they did not record at ``0 0`` (physical or digital minimum and
    maximum equal: no calibration). One such auxiliary channel refused the whole recording; now
    its samples alone are refused, the EEG beside it read and preprocessed, with a warning."""
    from eegprep.corpus.manifest import load_manifest
    from eegprep.ingestion.inmemory import read_preprocessed

    rng = np.random.default_rng(2)
    signals = [20 * rng.standard_normal(250 * 20) for _ in range(4)]
    labels = [*LABELS, "Photic"]
    path = write_edf(tmp_path / "aux.edf", signals, labels=labels, sfreqs=250)
    data = bytearray(path.read_bytes())
    for end in ("min", "max"):
        span = field_span(f"{field}_{end}", n_signals=len(labels), channel=3)
        data[span] = b"0".ljust(span.stop - span.start)
    path.write_bytes(bytes(data))
    header = EdfReader.read_header(str(path))
    assert header.labels == labels
    assert any("without calibration" in w and "'Photic'" in w for w in header.warnings)
    eeg = EdfReader.read_segment(header, [0, 1, 2], 0, 250 * 20)
    np.testing.assert_allclose(eeg, signals[:3], atol=0.01)
    equal = f"signal 'Photic': {field} minimum equals maximum (0"
    with pytest.raises(SourceError, match=re.escape(equal)):
        EdfReader.read_segment(header, [3], 0, 10)
    pre = read_preprocessed(path, load_manifest("tuab"))
    assert pre.channels == ["FP1", "CZ", "O1"] and np.isfinite(pre.data).all()


@pytest.mark.parametrize("reserved", ["EDF+D", "EDF+C", ""])
def test_records_a_rounded_duration_apart_follow_on_and_a_sample_long_gap_does_not(
    tmp_path: Path, reserved: str
) -> None:
    """Records of a third of a second: the header's 8 characters hold ``0.333333``, the TALs
    ``k/3``, so record 5 starts 1.7 us after 5 x 0.333333 s, and an EDF+D so was refused for
    a gap (``starts at 1.66667 s, not at 1.66667 s``). Within half a sample of the fastest
    signal records follow on; 20 ms (5 samples at 255 Hz) is a gap (a join)."""
    rng = np.random.default_rng(3)
    signals = [20 * rng.standard_normal(85 * 30) for _ in range(2)]
    args = {"labels": ["Fp1", "Cz"], "sfreqs": 255, "record_duration": 1 / 3, "edf_plus": True}
    path = write_edf(tmp_path / "third.edf", signals, reserved=reserved, **args)  # type: ignore[arg-type]
    _, full = check_reader(EdfReader, str(path), expected_labels=["Fp1", "Cz"])
    np.testing.assert_allclose(full, signals, atol=0.01)
    onsets = [k / 3 + (0.02 if k >= 12 else 0.0) for k in range(30)]
    gap = write_edf(
        tmp_path / "gap.edf",
        signals,
        reserved=reserved,
        record_onsets=onsets,
        **args,  # type: ignore[arg-type]
    )
    header = EdfReader.read_header(str(gap))
    # record 12, after a 20 ms gap: 12 records of the third of a second ``0.333333`` stands
    # for (255 Hz: tests/eegprep/test_rounded_rates.py), not of 0.333333 s
    assert header.signals[0].sfreq == 255
    assert header.joins == pytest.approx((12 / 3,))
    assert round(header.joins[0] * header.signals[0].sfreq) == 12 * 85  # on a sample


@pytest.mark.parametrize("reader", ["edf", "mne"])
def test_a_bdf_plus_d_is_discontinuous_as_an_edf_plus_d_is(tmp_path: Path, reader: str) -> None:
    """A BDF+ header says ``BDF+D`` where an EDF+ one says ``EDF+D``. It was read as a plain
    BDF: its gaps found, but said as a header whose stamps contradict it, with a second line
    calling pyedflib's refusal of any discontinuous file a fault of the header; a BDF+D whose
    first record is not stamped was read as continuous, its gaps unknown."""
    from eegprep.readers.mne_formats import MneReader

    events = [*EVENTS, (7.5, None, "late")]
    path, _ = _edf(tmp_path / "gap.bdf", bdf=True, reserved="BDF+D",
                   record_onsets=[0, 1, 2, 7, 8], annotations=events)  # fmt: skip
    if reader == "edf":
        header = EdfReader.read_header(str(path))
    else:
        header = MneReader.read_header(str(path), infer_types=False)
    assert header.joins == (3.0,)
    assert header.warnings == (
        "discontinuous: 1 gap (4 s) between data records; its 2 stretches are kept "
        "separately (filtered each alone, no window across a join), stored end to end with "
        "joins at 3 s; 1 event inside a gap dropped",
    )
    data = bytearray(path.read_bytes())  # the first record's time-keeping TAL made no TAL
    at = data.index(b"+0\x14\x14\x00")
    data[at : at + 5] = b"\x00" * 5
    path.write_bytes(bytes(data))
    check_source_error(EdfReader, str(path), "EDF\\+D file without time-keeping annotations")
