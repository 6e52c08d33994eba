"""One canonical form of a recording label value, so that spellings of one value are one class.

Stores made from real corpora spell one label many ways: ``1`` and ``1.0`` (two ingests, two
sidecars), ``"1.0"`` beside ``1`` (a CSV column read as text), ``"é"`` composed (NFC) beside
``"e"`` and a combining accent (NFD, macOS file names), ``" left"`` beside ``"left"``. Every
reader of labels (the classes of a ``label:KEY`` task, the class of each recording, the split's
strata, the label coordinates of ``labram embed``) goes through :func:`label_text`:

- a boolean is a number, ``True`` -> ``"1"`` and ``False`` -> ``"0"`` (JSON's ``true`` is the
  ``1`` of another sidecar);
- a number that is whole and within int64 is its integer (``1.0`` -> ``"1"``, ``-0.0`` ->
  ``"0"``), any other finite number its float64's shortest repr (``0.5`` -> ``"0.5"``,
  ``1e300`` -> ``"1e+300"``, not the 301 digits of ``int(1e300)``); NaN and inf are no label;
- a string is NFC-normalised and stripped of surrounding white space; where the label's values
  are all numbers (``numeric``), a string spelling a decimal number (``"1.0"``, ``" 2 "``,
  ``"1e0"``) is that number's text (a whole one within int64 exactly, as an integer is: float64
  rounded ``"9007199254740993"`` to the class of ``9007199254740992``); a string spelling NaN
  or an infinity (``"nan"``, ``"NaN"``, ``"-inf"``, ``"Infinity"``: JSON holds no such number,
  and a CSV or table tool writes a missing number so) is no label, as the numbers are: it
  made a label of numbers one of names, ``"nan"`` a class trained on;
- anything else (null, a list, a table) is no label (None).

A string spelling a decimal number beyond float64's range (``"1e400"``: no JSON number holds
it), or one not zero that float64 reads as 0 (``"1e-400"``: it was class ``0``), is refused by
:func:`check_numbers` in one line naming a recording holding it.

Where a label's values are names, two strings that spell one number differently (``"1"`` and
``"1.0"``) cannot be told apart as names and cannot be merged as numbers: :func:`check_spellings`
refuses them in one line naming a recording of each.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from eegprep.base.errors import UsageError
from eegprep.base.wording import counted

_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
"""A decimal number as text (no ``nan``, ``inf``, ``0x`` or ``1_000``: those are names), in
ASCII digits (a bare digit class also matched ``٣`` and a full-width ``３``: the labels ``３`` and
``3`` were one class, as TUEV's code 3)."""
_NOT_FINITE = re.compile(r"[+-]?(?:nan|inf|infinity)", re.IGNORECASE)
"""NaN or an infinity as text (what Python, pandas and JavaScript write for them)."""
_INT64 = (-(2**63), 2**63 - 1)
"""The integers a store's labels hold exactly (strict JSON's, and the targets' int64)."""


def _number_text(value: float) -> str | None:
    """Text of a finite number: its integer when whole and within int64, else its shortest
    repr (``1e300`` -> ``"1e+300"``: ``str(int(1e300))`` was a 301-digit class name, of digits
    nobody wrote); None if not finite."""
    if not math.isfinite(value):
        return None
    if float(value).is_integer() and _INT64[0] <= int(value) <= _INT64[1]:
        return str(int(value))
    return repr(float(value))


def _underflows(text: str) -> bool:
    """Whether the decimal ``text`` (:data:`_DECIMAL`) spells a number that is not zero yet
    float64 reads as 0 (``"1e-400"``: it became class ``0``, one with a real ``0``)."""
    return float(text) == 0 and Decimal(text) != 0


def _decimal_text(text: str) -> str | None:
    """Text of the number the decimal ``text`` spells (:data:`_DECIMAL`): a whole one within
    int64 exactly (``"9007199254740993"``, ``"9007199254740993.0"``: float64 rounded both to
    ...992, one class with the label ``9007199254740992``), any other as :func:`_number_text`
    of its float; None for one beyond float64 or one that underflows to 0 (:func:`_underflows`),
    which :func:`check_numbers` refuses."""
    if _underflows(text):
        return None
    number = Decimal(text)
    if number == number.to_integral_value() and number.adjusted() < 19:  # (|n| < 10**19)
        whole = int(number)
        if _INT64[0] <= whole <= _INT64[1]:
            return str(whole)
    return _number_text(float(text))


def _clean(text: str) -> str:
    """``text`` NFC-normalised and stripped."""
    return unicodedata.normalize("NFC", text).strip()


def number_of(value: Any) -> str | None:
    """The number text of ``value`` (:func:`label_text` with ``numeric``) when it is a number,
    a boolean or a string spelling a decimal number; None otherwise."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _number_text(value)
    if isinstance(value, str):
        text = _clean(value)
        if _DECIMAL.fullmatch(text):
            return _decimal_text(text)
    return None


def label_text(value: Any, *, numeric: bool) -> str | None:
    """The canonical text of one label value (module docstring), None when it is no label.

    ``numeric``: whether the label's values are all numbers (:func:`is_numeric`), so that a
    string spelling a number is read as that number."""
    if isinstance(value, str):
        if _NOT_FINITE.fullmatch(text := _clean(value)):
            return None
        return (number_of(value) if numeric else None) or text
    if isinstance(value, bool | int | float):
        return number_of(value)
    return None


def is_numeric(values: Iterable[Any]) -> bool:
    """Whether every label value of ``values`` that is a label is a number (or spells one)."""
    return all(number_of(v) is not None for v in values if is_label(v))


def is_label(value: Any) -> bool:
    """Whether ``value`` is a label value (module docstring): a string (not one spelling NaN or
    an infinity), an integer, a boolean or a finite number; not null, a list or a table."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, str):
        return _NOT_FINITE.fullmatch(_clean(value)) is None
    return isinstance(value, int | bool)


def class_order(texts: Iterable[str], *, numeric: bool) -> list[str]:
    """The distinct canonical label texts ``texts`` in class order: by value where the label
    is numeric (``"2"`` before ``"10"``, ``"-1"`` before ``"0.5"``), else by text. Text order
    put class ``"10"`` before ``"2"``: the classes a store of labels 2, 3, 10 gave were numbered
    10, 2, 3, unlike the label's own order (``eegprep stats``, a user's confusion matrix)."""
    unique = set(texts)
    if not numeric:
        return sorted(unique)
    # (a text that is no number cannot come from a numeric label; it sorts last, by text)
    # (exact: -9007199254740993 before -9007199254740992, which one float64 holds)
    zero = Decimal(0)
    return sorted(unique, key=lambda t: (0, Decimal(t), t) if number_of(t) else (1, zero, t))


def check_numbers(key: str, found: Iterable[tuple[str, Any]], *, task_name: str) -> None:
    """Refuse a label value that spells a decimal number beyond float64 (``"1e400"``): no JSON
    number holds it (a JSON reader reads it as an infinity), so it is neither that number nor
    a name; read as text it made a label of numbers one of names, with a class ``1e400``. So
    is one that is not zero yet underflows float64 to 0 (``"1e-400"``): read as its float it
    was class ``0``, merged with the recordings labelled 0.

    ``found``: ``(recording id, value)`` pairs of label ``key``.

    Raises
    ------
    UsageError
        One line naming the value, a recording holding it, and what to do.
    """
    for rid, value in found:
        if not isinstance(value, str) or not _DECIMAL.fullmatch(text := _clean(value)):
            continue
        if math.isinf(float(text)):
            raise UsageError(
                f"task {task_name!r}: label {key!r} of {rid} is {text[:40]!r}, a number beyond "
                "float64's range (1.8e308) that no JSON number holds: write a number within "
                "it in the stores (the manifest's label rule or sidecar)"
            )
        if _underflows(text):
            raise UsageError(
                f"task {task_name!r}: label {key!r} of {rid} is {text[:40]!r}, a number not zero "
                "yet below float64's smallest (4.9e-324), which reads it as 0 (one class with "
                "a label 0): write a number float64 holds, or 0, in the stores (the manifest's "
                "label rule or sidecar)"
            )


def check_spellings(key: str, found: Iterable[tuple[str, Any]], *, task_name: str) -> None:
    """Refuse a label whose values are names yet hold two spellings of one number.

    ``found``: ``(recording id, value)`` pairs of label ``key``. Only where the label is not
    numeric (:func:`is_numeric`): there ``"1"`` and ``"1.0"`` stay two names.

    Raises
    ------
    UsageError
        One line naming both spellings, a recording holding each, and what to do.
    """
    pairs = list(found)
    if is_numeric(v for _, v in pairs):
        return
    first: dict[str, dict[str, str]] = {}  # number -> {spelling: a recording}
    for rid, value in pairs:
        number = number_of(value)
        spelling = label_text(value, numeric=False)
        if number is not None and spelling is not None:
            first.setdefault(number, {}).setdefault(spelling, rid)
    for number, spellings in sorted(first.items()):
        if len(spellings) > 1:
            shown = ", ".join(f"{s!r} (e.g. {rid})" for s, rid in sorted(spellings.items()))
            raise UsageError(
                f"task {task_name!r}: label {key!r} holds names, and {shown} spell one number "
                f"{number} two ways: as names they would be {counted(len(spellings), 'class')}; "
                "write one spelling in the stores (the manifest's label rule or sidecar), or "
                "make every value a number"
            )
