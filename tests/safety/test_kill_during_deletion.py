"""Promise: a SIGKILL at any write of the ingest that deletes an expired retired group leaves a
store that ``eegprep validate`` finds sound, and the next run ends the deletion.

Each entry of ``_eegprep/retired.json`` states the checksum of the ``record.json`` the writer
put in its group, so that a ``record.json`` lost alone is reported. The deletion removes that
file first: killed right after, the entry would still claim it, and validate would call the
store damaged. The entry is now written without the checksum before anything is deleted.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from eegprep.store.validate import check_store
from tests.safety.corpus import ingest_folder, write_edf
from tests.safety.killing import KILLED, run, run_killed, write_calls

OLD = "recordings/folder/r0"  # retired by the re-ingest, deleted by the next ingest


def _args(src: Path, out: Path) -> list[str]:
    return ["-q", "ingest", "folder", "--mains", "60", "--src", str(src), "--out", str(out),
            "--workers", "0", "--keep-replaced", "0"]  # fmt: skip


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A store whose ``r0`` has a retired version, its entry stating its ``record.json``."""
    root = tmp_path_factory.mktemp("deletion")
    src, out = root / "src", root / "base.zarr"
    for i in range(2):
        write_edf(src, f"r{i}.edf", seed=i)
    ingest_folder(src, out)
    write_edf(src, "r0.edf", seed=7)
    ingest_folder(src, out)
    rows = json.loads((out / "_eegprep" / "retired.json").read_text())["retired"]
    assert [row[0] for row in rows] == [OLD] and rows[0][2] is not None
    return src, out


def _deletion_calls(src: Path, base: Path, tmp_path: Path) -> list[int]:
    """The numbers of the writes that delete the retired group or rewrite the retired list."""
    counted = tmp_path / "count.zarr"
    shutil.copytree(base, counted)
    calls = write_calls(_args(src, counted), counted, tmp_path / "calls.log")
    return [k for k, c in enumerate(calls, start=1) if OLD in c or "retired.json" in c]


def _killed_at(src: Path, base: Path, tmp_path: Path, k: int) -> Path:
    out = tmp_path / "t.zarr"
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(base, out)
    assert run_killed(_args(src, out), out, k).returncode == KILLED, k
    return out


def _ends_sound(src: Path, out: Path, what: str) -> None:
    assert check_store(str(out)).problems == [], what
    done = run(_args(src, out))
    assert done.returncode == 0, done.stderr
    result = check_store(str(out))
    assert (result.checked, result.retired, result.problems) == (2, 0, []), what
    assert not (out / OLD).exists(), what


def test_a_kill_right_after_a_retired_groups_record_json_is_deleted(
    base: tuple[Path, Path], tmp_path: Path
) -> None:
    src, store = base
    out = tmp_path / "t.zarr"
    shutil.copytree(store, out)
    killed = run_killed(_args(src, out), out, ("unlink", rf"{OLD}/zarr\.json$"))
    assert killed.returncode == KILLED
    assert not (out / OLD / "record.json").exists() and (out / OLD / "zarr.json").exists()
    _ends_sound(src, out, "after record.json")


@pytest.mark.slow
def test_a_kill_at_every_write_of_a_retired_groups_deletion(
    base: tuple[Path, Path], tmp_path: Path
) -> None:
    src, store = base
    numbers = _deletion_calls(src, store, tmp_path)
    assert len(numbers) >= 4, numbers  # the list cleared, record.json, zarr.json, the folder
    for k in numbers:
        _ends_sound(src, _killed_at(src, store, tmp_path, k), f"killed at write {k}")
