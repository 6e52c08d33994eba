"""How much two processes running the ingest's transforms slow each other on this machine.

The ingest's filters are ducc0's float32 real transforms (``eegprep.pipeline.preprocess``), a
few rows at a time. This script times the same work (``--rows`` rows of ``--samples`` samples,
forward then inverse, ``--repeat`` times) in one worker process alone, then in two worker
processes at once, several rounds in a row, and prints each process's time against the lone
one's. A slowdown of ``s`` caps what ``--workers 2`` can reach on transform-bound work at
``2 / s`` (no serial part, no other work): the ceiling of ``benchmarks/ingest.py --scaling``'s
2-worker row on this machine.

Run: ``python benchmarks/transform_contention.py [--rounds 4] [--rows 8] [--samples 75000]
[--repeat 400]``
"""

from __future__ import annotations

import argparse
import os
import time
from multiprocessing import get_context

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"


def transforms(rows: int, samples: int, repeat: int) -> float:
    """Seconds for ``repeat`` forward and inverse real transforms of ``rows`` x ``samples``
    float32 samples, one thread, as the ingest runs them."""
    import ducc0
    import numpy as np

    x = np.random.default_rng(0).standard_normal((rows, samples)).astype(np.float32)
    t0 = time.perf_counter()
    for _ in range(repeat):
        spectrum = ducc0.fft.r2c(x, axes=(1,), nthreads=1)
        ducc0.fft.c2r(spectrum, axes=(1,), lastsize=samples, forward=False, inorm=2, nthreads=1)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=4, help="rounds of one, then two processes")
    ap.add_argument("--rows", type=int, default=8, help="rows transformed together")
    ap.add_argument("--samples", type=int, default=75_000, help="samples per row")
    ap.add_argument("--repeat", type=int, default=400, help="transforms per timing")
    args = ap.parse_args()
    work = (args.rows, args.samples, args.repeat)
    with get_context("spawn").Pool(2) as pool:
        pool.starmap(transforms, [(args.rows, args.samples, 1)] * 2)  # imports, first pages
        print(f"{'round':<7}{'one alone s':>13}{'two at once s':>17}{'slowdown':>10}")
        worst = 0.0
        for r in range(args.rounds):
            one = pool.apply(transforms, work)
            two = pool.starmap(transforms, [work, work])
            slow = max(two) / one
            worst = max(worst, slow)
            print(f"{r + 1:<7}{one:>13.2f}{f'{two[0]:.2f} {two[1]:.2f}':>17}{slow:>10.2f}")
    print(f"\nworst slowdown {worst:.2f}: two transform-bound workers reach at most "
          f"{2 / worst:.2f}x one on this machine")  # fmt: skip


if __name__ == "__main__":
    main()
