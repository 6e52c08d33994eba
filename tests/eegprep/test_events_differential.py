"""Events across readers, adversarially: each case writes a file as its system writes it,
ingests it and compares the stored events (or the one-line refusal) with the format's own
definition. Companion of ``test_event_times_differential.py``, whose writers it reuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from eegprep import open_store
from eegprep.ingestion.driver import ingest
from tests.eegprep.test_event_times_differential import (
    GDF_HZ,
    SERIAL,
    _assert_same,
    _gdf,
    _mne,
    _set,
    _stored,
    _table,
)


@pytest.mark.parametrize("durations", [[-5.0], [0.0, -1.0, -2.0]])
def test_eeglab_negative_duration_is_refused_naming_the_event(
    tmp_path: Path, durations: list[float]
) -> None:
    """The event rule refuses a negative duration naming the event; MNE's bare AssertionError
    was said as "MNE cannot read this EEGLAB file ... check it is complete"."""
    events = [(f"e{i}", 100.0 + 50 * i, d) for i, d in enumerate(durations)]
    path = _set(tmp_path / "src" / "r.set", events)
    rep = ingest("folder", src=path.parent, out=tmp_path / "s.zarr", config=SERIAL)
    assert rep.n_ingested == 0 and len(rep.failed) == 1, rep.failed
    line = str(rep.failed[0])
    first = next(i for i, d in enumerate(durations) if d < 0)
    assert "\n" not in line and "check it is complete" not in line, line
    assert f"EEG.event({first + 1})" in line and f"'e{first}'" in line, line
    assert "negative duration" in line, line


@pytest.mark.parametrize("latency", [-3.0, -0.75, -250.0])
def test_eeglab_event_before_the_first_sample_is_dropped_or_cut(
    tmp_path: Path, latency: float
) -> None:
    """An EEGLAB latency below 0.5 lies before the first sample (latency 1 is sample 0): the
    event rule drops one wholly there and cuts one reaching in, the file ingests. MNE refused
    the whole file for a latency under -0.5 ("event sample index is negative"), and eegprep
    said so, "check it is complete"; one at latency 0 it dropped."""
    sfreq, span = 250.0, 20.0 - latency  # (the long event ends 20 samples after latency 0)
    events = [("early", latency, 0.0), ("long", latency, span), ("later", 11.0, 0.0)]
    path = _set(tmp_path / "src" / "r.set", events)
    out = tmp_path / "s.zarr"
    rep = ingest("folder", src=path.parent, out=out, config=SERIAL)
    assert rep.failed == [] and rep.n_ingested == 1, rep.failed
    (rec,) = open_store(out).recordings
    got = [(e.label, e.onset, e.duration) for e in rec.events]
    end = (latency - 1 + span) / sfreq  # the long event's end, from the first sample
    assert [g[0] for g in got] == ["long", "later"], got
    assert got[0][1] == 0.0 and abs(got[0][2] - end) <= 0.5 / 200, got
    assert abs(got[1][1] - 10 / sfreq) <= 0.5 / 200, got


@pytest.mark.parametrize("version", ["GDF 1.25", "GDF 2.20"])
@pytest.mark.parametrize("mode", [1, 3])
@pytest.mark.parametrize("rate", [1000.0, 500.0])
def test_gdf_event_at_the_end_is_kept_whatever_the_table_rate(
    tmp_path: Path, version: str, mode: int, rate: float
) -> None:
    """An event at the end of the samples (position ``n + 1`` at the samples' rate) is kept at
    the end, as MNE keeps it from a table at the samples' rate, whatever rate the table is
    at: a table at another rate, timed by eegprep, dropped it as past the end."""
    k = rate / GDF_HZ
    rows = [(1, 3, 0), (5 * GDF_HZ + 1, 5, 0), (5 * GDF_HZ - 9, 6, 20)]  # (5 records of 1 s)
    scaled = [(int(k * (p - 1)) + 1, t, int(k * d)) for p, t, d in rows]
    path = _gdf(tmp_path / "src" / "r.gdf", version, _table(version, rate, scaled, mode))
    same = _gdf(tmp_path / "ref" / "r.gdf", version, _table(version, GDF_HZ, rows, mode))
    ref = _mne(same)
    assert ref[-1][:1] == (5.0,) and ref[-1][2] == "5", ref  # (MNE keeps it, at the end)
    _assert_same(_stored(path), ref, GDF_HZ)
