"""Code books: what the numbers a corpus codes a label with mean, so that no task merges two
corpora's codes whose meanings differ.

A corpus may code a label by numbers whose meaning is its own: SEED's emotion 1 is positive,
SEED-IV's 1 sad and SEED-V's 1 fear; SEED's 0 is neutral where SEED-V's is disgust
(docs/corpora.md, "The SEED family"). A store keeps the numbers as the corpus gives them, and
beside them the corpus's book, the recording label ``<key>_codes`` (name -> code: TUEV's
``event_codes``, the SEED family's ``emotion_codes`` from the manifest's sidecar option
``names``, Inria's ``feedback_codes``).
A task reads the numbers as classes, so:

- a ``label:KEY`` task refuses the stores when two recordings' books give one code of ``KEY``
  two meanings (:func:`check_books`): trained as one class, SEED's positive trials and
  SEED-IV's sad ones taught the model that they are one emotion;
- a built-in task whose classes are one corpus's codes (``seed_v``: SEED-V's, ``tuev``:
  TUEV's ``.rec`` codes) leaves out a recording whose book gives one of its codes another
  meaning (:func:`other_book`, warned once): SEED's raw trials, events ``emotion/0`` (neutral)
  and ``emotion/1`` (positive), were trained as SEED-V's disgust and fear.

A recording without a book (an earlier version's store, a corpus whose manifest states none)
is read as before: nothing tells its codes' meaning.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from eegprep.base.errors import UsageError
from labram.data.label_forms import is_label, label_text


def book_of(labels: Mapping[str, Any], key: str) -> dict[str, str] | None:
    """The book of label ``key`` among a recording's ``labels``: code (canonical text,
    :func:`~labram.data.label_forms.label_text`) -> name (NFC, stripped, lower case), from the
    recording label ``<key>_codes`` (name -> code); None where there is none, or it is no table
    of names to numbers."""
    value = labels.get(f"{key}_codes")
    if not isinstance(value, dict) or not value:
        return None
    out: dict[str, str] = {}
    for name, code in value.items():
        text = label_text(code, numeric=True) if is_label(code) else None
        if text is None or not isinstance(name, str) or not name.strip():
            return None
        out[text] = unicodedata.normalize("NFC", name).strip().lower()
    return out


def check_books(key: str, held: Iterable[tuple[str, dict[str, str]]], *, task_name: str) -> None:
    """Refuse label ``key``'s values when two recordings' books (``(recording id, book)``,
    :func:`book_of`) give one code two meanings.

    Raises
    ------
    UsageError
        Naming the code, both meanings and a recording of each.
    """
    seen: dict[str, tuple[str, str]] = {}
    for rid, book in held:
        for code, name in sorted(book.items()):
            first_name, first_rid = seen.setdefault(code, (name, rid))
            if first_name != name:
                raise UsageError(
                    f"task {task_name!r}: label {key!r} codes {code} as {first_name!r} in "
                    f"{first_rid} but as {name!r} in {rid} (their {key}_codes, each its "
                    "corpus's code book): one class would hold both; fine-tune on stores of "
                    "corpora that code it alike"
                )


def other_book(codes: Mapping[str, str], book: Mapping[str, str] | None) -> bool:
    """Whether a recording's ``book`` (:func:`book_of`; None: it states none) gives one of
    ``codes`` (code -> name, a task's) another name."""
    return book is not None and any(book.get(code, name) != name for code, name in codes.items())


def book_text(codes: Mapping[str, str]) -> str:
    """``codes`` for a message: ``0 disgust, 1 fear, ...``."""
    return ", ".join(f"{code} {name}" for code, name in codes.items())
