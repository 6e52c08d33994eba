"""A checkpoint file replaced (another file renamed over its name) while it is read: every
pass reads the one file opened, so no file is judged in one pass and read in another."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import torch

from labram.checkpoints import safe_read, safetensors_files
from labram.checkpoints.errors import CorruptCheckpointError
from labram.checkpoints.layouts import save_ours
from labram.checkpoints.safe_read import read_checkpoint
from labram.model.classifier import LaBraMClassifier
from labram.model.config import model_config


def _classifier(path: Path, n_outputs: int) -> dict[str, torch.Tensor]:
    torch.manual_seed(n_outputs)
    model = LaBraMClassifier(model_config("tiny"), n_outputs)
    save_ours(model, path)
    return model.state_dict()


def _replace_after(monkeypatch: pytest.MonkeyPatch, module: Any, name: str, new: Path,
                   path: Path) -> None:  # fmt: skip
    """Rename ``new`` over ``path`` right after ``module.name`` (a pass of the reader) ran."""
    original = getattr(module, name)

    def then_replaced(*args: Any, **kwargs: Any) -> Any:
        out = original(*args, **kwargs)
        if new.exists():
            os.replace(new, path)
        return out

    monkeypatch.setattr(module, name, then_replaced)


def test_a_pt_replaced_after_its_claims_were_judged_is_not_read_unjudged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The claims of the file opened were judged; a file of 68 MB of claims no model makes
    (refused when judged) renamed over it then was read in full, unjudged."""
    path = tmp_path / "best.pt"
    weights = _classifier(path, 1)
    crafted = tmp_path / "crafted.pt"
    torch.save({"model": {"w": torch.zeros(17 * 2**20)}}, crafted)
    with pytest.raises(CorruptCheckpointError, match="describes no LaBraM model"):
        read_checkpoint(crafted)  # (judged, it is refused)
    _replace_after(monkeypatch, safe_read, "check_claims", crafted, path)
    obj = read_checkpoint(path)
    assert not crafted.exists()  # (it was renamed over best.pt while best.pt was read)
    assert set(obj["model"]) == set(weights)
    assert all(torch.equal(obj["model"][k], v) for k, v in weights.items())


def test_a_safetensors_file_replaced_while_read_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The header was read from one file and the tensors, at its offsets and with the other's
    shapes, from another: an internal error, or weights of neither."""
    path = tmp_path / "best.safetensors"
    _classifier(path, 1)
    other = tmp_path / "other.safetensors"
    _classifier(other, 3)
    _replace_after(monkeypatch, safetensors_files, "_check_unique_keys", other, path)
    with pytest.raises(CorruptCheckpointError, match="the file changed while it was read") as err:
        read_checkpoint(path)
    assert str(err.value).startswith(f"{path}: ")


def test_a_safetensors_file_not_replaced_reads_as_before(tmp_path: Path) -> None:
    path = tmp_path / "best.safetensors"
    weights = _classifier(path, 2)
    obj = read_checkpoint(path)
    assert all(torch.equal(obj["model"][k], v) for k, v in weights.items())
