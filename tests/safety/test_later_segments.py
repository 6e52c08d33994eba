"""Promise: a later index segment lost (deleted, emptied, a folder in its place) is never read
past: every reader refuses the store in one line naming the segment, rather than read the
older index the segments before it give (a recording's replaced version, a pruned one listed).

A commit writes the segment numbered after the last one and a compaction writes its base after
every segment, so from the newest base on an index eegprep writes has no gap; the root
``zarr.json`` records nothing of the index, so a deleted LAST segment reads as an ingest
stopped before that commit (``validate`` names the groups it listed, which the next ingest
lists again). An emptied segment or a folder was refused before; a deleted one between
others was read past unsaid by ``open_store``, ``eegprep stats`` and labram's windows.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from cli import eegprep_cli
from eegprep import open_store
from eegprep.base.errors import StoreFormatError
from labram.data.windows import open_stores
from tests.safety.corpus import files_under, ingest_folder, segmented_store

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # numcodecs' zarr3 codecs

SEG2, SEG3 = "0000000002.jsonl", "0000000003.jsonl"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store whose base lists r0 and r1; segment 2 lists r0's second version, 3 lists r2."""
    return segmented_store(tmp_path_factory.mktemp("later"))


def _copy(built: Path, tmp_path: Path, seg: str, how: str) -> Path:
    out = tmp_path / "s.zarr"
    shutil.copytree(built / "s.zarr", out)
    path = out / "_eegprep" / "index" / seg
    if how == "emptied":
        path.write_bytes(b"")
    else:
        path.unlink()
        if how == "folder":
            path.mkdir()
    return out


def _samples(out: Path) -> dict[str, np.ndarray]:
    store = open_store(out)
    return {r.id: store.read(r.id) for r in store}


DAMAGES = [(SEG2, "deleted"), (SEG2, "emptied"), (SEG3, "emptied"), (SEG2, "folder"),
           (SEG3, "folder")]  # fmt: skip


@pytest.mark.parametrize(("seg", "how"), DAMAGES)
def test_every_reader_refuses_a_lost_later_segment(
    built: Path, tmp_path: Path, seg: str, how: str
) -> None:
    out = _copy(built, tmp_path, seg, how)
    before = files_under(out)
    for read in (open_store, lambda s: open_stores([str(s)])):
        with pytest.raises(StoreFormatError) as refused:
            read(out)
        line = str(refused.value)
        assert "\n" not in line and seg in line and "eegprep validate" in line, line
    runner = CliRunner()
    stats = runner.invoke(eegprep_cli, ["stats", str(out)])
    assert stats.exit_code == 2 and stats.output.count("\n") == 1 and seg in stats.output
    res = runner.invoke(eegprep_cli, ["validate", str(out), "--json"])
    assert res.exit_code == 1 and any(seg in p for p in json.loads(res.output)["problems"])
    assert files_under(out) == before  # no reader changed anything


@pytest.mark.parametrize(("seg", "how"), [(SEG2, "deleted"), (SEG2, "emptied"), (SEG3, "emptied")])
def test_repair_lists_the_lost_segment_s_recordings_again(
    built: Path, tmp_path: Path, seg: str, how: str
) -> None:
    """``--repair`` lists again, from their groups, the versions the lost segment listed: the
    samples read after it are those written, none lost, and ``validate`` is clean."""
    want = _samples(built / "s.zarr")
    out = _copy(built, tmp_path, seg, how)
    ingest_folder(built / "src", out, repair=True)
    runner = CliRunner()
    res = runner.invoke(eegprep_cli, ["validate", str(out), "--json"])
    assert res.exit_code == 0, res.output
    got = _samples(out)
    assert got.keys() == want.keys()
    assert all(np.array_equal(got[k], want[k]) for k in want)


def test_a_deleted_later_segment_was_read_past_as_an_older_index(
    built: Path, tmp_path: Path
) -> None:
    """The defect: with segment 2 deleted, r0 read as its first, replaced version."""
    out = _copy(built, tmp_path, SEG2, "deleted")
    with pytest.raises(StoreFormatError, match=f"{SEG2} missing: the index goes on at {SEG3}"):
        open_store(out)


def test_an_ingest_names_the_lost_segment_and_lists_its_recordings_again(
    built: Path, tmp_path: Path
) -> None:
    """An ingest's check of what is current reads the index too: it names the lost segment
    (a warning of the store index), finds every source current, and leaves the store sound."""
    want = _samples(built / "s.zarr")
    out = _copy(built, tmp_path, SEG2, "deleted")
    report = ingest_folder(built / "src", out)
    assert any(SEG2 in w for w in report.warnings["(store index)"]), report.warnings
    assert report.n_ingested == 0
    res = CliRunner().invoke(eegprep_cli, ["validate", str(out)])
    assert res.exit_code == 0, res.output
    assert all(np.array_equal(_samples(out)[k], want[k]) for k in want)
