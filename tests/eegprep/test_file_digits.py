"""Numbers in files and names are ASCII digits alone, at every place eegprep and labram read one.

Python's ``\\d`` matches every script's digits in a ``str`` pattern, and ``int`` and ``float``
read them: a seizure list's ``١٩.٣٩.٣٣`` (Arabic-Indic) or a marker file's ``１５０``
(full-width) were read as 19.39.33 and 150, where no format, and no writer, means them as
numbers. Each case writes a file in its real layout holding such digits where a number is read
and checks the one-line refusal naming the file and the field (or, where a name is meant, that
the name is taken as text)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from eegprep.base.errors import SourceError
from eegprep.readers.base import Header, Signal
from eegprep.testing.fixtures.physionet import SIENA_LISTS
from eegprep.testing.fixtures.tuh import lbl_v1
from tests.eegprep.test_event_times_differential import (
    LABELS,
    _brainvision,
    _set,
    _stored,
)

ARABIC_3 = "\u0663"  # ARABIC-INDIC DIGIT THREE
WIDE = str.maketrans("0123456789", "０１２３４５６７８９")  # full-width digits


def _header(path: Path, part: str | None = None) -> Header:
    signal = Signal("Fp1", 100.0, 6000, "uV", 1.0)
    return Header(path=str(path), reader="edf", signals=(signal,), duration=60.0, part=part)


def _parse(parser: str, sidecar: Path, header: Header, options: dict[str, Any]) -> Any:
    from eegprep.corpus.sidecars import load_parsers

    return load_parsers()[parser]([str(sidecar)], header, options)


def _siena(tmp: Path) -> None:
    from eegprep.corpus.sidecars.physionet import read_seizure_list

    path = tmp / "Seizures-list-PN00.txt"
    text = SIENA_LISTS["PN00"].replace("Registration start time: 19.39.33", "Registration start "
                                       f"time: 19.{ARABIC_3}9.33")  # fmt: skip
    path.write_text(text, encoding="utf-8")
    read_seizure_list(str(path))


def _eegmmidb(tmp: Path) -> None:
    _parse("eegmmidb_runs", tmp / "none", _header(tmp / f"S001R0{ARABIC_3}.edf"), {})


def _marker(tmp: Path) -> None:
    path = tmp / "x.bdf.mrk"
    path.write_text("150 1\n" + "300 2\n".translate(WIDE), encoding="utf-8")
    _parse("marker_file", path, _header(tmp / "x.bdf"), {})


def _conductor(tmp: Path) -> None:
    from eegprep.corpus.sidecars.misc import conductor_events

    path = tmp / "conductor.txt"
    path.write_text(f"Time\tEvent\n10.5\tstart\n1{ARABIC_3}.5\tstop\n", encoding="utf-8")
    conductor_events(str(path), 0.0, 60.0)


def _tuh_csv(tmp: Path) -> None:
    path = tmp / "aaaaaaac_s001_t000.csv_bi"
    path.write_text(
        "# version = csv_v1.0.0\n# bname = aaaaaaac_s001_t000\n"
        f"# duration = 6{ARABIC_3}.00 secs\n#\nchannel,start_time,stop_time,label,confidence\n"
        "TERM,0.0000,60.0000,bckg,1.0000\n",
        encoding="utf-8",
    )
    _parse("tuh_csv", path, _header(tmp / "aaaaaaac_s001_t000.edf"), {})


def _lbl(tmp: Path) -> None:
    path = tmp / "00000077_s003_t000.lbl"
    text = lbl_v1([(0, 0.0, 60.0, "bckg")]).replace("montage = 1,", f"montage = {ARABIC_3},")
    path.write_text(text, encoding="utf-8")
    from eegprep.corpus.sidecars.tuh_lbl import read_lbl

    read_lbl(str(path))


def _seed(tmp: Path) -> None:
    header = _header(tmp / "1_20131027.mat", part=f"djc_eeg1{ARABIC_3}")
    _parse("trial_labels", tmp / "none", header, {"name": "emotion", "labels": [1] * 15})


def _seed_bound(tmp: Path) -> None:
    options = {"name": "emotion", "labels": [1, 0], "starts": [0, f"1{ARABIC_3}"], "ends": [5, 20]}
    _parse("trial_labels", tmp / "none", _header(tmp / "1_20131027.mat"), options)


def _vmrk(tmp: Path) -> None:
    from eegprep.readers.vmrk import read_vmrk

    vhdr = _brainvision(tmp / "r.vhdr", ["Stimulus,S  1,600,1,0", "Stimulus,S  2,700,1,0"])
    vmrk = vhdr.with_suffix(".vmrk")
    vmrk.write_text(vmrk.read_text(encoding="utf-8").replace("Mk2=", f"Mk{ARABIC_3}="), "utf-8")
    read_vmrk(str(vhdr), str(vmrk), n_channels=len(LABELS))


def _vhdr(key: str, written: str) -> Any:
    def write(tmp: Path) -> None:
        from eegprep.readers.vhdr import read_vhdr

        vhdr = _brainvision(tmp / "r.vhdr", ["Stimulus,S  1,600,1,0"])
        text = vhdr.read_bytes().decode("utf-8")
        start = text.index(key)
        end = text.index("\r\n", start)
        vhdr.write_bytes((text[:start] + written + text[end:]).encode("utf-8"))
        read_vhdr(str(vhdr))

    return write


def _coordinates(tmp: Path) -> None:
    from eegprep.readers.vhdr import read_vhdr

    vhdr = _brainvision(tmp / "r.vhdr", ["Stimulus,S  1,600,1,0"])
    rows = "".join(f"Ch{k}=1,{k * 30},90\r\n" for k in range(1, len(LABELS) + 1))
    rows = rows.replace("Ch2=1,60", "Ch2=1,６0")
    vhdr.write_bytes(vhdr.read_bytes() + f"[Coordinates]\r\n{rows}".encode())
    read_vhdr(str(vhdr))


# place -> (writer of the file, words the refusal holds besides the file's name)
FILES: dict[str, tuple[Any, tuple[str, ...]]] = {
    "Siena seizure list time": (_siena, ("line 6", "start time", "19.\u06639.33")),
    "EEGMMIDB run in the file name": (_eegmmidb, ("run number",)),
    "marker file position": (_marker, ("line 2", "position")),
    "MoBI conductor time": (_conductor, ("line 3", "time")),
    "TUH csv duration": (_tuh_csv, ("duration",)),
    "TUH lbl montage index": (_lbl, ("montage",)),
    "SEED trial number": (_seed, ("trial number",)),
    "SEED trial bound in the manifest": (_seed_bound, ("trial 2's bound",)),
    "BrainVision marker number": (_vmrk, ("line 7", "marker number")),
    "BrainVision channel count": (
        _vhdr("NumberOfChannels=", "NumberOfChannels=３"),
        ("NumberOfChannels",),
    ),
    "BrainVision channel key": (_vhdr("Ch3=", f"Ch{ARABIC_3}=O1,,1,µV"), ("Ch",)),
    "BrainVision coordinates": (_coordinates, ("[Coordinates]", "Ch2")),
    "BrainVision sampling interval": (
        _vhdr("SamplingInterval=", "SamplingInterval=４０００"),
        ("SamplingInterval",),
    ),
}


@pytest.mark.parametrize("place", sorted(FILES))
def test_a_number_in_other_digits_is_refused_naming_the_file_and_field(
    tmp_path: Path, place: str
) -> None:
    """Each place a file's number is read: another script's digits there refuse the file in
    one line naming it and the field (they were read as the ASCII number: a seizure at 19.39.33,
    a trigger at 300, run 3, three channels)."""
    write, words = FILES[place]
    with pytest.raises(SourceError) as caught:
        write(tmp_path)
    line = str(caught.value)
    assert "\n" not in line, line
    assert caught.value.path.endswith(Path(caught.value.path).name) and Path(
        caught.value.path
    ).parent == Path(tmp_path), line
    for word in words:
        assert word.lower() in line.lower(), line


def test_a_brainvision_resolution_in_other_digits_refuses_its_channel(tmp_path: Path) -> None:
    """A channel's resolution ``٠.١`` (Arabic-Indic) is no number: that channel's samples are
    refused, as for any resolution that is none (it was read as 0.1 uV)."""
    from eegprep.readers.vhdr import read_vhdr

    vhdr = _brainvision(tmp_path / "r.vhdr", ["Stimulus,S  1,600,1,0"])
    text = vhdr.read_bytes().decode("utf-8").replace("Ch2=Cz,,1,", "Ch2=Cz,,\u0660.\u0661,")
    vhdr.write_bytes(text.encode("utf-8"))
    damage = [c.damage for c in read_vhdr(str(vhdr)).channels]
    assert damage[0] == damage[2] == "" and "not a number" in damage[1], damage


@pytest.mark.parametrize("reader", ["csv", "matlab"])
def test_a_reader_rate_in_other_digits_in_the_manifest_is_refused(reader: str) -> None:
    """A manifest's reader option ``sfreq = "２５０"`` (a string of full-width digits) is refused
    naming the option: ``float()`` read it as 250 Hz."""
    from eegprep.base.errors import UsageError
    from eegprep.readers import csv_table, matlab

    parse = csv_table._parse_options if reader == "csv" else matlab._parse_options
    options = {"sfreq": "２５０", **({"data": "eeg"} if reader == "matlab" else {})}
    with pytest.raises(UsageError, match=r"^Invalid value for `sfreq`"):
        parse(options)


def test_an_eeglab_event_type_in_other_digits_is_its_text(tmp_path: Path) -> None:
    """An EEGLAB event whose type is the text ``٧.0`` (Arabic-Indic) keeps it as its label:
    it was read as the number 7 (MNE's ``7.0`` of a numeric type) and stored as code ``7``."""
    typed = "\u0667.0"
    path = _set(tmp_path / "src" / "r.set", [(typed, 100.0, 0.0), ("7.0", 200.0, 0.0)])
    assert [e[2] for e in _stored(path)] == [typed, "7"]


def test_names_in_other_digits_are_text() -> None:
    """Names are text where digits of other scripts stand in them: a MATLAB variable ``eeg٣``
    sorts as text (it sorted as ``eeg3``), a channel ``T8-P8-٣`` beside MNE's renamed repeats
    of ``T8-P8`` is its own label (it became a third ``T8-P8``), an ingest report named with
    such digits is of no sequence (it was sequence 3), a checkpoint's ``blocks.٣.`` key
    counts no block (it made the model 4 blocks deep), and a temporary folder named with such
    a process id is no held folder of eegprep's (it was process 3's, removed once 3 was gone)."""
    import torch

    from eegprep.base.held_leftovers import _NAME as _HELD_NAME
    from eegprep.base.held_leftovers import PREFIX
    from eegprep.readers.matlab import _natural_key
    from eegprep.readers.mne_formats import _file_labels
    from eegprep.store.reports import report_order
    from labram.checkpoints.official_keys import _depth

    names = ["eeg10", f"eeg{ARABIC_3}", "eeg2"]
    assert sorted(names, key=_natural_key) == ["eeg2", "eeg10", f"eeg{ARABIC_3}"]
    note = "Channel names are not unique, found duplicates for: {'T8-P8'}. Applying running numbers"
    labels = ["T8-P8-0", "T8-P8-1", f"T8-P8-{ARABIC_3}"]
    assert _file_labels(labels, [note]) == ["T8-P8", "T8-P8", f"T8-P8-{ARABIC_3}"]
    assert report_order(f"ingest-{ARABIC_3}-20260101T000000-1.json")[0] == 0
    keys = {
        "blocks.0.norm1.weight": torch.zeros(1),
        f"blocks.{ARABIC_3}.norm1.weight": torch.zeros(1),
    }
    assert _depth(keys, "") == 1
    held = f"{PREFIX}1.2-{ARABIC_3}-5-abcdefgh"  # (a pid ٣ was process 3's, its folder removed)
    assert _HELD_NAME.fullmatch(held) is None and _HELD_NAME.fullmatch(held.replace(ARABIC_3, "3"))
