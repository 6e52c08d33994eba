"""Per-window predictions of a fine-tuned model: ``predictions.csv`` in a seed's run folder.

The file the results page (``labram report``) draws confusion matrices and per-subject scores
from. One row per window, in the index's order:

``split, recording, subject, start_s, duration_s, label, p_<class>...`` for classification
(``label`` is the class name, one probability column per class, in the task's class order);
``split, recording, subject, start_s, duration_s, target_<j>..., pred_<j>...`` for regression.
``subject`` is what the splits group by: the recording's ``subject_key``, else its ``subject``
(:func:`labram.data.tasks.subject_of`). The last column, ``row_crc32``, is each row's CRC-32
with the header (:func:`row_check`): a row that does not match it is refused on read.

``finetune`` can write it with :func:`write_predictions` from the outputs it already computes
for the test metrics; ``labram report --predict`` writes it for an existing run by running its
``best.pt`` again (:func:`predict_checkpoint`).
"""

from __future__ import annotations

import csv
import io
import math
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import numpy as np

from eegprep.base.errors import UsageError
from eegprep.base.files import replaced_atomically
from eegprep.base.path_limits import shown_path
from eegprep.base.sealed_rows import (
    CHECK_COLUMN,
    TABLE_LIMIT,
    TableBytesError,
    csv_problem,
    csv_rows,
    decoded_table,
    header_problem,
    row_check,
    row_problem,
    table_text,
)
from eegprep.base.wording import counted, noun
from labram.train.metrics import probabilities

if TYPE_CHECKING:
    from eegprep.store.reader import Store

FILENAME = "predictions.csv"
BASE_COLUMNS = ("split", "recording", "subject", "start_s", "duration_s")
TEXT_COLUMNS = ("split", "recording", "subject", "label")


def prediction_rows(task: Any, index: Any, outputs: np.ndarray, split: str = "test") -> list[dict]:
    """One dict per window of ``index`` (a :class:`labram.data.windows.WindowIndex`) with the
    columns of ``predictions.csv``; ``outputs`` : ndarray, shape (n_windows, n_outputs), the
    model's raw outputs (logits, or regression values) in index order."""
    from labram.model.config import PATCH_SIZE  # samples per 1-s patch: the stores' 200 Hz

    rows: list[dict] = []
    probs = probabilities(task.kind, outputs) if task.kind != "regression" else None
    for i in range(len(index)):
        plan = index.recordings[int(index.rec[i])]
        row: dict[str, Any] = {
            "split": split,
            "recording": plan.id,
            "subject": plan.subject or plan.subject_key,  # as the splits: subjects.subject_of
            "start_s": round(float(index.start[i]) / PATCH_SIZE, 3),
            "duration_s": float(index.n_patches[i]),
        }
        if probs is None:
            for j in range(index.labels.shape[1]):
                row[f"target_{j}"] = float(index.labels[i, j])
            for j in range(outputs.shape[1]):
                row[f"pred_{j}"] = float(outputs[i, j])
        else:
            row["label"] = task.classes[int(index.labels[i, 0])]
            row.update({f"p_{c}": float(p) for c, p in zip(task.classes, probs[i])})
        rows.append(row)
    return rows


def _columns(task: Any, index: Any, outputs: np.ndarray) -> list[str]:
    """The columns :func:`prediction_rows` gives a row, for a split of no window: its header
    alone (``split, ..., label`` without the ``p_<class>`` columns was a file that
    :func:`read_predictions` refused as not labram's)."""
    if task.kind == "regression":
        n_targets, n_outputs = index.labels.shape[1], outputs.shape[1]
        return [*BASE_COLUMNS, *(f"target_{j}" for j in range(n_targets)),
                *(f"pred_{j}" for j in range(n_outputs))]  # fmt: skip
    return [*BASE_COLUMNS, "label", *(f"p_{c}" for c in task.classes)]


FORMULA_START = frozenset("=+-@\t\r\n'")
"""The first characters that make a spreadsheet (Excel, LibreOffice, Google Sheets) read a CSV
cell as a formula (``=``, ``+``, ``-``, ``@``, and a tab, carriage return or line feed before
one: OWASP's "CSV injection"), and the quote that :func:`csv_text` writes before them."""


def csv_text(value: str) -> str:
    """A text cell as labram writes it into a CSV file: ``value`` as it is, with a ``'`` before
    it when it starts with a character of :data:`FORMULA_START`, so that a class, subject or file
    named ``=HYPERLINK(...)`` or ``@SUM(A1)`` is shown as that text, never run as a formula.
    :func:`csv_text_back` gives ``value`` back (a value starting with ``'`` gets one more)."""
    return "'" + value if value[:1] in FORMULA_START else value


def csv_text_back(cell: str) -> str:
    """The text :func:`csv_text` wrote as ``cell``: one leading ``'`` before a character of
    :data:`FORMULA_START` removed."""
    return cell[1:] if cell[:1] == "'" and cell[1:2] in FORMULA_START else cell


class CsvRows:
    """A CSV writer of rows that end in ``\n``, every field holding a line break quoted, every
    text field through :func:`csv_text` (numbers are written as they are).

    Python's ``csv`` quotes a field only for the characters of its own line terminator, so a
    writer ending rows in ``\n`` leaves a carriage return in a field (a class name or a
    recording label from a store) bare, and every CSV reader takes it for the end of the row:
    the file's rows and columns shift. Each row is formatted with the ``\r\n`` terminator
    (both characters quoted) and written with ``\n``.

    Written to a terminal (``labram predict --csv`` unredirected), each row is one line as
    every printed line is (:func:`eegprep.cli_group.shown_line`: a line break, ESC, a bidi
    override shown as an escape), so a name's control sequence never reaches the terminal; a
    file or pipe gets the text as it is. A character the stream's encoding cannot write (a
    class named in Japanese under ``PYTHONIOENCODING=latin-1``) is written as its escape
    (``\\u65e5``), as every printed line, where it was an internal error.
    """

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._buf = io.StringIO()
        self._writer = csv.writer(self._buf, lineterminator="\r\n")
        isatty = getattr(out, "isatty", None)
        self._terminal = bool(isatty is not None and isatty())

    def writerow(self, row: Iterable[Any]) -> None:
        self._buf.seek(0)
        self._buf.truncate()
        self._writer.writerow([csv_text(v) if isinstance(v, str) else v for v in row])
        text = self._buf.getvalue()[: -len("\r\n")]
        if self._terminal:
            from eegprep.cli_group import shown_line

            text = shown_line(text)
        try:
            self._out.write(text + "\n")
        except UnicodeEncodeError:  # a standard output under an ASCII or Latin-1 locale: the
            enc = self._out.encoding  # characters it cannot write as escapes, as `say` writes
            self._out.write((text + "\n").encode(enc, "backslashreplace").decode(enc))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def write_predictions(
    path: str | Path, task: Any, index: Any, outputs: np.ndarray, split: str = "test"
) -> Path:
    """Write ``predictions.csv`` (see the module docstring) atomically; returns its path."""
    rows = prediction_rows(task, index, outputs, split)
    path = Path(path)
    columns = list(rows[0]) if rows else _columns(task, index, outputs)
    with (
        replaced_atomically(path, durable=True, tidy=True) as tmp,
        tmp.open("w", newline="", encoding="utf-8") as fh,
    ):
        w = CsvRows(fh)
        w.writerow([*columns, CHECK_COLUMN])
        for row in rows:
            values = [row.get(c, "") for c in columns]
            # the check is of the cells as written (text after csv_text), as a reader reads them
            cells = [csv_text(v) if isinstance(v, str) else str(v) for v in values]
            w.writerow([*values, row_check(columns, cells)])
    return path


def read_predictions(path: str | Path) -> dict[str, Any]:
    """``predictions.csv`` as columns: ``{"kind": "classification" | "regression", "classes",
    "rows": list of dicts}`` with numbers parsed; a file without the expected columns is a
    UsageError naming it."""
    path = Path(path)
    columns, raw = _read_rows(path)
    classes = [c[2:] for c in columns if c.startswith("p_")]
    regression = any(c.startswith("pred_") for c in columns)
    rows: list[dict[str, Any]] = []
    bad: list[str] = []
    for line, r in raw:
        row: dict[str, Any] = {k: csv_text_back(v) for k, v in r.items() if k in TEXT_COLUMNS}
        for k, v in r.items():
            if k not in row and k != CHECK_COLUMN:
                row[k] = _number(v, bad, line, k)
        rows.append(row)
    if bad:  # (it was left out unsaid: a flipped bit, 0.4x20, changed the scores quietly)
        more = ", ..." if len(bad) > 1 else ""
        warnings.warn(
            f"{shown_path(path)}: {counted(len(bad), 'cell')} {noun(len(bad), 'is')} no number "
            f"({bad[0]}{more}): a damaged or hand-edited predictions file; their windows are left "
            "out of the scores (remove it and run `labram report --predict` to write it again)",
            stacklevel=2,
        )
    kind = "regression" if regression and not classes else "classification"
    return {"kind": kind, "classes": classes, "rows": rows, "path": str(path)}


def _not_ours(path: Path, got: str) -> UsageError:
    """One line: ``path`` is no predictions file labram wrote, what it holds instead
    (``got``), the columns it should have, and what to do."""
    return UsageError(
        f"{shown_path(path)}: not a predictions file of labram's (expected a CSV table with the "
        "columns recording, subject, label and p_<class>, or target_<j> and pred_<j>, as `labram "
        f"finetune` and `labram report --predict` write it; got {got}): move it away and run "
        "`labram report --predict` to write it"
    )


def _read_rows(path: Path) -> tuple[list[str], list[tuple[int, dict[str, Any]]]]:
    """The header of ``predictions.csv`` and its rows (line, cells), each row checked against
    its ``row_crc32``; a row of more or fewer fields than the header is one line."""
    from eegprep.base.user_files import read_user_file

    raw_bytes = read_user_file(path, "predictions file", UsageError, limit=TABLE_LIMIT)
    try:
        text = decoded_table(raw_bytes)
    except TableBytesError as exc:  # (a binary or UTF-16 file; labram's own, damaged)
        if exc.line == 1 or not _has_columns(_first_row(raw_bytes)):
            raise _not_ours(path, f"{exc.what} on line {exc.line}") from None
        raise UsageError(f"{shown_path(path)}: {exc}: {_REWRITE}") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        columns = list(reader.fieldnames or [])
    except csv.Error as exc:  # (a header cell over csv's limit of 128 kB, a stray quote)
        why = csv_problem(exc, reader.reader.line_num)
        raise _not_ours(path, f"no CSV table ({why})") from None
    if not _has_columns(columns):  # (before its rows: a foreign table is no damaged one)
        raise _not_ours(path, _shown_columns(columns))
    raw = []
    for r in csv_rows(reader, lambda why: _not_ours(path, f"no CSV table ({why})")):
        if None in r or None in r.values():  # more fields than the header, or fewer
            n = sum(v is not None for k, v in r.items() if k is not None) + len(r.get(None, []))
            raise UsageError(
                f"{shown_path(path)}: line {reader.line_num} has {counted(n, 'field')}, the header "
                f"{len(columns)} (a damaged or hand-edited predictions file: run `labram report "
                "--predict` after removing it)"
            )
        _check_row(path, reader.line_num, columns, r)
        raw.append((reader.line_num, r))
    return columns, raw


def _first_row(raw: bytes) -> list[str]:
    """The cells of the first line of ``raw`` (what it holds decoded leniently; [] where csv
    refuses it): whether a table with bytes no table has further on is labram's own."""
    head = raw[: raw.find(b"\n") + 1 or len(raw)].decode("utf-8-sig", "replace")
    try:
        return next(csv.reader(io.StringIO(head, newline="")), [])
    except csv.Error:
        return []


def _has_columns(columns: list[str]) -> bool:
    """Whether a header has the columns of a predictions file: ``recording``, ``subject``,
    and ``label`` with ``p_<class>`` (classification) or ``pred_<j>`` (regression)."""
    classes = any(c.startswith("p_") for c in columns)
    regression = any(c.startswith("pred_") for c in columns)
    return (
        "recording" in columns
        and "subject" in columns
        and (classes or regression)
        and (not classes or "label" in columns)
    )


def _shown_columns(columns: list[str], *, most: int = 12, width: int = 40) -> str:
    """A header's columns for a message: the first ``most``, each cut to ``width``
    characters, and how many there are (a foreign table may have thousands, or one column
    of a whole line)."""
    if not columns:
        return "no header (an empty file)"
    shown = [repr(c if len(c) <= width else c[:width] + "...") for c in columns[:most]]
    more = f", ... ({counted(len(columns), 'column')})" if len(columns) > most else ""
    return f"[{', '.join(shown)}{more}]"


def _check_row(path: Path, line: int, columns: list[str], row: dict[str, Any]) -> None:
    """Refuse, in one line, a row whose :data:`CHECK_COLUMN` is not its :func:`row_check`, and
    a header whose last column is that name with one character changed (a flipped bit there
    would leave every row unchecked)."""
    problem = header_problem(columns) or row_problem(columns, row, line)
    if problem:
        raise UsageError(
            f"{shown_path(path)}: {problem}: remove the file and run `labram report --predict` to "
            "write it again"
        )


_REWRITE = "remove the file and run `labram report --predict` to write it again"


def read_table(path: Path, what: str, todo: str) -> str:
    """A run's CSV table as text for :mod:`csv`, once it is a regular file of at most
    :data:`~eegprep.base.sealed_rows.TABLE_LIMIT` bytes of UTF-8 text without a NUL byte or a
    line over :data:`~eegprep.base.sealed_rows.LINE_LIMIT` characters
    (:func:`~eegprep.base.sealed_rows.table_text`); otherwise one line naming it and the line
    (a UsageError), ending in ``todo``."""
    from eegprep.base.user_files import read_user_file

    return table_text(path, read_user_file(path, what, UsageError, limit=TABLE_LIMIT), todo)


def _number(text: str | None, bad: list[str], line: int, column: str) -> float:
    """A number cell of ``predictions.csv``; an empty one is NaN, and so is any other text
    (its window left out of the scores), noted in ``bad`` as ``line L, column C: 'TEXT'``."""
    if text in (None, ""):
        return math.nan
    try:
        return float(text)
    except ValueError:
        bad.append(f"line {line}, column {column}: {str(text)[:40]!r}")
        return math.nan


def predict_checkpoint(
    checkpoint: str | Path,
    stores: Sequence[str | Store],
    task_name: str,
    *,
    split: str = "test",
    batch_size: int = 64,
    device: str | None = None,
    labels: str | None = None,
) -> Path:
    """Run a fine-tuned ``best.pt`` again on the windows of ``split`` (cut as the run cut them:
    its saved fine-tuning config, and its fold where a protocol trained it, as ``evaluate``)
    and write ``predictions.csv`` beside it; returns the path.

    For a run whose ``finetune`` did not save predictions; costs one pass over the split.
    ``labels``: the digest of the task's labels the run's ``splits.json`` records
    (:func:`~labram.data.protocols.labels_digest`); the stores' labels must be those still
    (else one line, nothing written): a file of other labels sat beside the run's metrics and
    the other seeds' predictions, scored on the old ones, as one run.
    """
    from labram.checkpoints.errors import CheckpointError
    from labram.checkpoints.layouts import is_ours, ours_from
    from labram.checkpoints.safe_read import read_checkpoint
    from labram.data.task_records import check_outputs, checkpoint_task
    from labram.data.windows import open_stores
    from labram.model.classifier import LaBraMClassifier
    from labram.stages.scoring import checkpoint_splits, no_window_error, predict, run_config
    from labram.train.distributed import setup

    obj = read_checkpoint(Path(checkpoint), what="checkpoint")
    model = ours_from(obj, source=str(checkpoint)) if is_ours(obj) else None
    if not isinstance(model, LaBraMClassifier):
        raise CheckpointError(f"{shown_path(checkpoint)}: not a fine-tuned classifier")
    opened = open_stores(stores)
    record = obj.get("task") if isinstance(obj, dict) else None
    task = checkpoint_task(task_name, opened, record, source=str(checkpoint))  # its classes
    check_outputs(model.n_outputs, task, source=str(checkpoint))
    cfg = run_config(checkpoint, obj)
    if labels is not None:
        _check_labels(checkpoint, opened, task, cfg, labels)
    index = checkpoint_splits(opened, task, cfg, obj, source=str(checkpoint))[split]
    if len(index) == 0:  # as `labram evaluate` refuses it: nothing written, nothing to draw
        from labram.data.store_set import given_names

        raise no_window_error(task.name, split, given_names(opened))
    dev = setup(device).device
    model.to(dev)
    outputs, _ = predict(
        model, index, batch_size=batch_size, device=dev, source=str(checkpoint),
        where=f" of the {split} split",
    )  # fmt: skip
    return write_predictions(Path(checkpoint).with_name(FILENAME), task, index, outputs, split)


def _check_labels(checkpoint: str | Path, opened: Any, task: Any, cfg: Any, labels: str) -> None:
    """Refuse (one line) to predict for a run whose stores' labels changed since it was made:
    ``labels``, what its ``splits.json`` records, against the stores' now."""
    from labram.data.protocols import TaskWindows, labels_digest

    now = labels_digest(TaskWindows.build(opened, task, cfg), task)
    if now != labels:
        raise UsageError(
            f"{shown_path(checkpoint)}: the labels of task {task.name!r} in the stores changed "
            f"since its run was made (its splits.json has labels {labels!r}, the stores now "
            f"{now!r}): its predictions would be scored on other labels than its metrics; give the "
            "stores as they were (--store), or fine-tune again"
        )
