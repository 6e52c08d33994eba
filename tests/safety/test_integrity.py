"""Integrity you can check: damage anywhere in a store is reported by `eegprep validate`, one
line each and never a traceback, and no read ever returns changed samples.

Every chunk carries a CRC-32C (zarr's ``crc32c`` codec), every shard index one too; the index
is read line by line, so a damaged line is reported and skipped, never a crash.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import zarr
from click.testing import CliRunner

from cli import eegprep_cli
from eegprep import open_store
from eegprep.base.errors import StoreFormatError, StoreNotFoundError
from eegprep.ingestion.driver import IngestConfig, ingest
from eegprep.pipeline.recipe import Recipe
from eegprep.store.fs import Location
from eegprep.store.index import INDEX_DIR, append, read_index, read_index_checked
from eegprep.store.validate import recording_problems, validate
from tests.eegprep.test_remote_store import s3  # noqa: F401 (the fixture)

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # numcodecs' zarr3 codecs

ENCODINGS = ("float32", "float16", "quantized")
N_FLIPS = 50  # seeded single-bit flips inside chunk bytes, per encoding
REC = "tuh/aaaaaaaa_s001_t000"  # the fixture recording whose shard is damaged


def _ingest(src: Path, out: str | Path, encoding: str = "float32") -> None:
    cfg = IngestConfig(workers=0, progress=False, recipe=Recipe(encoding=encoding))  # type: ignore[arg-type]
    report = ingest("tuh", src=src, out=out, config=cfg)
    assert report.n_ingested == 3 and not report.failed


def _shard(out: Path, rid: str = REC) -> Path:
    group = open_store(out).recording(rid).group
    return out / group / "data" / "c.0.0"


def _chunk_spans(shard: bytes, per_shard: int = 30) -> list[tuple[int, int]]:
    """``(offset, nbytes)`` of each stored chunk, from the shard's index (at its end)."""
    table = np.frombuffer(shard[-(16 * per_shard + 4) : -4], dtype="<u8").reshape(-1, 2)
    return [(int(o), int(n)) for o, n in table if o != 2**64 - 1]


def _flip(blob: bytes, byte: int, bit: int) -> bytes:
    out = bytearray(blob)
    out[byte] ^= 1 << bit
    return bytes(out)


def _index_segment(out: Path) -> Path:
    return next((out / "_eegprep" / "index").glob("*.jsonl"))


# --- chunks: every flipped bit is caught, by validate, by eegprep's reads and by zarr's -------


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_every_flipped_bit_in_a_chunk_is_reported_and_never_read(
    tuh_corpus: Path, tmp_path: Path, encoding: str
) -> None:
    out = tmp_path / "s.zarr"
    _ingest(tuh_corpus, out, encoding)
    shard = _shard(out)
    good = shard.read_bytes()
    spans = _chunk_spans(good)
    assert spans and validate(str(out)) == (3, [])
    rng = np.random.default_rng(sum(map(ord, encoding)))
    store = open_store(out)
    for _ in range(N_FLIPS):
        offset, nbytes = spans[int(rng.integers(len(spans)))]
        byte, bit = offset + int(rng.integers(nbytes)), int(rng.integers(8))
        shard.write_bytes(_flip(good, byte, bit))
        n, problems = validate(str(out))
        assert n == 3 and len(problems) == 1, (byte, bit, problems)
        assert problems[0].startswith(f"{REC}: ") and "CRC-32C" in problems[0], problems
        assert str(shard) in problems[0] and "samples [0, " in problems[0]
        with pytest.raises(StoreFormatError, match="fail their CRC-32C check"):
            store.read(REC)
    shard.write_bytes(good)
    assert validate(str(out)) == (3, [])


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_zarr_itself_refuses_a_flipped_chunk(
    tuh_corpus: Path, tmp_path: Path, encoding: str
) -> None:
    out = tmp_path / "s.zarr"
    _ingest(tuh_corpus, out, encoding)
    shard = _shard(out)
    good = shard.read_bytes()
    offset, nbytes = _chunk_spans(good)[0]
    shard.write_bytes(_flip(good, offset + nbytes // 2, 3))
    data = zarr.open_group(str(out), mode="r")[f"{open_store(out).recording(REC).group}/data"]
    assert isinstance(data, zarr.Array)
    with pytest.raises(ValueError, match="checksum"):
        data[:]


def test_flipped_bits_in_a_shard_index_are_caught(tuh_corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "s.zarr"
    _ingest(tuh_corpus, out)
    shard = _shard(out)
    good = shard.read_bytes()
    rng = np.random.default_rng(7)
    for _ in range(10):
        byte = len(good) - 1 - int(rng.integers(16 * 30 + 4))
        shard.write_bytes(_flip(good, byte, int(rng.integers(8))))
        problems = validate(str(out))[1]
        assert len(problems) == 1 and "shard index fails its CRC-32C check" in problems[0]
        with pytest.raises(StoreFormatError, match="shard index"):
            open_store(out).read(REC)


# --- shards and groups: missing, truncated, damaged -------------------------------------------


def test_missing_and_truncated_shards_are_reported(tuh_corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "s.zarr"
    _ingest(tuh_corpus, out)
    shard = _shard(out)
    good = shard.read_bytes()
    for damage, message in (
        (good[: len(good) // 2], "shard index fails its CRC-32C"),  # no index at the end
        (good[:100] + good[-(16 * 30 + 4) :], "points past the chunks"),  # chunk bytes cut
        (b"", "truncated shard"),
    ):
        shard.write_bytes(damage)
        problems = validate(str(out))[1]
        assert len(problems) == 1 and problems[0].startswith(f"{REC}: "), problems
        assert message in problems[0]
        with pytest.raises(StoreFormatError, match=message):
            open_store(out).read(REC)
    shard.unlink()
    problems = validate(str(out))[1]
    assert len(problems) == 1 and "shard missing" in problems[0] and str(shard) in problems[0]
    with pytest.raises(StoreFormatError, match="shard missing"):
        open_store(out).read(REC, 0, 10)


def test_damaged_group_metadata_and_coordinates_are_reported(
    tuh_corpus: Path, tmp_path: Path
) -> None:
    out = tmp_path / "s.zarr"
    _ingest(tuh_corpus, out)
    store = open_store(out)
    group = out / store.recording(REC).group
    (group / "data" / "zarr.json").write_text("{not json")
    (group / "time" / "c.0").unlink()  # zarr would read the fill value: 0, 0, 0, ...
    chan = group / "channel" / "c.0"
    chan.write_bytes(_flip(chan.read_bytes(), 3, 0))
    problems = validate(str(out))[1]
    assert all(p.startswith(f"{REC}: ") for p in problems), problems
    text = "\n".join(problems)
    assert "data/zarr.json: not valid JSON" in text
    assert f"{store.recording(REC).group}/time/c.0 missing (the sample numbers)" in text
    assert f"{store.recording(REC).group}/channel/c.0: fails its CRC-32C check" in text
    with pytest.raises(StoreFormatError, match="not valid JSON"):
        store.read(REC)
    other = out / store.recording("tuh/aaaaaaab_s002_t001").group
    shutil.rmtree(other)
    problems = validate(str(out))[1]
    assert "tuh/aaaaaaab_s002_t001: recording group" in "\n".join(problems)
    assert "missing" in "\n".join(problems)


def test_unlisted_groups_are_reported_unless_retired(tuh_corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "s.zarr"
    _ingest(tuh_corpus, out)
    group = open_store(out).recording(REC).group
    shutil.copytree(out / group, out / "recordings" / "tuh" / "stray")
    problems = validate(str(out))[1]
    assert len(problems) == 1 and problems[0].startswith(
        "recordings/tuh/stray: recording group on disk that the index does not list (an ingest "
        "stopped mid-commit"
    )
    retired = out / "_eegprep" / "retired.json"
    kept = json.loads(retired.read_text()) if retired.exists() else []
    retired.write_text(json.dumps([*kept, ["recordings/tuh/stray", 0.0]]))
    assert validate(str(out)) == (3, [])
    retired.write_text("[[")
    problems = validate(str(out))[1]
    assert len(problems) == 2 and problems[0].startswith("_eegprep/retired.json: damaged")
    assert problems[1].startswith(
        "recordings/tuh/stray: recording group on disk that the index does not list"
    )


# --- the index and the root: missing or damaged, reported, never a crash -----------------------


def test_a_deleted_index_is_reported(tuh_corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "s.zarr"
    _ingest(tuh_corpus, out)
    shutil.rmtree(out / "_eegprep" / "index")
    assert validate(str(out)) == (
        0,
        ["index missing: 3 recording groups under recordings/ are not listed"],
    )


@pytest.mark.parametrize("loss", ["segments deleted", "folder deleted", "base emptied"])
def test_a_lost_index_is_refused_by_readers_not_read_as_empty(
    tuh_corpus: Path, tmp_path: Path, loss: str
) -> None:
    """Opening a store whose index was deleted or cut to nothing listed no recording, without
    a word: `eegprep stats` counted 0, training found nothing to read. It is refused in one
    line now; the next ingest lists the recordings again from their groups."""
    out = tmp_path / "s.zarr"
    _ingest(tuh_corpus, out)
    segment = _index_segment(out)
    if loss == "segments deleted":
        segment.unlink()
    elif loss == "folder deleted":
        shutil.rmtree(segment.parent)
    else:
        segment.write_bytes(b"")  # what a crash can leave of a file whose writes were not flushed
    what = "empty (cut short" if loss == "base emptied" else "index missing"
    with pytest.raises(StoreFormatError, match=re.escape(what)) as refused:
        open_store(out)
    assert "\n" not in str(refused.value)
    assert any(what in p for p in validate(str(out))[1])
    rerun = ingest("tuh", src=tuh_corpus, out=out, config=IngestConfig(workers=0, progress=False))
    assert (rerun.n_ingested, rerun.n_current) == (0, 3)
    assert len(open_store(out)) == 3 and validate(str(out)) == (3, [])


def test_a_lost_base_segment_is_refused_not_read_as_a_shorter_index(
    tuh_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With its base segment deleted, an index whose later segments remain read as those
    segments alone: a store of one recording where three were listed, without a word (and
    `eegprep validate` named only the groups as left by a stopped ingest). The index starts at
    0000000001.jsonl or at a base: anything else is refused in one line and reported."""
    from eegprep.pipeline.recipe import Recipe
    from eegprep.store.writer import StoreWriter

    out = tmp_path / "s.zarr"
    _ingest(tuh_corpus, out)
    records = read_index(Location.parse(out))
    monkeypatch.setattr("eegprep.store.writer.compact", lambda loc: None)
    with StoreWriter(out, Recipe(encoding="float32")):  # one later segment, not compacted
        append(Location.parse(out), [records[REC]])
    (out / "_eegprep" / "index" / "0000000001.jsonl").unlink()
    lost = "_eegprep/index/0000000001.jsonl missing: the index starts at 0000000002.jsonl"
    with pytest.raises(StoreFormatError, match=re.escape(lost)) as refused:
        open_store(out)
    assert "\n" not in str(refused.value)
    assert any(p.startswith(lost) for p in validate(str(out))[1])
    monkeypatch.undo()
    rerun = ingest("tuh", src=tuh_corpus, out=out, config=IngestConfig(workers=0, progress=False))
    assert (rerun.n_ingested, rerun.n_current) == (0, 3)  # listed again from their groups
    assert validate(str(out)) == (3, [])


def test_a_compaction_cut_short_after_deleting_the_first_segments_reads_its_base(
    tuh_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A compaction writes its base, then deletes the older segments: killed between two
    deletions, the index starts past 0000000001.jsonl and holds a base, which is read."""
    from eegprep.pipeline.recipe import Recipe
    from eegprep.store.index import compact
    from eegprep.store.writer import StoreWriter

    out = tmp_path / "s.zarr"
    _ingest(tuh_corpus, out)
    loc = Location.parse(out)
    records = read_index(loc)
    monkeypatch.setattr("eegprep.store.writer.compact", lambda loc: None)
    with StoreWriter(out, Recipe(encoding="float32")):
        append(loc, [records[REC]])
        append(loc, [records[REC]])
    removed: list[str] = []
    monkeypatch.setattr(Location, "remove", lambda self, *parts: removed.append(parts[-1]))
    monkeypatch.setattr(Location, "rename", lambda self, src, dst: None)
    compact(loc)  # writes base 0000000004.jsonl; its deletions and renames not done
    monkeypatch.undo()
    assert removed[0] == "0000000001.jsonl"
    loc.remove(*INDEX_DIR, removed[0])  # killed before the second deletion
    assert read_index(loc) == records and validate(str(out)) == (3, [])


def test_an_empty_store_still_opens_empty(tmp_path: Path) -> None:
    from eegprep.store.writer import StoreWriter

    with StoreWriter(str(tmp_path / "s.zarr"), Recipe()):
        pass
    assert len(open_store(tmp_path / "s.zarr")) == 0


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        (b"\xff\xfe garbage", "not valid UTF-8"),
        (b'{"id": "tuh/x", "n_samples": ', "not valid JSON"),
        (b"[1, 2]", "not an index record"),
        (b'{"id": "tuh/x", "qc": ' + b"[" * 1100 + b"]" * 1100 + b"}", "not valid JSON"),
        (None, "holds NaN or Infinity"),  # a listed record, rewritten as an older eegprep did
        # another program's: a byte that is not UTF-8 as its escape
        (b'{"id": "tuh/x", "subject": "a\\udcffb"}', "holds a lone surrogate (a \\udXXX"),
    ],
)
def test_a_damaged_index_line_is_reported_and_skipped(
    tuh_corpus: Path, tmp_path: Path, line: bytes | None, problem: str
) -> None:
    out = tmp_path / "s.zarr"
    _ingest(tuh_corpus, out)
    segment = _index_segment(out)
    lines = segment.read_bytes().split(b"\n")
    if line is None:  # the first record, with a NaN where the sidecar had one
        record = json.loads(lines[1])
        record["qc"]["median_rms_uv"] = float("nan")
        lines[1] = json.dumps(record, sort_keys=True, separators=(",", ":")).encode()
        where, n = 2, 2
    else:
        lines.insert(2, line)
        where, n = 3, 3
    segment.write_bytes(b"\n".join(lines))

    checked, problems = validate(str(out))
    name = f"_eegprep/index/{segment.name} line {where}: {problem}"
    assert checked == n and problems[0].startswith(name), problems
    if line is None:  # its recording is on disk, no longer listed
        assert len(problems) == 2 and problems[1].startswith(
            "recordings/tuh/aaaaaaaa_s001_t000: recording group on disk that the index does "
            "not list (an ingest stopped mid-commit, or its index line damaged"
        )
    else:
        assert problems[1:] == []
    with pytest.raises(StoreFormatError, match="damaged index") as err:
        open_store(out)
    assert "\n" not in str(err.value) and "eegprep validate" in str(err.value)
    records, bad = read_index_checked(Location.parse(out))
    assert len(records) == n and len(bad) == 1

    res = CliRunner().invoke(eegprep_cli, ["validate", str(out)])
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert f"problem: {name}" in res.output


def test_bad_utf8_in_a_field_opening_skips_still_refuses_the_index(
    tuh_corpus: Path, tmp_path: Path
) -> None:
    """Opening decodes only some fields of each record; a byte that is not UTF-8 inside another
    one (here the source's path) damages the line all the same, as validate and the writer
    judge it."""
    out = tmp_path / "s.zarr"
    _ingest(tuh_corpus, out)
    segment = _index_segment(out)
    lines = segment.read_bytes().split(b"\n")
    assert b'"source":"edf/' in lines[1]
    lines[1] = lines[1].replace(b'"source":"edf/', b'"source":"\xffedf/')
    segment.write_bytes(b"\n".join(lines))
    name = f"_eegprep/index/{segment.name} line 2: not valid UTF-8"
    with pytest.raises(StoreFormatError, match="damaged index") as err:
        open_store(out)
    assert name in str(err.value)
    _, bad = read_index_checked(Location.parse(out))
    assert len(bad) == 1 and bad[0].startswith(name)


def test_opening_reads_the_same_records_as_the_index(tuh_corpus: Path, tmp_path: Path) -> None:
    """The fields opening decodes and the records it parses on use are the index's own, after
    appends, a replaced record and a deletion mark."""
    from eegprep.store.index import append, read_index

    out = tmp_path / "s.zarr"
    _ingest(tuh_corpus, out)
    loc = Location.parse(out)
    first, second = list(read_index(loc))[:2]
    changed = dict(read_index(loc)[first], split="eval", subject_key="tuh:other")
    append(loc, [changed, {"id": second, "deleted": True}])
    want = read_index(loc)
    store = open_store(out)
    assert list(store.index_rows()) == list(want) and second not in store
    assert {rid: dict(row) for rid, row in store.index_rows().items()} == want
    fields = store.index_fields()
    assert list(fields) == list(want)
    for rid, row in want.items():
        f = fields[rid]
        assert (f.id, f.group, f.corpus, f.n_samples, f.sfreq) == (
            rid, row["group"], row["corpus"], row["n_samples"], row["sfreq"]
        )  # fmt: skip
        assert (f.channel_index, f.split, f.subject_key) == (
            row["channel_index"], row.get("split", ""), row.get("subject_key", "")
        )  # fmt: skip
    assert fields[first].split == "eval" and store.recording(first).split == "eval"


DEEP = b"[" * 5000 + b"]" * 5000  # nested deeper than Python's json recurses


@pytest.mark.parametrize("target", ["root", "array", "group"])
def test_json_nested_too_deep_is_damage_not_a_traceback(
    tuh_corpus: Path, tmp_path: Path, target: str
) -> None:
    """A store's JSON file crafted (or corrupted) to nest deeper than the parser recurses is
    damage named in one line, by opening, reading and validate alike."""
    out = tmp_path / "s.zarr"
    _ingest(tuh_corpus, out)
    group = out / "recordings" / "tuh" / "aaaaaaaa_s001_t000"
    path = {"root": out, "array": group / "data", "group": group}[target] / "zarr.json"
    path.write_bytes(DEEP)
    _, problems = validate(str(out))
    assert problems and all("\n" not in p for p in problems), problems
    if target == "root":
        with pytest.raises(StoreFormatError, match=r"zarr\.json is damaged"):
            open_store(out)
        return
    store = open_store(out)
    if target == "array":
        with pytest.raises(StoreFormatError, match="not valid JSON"):
            store.read("tuh/aaaaaaaa_s001_t000", 0, 10)
    res = CliRunner().invoke(eegprep_cli, ["validate", str(out)])
    assert (
        res.exit_code == 1 and "Traceback" not in res.output and "RecursionError" not in res.output
    )


def test_damaged_or_missing_root_is_reported(tuh_corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "s.zarr"
    _ingest(tuh_corpus, out)
    root = out / "zarr.json"
    good = root.read_bytes()
    for damage, problem in (
        (good[: len(good) // 2], "zarr.json: damaged"),
        (b'{"zarr_format": 3, "node_type": "group", "attributes": []}', "zarr.json: damaged"),
        (good.replace(b'"eegprep-store"', b'"eegprep-stora"'), "zarr.json: damaged (format"),
        (None, "zarr.json: missing"),
    ):
        if damage is None:
            root.unlink()
        else:
            root.write_bytes(damage)
        n, problems = validate(str(out))
        assert n == 3 and len(problems) == 1 and problems[0].startswith(problem), problems


@pytest.mark.parametrize("where", ["local", "memory"])
def test_a_lost_root_is_refused_not_taken_for_no_store(
    tuh_corpus: Path, tmp_path: Path, where: str
) -> None:
    """On an object store a store whose root ``zarr.json`` was lost read as no store at all
    (`no eegprep store here; create one with eegprep ingest ...`), and an ingest, of another
    recipe too, created a new root over its recordings. It is refused in one line, as a local
    store's is (which said only `not an eegprep store`)."""
    out = str(tmp_path / "s.zarr") if where == "local" else "memory://lost-root/s.zarr"
    loc = Location.parse(out)
    try:
        _ingest(tuh_corpus, out)
        loc.remove("zarr.json")
        lost = "its root zarr.json is missing, but it holds an eegprep store's index"
        with pytest.raises(StoreFormatError, match=lost) as refused:
            open_store(out)
        assert "\n" not in str(refused.value)
        with pytest.raises(StoreFormatError, match=lost):
            _ingest(tuh_corpus, out, encoding="float16")
        assert not loc.exists("zarr.json") and not loc.exists("_eegprep", "lock")
        assert validate(out)[1] == [
            "zarr.json: missing (the store's root group: format, recipe, rate)"
        ]
    finally:
        if where == "memory":
            loc.fs.rm(loc.root, recursive=True)


def test_cli_exit_status_and_misuse(tuh_corpus: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(eegprep_cli, ["validate", str(tmp_path / "nothing")])
    assert res.exit_code == 2 and res.output.startswith("error: ") and "Traceback" not in res.output
    with pytest.raises(StoreNotFoundError):
        validate(str(tmp_path / "nothing"))
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "zarr.json").write_text('{"zarr_format": 3, "node_type": "group"}')
    assert runner.invoke(eegprep_cli, ["validate", str(tmp_path / "other")]).exit_code == 2

    out = tmp_path / "s.zarr"
    _ingest(tuh_corpus, out)
    res = runner.invoke(eegprep_cli, ["validate", str(out), "--json"])
    assert res.exit_code == 0 and json.loads(res.output)["problems"] == []
    _shard(out).unlink()
    res = runner.invoke(eegprep_cli, ["validate", str(out), "--json"])
    assert res.exit_code == 1 and "shard missing" in json.loads(res.output)["problems"][0]


def test_recording_problems_needs_no_store(tuh_corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "s.zarr"
    _ingest(tuh_corpus, out)
    loc = Location.parse(out)
    records = read_index(loc)
    assert all(recording_problems(loc, r) == [] for r in records.values())
    _shard(out).unlink()
    assert [rid for rid, r in records.items() if recording_problems(loc, r)] == [REC]
    assert recording_problems(loc, {"id": "tuh/odd"}) == [
        "tuh/odd: the index record lacks a valid 'group', 'channels' or 'n_samples'"
    ]
    assert recording_problems(loc, {**records[REC], "channels": None, "group": 3})[0].startswith(
        f"{REC}: the index record lacks"
    )


def test_the_index_is_written_as_strict_json(tmp_path: Path) -> None:
    from eegprep.testing.records import hand_record

    loc = Location.parse(tmp_path / "s.zarr")
    for value in (float("nan"), float("inf"), -float("inf")):
        with pytest.raises(ValueError, match="JSON compliant"):
            append(loc, [{"id": "c/r", "x": value}])
        with pytest.raises(ValueError, match="JSON compliant"):
            append(loc, [hand_record("c/r", ["CZ"], 200, qc={"median_rms_uv": value})])
    assert read_index(loc) == {}


# --- fsspec stores: the same checks through fsspec ----------------------------------------------


@pytest.mark.parametrize(
    "backend",
    ["memory", pytest.param("s3", marks=pytest.mark.slow)],  # s3: moto, 8 s
)
def test_damage_in_an_fsspec_store_is_caught(
    tuh_corpus: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    import fsspec

    if backend == "s3":  # a moto S3 server on loopback (tests/eegprep/test_remote_store.py)
        url = request.getfixturevalue("s3") + "/integrity.zarr"
        # fsspec keeps one s3fs instance per argument set: forget one made for an earlier server
        fsspec.get_filesystem_class("s3").clear_instance_cache()
    else:
        url = "memory://integrity/s.zarr"
    fs = fsspec.filesystem(backend)
    loc = Location.parse(url)
    if fs.exists(loc.root):
        fs.rm(loc.root, recursive=True)
    try:
        _ingest(tuh_corpus, url)
        assert validate(url) == (3, [])
        shard = loc.path(open_store(url).recording(REC).group, "data", "c.0.0")
        good = fs.cat_file(shard)
        offset, nbytes = _chunk_spans(good)[0]
        fs.pipe_file(shard, _flip(good, offset + nbytes // 3, 5))
        problems = validate(url)[1]
        assert len(problems) == 1 and "CRC-32C" in problems[0] and shard in problems[0]
        with pytest.raises(StoreFormatError, match="CRC-32C"):
            open_store(url).read(REC)
        fs.rm(shard)
        fs.invalidate_cache()
        problems = validate(url)[1]
        assert len(problems) == 1 and "shard missing" in problems[0], problems
        (name,) = [n for n in loc.list(*INDEX_DIR) if n.endswith(".jsonl")]
        segment = loc.path(*INDEX_DIR, name)
        fs.pipe_file(segment, fs.cat_file(segment) + b"{oops\n")
        problems = validate(url)[1]
        assert "not valid JSON" in problems[0] and len(problems) == 2, problems
        with pytest.raises(StoreFormatError, match="damaged index"):
            open_store(url)
    finally:
        fs.rm(loc.root, recursive=True)
        if backend == "s3":  # nor leave ours to a later server's tests
            fsspec.get_filesystem_class("s3").clear_instance_cache()


def test_store_level_damage_is_one_typed_error(tmp_path: Path) -> None:
    """Garbage root metadata, an incomplete record, an unknown id: StoreError, never a crash."""
    import orjson as _orjson

    from eegprep import open_store as _open
    from eegprep.base.errors import RecordingNotFoundError, StoreError
    from tests.safety.corpus import ingest_folder, write_edf

    src, out = tmp_path / "src", tmp_path / "s.zarr"
    write_edf(src, "a.edf")
    ingest_folder(src, out)
    with pytest.raises(RecordingNotFoundError, match=r"no recording 'folder/b'") as info:
        _open(out).recording("folder/b")
    assert isinstance(info.value, KeyError) and "'" not in str(info.value)[:1]
    seg = next((out / "_eegprep" / "index").glob("*.jsonl"))
    lines = seg.read_text().splitlines()
    i = next(k for k, line in enumerate(lines) if '"folder/a"' in line)
    record = _orjson.loads(lines[i])
    del record["channels"]
    lines[i] = _orjson.dumps(record).decode()
    seg.write_text("\n".join(lines) + "\n")
    with pytest.raises(StoreError, match="incomplete"):
        _open(out)
    (out / "zarr.json").write_text("[1, 2")
    with pytest.raises(StoreError, match="damaged"):
        _open(out)


def _edit_json(path: Path, change: object) -> None:
    doc = json.loads(path.read_text())
    change(doc)  # type: ignore[operator]
    path.write_text(json.dumps(doc))


def test_metadata_no_checksum_covers_is_checked_against_the_record(
    tuh_corpus: Path, tmp_path: Path
) -> None:
    """The CRCs cover the compressed bytes, not the settings that decode them nor the JSON
    around them. A flipped digit in the quantizer's scale changed every sample, a flipped
    channel_index gave a channel another site's position, a flipped rate in the root changed the
    store's rate: each passed validate. Each is now a problem naming the file, and a read of a
    recording whose quantizer disagrees with its record is refused."""
    out = tmp_path / "s.zarr"
    _ingest(tuh_corpus, out, encoding="quantized")
    store = open_store(out)
    group = out / store.recording(REC).group
    assert validate(str(out))[1] == []

    def scale(doc: dict) -> None:
        config = doc["codecs"][0]["configuration"]["codecs"][0]["configuration"]
        config["scale"] = config["scale"] * 1.019  # 52.43 -> 53.43, one digit

    _edit_json(group / "data" / "zarr.json", scale)
    problems = validate(str(out))[1]
    assert len(problems) == 1 and "data/zarr.json: its quantizer (scale" in problems[0]
    # the read compares the whole document first: the scale is named with what eegprep writes
    named = r"data/zarr\.json: not the metadata .*scale [\d.]+, eegprep writes [\d.]+"
    with pytest.raises(StoreFormatError, match=named):
        open_store(out).read(REC)

    other = "tuh/aaaaaaab_s002_t001"
    attrs = out / store.recording(other).group / "zarr.json"
    _edit_json(attrs, lambda d: d["attributes"]["labels"].update(montage="05_tcp_ar"))
    _edit_json(attrs, lambda d: d["attributes"]["channel_index"].__setitem__(1, 3))
    text = "\n".join(validate(str(out))[1])
    assert f"{other}: " in text
    assert "attributes and the index record (in _eegprep/index/0000000001.jsonl) differ" in text
    assert "channel_index, labels" in text

    root = out / "zarr.json"
    _edit_json(root, lambda d: d["attributes"].update(sfreq=220.0))
    sfreq = "zarr.json: damaged (sfreq 220.0 is not the recipe's 200.0)"
    assert any(p.startswith(sfreq) for p in validate(str(out))[1])  # (ends: --repair mends it)
    _edit_json(root, lambda d: d["attributes"].update(sfreq=200.0))
    _edit_json(root, lambda d: d["attributes"]["recipe"].update(l_freq=0.0))
    assert any("its recipe hashes to" in p for p in validate(str(out))[1])
    _edit_json(root, lambda d: d["attributes"]["recipe"].update(l_freq=0.1))
    _edit_json(root, lambda d: d["attributes"]["vocabulary"].__setitem__(2, "AF9"))
    assert any("vocabulary is not eegprep's" in p for p in validate(str(out))[1])


def test_a_channel_index_that_is_not_the_vocabularys_is_reported() -> None:
    from eegprep.store.record_values import channels_problem
    from eegprep.testing.records import hand_record

    rec = hand_record("tuh/x", ["FP1", "FP2", "F3"], 400).to_dict()
    assert channels_problem(rec["channels"], rec["channel_index"]) is None
    rec["channel_index"] = [rec["channel_index"][0], 3, rec["channel_index"][2]]
    assert "gives FP2 the position 3" in str(
        channels_problem(rec["channels"], [*rec["channel_index"]])
    )


def test_a_damaged_retired_entry_blocks_no_ingest_and_is_reported(
    tuh_corpus: Path, tmp_path: Path
) -> None:
    """One flipped bit in _eegprep/retired.json ('/' -> '.') made every later ingest, --repair
    included, fail on "unsafe recording group path"; entries outside the store passed validate.
    Such entries are now ignored by the writer (nothing outside is ever touched) and reported."""
    out = tmp_path / "s.zarr"
    _ingest(tuh_corpus, out)
    retired = out / "_eegprep" / "retired.json"
    bad = [["recordings.tuh/aaaaaaaa_s001_t000", 1.0], ["/tmp/x", 1.0],
           ["recordings/../../victim", 1.0], ["", 1.0], "junk"]  # fmt: skip
    retired.write_text(json.dumps(bad))
    victim = tmp_path / "victim"
    victim.mkdir()
    problems = validate(str(out))[1]
    assert sum("retired.json: damaged (entry" in p for p in problems) == 5, problems
    cfg = IngestConfig(
        workers=0, progress=False, keep_replaced=0, recipe=Recipe(encoding="float32")
    )
    report = ingest("tuh", src=tuh_corpus, out=out, config=cfg)
    assert not report.failed and report.n_current == 3
    assert victim.is_dir() and validate(str(out))[1] == []
    assert not (out / "_eegprep" / "lock").exists()


def test_a_fifo_in_place_of_an_index_segment_hangs_nothing(
    tuh_corpus: Path, tmp_path: Path
) -> None:
    """Opening a FIFO blocks until a writer comes: validate and stats hung forever."""
    import os

    out = tmp_path / "s.zarr"
    _ingest(tuh_corpus, out)
    segment = _index_segment(out)
    segment.unlink()
    os.mkfifo(segment)
    problems = validate(str(out))[1]
    assert any("not a regular file" in p for p in problems), problems
    with pytest.raises(StoreFormatError, match="the index cannot be read"):
        open_store(out)


@pytest.mark.parametrize("value", [2**70, -(2**64), 2**63])
def test_a_label_beyond_int64_in_the_index_is_refused_never_read_as_a_float(
    tuh_corpus: Path, tmp_path: Path, value: int
) -> None:
    """orjson reads 2**70 and -2**64 as floats (1.1805916207174113e+21: the last digits lost)
    and 2**63 as an integer no int64 holds: a label another program wrote so was a class of
    another number. Its line is one problem of validate, its recording one line when read."""
    out = tmp_path / "s.zarr"
    _ingest(tuh_corpus, out)
    segment = _index_segment(out)
    lines = segment.read_bytes().split(b"\n")
    record = json.loads(lines[1])
    record["labels"]["n"] = [1, value]
    lines[1] = json.dumps(record, sort_keys=True, separators=(",", ":")).encode()
    segment.write_bytes(b"\n".join(lines))
    _, problems = validate(str(out))
    assert problems[0].startswith(
        f"_eegprep/index/{segment.name} line 2: holds an integer beyond 64 bits ({value} is "
    ), problems
    store = open_store(out)
    why = rf"{record['id']}: its index record is not one eegprep writes \(holds an integer"
    with pytest.raises(StoreFormatError, match=rf"{why} beyond 64 bits \({value} is"):
        store.recording(record["id"])
