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
from eegprep.base.errors import EegprepError, StoreFormatError
from eegprep.ingestion.driver import IngestConfig, ingest
from eegprep.store.validate import check_store
from tests.safety.corpus import copy_of, flipped, ingest_folder, store_values, write_edf

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
    return copy_of(built, tmp_path)


def _values(out: Path) -> dict[str, np.ndarray]:
    """Every listed recording's samples, and the target series, by id."""
    return store_values(out, TARGET)


def _index_lost(index: Path, how: str) -> None:
    segment = index / "0000000001.jsonl"
    blob = segment.read_bytes()
    if how == "deleted":
        segment.unlink()
    else:
        segment.write_bytes({"cut to 0": b"", "zero-filled": bytes(len(blob))}[how])
    (index / "0000000001.fields").unlink(missing_ok=True)


@pytest.mark.parametrize(
    "how",
    ["deleted", *(pytest.param(h, marks=pytest.mark.slow) for h in ("cut to 0", "zero-filled"))],
)
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


def _pretrain_batches(out: Path) -> tuple[dict[int, np.ndarray], list[int]]:
    """Pre-training's dataset over ``out``, one epoch in this process: each window's values
    by the window number its batch states (a stand-in states its own), and the windows it
    found unreadable."""
    from labram.data.loader import WindowDataset
    from labram.data.sampler import BatchPlan
    from labram.data.unreadable import FOUND
    from labram.data.windows import WindowConfig, build_pretrain_index

    index = build_pretrain_index([str(out)], WindowConfig(exclude_splits=()))
    dataset = WindowDataset(BatchPlan(index, batch_size=2, seed=0), helper_thread=False)
    dataset.set_epoch(0)
    values: dict[int, np.ndarray] = {}
    unreadable: list[int] = []
    for batch in dataset:
        found = [w for w, _, _ in batch.get(FOUND, [])]
        unreadable += found
        for w, x in zip(batch["ids"].tolist(), batch["x"].numpy(), strict=True):
            if w not in found:
                values[w] = x
    return values, unreadable


@pytest.mark.parametrize("kind", list(ARRAYS))
def test_a_folder_at_a_chunk_s_place_is_damage(store: Path, kind: str) -> None:
    """``validate`` names it, and every reader either reads its values or raises the damage
    error of one line (the loader replaces a window on that error, and only on that one)."""
    out = store / "s.zarr"
    before = dict(_readers(out))
    windows, _ = _pretrain_batches(out)
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
    assert sum(named in p for p in found.problems) == 1, found.problems  # (a shard's: twice)
    for name, got in _readers(out):
        if isinstance(got, Exception):
            assert isinstance(got, StoreFormatError), (name, repr(got))
            assert "\n" not in str(got) and "c" in str(got), (name, str(got))
        else:
            assert np.array_equal(np.asarray(got), np.asarray(before[name])), name
    # the training loader stands a readable window in for each damaged one (the folder at a
    # shard's place stopped it), and every window it gives holds that window's values
    got, unreadable = _pretrain_batches(out)
    assert got and all(np.array_equal(x, windows[w]) for w, x in got.items())
    assert bool(unreadable) == (kind == "data")


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


# The sweep: every kind of file of a store that has been through a re-ingest and a prune.

DAMAGES = {
    "bit flipped at the start": lambda b: flipped(b, 0),
    "bit flipped in the middle": lambda b: flipped(b, len(b) // 2),
    "bit flipped at the end": lambda b: flipped(b, len(b) - 1),
    "cut to 0 bytes": lambda b: b"",
    "cut to half": lambda b: b[: len(b) // 2],
    "cut one byte short": lambda b: b[:-1],
    "one byte appended": lambda b: b + b"\x00",
    "zero-filled": lambda b: bytes(len(b)),
    "deleted": lambda b: None,
    "a folder in its place": lambda b: "folder",
}

KINDS = {  # one file of each kind, by its path from the store root ({v2}: r0's new version)
    "root zarr.json": "zarr.json",
    "recordings zarr.json": "recordings/zarr.json",
    "corpus zarr.json": "recordings/folder/zarr.json",
    "bookkeeping zarr.json": "_eegprep/zarr.json",
    "recording group (EDF)": "recordings/folder/r1/zarr.json",
    "recording group (MoBI)": "recordings/mobi/SL01-T02/zarr.json",
    "data zarr.json": "recordings/folder/r1/data/zarr.json",
    "data shard": "recordings/folder/r0@2/data/c.0.0",
    "channel zarr.json": "recordings/mobi/SL01-T02/channel/zarr.json",
    "channel chunk": "recordings/folder/r1/channel/c.0",
    "time zarr.json": "recordings/folder/r1/time/zarr.json",
    "time chunk": "recordings/mobi/SL01-T02/time/c.0",
    "target zarr.json": "recordings/mobi/SL01-T02/joints/zarr.json",
    "target chunk": "recordings/mobi/SL01-T02/joints/c/0/0",
    "index segment": "_eegprep/index/0000000001.jsonl",
    "index fields": "_eegprep/index/0000000001.fields",
    "seen-files cache": "_eegprep/seen.json",
    "ingest report": "_eegprep/reports/{first}",
    "retired list": "_eegprep/retired.json",
    "retired group's record": "recordings/folder/r0/record.json",
    "retired group's shard": "recordings/folder/r0/data/c.0.0",
    "pruned group's marker": "recordings/folder/r2/removed.json",
}

NO_DAMAGE = {  # kinds whose loss is no damage (each may be missing in a sound store), and why
    "index fields": "derived from the base segment, written again by the next ingest",
    "seen-files cache": "a cache: without it the next ingest compares files by content",
    "ingest report": "a log that nothing lists",
}


@pytest.fixture(scope="module")
def aged(built: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``built`` after ``r0`` is re-ingested (``r0@2``; ``r0`` retired with its
    ``record.json``) and ``r2`` is ingested and then pruned (its ``removed.json``)."""
    root = tmp_path_factory.mktemp("aged")
    shutil.copytree(built, root, symlinks=True, dirs_exist_ok=True)
    src, out = root / "edf", root / "s.zarr"
    write_edf(src, "r2.edf", seed=2, seconds=6)
    ingest_folder(src, out)
    write_edf(src, "r0.edf", seed=9, seconds=6)
    (src / "r2.edf").unlink()
    ingest_folder(src, out, prune=True)
    assert check_store(str(out)).problems == []
    return root


def _damaged(path: Path, blob: bytes | str | None) -> None:
    path.unlink()
    if blob == "folder":
        path.mkdir()
    elif isinstance(blob, bytes):
        path.write_bytes(blob)


def _found_or_same(out: Path, want: dict[str, object], case: str) -> None:
    """Every reader gives the values of ``want`` or one damage line: ``open_store``, each
    recording's samples and target, and the labram loader's windows."""
    try:
        got = dict(_readings(out))
    except StoreFormatError as exc:  # (the store refused whole: its root, its index)
        assert "\n" not in str(exc), case
        return
    for key, value in got.items():
        if key not in want:  # (the damaged recording, once an ingest wrote it again)
            continue
        if isinstance(value, Exception):
            assert isinstance(value, StoreFormatError), (case, key, repr(value))
            assert "\n" not in str(value), (case, key)
        else:
            assert np.array_equal(np.asarray(value), np.asarray(want[key])), (case, key)


def _readings(out: Path) -> Iterator[tuple[str, object]]:
    from labram.data.block_reader import BlockReader
    from labram.data.windows import WindowConfig, build_pretrain_index

    s = open_store(out)
    for rid in sorted(r.id for r in s):
        yield _attempt(rid, lambda r=rid: s.read(r))
    yield _attempt("/".join(TARGET), lambda: s.read_target(*TARGET))
    index = build_pretrain_index([str(out)], WindowConfig(exclude_splits=()))
    reader = BlockReader(index)
    for w in range(len(index)):
        plan = index.recordings[int(index.rec[w])]
        yield _attempt(f"{plan.id}@{int(index.start[w])}", lambda w=w: reader.window(w))


def _attempt(key: str, read: object) -> tuple[str, object]:
    try:
        return key, read()  # type: ignore[operator]
    except Exception as exc:  # (what each reader raises is the test)
        return key, exc


@pytest.mark.slow
@pytest.mark.parametrize("kind", list(KINDS))
def test_every_damage_to_every_kind_of_file_is_found_never_read(
    aged: Path, tmp_path: Path, kind: str
) -> None:
    """Each damage of each kind of file: ``validate`` exits 1 with a line naming the file or
    its recording (or 0 where the kind's loss is no damage), ``stats`` prints or fails in one
    line, every reader gives the original values or one damage line, and an ingest into the
    damaged store changes no other recording."""
    runner = CliRunner()
    shutil.copytree(aged, tmp_path / "good", symlinks=True)
    out = tmp_path / "good" / "s.zarr"
    want = dict(_readings(out))
    reports = sorted((out / "_eegprep" / "reports").iterdir())
    rel = KINDS[kind].format(first=reports[0].name)
    parts = rel.split("/")
    owner = {r.group: r.id for r in open_store(out)}.get("/".join(parts[:3]))  # (if listed)
    retired = parts[0] == "recordings" and owner is None and len(parts) > 3
    lost = ("index missing",) if rel.startswith("_eegprep/index/") else ()
    for what, damage in DAMAGES.items():
        case = f"{rel}: {what}"
        work = tmp_path / "work"
        shutil.rmtree(work, ignore_errors=True)
        shutil.copytree(tmp_path / "good", work, symlinks=True)
        store = work / "s.zarr"
        _damaged(store / rel, damage((out / rel).read_bytes()))
        res = runner.invoke(eegprep_cli, ["validate", str(store)])
        assert not isinstance(res.exception, Exception) or isinstance(res.exception, SystemExit)
        lines = res.output.splitlines()
        if not (kind in NO_DAMAGE and what == "deleted"):
            named = [x for x in lines if x.startswith("problem: ") and (
                rel in x or parts[-1] in x or (owner is not None and owner in x)
                or (retired and "/".join(parts[:3]) in x) or any(w in x for w in lost)
            )]  # fmt: skip
            assert res.exit_code == 1 and named, (case, res.output[-800:])
        stats = runner.invoke(eegprep_cli, ["stats", str(store)])
        assert stats.exit_code in (0, 2, 3) and "Traceback" not in stats.output, case
        if stats.exit_code == 2:
            assert stats.output.count("\n") == 1, (case, stats.output)
        _found_or_same(store, want, case)
        try:
            ingest_folder(tmp_path / "good" / "edf", store)
        except EegprepError as exc:  # (refused before it wrote: one line)
            assert "\n" not in str(exc), case
        kept = {k: v for k, v in want.items() if owner is None or not k.startswith(owner)}
        _found_or_same(store, kept, f"{case}, then an ingest")


QUICK = {"retired list", "retired group's record", "seen-files cache", "index segment"}
DOCUMENTS = [  # the others over 2 s together: slow
    k if k in QUICK else pytest.param(k, marks=pytest.mark.slow)
    for k in KINDS
    if not k.endswith(("shard", "chunk"))
]


@pytest.mark.parametrize("no_file", ["folder", pytest.param("fifo", marks=pytest.mark.slow)])
@pytest.mark.parametrize("kind", DOCUMENTS)
def test_a_document_that_is_no_file_is_named_by_validate(
    aged: Path, tmp_path: Path, kind: str, no_file: str
) -> None:
    """A folder or a FIFO where a JSON document (or index segment) of the store lies is a
    problem line naming it, never an internal error (a folder at ``retired.json`` was one)."""
    import os

    shutil.copytree(aged / "s.zarr", tmp_path / "s.zarr", symlinks=True)
    out = tmp_path / "s.zarr"
    first = sorted((out / "_eegprep" / "reports").iterdir())[0].name
    rel = KINDS[kind].format(first=first)
    (out / rel).unlink()
    if no_file == "folder":
        (out / rel).mkdir()
    else:
        os.mkfifo(out / rel)
    res = CliRunner().invoke(eegprep_cli, ["validate", str(out)])
    assert res.exit_code == 1 and "internal error" not in res.output, res.output
    assert any(x.startswith("problem: ") and rel in x for x in res.output.splitlines()), res.output


@pytest.mark.parametrize("group_doc", ["none", "a group without a record"])
def test_another_program_s_folder_of_chunk_folders_is_still_left_alone(
    store: Path, group_doc: str
) -> None:
    """Chunks in folders mark a group as eegprep's only beside a record (or a document too
    damaged to say): a folder of arrays another program wrote stays a ``note:``, and every
    ingest leaves it as it is."""
    import warnings

    import zarr

    out = store / "s.zarr"
    folder = out / "recordings" / "folder" / "notes"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if group_doc == "none":
            zarr.create_array(str(folder / "x"), data=np.arange(6.0).reshape(2, 3))
        else:
            zarr.open_group(str(folder), mode="w").create_array("x", data=np.ones((2, 3)))
    assert (folder / "x" / "c").is_dir()
    before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    found = check_store(str(out))
    assert found.problems == [] and any(
        n.startswith("recordings/folder/notes:") for n in found.notes
    )
    ingest_folder(store / "edf", out, keep_replaced=0.0)
    ingest_folder(store / "edf", out, keep_replaced=0.0)
    assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == before


@pytest.mark.parametrize("extra", [0, 1, 2, 3])
def test_a_zero_filled_document_is_named_so_by_validate(store: Path, extra: int) -> None:
    """A document a crash left as NUL bytes alone (its length kept) was "damaged
    (UnicodeDecodeError: 'utf-32-be' codec can't decode ...)" when its length was no multiple
    of 4 (Python's parser guessed UTF-32 from the zeros) and "Expecting value" otherwise."""
    from eegprep.base.strict_json import ZERO_FILLED

    out = store / "s.zarr"
    docs = [out / "zarr.json", next((out / "recordings").rglob("r0/zarr.json"))]
    for doc in docs:
        blob = doc.read_bytes()
        doc.write_bytes(bytes(len(blob) // 4 * 4 + extra))
        problems = check_store(str(out)).problems
        doc.write_bytes(blob)
        assert any(ZERO_FILLED in p and doc.name in p for p in problems), problems
        assert not any("utf-32" in p for p in problems), problems
