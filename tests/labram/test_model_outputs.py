"""Where `labram export` and `labram convert` may write a model file, and what a failed or
refused write leaves behind.

The rule (docs/cli.md, Output files): a folder is refused; a path inside a Zarr store is
refused; an existing file is kept unless ``--force``, and then replaced whole once the new one
is complete. Before, both commands replaced an existing file without a word, wrote into
stores, deleted the previous export when a new one failed half-way, and a full disk was an
internal error naming no file.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from click.testing import CliRunner, Result

from cli import labram_cli
from labram.checkpoints.layouts import save_ours
from labram.model.classifier import LaBraMClassifier
from labram.model.config import model_config
from labram.stages.export import export


@pytest.fixture
def model_pt(tmp_path: Path) -> Path:
    path = tmp_path / "src" / "best.pt"
    save_ours(LaBraMClassifier(model_config("tiny"), 2), path)
    return path


def _run(*args: object) -> Result:
    return CliRunner().invoke(labram_cli, ["-q", *map(str, args)])


def _one_error(res: Result, *words: str) -> str:
    assert res.exit_code == 2, (res.exit_code, res.output, res.exception)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    assert "internal error" not in lines[0]
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def _export_args(src: Path, out: Path) -> list[object]:
    return ["export", src, "--out", out]


def _convert_args(src: Path, out: Path) -> list[object]:
    return ["convert", src, out]


COMMANDS = {"export": (_export_args, "m.safetensors"), "convert": (_convert_args, "m.pt")}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_an_existing_output_is_kept_unless_force(
    command: str, model_pt: Path, tmp_path: Path
) -> None:
    args, name = COMMANDS[command]
    out = tmp_path / name
    out.write_bytes(b"days of training")
    _one_error(_run(*args(model_pt, out)), str(out), "exists", "--force")
    assert out.read_bytes() == b"days of training"
    assert not list(tmp_path.glob("m.card.*"))
    res = _run(*args(model_pt, out), "--force")
    assert res.exit_code == 0, res.output
    assert out.read_bytes() != b"days of training"


def test_an_existing_model_card_is_kept_unless_force(model_pt: Path, tmp_path: Path) -> None:
    card = tmp_path / "m.card.md"
    card.write_text("my notes")
    _one_error(_run("export", model_pt, "--out", tmp_path / "m.safetensors"), str(card))
    assert card.read_text() == "my notes" and not (tmp_path / "m.safetensors").exists()


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_model_file_is_not_written_into_a_store(
    command: str, model_pt: Path, tmp_path: Path
) -> None:
    store = tmp_path / "s.zarr"
    (store / "recordings").mkdir(parents=True)
    for folder in (store, store / "recordings"):
        (folder / "zarr.json").write_text('{"zarr_format": 3, "node_type": "group"}')
    args, name = COMMANDS[command]
    for out in (store / name, store / "recordings" / name):
        _one_error(_run(*args(model_pt, out), "--force"), str(out), f"store {store}")
    assert sorted(p.name for p in store.rglob("*")) == ["recordings", "zarr.json", "zarr.json"]


def test_a_failed_export_keeps_the_previous_export(
    model_pt: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The weights and their cards are renamed into place last: a failure (or a kill) before
    then leaves the previous three files, never new weights beside old cards."""
    import labram.stages.export as export_module

    out = tmp_path / "m.safetensors"
    export(model_pt, out)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}

    def broken(*args: object) -> str:
        raise RuntimeError("the card")

    monkeypatch.setattr(export_module, "card_markdown", broken)
    with pytest.raises(RuntimeError, match="the card"):
        export(model_pt, out, force=True)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()} == before


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_failed_write_is_one_line_naming_the_file(
    command: str, model_pt: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk: torch.save fails with its zip writer's RuntimeError, safetensors with a
    SafetensorError; both were internal errors (exit 1) that named no file."""
    import safetensors.torch

    from labram.checkpoints import contents

    def full(*args: object, **kwargs: object) -> None:
        raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 704")

    def full_st(*args: object, **kwargs: object) -> None:
        raise safetensors.SafetensorError("Error while serializing: I/O error: No space left")

    monkeypatch.setattr(contents.torch, "save", full)
    monkeypatch.setattr(safetensors.torch, "save_file", full_st)
    args, name = COMMANDS[command]
    out = tmp_path / name
    _one_error(_run(*args(model_pt, out)), str(out), "cannot write it")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["src"]


def test_a_converted_file_still_loads_after_force(model_pt: Path, tmp_path: Path) -> None:
    out = tmp_path / "rel.pth"
    out.write_bytes(b"old")
    assert _run("convert", model_pt, out, "--force").exit_code == 0
    assert "head.weight" in torch.load(out, weights_only=True)["model"]
