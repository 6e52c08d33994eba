"""SIGKILL at every write of a checkpoint save: ``last.pt`` (or, failing it, ``previous.pt``)
stays loadable, holds a step that was saved, and the next save succeeds.

The child saves one checkpoint over another with :func:`labram.train.checkpoint.atomic_save`
and SIGKILLs itself just before its k-th write (``os.open``, ``fsync``, ``link``, ``replace``,
``unlink``, any ``write`` of the temporary file), so the kill lands between two writes as a
real one can, with no clean-up running after it. ``best.pt`` is written by the same function.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from labram.checkpoints.safe_read import read_checkpoint
from labram.train.checkpoint import atomic_save
from tests.safety.killing import KILLED, REPO

_CHILD = r"""
import os, signal, sys
import torch
folder, at, log = sys.argv[1], int(sys.argv[2]), sys.argv[3]
count, names = [0], []
def counted(name, fn):
    def wrapped(*a, **kw):
        if name in ("fsync", "write") or any(folder in str(x) for x in a[:2]):
            count[0] += 1
            names.append(name)
            if count[0] == at:
                os.kill(os.getpid(), signal.SIGKILL)
        return fn(*a, **kw)
    return wrapped
for name in ("open", "fsync", "link", "replace", "rename", "unlink", "write"):
    setattr(os, name, counted(name, getattr(os, name)))
from labram.train.checkpoint import atomic_save
from pathlib import Path
state = {"w": torch.full((256, 256), 2.0)}
atomic_save({"format": 1, "step": 2, "model": state}, Path(folder) / "last.pt")
open(log, "w").write(" ".join(names))
"""


def _save_killed(folder: Path, at: int, log: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-c", _CHILD, str(folder), str(at), str(log)]
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)


def _step(path: Path) -> int:
    return int(torch.load(path, weights_only=True)["step"])


@pytest.mark.slow
def test_a_kill_at_every_write_of_a_checkpoint_save_keeps_one_to_resume(tmp_path: Path) -> None:
    first = tmp_path / "count"
    first.mkdir()
    atomic_save({"format": 1, "step": 1, "model": {"w": torch.ones(256, 256)}}, first / "last.pt")
    done = _save_killed(first, 0, tmp_path / "n")
    assert done.returncode == 0, done.stderr
    ops = (tmp_path / "n").read_text().split()
    assert {"open", "write", "fsync", "link", "replace"} <= set(ops), ops
    writes = [k for k, op in enumerate(ops, 1) if op == "write"]
    points = [k for k, op in enumerate(ops, 1) if op != "write"]  # every other write, and
    points += [writes[0], writes[len(writes) // 2], writes[-1]]  # the first, a middle, the last
    for at in sorted(points):
        folder = tmp_path / f"k{at}"
        folder.mkdir()
        atomic_save({"format": 1, "step": 1, "model": {"w": torch.ones(256, 256)}},
                    folder / "last.pt")  # fmt: skip
        killed = _save_killed(folder, at, tmp_path / "n")
        assert killed.returncode == KILLED, (at, killed.stderr)
        assert _step(folder / "last.pt") in (1, 2), at  # --resume reads it
        read_checkpoint(folder / "last.pt")  # (the reader --resume uses)
        if (folder / "previous.pt").exists():
            assert _step(folder / "previous.pt") == 1, at
        atomic_save({"format": 1, "step": 3, "model": {"w": torch.ones(256, 256)}},
                    folder / "last.pt")  # fmt: skip
        assert _step(folder / "last.pt") == 3, at
        assert sorted(p.name for p in folder.iterdir()) == ["last.pt", "previous.pt"], at


def test_the_next_save_removes_what_killed_saves_left(tmp_path: Path) -> None:
    """A kill during a save left ``last.pt.tmp-XXXXXXXX`` (a whole checkpoint) and
    ``previous.pt.tmp-XXXXXXXX`` beside the run for good: every resumed kill added one. The
    next save removes them, and nothing else."""
    left = ["last.pt.tmp-0123abcd", "previous.pt.tmp-89abcdef", "best.pt.tmp-00000000"]
    kept = ["last.pt.tmp-notours", "notes.txt", "best.pt"]
    for name in left + kept:
        (tmp_path / name).write_bytes(b"part of a checkpoint")
    atomic_save({"format": 1, "step": 1, "model": {"w": torch.ones(2)}}, tmp_path / "last.pt")
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted(["last.pt", "best.pt.tmp-00000000", *kept])
    best = {"format": 1, "step": 1, "model": {"w": torch.ones(2)}}
    atomic_save(best, tmp_path / "best.pt", keep_previous=False)  # as save_model writes it
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["last.pt", *kept])
