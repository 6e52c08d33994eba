"""Tensors that hold no weights are refused wherever a checkpoint holds them.

A tensor saved from PyTorch's ``meta`` device has a shape and no values. In a ``.pt`` file it
loaded as itself, and the model builder took it for a missing weight: the model kept its
fresh random values for it, and `labram convert` wrote them out as the file's weights, unsaid.
In a safetensors file, the tensors kept in the ``labram`` metadata (the leakage record's
hashes) were rebuilt unchecked: a complex one, or a float16 one of 1e10 (infinite), loaded.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from cli import labram_cli
from labram.checkpoints.errors import CorruptCheckpointError
from labram.checkpoints.load import load_model
from labram.checkpoints.safe_read import read_checkpoint
from tests.labram.labram_layouts import classifier_layout, fabricate


def _hollow(where: str) -> dict[str, object]:
    """A released classifier whose tensor at ``where`` is on the ``meta`` device."""
    state = fabricate(classifier_layout("tiny", 2), seed=0)
    if where == "a weight":
        state["head.weight"] = torch.empty(2, 100, device="meta")
        return {"model": state}
    return {"model": state, "optimizer": {"exp_avg": torch.empty(2, 100, device="meta")}}


PLACES = {"a weight": "model['head.weight']", "beside the weights": "optimizer.exp_avg"}


@pytest.mark.parametrize("where", sorted(PLACES))
def test_a_tensor_saved_from_meta_is_one_line_naming_it(where: str, tmp_path: Path) -> None:
    """Before: read as itself, and the model built from it held random values for it."""
    path = tmp_path / "hollow.pth"
    torch.save(_hollow(where), path)
    for read in (read_checkpoint, load_model):
        with pytest.raises(CorruptCheckpointError) as info:
            read(path)
        line = str(info.value)
        assert line.startswith(f"{path}: tensor {PLACES[where]} holds no values: "), line
        assert "meta device" in line and "\n" not in line
    res = CliRunner().invoke(labram_cli, ["-q", "convert", str(path), str(tmp_path / "o.pt")])
    assert res.exit_code == 2, (res.exit_code, res.output)
    assert res.stderr.startswith(f"error: {path}: tensor {PLACES[where]} holds no values")
    assert not (tmp_path / "o.pt").exists()


def _safetensors(path: Path, kept: dict[str, object]) -> None:
    """A safetensors file of one float32 weight whose ``labram`` metadata keeps ``kept``."""
    header = {
        "__metadata__": {"format": "pt", "labram": json.dumps(kept)},
        "w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
    }
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + struct.pack("<2f", 1.0, 2.0))


KEPT = {
    "complex": ({"__tensor__": "complex64", "shape": [1], "data": [1.0]}, "is complex"),
    "infinite": ({"__tensor__": "float16", "shape": [1], "data": [1e10]}, "holds NaN or infinite"),
}


@pytest.mark.parametrize("kind", sorted(KEPT))
def test_a_safetensors_files_metadata_tensors_are_checked_as_its_weights(
    kind: str, tmp_path: Path
) -> None:
    """Before: loaded as they were (the weights' checks skipped them)."""
    kept, why = KEPT[kind]
    path = tmp_path / "kept.safetensors"
    _safetensors(path, {"leakage": {"hashes": kept}})
    with pytest.raises(CorruptCheckpointError) as info:
        read_checkpoint(path)
    line = str(info.value)
    assert line.startswith(f"{path}: tensor leakage.hashes {why}"), line
    _safetensors(path, {"leakage": {"hashes": {**kept, "__tensor__": "int64", "data": [7]}}})
    assert read_checkpoint(path)["leakage"]["hashes"].tolist() == [7]  # (a sound one loads)
