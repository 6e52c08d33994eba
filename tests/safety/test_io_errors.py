"""An I/O error (``EIO``: a bad sector, a device gone) at a write's flush, and a file size
limit (``EFBIG``: ``ulimit -f``, a FAT disk's 4 GiB), for every command that writes.

The full disk and the read-only place are in test_full_disk.py. Here, found by failing the
N-th ``os.fsync`` of each command with ``EIO`` (tests/io_faults.py) and by running an ingest under
``RLIMIT_FSIZE`` (``SIGXFSZ`` ignored, so that a write past the limit fails with ``EFBIG``):

- every labram command ended in "internal error (a bug)", status 1, at any ``EIO``;
- a flush that failed after its file's rename said the file was not written: an ingest whose
  index segment was in place removed the recordings it listed (``validate``: "recording group
  ... missing"), a checkpoint save replaced ``previous.pt`` before its own flush failed, and
  ``convert --force`` over an export discarded the temporaries its journal named (the next
  command then deleted the export's cards and kept the old weights);
- an ingest under a file size limit skipped each recording as "File too large", naming the
  source file, not the store's file that hit the limit.

A recording group's flush that fails: tests/eegprep/test_commit_durability.py and
tests/eegprep/test_disk_sync.py.
"""

from __future__ import annotations

import errno
import os
import resource
import signal
import stat
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest
import torch
from click.testing import CliRunner, Result

from cli import eegprep_cli
from tests.full_disk import snapshot, temporaries
from tests.io_faults import failing_calls, nth
from tests.labram.cli_runs import run_labram
from tests.safety.test_reader_fuzz import _time_limit

ROOT = Path(__file__).resolve().parents[2]


def run_eegprep(*args: object) -> Result:
    return CliRunner().invoke(eegprep_cli, [str(a) for a in args])


def one_line(code: int, output: str, *says: str) -> str:
    """Exit 2 and the output's only ``error:`` line, its last, holding each of ``says``; no
    traceback, no "internal error"."""
    lines = output.strip().splitlines()
    assert code == 2, output
    assert [x for x in lines if x.startswith("error:")] == lines[-1:], output
    assert "internal error" not in output and "Traceback" not in output, output
    for text in says:
        assert text in lines[-1], output
    return lines[-1]


FSYNC = ("fsync",)
"""The calls these tests fail (:func:`tests.io_faults.failing_calls`): the flushes."""


def store_bytes(store: Path) -> dict[str, bytes]:
    """A store's objects but its reports and seen-files cache (times and paths of the run)."""
    return {
        k: v
        for k, v in snapshot(store).items()
        if not k.startswith("_eegprep/reports/") and k != "_eegprep/seen.json"
    }


def ingest(src: Path, out: Path) -> Result:
    return run_eegprep("ingest", "tuh", "--src", src, "--out", out, "--workers", "0")


# --- an ingest ------------------------------------------------------------------------------


def test_an_index_segment_in_place_whose_folder_flush_fails_keeps_its_recordings(
    tuh_corpus: Path, tmp_path: Path
) -> None:
    """The segment was renamed in, its folder's flush failed: the commit removed the groups
    it lists, and ``validate`` found the index naming groups that were gone."""
    clean, out = tmp_path / "clean.zarr", tmp_path / "s.zarr"
    assert ingest(tuh_corpus, clean).exit_code == 0
    index = str(out / "_eegprep" / "index")
    with failing_calls(lambda n, call: call == f"fsync {index}", ops=FSYNC):
        res = ingest(tuh_corpus, out)
    one_line(res.exit_code, res.output, str(out), "Input/output error", "check the disk")
    check = run_eegprep("validate", out)
    assert check.exit_code == 0, check.output
    assert not temporaries(out)
    assert ingest(tuh_corpus, out).exit_code == 0
    assert store_bytes(out) == store_bytes(clean)


def _ingest_stopped_then_finished(src: Path, out: Path, clean: Path, res: Result) -> None:
    """What an ingest that met an I/O error must leave: one line (or recordings skipped, each
    named; or only the seen-files cache not saved, a warning), a store that validates, no
    temporary file; the run again ends with the clean store's bytes."""
    said = res.output
    assert "Traceback" not in said and "internal error" not in said, said
    assert res.exit_code in (0, 2, 3), said
    if res.exit_code == 2:
        one_line(2, said, str(out))
    if (out / "zarr.json").exists():
        check = run_eegprep("validate", out)
        assert check.exit_code == 0, check.output
    assert not temporaries(out)
    again = ingest(src, out)
    assert again.exit_code == 0, again.output
    assert store_bytes(out) == store_bytes(clean)


@pytest.mark.slow
@pytest.mark.sweep
@pytest.mark.parametrize("update", [False, True])
def test_ingest_sweep_of_an_io_error_at_every_flush(
    tuh_corpus: Path, tmp_path: Path, update: bool
) -> None:
    """Each ``fsync`` of an ingest in turn fails (into a new store, or adding a recording to
    an existing one): see :func:`_ingest_stopped_then_finished`; an existing store's
    recordings are never changed."""
    import shutil

    from tests.conftest import write_tuh_edf

    base = tmp_path / "base.zarr"
    if update:
        assert ingest(tuh_corpus, base).exit_code == 0
        new = "edf/000/aaaaaaad/s001_2016/01_tcp_ar/aaaaaaad_s001_t000.edf"
        write_tuh_edf(tuh_corpus / new, sfreq=250, seconds=20, seed=7)
    clean = tmp_path / "clean.zarr"
    if update:
        shutil.copytree(base, clean)
    with failing_calls(lambda n, call: False, ops=FSYNC) as calls:
        assert ingest(tuh_corpus, clean).exit_code == 0
    n_calls = len(calls)
    assert n_calls > 10
    for k in range(1, n_calls + 1):
        out = tmp_path / f"s{k}.zarr"
        if update:
            shutil.copytree(base, out)
        before = {n: b for n, b in snapshot(out).items() if n.startswith("recordings/")}
        with failing_calls(nth(k), ops=FSYNC) as seen:
            res = ingest(tuh_corpus, out)
        after = snapshot(out)
        assert all(after.get(n) == b for n, b in before.items()), f"fsync {k}: {seen}"
        _ingest_stopped_then_finished(tuh_corpus, out, clean, res)
        shutil.rmtree(out)


def _limited(limit: int) -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))


def _limited_run(limit: int, *args: object) -> subprocess.CompletedProcess[str]:
    """``eegprep ARGS...`` in a process whose files may not grow past ``limit`` bytes."""
    code = "from eegprep._console import eegprep_main; eegprep_main()"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", code, *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        preexec_fn=lambda: _limited(limit),
        timeout=120,
    )


def _ingest_limited(src: Path, out: Path, limit: int) -> subprocess.CompletedProcess[str]:
    return _limited_run(limit, "ingest", "tuh", "--src", src, "--out", out, "--workers", "0")


def test_an_ingest_under_a_file_size_limit_names_the_store_and_what_to_do(
    tuh_corpus: Path, tmp_path: Path
) -> None:
    """A limit below the samples' files: each recording was skipped as "File too large", as
    if the source were; a limit below the store's own first files was a line with nothing to
    do, and named no file at the lock's write. Each limit: a store that validates, and the
    run again without it ends as a clean one."""
    clean = tmp_path / "clean.zarr"
    assert ingest(tuh_corpus, clean).exit_code == 0
    chunks = sorted(p.stat().st_size for p in clean.rglob("c.*") if p.is_file())
    for limit in (1, 200, chunks[0] // 2, chunks[-1] - 1):
        out = tmp_path / f"s{limit}.zarr"
        res = _ingest_limited(tuh_corpus, out, limit)
        said = res.stdout + res.stderr
        assert "Traceback" not in said and "internal error" not in said, said
        if res.returncode == 2:  # the file named: the lock's write named none
            line = one_line(2, res.stderr, str(out), "File too large", "raise the file size limit")
            # the store's file, named once: relative to the store in the words of what was
            # being done (it was named twice, the same file whole again in parentheses)
            assert f"({out}{os.sep}" in line or " while writing " in line, line
            assert line.count(str(out)) == 1, line
        else:
            assert res.returncode == 3, said
            skipped = [x for x in said.splitlines() if x.startswith("skipped:")]
            assert skipped and all(
                f"cannot write its samples into the store ({out})" in x
                and "raise the file size limit" in x
                for x in skipped
            ), said
        if (out / "zarr.json").exists():
            assert run_eegprep("validate", out).exit_code == 0
        assert ingest(tuh_corpus, out).exit_code == 0
        assert store_bytes(out) == store_bytes(clean)


def test_a_demo_under_a_file_size_limit_names_the_file_and_what_to_do(tmp_path: Path) -> None:
    """It said "pick a folder you can write" of a folder it could write, naming no file."""
    clean = tmp_path / "clean"
    assert run_eegprep("demo", "--out", clean).exit_code == 0
    sizes = sorted(p.stat().st_size for p in clean.rglob("*") if p.is_file())
    for limit in (1, sizes[-1] // 2):
        out = tmp_path / f"d{limit}"
        res = _limited_run(limit, "demo", "--out", out)
        line = one_line(res.returncode, res.stderr, f"--out {out}", "File too large at ")
        assert line.endswith("raise the file size limit or pick another place and run the "
                             "same command again"), line  # fmt: skip
        assert not temporaries(out)
        assert run_eegprep("demo", "--out", out).exit_code == 0
        assert snapshot(out) == snapshot(clean)


# --- labram ---------------------------------------------------------------------------------


def test_a_checkpoint_whose_flush_fails_keeps_previous_pt(tmp_path: Path) -> None:
    """``previous.pt`` became a copy of ``last.pt`` before the new one's flush, which then
    failed: the one before was lost, for a save that never happened."""
    from labram.checkpoints.safe_read import read_checkpoint
    from labram.train.checkpoint import atomic_save

    last = tmp_path / "last.pt"
    atomic_save({"model": {"w": torch.ones(3)}, "step": 1}, last)
    atomic_save({"model": {"w": torch.ones(3)}, "step": 2}, last)
    before = snapshot(tmp_path)
    with (
        failing_calls(lambda n, call: ".tmp-" in call, ops=FSYNC),
        pytest.raises(OSError) as info,
    ):
        atomic_save({"model": {"w": torch.ones(3)}, "step": 3}, last)
    assert info.value.errno == errno.EIO and info.value.filename == str(last)
    assert snapshot(tmp_path) == before
    assert int(read_checkpoint(tmp_path / "previous.pt")["step"]) == 1


def _tokenizer(store: str, out: Path, *more: object) -> tuple[int, str]:
    return run_labram("tokenizer", "--store", store, "--size", "tiny", "--out", out,
                      "--max-steps", 2, "--device", "cpu", "--deterministic", *more)  # fmt: skip


def _losses(log: Path) -> list[list[str]]:
    rows = [line.split(",") for line in log.read_text().splitlines()]
    drop = {rows[0].index("tokens_per_s"), rows[0].index("row_crc32")}
    return [[cell for k, cell in enumerate(row) if k not in drop] for row in rows]


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    from tests.labram.training_stores import write_pretrain_store

    root = tmp_path_factory.mktemp("io-error-run")
    store = write_pretrain_store(root / "a.zarr", n_subjects=3, seconds=40)
    code, out = _tokenizer(store, root / "run")
    assert code == 0, out
    return store, root / "run"


# Each file once and each flush twice in the default run (every file is written through
# replaced_atomically: its flush, then its folder's); the other four runs (3-4 s each on 2 cores)
# are slow.
SLOW_RUN_FILES = {
    ("its flush", "log.csv"),
    ("its flush", "curves.png"),
    ("its folder's flush", "config.json"),
    ("its folder's flush", "last.pt"),
}
RUN_FILES = [
    pytest.param(
        when,
        name,
        id=f"{when}-{name}",
        marks=[pytest.mark.slow] if (when, name) in SLOW_RUN_FILES else [],
    )
    for when in ("its flush", "its folder's flush")
    for name in ("config.json", "log.csv", "last.pt", "curves.png")
]


@pytest.mark.parametrize(("when", "name"), RUN_FILES)
def test_an_io_error_in_a_training_run_is_one_line_and_it_resumes(
    clean_run: tuple[str, Path], tmp_path: Path, name: str, when: str
) -> None:
    """It was "internal error (a bug)", status 1. The line names the file, says whether the
    new file is in place and to pass ``--resume`` (it said "run the same command again", which
    is refused once the folder holds a run); ``--resume`` ends as the run that never failed."""
    store, clean = clean_run
    run = tmp_path / "run"
    wanted = str(run / name) + ".tmp-" if when == "its flush" else str(run)
    hit: list[int] = []
    calls: list[str] = []

    def fails(n: int, call: str) -> bool:
        renamed = calls[-2:-1] == [f"replace {run / name}"]  # (this flush follows its rename)
        flush = call.startswith(f"fsync {wanted}")
        if not hit and flush and (when == "its flush" or renamed):
            hit.append(n)
            return True
        return False

    with failing_calls(fails, ops=(*FSYNC, "replace")) as seen:
        calls = seen
        code, out = _tokenizer(store, run)
    assert hit, out
    line = one_line(code, out, str(run / name), "Input/output error", "check the disk")
    assert ("written, but" in line) == (when == "its folder's flush"), line
    assert line.endswith("run the same command with --resume"), line  # (the same is refused)
    assert not temporaries(run)
    code, out = _tokenizer(store, run, "--resume")
    assert code == 0, out
    assert _losses(run / "log.csv") == _losses(clean / "log.csv")


@pytest.mark.slow
@pytest.mark.sweep
def test_training_run_sweep_of_an_io_error_at_every_flush(
    clean_run: tuple[str, Path], tmp_path: Path
) -> None:
    """Each ``fsync`` of a tokenizer run in turn fails: one line naming a file of the run
    folder, no temporary file, and ``--resume`` ends as the run that never failed."""
    store, clean = clean_run
    with failing_calls(lambda n, call: False, ops=FSYNC) as calls:
        assert _tokenizer(store, tmp_path / "count")[0] == 0
    n_calls = len(calls)
    assert n_calls > 10
    for k in range(1, n_calls + 1):
        run = tmp_path / f"r{k}"
        with failing_calls(nth(k), ops=FSYNC):
            code, out = _tokenizer(store, run)
        one_line(code, out, str(run), "Input/output error", "--resume")
        assert not temporaries(run)
        code, out = _tokenizer(store, run, "--resume")
        assert code == 0, out
        assert _losses(run / "log.csv") == _losses(clean / "log.csv")


def _embedded(store: str, tmp_path: Path) -> tuple[tuple[Any, ...], Path]:
    """``labram embed``'s arguments with a tiny classifier on ``store`` (the output folder to
    add), and the embedding store of a run that never failed."""
    from labram.checkpoints.layouts import save_ours
    from labram.model.classifier import LaBraMClassifier
    from labram.model.config import model_config

    torch.manual_seed(0)
    model = tmp_path / "m.pt"
    save_ours(LaBraMClassifier(model_config("tiny"), 2), model)
    args = ("embed", "--store", store, "--checkpoint", model, "--device", "cpu", "--out")
    clean = tmp_path / "clean.zarr"
    assert run_labram(*args, clean)[0] == 0
    return args, clean


def test_an_embedding_store_that_cannot_be_made_says_what_to_do(
    clean_run: tuple[str, Path], tmp_path: Path
) -> None:
    """An I/O error (or a full disk) making the store said "pick a folder you can write", of
    a folder it could write; the run again ends as one that never failed."""
    args, clean = _embedded(clean_run[0], tmp_path)
    out = tmp_path / "e.zarr"
    with failing_calls(nth(1), ops=FSYNC):
        code, said = run_labram(*args, out)
    line = one_line(code, said, f"--out {out}", "Input/output error", "check the disk")
    assert "pick a folder you can write" not in line
    assert run_labram(*args, out)[0] == 0
    assert snapshot(out) == snapshot(clean)


def test_an_error_whose_cause_loops_is_judged_and_not_looped_over() -> None:
    """``raise e from e`` (a helper that returns the error it was given, named already) makes
    a chain of causes that loops: judging it ran for ever."""
    from eegprep.base.write_errors import LandedError, landed

    exc = OSError(errno.EIO, os.strerror(errno.EIO), "f")
    exc.__cause__ = exc
    with _time_limit(5, "judging the error"):
        assert not landed(exc)
    wrapped = OSError(errno.EIO, os.strerror(errno.EIO), "g")
    wrapped.__cause__ = LandedError(errno.EIO, os.strerror(errno.EIO), "f")
    assert landed(wrapped)


def test_an_io_error_at_an_embedding_chunk_folders_flush_is_one_line(
    clean_run: tuple[str, Path], tmp_path: Path
) -> None:
    """The flush of a chunk's folders before its progress record (``embed_sync``): the
    command hung, judging an error whose cause looped. Now one line, and the run again ends
    as one that never failed."""
    args, clean = _embedded(clean_run[0], tmp_path)
    out = tmp_path / "e.zarr"
    held: dict[str, list[str]] = {"calls": []}
    chunk_folders = [str(out / name / "c") for name in ("embedding", "logits")]

    def fails(n: int, call: str) -> bool:  # the store's folder, flushed after a chunk's
        before = [c.split(" ", 1)[1] for c in held["calls"][-8:-1]]
        flushed = any(c.startswith(tuple(chunk_folders)) for c in before)
        return call == f"fsync {out}" and flushed

    with (
        failing_calls(fails, ops=(*FSYNC, "replace")) as calls,
        _time_limit(60, "labram embed"),
    ):
        held["calls"] = calls
        code, said = run_labram(*args, out)
    one_line(code, said, str(out), "Input/output error", "check the disk")
    assert run_labram(*args, out)[0] == 0
    assert snapshot(out) == snapshot(clean)


def test_convert_over_an_export_whose_journal_flush_fails_is_completed_next(
    tmp_path: Path,
) -> None:
    """The journal of ``convert --force`` was in place when its folder's flush failed: the
    temporaries it names were discarded, and the next command deleted the export's cards
    and kept the old weights. Now they stay, and the next command completes the convert."""
    from eegprep.base.errors import OutputError
    from labram.checkpoints import export_journal
    from labram.checkpoints.layouts import convert_file, load_ours, save_official, save_ours
    from labram.checkpoints.safe_read import read_checkpoint
    from labram.model.classifier import LaBraMClassifier
    from labram.model.config import model_config
    from labram.stages.export import export

    tmp = Path(os.path.realpath(tmp_path))
    torch.manual_seed(0)
    save_ours(LaBraMClassifier(model_config("tiny"), 1), tmp / "a.pt")
    out = tmp / "out" / "m.safetensors"
    export(tmp / "a.pt", out)
    released = tmp / "released.pt"
    save_official(load_ours(tmp / "a.pt"), released)
    journal = export_journal.journal_path(out)
    with (
        failing_calls(
            lambda n, call: call == f"fsync {out.parent}" and journal.exists(), ops=FSYNC
        ),
        pytest.raises(OutputError, match="the next command that reads or writes the export"),
    ):
        convert_file(released, out, force=True)
    finals = [p.name for p in (out, *export_journal.card_paths(out))]
    assert export_journal.finish(out, finals) == "completed"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert "export_id" not in read_checkpoint(out)  # convert's file, whole
    assert not any(p.exists() for p in export_journal.card_paths(out))
    assert not temporaries(out.parent)


def test_a_page_in_place_whose_folder_flush_fails_says_it_is_written(tmp_path: Path) -> None:
    """A plot or page renamed in, its folder's flush failed: the line said "what it held
    before is unchanged", of a file that held the new bytes."""
    from eegprep.base.errors import OutputError
    from eegprep.base.files import write_output

    page = tmp_path / "p.html"
    write_output(page, b"<!doctype html>old")
    with (
        failing_calls(lambda n, call: call == f"fsync {tmp_path}", ops=FSYNC),
        pytest.raises(OutputError) as info,
    ):
        write_output(page, b"<!doctype html>new")
    assert page.read_bytes() == b"<!doctype html>new"
    assert "unchanged" not in str(info.value) and "written, but" in str(info.value)
    assert stat.S_ISREG(os.lstat(page).st_mode) and not temporaries(tmp_path)


# --- a file named once ----------------------------------------------------------------------


def _failing_open(monkeypatch: pytest.MonkeyPatch, ending: str) -> None:
    """``os.open`` of a path ending in ``ending`` fails with ``EIO``, naming it (as Linux's
    does: a bad sector under the file)."""
    real = os.open

    def failing(path: Any, *args: Any, **kwargs: Any) -> int:
        if os.fsdecode(path).endswith(ending):
            raise OSError(errno.EIO, os.strerror(errno.EIO), os.fsdecode(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", failing)


def test_a_source_file_the_disk_fails_to_read_is_named_once(
    tuh_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``skipped: edf/.../x.edf: Input/output error (/corpus/edf/.../x.edf); ...``: the file
    named twice, relative to the corpus and then whole. The other recordings go on."""
    name = "aaaaaaab_s002_t001.edf"
    _failing_open(monkeypatch, name)
    res = ingest(tuh_corpus, tmp_path / "s.zarr")
    skipped = [x for x in res.output.splitlines() if x.startswith("skipped:")]
    assert res.exit_code == 3 and len(skipped) == 1, res.output
    assert skipped[0].count(name) == 1 and "Input/output error" in skipped[0], skipped
    assert "check the disk" in skipped[0] and "2 ingested" in res.output, res.output


def test_a_store_file_the_disk_fails_to_read_is_named_once_by_validate(
    tuh_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``problem: tuh/x: cannot be checked: OSError: [Errno 5] Input/output error while
    reading recordings/tuh/x/zarr.json: '/store/recordings/tuh/x/zarr.json'``: the errno, and
    the file twice; the index's segment the same in ``stats``."""
    out = tmp_path / "s.zarr"
    assert ingest(tuh_corpus, out).exit_code == 0
    group = next(p for p in (out / "recordings" / "tuh").iterdir() if p.is_dir())
    rel = f"recordings/tuh/{group.name}/zarr.json"
    _failing_open(monkeypatch, rel)
    res = run_eegprep("validate", out)
    problems = [x for x in res.output.splitlines() if x.startswith("problem:")]
    assert res.exit_code == 1 and len(problems) == 1, res.output
    assert problems[0].count(group.name) == 2, problems  # (its id, and the file once)
    assert f"Input/output error while reading {rel}" in problems[0], problems
    assert "[Errno" not in problems[0] and str(out) not in problems[0], problems
    monkeypatch.undo()
    _failing_open(monkeypatch, "0000000001.jsonl")
    res = run_eegprep("stats", out)
    line = one_line(res.exit_code, res.output, "the index cannot be read (Input/output error)")
    assert line.count("0000000001.jsonl") == 1, line
