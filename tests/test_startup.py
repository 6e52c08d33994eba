"""Start-up imports only what the command's path needs (issue 17; timed in benchmarks/startup.py).

Each check runs in a fresh interpreter and looks at ``sys.modules``: a behaviour, not a timing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

HEAVY = ("scipy.signal", "scipy.stats", "torch", "mne", "distributed", "matplotlib")
"""Modules no command needs before its real work: each costs 0.1-1 CPU s to import."""


def imported_after(code: str, *argv: str) -> dict[str, list[str]]:
    """Run ``code`` in a fresh interpreter (it may fill the dict ``seen`` with lists of module
    names); ``seen["end"]`` holds the modules imported when it finishes."""
    prog = (
        "import json, sys\n"
        "seen = {}\n"
        f"try:\n    {code}\nexcept SystemExit:\n    pass\n"
        "seen['end'] = sorted(sys.modules)\n"
        "print(json.dumps(seen))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", prog, *argv], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert done.returncode == 0, done.stderr
    seen: dict[str, list[str]] = json.loads(done.stdout.strip().splitlines()[-1])
    return seen


def heavy(modules: list[str]) -> list[str]:
    return [m for m in HEAVY if m in modules]


def console(name: str) -> str:
    """Code that runs the ``name`` console script's entry point with ``sys.argv[1:]``."""
    return (
        "from importlib.metadata import entry_points; "
        f"sys.argv[0] = {name!r}; "
        f"[ep.load() for ep in entry_points(group='console_scripts', name={name!r})][0]()"
    )


def test_importing_the_ingest_path_imports_nothing_heavy() -> None:
    seen = imported_after(
        "import cli, eegprep.ingestion.driver, eegprep.ingestion.workers, eegprep.ingestion.task"
    )
    assert heavy(seen["end"]) == []


def test_help_of_every_command_imports_nothing_heavy() -> None:
    for name, argv in (
        ("eegprep", ["--version"]),
        ("eegprep", ["ingest", "--help"]),
        ("labram", ["--help"]),
        ("labram", ["pretrain", "--help"]),
        ("labram", ["finetune", "--help"]),
    ):
        seen = imported_after(console(name), *argv)
        assert heavy(seen["end"]) == [], (name, argv)


def test_ingest_reaches_its_first_file_with_only_what_it_needs(
    tuh_corpus: Path, tmp_path: Path
) -> None:
    """``eegprep ingest`` as a user runs it (default workers): nothing heavy is imported before
    the first file's task starts, and a 3-file corpus starts no pool or dask cluster."""
    code = (
        "import eegprep.ingestion.driver as ing\n"
        "    real = ing.run_task\n"
        "    def probe(task):\n"
        "        seen.setdefault('first', sorted(sys.modules))\n"
        "        return real(task)\n"
        "    ing.run_task = probe\n"
        f"    {console('eegprep')}"
    )
    out = tmp_path / "s.zarr"
    seen = imported_after(code, "ingest", "tuh", "--src", str(tuh_corpus), "--out", str(out))
    assert "first" in seen, "no file was ingested in this process"
    assert heavy(seen["first"]) == []
    # nor for the files: the filter designs, their responses and the line-noise spectrum need
    # no MNE and no scipy at all (eegprep.pipeline.fir, ducc0, eegprep.pipeline.qc.welch)
    assert heavy(seen["end"]) == []
    assert [m for m in seen["end"] if m.split(".")[0] == "scipy"] == []
    # nor zarr (the recording groups' metadata is written without it, ~0.1 CPU s a process),
    # nor numcodecs (the chunks are encoded without it, ~45 ms), nor fsspec for a local store
    # (~0.08 CPU s)
    assert [m for m in seen["end"] if m.split(".")[0] in ("zarr", "numcodecs", "fsspec")] == []
    assert "numpy.ma" not in seen["end"]  # (np.median imports it: ~12 ms; qc.median does not)
    assert "distributed" not in seen["end"] and "concurrent.futures.process" not in seen["end"]
    assert (out / "zarr.json").is_file()


def test_pretrain_reaches_its_first_step_with_only_torch(tmp_path: Path) -> None:
    """``labram pretrain`` up to its first step imports torch and nothing else heavy: no scipy,
    MNE, dask or matplotlib (the curves are drawn at the end)."""
    from tests.labram.training_stores import write_pretrain_store

    store = write_pretrain_store(tmp_path / "s.zarr", n_subjects=2, seconds=60)
    code = (
        "import labram.train.loop as loop\n"
        "    def probe(*args, **kwargs):\n"
        "        seen['first'] = sorted(sys.modules)\n"
        "        raise SystemExit(0)\n"
        "    loop.lr_at = probe\n"
        f"    {console('labram')}"
    )
    argv = ["pretrain", "--store", store, "--size", "tiny", "--out", str(tmp_path / "run")]
    seen = imported_after(code, *argv)
    assert "first" in seen, "the run never reached its first step"
    assert heavy(seen["first"]) == ["torch"]
    assert [m for m in seen["first"] if m.split(".")[0] in ("scipy", "h5py", "dask")] == []


def test_an_ingest_without_zarr_writes_the_same_bytes_twice(
    tuh_corpus: Path, tmp_path: Path
) -> None:
    """In a process that never imports zarr (the console command's case), two ingests of the
    same files give byte-identical stores: Blosc compresses with one thread (its threads
    would write a chunk's blocks in the order they finish)."""
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from eegprep.ingestion.driver import IngestConfig, ingest\n"
        "cfg = IngestConfig(workers=0, progress=False)\n"
        "for out in sys.argv[2:]:\n"
        "    ingest('tuh', src=sys.argv[1], out=out, config=cfg)\n"
        "print('zarr' in sys.modules)\n"
    )
    a, b = tmp_path / "a.zarr", tmp_path / "b.zarr"
    done = subprocess.run(
        [sys.executable, "-c", code, str(tuh_corpus), str(a), str(b)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"

    def objects(store: Path) -> dict[str, bytes]:
        return {
            p.relative_to(store).as_posix(): p.read_bytes()
            for p in sorted(store.rglob("*"))
            if p.is_file() and "reports" not in p.parts
        }

    first, second = objects(a), objects(b)
    assert sorted(first) == sorted(second)
    differ = [k for k in first if first[k] != second[k]]
    assert differ == [], differ


def test_console_scripts_freeze_the_heap_after_every_exit_handler() -> None:
    """Both console scripts leave the interpreter's final garbage collections nothing to walk
    (``eegprep._console._quick_exit``): an exit handler registered before the script runs (so
    run after the script's own) finds the heap frozen, and the command's output complete."""
    for name, argv in (("eegprep", ["--version"]), ("labram", ["--help"])):
        code = (
            "import atexit, gc\n"
            "    atexit.register(lambda: print('frozen', gc.get_freeze_count()))\n"
            f"    {console(name)}"
        )
        done = subprocess.run(
            [sys.executable, "-c", f"import sys\ntry:\n    {code}\nexcept SystemExit:\n    pass\n",
             *argv], capture_output=True, text=True, cwd=ROOT, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        lines = done.stdout.strip().splitlines()
        assert lines[0].startswith(("eegprep", "Usage")), lines
        assert lines[-1].startswith("frozen ") and int(lines[-1].split()[1]) > 10_000, lines


_HOOK = """
import os, sys, time

class StopAtFirstImport:
    '''From the moment the eegprep or labram package is looked for, sleep at the first import
    of any other module (but the wrapper's own: the console script's target and __main__),
    having said so on the standard output: a Ctrl-C sent then arrives inside it.'''
    armed = False

    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if name in ("eegprep", "labram"):
            cls.armed = True
        elif cls.armed and name not in ("eegprep._console", "eegprep.__main__", "labram.__main__"):
            os.write(1, b"importing " + name.encode() + b"\\n")
            time.sleep(60)
        return None

sys.meta_path.insert(0, StopAtFirstImport)
"""
STARTS = {  # how each command starts: the console scripts (as pip writes them), and python -m
    "eegprep": ["-c", "import sys; from eegprep._console import eegprep_main; eegprep_main()"],
    "labram": ["-c", "import sys; from eegprep._console import labram_main; labram_main()"],
    "python -m eegprep": ["-m", "eegprep"],
    "python -m labram": ["-m", "labram"],
}


def _stopped_at_the_first_import(
    tmp_path: Path, start: str, more: dict[str, str] | None = None
) -> tuple[subprocess.Popen[str], str]:
    """``start --version`` (:data:`STARTS`, ``more`` in its environment) held by :data:`_HOOK`
    at its first import after the package's, and the line the hook printed there."""
    (tmp_path / "sitecustomize.py").write_text(_HOOK)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join((str(tmp_path), str(ROOT))), **(more or {})}
    proc = subprocess.Popen(
        [sys.executable, *STARTS[start], "--version"], cwd=tmp_path, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("importing "), line
    return proc, line


@pytest.mark.parametrize("start", sorted(STARTS))
def test_ctrl_c_during_the_first_import_after_the_package_is_one_line(
    start: str, tmp_path: Path
) -> None:
    """The console scripts take Ctrl-C over before any module is imported after the interpreter's
    start-up: ``eegprep/__init__.py`` imported the version and ``signal``, ``labram/__init__.py``
    ``typing``, before, and a Ctrl-C there was a KeyboardInterrupt traceback. A hook stops the
    start-up at its first such import (sitecustomize: every start-up runs it)."""
    import signal

    proc, line = _stopped_at_the_first_import(tmp_path, start)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert (proc.returncode, err) == (130, "error: interrupted (Ctrl-C)\n"), (line, err)


@pytest.mark.parametrize(("local", "said"), [("0", True), ("1", False)])
def test_a_signal_during_start_up_under_torchrun_is_said_by_the_first_process_alone(
    tmp_path: Path, local: str, said: bool
) -> None:
    """torchrun passes a signal to each of its processes, and ends the others with SIGTERM
    when one exits: during start-up too, the "stopped" line is ``LOCAL_RANK`` 0's alone (each
    process of a machine said it); the status is the signal's either way."""
    import signal

    torchrun = {"RANK": local, "LOCAL_RANK": local, "WORLD_SIZE": "2"}
    proc, _ = _stopped_at_the_first_import(tmp_path, "labram", torchrun)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert (proc.returncode, err) == (143, "error: stopped (SIGTERM)\n" if said else ""), err


def _before_the_handler(err: str) -> bool:
    """Whether ``err`` is a ``KeyboardInterrupt`` traceback of the moments before
    ``eegprep/_console.py`` takes the signals over (docs/cli.md, "Signals"): CPython's own (a
    ``.pth`` file of the environment, an import's callback: "Exception ignored in"), or one
    whose every frame in a file of ours is one the import system runs first (a package's
    ``__init__``, ``python -m``'s ``__main__`` importing the console module, that module above
    its handler's line)."""
    import re

    console = ROOT / "eegprep" / "_console.py"
    taken = console.read_text(encoding="utf-8").splitlines().index("_stop_during_start_up()") + 1
    first = {ROOT / "eegprep" / "__init__.py", ROOT / "labram" / "__init__.py"}
    first |= {ROOT / "eegprep" / "__main__.py", ROOT / "labram" / "__main__.py"}
    if "KeyboardInterrupt" not in err:
        return False  # (the last line may be CPython's: a .pth file's "Remainder of file ignored")
    for name, line in re.findall(r'File "([^"]+)", line (\d+)', err):
        path = Path(name)
        if not path.is_relative_to(ROOT) or path in first:
            continue  # (CPython's own: <string>, <frozen runpy>, <frozen importlib._bootstrap>)
        if path != console or int(line) > taken:
            return False
    return True


@pytest.mark.parametrize("delay_ms", [0, 1, 3, 10])
def test_ctrl_c_at_any_moment_of_start_up_is_no_traceback_of_ours(delay_ms: int) -> None:
    """A Ctrl-C a few milliseconds after the command starts: a quiet end, 130 (or the signal's
    own death, before the interpreter takes SIGINT: the shell shows 130), or the command's
    result if it came first; never a traceback from a file of ours once the console module
    has taken the signals over. (During the interpreter's own start-up, before any file of ours
    runs, CPython itself prints "Fatal Python error: init_import_site" or "init_sys_streams" and
    a traceback; while the import system finds and reads our packages and the console module, a
    KeyboardInterrupt traceback: no package can act before then, docs/cli.md. Which moment the
    signal meets is the machine's: on a loaded one, 1 in 10 of these fell in the second.)"""
    import signal
    import time

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for start in ("eegprep", "python -m labram"):
        proc = subprocess.Popen(
            [sys.executable, *STARTS[start], "--version"], cwd=ROOT, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        time.sleep(delay_ms / 1000)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        ours = [str(ROOT / "eegprep"), str(ROOT / "labram"), str(ROOT / "cli.py")]
        # CPython's own start-up (see above): its site import, its standard streams
        if "Fatal Python error: init_" in err:
            assert not any(f'File "{path}' in err for path in ours), err
            continue
        if "Traceback" in err:  # (the import system's moments before the handler, see above)
            assert _before_the_handler(err), err
            continue
        assert proc.returncode in (0, 130, -signal.SIGINT), err
