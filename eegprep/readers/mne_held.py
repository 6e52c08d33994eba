"""A recording's files given to MNE as descriptors eegprep opened and checked, never by name.

MNE opens every file of a recording itself: the file it is given, then those its header names
(a BrainVision header's samples and marker files, an EEGLAB ``.set``'s ``.fdt``), at opening
and again at every read of samples. :func:`names_for_mne` opens each of them first, without
waiting, checked to be a regular file, and gives MNE a private folder of names for those
descriptors (:class:`~eegprep.base.held_files.HeldFiles`): the header rewritten to name them
(:func:`~eegprep.readers.vhdr.openable_vhdr`), the ``.set`` and its samples
(:func:`~eegprep.readers.set_files.openable_set`), a GDF file of record count -1 as a copy
with the count it holds written in (:func:`~eegprep.readers.gdf_count.closed_copy`), an
EDF/BDF file whose calibration field MNE cannot parse as a copy with a stand-in number there
(:func:`~eegprep.readers.edf_mne_copy.calibrated_copy`), any other file under its own name. A file
swapped for a FIFO, a device or another file after eegprep's checks is then the file checked,
or, swapped before the descriptor was opened, one line naming it. :func:`read_through` keeps
them (the folder and its descriptors) as long as the opened ``Raw``, which opens the files by
those names again at every read of samples.

Where the system has no ``/proc/self/fd`` (:func:`~eegprep.base.held_files.supported`: not
Linux), MNE is given the paths checked just before, as eegprep did before.

Concurrency contract: what :func:`names_for_mne` holds belongs to this process and thread; a
``Raw`` keeps its descriptors (a forked child's copies are its own).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import PurePath
from typing import TYPE_CHECKING

from eegprep.base.held_files import HeldFiles, supported
from eegprep.readers.companions import BRAINVISION_HEADERS, fif_parts
from eegprep.readers.edf_mne_copy import calibrated_copy
from eegprep.readers.gdf_count import closed_copy
from eegprep.readers.set_files import openable_set
from eegprep.readers.vhdr import openable_vhdr

if TYPE_CHECKING:
    from mne.io import BaseRaw


@contextlib.contextmanager
def names_for_mne(path: str) -> Iterator[tuple[str, set[str], HeldFiles | None]]:
    """The name to give MNE for the recording ``path``, the labels its BrainVision header
    repeats (:func:`~eegprep.readers.vhdr.openable_vhdr`), and the files held for it (None off
    Linux). Open the recording with MNE inside the block, then call :func:`read_through`.

    Raises :class:`~eegprep.base.errors.SourceError` naming a file of the recording that is no
    regular file (a FIFO, a device, a folder), ``OSError`` for one that cannot be opened.
    """
    if not supported():
        with openable_vhdr(path) as (opened, repeats):
            yield openable_set(opened), repeats, None
        return
    suffix = PurePath(path).suffix.lower()
    with HeldFiles(os.path.dirname(path)) as held:
        if suffix in BRAINVISION_HEADERS:
            with openable_vhdr(path, held) as (opened, repeats):
                yield opened, repeats, held
            return
        if suffix == ".set":
            opened = openable_set(path, held)
        elif suffix == ".gdf" and (copy := closed_copy(path)) is not None:  # count -1
            opened = held.write(os.path.basename(path), copy, path)
        elif suffix in (".edf", ".bdf") and (copy := calibrated_copy(path)) is not None:
            opened = held.write(os.path.basename(path), copy, path)  # (a field no number)
        else:
            opened = held.link(path, os.path.basename(path))
        if suffix == ".fif":
            for part in fif_parts(path):
                held.link(part, os.path.basename(part))
        yield opened, set(), held


def read_through(raw: BaseRaw, held: HeldFiles) -> None:
    """Keep what ``held`` holds (its folder, its descriptors) as long as ``raw``, which opens
    the files by those names again at every read of samples."""
    held.keep_with(raw)
