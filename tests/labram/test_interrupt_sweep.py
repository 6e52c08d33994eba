"""Every labram command, run as the ``labram`` console script, stopped by SIGINT (to its
process group, as a terminal's Ctrl-C), SIGTERM (to the process, as ``kill`` or ``timeout``)
or SIGHUP (to the group, as a closed terminal) after ~15 delays spread over an uninterrupted
run's length (counted from the end of CPython's own start-up, see CONSOLE): start-up, data
loading, training steps, checkpoint saves, the final writes. A third of the stops get a second
Ctrl-C during the wind-down. Each must end with status 128 +
the signal (or 0 where the run had finished), at most one line and no traceback, no process
of its group left, no temporary file in its output; then ``--resume`` (training) or the same
command again completes, and training logs the losses of a run never stopped, bit for bit
(docs/training.md)."""

from __future__ import annotations

import csv
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from eegprep.testing.edf_writer import write_edf
from tests.labram.procs import GROUP, processes
from tests.labram.training_stores import TUAB_ORDER, eeg, write_pretrain_store, write_tuab_like

pytestmark = [pytest.mark.slow, pytest.mark.sweep]

REPO = Path(__file__).resolve().parents[2]
# The console script, after telling a sweep (through the pipe SWEEP_READY_FD names) that the
# interpreter's own start-up (site, the .pth files of an editable install) is over: a signal
# before that meets CPython's start-up, which no program can handle, and on a loaded machine
# that takes longer than the first delay (0.11-0.15 s, against 0.05 s).
CONSOLE = (
    "import os\nready = os.environ.pop('SWEEP_READY_FD', '')\n"
    "if ready:\n    os.write(int(ready), b'.')\n    os.close(int(ready))\n"
    "from eegprep._console import labram_main; labram_main()"
)
DETERMINISTIC = ("step", "epoch", "lr", "loss", "amplitude", "phase", "commitment", "val_")
SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")
TRAINING = ("tokenizer", "pretrain", "finetune", "folds")
N_DELAYS = 15


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}


def _labram(*args: str) -> list[str]:
    return [sys.executable, "-c", CONSOLE, "-q", *args]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("sweep")
    got = {
        "pre": write_pretrain_store(root / "pre.zarr", n_subjects=3, seconds=60),
        "tuab": write_tuab_like(root / "tuab.zarr", n_train=8, n_eval=4, seconds=30),
        "tok": str(root / "tok"),
        "mem": str(root / "mem"),
        "ft": str(root / "ft"),
        "edf": _recording(root / "rec.edf"),
    }
    for name in ("tokenizer", "pretrain", "finetune"):
        out = {"tokenizer": got["tok"], "pretrain": got["mem"], "finetune": got["ft"]}[name]
        res = subprocess.run(_labram(*_args(name, got, out, "0")), env=_env(), capture_output=True)
        assert res.returncode == 0, res.stderr[-2000:]
    return got


def _recording(path: Path) -> str:
    """A raw 30 s EDF of the TUAB-like store's 23 channels at 200 Hz: what ``labram predict``
    reads (a FILE; a store folder is a skipped line, and nothing is predicted)."""
    x = eeg(np.random.default_rng(7), len(TUAB_ORDER), 30)
    write_edf(path, list(x), labels=list(TUAB_ORDER), sfreqs=200, physical_min=-3000.0,
              physical_max=3000.0)  # fmt: skip
    return str(path)


def _args(name: str, got: dict[str, str], out: str, workers: str) -> list[str]:
    train = ["--size", "tiny", "--batch-size", "8", "--workers", workers, "--device", "cpu"]
    ckpt = ["--ckpt-every", "4", "--out", out]
    return {
        "tokenizer": ["tokenizer", "--store", got["pre"], "--max-steps", "12", *train, *ckpt],
        "pretrain": ["pretrain", "--store", got["pre"], "--tokenizer",
                     f"{got['tok']}/tokenizer.pt", "--max-steps", "12", *train, *ckpt],
        "finetune": ["finetune", "--store", got["tuab"], "--task", "tuab", "--init",
                     f"{got['mem']}/mem/model.pt", "--max-steps", "8", "--seeds", "2",
                     *train, *ckpt],
        "folds": ["finetune", "--store", got["tuab"], "--task", "tuab", "--protocol",
                  "cross-subject", "--folds", "2", "--init", f"{got['mem']}/mem/model.pt",
                  "--max-steps", "4", *train, *ckpt],
        "evaluate": ["evaluate", "--store", got["tuab"], "--task", "tuab", "--checkpoint",
                     f"{got['ft']}/seed0/best.pt", "--device", "cpu"],
        "embed": ["embed", "--store", got["tuab"], "--checkpoint", f"{got['mem']}/mem/model.pt",
                  "--out", f"{out}/e.zarr", "--chunk-windows", "4", "--device", "cpu"],
        "export": ["export", f"{got['ft']}/seed0/best.pt", "--out", f"{out}/m.safetensors",
                   "--force"],
        "report": ["report", got["ft"], "--html", f"{out}/r.html"],
        "predict": ["predict", got["edf"], "--checkpoint", f"{got['ft']}/seed0/best.pt",
                    "--corpus", "folder", "--mains", "60", "--device", "cpu"],
    }[name]  # fmt: skip


def _losses(out: Path) -> dict[str, list[dict[str, str]]]:
    got = {}
    for log in sorted(out.rglob("log.csv")):
        with log.open(newline="") as fh:
            rows = list(csv.DictReader(fh))
        keep = [c for c in rows[0] if c.startswith(DETERMINISTIC)]
        got[str(log.relative_to(out))] = [{k: r[k] for k in keep} for r in rows]
    return got


def _temporary(out: Path) -> list[str]:
    """Files no doc names as an output: a write's temporary (``.tmp-``), a partial."""
    return [
        str(p) for p in out.rglob("*")
        if ".tmp" in p.name or p.name.endswith((".part", ".partial"))
    ]  # fmt: skip


def _stop(argv: list[str], sig: str, delay: float, twice: bool) -> tuple[int, str, list[int]]:
    """Run ``argv``, send ``sig`` ``delay`` seconds after the interpreter's start-up is over
    (see CONSOLE), a second SIGINT 0.05 s later if ``twice``; the exit status, the standard
    error and the processes of its group still alive after 10 s (killed)."""
    ready, ready_w = os.pipe()
    proc = subprocess.Popen(
        argv, env={**_env(), "SWEEP_READY_FD": str(ready_w)}, cwd=REPO, pass_fds=(ready_w,),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    os.close(ready_w)
    os.read(ready, 1)  # b"" when the process ended before saying so
    os.close(ready)
    time.sleep(delay)
    try:
        if sig == "SIGTERM":
            os.kill(proc.pid, signal.SIGTERM)
        else:
            os.killpg(proc.pid, getattr(signal, sig))
        if twice:
            time.sleep(0.05)
            os.killpg(proc.pid, signal.SIGINT)
    except ProcessLookupError:
        pass
    _, err = proc.communicate(timeout=300)
    deadline = time.monotonic() + 10  # the kernel's bookkeeping of the group's exits
    while processes(GROUP, proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = sorted(processes(GROUP, proc.pid))
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    return proc.returncode, err, left


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc")
@pytest.mark.parametrize(
    "name", [*TRAINING, "evaluate", "embed", "export", "report", "predict"]
)  # fmt: skip
def test_stopped_at_any_moment(inputs: dict[str, str], tmp_path: Path, name: str) -> None:
    ref = tmp_path / "ref"
    ref.mkdir()
    start = time.monotonic()
    done = subprocess.run(_labram(*_args(name, inputs, str(ref), "0")), env=_env(),
                          capture_output=True, text=True)  # fmt: skip
    length = time.monotonic() - start
    assert done.returncode in ((0,) if name == "predict" else (0, 3)), done.stderr[-2000:]
    for k in range(N_DELAYS):
        sig, workers = SIGNALS[k % 3], ("0", "2")[k % 2]
        delay = 0.05 + length * k / N_DELAYS
        out = tmp_path / f"{k}"
        out.mkdir()
        argv = _labram(*_args(name, inputs, str(out), workers))
        code, err, left = _stop(argv, sig, delay, twice=k % 3 == 2)
        case = f"{name} {sig} after {delay:.2f} s, workers {workers}: {err[-1500:]}"
        assert code in (0, 3, 128 + getattr(signal, sig)), case
        assert "Traceback" not in err and len(err.strip().splitlines()) <= 1, case
        if code == 128 + getattr(signal, sig):
            assert err.startswith("error: "), case
        assert not left, case
        assert not _temporary(out), case
        again = argv + (["--resume"] if name in TRAINING else [])
        res = subprocess.run(again, env=_env(), capture_output=True, text=True)
        assert res.returncode in (0, 3), case + " / again: " + res.stderr[-1500:]
        if name in TRAINING:
            assert _losses(out) == _losses(ref), case
        if name == "export":
            assert (out / "m.safetensors").read_bytes() == (ref / "m.safetensors").read_bytes()
        shutil.rmtree(out)
