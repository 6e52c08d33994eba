"""Why a channel's filtered samples are not finite: a NaN or an infinite value in its source,
or finite source values so large that filtering them overflows float32.

An ingest counts non-finite samples as it writes them (after filtering), and refuses the
recording if any; only then is each such channel's source read again, block by block (memory
bounded by :data:`SCAN_SAMPLES`), to say which of the two it is and where. A float source's
``1e39`` reads as ``inf`` (beyond float32's range), and one of ``3e38`` stays finite but its
filtering overflows: both were called "non-finite samples (NaN/inf)" in a file that holds no
NaN nor infinity.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from eegprep.readers.base import Header, Reader

SCAN_SAMPLES = 1 << 20
"""Samples of one channel read at once while looking for the first non-finite one (4 MiB)."""

FLOAT32_MAX_UV = float(np.finfo(np.float32).max)
OVERFLOW_UV = FLOAT32_MAX_UV / 2**26
"""The smallest source magnitude (uV) whose filtering may overflow float32: an FFT of a block
sums up to ~2^26 samples (a 1 kHz block of 10 hours is 2^25)."""


def _first_nonfinite(reader: type[Reader], header: Header, src: int) -> tuple[float | None, float]:
    """The time (s) of source signal ``src``'s first sample that is not finite as read (None
    where every one is), and its largest finite magnitude (uV) up to there."""
    signal = header.signals[src]
    peak = 0.0
    for a in range(0, signal.n_samples, SCAN_SAMPLES):
        b = min(a + SCAN_SAMPLES, signal.n_samples)
        x = reader.read_segment(header, [src], a, b)[0]
        bad = ~np.isfinite(x)
        if bad.any():
            return (a + int(np.argmax(bad))) / signal.sfreq, peak
        peak = max(peak, float(np.abs(x).max(initial=0.0)))
    return None, peak


def nonfinite_problem(
    reader: type[Reader], header: Header, channels: Sequence[tuple[int, str]]
) -> str:
    """The refusal of a recording whose filtered ``channels`` ((source signal index, name)
    pairs) hold samples that are not finite: those whose source holds a NaN or an infinite
    value (the first one's time), else those whose finite source values overflow float32 when
    filtered (their largest magnitude)."""
    found = [(name, *_first_nonfinite(reader, header, src)) for src, name in channels]
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
