"""Same bytes, same losses: the demo job under an older revision and under this checkout.

    python benchmarks/same_results.py 23a8537 [--max-steps 12]

Runs ``eegprep demo`` -> ``eegprep ingest tuh --workers 0`` -> ``labram pretrain --size tiny
--max-steps N --tokenizer-max-steps N`` (``--max-steps N``, 12 by default, caps both stages:
pretrain's own ``--max-steps`` caps the masked-modelling stage alone) twice, once with the code
of REV (a temporary git worktree) and once with this checkout's, each in a fresh process from
its own tree, then compares:

- every object of the two stores, byte for byte (ingest reports, the lock and the retired list
  hold times, and are left out); where a JSON object differs only in the sources' modification
  times (``source_mtime_ns``: the demo files were written at different moments) it counts as
  the same, and so do the writer's file stamps (``_eegprep/seen.json``: each source file's
  mtime, ctime and inode, and the CRC over them; only the entries both sides hold are compared,
  since files written seconds before an ingest are not noted) and an index segment's fields
  file (``.fields``) that differs only in the digest of its segment (whose lines hold those
  times);
- every row of each stage's ``log.csv``, every column but ``tokens_per_s`` (a speed) and
  ``row_crc32`` (each row's checksum, which covers that speed).

Prints one line per comparison and exits 1 when anything differs. For a refactor that must not
change results (docs/architecture.md); a few minutes on a laptop CPU.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SKIP = ("_eegprep/reports", "_eegprep/lock", "_eegprep/retired.json")
VOLATILE = {"source_mtime_ns", "mtime_ns"}
SEEN = "_eegprep/seen.json"  # each source file as [path, size, mtime_ns, ctime_ns, inode]
FIELDS = ".fields"  # MessagePack [format, base_size, base_blake3, ...] + CRC-32C (4 bytes)


MAX_STEPS = 12
"""The default cap on each pre-training stage's optimiser steps (``--max-steps``)."""


def run_job(tree: Path, out: Path, max_steps: int = MAX_STEPS) -> None:
    """The demo job with ``tree``'s code (its cli.py, eegprep and labram come first), each
    pre-training stage (tokenizer, masked modelling) stopped after ``max_steps`` steps."""

    def cli(group: str, *args: str) -> None:
        code = f"import sys; sys.argv = ['{group}', *sys.argv[1:]]; import cli; cli.{group}_cli()"
        subprocess.run(
            [sys.executable, "-c", code, *args], cwd=tree, check=True, capture_output=True
        )

    cli("eegprep", "demo", "--out", str(out / "demo"))
    cli("eegprep", "ingest", "tuh", "--src", str(out / "demo" / "tuh"),
        "--out", str(out / "demo.zarr"), "--workers", "0")  # fmt: skip
    cli("labram", "pretrain", "--store", str(out / "demo.zarr"), "--size", "tiny",
        "--out", str(out / "runs"), "--max-steps", str(max_steps),
        "--tokenizer-max-steps", str(max_steps))  # fmt: skip


def _without_volatile(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_volatile(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [_without_volatile(v) for v in value]
    return value


def _seen_without_stamps(blob: bytes | None) -> dict[str, Any]:
    """``seen.json``'s entries with each file's path and size only, and no ``window_ns`` (an
    older revision's entries have none; none for a missing file)."""
    doc = json.loads(blob) if blob is not None else {}
    for entry in doc.get("recordings", {}).values():
        entry["files"] = [f[:2] for f in entry.get("files", [])]
        entry.pop("window_ns", None)  # (in the form since racy stamps were handled, no other)
    return {"version": doc.get("version", 1), **doc.get("recordings", {})}  # (ids hold a "/")


def _same_seen(a: bytes | None, b: bytes | None) -> bool:
    """Whether the entries both ``seen.json`` hold agree. Which recordings each holds depends on
    how soon after the demo was written its ingest began (files stamped seconds before are racy,
    and not noted), so an entry on one side only, or no file, is no difference."""
    old, new = _seen_without_stamps(a), _seen_without_stamps(b)
    return all(old[k] == new[k] for k in old.keys() & new.keys())


def _fields_without_digest(blob: bytes) -> Any:
    """A fields file's columns without its base segment's digest (format 1), else its bytes."""
    import msgspec  # eegprep's dependency: this benchmark runs in its environment

    try:
        columns = msgspec.msgpack.decode(blob[:-4])
    except msgspec.DecodeError:
        return blob
    if not isinstance(columns, list) or columns[:1] != [1]:
        return blob
    return [v for i, v in enumerate(columns) if i != 2]


def _same_object(a: bytes, b: bytes, rel: str = "") -> bool:
    if a == b:
        return True
    if rel == SEEN:
        return _same_seen(a, b)
    if rel.endswith(FIELDS):
        return _fields_without_digest(a) == _fields_without_digest(b)
    try:
        return _without_volatile(json.loads(a)) == _without_volatile(json.loads(b))
    except ValueError:  # an index segment: JSON lines
        try:
            rows_a = [json.loads(line) for line in a.splitlines() if line.strip()]
            rows_b = [json.loads(line) for line in b.splitlines() if line.strip()]
        except ValueError:
            return False
        return _without_volatile(rows_a) == _without_volatile(rows_b)


def compare_stores(old: Path, new: Path) -> list[str]:
    """The store objects that differ (or exist on one side only)."""
    files = {
        str(p.relative_to(root))
        for root in (old, new)
        for p in root.rglob("*")
        if p.is_file() and not str(p.relative_to(root)).startswith(SKIP)
    }
    out = []
    for rel in sorted(files):
        a, b = old / rel, new / rel
        if rel == SEEN:
            same = _same_seen(*(p.read_bytes() if p.is_file() else None for p in (a, b)))
        else:
            same = a.is_file() and b.is_file() and _same_object(a.read_bytes(), b.read_bytes(), rel)
        if not same:
            out.append(rel)
    return out


def compare_logs(old: Path, new: Path) -> list[str]:
    """One line per stage log that differs, naming the first differing row and column."""
    out = []
    for log in sorted(old.rglob("log.csv")):
        rel = log.relative_to(old)
        rows_a = list(csv.DictReader(log.open()))
        rows_b = list(csv.DictReader((new / rel).open())) if (new / rel).is_file() else []
        if len(rows_a) != len(rows_b):
            out.append(f"{rel}: {len(rows_a)} rows against {len(rows_b)}")
            continue
        for i, (ra, rb) in enumerate(zip(rows_a, rows_b, strict=True)):
            # (each row's row_crc32 covers its tokens_per_s, the one column timing changes)
            diff = [k for k in ra if k not in ("tokens_per_s", "row_crc32") and ra[k] != rb.get(k)]
            if diff:
                out.append(f"{rel}: row {i + 1} differs in {diff}")
                break
    return out


def _positive(text: str) -> int:
    """``--max-steps``'s value: a whole number of steps, at least 1."""
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of steps >= 1, got {text!r}")
    return n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("rev", help="the older revision (a commit, tag or branch)")
    ap.add_argument(
        "--max-steps",
        type=_positive,
        default=MAX_STEPS,
        metavar="N",
        help=f"stop each pre-training stage, the tokenizer's and the masked-modelling one, after "
        f"N optimiser steps (default {MAX_STEPS}); a small N makes a quick check",
    )
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="same-results-") as tmp:
        work = Path(tmp)
        tree = work / "old-tree"
        subprocess.run(["git", "worktree", "add", "-q", "--detach", str(tree), args.rev],
                       cwd=REPO, check=True)  # fmt: skip
        try:
            run_job(tree, work / "old", args.max_steps)
            run_job(REPO, work / "new", args.max_steps)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=REPO)
        stores = compare_stores(work / "old" / "demo.zarr", work / "new" / "demo.zarr")
        logs = compare_logs(work / "old" / "runs", work / "new" / "runs")
        n_objects = sum(1 for p in (work / "new" / "demo.zarr").rglob("*") if p.is_file())
        n_logs = len(list((work / "new" / "runs").rglob("log.csv")))
    print(f"store objects: {n_objects}, differing: {len(stores)} {stores[:5]}")
    print(f"training logs: {n_logs}, differing: {len(logs)} {logs[:3]}")
    print("same results" if not stores and not logs else "RESULTS DIFFER")
    sys.exit(1 if stores or logs else 0)


if __name__ == "__main__":
    main()
