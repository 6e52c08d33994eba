"""Promise: an entry under ``recordings/`` that no ingest writes (a file, a Finder ``.DS_Store``,
a NAS's ``@eaDir`` folder) is left as it is and is no damage.

Before: a file in a corpus folder (``recordings/folder/notes.txt``) was taken for a recording
group, retired, and every later ingest stopped on it (``cannot write the store: Not a directory
(.../notes.txt/record.json)``): the store could no longer be written. `eegprep validate`
reported each such entry as a problem (exit status 1; a file under ``recordings/`` itself as
``recordings/x/x``), and a folder whose name no group has (``@eaDir``) as a group the next
ingest would retire, which no ingest does. A user's folder named as a group could be
(``recordings/folder/notes/a.txt``) was retired, then deleted with its files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from cli import eegprep_cli
from eegprep.store.validate import check_store
from tests.safety.backends import Backend
from tests.safety.corpus import ingest_folder, write_edf

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # numcodecs' zarr3 codecs

STRAY = [
    "recordings/folder/notes.txt",  # a file where groups lie, named as a group could be
    "recordings/folder/r9@2",  # ... named as a version of a group
    "recordings/folder/.DS_Store",
    "recordings/.DS_Store",  # a file where corpus folders lie
    "recordings/readme",
    "recordings/folder/@eaDir/thumb.jpg",  # folders whose names no group or corpus has
    "recordings/@eaDir/thumb.jpg",
    "recordings/Folder/x/zarr.json",
    "recordings/folder/notes/a.txt",  # a user's folder named as a group could be
    "recordings/folder/r7/sub/x.bin",  # ... holding a folder that is no array
]


def _entry(rel: str) -> str:
    """The entry under ``recordings/`` (or a corpus folder) that ``rel`` puts there."""
    parts = rel.split("/")
    return "/".join(parts[:3]) if parts[1] == "folder" else "/".join(parts[:2])


def _store(tmp_path: Path) -> tuple[Path, Path]:
    src, out = tmp_path / "src", tmp_path / "s.zarr"
    for i in range(2):
        write_edf(src, f"r{i}.edf", seed=i)
    assert ingest_folder(src, out).n_ingested == 2
    return src, out


@pytest.mark.parametrize("rel", STRAY)
def test_an_entry_no_ingest_writes_is_left_alone_and_no_damage(tmp_path: Path, rel: str) -> None:
    src, out = _store(tmp_path)
    stray = out / rel
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(b"the user's own bytes")
    result = check_store(str(out))
    assert result.problems == []
    assert any(n.startswith(f"{_entry(rel)}: not a recording group") for n in result.notes)
    cli = CliRunner().invoke(eegprep_cli, ["validate", str(out)])
    assert cli.exit_code == 0 and "2 recordings checked, 0 problems" in cli.output
    # ingests go on (one replacing a recording, so that groups are retired and deleted)
    write_edf(src, "r0.edf", seed=7)
    for _ in range(2):
        report = ingest_folder(src, out, keep_replaced=0.0)
        assert not report.failed
    assert report.n_current == 2 and stray.read_bytes() == b"the user's own bytes"
    assert check_store(str(out)).problems == []


def test_entries_that_are_no_groups_on_an_object_store_are_notes(tmp_path: Path) -> None:
    _, out = _store(tmp_path)
    store = Backend(out, "memory", "stray")
    try:
        for rel in STRAY:
            store.write(rel, b"x")
        result = check_store(store.url)
        assert result.problems == [] and result.checked == 2
        noted = {n.split(":")[0] for n in result.notes if "not a recording group" in n}
        assert noted == {_entry(rel) for rel in STRAY}
    finally:
        store.close()


def test_a_real_unlisted_group_is_still_a_problem(tmp_path: Path) -> None:
    """What is a group stays one: a group folder the index does not list is reported."""
    _, out = _store(tmp_path)
    (out / "recordings/folder/r0").rename(out / "recordings/folder/r5")
    problems = check_store(str(out)).problems
    assert any(p.startswith("recordings/folder/r5: recording group on disk") for p in problems)


NODES = {  # what zarr-python adds, and the entry under recordings/ it makes
    "an array of no chunks (all its fill value)": (
        lambda root: root["recordings/folder"].create_array("mask", shape=(3, 3), dtype="f4"),
        "recordings/folder/mask",
    ),
    "an array in a corpus folder of its own": (
        lambda root: root.require_group("recordings/other").create_array(
            "data", shape=(2,), dtype="i4"
        ),
        "recordings/other/data",
    ),
    "a group with its own attributes": (
        lambda root: root.create_group("recordings/folder/notes").attrs.update({"by": "me"}),
        "recordings/folder/notes",
    ),
    "a group holding an array with chunks": (
        lambda root: root.create_group("recordings/folder/extra").create_array(
            "x", data=np.arange(6.0).reshape(2, 3)
        ),
        "recordings/folder/extra",
    ),
    "a group holding a group": (
        lambda root: root.create_group("recordings/folder/more").create_group("sub"),
        "recordings/folder/more",
    ),
}


@pytest.mark.parametrize("case", list(NODES))
def test_zarr_nodes_another_program_added_are_left_alone(tmp_path: Path, case: str) -> None:
    """Before, each was taken for what a stopped ingest leaves (validate: ``recording group on
    disk that the index does not list``, or a group that ``holds no record``), retired by the
    next ingest and deleted with its files after ``--keep-replaced``, unsaid."""
    import warnings

    import zarr

    src, out = _store(tmp_path)
    add, entry = NODES[case]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        add(zarr.open_group(str(out), mode="r+"))
    before = {p: p.read_bytes() for p in (out / entry).rglob("*") if p.is_file()}
    result = check_store(str(out))
    assert result.problems == [], result.problems
    assert any(n.startswith(f"{entry}: not a recording group") for n in result.notes)
    write_edf(src, "r0.edf", seed=7)
    for _ in range(2):
        assert not ingest_folder(src, out, keep_replaced=0.0).failed
    assert {p: p.read_bytes() for p in (out / entry).rglob("*") if p.is_file()} == before
    assert check_store(str(out)).problems == []
