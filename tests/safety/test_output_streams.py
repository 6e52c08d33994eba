"""Standard output and error that cannot be written, for every line either command writes,
click's own (`--help`, `--version`) included: a reader gone (`eegprep --help | head -1`) is a
quiet exit with the shell's status for SIGPIPE (141); a full device (`> /dev/full`) is one
`error:` line naming the standard output's file, status 2; a standard error that cannot be
written leaves the command's status as it was (2 for an error), never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HELP_AND_VERSION = [
    ("eegprep", "--help"),
    ("eegprep", "--version"),
    ("eegprep", "ingest", "--help"),
    ("eegprep", "config", "--help"),
    ("labram", "--help"),
    ("labram", "--version"),
]

needs_dev_full = pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")


def _run(args: tuple[str, ...], **streams: object) -> subprocess.CompletedProcess[bytes]:
    cmd = [sys.executable, "-m", args[0], *args[1:]]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(cmd, cwd=REPO, env=env, timeout=120, **streams)  # type: ignore[call-overload,no-any-return]


@pytest.mark.parametrize("args", [*HELP_AND_VERSION, ("eegprep", "corpora")])
def test_a_reader_gone_is_a_quiet_exit_141(args: tuple[str, ...]) -> None:
    read, write = os.pipe()
    os.close(read)  # the reader is gone before the first line
    try:
        res = _run(args, stdout=write, stderr=subprocess.PIPE)
    finally:
        os.close(write)
    assert (res.returncode, res.stderr) == (141, b"")


@needs_dev_full
@pytest.mark.parametrize("args", [*HELP_AND_VERSION, ("eegprep", "corpora")])
def test_a_full_device_as_output_is_one_line_naming_it(args: tuple[str, ...]) -> None:
    with open("/dev/full", "wb") as full:
        res = _run(args, stdout=full, stderr=subprocess.PIPE)
    err = res.stderr.decode()
    assert res.returncode == 2, err
    assert err.count("\n") == 1 and err.startswith("error: /dev/full (standard output): ")
    assert "No space left on device" in err and "Traceback" not in err


@needs_dev_full
@pytest.mark.parametrize(
    "args", [("eegprep", "stats", "no-such.zarr"), ("eegprep", "--bogus"), ("labram", "bogus")]
)
def test_an_error_that_cannot_be_written_keeps_its_status(args: tuple[str, ...]) -> None:
    with open("/dev/full", "wb") as full:
        res = _run(args, stdout=subprocess.PIPE, stderr=full)
    assert (res.returncode, res.stdout) == (2, b"")


def _closed(shell: str, args: tuple[str, ...]) -> subprocess.CompletedProcess[bytes]:
    """``python -m ARGS`` started with the redirections ``shell`` (``>&-``: its standard output
    closed), as a shell starts it; standard output and error captured where left open."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = ["sh", "-c", f'exec "$@" {shell}', "sh", sys.executable, *args]
    return subprocess.run(cmd, cwd=REPO, env=env, timeout=300, capture_output=True)


@pytest.mark.parametrize(
    "args",
    [("-m", "eegprep", "--help"), ("-m", "eegprep", "corpora"), ("-m", "labram", "--version")],
)
def test_output_to_a_standard_output_closed_at_start_is_status_2(args: tuple[str, ...]) -> None:
    """As coreutils' ``ls >&-``: the output is lost, so the command failed (it exited 0)."""
    res = _closed(">&-", args)
    err = res.stderr.decode()
    assert res.returncode == 2, err
    assert err.count("\n") == 1 and err.startswith("error: write error: the standard output was")
    assert _closed(">&- 2>&-", args).returncode == 2


_STRAY = """
import os, sys
from eegprep import _console  # (what the console script imports first)
import eegprep.ingestion.task as task

real = task.run_task

def run_task(t):  # a library's C code writing to descriptors 1 and 2 by number
    for fd in (1, 2):
        try:
            os.write(fd, b"STRAY-BYTES\\n")
        except OSError:
            pass
    return real(t)

task.run_task = run_task
sys.argv = ["eegprep", *sys.argv[1:]]
_console.eegprep_main()
"""


@pytest.mark.parametrize("shell", [">&-", "<&- >&- 2>&-", "2>&-"])
def test_no_file_of_an_ingest_becomes_a_closed_standard_stream(
    shell: str, tuh_corpus: Path, tmp_path: Path
) -> None:
    """A closed descriptor is the lowest free one: the store's lock file took descriptor 1 and
    what was written there by number went into the store. Now each closed one is the null
    device; the ingest is done, and its status says whether its output was lost (a closed
    standard error alone: lines dropped, status kept; it was an internal error)."""
    out = tmp_path / "s.zarr"
    args = ("-c", _STRAY, "ingest", "tuh", "--src", str(tuh_corpus), "--out", str(out))
    res = _closed(shell, (*args, "--workers", "0"))
    assert res.returncode == (0 if shell == "2>&-" else 2), res.stderr.decode()
    written = [p for p in out.rglob("*") if p.is_file() and b"STRAY-BYTES" in p.read_bytes()]
    assert written == []
    check = _run(("eegprep", "validate", str(out)), capture_output=True)
    assert check.returncode == 0, check.stdout.decode()


def test_a_command_that_writes_nothing_to_a_closed_standard_output_keeps_its_status(
    tuh_corpus: Path, tmp_path: Path
) -> None:
    """``-q``: nothing to print, nothing lost (coreutils' ``true >&-``)."""
    out = tmp_path / "s.zarr"
    args = ("-m", "eegprep", "-q", "ingest", "tuh", "--src", str(tuh_corpus), "--out", str(out))
    res = _closed("<&- >&- 2>&-", (*args, "--workers", "0"))
    assert res.returncode == 0
    assert _run(("eegprep", "validate", str(out)), capture_output=True).returncode == 0


def test_a_child_process_inherits_the_null_device_not_a_closed_stream(tmp_path: Path) -> None:
    """The null device put on a closed descriptor is inheritable, as the standard streams are:
    a worker started by exec gets it too (not a closed descriptor, which the first file it
    keeps would take)."""
    seen = tmp_path / "seen"
    code = (
        "import subprocess, sys\n"
        "from eegprep import _console\n"
        "probe = 'import os; print([os.readlink(f\"/proc/self/fd/{n}\") for n in (0, 1, 2)])'\n"
        f"with open({str(seen)!r}, 'w') as fh:\n"
        "    subprocess.run([sys.executable, '-c', probe], stdout=fh, check=True)\n"
    )
    res = _closed("<&- >&- 2>&-", ("-c", code))
    assert res.returncode == 0
    lines = seen.read_text().splitlines()
    assert lines[0].startswith("['/dev/null', '/") and lines[0].endswith("'/dev/null']"), lines
