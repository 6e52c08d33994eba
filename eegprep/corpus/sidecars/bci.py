"""Markers of the BCI-competition style corpora: BCI IV-1, Grasp-and-Lift, Inria, Brain Invaders.

Each parser turns the markers a corpus keeps beside (or inside) its data into events in the
source's time base (seconds from the first sample): cue positions in a MATLAB struct, 0/1 event
columns in a second CSV, feedback labels in one table for the whole corpus, flag columns of a
data matrix. MATLAB files are read as MAT v4, v5 or v7.3 (``save -v7.3``, HDF5) alike, through
the MAT reader's own variable access and checks (:mod:`eegprep.readers.matlab_files`).
"""

from __future__ import annotations

import os
import re
import warnings
from typing import Any

import numpy as np

from eegprep.base.errors import SourceError
from eegprep.base.path_limits import shown_path
from eegprep.base.ragged import even_rows
from eegprep.base.regular_files import open_regular
from eegprep.base.strict_json import TINY_SPELLING, UNDERFLOW, underflows
from eegprep.base.text import headless_row, open_text, text_encoding
from eegprep.base.wording import counted
from eegprep.corpus.sidecars import SidecarResult, register
from eegprep.corpus.sidecars.bounded import bad_row, check_rows, data_line, text_lines
from eegprep.corpus.sidecars.cells import row_cells, strict_number
from eegprep.readers.base import Header, code_label, option_number
from eegprep.readers.event_count import check_event_count
from eegprep.readers.mat_values import describe, mat_number, mat_numbers, one_hot_classes


def _numbers(path: str, name: str, value: Any, *, what: str, **checks: Any) -> np.ndarray:
    """A marker field as numbers, checked as the MAT reader checks its own
    (:func:`~eegprep.readers.mat_values.mat_numbers`), its MATLAB class read for ``logical``."""
    from eegprep.readers.matlab_files import mat_version, variable_class

    cls = variable_class(path, mat_version(path), name)
    return mat_numbers(path, name, value, what=what, cls=cls, **checks)


def _variables(path: str, names: list[str]) -> dict[str, Any]:
    """The variables ``names`` a MAT v5 or v7.3 file holds (those it has; v7.3 is what
    MATLAB's ``save -v7.3`` writes), as the same Python values whatever the version: a struct a
    dict, a cell a list or object array, text a str, numbers an array in MATLAB orientation
    with its single dimensions dropped. Each is checked as the MAT reader checks its own (the
    memory budget, a truncated or damaged file: one line naming the file)."""
    from eegprep.readers.matlab_files import mat_version, small_variable, variable_names

    version = mat_version(path)
    held = set(variable_names(path, version))
    return {name: small_variable(path, version, name) for name in names if name in held}


def _struct(path: str, name: str, value: Any, what: str) -> dict[str, Any]:
    """``value``, the variable ``name``, as one struct's fields; a struct array, or a value of
    another class, is refused in one line."""
    if isinstance(value, dict):
        _v73_struct_array(path, name, value)
        return value
    if isinstance(value, np.ndarray) and value.dtype.kind == "O":
        items = list(value.ravel())
    else:
        items = value if isinstance(value, list) else []
    if items and all(isinstance(v, dict) for v in items):
        problem = f"is a MATLAB struct array of {counted(len(items), 'struct')}"
    else:
        problem = f"is not a MATLAB struct ({describe(value)})"
    raise SourceError(path, f"variable {name!r} {problem}: expected one struct of {what}")


def _v73_struct_array(path: str, name: str, value: dict[str, Any]) -> None:
    """Refuse the v7.3 struct ``name`` when it is a struct array (h5py shows it as one struct
    whose fields are lists): the MAT reader names it, from any of its fields. A v5 struct
    array is a list (scipy), refused by :func:`_struct` itself."""
    from eegprep.readers.matlab_files import mat_version, variable_class

    if mat_version(path) == "7.3":
        for key in value:
            variable_class(path, "7.3", f"{name}.{key}")


@register("bci_markers")
def bci_markers(sidecars: list[str], header: Header, options: dict[str, Any]) -> SidecarResult:
    """BCI Competition IV-1 cues: ``mrk.pos`` (1-based samples), ``mrk.y`` (-1/1) -> events.

    The class of a cue is named from ``nfo.classes`` (``y = -1`` the first class, ``1`` the
    second, as the competition's description says; ``mrk.className``, the BBCI toolbox's,
    when there is no ``nfo.classes``); a one-hot ``mrk.y`` is read too (:func:`_cue_labels`).
    Evaluation files carry no ``mrk``: no events, no problem. Options: ``duration`` (s,
    default 4.0: the cue display time).
    """
    path = sidecars[0]
    content = _variables(path, ["mrk", "nfo"])
    nfo = _struct(path, "nfo", content["nfo"], "fs, clab, classes") if "nfo" in content else {}
    if "mrk" not in content:
        return SidecarResult()
    mrk = _struct(path, "mrk", content["mrk"], "cues (pos, y)")
    if "pos" not in mrk:
        return SidecarResult()
    # MATLAB's linear order (column-major), as mrk.pos(k) pairs with mrk.y(k)
    what = "cue positions: sample indices from 1"
    pos = _numbers(path, "mrk.pos", mrk["pos"], what=what, low=1.0, empty=True).ravel("F")
    check_event_count(path, pos.size, "its cue positions mrk.pos", "thin the cues")
    # the BBCI toolbox keeps the names of a one-hot mrk.y's rows in mrk.className
    classes = _class_names(path, nfo.get("classes", mrk.get("className", [])))
    labels = _cue_labels(path, mrk, pos.size, classes)
    if header.signals:
        sfreq = header.signals[0].sfreq
    else:
        what = "one sampling rate in Hz, above 0"
        sfreq = mat_number(path, "nfo.fs", nfo.get("fs", 1.0), what=what, low=0.0, above=True)
    duration = option_number(path, options, "duration", 4.0)
    out = SidecarResult()
    for p, label in zip(pos, labels):
        if label is not None:  # a cue of no class: a test-set trial, unlabelled
            out.events.append([(p - 1) / sfreq, duration, label, ""])
    return out


def _cue_labels(path: str, mrk: dict[str, Any], n: int, classes: list[str]) -> list[str | None]:
    """Each cue's event name from ``mrk.y``: a vector of codes (-1 the first class of
    ``nfo.classes``, 1 the second; another number ``cue/<y>``), or a one-hot classes x trials
    matrix (:func:`~eegprep.readers.mat_values.one_hot_classes`: row k the k-th class, named
    from ``nfo.classes`` where it names that many, else ``cue/<k+1>``; a column of zeros an
    unlabelled cue, which gets no event, as an evaluation file's cues get none)."""
    if "y" not in mrk:
        return [f"cue/{0:g}"] * n
    from eegprep.readers.matlab_files import mat_version, variable_class

    cls = variable_class(path, mat_version(path), "mrk.y")
    rows = one_hot_classes(path, "mrk.y", mrk["y"], n, cls)
    if rows is not None:
        return [None if k is None else classes[k] if k < len(classes) else f"cue/{k + 1}"
                for k in rows]  # fmt: skip
    what = "cue classes: -1 or 1 (another number: a cue of no named class)"
    y = _numbers(path, "mrk.y", mrk["y"], what=what, empty=True).ravel("F")
    if y.size != n:
        raise SourceError(
            path, f"mrk.y has {counted(y.size, 'value')} for {counted(n, 'cue')} in mrk.pos"
        )
    if len(classes) == 2:
        return [classes[0] if c == -1 else classes[1] if c == 1 else f"cue/{code_label(c)}"
                for c in y]  # fmt: skip
    return [f"cue/{code_label(c)}" for c in y]


def _class_names(path: str, value: Any) -> list[str]:
    """``nfo.classes`` as text: a cell of names (a char matrix: one per row); a name that is
    a struct or a cell is refused in one line. v5 and v7.3 give the same names."""
    if isinstance(value, str):
        items: list[Any] = [value]
    elif isinstance(value, list):
        items = value
    else:
        items = list(np.atleast_1d(np.asarray(value)).ravel("F"))
    names = []
    for item in items:
        arr = np.asarray(item) if isinstance(item, np.ndarray | np.generic) else None
        if arr is not None and arr.size == 0:
            item = ""  # an empty char in a cell (v7.3: MATLAB_empty)
        elif arr is not None and arr.size == 1 and arr.dtype.kind in "biufUS":
            item = arr.reshape(()).item()
        if not isinstance(item, str | int | float) or isinstance(item, bool):
            if isinstance(item, dict) or hasattr(item, "_fieldnames"):  # scipy's mat_struct
                kind = "a MATLAB struct"
            elif isinstance(item, list | tuple) or (arr is not None and arr.dtype.kind == "O"):
                kind = "a MATLAB cell array"
            else:
                kind = describe(item)  # logical, complex, sparse, an array of numbers
            raise SourceError(
                path,
                f"variable 'nfo.classes' holds {kind} where a class name belongs: expected a "
                "cell of text; fix the file",
            )
        names.append(str(item).strip())
    return names


@register("event_columns_csv")
def event_columns_csv(
    sidecars: list[str], header: Header, options: dict[str, Any]
) -> SidecarResult:
    """0/1 event columns in a CSV beside the data (Grasp-and-Lift ``*_events.csv``).

    Each run of non-zero rows in a column is one event named after the column, lasting the run.
    Options: ``drop`` (columns that are no events, default ``['id']``).
    """
    path = sidecars[0]
    drop = set(options.get("drop", ["id"]))
    first = next(text_lines(path), "")  # (a line of junk refused, not held whole)
    names = row_cells(first.strip(), ",")  # ("HandStart" quoted: its name)
    cols = [i for i, n in enumerate(names) if n and n not in drop]  # (a trailing comma: "")
    if not cols:
        among = f"among {', '.join(names)}" if any(names) else "(an empty first line)"
        raise SourceError(path, f"no event columns {among}")
    unnamed = bool(drop - set(names))  # ("id" not found: the first cell may be an id's)
    headless = headless_row([names[i] for i in cols if i or not unnamed])
    if headless is not None:  # (its events were named "0", "1", its first row lost)
        raise SourceError(
            path, f"{headless}: an events table starts with a row naming its event columns"
        )
    try:
        with warnings.catch_warnings():  # (a line at a time, each bounded: a line of junk)
            warnings.simplefilter("ignore", UserWarning)  # numpy: "input contained no data"
            lines = even_rows(  # (a stray comma moved the flags after it: another column's)
                path, text_lines(path), skip=1, delimiter=",", header=first, quoted=True
            )
            values = np.loadtxt(lines, delimiter=",", skiprows=1, usecols=cols, ndmin=2)
    except ValueError as exc:
        why = bad_row(path, skip=1, delimiter=",", usecols=cols)
        raise SourceError(path, f"cannot parse the event columns: {why}") from exc
    _check_flags(path, values, [names[i] for i in cols])
    _check_tiny(path)
    sfreq = header.signals[0].sfreq
    out = SidecarResult()
    n_data = header.signals[0].n_samples
    if values.shape[0] != n_data:
        out.problems.append(
            f"{shown_path(os.path.basename(path))} has {counted(values.shape[0], 'row')}, data "
            f"{n_data}"
        )
    flags = np.concatenate([np.zeros((1, len(cols))), values != 0, np.zeros((1, len(cols)))])
    edges = np.diff(flags.astype(np.int8), axis=0)
    check_event_count(  # counted with numpy before one event is built (a column of 0 1 0 1)
        path, int(np.count_nonzero(edges == 1)), "its event columns", "thin the event columns"
    )
    for j, i in enumerate(cols):
        for a, b in zip(np.flatnonzero(edges[:, j] == 1), np.flatnonzero(edges[:, j] == -1)):
            out.events.append([a / sfreq, (b - a) / sfreq, names[i], ""])
    return out


def _check_flags(path: str, values: np.ndarray, names: list[str]) -> None:
    """Refuse an event column holding anything but 0 and 1 (``nan`` was taken as an event, as
    was ``2``): one line naming the file, the column and the line as an editor numbers it
    (the data row plus the header's line was cited: another line after a blank one)."""
    bad = np.argwhere(~np.isin(values, (0.0, 1.0)))
    if bad.size:
        row, col = (int(v) for v in bad[0])
        line = data_line(path, row, skip=1)  # (of the row numpy read)
        raise SourceError(
            path,
            f"event column {names[col]!r} holds {values[row, col]:g} on line {line}: "
            "expected 0 or 1 (1 while the event lasts); fix the file",
        )


def _check_tiny(path: str) -> None:
    """Refuse a flag cell spelling a number not zero that numpy read as 0 (``1e-400``: it is
    no flag, as ``2`` is none, but it was taken as 0, no event). One regular expression over
    the file's bytes (:data:`~eegprep.base.strict_json.TINY_SPELLING`) first: a closer look
    only where it finds one. A UTF-16 file is read as its text (its bytes, two a character,
    held no spelling the expression finds: ``1e-400`` passed as no event)."""
    if text_encoding(path) == "utf-16":
        with open_text(path) as text:
            blob = text.read().encode("utf-8")
    else:
        with open_regular(path, "rb") as fh:
            blob = fh.read()
    for found in TINY_SPELLING.finditer(blob):
        start = max(blob.rfind(b"\n", 0, found.start()), blob.rfind(b"\r", 0, found.start())) + 1
        ends = _LINE_END.search(blob, found.end())
        line = blob[start : ends.start() if ends else len(blob)].decode("utf-8", "replace")
        for cell in (c.strip() for c in line.split(",")):
            try:
                value = float(cell)
            except ValueError:
                continue
            if underflows(cell, value):
                number = sum(1 for _ in _LINE_END.finditer(blob, 0, start)) + 1  # (an editor's)
                raise SourceError(
                    path,
                    f"line {number}: event cell {cell[:30]!r} "
                    f"{UNDERFLOW}: expected 0 or 1 (1 while the event lasts); fix the file",
                )


_LINE_END = re.compile(rb"\r\n|\r|\n")
"""A line's end as an editor (and Python's text reading) ends it: CRLF, CR alone, LF."""


FEEDBACK_CODES = {"error": 0, "good": 1}
"""Inria's ``Prediction`` codes (the recording label ``feedback_codes``): 1 the feedback was
right (good), 0 an error."""


@register("inria_feedback")
def inria_feedback(sidecars: list[str], header: Header, options: dict[str, Any]) -> SidecarResult:
    """Inria BCI Challenge: ``TrainLabels.csv`` (``IdFeedBack,Prediction``) -> feedback events.

    The session's row ``S02_Sess01_FB<k>`` labels the session's k-th feedback marker
    (``FeedBackEvent`` annotations, in time order): ``'feedback/<Prediction>'`` (1: the
    feedback was right, 0: an error). A row missing, repeated or out of order moves no other
    label (pairing in order gave each later marker its neighbour's label). Test sessions have
    no rows: their markers stay unlabelled. Every session carries the code book
    ``feedback_codes`` (:data:`FEEDBACK_CODES`). Options: ``session`` (``"S02_Sess01"``,
    usually a template of path fields), ``marker`` (annotation prefix, default
    ``'FeedBackEvent'``).
    """
    path = sidecars[0]
    labels = _feedback_labels(path, f"{options['session']}_FB")
    marker = str(options.get("marker", "FeedBackEvent"))
    onsets = sorted(a.onset for a in header.annotations if a.description.startswith(marker))
    # (at the header's annotations; the code book of the Prediction codes: labram.data.code_books)
    out = SidecarResult(labels={"feedback_codes": dict(FEEDBACK_CODES)}, on_samples=True)
    if not labels:
        return out
    paired = {k: v for k, v in labels.items() if k <= len(onsets)}
    if len(paired) != len(labels) or len(paired) != len(onsets):
        beyond = sorted(set(labels) - set(paired))
        out.problems.append(
            f"{counted(len(labels), 'label')} of session {options['session']} in "
            f"{shown_path(os.path.basename(path))} for {len(onsets)} feedback markers: "
            f"{counted(len(onsets) - len(paired), 'marker')} left unlabelled, "
            f"{counted(len(beyond), 'label')} of no "
            f"marker{f' (FB{beyond[0]:03d} ...)' if beyond else ''}"
        )
    out.events += [[onsets[k - 1], 0.0, f"feedback/{v}", ""] for k, v in sorted(paired.items())]
    return out


def _feedback_labels(path: str, prefix: str) -> dict[int, int]:
    """``k -> Prediction`` (0 or 1) of the rows of ``TrainLabels.csv`` whose id is ``prefix``
    and a number ``k`` (``S02_Sess01_FB007``: 7), cells separated by commas (or semicolons
    or tabs: a spreadsheet's copy); a row that is not so is one line naming it."""
    out: dict[int, tuple[int, int]] = {}  # k -> (Prediction, line)
    delimiter = ""
    for number, line in enumerate(text_lines(path, newline=""), start=1):
        text = line.strip()
        delimiter = delimiter or (";" if ";" in text and "," not in text else "")
        delimiter = delimiter or ("\t" if "\t" in text and "," not in text else ",")
        cells = row_cells(text, delimiter) if text else [""]
        if not cells[0].startswith(prefix):
            continue
        k, value = _feedback_row(path, number, prefix, cells)
        if k in out and out[k][0] != value:
            raise SourceError(
                path,
                f"line {number}: {cells[0]} labelled {value}, where line {out[k][1]} "
                f"labels it {out[k][0]}: keep one",
            )
        out.setdefault(k, (value, number))
        check_rows(path, len(out), number)
    return {k: v for k, (v, _) in out.items()}


def _feedback_row(path: str, number: int, prefix: str, cells: list[str]) -> tuple[int, int]:
    """A ``TrainLabels.csv`` row's feedback number and Prediction, or one line naming it."""
    k = cells[0][len(prefix) :]
    value = strict_number(cells[1]) if len(cells) == 2 else None
    if not (k.isascii() and k.isdigit() and int(k) > 0) or value not in (0.0, 1.0):
        raise SourceError(
            path,
            f"line {number}: expected {prefix}<number>,<0 or 1> (IdFeedBack,Prediction); "
            f"got {','.join(cells)[:60]!r}",
        )
    return int(k), int(value or 0)


@register("mat_flag_columns")
def mat_flag_columns(sidecars: list[str], header: Header, options: dict[str, Any]) -> SidecarResult:
    """Flag columns of a MATLAB data matrix (time x columns) -> events at each rising edge.

    Brain Invaders 2015a: ``DATA`` columns -2 and -1 flag target and non-target flashes.
    Options: ``variable`` (default ``'DATA'``), ``columns`` (table label -> column index,
    negative from the end), ``duration`` (s, default 0).
    """
    path = sidecars[0]
    variable = str(options.get("variable", "DATA"))
    arr = _matrix(path, variable)
    if arr.shape[0] < arr.shape[1]:
        arr = arr.T  # time along the first axis
    sfreq = header.signals[0].sfreq
    duration = option_number(path, options, "duration", 0.0)
    columns = {f"columns.{k}": v for k, v in dict(options.get("columns", {})).items()}
    rises = {
        key.removeprefix("columns."): _rises(
            _flag_column(path, variable, arr, option_number(path, columns, key, 0, bound="columns"))
        )
        for key in columns
    }
    check_event_count(  # counted with numpy before one event is built (a noisy column)
        path,
        sum(len(r) for r in rises.values()),
        f"the flag columns of variable {variable!r}",
        "check the sidecar's `columns` option names flag columns, or thin the flags",
    )
    out = SidecarResult()
    for label, starts in rises.items():
        out.events += [[i / sfreq, duration, label, ""] for i in starts.tolist()]
    return out


def _rises(flag: np.ndarray) -> np.ndarray:
    """Sample indices where ``flag`` (bool, shape (n_times,)) turns true."""
    return np.flatnonzero(np.diff(np.concatenate([[False], flag]).astype(np.int8)) == 1)


def _flag_column(path: str, variable: str, arr: np.ndarray, col: int) -> np.ndarray:
    """Column ``col`` (negative: from the end) of the time x columns matrix, as flags (True
    where not 0); one that is not there or holds a non-finite value is refused."""
    if not -arr.shape[1] <= col < arr.shape[1]:
        raise SourceError(
            path,
            f"variable {variable!r} has {counted(arr.shape[1], 'column')}, no column {col}: fix "
            "the sidecar's `columns` option",
        )
    values = arr[:, col]
    bad = values[~np.isfinite(values)]
    if bad.size:
        raise SourceError(
            path,
            f"column {col} of variable {variable!r} holds {bad[0]:g}: expected flags, finite "
            "numbers (0: none); fix the file",
        )
    return values != 0


def _matrix(path: str, variable: str) -> np.ndarray:
    """A 2-D variable of a MAT v5 or v7.3 file, in MATLAB orientation, as float64; logical
    values are taken (flags are true/false), complex ones, text, cells and structs refused."""
    from eegprep.readers.matlab_files import mat_version, small_variable

    arr = small_variable(path, mat_version(path), variable)  # v7.3: complex values as complex
    what = "a numeric matrix of time x columns"
    out = mat_numbers(path, variable, arr, what=what, finite=False, flags=True)
    if out.ndim > 2:
        raise SourceError(path, f"variable {variable!r} has shape {out.shape}: expected {what}")
    return np.atleast_2d(out)
