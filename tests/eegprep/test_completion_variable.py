"""The shell-completion variable (``_EEGPREP_COMPLETE``, ``_LABRAM_COMPLETE``): a value click
cannot answer is one line naming it (eegprep/_completion.py)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from cli import eegprep_cli, labram_cli


def _run(group: object, env: dict[str, str | None], prog: str = "eegprep") -> tuple[int, str]:
    base: dict[str, str | None] = {"COMP_WORDS": None, "COMP_CWORD": None}
    res = CliRunner().invoke(group, ["--version"], env={**base, **env}, prog_name=prog)  # type: ignore[arg-type]
    return res.exit_code, res.output


@pytest.mark.parametrize(
    ("value", "extra", "problem"),
    [
        ("1", {}, "'1' is no shell-completion request"),
        ("garbage", {}, "is no shell-completion request"),
        ("bash_sauce", {}, "is no shell-completion request"),
        ("tcsh_source", {}, "is no shell-completion request"),
        (" ", {}, "is no shell-completion request"),
        ("zsh_complete", {}, "COMP_WORDS and COMP_CWORD are not set"),
        ("bash_complete", {"COMP_WORDS": "eegprep co"}, "COMP_CWORD is not set"),
        ("bash_complete", {"COMP_WORDS": "eegprep co", "COMP_CWORD": "x"}, "'x' is no word"),
    ],
)
def test_a_completion_value_click_cannot_answer_is_one_line(
    value: str, extra: dict[str, str | None], problem: str
) -> None:
    """Was: exit status 1 in silence, the command not run (a traceback for an ``*_complete``
    without the script's variables)."""
    status, out = _run(eegprep_cli, {"_EEGPREP_COMPLETE": value, **extra})
    assert status == 2, out
    assert out.startswith("error: _EEGPREP_COMPLETE=") and out.count("\n") == 1, out
    assert problem in out and "unset" in out


def test_labram_names_its_own_variable() -> None:
    status, out = _run(labram_cli, {"_LABRAM_COMPLETE": "bash_sorce"}, prog="labram")
    assert status == 2 and out.startswith("error: _LABRAM_COMPLETE='bash_sorce' is no "), out


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"_EEGPREP_COMPLETE": "bash_source"}, "_eegprep_completion()"),
        ({"_EEGPREP_COMPLETE": "fish_source"}, "complete --no-files --command eegprep"),
        ({"_EEGPREP_COMPLETE": "bash_complete", "COMP_WORDS": "eegprep con", "COMP_CWORD": "1"},
         "plain,config"),
        ({"_EEGPREP_COMPLETE": "fish_complete", "COMP_WORDS": "eegprep con", "COMP_CWORD": "con"},
         "plain,config"),
        ({"_EEGPREP_COMPLETE": ""}, "version"),  # empty: unset, the command runs
    ],
)  # fmt: skip
def test_the_requests_click_answers_still_work(env: dict[str, str | None], expected: str) -> None:
    status, out = _run(eegprep_cli, env)
    assert status == 0 and expected in out, out
