"""Readers beside a running ingest: `eegprep validate`, `stats` and `open_store` see the store
an ingest is writing as it was or as it will be, never its moves in flight as damage. The states
are made as the writer makes them, under a lock its live process holds: the skeleton of a store
being created (its root `zarr.json`, written last, not there yet), and the folder of a corpus
whose first recording is being committed (made a moment before its `zarr.json`)."""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import eegprep_cli
from eegprep import open_store
from eegprep.base.errors import StoreNotFoundError
from eegprep.store.validate import check_store
from tests.safety.corpus import ingest_folder, write_edf


def _hold_lock(store: Path) -> None:
    """The lock as a running ingest writes it: this live process holds it."""
    lock = store / "_eegprep" / "lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    me = {"host": socket.gethostname(), "pid": os.getpid(), "since": time.time(), "token": "t"}
    lock.write_text(json.dumps(me))


def test_a_store_being_created_is_said_to_be_so(tmp_path: Path) -> None:
    store = tmp_path / "s.zarr"
    for group in ("recordings", "_eegprep"):  # the skeleton before the root
        (store / group).mkdir(parents=True)
        (store / group / "zarr.json").write_text('{"zarr_format":3,"node_type":"group"}')
    _hold_lock(store)
    with pytest.raises(StoreNotFoundError, match="is creating this store now"):
        check_store(str(store))
    with pytest.raises(StoreNotFoundError, match="is creating this store now"):
        open_store(store)
    for command in ("validate", "stats"):
        res = CliRunner().invoke(eegprep_cli, [command, str(store)])
        assert res.exit_code == 2 and res.output.count("\n") == 1, res.output
        assert "an ingest (pid" in res.output and "run the command again" in res.output
    (store / "_eegprep" / "lock").unlink()  # (a kill during creation)
    with pytest.raises(StoreNotFoundError, match="the beginning of a store and no more"):
        check_store(str(store))
    (store / "recordings" / "x").mkdir()  # more than a creation leaves: damage, as before
    (store / "recordings" / "x" / "zarr.json").write_text("{}")
    assert any("zarr.json: missing" in p for p in check_store(str(store)).problems)


def test_a_store_whose_lock_is_being_taken_is_not_damaged(tmp_path: Path) -> None:
    """The first moment of a creation: the flock file made, the lock not yet written."""
    store = tmp_path / "s.zarr"
    (store / "_eegprep").mkdir(parents=True)
    (store / "_eegprep" / "lock.flock").touch()
    with pytest.raises(StoreNotFoundError, match="the beginning of a store"):
        check_store(str(store))
    res = CliRunner().invoke(eegprep_cli, ["validate", str(store)])
    assert res.exit_code == 2 and res.output.count("\n") == 1, res.output


def test_the_folder_of_a_corpus_being_started_is_no_damage(tmp_path: Path) -> None:
    src, store = tmp_path / "src", tmp_path / "s.zarr"
    write_edf(src, "a.edf")
    ingest_folder(src, store)
    started = store / "recordings" / "other"  # what write_bytes leaves before its rename
    started.mkdir()
    (started / "zarr.json.tmp-0123abcd").write_bytes(b"{")
    _hold_lock(store)
    found = check_store(str(store))
    assert (found.checked, found.problems) == (1, [])
    (store / "_eegprep" / "lock").unlink()  # no ingest: a corpus folder without its document
    assert any("recordings/other/zarr.json: missing" in p for p in check_store(str(store)).problems)
