"""Every refusal of a value in a checkpoint names where it lies: its key path.

Before: a value labram does not rebuild was refused while the pickle was read, where nothing
knows which key it goes under (``it holds a numpy value of dtype object: ...``): in a file of
thousands of entries, the user could not tell which one to drop. A tensor was named
``model.blocks.0.w`` (is that ``blocks`` inside ``model``, or the key ``blocks.0.w``?), and a
tensor larger than its model by its state-dict name alone, not where the file holds it.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest
import torch

from labram.checkpoints.errors import CorruptCheckpointError, UnsafeCheckpointError
from labram.checkpoints.key_paths import path_to, step
from labram.checkpoints.safe_read import read_checkpoint
from tests.safety.test_checkpoint_values import CRAFTED_VALUES, REFUSED, _state

OURS = {  # every refusal of a constructor of ours (the others are the unpickler's own: an import)
    **{k: v for k, v in REFUSED.items() if "asks to import" not in v[1]},
    **{k: v for k, v in CRAFTED_VALUES.items() if "Can only build" not in v[1]},
}
del OURS["an array of another class"]  # (numpy.float64 is an import the unpickler refuses)
PLACES: list[tuple[Any, str]] = [  # (where the value goes, the key path a line names)
    (lambda v: {"args": argparse.Namespace(lr=v)}, "args.lr"),
    (lambda v: {"extra": {"blocks.0.attn.qkv.weight": v}}, "extra['blocks.0.attn.qkv.weight']"),
    (lambda v: {"history": [1.0, {"best": v}]}, "history[1].best"),
    (lambda v: {"epochs": {3: v}}, "epochs[3]"),
]


def _message(tmp_path: Path, entry: dict[str, Any]) -> str:
    path = tmp_path / "trained.pth"
    torch.save({"model": _state(), **entry}, path)
    with pytest.raises(UnsafeCheckpointError) as info:
        read_checkpoint(path)
    return str(info.value)


@pytest.mark.parametrize("place", range(len(PLACES)))
@pytest.mark.parametrize("name", sorted(OURS))
def test_every_refused_value_is_named_by_its_key_path(
    name: str, place: int, tmp_path: Path
) -> None:
    value, says = OURS[name]
    put, where = PLACES[place]
    msg = _message(tmp_path, put(value))
    assert "\n" not in msg and f"its value at `{where}` is " in msg and says in msg, msg


def test_a_refused_key_is_named_by_its_container(
    tmp_path: Path,
) -> None:
    import numpy as np

    msg = _message(tmp_path, {"meta": {"kinds": {np.dtype([("a", "f4")]): 1}}})
    assert "its value at `a key of meta.kinds` is a numpy value of dtype 'V'" in msg, msg


def test_a_tensor_is_named_by_its_key_path(tmp_path: Path) -> None:
    state = _state()
    name = next(k for k in state if "." in k)  # ("blocks.0.attn.qkv.weight")
    state[name] = torch.full_like(state[name], float("nan"))
    path = tmp_path / "nan.pth"
    torch.save({"model": state}, path)
    with pytest.raises(CorruptCheckpointError) as info:
        read_checkpoint(path)
    assert f"tensor model[{name!r}] holds NaN" in str(info.value), info.value


def test_key_paths_read_as_python_indexes_them() -> None:
    assert step("", "args") == "args" and step("args", "lr", attribute=True) == "args.lr"
    assert step("model", "blocks.0.attn.qkv.weight") == "model['blocks.0.attn.qkv.weight']"
    assert step("state", 0) == "state[0]" and step("", "a b") == "['a b']"
    assert len(step("x", "k" * 500)) < 100  # (a crafted key is cut)
    inner = torch.zeros(1)
    tree = {"model": {"a.b": [None, inner]}, "args": argparse.Namespace(t=inner)}
    assert path_to(tree, inner) == "model['a.b'][1]"
    assert path_to(tree, torch.zeros(1)) is None


def test_a_weight_that_is_no_tensor_is_named_by_its_key_path(tmp_path: Path) -> None:
    """Before: ``('blocks.9.scale' is a float)``, the key inside the state dict alone."""
    from click.testing import CliRunner

    from cli import labram_cli
    from labram.checkpoints.errors import CheckpointError
    from labram.checkpoints.wrappers import unwrap

    with pytest.raises(CheckpointError, match=r"`model\['blocks\.9\.scale'\]` is a float"):
        unwrap({"model": {"blocks.9.scale": 0.5}, "epoch": 3})
    with pytest.raises(CheckpointError, match=r"keyed by int \(`state_dict\[1\]`\)"):
        unwrap({"state_dict": {1: torch.zeros(1)}})
    with pytest.raises(CheckpointError, match=r"\(`\['a\.b'\]` is a str\)"):
        unwrap({"a.b": "x", "c": torch.zeros(1)})
    path = tmp_path / "odd.pth"
    torch.save({"model": {**_state(), "blocks.9.scale": 0.5}, "epoch": 3}, path)
    res = CliRunner().invoke(labram_cli, ["convert", str(path), str(tmp_path / "out.pt")])
    assert res.exit_code == 2 and "`model['blocks.9.scale']` is a float" in res.output, res.output
