"""Promise: bit rot in any file of a store, of any kind, is found and never read as other
values, and an ingest into the damaged store loses no intact recording.

A store of three source formats (EDF; MoBI's text files, with a target series, events and
labels; an ingest of each, so reports, the seen-files cache and the index's fields file) gets,
one file kind at a time (every ``zarr.json``, shard, chunk, index segment, fields file, report,
cache), each of: one bit flipped at its start, middle and end, a cut to 0 bytes, to half and
to one byte short, one byte appended, zeros over it, its deletion, a folder in its place.

This found two defects. A recording group holding a target series (its chunks in zarr's
``c/0/0`` folders) was taken for a node another program added once no index listed it: a
lost or emptied index was rebuilt by the next ingest without those recordings, and
``validate`` then found the store sound (every recording with a target series lost from it).
And a folder at a chunk's place was no damage of its file: at a shard's an I/O error
(``IsADirectoryError``), so the loader of training, which stands another window in for a
damaged one, stopped the run instead; at a ``channel`` or ``time`` chunk's (read as the fill
value by zarr) a coordinate that differs, the folder itself a ``note:`` of another
program's addition, "not damage". And a folder named ``zarr.json`` in a corpus folder (the
corpus group's metadata) was taken for a recording group: every ingest refused.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from cli import eegprep_cli
from eegprep import open_store
from eegprep.base.errors import StoreFormatError
from eegprep.ingestion.driver import IngestConfig, ingest
from eegprep.store.validate import check_store
from tests.safety.corpus import ingest_folder, write_edf

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # numcodecs' zarr3 codecs

MOBI = IngestConfig(workers=0, progress=False, mains=60.0)
TARGET = ("mobi/SL01-T01", "joints")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from eegprep.testing.fixtures import write_fixture

    root = tmp_path_factory.mktemp("rot")
    out = root / "s.zarr"
    for i in range(2):
        write_edf(root / "edf", f"r{i}.edf", seed=i, seconds=6)
    ingest_folder(root / "edf", out)
    ingest("mobi", src=write_fixture("mobi", root / "mobi"), out=out, config=MOBI)
    assert check_store(str(out)).problems == []
    return root


@pytest.fixture()
def store(built: Path, tmp_path: Path) -> Path:
    shutil.copytree(built, tmp_path / "c", symlinks=True)
    return tmp_path / "c"


def _values(out: Path) -> dict[str, np.ndarray]:
    """Every listed recording's samples, and the target series, by id."""
    s = open_store(out)
    got = {r.id: s.read(r.id) for r in s}
    got["/".join(TARGET)] = s.read_target(*TARGET)
    return got


def _index_lost(index: Path, how: str) -> None:
    segment = index / "0000000001.jsonl"
    blob = segment.read_bytes()
    if how == "deleted":
        segment.unlink()
    else:
        segment.write_bytes({"cut to 0": b"", "zero-filled": bytes(len(blob))}[how])
    (index / "0000000001.fields").unlink(missing_ok=True)


@pytest.mark.parametrize("how", ["deleted", "cut to 0", "zero-filled"])
def test_a_lost_index_is_rebuilt_with_every_kind_of_recording(store: Path, how: str) -> None:
    """Every group is counted as unlisted, and the next ingest (of any corpus) lists each
    again: the recordings with a target series were left out, for good, said nowhere."""
    out = store / "s.zarr"
    want = _values(out)
    _index_lost(out / "_eegprep" / "index", how)
    lost = check_store(str(out))
    assert any("4 recording groups" in p for p in lost.problems), lost
    assert lost.notes == []
    ingest_folder(store / "edf", out)
    after = check_store(str(out))
    assert (after.checked, after.problems, after.notes) == (4, [], [])
    got = _values(out)
    assert got.keys() == want.keys()
    assert all(np.array_equal(got[k], want[k]) for k in want)


@pytest.mark.parametrize("rid", ["folder/r0", TARGET[0]])
def test_an_index_line_lost_is_listed_again_from_its_group(store: Path, rid: str) -> None:
    """One recording's line gone (what an ingest stopped before its index segment leaves):
    the next ingest lists that recording again from its group, of whatever kind."""
    out = store / "s.zarr"
    want = _values(out)
    index = out / "_eegprep" / "index"
    segment = index / "0000000001.jsonl"
    lines = segment.read_bytes().splitlines(keepends=True)
    kept = [x for x in lines if json.loads(x).get("id") != rid]
    assert len(kept) == len(lines) - 1
    segment.write_bytes(b"".join(kept))
    (index / "0000000001.fields").unlink()
    unlisted = check_store(str(out)).problems
    assert any("does not list" in p and rid in p for p in unlisted), unlisted
    ingest_folder(store / "edf", out)
    assert check_store(str(out)).problems == []
    got = _values(out)
    assert all(np.array_equal(got[k], want[k]) for k in want)


ARRAYS = {  # a chunk file of each kind of array, by its path in the group
    "data": "data/c.0.0",
    "channel": "channel/c.0",
    "time": "time/c.0",
    "target": "joints/c/0/0",
}


def _readers(out: Path) -> Iterator[tuple[str, object]]:
    """Each reader of the recording ``TARGET[0]``, and what it raised (or returned)."""
    from labram.data.block_reader import BlockReader
    from labram.data.windows import WindowConfig, build_pretrain_index

    s = open_store(out)
    calls = {
        "read": lambda: s.read(TARGET[0]),
        "read_target": lambda: s.read_target(*TARGET),
        "windows": lambda: [
            BlockReader(idx).window(w)
            for idx in [build_pretrain_index([str(out)], WindowConfig(exclude_splits=()))]
            for w in range(len(idx))
        ],
    }
    for name, call in calls.items():
        try:
            yield name, call()
        except Exception as exc:  # (what each reader raises is the test)
            yield name, exc


@pytest.mark.parametrize("kind", list(ARRAYS))
def test_a_folder_at_a_chunk_s_place_is_damage(store: Path, kind: str) -> None:
    """``validate`` names it, and every reader either reads its values or raises the damage
    error of one line (the loader replaces a window on that error, and only on that one)."""
    out = store / "s.zarr"
    before = dict(_readers(out))
    chunk = out / "recordings" / TARGET[0] / ARRAYS[kind]
    chunk.unlink()
    chunk.mkdir()
    res = CliRunner().invoke(eegprep_cli, ["validate", str(out)])
    assert res.exit_code == 1 and TARGET[0] in res.output.splitlines()[0], res.output
    # the file named on a problem line (a target's values by its array), never on a note
    # calling it another program's (a `channel` of empty names was a coordinate that differs)
    rel = f"recordings/{TARGET[0]}/{ARRAYS[kind]}"
    named = rel.rsplit("/c/", 1)[0] if kind == "target" else rel
    found = check_store(str(out))
    assert any(named in p for p in found.problems), found.problems
    assert not any(rel in n for n in found.notes), found.notes
    for name, got in _readers(out):
        if isinstance(got, Exception):
            assert isinstance(got, StoreFormatError), (name, repr(got))
            assert "\n" not in str(got) and "c" in str(got), (name, str(got))
        else:
            assert np.array_equal(np.asarray(got), np.asarray(before[name])), name


@pytest.mark.parametrize("corpus", ["folder", "mobi"])
def test_a_folder_at_a_corpus_group_s_metadata_is_named_and_ingests_go_on(
    store: Path, corpus: str
) -> None:
    """A folder named ``zarr.json`` in a corpus folder is that group's damaged metadata:
    ``validate`` names it, and an ingest goes on (it took it for a recording group, and
    refused every ingest as an unsafe group path), each recording as it was."""
    out = store / "s.zarr"
    want = _values(out)
    doc = out / "recordings" / corpus / "zarr.json"
    doc.unlink()
    doc.mkdir()
    problems = check_store(str(out)).problems
    assert [p for p in problems if f"recordings/{corpus}/zarr.json" in p] == problems != []
    report = ingest_folder(store / "edf", out)
    assert report.n_recordings == 2 and not report.failed
    got = _values(out)
    assert all(np.array_equal(got[k], want[k]) for k in want)
