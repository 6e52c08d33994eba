"""Every format MNE-Python reads (BrainVision, EEGLAB, Neuroscan CNT, GDF, FIF), read lazily.

The header comes from ``mne.io.read_raw(path, preload=False)``; segments from
``raw.get_data(picks, start, stop)``. MNE returns SI units (volts), so every voltage channel
(EEG, EOG, ECG, EMG, ...) gets ``to_uv = 1e6``; the file's own unit, where MNE keeps it
(``raw._orig_units``), is reported as :attr:`Signal.unit`. Where the file stores integers, each
channel's :attr:`Signal.resolution` is the value of one code
(:func:`~eegprep.readers.mne_steps.code_steps`), so that the default encoding quantizes it as it
does EDF; 0.0 for float formats.

Concurrency contract: headers are pure data (they pickle). Each process keeps a small LRU of
opened ``Raw`` objects keyed by path, options and the file's size and mtime, so reading many
segments of one file parses its header once; a changed file is re-opened. ``Raw`` objects read
from disk on every ``get_data`` call and hold no state between calls, so nothing is shared
between processes.

Damaged files: an EDF/BDF is checked against its header's record count before MNE opens it
(MNE would infer the count from the file size and read a truncated file silently), as the EDF
reader does: shorter is refused, longer is read as the header counts it, with a warning. The
data file of a BrainVision (``.eeg``) or EEGLAB (``.fdt``) recording is checked against the
channels and samples of its header (a BrainVision ``MULTIPLEXED`` one against ``DataPoints``
too: shorter is refused, longer read as counted, with a warning); a GDF file's header against
its size and MNE's reader (:mod:`eegprep.readers.gdf_header`); a Neuroscan CNT file's header
likewise (:mod:`eegprep.readers.cnt_header`); a FIF file MNE finds truncated is refused. An EEGLAB
``.set`` is a MATLAB file, checked against the memory budget before MNE loads it. A samples
file found nowhere (:func:`~eegprep.readers.companions.missing_data`) is named with the field
that names it, and several files that match its name in letter case alone
(:func:`~eegprep.readers.companions.ambiguous_companion`) are named; an EEGLAB ``.set`` reaches
MNE through :func:`~eegprep.readers.set_files.openable_set`, so that MNE reads the samples file
eegprep found (another letter case, never outside the set's folder); BrainVision headers are
checked and made openable by :mod:`eegprep.readers.vhdr`.

Events: a file's own are counted from its bytes before MNE builds an annotation of each, and
more than :data:`~eegprep.readers.event_count.MAX_EVENTS` refuse it in one line: an EDF/BDF's
TALs (:func:`~eegprep.readers.edf_records.check_tal_count`), a CNT or GDF event table's size,
a FIF file's annotations (:mod:`eegprep.readers.fif_annotations`), an EEGLAB ``EEG.event``'s
dimensions (:func:`~eegprep.readers.set_header.check_set_events`, before the walk of the
file's elements), a BrainVision marker file's ``Mk`` lines.

Repeated labels: MNE renames a repeated label ``T8-P8`` to ``T8-P8-0``, ``T8-P8-1``; the
header gives the labels back as the file has them, so that channel mapping keeps the first
and reports the others, as for every other reader.
"""

from __future__ import annotations

import ast
import functools
import inspect
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

import numpy as np

from eegprep.base.errors import EegprepError, SourceError, UsageError
from eegprep.base.files import FileVersion, file_version
from eegprep.base.limits import check_allocation
from eegprep.base.path_limits import shown_path
from eegprep.base.validation import invalid_value
from eegprep.readers.base import (
    DEFAULT_UNIT,
    NAN_FILLED,
    Header,
    Reader,
    Signal,
    check_option_names,
    check_readable,
    check_segment,
    check_sfreq,
    empty_channels_note,
    exception_summary,
    frozen_options,
    option_number,
    thawed_options,
    unit_or_default,
)
from eegprep.readers.channel_labels import marked, marker_kind
from eegprep.readers.cnt_events import place_cnt_events
from eegprep.readers.cnt_header import cnt_start
from eegprep.readers.companions import (
    BRAINVISION_HEADERS,
    data_files,
    missing_markers,
    special_companion,
    vhdr_companions,
)
from eegprep.readers.damaged_channels import (
    LAYOUT_KEY,
    check_damaged,
    damaged_channels,
    damaged_note,
)
from eegprep.readers.edf import EdfReader
from eegprep.readers.fif_part_events import with_every_part
from eegprep.readers.fif_refs import check_next_parts
from eegprep.readers.fif_tags import cut_problem
from eegprep.readers.gdf_own import gdf_own_header, mixed_sizes
from eegprep.readers.gdf_records import gdf_nan_channels, gdf_records
from eegprep.readers.gdf_values import gdf_annotations
from eegprep.readers.kept_time import moved
from eegprep.readers.mne_empty import empty_positions, nan_positions
from eegprep.readers.mne_events import (
    before_first_sample,
    cropped_events,
    fif_crops,
    file_events,
    gaps_cut,
    segment_onsets,
)
from eegprep.readers.mne_gaps import (
    Skips,
    edf_file_start,
    edf_gaps,
    edf_lead_warning,
    skip_spans,
    without_skips,
)
from eegprep.readers.mne_held import names_for_mne, read_through
from eegprep.readers.mne_lead import (
    Lead,
    eeglab_lead,
    moved_start,
    segment_events,
    segment_start,
)
from eegprep.readers.mne_lengths import checked_length
from eegprep.readers.mne_own_reads import own_reads, own_segment
from eegprep.readers.mne_pauses import stated_gaps
from eegprep.readers.mne_prechecks import check_before_mne
from eegprep.readers.mne_problems import joins, open_problem
from eegprep.readers.mne_rates import StoodFor, stood_for_rate
from eegprep.readers.mne_steps import code_steps, stated_ranges
from eegprep.readers.mne_units import (
    brainvision_scaled,
    edf_scaled,
    edf_texts,
    eeglab_unit,
    fif_unit,
)
from eegprep.readers.read_once import one_read
from eegprep.readers.set_events import unread_events
from eegprep.readers.vhdr import read_vhdr, written_units
from eegprep.readers.vmrk import check_vmrk

if TYPE_CHECKING:
    from mne.io import BaseRaw

# suffix -> (MNE reader function, format name for messages)
_FORMATS: dict[str, tuple[str, str]] = {
    ".vhdr": ("read_raw_brainvision", "BrainVision"),
    ".ahdr": ("read_raw_brainvision", "BrainVision"),  # Analyzer's export: one more channel
    ".set": ("read_raw_eeglab", "EEGLAB"),
    ".cnt": ("read_raw_cnt", "Neuroscan CNT"),
    ".gdf": ("read_raw_gdf", "GDF"),
    ".fif": ("read_raw_fif", "FIF"),
    ".edf": ("read_raw_edf", "EDF"),
    ".bdf": ("read_raw_bdf", "BDF"),
}
# Parameters of the MNE reader functions that the reader sets itself.
_RESERVED = frozenset({"input_fname", "fname", "preload", "verbose"})
_FIFF_UNIT_V = 107  # mne.io.constants.FIFF.FIFF_UNIT_V: the channel's data are volts
_VOLTAGE_TYPES = frozenset({"eeg", "eog", "ecg", "emg", "seeg", "ecog", "dbs", "bio"})
_RAW_CACHE_SIZE = 8
_OWN_OPTIONS = ("default_unit",)  # eegprep's options, never passed to MNE (see MneReader)
_DUPLICATES = re.compile(r"found duplicates for: (\{.*?\})")
_TRUNCATED = ("Invalid tag with only",)  # MNE's warnings that mean the file ends too early


class MneReader(Reader):
    """Reader for the formats of ``mne.io.read_raw``.

    Options
    -------
    **options
        Passed to the format's MNE reader, e.g. ``eog=["HEOG", "VEOG"]``, ``misc=[...]`` for
        ``read_raw_brainvision``; ``data_format="int32"``, ``date_format="dd/mm/yy"`` for
        ``read_raw_cnt`` (SEED's Neuroscan files). Names are checked against that function's
        signature: an unknown one raises :class:`~eegprep.base.errors.UsageError`. ``preload`` is
        always ``False`` (passing ``preload=False`` is allowed, anything else is refused).
    default_unit : str
        eegprep's own, never passed to MNE: the unit of a channel whose file states none or
        one that is no voltage (the manifest's ``unit``; default ``'uV'``), see
        :func:`~eegprep.readers.base.unit_or_default`.
    """

    name = "mne"

    @classmethod
    def read_header(cls, path: str, *, part: str | None = None, **options: Any) -> Header:
        """Parse the header through MNE; see :meth:`Reader.read_header`.

        EDF and BDF files given no MNE option go to eegprep's own EDF reader (the header says
        ``reader="edf"``, and :meth:`read_segment` hands it back): MNE resamples the slower
        channels of a mixed-rate file to the fastest rate itself, which eegprep's reader does
        not (it keeps each rate and time base exact), and crops annotations at the end. Given
        MNE options, the slower channels are read by eegprep's EDF reader all the same
        (:mod:`eegprep.readers.mne_own_reads`). A GDF file whose channels store samples of
        different sizes, which MNE does not open, is read by eegprep alone
        (:mod:`eegprep.readers.gdf_own`).
        """
        check_readable(path)
        options = dict(options)
        own = {name: options.pop(name) for name in _OWN_OPTIONS if name in options}
        if PurePath(path).suffix.lower() in (".edf", ".bdf") and not options:
            return EdfReader.read_header(path, part=part, **own)
        default_unit = str(own.get("default_unit", DEFAULT_UNIT))
        options = _check_options(path, options)
        # (inside one_read, as every reader's read_header: each header file parsed once)
        if PurePath(path).suffix.lower() == ".gdf" and mixed_sizes(path):  # MNE cannot
            return gdf_own_header(path, options, part, default_unit, cls.name)
        return cls._open_described(path, options, part, default_unit)

    @classmethod
    def _open_described(
        cls, path: str, options: dict[str, Any], part: str | None, default_unit: str
    ) -> Header:
        """:meth:`_described` of the file MNE opened, a damaged field MNE parsed but cannot
        interpret refused in one line."""
        raw, notes = _raw_and_notes(path, frozen_options(options))
        try:
            return cls._described(path, raw, notes, options, part, default_unit)
        except EegprepError:
            raise
        except Exception as exc:  # a damaged field MNE parsed but cannot interpret
            raise SourceError(
                path,
                f"MNE cannot describe this {_format(path)[1]} file's channels, events or "
                f"timing: {exception_summary(exc)}; check it is complete",
            ) from exc

    @classmethod
    def _described(
        cls,
        path: str,
        raw: BaseRaw,
        notes: tuple[str, ...],
        options: dict[str, Any],
        part: str | None,
        default_unit: str = DEFAULT_UNIT,
    ) -> Header:
        """The header of an opened ``raw``: MNE's values, scaled by the units the file states
        where MNE reads them otherwise (:mod:`eegprep.readers.mne_units`), and by
        ``default_unit`` where it states none."""
        check_sfreq(path, float(raw.info["sfreq"]))
        rate = stood_for_rate(path, raw)  # (a rounded field's rate)
        sfreq = rate.sfreq
        n_source, size_warning = checked_length(path, raw, options)
        gdf = PurePath(path).suffix.lower() == ".gdf"  # (its events are its table's codes)
        skips = Skips(() if gdf else skip_spans(raw, n_source), n_source)
        n_samples = skips.n_kept
        orig_units: dict[str, str] = dict(getattr(raw, "_orig_units", None) or {})
        units = written_units(path, [orig_units.get(name, "") for name in raw.ch_names])
        labels, units = edf_texts(path, raw, _file_labels(raw.ch_names, notes), units)
        signals = _signals(raw, sfreq, n_samples, units, labels, default_unit)
        at = _timing(path, raw, notes, options, rate, skips, n_source)
        signals = _units_put_right(path, raw, signals, units, default_unit, options)
        signals, own = own_reads(path, raw, signals, labels, default_unit, skips.spans)
        signals = marked(signals)  # (a marker typed stim, its scale MNE's)
        if gdf:
            timed = gdf_annotations(path, sfreq, n_samples)
            if timed is not None:
                at = replace(at, events=list(timed[0]), events_warning=timed[1])
        empty, notes_empty = _empty_signals(path, raw, labels)
        kept = tuple(i for i in range(len(signals)) if i not in empty)
        damaged = damaged_channels(path, kept, default_unit)  # (their samples alone refused)
        damage_note = damaged_note(damaged, [labels[i] for i in kept])
        return Header(
            path=path,
            reader=cls.name,
            signals=tuple(signals[i] for i in kept),
            duration=n_samples / sfreq,
            annotations=tuple(at.events),
            part=part,
            meta=_meta(path, raw, options, at.lead),
            options=frozen_options(options),
            layout=(
                ("mne_names", tuple(raw.ch_names)),
                ("mne_n_times", int(raw.n_times)),
                ("gdf_own_rate", tuple(kept.index(i) for i in own.gdf if i in kept)),
                ("edf_own_rate", tuple((kept.index(i), k) for i, k in own.edf if i in kept)),
                ("edf_header", own.edf_header),
                ("mne_skips", skips.spans),
                ("mne_picks", kept),
                (LAYOUT_KEY, damaged),
            ),
            warnings=_said(path, (size_warning, rate.note, *notes_empty, damage_note), at),
            joins=at.joined,
            gaps=at.gaps,
            gaps_stated=at.stated,
            empty_channels=tuple(labels[i] for i in empty),
        )

    @classmethod
    def read_into(
        cls, header: Header, picks: Sequence[int], start: int, stop: int, out: np.ndarray
    ) -> None:
        if header.reader == EdfReader.name:  # decoded straight into ``out``, as EdfReader does
            EdfReader.read_into(header, picks, start, stop, out)
        else:
            super().read_into(header, picks, start, stop, out)

    @classmethod
    def read_segment(
        cls, header: Header, picks: Sequence[int], start: int, stop: int
    ) -> np.ndarray:
        """Samples ``[start, stop)`` of ``picks`` in microvolts, float32, shape (n_picks, n)."""
        if header.reader == EdfReader.name:  # an EDF/BDF header from eegprep's own reader
            return EdfReader.read_segment(header, picks, start, stop)
        check_segment(header, picks, start, stop)
        check_damaged(header, picks)
        if start == stop:  # MNE refuses empty ranges
            return np.empty((len(picks), 0), dtype=np.float32)
        check_readable(header.path)
        layout = dict(header.layout)
        own = own_segment(header, picks, start, stop)  # (channels MNE misreads: eegprep's)
        if own is not None:
            return own
        raw = _raw(header.path, header.options)
        if raw.n_times != layout["mne_n_times"] or tuple(raw.ch_names) != layout["mne_names"]:
            raise SourceError(
                header.path, "the file changed since its header was read: read the header again"
            )
        # MNE's float64 samples, then float32 microvolts
        check_allocation(header.path, len(picks) * (stop - start) * 12, "reading samples")
        skips = Skips(layout.get("mne_skips", ()), int(layout["mne_n_times"]))
        try:  # the samples kept, around MNE's filled-in spans (one piece: no copy)
            mne_picks = [layout.get("mne_picks", picks)[p] for p in picks]  # (MNE's order)
            parts = [raw.get_data(picks=mne_picks, start=a, stop=b)
                     for a, b in skips.pieces(start, stop)]  # fmt: skip
            data = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)
        except Exception as exc:
            problem = f"MNE cannot read samples: {exception_summary(exc)}"
            if isinstance(exc, AssertionError) and header.path.lower().endswith(".set"):
                problem = (  # MNE asserts its data has the shape the .set's fields give
                    "its samples are not the shape the .set's nbchan and pnts give "
                    f"({problem}): save it again in EEGLAB"
                )
            raise SourceError(header.path, problem) from exc
        factors = np.array([header.signals[p].to_uv for p in picks], dtype=np.float64)
        np.multiply(data, factors[:, None], out=data)
        return data.astype(np.float32)


def _format(path: str) -> tuple[str, str]:
    suffix = PurePath(path).suffix.lower()
    if suffix not in _FORMATS:
        known = ", ".join(sorted(_FORMATS))
        raise UsageError(f"{shown_path(path)}: the mne reader reads {known}; got suffix {suffix!r}")
    return _FORMATS[suffix]


_GDF_PICKS = ("exclude", "include")
"""MNE's GDF options that leave channels out: with either, MNE 1.13's ``read_raw_gdf`` returned
the first channels' samples under the kept channels' names (``exclude=["ch0"]`` of three gave
``ch1`` the samples of ``ch0``), so a GDF file is refused with them."""


def _check_options(path: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """Options for the format's MNE reader, checked against its signature; ``preload`` dropped."""
    import mne

    func, fmt = _format(path)
    options = dict(options)
    preload = options.pop("preload", False)
    if preload is not False:
        raise invalid_value(
            "preload", preload, expected="false (the mne reader always reads lazily)"
        )
    allowed = set(inspect.signature(getattr(mne.io, func)).parameters) - _RESERVED
    check_option_names(options, allowed, f"mne reader ({fmt}, mne.io.{func})")
    picked = [name for name in _GDF_PICKS if options.get(name)]
    if fmt == "GDF" and picked:
        raise SourceError(
            path,
            f"the mne reader's option {picked[0]!r} on a GDF file: MNE's GDF reader gives the "
            "channels it keeps other channels' samples; read every channel and leave channels "
            "out with the manifest's [channels] exclude",
        )
    return options


def _raw(path: str, options: tuple[tuple[str, Any], ...]) -> BaseRaw:
    """The opened Raw for ``path``, from this process's cache when the file is unchanged (its
    header files parsed once if it is opened: :mod:`eegprep.readers.read_once`)."""
    with one_read():
        return _raw_and_notes(path, options)[0]


def _raw_and_notes(
    path: str, options: tuple[tuple[str, Any], ...]
) -> tuple[BaseRaw, tuple[str, ...]]:
    """The opened Raw and the warnings MNE gave while opening it."""
    head = file_version(path)
    others = _data_files(path, head)
    stamp = (head, *map(_file_stamp, others))
    return _open_raw(path, options, stamp)


def _file_stamp(path: str) -> FileVersion:
    """:func:`~eegprep.base.files.file_version` of a companion file, ``(0, -1, 0, 0)`` once it
    is gone (removed since the header was last parsed: the Raw is opened again, and MNE says
    what is missing)."""
    try:
        return file_version(path)
    except FileNotFoundError:
        return (0, -1, 0, 0)


@functools.lru_cache(maxsize=256)
def _data_files(path: str, version: FileVersion) -> tuple[str, ...]:
    """The files ``path``'s format reads with it, parsed once per version of the header (this
    runs on every segment read)."""
    return tuple(data_files(path))


@functools.lru_cache(maxsize=_RAW_CACHE_SIZE)
def _open_raw(
    path: str, options: tuple[tuple[str, Any], ...], stamp: tuple[Any, ...]
) -> tuple[BaseRaw, tuple[str, ...]]:
    func, fmt = _format(path)
    check_before_mne(path, thawed_options(options))
    # every file MNE opens, as a descriptor opened without waiting and checked (mne_held.py)
    with names_for_mne(path) as (opened, repeats, held):
        if fmt == "FIF":  # MNE opens the parts it names as written: none outside (fif_refs.py)
            check_next_parts(opened, path)
        try:  # the format's own function: mne.io.read_raw guesses wrongly for "..edf"
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                raw = _opener(fmt, func, path)(
                    opened, preload=False, verbose="warning", **thawed_options(options)
                )
                if fmt == "Neuroscan CNT":  # MNE puts its events early (cnt_events.py)
                    place_cnt_events(raw, opened, caught)
        except Exception as exc:
            cut = cut_problem(opened) if fmt == "FIF" else None  # (MNE names another cause)
            problem = cut or open_problem(fmt, exc)
            raise SourceError(path, held.shown(problem) if held else problem) from exc
        if fmt == "FIF":  # MNE reads the first part's annotations alone
            with_every_part(raw, path)
        if held is not None:
            read_through(raw, held)
    notes = tuple(held.shown(str(w.message)) if held else str(w.message) for w in caught)
    if repeats:  # as MNE says it of the formats it reads with repeated labels
        listed = ", ".join(repr(label) for label in sorted(repeats))
        notes += (f"Channel names are not unique, found duplicates for: {{{listed}}}",)
    for note in notes:
        if note.startswith(_TRUNCATED):
            where = note.split(" in file ")[0]
            raise SourceError(path, f"file is truncated ({where}): re-download it")
    return raw, notes


def _opener(fmt: str, func: str, source: str = "") -> Any:
    """The function that opens a file of ``fmt`` (the recording ``source``, given as its held
    name): MNE's ``func``; for BrainVision, eegprep's (given the header ``source``, whose
    parse it shares, not MNE's copy of it); for EEGLAB, MNE's reader
    keeping the ``boundary`` events as MNE read them (:mod:`eegprep.readers.set_raw`: the file
    is parsed once, not again for them)."""
    import mne

    if fmt == "BrainVision":  # text data read by eegprep (vhdr_raw.py), any layout
        from eegprep.readers.vhdr_raw import read_raw_brainvision

        return functools.partial(read_raw_brainvision, source=source or None)
    if fmt == "EEGLAB":
        try:
            from eegprep.readers.set_raw import read_raw_eeglab
        except ImportError:  # a release of MNE that moved RawEEGLAB: its boundaries read again
            return mne.io.read_raw_eeglab
        return read_raw_eeglab
    return getattr(mne.io, func)


def _file_labels(names: Sequence[str], notes: Sequence[str]) -> list[str]:
    """Labels as the file has them: MNE's renamed repeats (``T8-P8-0``, ``T8-P8-1``) undone.

    Only labels that MNE's own warning names as repeated are restored, so a file whose labels
    really end in ``-0`` keeps them.
    """
    repeated: set[str] = set()
    for note in notes:
        hit = _DUPLICATES.search(note)
        if hit:
            try:
                repeated |= {str(v) for v in ast.literal_eval(hit.group(1))}
            except (ValueError, SyntaxError):
                continue
    out = []
    for name in names:
        stem, _, suffix = name.rpartition("-")
        digits = suffix.isascii() and suffix.isdigit()  # (``-٣``: a label's own text)
        mne_suffix = digits or (len(suffix) == 1 and suffix.isalpha())
        out.append(stem if stem in repeated and mne_suffix else name)
    return out


def _signals(
    raw: BaseRaw,
    sfreq: float,
    n_samples: int,
    units: Sequence[str],
    labels: Sequence[str],
    default_unit: str,
) -> tuple[Signal, ...]:
    """Each channel of ``raw`` as a :class:`Signal` (``sfreq`` in Hz, ``n_samples`` kept), in
    the units the file states (``default_unit`` where it states none)."""
    return tuple(
        _signal(ch, kind, sfreq, n_samples, unit, label, *adc, default_unit=default_unit)
        for ch, kind, unit, label, adc in zip(
            raw.info["chs"],
            raw.get_channel_types(),
            units,
            labels,
            zip(code_steps(raw), stated_ranges(raw), strict=True),
            strict=True,
        )
    )


def _kinds(raw: BaseRaw) -> list[str]:
    """Each channel's type: MNE's, a marker label's ``stim`` where MNE types it EEG or misc
    (:func:`~eegprep.readers.channel_labels.marker_kind`: MNE's readers type only ``STI 014``,
    ``Status`` or ``Trigger`` so, by name or by ``stim_channel``)."""
    return [marker_kind(n, k) for n, k in zip(raw.ch_names, raw.get_channel_types(), strict=True)]


@dataclass(frozen=True, kw_only=True)
class _Timing:
    """Where a file's events fall on its kept samples, where its segments join and what it
    paused (gaps, in seconds), with the warnings that come with them."""

    events: Sequence[Any]
    joined: Any  # the header's ``joins``
    joins_warning: str | None
    gaps: Any  # the header's ``gaps``
    stated: bool  # the gaps are the file's own (its time counts the samples stored)
    events_warning: str | None
    lead: Lead  # the markers at or before the first sample
    unread: str | None = None  # a .set's events whose latency is no number, left out


def _timing(
    path: str,
    raw: BaseRaw,
    notes: tuple[str, ...],
    options: Mapping[str, Any],
    rate: StoodFor,
    skips: Skips,
    n_source: int,
) -> _Timing:
    """The events, joins and gaps of the file MNE opened as ``raw`` (``n_source`` samples,
    ``skips`` removed), as :meth:`MneReader._described` puts them in its header."""
    sfreq = rate.sfreq
    gaps = skips.removed_seconds(sfreq)
    bv_types = bool(options.get("ignore_marker_types", False))
    found = file_events(path, raw, rate.events_at, plain=bv_types)
    events, n_dropped = moved(without_skips(found), gaps)
    segments = segment_onsets(path, sfreq, n_source)
    joined, joins_warning = joins(
        raw, segments, skips, n_dropped, sfreq=sfreq, stretch=rate.stretch
    )
    stated = False  # (gaps the file states, its own time counting the samples stored)
    if joined and not gaps and joins_warning:  # pauses a BrainVision or EEGLAB file states
        gaps, said = stated_gaps(path, raw, joined, sfreq)
        joins_warning, stated = joins_warning + said, bool(gaps)
    lead = eeglab_lead(path, raw)  # markers at or before the first sample: no join
    events = segment_events(path, events, sfreq, n_source, ignore_marker_types=bv_types)
    events = lead.events(events)
    notes = (*notes, *fif_crops(path, raw))  # (MNE's FIF reader crops them unsaid)
    events_warning = cropped_events(
        notes, n_source / sfreq, gaps_cut(path, raw), lead.cut, before_first_sample(path, raw)
    )
    gapped = edf_gaps(path)  # MNE reads an EDF's records end to end, gaps unsaid
    if gapped is not None:  # (and times the first record's texts from the start time)
        events, events_warning = list(gapped.events), None  # (the rule cuts them: settle)
    if gapped is not None and gapped.gaps:
        joined, joins_warning = gapped.joins, gapped.warning
        gaps, stated = gapped.gaps, False
    return _Timing(
        events=events, joined=joined, joins_warning=joins_warning, gaps=gaps, stated=stated,
        events_warning=events_warning, lead=lead, unread=unread_events(raw),
    )  # fmt: skip


def _empty_signals(
    path: str, raw: BaseRaw, labels: Sequence[str]
) -> tuple[tuple[int, ...], list[str]]:
    """The positions of the signals that hold no sample (an EDF's 0 per record) or NaN at
    every sample, sorted, and a note for each kind found."""
    empty = empty_positions(path, raw, labels)  # an EDF's signals of 0 samples a record
    records = gdf_records(path) if PurePath(path).suffix.lower() == ".gdf" else None
    if records is not None and len(records.n_per_record) == len(labels):  # (in its own type)
        filled = [i for i in range(len(labels)) if i not in empty]
        unfilled = tuple(gdf_nan_channels(path, records, filled, labels))
    else:
        unfilled = nan_positions(path, raw, labels, empty)  # NaN at every sample
    notes_empty = [
        empty_channels_note([labels[i] for i in found], detail)
        for found, detail in ((empty, "0 per record"), (unfilled, NAN_FILLED))
        if found
    ]
    return tuple(sorted((*empty, *unfilled))), notes_empty


def _said(path: str, first: tuple[str | None, ...], at: _Timing) -> tuple[str, ...]:
    """The header's warnings in the order shown: ``first`` (size, rate, empty signals), then
    the markers', the events' (and a .set's events left out), the joins', the lead's and the
    moved files'."""
    return tuple(
        w
        for w in (
            *first,
            _markers_note(path),
            at.events_warning,
            at.unread,
            at.joins_warning,
            at.lead.warning(),
            edf_lead_warning(path),
            *_moved(path),
        )
        if w
    )


def _signal(
    ch: Mapping[str, Any],
    kind: str,
    sfreq: float,
    n_samples: int,
    orig_unit: str,
    label: str,
    step: float = 0.0,
    stated: tuple[float, float] | None = None,
    *,
    default_unit: str = DEFAULT_UNIT,
) -> Signal:
    """One channel: MNE's volts become microvolts; stim and other kinds stay as they are.

    A channel counts as a voltage when MNE stores it in volts and it is of a voltage type
    (EEG, EOG, ECG, EMG, ...) or misc: MNE's values are then volts as MNE reads the file (a
    FIF misc channel whose FIFF unit is volts, as Neuromag's ``MISC`` inputs are; an EDF or
    GDF misc channel, whose values MNE scaled as volts whatever its unit), and the format's
    own unit text, where there is one, puts them right (:mod:`~eegprep.readers.mne_units`:
    one that is no voltage, or none, is the manifest's ``unit``). A misc
    channel MNE keeps unitless, because it does not know the file's spelling of a voltage
    (BrainVision ``mv``, ``µv``, ``microvolts``: MNE knows ``V mV µV uV nV`` only), holds its
    values in that unit, and is scaled from it. ``step`` is its ADC step in MNE's units
    (:func:`~eegprep.readers.mne_steps.code_steps`), 0.0 when unknown; ``stated`` its converter
    range in MNE's units where the file states one
    (:func:`~eegprep.readers.mne_steps.stated_ranges`). A misc channel, or one of a voltage
    type (a FIF EEG channel unitless), whose unit is no voltage, or none, is in
    ``default_unit`` (the manifest's), as every reader takes it
    (:func:`~eegprep.readers.base.unit_or_default`). A FIF channel's values carry its
    ``unit_mul``, which MNE leaves out (:func:`~eegprep.readers.mne_units.fif_unit`).
    """
    in_volts = int(ch["unit"]) == _FIFF_UNIT_V
    volts = in_volts and (kind in _VOLTAGE_TYPES or kind == "misc")
    k, spelled = fif_unit(ch) if volts and not orig_unit else (1.0, "V")
    unit = orig_unit or (spelled if volts else _fiff_unit_name(int(ch["unit"])))
    measured = kind == "misc" or kind in _VOLTAGE_TYPES  # a stim channel's codes stay codes
    own = unit_or_default(unit, default_unit) if measured and not in_volts else None
    to_uv = 1e6 * k if volts else own or 1.0
    return Signal(
        label=label,
        sfreq=sfreq,
        n_samples=n_samples,
        unit=unit,
        to_uv=to_uv,
        resolution=step * to_uv,
        kind=kind,
        range_uv=None if stated is None else (stated[0] * to_uv, stated[1] * to_uv),
    )


def _units_put_right(
    path: str,
    raw: BaseRaw,
    signals: tuple[Signal, ...],
    units: Sequence[str],
    default_unit: str,
    options: Mapping[str, Any],
) -> tuple[Signal, ...]:
    """The signals of a format whose units MNE reads otherwise than eegprep's rule
    (:mod:`eegprep.readers.mne_units`): EDF/BDF units MNE does not know, EEGLAB's unstated
    one, BrainVision's misc channels; the others as they are."""
    suffix = PurePath(path).suffix.lower()
    if suffix in (".edf", ".bdf"):
        return edf_scaled(raw, signals, units, default_unit)
    if suffix == ".set":
        return tuple(eeglab_unit(s, default_unit) for s in signals)
    if suffix in BRAINVISION_HEADERS:
        scale = option_number(path, options, "scale", 1.0)
        return brainvision_scaled(signals, raw.info["chs"], units, scale, default_unit)
    return signals


def _fiff_unit_name(code: int) -> str:
    """A channel's FIFF unit that is no volts, as its unit text: ``""`` for none
    (``FIFF_UNIT_NONE``, -1, and 0), else ``"FIFF unit <code>"`` (for the ingest's warning)."""
    return "" if code in (-1, 0) else f"FIFF unit {code}"


def _meta(
    path: str, raw: BaseRaw, options: Mapping[str, Any], lead: Lead | None = None
) -> tuple[tuple[str, str], ...]:
    """The header facts the sidecar parsers may use; ``meas_date`` the recording's start at
    its first sample kept (:func:`~eegprep.readers.mne_lead.moved_start` by ``lead``, the
    time removed before it)."""
    import mne

    info = raw.info
    date = info["meas_date"]
    when = date.isoformat() if date is not None else ""
    suffix = PurePath(path).suffix.lower()
    if suffix in (".edf", ".bdf"):  # the EDF reader's (MNE's: a time in no zone called UTC,
        when = edf_file_start(path)  # another date than the header's, no first record's onset)
    elif suffix == ".cnt":  # MNE's: the text read in the reading machine's time zone
        when = cnt_start(path, str(options.get("date_format", "mm/dd/yy")))
    elif suffix in BRAINVISION_HEADERS:  # the New Segment at the first sample's, as written
        start = segment_start(path)  # (no zone stated: not MNE's UTC)
        when = start.isoformat() if start is not None else ""
    when = moved_start(when, lead or Lead())
    return (
        ("format", _format(path)[1]),
        ("meas_date", when),
        ("ch_types", ",".join(_kinds(raw))),
        ("bads", ",".join(info["bads"])),
        ("highpass", f"{info['highpass']:g}"),
        ("lowpass", f"{info['lowpass']:g}"),
        ("first_samp", str(raw.first_samp)),
        ("mne_version", mne.__version__),
    )


def clear_cache() -> None:
    """Forget every cached Raw of this process (tests, or after files were replaced)."""
    _open_raw.cache_clear()
    _data_files.cache_clear()


def _moved(path: str) -> list[str]:
    """A note for each BrainVision data or marker file found elsewhere than its header says."""
    if PurePath(path).suffix.lower() not in BRAINVISION_HEADERS:
        return []
    return [c.note for c in vhdr_companions(path) if c.note]


def _markers_note(path: str) -> str | None:
    """A warning for a BrainVision header whose marker file is missing, or has no markers
    section (:func:`~eegprep.readers.vmrk.check_vmrk`): no events were read."""
    missing = missing_markers(path)
    if missing is None:
        if PurePath(path).suffix.lower() not in BRAINVISION_HEADERS:
            return None
        return check_vmrk(path, read_vhdr(path).n_channels)
    kind = special_companion(path, missing)
    if kind is not None:
        return (
            f"its marker file {missing} (named in the header) is {kind}, not a file: no events "
            "were read"
        )
    return f"its marker file {missing} (named in the header) is missing: no events were read"
