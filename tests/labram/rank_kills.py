"""Two ranks of a training command under torchrun (gloo on CPU), one of them held at a chosen
moment so that a test can kill it there with SIGKILL (or signal the launcher).

The runner holds rank ``PAUSE_RANK`` (when ``PAUSE_AT`` is set) at one of two moments of stage
``PAUSE_STAGE`` (``tokenizer``, ``pretrain`` or ``finetune``: the loop's ``cfg.stage``):

- ``step``: at the start of step ``PAUSE_STEP``, before its forward pass: the other rank goes
  on into that step and waits in its collectives (the step's all-reduces);
- ``save``: inside the write of the checkpoint of step ``PAUSE_STEP`` (main rank only: the one
  that writes), its bytes written to the temporary file, before its flush and rename.

The held process writes its pid to ``{PAUSED_MARK}.{rank}`` and sleeps; the test kills it, or
another rank (each writes its pid to ``{PAUSED_MARK}.pid{rank}`` at its start)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

RUNNER = r"""
import os, sys, time
import torch
rank = os.environ.get("RANK", "0")
at, stage = os.environ.get("PAUSE_AT", ""), os.environ.get("PAUSE_STAGE", "")
step = int(os.environ.get("PAUSE_STEP", "-1"))

if os.environ.get("PAUSED_MARK"):
    with open(f"{os.environ['PAUSED_MARK']}.pid{rank}", "w") as fh:
        fh.write(str(os.getpid()))

def hold():
    with open(f"{os.environ['PAUSED_MARK']}.{rank}", "w") as fh:
        fh.write(str(os.getpid()))
    time.sleep(600)

if at and os.environ.get("PAUSE_RANK") == rank:
    import labram.train.loop as loop
    if at == "step":
        real_call = loop._Stepper.__call__
        def call(self, batch, lr, n):
            if self.run.cfg.stage == stage and n == step:
                hold()
            return real_call(self, batch, lr, n)
        loop._Stepper.__call__ = call
    else:
        real_save, real_torch_save = loop.atomic_save, torch.save
        def saving(obj, path, **kw):
            if obj.get("config", {}).get("stage") == stage and obj.get("step") == step:
                def written(o, fh, *a, **k):
                    real_torch_save(o, fh, *a, **k)
                    fh.flush()
                    hold()
                torch.save = written
            try:
                return real_save(obj, path, **kw)
            finally:
                torch.save = real_torch_save
        loop.atomic_save = saving
from cli import labram_cli
sys.exit(labram_cli())
"""


def torchrun_cmd(runner: Path, args: list[str]) -> list[str]:
    """The command line of two CPU ranks on this machine running ``labram ARGS``."""
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node",
            "2", str(runner), *args]  # fmt: skip


def env(**more: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1", **more}


def write_runner(folder: Path) -> Path:
    runner = folder / "labram_held.py"
    runner.write_text(RUNNER)
    return runner


def run_two(runner: Path, args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """``labram ARGS`` on two ranks, to its end."""
    return subprocess.run(torchrun_cmd(runner, args), cwd=cwd, env=env(), capture_output=True,
                          text=True, timeout=600)  # fmt: skip


def start_held(
    runner: Path, args: list[str], cwd: Path, *, rank: int, at: str, stage: str, step: int
) -> tuple[subprocess.Popen[str], int]:
    """Start ``labram ARGS`` on two ranks with ``rank`` held (module docstring); returns the
    launcher and the held process's pid, once it is held."""
    mark = cwd / "held"
    launcher = subprocess.Popen(
        torchrun_cmd(runner, args), cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, start_new_session=True,
        env=env(PAUSE_AT=at, PAUSE_RANK=str(rank), PAUSE_STAGE=stage, PAUSE_STEP=str(step),
                PAUSED_MARK=str(mark)),
    )  # fmt: skip
    held = Path(f"{mark}.{rank}")
    deadline = time.monotonic() + 300
    while not (held.exists() and held.read_text()) and launcher.poll() is None:
        assert time.monotonic() < deadline, "the rank was never held"
        time.sleep(0.05)
    assert launcher.poll() is None, launcher.communicate()[1][-3000:]
    time.sleep(0.5)  # the other rank comes to its wait
    return launcher, int(held.read_text())


def pid_of(cwd: Path, rank: int) -> int:
    """The pid of rank ``rank`` of the run :func:`start_held` started in ``cwd``."""
    return int((cwd / f"held.pid{rank}").read_text())


def kill_and_wait(
    launcher: subprocess.Popen[str], pid: int, sig: int = signal.SIGKILL
) -> tuple[float, str]:
    """Send ``sig`` to ``pid``; returns the seconds the launcher took to exit after it, and the
    launcher's stderr (every rank's)."""
    t0 = time.monotonic()
    os.kill(pid, sig)
    try:
        _, err = launcher.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        os.killpg(launcher.pid, signal.SIGKILL)
        launcher.communicate()
        raise AssertionError("the surviving rank did not exit within 300 s") from None
    return time.monotonic() - t0, err
