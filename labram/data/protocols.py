"""Evaluation protocols of ``labram finetune --protocol``: which windows train, select and test.

- ``full`` (default): the task's split (:func:`labram.data.tasks.build_task_indexes`): the official
  evaluation recordings test, the other subjects 80/20 train / validation.
- ``linear-probe``: the same split; the backbone is frozen and only the linear head trains
  (:meth:`labram.model.classifier.LaBraMClassifier.freeze_backbone`).
- ``cross-subject``: k folds over every subject with windows (official split ignored), stratified
  by the subjects' classes where the task has a recording label; fold ``i`` tests its subjects,
  validation is carved from the others as in ``full`` (:func:`labram.data.tasks.split_subjects`).
- ``loso``: leave one subject out: as many folds as subjects.
- ``few-shot``: the ``full`` split, plus ``K`` windows per class (regression: per subject) of
  each test subject moved into training (calibration); the rest of their windows test.

A *fold* is plain data (it goes to ``splits.json`` and into ``best.pt``)::

    {"fold": 0, "test_rule": "official" | "subjects",
     "train": [subject keys], "val": [...], "test": [...],
     "calibration": [[recording id, start sample], ...]}

``test_rule = "official"``: a recording whose ``split`` is ``eval``/``test`` tests whatever its
subject (the ``full`` split); ``"subjects"``: a recording goes where its subject is listed.
:func:`fold_indexes` cuts a fold's windows the same way from any stores, so a ``splits.json``
re-runs exactly those splits (``--splits FILE``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from eegprep.base import strict_json
from eegprep.base.errors import UsageError
from eegprep.base.files import write_atomically
from eegprep.base.path_limits import shown_path
from eegprep.base.sealed_json import sealed, unsealed
from eegprep.base.user_files import read_user_text
from eegprep.base.validation import check_choice, check_min, invalid_value
from eegprep.base.wording import counted, noun, of_total
from eegprep.store.reader import Store
from eegprep.store.recording import Recording
from labram.data.splits import is_test_split
from labram.data.subjects import clean_fold, subject_of
from labram.data.tasks import (
    Task,
    default_val_subjects,
    index_by,
    split_subjects,
)
from labram.data.windows import RecordingPlan, WindowIndex, assign_blocks
from labram.model.config import PATCH_SIZE

log = logging.getLogger(__name__)

PROTOCOLS = ("full", "linear-probe", "cross-subject", "loso", "few-shot")
DEFAULT_FOLDS = 5
SPLITS_FORMAT = "labram-splits"
SPLITS_VERSION = 1
SPLITS_FILE = "splits.json"


@dataclass(frozen=True, kw_only=True)
class Protocol:
    """A protocol and its parameters (``n_folds``: cross-subject; ``shots``: few-shot)."""

    name: str = "full"
    n_folds: int | None = None
    shots: int | None = None

    def __post_init__(self) -> None:
        check_choice("--protocol", self.name, PROTOCOLS)
        if self.name == "cross-subject":
            check_min("--folds", self.n_folds, 2)
        if self.name == "few-shot":
            if self.shots is None:
                raise invalid_value("--shots", None, expected="K >= 1 with --protocol few-shot")
            check_min("--shots", self.shots, 1)

    @property
    def default_split(self) -> bool:
        """The task's own split (one fold, official test set)."""
        return self.name in ("full", "linear-probe", "few-shot")

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "folds": self.n_folds, "shots": self.shots}


def parse_protocol(name: str | None, *, folds: int | None, shots: int | None) -> Protocol:
    """The protocol of the command line; an option the protocol does not read is warned about."""
    name = name or "full"
    check_choice("--protocol", name, PROTOCOLS)
    if folds is not None and name != "cross-subject":
        log.warning("--folds has no effect with --protocol %s", name)
        folds = None
    if shots is not None and name != "few-shot":
        log.warning("--shots has no effect with --protocol %s", name)
        shots = None
    if name == "cross-subject" and folds is None:
        folds = DEFAULT_FOLDS
    return Protocol(name=name, n_folds=folds, shots=shots)


# ---- every window of the task, and who it belongs to -----------------------------------------


@dataclass
class TaskWindows:
    """Every window of a task (all recordings, any split) with its subject key, recording id
    and whether its recording is in the official test set; one entry per window."""

    index: WindowIndex
    subject: np.ndarray  # str (n_windows,): subject_key, else subject
    recording: np.ndarray  # str (n_windows,)
    official: np.ndarray  # bool (n_windows,): recording split eval/test
    block_samples: int  # blocks of the indexes cut from this one
    default_val: set[str]  # validation subjects of the task's own split (full)

    @classmethod
    def build(cls, opened: Sequence[Store], task: Task, cfg: Any) -> TaskWindows:
        """Cut with ``cfg``'s window settings (a :class:`~labram.train.config.TrainConfig`)."""
        index = index_by(
            opened,
            task,
            lambda _rec: "all",
            ("all",),
            windows=cfg.window_settings(),
            edge_events=cfg.edge_events,
        )["all"]
        recs: dict[tuple[int, str], Recording] = {
            (i, r.id): r for i, s in enumerate(opened) for r in s
        }
        plans = [recs[(p.store, p.id)] for p in index.recordings]
        subj = np.array([subject_of(r) for r in plans] or [""], dtype=object)
        rid = np.array([r.id for r in plans] or [""], dtype=object)
        off = np.array([is_test_split(r.split) for r in plans] or [False], dtype=bool)
        val = default_val_subjects(
            opened,
            task,
            split_seed=cfg.split_seed,
            val_split=cfg.val_split,
            val_rounding=cfg.val_rounding,
        )
        block = cfg.block_seconds * PATCH_SIZE
        return cls(index, subj[index.rec], rid[index.rec], off[index.rec], block, val)

    def subjects(self) -> list[str]:
        return sorted(set(self.subject.tolist()))

    def strata(self, task: Task) -> dict[str, str]:
        """Each subject's classes (``"0|1"``) where the task has a recording label, else ``""``
        (the stratum of cross-subject folds and of the validation split)."""
        out: dict[str, set[str]] = {}
        by_label = task.label_key is not None and task.kind != "regression"
        for k, y in zip(self.subject.tolist(), self.index.labels[:, 0].tolist(), strict=True):
            out.setdefault(k, set()).add(str(int(y)) if by_label else "")
        return {k: "|".join(sorted(v)) for k, v in out.items()}


def select(index: WindowIndex, keep: np.ndarray, split: str, block_samples: int) -> WindowIndex:
    """The windows where ``keep`` (bool) holds, with only their recordings, renumbered, and
    blocks recomputed: what :func:`labram.data.tasks.build_task_indexes` gives for those windows."""
    used = np.unique(index.rec[keep])
    renum = np.full(len(index.recordings), -1, np.int64)
    renum[used] = np.arange(len(used))
    rec = renum[index.rec[keep]]
    start = index.start[keep]
    return WindowIndex(
        index.urls,
        [index.recordings[i] for i in used],
        rec,
        start,
        index.n_patches[keep],
        assign_blocks(rec, start, block_samples),
        index.labels[keep],
        {"split": split, "n_skipped": index.meta.get("n_skipped", 0)},
        index.opened,
    )


# ---- folds -----------------------------------------------------------------------------------


def make_folds(
    protocol: Protocol, table: TaskWindows, task: Task, cfg: Any
) -> list[dict[str, Any]]:
    """The folds of ``protocol`` over ``table`` (deterministic given ``cfg.split_seed``)."""
    if protocol.default_split:
        fold = _default_fold(table)
        if protocol.name == "few-shot":
            by_class = task.kind != "regression"
            fold["calibration"] = calibration_windows(
                table, protocol.shots or 0, seed=cfg.split_seed, by_class=by_class
            )
        return [fold]
    subjects = table.subjects()
    strata = table.strata(task)
    if protocol.name == "loso":
        groups = [[k] for k in subjects]
    else:
        n_folds = protocol.n_folds or DEFAULT_FOLDS
        if n_folds > len(subjects):
            raise UsageError(
                f"--folds {n_folds}: task {task.name!r} has {counted(len(subjects), 'subject')} "
                "with windows (use fewer folds, or --protocol loso)"
            )
        groups = subject_folds(subjects, n_folds, seed=cfg.split_seed, strata=strata)
    folds = []
    for i, test in enumerate(groups):
        rest = [k for k in subjects if k not in set(test)]
        use_strata = cfg.val_split == "stratified"
        val = split_subjects(
            rest,
            seed=cfg.split_seed,
            rounding=cfg.val_rounding,
            strata=[strata[k] for k in rest] if use_strata else None,
        )
        folds.append({
            "fold": i,
            "test_rule": "subjects",
            "train": [k for k in rest if k not in val],
            "val": sorted(val),
            "test": sorted(test),
            "calibration": [],
        })  # fmt: skip
    return folds


def subject_folds(
    subjects: Sequence[str], n_folds: int, *, seed: int, strata: dict[str, str]
) -> list[list[str]]:
    """``n_folds`` disjoint groups of ``subjects``: each stratum (sorted) shuffled with
    ``seed + i``, then all dealt round-robin, so every fold gets a share of each stratum and
    fold sizes differ by at most one."""
    by_stratum: dict[str, list[str]] = {}
    for k in sorted(subjects):
        by_stratum.setdefault(strata.get(k, ""), []).append(k)
    dealt: list[str] = []
    for i, st in enumerate(sorted(by_stratum)):
        keys = by_stratum[st]
        order = np.random.default_rng(seed + i).permutation(len(keys))
        dealt += [keys[j] for j in order]
    return [sorted(dealt[f::n_folds]) for f in range(n_folds)]


def _default_fold(table: TaskWindows) -> dict[str, Any]:
    """The task's own split as a fold (what ``full`` trains on)."""
    val, off = table.default_val, table.official
    trainval = set(table.subject[~off].tolist())
    return {
        "fold": 0,
        "test_rule": "official",
        "train": sorted(trainval - val),
        "val": sorted(trainval & val),
        "test": sorted(set(table.subject[off].tolist())),
        "calibration": [],
    }


def calibration_windows(
    table: TaskWindows, shots: int, *, seed: int, by_class: bool
) -> list[list[Any]]:
    """``shots`` windows per class (``by_class``; else per subject) of each subject's official
    test windows, drawn with ``seed``: ``[[recording id, start sample], ...]``."""
    rng = np.random.default_rng(seed)
    in_test = table.official
    out: list[list[Any]] = []
    short = groups = largest = 0
    for k in sorted(set(table.subject[in_test].tolist())):
        mine = np.flatnonzero(in_test & (table.subject == k))
        y = table.index.labels[mine, 0]
        parts = [mine[y == g] for g in np.unique(y)] if by_class else [mine]
        for ids in parts:
            take = ids[rng.permutation(len(ids))[:shots]]
            short += len(ids) <= shots
            groups, largest = groups + 1, max(largest, len(ids))
            out += [[str(table.recording[j]), int(table.index.start[j])] for j in sorted(take)]
    if groups and short == groups:  # (the test set was then "empty", as if the task had none)
        group = "(subject, class)" if by_class else "subject"
        fix = (f"give --shots below {largest}" if largest > 1
               else f"few-shot needs a {group} with 2 or more test windows")  # fmt: skip
        raise UsageError(
            f"--shots {shots} takes all the test windows of every {group} for calibration (the "
            f"largest has {largest}), leaving nothing to score; {fix}"
        )
    if short:
        log.warning("few-shot: %s %s <= %s: none left to test",
                    counted(short, "(subject, class) group"), noun(short, "has", "have"),
                    counted(shots, "window"))  # fmt: skip
    return out


def _test_mask(table: TaskWindows, fold: dict[str, Any]) -> np.ndarray:
    if fold.get("test_rule") == "official":
        return table.official.copy()
    return np.isin(table.subject, np.array(fold["test"], dtype=object))


def fold_indexes(table: TaskWindows, fold: dict[str, Any]) -> dict[str, WindowIndex]:
    """A fold's train / val / test windows (calibration windows train, not test); its subject
    keys as labram compares them (:func:`~labram.data.subjects.clean_fold`: a checkpoint an
    earlier version saved lists ``"S01 "``, which no window's subject is)."""
    fold = clean_fold(fold)
    test = _test_mask(table, fold)
    val = ~test & np.isin(table.subject, np.array(fold["val"], dtype=object))
    train = ~test & ~val & np.isin(table.subject, np.array(fold["train"], dtype=object))
    calib = fold.get("calibration") or []
    if calib:
        wanted = {(str(r), int(s)) for r, s in calib}
        pairs = zip(table.recording.tolist(), table.index.start.tolist(), strict=True)
        is_cal = np.array([(r, s) in wanted for r, s in pairs], dtype=bool)
        found = int((is_cal & test).sum())
        if found != len(wanted):
            raise UsageError(
                f"fold {fold.get('fold')}: "
                f"{of_total(len(wanted) - found, len(wanted), 'calibration window', 'is not')} "
                "a test window of these stores (another store or window settings?)"
            )
        train, test = train | is_cal, test & ~is_cal
        near = test & _near(table.index, is_cal)
        if near.any():
            log.warning(
                "few-shot: %d test windows share samples with a calibration window of their "
                "recording (a training window): left out of the test set", int(near.sum()),
            )  # fmt: skip
            test &= ~near
    masks = {"train": train, "val": val, "test": test}
    return {k: select(table.index, m, k, table.block_samples) for k, m in masks.items()}


def overlapping(a: np.ndarray, a_len: int, b: np.ndarray, b_len: int) -> np.ndarray:
    """Whether each window starting at ``b`` (``b_len`` samples) shares a sample with one of the
    windows starting at ``a`` (sorted, ``a_len`` samples), in one recording: bool, ``b``'s shape."""
    i = np.searchsorted(a, b - a_len, side="right")  # the first window of a ending after b starts
    hit = i < len(a)
    hit[hit] = a[i[hit]] < b[hit] + b_len
    return hit


def _near(index: WindowIndex, marked: np.ndarray) -> np.ndarray:
    """Bool per window of ``index``: it shares a sample with a ``marked`` window (bool mask) of
    its own recording, itself excepted."""
    out = np.zeros(len(index), dtype=bool)
    for r in np.unique(index.rec[marked]):
        mine = np.flatnonzero(index.rec == r)
        length = int(index.n_patches[mine].max()) * PATCH_SIZE
        starts = np.sort(index.start[mine[marked[mine]]])
        out[mine] = overlapping(starts, length, index.start[mine], length)
    return out & ~marked


# ---- leakage between the splits ----------------------------------------------------------------

Windows = dict[tuple[int, str], tuple[RecordingPlan, np.ndarray, int]]
"""A split's windows by recording ``(store, id)``: its plan, sorted starts and window length
(samples)."""


def _by_recording(index: WindowIndex) -> Windows:
    out: Windows = {}
    order = np.argsort(index.rec, kind="stable")
    for group in np.split(order, np.flatnonzero(np.diff(index.rec[order])) + 1):
        if len(group):
            plan = index.recordings[int(index.rec[group[0]])]
            length = int(index.n_patches[group].max()) * PATCH_SIZE
            out[(plan.store, plan.id)] = (plan, np.sort(index.start[group]), length)
    return out


def split_leaks(
    splits: dict[str, WindowIndex], calibration: Sequence[Sequence[Any]] = ()
) -> list[str]:
    """What ties windows of two splits (train, val, test) together, one phrase each (empty:
    nothing): a subject (``subject_key``, else ``subject``) with windows in both; the same
    recording under two names (one source's content digest and part,
    :func:`labram.data.tasks.source_identity`); windows of one recording in both that share
    samples. ``calibration``: the few-shot ``[recording id, start]`` pairs in train, whose
    subjects are the test subjects by design."""
    cal = {(str(r), int(s)) for r, s in calibration}
    windows = {name: _by_recording(index) for name, index in splits.items()}
    problems: list[str] = []
    names = [n for n in ("train", "val", "test") if n in windows]
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            problems += _shared_subjects(windows[a], a, windows[b], b, cal)
            problems += _same_sources(windows[a], a, windows[b], b)
            problems += _shared_samples(windows[a], a, windows[b], b)
    return problems


def _subjects(windows: Windows, cal: set[tuple[str, int]]) -> dict[str, str]:
    """Subject -> a recording id of it, over the recordings not all calibration windows."""
    out: dict[str, str] = {}
    for (_, rid), (plan, starts, _) in windows.items():
        if not cal or not all((rid, int(s)) in cal for s in starts):
            out.setdefault(plan.subject or plan.subject_key, rid)
    return out


def _shared_subjects(
    wa: Windows, a: str, wb: Windows, b: str, cal: set[tuple[str, int]]
) -> list[str]:
    sa, sb = _subjects(wa, cal), _subjects(wb, cal)
    return [f"subject {k!r} has {a} windows ({sa[k]}) and {b} windows ({sb[k]})"
            for k in sorted(set(sa) & set(sb)) if k]  # fmt: skip


def _same_sources(wa: Windows, a: str, wb: Windows, b: str) -> list[str]:
    by_source = {plan.source: key for key, (plan, _, _) in wa.items() if plan.source}
    out = []
    for key, (plan, _, _) in wb.items():
        other = by_source.get(plan.source) if plan.source else None
        if other is not None and other != key:
            out.append(f"{a} recording {other[1]} and {b} recording {key[1]} are one recording "
                       "under two names (the same source bytes)")  # fmt: skip
    return out


def _shared_samples(wa: Windows, a: str, wb: Windows, b: str) -> list[str]:
    out = []
    for key in sorted(set(wa) & set(wb)):
        (_, sa, la), (_, sb, lb) = wa[key], wb[key]
        n = int(overlapping(sa, la, sb, lb).sum())
        if n:
            out.append(
                f"{n} {b} {noun(n, 'window')} of {key[1]} {noun(n, 'shares', 'share')} samples "
                f"with its {a} windows"
            )
    return out


def check_split_leakage(
    splits: dict[str, WindowIndex], *, allow: bool, calibration: Sequence[Sequence[Any]] = ()
) -> str | None:
    """Refuse splits that :func:`split_leaks` finds tied together, in one line; with
    ``allow`` (``--allow-seen-subjects``) warn instead. Returns the line, or None.

    Raises
    ------
    UsageError
        Naming the first tie and how many more there are.
    """
    problems = split_leaks(splits, calibration)
    if not problems:
        return None
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    line = f"the task's splits leak: {problems[0]}{more}"
    if not allow:
        raise UsageError(
            f"{line}: their metrics would be optimistic; put each subject's recordings, and "
            "each recording, in one split of the stores, or pass --allow-seen-subjects"
        )
    log.warning("%s", line)
    return line


# ---- splits.json -----------------------------------------------------------------------------


def labels_digest(table: TaskWindows, task: Task) -> str:
    """A digest of the task's classes and of every window of ``table`` (its recording, start
    and label): what ``splits.json`` records as ``labels``, so that a resume after a label of
    the stores changed (a sidecar edited, the recording ingested again from the same source,
    no subject moved) is refused, not scored on other labels than the seeds before it."""
    import hashlib

    h = hashlib.sha256("\t".join(task.classes).encode("utf-8", "surrogatepass") + b"\n")
    index = table.index
    for rid, start, label in zip(table.recording, index.start, index.labels, strict=True):
        row = f"{rid}\t{int(start)}\t{','.join(repr(float(v)) for v in label)}\n"
        h.update(row.encode("utf-8", "surrogatepass"))
    return h.hexdigest()[:16]


def splits_record(
    protocol: Protocol,
    task: Task,
    stores: Sequence[str],
    cfg: Any,
    folds: list[dict[str, Any]],
    labels: str | None = None,
) -> dict[str, Any]:
    """What ``splits.json`` holds: the protocol, the seed and split settings, every fold, and
    ``labels`` (:func:`labels_digest`) when given."""
    return {
        **({"labels": labels} if labels is not None else {}),
        "format": SPLITS_FORMAT,
        "version": SPLITS_VERSION,
        "task": task.name,
        "stores": [str(s) for s in stores],
        "protocol": protocol.to_dict(),
        "split_seed": cfg.split_seed,
        "val_split": cfg.val_split,
        "val_rounding": cfg.val_rounding,
        "folds": folds,
    }


def write_splits(path: Path, record: dict[str, Any]) -> Path:
    """``record`` into ``path`` (whole or not at all), sealed with its checksum
    (:mod:`eegprep.base.sealed_json`): a flipped bit in a subject key would move that subject
    out of its split unsaid (a smaller test set, or a subject in none)."""
    write_atomically(path, sealed(record), durable=True, tidy=True)
    return path


MAX_FOLD = 1_000_000
"""The largest fold number a ``splits.json`` may give (``loso``: one fold per subject)."""


def fold_problem(fold: Any) -> str | None:
    """What makes ``fold`` (an entry of a ``splits.json``'s ``folds``, a fine-tuned checkpoint's
    ``split``) other than what :func:`splits_record` writes, in words naming the field, or
    ``None``: ``train``, ``val`` and ``test`` lists of subject keys as text (one missing failed
    as ``KeyError: 'val'`` in :func:`fold_indexes`), no subject in two of them (a subject listed
    in train and test was read as one of them, silently), ``test_rule`` ``official`` or
    ``subjects``, ``calibration`` a list of (recording, start sample) pairs, ``fold`` (where
    there is one) a fold number from 0 to :data:`MAX_FOLD` (it names the run's ``fold<k>``
    folder: ``"/../../elsewhere"`` put a run's seeds outside its ``--out``)."""
    if not isinstance(fold, dict):
        return f"a {type(fold).__name__}, not a table"
    number = fold.get("fold", 0)
    if type(number) is not int or not 0 <= number <= MAX_FOLD:
        return f"its number {str(number)[:40]!r} is not a fold number (0 to {MAX_FOLD:,})"
    seen: dict[str, str] = {}
    for part in ("train", "val", "test"):
        keys = fold.get(part)
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            return f"{part} is not a list of subject keys"
        for k in keys:
            if seen.setdefault(k, part) != part:
                return f"subject {k!r} is in both {seen[k]} and {part}"
    if fold.get("test_rule", "subjects") not in ("official", "subjects"):
        return f"test_rule {str(fold.get('test_rule'))[:40]!r} is not official or subjects"
    calibration = fold.get("calibration") or []
    if not isinstance(calibration, list) or not all(_is_pair(c) for c in calibration):
        return "calibration is not a list of [recording, start sample] pairs"
    return None


def _is_pair(entry: Any) -> bool:
    """Whether a calibration entry is ``[recording id, start sample]``."""
    if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], str)):
        return False
    return isinstance(entry[1], int) and not isinstance(entry[1], bool)


def read_splits(path: str | Path, task: Task, table: TaskWindows) -> dict[str, Any]:
    """A ``splits.json`` checked against its checksum (one an older labram wrote has none, and
    is read as before), the task and the stores' subjects, its subject keys as labram compares
    them (:func:`~labram.data.subjects.subject_key`)."""
    path = Path(path)
    text = read_user_text(path, "splits file", UsageError)  # (as Notepad saved it too)
    try:
        rec = strict_json.loads(text)
    except ValueError as exc:
        raise UsageError(f"{shown_path(path)}: unreadable splits file ({exc})") from exc
    if isinstance(rec, dict):  # (a changed subject key: one line, not another split)
        rec = unsealed(path, rec)
    if not isinstance(rec, dict) or rec.get("format") != SPLITS_FORMAT:
        raise UsageError(
            f"{shown_path(path)}: not a splits file of labram finetune (no format "
            f"{SPLITS_FORMAT!r})"
        )
    if rec.get("version") != SPLITS_VERSION:
        raise UsageError(
            f"{shown_path(path)}: splits format version {rec.get('version')!r}; this labram reads "
            f"{SPLITS_VERSION}"
        )
    if rec.get("task") != task.name:
        raise UsageError(
            f"{shown_path(path)}: splits of task {rec.get('task')!r}, not {task.name!r}"
        )
    folds = rec.get("folds")
    if not isinstance(folds, list) or not folds:
        raise UsageError(f"{shown_path(path)}: no folds")
    known = set(table.subjects())
    numbered: dict[Any, int] = {}
    for n, f in enumerate(folds):
        problem = fold_problem(f)
        if not problem and "fold" not in f:  # (the run's fold<k> folder: KeyError before)
            problem = "it has no fold number"
        elif not problem and numbered.setdefault(f["fold"], n) != n:
            problem = f"its number {f['fold']} is fold {numbered[f['fold']]}'s too (one folder)"
        if not problem:  # keys as the table's (an earlier version's file: "S01 ", NFD)
            f = folds[n] = clean_fold(f)
            problem = fold_problem(f)  # (one subject spelled two ways in two parts)
        if problem:  # (a list of lists, a bare calibration entry: internal errors before)
            raise UsageError(
                f"{shown_path(path)}: fold {n}: {problem}; give a splits.json labram wrote"
            )
        keys = [k for part in ("train", "val", "test") for k in f.get(part, [])]
        missing = sorted(set(keys) - known)
        if missing:
            raise UsageError(
                f"{shown_path(path)}: fold {f.get('fold')}: {counted(len(missing), 'subject')} "
                f"{noun(len(missing), 'has', 'have')} no window of task {task.name!r} in these "
                f"stores (e.g. {missing[0]!r}); give the stores it was made with"
            )
    return rec
