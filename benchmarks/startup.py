"""Start-up cost of the commands: CPU seconds before the first file, against MNE's script.

Every row is a fresh process, run ``--repeat`` times; the CPU time (user + system, of the
process and every child it waited for) is reported as the fastest run and the range. Rows:

- ``python -c pass``: the interpreter alone (the floor);
- ``eegprep --version``, ``labram --help``, ``labram pretrain --help``: the console scripts;
- ``eegprep ingest``, up to the first file: the console script run on a one-file corpus (a
  3-minute 23-channel EDF in the TUH layout) with a probe that reads the process's CPU time when
  the first file's task starts (``eegprep.ingestion.driver.run_task``; default options, so the pool
  decision is in the figure);
- ``eegprep ingest``, the whole command on that corpus (so the first file's own imports, scipy
  and MNE's filter design among them, are in this row and not in the one above);
- ``labram pretrain``, up to its first step: the console script on a store of the demo corpus
  (``--size tiny``), probed when the first batch has arrived and the first step starts
  (``labram.train.loop.lr_at``); beside it the floor any torch training script pays: ``import
  torch`` and one ``torch.optim.AdamW`` (whose first construction imports ``torch._dynamo``,
  ~0.8 s);
- reference: the MNE script of ``benchmarks/ingest.py`` (LaBraM's recipe) on the same corpus, up
  to its first file (imports of h5py and mne, the HDF5 file opened; probe at the first
  ``mne.io.read_raw_edf``) and whole.

The ratio column divides by the MNE script's start-up (up to its first file). The project's
bytecode is compiled first, as ``pip install`` does (``benchmarks/bytecode.py``: where Python
may not write it, every run would compile each module again).

Run: ``python benchmarks/startup.py [--repeat 5]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import runpy
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TARGET_CPU_S = 0.5  # issue 17: eegprep ingest before its first file


def script(name: str) -> str:
    """The console script ``name`` of this environment (beside the interpreter)."""
    path = shutil.which(name, path=os.path.dirname(sys.executable)) or shutil.which(name)
    if path is None:
        raise SystemExit(f"no `{name}` console script: pip install -e . first")
    return path


def write_corpus(root: Path) -> None:
    """One 3-minute, 23-channel, 256 Hz EDF in the TUH layout."""
    sys.path.insert(0, str(HERE))
    import ingest as bench  # benchmarks/ingest.py

    bench.PLAN = [(23, 256)]
    bench.write_corpus(root, hours=0.05)


def cpu_of(cmd: list[str]) -> tuple[float, str]:
    """CPU seconds (user + system) of ``cmd`` and its waited-for children, and its stderr."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(cmd, capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stderr}")
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return cpu, done.stderr


def probe_cpu(stderr: str) -> float:
    """The CPU seconds a ``--child`` probe printed."""
    lines = [ln for ln in stderr.splitlines() if ln.startswith("PROBE ")]
    if not lines:
        raise SystemExit(f"the probe did not fire:\n{stderr}")
    return float(lines[0].split()[1])


def _cpu_now() -> float:
    """CPU seconds of this process and its waited-for children so far."""
    me, kids = (resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def child_ingest(argv: list[str]) -> None:
    """Run the ``eegprep`` console script with a probe at the first file's task."""
    import eegprep.ingestion.driver as ing

    real = ing.run_task
    fired: list[bool] = []

    def probe(task):  # type: ignore[no-untyped-def]
        if not fired:
            fired.append(True)
            print(f"PROBE {_cpu_now():.4f}", file=sys.stderr, flush=True)
        return real(task)

    ing.run_task = probe
    sys.argv = ["eegprep", *argv]
    runpy.run_path(script("eegprep"), run_name="__main__")


def child_labram(argv: list[str]) -> None:
    """Run the ``labram`` console script with a probe when its first step starts."""
    import labram.train.loop as loop

    real = loop.lr_at

    def probe(*args, **kw):  # type: ignore[no-untyped-def]
        print(f"PROBE {_cpu_now():.4f}", file=sys.stderr, flush=True)
        os._exit(0)

    loop.lr_at = probe
    del real
    sys.argv = ["labram", *argv]
    runpy.run_path(script("labram"), run_name="__main__")


TORCH_FLOOR = (
    "import resource, sys, torch; torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))]); "
    "r = resource.getrusage(resource.RUSAGE_SELF); "
    "print(f'PROBE {r.ru_utime + r.ru_stime:.4f}', file=sys.stderr)"
)
"""What any torch training script runs before its first step, the import and an optimizer,
probed before it exits (torch's own teardown costs another ~0.5 CPU s)."""


def demo_store(work: Path) -> Path:
    """The demo corpus ingested into a store under ``work`` (untimed)."""
    corpus, store = work / "demo", work / "demo.zarr"
    ingest = ["ingest", "tuh", "--src", str(corpus / "tuh"), "--out", str(store), "--workers", "0"]
    for argv in (["demo", "--out", str(corpus)], ingest):
        subprocess.run([script("eegprep"), "-q", *argv], check=True, capture_output=True)
    return store


def child_mne(corpus: Path, out: Path, probe: bool) -> None:
    """The MNE script of ``benchmarks/ingest.py`` with a probe at its first file."""
    sys.path.insert(0, str(HERE))
    import ingest as bench

    if probe:
        import mne

        read = mne.io.read_raw_edf  # what the script calls first for each file

        def first(*args, **kw):  # type: ignore[no-untyped-def]
            print(f"PROBE {_cpu_now():.4f}", file=sys.stderr, flush=True)
            os._exit(0)

        mne.io.read_raw_edf = first
        del read
    bench.reference(sorted(corpus.rglob("*.edf")), out)


def measure(label: str, make_cmd, repeat: int, probed: bool = False) -> tuple[str, list[float]]:  # type: ignore[no-untyped-def]
    runs = []
    for _ in range(repeat):
        cpu, err = cpu_of(make_cmd())
        runs.append(probe_cpu(err) if probed else cpu)
    return label, runs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5, help="runs per row; the fastest counts")
    ap.add_argument(
        "--child", choices=("ingest", "labram", "mne", "mne-probe"), help=argparse.SUPPRESS
    )
    ap.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child == "ingest":
        return child_ingest(args.rest)
    if args.child == "labram":
        return child_labram(args.rest)
    if args.child in ("mne", "mne-probe"):
        return child_mne(Path(args.rest[0]), Path(args.rest[1]), args.child == "mne-probe")
    from bytecode import compile_project

    compile_project()
    work = Path(tempfile.mkdtemp(prefix="eegprep-startup-"))
    try:
        write_corpus(work / "corpus")
        store = work / "s.zarr"

        def ingest_cmd(probe: bool):  # type: ignore[no-untyped-def]
            def cmd() -> list[str]:
                shutil.rmtree(store, ignore_errors=True)
                argv = ["ingest", "tuh", "--src", str(work / "corpus"), "--out", str(store)]
                if probe:
                    return [sys.executable, __file__, "--child", "ingest", *argv]
                return [script("eegprep"), *argv]

            return cmd

        demo = demo_store(work)

        def labram_cmd() -> list[str]:
            runs = work / "runs"
            shutil.rmtree(runs, ignore_errors=True)
            argv = ["pretrain", "--store", str(demo), "--size", "tiny", "--out", str(runs)]
            return [sys.executable, __file__, "--child", "labram", *argv]

        def mne_cmd(probe: bool):  # type: ignore[no-untyped-def]
            kind = "mne-probe" if probe else "mne"
            h5 = work / "labram.h5"
            return lambda: [
                sys.executable,
                __file__,
                "--child",
                kind,
                str(work / "corpus"),
                str(h5),
            ]

        rows = [
            measure("python -c pass", lambda: [sys.executable, "-c", "pass"], args.repeat),
            measure("eegprep --version", lambda: [script("eegprep"), "--version"], args.repeat),
            measure("labram --help", lambda: [script("labram"), "--help"], args.repeat),
            measure(
                "labram pretrain --help",
                lambda: [script("labram"), "pretrain", "--help"],
                args.repeat,
            ),
            measure("eegprep ingest, to the first file", ingest_cmd(True), args.repeat, True),
            measure("eegprep ingest, whole (1 file, 3 min)", ingest_cmd(False), args.repeat),
            measure(
                "torch: import, one AdamW (a floor)",
                lambda: [sys.executable, "-c", TORCH_FLOOR],
                args.repeat,
                True,
            ),
            measure("labram pretrain, to its first step", labram_cmd, args.repeat, True),
            measure("MNE script, to the first file", mne_cmd(True), args.repeat, True),
            measure("MNE script, whole (1 file, 3 min)", mne_cmd(False), args.repeat),
        ]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    ref = min(dict(rows)["MNE script, to the first file"])
    print(f"\nCPU seconds (user + system), fastest of {args.repeat} fresh processes; "
          "ratio = this / MNE script to its first file")  # fmt: skip
    print(f"{'command':<40}{'CPU s':>8}{'range':>16}{'ratio':>8}")
    for label, runs in rows:
        span = f"{min(runs):.3f}-{max(runs):.3f}"
        print(f"{label:<40}{min(runs):>8.3f}{span:>16}{min(runs) / ref:>8.2f}")
    first = min(dict(rows)["eegprep ingest, to the first file"])
    verdict = "met" if first <= TARGET_CPU_S else "NOT met"
    print(f"\ntarget: eegprep ingest <= {TARGET_CPU_S} CPU s before its first file: {verdict}")
    print(f"(measured {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
