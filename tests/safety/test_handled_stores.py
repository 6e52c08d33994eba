"""Promise: a finished store handled by other tools is still read, checked and ingested into.

Researchers copy a store (``cp -r``, ``rsync -a``, ``tar``, a sync tool that drops empty
folders), hard-link it (``cp -al``), put it on read-only media and name it by any path (spaces,
unicode, a leading dash, a trailing slash, ``./``, a symbolic link, a ``file://`` URL). Before:
an ingest into a hard-linked copy wrote a ``record.json`` (the one a kill left in a listed
group) in place, through the link, changing the original store too. The rest held before and
is kept here (zarr's consolidated metadata: ``test_consolidated_stores.py``).
"""

from __future__ import annotations

import os
import shutil
import tarfile
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from cli import eegprep_cli
from eegprep import open_store
from eegprep.base.errors import StoreLockedError
from eegprep.store.validate import check_store
from tests.full_disk import small_disk
from tests.safety.corpus import files_under, ingest_folder, write_edf

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # numcodecs' zarr3 codecs

NAMES = ("a", "b")


def two_recordings(tmp_path: Path) -> tuple[Path, Path]:
    """A folder corpus of two EDF files and its store."""
    src, out = tmp_path / "src", tmp_path / "s.zarr"
    for seed, name in enumerate(NAMES, start=1):
        write_edf(src, f"{name}.edf", seed=seed)
    assert ingest_folder(src, out).n_ingested == 2
    return src, out


def change(src: Path, name: str) -> None:
    """Rewrite ``name``.edf with other samples (its recording is ingested again)."""
    write_edf(src, f"{name}.edf", seed=9)


def sound_notes(store: Path) -> list[str]:
    result = check_store(str(store))
    assert result.problems == [], result.problems
    return result.notes


def _hard_linked_copy(store: Path, copy: Path) -> None:
    """``cp -al store copy``: the same folders, each file a hard link to the original's."""
    for folder, _, files in os.walk(store):
        here = copy / Path(folder).relative_to(store)
        here.mkdir(parents=True, exist_ok=True)
        for name in files:
            os.link(Path(folder) / name, here / name)


@pytest.mark.parametrize("left", ["nothing", "a record.json a kill left"])
def test_an_ingest_into_a_hard_linked_copy_leaves_the_original_as_it_was(
    tmp_path: Path, left: str
) -> None:
    """Every write of an ingest replaces a file by a rename or makes a new one, never writes
    through an existing one. Before: the ``record.json`` a kill left in a listed group (killed
    between it and ``retired.json``) was written again in place, in both stores."""
    src, store = two_recordings(tmp_path)
    if left != "nothing":
        (store / "recordings/folder/b/record.json").write_bytes(b'{"cut sh')
    copy = tmp_path / "copy.zarr"
    _hard_linked_copy(store, copy)
    before = files_under(store)
    change(src, "b")
    write_edf(src, "c.edf", seed=4)
    assert ingest_folder(src, copy, keep_replaced=0).n_ingested == 2
    os.remove(src / "a.edf")
    ingest_folder(src, copy, prune=True, keep_replaced=0)
    assert files_under(store) == before
    sound_notes(copy)
    assert sorted(r.id for r in open_store(str(copy)).recordings) == ["folder/b", "folder/c"]


def _copy(store: Path, to: Path, how: str) -> None:
    """``store`` copied to ``to`` as ``how`` copies it."""
    if how == "cp -r":  # new times, inodes; no lock.flock's mode kept
        shutil.copytree(store, to, copy_function=shutil.copyfile)
    elif how == "rsync -a":
        shutil.copytree(store, to, symlinks=True)
    elif how == "tar":
        with tarfile.open(to.parent / "s.tar", "w") as tar:
            tar.add(store, arcname="t")
        with tarfile.open(to.parent / "s.tar") as tar:
            tar.extractall(to.parent / "x", filter="data")
        (to.parent / "x" / "t").rename(to)
    else:  # a sync tool or an object store: no empty folder survives
        shutil.copytree(store, to)
        for folder, dirs, files in sorted(os.walk(to), key=lambda w: -len(w[0])):
            if not dirs and not files:
                os.rmdir(folder)


@pytest.mark.parametrize("how", ["cp -r", "rsync -a", "tar", "empty folders dropped"])
def test_a_copied_store_reads_validates_and_takes_an_ingest(tmp_path: Path, how: str) -> None:
    src, store = two_recordings(tmp_path)
    copy = tmp_path / "copy.zarr"
    _copy(store, copy, how)
    if how == "empty folders dropped":
        assert not (copy / "_eegprep" / "staging").exists()
    want = open_store(str(store)).read("folder/a", 0, 800)
    np.testing.assert_array_equal(open_store(str(copy)).read("folder/a", 0, 800), want)
    sound_notes(copy)
    report = ingest_folder(src, copy)
    assert report.n_ingested == 0 and report.n_current == 2
    change(src, "b")
    assert ingest_folder(src, copy).n_ingested == 1
    ingest_folder(src, copy, prune=True)  # (--prune writes its marker through staging)
    sound_notes(copy)


def test_a_read_only_store_is_read_by_every_reader(tmp_path: Path) -> None:
    """No reader writes into a store (not its lock, not a cache): on a read-only file system
    (a real tmpfs remounted read-only as root, else the emulation), ``stats``, ``--json``,
    ``validate`` and ``open_store`` read it; ``ingest --out`` is one line."""
    src, made = two_recordings(tmp_path)
    with small_disk(tmp_path, 8 * 1024 * 1024) as disk:
        store = disk.path / "s.zarr"
        shutil.copytree(made, store)
        disk.set_read_only()
        before = files_under(store)
        for args in (["stats"], ["stats", "--json"], ["validate"]):
            res = CliRunner().invoke(eegprep_cli, [*args, str(store)])
            assert res.exit_code == 0, (args, res.output)
        assert open_store(str(store)).read("folder/a", 0, 10).shape[1] == 10
        args = ["ingest", "folder", "--src", str(src), "--out", str(store), "--mains", "60"]
        res = CliRunner().invoke(eegprep_cli, [*args, "--workers", "0"])
        assert res.exit_code == 2 and len(res.output.strip().splitlines()) == 1, res.output
        assert files_under(store) == before


@pytest.mark.parametrize("name", ["s p é.zarr", "-s.zarr"])
@pytest.mark.parametrize("form", ["path", "./", "trailing /", "link", "file://"])
def test_every_name_of_a_store_reads_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, form: str
) -> None:
    """Spaces, unicode, a leading dash (after ``--``), ``./``, a trailing slash, a symbolic
    link to the store and a ``file://`` URL (percent-encoded) name the same store."""
    from urllib.parse import quote

    _, made = two_recordings(tmp_path)
    store = tmp_path / name
    made.rename(store)
    monkeypatch.chdir(tmp_path)
    if form == "link":
        (tmp_path / "link.zarr").symlink_to(store)
    url = {
        "path": name,
        "./": f"./{name}",
        "trailing /": f"{store}/",
        "link": "link.zarr",
        "file://": f"file://{quote(str(store))}",
    }[form]
    want = open_store(str(store)).read("folder/a", 0, 400)
    np.testing.assert_array_equal(open_store(url).read("folder/a", 0, 400), want)
    for args in (["stats"], ["stats", "--json"], ["validate"]):
        res = CliRunner().invoke(eegprep_cli, [*args, "--", url])
        assert res.exit_code == 0, (args, res.output)


def test_ingests_into_a_store_and_its_hard_linked_copy_run_at_once(tmp_path: Path) -> None:
    """Before: both shared one ``_eegprep/lock.flock``, and the ingest into the copy was refused
    while one into the original ran (``another ingest is writing this store``)."""
    from eegprep.pipeline.recipe import Recipe
    from eegprep.store.fs import Location
    from eegprep.store.root_attrs import read_root_attrs
    from eegprep.store.writer import StoreWriter

    _, store = two_recordings(tmp_path)
    copy = tmp_path / "copy.zarr"
    _hard_linked_copy(store, copy)
    attrs = read_root_attrs(Location.parse(str(store)))
    assert attrs is not None
    recipe = Recipe.from_dict(attrs["recipe"])
    with StoreWriter(str(store), recipe), StoreWriter(str(copy), recipe):
        flocks = [os.stat(s / "_eegprep" / "lock.flock") for s in (store, copy)]
        assert flocks[0].st_ino != flocks[1].st_ino
        assert flocks[0].st_nlink == flocks[1].st_nlink == 1
    with StoreWriter(str(copy), recipe), pytest.raises(StoreLockedError, match="another ingest"):
        StoreWriter(str(copy), recipe).open()  # (one writer per store, as before)
    assert not [p for p in (copy / "_eegprep").iterdir() if ".tmp-" in p.name]


def _ingest(src: Path, store: Path, *more: str) -> tuple[int, str]:
    args = ["ingest", "folder", "--src", str(src), "--out", str(store), "--mains", "60"]
    res = CliRunner().invoke(eegprep_cli, [*args, "--workers", "0", *more])
    assert res.exception is None or isinstance(res.exception, SystemExit), res.output
    return res.exit_code, res.output


LINKS = {  # the link's place in the store, and what it points to
    "a recording group to another's": ("recordings/folder/a", "recordings/folder/b"),
    "a recording group to a copy outside": ("recordings/folder/a", "outside"),
    "a corpus folder to a copy outside": ("recordings/folder", "outside"),
}


@pytest.mark.parametrize("case", list(LINKS))
def test_no_ingest_writes_or_deletes_through_a_link_in_the_store(tmp_path: Path, case: str) -> None:
    """A folder of the store replaced by a symbolic link (to another recording's group, or to
    a copy outside the store): an ingest that replaces the recording, ``--repair`` and
    ``--prune`` name the link in one line and change nothing it points to. Before, ``--prune``
    wrote a ``record.json`` and a ``removed.json`` through the link and deleted the
    ``zarr.json`` it found there (recording b's group, lost; the copy outside the store) and
    stopped with ``cannot write the store: [Errno None] None``."""
    src, store = two_recordings(tmp_path)
    at, to = LINKS[case]
    target = tmp_path / "outside" if to == "outside" else store / to
    if to == "outside":
        shutil.copytree(store / at, target)
    shutil.rmtree(store / at)
    (store / at).symlink_to(target, target_is_directory=True)
    kept = {"target": files_under(target), "b": files_under(store / "recordings/folder/b")}
    change(src, "a")
    for more in ((), ("--repair",)):
        code, out = _ingest(src, store, *more)
        lines = [ln for ln in out.splitlines() if at in ln]
        assert code == 3 and len(lines) == 1 and "is a symbolic link" in lines[0], out
    os.remove(src / "a.edf")
    code, out = _ingest(src, store, "--prune")
    assert code == 2 and len(out.strip().splitlines()) == 1, out
    assert f"{at} is a symbolic link" in out and "Errno" not in out, out
    assert files_under(target) == kept["target"]
    assert files_under(store / "recordings/folder/b") == kept["b"]
    assert not [p for p in check_store(str(store)).problems if "missing" in p]
