"""A test's own temporary paths, which differ from machine to machine and run to run (the
temporary folder, ``pytest-of-USER``, the run's ``pytest-N``, the test's name and number): a
check must not pass or fail by them. :func:`without_paths` takes them out of a text before its
words or its length are checked; :func:`shown` names a path as the commands' messages name it
(:func:`eegprep.base.path_limits.shown_path`: whole up to
:data:`~eegprep.base.path_limits.SHOWN_CHARS` characters, else its two ends and the count of the
characters between), so that a check of a message for a path holds whatever the path's length on
the machine."""

from __future__ import annotations

import os
from collections.abc import Iterable


def without_paths(text: str, paths: Iterable[str | os.PathLike[str]]) -> str:
    """``text`` with every one of ``paths`` removed, the longest first (a path inside another
    is not left in pieces)."""
    for path in sorted((os.fspath(p) for p in paths), key=len, reverse=True):
        text = text.replace(path, "")
    return text


def shown(path: str | os.PathLike[str]) -> str:
    """``path`` as a message shows it: whole up to 300 characters, else its ends and a count."""
    from eegprep.base.path_limits import shown_path

    return shown_path(os.fspath(path))
