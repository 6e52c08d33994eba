"""Listed recordings whose source file is gone (renamed, moved, deleted): kept and named, or
removed with ``--prune``; a renamed file is recognised by its bytes; a wrong ``--src`` prunes
nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from cli import eegprep_cli
from eegprep import open_store
from eegprep.ingestion.driver import GONE, ingest
from eegprep.store.validate import validate
from tests.safety.corpus import folder_config, ingest_folder, write_edf


def _corpus(tmp_path: Path) -> tuple[Path, Path]:
    src, out = tmp_path / "src", tmp_path / "s.zarr"
    for k in range(3):
        write_edf(src, f"site/r{k}.edf", seed=k)
    assert ingest_folder(src, out).n_ingested == 3
    return src, out


def test_a_renamed_source_is_named_and_pruned(tmp_path: Path) -> None:
    src, out = _corpus(tmp_path)
    before = open_store(out)
    old = before.read("folder/site_r1")
    (src / "moved").mkdir()
    shutil.move(src / "site" / "r1.edf", src / "moved" / "r1.edf")

    rep = ingest_folder(src, out)
    assert (rep.n_ingested, rep.n_current, rep.n_removed) == (1, 2, 0)
    assert "folder/site_r1" in rep.warnings[GONE][0] and "--prune" in rep.warnings[GONE][0]
    (twin,) = rep.warnings["moved/r1.edf"]
    assert "the same bytes as folder/site_r1" in twin
    store = open_store(out)
    new = "folder/moved_r1"
    assert {"folder/site_r0", "folder/site_r1", "folder/site_r2", new} == set(store.index_rows())
    assert np.array_equal(store.read(new), old)

    rep = ingest_folder(src, out, prune=True)
    assert (rep.n_ingested, rep.n_current, rep.n_removed) == (0, 3, 1)
    store = open_store(out)
    assert set(store.index_rows()) == {"folder/site_r0", new, "folder/site_r2"}
    assert validate(str(out)) == (3, [])
    assert np.array_equal(before.read("folder/site_r1"), old)  # a reader of the old index reads on
    retired = (out / "_eegprep" / "retired.json").read_text()
    assert "recordings/folder/site_r1" in retired

    rep = ingest_folder(src, out, keep_replaced=0.0)  # the retired group is then deleted
    assert (rep.n_current, rep.n_removed, GONE in rep.warnings) == (3, 0, False)
    assert not (out / "recordings" / "folder" / "r1").exists()
    assert validate(str(out)) == (3, [])


def test_a_deleted_source_is_kept_until_pruned(tmp_path: Path) -> None:
    src, out = _corpus(tmp_path)
    (src / "site" / "r0.edf").unlink()
    rep = ingest_folder(src, out)
    assert (rep.exit_code, rep.n_current, rep.n_removed) == (0, 2, 0)
    assert "1 listed recording has no source" in rep.warnings[GONE][0]
    assert "folder/site_r0" in open_store(out).index_rows()
    result = CliRunner().invoke(
        eegprep_cli,
        ["ingest", "folder", "--src", str(src), "--out", str(out), "--mains", "60",
         "--workers", "0", "--prune"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "note: 1 recording removed" in result.output
    assert "2 already current, 1 removed," in result.output
    assert "folder/site_r0" not in open_store(out).index_rows()


def test_a_wrong_src_prunes_nothing(tmp_path: Path) -> None:
    _, out = _corpus(tmp_path)
    other = tmp_path / "other"
    write_edf(other, "x.edf", seed=9)
    rep = ingest_folder(other, out, prune=True)
    assert (rep.n_ingested, rep.n_removed) == (1, 0)
    assert rep.warnings[GONE][0].startswith(  # (the folder they were ingested from is named)
        f"3 listed recordings have no source under {other} but do under {tmp_path / 'src'}"
    )
    shutil.rmtree(tmp_path / "src")  # (no folder holds them now: x.edf is listed too)
    rep = ingest_folder(other, out, prune=True)
    assert rep.warnings[GONE][0].startswith("not pruned: 3 of the 4 listed recordings")
    listed = set(open_store(out).index_rows())
    assert listed == {"folder/site_r0", "folder/site_r1", "folder/site_r2", "folder/x"}
    assert validate(str(out)) == (4, [])


def test_a_wrong_src_sharing_some_names_prunes_nothing(tmp_path: Path) -> None:
    """Another dataset, a partial copy or a half-mounted share: more than --prune-max of the
    corpus looks gone, so nothing is removed until the user says so."""
    src, out = _corpus(tmp_path)
    write_edf(src, "site/r3.edf", seed=3)
    ingest_folder(src, out)
    other = tmp_path / "other"
    write_edf(other, "site/r0.edf", seed=0)  # the same file name, the same bytes
    rep = ingest_folder(other, out, prune=True, prune_max=1.0)
    assert rep.n_removed == 0  # (their files are all under src, which they were ingested from)
    assert rep.warnings[GONE][0].startswith(f"3 listed recordings have no source under {other}")
    shutil.rmtree(src)
    rep = ingest_folder(other, out, prune=True)
    assert rep.n_removed == 0
    assert rep.warnings[GONE][0].startswith("not pruned: 3 of the 4 listed recordings")
    assert len(open_store(out).index_rows()) == 4
    rep = ingest_folder(other, out, prune=True, prune_max=1.0)
    assert rep.n_removed == 3
    assert set(open_store(out).index_rows()) == {"folder/site_r0"}


def test_a_source_that_cannot_be_checked_is_not_gone(tmp_path: Path, monkeypatch) -> None:
    import errno
    import os

    src, out = _corpus(tmp_path)
    real = os.lstat

    def lstat(path, *args, **kwargs):  # type: ignore[no-untyped-def]
        if str(path).endswith("r1.edf"):
            raise OSError(errno.ESTALE, "Stale file handle", str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os, "lstat", lstat)
    (src / "site" / "r2.edf").unlink()
    rep = ingest_folder(src, out, prune=True)
    assert rep.n_removed == 1
    assert any("could not be checked, kept: folder/site_r1" in n for n in rep.warnings[GONE])
    assert set(open_store(out).index_rows()) == {"folder/site_r0", "folder/site_r1"}


def test_an_unreadable_folder_is_reported_not_gone(tmp_path: Path, monkeypatch) -> None:
    """A folder that cannot be listed (permissions, a stale mount): discovery names it (exit
    status 3), and the recordings under it are kept."""
    import errno
    import os

    src, out = _corpus(tmp_path)
    write_edf(src, "locked/r9.edf", seed=9)
    ingest_folder(src, out)
    real_scandir, real_lstat = os.scandir, os.lstat

    def refused(path: object) -> OSError:
        return PermissionError(errno.EACCES, "Permission denied", str(path))

    def scandir(path=".", *args, **kwargs):  # type: ignore[no-untyped-def]
        if str(path).rstrip("/").endswith("locked"):
            raise refused(path)
        return real_scandir(path, *args, **kwargs)

    def lstat(path, *args, **kwargs):  # type: ignore[no-untyped-def]
        if "/locked/" in str(path):
            raise refused(path)
        return real_lstat(path, *args, **kwargs)

    monkeypatch.setattr(os, "scandir", scandir)
    monkeypatch.setattr(os, "lstat", lstat)
    rep = ingest_folder(src, out, prune=True)
    assert rep.exit_code == 3
    assert any(u.startswith("locked/: cannot list this folder") for u in rep.unmatched)
    assert rep.n_removed == 0 and "folder/locked_r9" in open_store(out).index_rows()


def test_a_pruned_recording_is_not_listed_again_when_retired_json_is_lost(tmp_path: Path) -> None:
    from eegprep.store.fs import Location
    from eegprep.store.index import compact

    src, out = _corpus(tmp_path)
    (src / "site" / "r1.edf").unlink()
    assert ingest_folder(src, out, prune=True).n_removed == 1
    compact(Location.parse(str(out)))  # the deletion mark is gone from the index
    (out / "_eegprep" / "retired.json").write_bytes(b"\x00garbage")
    rep = ingest_folder(src, out)
    assert "folder/site_r1" not in open_store(out).index_rows()
    assert not any("listed again" in w for w in rep.warnings.get("(store index)", []))


def test_sources_behind_a_link_to_nothing_are_kept_not_pruned(tmp_path: Path) -> None:
    """A corpus folder that is a link to another disk (``site -> /mnt/disk2/site``): with that
    disk not mounted, every file behind the link read as gone, and ``--prune`` removed their
    recordings without a word about the link (3 of 8 demo recordings; the share guard counts
    the whole corpus, and one such folder of many passes it)."""
    src, out = tmp_path / "src", tmp_path / "s.zarr"
    disk = tmp_path / "disk2"
    for k in range(2):
        write_edf(disk, f"r{k}.edf", seed=k)
    for k in range(3):
        write_edf(src, f"here/r{k}.edf", seed=10 + k)
    (src / "site").symlink_to(disk, target_is_directory=True)
    assert ingest_folder(src, out).n_ingested == 5
    disk.rename(tmp_path / "unmounted")  # the link now leads nowhere
    rep = ingest_folder(src, out, prune=True)
    assert rep.n_removed == 0 and len(open_store(out)) == 5
    (line,) = rep.warnings[GONE]
    assert line.startswith("2 listed recordings kept, their sources are under site, a link whose")
    assert "target is missing (a disk not mounted?): folder/site_r0, folder/site_r1;" in line
    assert line.endswith("remove the link to prune them")
    # a file truly deleted beside it is still pruned
    (src / "here" / "r0.edf").unlink()
    rep = ingest_folder(src, out, prune=True)
    assert rep.n_removed == 1 and len(open_store(out)) == 4
    # the disk back: nothing to ingest again
    (tmp_path / "unmounted").rename(disk)
    rep = ingest_folder(src, out, prune=True)
    assert (rep.n_ingested, rep.n_removed, rep.n_current) == (0, 0, 4)


def _tuh_corpus(tmp_path: Path) -> tuple[Path, Path]:
    """Three TUH files: two in one session folder, one in another; ingested."""
    src, out = tmp_path / "tuh", tmp_path / "s.zarr"
    for k, rel in enumerate(("s001_2010/01_tcp_ar/x_s001_t000", "s001_2010/01_tcp_ar/x_s001_t001",
                             "s002_2011/01_tcp_ar/x_s002_t000")):  # fmt: skip
        write_edf(src, f"edf/000/aaaaaaaa/{rel.replace('x_', 'aaaaaaaa_')}.edf", seed=k)
    rep = ingest("tuh", src=src, out=out, config=folder_config())
    assert rep.n_ingested == 3
    return src, out


@pytest.mark.parametrize(
    "name, folder",
    [("aaaaaaaa_s001_t000", "s001_2010/01_tcp_ar"), ("aaaaaaaa_s002_t000", "s002_2011/01_tcp_ar")],
    ids=["folder-kept", "folder-emptied"],
)
def test_a_source_moved_to_another_folder_keeps_its_recording(
    tmp_path: Path, name: str, folder: str
) -> None:
    """A file moved to another session's or montage's folder keeps the name the manifest
    gives it: it is its recording, ingested again from its new path (its fields from it), never
    listed beside the stale one under a suffixed name (two records of one source: `validate`
    reported them, training read them twice), whether its old folder still holds files
    (the stale one was named gone) or not (kept as behind a disk not mounted)."""
    src, out = _tuh_corpus(tmp_path)
    rid = f"tuh/{name}"
    before = open_store(out)
    old = before.read(rid)
    moved = f"edf/000/aaaaaaaa/s005_2012/02_tcp_le/{name}.edf"
    (src / moved).parent.mkdir(parents=True)
    shutil.move(src / f"edf/000/aaaaaaaa/{folder}/{name}.edf", src / moved)

    rep = ingest("tuh", src=src, out=out, config=folder_config(prune=True))
    assert (rep.n_ingested, rep.n_current, rep.n_removed) == (1, 2, 0)
    assert set(rep.warnings) == {moved}
    (line,) = rep.warnings[moved]
    assert f"moved from edf/000/aaaaaaaa/{folder}/{name}.edf" in line and rid in line
    store = open_store(out)
    assert len(store.index_rows()) == 3 and rid in store.index_rows()
    row = store.index_rows()[rid]
    assert (row["source"], row["session"], row["labels"]["montage"]) == (moved, "s005", "02_tcp_le")
    assert np.array_equal(store.read(rid), old)
    assert np.array_equal(before.read(rid), old)  # a reader of the old index reads on
    assert validate(str(out)) == (3, [])
    again = ingest("tuh", src=src, out=out, config=folder_config())
    assert (again.n_ingested, again.n_current, again.warnings) == (0, 3, {})


def test_a_moved_source_with_other_bytes_is_another_recording(tmp_path: Path) -> None:
    """Only the bytes of the gone source make a file of its name that recording: a file of
    that name with other bytes is ingested under a name of its own, the gone one named."""
    src, out = _tuh_corpus(tmp_path)
    (src / "edf/000/aaaaaaaa/s001_2010/01_tcp_ar/aaaaaaaa_s001_t000.edf").unlink()
    write_edf(src, "edf/000/aaaaaaaa/s009_2013/01_tcp_ar/aaaaaaaa_s001_t000.edf", seed=9)
    rep = ingest("tuh", src=src, out=out, config=folder_config())
    assert (rep.n_ingested, rep.n_current) == (1, 2)
    assert "tuh/aaaaaaaa_s001_t000" in rep.warnings[GONE][0]
    assert len(open_store(out).index_rows()) == 4


def test_a_copied_source_is_named_as_the_same_recording(tmp_path: Path) -> None:
    """A file copied under another name (both there) is listed under both, which `validate`
    reports as one source listed twice and the training split check refuses: the ingest that
    lists the copy says so, naming the recording it copies (it said nothing)."""
    src, out = _corpus(tmp_path)
    shutil.copy2(src / "site" / "r1.edf", src / "site" / "r1_copy.edf")
    rep = ingest_folder(src, out)
    assert (rep.n_ingested, rep.n_current, GONE in rep.warnings) == (1, 3, False)
    (line,) = rep.warnings["site/r1_copy.edf"]
    assert "the same bytes as folder/site_r1 (from site/r1.edf, also listed)" in line
    n, problems = validate(str(out))
    assert n == 4 and any("folder/site_r1_copy" in p for p in problems)  # what the line warns of
    rep = ingest_folder(src, out, verify_checksums=True)
    assert (rep.n_ingested, rep.n_current, rep.warnings) == (0, 4, {})


def test_prune_removes_nothing_another_folder_of_the_corpus_still_holds(tmp_path: Path) -> None:
    """Two folders ingested into one store under one manifest name (a second corpus, or a
    sub-folder of the first given as --src): the first's recordings have no source under the
    second, yet their files are all there. `--prune` from the second removed every one of them
    (half the corpus passed --prune-max 0.5); they are kept, one note naming the folder, until
    that folder no longer holds them."""
    a, b, out = tmp_path / "a", tmp_path / "b", tmp_path / "s.zarr"
    for k in range(2):
        write_edf(a, f"one/r{k}.edf", seed=k)
        write_edf(b, f"two/r{k}.edf", seed=10 + k)
    assert ingest_folder(a, out).n_ingested == 2
    assert ingest_folder(b, out).n_ingested == 2
    rep = ingest_folder(b, out, prune=True)
    assert (rep.n_current, rep.n_removed) == (2, 0)
    (note,) = rep.warnings[GONE]
    assert note.startswith(f"2 listed recordings have no source under {b} but do under {a}")
    assert len(open_store(out).index_rows()) == 4
    shutil.rmtree(a / "one")  # (now they are gone)
    rep = ingest_folder(b, out, prune=True)
    assert (rep.n_current, rep.n_removed) == (2, 2)
    assert set(open_store(out).index_rows()) == {"folder/two_r0", "folder/two_r1"}


def test_a_file_deleted_from_a_copy_of_the_corpus_is_pruned(tmp_path: Path) -> None:
    """The corpus copied to another folder (the first still there) and a file deleted from the
    copy: that file is gone, though the first folder holds it. A folder this one is a copy of
    holds most of the sources that are here too, and does not keep the gone ones."""
    src, out = _corpus(tmp_path)
    copy = tmp_path / "copy"
    shutil.copytree(src, copy)
    (copy / "site" / "r2.edf").unlink()
    rep = ingest_folder(copy, out, prune=True)
    assert (rep.n_current, rep.n_removed) == (2, 1)
    assert set(open_store(out).index_rows()) == {"folder/site_r0", "folder/site_r1"}


@pytest.mark.parametrize("how", ["symlink", "hardlink", "symlink, same bytes"])
def test_a_source_made_a_second_name_of_another_file_is_not_left_listed_unsaid(
    tmp_path: Path, how: str
) -> None:
    """A listed source replaced by a link to another file of the corpus (a dedupe tool's hard
    link, a symbolic link) is that file's second name, which discovery skips (ingested once,
    under its first name): its recording, listed from bytes its path no longer holds, was
    neither ingested again, called gone nor named (nor pruned)."""
    src, out = _corpus(tmp_path)
    r1, r2 = src / "site" / "r1.edf", src / "site" / "r2.edf"
    if how == "symlink, same bytes":
        shutil.copyfile(r1, r2)  # the same bytes: a duplicate a dedupe tool links
        assert ingest_folder(src, out).n_ingested == 1
    r2.unlink()
    (r2.symlink_to(r1) if how.startswith("symlink") else r2.hardlink_to(r1))

    rep = ingest_folder(src, out)
    assert (rep.n_ingested, rep.n_current) == (0, 2), rep.to_dict()
    (line,) = [w for w in rep.warnings[GONE] if "folder/site_r2" in w]
    assert "site/r1.edf" in line and "--prune" in line
    rep = ingest_folder(src, out, prune=True)
    assert (rep.n_ingested, rep.n_current, rep.n_removed) == (0, 2, 1)
    assert set(open_store(out).index_rows()) == {"folder/site_r0", "folder/site_r1"}
    assert validate(str(out)) == (2, [])


def test_sources_under_a_folder_made_a_second_name_of_another_are_not_left_listed_unsaid(
    tmp_path: Path,
) -> None:
    """A folder of listed sources replaced by a link to another folder of the corpus holding
    files of the same names: the walk lists that folder once, under its own name, and the
    recordings under the link's name stayed listed from their old bytes, unsaid and unpruned."""
    src, out = tmp_path / "src", tmp_path / "s.zarr"
    for k in range(2):
        write_edf(src, f"a/r{k}.edf", seed=k)
        write_edf(src, f"b/r{k}.edf", seed=10 + k)
    write_edf(src, "c/r0.edf", seed=20)
    assert ingest_folder(src, out).n_ingested == 5
    shutil.rmtree(src / "b")
    (src / "b").symlink_to(src / "a")

    rep = ingest_folder(src, out)
    assert (rep.n_ingested, rep.n_current) == (0, 3), rep.to_dict()
    lines = [w for w in rep.warnings[GONE] if "second name" in w]
    assert len(lines) == 2 and "folder/b_r0" in lines[0] and "a/r0.edf" in lines[0]
    rep = ingest_folder(src, out, prune=True)
    assert (rep.n_ingested, rep.n_current, rep.n_removed) == (0, 3, 2)
    assert set(open_store(out).index_rows()) == {"folder/a_r0", "folder/a_r1", "folder/c_r0"}
