"""labram groups a recording's subject by its key as the record text rule cleans it.

A store written before the rule (eegprep/base/field_text.py) may spell one subject two ways:
``"tuh:s01 "`` beside ``"tuh:s01"``, or ``"x:café"`` with a combining accent (NFD, a macOS
folder name) beside the composed one. labram compared the keys as stored, so they were two
subjects: ``--exclude-subjects-of`` kept the evaluation subject in pre-training, the record of
the subjects a checkpoint trained on missed it, and a fine-tuning split put one subject on
both sides of its validation set. Now every grouping reads the key through
:mod:`labram.data.subjects`, so an earlier store behaves as a new one.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from eegprep.base.errors import UsageError
from eegprep.base.sealed_json import KEY
from eegprep.pipeline.recipe import Recipe
from eegprep.store.writer import StoreWriter
from labram.data.tasks import build_task_indexes, get_task
from labram.data.windows import build_pretrain_index, open_stores, subjects_of
from labram.stages import finetune
from labram.train.leakage import trained_record
from tests.labram.training_stores import TUAB_ORDER, eeg, put

NFC, NFD = "caf\u00e9", "cafe\u0301"


def _old_store(path: Path, rows: list[tuple[str, str, str, str]], seconds: float = 12) -> str:
    """A store of hand-written records ``(name, subject_key, split, state label)``, one
    23-channel recording each, keys as an earlier version stored them (untrimmed, NFD)."""
    url, rng = str(path), np.random.default_rng(0)
    with StoreWriter(url, Recipe()) as w:
        for name, key, split, state in rows:
            put(w, f"old/{name}", eeg(rng, 23, seconds), list(TUAB_ORDER), subject=name,
                subject_key=key, split=split, labels={"state": state})  # fmt: skip
    return url


def test_exclude_subjects_of_matches_an_untrimmed_or_nfd_key(tmp_path: Path) -> None:
    # was: neither excluded (0 recordings), and the trained-on record held "tuh:s02 "
    pre = _old_store(tmp_path / "p.zarr", [("a", "tuh:s01", "train", "n"),
                                           ("b", f"tuh:{NFC}", "train", "n"),
                                           ("c", "tuh:s02 ", "train", "n")])  # fmt: skip
    ev = _old_store(tmp_path / "e.zarr", [("d", " tuh:s01 ", "eval", "n"),
                                          ("e", f"tuh:{NFD}", "eval", "n")])  # fmt: skip
    keys = subjects_of([ev])
    assert keys == {"tuh:s01", f"tuh:{NFC}"}
    index = build_pretrain_index([pre], exclude_subjects=keys)
    assert index.meta["n_recordings_excluded"] == 2
    assert trained_record(index)["keys"] == ["tuh:s02"]
    raw = build_pretrain_index([pre], exclude_subjects={"tuh:s01\t", f"tuh:{NFD}"})
    assert raw.meta["n_recordings_excluded"] == 2  # a key given as stored elsewhere


def test_a_subject_spelled_two_ways_stays_on_one_side_of_a_split(tmp_path: Path) -> None:
    # was: 16 keys for 8 subjects, split 80/20 as keys: subjects on both sides of validation
    rows = []
    for k in range(8):
        name = f"{NFC}{k}" if k % 2 else f"s{k}"
        other = f"{NFD}{k}" if k % 2 else f"s{k} "
        rows += [(f"r{k}a", f"x:{name}", "train", "ab"[k % 2]),
                 (f"r{k}b", f"x:{other}", "train", "ab"[k % 2])]  # fmt: skip
    rows.append(("t0", "x:s0 ", "eval", "a"))
    url = _old_store(tmp_path / "f.zarr", rows)
    task = get_task("label:state", open_stores([url]))
    parts = build_task_indexes([url], task, val_split="subject")
    side: dict[str, set[str]] = {}
    for split in ("train", "val"):
        for plan in parts[split].recordings:
            side.setdefault(plan.subject, set()).add(split)
    assert len(side) == 8 and all(len(s) == 1 for s in side.values()), side
    assert sum(s == {"val"} for s in side.values()) == 2  # 20% of 8 subjects, rounded
    assert finetune.test_subjects(parts["test"]) == {"x:s0"}  # as the training side spells it


def test_a_checkpoint_listing_an_untrimmed_key_sees_the_test_subject() -> None:
    # was: a record an earlier version wrote, listing "tuh:s01 ", saw 0 of the test subjects
    from labram.train.leakage import make_record, seen

    record = make_record({"tuh:s01 ", f"tuh:{NFD}"})
    assert seen(record, {"tuh:s01", f"tuh:{NFC}", "tuh:s02"}) == {"tuh:s01", f"tuh:{NFC}"}


def test_a_merged_record_holds_an_earlier_checkpoint_key_cleaned(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """``labram pretrain --tokenizer OLD.pt`` merges the tokenizer's record (an earlier
    version's, listing ``"tuh:s01 "``) with its own keys. Merged as listed, one subject counted
    twice, and past :data:`~labram.train.leakage.MAX_LISTED` subjects the untrimmed key was
    hashed as listed, where no cleaning can reach it: the test subject ``tuh:s01`` was not
    seen."""
    import labram.train.leakage as L

    old = L.make_record({"tuh:s01 ", f"tuh:{NFD}"})
    merged = L.merge(old, extra={"tuh:s01", f"tuh:{NFC}"})
    assert merged["n"] == 2 and merged["keys"] == sorted({"tuh:s01", f"tuh:{NFC}"})
    monkeypatch.setattr(L, "MAX_LISTED", 2)  # the merge is hashed: 3 subjects
    merged = L.merge(old, extra={"tuh:s02"})
    assert "keys" not in merged and merged["n"] == 3
    assert L.seen(merged, {"tuh:s01", f"tuh:{NFC}", "tuh:s03"}) == {"tuh:s01", f"tuh:{NFC}"}


def test_a_splits_file_listing_keys_as_an_earlier_store_held_them_is_read(
    tmp_path: Path,
) -> None:
    """A ``splits.json`` an earlier version wrote for a store with untrimmed or NFD keys lists
    them so; the folds are now cut by the cleaned keys, so ``--splits`` refused it as naming
    subjects with no window ("give the stores it was made with": those very stores)."""
    import json

    from labram.data.protocols import TaskWindows, fold_indexes, read_splits
    from labram.train.config import train_config

    rows = [(f"r{k}", key, split, "ab"[k % 2]) for k, (key, split) in enumerate(
        [("x:s0 ", "train"), (f"x:{NFD}", "train"), ("x:s2", "train"), ("x:s3", "train"),
         (" x:e0", "eval"), ("x:e1", "eval")])]  # fmt: skip
    opened = open_stores([_old_store(tmp_path / "s.zarr", rows)])
    task = get_task("label:state", opened)
    table = TaskWindows.build(opened, task, train_config("finetune", "tiny"))
    fold = {"fold": 0, "train": ["x:s0 ", "x:s2", "x:s3"], "val": [f"x:{NFD}"],
            "test": [" x:e0", "x:e1"], "calibration": []}  # fmt: skip
    path = tmp_path / "splits.json"
    path.write_text(json.dumps({"format": "labram-splits", "version": 1, "task": task.name,
                                "folds": [fold]}))  # fmt: skip
    (read,) = read_splits(path, task, table)["folds"]
    assert read["train"] == ["x:s0", "x:s2", "x:s3"] and read["val"] == [f"x:{NFC}"]
    parts = fold_indexes(table, read)
    assert {p.id for p in parts["test"].recordings} == {"old/r4", "old/r5"}
    assert {p.id for p in parts["val"].recordings} == {"old/r1"}
    fold["test"].append("x:s0")  # one subject in two parts, spelled two ways: refused
    path.write_text(json.dumps({"format": "labram-splits", "version": 1, "task": task.name,
                                "folds": [fold]}))  # fmt: skip
    with pytest.raises(UsageError, match="in both train and test"):
        read_splits(path, task, table)


def test_a_run_an_earlier_version_started_resumes_and_another_run_is_still_refused(
    tmp_path: Path,
) -> None:
    """An earlier version wrote ``splits.json`` (and a checkpoint's ``split``) with the subject
    keys as its store held them (``"x:s0 "``, NFD); ``--resume`` compared them raw with the
    cleaned keys this version splits by, and refused the run as one of other folds. Now the
    saved keys are compared after the same cleaning; a fold with another subject is refused."""
    import json

    from labram.data.protocols import TaskWindows, fold_indexes
    from labram.train.config import train_config
    from tests.labram.cli_runs import one_error, run_labram
    from tests.labram.test_run_guards import TINY

    spelled = {"x:s0": "x:s0 ", f"x:{NFC}": f"x:{NFD}", "x:s2": " x:s2", "x:s3": "x:s3\t"}
    keys = [*spelled.values(), "x:s4", "x:s5"]
    rows = [(f"r{k}", key, "train", "ab"[k % 2]) for k, key in enumerate(keys)]
    url = _old_store(tmp_path / "s.zarr", rows)
    out = tmp_path / "run"
    args = ["finetune", "--store", url, "--task", "label:state", *TINY, "--protocol",
            "cross-subject", "--folds", "2", "--out", out]  # fmt: skip
    code, output = run_labram(*args)
    assert code == 0, output
    splits = json.loads((out / "splits.json").read_text())
    now = [dict(f) for f in splits["folds"]]
    for fold in splits["folds"]:  # as the earlier version wrote them: the store's spelling
        for part in ("train", "val", "test"):
            fold[part] = [spelled.get(k, k) for k in fold[part]]
    assert splits["folds"] != now  # (some key is spelled the old way)
    splits.pop(KEY)  # (an earlier version wrote none)
    (out / "splits.json").write_text(json.dumps(splits, indent=2))
    code, output = run_labram(*args, "--resume")
    assert code == 0, output  # was: "cannot resume ...: its run was made with another folds"
    assert json.loads((out / "splits.json").read_text())["folds"] == now
    # a checkpoint's fold of raw keys cuts the windows of its cleaned one
    opened = open_stores([url])
    table = TaskWindows.build(
        opened, get_task("label:state", opened), train_config("finetune", "tiny")
    )
    raw = splits["folds"][0]
    for part, index in fold_indexes(table, raw).items():
        assert index.fingerprint() == fold_indexes(table, now[0])[part].fingerprint(), part
        assert len(index) > 0 or part == "val", part
    from labram.data.subjects import clean_fold

    assert clean_fold(raw) == {**raw, **{p: now[0][p] for p in ("train", "val", "test")}}
    # a real difference is still refused, the folder left as it was
    other = json.loads((out / "splits.json").read_text())
    a, b = other["folds"][0]["test"][0], other["folds"][1]["test"][0]
    for fold in other["folds"]:
        for part in ("train", "val", "test"):
            fold[part] = [{a: b, b: a}.get(k, k) for k in fold[part]]
    other.pop(KEY)  # (as an earlier version wrote it)
    (out / "splits.json").write_text(json.dumps(other, indent=2))
    one_error(*run_labram(*args, "--resume"), f"cannot resume {out}", "another folds")


def test_a_checkpoint_s_fold_of_keys_as_an_earlier_store_held_them_cuts_its_windows(
    tmp_path: Path,
) -> None:
    """``labram evaluate`` (and predict, embed) cut a protocol checkpoint's windows by the fold
    it saved (``split``); one an earlier version saved lists ``"x:s0 "``, which no window's
    subject is now: its subjects had no window (an empty or partial test set)."""
    from labram.data.protocols import TaskWindows, fold_indexes
    from labram.train.config import train_config

    rows = [(f"r{k}", key, "train", "ab"[k % 2]) for k, key in
            enumerate(["x:s0 ", f"x:{NFD}", "x:s2", " x:s3"])]  # fmt: skip
    opened = open_stores([_old_store(tmp_path / "s.zarr", rows)])
    table = TaskWindows.build(
        opened, get_task("label:state", opened), train_config("finetune", "tiny")
    )
    raw = {"fold": 0, "test_rule": "subjects", "train": ["x:s0 ", "x:s2"], "val": [f"x:{NFD}"],
           "test": [" x:s3"], "calibration": []}  # fmt: skip
    clean = {**raw, "train": ["x:s0", "x:s2"], "val": [f"x:{NFC}"], "test": ["x:s3"]}
    got, want = fold_indexes(table, raw), fold_indexes(table, clean)
    assert {p.id for p in got["test"].recordings} == {"old/r3"}
    assert {p.id for p in got["train"].recordings} == {"old/r0", "old/r2"}
    for part in ("train", "val", "test"):
        assert got[part].fingerprint() == want[part].fingerprint(), part
