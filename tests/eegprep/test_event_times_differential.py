"""Events as the source says them: every format with events of its own, written here by an
independent writer (EDF+/BDF+ and GDF byte by byte from their specifications, BrainVision's
text files, EEGLAB's ``EEG`` struct through scipy, FIF through MNE), ingested by ``eegprep
ingest folder``, and each stored event compared with MNE's ``raw.annotations`` (onset from the
first sample, duration, description) to within half a sample at the source's rate and at the
store's 200 Hz.

Where MNE and the format's specification disagree, the specification decides, and the case
gives the expected events itself and says why:

- EDF+ section 2.2.4: the first annotation of each data record is empty and its onset is the
  record's. Annotations may follow it in that TAL (``+0.25\\x14\\x14Start\\x14``); they are
  at the record's start, the first sample. MNE times them from the header's start time (0.25 s
  late; with a first record at ``+5``, past the samples' end and dropped). eegprep refused an
  EDF+D so written ("without time-keeping annotations") and, read through MNE (an EDF given an
  MNE option), stored MNE's times.
- EDF+D: the samples kept follow on, so an event ``t`` s into a record stamped ``s`` is at
  ``k * record_seconds + (t - s)`` on them (MNE reads the records end to end, its events on
  the recording's clock).
- GDF: positions count from 1 at the event table's own rate; MNE divides them by the samples'
  rate. MNE's events last one sample of the recording or more; eegprep's own reading of a table
  at another rate gave a mode-1 event, or a mode-3 event of duration 0, one sample of the
  table's rate instead (1 ms at 1000 Hz where the same table at 250 Hz gives 4 ms).
- EEGLAB: an event whose ``type`` is empty (``[]``, ``''``) has an empty label; MNE gives
  ``'[]'``, Python's text of an empty array, and eegprep stored that.
- eegprep's rules (docs/corpora.md, "Events"): exact repeats are stored once; an EEGLAB
  numeric type is its code (``7``, not MNE's ``7.0``) and a ``boundary`` lasts no time on the
  samples kept; an empty EDF+ annotation marks no event (pyedflib gave one).
"""

from __future__ import annotations

import datetime
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from eegprep import open_store
from eegprep.ingestion.driver import IngestConfig, ingest
from eegprep.readers.mne_formats import MneReader, clear_cache

SERIAL = IngestConfig(workers=0, progress=False, mains=50.0)
LABELS = ["Fp1", "Cz", "O1"]
STORE_HZ = 200.0
Event = tuple[float, float, str]


def _stored(path: Path) -> list[Event]:
    """The events ``eegprep ingest folder`` stores for the one recording under ``path``'s
    folder."""
    out = path.parent.parent / f"{path.parent.name}.zarr"
    rep = ingest("folder", src=path.parent, out=out, config=SERIAL)
    assert rep.failed == [] and rep.n_ingested == 1, rep.failed
    (rec,) = open_store(out).recordings
    return [(float(e.onset), float(e.duration), str(e.label)) for e in rec.events]


def _mne(path: Path) -> list[Event]:
    """MNE's annotations, onsets from the first sample, in eegprep's order (by onset)."""
    import mne

    raw = mne.io.read_raw(path, verbose="error")
    a = raw.annotations
    first = float(raw.first_time)
    got = [
        (float(o) - first, float(d), str(t)) for o, d, t in zip(a.onset, a.duration, a.description)
    ]
    return sorted(got, key=lambda e: (round(e[0], 9), round(e[1], 9), e[2]))


def _assert_same(got: list[Event], ref: list[Event], sfreq: float) -> None:
    """The same events, in order: texts equal, times within half a sample at ``sfreq`` and at
    the store's rate."""
    assert [e[2] for e in got] == [e[2] for e in ref], (got, ref)
    for rate in (sfreq, STORE_HZ):
        for (o, d, _), (ro, rd, _) in zip(got, ref, strict=True):
            assert abs(o - ro) <= 0.5 / rate + 1e-9 and abs(d - rd) <= 0.5 / rate + 1e-9, (
                got,
                ref,
                rate,
            )


# -- EDF+/BDF+ written byte by byte (EDF+ specification, sections 2.1 and 2.2) -------------------

EDF_HZ = 250


def _field(value: object, width: int) -> bytes:
    text = str(value).encode("ascii")
    assert len(text) <= width
    return text.ljust(width, b" ")


def _edf(
    path: Path,
    tals: list[bytes],
    *,
    reserved: str,
    more: tuple[bytes, ...] = (),
    first: bool = False,
) -> Path:
    """An EDF (``.edf``) or BDF (``.bdf``) of ``len(tals)`` 1-s records at 250 Hz: three EEG
    channels and an annotation signal holding each record's TAL bytes (``more``: a second
    one; ``first``: the annotation signals before the EEG channels)."""
    bdf = path.suffix == ".bdf"
    width, n_ch = (3 if bdf else 2), len(LABELS)
    notes = [tals, *([list(more)] if more else [])]
    n_tal = [-(-(max(len(t) for t in n) + 2) // width) for n in notes]
    kinds = (
        ["ann"] * len(notes) + ["eeg"] * n_ch if first else ["eeg"] * n_ch + ["ann"] * len(notes)
    )
    ann = "BDF Annotations" if bdf else "EDF Annotations"
    names = [ann if k == "ann" else "" for k in kinds]
    names = [n or LABELS[kinds[:i].count("eeg")] for i, n in enumerate(names)]
    per = [n_tal[kinds[:i].count("ann")] if k == "ann" else EDF_HZ for i, k in enumerate(kinds)]
    lo, hi = (-(2**23), 2**23 - 1) if bdf else (-32768, 32767)
    head = (b"\xffBIOSEMI" if bdf else _field(0, 8)) + _field("X X X X", 80)
    head += _field("Startdate 01-JAN-2000 X X X", 80) + _field("01.01.00", 8)
    head += _field("00.00.00", 8) + _field(256 * (len(names) + 1), 8) + _field(reserved, 44)
    head += _field(len(tals), 8) + _field(1, 8) + _field(len(names), 4)
    eeg = [k == "eeg" for k in kinds]
    # label, transducer, unit, physical min and max, digital min and max, prefilter, samples
    # per record, reserved: each field for every signal in turn
    columns: list[list[object]] = [names, [""] * len(kinds), ["uV" if e else "" for e in eeg]]
    columns += [[-3200 if e else -1 for e in eeg], [3200 if e else 1 for e in eeg]]
    columns += [[lo] * len(kinds), [hi] * len(kinds), [""] * len(kinds), per, [""] * len(kinds)]
    widths = (16, 80, 8, 8, 8, 8, 8, 80, 8, 32)
    head += b"".join(_field(v, w) for col, w in zip(columns, widths) for v in col)
    rng = np.random.default_rng(0)
    body = b""
    for r in range(len(tals)):
        for i, kind in enumerate(kinds):
            if kind == "ann":
                body += notes[kinds[:i].count("ann")][r].ljust(per[i] * width, b"\0")
                continue
            codes = rng.integers(-3000, 3000, EDF_HZ) * (256 if bdf else 1)
            body += (
                codes.astype("<i4").view(np.uint8).reshape(-1, 4)[:, :3].tobytes()
                if bdf
                else codes.astype("<i2").tobytes()
            )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(head + body)
    return path


def _keep(onset: float) -> bytes:
    """A record's time-keeping TAL (its first annotation empty)."""
    return f"{onset:+g}".encode() + b"\x14\x14\0"


EDF_CASES: dict[str, list[bytes]] = {
    "several texts in one TAL": [_keep(0) + b"+0.5\x150.25\x14A\x14B\x14\0", _keep(1), _keep(2)],
    "many decimals": [
        _keep(0) + b"+0.123456789\x14a\x14\0",
        _keep(1) + b"+1.0040001\x14b\x14\0",
        _keep(2),
    ],
    "negative onset": [
        _keep(0) + b"-0.5\x151\x14before\x14\0+0.2\x14after\x14\0",
        _keep(1),
        _keep(2),
    ],
    "durations": [
        _keep(0) + b"+0.3\x151.5\x14d\x14\0",
        _keep(1) + b"+1.1\x150.012\x14e\x14\0",
        _keep(2),
    ],
    "UTF-8 text": [_keep(0) + "+0.4\x14Augen zu ÄÖÜ ✓\x14\0".encode(), _keep(1), _keep(2)],
    "a later record's TAL": [
        _keep(0),
        _keep(1) + b"+0.3\x14early\x14\0",
        _keep(2) + b"+2.9\x14x\x14\0",
    ],
    "first record late": [
        _keep(0.25) + b"+0.75\x14e\x14\0",
        _keep(1.25) + b"+1.5\x14f\x14\0",
        _keep(2.25),
    ],
    "empty text beside a text": [_keep(0) + b"+0.5\x14\x14A\x14\0", _keep(1), _keep(2)],
}

EDF_SPEC_CASES: dict[str, tuple[list[bytes], list[Event]]] = {
    # (MNE's times of the texts in the time-keeping TAL are from the header's start: see above)
    "texts in the time-keeping TAL": (
        [b"+0\x14\x14Start\x14\0+0.6\x14e\x14\0", _keep(1), _keep(2)],
        [(0.0, 0.0, "Start"), (0.6, 0.0, "e")],
    ),
    "texts in a late time-keeping TAL": (
        [b"+0.25\x14\x14Start\x14\0+0.75\x14e\x14\0", _keep(1.25), _keep(2.25)],
        [(0.0, 0.0, "Start"), (0.5, 0.0, "e")],
    ),
}


def _edf_variants() -> list[Any]:
    return [
        pytest.param(suffix, reserved, id=f"{suffix[1:]}-{reserved or 'plain'}")
        for suffix in (".edf", ".bdf")
        for reserved in ("EDF+C", "EDF+D", "")
    ]


def _reserved(suffix: str, reserved: str) -> str:
    return reserved.replace("EDF", "BDF") if suffix == ".bdf" else reserved


@pytest.mark.parametrize(("suffix", "reserved"), _edf_variants())
@pytest.mark.parametrize("case", sorted(EDF_CASES))
def test_edf_annotations_match_mne(tmp_path: Path, case: str, suffix: str, reserved: str) -> None:
    path = _edf(tmp_path / "src" / f"r{suffix}", EDF_CASES[case],
                reserved=_reserved(suffix, reserved))  # fmt: skip
    _assert_same(_stored(path), _mne(path), EDF_HZ)


@pytest.mark.parametrize(("suffix", "reserved"), _edf_variants())
@pytest.mark.parametrize("first", [False, True], ids=["signals last", "signals first"])
def test_edf_two_annotation_signals_anywhere_match_mne(
    tmp_path: Path, suffix: str, reserved: str, first: bool
) -> None:
    """The record's time is kept by the first annotation signal's first TAL; the second's
    TALs (one opening with an empty annotation) are annotations like any other."""
    tals = [_keep(0) + b"+0.5\x14A\x14\0", _keep(1) + b"+1.5\x150.5\x14B\x14\0", _keep(2)]
    more = (b"+0.7\x14\x14C\x14\0", b"+1.25\x14D\x14\0", b"\0")
    path = _edf(tmp_path / "src" / f"r{suffix}", tals, reserved=_reserved(suffix, reserved),
                more=more, first=first)  # fmt: skip
    _assert_same(_stored(path), _mne(path), EDF_HZ)


@pytest.mark.parametrize(("suffix", "reserved"), _edf_variants())
def test_edf_channel_annotations_as_mne_exports_them(
    tmp_path: Path, suffix: str, reserved: str
) -> None:
    """MNE's EDF export writes an annotation of some channels as one text ``text@@label`` a
    channel; MNE reads them back as one annotation on those channels. eegprep stored the
    label ``A@@Cz`` on no channel. A text whose part after ``@@`` is no signal's label stays
    whole."""
    tals = [
        _keep(0) + b"+0.5\x150.5\x14A@@Cz\x14\0+0.5\x150.5\x14A@@O1\x14\0+0.6\x14B@@Nope\x14\0",
        _keep(1) + b"+1.2\x14C@@\x14\0+1.3\x14D@@Fp1\x14E\x14\0",
        _keep(2),
    ]
    path = _edf(tmp_path / "src" / f"r{suffix}", tals, reserved=_reserved(suffix, reserved))
    import mne

    a = mne.io.read_raw(path, verbose="error").annotations
    rows = zip(a.onset, a.duration, a.description, a.ch_names, strict=True)
    expected = [(float(o), float(d), str(t), ",".join(c)) for o, d, t, c in rows]
    out = tmp_path / "s.zarr"
    assert ingest("folder", src=path.parent, out=out, config=SERIAL).failed == []
    (rec,) = open_store(out).recordings
    assert [(e.onset, e.duration, e.label, e.channel) for e in rec.events] == sorted(expected)
    assert ("A", "Cz,O1") in [(e.label, e.channel) for e in rec.events]


@pytest.mark.parametrize(("suffix", "reserved"), _edf_variants())
@pytest.mark.parametrize("case", sorted(EDF_SPEC_CASES))
def test_edf_time_keeping_tal_with_texts_as_the_spec_says(
    tmp_path: Path, case: str, suffix: str, reserved: str
) -> None:
    """Before: an EDF+D (or a plain EDF) so written was refused, "without time-keeping
    annotations"; MNE puts these texts 0.25 s late (see the module's docstring)."""
    tals, expected = EDF_SPEC_CASES[case]
    path = _edf(tmp_path / "src" / f"r{suffix}", tals, reserved=_reserved(suffix, reserved))
    _assert_same(_stored(path), expected, EDF_HZ)


@pytest.mark.parametrize("first", [0.25, 5.0])
@pytest.mark.parametrize("reserved", ["EDF+C", "EDF+D", ""])
def test_edf_read_through_mne_times_the_time_keeping_tal_texts_from_the_first_sample(
    tmp_path: Path, reserved: str, first: float
) -> None:
    """An EDF given an MNE option is read by MNE: its events were MNE's, the time-keeping
    TAL's text 0.25 s late (first record at +0.25) or dropped (at +5, past the 3-s end)."""
    tals = [f"{first:+g}\x14\x14Start\x14\0{first + 0.5:+g}\x14e\x14\0".encode(),
            _keep(first + 1), _keep(first + 2)]  # fmt: skip
    path = _edf(tmp_path / "r.edf", tals, reserved=reserved)
    clear_cache()
    header = MneReader.read_header(str(path), infer_types=False)
    got = [(a.onset, a.duration, a.description) for a in header.annotations]
    _assert_same(got, [(0.0, 0.0, "Start"), (0.5, 0.0, "e")], EDF_HZ)


@pytest.mark.parametrize("suffix", [".edf", ".bdf"])
def test_edf_d_events_after_gaps_are_on_the_samples_kept(tmp_path: Path, suffix: str) -> None:
    """EDF+D records at 0, 1, 2, 5.5, 6.5 and 10.25 s: an event ``t`` s into record ``k``
    stamped ``s`` is at ``k + (t - s)`` s on the samples kept; one that runs into a gap keeps
    the samples it covers."""
    stamps = [0.0, 1.0, 2.0, 5.5, 6.5, 10.25]
    notes = {1: (1.5, 0.2, "in"), 3: (5.75, 0.0, "after"), 4: (7.123456, 1.5, "runs on"),
             5: (10.5, 0.0, "last")}  # fmt: skip
    tals = [_keep(s) for s in stamps]
    for k, (t, d, text) in notes.items():
        tals[k] += f"{t:+g}\x15{d:g}\x14{text}\x14\0".encode()
    path = _edf(tmp_path / "src" / f"r{suffix}", tals, reserved=_reserved(suffix, "EDF+D"))
    expected = []
    for k, (t, d, text) in notes.items():
        onset = k + (t - stamps[k])
        expected.append((onset, min(d, k + 1 - onset), text))  # (cut at its record's end)
    _assert_same(_stored(path), sorted(expected), EDF_HZ)


# -- BrainVision: text files as the Core Data Format 1.0 lays them out -----------------------------

BV_HZ = 500


def _brainvision(path: Path, markers: list[str], n_times: int = 5000) -> Path:
    """``path`` (.vhdr), its .eeg (float32, multiplexed) and .vmrk holding ``markers``."""
    stem = path.stem
    path.parent.mkdir(parents=True, exist_ok=True)
    channels = "".join(f"Ch{i + 1}={c},,1,µV\r\n" for i, c in enumerate(LABELS))
    path.write_text(
        "Brain Vision Data Exchange Header File Version 1.0\r\n[Common Infos]\r\nCodepage=UTF-8"
        f"\r\nDataFile={stem}.eeg\r\nMarkerFile={stem}.vmrk\r\nDataFormat=BINARY\r\n"
        f"DataOrientation=MULTIPLEXED\r\nNumberOfChannels={len(LABELS)}\r\n"
        f"SamplingInterval={1e6 / BV_HZ:g}\r\n[Binary Infos]\r\nBinaryFormat=IEEE_FLOAT_32\r\n"
        f"[Channel Infos]\r\n{channels}",
        encoding="utf-8",
    )
    x = np.random.default_rng(0).normal(0, 20, (n_times, len(LABELS)))
    path.with_suffix(".eeg").write_bytes(x.astype("<f4").tobytes())
    lines = "".join(f"Mk{i + 1}={m}\r\n" for i, m in enumerate(markers))
    path.with_suffix(".vmrk").write_text(
        "Brain Vision Data Exchange Marker File, Version 1.0\r\n[Common Infos]\r\n"
        f"Codepage=UTF-8\r\nDataFile={stem}.eeg\r\n[Marker Infos]\r\n{lines}",
        encoding="utf-8",
    )
    return path


_START = "New Segment,,1,1,0,20000101000000000000"
BV_CASES: dict[str, list[str]] = {
    "positions from 1": ["Stimulus,S  9,1,1,0", "Stimulus,S  8,2,1,0", "Stimulus,S  7,5000,1,0"],
    "lengths over 1": [_START, "Stimulus,S  1,501,50,0", "Bad Interval,Bad Min-Max,1200,250,0"],
    "escaped commas": [_START, r"Comment,a\1b\1c,600,1,0", r"Stim\1x,S 3,800,1,0"],
    "New Segment joins": [
        _START,
        "Stimulus,S  1,501,1,0",
        "New Segment,,2001,1,0,20000101000010000000",
        "Stimulus,S  2,2001,1,0",
        "Stimulus,S  3,3000,1,0",
    ],
    "a channel's marker": [_START, "Stimulus,S  1,600,1,2"],
    "UTF-8 text": [_START, "Comment,Auge ÄÖ ✓,600,1,0"],
    "empty description": [_START, "Response,,600,1,0"],
    "length 0 and past the end": [_START, "Stimulus,S  1,600,0,0", "Stimulus,S  2,4980,40,0"],
}


@pytest.mark.parametrize("case", sorted(BV_CASES))
def test_brainvision_markers_match_mne(tmp_path: Path, case: str) -> None:
    path = _brainvision(tmp_path / "src" / "r.vhdr", BV_CASES[case])
    _assert_same(_stored(path), _mne(path), BV_HZ)


# -- GDF written byte by byte (GDF 1.25 and 2.20) -------------------------------------------------

GDF_HZ = 250


def _gdf(path: Path, version: str, table: bytes, n_records: int = 5) -> Path:
    """A GDF of ``n_records`` 1-s records of three int16 channels in uV at 250 Hz, ``table``
    (the event table) after them."""
    ns, gdf2 = len(LABELS), version >= "GDF 1.94"
    head = bytearray(256)
    head[0:8] = version.encode()
    if gdf2:
        struct.pack_into("<HxxH", head, 184, ns + 1, 0)  # header length in 256-byte blocks
        struct.pack_into("<H", head, 252, ns)
    else:
        struct.pack_into("<q", head, 184, 256 * (ns + 1))
        struct.pack_into("<I", head, 252, ns)
    struct.pack_into("<qII", head, 236, n_records, 1, 1)  # records, record duration 1/1 s
    chans = b"".join(c.encode().ljust(16, b"\0") for c in LABELS) + b"\0" * 80 * ns
    ranges = [-3276.8] * ns + [3276.7] * ns
    if gdf2:
        chans += b"\0" * 6 * ns + struct.pack(f"<{ns}H", *[4256 + 19] * ns)  # uV
        chans += struct.pack(f"<{4 * ns}d", *ranges, *[-32768.0] * ns, *[32767.0] * ns)
        chans += b"\0" * 80 * ns
    else:
        chans += b"uV".ljust(8, b"\0") * ns + struct.pack(f"<{2 * ns}d", *ranges)
        chans += struct.pack(f"<{2 * ns}q", *[-32768] * ns, *[32767] * ns) + b"\0" * 80 * ns
    chans += struct.pack(f"<{2 * ns}i", *[GDF_HZ] * ns, *[3] * ns) + b"\0" * 32 * ns
    codes = np.random.default_rng(0).integers(-3000, 3000, (n_records, ns, GDF_HZ))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(head) + chans + codes.astype("<i2").tobytes() + table)
    return path


def _table(version: str, rate: float, rows: list[tuple[int, int, int]], mode: int) -> bytes:
    """An event table of ``rows`` (position from 1, type code, duration in samples; mode 3
    writes the durations, channel 0)."""
    n = len(rows)
    if version < "GDF 1.94":
        head = bytes([mode]) + int(rate).to_bytes(3, "little") + struct.pack("<I", n)
    else:
        head = bytes([mode]) + n.to_bytes(3, "little") + struct.pack("<f", rate)
    pos, typ, dur = zip(*rows)
    body = struct.pack(f"<{n}I", *pos) + struct.pack(f"<{n}H", *typ)
    if mode == 3:
        body += struct.pack(f"<{n}H", *[0] * n) + struct.pack(f"<{n}I", *dur)
    return head + body


GDF_ROWS = [(1, 0x300, 0), (251, 1, 125), (777, 0x8300, 1), (1250, 7, 2)]


@pytest.mark.parametrize("version", ["GDF 1.25", "GDF 2.20"])
@pytest.mark.parametrize("mode", [1, 3])
def test_gdf_events_match_mne_at_the_samples_rate(tmp_path: Path, version: str, mode: int) -> None:
    table = _table(version, GDF_HZ, GDF_ROWS, mode)
    path = _gdf(tmp_path / "src" / "r.gdf", version, table)
    _assert_same(_stored(path), _mne(path), GDF_HZ)


@pytest.mark.parametrize("version", ["GDF 1.25", "GDF 2.20"])
@pytest.mark.parametrize("mode", [1, 3])
def test_gdf_table_at_another_rate_gives_the_same_events(
    tmp_path: Path, version: str, mode: int
) -> None:
    """The same events in a table at 1000 Hz (positions and durations 4 times the 250-Hz
    ones) are the events MNE gives of the table at 250 Hz (MNE's own of the 1000-Hz table are
    4 times late)."""
    at_1000 = [(4 * (p - 1) + 1, t, 4 * d) for p, t, d in GDF_ROWS]
    path = _gdf(tmp_path / "src" / "r.gdf", version, _table(version, 1000.0, at_1000, mode))
    same = _gdf(tmp_path / "ref" / "r.gdf", version, _table(version, GDF_HZ, GDF_ROWS, mode))
    _assert_same(_stored(path), _mne(same), GDF_HZ)


# -- EEGLAB: the EEG struct written with scipy ----------------------------------------------------

SET_HZ = 250.0


def _set(path: Path, events: list[tuple[Any, float, float]], n_times: int = 2500) -> Path:
    """An EEGLAB .set (MAT v5, an ``EEG`` struct) of three channels at 250 Hz and ``events``
    (type, latency in samples from 1, duration in samples)."""
    import scipy.io

    locs = np.zeros((1, len(LABELS)), dtype=[("labels", object), ("type", object)])
    for i, label in enumerate(LABELS):
        locs[0, i] = (label, "EEG")
    kinds = [("type", object), ("latency", object), ("duration", object), ("urevent", object)]
    table = np.zeros((1, len(events)), dtype=kinds)
    for i, (kind, latency, duration) in enumerate(events):
        table[0, i] = (kind, latency, duration, float(i + 1))
    eeg = {"setname": "r", "filename": path.name, "nbchan": float(len(LABELS)), "trials": 1.0,
           "pnts": float(n_times), "srate": SET_HZ, "xmin": 0.0, "xmax": (n_times - 1) / SET_HZ,
           "times": np.zeros((0, 0)), "chanlocs": locs, "urevent": np.zeros((0, 0)),
           "event": table, "ref": "common",
           "data": np.random.default_rng(0).normal(0, 20, (len(LABELS), n_times))}  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    scipy.io.savemat(path, {"EEG": eeg}, oned_as="row")
    return path


SET_CASES: dict[str, list[tuple[Any, float, float]]] = {
    "latencies from 1": [("first", 1.0, 0.0), ("stim", 251.0, 0.0), ("resp", 1000.0, 25.0)],
    "fractional latencies": [("a", 251.5, 0.0), ("b", 100.25, 12.5), ("c", 1.0, 1.0)],
    "numeric types": [(7.0, 300.0, 0.0), (255.0, 400.0, 0.0), (1.5, 500.0, 0.0)],
    "text types": [("7.0", 300.0, 0.0), ("007", 310.0, 0.0), ("Äuge ✓", 320.0, 0.0)],
    "a boundary": [("boundary", 1000.5, 200.0), ("after", 1200.0, 0.0)],
    "at the last sample": [("last", 2500.0, 0.0), ("near", 2499.6, 0.0)],
    "empty types": [(np.zeros((0, 0)), 251.0, 0.0), ("", 300.0, 0.0), ("x", 310.0, 0.0)],
    "no duration": [("a", np.int32(251), np.zeros((0, 0))), ("b", np.uint16(500), 2.0)],
}


def _eeglab_terms(events: list[Event]) -> list[Event]:
    """MNE's events on eegprep's terms for EEGLAB (the module's docstring): a numeric type as
    its code, a ``boundary`` of no time, an empty type (``[]`` or ``''``) an empty label
    (MNE's ``'[]'`` is its text of an empty array, which the file does not say)."""

    def text(t: str) -> str:
        if t == "[]":
            return ""
        return str(int(float(t))) if t.endswith(".0") and t[:-2].lstrip("-").isdigit() else t

    return [(o, 0.0 if t == "boundary" else d, text(t)) for o, d, t in events]


@pytest.mark.parametrize("case", sorted(SET_CASES))
def test_eeglab_events_match_mne(tmp_path: Path, case: str) -> None:
    path = _set(tmp_path / "src" / "r.set", SET_CASES[case])
    _assert_same(_stored(path), _eeglab_terms(_mne(path)), SET_HZ)


# -- FIF through MNE's writer ---------------------------------------------------------------------

FIF_EVENTS: list[Event] = [(0.0, 0.0, "start"), (1.2345678, 0.5, "A"), (3.0, 0.004, "B, comma"),
                           (5.0, 1.0, "Äuge"), (9.996, 0.0, "last")]  # fmt: skip


def _fif(path: Path, first_samp: int, dated: bool, absolute: bool) -> Path:
    """A FIF of 10 s at 250 Hz starting at ``first_samp``, dated or not, its annotations set
    relative to the first sample or (``absolute``) on the measurement's clock."""
    import mne

    x = np.random.default_rng(0).normal(0, 20e-6, (len(LABELS), 2500))
    raw = mne.io.RawArray(x, mne.create_info(LABELS, 250.0, "eeg"), first_samp=first_samp,
                          verbose="error")  # fmt: skip
    if dated:
        raw.set_meas_date(datetime.datetime(2020, 1, 2, 3, 4, 5, 123456, tzinfo=datetime.UTC))
    onsets, durations, texts = zip(*FIF_EVENTS)
    shift, orig = (raw.first_time, raw.info["meas_date"]) if absolute else (0.0, None)
    raw.set_annotations(mne.Annotations(np.add(onsets, shift), durations, texts, orig_time=orig))
    path.parent.mkdir(parents=True, exist_ok=True)
    raw.save(path, verbose="error")
    return path


@pytest.mark.parametrize(
    ("first_samp", "dated", "absolute"),
    [(0, False, False), (1234, False, False), (1234, True, False), (1234, True, True)],
)
def test_fif_annotations_match_mne_and_the_writer(
    tmp_path: Path, first_samp: int, dated: bool, absolute: bool
) -> None:
    path = _fif(tmp_path / "src" / "r_raw.fif", first_samp, dated, absolute)
    stored = _stored(path)
    _assert_same(stored, _mne(path), 250.0)
    _assert_same(stored, sorted(FIF_EVENTS), 250.0)
