"""The malformed lines of a TUH label file, left out and said in one warning line.

A TUH label file (``.tse``, ``.csv``, ``.lbl`` and their ``_bi``/``_agg`` kin) lists the
stretches of its recording one line each. A line that does not parse (a time that is no number,
a stop before its start, a field too few, a probability above 1) is left out, and the file's
other lines are read: :class:`BadLines` keeps each such line's number and why, and
:meth:`BadLines.note` is the one warning for the file (its name and the lines' numbers). A file
none of whose rows parses is refused naming its first bad line (:meth:`BadLines.refuse`): it
gives no label, and no stretch of a labelled recording may be guessed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from eegprep.base.errors import SourceError
from eegprep.base.path_limits import shown_path
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
    """The lines of the label file ``path`` left out, in file order: ``(line, why)``."""

    path: str
    found: list[tuple[int, str]] = field(default_factory=list)

    def add(self, bad: BadLine) -> None:
        """Note ``bad`` as left out."""
        self.found.append((bad.line, bad.why))

    def note(self, n_rows: int) -> list[str]:
        """The one warning line naming the lines left out, ``n_rows`` rows read from the others
        (none where every line parsed)."""
        if not self.found:
            return []
        name = shown_path(os.path.basename(self.path))
        line, why = self.found[0]
        rest = f"the other {counted(n_rows, 'row')} read"
        if len(self.found) == 1:
            return [f"{name}: line {line} left out: {why}; {rest}"]
        numbers = [str(n) for n, _ in self.found]
        if len(numbers) <= _LISTED:
            listed = f"{', '.join(numbers[:-1])} and {numbers[-1]}"
        else:
            listed = f"{', '.join(numbers[:_LISTED])}, ..."
        return [
            f"{name}: {counted(len(self.found), 'malformed line')} left out (lines {listed}); "
            f"line {line}: {why}; {rest}"
        ]

    def refuse(self, no_rows: str) -> SourceError:
        """The refusal of a file that gave no row: its first bad line, else ``no_rows``."""
        if self.found:
            line, why = self.found[0]
            return SourceError(self.path, f"line {line}: {why}")
        return SourceError(self.path, no_rows)
