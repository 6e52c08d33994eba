"""The LaBraM recipe, number by number, as the commands' defaults give it.

Each expected number below is the paper's (model sizes, tokenizer, masked modelling, the three
stages' optimiser and schedule, the signal contract, the TUAB/TUEV tasks); each value checked is
read from what ``labram tokenizer``, ``labram pretrain`` and ``labram finetune`` build (their
config path, the size presets, a model built from them), never restated from our own code.
Where we differ on purpose, docs/model.md ("Recipes") and docs/training.md say so; those rows
are checked by tests/labram/test_recipe.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from eegprep.pipeline.recipe import Recipe
from labram.command_options import stage_config
from labram.commands import labram_cli
from labram.data.block_reader import to_model_units
from labram.data.tasks import PROTOCOL_23, TASKS
from labram.data.windows import WindowSettings
from labram.model.classifier import LaBraMClassifier
from labram.model.config import PATCH_SIZE, model_config, tokenizer_config
from labram.model.mem import LaBraMForMEM, random_mask
from labram.model.tokenizer import VQNSPTokenizer
from labram.train.metrics import classification

DOCS = Path(__file__).resolve().parents[2] / "docs"

# the paper's sizes: depth, width, heads, MLP width, conv channels, backbone parameters
PAPER_SIZES = {
    "base": (12, 200, 10, 800, 8, 5.8e6),
    "large": (24, 400, 16, 1600, 16, 46e6),
    "huge": (48, 800, 16, 3200, 32, 369e6),
}


def _count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def _backbone_from_the_facts(depth: int, dim: int, heads: int, mlp: int, conv: int) -> int:
    """Parameters of a LaBraM backbone computed from the paper's description alone."""
    stem = (conv * 1 * 1 * 15 + conv) + 2 * (conv * conv * 1 * 3 + conv) + 3 * (2 * conv)
    tables = dim + 129 * dim + 16 * dim  # CLS token, spatial (CLS + 128 names), time (16 s)
    attention = 3 * dim * dim + 2 * 2 * (dim // heads) + dim * dim + dim  # no qkv bias; QK-norm
    block = 2 * dim + 2 * 2 * dim + attention + (dim * mlp + mlp) + (mlp * dim + dim)
    return stem + tables + depth * block


@pytest.mark.parametrize("size", sorted(PAPER_SIZES))
def test_model_sizes_are_the_papers(size: str) -> None:
    depth, dim, heads, mlp, conv, paper = PAPER_SIZES[size]
    cfg = model_config(size)
    assert (cfg.depth, cfg.dim, cfg.n_heads, cfg.mlp_hidden, cfg.conv_channels) == (
        depth, dim, heads, mlp, conv,
    )  # fmt: skip
    assert (cfg.n_spatial, cfg.n_time, cfg.n_codes) == (129, 16, 8192)
    assert (cfg.qk_norm, cfg.qv_bias) == (True, False)
    assert (cfg.layer_scale_init, cfg.norm_eps) == (0.1, 1e-6)
    assert (cfg.init_std, PATCH_SIZE) == (0.02, 200)
    with torch.device("meta"):
        clf = LaBraMClassifier(cfg, 1)
    expected = _backbone_from_the_facts(depth, dim, heads, mlp, conv)
    assert _count(clf.backbone) == expected
    assert round(expected / 1e6, 1 if paper < 1e7 else 0) == round(paper / 1e6, 1)
    head = clf.head.weight
    assert tuple(head.shape) == (1, dim) and clf.fc_norm.eps == 1e-6


def test_tokenizer_is_the_papers() -> None:
    tcfg = tokenizer_config("base")
    assert (tcfg.dim, tcfg.encoder_depth, tcfg.decoder_depth, tcfg.n_heads) == (200, 12, 3, 10)
    assert (tcfg.n_codes, tcfg.code_dim, tcfg.decay, tcfg.beta) == (8192, 64, 0.99, 1.0)
    assert tcfg.kmeans_iters == 10 and tcfg.conv_channels == 8
    with torch.device("meta"):
        tok = VQNSPTokenizer(tcfg)
    enc = tok.encoder.config
    assert (enc.qk_norm, enc.qv_bias, enc.layer_scale_init) == (False, True, 0.0)
    assert [m.out_features for m in tok.to_code if isinstance(m, torch.nn.Linear)] == [200, 64]
    assert tok.amplitude_head[-1].out_features == tok.phase_head[-1].out_features == 200
    # ~8.6 M with the decoder, as the original counts it: its codebook and the codebook's
    # running sums are parameters there (buffers here)
    q = tok.quantizer
    total = _count(tok) + q.codebook.numel() + q.legacy_embed_avg.numel()
    assert round(total / 1e6, 1) == 8.6


def _stage(stage: str, size: str = "base") -> dict:
    """The resolved config a training command starts from with no flags."""
    return stage_config(stage, {"size": size}).to_dict()


@pytest.mark.parametrize("size", ["base", "large", "huge"])
def test_stage_defaults_are_the_papers(size: str) -> None:
    tok, mem, fine = _stage("tokenizer", size), _stage("pretrain", size), _stage("finetune", size)
    keys = ("betas", "weight_decay", "min_lr", "warmup_epochs", "epochs", "grad_clip")
    assert [tok[k] for k in keys] == [[0.9, 0.99], 1e-4, 1e-5, 10, 100, None]
    assert (tok["lr"], tok["lr_batch"], tok["stride_seconds"]) == (5e-5, 128, 1.0)
    assert tok["batch_size"] * 8 == 1024  # 4e-4 at 1024 windows a step on 8 GPUs
    assert stage_config("tokenizer", {"size": size}).peak_lr(8) == pytest.approx(4e-4)
    assert [mem[k] for k in keys] == [[0.9, 0.98], 0.05, 1e-5, 5, 50, 3.0]
    assert (mem["lr"], mem["batch_size"] * 8, mem["layer_decay"]) == (5e-4, 512, 1.0)
    assert mem["drop_path"] == 0.0 and mem["token_budget"] == 256
    assert [fine[k] for k in keys[:-1]] == [[0.9, 0.999], 0.05, 1e-5, 5, 50]
    assert (fine["lr"], fine["batch_size"] * 8) == (5e-4, 512)
    assert (fine["layer_decay"], fine["drop_path"]) == (0.65, 0.1)


def test_masking_is_half_of_every_sample() -> None:
    mask = random_mask(4, 230, generator=torch.Generator().manual_seed(0))
    assert mask.sum(dim=1).tolist() == [115] * 4
    assert not torch.equal(mask[0], mask[1])  # drawn per sample
    with torch.device("meta"):
        mem = LaBraMForMEM(model_config("base"))
    assert mem.lm_head.out_features == 8192 and mem.norm.normalized_shape == (200,)


def test_signal_contract_is_the_papers() -> None:
    recipe = Recipe()
    assert (recipe.sfreq, recipe.l_freq, recipe.h_freq, recipe.notch) == (200.0, 0.1, 75.0, True)
    assert to_model_units(np.array([100.0], dtype=np.float32)).tolist() == [1.0]  # 0.1 mV
    windows = WindowSettings()
    assert (windows.token_budget, windows.max_seconds) == (256, 16)


def test_tuab_and_tuev_are_the_papers() -> None:
    tuab, tuev = TASKS["tuab"], TASKS["tuev"]
    protocol = "FP1 FP2 F3 F4 C3 C4 P3 P4 O1 O2 F7 F8 T3 T4 T5 T6 A1 A2 FZ CZ PZ T1 T2".split()
    assert list(PROTOCOL_23) == protocol and tuab.channels == tuev.channels == PROTOCOL_23
    assert (tuab.kind, tuab.n_outputs, tuab.window_seconds, tuab.classes[1]) == (
        "binary", 1, 10, "abnormal",
    )  # fmt: skip
    assert tuab.stride_seconds is None and tuab.label_smoothing == 0.0
    assert tuev.classes == ("SPSW", "GPED", "PLED", "EYEM", "ARTF", "BCKG")
    assert (tuev.n_outputs, tuev.window_seconds, tuev.label_smoothing) == (6, 5, 0.1)
    assert {"balanced_accuracy", "auc_pr", "auroc"} <= set(tuab.report_metrics)
    assert {"balanced_accuracy", "cohen_kappa", "weighted_f1"} <= set(tuev.report_metrics)
    scores = classification(np.array([0, 1, 1, 0]), np.array([-1.0, 2.0, -0.5, 0.5]))
    assert scores["balanced_accuracy"] == 0.5  # threshold 0.5 on the probability


def test_training_page_says_how_the_defaults_meet_the_paper() -> None:
    """Where a default is not the paper's protocol, docs/training.md says how to get it."""
    seeds = next(p for p in labram_cli.commands["finetune"].params if p.name == "seeds")
    tuev = TASKS["tuev"]
    page = " ".join((DOCS / "training.md").read_text().split())
    quoted = [
        f"The default is {seeds.default} seed (`--seeds {seeds.default}`); the paper reports the "
        "mean +- std over 5 seeds",
        f"a {tuev.window_seconds} s window from onset - 2 s is the authors' window from start - "
        "2 s to end + 2 s",
    ]
    assert [q for q in quoted if q not in page] == []
