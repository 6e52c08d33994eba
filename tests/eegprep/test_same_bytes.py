"""The store's bytes depend on the source files and the command, not on the process around
them (docs/store-format.md, "Reproducibility"): two fresh `eegprep ingest` processes, one under
another time zone, locale, hash seed, umask and working folder, with the file system's listings
shuffled, write the same bytes in every object but the reports and the lock; a copy of the
corpus with new modification times changes the records' mtime fields and seen.json alone."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
TIMES = ("_eegprep/reports", "_eegprep/lock")  # times of day and pids: not the ingest's output
SHUFFLE = """
import os, random
_rng = random.Random(7)
_scandir, _listdir = os.scandir, os.listdir
class _Listing:
    def __init__(self, entries): self.entries = entries
    def __iter__(self): return self
    def __next__(self):
        if not self.entries: raise StopIteration
        return self.entries.pop()
    def __enter__(self): return self
    def __exit__(self, *exc): return False
    def close(self): pass
def scandir(path="."):
    with _scandir(path) as found:
        entries = list(found)
    _rng.shuffle(entries)
    return _Listing(entries)
def listdir(path="."):
    names = _listdir(path)
    _rng.shuffle(names)
    return names
os.scandir, os.listdir = scandir, listdir
"""


def _ingest(src: Path, out: Path, *, cwd: Path, env: dict[str, str], umask: int = 0o022) -> None:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "LANG", "PYTHON"))}
    full = {**base, "PYTHONPATH": str(REPO), **env}
    cmd = [sys.executable, "-m", "eegprep", "ingest", "tuh", "--src", str(src), "--out", str(out)]
    old = os.umask(umask)
    try:
        done = subprocess.run([*cmd, "--workers", "0"], cwd=cwd, env=full, capture_output=True,
                              text=True, timeout=300)  # fmt: skip
    finally:
        os.umask(old)
    assert done.returncode == 0, done.stderr


def _objects(store: Path) -> dict[str, bytes]:
    return {
        rel: p.read_bytes()
        for p in sorted(store.rglob("*"))
        if p.is_file() and not (rel := p.relative_to(store).as_posix()).startswith(TIMES)
    }


def _differing(a: Path, b: Path) -> list[str]:
    old, new = _objects(a), _objects(b)
    return sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))


def test_the_process_around_an_ingest_moves_no_stored_byte(
    tuh_corpus: Path, tmp_path: Path
) -> None:
    env = {"TZ": "UTC", "LC_ALL": "C", "PYTHONHASHSEED": "0"}
    _ingest(tuh_corpus, tmp_path / "a.zarr", cwd=tmp_path, env=env)
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "sitecustomize.py").write_text(SHUFFLE)
    other = {"TZ": "Asia/Kathmandu", "LC_ALL": "C.UTF-8", "PYTHONHASHSEED": "12345",
             "PYTHONPATH": f"{REPO}{os.pathsep}{shim}"}  # fmt: skip
    _ingest(tuh_corpus, tmp_path / "b.zarr", cwd=Path("/"), env=other, umask=0o077)
    assert _objects(tmp_path / "a.zarr")
    assert _differing(tmp_path / "a.zarr", tmp_path / "b.zarr") == []


def test_a_copy_with_new_mtimes_changes_only_the_stamps(tuh_corpus: Path, tmp_path: Path) -> None:
    env = {"TZ": "UTC", "LC_ALL": "C", "PYTHONHASHSEED": "0"}
    _ingest(tuh_corpus, tmp_path / "a.zarr", cwd=tmp_path, env=env)
    copy = tmp_path / "copy"
    for path in sorted(tuh_corpus.rglob("*"), reverse=True):  # written in another order
        if path.is_file():
            (copy / path.relative_to(tuh_corpus)).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, copy / path.relative_to(tuh_corpus))  # new mtimes
            stamp = path.stat().st_mtime_ns + 10**9
            os.utime(copy / path.relative_to(tuh_corpus), ns=(stamp, stamp))
    _ingest(copy, tmp_path / "b.zarr", cwd=tmp_path, env=env)
    differ = _differing(tmp_path / "a.zarr", tmp_path / "b.zarr")
    assert not [d for d in differ if d.endswith(("/c/0/0", ".0", "c.0.0"))]  # no chunk
    stamps = {"source_mtime_ns", "source_files"}
    for rel in differ:
        if rel == "_eegprep/seen.json":  # the stamps' cache (ctime, inode: a copy's own)
            continue
        old = _records(tmp_path / "a.zarr" / rel)
        new = _records(tmp_path / "b.zarr" / rel)
        assert len(old) == len(new), rel
        for a, b in zip(old, new, strict=True):
            assert {k for k in a.keys() | b.keys() if a.get(k) != b.get(k)} <= stamps, rel
            files_a, files_b = a.get("source_files", []), b.get("source_files", [])
            assert [dict(f, mtime_ns=0) for f in files_a] == [
                dict(f, mtime_ns=0) for f in files_b
            ], rel


def _records(path: Path) -> list[dict[str, Any]]:
    """The records an object holds: an index segment's lines, a group's attributes; a
    fields file is compared as the records it is derived from (its base's digest moves)."""
    if path.suffix == ".fields":
        return _records(path.with_suffix(".jsonl"))
    if path.suffix == ".jsonl":
        lines = [json.loads(line) for line in path.read_text().splitlines()]
        return [r for r in lines if "_base" not in r]
    attrs = json.loads(path.read_text()).get("attributes", {})
    return [{k: v for k, v in attrs.items() if k != "crc32c"}]
