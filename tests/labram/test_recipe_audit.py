"""An audit of the recipe as the code runs it: the learning rate each step is given, and the
metrics' scores against scikit-learn and a count by hand.

- The authors' schedule (their ``cosine_scheduler``) warms up along ``np.linspace(0, peak, W)``:
  step ``i`` at ``peak * i / (W - 1)``, the first at 0. Ours took ``peak * (i + 1) / W`` under
  ``--recipe original`` too, with no switch and no word in the docs. It is now the switch
  ``warmup_start`` (docs/model.md, "Recipes", row 11), checked here on the rates a run logs.
- One-vs-rest AUROC ranked windows by log-probabilities summed in class order: windows of equal
  probability (their logits one another's permutation) differed in the last bit, and a tie
  was counted as won or lost.
"""

from __future__ import annotations

import csv
import json
import math
import warnings
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from labram.commands import labram_cli
from labram.train.config import config_from_options, current_form, train_config
from labram.train.metrics import classification_of_outputs, probabilities
from tests.labram.training_stores import write_pretrain_store

STEPS, WARMUP = 6, 3  # a run of 6 steps whose warm-up takes 3 (its share warmup_epochs / epochs)


def _logged_rates(store: str, out: Path, recipe: str) -> tuple[list[float], dict]:
    """The learning rate of each step of a short tokenizer run, as its log.csv gives it, and
    the run's resolved config."""
    args = ["tokenizer", "--store", store, "--size", "tiny", "--recipe", recipe, "--device",
            "cpu", "--max-steps", str(STEPS), "--set", "log_every=1", "--set",
            f"warmup_epochs={WARMUP * train_config('tokenizer', 'tiny').epochs / STEPS}",
            "--out", str(out)]  # fmt: skip
    res = CliRunner().invoke(labram_cli, args)
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader((out / "log.csv").open()))
    config = json.loads((out / "config.json").read_text())
    return [float(r["lr"]) for r in rows], config


def _cosine(peak: float, floor: float, n: int) -> list[float]:
    """The authors' cosine after the warm-up: ``n`` steps from ``peak`` towards ``floor``."""
    return [floor + 0.5 * (peak - floor) * (1 + math.cos(math.pi * i / n)) for i in range(n)]


@pytest.mark.slow  # (two tokenizer runs, ~20 s: the per-stage tests below check the schedule fast)
def test_the_original_recipe_warms_up_from_zero_as_the_authors(tmp_path: Path) -> None:
    store = write_pretrain_store(tmp_path / "s.zarr", n_subjects=3, seconds=120)
    rates, cfg = _logged_rates(store, tmp_path / "original", "original")
    peak, floor = cfg["lr"], cfg["min_lr"]
    authors = [*np.linspace(0, peak, WARMUP), *_cosine(peak, floor, STEPS - WARMUP)]
    assert rates == pytest.approx(authors, rel=1e-9, abs=1e-15)
    assert rates[0] == 0.0  # (the first step's rate was peak / W)
    assert cfg["warmup_start"] == "zero"
    ours, cfg = _logged_rates(store, tmp_path / "default", "default")
    warm = [peak * (i + 1) / WARMUP for i in range(WARMUP)]
    assert ours == pytest.approx([*warm, *_cosine(peak, floor, STEPS - WARMUP)], rel=1e-9)
    assert cfg["warmup_start"] == "first_step"


@pytest.mark.parametrize("stage", ["tokenizer", "pretrain", "finetune"])
def test_every_stage_takes_the_switch_and_older_configs_keep_theirs(stage: str) -> None:
    assert train_config(stage, "base", recipe="original").warmup_start == "zero"
    assert train_config(stage, "base", warmup_start="zero").warmup_start == "zero"
    old = train_config(stage, "base", recipe="original").to_dict()
    del old["warmup_start"]  # a run folder written before the field: its warm-up was ours
    assert current_form(old)["warmup_start"] == "first_step"


def test_the_switch_without_a_warm_up_is_warned_of() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        config_from_options("finetune", "tiny", sets=["warmup_start=zero", "warmup_epochs=0"])
        config_from_options("finetune", "tiny", sets=["warmup_start=zero"])  # (it takes effect)
    lines = [str(w.message) for w in caught]
    assert len(lines) == 1 and lines[0].startswith("warmup_start zero has no effect"), lines
    assert "warmup_epochs 0" in lines[0]


def _by_hand_auroc(positive: np.ndarray, score: list[float]) -> float:
    """Mann-Whitney: the share of (positive, negative) pairs ranked right, a tie half."""
    pos = [s for s, p in zip(score, positive, strict=True) if p]
    neg = [s for s, p in zip(score, positive, strict=True) if not p]
    won = sum(1.0 if a > b else 0.5 if a == b else 0.0 for a in pos for b in neg)
    return won / (len(pos) * len(neg))


def _exact_score(row: np.ndarray, k: int) -> float:
    """A number that orders class ``k``'s probability and is equal for equal probabilities:
    minus the exactly rounded sum of ``exp(z_j - z_k)``, in sorted order."""
    return -math.fsum(sorted(math.exp(float(zj - row[k])) for zj in row))


def test_one_vs_rest_auroc_counts_ties_as_ties() -> None:
    rng = np.random.default_rng(7)
    n_cases = 0
    for _ in range(200):
        n = int(rng.integers(8, 40))
        y = rng.integers(0, 4, n)
        if len(np.unique(y)) < 4:
            continue
        z = rng.integers(-2, 3, (n, 4)).astype(np.float64)  # small integers: many ties
        got = classification_of_outputs("multiclass", y, z)["auroc"]
        scores = [[_exact_score(r, k) for r in z] for k in range(4)]
        want = float(np.mean([_by_hand_auroc(y == k, scores[k]) for k in range(4)]))
        assert got == pytest.approx(want, abs=1e-12)
        n_cases += 1
    assert n_cases > 100


def test_metrics_are_sklearns_of_the_probabilities() -> None:
    """Balanced accuracy, kappa, weighted F1 (the predicted class: the most probable one,
    by hand) and the binary AUROC / AUC-PR, against scikit-learn on the probabilities, with
    ties and a class that no window is predicted as."""
    from sklearn import metrics as skm

    rng = np.random.default_rng(3)
    for case in range(60):
        n = int(rng.integers(6, 30))
        y = rng.integers(0, 6, n)
        z = rng.integers(-2, 3, (n, 6)).astype(np.float64)
        z[:, case % 6] = -40.0  # a class no window is predicted as
        pred = np.array([int(np.flatnonzero(r == r.max())[0]) for r in z])  # by hand
        got = classification_of_outputs("multiclass", y, z)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert got["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(y, pred))
            assert got["cohen_kappa"] == pytest.approx(skm.cohen_kappa_score(y, pred))
            assert got["weighted_f1"] == pytest.approx(
                skm.f1_score(y, pred, average="weighted", zero_division=0)
            )
        yb = rng.integers(0, 2, n)
        if len(np.unique(yb)) < 2:
            continue
        logit = rng.integers(-2, 3, (n, 1)).astype(np.float64)  # ties, and logits of 0
        p = probabilities("binary", logit)[:, 1]
        got = classification_of_outputs("binary", yb, logit)
        predb = (p >= 0.5).astype(int)  # a probability of 0.5 is the positive class
        assert got["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(yb, predb))
        assert got["auroc"] == pytest.approx(skm.roc_auc_score(yb, p))
        assert got["auroc"] == pytest.approx(_by_hand_auroc(yb == 1, list(logit[:, 0])))
        assert got["auc_pr"] == pytest.approx(skm.average_precision_score(yb, p))
