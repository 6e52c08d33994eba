"""A released file holding half of a head (its bias without its weight, or the reverse) is
refused in one line naming the missing key, through every reader.

Before: a pre-training file with ``lm_head.bias`` but no ``lm_head.weight`` loaded with a fresh
``lm_head`` behind a warning, and a classifier with ``head.bias`` but no ``head.weight`` was
refused as "tensor head.bias claims shape (2,) where the classifier model ... has (1,): a
crafted or damaged file", which named neither the missing key nor the cause. A file without
the whole head still loads, its head freshly initialised (an option of the released layouts).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from cli import labram_cli
from labram.checkpoints.errors import CheckpointError
from labram.checkpoints.layouts import load_official
from labram.checkpoints.load import load_model
from tests.labram.labram_layouts import classifier_layout, fabricate, mem_layout

HEADS = [
    ("mem", "lm_head."),
    ("mem", "student.lm_head."),
    ("mem", "projection_head.0."),
    ("classifier", "fc_norm."),
    ("classifier", "head."),
]


def _layout(kind: str) -> dict[str, tuple[int, ...]]:
    return mem_layout("tiny", n_codes=64) if kind == "mem" else classifier_layout("tiny", 3)


@pytest.mark.parametrize("dropped", ["weight", "bias"])
@pytest.mark.parametrize(("kind", "prefix"), HEADS)
def test_half_a_head_is_one_line_naming_the_missing_key(
    kind: str, prefix: str, dropped: str, tmp_path: Path
) -> None:
    sd = fabricate(_layout(kind), seed=3)
    missing, kept = f"{prefix}{dropped}", f"{prefix}{'bias' if dropped == 'weight' else 'weight'}"
    del sd[missing]
    path = tmp_path / "cut.pth"
    torch.save({"model": sd}, path)
    readers = {
        "load_model": lambda: load_model(path),
        "load_official": lambda: load_official(path, kind),  # type: ignore[arg-type]
    }
    for name, read in readers.items():
        with pytest.raises(CheckpointError) as info, warnings.catch_warnings():
            warnings.simplefilter("error")  # (no "freshly initialised" warning first)
            read()
        msg = str(info.value)
        assert "\n" not in msg and msg.startswith(str(path)), (name, msg)
        assert f"not {missing!r}" in msg and f"holds {kept!r}" in msg, (name, msg)
    out = tmp_path / "ours.pt"
    res = CliRunner().invoke(labram_cli, ["convert", str(path), str(out)])
    assert res.exit_code == 2 and f"not {missing!r}" in res.output, res.output
    assert not out.exists()


@pytest.mark.parametrize(("kind", "prefix"), HEADS)
def test_a_whole_head_left_out_still_loads_fresh(kind: str, prefix: str, tmp_path: Path) -> None:
    sd = fabricate(_layout(kind), seed=3)
    del sd[f"{prefix}weight"], sd[f"{prefix}bias"]
    path = tmp_path / "headless.pth"
    torch.save({"model": sd}, path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ("freshly initialised here", where it is not legacy)
        loaded = load_model(path)
    assert loaded.kind == kind
