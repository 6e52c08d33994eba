"""What a run leaves behind: a CSV log, loss-curve plots, and a progress bar.

Only the main process writes. The progress bar disappears when stderr is not a terminal.
"""

from __future__ import annotations

import contextlib
import csv
import io
import locale
import os
import sys
from pathlib import Path
from typing import Any

from eegprep.base.errors import UsageError
from eegprep.base.files import named_error, write_output
from eegprep.base.path_limits import shown_path
from eegprep.base.sealed_rows import (
    CHECK_COLUMN,
    TABLE_LIMIT,
    csv_problem,
    csv_rows,
    header_problem,
    row_check,
    row_problem,
    table_text,
)
from eegprep.base.user_files import read_user_file
from eegprep.tools.plot_backend import pyplot


class RunLog:
    """CSV rows of metrics per logged step, a tqdm bar, and ``curves.png`` at the end.

    Parameters
    ----------
    path : Path
        The CSV file (``log.csv`` in the run folder).
    total : int
        Steps of the run (for the bar).
    enabled : bool
        False on non-main ranks: nothing is written or shown.
    resume_step : int
        Rows after this step (from a run killed after its last checkpoint) are dropped.
    """

    def __init__(
        self, path: Path, *, total: int, enabled: bool = True, resume_step: int = 0, desc: str = ""
    ) -> None:
        self.path = Path(path)
        self.enabled = enabled
        self.columns: list[str] | None = None
        self.rows: list[dict[str, Any]] = []
        self.bar: Any = None
        if not enabled:
            return
        if resume_step and self.path.exists():
            self.rows = _read_rows(self.path, resume_step)
        if self.rows:
            self.columns = list(self.rows[0])
        self._rewrite()
        from tqdm import tqdm

        self.bar = tqdm(
            total=total,
            initial=resume_step,
            desc=desc,
            disable=not sys.stderr.isatty(),
            dynamic_ncols=True,
            leave=False,
        )

    def _rewrite(self) -> None:
        """The file holds the kept rows afterwards, or what it held before (a kill while a
        resumed run rewrites it must not lose the rows it keeps)."""
        from eegprep.base.files import replaced_atomically

        with (
            replaced_atomically(self.path, durable=True, tidy=True) as tmp,
            tmp.open("w", newline="") as fh,
        ):
            if self.columns:
                w = csv.writer(fh)
                w.writerow([*self.columns, CHECK_COLUMN])
                w.writerows(self._sealed(r) for r in self.rows)

    def _sealed(self, row: dict[str, Any]) -> list[str]:
        """``row``'s cells as the file holds them, its :data:`CHECK_COLUMN` last (a flipped
        bit in a step or a loss is found by ``--resume`` and ``labram report``)."""
        assert self.columns is not None
        cells = [str(row.get(c, "")) for c in self.columns]
        return [*cells, row_check(self.columns, cells)]

    def step(self, n: int = 1, **postfix: float) -> None:
        """Advance the bar; show the given values."""
        if self.bar is not None:
            self.bar.update(n)
            if postfix:
                self.bar.set_postfix({k: f"{v:.4g}" for k, v in postfix.items()}, refresh=False)

    def log(self, row: dict[str, Any]) -> None:
        """Append one row (its keys fix the columns on the first call)."""
        if not self.enabled:
            return
        row = {k: (float(v) if not isinstance(v, int | str) else v) for k, v in row.items()}
        if self.columns is None:
            self.columns = list(row)
            self._rewrite()
        self.rows.append(row)
        buf = io.StringIO(newline="")
        csv.writer(buf).writerow(self._sealed(row))
        append_whole(self.path, buf.getvalue().encode(locale.getpreferredencoding(False)))

    def close(self, plot_path: Path | None = None) -> Path | None:
        """Close the bar; plot every numeric column against ``step``."""
        if self.bar is not None:
            self.bar.close()
        if not self.enabled or plot_path is None or not self.rows:
            return None
        return plot_curves(self.rows, plot_path)


def append_whole(path: Path, data: bytes) -> None:
    """Append ``data`` (one row, ending in a line break) to ``path``, whole or not at all, so
    that the file ends with a line break after every append.

    A write that fails (an I/O error, a full disk) or is interrupted (Ctrl-C: a
    ``KeyboardInterrupt`` between two writes) cuts the file back to its size before and
    raises again, an ``OSError`` naming ``path`` (a buffered append's error named no file:
    "error: cannot use it (Input/output error)", and could leave a part of the row). A part
    of a row already at the end (an append whose cut back failed too) is cut off first: the
    new row never continues it (a row glued so fails its checksum, and ``--resume`` refuses
    the log)."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_APPEND)  # (read: its last byte, below)
    except OSError as exc:
        raise named_error(exc, path) from exc
    size = -1
    try:
        now = os.fstat(fd).st_size
        size = _whole_size(fd, now)
        if size != now:
            os.ftruncate(fd, size)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    except BaseException as exc:
        if size >= 0:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, size)
        if isinstance(exc, OSError):
            raise named_error(exc, path) from exc
        raise
    finally:
        os.close(fd)


_TAIL = 1 << 16
"""Bytes read back from a log's end to find its last line break (a row is far shorter)."""


def _whole_size(fd: int, size: int) -> int:
    """The size of the open log ``fd`` (``size`` bytes now) up to and with its last line
    break: ``size`` when it ends with one, is empty, or its last :data:`_TAIL` bytes hold
    none (no row of ours: left as it is)."""
    if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
        return size
    start = max(0, size - _TAIL)
    tail = os.pread(fd, size - start, start)
    cut = tail.rfind(b"\n")
    return size if cut < 0 else start + cut + 1


def _read_rows(path: Path, resume_step: int) -> list[dict[str, Any]]:
    """The rows of ``path`` a resumed run keeps (:func:`_kept`).

    Raises
    ------
    UsageError
        ``path`` is not UTF-8 CSV text (damaged, or another file under its name), or a whole
        row does not match its :data:`CHECK_COLUMN` (a flipped bit: a step read as a later
        one was dropped, a loss kept as another): one line naming it, before it is
        rewritten, so that the rows it holds are not lost.
    """
    todo = "cannot resume; restore it from a copy, or move it away to resume with a new log"
    try:
        raw = read_user_file(path, "run log", UsageError, limit=TABLE_LIMIT)
    except UsageError as exc:
        raise UsageError(
            f"cannot resume: {exc}; move it away to resume with a new log, or pass another "
            "--out for a new run"
        ) from None
    text = whole_rows(table_text(path, raw, todo))  # (NUL, not UTF-8, a line of megabytes)
    return [r for r in checked_rows(path, text, todo) if _kept(r, resume_step)]


def checked_rows(path: Path, text: str, todo: str) -> list[dict[str, Any]]:
    """The rows of ``text`` (a run's ``log.csv``, its whole rows: :func:`whole_rows`) as
    :class:`csv.DictReader` reads them, without their :data:`CHECK_COLUMN` once each matches
    it (a log of an older labram has none, and is read as before).

    Raises
    ------
    UsageError
        A row does not match its checksum, or the header holds the checksum's column under a
        changed name: ``PATH: why: todo``, naming the line.
    """
    reader = csv.DictReader(io.StringIO(text, newline=""))

    def refuse(why: str) -> UsageError:
        return UsageError(f"{shown_path(path)}: no CSV table ({why}): {todo}")

    try:
        columns = list(reader.fieldnames or [])
    except csv.Error as exc:  # (a header cell over csv's limit of 128 kB)
        raise refuse(csv_problem(exc, reader.reader.line_num)) from None
    problem = header_problem(columns)
    rows = []
    for row in csv_rows(reader, refuse):
        problem = problem or row_problem(columns, row, reader.line_num)
        if problem:
            break
        row.pop(CHECK_COLUMN, None)
        rows.append(row)
    if problem:
        raise UsageError(f"{shown_path(path)}: {problem}: {todo}")
    return rows


def whole_rows(text: str) -> str:
    """``text`` (a run's ``log.csv``) up to its last line break: rows are appended one at a
    time, each ending in ``\n``, so a last row without it was cut by a kill or a full disk
    (``...,1300.5`` cut to ``...,13`` has every field, and read as 13 tokens/s). In a log whose
    lines all end in ``\\r`` alone (a copy saved by an editor so), that ends a row: every row
    was left out."""
    end = "\n" if "\n" in text else "\r"  # (a \r last of \r\n ends no row: it was cut)
    return text[: text.rfind(end) + 1]


def _kept(row: dict[str, Any], resume_step: int) -> bool:
    """Whether a row read back on resume stays: a whole row (a process killed while appending
    leaves the last one cut, its step possibly cut to a smaller number) at or before the step
    the run resumes from."""
    if None in row.values() or None in row:  # too few or too many fields
        return False
    try:
        return int(row["step"]) <= resume_step
    except (KeyError, ValueError):
        return False


def plot_curves(rows: list[dict[str, Any]], path: Path) -> Path:
    """One panel per metric (loss, accuracy, codebook usage, lr, ...) against the step
    (:func:`curves_png`); the PNG is written whole or not at all (a kill while it is written
    keeps the previous plot, as ``eegprep stats --plots`` does)."""
    png = curves_png(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_output(path, png)
    return path


def curves_png(rows: list[dict[str, Any]]) -> bytes:
    """The PNG's bytes of :func:`plot_curves`: one panel per column of ``rows`` but ``step``
    and ``epoch`` (a value that is not a number drawn as a gap), losses on a log scale."""
    import io

    plt = pyplot()

    from eegprep.tools.plot_text import plot_text

    skip = {"step", "epoch"}
    names = [k for k in rows[0] if k not in skip]
    steps = [int(r["step"]) for r in rows]
    n = len(names)
    cols = min(3, n)
    nrows = (n + cols - 1) // cols
    fig, axes = plt.subplots(nrows, cols, figsize=(4 * cols, 2.8 * nrows), squeeze=False)
    for ax, name in zip(axes.flat, names):
        vals = []
        for r in rows:
            try:
                vals.append(float(r[name]))
            except (TypeError, ValueError):
                vals.append(float("nan"))
        ax.plot(steps, vals, lw=1.2)
        ax.set_title(plot_text(name), fontsize=9)
        ax.set_xlabel("step", fontsize=8)
        ax.tick_params(labelsize=7)
        if name == "loss" or name.endswith("_loss"):
            ax.set_yscale("log")
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    return buf.getvalue()
