"""A deletion or a folder's creation that the disk refuses, at each such call of ``labram
export``, ``convert``, ``embed`` and a training run (tests/io_faults.py): one ``error:`` line
naming the path and what to do, exit status 2, nothing written before lost, and the same
command again (``--force`` or ``--resume`` where the line says so) ends as a run that never
failed. What was found: test_deletion_errors.py's docstring; eegprep's ingest is swept there.
"""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch

from eegprep.base.errors import UsageError
from tests.full_disk import snapshot
from tests.io_faults import FOLDER_OPS, failing_calls, nth
from tests.labram.cli_runs import run_labram
from tests.safety.test_deletion_errors import CASES, OPS, TODO
from tests.safety.test_full_disk import losses
from tests.safety.test_io_errors import one_line
from tests.safety.test_io_errors_labram import JOBS, NEW_OUTPUTS, _models, _over_an_earlier_output


@pytest.mark.parametrize("name", ["m.card.md", "m.card.json", "m.safetensors.journal"])
def test_an_export_whose_old_file_cannot_be_deleted_names_it(tmp_path: Path, name: str) -> None:
    """``convert --force`` over an export: an old card it could not delete said "cannot
    rename the export's files into place", its journal "written, but its folder could not
    be flushed to the disk"; each failed at the deletion, of files renamed or about to be."""
    base, args = _over_an_earlier_output("convert over an export", tmp_path)
    clean = tmp_path / "clean"
    shutil.copytree(base, clean)
    assert run_labram(*args(clean))[0] == 0
    doomed = f"unlink {base / name}"
    with failing_calls(lambda n, call: call == doomed, ops=OPS["deletion"], under=base) as calls:
        said = run_labram(*args(base))
    assert doomed in calls, calls
    line = one_line(*said, str(base / "m.safetensors"), name, "Input/output error")
    assert "cannot rename" not in line and "could not be flushed" not in line, line
    assert line.endswith("run the same command again with --force"), line
    assert run_labram(*args(base))[0] == 0
    assert snapshot(base) == snapshot(clean)


@pytest.mark.parametrize("code", [errno.EIO, errno.ENOSPC, errno.EACCES, errno.EROFS],
                         ids=errno.errorcode.get)  # fmt: skip
def test_a_run_folder_the_disk_cannot_make_says_what_to_do(tmp_path: Path, code: int) -> None:
    """An I/O error making the run folder said "make it writable", of a writable place."""
    from labram.train.run import run_lock

    todo = {errno.EIO: "check the disk", errno.ENOSPC: "free some space",
            errno.EACCES: "fix its permissions"}  # fmt: skip
    run = tmp_path / "run"
    with (
        failing_calls(nth(1), code=code, ops=FOLDER_OPS, under=run),
        pytest.raises(UsageError) as info,
        run_lock(run),
    ):
        pass
    line = str(info.value)
    assert line.startswith(f"{run}: cannot write into the run folder ({os.strerror(code)}"), line
    assert todo.get(code, "make it writable") in line, line
    assert not run.exists()


def _rerun_args(line: str) -> list[str]:
    return [flag for flag in ("--force", "--resume") if flag in line]


def _swept(
    args: Callable[[Path], list[Any]],
    base: Path | None,
    tmp_path: Path,
    kind: str,
    code: int,
    same: Callable[[Path, Path], bool],
) -> int:
    """Run ``args`` into a copy of ``base`` (or a new folder) with each call of ``kind``
    failing in turn with ``code``; check each as the module docstring says (``same``: the
    folder ends as the clean run's). Returns how many calls were swept."""  # fmt: skip
    clean = tmp_path / "clean"
    if base is not None:
        shutil.copytree(base, clean)
    with failing_calls(lambda n, call: False, ops=OPS[kind], under=clean) as calls:
        assert run_labram(*args(clean))[0] == 0
    for k in range(1, len(calls) + 1):
        out = tmp_path / f"d{k}"
        if base is not None:
            shutil.copytree(base, out)
        before = snapshot(out) if base is not None else {}
        with failing_calls(nth(k), code=code, ops=OPS[kind], under=out) as seen:
            status, said = run_labram(*args(out))
        failed = seen[k - 1] if len(seen) >= k else "(not reached)"
        if status != 0:
            line = one_line(status, said, str(out), os.strerror(code), TODO[code])
            in_place = ("completes it", "written, but")
            if base is not None and not any(text in line for text in in_place):
                assert snapshot(out) == before, (failed, line)  # (its old files)
            status, said = run_labram(*args(out), *_rerun_args(line))
        assert status == 0, (failed, said)
        assert same(out, clean), failed
        shutil.rmtree(out)
    return len(calls)


def _same_files(out: Path, clean: Path) -> bool:
    return snapshot(out) == snapshot(clean)


LABRAM_CASES = [(kind, code) for _, kind, code in CASES if _ == "prune"]
"""Each kind of call, and each error it may meet (no ``ENOSPC`` for a deletion)."""


@pytest.mark.slow
@pytest.mark.sweep
@pytest.mark.parametrize("job", sorted(JOBS) + sorted(NEW_OUTPUTS))
@pytest.mark.parametrize(("kind", "code"), LABRAM_CASES,
                         ids=[f"{k}-{errno.errorcode[c]}" for k, c in LABRAM_CASES])  # fmt: skip
def test_export_and_convert_sweep_of_a_failed_deletion_or_folder(
    tmp_path: Path, job: str, kind: str, code: int
) -> None:
    if job in JOBS:  # over an earlier output, --force
        base, args = _over_an_earlier_output(job, tmp_path)
        _swept(args, base, tmp_path, kind, code, _same_files)
    else:  # a new output, in a folder it makes
        src = _models(tmp_path)[0]
        _swept(lambda out: NEW_OUTPUTS[job](out / "new", src), None, tmp_path, kind, code,
               _same_files)  # fmt: skip


@pytest.fixture(scope="module")
def small_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """A small pre-training store, and a tiny classifier's checkpoint."""
    from labram.checkpoints.layouts import save_ours
    from labram.model.classifier import LaBraMClassifier
    from labram.model.config import model_config
    from tests.labram.training_stores import write_pretrain_store

    root = tmp_path_factory.mktemp("deletion-labram")
    torch.manual_seed(0)
    save_ours(LaBraMClassifier(model_config("tiny"), 2), root / "m.pt")
    return write_pretrain_store(root / "a.zarr", n_subjects=3, seconds=40), root / "m.pt"


def _same_losses(out: Path, clean: Path) -> bool:
    return losses(out / "log.csv") == losses(clean / "log.csv")


@pytest.mark.slow
@pytest.mark.sweep
@pytest.mark.parametrize("command", ["embed", "tokenizer"])
@pytest.mark.parametrize(("kind", "code"), LABRAM_CASES,
                         ids=[f"{k}-{errno.errorcode[c]}" for k, c in LABRAM_CASES])  # fmt: skip
def test_embed_and_training_sweep_of_a_failed_deletion_or_folder(
    small_store: tuple[str, Path], tmp_path: Path, command: str, kind: str, code: int
) -> None:
    store, model = small_store
    if command == "embed":

        def args(out: Path) -> list[Any]:
            return ["embed", "--store", store, "--checkpoint", model, "--device", "cpu",
                    "--out", out / "e.zarr"]  # fmt: skip

        swept = _swept(args, None, tmp_path, kind, code, _same_files)
    else:

        def args(out: Path) -> list[Any]:
            return ["tokenizer", "--store", store, "--size", "tiny", "--max-steps", 2,
                    "--device", "cpu", "--deterministic", "--out", out]  # fmt: skip

        swept = _swept(args, None, tmp_path, kind, code, _same_losses)
    assert swept or (command, kind) == ("tokenizer", "deletion")  # (a run deletes nothing)
