"""Downstream tasks: channels, windows, labels, loss and metrics, and the train/val/test split.

Protocols (docs/training.md, docs/corpora.md#tuab and #tuev):

- ``tuab``: 23 channels in the protocol order, non-overlapping 10 s windows, recording label
  ``abnormal`` (1 logit, BCE).
- ``tuev``: 23 channels, one 5 s window per event (onset - 2 s .. onset + 3 s, i.e. start-2 s to
  end+2 s for TUEV's 1 s events), 6 classes SPSW GPED PLED EYEM ARTF BCKG, label smoothing 0.1.
- ``seed_v``: every addressable channel, 4 s non-overlapping windows (62 ch x 4 s ~ 256 tokens)
  tiled inside each trial event ``emotion/<0-4>`` (the SEED-V manifest stores the 15 trials of a
  session as events), 5 classes.
- ``mobi``: every addressable channel, 2 s windows with a 1 s stride, regression of the mean
  of the stored ``joints`` series (12 joint angles, degrees) over the window, divided by 90 as
  LaBraM does.
- ``label:KEY``: any labelled store: recording label ``KEY``, classes = its distinct
  values (numbers in order of value), windows at the token budget.

Split: recordings whose ``split`` is ``eval``/``test`` are the test set (the official evaluation
set); the other recordings' subjects (by ``subject_key``) are split 80/20 into train/validation
with a fixed seed.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from eegprep.base.errors import UsageError
from eegprep.base.field_text import text_problem
from eegprep.base.validation import check_choice
from eegprep.base.wording import counted, noun
from eegprep.corpus.sidecars.tuh import TUEV_CLASSES as TUEV_CODES
from eegprep.pipeline.channels import N_ADDRESSABLE
from eegprep.store.event_span import events_inside
from eegprep.store.reader import Store
from eegprep.store.record import source_identity as record_source_identity
from eegprep.store.recording import Recording
from labram.data.code_books import book_of, book_text, check_books, other_book
from labram.data.joins import crosses_join, stretches, tiled_starts
from labram.data.label_forms import (
    check_numbers,
    check_spellings,
    class_order,
    is_label,
    is_numeric,
    label_text,
)
from labram.data.splits import is_test_split
from labram.data.subjects import subject_key, subject_of
from labram.data.unlabelled import lacks_label, warn_empty_test, warn_unlabelled
from labram.data.windows import (
    RecordingPlan,
    WindowIndex,
    WindowSettings,
    assign_blocks,
    no_samples,
    open_stores,
    select_channels,
    window_seconds,
)
from labram.model.config import PATCH_SIZE

log = logging.getLogger(__name__)

PROTOCOL_23 = tuple(
    "FP1 FP2 F3 F4 C3 C4 P3 P4 O1 O2 F7 F8 T3 T4 T5 T6 A1 A2 FZ CZ PZ T1 T2".split()
)
TUEV_CLASSES = tuple(name.upper() for _, name in sorted(TUEV_CODES.items()))
"""TUEV's six classes in code order (1..6), upper case as the task reports them."""


@dataclass(frozen=True, kw_only=True)
class Task:
    """What a downstream task reads and predicts."""

    name: str
    kind: str  # binary | multiclass | regression
    classes: tuple[str, ...] = ()
    channels: tuple[str, ...] | None = None  # fixed protocol order; None: the recording's own
    window_seconds: int | None = 10  # None: token budget
    stride_seconds: float | None = None  # None: non-overlapping
    label_key: str | None = None  # recording-level label
    events: bool = False  # one window per event (tuev)
    target_name: str | None = None  # regression: a series stored beside the EEG
    target_scale: float = 1.0  # regression targets are multiplied by this
    event_prefix: str | None = None  # tile windows inside events "<prefix><class>" (seed_v)
    codes_key: str | None = None  # the classes are a corpus's codes of this label (code_books)
    codes: dict[str, str] = field(default_factory=dict)  # code -> what it means, that corpus's
    label_smoothing: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def n_outputs(self) -> int:
        if self.kind == "binary":
            return 1
        if self.kind == "multiclass":
            return len(self.classes)
        return int(self.extra.get("n_targets", 1))

    @property
    def selection_metric(self) -> str:
        """The validation metric that picks the model."""
        return {"binary": "auroc", "multiclass": "balanced_accuracy"}.get(self.kind, "pearson_r")

    @property
    def report_metrics(self) -> list[str]:
        if self.kind == "binary":
            return ["balanced_accuracy", "auc_pr", "auroc", "cohen_kappa", "weighted_f1"]
        if self.kind == "multiclass":
            return ["balanced_accuracy", "cohen_kappa", "weighted_f1", "auroc"]
        return ["pearson_r", "r2", "rmse"]


TASKS: dict[str, Task] = {
    "tuab": Task(
        name="tuab",
        kind="binary",
        classes=("normal", "abnormal"),
        channels=PROTOCOL_23,
        window_seconds=10,
        label_key="abnormal",
    ),
    "tuev": Task(
        name="tuev",
        kind="multiclass",
        classes=TUEV_CLASSES,
        channels=PROTOCOL_23,
        window_seconds=5,
        events=True,
        label_smoothing=0.1,
        codes_key="event",  # TUEV's .rec codes, its recordings' event_codes
        codes={str(code): name for code, name in sorted(TUEV_CODES.items())},
    ),
    "seed_v": Task(
        name="seed_v",
        kind="multiclass",
        classes=tuple("01234"),
        window_seconds=4,
        event_prefix="emotion/",
        codes_key="emotion",  # SEED-V's codes (docs/corpora.md#seed_v), its emotion_codes
        codes={"0": "disgust", "1": "fear", "2": "sad", "3": "neutral", "4": "happy"},
    ),
    "mobi": Task(
        name="mobi",
        kind="regression",
        window_seconds=2,
        stride_seconds=1.0,
        target_name="joints",
        target_scale=1 / 90,
        extra={"n_targets": 12},
    ),
}


def source_identity(rec: Recording) -> str:
    """What makes two recordings the same one whatever their ids: the source file's content
    digest (BLAKE3, or SHA-256 in older records) and the part of it the recording is; ``""``
    when the record states no digest."""
    meta = rec.meta
    return record_source_identity(
        meta.get("source_blake3") or meta.get("source_sha256"), meta.get("part")
    )


def is_scalar_label(value: Any) -> bool:
    """Whether a recording label value can be a class: a string, number or boolean (not null,
    a list or a table, nor a number that is not finite, nor a string spelling one:
    :func:`~labram.data.label_forms.is_label`)."""
    return is_label(value)


def label_values(
    key: str, stores: Sequence[Store], task_name: str, *, numeric: bool | None = None
) -> list[str]:
    """The distinct values of recording label ``key`` over ``stores`` in class order (by value
    where they are numbers, :func:`~labram.data.label_forms.class_order`), each in its
    canonical text (:func:`~labram.data.label_forms.label_text`: ``1``, ``1.0``, ``True`` and,
    where the label is numeric, ``"1.0"`` are one value ``"1"``; names NFC and stripped).

    ``numeric``: read the values as numbers or names (None: numbers when every value is one). A
    value that is not a single value (:func:`is_scalar_label`) is left out with one warning that
    names a recording holding it: such a recording is not labelled.

    Raises
    ------
    UsageError
        The values are names and two of them spell one number two ways (``"1"``, ``"1.0"``),
        or a value spells a number beyond float64 (``"1e400"``), or they are numbers and two
        recordings' code books give one of them two meanings
        (:func:`~labram.data.code_books.check_books`: SEED's 1 positive, SEED-IV's 1 sad).
    """
    found: list[tuple[str, Any]] = []
    odd: list[tuple[str, Any]] = []
    books: list[tuple[str, dict[str, str]]] = []  # (recording, its code book of the label)
    for store in stores:
        for rec in store:
            if key not in rec.labels:
                continue
            pair = (rec.id, rec.labels[key])
            (found if is_scalar_label(pair[1]) else odd).append(pair)
            book = book_of(rec.labels, key)
            if book is not None:
                books.append((rec.id, book))
    if odd:
        rid, value = odd[0]
        log.warning(
            "task %r: %s %s a value of label %r that is not a single value (null, a list, a "
            "table, NaN; e.g. %s: %r): %s not labelled and give no window",
            task_name, counted(len(odd), "recording"), noun(len(odd), "holds", "hold"), key, rid,
            value, "it is" if len(odd) == 1 else "they are",
        )  # fmt: skip
    check_numbers(key, found, task_name=task_name)
    if numeric is None:
        numeric = is_numeric(v for _, v in found)
    if not numeric:
        check_spellings(key, found, task_name=task_name)
    else:  # (codes: numbers whose meaning is a corpus's own)
        check_books(key, books, task_name=task_name)
    return class_order((label_text(v, numeric=numeric) or "" for _, v in found), numeric=numeric)


def task_name_problem(name: str) -> str | None:
    """Why no store's task can be named ``name``, in words naming it (shortened, escaped);
    None when one may. A recording label's key, as every record's text, is at most
    :data:`~eegprep.base.field_text.MAX_CHARS` printable characters: a longer ``label:KEY``
    (or name) was echoed whole, twice, in a line of 10 kB, after the stores were read."""
    key = name.removeprefix("label:")
    problem = text_problem(key)
    if problem is None:
        return None
    shown = ascii(name) if len(ascii(name)) <= 60 else ascii(name)[:57] + "..."
    what = "its label key" if name.startswith("label:") else "it"
    return (
        f"{shown}: {what} {problem}, so no store's label is named so; give tuab, tuev, seed_v, "
        "mobi or label:KEY, KEY a recording label of the stores"
    )


def label_key(name: str) -> str:
    """The KEY of a task name ``label:KEY``; one line when it names none (``label:``) or none a
    store can hold (:func:`task_name_problem`)."""
    key = name.split(":", 1)[1]
    if not key:
        raise UsageError(
            f"task {name!r} names no label: give label:KEY, KEY a recording label of the stores"
        )
    if (problem := task_name_problem(name)) is not None:
        raise UsageError(f"task {problem}")
    return key


def get_task(name: str, stores: Sequence[Store] = ()) -> Task:
    """A task by name (``tuab``, ``tuev``, ``seed_v``, ``mobi``, ``label:KEY``)."""
    if name.startswith("label:"):
        key = label_key(name)
        values = label_values(key, stores, name)
        if len(values) < 2:
            raise UsageError(
                f"task {name!r}: the stores hold {len(values)} distinct values of "
                f"label {key!r}; need at least 2"
            )
        kind = "binary" if values == ["0", "1"] else "multiclass"
        return Task(name=name, kind=kind, classes=tuple(values), window_seconds=None, label_key=key)
    check_choice("task", name, TASKS, hint="or label:KEY (any recording label of the stores)")
    return TASKS[name]


def _rows(rec: Recording, task: Task, max_channels: int) -> tuple[np.ndarray, np.ndarray] | None:
    if task.channels is None:
        return select_channels(rec, max_channels)
    pos = {c: i for i, c in enumerate(rec.channels)}
    if any(c not in pos for c in task.channels):
        return None
    rows = np.array([pos[c] for c in task.channels], dtype=np.int64)
    return rows, np.asarray(rec.channel_index, dtype=np.int64)[rows]


def _numeric(task: Task) -> bool:
    """Whether ``task``'s label values read as numbers (:mod:`~labram.data.label_forms`): a
    built-in task's always (TUAB's abnormal 0/1, TUEV's codes 1..6; a name stays a name), a
    ``label:KEY`` task's when every class is a number."""
    return not task.name.startswith("label:") or _canonical_classes(task.classes)[0]


@functools.lru_cache(maxsize=64)
def _canonical_classes(classes: tuple[str, ...]) -> tuple[bool, tuple[str | None, ...]]:
    """Whether ``classes`` are all numbers, and each class in canonical form (once per task,
    not once per recording or event)."""
    numeric = is_numeric(classes)
    return numeric, tuple(label_text(c, numeric=numeric) for c in classes)


def _class_of(task: Task, value: Any) -> int | None:
    """Class number of a label value, by its canonical text
    (:func:`~labram.data.label_forms.label_text`): for ``label:KEY`` the value names the class
    (so a digit that is not a class name is no class; a checkpoint's class ``"1.0"`` or NFD
    name is read in canonical form too); for the built-in tasks a name in any case, or a
    number: an event task's (TUEV's) its ``.rec`` code, 1-based (1 spsw .. 6 bckg; 0 is no
    code, so no class), a recording label's a 0-based integer (TUAB's ``abnormal`` 0/1)."""
    numeric = _numeric(task)
    text = label_text(value, numeric=numeric) if is_scalar_label(value) else None
    if text is None:
        return None
    if task.name.startswith("label:"):
        names = _canonical_classes(task.classes)[1]
        return names.index(text) if text in names else None
    text = text.upper()  # (TUAB's abnormal 1.0 was no class)
    classes = [c.upper() for c in task.classes]
    if text in classes:
        return classes.index(text)
    # (ASCII digits alone: ``isdigit`` passes ``²``, on which ``int`` failed, an internal
    # error, and ``٣``, an Arabic-Indic 3, read as TUEV's code 3)
    digits = text.isascii() and text.isdigit()
    if task.events:  # TUEV's .rec numbers 1..6 (0 was taken as SPSW, as 1 is)
        return int(text) - 1 if digits and 1 <= int(text) <= len(classes) else None
    if digits and int(text) < len(classes):
        return int(text)
    return None


def _windows(
    store: Store, rec: Recording, task: Task, seconds: int, edge_events: str = "drop"
) -> tuple[list[int], list[list[float]]]:
    """Starts and labels of one recording's windows (``edge_events``: an event window that
    leaves the recording is dropped, or kept to be read wrapped around, as the authors did);
    none across a join of the recording's stretches (:mod:`labram.data.joins`): tiled windows
    start again at each stretch, an event window across one is dropped. Only events inside the
    recording give windows (:func:`~eegprep.store.event_span.events_inside`: an earlier
    version's record may hold events past its end or before 0)."""
    n = seconds * PATCH_SIZE
    if task.events:
        starts, labels = [], []
        for ev in events_inside(rec):
            cls = _class_of(task, ev.label)
            start = round((ev.onset - 2.0) * PATCH_SIZE)
            inside = start >= 0 and start + n <= rec.n_samples
            fits = inside or (edge_events == "wrap" and -rec.n_samples < start < rec.n_samples)
            if fits and crosses_join(start, n, rec.n_samples, rec.joins):
                continue  # two stretches in one window: dropped as an edge event is
            if cls is not None and fits:
                starts.append(start)
                labels.append([float(cls)])
        return starts, labels
    stride = n if task.stride_seconds is None else round(task.stride_seconds * PATCH_SIZE)
    if task.event_prefix is not None:
        return _windows_in_events(rec, task, n, stride)
    starts = tiled_starts(rec.n_samples, rec.joins, n, stride)  # never across a join
    if task.kind == "regression":
        target = store.read_target(rec.id, task.target_name or "")  # (n_targets, n_samples)
        scale = task.target_scale
        return starts, [list(target[:, s : s + n].mean(axis=1) * scale) for s in starts]
    if task.label_key not in rec.labels:
        return [], []
    cls = _class_of(task, rec.labels[task.label_key])
    return (starts, [[float(cls)]] * len(starts)) if cls is not None else ([], [])


def _no_class(task: Task, rec: Recording) -> bool:
    """Whether ``rec`` holds the recording label of a task labelled by one (not by events, not
    a regression) as a value that names none of its classes: a single value that is none, or
    null, a list or a table (TUAB's ``abnormal`` of ``[1]`` was left out without a word)."""
    key = task.label_key
    if key is None or task.events or task.event_prefix is not None or task.kind == "regression":
        return False
    if key not in rec.labels:
        return False
    value = rec.labels[key]  # (a label:KEY task's values that are none: warned with its classes)
    return _class_of(task, value) is None and (
        is_label(value) or not task.name.startswith("label:")
    )


def _windows_in_events(
    rec: Recording, task: Task, n: int, stride: int
) -> tuple[list[int], list[list[float]]]:
    """Windows tiled inside each event labelled ``<event_prefix><class>`` (trials), each event
    cut at the recording's ends (:func:`~eegprep.store.event_span.events_inside`), each
    continuous stretch of it alone (:mod:`labram.data.joins`)."""
    prefix = task.event_prefix or ""
    starts: list[int] = []
    labels: list[list[float]] = []
    for ev in events_inside(rec):
        if not str(ev.label).startswith(prefix):
            continue
        cls = _class_of(task, str(ev.label)[len(prefix) :])
        if cls is None:
            continue
        lo = max(0, round(ev.onset * PATCH_SIZE))
        hi = min(rec.n_samples, round((ev.onset + ev.duration) * PATCH_SIZE))
        for a, b in stretches(rec.n_samples, rec.joins):  # each stretch of the event alone
            for s in range(max(lo, a), min(hi, b) - n + 1, stride):
                starts.append(s)
                labels.append([float(cls)])
    return starts, labels


def split_subjects(
    keys: Sequence[str],
    *,
    seed: int,
    val_fraction: float = 0.2,
    rounding: str = "round",
    strata: Sequence[str] | None = None,
) -> set[str]:
    """The validation subjects: ``val_fraction`` of the sorted distinct keys, seeded.

    ``rounding``: ``round(f n)`` validation subjects (at least 1 of 2 or more), or ``floor``,
    ``int(f n)`` as the authors' TUEV split. ``strata``: one label per key (parallel to
    ``keys``); each stratum is split on its own, so validation keeps the classes' proportions.
    """
    if strata is None:
        strata = [""] * len(keys)
    by_stratum: dict[str, set[str]] = {}
    for k, st in zip(keys, strata, strict=True):
        by_stratum.setdefault(st, set()).add(k)
    out: set[str] = set()
    for i, st in enumerate(sorted(by_stratum)):
        uniq = sorted(by_stratum[st])
        if rounding == "floor":
            n_val = int(val_fraction * len(uniq))
        else:
            n_val = max(1, round(val_fraction * len(uniq))) if len(uniq) > 1 else 0
        order = np.random.default_rng(seed + i).permutation(len(uniq))
        out |= {uniq[j] for j in order[:n_val]}
    return out


def _subject_strata(recs: Sequence[Recording], task: Task) -> dict[str, str]:
    """Each subject's stratum: its recordings' distinct values of the task's recording label
    (one stratum for tasks without one)."""
    values: dict[str, set[str]] = {}
    for r in recs:
        label = r.labels.get(task.label_key) if task.label_key else None
        text = label_text(label, numeric=_numeric(task)) if is_scalar_label(label) else None
        values.setdefault(subject_of(r), set()).add(str(label) if text is None else text)
    return {k: "|".join(sorted(v)) for k, v in values.items()}


def default_val_subjects(
    stores: Sequence[Store], task: Task, *, split_seed: int, val_split: str, val_rounding: str
) -> set[str]:
    """The validation subjects of the default split: those of :func:`split_subjects` over the
    subjects (``subject_key``, else ``subject``) of the recordings outside the test set."""
    trainval = [r for s in stores for r in s if not is_test_split(r.split)]
    strata = _subject_strata(trainval, task) if val_split == "stratified" else {}
    keys = sorted({subject_of(r) for r in trainval})
    return split_subjects(
        keys,
        seed=split_seed,
        rounding=val_rounding,
        strata=[strata.get(k, "") for k in keys],
    )


def build_task_indexes(
    stores: Sequence[str | Store],
    task: Task,
    *,
    windows: WindowSettings | None = None,
    split_seed: int = 0,
    val_split: str = "stratified",
    val_rounding: str = "round",
    edge_events: str = "drop",
    quiet: bool = False,
) -> dict[str, WindowIndex]:
    """Windows of each split: ``{"train", "val", "test"}``.

    ``val_split``: ``stratified`` splits each value of the task's recording label on its own
    (TUAB: abnormal and normal subjects 80/20 each, as the authors); ``subject`` splits all
    subjects at once. ``val_rounding`` and ``edge_events``: :func:`split_subjects`,
    :func:`_windows`. ``windows`` (:class:`~labram.data.windows.WindowSettings`, the defaults
    when None): its token budget and longest window size the windows of a task without a
    fixed length (``label:KEY``), its channel cap limits a task without fixed channels, its
    block length groups the reads.
    """
    opened = open_stores(stores)
    val_subjects = default_val_subjects(
        opened, task, split_seed=split_seed, val_split=val_split, val_rounding=val_rounding
    )

    def split_of(rec: Recording) -> str:
        if is_test_split(rec.split):
            return "test"
        return "val" if subject_of(rec) in val_subjects else "train"

    out = index_by(
        opened,
        task,
        split_of,
        ("train", "val", "test"),
        windows=windows or WindowSettings(),
        edge_events=edge_events,
        quiet=quiet,
    )
    if len(out["test"]) == 0:
        warn_empty_test(task, opened)
    return out


def index_by(
    opened: Sequence[Store],
    task: Task,
    split_of: Callable[[Recording], str | None],
    splits: Sequence[str],
    *,
    windows: WindowSettings,
    edge_events: str,
    quiet: bool = False,
) -> dict[str, WindowIndex]:
    """The task's windows of every recording, grouped by ``split_of(recording)`` (None: left
    out) into one index per name of ``splits`` (stores, then recordings, then start).
    ``quiet``: no warning of the recordings that give no window (a caller that cut the same
    recordings once already, and said so)."""
    found = _collect(opened, task, split_of, windows, edge_events)
    skipped, unknown, unlabelled = found.skipped, found.unknown, found.unlabelled
    if quiet:
        skipped, unknown, unlabelled = 0, [], []
    _warn_left_out(task, skipped, unknown, unlabelled)
    if not quiet:
        _warn_other_codes(task, found.other_codes)
        _warn_unplaced(task, found.unplaced)
    n_skipped = skipped + (0 if quiet else len(found.unplaced))
    return {
        split: _split_index(opened, split, found.per_split.get(split), n_skipped, windows)
        for split in splits
    }


_Part = tuple[list[RecordingPlan], list[int], list[int], list[int], list[list[float]]]
"""One split's windows as :func:`index_by` collects them: the recordings' plans, then per
window its recording (position in the plans), start (samples), seconds and labels."""


@dataclass
class _Collected:
    """What :func:`_collect` found: each split's windows, and the recordings that gave none
    for a reason a warning names."""

    per_split: dict[str, _Part] = field(default_factory=dict)
    skipped: int = 0  # recordings lacking a protocol channel
    unplaced: list[tuple[str, list[str]]] = field(default_factory=list)  # no channel the
    # model reads (recording, its channels): none has a row in its spatial table
    unknown: list[tuple[str, Any]] = field(default_factory=list)  # (recording, no-class value)
    unlabelled: list[tuple[str, str]] = field(default_factory=list)  # (recording, its split)
    other_codes: list[str] = field(default_factory=list)  # recordings coding it otherwise


def _collect(
    opened: Sequence[Store],
    task: Task,
    split_of: Callable[[Recording], str | None],
    windows: WindowSettings,
    edge_events: str,
) -> _Collected:
    """The task's windows of every recording of ``opened`` (stores, then recordings, in
    order), each recording's under its split."""
    found = _Collected()
    for s_i, store in enumerate(opened):
        for rec in store:
            split = split_of(rec)
            if split is None:
                continue
            if task.codes_key and other_book(task.codes, book_of(rec.labels, task.codes_key)):
                found.other_codes.append(rec.id)  # (another corpus's codes: code_books)
                continue
            sel = _rows(rec, task, windows.max_channels)
            if sel is None:
                found.skipped += 1
                continue
            if not len(sel[0]):  # (a window of no channel: the model's forward pass failed)
                found.unplaced.append((rec.id, list(rec.channels)))
                continue
            if rec.n_samples == 0:
                no_samples(store, rec.id)
            seconds = task.window_seconds or window_seconds(len(sel[0]), windows)
            starts, labels = _windows(store, rec, task, seconds, edge_events)
            if not starts:
                if _no_class(task, rec):
                    found.unknown.append((rec.id, rec.labels[task.label_key or ""]))
                elif lacks_label(task, rec):
                    found.unlabelled.append((rec.id, split))
                continue
            plans, recs, st, npatch, labs = found.per_split.setdefault(split, ([], [], [], [], []))
            plan = RecordingPlan(
                s_i, rec.id, rec.corpus, subject_key(rec.subject_key), *sel, subject_of(rec),
                source=source_identity(rec),
            )  # fmt: skip
            plans.append(plan)
            recs += [len(plans) - 1] * len(starts)
            st += starts
            npatch += [seconds] * len(starts)
            labs += labels
    return found


def _warn_left_out(
    task: Task, skipped: int, unknown: list[tuple[str, Any]], unlabelled: list[tuple[str, str]]
) -> None:
    """One warning per reason recordings gave no window: a protocol channel lacking, no value
    of the label, a value that is no class."""
    if skipped:
        log.warning(
            "%s: %s %s a protocol channel; skipped",
            task.name, counted(skipped, "recording"), noun(skipped, "lacks", "lack"),
        )  # fmt: skip
    warn_unlabelled(task, unlabelled)
    if unknown:  # ("yes" as TUAB's abnormal: half a store left out without a word)
        rid, value = unknown[0]
        log.warning(
            "%s: %s %s a value of label %r that is no class of the task (e.g. %s: %r; "
            "classes: %s): %s no window; check the stores' labels",
            task.name, counted(len(unknown), "recording"), noun(len(unknown), "holds", "hold"),
            task.label_key, rid, value, ", ".join(task.classes),
            "it gives" if len(unknown) == 1 else "they give",
        )  # fmt: skip


def _warn_unplaced(task: Task, unplaced: list[tuple[str, list[str]]]) -> None:
    """One warning for the recordings left out because none of their channels has a row in
    the model's spatial table (vocabulary index >= 128, such as the bipolar ``FP1-F3``): a
    window of them would hold no channel."""
    if unplaced:
        rid, channels = unplaced[0]
        shown = ", ".join(channels[:4]) + (", ..." if len(channels) > 4 else "")
        log.warning(
            "%s: %s %s no channel the model reads (none has a row in its spatial table, "
            "vocabulary index below %d; e.g. %s: %s): %s no window",
            task.name, counted(len(unplaced), "recording"), noun(len(unplaced), "has", "have"),
            N_ADDRESSABLE, rid, shown, "it gives" if len(unplaced) == 1 else "they give",
        )  # fmt: skip


def _warn_other_codes(task: Task, other: list[str]) -> None:
    """One warning for the recordings left out because their code book gives one of the
    task's codes another meaning (:func:`~labram.data.code_books.other_book`)."""
    if other:
        log.warning(
            "%s: %s %s label %r by other codes than the task's classes (%s; e.g. %s, its "
            "%s_codes): %s no window",
            task.name, counted(len(other), "recording"), noun(len(other), "codes", "code"),
            task.codes_key, book_text(task.codes), other[0], task.codes_key,
            "it gives" if len(other) == 1 else "they give",
        )  # fmt: skip


def _split_index(
    opened: Sequence[Store],
    split: str,
    part: _Part | None,
    skipped: int,
    windows: WindowSettings,
) -> WindowIndex:
    """The :class:`WindowIndex` of one split's windows ``part`` (None: an empty index), its
    labels ``(n_windows, n_targets)`` float32."""
    plans, recs, st, npatch, labs = part or ([], [], [], [], [])
    rec_a, st_a = np.asarray(recs, np.int64), np.asarray(st, np.int64)
    return WindowIndex(
        [s.url for s in opened],
        plans,
        rec_a,
        st_a,
        np.asarray(npatch, np.int64),
        assign_blocks(rec_a, st_a, windows.block_seconds * PATCH_SIZE),
        np.asarray(labs, np.float32).reshape(len(recs), -1)
        if recs
        else np.zeros((0, 1), np.float32),
        {"split": split, "n_skipped": skipped},
        list(opened),
    )
