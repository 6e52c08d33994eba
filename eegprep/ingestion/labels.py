"""What a recording is labelled with: labels and time-series targets, from the manifest and
the sidecar parser's result, in the stored time base (its events: :mod:`eegprep.ingestion.events`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from eegprep.base.errors import UsageError
from eegprep.base.field_text import checked_labels, checked_text, clean_text
from eegprep.corpus.manifest import Manifest
from eegprep.corpus.sidecars import SidecarResult
from eegprep.store.record_values import is_target_name


def stored_targets(
    sidecar: SidecarResult,
    n_out: int,
    sfreq: float,
    gaps: Sequence[tuple[float, float]] = (),
    *,
    stretches: Sequence[tuple[float, int]] | None = None,
) -> dict[str, np.ndarray]:
    """The sidecar's targets as stored beside the EEG: ``name -> (n, n_out)`` float32 at
    ``sfreq`` (Hz), each continuous stretch of the recording resampled alone as its EEG is
    (:func:`on_stretches`), zeros where the target ends early. A target sampled on the
    recording's clock loses its samples inside the ``gaps`` (the header's
    :attr:`~eegprep.readers.base.Header.sidecar_gaps`, s: none where the file only states
    them, its time and a sidecar's counting the samples stored) first, as the EEG has none
    there, so that its samples stay beside the EEG samples they were taken with
    (:func:`cut_at_gaps`); one the parser took on the samples read (``sidecar.on_samples``)
    is not cut. ``stretches``:
    ``(start s on the samples read, output samples)`` of each stretch, as the EEG's are cut
    (:class:`~eegprep.pipeline.stretches.StretchPlan`), ``n_out`` in all; None: one stretch."""
    spans = list(stretches) if stretches is not None else [(0.0, n_out)]
    assert sum(n for _, n in spans) == n_out, (spans, n_out)
    out = {}
    for name, (values, rate) in sidecar.targets.items():
        if not is_target_name(name):
            raise UsageError(
                f"target name {name!r}: it names an array of the recording's group, so a letter "
                "then letters, digits and '_', and not data, channel or time"
            )
        if gaps and not sidecar.on_samples:
            values = cut_at_gaps(values, rate, gaps)
        out[name] = on_stretches(values, float(rate), float(sfreq), spans)
    return out


def on_stretches(
    values: np.ndarray, rate: float, sfreq: float, stretches: Sequence[tuple[float, int]]
) -> np.ndarray:
    """``values`` (shape (n, n_times), at ``rate`` Hz on the samples read, end to end) at
    ``sfreq`` Hz, each of the ``stretches`` (``(start s, output samples)``, ascending) alone:
    its output sample ``i`` is the value at ``start + i / sfreq``, interpolated between the
    target's samples of that stretch only (none across a join; its edges held), so that it
    lies beside the EEG sample of its time, which the stretch's own resampling placed there
    (as many samples as the EEG's: the same rounding, ``round(n * sfreq / rate)``). Past the
    target's end (``n_times / rate``, counted so from each stretch's start) the values are
    zeros. Returns float32, shape (n, sum of the output samples)."""
    n_rows, n = values.shape
    out = np.zeros((n_rows, sum(length for _, length in stretches)), dtype=np.float32)
    at = 0
    for k, (start, length) in enumerate(stretches):
        stop = stretches[k + 1][0] if k + 1 < len(stretches) else n / rate
        first = min(n, max(0, math.ceil(start * rate - 1e-6)))
        last = min(n, max(first, math.ceil(stop * rate - 1e-6)))
        m = min(length, max(0, int(round((n / rate - start) * sfreq))))
        if m and last > first:
            offset = start * rate - first  # (s * rate: where the stretch starts among them)
            offset = 0.0 if abs(offset) < 1e-6 else offset
            if rate == sfreq and offset == 0.0:
                piece = values[:, first : min(last, first + m)]
                out[:, at : at + piece.shape[1]] = piece
                out[:, at + piece.shape[1] : at + m] = piece[:, -1:]  # (its last value held)
            else:
                t_src = (np.arange(last - first, dtype=np.float64) - offset) / rate
                t_out = np.arange(m, dtype=np.float64) / sfreq
                for r in range(n_rows):
                    out[r, at : at + m] = np.interp(t_out, t_src, values[r, first:last])
        at += length
    return out


def cut_at_gaps(values: np.ndarray, rate: float, gaps: Sequence[tuple[float, float]]) -> np.ndarray:
    """``values`` (shape (n, n_times), sampled at ``rate`` Hz on the recording's clock from
    its first sample) without the samples inside ``gaps`` (spans ``[a, b)`` s, ascending,
    disjoint): the stretches either side end to end, as the EEG is stored. Each sample is
    placed by bisection over the gaps (a day's EDF+D has 86,400)."""
    starts = np.array([a for a, _ in gaps], dtype=np.float64)
    stops = np.array([b for _, b in gaps], dtype=np.float64)
    times = np.arange(values.shape[1], dtype=np.float64) / float(rate)
    tol = 1e-6 / float(rate)  # (a sample on a gap's edge, within round-off, is at it)
    k = np.searchsorted(stops - tol, times, side="right")  # the first gap not ended by then
    inside = np.zeros(times.shape, dtype=bool)
    held = k < len(gaps)
    inside[held] = times[held] >= starts[k[held]] - tol
    return values[:, ~inside]


def fill_template(template: str, fields: dict[str, str]) -> str:
    """A manifest template (``subject``, ``session``, ...) filled with the source's path
    fields; ``""`` where the manifest has none."""
    return template.format(**fields) if template else ""


@dataclass(frozen=True, slots=True)
class Identity:
    """The record's text fields that the manifest's templates fill from path fields (``""``
    where the manifest has no template)."""

    subject: str
    session: str
    split: str
    subject_key: str


def identity_fields(m: Manifest, fields: dict[str, str], path: str) -> Identity:
    """The recording's :class:`Identity`: the manifest's templates filled with the path fields
    of source ``path``, each field and each result under the record text rule
    (:func:`~eegprep.base.field_text.checked_text`: cleaned, or a one-line SourceError): a
    folder ``" S01 "`` gives the key ``"lab:S01"``, not ``"lab: S01"``."""
    clean = {k: clean_text(v) if isinstance(v, str) else v for k, v in fields.items()}

    def filled(field: str, template: str) -> str:
        return checked_text(path, field, fill_template(template, clean))

    return Identity(
        subject=filled("subject", m.subject),
        session=filled("session", m.session),
        split=filled("split", m.split),
        subject_key=filled("subject_key", m.subject_key),
    )


def recording_labels(
    m: Manifest, fields: dict[str, str], sidecar: SidecarResult, path: str
) -> dict[str, Any]:
    """Recording-level labels of source ``path``: the manifest's (those that have a value),
    then the sidecar's; names and text values under the record text rule
    (:func:`~eegprep.base.field_text.checked_labels`)."""
    labels = {r.name: r.value(fields) for r in m.labels}
    labels = {k: v for k, v in labels.items() if v is not None}
    labels.update(sidecar.labels)
    return checked_labels(path, labels)
