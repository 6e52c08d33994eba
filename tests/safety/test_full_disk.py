"""A full disk and a read-only place, for every command that writes (tests/full_disk.py: a real
tmpfs as root, else an emulation).

Each run that cannot write must end with ONE line naming the file (or the store) and the
problem, exit status 2, no traceback; leave no temporary file; leave what was there before
byte for byte (a store that validates, a checkpoint that loads); and a re-run after space is
freed must end as a run that never failed. Found on a real tmpfs: labram's run files and
checkpoints were "internal error" (an ``OSError`` naming nothing, or torch's zip writer's
``RuntimeError: unexpected pos``); an ingest whose disk filled went on reading every later
file to skip it with the same line; a full disk at a commit's index segment left recordings
moved into place and unlisted, which ``validate`` called damage.
"""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
import torch
from click.testing import CliRunner, Result

from cli import eegprep_cli
from eegprep.base.files import write_atomically
from tests.full_disk import Disk, sizes, small_disk, snapshot, temporaries, used_by
from tests.labram.cli_runs import run_labram

MIB = 1 << 20


def run_eegprep(*args: object) -> Result:
    return CliRunner().invoke(eegprep_cli, [str(a) for a in args])


def one_line(code: int, output: str, *says: str) -> str:
    """Exit 2, one ``error:`` line and nothing else (no traceback), holding each of ``says``."""
    lines = output.strip().splitlines()
    assert code == 2, output
    assert len(lines) == 1 and lines[0].startswith("error: "), output
    assert "internal error" not in output and "Traceback" not in output
    for text in says:
        assert text in lines[0], output
    return lines[0]


def ends_in_one_error(code: int, output: str, *says: str) -> str:
    """Exit 2, and the output ends with its only ``error:`` line (a command may have printed
    its results before the write that failed: ``stats`` its table before its plots, a training
    run its summary before ``command.txt``); no traceback."""
    lines = output.strip().splitlines()
    assert code == 2, output
    assert [x for x in lines if x.startswith("error:")] == lines[-1:], output
    return one_line(code, lines[-1], *says)


def store_bytes(store: Path) -> dict[str, bytes]:
    """A store's objects but its reports and seen-files cache (times and paths of the run)."""
    return {
        k: v
        for k, v in snapshot(store).items()
        if not k.startswith("_eegprep/reports/") and k != "_eegprep/seen.json"
    }


# --- the lowest write layer --------------------------------------------------------------


def test_a_whole_file_write_on_a_full_disk_names_the_file(tmp_path: Path) -> None:
    """The error of a whole-file write names the file written (not its temporary name, nor
    nothing: the kernel's ENOSPC names no file), and the old bytes stay."""
    with small_disk(tmp_path, 64 * 1024) as disk:
        target = disk.path / "results.json"
        write_atomically(target, b"old")
        with pytest.raises(OSError) as info:
            write_atomically(target, b"x" * MIB)
        assert info.value.errno == errno.ENOSPC and info.value.filename == str(target)
        assert target.read_bytes() == b"old" and not temporaries(disk.path)
        disk.set_read_only()
        with pytest.raises(OSError) as info:
            write_atomically(target, b"new")
        assert info.value.errno == errno.EROFS and info.value.filename == str(target)
        assert target.read_bytes() == b"old"


def test_a_checkpoint_on_a_full_disk_is_the_os_error_and_the_old_one_stays(
    tmp_path: Path,
) -> None:
    """torch.save's zip writer reports a full disk as ``RuntimeError: unexpected pos``: the
    checkpoint writer raises the write's own ``OSError``, naming ``last.pt``."""
    from labram.checkpoints.safe_read import read_checkpoint
    from labram.train.checkpoint import atomic_save

    with small_disk(tmp_path, 256 * 1024) as disk:
        last = disk.path / "last.pt"
        atomic_save({"model": {"w": torch.ones(100)}, "step": 1}, last, keep_previous=False)
        before = last.read_bytes()
        with pytest.raises(OSError) as info:
            atomic_save({"model": {"w": torch.ones(200_000)}, "step": 2}, last)
        assert info.value.errno == errno.ENOSPC and info.value.filename == str(last)
        assert last.read_bytes() == before and not temporaries(disk.path)
        assert int(read_checkpoint(last)["step"]) == 1


# --- eegprep ingest ------------------------------------------------------------------------


def ingest(src: Path, out: Path, *more: str) -> Result:
    return run_eegprep("ingest", "tuh", "--src", src, "--out", out, "--workers", "0", *more)


@pytest.fixture
def clean_store(tuh_corpus: Path, tmp_path: Path) -> tuple[Path, int]:
    """A store of ``tuh_corpus`` ingested where space never ran out, and its size on a tmpfs."""
    out = tmp_path / "clean.zarr"
    assert ingest(tuh_corpus, out).exit_code == 0
    need = sum(-(-p.stat().st_size // 4096) * 4096 for p in out.rglob("*") if p.is_file())
    return out, need


def check_stopped_then_finished(
    disk: Disk, src: Path, store: Path, clean: Path, res: Result, *more: str
) -> None:
    """One line naming the store; a store that validates (if any); the re-run after space
    is freed ends with the clean store's bytes."""
    one_line(res.exit_code, res.output, str(store))
    assert not temporaries(disk.path)
    if (store / "zarr.json").exists():
        check = run_eegprep("validate", store)
        assert check.exit_code == 0, check.output
    disk.set_read_only(False)
    disk.resize(64 * MIB)
    res = ingest(src, store, *more)
    assert res.exit_code == 0, res.output
    assert store_bytes(store) == store_bytes(clean)


@pytest.mark.parametrize("share", [0.02, 0.6])
def test_ingest_into_a_new_store_on_a_full_disk(
    tuh_corpus: Path, tmp_path: Path, clean_store: tuple[Path, int], share: float
) -> None:
    clean, need = clean_store
    with small_disk(tmp_path, int(need * share) // 4096 * 4096 + 4096) as disk:
        store = disk.path / "s.zarr"
        res = ingest(tuh_corpus, store)
        check_stopped_then_finished(disk, tuh_corpus, store, clean, res)


def test_ingest_into_a_read_only_store_leaves_it_as_it_was(
    tuh_corpus: Path, tmp_path: Path, clean_store: tuple[Path, int]
) -> None:
    clean, need = clean_store
    with small_disk(tmp_path, 4 * need) as disk:
        store = disk.path / "s.zarr"
        assert ingest(tuh_corpus, store, "--limit", "1").exit_code == 0
        before = snapshot(store)
        disk.set_read_only()
        res = ingest(tuh_corpus, store)
        one_line(res.exit_code, res.output, str(store), "Read-only file system")
        assert snapshot(store) == before
        check_stopped_then_finished(disk, tuh_corpus, store, clean, res)


@pytest.mark.parametrize("flags", [(), ("--repair",), ("--prune",)])
def test_a_read_only_mount_is_refused_by_its_flag_before_anything_is_written(
    tuh_corpus: Path, tmp_path: Path, monkeypatch: Any, flags: tuple[str, ...]
) -> None:
    """``--out`` on a file system mounted read-only is refused up front in one line, by the
    mount's own flag (``statvfs``'s ``ST_RDONLY``), whatever ``access()`` answers of the
    permission bits; before, the flag was asked only once ``access()`` had refused.

    Emulated, not mounted: ``os.statvfs`` reports ``ST_RDONLY`` for the store's folder, which
    stays writable. A real read-only tmpfs (root only), where ``access()`` refuses too, is
    ``test_ingest_into_a_read_only_store_leaves_it_as_it_was``."""
    store = tmp_path / "s.zarr"
    assert ingest(tuh_corpus, store, "--limit", "1").exit_code == 0
    before = snapshot(store)
    real_statvfs = os.statvfs

    class ReadOnly:
        def __init__(self, real: Any) -> None:
            self.real = real
            self.f_flag = real.f_flag | os.ST_RDONLY

        def __getattr__(self, name: str) -> Any:
            return getattr(self.real, name)

    def statvfs(path: Any) -> Any:
        got = real_statvfs(path)
        inside = os.path.abspath(os.fsdecode(path)).startswith(str(tmp_path))
        return ReadOnly(got) if inside else got

    monkeypatch.setattr(os, "statvfs", statvfs)
    res = ingest(tuh_corpus, store, *flags)
    one_line(res.exit_code, res.output, str(store), "read-only file system (Read-only file system)")
    assert snapshot(store) == before


@pytest.mark.parametrize("fails", ["index segment", "corpus group"])
def test_a_commit_that_cannot_write_leaves_a_store_that_validates(
    tuh_corpus: Path, tmp_path: Path, clean_store: tuple[Path, int], monkeypatch: Any, fails: str
) -> None:
    """The groups a commit moved into place are removed again when its index segment cannot
    be written: ``validate`` called them damage (a group the index does not list); and the
    corpus folder a first commit made, whose ``zarr.json`` could not be written, is removed
    (``validate``: "recordings/tuh/zarr.json: missing")."""
    import eegprep.store.fs
    import eegprep.store.writer

    clean, _ = clean_store
    store = tmp_path / "s.zarr"
    # the corpus group is written by a store's first commit; the index segment by every one
    if fails == "index segment":
        assert ingest(tuh_corpus, store, "--limit", "1").exit_code == 0
    before = snapshot(store / "recordings") if store.exists() else {}

    def full(*args: Any, **kwargs: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    real_write = eegprep.store.fs.write_atomically

    def corpus_group_full(path: Any, data: bytes, **kwargs: Any) -> None:
        if Path(path).parts[-3:] == ("recordings", "tuh", "zarr.json"):
            Path(path).parent.mkdir(parents=True, exist_ok=True)  # as the real write does
            full()
        real_write(path, data, **kwargs)

    with monkeypatch.context() as patched:
        if fails == "index segment":
            patched.setattr(eegprep.store.writer, "append", full)
        else:
            patched.setattr(eegprep.store.fs, "write_atomically", corpus_group_full)
        res = ingest(tuh_corpus, store)
    one_line(res.exit_code, res.output, str(store), "no space left on device")
    check = run_eegprep("validate", store)
    assert check.exit_code == 0, check.output
    after = snapshot(store / "recordings")
    before.setdefault("zarr.json", after.get("zarr.json", b""))  # the store's own, made now
    assert after == before  # nothing moved in is left unlisted
    assert not (store / "recordings" / "tuh").exists() or before
    assert ingest(tuh_corpus, store).exit_code == 0
    assert store_bytes(store) == store_bytes(clean)


# --- labram: a run folder ------------------------------------------------------------------


def tokenizer(store: str, out: Path, *more: object) -> tuple[int, str]:
    return run_labram("tokenizer", "--store", store, "--size", "tiny", "--out", out,
                      "--max-steps", 2, "--device", "cpu", "--deterministic", *more)  # fmt: skip


def losses(log: Path) -> list[list[str]]:
    """A training log's rows without ``tokens_per_s`` (a clock's) and ``row_crc32`` (each row's
    checksum, which covers that speed)."""
    rows = [line.split(",") for line in log.read_text().splitlines()]
    drop = {rows[0].index("tokens_per_s"), rows[0].index("row_crc32")}
    return [[cell for k, cell in enumerate(row) if k not in drop] for row in rows]


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    from tests.labram.training_stores import write_pretrain_store

    root = tmp_path_factory.mktemp("full-disk-run")
    store = write_pretrain_store(root / "a.zarr", n_subjects=3, seconds=40)
    code, out = tokenizer(store, root / "run")
    assert code == 0, out
    return store, root / "run"


@pytest.mark.parametrize("size", [8 * 1024, 64 * 1024])
def test_a_training_run_on_a_full_disk_names_the_file_and_resumes(
    clean_run: tuple[str, Path], tmp_path: Path, size: int
) -> None:
    store, clean = clean_run
    with small_disk(tmp_path, size) as disk:
        run = disk.path / "run"
        code, out = tokenizer(store, run)
        line = one_line(code, out, str(disk.path), "No space left on device")
        assert line.split(": ")[1].startswith(str(run)), line  # the file, under the run
        assert not temporaries(disk.path)
        disk.resize(64 * MIB)
        code, out = tokenizer(store, run, "--resume")
        assert code == 0, out
        assert losses(run / "log.csv") == losses(clean / "log.csv")  # --deterministic: bit-exact


def test_a_training_run_in_a_read_only_folder_is_one_line(
    clean_run: tuple[str, Path], tmp_path: Path
) -> None:
    store, _ = clean_run
    with small_disk(tmp_path, 4 * MIB, read_only=True) as disk:
        code, out = tokenizer(store, disk.path / "run")
        one_line(code, out, str(disk.path), "Read-only file system")


@pytest.mark.parametrize("inodes", [2, 4])
def test_a_training_run_on_a_disk_without_inodes_left_says_so(
    clean_run: tuple[str, Path], tmp_path: Path, inodes: int
) -> None:
    """No inode left is a full disk too (ENOSPC): the run folder's first file said "make it
    writable"; every line says to free some space."""
    store, _ = clean_run
    with small_disk(tmp_path, 64 * MIB, inodes=inodes) as disk:
        code, out = tokenizer(store, disk.path / "run")
        line = one_line(code, out, str(disk.path / "run"), "No space left on device")
        assert "free some space" in line and "make it writable" not in line


def test_a_resume_that_fills_the_disk_keeps_last_pt(
    clean_run: tuple[str, Path], tmp_path: Path
) -> None:
    """``last.pt`` of the run being resumed is kept, byte for byte and loadable, when the disk
    fills while its successor is written; the resume after space is freed completes."""
    from labram.checkpoints.safe_read import read_checkpoint

    store, clean = clean_run
    with small_disk(tmp_path, 64 * MIB) as disk:
        run = disk.path / "run"
        shutil.copytree(clean, run)
        before = {k: v for k, v in snapshot(run).items() if k.endswith(".pt")}
        disk.resize(disk.used() + 8 * 1024)
        code, out = tokenizer(store, run, "--resume", "--max-steps", 4)
        one_line(code, out, str(run), "No space left on device")
        after = {k: v for k, v in snapshot(run).items() if k.endswith(".pt")}
        assert after == before and not temporaries(disk.path)
        assert read_checkpoint(run / "last.pt")["step"] == 2
        disk.resize(64 * MIB)
        code, out = tokenizer(store, run, "--resume", "--max-steps", 4)
        assert code == 0, out


# --- labram embed: zarr's chunk writes name no file ----------------------------------------


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from labram.checkpoints.layouts import save_ours
    from labram.model.classifier import LaBraMClassifier
    from labram.model.config import model_config

    path = tmp_path_factory.mktemp("model") / "best.pt"
    torch.manual_seed(0)
    save_ours(LaBraMClassifier(model_config("tiny"), 2), path)
    return path


def embed(store: str, model: Path, out: Path) -> tuple[int, str]:
    return run_labram("embed", "--store", store, "--checkpoint", model, "--out", out,
                      "--device", "cpu")  # fmt: skip


def test_embed_on_a_full_disk_names_its_store_at_every_size(
    clean_run: tuple[str, Path], tiny_model: Path, tmp_path: Path
) -> None:
    """Creating the embedding store named it; a chunk write (zarr's, naming no file) was
    "cannot write it" with no path: every size from a page up names ``--out``, and the run
    again after space is freed ends with the bytes of one that never failed."""
    store, _ = clean_run
    clean = tmp_path / "clean.zarr"
    code, out = embed(store, tiny_model, clean)
    assert code == 0, out
    need = used_by(clean)
    for size in sizes(need, n=6):
        with small_disk(tmp_path, size) as disk:
            out_dir = disk.path / "e.zarr"
            code, out = embed(store, tiny_model, out_dir)
            if code == 0:
                continue  # (page rounding: it fitted)
            one_line(code, out, str(out_dir))
            assert not temporaries(disk.path)
            disk.resize(64 * MIB)
            code, out = embed(store, tiny_model, out_dir)
            assert code == 0, out
            assert snapshot(out_dir) == snapshot(clean)


# --- wide sweeps: ~20 sizes from a page up to just under what each job needs ---------------


@pytest.mark.slow
@pytest.mark.sweep
@pytest.mark.parametrize("workers", ["0", "2"])
def test_ingest_sweep_of_disk_sizes(
    tuh_corpus: Path, tmp_path: Path, clean_store: tuple[Path, int], workers: str
) -> None:
    clean, need = clean_store
    for size in sizes(need):
        with small_disk(tmp_path, size) as disk:
            if not disk.real and workers != "0":
                pytest.skip("worker processes write outside this process: a real tmpfs needs root")
            store = disk.path / "s.zarr"
            res = ingest(tuh_corpus, store, "--workers", workers)
            if res.exit_code == 0:
                continue
            check_stopped_then_finished(disk, tuh_corpus, store, clean, res, "--workers", workers)


@pytest.mark.slow
@pytest.mark.sweep
def test_ingest_adding_to_a_store_sweep_keeps_earlier_recordings(
    tuh_corpus: Path, tmp_path: Path, clean_store: tuple[Path, int]
) -> None:
    clean, need = clean_store
    first = tmp_path / "first.zarr"
    assert ingest(tuh_corpus, first, "--limit", "1").exit_code == 0
    base = used_by(first) + 64 * 1024
    for extra in sizes(need - used_by(first)):
        with small_disk(tmp_path, base + extra) as disk:
            store = disk.path / "s.zarr"
            shutil.copytree(first, store)
            before = snapshot(store / "recordings")
            res = ingest(tuh_corpus, store)
            if res.exit_code == 0:
                continue
            after = snapshot(store / "recordings")
            assert {k: after.get(k) for k in before} == before
            check_stopped_then_finished(disk, tuh_corpus, store, clean, res)


@pytest.mark.slow
@pytest.mark.sweep
def test_training_run_sweep_of_disk_sizes(clean_run: tuple[str, Path], tmp_path: Path) -> None:
    store, clean = clean_run
    for size in sizes(used_by(clean)):
        with small_disk(tmp_path, size) as disk:
            run = disk.path / "run"
            code, out = tokenizer(store, run)
            if code == 0:
                continue
            ends_in_one_error(code, out, str(run), "No space left on device")
            assert not temporaries(disk.path)
            disk.resize(64 * MIB)
            code, out = tokenizer(store, run, "--resume")
            assert code == 0, out
            assert losses(run / "log.csv") == losses(clean / "log.csv")


@pytest.mark.slow
@pytest.mark.sweep
def test_export_sweep_keeps_the_old_export(tiny_model: Path, tmp_path: Path) -> None:
    """An export replacing another (``--force``) on a disk that fills keeps the old one whole."""
    clean = tmp_path / "clean"
    clean.mkdir()
    code, out = run_labram("export", tiny_model, "--out", clean / "m.safetensors")
    assert code == 0, out
    need = used_by(clean)
    for extra in sizes(need, n=10):
        with small_disk(tmp_path, need + extra) as disk:
            for f in clean.iterdir():
                shutil.copy(f, disk.path / f.name)
            before = snapshot(disk.path)
            code, out = run_labram("export", tiny_model, "--out", disk.path / "m.safetensors",
                                   "--force")  # fmt: skip
            if code == 0:
                continue
            one_line(code, out, str(disk.path))
            assert snapshot(disk.path) == before and not temporaries(disk.path)


@pytest.mark.slow
@pytest.mark.sweep
@pytest.mark.parametrize("what", ["--plots", "--html"])
def test_stats_outputs_sweep(clean_store: tuple[Path, int], tmp_path: Path, what: str) -> None:
    store, _ = clean_store
    target = tmp_path / "clean-out"
    res = run_eegprep("stats", store, what, target)
    assert res.exit_code == 0, res.output
    need = used_by(target) if target.is_dir() else -(-target.stat().st_size // 4096) * 4096
    for size in [*sizes(need, n=6), "read-only"]:
        ro = size == "read-only"
        with small_disk(tmp_path, 4 * MIB if ro else int(size), read_only=ro) as disk:
            res = run_eegprep("stats", store, what, disk.path / "out")
            if res.exit_code == 0:
                continue
            ends_in_one_error(res.exit_code, res.output, str(disk.path / "out"))
            assert not temporaries(disk.path)


# --- the one-line handler of both command groups -------------------------------------------


@pytest.mark.parametrize(
    ("code", "says", "status"),
    [
        (errno.ENOSPC, "cannot write it (No space left on device); free some space", 2),
        (errno.EROFS, "cannot write it (Read-only file system)", 2),
        (errno.EDQUOT, "free some space (the disk quota is used up)", 2),
        (errno.EFBIG, "raise the file size limit", 2),
        (errno.EACCES, "cannot use it (Permission denied); fix its permissions", 2),
        (errno.EBADF, "internal error (a bug)", 1),  # not the place's: ours
    ],
)
def test_a_place_refusing_a_write_is_one_line_naming_the_file(
    code: int, says: str, status: int
) -> None:
    """Any command an OSError of the place it writes to reaches (none named it before: it was
    "internal error (a bug)") prints one line naming the file, exit 2; any other OSError is
    still a bug's line."""
    import click

    from eegprep.cli_group import OneLineErrors

    @click.group(cls=OneLineErrors)
    def group() -> None:
        pass

    @group.command()
    def write() -> None:
        raise OSError(code, os.strerror(code), "/x/y.pt")

    res = CliRunner().invoke(group, ["write"])
    assert res.exit_code == status, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and says in lines[0], res.output
    if status == 2:
        assert lines[0].startswith("error: /x/y.pt: "), res.output


@pytest.mark.slow
@pytest.mark.sweep
@pytest.mark.parametrize("job", ["--repair", "--prune"])
def test_repair_and_prune_sweep(
    tuh_corpus: Path, tmp_path: Path, clean_store: tuple[Path, int], job: str
) -> None:
    """``--repair`` of a flipped chunk and ``--prune`` of a source gone, on a disk that fills:
    one line; the store as it was (only the planted damage reported); the re-run finishes."""
    clean, _ = clean_store
    src = tmp_path / "src"
    shutil.copytree(tuh_corpus, src)
    if job == "--prune":
        next(iter(sorted(src.rglob("*.edf")))).unlink()
    failed = 0
    for extra in sizes(used_by(clean) // 2, n=8):
        with small_disk(tmp_path, 64 * MIB) as disk:
            store = disk.path / "s.zarr"
            shutil.copytree(clean, store)
            if job == "--repair":
                chunk = sorted(store.glob("recordings/tuh/*/data/c.0.0"))[0]
                data = bytearray(chunk.read_bytes())
                data[len(data) // 2] ^= 1
                chunk.write_bytes(bytes(data))
            before = run_eegprep("validate", store)
            disk.resize(used_by(disk.path) + extra)
            res = ingest(src, store, job)
            if res.exit_code in (0, 3):  # it fitted (3: --prune names the file gone)
                continue
            failed += 1
            ends_in_one_error(res.exit_code, res.output, str(store))
            assert not temporaries(disk.path)
            after = run_eegprep("validate", store)
            assert (after.exit_code, after.output) == (before.exit_code, before.output)
            disk.resize(64 * MIB)
            res = ingest(src, store, job)
            assert res.exit_code in (0, 3), res.output  # 3: --prune names the file gone
            check = run_eegprep("validate", store)
            assert check.exit_code == 0, check.output
    assert failed  # the sweep reached the job's writes


@pytest.mark.slow
@pytest.mark.sweep
def test_demo_sweep_then_the_same_corpus(tmp_path: Path) -> None:
    clean = tmp_path / "clean"
    assert run_eegprep("demo", "--out", clean).exit_code == 0
    for size in [*sizes(used_by(clean), n=6), "read-only"]:
        ro = size == "read-only"
        with small_disk(tmp_path, 4 * MIB if ro else int(size), read_only=ro) as disk:
            res = run_eegprep("demo", "--out", disk.path / "demo")
            assert res.exit_code != 0
            one_line(res.exit_code, res.output, str(disk.path / "demo"))
            assert not temporaries(disk.path)
            disk.set_read_only(False)
            disk.resize(64 * MIB)
            assert run_eegprep("demo", "--out", disk.path / "demo").exit_code == 0
            assert snapshot(disk.path / "demo") == snapshot(clean)


@pytest.mark.slow
@pytest.mark.sweep
@pytest.mark.parametrize("size", [4096, "read-only"])
def test_config_set_on_a_full_or_read_only_disk_keeps_the_file(
    tmp_path: Path, tuh_corpus: Path, monkeypatch: Any, size: Any
) -> None:
    ro = size == "read-only"
    with small_disk(tmp_path, 4096 * 4) as disk:
        cfg = disk.path / "config.toml"
        monkeypatch.setenv("EEGPREP_CONFIG", str(cfg))
        assert run_eegprep("config", "set", "tuh", tuh_corpus).exit_code == 0
        before = cfg.read_bytes()
        if ro:
            disk.set_read_only()
        else:
            (disk.path / "fill").write_bytes(b"x" * (disk.size - used_by(disk.path)))
        res = run_eegprep("config", "set", "tuab", tuh_corpus)
        one_line(res.exit_code, res.output, str(cfg))
        assert cfg.read_bytes() == before and not temporaries(disk.path)


def test_output_redirected_to_a_full_disk_names_where_it_went(
    clean_store: tuple[Path, int], tmp_path: Path
) -> None:
    """``eegprep stats --json > FILE`` on a full disk said "error: cannot write it (No space
    left on device)", naming nothing: the line names the standard output's file."""
    import subprocess
    import sys

    store, _ = clean_store
    with small_disk(tmp_path, 4 * 4096) as disk:
        if not disk.real:
            pytest.skip("the command's own process writes the output: it needs a real tmpfs")
        (disk.path / "fill").write_bytes(b"x" * (disk.size - used_by(disk.path)))
        target = disk.path / "stats.json"
        with open(target, "w") as out:
            cmd = [sys.executable, "-m", "eegprep", "stats", str(store), "--json"]
            res = subprocess.run(cmd, stdout=out, stderr=subprocess.PIPE, text=True)
    one_line(res.returncode, res.stderr, f"{target} (standard output)", "No space left on device")
