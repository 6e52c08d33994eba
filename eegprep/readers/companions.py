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

    BrainVision headers (``.vhdr``/``.ahdr``) name their data and marker files; EEGLAB
    ``.set`` files keep samples in a ``.fdt`` of the same stem (when it exists); other formats
    are one file. Files named but missing are left out (the reader reports them).
    """
    stem, ext = os.path.splitext(path)
    ext = ext.lower()
    out: list[str] = []
    if ext in (".vhdr", ".ahdr"):
        out = [os.path.join(os.path.dirname(path), name) for name in _vhdr_names(path)]
    elif ext == ".set":
        out = [stem + e for e in (".fdt", ".FDT", ".dat")]
    return [p for p in dict.fromkeys(out) if p != path and os.path.isfile(p)]


def _vhdr_names(path: str) -> list[str]:
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
            names.append(os.path.basename(name))  # always beside the header, as readers do
    return names
