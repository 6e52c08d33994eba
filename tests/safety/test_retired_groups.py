"""Promise: `eegprep validate` reads retired groups too, and reports their damage apart.

A re-ingested (or pruned) recording's old group is *retired*: the index lists another version,
and the old one stays until ``--keep-replaced`` for readers holding an older index (a training
run, a result to reproduce). ``validate`` skipped them: a flipped bit in one went unnoticed
until a reader of the old index failed on it. Every retired group is now read byte by byte like
a listed recording, its attributes checked against the sealed copy of the record it was listed
with (``record.json``, written when it is retired), and each problem is a line starting
``retired group {group}``, which names no listed recording: the live store's recordings are
reported sound when they are.
"""

from __future__ import annotations

import json
import random
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from cli import eegprep_cli
from eegprep import open_store
from eegprep.store.validate import RETIRED_PREFIX, check_store, validate
from tests.safety.backends import Backend
from tests.safety.corpus import ingest_folder, write_edf

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # numcodecs' zarr3 codecs

OLD = "recordings/folder/r0"  # r0's first version, retired by the re-ingest
PREFIX = f"{RETIRED_PREFIX}{OLD}: "


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("retired")
    src, out = root / "src", root / "s.zarr"
    for i in range(2):
        write_edf(src, f"r{i}.edf", seed=i, seconds=6)
    ingest_folder(src, out)
    write_edf(src, "r0.edf", seed=7, seconds=6)  # changed: a new version, the old one retired
    ingest_folder(src, out)
    assert open_store(out).recording("folder/r0").group == f"{OLD}@2"
    return root


@pytest.fixture
def store(base: Path, tmp_path: Path) -> Path:
    shutil.copytree(base, tmp_path, dirs_exist_ok=True)
    return tmp_path / "s.zarr"


def _flips(blob: bytes, n: int, seed: int, span: tuple[int, int] | None = None) -> list[bytes]:
    lo, hi = span or (0, len(blob))
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        bit = rng.randrange(lo * 8, hi * 8)
        b = bytearray(blob)
        b[bit // 8] ^= 1 << (bit % 8)
        out.append(bytes(b))
    return out


def _same_values(blob: bytes, good: bytes) -> bool:
    """Whether ``blob`` parses to the values ``good`` holds (JSON text that differs only in a
    digit past a float's precision)."""
    try:
        return bool(json.loads(blob) == json.loads(good))
    except ValueError:
        return False


def _retired_by_an_earlier_version(store: Path) -> None:
    """Make the retired group what an earlier version left: no ``record.json``, and its entry
    in the retired list of two fields, ``[group, time]``, which says nothing of one."""
    from eegprep.base.sealed import seal

    (store / OLD / "record.json").unlink()
    path = store / "_eegprep" / "retired.json"
    rows = [row[:2] for row in json.loads(path.read_text())["retired"]]
    path.write_text(json.dumps(seal({"retired": rows})))


def _only_retired(store: Path) -> list[str]:
    """The problems validate finds, asserting that each is the retired group's."""
    result = check_store(str(store))
    assert result.retired == 1 and result.checked == 2
    assert all(p.startswith(PREFIX) for p in result.problems), result.problems
    return result.problems


def test_a_sound_retired_group_is_checked(store: Path) -> None:
    assert (store / OLD / "record.json").is_file()
    doc = json.loads((store / OLD / "record.json").read_text())
    assert doc["reason"] == "replaced" and doc["record"]["group"] == OLD
    assert check_store(str(store)).problems == [] and check_store(str(store)).retired == 1
    res = CliRunner().invoke(eegprep_cli, ["validate", str(store)])
    assert res.exit_code == 0 and "2 recordings checked, 1 retired groups checked, 0 problems" in (
        res.output
    )


def test_flipped_bits_in_a_retired_groups_chunks_and_shard_index_are_reported(
    store: Path,
) -> None:
    shard = store / OLD / "data" / "c.0.0"
    good = shard.read_bytes()
    index = len(good) - (16 * 30 + 4)  # the shard index (and its CRC) at the shard's end
    for blob in [
        *_flips(good, 15, seed=1, span=(0, index)),
        *_flips(good, 15, 2, (index, len(good))),
    ]:
        shard.write_bytes(blob)
        problems = _only_retired(store)
        assert problems and any("c.0.0" in p for p in problems), blob
    res = CliRunner().invoke(eegprep_cli, ["validate", str(store)])
    assert res.exit_code == 1 and f"problem: {PREFIX}" in res.output
    assert "in retired groups" in res.output and "the listed recordings do not use" in res.output
    shard.write_bytes(good[: len(good) // 2])
    assert _only_retired(store)
    shard.unlink()
    assert any("c.0.0" in p for p in _only_retired(store))


@pytest.mark.parametrize(
    "rel",
    ["zarr.json", "record.json", "data/zarr.json", "channel/zarr.json", "time/zarr.json",
     "channel/c.0", "time/c.0"],
)  # fmt: skip
def test_every_flipped_bit_in_a_retired_groups_metadata_is_reported(store: Path, rel: str) -> None:
    """The group's attributes are checked against ``record.json`` (a flipped label, hash or QC
    value leaves valid JSON), ``record.json`` by its CRC-32C, the arrays' documents against the
    record and the coordinates' chunks by their CRC-32C."""
    path = store / OLD / rel
    good = path.read_bytes()
    for blob in _flips(good, 40, seed=len(rel)):
        if rel.endswith("zarr.json") and _same_values(blob, good):
            continue  # a float's 17th digit that parses to the same number: nothing changed
        path.write_bytes(blob)
        assert _only_retired(store), (rel, blob)
    path.write_bytes(good)
    assert check_store(str(store)).problems == []


def test_damage_to_what_a_retired_group_names_is_reported(store: Path) -> None:
    meta = store / OLD / "zarr.json"
    good = meta.read_text()
    meta.write_text(good.replace(f'"group": "{OLD}"', f'"group": "{OLD}@5"'))
    assert any("record.json (the record it was listed with) differ in group" in p
               for p in _only_retired(store))  # fmt: skip
    _retired_by_an_earlier_version(store)  # its attributes alone
    assert any("its record's group is 'recordings/folder/r0@5'" in p for p in _only_retired(store))
    meta.write_text(good.replace('"id": "folder/r0"', '"id": "folder/r9"'))
    assert any("its record's id is 'folder/r9'" in p for p in _only_retired(store))
    meta.unlink()
    assert check_store(str(store)).retired == 0  # nothing of a recording left to check


def test_a_retired_group_of_an_earlier_version_is_checked_by_its_attributes(
    store: Path,
) -> None:
    _retired_by_an_earlier_version(store)
    assert check_store(str(store)).problems == []
    shard = store / OLD / "data" / "c.0.0"
    shard.write_bytes(_flips(shard.read_bytes(), 1, seed=3, span=(100, 200))[0])
    assert any("CRC-32C" in p for p in _only_retired(store))


def test_what_a_stopped_ingest_leaves_is_not_reported(store: Path) -> None:
    """Groups never listed (an ingest stopped while writing them: no ``zarr.json``, or empty
    attributes) and groups copied there hold no record to check; a group deleted while it is
    read (its time up, by an ingest running beside) is not damage either."""
    from eegprep.store.recording_writer import group_json
    from eegprep.store.writer import StoreWriter
    from tests.safety.corpus import folder_config

    for name, meta in [("x@2", None), ("x@3", group_json({})), ("copy", None)]:
        shutil.copytree(store / f"{OLD}@2", store / "recordings" / "folder" / name)
        (store / "recordings" / "folder" / name / "zarr.json").unlink()
        if meta is not None:
            (store / "recordings" / "folder" / name / "zarr.json").write_bytes(meta)
    shutil.copy(store / f"{OLD}@2" / "zarr.json", store / "recordings" / "folder" / "copy")
    with StoreWriter(store, folder_config().recipe) as writer:  # retires the three orphans
        assert {"recordings/folder/x@2", "recordings/folder/copy"} <= set(writer._retired())
    result = check_store(str(store))
    assert (result.retired, result.problems) == (1, [])


def test_a_retired_group_deleted_while_it_is_read_is_not_reported(
    store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from eegprep.store import validate_retired as module  # (where the retired check calls it)

    shard = store / OLD / "data" / "c.0.0"
    shard.write_bytes(shard.read_bytes()[:100])
    real = module.recording_problems

    def deleting(*args: object, **kw: object) -> list[str]:
        found = real(*args, **kw)  # type: ignore[arg-type]
        if kw.get("name"):  # the retired group's check: deleted meanwhile, as an ingest does
            for name in ("record.json", "zarr.json"):
                (store / OLD / name).unlink()
        return found

    monkeypatch.setattr(module, "recording_problems", deleting)
    assert check_store(str(store)).problems == []


def test_repair_leaves_a_damaged_retired_group_and_its_time_removes_it(store: Path) -> None:
    """``--repair`` writes listed recordings again; a retired version's sources are gone (it
    was replaced because they changed), so it is left as it is and reported until a later
    ingest deletes it, once ``--keep-replaced`` is up."""
    src = store.parent / "src"
    live = {r.id: open_store(store).read(r.id) for r in open_store(store)}
    shard = store / OLD / "data" / "c.0.0"
    shard.write_bytes(_flips(shard.read_bytes(), 1, seed=4, span=(100, 200))[0])
    rep = ingest_folder(src, store, repair=True)
    assert (rep.n_ingested, rep.n_current, rep.failed) == (0, 2, [])
    assert shard.is_file() and _only_retired(store)
    for rid, x in live.items():
        np.testing.assert_array_equal(open_store(store).read(rid), x)
    ingest_folder(src, store, keep_replaced=0.0)
    assert not (store / OLD).exists()
    assert validate(str(store)) == (2, [])


def test_a_version_replaced_by_repair_is_not_reported_again(store: Path) -> None:
    src = store.parent / "src"
    shard = store / f"{OLD}@2" / "data" / "c.0.0"
    shard.write_bytes(_flips(shard.read_bytes(), 1, seed=5, span=(100, 200))[0])
    problems = validate(str(store))[1]
    assert problems and all(p.startswith("folder/r0: ") for p in problems), problems
    rep = ingest_folder(src, store, repair=True)
    assert rep.n_ingested == 1 and open_store(store).recording("folder/r0").group == f"{OLD}@3"
    doc = json.loads((store / f"{OLD}@2" / "record.json").read_text())
    assert doc["reason"] == "repaired" and "CRC-32C" in doc["damage"][0]
    result = check_store(str(store))
    assert (result.checked, result.retired, result.problems) == (2, 1, [])  # @2 is known damage


def test_a_pruned_recordings_group_is_checked(store: Path) -> None:
    src = store.parent / "src"
    (src / "r1.edf").unlink()
    ingest_folder(src, store, prune=True)
    doc = json.loads((store / "recordings" / "folder" / "r1" / "record.json").read_text())
    assert doc["reason"] == "removed"
    result = check_store(str(store))
    assert (result.checked, result.retired, result.problems) == (1, 2, [])
    (store / "recordings" / "folder" / "r1" / "time" / "c.0").unlink()
    problems = check_store(str(store)).problems
    assert len(problems) == 1 and problems[0].startswith(
        f"{RETIRED_PREFIX}recordings/folder/r1: recordings/folder/r1/time/c.0 missing"
    )


def test_a_pruned_groups_removal_mark_is_checked(store: Path) -> None:
    """``removed.json`` keeps a pruned group from being listed again; a flipped digit of its
    time, or its loss, went unreported. It is sealed now, and must be there when the group's
    ``record.json`` says it was removed."""
    src = store.parent / "src"
    (src / "r1.edf").unlink()
    ingest_folder(src, store, prune=True)
    mark = store / "recordings" / "folder" / "r1" / "removed.json"
    doc = json.loads(mark.read_text())
    assert set(doc) == {"id", "removed_at", "crc32c"} and doc["id"] == "folder/r1"
    good = mark.read_bytes()
    at = good.index(b'"removed_at": ') + len(b'"removed_at": ')
    mark.write_bytes(good[:at] + bytes([good[at] ^ 1]) + good[at + 1 :])
    problems = check_store(str(store)).problems
    assert len(problems) == 1 and "recordings/folder/r1/removed.json damaged" in problems[0]
    mark.unlink()
    problems = check_store(str(store)).problems
    assert len(problems) == 1 and "recordings/folder/r1/removed.json missing" in problems[0]


def test_a_lost_retired_list_names_the_groups_it_listed(store: Path) -> None:
    (store / "_eegprep" / "retired.json").unlink()
    problems = validate(str(store))[1]
    assert problems == [
        f"{OLD}: a retired group (it holds record.json) that _eegprep/retired.json does not list "
        "(that list lost or damaged): the next ingest retires it again"
    ]


@pytest.fixture(params=["local", "memory"])
def backend(store: Path, request: pytest.FixtureRequest) -> Iterator[Backend]:
    b = Backend(store, request.param, "retired")
    yield b
    b.close()


def test_retired_list_entries_carry_their_record_json_checksum(store: Path) -> None:
    """Each entry is ``[group, time, record]``: ``record`` the ``crc32c`` of the group's
    ``record.json``, which no entry of an earlier version states."""
    rows = json.loads((store / "_eegprep" / "retired.json").read_text())["retired"]
    doc = json.loads((store / OLD / "record.json").read_text())
    assert [row[0] for row in rows] == [OLD] and len(rows[0]) == 3
    assert rows[0][2] == doc["crc32c"]


def test_a_lone_deleted_record_json_of_a_retired_group_is_reported(backend: Backend) -> None:
    """It was taken for a group an earlier version retired (no ``record.json``), and nothing
    was reported: the retired list now says that one was written, under its checksum."""
    rel = f"{OLD}/record.json"
    good = backend.read(rel)
    backend.delete(rel)
    result = check_store(backend.url)
    assert (result.checked, result.retired) == (2, 1)
    assert result.problems == [
        f"{PREFIX}{rel} missing (_eegprep/retired.json says it was written when the group was "
        "retired: the sealed copy of the record it was listed with, which its attributes are "
        "checked against)"
    ]
    res = CliRunner().invoke(eegprep_cli, ["validate", backend.url])
    assert res.exit_code == 1 and f"problem: {PREFIX}{rel} missing" in res.output
    backend.write(rel, good)
    assert check_store(backend.url).problems == []


def test_a_retired_groups_record_json_replaced_by_another_is_reported(backend: Backend) -> None:
    """A sound, sealed ``record.json`` that is not the one written when the group was retired
    (here one saying ``--repair`` replaced the group, which validate takes as known damage and
    does not check) fails the checksum its entry states."""
    from eegprep.store.retired_list import retired_record

    rel = f"{OLD}/record.json"
    doc = json.loads(backend.read(rel))
    backend.write(rel, retired_record(doc["record"], "repaired", ["a flipped bit"]))
    problems = check_store(backend.url).problems
    assert len(problems) == 1 and problems[0].startswith(f"{PREFIX}{rel} damaged (not the one")
    assert doc["crc32c"] in problems[0]


def test_a_retired_group_deleted_whole_is_reported(backend: Backend) -> None:
    backend.delete(OLD)
    problems = check_store(backend.url).problems
    assert len(problems) == 1 and problems[0].startswith(f"{PREFIX}missing, all of it")


def test_a_retired_group_whose_deletion_began_while_it_was_read_is_not_reported(
    store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An ingest deleting a retired group first writes its entry without the checksum, then
    deletes its ``record.json``: validate, having read the list before, reads it again before
    calling the missing ``record.json`` damage."""
    from eegprep.base.sealed import seal
    from eegprep.store import validate as module

    real = module.retired_groups

    def deleting(*args: Any) -> Any:
        found = real(*args)  # what validate read; then an ingest begins deleting the group
        path = store / "_eegprep" / "retired.json"
        rows = [[g, t, None] for g, t, _ in json.loads(path.read_text())["retired"]]
        path.write_text(json.dumps(seal({"retired": rows})))
        (store / OLD / "record.json").unlink()
        return found

    monkeypatch.setattr(module, "retired_groups", deleting)
    result = check_store(str(store))
    assert (result.problems, result.retired) == ([], 0)  # being deleted: not checked


def test_every_writer_of_the_retired_list_states_the_record_json(store: Path) -> None:
    """``--prune`` and ``--repair`` retire groups too; their entries state the checksum, and a
    lone deletion of their ``record.json`` is reported."""
    src = store.parent / "src"
    shard = store / f"{OLD}@2" / "data" / "c.0.0"
    shard.write_bytes(_flips(shard.read_bytes(), 1, seed=5, span=(100, 200))[0])
    ingest_folder(src, store, repair=True)  # @2 retired as repaired, @3 listed
    (src / "r1.edf").unlink()
    ingest_folder(src, store, prune=True)  # recordings/folder/r1 retired as removed
    rows = {g: r for g, _, r in json.loads((store / "_eegprep" / "retired.json").read_text())[
        "retired"]}  # fmt: skip
    pruned = "recordings/folder/r1"
    assert set(rows) == {OLD, f"{OLD}@2", pruned}
    for group, record in rows.items():
        assert record == json.loads((store / group / "record.json").read_text())["crc32c"]
    assert check_store(str(store)).problems == []
    for group in (f"{OLD}@2", pruned):
        (store / group / "record.json").unlink()
    problems = check_store(str(store)).problems  # (@2's known damage is no longer known)
    missing = [p.split(": ")[0] for p in problems if "record.json missing" in p]
    assert missing == [f"{RETIRED_PREFIX}{OLD}@2", f"{RETIRED_PREFIX}{pruned}"], problems


def test_an_orphan_that_holds_a_record_json_is_retired_with_its_checksum(store: Path) -> None:
    """A lost retired list: the next ingest retires the group again, its entry stating the
    ``record.json`` it still holds."""
    (store / "_eegprep" / "retired.json").unlink()
    ingest_folder(store.parent / "src", store)
    rows = json.loads((store / "_eegprep" / "retired.json").read_text())["retired"]
    assert [(g, r) for g, _, r in rows] == [
        (OLD, json.loads((store / OLD / "record.json").read_text())["crc32c"])
    ]
    assert check_store(str(store)).problems == []


def test_a_deletion_of_a_retired_group_cut_short_is_not_reported(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ingest that deletes an expired retired group is stopped after its ``record.json``
    is gone (on a local store a kill does the same: tests/safety/test_kill_during_deletion.py):
    its entry no longer states one, so nothing is reported; the next ingest ends the
    deletion."""
    from eegprep.store.fs import Location

    real = Location.remove

    def stopped(self: Location, *parts: str) -> None:
        if parts == (OLD, "zarr.json"):
            raise KeyboardInterrupt
        real(self, *parts)

    src = backend.local.parent / "src"
    with monkeypatch.context() as mp:
        mp.setattr(Location, "remove", stopped)
        with pytest.raises(KeyboardInterrupt):
            ingest_folder(src, backend.url, keep_replaced=0.0)  # type: ignore[arg-type]
    loc = Location.parse(backend.url)
    loc.remove("_eegprep", "lock")  # (what a kill leaves: a stale lock)
    assert not loc.exists(OLD, "record.json") and loc.exists(OLD, "zarr.json")
    assert check_store(backend.url).problems == []
    ingest_folder(src, backend.url, keep_replaced=0.0)  # type: ignore[arg-type]
    assert not loc.exists(OLD, "zarr.json")
    result = check_store(backend.url)
    assert (result.problems, result.retired) == ([], 0)
