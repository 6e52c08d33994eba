"""Promise: every text field of a record that comes from a file name or a file's content is
under a written rule (docs/store-format.md, "The record text rule"), so that no hostile name
(a control character, a bidi override U+202E, a byte that is not UTF-8, 10,000 characters)
reaches the index, a report or a terminal as it is:

- ``subject``, ``session``, ``split``, ``subject_key``, label names and text: cleaned, or the
  recording refused (tests/safety/test_record_text.py);
- ``part`` (the variable of the file it was read from): kept exactly, or refused in one line;
- ``dropped_channels`` (a header's channel labels and the reasons naming them): noted, each
  refused character escaped and the text cut at 255 characters; the recording is kept;
- an event's ``channel``: the event rule's, as its label (spaced, cut at 256);
- ``source`` and ``source_files[].path``: as the file system names them (they find the file
  again), shown escaped; one that is not UTF-8 is refused in one line, and so is any record a
  writer is given whose text no JSON reader reads back, never listed and then dropped.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import orjson
import pytest

from eegprep import open_store
from eegprep.base.errors import SourceError
from eegprep.base.field_text import MAX_CHARS
from eegprep.base.strict_json import check_values, find_unsafe
from eegprep.ingestion.driver import IngestConfig, ingest
from eegprep.store.validate import validate
from tests.safety.test_hostile_vhdr import CHANNELS, MARKERS, _vhdr

HOSTILE = ["a\x1b[31mb", "x\u202ey", "z" * 10_000, "t\tt"]


def _strict_store(out: Path) -> None:
    """Every line of the index and every JSON document of the store reads as strict JSON."""
    for doc in out.rglob("*.json*"):
        lines = doc.read_bytes().splitlines() if doc.suffix == ".jsonl" else [doc.read_bytes()]
        for line in lines:
            orjson.loads(line)


def _brainvision(src: Path, extra: list[str]) -> None:
    """``sub1/r.vhdr`` of the 19 cap channels and ``extra`` channels named as given."""
    folder = src / "sub1"
    folder.mkdir(parents=True)
    chans = CHANNELS + extra
    head = _vhdr().split("[Channel Infos]")[0]
    head = head.replace(f"NumberOfChannels={len(CHANNELS)}", f"NumberOfChannels={len(chans)}")
    infos = "".join(f"Ch{i + 1}={c},,0.1,µV\n" for i, c in enumerate(chans))
    (folder / "r.vhdr").write_text(head + "[Channel Infos]\n" + infos, encoding="utf-8")
    x = np.random.default_rng(0).standard_normal((250 * 30, len(chans))) * 300
    (folder / "r.eeg").write_bytes(x.astype("<i2").tobytes())
    (folder / "r.vmrk").write_text(MARKERS, encoding="utf-8")


def test_hostile_channel_labels_are_noted_escaped_and_cut_and_the_recording_kept(
    tmp_path: Path,
) -> None:
    # was: dropped_channels held '\x1b[31m', U+202E and the 10,000 characters as the header
    # spelled them, and the warning line was 10,090 characters long
    src, out = tmp_path / "src", tmp_path / "s.zarr"
    _brainvision(src, HOSTILE)
    rep = ingest(
        "folder", src=src, out=out, config=IngestConfig(workers=0, progress=False, mains=50)
    )
    assert (rep.n_ingested, rep.failed) == (1, [])
    (rec,) = open_store(out).recordings
    labels = [label for label, _ in rec.record.dropped_channels]
    assert labels == ["a\\x1b[31mb", "x\\u202ey", "z" * (MAX_CHARS - 3) + "...", "t\\tt"]
    assert all(why.startswith("unknown") for _, why in rec.record.dropped_channels)
    for line in (w for lines in rep.warnings.values() for w in lines):
        assert len(line) < 400 and line.isprintable(), line
    _strict_store(out)
    assert validate(str(out)) == (1, [])


def test_noted_text_escapes_what_the_rule_refuses_and_keeps_the_rest() -> None:
    from eegprep.base.field_text import noted_text

    assert noted_text(" Fp1 ") == "Fp1" and noted_text("e\u0301") == "\u00e9"
    assert noted_text("\udcffbad") == "\\xffbad"  # a byte that is not UTF-8, as as_text shows it
    assert noted_text("a\u200db\x00") == "a\u200db\\x00"  # the joiner kept
    assert len(noted_text("\x1b" * 300)) == MAX_CHARS


def test_a_part_the_rule_refuses_is_one_line_and_the_other_parts_ingest(tmp_path: Path) -> None:
    # was: each stored with its part as the file named it (an ESC, U+202E, 304 characters)
    import h5py

    folder = tmp_path / "src" / "Preprocessed_EEG"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    parts = ["djc_eeg1", "x\x1b[31m_eeg2", "y\u202e_eeg3", "z" * 300 + "_eeg4"]
    with h5py.File(folder / "1_20131027.mat", "w") as f:
        for name in parts:
            f[name] = rng.standard_normal((2000, 62)) * 20  # (h5py: MATLAB's order reversed)
    text = (Path(__file__).parents[2] / "manifests" / "seed.toml").read_text()
    manifest = tmp_path / "m.toml"
    manifest.write_text(text.replace("data = '[A-Za-z]+_eeg\\d+'", "data = '[^_]+_eeg\\d+'"))
    out = tmp_path / "s.zarr"
    rep = ingest(str(manifest), src=tmp_path / "src", out=out,
                 config=IngestConfig(workers=0, progress=False))  # fmt: skip
    assert rep.n_ingested == 1 and len(rep.failed) == 3, rep.failed
    said = sorted(rep.failed)
    assert "part 'x\\x1b[31m_eeg2' holds the control character U+001B at 2" in said[0]
    assert "part 'y\\u202e_eeg3' holds the invisible format character U+202E at 2" in said[1]
    assert "is 305 characters long, over the 255" in said[2]
    assert all(line.startswith("Preprocessed_EEG/1_20131027.mat: part ") for line in said)
    assert [r.record.part for r in open_store(out).recordings] == ["djc_eeg1"]
    _strict_store(out)


def test_an_event_channel_is_under_the_event_rule(tmp_path: Path) -> None:
    # was: stored as the label file spelled it ('FP1\x1b[31m\u202e-F7', 10,000 characters)
    from eegprep.testing.fixtures.tuh import write_tusz

    src = write_tusz(tmp_path)
    bad = next(src.rglob("aaaaaaae_s001_t000.csv_bi"))
    lines = ["FP1\x1b[31m\u202e-F7,1.0000,6.0000,seiz,1.0000", f"{'c' * 10_000},2.0,3.0,seiz,1.0"]
    bad.write_text(bad.read_text().replace("TERM,1.0000,6.0000,seiz,1.0000", "\n".join(lines)))
    out = tmp_path / "s.zarr"
    rep = ingest("tusz", src=src, out=out, config=IngestConfig(workers=0, progress=False))
    assert (rep.n_ingested, rep.failed) == (3, [])
    rec = open_store(out).recording(next(r.id for r in open_store(out) if "aaaaaaae" in r.id))
    channels = sorted(e.channel for e in rec.events)
    assert {"FP1 [31m -F7", "c" * 256} <= set(channels)  # (beside the file's own: T4-T6)
    assert all(c.isprintable() and len(c) <= 256 for c in channels)
    assert any(
        "characters that do not print" in w
        for w in rep.warnings[str(bad.parent.relative_to(src) / "aaaaaaae_s001_t000.edf")]
    ), rep.warnings
    _strict_store(out)


@pytest.mark.parametrize("where", ["value", "key"])
def test_text_that_is_not_utf8_is_what_strict_json_cannot_hold(where: str) -> None:
    """``json.dumps`` writes a lone surrogate as ``"\\udce9"``, which orjson refuses: the line
    holding it was unreadable."""
    doc = {"source_files": [{"path": "caf\udce9.csv"}]} if where == "value" else {"k\udce9": 1}
    assert find_unsafe(doc) is not None and find_unsafe({"path": "café.csv"}) is None
    with pytest.raises(SourceError) as err:
        check_values(doc, "sub/r.edf", "record")
    assert str(err.value).startswith("sub/r.edf: record field ")
    assert "text that is not UTF-8" in str(err.value) and "\n" not in str(err.value)


def test_a_writer_lists_no_record_a_json_reader_cannot_read_and_keeps_the_others(
    tmp_path: Path,
) -> None:
    # was: committed, its index line '\udcff' read back by no JSON reader, and the recording
    # dropped from the index unsaid at the next compaction (commit reported no failure)
    from eegprep.pipeline.recipe import Recipe
    from eegprep.store.writer import StoreWriter
    from tests.labram.training_stores import hand_record, write_recording

    url = str(tmp_path / "s.zarr")
    with StoreWriter(url, Recipe(encoding="float32")) as w:
        items = []
        for rid, extra in (("lab/a", {"dropped_channels": [["x\udcffy", "unknown"]]}),
                           ("lab/b", {"source": "caf\udce9.edf"}), ("lab/c", {})):  # fmt: skip
            rec = hand_record(rid, ["FP1", "FP2"], 400, **extra)
            staged = w.staging_path()
            write_recording(w.loc.url, staged, record=rec, channels=["FP1", "FP2"],
                            n_samples=400, blocks=iter([np.zeros((2, 400), np.float32)]),
                            sfreq=200.0, encoding="float32", quantum=None)  # fmt: skip
            items.append((staged, rec))
        failed = dict(w.commit(items))
    assert sorted(failed) == ["lab/a", "lab/b"]
    assert "dropped_channels[0][0] is 'x\\udcffy', text that is not UTF-8" in failed["lab/a"]
    assert "field source is 'caf\\udce9.edf'" in failed["lab/b"]
    assert [r.id for r in open_store(url).recordings] == ["lab/c"]
    assert not any("lab/" in p and "lab/c" not in p for p in validate(url)[1])
    assert sorted(os.listdir(tmp_path / "s.zarr" / "recordings" / "lab")) == ["c", "zarr.json"]
    _strict_store(tmp_path / "s.zarr")
