"""A ``torch.save`` archive of the other byte order loads, and a forged byte order is one line.

An archive written on a big-endian machine (s390x: its ``byteorder`` member says ``big``) made
every reader of labram crash with a segmentation fault while it judged the file's claims on
the ``meta`` device (torch swaps the bytes of storages that have none): no line, no exit
status of ours. Each file is read in a child process, so that a crash fails the test and not
the test run.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from labram.checkpoints.errors import CorruptCheckpointError
from labram.checkpoints.safe_read import read_checkpoint
from tests.labram.labram_layouts import classifier_layout, fabricate

REPO = Path(__file__).resolve().parents[2]


def _big_endian(state: dict[str, torch.Tensor], path: Path) -> None:
    """``state`` (float32 tensors) saved as torch.save saves it on a big-endian machine: every
    tensor member's bytes swapped, the ``byteorder`` member ``big``."""
    plain = io.BytesIO()
    torch.save({"model": state}, plain)
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as out:
        for info in src.infolist():
            data = src.read(info)
            if "/data/" in info.filename:
                data = np.frombuffer(data, dtype="<f4").astype(">f4").tobytes()
            elif info.filename.endswith("/byteorder"):
                data = b"big"
            out.writestr(info.filename, data)


_CHILD = """
import sys, torch
from labram.checkpoints.load import load_model
from labram.checkpoints.safe_read import read_checkpoint
want = torch.load(sys.argv[2], weights_only=True)
got = read_checkpoint(sys.argv[1])["model"]
same = got.keys() == want.keys() and all(torch.equal(got[k], want[k]) for k in want)
loaded = load_model(sys.argv[1])
print("same" if same else "differ", loaded.kind, loaded.layout)
"""


def test_an_archive_written_big_endian_loads_as_the_same_weights(tmp_path: Path) -> None:
    """Before: a segmentation fault (exit status -11) in every reader; now the same tensors
    as the little-endian file, and a model."""
    state = fabricate(classifier_layout("tiny", 2), seed=0)
    torch.save(state, tmp_path / "want.pt")
    _big_endian(state, tmp_path / "big.pt")
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    res = subprocess.run(
        [sys.executable, "-c", _CHILD, str(tmp_path / "big.pt"), str(tmp_path / "want.pt")],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert res.returncode == 0, (res.returncode, res.stderr[-2000:])
    assert res.stdout.split() == ["same", "classifier", "released"], res.stdout


@pytest.mark.parametrize("order", [b"middle", b"x" * 100_000, b"\xff\xfe"])
def test_a_byteorder_member_torch_never_writes_is_one_line(order: bytes, tmp_path: Path) -> None:
    """Before: torch's own message quoting the member (the whole of it read and decoded, a
    UnicodeDecodeError for one that is not UTF-8); now one line naming the file, from the
    member's first bytes."""
    path = tmp_path / "odd.pt"
    plain = io.BytesIO()
    torch.save({"model": {"w": torch.ones(2)}}, plain)
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(path, "w") as out:
        for member in src.infolist():
            keep = member.filename.endswith("/byteorder")
            out.writestr(member.filename, order if keep else src.read(member))
    with pytest.raises(CorruptCheckpointError) as refused:
        read_checkpoint(path)
    line = str(refused.value)
    assert line.startswith(f"{path}: not written by torch.save: its byteorder member holds ")
    assert "where torch.save writes 'little' or 'big'" in line and "\n" not in line
    assert len(line) < 300 + len(str(path)), line
