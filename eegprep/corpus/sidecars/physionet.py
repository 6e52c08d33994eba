"""Sidecar parsers of the PhysioNet corpora: Siena seizure lists and EEGMMIDB run annotations.

``siena_seizures`` reads a patient's ``Seizures-list-PNxx.txt`` (found in the recording's
folder through the manifest's ``sidecar.files``). Blocks look like::

    Seizure n 1
    File name: PN00-1.edf
    Registration start time: 19.39.33
    Registration end time: 20.22.58
    Seizure start time: 19.58.36
    Seizure end time: 19.59.46

Times are wall-clock (``hh.mm.ss``; ``hh:mm:ss`` accepted) and may roll past midnight; an event's
onset is the seizure start minus the block's registration start, modulo 24 h. Known typos are
tolerated: ``PNO6-1.edf`` (letter O for zero), ``PN01.edf`` and ``PN11-.edf`` (no file number:
matched when the patient folder holds one such file, or when the registration start equals the
EDF's start time), ``Start time:`` for ``Seizure start time:``.

``eegmmidb_runs`` re-labels the EDF+ annotations T0/T1/T2 of EEG Motor Movement/Imagery by the
run number in the file name (``S001R03.edf`` -> run 3), see :data:`EEGMMIDB_RUNS`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from eegprep.base.errors import SourceError
from eegprep.base.path_limits import shown_path
from eegprep.base.text import editor_lines
from eegprep.base.validation import OTHER_DIGITS, other_digits
from eegprep.corpus.sidecars import SidecarResult, register
from eegprep.corpus.sidecars.bounded import check_rows, text_lines
from eegprep.readers.base import Header

_DAY = 86400.0
_TIME = r"(\d{1,2})\s*[.:]\s*(\d{1,2})\s*[.:]\s*(\d{1,2})"
_KEYS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (key, re.compile(rx, re.IGNORECASE))
    for key, rx in (
        ("block", r"^\s*seizure\s+n\.?\s*\d+"),
        ("file", r"^\s*file\s*name\s*:\s*(\S+)"),
        ("reg_start", r"^\s*registration\s+start\s+time\s*:\s*" + _TIME),
        ("reg_end", r"^\s*registration\s+end\s+time\s*:\s*" + _TIME),
        ("start", r"^\s*(?:seizure\s+)?start\s+time\s*:\s*" + _TIME),
        ("end", r"^\s*(?:seizure\s+)?end\s+time\s*:\s*" + _TIME),
    )
)


@dataclass
class SeizureBlock:
    """One block of a Siena seizure list; times in seconds of the day (``None``: missing)."""

    line: int
    file: str = ""
    reg_start: float | None = None
    reg_end: float | None = None
    start: float | None = None
    end: float | None = None

    def follow(self, line: int) -> SeizureBlock:
        """A new block that inherits the file and registration times (when a list omits them)."""
        return SeizureBlock(line, self.file, self.reg_start, self.reg_end)


def read_seizure_list(path: str) -> list[SeizureBlock]:
    """Every seizure block of a Siena ``Seizures-list-PNxx.txt``, in file order."""
    blocks: list[SeizureBlock] = []
    cur = SeizureBlock(0)
    for n, line in enumerate(_lines(path), start=1):
        key, m = _classify(line)
        if key is None or m is None:
            continue
        if key == "block" or (key == "file" and cur.start is not None):
            if cur.start is not None:
                blocks.append(cur)
                check_rows(path, len(blocks), n)
            cur = cur.follow(n) if key == "block" else SeizureBlock(n)
        if key == "file":
            cur.file = m.group(1)
        elif key != "block":
            if other_digits(m.group(0)):  # (\d matched them: int() read ``١٩`` as 19)
                raise SourceError(
                    path,
                    f"line {n}: {key.replace('_', ' ')} time {line[m.start(1) : m.end(3)]!r} is "
                    f"written in {OTHER_DIGITS}: write it as hh.mm.ss in ASCII digits",
                )
            h, mi, s = (int(g) for g in m.groups())
            if h > 23 or mi > 59 or s > 59:  # 25.61.61 would be 26:02:01, a time of another day
                raise SourceError(
                    path,
                    f"line {n}: {key.replace('_', ' ')} time {':'.join(m.groups())} is no time "
                    "of day (hh.mm.ss: hours 0-23, minutes and seconds 0-59)",
                )
            setattr(cur, key, float(h * 3600 + mi * 60 + s))
    if cur.start is not None:
        blocks.append(cur)
    for b in blocks:
        missing = [what for what, v in (("registration start", b.reg_start),
                                        ("seizure end", b.end)) if v is None]  # fmt: skip
        if missing:
            raise SourceError(
                path, f"line {b.line}: the seizure block has no {' and no '.join(missing)} time"
            )
    return blocks


def _lines(path: str) -> Iterator[str]:
    """The seizure list's lines as an editor numbers them
    (:func:`~eegprep.base.text.editor_lines`), one at a time, each bounded
    (:func:`~eegprep.corpus.sidecars.bounded.text_lines`)."""
    try:
        for line in text_lines(path):
            yield from editor_lines(line)  # (one: str.splitlines also split at \f, U+2028)
    except OSError as exc:
        raise SourceError(path, f"cannot read seizure list: {exc.strerror}") from None


def _classify(line: str) -> tuple[str | None, re.Match[str] | None]:
    for key, rx in _KEYS:
        m = rx.match(line)
        if m:
            return key, m
    return None, None


def _norm(name: str) -> str:
    """``pno6-1.edf`` -> ``PN06-1``."""
    stem = re.sub(r"\.edf$", "", name.strip(), flags=re.IGNORECASE).upper()
    return re.sub(r"^PNO(?=\d)", "PN0", stem)


def _start_of_day(header: Header) -> float | None:
    start = header.meta_dict().get("start", "")
    m = re.search(r"T(\d{2}):(\d{2}):(\d{2})", start)
    return None if m is None else float(int(m[1]) * 3600 + int(m[2]) * 60 + int(m[3]))


def _belongs(block: SeizureBlock, header: Header, stem: str, listed: list[str]) -> bool:
    """Whether ``block`` names the recording ``stem``: by its name, or by a prefix
    (``PN00-``) that matches it alone among the EDF files ``listed`` (:func:`prefix_files`),
    or it and others where the block's registration starts when the recording does."""
    name = _norm(block.file)
    if name == stem:
        return True
    if not _PREFIX.fullmatch(name):
        return False
    candidates = [s for s in map(_norm, map(os.path.basename, listed)) if s.startswith(name)]
    if candidates == [stem]:
        return True
    return stem in candidates and block.reg_start == _start_of_day(header)


_PREFIX = re.compile(r"PN\d\d-?")
"""A block's file named by its patient alone (``PN01.edf``, ``PN11-.edf``: no file number)."""


def prefix_files(folder: str, blocks: list[SeizureBlock]) -> list[str]:
    """The EDF files of ``folder`` (sorted paths) that a block among ``blocks`` naming its file
    only by a prefix (``PN00-``) could mean: which recording such a block belongs to depends on
    them, so they enter the fingerprint of every recording of the folder (one that appears or
    goes re-ingests them); none where every block names its file whole."""
    prefixes = {name for name in (_norm(b.file) for b in blocks) if _PREFIX.fullmatch(name)}
    if not prefixes:
        return []
    names = sorted(f for f in os.listdir(folder) if f.lower().endswith(".edf"))
    return [os.path.join(folder, f) for f in names if _norm(f).startswith(tuple(prefixes))]


def siena_listing(path: str, options: dict[str, Any], sidecars: list[str]) -> list[str]:
    """:func:`prefix_files` of the recording at ``path``'s folder for the blocks of its seizure
    lists ``sidecars`` (:data:`~eegprep.corpus.sidecars.SidecarReads`); none where a list
    cannot be read (the parser says why)."""
    try:
        blocks = [b for s in sidecars for b in read_seizure_list(s)]
        return prefix_files(os.path.dirname(path), blocks)
    except (SourceError, OSError):
        return []


@register("siena_seizures", reads=siena_listing)
def siena_seizures(sidecars: list[str], header: Header, options: dict[str, Any]) -> SidecarResult:
    """Seizure events of one Siena recording from its patient's seizure list.

    Each event is ``[onset s, duration s, "seizure", ""]``; the recording label ``n_seizures``
    counts them. A recording that no block names is reported as a problem. A block naming its
    file only by a prefix is matched among the folder's EDF files (:func:`prefix_files`, in
    the recording's fingerprint).
    """
    stem = _norm(os.path.basename(header.path))
    lists = [(path, read_seizure_list(path)) for path in sidecars]
    listed = prefix_files(os.path.dirname(header.path), [b for _, bs in lists for b in bs])
    result = SidecarResult()
    for path, blocks in lists:
        for b in blocks:
            if not _belongs(b, header, stem, listed):
                continue
            onset, duration = _seizure_span(path, b, header.sidecar_duration)
            # one ending after the recording is cut and reported by the one rule of events
            result.events.append([onset, duration, "seizure", ""])
    if sidecars and not result.events:
        result.problems.append(
            f"no seizure block in {shown_path(os.path.basename(sidecars[0]))} names it"
        )
    # (a block listed twice is one seizure: the events rule stores it once)
    result.labels["n_seizures"] = len({(e[0], e[1]) for e in result.events})
    return result


def _seizure_span(path: str, b: SeizureBlock, length: float) -> tuple[float, float]:
    """A block's seizure as (onset, duration) s from its registration's start: times of day
    roll past midnight, but a seizure that would start before its registration, or end
    before it starts, read so (over 23 h later: the rest of the recording labelled seizure,
    or the seizure dropped) is refused, naming the block's line. The registration lasts as
    long as its times say or as the recording (``length`` s), whichever is longer (a list's
    registration end may be a typo)."""
    assert b.reg_start is not None and b.start is not None and b.end is not None
    onset = (b.start - b.reg_start) % _DAY
    duration = (b.end - b.start) % _DAY
    span = max(length, 0.0 if b.reg_end is None else (b.reg_end - b.reg_start) % _DAY)
    problem = (
        "starts outside its registration" if onset > span
        else "ends before it starts, or lasts longer than its registration" if duration > span
        else None
    )  # fmt: skip
    if problem is not None:
        raise SourceError(
            path,
            f"line {b.line}: the seizure from {_clock(b.start)} to {_clock(b.end)} {problem}, "
            f"from {_clock(b.reg_start)} to {_clock(b.reg_end)} (times of day): fix the block",
        )
    return onset, duration


def _clock(seconds: float | None) -> str:
    """Seconds of the day as ``hh.mm.ss``, as the lists write them (``?`` where missing)."""
    if seconds is None:
        return "?"
    s = int(seconds)
    return f"{s // 3600:02d}.{s // 60 % 60:02d}.{s % 60:02d}"


EEGMMIDB_RUNS: dict[int, tuple[str, str, dict[str, str]]] = {
    1: ("baseline", "eyes_open", {"T0": "eyes_open"}),
    2: ("baseline", "eyes_closed", {"T0": "eyes_closed"}),
    **{
        r: ("left_right_fist", cond, {"T0": "rest", "T1": "left_fist", "T2": "right_fist"})
        for runs, cond in (((3, 7, 11), "execution"), ((4, 8, 12), "imagery"))
        for r in runs
    },
    **{
        r: ("fists_feet", cond, {"T0": "rest", "T1": "both_fists", "T2": "both_feet"})
        for runs, cond in (((5, 9, 13), "execution"), ((6, 10, 14), "imagery"))
        for r in runs
    },
}
"""EEGMMIDB run -> (task, condition, annotation code -> event label)."""


@register("eegmmidb_runs")
def eegmmidb_runs(sidecars: list[str], header: Header, options: dict[str, Any]) -> SidecarResult:
    """EEGMMIDB annotations T0/T1/T2 as the run's events; labels ``run``, ``task``, ``condition``.

    Reads no file: the run number comes from the recording's name (``S001R03.edf``), the
    events from the EDF+ annotations in its header. Use with ``sidecar.always = true`` and
    ``sidecar.annotations = "replace"``.
    """
    m = re.search(r"R([0-9]{2})$", os.path.splitext(os.path.basename(header.path))[0], re.I)
    if m is None or int(m[1]) not in EEGMMIDB_RUNS:
        raise SourceError(
            header.path, "file name has no run number R01..R14 (S001R03.edf, ASCII digits)"
        )
    run = int(m[1])
    task, condition, codes = EEGMMIDB_RUNS[run]
    labels = {"run": run, "task": task, "condition": condition}
    result = SidecarResult(labels=labels, on_samples=True)  # (the header's annotations)
    unknown = set()
    for a in header.annotations:
        label = codes.get(a.description)
        if label is None:
            unknown.add(a.description)
            label = a.description
        result.events.append([a.onset, a.duration, label, a.channel])
    if unknown:
        result.problems.append(
            f"annotations not expected in run {run}: {', '.join(sorted(unknown))}"
        )
    return result
