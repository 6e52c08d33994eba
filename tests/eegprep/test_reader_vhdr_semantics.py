"""BrainVision files as other systems write them, byte by byte, read for what the BrainVision
Core Data Format says they hold: each sample's microvolts computed here from the format's own
definition (stored value x ``<resolution>`` x the unit's factor; ``MULTIPLEXED`` channels side
by side, ``VECTORIZED`` one after another), never by calling the reader; where the recording
paused (a ``New Segment`` marker), a warning naming the join; every marker's size in samples;
each channel's name as the header writes it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from eegprep.readers.mne_formats import MneReader, clear_cache
from tests.eegprep.reader_checks import check_reader, check_source_error

LABELS = ["Fp1", "Cz", "O1"]
N_TIMES = 40
SFREQ = 500.0
UV_PER_UNIT = {"": 1.0, "µV": 1.0, "uV": 1.0, "μV": 1.0, "mV": 1e3, "V": 1e6, "nV": 1e-3}
"""What one of each unit is in microvolts (the BrainVision default, empty, is microvolts)."""
STORED = {"INT_16": "<i2", "INT_32": "<i4", "IEEE_FLOAT_32": "<f4"}
TITLE = "Brain Vision Data Exchange Header File Version 1.0"
MARKER_TITLE = "Brain Vision Data Exchange Marker File, Version 1.0"
FIRST = "Mk1=New Segment,,1,1,0,20240102030405000000"


def _values(fmt: str) -> np.ndarray:
    """Stored values, shape (channels, samples): whole numbers for the integer formats."""
    rng = np.random.default_rng(7)
    values = rng.integers(-2000, 2000, size=(len(LABELS), N_TIMES))
    return values.astype(STORED[fmt]) if fmt in STORED else values.astype(np.float64)


def _write(
    folder: Path,
    channels: list[str],
    stored: bytes | str,
    *,
    fmt: str = "INT_16",
    orientation: str = "MULTIPLEXED",
    markers: list[str] | None = None,
    common: list[str] = (),  # type: ignore[assignment]
    ascii_infos: list[str] = (),  # type: ignore[assignment]
    encoding: str = "utf-8",
    newline: str = "\r\n",
    start: bytes = b"",
    n_channels: int | None = None,
) -> str:
    """``rec.vhdr``, ``rec.vmrk`` and ``rec.eeg`` in ``folder`` as a recorder writes them."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = [TITLE, "; Data created by another recorder", "", "[Common Infos]"]
    lines += ["DataFile=rec.eeg", "MarkerFile=rec.vmrk", *common]
    lines += ["DataFormat=" + ("ASCII" if fmt == "ASCII" else "BINARY")]
    lines += ["; Data orientation: MULTIPLEXED=ch1,pt1, ch2,pt1 ..."]
    lines += [f"DataOrientation={orientation}", f"NumberOfChannels={n_channels or len(channels)}"]
    lines += ["; Sampling interval in microseconds", f"SamplingInterval={1e6 / SFREQ:g}", ""]
    if fmt == "ASCII":
        lines += ["[ASCII Infos]", *ascii_infos, ""]
    else:
        lines += ["[Binary Infos]", f"BinaryFormat={fmt}", ""]
    lines += [
        "[Channel Infos]",
        "; Each entry: Ch<Channel number>=<Name>,<Reference channel name>,",
    ]
    lines += [f"Ch{i}={c}" for i, c in enumerate(channels, start=1)]
    text = newline.join(lines) + newline
    (folder / "rec.vhdr").write_bytes(start + text.encode(encoding))
    data = stored.encode() if isinstance(stored, str) else stored
    (folder / "rec.eeg").write_bytes(data)
    marks = [MARKER_TITLE, "", "[Common Infos]", "Codepage=UTF-8", "DataFile=rec.eeg", ""]
    marks += ["[Marker Infos]", *(markers or [FIRST])]
    (folder / "rec.vmrk").write_bytes((newline.join(marks) + newline).encode())
    clear_cache()
    return str(folder / "rec.vhdr")


def _binary(values: np.ndarray, fmt: str, orientation: str) -> bytes:
    """The data file: channels side by side (``MULTIPLEXED``) or one after another."""
    laid = values.T if orientation == "MULTIPLEXED" else values
    return np.ascontiguousarray(laid).astype(STORED[fmt]).tobytes()


def _expected(values: np.ndarray, resolutions: list[float], units: list[str]) -> np.ndarray:
    factors = [r * UV_PER_UNIT[u] for r, u in zip(resolutions, units, strict=True)]
    return values.astype(np.float64) * np.array(factors)[:, None]


# (binary format, orientation, resolutions, units): each channel's stored value x resolution
# in its unit, every unit the format's writers use, in both orientations
LAYOUTS = [
    ("INT_16", "MULTIPLEXED", [0.1, 0.5, 1.0], ["µV", "uV", "mV"]),
    ("INT_16", "VECTORIZED", [0.1, 0.5, 1.0], ["µV", "nV", "mV"]),
    ("INT_32", "MULTIPLEXED", [0.0488281, 2.0, 1e-7], ["µV", "nV", "V"]),
    ("INT_32", "VECTORIZED", [0.0488281, -0.5, 1e-7], ["μV", "uV", "V"]),
    ("IEEE_FLOAT_32", "MULTIPLEXED", [0.1, 1.0, 1.0], ["µV", "mV", "V"]),
    ("IEEE_FLOAT_32", "VECTORIZED", [1.0, 1.0, 1e-3], ["µV", "mV", "mV"]),
]


@pytest.mark.parametrize(("fmt", "orientation", "resolutions", "units"), LAYOUTS)
def test_every_binary_layout_reads_the_values_the_format_defines(
    tmp_path: Path, fmt: str, orientation: str, resolutions: list[float], units: list[str]
) -> None:
    """A float file in millivolts or volts (``Ch2=Cz,,1,mV`` over ``IEEE_FLOAT_32``) was refused
    as a damaged header ("its stored values would overflow"), as if its values were codes up to
    float32's largest; it holds values, read as any float file."""
    values = _values(fmt)
    channels = [f"{n},,{r:g},{u}" for n, r, u in zip(LABELS, resolutions, units, strict=True)]
    common = [f"DataPoints={N_TIMES}"] if orientation == "VECTORIZED" else []
    path = _write(
        tmp_path, channels, _binary(values, fmt, orientation), fmt=fmt,
        orientation=orientation, common=common,
    )  # fmt: skip
    expected = _expected(values, resolutions, units)
    check_reader(
        MneReader, path, expected_labels=LABELS, expected_sfreq=SFREQ,
        expected_n_samples=N_TIMES, reference_uv=expected,
        atol=max(1e-3, 1e-7 * float(np.abs(expected).max())),  # float32's 24 bits
    )  # fmt: skip


# (what, [Channel Infos] lines, bytes before the title, header encoding, the resolutions and
# units they mean): the spec's defaults and the spellings other writers use
HEADERS = {
    "resolution and unit empty": (["Fp1,,,", "Cz,,", "O1,,,mV"], [1, 1, 1], ["", "", "mV"]),
    "unit absent (older files)": (["Fp1,,0.5", "Cz,Fp1,2", "O1,,1"], [0.5, 2, 1], ["", "", ""]),
    "escaped comma in a name": (
        [r"Fp1\1a,,0.5,µV", "Cz,,1,uV", "O1,,1,µV"],
        [0.5, 1, 1],
        ["µV", "uV", "µV"],
    ),
    "extra fields after the unit": (
        ["Fp1,,0.5,µV,x", "Cz,,1,uV,,y", "O1,,1,nV"],
        [0.5, 1, 1],
        ["µV", "uV", "nV"],
    ),
}


@pytest.mark.parametrize("case", sorted(HEADERS))
def test_channel_fields_and_their_defaults(tmp_path: Path, case: str) -> None:
    channels, resolutions, units = HEADERS[case]
    values = _values("INT_16")
    path = _write(tmp_path, channels, _binary(values, "INT_16", "MULTIPLEXED"))
    labels = [c.split(",")[0].replace(r"\1", ",") for c in channels]
    check_reader(
        MneReader, path, expected_labels=labels,
        reference_uv=_expected(values, resolutions, units), atol=1e-3,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("codepage", "encoding", "start", "newline"),
    [
        ("Codepage=UTF-8", "utf-8", b"\xef\xbb\xbf", "\r\n"),  # a byte order mark, Windows lines
        ("Codepage=ANSI", "cp1252", b"", "\r\n"),  # µ as one byte, 0xB5
        (None, "latin-1", b"", "\n"),  # older files name no codepage: Latin-1
        ("Codepage=ANSI", "utf-8", b"", "\n"),  # UTF-8 bytes in a file saying ANSI
        ("Codepage=ansi", "cp1252", b"", "\r\n"),  # ANSI in lower case (MNE: unknown encoding)
        ("Codepage= Ansi ", "cp1252", b"", "\n"),
    ],
)
def test_micro_sign_in_every_encoding_is_microvolts(
    tmp_path: Path, codepage: str | None, encoding: str, start: bytes, newline: str
) -> None:
    values = _values("INT_16")
    channels = ["Fp1,,0.1,µV", "Cz,,0.5,µV", "O1,,2,µV"]
    path = _write(
        tmp_path, channels, _binary(values, "INT_16", "MULTIPLEXED"),
        common=[codepage] if codepage else [], encoding=encoding, start=start, newline=newline,
    )  # fmt: skip
    check_reader(
        MneReader, path, expected_labels=LABELS,
        reference_uv=_expected(values, [0.1, 0.5, 2], ["µV"] * 3), atol=1e-3,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("infos", "decimal", "separator", "skipped"),
    [
        (["DecimalSymbol=.", "SkipLines=0", "SkipColumns=0"], ".", " ", []),
        (["DecimalSymbol=,", "SkipLines=1", "SkipColumns=0"], ",", " ", ["Fp1 Cz O1"]),
    ],
)
def test_ascii_values_with_either_decimal_symbol(
    tmp_path: Path, infos: list[str], decimal: str, separator: str, skipped: list[str]
) -> None:
    """Text data: a line a sample, its channels in columns, after ``SkipLines`` lines; values
    times the resolution in the unit (here 0.5 uV and 1 mV)."""
    values = np.round(np.random.default_rng(3).normal(0, 30, (len(LABELS), N_TIMES)), 3)
    rows = [separator.join(f"{v:.3f}".replace(".", decimal) for v in row) for row in values.T]
    channels = ["Fp1,,0.5,µV", "Cz,,1,mV", "O1,,1,µV"]
    path = _write(
        tmp_path, channels, "\r\n".join([*skipped, *rows]) + "\r\n", fmt="ASCII",
        ascii_infos=infos,
    )  # fmt: skip
    check_reader(
        MneReader, path, expected_labels=LABELS, expected_n_samples=N_TIMES,
        reference_uv=_expected(values, [0.5, 1, 1], ["µV", "mV", "µV"]), atol=1e-3,
    )  # fmt: skip


def test_sampling_interval_in_fractions_of_a_microsecond(tmp_path: Path) -> None:
    values = _values("INT_16")
    path = _write(
        tmp_path, ["Fp1,,1,µV", "Cz,,1,µV", "O1,,1,µV"], _binary(values, "INT_16", "MULTIPLEXED")
    )
    text = Path(path).read_text(encoding="utf-8")
    Path(path).write_text(text.replace("SamplingInterval=2000", "SamplingInterval=3906.25"))
    clear_cache()
    header = MneReader.read_header(path)
    assert header.signals[0].sfreq == 256.0


def _events(path: str, **options: object) -> list[tuple[float, float, str]]:
    header = MneReader.read_header(path, **options)  # type: ignore[arg-type]
    return [
        (round(a.onset * SFREQ), round(a.duration * SFREQ), a.description)
        for a in header.annotations
    ]


@pytest.mark.parametrize(
    ("line", "newline"),
    [
        ("Mk2=Stimulus,S  1,5,3", "\r\n"),  # four fields, a Windows line ending after the size
        ("Mk2=Stimulus,S  1, 5, 3, 0", "\n"),  # spaces after the commas
        ("Mk2=Stimulus,S  1,5,3 ,0", "\n"),
    ],
)
def test_a_marker_keeps_its_size_in_samples(tmp_path: Path, line: str, newline: str) -> None:
    """MNE read a size it does not find all digits (``'3\\r'``, ``' 3'``) as 0 samples: the
    event lost its duration without a word."""
    values = _values("INT_16")
    path = _write(
        tmp_path, ["Fp1,,1,µV", "Cz,,1,µV", "O1,,1,µV"], _binary(values, "INT_16", "MULTIPLEXED"),
        markers=[FIRST, line], newline=newline,
    )  # fmt: skip
    assert _events(path) == [(4, 3, "Stimulus/S  1")]


SEGMENT_CASES = {  # (marker lines, reader options): a pause and resumption at sample 20
    "as recorders write it": ([FIRST, "Mk2=New Segment,,21,1,0,20240102030500000000"], {}),
    "with a description": ([FIRST, "Mk2=New Segment,resumed,21,1,0"], {}),
    "descriptions alone (ignore_marker_types)": (
        [FIRST, "Mk2=Stimulus,S  1,5,1,0", "Mk3=New Segment,,21,1,0"],
        {"ignore_marker_types": True},
    ),
    "listed before the first stretch's": (
        ["Mk1=New Segment,,21,1,0,20240102030500000000", "Mk2=New Segment,,1,1,0"],
        {},
    ),
}


@pytest.mark.parametrize("case", sorted(SEGMENT_CASES))
def test_every_new_segment_after_the_start_is_named_as_a_join(tmp_path: Path, case: str) -> None:
    """Samples after a ``New Segment`` marker do not follow on from those before. The join
    was found by MNE's annotation ``New Segment/`` alone: a description, ``ignore_marker_types``
    or the marker listed first (which MNE drops wherever it lies) stored the stretches end
    to end without a word."""
    markers, options = SEGMENT_CASES[case]
    values = _values("INT_16")
    path = _write(
        tmp_path, ["Fp1,,1,µV", "Cz,,1,µV", "O1,,1,µV"], _binary(values, "INT_16", "MULTIPLEXED"),
        markers=markers,
    )  # fmt: skip
    header = MneReader.read_header(path, **options)  # type: ignore[arg-type]
    joins = [w for w in header.warnings if w.startswith("discontinuous")]
    assert len(joins) == 1, header.warnings
    assert "BrainVision 'New Segment' marker where" in joins[0]
    assert "its 2 stretches are kept separately" in joins[0]
    assert f"joins at {20 / SFREQ:g} s; " in joins[0]
    assert header.joins == (20 / SFREQ,)
    if case == "as recorders write it":  # resumed 55 s after the start, 0.04 s of samples on
        assert header.gaps == ((20 / SFREQ, 55.0),), header.gaps
        assert joins[0].endswith("; 54.96 s of its clock lie between them, as the file states")
    else:  # a segment without a date: how long it paused is unknown, as before
        assert header.gaps == () and "how long it paused is not stated (" in joins[0]


UNSTATED_PAUSES = {  # the second segment's date, and the reason the warning gives
    "no date": ("", "the 'New Segment' at sample 20 or the one before has no date"),
    "before the start": ("20240102030404000000", "the dates give a pause of -1.04 s"),
    "two days later": ("20240104030405000000", "the dates give a pause of 172800 s"),
}


@pytest.mark.parametrize("case", sorted(UNSTATED_PAUSES))
def test_a_pause_the_dates_do_not_give_is_no_gap(tmp_path: Path, case: str) -> None:
    """Where a ``New Segment``'s date gives no believable pause, the recording is kept with
    its join and no gap length (a sidecar's times are not moved), and the warning says why."""
    date, why = UNSTATED_PAUSES[case]
    values = _values("INT_16")
    path = _write(
        tmp_path, ["Fp1,,1,µV", "Cz,,1,µV", "O1,,1,µV"], _binary(values, "INT_16", "MULTIPLEXED"),
        markers=[FIRST, f"Mk2=New Segment,,21,1,0{',' + date if date else ''}"],
    )  # fmt: skip
    header = MneReader.read_header(path)
    assert header.joins == (20 / SFREQ,) and header.gaps == ()
    (line,) = [w for w in header.warnings if w.startswith("discontinuous")]
    assert f"; how long it paused is not stated ({why}" in line
    assert line.endswith("): a sidecar's times are not moved")


def test_a_new_segment_at_the_first_sample_is_no_join(tmp_path: Path) -> None:
    values = _values("INT_16")
    path = _write(
        tmp_path, ["Fp1,,1,µV", "Cz,,1,µV", "O1,,1,µV"], _binary(values, "INT_16", "MULTIPLEXED"),
        markers=["Mk1=Stimulus,S  1,5,1,0", "Mk2=New Segment,,1,1,0,20240102030405000000"],
    )  # fmt: skip
    header = MneReader.read_header(path)
    assert not [w for w in header.warnings if "discontinuous" in w] and header.joins == ()


# (orientation, [ASCII Infos] or None for no section, lines before the samples, a name
# column, leading columns, separator, decimal symbol, line end, what ends the file): every
# layout BrainVision Analyzer's Generic Data Export and the format's other writers use
TEXT_LAYOUTS = {
    "multiplexed, no [ASCII Infos]": ("MULTIPLEXED", None, [], False, [], " ", ".", "\r\n", ""),
    "multiplexed, names line, no SkipLines": (
        "MULTIPLEXED", ["DecimalSymbol=,"], ["Fp1\tCz\tO1"], False, [], "\t", ",", "\r\n", "",
    ),
    "multiplexed, title and names, a time column": (
        "MULTIPLEXED", ["SkipLines=2", "SkipColumns=1"], ["exported", "t;Fp1;Cz;O1"], False,
        ["0.000"], ";", ".", "\n", "\n\n",
    ),
    "multiplexed, commas": (
        "MULTIPLEXED", ["SkipLines=0"], [], False, [], ", ", ".", "\r\n", "\r\n",
    ),
    "vectorized, names, SkipColumns": (
        "VECTORIZED", ["DecimalSymbol=.", "SkipLines=0", "SkipColumns=1"], [], True, [], " ", ".",
        "\r\n", "",
    ),
    "vectorized, names unsaid, decimal commas": (
        "VECTORIZED", ["DecimalSymbol=,"], [], True, [], "\t", ",", "\n", "\n",
    ),
    "vectorized, a title line, no names": (
        "VECTORIZED", ["SkipLines=1", "SkipColumns=0"], ["exported"], False, [], " ", ".",
        "\r\n", "",
    ),
}  # fmt: skip


def _text_data(values: np.ndarray, case: str) -> str:
    """``values`` (channels, samples) written as :data:`TEXT_LAYOUTS` ``case`` lays them out."""
    orientation, _, before, named, lead, sep, decimal, newline, end = TEXT_LAYOUTS[case]
    shown = [[f"{v:.3f}".replace(".", decimal) for v in row] for row in values]
    if orientation == "MULTIPLEXED":
        rows = [sep.join([*lead, *col]) for col in zip(*shown, strict=True)]
    else:
        rows = [sep.join([LABELS[i]] * named + row) for i, row in enumerate(shown)]
    return newline.join([*before, *rows]) + newline + end


@pytest.mark.parametrize("case", sorted(TEXT_LAYOUTS))
def test_every_text_layout_reads_the_values_the_format_defines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    """Text data in each layout the format allows (a line a sample or a line a channel, a
    line of names or a name column said or unsaid, lines and columns skipped, blanks,
    semicolons or commas between values, a decimal comma, CRLF): the values, times each
    channel's resolution in its unit, at the header's rate. MNE read none of these but the
    first and the commas (no SkipLines, VECTORIZED: refused); offsets are kept every 7 samples
    here, so that segments start between them."""
    from eegprep.readers import vhdr_text

    monkeypatch.setattr(vhdr_text, "STEP", 7)
    orientation, infos = TEXT_LAYOUTS[case][:2]
    values = np.round(np.random.default_rng(5).normal(0, 30, (len(LABELS), N_TIMES)), 3)
    path = _write(
        tmp_path, ["Fp1,,0.5,µV", "Cz,,1,mV", "O1,,,µV"], _text_data(values, case), fmt="ASCII",
        orientation=orientation, ascii_infos=infos or [], common=[f"DataPoints={N_TIMES}"],
    )  # fmt: skip
    if infos is None:
        lines = Path(path).read_text(encoding="utf-8").split("\r\n")
        Path(path).write_text("\r\n".join(x for x in lines if x != "[ASCII Infos]"), "utf-8")
    header, _ = check_reader(
        MneReader, path, expected_labels=LABELS, expected_n_samples=N_TIMES,
        expected_sfreq=SFREQ, reference_uv=_expected(values, [0.5, 1, 1], ["µV", "mV", "µV"]),
        atol=1e-3,
    )  # fmt: skip
    assert header.warnings == ()


def test_text_data_mne_reads_is_read_as_mne_reads_it(tmp_path: Path) -> None:
    """The layout MNE reads (a line a sample, SkipLines given): the same values."""
    import mne

    values = np.round(np.random.default_rng(6).normal(0, 30, (len(LABELS), N_TIMES)), 3)
    rows = "\r\n".join(["Fp1 Cz O1", *(" ".join(f"{v:.3f}" for v in c) for c in values.T)])
    path = _write(
        tmp_path, ["Fp1,,0.5,µV", "Cz,,1,mV", "O1,,,µV"], rows + "\r\n",
        fmt="ASCII", ascii_infos=["DecimalSymbol=.", "SkipLines=1", "SkipColumns=0"],
    )  # fmt: skip
    header = MneReader.read_header(path)
    ours = MneReader.read_segment(header, [0, 1, 2], 0, N_TIMES)
    theirs = mne.io.read_raw_brainvision(path, verbose="error").get_data() * 1e6
    np.testing.assert_allclose(ours, theirs, atol=1e-3)


TEXT_FAULTS = {  # (orientation, data as written, [ASCII Infos], the line and its problem)
    "a column short": ("MULTIPLEXED", ["1.5 2.5"] * 4, [], r"line 1 .*it holds 2 values, but the header lists 3 channels"),  # noqa: E501
    "decimal commas, none said": ("MULTIPLEXED", ["1,5 2,5 3,5"] * 4, ["DecimalSymbol=."], r"line 1 .*6 values.* header should say DecimalSymbol=,"),  # noqa: E501
    "a value no number": ("MULTIPLEXED", ["1.5 2.5 3.5"] * 3 + ["1.5 2.x 3.5"], [], r"line 4 .*'2\.x' is not a number"),  # noqa: E501
    "an empty value": ("MULTIPLEXED", ["1.5,2.5,3.5", "1.5,,3.5"], [], r"line 2 .*an empty value is not a number"),  # noqa: E501
    "a blank line among the samples": ("MULTIPLEXED", ["1 2 3", "", "1 2 3"], [], r"line 2: a blank line among the samples"),  # noqa: E501
    "a channel's line short": ("VECTORIZED", ["Fp1 1 2 3", "Cz 1 2", "O1 1 2 3"], [], r"line 2: channel 2's line holds 2 samples, channel 1's 3"),  # noqa: E501
    "a channel's line missing": ("VECTORIZED", ["1 2 3", "1 2 3"], [], r"line 3: no samples for channel 3"),  # noqa: E501
    "a line more than channels": ("VECTORIZED", ["1 2 3"] * 3 + ["", "4 5 6"], [], r"line 5: a line after the 3 channels"),  # noqa: E501
    "a vectorized value no number": ("VECTORIZED", ["Fp1 1 2 3", "Cz 1 2 z3", "O1 1 2 3"], [], r"line 2: 'z3' is not a number"),  # noqa: E501
    "SkipLines not a number": ("MULTIPLEXED", ["1 2 3"], ["SkipLines=one"], r"SkipLines='one' in \[ASCII Infos\] is not a whole number"),  # noqa: E501
    "a decimal symbol no writer uses": ("MULTIPLEXED", ["1 2 3"], ["DecimalSymbol=;"], r"DecimalSymbol=';' in \[ASCII Infos\]"),  # noqa: E501
}  # fmt: skip


@pytest.mark.parametrize("fault", sorted(TEXT_FAULTS))
def test_malformed_text_data_is_one_line_naming_its_line(tmp_path: Path, fault: str) -> None:
    """A line of the wrong count, a value that is no number, a blank line among the samples,
    a channel's line short or missing: one line naming the data file and its line, before any
    read (MNE failed at the first read, in its words: "Unknown BrainVision data format
    encountered. Please contact the MNE-Python developers", "could not convert string to
    float")."""
    orientation, rows, infos, problem = TEXT_FAULTS[fault]
    path = _write(
        tmp_path, ["Fp1,,1,µV", "Cz,,1,µV", "O1,,1,µV"], "\r\n".join(rows) + "\r\n", fmt="ASCII",
        orientation=orientation, ascii_infos=infos,
    )  # fmt: skip
    where = "" if "ASCII Infos" in problem else r"its data file rec\.eeg, "
    check_source_error(MneReader, path, rf"{where}{problem}")


def test_a_data_file_of_more_channels_than_listed_is_named_so(tmp_path: Path) -> None:
    """Six channels of ``DataPoints`` samples under a header listing three read, as MNE places
    them, as three channels of twice the samples, and the first ``DataPoints`` are stored: every
    value in another channel and time. The file's size cannot tell that from three channels
    recorded longer; the warning said only that the file was longer, as if the values read were
    right."""
    values = np.arange(6 * N_TIMES, dtype="<i2").reshape(6, N_TIMES)
    path = _write(
        tmp_path, ["Fp1,,1,µV", "Cz,,1,µV", "O1,,1,µV"], _binary(values, "INT_16", "MULTIPLEXED"),
        common=[f"DataPoints={N_TIMES}"],
    )  # fmt: skip
    (warning,) = MneReader.read_header(path).warnings
    assert (
        f"it holds {2 * N_TIMES} samples per channel, the header says DataPoints={N_TIMES}"
        in warning
    )
    assert f"it also holds exactly DataPoints={N_TIMES} samples of 6 channels" in warning


@pytest.mark.parametrize("which", ["rec.vhdr", "rec.vmrk"])
def test_lines_ended_by_a_carriage_return_alone_read_as_crlf(tmp_path: Path, which: str) -> None:
    """Classic Mac OS ended lines in ``\\r`` alone, which MNE reads as one line: the header was
    refused as "no [Common Infos] section: it is damaged", and a marker file as a first marker
    of dozens of fields, then both by name; they read as their CRLF twins."""
    values = _values("INT_16")
    path = _write(
        tmp_path, ["Fp1,,1,µV", "Cz,,1,µV", "O1,,1,µV"], _binary(values, "INT_16", "MULTIPLEXED"),
        markers=[FIRST, "Mk2=Stimulus,S  1,5,1,0"],
    )  # fmt: skip
    twin, _ = check_reader(MneReader, path, expected_labels=LABELS, reference_uv=values)
    target = tmp_path / which
    target.write_bytes(target.read_bytes().replace(b"\r\n", b"\r"))
    clear_cache()
    header, _ = check_reader(MneReader, path, expected_labels=LABELS, reference_uv=values)
    assert header.meta_dict() == twin.meta_dict()
    assert header.warnings == twin.warnings


def test_the_copy_mne_reads_keeps_each_marker_line_whole(tmp_path: Path) -> None:
    """The copy written for MNE (here for a size MNE would misread) breaks lines where MNE does,
    at ``\\n`` alone: a description holding U+2028 (a line separator to Python's
    ``splitlines``, text to MNE) stays one marker."""
    values = _values("INT_16")
    path = _write(
        tmp_path, ["Fp1,,1,µV", "Cz,,1,µV", "O1,,1,µV"], _binary(values, "INT_16", "MULTIPLEXED"),
        markers=[FIRST, "Mk2=Comment,a\u2028b\x85c,5,3", "Mk3=Stimulus,S  2,9,2"],
    )  # fmt: skip
    assert _events(path) == [(4, 3, "Comment/a\u2028b\x85c"), (8, 2, "Stimulus/S  2")]


def test_longer_text_data_is_no_sign_of_more_channels(tmp_path: Path) -> None:
    """A text line holds its sample's channels: twice the lines of ``DataPoints`` is a longer
    recording, never six channels under a header listing three."""
    rows = ["1.5 2.5 3.5"] * (2 * N_TIMES)
    path = _write(
        tmp_path, ["Fp1,,1,µV", "Cz,,1,µV", "O1,,1,µV"], "\r\n".join(rows) + "\r\n", fmt="ASCII",
        ascii_infos=["SkipLines=0", "DecimalSymbol=."], common=[f"DataPoints={N_TIMES}"],
    )  # fmt: skip
    (warning,) = MneReader.read_header(path).warnings
    assert "longer than its header says" in warning and "channels" not in warning


def test_unsigned_samples_are_refused_in_one_line(tmp_path: Path) -> None:
    """``UINT_16``, which MNE does not read: one line naming the field, nothing read."""
    values = _values("INT_16").astype("<u2")
    path = _write(
        tmp_path, ["Fp1,,1,µV", "Cz,,1,µV", "O1,,1,µV"], values.T.tobytes(), fmt="UINT_16"
    )
    check_source_error(MneReader, path, r"BinaryFormat='UINT_16' in \[Binary Infos\]: MNE reads")


@pytest.mark.parametrize("named", [r"C:\Recordings\REC.EEG", "REC.eeg", "sub/rec.eeg"])
def test_a_data_file_named_otherwise_is_read_beside_the_header(tmp_path: Path, named: str) -> None:
    values = _values("INT_16")
    path = _write(
        tmp_path, ["Fp1,,0.5,µV", "Cz,,1,µV", "O1,,2,µV"], _binary(values, "INT_16", "MULTIPLEXED")
    )
    text = Path(path).read_bytes().replace(b"DataFile=rec.eeg", f"DataFile={named}".encode())
    Path(path).write_bytes(text)
    clear_cache()
    header, _ = check_reader(
        MneReader, path, reference_uv=_expected(values, [0.5, 1, 2], ["µV"] * 3), atol=1e-3
    )
    assert any("which is not there: read 'rec.eeg' beside the header" in w for w in header.warnings)


_WIDE = {  # a Windows editor's "Unicode" save: (byte-order mark, codec of the rest)
    "UTF-16 LE": (b"\xff\xfe", "utf-16-le"),
    "UTF-16 BE": (b"\xfe\xff", "utf-16-be"),
    "UTF-32 LE": (b"\xff\xfe\x00\x00", "utf-32-le"),
}


@pytest.mark.parametrize("which", ["rec.vhdr", "rec.vmrk", "both"])
@pytest.mark.parametrize("wide", sorted(_WIDE))
def test_a_header_or_marker_file_saved_as_unicode_is_read_as_its_text(
    tmp_path: Path, which: str, wide: str
) -> None:
    """Saved again by a Windows editor as "Unicode" (UTF-16 or UTF-32, a byte-order mark):
    the header was refused as "line 2 ('\\x00;\\x00 ...') comes before any [section]", and a
    marker file read as one without markers (no events, a warning calling it damaged). Both
    are read as their text: labels, microvolts and events as from the UTF-8 files."""
    mark, codec = _WIDE[wide]
    values = _values("INT_16")
    channels = ["Fp1,,0.1,µV", "Cz,,0.5,µV", "O1,,2,µV"]
    path = _write(
        tmp_path, channels, _binary(values, "INT_16", "MULTIPLEXED"),
        markers=[FIRST, "Mk2=Stimulus,S  1,5,3,0", "Mk3=Comment,Reiz ü,9,1,0"],
        common=["Codepage=UTF-8"],
    )  # fmt: skip
    for name in ["rec.vhdr", "rec.vmrk"] if which == "both" else [which]:
        target = tmp_path / name
        target.write_bytes(mark + target.read_bytes().decode("utf-8").encode(codec))
    header, _ = check_reader(
        MneReader, path, expected_labels=LABELS,
        reference_uv=_expected(values, [0.1, 0.5, 2], ["µV"] * 3), atol=1e-3,
    )  # fmt: skip
    assert not header.warnings
    assert _events(path) == [(4, 3, "Stimulus/S  1"), (8, 1, "Comment/Reiz ü")]


def test_a_header_of_nul_bytes_is_named_so(tmp_path: Path) -> None:
    """UTF-16 without a byte-order mark: one line saying what the NUL bytes are, where the
    message quoted a line of them."""
    values = _values("INT_16")
    path = _write(
        tmp_path, ["Fp1,,1,µV", "Cz,,1,µV", "O1,,1,µV"], _binary(values, "INT_16", "MULTIPLEXED"),
        encoding="utf-16-le",
    )  # fmt: skip
    check_source_error(MneReader, path, r"rec\.vhdr: the header holds NUL bytes, .* UTF-8 text$")


@pytest.mark.parametrize("spaced", ["Mk{} = ", "Mk{}\t=\t", "Mk{}  ="])
def test_a_marker_line_with_blanks_around_its_equals_sign_is_a_marker(
    tmp_path: Path, spaced: str
) -> None:
    """``Mk2 = Stimulus,...`` (an INI file as an editor or another writer spaces it): MNE finds
    markers by ``Mk<n>=`` alone, and such a marker was no event, unsaid."""
    values = _values("INT_16")
    lines = [FIRST, "Mk2=Stimulus,S  1,5,3,0", "Mk3=Response,R  2,9,1,0"]
    spaced_lines = [
        FIRST,
        *(spaced.format(k) + line[4:] for k, line in [(2, lines[1]), (3, lines[2])]),
    ]
    path = _write(
        tmp_path, ["Fp1,,1,µV", "Cz,,1,µV", "O1,,1,µV"], _binary(values, "INT_16", "MULTIPLEXED"),
        markers=spaced_lines,
    )  # fmt: skip
    assert _events(path) == [(4, 3, "Stimulus/S  1"), (8, 1, "Response/R  2")]


def test_a_repeated_label_on_a_channel_line_with_blanks_around_its_equals_sign(
    tmp_path: Path,
) -> None:
    """``Ch1 = Cz`` beside ``Ch2=Cz``: configparser (and MNE) read the line, but eegprep's look-up
    of repeated labels missed it, and the file was refused as one MNE cannot read; it is read
    as the unspaced file is, the first ``Cz`` kept."""
    values = _values("INT_16")
    binary = _binary(values, "INT_16", "MULTIPLEXED")
    plain = _write(tmp_path / "plain", ["Cz,,1,µV", "Cz,,1,µV", "O1,,1,µV"], binary)
    expected = MneReader.read_header(plain)
    path = _write(tmp_path / "spaced", ["Cz,,1,µV", "Cz,,1,µV", "O1,,1,µV"], binary)
    text = Path(path).read_bytes().replace(b"Ch1=", b"Ch1 = ").replace(b"Ch2=", b"Ch2  =")
    Path(path).write_bytes(text)
    clear_cache()
    header, _ = check_reader(
        MneReader, path, expected_labels=expected.labels,
        reference_uv=_expected(values, [1, 1, 1], ["µV"] * 3), atol=1e-3,
    )  # fmt: skip
    assert header.warnings == expected.warnings


@pytest.mark.parametrize("spelt", ["ansi", "Ansi", " ansi "])
def test_a_marker_file_s_ansi_code_page_in_any_case_is_windows_1252(
    tmp_path: Path, spelt: str
) -> None:
    """MNE knows the code page BrainVision calls ``ANSI`` by that spelling alone (``ansi``:
    ``unknown encoding``); eegprep refused the file as naming no encoding."""
    values = _values("INT_16")
    path = _write(
        tmp_path, ["Fp1,,1,µV", "Cz,,1,µV", "O1,,1,µV"], _binary(values, "INT_16", "MULTIPLEXED"),
        markers=[FIRST, "Mk2=Comment,Reiz \xfc,5,1,0"],
    )  # fmt: skip
    marks = tmp_path / "rec.vmrk"
    text = marks.read_bytes().replace(b"Codepage=UTF-8", f"Codepage={spelt}".encode())
    marks.write_bytes(text.replace("ü".encode(), "ü".encode("cp1252")))
    assert _events(path) == [(4, 1, "Comment/Reiz ü")]


@pytest.mark.parametrize("which", ["rec.vhdr", "rec.vmrk"])
def test_a_wide_code_page_named_for_8_bit_text_is_one_line(tmp_path: Path, which: str) -> None:
    """``Codepage=UTF-16`` over 8-bit text: MNE decoded every two bytes as one character (a
    header of nonsense, a marker file of no markers, or Latin-1 where the length was odd)."""
    values = _values("INT_16")
    path = _write(
        tmp_path, ["Fp1,,1,µV", "Cz,,1,µV", "O1,,1,µV"], _binary(values, "INT_16", "MULTIPLEXED"),
        common=["Codepage=UTF-8"],
    )  # fmt: skip
    target = tmp_path / which
    target.write_bytes(target.read_bytes().replace(b"Codepage=UTF-8", b"Codepage=UTF-16"))
    check_source_error(
        MneReader, path, r"gives Codepage='UTF-16', an encoding of other than 8-bit text"
    )


def test_a_header_ended_by_ctrl_z_is_read(tmp_path: Path) -> None:
    """A DOS end-of-file mark (Ctrl-Z, as ``copy /a`` appends it): MNE's parser refused the
    header ("line 23 ('\\x1a') is not a key=value line")."""
    values = _values("INT_16")
    path = _write(
        tmp_path, ["Fp1,,0.5,µV", "Cz,,1,µV", "O1,,2,µV"], _binary(values, "INT_16", "MULTIPLEXED")
    )
    for name in ("rec.vhdr", "rec.vmrk"):
        (tmp_path / name).write_bytes((tmp_path / name).read_bytes() + b"\x1a")
    check_reader(
        MneReader, path, expected_labels=LABELS,
        reference_uv=_expected(values, [0.5, 1, 2], ["µV"] * 3), atol=1e-3,
    )  # fmt: skip


def _long_text(folder: Path, n_times: int) -> tuple[str, np.ndarray]:
    """A line a channel of ``n_times`` values each (a name column first), and the values."""
    values = np.round(np.random.default_rng(8).uniform(-99, 99, (len(LABELS), n_times)), 3)
    rows = [f"{LABELS[i]} " + " ".join(f"{v:.3f}" for v in row) for i, row in enumerate(values)]
    path = _write(
        folder, ["Fp1,,,µV", "Cz,,,µV", "O1,,,µV"], "\r\n".join(rows) + "\r\n", fmt="ASCII",
        orientation="VECTORIZED", ascii_infos=["SkipColumns=1"],
    )  # fmt: skip
    return path, values


@pytest.mark.slow
def test_a_long_text_file_is_read_in_blocks_not_whole(tmp_path: Path) -> None:
    """A line a channel: a header and a segment of a file 4x as long take about the same
    memory (the 1,800,000 values more would be 14 MB as float64, over 40 MB as Python floats),
    and the segment holds the values written."""
    from tests import peak_memory

    grown = []
    for n_times in (200_000, 800_000):
        path, values = _long_text(tmp_path / str(n_times), n_times)
        MneReader.read_segment(MneReader.read_header(path), [0], 0, 1)  # (MNE imported first)
        clear_cache()
        before = peak_memory.start()
        header = MneReader.read_header(path)
        segment = MneReader.read_segment(header, [2, 0], n_times // 2, n_times // 2 + 10_000)
        grown.append(peak_memory.peak() - before)
        assert header.signals[0].n_samples == n_times
        window = values[[2, 0], n_times // 2 : n_times // 2 + 10_000]
        np.testing.assert_allclose(segment, window, atol=1e-4)
    assert grown[1] - grown[0] < 7 * 2**20, f"{grown[1] / 2**20:.1f} MiB held to read it"
