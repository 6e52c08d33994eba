"""Classes of a numeric label are in the label's own order: 2, 3, 10, not 10, 2, 3 as text.

Text order numbered a store of labels 2, 3, 10 as classes 10, 2, 3: ``label:KEY``'s first
output was the class of value 10, every table and confusion matrix listed 10 first, and a
checkpoint that records no task (read with the stores' values) saw another order than the
user's. The order now follows the values wherever the classes come from the stores
(finetune, evaluate, embed); a checkpoint that records its classes is read by name whatever
their order.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from labram.data.label_forms import class_order
from labram.data.task_records import checkpoint_task, task_record
from labram.data.tasks import build_task_indexes, get_task
from labram.data.windows import open_stores
from tests.labram.test_label_tasks import KEY, write_labelled


def test_numbers_sort_by_value_and_names_by_text() -> None:
    assert class_order(["10", "2", "3", "2"], numeric=True) == ["2", "3", "10"]
    assert class_order(["0.5", "-1", "10", "9"], numeric=True) == ["-1", "0.5", "9", "10"]
    assert class_order(["b10", "b2", "a"], numeric=False) == ["a", "b10", "b2"]
    assert class_order(["10", "2"], numeric=False) == ["10", "2"]  # names: text, as before


def test_a_store_of_labels_2_3_10_numbers_its_classes_by_value(tmp_path: Path) -> None:
    url = write_labelled(tmp_path / "n.zarr", [10, 2, 3, "10.0", 2.0, 3], [2, 3, 10])
    task = get_task(f"label:{KEY}", open_stores([url]))
    assert task.classes == ("2", "3", "10") and task.kind == "multiclass"
    test = build_task_indexes([url], task)["test"]
    by_recording = {test.recordings[int(r)].id: int(c) for r, c in zip(test.rec, test.labels[:, 0])}
    assert by_recording == {"lab/e000_r0": 0, "lab/e001_r0": 1, "lab/e002_r0": 2}


def test_a_checkpoint_recording_text_order_keeps_its_own_numbering(tmp_path: Path) -> None:
    """A classifier fine-tuned before (classes 10, 2, 3 in its record): its outputs are read
    by its own class names, so value 10 is still its class 0."""
    url = write_labelled(tmp_path / "n.zarr", [2, 3, 10], [2, 3, 10])
    old = get_task(f"label:{KEY}", open_stores([url]))
    record = {**task_record(old), "classes": ["10", "2", "3"]}
    task = checkpoint_task(f"label:{KEY}", open_stores([url]), record, source="best.pt")
    assert task.classes == ("10", "2", "3")
    test = build_task_indexes([url], task)["test"]
    values = [2, 3, 10]  # e000, e001, e002
    assert [task.classes[int(c)] for c in test.labels[:, 0]] == [str(v) for v in values]


@pytest.mark.slow
def test_finetune_evaluate_predictions_and_predict_agree_on_the_order(tmp_path: Path) -> None:
    """One order end to end (~5 s): the checkpoint's record, predictions.csv's columns, the
    metrics evaluate reports (recomputed from predictions.csv) and predict's class names."""
    from labram.stages.evaluate import evaluate
    from labram.stages.finetune import finetune
    from labram.stages.predictions import read_predictions
    from labram.train import metrics as M
    from labram.train.config import train_config

    url = write_labelled(tmp_path / "n.zarr", [2, 3, 10] * 2, [2, 3, 10, 10])
    cfg = train_config("finetune", "tiny", epochs=1, warmup_epochs=0.5, batch_size=2)
    finetune([url], f"label:{KEY}", cfg, tmp_path / "ft")
    best = tmp_path / "ft" / "seed0" / "best.pt"
    assert torch.load(best, weights_only=True)["task"]["classes"] == ["2", "3", "10"]
    preds = read_predictions(best.with_name("predictions.csv"))
    assert preds["classes"] == ["2", "3", "10"]
    ev = evaluate([url], f"label:{KEY}", best)
    y = np.array([preds["classes"].index(r["label"]) for r in preds["rows"]])
    p = np.array([[r[f"p_{c}"] for c in preds["classes"]] for r in preds["rows"]])
    assert sorted(r["label"] for r in preds["rows"]) == ["10", "10", "2", "3"]
    again = M.classification(y, p)
    for k in ("accuracy", "balanced_accuracy", "weighted_f1", "cohen_kappa"):
        assert ev["metrics"][k] == pytest.approx(again[k])
    from labram.checkpoints.load import load_model
    from labram.stages.predict import resolve_task

    assert resolve_task(load_model(best), None).classes == ("2", "3", "10")


def test_eegprep_stats_lists_the_labels_in_the_classes_order(tmp_path: Path) -> None:
    """`eegprep stats` listed label 10 before 2 (and 1000 Hz before 250 Hz): the store's label
    counts are in the order labram numbers the classes now."""
    import eegprep
    from eegprep.tools.stats import natural_order, store_stats

    url = write_labelled(tmp_path / "n.zarr", [10, 2, 3, 2], [3, 10])
    counts = next(iter(store_stats(eegprep.open_store(url))["corpora"].values()))["labels"]
    task = get_task(f"label:{KEY}", open_stores([url]))
    assert list(counts[KEY]) == list(task.classes) == ["2", "3", "10"]
    assert counts[KEY] == {"2": 2, "3": 2, "10": 2}
    rates = {"1000": 1, "250": 2, "nan": 1, "256": 1, "x": 1}
    assert list(natural_order(rates)) == ["250", "256", "1000", "nan", "x"]


def test_a_label_spelling_a_number_beyond_float64_is_refused_in_one_line(tmp_path: Path) -> None:
    """``"1e400"`` (a folder or CSV cell beside the numbers 1 and 2) is no number JSON holds: it
    made the label one of names, classes ``1``, ``1e400``, ``2``. Now one line names it."""
    from eegprep.base.errors import UsageError

    url = write_labelled(tmp_path / "n.zarr", [1, 2, " 1e400"], [1, 2])
    with pytest.raises(UsageError) as err:
        get_task(f"label:{KEY}", open_stores([url]))
    assert str(err.value) == (
        f"task 'label:{KEY}': label '{KEY}' of lab/t002_r0 is '1e400', a number beyond "
        "float64's range (1.8e308) that no JSON number holds: write a number within it in the "
        "stores (the manifest's label rule or sidecar)"
    )
    fine = write_labelled(tmp_path / "f.zarr", [1, 2, "2.5e0"], [1, 2])  # text, a number
    assert get_task(f"label:{KEY}", open_stores([fine])).classes == ("1", "2", "2.5")
