"""Every file an ingest reads to build a recording is in its fingerprint, and no other file is.

A re-run skips a recording whose files are unchanged (docs/store-format.md, "A re-run skips"):
a file the ingest read but did not fingerprint could change, in place, and the recording stay
listed from its old bytes, called current. MoBI's impedance list and ``conductor.txt`` were
such files: read (the channel order checked, the events taken) but never fingerprinted. Here,
for every corpus layout that :mod:`eegprep.testing.fixtures` writes:

- every file opened under the corpus folder while a recording is ingested is among the files
  its record lists (``source_files``), watched by an audit hook, not by a list kept here;
- each listed file changed in place, same size and mtime, makes the next run ingest again
  exactly the recordings that list it (from its new bytes, or refused in one line);
- every other file under the corpus folder (a README, a ``label.mat`` the manifest carries, a
  digitizer file) changed, and a new one added, re-ingests nothing.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

from eegprep import open_store
from eegprep.corpus.sources import file_digest
from eegprep.ingestion import driver, workers
from eegprep.ingestion.driver import IngestConfig, IngestReport, ingest
from eegprep.testing.fixtures import load_fixtures, write_fixture
from eegprep.testing.fixtures.tuh import write_tuab_v2, write_tusz_v15
from tests.file_ticks import past_the_tick


def _write_formats(out: Path, *, seed: int = 0) -> Path:
    """The ``folder`` fixture with a recording of each format no fixture corpus holds: a
    BrainVision header with its samples and marker files (given to MNE), a GDF and a CNT."""
    import mne

    from eegprep.testing.fixtures.cnt_writer import write_cnt
    from eegprep.testing.fixtures.gdf_writer import write_gdf

    root = write_fixture("folder", out, seed=seed)
    x = np.random.default_rng(seed).normal(0, 20, (4, 2000))  # uV
    labels = ["FP1", "FP2", "CZ", "OZ"]
    (root / "carol").mkdir()
    write_gdf(root / "carol" / "r.gdf", x, labels, 250)
    write_cnt(root / "carol" / "r.cnt", x, labels, 200, events=[(100, 1), (900, 2)])
    raw = mne.io.RawArray(x * 1e-6, mne.create_info(labels, 250.0, "eeg"), verbose="error")
    raw.set_annotations(mne.Annotations([1.0], [0.5], ["cue"]))
    mne.export.export_raw(str(root / "carol" / "v.vhdr"), raw, verbose="error")
    return root


LAYOUTS: dict[str, tuple[str, Callable[..., Path]]] = {
    "folder+formats": ("folder", _write_formats),
    "tusz_v15": ("tusz", write_tusz_v15),  # .tse / .tse_bi sidecars (.lbl beside them: unread)
    "tuab_v2": ("tuab", write_tuab_v2),
}
"""Layouts beyond the registered fixtures: name -> (the corpus that reads it, its writer)."""
CORPORA = [*sorted(load_fixtures()), *LAYOUTS]
_MAINS_UNKNOWN = {"bids", "folder"}  # manifests with mains = 0 (--mains is required)


def _config(corpus: str) -> IngestConfig:
    name = LAYOUTS.get(corpus, (corpus,))[0]
    return IngestConfig(workers=0, progress=False, mains=50.0 if name in _MAINS_UNKNOWN else None)


def _write_corpus(corpus: str, out: Path) -> Path:
    """The fixture of ``corpus`` (or of a :data:`LAYOUTS` layout) under ``out``; its root."""
    return LAYOUTS[corpus][1](out) if corpus in LAYOUTS else write_fixture(corpus, out)


def _ingested(corpus: str, root: Path, out: Path) -> IngestReport:
    name = LAYOUTS.get(corpus, (corpus,))[0]
    return ingest(name, src=root, out=out, config=_config(corpus))


class _Opens:
    """The files opened while each recording is ingested (``relpath -> real paths``), from an
    audit hook (installed once: a hook cannot be removed) that records only while on."""

    installed: ClassVar[bool] = False
    current: ClassVar[str | None] = None
    opened: ClassVar[dict[str, set[str]]] = {}

    @classmethod
    def hook(cls, event: str, args: tuple[Any, ...]) -> None:
        current = cls.current  # (once: another thread's open may come as the task ends)
        if event != "open" or current is None or not args:
            return
        if isinstance(args[0], (str, bytes, os.PathLike)):
            path = os.path.realpath(os.fsdecode(args[0]))
            cls.opened.setdefault(current, set()).add(path)


@pytest.fixture
def opens(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, set[str]]]:
    if not _Opens.installed:
        sys.addaudithook(_Opens.hook)
        _Opens.installed = True
    _Opens.opened = {}
    run = workers.run_task

    def watched(task: Any) -> Any:
        _Opens.current = task.item.relpath
        try:
            return run(task)
        finally:
            _Opens.current = None

    monkeypatch.setattr(workers, "run_task", watched)
    monkeypatch.setattr(driver, "run_task", watched)
    yield _Opens.opened
    _Opens.opened = {}


def _listed(out: Path) -> dict[str, dict[str, Any]]:
    """Each listed recording's record: ``id -> meta``."""
    return {r.id: r.meta for r in open_store(out).recordings}


def _files_of(meta: dict[str, Any]) -> list[str]:
    return [f["path"] for f in meta["source_files"]]


def _rewrite_in_place(path: Path, change: Callable[[bytes], bytes]) -> None:
    """Write ``change(bytes)`` over ``path``, its size and mtime kept (a later ctime)."""
    data = path.read_bytes()
    new = change(data)
    assert len(new) == len(data) and new != data, path.name
    past_the_tick(path)
    st = path.stat()
    path.write_bytes(new)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def _one_byte_other(data: bytes) -> bytes:
    """``data`` with one byte near its middle changed: a digit for another digit where there
    is one (a text table stays a table), else a byte's bits flipped."""
    middle = len(data) // 2
    codes = np.frombuffer(data, dtype=np.uint8)
    digits = np.flatnonzero((codes >= 0x30) & (codes <= 0x38))  # ascending
    # the digit nearest the middle, the first of two as near (argmin takes the first); sorting
    # every byte's index by that key was 12 of this module's 17 CPU s on MB-sized recordings
    pos = int(digits[np.argmin(np.abs(digits - middle))]) if digits.size else middle
    new = data[pos] + 1 if 0x30 <= data[pos] <= 0x38 else data[pos] ^ 0x55
    return data[:pos] + bytes([new]) + data[pos + 1 :]


def _read_by_source(root: Path, opens: dict[str, set[str]]) -> dict[str, set[str]]:
    """``source -> files under root opened while it was ingested`` (relative paths)."""
    real = os.path.realpath(root)
    return {
        source: {os.path.relpath(p, real) for p in paths if p.startswith(real + os.sep)}
        for source, paths in opens.items()
    }


@pytest.mark.parametrize("corpus", CORPORA)
def test_every_file_read_for_a_recording_is_in_its_fingerprint(
    tmp_path: Path, corpus: str, opens: dict[str, set[str]]
) -> None:
    root = _write_corpus(corpus, tmp_path / "src")
    rep = _ingested(corpus, root, tmp_path / "s.zarr")
    assert rep.failed == [] and rep.n_ingested > 0
    listed: dict[str, set[str]] = {}
    for meta in _listed(tmp_path / "s.zarr").values():
        listed.setdefault(meta["source"], set()).update(_files_of(meta))
    read = _read_by_source(root, opens)
    assert set(read) == set(listed)  # (each recording's task was watched)
    for source, files in read.items():
        assert source in files
        assert files - listed[source] == set(), f"{source}: read, not fingerprinted"
        assert listed[source] - files == set(), f"{source}: fingerprinted, never read"


def _reingested(corpus: str, root: Path, out: Path, rel: str, before: dict[str, Any]) -> None:
    """Change ``rel`` in place; the next run takes up again exactly the recordings that
    list it: from its new bytes, or refused (their listed version kept)."""
    target = root / rel
    _rewrite_in_place(target, _one_byte_other)
    affected = {rid for rid, meta in before.items() if rel in _files_of(meta)}
    rep = _ingested(corpus, root, out)
    assert affected and rep.n_current == len(before) - len(affected), (rel, "called current")
    after = _listed(out)
    digest = file_digest(str(target))
    for rid in affected:
        hashes = {f["path"]: f["blake3"] for f in after[rid]["source_files"]}
        refused = any(line.startswith(before[rid]["source"]) for line in rep.failed)
        assert hashes.get(rel) == digest or refused, (rid, rel, rep.failed)


def _kinds(read: dict[str, set[str]]) -> list[str]:
    """One file of each kind that the recordings read: the kind is what follows the source's
    stem in its name (``.vmrk``, ``_seiz.csv``), else the name without its digits
    (``conductor.txt``, ``Seizures-list-PN.txt``); a source is of the kind of its suffix."""
    chosen: dict[str, str] = {}
    for source, files in sorted(read.items()):
        stem = os.path.splitext(os.path.basename(source))[0]
        for rel in sorted(files):
            name = os.path.basename(rel)
            kind = (
                "source" + os.path.splitext(name)[1]
                if rel == source
                else name[len(stem) :]
                if name.startswith(stem)
                else "".join(c for c in name if not c.isdigit())
            )
            chosen.setdefault(kind, rel)
    return sorted(chosen.values())


_MANY_PARTS = {"seed", "seed_iv", "seed_v"}  # tens of recordings a file: each run takes seconds


@pytest.mark.parametrize(
    "corpus",
    [pytest.param(c, marks=pytest.mark.slow) if c in _MANY_PARTS else c for c in CORPORA],
)
def test_a_file_read_changed_in_place_reingests_exactly_its_recordings(
    tmp_path: Path, corpus: str, opens: dict[str, set[str]]
) -> None:
    root, out = _write_corpus(corpus, tmp_path / "src"), tmp_path / "s.zarr"
    assert _ingested(corpus, root, out).failed == []
    before = _listed(out)
    for rel in _kinds(_read_by_source(root, opens)):  # each kind of file read: source and rest
        original = (root / rel).read_bytes()
        _reingested(corpus, root, out, rel, before)
        past_the_tick(root / rel)
        (root / rel).write_bytes(original)  # back as it was, for the next file's count
        assert _ingested(corpus, root, out).failed == []
        before = _listed(out)


@pytest.mark.parametrize("corpus", CORPORA)
def test_a_file_no_recording_reads_reingests_nothing(
    tmp_path: Path, corpus: str, opens: dict[str, set[str]]
) -> None:
    root, out = _write_corpus(corpus, tmp_path / "src"), tmp_path / "s.zarr"
    assert _ingested(corpus, root, out).failed == []
    before = _listed(out)
    read = set().union(*_read_by_source(root, opens).values())
    read |= {rel for meta in before.values() for rel in _files_of(meta)}
    others = [p for p in sorted(root.rglob("*")) if p.is_file()]
    others = [p for p in others if p.relative_to(root).as_posix() not in read]
    for path in others:
        if path.stat().st_size:
            _rewrite_in_place(path, _one_byte_other)
    (root / "README.md").write_text("notes on this copy of the corpus\n")
    rep = _ingested(corpus, root, out)
    assert (rep.n_ingested, rep.failed, rep.n_current) == (0, [], len(before))


def _mobi(tmp_path: Path) -> tuple[Path, Path]:
    """The MoBI fixture, ingested: (its root, the store)."""
    root, out = write_fixture("mobi", tmp_path / "src"), tmp_path / "s.zarr"
    assert _ingested("mobi", root, out).n_ingested == 2
    return root, out


def test_an_edited_conductor_file_gives_its_new_events(tmp_path: Path) -> None:
    root, out = _mobi(tmp_path)
    rid = next(rid for rid, m in _listed(out).items() if m["source"] == "SL01-T01/eeg.txt")
    assert "start walking" in [e.label for e in open_store(out).recording(rid).events]
    conductor = root / "SL01-T01" / "conductor.txt"
    _rewrite_in_place(conductor, lambda b: b.replace(b"start walking", b"START walking"))
    rep = _ingested("mobi", root, out)
    assert (rep.n_ingested, rep.n_current, rep.failed) == (1, 1, [])
    labels = [e.label for e in open_store(out).recording(rid).events]
    assert "START walking" in labels and "start walking" not in labels


def test_a_conductor_file_that_appears_or_goes_reingests_its_trial(tmp_path: Path) -> None:
    root, out = tmp_path / "src", tmp_path / "s.zarr"
    conductor = write_fixture("mobi", root) / "SL01-T02" / "conductor.txt"
    text = conductor.read_bytes()
    conductor.unlink()
    root = conductor.parent.parent
    assert _ingested("mobi", root, out).n_ingested == 2
    conductor.write_bytes(text)
    rep = _ingested("mobi", root, out)
    assert (rep.n_ingested, rep.n_current) == (1, 1)
    conductor.unlink()
    assert _ingested("mobi", root, out).n_ingested == 1


def test_an_impedance_list_reordered_in_place_refuses_its_trial(tmp_path: Path) -> None:
    """The list that checks the channel order, changed to another order (same size and
    mtime): the trial is checked again and refused in one line, its listed version kept."""
    root, out = _mobi(tmp_path)
    listed = root / "SL01-T01" / "impedances-before.txt"
    _rewrite_in_place(
        listed,
        lambda b: b.replace(b"\n1\tFp1\t", b"\n2\tFp1\t").replace(b"\n2\tFz\t", b"\n1\tFz\t"),
    )
    rep = _ingested("mobi", root, out)
    assert (rep.n_ingested, rep.n_current, len(rep.failed)) == (0, 1, 1)
    line = rep.failed[0]
    assert "impedances-before.txt" in line and "'Fz'" in line and "\n" not in line
    assert len(_listed(out)) == 2


def test_an_events_file_outside_the_corpus_folder_is_not_read(tmp_path: Path) -> None:
    """A manifest whose ``events_file`` leads out of the corpus folder: the trial is refused
    in one line, and nothing of the file outside reaches the store."""
    from eegprep.corpus.manifest import load_manifest

    root = write_fixture("mobi", tmp_path / "src")
    (tmp_path / "src" / "outside.txt").write_text("Time\tEvent\n1002.0\tfrom outside\n")
    text = Path(load_manifest("mobi").file).read_text()
    manifest = tmp_path / "mobi.toml"
    manifest.write_text(text.replace('"conductor.txt"', '"../../outside.txt"'))
    rep = ingest(manifest, src=root, out=tmp_path / "s.zarr", config=_config("mobi"))
    assert (rep.n_ingested, len(rep.failed)) == (0, 2)
    assert all("outside.txt" in f and "outside the corpus folder" in f for f in rep.failed)


@pytest.mark.parametrize(
    ("old", "new", "redone"),
    [
        ("labels = [1, 0, -1,", "labels = [-1, 0, -1,", True),  # a label table: shapes labels
        ('title = "', 'title = "Renamed: ', False),  # prose: shapes nothing stored
    ],
)
def test_a_manifest_change_redoes_what_it_shapes(
    tmp_path: Path, old: str, new: str, redone: bool
) -> None:
    from eegprep.corpus.manifest import load_manifest

    root, out = write_fixture("seed", tmp_path / "src"), tmp_path / "s.zarr"
    text = Path(load_manifest("seed").file).read_text()
    assert text.count(old) == 1
    manifest = tmp_path / "seed.toml"
    manifest.write_text(text)
    n = _ingested("seed", root, out).n_ingested
    before = {r.id: r.labels.get("emotion") for r in open_store(out).recordings}
    manifest.write_text(text.replace(old, new))
    rep = ingest(manifest, src=root, out=out, config=_config("seed"))
    assert (rep.n_ingested, rep.n_current) == ((n, 0) if redone else (0, n))
    after = {r.id: r.labels.get("emotion") for r in open_store(out).recordings}
    assert (after != before) == redone


def test_a_sidecar_twin_in_another_letter_case_is_judged_again_when_it_changes(
    tmp_path: Path,
) -> None:
    """``x.CSV_BI`` beside ``x.csv_bi`` (two copies merged on a case-sensitive disk) is read:
    the recording is refused while their bytes differ. A twin changed to other bytes after
    the recording was ingested was never looked at again: the recording stayed current."""
    root, out = write_fixture("tusz", tmp_path / "src"), tmp_path / "s.zarr"
    sidecar = sorted(root.rglob("*.csv_bi"))[0]
    twin = sidecar.with_name(sidecar.stem + ".CSV_BI")
    twin.write_bytes(sidecar.read_bytes())  # the same bytes: the same file, read as one
    assert _ingested("tusz", root, out).failed == []
    _rewrite_in_place(twin, _one_byte_other)
    rep = _ingested("tusz", root, out)
    assert (rep.n_ingested, len(rep.failed)) == (0, 1)
    assert "CSV_BI" in rep.failed[0] and "letter case" in rep.failed[0]


def test_an_edf_file_that_appears_beside_a_siena_prefix_block_reingests_its_patient(
    tmp_path: Path,
) -> None:
    """A seizure block naming its file only as ``PN01`` belongs to the patient's one EDF file
    that the prefix matches; with two, to the one whose start is the block's registration
    start. A second file that appeared changed which recording the block was of, but
    re-ingested none: the first stayed listed with the seizure, called current. The files the
    prefix matches are now in the fingerprint of every recording of the folder."""
    root, out = write_fixture("siena", tmp_path / "src"), tmp_path / "s.zarr"
    listed = root / "PN01" / "Seizures-list-PN01.txt"  # (its registration: not PN01-1's start)
    listed.write_text(listed.read_text().replace("start time:10.15.00", "start time:10.15.01"))
    assert _ingested("siena", root, out).failed == []
    rid = next(rid for rid, m in _listed(out).items() if m["source"] == "PN01/PN01-1.edf")
    assert open_store(out).recording(rid).labels["n_seizures"] == 1  # (the one file matched)
    other = write_fixture("siena", tmp_path / "other", seed=1) / "PN00" / "PN00-1.edf"
    (root / "PN01" / "PN01-2.edf").write_bytes(other.read_bytes())
    rep = _ingested("siena", root, out)
    assert (rep.n_ingested, rep.n_current, rep.failed) == (2, 3, [])  # PN01-1, and PN01-2
    assert open_store(out).recording(rid).labels["n_seizures"] == 0
    assert "PN01/PN01-2.edf" in _files_of(_listed(out)[rid])
    (root / "PN01" / "PN01-2.edf").unlink()
    rep = _ingested("siena", root, out)
    assert (rep.n_ingested, rep.n_current) == (1, 3)
    assert open_store(out).recording(rid).labels["n_seizures"] == 1
