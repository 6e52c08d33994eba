"""The files of one export switched as one: a journal that the next reader or writer completes.

``labram export`` writes ``NAME.safetensors`` and its two cards (``NAME.card.md``,
``NAME.card.json``) under temporary names, then renames each over its final name. A kill between
two renames would leave new cards beside old weights. So once the three temporaries are
complete (and flushed to disk), :func:`switch` first writes a journal,
``NAME.safetensors.journal`` (strict JSON: each final name with its temporary name), then does
the renames, then deletes the journal. The journal is written atomically (temporary name, then
rename): it is whole, or absent. Whatever next reads the weights
(:func:`labram.checkpoints.files.read_checkpoint`) or writes ``NAME`` (``labram export``,
``labram convert``) first calls :func:`finish`, which renames every temporary the journal names
that is still there, then deletes the journal.

So after a kill at any moment the three files are the old ones (the kill came before the
journal was in place; the temporaries it leaves are removed by the next export of ``NAME``) or,
as soon as a command looks at them, the new ones. The renames and the journal's deletion happen
under an ``flock`` on the folder, so an export and a reader completing the journal of an
earlier one (or two readers) never rename the same file twice.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import time
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path

from eegprep.base import strict_json
from eegprep.base.errors import OutputError
from eegprep.base.files import TMP_MARK, write_atomically

SUFFIX = ".journal"
"""``NAME.safetensors`` -> ``NAME.safetensors.journal``."""
LOCK_WAIT_S = 30.0
"""Seconds to wait for the folder's lock (held by another export for its renames: ms)."""
_MAX_BYTES = 1 << 16  # a journal is a few hundred bytes


def journal_path(weights: str | os.PathLike[str]) -> Path:
    """The journal of an export of ``weights``: ``NAME.safetensors.journal`` beside it."""
    weights = Path(weights)
    return weights.with_name(weights.name + SUFFIX)


@contextlib.contextmanager
def _folder_locked(folder: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``folder`` (waiting up to :data:`LOCK_WAIT_S`); without
    ``flock`` (another OS, a file system without it) nothing is held.

    Raises
    ------
    TimeoutError
        Another process held it all that time.
    """
    try:
        import fcntl
    except ImportError:  # (Windows)
        yield
        return
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:  # a folder that cannot be opened: nothing to guard with
        yield
        return
    try:
        deadline = time.monotonic() + LOCK_WAIT_S
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError(errno.ETIMEDOUT, "another export holds its folder") from None
                time.sleep(0.01)
            except OSError:  # no flock on this file system
                break
        yield
    finally:
        os.close(fd)  # (closing releases the lock)


def _entries(journal: Path, finals: Sequence[str]) -> list[tuple[str, str]] | None:
    """The (final, temporary) names the journal lists, or None when it is not a journal of
    ours for these files: each final name one of ``finals``, each temporary name that final
    name's (:func:`~eegprep.base.files.temporary_name`), all in the journal's folder."""
    try:
        with journal.open("rb") as fh:
            doc = strict_json.loads(fh.read(_MAX_BYTES + 1))
    except (OSError, ValueError):
        return None
    files = doc.get("files") if isinstance(doc, dict) else None
    if not isinstance(files, list) or not files:
        return None
    out = []
    for item in files:
        if not isinstance(item, list) or len(item) != 2:
            return None
        final, tmp = item
        if not isinstance(final, str) or not isinstance(tmp, str):
            return None
        own = re.escape(final + TMP_MARK) + "[0-9a-f]{8}"
        if final not in finals or not re.fullmatch(own, tmp):
            return None
        out.append((final, tmp))
    return out


def _complete(weights: Path, finals: Sequence[str], *, discard_damaged: bool) -> str:
    """:func:`finish`'s work, the folder's lock held."""
    journal = journal_path(weights)
    if not os.path.lexists(journal):
        return "none"  # (completed by another process while this one waited for the lock)
    entries = _entries(journal, finals)
    if entries is None:
        if discard_damaged:  # (the export that calls this replaces all the files it names)
            journal.unlink()
        return "damaged"
    for final, tmp in entries:
        with contextlib.suppress(FileNotFoundError):  # (renamed before the kill)
            os.replace(weights.parent / tmp, weights.parent / final)
    journal.unlink()
    return "completed"


def finish(
    weights: str | os.PathLike[str], finals: Sequence[str], *, discard_damaged: bool = False
) -> str:
    """Complete an export of ``weights`` that a kill interrupted between its renames.

    ``finals``: the names the export writes (the weights and their cards), the only names
    the journal may rename to. A journal that is not one (damaged, or naming other files)
    renames nothing: it is left, or deleted when ``discard_damaged`` (an export about to
    replace the files). Costs one ``lstat`` when there is no journal. Returns ``"none"`` (no
    journal), ``"completed"`` or ``"damaged"``.

    Raises
    ------
    OSError
        A rename or the journal's deletion failed (a read-only folder), or the folder's lock
        was held by another process for :data:`LOCK_WAIT_S`.
    """
    weights = Path(weights)
    if not os.path.lexists(journal_path(weights)):
        return "none"
    with _folder_locked(weights.parent):
        return _complete(weights, finals, discard_damaged=discard_damaged)


def finish_or_warn(weights: str | os.PathLike[str], finals: Sequence[str]) -> None:
    """:func:`finish` for a reader: what it completed, or could not, is a warning naming the
    files; the reader goes on with the files as they are."""
    journal = journal_path(weights)
    try:
        done = finish(weights, finals)
    except OSError as exc:
        warnings.warn(
            f"{journal}: an export of {Path(weights).name} was interrupted and "
            f"cannot be completed here ({exc.strerror or exc}); run `labram export ... "
            "--force` again, or this command where the folder is writable",
            stacklevel=3,
        )
        return
    if done == "completed":
        warnings.warn(
            f"{weights}: completed an export that was interrupted between its renames "
            f"(journal {journal.name})",
            stacklevel=3,
        )
    elif done == "damaged":
        warnings.warn(
            f"{journal}: damaged (not the journal of an export of {Path(weights).name}): the "
            "export it records cannot be completed; run `labram export ... --force` again",
            stacklevel=3,
        )


def _flush(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def switch(weights: Path, files: Sequence[tuple[Path, Path]]) -> None:
    """Rename each complete temporary over its final name, as one (module docstring).

    ``files``: (temporary, final) pairs in ``weights``' folder, the weights among them. Any
    earlier export's journal is completed first. Before the journal is in place a failure
    removes the temporaries and leaves every final file as it was; after, the journal stays
    and the next command that reads or writes the export completes it.

    Raises
    ------
    OutputError
        A file could not be written or renamed, naming it.
    """
    finals = [final.name for _, final in files]
    journal = journal_path(weights)
    doc = {"export": weights.name, "files": [[final.name, tmp.name] for tmp, final in files]}
    placed = False
    try:
        for tmp, _ in files:
            _flush(tmp)
        with _folder_locked(weights.parent):
            _complete(weights, finals, discard_damaged=True)
            write_atomically(journal, strict_json.dumps(doc).encode(), durable=True)
            placed = True
            for tmp, final in files:
                os.replace(tmp, final)
            journal.unlink()
    except OSError as exc:
        why = exc.strerror or type(exc).__name__
        if not placed:
            for tmp, _ in files:
                tmp.unlink(missing_ok=True)
            raise OutputError(
                f"{weights}: cannot write the export ({why}); what it held before is unchanged"
            ) from exc
        raise OutputError(
            f"{weights}: cannot rename the export's files into place ({why}); {journal.name} "
            "records them: the next command that reads or writes the export completes it"
        ) from exc
    except BaseException:
        if not placed:
            for tmp, _ in files:
                tmp.unlink(missing_ok=True)
        raise


__all__ = ["finish", "finish_or_warn", "journal_path", "switch"]
