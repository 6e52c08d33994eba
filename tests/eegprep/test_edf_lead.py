"""Promise: an EDF whose first data record starts after the header's start time follows the
rule of a marker at or before the first sample (tests/eegprep/test_leading_markers.py).

EDF+ stamps each data record with its onset from the header's start time; a first record at
``+5`` was taken 5 s after it, in an EDF+C (contiguous records, the first one late) as in an
EDF+D. Nothing lies before it: no join, no gap; events count from the first sample; the
recording's start moves 5 s later, and one line says so. Before, the start stayed the
header's (5 s early), nothing said the records began late, and an EDF+C so stamped added a
line that its header was not EDF-compliant (pyedflib refuses a first onset of a second or
more).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from eegprep.readers.edf import EdfReader
from eegprep.readers.mne_formats import MneReader
from eegprep.testing.edf_writer import write_edf

LABELS = ["Fp1", "Cz", "O1"]
EVENTS = [(1.5, 0.5, "blink"), (3.25, None, "cue")]
HEADER_START = "2000-01-01T00:00:00"  # the writer's default start


def _edf(path: Path, reserved: str, first_onset: float, **kw: object) -> str:
    """An EDF+ (``reserved``; ``""``: a plain EDF carrying an annotation signal) of 5 s at
    250 Hz whose first record is stamped ``first_onset`` s after the header's start."""
    rng = np.random.default_rng(0)
    n = kw.pop("n_times", 1250)
    signals = [20 * rng.standard_normal(n) for _ in LABELS]  # type: ignore[call-overload]
    args = {"labels": LABELS, "sfreqs": 250, "edf_plus": True, "annotations": EVENTS, **kw}
    written = write_edf(path, signals, reserved=reserved, first_onset=first_onset,
                        bdf=path.suffix == ".bdf", **args)  # type: ignore[arg-type]  # fmt: skip
    return str(written)


def _read(reader: str, path: str) -> object:
    """The header the ``edf`` reader gives, or the ``mne`` reader given an MNE option."""
    if reader == "edf":
        return EdfReader.read_header(path)
    return MneReader.read_header(path, infer_types=False)


def _start(header: object) -> str:
    meta = header.meta_dict()  # type: ignore[attr-defined]
    return meta.get("start", meta.get("meas_date", ""))


def _line(seconds: str, way: str = "after", later: str = "later") -> str:
    return (
        f"the first data record starts {seconds} s {way} the header's start time (its "
        "time-keeping annotation): no join and no gap; the times of its events and its "
        f"sidecar's count from the first sample, and the recording's start is moved "
        f"{seconds} s {later}"
    )


@pytest.mark.parametrize("reader", ["edf", "mne"])
@pytest.mark.parametrize("reserved", ["EDF+C", "EDF+D", ""])
@pytest.mark.parametrize("suffix", [".edf", ".bdf"])
def test_a_first_record_5_s_after_the_start_moves_the_start_and_nothing_else(
    tmp_path: Path, reader: str, reserved: str, suffix: str
) -> None:
    if suffix == ".bdf" and reserved:
        reserved = reserved.replace("EDF", "BDF")
    path = _edf(tmp_path / f"late{suffix}", reserved, 5.0)
    header = _read(reader, path)
    assert _start(header) == "2000-01-01T00:00:05"
    assert [(a.onset, a.duration, a.description) for a in header.annotations] == [  # type: ignore[attr-defined]
        (1.5, 0.5, "blink"), (3.25, 0.0, "cue")]  # fmt: skip
    assert header.joins == () and header.gaps == ()  # type: ignore[attr-defined]
    assert header.warnings == (_line("5"),)  # type: ignore[attr-defined]
    assert header.duration == 5.0  # type: ignore[attr-defined]


@pytest.mark.parametrize("reader", ["edf", "mne"])
def test_a_late_first_record_and_a_gap_later(tmp_path: Path, reader: str) -> None:
    """An EDF+D starting 5 s late with a 4 s gap after its third record: the gap alone is a
    join, at 3 s on the samples kept and 3-7 s of the clock, which starts at the first
    sample; the start moves 5 s."""
    events = [*EVENTS, (7.5, None, "late")]
    path = _edf(tmp_path / "gap.edf", "EDF+D", 5.0, record_onsets=[0, 1, 2, 7, 8],
                annotations=events)  # fmt: skip
    header = _read(reader, path)
    assert _start(header) == "2000-01-01T00:00:05"
    assert header.joins == (3.0,) and header.gaps == ((3.0, 7.0),)  # type: ignore[attr-defined]
    assert [(a.onset, a.description) for a in header.annotations] == [  # type: ignore[attr-defined]
        (1.5, "blink"), (3.5, "late")]  # fmt: skip
    gap, lead = header.warnings  # type: ignore[attr-defined]
    assert lead == _line("5") and gap.startswith("discontinuous")


@pytest.mark.parametrize("reader", ["edf", "mne"])
@pytest.mark.parametrize("reserved", ["EDF+C", "EDF+D", ""])
def test_a_fraction_of_a_second_is_the_start_s_fraction_said_by_no_line(
    tmp_path: Path, reader: str, reserved: str
) -> None:
    """EDF+ states the start's fraction of a second by the first record's onset: the start
    has it, and no line is added (it is no time before the first sample, only precision)."""
    header = _read(reader, _edf(tmp_path / "frac.edf", reserved, 0.25))
    assert _start(header) == "2000-01-01T00:00:00.250000"
    assert header.warnings == () and header.joins == () and header.gaps == ()  # type: ignore[attr-defined]


@pytest.mark.parametrize("reader", ["edf", "mne"])
def test_a_first_record_before_the_start_moves_it_earlier(tmp_path: Path, reader: str) -> None:
    header = _read(reader, _edf(tmp_path / "early.edf", "EDF+C", -2.0))
    assert _start(header) == "1999-12-31T23:59:58"
    assert header.warnings == (_line("2", "before", "earlier"),)  # type: ignore[attr-defined]
    assert [a.onset for a in header.annotations] == [1.5, 3.25]  # type: ignore[attr-defined]


@pytest.mark.parametrize("reader", ["edf", "mne"])
def test_an_onset_beyond_any_date_leaves_the_start_unknown(tmp_path: Path, reader: str) -> None:
    """A damaged first onset of 10^12 s (31,700 years) gives no date: the start is unknown,
    the file is read."""
    header = _read(reader, _edf(tmp_path / "far.edf", "EDF+C", 1e12))
    assert _start(header) == ""
    assert header.warnings == (_line("1e+12"),)  # type: ignore[attr-defined]


def test_the_ingest_reports_one_line_and_stores_the_events_from_the_first_sample(
    tmp_path: Path,
) -> None:
    from eegprep import open_store
    from tests.safety.corpus import ingest_folder

    src = tmp_path / "src"
    src.mkdir()
    _edf(src / "late.edf", "EDF+C", 5.0)
    report = ingest_folder(src, tmp_path / "s.zarr")
    assert report.failed == []
    assert report.warnings["late.edf"] == [_line("5")]
    rec = open_store(tmp_path / "s.zarr").recording("folder/late")
    assert rec.joins == ()
    assert [(e.onset, e.label) for e in rec.events] == [(1.5, "blink"), (3.25, "cue")]
