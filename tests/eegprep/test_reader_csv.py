"""CsvReader on Grasp-and-Lift, Inria BCI and MoBI layouts written here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from eegprep.readers import get_reader, reader_for
from eegprep.readers.csv_table import CsvReader, clear_cache

try:  # the repository root on sys.path (PYTHONPATH=. or tests/ as a package)
    from tests.eegprep.reader_checks import check_reader, check_source_error, check_usage_error
except ImportError:  # pytest's rootdir-less "prepend" import of tests/eegprep
    from reader_checks import check_reader, check_source_error, check_usage_error

# Grasp-and-Lift's data header after `id`.
_GAL_HEADER = (
    "Fp1 Fp2 F7 F3 Fz F4 F8 FC5 FC1 FC2 FC6 T7 C3 Cz C4 T8 TP9 CP5 CP1 CP2 CP6 TP10 P7 P3 Pz P4 "
    "P8 PO9 O1 Oz O2 PO10"
)
GAL_LABELS = _GAL_HEADER.split()
INRIA_EEG = [f"E{i}" for i in range(1, 57)]
MOBI_LABELS = [f"M{i}" for i in range(1, 65)]


@pytest.fixture(autouse=True)
def _fresh_caches():
    yield
    clear_cache()


def _write(path: Path, header: list[str] | None, rows: list[list[str]], sep: str = ",") -> str:
    lines = ([sep.join(header)] if header else []) + [sep.join(r) for r in rows]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def _grasp_and_lift(tmp_path: Path, n: int = 700) -> tuple[str, np.ndarray]:
    """subj1_series1_data.csv: text id column, 32 integer channels, 500 Hz."""
    values = np.random.default_rng(6).integers(-900, 900, size=(n, 32))
    rows = [[f"subj1_series1_{i}", *map(str, values[i])] for i in range(n)]
    path = _write(tmp_path / "subj1_series1_data.csv", ["id", *GAL_LABELS], rows)
    return path, values.T.astype(float)


def _inria(tmp_path: Path, n: int = 600) -> tuple[str, np.ndarray, list[int]]:
    """Data_S02_Sess01.csv: Time (s), 56 EEG, EOG, FeedBackEvent (1 at each feedback), 200 Hz."""
    rng = np.random.default_rng(7)
    signals = np.round(rng.normal(scale=40.0, size=(n, 57)), 6)
    feedback = [100, 101, 350]  # a two-sample pulse counts once
    rows = []
    for i in range(n):
        flag = "1" if i in feedback else "0"
        rows.append([f"{i / 200:.3f}", *(f"{v:.6f}" for v in signals[i]), flag])
    header = ["Time", *INRIA_EEG, "EOG", "FeedBackEvent"]
    path = _write(tmp_path / "Data_S02_Sess01.csv", header, rows)
    return path, signals.T, [100, 350]


def test_registry_finds_the_csv_reader() -> None:
    assert get_reader("csv") is CsvReader
    assert reader_for("eeg.txt") is CsvReader


def test_grasp_and_lift(tmp_path: Path) -> None:
    path, values = _grasp_and_lift(tmp_path)
    header, _ = check_reader(
        CsvReader,
        path,
        expected_labels=GAL_LABELS,
        expected_sfreq=500.0,
        expected_n_samples=700,
        reference_uv=values * 0.1,
        sfreq=500,
        scale=0.1,
    )
    assert header.meta_dict()["dropped_columns"] == "id"  # a text column, ignored unasked
    assert header.signals[0].to_uv == pytest.approx(0.1)
    # Dropping it by name, as a manifest would, reads the same.
    check_reader(CsvReader, path, sfreq=500, scale=0.1, drop=["id"], n_segments=2)


def test_inria_time_column_and_feedback_markers(tmp_path: Path) -> None:
    path, signals, feedback = _inria(tmp_path)
    header, _ = check_reader(
        CsvReader,
        path,
        expected_labels=[*INRIA_EEG, "EOG"],
        expected_sfreq=200.0,
        reference_uv=signals,
        time_column="Time",
        marker_column="FeedBackEvent",
    )
    assert [(a.onset, a.duration, a.description) for a in header.annotations] == [
        (i / 200, 0.0, "FeedBackEvent/1") for i in feedback
    ]
    # sfreq and the time column must agree.
    check_reader(CsvReader, path, sfreq=200, time_column="Time", n_segments=1)
    check_source_error(
        CsvReader,
        path,
        r"`sfreq` is 250 Hz but time column steps give 200 Hz",
        sfreq=250,
        time_column="Time",
    )


def test_mobi_tab_separated(tmp_path: Path) -> None:
    """eeg.txt: one header line, then tab-separated timestamp + 64 channels, 100 Hz."""
    rng = np.random.default_rng(8)
    data = np.round(rng.normal(scale=25.0, size=(300, 64)), 4)
    rows = [[f"{1523456789 + i / 100:.2f}", *(f"{v:.4f}" for v in data[i])] for i in range(300)]
    named = _write(tmp_path / "eeg.txt", ["Time", *MOBI_LABELS], rows, sep="\t")
    header, full = check_reader(
        CsvReader,
        named,
        expected_labels=MOBI_LABELS,
        expected_sfreq=100.0,
        reference_uv=data.T,
        time_column="Time",
    )
    assert header.meta_dict()["delimiter"] == "\t"
    # A header line that is no column-name line: skip it and name the columns.
    other = tmp_path / "eeg_other.txt"
    other.write_text("recorded with BrainVision Recorder\n" + "\n".join("\t".join(r) for r in rows))
    names = ["Time", *MOBI_LABELS]
    _, same = check_reader(
        CsvReader,
        str(other),
        header_lines=1,
        channel_names=names,
        time_column="Time",
        n_segments=2,
    )
    np.testing.assert_array_equal(full, same)
    # Whitespace-separated with an explicit delimiter reads the same.
    spaced = _write(tmp_path / "eeg_spaced.txt", names, rows, sep="   ")
    _, spaced_full = check_reader(
        CsvReader, spaced, delimiter="whitespace", time_column="Time", n_segments=1
    )
    np.testing.assert_array_equal(full, spaced_full)


def test_event_columns_become_annotations(tmp_path: Path) -> None:
    hand = np.zeros(100, dtype=int)
    hand[10:20] = 1
    hand[90:] = 1
    lift = np.zeros(100, dtype=int)
    lift[0:5] = 1
    rows = [[f"subj1_series1_{i}", str(i), str(-i), str(hand[i]), str(lift[i])] for i in range(100)]
    path = _write(tmp_path / "merged.csv", ["id", "Fp1", "Fp2", "HandStart", "LiftOff"], rows)
    header, _ = check_reader(
        CsvReader,
        path,
        expected_labels=["Fp1", "Fp2"],
        sfreq=500,
        event_columns=["HandStart", "LiftOff"],
    )
    assert [(a.onset, a.duration, a.description) for a in header.annotations] == [
        (0.0, 0.01, "LiftOff"),
        (0.02, 0.02, "HandStart"),
        (0.18, 0.02, "HandStart"),
    ]


def test_errors(tmp_path: Path) -> None:
    path, _ = _grasp_and_lift(tmp_path, n=20)
    check_usage_error(CsvReader, path, r"Unknown option 'sfrq'.*Did you mean 'sfreq'", sfrq=500)
    check_usage_error(CsvReader, path, r"needs `sfreq` \(Hz\) or a `time_column`")
    check_usage_error(CsvReader, path, r"`drop`: expected a list of names", sfreq=1, drop="id")
    check_usage_error(
        CsvReader, path, r"`header_lines`: expected an integer", sfreq=1, header_lines=-1
    )
    check_usage_error(
        CsvReader, path, r"`delimiter`: expected one character", sfreq=1, delimiter=", "
    )
    check_source_error(
        CsvReader,
        path,
        r"column 'ID' not found; columns in the file: id, Fp1.*Did you mean 'id'",
        sfreq=500,
        drop=["ID"],
    )
    check_source_error(
        CsvReader,
        path,
        r"column 'id' is not numeric .*add it to `drop`",
        sfreq=500,
        columns=["id", "Fp1"],
    )
    check_source_error(
        CsvReader,
        path,
        r"no numeric signal columns among 'id,Fp1,Fp2,F7,F3,Fz.*check .*`delimiter`",
        sfreq=500,
        delimiter=";",
    )

    text = Path(path).read_text().splitlines()
    truncated = tmp_path / "truncated.csv"
    truncated.write_text("\n".join([*text[:-1], text[-1][:20]]) + "\n")
    check_source_error(
        CsvReader,
        str(truncated),
        r"line 21 has \d+ fields, the header 33: a cut row\?",
        sfreq=500,
    )
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join([*text[:5], text[5].replace(",", ",x", 1), *text[6:]]))
    check_source_error(
        CsvReader, str(bad), r"line 6, column 'Fp1': 'x-?\d+' is not a number", sfreq=500
    )
    nan = tmp_path / "nan.csv"
    nan.write_text("a,b\n1,2\n3,nan\n")
    check_source_error(CsvReader, str(nan), r"non-finite value \(nan/inf\) on line 3", sfreq=1)

    only_header = tmp_path / "header.csv"
    only_header.write_text("id,Fp1\n")
    check_source_error(CsvReader, str(only_header), r"no data rows after 1 header line", sfreq=1)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    check_source_error(CsvReader, str(empty), r"file is empty", sfreq=1)
    back = tmp_path / "back.csv"
    back.write_text("Time,Fp1\n0.0,1\n0.1,2\n0.05,3\n")
    check_source_error(
        CsvReader, str(back), r"time column 'Time' does not increase on line 4", time_column="Time"
    )
    names = tmp_path / "noheader.csv"
    names.write_text("1,2,3\n4,5,6\n")
    check_source_error(
        CsvReader,
        str(names),
        r"`channel_names` has 2 names but the first data row has 3",
        sfreq=1,
        channel_names=["a", "b"],
    )


def test_repeated_column_name_keeps_each_column_its_own_samples(tmp_path: Path) -> None:
    """A repeated label comes back as the file has it (mapping keeps the first), and each copy
    reads its own column, not the first one's."""
    path = tmp_path / "dup.csv"
    rows = "\n".join(f"{i},{10 + i},{20 + i}" for i in range(50))
    path.write_text("Fp1,Cz,Cz\n" + rows + "\n", encoding="utf-8")
    clear_cache()
    header = CsvReader.read_header(str(path), sfreq=250)
    assert header.labels == ["Fp1", "Cz", "Cz"]
    x = CsvReader.read_segment(header, [0, 1, 2], 0, 50)
    np.testing.assert_array_equal(x[:, 3], [3, 13, 23])


def test_one_registry_maps_every_claimed_suffix() -> None:
    """``.tsv`` (and any case of a suffix) goes to the reader that reads it: one table."""
    from eegprep.readers import SUFFIXES, get_reader, reader_for

    assert reader_for("x.tsv") is get_reader("csv") and reader_for("X.TSV") is get_reader("csv")
    for suffix, name in SUFFIXES.items():
        assert reader_for(f"rec{suffix.upper()}") is get_reader(name)
