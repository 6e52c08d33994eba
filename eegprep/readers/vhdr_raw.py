"""A BrainVision recording of text data (``DataFormat=ASCII``) opened through MNE, its samples
read by eegprep (:mod:`eegprep.readers.vhdr_text`).

MNE reads text data only ``MULTIPLEXED``, after a ``SkipLines`` it needs, without skipped
columns, and keeps an offset of every line in memory. :func:`read_raw_brainvision` gives
MNE the header as for 32-bit float samples side by side, over a placeholder of the size those
samples would take (a sparse file: no byte of it is written, nor read), so that MNE reads the
channels, markers and units as for any BrainVision file, and :class:`RawBrainVisionText`
reads every segment from the text file itself, in any layout the format allows. The text file
is then the Raw's file (``filenames``), as MNE names the data file it reads.

Imports MNE: import this module only where MNE is wanted (the mne reader's opening of a file).

Concurrency contract: each Raw keeps its own layout and offsets; nothing is shared.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

import numpy as np
from mne.io.brainvision.brainvision import RawBrainVision

from eegprep.readers.companions import vhdr_companions
from eegprep.readers.vhdr import read_vhdr
from eegprep.readers.vhdr_text import TextIndex, TextLayout, read_text, text_index

try:
    from mne.io.base import _mult_cal_one
except ImportError:  # (an MNE that moved it)
    from mne.io.brainvision.brainvision import _mult_cal_one  # type: ignore[attr-defined,no-redef]

TEXT = "eegprep_text"
"""The key, in a text recording's reader extras, of its layout and offsets (a sample is no
number of the file's bytes)."""


class RawBrainVisionText(RawBrainVision):
    """MNE's ``RawBrainVision`` whose samples are read from a text data file by eegprep."""

    def __init__(
        self, placeholder_header: str, data_file: str, layout: TextLayout, index: TextIndex,
        **options: Any,
    ) -> None:  # fmt: skip
        super().__init__(placeholder_header, **options)
        self._raw_extras[0][TEXT] = (layout, index)  # (MNE's reads see its extras alone)
        self.filenames = [data_file]

    def _read_segment_file(
        self, data: np.ndarray, idx: Any, fi: int, start: int, stop: int, cals: Any, mult: Any
    ) -> None:
        """Values ``[start, stop)`` of the channels ``idx`` from the text file."""
        extras = self._raw_extras[fi]
        n_channels, (layout, index) = int(extras["orig_nchan"]), extras[TEXT]
        rows = np.arange(n_channels)[idx]
        block = np.zeros((n_channels, stop - start))
        block[rows] = read_text(str(self._filenames[fi]), layout, index, rows, start, stop)
        _mult_cal_one(data, block, idx, cals, mult)


def read_raw_brainvision(path: str, *, source: str | None = None, **options: Any) -> RawBrainVision:
    """``mne.io.read_raw_brainvision(path, **options)``; a header of text data as
    :class:`RawBrainVisionText`. ``path`` may be the copy MNE is given of the header ``source``
    (:func:`~eegprep.readers.vhdr.openable_vhdr`): the fields and the text data's index are
    the source's, parsed once for the read (:mod:`~eegprep.readers.read_once`), not its
    copy's again."""
    fields = read_vhdr(source or path)
    damaged = {c.key.encode() for c in fields.channels if c.damage}
    if fields.text is None and not damaged:
        return RawBrainVision(path, **options)
    data_file, markers = _named(path)
    if fields.text is None:  # MNE cannot read a damaged resolution: 1 in its copy
        with tempfile.TemporaryDirectory(prefix="eegprep-vhdr-") as tmp:
            header = os.path.join(tmp, "header" + os.path.splitext(path)[1].lower())
            with open(header, "wb") as fh:
                fh.write(_mended_header(path, data_file, markers, damaged))
            return RawBrainVision(header, **options)
    index = text_index(*_data_of(source or path, data_file), fields.text)
    with tempfile.TemporaryDirectory(prefix="eegprep-vhdr-text-") as tmp:
        placeholder = os.path.join(tmp, "samples")
        with open(placeholder, "wb") as fh:  # sparse: MNE takes the count from its size alone
            fh.truncate(index.n_samples * fields.text.n_values * 4)
        header = os.path.join(tmp, "header" + os.path.splitext(path)[1].lower())
        with open(header, "wb") as fh:
            fh.write(_binary_header(path, placeholder, markers, damaged))
        return RawBrainVisionText(header, data_file, fields.text, index, **options)


def _data_of(source: str, data_file: str) -> tuple[str, str]:
    """``(header, data file)`` as the check before MNE scans the text data
    (:func:`~eegprep.readers.mne_prechecks.check_before_mne`): the source header and the data
    file its look-up finds (the one ``data_file``, MNE's name for it, links to)."""
    found = next((c.path for c in vhdr_companions(source) if c.key == "datafile"), None)
    return source, found or data_file


def _named(path: str) -> tuple[str, str | None]:
    """The data and marker files the header ``path`` names, as absolute paths (as MNE joins
    them to the header's folder)."""
    folder = os.path.dirname(os.path.abspath(path))
    named: dict[str, str] = {}
    with open(path, "rb") as fh:
        for line in fh.read().split(b"\n"):
            key, eq, value = line.partition(b"=")
            name = key.strip().lower().decode("latin-1")
            if eq and name in ("datafile", "markerfile") and name not in named:
                text = value.strip().decode("utf-8", "surrogateescape")
                named[name] = os.path.join(folder, text) if text else ""
    return named.get("datafile", ""), named.get("markerfile") or None


def _mended_header(path: str, data_file: str, markers: str | None, damaged: set[bytes]) -> bytes:
    """The header ``path`` as MNE can read it: the channels of ``damaged`` keys (``b"ch4"``)
    given a resolution of 1 (their samples are never read:
    :mod:`eegprep.readers.damaged_channels`), the data and marker files named by absolute
    path."""
    swapped = {
        b"datafile": b"DataFile=" + os.fsencode(data_file),
        b"markerfile": b"MarkerFile=" + os.fsencode(markers or ""),
    }
    out: list[bytes] = []
    with open(path, "rb") as fh:
        lines = fh.read().split(b"\n")
    section = b""
    for line in lines:
        key = line.partition(b"=")[0].strip().lower()
        if line.strip().startswith(b"["):
            section = line.strip().lower()
        out.append(_mended_line(line, key, section, damaged, swapped))
    return b"\n".join(out)


def _mended_line(
    line: bytes, key: bytes, section: bytes, damaged: set[bytes], swapped: dict[bytes, bytes]
) -> bytes:
    """One header line for :func:`_mended_header` and :func:`_binary_header`."""
    if b"=" not in line:
        return line
    if section == b"[channel infos]" and key in damaged:
        name, _, value = line.partition(b"=")
        fields = value.split(b",")
        return name + b"=" + b",".join([*fields[:2], b"1", *fields[3:]])
    return swapped.get(key, line)


def _binary_header(path: str, placeholder: str, markers: str | None, damaged: set[bytes]) -> bytes:
    """The header ``path`` rewritten for MNE: 32-bit float samples side by side in
    ``placeholder``, the marker file named by absolute path (and the ``damaged`` channels'
    resolution 1: :func:`_mended_header`)."""
    out: list[bytes] = []
    binary_section = False
    section = b""
    with open(path, "rb") as fh:
        lines = fh.read().split(b"\n")
    for line in lines:
        key = line.partition(b"=")[0].strip().lower()
        if line.strip().startswith(b"["):
            section = line.strip().lower()
        if line.strip().lower() == b"[binary infos]":
            binary_section = True
        if line.strip().lower() == b"[channel infos]" and not binary_section:
            out += [b"[Binary Infos]", b"BinaryFormat=IEEE_FLOAT_32", b""]
        swapped = {
            b"dataformat": b"DataFormat=BINARY",
            b"dataorientation": b"DataOrientation=MULTIPLEXED",
            b"binaryformat": b"BinaryFormat=IEEE_FLOAT_32",
            b"datafile": b"DataFile=" + os.fsencode(placeholder),
            b"markerfile": b"MarkerFile=" + os.fsencode(markers or ""),
        }
        out.append(_mended_line(line, key, section, damaged, swapped))
    return b"\n".join(out)
