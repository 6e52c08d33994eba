"""Path patterns of a corpus manifest: the regexes of ``path.pattern`` and the path fields that
they give each file (``stem``, ``dir``, ... and the patterns' named groups), which the
manifest's ``path.name`` and ``sidecar.files`` templates and its labels are filled from.
"""

from __future__ import annotations

import re
from typing import Any

from eegprep.base.errors import ManifestError
from eegprep.base.path_limits import shown_path


def parse_patterns(file: str, value: str | list[Any] | None) -> tuple[str, ...]:
    """``path.pattern``: one regex or a list of them (tried in order); each must compile."""
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else value
    if not items:
        raise ManifestError(f"{shown_path(file)}: key path.pattern is an empty list")
    for i, rx in enumerate(items):
        where = "path.pattern" if isinstance(value, str) else f"path.pattern[{i}]"
        if not isinstance(rx, str):
            raise ManifestError(
                f"{shown_path(file)}: key {where} must be str, got {type(rx).__name__}"
            )
        try:
            re.compile(rx)
        except re.error as exc:
            raise ManifestError(
                f"{shown_path(file)}: key {where} is not a valid regex: {exc}"
            ) from None
    return tuple(items)


def _file_fields(relpath: str) -> dict[str, str]:
    """The fields of every file: ``stem``, ``suffix``, ``parent``, ``dir`` and ``relpath``, as
    ``PurePosixPath(relpath)`` gives them (``tests/eegprep/test_manifest_patterns.py``), with
    string operations: a 70,000-file corpus is planned ~1 s sooner."""
    head, _, name = relpath.rpartition("/")
    head = head.rstrip("/")
    i = name.rfind(".")
    dotted = 0 < i < len(name) - 1  # ".bashrc" and "a." have no suffix
    return {
        "stem": name[:i] if dotted else name,
        "suffix": name[i:] if dotted else "",
        "parent": head.rpartition("/")[2],
        "dir": head or ".",
        "relpath": relpath,
    }


def path_fields(patterns: tuple[str, ...], relpath: str) -> dict[str, str] | None:
    """Named groups of the first pattern that matches ``relpath`` (``None``: none does), beside
    the fields every file has; with no patterns at all, those fields alone."""
    base = _file_fields(relpath)
    if not patterns:
        return base
    for pattern in patterns:
        m = re.search(pattern, relpath, re.DOTALL)  # "." spans a newline in a file name too
        if m is None:
            continue
        out = dict(base)
        for k, v in m.groupdict().items():
            if v is not None:
                out[k] = v
            else:  # an optional group that took no part: "" (templates may use it)
                out.setdefault(k, "")
        return out
    return None
