"""Samples no EEG has: each window's largest magnitude, and the one line naming where they are.

A window holding NaN, an infinity or a sample past :data:`LOUD_UNITS` is the store's data at
fault, not the learning rate nor a checkpoint's weights. Every place where numbers stop being
finite names it so: the training loop (a loss or gradients that are not finite) and every
command that runs a model over windows (outputs that are not finite: ``evaluate``, ``embed``,
``predict``, ``report --predict``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from eegprep.base.errors import StoreError
from eegprep.base.path_limits import shown_path
from labram.data.block_reader import UV_PER_UNIT
from labram.data.windows import WindowIndex
from labram.model.config import PATCH_SIZE

LOUD_UNITS = 1e6
"""A window sample above this many model units (1e8 uV, 100 V: no EEG, by six orders of
magnitude) is named when a loss, gradients or a model's outputs stop being finite
(``docs/training.md``, "Non-finite losses")."""


FIX = "check the store (eegprep validate) and ingest those recordings again or leave them out"
"""What to do about loud windows, the end of each line that names them."""


class SamplesError(StoreError, ValueError):
    """The windows a model was given hold samples no EEG has, and its outputs are not finite."""


def window_peaks(x: Any) -> np.ndarray:
    """Each window's largest magnitude.

    Parameters
    ----------
    x : Tensor or array, shape (B, ...), model units (0.1 mV)
        A batch of windows.

    Returns
    -------
    peaks : array of float64, shape (B,)
        ``max |x|`` over each window, in model units; ``inf`` for a window holding NaN or an
        infinity.
    """
    values = x.detach().float().cpu().numpy() if hasattr(x, "detach") else np.asarray(x)
    if not len(values):
        return np.zeros(0)
    flat = np.abs(values.reshape(len(values), -1).astype(np.float32, copy=False))
    peaks = flat.max(axis=1).astype(np.float64) if flat.shape[1] else np.zeros(len(values))
    peaks[~np.isfinite(flat).all(axis=1)] = np.inf
    return peaks


def loud(peaks: np.ndarray) -> np.ndarray:
    """Which windows (bool, shape (B,)) hold samples no EEG has (see :data:`LOUD_UNITS`)."""
    return np.asarray(~np.isfinite(peaks) | (peaks > LOUD_UNITS))


def describe_loud(
    peaks: np.ndarray,
    place: Callable[[int], tuple[str, float]],
    *,
    among: np.ndarray | None = None,
    of: str = "its windows",
) -> str | None:
    """The clause naming the loud windows (of ``among``, bool, shape (B,), if given), or
    ``None`` when there is none.

    ``place(i)``: window ``i``'s recording (or file) and its start in seconds. The clause:
    ``N of {of} hold samples no EEG has (VALUE in REC at S s; recordings: ...)``.
    """
    bad = np.flatnonzero(loud(peaks) & (True if among is None else among))
    if not len(bad):
        return None
    first, start = place(int(bad[0]))
    names = sorted({place(int(i))[0] for i in bad})
    peak = float(peaks[bad[0]]) * UV_PER_UNIT
    value = f"{peak:.3g} uV" if np.isfinite(peak) else "NaN or infinite samples"
    verb = "holds" if len(bad) == 1 else "hold"
    more = ", ..." if len(names) > 5 else ""
    return (
        f"{len(bad)} of {of} {verb} samples no EEG has ({value} in {first} at "
        f"{start:g} s; recordings: {', '.join(names[:5])}{more})"
    )


def refuse_loud(
    peaks: np.ndarray,
    place: Callable[[int], tuple[str, float]],
    *,
    source: str,
    of: str = "its windows",
    done: str = "scored",
) -> None:
    """Refuse windows that hold samples no EEG has although the model's outputs of them are
    finite (its norm layers make 10^30 uV a finite output; ``peaks`` and ``place`` as
    :func:`describe_loud`'s): they were ``done`` (scored, embedded) as EEG.

    Raises
    ------
    SamplesError
        ``source``, the windows and recordings, :data:`FIX`.
    """
    said = describe_loud(peaks, place, of=of)
    if said is not None:
        raise SamplesError(
            f"{shown_path(source)}: {said}: {FIX}; their outputs are finite but not of EEG, so "
            f"they are not {done} (the checkpoint is not the cause)"
        )


def index_place(index: WindowIndex) -> Callable[[int], tuple[str, float]]:
    """``place`` of :func:`describe_loud` for windows numbered as in ``index``: window ``i``'s
    recording id and start, in seconds."""

    def place(i: int) -> tuple[str, float]:
        return index.recordings[int(index.rec[i])].id, int(index.start[i]) / PATCH_SIZE

    return place


def blame_samples(
    peaks: np.ndarray, place: Callable[[int], tuple[str, float]]
) -> Callable[[np.ndarray, str], None]:
    """The ``samples`` check of :func:`labram.checkpoints.load.check_finite_outputs` for windows
    of these ``peaks`` (shape (n_windows,), :func:`window_peaks`; ``place`` as
    :func:`describe_loud`'s): it raises :class:`SamplesError` when a window whose outputs are
    not finite holds samples no EEG has, so that the line names them, not the checkpoint."""

    def check(bad: np.ndarray, head: str) -> None:
        said = describe_loud(peaks, place, among=bad, of="them")
        if said is not None:
            raise SamplesError(f"{head}: {said}: {FIX}; the checkpoint is not the cause")

    return check


__all__ = [
    "FIX",
    "LOUD_UNITS",
    "SamplesError",
    "blame_samples",
    "describe_loud",
    "index_place",
    "loud",
    "refuse_loud",
    "window_peaks",
]
