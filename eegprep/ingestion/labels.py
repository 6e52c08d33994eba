"""What a recording is labelled with: labels, events and time-series targets, from the
manifest, the file's own annotations and the sidecar parser's result, in the stored time base.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from eegprep.base.errors import UsageError
from eegprep.corpus.manifest import Manifest
from eegprep.corpus.sidecars import SidecarResult
from eegprep.readers.base import Header
from eegprep.store.record_values import is_target_name

_FIELD = re.compile(r"^\{([A-Za-z_]\w*)\}$")


def sidecar_options(m: Manifest, fields: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in m.sidecar_options:
        hit = _FIELD.match(value) if isinstance(value, str) else None
        if hit and hit.group(1) not in fields:
            raise UsageError(
                f"{m.file}: sidecar.options.{key} is {value!r} but the path pattern does not "
                f"capture {hit.group(1)!r}"
            )
        out[key] = fields[hit.group(1)] if hit else value
    return out


def stored_targets(sidecar: SidecarResult, n_out: int, sfreq: float) -> dict[str, np.ndarray]:
    out = {}
    for name, (values, rate) in sidecar.targets.items():
        if not is_target_name(name):
            raise UsageError(
                f"target name {name!r}: it names an array of the recording's group, so a letter "
                "then letters, digits and '_', and not data, channel or time"
            )
        resampled = values if rate == sfreq else _resample_target(values, rate, sfreq)
        fixed = np.zeros((resampled.shape[0], n_out), dtype=np.float32)
        k = min(n_out, resampled.shape[1])
        fixed[:, :k] = resampled[:, :k]
        out[name] = fixed
    return out


def _resample_target(values: np.ndarray, rate: float, sfreq: float) -> np.ndarray:
    n = values.shape[1]
    t_src = np.arange(n) / rate
    t_out = np.arange(int(round(n * sfreq / rate))) / sfreq
    return np.stack([np.interp(t_out, t_src, row) for row in values]).astype(np.float32)


def fill_template(template: str, fields: dict[str, str]) -> str:
    """A manifest template (``subject``, ``session``, ...) filled with the source's path
    fields; ``""`` where the manifest has none."""
    return template.format(**fields) if template else ""


def recording_labels(m: Manifest, fields: dict[str, str], sidecar: SidecarResult) -> dict[str, Any]:
    """Recording-level labels: the manifest's (those that have a value), then the sidecar's."""
    labels = {r.name: r.value(fields) for r in m.labels}
    labels = {k: v for k, v in labels.items() if v is not None}
    labels.update(sidecar.labels)
    return labels


def recording_events(m: Manifest, header: Header, sidecar: SidecarResult) -> list[list[Any]]:
    """The file's own annotations (unless the manifest drops them) and the sidecar's events,
    exact repeats dropped, sorted by onset: ``[onset s, duration s, label, channel]``."""
    own = header.annotations if m.sidecar_annotations == "keep" else ()
    events = [[float(a.onset), float(a.duration), a.description, a.channel] for a in own]
    events += [list(e) for e in sidecar.events]
    events = _unique_events(events)
    return sorted(events, key=lambda e: (e[0], e[1], str(e[2]), str(e[3])))


def clip_events(
    events: list[list[Any]], n_samples: int, sfreq: float
) -> tuple[list[list[Any]], list[str]]:
    """The events inside the stored span ``[0, n_samples / sfreq]`` seconds, and the report's
    warnings about the others.

    An event wholly outside the span (a marker after the last sample, an events.tsv row of a
    longer run) is dropped; one that straddles an end is cut at it. Onsets within one output
    sample past the end count as at the end (a zero-length "recording ends" marker). The
    warnings: one line per kind of change, naming the first few events.
    """
    sfreq = float(sfreq)
    end, tol = n_samples / sfreq, 1.0 / sfreq
    kept, dropped, cut = [], [], []
    for ev in events:
        onset, duration = float(ev[0]), float(ev[1])
        if onset >= end + tol or onset + duration < 0 or (onset < 0 and duration == 0):
            dropped.append(ev)
            continue
        start, stop = max(onset, 0.0), min(onset + duration, end)
        if (start, stop) != (onset, onset + duration) and duration > 0:
            cut.append(ev)
            ev = [start, max(stop - start, 0.0), *ev[2:]]
        kept.append(ev)
    out = []
    for what, evs in (("dropped", dropped), ("cut at the recording's ends", cut)):
        if evs:
            names = ", ".join(f"{e[2]!r} at {float(e[0]):g} s" for e in evs[:3])
            more = f" and {len(evs) - 3} more" if len(evs) > 3 else ""
            out.append(f"{len(evs)} event(s) outside the stored 0-{end:g} s {what}: {names}{more}")
    return kept, out


def _unique_events(events: list[list[Any]]) -> list[list[Any]]:
    """Drop exact repeats (a marker kept both in the file and in its sidecar, as BIDS does)."""
    seen: set[tuple[float, float, str, str]] = set()
    out = []
    for e in events:
        key = (round(float(e[0]), 6), round(float(e[1]), 6), str(e[2]), str(e[3]))
        if key not in seen:
            seen.add(key)
            out.append(e)
    return out
