"""``label:KEY`` tasks end to end: classes by name, two-class softmax metrics, empty splits,
non-scalar label values, the subject column and the pre-training subject record."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from eegprep.base.errors import UsageError
from eegprep.pipeline.recipe import Recipe
from eegprep.store.writer import StoreWriter
from labram.data.task_records import checkpoint_task
from labram.data.tasks import build_task_indexes, get_task
from labram.data.windows import open_stores
from labram.train.config import train_config
from tests.labram.training_stores import TUAB_ORDER, eeg, put, write_pretrain_store

KEY = "state"


def write_labelled(
    path: Path,
    train: list[Any],
    test: list[Any],
    *,
    seconds: float = 20,
    subject_keys: bool = True,
    seed: int = 0,
) -> str:
    """One 23-channel recording (one 11-s window) per subject; ``train`` / ``test``: the
    ``state`` label value of each subject of the split (a recording of its own)."""
    url, rng = str(path), np.random.default_rng(seed)
    with StoreWriter(url, Recipe()) as w:
        for split, values in (("train", train), ("eval", test)):
            for k, value in enumerate(values):
                subj = f"{split[0]}{k:03d}"
                extra = {"subject_key": f"x:{subj}"} if subject_keys else {}
                put(w, f"lab/{subj}_r0", eeg(rng, 23, seconds, k % 2), list(TUAB_ORDER),
                    subject=subj, split=split, labels={KEY: value}, **extra)  # fmt: skip
    return url


def _finetune(url: str, out: Path, **cfg: Any) -> dict[str, Any]:
    from labram.stages.finetune import finetune

    settings = {"epochs": 1, "batch_size": 2, **cfg}
    if settings["epochs"] == 1:  # (the preset's 1 warm-up epoch would take the whole run)
        settings.setdefault("warmup_epochs", 0.5)
    return finetune([url], f"label:{KEY}", train_config("finetune", "tiny", **settings), out)


@pytest.fixture(scope="module")
def xyz(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """A store of classes x, y, z and a classifier fine-tuned on it (best.pt)."""
    root = tmp_path_factory.mktemp("xyz")
    url = write_labelled(root / "xyz.zarr", list("xyzxyz"), list("xyz"))
    _finetune(url, root / "ft")
    return url, root / "ft" / "seed0" / "best.pt"


def test_evaluate_uses_the_checkpoints_classes_by_name(
    xyz: tuple[str, Path], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A classifier of x, y, z scored on a store of w, x, z was scored against the store's sorted
    values (x became class 1, y's output); windows are now numbered by the checkpoint's classes
    and a value it does not know (w, and 1, a digit that is no class name) is left out, said."""
    from labram.stages.evaluate import evaluate
    from labram.stages.predictions import predict_checkpoint, read_predictions

    _, best = xyz
    other = write_labelled(tmp_path / "wxz.zarr", list("wxzwxz"), ["w", "x", "z", 1], seed=3)
    record = torch.load(best, weights_only=True)["task"]
    with caplog.at_level("WARNING", logger="labram.data.task_records"):
        task = checkpoint_task(f"label:{KEY}", open_stores([other]), record, source="best.pt")
    assert task.classes == ("x", "y", "z")
    assert "label values ['1', 'w'] are not classes of best.pt" in caplog.text
    test = build_task_indexes([other], task)["test"]
    assert sorted(test.labels[:, 0].tolist()) == [0.0, 2.0]  # x -> 0, z -> 2; w and 1 left out
    ev = evaluate([other], f"label:{KEY}", best)
    assert ev["n_windows"] == 2
    path = predict_checkpoint(best, [other], f"label:{KEY}")
    preds = read_predictions(path)
    assert preds["classes"] == ["x", "y", "z"]
    assert sorted(r["label"] for r in preds["rows"]) == ["x", "z"]


def test_evaluate_refuses_a_store_whose_values_the_checkpoint_does_not_know(
    xyz: tuple[str, Path], tmp_path: Path
) -> None:
    from labram.stages.evaluate import evaluate

    _, best = xyz
    other = write_labelled(tmp_path / "uv.zarr", list("uvuv"), list("uv"))
    with pytest.raises(UsageError, match=r"no value of label 'state' in the stores \(\['u', 'v'\]"):
        evaluate([other], f"label:{KEY}", best)
    with pytest.raises(UsageError, match="fine-tuned for task 'label:state', not 'label:other'"):
        evaluate([other], "label:other", best)


def test_two_classes_other_than_0_1_finetune_and_evaluate(tmp_path: Path) -> None:
    """Two values such as closed/open make a 2-output softmax task: fine-tuning crashed in
    roc_auc_score (y should be a 1d array); AUROC and AUC-PR are of the second class's
    probability now."""
    from labram.stages.evaluate import evaluate
    from labram.train import metrics as M

    url = write_labelled(tmp_path / "co.zarr", ["closed", "open"] * 3, ["closed", "open"] * 2)
    assert get_task(f"label:{KEY}", open_stores([url])).kind == "multiclass"
    res = _finetune(url, tmp_path / "ft")
    assert {"auroc", "auc_pr", "balanced_accuracy"} <= set(res["test"])
    ev = evaluate([url], f"label:{KEY}", tmp_path / "ft" / "seed0" / "best.pt")
    assert ev["n_windows"] == 4 and 0.0 <= ev["metrics"]["auroc"] <= 1.0
    scores = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    got = M.classification(np.array([0, 1, 0, 1]), scores)
    assert got["auroc"] == got["auc_pr"] == 1.0


def test_no_validation_window_keeps_the_last_epoch_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """One subject per class: the stratified split leaves no validation subject. best.pt was the
    epoch-0 model; it is the last epoch's now, after one warning."""
    url = write_labelled(tmp_path / "one.zarr", ["a", "b"], ["a", "b"])
    with caplog.at_level("WARNING", logger="labram.stages.finetune"):
        res = _finetune(url, tmp_path / "ft", epochs=3)
    said = [r.getMessage() for r in caplog.records if "no validation window" in r.getMessage()]
    assert len(said) == 1 and "the model of the last epoch is kept" in said[0]
    assert res["seeds"][0]["best_epoch"] == 2 and res["seeds"][0]["val"] == {}


def test_a_test_class_no_training_window_holds_is_warned_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Classes c and a name of odd Unicode only in the test split: the model (of 4 outputs)
    never saw them, and its test scores of 0 came without a word. One warning names them now;
    a store whose classes are all trained on gives none."""
    odd = "\u202eevil\nx"
    url = write_labelled(tmp_path / "new.zarr", ["a", "b"] * 3, ["a", "c", odd])
    with caplog.at_level("WARNING", logger="labram.stages.finetune"):
        _finetune(url, tmp_path / "ft")
    said = [r.getMessage() for r in caplog.records if "no training window holds" in r.getMessage()]
    assert said == [
        f"the test windows hold classes c, {odd}, which no training window holds: the model "
        "never learns them and scores each such window wrong; check the task's labels and splits"
    ]
    caplog.clear()
    url = write_labelled(tmp_path / "same.zarr", ["a", "b"] * 3, ["a", "b"])
    with caplog.at_level("WARNING", logger="labram.stages.finetune"):
        _finetune(url, tmp_path / "ft2")
    assert not [r for r in caplog.records if "no training window holds" in r.getMessage()]


def test_a_whole_float_label_is_its_integer_s_class(tmp_path: Path) -> None:
    """Label values 1 and 1.0 (two ingests, two corpora's sidecars) made two classes of one
    value, so 0 / 1 / 1.0 a three-class task; TUAB's abnormal 1.0 was no class at all (its
    recording gave no window). Both read as the class 1 now."""
    url = write_labelled(tmp_path / "mix.zarr", [0, 1, 1.0, 0, 1, 1.0], [0, 1.0])
    task = get_task(f"label:{KEY}", open_stores([url]))
    assert task.classes == ("0", "1") and task.kind == "binary"
    test = build_task_indexes([url], task)["test"]
    assert sorted(test.labels[:, 0].tolist()) == [0.0, 1.0]
    tuab = tmp_path / "tuab.zarr"
    with StoreWriter(str(tuab), Recipe()) as w:
        for k, value in enumerate([0, 1.0]):
            put(w, f"tuab/e{k}", eeg(np.random.default_rng(k), 23, 20), list(TUAB_ORDER),
                subject=f"e{k}", subject_key=f"tuh:e{k}", split="eval",
                labels={"abnormal": value})  # fmt: skip
    test = build_task_indexes([str(tuab)], get_task("tuab"))["test"]
    assert sorted(set(test.labels[:, 0].tolist())) == [0.0, 1.0]


def test_a_label_value_no_class_of_a_task_names_is_warned_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """TUAB's abnormal of "yes": the recording gave no window, and half a store could be left
    out of training and testing without a word. One warning counts and names them now."""
    url = tmp_path / "yes.zarr"
    with StoreWriter(str(url), Recipe()) as w:
        for k, value in enumerate([0, 1, "yes", "no", 1]):
            put(w, f"tuab/t{k}", eeg(np.random.default_rng(k), 23, 20), list(TUAB_ORDER),
                subject=f"t{k}", subject_key=f"tuh:t{k}", split="train",
                labels={"abnormal": value})  # fmt: skip
    with caplog.at_level("WARNING", logger="labram.data.tasks"):
        split = build_task_indexes([str(url)], get_task("tuab"))
    seen = {p.id for name in ("train", "val") for p in split[name].recordings}
    assert seen == {"tuab/t0", "tuab/t1", "tuab/t4"}
    said = [r.getMessage() for r in caplog.records if "no class of the task" in r.getMessage()]
    assert said == [
        "tuab: 2 recordings hold a value of label 'abnormal' that is no class of the task (e.g. "
        "tuab/t2: 'yes'; classes: normal, abnormal): they give no window; check the stores' labels"
    ]


def test_non_scalar_label_values_are_not_classes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = write_labelled(tmp_path / "odd.zarr", ["x", "y", None, ["x"], {"v": 1}], ["x", "y"])
    with caplog.at_level("WARNING", logger="labram.data.tasks"):
        task = get_task(f"label:{KEY}", open_stores([url]))
    assert task.classes == ("x", "y") and task.kind == "multiclass"
    assert "3 recordings hold a value of label 'state' that is not a single value" in caplog.text
    train = build_task_indexes([url], task)
    assert sum(len(s.recordings) for s in train.values()) == 4  # the 3 odd ones give no window


def test_predictions_name_the_subject_the_splits_use(tmp_path: Path) -> None:
    """Without a subject_key the splits group by ``subject``; the subject column was empty."""
    from labram.stages.predictions import prediction_rows

    url = write_labelled(tmp_path / "nokey.zarr", list("xyxy"), list("xy"), subject_keys=False)
    task = get_task(f"label:{KEY}", open_stores([url]))
    test = build_task_indexes([url], task)["test"]
    rows = prediction_rows(task, test, np.zeros((len(test), 2), np.float32))
    assert [r["subject"] for r in rows] == ["e000", "e001"]


def test_a_test_split_without_windows_is_refused_before_training(tmp_path: Path) -> None:
    from labram.data.protocols import Protocol
    from labram.stages.finetune import finetune

    url = write_labelled(tmp_path / "notest.zarr", list("xyxyxy"), [])
    with pytest.raises(UsageError, match=r"the test split of .* holds no window"):
        _finetune(url, tmp_path / "a")
    assert not (tmp_path / "a" / "seed0").exists()  # refused before any training
    url = write_labelled(tmp_path / "few.zarr", list("xyxyxy"), list("xy"))
    cfg = train_config("finetune", "tiny", epochs=1, warmup_epochs=0.5, batch_size=2)
    few = Protocol(name="few-shot", shots=5)  # every test window becomes calibration
    with pytest.raises(UsageError, match=r"--shots 5 takes all the test windows .* needs a"):
        finetune([url], f"label:{KEY}", cfg, tmp_path / "b", protocol=few)


def test_pretraining_on_recordings_without_subject_key_cannot_tell_leakage(
    tmp_path: Path,
) -> None:
    """Such recordings were recorded as {'n': 0, 'keys': [], 'complete': True}: "0 of N test
    subjects seen". The record is incomplete now and the check says it cannot tell."""
    from labram.stages.train_tokenizer import train_tokenizer
    from labram.train.leakage import KEY as SUBJECTS
    from labram.train.leakage import check_test_subjects

    keyed = write_pretrain_store(tmp_path / "k.zarr", n_subjects=2, seconds=30)
    url = write_labelled(tmp_path / "nokey.zarr", list("xy"), [], seconds=30, subject_keys=False)
    cfg = train_config("tokenizer", "tiny", max_steps=1, batch_size=2)
    res = train_tokenizer([keyed, url], cfg, tmp_path / "tok")
    record = torch.load(res["tokenizer"], weights_only=True)[SUBJECTS]
    assert record["complete"] is False and record["keys"] == ["tuh:s000", "tuh:s001"]
    line = check_test_subjects(record, {"x:a", "x:b"}, allow=False, source="tok.pt")
    assert line.startswith("cannot tell whether the 2 test subjects were seen in pre-training")
    whole = write_pretrain_store(tmp_path / "w.zarr", n_subjects=2, seconds=30)
    res = train_tokenizer([whole], cfg, tmp_path / "tok2")
    assert torch.load(res["tokenizer"], weights_only=True)[SUBJECTS]["complete"] is True


def test_embed_numbers_labels_by_the_checkpoints_classes(
    xyz: tuple[str, Path], tmp_path: Path
) -> None:
    """``labram embed --task`` with the classifier it was fine-tuned for: the labels stored
    beside the logits are the checkpoint's class numbers, not the store's sorted values."""
    from labram.stages.embed import EmbedConfig, window_index

    _, best = xyz
    other = write_labelled(tmp_path / "wxz.zarr", list("wxzwxz"), ["w", "x", "z", 1], seed=3)
    info = torch.load(best, weights_only=True)
    index, task = window_index([other], EmbedConfig(task=f"label:{KEY}"), None, info, str(best))
    assert task.classes == ("x", "y", "z")
    assert sorted(set(index.labels[:, 0].tolist())) == [0.0, 2.0]  # x -> 0, z -> 2


def test_label_smoothing_is_the_tasks_unless_set_and_zero_turns_it_off() -> None:
    """The recipe: TUEV smooths its labels by 0.1, TUAB's BCE not at all; a value given in the
    config wins, 0 included (it was read as 'unset', so TUEV could not be run without)."""
    import torch.nn.functional as F

    from labram.stages.scoring import task_loss, with_smoothing

    tuev, tuab = get_task("tuev"), get_task("tuab")
    preset = train_config("finetune", "base")
    assert with_smoothing(tuev, preset).label_smoothing == 0.1
    assert with_smoothing(tuab, preset).label_smoothing == 0.0
    off = train_config("finetune", "base", label_smoothing=0.0)
    assert with_smoothing(tuev, off).label_smoothing == 0.0
    logits = torch.tensor([[2.0, -1.0, 0.5, 0.0, 1.0, -2.0]])
    y = torch.tensor([[3.0]])
    plain = F.cross_entropy(logits, torch.tensor([3]))
    assert torch.allclose(task_loss(with_smoothing(tuev, off), logits, y), plain)
    assert not torch.allclose(task_loss(with_smoothing(tuev, preset), logits, y), plain)
    # binary: the targets move towards 1/2, as two-class cross-entropy smooths them
    some = train_config("finetune", "base", label_smoothing=0.2)
    z, one = torch.tensor([[1.5]]), torch.tensor([[1.0]])
    two_class = F.cross_entropy(torch.tensor([[0.0, 1.5]]), torch.tensor([1]), label_smoothing=0.2)
    assert torch.allclose(task_loss(with_smoothing(tuab, some), z, one), two_class)


def test_a_label_task_naming_no_label_is_one_line_in_every_command(tmp_path: Path) -> None:
    """``--task label:`` (no KEY): `labram predict` took it for a task on the label '' and
    stopped on the mains of the 'folder' corpus; finetune and evaluate said the stores hold 0
    values of label ''. Each now says the task names no label."""
    from click.testing import CliRunner

    from labram.checkpoints.layouts import save_ours
    from labram.commands import labram_cli
    from labram.model.classifier import LaBraMClassifier
    from labram.model.config import model_config

    want = "task 'label:' names no label: give label:KEY, KEY a recording label of the stores"
    with pytest.raises(UsageError) as exc:
        get_task("label:")
    assert str(exc.value) == want
    ckpt = tmp_path / "best.pt"
    save_ours(LaBraMClassifier(model_config("tiny"), 1), ckpt)
    args = ["predict", str(tmp_path / "x.edf"), "--checkpoint", str(ckpt), "--task", "label:"]
    res = CliRunner().invoke(labram_cli, args)
    assert res.exit_code == 2 and res.output.strip() == f"error: {want}", res.output
