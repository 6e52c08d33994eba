"""A checkpoint whose spatial or time table is smaller than the task's windows need: one line
naming it in every command that runs it on a task (as embed and predict said), not an internal
error from the forward pass."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest
import torch

from labram.checkpoints.layouts import ours_dict, save_ours
from labram.checkpoints.safe_read import read_checkpoint
from labram.model.classifier import LaBraMClassifier
from labram.model.config import ModelConfig, model_config
from labram.model.mem import LaBraMForMEM
from labram.train.checkpoint import atomic_save
from tests.labram.cli_runs import one_error, run_labram, tuab_finetune
from tests.labram.test_run_guards import TINY

SMALL: dict[str, tuple[ModelConfig, str]] = {
    "spatial": (
        dataclasses.replace(model_config("tiny"), n_spatial=20),
        "its spatial table has 20 rows (vocabulary indices 0..18), so channels",
    ),
    "time": (
        dataclasses.replace(model_config("tiny"), n_time=2),
        "its time table has 2 rows, so it embeds windows of at most 2 s, not 10 s",
    ),
}


@pytest.fixture(scope="module")
def run(tuab: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("r") / "ft"
    code, output = run_labram(*tuab_finetune(tuab, TINY), "--out", out)
    assert code == 0, output
    return out


@pytest.mark.parametrize("table", sorted(SMALL))
def test_finetune_init_refuses_it_before_a_run_folder_is_made(
    table: str, tuab: str, tmp_path: Path
) -> None:
    cfg, says = SMALL[table]
    init = tmp_path / "model.pt"
    save_ours(LaBraMForMEM(cfg), init)
    out = tmp_path / "ft"
    one_error(
        *run_labram(
            *tuab_finetune(tuab, TINY),
            "--init",
            init,
            "--out",
            out,
        ),
        f"{init}: {says}",
    )
    assert not out.exists()


def _small_best(run: Path, table: str, where: Path) -> Path:
    """The run's best.pt, its model one of ``table``'s smaller size (records kept)."""
    obj = {**read_checkpoint(run / "seed0" / "best.pt"),
           **ours_dict(LaBraMClassifier(SMALL[table][0], 1))}  # fmt: skip
    atomic_save(obj, where, keep_previous=False)
    return where


@pytest.mark.parametrize("table", sorted(SMALL))
def test_evaluate_refuses_it(table: str, run: Path, tuab: str, tmp_path: Path) -> None:
    best = _small_best(run, table, tmp_path / "best.pt")
    one_error(*run_labram("evaluate", "--store", tuab, "--task", "tuab", "--checkpoint", best,
                          "--device", "cpu"), f"{best}: {SMALL[table][1]}")  # fmt: skip


@pytest.mark.parametrize("table", sorted(SMALL))
def test_report_predict_names_it(table: str, run: Path, tmp_path: Path) -> None:
    folder = tmp_path / "ft"
    shutil.copytree(run, folder)
    (folder / "seed0" / "predictions.csv").unlink()
    best = _small_best(run, table, folder / "seed0" / "best.pt")
    code, output = run_labram("report", folder, "--predict", "--device", "cpu")
    assert code == 3, output
    assert f"no predictions: {best}: {SMALL[table][1]}" in output
    assert "internal error" not in output


@pytest.mark.parametrize("table", ["n_spatial", "n_time"])
def test_pretrain_refuses_a_tokenizer_of_such_tables(
    table: str, store: str, tmp_path: Path
) -> None:
    from labram.model.config import TOKENIZER_PRESETS
    from labram.model.tokenizer import VQNSPTokenizer

    small = {"n_spatial": 20, "n_time": 2}[table]
    tok = tmp_path / "tokenizer.pt"
    model = VQNSPTokenizer(dataclasses.replace(TOKENIZER_PRESETS["tiny"], **{table: small}))
    model.quantizer.codebook.copy_(torch.nn.functional.normalize(torch.randn(256, 16), dim=1))
    model.quantizer.initted.fill_(1.0)  # (a trained codebook: an all-zero one is warned of)
    save_ours(model, tok)
    says = "its spatial table has 20 rows" if table == "n_spatial" else "its time table has 2 rows"
    out = tmp_path / "pre"
    one_error(*run_labram("pretrain", "--store", store, "--tokenizer", tok, *TINY, "--out", out),
              f"{tok}: {says}")  # fmt: skip
    assert not (out / "mem").exists()  # (no stage began)
