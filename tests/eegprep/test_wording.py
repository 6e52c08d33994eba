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


@pytest.mark.parametrize(
    ("k", "n", "verb", "line"),
    [(0, 1, "was seen", "0 of 1 test subject was seen"),
     (1, 1, "was seen", "1 of 1 test subject was seen"),
     (1, 3, "was seen", "1 of 3 test subjects was seen"),
     (0, 3, "was seen", "0 of 3 test subjects were seen"),
     (2, 3, "holds", "2 of 3 test subjects hold"),
     (2, 3, "has no", "2 of 3 test subjects have no"),
     (2, 3, "", "2 of 3 test subjects")],
)  # fmt: skip
def test_of_total_agrees_with_the_whole_and_the_part(k: int, n: int, verb: str, line: str) -> None:
    """ "0 of 1 test subjects were seen" (labram evaluate's leakage line): the noun takes the
    whole's number, the verb the part's (singular where one thing is meant)."""
    from eegprep.base.wording import of_total

    assert of_total(k, n, "test subject", verb) == line
    assert of_total(1, 2, "window", "is", the=True) == "1 of the 2 windows is"


def test_n_of_m_lines_agree_for_one() -> None:
    """Each "K of N <noun> <verb>" line of labram and eegprep said "1 of 1 files skipped, the
    others done", "0 of 1 test subjects were seen", "1 listed recordings have no source"."""
    import click
    from click.testing import CliRunner

    from eegprep.cli_group import say_skipped
    from labram.train.leakage import check_test_subjects

    record = {"keys": [], "complete": True}
    line = check_test_subjects(record, ["s1"], allow=False, source="m.pt")
    assert line == "0 of 1 test subject was seen in pre-training (m.pt)"

    @click.command()
    def one() -> None:
        say_skipped(["a.edf: bad"], total=1, noun="file", then="fix it")

    assert (
        CliRunner().invoke(one, []).stderr.splitlines()[-1]
        == "1 of 1 file skipped, none done: fix it"
    )
