"""The files of one export switched as one: a journal that the next reader or writer completes.

``labram export`` writes ``NAME.safetensors`` and its two cards (``NAME.card.md``,
``NAME.card.json``: :func:`card_paths`) under temporary names, then renames each over its final
name. A kill between two renames would leave new cards beside old weights. So once the three
temporaries are complete (and flushed to disk), :func:`switch` first writes a journal,
``NAME.safetensors.journal`` (strict JSON: each final name with its temporary name), then does
the renames, then deletes the journal. The journal is written atomically (temporary name, then
rename): it is whole, or absent. Whatever next reads the weights
(:func:`labram.checkpoints.safe_read.read_checkpoint`) or writes ``NAME`` (``labram export``,
``labram convert``) first calls :func:`finish`, which renames every temporary the journal names
that is still there, then deletes the journal.

Any other writer of ``NAME.safetensors`` (``labram convert``, ``save_ours``) replaces the export
as a unit too: its journal renames the new weights in and also lists the cards to delete
(``remove``), since they describe the weights it replaces. A kill leaves the old export (weights
and cards) or, once a command looks, the new weights alone.

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
from eegprep.base.disk_sync import sync_folder
from eegprep.base.errors import OutputError, UsageError
from eegprep.base.files import (
    TMP_MARK,
    claim_temporary,
    discard,
    fsync_file,
    remove_stale_temporaries,
    replaced_atomically,
    write_atomically,
    write_problem,
)
from eegprep.base.flocks import try_exclusive
from eegprep.base.path_limits import shown_path
from eegprep.base.write_errors import LandedError, then_again

WEIGHTS_SUFFIX = ".safetensors"
"""The one suffix ``labram export`` writes: only a file of that name has cards of its own."""
CARD_SUFFIXES = (".card.md", ".card.json")
"""What :func:`card_paths` puts after ``NAME`` in the names of an export's two cards."""
SUFFIX = ".journal"
"""``NAME.safetensors`` -> ``NAME.safetensors.journal``."""
LOCK_WAIT_S = 30.0
"""Seconds to wait for the folder's lock (held by another export for its renames: ms)."""
_MAX_BYTES = 1 << 16  # a journal is a few hundred bytes
_Entries = tuple[list[tuple[str, str]], list[str]]  # (final, temporary) renames; names to delete


def card_paths(weights: str | os.PathLike[str]) -> tuple[Path, Path]:
    """``NAME.card.md`` and ``NAME.card.json`` beside ``NAME.safetensors``."""
    weights = Path(weights)
    return weights.with_suffix(".card.md"), weights.with_suffix(".card.json")


def card_owner(path: str | os.PathLike[str]) -> Path | None:
    """The export whose card ``path`` is named as: ``NAME.safetensors`` for ``NAME.card.md`` or
    ``NAME.card.json`` (suffixes compared in any case: some file systems ignore it), else None."""
    path = Path(path)
    for suffix in CARD_SUFFIXES:
        if path.name.lower().endswith(suffix) and len(path.name) > len(suffix):
            return path.with_name(path.name[: -len(suffix)] + WEIGHTS_SUFFIX)
    return None


def check_not_card_name(path: str | os.PathLike[str], *, what: str = "") -> None:
    """Refuse to write a weights file under the name of an export's card (:func:`card_owner`):
    it would replace that card, or pass for one beside ``NAME.safetensors`` (``labram convert
    SRC m.card.json --force`` once did). Every writer of weights calls it before anything else.

    Raises
    ------
    UsageError
        One line naming ``path`` (as ``what``, e.g. ``DST``), the export and what to do.
    """
    export = card_owner(path)
    if export is not None:
        raise UsageError(
            f"{what + ' ' if what else ''}{shown_path(path)}: the name of a model card of the "
            f"export {export.name} (`labram export` writes NAME.card.md and NAME.card.json beside "
            "NAME.safetensors), not of a weights file; give the weights another name, e.g. "
            f"{export.name} or {export.with_suffix('.pt').name}"
        )


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
    if os.name != "posix":  # (Windows: a folder cannot be opened to lock; none is held)
        yield
        return
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:  # a folder that cannot be opened: nothing to guard with
        yield
        return
    try:
        deadline = time.monotonic() + LOCK_WAIT_S
        while try_exclusive(fd).state == "busy":  # (unsupported: no flock, none held)
            if time.monotonic() > deadline:
                raise TimeoutError(errno.ETIMEDOUT, "another export holds its folder")
            time.sleep(0.01)
        yield
    finally:
        os.close(fd)  # (closing releases the lock)


def _entries(journal: Path, finals: Sequence[str]) -> _Entries | None:
    """The (final, temporary) names the journal lists and the names it deletes, or None when
    it is not a journal of ours for these files: each final name one of ``finals``, each
    temporary name that final name's (:func:`~eegprep.base.files.temporary_name`), each name
    to delete one of ``finals`` that nothing is renamed to, all in the journal's folder."""
    try:
        with journal.open("rb") as fh:
            doc = strict_json.loads(fh.read(_MAX_BYTES + 1))
    except (OSError, ValueError):
        return None
    files = doc.get("files") if isinstance(doc, dict) else None
    remove = doc.get("remove", []) if isinstance(doc, dict) else None
    if not isinstance(files, list) or not files or not isinstance(remove, list):
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
    renamed = {final for final, _ in out}
    if not all(isinstance(n, str) and n in finals and n not in renamed for n in remove):
        return None
    return out, list(remove)


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
    renames, remove = entries
    for name in remove:  # (the cards of the weights being replaced; gone if deleted before)
        (weights.parent / name).unlink(missing_ok=True)
    for final, tmp in renames:
        with contextlib.suppress(FileNotFoundError):  # (renamed before the kill)
            os.replace(weights.parent / tmp, weights.parent / final)
    sync_folder(weights.parent)  # (the renames on the disk before the journal goes)
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
            f"{shown_path(weights)}: completed an export that was interrupted between its renames "
            f"(journal {journal.name})",
            stacklevel=3,
        )
    elif done == "damaged":
        warnings.warn(
            f"{journal}: damaged (not the journal of an export of {Path(weights).name}): the "
            "export it records cannot be completed; run `labram export ... --force` again",
            stacklevel=3,
        )


def switch(
    weights: Path, files: Sequence[tuple[Path, Path]], *, remove: Sequence[Path] = ()
) -> None:
    """Rename each complete temporary over its final name, and delete each of ``remove``, as
    one (module docstring).

    ``files``: (temporary, final) pairs in ``weights``' folder, the weights among them;
    ``remove``: cards of ``weights`` (:func:`card_paths`) to delete, as a writer of the weights
    alone does (they would describe other weights), before the renames. Any earlier export's
    journal is completed first. Before the journal is in place a failure removes the
    temporaries and leaves every final file as it was; after, the journal stays and the next
    command that reads or writes the export completes it.

    Raises
    ------
    OutputError
        A file could not be written, renamed or deleted, naming it.
    """
    finals = [p.name for p in (weights, *card_paths(weights))]
    assert all(f.name in finals for _, f in files) and all(p.name in finals for p in remove)
    journal = journal_path(weights)
    doc = _journal_doc(weights, files, remove)
    placed = renamed = False
    deleting: Path | None = None  # (the file being deleted, when that is what fails)
    try:
        for tmp, _ in files:
            fsync_file(tmp)
        with _folder_locked(weights.parent):
            _complete(weights, finals, discard_damaged=True)
            try:
                write_atomically(journal, strict_json.dumps(doc).encode(), durable=True)
            except LandedError:  # in place: its temporaries must stay for the next command
                placed = True
                raise
            placed = True
            for path in remove:
                deleting = path
                path.unlink(missing_ok=True)
            deleting = None
            for tmp, final in files:
                os.replace(tmp, final)
            renamed = True
            sync_folder(weights.parent)  # (a power cut keeps the journal or every rename)
            deleting = journal
            journal.unlink()
    except OSError as exc:
        if not placed:
            _discard_all(files)
            raise OutputError(
                f"{shown_path(weights)}: cannot write the export ({write_problem(weights, exc)}); "
                f"what it held before is unchanged{then_again(exc)}"
            ) from exc
        raise OutputError(
            _after_the_journal(weights, exc, renamed=renamed, deleting=deleting)
        ) from exc
    except BaseException:
        if not placed:
            _discard_all(files)
        raise


def _journal_doc(
    weights: Path, files: Sequence[tuple[Path, Path]], remove: Sequence[Path]
) -> dict[str, object]:
    """The journal of one switch: the export, each (final, temporary) name, those to delete."""
    return {
        "export": weights.name,
        "files": [[final.name, tmp.name] for tmp, final in files],
        "remove": [p.name for p in remove],
    }


def _discard_all(files: Sequence[tuple[Path, Path]]) -> None:
    """Remove the temporaries of ``files`` ((temporary, final) pairs): a switch that failed
    before its journal was in place."""
    for tmp, _ in files:
        discard(tmp)


def _after_the_journal(
    weights: Path, exc: OSError, *, renamed: bool, deleting: Path | None = None
) -> str:
    """The line of an export whose write failed once its journal was in place: the files
    it names are renamed in (``renamed``: only the folder's flush, or the journal's removal,
    failed; it said "cannot rename the export's files into place" of files in place), or the
    next command renames them; and what to do about the disk (it said nothing of it).
    ``deleting``: the file whose deletion failed (an old card, the journal): it said "cannot
    rename" of a card it could not delete, and "could not be flushed" of a journal."""
    why = exc.strerror or type(exc).__name__
    journal = journal_path(weights).name
    if deleting is not None and renamed:
        said = (
            f"{shown_path(weights)}: written, but its journal {journal} could not be deleted "
            f"({why}): the next command that reads or writes the export deletes it"
        )
    elif deleting is not None:
        said = (
            f"{shown_path(weights)}: cannot delete {deleting.name}, the card of the weights it "
            f"replaces ({why}); {journal} records the export: the next command that reads or "
            "writes it completes it"
        )
    elif renamed:
        said = (
            f"{shown_path(weights)}: written, but its folder could not be flushed to the disk "
            f"({why}): a power cut may undo it; {journal} records the export: the next command "
            "that reads or writes it completes it"
        )
    else:
        said = (
            f"{shown_path(weights)}: cannot rename the export's files into place ({why}); "
            f"{journal} records them: the next command that reads or writes the export completes it"
        )
    return said + then_again(exc)


def export_cards(weights: str | os.PathLike[str]) -> list[Path]:
    """The cards of an export at ``weights`` that are there (:func:`card_paths`; a file or a
    link): none unless ``weights`` ends in ``.safetensors``, the one name an export writes
    (``NAME.card.md`` beside ``NAME.pt`` is ``NAME.safetensors``' card, not ``NAME.pt``'s)."""
    if Path(weights).suffix != WEIGHTS_SUFFIX:
        return []
    return [p for p in card_paths(weights) if os.path.lexists(p)]


@contextlib.contextmanager
def weights_replaced(path: str | os.PathLike[str]) -> Iterator[Path]:
    """A temporary path beside ``path`` to write a weights file at; put in place as ``path``
    when the block ends (on failure removed, ``path`` left as it was).

    A ``NAME.safetensors`` may be an export (weights and cards, one unit): it is replaced
    through :func:`switch`, which completes an export a kill interrupted there first and deletes
    the export's cards with the same journal as it renames the weights in (they would describe
    other weights), with a warning naming them. Any other name is an atomic replace. This is
    how every writer of a weights file other than ``labram export`` puts it in place
    (:func:`labram.checkpoints.contents.save_checkpoint`, ``save_safetensors``: ``labram
    convert``, ``save_ours``, ``save_official``). A card's name is refused before anything is
    written (:func:`check_not_card_name`).
    """
    check_not_card_name(path)
    path = Path(path)
    if path.suffix != WEIGHTS_SUFFIX:  # (flushed to the disk: a power cut leaves no empty file)
        with replaced_atomically(path, durable=True, tidy=True) as tmp:
            yield tmp
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    handed = False  # to switch(), which then owns the temporary
    tmp = claim_temporary(path)
    try:
        yield tmp
        cards = export_cards(path)
        handed = True
        switch(path, [(tmp, path)], remove=cards)
    finally:
        if not handed:
            discard(tmp)
    for p in (*card_paths(path), journal_path(path)):  # what killed exports or writes left
        remove_stale_temporaries(p)
    if cards:
        warnings.warn(
            f"{shown_path(path)}: replaced the weights of an export; deleted its model cards "
            f"({', '.join(p.name for p in cards)}), which described the weights replaced (`labram "
            "export` writes cards)",
            stacklevel=3,
        )


__all__ = [
    "CARD_SUFFIXES",
    "card_owner",
    "card_paths",
    "check_not_card_name",
    "export_cards",
    "finish",
    "finish_or_warn",
    "journal_path",
    "switch",
    "weights_replaced",
]
