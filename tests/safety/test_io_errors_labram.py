"""Each write-side call (``write``, ``fsync``, ``replace``, ``link``) of ``labram pretrain``,
``finetune``, ``export`` and ``convert`` failing in turn (``EIO``, ``ENOSPC``;
tests/io_faults.py): one ``error:`` line naming the file and what to do, exit status 2, no
temporary file; a training run then ends with ``--resume`` as the run that never failed; an
export or convert over another leaves it byte for byte, or (once its journal is in place) says
that the next command completes it, and the same command again gives the clean files.

Found so far: a failed append to a run's ``log.csv`` was "error: cannot use it (Input/output
error)", naming no file; an export whose journal was in place said nothing of the disk, and
one whose files were all renamed in when only the folder's flush failed said "cannot rename
the export's files into place". The tokenizer and the lowest writes: test_io_errors.py; the
checkpoint rotation: test_checkpoint_rotation.py.
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

from tests.full_disk import snapshot, temporaries
from tests.io_faults import failing_calls, nth, sweep_points
from tests.labram.cli_runs import fixed_windows, run_labram
from tests.safety.test_full_disk import losses
from tests.safety.test_io_errors import one_line

TINY = ["--size", "tiny", "--max-steps", "2", "--batch-size", "4", "--device", "cpu",
        "--set", "token_budget=40", "--set", "max_channels=8", "--deterministic",
        "--ckpt-every", "1"]  # fmt: skip
"""Two steps, a checkpoint after each (so that the second rotates the first into
``previous.pt``): seconds per run."""

CODES = {"EIO": (errno.EIO, "check the disk"), "ENOSPC": (errno.ENOSPC, "free some space")}


@pytest.fixture(scope="module")
def pretrain_args(tmp_path_factory: pytest.TempPathFactory) -> list[Any]:
    """``labram pretrain`` on a small store with a tokenizer of 2 steps (``--out`` to add)."""
    from tests.labram.training_stores import write_pretrain_store

    root = tmp_path_factory.mktemp("pretrain-io")
    store = write_pretrain_store(root / "a.zarr", n_subjects=3, seconds=40)
    code, out = run_labram("tokenizer", "--store", store, *TINY, "--out", root / "tok")
    assert code == 0, out
    return ["pretrain", "--store", store, "--tokenizer", root / "tok" / "tokenizer.pt", *TINY]


@pytest.fixture(scope="module")
def finetune_args(tmp_path_factory: pytest.TempPathFactory) -> list[Any]:
    """``labram finetune`` on a small TUAB-like store (``--out`` to add)."""
    from tests.labram.training_stores import write_tuab_like

    root = tmp_path_factory.mktemp("finetune-io")
    tuab = write_tuab_like(root / "tuab.zarr", n_train=6, n_eval=2, seconds=20)
    return ["finetune", "--store", tuab, "--task", "tuab", *fixed_windows(TINY)]


def _clean(args: list[Any], out: Path) -> list[str]:
    """Run ``args`` into ``out`` with no call failing: the calls it made."""
    with failing_calls(lambda n, call: False, under=out) as calls:
        code, said = run_labram(*args, "--out", out)
    assert code == 0, said
    return list(calls)


def _failed_then_resumed(args: list[Any], run: Path, clean: Path, fails: Any, code: str) -> str:
    """Run ``args`` into ``run`` with the calls ``fails`` picks failing with ``code``: one line
    naming a file of the run, saying what to do and ``--resume``; no temporary file; and
    ``--resume`` then ends with the clean run's losses. Returns the line."""
    errno_, todo = CODES[code]
    with failing_calls(fails, code=errno_, under=run) as calls:
        status, said = run_labram(*args, "--out", run)
    line = one_line(status, said, str(run), os.strerror(errno_), todo, "--resume")
    assert not temporaries(run), (calls[-1:], said)
    status, said = run_labram(*args, "--out", run, "--resume")
    assert status == 0, said
    for log in sorted(clean.rglob("log.csv")):
        assert losses(run / log.relative_to(clean)) == losses(log), (line, log)
    return line


def test_a_failed_append_to_the_log_names_it_and_leaves_no_part_of_a_row(
    pretrain_args: list[Any], tmp_path: Path
) -> None:
    """The append of a row to ``log.csv`` failed as "error: cannot use it (Input/output
    error)", naming no file."""
    clean, run = tmp_path / "clean", tmp_path / "run"
    calls = _clean(pretrain_args, clean)
    log = run / "mem" / "log.csv"
    k = [c.replace(str(clean), str(run)) for c in calls].index(f"write {log}") + 1
    held: list[bytes] = []

    def fails(n: int, call: str) -> bool:
        if n == k:
            held.append(log.read_bytes())
        return n == k

    with failing_calls(fails, under=run) as seen:
        status, said = run_labram(*pretrain_args, "--out", run)
    line = one_line(status, said, "Input/output error", "check the disk", "--resume")
    assert line.startswith(f"error: {log}: "), (line, seen[-1:])
    assert log.read_bytes() == held[0]  # no part of the row
    assert not temporaries(run)
    status, said = run_labram(*pretrain_args, "--out", run, "--resume")
    assert status == 0, said
    assert losses(log) == losses(clean / "mem" / "log.csv")


@pytest.mark.parametrize("code", sorted(CODES))
def test_a_failed_rename_of_the_second_checkpoint_keeps_both_and_resumes(
    pretrain_args: list[Any], tmp_path: Path, code: str
) -> None:
    """The second ``last.pt``'s rename fails: ``previous.pt`` had already become a copy of the
    first ``last.pt`` (and, with a checkpoint before, lost it); now both stay as they were and
    ``--resume`` continues from ``last.pt``."""
    clean = tmp_path / "clean"
    _clean(pretrain_args, clean)
    run = tmp_path / "run"
    last = f"replace {run / 'mem' / 'last.pt'}"
    seen: list[dict[str, bytes]] = []

    def fails(n: int, call: str) -> bool:
        if call != last:
            return False
        seen.append({k: v for k, v in snapshot(run / "mem").items() if k.endswith(".pt")})
        return len(seen) == 2

    errno_, _ = CODES[code]
    with failing_calls(fails, code=errno_):
        status, said = run_labram(*pretrain_args, "--out", run)
    one_line(status, said, str(run / "mem" / "last.pt"), "--resume")
    assert len(seen) == 2, said
    after = {k: v for k, v in snapshot(run / "mem").items() if k.endswith(".pt")}
    assert after == {"last.pt": seen[1]["last.pt"]}  # (before: previous.pt, a copy of it)
    status, said = run_labram(*pretrain_args, "--out", run, "--resume")
    assert status == 0, said
    assert losses(run / "mem" / "log.csv") == losses(clean / "mem" / "log.csv")


@pytest.mark.slow
@pytest.mark.sweep
@pytest.mark.parametrize("command", ["pretrain", "finetune"])
@pytest.mark.parametrize("code", sorted(CODES))
def test_training_sweep_of_a_failure_at_every_write(
    request: pytest.FixtureRequest, tmp_path: Path, command: str, code: str
) -> None:
    args = request.getfixturevalue(f"{command}_args")
    clean = tmp_path / "clean"
    calls = _clean(args, clean)
    points = sweep_points(calls)
    assert len(points) > 30, calls
    for k in points:
        run = tmp_path / f"r{k}"
        _failed_then_resumed(args, run, clean, nth(k), code)
        shutil.rmtree(run)


# --- export and convert, over an earlier output -----------------------------------------------


def _models(tmp_path: Path) -> tuple[Path, Path, Path]:
    """Two tiny classifiers (ours) and the second in the released layout."""
    from labram.checkpoints.layouts import load_ours, save_official, save_ours
    from labram.model.classifier import LaBraMClassifier
    from labram.model.config import model_config

    paths = []
    for seed in (0, 1):
        torch.manual_seed(seed)
        paths.append(tmp_path / f"m{seed}.pt")
        save_ours(LaBraMClassifier(model_config("tiny"), 2), paths[-1])
    save_official(load_ours(paths[1]), tmp_path / "released.pth")
    return paths[0], paths[1], tmp_path / "released.pth"


JOBS: dict[str, Callable[[Path, Path, Path, Path], list[Any]]] = {
    "export": lambda out, a, b, rel: ["export", b, "--out", out / "m.safetensors"],
    "convert": lambda out, a, b, rel: ["convert", b, out / "m.pth"],
    "convert over an export": lambda out, a, b, rel: ["convert", rel, out / "m.safetensors"],
}
"""Each job, writing into ``out`` over what :data:`FIRST` wrote there (``--force`` added)."""

FIRST = {"export": "export", "convert": "convert", "convert over an export": "export"}


def _over_an_earlier_output(job: str, tmp_path: Path) -> tuple[Path, Callable[[Path], list[Any]]]:
    """A folder holding the first output of ``job``'s kind, and ``job``'s arguments for a
    folder (``--force``: it replaces that output)."""
    a, b, rel = _models(tmp_path)
    base = tmp_path / "base"
    base.mkdir()
    first = JOBS[FIRST[job]](base, a, a, rel)
    assert run_labram(*first)[0] == 0
    return base, lambda out: [*JOBS[job](out, a, b, rel), "--force"]


def _check_replace_failed(
    folder: Path, before: dict[str, bytes], clean: dict[str, bytes], said: tuple[int, str]
) -> None:
    """One line naming the file and what to do, and no temporary file; the earlier output
    byte for byte, or the new one whole where the line says it is written (only the folder's
    flush failed), or, the journal in place, a line saying the next command completes it."""
    line = one_line(*said, str(folder))
    assert "check the disk" in line or "free some space" in line, line
    after = snapshot(folder)
    if "completes it" in line:  # each final name: its old file or its new one, whole
        finals = {n: b for n, b in after.items() if not n.endswith(".journal") and ".tmp-" not in n}
        assert all(b in (before.get(n), clean.get(n)) for n, b in finals.items()), line
        return
    assert not temporaries(folder), line
    assert after == (clean if "written, but" in line else before), line


@pytest.mark.parametrize("job", ["export", "convert over an export"])  # (a .pth: no journal)
@pytest.mark.parametrize("fails", ["the journal's folder flush", "the last folder flush"])
def test_an_export_failing_after_its_journal_says_what_to_do(
    tmp_path: Path, job: str, fails: str
) -> None:
    """Once the journal was in place, the line said "the next command ... completes it" and
    nothing of the disk; and after every rename, when only the folder's last flush failed,
    "cannot rename the export's files into place", of files in place."""
    base, args = _over_an_earlier_output(job, tmp_path)
    clean = tmp_path / "clean"
    shutil.copytree(base, clean)
    with failing_calls(lambda n, call: False, under=clean) as calls:
        assert run_labram(*args(clean))[0] == 0
    flushes = [k for k, c in enumerate(calls, 1) if c == f"fsync {clean}"]
    k = flushes[0] if fails == "the journal's folder flush" else flushes[-1]
    with failing_calls(nth(k), under=base):
        said = run_labram(*args(base))
    line = one_line(*said, str(base / "m.safetensors"), "check the disk", "completes it")
    assert ("written, but" in line) == (fails == "the last folder flush"), line
    assert "cannot rename" not in line or fails != "the last folder flush", line
    assert run_labram(*args(base))[0] == 0
    assert snapshot(base) == snapshot(clean)


@pytest.mark.slow
@pytest.mark.sweep
@pytest.mark.parametrize("job", sorted(JOBS))
@pytest.mark.parametrize("code", sorted(CODES))
def test_replace_sweep_of_a_failure_at_every_write(tmp_path: Path, job: str, code: str) -> None:
    base, args = _over_an_earlier_output(job, tmp_path)
    clean = tmp_path / "clean"
    shutil.copytree(base, clean)
    with failing_calls(lambda n, call: False, under=clean) as calls:
        assert run_labram(*args(clean))[0] == 0
    for k in sweep_points(calls):
        folder = tmp_path / f"d{k}"
        shutil.copytree(base, folder)
        before = snapshot(folder)
        with failing_calls(nth(k), code=CODES[code][0], under=folder) as seen:
            said = run_labram(*args(folder))
        assert len(seen) >= k, (k, calls[k - 1])  # (the call failed)
        _check_replace_failed(folder, before, snapshot(clean), said)
        assert run_labram(*args(folder))[0] == 0
        assert snapshot(folder) == snapshot(clean), k
        shutil.rmtree(folder)


NEW_OUTPUTS: dict[str, Callable[[Path, Path], list[Any]]] = {
    "convert to a .pth": lambda out, src: ["convert", src, out / "m.pth"],
    "convert to a .safetensors": lambda out, src: ["convert", src, out / "m.safetensors"],
    "export": lambda out, src: ["export", src, "--out", out / "m.safetensors"],
}


@pytest.mark.parametrize("job", sorted(NEW_OUTPUTS))
def test_a_failed_write_of_a_new_output_in_place_says_to_pass_force(
    tmp_path: Path, job: str
) -> None:
    """A new output whose file is in place (only the folder's flush failed), or whose journal
    the next command completes: the line said "run the same command again", which was then
    refused ("DST ... exists: pass --force")."""
    src = _models(tmp_path)[0]
    clean, out = tmp_path / "clean", tmp_path / "out"
    with failing_calls(lambda n, call: False, under=clean) as calls:
        assert run_labram(*NEW_OUTPUTS[job](clean, src))[0] == 0
    k = [k for k, c in enumerate(calls, 1) if c == f"fsync {clean}"][-1]
    with failing_calls(nth(k), under=out):
        said = run_labram(*NEW_OUTPUTS[job](out, src))
    line = one_line(*said, str(out / "m."), "check the disk")
    assert line.endswith("run the same command again with --force"), line
    assert run_labram(*NEW_OUTPUTS[job](out, src), "--force")[0] == 0
    assert snapshot(out) == snapshot(clean)
