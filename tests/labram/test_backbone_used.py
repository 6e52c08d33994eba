"""A fine-tuned model records the model it started from (the --init file's path, SHA-256, and
the tokenizer record that file holds) in its config.json, checkpoints, results.json, exports
and cards, and in what predict and embed say of it; `finetune --resume` refuses, in one line,
other initial weights than the run began with (labram/stages/backbone_used.py)."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
import zarr

from labram.checkpoints.layouts import save_official
from labram.checkpoints.safe_read import read_checkpoint
from labram.model.config import model_config
from labram.model.mem import LaBraMForMEM
from labram.stages import backbone_used
from tests.labram.cli_runs import one_error, pretrained_tuab_demo, run_labram, tuab_finetune
from tests.labram.test_run_guards import TINY

KEY = "backbone_used"
TOKENIZER = "tokenizer_used"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The TUAB demo corpus (8 subjects of 20-30 s) ingested, and a tiny masked model
    pre-trained on it (2 tokenizer steps, 2 masked-modelling steps): its model.pt and last.pt
    hold the tokenizer's record."""
    return pretrained_tuab_demo(tmp_path_factory.mktemp("backbone"), TINY)


def _finetune(store: Path, out: Path, *init: object, resume: bool = False) -> tuple[int, str]:
    return run_labram(
        *tuab_finetune(store, TINY),
        *init,
        "--out",
        out,
        *(["--resume", "--max-steps", "3"] if resume else []),
    )


def test_the_record_survives_finetune_export_and_reading_back(
    demo: dict[str, Path], tmp_path: Path
) -> None:
    init = demo["pt"] / "mem" / "model.pt"
    tokenizer = json.loads((demo["pt"] / "config.json").read_text())[TOKENIZER]
    assert read_checkpoint(init)[TOKENIZER] == tokenizer
    out = tmp_path / "ft"
    code, output = _finetune(demo["store"], out, "--init", init)
    assert code == 0, output
    rec = json.loads((out / "results.json").read_text())[KEY]
    assert rec["path"] == str(init) and rec["resolved"] == str(init.resolve())
    assert rec["sha256"] == _sha256(init) and rec["layout"] == "labram"
    assert rec[TOKENIZER] == tokenizer and rec[KEY] is None  # pre-trained, not fine-tuned
    assert json.loads((out / "seed0" / "config.json").read_text())[KEY] == rec
    assert read_checkpoint(out / "seed0" / "best.pt")[KEY] == rec
    assert read_checkpoint(out / "seed0" / "last.pt")["extra"][KEY] == rec
    said = f"{init} (labram layout), SHA-256 {rec['sha256'][:16]}...; tokenizer: "
    code, output = run_labram("report", out, "--html", tmp_path / "r.html")
    assert code == 0, output
    assert f"  initial weights (fine-tuned from): {said}" in output
    assert f"SHA-256 {rec['sha256'][:16]}" in (tmp_path / "r.html").read_text()
    weights = tmp_path / "clf.safetensors"
    code, output = run_labram("export", out / "seed0" / "best.pt", "--out", weights)
    assert code == 0, output
    assert f"initial weights (fine-tuned from): {said}" in output
    assert f"SHA-256 {tokenizer['sha256'][:16]}..." in output  # the tokenizer's, through it
    assert read_checkpoint(weights)[KEY] == rec  # the export's metadata, read back
    assert json.loads((tmp_path / "clf.card.json").read_text())[KEY] == rec
    card = (tmp_path / "clf.card.md").read_text()
    assert "| initial weights (fine-tuned from) |" in card and rec["sha256"][:16] in card
    # fine-tuned again from the export: the chain is kept, the tokenizer found through it
    code, output = _finetune(demo["store"], tmp_path / "ft2", "--init", weights)
    assert code == 0, output
    again = json.loads((tmp_path / "ft2" / "results.json").read_text())[KEY]
    assert again["sha256"] == _sha256(weights) and again[KEY] == rec
    assert again[TOKENIZER] == tokenizer


def test_predict_and_embed_state_the_record(demo: dict[str, Path], tmp_path: Path) -> None:
    init = demo["pt"] / "mem" / "model.pt"
    out = tmp_path / "ft"
    code, output = _finetune(demo["store"], out, "--init", init)
    assert code == 0, output
    rec = json.loads((out / "results.json").read_text())[KEY]
    best = out / "seed0" / "best.pt"
    edf = sorted(demo["src"].rglob("*.edf"))[0]
    code, output = run_labram("predict", edf, "--checkpoint", best, "--json", "--device", "cpu")
    assert code == 0, output
    assert json.loads(output)[KEY] == rec
    emb = tmp_path / "emb.zarr"
    code, output = run_labram("embed", "--store", demo["store"], "--checkpoint", best,
                              "--out", emb, "--device", "cpu")  # fmt: skip
    assert code == 0, output
    assert zarr.open_group(str(emb), mode="r").attrs[KEY] == rec
    assert json.loads((emb / "_labram" / "embed.json").read_text())[KEY] == rec
    code, output = run_labram("embed", "--store", demo["store"], "--checkpoint", init,
                              "--out", tmp_path / "emb_mem", "--device", "cpu")  # fmt: skip
    assert code == 0, output
    attrs = zarr.open_group(str(tmp_path / "emb_mem"), mode="r").attrs
    assert attrs[TOKENIZER] == rec[TOKENIZER] and attrs[KEY] is None


def test_resume_with_a_swapped_init_is_refused(demo: dict[str, Path], tmp_path: Path) -> None:
    init, other = tmp_path / "init.pt", tmp_path / "other.pt"
    shutil.copy(demo["pt"] / "mem" / "model.pt", init)
    shutil.copy(demo["pt"] / "mem" / "last.pt", other)  # the same model, other bytes
    out = tmp_path / "ft"
    code, output = _finetune(demo["store"], out, "--init", init)
    assert code == 0, output
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    one_error(*_finetune(demo["store"], out, "--init", other, resume=True),
              f"cannot resume {out / 'seed0'}", f"the initial weights --init {other} is not the "
              f"file the run began with ({init})", "SHA-256", f"pass {init} again")  # fmt: skip
    one_error(
        *_finetune(demo["store"], out, resume=True),
        f"the run began from --init {init}",
        "no --init (random initial weights)",
    )
    shutil.copy(other, init)  # the same path, other bytes
    one_error(*_finetune(demo["store"], out, "--init", init, resume=True),
              f"the initial weights --init {init} changed since the run began",
              "restore that file")  # fmt: skip
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    (out / "seed0" / "config.json").unlink()  # lost: last.pt's record still refuses
    one_error(*_finetune(demo["store"], out, "--init", init, resume=True),
              f"the initial weights --init {init} changed since the run began")  # fmt: skip
    shutil.copy(demo["pt"] / "mem" / "model.pt", init)  # put back: resumes
    code, output = _finetune(demo["store"], out, "--init", init, resume=True)
    assert code == 0, output


def test_weights_that_record_no_tokenizer_say_unknown(tmp_path: Path) -> None:
    """The released labram-base.pth records no tokenizer: null, shown as unknown."""
    released = tmp_path / "labram-base.pth"
    save_official(LaBraMForMEM(model_config("tiny")), released)
    rec = backbone_used.read(released)
    assert rec["layout"] == "released" and rec["sha256"] == _sha256(released)
    assert rec[TOKENIZER] is None and rec[KEY] is None
    said = backbone_used.describe(rec)
    assert said.startswith(f"{released} (released layout), SHA-256 {rec['sha256'][:16]}...")
    assert "tokenizer: unknown (the file records none" in said
    assert backbone_used.describe(backbone_used.read(None)) == "none (random initial weights)"
    assert backbone_used.describe(None).startswith("not recorded")


@pytest.mark.slow
def test_every_fold_records_the_init_and_refuses_another_on_resume(
    demo: dict[str, Path], tmp_path: Path
) -> None:
    """A protocol with folds keeps its seeds in fold*/seed*/: each is checked on --resume (the
    folds test subjects the demo model was pre-trained on: allowed here)."""
    init = tmp_path / "init.pt"
    shutil.copy(demo["pt"] / "mem" / "model.pt", init)
    out = tmp_path / "cv"
    folds = ("--protocol", "cross-subject", "--folds", "2", "--allow-seen-subjects")
    code, output = _finetune(demo["store"], out, "--init", init, *folds)
    assert code == 0, output
    made = sorted(out.glob("fold*/seed0/config.json"))
    assert len(made) == 2
    for path in made:
        assert json.loads(path.read_text())[KEY]["sha256"] == _sha256(init)
    shutil.copy(demo["pt"] / "mem" / "last.pt", init)  # the same path, other bytes
    one_error(*_finetune(demo["store"], out, "--init", init, *folds, resume=True),
              f"cannot resume {made[0].parent}",
              f"the initial weights --init {init} changed since the run began")  # fmt: skip
