"""BrainVision headers as BrainVision Recorder writes them: a ``[Comment]`` section holding the
amplifier's channel table (and a software filter table), which MNE reads filters from after
asserting that row i holds channel i's name. A header whose channels were renamed after the
recording, or whose labels repeat, or whose table is short, is read all the same."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from eegprep.readers.mne_formats import MneReader, clear_cache
from eegprep.readers.vhdr_comment import unread_tables, without_comment
from tests.eegprep.reader_checks import check_reader

RESOLUTION = 0.1  # uV per code


def _table(rows: list[str], *, software: bool) -> str:
    """Recorder's comment: the amplifier set-up, one row per name of ``rows``."""
    head = (
        "#     Name      Phys. Chn.    Resolution / Unit   Low Cutoff [s]   High Cutoff [Hz]"
        "   Notch [Hz]"
    )
    lines = ["[Comment]", "", "A m p l i f i e r  S e t u p", "=" * 28,
             f"Number of channels: {len(rows)}", "Sampling Rate [Hz]: 250", "",
             "Channels", "--------", head]  # fmt: skip
    for i, row in enumerate(rows, 1):
        lines.append(f"{i}     {row:<10}  {i}     0.1 µV     10     70     Off")
    lines += ["", "S o f t w a r e  F i l t e r s", "=" * 30]
    if software:
        lines += ["#     Low Cutoff [s]   High Cutoff [Hz]   Notch [Hz]"]
        lines += [f"{i}      10               40                 50" for i in range(1, 5)]
    else:
        lines += ["Disabled"]
    return "\r\n".join(lines) + "\r\n"


def _recording(folder: Path, names: list[str], rows: list[str], *, software: bool) -> np.ndarray:
    """``rec.vhdr/.vmrk/.eeg`` as Recorder writes them (UTF-8, CRLF, INT_16), 4 channels x 500
    samples at 250 Hz; the samples in uV."""
    codes = np.random.default_rng(5).integers(-3000, 3000, (4, 500)).astype("<i2")
    codes.T.tofile(folder / "rec.eeg")  # MULTIPLEXED: each sample's channels in turn
    header = [
        "Brain Vision Data Exchange Header File Version 1.0",
        "; Data created by the Vision Recorder", "", "[Common Infos]", "Codepage=UTF-8",
        "DataFile=rec.eeg", "MarkerFile=rec.vmrk", "DataFormat=BINARY",
        "DataOrientation=MULTIPLEXED", "NumberOfChannels=4", "SamplingInterval=4000", "",
        "[Binary Infos]", "BinaryFormat=INT_16", "", "[Channel Infos]",
        *(f"Ch{i}={n},,{RESOLUTION},µV" for i, n in enumerate(names, 1)), "",
    ]  # fmt: skip
    text = "\r\n".join(header) + "\r\n" + _table(rows, software=software)
    (folder / "rec.vhdr").write_bytes(text.encode("utf-8"))
    markers = [
        "Brain Vision Data Exchange Marker File, Version 1.0", "", "[Common Infos]",
        "Codepage=UTF-8", "DataFile=rec.eeg", "", "[Marker Infos]",
        "Mk1=New Segment,,1,1,0,20210304101112000000", "Mk2=Stimulus,S  1,251,1,0",
    ]  # fmt: skip
    (folder / "rec.vmrk").write_bytes(("\r\n".join(markers) + "\r\n").encode("utf-8"))
    clear_cache()
    return codes.astype(float) * RESOLUTION


SITES = ["Fp1", "Fp2", "C3", "Cz"]
CASES = {
    "renamed after the recording": (["EEG Fp1", "EEG Fp2", "EEG C3", "EEG Cz"], SITES),
    "numbered when recorded": (SITES, ["1", "2", "3", "4"]),
    "a label repeated": (["Fp1", "Fp1", "C3", "Cz"], ["Fp1", "Fp1", "C3", "Cz"]),
    "a short table": (SITES, SITES[:2]),
}


@pytest.mark.parametrize("software", [False, True], ids=["hardware", "software filters"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_a_channel_table_that_names_other_channels_is_no_bar(
    tmp_path: Path, case: str, software: bool
) -> None:
    """Refused whole before, as `MNE cannot read this BrainVision file: AssertionError: no
    message`; the comment is free text, no part of the samples."""
    names, rows = CASES[case]
    uv = _recording(tmp_path, names, rows, software=software)
    header, _ = check_reader(
        MneReader, str(tmp_path / "rec.vhdr"), expected_labels=names, expected_sfreq=250.0,
        expected_n_samples=500, reference_uv=uv, atol=1e-4,
    )  # fmt: skip
    assert [(a.onset, a.description) for a in header.annotations] == [(1.0, "Stimulus/S  1")]
    assert header.meta_dict()["meas_date"] == "2021-03-04T10:11:12"


@pytest.mark.parametrize("software", [False, True], ids=["hardware", "software filters"])
def test_a_channel_table_that_names_the_channels_is_read_by_mne_as_ever(
    tmp_path: Path, software: bool
) -> None:
    """The header MNE can read is given to it as it is: its filters from the table (the
    software filters' where on)."""
    _recording(tmp_path, SITES, SITES, software=software)
    assert not unread_tables((tmp_path / "rec.vhdr").read_text("utf-8").splitlines())
    header = MneReader.read_header(str(tmp_path / "rec.vhdr"))
    assert header.meta_dict()["lowpass"] == ("40" if software else "70")


def test_a_software_filter_table_without_a_channel_table_is_left_unread() -> None:
    """MNE reads the software filter table only beside the channel table (it asserts one)."""
    lines = [
        "[Channel Infos]", "Ch1=Fp1,,0.1,µV", "[Comment]", "S o f t w a r e  F i l t e r s",
        "#     Low Cutoff [s]   High Cutoff [Hz]   Notch [Hz]", "1      10     40     50",
    ]  # fmt: skip
    assert unread_tables(lines)
    assert unread_tables(lines[:3]) is False


def test_the_comment_is_all_that_follows_its_heading_as_mne_reads_it() -> None:
    """MNE takes every line after ``[Comment]`` as comment, a later ``[...]`` line included
    (free text there, a ``[Coordinates]`` MNE never read): the header given in its place ends
    where MNE's fields end, not at the next bracketed line."""
    lines = [
        "[Channel Infos]", "Ch1=Fp1,,0.1,µV", "", "[Comment]", "Channels", "#     Name",
        "1     Cz", "[Coordinates]", "Ch1=1,0,0", "[my notes]", "free text",
    ]  # fmt: skip
    assert unread_tables(lines)
    assert without_comment(lines) == ["[Channel Infos]", "Ch1=Fp1,,0.1,µV", "", ""]
