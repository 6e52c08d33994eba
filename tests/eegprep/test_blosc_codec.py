"""The store's Blosc frames through python-blosc: numcodecs' bytes, decoded safely."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from numcodecs import Blosc, blosc

from eegprep.store.blosc_codec import BloscCodec, BloscError, decode_into, frame_sizes
from eegprep.store.shards import BLOSC


def _signals() -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    walk = np.cumsum(rng.standard_normal((23, 12000)), axis=1) * 50
    return [
        np.rint(walk / 0.0095).astype(np.int32),  # quantized EEG
        walk.astype(np.float32),
        walk.astype(np.float16),
        rng.integers(-(2**31), 2**31 - 1, (3, 1001), dtype=np.int32),  # incompressible
        np.zeros((2, 5), dtype=np.int32),  # tiny, constant
    ]


@pytest.mark.parametrize("cname", ["lz4", "lz4hc", "zstd", "blosclz"])
def test_frames_are_numcodecs_frames_byte_for_byte(cname: str) -> None:
    blosc.use_threads = False  # numcodecs on one thread, as the stores have always been written
    for values in _signals():
        ours = BloscCodec(cname, 5).encode(values)
        assert ours == bytes(Blosc(cname=cname, clevel=5, shuffle=Blosc.BITSHUFFLE).encode(values))
        out = np.empty_like(values)
        decode_into(memoryview(ours), out)
        np.testing.assert_array_equal(out, values)
    assert set(BLOSC) == {"quantized", "float32", "float16"}


def test_a_frame_that_does_not_fit_its_buffer_is_refused() -> None:
    values = _signals()[0]
    frame = BloscCodec("lz4", 5).encode(values)
    assert frame_sizes(frame) == (values.nbytes, len(frame))
    small = np.empty(values.size - 1, dtype=np.int32)
    with pytest.raises(BloscError, match="does not state this chunk's sizes"):
        decode_into(frame, small)
    with pytest.raises(BloscError):  # cut short
        decode_into(frame[:-10], np.empty_like(values))
    lying = bytearray(frame)
    lying[4:8] = (values.nbytes * 4).to_bytes(4, "little")  # claims more than the buffer
    with pytest.raises(BloscError):
        decode_into(bytes(lying), np.empty_like(values))
    with pytest.raises(BloscError):
        decode_into(b"\x02\x01", np.empty(4, np.uint8))
    damaged = bytearray(frame)
    damaged[len(damaged) // 2 :] = bytes(len(damaged) - len(damaged) // 2)
    out = np.empty_like(values)
    try:  # a damaged body: an error, or garbage within the buffer (the CRC catches it first)
        decode_into(bytes(damaged), out)
    except BloscError:
        pass
    with pytest.raises(ValueError, match="C-contiguous"):
        BloscCodec("lz4", 5).encode(values[:, ::2])


def test_two_threads_decode_side_by_side() -> None:
    frames = [(BloscCodec("lz4", 5).encode(v), v) for v in _signals()[:3]]
    bad: list[str] = []

    def work() -> None:
        for _ in range(40):
            for frame, values in frames:
                out = np.empty_like(values)
                decode_into(frame, out)
                if not np.array_equal(out, values):
                    bad.append("differs")

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert bad == []
