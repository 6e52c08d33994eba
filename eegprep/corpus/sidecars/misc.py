"""Sidecar parsers of single corpora and of EEG-BIDS: marker files, fixed blocks, joint angles.

- ``marker_file``: a text file of trigger sample positions (Emobrain's ``.bdf.mrk``);
- ``fixed_events``: events the corpus documentation gives (Trujillo resting: eyes closed, open);
- ``mobi_joints``: MoBI gait ``joints.txt`` -> a joint-angle target time series;
- ``bids_events``: an EEG-BIDS ``*_events.tsv`` and ``*_channels.tsv``.
"""

from __future__ import annotations

import os
import re
from typing import Any

import numpy as np

from eegprep.base.errors import SourceError, UsageError
from eegprep.base.path_limits import shown_path
from eegprep.base.ragged import field_counts, uneven
from eegprep.base.text import headless_row
from eegprep.base.validation import OTHER_DIGITS, check_choice, other_digits
from eegprep.base.wording import counted, noun
from eegprep.corpus.sidecars import SidecarResult, register
from eegprep.corpus.sidecars.bounded import bad_row, check_rows, data_line, text_lines
from eegprep.corpus.sidecars.cells import finite_number, strict_number
from eegprep.readers.base import Header, option_number

_NUMBER = re.compile(r"[-+]?[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?")


def _is_number(path: str, line: int, token: str, what: str) -> bool:
    """Whether ``token`` is a number in ASCII digits (:data:`_NUMBER`); one written in other
    digits (``١٥٠``, ``１５０``, which ``float`` read as 150) is refused naming the file, its
    ``line`` and ``what`` it is."""
    if _NUMBER.fullmatch(token):
        return True
    if other_digits(token) and _ANY_NUMBER.fullmatch(token):
        raise SourceError(
            path, f"line {line}: {what} {token[:40]!r} is written in {OTHER_DIGITS}: write "
            "it in ASCII digits",
        )  # fmt: skip
    return False


_ANY_NUMBER = re.compile(r"[-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?")
"""A number in any script's digits (``\\d`` of a ``str`` pattern): refused, not skipped."""


@register("marker_file")
def marker_file(sidecars: list[str], header: Header, options: dict[str, Any]) -> SidecarResult:
    """Trigger positions, one per line: ``<position> [<code>]``; lines without a number skipped
    (a header), those after the first position said in the report (``nan 1``, ``0x10 1``: a
    trigger lost).

    Options: ``unit`` (``'samples'``, the default, counted from 0 at the source rate, or
    ``'seconds'``), ``prefix`` (event label prefix, default ``'trigger'``).

    Seconds count time as the data file's own do: its clock, moved by its gaps
    (:attr:`Header.sidecar_gaps`: an EDF+D's, a FIF's skips), or the samples stored where it
    only states its gaps (a BrainVision pause, an EEGLAB cut). A sample number counts the
    file's samples: where those are all acquired (an EDF+D's data records lie end to end, the
    gaps between them unstored; a BrainVision or EEGLAB data file holds only what was kept) it
    is on the samples read and is not moved; where the reader filled
    in samples not acquired (MNE's ``BAD_ACQ_SKIP`` in a FIF) it counts the clock and is
    moved (:func:`_samples_count_the_clock`).
    """
    path = sidecars[0]
    unit = options.get("unit", "samples")
    check_choice("unit", unit, ("samples", "seconds"))
    sfreq = header.signals[0].sfreq
    prefix = str(options.get("prefix", "trigger"))
    out = SidecarResult()
    skipped: list[str] = []  # lines after the first position that hold none
    first: tuple[int, ...] = ()  # the first position row's count of fields
    for number, line in enumerate(text_lines(path), start=1):
        tokens = line.replace(",", " ").split()
        if not tokens or not _is_number(path, number, tokens[0], "trigger position"):
            if tokens and out.events:
                skipped.append(f"line {number} {line.strip()[:30]!r}")
            continue
        _check_no_decimal_comma(path, number, line)
        first = _marker_fields(path, number, tokens, first)
        pos = float(tokens[0])
        if tokens[0].lstrip("+-").isdigit() and abs(int(tokens[0])) > 2**53:
            raise SourceError(
                path,
                f"trigger position {tokens[0]} is beyond 2^53: not exact as a number "
                "(float64 would round it); fix the file",
            )
        onset = pos if unit == "seconds" else pos / sfreq
        code = tokens[1] if len(tokens) > 1 else ""
        out.events.append([onset, 0.0, f"{prefix}/{code}" if code else prefix, ""])
        check_rows(path, len(out.events), number)
    if not out.events:
        out.problems.append(f"{shown_path(os.path.basename(path))}: no trigger positions found")
    if skipped:
        more = f" and {len(skipped) - 3} more" if len(skipped) > 3 else ""
        out.problems.append(
            f"{shown_path(os.path.basename(path))}: {counted(len(skipped), 'line')} among the "
            f"trigger positions {noun(len(skipped), 'holds', 'hold')} no position (skipped: no "
            f"trigger read from them): {', '.join(skipped[:3])}{more}"
        )
    out.on_samples = unit == "samples" and not _samples_count_the_clock(header)
    return out


def _marker_fields(path: str, number: int, tokens: list[str], first: tuple[int, ...]) -> tuple[int]:
    """The count of fields of a marker row (``<sample> [<code>]``), refused in one line naming
    its line where it is more than two (a third was passed over unsaid) or not the first
    row's (``first``; a code missing from one row)."""
    expected = first or (min(len(tokens), 2),)
    said = "the first row" if first else "a marker row (sample, code)"
    if ragged := uneven((len(tokens),), expected, said):
        raise SourceError(path, f"line {number} {ragged}")
    return (len(tokens),)


_DECIMAL_COMMA = re.compile(r"^\s*[-+]?\d+,\d+\s+\S")


def _check_no_decimal_comma(path: str, number: int, line: str) -> None:
    """Refuse a marker line whose position is written with a decimal comma and a code after
    a blank (``1,5 3``): read as position 1, code 5, where the file meant 1.5 and code 3."""
    if _DECIMAL_COMMA.match(line):
        raise SourceError(
            path,
            f"line {number}: {line.strip()[:40]!r} has a decimal comma in its position, or "
            "commas and blanks both between cells: write positions with a decimal point",
        )


def _samples_count_the_clock(header: Header) -> bool:
    """Whether the file's sample numbers count its clock, gaps included: a FIF, whose
    acquisition skips MNE fills with samples that the reader leaves out (every other format's
    samples are those stored, the gaps between them never written)."""
    return os.path.splitext(header.path)[1].lower() == ".fif"


@register("fixed_events")
def fixed_events(sidecars: list[str], header: Header, options: dict[str, Any]) -> SidecarResult:
    """Events the manifest lists: ``events = [[onset s, duration s, "label"], ...]``.

    One that starts after the recording's end is dropped, one that runs past it is cut there,
    each reported once, by the one rule of events (:mod:`eegprep.ingestion.events`).
    """
    out = SidecarResult()
    for item in options.get("events", []):
        if not (isinstance(item, list) and len(item) == 3):
            raise UsageError(
                f"sidecar option `events`: expected [onset, duration, label], {item!r}"
            )
        out.events.append([float(item[0]), float(item[1]), str(item[2]), ""])
    return out


def _read_table(path: str, skip: int) -> np.ndarray:
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # numpy: "input contained no data"
            lines = text_lines(path)  # (a line at a time, each bounded: a line of junk)
            table = np.loadtxt(lines, skiprows=skip, ndmin=2, delimiter=None)
    except ValueError as exc:
        why = bad_row(path, skip=skip, delimiter=None)
        raise SourceError(
            path, f"cannot parse its numbers after {skip} header lines: {why}"
        ) from exc
    if table.shape[0] < 2:
        raise SourceError(path, f"no data rows after {skip} header lines")
    return table


def _first_time(path: str, skip: int) -> float | None:
    for i, line in enumerate(text_lines(path)):
        if i >= skip and line.strip():
            token = line.split()[0]
            return float(token) if _is_number(path, i + 1, token, "time") else None
    return None


def mobi_files(path: str, options: dict[str, Any], sidecars: list[str]) -> list[str]:
    """The files :func:`mobi_joints` reads beside the trial's ``eeg.txt`` at ``path``, besides
    ``joints.txt``: its impedance list (:func:`impedance_list`) and its ``events_file``
    (:func:`events_file`), those that are there. They enter the recording's fingerprint."""
    found = [impedance_list(path, options), events_file(path, options)]
    return [f for f in found if f is not None]


def events_file(path: str, options: dict[str, Any]) -> str | None:
    """The ``events_file`` option's file beside the recording at ``path`` (MoBI's
    ``conductor.txt``) when it is there, else None."""
    name = str(options.get("events_file") or "")
    found = os.path.join(os.path.dirname(path), name)
    return found if name and os.path.isfile(found) else None


def impedance_list(path: str, options: dict[str, Any]) -> str | None:
    """The first of ``options['channel_files']`` (default :data:`IMPEDANCE_FILES`) beside the
    recording at ``path`` that is there (the list :func:`check_channel_order` reads), else
    None."""
    folder = os.path.dirname(path)
    names = [str(n) for n in options.get("channel_files", IMPEDANCE_FILES)]
    return next((f for n in names if os.path.isfile(f := os.path.join(folder, n))), None)


@register("mobi_joints", reads=mobi_files)
def mobi_joints(sidecars: list[str], header: Header, options: dict[str, Any]) -> SidecarResult:
    """MoBI gait ``joints.txt`` (``Time`` then the joint angles, degrees) -> target ``joints``.

    The angles are interpolated onto the EEG's sample times (``eeg.txt``'s first column, same
    clock) and stored as a target at the EEG rate (resampled to the store rate on write).
    When the two clocks do not overlap, both are taken to start together (reported).
    Options: ``name`` (default ``'joints'``), ``header_lines`` (default 2), ``eeg_header_lines``
    (default 1), ``n_targets`` (default 12: the first columns after ``Time``), ``scale``
    (factor applied to the angles, default 1: degrees; LaBraM divides by 90), ``events_file``
    (a file beside ``eeg.txt`` read as :func:`conductor_events` when it is there); the channel
    order is checked against the trial's impedance list (:func:`check_channel_order`). Both
    files are named to the fingerprint by :func:`mobi_files`.
    """
    path = sidecars[0]
    order_note = check_channel_order(header, options)
    skip = option_number(path, options, "header_lines", 2)
    table = _read_table(path, skip)
    n_targets = option_number(path, options, "n_targets", 12)
    if table.shape[1] < n_targets + 1:
        raise SourceError(
            path,
            f"{counted(table.shape[1], 'column')}, expected Time + {counted(n_targets, 'angle')}",
        )
    _check_joint_rows(path, skip, table[:, : n_targets + 1])
    t, values = (
        table[:, 0],
        table[:, 1 : n_targets + 1].T * option_number(path, options, "scale", 1.0),
    )
    sfreq, n = header.signals[0].sfreq, header.signals[0].n_samples
    t0 = _first_time(header.path, option_number(path, options, "eeg_header_lines", 1))
    out = SidecarResult(problems=[order_note] if order_note else [])
    grid = (t0 if t0 is not None else 0.0) + np.arange(n) / sfreq
    if t0 is None or grid[-1] < t[0] or grid[0] > t[-1]:
        out.problems.append(
            f"{shown_path(os.path.basename(path))}: clocks do not overlap the EEG's: aligned at "
            "start"
        )
        grid = t[0] + np.arange(n) / sfreq
    elif grid[0] < t[0] or grid[-1] > t[-1]:
        out.problems.append(
            f"{shown_path(os.path.basename(path))} covers only part of the EEG: edges held"
        )
    targets = np.stack([np.interp(grid, t, row) for row in values]).astype(np.float32)
    out.targets[str(options.get("name", "joints"))] = (targets, sfreq)
    out.on_samples = True  # (taken at the samples read, not on the clock: no gap to cut)
    conductor = events_file(header.path, options)
    if conductor is not None:
        out.events, said = conductor_events(conductor, t0, n / sfreq)
        out.problems += said
    return out


def conductor_events(
    path: str, t0: float | None, duration: float
) -> tuple[list[list[Any]], list[str]]:
    """MoBI's ``conductor.txt`` (``Time``, ``Event``: the protocol's events on the clock of
    ``eeg.txt``, whose first time is ``t0``) -> events ``[onset s, 0, event, ""]`` and the
    report's lines. Lines whose first field is no number (a header) are skipped; a time with
    no event, or a tab-separated field past the event, is one line naming it; an event
    before the EEG's first sample or after its last is left out and said; with no EEG time
    (``t0`` None) none can be placed, said."""
    name = shown_path(os.path.basename(path))
    if t0 is None:
        return [], [f"{name}: eeg.txt gives no first time: its events are not placed"]
    events: list[list[Any]] = []
    outside: list[str] = []
    for n, line in enumerate(text_lines(path), start=1):
        time, _, label = line.strip().partition("\t" if "\t" in line else " ")
        if not _is_number(path, n, time, "time"):
            continue  # (a header)
        counts = field_counts(line, "\t") if "\t" in line else (min(len(line.split()), 2),)
        if ragged := uneven(counts, (2,), "the header (Time, Event)"):  # (a tab in the event)
            raise SourceError(path, f"line {n} {ragged}")
        onset = float(time) - t0
        if not 0.0 <= onset <= duration:
            outside.append(f"line {n}")
            continue
        events.append([onset, 0.0, label.strip(), ""])
        check_rows(path, len(events), n)
    said = []
    if outside:
        more = f" and {len(outside) - 3} more" if len(outside) > 3 else ""
        said.append(
            f"{name}: {counted(len(outside), 'event')} outside the EEG's time, left out: "
            f"{', '.join(outside[:3])}{more}"
        )
    return events, said


IMPEDANCE_FILES = ("impedances-before.txt", "impedances-after.txt")
"""The files of a MoBI trial folder that list its channels in recording order (the first found
is read): 21 header lines, then rows ``PhysChn Name LabelSet ImpedanceValue``."""


def check_channel_order(header: Header, options: dict[str, Any]) -> str | None:
    """Refuse a recording whose channel names (the manifest's ``channel_names``, in
    ``eeg.txt``'s column order) are not those the trial's impedance list gives in its
    ``PhysChn`` order: each column would be stored under another site's name, unsaid.

    The list is the first of ``options['channel_files']`` (default :data:`IMPEDANCE_FILES`)
    beside the recording; its rows are those after ``channel_header_lines`` (default 21) whose
    first field is a channel number. Names are compared in any letter case, except at the
    positions of the manifest's ``order_unchecked`` names (MoBI's TP9 TP10 FT9 FT10, whose
    electrodes were the EOG's and which the list may call VEOU ...: never stored as EEG).
    Returns a note for the report where a list is there but holds no such row (nothing
    checked), else None.

    Raises
    ------
    SourceError
        Naming the list, the first channel number whose name differs and both names.
    """
    path = impedance_list(header.path, options)
    if path is None:
        return None
    listed = _listed_channels(path, option_number(path, options, "channel_header_lines", 21))
    if not listed:
        return (
            f"{shown_path(os.path.basename(path))}: no channel rows (PhysChn Name ...): the "
            "channel order was not checked"
        )
    labels = list(header.labels)
    free = {str(n).casefold() for n in options.get("order_unchecked", ())}
    for k, (ours, theirs) in enumerate(zip(labels, listed, strict=False), start=1):
        if ours.casefold() not in free and ours.casefold() != theirs.casefold():
            raise SourceError(
                path,
                f"channel {k} is {theirs!r} here but {ours!r} in the manifest's channel_names "
                "(eeg.txt's column order): copy the manifest and write channel_names in this "
                "file's order",
            )
    if len(listed) != len(labels):
        raise SourceError(
            path,
            f"lists {counted(len(listed), 'channel')}, the manifest's channel_names "
            f"{len(labels)}: copy the manifest and write channel_names in this file's order",
        )
    return None


def _listed_channels(path: str, skip: int) -> list[str]:
    """The names of an impedance list's channel rows, in ``PhysChn`` order."""
    rows: list[tuple[int, str]] = []
    for n, line in enumerate(text_lines(path), start=1):
        fields = line.split("\t") if "\t" in line else line.split()
        fields = [f.strip() for f in fields]
        number = fields[0].isascii() and fields[0].isdigit() if fields else False  # (no ``²``)
        if n <= skip or len(fields) < 2 or not number or not fields[1]:
            continue  # a header line, a column-name line, Ref / Gnd (no channel number)
        rows.append((int(fields[0]), fields[1]))
        check_rows(path, len(rows), n)
    return [name for _, name in sorted(rows, key=lambda row: row[0])]


def _check_joint_rows(path: str, skip: int, table: np.ndarray) -> None:
    """Refuse a joints table holding a value that is no finite number (``nan``, ``1e400``:
    stored as a NaN or infinite target, a loss of NaN in training) or whose times do not
    increase (rows out of order or repeated: interpolation between them is undefined, and
    gave angles from the wrong rows unsaid), naming the first such line as an editor numbers
    it (:func:`~eegprep.corpus.sidecars.bounded.data_line`: blank lines and comments counted;
    the data row after the header lines was cited, another line after a blank one)."""
    bad = np.flatnonzero(~np.isfinite(table).all(axis=1))
    if bad.size:
        row = int(bad[0])
        raise SourceError(
            path, f"line {data_line(path, row, skip=skip)} holds a value that is no finite number "
            "(nan, inf): fix the file",
        )  # fmt: skip
    back = np.flatnonzero(np.diff(table[:, 0]) <= 0)
    if back.size:
        k = int(back[0]) + 1
        raise SourceError(
            path,
            f"line {data_line(path, k, skip=skip)}: its time {table[k, 0]:g} does not follow the "
            f"row before's {table[k - 1, 0]:g}: rows out of order or repeated; fix the file",
        )


@register("bids_events")
def bids_events(sidecars: list[str], header: Header, options: dict[str, Any]) -> SidecarResult:
    """An EEG-BIDS recording's ``*_events.tsv`` and ``*_channels.tsv``, by file name.

    Events (``onset``, ``duration``, ``trial_type``/``value``, ``sample``:
    :func:`_bids_event_rows`), timed as the data file's own time counts (:func:`_sample_rate`).
    The channels table gives each channel's ``type`` and ``status``
    (:attr:`SidecarResult.channels`) and its ``units`` (:attr:`SidecarResult.units`).
    """
    out = SidecarResult()
    rate = _sample_rate(header)
    for path in sidecars:
        if path.endswith("_channels.tsv"):
            table = _bids_channel_rows(path)
            out.channels.update(_channel_status(table))
            out.units.update(
                {_cell(r, "name"): _cell(r, "units") for r in table if _cell(r, "units")}
            )
            out.units_file = os.path.basename(path)
        else:
            rows, problems = _bids_event_rows(path, rate)
            out.events += rows
            out.problems += problems
    return out


def _sample_rate(header: Header) -> float | None:
    """The rate (Hz) at which an ``events.tsv``'s ``sample`` column places its rows beside
    ``header``'s data file, or None where its ``onset`` does.

    Where the file's samples stop following on (:attr:`Header.joins`) and its own time counts
    the samples stored alone (no :attr:`Header.sidecar_gaps`: a BrainVision pause, an EEGLAB
    cut), an ``onset`` may count the recording's clock (BIDS: from the acquisition of the
    first sample) or the samples (mne-bids writes MNE's time, the stretches end to end), but a
    ``sample`` counts the data file's samples in both: it is the one to go by. Where the
    file's time counts its gaps (an EDF+D's, a FIF's skips) the ``onset`` is on that clock in
    both, and stays; elsewhere the two agree.
    """
    if header.joins and not header.sidecar_gaps and header.signals:
        return float(header.signals[0].sfreq)
    return None


def _bids_event_rows(path: str, rate: float | None) -> tuple[list[list[Any]], list[str]]:
    """``[onset s, duration s, label, ""]`` per row of a BIDS ``*_events.tsv``, and a report
    line on the rows placed at their ``sample`` away from their ``onset``.

    The label is ``trial_type``, else (missing, empty or ``n/a``) ``value``, else ``"n/a"``:
    no row is dropped for its label (mne-bids drops a ``trial_type`` of ``n/a`` even when the
    row has a ``value``). An ``n/a`` or missing duration is 0; an onset that is not a finite
    number, or a duration that is no number, is an error naming the file and line. Given a
    ``rate`` (Hz, :func:`_sample_rate`), a row's ``sample`` (counted from 0), where it has one,
    places it at ``sample / rate`` s; one that is no finite number is an error too.
    """
    import csv

    reader = csv.DictReader(text_lines(path, newline=""), delimiter="\t")
    if reader.fieldnames is None:
        return [], [
            f"{shown_path(os.path.basename(path))}: an empty file (no header row): no events"
        ]
    reader.fieldnames = [name.strip() for name in reader.fieldnames]
    if "onset" not in reader.fieldnames:
        joined = any("onset" in name and name != "onset" for name in reader.fieldnames)
        hint = ": its cells are not separated by tabs, as BIDS separates them" if joined else ""
        headless = headless_row(reader.fieldnames)
        hint = (
            f": {headless}; BIDS starts the table with a row naming its columns"
            if headless
            else hint
        )
        raise SourceError(path, f"events.tsv has no 'onset' column (BIDS requires one){hint}")
    rows, moved = [], []
    for row in reader:
        line = reader.line_num
        _check_cells(path, line, row, len(reader.fieldnames))
        onset = _seconds(row.get("onset"))
        if onset is None:
            raise SourceError(path, f"line {line}: onset {row.get('onset')!r} is not seconds")
        duration = _duration(path, line, row.get("duration"))
        label = next((v for v in (_cell(row, "trial_type"), _cell(row, "value")) if v), "n/a")
        at = _sample_time(path, line, _cell(row, "sample"), rate)
        if at is not None and rate is not None and abs(at - onset) > 1.0 / rate + 1e-9:
            moved.append(f"{label!r} at {onset:g} s, sample {_cell(row, 'sample')}")
        rows.append([onset if at is None else at, duration, label, ""])
        check_rows(path, len(rows), line)
    return rows, _moved_line(path, moved)


def _check_cells(path: str, line: int, row: dict[Any, Any], n_names: int) -> None:
    """Refuse a row of more or fewer cells than the header names: a cut row (its label would
    be ``n/a``) or a stray tab (its cells read under the next column's name). Empty cells past
    the last name (a trailing tab) are no cells."""
    extra = [v for v in row.get(None) or [] if v.strip()]
    short = [k for k, v in row.items() if k is not None and v is None]
    if extra or short:
        n_cells = n_names - len(short) + len(extra)
        why = "a cut row?" if short else "a tab inside a cell?"
        raise SourceError(
            path,
            f"line {line} has {counted(n_cells, 'cell')}, the header {n_names}: {why} fix the file "
            "(an empty cell is n/a)",
        )


def _sample_time(path: str, line: int, cell: str, rate: float | None) -> float | None:
    """A ``sample`` cell's time (s) at ``rate`` Hz; None where there is no rate or no cell."""
    if rate is None or not cell:
        return None
    sample = _seconds(cell)
    if sample is None:
        raise SourceError(path, f"line {line}: sample {cell!r} is not a sample number (or n/a)")
    return sample / rate


def _moved_line(path: str, moved: list[str]) -> list[str]:
    """The report's line on rows placed at their sample, more than a sample from their onset."""
    if not moved:
        return []
    more = f" and {len(moved) - 3} more" if len(moved) > 3 else ""
    return [
        f"{shown_path(os.path.basename(path))}: {counted(len(moved), 'row')} placed at their "
        "sample, more than one sample from their onset (the sample counts the data file's "
        f"samples, which stop following on at its joins): {', '.join(moved[:3])}{more}"
    ]


def _cell(row: dict[str, Any], key: str) -> str:
    """A BIDS table cell, stripped; ``""`` when missing or ``n/a``."""
    value = str(row.get(key) or "").strip()
    return "" if value == "n/a" else value


def _duration(path: str, line: int, text: Any) -> float:
    """A row's ``duration`` (s): 0 when ``n/a``, empty or missing (BIDS), else its number as
    written; a negative or non-finite one is refused by the one rule of events
    (:mod:`eegprep.ingestion.events`), not made 0 here unsaid."""
    cell = str(text if text is not None else "").strip()
    if cell in ("", "n/a"):
        return 0.0
    value = strict_number(cell)
    if value is None:
        raise SourceError(path, f"line {line}: duration {cell!r} is not seconds")
    return value


def _seconds(text: Any) -> float | None:
    """A finite number of seconds, else None (``n/a``, empty, not a number, inf or NaN; a
    number not written in ASCII digits with a decimal point: ``1,5``, ``1_5``)."""
    return finite_number(str(text if text is not None else ""))


def bids_channels(path: str) -> dict[str, tuple[str, str, str]]:
    """``name -> (type, status, status_description)`` of a BIDS ``channels.tsv``.

    ``type`` is upper-cased (``EEG``, ``EOG``, ``MISC``, ...) and ``status`` lower-cased
    (``good``/``bad``); a missing column or ``n/a`` gives ``""``. A table without a ``name``
    column is an error naming the file, as is a row of more or fewer cells than its header
    (a cut row lost its ``status``: a bad channel kept), naming the line.
    """
    return _channel_status(_bids_channel_rows(path))


def _channel_status(rows: list[dict[str, Any]]) -> dict[str, tuple[str, str, str]]:
    """:func:`bids_channels`' mapping, from the table's rows."""
    return {
        _cell(row, "name"): (
            _cell(row, "type").upper(),
            _cell(row, "status").lower(),
            _cell(row, "status_description"),
        )
        for row in rows
        if _cell(row, "name")
    }


def _bids_channel_rows(path: str) -> list[dict[str, Any]]:
    """The rows of a BIDS ``channels.tsv``, checked as :func:`bids_channels` says."""
    import csv

    rows = []
    reader = csv.DictReader(text_lines(path, newline=""), delimiter="\t")
    if reader.fieldnames is not None:
        reader.fieldnames = [name.strip() for name in reader.fieldnames]
    for row in reader:
        _check_cells(path, reader.line_num, row, len(reader.fieldnames or ()))
        rows.append(row)
        check_rows(path, len(rows), reader.line_num)  # (no recording has 100,000 channels)
    if rows and "name" not in rows[0]:
        headless = headless_row(reader.fieldnames or ())
        hint = (
            f": {headless}; BIDS starts the table with a row naming its columns" if headless else ""
        )
        raise SourceError(path, f"channels.tsv has no 'name' column (BIDS requires one){hint}")
    return rows
