"""A run folder's JSON file (``config.json``, ``splits.json``, ``excluded_subjects.json``, a
``results.json`` beside a checkpoint) rewritten in place while a labram command reads it: one
line naming it, "changed while it was read", by every reader that takes a missing or damaged
file for none. Those readers took the half-read file for a damaged one: ``--resume`` refused
the run's ``config.json`` as damaged, or went on as if the run recorded no tokenizer or initial
weights, and wrote a ``splits.json`` anew, unchecked; ``labram export`` and ``labram predict``
left the run's task unsaid. The rewrite is made from a hook on the read's first stamp of the
open file, after the stamp was taken (no timing race)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from eegprep.base import strict_json, unchanged_reads
from eegprep.base.errors import ChangedFileError
from labram.stages import export, finetune_resume, predict, pretrain, tokenizer_used
from labram.train import run

CHANGED = "changed while it was read; read it again when the writer is done"
PAST_NS = 10**18  # 2001-09-09: the file's stamps before the rewrite


def _rewrite_while_read(monkeypatch: pytest.MonkeyPatch, path: Path, data: bytes) -> list[int]:
    """Rewrite ``path`` in place (truncated, ``data`` written: the same inode) just after the
    reader took the open file's first stamp, the first time it reads ``path``."""
    os.utime(path, ns=(PAST_NS, PAST_NS))
    inode = path.stat().st_ino
    original = unchanged_reads.open_stamp
    done: list[int] = []

    def stamped_then_rewritten(fh: Any) -> unchanged_reads.OpenStamp:
        stamp = original(fh)
        fd = fh if isinstance(fh, int) else fh.fileno()
        if not done and os.fstat(fd).st_ino == inode:
            done.append(1)
            with open(path, "r+b") as w:
                w.truncate(0)
                w.write(data)
        return stamp

    monkeypatch.setattr(unchanged_reads, "open_stamp", stamped_then_rewritten)
    return done


def _config(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.json"
    path.write_text(strict_json.dumps({"stage": "finetune", "size": "tiny", "seed": 0}))
    return path


def _results(folder: Path) -> Path:
    (folder / "seed0").mkdir(parents=True)
    path = folder / "results.json"
    path.write_text(strict_json.dumps({"task": "tuab", "stores": ["a.zarr"]}))
    return path


def _excluded(folder: Path) -> Path:
    folder.mkdir(parents=True)
    path = folder / "excluded_subjects.json"
    path.write_text(strict_json.dumps({"pretraining_stores": [], "evaluation_stores": []}))
    return path


def _splits(folder: Path) -> Path:
    folder.mkdir(parents=True)
    path = folder / "splits.json"
    path.write_text(strict_json.dumps({"task": "tuab", "stores": ["a.zarr"]}))
    return path


READERS: dict[str, tuple[Callable[[Path], Path], Callable[[Path], Any]]] = {
    # name: (make the file in a folder, read it as the command does)
    "resume: read_run_record": (_config, tokenizer_used.read_run_record),
    "resume: the folder's stage": (_config, lambda d: run.check_resume_stage(d, "finetune")),
    "resume: options compared": (
        _config, lambda d: run.write_run_config(d, {"stage": "finetune"}, resume=True)),
    "export: the run's config": (_config, lambda d: export._json_beside(d / "best.pt",
                                                                         "config.json")),
    "predict: the run's task": (_results, lambda d: predict._run_folder_task(d / "seed0" /
                                                                             "best.pt")),
    "resume: the stores kept out": (
        _excluded, lambda d: pretrain.exclusions([], d, [], True, resume=True)),
    "resume: the folds": (_splits, lambda d: finetune_resume.check_resumed_splits(
        d / "splits.json", {"task": "tuab", "stores": ["a.zarr"]})),
}  # fmt: skip


@pytest.mark.parametrize("case", list(READERS))
def test_a_run_file_rewritten_while_read_is_named_so_not_damaged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    make, read = READERS[case]
    path = make(tmp_path / "run")
    before = path.read_bytes()
    done = _rewrite_while_read(monkeypatch, path, before.replace(b"tiny", b"base").replace(
        b"tuab", b"tuev"))  # fmt: skip
    with pytest.raises(ChangedFileError) as err:
        read(tmp_path / "run")
    assert done == [1]
    assert str(err.value) == f"{path}: {CHANGED}"


def test_a_damaged_run_file_still_reads_as_none(tmp_path: Path) -> None:
    """What the readers took for damage before is still damage: a cut file is None."""
    path = _config(tmp_path / "run")
    path.write_bytes(path.read_bytes()[:-3])
    assert tokenizer_used.read_run_record(tmp_path / "run") is None
    assert run.read_run_json(path) is None
