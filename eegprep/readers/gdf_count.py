"""A GDF record count of -1 (unknown: a recording never closed) told from the file itself.

GDF, as EDF, writes -1 in the header's record count while recording; a recorder that was not
closed leaves it so. MNE's reader then fails (``No data in this range``). In EDF the records
run to the end of the file, so their count is the whole records it holds; GDF 1 and 2 put an
event table after the records (GDF 1 always, as MNE reads it), whose position is then unknown
too. :func:`resolved` tries every count of whole records: it is the count when the bytes
after them are exactly an event table (mode 1 or 3, its 8-byte head's event count giving its
length) or, in GDF 2, nothing at all. One such count is read, with a warning; none, or more
than one (the data's bytes read as a table's head by chance), is refused in one line saying
why; MNE is given a copy of the file with the count written in (:func:`closed_copy`). A table
is sought within the bytes a table of
:data:`~eegprep.readers.event_count.MAX_EVENTS` events takes (a longer one is refused anyway).
"""

from __future__ import annotations

import dataclasses
import os
from typing import BinaryIO

import numpy as np

from eegprep.base.errors import SourceError
from eegprep.base.limits import check_allocation
from eegprep.base.regular_files import open_regular
from eegprep.base.wording import counted
from eegprep.readers.event_count import MAX_EVENTS
from eegprep.readers.gdf_fixed import GDF_TYPE_BYTES, UNKNOWN_COUNT, GdfFixed, fixed_header
from eegprep.readers.read_once import once

_LONGEST_TABLE = 8 + 12 * MAX_EVENTS


@once
def written_fixed(path: str) -> GdfFixed | None:
    """The 256-byte fixed header of the GDF file ``path`` as written (a record count of -1
    kept); ``None`` when it is not GDF. Parsed once per read of the file
    (:mod:`~eegprep.readers.read_once`) for every part of its header that needs it (the check,
    the channels' sizes, units, records and events)."""
    with open_regular(path, buffering=-1) as fh:
        return fixed_header(fh.read(256))


def counted_fixed(path: str) -> GdfFixed | None:
    """The fixed header of a GDF file :func:`~eegprep.readers.gdf_header.check_gdf` passed
    (:func:`written_fixed`), a record count of -1 replaced by the count the file holds
    (:func:`told_count`); ``None`` when it is not GDF."""
    return told_count(path)[0]


@once
def told_count(path: str) -> tuple[GdfFixed | None, str | None]:
    """:func:`written_fixed` with a record count of -1 told (:func:`resolved`), and the
    warning saying so (None where the count was written); told once per read of the file, for
    the check and every part of the header alike."""
    fixed = written_fixed(path)
    if fixed is None or fixed.n_records != UNKNOWN_COUNT or fixed.n_channels < 1:
        return fixed, None
    ns = fixed.n_channels
    with open_regular(path, buffering=-1) as fh:
        fh.seek(256 + 216 * ns)
        fields = np.frombuffer(fh.read(8 * ns), dtype="<i4").astype(np.int64)
        widths = [GDF_TYPE_BYTES.get(int(code), 0) for code in fields[ns:]]
        record = int(np.dot(fields[:ns], widths))
        return resolved(path, fh, fixed, record) if record > 0 else (fixed, None)


def resolved(path: str, fh: BinaryIO, fixed: GdfFixed, record: int) -> tuple[GdfFixed, str]:
    """``fixed`` (its record count -1) with the count of whole records of ``record`` bytes the
    file open as ``fh`` holds before its event table, and the warning saying so.

    Raises :class:`~eegprep.base.errors.SourceError` when no count, or more than one, leaves
    an event table (or, GDF 2, nothing) after the records."""
    held = max(os.fstat(fh.fileno()).st_size - fixed.header_bytes, 0)
    found = _counts(fh, fixed, record, held)
    unknown = "the header's record count is -1 (unknown: a recording never closed)"
    if not found:
        need = "an event table" if fixed.version < 1.9 else "an event table or the file's end"
        raise SourceError(
            path,
            f"{unknown}, and no count of whole records of {counted(record, 'byte')} is followed "
            f"by {need}: the file is cut or damaged; re-export it",
        )
    if len(found) > 1:
        options = " or ".join(counted(n, "record") for n in found[:3])
        raise SourceError(
            path,
            f"{unknown}, and its records cannot be told apart from the event table after them "
            f"({options} each leave bytes that read as a whole table): re-export it closed",
        )
    [n] = found
    rest = held - n * record
    warning = (
        f"{unknown}: read the {counted(n, 'whole record')} of {counted(record, 'byte')} the file "
        "holds" + (f", then its event table ({counted(rest, 'byte')})" if rest else "")
    )
    return dataclasses.replace(fixed, n_records=n), warning


def _counts(fh: BinaryIO, fixed: GdfFixed, record: int, held: int) -> list[int]:
    """Every count of whole records after which the file holds exactly an event table (or,
    GDF 2, nothing), largest first."""
    tail_start = max(held - _LONGEST_TABLE, 0)
    fh.seek(fixed.header_bytes + tail_start)
    tail = fh.read(held - tail_start)
    found = []
    for n in range(held // record, -1, -1):
        at = n * record - tail_start  # the table's head within ``tail``
        if at < 0:
            break
        rest = held - n * record
        if rest == 0:
            if fixed.version >= 1.9:
                found.append(n)
            continue
        head = tail[at : at + 8]
        if len(head) < 8 or head[0] not in (1, 3):
            continue
        if fixed.version < 1.94:
            n_events = int.from_bytes(head[4:8], "little")
        else:
            n_events = int.from_bytes(head[1:4], "little")
        if 8 + n_events * (12 if head[0] == 3 else 6) == rest:
            found.append(n)
    return found


def closed_copy(path: str) -> bytes | None:
    """The bytes of the GDF file ``path`` (one :func:`~eegprep.readers.gdf_header.check_gdf`
    passed) with a record count of -1 replaced by the count it holds, for MNE, which reads
    no file of count -1; ``None`` when its count is known (MNE reads the file itself)."""
    fixed = written_fixed(path)
    if fixed is None or fixed.n_records != UNKNOWN_COUNT:
        return None
    told = counted_fixed(path)
    with open_regular(path, buffering=-1) as fh:
        size = os.fstat(fh.fileno()).st_size
        check_allocation(path, size, "a copy of it with its record count written in, for MNE")
        fh.seek(0)
        data = bytearray(fh.read())
    if told is None or told.n_records == UNKNOWN_COUNT:
        return None
    data[236:244] = told.n_records.to_bytes(8, "little", signed=True)
    return bytes(data)
