"""A file's checks before MNE-Python opens it: what MNE would not catch, or would pay for in
memory, checked on the raw bytes first.

Every format the mne reader reads (:mod:`eegprep.readers.mne_formats`): a samples file found
nowhere or matched in letter case alone is named; an EDF/BDF's patient field, size and TAL count
against its header; an EEGLAB ``.set``'s events, memory budget and fields (a MAT 7.3 one needs
pymatreader, a dependency: an environment installed before it was one is told so); a
BrainVision header, its markers and a text data file; a GDF's or a Neuroscan CNT's header; a
FIF file's annotations, part by part.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

from eegprep.base.errors import SourceError
from eegprep.readers.cnt_header import check_cnt
from eegprep.readers.companions import (
    BRAINVISION_HEADERS,
    ambiguous_companion,
    fif_parts,
    missing_data_problem,
    vhdr_companions,
)
from eegprep.readers.edf import read_raw_header
from eegprep.readers.edf_dates import check_mne_patient_field
from eegprep.readers.edf_header import check_data_signals
from eegprep.readers.edf_records import check_file_size, check_tal_count
from eegprep.readers.fif_annotations import check_fif_annotations
from eegprep.readers.fif_tags import check_fif_chain
from eegprep.readers.gdf_header import check_gdf
from eegprep.readers.mne_lengths import cnt_options, edf_layout
from eegprep.readers.set_header import check_set, check_set_events
from eegprep.readers.vhdr import read_vhdr
from eegprep.readers.vhdr_text import text_index
from eegprep.readers.vmrk import check_vmrk


def check_sample_width(path: str, head: bytes, suffix: str) -> None:
    """Refuse an EDF (16-bit samples) named ``.bdf`` or a BDF (24-bit, its version field
    ``\\xffBIOSEMI``) named ``.edf``: MNE takes the sample width from the suffix, and read every
    sample from the wrong bytes without a word (its BDF reader refuses a name ending ``.edf``).
    eegprep's own EDF reader takes it from the header: the file is read when given no MNE
    options."""
    bdf = head[:8] == b"\xffBIOSEMI"
    if bdf != (suffix == ".bdf"):
        kind, bits, other = ("a BDF", 24, ".bdf") if bdf else ("an EDF", 16, ".edf")
        raise SourceError(
            path,
            f"its header is {kind}'s ({bits}-bit samples) but it is named {suffix}, and MNE "
            f"takes the sample width from the name: rename it {other}, or read it without MNE "
            "reader options (eegprep's EDF reader takes the width from the header)",
        )


def check_before_mne(path: str, options: Mapping[str, Any]) -> None:
    """What MNE would not catch, or would pay for in memory, checked on the raw bytes first."""
    suffix = PurePath(path).suffix.lower()
    if suffix == ".set":  # its own fields first: an epoched or damaged .set is refused as that,
        # not sent for a .fdt or a package it would still be refused without
        from eegprep.readers.matlab_files import check_mat_budget

        check_set_events(path)  # from the array's head: the walk below steps through each
        inexact = check_mat_budget(path, exact=True)  # (one walk: structure and integers)
        check_set(path, inexact=inexact)
    several = ambiguous_companion(path)
    if several is not None:
        raise SourceError(path, several)
    gone = missing_data_problem(path)
    if gone is not None:  # MNE's FileNotFoundError names an absolute path and not the field
        raise SourceError(path, gone)
    if suffix in (".edf", ".bdf"):
        head = read_raw_header(path)
        check_sample_width(path, head, suffix)
        check_data_signals(path, head)
        check_mne_patient_field(path, head[8:88].decode("latin-1").strip())
        layout = edf_layout(path)
        if layout is not None:
            check_file_size(path, layout)  # refuses a shorter file; longer: mne_lengths
            check_tal_count(path, layout)  # before MNE builds an annotation of each TAL
    elif suffix == ".set":
        from eegprep.readers.matlab_files import mat_version

        # pymatreader is a dependency (pyproject.toml); an environment installed before it was
        # one lacks it, and MNE would say only that it wants a package
        if mat_version(path) == "7.3" and importlib.util.find_spec("pymatreader") is None:
            raise SourceError(
                path,
                "this EEGLAB .set is a MAT 7.3 (HDF5) file, as EEGLAB saves large datasets; MNE "
                "reads those only with the pymatreader package, a dependency of eegprep missing "
                "from this environment (installed before it was one): pip install pymatreader",
            )
    elif suffix in BRAINVISION_HEADERS:
        fields = read_vhdr(path)  # check_vhdr's checks
        check_vmrk(path, fields.n_channels)
        data = next((c.path for c in vhdr_companions(path) if c.key == "datafile"), None)
        if fields.text is not None and data is not None:
            text_index(path, data, fields.text)  # every line checked, its offsets kept
    elif suffix == ".gdf":
        check_gdf(path)
    elif suffix == ".cnt":
        check_cnt(path, *cnt_options(options))
    elif suffix == ".fif":  # each part: MNE walks the tags and reads the annotations of each
        for part in (path, *fif_parts(path)):
            check_fif_chain(part)
            check_fif_annotations(part)
