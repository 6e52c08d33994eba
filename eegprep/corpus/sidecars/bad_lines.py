"""The malformed lines of a TUH label file: the recording refused in one line naming them.

A TUH label file (``.tse``, ``.csv``, ``.lbl`` and their ``_bi``/``_agg`` kin) lists the
stretches of its recording one line each, background too, and a stretch no row names is stored
as background. A line that does not parse (a time that is no number, a stop before its start, a
field too few, a probability above 1) cannot be left out, then: the seizure it may name would be
stored as background. :class:`BadLines` keeps each such line's number and why while the file's
other lines are read, and :meth:`BadLines.check` refuses the recording in one line naming the
first and counting the rest. A file with no row at all is refused by :meth:`BadLines.refuse`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from eegprep.base.errors import SourceError
from eegprep.base.wording import counted

_LISTED = 5  # line numbers a warning lists; the rest counted


class BadLine(ValueError):
    """One line of a label file that does not parse: its number (from 1, as an editor numbers
    it) and why, worded for a message after ``line N:``."""

    def __init__(self, line: int, why: str) -> None:
        self.line, self.why = line, why
        super().__init__(f"line {line}: {why}")


@dataclass
class BadLines:
    """The malformed lines of the label file ``path``, in file order: ``(line, why)``."""

    path: str
    found: list[tuple[int, str]] = field(default_factory=list)

    def add(self, bad: BadLine) -> None:
        """Note ``bad`` as malformed."""
        self.found.append((bad.line, bad.why))

    def check(self) -> None:
        """Refuse the file when a line was malformed: its first such line, and how many more.

        A TUH label file lists every stretch of its recording, and a stretch no row names is
        stored as background; a row left out would store a seizure as background, so the
        recording is refused (the file's other lines were all read, to count them)."""
        if not self.found:
            return
        line, why = self.found[0]
        more = ""
        if len(self.found) > 1:
            numbers = [str(n) for n, _ in self.found[1:]]
            shown = ", ".join(numbers[:_LISTED]) + (", ..." if len(numbers) > _LISTED else "")
            more = f" (and {counted(len(numbers), 'more malformed line')}: {shown})"
        raise SourceError(
            self.path,
            f"line {line}: {why}{more}; not read without it (the stretch it names would be "
            "stored as background): fix the line and ingest again",
        )

    def refuse(self, no_rows: str) -> SourceError:
        """The refusal of a file that gave no row: its first bad line, else ``no_rows``."""
        if self.found:
            line, why = self.found[0]
            return SourceError(self.path, f"line {line}: {why}")
        return SourceError(self.path, no_rows)
