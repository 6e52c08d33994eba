"""Taking and giving back a store's lock leaves no temporary file, whichever of its calls
fails (``EIO`` at each write, flush, link, rename, deletion and folder creation in turn).

Found: the lock is written to ``_eegprep/lock.tmp-XXXXXXXX`` and hard-linked to
``_eegprep/lock``; a failed deletion of the temporary file after the link raised out of the
lock's taking, so the writer took itself for no holder: the lock (naming its live process)
and the temporary file were both left behind in the store.
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest

from eegprep.base.files import TMP_MARK
from eegprep.pipeline.recipe import Recipe
from eegprep.store.writer import StoreWriter
from tests.io_faults import DELETE_OPS, FOLDER_OPS, OPS, failing_calls, nth

ALL_OPS = (*OPS, *DELETE_OPS, *FOLDER_OPS)


def _temporaries(store: Path) -> list[str]:
    return sorted(str(p.relative_to(store)) for p in store.rglob("*") if TMP_MARK in p.name)


def _prepare(store: Path, kind: str) -> None:
    """A store to take the lock of: none yet (``new``), one left unlocked (``existing``), or
    one whose lock names a process that is gone (``stale``)."""
    if kind == "new":
        return
    with StoreWriter(store, Recipe()):
        pass
    if kind == "stale":
        gone = {"host": socket.gethostname(), "pid": 2**31 - 2, "since": 1.0}
        (store / "_eegprep" / "lock").write_text(json.dumps(gone))


def _open_and_close(store: Path) -> None:
    with StoreWriter(store, Recipe()):
        pass


@pytest.mark.parametrize("kind", ["new", "existing", "stale"])
def test_the_lock_leaves_no_temporary_file_after_success_or_any_failed_call(
    tmp_path: Path, kind: str
) -> None:
    counted = tmp_path / "count"
    _prepare(counted, kind)
    with failing_calls(lambda n, call: False, ops=ALL_OPS, under=counted) as calls:
        _open_and_close(counted)
    assert any(c.startswith("link ") and "lock" in c for c in calls), calls
    assert _temporaries(counted) == [] and not (counted / "_eegprep" / "lock").exists()
    for k, call in enumerate(list(calls), 1):
        store = tmp_path / f"k{k}"
        _prepare(store, kind)
        lock = store / "_eegprep" / "lock"
        with failing_calls(nth(k), ops=ALL_OPS, under=store):
            try:
                _open_and_close(store)
            except OSError as exc:  # (the lock's own calls: named; the index's are not ours)
                named = exc.filename and str(store) in str(exc.filename)
                assert named or "lock" not in os.path.basename(call), (call, exc)
        assert _temporaries(store) == [], call
        # (a lock the disk will not delete stays: test_deletion_errors.py)
        if call != f"unlink {counted / '_eegprep' / 'lock'}":
            assert not lock.exists(), call
        _open_and_close(store)  # the next writer takes the lock (a stale one over)
        assert _temporaries(store) == [] and not lock.exists(), call
