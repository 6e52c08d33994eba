"""Per-item notes and warnings, capped by kind: a store of 5,000 recording groups that each hold
zarr's consolidated metadata gave `eegprep validate` 5,000 `note:` lines saying the same thing,
which pushed its summary (and any real problem) off the screen.

:func:`capped_by_kind` keeps the first :data:`SHOWN_PER_KIND` lines of each kind and counts
the rest; :func:`eegprep.cli_group.say_notes` prints what it keeps. Pure: no click.
docs/cli.md, "Notes and warnings".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

SHOWN_PER_KIND = 5
"""The most ``note:`` (or ``warning:``) lines of one kind a command prints without ``-v``;
one more line counts the rest of that kind."""

_DETAIL = re.compile(r"\([^()]*\)|(?<!\w)'[^']*'|\"[^\"]*\"|\d+(?:\.\d+)?")
"""What differs between two lines of one kind: parenthesised details, quoted names, numbers."""

_WORD = re.compile(r"[^\W\d_]+")


def note_kind(line: str) -> str:
    """What ``line`` says, without what it says it of: the text after its subject (``GROUP:``,
    ``FILE:``), its parenthesised details, quoted names, numbers and punctuation left out, and
    a plural as its singular. Two notes of one kind differ only in those."""
    _, sep, said = line.partition(": ")
    text = said if sep else line
    previous = None
    while previous != text:  # (nested parentheses: the innermost first)
        previous, text = text, _DETAIL.sub("", text)
    return " ".join(w.removesuffix("s") for w in _WORD.findall(text))  # (one or many)


@dataclass(frozen=True)
class Capped:
    """The lines of :func:`capped_by_kind` to print, in their order, and for each kind left
    out in part its first line and how many of it are not shown."""

    shown: list[str]
    more: list[tuple[str, int]]


def capped_by_kind(lines: Sequence[str], most: int = SHOWN_PER_KIND) -> Capped:
    """The first ``most`` of each kind (:func:`note_kind`) of ``lines``, in order, and per
    kind with more, its first line and the count not shown."""
    seen: dict[str, int] = {}
    first: dict[str, str] = {}
    shown: list[str] = []
    for line in lines:
        kind = note_kind(line)
        seen[kind] = seen.get(kind, 0) + 1
        first.setdefault(kind, line)
        if seen[kind] <= most:
            shown.append(line)
    more = [(first[k], n - most) for k, n in seen.items() if n > most]
    return Capped(shown, more)


class KindCounter:
    """:func:`capped_by_kind` for lines that come one at a time (Python warnings, log records):
    :meth:`admit` says whether to print a line (the first ``most`` of its kind), :meth:`more`
    what was held back, per kind its first line and count."""

    def __init__(self, most: int = SHOWN_PER_KIND) -> None:
        self.most = most
        self._seen: dict[str, list[Any]] = {}  # kind -> [count, first line]

    def admit(self, line: str) -> bool:
        """Count ``line``; ``True`` while its kind has been seen at most ``most`` times."""
        seen = self._seen.setdefault(note_kind(line), [0, line])
        seen[0] += 1
        return bool(seen[0] <= self.most)

    def more(self) -> list[tuple[str, int]]:
        """Per kind held back in part: its first line and how many were not printed."""
        return [(first, n - self.most) for n, first in self._seen.values() if n > self.most]
