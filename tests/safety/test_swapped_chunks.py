"""Promise: a chunk is read only at its own place. A whole shard of another recording of the same
channel and chunk counts (a copy tool that mixed up two files, a restore of the wrong file), or
chunks reordered within a shard under a rewritten index, pass every CRC-32C: they were read as
this recording's samples, and `eegprep validate` said `0 problems`. Each record now lists its
chunks' CRC-32Cs by place (``chunk_crc32c``): a chunk elsewhere is one line from `validate`
and from every read, and `ingest --repair` writes the recording again."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import google_crc32c
import numpy as np
import pytest
from click.testing import CliRunner

from cli import eegprep_cli
from eegprep import open_store
from eegprep.base.errors import StoreFormatError
from eegprep.store import chunk_sums
from eegprep.store.validate import validate
from tests.safety.corpus import ingest_folder, write_edf

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # numcodecs' zarr3 codecs

SECONDS = 130  # 26,000 samples at 200 Hz: three chunks of 60 s in one shard
PER_SHARD = 30  # chunks per shard (the store's layout)


@pytest.fixture()
def store(tmp_path: Path) -> tuple[Path, Path]:
    """Two recordings of the same channel count and length, other samples."""
    src = tmp_path / "corpus"
    write_edf(src, "a.edf", seconds=SECONDS, seed=1)
    write_edf(src, "b.edf", seconds=SECONDS, seed=2)
    out = tmp_path / "s.zarr"
    report = ingest_folder(src, out)
    assert report.n_ingested == 2 and not report.failed
    return src, out


def _shard(out: Path, rid: str) -> Path:
    return out / open_store(out).recording(rid).group / "data" / "c.0.0"


def _reordered(shard: bytes, order: list[int]) -> bytes:
    """``shard`` with its stored chunks in ``order``, its index (and the index's CRC-32C)
    written for them: a shard that every checksum passes."""
    table = np.frombuffer(shard[-(16 * PER_SHARD + 4) : -4], dtype="<u8").reshape(-1, 2)
    chunks = [shard[int(o) : int(o) + int(n)] for o, n in table if o != 2**64 - 1]
    chunks = [chunks[i] for i in order] + chunks[len(order) :]
    index = np.full((PER_SHARD, 2), 2**64 - 1, dtype="<u8")
    sizes = np.array([len(c) for c in chunks], dtype="<u8")
    index[: len(chunks), 1] = sizes
    index[: len(chunks), 0] = np.cumsum(sizes) - sizes
    crc = np.array([google_crc32c.value(index.tobytes())], dtype="<u4").tobytes()
    return b"".join(chunks) + index.tobytes() + crc


def _refused_everywhere(out: Path, rid: str) -> None:
    store = open_store(out)
    with pytest.raises(StoreFormatError, match="not the chunk its record lists there") as err:
        store.read(rid)
    assert "\n" not in str(err.value) and "c.0.0" in str(err.value)
    chunks, _ = open_store(out).iter_chunks(rid, 0, 3)
    with pytest.raises(StoreFormatError, match="not the chunk its record lists there"):
        list(chunks)


def test_shards_swapped_between_two_recordings_are_found(store: tuple[Path, Path]) -> None:
    src, out = store
    a, b = _shard(out, "folder/a"), _shard(out, "folder/b")
    blob_a, blob_b = a.read_bytes(), b.read_bytes()
    a.write_bytes(blob_b)
    b.write_bytes(blob_a)
    n, problems = validate(str(out))
    assert n == 2 and problems
    for rid in ("folder/a", "folder/b"):
        mine = [p for p in problems if p.startswith(f"{rid}:")]
        assert mine and all("not the chunk its record lists there" in p for p in mine)
        _refused_everywhere(out, rid)
    result = CliRunner().invoke(eegprep_cli, ["validate", str(out)])
    assert result.exit_code == 1 and "not the chunk its record lists there" in result.output
    # the repair writes both again, and they read as ingested
    report = ingest_folder(src, out, repair=True)
    assert report.n_ingested == 2 and validate(str(out)) == (2, [])


@pytest.mark.parametrize("order", [[1, 0], [0, 2, 1], [2, 0, 1]])
def test_chunks_reordered_within_a_shard_are_found(
    store: tuple[Path, Path], order: list[int]
) -> None:
    _, out = store
    shard = _shard(out, "folder/a")
    before = open_store(out).read("folder/a", 0, 3 * 12_000 - 10_000)
    shard.write_bytes(_reordered(shard.read_bytes(), order))
    moved = [i for i, j in enumerate(order) if i != j]
    n, problems = validate(str(out))
    assert n == 2 and len(problems) == len(moved)
    for i, line in zip(moved, problems, strict=True):
        assert f"samples [{i * 12_000}, " in line and "not the chunk its record lists" in line
    _refused_everywhere(out, "folder/a")
    # a read of the chunks left in place still gives their samples
    kept = [i for i in range(3) if i not in moved]
    for i in kept:
        lo, hi = i * 12_000, min((i + 1) * 12_000, 26_000)
        assert np.array_equal(open_store(out).read("folder/a", lo, hi), before[:, lo:hi])


def test_a_store_of_an_earlier_version_without_the_list_is_read_as_before(
    store: tuple[Path, Path], tmp_path: Path
) -> None:
    """A record that lists no chunk CRC-32Cs (every version before this one) is read and
    validated as before: each chunk by its own CRC-32C."""
    _, out = store
    for path in [*out.rglob("*.jsonl"), *(out / "recordings").rglob("zarr.json")]:
        if path.suffix == ".jsonl":
            lines = [json.loads(x) for x in path.read_text().splitlines()]
            for rec in lines:
                rec.pop(chunk_sums.FIELD, None)
            path.write_text("".join(json.dumps(r) + "\n" for r in lines))
        else:
            doc = json.loads(path.read_text())
            if chunk_sums.FIELD in doc.get("attributes", {}):
                del doc["attributes"][chunk_sums.FIELD]
                path.write_text(json.dumps(doc))
    for fields in out.rglob("*.fields"):
        fields.unlink()
    assert validate(str(out)) == (2, [])
    assert open_store(out).read("folder/a", 0, 100).shape[1] == 100


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("xyz", "is not 8 lower-case hex digits per chunk"),
        (12, "is not 8 lower-case hex digits per chunk"),
        ("0123456", "is not 8 lower-case hex digits per chunk"),
        ("01234567", "lists 1 chunk, but data has 3"),
        ("01234567" * 4, "lists 4 chunks, but data has 3"),
    ],
)
def test_a_list_that_is_no_list_of_this_array_s_chunks_is_one_line(
    value: object, problem: str
) -> None:
    parsed = chunk_sums.parse(value, 3)
    assert isinstance(parsed, str) and problem in parsed and "\n" not in parsed


def test_the_list_survives_a_copy_of_the_store(store: tuple[Path, Path], tmp_path: Path) -> None:
    """The CRCs are of the bytes, not of where the store lies: a copied store validates."""
    _, out = store
    copy = tmp_path / "copy.zarr"
    shutil.copytree(out, copy)
    assert validate(str(copy)) == (2, [])
    record = open_store(copy).recording("folder/a")
    listed = record.meta[chunk_sums.FIELD]
    assert isinstance(listed, str) and len(listed) == 3 * 8


def test_a_target_series_read_from_another_place_is_found(tmp_path: Path) -> None:
    """Target series (MoBI's joint angles) are written by zarr, each chunk with a CRC-32C of
    its own bytes: a chunk of another recording's target of the same shape, or values zarr
    wrote over the target since, passed every check. The record holds the CRC-32C of each
    target's values (``target_crc32c``)."""
    import zarr

    from eegprep.ingestion.driver import IngestConfig, ingest
    from eegprep.testing.fixtures import write_fixture

    root = write_fixture("mobi", tmp_path / "src")
    out = tmp_path / "s.zarr"
    assert ingest("mobi", src=root, out=out, config=IngestConfig(workers=0, progress=False))
    one, two = (out / "recordings/mobi" / t / "joints" for t in ("SL01-T01", "SL01-T02"))
    assert validate(str(out)) == (2, [])
    # another program writes other values over one target (zarr checks nothing against it)
    target = zarr.open_array(two, mode="r+")
    target[...] = np.asarray(target[...]) + 1.0
    problems = validate(str(out))[1]
    assert len(problems) == 1 and problems[0].startswith("mobi/SL01-T02: target 'joints'")
    assert "not those its record lists" in problems[0]
    with pytest.raises(StoreFormatError, match="not those its record lists"):
        open_store(out).read_target("mobi/SL01-T02", "joints")
    # its chunk moved to the other recording: both are found
    (one / "c/0/0").write_bytes((two / "c/0/0").read_bytes())
    problems = validate(str(out))[1]
    assert [p.split(":")[0] for p in problems] == ["mobi/SL01-T01", "mobi/SL01-T02"]
    with pytest.raises(StoreFormatError, match="not those its record lists"):
        open_store(out).read_target("mobi/SL01-T01", "joints")


@pytest.mark.parametrize("listed", [["5a972c54"], {"joints": "xyz"}, {"joints": 5}, {}])
def test_a_target_list_that_is_no_table_of_crcs_is_one_line(listed: object) -> None:
    values = np.zeros((2, 4), dtype=np.float32)
    problem = chunk_sums.target_problem(listed, "joints", values)
    assert problem is not None and "\n" not in problem and "damaged" in problem
    assert chunk_sums.target_problem(None, "joints", values) is None  # an earlier version's
