"""Promise: the index segment the last commit wrote, lost (deleted, replaced by an older copy,
cut at a line's end), is never read past: every reader refuses the store in one line naming
it, ``validate`` reports it as damage (not as an ingest stopped mid-commit) and says
``--repair`` mends it, and the repair lists its recordings again from their groups and says so.

Each commit (and each compaction) names the newest segment, its size and CRC-32C in
``_eegprep/index/head.json``, written after the segment: an ingest killed between the two
leaves a head that names the segment before, which is sound. A store written before the head
(none there) is read as before. Before it, a deleted last segment read as an ingest stopped
before that commit: ``stats`` and the training windows read fewer recordings, unsaid.
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
from eegprep.store.validate_mends import MENDS
from labram.data.windows import open_stores
from tests.safety.corpus import files_under, ingest_folder, segmented_store, write_edf
from tests.safety.killing import KILLED, run_killed

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # numcodecs' zarr3 codecs

INDEX = "_eegprep/index/"
HEAD = "_eegprep/index/head.json"
BASE, SEG2, SEG3 = "0000000001.jsonl", "0000000002.jsonl", "0000000003.jsonl"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store whose base lists r0 and r1; segment 2 lists r0's second version, segment 3
    (the last) lists r2 and r3."""
    root = segmented_store(tmp_path_factory.mktemp("last"), last=2)
    assert len((root / "s.zarr" / INDEX / SEG3).read_bytes().splitlines()) == 2
    return root


def _damage(out: Path, how: str) -> None:
    path = out / INDEX / SEG3
    if how == "deleted":
        path.unlink()
    elif how == "an older copy":
        path.write_bytes((out / INDEX / SEG2).read_bytes())
    else:  # cut at a line's end: a valid, shorter segment
        path.write_bytes(path.read_bytes().splitlines(keepends=True)[0])


def _copy(built: Path, tmp_path: Path) -> Path:
    out = tmp_path / "s.zarr"
    shutil.copytree(built / "s.zarr", out)
    return out


def _samples(out: Path) -> dict[str, np.ndarray]:
    store = open_store(out)
    return {r.id: store.read(r.id) for r in store}


def _problems(out: Path) -> tuple[int, list[str]]:
    res = CliRunner().invoke(eegprep_cli, ["validate", str(out), "--json"])
    return res.exit_code, json.loads(res.output)["problems"]


HOWS = ["deleted", "an older copy", "cut at a line"]


@pytest.mark.parametrize("how", HOWS)
def test_every_reader_refuses_a_lost_last_segment(built: Path, tmp_path: Path, how: str) -> None:
    out = _copy(built, tmp_path)
    _damage(out, how)
    before = files_under(out)
    for read in (open_store, lambda s: open_stores([str(s)])):
        with pytest.raises(StoreFormatError) as refused:
            read(out)
        line = str(refused.value)
        assert "\n" not in line and SEG3 in line and "eegprep validate" in line, line
        assert "--repair" in line, line
    stats = CliRunner().invoke(eegprep_cli, ["stats", str(out)])
    assert stats.exit_code == 2 and stats.output.count("\n") == 1 and SEG3 in stats.output
    status, problems = _problems(out)
    named = [p for p in problems if p.startswith(INDEX + SEG3)]
    assert status == 1 and named and all(p.endswith(MENDS) for p in named), problems
    assert files_under(out) == before  # no reader changed anything


@pytest.mark.parametrize("how", HOWS)
def test_repair_lists_the_last_segment_s_recordings_again_and_says_so(
    built: Path, tmp_path: Path, how: str
) -> None:
    want = _samples(built / "s.zarr")
    out = _copy(built, tmp_path)
    _damage(out, how)
    report = ingest_folder(built / "src", out, repair=True)
    said = report.warnings["(store index)"]
    assert any(SEG3 in w for w in said), said
    assert any(w.startswith("folder/r3: listed again") for w in said), said
    assert report.n_ingested == 0
    assert _problems(out) == (0, [])
    got = _samples(out)
    assert got.keys() == want.keys()
    assert all(np.array_equal(got[k], want[k]) for k in want)


def test_a_compacted_base_replaced_by_an_older_one_is_refused(tmp_path: Path) -> None:
    """The base of a compacted store (the only segment) restored from an earlier backup, its
    fields file with it: read past, the index was the older one (r2 gone, unsaid)."""
    src, out = tmp_path / "src", tmp_path / "s.zarr"
    for i in range(2):
        write_edf(src, f"r{i}.edf", seed=i)
    ingest_folder(src, out)
    backup = {n: (out / INDEX / n).read_bytes() for n in (BASE, "0000000001.fields")}
    write_edf(src, "r2.edf", seed=2)
    ingest_folder(src, out)
    assert sorted(p.name for p in (out / INDEX).iterdir()) == sorted([*backup, "head.json"])
    assert _problems(out) == (0, [])  # the compaction's head names its base
    for name, blob in backup.items():
        (out / INDEX / name).write_bytes(blob)
    with pytest.raises(StoreFormatError, match=f"{BASE}: not the segment the last commit"):
        open_store(out)
    status, problems = _problems(out)
    assert status == 1 and any(p.startswith(INDEX + BASE) for p in problems), problems
    ingest_folder(src, out, repair=True)
    assert _problems(out) == (0, [])
    assert [r.id for r in open_store(out)] == ["folder/r0", "folder/r1", "folder/r2"]


def _args(src: Path, out: Path) -> list[str]:
    return ["-q", "ingest", "folder", "--mains", "60", "--src", str(src), "--out", str(out),
            "--workers", "0", "--commit-every", "1"]  # fmt: skip


@pytest.mark.parametrize("which", ["first", "last"])
def test_a_kill_before_the_head_is_written_leaves_a_sound_store(
    built: Path, tmp_path: Path, which: str
) -> None:
    """Killed right before the head is written (``first``: after a commit's segment, which
    the head does not name yet; ``last``: after the final compaction's renames, the head
    naming the base by its number before them): every reader opens the store, and a re-run
    ends with the store an uninterrupted ingest makes."""
    src = tmp_path / "src"
    shutil.copytree(built / "src", src)
    write_edf(src, "r4.edf", seed=4)
    out, ref, logged = _copy(built, tmp_path), tmp_path / "ref.zarr", tmp_path / "log.zarr"
    shutil.copytree(out, ref)
    shutil.copytree(out, logged)
    log = tmp_path / "writes.txt"
    assert run_killed(_args(src, logged), logged, 0, log).returncode == 0
    heads = [i for i, w in enumerate(log.read_text().splitlines(), 1) if w.endswith(f"-> {HEAD}")]
    assert len(heads) >= 2, log.read_text()
    at = heads[0] if which == "first" else heads[-1]
    assert run_killed(_args(src, out), out, at).returncode == KILLED
    assert "folder/r4" in [r.id for r in open_store(out)]
    ingest_folder(src, ref)
    ingest_folder(src, out)
    assert (out / HEAD).read_bytes() == (ref / HEAD).read_bytes()
    assert _problems(out) == (0, [])


def test_a_store_written_before_the_head_opens_as_before(built: Path, tmp_path: Path) -> None:
    """No head (a store written before it): its last segment lost is read past as before
    (nothing records it), and the next ingest writes the head."""
    out = _copy(built, tmp_path)
    (out / HEAD).unlink()
    assert _problems(out) == (0, [])
    (out / INDEX / SEG3).unlink()
    assert [r.id for r in open_store(out)] == ["folder/r0", "folder/r1"]
    ingest_folder(built / "src", out)
    assert (out / HEAD).is_file()
    assert _problems(out) == (0, [])
    assert len(list(open_store(out))) == 4


def test_a_damaged_head_is_reported_and_written_again(built: Path, tmp_path: Path) -> None:
    """A flipped bit in the head: readers read the index as before (they cannot check it),
    ``validate`` names the file, and the next ingest writes it again."""
    out = _copy(built, tmp_path)
    blob = bytearray((out / HEAD).read_bytes())
    blob[blob.index(b'"size": ') + 8] ^= 1  # a digit of the size
    (out / HEAD).write_bytes(bytes(blob))
    assert len(list(open_store(out))) == 4
    status, problems = _problems(out)
    assert status == 1 and any(p.startswith(HEAD) and p.endswith(MENDS) for p in problems)
    ingest_folder(built / "src", out, repair=True)
    assert _problems(out) == (0, [])
