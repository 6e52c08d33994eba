"""Promise: `eegprep validate` names everything in a recording group that eegprep did not write.

Before: it read the arrays eegprep writes, by name, and listed nothing else. An entry named as a
chunk that no read of its array sees (``data/c.5.0`` past a one-shard grid, ``data/c.0.0.0``
of three dimensions, ``data/c/0/0`` in an array of ``c.0.0`` keys, ``joints/c/9/0``) passed as
sound, and so did what another program added (an array xarray shows as a variable of the
recording, a subgroup, ``notes.txt``, ``data/c.0.0.bak``): ``0 problems``, not one line. Now the
first kind is damage (exit status 1; ``ingest --repair`` writes the recording again), the second
a ``note:`` line each (exit status 0), left as it is; reads are the same either way."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import zarr
from click.testing import CliRunner

from cli import eegprep_cli
from eegprep import open_store
from eegprep.ingestion.driver import IngestConfig, ingest
from eegprep.store.group_members import Grid
from eegprep.store.validate import check_store
from eegprep.testing.fixtures import write_fixture
from tests.safety.backends import Backend
from tests.safety.corpus import ingest_folder, write_edf
from tests.safety.test_added_attributes import zipped

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # numcodecs' zarr3 codecs

DAMAGE = {  # a chunk-named entry (a copy of the array's first chunk) no read sees
    "data/c.5.0": "outside the array's chunk grid (1 x 1 chunks)",
    "data/c.0.1": "outside the array's chunk grid (1 x 1 chunks)",
    "data/c.0.00": "outside the array's chunk grid",  # (zarr reads ``c.0.0``)
    "data/c.0.0.0": "of 3 dimensions, but the array has 2",
    "data/c.0": "of 1 dimension, but the array has 2",
    "data/c/0/0": "with the separator '/', but the array's keys use '.'",
    "time/c.1": "outside the array's chunk grid (1 chunks)",
    "joints/c/9/0": "outside the array's chunk grid (1 x 1 chunks)",
    "joints/c/0/1/0": "of 3 dimensions, but the array has 2",
    "joints/c.0.0": "with the separator '.', but the array's keys use '/'",
}
ADDED = {  # what another program adds: the entry noted, its kind in words
    "notes.txt": "a file",
    "data/notes.txt": "a file",
    "data/c.0.0.bak": "a file",
    "data/c/0/0.bak": "a file",
    "data/sub/x.bin": "a folder",
    "joints/c/0/0.bak": "a file",
    "joints/c/notes": "a file",
}


@pytest.fixture(scope="module")
def mobi(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A store whose recordings hold a target series (``joints``, keys ``c/0/0``) beside
    ``data`` (keys ``c.0.0``), and its source folder."""
    root = tmp_path_factory.mktemp("members")
    src = write_fixture("mobi", root / "src")
    out = root / "s.zarr"
    ingest("mobi", src=src, out=out, config=IngestConfig(workers=0, progress=False))
    return src, out


@pytest.fixture(params=["local", "memory", "zip"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


class _Copy:
    """A copy of the fixture store on one backend, its first recording's group, and a url
    to check (the zip file's, for ``zip``, made by :meth:`url`)."""

    def __init__(self, store: Path, tmp_path: Path, kind: str) -> None:
        self.folder, self.kind, self.tmp = tmp_path / "s.zarr", kind, tmp_path
        shutil.copytree(store, self.folder)
        self.b = Backend(self.folder, "local" if kind == "zip" else kind, f"members-{kind}")
        self.group = sorted(r.group for r in open_store(self.b.url))[0]

    def put(self, rel: str, blob: bytes) -> None:
        if self.kind == "memory":
            self.b.write(f"{self.group}/{rel}", blob)
        else:
            path = self.folder / self.group / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(blob)

    def first_chunk(self, array: str) -> bytes:
        key = "c/0/0" if array == "joints" else "c.0.0" if array == "data" else "c.0"
        return self.b.read(f"{self.group}/{array}/{key}")

    def url(self) -> str:
        return zipped(self.folder, self.tmp / "s.zip") if self.kind == "zip" else self.b.url


@pytest.fixture()
def copy(mobi: tuple[Path, Path], tmp_path: Path, kind: str) -> Iterator[_Copy]:
    c = _Copy(mobi[1], tmp_path, kind)
    yield c
    c.b.close()


def _reads(url: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    store = open_store(url)
    return {r.id: (store.read(r.id), store.read_target(r.id, "joints")) for r in store}


@pytest.mark.parametrize("rel", sorted(DAMAGE))
def test_a_chunk_no_read_sees_is_damage(copy: _Copy, rel: str) -> None:
    want = _reads(copy.b.url)
    copy.put(rel, copy.first_chunk(rel.split("/")[0]))
    url = copy.url()
    result = check_store(url)
    path = f"{copy.group}/{rel}"
    assert len(result.problems) == 1, result.problems
    (line,) = result.problems
    assert f": {path}: a chunk key " in line or f": {path}: a chunk outside" in line, line
    assert DAMAGE[rel] in line and "--repair" in line, line
    assert not any(path in n for n in result.notes)
    res = CliRunner().invoke(eegprep_cli, ["validate", url])
    assert res.exit_code == 1 and "1 problem" in res.output, res.output
    got = _reads(url)  # (no read sees it: the samples are the ingest's)
    for rid, (data, joints) in want.items():
        np.testing.assert_array_equal(got[rid][0], data)
        np.testing.assert_array_equal(got[rid][1], joints)


@pytest.mark.parametrize("rel", sorted(ADDED))
def test_what_another_program_adds_is_a_note_and_left_alone(copy: _Copy, rel: str) -> None:
    want = _reads(copy.b.url)
    copy.put(rel, b"the user's own bytes")
    url = copy.url()
    result = check_store(url)
    assert result.problems == []
    entry = "/".join(rel.split("/")[:2]) if rel.startswith("data/sub/") else rel
    line = f"{copy.group}/{entry}: {ADDED[rel]} that eegprep does not write"
    assert [n for n in result.notes if n.startswith(line)] != [], result.notes
    res = CliRunner().invoke(eegprep_cli, ["validate", url])
    assert res.exit_code == 0 and "0 problems" in res.output, res.output
    assert f"note: {line}" in res.output
    got = _reads(url)
    for rid, (data, joints) in want.items():
        np.testing.assert_array_equal(got[rid][0], data)
        np.testing.assert_array_equal(got[rid][1], joints)
    if copy.kind != "zip":
        assert copy.b.read(f"{copy.group}/{rel}") == b"the user's own bytes"


def test_an_array_or_group_another_program_adds_is_a_note(
    mobi: tuple[Path, Path], tmp_path: Path
) -> None:
    """An array appended as xarray's ``to_zarr`` would (a variable of the recording's Dataset)
    and a subgroup holding an array of its own: a note each, naming what they are."""
    import xarray as xr

    folder = tmp_path / "s.zarr"
    shutil.copytree(mobi[1], folder)
    group = sorted(r.group for r in open_store(folder))[0]
    root = zarr.open_group(folder / group, mode="r+")
    extra = root.create_array("extra", shape=(4,), dtype="f4", dimension_names=["x"])
    extra[:] = 1.0
    sub = root.create_group("sub")
    sub.create_array("y", shape=(2,), dtype="i4")[:] = 3
    result = check_store(str(folder))
    assert result.problems == []
    assert any(n.startswith(f"{group}/extra: an array (xarray.open_zarr") for n in result.notes)
    assert any(n.startswith(f"{group}/sub: a zarr group") for n in result.notes)
    assert not any(f"{group}/sub/" in n or f"{group}/extra/" in n for n in result.notes)
    with xr.open_zarr(folder / group, consolidated=False) as ds:
        assert "extra" in ds.data_vars  # (what the note says xarray shows)
    root.create_array("clash", shape=(3,), dtype="f4", dimension_names=["time"])
    assert any(n.startswith(f"{group}/clash: an array") for n in check_store(str(folder)).notes)
    with pytest.raises(ValueError, match="conflicting sizes"):
        xr.open_zarr(folder / group, consolidated=False)  # (the group no longer opens)


def test_repair_writes_a_group_with_a_chunk_no_read_sees_again(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "s.zarr"
    write_edf(src, "r0.edf", seed=0)
    assert ingest_folder(src, out).n_ingested == 1
    group = open_store(out).recording("folder/r0").group
    data = out / group / "data"
    (data / "c.3.0").write_bytes((data / "c.0.0").read_bytes())
    (data / "notes.txt").write_bytes(b"mine")
    found = check_store(str(out))
    assert len(found.problems) == 1 and "c.3.0" in found.problems[0]
    report = ingest_folder(src, out, repair=True)
    assert not report.failed
    after = check_store(str(out))
    assert after.problems == []
    assert open_store(out).recording("folder/r0").group != group


@pytest.mark.parametrize(
    ("n_chunks", "separator", "parts", "key_sep", "sound"),
    [
        ((1, 3), ".", ["0", "2"], ".", True),
        ((1, 3), ".", ["0", "3"], ".", False),
        ((1, 3), ".", ["1", "0"], ".", False),
        ((1, 3), ".", ["0", "02"], ".", False),
        ((1, 3), "/", ["0", "2"], "/", True),
        ((1, 3), "/", ["0", "2"], ".", False),
        ((1, 3), "/", ["0"], "/", False),
        ((0,), ".", ["0"], ".", False),  # (an empty array holds no chunk)
    ],
)
def test_grid_judges_each_key(
    n_chunks: tuple[int, ...], separator: str, parts: list[str], key_sep: str, sound: bool
) -> None:
    grid = Grid(n_chunks, separator)
    assert (grid.key_problem(parts, key_sep) is None) is sound


def test_a_deep_tree_of_key_folders_is_named_once(tmp_path: Path) -> None:
    """Key folders nested far past the array's dimensions (a tool's runaway copy) are one line
    naming the folder where the walk stops, not a crash of the check."""
    src, out = tmp_path / "src", tmp_path / "s.zarr"
    write_edf(src, "r0.edf", seed=0)
    assert ingest_folder(src, out).n_ingested == 1
    group = open_store(out).recording("folder/r0").group
    deep = out / group / "data" / "c" / "/".join(["0"] * 300)
    deep.mkdir(parents=True)
    (deep / "0").write_bytes(b"x")
    (line,) = check_store(str(out)).problems
    assert f"{group}/data/c/0/0/0/0/0/0/0: a folder of chunk keys of over 7 dimensions" in line


def test_chunks_of_an_array_whose_metadata_is_damaged_are_not_judged(tmp_path: Path) -> None:
    """A ``data/zarr.json`` whose shape is damaged states another grid: its line names it, and
    the ingest's own chunks are not also called outside that grid."""
    import json

    src, out = tmp_path / "src", tmp_path / "s.zarr"
    write_edf(src, "r0.edf", seed=0)
    assert ingest_folder(src, out).n_ingested == 1
    group = open_store(out).recording("folder/r0").group
    meta = out / group / "data" / "zarr.json"
    doc = json.loads(meta.read_bytes())
    doc["shape"][1] = 0
    meta.write_text(json.dumps(doc))
    problems = check_store(str(out)).problems
    assert problems and any("data/zarr.json" in p or "data shape" in p for p in problems)
    assert not any("chunk grid" in p for p in problems), problems


def _one_recording(tmp_path: Path) -> tuple[Path, str]:
    src, out = tmp_path / "src", tmp_path / "s.zarr"
    write_edf(src, "r0.edf", seed=0)
    assert ingest_folder(src, out).n_ingested == 1
    return out, open_store(out).recording("folder/r0").group


def test_many_added_files_are_named_up_to_a_count(tmp_path: Path) -> None:
    """A tool's folder of thousands of files in a group: 20 named, the rest counted (was one
    note each, a screen of them per recording)."""
    out, group = _one_recording(tmp_path)
    for i in range(35):
        (out / group / "data" / f"x{i:02d}.txt").write_bytes(b"x")
    notes = check_store(str(out)).notes
    assert len([n for n in notes if n.startswith(f"{group}/data/x")]) == 20
    assert f"{group}: 15 more entries eegprep does not write" in notes


def test_a_damaged_chunk_is_named_beside_an_added_file(tmp_path: Path) -> None:
    """A ``channel/c.0`` that fails its CRC-32C is named as such beside a user's file in the
    array's folder (was ``.../channel (its chunks)``: the file counted as a chunk)."""
    out, group = _one_recording(tmp_path)
    chunk = out / group / "channel" / "c.0"
    blob = bytearray(chunk.read_bytes())
    blob[0] ^= 1
    chunk.write_bytes(bytes(blob))
    (out / group / "channel" / "notes.txt").write_bytes(b"mine")
    problems = check_store(str(out)).problems
    assert any(f"{group}/channel/c.0: fails its CRC-32C check" in p for p in problems), problems
