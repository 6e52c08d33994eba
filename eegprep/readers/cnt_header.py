"""A Neuroscan CNT file's binary header checked before MNE opens it: what MNE would fail on, or
say only in its own terms, is refused in one line naming the field and its value.

MNE fails on a cut file with ``unpack requires a buffer of 9 bytes``, on a channel count of 0
with ``integer division or modulo by zero``, on a rate of 0 with
``float division by zero``, on a channel whose sensitivity or calibration is 0 or NaN with
``Bad cals for channels {np.int64(2): 'CZ'}``, on an event table whose size field is negative
or not whole events with ``read length must be non-negative`` or ``iterative unpacking
requires a buffer of a multiple of 19 bytes``, on a rejected span that no accept marker
closes with ``IndexError: list index out of range`` (and gives wrong spans to markers out of
turn), and on a block size (``ChannelOffset``) that
does not divide the samples with ``cannot reshape array`` when the samples are read.

Positions (the SETUP header, http://paulbourke.net/dataformats/eeg/, as MNE reads it): the
channel count (uint16 at 370), the rate (uint16 at 376), the sample count (int32 at 864), the
event table's position (int32 at 886), the block size in bytes (int32 at 894); then 75 bytes
per channel from byte 900: label (10 bytes), sensitivity (float32 at +59), calibration
(float32 at +71). The event table: type (1 byte), size and offset (int32), then the events,
8 bytes each for type 1 and 19 for types 2 and 3.
"""

from __future__ import annotations

import math
import os
import struct
from datetime import datetime
from typing import BinaryIO

import numpy as np

from eegprep.base.errors import SourceError
from eegprep.base.regular_files import open_regular
from eegprep.base.wording import counted
from eegprep.readers.event_count import check_event_count
from eegprep.readers.read_once import once

SETUP_BYTES = 900  # bytes of the SETUP header, then 75 per channel
CHANNEL_BYTES = 75
EVENT_TABLE_HEAD = struct.Struct("<Bii")  # the event table's header: type, size, offset
_EVENT_BYTES = {1: 8, 2: 19, 3: 19}
_DAMAGED = "the header is damaged; re-export or re-download it"


@once
def check_cnt(
    path: str, data_format: str = "auto", recompute_n_samples: bool | None = None
) -> str | None:
    """Refuse a CNT file whose header MNE would fail on (see the module), or read wrong;
    ``data_format`` and ``recompute_n_samples`` are the reader options of those names
    (``"auto"``: the sample width inferred, as MNE does). A warning when the samples before the
    event table are more than the header counts (:func:`_check_given_width`)."""
    warning = None
    size = os.path.getsize(path)
    with open_regular(path, buffering=-1) as fh:
        head = fh.read(SETUP_BYTES)
        if len(head) < SETUP_BYTES:
            raise SourceError(
                path,
                f"file is truncated: {size} bytes, less than the {SETUP_BYTES}-byte CNT "
                "header: re-download it",
            )
        n_channels = int.from_bytes(head[370:372], "little")
        if n_channels == 0:  # MNE: "integer division or modulo by zero"
            raise SourceError(path, f"the header's channel count (byte 370) is 0: {_DAMAGED}")
        if int.from_bytes(head[376:378], "little") == 0:
            raise SourceError(path, f"the header's sampling rate (byte 376) is 0 Hz: {_DAMAGED}")
        channels = fh.read(CHANNEL_BYTES * n_channels)
        _check_text(path, head, channels, n_channels)
        _check_calibrations(path, channels, n_channels)
        table = int.from_bytes(head[886:890], "little", signed=True)
        data_start = SETUP_BYTES + CHANNEL_BYTES * n_channels
        if data_format == "auto" and size < 2e9:
            _check_width(path, head, (data_start, table, n_channels))
        if table < data_start:
            return None  # MNE recomputes it from the sample count (data_format given)
        if data_format in _WIDTHS and size < 2e9 and not recompute_n_samples:
            warning = _check_given_width(path, head, (data_start, table, n_channels), data_format)
        if size < table + EVENT_TABLE_HEAD.size:
            raise SourceError(
                path,
                f"file is truncated: its header places the end of the samples (the event "
                f"table) at byte {table} but it has {size} bytes: re-download it",
            )
        fh.seek(table)
        kind, length, _ = EVENT_TABLE_HEAD.unpack(fh.read(EVENT_TABLE_HEAD.size))
        _check_events(path, table, kind, length, size)
        check_event_count(  # from the table's size, before MNE builds an annotation of each
            path,
            length // _EVENT_BYTES[kind],
            f"its event table (byte {table})",
            "split the recording into shorter files, or re-download it if the table's size "
            "is damaged",
        )
        _check_rejected_spans(path, _accept_codes(fh, kind, length))
    n_samples = int.from_bytes(head[864:868], "little", signed=True)
    block = int.from_bytes(head[894:898], "little", signed=True)
    _check_blocks(path, n_samples, block, (table - data_start, n_channels))
    return warning


_WIDTHS = {"int16": 2, "int32": 4}


def _check_given_width(
    path: str, head: bytes, layout: tuple[int, int, int], data_format: str
) -> str | None:
    """A ``data_format`` given against the header's sample count (byte 864) and event table
    position (byte 886), which MNE then both trusts: 32-bit samples read as 16-bit (each
    value read as two) are refused, as is a count that runs past the event table (MNE read the
    table as samples, or failed with ``cannot reshape array``); a warning when the bytes before
    the table hold more samples than the header counts (MNE reads the header's count)."""
    data_start, table, n_channels = layout
    width = _WIDTHS[data_format]
    n_samples = int.from_bytes(head[864:868], "little", signed=True)
    n_data = table - data_start
    if n_samples <= 0:
        return None  # MNE counts the samples from the bytes
    held = n_data // (n_channels * width)
    other = 6 - width
    if n_samples * n_channels * other == n_data != n_samples * n_channels * width:
        name = "int32" if other == 4 else "int16"
        raise SourceError(
            path,
            f'the reader\'s data_format is "{data_format}" ({width}-byte samples), but the '
            f"header's sample count (byte 864: {n_samples}) and event table (byte 886: at byte "
            f"{table}) give its {counted(n_channels, 'channel')} {other}-byte samples ({n_data} "
            "bytes from "
            f'byte {data_start}): every value would be read wrong; give data_format = "{name}" '
            "in [reader.options], or leave it out (or, if the header's count is wrong, give "
            "recompute_n_samples = true)",
        )
    if n_samples > held:
        raise SourceError(
            path,
            f"the header's sample count (byte 864) is {n_samples}, but its samples end at the "
            f"event table (byte 886: at byte {table}) after {held} of "
            f"{counted(n_channels, 'channel')} x "
            f"{width} bytes: re-download it, or give recompute_n_samples = true in "
            f"[reader.options] to read the {held} there",
        )
    if n_samples < held:
        return (
            f"the bytes before its event table (byte {table}) hold {counted(held, 'sample')} per "
            f"channel of {width} bytes, the header's sample count (byte 864) says {n_samples}: the "
            f"header's {n_samples} were read (recompute_n_samples = true reads all {held})"
        )
    return None


# the SETUP's text fields MNE reads as ASCII (up to the first NUL): (name, offset, length)
_TEXT_FIELDS = [("patient id", 21, 20), ("patient name", 121, 20), ("sex", 143, 1),
                ("handedness", 144, 1), ("session label", 205, 20), ("session date", 225, 10),
                ("session time", 235, 12)]  # fmt: skip


def _check_text(path: str, head: bytes, channels: bytes, n_channels: int) -> None:
    """The text fields MNE decodes as ASCII (``'ascii' codec can't decode byte 0xc1``): the
    SETUP's patient and session fields and each channel's label.

    A SETUP field's text is never shown (the patient's name or id would reach the report and
    the terminal): the message names the field and the byte that is not ASCII. A channel
    label is quoted."""
    for name, at, n in _TEXT_FIELDS:
        text = head[at : at + n].split(b"\0")[0]
        if not text.isascii():
            k = next(i for i, b in enumerate(text) if b > 0x7F)
            raise SourceError(
                path,
                f"the header's {name} (bytes {at}-{at + n}) holds byte {text[k]:#04x} at byte "
                f"{at + k}, not ASCII text, which is all MNE reads there (its text is not "
                "shown: it may identify the patient): blank the field, or re-export the file "
                "with ASCII text there",
            )
    for i in range(min(n_channels, len(channels) // CHANNEL_BYTES)):
        at = SETUP_BYTES + CHANNEL_BYTES * i
        text = channels[CHANNEL_BYTES * i : CHANNEL_BYTES * i + 10].split(b"\0")[0]
        if not text.isascii():
            raise SourceError(
                path,
                f"the header's label of channel {i + 1} (byte {at}) is "
                f"{text.decode('latin-1')!r}, not ASCII text, which is all MNE reads there: "
                f"{_DAMAGED} (or blank the field)",
            )


def _check_width(path: str, head: bytes, layout: tuple[int, int, int]) -> None:
    """The sample width MNE infers (``data_format="auto"``): the bytes from the channel table
    to the event table, per channel, over the header's sample count, must be 2 or 4 (MNE:
    ``Could not automatically compute number of bytes per sample``)."""
    data_start, table, n_channels = layout
    n_samples = int.from_bytes(head[864:868], "little", signed=True)
    n_data = table - data_start
    per_channel, rest = divmod(n_data, n_channels)
    width = per_channel / n_samples if n_samples else 0
    if n_data > 0 and not rest and width in (2, 4):
        return
    raise SourceError(
        path,
        f"the header's sample count (byte 864) is {n_samples} and its event table (byte 886) "
        f"at byte {table}, so its {counted(n_channels, 'channel')}' samples take {n_data} bytes "
        f"from byte {data_start}: not 2 or 4 bytes per sample, so their width is unknown; "
        f'{_DAMAGED} (or give data_format = "int16" or "int32" in [reader.options])',
    )


def _check_calibrations(path: str, channels: bytes, n_channels: int) -> None:
    """Each channel's sensitivity x calibration, MNE's scale: finite and non-zero."""
    for i in range(min(n_channels, len(channels) // CHANNEL_BYTES)):
        base = CHANNEL_BYTES * i
        sensitivity = struct.unpack_from("<f", channels, base + 59)[0]
        calibration = struct.unpack_from("<f", channels, base + 71)[0]
        scale = sensitivity * calibration
        if not (math.isfinite(scale) and scale != 0):
            label = channels[base : base + 10].split(b"\0")[0].decode("latin-1").strip()
            raise SourceError(
                path,
                f"channel {label!r} has sensitivity {sensitivity:g} and calibration "
                f"{calibration:g} in its header: their product, the value of one stored unit, "
                f"must be finite and non-zero; {_DAMAGED}",
            )


def _check_events(path: str, table: int, kind: int, length: int, size: int) -> None:
    """The event table's type and size: whole events of a type MNE reads, within the file."""
    where = f"the event table at byte {table}"
    if kind not in _EVENT_BYTES:
        raise SourceError(path, f"{where} is of type {kind}, not 1, 2 or 3: {_DAMAGED}")
    if length < 0 or length % _EVENT_BYTES[kind]:
        raise SourceError(
            path,
            f"{where} holds {length} bytes, not whole events of {_EVENT_BYTES[kind]} bytes "
            f"(type {kind}): {_DAMAGED}",
        )
    if size < table + EVENT_TABLE_HEAD.size + length:
        raise SourceError(
            path,
            f"file is truncated: its event table holds {length} bytes from byte "
            f"{table + EVENT_TABLE_HEAD.size}, but the file has {size} bytes: re-download it",
        )


_REJECT, _ACCEPT = 0xC0, 0xD0  # KeyPad_Accept as MNE matches it: a span's start and end
_EVENT_CHUNK = 1 << 16  # events read at a time


def _accept_codes(fh: BinaryIO, kind: int, length: int) -> list[tuple[int, int]]:
    """``(event number, KeyPad_Accept byte)`` of each event that opens (0xC0) or closes (0xD0)
    a rejected span, in table order; the table starts at the file's position."""
    width = _EVENT_BYTES[kind]
    out: list[tuple[int, int]] = []
    for first in range(0, length // width, _EVENT_CHUNK):
        chunk = fh.read(min(_EVENT_CHUNK, length // width - first) * width)
        codes = np.frombuffer(chunk, dtype=np.uint8)[3::width]  # byte 3 of each event
        hits = np.flatnonzero((codes == _REJECT) | (codes == _ACCEPT))
        out += [(first + int(i), int(codes[i])) for i in hits]
    return out


def _check_rejected_spans(path: str, codes: list[tuple[int, int]]) -> None:
    """Rejected spans as MNE pairs them: from the first reject marker on, each reject (0xC0)
    must be closed by the accept (0xD0) that follows it, before the next reject. MNE fails on
    an unclosed span with ``IndexError: list index out of range`` and gives wrong spans
    (negative, or ending at another reject) to markers out of turn."""
    start = next((i for i, (_, code) in enumerate(codes) if code == _REJECT), len(codes))
    fix = "MNE cannot pair its rejected spans: fix the event table in Neuroscan's software"
    previous = 0
    for turn, (number, code) in enumerate(codes[start:]):
        if code == _REJECT and turn % 2:
            raise SourceError(
                path,
                f"event {number + 1} of the event table opens a rejected span (KeyPad_Accept "
                f"0xC0) while the one event {previous + 1} opened is not closed (no accept "
                f"marker, 0xD0, between them); {fix}",
            )
        if code == _ACCEPT and not turn % 2:
            raise SourceError(
                path,
                f"event {number + 1} of the event table closes a rejected span (KeyPad_Accept "
                f"0xD0) that none opened: event {previous + 1} closed the last one; {fix}",
            )
        previous = number
    if (len(codes) - start) % 2:
        raise SourceError(
            path,
            f"event {codes[-1][0] + 1} of the event table opens a rejected span (KeyPad_Accept "
            f"0xC0) that no accept marker (0xD0) closes; {fix}",
        )


def _check_blocks(path: str, n_samples: int, block: int, data: tuple[int, int]) -> None:
    """A block size (``ChannelOffset``, bytes) that must divide each channel's samples, where
    the sample width follows from the data's bytes, channels and samples (as MNE infers it)."""
    n_bytes, n_channels = data
    if block <= 1 or n_samples < 1 or n_channels < 1:
        return
    width, rest = divmod(n_bytes, n_channels * n_samples)
    if rest or width not in (2, 4):
        return  # MNE names the sample width it cannot infer
    per_block = block // width
    if per_block and n_samples % per_block:
        raise SourceError(
            path,
            f"the header's block size (ChannelOffset, byte 894) is {block} bytes, "
            f"{counted(per_block, 'sample')} per channel, which does not divide its {n_samples} "
            f"samples: {_DAMAGED}",
        )


def cnt_start(path: str, date_format: str = "mm/dd/yy") -> str:
    """The session's start as the SETUP states it (``session date``, byte 225, in
    ``date_format``, MNE's option of that name; ``session time``, byte 235, ``hh:mm:ss``), ISO
    8601 without a time zone (CNT states none); ``""`` when it is no date and time.

    MNE reads the same text as a time of the zone of the machine that reads it (the same file
    gave 10:00 UTC in London and 15:00 UTC in New York)."""
    try:
        with open_regular(path, buffering=-1) as fh:
            head = fh.read(247)
    except OSError:
        return ""
    date = head[225:235].split(b"\0")[0].decode("ascii", "replace")
    time = head[235:247].split(b"\0")[0].decode("ascii", "replace")
    fmt = "%d/%m/%y %H:%M:%S" if date_format == "dd/mm/yy" else "%m/%d/%y %H:%M:%S"
    try:
        return datetime.strptime(f"{date} {time}", fmt).isoformat()
    except ValueError:
        return ""
