"""Promise: a recording group that holds no record (what a stopped ingest leaves of a group it
never listed: no ``zarr.json``, or empty attributes) is named by ``eegprep validate`` on a
``note:`` line, never as damage; the next ingest retires it and deletes it after
``--keep-replaced``; and a store whose only groups are such leftovers opens as an empty store.

On an object store the workers write their groups in place, so a killed ingest leaves them
under ``recordings/``: ``validate`` called each a problem (exit 1) until the next ingest
retired it, and then said nothing of it at all; ``open_store`` refused a store whose first
ingest was killed before its first commit ("index missing").
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import eegprep_cli
from eegprep import open_store
from eegprep.base.errors import StoreFormatError
from eegprep.store.fs import Location
from eegprep.store.index import INDEX_DIR
from eegprep.store.recording_writer import group_json
from eegprep.store.validate import RETIRED_PREFIX, check_store
from tests.safety.backends import Backend
from tests.safety.corpus import built_store, ingest_folder

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # numcodecs' zarr3 codecs

LEFT = ["recordings/folder/r1@2", "recordings/folder/r1@3"]  # no zarr.json; empty attributes
NOTE = "holds no record (no zarr.json, or empty attributes: what a stopped ingest leaves"


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return built_store(tmp_path_factory.mktemp("no-record"))


@pytest.fixture(params=["local", "memory"])
def backend(base: Path, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Backend]:
    shutil.copytree(base, tmp_path, dirs_exist_ok=True)
    store = tmp_path / "s.zarr"
    for group, meta in zip(LEFT, [None, group_json({})], strict=True):  # a stopped worker's
        for rel in ("data/zarr.json", "data/c.0.0", "channel/zarr.json", "channel/c.0"):
            (store / group / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(store / "recordings/folder/r1" / rel, store / group / rel)
        if meta is not None:
            (store / group / "zarr.json").write_bytes(meta)
    b = Backend(store, request.param, "no-record")
    yield b
    b.close()


def test_a_group_that_holds_no_record_is_a_note_not_a_problem(backend: Backend) -> None:
    result = check_store(backend.url)
    assert (result.checked, result.problems) == (2, [])
    assert [n.split(": ")[0] for n in result.notes] == LEFT
    assert all(NOTE in n and "not damage: the next ingest retires it" in n for n in result.notes)
    runner = CliRunner()
    res = runner.invoke(eegprep_cli, ["validate", backend.url])
    assert res.exit_code == 0 and f"note: {LEFT[0]}: {NOTE}" in res.output, res.output
    assert "2 recordings checked, 0 problems" in res.output
    doc = json.loads(runner.invoke(eegprep_cli, ["validate", backend.url, "--json"]).output)
    assert (doc["problems"], doc["notes"]) == ([], result.notes)


def test_a_group_with_a_record_left_unlisted_is_still_a_problem(backend: Backend) -> None:
    backend.write(f"{LEFT[1]}/zarr.json", backend.read("recordings/folder/r1/zarr.json"))
    result = check_store(backend.url)
    assert [p.split(": ")[0] for p in result.problems] == [LEFT[1]]
    assert [n.split(": ")[0] for n in result.notes] == LEFT[:1]


def test_the_next_ingest_retires_such_groups_and_a_later_one_deletes_them(
    backend: Backend,
) -> None:
    src = backend.local.parent / "src"
    rep = ingest_folder(src, backend.url)  # type: ignore[arg-type]
    assert (rep.n_current, rep.failed) == (2, [])
    loc = Location.parse(backend.url)
    rows = json.loads(loc.read_bytes("_eegprep", "retired.json"))["retired"]
    assert [(g, r) for g, _, r in rows] == [(g, None) for g in LEFT]  # no record.json in them
    result = check_store(backend.url)
    assert (result.retired, result.problems) == (0, [])
    assert [n.split(": ")[0] for n in result.notes] == [f"{RETIRED_PREFIX}{g}" for g in LEFT]
    assert all(
        NOTE in n and "an ingest deletes it after --keep-replaced" in n for n in result.notes
    )
    ingest_folder(src, backend.url, keep_replaced=0.0)  # type: ignore[arg-type]
    assert not any(loc.exists(g) for g in LEFT)
    result = check_store(backend.url)
    assert (result.problems, result.notes) == ([], [])


def test_a_store_whose_groups_all_hold_no_record_opens_empty(backend: Backend) -> None:
    """What a first ingest killed before its first commit leaves on an object store: groups
    written in place, none with its attributes, and no index segment."""
    loc = Location.parse(backend.url)
    for name in loc.list(*INDEX_DIR):
        loc.remove(*INDEX_DIR, name)
    for group in ("recordings/folder/r0", "recordings/folder/r1"):
        loc.remove(group, "zarr.json")
    assert len(open_store(backend.url)) == 0
    result = check_store(backend.url)
    assert result.problems == [] and len(result.notes) == 4
    backend.write("recordings/folder/r0/zarr.json", group_json({"id": "folder/r0"}))
    with pytest.raises(
        StoreFormatError, match="index missing"
    ):  # a group with a record: index lost
        open_store(backend.url)
