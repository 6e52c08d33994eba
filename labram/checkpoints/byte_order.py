"""A ``torch.save`` archive written on a machine of the other byte order, judged without crashing.

``torch.save`` records the byte order of the machine that wrote the archive (its ``byteorder``
member: ``little`` on x86 and ARM, ``big`` on s390x), and ``torch.load`` swaps every storage's
bytes when it differs from this machine's. Loaded onto the ``meta`` device, where a storage has
no bytes, that swap crashes the process (a segmentation fault in torch 2.13: no error, no line,
the command gone). What such an archive claims is judged instead on :func:`meta_skeleton`: the
same archive with the machine's byte order and empty tensor members, which the ``meta`` load
never reads; the full read then swaps the bytes it reads, as for any other archive.
"""

from __future__ import annotations

import io
import sys
import zipfile
from pathlib import Path
from typing import BinaryIO

from eegprep.base.path_limits import shown_path
from labram.checkpoints.errors import CorruptCheckpointError

BYTE_ORDERS = (b"little", b"big")
"""The values ``torch.save`` writes in an archive's ``byteorder`` member."""


def _is_member(name: str, record: str) -> bool:
    """Whether the archive member ``name`` is torch's record ``record`` (``ARCHIVE/record``)."""
    return name.count("/") == 1 and name.split("/", 1)[1] == record


def byte_order(path: Path, archive: zipfile.ZipFile) -> bytes | None:
    """The byte order the archive ``path`` was written in (its ``byteorder`` member), None when
    it has none (torch reads it as little-endian).

    Raises
    ------
    CorruptCheckpointError
        A ``byteorder`` member that is neither ``little`` nor ``big`` (only its first bytes
        read).
    """
    for info in archive.infolist():
        if _is_member(info.filename, "byteorder"):
            with archive.open(info) as member:
                value = member.read(len(max(BYTE_ORDERS, key=len)) + 1)
            if value not in BYTE_ORDERS:
                raise CorruptCheckpointError(
                    f"{shown_path(path)}: not written by torch.save: its byteorder member holds "
                    f"{value!r}{'...' if info.file_size > len(value) else ''} ({info.file_size:,} "
                    "bytes), where torch.save writes 'little' or 'big'"
                )
            return value
    return None


def meta_skeleton(path: Path, fh: BinaryIO) -> BinaryIO:
    """What the ``meta`` load of the archive ``path`` (open as ``fh``) reads: ``fh`` itself, or,
    for an archive of the other byte order, a copy in memory of its records (the pickle, its
    version records) with this machine's byte order and every tensor member empty (their bytes
    are neither read nor copied: the pickle alone states each tensor's type and shape)."""
    fh.seek(0)
    with zipfile.ZipFile(fh) as archive:
        order = byte_order(path, archive)
        if order is None or order == sys.byteorder.encode():
            return fh
        copy = io.BytesIO()
        with zipfile.ZipFile(copy, "w", zipfile.ZIP_STORED) as out:
            for info in archive.infolist():
                if "/data/" in info.filename:
                    out.writestr(info.filename, b"")
                elif _is_member(info.filename, "byteorder"):
                    out.writestr(info.filename, sys.byteorder.encode())
                else:
                    out.writestr(info.filename, archive.read(info))
    copy.seek(0)
    return copy
