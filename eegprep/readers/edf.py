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
import os
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from eegprep.base.errors import SourceError
from eegprep.readers.base import (
    Annotation,
    Header,
    Reader,
    Signal,
    check_option_names,
    check_readable,
    check_segment,
    check_sfreq,
    frozen_options,
    unit_to_uv,
)
from eegprep.readers.edf_records import (
    ANNOTATION_LABELS,
    RecordLayout,
    check_file_size,
    parse_layout,
    read_annotation_records,
    read_signals,
)

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
        early = _layout_if_parsable(head)  # malformed fields: pyedflib names them below
        warning = check_file_size(path, early) if early is not None else None
        with _opened(path) as f:
            layout = parse_layout(head)
            kept = _data_signals(path, f, head, layout)
            counts = f.getNSamples()  # one list for every signal (pyedflib builds it per call)
            signals = tuple(_signal(path, f, i, default_unit, int(counts[i])) for i in kept)
            duration = float(f.file_duration)
            annotations = _annotations(f, path, layout, plain=len(kept) < f.signals_in_file)
            meta = _meta(f)
            calibration = tuple(_calibration(f, i) for i in kept)
        return Header(
            path=path,
            reader=cls.name,
            signals=signals,
            duration=duration,
            annotations=annotations,
            part=part,
            meta=meta,
            options=frozen_options(options),
            layout=(("records", layout), ("calibration", calibration)),
            warnings=(warning,) if warning else (),
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
        to_uv = np.array([header.signals[p].to_uv for p in picks])
        gains = np.array([g for g, _ in cal]) * to_uv
        offsets = np.array([o for _, o in cal]) * to_uv
        try:
            read_signals(header.path, records, list(picks), start, stop, gains, offsets, out)
        except (OSError, EOFError) as exc:
            problem = f"cannot read samples: {exc}: the file is truncated or unreadable"
            raise SourceError(header.path, problem) from exc


def read_raw_header(path: str) -> bytes:
    """Fail early, with a clear message, on files that are not EDF/BDF at all.

    Returns the raw header (main and signal headers)."""
    with open(path, "rb") as fh:
        head = fh.read(256)
    if len(head) < 256:
        raise SourceError(path, f"EDF header truncated: {len(head)} of 256 bytes")
    version = head[:8]
    if version not in (b"0       ", b"\xffBIOSEMI"):
        raise SourceError(path, f"not an EDF/BDF file: version field is {version!r}")
    try:
        n_signals = int(head[252:256].decode("ascii").strip())
        header_bytes = int(head[184:192].decode("ascii").strip())
    except (UnicodeDecodeError, ValueError):
        raise SourceError(path, "EDF header has a malformed signal count or header size") from None
    if n_signals <= 0 or n_signals > 4096:
        raise SourceError(path, f"EDF header claims {n_signals} signals (expected 1..4096)")
    if header_bytes != 256 * (n_signals + 1):
        raise SourceError(
            path,
            f"EDF header size field says {header_bytes} bytes, "
            f"{n_signals} signals need {256 * (n_signals + 1)}",
        )
    with open(path, "rb") as fh:
        full = fh.read(header_bytes)
    if len(full) < header_bytes:
        raise SourceError(path, f"EDF header truncated: {len(full)} of {header_bytes} bytes")
    return full


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
    n_file = int(head[252:256].decode("ascii").strip())
    n_data = len(layout.offsets)
    if f.signals_in_file == n_data:
        return list(range(n_data))
    if f.signals_in_file == n_file:
        return [i for i in range(n_file) if f.getLabel(i).strip() not in ANNOTATION_LABELS]
    raise SourceError(
        path,
        f"EDF header lists {n_file} signals, {n_file - n_data} of them annotation signals, but "
        f"pyedflib found {f.signals_in_file} signals: the reserved field "
        f"{head[192:236].decode('latin-1').strip()!r} and the labels disagree",
    )


def _open(path: str) -> Any:
    import pyedflib

    try:
        with _c_stdout_silenced():
            return pyedflib.EdfReader(path)
    except OSError as exc:
        raise SourceError(path, f"pyedflib cannot open it: {_edf_message(exc, path)}") from exc
    except Exception as exc:
        raise SourceError(path, f"cannot read EDF header: {exc}") from exc


def _edf_message(exc: Exception, path: str) -> str:
    text = str(exc).strip().replace("\n", " ").replace(f"{path}: ", "")
    if "filesize" in text.lower() or "file size" in text.lower():
        return f"{text} (data records fewer than the header claims: the file is truncated)"
    return text


def _signal(path: str, f: Any, i: int, default_unit: str, n_samples: int) -> Signal:
    label = f.getLabel(i).strip()
    sfreq = float(f.getSampleFrequency(i))
    check_sfreq(path, sfreq)
    unit = f.getPhysicalDimension(i).strip()
    factor = unit_to_uv(unit)
    if factor is None:
        factor = unit_to_uv(default_unit) or 1.0
    pmin, pmax = f.getPhysicalMinimum(i), f.getPhysicalMaximum(i)
    dmin, dmax = f.getDigitalMinimum(i), f.getDigitalMaximum(i)
    if dmax == dmin:
        raise SourceError(path, f"signal {label!r}: digital minimum equals maximum ({dmin})")
    if pmax == pmin:
        raise SourceError(
            path, f"signal {label!r}: physical minimum equals maximum ({pmin}): no calibration"
        )
    resolution = abs(pmax - pmin) / (dmax - dmin) * factor
    return Signal(
        label=label,
        sfreq=sfreq,
        n_samples=n_samples,
        unit=unit,
        to_uv=float(factor),
        resolution=float(resolution),
        range_uv=(float(min(pmin, pmax) * factor), float(max(pmin, pmax) * factor)),
    )


def _calibration(f: Any, i: int) -> tuple[float, float]:
    pmin, pmax = f.getPhysicalMinimum(i), f.getPhysicalMaximum(i)
    dmin, dmax = f.getDigitalMinimum(i), f.getDigitalMaximum(i)
    gain = (pmax - pmin) / (dmax - dmin)
    return gain, pmax - gain * dmax


def _annotations(f: Any, path: str, layout: RecordLayout, *, plain: bool) -> tuple[Annotation, ...]:
    """The file's annotations: pyedflib's for EDF+, our own TAL parser's for a plain EDF that
    carries an annotation signal (``plain``)."""
    if plain:
        return tuple(Annotation(o, d, t) for o, d, t in read_annotation_records(path, layout))
    try:
        with _c_stdout_silenced():
            onsets, durations, texts = f.readAnnotations()
    except Exception:  # a broken annotation channel does not stop the EEG
        return ()
    out = []
    for onset, duration, text in zip(onsets, durations, texts):
        dur = float(duration) if float(duration) > 0 else 0.0
        out.append(Annotation(float(onset), dur, str(text).strip()))
    return tuple(out)


def _meta(f: Any) -> tuple[tuple[str, str], ...]:
    pairs: list[tuple[str, str]] = []
    try:
        pairs.append(("start", f.getStartdatetime().isoformat()))
    except Exception:
        pass
    for key, getter in (
        ("patient", "getPatientCode"),
        ("patient_name", "getPatientName"),
        ("patient_additional", "getPatientAdditional"),
        ("equipment", "getEquipment"),
        ("recording_additional", "getRecordingAdditional"),
    ):
        try:
            value = str(getattr(f, getter)()).strip()
        except Exception:
            continue
        if value:
            pairs.append((key, value))
    return tuple(pairs)


# pyedflib refuses to open a file that is already open in this process, and a refused open can
# leave its C library's table of open files inconsistent (reads from another handle then return
# zeros). So a header read opens the file, reads and closes it, under one lock; samples are read
# with numpy (edf_records), without pyedflib.
_LOCK = threading.RLock()


@contextmanager
def _opened(path: str) -> Iterator[Any]:
    with _LOCK:
        f = _open(path)
        try:
            yield f
        finally:
            f.close()


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
