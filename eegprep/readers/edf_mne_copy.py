"""The copy of an EDF/BDF file MNE is given where a calibration field is no number.

MNE's EDF reader parses every signal's physical and digital minimum and maximum as a number
(``float``), and refuses the whole file on one it cannot (``could not convert string to float:
'n/a'``), though the signal may be a ``Status`` or EOG channel eegprep never keeps. eegprep's
own parser takes such a field as damage of that signal alone
(:attr:`~eegprep.readers.edf_header.EdfSignalFields.damage`), whose samples alone are refused
(:func:`~eegprep.readers.damaged_channels.check_damaged`). So that a file read through MNE (given
MNE options) is read alike, MNE is given a copy of the file (as
:func:`~eegprep.readers.mne_held.names_for_mne` gives it a GDF file's closed copy) in which each
such field holds a stand-in number, ``-1`` for a minimum, ``1`` for a maximum: MNE reads the
file, and eegprep refuses any read of that signal's samples as it does on its own path.

A field that eegprep reads as a number but MNE does not is left as it is (MNE refuses the file,
as before): no channel eegprep might keep is ever read by a stand-in calibration.

Pure functions of the path; nothing is kept between calls.
"""

from __future__ import annotations

import math
import os

from eegprep.base.limits import check_allocation
from eegprep.base.regular_files import open_regular
from eegprep.readers.edf_records import header_int, header_text

_FIELDS = (("physical_min", 104, b"-1"), ("physical_max", 112, b"1"),
           ("digital_min", 120, b"-1"), ("digital_max", 128, b"1"))  # fmt: skip
"""Each calibration field: its name, where its column of 8-byte fields starts (bytes per
signal before it, after the 256-byte main header), its stand-in number."""


def _mne_number(raw: bytes) -> bool:
    """Whether MNE's EDF reader parses the 8-byte field ``raw`` as a number (Latin-1 text up
    to its first NUL, a decimal comma read as a point)."""
    try:
        float(raw.decode("latin-1").split("\x00")[0].replace(",", "."))
    except ValueError:
        return False
    return True


def _own_damage(raw: bytes) -> bool:
    """Whether eegprep's own parser takes the field ``raw`` as damage (no finite number)."""
    try:
        value = float(header_text(raw).replace(",", "."))
    except ValueError:
        return True
    return not math.isfinite(value)


def stand_in_fields(head: bytes) -> list[tuple[int, bytes]]:
    """``(offset, 8 bytes)`` of each calibration field of the raw header ``head`` (main and
    signal headers) that MNE cannot parse and eegprep takes as damage, with its stand-in."""
    try:
        n = header_int(head[252:256])
    except (UnicodeDecodeError, ValueError):
        return []  # (the reader names a malformed signal count)
    if n <= 0 or len(head) < 256 * (n + 1):
        return []
    out = []
    for _, column, stand_in in _FIELDS:
        for i in range(n):
            at = 256 + column * n + 8 * i
            raw = head[at : at + 8]
            if not _mne_number(raw) and _own_damage(raw):
                out.append((at, stand_in.ljust(8, b" ")))
    return out


def calibrated_copy(path: str) -> bytes | None:
    """The bytes of the EDF/BDF file ``path`` with a stand-in number in each calibration field
    MNE cannot parse and eegprep takes as damage (:func:`stand_in_fields`), for MNE; ``None``
    where there is none (MNE reads the file itself)."""
    with open_regular(path, buffering=-1) as fh:
        main = fh.read(256)
        try:
            n = header_int(main[252:256])
        except (UnicodeDecodeError, ValueError):
            return None
        if not 0 < n <= 4096:
            return None
        patches = stand_in_fields(main + fh.read(256 * n))
        if not patches:
            return None
        size = os.fstat(fh.fileno()).st_size
        check_allocation(path, size, "a copy of it with its damaged calibration fields, for MNE")
        fh.seek(0)
        data = bytearray(fh.read())
    for at, value in patches:
        data[at : at + 8] = value
    return bytes(data)
