"""eegprep: turn EEG corpora, as their owners ship them, into Zarr stores for LaBraM.

The public API is small: :func:`open_store` reads a store, :func:`ingest` writes one, and
:mod:`eegprep.channels` holds the canonical channel vocabulary. Heavy modules (mne, dask,
matplotlib) are imported lazily, so ``import eegprep`` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

# The version of the `labram` distribution (both packages), and its only copy: pyproject.toml
# reads it from here ([tool.setuptools.dynamic]) and labram re-exports it.
__version__ = "0.1.0"

__all__ = ["__version__", "ingest", "open_store", "to_mne"]

if TYPE_CHECKING:
    from eegprep.ingest import ingest
    from eegprep.interop import to_mne
    from eegprep.store import open_store


def __getattr__(name: str) -> Any:
    if name == "open_store":
        from eegprep.store import open_store

        return open_store
    if name == "ingest":
        from eegprep.ingest import ingest

        return ingest
    if name == "to_mne":
        from eegprep.interop import to_mne

        return to_mne
    raise AttributeError(f"module 'eegprep' has no attribute {name!r}")
