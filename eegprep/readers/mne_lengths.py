"""How many samples per channel an MNE-read file holds, checked against its header.

MNE counts a file's samples from what it finds (an EDF's records, a BrainVision data file's
size) where the header states a count too: a file shorter than its header says is refused (a
cut download), a longer one is read as its header counts it, with a warning naming both counts
(and, where the extra values make whole samples of more channels, that the header may list too
few). :func:`checked_length` is what :class:`~eegprep.readers.mne_formats.MneReader` asks.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from eegprep.base.errors import SourceError
from eegprep.base.held_files import shown_name
from eegprep.base.wording import counted, noun
from eegprep.readers.cnt_header import check_cnt
from eegprep.readers.companions import BRAINVISION_HEADERS
from eegprep.readers.edf import read_raw_header
from eegprep.readers.edf_records import RecordLayout, check_file_size, parse_layout
from eegprep.readers.gdf_header import check_gdf
from eegprep.readers.vhdr import data_points

if TYPE_CHECKING:
    from mne.io import BaseRaw

_BV_BYTES = {"short": 2, "int": 4, "single": 4, "double": 8}
"""Bytes per sample of BrainVision's binary formats, by the name MNE keeps as extras' ``fmt``."""


def edf_layout(path: str) -> RecordLayout | None:
    """The record layout from an EDF/BDF header; ``None`` when a field is malformed (MNE's
    own message names it)."""
    head = read_raw_header(path)
    try:
        return parse_layout(head)
    except (UnicodeDecodeError, ValueError):
        return None


def cnt_options(options: Mapping[str, Any]) -> tuple[str, bool | None]:
    """The CNT reader options :func:`~eegprep.readers.cnt_header.check_cnt` weighs."""
    return str(options.get("data_format", "auto")), options.get("recompute_n_samples")


def checked_length(path: str, raw: BaseRaw, options: Mapping[str, Any]) -> tuple[int, str | None]:
    """Samples per channel as the file's header counts them, and a warning when the file is
    longer (EDF/BDF: MNE counts the records the file holds, the header counts fewer); a data
    file shorter than its header is refused."""
    n_samples = int(raw.n_times)
    suffix = PurePath(path).suffix.lower()
    if suffix == ".gdf":  # checked before MNE opened it; a longer file's warning again
        return n_samples, check_gdf(path)
    if suffix == ".cnt":  # likewise: more samples before the event table than counted
        return n_samples, check_cnt(path, *cnt_options(options))
    if suffix not in (".edf", ".bdf"):
        n_samples, points_warning = _multiplexed_points(path, raw)
        return n_samples, _check_data_file(path, raw) or points_warning
    layout = edf_layout(path)
    if layout is None:
        return n_samples, None
    warning = check_file_size(path, layout)
    held = int(raw._raw_extras[0].get("n_records", layout.n_records))
    if warning and held > layout.n_records:
        n_samples = n_samples // held * layout.n_records
    return n_samples, warning


def _multiplexed_points(path: str, raw: BaseRaw) -> tuple[int, str | None]:
    """Samples per channel of a BrainVision ``DataOrientation=MULTIPLEXED`` file (MNE counts
    them from the data file's size and ignores ``DataPoints``) checked against the header's
    ``DataPoints``, as EDF's record count is: fewer in the file is refused (a cut download),
    more is read as the header counts them, with a warning. Other files: MNE's count."""
    held = int(raw.n_times)
    extras = raw._raw_extras[0] if raw._raw_extras else {}
    if PurePath(path).suffix.lower() not in BRAINVISION_HEADERS or extras.get("order") != "F":
        return held, None
    stated = data_points(path)
    if stated is None or stated == held:
        return held, None
    name = os.path.basename(shown_name(str(raw.filenames[0]))) if raw.filenames else path
    if stated > held:
        raise SourceError(
            path,
            f"data file {name} is truncated: it holds {counted(held, 'sample')} per channel, but "
            f"the header says DataPoints={stated}: re-download it (or correct DataPoints)",
        )
    n_channels = int(extras.get("orig_nchan", len(raw.ch_names)))
    binary = not extras.get("eegprep_text")  # (text data: a sample's values are its channels')
    other = _more_channels(held * n_channels, stated, n_channels) if binary else None
    return stated, (
        f"data file {name} is longer than its header says: it holds {counted(held, 'sample')} per "
        f"channel, the header says DataPoints={stated}; only the first {stated} were read"
        + (f"{other[0]}DataPoints={stated}{other[1]}" if other else "")
    )


def _more_channels(n_values: int, n_times: int, n_channels: int) -> tuple[str, str] | None:
    """The words of a warning for a samples file of ``n_values`` values, longer than its
    header's ``n_channels`` x ``n_times``, that also holds exactly ``n_times`` samples of
    more channels: the header may list too few, and then every value is misplaced (a longer
    file of samples side by side reads the same either way, and is no sign of which); the
    text around the samples' field (``DataPoints=800``, ``EEG.pnts=800``). ``None`` where the
    file's values make no whole number of channels of ``n_times``."""
    if n_times <= 0 or n_values % n_times or n_values // n_times <= n_channels:
        return None
    return (
        "; it also holds exactly ",
        f" samples of {counted(n_values // n_times, 'channel')}: if the header lists too few, "
        "every value read is in the wrong channel and time (check the channel count)",
    )


def _check_data_file(path: str, raw: BaseRaw) -> str | None:
    """Refuse a BrainVision .eeg or EEGLAB .fdt shorter than the header's channels x samples;
    a warning when it is longer."""
    extras = raw._raw_extras[0] if raw._raw_extras else {}
    data_file = str(raw.filenames[0]) if raw.filenames and raw.filenames[0] else path
    if data_file == path:
        return None
    n_channels = int(extras.get("orig_nchan", len(raw.ch_names)))
    suffix = PurePath(path).suffix.lower()
    fmt = extras.get("fmt")  # text data (vhdr_raw.py) are counted by their lines: not here
    width = _BV_BYTES.get(fmt, 0) if isinstance(fmt, str) and not extras.get("eegprep_text") else 0
    if suffix in BRAINVISION_HEADERS and width and extras.get("offsets") is None:
        sample = n_channels * width
    elif suffix == ".set" and not extras.get("is_embedded", True):
        sample = n_channels * 4  # EEGLAB's .fdt: float32
    else:
        return None
    size, expected = os.path.getsize(data_file), int(raw.n_times) * sample
    name = os.path.basename(shown_name(data_file))
    if size % sample:
        raise SourceError(
            path,
            f"data file {name} ends inside a sample: its {counted(size, 'byte')} "
            f"{noun(size, 'is', 'are')} not a whole number of "
            f"samples of {counted(n_channels, 'channel')} x {sample // n_channels} bytes ({sample} "
            f"bytes each; {size // sample} whole, {counted(size % sample, 'byte')} over): it is "
            "cut, or its "
            "header gives the wrong channel count or binary format",
        )
    stated = (
        data_points(path) if suffix in BRAINVISION_HEADERS and extras.get("order") == "C" else None
    )
    if stated is not None and stated != raw.n_times:  # MNE places channels by the file's size
        raise SourceError(
            path,
            f"data file {name} holds {counted(size // sample, 'sample')} per channel ({size} "
            f"bytes), but the header says DataPoints={stated}: its channels are stored one after "
            "another (DataOrientation=VECTORIZED), so every channel after the first would be "
            "read from the wrong place; re-download it, or correct DataPoints",
        )
    if size < expected:
        raise SourceError(
            path,
            f"data file {name} is truncated: {size} bytes, not the {expected} bytes of "
            f"{counted(raw.n_times, 'sample')} of {counted(n_channels, 'channel')} the header "
            "describes: re-download it",
        )
    if size > expected:
        other = _more_channels(size // (sample // n_channels), int(raw.n_times), n_channels)
        field = "EEG.pnts" if suffix == ".set" else "DataPoints"
        return (
            f"data file {name} is longer than its header says: {size} bytes, {size // sample} "
            f"samples; the header's {raw.n_times} samples ({expected} bytes) were read"
            + (f"{other[0]}{field}={raw.n_times}{other[1]}" if other else "")
        )
    return None


__all__ = ["checked_length", "cnt_options", "edf_layout"]
