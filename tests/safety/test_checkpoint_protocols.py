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
