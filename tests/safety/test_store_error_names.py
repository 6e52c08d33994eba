"""Every ``OSError`` a store's writer raises names the store file it met it at, relative to
the store, and what was being done to it. Found with tests/io_faults.py: the index's
compaction at the writer's close failing at the ``os.replace`` of ``_eegprep/index/*.fields``
said "[Errno 5] Input/output error" and named no file (``os.replace``, ``write`` and ``fsync``
name none when the disk refuses them)."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from eegprep.pipeline.recipe import Recipe
from eegprep.store.writer import StoreWriter
from tests.eegprep.test_store import _put
from tests.io_faults import DELETE_OPS, FOLDER_OPS, OPS, failing_calls, nth

X = np.random.default_rng(0).standard_normal((2, 3000)).astype(np.float32)
ALL_OPS = (*OPS, *DELETE_OPS, *FOLDER_OPS)


def _store(tmp_path: Path) -> str:
    """A store holding one recording; the next writer's commit makes a second index segment,
    which its close compacts."""
    url = str(tmp_path / "s.zarr")
    with StoreWriter(url, Recipe()) as w:
        _put(w, "tuh/a", X)
    return url


def _second_ingest(url: str) -> None:
    with StoreWriter(url, Recipe()) as w:
        _put(w, "tuh/b", X[:, :1000])


def _assert_names_a_store_file(exc: OSError, url: str) -> None:
    """``exc`` names a file of the store ``url`` (its ``filename``) and says, relative to the
    store, which file and what was being done."""
    assert exc.errno == errno.EIO, exc
    named = os.fspath(exc.filename) if exc.filename is not None else ""
    assert named == url or named.startswith(url + os.sep), (exc, exc.filename)
    rel = os.path.relpath(named, url).replace(os.sep, "/")
    assert " while " in str(exc.strerror) and rel in str(exc.strerror), exc


def test_a_compaction_rename_that_fails_at_close_names_the_index_file(tmp_path: Path) -> None:
    url = _store(tmp_path)

    renames: list[str] = []

    def fields_rename(n: int, call: str) -> bool:  # the second: the one to the base's name
        if call.startswith("replace ") and call.endswith(".fields"):
            renames.append(call)
        return len(renames) == 2 and renames[-1] == call

    with failing_calls(fields_rename, under=url), pytest.raises(OSError) as info:
        _second_ingest(url)
    assert len(renames) == 2, renames
    exc = info.value
    _assert_names_a_store_file(exc, url)
    assert "while renaming _eegprep/index/" in str(exc) and ".fields to _eegprep/index/" in str(exc)


def test_every_failing_write_side_call_of_an_ingest_names_its_store_file(
    tmp_path: Path,
) -> None:
    """Each write, flush, rename, deletion and folder creation under the store failing in
    turn: the error raised (none where the writer goes on without that call) names the store
    file and what was done to it."""
    url = _store(tmp_path)
    with failing_calls(lambda n, c: False, ops=ALL_OPS, under=url) as calls:
        _second_ingest(url)
    assert len(calls) > 10, calls
    unnamed = []
    for k in range(1, len(calls) + 1):
        url_k = _store(tmp_path / f"run{k}")
        try:
            with failing_calls(nth(k), ops=ALL_OPS, under=url_k):
                _second_ingest(url_k)
        except OSError as exc:
            try:
                _assert_names_a_store_file(exc, url_k)
            except AssertionError:
                unnamed.append(f"{calls[k - 1]}: {exc!r}")
    assert not unnamed, "\n".join(unnamed)


def test_a_shard_read_the_disk_fails_names_the_shard(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read of a shard that fails (``EIO`` from ``readinto``, which names no file) said
    "Input/output error" alone."""
    from eegprep import open_store
    from eegprep.store import shard_reader

    url = _store(tmp_path)
    real_open = open

    class _FailingRead:
        def __init__(self, fh: Any) -> None:
            self._fh = fh

        def __enter__(self) -> _FailingRead:
            return self

        def __exit__(self, *exc: object) -> None:
            self._fh.close()

        def seek(self, at: int) -> int:
            return int(self._fh.seek(at))

        def readinto(self, buffer: Any) -> int:
            raise OSError(errno.EIO, os.strerror(errno.EIO))

    def failing_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        return _FailingRead(real_open(file, mode, *args, **kwargs))

    monkeypatch.setattr(shard_reader, "open", failing_open, raising=False)
    with pytest.raises(OSError) as info:
        open_store(url).read("tuh/a")
    _assert_names_a_store_file(info.value, url)
    assert "while reading recordings/" in str(info.value)
