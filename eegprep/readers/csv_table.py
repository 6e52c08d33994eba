"""Numeric text tables: one row per sample, one column per signal (CSV, TSV, whitespace).

Covers Grasp-and-Lift (``id,Fp1,...`` with a text ``id`` column), the Inria BCI challenge
(``Time``, 56 EEG, ``EOG``, ``FeedBackEvent``) and MoBI ``eeg.txt`` (tab-separated, a
timestamp then 64 channels). Text has no random access, so the whole table is parsed once per
process with :func:`numpy.loadtxt` and kept, already scaled to microvolts in float32, in a small
LRU keyed by path, options and the file's size and mtime.

Concurrency contract: headers are pure data; nothing is written; any number of processes may
read one file at once (each parses it once).
"""

from __future__ import annotations

import csv
import difflib
import functools
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from eegprep.base.errors import SourceError, UsageError
from eegprep.base.files import FileVersion, file_version
from eegprep.base.regular_files import open_regular
from eegprep.base.resources import doc_path
from eegprep.base.text import (
    ascii_number,
    end_padding,
    headless_row,
    text_encoding,
)
from eegprep.base.validation import check_choice, invalid_value, other_digits
from eegprep.base.wording import counted
from eegprep.readers.base import (
    DEFAULT_UNIT,
    NAN_FILLED,
    Annotation,
    Header,
    Reader,
    Signal,
    check_option_names,
    check_readable,
    check_segment,
    check_sfreq,
    code_label,
    empty_channels_note,
    frozen_options,
    unit_or_default,
    unit_to_uv,
)
from eegprep.readers.csv_blank import blank_columns
from eegprep.readers.csv_file_checks import (
    check_budget,
    check_line_lengths,
    last_line_warning,
    utf16_encoding,
)
from eegprep.readers.csv_rows import (
    Dialect,
    bad_row,
    parse_rows,
    row_lines,
    uncommented,
)
from eegprep.readers.event_count import check_event_count
from eegprep.readers.rounded_rate import rate_of_span, rounded_note, written_step

_OPTIONS = (
    "sfreq",
    "time_column",
    "time_unit",
    "delimiter",
    "columns",
    "drop",
    "header_lines",
    "channel_names",
    "scale",
    "unit",
    "default_unit",
    "event_columns",
    "marker_column",
)
_TIME_UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6}
_SNIFF = ("\t", ",", ";")
_TABLE_CACHE_SIZE = 2
MANIFEST_DOC = doc_path("docs/manifest-format.md")


@dataclass(frozen=True)
class _Table:
    """A parsed table: signals in microvolts, float32, shape (n_channels, n_samples)."""

    labels: tuple[str, ...]
    units: tuple[str, ...]
    to_uv: tuple[float, ...]
    sfreq: float
    signals: np.ndarray
    annotations: tuple[Annotation, ...]
    meta: tuple[tuple[str, str], ...]
    empty: tuple[str, ...] = ()  # columns blank on every row (eegprep.readers.csv_blank)
    unfilled: tuple[str, ...] = ()  # signal columns NaN on every row (numpy.savetxt's fill)
    rate_note: str | None = None  # a time column's rounded times read at a whole rate


class CsvReader(Reader):
    """Reader for numeric text tables, one row per sample.

    Options
    -------
    sfreq : float
        Sampling rate in Hz. Required unless ``time_column`` gives it.
    time_column : str, optional
        Column of sample times; the rate is derived from its rows over its span when ``sfreq``
        is absent (the whole rate rounded times stand for: ``_sfreq``), and checked against
        ``sfreq`` (1 %) when both are given. Never a signal.
    time_unit : {'s', 'ms', 'us'}
        Unit of ``time_column``. Default: the unit its name states in brackets
        (``Time (ms)``, ``t [s]``), else ``'s'``; one that disagrees with the name's is refused.
    delimiter : str, optional
        Field separator; ``'whitespace'`` for runs of blanks. Default: sniffed from the
        column-name line (tab, comma, semicolon, else whitespace).
    columns : list of str, optional
        Signal columns, in this order. Default: every numeric column not named elsewhere.
    drop : list of str
        Columns to ignore (``['id']``); text columns are ignored without being named.
    header_lines : int
        Lines to skip before the column-name line (default 0).
    channel_names : list of str, optional
        Names of every column in file order, for files without a column-name line.
    scale : float
        Factor from stored values to ``unit`` (default 1).
    unit : str
        Unit after ``scale``: ``'uV'``, ``'mV'``, ``'V'``, ``'nV'``. Default: the voltage unit
        each column's name states in brackets (``Fp1 (mV)``, ``Cz [µV]``), else
        ``default_unit``; a unit given that disagrees with a column's name is refused. A
        bracketed unit that is no voltage (``Fp1 (degC)``) is kept as the channel's unit (the
        ingest warns of it) and its values taken as ``unit``, else ``default_unit``.
    default_unit : str
        The manifest's ``unit``, which the ingest passes to every reader (default ``'uV'``).
    event_columns : list of str, optional
        0/1 columns (Grasp-and-Lift's ``HandStart``, ...): each run of non-zero values becomes
        an annotation named after the column, lasting as long as the run.
    marker_column : str, optional
        Marker codes (Inria's ``FeedBackEvent``): each change to a non-zero value becomes an
        annotation ``'<column>/<value>'`` of duration 0.
    """

    name = "csv"

    @classmethod
    def read_header(cls, path: str, *, part: str | None = None, **options: Any) -> Header:
        """Parse the whole table (cached); see :meth:`Reader.read_header`."""
        check_readable(path)
        opts = _parse_options(options)
        frozen = frozen_options(opts)
        table = _table(path, file_version(path), frozen)
        n_samples = table.signals.shape[1]
        signals = tuple(
            Signal(label, table.sfreq, n_samples, unit, to_uv)
            for label, unit, to_uv in zip(table.labels, table.units, table.to_uv, strict=True)
        )
        return Header(
            path=path,
            reader=cls.name,
            signals=signals,
            duration=n_samples / table.sfreq,
            annotations=table.annotations,
            part=part,
            meta=table.meta,
            options=frozen,
            warnings=(
                *(w for w in (table.rate_note,) if w),
                *_empty_notes(table.empty, table.unfilled),
                *last_line_warning(path),
            ),
            empty_channels=(*table.empty, *table.unfilled),
        )

    @classmethod
    def read_segment(
        cls, header: Header, picks: Sequence[int], start: int, stop: int
    ) -> np.ndarray:
        """Samples ``[start, stop)`` of ``picks`` in microvolts, float32, shape (n_picks, n)."""
        check_segment(header, picks, start, stop)
        check_readable(header.path)
        table = _table(header.path, file_version(header.path), header.options)
        if table.labels != tuple(header.labels) or table.signals.shape[1] < stop:
            raise SourceError(header.path, "the file changed since its header was read")
        return table.signals[list(picks), start:stop]


# -- options ----------------------------------------------------------------------------------


def _parse_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """Checked options with defaults filled in (names, types, combinations)."""
    check_option_names(list(options), _OPTIONS, "csv reader")
    opts: dict[str, Any] = {"header_lines": 0, "scale": 1.0}  # unit, time_unit: see _units
    opts.update(options)
    if "sfreq" not in opts and "time_column" not in opts:
        raise UsageError("The csv reader needs `sfreq` (Hz) or a `time_column` to derive it.")
    for name in ("sfreq", "scale"):
        if name in opts:
            opts[name] = _positive(opts[name], name)
    for name in ("columns", "drop", "channel_names", "event_columns"):
        value = opts.get(name, ())
        if isinstance(value, str) or not all(isinstance(v, str) for v in value):
            raise invalid_value(name, value, expected="a list of names")
        opts[name] = tuple(value)
    for name in ("unit", "default_unit"):
        if name in opts and unit_to_uv(str(opts[name])) is None:
            raise invalid_value(name, opts[name], ("uV", "mV", "V", "nV"))
    if "time_unit" in opts:
        check_choice("time_unit", opts["time_unit"], ("s", "ms", "us"))
    lines = opts["header_lines"]
    if not isinstance(lines, int) or isinstance(lines, bool) or lines < 0:
        raise invalid_value("header_lines", lines, expected="an integer >= 0")
    delimiter = opts.get("delimiter")
    if delimiter is not None and not (delimiter == "whitespace" or len(delimiter) == 1):
        raise invalid_value("delimiter", delimiter, expected="one character or 'whitespace'")
    return opts


def _positive(value: Any, name: str) -> float:
    try:  # (a manifest's ``"２５０"``: float() read other scripts' digits)
        out = math.nan if other_digits(str(value)) else float(value)
    except (TypeError, ValueError):
        out = math.nan
    if not (math.isfinite(out) and out > 0):
        raise invalid_value(name, value, expected="a positive number")
    return out


# -- parsing ----------------------------------------------------------------------------------


@functools.lru_cache(maxsize=_TABLE_CACHE_SIZE)
def _table(path: str, stamp: FileVersion, frozen: tuple[tuple[str, Any], ...]) -> _Table:
    """Parse the table once per process: the cache key changes when the file does."""
    opts = dict(frozen)
    encoding = utf16_encoding(path) or text_encoding(path)  # Latin-1 exports (0xB5 for µ) too
    check_line_lengths(path)
    names, delimiter, rows, skip = _layout(path, opts, encoding)
    dialect = Dialect(encoding, delimiter, _decimal_comma(delimiter, rows), skip)
    if dialect.decimal_comma:
        rows = [[v.replace(",", ".") for v in row] for row in rows]
    used, signal_names, dropped = _select(path, opts, names, rows)
    check_budget(path, len(used), len(signal_names))
    values = _load(path, opts, dialect, names, used, len(signal_names))
    unfilled = _nan_signals(path, values, signal_names)
    if unfilled:  # no samples: left out, as a column blank on every row is
        keep = [i for i in range(len(used)) if i not in unfilled]
        values, used = values[:, keep], [used[i] for i in keep]
        nan_names = tuple(signal_names[i] for i in unfilled)
        signal_names = [n for i, n in enumerate(signal_names) if i not in unfilled]
    else:
        nan_names = ()
    column: dict[str, np.ndarray] = {}
    for i, name in enumerate(used):
        column.setdefault(name, values[:, i])
    times = column.get(opts["time_column"]) if "time_column" in opts else None  # ("": a name)
    sfreq, rate_note = _sfreq(path, opts, times, dialect)
    units = [_signal_unit(path, opts, name) for name in signal_names]
    default = str(opts.get("unit") or opts.get("default_unit") or DEFAULT_UNIT)
    to_uv = [opts["scale"] * unit_or_default(unit, default) for unit in units]
    signals = np.empty((len(signal_names), values.shape[0]), dtype=np.float32)
    for i in range(len(signal_names)):  # signals are the first columns of `used`, in file order
        signals[i] = values[:, i] * to_uv[i]
    annotations = _annotations(path, opts, column, sfreq)
    meta = (
        ("encoding", encoding),
        ("delimiter", "whitespace" if delimiter is None else delimiter),
        ("decimal", "," if dialect.decimal_comma else "."),
        ("columns", ",".join(names)),
        ("dropped_columns", ",".join(dropped)),
    )
    unseen = [n for n in dropped if not any(row[names.index(n)] for row in rows)]
    empty = blank_columns(path, encoding=encoding, delimiter=delimiter, skip=skip, names=names,
                          candidates=unseen)  # fmt: skip
    return _Table(
        tuple(signal_names), tuple(units), tuple(to_uv), sfreq, signals, annotations, meta,
        tuple(empty), nan_names, rate_note,
    )  # fmt: skip


_BRACKETED = re.compile(r"[(\[]\s*([^()\[\]]*?)\s*[)\]]\s*$")
"""A unit written after a column's name in brackets: ``Fp1 (mV)``, ``Cz [µV]``, ``Time (ms)``."""


def _stated_unit(name: str) -> str | None:
    """The unit a column's name states in brackets, ``None`` where it states none."""
    hit = _BRACKETED.search(name)
    return hit.group(1) if hit else None


def _signal_unit(path: str, opts: dict[str, Any], name: str) -> str:
    """A signal column's unit: the one its name states (``Fp1 (mV)``) when it is a voltage,
    which ``unit``, when given, must agree with; else ``unit``; else the one its name states
    that is no voltage (``Fp1 (degC)``, for the ingest's warning); else ``""`` (stated
    nowhere: the manifest's unit, ``default_unit``)."""
    stated = _stated_unit(name)
    factor = None if stated is None else unit_to_uv(stated)
    given = opts.get("unit")
    if stated is None or factor is None:
        return str(given or stated or "")
    if given is not None and unit_to_uv(str(given)) != factor:
        raise SourceError(
            path,
            f"column {name!r} states its values in {stated}, but the reader's `unit` is "
            f"{given!r}: remove `unit` to read each column in the unit its name states, or "
            "correct it",
        )
    return stated


def _time_unit(path: str, opts: dict[str, Any]) -> str:
    """The time column's unit: ``time_unit``, the one its name states (``Time (ms)``), which
    must agree, or ``'s'``."""
    name = str(opts["time_column"])
    stated = _stated_unit(name)
    stated = {"µs": "us", "μs": "us"}.get(stated or "", stated)
    given = opts.get("time_unit")
    if stated not in _TIME_UNITS:
        return str(given or "s")
    if given is not None and given != stated:
        raise SourceError(
            path,
            f"time column {name!r} states its times in {stated}, but the reader's `time_unit` "
            f"is {given!r}: remove `time_unit`, or correct it",
        )
    return str(stated)


def _empty_notes(labels: tuple[str, ...], unfilled: tuple[str, ...]) -> tuple[str, ...]:
    """The warnings naming the columns blank on every row and the signal columns NaN on every
    row (left out), if any."""
    return tuple(
        empty_channels_note(found, detail)
        for found, detail in ((labels, "every cell empty"), (unfilled, NAN_FILLED))
        if found
    )


_SAMPLE_ROWS = 200
"""Data rows read to tell numeric columns from text ones (a value missing from the first)."""


def _layout(
    path: str, opts: dict[str, Any], encoding: str
) -> tuple[list[str], str | None, list[list[str]], int]:
    """Column names, delimiter (None: whitespace), the fields of the first data rows (up to
    :data:`_SAMPLE_ROWS`, blank lines left out; fields quoted as CSV quotes them) and the
    lines before the first of them (:attr:`Dialect.skip`), the file read as ``encoding``
    (:func:`~eegprep.base.text.text_encoding`). Blank lines (empty, or spaces and tabs alone)
    after the ``header_lines`` and before the column names or the first data row are passed
    over, as every reader of tables passes them, and so are comment lines (``#`` first) before
    the column names and a data row's ``#`` comment, as numpy passes them (a line of a comment
    alone is no row). Where the first line after the comments is already a data row, the last
    comment holds the column names if it has a name for each field (``numpy.savetxt``'s
    ``header=``, written ``# Fp1,Cz``): :func:`_commented_names`."""
    head, head_at, comments, more = _head_lines(path, opts, encoding)
    skip = head_at[-1] - 1  # (the lines before the first data row)
    delimiter = opts.get("delimiter") or _sniff(head[0], uncommented(head[-1]))
    delimiter = None if delimiter == "whitespace" else delimiter

    def split(line: str) -> list[str]:
        fields = (
            line.split() if delimiter is None else next(csv.reader([line], delimiter=delimiter))
        )
        return [v.strip().strip('"').strip() for v in fields]

    first = split(uncommented(head[-1]))
    names = list(opts["channel_names"]) if opts["channel_names"] else split(head[0])
    if comments and not opts["channel_names"] and all(map(ascii_number, names)):
        at, comment = comments[-1]
        commented = _commented_names(comment, delimiter, split)
        if len(commented) == len(names):  # (the names line was a data row: numbers only)
            names, first, more = commented, split(uncommented(head[0])), [head[1], *more]
            head_at, skip = [at, head_at[0]], head_at[0] - 1
    if len(names) != len(first):
        raise SourceError(path, _count_problem(opts, names, first, head_at))
    more = [text for text in map(uncommented, more) if text.strip()]
    rows = [first] + [r for r in map(split, more) if len(r) == len(names)]
    return names, delimiter, rows, skip


def _count_problem(
    opts: dict[str, Any], names: list[str], first: list[str], head_at: list[int]
) -> str:
    """Why the column names and the first data row differ in count; ``channel_names`` one
    short where the ``time_column`` is not among them: it names every column, that one too."""
    where = "`channel_names`" if opts["channel_names"] else "the column-name line"
    where += "" if opts["channel_names"] else f" (line {head_at[0]})"
    said = (
        f"{where} has {counted(len(names), 'name')} but the first data row has "
        f"{counted(len(first), 'field')} (line {head_at[-1]}): "
    )
    time = opts.get("time_column")
    if opts["channel_names"] and time and time not in names and len(first) == len(names) + 1:
        return said + f"name every column in file order, the time column {time!r} among them"
    return said + "check `delimiter` and `header_lines`"


def _head_lines(
    path: str, opts: dict[str, Any], encoding: str
) -> tuple[list[str], list[int], list[tuple[int, str]], list[str]]:
    """The column-name line (unless ``channel_names`` are given) and the first data row, the
    file's line of each (from 1, as an editor numbers it), the comment lines before the
    column names (line, text), and the next :data:`_SAMPLE_ROWS` lines; see :func:`_layout`."""
    n_head = 1 if opts["channel_names"] else 2  # (the column-name line), the first data row
    with open_regular(path, "r", encoding=encoding, errors="replace") as f:
        lines = (line.rstrip("\r\n") for line in end_padding(f))
        at = sum(1 for _ in zip(range(opts["header_lines"]), lines, strict=False))
        head: list[str] = []
        head_at: list[int] = []
        comments: list[tuple[int, str]] = []
        for line in lines:
            at += 1
            names_line = len(head) == 0 and n_head == 2  # (any text but a comment)
            if names_line and line.lstrip().startswith("#"):
                comments.append((at, line))  # (before: read as the column names)
            elif (line if names_line else uncommented(line)).strip():
                head.append(line)
                head_at.append(at)
                if len(head) == n_head:
                    break
        more = [line for _, line in zip(range(_SAMPLE_ROWS), lines, strict=False)]
    if len(head) < n_head:
        n = opts["header_lines"] + n_head - 1
        raise SourceError(path, f"no data rows after {counted(n, 'header line')}")
    return head, head_at, comments, more


def _commented_names(
    line: str, delimiter: str | None, split: Callable[[str], list[str]]
) -> list[str]:
    """The column names of comment ``line`` (``# Fp1,Cz``, ``# Fp1 Cz``: its text after the
    ``#``), or where the ``#`` is followed by the delimiter (``#,Time,Fp1``), the ``#`` as the
    first column's name."""
    text = line.lstrip()[1:]
    if delimiter is not None and text.lstrip(" ").startswith(delimiter):
        return split(line)
    return split(text)


def _sniff(sample: str, row: str) -> str:
    """The field separator of a table whose column-name line (or first row) is ``sample`` and
    first data row ``row``: of tab, comma and semicolon, the one that splits both, as CSV
    quotes fields, into the same number of fields, the most (``Time;Fp1,ref;Cz`` over
    ``0;1,5;2`` is 3 fields by semicolons, 2 by commas), else the first found outside quotes
    (``"Fp1, left";"Cz"``: semicolons), else ``'whitespace'``."""
    bare = re.sub(r'"[^"]*"', "", sample)
    found = [d for d in _SNIFF if d in bare]
    fields = {d: len(next(csv.reader([sample], delimiter=d))) for d in found}
    agree = [d for d in found if fields[d] == len(next(csv.reader([row], delimiter=d)))]
    if agree:
        return max(agree, key=lambda d: fields[d])  # (the first of equals: tab, comma)
    return found[0] if found else "whitespace"


def _select(
    path: str, opts: dict[str, Any], names: list[str], rows: list[list[str]]
) -> tuple[list[str], list[str], list[str]]:
    """Columns to load (signals first), signal columns, text columns dropped unasked: a
    column is numeric when its first value in ``rows`` (the first data rows) is a number; a
    value missing from the first row does not make it text (the row is then refused, naming
    the line and the column, as any row missing a sample is)."""
    first = [next((row[i] for row in rows if row[i]), "") for i in range(len(names))]
    numeric = {n: ascii_number(v) for n, v in zip(names, first, strict=True)}
    special = [opts.get("time_column"), *opts["event_columns"], opts.get("marker_column")]
    special = [n for n in special if n]
    for name in [*opts["columns"], *special, *opts["drop"]]:
        if name not in numeric:
            raise SourceError(path, _not_found(opts, name, names))
    skip = {*special, *opts["drop"]}
    dropped = [n for n in names if not numeric[n] and n not in skip and n not in opts["columns"]]
    signals = list(opts["columns"]) or [n for n in names if n not in skip and numeric[n]]
    for name in [*signals, *special]:
        if not numeric[name]:
            raise SourceError(
                path,
                f"column {name!r} is not numeric (first value {first[names.index(name)]!r}): "
                "add it to `drop`",
            )
    if not signals:
        shown = ", ".join(repr(n[:20]) for n in names[:3])
        raise SourceError(
            path, f"no numeric signal columns among {shown}: check `columns`, `drop`, `delimiter`"
        )
    return [*signals, *special], signals, dropped


def _not_found(opts: dict[str, Any], name: str, names: list[str]) -> str:
    """Why the column ``name`` an option names is not among ``names``: where the first line
    holds numbers alone (no header row: ``numpy.savetxt``'s), that, and that every column's
    name (the time column's too) goes in ``channel_names``; else the names and the closest."""
    headless = None if opts["channel_names"] else headless_row(names)
    if headless is not None:
        return (
            f"column {name!r} not found: {headless}: give every column's name in file order, "
            f"{name!r} among them, as `channel_names` in the reader's options ({MANIFEST_DOC})"
        )
    same_case = [n for n in names if n.lower() == name.lower()]
    close = same_case or difflib.get_close_matches(name, names, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return f"column {name!r} not found; columns in the file: {', '.join(names)}.{hint}"


def _positions(names: list[str], used: list[str]) -> list[int]:
    """Column positions of ``used``: a repeated name takes its next occurrence in the file, so
    that a repeated label keeps its own samples (channel mapping keeps the first)."""
    taken: dict[str, int] = {}
    out = []
    for name in used:
        where = [i for i, n in enumerate(names) if n == name]
        k = taken.get(name, 0)
        out.append(where[min(k, len(where) - 1)])
        taken[name] = k + 1
    return out


def _decimal_comma(delimiter: str | None, rows: list[list[str]]) -> bool:
    """Whether the first data rows write their numbers with a decimal comma (``-1,5``): fields
    not separated by commas, one of which is a number only once its comma is a point."""
    if delimiter == ",":
        return False
    return any(
        "," in v and not ascii_number(v) and ascii_number(v.replace(",", "."))
        for row in rows
        for v in row
    )


def _load(
    path: str,
    opts: dict[str, Any],
    dialect: Dialect,
    names: list[str],
    used: list[str],
    n_signals: int,
) -> np.ndarray:
    """The ``used`` columns of every data row, float64, shape (n_rows, len(used)), the file
    read as ``dialect`` says (a decimal comma made a point line by line: memory stays that of
    the values). A value that is not finite is refused by its line, except in a signal column
    (the first ``n_signals`` of ``used``) NaN on every row (:func:`_nan_signals`)."""
    skip = dialect.skip
    usecols = _positions(names, used)
    try:
        # every column read, in order: numpy's own parser refuses a row of another count of
        # fields, at C speed (a line-by-line count costs ~60% more); a row it refuses may be
        # one a delimiter ends, which the counted read below takes
        n_fields = len(names) if names[-1] else None  # (a delimiter ending the names)
        whole = n_fields is not None and usecols == list(range(n_fields))
        try:
            values = parse_rows(path, dialect, None if whole else usecols, n_fields)
        except (ValueError, IndexError):
            if not whole:
                raise
            values = parse_rows(path, dialect, usecols, n_fields)
    except (ValueError, IndexError) as exc:
        problem = bad_row(path, skip, dialect, names, usecols)
        raise SourceError(path, problem) from exc
    unfilled = np.zeros(values.shape[1], dtype=bool)
    if values.shape[0]:
        unfilled[:n_signals] = np.isnan(values[:, :n_signals]).all(axis=0)
    checked = np.flatnonzero(~unfilled)
    if not np.isfinite(values[:, checked]).all():
        raise SourceError(path, _nonfinite_cell(path, dialect, values, checked, used))
    return values


def _nonfinite_cell(
    path: str, dialect: Dialect, values: np.ndarray, checked: np.ndarray, used: list[str]
) -> str:
    """The problem of the first cell of the ``checked`` columns that is not finite: its line,
    its column and what it holds (numpy reads a number beyond float64's range, ``1e400`` or
    400 digits, as infinite; a line that said ``nan/inf`` alone sent the user to look for
    text the cell does not hold)."""
    bad = ~np.isfinite(values[:, checked])
    row = int(np.flatnonzero(bad.any(axis=1))[0])
    col = int(checked[int(np.argmax(bad[row]))])
    line = row_lines(path, dialect, row)[0]
    held = (
        "NaN"
        if np.isnan(values[row, col])
        else f"infinite, or a number beyond 64-bit floats' +-{np.finfo(np.float64).max:.2g}"
    )
    return f"non-finite value (nan/inf) on line {line}, column {used[col]!r}: {held}"


def _nan_signals(path: str, values: np.ndarray, signal_names: list[str]) -> list[int]:
    """Positions of the signal columns NaN on every row (``nan`` in each cell: how
    ``numpy.savetxt`` writes a channel of no samples), which hold no samples; a table none of
    whose signal columns holds any is refused."""
    if not values.shape[0]:
        return []
    n = len(signal_names)
    found = [int(i) for i in np.flatnonzero(np.isnan(values[:, :n]).all(axis=0))]
    if found and len(found) == n:
        named = ", ".join(repr(name) for name in signal_names)
        raise SourceError(
            path, f"no channel holds samples: every value of every column is NaN ({named})"
        )
    return found


def _sfreq(
    path: str, opts: dict[str, Any], times: np.ndarray | None, dialect: Dialect
) -> tuple[float, str | None]:
    """``sfreq``, or the rate of the time column, checked to agree (by its median step, which
    a gap does not move: :func:`_check_steps` names the gap); and the warning on a rate read
    from rounded times. Without ``sfreq``, the column's rate is then its rows' over its span (6
    significant digits: the median step of times rounded to ms gave 250 Hz for 256), or the
    whole rate the span stands for within the step its times are written to
    (:func:`_span_rate`). A row is cited by its line in the file (:func:`row_lines`)."""
    if times is None:
        return float(opts["sfreq"]), None
    factor = _TIME_UNITS[_time_unit(path, opts)]
    steps = np.diff(times) * factor
    if steps.size == 0 or (steps <= 0).any():
        bad = int(np.flatnonzero(steps <= 0)[0]) + 1 if steps.size else 0
        (line,) = row_lines(path, dialect, bad)
        raise SourceError(
            path, f"time column {opts['time_column']!r} does not increase on line {line}"
        )
    derived = float(f"{1.0 / float(np.median(steps)):.6g}")
    check_sfreq(path, derived)
    _check_unstated_seconds(path, opts, derived)
    sfreq = opts.get("sfreq", derived)
    if abs(derived - sfreq) > 0.01 * sfreq:
        raise SourceError(
            path, f"`sfreq` is {sfreq:g} Hz but time column steps give {derived:g} Hz: check both"
        )
    lines = functools.partial(row_lines, path, dialect)
    _check_steps(path, opts["time_column"], times, steps, float(sfreq), lines)
    if "sfreq" in opts:
        return float(sfreq), None
    sfreq, note = _span_rate(path, opts, times)
    _check_steps(path, opts["time_column"], times, steps, sfreq, lines)
    return sfreq, note


MIN_SECONDS_HZ = 1.0
"""The lowest rate a time column whose unit is stated nowhere is read at, in seconds: no EEG is
sampled slower, and a column in milliseconds read as seconds gives 0.256 Hz for 256 Hz."""


def _check_unstated_seconds(path: str, opts: dict[str, Any], derived: float) -> None:
    """Refuse a time column read in seconds by default (no ``time_unit``, no unit in its name)
    whose steps give under :data:`MIN_SECONDS_HZ`: its times are likely milliseconds; the
    line says how to state the unit (``time_unit = "s"`` keeps the rate)."""
    name = str(opts["time_column"])
    stated = _stated_unit(name) in (*_TIME_UNITS, "µs", "μs")
    if derived >= MIN_SECONDS_HZ or "time_unit" in opts or stated:
        return
    raise SourceError(
        path,
        f"time column {name!r} states no unit, and its steps give {derived:g} Hz read as "
        f"seconds ({derived * 1e3:g} Hz as milliseconds): give the reader's `time_unit` "
        f"('ms', 'us' or 's'), or name the column with its unit ({name + ' (ms)'!r})",
    )


def _span_rate(path: str, opts: dict[str, Any], times: np.ndarray) -> tuple[float, str | None]:
    """The rate of a time column of no gap (:func:`_check_steps`): its rows over its span, 6
    significant digits; where its times are rounded (written to a step, ``0.004`` for 1/256
    s: :func:`~eegprep.readers.rounded_rate.written_step`) and the span stands for a whole
    rate within that step (:func:`~eegprep.readers.rounded_rate.rate_of_span`), that rate and
    the warning on it."""
    unit = _time_unit(path, opts)
    span = float(times[-1] - times[0]) * _TIME_UNITS[unit]
    derived = float(f"{(times.size - 1) / span:.6g}")
    check_sfreq(path, derived)
    step = written_step(times)
    whole = None if step is None else rate_of_span(times.size - 1, span, step * _TIME_UNITS[unit])
    if whole is None or math.isclose(whole, derived, rel_tol=1e-12):
        return derived, None
    field = f"time column {opts['time_column']!r} (times to {step:g} {unit})"
    return whole, rounded_note(field, whole, derived)


def _check_steps(
    path: str,
    name: str,
    times: np.ndarray,
    steps: np.ndarray,
    sfreq: float,
    lines: Callable[..., list[int]],
) -> None:
    """Refuse a time column that skips samples or crowds them: a step off the sample period by
    half a period or more (a gap of one sample or more, a row inserted). The rows are read as
    continuous samples, so every one after a gap would be stored early, as an EDF+D's would
    (``steps``: seconds between rows, ``times`` as written; ``lines``: the file's line of each
    row index given)."""
    off = np.flatnonzero(np.abs(steps * sfreq - 1.0) >= 0.5)
    if not off.size:
        return
    k = int(off[0])
    before, after = lines(k, k + 1)
    raise SourceError(
        path,
        f"time column {name!r} steps from {times[k]:g} to {times[k + 1]:g} between lines "
        f"{before} and {after}: {steps[k] * sfreq:.3g} sample periods at {sfreq:g} Hz, where "
        f"the rows are read as continuous samples ({counted(off.size, 'such step')}); export each "
        "continuous part as its own file",
    )


def _annotations(
    path: str, opts: dict[str, Any], column: dict[str, np.ndarray], sfreq: float
) -> tuple[Annotation, ...]:
    """Runs of non-zero event columns and changes of the marker column, sorted by onset.

    Counted with numpy first (8 bytes a sample, as the column itself): more than
    :data:`~eegprep.readers.event_count.MAX_EVENTS` events (a noisy marker column changes at
    nearly every sample) refuse the file before one event (~200 bytes) is built."""
    runs = {name: _runs(column[name]) for name in opts["event_columns"]}
    marker = opts.get("marker_column")
    changes = _changes(column[marker]) if marker else np.empty(0, np.intp)
    counts = [(f"event column {name!r}", len(starts)) for name, (starts, _) in runs.items()]
    counts += [(f"marker column {marker!r}", len(changes))] if marker else []
    check_event_count(
        path,
        sum(n for _, n in counts),
        " and ".join(f"its {what} ({n:,})" for what, n in counts if n) or "its columns",
        "is a column of noise or samples read as markers? check the reader's "
        "`marker_column` / `event_columns`, or thin the file's markers",
    )
    out = [
        Annotation(s / sfreq, (e - s) / sfreq, name)
        for name, (starts, stops) in runs.items()
        for s, e in zip(starts.tolist(), stops.tolist(), strict=True)
    ]
    if marker:
        codes = column[marker]
        out += [Annotation(i / sfreq, 0.0, f"{marker}/{code_label(codes[i])}") for i in changes]
    return tuple(sorted(out, key=lambda a: (a.onset, a.description)))


def _runs(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sample indices where each run of non-zero ``values`` starts, and where it stops
    (exclusive)."""
    edges = np.diff(np.concatenate([[False], values != 0, [False]]).astype(np.int8))
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


def _changes(codes: np.ndarray) -> np.ndarray:
    """Sample indices where the marker column changes to a value other than 0."""
    previous = np.concatenate([[0.0], codes[:-1]])
    return np.flatnonzero((codes != 0) & (codes != previous))


def clear_cache() -> None:
    """Forget this process's parsed tables."""
    _table.cache_clear()
