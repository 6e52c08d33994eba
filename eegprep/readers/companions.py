"""The files a recording's format reads besides the one it is named by.

BrainVision's header (``.vhdr``/``.ahdr``) names its samples (``.eeg``) and markers
(``.vmrk``); EEGLAB's ``.set`` may keep its samples in a ``.fdt``. The readers read them, and a
recording's fingerprint (:mod:`eegprep.corpus.sources`) covers them.
"""

from __future__ import annotations

import os
import re

_VHDR_KEY = re.compile(r"^\s*(DataFile|MarkerFile)\s*=\s*(.+?)\s*$", re.IGNORECASE)


def data_files(path: str) -> list[str]:
    """Files other than ``path`` that its format reads samples or markers from (absolute).

    BrainVision headers (``.vhdr``/``.ahdr``) name their data and marker files; an EEGLAB
    ``.set`` names the ``.fdt`` that holds its samples (``EEG.data``; else a ``.fdt`` of the
    same stem, as MNE falls back to); other formats are one file. Files named but missing are
    left out (the reader reports them).
    """
    stem, ext = os.path.splitext(path)
    ext = ext.lower()
    out: list[str] = []
    if ext in (".vhdr", ".ahdr"):
        out = [os.path.join(os.path.dirname(path), name) for name in _vhdr_names(path)]
    elif ext == ".set":
        named = _set_data_name(path)
        folder = os.path.dirname(path)
        if named and os.path.isfile(os.path.join(folder, named)):
            out = [os.path.join(folder, named)]  # the file EEG.data names, as MNE reads it
        else:
            out = [stem + e for e in (".fdt", ".FDT", ".dat")]  # MNE's fallback: the stem's
    return [p for p in dict.fromkeys(out) if p != path and os.path.isfile(p)]


SET_STRUCT_MB = 64
"""The largest ``.set`` whose ``EEG`` struct is loaded to find its data file's name: one that
keeps its samples in a ``.fdt`` holds only metadata (a few MB at most); a larger one holds its
samples itself."""


def _set_data_name(path: str) -> str | None:
    """The file name an EEGLAB ``.set`` gives in ``EEG.data`` when its samples are in a file of
    their own (a name of any stem: EEGLAB lets a user rename either), else None.

    Reads the top-level ``data`` variable (the layout EEGLAB writes today), else the ``EEG``
    struct of a ``.set`` of at most :data:`SET_STRUCT_MB`; MAT 7.3 files through h5py. A file
    this cannot parse gives None (the reader reports what is wrong with it)."""
    try:
        import scipy.io

        kinds = {name: kind for name, _, kind in scipy.io.whosmat(path)}
        if kinds.get("data") == "char":
            value = scipy.io.loadmat(path, variable_names=["data"], squeeze_me=True)["data"]
        elif "EEG" in kinds and os.path.getsize(path) <= SET_STRUCT_MB * 1e6:
            eeg = scipy.io.loadmat(
                path, variable_names=["EEG"], squeeze_me=True, struct_as_record=False
            )["EEG"]
            value = getattr(eeg, "data", None)
        else:
            return None
    except NotImplementedError:  # MAT 7.3: HDF5
        value = _h5_set_data_name(path)
    except Exception:  # a damaged file: the reader says what is wrong
        return None
    return os.path.basename(value) if isinstance(value, str) and value else None


def _h5_set_data_name(path: str) -> str | None:
    try:
        import h5py

        with h5py.File(path, "r") as f:
            node = f.get("data")
            if node is None and isinstance(f.get("EEG"), h5py.Group):
                node = f["EEG"].get("data")
            if isinstance(node, h5py.Dataset) and node.dtype.kind in "u" and node.size < 4096:
                return "".join(map(chr, node[()].ravel()))
    except Exception:  # a damaged file: the reader says what is wrong
        return None
    return None


def missing_markers(path: str) -> str | None:
    """The marker file a BrainVision header names that is not beside it (MNE then reads the
    recording without events, silently), else None."""
    if os.path.splitext(path)[1].lower() not in (".vhdr", ".ahdr"):
        return None
    for key, name in _vhdr_entries(path):
        if key == "markerfile" and not os.path.isfile(os.path.join(os.path.dirname(path), name)):
            return name
    return None


def _vhdr_names(path: str) -> list[str]:
    return [name for _, name in _vhdr_entries(path)]


def _vhdr_entries(path: str) -> list[tuple[str, str]]:
    """``(key, file name)`` of each ``DataFile=`` / ``MarkerFile=`` line (key lower-case)."""
    try:
        with open(path, "rb") as fh:
            text = fh.read(1 << 16).decode("latin-1")
    except OSError:
        return []
    names = []
    for line in text.splitlines():
        hit = _VHDR_KEY.match(line)
        if hit:
            name = hit.group(2).replace("\\", "/")
            # always beside the header, as readers do
            names.append((hit.group(1).lower(), os.path.basename(name)))
    return names
