"""An option that takes one file, folder or store, given twice with two values, on every
command of both command lines (walked over click's own command tree).

Before: click kept the last value without a word (``labram tokenizer --out a --out b`` trained
into ``b``; ``labram evaluate --checkpoint A --checkpoint B`` scored ``B``). The last still
wins, with one ``warning:`` line naming the option and both values.
"""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from eegprep.cli_repeats import PATHS, repeated_options
from tests.test_cli_errors import (  # _isolated: the same autouse fixture, for these tests too
    COMMANDS,
    ROOTS,
    _isolated,  # noqa: F401
)


def _single(cmd: click.Command) -> list[click.Option]:
    return [p for p in cmd.params if isinstance(p, click.Option) and not p.is_flag
            and not p.count and not p.multiple and p.nargs == 1
            and isinstance(p.type, PATHS)]  # fmt: skip


CASES = [(path, p.opts[-1]) for path, cmd in sorted(COMMANDS.items()) for p in _single(cmd)]
"""(command, option) of every option that takes one path."""


def test_the_walk_finds_the_options() -> None:
    found = {(" ".join(path), opt) for path, opt in CASES}
    assert {("labram tokenizer", "--out"), ("labram evaluate", "--checkpoint"),
            ("eegprep ingest", "--out"), ("labram finetune", "--init")} <= found  # fmt: skip
    assert len(CASES) >= 20, len(CASES)


@pytest.mark.parametrize(("path", "opt"), CASES,
                         ids=lambda v: " ".join(v) if isinstance(v, tuple) else v)  # fmt: skip
def test_an_option_given_twice_with_two_values_is_named(path: tuple[str, ...], opt: str) -> None:
    cmd = COMMANDS[path]
    (line,) = repeated_options(cmd, [opt, "a 1", f"{opt}=b"])
    assert line == f"{opt} given twice (a 1, then b): the last wins; give it once", line
    assert repeated_options(cmd, [opt, "a", opt, "a"]) == []  # the same value: nothing to say
    assert repeated_options(cmd, [opt, "a", "--", opt, "b"]) == []  # arguments after --


def test_repeatable_options_flags_and_values_that_look_like_options_say_nothing() -> None:
    cmd = COMMANDS[("labram", "pretrain")]
    args = ["--store", "a", "--store", "b", "--set", "lr=1", "--set", "lr=2", "--resume",
            "--resume", "--set", "--out", "--out", "r"]  # fmt: skip
    assert repeated_options(cmd, args) == []
    assert (
        repeated_options(cmd, ["--lr", "1", "--lr", "2", "--size", "tiny", "--size", "base"]) == []
    )
    three = repeated_options(cmd, ["--out", "a", "--out", "b", "--out", "a"])
    assert three == ["--out given 3 times (a, then b): the last wins; give it once"], three


TWICE = [
    ["labram", "tokenizer", "--store", "none.zarr", "--out", "r1", "--out", "r2"],
    ["labram", "evaluate", "--store", "none.zarr", "--task", "tuab", "--checkpoint", "a.pt",
     "--checkpoint", "b.pt"],
    ["eegprep", "stats", "none.zarr", "--plots", "p1", "--plots", "p2"],
]  # fmt: skip
"""Command lines that give a path option twice (each refused after: no store)."""


@pytest.mark.parametrize("args", TWICE, ids=lambda a: " ".join(a[:2]))
def test_a_command_line_warns_before_it_runs(tmp_path: Path, args: list[str]) -> None:
    (tmp_path / "a.pt").write_bytes(b"")
    (tmp_path / "b.pt").write_bytes(b"")
    res = CliRunner().invoke(ROOTS[args[0]], args[1:])
    lines = res.output.splitlines()
    given = [x for x in lines if x.startswith("warning: ") and "given twice" in x]
    assert len(given) == 1 and "the last wins" in given[0], res.output
    assert res.exit_code == 2 and "Traceback" not in res.output, res.output
