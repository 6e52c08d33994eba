"""Crash safety and determinism of ingest.

- An ingest killed with SIGKILL at random moments, then re-run, gives a store equal byte for
  byte (every array, every attribute, the index) to one from an uninterrupted run.
- Readers opening the store while an ingest runs see only complete recordings.
- The same inputs give byte-identical stores whatever the worker count and completion order.

Ingest reports (``_eegprep/reports``) hold times and are left out of the comparisons.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from eegprep import open_store
from eegprep.base.errors import StoreError
from eegprep.ingestion.driver import IngestConfig, ingest
from eegprep.testing.demo import write_demo_corpus

REPO = Path(__file__).resolve().parents[2]
N_RECORDINGS = 16


def store_bytes(store: Path) -> dict[str, bytes]:
    """Every file of a store except the ingest reports, by relative path."""
    out = {}
    for path in sorted(store.rglob("*")):
        rel = path.relative_to(store).as_posix()
        if path.is_file() and not rel.startswith("_eegprep/reports/"):
            out[rel] = path.read_bytes()
    return out


def _ingest_cmd(src: Path, out: Path) -> list[str]:
    code = "import sys; from cli import eegprep_cli; sys.exit(eegprep_cli())"
    return [sys.executable, "-c", code, "-q", "ingest", "tuh", "--src", str(src), "--out",
            str(out), "--workers", "0", "--commit-every", "1"]  # fmt: skip


def _run(cmd: list[str]) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # 16 recordings of 3 minutes: an ingest long enough for kills between index commits
    return write_demo_corpus(tmp_path_factory.mktemp("demo"), seed=3, n_subjects=8, minutes=3.0)


@pytest.fixture(scope="module")
def reference(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    out = tmp_path_factory.mktemp("ref") / "s.zarr"
    rep = ingest("tuh", src=corpus, out=out, config=IngestConfig(workers=0, progress=False))
    assert rep.n_ingested == N_RECORDINGS and not rep.failed
    return store_bytes(out)


def _check_complete(store: Path) -> int:
    """Open the store as a reader and read every listed recording whole."""
    try:
        s = open_store(store)
    except StoreError:
        return 0  # not created yet
    for rec in s.recordings:
        x = s.read(rec.id)
        assert x.shape == (rec.n_channels, rec.n_samples)
        assert np.isfinite(x).all()
    return len(s)


@pytest.mark.slow
def test_sigkill_then_rerun_equals_uninterrupted(
    corpus: Path, reference: dict[str, bytes], tmp_path: Path
) -> None:
    t0 = time.monotonic()
    full = _run(_ingest_cmd(corpus, tmp_path / "timing.zarr"))
    full.communicate(timeout=300)
    t_full = time.monotonic() - t0
    rng = random.Random(7)
    mid_run = partial = 0
    for trial in range(5):
        out = tmp_path / f"trial{trial}.zarr"
        proc = _run(_ingest_cmd(corpus, out))
        # odd trials: a random moment (store creation included); even ones: right after a
        # random number of commits, so that some kill always lands between two commits
        deadline = time.monotonic() + rng.uniform(0.05, 0.95) * t_full
        target = rng.randint(1, N_RECORDINGS - 2) if trial % 2 == 0 else N_RECORDINGS + 1
        seen = 0
        while proc.poll() is None and (time.monotonic() < deadline or trial % 2 == 0):
            seen = max(seen, _check_complete(out))  # readers see only complete recordings
            if seen >= target:
                break
        alive = proc.poll() is None
        proc.send_signal(signal.SIGKILL)
        proc.communicate()  # (reaped, its pipes closed: left open, they warn when collected)
        listed = _check_complete(out)
        mid_run += alive
        partial += alive and 0 < listed < N_RECORDINGS
        rerun = _run(_ingest_cmd(corpus, out))
        _, err = rerun.communicate(timeout=300)
        assert rerun.returncode == 0, err.decode()
        assert store_bytes(out) == reference, f"trial {trial} (killed with {listed} listed)"
    assert mid_run >= 3, "too few kills landed in the middle of an ingest"
    assert partial >= 1, f"no kill left a partly listed store (full run {t_full:.1f} s)"


@pytest.mark.slow
def test_concurrent_reader_sees_only_complete_recordings(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "s.zarr"
    proc = _run(_ingest_cmd(corpus, out))
    counts = []
    while proc.poll() is None:
        counts.append(_check_complete(out))
    proc.communicate()
    assert proc.returncode == 0
    assert counts == sorted(counts) and _check_complete(out) == N_RECORDINGS


def test_second_ingest_is_refused_while_one_runs(corpus: Path, tmp_path: Path) -> None:
    # a live process holds the writer's lock, as a running ingest does (a real first ingest of
    # this small corpus can finish before the second one starts)
    out = tmp_path / "s.zarr"
    holder_code = (
        "import sys, time; from eegprep.pipeline.recipe import Recipe; "
        "from eegprep.store.writer import StoreWriter; "
        f"w = StoreWriter({str(out)!r}, Recipe()); w.open(); print('locked', flush=True); "
        "time.sleep(120)"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", holder_code],
        stdout=subprocess.PIPE,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == b"locked"
        second = _run(_ingest_cmd(corpus, out))
        _, err = second.communicate(timeout=120)
    finally:
        holder.kill()
        holder.communicate()
    assert second.returncode == 2
    assert b"another ingest" in err and err.count(b"\n") == 1
    # once the holder is gone its lock is stale, and an ingest goes ahead
    rerun = _run(_ingest_cmd(corpus, out))
    _, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err.decode()


def test_same_bytes_whatever_the_worker_count(
    corpus: Path, reference: dict[str, bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        "eegprep.ingestion.workers.POOL_START_SECONDS", 0.0
    )  # a pool, not this process
    out = tmp_path / "s.zarr"
    ingest("tuh", src=corpus, out=out, config=IngestConfig(workers=2, progress=False))
    assert store_bytes(out) == reference


@pytest.mark.parametrize("step", ["_move_into_place", "append", "_note_listed"])
def test_ctrl_c_inside_a_commit_loses_nothing_listed(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    """Ctrl-C at any step of a commit (after its rename, after its index line, after noting
    what is listed): every listed recording reads whole, and a re-run completes the store.
    (The driver once committed the interrupted batch a second time, which removed a group its
    index already listed, or stopped on "is listed; refusing to replace it".)"""
    import eegprep.store.writer as writer_module

    owner = writer_module if step == "append" else writer_module.StoreWriter
    real = getattr(owner, step)
    calls = {"n": 0}

    def interrupted(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        out = real(*args, **kwargs)
        if calls["n"] == 2:  # in the second commit
            raise KeyboardInterrupt
        return out

    monkeypatch.setattr(owner, step, interrupted)
    out = tmp_path / "s.zarr"
    cfg = IngestConfig(workers=0, progress=False, commit_every=1)
    with pytest.raises(KeyboardInterrupt):
        ingest("tuh", src=corpus, out=out, config=cfg)
    assert calls["n"] >= 2
    assert _check_complete(out) >= 1
    monkeypatch.setattr(owner, step, real)
    rep = ingest("tuh", src=corpus, out=out, config=cfg)
    assert not rep.failed and _check_complete(out) == N_RECORDINGS
