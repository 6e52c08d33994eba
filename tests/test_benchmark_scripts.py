"""Each benchmark script that docs/benchmarks.md quotes, run at its smallest size, still prints a
measurement: finite positive numbers in every row, the ratio where the docs quote one. A product
check that refuses a script's synthetic inputs (benchmarks/store_opens.py printed ``null`` for
days) fails here, not silently in the next measurement."""

from __future__ import annotations

import importlib.util
import json
import math
import re
import struct
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NUMBER = r"[0-9][0-9.,]*"


def _run(script: str, *args: str, timeout: int = 120) -> str:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), *args],
        capture_output=True, text=True, timeout=timeout, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _positive(*values: object) -> None:
    for v in values:
        number = float(str(v).replace(",", ""))
        assert math.isfinite(number) and number > 0, values


def _leaves(tree: object) -> list[object]:
    if isinstance(tree, dict):
        return [leaf for v in tree.values() for leaf in _leaves(v)]
    return [tree]


@pytest.mark.slow
def test_held_sweep_prints_the_cost_of_both_sweeps() -> None:
    out = _run("held_sweep.py", "--calls", "200")
    for row in ("nothing to sweep", "20 live folders"):
        got = re.search(rf"{row}: CPU ({NUMBER}) us, wall ({NUMBER}) us", out)
        assert got, out
        _positive(*got.groups())


@pytest.mark.slow
def test_transform_contention_prints_each_round_and_the_worst_slowdown() -> None:
    out = _run("transform_contention.py", "--rounds", "2", "--rows", "2", "--samples", "20000",
               "--repeat", "40")  # fmt: skip
    rounds = re.findall(rf"^(\d+) +({NUMBER}) +({NUMBER}) ({NUMBER}) +({NUMBER})$", out, re.M)
    assert [r[0] for r in rounds] == ["1", "2"], out
    for r in rounds:
        _positive(*r[1:])
    worst = re.search(rf"worst slowdown ({NUMBER}): .* at most ({NUMBER})x", out)
    assert worst, out
    _positive(*worst.groups())


@pytest.mark.slow
def test_finite_check_times_the_index_and_the_check_with_and_without_qc() -> None:
    result = json.loads(_run("finite_check.py", "--recordings", "2", "--seconds", "60"))
    assert set(result) == {"with_qc", "without_qc"}, result
    for row in result.values():
        assert row["recordings"] == 2 and row["windows"] > 0, row
        _positive(row["hours"], row["index_s"], row["check_s"])


@pytest.mark.slow
def test_mne_opens_times_naming_headers_and_ingests_both_ways() -> None:
    result = json.loads(_run("mne_opens.py", "--recordings", "2", "--rounds", "2"))
    assert set(result) == {"bv", "set"}, result
    for corpus in result.values():
        assert set(corpus) == {"checked paths", "held descriptors"}, corpus
        for way in corpus.values():
            assert set(way) == {"names_ms", "header_ms", "ingest_s"}, way
            _positive(*_leaves(way))


@pytest.mark.slow
def test_event_counts_ingests_each_format_and_refuses_one_over_the_bound() -> None:
    from eegprep.readers.event_count import MAX_EVENTS

    over = MAX_EVENTS + 1
    formats = ["edf", "gdf", "vhdr", "set", "tuh-csv", "bids-tsv"]
    out = _run("event_counts.py", "--counts", "20", str(over), "--formats", *formats)
    rows = re.findall(rf"^(\S+) +({NUMBER}) +({NUMBER}) +({NUMBER}) +(\d+)  (.+)$", out, re.M)
    assert [(r[0], int(r[1].replace(",", ""))) for r in rows] == [
        (f, n) for n in (20, over) for f in formats
    ], out
    for _fmt, n, wall, cpu, peak, said in rows:
        _positive(wall, cpu, peak)
        if n == "20":
            assert said == "ingested", said
        else:
            assert f"the {MAX_EVENTS:,}" in said and "may store" in said, said  # refused


@pytest.mark.slow
def test_model_prints_both_paths_and_the_ratio() -> None:
    out = _run("model.py", "--size", "tiny", "--batch", "2", "--steps", "1", "--device", "cpu")
    agree = re.search(r"max \|ours - reference\| = (\S+)", out)
    assert agree and float(agree.group(1)) < 1e-3, out
    for path in ("reference, explicit attention (fp32)", "ours, SDPA (fp32)"):
        got = re.search(rf"^{re.escape(path)} +({NUMBER}) +({NUMBER}) +({NUMBER})$", out, re.M)
        assert got, out
        _positive(*got.groups())


@pytest.mark.slow
def test_racy_rerun_prints_every_run_of_both_corpora() -> None:
    out = _run("racy_rerun.py", "--files", "3")
    rows = re.findall(
        r"^(demo|edf3) (.+?) +ingested= *(\d+) current= *(\d+) checked= *(\d+) failed=(\d+) +"
        rf"({NUMBER}) s$", out, re.M,
    )  # fmt: skip
    assert len(rows) == 2 * 13, out
    for name, label, ingested, current, checked, failed, seconds in rows:
        n = 8 if name == "demo" else 3  # the demo corpus's recordings
        assert failed == "0" and int(ingested) + int(current) == n, (name, label)
        assert math.isfinite(float(seconds)), (name, label)
        if "vouched" in label:
            assert checked == "0", (name, label)
        elif label == "re-run, every file racy":  # no cache, the clock put where all are hashed
            assert int(checked) == n, (name, label)


@pytest.mark.slow
def test_ingest_scaling_prints_start_up_and_the_scaling_table() -> None:
    out = _run("ingest.py", "--scaling", "--hours", "0.05", "--repeat", "1", timeout=180)
    for label in ("dask LocalCluster (reference)", "eegprep pool"):
        got = re.search(rf"{re.escape(label)} +({NUMBER}) ", out)
        assert got, out
        _positive(got.group(1))
    rows = re.findall(rf"^([012]) +(yes|no) +{' +'.join([f'({NUMBER})'] * 6)}$", out, re.M)
    assert [r[0] for r in rows] == ["0", "1", "2"], out
    for row in rows:
        _positive(*row[2:])
    bound = re.search(rf"takes ({NUMBER}) s of the ({NUMBER}) s;.* at most ({NUMBER})x", out)
    assert bound, out
    _positive(*bound.groups())


@pytest.mark.slow
def test_bytecode_writes_current_bytecode_for_the_project() -> None:
    code = (
        "import sys; sys.path.insert(0, 'benchmarks'); import bytecode; bytecode.compile_project()"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    for source in (ROOT / "eegprep/__init__.py", ROOT / "labram/__init__.py", ROOT / "cli.py"):
        cached = Path(importlib.util.cache_from_source(str(source)))
        header = cached.read_bytes()[:16]
        assert header[:4] == importlib.util.MAGIC_NUMBER, cached
        mtime, size = struct.unpack("<II", header[8:16])
        assert (mtime, size) == (int(source.stat().st_mtime) & 0xFFFFFFFF, source.stat().st_size)
