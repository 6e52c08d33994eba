"""The provenance records a checkpoint carries (``tokenizer_used``, ``backbone_used``) are
checked as one rule (labram/stages/provenance_records.py): a malformed one is one line naming
the file and the field, warned and shown as ``not recorded (malformed)`` where it is only
reported (and never copied on), refused where a resume relies on it; text shown from a sound
one is escaped and capped."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
import torch

from eegprep.base.errors import UsageError
from labram.checkpoints.layouts import save_ours
from labram.checkpoints.safetensors_files import read_safetensors
from labram.model.classifier import LaBraMClassifier
from labram.model.config import model_config
from labram.stages import backbone_used, tokenizer_used
from labram.stages.export import export
from labram.stages.provenance_records import MALFORMED, SHOWN, problem
from tests.machine_paths import without_paths

SHA = "ab" * 32
TOKENIZER = {"path": "tok.pt", "resolved": "/r/tok.pt", "sha256": SHA,
             "config": {"n_codes": 256, "code_dim": 16}, "trained_by_run": False}  # fmt: skip
BACKBONE = {"path": "model.pt", "resolved": "/r/model.pt", "sha256": SHA, "layout": "labram",
            "tokenizer_used": TOKENIZER, "backbone_used": None}  # fmt: skip

MALFORMED_BACKBONES = {
    "long layout": {**BACKBONE, "layout": "x" * 10_000},
    "layout not text": {**BACKBONE, "layout": 3},
    "sha256 not hex": {**BACKBONE, "sha256": "zz" * 32},
    "path a number": {**BACKBONE, "path": 7},
    "path over PATH_MAX": {**BACKBONE, "path": "p" * 5000},
    "a string": "labram",
    "nested tokenizer malformed": {**BACKBONE, "tokenizer_used": {**TOKENIZER, "sha256": 1}},
    "n_codes a bool": {**BACKBONE, "tokenizer_used": {**TOKENIZER, "config": {"n_codes": True}}},
    "trained_by_run text": {**BACKBONE,
                            "tokenizer_used": {**TOKENIZER, "trained_by_run": "yes"}},
}  # fmt: skip


def _deep(n: int) -> dict:
    rec: dict = {**BACKBONE}
    for _ in range(n):
        rec = {**BACKBONE, "backbone_used": rec}
    return rec


@pytest.mark.parametrize("case", sorted(MALFORMED_BACKBONES))
def test_each_malformed_field_is_named(case):
    why = problem("backbone_used", MALFORMED_BACKBONES[case])
    assert why is not None and len(why) < 400 and "\n" not in why


def test_sound_records_pass():
    assert problem("backbone_used", BACKBONE) is None
    assert problem("tokenizer_used", TOKENIZER) is None
    assert problem("backbone_used", {**BACKBONE, "tokenizer_used": MALFORMED}) is None
    assert problem("backbone_used", backbone_used.record(None)) is None
    assert problem("backbone_used", _deep(10)) is None
    assert "nested" in (problem("backbone_used", _deep(40)) or "")


def test_a_malformed_record_is_described_as_such():
    assert backbone_used.describe(MALFORMED) == SHOWN
    assert tokenizer_used.describe({**TOKENIZER, "sha256": 5}) == SHOWN
    assert backbone_used.describe(MALFORMED_BACKBONES["long layout"]) == SHOWN


def _checkpoint(tmp_path: Path, **records) -> Path:
    path = tmp_path / "best.pt"
    save_ours(LaBraMClassifier(model_config("tiny"), 2), path)
    obj = torch.load(path, weights_only=True)
    obj.update(records)
    torch.save(obj, path)
    return path


def test_export_warns_of_a_malformed_record_and_does_not_copy_it(tmp_path):
    src = _checkpoint(tmp_path, backbone_used=MALFORMED_BACKBONES["long layout"])
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        out = export(src, tmp_path / "m.safetensors")
    said = [str(w.message) for w in got if "backbone_used" in str(w.message)]
    assert said and all(s.startswith(f"{src}: its backbone_used record is malformed") for s in said)
    assert all(len(without_paths(s, [src])) < 600 and "\n" not in s for s in said)
    card = Path(out["card"]).read_text()
    assert f"| initial weights (fine-tuned from) | {SHOWN} |" in card
    assert "x" * 300 not in card and "x" * 300 not in Path(out["card_json"]).read_text()
    meta = read_safetensors(tmp_path / "m.safetensors")
    assert "backbone_used" not in meta


def test_text_from_a_sound_record_is_escaped_and_capped_in_the_card(tmp_path):
    hostile = "<script>x</script>\x1b[31m|`**" + "p" * 3000
    rec = {**BACKBONE, "path": hostile}
    assert problem("backbone_used", rec) is None
    out = export(_checkpoint(tmp_path, backbone_used=rec), tmp_path / "m.safetensors")
    card = Path(out["card"]).read_text()
    row = next(line for line in card.splitlines() if line.startswith("| initial weights"))
    assert "<script>" not in row and "\x1b" not in row and "p" * 300 not in row
    assert "\\<script\\>" in row and "\\\\x1b" in row
    assert json.loads(Path(out["card_json"]).read_text())["backbone_used"]["path"] == hostile


@pytest.mark.parametrize("case", ["long layout", "a string", "sha256 not hex"])
def test_a_resume_refuses_a_malformed_record(tmp_path, case):
    now = {**BACKBONE, "path": "model.pt"}
    with pytest.raises(UsageError, match=r"cannot resume .*backbone_used is malformed") as info:
        backbone_used.check_resume(tmp_path, {"backbone_used": MALFORMED_BACKBONES[case]}, now)
    said = str(info.value)
    assert "\n" not in said and len(without_paths(said, [tmp_path])) < 600  # (not the machine's)


def test_a_pretrain_resume_refuses_a_malformed_tokenizer_record(tmp_path):
    with pytest.raises(UsageError, match=r"cannot resume .*tokenizer_used is malformed"):
        tokenizer_used.check_unchanged(tmp_path, {**TOKENIZER, "sha256": "nothex"}, TOKENIZER)
    before = {"tokenizer_checkpoint": "tok.pt", "tokenizer_used": "tok.pt"}
    with pytest.raises(UsageError, match=r"tokenizer_used is malformed"):
        tokenizer_used.check_resume(tmp_path, before, "tok.pt", TOKENIZER)


def test_what_a_checkpoint_says_is_capped_on_the_card(tmp_path):
    """The recipe and task a checkpoint holds are copied onto the card's rows capped (255
    characters) and escaped, not verbatim. (A task name over 255 characters is refused before:
    the record text rule, tests/labram/test_task_record_names.py.)"""
    long = "<b>" + "r" * 10_000
    src = _checkpoint(
        tmp_path,
        train_config={"recipe": long},
        task={"name": "<b>|" + "t" * 251, "kind": "regression"},
    )
    out = export(src, tmp_path / "m.safetensors")
    rows = [line for line in Path(out["card"]).read_text().splitlines() if line.startswith("| ")]
    recipe = next(r for r in rows if r.startswith("| training recipe |"))
    task = next(r for r in rows if r.startswith("| task |"))
    assert "<b>" not in recipe and "\\<b\\>" in recipe and recipe.endswith("... |")
    assert "<b>" not in task and "\\<b\\>" in task and "\\|" in task
    assert len(recipe) < 300 and len(task) < 300
