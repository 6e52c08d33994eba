"""Promise: a write that tidies away what killed writes left never removes a write running now.

A run folder's files are written under a temporary name and renamed, and a tidy write
(``replaced_atomically(..., tidy=True)``) then removes the temporaries that killed writes of
the same file left. Under torchrun each rank may write the same run file at once: rank 0's
tidying removed rank 1's temporary file while rank 1 wrote it, and rank 1 stopped with
``internal error (a bug): FileNotFoundError`` at its rename. Each write now holds its
temporary file with a ``flock``, which a kill releases: a held one is passed over, a leftover
removed.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from pathlib import Path

from eegprep.base.files import (
    TMP_MARK,
    claim_temporary,
    remove_stale_temporaries,
    replaced_atomically,
    write_atomically,
)


def _temporaries(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir() if TMP_MARK in p.name)


def test_a_tidy_write_leaves_a_write_running_in_this_process(tmp_path: Path) -> None:
    path = tmp_path / "excluded_subjects.json"
    with replaced_atomically(path, durable=True, tidy=True) as tmp:
        tmp.write_bytes(b'{"rank": 1}')
        write_atomically(path, b'{"rank": 0}', durable=True, tidy=True)  # another writer
        assert tmp.exists()
    assert path.read_bytes() == b'{"rank": 1}'
    assert _temporaries(path) == []


def _write_and_wait(path: str, ready: object, go: object) -> None:
    with replaced_atomically(path, tidy=True) as tmp:
        tmp.write_bytes(b"from the other process")
        ready.set()  # type: ignore[attr-defined]
        go.wait(60)  # type: ignore[attr-defined]


def test_a_tidy_write_leaves_a_write_running_in_another_process(tmp_path: Path) -> None:
    """As torchrun's ranks: the other process's write, held open, survives this one's tidying
    and renames its file in place afterwards."""
    path = tmp_path / "command.txt"
    ctx = multiprocessing.get_context("fork")
    ready, go = ctx.Event(), ctx.Event()
    other = ctx.Process(target=_write_and_wait, args=(str(path), ready, go))
    other.start()
    try:
        assert ready.wait(60)
        write_atomically(path, b"from this process", tidy=True)
        assert len(_temporaries(path)) == 1  # the other's, passed over
        go.set()
        other.join(60)
        assert other.exitcode == 0
    finally:
        if other.is_alive():
            other.kill()
    assert path.read_bytes() == b"from the other process"
    assert _temporaries(path) == []


def test_what_a_killed_write_left_is_removed(tmp_path: Path) -> None:
    """A write killed before its rename holds nothing any more: its temporary file goes at
    the next tidy write, whether the kill hit a held write or an unheld claim."""
    path = tmp_path / "metrics.json"
    claim_temporary(path).write_bytes(b"an unheld leftover")
    ctx = multiprocessing.get_context("fork")
    ready, go = ctx.Event(), ctx.Event()
    other = ctx.Process(target=_write_and_wait, args=(str(path), ready, go))
    other.start()
    assert ready.wait(60)
    assert other.pid is not None
    os.kill(other.pid, signal.SIGKILL)
    other.join(60)
    assert len(_temporaries(path)) == 2
    assert len(remove_stale_temporaries(path)) == 2
    write_atomically(path, b"{}", tidy=True)
    assert _temporaries(path) == []
