"""A FIF file's tags, found as MNE finds them, without MNE's private functions.

A FIF file is a chain of tags: kind, type, size and next (big-endian, 16 bytes), then ``size``
bytes of data; ``next`` is 0 for the tag that follows, a byte position, or negative at the end.
Its first tag is the file's id, its second a pointer to a tag directory (a tag listing every
tag's kind and position) or -1. MNE finds the tags in the directory when there is one, and
otherwise by following the chain from the first tag without looking where it goes: a chain
that leads back to a tag it passed (a damaged file) was followed for ever, MNE's list of tags
growing until memory ran out (an ingest hung on one 20 kB file).

:func:`fif_tags` gives the tags of both (the chain walked once, a loop refused in one line), so
that a check of what MNE will read (:mod:`eegprep.readers.fif_refs`) sees every tag MNE may
use; :func:`check_fif_chain` refuses a looping file before MNE opens it. ``mne._fiff``, where
MNE keeps its own functions for this, is private and may move in any MNE release.

Concurrency contract: read-only; nothing is cached.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import BinaryIO

from eegprep.base.errors import SourceError
from eegprep.base.limits import check_time
from eegprep.base.regular_files import open_regular

HEADER = struct.Struct(">iIii")  # kind, type, size, next
FILE_ID, DIR_POINTER = 100, 101  # FIFF_FILE_ID, FIFF_DIR_POINTER
MAX_TAGS = 20_000_000
"""Tags walked at most: a FIF of one data buffer per second holds ~4,000 an hour."""
MAX_REVISITS = 100_000
"""Tags remembered after the chain first points back (no writer's file does): more, and the
file is refused as one the walk cannot vouch for."""
_TIME_CHECK_TAGS = 4096  # tags walked between two looks at the task's clock


def header(fh: BinaryIO, pos: int) -> tuple[int, int, int, int] | None:
    """The tag header at byte ``pos``: (kind, type, size, next); None past the file's end."""
    fh.seek(pos)
    raw = fh.read(HEADER.size)
    if len(raw) != HEADER.size:
        return None
    kind, type_, size, next_ = HEADER.unpack(raw)
    return kind, type_, size, next_


def _after(pos: int, tag: tuple[int, int, int, int]) -> int | None:
    """Where MNE looks for the tag after ``tag`` (at ``pos``); None where its walk ends."""
    _kind, _type, size, next_ = tag
    after = pos + HEADER.size + size if next_ == 0 else next_ if next_ > 0 else None
    return after if after is not None and after >= 0 else None


def chain(fh: BinaryIO, path: str) -> Iterator[tuple[int, int]]:
    """(kind, position) of each tag MNE passes following the chain from byte 0.

    Raises
    ------
    SourceError
        The chain leads back to a tag it passed (MNE would follow it for ever), or holds
        more than :data:`MAX_TAGS` tags, naming ``path`` and the byte.
    """
    pos: int | None = 0
    seen: set[int] | None = None  # made at the first pointer back
    n = 0
    while pos is not None:
        n += 1
        if n % _TIME_CHECK_TAGS == 0:
            check_time(path)
        if n > MAX_TAGS:
            raise SourceError(path, f"holds more than {MAX_TAGS:,} FIF tags: a damaged file?")
        tag = header(fh, pos)
        if tag is None:
            return
        yield tag[0], pos
        after = _after(pos, tag)
        if after is not None and (seen is not None or after <= pos):
            seen = set() if seen is None else seen
            seen.add(pos)
            if after in seen or len(seen) > MAX_REVISITS:
                raise SourceError(
                    path,
                    f"its chain of FIF tags loops (the tag at byte {after:,} is reached again, "
                    f"from byte {pos:,}): a damaged file, which MNE would read for ever",
                )
        pos = after


def directory(
    fh: BinaryIO, first_two: list[tuple[int, int]], kinds: frozenset[int]
) -> list[tuple[int, int]]:
    """(kind, position) of each entry of one of ``kinds`` in the tag directory the file's
    second tag points to (``first_two``: the chain's first two tags); empty when it points to
    none. Read in pieces: a directory claiming gigabytes holds no more than the file."""
    if len(first_two) < 2 or first_two[0][0] != FILE_ID or first_two[1][0] != DIR_POINTER:
        return []
    fh.seek(first_two[1][1] + HEADER.size)
    raw = fh.read(4)
    where = struct.unpack(">i", raw)[0] if len(raw) == 4 else -1
    tag = header(fh, where) if where > 0 else None
    if tag is None or tag[2] <= 0:
        return []
    left = min(tag[2] // HEADER.size, MAX_TAGS)
    found = []
    while left > 0:
        data = fh.read(HEADER.size * min(left, _PIECE_ENTRIES))
        n = len(data) // HEADER.size
        # each entry is a tag header whose last field is the tag's position (MNE's reading)
        found += [(k, p) for k, _t, _s, p in HEADER.iter_unpack(data[: n * 16]) if k in kinds]
        if n < min(left, _PIECE_ENTRIES):
            break
        left -= n
    return found


_PIECE_ENTRIES = 65536  # directory entries read at a time (1 MiB)


def fif_tags(fh: BinaryIO, path: str, kinds: frozenset[int]) -> list[tuple[int, int]]:
    """(kind, position) of every tag of one of ``kinds`` that MNE may use: those of the chain
    from the file's start, then those its tag directory lists (:func:`chain`,
    :func:`directory`)."""
    first_two: list[tuple[int, int]] = []
    found = []
    for kind, pos in chain(fh, path):
        if len(first_two) < 2:
            first_two.append((kind, pos))
        if kind in kinds:
            found.append((kind, pos))
    return found + directory(fh, first_two, kinds)


def check_fif_chain(path: str) -> None:
    """Refuse the FIF ``path`` when its chain of tags loops (:func:`chain`), before MNE
    follows it."""
    with open_regular(path, buffering=-1) as fh:
        for _ in chain(fh, path):
            pass


def cut_problem(path: str) -> str | None:
    """The line for a FIF file cut short, None where its chain of tags ends as a whole file's
    does (its last tag's ``next`` negative, its data within the file). MNE refuses a file cut
    in its header as one holding no raw data (epochs, an average) or with an unrelated error
    (``can only convert an array of size 1``); this names the cause. Used once MNE has failed,
    so a writer whose files end otherwise changes no file that opens. A file that does not
    begin with a FIF file id (``not a fif file at all``) is no FIF cut short: None."""
    with open_regular(path, buffering=-1) as fh:
        size = fh.seek(0, 2)
        first = header(fh, 0)
        if first is None or first[0] != FILE_ID:  # no FIF at all, cut or whole: MNE's words
            return None
        last = -1
        for _kind, pos in chain(fh, path):
            last = pos
        tag = header(fh, last) if last >= 0 else None
    if tag is None:
        return None
    end = last + HEADER.size + max(tag[2], 0)
    if end <= size and _after(last, tag) is None:
        return None
    return (
        f"file is truncated (its chain of FIF tags stops at byte {size:,} without the tag "
        "that ends a FIF file): re-download it"
    )


__all__ = ["chain", "check_fif_chain", "cut_problem", "directory", "fif_tags", "header"]
