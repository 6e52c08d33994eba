"""Which pickle protocols and which torch releases read a checkpoint, said in one line.

Before: a genuine file saved with ``torch.save(..., pickle_protocol=4)`` (or 5, or 3 with a
``bytes`` value) was refused as "not a checkpoint this version can read safely: it holds
pickle instructions outside tensors and plain containers (Unsupported operand 149)", as if it
were crafted; PyTorch's weights-only unpickler reads protocol 2's opcodes only, and stops at
the first newer one (protocol 4's ``FRAME``) before reading on, so nothing in the file is
judged: the line now names the protocol and what to do. pyproject allowed torch 2.5, whose
allow-list takes no ``(constructor, name)`` pairs: a file holding a path or a numpy value
(what the original code's ``args`` hold) was refused under it as an import; the lower bound
is now the first release that reads them, and an older torch installed anyway is named.
"""

from __future__ import annotations

import argparse
import pathlib
import re
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from cli import labram_cli
from labram.checkpoints.errors import CheckpointError, UnsafeCheckpointError
from labram.checkpoints.load import load_model
from labram.checkpoints.safe_read import read_checkpoint
from tests.labram.labram_layouts import classifier_layout, fabricate

ROOT = Path(__file__).resolve().parents[2]


def _file(path: Path, protocol: int, *, zipped: bool = True, **extra: Any) -> Path:
    obj = {"model": fabricate(classifier_layout("tiny", 2), seed=1), "epoch": 3, **extra}
    torch.save(obj, path, pickle_protocol=protocol, _use_new_zipfile_serialization=zipped)
    return path


@pytest.mark.parametrize("zipped", [True, False], ids=["zip", "legacy"])
@pytest.mark.parametrize(
    ("protocol", "extra"), [(3, {"raw": b"xy"}), (4, {}), (5, {})], ids=["3 bytes", "4", "5"]
)
def test_a_newer_pickle_protocol_is_one_line_naming_it(
    protocol: int, extra: dict[str, Any], zipped: bool, tmp_path: Path
) -> None:
    path = _file(tmp_path / "p.pth", protocol, zipped=zipped, **extra)
    for read in (read_checkpoint, load_model):
        with pytest.raises(CheckpointError) as info:
            read(path)
        msg = str(info.value)
        assert not isinstance(info.value, UnsafeCheckpointError), msg
        assert "\n" not in msg and msg.startswith(f"{path}: saved with pickle protocol {protocol}")
        assert "Unsupported operand" not in msg and "without pickle_protocol" in msg, msg
    out = tmp_path / "ours.pt"
    res = CliRunner().invoke(labram_cli, ["convert", str(path), str(out)])
    assert res.exit_code == 2 and f"pickle protocol {protocol}" in res.output, res.output
    assert not out.exists()


@pytest.mark.parametrize("protocol", [2, 3])
def test_protocols_the_loader_reads_still_load(protocol: int, tmp_path: Path) -> None:
    path = _file(tmp_path / "p.pth", protocol)
    assert read_checkpoint(path)["epoch"] == 3


def _ours_tiny(path: Path) -> dict[str, Any]:
    """Our checkpoint of the tiny classifier, as :func:`save_ours` writes it, read back."""
    from labram.checkpoints.layouts import save_ours
    from labram.model.classifier import LaBraMClassifier
    from labram.model.config import model_config

    torch.manual_seed(0)
    save_ours(LaBraMClassifier(model_config("tiny"), 1), path)
    return dict(torch.load(path, weights_only=True))


def _source(kind: str, tmp_path: Path) -> Any:
    """What another tool re-saves: our whole checkpoint, its bare state dict, or a state dict
    of the released layout."""
    if kind == "released state dict":
        return fabricate(classifier_layout("tiny", 2), seed=1)
    ours = _ours_tiny(tmp_path / "ours.pt")
    return ours if kind == "ours" else ours["model"]


def _weights_only_always(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test where anything unpickles outside torch's weights-only loader: the
    general unpickler, or ``torch.load`` without ``weights_only=True``."""
    import pickle

    def refused(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("unpickled outside weights_only")

    load = torch.load

    def weights_only_load(*args: Any, **kwargs: Any) -> Any:
        assert kwargs.get("weights_only") is True, kwargs
        return load(*args, **kwargs)

    monkeypatch.setattr(pickle, "Unpickler", refused)
    monkeypatch.setattr(pickle, "load", refused)
    monkeypatch.setattr(pickle, "loads", refused)
    monkeypatch.setattr(torch, "load", weights_only_load)


@pytest.mark.parametrize("zipped", [True, False], ids=["zip", "legacy"])
@pytest.mark.parametrize("protocol", [2, 4, 5])
@pytest.mark.parametrize("kind", ["ours", "ours state dict", "released state dict"])
def test_a_state_dict_of_any_protocol_and_format_loads_or_is_one_line(
    kind: str, protocol: int, zipped: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tool re-saving a checkpoint with ``pickle_protocol=4`` or ``5``, or in the legacy
    (non-zip) format: each loads where torch's weights-only loader reads it (protocol 2, zip
    or legacy) with the weights saved, and is one line naming the protocol and what to do
    where it does not; nothing is ever unpickled outside ``weights_only``, and the command
    line prints no traceback. (A guard: this held when written; tests/labram/conftest.py's
    tiny model and tests/labram/labram_layouts.py's released layout.)"""
    obj = _source(kind, tmp_path)
    path = tmp_path / "resaved.pth"
    torch.save(obj, path, pickle_protocol=protocol, _use_new_zipfile_serialization=zipped)
    try:
        torch.load(path, weights_only=True)
        readable = True
    except Exception:
        readable = False
    _weights_only_always(monkeypatch)
    sd = obj["model"] if kind == "ours" else obj
    for read in (read_checkpoint, load_model):
        if readable:
            got = read(path)
            if read is read_checkpoint:
                got = got["model"] if kind == "ours" else got
                assert all(torch.equal(got[k], v) for k, v in sd.items())
            continue
        with pytest.raises(CheckpointError) as info:
            read(path)
        msg = str(info.value)
        assert "\n" not in msg and msg.startswith(f"{path}: saved with pickle protocol {protocol}")
        assert "Save it again without pickle_protocol" in msg, msg
    res = CliRunner().invoke(labram_cli, ["convert", str(path), str(tmp_path / "out.pth")])
    assert "Traceback" not in res.output, res.output
    assert res.exit_code == (0 if readable else 2), res.output


def _lowest_torch() -> str:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    (spec,) = [d for d in deps if re.match(r"torch\b", d)]
    found = re.search(r">=\s*([\d.]+)", spec)
    assert found, spec
    return found.group(1)


def _args_file(path: Path) -> Path:
    args = argparse.Namespace(lr=np.float64(5e-4), out=pathlib.PurePosixPath("/runs/x"))
    torch.save({"model": fabricate(classifier_layout("tiny", 2), seed=1), "args": args}, path)
    return path


def test_the_lowest_torch_declared_reads_what_the_original_args_hold(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under the lowest torch pyproject allows (as the reader sees it), a file whose ``args``
    hold a numpy scalar and a path loads: it was refused under torch 2.5."""
    monkeypatch.setattr(torch, "__version__", _lowest_torch())
    obj = read_checkpoint(_args_file(tmp_path / "released.pth"))
    assert obj["args"]["out"] == pathlib.PurePosixPath("/runs/x")


def test_an_older_torch_names_the_release_it_needs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(torch, "__version__", "2.5.1")
    path = _args_file(tmp_path / "released.pth")
    with pytest.raises(UnsafeCheckpointError) as info:
        read_checkpoint(path)
    msg = str(info.value)
    assert "\n" not in msg and "this is torch 2.5.1" in msg and "or later" in msg, msg
    want = re.search(r"torch ([\d.]+) or later", msg)
    assert want and want.group(1) == _lowest_torch(), msg
