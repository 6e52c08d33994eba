"""A checkpoint in no format labram reads: the one line names every format tried, safetensors
among them, and says when the file looks like a safetensors file whose header is not a JSON
object (before, a header starting with ``[`` or a space was "neither a zip archive written by
torch.save nor a pickle", which named no safetensors)."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from labram.checkpoints.errors import CorruptCheckpointError
from labram.checkpoints.safe_read import read_checkpoint


@pytest.mark.parametrize("header", [b"[1, 2]", b' {"a": 1}', b'\n{"weight": {}}', b"}{"])
def test_safetensors_layout_without_an_object_header(tmp_path: Path, header: bytes) -> None:
    path = tmp_path / "model.safetensors"
    path.write_bytes(struct.pack("<Q", len(header)) + header + b"\0" * 16)
    with pytest.raises(CorruptCheckpointError) as info:
        read_checkpoint(path)
    line = str(info.value)
    assert "\n" not in line and line.startswith(f"{path}: truncated or corrupt: ")
    assert (
        f"looks like a safetensors file (its first 8 bytes give a header of {len(header)} "
        f"bytes) whose header is not a JSON object (it starts with {header[:1]!r})"
    ) in line
    assert "zip archive written by torch.save" in line


@pytest.mark.parametrize("data", [b"\x13\x99garbage\x00\x01" * 5, b'{"not": "a checkpoint"}'])
def test_unrecognised_bytes_name_every_format_tried(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "last.pt"
    path.write_bytes(data)
    with pytest.raises(CorruptCheckpointError) as info:
        read_checkpoint(path)
    line = str(info.value)
    assert "neither a safetensors file, a zip archive written by torch.save nor a pickle" in line
    assert "looks like a safetensors" not in line


def test_header_length_past_the_end_is_not_called_safetensors(tmp_path: Path) -> None:
    path = tmp_path / "last.pt"
    path.write_bytes(struct.pack("<Q", 10_000) + b"[1, 2]")  # a length the file cannot hold
    with pytest.raises(CorruptCheckpointError) as info:
        read_checkpoint(path)
    assert "looks like a safetensors" not in str(info.value)
    assert "neither a safetensors file" in str(info.value)
