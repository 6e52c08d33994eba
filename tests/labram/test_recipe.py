"""Recipes (ours vs the authors'), stage-specific overrides, leakage control, determinism."""

from __future__ import annotations

import csv
import math
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from eegprep.base.errors import ConfigError, UsageError
from labram.checkpoints.layouts import save_ours
from labram.checkpoints.safe_read import read_checkpoint
from labram.command_options import stage_config
from labram.commands import labram_cli
from labram.data.tasks import build_task_indexes, get_task, split_subjects
from labram.data.windows import WindowConfig, build_pretrain_index
from labram.model.classifier import LaBraMClassifier
from labram.model.config import model_config, tokenizer_config
from labram.model.mem import LaBraMForMEM
from labram.model.original_init import original_init
from labram.model.tokenizer import VQNSPTokenizer
from labram.train import leakage
from labram.train.checkpoint import attach_subjects
from labram.train.config import TrainConfig, train_config
from labram.train.optim import make_optimizer
from tests.labram.training_stores import write_pretrain_store, write_tuab_like

REPO = Path(__file__).resolve().parents[2]

# The table of docs/model.md ("Recipes"): (stage, field) -> (ours, the authors')
TABLE = {
    ("pretrain", "stride_seconds"): (None, 4.0),
    ("finetune", "selection_metric"): ("auto", "accuracy"),
    ("finetune", "selection_ties"): ("later", "earlier"),
    ("finetune", "val_split"): ("stratified", "stratified"),
    ("finetune", "time_embed_layer"): ("embeddings", "top"),
    ("tokenizer", "revive_dead_codes"): (True, False),
    ("tokenizer", "init"): ("default", "original"),
    ("pretrain", "init"): ("default", "original"),
    ("finetune", "init"): ("default", "original"),
    ("finetune", "min_lr"): (1e-5, 1e-6),
    ("finetune", "val_rounding"): ("round", "floor"),
    ("finetune", "split_seed"): (0, 4523),
    ("finetune", "edge_events"): ("drop", "wrap"),
    ("tokenizer", "pretrain_test_splits"): (False, True),
    ("pretrain", "pretrain_test_splits"): (False, True),
    ("tokenizer", "warmup_start"): ("first_step", "zero"),
    ("pretrain", "warmup_start"): ("first_step", "zero"),
    ("finetune", "warmup_start"): ("first_step", "zero"),
}


@pytest.mark.parametrize("size", ["tiny", "base"])
def test_both_recipes_set_every_field_of_the_table(size: str) -> None:
    for (stage, name), (ours, original) in TABLE.items():
        if size == "tiny" and name == "stride_seconds":
            ours = 2.0  # the tiny (demo) preset's own stride; the original recipe's still wins
        assert getattr(train_config(stage, size), name) == ours, (stage, name)
        assert getattr(train_config(stage, size, recipe="original"), name) == original
    # a recipe changes only the table's fields (and its own name)
    for stage in ("tokenizer", "pretrain", "finetune"):
        a = train_config(stage, size).to_dict()
        b = train_config(stage, size, recipe="original").to_dict()
        changed = {k for k in a if a[k] != b[k]} - {"recipe"}
        assert changed <= {n for (_, n) in TABLE}, changed
    with pytest.raises(ConfigError, match="recipe"):
        train_config("pretrain", recipe="authors")
    with pytest.raises(ConfigError, match="edge_events"):
        TrainConfig(edge_events="clip")


def test_pretrain_flags_set_one_stage_each() -> None:
    kw = {"size": "tiny", "lr": 1e-3, "epochs": 3, "max_steps": 7, "batch_size": 4, "seed": 5}
    kw["sets"] = ("tokenizer.warmup_epochs=0.25", "log_every=2", "mem.min_lr=2e-6")
    tok_flags = {"lr": 2e-4, "epochs": None, "max_steps": 9, "batch_size": None}
    mem = stage_config("pretrain", kw)
    tok = stage_config("tokenizer", kw, stage_flags=tok_flags)
    assert (mem.lr, mem.epochs, mem.max_steps, mem.batch_size) == (1e-3, 3, 7, 4)
    base = train_config("tokenizer", "tiny")
    assert (tok.lr, tok.epochs, tok.max_steps, tok.batch_size) == (2e-4, base.epochs, 9, 16)
    assert mem.seed == tok.seed == 5 and mem.log_every == tok.log_every == 2
    assert tok.warmup_epochs == 0.25 and mem.warmup_epochs == 0.5
    assert mem.min_lr == 2e-6 and tok.min_lr == base.min_lr
    with pytest.raises(ConfigError, match="stage prefix"):
        stage_config("pretrain", {**kw, "sets": ("decoder.lr=1",)})


def _outside(t: torch.Tensor, bound: float) -> bool:
    return bool((t.abs() > bound * (1 + 1e-6)).any())


def test_original_init_follows_the_authors_code() -> None:
    torch.manual_seed(0)
    cfg = model_config("tiny", n_codes=64)
    std = cfg.init_std
    ours, orig = LaBraMForMEM(cfg), original_init(LaBraMForMEM(cfg))
    fc1 = "backbone.blocks.0.mlp.fc1.weight"
    assert not _outside(orig.get_parameter(fc1), std) and _outside(ours.get_parameter(fc1), std)
    assert not _outside(orig.get_parameter("backbone.patch_embed.conv1.weight"), std)
    assert not _outside(orig.backbone.time_embed, std)
    assert bool((ours.lm_head.bias == 0).all()) and bool((orig.lm_head.bias != 0).all())
    assert not _outside(orig.lm_head.bias, 1 / math.sqrt(cfg.dim))
    tok = original_init(VQNSPTokenizer(tokenizer_config("tiny")))
    conv_w = tok.get_parameter("encoder.patch_embed.conv1.weight")
    conv_b = tok.get_parameter("encoder.patch_embed.conv1.bias")
    assert _outside(conv_w, 2 * std) and bool((conv_b != 0).any())  # PyTorch's default
    assert _outside(tok.decoder_in.weight, 2 * std)
    assert _outside(tok.get_parameter("encoder.blocks.0.mlp.fc1.weight"), 2 * std)  # +-2 absolute


def test_time_embed_layer_top_gets_the_full_lr() -> None:
    model = LaBraMClassifier(model_config("tiny"), 1)
    for where, scale in (("embeddings", 0.65 ** (model.n_layers - 1)), ("top", 1.0)):
        cfg = train_config("finetune", "tiny", time_embed_layer=where)
        opt = make_optimizer(model, cfg, 1e-3)
        (group,) = [
            g for g in opt.param_groups if any(p is model.backbone.time_embed for p in g["params"])
        ]
        assert group["lr_scale"] == pytest.approx(scale)


def test_validation_split_stratified_and_floor(tmp_path: Path) -> None:
    keys = [f"s{i:02d}" for i in range(20)]
    strata = ["a"] * 15 + ["n"] * 5
    val = split_subjects(keys, seed=0, strata=strata)
    assert Counter(strata[keys.index(k)] for k in val) == {"a": 3, "n": 1}
    assert len(split_subjects(keys[:9], seed=4523, rounding="floor")) == 1  # int(1.8)
    assert len(split_subjects(keys[:9], seed=4523)) == 2  # round(1.8)
    store = write_tuab_like(tmp_path / "t.zarr", n_train=10, n_eval=2, seconds=20)
    task = get_task("tuab")
    for mode, n_abnormal in (("stratified", 1), ("subject", None)):
        index = build_task_indexes([store], task, split_seed=0, val_split=mode)["val"]
        labels = index.labels[:, 0]
        if n_abnormal is not None:  # 5 abnormal, 5 normal subjects: 1 of each in validation
            assert len({p.subject_key for p in index.recordings}) == 2
            assert labels.min() == 0 and labels.max() == 1


def test_pretraining_leaves_out_eval_recordings(tmp_path: Path) -> None:
    store = write_tuab_like(tmp_path / "t.zarr", n_train=3, n_eval=2, seconds=20)
    held = build_pretrain_index([store], WindowConfig())
    every = build_pretrain_index([store], WindowConfig(exclude_splits=()))
    assert held.meta["n_recordings_excluded"] == 2
    assert {r.subject_key for r in held.recordings} == {f"tuh:t{k:03d}" for k in range(3)}
    assert len(every.recordings) == 5


def test_subject_records_list_or_hash() -> None:
    small = leakage.make_record(["b", "a", "a"])
    assert small == {"n": 2, "keys": ["a", "b"], "complete": True}
    assert leakage.seen(small, ["a", "c"]) == {"a"}
    old = leakage.MAX_LISTED
    leakage.MAX_LISTED = 2
    try:
        big = leakage.make_record(["a", "b", "c"])
    finally:
        leakage.MAX_LISTED = old
    assert "keys" not in big and big["sha256_64"].dtype == torch.int64
    assert leakage.seen(big, ["c", "z"]) == {"c"}
    merged = leakage.merge(small, None, extra=["q"])
    assert merged["keys"] == ["a", "b", "q"] and merged["complete"] is False
    with pytest.raises(UsageError, match="1 of 2 test subjects was seen"):
        leakage.check_test_subjects(small, ["a", "z"], allow=False, source="m.pt")
    line = leakage.check_test_subjects(small, ["a", "z"], allow=True, source="m.pt")
    assert line.startswith("1 of 2 test subjects was seen in pre-training")
    assert "records no pre-training subjects" in leakage.check_test_subjects(
        None, ["a"], allow=False, source="labram-base.pth"
    )


def test_finetune_and_evaluate_refuse_seen_test_subjects(tmp_path: Path) -> None:
    store = write_tuab_like(tmp_path / "t.zarr", n_train=4, n_eval=2, seconds=20)
    init = tmp_path / "model.pt"
    save_ours(LaBraMForMEM(model_config("tiny", n_codes=64)), init)
    attach_subjects(init, leakage.make_record(["tuh:e000", "tuh:t000"]))
    assert read_checkpoint(init)["pretrain_subjects"]["n"] == 2  # weights-only readable
    args = ["finetune", "--store", store, "--task", "tuab", "--init", str(init), "--size"]
    args += ["tiny", "--max-steps", "2", "--batch-size", "4", "--device", "cpu"]
    runner = CliRunner()
    res = runner.invoke(labram_cli, [*args, "--out", str(tmp_path / "a")])
    assert res.exit_code == 2
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and "1 of 2 test subjects was seen in pre-training" in lines[0]
    res = runner.invoke(labram_cli, [*args, "--out", str(tmp_path / "b"), "--allow-seen-subjects"])
    assert res.exit_code == 0, res.output
    assert "1 of 2 test subjects was seen in pre-training" in res.output
    best = tmp_path / "b" / "seed0" / "best.pt"
    assert read_checkpoint(best)["pretrain_subjects"]["keys"] == ["tuh:e000", "tuh:t000"]
    ev = ["evaluate", "--store", store, "--task", "tuab", "--checkpoint", str(best)]
    res = runner.invoke(labram_cli, ev)
    assert res.exit_code == 2 and "1 of 2 test subjects" in res.output
    res = runner.invoke(labram_cli, [*ev, "--allow-seen-subjects"])
    assert res.exit_code == 0 and "auroc" in res.output


def test_edge_events_wrap_around_the_recording(tmp_path: Path) -> None:
    from eegprep.pipeline.recipe import Recipe
    from eegprep.store.writer import StoreWriter
    from labram.data.block_reader import BlockReader
    from tests.labram.training_stores import TUAB_ORDER, put

    url = str(tmp_path / "ev.zarr")
    x = np.tile(np.arange(2000, dtype=np.float32), (23, 1))  # 10 s: sample number as value
    events = [[1.0, 1.0, "SPSW", ""]]  # onset, duration, label, channel
    with StoreWriter(url, Recipe()) as w:
        put(
            w,
            "tuev/a_00",
            x,
            list(TUAB_ORDER),
            subject="a",
            subject_key="tuh:a",
            split="train",
            events=events,
        )
    task = get_task("tuev")
    dropped = build_task_indexes([url], task, edge_events="drop")
    wrapped = build_task_indexes([url], task, edge_events="wrap")
    n = sum(len(v) for v in dropped.values())
    assert n == 0 and sum(len(v) for v in wrapped.values()) == 1
    index = next(v for v in wrapped.values() if len(v))
    window = BlockReader(index).window(0)  # onset 1 s - 2 s: starts 1 s before the start
    assert window.shape == (23, 1000)
    np.testing.assert_array_equal(window[0, :200], np.arange(1800, 2000))
    np.testing.assert_array_equal(window[0, 200:], np.arange(800))


def _losses(out: Path) -> list[str]:
    return [r["loss"] for r in csv.DictReader((out / "log.csv").open())]


@pytest.mark.slow
def test_deterministic_runs_are_equal_under_load_and_any_thread_count(tmp_path: Path) -> None:
    store = write_pretrain_store(tmp_path / "s.zarr", n_subjects=3, seconds=120)
    load = subprocess.Popen([sys.executable, "-c", "while True: pass"])  # a concurrent CPU load
    try:
        outs = []
        for i, threads in enumerate(("2", "2", "1")):
            out = tmp_path / f"run{i}"
            env = {**os.environ, "OMP_NUM_THREADS": threads, "PYTHONPATH": str(REPO)}
            cmd = [sys.executable, "-c", "from cli import labram_cli; labram_cli()", "-q"]
            cmd += ["tokenizer", "--store", store, "--size", "tiny", "--max-steps", "12"]
            cmd += ["--set", "log_every=1", "--device", "cpu", "--deterministic"]
            cmd += ["--out", str(out)]
            res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
            assert res.returncode == 0, res.stderr[-2000:]
            outs.append(_losses(out))
    finally:
        load.kill()
        load.wait()
    assert len(outs[0]) == 12
    assert outs[0] == outs[1] == outs[2]  # bit for bit: the logged text is identical
