"""eegprep: turn EEG corpora, as their owners ship them, into Zarr stores for LaBraM.

The public API is small: :func:`open_store` reads a store, :func:`ingest` writes one, and
:mod:`eegprep.pipeline.channels` holds the canonical channel vocabulary. Heavy modules (mne, dask,
matplotlib) are imported lazily, so ``import eegprep`` stays fast.
"""

from __future__ import annotations

# Nothing is imported here, not even the version (read when first asked for): the console
# scripts take Ctrl-C over in eegprep/_console.py, imported right after this package, and each
# import before it is a window for Python's traceback (tests/test_startup.py).
TYPE_CHECKING = False

__all__ = ["__version__", "ingest", "open_store", "to_mne"]

if TYPE_CHECKING:
    from typing import Any

    from eegprep.base.version import __version__
    from eegprep.ingestion.driver import ingest
    from eegprep.store.reader import open_store
    from eegprep.tools.interop import to_mne


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from eegprep.base.version import __version__

        return __version__
    if name == "open_store":
        from eegprep.store.reader import open_store

        return open_store
    if name == "ingest":
        from eegprep.ingestion.driver import ingest

        return ingest
    if name == "to_mne":
        from eegprep.tools.interop import to_mne

        return to_mne
    raise AttributeError(f"module 'eegprep' has no attribute {name!r}")
