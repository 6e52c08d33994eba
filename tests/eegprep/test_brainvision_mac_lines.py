"""BrainVision headers and marker files whose lines end in a carriage return alone (classic Mac
OS) read exactly as the same files with CRLF line ends: the same stored samples, channels,
events and warnings from a folder and a BIDS ingest, the same files tied to the header, and
the same windows and probabilities from ``labram predict``. A file whose lines end in LF (or
CRLF) but that also holds a carriage return alone before more text on its line is ambiguous
(MNE's parser reads that return as text, an editor as a line end) and is refused in one line."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from eegprep import open_store
from eegprep.ingestion.driver import IngestConfig, ingest
from eegprep.readers.companions import data_files, vhdr_companions
from eegprep.readers.mne_formats import MneReader, clear_cache
from tests.eegprep.reader_checks import check_source_error

SFREQ = 250
LABELS = ["Fp1", "Cz", "O1", "Pz"]
X = np.random.default_rng(3).integers(-900, 900, size=(len(LABELS), SFREQ * 35))


def _recording(folder: Path, name: str, *, text: bool = False) -> Path:
    """``name.vhdr`` (comments, a ``[Comment]`` section), ``.vmrk`` (a dated start, a pause, a
    stimulus) and ``.eeg`` of :data:`X`, CRLF line ends, as BrainVision Recorder writes them."""
    folder.mkdir(parents=True, exist_ok=True)
    binary = ["[Binary Infos]", "BinaryFormat=INT_16"]
    layout = ["[ASCII Infos]", "DecimalSymbol=."] if text else binary
    header = ["Brain Vision Data Exchange Header File Version 1.0", "; Data created by Recorder",
              "", "[Common Infos]", "Codepage=UTF-8", f"DataFile={name}.eeg",
              f"MarkerFile={name}.vmrk", f"DataFormat={'ASCII' if text else 'BINARY'}",
              "; Data orientation: MULTIPLEXED=ch1,pt1, ch2,pt1 ...",
              "DataOrientation=MULTIPLEXED", f"NumberOfChannels={len(LABELS)}",
              f"SamplingInterval={1_000_000 // SFREQ}", "", *layout, "", "[Channel Infos]",
              *(f"Ch{i}={c},,0.5,µV" for i, c in enumerate(LABELS, start=1)), "",
              "[Comment]", "", "A m p l i f i e r  S e t u p", "Channels: 4"]  # fmt: skip
    (folder / f"{name}.vhdr").write_bytes(("\r\n".join(header) + "\r\n").encode())
    if text:
        rows = "".join(" ".join(str(v) for v in row) + "\r\n" for row in X.T)
        (folder / f"{name}.eeg").write_text(rows, newline="")
    else:
        (folder / f"{name}.eeg").write_bytes(X.T.astype("<i2").tobytes())
    markers = ["Brain Vision Data Exchange Marker File, Version 1.0", "", "[Common Infos]",
               "Codepage=UTF-8", f"DataFile={name}.eeg", "", "[Marker Infos]",
               "; Each entry: Mk<Marker number>=<Type>,<Description>,<Position in data points>",
               "Mk1=New Segment,,1,1,0,20240102030405000000", "Mk2=Stimulus,S  1,500,1,0",
               "Mk3=Comment,eyes closed,900,1,0",
               "Mk4=New Segment,,4001,1,0,20240102030430000000",
               "Mk5=Response,R  2,6000,1,0"]  # fmt: skip
    (folder / f"{name}.vmrk").write_bytes(("\r\n".join(markers) + "\r\n").encode())
    return folder / f"{name}.vhdr"


def _old_mac(src: Path, dst: Path) -> None:
    """``src`` copied to ``dst``, each header and marker file with CR-only line ends."""
    shutil.copytree(src, dst)
    for path in (*dst.rglob("*.vhdr"), *dst.rglob("*.vmrk")):
        path.write_bytes(path.read_bytes().replace(b"\r\n", b"\r"))
        assert b"\n" not in path.read_bytes()
    clear_cache()


def _folder(src: Path) -> list[Path]:
    return [_recording(src, "bin"), _recording(src, "txt", text=True)]


def _bids(src: Path) -> list[Path]:
    folder = src / "sub-01" / "eeg"
    path = _recording(folder, "sub-01_task-rest_eeg")
    rows = "".join(f"{c}\tEEG\t{'bad' if c == 'Cz' else 'good'}\n" for c in LABELS)
    (folder / "sub-01_task-rest_channels.tsv").write_text("name\ttype\tstatus\n" + rows)
    return [path]


def _stored(src: Path, corpus: str, out: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """Per source: its channels, events, metadata and samples; and the ingest's warnings
    (the source folder's path left out)."""
    config = IngestConfig(workers=0, progress=False, mains=50)
    rep = ingest(corpus, src=src, out=out, config=config)
    assert rep.failed == [], rep.failed
    store = open_store(out)
    got = {
        rec.source: (list(rec.channels), list(rec.events), store.read(rec.id))
        for rec in store.recordings
    }
    said = {k: [w.replace(str(src), "SRC") for w in ws] for k, ws in rep.warnings.items()}
    return got, said


@pytest.mark.parametrize("corpus", ["folder", "bids"])
def test_an_old_mac_header_and_marker_file_ingest_as_their_crlf_twins(
    tmp_path: Path, corpus: str
) -> None:
    made = {"folder": _folder, "bids": _bids}[corpus](tmp_path / "crlf")
    _old_mac(tmp_path / "crlf", tmp_path / "cr")
    crlf, crlf_said = _stored(tmp_path / "crlf", corpus, tmp_path / "crlf.zarr")
    cr, cr_said = _stored(tmp_path / "cr", corpus, tmp_path / "cr.zarr")
    assert len(crlf) == len(made) and sorted(cr) == sorted(crlf)
    for source, (channels, events, samples) in crlf.items():
        assert cr[source][0] == channels
        assert cr[source][1] == events and len(events) >= 3  # (the stimulus, response, join)
        np.testing.assert_array_equal(cr[source][2], samples)
    assert cr_said == crlf_said and any(crlf_said.values())  # (the pause's join)


def test_an_old_mac_header_names_the_files_its_crlf_twin_names(tmp_path: Path) -> None:
    """The companions (what a source's fingerprint covers) and the reader's warnings."""
    _folder(tmp_path / "crlf")
    _old_mac(tmp_path / "crlf", tmp_path / "cr")
    for name in ("bin.vhdr", "txt.vhdr"):
        twin, old = tmp_path / "crlf" / name, tmp_path / "cr" / name
        named = [(c.key, c.named, c.note) for c in vhdr_companions(str(twin))]
        assert [(c.key, c.named, c.note) for c in vhdr_companions(str(old))] == named
        stem = name.removesuffix(".vhdr")
        assert [Path(p).name for p in data_files(str(old))] == [f"{stem}.eeg", f"{stem}.vmrk"]
        header = MneReader.read_header(str(old))
        assert header.warnings == MneReader.read_header(str(twin)).warnings


def test_predict_scores_an_old_mac_file_as_its_crlf_twin(tmp_path: Path) -> None:
    from labram.stages.predict import predict_files
    from tests.labram.test_predict_formats_equal_store import _classifier

    _folder(tmp_path / "crlf")
    _old_mac(tmp_path / "crlf", tmp_path / "cr")
    ckpt = _classifier(tmp_path / "best.pt")
    got = []
    for kind in ("crlf", "cr"):
        files = [tmp_path / kind / "bin.vhdr", tmp_path / kind / "txt.vhdr"]
        res = predict_files(files, ckpt, corpus="folder", mains=50.0, device="cpu")
        assert res["failed"] == [], res["failed"]
        got.append([(r["channels"], _scores(r["windows"])) for r in res["recordings"]])
    assert got[1] == got[0] and all(windows for _, windows in got[0])


def _scores(windows: list[dict[str, Any]]) -> list[tuple[float, list[float]]]:
    from tests.labram.test_predict_formats_equal_store import CLASSES

    return [(w["start_s"], [w["probabilities"][c] for c in CLASSES]) for w in windows]


@pytest.mark.parametrize("which", ["rec.vhdr", "rec.vmrk"])
def test_a_carriage_return_alone_among_lf_line_ends_is_refused(tmp_path: Path, which: str) -> None:
    """LF line ends and, on one line, a carriage return alone before more text: MNE's parser
    reads the return as part of the line, an editor (and eegprep's look-ups) as its end."""
    path = _recording(tmp_path, "rec")
    target = tmp_path / which
    data = target.read_bytes().replace(b"\r\n", b"\n")
    key = b"\nSamplingInterval" if which == "rec.vhdr" else b"\nMk2="
    target.write_bytes(data.replace(key, b"\r" + key[1:], 1))
    clear_cache()
    err = check_source_error(MneReader, str(path), "carriage return alone")
    assert "LF" in str(err) and (which == "rec.vhdr" or "rec.vmrk" in str(err))


@pytest.mark.parametrize("end", [b"\n", b"\r\n"])
def test_an_old_mac_file_ended_by_a_line_feed_is_read_as_old_mac(
    tmp_path: Path, end: bytes
) -> None:
    """A tool appending a last line end to a classic Mac OS file: its one line feed ends it,
    and every other line ends in a carriage return alone, which is read so."""
    twin = _recording(tmp_path / "crlf", "rec")
    _old_mac(tmp_path / "crlf", tmp_path / "cr")
    for path in (tmp_path / "cr" / "rec.vhdr", tmp_path / "cr" / "rec.vmrk"):
        path.write_bytes(path.read_bytes() + end)
    clear_cache()
    header = MneReader.read_header(str(tmp_path / "cr" / "rec.vhdr"))
    assert header.meta_dict() == MneReader.read_header(str(twin)).meta_dict()
    assert header.warnings == MneReader.read_header(str(twin)).warnings and header.joins
