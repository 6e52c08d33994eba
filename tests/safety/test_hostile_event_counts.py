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
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from eegprep.base.errors import SourceError
from eegprep.readers import get_reader
from eegprep.readers.event_count import MAX_EVENTS
from eegprep.readers.mne_formats import clear_cache

SECONDS = 20.0  # the old code took 39-250 s on each file
PEAK_BYTES = 64e6  # and 1.4-2.6 GB


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
    code 1, one a sample from the first (over and over)."""
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
        (k / 100, "1") for k in range(5)
    ]


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
