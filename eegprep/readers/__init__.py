"""Format readers behind one contract (see :mod:`eegprep.readers.base`).

``get_reader(name)`` returns a reader class by registry name; ``reader_for(path)`` picks one by
file suffix. Reader modules are imported on first use so that importing eegprep stays light.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import PurePath

from eegprep.base.errors import UsageError
from eegprep.base.path_limits import shown_path
from eegprep.base.validation import invalid_value
from eegprep.readers.base import Annotation, Header, Reader, Signal

__all__ = [
    "READERS",
    "Annotation",
    "Header",
    "Reader",
    "Signal",
    "clear_caches",
    "get_reader",
    "reader_for",
]

# registry name -> "module:Class"
READERS: dict[str, str] = {
    "edf": "eegprep.readers.edf:EdfReader",
    "mne": "eegprep.readers.mne_formats:MneReader",
    "mat": "eegprep.readers.matlab:MatReader",
    "csv": "eegprep.readers.csv_table:CsvReader",
}

# suffix -> registry name, for `reader_for`
SUFFIXES: dict[str, str] = {
    ".edf": "edf",
    ".bdf": "edf",
    ".rec": "edf",
    ".vhdr": "mne",
    ".ahdr": "mne",
    ".set": "mne",
    ".cnt": "mne",
    ".gdf": "mne",
    ".fif": "mne",
    ".mat": "mat",
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
}
"""The one table of which reader opens which suffix (lower case)."""


def get_reader(name: str) -> type[Reader]:
    """The reader class registered under ``name``."""
    try:
        target = READERS[name]
    except KeyError:
        raise invalid_value("reader", name, READERS) from None
    module, cls = target.split(":")
    return getattr(importlib.import_module(module), cls)


def reader_for(path: str) -> type[Reader]:
    """The reader for a file, chosen by its suffix."""
    suffix = PurePath(path).suffix.lower()
    if suffix not in SUFFIXES:
        known = ", ".join(sorted(SUFFIXES))
        raise UsageError(
            f"{shown_path(path)}: no reader for suffix {suffix!r}; known suffixes: {known}"
        )
    return get_reader(SUFFIXES[suffix])


CACHING = ("mne_formats", "csv_table", "matlab_files")
"""The reader modules that keep parsed files in this process, keyed by the file's stamps
(:func:`eegprep.base.files.file_version`)."""


def clear_caches() -> None:
    """Forget every file the readers of this process parsed. Their caches are keyed by a file's
    size, mtime, ctime and inode, which a same-size rewrite in the timestamp tick the file was
    parsed in keeps (:mod:`eegprep.ingestion.racy_stamps`): an ingest starts from none. Modules
    not imported yet hold nothing, and are not imported for this."""
    for name in CACHING:
        module = sys.modules.get(f"{__name__}.{name}")
        if module is not None:
            module.clear_cache()
