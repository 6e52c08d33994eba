"""BrainVision headers with impossible numbers, and numpy's warnings, give one line per file.

A ``SamplingInterval`` of 0 reached MNE as ``ZeroDivisionError: float division by zero``; a
negative or ``nan`` one, and a channel resolution of 0, ``nan`` or ``inf``, were refused
with MNE's messages or as "non-finite samples" in a file whose samples are finite, after
numpy had printed ``RuntimeWarning: invalid value encountered in multiply`` on the terminal.
Now the header's numbers are checked first and named; and no floating-point warning of numpy
reaches the terminal while a file is ingested (an ``inf`` sample printed two), since every
non-finite result is refused after in one line anyway.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from eegprep.ingestion.driver import IngestConfig, ingest

CHANNELS = ["Fp1", "Fp2", "F3", "F4", "C3", "C4", "P3", "P4", "O1", "O2", "F7", "F8", "T7", "T8"]
CHANNELS += ["P7", "P8", "Fz", "Cz", "Pz"]
MARKERS = (
    "Brain Vision Data Exchange Marker File, Version 1.0\n[Common Infos]\nCodepage=UTF-8\n"
    "DataFile=r.eeg\n[Marker Infos]\nMk1=New Segment,,1,1,0\n"
)


def _vhdr(interval: str = "4000", res: str = "0.1", fmt: str = "INT_16") -> str:
    head = [
        "Brain Vision Data Exchange Header File Version 1.0",
        "[Common Infos]",
        "Codepage=UTF-8",
        "DataFile=r.eeg",
        "MarkerFile=r.vmrk",
        "DataFormat=BINARY",
        "DataOrientation=MULTIPLEXED",
        f"NumberOfChannels={len(CHANNELS)}",
        f"SamplingInterval={interval}",
        "[Binary Infos]",
        f"BinaryFormat={fmt}",
        "[Channel Infos]",
    ]
    chans = [f"Ch{i + 1}={c},,{res if i == 2 else '0.1'},µV" for i, c in enumerate(CHANNELS)]
    coords = [f"Ch{i + 1}=1,0,0" for i in range(len(CHANNELS))]  # zeros here are fine
    return "\n".join([*head, *chans, "[Coordinates]", *coords]) + "\n"


def _ingest(tmp_path: Path, header: str, data: bytes) -> list[str]:
    folder = tmp_path / "src" / "sub1"
    folder.mkdir(parents=True)
    (folder / "r.vhdr").write_text(header, encoding="utf-8")
    (folder / "r.eeg").write_bytes(data)
    (folder / "r.vmrk").write_text(MARKERS)
    cfg = IngestConfig(workers=0, progress=False, mains=50)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # one on the terminal is a failure
        report = ingest("folder", src=tmp_path / "src", out=tmp_path / "s.zarr", config=cfg)
    return report.failed


def _int16(seed: int = 0) -> bytes:
    x = np.random.default_rng(seed).standard_normal((250 * 30, len(CHANNELS))) * 300
    return x.astype("<i2").tobytes()


def test_a_sound_header_with_coordinates_ingests(tmp_path: Path) -> None:
    assert _ingest(tmp_path, _vhdr(), _int16()) == []


@pytest.mark.parametrize("interval", ["0", "-4000", "nan", "inf", "fast"])
def test_an_impossible_sampling_interval_is_named(tmp_path: Path, interval: str) -> None:
    (line,) = _ingest(tmp_path, _vhdr(interval=interval), _int16())
    assert line.startswith("sub1/r.vhdr: ")
    assert f"SamplingInterval={interval!r} in the header: it must be a positive" in line


@pytest.mark.parametrize("res", ["0", "nan", "inf", "-inf"])
def test_an_impossible_resolution_is_named(tmp_path: Path, res: str) -> None:
    (line,) = _ingest(tmp_path, _vhdr(res=res), _int16())
    assert line.startswith("sub1/r.vhdr: channel Ch3 ('F3') has a resolution of")
    assert f"{res!r} in the header" in line


def test_an_infinite_float_sample_is_one_line_and_no_numpy_warning(tmp_path: Path) -> None:
    x = np.random.default_rng(0).standard_normal((250 * 30, len(CHANNELS))).astype("<f4") * 30
    x[0, 3] = np.inf
    (line,) = _ingest(tmp_path, _vhdr(res="1", fmt="IEEE_FLOAT_32"), x.tobytes())
    assert line.startswith("sub1/r.vhdr: non-finite samples (NaN/inf) in channels F4 (first at 0")


def _vectorized(folder: Path, points: int | None, x: np.ndarray) -> Path:
    """A VECTORIZED float32 BrainVision recording of ``x`` (channels, samples) in uV: each
    channel's samples after the previous channel's; ``DataPoints`` as given."""
    head = [
        "Brain Vision Data Exchange Header File Version 1.0",
        "[Common Infos]",
        "Codepage=UTF-8",
        "DataFile=v.eeg",
        "DataFormat=BINARY",
        "DataOrientation=VECTORIZED",
        f"NumberOfChannels={x.shape[0]}",
        "SamplingInterval=4000",
        *([f"DataPoints={points}"] if points is not None else []),
        "[Binary Infos]",
        "BinaryFormat=IEEE_FLOAT_32",
        "[Channel Infos]",
        *[f"Ch{i + 1}={name},,1,µV" for i, name in enumerate(CHANNELS[: x.shape[0]])],
    ]
    (folder / "v.vhdr").write_text("\n".join(head) + "\n", encoding="utf-8")
    (folder / "v.eeg").write_bytes(x.astype("<f4").tobytes())
    return folder / "v.vhdr"


def test_vectorized_data_file_other_than_its_data_points_is_refused(tmp_path: Path) -> None:
    """MNE places a VECTORIZED file's channels by the data file's size, not DataPoints: a file
    cut by one sample per channel read every channel after the first shifted, without a word.
    A size other than DataPoints says is now refused by name; a whole file reads exactly."""
    from eegprep.base.errors import SourceError
    from eegprep.readers.mne_formats import MneReader

    x = np.random.default_rng(0).normal(0, 20, (4, 1000)).astype(np.float32)
    path = _vectorized(tmp_path, 1000, x)
    header = MneReader.read_header(str(path))
    np.testing.assert_allclose(MneReader.read_segment(header, range(4), 0, 1000), x, atol=1e-4)
    for points in (1001, 999, 10**9):
        path = _vectorized(tmp_path, points, x)
        with pytest.raises(SourceError, match=rf"1000 samples per channel .* DataPoints={points}"):
            MneReader.read_header(str(path))
    path = _vectorized(tmp_path, 1000, x)  # a download cut by one sample of every channel
    (tmp_path / "v.eeg").write_bytes(x.astype("<f4").tobytes()[:-16])
    with pytest.raises(SourceError, match=r"999 samples per channel .* DataPoints=1000: .*VECTOR"):
        MneReader.read_header(str(path))


def _multiplexed(folder: Path, points: int | None, x: np.ndarray) -> Path:
    """A MULTIPLEXED float32 BrainVision recording of ``x`` (channels, samples) in uV (one
    sample of every channel after another); ``DataPoints`` as given."""
    path = _vectorized(folder, points, x)
    path.write_text(path.read_text(encoding="utf-8").replace("VECTORIZED", "MULTIPLEXED"))
    (folder / "v.eeg").write_bytes(x.T.astype("<f4").tobytes())
    return path


def test_multiplexed_data_file_other_than_its_data_points_is_refused_or_read_as_counted(
    tmp_path: Path,
) -> None:
    """MNE counts a MULTIPLEXED file's samples from the data file's size and ignores
    DataPoints: a download cut by 200 samples was read as a shorter recording without a word.
    Now a file shorter than DataPoints is refused naming both counts (as a cut EDF is), and a
    longer one is read as DataPoints counts it, with a warning (as a longer EDF is)."""
    from eegprep.base.errors import SourceError
    from eegprep.readers.mne_formats import MneReader, clear_cache

    x = np.random.default_rng(0).normal(0, 20, (4, 1000)).astype(np.float32)
    for points in (1001, 1200, 10**9):
        clear_cache()
        path = _multiplexed(tmp_path, points, x)
        with pytest.raises(
            SourceError, match=rf"v.eeg is truncated: it holds 1000 .* DataPoints={points}: "
        ):
            MneReader.read_header(str(path))
    clear_cache()
    header = MneReader.read_header(str(_multiplexed(tmp_path, 800, x)))
    assert header.signals[0].n_samples == 800 and header.duration == 800 / 250
    (warning,) = header.warnings
    assert "holds 1000 samples per channel, the header says DataPoints=800" in warning
    got = MneReader.read_segment(header, range(4), 0, 800)
    np.testing.assert_allclose(got, x[:, :800], atol=1e-4)
    for points in (1000, None):  # as the header says, or not said: read whole
        clear_cache()
        header = MneReader.read_header(str(_multiplexed(tmp_path, points, x)))
        assert header.signals[0].n_samples == 1000 and header.warnings == ()


def test_a_cut_multiplexed_file_is_one_line_in_the_report(tmp_path: Path) -> None:
    header = _vhdr().replace("SamplingInterval=4000", "SamplingInterval=4000\nDataPoints=7500")
    (line,) = _ingest(tmp_path, header, _int16()[: -2 * len(CHANNELS) * 250])
    assert line == (
        "sub1/r.vhdr: data file r.eeg is truncated: it holds 7250 samples per channel, but the "
        "header says DataPoints=7500: re-download it (or correct DataPoints)"
    )


def _as_ahdr(vhdr: Path, suffix: str) -> Path:
    """``vhdr`` as BrainVision Analyzer exports it: a header named ``suffix`` (``.ahdr``) that
    lists one channel fewer than its data file holds (MNE reads that one and drops it)."""
    lines = vhdr.read_text(encoding="utf-8").splitlines()
    n = next(int(v.split("=")[1]) for v in lines if v.startswith("NumberOfChannels="))
    lines = [f"NumberOfChannels={n - 1}" if v.startswith("NumberOfChannels=") else v
             for v in lines if not v.startswith(f"Ch{n}=")]  # fmt: skip
    vhdr.unlink()
    path = vhdr.with_suffix(suffix)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("suffix", [".ahdr", ".AHDR"])
def test_an_analyzer_export_gets_every_check_of_its_data_file_a_vhdr_gets(
    tmp_path: Path, suffix: str
) -> None:
    """An ``.ahdr`` header is read as a ``.vhdr`` is, but the checks of the data file against
    the header were made for ``.vhdr`` alone: an export cut inside a sample, cut short of its
    DataPoints, or VECTORIZED with another DataPoints was read without a word (channels
    shifted), and a unit MNE does not know (``millivolts``) was left unscaled."""
    from eegprep.base.errors import SourceError
    from eegprep.readers.mne_formats import MneReader, clear_cache

    x = np.random.default_rng(0).normal(0, 20, (5, 1000)).astype(np.float32)
    cases = [
        (lambda: _multiplexed(tmp_path, 1200, x), 0, r"v.eeg is truncated: .* DataPoints=1200"),
        (lambda: _vectorized(tmp_path, 999, x), 0, r"1000 samples per channel .* DataPoints=999"),
        (lambda: _multiplexed(tmp_path, None, x), 6, r"v.eeg ends inside a sample: its 19994 "),
    ]
    for write, cut, message in cases:
        clear_cache()
        path = _as_ahdr(write(), suffix)
        eeg = tmp_path / "v.eeg"
        eeg.write_bytes(eeg.read_bytes()[: eeg.stat().st_size - cut])
        with pytest.raises(SourceError, match=message):
            MneReader.read_header(str(path))
    clear_cache()
    header = MneReader.read_header(str(_as_ahdr(_multiplexed(tmp_path, 800, x), suffix)))
    assert header.signals[0].n_samples == 800 and "DataPoints=800" in header.warnings[0]
    clear_cache()
    path = _as_ahdr(_multiplexed(tmp_path, None, x), suffix)
    path.write_text(path.read_text(encoding="utf-8").replace(",,1,µV", ",,0.001,millivolts", 1))
    header = MneReader.read_header(str(path))
    assert header.labels == CHANNELS[:4]
    got = MneReader.read_segment(header, range(4), 0, 1000)
    np.testing.assert_allclose(got[0], x[0], rtol=1e-5)  # 0.001 mV a step
    np.testing.assert_allclose(got[1:], x[1:4], atol=1e-4)


def _eeglab_with_late_event(folder: Path, x: np.ndarray) -> Path:
    """An EEGLAB .set (eeglabio) of ``x`` (channels, samples at 250 Hz, uV) with an event at
    1 s and one after the last sample."""
    from eeglabio.raw import export_set

    path = folder / "e.set"
    n = x.shape[1]
    events = [np.array(["a", "late"]), np.array([1.0, n / 250 + 2.0]), np.array([0.0, 0.0])]
    export_set(str(path), x * 1e-6, 250.0, CHANNELS[: x.shape[0]], annotations=events)
    return path


def test_events_past_the_last_sample_are_named_for_every_format_mne_reads(
    tmp_path: Path,
) -> None:
    """MNE drops the events of a file that lie after its last sample and says so only on the
    terminal; a marker past the end is what a samples file cut short looks like. Now the
    header's warnings say it (the ingest report lists them), for every format MNE opens."""
    from eegprep.readers.mne_formats import MneReader

    x = np.random.default_rng(0).normal(0, 20, (4, 1000)).astype(np.float32)
    vhdr = _multiplexed(tmp_path, None, x)
    text = vhdr.read_text(encoding="utf-8").replace(
        "DataFile=v.eeg", "DataFile=v.eeg\nMarkerFile=v.vmrk"
    )
    vhdr.write_text(text, encoding="utf-8")
    marks = (
        MARKERS.replace("r.eeg", "v.eeg")
        + "Mk2=Stimulus,S  1,200,1,0\nMk3=Stimulus,S  2,1400,1,0\n"
    )
    (tmp_path / "v.vmrk").write_text(marks, encoding="utf-8")
    for path in (vhdr, _eeglab_with_late_event(tmp_path, x)):
        header = MneReader.read_header(str(path))
        (warning,) = header.warnings
        assert warning.startswith("the file's samples span 0-4 s; 1 event of the file lies ")
        assert "its samples are cut short" in warning
        assert len(header.annotations) == 1  # the one inside


def _with_line(old: str, new: str) -> str:
    """The sound header with its line ``old`` written ``new`` (``""``: left out)."""
    header = _vhdr()
    assert old in header
    return header.replace(old + "\n", new + "\n" if new else "")


CH3 = "Ch3=F3,,0.1,µV"
COORD1 = "[Coordinates]\nCh1=1,0,0"


@pytest.mark.parametrize(
    ("old", "new", "said"),
    [
        (CH3, "Ch3=F3", r"channel Ch3 is written 'F3' in \[Channel Infos\]: BrainVision needs"),
        (CH3, "Ch3=F3 ref 0.1 uV", r"'F3 ref 0.1 uV' .*: its fields are separated by spaces"),
        (CH3, "Ch3=F3,", r"channel Ch3 is written 'F3,' .*<name>,<reference>,<resolution>"),
        (CH3, "Ch3=F3,,0,1,µV", r"'F3'\) has a resolution written with a decimal comma \(0,1\)"),
        (CH3, "Ch3=F3,,1,5,µV", r"decimal comma \(1,5\): .*write 1\.5"),
        (CH3, "Ch3=F3,,0.1,5", r"has the unit '5' in \[Channel Infos\], a number"),
        (CH3, "Ch3=F3,,abc,µV", r"has a resolution of 'abc' in the header, not a number"),
        (CH3, "Ch3=F3,,1e308,µV", r"resolution of '1e308' µV: its stored values would overflow"),
        (CH3, f"{CH3}\nCh3=F3b,,0.1,µV", r"Ch3= appears twice in \[Channel Infos\] \(again on"),
        ("Ch4=F4,,0.1,µV", "Ch0=F4,,0.1,µV", r"lists Ch0=: channels are numbered from Ch1"),
        ("Ch4=F4,,0.1,µV", "Ch04=F4,,0.1,µV\nCh4=F4,,0.1,µV", r"lists channel 4 twice"),
        ("Ch4=F4,,0.1,µV", "", r"claims NumberOfChannels=19 but lists 18 channel"),
        ("Ch4=F4,,0.1,µV", "Ch4=F4,,0.1,µV\n  junk", r"Ch4= in \[Channel Infos\] runs over"),
        ("[Channel Infos]", "[Channel Infos]\nthis is junk", r"line 13 \('this is junk'\) is not"),
        ("Ch2=Fp2,,0.1,µV", "Ch2=Fp2,,0.1,µV\nFoo=1", r"has a key 'foo', not Ch<number>="),
        (COORD1, "[Coordinates]\nCh1=1,0", r"gives Ch1='1,0', not <radius>,<theta>,<phi>"),
        (COORD1, "[Coordinates]\nCh1=a,b,c", r"gives Ch1='a,b,c', not <radius>,<theta>,<phi>"),
        (COORD1, f"{COORD1}\nCh99=1,0,0", r"\[Coordinates\] lists Ch99=, which \[Channel Infos"),
        (COORD1, f"{COORD1}\nCh1=1,0,0", r"Ch1= appears twice in \[Coordinates\]"),
        ("DataOrientation=MULTIPLEXED", "", r"gives no DataOrientation= in \[Common Infos\]"),
        ("DataOrientation=MULTIPLEXED", "DataOrientation=ROWS", r"DataOrientation='ROWS'"),
        ("DataFormat=BINARY", "DataFormat=XML", r"DataFormat='XML' in the header: .*BINARY or"),
        (
            "DataFormat=BINARY",
            "DataFormat=ASCII",
            r"data file r\.eeg, line \d+: it holds bytes that are no text",
        ),
        ("BinaryFormat=INT_16", "BinaryFormat=INT_8", r"BinaryFormat='INT_8' in \[Binary"),
        ("BinaryFormat=INT_16", "BinaryFormat=INT_16\nUseBigEndianOrder=YES", r"byte-swapped"),
        ("SamplingInterval=4000", "", r"gives no SamplingInterval= in \[Common Infos\]"),
        ("SamplingInterval=4000", "SamplingInterval=1e308", r"a rate of 1e-302 Hz, one sample"),
        ("SamplingInterval=4000", "SamplingInterval=4000\nSamplingInterval=2000", r"twice"),
        ("SamplingInterval=4000", "SamplingInterval=4000\nDataPoints=-5", r"DataPoints='-5'"),
        ("DataFile=r.eeg", "DataFile=", r"gives an empty DataFile= in \[Common Infos\]"),
        ("Codepage=UTF-8", "Codepage=XYZ", r"Codepage='XYZ' in the header names no text"),
        ("[Common Infos]", "", r"line 2 \('Codepage=UTF-8'\) comes before any \[section\]"),
        ("[Channel Infos]", "", r"line 12 \('Ch1=Fp1,,0.1,µV'\) is not|no \[Channel Infos\]"),
    ],
)
def test_a_malformed_header_line_is_named_not_passed_from_mne(
    tmp_path: Path, old: str, new: str, said: str
) -> None:
    """Forms of [Common Infos], [Channel Infos] and [Coordinates] MNE failed on in its own
    words (`ValueError: not enough values to unpack (expected 4, got 2)`, `DuplicateOptionError`,
    `KeyError: 'ch99'`, `could not convert string to float`, `NoOptionError`, `LookupError`), or
    read wrongly without a word (a decimal comma read as resolution 1 and unit '5', big-endian
    samples read byte-swapped, Ch0 written over the last channel): one line naming the field."""
    import re

    (line,) = _ingest(tmp_path, _with_line(old, new), _int16())
    assert line.startswith("sub1/r.vhdr: ") and "\n" not in line, line
    assert "MNE cannot" not in line and "Error" not in line, line
    assert re.search(said, line), line


@pytest.mark.parametrize(
    ("field", "step_uv"),
    [
        ("Ch3=F3,,,µV", 1.0),  # an empty resolution is 1 (the spec, as MNE reads it)
        ("Ch3=F3,,,", 1.0),  # and an empty unit microvolts
        ("Ch3=F3,,0.1", 0.1),  # no unit field at all: microvolts
        ("Ch3=F3,,0.1,uV", 0.1),
        ("Ch3=F3,,0.1,\u03bcV", 0.1),  # Greek mu (U+03BC), not the micro sign (U+00B5)
        ("Ch3=F3,,0.1,mV", 100.0),
        ("Ch3=F3,,100,nV", 0.1),
        ("Ch3=F3,,0.1,microvolts", 0.1),
        ("Ch3=F3,,-0.1,µV", -0.1),  # a negative resolution: the polarity as the header gives it
    ],
)
def test_empty_and_spelt_resolutions_and_units_read_as_the_spec_says(
    tmp_path: Path, field: str, step_uv: float
) -> None:
    """Each spelling of a channel's resolution and unit gives one ADC step in microvolts."""
    from eegprep.readers.mne_formats import MneReader, clear_cache

    folder = tmp_path / "r"
    folder.mkdir()
    (folder / "r.vhdr").write_text(_with_line(CH3, field), encoding="utf-8")
    (folder / "r.eeg").write_bytes(_int16())
    (folder / "r.vmrk").write_text(MARKERS)
    clear_cache()
    header = MneReader.read_header(str(folder / "r.vhdr"))
    assert header.signals[2].label == "F3"
    got = MneReader.read_segment(header, [2], 0, 100)[0]
    codes = np.frombuffer(_int16(), "<i2").reshape(-1, len(CHANNELS))[:100, 2]
    np.testing.assert_allclose(got, codes * step_uv, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    ("line", "said"),
    [
        ("DataType=FREQUENCYDOMAIN", r"DataType='FREQUENCYDOMAIN' in the header: .*a spectrum"),
        ("DataType=TIMEFREQUENCYDOMAIN", r"DataType='TIMEFREQUENCYDOMAIN' in the header"),
        ("DataType=TIMEDOMAIN_COMPLEX", r"TIMEDOMAIN_COMPLEX' .*complex values"),
        ("SegmentationType=MARKERBASED\nSegmentDataPoints=250", r"MARKERBASED' .*segments"),
        ("SegmentationType=FIXTIME", r"SegmentationType='FIXTIME' in the header: .*segments"),
        ("Averaged=YES\nAveragedSegments=40", r"Averaged='YES' in the header: .*an average"),
        ("DataType=TIMEDOMAIN\nSegmentationType=NOTSEGMENTED\nAveraged=NO", None),
        ("datatype=timedomain\nsegmentationtype=notsegmented", None),
    ],
)
def test_an_analyzer_export_that_is_no_continuous_recording_is_refused(
    tmp_path: Path, line: str, said: str | None
) -> None:
    """BrainVision Analyzer exports segments (epochs), averages and spectra in the same format;
    MNE reads none of the [Common Infos] keys that say so, and the file was stored as one
    continuous recording (segments joined end to end, or frequency bins read as samples)."""
    import re

    header = _with_line("SamplingInterval=4000", f"SamplingInterval=4000\n{line}")
    failed = _ingest(tmp_path, header, _int16())
    if said is None:
        assert failed == []
        return
    (got,) = failed
    assert got.startswith("sub1/r.vhdr: ") and "\n" not in got, got
    assert re.search(said, got) and "eegprep ingests continuous recordings" in got, got


@pytest.mark.parametrize("time", ["25:61:61", "12:30", "noon", "12.30.00", ""])
def test_an_impedance_time_mne_cannot_read_does_not_refuse_the_file(
    tmp_path: Path, time: str
) -> None:
    """MNE sets the time of an impedance heading in the comment on the recording date (the
    marker file's ``New Segment`` date) and stopped the whole file on one it cannot read
    (``hour must be in 0..23``, ``list index out of range``), in its own words. Impedances are
    not kept: the file ingests, with the recording date as the marker file states it."""
    from eegprep.readers.mne_formats import MneReader, clear_cache

    folder = tmp_path / "src" / "sub1"
    folder.mkdir(parents=True)
    comment = f"[Comment]\nImpedance [kOhm] at {time} :\nFp1:          5\nFp2:          7\n"
    (folder / "r.vhdr").write_text(_vhdr() + comment, encoding="utf-8")
    (folder / "r.eeg").write_bytes(_int16())
    dated = MARKERS.replace("Mk1=New Segment,,1,1,0", "Mk1=New Segment,,1,1,0,20200102030405000000")
    (folder / "r.vmrk").write_text(dated)
    clear_cache()
    header = MneReader.read_header(str(folder / "r.vhdr"))
    assert header.meta_dict()["meas_date"] == "2020-01-02T03:04:05"
    cfg = IngestConfig(workers=0, progress=False, mains=50)
    report = ingest("folder", src=tmp_path / "src", out=tmp_path / "s.zarr", config=cfg)
    assert report.failed == [] and report.n_ingested == 1


def _text_export(codes: np.ndarray) -> tuple[str, bytes]:
    """``codes`` (samples, channels) as BrainVision Analyzer's Generic Data Export writes text:
    a line a channel, its name first, decimal commas, no [ASCII Infos] beyond DecimalSymbol."""
    header = _vhdr().replace("DataFormat=BINARY", "DataFormat=ASCII")
    header = header.replace("DataOrientation=MULTIPLEXED", "DataOrientation=VECTORIZED")
    header = header.replace("[Binary Infos]\nBinaryFormat=INT_16", "[ASCII Infos]\nDecimalSymbol=,")
    lines = [
        f"{name}\t" + "\t".join(f"{0.1 * c:.1f}".replace(".", ",") for c in codes[:, i])
        for i, name in enumerate(CHANNELS)
    ]
    header = header.replace(",,0.1,µV", ",,,µV")  # (values in microvolts: resolution 1)
    return header, ("\r\n".join(lines) + "\r\n").encode()


def test_a_vectorized_text_export_ingests_as_its_binary_twin(tmp_path: Path) -> None:
    """The same recording exported as INT_16 codes of 0.1 uV and as text (a line a channel,
    its name first, decimal commas): both ingest, to the same samples (within the store's
    quantization, finer for codes of a known step than for values: ~0.006 uV). The text
    export was refused ("ASCII data in VECTORIZED order, which MNE does not read")."""
    from eegprep import open_store

    raw = _int16(3)
    assert _ingest(tmp_path / "binary", _vhdr(), raw) == []
    codes = np.frombuffer(raw, "<i2").reshape(-1, len(CHANNELS))
    assert _ingest(tmp_path / "text", *_text_export(codes)) == []
    binary = open_store(tmp_path / "binary" / "s.zarr").read("folder/sub1_r")
    text = open_store(tmp_path / "text" / "s.zarr").read("folder/sub1_r")
    np.testing.assert_allclose(np.asarray(text), np.asarray(binary), atol=0.02)
