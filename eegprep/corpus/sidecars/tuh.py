"""Sidecar parsers of the TUH family: NEDC ``csv_v1.0.0`` annotation files and TUEV ``.rec``.

``tuh_csv`` reads the NEDC annotation CSV that TUSZ (``.csv``, ``.csv_bi``), TUAR (``.csv``,
``_seiz.csv``) and TUSL (``.csv``) ship::

    # version = csv_v1.0.0
    # bname = aaaaaaac_s001_t000
    # duration = 301.00 secs
    # montage_file = $NEDC_NFC/lib/nedc_eas_default_montage.txt
    #
    channel,start_time,stop_time,label,confidence
    TERM,311.0255,333.0172,seiz,1.0000

Any number of ``#`` comment lines is accepted (TUAR may have one more), the column header is
optional, and the confidence column may be missing, in the whole file or in some rows.
``TERM`` (a term-based event on the whole recording) is stored with an empty channel;
per-channel rows keep their bipolar channel name (``FP1-F7``). The ``# duration`` and
``# bname`` comments are checked against the recording and a disagreement is reported as a
non-fatal problem.

TUSZ v1.5's term-based ``.tse`` / ``.tse_bi`` (``tse_v1.0.0``) are read by ``tuh_csv`` too::

    version = tse_v1.0.0

    0.0000 36.8868 bckg 1.0000
    36.8868 112.0000 cpsz 1.0000

A row may name several labels, each followed by its probability (``cpsz 0.8000 bckg
0.2000``, as NEDC's writer puts every label of a stretch on its line): each is one event; a
row of one label may leave its probability out. A malformed line of any of these files is left
out and named in one warning for the file (:mod:`.bad_lines`), the other lines read.
Its per-channel ``.lbl`` files are read too (``lbl_v1.0.0``, :mod:`.tuh_lbl`).

``tuev_rec`` reads TUEV's headerless ``channel,start,stop,code`` rows, codes 1..6 =
spsw gped pled eyem artf bckg. The event label is the class name; the numeric class is kept in
the recording label ``event_codes`` (name -> code). Fields are ints or floats (``7.0`` is
channel 7). The channel number is stored as a whole number (``"7"``): whether it indexes
TUEV's bipolar montage or the EDF's channel order is uncertain (docs/corpora.md#tuev), so no
site name is guessed.
"""

from __future__ import annotations

import bisect
import math
import os
import re
from collections.abc import Iterator
from typing import Any

from eegprep.base.errors import SourceError
from eegprep.base.path_limits import shown_path
from eegprep.base.ragged import field_counts, uneven
from eegprep.base.text import editor_lines
from eegprep.base.validation import OTHER_DIGITS, other_digits
from eegprep.base.wording import counted
from eegprep.corpus.sidecars import SidecarResult, register
from eegprep.corpus.sidecars.bad_lines import BadLine, BadLines
from eegprep.corpus.sidecars.bounded import check_rows, text_lines
from eegprep.corpus.sidecars.cells import comma_or_tab, row_cells, strict_number
from eegprep.corpus.sidecars.tuh_lbl import LBL_SUFFIXES, read_lbl
from eegprep.corpus.sidecars.tuh_vocabulary import (
    known_tuh_label,
    pair_in,
    recording_sites,
    strange_rows,
)
from eegprep.readers.base import Header, option_number

TUEV_CLASSES: dict[int, str] = {1: "spsw", 2: "gped", 3: "pled", 4: "eyem", 5: "artf", 6: "bckg"}
"""TUEV event codes (``.rec`` last column) -> class names, as the corpus documents them."""

_COMMENT = re.compile(r"^#\s*(?P<key>[A-Za-z_]+)\s*=\s*(?P<value>.*?)\s*$")
_NUMBER = re.compile(r"[-+]?[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?")


def read_tuh_csv(path: str) -> tuple[dict[str, str], list[list[Any]]]:
    """Parse one csv_v1.0.0 file.

    Returns
    -------
    meta : dict of str to str
        The ``# key = value`` comments (``version``, ``bname``, ``duration``, ...).
    rows : list of [start s, stop s, label, channel]
        One per data row, in file order; channel ``TERM`` as given.

    Raises
    ------
    SourceError
        Naming the file and its first malformed line (a time that is no number, an empty label
        or channel, a stop before its start; :meth:`.BadLines.check`), or the file when it has
        no rows.
    """
    meta, rows, bad = _read_tuh_csv(path)
    bad.check()
    return meta, [row[:4] for row in rows]


def _read_tuh_csv(path: str) -> tuple[dict[str, str], list[list[Any]], BadLines]:
    """:func:`read_tuh_csv`, each row followed by its line number (from 1), and the malformed
    lines (:meth:`.BadLines.check` refuses the file for them)."""
    meta: dict[str, str] = {}
    rows: list[list[Any]] = []
    bad = BadLines(path)
    order = [0, 1, 2, 3]  # cells of channel, start, stop, label: NEDC's order, or the header's
    head: tuple[int, ...] = ()  # the header's count of cells (a row of another is malformed)
    for n, line in enumerate(_lines(path), start=1):
        text = line.strip()
        if not text:
            continue
        version = _version(text)
        if text.startswith("#") or version is not None:
            m = _COMMENT.match(text)
            if m:
                meta[m["key"].lower()] = m["value"]
            elif version is not None:
                meta["version"] = version
            continue
        cells = row_cells(text, comma_or_tab(text))
        names = [c.lower() for c in cells]
        if set(names) >= _COLUMNS:  # the column header (maybe once more in the middle of
            order = [names.index(k) for k in _ORDER]  # files put together), its columns
            head = field_counts(text, comma_or_tab(text), quoted=True)  # in NEDC's order or
            continue  # another (a spreadsheet's)
        if names[0] == "channel":
            continue  # a column header naming its columns otherwise: NEDC's order
        try:
            rows.append([*_csv_row(n, text, cells, order, head), n])
        except BadLine as exc:
            bad.add(exc)
            continue
        check_rows(path, len(rows), n)  # stops at the bound, before the file is read whole
    if not rows:
        raise bad.refuse(_NO_ROWS)
    return meta, rows, bad


def _version(text: str) -> str | None:
    """The version a ``version = ...`` line states (as a ``.tse`` states it), else None."""
    key, eq, value = text.partition("=")
    return value.strip() if eq and key.strip().lower() == "version" else None


def _csv_row(
    n: int, text: str, cells: list[str], order: list[int], head: tuple[int, ...]
) -> list[Any]:
    """``[start s, stop s, label, channel]`` of the csv_v1.0.0 row ``text`` (line ``n``, its
    ``cells``; ``order``: the cells of channel, start, stop and label; ``head``: the column
    header's count of cells). A row without its confidence is well-formed; one that lost
    another cell shows in its times or label. Raises :class:`BadLine`."""
    counts = field_counts(text, comma_or_tab(text), quoted=True)
    ragged = uneven(counts, head, "the header")  # (a cell missing moved the others)
    unconfident = len(cells) == 4 and order == [0, 1, 2, 3] and 5 in head
    if ragged and not unconfident:
        raise BadLine(n, f"the row {ragged}")
    if len(cells) not in (4, 5):
        raise BadLine(n, f"expected channel,start_time,stop_time,label,confidence; got "
                      f"{_shown(text)}")  # fmt: skip
    channel, start_text, stop_text, label = (cells[i] for i in order)
    start, stop = _seconds(n, start_text), _seconds(n, stop_text)
    for what, cell in (("channel", channel), ("label", label)):
        if not cell:
            raise BadLine(n, f"the {what} cell is empty: {_EMPTY[what]}")
    if unconfident and strict_number(label) is not None:
        raise BadLine(n, f"the label {label!r} is a number: a cell is missing; fix the file")
    if stop < start:
        raise BadLine(n, f"the event stops ({stop:g} s) before it starts ({start:g} s); fix "
                      "the file")  # fmt: skip
    return [start, stop, label, channel]


TSE_SUFFIXES = (".tse", ".tse_bi", ".tse_agg")
"""Suffixes (lower case) of the term-based label files (NEDC ``tse_v1.0.0``) of TUSZ v1.5
(``.tse``, ``.tse_bi``) and of TUSL's older releases (``.tse_agg``)."""


def _read_tse(path: str, term: str) -> tuple[dict[str, str], list[list[Any]], BadLines]:
    """One ``tse_v1.0.0`` file: a ``version = tse_v1.0.0`` line, then rows ``start stop label
    [probability [label probability ...]]`` separated by blanks, each on the whole recording
    (channel ``term``), one row per label of a line (NEDC's writer puts every label of a
    stretch on its line, each with its probability: a ``.lbl`` converted to ``.tse`` gives
    ``seiz 0.8000 bckg 0.2000``; a row of one label may give none, as hand-made and converted
    files do, in any mix). The rows as :func:`_read_tuh_csv` gives them, line numbers included,
    and the malformed lines (:meth:`.BadLines.check` refuses the file for them)."""
    meta: dict[str, str] = {}
    rows: list[list[Any]] = []
    bad = BadLines(path)
    for n, line in enumerate(_lines(path), start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        version = _version(text)
        if version is not None:
            meta["version"] = version
            continue
        try:
            labels, start, stop = _tse_row(n, text.split())
        except BadLine as exc:
            bad.add(exc)
            continue
        rows += [[start, stop, label, term, n] for label in labels]
        check_rows(path, len(rows), n)
    if not rows:
        raise bad.refuse(_NO_ROWS)
    return meta, rows, bad


_TSE_ROW = "start_time stop_time label [probability] [label probability ...]"


def _tse_row(n: int, cells: list[str]) -> tuple[list[str], float, float]:
    """The labels, start and stop (s) of the ``tse_v1.0.0`` row ``cells`` (line ``n``): one
    label without a probability, or each label followed by its probability (a number from 0
    to 1). Raises :class:`BadLine`."""
    if len(cells) != 3 and (len(cells) < 4 or len(cells) % 2):
        raise BadLine(n, f"expected {_TSE_ROW}; got {_shown(' '.join(cells))}")
    start, stop = _seconds(n, cells[0]), _seconds(n, cells[1])
    pairs = zip(cells[2::2], cells[3::2], strict=True) if len(cells) > 3 else ()
    for label, p in pairs:
        value = strict_number(p)
        if value is None or not 0.0 <= value <= 1.0:
            raise BadLine(n, f"the probability of {label!r} is {p!r}, not a number from 0 to 1 "
                          f"(expected {_TSE_ROW})")  # fmt: skip
    if stop < start:
        raise BadLine(n, f"the event stops ({stop:g} s) before it starts ({start:g} s); fix "
                      "the file")  # fmt: skip
    return cells[2::2], start, stop


_ORDER = ("channel", "start_time", "stop_time", "label")
_COLUMNS = frozenset(_ORDER)


_EMPTY = {
    "channel": "each row names its channel (TERM for the whole recording); fix the file",
    "label": "each row names its class (seiz, bckg, eyem, ...); fix the file",
}
_NO_ROWS = (
    "no label rows (an empty or cut file): a TUH label file lists every stretch of its "
    'recording, background (bckg) included, so none is no label, not "no event"; '
    "re-download the file"
)


def _shown(text: str) -> str:
    """A line for a message: its repr, at most 80 characters."""
    shown = repr(text)
    return shown if len(shown) <= 80 else shown[:77] + "..."


def _lines(path: str) -> Iterator[str]:
    """The file's lines as an editor numbers them (:func:`~eegprep.base.text.editor_lines`),
    one at a time
    (:func:`~eegprep.corpus.sidecars.bounded.text_lines`: a line of binary junk is refused,
    not held whole)."""
    try:
        for line in text_lines(path):
            yield from editor_lines(line)  # (one: str.splitlines also split at \f, U+2028)
    except OSError as exc:
        raise SourceError(path, f"cannot read sidecar: {exc.strerror}") from None


def _seconds(line: int, text: str) -> float:
    """A time cell of line ``line`` in seconds: a finite number, 0 or more (else
    :class:`BadLine`)."""
    value = strict_number(text)
    if value is None:
        raise BadLine(line, f"expected a time in seconds, got {_shown(text)} (a point for the "
                      "decimals, ASCII digits)")  # fmt: skip
    if not math.isfinite(value):
        raise BadLine(line, f"expected a finite time in seconds, got {text!r}")
    if value < 0:
        raise BadLine(line, f"negative time {value}")
    return value


def _checks(path: str, meta: dict[str, str], header: Header, tolerance: float) -> list[str]:
    name = shown_path(os.path.basename(path))
    problems = []
    written = meta.get("duration", "")
    if other_digits(written):  # (\d found them: ``٣٠١.٠٠ secs`` was read as 301 s)
        raise SourceError(
            path, f"its duration {written[:40]!r} is written in {OTHER_DIGITS}: write it in "
            "ASCII digits (# duration = 301.00 secs)",
        )  # fmt: skip
    found = _NUMBER.search(written)
    if found is not None:
        duration = float(found.group())
        if abs(duration - header.sidecar_duration) > tolerance:
            problems.append(
                f"{name}: sidecar duration {duration:.2f} s disagrees with the recording's "
                f"{header.sidecar_duration:.2f} s"
            )
    bname = meta.get("bname", "")
    recording = os.path.splitext(os.path.basename(header.path))[0]
    if bname and bname != recording:
        problems.append(f"{name}: sidecar bname {bname!r} is not the recording {recording!r}")
    return problems


def _read_any(path: str, term: str) -> tuple[dict[str, str], list[list[Any]], BadLines]:
    """The rows of a csv_v1.0.0, tse_v1.0.0 or lbl_v1.0.0 file, by its suffix, and its
    malformed lines (:meth:`.BadLines.check` refuses the file for them)."""
    lower = path.lower()
    if lower.endswith(TSE_SUFFIXES):
        return _read_tse(path, term)
    if lower.endswith(LBL_SUFFIXES):
        return read_lbl(path, term)
    return _read_tuh_csv(path)


@register("tuh_csv")
def tuh_csv(sidecars: list[str], header: Header, options: dict[str, Any]) -> SidecarResult:
    """Events of NEDC csv_v1.0.0 files (TUSZ, TUAR, TUSL), and of TUSZ v1.5's ``.tse`` /
    ``.tse_bi`` (``tse_v1.0.0``: term-based rows, stored with an empty channel) and ``.lbl``
    (``lbl_v1.0.0``: rows per montage channel, stored on its name as a ``.csv`` row is).

    Options
    -------
    skip_labels : list of str
        Labels not stored as events (``["bckg"]``: background is the complement of the rest).
    duration_tolerance_s : float
        Largest accepted difference between ``# duration`` and the recording (default 1.0 s:
        TUH EDF files hold whole 1-s records).
    term_channel : str
        Channel name of term-based (whole-recording) rows, stored as ``""`` (default ``TERM``).
    """
    skip = set(options.get("skip_labels", []))
    tolerance = option_number(sidecars[0], options, "duration_tolerance_s", 1.0)
    term = str(options.get("term_channel", "TERM"))
    result = SidecarResult()
    sites = recording_sites(header)
    stored: dict[str, list[list[Any]]] = {}
    for path in sidecars:
        meta, rows, bad = _read_any(path, term)
        bad.check()  # a malformed line refuses the recording: its stretch would be background
        stored[path] = []
        result.problems += _checks(path, meta, header, tolerance)
        strange: dict[str, list[str]] = {"labels": [], "channels": []}
        for start, stop, label, channel, line in rows:
            label = label.lower()  # TUH's vocabulary is lower case (seiz, bckg, fnsz, ...)
            if not known_tuh_label(label):
                strange["labels"].append(f"{label!r} on line {line}")
            if channel != term and not pair_in(channel, sites):
                strange["channels"].append(f"{channel!r} on line {line}")
            if label in skip:
                continue
            # a stop after the recording's end is the one rule of events' to cut and to
            # report (ingestion.events), once
            stored[path].append([start, stop - start, label, "" if channel == term else channel])
        result.events += stored[path]
        result.problems += strange_rows(path, strange)
    result.problems += _term_and_channel_disagree(stored)
    return result


def _term_and_channel_disagree(stored: dict[str, list[list[Any]]]) -> list[str]:
    """The report's line where a v1.5 recording's per-channel ``.lbl`` events (``stored``:
    path -> events kept) and its term-based ``.tse`` events do not overlap: channel events in
    no term event's time, or term events on no channel. Both are kept as given; the term rows
    are the recording's answer (docs/corpora.md#tusz)."""
    lbl = [e for p, ev in stored.items() if p.lower().endswith(LBL_SUFFIXES) for e in ev]
    tse = [e for p, ev in stored.items() if p.lower().endswith(TSE_SUFFIXES) for e in ev]
    lbl_files = [p for p in stored if p.lower().endswith(LBL_SUFFIXES)]
    if not lbl_files or not any(p.lower().endswith(TSE_SUFFIXES) for p in stored):
        return []

    lone_channel, lone_term = _apart(lbl, tse), _apart(tse, lbl)
    said = [
        f"{counted(n, what)} {where}"
        for n, what, where in (
            (lone_channel, "per-channel event", "at no time of a term-based event"),
            (lone_term, "term-based event", "on no channel"),
        )
        if n
    ]
    if not said:
        return []
    return [
        f"{shown_path(os.path.basename(lbl_files[0]))}: its per-channel and term-based (.tse) "
        f"events disagree: {' and '.join(said)}; both are stored as given, the term-based "
        "rows are the recording's answer"
    ]


def _apart(events: list[list[Any]], others: list[list[Any]]) -> int:
    """How many of ``events`` ([onset s, duration s, ...]) meet none of ``others`` in time
    (touching counts as meeting): the others' spans merged and sorted, one bisection each."""
    merged: list[list[float]] = []
    for onset, duration in sorted((e[0], e[1]) for e in others):
        if merged and onset <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], onset + duration)
        else:
            merged.append([onset, onset + duration])
    starts = [m[0] for m in merged]
    n = 0
    for e in events:
        k = bisect.bisect_right(starts, e[0] + e[1]) - 1  # the last span starting by e's end
        n += k < 0 or merged[k][1] < e[0]
    return n


def read_tuev_rec(path: str) -> list[tuple[str, float, float, int]]:
    """Rows ``(channel number, start s, stop s, code)`` of a TUEV ``.rec`` file: each field
    written as an int or a float (``7,226,227,6`` or ``7.0,226.0,227.0,6.0``), the channel and
    the code whole numbers (the channel stored as ``"7"`` either way)."""
    rows = []
    for n, line in enumerate(_lines(path), start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        cells = row_cells(text, comma_or_tab(text))
        if len(cells) != 4:
            raise SourceError(
                path, f"line {n}: expected channel,start,stop,code; got {_shown(text)}"
            )
        value = strict_number(cells[3])
        value = math.nan if value is None else value
        # a whole number: 1.9 was class 1 (int() cuts), inf a traceback (int() overflows)
        code = int(value) if value.is_integer() else -1
        if code not in TUEV_CLASSES:
            raise SourceError(path, f"line {n}: class code {cells[3]!r} is not one of 1..6")
        channel = strict_number(cells[0])  # (7 or 7.0: the fields are ints or floats)
        if channel is None or not channel.is_integer() or channel < 0:
            raise SourceError(path, f"line {n}: channel {cells[0]!r} is not a channel number")
        try:  # (a .rec's bad line refuses it: its rows are not each a stretch's label)
            start, stop = _seconds(n, cells[1]), _seconds(n, cells[2])
        except BadLine as exc:
            raise SourceError(path, str(exc)) from None
        if stop < start:
            raise SourceError(path, f"line {n}: the event stops ({stop:g} s) before it starts "
                              f"({start:g} s)")  # fmt: skip
        rows.append((str(int(channel)), start, stop, code))
        check_rows(path, len(rows), n)
    if not rows:
        raise SourceError(path, _NO_ROWS.replace("background (bckg)", "background (code 6)"))
    return rows


TUEV_MONTAGE_CHANNELS = 22
"""Channels of TUEV's bipolar (TCP) montage: a ``.rec`` channel number is below this (or below
the file's own signal count, whichever is larger: what it indexes is not documented)."""


@register("tuev_rec")
def tuev_rec(sidecars: list[str], header: Header, options: dict[str, Any]) -> SidecarResult:
    """Events of TUEV ``.rec`` files: label = class name, channel number kept as given."""
    result = SidecarResult(labels={"event_codes": {v: k for k, v in TUEV_CLASSES.items()}})
    for path in sidecars:
        bound = max(TUEV_MONTAGE_CHANNELS, len(header.signals))
        for channel, start, stop, code in read_tuev_rec(path):
            if int(channel) >= bound:
                raise SourceError(path, f"channel {channel} is not one of the montage's "
                                  f"0..{bound - 1}")  # fmt: skip
            # one past the recording's end is cut and reported by the one rule of events
            result.events.append([start, stop - start, TUEV_CLASSES[code], channel])
    return result
