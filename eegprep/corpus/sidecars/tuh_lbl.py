"""TUSZ v1.5's per-channel label files ``.lbl`` / ``.lbl_bi`` (NEDC ``lbl_v1.0.0``), and
TUSL's older ``.lbl_agg``.

Where a ``.tse`` gives one row per stretch of the whole recording, a ``.lbl`` gives them per
channel of the bipolar montage it names: the channels a seizure was seen on, as v2's per-channel
``.csv`` gives them::

    version = lbl_v1.0.0

    montage = 0, FP1-F7: EEG FP1-REF -- EEG F7-REF
    montage = 1, F7-T3: EEG F7-REF -- EEG T3-REF

    number_of_levels = 1
    level[0] = 1

    symbols[0] = {0: '(null)', 1: 'spsw', ..., 6: 'bckg', ..., 30: 'elec', 100: 'eyem_chew', ...}

    label = {0, 0, 0.0000, 2.5000, 0, [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, ...]}

A ``label`` is ``{level, sublevel, start s, stop s, montage index, [probability per symbol]}``
(a one-hot vector in TUSZ). Entry ``i`` of the vector is the ``i``-th symbol in the order the
``symbols`` line lists them, as NEDC's own reader and writer pair them (one entry per symbol);
a vector of one entry per symbol number (the largest + 1) is read by number. The two differ
where the numbers have gaps (TUSZ's symbols run 0..30, then 100..109): a vector of neither
length, or of both with readings that differ, is a malformed line (:func:`_reading`). Each
symbol given a probability above 0 is one row, on the montage channel's name (``FP1-F7``); a
label on channel ``-1`` (``all``: NEDC's tools write a ``.tse`` converted to ``.lbl`` so, with
no ``montage`` line) is on the whole recording. The lines may come in any order; a line of
another key (``number_of_levels``, ``level[0]``) says nothing the rows need and is passed over.
A malformed ``label`` line refuses the recording, as a malformed row of the other label files
does (:mod:`.bad_lines`: its stretch would be stored as background), named after the file's
other lines are read; a malformed ``montage`` or ``symbols`` line refuses the file at once.
"""

from __future__ import annotations

import math
import re
from typing import Any

from eegprep.base.errors import SourceError
from eegprep.base.validation import OTHER_DIGITS, other_digits
from eegprep.base.wording import counted
from eegprep.corpus.sidecars.bad_lines import BadLine, BadLines
from eegprep.corpus.sidecars.bounded import check_rows, statement_lines
from eegprep.corpus.sidecars.cells import strict_number

LBL_SUFFIXES = (".lbl", ".lbl_bi", ".lbl_agg")
"""Suffixes (lower case) of the per-channel label files (NEDC ``lbl_v1.0.0``) of TUSZ v1.5
(``.lbl``, ``.lbl_bi``) and of TUSL's older releases (``.lbl_agg``)."""

_KEY = re.compile(r"^(?P<key>[A-Za-z_]+)\s*(?:\[\s*(?P<index>[0-9]+)\s*\])?\s*=\s*(?P<value>.*)$")
_LABEL_KEY = re.compile(r"^\s*label\s*=", re.IGNORECASE)
_MONTAGE = re.compile(r"^(?P<index>[0-9]+)\s*,\s*(?P<name>[^:,\s][^:,]*?)\s*:.*$")
_LABEL = re.compile(r"^\{(?P<cells>[^\[\]{}]*),\s*\[(?P<vector>[^\[\]{}]*)\]\s*\}$")
_SYMBOLS = re.compile(r"^\{(?P<body>.*)\}$")
_SYMBOL = re.compile(r"""^(?P<key>[0-9]+)\s*:\s*(?P<q>['"])(?P<name>[^'"]*)(?P=q)$""")

_EXPECTED = {
    "montage": "montage = INDEX, NAME: ... (0, FP1-F7: EEG FP1-REF -- EEG F7-REF)",
    "symbols": "symbols[LEVEL] = {0: 'null', 1: 'spsw', ...}",
    "label": "label = {level, sublevel, start, stop, channel, [probabilities]}",
}

ALL = -1
"""The channel of a ``label`` on the whole recording (NEDC writes ``-1``, and reads ``all`` so)."""

Pending = tuple[int, int, float, float, int, list[float]]
"""A label line read: (line, level, start s, stop s, montage index, probabilities)."""


def read_lbl(path: str, term: str = "TERM") -> tuple[dict[str, str], list[list[Any]], BadLines]:
    """Parse one ``lbl_v1.0.0`` file; a label on channel ``-1`` (or ``all``: NEDC's word for
    the whole recording, as its tools write a ``.tse`` converted to ``.lbl``) is on ``term``.

    Returns
    -------
    meta : dict of str to str
        ``version`` where the file states it.
    rows : list of [start s, stop s, label, channel, line]
        One per symbol of a well-formed ``label`` line with a probability above 0, in file
        order; channel the montage name of its index (``FP1-F7``), line its line number (from
        1).
    bad : BadLines
        The malformed ``label`` lines, in line order: one that does not parse, or on a channel
        or level the file does not define (:meth:`.BadLines.check` refuses the file for them).

    Raises
    ------
    SourceError
        Naming the file and the line of a malformed ``montage`` or ``symbols`` line (what
        every label is read by) or of another that is no ``KEY = VALUE``; its first malformed
        ``label`` line where none is well-formed; the file where it has no label line.
    """
    meta: dict[str, str] = {}
    montage: dict[int, str] = {}
    symbols: dict[int, dict[int, str]] = {}
    pending: list[Pending] = []
    bad = BadLines(path)
    for n, text in statement_lines(path):
        try:
            _statement(n, text, meta, montage, symbols, pending)
        except BadLine as exc:
            if not _LABEL_KEY.match(text):  # (a montage or symbols line: every label's reading)
                raise SourceError(path, str(exc)) from None
            bad.add(exc)
        check_rows(path, len(pending), n)
    rows: list[list[Any]] = []
    for p in pending:
        try:
            rows += _rows(p, {**montage, ALL: term}, symbols)
        except BadLine as exc:
            bad.add(exc)
    if not rows:
        raise bad.refuse(_NO_LABELS)
    bad.found.sort()
    return meta, rows, bad


def _statement(
    n: int,
    text: str,
    meta: dict[str, str],
    montage: dict[int, str],
    symbols: dict[int, dict[int, str]],
    pending: list[Pending],
) -> None:
    """Read the statement ``text`` (line ``n``) into what it defines (raises
    :class:`BadLine`)."""
    m = _KEY.match(text)
    if m is None:
        raise BadLine(n, f"expected KEY = VALUE; got {_shown(text)}")
    key, value = m["key"].lower(), m["value"].strip()
    if key == "version":
        meta["version"] = value
    elif key == "montage":
        index, name = _montage(n, value)
        montage[index] = name
    elif key == "symbols":
        symbols[int(m["index"] or 0)] = _symbols(n, value)
    elif key == "label":
        pending.append(_label(n, value))


_NO_LABELS = (
    "no label lines (an empty or cut file): a TUH label file lists every stretch of its "
    'recording, background (bckg) included, so none is no label, not "no event"; '
    "re-download the file"
)


def _montage(n: int, value: str) -> tuple[int, str]:
    m = _MONTAGE.match(value)
    if m is None:
        raise _malformed(n, "montage", value)
    return int(m["index"]), m["name"]


def _symbols(n: int, value: str) -> dict[int, str]:
    m = _SYMBOLS.match(value)
    if m is None or not m["body"].strip():
        raise _malformed(n, "symbols", value)
    out: dict[int, str] = {}
    for item in m["body"].split(","):
        s = _SYMBOL.match(item.strip())
        if s is None or not s["name"].strip():
            raise _malformed(n, "symbols", value)
        out[int(s["key"])] = s["name"].strip()
    return out


def _label(n: int, value: str) -> Pending:
    m = _LABEL.match(value)
    cells = [c.strip() for c in m["cells"].split(",")] if m else []
    if m is None or len(cells) != 5:
        raise _malformed(n, "label", value)
    numbers = [strict_number(c) for c in cells[:4]] + [_channel(cells[4])]
    level, _, start, stop, channel = numbers
    for what, v in (("level", level), ("channel", channel)):
        if v is None or not v.is_integer() or v < (0 if what == "level" else ALL):
            raise BadLine(n, f"the {what} is not a whole number: {_shown(value)}")
    for v in (start, stop):
        if v is None or not math.isfinite(v) or v < 0:
            raise BadLine(n, f"expected start and stop times in seconds (0 "
                              f"or more, ASCII digits); got {_shown(value)}")  # fmt: skip
    assert level is not None and channel is not None and start is not None and stop is not None
    if stop < start:
        raise BadLine(n, f"the event stops ({stop:g} s) before it starts "
                          f"({start:g} s); fix the file")  # fmt: skip
    vector = [strict_number(c) for c in m["vector"].split(",")]
    if not all(p is not None and 0.0 <= p <= 1.0 for p in vector):
        raise BadLine(n, f"the probabilities are not numbers from 0 to 1: "
                          f"{_shown(value)}")  # fmt: skip
    probs = [float(p or 0.0) for p in vector]
    return n, int(level), start, stop, int(channel), probs


def _channel(cell: str) -> float | None:
    """A ``label``'s channel cell as a number: ``all`` is :data:`ALL`."""
    return float(ALL) if cell.lower() == "all" else strict_number(cell)


def _rows(
    pending: Pending, montage: dict[int, str], symbols: dict[int, dict[int, str]]
) -> list[list[Any]]:
    n, level, start, stop, channel, probs = pending
    if channel not in montage:  # (ALL is: the recording's term channel)
        raise BadLine(n, f"channel {channel} is not one of the file's montage "
                          f"lines ({_indices(montage)})")  # fmt: skip
    if level not in symbols:
        raise BadLine(n, f"level {level} has no symbols[{level}] line "
                          f"(levels with symbols: {_indices(symbols)})")  # fmt: skip
    names = _reading(n, level, probs, symbols[level])
    return [[start, stop, name, montage[channel], n] for name in names]


def _reading(n: int, level: int, probs: list[float], names: dict[int, str]) -> list[str]:
    """The symbols given a probability above 0 by the vector ``probs`` of a ``label`` line
    (line ``n``), read against ``symbols[level]`` (``names``: number -> name, in the line's
    order). NEDC's own reader and writer pair entry ``i`` with the ``i``-th symbol listed; a
    vector of one entry per number (max number + 1) is read by number. Where the symbols'
    numbers have gaps (``30: 'elec', 100: 'eyem_chew'``) only the vector's length tells the
    two apart: a length that is neither, or both with readings that differ, is a bad line."""
    picked = [i for i, p in enumerate(probs) if p > 0.0]
    if not picked:
        raise BadLine(n, "no symbol has a probability above 0")
    readings: list[dict[int, str]] = []
    if len(probs) == len(names):
        readings.append(dict(enumerate(names.values())))  # NEDC's: the symbols' order
    if len(probs) == max(names) + 1:
        readings.append(names)  # one entry per number
    if not readings:
        top = max(names) + 1
        wanted = f"{top} (one per symbol number)" if top != len(names) else ""
        wanted = " or ".join(w for w in (f"{len(names)} (one per symbol)", wanted) if w)
        raise BadLine(n, f"the vector has {counted(len(probs), 'entry')} "
                          f"but symbols[{level}] lists {counted(len(names), 'symbol')} "
                          f"numbered up to {top - 1}: expected {wanted}")  # fmt: skip
    got = [[r.get(i) for i in picked] for r in readings]
    if got[0] != got[-1]:  # (keys 0..N-1 listed out of order: both lengths fit)
        i, ours, theirs = next(t for t in zip(picked, got[0], got[-1]) if t[1] != t[2])
        raise BadLine(n, f"entry {i} of the vector is {ours!r} in the order "
                          f"symbols[{level}] lists them but {theirs!r} by number: ambiguous; "
                          "list the symbols in the order of their numbers")  # fmt: skip
    unknown = [i for i, name in zip(picked, got[0], strict=True) if name is None]
    if unknown:
        raise BadLine(n, f"probability given to symbol {unknown[0]}, which "
                          f"symbols[{level}] does not name")  # fmt: skip
    return [name for name in got[0] if name is not None]


def _indices(table: dict[int, Any]) -> str:
    table = {k: v for k, v in table.items() if k != ALL}
    if not table:
        return "none"
    keys = sorted(table)
    return ", ".join(map(str, keys)) if len(keys) <= 4 else f"{keys[0]}..{keys[-1]}"


def _malformed(n: int, key: str, value: str) -> BadLine:
    why = f" (written in {OTHER_DIGITS}: write ASCII digits)" if other_digits(value) else ""
    return BadLine(n, f"expected {_EXPECTED[key]}; got {_shown(value)}{why}")


def _shown(text: str) -> str:
    """A line for a message: its repr, at most 80 characters."""
    shown = repr(text)
    return shown if len(shown) <= 80 else shown[:77] + "..."
