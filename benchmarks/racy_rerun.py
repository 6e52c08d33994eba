"""What racy stamps cost: the re-run right after an ingest, and the task's extra hash.

    python benchmarks/racy_rerun.py [--files 1000] [--keep DIR]

Stamps less than ``RACY_NS`` (3 s) older than an ingest's start are racy
(eegprep/ingestion/racy_stamps.py): the seen-files cache does not note them, so the next run
hashes those files again, and each task hashes such files once more before it parses them.
Two corpora: the TUH demo corpus (``eegprep demo``) and ``--files`` small EDF files (21
channels, 256 Hz, 4 s) under the generic ``folder`` manifest. For each: the first ingest and a
re-run at once (the real clock: only the files written in the last 3 s before the first
ingest are racy), then, with the clock put where every file is racy or none is, a re-run with
no cache (every file hashed, none noted), one with none racy (hashed once, noted) and three
that the cache vouches for (no file read), and a first ingest into a new store with every
file racy and with none. One line each: counts and seconds. ``--workers 0`` throughout.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from eegprep.ingestion import racy_stamps
from eegprep.ingestion.driver import IngestConfig, ingest
from eegprep.testing.demo import write_demo_corpus
from eegprep.testing.edf_writer import write_edf

CHANNELS = ["Fp1", "Fp2", "F3", "F4", "C3", "C4", "P3", "P4", "O1", "O2", "F7", "F8", "T7",
            "T8", "P7", "P8", "Fz", "Cz", "Pz", "A1", "A2"]  # fmt: skip
HOUR = 3600 * 10**9


def write_files(root: Path, n: int) -> Path:
    """``n`` EDF files of 4 s, 21 channels at 256 Hz, 100 per folder."""
    rng = np.random.default_rng(0)
    for k in range(n):
        path = root / f"d{k // 100}" / f"r{k}.edf"
        path.parent.mkdir(parents=True, exist_ok=True)
        x = rng.normal(scale=20.0, size=(len(CHANNELS), 4 * 256))
        write_edf(path, list(x), labels=CHANNELS, sfreqs=256.0)
    return root


def run(name: str, label: str, src: Path, out: Path, corpus: str, cfg: IngestConfig) -> None:
    t0 = time.perf_counter()
    r = ingest(corpus, src=src, out=out, config=cfg)
    print(
        f"{name} {label:32s} ingested={r.n_ingested:5d} current={r.n_current:5d} "
        f"checked={r.n_checked:5d} failed={len(r.failed)} {time.perf_counter() - t0:7.2f} s",
        flush=True,
    )


def measure(name: str, src: Path, corpus: str, cfg: IngestConfig, work: Path) -> None:
    files = [p for p in src.rglob("*") if p.is_file()]
    size = sum(p.stat().st_size for p in files) / 1e6
    print(f"{name}: {len(files)} files, {size:.1f} MB", flush=True)
    out = work / f"{name}.zarr"
    run(name, "first ingest", src, out, corpus, cfg)
    run(name, "re-run at once", src, out, corpus, cfg)
    oldest = min(max(p.stat().st_mtime_ns, p.stat().st_ctime_ns) for p in files)
    every: Callable[[], int] = lambda: oldest + 10**8  # noqa: E731  (every stamp racy)
    none: Callable[[], int] = lambda: time.time_ns() + HOUR  # noqa: E731
    racy_stamps.clock = every
    for _ in range(3):
        (out / "_eegprep" / "seen.json").unlink(missing_ok=True)
        run(name, "re-run, every file racy", src, out, corpus, cfg)
    racy_stamps.clock = none
    run(name, "re-run, none racy (noted)", src, out, corpus, cfg)
    for _ in range(3):
        run(name, "re-run, every file vouched", src, out, corpus, cfg)
    for _ in range(2):
        for label, clock in (("every file racy", every), ("none racy", none)):
            racy_stamps.clock = clock
            fresh = work / f"{name}-first.zarr"
            shutil.rmtree(fresh, ignore_errors=True)
            run(name, f"first ingest, {label}", src, fresh, corpus, cfg)
    racy_stamps.clock = time.time_ns


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=1000, help="EDF files of the second corpus")
    parser.add_argument("--keep", type=Path, help="work folder to keep (default: a temporary one)")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="racy-rerun-"))
    try:
        demo = write_demo_corpus(work / "demo", corpus="tuh")
        measure("demo", demo, "tuh", IngestConfig(workers=0, progress=False), work)
        edf = write_files(work / "edf", args.files)
        cfg = IngestConfig(workers=0, progress=False, mains=60.0)
        measure(f"edf{args.files}", edf, "folder", cfg, work)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
