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
