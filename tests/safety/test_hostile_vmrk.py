"""Damaged BrainVision marker files (``.vmrk``) give one line naming the marker file, or are
read as MNE reads sound ones.

MNE failed on them in its own or Python's words (``not enough values to unpack``, ``invalid
literal for int()``, ``'utf-8' codec can't decode byte``, ``unconverted data remains``, ``day
is out of range for month``, ``int too large to convert to float``, ``unknown encoding``),
could not open a sound ANSI file with a non-ASCII description or one named ``.VMRK``, read a
decimal comma as another size, and gave a file of 20,000 long descriptions as many GB. Now
:mod:`eegprep.readers.vmrk` reads them first.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from eegprep.base.errors import SourceError
from eegprep.base.limits import Limits, activated
from eegprep.readers.mne_formats import MneReader, clear_cache

SOUND = [
    "Mk1=New Segment,,1,1,0,20240102030405000000",
    "Mk2=Stimulus,S  1,101,1,0",
    "Mk3=Stimulus,S  2,901,1,0",
]
HEAD = [
    "Brain Vision Data Exchange Marker File, Version 1.0",
    "[Common Infos]",
    "Codepage=UTF-8",
    "DataFile=r.eeg",
    "[Marker Infos]",
]


def _recording(folder: Path, marks: list[str], head: list[str] = HEAD) -> Path:
    """A 4-channel, 250 Hz, 10 s BrainVision recording whose marker file holds ``marks``."""
    from pybv import write_brainvision

    x = np.random.default_rng(0).normal(0, 20e-6, (4, 2500))
    write_brainvision(data=x, sfreq=250.0, ch_names=["Fp1", "Fp2", "Cz", "Oz"], fname_base="r",
                      folder_out=str(folder), unit="µV", overwrite=True)  # fmt: skip
    (folder / "r.vmrk").write_text("\n".join([*head, *marks]) + "\n", encoding="utf-8")
    clear_cache()
    return folder / "r.vhdr"


def _refused(vhdr: Path) -> str:
    with pytest.raises(SourceError) as info:
        MneReader.read_header(str(vhdr))
    line = str(info.value)
    assert "\n" not in line and line.startswith(f"{vhdr}: "), line
    assert "its marker file r.vmrk" in line, line
    assert "MNE" not in line, line
    return line


@pytest.mark.parametrize(
    ("mark", "said"),
    [
        ("Mk2=Stimulus,S  1,abc,1,0", r"line 7 .*its position 'abc' is not a sample"),
        ("Mk2=Stimulus,S  1,10.5,1,0", r"its position '10.5' is not a sample"),
        ("Mk2=Stimulus,S  1,1\x000,1,0", r"its position '1\\x000' is not a sample"),
        ("Mk2=Stimulus,S  1,-50,1,0", r"its position '-50' is not a sample"),
        ("Mk2=Stimulus,S  1,0,1,0", r"its position '0' is not a sample .*counts samples from 1"),
        ("Mk2=Stimulus,S  1,1_01,1,0", r"its position '1_01' is not a sample"),
        ("Mk2=Stimulus,S  1," + "9" * 400 + ",1,0", r"its position '9{30}' is not a sample"),
        ("Mk2=Stimulus,S  1,101,\u00b2,0", r"its size '\u00b2' is not a whole number"),
        ("Mk2=Stimulus,S  1,101,-1,0", r"its size '-1' is not a whole number"),
        ("Mk2=Stimulus,S  1,101,1,5,0", r"its date '0' is no date .*a decimal comma"),
        ("Mk2=Stimulus,S  1,101,1,0,0,1", r"it has 7 fields.*not written as \\1"),
        ("Mk2=Comment,a", r"it has 2 fields.*a line cut short"),
        ("Mk2=Stimulus,S  1,101,1,9", r"its channel '9' is not a channel of the header .*1 to 4"),
        ("Mk3=Stimulus,S  1,101,1,0", r"line 8 .*marker Mk3 is given again \(first on line 7\)"),
    ],
)
def test_a_damaged_marker_line_is_named(tmp_path: Path, mark: str, said: str) -> None:
    line = _refused(_recording(tmp_path, [SOUND[0], mark, SOUND[2]]))
    assert line.endswith("the marker file is damaged: correct or remove that line"), line
    assert re.search(said, line), line


@pytest.mark.parametrize("codepage", ["XYZ", "hex", "rot13", "utf-8\x00"])
def test_a_codepage_that_is_no_text_encoding_is_named(tmp_path: Path, codepage: str) -> None:
    head = [h.replace("UTF-8", codepage) for h in HEAD]
    line = _refused(_recording(tmp_path, [*SOUND, "Mk4=Stimulus,S µ,5,1,0"], head))
    assert "which names no text encoding" in line, line


@pytest.mark.parametrize(
    ("encoding", "codepage"),
    [("cp1252", "ANSI"), ("latin-1", "ANSI"), ("cp1252", "UTF-8"), ("utf-8-sig", "UTF-8")],
)
def test_a_marker_file_in_ansi_is_read(tmp_path: Path, encoding: str, codepage: str) -> None:
    """A sound ANSI (Windows-1252) marker file with a non-ASCII description, its codepage
    named or not (MNE falls back to Latin-1): MNE read its lines in the system's encoding
    first, and failed (``'utf-8' codec can't decode``). UTF-8 with a byte-order mark, read."""
    vhdr = _recording(tmp_path, SOUND)
    text = "\n".join([*HEAD, *SOUND, "Mk4=Stimulus,S µ1,201,1,0"]) + "\n"
    text = text.replace("Codepage=UTF-8", f"Codepage={codepage}")
    (tmp_path / "r.vmrk").write_bytes(text.encode(encoding))
    header = MneReader.read_header(str(vhdr))
    assert [a.description for a in header.annotations] == [
        "Stimulus/S  1", "Stimulus/S µ1", "Stimulus/S  2",
    ]  # fmt: skip
    assert [round(a.onset * 250) for a in header.annotations] == [100, 200, 900]
    assert dict(header.meta)["meas_date"] == "2024-01-02T03:04:05"  # BrainVision names no zone
    assert header.warnings == ()


def test_a_marker_file_named_in_capitals_is_read(tmp_path: Path) -> None:
    """``MarkerFile=R.VMRK``: MNE reads markers only from a name ending in ``.vmrk``
    (``OSError: Unknown annotation file format``)."""
    vhdr = _recording(tmp_path, SOUND)
    (tmp_path / "r.vmrk").rename(tmp_path / "R.VMRK")
    vhdr.write_text(vhdr.read_text(encoding="utf-8").replace("r.vmrk", "R.VMRK"), "utf-8")
    header = MneReader.read_header(str(vhdr))
    assert [a.description for a in header.annotations] == ["Stimulus/S  1", "Stimulus/S  2"]


def test_nul_bytes_and_crlf_in_a_sound_marker_file_are_read(tmp_path: Path) -> None:
    vhdr = _recording(tmp_path, [*SOUND, "Mk4=Stimulus,S\x001,201,1,0"])
    vmrk = tmp_path / "r.vmrk"
    vmrk.write_bytes(vmrk.read_bytes().replace(b"\n", b"\r\n"))
    header = MneReader.read_header(str(vhdr))
    assert [a.description for a in header.annotations][1] == "Stimulus/S\x001"


def test_a_marker_file_without_its_section_warns(tmp_path: Path) -> None:
    """No ``[Marker Infos]``: MNE read no markers, without a word."""
    vhdr = _recording(tmp_path, SOUND, [h for h in HEAD if h != "[Marker Infos]"])
    header = MneReader.read_header(str(vhdr))
    assert header.annotations == ()
    assert header.warnings == (
        "its marker file r.vmrk has no [Marker Infos] section: its 3 marker lines were not "
        "read: no events were read (the file is damaged, or not a marker file)",
    )


def test_many_wide_markers_are_refused_before_mne_reads_them(tmp_path: Path) -> None:
    """MNE keeps the descriptions in one array as wide as the widest: 2,000 markers, one of
    them 20,000 characters long, took 160 MB; 10^5 of 1 MB would take 400 GB."""
    wide = [f"Mk{k}=Stimulus,{'x' * (20000 if k == 4 else 3)},{k},1,0" for k in range(4, 2004)]
    vhdr = _recording(tmp_path, [*SOUND, *wide])
    with activated(Limits(memory_bytes=64 * 2**20)):
        line = _refused(vhdr)
    assert "reading the 2,003 markers of its marker file r.vmrk needs" in line, line
    assert line.endswith("if the file is genuine, raise --file-memory-limit"), line


def _ahdr(folder: Path, suffix: str) -> Path:
    """The recording of :func:`_recording` as BrainVision Analyzer exports it: an ``.ahdr``
    header listing 4 channels over data that hold a fifth (which MNE reads and drops)."""
    from pybv import write_brainvision

    x = np.random.default_rng(0).normal(0, 20e-6, (5, 2500))
    names = ["Fp1", "Fp2", "Cz", "Oz", "X"]
    write_brainvision(data=x, sfreq=250.0, ch_names=names, fname_base="r",
                      folder_out=str(folder), unit="µV", overwrite=True)  # fmt: skip
    vhdr = folder / "r.vhdr"
    lines = vhdr.read_text(encoding="utf-8").replace("NumberOfChannels=5", "NumberOfChannels=4")
    ahdr = folder / f"r{suffix}"
    ahdr.write_text("\n".join(v for v in lines.splitlines() if not v.startswith("Ch5=")) + "\n")
    vhdr.unlink()
    clear_cache()
    return ahdr


@pytest.mark.parametrize("marker", ["ansi", "capitals"])
@pytest.mark.parametrize("suffix", [".ahdr", ".AHDR", ".VHDR"])
def test_an_ahdr_or_capital_header_with_an_ansi_or_capital_marker_file_is_read(
    tmp_path: Path, marker: str, suffix: str
) -> None:
    """An ``.ahdr`` header (MNE reads it) was no suffix of the mne reader; a header named in
    capitals (``.AHDR``, ``.VHDR``) MNE refuses by its suffix; their ANSI or ``.VMRK`` marker
    files get the copy a ``.vhdr``'s get."""
    header_path = _ahdr(tmp_path, ".ahdr")
    if suffix == ".VHDR":  # a plain BrainVision header, 4 channels of its own
        header_path = _recording(tmp_path, SOUND)
    header_path = header_path.rename(header_path.with_suffix(suffix))
    vmrk = tmp_path / "r.vmrk"
    text = "\n".join([*HEAD, *SOUND, "Mk4=Stimulus,S µ1,201,1,0"]) + "\n"
    if marker == "ansi":
        vmrk.write_bytes(text.replace("Codepage=UTF-8", "Codepage=ANSI").encode("cp1252"))
    else:
        vmrk.write_text(text, encoding="utf-8")
        vmrk.rename(tmp_path / "R.VMRK")
        head = header_path.read_text(encoding="utf-8")
        header_path.write_text(head.replace("r.vmrk", "R.VMRK"), encoding="utf-8")
    clear_cache()
    header = MneReader.read_header(str(header_path))
    assert header.labels == ["Fp1", "Fp2", "Cz", "Oz"] and header.signals[0].n_samples == 2500
    assert [a.description for a in header.annotations] == [
        "Stimulus/S  1", "Stimulus/S µ1", "Stimulus/S  2",
    ]  # fmt: skip
    x = MneReader.read_segment(header, range(4), 0, 2500)
    assert x.shape == (4, 2500) and np.isfinite(x).all()


@pytest.mark.parametrize("date", ["20240230000000000000", "20241399000000000000"])
def test_a_recording_date_that_is_no_date_is_unknown_with_a_warning(
    tmp_path: Path, date: str
) -> None:
    """MNE stopped on a ``New Segment`` date that is no date (``day is out of range for
    month``) and eegprep refused the whole recording for it, while an EDF's impossible date
    reads as unknown. The samples and markers are read; the start is unknown (``meas_date``
    empty) and a warning names the marker file, its line and the date."""
    sound = MneReader.read_header(str(_recording(tmp_path / "a", SOUND)))
    vhdr = _recording(tmp_path / "b", [f"Mk1=New Segment,,1,1,0,{date}", *SOUND[1:]])
    header = MneReader.read_header(str(vhdr))
    assert dict(header.meta)["meas_date"] == "" != dict(sound.meta)["meas_date"]
    assert header.annotations == sound.annotations
    assert header.warnings == (
        f"its marker file r.vmrk, line 6: the recording date '{date}' is no date "
        "(YYYYMMDDhhmmssuuuuuu): the recording's start is unknown",
    )
