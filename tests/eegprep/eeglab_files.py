"""EEGLAB ``.set`` files as EEGLAB saves them, in either MATLAB version it writes.

EEGLAB saves a dataset as MAT v5 (scipy) or, for one over 2 GB or with its "save as MATLAB 7.3"
option on, as MAT v7.3: HDF5 behind MATLAB's 512-byte user block, arrays transposed, text as
UTF-16 code units, ``chanlocs`` and ``event`` as struct arrays of object references
(:mod:`eegprep.testing.mat73_writer`). :func:`save_set` writes the v5 file and, for v7.3, saves
the same variables again as v7.3 in its place: the same recording in each version.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import scipy.io

from eegprep.readers.matlab_files import clear_cache, mat_version
from eegprep.testing.mat73_writer import resave_mat73

MAT_VERSIONS = ["5", "7.3"]
"""The MATLAB versions EEGLAB saves a ``.set`` in (``pop_saveset``'s ``-v6``/``-v7.3``)."""


def save_set(
    path: str | Path, variables: dict[str, Any], *, mat: str, compress: bool = False
) -> str:
    """``variables`` (``{'EEG': {...}}``, or EEGLAB's fields as top-level variables, its
    ``-struct`` save) saved at ``path`` as MAT ``mat`` (``'5'`` or ``'7.3'``); ``compress``:
    v7.3 arrays chunked and deflated, as MATLAB saves them by default."""
    scipy.io.savemat(path, variables, oned_as="row")
    resave_set(path, mat=mat, compress=compress)
    assert mat_version(str(path)) == mat
    return str(path)


def resave_set(path: str | Path, *, mat: str, compress: bool = False) -> str:
    """The ``.set`` at ``path`` (MAT v5) saved again in place as MAT ``mat``."""
    if mat == "7.3":
        as_v73 = f"{path}.v73"
        resave_mat73(path, as_v73, compress=compress)
        os.replace(as_v73, path)
    clear_cache()
    return str(path)
