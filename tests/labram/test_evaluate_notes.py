"""`labram evaluate` on degenerate splits says why a metric is undefined, not just 'nan'."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

import labram.stages.evaluate as E
from labram.data.tasks import get_task
from labram.stages.scoring import score


def _notes(task_name: str, labels: list[int], outputs: np.ndarray) -> tuple[dict, list[str]]:
    task = get_task(task_name)
    y = np.array(labels, np.float32)[:, None]
    metrics = score(task, outputs, y)
    return metrics, E.metric_notes(task, "test", y, metrics)


def test_one_class_only_is_named() -> None:
    outputs = np.array([[-1.0], [2.0], [0.5]], np.float32)
    metrics, notes = _notes("tuab", [0, 0, 0], outputs)
    assert np.isnan(metrics["auroc"]) and np.isnan(metrics["auc_pr"])
    assert len(notes) == 1 and "one class only (normal)" in notes[0]
    assert "auroc, auc_pr undefined" in notes[0]
    metrics, notes = _notes("tuab", [0, 1, 1], outputs)
    assert notes == [] and not any(np.isnan(v) for v in metrics.values())


def test_a_missing_class_explains_the_missing_auroc() -> None:
    outputs = np.eye(6, dtype=np.float32)[[0, 1, 1, 0]]
    metrics, notes = _notes("tuev", [0, 1, 1, 0], outputs)
    assert "auroc" not in metrics
    assert (
        len(notes) == 1
        and "no test window of class" in notes[0]
        and "PLED, EYEM, ARTF, BCKG" in notes[0]
    )


def test_the_command_prints_undefined_and_the_note(monkeypatch: pytest.MonkeyPatch) -> None:
    from cli import labram_cli

    metrics = {"balanced_accuracy": 0.25, "auroc": float("nan"), "auc_pr": float("nan")}
    res = {
        "task": "tuab",
        "split": "test",
        "n_windows": 4,
        "metrics": metrics,
        "leakage": "0 of 1 test subject was seen in pre-training",
        "notes": ["the test windows hold one class only (normal): auroc, auc_pr undefined"],
    }
    monkeypatch.setattr(E, "evaluate", lambda *a, **k: res)
    args = ["evaluate", "--store", "s.zarr", "--task", "tuab", "--checkpoint", "best.pt"]
    out = CliRunner().invoke(labram_cli, args)
    assert out.exit_code == 0, out.output
    assert "nan" not in out.output and "auroc              undefined" in out.output
    assert "note: the test windows hold one class only (normal)" in out.output
    out = CliRunner().invoke(labram_cli, [*args, "--json"])
    doc = json.loads(out.output)  # strict JSON: null, not NaN
    assert doc["metrics"]["auroc"] is None and doc["notes"]


def test_a_classifier_with_another_number_of_outputs_is_refused(tuab: str, tmp_path) -> None:
    """A 6-class (TUEV-sized) classifier scored on TUAB's 1-logit task gave a table of
    metrics, every one meaningless; `labram predict` already refused it."""
    from eegprep.base.errors import UsageError
    from labram.checkpoints.layouts import save_ours
    from labram.model.classifier import LaBraMClassifier
    from labram.model.config import model_config

    ckpt = tmp_path / "best.pt"
    save_ours(LaBraMClassifier(model_config("tiny"), 6), ckpt)
    with pytest.raises(UsageError, match=r"best\.pt: its head has 6 outputs, but task 'tuab'"):
        E.evaluate([tuab], "tuab", str(ckpt), device="cpu")


def test_huge_finite_logits_give_probabilities_without_a_warning() -> None:
    """A logit below -709 overflowed exp(-x): numpy's "overflow encountered in exp" reached the
    terminal as a warning line naming nothing (predict), or was raised under strict warnings;
    the probabilities were right (0 and 1) and still are, from every command's one function."""
    import warnings

    from labram.stages.predict import to_probabilities
    from labram.stages.predictions import probabilities

    tuab = get_task("tuab")
    logits = np.array([[-1e30], [1e30], [-800.0], [0.0]], np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = to_probabilities(tuab, logits)
        assert p[:, 1].tolist() == [0.0, 1.0, 0.0, 0.5]
        assert probabilities("binary", logits)[:, 1].tolist() == [0.0, 1.0, 0.0, 0.5]
        metrics = score(tuab, logits, np.array([[0.0], [1.0], [0.0], [1.0]]))
    assert metrics["auroc"] == 1.0
