"""Every example a command's `--help` shows is a command line its parser accepts, and every
list of an option's choices the docs give is the option's list.

tests/test_docs.py checks that the commands and options named exist; here each example of
`--help` is split as a shell splits it and handed to click's own `make_context` (no resilient
parsing, nothing run), so an example that names a removed option, gives a choice the option
no longer has, a number out of its range, an option without its value, or one argument too
many fails. The path types' checks (that `/data/tuab` exists) are the user's machine's, not
the example's: they are left out here (tests/test_cli_errors.py tests them).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from eegprep.cli_group import LocalPath, StoreLocation

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELL_OPERATORS = {"&&", "||", "|", ";", ">", ">>", "<", "&"}


def _roots() -> dict[str, click.Command]:
    from cli import eegprep_cli, labram_cli

    return {"eegprep": eegprep_cli, "labram": labram_cli}


def _commands() -> Iterator[tuple[str, click.Command]]:
    todo = list(_roots().items())
    while todo:
        name, cmd = todo.pop()
        yield name, cmd
        if isinstance(cmd, click.Group):
            todo += [(f"{name} {sub}", c) for sub, c in cmd.commands.items()]


COMMANDS = dict(sorted(_commands()))


def _help_examples(name: str) -> list[str]:
    """The lines of the `Example(s):` section of ``name --help``."""
    root = _roots()[name.split()[0]]
    res = CliRunner().invoke(root, [*name.split()[1:], "--help"], terminal_width=200)
    assert res.exit_code == 0, res.output
    section = res.output.split("Example", 1)[1].split("\n\n", 1)[0]
    return [line.strip() for line in section.splitlines()[1:] if line.strip()]


def command_lines(line: str) -> list[list[str]]:
    """The `eegprep` / `labram` commands of one shell line, each as its words: split as a
    POSIX shell splits it (quotes, a `# comment`), cut at `&&`, `|`, `;` and redirections,
    and `torchrun ... $(which labram) pretrain ...` taken as the labram command it runs."""
    line = re.sub(r"^.*\$\(which (eegprep|labram)\)", r"\1", line)
    lexer = shlex.shlex(line, posix=True, punctuation_chars="|&;<>")
    lexer.whitespace_split = True
    found: list[list[str]] = [[]]
    for word in lexer:
        if word in SHELL_OPERATORS:
            found.append([])
        else:
            found[-1].append(word)
    return [words for words in found if words and words[0] in ("eegprep", "labram")]


def parse_problem(words: list[str]) -> str | None:
    """Why click refuses the command line ``words`` (None: it parses, options, choices,
    numbers and arguments all taken); nothing is run."""
    cmd = _roots()[words[0]]
    args, parent = list(words[1:]), None
    try:
        while True:
            ctx = cmd.make_context(words[0], args, parent=parent, resilient_parsing=False)
            if not isinstance(cmd, click.Group):
                return None
            rest = [*ctx._protected_args, *ctx.args]  # what the group leaves its command
            if not rest:
                return None
            _, sub, args = cmd.resolve_command(ctx, rest)
            assert sub is not None
            cmd, parent = sub, ctx
    except click.exceptions.Exit:  # `--help`, `--version`: taken
        return None
    except click.exceptions.NoArgsIsHelpError:  # a bare group: its help
        return None
    except click.ClickException as exc:
        return exc.format_message()


@pytest.fixture
def paths_unchecked(monkeypatch: pytest.MonkeyPatch) -> None:
    """An example's paths are taken as written (`/data/tuab` need not exist here)."""

    def as_given(self: Any, value: Any, param: Any, ctx: Any) -> Any:
        return value

    monkeypatch.setattr(LocalPath, "convert", as_given)
    monkeypatch.setattr(StoreLocation, "convert", as_given)


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_help_example_parses(name: str, paths_unchecked: None) -> None:
    examples = _help_examples(name)
    runs = [words for line in examples for words in command_lines(line)]
    assert runs, f"`{name} --help` shows no example of a command"
    mine = [w for w in runs if " ".join(w).startswith(name)]
    assert mine, f"`{name} --help`: no example runs `{name}`"
    wrong = {" ".join(w): p for w in runs if (p := parse_problem(w))}
    assert wrong == {}


def test_every_command_line_of_the_docs_parses(paths_unchecked: None) -> None:
    """The commands of the README's and the docs pages' bash blocks parse as the `--help`
    examples do (a synopsis line, with `[--opt X]` or `...`, is left to tests/test_docs.py)."""
    lines = [
        (page.name, line)
        for page in PAGES
        for block in re.findall(r"```(?:bash|sh|shell)\n(.*?)```", page.read_text(), flags=re.S)
        for line in block.splitlines()
        if "[" not in line and "..." not in line
    ]
    runs = [(name, words) for name, line in lines for words in command_lines(line)]
    assert len(runs) > 30
    wrong = {f"{name}: {' '.join(w)}": p for name, w in runs if (p := parse_problem(w))}
    assert wrong == {}


def test_the_parse_check_sees_a_wrong_example(paths_unchecked: None) -> None:
    def problem(line: str) -> str | None:
        (words,) = command_lines(line)
        return parse_problem(words)

    assert problem("eegprep ingest tuh --src /d --out s.zarr --workers 8  # a comment") is None
    assert problem("eegprep ingest folder --include '**/*.vhdr' --mains 50 --out s") is None
    assert problem("labram pretrain --store s --size tiniest") is not None
    assert problem("labram pretrain --store s --purge") is not None
    assert problem("eegprep ingest tuh --out s --workers -1") is not None
    assert problem("eegprep ingest tuh --out") is not None  # an option without its value
    assert problem("eegprep stats a.zarr b.zarr") is not None  # an argument too many
    assert problem("labram evaluate --task tuab --checkpoint c.pt") is not None  # no --store
    assert problem("eegprep config sett tuh /d") is not None
    assert problem("eegprep -v config set tuh /d") is None
    assert problem("labram pretrain --help") is None and problem("eegprep --version") is None
    assert command_lines("torchrun -n 2 $(which labram) embed --out E > log.txt") == [
        ["labram", "embed", "--out", "E"]
    ]
    assert command_lines("eegprep demo --out d && eegprep stats s | head -1") == [
        ["eegprep", "demo", "--out", "d"],
        ["eegprep", "stats", "s"],
    ]


def _choice_options() -> dict[str, set[frozenset[str]]]:
    """Option name -> the choice sets of the commands that have it as a `click.Choice`."""
    found: dict[str, set[frozenset[str]]] = {}
    for cmd in COMMANDS.values():
        for param in cmd.params:
            if isinstance(param, click.Option) and isinstance(param.type, click.Choice):
                for opt in param.opts:
                    found.setdefault(opt, set()).add(frozenset(map(str, param.type.choices)))
    return found


def listed_choices(text: str) -> list[tuple[str, list[str]]]:
    """Each list of an option's values a page gives: `--size tiny|base|large|huge` (a
    synopsis), and a table whose first column is headed `` `--protocol` `` (a row each)."""
    found = [
        (hit.group(1), hit.group(2).split("|"))
        for hit in re.finditer(r"(--[a-z][a-z0-9-]*)[ =]([\w.-]+(?:\|[\w.-]+)+)", text)
    ]
    for table in re.finditer(r"^\| `(--[a-z][a-z0-9-]*)` \|.*\n\|[-| ]+\|\n((?:\|.*\n)+)", text,
                             flags=re.M):  # fmt: skip
        rows = re.findall(r"^\| `([^`]+)`", table.group(2), flags=re.M)
        found.append((table.group(1), rows))
    return found


def test_every_list_of_choices_in_the_docs_is_the_options() -> None:
    """`[--protocol full|linear-probe|cross-subject|loso|few-shot]` (docs/training.md) and the
    `--protocol` table list exactly the option's choices: a choice added or renamed in the
    code cannot leave a list in the docs short or wrong."""
    choices = _choice_options()
    wrong = sorted(
        f"{page.name}: {opt} {'|'.join(values)}: the option's choices are "
        f"{sorted(sorted(c) for c in choices[opt])}"
        for page in PAGES
        for opt, values in listed_choices(page.read_text())
        if opt in choices and frozenset(values) not in choices[opt]
    )
    assert wrong == []
    checked = {opt for page in PAGES for opt, _ in listed_choices(page.read_text())}
    assert {"--size", "--protocol", "--split", "--recipe", "--mains"} <= checked


def test_the_choice_list_check_reads_both_forms() -> None:
    table = "| `--protocol` | trains |\n|---|---|\n| `full` (default) | x |\n| `loso` | y |\n"
    assert listed_choices(f"[--size tiny|base] and\n{table}") == [
        ("--size", ["tiny", "base"]),
        ("--protocol", ["full", "loso"]),
    ]
