"""Promise: a SIGKILL at any write of ``labram export`` leaves the weights and their two cards
as one export: the old three files or the new three, once any command reads or writes them;
and the export run again completes, leaving no temporary file or journal behind.

The export runs as the ``labram`` command in a child process that kills itself just before a
chosen write inside the output folder (:mod:`tests.safety.killing`). The renames of the three
files once ran one by one: a kill between two left new cards beside the old weights, only
warned about afterwards. A journal written before the renames now lets the next command
complete them (:mod:`labram.checkpoints.export_journal`).

``labram convert --force`` over an export (any writer of ``NAME.safetensors``) replaces it as a
unit under the same journal: its cards are deleted as the new weights are renamed in, so a kill
leaves the export or the converted weights alone, never the export's cards beside them.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import warnings
from pathlib import Path

import pytest
import torch

from eegprep.base.files import TMP_MARK
from labram.checkpoints.errors import CheckpointError
from labram.checkpoints.layouts import save_ours
from labram.checkpoints.safe_read import read_checkpoint
from labram.model.classifier import LaBraMClassifier
from labram.model.config import model_config
from labram.stages.export import export
from tests.safety.killing import KILLED, run, run_killed, write_calls

NAME = "m.safetensors"


def _checkpoint(path: Path, seed: int) -> Path:
    torch.manual_seed(seed)
    save_ours(LaBraMClassifier(model_config("tiny"), 1), path)
    return path


@pytest.fixture()
def setup(tmp_path: Path) -> tuple[Path, Path, str, str]:
    """(new checkpoint, folder holding an earlier export of another one, old id, new id)."""
    old_src = _checkpoint(tmp_path / "old.pt", 0)
    new_src = _checkpoint(tmp_path / "new.pt", 1)
    base = tmp_path / "base"
    old_id = export(old_src, base / NAME)["export_id"]
    new_id = export(new_src, tmp_path / "ref" / NAME)["export_id"]
    return new_src, base, old_id, new_id


def _args(src: Path, folder: Path) -> list[str]:
    return ["export", str(src), "--out", str(folder / NAME), "--force"]


def _export_id(folder: Path) -> str | None:
    """The one export id the three files share, None when none of them is there; fails on a
    mix (a card of another export, a card whose SHA-256 is not the weights', a missing file)."""
    weights = folder / NAME
    md, js = folder / "m.card.md", folder / "m.card.json"
    if not any(p.exists() for p in (weights, md, js)):
        return None
    card = json.loads(js.read_text())
    export_id = card["export_id"]
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        assert read_checkpoint(weights)["export_id"] == export_id
    assert not [w for w in seen if "describes other weights" in str(w.message)]
    assert card["sha256"] == hashlib.sha256(weights.read_bytes()).hexdigest()
    assert f"| export id | `{export_id}` |" in md.read_text()
    return str(export_id)


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if TMP_MARK in p.name or "journal" in p.name)


def _on_disk(folder: Path, ids: tuple[str | None, str]) -> str | None:
    """The export id the three files share as they lie (None: none is there), read without
    completing anything; fails on a mix."""
    from safetensors import safe_open

    found = set()
    for p in (folder / NAME, folder / "m.card.md", folder / "m.card.json"):
        if not p.exists():
            found.add(None)
        elif p.name == NAME:
            with safe_open(str(p), framework="pt") as fh:
                found.add(json.loads(fh.metadata()["labram"])["export_id"])
        elif p.suffix == ".json":
            found.add(json.loads(p.read_text())["export_id"])
        else:
            found.add(next((i for i in ids if i and i in p.read_text()), "another"))
    assert len(found) == 1, found
    return found.pop()


def _check_killed(src: Path, folder: Path, ids: tuple[str | None, str], call: str) -> None:
    """After a kill: no mix on disk while no journal is there; the next reader gets one export
    (old or new) and leaves no journal; the export run again completes and leaves nothing."""
    journal = (folder / f"{NAME}.journal").exists()
    if not journal:
        assert _on_disk(folder, ids) in ids, call
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        try:
            read_checkpoint(folder / NAME)
        except CheckpointError:  # a first export killed before its journal: no weights yet
            assert not journal and ids[0] is None, call
    completed = [w for w in seen if "completed an export that was interrupted" in str(w.message)]
    assert len(completed) == journal, (call, [str(w.message) for w in seen])
    assert _export_id(folder) in ids, call
    assert not (folder / f"{NAME}.journal").exists(), call
    done = run(_args(src, folder), command="labram")
    assert done.returncode == 0, (call, done.stderr)
    assert _export_id(folder) == ids[1], call
    assert _leftovers(folder) == [], call


@pytest.mark.slow  # over 5 s on two cores
@pytest.mark.parametrize("target", ["m.card.md", "m.card.json", NAME])
def test_a_kill_before_each_rename_leaves_one_export(
    setup: tuple[Path, Path, str, str], tmp_path: Path, target: str
) -> None:
    """A kill right before the rename of each of the three files (after the journal): the
    mix of old and new that such a kill once left is completed by the next reader."""
    src, base, old_id, new_id = setup
    folder = tmp_path / "t"
    shutil.copytree(base, folder)
    at = ("replace", re.escape(TMP_MARK) + "[0-9a-f]{8} -> " + re.escape(target) + "$")
    assert run_killed(_args(src, folder), folder, at, command="labram").returncode == KILLED
    _check_killed(src, folder, (old_id, new_id), target)


@pytest.mark.slow
@pytest.mark.parametrize("first", [False, True])
def test_a_kill_at_every_write_of_an_export(
    setup: tuple[Path, Path, str, str], tmp_path: Path, first: bool
) -> None:
    """Over an earlier export (``first``: into an empty folder), killed at each of its writes."""
    src, base, old_id, new_id = setup
    if first:
        base = tmp_path / "empty"
        base.mkdir()
    counted = tmp_path / "count"
    shutil.copytree(base, counted)
    calls = write_calls(_args(src, counted), counted, tmp_path / "calls.log", command="labram")
    assert sum(c.startswith("replace ") for c in calls) == 4, calls  # the journal, 3 files
    for k, call in enumerate(calls, start=1):
        folder = tmp_path / "t"
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(base, folder)
        killed = run_killed(_args(src, folder), folder, k, command="labram")
        assert killed.returncode == KILLED, (call, killed.stderr)
        _check_killed(src, folder, (None if first else old_id, new_id), call)


# -- another writer of NAME.safetensors over an export: `labram convert --force` ---------------
#
# The converted weights replace the export as a unit: its cards, which would describe other
# weights, are deleted under the same journal as the weights are renamed in. A kill leaves the
# export as it was or, once a command looks, the converted weights without cards.


def _convert_args(src: Path, folder: Path) -> list[str]:
    return ["convert", str(src), str(folder / NAME), "--force"]


def _unit(folder: Path, old_id: str, converted: bytes) -> str:
    """``"old"`` (the export's three files, of one id), ``"new"`` (convert's weights and no
    card) or ``"none"`` (no file), read without completing anything; fails on anything else."""
    weights, cards = folder / NAME, (folder / "m.card.md", folder / "m.card.json")
    there = [p.exists() for p in (weights, *cards)]
    if not any(there):
        return "none"
    if there == [True, False, False] and weights.read_bytes() == converted:
        return "new"
    assert all(there), there
    assert _on_disk(folder, (old_id, old_id)) == old_id  # (one id, weights and both cards)
    return "old"


def _check_convert_killed(
    src: Path, folder: Path, old_id: str | None, converted: bytes, call: str
) -> None:
    """After a kill: the export or convert's weights alone, on disk while no journal is there
    and for the next reader, which says nothing else; convert run again completes and leaves
    no temporary or journal."""
    journal = (folder / f"{NAME}.journal").exists()
    ids = ("none",) if old_id is None else ("old", "new")
    if not journal:
        assert _unit(folder, old_id or "", converted) in (*ids, "new"), call
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        try:
            read_checkpoint(folder / NAME)
        except CheckpointError:  # a first write killed before its rename: no weights yet
            assert not journal and old_id is None, call
    said = [str(w.message) for w in seen]
    assert sum("completed an export that was interrupted" in s for s in said) == journal, said
    assert not [s for s in said if "describes other weights" in s], (call, said)
    assert _unit(folder, old_id or "", converted) in (*ids, "new"), call
    assert not (folder / f"{NAME}.journal").exists(), call
    done = run(_convert_args(src, folder), command="labram")
    assert done.returncode == 0, (call, done.stderr)
    assert _unit(folder, old_id or "", converted) == "new", call
    assert _leftovers(folder) == [], call


@pytest.fixture()
def converted(setup: tuple[Path, Path, str, str], tmp_path: Path) -> bytes:
    """What `labram convert` writes from the new checkpoint (released layout, safetensors)."""
    src = setup[0]
    assert run(_convert_args(src, tmp_path / "conv"), command="labram").returncode == 0
    return (tmp_path / "conv" / NAME).read_bytes()


@pytest.mark.parametrize(
    "at",
    [
        ("unlink", r"^m\.card\.md$"),
        ("unlink", r"^m\.card\.json$"),
        ("replace", re.escape(TMP_MARK) + r"[0-9a-f]{8} -> m\.safetensors$"),
        ("unlink", r"^m\.safetensors\.journal$"),
    ],
    ids=["card.md", "card.json", "weights", "journal"],
)
@pytest.mark.slow  # over 5 s on two cores
def test_a_kill_while_convert_replaces_an_export_leaves_one_or_the_other(
    setup: tuple[Path, Path, str, str], converted: bytes, tmp_path: Path, at: tuple[str, str]
) -> None:
    """Killed before each deletion of a card, the weights' rename and the journal's
    deletion: never convert's weights beside the export's cards, nor its cards alone."""
    src, base, old_id, _ = setup
    folder = tmp_path / "t"
    shutil.copytree(base, folder)
    assert run_killed(_convert_args(src, folder), folder, at, command="labram").returncode == KILLED
    assert (folder / f"{NAME}.journal").exists()  # (every one of them comes after the journal)
    _check_convert_killed(src, folder, old_id, converted, at[1])


@pytest.mark.slow
@pytest.mark.parametrize("first", [False, True])
def test_a_kill_at_every_write_of_a_convert_over_an_export(
    setup: tuple[Path, Path, str, str], converted: bytes, tmp_path: Path, first: bool
) -> None:
    """Over an export (``first``: into an empty folder), killed at each of its writes."""
    src, base, old_id, _ = setup
    if first:
        base = tmp_path / "empty"
        base.mkdir()
    counted = tmp_path / "count"
    shutil.copytree(base, counted)
    calls = write_calls(
        _convert_args(src, counted), counted, tmp_path / "calls.log", command="labram"
    )
    assert sum(c.startswith("unlink m.card.") for c in calls) == (0 if first else 2), calls
    for k, call in enumerate(calls, start=1):
        folder = tmp_path / "t"
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(base, folder)
        killed = run_killed(_convert_args(src, folder), folder, k, command="labram")
        assert killed.returncode == KILLED, (call, killed.stderr)
        _check_convert_killed(src, folder, None if first else old_id, converted, call)
