"""Trial labels given in the manifest: the SEED family (SEED, SEED-IV, SEED-V, SEED-GER/FRA).

The SEED corpora keep their per-trial labels outside the EEG files: in ``label.mat`` (the same
list for every SEED file), in the corpus documentation (SEED-IV's per-session lists) or in the
public loaders (SEED-V's trial-bound tables). Those lists are data, so they live in the manifest
(``[sidecar.options]``) and one parser, ``trial_labels``, turns them into labels or events.
SEED's raw release times its trials in a ``time.txt`` beside the ``.cnt`` files instead:
``seed_time`` reads those bounds from the file and the labels from the manifest.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterator
from typing import Any

from eegprep.base.errors import SourceError, UsageError
from eegprep.base.shown_text import shown_path
from eegprep.base.validation import OTHER_DIGITS, other_digits
from eegprep.base.wording import counted
from eegprep.corpus.sidecars import SidecarResult, register
from eegprep.corpus.sidecars.bounded import statement_lines
from eegprep.corpus.sidecars.cells import finite_number
from eegprep.readers.base import Header


def _table(options: dict[str, Any], key: str) -> list[Any] | None:
    """``options[key]``: a list, or a table of lists chosen by ``options['table_key']``."""
    value = options.get(key)
    if value is None or isinstance(value, list):
        return value
    if not isinstance(value, dict):
        raise UsageError(f"sidecar option `{key}` must be a list or a table of lists")
    which = str(options.get("table_key", ""))
    if which not in value:
        known = ", ".join(sorted(value))
        raise UsageError(f"sidecar option `{key}` has no list for {which!r} (has {known})")
    return list(value[which])


def _trial_number(header: Header, options: dict[str, Any]) -> int:
    text = str(options.get("trial", header.part or ""))
    rx = re.compile(options.get("trial_regex", r"(\d+)\D*$"))  # (other digits: refused below)
    hit = rx.search(text)
    if hit is None:
        raise SourceError(header.path, f"no trial number in {text!r} (trial_regex {rx.pattern!r})")
    if other_digits(hit.group(1)):  # (\d matched them: int() read ``djc_eeg١`` as trial 1)
        raise SourceError(
            header.path,
            f"the trial number {hit.group(1)!r} in {text!r} is written in {OTHER_DIGITS}: "
            "name the variable or file in ASCII digits",
        )
    return int(hit.group(1))


def _all_values(options: dict[str, Any], key: str) -> list[Any]:
    """Every value of ``options[key]``: its list, or each list of its table."""
    value = options.get(key)
    if isinstance(value, dict):
        return [v for values in value.values() for v in values]
    return list(value or [])


def code_book(options: dict[str, Any], name: str) -> dict[str, Any]:
    """The recording label ``<name>_codes`` (name -> code) of option ``names``, a table code ->
    what it means (``{"-1" = "negative", "0" = "neutral", "1" = "positive"}``); none without it.

    A corpus's codes mean what its own documentation says (SEED's 1 is positive, SEED-IV's 1
    sad): stored beside them, the book lets a reader tell codes of two corpora apart
    (``labram`` refuses to merge codes whose books differ). Every code of option ``labels``
    must have its name, and no two codes one name.

    Raises
    ------
    UsageError
        Option ``names`` is not such a table (a code that is no number, a code or a name
        twice), or misses a code of ``labels``.
    """
    names = options.get("names")
    if names is None:
        return {}
    if not isinstance(names, dict) or not all(isinstance(v, str) and v for v in names.values()):
        raise UsageError('sidecar option `names` must be a table of code = "name"')
    book: dict[str, Any] = {}
    for text, meaning in names.items():
        code = _code(text)
        if code is None or meaning in book or code in {float(c) for c in book.values()}:
            raise UsageError(f"sidecar option `names`: {text!r} = {meaning!r} is no code of "
                             "its own name (a number, each code and name once)")  # fmt: skip
        book[meaning] = int(code) if code.is_integer() else code
    named = {float(code) for code in book.values()}
    missing = sorted({str(v) for v in _all_values(options, "labels") if _code(v) not in named})
    if missing:
        raise UsageError(f"sidecar option `names` names no code {', '.join(missing)} of `labels`")
    return {f"{name}_codes": book}


def _code(value: Any) -> float | None:
    """A label value as the number it codes (``1``, ``1.0``, ``"1"``: 1.0), else None."""
    return finite_number(str(value).strip())


@register("trial_labels")
def trial_labels(sidecars: list[str], header: Header, options: dict[str, Any]) -> SidecarResult:
    """Per-trial labels from lists in the manifest.

    Options
    -------
    name : str
        Label name (``'emotion'``).
    labels : list, or table of lists
        One value per trial, trial 1 first; a table (keyed by ``table_key``) for per-session
        lists (SEED-IV, SEED-V).
    table_key : str
        Which list of a table: usually ``"{session}"`` (a path field).
    trial : str, optional
        Text holding this recording's trial number (default: the part name, ``djc_eeg3``);
        ``trial_regex`` (default: the last number) picks it. Gives the recording label
        ``name = labels[trial - 1]``.
    starts, ends : list, or table of lists, optional
        Trial bounds in seconds from the recording's start. Gives one event per trial,
        ``'<name>/<value>'``, instead of a recording label (one recording, many trials).
        Trials past the recording's end are dropped, one cut short is cut there (reported
        once, by the one rule of events); an end before its start refuses the recording in
        a line naming the manifest's table and the trial to fix.
    mode : {'trial', 'events', 'list'}
        Default: ``events`` when ``starts`` is given, else ``trial`` when the recording is a
        part, else ``list`` (the whole list as one label: clips whose bounds are unknown).
    names : table, optional
        Code -> what it means; stored as the recording label ``<name>_codes`` (name -> code)
        in every mode (:func:`code_book`).
    """
    name = str(options.get("name", "label"))
    labels = _table(options, "labels")
    if labels is None:
        raise UsageError("sidecar parser trial_labels needs option `labels`")
    mode = options.get("mode") or (
        "events"
        if "starts" in options
        else "trial"
        if header.part or "trial" in options
        else "list"
    )
    book = code_book(options, name)
    if mode == "list":
        return SidecarResult(labels={name: list(labels), **book})
    if mode == "events":
        out = _trial_events(header, name, labels, options)
        out.labels.update(book)
        return out
    k = _trial_number(header, options)
    if not 1 <= k <= len(labels):
        raise SourceError(header.path, f"trial {k} has no label: the list has {len(labels)}")
    return SidecarResult(labels={name: labels[k - 1], "trial": k, **book})


def _trial_events(
    header: Header, name: str, labels: list[Any], options: dict[str, Any]
) -> SidecarResult:
    starts, ends = _table(options, "starts"), _table(options, "ends")
    if starts is None or ends is None or not len(starts) == len(ends) == len(labels):
        raise UsageError(
            f"sidecar options `starts`, `ends` and `labels` must have one value per trial "
            f"(got {len(starts or [])}, {len(ends or [])}, {len(labels)})"
        )
    out = SidecarResult()
    for k, (a, b, value) in enumerate(zip(starts, ends, labels), start=1):
        a, b = _bound(header, options, "starts", k, a), _bound(header, options, "ends", k, b)
        if b < a:
            raise SourceError(header.path, _reversed_trial(options, k, a, b))
        # a trial past the recording's end is dropped, one cut short is cut, each reported
        # once, by the one rule of events (ingestion.events)
        out.events.append([a, b - a, f"{name}/{value}", ""])
    return out


def _bound(header: Header, options: dict[str, Any], key: str, k: int, value: Any) -> float:
    """Trial ``k``'s bound (s) in the manifest's option ``key``: a finite number, else the
    recording is refused in a line naming the table (the file is not at fault)."""
    try:
        out = math.nan if other_digits(str(value)) else float(value)  # (``"٣"``: 3)
    except (TypeError, ValueError):
        out = math.nan
    if not math.isfinite(out):
        raise SourceError(
            header.path,
            f"trial {k}'s bound {value!r} in the manifest's {_where(options, key)} is not a "
            f"finite number of seconds: fix value {k} of that list in [sidecar.options]",
        )
    return out


def _where(options: dict[str, Any], key: str) -> str:
    """The trial table a bound came from: option ``key``, and the list of it that
    ``table_key`` chose (``ends."2"``)."""
    if isinstance(options.get(key), dict):
        return f'table {key}."{options.get("table_key", "")}"'
    return f"list `{key}`"


def _reversed_trial(options: dict[str, Any], k: int, start: float, end: float) -> str:
    """The refusal of trial ``k`` ending (s) before it starts: the times came from the
    manifest's trial tables, not from the file, so that is where the fix is."""
    return (
        f"trial {k} ends at {end:g} s before it starts at {start:g} s, as the manifest's "
        f"{_where(options, 'ends')} and {_where(options, 'starts')} give it (value {k} of "
        f"each): fix trial {k}'s end or start in the manifest's [sidecar.options]; the "
        "recording itself is not at fault"
    )


# -- SEED's raw release: trial bounds in samples, in a time.txt beside the .cnt files ----------

_BOUND_LIST = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*=\s*\[(?P<values>[^\[\]]*)\]\s*;?$")
_TIME_TXT_SHAPE = (
    "start_point_list = [n, n, ...] and end_point_list = [n, n, ...] (sample numbers), the "
    "one shape of SEED's time.txt eegprep knows"
)


def read_time_txt(path: str) -> tuple[list[int], list[int]]:
    """Trial starts and ends (sample numbers, in file order) of a SEED raw ``time.txt``.

    The file holds two lines, ``start_point_list = [27000, 290000, ...]`` and
    ``end_point_list = [262000, 523000, ...]``: a list whose name has ``start`` in it gives
    the starts, one with ``end`` the ends. A list may go on over several lines up to its
    ``]``; blank lines and ``#`` comments are passed over.

    Raises
    ------
    SourceError
        Naming the file and the line of any other shape (which list is which would be a guess),
        a value that is no whole number of samples, a list given twice or missing, or lists
        of different lengths.
    """
    lists: dict[str, list[int]] = {}
    for n, text in _statements(path):
        m = _BOUND_LIST.match(text)
        if m is None:
            raise SourceError(path, f"line {n}: expected {_TIME_TXT_SHAPE}; got {_shown(text)}")
        name = m["name"].lower()
        kind = "start" if "start" in name else "end" if "end" in name else None
        if kind is None:
            raise SourceError(path, f"line {n}: list {m['name']!r} is neither the starts nor "
                              f"the ends; expected {_TIME_TXT_SHAPE}")  # fmt: skip
        if kind in lists:
            raise SourceError(path, f"line {n}: a second list of trial {kind}s; keep one")
        lists[kind] = _samples(path, n, m["values"])
    missing = [k for k in ("start", "end") if k not in lists]
    if missing:
        raise SourceError(path, f"no list of trial {missing[0]}s; expected {_TIME_TXT_SHAPE}")
    starts, ends = lists["start"], lists["end"]
    if len(starts) != len(ends):
        raise SourceError(path, f"{counted(len(starts), 'trial start')} but "
                          f"{counted(len(ends), 'end')}: every trial needs both")  # fmt: skip
    return starts, ends


_MAX_STATEMENT_CHARS = 1 << 20
"""The longest list accepted (about 100,000 sample numbers): SEED has 15 clips."""


def _statements(path: str) -> Iterator[tuple[int, str]]:
    """``(first line, text)`` of each statement of ``path``: a line, or the lines of a list
    from its ``[`` to its ``]`` joined by blanks."""
    first, held = 0, ""
    for n, text in statement_lines(path):
        first, held = (first, f"{held} {text}") if held else (n, text)
        if "[" in held and "]" not in held:
            if len(held) > _MAX_STATEMENT_CHARS:
                raise SourceError(path, f"line {first}: a list of over {_MAX_STATEMENT_CHARS:,} "
                                  "characters, or one never closed by ']'")  # fmt: skip
            continue
        yield first, held
        held = ""
    if held:
        raise SourceError(path, f"line {first}: the list opened here is never closed by ']'")


def _samples(path: str, n: int, text: str) -> list[int]:
    cells = [c for c in re.split(r"[,\s]+", text.strip()) if c]
    out = []
    for k, cell in enumerate(cells, start=1):
        value = finite_number(cell)
        if value is None or not value.is_integer() or value < 0:
            raise SourceError(path, f"line {n}: value {k}, {_shown(cell)}, is not a sample "
                              "number (a whole number, 0 or more)")  # fmt: skip
        out.append(int(value))
    if not out:
        raise SourceError(path, f"line {n}: the list is empty")
    return out


def _shown(text: str) -> str:
    """A line for a message: its repr, at most 80 characters."""
    shown = repr(text)
    return shown if len(shown) <= 80 else shown[:77] + "..."


@register("seed_time")
def seed_time(sidecars: list[str], header: Header, options: dict[str, Any]) -> SidecarResult:
    """Trial events of SEED's raw release: bounds from ``time.txt`` (:func:`read_time_txt`, in
    samples of the recording), labels from the manifest.

    Options
    -------
    name : str
        Label name (``'emotion'``); each trial is an event ``'<name>/<label>'``.
    labels : list
        One value per trial, trial 1 first; the file's lists must have as many.
    names : table, optional
        Code -> what it means, stored as the recording label ``<name>_codes``
        (:func:`code_book`).
    """
    name = str(options.get("name", "label"))
    labels = list(options.get("labels") or [])
    if not labels:
        raise UsageError("sidecar parser seed_time needs option `labels`")
    book = code_book(options, name)
    if not sidecars:
        return SidecarResult(labels=book)
    path = sidecars[0]  # the recording's folder's time.txt, else the corpus root's
    starts, ends = read_time_txt(path)
    for other in sidecars[1:]:
        if read_time_txt(other) != (starts, ends):
            named = os.path.join(os.path.basename(os.path.dirname(other)), os.path.basename(other))
            raise SourceError(path, f"gives other trial bounds than {shown_path(named)}: "
                              "which is right is unknown; keep one")  # fmt: skip
    if len(starts) != len(labels):
        raise SourceError(path, f"{counted(len(starts), 'trial')}, but the manifest labels "
                          f"{len(labels)}: which label is whose is unknown")  # fmt: skip
    sfreq = header.signals[0].sfreq
    out = SidecarResult(labels=book)
    for k, (a, b, value) in enumerate(zip(starts, ends, labels), start=1):
        if b <= a:
            raise SourceError(path, f"trial {k} ends at sample {b}, not after its start at "
                              f"sample {a}: fix value {k} of the lists")  # fmt: skip
        # a trial past the recording's end is dropped, one cut short is cut, each reported
        # once, by the one rule of events (ingestion.events)
        out.events.append([a / sfreq, (b - a) / sfreq, f"{name}/{value}", ""])
    return out
