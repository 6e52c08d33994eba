"""Promise: a problem line of `eegprep validate` says `--repair` mends it when, and only when,
`eegprep ingest --repair` mends it: each such line is checked here by damaging a store,
seeing the line say so, running the repair, and `validate` finding the store sound, every
recording reading the samples it had. A damage `--repair` leaves alone (a folder holding a
user's file in a document's place) gets no such words.
"""

from __future__ import annotations

import contextlib
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
from tests.safety.corpus import ingest_folder, write_edf

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # numcodecs' zarr3 codecs

INDEX = "_eegprep/index/"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store of three recordings: r0 in the base segment, r1 and r2 in later ones."""
    root = tmp_path_factory.mktemp("mends")
    write_edf(root / "src", "r0.edf", seed=0)
    ingest_folder(root / "src", root / "s.zarr")
    with pytest.MonkeyPatch.context() as mp:  # later segments, not compacted
        mp.setattr("eegprep.store.writer.compact", lambda loc: None)
        for i in (1, 2):
            write_edf(root / "src", f"r{i}.edf", seed=i)
            ingest_folder(root / "src", root / "s.zarr")
    return root


def _damage(path: Path, how: str) -> None:
    if how == "zero-filled":
        path.write_bytes(bytes(path.stat().st_size))
    elif how == "cut short":
        path.write_bytes(path.read_bytes()[:20])
    elif how == "emptied":
        path.write_bytes(b"")
    elif how == "no JSON line":
        path.write_bytes(b"{garbage\n" + path.read_bytes())
    elif how == "bit flipped":
        blob = bytearray(path.read_bytes())
        blob[10] ^= 1
        path.write_bytes(bytes(blob))
    elif how == "deleted":
        path.unlink()
    else:  # a folder holding a user's file
        path.unlink()
        path.mkdir()
        (path / "mine.txt").write_text("a user's")


def _problems(out: Path) -> tuple[int, list[str]]:
    res = CliRunner().invoke(eegprep_cli, ["validate", str(out), "--json"])
    return res.exit_code, json.loads(res.output)["problems"]


def _samples(out: Path) -> dict[str, np.ndarray]:
    store = open_store(out)
    return {r.id: store.read(r.id) for r in store}


MENDED = [
    ("zarr.json", "zero-filled"),
    ("recordings/zarr.json", "zero-filled"),
    ("recordings/folder/zarr.json", "cut short"),
    ("_eegprep/zarr.json", "deleted"),
    (INDEX + "0000000001.jsonl", "deleted"),
    (INDEX + "0000000002.jsonl", "deleted"),
    (INDEX + "0000000003.jsonl", "emptied"),
    (INDEX + "0000000002.jsonl", "no JSON line"),
    (INDEX + "0000000001.fields", "bit flipped"),
    ("_eegprep/reports/", "zero-filled"),  # (the first report)
]


@pytest.mark.parametrize(("rel", "how"), MENDED)
def test_a_line_that_says_repair_mends_it_is_mended(
    built: Path, tmp_path: Path, rel: str, how: str
) -> None:
    out = tmp_path / "s.zarr"
    shutil.copytree(built / "s.zarr", out)
    want = _samples(out)
    if rel.endswith("/"):
        rel += sorted(p.name for p in (out / rel).iterdir())[0]
    _damage(out / rel, how)
    status, problems = _problems(out)
    named = [p for p in problems if p.startswith(rel)]
    assert status == 1 and named and all(p.endswith(MENDS) for p in named), problems
    ingest_folder(built / "src", out, repair=True)
    assert _problems(out) == (0, [])
    got = _samples(out)
    assert got.keys() == want.keys()
    assert all(np.array_equal(got[k], want[k]) for k in want)


@pytest.mark.parametrize("rel", ["zarr.json", "recordings/zarr.json"])
def test_a_line_repair_does_not_mend_does_not_say_so(built: Path, tmp_path: Path, rel: str) -> None:
    """A folder holding a user's file in a document's place: `--repair` leaves it alone."""
    out = tmp_path / "s.zarr"
    shutil.copytree(built / "s.zarr", out)
    _damage(out / rel, "folder")
    status, problems = _problems(out)
    named = [p for p in problems if p.startswith(rel)]
    assert status == 1 and named and not any(MENDS in p for p in problems), problems
    with contextlib.suppress(StoreFormatError):  # (the root's: refused; a group's: a line)
        ingest_folder(built / "src", out, repair=True)
    assert (out / rel / "mine.txt").read_text() == "a user's"
    assert _problems(out)[1] == problems  # left as it was, and said so again
