"""Hostile names and values on both command lines, walked over click's own command tree.

A path whose name starts with '-' (click takes it for an option), and paths no command can use
as given: each is one ``error:`` line naming the path as it can be read, exit status 2, no
traceback, nothing written. (tests/test_cli_errors.py holds the missing inputs, typos and
values of the wrong type.)
"""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from tests.test_cli_errors import COMMANDS, ROOTS, assert_one_error


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EEGPREP_CONFIG", str(tmp_path / "eegprep-config.toml"))
    for var in ("EEGPREP_TUH_DIR", "WORLD_SIZE", "RANK"):
        monkeypatch.delenv(var, raising=False)


def _arguments(cmd: click.Command) -> list[click.Argument]:
    return [p for p in cmd.params if isinstance(p, click.Argument)]


ARGUMENT_CASES = [
    (path, i) for path, cmd in sorted(COMMANDS.items()) for i in range(len(_arguments(cmd)))
]
"""(command, position) of every positional argument of every command (a corpus name too: it
may be a manifest file)."""


def test_the_walk_finds_the_path_arguments() -> None:
    named = {(" ".join(p), _arguments(COMMANDS[p])[i].name) for p, i in ARGUMENT_CASES}
    assert {("eegprep stats", "store"), ("labram convert", "dst"), ("labram predict", "files"),
            ("eegprep config set", "folder"), ("labram report", "run_dirs")} <= named  # fmt: skip


@pytest.mark.parametrize(("path", "position"), ARGUMENT_CASES,
                         ids=lambda v: " ".join(v) if isinstance(v, tuple) else str(v))  # fmt: skip
@pytest.mark.parametrize("exists", [True, False], ids=["existing", "new"])
def test_a_path_starting_with_a_dash_says_how_to_pass_it(
    tmp_path: Path, path: tuple[str, ...], position: int, exists: bool
) -> None:
    """`eegprep stats -s.zarr`: click's "No such option: -s" alone left the user guessing."""
    name = "-s.zarr"
    if exists:
        (tmp_path / name).mkdir()
    before = sorted(tmp_path.iterdir())
    args = [*path[1:], *["x"] * position, name]
    line = assert_one_error(CliRunner().invoke(ROOTS[path[0]], args))
    assert "No such option '-s'" in line, line
    assert f"write it ./{name} or put -- before it" in line, line
    assert sorted(tmp_path.iterdir()) == before
    # as the line says: the path reaches the command (whatever it then says of it)
    for given in ([*path[1:], *["x"] * position, "--", name], [*args[:-1], f"./{name}"]):
        out = CliRunner().invoke(ROOTS[path[0]], given).output
        assert "No such option" not in out, out


@pytest.mark.parametrize("path", sorted(COMMANDS), ids=" ".join)
def test_an_unknown_option_that_names_no_path_gets_no_path_hint(path: tuple[str, ...]) -> None:
    res = CliRunner().invoke(ROOTS[path[0]], [*path[1:], "-k"])
    line = assert_one_error(res, says="No such option")
    assert "starts with '-'" not in line, line
