"""The values of a record that only some readers compute with, checked once per record.

:mod:`eegprep.store.record_values` checks what every reader of a store computes with (the
length, the rate, the channel rows, the JSON types of the fields), some of it for every record
when a store opens. The values here are read only once a recording is built from its whole
record (``eegprep stats``, the fine-tuning tasks, the loader's NaN check, every read of
samples), so they are checked there, once per record (:func:`details_problem`, beside
:func:`~eegprep.store.record_values.record_problem`), and by ``eegprep validate``:

- ``encoding``, ``quantum_uv`` and ``max_error_uv``: how ``data`` is stored. An encoding no
  eegprep writes (``"zstd"``) was read as float32 without a word; a quantized step of ``0`` or
  ``"x"`` was a ``ZeroDivisionError`` or ``TypeError`` on the first read.
- ``orig_sfreq``: the source's rate (Hz), a number or a list of them; a rate as text was an
  internal error in ``eegprep stats``.
- ``block_seconds``: the preprocessing block the samples were computed in (s, 10 or more), which
  only a re-ingest reads (:mod:`eegprep.ingestion.block_lengths`: it ingests again a recording
  whose block is not a number), so only ``eegprep validate`` checks it (:func:`block_problem`).
- ``qc``: what the ingest measured. The loader's NaN check takes any ``qc`` as an ingest's
  word that the samples are finite (:func:`labram.data.finite_windows.vouched`), so one that no
  ingest writes (``{"ok": 1}``, without the ``median_rms_uv`` every ingest states) would have
  NaN samples trained on unread; its ``flat_channels`` and ``clipped_channels`` are counted
  by ``eegprep stats``, its ``line_noise_db`` plotted by ``eegprep report``.
- ``events``: their onsets and durations (seconds) become sample numbers; one beyond the int32
  time axis (:data:`~eegprep.store.record_values.MAX_SAMPLES` samples, 124 days at 200 Hz)
  overflowed (``round(inf)``) in the TUEV and SEED-V tasks. Events a little past the
  recording's end are not refused: ingests before 2026-12-01 stored them uncut, and every
  task drops or cuts a window they leave.

Each check gives the first such value in words for one line, or None.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from eegprep.base.wording import counted
from eegprep.store.array_docs import ENCODINGS
from eegprep.store.record_values import MAX_SAMPLES


def _positive(value: Any) -> bool:
    """Whether ``value`` is a finite number above 0 (not a boolean)."""
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    )


def _number(value: Any) -> bool:
    """Whether ``value`` is a finite number (not a boolean)."""
    return type(value) in (int, float) and math.isfinite(value)


def _measure(value: Any) -> bool:
    """Whether ``value`` is a finite number of 0 or above (not a boolean)."""
    return _positive(value) or (type(value) in (int, float) and value == 0)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def encoding_problem(record: Mapping[str, Any]) -> str | None:
    """What is wrong with the record's ``encoding``, ``quantum_uv`` (uV) and ``max_error_uv``
    (uV), or None. An ingest writes ``float32`` or ``float16`` with both steps null, or
    ``quantized`` with a step above 0 and half of it as the error bound; a record that states
    no encoding (an earlier version's) may state a step above 0 alone."""
    encoding = record.get("encoding")
    quantum: Any = record.get("quantum_uv")
    bound: Any = record.get("max_error_uv")
    if encoding is None:
        if quantum is not None and not _positive(quantum):
            return f"quantum_uv {_shown(quantum)} is not a step in uV above 0"
        return None
    if encoding not in ENCODINGS:
        return (
            f"encoding {_shown(encoding)} is not one eegprep writes (float32, float16 or "
            "quantized): its samples cannot be decoded as stored"
        )
    if encoding != "quantized":
        key, value = ("quantum_uv", quantum) if quantum is not None else ("max_error_uv", bound)
        if value is not None:
            return f"{key} {_shown(value)} is stated for the {encoding} encoding (null)"
        return None
    if not _positive(quantum):
        return f"quantum_uv {_shown(quantum)} is not the quantized encoding's step in uV above 0"
    if not (_positive(bound) and math.isclose(bound, quantum / 2, rel_tol=1e-9)):
        return f"max_error_uv {_shown(bound)} is not half the quantized step {quantum!r} uV"
    return None


def orig_rate_problem(orig_sfreq: Any) -> str | None:
    """What is wrong with ``orig_sfreq`` (the source's rate, Hz, or its rates when its
    channels differ), or None: absent, a rate above 0, or a list of such rates."""
    if orig_sfreq is None or _positive(orig_sfreq):
        return None
    if isinstance(orig_sfreq, list) and orig_sfreq and all(map(_positive, orig_sfreq)):
        return None
    return f"orig_sfreq {_shown(orig_sfreq)} is not a rate in Hz above 0 (or a list of them)"


def block_problem(block_seconds: Any) -> str | None:
    """What is wrong with ``block_seconds`` (the preprocessing block, s), or None: absent (an
    earlier version's record, the ``mne`` mode), or a number of 10 or more."""
    if block_seconds is None or (_positive(block_seconds) and block_seconds >= 10):
        return None
    return f"block_seconds {_shown(block_seconds)} is not a block length in seconds of 10 or more"


_QC_NAMES = ("flat_channels", "clipped_channels")


def qc_problem(qc: Any) -> str | None:
    """What is wrong with ``qc`` (an object, checked before; None: not measured), or None.
    What readers use of an ingest's: ``median_rms_uv`` (uV, a number; every ingest states it),
    ``flat_channels`` and ``clipped_channels`` (channel names, counted by ``eegprep stats``),
    ``line_noise_db`` (dB by mains frequency, plotted by ``eegprep report``)."""
    if qc is None:
        return None
    if not _measure(qc.get("median_rms_uv")):
        return (
            f"qc holds no median_rms_uv (uV), as every ingest's does (got "
            f"{_shown(qc.get('median_rms_uv'))})"
        )
    for key in _QC_NAMES:
        names = qc.get(key, [])
        if type(names) is not list or (names and not set(map(type, names)) <= {str}):
            return f"qc.{key} {_shown(names)} is not a list of channel names"
    peaks = qc.get("line_noise_db", {})
    if type(peaks) is not dict or not all(map(_number, peaks.values())):
        return f"qc.line_noise_db {_shown(peaks)} is not an object of dB by mains frequency"
    return None


def event_times_problem(events: Any, sfreq: float | None) -> str | None:
    """The first event of ``events`` (``[onset_s, duration_s, label, channel]`` rows, their
    types checked before) whose onset or duration (seconds) is beyond the int32 time axis at
    ``sfreq`` (Hz, above 0; None: not known, nothing checked), in words; None."""
    if not events or sfreq is None:
        return None
    span = MAX_SAMPLES / sfreq
    for i, event in enumerate(events):
        onset, duration = event[0], event[1]
        if not (-span <= onset <= span and -span <= duration <= span):
            return (
                f"events[{i}] at {onset:g} s for {duration:g} s is beyond any recording's time "
                f"axis ({counted(MAX_SAMPLES, 'sample')}, {span:g} s)"
            )
    return None


def _plainly_sound(record: Mapping[str, Any]) -> bool:
    """Whether ``record`` is plainly sound in the values above, as this version's ingests write
    them (a float step, rate, median RMS and line noise, no events, no flat or clipped
    channel): a few tests each. False says only that the checks must be run: 1
    us a record, not 3-7 (10^5 records built by ``eegprep stats`` or a fine-tuning task)."""
    get = record.get
    encoding, quantum, bound = get("encoding"), get("quantum_uv"), get("max_error_uv")
    if encoding == "quantized":
        if not (type(quantum) is float and 0.0 < quantum < math.inf and bound == quantum / 2):
            return False
    elif encoding not in ("float32", "float16") or quantum is not None or bound is not None:
        return False
    orig, qc = get("orig_sfreq"), get("qc")
    if orig is not None and not (type(orig) is float and 0.0 < orig < math.inf):
        return False
    if qc is not None:
        if type(qc) is not dict:
            return False
        rms, peaks = qc.get("median_rms_uv"), qc.get("line_noise_db", {})
        if not (type(rms) is float and 0.0 <= rms < math.inf) or type(peaks) is not dict:
            return False
        if qc.get("flat_channels", []) != [] or qc.get("clipped_channels", []) != []:
            return False
        if peaks and not (set(map(type, peaks.values())) <= {float}
                          and math.isfinite(sum(peaks.values()))):  # fmt: skip
            return False
    return not get("events")


def details_problem(record: Mapping[str, Any], sfreq: float | None) -> str | None:
    """The first of the record's values above (module docstring) that no eegprep store holds,
    in words; None: sound. ``record``'s field types (:func:`~eegprep.store.record_values.
    kinds_problem`) and its rate ``sfreq`` (Hz, above 0; None: not known) were checked
    before."""
    if _plainly_sound(record):
        return None
    return (
        encoding_problem(record)
        or orig_rate_problem(record.get("orig_sfreq"))
        or qc_problem(record.get("qc"))
        or event_times_problem(record.get("events"), sfreq)
    )


__all__ = [
    "block_problem",
    "details_problem",
    "encoding_problem",
    "event_times_problem",
    "orig_rate_problem",
    "qc_problem",
]
