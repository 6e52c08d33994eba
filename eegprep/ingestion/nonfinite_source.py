"""Why a channel's filtered samples are not finite: a NaN or an infinite value in its source,
or finite source values so large that filtering them overflows float32.

An ingest counts non-finite samples as it writes them (after filtering), and refuses the
recording if any; only then is each such channel's source read again, block by block (memory
bounded by :data:`SCAN_VALUES`), to say which of the two it is and where. A float source's
``1e39`` reads as ``inf`` (beyond float32's range), and one of ``3e38`` stays finite but its
filtering overflows: both were called "non-finite samples (NaN/inf)" in a file that holds no
NaN nor infinity.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from eegprep.readers.base import Header, Reader

SCAN_VALUES = 1 << 22
"""Samples read at once, all channels of a rate together, while looking for the first
non-finite one of each (16 MiB of float32)."""

FLOAT32_MAX_UV = float(np.finfo(np.float32).max)
OVERFLOW_UV = FLOAT32_MAX_UV / 2**26
"""The smallest source magnitude (uV) whose filtering may overflow float32: an FFT of a block
sums up to ~2^26 samples (a 1 kHz block of 10 hours is 2^25)."""


def _scan(
    reader: type[Reader], header: Header, picks: list[int]
) -> dict[int, tuple[float | None, float]]:
    """For source signals ``picks`` (one rate): the time (s) of each one's first sample that
    is not finite as read (None where every one is) and its largest finite magnitude (uV)
    before it; the file is read once for them all, and no further than each has its first."""
    signal = header.signals[picks[0]]
    step = max(4096, SCAN_VALUES // len(picks))
    first: dict[int, float] = {}
    peaks = dict.fromkeys(picks, 0.0)
    for a in range(0, signal.n_samples, step):
        todo = [p for p in picks if p not in first]
        if not todo:
            break
        x = reader.read_segment(header, todo, a, min(a + step, signal.n_samples))
        bad = ~np.isfinite(x)
        for row, src in enumerate(todo):
            if bad[row].any():
                first[src] = (a + int(np.argmax(bad[row]))) / signal.sfreq
            else:
                peaks[src] = max(peaks[src], float(np.abs(x[row]).max(initial=0.0)))
    return {src: (first.get(src), peaks[src]) for src in picks}


def nonfinite_problem(
    reader: type[Reader], header: Header, channels: Sequence[tuple[int, str]]
) -> str:
    """The refusal of a recording whose filtered ``channels`` ((source signal index, name)
    pairs) hold samples that are not finite: those whose source holds a NaN or an infinite
    value (the first one's time), else those whose finite source values overflow float32 when
    filtered (their largest magnitude)."""
    rates: dict[float, list[int]] = {}
    for src, _ in channels:
        rates.setdefault(header.signals[src].sfreq, []).append(src)
    seen = {k: v for picks in rates.values() for k, v in _scan(reader, header, picks).items()}
    found = [(name, *seen[src]) for src, name in channels]
    held = [(name, at) for name, at, _ in found if at is not None]
    if held:
        where = ", ".join(f"{name} (first at {at:.6g} s)" for name, at in held)
        return (
            f"non-finite samples (NaN/inf) in channels {where}: the source holds NaN or "
            f"infinite values there, or values beyond float32's +-{FLOAT32_MAX_UV:.3g} uV"
        )
    peak = max(p for _, _, p in found)
    names = ", ".join(name for name, _, _ in found)
    if peak < OVERFLOW_UV:  # (no reader hands out such samples: said as they were)
        return f"non-finite samples (NaN/inf) in channels {names}"
    return (
        f"channel{'s' if len(found) > 1 else ''} {names}: samples up to {peak:.3g} uV, which "
        "overflow float32 when filtered, beyond any scalp potential: a damaged value or a wrong "
        "scale in the source; fix the file, or leave the channel out ([channels] exclude in "
        "the manifest)"
    )


__all__ = ["nonfinite_problem"]
