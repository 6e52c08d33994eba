"""``labram predict``: a fine-tuned classifier on raw EEG files, no store needed.

Reads top to bottom: the classifier and its task, the manifest that says how to read the files
(reader, units, channel renames, mains), then per file: eegprep's pipeline, streamed
(:func:`eegprep.ingestion.inmemory.stream_preprocessed`: the same recipe, blocks, channel
mapping and one-line refusals as ``eegprep ingest``), the task's windows cut from its blocks as
they come (:mod:`labram.stages.predict_windows`: one block and a batch in memory, whatever the
file's length), the model, and the recording's prediction: the mean of its windows'
probabilities (braindecode's trial-wise aggregation of crops).

A file that cannot be read gives one line (``FILE: problem``) and the others are still
predicted; the CLI exits with status 3 then.
"""

from __future__ import annotations

import logging
import os
import traceback
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, TextIO

import numpy as np
import torch

from eegprep.base.bounds import check_number
from eegprep.base.errors import EegprepError, SourceError, UsageError
from eegprep.base.field_text import checked_exact
from eegprep.base.missing_modules import missing_module_line
from eegprep.base.path_limits import shown_path
from eegprep.base.redact import redact
from eegprep.base.same_files import without_repeats
from eegprep.base.validation import invalid_value
from eegprep.base.wording import counted
from eegprep.corpus.manifest import Manifest, available, load_manifest
from eegprep.ingestion.inmemory import (
    Opened,
    Preprocessed,
    RateTooLowError,
    check_companions,
    open_preprocessed,
    stream_preprocessed,
)
from eegprep.pipeline.recipe import Recipe
from eegprep.store.encoding import EncodingRangeError
from labram.checkpoints.errors import CheckpointError
from labram.checkpoints.load import Loaded, check_finite_outputs, check_windows_fit, load_model
from labram.data.block_reader import to_model_units
from labram.data.sample_peaks import blame_samples, refuse_loud, window_peaks
from labram.data.task_records import check_outputs, task_from_record
from labram.data.tasks import Task, get_task, label_key
from labram.data.windows import WindowSettings, saved_windows
from labram.model.classifier import LaBraMClassifier
from labram.model.config import PATCH_SIZE
from labram.stages import backbone_used, tokenizer_used
from labram.stages.predict_windows import (
    WindowPlan,
    batches,
    freed_as_they_go,
    plan_windows,
    unplaced_warning,
    windows_from_blocks,
)
from labram.train.distributed import check_device
from labram.train.metrics import predicted_class, probabilities
from labram.train.run import read_run_json

log = logging.getLogger(__name__)


# --- the task a classifier was fine-tuned for --------------------------------------------


def _task_by_name(name: str, n_outputs: int) -> Task:
    """A built-in task, or ``label:KEY`` with classes named by their number (the checkpoint
    does not say the label's values)."""
    if not name.startswith("label:"):
        return get_task(name)
    kind = "binary" if n_outputs == 1 else "multiclass"
    classes = ("0", "1") if n_outputs == 1 else tuple(str(i) for i in range(n_outputs))
    key = label_key(name)
    return Task(name=name, kind=kind, classes=classes, window_seconds=None, label_key=key)


def _run_folder_task(checkpoint: Path) -> str | None:
    """The task name a fine-tuning run folder records (``results.json`` above ``seedN/``)."""
    for folder in (checkpoint.parent, checkpoint.parent.parent):
        f = folder / "results.json"
        if f.is_file():
            doc = read_run_json(f)  # (None: damaged; rewritten while read: raised)
            name = doc.get("task") if isinstance(doc, dict) else None
            if isinstance(name, str):
                return name
    return None


def resolve_task(loaded: Loaded, name: str | None) -> Task:
    """The classifier's task: the checkpoint's ``task`` record (its class names, windows and
    channels; ``name``, ``--task``, must be its name), else ``name``, else the run folder's
    ``results.json``. ``--task`` of the record's own name took the classes as numbers ``0``,
    ``1``, ... (a ``label:KEY``'s names lost), and of another name cut that task's windows for
    a head trained on others."""
    model = loaded.model
    if not isinstance(model, LaBraMClassifier):
        raise CheckpointError(
            f"{shown_path(loaded.source)}: a {loaded.kind} checkpoint, not a fine-tuned "
            "classifier: predictions need a best.pt of `labram finetune` (embeddings: `labram "
            "embed`)"
        )
    if loaded.head_untrained:
        raise CheckpointError(
            f"{shown_path(loaded.source)}: the file has no classifier head "
            f"({', '.join(loaded.untrained)}): its outputs would come from random weights; "
            "fine-tune it first (labram finetune --init), or use labram embed for its features"
        )
    # (a last.pt's in its extra)
    record = tokenizer_used.found_in(loaded.info, "task", source=loaded.source)
    if record is not None:
        try:
            task = task_from_record(record)
        except UsageError as exc:
            raise CheckpointError(f"{shown_path(loaded.source)}: {exc}") from None
        if name is not None and name != task.name:  # (as evaluate refuses it)
            raise UsageError(
                f"{shown_path(loaded.source)} was fine-tuned for task {task.name!r}, not {name!r}: "
                f"pass --task {task.name}, or leave --task out"
            )
    else:
        name = name or _run_folder_task(Path(loaded.source))
        if name is None:
            raise UsageError(
                f"{shown_path(loaded.source)}: the checkpoint does not say which task it was "
                "fine-tuned for: pass --task (tuab, tuev, seed_v, mobi or label:KEY)"
            )
        task = _task_by_name(name, model.n_outputs)
    check_outputs(model.n_outputs, task, source=loaded.source)
    return task


def resolve_manifest(task: Task, corpus: str | None, mains: float | None) -> Manifest:
    """How files are read: ``corpus`` (a shipped name or a .toml), else the task's corpus when
    eegprep ships one (``tuab`` -> the TUAB manifest), else the generic ``folder``."""
    from eegprep.ingestion.options import apply_overrides

    if corpus is None:
        corpus = task.name if task.name in available() else "folder"
    return apply_overrides(load_manifest(corpus), mains=mains)


# --- windows and outputs -----------------------------------------------------------------


@dataclass
class Windows:
    """The windows of one recording: ``x (n, N, A, 200)`` in 0.1 mV (a read-only view of the
    recording's samples: windows that overlap share them) and the channels."""

    x: np.ndarray
    channels: np.ndarray  # (N,) vocabulary indices
    names: list[str]  # (N,) their names
    starts: np.ndarray  # (n,) first sample of each window


def cut_windows(rec: Preprocessed, task: Task, settings: WindowSettings | None = None) -> Windows:
    """The task's windows of a recording held whole in memory
    (:func:`~labram.stages.predict_windows.plan_windows`): views of one scaled copy of its
    rows. ``settings``: what the model was fine-tuned with
    (:func:`labram.data.windows.saved_windows`); the defaults when it records none."""
    plan = plan_windows(rec, task, settings)
    rows, seconds, n, starts = plan.rows, plan.seconds, plan.n, plan.starts
    stride = n if task.stride_seconds is None else round(task.stride_seconds * PATCH_SIZE)
    data = rec.data[rows]  # (N, T), the one copy: scaled in place, the windows are views of it
    to_model_units(data, out=data)
    if rec.joins:  # stretches tiled alone: windows at irregular starts, copied
        x = np.stack([data[:, s : s + n].reshape(len(rows), seconds, PATCH_SIZE) for s in starts])
        x.setflags(write=False)
        return Windows(x, plan.channels, plan.names, starts)
    s0, s1 = data.strides
    x = np.lib.stride_tricks.as_strided(
        data,
        shape=(len(starts), len(rows), seconds, PATCH_SIZE),
        strides=(stride * s1, s0, PATCH_SIZE * s1, s1),
        writeable=False,
    )  # (n, N, A, 200): window w starts at sample w * stride
    return Windows(x, plan.channels, plan.names, starts)


def to_probabilities(task: Task, logits: np.ndarray) -> np.ndarray:
    """Per-window outputs -> probabilities ``(n, n_classes)`` (regression: the outputs)."""
    if task.kind in ("binary", "multiclass"):
        return probabilities(task.kind, logits)
    return logits.astype(np.float64)


def class_names(task: Task, n: int) -> list[str]:
    if task.kind == "regression":
        return [f"output_{i}" for i in range(n)]
    return list(task.classes)


@torch.no_grad()
def run_model(
    model: LaBraMClassifier, w: Windows, *, batch_size: int, device: torch.device
) -> tuple[np.ndarray, np.ndarray]:
    """Logits ``(n, n_outputs)`` of every window, and each window's largest magnitude
    ``(n,)``, model units (:func:`~labram.data.sample_peaks.window_peaks`). A batch of the
    read-only windows goes to PyTorch as a writable copy: one already contiguous (one window
    of a recording exactly its length) went as the view itself, which printed PyTorch's
    "NumPy array is not writable" warning, naming no file."""
    each = (w.x[k : k + batch_size] for k in range(0, len(w.x), batch_size))
    return _run_batches(model, each, w.channels, device)


@torch.no_grad()
def _run_batches(
    model: LaBraMClassifier, each: Iterable[np.ndarray], channels: np.ndarray,
    device: torch.device,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """:func:`run_model` over ``each`` batch of windows ``(B, N, A, 200)``, model units."""
    chans = torch.from_numpy(channels).to(device)
    outs, peaks = [], []
    for windows in each:
        batch = np.require(windows, np.float32, ["C", "W"])  # (B, N, A, 200): copied if not
        peaks.append(window_peaks(batch))
        x = torch.from_numpy(batch).to(device)
        outs.append(model(x, chans).float().cpu().numpy())
    return np.concatenate(outs), np.concatenate(peaks)


def _streamed_outputs(
    model: LaBraMClassifier, opened: Opened, plan: WindowPlan, batch_size: int,
    device: torch.device,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """:func:`run_model`'s results for the plan's windows, cut from the recording's blocks as
    they are preprocessed (:func:`~eegprep.ingestion.inmemory.stream_preprocessed`): one block
    and a batch held at once, however long the file. A recording the stream refuses after its
    last block raises its :class:`SourceError`: the outputs computed are dropped."""
    for attempt in (0, 1):
        stream = stream_preprocessed(opened)
        try:
            groups = freed_as_they_go(windows_from_blocks(stream, plan))
            windows = batches(groups, batch_size)
            return _run_batches(model, windows, plan.channels, device)
        except EncodingRangeError as exc:  # as an ingest: float32 (said), or refused
            if attempt:
                raise
            opened.as_float32(exc)
        finally:
            stream.close()
    raise AssertionError("unreachable")


def _summary(task: Task, names: list[str], probs: np.ndarray) -> dict[str, Any]:
    values = {c: round(float(v), 6) for c, v in zip(names, probs, strict=True)}
    if task.kind == "regression":
        return {"outputs": values}
    return {"probabilities": values, "label": names[int(predicted_class(probs[None])[0])]}


def predict_recording(
    model: LaBraMClassifier,
    task: Task,
    rec: Preprocessed,
    *,
    batch_size: int = 64,
    device: torch.device | None = None,
    settings: WindowSettings | None = None,
    source: str = "the checkpoint",
) -> dict[str, Any]:
    """Per-window and per-recording predictions of one preprocessed recording (``source``:
    the checkpoint, named when its model cannot embed the windows)."""
    w = cut_windows(rec, task, settings)
    check_windows_fit(model, w.channels, w.x.shape[2], source=source, names=w.names)
    dev = device or torch.device("cpu")
    logits, peaks = run_model(model, w, batch_size=batch_size, device=dev)
    plan = WindowPlan(np.arange(len(w.names)), w.channels, w.names, w.x.shape[2], w.starts,
                      rec.gaps)  # fmt: skip
    warnings = [*rec.warnings, *unplaced_warning(rec, task)]
    return _results(model, task, rec.path, plan, logits, peaks, warnings, source)


def predict_streamed(
    model: LaBraMClassifier,
    task: Task,
    opened: Opened,
    *,
    batch_size: int = 64,
    device: torch.device | None = None,
    settings: WindowSettings | None = None,
    source: str = "the checkpoint",
    part: str | None = None,
) -> dict[str, Any]:
    """:func:`predict_recording`'s result for a recording opened, not read
    (:func:`~eegprep.ingestion.inmemory.open_preprocessed`): its windows cut from its blocks
    as they come, so a file of any length holds one block and a batch (a 2 h file of 64
    channels at 1 kHz held 1.2-1.3 GB before). The same windows, batches and probabilities.
    ``part``: the recording's part of a multi-recording file (the one it was opened with),
    kept as the result's ``part`` after its ``file``."""
    plan = plan_windows(opened, task, settings)
    check_windows_fit(model, plan.channels, plan.seconds, source=source, names=plan.names)
    dev = device or torch.device("cpu")
    logits, peaks = _streamed_outputs(model, opened, plan, batch_size, dev)
    warnings = [*opened.warnings, *unplaced_warning(opened, task)]
    return _results(model, task, opened.path, plan, logits, peaks, warnings, source, part)


def _results(
    model: LaBraMClassifier, task: Task, path: str, plan: WindowPlan, logits: np.ndarray,
    peaks: np.ndarray, warnings: list[str], source: str, part: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """A recording's result from its windows' outputs (refused when they are not finite);
    ``part`` (of a multi-recording file) is its ``part``, a key that a file of one recording's
    result does not have."""
    starts = plan.start_seconds()  # (s of the file's own time: after a gap, not the store's)
    name = str(path) if part is None else f"{path}:{part}"

    def place(i: int) -> tuple[str, float]:  # (the file's line names the file and part)
        return name, float(starts[i])

    samples = blame_samples(peaks, place)
    check_finite_outputs(model, logits, source=source, samples=samples)
    refuse_loud(peaks, place, source=source, done="predicted")
    probs = to_probabilities(task, logits)
    names = class_names(task, probs.shape[1])
    windows = [
        {
            "start_s": float(s),
            "stop_s": float(s) + plan.seconds,
            **_summary(task, names, p),
        }
        for s, p in zip(starts, probs, strict=True)
    ]
    return {
        "file": path,
        **({} if part is None else {"part": part}),
        "n_windows": len(windows),
        "channels": plan.names,
        **_summary(task, names, probs.mean(axis=0)),
        "windows": windows,
        "warnings": warnings,
    }


def source_parts(path: str, manifest: Manifest) -> list[str | None]:
    """The recordings of the file ``path`` as an ingest lists them: each part its reader finds
    in a multi-recording file (a SEED ``.mat``'s ``djc_eeg1`` .. ``djc_eeg15``, as
    :func:`eegprep.corpus.discover.discover` asks it), ``[None]`` for a file of one recording.
    A part the store's record rule refuses (a control character, over 255 characters) is
    refused here too, as its ingest refuses it (:func:`~eegprep.base.field_text.checked_exact`),
    when it is predicted.

    Raises
    ------
    SourceError, EegprepError
        The file's parts cannot be listed (its one line)."""
    from eegprep.readers import get_reader

    parts = get_reader(manifest.reader).parts(path, **dict(manifest.reader_options))
    return list(parts) or [None]


def recording_name(path: str, part: str | None) -> str:
    """A recording as the lines of ``labram predict`` name it: the file as its problem line
    names it (:func:`_shown`), ``FILE:PART`` for a part of a multi-recording file
    (``1_20131027.mat:djc_eeg3``; the ``part`` field of ``--json`` and column of ``--csv``
    hold it apart)."""
    return _shown(path) if part is None else f"{_shown(path)}:{part}"


def _shown(path: str) -> str:
    """A FILE as its line names it: a name of spaces alone counted (a line would show nothing),
    control characters as escapes (a newline as ``\\n``, not a space that names another file),
    bytes that are not UTF-8 as ``\\xNN`` (one no file system takes is cut, by
    :func:`source_path`)."""
    if path and set(path) == {" "}:
        return f"(a name of {counted(len(path), 'space')})"
    return shown_path(path)


def _problem(path: str, exc: BaseException, part: str | None = None) -> str:
    """The one line a file (or a ``part`` of a multi-recording file: ``FILE:PART``) gets (an
    ingest's words where it has them)."""
    shown = _shown(path) if part is None else f"{_shown(path)}:{part}"
    if isinstance(exc, RateTooLowError):  # (an ingest's advice, a lower low-pass, would feed
        # the model samples filtered unlike its training data)
        return (
            f"{shown}: source rate {exc.sfreq:g} Hz cannot carry the {exc.h_freq:g} Hz "
            f"low-pass of the samples the model was trained on (a rate above "
            f"{2 * exc.h_freq:g} Hz is needed): this file cannot be predicted"
        )
    if isinstance(exc, SourceError):
        where = "" if exc.path == path else f"{_shown(os.path.basename(exc.path))}: "
        return f"{shown}: {where}{exc.problem}"
    if isinstance(exc, EegprepError):  # (a reader's message may name the file already)
        text = str(exc)
        text = text.removeprefix(f"{shown_path(path)}: ")
        return f"{shown}: {text}"
    if isinstance(exc, MemoryError):
        return f"{shown}: out of memory while processing"
    if isinstance(exc, OSError):
        return f"{shown}: {exc.strerror or exc}"
    if isinstance(exc, ModuleNotFoundError) and (line := missing_module_line(exc, "reading it")):
        return f"{shown}: {line}"  # the environment lacks a reader's module: not a bug
    log.debug("%s", traceback.format_exc())
    return redact(f"{shown}: internal error {type(exc).__name__}: {exc}")


def predict_files(
    files: Sequence[str | os.PathLike[str]],
    checkpoint: str | os.PathLike[str],
    *,
    task: str | None = None,
    corpus: str | None = None,
    mains: float | None = None,
    recipe: Recipe | None = None,
    batch_size: int = 64,
    device: str | None = None,
) -> dict[str, Any]:
    """Predict every file; a file that fails gives one line under ``failed``.

    A file whose header names a file outside its own folder (``DataFile=/etc/x``) is one
    such line, before any of its files is read
    (:func:`~eegprep.ingestion.inmemory.check_companions`); the other files are predicted, as
    an ingest skips such a recording and goes on.

    Returns
    -------
    dict
        ``checkpoint``, ``backbone_used`` (the initial weights it was fine-tuned from, as it
        records them: :mod:`labram.stages.backbone_used`; None when it records none),
        ``task``, ``classes``, ``corpus`` (the manifest used), ``recordings``
        (one dict per file predicted: ``probabilities`` and ``label``, or ``outputs`` for
        regression, ``n_windows``, ``windows``), ``failed`` (one line per file),
        ``duplicates``, ``later_parts`` and ``companions`` (the files left out, each with the
        one kept: :func:`_each_recording_once`); where
        a file holds several recordings (a SEED ``.mat``: :func:`source_parts`), each is a
        recording of its own with its ``part`` (a key the others do not have), its line in
        ``failed`` names it ``FILE:PART``, and ``n_recordings`` counts those predicted and
        failed (absent otherwise: the files are the recordings).
    """
    batch_size = _checked_arguments(batch_size, recipe, mains)  # (before the model is read)
    loaded = load_model(checkpoint)
    the_task = resolve_task(loaded, task)
    manifest = resolve_manifest(the_task, corpus, mains)
    model = loaded.model
    assert isinstance(model, LaBraMClassifier)
    dev = torch.device(check_device(device) or ("cuda" if torch.cuda.is_available() else "cpu"))
    model.to(dev).eval()
    files, left_out = _each_recording_once(files)
    settings = saved_windows(loaded.info, loaded.source)  # the windows it was fine-tuned on
    _check_fixed_windows(model, the_task, str(checkpoint))
    each = _each(files, manifest, recipe, model, the_task, batch_size, dev, settings,
                 str(checkpoint))  # fmt: skip
    recordings, failed, counts = _gathered(each)
    return {
        "checkpoint": str(checkpoint),  # then what it was fine-tuned from
        backbone_used.KEY: backbone_used.found_in(loaded.info, source=loaded.source),
        "task": the_task.name,
        "kind": the_task.kind,
        "classes": class_names(the_task, model.n_outputs),
        "corpus": manifest.name,
        "recordings": recordings,
        "failed": failed,
        **left_out,  # duplicates, later_parts
        **counts,  # n_recordings, where a file held several
    }


def _gathered(
    each: Iterable[tuple[dict[str, Any] | str, str | None]],
) -> tuple[list[dict[str, Any]], list[str], dict[str, int]]:
    """:func:`_each`'s recordings predicted and lines of those refused, and ``n_recordings``
    (how many there were) where one was a part of a multi-recording file (none otherwise)."""
    recordings: list[dict[str, Any]] = []
    failed: list[str] = []
    parted = False
    for result, part in each:
        parted = parted or part is not None
        if isinstance(result, str):
            failed.append(result)
        else:
            recordings.append(result)
    return recordings, failed, ({"n_recordings": len(recordings) + len(failed)} if parted else {})


def _checked_arguments(batch_size: int, recipe: Recipe | None, mains: float | None) -> int:
    """The batch size, checked with the recipe and the mains frequency before the model is
    read: a wrong one of these failed every file, one line each, after it."""
    batch_size = int(check_number("batch_size", batch_size))
    if recipe is not None and not isinstance(recipe, Recipe):  # (each file failed on it)
        raise UsageError(f"predict_files recipe: a {type(recipe).__name__}, not a Recipe")
    if mains is not None and (isinstance(mains, bool) or mains not in (50, 60)):
        raise invalid_value("mains", mains, expected="50 or 60 (Hz)")  # (as ingest, first)
    return batch_size


def _check_fixed_windows(model: LaBraMClassifier, task: Task, checkpoint: str) -> None:
    """Refuse, once for every file, a task of fixed windows (its channels and seconds) that
    ``model`` (of ``checkpoint``) cannot embed."""
    if task.channels is not None and task.window_seconds is not None:
        from eegprep.pipeline.channels import VOCABULARY

        # fixed windows: a model that cannot embed them fails every file, so say so once
        check_windows_fit(
            model,
            [VOCABULARY.index(c) for c in task.channels],
            task.window_seconds,
            source=checkpoint,
        )


def _each_recording_once(
    files: Sequence[str | os.PathLike[str]],
) -> tuple[list[str | os.PathLike[str]], dict[str, list[dict[str, str]]]]:
    """``files`` with each recording once, and what :func:`predict_files` says of the others:
    ``duplicates``, each a file given twice (``same_as``: by device and inode,
    :func:`without_repeats`), ``later_parts``, each a later part of a split FIF recording whose
    first part is given (``part_of``: :func:`_without_later_parts`), and ``companions``, each
    a file a header given reads (``read_with``: :func:`_without_companions`)."""
    files, repeats = without_repeats(list(files), path_of=_local_file)
    kept, parts = _without_later_parts(files)  # read with their first part, as an ingest does
    kept, read = _without_companions(kept)  # read with their header, as an ingest does
    return kept, {
        "duplicates": [{"file": os.fspath(d), "same_as": os.fspath(k)} for d, k in repeats],
        "later_parts": [{"file": os.fspath(d), "part_of": os.fspath(k)} for d, k in parts],
        "companions": [{"file": os.fspath(d), "read_with": os.fspath(k)} for d, k in read],
    }


def _without_later_parts(
    files: Sequence[str | os.PathLike[str]],
) -> tuple[
    list[str | os.PathLike[str]], list[tuple[str | os.PathLike[str], str | os.PathLike[str]]]
]:
    """``files`` without the later parts of split FIF recordings that a first part among them
    reaches (:func:`eegprep.corpus.split_parts.later_parts`, the ingest's listing rule), and
    the ``(later part, first part)`` pairs left out. A later part no first part given reaches
    stays: its reader refuses it in one line."""
    from eegprep.corpus.split_parts import FIF_SUFFIX, later_parts

    local = {i: os.path.abspath(p) for i, f in enumerate(files) if (p := _local_file(f))}
    fifs = {i: p for i, p in local.items() if p.lower().endswith(FIF_SUFFIX)}
    if len(fifs) < 2:
        return list(files), []
    reached = later_parts("", fifs.values())
    part_of: dict[int, int] = {}
    for i, first in fifs.items():
        if first in reached:
            continue
        folder = os.path.dirname(first)
        others = [p for p in fifs.values() if p in reached and os.path.dirname(p) == folder]
        for j, p in fifs.items():
            if j not in part_of and p in later_parts("", [first, *others]):
                part_of[j] = i
    kept = [f for i, f in enumerate(files) if i not in part_of]
    return kept, [(files[j], files[i]) for j, i in sorted(part_of.items())]


_RECORDING_SUFFIXES = frozenset({".edf", ".bdf", ".gdf", ".cnt", ".fif", ".mat", ".csv"})
"""Suffixes of recordings no header reads as its samples or markers: files given with only
these besides the headers leave no header to read for its companions."""


def _without_companions(
    files: Sequence[str | os.PathLike[str]],
) -> tuple[
    list[str | os.PathLike[str]], list[tuple[str | os.PathLike[str], str | os.PathLike[str]]]
]:
    """``files`` without those a header among them reads its samples or markers from, in its own
    folder (a BrainVision ``.eeg`` and ``.vmrk``, an EEGLAB ``.fdt``:
    :func:`eegprep.readers.companions.data_files`), and the ``(file, header)`` pairs left out:
    ``labram predict rec/*`` gave each a `skipped:` line (no reader takes its suffix) and
    exit status 3, where an ingest of the folder lists the headers alone. A companion whose
    header is not given stays: its line says its suffix is no recording's."""
    from eegprep.readers.companions import BRAINVISION_HEADERS, data_files

    local = {i: os.path.realpath(p) for i, f in enumerate(files) if (p := _local_file(f))}
    headers = [i for i, p in local.items() if p.lower().endswith((*BRAINVISION_HEADERS, ".set"))]
    others = {os.path.splitext(p)[1].lower() for i, p in local.items() if i not in headers}
    if not headers or not others - _RECORDING_SUFFIXES:  # (no header is read for nothing)
        return list(files), []
    owner: dict[str, int] = {}
    for i in headers:
        try:
            found = data_files(local[i])
        except Exception:  # (a header that cannot be read: its own line when it is predicted)
            continue
        for c in map(os.path.realpath, found):  # (one outside its folder: the header's line)
            if os.path.dirname(c) == os.path.dirname(local[i]):
                owner.setdefault(c, i)
    read_with = {j: owner[p] for j, p in local.items() if owner.get(p, j) != j}
    kept = [f for j, f in enumerate(files) if j not in read_with]
    return kept, [(files[j], files[i]) for j, i in sorted(read_with.items())]


def _local_file(given: str | os.PathLike[str]) -> str | None:
    """The file a FILE argument names (:func:`source_path`), to tell a recording given twice;
    None for one that names no file (it gets its own line where it is predicted)."""
    try:
        return source_path(os.fspath(given))
    except SourceError:
        return None


def _each(
    files: Sequence[str | os.PathLike[str]],
    manifest: Manifest,
    recipe: Recipe | None,
    model: LaBraMClassifier,
    task: Task,
    batch_size: int,
    device: torch.device,
    settings: WindowSettings | None = None,
    source: str = "the checkpoint",
) -> Iterator[tuple[dict[str, Any] | str, str | None]]:
    """Each recording of ``files`` predicted (its result) or refused (its one line), with its
    part (None for a file of one recording, or one refused whole)."""
    for f in files:
        try:
            path = source_path(str(f))
        except SourceError as exc:  # named as given: no reader's hint applies
            yield f"{exc.path if exc.path != str(f) else _shown(exc.path)}: {exc.problem}", None
            continue
        try:  # a header reaching outside its folder: its line, before anything is read
            check_companions(path, command="labram predict")
        except SourceError as exc:
            yield f"{_shown(exc.path)}: {exc.problem}", None
            continue
        try:
            parts = source_parts(path, manifest)
        except Exception as exc:  # (a file whose recordings cannot be listed: its one line)
            yield _problem(path, exc) + _other_format_hint(path, manifest), None
            continue
        for part in parts:
            try:  # a part the record rule refuses: the file's line names it, as an ingest's
                if part is not None:
                    checked_exact(path, "part", part)
            except SourceError as exc:
                yield f"{_shown(path)}: {exc.problem}", part
                continue
            try:
                opened = open_preprocessed(path, manifest, recipe=recipe, part=part)
                yield predict_streamed(
                    model, task, opened, batch_size=batch_size, device=device,
                    settings=settings, source=source, part=part,
                ), part  # fmt: skip
            except Exception as exc:  # one line per bad recording; the others go on
                yield _problem(path, exc, part) + _other_format_hint(path, manifest), part


def source_path(given: str) -> str:
    """The file a FILE argument names (a ``file:`` URL decoded), or a :class:`SourceError`
    naming it: an empty path, one no file system takes, a folder, a broken link, something
    that is not a regular file (a FIFO or a device would be read forever), a missing file, a
    name that is not UTF-8 (the EDF reader failed on it with an encoder's message).
    Each is that file's one line, as a bad file's own content is: the others are predicted."""
    from eegprep.base.file_urls import file_url_path, is_file_url
    from eegprep.base.path_limits import path_problem
    from eegprep.base.regular_files import special_file

    if not given:
        raise SourceError("''", "an empty path: give a file")
    path = given
    if is_file_url(given):
        try:
            path = file_url_path(given)
        except EegprepError as exc:
            raise SourceError(shown_path(given), str(exc).split(": ", 1)[-1]) from None
    problem = path_problem(path)
    if problem is not None:
        raise SourceError(shown_path(path), problem)
    if os.path.isdir(path):
        raise SourceError(path, "a folder, not a file: give the recordings in it (DIR/*.edf)")
    if not os.path.exists(path):
        raise SourceError(path, _absent(path))
    kind = special_file(path)
    if kind is not None:  # as the ingest says it: a FIFO would be read forever
        raise SourceError(path, f"{kind}, not a file: nothing to read; give a file")
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:  # a byte that is not UTF-8, as os.fsdecode gives it
        raise SourceError(
            path,
            "its name is not UTF-8 (bytes shown as \\xNN), which the readers cannot "
            "open: rename it (e.g. `convmv -f latin1 -t utf8`)",
        ) from None
    return path


def _absent(path: str) -> str:
    """Why a path that does not exist names no file: a symbolic link loop or a path through
    one (it was called a link to nothing), a path through a file (``x.edf/y.edf``: called no
    such file), a link to nothing, or nothing there."""
    import errno

    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "a symbolic link loop (or a path through one): give a path without it"
        if exc.errno == errno.ENOTDIR:
            return "a path through a file, as if it were a folder: no such file"
    if os.path.islink(path):
        return "a symbolic link to nothing"
    from eegprep.base.path_limits import unmatched_pattern

    return f"no such file{unmatched_pattern(path)}"


def _other_format_hint(path: str, manifest: Manifest) -> str:
    """A hint for a file that ``manifest``'s corpus does not list by its suffix (a BrainVision
    file under TUAB's manifest, which reads EDF only), to append to its problem; ``""`` when
    the suffix is one the manifest's include globs name, or they name none."""
    wanted = {PurePosixPath(g).suffix.lower() for g in manifest.include} - {"", ".*"}
    suffix = Path(path).suffix.lower()
    if not wanted or suffix in wanted or manifest.name == "folder":
        return ""
    return (
        f" (the {manifest.name} corpus reads {', '.join(sorted(wanted))} files: give --corpus "
        "folder to read this one by its suffix)"
    )


def _values(item: dict[str, Any]) -> dict[str, float]:
    return item.get("probabilities") or item.get("outputs") or {}


def table_lines(res: dict[str, Any], *, per_window: bool = False) -> list[str]:
    """:func:`predict_files`' result as text: one line per recording, the positive class's
    probability for a binary task ("abnormal: 0.93"), every class's otherwise, then the label;
    with ``per_window``, a line per window under each. A class name holding the line's
    separators (``:``, two spaces) is quoted (:func:`eegprep.base.field_text.listed_text`)."""
    binary = len(res["classes"]) == 2 and res.get("kind", "binary") != "regression"

    from eegprep.base.field_text import listed_text  # (a class holding ": " or "  " quoted)

    def text(item: dict[str, Any]) -> str:
        values = _values(item)
        shown = list(values.items())[-1:] if binary else list(values.items())
        probs = "  ".join(f"{listed_text(k)}: {v:.2f}" for k, v in shown)
        return f"{probs}  -> {listed_text(item['label'])}" if "label" in item else probs

    lines = []
    for rec in res["recordings"]:
        n_windows = counted(rec["n_windows"], "window")
        name = recording_name(rec["file"], rec.get("part"))
        lines.append(f"{name}  {text(rec)}  ({n_windows})")
        if per_window:
            lines += [
                f"  {w['start_s']:8.1f}-{w['stop_s']:.1f} s  {text(w)}" for w in rec["windows"]
            ]
    return lines


def write_csv(res: dict[str, Any], out: TextIO, *, per_window: bool = False) -> None:
    """:func:`predict_files`' result as CSV: a row per recording (or per window), a column per
    class (``p_<class>``, as ``predictions.csv`` names them; a regression's ``output_<j>``),
    then the label. The prefix keeps a class named ``label``, ``file`` or ``n_windows`` from
    naming a second column as a fixed one (a reader by name took one for the other). Where a
    recording is a part of a multi-recording file, a ``part`` column follows ``file`` (empty
    for a file of one recording); a table of such files alone has none, as before."""
    from labram.stages.predictions import CsvRows

    cols = list(res["classes"])
    regression = res.get("kind") == "regression"
    parted = any(rec.get("part") is not None for rec in res["recordings"])
    writer = CsvRows(out)  # a class name's carriage return quoted, not a row's end
    head = ["file", *(["part"] if parted else [])]
    head += ["start_s", "stop_s"] if per_window else ["n_windows"]
    writer.writerow([*head, *(c if regression else f"p_{c}" for c in cols), "label"])
    for rec in res["recordings"]:
        named = [rec["file"], *([rec.get("part") or ""] if parted else [])]
        for item in rec["windows"] if per_window else [rec]:
            first = [item["start_s"], item["stop_s"]] if per_window else [rec["n_windows"]]
            values = _values(item)
            writer.writerow([*named, *first, *(values[c] for c in cols), item.get("label", "")])


__all__ = [
    "class_names",
    "cut_windows",
    "predict_files",
    "predict_recording",
    "recording_name",
    "resolve_task",
    "source_parts",
    "source_path",
    "table_lines",
    "to_probabilities",
    "write_csv",
]
