"""A damaged file of the format PyTorch wrote before 1.6 is called that, in one line.

Such a file (``torch.save(..., _use_new_zipfile_serialization=False)``) begins with a pickle
of torch's magic number; one whose tensors do not read (cut short, or claiming a storage of
2^31 floats, 8 GiB, in a file of 0.5 MB) was refused as "neither a zip archive written by
torch.save nor a legacy PyTorch file", which it is. The claim is allocated by torch before the
read fails, as address space only: the process's resident memory stays small.
"""

from __future__ import annotations

import io
import resource
import struct
from pathlib import Path

import pytest
import torch

from labram.checkpoints.errors import CorruptCheckpointError
from labram.checkpoints.safe_read import read_checkpoint

N = 123_457  # (a count whose packed bytes occur nowhere else in the file)


def _legacy(damage: str) -> bytes:
    saved = io.BytesIO()
    torch.save({"model": {"w": torch.zeros(N)}}, saved, _use_new_zipfile_serialization=False)
    data = saved.getvalue()
    if damage == "cut":
        return data[: len(data) - 1000]
    count = b"J" + struct.pack("<i", N)  # (BININT: the storage's element count)
    at = data.index(count)
    return data[:at] + b"J" + struct.pack("<i", 2**31 - 1) + data[at + len(count) :]


@pytest.mark.parametrize("damage", ["cut", "claims 8 GiB"])
def test_a_damaged_legacy_file_is_named_as_one(damage: str, tmp_path: Path) -> None:
    path = tmp_path / "old.pt"
    path.write_bytes(_legacy(damage))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(CorruptCheckpointError) as info:
        read_checkpoint(path)
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before  # (KiB)
    line = str(info.value)
    assert line.startswith(
        f"{path}: truncated or corrupt: a file of the format PyTorch wrote before 1.6 whose "
        "tensors do not read ("
    ), line
    assert "neither" not in line and "\n" not in line
    assert grown < 256 * 1024, grown  # (under 256 MiB: the 8 GiB claimed is never touched)
