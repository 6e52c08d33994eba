"""eegprep.store.shards writes exactly the objects zarr writes, and eegprep.store.shard_reader
reads what zarr reads."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import zarr
from zarr.core.buffer import default_buffer_prototype

from eegprep.base.errors import StoreFormatError
from eegprep.store.encoding import EXACT_CODES
from eegprep.store.fs import Location
from eegprep.store.shard_reader import ShardReader
from eegprep.store.shards import (
    BLOSC,
    Layout,
    Quantizer,
    create_arrays,
    vlen_utf8,
    write_group,
    zarr_compressors,
    zarr_filters,
)

CHUNK, SHARD = 50, 200  # samples: 4 inner chunks per shard
NAMES = ["FP1", "CZ", "O2"]
NAMES_ARRAYS = ("data", "channel", "time")


def _objects(root: Path) -> dict[str, bytes]:
    """Every file under a group, by relative path, except the group's own zarr.json."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.parent != root
    }


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize(
    ("encoding", "quantum"), (("float32", None), ("float16", None), ("quantized", 0.0125))
)
@pytest.mark.parametrize("n_samples", (0, 1, 49, 50, 199, 200, 201, 530, 800))
def test_group_is_what_zarr_writes(tmp_path, encoding, quantum, n_samples):
    rng = np.random.default_rng(n_samples)
    x = (20 * rng.standard_normal((3, n_samples))).astype(np.float32)
    layout = Layout(3, 250.0, encoding, quantum, CHUNK, SHARD)

    arrays = create_arrays(zarr.open_group(str(tmp_path / "zarr"), mode="w"), layout, n_samples)
    if n_samples:
        arrays["data"][:] = x
        arrays["time"][:] = np.arange(n_samples, dtype=np.int32)
    arrays["channel"][:] = np.array(NAMES, dtype=object)

    writer = write_group(Location.parse(tmp_path), "ours", layout, NAMES, n_samples)
    cuts = np.sort(rng.integers(0, n_samples + 1, size=5))  # pieces of any length, empty too
    for piece in np.split(x, cuts, axis=1):
        writer.append(piece)
    writer.close()

    ours, theirs = _objects(tmp_path / "ours"), _objects(tmp_path / "zarr")
    assert sorted(ours) == sorted(theirs)
    assert len([k for k in ours if k.startswith("data/c.")]) == -(-n_samples // SHARD)
    for key, blob in theirs.items():
        if key.endswith("zarr.json"):  # the same document (zarr's indentation aside)
            assert json.loads(ours[key]) == json.loads(blob), key
        else:
            assert ours[key] == blob, key

    (tmp_path / "ours" / "zarr.json").write_bytes((tmp_path / "zarr" / "zarr.json").read_bytes())
    group = zarr.open_group(str(tmp_path / "ours"), mode="r")
    np.testing.assert_array_equal(group["data"][:], arrays["data"][:])
    assert list(group["channel"][:]) == NAMES
    np.testing.assert_array_equal(group["time"][:], np.arange(n_samples))


@pytest.mark.parametrize(
    "names",
    (["FP1"], ["", "Cz", "T3"], ["EEG Fp1-Réf", "电极", "a\x00b", "x" * 300], []),
)
def test_channel_names_are_encoded_as_zarr_encodes_them(tmp_path, names):
    """The ``vlen-utf8`` bytes of any text (empty, accented, CJK, NUL, long) are numcodecs',
    and zarr reads a group written with them (here its only channel chunk is compared)."""
    from numcodecs import VLenUTF8

    assert vlen_utf8(names) == bytes(VLenUTF8().encode(np.array(names, dtype=object)))
    if not names:
        return
    layout = Layout(len(names), 250.0, "float32", None, CHUNK, SHARD)
    write_group(Location.parse(tmp_path), "g", layout, names, 0).close()
    theirs = create_arrays(zarr.open_group(str(tmp_path / "z"), mode="w"), layout, 0)
    theirs["channel"][:] = np.array(names, dtype=object)
    ours = (tmp_path / "g" / "channel" / "c.0").read_bytes()
    assert ours == (tmp_path / "z" / "channel" / "c.0").read_bytes()
    assert list(zarr.open_array(str(tmp_path / "g" / "channel"), mode="r")[:]) == names


@pytest.mark.parametrize("quantum", (0.0125, 0.03125, 1e-3, 0.1 / 3))
def test_quantizer_gives_numcodecs_integers(quantum):
    """eegprep's quantizer and numcodecs' ``FixedScaleOffset`` (which the metadata names and
    zarr decodes with) give the same integers, halves included (rounded to even), for codes
    under ``EXACT_CODES``; above, eegprep's is the nearest integer to ``x * scale``, where
    numcodecs' float32 product is off by up to ``|code| * 2^-24`` codes."""
    from numcodecs import FixedScaleOffset

    params = {"offset": 0, "scale": 1.0 / quantum, "dtype": "<f4", "astype": "<i4"}
    rng = np.random.default_rng(7)
    x = (200 * rng.standard_normal(5000)).astype(np.float32)
    halves = ((np.arange(-50, 50) + 0.5) * quantum).astype(np.float32)
    for values in (x, halves, np.float32([0.0, -0.0, 1e6, -1e6])):
        ref = FixedScaleOffset(**params).encode(values)
        ours = Quantizer(**params).encode(values)
        small = np.abs(values.astype(np.float64) / quantum) < EXACT_CODES
        np.testing.assert_array_equal(ours[small], ref[small])
        assert np.abs(ours - values.astype(np.float64) / quantum).max() <= 0.5 + 2.0**-9
        assert ours.dtype == ref.dtype


def test_too_many_or_too_few_samples_are_refused(tmp_path):
    layout = Layout(2, 200.0, "float32", None, CHUNK, SHARD)
    writer = write_group(Location.parse(tmp_path), "g", layout, ["C3", "C4"], 300)
    writer.append(np.zeros((2, 260), dtype=np.float32))
    with pytest.raises(ValueError, match="more than the array's 300 samples"):
        writer.append(np.zeros((2, 41), dtype=np.float32))
    with pytest.raises(ValueError, match="260 samples given, the array holds 300"):
        writer.close()


def test_quantized_without_a_quantum_is_refused(tmp_path):
    layout = Layout(2, 200.0, "quantized", None, CHUNK, SHARD)
    with pytest.raises(ValueError, match="needs a quantum"):
        write_group(Location.parse(tmp_path), "g", layout, ["C3", "C4"], 300)


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize(
    ("encoding", "quantum"), (("float32", None), ("float16", None), ("quantized", 0.0125))
)
@pytest.mark.parametrize("n_samples", (1, 199, 530, 800))
def test_reader_reads_what_zarr_reads(tmp_path, encoding, quantum, n_samples):
    rng = np.random.default_rng(n_samples)
    x = (20 * rng.standard_normal((3, n_samples))).astype(np.float32)
    layout = Layout(3, 250.0, encoding, quantum, CHUNK, SHARD)
    writer = write_group(Location.parse(tmp_path), "g", layout, NAMES, n_samples)
    writer.append(x)
    writer.close()
    reader = ShardReader.open(Location.parse(tmp_path), "g/data")
    assert reader is not None
    theirs = zarr.open_array(str(tmp_path / "g" / "data"), mode="r")
    spans = [(0, n_samples), (0, 0), (n_samples, n_samples)]
    spans += [tuple(sorted(rng.integers(0, n_samples + 1, size=2))) for _ in range(30)]
    for a, b in spans:
        got = reader.read(int(a), int(b))
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got, np.asarray(theirs[:, a:b], dtype=np.float32))
    with pytest.raises(ValueError, match="outside the array"):
        reader.read(0, n_samples + 1)


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize(
    ("encoding", "quantum"), (("float32", None), ("float16", None), ("quantized", 0.0125))
)
@pytest.mark.parametrize("n_samples", (1, 199, 530, 800))
def test_stored_chunks_divide_to_what_read_returns(tmp_path, encoding, quantum, n_samples):
    """``iter_chunks``: whole chunks in fresh arrays, the quantizer's integers with their
    divisor (or float32 microvolts), equal to ``read`` to the bit once divided."""
    x = (20 * np.random.default_rng(1).standard_normal((3, n_samples))).astype(np.float32)
    writer = write_group(
        Location.parse(tmp_path),
        "g",
        Layout(3, 250.0, encoding, quantum, CHUNK, SHARD),
        NAMES,
        n_samples,
    )
    writer.append(x)
    writer.close()
    reader = ShardReader.open(Location.parse(tmp_path), "g/data")
    assert reader is not None
    n_chunks = -(-n_samples // CHUNK)
    for first, last in ((0, n_chunks), (n_chunks - 1, n_chunks), (0, 0), (1, min(6, n_chunks))):
        if first > last:
            continue
        parts = list(reader.iter_chunks(first, last))
        assert len(parts) == last - first
        if not parts:
            continue
        assert all(p.shape[1] == CHUNK for p in parts[:-1])
        assert len({id(p.base if p.base is not None else p) for p in parts}) == len(parts)
        stored = np.concatenate(parts, axis=1)
        if encoding == "quantized":
            assert stored.dtype.kind == "i" and reader.divisor == 1 / quantum
            values = np.empty(stored.shape, np.float32)
            np.divide(stored, reader.divisor, out=values, dtype=np.float64, casting="same_kind")
        else:
            assert stored.dtype == np.float32 and reader.divisor is None
            values = stored
        stop = min(n_samples, last * CHUNK)
        np.testing.assert_array_equal(values, reader.read(first * CHUNK, stop))
    with pytest.raises(ValueError, match="outside the array"):
        list(reader.iter_chunks(0, n_chunks + 1))


def test_reader_declines_other_layouts_and_refuses_corrupt_shards(tmp_path):
    loc = Location.parse(tmp_path)
    plain = zarr.open_group(str(tmp_path / "plain"), mode="w")
    plain.create_array("data", shape=(2, 100), chunks=(2, 50), dtype=np.float32)
    assert ShardReader.open(loc, "plain/data") is None  # not sharded: zarr reads it

    layout = Layout(2, 200.0, "float32", None, CHUNK, SHARD)
    writer = write_group(loc, "g", layout, ["C3", "C4"], 300)
    writer.append(np.ones((2, 300), dtype=np.float32))
    writer.close()
    shard = tmp_path / "g" / "data" / "c.0.1"
    blob = bytearray(shard.read_bytes())
    blob[-10] ^= 0xFF  # a flipped bit in the index
    shard.write_bytes(bytes(blob))
    reader = ShardReader.open(loc, "g/data")
    assert reader is not None
    np.testing.assert_array_equal(reader.read(0, 200), 1.0)  # shard 0 is intact
    with pytest.raises(StoreFormatError, match="CRC-32C"):
        reader.read(150, 250)
    shard.write_bytes(b"\x00" * 10)  # truncated
    with pytest.raises(StoreFormatError, match="truncated shard"):
        reader.read(200, 300)
    shard.unlink()
    with pytest.raises(StoreFormatError, match="shard missing"):
        reader.read(200, 300)


def test_every_array_checksums_its_chunks(tmp_path):
    layout = Layout(2, 200.0, "quantized", 0.01, CHUNK, SHARD)
    write_group(Location.parse(tmp_path), "g", layout, ["C3", "C4"], 300)
    docs = {n: json.loads((tmp_path / "g" / n / "zarr.json").read_text()) for n in NAMES_ARRAYS}
    inner = docs["data"]["codecs"][0]["configuration"]["codecs"]
    assert [c["name"] for c in inner][-2:] == ["blosc", "crc32c"]
    assert docs["channel"]["codecs"][-1]["name"] == docs["time"]["codecs"][-1]["name"] == "crc32c"
    assert type(zarr_compressors("float32")[-1]).__name__ == "Crc32cCodec"  # targets too


def test_reader_names_the_chunk_that_fails_its_checksum(tmp_path):
    loc = Location.parse(tmp_path)
    writer = write_group(loc, "g", Layout(2, 200.0, "float32", None, CHUNK, SHARD), NAMES[:2], 400)
    writer.append(np.ones((2, 400), dtype=np.float32))
    writer.close()
    shard = tmp_path / "g" / "data" / "c.0.1"
    blob = bytearray(shard.read_bytes())
    offset, size = np.frombuffer(bytes(blob[-68:-4]), dtype="<u8").reshape(4, 2)[2]
    blob[int(offset + size // 2)] ^= 0x10  # chunk 2 of shard 1: samples [300, 350)
    shard.write_bytes(bytes(blob))
    reader = ShardReader.open(loc, "g/data")
    assert reader is not None and reader.checksum
    np.testing.assert_array_equal(reader.read(0, 300), 1.0)
    np.testing.assert_array_equal(reader.read(350, 400), 1.0)
    with pytest.raises(StoreFormatError, match=r"1: samples \[300, 350\) of g fail their CRC-32C"):
        reader.read(299, 301)
    bad = [(a, b) for a, b, got in reader.scan() if isinstance(got, StoreFormatError)]
    assert bad == [(300, 350)]


def test_a_reader_keeps_shard_indexes_but_scan_and_chunks_are_checked_afresh(tmp_path):
    """A reader reads each shard's index once (training reads a shard many times); a scan
    (``eegprep validate``) reads every index again, and every chunk read is still checked, so
    bits flipped after a first read are found either way."""
    loc = Location.parse(tmp_path)
    writer = write_group(loc, "g", Layout(2, 200.0, "float32", None, CHUNK, SHARD), NAMES[:2], 400)
    writer.append(np.ones((2, 400), dtype=np.float32))
    writer.close()
    reader = ShardReader.open(loc, "g/data")
    assert reader is not None
    np.testing.assert_array_equal(reader.read(0, 400), 1.0)
    assert len(reader._indexes) == 2
    shard = tmp_path / "g" / "data" / "c.0.1"
    blob = bytearray(shard.read_bytes())
    offset, size = np.frombuffer(bytes(blob[-68:-4]), dtype="<u8").reshape(4, 2)[2]
    blob[int(offset + size // 2)] ^= 0x10  # chunk 2 of shard 1
    blob[-10] ^= 0xFF  # and the shard's index
    shard.write_bytes(bytes(blob))
    with pytest.raises(StoreFormatError, match=r"samples \[300, 350\) of g fail their CRC-32C"):
        list(reader.iter_chunks(6, 7))  # the kept index, the chunk checked
    bad = [(a, b, str(got)) for a, b, got in reader.scan() if isinstance(got, StoreFormatError)]
    assert [(a, b) for a, b, _ in bad] == [(200, 400)] and "shard index" in bad[0][2]


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize(
    ("encoding", "quantum"), (("float32", None), ("float16", None), ("quantized", 0.0125))
)
def test_reader_reads_arrays_written_before_chunk_checksums(tmp_path, encoding, quantum):
    from zarr.codecs import BloscCodec

    cname, clevel = BLOSC[encoding]
    layout = Layout(3, 250.0, encoding, quantum, CHUNK, SHARD)
    old = zarr.open_group(str(tmp_path / "old"), mode="w").create_array(
        "data",
        shape=(3, 530),
        chunks=(3, CHUNK),
        shards=(3, SHARD),
        dtype=layout.dtype,
        filters=zarr_filters(quantum) if quantum else "auto",
        compressors=[BloscCodec(cname=cname, clevel=clevel, shuffle="bitshuffle")],
        fill_value=0,
        config={"write_empty_chunks": True},
    )
    x = (20 * np.random.default_rng(1).standard_normal((3, 530))).astype(np.float32)
    old[:] = x
    reader = ShardReader.open(Location.parse(tmp_path), "old/data")
    assert reader is not None and not reader.checksum
    np.testing.assert_array_equal(reader.read(0, 530), np.asarray(old[:], dtype=np.float32))
    shard = tmp_path / "old" / "data" / "c" / "0" / "0"
    blob = bytearray(shard.read_bytes())
    blob[5] ^= 0x01  # Blosc's header: the chunk's decoded size
    shard.write_bytes(bytes(blob))
    with pytest.raises(StoreFormatError, match=r"samples \[0, 50\) of old do not hold one whole"):
        reader.read(0, 10)


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("seed", range(8))
def test_metadata_documents_are_zarrs_own(seed: int) -> None:
    """The documents written without zarr equal those zarr makes for the same arrays, for
    layouts drawn at random (channel counts, odd rates, ADC-derived quanta, lengths)."""
    from zarr.storage import MemoryStore

    from eegprep.store.shards import metadata_documents

    rng = np.random.default_rng(seed)
    encoding = ("float32", "float16", "quantized")[seed % 3]
    quantum = float(rng.choice([9999.68 / 65535, 0.03125, 1e-3 / 7])) / 8
    chunk = int(rng.choice([200, 12000]))
    layout = Layout(
        int(rng.integers(1, 130)),
        float(rng.choice([200.0, 173.61, 256.0, 1000.0 / 3])),
        encoding,
        quantum if encoding == "quantized" else None,
        chunk,
        chunk * int(rng.integers(1, 11)),
    )
    n_samples = int(rng.choice([0, 1, layout.shard - 1, layout.shard * 3 + 17]))
    root = zarr.open_group(MemoryStore(), mode="w")
    arrays = create_arrays(root, layout, n_samples)
    ours = metadata_documents(layout, n_samples)
    for name, arr in arrays.items():
        theirs = json.loads(
            arr.metadata.to_buffer_dict(default_buffer_prototype())["zarr.json"].to_bytes()
        )
        assert ours[name] == theirs, name
        assert json.loads(json.dumps(ours[name])) == theirs  # what is written reads back the same


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize(("rows", "n_samples", "sfreq"), [(1, 0, 200.0), (12, 2000, 200.0),
                                                          (3, 30_001, 173.61)])  # fmt: skip
def test_target_document_is_what_the_writer_writes(tmp_path, rows, n_samples, sfreq):
    """A target series' ``zarr.json`` as :func:`target_document` builds it (what validate and
    ``read_target`` compare with) is the one ``write_recording`` has zarr write."""
    from eegprep.store.recording_writer import write_recording
    from eegprep.store.shards import CHUNK_SECONDS, target_document

    values = np.ones((rows, n_samples), dtype=np.float32)
    blocks = iter([np.zeros((2, n_samples), dtype=np.float32)])
    write_recording(str(tmp_path), "g", record=None, channels=["C3", "C4"], n_samples=n_samples,
                    blocks=blocks, sfreq=sfreq, targets={"joints": values})  # fmt: skip
    found = json.loads((tmp_path / "g" / "joints" / "zarr.json").read_text())
    assert found == target_document("joints", rows, n_samples, int(CHUNK_SECONDS * sfreq))
