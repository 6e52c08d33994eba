"""Ctrl-C (SIGINT), SIGTERM (`kill`, `timeout`, a scheduler) and SIGHUP (a closed terminal)
during any command: one ``error:`` line, exit status 128 + the signal, the wind-down finished
even when a second signal comes during it, no loader worker left and none killed by a signal
the whole process group receives. The sweep over real runs at random moments is slow."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from labram.data.loader import WindowDataset, make_loader
from labram.data.sampler import BatchPlan
from labram.data.windows import build_pretrain_index
from tests.labram.procs import PARENT, processes, wait_ignoring

REPO = Path(__file__).resolve().parents[2]
STATUS = {"SIGINT": 130, "SIGTERM": 143, "SIGHUP": 129}
SAYS = {
    "SIGINT": "interrupted (Ctrl-C)",
    "SIGTERM": "stopped (SIGTERM)",
    "SIGHUP": "stopped (SIGHUP)",
}

# In one process: every command of both groups, its work replaced by a signal to itself (a
# real signal through the handler the group installed), then its exit status and stderr.
EVERY_COMMAND = """
import io, json, os, signal, sys, time, contextlib, click
from cli import eegprep_cli, labram_cli
def walk(cmd, path):
    if isinstance(cmd, click.Group):
        for name, sub in sorted(cmd.commands.items()):
            yield from walk(sub, (*path, name))
    else:
        yield path, cmd
for root, group in (("eegprep", eegprep_cli), ("labram", labram_cli)):
    for path, cmd in walk(group, ()):
        for sig in ("SIGINT", "SIGTERM", "SIGHUP"):
            def work(*a, _sig=sig, **k):
                os.kill(os.getpid(), getattr(signal, _sig))
                time.sleep(30)
            params, cmd.params = cmd.params, []
            cmd.callback, real = work, cmd.callback
            err = io.StringIO()
            with contextlib.redirect_stderr(err):
                try:
                    group.main(list(path), standalone_mode=True)
                    code = 0
                except SystemExit as exc:
                    code = exc.code
            cmd.callback, cmd.params = real, params
            print(json.dumps([root, " ".join(path), sig, code, err.getvalue()]), flush=True)
"""


def _python(code: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True,
        timeout=timeout,
    )  # fmt: skip


def test_every_command_stops_on_every_signal_with_one_line() -> None:
    """SIGTERM and SIGHUP killed every labram command (and every eegprep command but ingest) at
    once: no line, no wind-down (a training run's loader workers, its lock, a half-made folder
    left to the kernel), a status the shell shows as a crash."""
    res = _python(EVERY_COMMAND)
    lines = res.stdout.splitlines()
    assert res.returncode == 0, (res.stdout[-1500:], res.stderr[-1500:])
    assert len(lines) >= 3 * 15, res.stdout  # every command of both groups, three signals each
    for line in lines:
        _, _, sig, code, text = json.loads(line)
        assert code == STATUS[sig], line
        assert text.count("\n") == 1 and text.startswith(f"error: {SAYS[sig]}"), line


SECOND_SIGNAL = """
import os, signal, sys, time
from pathlib import Path
import labram.commands as c
marker = Path(sys.argv[1])
def slow_cleanup(*a, **k):
    try:
        os.kill(os.getpid(), signal.{first})
        time.sleep(30)
    finally:  # the wind-down: a second signal comes in the middle of it
        os.kill(os.getpid(), signal.{second})
        time.sleep(0.2)
        marker.write_text("wound down")
c.run_folder = slow_cleanup
from cli import labram_cli
labram_cli(["pretrain", "--store", "s.zarr"])
"""


@pytest.mark.parametrize(("first", "second"), [("SIGINT", "SIGINT"), ("SIGHUP", "SIGTERM")])
def test_a_second_signal_during_the_wind_down_does_not_cut_it_short(
    tmp_path: Path, first: str, second: str
) -> None:
    """A second Ctrl-C while the first one's ``finally`` blocks run (a loader's workers ended,
    a lock released, a checkpoint's temporary file removed) raised a new KeyboardInterrupt in
    the middle of them: the rest of the wind-down never ran."""
    marker = tmp_path / "marker"
    code = SECOND_SIGNAL.format(first=first, second=second).replace(
        "sys.argv[1]", repr(str(marker))
    )
    res = _python(code)
    assert res.returncode == STATUS[first], res.stderr
    assert res.stderr.strip().splitlines() == [res.stderr.strip()], res.stderr
    assert res.stderr.startswith(f"error: {SAYS[first]}"), res.stderr
    assert marker.read_text() == "wound down"


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc")
@pytest.mark.parametrize("sig", ["SIGINT", "SIGHUP"])
def test_loader_workers_leave_group_signals_to_the_main_process(
    stores: list[str], sig: str
) -> None:
    """Ctrl-C and a closed terminal reach every process of the group. A loader worker died of
    SIGHUP (the main process then failed with the DataLoader's 'worker killed' error, a bug's
    status 1 instead of the wind-down) and raised KeyboardInterrupt at SIGINT; the main
    process alone decides, and its workers keep serving until it ends them."""
    plan = BatchPlan(build_pretrain_index(stores), batch_size=4, seed=2, drop_last=False)
    ds = WindowDataset(plan)
    ds.set_epoch(0)
    expected = [b["ids"].tolist() for b in make_loader(ds)]
    before = processes(PARENT, os.getpid())
    loader = make_loader(ds, num_workers=2)
    it = iter(loader)
    got = [next(it)["ids"].tolist()]
    workers = processes(PARENT, os.getpid()) - before
    assert len(workers) >= 2
    # a worker ignores them from its start (worker_init_fn) on: the first batch came from one
    # worker, and another may not have got that far on a loaded machine (it died of SIGHUP)
    assert wait_ignoring(workers, {signal.SIGINT, signal.SIGHUP})
    for pid in workers:
        os.kill(pid, getattr(signal, sig))
    got += [b["ids"].tolist() for b in it]
    assert got == expected
    assert all(Path(f"/proc/{pid}").exists() for pid in workers)  # still serving


WRAPPED = """
import os, signal, sys, time
import labram.commands as c
def work(*a, **k):
    try:
        os.kill(os.getpid(), signal.{sig})
        time.sleep(30)
    except KeyboardInterrupt as exc:
        {then}
c.run_folder = work
from cli import labram_cli
labram_cli(["pretrain", "--store", "s.zarr"])
"""


@pytest.mark.parametrize(
    ("sig", "then"),
    [
        ("SIGINT", "raise RuntimeError('class creation wrapped it') from exc"),  # __set_name__
        ("SIGTERM", "return None"),  # a library swallowed it
    ],
)
def test_a_signal_a_library_wrapped_or_swallowed_still_stops(sig: str, then: str) -> None:
    """A Ctrl-C inside a class's creation reaches the command as a RuntimeError: it was
    reported as a bug (status 1); one a library swallowed let the command end with status 0
    as if never stopped."""
    res = _python(WRAPPED.format(sig=sig, then=then))
    assert res.returncode == STATUS[sig], res.stderr
    assert res.stderr.strip().splitlines() == [res.stderr.strip()], res.stderr
    assert res.stderr.startswith(f"error: {SAYS[sig]}: run the same command with --resume")


LOST = """
import os, signal, sys, time
from pathlib import Path
import labram.commands as c
class Finalised:
    def __del__(self):  # the signal's exception raised here is "Exception ignored in ..."
        os.kill(os.getpid(), signal.{sig})
        time.sleep(0.5)
def work(*a, **k):
    Finalised()  # (gone at once: its __del__ runs here)
    for _ in range(100):
        time.sleep(0.1)
    Path(sys.argv[1]).write_text("worked on")
c.run_folder = work
from cli import labram_cli
labram_cli(["pretrain", "--store", "s.zarr"])
"""


@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM"])
def test_a_signal_whose_exception_python_lost_still_stops_the_command_now(
    tmp_path: Path, sig: str
) -> None:
    """A signal whose exception is raised inside a ``__del__`` or a weak reference's callback
    is lost by Python ("Exception ignored in ..."): the command worked on to its end (here 10
    s), and the next Ctrl-C was ignored as one during a wind-down. It now winds down at once,
    with its one line and no "Exception ignored" text."""
    marker = tmp_path / "marker"
    code = LOST.format(sig=sig).replace("sys.argv[1]", repr(str(marker)))
    res = _python(code)
    assert res.returncode == STATUS[sig], res.stderr
    assert res.stderr.startswith(f"error: {SAYS[sig]}"), res.stderr
    assert res.stderr.strip().splitlines() == [res.stderr.strip()], res.stderr
    assert not marker.exists()


CONSOLE = """
import atexit, os, signal, sys, time
from pathlib import Path
import eegprep._console as console
marker = Path({marker!r})
def late():  # the interpreter's exit: a loader's workers joined, files closed
    os.kill(os.getpid(), signal.{sig})
    time.sleep(0.2)
    marker.write_text("exited")
class During:
    @property
    def labram_cli(self):
        if {at_start}:  # while the command's modules are imported
            os.kill(os.getpid(), signal.{sig})
            time.sleep(30)
        def group():
            atexit.register(late)
            sys.exit(0)
        return group
console._cli_module = During
console.labram_main()
"""


@pytest.mark.parametrize(
    ("sig", "at_start"),
    [("SIGINT", True), ("SIGHUP", True), ("SIGTERM", False)],
    ids=["start-up-SIGINT", "start-up-SIGHUP", "exit-SIGTERM"],
)
def test_the_console_script_before_and_after_the_command(
    tmp_path: Path, sig: str, at_start: bool
) -> None:
    """Before the group takes the signals (the imports: ~1 s) Ctrl-C was a traceback and
    SIGTERM or SIGHUP a silent death; after the command (the interpreter's exit) Ctrl-C was a
    traceback from an exit handler, which it cut short."""
    marker = tmp_path / "marker"
    res = _python(CONSOLE.format(marker=str(marker), sig=sig, at_start=at_start))
    if at_start:
        assert res.returncode == STATUS[sig], res.stderr
        assert res.stderr == f"error: {SAYS[sig]}\n"
    else:
        assert (res.returncode, res.stderr) == (0, "")
        assert marker.read_text() == "exited"


# The console script, Ctrl-C'd at the k-th module imported after it began to import
# eegprep._console (an audit hook sends it, at a point no machine's load moves): the modules of
# the console script's own start-up, then those of the command. Imported before: ``signal``
# (the interpreter's, which whatever takes the signals over needs first) and the ``eegprep``
# package (``__init__`` and the version, ~2.5 ms: what Python imports before any module in it).
EARLY = """
import os, signal, sys
import eegprep
seen = []
def hook(event, args):
    if event == "import" and (seen or args[0] == "eegprep._console"):
        seen.append(args[0])
        if len(seen) == {k} + 2:
            os.kill(os.getpid(), signal.SIGINT)
sys.addaudithook(hook)
sys.argv[1:] = [{arg!r}]
from eegprep._console import {main}
{main}()
"""


@pytest.mark.parametrize("k", [0, 1, 2, 4, 16])
@pytest.mark.parametrize(
    ("main", "arg"), [("eegprep_main", "--version"), ("labram_main", "--help")]
)  # fmt: skip
def test_ctrl_c_while_the_console_script_starts_is_one_line(main: str, arg: str, k: int) -> None:
    """``eegprep._console`` took Ctrl-C over only once its own imports were done (typing,
    atexit, gc, types: ~7 ms from the console script's first line, median of 30, against
    ~3.3 ms now, the ``eegprep`` package's ``__init__`` most of it): a Ctrl-C then was a
    KeyboardInterrupt traceback. It takes it over at its first lines now, and imports the rest
    after."""
    res = _python(EARLY.format(k=k, main=main, arg=arg))
    assert (res.returncode, res.stderr) == (130, "error: interrupted (Ctrl-C)\n"), res.stderr


SIGNAL_IN_THE_SHUTDOWN = """
import os, signal
from torch.utils.data import dataloader
real, calls = dataloader._MultiProcessingDataLoaderIter._shutdown_workers, []
def shutdown(self):  # the run's end: `kill` just as the loader's workers are being ended
    if not calls:
        calls.append(1)
        os.kill(os.getpid(), signal.SIGTERM)
    real(self)
dataloader._MultiProcessingDataLoaderIter._shutdown_workers = shutdown
from cli import labram_cli
labram_cli({argv!r})
"""


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc")
def test_a_signal_while_the_loader_workers_end_lets_them_end(store: str, tmp_path: Path) -> None:
    """SIGTERM while the loader's workers were being ended (the end of a run, left to the
    garbage collector) cut their shutdown short: the run's status was 0 and, at the exit,
    multiprocessing terminated the workers and the DataLoader's SIGCHLD handler printed a
    traceback. Now they end, then the run stops with its one line."""
    argv = ["-q", "tokenizer", "--store", store, "--size", "tiny", "--max-steps", "2",
            "--batch-size", "4", "--workers", "2", "--device", "cpu",
            "--out", str(tmp_path / "run")]  # fmt: skip
    res = _python(SIGNAL_IN_THE_SHUTDOWN.format(argv=argv))
    assert res.returncode == 143, res.stderr[-2000:]
    assert res.stderr.startswith("error: stopped (SIGTERM)"), res.stderr[-2000:]
    assert res.stderr.count("\n") == 1, res.stderr[-2000:]
