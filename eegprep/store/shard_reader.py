"""Reading a recording's samples straight from its shard objects, bypassing zarr.

For the stores eegprep writes (one sharded 2-D array per recording, blosc chunks, optional
fixed-scale quantization, crc32c): one ranged read of the shard index, then one ranged read per
chunk, decoded into a reused per-thread buffer; anything else is read through zarr."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import google_crc32c
import numpy as np

from eegprep.base.errors import StoreError, StoreFormatError
from eegprep.base.path_limits import described
from eegprep.store import blosc_codec, chunk_sums
from eegprep.store.added_attrs import array_keys, without_added
from eegprep.store.fs import Location
from eegprep.store.shards import MISSING, chunk_key


class ShardReader:
    """Reads spans of samples of one ``data`` array in the layout :class:`ShardWriter` writes,
    straight from its shards: the index at the end of a shard (CRC-checked), one read of the
    byte range holding the chunks wanted, each chunk's CRC-32C checked (arrays written before
    chunks carried one have none), python-blosc to decode them (:mod:`~eegprep.store.blosc_codec`).

    Any damage is a :class:`StoreFormatError` naming the shard, the recording group and the
    samples concerned: a missing or truncated shard, a shard index that fails its CRC or points
    outside the shard, a chunk that fails its CRC or does not decode to a whole chunk. A read
    never returns changed samples from a chunk that has a CRC.

    zarr's read path (an asyncio task per chunk, buffers assembled through its indexers) costs
    ~3x the decoding itself on a training block. :meth:`open` returns ``None`` for any other
    layout, which is then read with zarr.
    """

    def __init__(self, loc: Location, array_path: str, doc: dict[str, Any]) -> None:
        self.loc, self.array_path = loc, array_path
        self.group = array_path.rsplit("/", 1)[0]
        self.separator = _key_separator(doc)
        self.n_channels, self.n_samples = (int(v) for v in doc["shape"])
        self.shard = int(doc["chunk_grid"]["configuration"]["chunk_shape"][1])
        sharding = doc["codecs"][0]["configuration"]
        self.chunk = int(sharding["chunk_shape"][1])
        inner = sharding["codecs"]
        self.dtype = np.dtype(doc["data_type"])
        self.filters: list[Any] = []
        self.divisor: float | None = None  # the quantizer's scale, for the direct path
        stored = self.dtype
        if inner[0]["name"] == "numcodecs.fixedscaleoffset":
            from numcodecs import get_codec

            config = dict(inner[0]["configuration"])
            self.filters.append(get_codec({**config, "id": "fixedscaleoffset"}))
            stored = np.dtype(config["astype"])
            if config.get("offset", 0) == 0 and self.dtype == np.float32:
                self.divisor = float(self.filters[0].scale)
        self.stored = stored
        self.checksum = inner[-1]["name"] == "crc32c"  # stores written before have none
        self.per_shard = self.shard // self.chunk
        self.index_bytes = 16 * self.per_shard + 4
        # shard path -> its index and where its chunks end, as first read by this reader (a
        # committed recording's files do not change; :meth:`scan` reads them afresh)
        self._indexes: dict[str, tuple[np.ndarray, int]] = {}
        self.places: tuple[int, ...] | None = None  # each chunk's CRC-32C, as its record lists

    def expect(self, listed: Any) -> str | None:
        """Check every chunk read from now on against the CRC-32C its record lists for its
        place (``listed``, the record's ``chunk_crc32c``; None: the record lists none, an
        earlier version's), so that a valid chunk of another place or recording is not read
        as this one's; what is wrong with ``listed``, in words, else None."""
        if listed is None:
            return None
        where = self.loc.shown(self.group)
        places = chunk_sums.parse(listed, -(-self.n_samples // self.chunk))
        if isinstance(places, str):
            return f"{where}: its record's {places} (damaged)"
        if not self.checksum:
            return f"{where}: its record lists chunk CRC-32Cs, but its chunks carry none"
        self.places = places
        return None

    def decoding_problem(self, encoding: str | None, quantum_uv: float | None) -> str | None:
        """What in this array's ``zarr.json`` disagrees with how its recording's record says
        it is stored, else None. The CRCs cover the compressed bytes, not the settings that
        decode them: a flipped digit in the quantizer's ``scale`` or ``offset`` changes every
        sample and fails no checksum, so the settings are checked against the record. A record
        of a version before 829cebd states no ``encoding``: its ``quantum_uv`` says quantized,
        and either float type is taken (its store's recipe names which)."""
        where = self.loc.shown(self.loc.path(self.array_path, "zarr.json"))
        if encoding is None and quantum_uv is not None:  # an earlier version's record (before
            encoding = "quantized"  # 829cebd) states the quantized step alone
        if encoding == "quantized":
            if not self.filters or quantum_uv is None or self.divisor is None:
                return f"{where}: no quantizer, but the record says quantized"
            config = self.filters[0].get_config()
            expected = 1.0 / quantum_uv
            if (
                config.get("offset") != 0
                or abs(self.divisor - expected) > 1e-9 * expected
                or np.dtype(config.get("astype")) != np.int32
            ):
                return (
                    f"{where}: its quantizer (scale {self.divisor!r}, offset "
                    f"{config.get('offset')!r}) is not the record's step {quantum_uv!r} uV "
                    f"(scale {expected!r}, offset 0): the metadata is damaged"
                )
        elif self.filters:
            return f"{where}: a quantizer, but the record says {encoding or 'float32'}"
        wanted = np.float16 if encoding == "float16" else np.float32
        if encoding is None and self.dtype == np.float16:  # an earlier version's record does
            return None  # not say which float: its store's recipe does
        if self.dtype != wanted:
            return f"{where}: data type {self.dtype}, but the record says {encoding or 'float32'}"
        return None

    @classmethod
    def open(cls, loc: Location, array_path: str) -> ShardReader | None:
        """A reader for the array at ``array_path``, or ``None`` when it is not laid out as
        eegprep writes it (2-D float, shards and chunks spanning all channels, index at the
        end, inner codecs [quantizer,] little-endian bytes, Blosc[, CRC-32C]).

        Raises :class:`StoreFormatError` when the array's ``zarr.json`` is missing or damaged.
        """
        where = loc.shown(loc.path(array_path, "zarr.json"))
        try:  # (attributes another program added are read past: a NaN among them too)
            doc, _ = without_added(loc.read_bytes(array_path, "zarr.json"), array_keys("data"))
        except FileNotFoundError:
            raise StoreFormatError(f"{where}: missing (the array's metadata)") from None
        except StoreError:  # (the file system's refusal: one line naming it already)
            raise
        except OSError as exc:  # (not a regular file, too large to be eegprep's: one line)
            why = exc.strerror or described(exc, named=True)
            raise StoreFormatError(f"{where}: cannot be read ({why})") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise StoreFormatError(f"{where}: not valid JSON ({exc}; corrupt file)") from None
        try:
            ok = _is_eegprep_layout(doc)
        except (KeyError, IndexError, TypeError, AttributeError):
            ok = False
        if not ok:
            return None
        try:
            return cls(loc, array_path, doc)
        except StoreFormatError:
            raise
        except Exception as exc:  # a codec's configuration damaged: numcodecs raises any type
            why = described(exc, named=True)
            raise StoreFormatError(f"{where}: damaged ({why}; corrupt file)") from None

    def read(self, start: int, stop: int) -> np.ndarray:
        """Samples ``[start, stop)`` of every channel, float32, ``(n_channels, stop - start)``."""
        if not 0 <= start <= stop <= self.n_samples:
            raise ValueError(f"[{start}, {stop}) outside the array's [0, {self.n_samples})")
        out = np.empty((self.n_channels, stop - start), dtype=np.float32)
        first, last = start // self.chunk, -(-stop // self.chunk)  # chunks [first, last)
        for k, lo, hi in self._shards(first, last):
            for i, raw in self._chunks(k, lo, hi):
                c0 = (k * self.per_shard + i) * self.chunk  # the chunk's first sample
                a, b = max(start, c0), min(stop, c0 + self.chunk)
                self._values(raw[:, a - c0 : b - c0], out[:, a - start : b - start])
        return out

    def iter_chunks(self, first: int, last: int) -> Iterator[np.ndarray]:
        """Stored chunks ``[first, last)``, each ``(n_channels, chunk)`` (the array's last chunk:
        its samples only), in a fresh array the caller may keep.

        When :attr:`divisor` is set they hold the stored integers (microvolts x ``divisor``),
        decoded straight into the array (a training reader scales them once, into its batch);
        otherwise float32 microvolts. Each shard's bytes are read at once, each chunk decoded
        when it is asked for, so that its samples can be used while still in the CPU's cache.
        Until it is done the iterator holds this thread's read buffer: read nothing else in
        this thread meanwhile.
        """
        n_chunks = -(-self.n_samples // self.chunk)
        if not 0 <= first <= last <= n_chunks:
            raise ValueError(f"chunks [{first}, {last}) outside the array's [0, {n_chunks})")
        for k, lo, hi in self._shards(first, last):
            path, index, span, begin = self._shard_span(k, lo, hi)
            for i in range(lo, hi):
                c0 = (k * self.per_shard + i) * self.chunk
                n = min(self.chunk, self.n_samples - c0)
                if self.divisor is not None:
                    whole = np.empty((self.n_channels, self.chunk), dtype=self.stored)
                    self._decode(path, k, i, index[i], span, begin, into=whole)
                    yield whole if n == self.chunk else whole[:, :n]
                else:
                    values = np.empty((self.n_channels, n), dtype=np.float32)
                    raw = self._decode(path, k, i, index[i], span, begin)
                    self._values(raw[:, :n], values)
                    yield values

    def _shards(self, first: int, last: int) -> Iterator[tuple[int, int, int]]:
        """The shards holding chunks ``[first, last)``: ``(k, lo, hi)``, chunks ``[lo, hi)``
        counted within shard ``k``."""
        for k in range(first // self.per_shard, -(-last // self.per_shard)):
            lo = max(first, k * self.per_shard) - k * self.per_shard
            hi = min(last, (k + 1) * self.per_shard) - k * self.per_shard
            yield k, lo, hi

    def _values(self, raw: np.ndarray, out: np.ndarray) -> None:
        """Stored values ``raw`` (a decoded chunk's columns) as float32 uV, into ``out``.

        The quantizer's decoding is numcodecs' ``FixedScaleOffset.decode`` (``int / scale``
        in float64, rounded to float32: the same values to the bit) without its two float64
        copies of the chunk: 0.19 instead of 0.33 ms per 60 s chunk of 23 channels.
        """
        if self.divisor is not None:
            np.divide(raw, self.divisor, out=out, dtype=np.float64, casting="same_kind")
        elif self.filters:
            values: Any = np.ascontiguousarray(raw)
            for codec in reversed(self.filters):
                values = codec.decode(values)
            out[...] = np.asarray(values).reshape(raw.shape)
        else:
            out[...] = raw

    def scan(self) -> Iterator[tuple[int, int, np.ndarray | StoreFormatError]]:
        """Every chunk in order, each read and checked: ``(start, stop, samples)`` with the
        samples ``(n_channels, stop - start)`` (valid until the next step), or the error in
        their place. A shard that cannot be read at all is one error for all of its samples. A
        chunk whose CRC-32C is not the one its record lists for its place (:meth:`expect`) is
        an error, then its samples (so that what else is wrong with them is found too).
        """
        for k in range(-(-self.n_samples // self.shard)):
            k0 = k * self.shard
            n_chunks = -(-(min(k0 + self.shard, self.n_samples) - k0) // self.chunk)
            try:
                path, index, span, begin = self._shard_span(k, 0, n_chunks, fresh=True)
            except StoreFormatError as exc:
                yield k0, min(k0 + self.shard, self.n_samples), exc
                continue
            for i in range(n_chunks):
                a = k0 + i * self.chunk
                b = min(a + self.chunk, self.n_samples)
                try:
                    raw = self._decode(path, k, i, index[i], span, begin, placed=False)
                except StoreFormatError as exc:
                    yield a, b, exc
                    continue
                misplaced = self._placed_problem(path, k, i, index[i], span, begin)
                if misplaced is not None:  # (then its samples too: NaN is named as well)
                    yield a, b, misplaced
                values = _scratch("values", raw.shape[0] * (b - a) * 4)
                out = np.frombuffer(values, dtype=np.float32).reshape(raw.shape[0], b - a)
                self._values(raw[:, : b - a], out)
                yield a, b, out

    def _placed_problem(
        self, path: str, k: int, i: int, entry: np.ndarray, span: memoryview, begin: int
    ) -> StoreFormatError | None:
        """:meth:`_misplaced` for a chunk :meth:`_decode` read whole (its CRC passed)."""
        if self.places is None or entry[0] == MISSING:
            return None
        o = int(entry[0]) - begin + int(entry[1])
        return self._misplaced(path, k, i, int.from_bytes(span[o - 4 : o], "little"))

    def _chunks(self, k: int, lo: int, hi: int) -> Iterator[tuple[int, np.ndarray]]:
        """Decoded inner chunks ``[lo, hi)`` of shard ``k``, ``(i, (n_channels, chunk))``."""
        path, index, span, begin = self._shard_span(k, lo, hi)
        for i in range(lo, hi):
            yield i, self._decode(path, k, i, index[i], span, begin)

    def _shard_span(
        self, k: int, lo: int, hi: int, fresh: bool = False
    ) -> tuple[str, np.ndarray, memoryview, int]:
        """Shard ``k``'s path, index (read again when ``fresh``, else once per reader), and
        the bytes holding its chunks ``[lo, hi)`` with the offset of the first of those
        bytes."""
        path = self.loc.path(self.array_path, chunk_key(0, k, separator=self.separator))
        known = None if fresh else self._indexes.get(path)
        if known is None:
            known = self._indexes[path] = self._index(path)
        index, end_of_chunks = known
        offsets, sizes = index[lo:hi, 0], index[lo:hi, 1]
        have = offsets != MISSING
        begin = int(offsets[have].min()) if have.any() else 0
        end = int((offsets[have] + sizes[have]).max()) if have.any() else 0
        if end > end_of_chunks:
            raise StoreFormatError(
                f"{self.loc.shown(path)}: shard index points past the chunks ({self.group}; "
                f"byte {end}, chunks end at {end_of_chunks}; corrupt file)"
            )
        return path, index, self._range(path, begin, end), begin

    def _decode(
        self,
        path: str,
        k: int,
        i: int,
        entry: np.ndarray,
        span: memoryview,
        begin: int,
        into: np.ndarray | None = None,
        placed: bool = True,
    ) -> np.ndarray:
        """Inner chunk ``i`` of shard ``k`` (its index ``entry``, inside ``span``), checked and
        decompressed: the stored values (before the quantizer's decoding, :meth:`_values`),
        ``(n_channels, chunk)``, a view of a buffer reused by the next call, or ``into`` (a
        C-contiguous array of that shape and the stored type) when given. ``placed``: whether
        its CRC-32C must be the one its record lists for its place (:meth:`expect`), else
        the caller checks that (:meth:`scan`)."""
        if entry[0] == MISSING and self.places is not None:  # every chunk listed is stored
            raise StoreFormatError(f"{self._where(path, k, i)} are missing from their shard")
        if entry[0] == MISSING:  # not stored: the fill value, as zarr reads it
            if into is not None:
                into[...] = 0
                return into
            return np.zeros((self.n_channels, self.chunk), dtype=self.stored)
        o = int(entry[0]) - begin
        blob = span[o : o + int(entry[1])]
        if self.checksum:
            stored = int.from_bytes(blob[-4:], "little")
            body = np.frombuffer(blob[:-4], dtype=np.uint8)  # google_crc32c refuses memoryviews
            if len(blob) < 4 or google_crc32c.value(body) != stored:
                raise StoreFormatError(
                    f"{self._where(path, k, i)} fail their CRC-32C check (corrupt file)"
                )
            blob = blob[:-4]
            misplaced = self._misplaced(path, k, i, stored) if placed else None
            if misplaced is not None:
                raise misplaced
        n = self.n_channels * self.chunk * self.stored.itemsize
        decoded = _scratch("chunk", n) if into is None else into.reshape(-1).view(np.uint8)
        try:
            blosc_codec.decode_into(blob, decoded)
        except blosc_codec.FrameSizeError:
            raise StoreFormatError(
                f"{self._where(path, k, i)} do not hold one whole chunk (corrupt file)"
            ) from None
        except (blosc_codec.BloscError, ValueError) as exc:
            raise StoreFormatError(
                f"{self._where(path, k, i)} do not decode ({exc}; corrupt file)"
            ) from None
        if into is not None:
            return into
        return np.frombuffer(decoded, dtype=self.stored).reshape(self.n_channels, self.chunk)

    def _misplaced(self, path: str, k: int, i: int, crc: int) -> StoreFormatError | None:
        """The error for chunk ``i`` of shard ``k`` whose CRC-32C is ``crc`` when its record
        lists another for that place (:meth:`expect`), else None."""
        place = k * self.per_shard + i
        if self.places is None or crc == self.places[place]:
            return None
        return StoreFormatError(
            f"{self._where(path, k, i)} are not the chunk its record lists there (CRC-32C "
            f"{crc:08x}, listed {self.places[place]:08x}): rewritten since the ingest, or a "
            "chunk of another place or recording (a mixed-up or corrupt file)"
        )

    def _where(self, path: str, k: int, i: int) -> str:
        """Inner chunk ``i`` of shard ``k``, for a message: the file, samples and group."""
        a = (k * self.per_shard + i) * self.chunk
        b = min(a + self.chunk, self.n_samples)
        return f"{self.loc.shown(path)}: samples [{a}, {b}) of {self.group}"

    def _index(self, path: str) -> tuple[np.ndarray, int]:
        """A shard's index ``(per_shard, 2)`` (offset, size) and where its chunk bytes end."""
        try:
            size = self.loc.size(*self.loc.parts_of(path))
        except FileNotFoundError:
            raise StoreFormatError(
                f"{self.loc.shown(path)}: shard missing ({self.group}; every shard is written)"
            ) from None
        if size < self.index_bytes:
            raise StoreFormatError(
                f"{self.loc.shown(path)}: truncated shard ({self.group}; {size} bytes, smaller "
                "than its index)"
            )
        tail = self._range(path, size - self.index_bytes, size)
        table, crc = bytes(tail[:-4]), int.from_bytes(tail[-4:], "little")
        if google_crc32c.value(table) != crc:
            raise StoreFormatError(
                f"{self.loc.shown(path)}: shard index fails its CRC-32C check ({self.group}; "
                "truncated or corrupt file)"
            )
        index = np.frombuffer(table, dtype="<u8").reshape(self.per_shard, 2).copy()
        return index, size - self.index_bytes

    def _range(self, path: str, begin: int, end: int) -> memoryview:
        """Bytes ``[begin, end)`` of a shard (a view of a buffer reused by the next call)."""
        n = end - begin
        try:
            if self.loc.local:
                data = _scratch("span", n)
                got = 0
                with open(path, "rb", buffering=0) as fh:
                    fh.seek(begin)
                    while got < n:
                        step = fh.readinto(data[got:])
                        if not step:
                            break
                        got += step
                data = data[:got]
            else:
                data = memoryview(self.loc.read_range(begin, end, *self.loc.parts_of(path)))
        except FileNotFoundError:
            raise StoreFormatError(
                f"{self.loc.shown(path)}: shard missing ({self.group}; every shard is written)"
            ) from None
        except IsADirectoryError:  # (damage, as a missing shard: no read of the disk failed)
            raise StoreFormatError(
                f"{self.loc.shown(path)}: a folder where a shard lies ({self.group}; every "
                "shard is a file)"
            ) from None
        except OSError as exc:  # (a read the disk fails, EIO, names no file)
            raise self.loc.failed(exc, "reading", *self.loc.parts_of(path)) from exc
        if len(data) != n:
            raise StoreFormatError(
                f"{self.loc.shown(path)}: truncated shard ({self.group}; bytes {begin}-{end} not "
                "in the file)"
            )
        return data


_SCRATCH = threading.local()


def _scratch(name: str, n: int) -> memoryview:
    """A writable buffer of ``n`` bytes, reused by every reader in this thread: fresh buffers of
    several MB per block would be page-faulted in (and zeroed) on every read."""
    buffers = _SCRATCH.__dict__.setdefault("buffers", {})
    buf = buffers.get(name)
    if buf is None or len(buf) < n:
        buf = buffers[name] = bytearray(max(n, 2 * len(buf or b"")))
    return memoryview(buf)[:n]


def _key_separator(doc: dict[str, Any]) -> str:
    """The separator of an array's default chunk key encoding (``/`` when not stated)."""
    return str(doc["chunk_key_encoding"].get("configuration", {}).get("separator", "/"))


def _is_eegprep_layout(doc: dict[str, Any]) -> bool:
    if doc.get("zarr_format") != 3 or doc.get("node_type") != "array":
        return False
    if doc["data_type"] not in ("float32", "float16") or len(doc["shape"]) != 2:
        return False
    if doc["chunk_key_encoding"]["name"] != "default" or _key_separator(doc) not in ("/", "."):
        return False
    grid = doc["chunk_grid"]
    if grid["name"] != "regular" or grid["configuration"]["chunk_shape"][0] != doc["shape"][0]:
        return False
    if len(doc["codecs"]) != 1 or doc["codecs"][0]["name"] != "sharding_indexed":
        return False
    sharding = doc["codecs"][0]["configuration"]
    if sharding.get("index_location", "end") != "end":
        return False
    if [c["name"] for c in sharding["index_codecs"]] != ["bytes", "crc32c"]:
        return False
    if sharding["chunk_shape"][0] != doc["shape"][0]:
        return False
    codecs = sharding["codecs"]
    names = [c["name"] for c in codecs]
    if names[:1] == ["numcodecs.fixedscaleoffset"]:
        names = names[1:]
    if names not in (["bytes", "blosc"], ["bytes", "blosc", "crc32c"]):  # older: no crc32c
        return False
    endian = codecs[-len(names)].get("configuration", {}).get("endian", "little")
    return bool(endian == "little" and doc.get("fill_value") in (0, 0.0))
