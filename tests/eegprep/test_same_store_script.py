"""benchmarks/same_store.py: its comparison names every object that differs, is missing on one
side or is new, and leaves out only what holds times (the ingest reports, the lock)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _script():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("same_store", ROOT / "benchmarks/same_store.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _store(root: Path, files: dict[str, bytes]) -> Path:
    for rel, blob in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(blob)
    return root


def test_compare_stores_names_every_difference(tmp_path: Path) -> None:
    same = {"zarr.json": b"{}", "recordings/tuh/a/data/c/0/0": b"\x01\x02"}
    old = _store(tmp_path / "old", {**same, "gone.json": b"1", "_eegprep/reports/r.json": b"1"})
    new = _store(tmp_path / "new", {**same, "new.json": b"1", "_eegprep/reports/r.json": b"2"})
    (new / "recordings/tuh/a/data/c/0/0").write_bytes(b"\x01\x03")  # one byte moved
    assert _script().compare_stores(old, new) == [
        "gone.json",
        "new.json",
        "recordings/tuh/a/data/c/0/0",
    ]


def test_compare_stores_same_bytes(tmp_path: Path) -> None:
    files = {"zarr.json": b"{}", "_eegprep/lock": b"t1", "recordings/x/zarr.json": b"[]"}
    old = _store(tmp_path / "old", files)
    new = _store(tmp_path / "new", {**files, "_eegprep/lock": b"t2"})
    assert _script().compare_stores(old, new) == []
