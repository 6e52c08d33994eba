"""A resumed ``labram embed`` whose stores' labels or recording metadata changed since.

The output's parameters (``_labram/embed.json``) fix the windows and the samples behind them
(:func:`~labram.stages.embed_existing.recording_versions`: the source's digest), not what the
per-window coordinates say of each recording: its labels (``label_<key>``, and ``label``, the
task's target), subject, subject key, corpus and split. An edited label sidecar re-ingests a
recording from the same source (the same version), and a ``label:KEY`` task's numbering
follows the stores' values: a resume kept the old coordinates beside the new ones' windows,
and a probe trained on them read the wrong labels, unsaid.

So every resume compares the coordinates the stores give now with those the output holds
(:func:`refresh_coordinates`): values that differ are written again in place (the embeddings do
not depend on them), with one warning naming the recordings; a change of the coordinates'
set (a label key added or gone, a label that turned from numbers to names) or of the task's
classes is refused in one line, since the store's sealed metadata names them.

Concurrency contract: called by the main rank alone, under the output's lock
(:mod:`labram.stages.out_lock`), before the other ranks open the store.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from eegprep.base.errors import UsageError
from eegprep.base.path_limits import shown_path
from eegprep.base.wording import counted, some_of

log = logging.getLogger(__name__)

PATCH_COORDINATES = ("patch_channel", "patch_second")
"""Coordinates of ``--per-patch`` that the model's outputs give, not the stores."""


def task_label(index: Any) -> np.ndarray:
    """The task's target of every window of ``index`` (a
    :class:`~labram.data.windows.WindowIndex`), float32: ``(window,)``, or ``(window, target)``
    for several targets."""
    labels = index.labels
    return (labels[:, 0] if labels.shape[1] == 1 else labels).astype(np.float32)


def _same(then: np.ndarray, now: np.ndarray) -> np.ndarray:
    """Per window, whether the stored values ``then`` equal ``now`` (NaN equals NaN)."""
    if now.dtype.kind == "f":
        a, b = then.astype(np.float64), now.astype(np.float64)
        same = (a == b) | (np.isnan(a) & np.isnan(b))
    else:
        same = np.array([str(v) for v in then.ravel().tolist()], dtype=object).reshape(
            then.shape
        ) == np.array([str(v) for v in now.ravel().tolist()], dtype=object).reshape(now.shape)
    return same if same.ndim == 1 else same.reshape(len(same), -1).all(axis=1)


def _refuse(out: Path, what: str) -> UsageError:
    return UsageError(
        f"{shown_path(out)}: {what} since it was written, and its sealed metadata names them: pass "
        "another --out (or remove this one) to embed the stores as they are now"
    )


def _check_shape(out: Path, group: Any, coords: dict[str, np.ndarray], task: Any) -> None:
    """Refuse (one line) where the coordinates' set, a coordinate's kind or shape, or the task's
    classes are not those the output was written with."""
    stored = group["embedding"].attrs.get("coordinates", "").split()
    then = {n for n in stored if n not in PATCH_COORDINATES}
    added, gone = sorted(set(coords) - then), sorted(then - set(coords))
    if added or gone:
        parts = [f"{', '.join(added)} added"] if added else []
        parts += [f"{', '.join(gone)} gone"] if gone else []
        raise _refuse(out, f"the stores' recordings carry other labels ({'; '.join(parts)})")
    for name, now in coords.items():
        arr = group[name]
        numeric_then = getattr(arr.dtype, "kind", "?") in "fiu"  # (a string dtype's kind: T, O)
        if arr.shape != now.shape or numeric_then != (now.dtype.kind in "fiu"):
            raise _refuse(out, f"coordinate {name} changed its kind or shape")
    classes = list(task.classes) if task is not None else []
    if list(group.attrs.get("classes", [])) != classes:
        raise _refuse(out, f"task {task.name!r} has other classes ({', '.join(classes)} now)")


def refresh_coordinates(out: Path, coords: dict[str, np.ndarray], task: Any) -> list[str]:
    """Write again the coordinates of the embedding store ``out`` whose values differ from
    ``coords`` (those the stores give now, :func:`~labram.stages.embed_coordinates.coordinates`,
    with ``label``, :func:`task_label`, under a task); returns the recordings whose
    coordinates changed (empty: the store was current).

    A write cut short leaves the output's values partly old: the next resume finds them and
    writes them again (zarr writes each chunk under a temporary name, then renames it).

    Raises
    ------
    UsageError
        The coordinates' set, a coordinate's kind or shape, or the task's classes changed.
    """
    import zarr

    group = zarr.open_group(str(out), mode="r+")
    _check_shape(out, group, coords, task)
    recording = coords["recording"]
    changed: dict[str, list[str]] = {}  # recording -> the coordinates that changed
    written: list[str] = []
    for name, now in coords.items():
        arr: Any = group[name]
        if not len(now):
            continue
        same = _same(np.asarray(arr[...]), now)
        if same.all():
            continue
        for rid in dict.fromkeys(recording[~same].astype(str)):
            changed.setdefault(rid, []).append(name)
        arr[...] = now.astype(str) if now.dtype == object else now
        written.append(name)
    if changed:
        from eegprep.base.disk_sync import sync_tree

        for name in written:  # (on the disk before a resume calls the store complete)
            sync_tree(out / name)
        named = [f"{rid} ({', '.join(names)})" for rid, names in changed.items()]
        log.warning(
            "%s: the labels or metadata of %s changed since it was written: %s; its "
            "coordinates were written again, its embeddings kept",
            shown_path(out), counted(len(changed), "recording"), some_of(named),
        )  # fmt: skip
    return list(changed)


__all__ = ["PATCH_COORDINATES", "refresh_coordinates", "task_label"]
