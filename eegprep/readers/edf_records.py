"""EDF/BDF data records read straight into numpy arrays.

An EDF file is a 256-byte main header, 256 bytes per signal, then ``n_records`` data records,
each holding ``samples_per_record[i]`` little-endian integers (2 bytes in EDF, 3 in BDF) of
every signal in turn. Reading a span of records with one ``np.fromfile`` call and slicing the
signals out of it is ~50x faster than one library call per signal and block.

pyedflib still parses and validates the header (labels, calibration, annotations); this module
only computes the record layout from the raw header fields and reads samples.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from eegprep.base.errors import SourceError
from eegprep.base.limits import check_allocation, check_time
from eegprep.base.regular_files import open_regular
from eegprep.base.wording import counted, noun
from eegprep.readers import byte_taps, event_count
from eegprep.readers.base import Annotation

ANNOTATION_LABELS = ("EDF Annotations", "BDF Annotations")
_TAL_CHUNK_BYTES = 1 << 22  # annotation records are read 4 MiB of records at a time


def header_text(raw: bytes) -> str:
    """A text field of an EDF/BDF header: up to its first NUL byte, UTF-8 where it is valid
    UTF-8 (a micro sign written by a UTF-8 system), else Latin-1 (every byte a character: the
    older writers' code page), stripped of spaces.

    A C writer ends a string with a NUL and may leave its buffer's old bytes after it
    (``mV\\0\\xcc\\xcc``: uninitialised memory): those bytes are no part of the text."""
    raw = raw.split(b"\x00", 1)[0]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    return text.strip(" ")


def header_int(raw: bytes) -> int:
    """A whole-number field of an EDF/BDF header (ASCII digits), up to its first NUL byte and
    stripped of spaces, as :func:`header_text` ends a text field: writers in C pad a field with
    NUL bytes where the specification says spaces (``256\\0\\0\\0\\0\\0``).

    Raises ``ValueError`` (``UnicodeDecodeError`` for a byte that is no ASCII) where the field
    is no whole number."""
    return int(raw.split(b"\x00", 1)[0].decode("ascii").strip(" "))


@dataclass(frozen=True)
class RecordLayout:
    """Where each signal's samples live in the data records.

    Attributes
    ----------
    header_bytes : int
        Offset of the first data record.
    n_records : int
        Data records in the file.
    record_samples : int
        Samples (all signals) per record.
    sample_bytes : int
        2 (EDF) or 3 (BDF).
    offsets, samples_per_record : tuple of int
        Per data signal (annotation signals and signals of 0 samples per record excluded, in
        pyedflib's order): first sample in a record, and samples per record.
    annotation_spans : tuple of (int, int)
        Per annotation signal (``EDF Annotations``): first sample in a record, samples per
        record.
    """

    header_bytes: int
    n_records: int
    record_samples: int
    sample_bytes: int
    offsets: tuple[int, ...]
    samples_per_record: tuple[int, ...]
    annotation_spans: tuple[tuple[int, int], ...] = ()

    @property
    def record_bytes(self) -> int:
        return self.record_samples * self.sample_bytes


def parse_layout(head: bytes) -> RecordLayout:
    """Record layout from the raw header bytes (main header and every signal header)."""
    ns = header_int(head[252:256])
    n_records = header_int(head[236:244])
    sample_bytes = 3 if head[:8] == b"\xffBIOSEMI" else 2
    base = 256
    labels = [header_text(head[base + 16 * i : base + 16 * (i + 1)]) for i in range(ns)]
    spr_at = base + ns * (16 + 80 + 8 + 8 + 8 + 8 + 8 + 80)
    spr = [header_int(head[spr_at + 8 * i : spr_at + 8 * (i + 1)]) for i in range(ns)]
    offsets, per_record, spans = [], [], []
    pos = 0
    for label, n in zip(labels, spr):
        if label in ANNOTATION_LABELS:
            spans.append((pos, n))
        elif n:  # (a signal of 0 samples per record holds none: no data signal)
            offsets.append(pos)
            per_record.append(n)
        pos += n
    return RecordLayout(
        256 * (ns + 1),
        n_records,
        pos,
        sample_bytes,
        tuple(offsets),
        tuple(per_record),
        tuple(spans),
    )


UNKNOWN_COUNT = -1
"""The record count EDF's header holds while recording ("unknown"), which a recorder that was
never closed (a crash, a power cut) leaves in the file."""


def counted_records(path: str, head: bytes) -> bytes:
    """``head`` (the raw header) as read, or, where its record count is :data:`UNKNOWN_COUNT`,
    with the count of whole data records the file holds in its place (as MNE counts them):
    every reader of the header then reads those records. :func:`check_file_size` names the
    count and refuses a file that holds none."""
    try:
        if header_int(head[236:244]) != UNKNOWN_COUNT:
            return head
        layout = parse_layout(head)
    except (UnicodeDecodeError, ValueError):  # (named where the fields are parsed)
        return head
    if layout.record_bytes <= 0:
        return head
    whole = (os.path.getsize(path) - layout.header_bytes) // layout.record_bytes
    if whole < 1:
        return head
    return head[:236] + str(whole).encode("ascii").ljust(8) + head[244:]


def count_unknown(path: str) -> bool:
    """Whether the header of the file at ``path`` gives :data:`UNKNOWN_COUNT` records."""
    with open_regular(path, buffering=-1) as fh:
        fh.seek(236)
        field = fh.read(8)
    try:
        return header_int(field) == UNKNOWN_COUNT
    except (UnicodeDecodeError, ValueError):
        return False


def check_file_size(path: str, layout: RecordLayout) -> str | None:
    """Compare the data records the header counts with the bytes the file holds.

    A file shorter than its header claims is refused; a longer one is read as the header
    describes it, and the returned warning names both counts. A header whose count is -1
    (unknown: :func:`counted_records` put the count of whole records in its place) is read for
    the records the file holds, with a warning saying so; one that holds none is refused.

    Raises
    ------
    SourceError
        The file holds fewer data records than the header claims, or the count is not positive.
    """
    size = os.path.getsize(path)
    record = layout.record_bytes
    data = size - layout.header_bytes
    whole = data // record if record > 0 else 0
    if layout.n_records == UNKNOWN_COUNT:
        raise SourceError(
            path,
            f"EDF header gives -1 data records (unknown: the recording was not closed) and the "
            f"file holds no whole record of {counted(record, 'byte')} after its header: no "
            "samples to read",
        )
    if layout.n_records <= 0:
        raise SourceError(path, f"EDF header claims {counted(layout.n_records, 'data record')}")
    expected = layout.header_bytes + layout.n_records * record
    if size < expected:
        raise SourceError(
            path,
            f"file is truncated: its header claims {counted(layout.n_records, 'data record')} "
            f"({counted(expected, 'byte')}) but it has {counted(size, 'byte')} "
            f"({counted(whole, 'whole record')}): re-download it",
        )
    if count_unknown(path):
        cut = size - expected
        return (
            f"EDF header gives -1 data records (unknown: the recording was not closed): read "
            f"the {counted(layout.n_records, 'whole record')} of {counted(record, 'byte')} the "
            "file holds"
            + (
                f", and not the {counted(cut, 'byte')} of a record cut short after them"
                if cut
                else ""
            )
        )
    if size > expected:
        return (
            f"file is longer than its header says: the header counts "
            f"{counted(layout.n_records, 'data record')} ({counted(expected, 'byte')}), the file "
            f"has {counted(size, 'byte')} ({counted(whole, 'whole record')}); only the first "
            f"{layout.n_records} {noun(layout.n_records, 'was', 'were')} read"
        )
    return None


@dataclass(frozen=True)
class RecordAnnotations:
    """What the ``EDF Annotations`` signals of a file say.

    Attributes
    ----------
    annotations : list of (onset s, duration s, text)
        Onsets from the first sample: the TALs' onsets (from the header's start time) less the
        first record's time-keeping onset, as pyedflib and MNE give them.
    record_onsets : list of float or None
        Each data record's time-keeping onset (s from the header's start time), None for a
        record without one.
    """

    annotations: list[tuple[float, float, str]]
    record_onsets: list[float | None]


def read_annotation_records(path: str, layout: RecordLayout) -> RecordAnnotations:
    """Every annotation of the file's ``EDF Annotations`` signals, and each record's onset,
    from the time-stamped annotation lists (TALs) of each data record.

    pyedflib parses them only when the reserved field says ``EDF+`` (and it opens the file); a
    plain EDF that carries such a signal (some exporters write one) is read here. Records are
    read a few MiB at a time, so memory does not grow with the file.
    """
    if not layout.annotation_spans or layout.record_bytes <= 0:
        return RecordAnnotations([], [])
    record = layout.record_bytes
    step = max(1, _TAL_CHUNK_BYTES // record)
    check_allocation(path, step * record, "reading EDF annotation records")
    out: list[tuple[float, float, str]] = []
    onsets: list[float | None] = []
    with open_regular(path, buffering=-1) as fh:
        fh.seek(layout.header_bytes)
        for first in range(0, layout.n_records, step):
            check_time(path)
            k = min(step, layout.n_records - first)
            raw = fh.read(k * record)
            rows = np.frombuffer(raw[: len(raw) // record * record], dtype=np.uint8)
            rows = rows.reshape(-1, record)
            for row in rows:
                keeping = None
                for off, n in layout.annotation_spans:
                    a, b = off * layout.sample_bytes, (off + n) * layout.sample_bytes
                    found, stamp = parse_tals(row[a:b].tobytes())
                    out += found
                    keeping = stamp if keeping is None else keeping
                onsets.append(keeping)
    t0 = onsets[0] if onsets and onsets[0] is not None else 0.0
    return RecordAnnotations([(o - t0, d, t) for o, d, t in out], onsets)


_TAL_TEXT_BYTES = 2
"""Fewest bytes one annotation takes in a TAL: a text byte and the byte 20 after it
(``+0\\x14a\\x14b\\x14\\x00`` holds two annotations)."""


def check_tal_count(path: str, layout: RecordLayout) -> None:
    """Refuse a file whose ``EDF Annotations`` signals hold more than
    :data:`~eegprep.readers.event_count.MAX_EVENTS` annotations, counted on the raw bytes
    before pyedflib, MNE or :func:`parse_tals` builds one object each (pyedflib's C library
    keeps ~550 bytes per annotation, Python ~200 more: a 4 MB file of 2 million one-byte TALs
    took 39 s and 1.45 GB).

    Counted as pyedflib counts them (:func:`_tal_texts`); files whose annotation bytes cannot
    hold that many (every file but a crafted or damaged one) are not read at all.

    Raises
    ------
    SourceError
        Naming the file and the count.
    """
    width = sum(n for _, n in layout.annotation_spans) * layout.sample_bytes
    if layout.n_records * width // _TAL_TEXT_BYTES <= event_count.MAX_EVENTS:
        return  # (no read: too few bytes to hold more)
    record = layout.record_bytes
    step = max(1, _TAL_CHUNK_BYTES // record)
    check_allocation(path, 4 * step * record, "counting EDF annotations")
    n_events = 0
    with open_regular(path, buffering=-1) as fh:
        fh.seek(layout.header_bytes)
        for first in range(0, layout.n_records, step):
            check_time(path)
            raw = fh.read(min(step, layout.n_records - first) * record)
            rows = np.frombuffer(raw[: len(raw) // record * record], dtype=np.uint8)
            rows = rows.reshape(-1, record)
            for k, (off, n) in enumerate(layout.annotation_spans):
                tals = rows[:, off * layout.sample_bytes : (off + n) * layout.sample_bytes]
                n_events += _tal_texts(tals, keeping=k == 0)
    event_count.check_event_count(
        path,
        n_events,
        "its annotation signal (EDF+ TALs)",
        "split the recording into shorter files, or thin its annotations",
    )


def _tal_texts(tals: np.ndarray, *, keeping: bool) -> int:
    """Annotations in one annotation signal's bytes of some records (records x bytes): the
    texts of its TALs, each a byte 20 followed by no byte 0 (an empty text counts: pyedflib
    gives it as an annotation), less the time-keeping TAL that opens each record's first
    annotation signal (``keeping``: ``+onset\\x14\\x14``, its first byte 20 followed by
    another)."""
    if tals.shape[1] < 2:
        return 0
    marks, after = tals[:, :-1] == 20, tals[:, 1:]
    n_texts = int(np.count_nonzero(marks & (after != 0)))
    if keeping:
        first = marks.argmax(axis=1)  # each record's first byte 20 (0 where it has none)
        rows = np.arange(len(tals))
        n_texts -= int(np.count_nonzero(marks[rows, first] & (after[rows, first] == 20)))
    return n_texts


_TAL = re.compile(rb"[^\x00]+")
"""A TAL and its texts: the bytes between bytes 0. Found one at a time, never split into a list
with an item per byte 0: an annotation signal is padded with them to its width, and a file whose
signal was 40 MB wide (one long annotation) gave a list of 40 million empty items per record,
9 CPU s and 450 MiB."""


def parse_tals(text: bytes) -> tuple[list[tuple[float, float, str]], float | None]:
    """The annotations of one record's TAL bytes (EDF+ section 2.2.2), and the onset of its
    time-keeping TAL (the first TAL whose first annotation is empty), or None.

    A TAL is ``+onset``, optionally byte 21 and a duration, then byte 20 before each text and
    after the last, then byte 0. Texts are UTF-8, as EDF+ says, else Latin-1 (older writers).
    EDF+ (section 2.2.4) makes the first annotation of each record empty, its onset the
    record's; annotations may follow it in the same TAL (``+0\x14\x14Start\x14``): they are
    the record's annotations at that onset, and the TAL still keeps the record's time (a file
    so written was refused as an EDF+D "without time-keeping annotations"). An empty text
    marks no event.
    """
    out = []
    keeping = None
    for hit in _TAL.finditer(text):  # (no copy of the text, and none of its padding)
        parts = hit.group().split(b"\x14")
        if len(parts) < 2:
            continue
        stamp = parts[0].decode("latin-1").split("\x15")
        try:
            onset = float(stamp[0])
            duration = float(stamp[1]) if len(stamp) > 1 and stamp[1] else 0.0
        except ValueError:
            continue  # a damaged TAL does not stop the EEG
        if not (math.isfinite(onset) and math.isfinite(duration)):
            continue
        labels = [_tal_text(piece) for piece in parts[1:]]
        if keeping is None and not labels[0]:
            keeping = onset
        out += [(onset, max(duration, 0.0), label) for label in labels if label]
    return out, keeping


CHANNEL_MARK = "@@"
"""How MNE's EDF export writes an annotation of some channels: one TAL text ``text@@label`` for
each channel (EDF+ itself gives a text no channel)."""


def channel_annotations(
    events: Sequence[Annotation], labels: Sequence[str]
) -> tuple[Annotation, ...]:
    """``events`` with each text ``text@@label``, where ``label`` is one of the file's signal
    ``labels``, read as MNE reads it: the text before the mark, on that channel, those of one
    onset, duration and text one event on their channels (joined by ``,``, in the file's
    order, as the ``mne`` reader gives a FIF annotation's). Any other text (``a@@``, ``a@@X``
    of no such signal) is the text. Before, the label was ``text@@label``, on no channel."""
    names = set(labels)
    out: list[Annotation] = []
    merged: dict[tuple[float, float, str], int] = {}
    for ev in events:
        text, mark, channel = ev.description.rpartition(CHANNEL_MARK)
        if not mark or channel not in names:
            out.append(ev)
            continue
        key = (ev.onset, ev.duration, text)
        at = merged.get(key)
        if at is None:
            merged[key] = len(out)
            out.append(replace(ev, description=text, channel=channel))
        else:
            out[at] = replace(out[at], channel=f"{out[at].channel},{channel}")
    return tuple(out)


def _tal_text(piece: bytes) -> str:
    try:
        return piece.decode("utf-8").strip()
    except UnicodeDecodeError:
        return piece.decode("latin-1").strip()


def read_records(path: str, layout: RecordLayout, first: int, last: int) -> np.ndarray:
    """Records ``[first, last)``, shape ``(last - first, record_samples)``: int16 (EDF, a view
    of the bytes read) or int32 (BDF).

    Raises ``EOFError`` when the file holds fewer records than asked for.
    """
    count = (last - first) * layout.record_bytes
    offset = layout.header_bytes + first * layout.record_bytes
    # the bytes, then float32 samples (EDF); BDF's 24-bit unpacking takes ~8 bytes per byte read
    check_allocation(path, count * (3 if layout.sample_bytes == 2 else 8), "reading data records")
    with open_regular(path, buffering=-1) as fh:
        fh.seek(offset)
        raw = fh.read(count)
    feed = byte_taps.watcher(path)
    if feed is not None:  # the ingest hashes the source from the bytes read here
        feed(offset, raw)
    if len(raw) < count:
        have = first + len(raw) // (layout.record_samples * layout.sample_bytes)
        raise EOFError(f"file ends after data record {have}, header promises {layout.n_records}")
    if layout.sample_bytes == 2:
        ints = np.frombuffer(raw, dtype="<i2")
    else:
        b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        ints = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        ints = np.where(ints >= 1 << 23, ints - (1 << 24), ints)
    return ints.reshape(last - first, layout.record_samples)


PIECE_BYTES = 4 * 2**20
"""Bytes of data records read at a time by :func:`read_signals`: each piece is decoded into the
output while it is in the CPU's cache, and a block's raw bytes are never held whole (a fresh
process faults in 4 MB instead of a block's 20-40 MB)."""


def read_signals(
    path: str,
    layout: RecordLayout,
    picks: list[int],
    start: int,
    stop: int,
    out: np.ndarray,
    *,
    gains: np.ndarray,
    offsets: np.ndarray,
    centres: np.ndarray,
) -> None:
    """Samples ``[start, stop)`` of signals ``picks`` (same samples per record), calibrated:
    ``gains[i] * (digital - centres[i]) + offsets[i]`` (``centres``: whole codes within the
    digital range, so the difference is exact in float32), written into ``out`` (float32,
    shape ``(len(picks), stop - start)``, its rows contiguous).

    The records are read :data:`PIECE_BYTES` at a time; each piece's samples go straight to
    their place in every row (:func:`_place`), converted, then multiplied in place while in
    cache: the same bits as numpy's buffered convert-and-multiply, ~15% faster."""
    spr = layout.samples_per_record[picks[0]]
    first, last = start // spr, -(-stop // spr)
    if out.shape[1] > 1 and out.strides[1] != out.itemsize:
        raise ValueError("out's rows must be contiguous")
    per_piece = max(1, PIECE_BYTES // max(layout.record_bytes, 1))
    for r0 in range(first, last, per_piece):
        r1 = min(last, r0 + per_piece)
        records = read_records(path, layout, r0, r1)
        a, b = max(start, r0 * spr), min(stop, r1 * spr)  # the samples this piece holds
        for row, pick in enumerate(picks):
            off = layout.offsets[pick]
            target = out[row, a - start : b - start]
            _place(records[:, off : off + spr], a - r0 * spr, target)
            if centres[row]:
                target -= np.float32(centres[row])
            np.multiply(target, np.float32(gains[row]), out=target)
            if offsets[row]:
                target += np.float32(offsets[row])


def _place(source: np.ndarray, skip: int, target: np.ndarray) -> None:
    """Samples ``skip ..`` of ``source`` (records x samples per record, a strided view) into
    the contiguous ``target``, converted: the partial first record, the whole records as one
    ``(records, spr)`` copy, the partial last record."""
    spr, n = source.shape[1], target.shape[0]
    head = min(n, (spr - skip) % spr)  # samples of a partial first record
    whole = (n - head) // spr  # whole records after it
    tail = n - head - whole * spr  # samples of a partial last record
    r0 = 1 if head else 0  # the first whole record's row in ``source``
    if head:
        np.copyto(target[:head], source[0, skip : skip + head], casting="unsafe")
    if whole:
        body = target[head : head + whole * spr].reshape(whole, spr)
        np.copyto(body, source[r0 : r0 + whole], casting="unsafe")
    if tail:
        np.copyto(target[n - tail :], source[r0 + whole, :tail], casting="unsafe")
