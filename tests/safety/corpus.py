"""Small folder corpora of real-layout EDF files (written by pyedflib), for the safety tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from eegprep import open_store
from eegprep.ingestion.driver import IngestConfig, IngestReport, ingest
from tests.conftest import write_tuh_edf
from tests.file_ticks import past_the_tick

FOLDER = IngestConfig(workers=0, progress=False, mains=60.0)


def folder_config(**changes: object) -> IngestConfig:
    import dataclasses

    return dataclasses.replace(FOLDER, **changes)  # type: ignore[arg-type]


def write_edf(root: Path, rel: str, *, seconds: int = 4, seed: int = 0) -> Path:
    """A 256 Hz TUH-style EDF at ``root/rel`` (folders made), 21 EEG channels. One written
    over is written in a later tick of the file system's clock than its stamps (a rewrite of
    the same size in their tick changes none of them: tests/file_ticks.py)."""
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        past_the_tick(path)
    write_tuh_edf(path, sfreq=256.0, seconds=seconds, seed=seed, extra=())
    return path


def ingest_folder(src: Path, out: Path, **changes: object) -> IngestReport:
    """Ingest ``src`` as the generic ``folder`` corpus (mains 60 Hz, in this process)."""
    return ingest("folder", src=src, out=out, config=folder_config(**changes))


def built_store(root: Path, recordings: int = 2) -> Path:
    """``root``/src holding ``recordings`` EDF files (``r0.edf``, ... of seeds 0, ...) and
    ``root``/s.zarr ingested from it; returns ``root``."""
    for i in range(recordings):
        write_edf(root / "src", f"r{i}.edf", seed=i)
    ingest_folder(root / "src", root / "s.zarr")
    return root


def segmented_store(root: Path, last: int = 1) -> Path:
    """``root``/s.zarr of three index segments, none compacted: the base lists ``r0`` and
    ``r1``, segment 2 ``r0``'s second version (seed 7), segment 3 the ``last`` recordings
    ``r2``, ... (seeds 2, ...); returns ``root``."""
    src, out = root / "src", root / "s.zarr"
    built_store(root)
    with pytest.MonkeyPatch.context() as mp:  # later segments, not compacted
        mp.setattr("eegprep.store.writer.compact", lambda loc: None)
        write_edf(src, "r0.edf", seed=7)
        ingest_folder(src, out)
        for i in range(2, 2 + last):
            write_edf(src, f"r{i}.edf", seed=i)
        ingest_folder(src, out)
    names = sorted(p.name for p in (out / "_eegprep" / "index").glob("*.jsonl"))
    assert names == [f"{n:010d}.jsonl" for n in (1, 2, 3)], names
    return root


def files_under(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` with its bytes (relative posix path -> bytes)."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def copy_of(built: Path, tmp_path: Path) -> Path:
    """A copy of the folder ``built`` (links kept as links) at ``tmp_path/c``, for one test to
    damage: a module-scoped corpus and store are built once and copied per test."""
    shutil.copytree(built, tmp_path / "c", symlinks=True)
    return tmp_path / "c"


def store_values(out: Path, *targets: tuple[str, str]) -> dict[str, np.ndarray]:
    """Every listed recording's samples (``(channels, samples)``) by id, and each target series
    ``(recording id, name)`` of ``targets`` under the key ``"ID/NAME"``."""
    s = open_store(out)
    got = {r.id: s.read(r.id) for r in s}
    for rec, name in targets:
        got[f"{rec}/{name}"] = s.read_target(rec, name)
    return got


def flipped(blob: bytes, at: int) -> bytes:
    """``blob`` with one bit (0x08) of its byte ``at`` flipped: bit rot of one file."""
    changed = bytearray(blob)
    changed[at] ^= 0x08
    return bytes(changed)
