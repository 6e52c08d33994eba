"""Format readers behind one contract (see :mod:`eegprep.readers.base`).

``get_reader(name)`` returns a reader class by registry name; ``reader_for(path)`` picks one by
file suffix. Reader modules are imported on first use so that importing eegprep stays light.
"""

from __future__ import annotations

import importlib
from pathlib import PurePath

from eegprep.base.errors import UsageError
from eegprep.base.validation import invalid_value
from eegprep.readers.base import Annotation, Header, Reader, Signal

__all__ = ["READERS", "Annotation", "Header", "Reader", "Signal", "get_reader", "reader_for"]

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
        raise UsageError(f"{path}: no reader for suffix {suffix!r}; known suffixes: {known}")
    return get_reader(SUFFIXES[suffix])
