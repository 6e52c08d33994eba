"""Markdown that labram writes (``results.md``, the model card) from names we did not choose: a
task, class, file or store name holding a newline, ``|``, ``<`` or a backtick is one line of
literal text in it, never a heading, table row, HTML tag or code fence of its own."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from eegprep.cli_group import markdown_line
from labram.data.protocols import Protocol
from labram.data.tasks import get_task
from labram.stages import backbone_used
from labram.stages.export import card_markdown
from labram.stages.finetune import _write_results
from labram.train.config import train_config

FORGED = "cond\n# Forged heading\n| forged | row |\n<script>x</script> `code` [l](javascript:x)"


def _structure(text: str) -> list[str]:
    """The lines that make Markdown structure: headings, table rows, fences, raw HTML."""
    return [ln for ln in text.splitlines() if re.match(r"\s{0,3}(#|\||```|<)", ln)]


def test_markdown_line_is_one_line_of_literal_text() -> None:
    out = markdown_line(FORGED)
    assert "\n" not in out and "\r" not in markdown_line("a\rb")
    assert not re.search(r"(?<!\\)[|<>`\[\]]", out)  # each one escaped


def test_results_md_heading_from_a_task_name_cannot_forge_structure(tmp_path: Path) -> None:
    task = dataclasses.replace(get_task("tuab"), name=f"label:{FORGED}")
    run = {"fold": 0, "seed": 0, "test": {"auroc": 0.5, "balanced_accuracy": 0.5}}
    fold = {"fold": 0, "train": ["a"], "val": ["b"], "test": ["c"]}
    _write_results(
        tmp_path, task, ["s.zarr"], None, train_config("finetune", "tiny"), Protocol(),
        "0 of 1", [fold], [{"train": [], "val": [], "test": []}], [run], 1,
        backbone_used.record(None),
    )  # fmt: skip
    text = (tmp_path / "results.md").read_text()
    headings = [ln for ln in text.splitlines() if ln.startswith("#")]
    assert len(headings) == 1 and headings[0].startswith("# label:cond\\\\n# Forged")
    assert "<script>" not in text
    rows = [ln for ln in _structure(text) if ln.startswith("|")]
    assert all(ln.count("|") - ln.count("\\|") == 4 for ln in rows)  # | metric | mean | n |


@pytest.mark.parametrize("field", ["name", "file", "checkpoint", "task", "stores", "recipe"])
def test_model_card_text_from_names_cannot_forge_structure(field: str) -> None:
    card = {
        "name": "m", "file": "m.safetensors", "sha256": "0" * 64, "export_id": "1" * 64,
        "size_bytes": 1, "source": {"checkpoint": "best.pt", "layout": "labram"},
        "kind": "classifier", "n_parameters": 1, "n_outputs": 1, "model_config": {},
        "task": "tuab", "recipe": "default", "test_metrics": None, "license": "L",
        "data": {"stores": ["s.zarr"], "pretrain_subjects": None},
    }  # fmt: skip
    plain = _structure(card_markdown(card))
    if field in ("name", "file", "task", "recipe"):
        card[field] = FORGED
    elif field == "checkpoint":
        card["source"]["checkpoint"] = FORGED
    else:
        card["data"]["stores"] = [FORGED, "b.zarr"]
    text = card_markdown(card)
    prose = re.sub(r"```\w*\n.*?\n```", "", text, flags=re.S)  # (code blocks show it literally)
    assert len(_structure(text)) == len(plain) and "<script>" not in prose
    for ln in _structure(text):
        if ln.startswith("|"):
            assert ln.count("|") - ln.count("\\|") == 3, ln  # | key | value |
