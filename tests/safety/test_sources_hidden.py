"""Listed recordings whose sources are missing behind a folder that hides what it held (an
empty folder, a mount point with nothing on it: a second disk not mounted) are kept and named
on one note line per folder, never pruned; a folder that no longer exists prunes as before."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import eegprep_cli
from eegprep import open_store
from eegprep.ingestion.driver import GONE
from eegprep.store.validate import validate
from tests.safety.corpus import ingest_folder, write_edf


def _corpus(tmp_path: Path, disk: str = "disk2") -> tuple[Path, Path]:
    """3 recordings under ``here/``, 2 under ``disk`` (the folder a second disk is mounted on)."""
    src, out = tmp_path / "src", tmp_path / "s.zarr"
    for k in range(3):
        write_edf(src, f"here/r{k}.edf", seed=k)
    for k in range(2):
        write_edf(src, f"{disk}/r{k}.edf", seed=10 + k)
    assert ingest_folder(src, out).n_ingested == 5
    return src, out


def _unmount(folder: Path) -> None:
    """What an unmounted disk leaves: its mount point, an empty folder."""
    for p in sorted(folder.rglob("*"), reverse=True):
        p.rmdir() if p.is_dir() else p.unlink()


def test_an_empty_folder_keeps_its_recordings_until_it_is_removed(tmp_path: Path) -> None:
    """2 of 5 recordings (under --prune-max 0.5) behind an empty folder were pruned: the
    folder of a second disk, not mounted, reads as a folder whose files were all deleted."""
    src, out = _corpus(tmp_path)
    _unmount(src / "disk2")
    rep = ingest_folder(src, out, prune=True)
    assert rep.n_removed == 0 and len(open_store(out)) == 5
    (line,) = rep.warnings[GONE]
    assert line == (
        "2 listed recordings kept, their sources are under disk2, an empty folder (a disk not "
        "mounted?): folder/disk2_r0, folder/disk2_r1; mount it, or if they are gone, remove "
        "the folder to prune them"
    )
    (src / "here" / "r0.edf").unlink()  # a file truly deleted beside it is still pruned
    rep = ingest_folder(src, out, prune=True)
    assert rep.n_removed == 1 and "folder/here_r0" not in open_store(out).index_rows()
    assert any("under disk2, an empty folder" in n for n in rep.warnings[GONE])
    (src / "disk2").rmdir()  # the user says they are gone: the folder no longer exists
    rep = ingest_folder(src, out, prune=True)
    assert rep.n_removed == 2
    assert set(open_store(out).index_rows()) == {"folder/here_r1", "folder/here_r2"}
    assert validate(str(out)) == (2, [])


def test_a_folder_emptied_deep_in_the_path_is_named_at_its_top(tmp_path: Path) -> None:
    src, out = _corpus(tmp_path, disk="disk2/site/a")
    _unmount(src / "disk2")
    rep = ingest_folder(src, out, prune=True)
    assert rep.n_removed == 0
    (line,) = rep.warnings[GONE]
    assert "their sources are under disk2, an empty folder" in line


def test_a_folder_with_the_disk_back_ingests_nothing_again(tmp_path: Path) -> None:
    src, out = _corpus(tmp_path)
    (src / "disk2").rename(tmp_path / "mounted")
    (src / "disk2").mkdir()  # unmounted
    assert ingest_folder(src, out, prune=True).n_removed == 0
    (src / "disk2").rmdir()
    (tmp_path / "mounted").rename(src / "disk2")  # mounted again
    rep = ingest_folder(src, out, prune=True)
    assert (rep.n_ingested, rep.n_removed, rep.n_current, GONE in rep.warnings) == (0, 0, 5, False)


@pytest.mark.parametrize("content", [(), ("lost+found",)])
def test_a_mount_point_with_nothing_on_it_keeps_its_recordings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: tuple[str, ...]
) -> None:
    """An automounted share not mounted, or a fresh disk mounted in place of the corpus's
    (only its ``lost+found``)."""
    src, out = _corpus(tmp_path)
    _unmount(src / "disk2")
    for name in content:
        (src / "disk2" / name).mkdir()
    real = os.path.ismount
    mount = str(src / "disk2")
    monkeypatch.setattr(os.path, "ismount", lambda p: str(p).rstrip("/") == mount or real(p))
    rep = ingest_folder(src, out, prune=True)
    assert rep.n_removed == 0 and len(open_store(out)) == 5
    (line,) = rep.warnings[GONE]
    what = "a mount point with nothing on it" + (" but lost+found" if content else "")
    assert f"their sources are under disk2, {what} (a disk not mounted?)" in line
    assert "folder/disk2_r0, folder/disk2_r1" in line


def test_a_folder_holding_only_lost_and_found_but_no_mount_point_prunes(tmp_path: Path) -> None:
    src, out = _corpus(tmp_path)
    _unmount(src / "disk2")
    (src / "disk2" / "lost+found").mkdir()
    rep = ingest_folder(src, out, prune=True)
    assert rep.n_removed == 2 and len(open_store(out)) == 3


def test_each_hiding_folder_is_one_note_line_capped(tmp_path: Path) -> None:
    """One console note line per folder (its first 3 recordings named), the first 5 folders;
    one more line for the rest."""
    src, out = tmp_path / "src", tmp_path / "s.zarr"
    for k in range(8):
        write_edf(src, f"keep/r{k}.edf", seed=k)
    for d in range(7):
        for k in range(2 if d else 4):
            write_edf(src, f"d{d}/r{k}.edf", seed=20 + 4 * d + k)
    assert ingest_folder(src, out).n_ingested == 8 + 4 + 6 * 2
    for d in range(7):
        _unmount(src / f"d{d}")
    result = CliRunner().invoke(
        eegprep_cli,
        ["ingest", "folder", "--src", str(src), "--out", str(out), "--mains", "60",
         "--workers", "0", "--prune"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    notes = [ln for ln in result.output.splitlines() if ln.startswith("note:")]
    assert len(notes) == 6
    assert notes[0].startswith("note: 4 listed recordings kept, their sources are under d0, an")
    assert "folder/d0_r0, folder/d0_r1, folder/d0_r2, ...;" in notes[0]
    assert [n.split(" under ")[1].split(",")[0] for n in notes[1:5]] == ["d1", "d2", "d3", "d4"]
    assert notes[5] == (
        "note: 4 more listed recordings kept, their sources under 2 more such folders: d5, d6"
    )
    assert len(open_store(out)) == 8 + 4 + 6 * 2
