"""Counts in messages: "1 recording", "2 recordings", never "1 recordings" nor "(s)".

Every user-facing line of eegprep and labram that puts a count before a noun says it through
:func:`counted` (or :func:`noun` where the count is written apart, as ``%d`` of a log call),
so that the singular and the plural are right for every count; :func:`some_of` names the first
few of a list and counts the rest.
"""

from __future__ import annotations

from collections.abc import Sequence

_IRREGULAR = {
    "child": "children",
    "index": "indexes",
    "was": "were",
    "is": "are",
    "has": "have",
    "does": "do",
    "this": "these",
    "it": "they",
}
"""Plurals that no suffix rule makes (the verbs a count agrees with too: "1 file is", "2 files
are")."""


def plural(word: str) -> str:
    """The plural of an English noun (or of a verb agreeing with it: ``is`` -> ``are``):
    ``recording`` -> ``recordings``, ``class`` -> ``classes``, ``entry`` -> ``entries``.
    A phrase takes the plural of its last word (``test recording`` -> ``test recordings``)."""
    head, sep, last = word.rpartition(" ")
    if last in _IRREGULAR:
        many = _IRREGULAR[last]
    elif last.endswith(("s", "x", "z", "ch", "sh")):
        many = last + "es"
    elif last.endswith("y") and last[-2:-1] not in tuple("aeiou"):
        many = last[:-1] + "ies"
    else:
        many = last + "s"
    return head + sep + many


def noun(n: int | float, word: str, many: str | None = None) -> str:
    """``word`` as a count of ``n`` takes it: singular for exactly 1, else ``many`` (default
    :func:`plural` of ``word``); for a count written elsewhere (``"%d %s", n, noun(n, w)``)."""
    return word if n == 1 else (many if many is not None else plural(word))


def counted(n: int | float, word: str, many: str | None = None, *, sep: str = "") -> str:
    """``n`` and ``word`` in the number it takes: ``counted(1, "recording")`` is
    ``"1 recording"``, ``counted(2, "recording")`` ``"2 recordings"``; ``sep`` groups the
    digits (``","``: ``"12,000 windows"``)."""
    number = f"{n:,}" if sep == "," else str(n)
    return f"{number} {noun(n, word, many)}"


def of_total(k: int, n: int, word: str, verb: str = "", *, the: bool = False) -> str:
    """``k`` of ``n`` ``word``, then ``verb`` agreeing: ``"1 of 3 recordings was"``,
    ``"2 of 3 recordings were"``, ``"0 of 1 test subject was"``, ``"0 of 3 codes"``.

    The noun takes the number of ``n`` (the whole), the verb is singular where one thing is
    meant (``k`` is 1, or the whole is one: ``0 of 1 subject was seen``), else plural; ``verb``
    in the singular, its first word agreeing (``"was seen"``, ``"holds"``). ``the``:
    ``"1 of the 3 recordings"``."""
    whole = ("the " if the else "") + counted(n, word)
    first, sep, rest = verb.partition(" ")
    said = "" if not verb else " " + (verb if 1 in (k, n) else _verb_plural(first) + sep + rest)
    return f"{k} of {whole}{said}"


def _verb_plural(verb: str) -> str:
    """The plural of a verb in the singular: ``was`` -> ``were``, ``holds`` -> ``hold``,
    ``passes`` -> ``pass``, ``carries`` -> ``carry``; a word that is no such form is kept
    (``cannot``)."""
    if verb in _IRREGULAR:
        return _IRREGULAR[verb]
    if verb.endswith(("sses", "shes", "ches", "xes", "zes")):
        return verb[:-2]
    if verb.endswith("ies"):
        return verb[:-3] + "y"
    return verb[:-1] if verb.endswith("s") and not verb.endswith("ss") else verb


def some_of(items: Sequence[str], most: int = 5) -> str:
    """The first ``most`` of ``items`` joined with ``", "``, then ``" and N more"`` for the
    rest: ``a, b, c, d, e and 3 more``."""
    shown = ", ".join(items[:most])
    rest = len(items) - most
    return f"{shown} and {rest} more" if rest > 0 else shown


__all__ = ["counted", "noun", "of_total", "plural", "some_of"]
