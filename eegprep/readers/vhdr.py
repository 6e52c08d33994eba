"""BrainVision headers (``.vhdr``) checked and made openable before MNE reads them.

MNE cannot open a header whose channel labels repeat, reads a header whose data or marker file is
named otherwise (a Windows path, another letter case, renamed files) as missing, builds a huge
message for a header claiming 10^8 channels, and keeps units it does not know as ``n/a``. This
module reads the header's own text for each: :func:`openable_vhdr` gives MNE a copy it can
open, :func:`check_vhdr` refuses impossible numbers by name, :func:`written_units` gives the
units as the header writes them.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import PurePath

from eegprep.base.errors import SourceError
from eegprep.readers.companions import vhdr_companions, vhdr_text

_VHDR_CHANNEL = re.compile(r"^(Ch\d+=)([^,]*)(.*)$")


@contextlib.contextmanager
def openable_vhdr(path: str) -> Iterator[tuple[str, set[str]]]:
    """``path`` itself, or a copy MNE can open: a BrainVision header whose channel labels
    repeat (which MNE cannot open) gets MNE's own ``-N`` suffixes on the repeats, and one whose
    data or marker file is not where it says (:func:`~eegprep.readers.companions.
    vhdr_companions`: a Windows path, another letter case, renamed files) names the file found
    instead; the copy names both files by absolute path. The repeated labels come back with it,
    so that :func:`_file_labels` gives the file's labels, and the first of each is kept as every
    reader keeps it.
    """
    if PurePath(path).suffix.lower() != ".vhdr":
        yield path, set()
        return
    with open(path, "rb") as fh:
        text = fh.read().decode("utf-8", errors="surrogateescape")
    lines, repeats = _suffixed_repeats(text.splitlines())
    found = {c.key: c.path for c in vhdr_companions(path) if c.path is not None}
    moved = any(c.note for c in vhdr_companions(path))
    if not repeats and not moved:
        yield path, set()
        return
    for i, line in enumerate(lines):
        key, eq, _ = line.partition("=")
        if eq and key.strip().lower() in found:
            lines[i] = f"{key}={found[key.strip().lower()]}"
    with tempfile.TemporaryDirectory(prefix="eegprep-vhdr-") as tmp:
        copy = os.path.join(tmp, os.path.basename(path))
        with open(copy, "wb") as fh:
            fh.write("\n".join(lines).encode("utf-8", errors="surrogateescape"))
        yield copy, repeats


def _suffixed_repeats(lines: list[str]) -> tuple[list[str], set[str]]:
    """The header's lines with each repeat of a ``[Channel Infos]`` label suffixed ``-N`` (as
    MNE names repeats), and the labels that repeat."""
    lines, section = list(lines), ""
    seen: dict[str, int] = {}
    repeats: set[str] = set()
    for i, line in enumerate(lines):
        if line.startswith("["):
            section = line.strip()
        hit = _VHDR_CHANNEL.match(line) if section == "[Channel Infos]" else None
        if hit:
            label = hit.group(2)
            seen[label] = seen.get(label, 0) + 1
            if seen[label] > 1:
                repeats.add(label)
                lines[i] = f"{hit.group(1)}{label}-{seen[label] - 1}{hit.group(3)}"
    return lines, repeats


_VHDR_COUNT = re.compile(r"^\s*NumberOfChannels\s*=\s*(\S+)\s*$", re.IGNORECASE | re.MULTILINE)
_VHDR_CH = re.compile(r"^\s*Ch(\d+)\s*=", re.MULTILINE)
_VHDR_INTERVAL = re.compile(r"^\s*SamplingInterval\s*=\s*(.*?)\s*$", re.IGNORECASE | re.MULTILINE)
_VHDR_POINTS = re.compile(r"^\s*DataPoints\s*=\s*(\d+)\s*$", re.IGNORECASE | re.MULTILINE)
_VHDR_CH_INFO = re.compile(r"^\s*Ch(\d+)\s*=([^\r\n]*)$", re.MULTILINE)
VHDR_MAX_BYTES = 16 * 2**20  # a header is text of a few kB; more is not a BrainVision header


def check_vhdr(path: str) -> None:
    """A BrainVision header's ``NumberOfChannels`` against the ``ChN=`` entries it lists.

    MNE refuses a header that lists fewer, but only after building a message naming every
    missing index: for a claimed 10^8 channels that is 1 GB of text and ~10 s. The same
    refusal, from the header's text alone.
    """
    with open(path, "rb") as fh:
        text = vhdr_text(fh.read(VHDR_MAX_BYTES))
    claimed = _VHDR_COUNT.search(text)
    if claimed is None:
        return  # MNE names what is missing
    try:
        n = int(claimed.group(1))
    except ValueError:
        raise SourceError(
            path, f"NumberOfChannels={claimed.group(1)!r} is not a whole number"
        ) from None
    listed = {int(m) for m in _VHDR_CH.findall(text)}
    if n < 1 or len(listed) < n:
        raise SourceError(
            path,
            f"the header claims NumberOfChannels={n} but lists {len(listed)} channel(s) "
            "(Ch1= ...) in [Channel Infos]: the header is damaged; re-export or re-download it",
        )
    beyond = sorted({int(number) for number, _ in _channel_infos(text)} - set(range(1, n + 1)))
    if beyond:  # MNE drops them and reads the samples as n channels: every value misplaced
        raise SourceError(
            path,
            f"the header claims NumberOfChannels={n} but [Channel Infos] also lists "
            f"Ch{beyond[0]}= ({len(beyond)} more): the data file's channel count is unknown, "
            f"and reading it as {n} would misplace every sample; fix NumberOfChannels",
        )
    _check_vhdr_numbers(path, text)


def _check_vhdr_numbers(path: str, text: str) -> None:
    """The header's sampling interval (microseconds) and each channel's resolution: a zero, a
    negative interval, ``nan`` or ``inf`` made MNE fail with ``float division by zero``, or
    read every sample as NaN (``invalid value encountered in multiply`` on the terminal and
    "non-finite samples" for a file whose samples are finite). Named here, field and value."""
    interval = _VHDR_INTERVAL.search(text)
    if interval is not None:
        try:
            value = float(interval.group(1))
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and value > 0):
            raise SourceError(
                path,
                f"SamplingInterval={interval.group(1)!r} in the header: it must be a positive "
                "number of microseconds; the header is damaged",
            )
    for number, fields in _channel_infos(text):
        if len(fields) < 3 or not fields[2].strip():
            continue  # MNE's default resolution, 1
        try:
            res = float(fields[2])
        except ValueError:
            continue  # MNE names it
        if not (math.isfinite(res) and res != 0):
            raise SourceError(
                path,
                f"channel Ch{number} ({fields[0].strip()!r}) has a resolution of "
                f"{fields[2].strip()!r} in the header: it must be a finite, non-zero number "
                "(the value of one stored unit); the header is damaged",
            )


def _channel_infos(text: str) -> list[tuple[str, list[str]]]:
    """``(channel number, fields)`` of each ``ChN=`` line of a BrainVision header's
    ``[Channel Infos]`` (name, reference, resolution, unit, ...)."""
    section = re.search(r"^\s*\[Channel Infos\][^\n]*\n(.*?)(?=^\s*\[|\Z)", text, re.M | re.S)
    found = _VHDR_CH_INFO.findall(section.group(1) if section else "")
    return [(number, info.split(",")) for number, info in found]


def written_units(path: str, units: list[str]) -> list[str]:
    """Each channel's unit: MNE's (``raw._orig_units``, in channel order), except where MNE
    gives ``n/a`` for a BrainVision unit it does not know (``millivolts``, ``microvolt``): the
    header's own text there, so that :func:`_signal` can scale a voltage spelt otherwise."""
    if PurePath(path).suffix.lower() != ".vhdr" or "n/a" not in units:
        return units
    with open(path, "rb") as fh:
        text = vhdr_text(fh.read(VHDR_MAX_BYTES))
    written = {int(n): f[3].strip() for n, f in _channel_infos(text) if len(f) > 3}
    return [(written.get(i + 1) or unit) if unit == "n/a" else unit for i, unit in enumerate(units)]


def data_points(path: str) -> int | None:
    """The header's ``DataPoints`` (samples per channel), ``None`` when it gives none (or one
    that is not a whole number: MNE names that)."""
    with open(path, "rb") as fh:
        text = vhdr_text(fh.read(VHDR_MAX_BYTES))
    hit = _VHDR_POINTS.search(text)
    return int(hit.group(1)) if hit else None
