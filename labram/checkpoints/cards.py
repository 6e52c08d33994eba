"""An export's model cards read back: which weights each says it describes.

``labram export`` writes ``NAME.card.json`` (strict JSON, the facts of
:func:`labram.stages.export.model_card`) and ``NAME.card.md`` (the same facts for people:
:func:`labram.stages.export.card_markdown`) beside ``NAME.safetensors``. Each states the
weights' SHA-256, the weights file's name and, since export ids, the export's id:
:func:`read_card` returns those,
read from the card's structure (the JSON's fields, the Markdown's table rows), never found by a
text search, so that a card damaged or edited out of shape is named as such
(:class:`CardDamaged`) instead of passing because the id is still somewhere in its text.

A card edited by hand stays readable as long as it keeps that shape: extra JSON fields, or
notes added to the Markdown below its table, change nothing. Every reader of weights calls
:func:`check_cards`, which warns when a card beside them is damaged or describes other weights.
"""

from __future__ import annotations

import hashlib
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eegprep.base import strict_json
from eegprep.base.files import named_error
from eegprep.base.path_limits import shown_path
from eegprep.base.shown_text import quoted_path
from eegprep.base.unchanged_reads import unchanged_while_read
from labram.checkpoints.errors import ChangedCheckpointError
from labram.checkpoints.export_journal import card_paths, export_cards

MAX_CARD_BYTES = 1 << 20
"""A card is a few kB: a file larger than this (1 MiB) is not one."""

EXPORT_ID = "export_id"
"""The field of a card (and of the export's metadata) that ties the three files together."""

CARD_FIELDS = frozenset({
    "name",
    "file",
    "sha256",
    "size_bytes",
    "source",
    "kind",
    "n_parameters",
    "n_outputs",
    "model_config",
    "task",
    "training_config",
    "training_config_file",
    "recipe",
    "data",
    "test_metrics",
    "license",
})  # fmt: skip
"""The fields every labram's ``NAME.card.json`` holds (``export_id`` too since export ids)."""

_HEX64 = re.compile(r"[0-9a-f]{64}")
_MD_SHA256 = re.compile(r"\| sha256 \| `([0-9a-f]{64})` \|")
_MD_EXPORT_ID = re.compile(r"\| export id \| `([0-9a-f]{64}|-)` \|")
_MD_FILE = re.compile(r"\| file \| (.+?)(?: \([0-9,]+ bytes\))? \|")


class CardDamaged(ValueError):
    """A card that cannot be read as one: its message says why, in a few words."""


@dataclass(frozen=True)
class CardIds:
    """What a card states of the weights it describes.

    ``sha256``: hex SHA-256 (64 digits) of the weights file's bytes when it was exported;
    ``export_id``: the export's id (64 hex digits:
    :func:`labram.checkpoints.safetensors_files.content_digest`), None for an export of a
    labram before export ids (or a Markdown card that states ``-``); ``file``: the weights
    file's name when it was exported, as the card writes it (a Markdown card escapes it:
    ``markdown``).
    """

    sha256: str
    export_id: str | None
    file: str = ""
    markdown: bool = False

    def names_file(self, weights: str | os.PathLike[str]) -> bool:
        """Whether the card names the file ``weights`` (by the name it is given as, or, for a
        link, its target's; a name differing in case only where the file system ignores it)."""
        weights = Path(weights)
        for name in (weights.name, Path(os.path.realpath(weights)).name):
            if self.file == _as_written(name, markdown=self.markdown):
                return True
        if self.file.casefold() != _as_written(weights.name, markdown=self.markdown).casefold():
            return False
        try:  # differing in case only: the same file where the file system ignores case
            return os.path.samefile(weights, weights.with_name(weights.name.swapcase()))
        except OSError:
            return False


def read_card(path: str | os.PathLike[str]) -> CardIds:
    """The ids that the card ``path`` states: a ``.card.json`` parsed as strict JSON with every
    field of :data:`CARD_FIELDS`, anything else read as a ``.card.md`` (its title, and one
    ``file``, one ``sha256`` and at most one ``export id`` row of its table).

    Raises
    ------
    OSError
        The card is missing or cannot be read.
    ChangedCheckpointError
        The card was rewritten in place while it was read.
    CardDamaged
        It is not a card: larger than :data:`MAX_CARD_BYTES`, not UTF-8, not strict JSON, or
        lacking (or holding a malformed) field or row that every card states.
    """
    path = Path(path)
    with path.open("rb") as fh, unchanged_while_read(fh, path, ChangedCheckpointError):
        data = _read_head(fh)
    if len(data) > MAX_CARD_BYTES:
        raise CardDamaged(f"larger than {MAX_CARD_BYTES} bytes: no model card is")
    try:
        text = data.decode("utf-8-sig")  # (a byte-order mark, as Notepad saves: no part of it)
    except UnicodeDecodeError as exc:
        raise CardDamaged(f"not UTF-8 text: byte {exc.start}") from None
    if path.name.lower().endswith(".json"):
        return _json_ids(text)
    return _markdown_ids(text)


def _read_head(fh: Any) -> bytes:
    """The first :data:`MAX_CARD_BYTES` and one of the open card ``fh``."""
    return bytes(fh.read(MAX_CARD_BYTES + 1))


def _json_ids(text: str) -> CardIds:
    """The ids of a ``.card.json``: strict JSON, an object with every field of a card."""
    try:
        doc: Any = strict_json.loads(text, unique_keys=True)
    except ValueError as exc:
        raise CardDamaged(f"not strict JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise CardDamaged(f"a JSON {type(doc).__name__}, not an object")
    missing = sorted(CARD_FIELDS - set(doc))
    if missing:
        shown = ", ".join(missing[:4]) + (
            f" and {len(missing) - 4} more" if len(missing) > 4 else ""
        )
        raise CardDamaged(f"no {shown} field{'s' if len(missing) > 1 else ''}")
    sha256, export_id, file = doc["sha256"], doc.get(EXPORT_ID), doc["file"]
    if not (isinstance(sha256, str) and _HEX64.fullmatch(sha256)):
        raise CardDamaged(f"its sha256 {_short(sha256)} is not 64 hex digits")
    if export_id is not None and not (isinstance(export_id, str) and _HEX64.fullmatch(export_id)):
        raise CardDamaged(f"its {EXPORT_ID} {_short(export_id)} is neither null nor 64 hex digits")
    if not isinstance(file, str):
        raise CardDamaged(f"its file {_short(file)} is not a file name")
    return CardIds(sha256, export_id, file)


def _markdown_ids(text: str) -> CardIds:
    """The ids of a ``.card.md``: a ``# NAME`` title first, then a table stating the weights'
    file, SHA-256 and (since export ids) export id, one row each."""
    lines = [line.rstrip("\r") for line in text.split("\n")]
    if not lines[0].startswith("# "):
        raise CardDamaged("its first line is not the card's title (# NAME)")
    file = _row(lines, "file", _MD_FILE)
    sha256 = _row(lines, "sha256", _MD_SHA256)
    has_id = any(line.startswith("| export id |") for line in lines)
    export_id = _row(lines, "export id", _MD_EXPORT_ID) if has_id else "-"
    return CardIds(sha256, None if export_id == "-" else export_id, file, markdown=True)


def _as_written(name: str, *, markdown: bool) -> str:
    """A file name as a card writes it: itself in JSON (bytes that are not UTF-8 as ``\\xNN``,
    as every record writes a name: :func:`~eegprep.base.files.as_text`), escaped in Markdown
    (as :func:`labram.stages.export.card_markdown` writes it)."""
    if not markdown:
        from eegprep.base.files import as_text

        return as_text(name)
    from eegprep.cli_group import markdown_line

    return markdown_line(name)


def _row(lines: list[str], name: str, pattern: re.Pattern[str]) -> str:
    """The one row ``| name | ... |`` of the card's table, matched by ``pattern``: its first
    group (the whole row when it has none)."""
    rows = [line for line in lines if line.startswith(f"| {name} |")]
    if len(rows) != 1:
        raise CardDamaged(f"{len(rows)} '{name}' rows in its table, not one")
    hit = pattern.fullmatch(rows[0])
    if hit is None:
        raise CardDamaged(f"its '{name}' row is malformed: {_short(rows[0])}")
    return hit.group(1) if pattern.groups else hit.group(0)


def _short(value: Any) -> str:
    """``value``'s repr, cut to 40 characters (a card's line names it, not all of it)."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


__all__ = ["CARD_FIELDS", "MAX_CARD_BYTES", "CardDamaged", "CardIds", "read_card"]


def check_cards(weights: Path, export_id: str | None, *, opened: Any = None) -> None:
    """Warn, naming both, when a model card beside ``weights`` does not describe them; warn,
    naming it, when a card is damaged (:func:`~labram.checkpoints.cards.read_card`: not strict
    JSON with a card's fields, a Markdown card without the rows every card states).

    ``export_id``: the weights' own (an export's), which each of its cards states; a card
    stating another (or none) describes another export (copied from elsewhere, or left by a
    version whose exports a kill between two renames could split). None: weights that are no
    export of this labram (``labram convert``'s, another tool's, an older labram's export),
    whose cards, if any are there (:func:`~labram.checkpoints.export_journal.export_cards`),
    must state the weights' SHA-256 (an older export's do); else they are an export's whose
    weights were replaced. A card that describes these weights but names another file (``file``:
    the weights renamed, with their cards, since the export) is warned of too: the weights are
    read. A card that is missing or unreadable is not compared: weights may be shared alone.
    Each card is one warning line at most. ``opened``: the weights, open, which their
    SHA-256 is read from (the bytes just loaded, not the file at ``weights`` now).

    Raises
    ------
    ChangedCheckpointError
        A card was rewritten in place while it was read.
    """
    cards = card_paths(weights) if export_id is not None else export_cards(weights)
    digest = export_id
    for card in cards:
        try:
            ids = read_card(card)
        except OSError:  # no card (weights shared alone) or unreadable: nothing to compare
            continue
        except CardDamaged as exc:
            warnings.warn(
                f"{shown_path(card)}: damaged ({exc}): it cannot say which weights it describes; "
                f"run `labram export ... --force` to write {shown_path(weights.name)} and its "
                "cards again, or delete the card",
                stacklevel=3,
            )
            continue
        if export_id is None:
            digest = digest or file_sha256(weights, opened=opened)
        other = _describes_other(card, weights, ids, export_id, digest)
        if other:
            warnings.warn(other, stacklevel=3)
            continue
        if not ids.names_file(weights):  # these weights, under another name: renamed since
            warnings.warn(
                f"{shown_path(card)} names the weights file {quoted_path(ids.file)}, not "
                f"{quoted_path(weights.name)}: "
                "it describes these weights (the same export), renamed since they were exported; "
                "rename the weights and both cards back, or edit the card's file field",
                stacklevel=3,
            )


def _describes_other(
    card: Path, weights: Path, ids: CardIds, export_id: str | None, digest: str | None
) -> str | None:
    """The warning of a ``card`` (its identifiers ``ids``) that describes other weights than
    ``weights``: another export id than theirs, or (``export_id`` None: no export's) another
    SHA-256 than ``digest``; None when it describes them."""
    if export_id is not None:
        if ids.export_id == export_id:
            return None
        return (
            f"{shown_path(card)} describes other weights than {shown_path(weights)} (its "
            f"export id is not {export_id[:12]}...: a card from elsewhere, or an export "
            "an older labram left half done); run `labram export ... --force` again to "
            "rewrite the three files"
        )
    if ids.sha256 == digest:
        return None
    assert digest is not None
    return (
        f"{shown_path(card)} describes other weights than {shown_path(weights)} (its "
        f"SHA-256 is not {digest[:12]}...: the card of an export whose weights were "
        "replaced, e.g. by `labram convert`); delete the cards, or run `labram "
        "export ... --force` to write weights and cards again"
    )


def file_sha256(path: str | os.PathLike[str], *, opened: Any = None) -> str:
    """SHA-256 (hex) of a file's bytes, read in 4 MiB blocks (from ``opened``, the file open,
    when given: its caller checks that it did not change while it was read).

    Raises
    ------
    ChangedCheckpointError
        ``path`` was rewritten in place while it was hashed: the digest would be of no version
        of it.
    """
    try:
        if opened is not None:
            opened.seek(0)
            return _sha256(opened)
        with open(path, "rb") as fh, unchanged_while_read(fh, path, ChangedCheckpointError):
            return _sha256(fh)
    except OSError as exc:  # (a read's error names no file: the disk's, EIO, said so)
        if exc.filename is not None:
            raise
        raise named_error(exc, path) from exc


def _sha256(fh: Any) -> str:
    h = hashlib.sha256()
    for block in iter(lambda: fh.read(1 << 22), b""):
        h.update(block)
    return h.hexdigest()
