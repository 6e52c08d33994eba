"""Promise: a SIGKILL at any write of an ingest is followed by a re-run that ends with the store
an uninterrupted ingest makes, byte for byte (ingest reports and times aside).

The ingest runs as the ``eegprep`` command in a child process that kills itself just before a
chosen write (:mod:`tests.safety.killing`): nothing of Python's clean-up runs after the kill.
The fast tests kill at the writes where a kill once left a store that the next run refused or
finished differently; the slow one kills at every write of a first ingest and of a re-ingest.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from eegprep import open_store
from eegprep.base.errors import StoreFormatError
from eegprep.store.validate import validate
from tests.safety.corpus import ingest_folder, write_edf
from tests.safety.killing import KILLED, run, run_killed, write_calls

UNSTABLE = ("_eegprep/reports/", "_eegprep/retired.json")  # times of day; removed.json too


def _args(src: Path, out: Path, *extra: str) -> list[str]:
    return ["-q", "ingest", "folder", "--mains", "60", "--src", str(src), "--out", str(out),
            "--workers", "0", "--commit-every", "1", *extra]  # fmt: skip


def _store_bytes(store: Path) -> dict[str, bytes]:
    """Every file of a store by relative path, but those holding times of day."""
    out = {}
    for path in sorted(store.rglob("*")):
        rel = path.relative_to(store).as_posix()
        if path.is_file() and not rel.startswith(UNSTABLE) and not rel.endswith("removed.json"):
            out[rel] = path.read_bytes()
    return out


def _rerun(src: Path, out: Path) -> dict:
    """The same ingest again, to its end; its report."""
    done = run([*_args(src, out), "--json"])
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _corpus(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    for seed, rel in enumerate(["a.edf", "b.edf", "sub/c.edf"], start=1):
        write_edf(src, rel, seed=seed)
    return src


def test_a_kill_right_after_the_first_folder_of_a_new_store(tmp_path: Path) -> None:
    """A kill before the store's first file leaves an empty ``_eegprep`` folder, once taken
    for a folder that is not a store and refused by every later run."""
    src, out, ref = _corpus(tmp_path), tmp_path / "s.zarr", tmp_path / "ref.zarr"
    ingest_folder(src, ref)
    assert run_killed(_args(src, out), out, ("os.open", r"lock\.flock$")).returncode == KILLED
    assert [p.relative_to(out).as_posix() for p in out.rglob("*")] == ["_eegprep"]
    _rerun(src, out)
    assert _store_bytes(out) == _store_bytes(ref)


@pytest.mark.parametrize("kind", ["jsonl", "fields"])
def test_a_kill_between_the_renames_of_the_final_compaction(tmp_path: Path, kind: str) -> None:
    """The new base and its fields file take the canonical name by two renames; a kill before
    either once left the index under another name for good."""
    src, out, ref = _corpus(tmp_path), tmp_path / "s.zarr", tmp_path / "ref.zarr"
    ingest_folder(src, ref)
    final = rf"^_eegprep/index/\d{{10}}\.{kind} -> _eegprep/index/0000000001\.{kind}$"
    assert run_killed(_args(src, out), out, ("replace", final)).returncode == KILLED
    assert _rerun(src, out)["n_current"] == 3
    assert _store_bytes(out) == _store_bytes(ref)


def test_a_kill_between_a_new_versions_rename_and_its_index_segment(tmp_path: Path) -> None:
    """A re-ingested recording's new version moved into place, not yet listed: the re-run
    lists it (it is complete) instead of retiring it and ingesting the source again."""
    src, out, ref = _corpus(tmp_path), tmp_path / "s.zarr", tmp_path / "ref.zarr"
    ingest_folder(src, out)
    write_edf(src, "b.edf", seed=9)  # the source changed: its recording is re-ingested
    shutil.copytree(out, ref)
    ingest_folder(src, ref)
    killed = run_killed(_args(src, out), out, ("open", r"^_eegprep/retired\.json\.tmp-"))
    assert killed.returncode == KILLED
    assert (out / "recordings" / "folder" / "b@2" / "zarr.json").is_file()
    assert open_store(out).recording("folder/b").group == "recordings/folder/b"  # still the old
    report = _rerun(src, out)
    assert (report["n_ingested"], report["n_current"]) == (0, 3)
    assert any("folder/b: listed again" in w for w in report["warnings"]["(store index)"])
    assert _store_bytes(out) == _store_bytes(ref)
    assert "recordings/folder/b" in (out / "_eegprep" / "retired.json").read_text()
    assert validate(str(out)) == (3, [])


def _listed_samples(store: Path) -> dict[str, np.ndarray]:
    s = open_store(store)
    return {r.id: s.read(r.id) for r in s.recordings}


def _sweep(tmp_path: Path, src: Path, base: Path | None, ref: Path) -> None:
    """Kill ``eegprep ingest`` at each of its writes into a copy of ``base`` (a new store when
    None); after each: ``validate`` one line per problem, every listed recording read back as
    before or as after the ingest, and a re-run that ends equal to ``ref``."""
    counted = tmp_path / "count.zarr"
    if base is not None:
        shutil.copytree(base, counted)
    calls = write_calls(_args(src, counted), counted, tmp_path / "calls.log")
    before = _listed_samples(base) if base is not None else {}
    after, expected = _listed_samples(ref), _store_bytes(ref)
    for k, call in enumerate(calls, start=1):
        out = tmp_path / "t.zarr"
        shutil.rmtree(out, ignore_errors=True)
        if base is not None:
            shutil.copytree(base, out)
        assert run_killed(_args(src, out), out, k).returncode == KILLED, call
        checked = run(["validate", str(out)])
        assert checked.returncode in (0, 1, 2) and "Traceback" not in checked.stderr, call
        if (out / "zarr.json").exists():
            try:
                listed = _listed_samples(out)
            except StoreFormatError as exc:  # a first commit cut short: "index missing"
                assert "index missing" in str(exc) and "\n" not in str(exc), call
                listed = {}
            for rid, x in listed.items():
                versions = [seen[rid] for seen in (before, after) if rid in seen]
                assert any(np.array_equal(x, v) for v in versions), (call, rid)
        _rerun(src, out)
        assert _store_bytes(out) == expected, call


@pytest.mark.slow
def test_a_kill_at_every_write_of_a_first_ingest(tmp_path: Path) -> None:
    src, ref = _corpus(tmp_path), tmp_path / "ref.zarr"
    ingest_folder(src, ref)
    _sweep(tmp_path, src, None, ref)


@pytest.mark.slow
def test_a_kill_at_every_write_of_a_reingest(tmp_path: Path) -> None:
    src, base, ref = _corpus(tmp_path), tmp_path / "base.zarr", tmp_path / "ref.zarr"
    ingest_folder(src, base)
    write_edf(src, "b.edf", seed=9)
    shutil.copytree(base, ref)
    ingest_folder(src, ref)
    _sweep(tmp_path, src, base, ref)
