"""Evaluation protocols of ``labram finetune --protocol`` (labram/data/protocols.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from cli import labram_cli
from labram.data.protocols import Protocol, TaskWindows, fold_indexes, make_folds, parse_protocol
from labram.data.tasks import get_task
from labram.data.windows import open_stores
from labram.train.config import train_config
from tests.labram.training_stores import write_tuab_like

CFG = train_config("finetune", "tiny")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    # 10 train + 4 eval subjects, one 30-s recording each (3 windows of 10 s), classes alternate
    return write_tuab_like(tmp_path_factory.mktemp("p") / "tuab.zarr", n_train=10, n_eval=4,
                           seconds=30)  # fmt: skip


def _table(store: str, task: str = "tuab") -> tuple[TaskWindows, object]:
    opened = open_stores([store])
    t = get_task(task, opened)
    return TaskWindows.build(opened, t, CFG), t


@pytest.mark.parametrize("task", ["tuab", "label:abnormal"])
def test_full_fold_cuts_the_task_split_exactly(store: str, task: str) -> None:
    from labram.stages.scoring import task_splits

    table, t = _table(store, task)
    (fold,) = make_folds(Protocol(), table, t, CFG)
    assert fold["test_rule"] == "official" and fold["calibration"] == []
    ours = fold_indexes(table, fold)
    theirs = task_splits(open_stores([store]), t, CFG)  # type: ignore[arg-type]
    for k in ("train", "val", "test"):
        a, b = ours[k], theirs[k]
        assert a.fingerprint() == b.fingerprint() and a.meta == b.meta
        for f in ("rec", "start", "n_patches", "block", "labels"):
            assert np.array_equal(getattr(a, f), getattr(b, f)), (k, f)


def test_cross_subject_folds_partition_the_subjects(store: str) -> None:
    table, t = _table(store)
    folds = make_folds(Protocol(name="cross-subject", n_folds=3), table, t, CFG)
    assert folds == make_folds(Protocol(name="cross-subject", n_folds=3), table, t, CFG)
    subjects = table.subjects()
    tests = [set(f["test"]) for f in folds]
    assert sorted(k for s in tests for k in s) == subjects  # each subject tests exactly once
    strata = table.strata(t)  # type: ignore[arg-type]
    for f in folds:
        assert {strata[k] for k in f["test"]} == {"0", "1"}  # stratified: both classes
        assert not set(f["val"]) & set(f["test"]) and not set(f["train"]) & set(f["val"])
        assert sorted(f["train"] + f["val"] + f["test"]) == subjects
        idx = fold_indexes(table, f)
        assert sum(len(v) for v in idx.values()) == len(table.index)
        assert {p.subject_key for p in idx["test"].recordings} == set(f["test"])
    other = make_folds(Protocol(name="cross-subject", n_folds=3), table, t,
                       train_config("finetune", "tiny", split_seed=1))  # fmt: skip
    assert [f["test"] for f in other] != [f["test"] for f in folds]
    loso = make_folds(Protocol(name="loso"), table, t, CFG)
    assert [f["test"] for f in loso] == [[k] for k in subjects]


def test_few_shot_moves_k_windows_per_class_and_subject_to_training(store: str) -> None:
    table, t = _table(store)
    (full,) = make_folds(Protocol(), table, t, CFG)
    (fold,) = make_folds(Protocol(name="few-shot", shots=2), table, t, CFG)
    assert len(fold["calibration"]) == 2 * 4  # 4 test subjects, one class each
    a, b = fold_indexes(table, full), fold_indexes(table, fold)
    assert len(b["train"]) == len(a["train"]) + 8 and len(b["test"]) == len(a["test"]) - 8
    ids = [b["test"].recordings[i].id for i in b["test"].rec]
    test_keys = set(zip(ids, b["test"].start.tolist(), strict=True))
    assert not test_keys & {(r, s) for r, s in fold["calibration"]}


def test_shots_that_take_every_test_window_are_refused(store: str) -> None:
    """--shots at or above every group's size left no test window: the run then failed with
    "the test split holds no window ... no recording has split 'eval'/'test'", which was
    untrue."""
    from eegprep.base.errors import UsageError

    table, t = _table(store)
    with pytest.raises(UsageError, match=r"--shots 10000 takes all the test windows .* below"):
        make_folds(Protocol(name="few-shot", shots=10_000), table, t, CFG)


def test_protocol_options_are_checked() -> None:
    assert parse_protocol("cross-subject", folds=None, shots=None).n_folds == 5
    assert parse_protocol(None, folds=3, shots=None) == Protocol()  # --folds ignored, warned
    with pytest.raises(ValueError, match="--shots"):
        parse_protocol("few-shot", folds=None, shots=None)
    with pytest.raises(ValueError, match="Did you mean 'loso'"):
        parse_protocol("losso", folds=None, shots=None)


def test_linear_probe_trains_the_head_only() -> None:
    from labram.model.classifier import LaBraMClassifier
    from labram.model.config import model_config
    from labram.train.optim import param_groups

    model = LaBraMClassifier(model_config("tiny"), 2)
    model.freeze_backbone()
    groups = param_groups(model, 1e-3, 0.05, 0.65)
    assert sorted(n for g in groups for n in g["names"]) == ["head.bias", "head.weight"]
    before = {k: v.clone() for k, v in model.state_dict().items()}
    opt = torch.optim.AdamW([p for g in groups for p in g["params"]], lr=0.1)
    x, ch = torch.randn(4, 3, 2, 200), torch.arange(3)
    model(x, ch).square().mean().backward()
    opt.step()
    after = model.state_dict()
    changed = sorted(k for k in before if not torch.equal(before[k], after[k]))
    assert changed == ["head.bias", "head.weight"]


SMALL = ["--size", "tiny", "--max-steps", "2", "--batch-size", "8", "--set", "token_budget=40",
         "--set", "max_channels=8"]  # fmt: skip
"""Short runs on small windows (8 channels x 5 s): a few seconds each."""


def _finetune(store: str, out: Path, *extra: str) -> dict:
    args = ["finetune", "--store", store, "--task", "label:abnormal", *SMALL, "--out", str(out),
            *extra]  # fmt: skip
    res = CliRunner().invoke(labram_cli, args)
    assert res.exit_code == 0, res.output
    return json.loads((out / "results.json").read_text())


def test_cross_subject_run_writes_folds_splits_and_results(store: str, tmp_path: Path) -> None:
    from labram.stages.evaluate import evaluate
    from labram.stages.report import load_run, text_summary

    res = _finetune(store, tmp_path / "cv", "--protocol", "cross-subject", "--folds", "2")
    assert res["protocol"] == {"name": "cross-subject", "folds": 2, "shots": None}
    assert [r["fold"] for r in res["seeds"]] == [0, 1] and len(res["folds"]) == 2
    assert len(res["test"]["auroc"]["values"]) == 2  # mean +- std over folds x seeds
    assert (tmp_path / "cv" / "fold1" / "seed0" / "best.pt").is_file()
    md = (tmp_path / "cv" / "results.md").read_text()
    assert "protocol cross-subject, 2 folds x 1 seed" in md and "| fold |" in md
    splits = json.loads((tmp_path / "cv" / "splits.json").read_text())
    assert splits["protocol"]["name"] == "cross-subject" and len(splits["folds"]) == 2
    run = load_run(tmp_path / "cv")
    assert [p.name for p in run.parts] == ["fold0/seed0", "fold1/seed0"]
    assert "protocol cross-subject (2 folds)" in text_summary([run])
    # labram evaluate cuts the fold the checkpoint was trained on
    ev = evaluate([store], "label:abnormal", tmp_path / "cv" / "fold1" / "seed0" / "best.pt")
    assert ev["n_windows"] == res["folds"][1]["windows"]["test"]
    assert ev["metrics"] == res["seeds"][1]["test"]


@pytest.mark.slow
def test_splits_file_reruns_exactly(store: str, tmp_path: Path) -> None:
    res = _finetune(
        store, tmp_path / "fs", "--protocol", "few-shot", "--shots", "1", "--seeds", "2"
    )
    splits = json.loads((tmp_path / "fs" / "splits.json").read_text())
    again = _finetune(store, tmp_path / "again", "--splits", str(tmp_path / "fs" / "splits.json"),
                      "--seeds", "2")  # fmt: skip
    assert json.loads((tmp_path / "again" / "splits.json").read_text()) == splits
    assert again["test"] == res["test"] and again["protocol"] == res["protocol"]
    for a, b in zip(res["seeds"], again["seeds"], strict=True):
        log_a = (Path(a["log"])).read_text().splitlines()
        log_b = (Path(b["log"])).read_text().splitlines()
        assert [r.split(",")[:4] for r in log_a] == [r.split(",")[:4] for r in log_b]


def test_splits_file_is_checked(store: str, tmp_path: Path) -> None:
    from labram.data.protocols import splits_record, write_splits

    table, t = _table(store, "label:abnormal")
    folds = make_folds(Protocol(name="loso"), table, t, CFG)
    rec = splits_record(Protocol(name="loso"), t, [store], CFG, folds)  # type: ignore[arg-type]
    write_splits(tmp_path / "good.json", rec)
    bad = rec["folds"][0]["test"][0]
    text = json.dumps(rec, indent=2).replace(f'"{bad}"', '"tuh:nobody"')  # (no checksum)
    (tmp_path / "unknown.json").write_text(text)
    (tmp_path / "other.json").write_text(text.replace("label:abnormal", "tuab"))
    cases = [
        ("good.json", ["--protocol", "full"], "holds the folds of"),
        ("unknown.json", [], "'tuh:nobody'"),
        ("other.json", [], "splits of task 'tuab'"),
    ]
    for name, extra, says in cases:
        args = ["finetune", "--store", store, "--task", "label:abnormal", "--size", "tiny",
                "--splits", str(tmp_path / name), "--out", str(tmp_path / "r"), *extra]  # fmt: skip
        res = CliRunner().invoke(labram_cli, args)
        assert res.exit_code == 2 and res.output.startswith("error:"), res.output
        assert says in res.output and len(res.output.splitlines()) == 1, res.output
        assert not (tmp_path / "r").exists()
    res = CliRunner().invoke(labram_cli, ["finetune", "--store", store, "--task", "tuab",
                                          "--protocol", "few-shot", "--size", "tiny"])  # fmt: skip
    assert res.exit_code == 2 and "--shots" in res.output and len(res.output.splitlines()) == 1


def _in_two(fold: dict) -> None:
    fold["train"].append(fold["test"][0])


@pytest.mark.parametrize(
    ("damage", "says"),
    [
        (_in_two, "is in both train and test"),  # was read as test alone, silently
        (lambda f: f.__setitem__("train", [["x"]]), "train is not a list of subject keys"),
        (lambda f: f.__setitem__("calibration", ["x"]), "calibration is not a list of"),
        (lambda f: f.__setitem__("calibration", [["r", True]]), "calibration is not a list of"),
        (lambda f: f.pop("val"), "val is not a list of subject keys"),  # was KeyError: 'val'
        (lambda f: f.__setitem__("test_rule", "all"), "test_rule 'all' is not official or"),
        # the fold number names the run's fold<k> folder: seeds were written outside --out
        (lambda f: f.__setitem__("fold", "/../../../../../tmp/elsewhere"),
         "its number '/../../../../../tmp/elsewhere' is not a fold number (0 to 1,000,000)"),
        (lambda f: f.__setitem__("fold", -1), "its number '-1' is not a fold number"),
        (lambda f: f.__setitem__("fold", True), "its number 'True' is not a fold number"),
        (lambda f: f.pop("fold"), "it has no fold number"),  # was KeyError: 'fold'
        (lambda f: f.__setitem__("fold", 0), "its number 0 is fold 0's too"),  # (one folder)
    ],
    ids=["subject-in-two", "nested", "bare-calibration", "bool-start", "no-val", "test-rule",
         "fold-path", "fold-negative", "fold-bool", "no-fold", "fold-twice"],
)  # fmt: skip
def test_a_splits_file_s_damaged_fold_is_one_line(
    store: str, tmp_path: Path, damage: Any, says: str
) -> None:
    """A hand-edited splits.json: lists of lists and bare calibration entries were internal
    errors (unhashable list, unpacking), a subject in train and test was read as one split."""
    from labram.data.protocols import splits_record

    table, t = _table(store, "label:abnormal")
    folds = make_folds(Protocol(name="loso"), table, t, CFG)
    rec = splits_record(Protocol(name="loso"), t, [store], CFG, folds)  # type: ignore[arg-type]
    n = 1 if says.startswith("its number 0 is") else 0  # (fold 1 given fold 0's number)
    damage(rec["folds"][n])
    path = tmp_path / "splits.json"
    path.write_text(json.dumps(rec))
    args = ["finetune", "--store", store, "--task", "label:abnormal", "--size", "tiny",
            "--splits", str(path), "--out", str(tmp_path / "r"), "--max-steps", "1"]  # fmt: skip
    res = CliRunner().invoke(labram_cli, args)
    assert res.exit_code == 2 and res.output.startswith(f"error: {path}: fold {n}: "), res.output
    assert says in res.output and len(res.output.splitlines()) == 1, res.output
    assert not (tmp_path / "r").exists()


def test_a_splits_file_that_is_a_fifo_or_too_large_is_refused_unread(
    store: str, tmp_path: Path
) -> None:
    """A FIFO would block the read for ever (hence a thread with a timeout here), and a file of
    gigabytes would be read whole: each is one line naming the file."""
    import os
    import threading

    from eegprep.base.errors import UsageError
    from labram.data.protocols import read_splits

    table, t = _table(store)
    os.mkfifo(tmp_path / "fifo.json")
    with open(tmp_path / "huge.json", "wb") as f:
        f.truncate(16 * 2**20 + 1)
    cases = [
        ("fifo.json", "a FIFO, not a splits file"),
        ("huge.json", "larger than 16 MiB, too large for a splits file"),
    ]
    for name, says in cases:
        raised: list[BaseException] = []

        def read(path: Path = tmp_path / name, got: list[BaseException] = raised) -> None:
            try:
                read_splits(path, t, table)  # type: ignore[arg-type]
            except BaseException as exc:
                got.append(exc)

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(timeout=60)
        assert not reader.is_alive(), f"read_splits({name}) still reading after 60 s"
        assert len(raised) == 1 and isinstance(raised[0], UsageError), raised
        assert str(raised[0]) == f"{tmp_path / name}: {says}" + (
            ": give the file itself" if name == "fifo.json" else ": is it the right file?"
        )


def test_linear_probe_run_keeps_the_backbone(store: str, tmp_path: Path) -> None:
    from labram.checkpoints.safe_read import read_checkpoint
    from labram.stages.finetune import init_classifier

    res = _finetune(store, tmp_path / "lp", "--protocol", "linear-probe")
    assert res["protocol"]["name"] == "linear-probe" and len(res["folds"]) == 1
    best = read_checkpoint(tmp_path / "lp" / "seed0" / "best.pt")
    torch.manual_seed(0)
    fresh = init_classifier(None, 1, "tiny", 0.0).state_dict()
    for k, v in best["model"].items():
        assert torch.equal(v, fresh[k]) == (not k.startswith("head.")), k
    assert best["train_config"]["drop_path"] == 0.0
