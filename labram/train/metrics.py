"""Evaluation metrics of the LaBraM protocols (scikit-learn for classification).

Binary: balanced accuracy (threshold 0.5), AUROC, AUC-PR. Multi-class: balanced accuracy,
Cohen's kappa, weighted F1 (and AUROC one-vs-rest when every class is present); two classes
scored by a softmax (a ``label:KEY`` of two values other than 0/1) also get AUROC and AUC-PR,
of the second class's probability, as a binary task. Regression:
Pearson r, R^2, RMSE (averaged over targets).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def probabilities(kind: str, outputs: np.ndarray, dtype: Any = np.float64) -> np.ndarray:
    """Class probabilities from a classifier's outputs, shape (n, n_classes), of ``dtype``
    (scoring keeps the outputs' float32, as it always has).

    kind : 'binary' (one logit: sigmoid, columns [1 - p, p]) or 'multiclass' (softmax).
    Finite outputs of any size give no warning: a logit below -709 overflows ``exp(-x)`` to
    infinity, whose sigmoid is 0 as it should be (numpy printed "overflow encountered in exp",
    naming nothing, in every command that showed or scored probabilities).
    """
    out = np.asarray(outputs, dtype=dtype)
    if kind == "binary":
        with np.errstate(over="ignore"):
            p = 1 / (1 + np.exp(-out[:, 0]))
        return np.stack([1 - p, p], axis=1)
    z = np.exp(out - out.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def predicted_class(scores: np.ndarray) -> np.ndarray:
    """The predicted class of each row of ``scores`` (n, n_classes): probabilities, logits or
    anything increasing with them. The highest; a tie of two classes goes to the second (a
    probability of 0.5 is the positive class, as a logit of 0 is for one logit), a tie of
    more to the first. Shared by the metrics, ``labram predict`` and ``labram report`` so
    that they call the same windows one class."""
    s = np.asarray(scores)
    if s.shape[1] == 2:
        return (s[:, 1] >= s[:, 0]).astype(int)
    return s.argmax(axis=1)


def classification(y_true: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    """Metrics of class predictions from probabilities.

    Parameters
    ----------
    y_true : ndarray of int, shape (n,)
    scores : ndarray, shape (n,) (probability of class 1) or (n, n_classes) (probabilities)
    """
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim == 1:
        return _scored(y_true, (s >= 0.5).astype(int), s)
    return _scored(y_true, predicted_class(s), s[:, 1] if s.shape[1] == 2 else s)


def classification_of_outputs(
    kind: str, y_true: np.ndarray, outputs: np.ndarray
) -> dict[str, float]:
    """Metrics of a classifier's raw outputs, what ``labram finetune`` and ``evaluate`` report.

    kind : 'binary' (outputs shape (n, 1), one logit) or 'multiclass' (shape (n, n_classes)).
    The predicted class is the most probable one (:func:`predicted_class`; one logit: >= 0,
    probability >= 0.5). AUROC and AUC-PR rank the windows by the logit (binary), the logit
    difference (two classes) or each class's log-probability (one-vs-rest): as the
    probabilities rank them, without their rounding. Probabilities of float32 (or float64)
    logits round to 1.0 from a logit of 17 (37) up, and windows of logits 20 and 30 tied: a
    model that ranked every positive above every negative was scored an AUROC below 1.
    """
    z = np.asarray(outputs, dtype=np.float64)
    if kind == "binary":
        return _scored(y_true, (z[:, 0] >= 0).astype(int), z[:, 0])
    if z.shape[1] == 2:
        return _scored(y_true, predicted_class(z), z[:, 1] - z[:, 0])
    top = z.max(axis=1, keepdims=True)
    # each row's sum in sorted order: rows whose logits are one another's permutation (or
    # shift) give a class equal log-probabilities bit for bit, so a tie stays a tie (summed
    # in column order, the last bit told them apart, and AUROC ranked a tie as won or lost)
    total = np.sort(np.exp(z - top), axis=1).sum(axis=1, keepdims=True)
    log_p = z - top - np.log(total)  # (n, n_classes)
    return _scored(y_true, z.argmax(axis=1), log_p)


def _scored(y_true: np.ndarray, pred: np.ndarray, rank: np.ndarray) -> dict[str, float]:
    """The metrics of predicted classes ``pred`` (n,) and ranking scores ``rank``: (n,) of
    class 1 for two classes (AUROC, AUC-PR), (n, n_classes) one column a class (AUROC
    one-vs-rest, the mean over classes, when every class is present), any increasing function
    of the probabilities."""
    import warnings

    from sklearn import metrics as skm

    y = np.asarray(y_true).astype(int)
    with warnings.catch_warnings():  # one class only: the finetune stage says so once
        warnings.simplefilter("ignore")
        out = {
            "balanced_accuracy": float(skm.balanced_accuracy_score(y, pred)),
            "cohen_kappa": float(skm.cohen_kappa_score(y, pred)),
            "weighted_f1": float(skm.f1_score(y, pred, average="weighted", zero_division=0)),
            "accuracy": float(skm.accuracy_score(y, pred)),
        }
        both = len(np.unique(y)) > 1
        if rank.ndim == 1:
            out["auroc"] = float(skm.roc_auc_score(y, rank)) if both else math.nan
            out["auc_pr"] = float(skm.average_precision_score(y, rank)) if both else math.nan
        elif len(np.unique(y)) == rank.shape[1]:  # (sklearn's "ovr" wants probabilities)
            per_class = [skm.roc_auc_score(y == k, rank[:, k]) for k in range(rank.shape[1])]
            out["auroc"] = float(np.mean(per_class))
    return out


def regression(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """Pearson r, R^2 and RMSE, each averaged over target columns.

    y_true, y_pred : ndarray, shape (n,) or (n, n_targets)
    """
    t = np.asarray(y_true, dtype=np.float64).reshape(len(y_true), -1)
    p = np.asarray(y_pred, dtype=np.float64).reshape(len(y_pred), -1)
    rs, r2s, rmses = [], [], []
    for j in range(t.shape[1]):
        tj, pj = t[:, j], p[:, j]
        ok = np.std(tj) > 0 and np.std(pj) > 0
        rs.append(float(np.corrcoef(tj, pj)[0, 1]) if ok else math.nan)
        ss_res = float(np.sum((tj - pj) ** 2))
        ss_tot = float(np.sum((tj - tj.mean()) ** 2))
        r2s.append(1.0 - ss_res / ss_tot if ss_tot > 0 else math.nan)
        rmses.append(math.sqrt(ss_res / len(tj)))
    return {
        "pearson_r": float(np.mean(rs)),
        "r2": float(np.mean(r2s)),
        "rmse": float(np.mean(rmses)),
    }


def summarise(runs: list[dict[str, float]]) -> dict[str, dict[str, Any]]:
    """Mean and std (population, as the papers report) of each metric over seeds."""
    names = sorted({k for r in runs for k in r})
    out = {}
    for k in names:
        vals = np.array([r[k] for r in runs if k in r], dtype=np.float64)
        out[k] = {
            "mean": float(np.mean(vals)),
            "std": float(np.std(vals)),
            "values": [float(v) for v in vals],
        }
    return out


def mean_std_text(s: dict[str, Any]) -> str:
    """``mean +- std`` of a :func:`summarise` entry, 4 decimals; ``undefined`` where a run's
    value is (AUROC on windows of one class: NaN, ``null`` in ``results.json``), as
    ``labram evaluate`` says it, not ``nan +- nan``."""
    if not (math.isfinite(s["mean"]) and math.isfinite(s["std"])):
        return "undefined"
    return f"{s['mean']:.4f} +- {s['std']:.4f}"


def format_table(summary: dict[str, dict[str, Any]], metrics: list[str]) -> str:
    """A Markdown table ``metric | mean +- std | n``."""
    lines = ["| metric | mean +- std | n |", "|---|---|---|"]
    for k in metrics:
        if k in summary:
            s = summary[k]
            lines.append(f"| {k} | {mean_std_text(s)} | {len(s['values'])} |")
    return "\n".join(lines)
