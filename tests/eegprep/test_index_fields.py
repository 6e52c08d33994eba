"""The index's fields file: opening a store from it gives exactly what parsing the base gives,
and a fields file that is missing, damaged or written for other bytes is never believed."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import msgspec
import pytest

from eegprep.pipeline.recipe import Recipe
from eegprep.store import index
from eegprep.store.fs import Location
from eegprep.store.index import INDEX_DIR, append, compact, read_entries
from eegprep.store.index_fields import BaseLine, fields_name, is_plain
from eegprep.store.index_head import HEAD
from eegprep.store.reader import open_store
from eegprep.store.validate import validate
from eegprep.store.writer import StoreWriter
from eegprep.testing.records import hand_record

BASE = index.BASE_NAME
FIELDS = fields_name(BASE)


def _store(tmp_path: Path, n: int = 40) -> Location:
    """A store whose index lists ``n`` records of varied fields, compacted (no groups on disk:
    only the index is exercised)."""
    url = str(tmp_path / "s.zarr")
    with StoreWriter(url, Recipe()):
        pass
    loc = Location.parse(url)
    rows = []
    for i in range(n):
        channels = ["FP1", "FP2", "CZ"][: 1 + i % 3]
        extra = {"split": "eval"} if i % 5 == 0 else {}
        if i % 4 == 0:
            extra["subject_key"] = f"tuh:s{i // 4}"
        rows.append(
            hand_record(
                f"{'tuh' if i % 2 else 'seed'}/r{i:03d}",
                channels,
                1000 + 37 * i,
                sfreq=200 if i % 3 else 200.0,
                **extra,
            )
        )
    append(loc, rows)
    compact(loc)
    return loc


def _parsed(loc: Location) -> dict:
    """The entries as parsing every segment gives them (the fields file unused)."""
    entries, problems = index._read(loc, index._parse_entries, lambda e: (e[0].id, e[0].deleted))
    assert not problems
    return entries


def _index_problems(loc: Location) -> list[str]:
    """``eegprep validate``'s lines about the index (the stores here have no groups on disk)."""
    return [p for p in validate(loc.url)[1] if p.startswith("_eegprep/index")]


def _same(a: dict, b: dict) -> bool:
    return list(a) == list(b) and all(index._same_entry(a[k], b[k]) for k in a)


def test_opening_from_the_fields_file_gives_what_parsing_gives(tmp_path: Path) -> None:
    loc = _store(tmp_path)
    assert loc.exists(*INDEX_DIR, FIELDS)
    entries = read_entries(loc)
    assert all(type(e[1]) is BaseLine for e in entries.values())  # taken from the fields file
    assert _same(entries, _parsed(loc))
    fields = entries["seed/r000"][0]
    assert (fields.split, fields.subject_key, fields.n_samples) == ("eval", "tuh:s0", 1000)
    assert type(fields.sfreq) is float and type(entries["tuh/r001"][0].sfreq) is int
    with_file = [r.__dict__ for r in open_store(loc.url).recordings]
    os.unlink(loc.path(*INDEX_DIR, FIELDS))
    assert [r.__dict__ for r in open_store(loc.url).recordings] == with_file
    assert _index_problems(loc) == []


def test_segments_after_the_base_replace_and_delete_its_records(tmp_path: Path) -> None:
    loc = _store(tmp_path)
    append(loc, [hand_record("tuh/r001", ["CZ"], 5), {"id": "seed/r002", "deleted": True}])
    entries = read_entries(loc)
    assert "seed/r002" not in entries and entries["tuh/r001"][0].n_samples == 5
    assert type(entries["tuh/r001"][1]) is bytes  # the later segment's line
    assert _same(entries, _parsed(loc))


def test_a_fields_file_for_other_bytes_is_ignored_reported_and_rewritten(tmp_path: Path) -> None:
    loc = _store(tmp_path)
    base = loc.path(*INDEX_DIR, BASE)
    data = Path(base).read_bytes()
    # an older eegprep rewrote the base: same length, another n_samples
    Path(base).write_bytes(data.replace(b'"n_samples":1037', b'"n_samples":9999', 1))
    assert open_store(loc.url).recording("tuh/r001").n_samples == 9999
    (problem,) = _index_problems(loc)
    assert FIELDS in problem and "does not match the base segment" in problem
    compact(loc)  # what the next ingest's close does
    assert _index_problems(loc) == []
    assert read_entries(loc)["tuh/r001"][0].n_samples == 9999


@pytest.mark.parametrize(
    "damage",
    [
        "flip",
        "truncate",
        "empty",
        "garbage",
        "other format",
        "lines out of order",
        "negative corpus number",
        "negative channel-list number",
    ],
)
def test_a_damaged_fields_file_is_ignored(tmp_path: Path, damage: str) -> None:
    loc = _store(tmp_path)
    path = Path(loc.path(*INDEX_DIR, FIELDS))
    good = path.read_bytes()
    if damage == "flip":
        bad = bytearray(good)
        bad[len(bad) // 2] ^= 0x10
        path.write_bytes(bytes(bad))
    elif damage == "truncate":
        path.write_bytes(good[: len(good) // 2])
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "garbage":
        path.write_bytes(b"\x00" * 64)
    else:  # valid files (CRC and base digest right) that this eegprep must not read
        import google_crc32c

        fields = msgspec.msgpack.decode(good[:-4])
        if damage == "other format":  # a later layout version
            fields[0] = 2
        elif damage == "lines out of order":  # crafted: two lines' positions swapped
            fields[3][1], fields[3][2] = fields[3][2], fields[3][1]
        else:  # crafted: a table number that Python would wrap around to another entry
            column = 7 if damage == "negative corpus number" else 10
            fields[column][0] = -1
        payload = msgspec.msgpack.encode(fields)
        path.write_bytes(payload + google_crc32c.value(payload).to_bytes(4, "little"))
    entries = read_entries(loc)
    assert all(type(e[1]) is bytes for e in entries.values())  # the base was parsed
    assert _same(entries, _parsed(loc))
    assert any(FIELDS in p for p in _index_problems(loc))


def test_a_base_with_a_record_that_is_not_plain_gets_no_fields_file(tmp_path: Path) -> None:
    loc = Location.parse(str(tmp_path / "s.zarr"))
    rows = [hand_record("tuh/a", ["CZ"], 10).to_dict(), {"id": "tuh/b", "n_samples": 3.5}]
    assert is_plain(rows[0]) and not is_plain(rows[1])
    assert not is_plain({**rows[0], "n_samples": True})
    assert not is_plain({**rows[0], "sfreq": float("nan")})
    assert not is_plain({**rows[0], "channels": ["CZ", 1]})
    append(loc, rows)
    compact(loc)
    assert loc.list(*INDEX_DIR) == [BASE, HEAD[-1]]
    stamp = os.stat(loc.path(*INDEX_DIR, BASE)).st_ino
    compact(loc)  # nothing to do: the base is not rewritten
    assert os.stat(loc.path(*INDEX_DIR, BASE)).st_ino == stamp
    assert set(read_entries(loc)) == {"tuh/a", "tuh/b"}


def test_compaction_writes_a_missing_fields_file_and_otherwise_leaves_the_index(
    tmp_path: Path,
) -> None:
    loc = _store(tmp_path)
    before = {n: Path(loc.path(*INDEX_DIR, n)).read_bytes() for n in loc.list(*INDEX_DIR)}
    inode = os.stat(loc.path(*INDEX_DIR, BASE)).st_ino
    compact(loc)
    assert os.stat(loc.path(*INDEX_DIR, BASE)).st_ino == inode  # a no-op
    os.unlink(loc.path(*INDEX_DIR, FIELDS))
    Path(loc.path(*INDEX_DIR, "0000000007.fields")).write_bytes(b"stray")
    compact(loc)
    after = {n: Path(loc.path(*INDEX_DIR, n)).read_bytes() for n in loc.list(*INDEX_DIR)}
    assert after == before  # the same bytes again, the stray file gone


def test_a_store_opened_from_the_fields_file_pickles_its_base_once(tmp_path: Path) -> None:
    loc = _store(tmp_path, n=300)
    store = open_store(loc.url)
    size = os.path.getsize(loc.path(*INDEX_DIR, BASE))
    blob = pickle.dumps(store)
    assert len(blob) < 2 * size
    again = pickle.loads(blob)
    assert [r.__dict__ for r in again.recordings] == [r.__dict__ for r in store.recordings]


def test_a_base_cut_at_a_lines_end_is_damage_not_a_shorter_index(tmp_path: Path) -> None:
    """Truncated right after a newline, the base parses as a valid index of fewer records: its
    fields file tells the cut, which readers refuse and validate reports."""
    from eegprep.base.errors import StoreFormatError

    loc = _store(tmp_path)
    base = Path(loc.path(*INDEX_DIR, BASE))
    lines = base.read_bytes().splitlines(keepends=True)
    base.write_bytes(b"".join(lines[:11]))  # the base mark and 10 of the 40 records
    with pytest.raises(StoreFormatError, match=r"cut short: it holds 10 of the 40 records"):
        read_entries(loc)
    with pytest.raises(StoreFormatError, match=r"damaged index: .*cut short"):
        open_store(loc.url)
    (problem,) = [p for p in _index_problems(loc) if "cut short" in p]
    assert BASE in problem and "the 30 after line 11 are lost" in problem
    compact(loc)  # the next ingest lists what is left (and ingests the lost sources again)
    assert _index_problems(loc) == [] and len(read_entries(loc)) == 10
    # a base of other bytes is no cut, whatever its length, to its fields file; the index's
    # head, which names the 40 records the last commit listed, refuses it (an older copy, say:
    # tests/safety/test_last_segment.py); without a head (written before it) it is read as before
    loc2 = _store(tmp_path / "b")
    base2 = Path(loc2.path(*INDEX_DIR, BASE))
    lines2 = base2.read_bytes().splitlines(keepends=True)
    base2.write_bytes(b"".join([lines2[0], *lines2[2:12]]))  # another set of records
    with pytest.raises(StoreFormatError, match=r"last commit wrote \(it lists 10 records; "):
        read_entries(loc2)
    Path(loc2.path(*HEAD)).unlink()
    assert len(read_entries(loc2)) == 10


def test_source_identities_come_from_the_lines_compacted_or_appended(tmp_path: Path) -> None:
    loc = _store(tmp_path, n=3)  # compacted: read from the base's fields file
    digests = {"source_blake3": "b3" * 32, "part": "2"}
    append(loc, [hand_record("tuh/new", ["CZ"], 400, **digests),  # appended after compaction
                 hand_record("tuh/old", ["CZ"], 400, source_sha256="5a" * 32)])  # fmt: skip
    store = open_store(loc.url)
    ids = store.source_identities()
    assert ids["tuh/new"] == "b3" * 32 + "#2" and ids["tuh/old"] == "5a" * 32
    assert [ids[r] for r in ("seed/r000", "tuh/r001", "seed/r002")] == ["", "", ""]
    assert list(ids) == list(store.index_fields())
    kept = store.without(["tuh/new", "tuh/absent"])
    assert sorted(kept.index_fields()) == ["seed/r000", "seed/r002", "tuh/old", "tuh/r001"]
    assert len(store) == 5  # a view: the store itself keeps every recording
