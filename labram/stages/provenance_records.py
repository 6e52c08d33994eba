"""The rule for the provenance records a checkpoint or run file carries: checked, never trusted.

``tokenizer_used`` (:mod:`labram.stages.tokenizer_used`) and ``backbone_used``
(:mod:`labram.stages.backbone_used`) are free-form JSON-like entries of files labram does not
control (a checkpoint handed over, an export's metadata, a run's ``config.json``). A record is
sound when each field it holds has its type and size (:func:`problem`):

- ``path``, ``resolved``: text of at most :data:`MAX_PATH_CHARS` characters (``backbone_used``
  of random weights: null);
- ``sha256``: 64 lowercase hex digits (null in ``backbone_used`` of random weights);
- ``layout`` (``backbone_used``): one of :data:`LAYOUTS`;
- ``config`` (``tokenizer_used``): a table of at most 64 scalars, ``n_codes`` and ``code_dim``
  counts;
- ``trained_by_run``: true or false; the nested ``tokenizer_used`` / ``backbone_used``: null, or
  a sound record (at most :data:`MAX_NESTING` deep), or :data:`MALFORMED`.

A malformed record is one line naming the file and the field. Where it is only reported
(``export``'s cards, ``predict --json``, ``embed``, ``report``) it is warned of and read as
:data:`MALFORMED`, shown as ``not recorded (malformed)`` and never copied on; where a command
relies on it (a resume compares the file's SHA-256 with it) it is refused. Text shown from a
record goes through :func:`eegprep.base.field_text.noted_text` (escaped, capped).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from typing import Any

from eegprep.base.field_text import noted_text
from eegprep.base.wording import counted

TOKENIZER_KEY = "tokenizer_used"
BACKBONE_KEY = "backbone_used"
KEYS = (TOKENIZER_KEY, BACKBONE_KEY)

MALFORMED: dict[str, Any] = {"malformed": True}
"""What a malformed record reads as: shown as :data:`SHOWN`, never copied into a new file."""
SHOWN = "not recorded (malformed)"

LAYOUTS = ("training", "labram", "released", "random")
"""The ``layout`` a ``backbone_used`` record may name (:func:`labram.stages.backbone_used._layout`;
``random``: no ``--init``)."""
MAX_PATH_CHARS = 4096
"""The most characters a recorded path may hold (Linux's ``PATH_MAX``)."""
MAX_NESTING = 16
"""How many records deep a ``backbone_used`` chain may go (a model fine-tuned from a model
fine-tuned from ...: a few in practice)."""
_MAX_CONFIG_FIELDS = 64
_HEX64 = re.compile(r"[0-9a-f]{64}")
_COUNTS = ("n_codes", "code_dim")


def is_malformed(rec: Any) -> bool:
    """Whether ``rec`` is the :data:`MALFORMED` marker."""
    return isinstance(rec, Mapping) and rec.get("malformed") is True and len(rec) == 1


def _text(rec: Mapping[str, Any], name: str, *, null: bool) -> str | None:
    value = rec.get(name)
    if value is None and (null or name not in rec):
        return None
    if not isinstance(value, str):
        return f"its {name} is a {type(value).__name__}, not text"
    if len(value) > MAX_PATH_CHARS:
        n = counted(len(value), "character", sep=",")
        return f"its {name} is {n} long, over {MAX_PATH_CHARS:,}"
    return None


def _config(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, Mapping) or len(value) > _MAX_CONFIG_FIELDS:
        return f"its config is not a table of at most {counted(_MAX_CONFIG_FIELDS, 'field')}"
    for k, v in value.items():
        if not isinstance(k, str) or len(k) > 64:
            return "its config holds a field name that is not short text"
        if (isinstance(v, str) and len(v) > 255) or not isinstance(v, str | int | float | None):
            return f"its config field {noted_text(k)} is not a number, short text or null"
        if k in _COUNTS and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
            return f"its config field {k} is {noted_text(repr(v))}, not a positive integer"
    return None


def problem(key: str, rec: Any, depth: int = 0) -> str | None:
    """What makes ``rec`` no sound ``key`` record (``tokenizer_used`` or ``backbone_used``),
    in words (``its layout is not one of ...``); None: sound (module docstring)."""
    if not isinstance(rec, Mapping):
        return f"a {type(rec).__name__}, not a table"
    if depth > MAX_NESTING:
        return f"nested over {counted(MAX_NESTING, 'record')} deep"
    random = key == BACKBONE_KEY and rec.get("layout") == "random"
    if key == BACKBONE_KEY and rec.get("layout") not in LAYOUTS:
        shown = noted_text(repr(rec.get("layout")))
        return f"its layout {shown} is not one of {', '.join(LAYOUTS)}"
    if key == TOKENIZER_KEY and not isinstance(rec.get("path"), str):
        return f"its path is a {type(rec.get('path')).__name__}, not text"
    sha = rec.get("sha256")
    if not (sha is None and (random or key == BACKBONE_KEY)) and not (
        isinstance(sha, str) and _HEX64.fullmatch(sha)
    ):
        return f"its sha256 {noted_text(repr(sha))} is not 64 hex digits"
    found = (
        _text(rec, "path", null=key == BACKBONE_KEY)
        or _text(rec, "resolved", null=True)
        or _config(rec.get("config"))
    )
    if found:
        return found
    if "trained_by_run" in rec and not isinstance(rec["trained_by_run"], bool):
        return "its trained_by_run is not true or false"
    for inner in (TOKENIZER_KEY, BACKBONE_KEY) if key == BACKBONE_KEY else ():
        value = rec.get(inner)
        if value is not None and not is_malformed(value):
            why = problem(inner, value, depth + 1)
            if why:
                return f"its {inner} record is malformed ({why})"
    return None


def checked(source: str, key: str, rec: Any) -> dict[str, Any] | None:
    """``rec`` (the ``key`` record file ``source`` holds; None: none) when sound; else one
    warning line naming ``source``, ``key`` and the problem, and :data:`MALFORMED`."""
    if rec is None or is_malformed(rec):
        return None if rec is None else dict(MALFORMED)
    why = problem(key, rec)
    if why is None:
        return dict(rec)
    warnings.warn(
        f"{noted_text(source)}: its {key} record is malformed ({why}): shown as {SHOWN!r} and "
        "not copied on",
        stacklevel=3,
    )
    return dict(MALFORMED)


def sound_or_none(rec: Any) -> dict[str, Any] | None:
    """``rec`` when it is a sound record to copy into a new file; None for :data:`MALFORMED`
    (a malformed record is never copied on)."""
    return None if rec is None or is_malformed(rec) else dict(rec)


__all__ = [
    "KEYS",
    "LAYOUTS",
    "MALFORMED",
    "MAX_NESTING",
    "MAX_PATH_CHARS",
    "SHOWN",
    "checked",
    "is_malformed",
    "problem",
    "sound_or_none",
]
