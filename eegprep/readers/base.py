"""The reader contract: a frozen header first, samples on demand.

A reader parses a file's header into a :class:`Header` (channels, rates, duration, units,
annotations) without touching the samples, then reads any segment ``[start, stop)`` of any
channels as a pure function of that header: no open handles live between calls, so headers
pickle and segments can be read from any process (dask workers included).

Concurrency contract: :meth:`Reader.read_header` and :meth:`Reader.read_segment` only read the
source file; any number of processes may call them on the same file at once.
"""

from __future__ import annotations

import abc
import difflib
import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from eegprep.base.bounds import check_number
from eegprep.base.errors import MAX_MESSAGE_CHARS, SourceError, UsageError, clip_message
from eegprep.base.regular_files import NOTHING_TO_READ, special_file
from eegprep.base.wording import noun
from eegprep.readers.read_once import in_one_read

# Factors that turn a physical dimension, as files spell it, into microvolts.
_PREFIX_TO_UV = {
    "": 1e6,
    "m": 1e3, "milli": 1e3,
    "u": 1.0, "µ": 1.0, "μ": 1.0, "micro": 1.0,
    "n": 1e-3, "nano": 1e-3,
}  # fmt: skip
_UNIT_TO_UV: dict[str, float] = {
    prefix + volt: factor
    for prefix, factor in _PREFIX_TO_UV.items()
    for volt in ("v", "volt", "volts")
}
_UNIT_TO_UV.update({word + "vol": _PREFIX_TO_UV[word] for word in ("micro", "milli", "nano")})
"""Every spelling of volts with an SI prefix (``uV``, ``µV``, ``mVolt``, ``millivolts``,
``nV``, ``V``), lower case without spaces; and ``microvol``, ``millivol``: ``microvolts``
and ``millivolts`` cut by the 8 characters of an EDF/BDF physical dimension field."""


DEFAULT_UNIT = "uV"
"""The unit of a channel whose file states none, where the manifest names none either."""


def unit_to_uv(unit: str) -> float | None:
    """Factor from a physical unit string (``'uV'``, ``'mV'``, ``'V'``, ``'µV'``) to microvolts.

    Case and spaces are ignored (``UV``, ``u V``, ``Microvolts``; so ``MV`` is millivolts, no
    EEG being in megavolts), as is which micro sign (U+00B5, Latin-1's byte 0xB5, or the Greek
    mu U+03BC) and in which code page its bytes were written and read back
    (:func:`_respelt`: a UTF-8 micro sign read as Latin-1, ``Âµ``; Shift-JIS's Greek mu, bytes
    83 CA, as Nihon Kohden writes it). Returns ``None`` for an empty unit and for any other
    (``a.u.``, ``%``, ``degC``, ``mA``, ``uS``): the caller takes the manifest's unit
    (:func:`unit_or_default`).
    """
    written = unit.strip().replace(" ", "")
    for spelling in (written.lower(), *_respelt(written)):
        if spelling in _UNIT_TO_UV:
            return _UNIT_TO_UV[spelling]
    return None


_READ_AS = ("latin-1", "cp1252")
"""The code pages a reader decodes a header's bytes in when they are no UTF-8 (EDF, GDF 1,
BrainVision's ``Codepage=ANSI``)."""
_WRITTEN_IN = ("utf-8", "shift_jis", "cp437", "cp1253")
"""The code pages a micro sign reaches files in other than Latin-1's byte B5: UTF-8 (C2 B5, CE
BC), Shift-JIS (Japanese systems: Nihon Kohden's 83 CA, a Greek mu), DOS's code page 437
(E6) and Windows' Greek code page 1253 (EC, a Greek mu)."""


def _respelt(unit: str) -> list[str]:
    """``unit`` (as read, case kept) as its writer spelt it, where its bytes were read in another
    code page than they were written in: its characters back to the bytes one of
    :data:`_READ_AS` gave them, decoded in each of :data:`_WRITTEN_IN`, lower case. Empty for
    plain ASCII, which every code page reads alike."""
    if unit.isascii():
        return []
    out = []
    for read_as in _READ_AS:
        try:
            raw = unit.encode(read_as)
        except UnicodeEncodeError:
            continue
        for written_in in _WRITTEN_IN:
            try:
                out.append(raw.decode(written_in).lower())
            except UnicodeDecodeError:
                continue
    return out


def unit_or_default(unit: str, default_unit: str) -> float:
    """Factor to microvolts of a channel in ``unit`` as its file states it, the one rule of
    every reader: a voltage scales exactly; an empty unit, or one that is no voltage (warned
    by the ingest), takes ``default_unit`` (the manifest's ``unit``; microvolts when that is no
    voltage either)."""
    factor = unit_to_uv(unit)
    if factor is None:
        factor = unit_to_uv(default_unit)
    return 1.0 if factor is None else factor


@dataclass(frozen=True)
class Signal:
    """One channel as the source file describes it.

    Attributes
    ----------
    label : str
        Label exactly as stored in the file.
    sfreq : float
        Sampling rate in Hz.
    n_samples : int
        Number of samples in the file.
    unit : str
        Physical dimension as stored (``'uV'``, ``'mV'``, ...); empty when the file has none.
    to_uv : float
        Factor from the reader's physical values to microvolts (1.0 when already microvolts).
    resolution : float
        Size of one quantisation step in microvolts (0.0 when the format stores floats).
    kind : str
        Channel type where the format records one (MNE's ``'eeg'``, ``'meg'``, ``'eog'``,
        ...); empty when it does not (EDF, MATLAB, CSV).
    range_uv : tuple of float or None
        The physical values of the converter's extreme codes, ``(low, high)`` in microvolts
        (EDF/BDF physical minimum and maximum); ``None`` when the format does not say. A
        signal pinned there is clipped.
    """

    label: str
    sfreq: float
    n_samples: int
    unit: str = "uV"
    to_uv: float = 1.0
    resolution: float = 0.0
    kind: str = ""
    range_uv: tuple[float, float] | None = None


@dataclass(frozen=True)
class Annotation:
    """An event in the source's time base (seconds from the start of the recording)."""

    onset: float
    duration: float
    description: str
    channel: str = ""


EMPTY_CHANNEL = "holds no samples"
"""The reason ``dropped_channels`` gives for a channel of :attr:`Header.empty_channels`."""


NAN_FILLED = "every sample NaN"
"""How a format of one rectangular array of floats (EEGLAB, FIF, MATLAB) says a channel holds
no samples: NaN at every sample (the ``detail`` of :func:`empty_channels_note`)."""


def empty_channels_note(labels: Sequence[str], detail: str) -> str:
    """The header's one warning naming the channels that hold no samples, left out;
    ``detail``: how the format says so (``0 per record``, ``every cell empty``)."""
    named = ", ".join(repr(label) for label in labels)
    n = len(labels)
    verb = noun(n, "holds", "hold")
    return f"{noun(n, 'channel', 'channels')} {named} {verb} no samples ({detail}): left out"


@dataclass(frozen=True)
class Header:
    """What a reader learns from a file without reading its samples.

    Attributes
    ----------
    path : str
        Absolute path of the source file.
    reader : str
        Name of the reader that produced it (key in the reader registry).
    signals : tuple of Signal
        Every signal in file order (EDF+ annotation signals excluded).
    duration : float
        Recording length in seconds.
    annotations : tuple of Annotation
        Events stored in the file itself (EDF+ annotations, MNE annotations, ...).
    part : str or None
        Which recording inside a multi-recording file (a MATLAB variable, say).
    meta : tuple of (str, str)
        Other header facts the sidecar parsers may use (EDF's start, sex, equipment; MNE's
        ``meas_date``): never a patient's name, code or birthdate (docs/store-format.md, "What a
        header gives"). Not written to the store.
    options : tuple of (str, Any)
        Reader options the header was read with; :meth:`Reader.read_segment` uses them.
    layout : tuple of (str, Any)
        Reader-private facts :meth:`Reader.read_segment` needs (byte offsets, say); picklable.
    warnings : tuple of str
        What the reader found odd but could read (a file longer than its header says, repeated
        channel labels kept as the file has them); the ingest report lists them.
    joins : tuple of float
        Where the samples stop following on in time (an EDF+D's gap, a BrainVision ``New
        Segment``, an EEGLAB ``boundary``): the start of each continuous stretch after the
        first, seconds from the first sample on the samples as read (end to end), ascending,
        each on a sample of every signal's rate; ``()`` for a continuous recording. The ingest
        filters each stretch alone and records the joins (docs/store-format.md). A marker at
        or before the first sample joins nothing (:mod:`eegprep.readers.mne_lead`).
    gaps : tuple of (float, float)
        The spans ``[start, stop)`` of the recording's clock (s from its first sample as
        acquired, ascending, disjoint) that no sample read covers: an EDF+D's gaps, MNE's
        acquisition skips left out, a BrainVision recording's pauses its ``New Segment``
        dates give, the samples an EEGLAB ``boundary``'s duration says were removed
        (:mod:`eegprep.readers.mne_pauses`). :attr:`annotations` are on the samples read (an
        EDF+D's and MNE's skips moved there by :func:`~eegprep.readers.kept_time.moved`; a
        BrainVision position and an EEGLAB latency count the samples stored); the ingest moves
        a sidecar's events by the spans its times count (:attr:`sidecar_gaps`). ``()`` where
        no time is missing or its length is unknown (a ``New Segment`` without a date, a
        ``boundary`` of NaN duration). Time removed before the first sample (an EEGLAB
        ``boundary`` at latency 0.5) is on no clock: it moves the start in :attr:`meta`
        instead (:mod:`eegprep.readers.mne_lead`).
    gaps_stated : bool
        Whether :attr:`gaps` are only stated by the file (a BrainVision pause its ``New
        Segment`` dates give, the samples an EEGLAB ``boundary`` removed): the file's own time
        counts the samples stored alone (its markers' positions and latencies; MNE's, which
        puts the stretches end to end), and so does a sidecar written from it (mne-bids'
        ``events.tsv``: MNE's onsets and samples). False where the file's own time counts the
        gaps (an EDF+D's record stamps and annotations, MNE's acquisition skips filled in).
    empty_channels : tuple of str
        Labels of the channels the file lists but holds no samples of (an EDF/BDF signal of 0
        samples per record: a channel the recording system disabled), left out of
        :attr:`signals`; each is named in :attr:`warnings`, and the ingest lists it in
        ``dropped_channels``.
    """

    path: str
    reader: str
    signals: tuple[Signal, ...]
    duration: float
    annotations: tuple[Annotation, ...] = ()
    part: str | None = None
    meta: tuple[tuple[str, str], ...] = ()
    options: tuple[tuple[str, Any], ...] = field(default=())
    layout: tuple[tuple[str, Any], ...] = field(default=(), compare=False, repr=False)
    warnings: tuple[str, ...] = ()
    joins: tuple[float, ...] = ()
    gaps: tuple[tuple[float, float], ...] = ()
    gaps_stated: bool = False
    empty_channels: tuple[str, ...] = ()

    @property
    def labels(self) -> list[str]:
        return [s.label for s in self.signals]

    @property
    def clock_duration(self) -> float:
        """Seconds of the recording's clock from its first sample to its end, :attr:`gaps`
        included."""
        return self.duration + sum(b - a for a, b in self.gaps)

    @property
    def sidecar_gaps(self) -> tuple[tuple[float, float], ...]:
        """The :attr:`gaps` a sidecar's times count, as the data file's own time does (the
        ingest moves them by these): all where the file counts them (an EDF+D's, a FIF's
        skips); none where the file only states them (:attr:`gaps_stated`: a BrainVision
        pause, an EEGLAB cut), its time and a sidecar's counting the samples stored."""
        return () if self.gaps_stated else self.gaps

    @property
    def sidecar_duration(self) -> float:
        """Seconds a sidecar's times span (a BIDS onset, a TUH label's stop, its ``#
        duration``): :attr:`duration` and the :attr:`sidecar_gaps`."""
        return self.duration + sum(b - a for a, b in self.sidecar_gaps)

    def option(self, name: str, default: Any = None) -> Any:
        return dict(self.options).get(name, default)

    def meta_dict(self) -> dict[str, str]:
        return dict(self.meta)


class Reader(abc.ABC):
    """Base class of every format reader. Subclasses implement the two class methods.

    ``name`` is the registry key; which suffixes each reader opens is one table,
    :data:`eegprep.readers.SUFFIXES`. Options are keyword arguments from the corpus manifest
    (``[reader.options]``).
    """

    name: ClassVar[str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Each reader's own ``read_header`` and ``parts`` run inside
        :func:`~eegprep.readers.read_once.one_read`: every header file they read is parsed once
        per call, whatever number of checks need it."""
        super().__init_subclass__(**kwargs)
        for name in ("read_header", "parts"):
            method = cls.__dict__.get(name)
            if isinstance(method, classmethod):
                setattr(cls, name, classmethod(in_one_read(method.__func__)))

    @classmethod
    def parts(cls, path: str, **options: Any) -> list[str | None]:
        """Recordings inside one file: ``[None]`` unless the format holds several."""
        return [None]

    @classmethod
    @abc.abstractmethod
    def read_header(cls, path: str, *, part: str | None = None, **options: Any) -> Header:
        """Parse the header. Raises :class:`SourceError` naming the file and the problem."""

    @classmethod
    @abc.abstractmethod
    def read_segment(
        cls, header: Header, picks: Sequence[int], start: int, stop: int
    ) -> np.ndarray:
        """Samples ``[start, stop)`` of the signals ``picks``, in microvolts.

        All picked signals must share one sampling rate. Returns float32 of shape
        ``(len(picks), stop - start)``. Raises :class:`SourceError` when the file is shorter
        than its header claims or cannot be read.
        """

    @classmethod
    def read_into(
        cls, header: Header, picks: Sequence[int], start: int, stop: int, out: np.ndarray
    ) -> None:
        """:meth:`read_segment` written into ``out`` (float32, shape ``(len(picks), stop -
        start)``, rows contiguous) instead of a new array. This default copies; readers that
        can decode straight into ``out`` (EDF, BDF) do, which saves the copy of each block."""
        out[...] = cls.read_segment(header, picks, start, stop)


def check_segment(header: Header, picks: Sequence[int], start: int, stop: int) -> float:
    """Validate a segment request; return the picks' shared sampling rate."""
    if not picks:
        raise ValueError("no channels picked")
    rates = {header.signals[p].sfreq for p in picks}
    if len(rates) != 1:
        raise ValueError(f"picked signals have different sampling rates: {sorted(rates)}")
    n_samples = min(header.signals[p].n_samples for p in picks)
    if not 0 <= start <= stop <= n_samples:
        raise ValueError(f"segment [{start}, {stop}) outside [0, {n_samples})")
    return rates.pop()


def check_readable(path: str) -> None:
    """Raise a :class:`SourceError` for a missing, unreadable or empty file, and for one that
    is no regular file (a FIFO, a device, a socket: named as such, never read)."""
    if not os.path.exists(path):
        raise SourceError(path, "file not found")
    if os.path.isdir(path):
        raise SourceError(path, "is a directory, expected a file")
    kind = special_file(path)
    if kind is not None:  # a FIFO read would wait forever, a device read without end
        raise SourceError(path, f"{kind}, not a file: {NOTHING_TO_READ}")
    if not os.access(path, os.R_OK):
        raise SourceError(path, "permission denied: the file is not readable by this user")
    if os.path.getsize(path) == 0:
        raise SourceError(path, "file is empty (0 bytes): re-download it")


def check_option_names(given: Iterable[str], allowed: Iterable[str], what: str) -> None:
    """Raise a :class:`UsageError` naming the first unknown option, with a suggestion."""
    allowed = sorted(allowed)
    unknown = sorted(set(given) - set(allowed))
    if not unknown:
        return
    close = difflib.get_close_matches(unknown[0], allowed, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise UsageError(
        f"Unknown option {unknown[0]!r} for the {what}; allowed: {', '.join(allowed)}.{hint}"
    )


_EMBEDDED_ERROR = re.compile(r"^\s*[A-Za-z_][\w.]*(?:Error|Exception): (\S.*)$")


def exception_summary(exc: BaseException) -> str:
    """``"TypeName: first line of the message"``, for one-line source errors.

    A message that opens with a traceback (``File "...", line N, in f``, as MNE's CNT reader
    raises its errors) gives instead the first ``SomeError: text`` line within it: the cause,
    not a path inside a library."""
    message = str(exc)
    text = message[: 4 * MAX_MESSAGE_CHARS].strip().splitlines()  # a first line, cheaply
    first = text[0] if text else "no message"
    if first.startswith('File "'):
        hit = next((m for m in map(_EMBEDDED_ERROR.match, text[1:]) if m), None)
        if hit:
            return f"{type(exc).__name__}: {clip_message(hit.group(1))}"
    if len(text) == 1 and len(message.strip()) > len(first):  # one line, longer than we took
        first = clip_message(message.strip())
    return f"{type(exc).__name__}: {clip_message(first)}"


class FrozenTable(tuple):  # type: ignore[type-arg]
    """An option's table (a TOML inline table, ``units = {Fp1 = "mV"}``) as sorted ``(key,
    value)`` pairs: hashable, so a header's options key the readers' caches."""


def _frozen(value: Any) -> Any:
    """``value`` with its lists as tuples and its tables as :class:`FrozenTable`, all the way
    down."""
    if isinstance(value, Mapping):
        return FrozenTable((str(k), _frozen(value[k])) for k in sorted(value, key=str))
    if isinstance(value, list | tuple):
        return tuple(_frozen(v) for v in value)
    return value


def _thawed(value: Any) -> Any:
    """:func:`_frozen`'s ``value`` as a library takes it: its tables as dicts again."""
    if isinstance(value, FrozenTable):
        return {k: _thawed(v) for k, v in value}
    if isinstance(value, tuple):
        return tuple(_thawed(v) for v in value)
    return value


def frozen_options(options: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    """Options as a sorted tuple of pairs, lists turned into tuples and tables (dicts) into
    :class:`FrozenTable`, at any depth (hashable, picklable): a table an option was given
    (MNE's ``units``) was a ``TypeError`` where the readers' caches hash the options."""
    return tuple((key, _frozen(options[key])) for key in sorted(options))


def thawed_options(options: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """:func:`frozen_options`' pairs as keyword arguments for a library, tables as dicts."""
    return {key: _thawed(value) for key, value in options}


MAX_SFREQ_HZ = 1e6
"""The highest sampling rate a source may state: above it (1 MHz, far beyond any EEG or
intracranial amplifier) its rate or timing fields are wrong."""


def check_sfreq(path: str, sfreq: float) -> None:
    """Refuse a rate that is not positive and finite, or above :data:`MAX_SFREQ_HZ` (every
    reader: a damaged rate field read as 10^12 Hz was refused as "recording too short: 0.00
    s", blaming the length)."""
    if not (math.isfinite(sfreq) and sfreq > 0):
        raise SourceError(path, f"invalid sampling rate {sfreq!r} Hz")
    if sfreq > MAX_SFREQ_HZ:
        raise SourceError(
            path,
            f"a sampling rate of {sfreq:g} Hz, above {MAX_SFREQ_HZ:g} Hz (beyond any EEG "
            "amplifier): the file's rate or timing fields are damaged",
        )


def code_label(value: float) -> str:
    """A numeric event code or class as label text: a whole number exactly (``1234567``; the
    ``:g`` format gave ``1.23457e+06``, the same text as ``1234568``), another number as
    ``:g`` writes it (``0.5``)."""
    number = float(value)
    if math.isfinite(number) and number == int(number) and abs(number) <= 2**53:
        return str(int(number))
    return f"{number:g}"


def option_number(
    path: str, options: Mapping[str, Any], key: str, default: float, *, bound: str = ""
) -> Any:
    """A number option of a manifest's reader or sidecar parser (``options[key]``, ``default``
    when absent), checked against its row ``option.BOUND`` of :data:`eegprep.base.bounds.BOUNDS`
    (``bound``, else ``key``) as every numeric setting is (:func:`check_number`): a TOML integer
    for a count (never ``2.0`` or ``true``), a finite number inside the range otherwise. Each
    parser read its numbers with ``int()`` / ``float()``: ``scale = "２"`` (a full-width 2) was
    2, ``scale = true`` 1, ``header_lines = 2.7`` 2 and ``duration = -4`` events that end before
    they start.

    Raises
    ------
    SourceError
        Anything else, naming ``path``, the option, the value and its range (one line).
    """
    value, row = options.get(key, default), f"option.{bound or key}"
    try:
        return check_number(f"manifest option {key}", value, key=row)
    except UsageError as exc:
        raise SourceError(path, str(exc)) from None
