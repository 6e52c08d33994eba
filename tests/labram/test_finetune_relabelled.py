"""``labram finetune --resume`` after only the labels of the stores changed.

A label sidecar edited and the recording ingested again keeps every subject in its fold, so
``splits.json`` (task name, stores, folds of subject keys) matched and the resume went on: the
seeds finished before kept the predictions and metrics of the old labels beside seeds of the
new ones, and ``results.json`` averaged them as one run. Now ``splits.json`` records a digest
of every window's label and the task's classes, and such a resume is one line.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from eegprep.base.errors import UsageError
from labram.stages.finetune import finetune
from labram.train.config import train_config
from tests.labram.test_label_tasks import KEY, write_labelled

CFG = train_config("finetune", "tiny", epochs=1, warmup_epochs=0.5, batch_size=2)


def test_a_resume_after_a_label_changed_is_refused(tmp_path: Path) -> None:
    url = write_labelled(tmp_path / "xy.zarr", list("xyxy"), list("xy"))
    out = tmp_path / "ft"
    finetune([url], f"label:{KEY}", CFG, out)
    splits = (out / "splits.json").read_bytes()
    shutil.rmtree(url)  # the same recordings and subjects, one label edited
    write_labelled(tmp_path / "xy.zarr", list("xyxy"), list("yx"))  # (test: no fold moves)
    with pytest.raises(UsageError) as caught:
        finetune([url], f"label:{KEY}", CFG, out, n_seeds=2, resume=True)
    line = str(caught.value)
    assert line.startswith(f"cannot resume {out}: the labels of task 'label:{KEY}'")
    assert "changed since its run was made" in line and "another --out" in line
    assert "\n" not in line
    assert (out / "splits.json").read_bytes() == splits and not (out / "seed1").exists()
    # (before: resumed; seed 0 kept the old labels' predictions beside seed 1's new ones)


def test_a_label_change_that_moved_the_validation_subjects_says_so(tmp_path: Path) -> None:
    url = write_labelled(tmp_path / "xy.zarr", list("xyxy"), list("xy"))
    out = tmp_path / "ft"
    finetune([url], f"label:{KEY}", CFG, out)
    shutil.rmtree(url)
    write_labelled(tmp_path / "xy.zarr", list("xyxx"), list("xy"))  # (strata: other val)
    with pytest.raises(UsageError, match=r"the labels of task .* changed since its run was made"):
        finetune([url], f"label:{KEY}", CFG, out, n_seeds=2, resume=True)
    # (before: "its run was made with another folds ...; resume with the run's own options")


def test_a_resume_with_the_same_labels_goes_on(tmp_path: Path) -> None:
    url = write_labelled(tmp_path / "xy.zarr", list("xyxy"), list("xy"))
    out = tmp_path / "ft"
    finetune([url], f"label:{KEY}", CFG, out)
    res = finetune([url], f"label:{KEY}", CFG, out, n_seeds=2, resume=True)
    assert (out / "seed1" / "metrics.json").is_file() and len(res["seeds"]) == 2


def test_report_predict_refuses_a_run_whose_labels_changed(tmp_path: Path) -> None:
    from labram.stages.report import add_predictions, load_run

    url = write_labelled(tmp_path / "xy.zarr", list("xyxy"), list("xy"))
    out = tmp_path / "ft"
    finetune([url], f"label:{KEY}", CFG, out)
    saved = out / "seed0" / "predictions.csv"
    saved.unlink()  # (a run that saved none: --predict writes it from the stores)
    assert add_predictions(load_run(out)) == [saved]  # the same labels: predicted
    saved.unlink()
    shutil.rmtree(url)
    write_labelled(tmp_path / "xy.zarr", list("xyxy"), list("yx"))  # a test label edited
    with pytest.raises(UsageError) as caught:
        add_predictions(load_run(out))
    line = str(caught.value)
    assert f"the labels of task 'label:{KEY}' in the stores changed since its run" in line
    assert "\n" not in line and not saved.exists()
    # (before: written with the new labels, beside metrics.json scored on the old ones)
