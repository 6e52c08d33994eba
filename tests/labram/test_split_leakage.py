"""Leakage between a task's splits: a subject on both sides, one recording under two names,
windows that share samples (labram/data/protocols.py, ``check_split_leakage``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from eegprep.base.errors import UsageError
from eegprep.pipeline.recipe import Recipe
from eegprep.store.writer import StoreWriter
from labram.commands import labram_cli
from labram.data.protocols import (
    Protocol,
    TaskWindows,
    check_split_leakage,
    fold_indexes,
    make_folds,
)
from labram.data.tasks import build_task_indexes, get_task
from labram.data.windows import WindowIndex, open_stores
from labram.train.config import train_config
from tests.labram.training_stores import TUAB_ORDER, eeg, put

CFG = train_config("finetune", "tiny")


def _tuab(path: Path, recordings: list[dict[str, Any]]) -> str:
    """A TUAB-like store of 20-s recordings: ``rid``, ``subject``, ``split``, ``abnormal`` and
    any other record field each."""
    rng = np.random.default_rng(0)
    url = str(path)
    with StoreWriter(url, Recipe()) as w:
        for r in recordings:
            r = dict(r)
            rid, subject, label = r.pop("rid"), r.pop("subject"), r.pop("abnormal")
            put(w, rid, eeg(rng, 23, 20, label), list(TUAB_ORDER), subject=subject,
                subject_key=f"tuh:{subject}", labels={"abnormal": label}, **r)  # fmt: skip
    return url


def _clean() -> list[dict[str, Any]]:
    out = []
    for split, n in (("train", 6), ("eval", 2)):
        for k in range(n):
            s = f"{split[0]}{k:03d}"
            out.append({"rid": f"tuab/{s}", "subject": s, "split": split, "abnormal": k % 2,
                        "source_blake3": f"{split}{k:060d}"})  # fmt: skip
    return out


def _splits(url: str, task: str = "tuab") -> dict[str, WindowIndex]:
    return build_task_indexes([url], get_task(task, open_stores([url])))


def test_clean_splits_pass(tmp_path: Path) -> None:
    assert check_split_leakage(_splits(_tuab(tmp_path / "a.zarr", _clean())), allow=False) is None


def test_a_subject_in_training_and_test_is_refused(tmp_path: Path) -> None:
    recs = [*_clean(), {"rid": "tuab/t000_s002", "subject": "t000", "split": "eval",
                        "abnormal": 0, "source_blake3": "x" * 64}]  # fmt: skip
    splits = _splits(_tuab(tmp_path / "a.zarr", recs))
    assert "tuh:t000" in {p.subject_key for p in splits["test"].recordings}
    with pytest.raises(UsageError, match=r"subject 'tuh:t000' has (train|val) windows"):
        check_split_leakage(splits, allow=False)
    line = check_split_leakage(splits, allow=True)
    assert line is not None and "tuh:t000" in line


def test_one_recording_under_two_names_is_refused(tmp_path: Path) -> None:
    # an eval recording whose source has the bytes of a training recording's source
    recs = [*_clean(), {"rid": "tuab/copy", "subject": "zzz", "split": "eval", "abnormal": 0,
                        "source_blake3": "train" + "0" * 60}]  # fmt: skip
    splits = _splits(_tuab(tmp_path / "a.zarr", recs))
    with pytest.raises(UsageError, match=r"recording tuab/t000 and test recording tuab/copy are "
                       "one recording under two names"):  # fmt: skip
        check_split_leakage(splits, allow=False)
    # parts of one source file are different recordings
    parts = [{**r, "part": str(i)} for i, r in enumerate(recs)]
    parted = _splits(_tuab(tmp_path / "b.zarr", parts))
    assert check_split_leakage(parted, allow=False) is None


def test_finetune_refuses_leaking_splits_in_one_line(tmp_path: Path) -> None:
    recs = [*_clean(), {"rid": "tuab/t001_s002", "subject": "t001", "split": "eval",
                        "abnormal": 1}]  # fmt: skip
    url = _tuab(tmp_path / "a.zarr", recs)
    args = ["finetune", "--store", url, "--task", "tuab", "--size", "tiny", "--max-steps", "1",
            "--batch-size", "2", "--device", "cpu", "--out", str(tmp_path / "run")]  # fmt: skip
    res = CliRunner().invoke(labram_cli, args)
    assert res.exit_code == 2, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and "splits leak: subject 'tuh:t001'" in lines[0]
    assert not (tmp_path / "run" / "seed0").exists()


def _tuev(path: Path) -> str:
    """One training and one eval subject, 60 s each, an event every 2 s (5-s windows overlap)."""
    rng = np.random.default_rng(0)
    url = str(path)
    with StoreWriter(url, Recipe()) as w:
        for split, s in (("train", "a"), ("eval", "b")):
            events = [[float(t), 1.0, ("SPSW", "BCKG")[(t // 2) % 2], ""] for t in range(4, 54, 2)]
            put(w, f"tuev/{s}", eeg(rng, 23, 60), list(TUAB_ORDER), subject=s,
                subject_key=f"tuh:{s}", split=split, events=events)  # fmt: skip
    return url


def _shared(a: WindowIndex, b: WindowIndex) -> int:
    """Windows of ``b`` sharing a sample with a window of ``a`` in the same recording (plain
    loops, independent of the code under test)."""
    n = 0
    for i in range(len(b)):
        rb, sb = b.recordings[int(b.rec[i])].id, int(b.start[i])
        lb = int(b.n_patches[i]) * 200
        for j in range(len(a)):
            ra, sa = a.recordings[int(a.rec[j])].id, int(a.start[j])
            la = int(a.n_patches[j]) * 200
            if ra == rb and sa < sb + lb and sb < sa + la:
                n += 1
                break
    return n


def test_few_shot_tests_no_window_that_shares_samples_with_calibration(tmp_path: Path) -> None:
    url = _tuev(tmp_path / "ev.zarr")
    opened = open_stores([url])
    task = get_task("tuev")
    table = TaskWindows.build(opened, task, CFG)
    (fold,) = make_folds(Protocol(name="few-shot", shots=1), table, task, CFG)
    splits = fold_indexes(table, fold)
    assert len(fold["calibration"]) == 2 and len(splits["test"]) > 0
    assert _shared(splits["train"], splits["test"]) == 0
    assert _shared(splits["val"], splits["test"]) == 0
    # every other official window stays in test: those far from both calibration windows
    cal = [int(s) for _, s in fold["calibration"]]
    official = table.index.start[table.official].tolist()
    assert len(official) == 25
    far = [s for s in official if all(abs(s - c) >= 1000 for c in cal)]
    assert len(splits["test"]) == len(far) < 25 - 2
    assert check_split_leakage(splits, allow=False, calibration=fold["calibration"]) is None


def test_windows_sharing_samples_across_splits_are_refused(tmp_path: Path) -> None:
    url = _tuev(tmp_path / "ev.zarr")
    opened = open_stores([url])
    task = get_task("tuev")
    table = TaskWindows.build(opened, task, CFG)
    (fold,) = make_folds(Protocol(), table, task, CFG)
    test = table.official
    # a fold whose training takes one test window of tuev/b, and tests its neighbour
    one = int(np.flatnonzero(test)[3])
    fold["calibration"] = [[str(table.recording[one]), int(table.index.start[one])]]
    splits = fold_indexes(table, fold)
    both = {**splits, "test": table.index.subset(test & (np.arange(len(test)) != one))}
    with pytest.raises(UsageError, match=r"test windows of tuev/b share samples with its train"):
        check_split_leakage(both, allow=False, calibration=fold["calibration"])


def test_a_test_file_pretrained_on_under_another_subject_key_is_refused(tmp_path: Path) -> None:
    """Pre-training records its recordings' source digests: a test recording whose file it
    trained on is caught though the pre-training store named its subject otherwise."""
    import io

    import torch

    from labram.data.windows import WindowConfig, build_pretrain_index
    from labram.stages.finetune import test_sources, test_subjects
    from labram.train import leakage

    test = _splits(_tuab(tmp_path / "a.zarr", _clean()))["test"]
    rng = np.random.default_rng(1)
    with StoreWriter(str(tmp_path / "p.zarr"), Recipe()) as w:  # eval file e001, another name
        put(w, "lab/r1", eeg(rng, 23, 20, 0), list(TUAB_ORDER), subject="zzz",
            subject_key="lab:zzz", source_blake3="eval" + f"{1:060d}")  # fmt: skip
        put(w, "lab/r2", eeg(rng, 23, 20, 0), list(TUAB_ORDER), subject="yyy",
            subject_key="lab:yyy", source_blake3="other" + "0" * 59)  # fmt: skip
    index = build_pretrain_index([str(tmp_path / "p.zarr")], WindowConfig())
    record = leakage.trained_record(index)
    assert record["keys"] == ["lab:yyy", "lab:zzz"] and record["sources_64"].numel() == 2
    buf = io.BytesIO()
    torch.save(leakage.merge(record), buf)
    buf.seek(0)
    record = torch.load(buf, weights_only=True)  # kept by merge, read back weights-only
    subjects, files = test_subjects(test), test_sources(test)
    assert len(subjects) == 2 and len(files) == 2
    with pytest.raises(
        UsageError,
        match=r"^0 of 2 test subjects .*1 of the 2 test recording source files was pre-trained "
        r".*without those files",
    ):
        leakage.check_test_subjects(record, subjects, allow=False, source="m.pt",
                                    test_sources=files)  # fmt: skip
    line = leakage.check_test_subjects(
        record, subjects, allow=True, source="m.pt", test_sources=files
    )
    assert "source files was pre-trained on" in line
    old = {k: v for k, v in record.items() if k != "sources_64"}  # a record from before
    assert "source files" not in leakage.check_test_subjects(
        old, subjects, allow=False, source="m.pt", test_sources=files
    )
    bad = {**record, "sources_64": [1, 2]}
    with pytest.raises(UsageError, match="'sources_64' that is not a 1-D int64 tensor"):
        leakage.record_of({leakage.KEY: bad}, "m.pt")


def test_test_recordings_without_subject_key_are_counted_apart(tmp_path: Path) -> None:
    """They cannot be in "k of N test subjects": the line says how many were left out."""
    from labram.stages.finetune import test_subjects, unkeyed_tests
    from labram.train import leakage

    rng = np.random.default_rng(2)
    url = str(tmp_path / "a.zarr")
    with StoreWriter(url, Recipe()) as w:
        for k, (split, key) in enumerate([("train", "tuh:a"), ("train", "tuh:b"), ("eval", ""),
                                          ("eval", ""), ("eval", "tuh:c")]):  # fmt: skip
            put(w, f"tuab/r{k}", eeg(rng, 23, 20, k % 2), list(TUAB_ORDER), subject=f"s{k}",
                subject_key=key, labels={"abnormal": k % 2}, split=split)  # fmt: skip
    test = _splits(url)["test"]
    assert test_subjects(test) == {"tuh:c"} and unkeyed_tests(test, test) == 2
    line = leakage.check_test_subjects(
        leakage.make_record(["tuh:a"]), test_subjects(test), allow=False, source="m.pt",
        unkeyed=unkeyed_tests(test),
    )  # fmt: skip
    assert line.startswith("0 of 1 test subject was seen in pre-training (m.pt); 2 test ")
    assert "have no subject_key and are not in that count" in line
