"""What the sweep of held folders left by killed processes costs at each ingest's start
(eegprep/base/held_leftovers.py): CPU and wall microseconds per call of
``held_files.sweep_left()``, with nothing to sweep, then with 20 live folders of this process
in the root (docs/benchmarks.md, section 11).

Run: ``python benchmarks/held_sweep.py [--calls 5000]``.
"""

from __future__ import annotations

import argparse
import os
import time

from eegprep.base import held_files


def per_call(calls: int) -> tuple[float, float]:
    """Microseconds of CPU and of wall time per sweep, over ``calls`` sweeps."""
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(calls):
        held_files.sweep_left()
    return (time.process_time() - cpu) / calls * 1e6, (time.perf_counter() - wall) / calls * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=5000, help="sweeps per row")
    args = ap.parse_args()
    root = held_files._root() or "(the temporary folder)"
    print(f"root {root}, {len(os.listdir(root)) if os.path.isdir(root) else '?'} entries")
    print("nothing to sweep: CPU {:.1f} us, wall {:.1f} us".format(*per_call(args.calls)))
    held = [held_files.HeldFiles() for _ in range(20)]
    try:
        print("20 live folders: CPU {:.1f} us, wall {:.1f} us".format(*per_call(args.calls)))
    finally:
        for h in held:
            h.__exit__(None, None, None)


if __name__ == "__main__":
    main()
