"""An embedding store's chunks on the disk before the progress record that calls them done.

zarr-python writes each chunk to a temporary file and renames it into place, without an
``fsync`` of either. ``labram embed`` then recorded the chunk as done in its progress file,
itself flushed: after a power cut the record could survive while the chunk's bytes or its new
name did not, and the resume skipped it (a chunk of zeros or a missing object read as NaN
windows of a complete run). :func:`sync_chunks` flushes the chunk files of the windows just
written and the folders that name them, from the chunk's own up to the store's root; the
progress file is written after it (:mod:`eegprep.base.disk_sync` gives the order).
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from eegprep.base.disk_sync import sync_file, sync_folders


def chunk_files(out: Path, arr: Any, start: int, stop: int) -> list[Path]:
    """The chunk files of the Zarr array ``arr`` (of the store ``out``) that hold the windows
    ``start`` to ``stop`` (first axis, ``stop`` excluded), every chunk of the other axes."""
    if stop <= start:
        return []
    size = arr.chunks[0]
    grid = [range(-(-n // c)) for n, c in zip(arr.shape[1:], arr.chunks[1:], strict=True)]
    rows = range(start // size, -(-stop // size))
    base = out / arr.path
    return [base / arr.metadata.encode_chunk_key(idx) for idx in itertools.product(rows, *grid)]


def sync_chunks(out: Path, arrays: dict[str, Any], start: int, stop: int) -> None:
    """Flush to the disk the chunk files of ``arrays`` holding the windows ``start`` to
    ``stop``, then every folder from theirs up to ``out`` (a chunk zarr left unwritten, all
    its values the fill value, has no file: its folder is flushed all the same, where zarr made
    it).

    Raises
    ------
    OSError
        A flush failed (the caller names the store).
    """
    folders: list[Path] = []
    for arr in arrays.values():
        for path in chunk_files(out, arr, start, stop):
            if path.is_file():
                sync_file(path)
            folders += [p for p in path.parents if p == out or out in p.parents]
    deepest_first: list[Path] = sorted(set(folders), key=lambda p: len(p.parts), reverse=True)
    # a folder zarr never made (every chunk in it the fill value: windows left out) names
    # nothing to flush; flushing it was a FileNotFoundError that ended the run
    sync_folders(p for p in deepest_first if p.is_dir())


__all__ = ["chunk_files", "sync_chunks"]
