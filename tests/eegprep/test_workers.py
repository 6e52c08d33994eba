"""Local workers start only when they pay for themselves, give the same store, and go away."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from eegprep.ingestion import workers
from eegprep.ingestion.driver import IngestConfig, ingest
from eegprep.ingestion.task import run_task

MB = 1_000_000


def fake_tasks(n: int, mb_each: float) -> list[Any]:
    """Stand-ins with what the decision reads: each task's source files and their sizes."""
    return [
        SimpleNamespace(sources=(SimpleNamespace(size=int(mb_each * MB)),), source_stat=(0, 0))
        for _ in range(n)
    ]


def test_no_pool_for_small_plans_one_worker_or_one_file() -> None:
    big = fake_tasks(8, 50)  # 400 MB: ~1.6 s for one process
    assert workers.pool_size(2, big) == 2
    assert workers.pool_size(8, big) == 8
    assert workers.pool_size(16, big) == 8  # at most one worker per task
    assert workers.pool_size(0, big) == 0  # this process, as asked
    assert workers.pool_size(1, big) == 0  # a pool of one is never faster than this process
    assert workers.pool_size(2, fake_tasks(1, 4000)) == 0  # one file: nothing to share
    assert workers.pool_size(2, fake_tasks(3, 2)) == 0  # 6 MB: the pool would cost more
    assert workers.pool_size(2, []) == 0


@pytest.mark.parametrize("forked", [False, True])
def test_the_rule_weighs_the_pools_late_start_against_the_work(
    monkeypatch: pytest.MonkeyPatch, forked: bool
) -> None:
    """``n`` processes, this one from the start and the pool's from ``start_seconds()`` on
    (POOL_START_SECONDS from a forkserver, FORK_START_SECONDS forked), each CONTENTION slower:
    a pool starts when that finishes before this process alone would; with 2 workers, from
    ~0.56 s of estimated work from a forkserver (a 3 h TUH-like corpus of 150 MB is ~0.8 s),
    from ~0.22 s forked (1 h of TUH's files, 50 MB, ~0.26 s)."""
    monkeypatch.setattr(workers, "_forks", lambda: forked)
    start, slower = workers.start_seconds(), workers.CONTENTION
    assert start == (workers.FORK_START_SECONDS if forked else workers.POOL_START_SECONDS)
    for mb in (10, 50, 100, 120, 150, 200, 400, 800):
        tasks = fake_tasks(4, mb / 4)
        work = workers.estimate_seconds(tasks)
        for n in (2, 4):
            faster = (work * (1 + slower) + (n - 1) * start) / n < work
            assert (workers.pool_size(n, tasks) == n) == faster
    assert workers.pool_size(2, fake_tasks(18, 150 / 18)) == 2  # 3 h of TUH-like files
    one_hour = workers.pool_size(2, fake_tasks(6, 50 / 6))
    assert one_hour == (2 if forked else 0)  # from a forkserver 1 h was slower with a pool, cold
    assert workers.pool_size(2, fake_tasks(3, 24 / 3)) == 0  # 0.5 h: no faster either way
    monkeypatch.setattr(workers, "POOL_START_SECONDS", 0.0)  # how tests force a pool
    assert workers.start_seconds() == 0.0
    assert workers.estimate_seconds(fake_tasks(2, 125)) == pytest.approx(
        250 * MB / workers.SOURCE_BYTES_PER_SECOND + 2 * workers.SECONDS_PER_RECORDING
    )


def _count_pools(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    started: list[int] = []
    real = workers.run_pool

    def counted(tasks: Any, n_workers: int) -> Any:
        started.append(n_workers)
        return real(tasks, n_workers)

    monkeypatch.setattr(workers, "run_pool", counted)
    return started


def test_ingest_of_a_small_corpus_starts_no_pool(
    tuh_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = _count_pools(monkeypatch)
    rep = ingest(
        "tuh", src=tuh_corpus, out=tmp_path / "s.zarr", config=IngestConfig(progress=False)
    )
    assert rep.n_ingested == 3 and started == []


@pytest.mark.parametrize("beside_a_thread", [False, True])
def test_a_forced_pool_ingests_everything(
    tuh_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, beside_a_thread: bool
) -> None:
    """Workers forked from this process (alone) or started by the forkserver (another thread
    runs) write the same store as this process alone."""
    import threading

    from eegprep.store.reader import open_store

    started = _count_pools(monkeypatch)
    methods: list[tuple[str, bool]] = []  # (start method, whether a fork was safe then)
    context = workers._context

    def recorded() -> Any:
        safe = workers._fork_safe()
        ctx = context()
        methods.append((ctx.get_start_method(), safe))
        return ctx

    monkeypatch.setattr(workers, "_context", recorded)
    monkeypatch.setattr(workers, "POOL_START_SECONDS", 0.0)
    cfg = IngestConfig(workers=2, progress=False)
    other = threading.Event()
    waiting = threading.Thread(target=other.wait, daemon=True)
    if beside_a_thread:
        waiting.start()
    try:
        rep = ingest("tuh", src=tuh_corpus, out=tmp_path / "s.zarr", config=cfg)
    finally:
        other.set()
    assert started == [2]
    assert rep.n_ingested == 3 and not rep.failed
    assert multiprocessing.active_children() == []  # the pool's workers are gone
    method, safe = methods[0]
    if beside_a_thread:  # a thread of unknown purpose: no fork
        assert not safe and method != "fork"
    if sys.platform.startswith("linux"):
        assert method == ("fork" if safe else "forkserver")
    alone = ingest("tuh", src=tuh_corpus, out=tmp_path / "one.zarr", config=IngestConfig(workers=0))
    assert alone.n_ingested == 3
    pooled, one = open_store(tmp_path / "s.zarr"), open_store(tmp_path / "one.zarr")
    for rec in one.recordings:
        assert (pooled.read(rec.id) == one.read(rec.id)).all()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork is used on Linux")
def test_a_fresh_process_forks_its_workers(tuh_corpus: Path, tmp_path: Path) -> None:
    """As the console command runs: one thread, so the workers are forked copies of it (they
    start at once, nothing to import); the store is whole."""
    code = (
        "from eegprep.ingestion import workers\n"
        "from eegprep.ingestion.driver import IngestConfig, ingest\n"
        "workers.POOL_START_SECONDS = 0.0\n"
        "context = workers._context\n"
        "used = []\n"
        "workers._context = lambda: used.append(context()) or used[-1]\n"
        f"rep = ingest('tuh', src={str(tuh_corpus)!r}, out={str(tmp_path / 's.zarr')!r},\n"
        "             config=IngestConfig(workers=2, progress=False))\n"
        "print(rep.n_ingested, rep.processes, used[0].get_start_method())\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["3", "2", "fork"]


def test_stopping_early_terminates_the_workers(tuh_corpus: Path, tmp_path: Path) -> None:
    """What Ctrl-C does to the driver's loop: the generator is closed, the workers end."""
    from eegprep.corpus.discover import discover
    from eegprep.corpus.folders import corpus_dir
    from eegprep.corpus.manifest import load_manifest
    from eegprep.ingestion.driver import IngestReport, _plan
    from eegprep.ingestion.options import apply_overrides
    from eegprep.store.writer import StoreWriter

    cfg = IngestConfig(workers=2, progress=False)
    manifest = apply_overrides(load_manifest("tuh"))
    found = discover(manifest, corpus_dir("tuh", tuh_corpus))
    with StoreWriter(str(tmp_path / "s.zarr"), cfg.recipe) as writer:
        tasks = _plan(manifest, found, writer, cfg, IngestReport("tuh", "", ""))
        results = workers.run_pool(tasks, 2)
        first = next(results)
        assert first.rid.startswith("tuh/")
        results.close()  # as a KeyboardInterrupt in the consumer does
    assert multiprocessing.active_children() == []


def _tasks(corpus: Path, out: Path) -> list[Any]:
    """The ingest plan of ``corpus`` into a new store at ``out`` (its staging groups)."""
    from eegprep.corpus.discover import discover
    from eegprep.corpus.folders import corpus_dir
    from eegprep.corpus.manifest import load_manifest
    from eegprep.ingestion.driver import IngestReport, _plan
    from eegprep.ingestion.options import apply_overrides
    from eegprep.store.writer import StoreWriter

    cfg = IngestConfig(workers=2, progress=False)
    manifest = apply_overrides(load_manifest("tuh"))
    found = discover(manifest, corpus_dir("tuh", corpus))
    with StoreWriter(str(out), cfg.recipe) as writer:
        return _plan(manifest, found, writer, cfg, IngestReport("tuh", "", ""))


def test_this_process_works_beside_the_pool(
    tuh_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two workers: one pool worker takes the largest file first, this process the smallest;
    each task runs once."""
    from tests.eegprep import pool_tasks

    monkeypatch.setattr(workers, "run_task", pool_tasks.run_and_tag)
    tasks = _tasks(tuh_corpus, tmp_path / "s.zarr")
    results = list(workers.run_pool(tasks, 2))
    assert sorted(r.rid for r in results) == sorted(t.rid for t in tasks)
    assert all(r.ok for r in results)
    by_pid: dict[str, list[str]] = {}
    for r in results:
        by_pid.setdefault(r.detail, []).append(r.rid)
    largest = max(tasks, key=workers.source_bytes).rid
    here = by_pid.get(str(os.getpid()), [])
    assert largest not in here  # the pool started with it
    assert len(by_pid) == 2 and multiprocessing.active_children() == []  # both worked


def test_a_dead_worker_fails_its_task_and_this_process_runs_the_rest(
    tuh_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.eegprep import pool_tasks

    monkeypatch.setattr(workers, "run_task", pool_tasks.die_in_a_worker)
    tasks = _tasks(tuh_corpus, tmp_path / "s.zarr")
    results = list(workers.run_pool(tasks, 2))
    assert sorted(r.rid for r in results) == sorted(t.rid for t in tasks)
    failed = [r for r in results if not r.ok]
    assert len(failed) == 1 and "a worker process died" in (failed[0].error or "")
    assert failed[0].rid == max(tasks, key=workers.source_bytes).rid  # the pool's first task
    assert multiprocessing.active_children() == []


def test_a_pool_that_cannot_start_leaves_the_work_to_this_process(
    tuh_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No worker process could be started (out of processes, say): this process ingests
    every file, and the ingest does not wait for a pool that never came."""
    from concurrent.futures import ProcessPoolExecutor

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise OSError("Resource temporarily unavailable")

    monkeypatch.setattr(ProcessPoolExecutor, "submit", refuse)
    tasks = _tasks(tuh_corpus, tmp_path / "s.zarr")
    results = list(workers.run_pool(tasks, 2))
    assert sorted(r.rid for r in results) == sorted(t.rid for t in tasks)
    assert all(r.ok for r in results)


def test_a_pool_that_fails_late_leaves_its_task_to_this_process(
    tuh_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pool's first submit fails only after this process has run every other file and
    waits for the pool: the pool's file comes back to this process, which runs it (the driver
    waited forever before)."""
    import threading
    from concurrent.futures import ProcessPoolExecutor

    tasks = _tasks(tuh_corpus, tmp_path / "s.zarr")
    ran_here: list[str] = []

    def run_here(task: Any) -> Any:
        ran_here.append(task.rid)
        return run_task(task)

    def refuse_late(*args: Any, **kwargs: Any) -> Any:
        deadline = time.monotonic() + 60
        while len(ran_here) < len(tasks) - 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.3)  # this process is waiting for the pool's results by now
        raise OSError("Resource temporarily unavailable")

    monkeypatch.setattr(workers, "run_task", run_here)
    monkeypatch.setattr(ProcessPoolExecutor, "submit", refuse_late)
    results: list[Any] = []
    driver = threading.Thread(target=lambda: results.extend(workers.run_pool(tasks, 2)))
    driver.start()
    driver.join(90)
    assert not driver.is_alive(), "run_pool still waits for a pool that never started"
    assert sorted(r.rid for r in results) == sorted(t.rid for t in tasks)
    assert all(r.ok for r in results) and sorted(ran_here) == sorted(t.rid for t in tasks)
    assert ran_here[-1] == max(tasks, key=workers.source_bytes).rid  # the pool's, run last


def test_a_worker_exits_when_its_drivers_end_of_the_pipe_closes() -> None:
    code = (
        "import multiprocessing\n"
        "from eegprep.ingestion.workers import _watch\n"
        "lifeline, keep_alive = multiprocessing.Pipe(duplex=False)\n"
        "keep_alive.close()\n"
        "_watch(lifeline)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], timeout=60)
    assert done.returncode == 1


def test_a_script_without_a_main_guard_runs_once(tuh_corpus: Path, tmp_path: Path) -> None:
    """Workers do not re-run the caller's script (forkserver and spawn would, by default)."""
    for i, how in enumerate(("file", "stdin")):
        code = (
            "from eegprep.ingestion import workers\n"
            "from eegprep.ingestion.driver import IngestConfig, ingest\n"
            "workers.POOL_START_SECONDS = 0.0\n"
            "print('ingesting', flush=True)\n"
            f"rep = ingest('tuh', src={str(tuh_corpus)!r}, out={str(tmp_path / f's{i}.zarr')!r},\n"
            "             config=IngestConfig(workers=2, progress=False))\n"
            "print(rep.n_ingested, rep.failed)\n"
        )
        script = tmp_path / f"unguarded{i}.py"
        script.write_text(code)
        done = subprocess.run(
            [sys.executable, str(script) if how == "file" else "-"],
            input=code if how == "stdin" else None,
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.count("ingesting") == 1, how
        assert done.stdout.strip().splitlines()[-1] == "3 []", how


def _tagged(tag: str) -> list[int]:
    """Live processes whose environment carries ``EEGPREP_TEST_TAG=tag`` (a driver's pool)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and f"EEGPREP_TEST_TAG={tag}".encode() in (
                (proc / "environ").read_bytes()
            ):
                stat = (proc / "stat").read_text()
                if stat.rsplit(")", 1)[1].split()[0] != "Z":  # reaped or not, a zombie is dead
                    found.append(int(proc.name))
        except OSError:
            continue
    return found


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize("sig", ["SIGINT", "SIGKILL"])
def test_interrupted_pool_leaves_a_consistent_store_and_no_workers(
    tmp_path: Path, sig: str
) -> None:
    """Ctrl-C (SIGINT to the driver) or a kill while workers run: what was committed reads
    whole, no worker outlives the driver by more than a few seconds, a re-run completes."""
    import os
    import signal
    import time
    import uuid

    from eegprep.store.reader import open_store
    from eegprep.testing.demo import write_demo_corpus

    corpus = write_demo_corpus(tmp_path / "demo", seed=3, n_subjects=4, minutes=3.0)
    out = tmp_path / "s.zarr"
    code = (
        "from eegprep.ingestion import workers\n"
        "from eegprep.ingestion.driver import IngestConfig, ingest\n"
        "workers.POOL_START_SECONDS = 0.0\n"
        f"ingest('tuh', src={str(corpus)!r}, out={str(out)!r},\n"
        "       config=IngestConfig(workers=2, progress=False, commit_every=1))\n"
    )
    tag = uuid.uuid4().hex
    driver = subprocess.Popen(
        [sys.executable, "-c", code],
        env={**os.environ, "EEGPREP_TEST_TAG": tag},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and driver.poll() is None:
        try:
            if len(open_store(out)) >= 1:
                break
        except Exception:
            pass
        time.sleep(0.05)
    driver.send_signal(getattr(signal, sig))
    driver.communicate(timeout=60)
    gone_by = time.monotonic() + 60  # (the kernel's and a loaded machine's time: a guard)
    while _tagged(tag) and time.monotonic() < gone_by:
        time.sleep(0.1)
    assert _tagged(tag) == []  # no orphan writes on
    store = open_store(out)
    for rec in store.recordings:  # what is listed is complete
        assert store.read(rec.id).shape == (rec.n_channels, rec.n_samples)
    rep = ingest("tuh", src=corpus, out=out, config=IngestConfig(workers=0, progress=False))
    assert rep.n_ingested + rep.n_current == 8 and not rep.failed


def test_only_threads_known_to_survive_a_fork_allow_one() -> None:
    """zarr's idle I/O thread (zarr resets it in a forked child) does not stop a fork; any
    other thread does, and a call from a thread other than the main one never forks."""
    import threading

    import zarr
    from zarr.core.sync import sync

    async def nothing() -> None:
        return None

    sync(nothing())  # starts zarr's I/O thread, as writing a recording's metadata does
    assert zarr.core.sync.iothread[0] is not None
    assert workers._fork_safe() == all(
        t is threading.main_thread() or t is zarr.core.sync.iothread[0]
        for t in threading.enumerate()
    )
    stop = threading.Event()
    other = threading.Thread(target=stop.wait, daemon=True)
    other.start()
    try:
        assert not workers._fork_safe()
    finally:
        stop.set()
        other.join()
    answers: list[bool] = []
    asker = threading.Thread(target=lambda: answers.append(workers._fork_safe()))
    asker.start()
    asker.join()
    assert answers == [False]
