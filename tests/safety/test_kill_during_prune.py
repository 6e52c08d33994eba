"""Promise: a SIGKILL at any write of ``eegprep ingest --prune`` leaves no temporary file in a
recording group, and the next run ends with the store an uninterrupted prune makes, with no
temporary file anywhere in it.

The prune marks each removed recording's group with ``removed.json``; the marker's temporary
file once lay in the group itself, where no later run looked for leftovers: a kill before its
rename left ``removed.json.tmp-*`` there for good. It is now written in the staging folder,
which the next writer empties.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from eegprep import open_store
from eegprep.base.files import TMP_MARK
from eegprep.store.validate import validate
from tests.safety.corpus import ingest_folder, write_edf
from tests.safety.killing import KILLED, run, run_killed, write_calls


def _args(src: Path, out: Path) -> list[str]:
    return ["-q", "ingest", "folder", "--mains", "60", "--src", str(src), "--out", str(out),
            "--workers", "0", "--prune"]  # fmt: skip


def _pruned_store(tmp_path: Path) -> tuple[Path, Path]:
    """A store of three recordings whose first source is gone: a prune removes it."""
    src, out = tmp_path / "src", tmp_path / "base.zarr"
    for k in range(3):
        write_edf(src, f"site/r{k}.edf", seed=k)
    assert ingest_folder(src, out).n_ingested == 3
    (src / "site" / "r0.edf").unlink()
    return src, out


def _temporaries(store: Path) -> list[str]:
    """Every temporary file of an atomic write under ``store``."""
    return sorted(p.relative_to(store).as_posix() for p in store.rglob(f"*{TMP_MARK}*"))


def _in_groups(store: Path) -> list[str]:
    """The temporary files inside recording groups (``recordings/CORPUS/NAME/...``), where the
    writer's sweep of leftovers does not look."""
    return [t for t in _temporaries(store) if t.startswith("recordings/") and t.count("/") >= 3]


def _after_rerun(src: Path, out: Path) -> set[str]:
    done = run(_args(src, out))
    assert done.returncode == 0, done.stderr
    assert _temporaries(out) == []
    assert validate(str(out)) == (2, [])
    return set(open_store(out).index_rows())


def test_a_kill_before_the_removed_markers_rename_leaves_nothing_in_the_group(
    tmp_path: Path,
) -> None:
    src, out = _pruned_store(tmp_path)
    killed = run_killed(_args(src, out), out, ("replace", r"removed\.json\.tmp-"))
    assert killed.returncode == KILLED
    assert _in_groups(out) == []  # (the marker's was in the staging folder)
    assert _after_rerun(src, out) == {"folder/site_r1", "folder/site_r2"}


def test_a_marker_temporary_an_earlier_version_left_in_a_group_is_removed(
    tmp_path: Path,
) -> None:
    src, out = _pruned_store(tmp_path)
    group = out / "recordings" / "folder" / "site_r0"
    (group / f"removed.json{TMP_MARK}0123abcd").write_text('{"id": "folder/site_r0"}')
    assert _after_rerun(src, out) == {"folder/site_r1", "folder/site_r2"}


@pytest.mark.slow
def test_a_kill_at_every_write_of_a_prune(tmp_path: Path) -> None:
    src, base = _pruned_store(tmp_path)
    counted = tmp_path / "count.zarr"
    shutil.copytree(base, counted)
    calls = write_calls(_args(src, counted), counted, tmp_path / "calls.log")
    assert any("removed.json" in c for c in calls)
    for k, call in enumerate(calls, start=1):
        out = tmp_path / "t.zarr"
        shutil.rmtree(out, ignore_errors=True)
        shutil.copytree(base, out)
        assert run_killed(_args(src, out), out, k).returncode == KILLED, call
        assert _in_groups(out) == [], call
        assert _after_rerun(src, out) == {"folder/site_r1", "folder/site_r2"}, call
