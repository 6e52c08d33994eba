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
    each by :func:`subject_key` (``rec``: a :class:`~eegprep.store.reader.Recording`)."""
    return subject_key(rec.subject_key) or subject_key(rec.subject)


__all__ = ["subject_key", "subject_of"]
