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

import pytest

from eegprep import open_store
from eegprep.corpus.sources import file_digest
from eegprep.ingestion import driver, workers
from eegprep.ingestion.driver import IngestConfig, IngestReport, ingest
from eegprep.testing.fixtures import load_fixtures, write_fixture
from tests.file_ticks import past_the_tick

CORPORA = sorted(load_fixtures())
_MAINS_UNKNOWN = {"bids", "folder"}  # manifests with mains = 0 (--mains is required)


def _config(corpus: str) -> IngestConfig:
    return IngestConfig(
        workers=0, progress=False, mains=50.0 if corpus in _MAINS_UNKNOWN else None
    )


class _Opens:
    """The files opened while each recording is ingested (``relpath -> real paths``), from an
    audit hook (installed once: a hook cannot be removed) that records only while on."""

    installed: ClassVar[bool] = False
    current: ClassVar[str | None] = None
    opened: ClassVar[dict[str, set[str]]] = {}

    @classmethod
    def hook(cls, event: str, args: tuple[Any, ...]) -> None:
        if event != "open" or cls.current is None or not args:
            return
        if isinstance(args[0], (str, bytes, os.PathLike)):
            path = os.path.realpath(os.fsdecode(args[0]))
            cls.opened.setdefault(cls.current, set()).add(path)


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
    order = sorted(range(len(data)), key=lambda i: (abs(i - middle), i))
    pos = next((i for i in order if 0x30 <= data[i] <= 0x38), middle)
    new = data[pos] + 1 if 0x30 <= data[pos] <= 0x38 else data[pos] ^ 0x55
    return data[:pos] + bytes([new]) + data[pos + 1 :]


def _ingested(corpus: str, root: Path, out: Path) -> IngestReport:
    return ingest(corpus, src=root, out=out, config=_config(corpus))


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
    root = write_fixture(corpus, tmp_path / "src")
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


@pytest.mark.parametrize("corpus", CORPORA)
def test_a_file_read_changed_in_place_reingests_exactly_its_recordings(
    tmp_path: Path, corpus: str, opens: dict[str, set[str]]
) -> None:
    root, out = write_fixture(corpus, tmp_path / "src"), tmp_path / "s.zarr"
    assert _ingested(corpus, root, out).failed == []
    read = _read_by_source(root, opens)
    before = _listed(out)
    for rel in sorted(read[min(read)]):  # every file one recording read: source and the rest
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
    root, out = write_fixture(corpus, tmp_path / "src"), tmp_path / "s.zarr"
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
