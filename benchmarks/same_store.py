"""Same store bytes: the ingest of fixed corpora under an older revision and under this checkout.

    python benchmarks/same_store.py REV [--hours 1.0] [--keep DIR]

Writes the corpora once (with this checkout's code): the mixed EDF corpus of
``benchmarks/ingest.py`` (``--hours`` of EEG, 19-64 channels at 250-1000 Hz) and the three demo
corpora (``eegprep demo --corpus tuh|tuab|tuev``). Then, once with the code of REV (a temporary
git worktree) and once with this checkout's, each command in a fresh process from its own tree,
it ingests every corpus (``--workers 0``; the mixed and the TUH demo corpus also as float32 and
float16) and runs ``eegprep validate`` on each store. Both sides read the same source files, so
every object of the two stores must be the same bytes: chunk files, ``zarr.json`` documents,
the index, the sources' stamps; only the ingest reports and the writer's lock, which hold times,
are left out.

Prints one line per store and exits 1 when a store differs or fails validation. For a change
that must not move one output byte (a faster ingest path); ~1 minute per side for 1 h.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SKIP = ("_eegprep/reports", "_eegprep/lock")  # times of day: not the ingest's output
# (store name, manifest, corpus folder under the corpora root, encoding)
JOBS = [
    ("mixed", "tuh", "mixed", "auto"),
    ("mixed-float32", "tuh", "mixed", "float32"),
    ("mixed-float16", "tuh", "mixed", "float16"),
    ("demo-tuh", "tuh", "demo/tuh", "auto"),
    ("demo-tuh-float32", "tuh", "demo/tuh", "float32"),
    ("demo-tuab", "tuab", "tuab/tuab", "auto"),
    ("demo-tuev", "tuev", "tuev/tuev", "auto"),
]


def eegprep(tree: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``eegprep ARGS`` with ``tree``'s code (its cli.py and eegprep come first on the path)."""
    code = "import sys; sys.argv = ['eegprep', *sys.argv[1:]]; import cli; cli.eegprep_cli()"
    return subprocess.run(
        [sys.executable, "-c", code, *args], cwd=tree, capture_output=True, text=True
    )


def write_corpora(root: Path, hours: float) -> None:
    """The mixed benchmark corpus and the demo corpora under ``root`` (kept if already there)."""
    if not (root / "mixed").exists():
        sys.path.insert(0, str(REPO / "benchmarks"))
        from ingest import write_corpus

        write_corpus(root / "mixed", hours)
    for corpus, folder in (("tuh", "demo"), ("tuab", "tuab"), ("tuev", "tuev")):
        if not (root / folder).exists():
            done = eegprep(REPO, "demo", "--out", str(root / folder), "--corpus", corpus)
            if done.returncode:
                raise SystemExit(f"eegprep demo --corpus {corpus} failed:\n{done.stderr}")


def ingest_all(tree: Path, corpora: Path, out: Path) -> list[str]:
    """Every job's store under ``out`` with ``tree``'s code; the problems, one line each."""
    problems = []
    for name, manifest, folder, encoding in JOBS:
        store = str(out / f"{name}.zarr")
        done = eegprep(tree, "ingest", manifest, "--src", str(corpora / folder), "--out", store,
                       "--workers", "0", "--encoding", encoding)  # fmt: skip
        if done.returncode:
            problems.append(f"{name}: ingest failed: {done.stderr.strip()[-300:]}")
            continue
        checked = eegprep(tree, "validate", store)
        if checked.returncode:
            problems.append(f"{name}: validate: {checked.stdout.strip()[-300:]}")
    return problems


def compare_stores(old: Path, new: Path) -> list[str]:
    """The objects of two stores that differ or exist on one side only, relative paths."""
    files = {
        str(p.relative_to(root))
        for root in (old, new)
        for p in root.rglob("*")
        if p.is_file() and not str(p.relative_to(root)).startswith(SKIP)
    }
    return [
        rel
        for rel in sorted(files)
        if not ((old / rel).is_file() and (new / rel).is_file())
        or (old / rel).read_bytes() != (new / rel).read_bytes()
    ]


RACY_SECONDS = 3.5
"""Seconds a source file's stamps must lie before an ingest for every run to note it alike
(eegprep's racy window is 3 s)."""


def newest_mtime(root: Path) -> float:
    """The latest modification time (s since the epoch) of the files under ``root``."""
    return max((p.stat().st_mtime for p in root.rglob("*") if p.is_file()), default=0.0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("rev", help="the older revision (a commit, tag or branch)")
    ap.add_argument("--hours", type=float, default=1.0, help="hours of EEG in the mixed corpus")
    ap.add_argument("--keep", type=Path, help="write (or reuse) the corpora here")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="same-store-") as tmp:
        work = Path(tmp)
        corpora = args.keep or work / "corpora"
        write_corpora(corpora, args.hours)
        # files written within the racy window (3 s) before an ingest are hashed again and not
        # noted in ``_eegprep/seen.json`` (eegprep.ingestion.racy_stamps): the first side would
        # write a different seen.json than the second for the same code, so both wait it out
        time.sleep(max(0.0, RACY_SECONDS - (time.time() - newest_mtime(corpora))))
        tree = work / "old-tree"
        subprocess.run(["git", "worktree", "add", "-q", "--detach", str(tree), args.rev],
                       cwd=REPO, check=True)  # fmt: skip
        try:
            problems = ingest_all(tree, corpora, work / "old")
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=REPO)
        problems += ingest_all(REPO, corpora, work / "new")
        for name, *_ in JOBS:
            old, new = work / "old" / f"{name}.zarr", work / "new" / f"{name}.zarr"
            differ = compare_stores(old, new)
            n = sum(1 for p in new.rglob("*") if p.is_file())
            print(f"{name}: {n} objects, differing: {len(differ)} {differ[:5]}")
            problems += [f"{name}: {rel} differs" for rel in differ]
    for line in problems:
        print(line)
    print("same bytes" if not problems else "STORES DIFFER")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
