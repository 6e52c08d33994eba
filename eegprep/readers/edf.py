"""EDF, EDF+ and BDF through pyedflib, read block by block.

Signals in one file may have different sampling rates (TUH stores IBI/BURSTS/SUPPR at 1 Hz
beside EEG at 250 Hz): each :class:`~eegprep.readers.base.Signal` carries its own rate, and a
segment request covers signals of one rate. Samples are read as digital integers and scaled to
microvolts in float32 by the file's own calibration (physical = gain * digital + offset).

Before pyedflib sees a file, its size is compared with the header's claim: a file shorter than
``header + n_records * record bytes`` is refused, a longer one is read as its header describes
it and gets a warning (:func:`~eegprep.readers.edf_records.check_file_size`). An ``EDF
Annotations`` signal is read as annotations whether or not the reserved field says ``EDF+``.
"""

from __future__ import annotations

import ctypes
import math
import os
import re
import sys
import threading
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import numpy as np

from eegprep.base.errors import EegprepError, SourceError
from eegprep.base.regular_files import open_regular, regular_path, shown_as
from eegprep.base.wording import counted, noun
from eegprep.readers.base import (
    MAX_SFREQ_HZ,
    Annotation,
    Header,
    Reader,
    Signal,
    check_option_names,
    check_readable,
    check_segment,
    check_sfreq,
    empty_channels_note,
    frozen_options,
    unit_or_default,
)
from eegprep.readers.channel_labels import is_unnamed
from eegprep.readers.edf_dates import edf_meta
from eegprep.readers.edf_gaps import TimedEvents, timed_events
from eegprep.readers.edf_header import (
    EdfFields,
    EdfSignalFields,
    check_data_signals,
    parse_edf_fields,
)
from eegprep.readers.edf_lead import first_record_onset, lead_warning
from eegprep.readers.edf_records import (
    ANNOTATION_LABELS,
    RecordLayout,
    channel_annotations,
    check_file_size,
    check_tal_count,
    count_unknown,
    counted_records,
    header_int,
    parse_layout,
    read_annotation_records,
    read_signals,
)
from eegprep.readers.read_once import once

_OPTIONS = ("default_unit",)


class EdfReader(Reader):
    """EDF/EDF+/BDF reader.

    Options
    -------
    default_unit : str
        Unit assumed when a signal's physical dimension is empty or unknown (default ``'uV'``).
    """

    name = "edf"

    @classmethod
    def read_header(cls, path: str, *, part: str | None = None, **options: Any) -> Header:
        check_readable(path)
        check_option_names(options, _OPTIONS, "edf reader")
        default_unit = str(options.get("default_unit", "uV"))
        head = read_raw_header(path)
        check_data_signals(path, head)  # (before its record duration, which may be 0)
        fields = parse_edf_fields(path, head)  # every number field, named if unusable
        early = _layout_if_parsable(head)  # malformed fields: pyedflib names them below
        warning = check_file_size(path, early) if early is not None else None
        if early is not None:  # before pyedflib's C library builds an annotation each
            check_tal_count(path, early)
        empty = fields.empty_labels  # pyedflib refuses a signal of 0 samples per record
        notes = (empty_channels_note(empty, "0 per record"),) if empty else ()
        try:
            if empty:
                raise _Refused(path, _EMPTY_REFUSAL)
            return cls._through_pyedflib(path, head, fields, default_unit, warning, part, options)
        except _Refused as exc:  # a header pyedflib finds non-compliant or reads otherwise
            own = _own_header(path, head, fields, default_unit, exc.problem)
            # pyedflib refuses every EDF+D (its gaps, if any, our parser reads), and an EDF+
            # whose first record starts a second or more after the start (its own line says
            # it): no fault of the file
            edf_d = fields.continuity == "D" and "discontinuous" in exc.problem
            late = _LATE_REFUSAL in exc.problem and _lead(path, head) >= 1.0
            # and a record count of -1, which the size warning names with the count read
            unclosed = "Datarecords" in exc.problem and count_unknown(path)
            # and an EDF+ whose record stamps disagree with its rounded record duration
            # (the rounding said by its own line: fields.rate_note)
            rounded = fields.rate_note is not None and _LATE_REFUSAL in exc.problem
            # and a damaged calibration field, which the signals' own line names
            uncalibrated = any(map(_no_calibration, fields.data_signals))
            damaged = uncalibrated and bool(_CALIBRATION_REFUSAL.search(exc.problem))
            quiet = edf_d or late or unclosed or rounded or damaged or exc.problem == _EMPTY_REFUSAL
            said = None if quiet else _own_note(exc.problem)
            notes = tuple(w for w in (warning, said, *notes, *own.warnings) if w)
            return replace(
                own, part=part, options=frozen_options(options), warnings=notes,
                empty_channels=empty,
            )  # fmt: skip

    @classmethod
    def _through_pyedflib(
        cls,
        path: str,
        head: bytes,
        fields: EdfFields,
        default_unit: str,
        warning: str | None,
        part: str | None,
        options: dict[str, Any],
    ) -> Header:
        """The header as pyedflib reads it, checked against our own parse (``fields``).

        Raises :class:`_Refused` when pyedflib refuses the file or reads its record duration
        otherwise (the caller then reads the header with :func:`_own_header`)."""
        f = _open(path)
        with _closing(f):
            layout = parse_layout(head)
            kept = _data_signals(path, f, head, layout)
            counts = f.getNSamples()  # one list for every signal (pyedflib builds it per call)
            data = fields.data_signals  # pyedflib's data signals are these, in the same order
            if len(data) != len(kept):
                raise SourceError(path, f"EDF header: {len(data)} data signals by their labels, "
                                  f"{len(kept)} as pyedflib reads it")  # fmt: skip
            read = [
                _damage_of(replace(_pyedflib_fields(f, i), damage=s.damage), default_unit)
                for i, s in zip(kept, data)
            ]
            rates = [_rate(path, f, i, s, fields) for i, s in zip(kept, data)]
            signals = tuple(
                _signal(path, s, rate, default_unit, int(counts[i]))
                for i, s, rate in zip(kept, read, rates, strict=True)
            )
            duration = float(f.file_duration)  # (pyedflib's: the rounded record duration's)
            if fields.rate_note is not None:
                duration = fields.n_records * fields.record_seconds
            plain = len(kept) < f.signals_in_file
            timed = _annotations(f, path, layout, fields.record_seconds, plain=plain)
            lead = first_record_onset(path, layout)
            calibration = tuple(_calibration(s) for s in read)
        return Header(
            path=path,
            reader=cls.name,
            signals=signals,
            duration=duration,
            annotations=channel_annotations(timed.events, [s.label for s in data]),
            part=part,
            meta=_meta(fields, lead),
            options=frozen_options(options),
            layout=(("records", layout), ("calibration", calibration)),
            warnings=(
                *(w for w in (warning, fields.rate_note, timed.warning, lead_warning(lead)) if w),
                *_uncalibrated_notes(read),
            ),
            joins=timed.joins,
            gaps=timed.gaps,
        )

    @classmethod
    def read_segment(
        cls, header: Header, picks: Sequence[int], start: int, stop: int
    ) -> np.ndarray:
        out = np.empty((len(picks), stop - start), dtype=np.float32)
        cls.read_into(header, picks, start, stop, out)
        return out

    @classmethod
    def read_into(
        cls, header: Header, picks: Sequence[int], start: int, stop: int, out: np.ndarray
    ) -> None:
        check_segment(header, picks, start, stop)
        if out.shape != (len(picks), stop - start):
            raise ValueError(f"out has shape {out.shape}, not {(len(picks), stop - start)}")
        if stop == start:
            return
        layout = dict(header.layout)
        records: RecordLayout = layout["records"]
        cal = [layout["calibration"][p] for p in picks]
        for c in cal:
            if isinstance(c, str):
                raise SourceError(header.path, f"{c}: no calibration, so no physical values; "
                                  "leave the channel out (`[channels] exclude`)")  # fmt: skip
        to_uv = np.array([header.signals[p].to_uv for p in picks])
        gains, offsets, centres = (np.array(column) for column in zip(*cal, strict=True))
        try:
            read_signals(
                header.path, records, list(picks), start, stop, out,
                gains=gains * to_uv, offsets=offsets * to_uv, centres=centres,
            )  # fmt: skip
        except (OSError, EOFError) as exc:
            problem = f"cannot read samples: {exc}: the file is truncated or unreadable"
            raise SourceError(header.path, problem) from exc


@once
def read_raw_header(path: str) -> bytes:
    """Fail early, with a clear message, on files that are not EDF/BDF at all.

    The version field is ``0`` padded with spaces (EDF) or ``\\xffBIOSEMI`` (BDF); padded
    with NUL bytes instead, as writers in C pad every field, it is EDF too. Returns the raw
    header (main and signal headers); a record count of -1 (unknown: a recording not closed)
    given as the count of whole records the file holds
    (:func:`~eegprep.readers.edf_records.counted_records`)."""
    with open_regular(path, buffering=-1) as fh:
        head = fh.read(256)
    if len(head) < 256:
        raise SourceError(path, f"EDF header truncated: {len(head)} of 256 bytes")
    version = head[:8]
    if version != b"\xffBIOSEMI" and version.split(b"\x00", 1)[0].rstrip(b" ") != b"0":
        raise SourceError(path, f"not an EDF/BDF file: version field is {version!r}")
    try:  # (a field padded with NUL bytes, not spaces, as some writers in C pad it: read)
        n_signals = header_int(head[252:256])
        header_bytes = header_int(head[184:192])
    except (UnicodeDecodeError, ValueError):
        raise SourceError(path, "EDF header has a malformed signal count or header size") from None
    if n_signals <= 0 or n_signals > 4096:
        raise SourceError(
            path, f"EDF header claims {counted(n_signals, 'signal')} (expected 1..4096)"
        )
    if header_bytes != 256 * (n_signals + 1):
        raise SourceError(
            path,
            f"EDF header size field says {header_bytes} bytes, "
            f"{counted(n_signals, 'signal')} {noun(n_signals, 'needs', 'need')} "
            f"{256 * (n_signals + 1)}",
        )
    with open_regular(path, buffering=-1) as fh:
        full = fh.read(header_bytes)
    if len(full) < header_bytes:
        raise SourceError(path, f"EDF header truncated: {len(full)} of {header_bytes} bytes")
    return counted_records(path, full)


def _layout_if_parsable(head: bytes) -> RecordLayout | None:
    try:
        return parse_layout(head)
    except (UnicodeDecodeError, ValueError):
        return None


def _data_signals(path: str, f: Any, head: bytes, layout: RecordLayout) -> list[int]:
    """pyedflib's indices of the data signals (annotation signals left out).

    pyedflib hides ``EDF Annotations`` signals only when the reserved field says ``EDF+``; in a
    plain EDF it lists them as signals, and they are skipped here.
    """
    n_file = header_int(head[252:256])
    n_data = len(layout.offsets)
    if f.signals_in_file == n_data:
        return list(range(n_data))
    if f.signals_in_file == n_file:
        return [i for i in range(n_file) if f.getLabel(i).strip() not in ANNOTATION_LABELS]
    raise SourceError(
        path,
        f"EDF header lists {counted(n_file, 'signal')}, {n_file - n_data} of them annotation "
        f"signals, but pyedflib found {counted(f.signals_in_file, 'signal')}: the reserved field "
        f"{head[192:236].decode('latin-1').strip()!r} and the labels disagree",
    )


class _Refused(SourceError):
    """pyedflib refused to open the file (its header breaks the EDF+ specification)."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(path, problem)
        self.problem = problem


def _open(path: str) -> Any:
    """pyedflib's reader of ``path``, opened under :data:`_LOCK` (close it with
    :func:`_closing`)."""
    import pyedflib

    _LOCK.acquire()
    try:
        # pyedflib opens by name: give it the descriptor checked to be a regular file
        with regular_path(path) as name, _c_stdout_silenced():
            try:
                return pyedflib.EdfReader(name)
            except Exception as exc:  # (its messages name the file as it was given)
                raise type(exc)(shown_as(str(exc), name, path)) from exc
    except OSError as exc:
        _LOCK.release()
        raise _Refused(path, f"pyedflib cannot open it: {_edf_message(exc, path)}") from exc
    except EegprepError:
        _LOCK.release()
        raise
    except Exception as exc:
        _LOCK.release()
        raise SourceError(path, f"cannot read EDF header: {exc}") from exc


def _edf_message(exc: Exception, path: str) -> str:
    text = str(exc).strip().replace("\n", " ").replace(f"{path}: ", "")
    if "filesize" in text.lower() or "file size" in text.lower():
        return f"{text} (data records fewer than the header claims: the file is truncated)"
    return text


def _pyedflib_fields(f: Any, i: int) -> EdfSignalFields:
    """Signal ``i``'s header fields as pyedflib reads them."""
    return EdfSignalFields(
        label=f.getLabel(i).strip(),
        unit=f.getPhysicalDimension(i).strip(),
        physical_min=f.getPhysicalMinimum(i),
        physical_max=f.getPhysicalMaximum(i),
        digital_min=f.getDigitalMinimum(i),
        digital_max=f.getDigitalMaximum(i),
        samples_per_record=0,  # (not used: pyedflib gives the rate)
    )


def _rate(path: str, f: Any, i: int, own: EdfSignalFields, fields: EdfFields) -> float:
    """pyedflib's sampling rate of signal ``i``, checked against the header's own fields for
    it (``own``, ``fields``' record duration as written): where pyedflib reads the record
    duration otherwise (``1e0`` as 2.46 s), :class:`_Refused` hands the file to our own header
    parser, which reads the field as the number it spells (and checks the rate it gives). A
    rounded duration gives the whole rate it stands for (:meth:`EdfFields.sfreq`)."""
    sfreq = float(f.getSampleFrequency(i))
    seconds = fields.written_seconds
    expected = own.samples_per_record / seconds
    if not math.isclose(sfreq, expected, rel_tol=1e-6):
        raise _Refused(
            path,
            f"pyedflib reads the record duration field as giving signal {own.label!r} "
            f"{sfreq:g} Hz, not the {expected:g} Hz of {seconds:g} s per record",
        )
    return sfreq if fields.rate_note is None else fields.sfreq(own.samples_per_record)


def _signal(
    path: str, s: EdfSignalFields, sfreq: float, default_unit: str, n_samples: int
) -> Signal:
    if sfreq > MAX_SFREQ_HZ:  # named here with the EDF fields, before check_sfreq's line
        raise SourceError(
            path, f"signal {s.label!r}: a sampling rate of {sfreq:g} Hz (above "
            f"{MAX_SFREQ_HZ:g}): the header's record duration or samples per record are wrong"
        )  # fmt: skip
    check_sfreq(path, sfreq)
    factor = unit_or_default(s.unit, default_unit)
    pmin, pmax, dmin, dmax = s.physical_min, s.physical_max, s.digital_min, s.digital_max
    if _no_calibration(s):  # read_into refuses its samples; the other signals are read
        return Signal(s.label, sfreq, n_samples, unit=s.unit, to_uv=float(factor))
    resolution = abs((pmax - pmin) / (dmax - dmin)) * factor
    return Signal(
        label=s.label,
        sfreq=sfreq,
        n_samples=n_samples,
        unit=s.unit,
        to_uv=float(factor),
        resolution=float(resolution),
        range_uv=(float(min(pmin, pmax) * factor), float(max(pmin, pmax) * factor)),
    )


MAX_ABS_UV = 1e15
"""The largest physical value an EDF signal may state, uV (a gigavolt, and far below float32's
3.4e38): above it the calibration is damaged, and its samples would overflow to infinity."""


def _damage_of(s: EdfSignalFields, default_unit: str) -> EdfSignalFields:
    """``s`` with its range beyond :data:`MAX_ABS_UV` (in microvolts by its unit or
    ``default_unit``) said in :attr:`~eegprep.readers.edf_header.EdfSignalFields.damage`:
    its samples alone are refused (they would overflow), not the file."""
    if s.damage:
        return s
    factor = unit_or_default(s.unit, default_unit)
    pmin, pmax = s.physical_min, s.physical_max
    if max(abs(pmin), abs(pmax)) * factor <= MAX_ABS_UV:
        return s
    return replace(
        s, damage=f"signal {s.label!r}: a physical range of {pmin:g} to {pmax:g} "
        f"{s.unit or 'uV'} (beyond +-{MAX_ABS_UV:g} uV): the header's calibration is damaged"
    )  # fmt: skip


def _calibration(s: EdfSignalFields) -> tuple[float, float, float] | str:
    """``(gain, offset, centre)``: physical = gain * (digital - centre) + offset, in the
    signal's unit; or, for a signal without calibration, what is wrong
    (:func:`_no_calibration`).

    ``centre`` is the digital code of physical zero, rounded and kept within the digital range
    (0 for the usual range symmetric about zero): the reader computes in float32, and a large
    offset, ``gain * digital`` nearly cancelled (a range of 8,000,000 to 8,388,607 codes for
    -1 to 1 uV), kept a fraction of the value's digits (3e-6 of it where float32 keeps 6e-8,
    most of one code); counted from that code, what is added is at most half a code, or has
    the sign of every value."""
    problem = _no_calibration(s)
    if problem:
        return problem
    gain = (s.physical_max - s.physical_min) / (s.digital_max - s.digital_min)
    low, high = sorted((s.digital_min, s.digital_max))
    centre = float(min(max(round(s.digital_min - s.physical_min / gain), low), high))
    return gain, s.physical_min + gain * (centre - s.digital_min), centre


def _no_calibration(s: EdfSignalFields) -> str | None:
    """What keeps a signal's digital values from giving physical ones, or None.

    EDF+ requires both ranges to differ, but writers leave a channel they did not record at
    ``0 0`` (pyedflib issue 256): such a channel refuses only a read of its own samples, not
    the recording, whose other channels may be EEG as sound as any. So does a damaged one
    (:attr:`~eegprep.readers.edf_header.EdfSignalFields.damage`: a field that is no finite
    number, a range beyond :data:`MAX_ABS_UV`): a BDF's ``Status`` channel, never kept."""
    if s.damage:
        return s.damage
    if s.digital_max == s.digital_min:
        return f"signal {s.label!r}: digital minimum equals maximum ({s.digital_min:g})"
    if s.physical_max == s.physical_min:
        return f"signal {s.label!r}: physical minimum equals maximum ({s.physical_min})"
    return None


def edf_damage(path: str, default_unit: str) -> list[str]:
    """What leaves each data signal of an EDF/BDF file no physical values (``""`` where nothing
    does), in file order (annotation signals and signals of 0 samples per record left out):
    for the ``mne`` reader, which reads such a file through MNE given MNE options
    (:mod:`eegprep.readers.damaged_channels`). ``[]`` where our own parser refuses the header
    (MNE names what it finds)."""
    try:
        fields = parse_edf_fields(path, read_raw_header(path))
    except SourceError:
        return []
    return [_no_calibration(_damage_of(s, default_unit)) or "" for s in fields.data_signals]


def _uncalibrated_notes(signals: Sequence[EdfSignalFields]) -> list[str]:
    """One warning naming the signals without calibration (their samples are never read), an
    unnamed one's aside: the ingest says its damage on the line naming it as a channel not in
    the vocabulary, one line for both (:func:`~eegprep.readers.damaged_channels.
    damaged_signals`)."""
    problems = [p for s in signals if (p := _no_calibration(s)) and not is_unnamed(s.label)]
    if not problems:
        return []
    return [f"signals without calibration, no samples read: {'; '.join(problems)}"]


_CALIBRATION_REFUSAL = re.compile(r"(Physical|Digital) (Minimum|Maximum)", re.IGNORECASE)
"""pyedflib's words for a calibration field it cannot read (``... compliant (Physical
Minimum)``): a damaged signal's, said by :func:`_uncalibrated_notes`."""

_EMPTY_REFUSAL = "a signal of 0 samples per record"
"""Why :meth:`EdfReader.read_header` reads a file with its own parser, not pyedflib's: pyedflib
refuses a signal of 0 samples per record (``Sample in Datarecord``), no fault of the file."""


def _own_note(problem: str) -> str:
    return (
        f"header not EDF-compliant ({problem.removeprefix('pyedflib cannot open it: ')}): read "
        "with eegprep's own header parser"
    )


def _own_header(
    path: str, head: bytes, fields: EdfFields, default_unit: str, refusal: str
) -> Header:
    """The header of a file pyedflib refused (``refusal``), from :func:`parse_edf_fields`: data
    signals, annotations from every ``EDF Annotations`` signal, and an ``EDF+D`` read as
    continuous when its records are (else refused, as is an ``EDF+C`` whose time-keeping
    annotations give gaps: :func:`_check_contiguous`)."""
    try:
        layout = parse_layout(head)
    except (UnicodeDecodeError, ValueError):
        raise SourceError(path, refusal) from None
    data = tuple(_damage_of(s, default_unit) for s in fields.data_signals)  # (not empty)
    signals = tuple(
        _signal(path, s, fields.sfreq(s.samples_per_record), default_unit,
                s.samples_per_record * fields.n_records)
        for s in data
    )  # fmt: skip
    timed = _timed_events(path, layout, fields.record_seconds, fields.continuity)
    lead = first_record_onset(path, layout)
    return Header(
        path=path,
        reader=EdfReader.name,
        signals=signals,
        duration=fields.n_records * fields.record_seconds,
        annotations=channel_annotations(timed.events, [s.label for s in data]),
        meta=_meta(fields, lead),
        layout=(("records", layout), ("calibration", tuple(_calibration(s) for s in data))),
        warnings=tuple(
            w
            for w in (
                fields.rate_note,
                timed.warning,
                lead_warning(lead),
                *_uncalibrated_notes(data),
            )
            if w
        ),
        joins=timed.joins,
        gaps=timed.gaps,
    )


def _timed_events(path: str, layout: RecordLayout, seconds: float, continuity: str) -> TimedEvents:
    """The events of the file's annotation signals on the samples as read, the joins its
    records' time-keeping annotations give (:attr:`Header.joins`, s), the gaps' spans and the
    warning on them (:mod:`eegprep.readers.edf_gaps`); ``seconds``: one record's duration;
    ``continuity``: the header's ``D``, ``C`` or ``""``."""
    tals = read_annotation_records(path, layout)
    fastest = max(layout.samples_per_record, default=1)
    return timed_events(path, tals.annotations, tals.record_onsets, seconds, fastest, continuity)


def _annotations(
    f: Any, path: str, layout: RecordLayout, seconds: float, *, plain: bool
) -> TimedEvents:
    """The file's annotations, joins, gaps and the warning on them: pyedflib's for EDF+ (which
    refuses a file whose records do not follow on: :func:`_own_header` reads it), our own TAL
    parser's for a plain EDF that carries an annotation signal (``plain``), whose time-keeping
    annotations may leave gaps between its records (``seconds`` long): :func:`_timed_events`.
    A text that is empty or blanks marks no event, from either parser."""
    if plain:
        return _timed_events(path, layout, seconds, "")
    try:
        with _c_stdout_silenced(), warnings.catch_warnings():
            # pyedflib warns of each text that is not UTF-8, in words that name nothing
            # ("Could not decode string '{s=}'"), and reads it as Latin-1, as older writers
            # wrote it: the text is read right, and the warning reached the terminal
            warnings.filterwarnings("ignore", _PYEDFLIB_LATIN1, UserWarning)
            onsets, durations, texts = f.readAnnotations()
    except Exception:  # a broken annotation channel does not stop the EEG
        return TimedEvents()
    out = []
    for onset, duration, text in zip(onsets, durations, texts):
        label = str(text).strip()
        if not label:  # an empty annotation marks no event (parse_tals; pyedflib keeps it)
            continue
        dur = float(duration) if float(duration) > 0 else 0.0
        out.append(Annotation(float(onset), dur, label))
    return TimedEvents(tuple(out))


_PYEDFLIB_LATIN1 = "Could not decode string"
"""The start of pyedflib's warning on a text it decodes as Latin-1, not UTF-8."""


def _meta(fields: EdfFields, lead: float) -> tuple[tuple[str, str], ...]:
    """The start, sex and equipment the header states, from our own parse for every file
    (pyedflib's or not): :func:`~eegprep.readers.edf_dates.edf_meta`, the start moved by the
    first record's time-keeping onset ``lead`` s (:mod:`eegprep.readers.edf_lead`). Nothing
    identifying."""
    return edf_meta(fields.startdate, fields.starttime, fields.patient, fields.recording, lead)


_LATE_REFUSAL = "not EDF(+) or BDF(+) compliant"
"""pyedflib's words for a file its C library finds non-compliant; it says so, among other
faults, of an EDF+ whose first record's time-keeping onset is a second or more (it takes that
onset for the start's fraction of a second)."""


def _lead(path: str, head: bytes) -> float:
    """The first record's time-keeping onset, s (0 where the layout is malformed)."""
    try:
        return first_record_onset(path, parse_layout(head))
    except (UnicodeDecodeError, ValueError):
        return 0.0


# pyedflib refuses to open a file that is already open in this process, and a refused open can
# leave its C library's table of open files inconsistent (reads from another handle then return
# zeros). So a header read opens the file, reads and closes it, under one lock; samples are read
# with numpy (edf_records), without pyedflib.
_LOCK = threading.RLock()


@contextmanager
def _closing(f: Any) -> Iterator[Any]:
    """Close pyedflib's reader ``f`` (from :func:`_open`) and release :data:`_LOCK`."""
    try:
        yield f
    finally:
        try:
            f.close()
        finally:
            _LOCK.release()


@contextmanager
def _c_stdout_silenced() -> Iterator[None]:
    """Send what C code writes to file descriptor 1 to the null device meanwhile.

    pyedflib's C code prints (``filesize 15024 != ...``) on stdout, which would corrupt the
    report of ``eegprep ingest --json``; its message also comes as an exception, which we keep.
    fd 1 is process-wide: callers hold :data:`_LOCK`, and other threads' output to stdout in
    that window (a header parse, milliseconds) is lost too; eegprep prints nothing from workers.
    """
    try:
        sys.stdout.flush()
        saved = os.dup(1)
    except (OSError, ValueError, AttributeError):  # no fd 1 (embedded): nothing to protect
        yield
        return
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 1)
        yield
    finally:
        _flush_c_stdio()
        os.dup2(saved, 1)
        os.close(null)
        os.close(saved)


def _flush_c_stdio() -> None:
    """fflush(NULL): C's buffered stdout is written while fd 1 still points to the null device."""
    try:
        ctypes.CDLL(None).fflush(None)
    except (OSError, AttributeError):  # no C library handle on this platform
        pass
