"""The channel tables of a BrainVision header's ``[Comment]`` section, as MNE reads them.

BrainVision Recorder writes its amplifier set-up into ``[Comment]``: a ``Channels`` table, one
row per channel (``1     Fp1         1     0.1 µV     10     1000     Off``), and, with software
filters on, a ``S o f t w a r e  F i l t e r s`` table. MNE reads the filters from them and
first asserts that row ``i`` of the channel table holds channel ``i``'s name from
``[Channel Infos]``. A file whose channels were renamed there (by hand or by a script: the
table keeps the names they were recorded under), whose labels repeat (MNE names the repeats
``Fp1-0``, which no row holds), or whose table lists fewer rows than channels, failed whole
with ``AssertionError`` (no message) or ``IndexError``. The comment is free text, no part of
the samples: :func:`unread_tables` tells when MNE would fail on it, and
:func:`without_comment` gives the header's lines without it (MNE then keeps its default
filter settings: ``highpass`` 0, ``lowpass`` half the rate).
"""

from __future__ import annotations

import re

_CHANNEL = re.compile(r"^Ch([0-9]+)=([^,]*)")  # (ASCII: as read_vhdr takes channel keys)
_NAME_HEADING = re.compile(r"#\s+Name")
_LOW_CUTOFF_HEADING = re.compile(r"#\s+Low Cutoff")
_COMMENT = "[Comment]"
_CHANNELS = "Channels"
_SOFTWARE = "S o f t w a r e  F i l t e r s"
_SPACES = re.compile(r"\s+")
_AMP_LOW_PASS_COLUMN = 5  # MNE's column of the channel table's high cutoff (a low-pass), the
# name counted as one column; one more where the unit has a column of its own
_SOFT_LOW_PASS_COLUMN = 2  # the software filter table's (it has no name column)


def unread_tables(lines: list[str]) -> bool:
    """Whether MNE would fail on the channel tables of the header ``lines`` (as given to it,
    a repeated label already suffixed ``-N``): a software filter table without a channel
    table, a channel table whose row ``i`` does not hold channel ``i``'s name, or a row of
    either with too few columns. MNE reads everything after the first ``[Comment]`` as the
    comment (:func:`_split`), and the channels before it."""
    params, comment = _split(lines)
    names = _channel_names(params)
    amp = _heading(comment, _CHANNELS, _NAME_HEADING)
    soft = _heading(comment, _SOFTWARE, _LOW_CUTOFF_HEADING)
    if amp is None:
        return soft is not None
    shift = 1 if "Resolution / Unit" in comment[amp] else 0
    for i, name in enumerate(names, 1):
        row = comment[amp + i] if amp + i < len(comment) else ""
        if name not in row:
            return True
        width = _AMP_LOW_PASS_COLUMN + shift + len(_SPACES.split(name)) - 1
        if len(_SPACES.split(row)) <= width:
            return True
        if soft is not None:
            row = comment[soft + i] if soft + i < len(comment) else ""
            if len(_SPACES.split(row)) <= _SOFT_LOW_PASS_COLUMN:
                return True
    return False


def without_comment(lines: list[str]) -> list[str]:
    """The header's ``lines`` up to its ``[Comment]``: what MNE reads as its fields."""
    return _split(lines)[0]


def _split(lines: list[str]) -> tuple[list[str], list[str]]:
    """The header's ``lines`` before its first ``[Comment]`` and after it, split where MNE
    splits the text (at the words, wherever they stand)."""
    for k, line in enumerate(lines):
        if _COMMENT in line:
            before, _, after = line.partition(_COMMENT)
            return [*lines[:k], before], [after, *lines[k + 1 :]]
    return list(lines), []


def _channel_names(lines: list[str]) -> list[str]:
    """The ``[Channel Infos]`` names of the header's fields ``lines`` in channel-number order,
    ``\\1`` read as a comma, as MNE names the channels."""
    numbered, section = [], ""
    for line in lines:
        if line.startswith("["):
            section = line.strip().lower()
        hit = _CHANNEL.match(line) if section == "[channel infos]" else None
        if hit:
            numbered.append((int(hit.group(1)), hit.group(2).replace("\\1", ",")))
    return [name for _, name in sorted(numbered)]


def _heading(lines: list[str], section: str, heading: re.Pattern[str]) -> int | None:
    """The index of the first line matching ``heading`` after the line ``section`` (the whole
    line, as MNE looks for it), or None."""
    if section not in lines:
        return None
    start = lines.index(section) + 1
    return next((k for k in range(start, len(lines)) if heading.match(lines[k])), None)
