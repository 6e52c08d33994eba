"""Promise: a store whose bookkeeping documents are damaged is made sound by ``eegprep ingest
--repair``, and nothing is changed without it.

The ``zarr.json`` of ``recordings/``, of a corpus group and of ``_eegprep/`` hold no recording
(their content is fixed), and an ingest report is history. Each damaged one was reported by
``validate`` (exit 1) and never written again by any ingest, ``--repair`` included: the store
failed ``validate`` for ever. Now ``--repair`` writes each such group document again (keeping
attributes another program added where they can be read) and sets a damaged report aside as
``NAME.damaged``; a folder or FIFO in a document's place is named and left alone.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from cli import eegprep_cli
from eegprep.store.group_repair import METADATA
from tests.safety.corpus import copy_of, flipped, ingest_folder, store_values, write_edf

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # numcodecs' zarr3 codecs

KINDS = {  # by path from the store root ({first}: the first ingest report's name)
    "recordings zarr.json": "recordings/zarr.json",
    "corpus zarr.json": "recordings/folder/zarr.json",
    "bookkeeping zarr.json": "_eegprep/zarr.json",
    "ingest report": "_eegprep/reports/{first}",
}


DAMAGES = {
    "bit flipped at the start": lambda b: flipped(b, 0),
    "bit flipped in the middle": lambda b: flipped(b, len(b) // 2),
    "bit flipped at the end": lambda b: flipped(b, len(b) - 1),
    "cut to 0 bytes": lambda b: b"",
    "cut to half": lambda b: b[: len(b) // 2],
    "zero-filled": lambda b: bytes(len(b)),
    "deleted": lambda b: None,
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("groupdocs")
    for i in range(2):
        write_edf(root / "edf", f"r{i}.edf", seed=i, seconds=4)
    ingest_folder(root / "edf", root / "s.zarr")
    ingest_folder(root / "edf", root / "s.zarr")  # (a second report)
    return root


@pytest.fixture()
def store(built: Path, tmp_path: Path) -> Path:
    return copy_of(built, tmp_path)


def _validate(out: Path) -> tuple[int, str]:
    res = CliRunner().invoke(eegprep_cli, ["validate", str(out)])
    return res.exit_code, res.output


def _rel(out: Path, kind: str) -> str:
    first = sorted((out / "_eegprep" / "reports").iterdir())[0].name
    return KINDS[kind].format(first=first)


CASES = [  # (each well under a second)
    (k, d)
    for k in KINDS
    for d in DAMAGES
    if not (k == "ingest report" and d == "deleted")  # (a report's loss is no damage)
]


@pytest.mark.parametrize(("kind", "damage"), CASES)
def test_repair_makes_a_damaged_bookkeeping_document_sound(
    store: Path, kind: str, damage: str
) -> None:
    """Validate fails; a plain ingest changes nothing and says what --repair would do; the
    repair makes validate pass, each recording reading as before, a report set aside."""
    out = store / "s.zarr"
    want = store_values(out)
    rel = _rel(out, kind)
    blob = DAMAGES[damage]((out / rel).read_bytes())
    (out / rel).unlink()
    if blob is not None:
        (out / rel).write_bytes(blob)
    code, output = _validate(out)
    assert code == 1 and rel in output, output
    report = ingest_folder(store / "edf", out)
    assert ((out / rel).read_bytes() if (out / rel).exists() else None) == blob
    hint = report.warnings.get(METADATA, [])
    if kind == "ingest report":  # (a plain ingest reads no report: they may hold many MB)
        assert hint == [], hint
    else:
        assert len(hint) == 1 and rel in hint[0] and "--repair" in hint[0], hint
    assert _validate(out)[0] == 1
    report = ingest_folder(store / "edf", out, repair=True)
    lines = report.warnings.get(METADATA, [])
    assert len(lines) == 1 and lines[0].startswith(rel) and "\n" not in lines[0], lines
    code, output = _validate(out)
    assert code == 0, output
    got = store_values(out)
    assert got.keys() == want.keys() and all(np.array_equal(got[k], want[k]) for k in want)
    if kind == "ingest report":
        assert (out / (rel + ".damaged")).read_bytes() == blob  # set aside, never deleted


@pytest.mark.parametrize("kind", ["recordings zarr.json", "bookkeeping zarr.json"])
def test_another_program_s_attributes_are_kept_when_they_can_be_read(
    store: Path, kind: str
) -> None:
    """A damaged group document that still parses keeps what another program added; one that
    does not parse says in its line that they could not be kept."""
    out = store / "s.zarr"
    doc = out / KINDS[kind]
    meta = json.loads(doc.read_bytes())
    meta["attributes"]["note"] = "mine"
    meta["node_type"] = "grouq"  # (a flipped bit that leaves the JSON valid)
    doc.write_text(json.dumps(meta))
    assert _validate(out)[0] == 1
    report = ingest_folder(store / "edf", out, repair=True)
    [line] = report.warnings[METADATA]
    assert "note" in line and "kept" in line, line
    assert _validate(out)[0] == 0
    assert json.loads(doc.read_bytes())["attributes"]["note"] == "mine"
    doc.write_bytes(doc.read_bytes()[:-3])
    [line] = ingest_folder(store / "edf", out, repair=True).warnings[METADATA]
    assert "could not be read" in line and "not kept" in line, line
    assert _validate(out)[0] == 0


@pytest.mark.parametrize("no_file", ["folder", "fifo"])
@pytest.mark.parametrize("kind", list(KINDS))
def test_a_folder_or_fifo_in_a_document_s_place_is_named_and_left_alone(
    store: Path, kind: str, no_file: str
) -> None:
    """--repair names it in one line and neither deletes nor replaces it."""
    out = store / "s.zarr"
    rel = _rel(out, kind)
    (out / rel).unlink()
    if no_file == "folder":
        (out / rel).mkdir()
        (out / rel / "mine.txt").write_text("a user's")
    else:
        os.mkfifo(out / rel)
    report = ingest_folder(store / "edf", out, repair=True)
    lines = report.warnings.get(METADATA, [])
    assert len(lines) == 1 and rel in lines[0] and "left alone" in lines[0], lines
    if no_file == "folder":
        assert (out / rel / "mine.txt").read_text() == "a user's"
    else:
        assert not (out / rel).is_file() and (out / rel).exists()


def test_the_cli_prints_the_repair_as_note_lines(store: Path) -> None:
    """``eegprep ingest --repair`` prints each repair on a ``note:`` line."""
    out = store / "s.zarr"
    (out / "recordings" / "zarr.json").write_bytes(b"\0" * 10)
    manifest = "folder"
    res = CliRunner().invoke(
        eegprep_cli,
        ["ingest", manifest, "--src", str(store / "edf"), "--out", str(out), "--repair",
         "--workers", "0", "--mains", "60"],
    )  # fmt: skip
    notes = [x for x in res.output.splitlines() if x.startswith("note: recordings/zarr.json")]
    assert len(notes) == 1 and "written again" in notes[0], res.output
    assert _validate(out)[0] == 0
