"""Bit rot in the run files that decide results is found by every reader, never used.

``config.json`` (compared by ``--resume``; the fine-tuning config beside an older ``best.pt``
for ``evaluate``, ``export`` and ``predict``), ``splits.json`` (the folds ``--splits`` and
``--resume`` read back), ``excluded_subjects.json`` (the test subjects pre-training left out)
and ``log.csv`` (kept by ``--resume``, drawn by ``labram report``) had no checksum: a flipped
bit that left them JSON or CSV was read as other values, or rewritten over. Each file is
written by labram's own writer, one bit of it is flipped at seeded positions (those that leave
it valid JSON or CSV with other contents: the flips nothing but a checksum finds), and each
reader refuses it in one line naming the file, the file left as it was; a file an older labram
wrote (no checksum) is read as before.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from eegprep.base import strict_json
from eegprep.base.errors import UsageError
from eegprep.base.sealed_json import KEY
from eegprep.base.sealed_rows import CHECK_COLUMN

CHANGED = rf"({KEY}|{CHECK_COLUMN}|another number of fields)"
"""What a refusal of a changed file names: the checksum it does not match."""

N_FLIPS = 6


def _json_flips(path: Path, seed: int) -> list[bytes]:
    """Versions of ``path`` with one bit flipped, at seeded positions, that are still a JSON
    object and differ from it in value (a flip that breaks the JSON is found without a
    checksum)."""
    data = path.read_bytes()
    doc = json.loads(data)
    rng = random.Random(seed)
    found: list[bytes] = []
    for _ in range(20_000):
        if len(found) == N_FLIPS:
            break
        at, bit = rng.randrange(len(data)), rng.randrange(8)
        flipped = bytearray(data)
        flipped[at] ^= 1 << bit
        try:
            other = strict_json.loads(bytes(flipped))
        except ValueError:
            continue
        if isinstance(other, dict) and other != doc and bytes(flipped) not in found:
            found.append(bytes(flipped))
    assert len(found) == N_FLIPS
    return found


def _csv_flips(path: Path, seed: int) -> list[bytes]:
    """Versions of ``path`` (a ``log.csv``) with one bit flipped, at seeded positions inside
    its whole rows (a flip of the last line break reads as a row cut by a kill: no row), that
    are still UTF-8 text."""
    data = path.read_bytes()
    rng = random.Random(seed)
    found: list[bytes] = []
    for _ in range(20_000):
        if len(found) == N_FLIPS:
            break
        at, bit = rng.randrange(len(data) - 2), rng.randrange(7)  # (ASCII stays ASCII)
        flipped = bytearray(data)
        flipped[at] ^= 1 << bit
        if b"\n" in flipped[at : at + 1] or data[at : at + 1] in b"\r\n":
            continue  # (a line break made or lost: a row count the rule of cut rows reads)
        if bytes(flipped) not in found:
            found.append(bytes(flipped))
    assert len(found) == N_FLIPS
    return found


def _refused(path: Path, versions: list[bytes], read: Any) -> None:
    """``read()`` refuses each version of ``path`` in one line naming it, leaving it as it
    was."""
    for version in versions:
        path.write_bytes(version)
        with pytest.raises(UsageError, match=CHANGED) as info:
            read()
        assert str(path) in str(info.value) and "\n" not in str(info.value)
        assert path.read_bytes() == version  # never rewritten over


# ---- config.json ---------------------------------------------------------------------------


def _finetune_config() -> dict[str, Any]:
    from labram.train.config import train_config

    return train_config("finetune", "tiny").to_dict()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_flipped_bit_in_config_json_is_refused_by_every_reader(tmp_path: Path, seed: int) -> None:
    """``--resume`` (which compares all but the fields a resume may change, and rewrote the
    file), ``evaluate``'s, ``export``'s and ``predict``'s reads beside a ``best.pt`` (which took
    the changed config as the one it was trained with)."""
    from labram.stages.export import _json_beside
    from labram.stages.scoring import run_config
    from labram.train.run import read_run_json, write_run_config

    record = _finetune_config()
    write_run_config(tmp_path, record, resume=False)
    path = tmp_path / "config.json"
    versions = _json_flips(path, seed)
    _refused(path, versions, lambda: write_run_config(tmp_path, record, resume=True))
    _refused(path, versions, lambda: run_config(tmp_path / "best.pt"))
    _refused(path, versions, lambda: read_run_json(path))
    _refused(path, versions, lambda: _json_beside(tmp_path / "best.pt", "config.json"))


def test_a_changed_field_a_resume_may_change_is_refused_not_rewritten(tmp_path: Path) -> None:
    """``log_every`` is not compared by ``--resume``: a flipped digit was taken and the file
    rewritten, the run's record of how it logged lost."""
    from labram.train.run import write_run_config

    record = _finetune_config()
    write_run_config(tmp_path, record, resume=False)
    path = tmp_path / "config.json"
    text = path.read_text()
    every = f'"log_every": {record["log_every"]}'
    assert every in text
    damaged = text.replace(every, f'"log_every": {record["log_every"] + 1}')
    path.write_text(damaged)
    with pytest.raises(UsageError, match=rf"config\.json: its entries do not match its {KEY}"):
        write_run_config(tmp_path, record, resume=True)
    assert path.read_text() == damaged


def test_a_config_json_an_older_labram_wrote_is_read_as_before(tmp_path: Path) -> None:
    from labram.stages.scoring import run_config
    from labram.train.run import read_run_json, write_run_config

    record = {**_finetune_config(), "lr": 0.00125}
    path = tmp_path / "config.json"
    path.write_text(strict_json.dumps(record, indent=2))  # (no checksum)
    assert read_run_json(path) == record
    assert run_config(tmp_path / "best.pt").lr == 0.00125
    write_run_config(tmp_path, record, resume=True)  # compared, then sealed
    assert json.loads(path.read_text())[KEY]
    from eegprep.base.version import __version__

    # (and the labram that rewrote it, after one that recorded none: labram.checkpoints.made_by)
    made = {"labram_version": __version__, "earlier_labram_versions": [None]}
    assert read_run_json(path) == {**record, **made}


# ---- results.json beside a checkpoint (predict, export) -----------------------------------


def test_a_flipped_bit_in_results_json_is_refused_by_predict_and_export(tmp_path: Path) -> None:
    """``results.json`` carried its checksum, but ``labram predict`` (the task of a ``best.pt``
    of an older labram) and ``export`` (the model card's task) read it unchecked."""
    from eegprep.base.sealed_json import sealed
    from labram.stages.export import _json_beside
    from labram.stages.predict import _run_folder_task

    path = tmp_path / "results.json"
    path.write_bytes(sealed({"task": "tuab", "test": {"balanced_accuracy": 0.8125}}))
    (tmp_path / "seed0").mkdir()
    best = tmp_path / "seed0" / "best.pt"
    assert _run_folder_task(best) == "tuab"
    versions = _json_flips(path, 7)
    _refused(path, versions, lambda: _run_folder_task(best))
    _refused(path, versions, lambda: _json_beside(best, "results.json"))


# ---- splits.json ----------------------------------------------------------------------------


def _splits(tmp_path: Path) -> tuple[Path, dict[str, Any], Any, Any]:
    """A ``splits.json`` as ``labram finetune`` writes it, and the task and subjects
    :func:`~labram.data.protocols.read_splits` checks it against."""
    from labram.data.protocols import SPLITS_FORMAT, SPLITS_VERSION, write_splits

    keys = [f"x:s{i}" for i in range(8)]
    record = {
        "format": SPLITS_FORMAT,
        "version": SPLITS_VERSION,
        "task": "tuab",
        "stores": ["a.zarr"],
        "protocol": {"name": "cross-subject", "folds": 2, "shots": None},
        "split_seed": 0,
        "val_split": 0.2,
        "val_rounding": "nearest",
        "folds": [
            {"fold": 0, "train": keys[:3], "val": keys[3:4], "test": keys[4:],
             "test_rule": "subjects", "calibration": []},
            {"fold": 1, "train": keys[4:7], "val": keys[7:], "test": keys[:4],
             "test_rule": "subjects", "calibration": []},
        ],
    }  # fmt: skip
    path = write_splits(tmp_path / "splits.json", record)
    task = SimpleNamespace(name="tuab")
    table = SimpleNamespace(subjects=lambda: keys)
    return path, record, task, table


def test_a_subject_key_changed_by_one_bit_is_refused_not_moved(tmp_path: Path) -> None:
    """``x:s4`` read as ``x:s5`` took subject 4 out of fold 0's test split and put subject 5
    in it twice: a smaller test set, unsaid."""
    from labram.data.protocols import read_splits

    path, _, task, table = _splits(tmp_path)
    text = path.read_text()
    i = text.index('"x:s4"')
    path.write_text(text[:i] + '"x:s5"' + text[i + 6 :])
    with pytest.raises(UsageError, match=rf"splits\.json: its entries do not match its {KEY}"):
        read_splits(path, task, table)  # type: ignore[arg-type]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_flipped_bit_in_splits_json_is_refused_by_splits_and_resume(
    tmp_path: Path, seed: int
) -> None:
    from labram.data.protocols import read_splits
    from labram.stages.finetune_resume import check_resumed_splits

    path, record, task, table = _splits(tmp_path)
    assert read_splits(path, task, table)["folds"] == record["folds"]  # type: ignore[arg-type]
    versions = _json_flips(path, seed)
    _refused(path, versions, lambda: read_splits(path, task, table))  # type: ignore[arg-type]
    _refused(path, versions, lambda: check_resumed_splits(path, record))


def test_a_damaged_splits_json_is_not_written_anew_on_resume(tmp_path: Path) -> None:
    """A ``splits.json`` that is no JSON object was taken for none by ``--resume`` and written
    anew from this command's folds, unchecked."""
    from labram.stages.finetune_resume import check_resumed_splits

    path, record, _, _ = _splits(tmp_path)
    data = path.read_bytes()
    damaged = data[: len(data) // 2]
    path.write_bytes(damaged)
    with pytest.raises(UsageError, match=r"splits\.json is damaged .* restore it"):
        check_resumed_splits(path, record)
    assert path.read_bytes() == damaged
    path.unlink()
    check_resumed_splits(path, record)  # (none yet: a run killed before writing it)


def test_a_splits_json_an_older_labram_wrote_is_read_as_before(tmp_path: Path) -> None:
    from labram.data.protocols import read_splits
    from labram.stages.finetune_resume import check_resumed_splits

    path, record, task, table = _splits(tmp_path)
    path.write_text(json.dumps(record, indent=2))  # (no checksum)
    assert read_splits(path, task, table)["folds"] == record["folds"]  # type: ignore[arg-type]
    check_resumed_splits(path, record)


# ---- excluded_subjects.json -----------------------------------------------------------------


@pytest.fixture
def no_stores(monkeypatch: pytest.MonkeyPatch) -> None:
    """The evaluation stores' subjects without opening stores."""
    from labram.stages import pretrain

    monkeypatch.setattr(pretrain, "subjects_of", lambda of: {"x:s1", "x:s2", "x:s3"})
    monkeypatch.setattr(pretrain, "_any_left", lambda stores, keys: True)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_flipped_bit_in_excluded_subjects_json_is_refused_on_resume(
    tmp_path: Path, seed: int, no_stores: None
) -> None:
    """Only the stores were compared: a changed subject key (the record of which test
    subjects pre-training left out) was rewritten over unsaid."""
    from labram.stages.pretrain import exclusions

    exclusions(["pre.zarr"], tmp_path, ["eval.zarr"], True)
    path = tmp_path / "excluded_subjects.json"
    versions = _json_flips(path, seed)
    _refused(
        path,
        versions,
        lambda: exclusions(["pre.zarr"], tmp_path, ["eval.zarr"], True, resume=True),
    )


def test_an_excluded_subjects_json_an_older_labram_wrote_resumes(
    tmp_path: Path, no_stores: None
) -> None:
    from labram.stages.pretrain import exclusions

    path = tmp_path / "excluded_subjects.json"
    old = {"pretraining_stores": ["pre.zarr"], "evaluation_stores": ["eval.zarr"],
           "n_subjects": 3, "subject_keys": ["x:s1", "x:s2", "x:s3"]}  # fmt: skip
    path.write_text(json.dumps(old, indent=2))  # (no checksum)
    assert exclusions(["pre.zarr"], tmp_path, ["eval.zarr"], True, resume=True) == {
        "x:s1", "x:s2", "x:s3"
    }  # fmt: skip
    assert json.loads(path.read_text())[KEY]


# ---- log.csv --------------------------------------------------------------------------------


def _log(path: Path) -> list[dict[str, Any]]:
    from labram.train.runlog import RunLog

    rows = [{"step": 10 * i, "epoch": 0, "loss": 2.0 / i, "lr": 1e-4 * i} for i in range(1, 6)]
    log = RunLog(path, total=50)
    for row in rows:
        log.log(row)
    log.close()
    return rows


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_flipped_bit_in_log_csv_is_refused_by_resume_and_report(
    tmp_path: Path, seed: int
) -> None:
    """``--resume`` kept a row whose step was changed to a later one out (or a changed loss
    in) and rewrote the file; ``labram report`` drew the changed point."""
    from labram.stages.report import _log as report_log
    from labram.train.runlog import RunLog

    path = tmp_path / "log.csv"
    rows = _log(path)
    assert [r["step"] for r in report_log(path)] == [r["step"] for r in rows]
    versions = _csv_flips(path, seed)
    _refused(path, versions, lambda: RunLog(path, total=50, resume_step=30))
    _refused(path, versions, lambda: report_log(path))


def test_a_log_csv_an_older_labram_wrote_is_read_as_before(tmp_path: Path) -> None:
    from labram.stages.report import _log as report_log
    from labram.train.runlog import RunLog

    path = tmp_path / "log.csv"
    path.write_text("step,epoch,loss\r\n10,0,2.0\r\n20,0,1.5\r\n30,0,1.25\r\n")  # (no checksum)
    assert [r["loss"] for r in report_log(path)] == [2.0, 1.5, 1.25]
    log = RunLog(path, total=50, resume_step=20)
    assert [r["step"] for r in log.rows] == ["10", "20"]
    log.log({"step": 30, "epoch": 0, "loss": 1.0})
    assert [r["loss"] for r in report_log(path)] == [2.0, 1.5, 1.0]  # now each row checked
    assert path.read_text().splitlines()[0].endswith(CHECK_COLUMN)


def test_a_log_csv_whose_checksum_column_name_is_changed_is_refused(tmp_path: Path) -> None:
    from labram.stages.report import _log as report_log

    path = tmp_path / "log.csv"
    _log(path)
    path.write_text(path.read_text().replace(CHECK_COLUMN, "row_crc33", 1))
    with pytest.raises(UsageError, match="its header's last column is 'row_crc33'"):
        report_log(path)
