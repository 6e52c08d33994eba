"""The EDF/BDF header, parsed by eegprep itself: for the files pyedflib refuses.

pyedflib checks that a header follows the EDF+ specification to the letter and refuses a file
for faults that do not touch its samples: a micro sign in a unit, accented letters in the
patient field, a start time written with colons, an ``EDF+C`` without an annotation signal, an
``EDF+D`` whose records are contiguous. MNE reads all of these. :class:`~eegprep.readers.edf.
EdfReader` reads such a file with this parser instead; a field that is truly unusable (a
record duration that is not a number) is refused in one line naming the field. A signal's
calibration field that is no finite number refuses that signal's samples alone
(:attr:`EdfSignalFields.damage`): a damaged ``Status`` channel never refuses the EEG.

Text fields end at their first NUL byte and are decoded as UTF-8 where they are valid UTF-8, else
as Latin-1; numbers as ASCII.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from eegprep.base.errors import SourceError
from eegprep.base.wording import counted
from eegprep.readers.edf_records import ANNOTATION_LABELS, header_int, header_text
from eegprep.readers.read_once import once
from eegprep.readers.rounded_rate import rate_of_period, rounded_note

_MAIN = (("version", 8), ("patient", 80), ("recording", 80), ("startdate", 8),
         ("starttime", 8), ("header_bytes", 8), ("reserved", 44), ("n_records", 8),
         ("record_seconds", 8), ("n_signals", 4))  # fmt: skip
_SIGNAL = (("label", 16), ("transducer", 80), ("unit", 8), ("physical_min", 8),
           ("physical_max", 8), ("digital_min", 8), ("digital_max", 8), ("prefilter", 80),
           ("samples_per_record", 8), ("signal_reserved", 32))  # fmt: skip
_WIDTHS = dict(_MAIN)


@dataclass(frozen=True)
class EdfSignalFields:
    """One signal's header fields (units as the file gives them)."""

    label: str
    unit: str
    physical_min: float
    physical_max: float
    digital_min: float
    digital_max: float
    samples_per_record: int
    damage: str = ""
    """Why the signal's calibration is unusable (a field that is no finite number, a range
    beyond :data:`~eegprep.readers.edf.MAX_ABS_UV`), naming the signal; ``""`` where none is.
    Its samples alone are refused (a channel left out costs nothing)."""


@dataclass(frozen=True)
class EdfFields:
    """The header's fields: text as written (stripped), numbers parsed.

    ``record_seconds``: the duration of a data record, s (> 0 and finite): the one the field
    stands for where it is rounded (:func:`_stood_for`), else as written. ``written_seconds``:
    as written; ``fastest_rate``: the whole rate of the fastest data signal a rounded one
    stands for, and ``rate_note`` the warning on it (both None where it is not rounded).
    """

    patient: str
    recording: str
    startdate: str
    starttime: str
    reserved: str
    n_records: int
    record_seconds: float
    signals: tuple[EdfSignalFields, ...]
    written_seconds: float = 0.0
    fastest_rate: float | None = None
    rate_note: str | None = None

    def sfreq(self, samples_per_record: int) -> float:
        """The rate (Hz) of a signal of ``samples_per_record``: where the record duration was
        rounded, ``n * rate / n_max`` by the fastest signal's whole rate (``fastest_rate``),
        which stays whole; else ``n / record_seconds``."""
        if self.fastest_rate is None:
            return samples_per_record / self.record_seconds
        fastest = max(s.samples_per_record for s in self.data_signals)
        return samples_per_record * self.fastest_rate / fastest

    @property
    def data_signals(self) -> tuple[EdfSignalFields, ...]:
        """The signals that hold samples, in file order (``EDF Annotations`` and signals of
        0 samples per record left out)."""
        return tuple(
            s for s in self.signals if s.label not in ANNOTATION_LABELS and s.samples_per_record
        )

    @property
    def empty_labels(self) -> tuple[str, ...]:
        """The labels of the signals of 0 samples per record (a channel the recording system
        disabled: Nihon Kohden and Compumedics exports list them), annotation signals aside."""
        return tuple(
            s.label
            for s in self.signals
            if s.label not in ANNOTATION_LABELS and not s.samples_per_record
        )

    @property
    def continuity(self) -> str:
        """``"C"``, ``"D"`` (EDF+ or BDF+, continuous or discontinuous) or ``""`` (plain EDF
        or BDF). (A BDF+ file says ``BDF+C``, ``BDF+D``: read as plain, a BDF+D's records were
        not required to be stamped, and pyedflib's refusal of it was said as a fault.)"""
        return self.reserved[4:5] if self.reserved[:4] in ("EDF+", "BDF+") else ""


def _fields(
    head: bytes, at: int, spec: tuple[tuple[str, int], ...], n: int
) -> dict[str, list[str]]:
    """Each field of ``spec`` for ``n`` items (signal headers store each field for every signal
    in turn), as text (:func:`~eegprep.readers.edf_records.header_text`)."""
    out: dict[str, list[str]] = {}
    for name, width in spec:
        out[name] = [header_text(head[at + width * i : at + width * (i + 1)]) for i in range(n)]
        at += width * n
    return out


def check_data_signals(path: str, head: bytes) -> None:
    """Refuse, in one line, a file whose signals are all annotation signals: an EDF+ file of
    annotations only, which EDF+ allows (its record duration may then be 0). It has no
    samples to ingest; it was refused for its record duration of 0, or read as a recording of
    no channels (``no EEG channel in the vocabulary among: ``), or by MNE as ``picks ...
    yielded no channels``. ``head``: the raw header (:func:`~eegprep.readers.edf.
    read_raw_header`). So is one whose data signals all have 0 samples per record (channels
    the recording system disabled): no channel holds samples."""
    n = header_int(head[252:256])
    labels = [header_text(head[256 + 16 * i : 256 + 16 * (i + 1)]) for i in range(n)]
    if labels and all(label in ANNOTATION_LABELS for label in labels):
        raise SourceError(
            path,
            f"an EDF+ file of annotations only (its {counted(n, 'signal')} all {labels[0]!r}): no "
            "samples to ingest (the recording it annotates is another file)",
        )
    at = 256 + 216 * n  # the samples per record fields
    try:
        counts = [header_int(head[at + 8 * i : at + 8 * (i + 1)]) for i in range(n)]
    except (UnicodeDecodeError, ValueError):
        return  # (named by the reader that parses the field)
    data = [(label, c) for label, c in zip(labels, counts) if label not in ANNOTATION_LABELS]
    if data and not any(c for _, c in data):
        raise SourceError(path, no_samples_problem([label for label, _ in data]))


@once
def parse_edf_fields(path: str, head: bytes) -> EdfFields:
    """The fields of a raw header (main and signal headers, as :func:`~eegprep.readers.edf.
    read_raw_header` returns it).

    Raises
    ------
    SourceError
        A number field that is not a number (a calibration field aside: its signal's
        ``damage``), a record duration that is not positive and
        finite, a signal whose samples per record are not a whole number >= 0, or no data
        signal of samples (every one of 0 samples per record).
    """
    main = {k: v[0] for k, v in _fields(head, 0, _MAIN, 1).items()}
    n = int(main["n_signals"])
    sig = _fields(head, 256, _SIGNAL, n)

    labels = sig["label"]
    seconds = _number(path, labels, main["record_seconds"], "record duration")
    if seconds <= 0:
        raise SourceError(
            path, f"EDF header gives a record duration of {main['record_seconds']!r} s: it must "
            "be positive (a data record's length in seconds)"
        )  # fmt: skip
    signals = _signal_fields(path, sig, n)
    fields = EdfFields(
        patient=main["patient"],
        recording=main["recording"],
        startdate=main["startdate"],
        starttime=main["starttime"],
        reserved=main["reserved"],
        n_records=int(_number(path, labels, main["n_records"], "number of data records")),
        record_seconds=seconds,
        signals=tuple(signals),
        written_seconds=seconds,
    )
    if not fields.data_signals:  # (some signal is no annotation signal: check_data_signals)
        raise SourceError(path, no_samples_problem(fields.empty_labels))
    return _stood_for(fields, main["record_seconds"])


def _number(path: str, labels: list[str], value: str, field: str, i: int | None = None) -> float:
    """The finite number a header field ``field`` (of signal ``i``, labelled ``labels[i]``)
    states, a decimal comma read as a point; else a :class:`SourceError` naming both."""
    try:
        x = float(value.replace(",", "."))  # some writers use a decimal comma
    except ValueError:
        where = f" of signal {labels[i]!r}" if i is not None else ""
        raise SourceError(
            path, f"EDF header field {field}{where} is {value!r}, not a number"
        ) from None
    if not math.isfinite(x):
        where = f" of signal {labels[i]!r}" if i is not None else ""
        raise SourceError(path, f"EDF header field {field}{where} is {value!r}")
    return x


def _signal_fields(path: str, sig: dict[str, list[str]], n: int) -> list[EdfSignalFields]:
    """The ``n`` signal headers of the columns ``sig`` (field -> one text per signal): their
    ranges as numbers, their samples per record a whole number >= 0."""
    signals, labels = [], sig["label"]
    for i in range(n):
        spr = _number(path, labels, sig["samples_per_record"][i], "samples per record", i)
        if spr < 0 or spr != int(spr):
            raise SourceError(
                path, f"EDF header gives signal {sig['label'][i]!r} "
                f"{sig['samples_per_record'][i]!r} samples per record (a whole number >= 0)"
            )  # fmt: skip
        cal = {key: _calibration_field(sig, key, i) for key in _CALIBRATION}
        damage = next((problem for _, problem in cal.values() if problem), "")
        signals.append(
            EdfSignalFields(
                label=labels[i],
                unit=sig["unit"][i],
                physical_min=cal["physical_min"][0],
                physical_max=cal["physical_max"][0],
                digital_min=cal["digital_min"][0],
                digital_max=cal["digital_max"][0],
                samples_per_record=int(spr),
                damage=damage,
            )
        )
    return signals


_CALIBRATION = {"physical_min": "physical minimum", "physical_max": "physical maximum",
                "digital_min": "digital minimum", "digital_max": "digital maximum"}  # fmt: skip


def _calibration_field(sig: dict[str, list[str]], key: str, i: int) -> tuple[float, str]:
    """Signal ``i``'s calibration field ``key`` as a number, and ``""``; or NaN and what is
    wrong with it (no finite number), naming the signal: that refuses the signal's samples
    alone (:func:`~eegprep.readers.edf.EdfReader.read_into`), not the file, whose other
    signals may be sound EEG beside a damaged ``Status`` or EOG channel."""
    text = sig[key][i]
    try:
        x = float(text.replace(",", "."))  # some writers use a decimal comma
    except ValueError:
        x = math.nan
    if math.isfinite(x):
        return x, ""
    field = _CALIBRATION[key]
    return (
        math.nan,
        f"signal {sig['label'][i]!r}: header field {field} is {text!r}, not a finite number",
    )


def _stood_for(fields: EdfFields, written: str) -> EdfFields:
    """``fields`` with the record duration a rounded field stands for: one that fills its 8
    characters (``0.003906``, 1/256 s) may be rounded, and where the fastest data signal's rate
    it gives lies within one unit of the field's last digit of a whole rate
    (:func:`~eegprep.readers.rounded_rate.rate_of_period`: 256 Hz), the duration is that
    rate's, said in ``rate_note``. A shorter field is exact (``2.5`` s: 409.6 Hz at 1024)."""
    if len(written) < _WIDTHS["record_seconds"]:
        return fields
    fastest = max(s.samples_per_record for s in fields.data_signals)
    rate = rate_of_period(written, fastest)
    if rate is None:
        return fields
    note = rounded_note(f"record duration {written!r} s", rate, fastest / fields.written_seconds)
    return replace(fields, record_seconds=fastest / rate, fastest_rate=rate, rate_note=note)


def no_samples_problem(labels: Sequence[str]) -> str:
    """Why a file whose data signals (``labels``) all have 0 samples per record is refused."""
    named = ", ".join(repr(label) for label in labels)
    return f"no signal holds samples: every data signal has 0 samples per record ({named})"
