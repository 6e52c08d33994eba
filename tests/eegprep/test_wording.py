"""Counts in messages: singular for exactly one, the plural otherwise (eegprep/base/wording.py)."""

from __future__ import annotations

import pytest

from eegprep.base.wording import counted, noun, plural, some_of


@pytest.mark.parametrize(
    ("word", "many"),
    [("recording", "recordings"), ("class", "classes"), ("entry", "entries"), ("key", "keys"),
     ("index", "indexes"), ("test recording", "test recordings"), ("is", "are"), ("was", "were")],
)  # fmt: skip
def test_plural(word: str, many: str) -> None:
    assert plural(word) == many


def test_counted_is_singular_for_one_alone() -> None:
    assert counted(1, "recording") == "1 recording"
    assert [counted(n, "window") for n in (0, 2)] == ["0 windows", "2 windows"]
    assert counted(12000, "window", sep=",") == "12,000 windows"
    assert counted(2, "datum", "data") == "2 data" and noun(1, "datum", "data") == "datum"


def test_some_of_names_the_first_and_counts_the_rest() -> None:
    assert some_of(["a", "b"]) == "a, b"
    assert some_of([str(k) for k in range(8)], most=3) == "0, 1, 2 and 5 more"
