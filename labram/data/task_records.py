"""A task as a fine-tuned checkpoint records it: the plain-data record (:func:`task_record`),
its check when read (:func:`task_record_problem`), the task it gives back
(:func:`task_from_record`, :func:`checkpoint_task`) and the check of a classifier's head
against the task it is scored on (:func:`check_outputs`)."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any

from eegprep.base.errors import UsageError
from eegprep.base.field_text import text_problem
from eegprep.base.path_limits import shown_path
from eegprep.base.wording import counted
from eegprep.store.reader import Store
from labram.data.label_forms import is_numeric, label_text
from labram.data.tasks import Task, get_task, label_key, label_values
from labram.data.windows import STRIDE_RANGE, stride_fits

log = logging.getLogger(__name__)


def task_record(task: Task) -> dict[str, Any]:
    """The plain-data description of ``task`` that a fine-tuned checkpoint can carry under
    ``task`` (what ``labram predict`` needs to cut windows and name classes)."""
    return {
        "name": task.name,
        "kind": task.kind,
        "classes": list(task.classes),
        "channels": list(task.channels) if task.channels is not None else None,
        "window_seconds": task.window_seconds,
        "stride_seconds": task.stride_seconds,
    }


MAX_WINDOW_SECONDS = 3600
"""The longest window a task record may give (an hour; LaBraM's are 1-30 s)."""


def task_from_record(rec: dict[str, Any]) -> Task:
    """Inverse of :func:`task_record`.

    Raises
    ------
    UsageError
        A record :func:`task_record` does not write (a damaged or crafted checkpoint).
    """
    problem = task_record_problem(rec)
    if problem:
        raise UsageError(f"its task record is not valid: {problem}")
    chans = rec.get("channels")
    return Task(
        name=str(rec["name"]),
        kind=str(rec["kind"]),
        classes=tuple(str(c) for c in rec.get("classes") or ()),
        channels=tuple(chans) if chans is not None else None,
        window_seconds=rec.get("window_seconds"),
        stride_seconds=rec.get("stride_seconds"),
    )


def check_outputs(n_outputs: int, task: Task, *, source: str) -> None:
    """Refuse a classifier whose head has another number of outputs than ``task`` scores.

    A TUEV model (6 logits) scored as TUAB (1 logit) still gives numbers, every one of them
    meaningless. A regression task takes the head's outputs as its targets, whatever their
    number.

    Raises
    ------
    UsageError
        Naming ``source``, both counts and the task's classes.
    """
    if task.kind == "regression" or n_outputs == task.n_outputs:
        return
    raise UsageError(
        f"{shown_path(source)}: its head has {counted(n_outputs, 'output')}, but task "
        f"{task.name!r} needs {task.n_outputs} (classes {', '.join(task.classes)}): pass a "
        f"checkpoint fine-tuned for {task.name}, or --task for the task this one was fine-tuned for"
    )


def checkpoint_task(name: str, stores: Sequence[Store], record: Any, *, source: str) -> Task:
    """Task ``name`` as the fine-tuned checkpoint ``source`` knows it, to score it on ``stores``.

    ``record``: the checkpoint's ``task`` entry (:func:`task_record`). A ``label:KEY`` task keeps
    the checkpoint's classes, by name, whatever values the stores hold: a window whose label
    value is not one of them cannot be scored and is left out, with a warning naming the values;
    when no value of the stores is a class, that is a :class:`UsageError` naming them. A
    checkpoint without a record (an older labram) takes the classes from the stores, with a
    warning.

    Raises
    ------
    UsageError
        The record names another task, is not valid, or no label value of the stores is one of
        its classes.
    """
    if record is None:
        log.warning(
            "%s records no task: the classes of %r are those of the stores given, which may not "
            "be the ones it was fine-tuned on",
            shown_path(source), name,
        )  # fmt: skip
        return get_task(name, stores)
    try:
        saved = task_from_record(record)
    except UsageError as exc:
        raise UsageError(f"{shown_path(source)}: {exc}") from None
    if saved.name != name:
        raise UsageError(
            f"{shown_path(source)} was fine-tuned for task {saved.name!r}, not {name!r}: pass "
            f"--task {saved.name}"
        )
    if not name.startswith("label:"):
        return get_task(name)
    key = label_key(name)
    task = Task(
        name=name, kind=saved.kind, classes=saved.classes, window_seconds=None, label_key=key
    )
    numeric = is_numeric(task.classes)
    known = {label_text(c, numeric=numeric) for c in task.classes}
    values = label_values(key, stores, name, numeric=numeric)
    unknown = [v for v in values if v not in known]
    if unknown and len(unknown) == len(values):
        raise UsageError(
            f"task {name!r}: no value of label {key!r} in the stores ({unknown}) is a class of "
            f"{shown_path(source)} ({list(task.classes)}): there is nothing it can be scored on"
        )
    if unknown:
        log.warning(
            "task %r: label values %s are not classes of %s (%s): their windows are left out",
            name, unknown, shown_path(source), list(task.classes),
        )  # fmt: skip
    return task


def _bad_record_names(rec: dict[str, Any]) -> str | None:
    """What is wrong with a task record's classes (two for a binary task: its head's one
    output is the second's probability) or channels (names of the canonical vocabulary, which
    windows are cut by), or None."""
    from eegprep.pipeline.channels import VOCABULARY

    classes = rec.get("classes") or []
    if rec["kind"] == "binary" and len(classes) != 2:
        return f"classes: {counted(len(classes), 'name')}, where a binary task has two"
    unknown = [c for c in rec.get("channels") or () if c not in VOCABULARY]
    if unknown:
        return f"channels {[c[:20] for c in unknown[:8]]} are not names of the channel vocabulary"
    return None


def task_record_problem(rec: Any) -> str | None:
    """What is wrong with a task record (what :func:`task_record` writes), or None: the
    ``task`` a checkpoint carries is checked by it when read
    (:func:`labram.stages.tokenizer_used.found_in`) and by :func:`task_from_record`."""
    if not isinstance(rec, dict) or not isinstance(rec.get("name"), str):
        return "no task name"
    if rec.get("kind") not in ("binary", "multiclass", "regression"):
        return f"kind {rec.get('kind')!r} (binary, multiclass or regression)"
    for key in ("classes", "channels"):
        value = rec.get(key)
        if value is not None and not (
            isinstance(value, list | tuple) and all(isinstance(v, str) for v in value)
        ):
            return f"{key} {value!r} is not a list of names"
        seen: set[str] = set()
        for v in value or ():
            if v in seen:
                return f"{key} names {v[:80]!r} twice"
            seen.add(v)
    for what, text in (("name", rec["name"]), *(("a class", c) for c in rec.get("classes") or ())):
        # (the record text rule of the labels classes are made of: a 1 MB class name, or one
        # holding ESC, went into every prediction line and CSV cell)
        said = text_problem(text)
        if said is not None:
            return f"{what} {text[:40]!a}{'...' if len(text) > 40 else ''} {said}"
    problem = _bad_record_names(rec)
    if problem:
        return problem
    for key, upper in (("window_seconds", MAX_WINDOW_SECONDS), ("stride_seconds", None)):
        value = rec.get(key)
        if value is None:
            continue
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if not number or not math.isfinite(value) or value <= 0:
            return f"{key} {value!r} is not a positive number"
        if key == "window_seconds" and (value != int(value) or (upper and value > upper)):
            return f"{key} {value!r} is not a whole number of seconds up to {upper}"
        if key == "stride_seconds" and not stride_fits(value):  # (0 or int64's overflow)
            return f"{key} {value!r} is not a number of {STRIDE_RANGE}"
    return None
