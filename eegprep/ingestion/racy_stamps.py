"""When a file's stamps cannot vouch for its bytes: stamps taken within a timestamp tick of the
moment the bytes were read.

A write stamps a file with its own moment (mtime and ctime), on the file system's clock and
rounded down to its tick. A file rewritten with the same size in the tick its bytes were read
in keeps every stamp (size, mtime, ctime, inode), so stamps equal to those seen then do not
show that its bytes are the ones read: git calls such an index entry "racily clean". On a
kernel with fine-grained times the tick is nanoseconds, but it is a whole second on ext3, HFS+,
ISO 9660 and many NFS/SMB mounts, 2 s on FAT, and a 10 ms jiffy on older kernels.

Two users: the seen-files cache (:mod:`eegprep.ingestion.seen_files`) does not note racy
stamps, so the next run compares those files by content; and an ingest task hashes each racy
file before it parses any of them (:func:`digests_if_racy`), with the readers' in-process
caches emptied (they are keyed by stamps), and refuses the recording when a file's bytes at the
end are not those (:func:`changed_in_tick`), since the check of its stamps after reading cannot
see such a rewrite.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterable

from eegprep.base.errors import ConfigError
from eegprep.base.strict_json import underflows
from eegprep.base.validation import DECIMAL_TEXT
from eegprep.corpus.sources import FileStamp, file_digest

RACY_NS = 3_000_000_000
"""How close (ns) to the moment a file's bytes were read its stamps may lie and still be
racy: 2 s, the coarsest timestamp tick in use (FAT's mtime; a whole second on ext3, HFS+,
ISO 9660 and many NFS/SMB servers; up to 10 ms on older kernels), plus 1 s for a file server's
clock running behind this machine's. A fixed bound rather than a measured tick: a whole-second
mtime (``mtime_ns % 10**9 == 0``) cannot tell a whole-second file system from a file whose
date a tool set (``tar``, ``cp -p``), and the bound costs only one more hash of the files
changed in the last seconds before an ingest."""

WINDOW_VARIABLE = "EEGPREP_RACY_SECONDS"
"""The environment variable that sets the racy window in seconds (0 to 86400) in place of
:data:`RACY_NS`: more for a file server whose clock runs further behind this machine's, 0 where
files are known to be stamped finely from this machine's clock (the test suite's children)."""


def window_ns() -> int:
    """The racy window (ns): :data:`RACY_NS`, or what :data:`WINDOW_VARIABLE` says.

    Raises :class:`~eegprep.base.errors.ConfigError` for a value that is not a number of
    seconds from 0 to 86400, or that is not 0 yet below a nanosecond (``1e-400``, which a
    float reads as 0, turned the window off)."""
    text = os.environ.get(WINDOW_VARIABLE, "").strip()
    if not text:
        return RACY_NS
    # (ASCII digits alone, as every number setting: float() also read ``٣`` as 3)
    seconds = float(text.replace("_", "")) if DECIMAL_TEXT.fullmatch(text) else math.nan
    if not 0 <= seconds <= 86400:  # (nan too)
        raise ConfigError(
            f"{WINDOW_VARIABLE}={text!r}: not a number of seconds from 0 to 86400; unset it "
            f"for {RACY_NS // 10**9} s"
        )
    window = round(seconds * 10**9)
    if window == 0 and (seconds > 0 or underflows(text, seconds)):  # (1e-400 reads as 0.0)
        raise ConfigError(
            f"{WINDOW_VARIABLE}={text!r}: not zero, yet below a nanosecond, which no stamp "
            "resolves (it was taken for 0, no window at all): write 0 for none, or at least 1e-9"
        )
    return window


clock = time.time_ns
"""The wall clock, ns since the epoch: the clock file stamps are taken from. Tests put their
own, so that no test depends on how long it ran."""


def racy(stamps: Iterable[FileStamp], since_ns: int) -> bool:
    """Whether a write after ``since_ns`` (ns since the epoch, read before the stamps were
    taken and the bytes read) could have left any of ``stamps`` as it was.

    A write can repeat a stamp only where that stamp is no older than the tick the write lands
    in. A stamp more than :data:`RACY_NS` (:func:`window_ns`) before ``since_ns`` is safe; a
    later one, or one in the future (a clock ahead, a date set by a tool), is racy, mtime or
    ctime alike (some systems' ctime is not a change time)."""
    cutoff = since_ns - window_ns()
    return any(max(s.mtime_ns, s.ctime_ns) > cutoff for s in stamps)


def digests_if_racy(
    root: str, stamps: tuple[FileStamp, ...], since_ns: int | None = None
) -> dict[str, str]:
    """The BLAKE3 digest (hex) of each of ``stamps``' files under ``root``, by relative path,
    read now, before any of them is parsed, when their stamps are racy at ``since_ns`` (ns
    since the epoch: the ingest's start, before which no file of it was parsed; ``None``: now);
    else nothing (``OSError`` when a file cannot be read). Judged from the ingest's start, not
    the task's: a reader's cache may hold a parse of the file from earlier in the ingest, under
    stamps that were racy then."""
    if not racy(stamps, clock() if since_ns is None else since_ns):
        return {}
    return {s.path: file_digest(os.path.join(root, s.path)) for s in stamps}


def changed_in_tick(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """The files whose digest ``before`` (:func:`digests_if_racy`) differs from ``after``
    (path -> digest, once every byte the ingest uses was read)."""
    return [path for path, digest in before.items() if after.get(path) != digest]
