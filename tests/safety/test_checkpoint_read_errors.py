"""A checkpoint the system cannot read is one line naming it, from every reader.

An error of the read itself (``EIO``: a bad sector, a device gone) names no file in Python:
`labram convert /proc/self/mem OUT` (a regular file whose first byte cannot be read) said
``error: cannot use it (Input/output error); check the disk ...``, of no file. Every read of a
checkpoint (the safe reader, the safetensors reader, the hash a run records of one) now names
it, and the command line says what to do, as for a write.
"""

from __future__ import annotations

import errno
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cli import labram_cli
from labram.checkpoints.cards import file_sha256
from labram.checkpoints.safe_read import read_checkpoint
from labram.checkpoints.safetensors_files import read_safetensors

UNREADABLE = Path("/proc/self/mem")
"""A regular file (``is_file``) whose first byte no read can give (the process's address 0)."""

READERS: dict[str, Callable[[Path], Any]] = {
    "read_checkpoint": read_checkpoint,
    "read_safetensors": read_safetensors,
    "file_sha256": file_sha256,
}


@pytest.mark.parametrize("reader", sorted(READERS))
def test_a_read_error_names_the_file(reader: str) -> None:
    assert UNREADABLE.is_file()
    with pytest.raises(OSError) as info:
        READERS[reader](UNREADABLE)
    assert info.value.errno == errno.EIO and info.value.filename == str(UNREADABLE)


def test_the_command_line_names_it_in_one_line(tmp_path: Path) -> None:
    out = tmp_path / "out.pt"
    res = CliRunner().invoke(labram_cli, ["-q", "convert", str(UNREADABLE), str(out)])
    assert res.exit_code == 2, (res.exit_code, res.output)
    (line,) = res.stderr.strip().splitlines()
    assert line.startswith(f"error: {UNREADABLE}: cannot use it (Input/output error); "), line
    assert not out.exists()
