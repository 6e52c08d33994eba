"""A GDF file's binary header checked before MNE opens it: every field MNE would fail on, or
misread silently, is refused in one line naming the field and its value.

MNE's GDF reader trusts its header: a sample type code outside its table gives ``IndexError:
tuple index out of range``, a header length that disagrees with the channel count an
``AssertionError`` with no message, a negative record count ``OSError: [Errno 22] Invalid
argument``, a zero duration denominator ``ZeroDivisionError`` (a zero numerator it takes as
records of 1 s, a rate it guesses, in a warning eegprep did not pass on), and an event table
whose count outruns the file (as it does when the records end elsewhere than the header says)
``Length of duration (16775935) must match ...``. A channel of 0 samples per record holds no
samples (MNE reads it as a flat channel): it is left out (:mod:`eegprep.readers.mne_empty`); a
file whose channels all hold none is refused. A record count of -1 (unknown: a recording never
closed) is told from the file where it can be (:mod:`eegprep.readers.gdf_count`). A file whose
channels store samples of different sizes, which MNE does not open, is read by eegprep
(:mod:`eegprep.readers.gdf_own`) after these checks.

GDF 1.x and 2.x share the positions read here: the record count (int64 at byte 236), the
record duration (uint32 numerator and denominator at 244 and 248), each channel's label (16
bytes from 256), samples per record and sample type (int32 at ``256 + 216 * ns`` and ``256 +
220 * ns``); they differ in the header's length (int64 bytes at 184, or uint16 blocks of 256
bytes), the channel count (uint32 or uint16 at 252) and the event table's count (uint32 after
a 3-byte rate, or 3 bytes before a float32 rate, from GDF 1.94 on as MNE reads it).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import numpy as np

from eegprep.base.errors import SourceError
from eegprep.base.regular_files import open_regular
from eegprep.base.wording import counted, noun
from eegprep.readers.edf_header import no_samples_problem
from eegprep.readers.event_count import check_event_count
from eegprep.readers.gdf_count import resolved, told_count, written_fixed
from eegprep.readers.gdf_fixed import GDF_TYPE_BYTES, UNKNOWN_COUNT, GdfFixed
from eegprep.readers.read_once import once

_DAMAGED = "the header is damaged; re-export or re-download it"


@once
def check_gdf(path: str) -> str | None:
    """Refuse a GDF file whose header MNE would fail on or misread (see the module); a
    warning when the file is longer than its records and event table."""
    size = os.path.getsize(path)
    with open_regular(path, buffering=-1) as fh:
        head = fh.read(256)
        fixed = written_fixed(path)  # (the header's one parse: read_once.py)
        if fixed is None:
            raise SourceError(
                path,
                f"not a GDF file: it starts with {head[:8]!r}, not a version such as "
                "b'GDF 1.25' or b'GDF 2.20' (or is shorter than its 256-byte header)",
            )
        _check_text(path, head, fixed)
        ns = fixed.n_channels
        if 256 * (ns + 1) > size:  # MNE would first build lists of ns entries
            raise SourceError(
                path,
                f"the header claims {counted(ns, 'channel')}, whose fields take {256 * (ns + 1)} "
                f"bytes, but the file has {size} bytes: {_DAMAGED}",
            )
        _check_fixed(path, fixed)
        labels = [fh.read(16).decode("latin-1").strip("\x00 ") for _ in range(ns)]
        fh.seek(256 + 216 * ns)
        fields = np.frombuffer(fh.read(8 * ns), dtype="<i4").astype(np.int64)
        n_samps, types = fields[:ns], fields[ns:]
        record = _record_bytes(path, labels, n_samps, types)
        counted_warning = None
        if fixed.n_records == UNKNOWN_COUNT:  # (told once for every part: told_count)
            told, counted_warning = told_count(path)
            fixed = told if told is not None and told.n_records != UNKNOWN_COUNT else fixed
            if fixed.n_records == UNKNOWN_COUNT:  # (a record of 0 bytes: said as before)
                fixed, counted_warning = resolved(path, fh, fixed, record)
    data_end = fixed.header_bytes + fixed.n_records * record
    if size < data_end:
        whole = max(size - fixed.header_bytes, 0) // record
        raise SourceError(
            path,
            f"file is truncated: its header claims {counted(fixed.n_records, 'data record')} "
            f"({counted(data_end, 'byte')}) but it has {counted(size, 'byte')} "
            f"({counted(whole, 'whole record')}): re-download it",
        )
    return _check_events(path, fixed, data_end, size) or counted_warning


def _check_text(path: str, head: bytes, fixed: GdfFixed) -> None:
    """The fixed header's text MNE decodes as UTF-8 (``'utf-8' codec can't decode byte
    0xdd``): the version, and GDF 2's patient field (bytes 8-74)."""
    fields = [("version (bytes 0-8)", 0, head[:8])]
    if fixed.version >= 1.9:
        fields.append(("patient field (bytes 8-74)", 8, head[8:74]))
        _check_dates(path, head)
    for name, at, raw in fields:
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SourceError(
                path,
                f"the header's {name} holds byte {raw[exc.start]:#04x} at byte {at + exc.start}, "
                f"not UTF-8 text, which MNE requires there: {_DAMAGED}",
            ) from None


def _check_dates(path: str, head: bytes) -> None:
    """GDF 2's recording start and birthday (uint64 at 168 and 176: days since year 0 in
    units of 2^-32, as MNE reads them): a value no date can be (MNE: ``OverflowError: date
    value out of range``)."""
    for name, at in (("recording start", 168), ("patient's birthday", 176)):
        value = int.from_bytes(head[at : at + 8], "little")
        if not value:
            continue  # not given
        days = value * 2.0**-32 - 367
        try:
            datetime(1, 1, 1, tzinfo=UTC) + timedelta(days)
        except (OverflowError, ValueError):
            raise SourceError(
                path,
                f"the header's {name} (bytes {at}-{at + 8}) is {value}, {days:.4g} days after "
                f"year 1: no date; {_DAMAGED}",
            ) from None


def _check_fixed(path: str, fixed: GdfFixed) -> None:
    """The channel count, header length, record count and record duration."""
    ns = fixed.n_channels
    if ns < 1:
        raise SourceError(path, f"the header lists no channels (channel count 0): {_DAMAGED}")
    if fixed.header_bytes != 256 * (ns + 1):
        raise SourceError(
            path,
            f"the header's length field says {fixed.header_bytes} bytes, but a fixed header "
            f"and {ns} channel descriptions take {256 * (ns + 1)} (a damaged field, or a GDF 2 "
            "header extension, which MNE does not read): re-export it",
        )
    if fixed.n_records < UNKNOWN_COUNT:  # (-1: told from the file, gdf_count)
        raise SourceError(path, f"the header's record count is {fixed.n_records}: {_DAMAGED}")
    num, den = fixed.duration
    if den == 0 or num == 0:  # (MNE reads a numerator 0 as 1 s, a rate it guesses)
        part = "denominator" if den == 0 else "numerator"
        raise SourceError(
            path, f"the header's record duration is {num}/{den} seconds ({part} 0): {_DAMAGED}"
        )


def _record_bytes(path: str, labels: list[str], n_samps: np.ndarray, types: np.ndarray) -> int:
    """Bytes of one data record; each channel's sample type and samples per record checked."""
    for label, n, code in zip(labels, n_samps.tolist(), types.tolist(), strict=True):
        if code not in GDF_TYPE_BYTES:
            raise SourceError(
                path,
                f"channel {label!r} has sample type code {code}, not one GDF defines that MNE "
                f"reads ({', '.join(map(str, GDF_TYPE_BYTES))}): {_DAMAGED}",
            )
        if n < 0:  # (0: a channel that holds no samples, left out: mne_empty)
            raise SourceError(
                path,
                f"channel {label!r} has {counted(n, 'sample')} per record (at least 0): {_DAMAGED}",
            )
    if not n_samps.any():
        raise SourceError(path, no_samples_problem(labels))  # (sizes may differ: gdf_own)
    return int(np.dot(n_samps, [GDF_TYPE_BYTES[int(code)] for code in types]))


def _check_events(path: str, fixed: GdfFixed, data_end: int, size: int) -> str | None:
    """An event table after the records must hold the events it counts (MNE reads them as
    arrays of unequal lengths otherwise); bytes after it, or bytes that are no table of a GDF
    1.x file (MNE skips a mode other than 1 and 3), get a warning: the file is longer than its
    header says, and is read as the header describes it."""
    with open_regular(path, buffering=-1) as fh:
        fh.seek(data_end)
        table = fh.read(8)
    if not table and fixed.version < 1.9:  # MNE: "IndexError: index 0 is out of bounds"
        raise SourceError(
            path,
            f"this GDF {fixed.version:g} file ends with its "
            f"{counted(fixed.n_records, 'data record')}, "
            "without the event table MNE's reader of GDF 1 requires (an empty one will do): "
            "convert it to GDF 2 (e.g. with BioSig's save2gdf), or append the 8 bytes of an "
            "empty table (01 00 00 00 00 00 00 00)",
        )
    if not table:
        return None
    mode = table[0]
    extra = size - data_end
    longer = (
        f"file is longer than its header says: {counted(extra, 'byte')} "
        f"{noun(extra, 'follows', 'follow')} its {counted(fixed.n_records, 'data record')} "
        f"(byte {data_end}),"
    )
    if fixed.version < 1.9 and mode not in (1, 3):
        return f"{longer} not an event table (mode {mode}); the header's records were read"
    if len(table) < 8:
        raise SourceError(
            path,
            f"the event table after its {counted(fixed.n_records, 'data record')} (byte "
            f"{data_end}) is cut: {counted(extra, 'byte')}, less than its own 8-byte header: "
            "re-download it",
        )
    if fixed.version < 1.94:
        n_events = int.from_bytes(table[4:8], "little")
    else:
        n_events = int.from_bytes(table[1:4], "little")
    need = 8 + n_events * (12 if mode == 3 else 6)
    if extra < need:
        raise SourceError(
            path,
            f"the event table after its {counted(fixed.n_records, 'data record')} (byte "
            f"{data_end}) counts {counted(n_events, 'event')} ({need} bytes), but only "
            f"{counted(extra, 'byte')} {noun(extra, 'follows', 'follow')}: the "
            "file is cut, or its header's record count, samples per record or sample types are "
            "wrong",
        )
    check_event_count(  # before MNE builds an annotation of each (up to 2^32)
        path,
        n_events,
        f"its event table (byte {data_end})",
        "split the recording into shorter files, or re-download it if the count is damaged",
    )
    if extra > need:
        return f"{longer} where its event table takes {need}; the header's records were read"
    return None
