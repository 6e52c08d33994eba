"""A sidecar's events on a recording whose samples do not follow on in time.

Where the data file's own time counts its gaps (an EDF+D's annotations, MNE's filled-in
acquisition skips), a BIDS ``events.tsv`` onset and a TUH label's start and stop are timed on
that clock, as the file's own events are. (A BrainVision pause and an EEGLAB cut are only
stated: their sidecars count the samples stored, ``test_sidecar_time_base.py``.) The readers
moved the file's own events back by the gaps before them but a sidecar's were stored as if the
clock had no gaps: an event after a gap landed that many seconds late (on other samples, or
dropped past the end), one inside a gap marked samples of the next stretch, and a marker both
in the file and its sidecar was stored twice, at two times. Now both go through one mapping
(:func:`~eegprep.readers.kept_time.kept_span` over :attr:`~eegprep.readers.base.Header.gaps`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from eegprep import open_store
from eegprep.corpus.manifest import load_manifest
from eegprep.corpus.sidecars import SidecarResult
from eegprep.ingestion.driver import IngestConfig, ingest
from eegprep.ingestion.events import recording_events
from eegprep.testing.edf_writer import write_edf
from eegprep.testing.fixtures.tuh import csv_v1

SFREQ = 250
# 20 records of 1 s: stretches of 8, 6 and 6 records after gaps of 4 s (8-12 s of the
# recording's clock) and 6 s (18-24 s): 20 s of samples over 30 s of clock
ONSETS = [*range(8), *(k + 4 for k in range(8, 14)), *(k + 10 for k in range(14, 20))]
# (onset s, duration s, label) on the recording's clock, and where each lies on the samples
TIMED = [
    ((1.5, 0.5, "before"), (1.5, 0.5)),
    ((9.0, 0.0, "in the gap"), None),
    ((7.0, 7.0, "over the gap"), (7.0, 3.0)),  # 7-8 s and 12-14 s: 3 s of samples
    ((13.5, 0.0, "after"), (9.5, 0.0)),
    ((25.0, 2.0, "last stretch"), (15.0, 2.0)),
]


def _edf_plus_d(path: Path, labels: list[str], annotations: list) -> None:
    """An EDF+D of 20 1-s records at ``ONSETS``, (len(labels), 5000) samples of noise (uV)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    x = 20 * np.random.default_rng(0).standard_normal((len(labels), 20 * SFREQ))
    write_edf(path, list(x), labels=labels, sfreqs=SFREQ, edf_plus=True,
              annotations=annotations, reserved="EDF+D", record_onsets=ONSETS)  # fmt: skip


def _stored(store: Path) -> dict[str, tuple[float, float]]:
    (rec,) = open_store(store).recordings
    return {str(e.label): (round(e.onset, 6), round(e.duration, 6)) for e in rec.events}


def test_bids_events_tsv_of_an_edf_plus_d_are_moved_by_its_gaps(tmp_path: Path) -> None:
    # was: every row stored at its clock time ('after' at 13.5 s, 4 s late; 'in the gap' on
    # the second stretch; 'last stretch' at 25 s dropped as past the 20 s stored), while the
    # file's own 'after' moved to 9.5 s: one marker stored twice
    eeg = tmp_path / "src" / "sub-01" / "eeg"
    _edf_plus_d(eeg / "sub-01_task-rest_eeg.edf", ["Fp1", "Cz", "O1"], [(13.5, None, "after")])
    rows = ["onset\tduration\ttrial_type"]
    rows += [f"{o}\t{d}\t{label}" for (o, d, label), _ in TIMED]
    (eeg / "sub-01_task-rest_events.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    config = IngestConfig(workers=0, progress=False, mains=50.0)
    report = ingest("bids", src=tmp_path / "src", out=tmp_path / "s.zarr", config=config)
    assert report.failed == []
    kept = {label: at for (_, _, label), at in TIMED if at is not None}
    assert _stored(tmp_path / "s.zarr") == kept  # 'after' once: the file's and the row's
    (line,) = [w for w in report.warnings["sub-01/eeg/sub-01_task-rest_eeg.edf"] if "side" in w]
    assert line == "1 event of the sidecar inside a gap of the recording dropped: " \
        "'in the gap' at 9 s"  # fmt: skip


def test_tuh_label_files_beside_an_edf_plus_d_are_moved_by_its_gaps(tmp_path: Path) -> None:
    # was: stored at their clock times, and the file said to end before its labels
    # ("1 event end after the recording's 20.00 s", "sidecar duration 30.00 s disagrees")
    folder = tmp_path / "tusz" / "edf" / "train" / "aaaaaaaf" / "s001_2002" / "01_tcp_ar"
    labels = [f"EEG {s}-REF" for s in ("FP1", "FP2", "C3", "C4", "O1", "O2", "CZ")]
    _edf_plus_d(folder / "aaaaaaaf_s001_t000.edf", labels, [])
    term = [("TERM", o, o + d, "seiz") for (o, d, _), _ in TIMED if d]
    term += [("TERM", 9.0, 10.0, "seiz"), ("TERM", 0.0, 1.5, "bckg")]
    channel = [("FP1-F7", 13.5, 14.0, "fnsz")]
    for suffix, rows in ((".csv_bi", term), (".csv", channel)):
        text = csv_v1("aaaaaaaf_s001_t000", 30.0, rows)
        (folder / f"aaaaaaaf_s001_t000{suffix}").write_text(text, encoding="ascii")
    config = IngestConfig(workers=0, progress=False)
    report = ingest("tusz", src=tmp_path / "tusz", out=tmp_path / "s.zarr", config=config)
    assert report.failed == []
    (rec,) = open_store(tmp_path / "s.zarr").recordings
    events = sorted((round(e.onset, 6), round(e.duration, 6), e.label) for e in rec.events)
    assert events == [(1.5, 0.5, "seiz"), (7.0, 3.0, "seiz"), (9.5, 0.5, "fnsz"),
                      (15.0, 2.0, "seiz")]  # fmt: skip
    said = " | ".join(report.warnings.get(rec.source, []))
    assert "disagrees" not in said and "end after" not in said
    assert "1 event of the sidecar inside a gap of the recording dropped: 'seiz' at 9 s" in said


def test_a_sidecar_of_a_fif_with_an_acquisition_skip_is_moved_by_the_skip(tmp_path: Path) -> None:
    """MNE's ``BAD_ACQ_SKIP`` (4-6 s, no sample acquired) is a gap as an EDF+D's is: the
    header lists it, and a sidecar's events move by it as the file's own do."""
    mne = pytest.importorskip("mne")
    from eegprep.readers.mne_formats import MneReader

    x = 20e-6 * np.random.default_rng(3).standard_normal((3, 2500))
    raw = mne.io.RawArray(x, mne.create_info(["Fp1", "Cz", "O1"], 250.0, "eeg"), verbose="error")
    raw.set_annotations(mne.Annotations([4.0, 7.0], [2.0, 0.0], ["BAD_ACQ_SKIP", "own"]))
    raw.save(tmp_path / "k_raw.fif", verbose="error")
    header = MneReader.read_header(str(tmp_path / "k_raw.fif"))
    assert header.gaps == ((4.0, 6.0),) and header.clock_duration == 10.0
    sidecar = SidecarResult(events=[[7.0, 0.0, "own", ""], [5.0, 0.5, "inside", ""],
                                    [3.5, 1.0, "into", ""]])  # fmt: skip
    events, said = recording_events(load_manifest("folder"), header, sidecar, header.path)
    assert events == [[5.0, 0.0, "own", ""], [5.0, 0.0, "own", ""], [3.5, 0.5, "into", ""]]
    assert said == ["1 event of the sidecar inside a gap of the recording dropped: "
                    "'inside' at 5 s"]  # fmt: skip


def test_events_a_parser_takes_from_the_header_are_not_moved_twice(tmp_path: Path) -> None:
    """EEGMMIDB's parser gives the file's own annotations, renamed: already on the samples
    kept, so the gaps do not move them again."""
    path = tmp_path / "src" / "S001" / "S001R03.edf"
    _edf_plus_d(path, ["Fc5.", "C3..", "Cz.."], [(13.5, 4.0, "T1"), (1.0, 4.0, "T0")])
    config = IngestConfig(workers=0, progress=False)
    report = ingest("eegmmidb", src=tmp_path / "src", out=tmp_path / "s.zarr", config=config)
    assert report.failed == []
    assert _stored(tmp_path / "s.zarr") == {"rest": (1.0, 4.0), "left_fist": (9.5, 4.0)}


# A BrainVision recording paused twice, as the EDF+D above: stretches of 8, 6 and 6 s of
# samples acquired from 0, 12 and 24 s of its clock, each `New Segment` dated (microseconds too)
SEGMENTS = [(1, "20231010120005123456"), (2001, "20231010120017123456"),
            (3501, "20231010120029123456")]  # fmt: skip


def _brainvision(eeg: Path, stem: str, markers: list[str]) -> None:
    """``{stem}.vhdr``, ``.vmrk`` and ``.eeg`` (INT_16, 3 channels, 20 s at 250 Hz) in ``eeg``."""
    eeg.mkdir(parents=True, exist_ok=True)
    header = ["Brain Vision Data Exchange Header File Version 1.0", "[Common Infos]",
              f"DataFile={stem}.eeg", f"MarkerFile={stem}.vmrk", "DataFormat=BINARY",
              "DataOrientation=MULTIPLEXED", "NumberOfChannels=3", "SamplingInterval=4000",
              "[Binary Infos]", "BinaryFormat=INT_16", "[Channel Infos]",
              "Ch1=Fp1,,1,µV", "Ch2=Cz,,1,µV", "Ch3=O1,,1,µV"]  # fmt: skip
    (eeg / f"{stem}.vhdr").write_text("\r\n".join(header) + "\r\n", encoding="utf-8")
    x = np.random.default_rng(5).integers(-200, 200, size=(20 * SFREQ, 3)).astype("<i2")
    (eeg / f"{stem}.eeg").write_bytes(x.tobytes())
    lines = ["Brain Vision Data Exchange Marker File, Version 1.0", "[Common Infos]",
             "Codepage=UTF-8", f"DataFile={stem}.eeg", "[Marker Infos]", *markers]  # fmt: skip
    (eeg / f"{stem}.vmrk").write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")


def _marker_events(tmp_path: Path, header: Any, unit: str, lines: list[str]) -> list[Any]:
    """A ``marker_file`` sidecar of ``lines`` over ``header``, its events as the ingest keeps
    them (:func:`recording_events`)."""
    from eegprep.corpus.sidecars import load_parsers

    path = tmp_path / "triggers.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = load_parsers()["marker_file"]([str(path)], header, {"unit": unit})
    events, _ = recording_events(load_manifest("folder"), header, result, header.path)
    return [[round(float(e[0]), 6), e[2]] for e in events]


def test_marker_file_sample_numbers_of_an_edf_plus_d_count_the_samples_stored(
    tmp_path: Path,
) -> None:
    """An EDF+D's data records lie end to end in the file: a trigger at sample 2375 is at
    9.5 s of the samples stored. It was moved as a time of the clock: inside the 8-12 s gap,
    and dropped. A trigger in seconds is on the clock, and moves."""
    from eegprep.readers.edf import EdfReader

    _edf_plus_d(tmp_path / "r.edf", ["Fp1", "Cz", "O1"], [])
    header = EdfReader.read_header(str(tmp_path / "r.edf"))
    assert header.gaps == ((8.0, 12.0), (18.0, 24.0))
    assert _marker_events(tmp_path, header, "samples", ["2375 7", "4000 8"]) == [
        [9.5, "trigger/7"],
        [16.0, "trigger/8"],
    ]
    assert _marker_events(tmp_path, header, "seconds", ["13.5 7"]) == [[9.5, "trigger/7"]]


def test_marker_file_sample_numbers_of_a_fif_with_a_skip_count_its_clock(tmp_path: Path) -> None:
    """MNE fills a FIF's acquisition skip (4-6 s) with samples, which the reader leaves out:
    the file's sample 1750 is 7 s of the clock, 5 s of the samples stored."""
    mne = pytest.importorskip("mne")
    from eegprep.readers.mne_formats import MneReader

    x = 20e-6 * np.random.default_rng(3).standard_normal((3, 2500))
    raw = mne.io.RawArray(x, mne.create_info(["Fp1", "Cz", "O1"], 250.0, "eeg"), verbose="error")
    raw.set_annotations(mne.Annotations([4.0], [2.0], ["BAD_ACQ_SKIP"]))
    raw.save(tmp_path / "k_raw.fif", verbose="error")
    header = MneReader.read_header(str(tmp_path / "k_raw.fif"))
    assert _marker_events(tmp_path, header, "samples", ["1750 3"]) == [[5.0, "trigger/3"]]


def test_a_target_on_the_clock_is_cut_at_the_gaps() -> None:
    """A target sampled on the recording's clock (30 s at 10 Hz over the EDF+D's 20 s of
    samples) loses the samples inside its gaps (8-12 s, 18-24 s): each value then sits beside
    the EEG sample taken at its time. One the parser took on the samples read is not cut."""
    from eegprep.ingestion.labels import cut_at_gaps, stored_targets

    clock = np.arange(300, dtype=np.float32)[None, :] / 10  # each value: its time on the clock
    gaps = ((8.0, 12.0), (18.0, 24.0))
    kept = cut_at_gaps(clock, 10.0, gaps)
    expected = np.concatenate([np.arange(0, 80), np.arange(120, 180), np.arange(240, 300)]) / 10
    np.testing.assert_allclose(kept[0], expected, atol=1e-6)
    stored = stored_targets(SidecarResult(targets={"t": (clock, 10.0)}), 200, 10.0, gaps)["t"]
    np.testing.assert_allclose(stored[0], expected, atol=1e-6)  # was: clock times 0-19.9 s
    read = SidecarResult(targets={"t": (clock[:, :200], 10.0)}, on_samples=True)
    np.testing.assert_allclose(stored_targets(read, 200, 10.0, gaps)["t"], clock[:, :200])
    many = tuple((k + 0.5, k + 0.75) for k in range(86_400))  # bisection: a day of gaps,
    # each holding the samples at k + 0.5, 0.6 and 0.7 s: 7 of each second's 10 kept
    assert cut_at_gaps(np.zeros((1, 864_000), np.float32), 10.0, many).shape == (1, 604_800)


def test_an_ingest_cuts_a_clock_target_at_an_edf_plus_d_gaps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the ingest: a target whose value is its time on the clock, stored at 200 Hz
    beside the EEG of an EDF+D, holds the clock time of each stored sample (8.5 s of samples:
    12.5 s of the clock)."""
    from eegprep.corpus import sidecars

    def clock_target(paths: list[str], header: Any, options: dict[str, Any]) -> SidecarResult:
        times = np.arange(int(header.clock_duration * SFREQ), dtype=np.float32) / SFREQ
        return SidecarResult(targets={"clock": (times[None, :], float(SFREQ))})

    monkeypatch.setitem(sidecars.load_parsers(), "clock_target", clock_target)
    src = tmp_path / "src"
    _edf_plus_d(src / "r.edf", ["Fp1", "Cz", "O1"], [])
    store, rec = ingest_one_with_target(tmp_path, src, "clock_target", "clock")
    values = np.asarray(store.read_target(rec.id, "clock"))[0]
    assert values.shape == (4000,)
    for stored_s, clock_s in ((1.0, 1.0), (8.5, 12.5), (15.0, 25.0)):
        assert values[int(stored_s * 200)] == pytest.approx(clock_s, abs=0.01)


def ingest_one_with_target(tmp_path: Path, src: Path, parser: str, target: str) -> Any:
    """The one recording in ``src`` ingested by the ``folder`` manifest with a ``.tgt`` sidecar
    (``r.tgt``, naming ``target``) read by the registered sidecar ``parser``: (store, record)."""
    (src / "r.tgt").write_text(f"{target}\n", encoding="utf-8")
    manifest = (Path(__file__).parents[2] / "manifests" / "folder.toml").read_text("utf-8")
    manifest += f'\n[sidecar]\nparser = "{parser}"\nsuffixes = [".tgt"]\n'
    (tmp_path / "m.toml").write_text(manifest.replace('name = "folder"', 'name = "targets"', 1))
    config = IngestConfig(workers=0, progress=False, mains=50.0)
    report = ingest(tmp_path / "m.toml", src=src, out=tmp_path / "s.zarr", config=config)
    assert report.failed == []
    store = open_store(tmp_path / "s.zarr")
    (rec,) = store.recordings
    return store, rec
