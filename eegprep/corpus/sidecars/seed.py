"""Trial labels given in the manifest: the SEED family (SEED, SEED-IV, SEED-V, SEED-GER/FRA).

The SEED corpora keep their per-trial labels outside the EEG files: in ``label.mat`` (the same
list for every SEED file), in the corpus documentation (SEED-IV's per-session lists) or in the
public loaders (SEED-V's trial-bound tables). Those lists are data, so they live in the manifest
(``[sidecar.options]``) and one parser, ``trial_labels``, turns them into labels or events.
"""

from __future__ import annotations

import math
import re
from typing import Any

from eegprep.base.errors import SourceError, UsageError
from eegprep.corpus.sidecars import SidecarResult, register
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
    rx = re.compile(options.get("trial_regex", r"(\d+)\D*$"))
    hit = rx.search(text)
    if hit is None:
        raise SourceError(header.path, f"no trial number in {text!r} (trial_regex {rx.pattern!r})")
    return int(hit.group(1))


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
    if mode == "list":
        return SidecarResult(labels={name: list(labels)})
    if mode == "events":
        return _trial_events(header, name, labels, options)
    k = _trial_number(header, options)
    if not 1 <= k <= len(labels):
        raise SourceError(header.path, f"trial {k} has no label: the list has {len(labels)}")
    return SidecarResult(labels={name: labels[k - 1], "trial": k})


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
        out = float(value)
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
