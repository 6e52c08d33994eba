"""Files crafted to hold more events than a recording may store (10^6), at full scale: each is
refused in one line, in seconds and a few tens of MB, before one event is built.

Measured before the counts (2 cores): an EDF+ of 2 million one-byte TALs (4 MB) was read in
39 s and 1.45 GB (pyedflib's C library, then one Annotation each), refused only by the ingest;
a Neuroscan CNT with 2 million events in its table, and a FIF with 2 million annotations (198 s,
2.6 GB), went through MNE whole; an EEGLAB ``.set`` with 1.5 million events was refused after
~50-250 s, the structure check that keeps scipy's parser from crashing having walked each of
its 6 million elements in Python, twice. The scaled-down counts (the limit patched to a few
events) are in tests/eegprep/test_event_counts_bounded.py.
"""

from __future__ import annotations

import struct
import time
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from eegprep.base.errors import SourceError
from eegprep.readers import get_reader
from eegprep.readers.event_count import MAX_EVENTS
from eegprep.readers.mne_formats import clear_cache

SECONDS = 60.0  # a guard against a hang (the old code took 39-250 s on each file)
PEAK_BYTES = 64e6  # what tells the old code (1.4-2.6 GB) on any machine


def _refused(read: Callable[[], Any], n_events: int, where: str) -> None:
    """``read`` refuses its file naming ``where`` and ``n_events``, within the bounds."""
    clear_cache()
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(SourceError) as err:
            read()
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    said = str(err.value)
    assert f"{where} gives {n_events:,} events, over the {MAX_EVENTS:,}" in said, said
    assert "\n" not in said
    assert seconds < SECONDS, f"refused after {seconds:.1f} s"
    assert peak < PEAK_BYTES, f"{peak / 1e6:.0f} MB to refuse it"


# -- EDF+ / BDF+ ------------------------------------------------------------------------------


def dense_edf(path: Path, n_records: int, per_record: int, *, bdf: bool = False) -> str:
    """An EDF+ (BDF+) of ``n_records`` 1 s records, one 10 Hz signal, whose annotation signal
    holds ``per_record`` one-byte annotations (``a``) in one TAL per record, after the record's
    time-keeping TAL."""
    from eegprep.readers.edf_records import parse_layout
    from eegprep.testing.edf_writer import write_edf

    longest = b"+%d\x14\x14\x00+%d\x14" % (n_records, n_records) + b"a\x14" * per_record
    write_edf(path, [np.zeros(10 * n_records)], labels=["Fp1"], sfreqs=10.0, edf_plus=True,
              bdf=bdf, annotations=[(0.0, None, "x" * len(longest))])  # fmt: skip
    raw = bytearray(path.read_bytes())
    layout = parse_layout(bytes(raw[: 256 * (int(raw[252:256]) + 1)]))
    ((off, n),) = layout.annotation_spans
    width = n * layout.sample_bytes
    for i in range(n_records):
        tals = b"+%d\x14\x14\x00+%d\x14" % (i, i) + b"a\x14" * per_record + b"\x00"
        at = layout.header_bytes + i * layout.record_bytes + off * layout.sample_bytes
        raw[at : at + width] = tals.ljust(width, b"\x00")
    path.write_bytes(bytes(raw))
    return str(path)


@pytest.mark.parametrize("bdf", [False, True], ids=["EDF+", "BDF+"])
@pytest.mark.parametrize("reader", ["edf", "mne"])
def test_an_edf_with_millions_of_tals_is_refused_before_they_are_built(
    tmp_path: Path, bdf: bool, reader: str
) -> None:
    # was: pyedflib (or MNE, given an option) built all 2 million: 39 s, 1.45 GB
    path = dense_edf(tmp_path / ("r.bdf" if bdf else "r.edf"), 100, 20_000, bdf=bdf)
    options: dict[str, Any] = {"preload": False} if reader == "mne" else {}  # MNE reads it
    _refused(
        lambda: get_reader(reader).read_header(path, **options),
        2_000_000,
        "its annotation signal (EDF+ TALs)",
    )


# -- Neuroscan CNT -----------------------------------------------------------------------------


def dense_cnt(path: Path, n_events: int) -> str:
    """A 10 s, 2-channel, 100 Hz CNT whose type-2 event table holds ``n_events`` stimuli of
    code 1, one a sample from sample 1 (over and over): each entry's offset the byte at which
    its sample's frame starts."""
    from eegprep.testing.fixtures.cnt_writer import write_cnt

    write_cnt(path, np.zeros((2, 1000)), ["FP1", "FP2"], 100)
    raw = path.read_bytes()
    (table,) = struct.unpack_from("<i", raw, 886)
    events = np.zeros(n_events, [("code", "<u2"), ("keys", "u2"), ("offset", "<i4"), ("", "V11")])
    events["code"] = 1
    events["offset"] = 900 + 75 * 2 + (1 + np.arange(n_events) % 998) * 2 * 4
    path.write_bytes(raw[:table] + struct.pack("<Bii", 2, events.nbytes, 0) + events.tobytes())
    return str(path)


def test_a_cnt_event_table_of_millions_is_refused_from_its_size(tmp_path: Path) -> None:
    # was: MNE read the table and built an annotation each, then eegprep an event each
    path = dense_cnt(tmp_path / "r.cnt", 2_000_000)
    _refused(lambda: get_reader("mne").read_header(path), 2_000_000, "its event table (byte 9050)")


def test_a_cnt_event_table_under_the_limit_reads_as_before(tmp_path: Path) -> None:
    path = dense_cnt(tmp_path / "r.cnt", 5)
    header = get_reader("mne").read_header(path)
    assert [(a.onset, a.description) for a in header.annotations] == [
        ((1 + k) / 100, "1") for k in range(5)
    ]  # (MNE's own reading put each a sample earlier: docs/corpora.md#neuroscan-cnt-events)


# -- FIF ---------------------------------------------------------------------------------------


def _fif_tags(raw: bytes) -> Iterator[tuple[int, int, int]]:
    """(position, kind, size) of each tag of a FIF file MNE wrote (tags one after another)."""
    pos = 0
    while pos + 16 <= len(raw):
        kind, _, size, _ = struct.unpack_from(">iiii", raw, pos)
        yield pos, kind, size
        pos += 16 + size


def dense_fif(path: Path, onsets: np.ndarray) -> str:
    """A 10 s, 2-channel, 100 Hz raw FIF whose annotations block holds one ``stim``
    annotation at each of ``onsets`` (s), written as MNE writes that block."""
    import mne

    raw = mne.io.RawArray(np.zeros((2, 1000)), mne.create_info(["Fp1", "Fp2"], 100.0, "eeg"),
                          verbose="error")  # fmt: skip
    raw.set_annotations(mne.Annotations([0.5], [0.0], ["x"]))
    raw.save(path, overwrite=True, verbose="error")
    data = path.read_bytes()
    starts = [
        p for p, k, _ in _fif_tags(data) if k == 104 and data[p + 16 : p + 20] == b"\0\0\x0e\xe2"
    ]
    ends = [
        p + 20
        for p, k, _ in _fif_tags(data)
        if k == 105 and data[p + 16 : p + 20] == b"\0\0\x0e\xe2"
    ]
    onsets32 = np.asarray(onsets, ">f4")
    names = ":".join(["stim"] * len(onsets)).encode()

    def tag(kind: int, kind_of_data: int, body: bytes) -> bytes:
        return struct.pack(">iiii", kind, kind_of_data, len(body), 0) + body

    block = (
        tag(104, 3, struct.pack(">i", 3810))
        + tag(3568, 4, onsets32.tobytes())
        + tag(3569, 4, onsets32.tobytes())
        + tag(206, 10, names)
        + tag(105, 3, struct.pack(">i", 3810))
    )
    path.write_bytes(data[: starts[0]] + block + data[ends[0] :])
    return str(path)


def test_a_fif_with_millions_of_annotations_is_refused_from_its_tags(tmp_path: Path) -> None:
    # was: MNE read all 2 million, then eegprep built an event each: 198 s, 2.6 GB
    path = dense_fif(tmp_path / "r_raw.fif", np.linspace(0.0, 9.0, 2_000_000))
    _refused(lambda: get_reader("mne").read_header(path), 2_000_000, "its annotations block")


def test_a_fif_under_the_limit_reads_its_annotations_as_before(tmp_path: Path) -> None:
    path = dense_fif(tmp_path / "r_raw.fif", np.array([0.25, 1.5, 4.0]))
    header = get_reader("mne").read_header(path)
    assert [(a.onset, a.description) for a in header.annotations] == [
        (0.25, "stim"), (1.5, "stim"), (4.0, "stim")
    ]  # fmt: skip


# -- EEGLAB ------------------------------------------------------------------------------------


def _element(mdtype: int, data: bytes) -> bytes:
    """A MAT v5 data element: its tag, its bytes, padding to 8."""
    return struct.pack("<II", mdtype, len(data)) + data + b"\0" * (-len(data) % 8)


def _head(cls: int, dims: tuple[int, ...], name: str = "") -> bytes:
    """An array's flags, dimensions and name (the content of an miMATRIX before its data)."""
    dims_raw = struct.pack(f"<{len(dims)}i", *dims)
    return (
        _element(6, struct.pack("<II", cls, 0)) + _element(5, dims_raw) + _element(1, name.encode())
    )


def _double(value: Any, name: str = "") -> bytes:
    values = np.atleast_2d(np.asarray(value, "<f8"))
    return _element(14, _head(6, values.shape, name) + _element(9, values.tobytes(order="F")))


def _char(text: str, name: str = "") -> bytes:
    return _element(14, _head(4, (1, len(text)), name) + _element(4, text.encode("utf-16-le")))


def _struct(names: list[str], entries: bytes, n: int, name: str = "") -> bytes:
    """A 1 x ``n`` struct array: field names, then each entry's fields (``entries``)."""
    listed = b"".join(f.encode().ljust(32, b"\0") for f in names)
    head = _head(2, (1, n), name) + _element(5, struct.pack("<i", 32)) + _element(1, listed)
    return _element(14, head + entries)


class _Events:
    """``EEG.event``, a 1 x ``n`` struct array of ``type`` 'stim' at ``latencies`` (samples;
    ``None``: all at 1), written in pieces (2 million entries are 290 MB, never held whole)."""

    def __init__(self, n: int, latencies: list[float] | None, name: str = "") -> None:
        listed = b"".join(f.encode().ljust(32, b"\0") for f in ("type", "latency"))
        self.head = (
            _head(2, (1, n), name) + _element(5, struct.pack("<i", 32)) + _element(1, listed)
        )
        self.n, self.latencies = n, latencies
        self.entry = _char("stim") + _double(1.0)  # (every latency's entry is as long)
        self.size = 8 + len(self.head) + len(self.entry) * n

    def pieces(self) -> Iterator[bytes]:
        yield struct.pack("<II", 14, self.size - 8) + self.head
        if self.latencies is not None:
            yield b"".join(_char("stim") + _double(t) for t in self.latencies)
            return
        for first in range(0, self.n, 50_000):
            yield self.entry * min(50_000, self.n - first)


def _compressed(pieces: Iterator[bytes]) -> bytes:
    """One top-level variable's bytes as an ``miCOMPRESSED`` element, as MATLAB saves them."""
    deflate = zlib.compressobj(1)
    out = b"".join(deflate.compress(p) for p in pieces) + deflate.flush()
    return struct.pack("<II", 15, len(out)) + out


def crafted_set(
    path: Path, n_events: int, *, in_struct: bool, latencies: list[float] | None = None
) -> str:
    """A 2-channel, 10 s, 100 Hz EEGLAB ``.set`` (MAT v5) with ``n_events`` events (at
    ``latencies``, samples), as one ``EEG`` struct or as top-level variables (EEGLAB's two
    layouts); the variable holding the events compressed, as MATLAB saves it."""

    def fields(named: bool) -> dict[str, bytes]:
        def n(key: str) -> str:
            return key if named else ""

        return {
            "setname": _char("rec", n("setname")), "nbchan": _double(2.0, n("nbchan")),
            "trials": _double(1.0, n("trials")), "pnts": _double(1000.0, n("pnts")),
            "srate": _double(100.0, n("srate")), "xmin": _double(0.0, n("xmin")),
            "xmax": _double(9.99, n("xmax")), "data": _double(np.zeros((2, 1000)), n("data")),
            "chanlocs": _struct(["labels"], _char("Fp1") + _char("Fp2"), 2, n("chanlocs")),
        }  # fmt: skip

    header = b"MATLAB 5.0 MAT-file, crafted".ljust(116) + b"\0" * 8 + b"\x00\x01IM"
    if not in_struct:
        events = _Events(n_events, latencies, "event")
        plain = b"".join(fields(True).values())
        tail = _compressed(events.pieces()) + _char("common", "ref")
        path.write_bytes(header + plain + tail)
        return str(path)
    events = _Events(n_events, latencies)
    before = list(fields(False).values())
    names = [*fields(False), "event", "ref"]
    listed = b"".join(f.encode().ljust(32, b"\0") for f in names)
    head = _head(2, (1, 1), "EEG") + _element(5, struct.pack("<i", 32)) + _element(1, listed)
    size = len(head) + sum(map(len, before)) + events.size + len(_char("common"))

    def eeg() -> Iterator[bytes]:
        yield struct.pack("<II", 14, size) + head
        yield from before
        yield from events.pieces()
        yield _char("common")

    path.write_bytes(header + _compressed(eeg()))
    return str(path)


@pytest.mark.parametrize("in_struct", [True, False], ids=["EEG-struct", "variables"])
def test_an_eeglab_set_of_millions_of_events_is_refused_in_seconds(
    tmp_path: Path, in_struct: bool
) -> None:
    # was: refused only after the structure check walked its 6 million elements (twice)
    path = crafted_set(tmp_path / "r.set", 1_500_000, in_struct=in_struct)
    _refused(lambda: get_reader("mne").read_header(path), 1_500_000, "its EEG.event")


@pytest.mark.parametrize("in_struct", [True, False], ids=["EEG-struct", "variables"])
def test_an_eeglab_set_under_the_limit_reads_its_events_as_before(
    tmp_path: Path, in_struct: bool
) -> None:
    path = crafted_set(tmp_path / "r.set", 3, in_struct=in_struct, latencies=[1.0, 51.0, 401.0])
    clear_cache()
    header = get_reader("mne").read_header(path)
    assert [(a.onset, a.description) for a in header.annotations] == [
        (0.0, "stim"), (0.5, "stim"), (4.0, "stim")
    ]  # fmt: skip


def crafted_set73(path: Path, n_events: int, *, in_struct: bool) -> str:
    """The same recording as a MAT 7.3 (HDF5) ``.set``, its ``EEG.event`` a struct array of
    ``n_events`` entries whose fields all refer to one ``'stim'`` and one latency of 1 (24 MB
    for 1.5 million)."""
    import h5py

    from eegprep.testing.mat73_writer import write_mat73

    eeg = {
        "setname": "rec", "nbchan": 2.0, "trials": 1.0, "pnts": 1000.0, "srate": 100.0,
        "xmin": 0.0, "xmax": 9.99, "data": np.zeros((2, 1000)),
        "chanlocs": {"labels": ["Fp1", "Fp2"]}, "ref": "common",
    }  # fmt: skip
    write_mat73(path, {"EEG": eeg} if in_struct else eeg)
    with h5py.File(path, "a") as f:
        refs = f.require_group("#refs#")
        stim = refs.create_dataset("stim", data=np.array([[115], [116], [105], [109]], "u2"))
        stim.attrs["MATLAB_class"] = np.bytes_("char")
        one = refs.create_dataset("one", data=np.array([[1.0]]))
        one.attrs["MATLAB_class"] = np.bytes_("double")
        event = (f["EEG"] if in_struct else f).create_group("event")
        event.attrs["MATLAB_class"] = np.bytes_("struct")
        for name, target in (("type", stim), ("latency", one)):
            pointers = np.empty((n_events, 1), dtype=h5py.ref_dtype)
            pointers[:] = target.ref  # (filled in numpy: h5py converts a scalar one by one)
            event.create_dataset(name, data=pointers)
    return str(path)


@pytest.mark.parametrize("in_struct", [True, False], ids=["EEG-struct", "variables"])
def test_a_mat73_set_of_millions_of_events_is_refused_from_its_shapes(
    tmp_path: Path, in_struct: bool
) -> None:
    # (already refused in 1 s before: no walk of MAT 7.3 elements came first; kept so)
    path = crafted_set73(tmp_path / "r.set", 1_500_000, in_struct=in_struct)
    _refused(lambda: get_reader("mne").read_header(path), 1_500_000, "its EEG.event")


def test_the_structure_check_walks_no_plain_field_of_a_legal_set_element_by_element(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # was: every field of every event went through the generic walk (1.86x the time scipy
    # takes to parse the file: 10.8 s against 5.8 s for 900,000 events, 2 cores); a plain char
    # or numeric field is now checked in one pass (0.52x, docs/corpora.md "Events"). Counted,
    # not timed: the generic walk is entered a few times per file, not once per field.
    from eegprep.readers import mat_v5_structure

    walks = []
    walk = mat_v5_structure._walk_array

    def counted(*args: Any, **kwargs: Any) -> None:
        walks.append(1)
        walk(*args, **kwargs)

    monkeypatch.setattr(mat_v5_structure, "_walk_array", counted)
    n_events = 2_000
    path = crafted_set(tmp_path / "r.set", n_events, in_struct=True)
    mat_v5_structure.check_v5_structure(path)
    assert 0 < len(walks) < n_events // 10, f"{len(walks)} walks for {n_events} events"


@pytest.mark.parametrize("value", [0x00, 0x08, 0x7C, 0xFF])
def test_the_one_pass_field_check_refuses_what_the_full_walk_refuses(
    tmp_path: Path, value: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # every byte of an uncompressed set's events set to ``value`` in turn: the one-pass check
    # of plain fields must refuse each file the full walk refuses (it only ever defers to it)
    from eegprep.readers import mat_v5_structure

    good = Path(crafted_set(tmp_path / "r.set", 3, in_struct=False, latencies=[1.0, 2.0, 3.0]))
    raw = good.read_bytes()
    at = raw.index(b"\x0f\x00\x00\x00", 128)  # the compressed EEG.event, as plain bytes
    n_bytes = struct.unpack_from("<I", raw, at + 4)[0]
    events = zlib.decompress(raw[at + 8 : at + 8 + n_bytes])
    plain = raw[:at] + events + raw[at + 8 + n_bytes :]
    bad = tmp_path / "bad.set"

    def refused() -> bool:
        try:
            mat_v5_structure.check_v5_structure(str(bad))
        except SourceError:
            return True
        return False

    n_refused = 0
    for i in range(at, at + len(events)):
        bad.write_bytes(plain[:i] + bytes([value]) + plain[i + 1 :])
        fast = refused()
        with monkeypatch.context() as m:
            m.setattr(mat_v5_structure, "_plain_leaf", lambda *_: False)
            assert refused() == fast, f"byte {i} set to {value}"
        n_refused += fast
    assert n_refused > 0


def test_a_legal_set_is_walked_once_for_its_structure_and_its_64_bit_integers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # was: after the structure check's walk, a second walk of every element looked for 64-bit
    # integers beyond 2^53 (mat_exact, ~14 of ~75 CPU s of a 900,000-event .set, 2 cores); the
    # structure check reads them in its one pass. Counted: the element reads of the checks
    # before MNE opens the file against those of one structure check
    from eegprep.readers import mat_v5_stream
    from eegprep.readers.mat_v5_structure import check_v5_structure
    from eegprep.readers.mne_prechecks import check_before_mne

    reads = []
    read = mat_v5_stream.VariableStream.read

    def counted(self: mat_v5_stream.VariableStream, n: int) -> bytes:
        reads.append(n)
        return read(self, n)

    monkeypatch.setattr(mat_v5_stream.VariableStream, "read", counted)
    path = crafted_set(tmp_path / "r.set", 2_000, in_struct=True)
    check_v5_structure(path)
    one_walk, reads[:] = len(reads), []
    check_before_mne(path, {})
    assert len(reads) < 1.2 * one_walk, f"{len(reads)} reads, {one_walk} in one walk"


def test_a_set_event_description_is_written_once_per_distinct_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # was: each of a .set's events had its description matched against MNE's text of a float
    # (7.0 -> '7') on its own, 900,000 regular-expression matches for two texts; counted
    from eegprep.readers import mne_events

    calls = []
    text = mne_events._event_text

    def counted(suffix: str, description: str) -> str:
        calls.append(description)
        return text(suffix, description)

    monkeypatch.setattr(mne_events, "_event_text", counted)
    path = crafted_set(
        tmp_path / "r.set", 500, in_struct=False, latencies=[1.0 + k for k in range(500)]
    )
    clear_cache()
    header = get_reader("mne").read_header(path)
    assert len(header.annotations) == 500 and {a.description for a in header.annotations} == {
        "stim"
    }
    assert len(calls) == 1, f"{len(calls)} descriptions written for 1 distinct one"
