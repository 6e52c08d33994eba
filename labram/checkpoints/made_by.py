"""Which labram wrote a file: the ``labram_version`` entry of its checkpoints, run files and
exports.

Every file a training run or an export writes records the version of the labram that wrote
it under :data:`KEY`: the one version ``labram --version`` prints
(:mod:`eegprep.base.version`). A model file (``tokenizer.pt``, ``model.pt``, ``best.pt``)
records it among the entries of :func:`~labram.checkpoints.layouts.ours_dict`, a ``last.pt``
among its own, a run file (``config.json``, ``summary.json``, ``metrics.json``,
``results.json``) at its top level (:func:`stamped`). An export records its own and, under
:data:`SOURCE_KEY`, the one the exported checkpoint records.

A file an earlier labram wrote holds none: it is read, resumed and exported as before, and
said as not recorded (:func:`describe`). A run's ``config.json`` that another version
resumes is rewritten with this version and, under :data:`EARLIER_KEY`, the versions that
wrote it before, oldest first (``null`` for a labram that recorded none): :func:`resumed`.
Neither entry is a setting: a resume compares the options without them (:data:`ENTRIES`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from eegprep.base.version import __version__

KEY = "labram_version"
"""The entry that holds the version of the labram that wrote a file."""
EARLIER_KEY = "earlier_labram_versions"
"""A run's ``config.json``: the versions that wrote it before a resume by another version."""
SOURCE_KEY = "source_labram_version"
"""An export's metadata: the version the exported checkpoint records (absent: none)."""
ENTRIES = (KEY, EARLIER_KEY)
"""The entries of a run's ``config.json`` that record versions, not settings."""

_VERSION = re.compile(r"[0-9A-Za-z][0-9A-Za-z.+!_-]{0,63}")
"""What a recorded version may be (PEP 440's characters, at most 64): anything else, in a
file edited or crafted, is not shown as one."""


def stamped(doc: Mapping[str, Any]) -> dict[str, Any]:
    """``doc`` (a run file's or a checkpoint's entries) with this labram's version."""
    return {**doc, KEY: __version__}


def recorded(obj: Any, key: str = KEY) -> str | None:
    """The version ``obj`` (a checkpoint's or a run file's entries) records under ``key``;
    None where it records none (an earlier labram's file, another tool's) or no version."""
    value = obj.get(key) if isinstance(obj, Mapping) else None
    return value if isinstance(value, str) and _VERSION.fullmatch(value) else None


def resumed(record: Mapping[str, Any], before: Any) -> dict[str, Any]:
    """A run's ``config.json`` entries ``record``, stamped (:func:`stamped`), that replace
    ``before`` (the file's entries as read; None: no file): the versions that wrote it
    before, oldest first, are kept under :data:`EARLIER_KEY` once one is not this version
    (None for a file that records none)."""
    out = stamped(record)
    if not isinstance(before, Mapping):
        return out
    versions = earlier(before)
    last = recorded(before)
    if last != __version__:
        versions.append(last)
    if versions:
        out[EARLIER_KEY] = versions
    return out


def earlier(obj: Any) -> list[str | None]:
    """The versions a run's ``config.json`` (its entries ``obj``) says wrote it before a
    resume (:data:`EARLIER_KEY`), oldest first; None for one that recorded none (or no
    version); ``[]`` where it says none."""
    kept = obj.get(EARLIER_KEY) if isinstance(obj, Mapping) else None
    return [recorded({KEY: v}) for v in kept] if isinstance(kept, list) else []


def describe(version: str | None, before: Any = None) -> str:
    """``version`` in words (``not recorded (...)`` for None), and the versions ``before``
    (a :data:`EARLIER_KEY` list) that wrote the run before it was resumed."""
    said = version if version is not None else "not recorded (an earlier labram's file)"
    if isinstance(before, list) and before:
        shown = ", ".join(v if isinstance(v, str) else "one that recorded none" for v in before)
        said += f" (resumed; earlier: {shown})"
    return said


__all__ = [
    "EARLIER_KEY", "ENTRIES", "KEY", "SOURCE_KEY", "describe", "earlier", "recorded", "resumed",
    "stamped",
]  # fmt: skip
