"""How a line a command prints shows a path or a name: the one rule, :func:`shown_path`.

A leaf of the package (it imports no other eegprep module), so that every module, the error
classes of :mod:`eegprep.base.errors` included, can show the path it names by the rule: a
control character (a newline, a tab, an escape) as its escape, so that the line stays one line
and names the file exactly; bytes that are not UTF-8 as ``\\xNN``; a path longer than
:data:`SHOWN_CHARS` characters by its two ends. :mod:`eegprep.base.path_limits` and
:mod:`eegprep.base.files` give these names too, where callers have always found them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable

SHOWN_CHARS = 300
"""Characters of a path that a message shows whole: more than any path a user types or a
corpus holds (a name is at most 255 bytes), so that every line names the file itself; a longer
path (up to 4095 bytes) is shown by its first and last :data:`SHOWN_END` characters, the
characters between them counted, so that it does not flood the terminal and its end, the
file's own name, is still there. One rule, :func:`shown_path`, for every kind of path (a file,
a folder, a FIFO, a device, a link loop) in every command's messages."""

SHOWN_END = 120
"""Characters kept at each end of a path longer than :data:`SHOWN_CHARS`."""


def as_text(text: str) -> str:
    """``text`` as a string every output and every JSON reader can hold: a path's bytes that
    are not UTF-8 (which :func:`os.fsdecode` turns into lone surrogates, ``\\udce9``) become
    ``\\xNN`` escapes (``/data/caf\\xe9``); text that is already valid is returned unchanged."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return text


UNSHOWN = "\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff"
"""Characters (a regular-expression class's ranges) that no terminal or page shows as
themselves, past the C0 controls: DEL and the C1 controls, the Unicode line and paragraph
separators, and the invisible and direction-changing format characters (zero-width spaces,
bidirectional embeddings and overrides such as U+202E, isolates, the byte-order mark), which
make text read other than it is. The one rule of the terminal's output
(:mod:`eegprep.cli_group`) and of :func:`shown_name`."""

_UNSHOWABLE = re.compile(f"[\\x00-\\x1f{UNSHOWN}]")
"""Characters that break, move or reorder a line: the C0 controls and :data:`UNSHOWN`."""


def shown_name(name: str) -> str:
    """A file name as an error line gives it: each of :data:`_UNSHOWABLE` as its Python escape
    (``a\\nb.edf``, ``\\u202e``), so that the line both stays one line and names the file
    exactly (a newline shown as a space would name another file; a bidi override shown raw
    would show the name reversed, in a report's HTML page as on a terminal); bytes that are
    not UTF-8 as ``\\xNN``."""
    return _UNSHOWABLE.sub(lambda m: repr(m.group())[1:-1], as_text(name))


def shown_path(path: str | os.PathLike[str]) -> str:
    """``path`` as a message shows it (the one rule for a path or a file name in any line a
    command prints, a log written one line per event included): whole up to
    :data:`SHOWN_CHARS` characters, else its first and last :data:`SHOWN_END` characters
    with the count of those between; control characters (a NUL, a newline) as escapes
    (:func:`shown_name`)."""
    text = os.fsdecode(path)  # (an OSError's filename may be bytes: surrogates, then \\xNN)
    if len(text) <= SHOWN_CHARS:
        return shown_name(text)
    head, tail = text[:SHOWN_END], text[-SHOWN_END:]
    cut = len(text) - 2 * SHOWN_END
    return f"{shown_name(head)}... ({cut} more characters) ...{shown_name(tail)}"


def quoted_path(path: str | os.PathLike[str]) -> str:
    """``path`` as :func:`shown_path` shows it, in single quotes: the form of a path or a file
    name inside a sentence (``sidecar 'x.csv' is not there``), where ``{path!r}`` showed a name
    of 4,000 characters whole and gave another quoting for a name holding a ``'``."""
    return f"'{shown_path(path)}'"


def shown_paths(paths: Iterable[str | os.PathLike[str]], most: int = 5) -> str:
    """The first ``most`` of ``paths``, each as :func:`shown_path` shows it, joined with
    ``", "``, then ``" and N more"``: a list of stores or files in a sentence, where
    ``{list(stores)}`` showed Python's list, each name's repr whole (bounded nowhere)."""
    items = list(paths)
    shown = ", ".join(shown_path(p) for p in items[:most])
    return f"{shown} and {len(items) - most} more" if len(items) > most else shown
