"""Every file whose bytes reach the store enters the recording's fingerprint: a change in any of
them (data file, marker file, sidecar) makes the next run re-ingest the recording."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import mne
import numpy as np
import pytest

from eegprep import open_store
from eegprep.corpus.sources import file_digest, is_unchanged, stamp_files
from eegprep.ingestion.driver import IngestConfig, ingest
from eegprep.readers.companions import data_files
from eegprep.testing.fixtures.tuh import write_tusz
from tests.file_ticks import past_the_tick
from tests.safety.corpus import ingest_folder

SERIAL = IngestConfig(workers=0, progress=False)


def _raw(seed: int) -> mne.io.RawArray:
    rng = np.random.default_rng(seed)
    info = mne.create_info(["Fp1", "Fp2", "Cz", "O1"], 250.0, "eeg")
    raw = mne.io.RawArray(rng.normal(scale=20e-6, size=(4, 250 * 4)), info, verbose="error")
    raw.set_annotations(mne.Annotations([1.0], [0.5], ["cue"]))
    return raw


def _keep_mtime(path: Path, change: callable) -> None:  # type: ignore[valid-type]
    past_the_tick(path)  # (the ctime it changes is of a later tick than the ingest saw)
    st = path.stat()
    change()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def _flip_samples(path: Path) -> None:
    """Change samples in place: same size, and the same mtime (bit rot, or a careless copy)."""
    data = bytearray(path.read_bytes())
    for i in range(len(data) // 3, len(data) // 3 + 64):
        data[i] ^= 0x40
    _keep_mtime(path, lambda: path.write_bytes(bytes(data)))


@pytest.mark.parametrize(("ext", "companion"), [(".vhdr", ".eeg"), (".vhdr", ".vmrk")])
def test_a_changed_companion_file_is_reingested(tmp_path: Path, ext: str, companion: str) -> None:
    pytest.importorskip("pybv")
    src, out = tmp_path / "src", tmp_path / "s.zarr"
    src.mkdir()
    mne.export.export_raw(str(src / f"rec{ext}"), _raw(0), verbose="error")
    assert (src / f"rec{companion}").exists()
    ingest_folder(src, out)
    rec = open_store(out).recording("folder/rec")
    listed = [f["path"] for f in rec.meta["source_files"]]
    assert listed[0] == f"rec{ext}" and f"rec{companion}" in listed
    assert all(len(f["blake3"]) == 64 for f in rec.meta["source_files"])
    before = open_store(out).read("folder/rec")
    target = src / f"rec{companion}"
    if companion == ".vmrk":  # a marker moved: new events
        text = target.read_text().replace(",251,", ",501,")
        _keep_mtime(target, lambda: target.write_text(text))
    else:
        _flip_samples(target)
    # same sizes and mtimes, but a new ctime: seen without --verify-checksums
    rep = ingest_folder(src, out)
    assert (rep.n_ingested, rep.failed) == (1, [])
    after = open_store(out)
    if companion == ".vmrk":
        assert [e.onset for e in after.recording("folder/rec").events] != [
            e.onset for e in rec.events
        ]
    else:
        assert not np.array_equal(after.read("folder/rec"), before)
    # a plain touch (new mtime) is seen without checksums
    past_the_tick(target)
    os.utime(target)
    assert ingest_folder(src, out).n_ingested == 1


@pytest.mark.parametrize(
    ("named", "fdt"),
    [
        ("another_name.fdt", "another_name.fdt"),
        ("REC.fdt", "REC.fdt"),
        ("Sub01.fdt", "sub01.fdt"),  # named in another letter case (saved on Windows)
        ("rec.FDT", "rec.fdt"),
    ],
)
def test_the_fdt_a_set_file_names_is_the_one_tracked(tmp_path: Path, named: str, fdt: str) -> None:
    """EEGLAB's ``EEG.data`` may name a ``.fdt`` of any stem (a user renamed either file), in
    another letter case too: the file read is the one fingerprinted, and a change to it is
    re-ingested."""
    import scipy.io

    pytest.importorskip("eeglabio")
    src, out = tmp_path / "src", tmp_path / "s.zarr"
    src.mkdir()
    raw = _raw(0)
    mne.export.export_raw(str(tmp_path / "t.set"), raw, fmt="eeglab", verbose="error")
    fields = scipy.io.loadmat(str(tmp_path / "t.set"), appendmat=False)
    fields = {k: v for k, v in fields.items() if not k.startswith("__")}
    scipy.io.savemat(str(src / "rec.set"), {**fields, "data": named}, appendmat=False)
    x = raw.get_data() * 1e6
    x.astype("<f4").T.tofile(src / fdt)
    assert data_files(str(src / "rec.set")) == [str(src / fdt)]
    ingest_folder(src, out)
    rec = open_store(out).recording("folder/rec")
    assert [f["path"] for f in rec.meta["source_files"]] == ["rec.set", fdt]
    before = open_store(out).read("folder/rec")
    _keep_mtime(src / fdt, lambda: (x * 10).astype("<f4").T.tofile(src / fdt))
    rep = ingest_folder(src, out)
    assert (rep.n_ingested, rep.failed) == (1, [])
    assert not np.array_equal(open_store(out).read("folder/rec"), before)


def test_a_changed_or_new_sidecar_is_reingested(tmp_path: Path) -> None:
    src = write_tusz(tmp_path)
    out = tmp_path / "s.zarr"
    ingest("tusz", src=src, out=out, config=SERIAL)
    rid = "tusz/aaaaaaae_s001_t000"
    listed = [f["path"] for f in open_store(out).recording(rid).meta["source_files"]]
    assert [os.path.splitext(p)[1] for p in listed] == [".edf", ".csv", ".csv_bi"]
    csv = next(src.rglob("aaaaaaae_s001_t000.csv"))
    past_the_tick(csv)
    csv.write_text(csv.read_text().replace("T4-T6,1.0000,6.0000", "T4-T6,2.0000,6.0000"))
    rep = ingest("tusz", src=src, out=out, config=SERIAL)
    assert (rep.n_ingested, rep.n_current) == (1, 2)
    assert 2.0 in [e.onset for e in open_store(out).recording(rid).events]
    os.remove(csv)  # a sidecar gone is a change too
    assert ingest("tusz", src=src, out=out, config=SERIAL).n_ingested == 1


def test_brainvision_headers_name_their_files(tmp_path: Path) -> None:
    (tmp_path / "data.bin").write_bytes(b"x")
    (tmp_path / "marks.txt").write_text("x")
    vhdr = tmp_path / "h.vhdr"
    vhdr.write_text(
        "Brain Vision Data Exchange Header File Version 1.0\n[Common Infos]\n"
        "DataFile=data.bin\nMarkerFile = sub\\marks.txt\n"
    )
    assert data_files(str(vhdr)) == [str(tmp_path / "data.bin"), str(tmp_path / "marks.txt")]
    assert data_files(str(tmp_path / "x.edf")) == []
    (tmp_path / "e.set").write_bytes(b"x")
    assert data_files(str(tmp_path / "e.set")) == []  # samples inside the .set
    (tmp_path / "e.fdt").write_bytes(b"x")
    assert data_files(str(tmp_path / "e.set")) == [str(tmp_path / "e.fdt")]


def test_sidecars_are_found_in_any_letter_case(tmp_path: Path) -> None:
    src = write_tusz(tmp_path)
    for f in sorted(src.rglob("*")):
        if f.is_file():
            f.rename(f.with_suffix(f.suffix.upper()))
    rep = ingest("tusz", src=src, out=tmp_path / "s.zarr", config=SERIAL)
    assert (rep.n_ingested, rep.failed) == (3, [])
    rec = open_store(tmp_path / "s.zarr").recording("tusz/aaaaaaae_s001_t000")
    assert [os.path.splitext(f["path"])[1] for f in rec.meta["source_files"]] == [
        ".EDF",
        ".CSV",
        ".CSV_BI",
    ]
    assert "seiz" in {e.label for e in rec.events}


def test_sidecars_matching_in_letter_case_alone_are_one_line_not_the_first(
    tmp_path: Path,
) -> None:
    """Two sidecars differing in letter case alone (``X.CSV_BI`` and ``x.Csv_Bi``, neither the
    name the manifest asks for) were resolved to the first in sorted order without a word; the
    recording now fails in one line naming both, and the others ingest."""
    src = write_tusz(tmp_path)
    bi = next(src.rglob("aaaaaaae_s001_t000.csv_bi"))
    shutil.copy(bi, bi.with_name("aaaaaaae_s001_t000.Csv_Bi"))
    bi.rename(bi.with_name("aaaaaaae_s001_t000.CSV_BI"))
    rep = ingest("tusz", src=src, out=tmp_path / "s.zarr", config=SERIAL)
    assert rep.n_ingested == 2 and len(rep.failed) == 1
    [line] = rep.failed
    assert "2 files beside it differ from it in letter case alone" in line and "\n" not in line
    assert "'aaaaaaae_s001_t000.CSV_BI', 'aaaaaaae_s001_t000.Csv_Bi'" in line


def test_file_digest_is_blake3_and_sha256_for_earlier_records(tmp_path: Path) -> None:
    import hashlib

    import blake3

    path = tmp_path / "f.bin"
    body = np.random.default_rng(0).bytes(3 * (1 << 20) + 17)  # crosses the 1 MiB reads
    path.write_bytes(body)
    assert file_digest(str(path)) == blake3.blake3(body).hexdigest()
    assert file_digest(str(path), "sha256") == hashlib.sha256(body).hexdigest()


@pytest.mark.parametrize("algorithm", ["blake3", "sha256"])
def test_checksums_use_the_hash_each_entry_states(tmp_path: Path, algorithm: str) -> None:
    path = tmp_path / "rec.edf"
    path.write_bytes(b"x" * 5000)
    stamps = stamp_files(str(tmp_path), ["rec.edf"])
    entry = {"path": "rec.edf", "size": 5000, "mtime_ns": stamps[0].mtime_ns}
    listed = {**entry, algorithm: file_digest(str(path), algorithm)}
    old_style = {  # a record from before source_files: the source's own keys
        "source": "rec.edf",
        "source_size": 5000,
        "source_mtime_ns": stamps[0].mtime_ns,
        f"source_{algorithm}": listed[algorithm],
    }
    for record in ({"source_files": [listed]}, old_style):
        assert is_unchanged(record, str(tmp_path), stamps, checksums=True)
    assert not is_unchanged({"source_files": [entry]}, str(tmp_path), stamps, checksums=True)
    _keep_mtime(path, lambda: path.write_bytes(b"y" * 5000))
    for record in ({"source_files": [listed]}, old_style):
        # only what vouches for the file's ctime and inode skips reading it
        assert is_unchanged(record, str(tmp_path), stamps, checksums=False, vouched=True)
        assert not is_unchanged(record, str(tmp_path), stamps, checksums=False)
        assert not is_unchanged(record, str(tmp_path), stamps, checksums=True)


def test_a_stream_digest_is_the_file_digest_whatever_ranges_it_was_fed(tmp_path: Path) -> None:
    from eegprep.corpus.sources import StreamDigest

    path = tmp_path / "f.bin"
    body = np.random.default_rng(1).bytes(3 * (1 << 20) + 17)
    path.write_bytes(body)
    rng = np.random.default_rng(2)
    for trial in range(20):
        digest = StreamDigest(str(path))
        pos = int(rng.integers(0, 5000))  # the header, never fed: read by the digest
        for _ in range(int(rng.integers(0, 12))):
            start = max(0, pos - int(rng.integers(0, 3000)))  # overlapping the last range
            if trial % 4 == 0:
                start = int(rng.integers(0, len(body)))  # anywhere: before, after, a gap
            stop = min(len(body), start + int(rng.integers(1, 600_000)))
            digest.feed(start, body[start:stop])
            pos = max(pos, stop)
        assert digest.hexdigest() == file_digest(str(path)), trial
    empty = tmp_path / "empty.bin"
    empty.write_bytes(b"")
    assert StreamDigest(str(empty)).hexdigest() == file_digest(str(empty))


def test_an_edf_source_is_hashed_from_the_bytes_it_decodes(
    tuh_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The record's digests are the files' own, and the EDF's data records are not read a
    second time for them (only what no decoding read covered: the header)."""
    from eegprep.corpus import sources

    root = tuh_corpus
    read_itself: list[int] = []
    real = sources.StreamDigest._read_to

    def counting(self, stop):  # type: ignore[no-untyped-def]
        before = self._done
        real(self, stop)
        read_itself.append(self._done - before)

    monkeypatch.setattr(sources.StreamDigest, "_read_to", counting)
    rep = ingest("tuh", src=root, out=tmp_path / "s.zarr", config=SERIAL)
    assert rep.n_ingested >= 1 and not rep.failed
    read_by_ingest = sum(read_itself)  # (the checks below read the files whole)
    store = open_store(tmp_path / "s.zarr")
    for rec in store.recordings:
        record = store.index_rows()[rec.id]
        edf = root / record["source"]
        assert record["source_blake3"] == file_digest(str(edf))
        for entry in record["source_files"]:
            assert entry["blake3"] == file_digest(str(root / entry["path"]))
    edf_bytes = sum(p.stat().st_size for p in root.rglob("*.edf"))
    assert 0 < read_by_ingest < 0.05 * edf_bytes  # headers only


def test_a_missing_marker_file_is_warned_not_silent(tmp_path: Path) -> None:
    """MNE reads a BrainVision file whose ``.vmrk`` is gone without events and without a
    word; the header warns, naming the file."""
    from eegprep.readers.mne_formats import MneReader

    pytest.importorskip("pybv")
    mne.export.export_raw(str(tmp_path / "rec.vhdr"), _raw(0), verbose="error")
    assert MneReader.read_header(str(tmp_path / "rec.vhdr")).warnings == ()
    (tmp_path / "rec.vmrk").unlink()
    header = MneReader.read_header(str(tmp_path / "rec.vhdr"))
    assert header.annotations == ()
    assert header.warnings == (
        "its marker file rec.vmrk (named in the header) is missing: no events were read",
    )


def _rewrite_keeping_stamps(path: Path) -> None:
    """Flip bytes in place, then set the mtime back: size and mtime are what they were."""
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    _keep_mtime(path, lambda: path.write_bytes(bytes(data)))


@pytest.mark.parametrize("role", ["source", "sidecar"])
def test_a_file_rewritten_with_its_mtime_set_back_is_reingested(tmp_path: Path, role: str) -> None:
    """``touch -r`` (or a restore) keeps size and mtime; the ctime it cannot keep makes the
    re-run compare content, without ``--verify-checksums``."""
    src = write_tusz(tmp_path)
    out = tmp_path / "s.zarr"
    ingest("tusz", src=src, out=out, config=SERIAL)
    rid = "tusz/aaaaaaae_s001_t000"
    before = open_store(out).read(rid)
    suffix = ".edf" if role == "source" else ".csv_bi"
    target = next(src.rglob(f"aaaaaaae_s001_t000{suffix}"))
    if role == "source":
        _flip_samples(target)
    else:
        text = target.read_text()
        _keep_mtime(target, lambda: target.write_text(text.replace("seiz", "bckg", 1)))
        assert target.read_text() != text
    rep = ingest("tusz", src=src, out=out, config=SERIAL)
    assert (rep.n_ingested, rep.n_current, rep.failed) == (1, 2, [])
    if role == "source":
        assert not np.array_equal(open_store(out).read(rid), before)
    again = ingest("tusz", src=src, out=out, config=SERIAL)
    assert (again.n_ingested, again.n_checked) == (0, 0)


def test_a_copied_corpus_is_read_once_then_trusted(tmp_path: Path, monkeypatch) -> None:
    """A corpus copied with its mtimes (new inodes and ctimes) is current after one content
    check per file, which is remembered: the run after reads no file."""
    import shutil

    import eegprep.corpus.sources as sources

    src = write_tusz(tmp_path)
    out = tmp_path / "s.zarr"
    first = ingest("tusz", src=src, out=out, config=SERIAL)
    assert (first.n_ingested, first.n_checked) == (3, 0)
    copy = tmp_path / "copy"
    shutil.copytree(src, copy)  # copy2: the same mtimes
    rep = ingest("tusz", src=copy, out=out, config=SERIAL)
    assert (rep.n_ingested, rep.n_current, rep.n_checked) == (0, 3, 3)

    def no_reads(*args: object) -> str:
        raise AssertionError("a vouched file was read")

    monkeypatch.setattr(sources, "file_digest", no_reads)
    rep = ingest("tusz", src=copy, out=out, config=SERIAL)
    assert (rep.n_ingested, rep.n_current, rep.n_checked) == (0, 3, 0)
    monkeypatch.undo()
    _rewrite_keeping_stamps(next(copy.rglob("aaaaaaae_s001_t000.edf")))
    assert ingest("tusz", src=copy, out=out, config=SERIAL).n_ingested == 1


@pytest.mark.parametrize("damage", ["missing", "garbage", "other_group", "nan"])
def test_a_lost_or_damaged_seen_file_costs_a_content_check_only(
    tmp_path: Path, damage: str
) -> None:
    """``_eegprep/seen.json`` is a cache: without it (a store of an earlier version) or with
    it damaged, files are compared by content, never trusted by their stamps alone."""
    import json

    src = write_tusz(tmp_path)
    out = tmp_path / "s.zarr"
    ingest("tusz", src=src, out=out, config=SERIAL)
    seen = out / "_eegprep" / "seen.json"
    doc = json.loads(seen.read_text())
    assert sorted(doc["recordings"]) == sorted(open_store(out).index_rows())
    if damage == "missing":
        seen.unlink()
    elif damage == "garbage":
        seen.write_bytes(b"\x00{not json")
    elif damage == "other_group":
        for entry in doc["recordings"].values():
            entry["group"] += "@9"
        seen.write_text(json.dumps(doc))
    else:
        seen.write_text(json.dumps(doc).replace("[", "[NaN,", 1))
    _rewrite_keeping_stamps(next(src.rglob("aaaaaaae_s001_t000.edf")))
    for f in src.rglob("*.edf"):  # stamps as they were when listed, but for the ctime
        _keep_mtime(f, lambda: None)
    rep = ingest("tusz", src=src, out=out, config=SERIAL)
    assert (rep.n_ingested, rep.n_current, rep.n_checked) == (1, 2, 2)
    listed = sorted(open_store(out).index_rows())
    assert sorted(json.loads(seen.read_text())["recordings"]) == listed


def test_a_seen_file_from_another_store_vouches_for_nothing(tmp_path: Path) -> None:
    """Two stores of one corpus share group names; the newer one's seen.json copied into the
    older store must not vouch for files whose bytes its records do not state."""
    import shutil

    src = write_tusz(tmp_path)
    old, new = tmp_path / "old.zarr", tmp_path / "new.zarr"
    ingest("tusz", src=src, out=old, config=SERIAL)
    _flip_samples(next(src.rglob("aaaaaaae_s001_t000.edf")))
    ingest("tusz", src=src, out=new, config=SERIAL)
    rid = "tusz/aaaaaaae_s001_t000"
    assert open_store(old).recording(rid).group == open_store(new).recording(rid).group
    shutil.copy(new / "_eegprep" / "seen.json", old / "_eegprep" / "seen.json")
    rep = ingest("tusz", src=src, out=old, config=SERIAL)
    assert rep.n_ingested == 1
    assert np.array_equal(open_store(old).read(rid), open_store(new).read(rid))


def test_a_file_changed_while_it_is_ingested_is_refused_then_reingested(
    tmp_path: Path, monkeypatch
) -> None:
    """A sidecar rewritten (mtime set back) after the task parsed it and before it was hashed:
    the samples and events would be of one version and the hash of another. The task sees the
    new ctime and refuses the recording; the next run ingests the file as it is."""
    import eegprep.ingestion.task as task_module

    src = write_tusz(tmp_path)
    out = tmp_path / "s.zarr"
    target = next(src.rglob("aaaaaaae_s001_t000.csv_bi"))
    real = task_module.fingerprint

    def rewrite_then_hash(root, stamps, known=None):  # type: ignore[no-untyped-def]
        if any(s.path.endswith("aaaaaaae_s001_t000.csv_bi") for s in stamps):
            text = target.read_text().replace("seiz", "bckg", 1)
            _keep_mtime(target, lambda: target.write_text(text))
        return real(root, stamps, known)

    monkeypatch.setattr(task_module, "fingerprint", rewrite_then_hash)
    rep = ingest("tusz", src=src, out=out, config=SERIAL)
    assert rep.n_ingested == 2
    (line,) = rep.failed
    assert "changed while it was being ingested" in line and "csv_bi" in line
    monkeypatch.undo()
    rep = ingest("tusz", src=src, out=out, config=SERIAL)
    assert (rep.n_ingested, rep.failed) == (1, [])
