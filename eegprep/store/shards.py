"""A recording group's zarr objects, encoded and written without zarr's write machinery.

zarr defines every object written here and reads all of them back:

- the array metadata documents are zarr's own, made once per process for each layout
  (channels, rate, encoding, quantum) on an in-memory store, then given each recording's
  length (the ``shape``, and the ``time`` array's single chunk);
- the chunks are encoded as zarr's own codecs encode them (Blosc frames through python-blosc,
  the quantizer and the channel names' ``vlen-utf8`` bytes with numpy, never importing
  numcodecs: ~45 ms of every ingesting process's start), and laid out as zarr lays them out.

What is saved is zarr's write path. Creating a group and three arrays and writing two small
ones costs ~9 ms per recording through its asyncio event loop (a third of the time of a 30 s
recording), against ~1 ms here. For the samples, zarr copies every inner chunk into a fresh
fill-valued buffer, encodes it in an asyncio task and joins the encoded chunks into the shard:
~80 ms for a 30-minute 33-channel shard against ~45 ms here.

``tests/eegprep/test_shards.py`` checks that the objects equal zarr's: documents field by
field, chunks and shards byte for byte, for every encoding and for complete, partial and tiny
arrays. A shard, as the v3 ``sharding_indexed`` codec defines it with the index at the end:

- every inner chunk that overlaps the array, in order, encoded by the inner codecs (filters,
  little-endian bytes, Blosc, CRC-32C); a partial chunk padded with the fill value (0);
- the index: ``(offset, nbytes)`` as little-endian uint64 per inner chunk (``2**64 - 1`` twice
  for a chunk outside the array), then its CRC-32C as a little-endian uint32.

Only the shapes eegprep writes are handled: ``(n_channels, n_samples)`` arrays whose shards and
chunks span every channel, so a shard's inner chunks are consecutive spans of time.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import google_crc32c
import numpy as np

from eegprep.base.wording import counted
from eegprep.store.blosc_codec import BloscCodec
from eegprep.store.encoding import check_range, limit_uv, quantize
from eegprep.store.fs import Location

MISSING = np.uint64(2**64 - 1)  # the index's offset and length of a chunk that is not stored
CHUNK_SECONDS = 60  # one chunk = all channels x 60 s: one read call serves many windows
SHARD_CHUNKS = 30  # one shard object = 30 chunks (30 min): few files per recording

BLOSC: dict[str, tuple[Literal["lz4", "lz4hc", "zstd"], int]] = {
    "quantized": ("lz4", 5),
    "float32": ("lz4", 5),
    "float16": ("lz4", 5),
}
"""Blosc compressor and level per encoding, with bit-shuffling. The quantized integers: lz4
level 5, 0.241 of float64 (TUH-like 23-channel EEG, 1/8 of the ADC step), decoded as fast as
float32 (0.20 ms per 60 s chunk against 0.34 for zstd level 3, which gave 0.208; lz4hc level 1
gave 0.232 but took twice the time to encode, level 3 0.226 at 14x; a delta filter gained <0.01
and cost decoding: docs/benchmarks.md, section 8). Floats: lz4, whose noisy mantissas compress
little whatever the codec (0.88 of float32 with lz4 vs 0.86 with zstd level 5) while lz4 is ~6x
faster to encode and ~3x to decode (numcodecs, one thread, EEG-like float32). Stores written with
another compressor (zstd for quantized, before) are read as they are: Blosc's header names its
compressor."""

CHANNEL_CODECS: list[dict[str, Any]] = [
    {"name": "vlen-utf8", "configuration": {}},
    {"name": "crc32c"},
]
"""The channel names' codecs: zarr's variable-length UTF-8 strings and a CRC-32C, with no
compressor. A group's names are a few hundred bytes; zarr's default for strings adds zstd, whose
only encoder here is numcodecs' (~45 ms to import in every ingesting process). Groups written
with zstd by earlier versions read the same: zarr takes the codecs from each array's
``zarr.json``."""

CHUNK_SEPARATOR = "."
"""The separator of the default chunk key encoding: a chunk's key is ``c.0.3``, a file beside
the array's ``zarr.json``. zarr's own default, ``/``, makes a folder per key part
(``c/0/3``): four folders more per recording, each an inode to create and later to walk
(docs/store-format.md). Arrays written with ``/`` by earlier versions read the same: a reader
takes the separator from each array's ``zarr.json``."""


def chunk_key(*index: int, separator: str = CHUNK_SEPARATOR) -> str:
    """The default chunk key encoding's key of the chunk at grid ``index``: ``c.0.3``."""
    return separator.join(["c", *map(str, index)])


def _scale(quantum: float | None) -> dict[str, Any]:
    """The quantizer's parameters: float32 samples -> int32 multiples of ``quantum`` uV."""
    if quantum is None:
        raise ValueError("the quantized encoding needs a quantum (uV)")
    return {"offset": 0, "scale": 1.0 / quantum, "dtype": "<f4", "astype": "<i4"}


def zarr_filters(quantum: float | None) -> list[Any]:
    """The quantizer as zarr filters (for the array's metadata)."""
    import warnings

    from zarr.codecs.numcodecs import FixedScaleOffset

    with warnings.catch_warnings():  # zarr warns that numcodecs' codecs are not in the spec
        warnings.simplefilter("ignore")
        return [FixedScaleOffset(**_scale(quantum))]


def zarr_compressors(encoding: str) -> list[Any]:
    """The compressor of an encoding, then the CRC-32C of its output, as zarr codecs (for the
    array's metadata): zarr and eegprep's reader check every chunk before decoding it."""
    from zarr.codecs import BloscCodec, Crc32cCodec

    cname, clevel = BLOSC[encoding]
    return [BloscCodec(cname=cname, clevel=clevel, shuffle="bitshuffle"), Crc32cCodec()]


def with_crc(blob: bytes) -> list[bytes]:
    """An encoded chunk and its CRC-32C (little-endian uint32), as zarr's ``crc32c`` codec
    appends it."""
    return [blob, np.array([google_crc32c.value(blob)], dtype="<u4").tobytes()]


def _blosc(encoding: str) -> BloscCodec:
    """The compressor of an encoding: the frames numcodecs' codec (which zarr's wraps) writes,
    encoded by python-blosc on one thread (:mod:`eegprep.store.blosc_codec`). Blosc's threads
    would write a chunk's blocks in the order they finish: the same samples would then give
    other bytes from run to run (they decode the same), and stores are byte-identical only
    with one thread."""
    cname, clevel = BLOSC[encoding]
    return BloscCodec(cname, clevel)


@dataclass(frozen=True)
class Layout:
    """What a recording group's metadata depends on, besides its length.

    Attributes
    ----------
    n_channels : int
        Rows of ``data``.
    sfreq : float
        Sampling rate, Hz.
    encoding : str
        ``float32``, ``float16`` or ``quantized``.
    quantum : float or None
        Step of the quantized encoding, uV.
    chunk, shard : int
        Inner chunk and shard lengths of ``data``, samples.
    """

    n_channels: int
    sfreq: float
    encoding: str
    quantum: float | None
    chunk: int
    shard: int

    @property
    def dtype(self) -> Any:
        return np.float16 if self.encoding == "float16" else np.float32

    def data_attributes(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "units": "uV",
            "sampling_rate": self.sfreq,
            "encoding": self.encoding,
        }
        if self.encoding == "quantized":
            out["quantum_uv"] = self.quantum
        return out


def create_arrays(root: Any, layout: Layout, n_samples: int) -> dict[str, Any]:
    """Create ``data``, ``channel`` and ``time`` in the zarr group ``root`` (no samples).

    The three arrays in zarr's own terms: :func:`metadata_documents` writes the documents zarr
    makes here without importing zarr, and the tests check the two against each other (every
    encoding and length) with a reference group made by this function.
    """
    from zarr.codecs import Crc32cCodec

    keys = {"name": "default", "separator": CHUNK_SEPARATOR}
    filters = zarr_filters(layout.quantum) if layout.encoding == "quantized" else "auto"

    data = root.create_array(
        "data",
        shape=(layout.n_channels, n_samples),
        chunks=(layout.n_channels, layout.chunk),
        shards=(layout.n_channels, layout.shard),
        dtype=layout.dtype,
        filters=filters,
        compressors=zarr_compressors(layout.encoding),
        dimension_names=("channel", "time"),
        chunk_key_encoding=keys,
        fill_value=0,
        attributes=layout.data_attributes(),
        # every chunk is written (zarr's check for all-fill chunks costs two passes over the
        # data); the rare all-zero chunk is simply stored
        config={"write_empty_chunks": True},
    )
    channel = root.create_array(
        "channel",
        shape=(layout.n_channels,),
        dtype=str,
        compressors=[Crc32cCodec()],  # CHANNEL_CODECS
        dimension_names=("channel",),
        chunk_key_encoding=keys,
    )
    time = root.create_array(  # int32 sample numbers in one chunk: one file, one codec call
        "time",
        shape=(n_samples,),
        chunks=(max(n_samples, 1),),
        dtype=np.int32,
        compressors=zarr_compressors("float32"),
        dimension_names=("time",),
        chunk_key_encoding=keys,
        # CF conventions: xarray decodes sample numbers to seconds
        attributes={"units": "s", "scale_factor": 1.0 / layout.sfreq, "long_name": "time"},
        config={"write_empty_chunks": True},  # also [0], equal to the fill value
    )
    return {"data": data, "channel": channel, "time": time}


_BYTES: dict[str, Any] = {"name": "bytes", "configuration": {"endian": "little"}}
_CRC: dict[str, Any] = {"name": "crc32c"}


def _blosc_doc(encoding: str, typesize: int) -> dict[str, Any]:
    cname, clevel = BLOSC[encoding]
    config = {"typesize": typesize, "cname": cname, "clevel": clevel, "shuffle": "bitshuffle"}
    return {"name": "blosc", "configuration": {**config, "blocksize": 0}}


def _array_doc(
    *,
    shape: list[int],
    data_type: str,
    chunk_shape: list[int],
    fill_value: Any,
    codecs: list[dict[str, Any]],
    attributes: dict[str, Any],
    dimension_names: list[str],
    separator: str = CHUNK_SEPARATOR,
) -> dict[str, Any]:
    return {
        "shape": shape,
        "data_type": data_type,
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": chunk_shape}},
        "chunk_key_encoding": {"name": "default", "configuration": {"separator": separator}},
        "fill_value": fill_value,
        "codecs": codecs,
        "attributes": attributes,
        "dimension_names": dimension_names,
        "zarr_format": 3,
        "node_type": "array",
        "storage_transformers": [],
    }


def metadata_documents(layout: Layout, n_samples: int) -> dict[str, dict[str, Any]]:
    """The ``zarr.json`` documents of ``data``, ``channel`` and ``time`` as zarr writes them for
    the arrays of :func:`create_arrays` (``tests/eegprep/test_shards.py`` checks that they are
    the same), built without importing zarr (~0.1 CPU s and an I/O thread in every process)."""
    n_ch = layout.n_channels
    inner: list[dict[str, Any]] = []
    if layout.encoding == "quantized":
        fso = {"name": "numcodecs.fixedscaleoffset", "configuration": _scale(layout.quantum)}
        inner.append(fso)
    typesize = 2 if layout.encoding == "float16" else 4  # the bytes the compressor sees
    inner += [_BYTES, _blosc_doc(layout.encoding, typesize), _CRC]
    sharding = {
        "name": "sharding_indexed",
        "configuration": {
            "chunk_shape": [n_ch, layout.chunk],
            "codecs": inner,
            "index_codecs": [_BYTES, _CRC],
            "index_location": "end",
        },
    }
    names_codecs = CHANNEL_CODECS
    time_units = {"units": "s", "scale_factor": 1.0 / layout.sfreq, "long_name": "time"}
    return {
        "data": _array_doc(
            shape=[n_ch, n_samples],
            data_type="float16" if layout.encoding == "float16" else "float32",
            chunk_shape=[n_ch, layout.shard],
            fill_value=0.0,
            codecs=[sharding],
            attributes=layout.data_attributes(),
            dimension_names=["channel", "time"],
        ),
        "channel": _array_doc(
            shape=[n_ch],
            data_type="string",
            chunk_shape=[n_ch],
            fill_value="",
            codecs=names_codecs,
            attributes={},
            dimension_names=["channel"],
        ),
        "time": _array_doc(
            shape=[n_samples],
            data_type="int32",
            chunk_shape=[max(n_samples, 1)],
            fill_value=0,
            codecs=[_BYTES, _blosc_doc("float32", 4), _CRC],
            attributes=time_units,
            dimension_names=["time"],
        ),
    }


def target_document(name: str, n_rows: int, n_samples: int, chunk: int) -> dict[str, Any]:
    """The ``zarr.json`` zarr writes for the target series ``name`` that
    :func:`~eegprep.store.recording_writer.write_recording` creates: float32, shape ``(n_rows,
    n_samples)``, chunks of ``(n_rows, chunk)`` samples (``chunk``: samples, a ``data``
    chunk's), Blosc as float32 ``data`` then a CRC-32C, zarr's default ``/`` separator, no
    attributes (``tests/eegprep/test_shards.py`` checks it against the writer's)."""
    return _array_doc(
        shape=[n_rows, n_samples],
        data_type="float32",
        chunk_shape=[n_rows, chunk],
        fill_value=0.0,
        codecs=[_BYTES, _blosc_doc("float32", 4), _CRC],
        attributes={},
        dimension_names=[f"{name}_channel", "time"],
        separator="/",
    )


def write_group(
    loc: Location, path: str, layout: Layout, channels: Sequence[str], n_samples: int
) -> ShardWriter:
    """Write the metadata of ``data``, ``channel`` and ``time`` under the group ``path`` and
    the samples of ``channel`` and ``time``; returns the writer of ``data``'s samples.

    The group's own ``zarr.json`` is the caller's (its attributes).
    """
    if len(channels) != layout.n_channels:
        raise ValueError(
            f"{len(channels)} channel names for {counted(layout.n_channels, 'channel')}"
        )
    for name, doc in metadata_documents(layout, n_samples).items():
        put(loc, f"{path}/{name}/zarr.json", [json.dumps(doc).encode()])
    if layout.n_channels:
        put(loc, f"{path}/channel/{chunk_key(0)}", with_crc(vlen_utf8(channels)))
    if n_samples:
        sample_numbers = np.arange(n_samples, dtype="<i4")
        put(
            loc,
            f"{path}/time/{chunk_key(0)}",
            with_crc(bytes(_blosc("float32").encode(sample_numbers))),
        )
    filters = []
    if layout.encoding == "quantized":
        filters.append(Quantizer(**_scale(layout.quantum)))
    n_shards = -(-n_samples // layout.shard)
    return ShardWriter(
        loc,
        f"{path}/data",
        [chunk_key(0, k) for k in range(n_shards)],
        n_channels=layout.n_channels,
        n_samples=n_samples,
        chunk=layout.chunk,
        shard=layout.shard,
        dtype=layout.dtype,
        filters=filters,
        compressor=_blosc(layout.encoding),
    )


def put(loc: Location, key: str, parts: list[bytes]) -> None:
    """One object, from parts. Locally a new file written without joining the parts (a shard
    is tens of MB), with no temporary name or fsync: recording groups are written under a
    staging name that no reader sees before the commit, and an unfinished one is removed by
    the next run. A file already at ``key`` is unlinked first, never written through: it may
    be a hard link that a copy of the store shares (``cp -al``)."""
    target = loc.path(key)
    with loc.calling("write", *key.split("/")):  # (a full disk's write names no file)
        if loc.local:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(target)
            with open(target, "xb") as fh:
                fh.writelines(parts)
        else:
            loc.fs.pipe_file(target, b"".join(parts))


def vlen_utf8(names: Sequence[str]) -> bytes:
    """``names`` as zarr's ``vlen-utf8`` codec encodes a chunk of strings: the item count, then
    each item's byte length and UTF-8 bytes, the counts little-endian uint32."""
    parts = [len(names).to_bytes(4, "little")]
    for name in names:
        raw = name.encode("utf-8")
        parts += [len(raw).to_bytes(4, "little"), raw]
    return b"".join(parts)


@dataclass(frozen=True)
class Quantizer:
    """eegprep's quantizer, the ``numcodecs.fixedscaleoffset`` filter that the ``data`` array's
    metadata names (``offset`` 0, float32 -> int32 at ``scale`` codes per uV), as the writer
    needs it: its parameters, and ``encode``, which gives numcodecs' integers
    (``tests/eegprep/test_shards.py``) without importing numcodecs, but for codes of
    :data:`~eegprep.store.encoding.EXACT_CODES` or more (:func:`~eegprep.store.encoding.quantize`:
    taken in float64, within half a code where numcodecs' float32 product is not)."""

    offset: float
    scale: float
    dtype: str
    astype: str
    codec_id = "fixedscaleoffset"

    def encode(self, buf: np.ndarray) -> np.ndarray:
        """``round((x - offset) * scale)`` (half to even) as ``astype``, flattened."""
        arr = np.asarray(buf).view(self.dtype).reshape(-1)
        if (
            self.offset == 0
            and np.dtype(self.dtype) == np.float32
            and np.dtype(self.astype) == "<i4"
        ):
            return quantize(arr, self.scale, np.empty(arr.shape, "<i4"))  # (the writer's)
        return np.around((arr - self.offset) * self.scale).astype(self.astype, copy=False)


class ShardWriter:
    """Encodes and writes the shards of one ``(n_channels, n_samples)`` array, from samples
    given in order in pieces of any length (:meth:`append`, then :meth:`close`).

    Each inner chunk is encoded as soon as it is complete and only its encoded bytes (and their
    CRC-32C) are kept until the shard is written: memory is one chunk of samples plus one
    encoded shard.

    Parameters
    ----------
    loc : Location
        The store.
    array_path : str
        The array's path relative to the store root (``.../data``).
    keys : sequence of str
        Each shard's object key under the array (``c.0.k``: :func:`chunk_key`, the encoding
        that :func:`metadata_documents` states).
    n_channels, n_samples, chunk, shard : int
        Array shape, inner chunk length and shard length, in samples.
    dtype : numpy dtype
        The array's data type (float32 or float16); the samples are cast to it.
    filters : sequence
        Codecs applied to each inner chunk before it becomes bytes: :class:`Quantizer`, or
        numcodecs codecs (anything with ``encode``).
    compressor : BloscCodec
        The Blosc codec of the inner chunks.
    """

    def __init__(
        self,
        loc: Location,
        array_path: str,
        keys: Sequence[str],
        *,
        n_channels: int,
        n_samples: int,
        chunk: int,
        shard: int,
        dtype: Any,
        filters: Sequence[Any],
        compressor: Any,
    ) -> None:
        self.loc, self.array_path, self.keys = loc, array_path, tuple(keys)
        self.n_samples, self.chunk, self.shard = n_samples, chunk, shard
        self.dtype, self.filters, self.compressor = np.dtype(dtype), tuple(filters), compressor
        self._piece = np.zeros((n_channels, chunk), dtype=np.float32)  # the chunk being filled
        self._filled = 0  # samples in _piece
        self._done = 0  # samples in encoded chunks
        self._encoded: list[list[bytes]] = []  # the current shard's chunks: [bytes, crc]
        self.crcs: list[int] = []  # every chunk's CRC-32C so far, in order (chunk_sums)
        self._scaled = np.empty_like(self._piece)  # the quantizer's scratch
        self._ints = np.empty(self._piece.shape, dtype="<i4")  # ... and its integers
        self._encoding, self._scale = _range_kind(self.filters, self.dtype)
        self._limit = limit_uv(self._encoding, self._scale)
        self._piece_unchecked = False  # whether _piece holds samples of no known peak

    def append(self, samples: np.ndarray, peak: float | None = None) -> None:
        """The next samples, shape ``(n_channels, n)``, float32 uV (a view is fine: whole chunks
        are encoded straight from it, the rest is copied into the chunk being filled).

        ``peak``: a bound on the samples' magnitude (uV), when the caller has one; where it is
        below what the encoding holds, the chunks skip their range check. A sample beyond it
        raises :class:`~eegprep.store.encoding.EncodingRangeError` (an int32 code would wrap, a
        float16 become infinite)."""
        if self._done + self._filled + samples.shape[1] > self.n_samples:
            raise ValueError(f"more than the array's {self.n_samples} samples")
        unchecked = not (peak is not None and peak < self._limit)
        pos = 0
        while pos < samples.shape[1]:
            if self._filled == 0 and samples.shape[1] - pos >= self.chunk:
                self._encode(samples[:, pos : pos + self.chunk], unchecked)
                pos += self.chunk
                continue
            take = min(samples.shape[1] - pos, self.chunk - self._filled)
            self._piece[:, self._filled : self._filled + take] = samples[:, pos : pos + take]
            self._piece_unchecked |= unchecked
            self._filled += take
            pos += take
            if self._filled == self.chunk:
                self._encode(self._piece, self._piece_unchecked)

    def close(self) -> None:
        """Encode the last, partial chunk (padded with the fill value) and write what is left."""
        given = self._done + self._filled
        if given < self.n_samples:
            raise ValueError(f"{counted(given, 'sample')} given, the array holds {self.n_samples}")
        if self._filled:
            self._piece[:, self._filled :] = 0
            self._encode(self._piece, self._piece_unchecked)
        if self._encoded:
            self._write_shard()

    def _encode(self, chunk: np.ndarray, check: bool = True) -> None:
        """Encode one whole chunk, ``(n_channels, chunk)`` float32 (any strides); ``check``:
        whether its samples' range is still to be checked against the encoding's."""
        if check:
            check_range(chunk, self._encoding, self._scale)
        if chunk is self._piece:
            self._piece_unchecked = False
        values: Any
        if plain_quantizer(self.filters, self.dtype):
            # numcodecs' FixedScaleOffset.encode (float32 ``x * scale``, rounded half to even,
            # cast to int32) in place of its three temporary copies: the same integers, but
            # for codes of EXACT_CODES or more, whose product is taken in float64
            values = quantize(chunk, self.filters[0].scale, self._ints, self._scaled)
        else:
            values = np.ascontiguousarray(chunk).astype(self.dtype, copy=False)
            for codec in self.filters:
                values = codec.encode(values)
        pair = with_crc(bytes(self.compressor.encode(np.ascontiguousarray(values))))
        self._encoded.append(pair)
        self.crcs.append(int.from_bytes(pair[1], "little"))
        self._done = min(self._done + self.chunk, self.n_samples)
        self._filled = 0
        if len(self._encoded) * self.chunk == self.shard:
            self._write_shard()

    def _write_shard(self) -> None:
        index = np.full((self.shard // self.chunk, 2), MISSING, dtype="<u8")
        sizes = np.array([len(b) + len(crc) for b, crc in self._encoded], dtype="<u8")
        index[: sizes.shape[0], 1] = sizes
        index[: sizes.shape[0], 0] = np.cumsum(sizes) - sizes
        table = index.tobytes()
        crc = np.array([google_crc32c.value(table)], dtype="<u4").tobytes()
        k = (self._done - 1) // self.shard
        parts = [part for pair in self._encoded for part in pair]
        put(self.loc, f"{self.array_path}/{self.keys[k]}", [*parts, table, crc])
        self._encoded = []


def _range_kind(filters: Sequence[Any], dtype: np.dtype) -> tuple[str, float | None]:
    """The encoding whose range bounds what ``filters`` and ``dtype`` store, and the
    quantizer's scale: ``("quantized", scale)`` for eegprep's quantizer (the only filter
    :func:`write_group` gives), ``("float16", None)``, else ``("float32", None)`` (no bound)."""
    if plain_quantizer(filters, dtype):
        return "quantized", float(filters[0].scale)
    if dtype == np.float16:
        return "float16", None
    return "float32", None


def plain_quantizer(filters: Sequence[Any], dtype: np.dtype) -> bool:
    """Whether ``filters`` is eegprep's quantizer alone: float32 in, int32 out, offset 0."""
    if len(filters) != 1 or dtype != np.float32:
        return False
    c = filters[0]
    return bool(
        getattr(c, "codec_id", "") == "fixedscaleoffset"
        and c.offset == 0
        and np.dtype(c.dtype) == np.float32
        and np.dtype(c.astype) == np.dtype("<i4")
    )
