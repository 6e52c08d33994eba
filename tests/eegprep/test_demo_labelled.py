"""Labelled TUAB/TUEV demo corpora: real layouts, planted class signal, reproducible bytes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from eegprep import open_store
from eegprep.ingestion.driver import IngestConfig, ingest
from eegprep.testing.demo import write_demo_corpus

SERIAL = IngestConfig(workers=0, progress=False)


def _band(x: np.ndarray, lo: float, hi: float) -> float:
    f = np.fft.rfftfreq(x.shape[-1], 1 / 200)
    p = np.abs(np.fft.rfft(x, axis=-1)) ** 2
    return float(p[:, (f >= lo) & (f < hi)].mean())


@pytest.mark.parametrize("corpus", ["tuab", "tuev"])
def test_demo_is_reproducible_and_ingests(corpus: str, tmp_path: Path) -> None:
    a = write_demo_corpus(tmp_path / "a", corpus=corpus, n_subjects=1, minutes=0.5, seed=3)
    b = write_demo_corpus(tmp_path / "b", corpus=corpus, n_subjects=1, minutes=0.5, seed=3)
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert all((a / f).read_bytes() == (b / f).read_bytes() for f in files)
    rep = ingest(corpus, src=a, out=tmp_path / "s.zarr", config=SERIAL)
    assert rep.failed == [] and rep.unmatched == [] and rep.n_ingested == rep.n_files
    recs = open_store(tmp_path / "s.zarr").recordings
    assert {r.split for r in recs} == {"train", "eval"}
    assert all(len(r.channels) == 23 for r in recs)


def test_tuab_demo_abnormal_has_more_delta_less_alpha(tmp_path: Path) -> None:
    root = write_demo_corpus(tmp_path, corpus="tuab", n_subjects=1, minutes=0.5, seed=0)
    ingest("tuab", src=root, out=tmp_path / "s.zarr", config=SERIAL)
    s = open_store(tmp_path / "s.zarr")
    ratio: dict[int, list[float]] = {0: [], 1: []}
    for r in s.recordings:
        x = s.read(r.id)
        ratio[r.labels["abnormal"]].append(_band(x, 2, 4) / _band(x, 8, 12))
    assert len(ratio[0]) == len(ratio[1]) == 4
    assert min(ratio[1]) > max(ratio[0])


def test_tuev_demo_events_cover_every_class(tmp_path: Path) -> None:
    root = write_demo_corpus(tmp_path, corpus="tuev", n_subjects=1, minutes=1.0, seed=0)
    assert sorted(p.name for p in (root / "edf/eval").rglob("*.edf"))[0].endswith("_a_.edf")
    ingest("tuev", src=root, out=tmp_path / "s.zarr", config=SERIAL)
    events = [e for r in open_store(tmp_path / "s.zarr").recordings for e in r.events]
    assert {e.label for e in events} == {"spsw", "gped", "pled", "eyem", "artf", "bckg"}
    assert all(e.duration == 1.0 and e.onset >= 2.0 for e in events)
