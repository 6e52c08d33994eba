"""What a path given on either command line may be, checked while click parses it.

:class:`eegprep.cli_group.LocalPath` and :class:`eegprep.cli_group.StoreLocation` call
:func:`path_kind_problem` for every path they take, and the groups' one-line errors call
:func:`dash_path_hint` for an unknown option that is really a path whose name starts with
``-`` (``eegprep stats -s.zarr``). Pure functions of the path and the file system: no click.
docs/cli.md, Paths.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from eegprep.base.path_limits import shown_path


def dash_path_hint(option: str, argv: Sequence[str]) -> str:
    """How to pass the path that click took for the unknown ``option`` (``-s`` of
    ``-s.zarr``): the first word of ``argv`` that starts with ``option`` and names a path
    that exists (a dangling link too) or reads as one (it holds a ``.`` or a ``/``, which no
    option of ours does); an empty string when there is none."""
    for word in argv:
        if not word.startswith(option) or not word.startswith("-") or word == "--":
            continue
        if os.path.lexists(word) or "." in word or "/" in word:
            name = shown_path(word)
            return (
                f"; to name the path {name}, which starts with '-', write it ./{name} "
                f"or put -- before it (after every option)"
            )
    return ""
