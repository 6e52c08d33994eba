"""Where a model file may be written, and one line when the write fails.

Every command that writes a model file (``labram export``, ``labram convert``) checks its output
path first (:func:`check_output`, :func:`check_weights_output`, :func:`check_not_source`) and
writes under :func:`writing`, so that nothing already there is lost or left half written.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from eegprep.base.errors import OutputError, UsageError
from eegprep.base.files import enclosing_zarr, file_in_the_way
from eegprep.base.path_limits import shown_path
from eegprep.base.write_errors import failed_write
from labram.checkpoints.errors import first_sentence
from labram.checkpoints.export_journal import check_not_card_name, export_cards


def check_not_source(
    src: str | os.PathLike[str], dst: str | os.PathLike[str], *, what: str = "DST"
) -> None:
    """Refuse to write ``dst`` when it is the file ``src`` (the same path, another spelling of
    it, a symlink or a hard link): writing would replace the source before it is read whole.

    Raises
    ------
    UsageError
        ``dst`` is ``src``, naming both.
    """
    try:
        same = os.path.samefile(src, dst)
    except OSError:  # one of them does not exist (yet): compare where they would be
        # (realpath, not Path.resolve: that raises on a link that loops)
        same = os.path.realpath(src) == os.path.realpath(dst)
    if same:
        raise UsageError(
            f"{what} {shown_path(dst)} is the file {shown_path(src)} itself: writing it would "
            f"replace the source; give {what} another name"
        )


def check_output(path: str | os.PathLike[str], *, force: bool = False, what: str = "--out") -> None:
    """Refuse to write a model file at ``path`` where that would lose or spoil something.

    The rule of every command that writes a model file (``labram export``, ``labram convert``):
    a folder there is refused; a path inside a Zarr hierarchy (an eegprep store, an embeddings
    store) is refused, since its readers own every object in it; an existing file (or link) is
    refused unless ``force``, and then replaced whole once the new file is complete (a link is
    replaced by the file, its target left as it was).

    Raises
    ------
    UsageError
        One line naming ``path`` and what to do.
    """
    path = Path(path)
    if path.is_dir():
        raise UsageError(f"{what} {shown_path(path)} is a folder: give a file name inside it")
    zarr_root = enclosing_zarr(path)
    if zarr_root is not None:
        raise UsageError(
            f"{what} {shown_path(path)}: inside the Zarr store {shown_path(zarr_root)}; a model "
            "file must not be written among a store's objects: pick a path outside it"
        )
    if os.path.lexists(path) and not force:
        raise UsageError(
            f"{what} {shown_path(path)} exists: pass --force to replace it (whole, once the new "
            "file is complete), or give another name"
        )


def check_weights_output(
    path: str | os.PathLike[str], *, force: bool = False, what: str = "DST"
) -> None:
    """:func:`check_output` for a writer of the weights alone (``labram convert``): writing
    ``NAME.safetensors`` replaces an export there as a unit, so its cards (``NAME.card.md``,
    ``NAME.card.json``), which would describe other weights, are deleted with it
    (:func:`~labram.checkpoints.export_journal.weights_replaced`); without ``force`` a card
    there is refused as the weights are, even when the weights themselves are gone. A card's
    own name is refused, even with ``force``
    (:func:`~labram.checkpoints.export_journal.check_not_card_name`).

    Raises
    ------
    UsageError
        One line naming ``path``, the card, and what to do.
    """
    check_not_card_name(path, what=what)
    check_output(path, force=force, what=what)
    for card in export_cards(path):
        if card.is_dir():
            raise UsageError(
                f"{what} {shown_path(path)}: its model card {shown_path(card)} is a folder: move "
                "it away, or give another name"
            )
        if not force:
            raise UsageError(
                f"{what} {shown_path(path)}: the model card {shown_path(card)} of an export of "
                "that name is there: pass --force to replace the export (its cards are deleted: "
                "they would describe other weights), or give another name"
            )


@contextlib.contextmanager
def writing(path: str | os.PathLike[str]) -> Iterator[None]:
    """Turn a failed write of ``path`` (no permission, a full disk, a file size limit) into one
    :class:`OutputError` line naming it; what ``path`` held before is unchanged (every writer
    here writes beside it and renames), or, when only the flush after the rename failed, the
    line says the new file is in place (:func:`~eegprep.base.write_errors.failed_write`).
    ``torch.save`` reports such a failure as a ``RuntimeError`` of its zip writer, safetensors
    as a ``SafetensorError``."""
    from safetensors import SafetensorError

    try:
        yield
    except (OSError, RuntimeError, SafetensorError) as exc:
        why = file_in_the_way(path) or getattr(exc, "strerror", None) or first_sentence(exc)
        raise OutputError(failed_write(path, why, exc)) from exc
