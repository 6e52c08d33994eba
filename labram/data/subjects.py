"""The key labram groups a recording's subject by: one place for every split and check.

A subject split (fine-tuning's train/validation subjects, a protocol's folds), pre-training's
``--exclude-subjects-of`` and the leakage record of the subjects a checkpoint trained on all
compare a recording's ``subject_key`` (else its ``subject``). Since the record text rule
(:mod:`eegprep.base.field_text`) the ingest stores that text NFC-normalised and stripped; a
store written before it may hold ``"S01 "`` or an NFD spelling (``"e"`` and a combining accent,
as macOS file names spell it) beside ``"S01"`` or the NFC one, for one subject. Compared as
stored, they were two subjects, and a split could put one on both sides of its test set. Read
through :func:`subject_key` they are one, as the ingest now makes them; case is kept, as the
rule keeps it.
"""

from __future__ import annotations

from typing import Any

from eegprep.base.field_text import clean_text


def subject_key(value: Any) -> str:
    """A stored ``subject_key`` (or ``subject``) as labram compares it: the record text rule's
    cleaning (:func:`~eegprep.base.field_text.clean_text`: NFC, stripped); ``""`` for none
    (missing, None, not text)."""
    return clean_text(value) if isinstance(value, str) else ""


def subject_of(rec: Any) -> str:
    """The key a recording's subject is split by: its ``subject_key``, else its ``subject``,
    each by :func:`subject_key` (``rec``: a :class:`~eegprep.store.recording.Recording`)."""
    return subject_key(rec.subject_key) or subject_key(rec.subject)


FOLD_PARTS = ("train", "val", "test")
"""The lists of subject keys a fold holds (a ``splits.json`` entry, a checkpoint's ``split``)."""


def clean_fold(fold: Any) -> Any:
    """``fold`` (a saved fold: a ``splits.json`` entry or a checkpoint's ``split``) with the
    keys of its :data:`FOLD_PARTS` lists as :func:`subject_key` cleans them; anything else
    (its calibration pairs, a value of another shape) as it is. A fold an earlier version
    saved lists its keys as the store held them (``"S01 "``, an NFD ``é``): compared raw with
    the keys labram now splits by, it named subjects no window has, and a resumed run was
    refused as one of other folds."""
    if not isinstance(fold, dict):
        return fold
    out = dict(fold)
    for part in FOLD_PARTS:
        keys = fold.get(part)
        if isinstance(keys, list) and all(isinstance(k, str) for k in keys):
            out[part] = [subject_key(k) for k in keys]
    return out


__all__ = ["FOLD_PARTS", "clean_fold", "subject_key", "subject_of"]
