"""A recording with many events (tens of thousands, under the bound of
:data:`~eegprep.readers.event_count.MAX_EVENTS`) is read once, in memory that grows with its
count by a bounded amount per event, and its events are the file's; one over the bound is
refused in one line naming the file, the count and the bound, from the file's own count, and
the rest of the ingest goes on (docs/corpora.md, "Events")."""

from __future__ import annotations

import struct
import time
from pathlib import Path

import numpy as np
import pytest

from eegprep.base.errors import SourceError
from eegprep.readers import get_reader, read_once, vmrk
from eegprep.readers.event_count import MAX_EVENTS
from eegprep.readers.mne_formats import clear_cache
from tests import peak_memory

N_EVENTS = 10_000
BYTES_PER_EVENT = 2_000  # MNE's annotation (a dict of extras each), eegprep's, their text;
# measured: 0.2-1 KB an event of resident memory over a header read's own, 1.2-1.8 KB in a
# whole ingest of 1,000,000
BASE_BYTES = 32e6  # what a header read takes over its imports with no events


def _brainvision(folder: Path, n_events: int, sfreq: int = 200) -> str:
    """A 2-channel float32 BrainVision recording of ``n_events`` + 200 samples whose marker
    file holds a ``New Segment`` at the first sample and then a stimulus marker at each
    sample from the second; the header's path."""
    folder.mkdir(parents=True)
    n_samples = n_events + 200
    (folder / "rec.eeg").write_bytes(np.zeros((n_samples, 2), "<f4").tobytes())
    (folder / "rec.vhdr").write_text(
        "Brain Vision Data Exchange Header File Version 1.0\n[Common Infos]\nCodepage=UTF-8\n"
        "DataFile=rec.eeg\nMarkerFile=rec.vmrk\nDataFormat=BINARY\n"
        f"DataOrientation=MULTIPLEXED\nNumberOfChannels=2\nSamplingInterval={1e6 / sfreq:g}\n"
        "[Binary Infos]\nBinaryFormat=IEEE_FLOAT_32\n[Channel Infos]\nCh1=Fp1,,0.1,µV\n"
        "Ch2=Fp2,,0.1,µV\n",
        encoding="utf-8",
    )
    codes = ("S  1", "S  2", "R  7")
    lines = [
        "Brain Vision Data Exchange Marker File, Version 1.0\n[Common Infos]\nCodepage=UTF-8\n"
        "DataFile=rec.eeg\n[Marker Infos]\nMk1=New Segment,,1,1,0\n",
        *(f"Mk{k + 2}=Stimulus,{codes[k % 3]},{k + 2},1,0\n" for k in range(n_events)),
    ]
    (folder / "rec.vmrk").write_text("".join(lines), encoding="utf-8")
    clear_cache()
    return str(folder / "rec.vhdr")


def test_a_marker_file_is_parsed_once_per_header_in_bounded_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # was: the check, the segment starts, the segment dates and the leading markers each
    # parsed the marker file again (4 parses: ~60% of a 100,000-marker header's 10 s)
    path = _brainvision(tmp_path / "bv", N_EVENTS)
    parses: list[str] = []
    real = vmrk._markers

    def counted(*args: object, **kwargs: object) -> object:
        parses.append(str(args[1]))
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(vmrk, "_markers", counted)
    before = peak_memory.start()
    header = get_reader("mne").read_header(path)
    grown = peak_memory.peak() - before
    assert parses == ["rec.vmrk"]
    assert read_once.n_kept() == 0  # not kept once the header is read
    assert grown < BASE_BYTES + BYTES_PER_EVENT * N_EVENTS, f"{grown / 1e6:.0f} MB"
    codes = ("S  1", "S  2", "R  7")
    assert [(a.onset, a.duration, a.description) for a in header.annotations] == [
        ((k + 1) / 200, 1 / 200, f"Stimulus/{codes[k % 3]}") for k in range(N_EVENTS)
    ]


def test_a_marker_file_over_the_bound_is_refused_before_its_lines_are_split(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # was: its dates were checked first, every line of the file split out twice (as the
    # system's text and as MNE's): 1,000,000 markers were refused after 3.0 s and 271 MiB
    from eegprep.readers import event_count

    monkeypatch.setattr(event_count, "MAX_EVENTS", 5)
    checked: list[str] = []
    real = vmrk._check_dates

    def counted(name: str, raw: bytes, text: str) -> str | None:
        checked.append(name)
        return real(name, raw, text)

    monkeypatch.setattr(vmrk, "_check_dates", counted)
    path = _brainvision(tmp_path / "over", 5)  # 5 stimulus markers and the New Segment
    with pytest.raises(SourceError, match=r"rec\.vmrk gives 6 events, over the 5 a recording"):
        get_reader("mne").read_header(path)
    assert checked == []
    path = _brainvision(tmp_path / "at", 4)
    assert len(get_reader("mne").read_header(path).annotations) == 4
    assert checked == ["rec.vmrk"]


def _gdf(path: Path, n_events: int, sfreq: int = 200) -> Path:
    """A 2-channel GDF 1.25 file of ``n_events`` + 200 samples whose event table holds
    ``n_events`` events (codes 1-3), one at each sample from the second."""
    from eegprep.testing.fixtures.gdf_writer import write_gdf

    noise = np.random.default_rng(1).standard_normal((2, n_events + sfreq)) * 20
    write_gdf(path, noise, ["Fp1", "Fp2"], sfreq)
    body = path.read_bytes()[:-8]  # the writer's empty event table
    head = struct.pack("<B3sI", 1, sfreq.to_bytes(3, "little"), n_events)
    positions = np.arange(1, n_events + 1, dtype="<u4").tobytes()
    codes = (np.arange(n_events) % 3 + 1).astype("<u2").tobytes()
    path.write_bytes(body + head + positions + codes)
    return path


def test_a_recording_over_the_event_bound_is_refused_and_the_rest_ingests(
    tmp_path: Path,
) -> None:
    # was: a bound of 1,000,000, under which every format took 26-236 s and 1.2-1.8 GB to
    # ingest one recording (the ingest's own Python objects per event, and MNE's); a GDF of
    # 100,001 events (the bound docs/corpora.md states, and one) ingested here in ~5 s
    from eegprep.ingestion.driver import ingest
    from eegprep.ingestion.options import IngestConfig
    from eegprep.testing.edf_writer import write_edf

    src = tmp_path / "src"
    src.mkdir()
    n_over = 100_001
    over = _gdf(src / "many.gdf", n_over)
    noise = list(np.random.default_rng(0).standard_normal((2, 2000)) * 20)
    write_edf(src / "few.edf", noise, labels=["Fp1", "Fp2"], sfreqs=200,
              edf_plus=True, annotations=[(1.0, None, "a"), (2.0, 0.5, "b")])  # fmt: skip
    start = time.perf_counter()
    report = ingest("folder", src=src, out=tmp_path / "s.zarr",
                    config=IngestConfig(workers=0, progress=False, mains=50))  # fmt: skip
    seconds = time.perf_counter() - start
    (line,) = report.failed
    assert line.startswith(f"{over.name}: its event table"), line
    assert f"gives {n_over:,} events, over the {MAX_EVENTS:,} a recording may store" in (line)
    assert "\n" not in line
    assert report.n_ingested == 1  # the rest of the folder went on
    assert seconds < 30, f"refused after {seconds:.1f} s"


N_EACH = 5_000
NAMES = ("stim", "resp", "7")


def _write(fmt: str, folder: Path, n: int, sfreq: int = 200) -> tuple[str, list[tuple]]:
    """A 2-channel recording of ``fmt`` with ``n`` events, one a sample from the second,
    its path, and the events (onset s, duration s, label) the file states."""
    folder.mkdir(parents=True)
    x = np.random.default_rng(0).standard_normal((2, (n // sfreq + 2) * sfreq)) * 10
    at = (np.arange(n) + 1) / sfreq
    if fmt in ("edf", "bdf"):
        from eegprep.testing.edf_writer import write_edf

        notes = [(float(t), 0.02 if i % 2 else None, NAMES[i % 3]) for i, t in enumerate(at)]
        path = str(folder / f"r.{fmt}")
        write_edf(path, list(x), labels=["Fp1", "Fp2"], sfreqs=sfreq, edf_plus=True,
                  bdf=fmt == "bdf", annotations=notes)  # fmt: skip
        return path, [(t, d or 0.0, s) for t, d, s in notes]
    if fmt == "fif":
        import mne

        raw = mne.io.RawArray(x * 1e-6, mne.create_info(["Fp1", "Fp2"], float(sfreq), "eeg"),
                              verbose="error")  # fmt: skip
        labels = [NAMES[i % 3] for i in range(n)]
        raw.set_annotations(mne.Annotations(at, np.zeros(n), labels))
        raw.save(folder / "r_raw.fif", verbose="error")
        return str(folder / "r_raw.fif"), [(float(t), 0.0, s) for t, s in zip(at, labels)]
    if fmt == "cnt":
        from eegprep.testing.fixtures.cnt_writer import write_cnt

        path = str(write_cnt(folder / "r.cnt", x, ["Fp1", "Fp2"], sfreq,
                             events=[(i + 1, i % 3 + 1) for i in range(n)]))  # fmt: skip
        return path, [(float(t), 0.0, str(i % 3 + 1)) for i, t in enumerate(at)]
    import scipy.io  # an EEGLAB .set: a numeric type (7) as EEGLAB stores codes

    locs = np.zeros((1, 2), dtype=[("labels", object)])
    locs[0, 0], locs[0, 1] = ("Fp1",), ("Fp2",)
    events = np.zeros((1, n), dtype=[("type", object), ("latency", object), ("duration", object)])
    for i in range(n):
        events[0, i] = (NAMES[i % 3] if i % 3 < 2 else 7.0, float(i + 2), 0.0)
    eeg = {"setname": "r", "nbchan": 2.0, "trials": 1.0, "pnts": float(x.shape[1]),
           "srate": float(sfreq), "xmin": 0.0, "xmax": (x.shape[1] - 1) / sfreq,
           "data": x.astype(np.float32), "chanlocs": locs, "event": events,
           "urevent": np.zeros((0, 0)), "ref": "common"}  # fmt: skip
    scipy.io.savemat(folder / "r.set", eeg, oned_as="row")
    return str(folder / "r.set"), [(float(t), 0.0, NAMES[i % 3]) for i, t in enumerate(at)]


@pytest.mark.parametrize("fmt", ["edf", "bdf", "fif", "cnt", "set"])
def test_every_reader_reads_many_events_in_memory_bounded_by_their_count(
    tmp_path: Path, fmt: str
) -> None:
    # a guard for each reader of a format with events of its own (GDF: the refusal above;
    # BrainVision: the first test): the events read are the file's, in memory of at most
    # BYTES_PER_EVENT each over a header's own
    path, stated = _write(fmt, tmp_path / fmt, N_EACH)
    clear_cache()
    before = peak_memory.start()
    header = get_reader("mne").read_header(path)
    grown = peak_memory.peak() - before
    assert grown < BASE_BYTES + BYTES_PER_EVENT * N_EACH, f"{grown / 1e6:.0f} MB"
    got = [(a.onset, a.duration, a.description) for a in header.annotations]
    assert [s for _, _, s in got] == [s for _, _, s in stated]
    assert np.allclose([(t, d) for t, d, _ in got], [(t, d) for t, d, _ in stated], atol=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["edf", "bdf", "fif", "cnt", "set", "vhdr"])
def test_every_reader_reads_events_at_the_bound_in_bounded_memory(tmp_path: Path, fmt: str) -> None:
    # at full scale: MAX_EVENTS events, read in at most BYTES_PER_EVENT each over a header's
    # own (each 3-40 s on 2 busy cores, writing the file included)
    if fmt == "vhdr":  # (its New Segment is one of them)
        path, n_read = _brainvision(tmp_path / fmt, MAX_EVENTS - 1), MAX_EVENTS - 1
    else:
        path, n_read = _write(fmt, tmp_path / fmt, MAX_EVENTS)[0], MAX_EVENTS
    clear_cache()
    before = peak_memory.start()
    header = get_reader("mne").read_header(path)
    grown = peak_memory.peak() - before
    assert len(header.annotations) == n_read
    assert grown < BASE_BYTES + BYTES_PER_EVENT * MAX_EVENTS, f"{grown / 1e6:.0f} MB"
