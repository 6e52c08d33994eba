"""Promise: a sidecar's times count time as its data file's own do, so a marker both in the
file and in its sidecar is stored once, at one time, and a sidecar's own event lands on its
stored sample.

A BrainVision file that paused (``New Segment`` dates) and an EEGLAB dataset with samples cut
(``boundary`` durations) state how long their gaps are, but their own markers, MNE's time
(it puts the stretches end to end) and so mne-bids' ``events.tsv`` (MNE's onsets, and MNE's
sample in its ``sample`` column) count the samples stored. The ingest took such a sidecar for
one timed on the recording's clock and moved it back by the gaps: a marker after a gap was
stored twice (the file's at 15 s, the sidecar's at 11 s), and a sidecar's own event where the
clock had a gap was dropped as "inside a gap". Now those sidecars are not moved, and where an
``events.tsv`` has a ``sample`` column it places each row (a writer may give the ``onset`` on
the clock, BIDS' words "from the acquisition of the first data point"). An EDF+D's and a FIF's
own time counts their gaps (an EDF+D's annotations, MNE's filled-in skips), and mne-bids'
onsets and samples with them: their sidecars move as before.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from eegprep import open_store
from eegprep.corpus.sidecars import SidecarResult, load_parsers
from eegprep.ingestion.driver import IngestConfig, ingest
from eegprep.readers.mne_formats import MneReader
from eegprep.testing.fixtures.tuh import csv_v1
from tests.eegprep.test_reader_set_semantics import _write_set
from tests.eegprep.test_sidecar_gaps import (
    SEGMENTS,
    SFREQ,
    _brainvision,
    _edf_plus_d,
    ingest_one_with_target,
)

# 20 s at 250 Hz in stretches of 8, 6 and 6 s, joined at 8 s and 14 s of the samples stored;
# 4 s and 6 s of the clock lie between them (8-12 s and 18-24 s of the clock)
OWN = [(3751, "S  1"), (1001, "S  2")]  # the file's markers (1-based): at 15 s and 4 s stored
# a sidecar's own rows, on the samples stored; on the clock each lies inside a gap
EXTRA = [(10.0, 2500, "cue"), (19.0, 4750, "late")]
EXPECTED = [(4.0, "S  2"), (10.0, "cue"), (15.0, "S  1"), (19.0, "late")]


def _paused_brainvision(folder: Path, stem: str = "rec") -> str:
    markers = [f"Mk{i}=New Segment,,{p},1,0,{d}" for i, (p, d) in enumerate(SEGMENTS, 1)]
    markers += [f"Mk{4 + i}=Stimulus,{label},{p},1,0" for i, (p, label) in enumerate(OWN)]
    _brainvision(folder, stem, markers)
    return str(folder / f"{stem}.vhdr")


def _cut_eeglab(folder: Path) -> str:
    x = np.round(np.random.default_rng(6).normal(0, 25, (3, 20 * SFREQ)), 2)
    events = [("boundary", 2000.5, 1000.0), ("boundary", 3500.5, 1500.0)]
    events += [(label, float(p), 0.0) for p, label in OWN]
    return _write_set(folder, x, struct=False, events=events, name="rec")


MADE = {"brainvision": _paused_brainvision, "eeglab": _cut_eeglab}


def _mne_bids(tmp_path: Path, kind: str) -> tuple[Path, Path]:
    """The data file ``kind`` makes, as mne-bids writes it with its ``events.tsv``, and the
    sidecar's own :data:`EXTRA` rows added: (BIDS root, events.tsv)."""
    import mne
    import mne_bids

    source = MADE[kind](tmp_path / "raw")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raw = mne.io.read_raw(source, verbose="error")
        path = mne_bids.BIDSPath(subject="01", task="rest", datatype="eeg", root=tmp_path / "bids")
        mne_bids.write_raw_bids(raw, path, verbose="error")
    (tsv,) = (tmp_path / "bids").rglob("*_events.tsv")
    with tsv.open("a", encoding="utf-8") as f:
        f.writelines(f"{t}\t0.0\t{label}\tn/a\t{sample}\n" for t, sample, label in EXTRA)
    return tmp_path / "bids", tsv


def _ingest(root: Path) -> tuple[list[tuple[float, str]], list[str]]:
    """The one recording under ``root`` ingested: its events other than the join markers
    (onset s, label), and the report's lines for it."""
    config = IngestConfig(workers=0, progress=False, mains=50.0)
    report = ingest("bids", src=root, out=root.parent / "s.zarr", config=config)
    assert report.failed == []
    (rec,) = open_store(root.parent / "s.zarr").recordings
    assert rec.joins == (1600, 2800)
    events = sorted((round(e.onset, 6), str(e.label)) for e in rec.events
                    if not str(e.label).startswith(("New Segment", "boundary")))  # fmt: skip
    return events, [w for lines in report.warnings.values() for w in lines]


def _columns(tsv: Path, keep: list[str], rows: dict[str, str] | None = None) -> None:
    """Rewrite ``tsv`` with only its ``keep`` columns, each row's onset replaced by ``rows``
    (by label) where it names one."""
    lines = tsv.read_text(encoding="utf-8").splitlines()
    head = lines[0].split("\t")
    out = ["\t".join(keep)]
    for line in lines[1:]:
        cells = dict(zip(head, line.split("\t"), strict=True))
        cells["onset"] = (rows or {}).get(cells["trial_type"], cells["onset"])
        out.append("\t".join(cells[k] for k in keep))
    tsv.write_text("\n".join(out) + "\n", encoding="utf-8")


@pytest.mark.parametrize("kind", sorted(MADE))
@pytest.mark.parametrize("sample", [True, False], ids=["with-sample", "onset-only"])
def test_mne_bids_events_of_a_paused_or_cut_file_are_on_the_samples_stored(
    tmp_path: Path, kind: str, sample: bool
) -> None:
    # was: 'S  1' stored twice (the file's at 15 s, the row's moved back to 11 s), 'cue' and
    # 'late' dropped ("2 events of the sidecar inside a gap of the recording dropped")
    root, tsv = _mne_bids(tmp_path, kind)
    written = tsv.read_text(encoding="utf-8")
    assert "\n15.0\t0.0" in written or "\n15.0\t0.004" in written  # (MNE's time: stored)
    if not sample:
        _columns(tsv, ["onset", "duration", "trial_type"])
    events, said = _ingest(root)
    label = "Stimulus/{}" if kind == "brainvision" else "{}"
    expected = [(t, label.format(x) if x.startswith("S ") else x) for t, x in EXPECTED]
    assert events == expected
    assert not any("of the sidecar" in w or "at their sample" in w for w in said), said


@pytest.mark.parametrize("kind", sorted(MADE))
def test_an_events_tsv_sample_column_places_rows_whose_onset_counts_the_clock(
    tmp_path: Path, kind: str
) -> None:
    """A writer following BIDS' words gives the onset on the clock, the pauses included (the
    file's 'S  1' at 19 s, 'cue' at 14 s, 'late' at 25 s), and the sample on the file's
    samples: the sample places each row, said in one line."""
    root, tsv = _mne_bids(tmp_path, kind)
    prefix = "Stimulus/" if kind == "brainvision" else ""
    clock = {f"{prefix}S  1": "19.0", "cue": "14.0", "late": "25.0"}
    _columns(tsv, ["onset", "duration", "trial_type", "sample"], clock)
    events, said = _ingest(root)
    assert events == [(t, prefix + x if x.startswith("S ") else x) for t, x in EXPECTED]
    (line,) = [w for w in said if "at their sample" in w]
    assert line == (
        "sub-01_task-rest_events.tsv: 3 rows placed at their sample, more than one sample "
        "from their onset (the sample counts the data file's samples, which stop following on "
        f"at its joins): '{prefix}S  1' at 19 s, sample 3750, 'cue' at 14 s, sample 2500, "
        "'late' at 25 s, sample 4750"
    )


def test_a_sample_that_is_no_number_is_refused_naming_the_file_and_line(tmp_path: Path) -> None:
    root, tsv = _mne_bids(tmp_path, "brainvision")
    tsv.write_text(tsv.read_text(encoding="utf-8") + "3.0\t0.0\tbad\tn/a\tthree\n", "utf-8")
    config = IngestConfig(workers=0, progress=False, mains=50.0)
    report = ingest("bids", src=root, out=tmp_path / "s.zarr", config=config)
    (why,) = report.failed
    assert "sub-01_task-rest_events.tsv" in why
    assert "line 8: sample 'three' is not a sample number (or n/a)" in why


def test_mne_bids_events_of_an_edf_plus_d_count_its_clock_and_still_move(tmp_path: Path) -> None:
    """MNE times an EDF+D's annotations on its clock (its records end to end, gaps unsaid):
    mne-bids writes 'after' at 13.5 s, sample 3375 (the clock's). The onset moves back by the
    4 s gap (9.5 s, the file's own 'after' there too: stored once); 'inside' (9 s) lies in the
    gap and is dropped; the ``sample`` column does not place rows here."""
    import mne
    import mne_bids

    _edf_plus_d(tmp_path / "raw" / "rec.edf", ["Fp1", "Cz", "O1"],
                [(13.5, None, "after"), (9.0, None, "inside")])  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raw = mne.io.read_raw_edf(tmp_path / "raw" / "rec.edf", verbose="error")
        path = mne_bids.BIDSPath(subject="01", task="rest", datatype="eeg", root=tmp_path / "bids")
        mne_bids.write_raw_bids(raw, path, verbose="error")
    (tsv,) = (tmp_path / "bids").rglob("*_events.tsv")
    assert "13.5\t0.0\tafter\t1\t3375" in tsv.read_text(encoding="utf-8")
    config = IngestConfig(workers=0, progress=False, mains=50.0)
    report = ingest("bids", src=tmp_path / "bids", out=tmp_path / "s.zarr", config=config)
    assert report.failed == []
    (rec,) = open_store(tmp_path / "s.zarr").recordings
    assert [(round(e.onset, 6), e.label) for e in rec.events] == [(9.5, "after")]
    said = [w for lines in report.warnings.values() for w in lines]
    dropped = "1 event of the sidecar inside a gap of the recording dropped: 'inside' at 9 s"
    assert dropped in said


def test_every_sidecar_kind_beside_a_paused_file_is_on_its_samples(tmp_path: Path) -> None:
    """One rule for every sidecar: a marker file's seconds (15 s: was moved to 11 s, and 10 s
    dropped as inside a gap) and a TUH label file's ``# duration`` (20 s, the samples': was
    said to disagree with the clock's 30 s) count the samples stored, as the file's own do."""
    from eegprep.corpus.manifest import load_manifest
    from eegprep.ingestion.events import recording_events

    header = MneReader.read_header(_paused_brainvision(tmp_path / "raw"))

    (tmp_path / "t.txt").write_text("15.0 1\n10.0 2\n", encoding="utf-8")
    marks = load_parsers()["marker_file"]([str(tmp_path / "t.txt")], header, {"unit": "seconds"})
    events, said = recording_events(load_manifest("folder"), header, marks, header.path)
    assert [(e[0], e[2]) for e in events if e[2].startswith("trigger")] == [
        (15.0, "trigger/1"),
        (10.0, "trigger/2"),
    ]
    assert said == []
    (tmp_path / "rec.csv_bi").write_text(csv_v1("rec", 20.0, [("TERM", 15.0, 16.0, "seiz")]))
    labels = load_parsers()["tuh_csv"]([str(tmp_path / "rec.csv_bi")], header, {})
    assert labels.problems == [] and labels.events == [[15.0, 1.0, "seiz", ""]]
    assert header.gaps == ((8.0, 12.0), (18.0, 24.0)) and header.gaps_stated
    assert header.sidecar_gaps == () and header.sidecar_duration == 20.0


def test_a_target_beside_a_paused_file_is_not_cut_at_its_stated_pauses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A target whose value is its time on the samples read, at the EEG's rate, keeps every
    value: the stored sample at 15 s holds 15 (it was cut at the clock's gaps as if on the
    clock: 8.5 s of samples held 12.5, and the last 10 s were zeros)."""
    from eegprep.corpus import sidecars

    def own_time(paths: list[str], header: Any, options: dict[str, Any]) -> SidecarResult:
        times = np.arange(int(round(header.duration * SFREQ)), dtype=np.float32) / SFREQ
        return SidecarResult(targets={"seconds": (times[None, :], float(SFREQ))})

    monkeypatch.setitem(sidecars.load_parsers(), "own_time", own_time)
    src = tmp_path / "src"
    _paused_brainvision(src, "r")
    store, rec = ingest_one_with_target(tmp_path, src, "own_time", "seconds")
    values = np.asarray(store.read_target(rec.id, "seconds"))[0]
    assert values.shape == (4000,)
    for stored_s in (1.0, 8.5, 15.0, 19.5):
        assert values[int(stored_s * 200)] == pytest.approx(stored_s, abs=0.01)
