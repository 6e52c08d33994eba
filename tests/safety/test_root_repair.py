"""Promise: `eegprep ingest --repair` writes a damaged root ``zarr.json`` again when its
recordings state the recipe it must hold, and changes nothing else.

The root holds no recording: its attributes follow from the ingest's recipe (whose hash every
listed recording states). A root zero-filled, cut short, not JSON, an empty folder in its place
or failing its checksum refused every command, ``--repair`` included (it wrote the group
documents below the root again, not the root). Where the recipe cannot be told (another
recipe's options given, no listed recording) or a folder holding files is in its place,
``--repair`` writes nothing and says what to do in one line.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from cli import eegprep_cli
from eegprep import open_store
from eegprep.base.errors import StoreFormatError
from tests.safety.backends import Backend
from tests.safety.corpus import FOLDER, built_store, files_under, ingest_folder, write_edf

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # numcodecs' zarr3 codecs


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return built_store(tmp_path_factory.mktemp("root"))


def _damage(path: Path, how: str) -> None:
    good = path.read_bytes()
    if how == "zero-filled":
        path.write_bytes(bytes(len(good)))
    elif how == "cut short":
        path.write_bytes(good[: len(good) // 2])
    elif how == "not JSON":
        path.write_bytes(b"hello")
    elif how == "sfreq changed":
        path.write_bytes(good.replace(b'"sfreq": 200.0', b'"sfreq": 600.0'))
    else:
        path.unlink()
        path.mkdir()
        if how == "folder of files":
            (path / "mine.txt").write_text("a user's")


def _kept(out: Path) -> dict[str, bytes]:
    """What an ingest that finds everything current leaves as it was: the recordings and the
    index (its report and seen-files cache are its own)."""
    return {
        k: v for k, v in files_under(out).items() if k.startswith(("recordings/", "_eegprep/index"))
    }


def _validate(out: Path) -> tuple[int, list[str]]:
    res = CliRunner().invoke(eegprep_cli, ["validate", str(out), "--json"])
    return res.exit_code, json.loads(res.output)["problems"] if res.exit_code != 2 else [res.output]


@pytest.mark.parametrize(
    "how", ["zero-filled", "cut short", "not JSON", "empty folder", "sfreq changed"]
)
def test_repair_writes_a_damaged_root_again(built: Path, tmp_path: Path, how: str) -> None:
    out = tmp_path / "s.zarr"
    shutil.copytree(built / "s.zarr", out)
    good, kept = (out / "zarr.json").read_bytes(), _kept(out)
    store = open_store(out)
    want = {r.id: store.read(r.id) for r in store}
    _damage(out / "zarr.json", how)
    status, problems = _validate(out)
    assert status in (1, 2) and any("zarr.json" in p for p in problems), problems
    damaged = (out / "zarr.json").read_bytes() if how != "empty folder" else None
    if how != "sfreq changed":  # (an ingest reads the recipe's hash alone: it goes on)
        with pytest.raises(StoreFormatError):  # without --repair: refused
            ingest_folder(built / "src", out)
    if damaged is not None:
        assert (out / "zarr.json").read_bytes() == damaged  # nothing written without --repair
    report = ingest_folder(built / "src", out, repair=True)
    said = {"empty folder": "a folder in its place", "sfreq changed": "its attributes are damaged"}
    line = f"zarr.json: {said.get(how, 'not a JSON document')}"
    assert any(
        w.startswith(line) and "written again" in w for w in report.warnings["(store metadata)"]
    ), report.warnings
    assert (out / "zarr.json").read_bytes() == good  # (this eegprep's version wrote it)
    assert _kept(out) == kept and report.n_current == 2
    assert _validate(out) == (0, [])
    store = open_store(out)
    assert all(np.array_equal(store.read(k), x) for k, x in want.items())


@pytest.mark.parametrize("how", ["zero-filled", "folder of files"])
def test_repair_says_what_to_do_where_the_root_cannot_be_told(
    built: Path, tmp_path: Path, how: str
) -> None:
    """Another recipe's options (the records state another hash), or a folder holding a file:
    one line, and nothing changed."""
    out = tmp_path / "s.zarr"
    shutil.copytree(built / "s.zarr", out)
    _damage(out / "zarr.json", how)
    before = files_under(out)
    other = dataclasses.replace(FOLDER.recipe, h_freq=40.0)
    recipe = other if how == "zero-filled" else FOLDER.recipe
    with pytest.raises(StoreFormatError) as refused:
        ingest_folder(built / "src", out, repair=True, recipe=recipe)
    line = str(refused.value)
    assert "\n" not in line and "zarr.json" in line, line
    assert (
        "with the options the store was written with" if how == "zero-filled" else "left alone"
    ) in line
    assert files_under(out) == before


def test_an_ingest_naming_no_encoding_repairs_a_root_written_in_another(tmp_path: Path) -> None:
    """A store written as float16 and its root zero-filled: an ``--repair`` naming no encoding
    (``auto``) takes the one whose recipe hash the recordings state, as it extends such a store."""
    float16 = dataclasses.replace(FOLDER.recipe, encoding="float16")
    write_edf(tmp_path / "src", "r0.edf", seed=0)
    out = tmp_path / "s.zarr"
    ingest_folder(tmp_path / "src", out, recipe=float16)
    good = (out / "zarr.json").read_bytes()
    _damage(out / "zarr.json", "zero-filled")
    report = ingest_folder(tmp_path / "src", out, repair=True)
    assert (out / "zarr.json").read_bytes() == good and report.n_current == 1
    assert _validate(out) == (0, [])


@pytest.mark.parametrize("kind", ["local", "memory"])
def test_a_damaged_root_is_repaired_on_each_backend(built: Path, tmp_path: Path, kind: str) -> None:
    """fsspec's ``memory://`` as a local folder: the root written again, nothing else."""
    shutil.copytree(built / "s.zarr", tmp_path / "s.zarr")
    store = Backend(tmp_path / "s.zarr", kind, f"root-{kind}")
    try:
        good = store.read("zarr.json")
        store.write("zarr.json", bytes(len(good)))
        report = ingest_folder(built / "src", store.url, repair=True)  # type: ignore[arg-type]
        assert store.read("zarr.json") == good and report.n_current == 2
        res = CliRunner().invoke(eegprep_cli, ["validate", store.url])
        assert res.exit_code == 0, res.output
    finally:
        store.close()
