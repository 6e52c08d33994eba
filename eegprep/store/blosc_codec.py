"""Blosc compression of the store's chunks, through python-blosc.

Every chunk of a store is a Blosc frame in c-blosc 1's format, as zarr's ``blosc`` codec
(numcodecs) writes and reads it. eegprep's own writer and reader encode and decode those frames
with python-blosc instead: the same c-blosc, built with its AVX2 bit-shuffle where numcodecs'
wheels run the SSE2 one. The frames are the same bytes (``tests/eegprep/test_blosc_codec.py``);
encoding takes 20-27% less time and decoding ~30% less (docs/benchmarks.md, section 8).

One Blosc thread, with the GIL released: python-blosc then calls c-blosc's re-entrant
``blosc_compress_ctx`` and ``blosc_decompress_ctx``, so the training reader's two threads decode
side by side, and a chunk's bytes never depend on how threads were scheduled (several Blosc
threads write a frame's blocks in the order they finish).
"""

from __future__ import annotations

from typing import Any

import blosc
import numpy as np

BloscError = blosc.blosc_extension.error
"""What python-blosc raises when a frame cannot be encoded or decoded."""


class FrameSizeError(BloscError):  # type: ignore[misc,valid-type]
    """A frame whose header does not state the sizes of the chunk it is decoded into (a frame
    cut short, or another chunk's): refused before c-blosc writes anything."""


_ready = False


def _setup() -> None:
    """The re-entrant calls (python-blosc's module state), once per process."""
    global _ready
    if not _ready:
        blosc.set_releasegil(True)
        blosc.set_nthreads(1)
        _ready = True


class BloscCodec:
    """Bit-shuffled Blosc with ``cname`` at ``clevel``: ``encode`` gives the frame numcodecs'
    ``Blosc(cname, clevel, shuffle=BITSHUFFLE)`` gives, byte for byte."""

    def __init__(self, cname: str, clevel: int) -> None:
        self.cname, self.clevel = cname, clevel

    def encode(self, values: np.ndarray) -> bytes:
        """The frame of ``values`` (C-contiguous; its item size is Blosc's type size)."""
        if not values.flags.c_contiguous:
            raise ValueError("Blosc encodes C-contiguous arrays only")
        _setup()
        blosc.set_nthreads(1)  # every time: a frame's bytes depend on it
        address = values.__array_interface__["data"][0]
        return bytes(
            blosc.compress_ptr(
                address, values.size, values.itemsize, self.clevel, blosc.BITSHUFFLE, self.cname
            )
        )


def frame_sizes(frame: Any) -> tuple[int, int]:
    """A frame's decoded and encoded sizes as its 16-byte header states them (bytes 4-8 and
    12-16); ``(-1, -1)`` when it is shorter than a header."""
    head = bytes(memoryview(frame)[:16])
    if len(head) < 16:
        return -1, -1
    return int.from_bytes(head[4:8], "little"), int.from_bytes(head[12:16], "little")


def decode_into(frame: Any, out: np.ndarray | memoryview) -> None:
    """Decode a frame (any bytes-like) into ``out`` (an array or a buffer), C-contiguous and
    writable, whose size in bytes is exactly the frame's decoded size (checked first, with the
    frame's own length: c-blosc writes what the header states; :class:`FrameSizeError`).
    Raises :data:`BloscError` for a damaged frame."""
    if not isinstance(out, np.ndarray):
        out = np.frombuffer(out, dtype=np.uint8)
    if not (out.flags.c_contiguous and out.flags.writeable):
        raise ValueError("Blosc decodes into C-contiguous, writable arrays only")
    if frame_sizes(frame) != (out.nbytes, memoryview(frame).nbytes):
        raise FrameSizeError("the frame's header does not state this chunk's sizes")
    _setup()  # (decoding's bytes do not depend on the number of threads)
    blosc.decompress_ptr(frame, out.__array_interface__["data"][0])
