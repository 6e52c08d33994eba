"""Every classification metric labram reports, against its definition written out here.

The references below count pairs and confusion-matrix cells directly (no scikit-learn), on the
edge cases a test split of real data gives: ties, imbalance, a class absent, one class only,
two classes by one logit or by a softmax, and confident models whose probabilities round to 1.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from eegprep.base import strict_json
from labram.data.tasks import Task, get_task
from labram.stages.evaluate import metric_notes
from labram.stages.scoring import score


def _confusion(y: np.ndarray, pred: np.ndarray, k: int) -> np.ndarray:
    m = np.zeros((k, k))
    for t, p in zip(y, pred, strict=True):
        m[t, p] += 1
    return m


def ref_balanced_accuracy(y: np.ndarray, pred: np.ndarray, k: int) -> float:
    """The mean recall over the classes the true labels hold."""
    m = _confusion(y, pred, k)
    return float(np.mean([m[c, c] / m[c].sum() for c in range(k) if m[c].sum() > 0]))


def ref_kappa(y: np.ndarray, pred: np.ndarray, k: int) -> float:
    """(observed agreement - chance agreement) / (1 - chance agreement); NaN when 0 / 0."""
    m = _confusion(y, pred, k) / len(y)
    po, pe = np.trace(m), float(m.sum(axis=1) @ m.sum(axis=0))
    return math.nan if pe == 1 else (po - pe) / (1 - pe)


def ref_weighted_f1(y: np.ndarray, pred: np.ndarray, k: int) -> float:
    """Per-class F1 (0 where undefined) weighted by the class's share of the true labels."""
    m = _confusion(y, pred, k)
    total = 0.0
    for c in range(k):
        tp, fp, fn = m[c, c], m[:, c].sum() - m[c, c], m[c].sum() - m[c, c]
        f1 = 2 * tp / (2 * tp + fp + fn) if tp > 0 else 0.0
        total += f1 * m[c].sum()
    return total / len(y)


def ref_auroc(positive: np.ndarray, s: np.ndarray) -> float:
    """P(a positive outranks a negative), a tie counting one half (Mann-Whitney)."""
    pos, neg = s[positive], s[~positive]
    wins = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(wins / (len(pos) * len(neg)))


def ref_average_precision(positive: np.ndarray, s: np.ndarray) -> float:
    """Sum over distinct thresholds t (descending) of (recall(t) - recall(previous)) *
    precision(t), every window scoring >= t called positive."""
    ap, last_recall = 0.0, 0.0
    for t in sorted(set(s.tolist()), reverse=True):
        called = s >= t
        recall = (called & positive).sum() / positive.sum()
        ap += (recall - last_recall) * (called & positive).sum() / called.sum()
        last_recall = recall
    return float(ap)


def _label_task(classes: tuple[str, ...]) -> Task:
    kind = "binary" if classes == ("0", "1") else "multiclass"
    return Task(name="label:k", kind=kind, classes=classes, window_seconds=None, label_key="k")


def _check(task: Task, y: np.ndarray, outputs: np.ndarray, probs: np.ndarray) -> dict:
    """score() against the references; ``probs`` (n, n_classes) the exact probabilities."""
    got = score(task, outputs.astype(np.float32), y.astype(np.float32)[:, None])
    k = probs.shape[1]
    two = (probs[:, 1] >= probs[:, 0]).astype(int)  # one logit or two classes: a tie is the 2nd
    pred = two if k == 2 else probs.argmax(axis=1)
    assert got["accuracy"] == pytest.approx(float(np.mean(pred == y)))
    assert got["balanced_accuracy"] == pytest.approx(ref_balanced_accuracy(y, pred, k))
    assert got["weighted_f1"] == pytest.approx(ref_weighted_f1(y, pred, k))
    kappa = ref_kappa(y, pred, k)
    if math.isnan(kappa):
        assert math.isnan(got["cohen_kappa"])
    else:
        assert got["cohen_kappa"] == pytest.approx(kappa)
    return got


def _sigmoid_probs(z: np.ndarray) -> np.ndarray:
    """(n, 2) exact-order probabilities of logits ``z`` (n,): the ranking is z's own."""
    p = 1 / (1 + np.exp(-z.astype(np.float64)))
    return np.stack([1 - p, p], axis=1)


@pytest.mark.parametrize("seed", range(4))
def test_binary_metrics_equal_their_definitions_on_imbalanced_tied_scores(seed: int) -> None:
    rng = np.random.default_rng(seed)
    y = (rng.random(60) < 0.15).astype(int)  # imbalanced: ~1 positive in 7
    y[:2] = [0, 1]
    z = np.round(rng.normal(size=60) + y, 1)  # rounded: many tied scores across the classes
    got = _check(get_task("tuab"), y, z[:, None], _sigmoid_probs(z))
    assert got["auroc"] == pytest.approx(ref_auroc(y == 1, z))
    assert got["auc_pr"] == pytest.approx(ref_average_precision(y == 1, z))


def test_a_confident_model_is_ranked_by_its_logits_not_by_rounded_probabilities() -> None:
    """Logits 20 (a normal window) and 25, 30 (abnormal ones): every positive outranks every
    negative, AUROC and AUC-PR 1. Their float32 sigmoids are all 1.0, tied, and the scores were
    0.75 and 0.67; a float64 sigmoid ties from a logit of 37 on."""
    tuab = get_task("tuab")
    y = np.array([0, 1, 0, 1])
    for big in (0.0, 30.0):
        z = np.array([20.0, 30.0, -3.0, 25.0]) + big
        got = _check(tuab, y, z[:, None], _sigmoid_probs(z))
        assert got["auroc"] == 1.0 == ref_auroc(y == 1, z)
        assert got["auc_pr"] == 1.0 == ref_average_precision(y == 1, z)
    # a softmax of three classes, probabilities of class 0 rounded to 1 for two windows
    z3 = np.array([[30, 0, 0], [40, 0, 0], [0, 5, 0], [0, 0, 5], [0, 0, 9]], np.float64)
    y3 = np.array([1, 0, 1, 2, 2])
    got = _check(_label_task(("a", "b", "c")), y3, z3, z3)
    log_p = z3 - np.log(np.exp(z3).sum(axis=1, keepdims=True))
    ovr = np.mean([ref_auroc(y3 == c, log_p[:, c]) for c in range(3)])
    assert got["auroc"] == pytest.approx(ovr) and ovr == pytest.approx(8 / 9)


def test_two_softmax_classes_get_the_binary_scores_of_the_second_class() -> None:
    rng = np.random.default_rng(7)
    y = np.array([0, 1] * 10 + [0] * 10)
    z = np.round(rng.normal(size=(30, 2)) * 4) / 4  # (exact in float32: ties stay ties)
    z[:, 1] += y
    got = _check(_label_task(("closed", "open")), y, z, z)
    margin = z[:, 1] - z[:, 0]  # ranks as the second class's probability does
    assert got["auroc"] == pytest.approx(ref_auroc(y == 1, margin))
    assert got["auc_pr"] == pytest.approx(ref_average_precision(y == 1, margin))


@pytest.mark.parametrize("seed", range(3))
def test_multiclass_metrics_equal_their_definitions(seed: int) -> None:
    rng = np.random.default_rng(seed)
    y = rng.choice(6, size=80, p=[0.05, 0.05, 0.1, 0.1, 0.2, 0.5])
    y[:6] = np.arange(6)
    z = rng.normal(size=(80, 6))
    z[np.arange(80), y] += 1.0
    got = _check(get_task("tuev"), y, z, z)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    ovr = np.mean([ref_auroc(y == c, log_p[:, c]) for c in range(6)])
    assert got["auroc"] == pytest.approx(ovr)


def test_a_class_absent_from_the_split_leaves_out_auroc_and_not_the_rest() -> None:
    """No window of classes 2..5 but windows predicted as them: balanced accuracy is the mean
    recall of the classes present; AUROC one-vs-rest needs every class and is left out."""
    y = np.array([0, 1, 1, 0, 1, 0])
    z = np.eye(6)[[0, 1, 3, 5, 1, 0]] * 3
    tuev = get_task("tuev")
    got = _check(tuev, y, z, z)
    assert got["balanced_accuracy"] == pytest.approx((2 / 3 + 2 / 3) / 2)
    assert "auroc" not in got and "auc_pr" not in got
    notes = metric_notes(tuev, "test", y[:, None].astype(float), got)
    assert any("AUROC (one-vs-rest) needs every class" in n for n in notes)


def test_one_class_only_is_undefined_null_in_json_never_a_number() -> None:
    """A split holding normal windows only: AUROC and AUC-PR have no positive to rank, so they
    are NaN in the metrics and null in the JSON written, not 0.5 nor a bare NaN."""
    tuab = get_task("tuab")
    y = np.zeros(5, int)
    z = np.array([-2.0, -1.0, 0.5, 3.0, -0.5])
    got = _check(tuab, y, z[:, None], _sigmoid_probs(z))
    assert math.isnan(got["auroc"]) and math.isnan(got["auc_pr"])
    assert got["balanced_accuracy"] == pytest.approx(3 / 5)  # the recall of normal alone
    doc = json.loads(strict_json.dumps({"metrics": got}))
    assert doc["metrics"]["auroc"] is None and doc["metrics"]["auc_pr"] is None
    right = np.array([-2.0, -1.0, -0.5, -3.0, -0.5])  # every window right: kappa is 0 / 0
    got = _check(tuab, y, right[:, None], _sigmoid_probs(right))
    assert math.isnan(got["cohen_kappa"]) and got["balanced_accuracy"] == 1.0
    notes = metric_notes(tuab, "test", y[:, None].astype(float), got)
    assert len(notes) == 1 and "cohen_kappa, auroc, auc_pr undefined (null)" in notes[0]


def test_a_logit_of_zero_is_the_positive_class_as_probability_one_half() -> None:
    """The threshold: probability >= 0.5, i.e. a logit >= 0; the tie goes to the positive."""
    got = score(get_task("tuab"), np.array([[0.0], [-1e-30]], np.float32), np.array([[1.0], [0.0]]))
    assert got["accuracy"] == 1.0


def test_regression_metrics_equal_their_definitions_per_target_averaged() -> None:
    """Pearson r, R^2 and RMSE of each target column, averaged over the columns (mobi's 12
    joint angles); a constant target column has no r nor R^2 (null in JSON), RMSE still."""
    rng = np.random.default_rng(3)
    t = rng.normal(size=(50, 3))
    p = t + rng.normal(scale=0.5, size=(50, 3))
    got = score(get_task("mobi"), p.astype(np.float32), t.astype(np.float32))
    p32, t32 = p.astype(np.float32).astype(np.float64), t.astype(np.float32).astype(np.float64)
    r, r2, rmse = [], [], []
    for j in range(3):
        a, b = t32[:, j] - t32[:, j].mean(), p32[:, j] - p32[:, j].mean()
        r.append((a @ b) / math.sqrt((a @ a) * (b @ b)))
        r2.append(1 - ((t32[:, j] - p32[:, j]) ** 2).sum() / (a @ a))
        rmse.append(math.sqrt(((t32[:, j] - p32[:, j]) ** 2).mean()))
    assert got["pearson_r"] == pytest.approx(np.mean(r))
    assert got["r2"] == pytest.approx(np.mean(r2))
    assert got["rmse"] == pytest.approx(np.mean(rmse))
    flat = np.zeros((4, 1), np.float32)
    got = score(get_task("mobi"), np.array([[1.0], [2.0], [3.0], [4.0]], np.float32), flat)
    assert math.isnan(got["pearson_r"]) and math.isnan(got["r2"])
    assert got["rmse"] == pytest.approx(math.sqrt(7.5))
    doc = json.loads(strict_json.dumps(got))
    assert doc["pearson_r"] is None and doc["r2"] is None


def test_an_undefined_metric_is_undefined_in_the_tables_not_nan() -> None:
    """AUROC of a test split of one class is undefined in every seed: ``results.md`` said
    ``nan +- nan`` where ``labram evaluate`` says undefined; defined metrics keep their text."""
    from labram.stages.finetune import fold_table
    from labram.train.metrics import format_table, summarise

    runs = [{"auroc": math.nan, "balanced_accuracy": 0.5}, {"auroc": math.nan,
            "balanced_accuracy": 0.7}]  # fmt: skip
    summary = summarise(runs)
    table = format_table(summary, ["balanced_accuracy", "auroc"])
    assert "| balanced_accuracy | 0.6000 +- 0.1000 | 2 |" in table
    assert "| auroc | undefined | 2 |" in table and "nan" not in table
    folds = [{"fold": 0, "subjects": {"test": 3}, "windows": {"test": 9}, "test": summary}]
    row = fold_table(folds, ["balanced_accuracy", "auroc"]).splitlines()[-1]
    assert row == "| 0 | 3 | 9 | 0.6000 +- 0.1000 | undefined |"
