"""eegprep.shards writes exactly the shard objects zarr would write, and zarr reads them back."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import zarr

from eegprep.store_fs import Location
from eegprep.store_write import _codec, _quantizer, _shard_writer

CHUNK, SHARD = 50, 200  # samples: 4 inner chunks per shard


def _array(root: Path, n_ch: int, n_samples: int, encoding: str, quantum: float | None):
    dtype = np.float16 if encoding == "float16" else np.float32
    group = zarr.open_group(str(root), mode="w")
    return group.create_array(
        "data",
        shape=(n_ch, n_samples),
        chunks=(n_ch, CHUNK),
        shards=(n_ch, SHARD),
        dtype=dtype,
        filters=_quantizer(quantum) if quantum is not None else "auto",
        compressors=_codec(encoding),
        fill_value=0,
        config={"write_empty_chunks": True},
    )


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize(
    ("encoding", "quantum"), (("float32", None), ("float16", None), ("quantized", 0.0125))
)
@pytest.mark.parametrize("n_samples", (1, 49, 50, 199, 200, 201, 530, 800))
def test_shards_are_the_bytes_zarr_writes(tmp_path, encoding, quantum, n_samples):
    rng = np.random.default_rng(n_samples)
    x = (20 * rng.standard_normal((3, n_samples))).astype(np.float32)
    theirs = _array(tmp_path / "zarr", 3, n_samples, encoding, quantum)
    theirs[:] = x
    ours = _array(tmp_path / "ours", 3, n_samples, encoding, quantum)
    writer = _shard_writer(Location.parse(tmp_path), "ours/data", ours, encoding, quantum)
    cuts = np.sort(rng.integers(0, n_samples + 1, size=5))  # pieces of any length, empty too
    for piece in np.split(x, cuts, axis=1):
        writer.append(piece)
    writer.close()

    def objects(name: str) -> dict[str, bytes]:
        base = tmp_path / name / "data" / "c"
        return {str(p.relative_to(base)): p.read_bytes() for p in base.rglob("*") if p.is_file()}

    expected = objects("zarr")
    assert len(expected) == -(-n_samples // SHARD)
    assert objects("ours") == expected
    back = zarr.open_array(str(tmp_path / "ours" / "data"), mode="r")[:]
    np.testing.assert_array_equal(back, theirs[:])


def test_too_many_or_too_few_samples_are_refused(tmp_path):
    data = _array(tmp_path / "g", 2, 300, "float32", None)
    writer = _shard_writer(Location.parse(tmp_path), "g/data", data, "float32", None)
    writer.append(np.zeros((2, 260), dtype=np.float32))
    with pytest.raises(ValueError, match="more than the array's 300 samples"):
        writer.append(np.zeros((2, 41), dtype=np.float32))
    with pytest.raises(ValueError, match="260 samples given, the array holds 300"):
        writer.close()
