"""Worker scaling of ``eegprep ingest``: 0, 1 and 2 workers on one corpus, wall and CPU time.

Run through ``python benchmarks/ingest.py --scaling [--hours 3] [--repeat 3]`` (the corpus is
``benchmarks/ingest.py``'s). Not pinned to a core: the workers are meant to use them all.

- Pool start-up: in a fresh process, the seconds until ``n`` local workers have each answered
  a no-op, for eegprep's pool (:mod:`eegprep.ingestion.workers`: workers forked from this
  process after it imported the per-file modules; a forkserver with them preloaded where a fork
  is not safe)
  and, as the reference, the dask ``LocalCluster`` that ``eegprep ingest`` started before.
- Cold: the console command ``eegprep ingest tuh --src CORPUS --out STORE --workers N`` as a
  user runs it (interpreter, imports, pool, every file); wall seconds as the user waits, CPU
  seconds of the command and all its descendants (forked workers are reaped by it; a
  forkserver, which outlives it by a moment, is adopted and waited for, so that its workers'
  CPU is counted).
- Serial part: the cold command on a corpus of one 10 s file, the part of a cold run that
  workers cannot share (interpreter, imports, store, plan, commit); with the cold
  ``--workers 0`` time it bounds what 2 workers can reach (Amdahl's law).
- Warm: in a fresh process, one untimed ingest of the same corpus into another store, then the
  timed one, as ``benchmarks/ingest.py`` measures the steady state (imports done, the
  forkserver's modules loaded); CPU seconds of the driver, of its reaped (forked) workers and of a
  forkserver's reaped workers
  (``/proc``, Linux).

The project's bytecode is compiled first (``benchmarks/bytecode.py``), as ``pip install`` does.
Each row is the fastest of ``--repeat`` runs (0, 1, 2 workers alternate); the speed-up is
against ``--workers 0``. Whether a pool ran is the plan's decision (docs/cli.md, "Workers").
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

WORKER_COUNTS = (0, 1, 2)


def _forkserver_pid() -> int | None:
    from multiprocessing import forkserver

    return getattr(forkserver._forkserver, "_forkserver_pid", None)


def _stop_forkserver() -> None:
    """Stop and reap this process's forkserver (its workers' CPU then counts as ours)."""
    from multiprocessing import forkserver

    if _forkserver_pid() is not None:
        forkserver._forkserver._stop()  # type: ignore[attr-defined]


def _proc_cpu(pid: int | None) -> float:
    """CPU seconds of ``pid`` and of the children it reaped (``/proc/PID/stat``)."""
    if pid is None:
        return 0.0
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def _self_cpu() -> float:
    """CPU seconds of this process and of the children it reaped (forked pool workers)."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _ingest(corpus: Path, out: Path, workers: int) -> bool:
    """Ingest into a fresh ``out``; True when a pool ran."""
    from eegprep.ingestion import workers as pool
    from eegprep.ingestion.driver import IngestConfig, ingest

    shutil.rmtree(out, ignore_errors=True)
    ran = []
    real = pool.run_pool

    def counted(*args, **kw):  # type: ignore[no-untyped-def]
        ran.append(True)
        return real(*args, **kw)

    pool.run_pool = counted  # type: ignore[assignment]
    try:
        rep = ingest(
            "tuh", src=corpus, out=out, config=IngestConfig(workers=workers, progress=False)
        )
    finally:
        pool.run_pool = real  # type: ignore[assignment]
    if rep.failed or not rep.n_ingested:
        raise SystemExit(f"ingest failed: {rep.failed}")
    return bool(ran)


def child_warm(corpus: Path, out: Path, workers: int) -> None:
    _ingest(corpus, out.with_name(out.name + ".warmup"), workers)
    time.sleep(0.3)  # let the forkserver reap the warm-up's workers
    fs0, me0, t0 = _proc_cpu(_forkserver_pid()), _self_cpu(), time.perf_counter()
    pooled = _ingest(corpus, out, workers)
    wall = time.perf_counter() - t0
    me1 = _self_cpu()
    time.sleep(0.3)
    fs1 = _proc_cpu(_forkserver_pid())
    _stop_forkserver()
    print(json.dumps({"pool": pooled, "wall": wall, "cpu": me1 - me0 + fs1 - fs0}))


HOLD_SECONDS = 0.25  # each worker holds its answer this long, so that every worker gets one


def child_startup(kind: str, n: int) -> None:
    """Seconds (wall) until ``n`` workers are ready to ingest: each has imported the per-file
    modules (:data:`eegprep.ingestion.workers.PRELOAD`) and answered with its pid (held
    :data:`HOLD_SECONDS`, which is subtracted, so that no worker answers twice)."""
    import logging

    from eegprep.ingestion.workers import PRELOAD

    mods = "".join(f"__import__({m!r}) and " for m in PRELOAD)
    answer = f"{mods}(__import__('time').sleep({HOLD_SECONDS}) or __import__('os').getpid())"
    t0 = time.perf_counter()
    if kind == "pool":
        from concurrent.futures import ProcessPoolExecutor

        from eegprep.ingestion.workers import _context

        with ProcessPoolExecutor(n, mp_context=_context()) as ex:
            pids = {f.result() for f in [ex.submit(eval, answer) for _ in range(n)]}
            ready = time.perf_counter() - t0 - HOLD_SECONDS
        _stop_forkserver()
    else:
        from distributed import Client, LocalCluster

        logging.getLogger("distributed").setLevel(logging.CRITICAL)
        with LocalCluster(
            n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
            silence_logs=logging.CRITICAL,
        ) as cluster, Client(cluster) as client:  # fmt: skip
            client.wait_for_workers(n)
            pids = set(client.run(eval, answer).values())
            ready = time.perf_counter() - t0 - HOLD_SECONDS
    print(json.dumps({"ready": ready, "workers": len(pids)}))


def _spin(n: int) -> float:
    x = 0
    for i in range(n):
        x += i
    return float(x)


def child_ceiling() -> None:
    """The speed-up two busy loops get from two processes on this machine now: the most any
    2-worker row can show (other processes share the cores)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    n = 10_000_000
    t0 = time.perf_counter()
    _spin(n)
    one = time.perf_counter() - t0
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork")) as ex:
        list(ex.map(_spin, [10, 10]))
        t0 = time.perf_counter()
        list(ex.map(_spin, [n, n]))
        two = time.perf_counter() - t0
    print(json.dumps({"ceiling": 2 * one / two}))


def _command(corpus: Path, out: str, workers: int) -> tuple[bool, float, float]:
    """``eegprep ingest tuh --src corpus --out out --workers N``, the console script as a user
    runs it, into a fresh ``out``: whether a pool ran (the report's ``processes``), wall
    seconds and CPU seconds (the command and its forkserver, adopted, with its workers)."""
    from startup import script  # benchmarks/startup.py

    shutil.rmtree(out, ignore_errors=True)
    cmd = [script("eegprep"), "-q", "ingest", "tuh", "--src", str(corpus), "--out", out]
    _, wall, cpu = _timed([*cmd, "--workers", str(workers)])
    report = json.loads(max(Path(out, "_eegprep", "reports").glob("*.json")).read_text())
    return report["processes"] > 1, wall, cpu


SERIAL_SECONDS = 10.0  # the one file of the serial-part corpus


def _serial_corpus(root: Path) -> Path:
    """A corpus of one short file (:data:`SERIAL_SECONDS`, the first of ``ingest.PLAN``): a
    cold command on it is nearly all the part of a run that no worker shares."""
    from ingest import PLAN, write_corpus  # benchmarks/ingest.py

    write_corpus(root, SERIAL_SECONDS / 3600, plan=PLAN[:1])
    return root


def _become_subreaper() -> None:
    """Adopt this process's orphaned descendants (Linux ``PR_SET_CHILD_SUBREAPER``): the
    command's forkserver outlives it by a moment, and its CPU (its workers' included) then
    counts in ours once :func:`_timed` has waited for it."""
    import ctypes

    ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER


def _timed(cmd: list[str]) -> tuple[str, float, float]:
    """Run ``cmd``: its standard output, wall seconds and CPU seconds (it and every descendant
    reaped, the adopted ones waited for: they exit once the command's pipes close)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            break
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        raise SystemExit(f"{cmd} failed:\n{done.stderr}")
    return done.stdout, wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def _run(args: list[str]) -> tuple[dict, float, float]:
    """Run this module as a child; its JSON, wall seconds and CPU seconds (all descendants
    it reaped)."""
    out, wall, cpu = _timed([sys.executable, __file__, *args])
    return json.loads(out.strip().splitlines()[-1]), wall, cpu


def scaling(corpus: Path, work: Path, hours: float, repeat: int) -> None:
    """Print the start-up and scaling tables for ``corpus`` (``hours`` of EEG)."""
    from bytecode import compile_project

    compile_project()  # as pip install does: the cold rows do not compile every module again
    _become_subreaper()
    n = 2
    starts: dict[str, list[float]] = {"pool": [], "dask": []}
    for _ in range(repeat):
        for kind in starts:
            info, _, _ = _run(["startup", kind, str(n)])
            starts[kind].append(info["ready"])
    print(f"\npool start-up, {n} workers ready (wall s, fresh process; fastest and range of "
          f"{repeat})")  # fmt: skip
    for kind, label in (("dask", "dask LocalCluster (reference)"), ("pool", "eegprep pool")):
        s = starts[kind]
        print(f"  {label:<32}{min(s):>7.2f}   {min(s):.2f}-{max(s):.2f}")
    ceiling = [_run(["ceiling"])[0]["ceiling"]]
    serial = _serial_corpus(work / "serial")
    serial_walls: list[float] = []
    cold: dict[int, list[tuple[float, float, bool]]] = {w: [] for w in WORKER_COUNTS}
    warm: dict[int, list[tuple[float, float, bool]]] = {w: [] for w in WORKER_COUNTS}
    out = str(work / "scaling.zarr")
    for run in range(repeat):
        for w in WORKER_COUNTS:
            pooled, wall, cpu = _command(corpus, out, w)
            cold[w].append((wall, cpu, pooled))
            info, _, _ = _run(["warm", str(corpus), out, str(w)])
            warm[w].append((info["wall"], info["cpu"], info["pool"]))
        ceiling.append(_run(["ceiling"])[0]["ceiling"])
        serial_walls.append(_command(serial, out, 0)[1])
        print(f"run {run + 1}: " + ", ".join(
            f"{w} workers cold {cold[w][-1][0]:.2f} s wall / {cold[w][-1][1]:.2f} s cpu, "
            f"warm {warm[w][-1][0]:.2f} / {warm[w][-1][1]:.2f}" for w in WORKER_COUNTS
        ), flush=True)  # fmt: skip
    shutil.rmtree(out, ignore_errors=True)
    shutil.rmtree(out + ".warmup", ignore_errors=True)
    print(f"\nscaling, {hours:g} h of EEG, {os.cpu_count()} cores (fastest of {repeat}; "
          "speed-up in wall time against --workers 0)")  # fmt: skip
    head = f"{'workers':<9}{'pool':<6}"
    print(f"{head}{'cold wall s':>12}{'cpu s':>8}{'speed-up':>10}"
          f"{'warm wall s':>13}{'cpu s':>8}{'speed-up':>10}")  # fmt: skip
    best_c = {w: min(cold[w]) for w in WORKER_COUNTS}
    best_w = {w: min(warm[w]) for w in WORKER_COUNTS}
    for w in WORKER_COUNTS:
        (cw, cc, cp), (ww, wc, _) = best_c[w], best_w[w]
        pool = "yes" if cp else "no"
        print(f"{w:<9}{pool:<6}{cw:>12.2f}{cc:>8.2f}{best_c[0][0] / cw:>10.2f}"
              f"{ww:>13.2f}{wc:>8.2f}{best_w[0][0] / ww:>10.2f}")  # fmt: skip
    t0, t_serial = best_c[0][0], min(serial_walls)
    bound = t0 / (t_serial + (t0 - t_serial) / 2)
    print(f"serial part: the same command on one {SERIAL_SECONDS:g} s file (interpreter, "
          f"imports, store, plan, commit) takes {t_serial:.2f} s of the {t0:.2f} s; the rest "
          f"split over 2 workers, the cold 2-worker row can reach at most {bound:.2f}x "
          "(Amdahl's law, idle cores, no contention)")  # fmt: skip
    print(f"machine check: two busy loops in two processes ran {min(ceiling):.2f}-"
          f"{max(ceiling):.2f}x as fast as one (2.0 on idle cores): the ceiling of the "
          "2-worker rows in this run")  # fmt: skip


if __name__ == "__main__":
    mode, rest = (sys.argv[1], sys.argv[2:]) if len(sys.argv) > 1 else ("", [])
    if mode not in ("ceiling", "startup", "warm") or len(rest) < {"startup": 2, "warm": 3}.get(
        mode, 0
    ):
        sys.exit("run it through: python benchmarks/ingest.py --scaling [--hours 3] [--repeat 3]")
    if mode == "ceiling":
        child_ceiling()
    elif mode == "startup":
        child_startup(rest[0], int(rest[1]))
    else:
        child_warm(Path(rest[0]), Path(rest[1]), int(rest[2]))
