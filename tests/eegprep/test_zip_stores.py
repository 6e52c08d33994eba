"""A store given as a zip file (``zip -r store.zip store.zarr``, or zipped from inside): read
through fsspec's read-only zip file system by ``stats``, ``validate`` and ``open_store``, on a
local disk and behind an fsspec URL; refused in one line by every command that writes, before
anything is touched; a damaged zip file is one line or a ``validate`` problem, never a crash.

The zip files are made with :func:`shutil.make_archive`, which writes the folder entries the
``zip`` tool writes too."""

from __future__ import annotations

import json
import random
import shutil
import zipfile
from pathlib import Path

import fsspec
import numpy as np
import pytest
from click.testing import CliRunner, Result

from cli import eegprep_cli
from eegprep.base.errors import StoreError
from eegprep.store.reader import open_store
from eegprep.store.validate import check_store
from tests.safety.corpus import ingest_folder, write_edf

LAYOUTS = ("whole", "inside", "finder")
"""How a store folder is zipped: the folder itself (``zip -r s.zip s.zarr``), its contents
(``cd s.zarr && zip -r ../s.zip .``), or the folder with the ``__MACOSX`` folder of resource
forks that macOS's Finder adds beside it."""


def run(*args: object) -> Result:
    return CliRunner().invoke(eegprep_cli, [str(a) for a in args])


def zipped(store: Path, layout: str, out: Path) -> Path:
    """``store`` zipped into ``out`` as ``layout`` says (:data:`LAYOUTS`)."""
    base = str(out.with_suffix(""))
    if layout == "inside":
        return Path(shutil.make_archive(base, "zip", root_dir=store))
    made = Path(shutil.make_archive(base, "zip", root_dir=store.parent, base_dir=store.name))
    if layout == "finder":
        with zipfile.ZipFile(made, "a") as z:
            z.writestr(f"__MACOSX/{store.name}/._zarr.json", b"\x00\x05\x16\x07")
    return made


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small ingested store (3 recordings of 30 s) in a folder of its own."""
    root = tmp_path_factory.mktemp("zip")
    for k in range(3):
        write_edf(root / "src", f"sub{k}/rec.edf", seconds=30, seed=k)
    report = ingest_folder(root / "src", root / "s.zarr")
    assert report.n_ingested == 3
    return root / "s.zarr"


def stats_without_name(result: Result) -> dict[str, object]:
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    doc.pop("store", None)
    return dict(doc)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_stats_and_validate_read_a_zipped_store(store: Path, tmp_path: Path, layout: str) -> None:
    """Before: "no eegprep store here" (exit 2) for every zip file."""
    z = zipped(store, layout, tmp_path / "s.zip")
    assert stats_without_name(run("stats", z, "--json")) == stats_without_name(
        run("stats", store, "--json")
    )
    res = run("validate", z)
    assert res.exit_code == 0, res.output
    assert "3 recordings checked, 0 problems" in res.output and "note:" not in res.output


def test_a_zipped_store_reads_the_samples_of_its_folder(store: Path, tmp_path: Path) -> None:
    folder, z = open_store(store), open_store(zipped(store, "whole", tmp_path / "s.zip"))
    assert [r.id for r in z.recordings] == [r.id for r in folder.recordings]
    for rec in folder.recordings:
        np.testing.assert_array_equal(z.read(rec.id, 100, 5000), folder.read(rec.id, 100, 5000))


@pytest.mark.parametrize("url", ["memory://{base}", "zip::memory://{base}"])
def test_a_zip_file_behind_a_url_is_read(store: Path, tmp_path: Path, url: str) -> None:
    """An object store's zip file: by its name and first bytes, or named by fsspec's ``zip::``
    chain (before: not found at all, and the chain found no store in a folder zipped whole)."""
    mem = fsspec.filesystem("memory")
    base = "/zip-url/s.zip"
    mem.pipe_file(base, zipped(store, "whole", tmp_path / "s.zip").read_bytes())
    try:
        url = url.format(base=base)
        assert [r.id for r in open_store(url).recordings] == [
            r.id for r in open_store(store).recordings
        ]
        result = check_store(url)
        assert (result.checked, result.problems, result.notes) == (3, [], [])
        res = run("ingest", "folder", "--src", tmp_path, "--mains", "60", "--out", url)
        assert res.exit_code == 2 and "a zip file, which eegprep reads but never writes" in (
            res.output
        ), res.output
        assert mem.cat_file(base) == (tmp_path / "s.zip").read_bytes()
    finally:
        mem.rm("/zip-url", recursive=True)


@pytest.mark.parametrize("flags", [(), ("--repair",), ("--prune",)])
def test_writing_commands_refuse_a_zip_file_before_touching_it(
    store: Path, tmp_path: Path, flags: tuple[str, ...]
) -> None:
    """Before: "a file, not a store", which says nothing of zip files; now one line that says
    eegprep never writes them. The zip file and its folder stay as they were."""
    src = tmp_path / "src"
    write_edf(src, "a/rec.edf")
    z = zipped(store, "whole", tmp_path / "out" / "s.zip")
    before, beside = z.read_bytes(), sorted(z.parent.iterdir())
    res = run("ingest", "folder", "--src", src, "--mains", "60", "--out", z, *flags)
    lines = res.output.strip().splitlines()
    assert res.exit_code == 2 and len(lines) == 1, res.output
    assert lines[0].startswith(f"error: {z}: a zip file, which eegprep reads but never writes")
    assert z.read_bytes() == before and sorted(z.parent.iterdir()) == beside


def test_a_new_folder_named_like_a_zip_file_is_a_store(tmp_path: Path) -> None:
    """Only a file that is a zip archive is refused: ``--out new.zip`` that does not exist is
    a new store folder, as before."""
    src = tmp_path / "src"
    write_edf(src, "a/rec.edf")
    res = run("ingest", "folder", "--src", src, "--mains", "60", "--out", tmp_path / "new.zip")
    assert res.exit_code == 0, res.output
    assert (tmp_path / "new.zip" / "zarr.json").is_file()


def test_a_cut_zip_file_is_one_line(store: Path, tmp_path: Path) -> None:
    """Before: ``internal error (a bug): BadZipFile``."""
    whole = zipped(store, "whole", tmp_path / "s.zip").read_bytes()
    cut = tmp_path / "cut.zip"
    cut.write_bytes(whole[: len(whole) // 2])
    for command in ("stats", "validate"):
        res = run(command, cut)
        assert res.exit_code == 2, res.output
        assert res.output.strip().splitlines() == [
            f"error: {cut}: a zip file that cannot be read (File is not a zip file): zip the "
            "store again (`zip -r store.zip store.zarr`), or give the store's folder"
        ]
    with pytest.raises(StoreError, match="a zip file that cannot be read"):
        open_store(cut)


def test_a_damaged_member_of_a_zip_file_is_a_problem_never_a_crash(
    store: Path, tmp_path: Path
) -> None:
    """A byte flipped inside each member's compressed bytes in turn (seeded): ``validate``
    reports a problem naming the member (the zip's CRC-32 or inflation fails) and ``stats``
    ends in its statistics or one ``error:`` line. Before: ``internal error (a bug):
    BadZipFile`` or ``zlib.error`` for the root's ``zarr.json`` and the index."""
    good = zipped(store, "inside", tmp_path / "good.zip")
    with zipfile.ZipFile(good) as z:
        members = [i for i in z.infolist() if not i.is_dir() and i.compress_size > 8]
    rng = random.Random(0)
    bad = tmp_path / "bad.zip"
    for info in members:
        blob = bytearray(good.read_bytes())
        start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
        blob[start + rng.randrange(info.compress_size)] ^= 1 << rng.randrange(8)
        bad.write_bytes(bytes(blob))
        res = run("validate", bad)
        assert res.exit_code == 1, (info.filename, res.output)
        assert info.filename.rsplit("/", 1)[0] in res.output, (info.filename, res.output)
        assert "internal error" not in res.output and "Traceback" not in res.output, res.output
        res = run("stats", bad)
        assert res.exit_code in (0, 2), (info.filename, res.output)
        assert "internal error" not in res.output and "Traceback" not in res.output, res.output


def test_a_missing_member_is_file_not_found(tmp_path: Path) -> None:
    """zipfile says KeyError for a member the archive lacks, and fsspec before 2026.9 passed it
    on: zarr's probe for an absent document and eegprep's lock look-up crashed on it."""
    from eegprep.store.zip_files import open_zip

    path = tmp_path / "s.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("zarr.json", "{}")
    fs = open_zip(str(path), str(path))
    assert fs.cat_file("zarr.json") == b"{}"
    with pytest.raises(FileNotFoundError, match="lock"):
        fs.cat_file("_eegprep/lock")
    with pytest.raises(FileNotFoundError, match="lock"):
        fs.open("_eegprep/lock")
