"""Store opens per `labram pretrain`, and the time to its first batch.

Writes two index-only stores of ``--recordings`` 20-s TUH-like recordings each (records only,
no samples: the run is stopped when it asks for its first batch), the second sharing half of
the first's source files, then runs ``labram pretrain --size tiny --max-steps 1`` on both in a
fresh process and prints, as JSON, how many times each store was opened
(``eegprep.store.reader.open_store``, wherever it was imported) and the seconds from the
command's start to its first batch read. The check of the windows' samples before training
(:func:`labram.data.finite_windows.bad_recordings`), which reads each recording's group, is
left out: these stores have none (it refused them all, and no batch was read).

Run: ``python benchmarks/store_opens.py [--recordings 100000]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

SITES = "FP1 FP2 F3 F4 C3 C4 P3 P4 O1 O2 F7 F8 T3 T4 T5 T6 A1 A2 FZ CZ PZ T1 T2".split()


def write_store(url: Path, first: int, last: int, corpus: str) -> None:
    """An index-only store of recordings ``first`` .. ``last - 1`` (source digest: the
    number), 20 s at 200 Hz, split ``train``."""
    from eegprep.pipeline.recipe import Recipe
    from eegprep.store.index import append, compact
    from eegprep.store.writer import StoreWriter
    from eegprep.testing.records import hand_record

    rows = [
        hand_record(f"{corpus}/r{i:06d}", SITES, 4000, subject=f"s{i // 10:05d}",
                    subject_key=f"big:s{i // 10:05d}", source_blake3=f"{i:064x}", split="train")
        for i in range(first, last)
    ]  # fmt: skip
    with StoreWriter(str(url), Recipe()) as w:
        for k in range(0, len(rows), 10_000):
            append(w.loc, rows[k : k + 10_000])
        compact(w.loc)


class _FirstBatch(Exception):
    """Raised at the first batch read: what follows is training, not start-up."""


def measure(stores: list[str], out: str) -> dict[str, Any]:
    """Run the command in this process, counting opens, until its first batch."""
    import eegprep.store.reader as reader
    from cli import labram_cli
    from labram.data import finite_windows
    from labram.data.block_reader import BlockReader

    original = reader.open_store
    opens: dict[str, int] = {}

    def counted(url: Any) -> Any:
        name = Path(os.fspath(url).rstrip("/")).name
        opens[name] = opens.get(name, 0) + 1
        return original(url)

    for module in list(sys.modules.values()):
        if getattr(module, "open_store", None) is original:
            module.open_store = counted  # type: ignore[attr-defined]
    first: list[float] = []

    def fill(self: Any, *args: Any, **kwargs: Any) -> None:
        first.append(time.perf_counter())
        raise _FirstBatch

    BlockReader.fill = fill  # type: ignore[method-assign]
    # The check of every window's samples before training (finite, not too loud) reads each
    # recording's group, which these index-only stores do not have: it is left out here.
    finite_windows.bad_recordings = lambda *a, **k: ([], [])  # type: ignore[assignment]
    args = ["pretrain", *(x for s in stores for x in ("--store", s)), "--size", "tiny",
            "--max-steps", "1", "--batch-size", "4", "--device", "cpu", "--out", out]  # fmt: skip
    t0 = time.perf_counter()
    try:
        labram_cli.main(args, standalone_mode=False)
    except BaseException:  # the stop at the first batch (OneLineErrors: a SystemExit)
        pass
    return {"opens": opens, "seconds_to_first_batch": round(first[0] - t0, 2) if first else None}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--recordings", type=int, default=100_000)
    ap.add_argument("--measure", nargs="+", help=argparse.SUPPRESS)  # (the fresh process)
    args = ap.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure[:-1], args.measure[-1])))
        return
    work = Path(tempfile.mkdtemp(prefix="labram-opens-"))
    try:
        n = args.recordings
        write_store(work / "a.zarr", 0, n, "big")
        write_store(work / "b.zarr", n // 2, n + n // 2, "other")
        stores = [str(work / "a.zarr"), str(work / "b.zarr"), str(work / "run")]
        root = str(Path(__file__).resolve().parent.parent)  # where cli.py is
        path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)
        done = subprocess.run(
            [sys.executable, __file__, "--measure", *stores],
            capture_output=True, text=True, check=True, env={**os.environ, "PYTHONPATH": path},
        )  # fmt: skip
        print(done.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
