"""A ``--task`` no store's label can be named by: past the 255 characters a record's text may
hold, or holding a control character.

Before: ``--task label:`` followed by 5,000 characters was echoed whole, twice, in a line of
10 kB (``labram finetune``: "the stores hold 0 distinct values of label '...'"; ``labram
evaluate``: "fine-tuned for task 'tuab', not '...'"), and a newline or an escape sequence in
it reached the line as ``\\n`` or ``\\x1b`` after the stores were opened. Each is one short
usage line naming ``--task`` now, before anything is read, on every command that takes it.
"""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from eegprep.base.errors import UsageError
from tests.test_cli_errors import (  # _isolated: the same autouse fixture, for these tests too
    COMMANDS,
    ROOTS,
    _isolated,  # noqa: F401
    assert_one_error,
)

WITH_TASK = sorted(p for p, cmd in COMMANDS.items() if any(x.name == "task" for x in cmd.params))
"""Every command that takes ``--task``."""

NAMES = {
    "long label": "label:" + "k" * 5000,
    "long name": "x" * 5000,
    "newline": "label:a\nb",
    "escape": "label:\x1b[2Jx",
    "just past": "label:" + "k" * 256,
}


def test_the_walk_finds_the_commands() -> None:
    assert {" ".join(p) for p in WITH_TASK} >= {"labram finetune", "labram evaluate",
                                                "labram embed", "labram predict"}  # fmt: skip


@pytest.mark.parametrize("path", WITH_TASK, ids=" ".join)
@pytest.mark.parametrize("case", sorted(NAMES))
def test_a_task_no_label_can_be_named_by_is_one_short_line(
    sound: Path, path: tuple[str, ...], case: str
) -> None:
    args = [*path[1:], "--task", NAMES[case], "--store", "none.zarr", "--checkpoint", str(sound),
            "--out", "o", "x.edf"]  # fmt: skip
    if path[1] == "predict":  # (no --store, no --out)
        args = [*path[1:], "x.edf", "--task", NAMES[case], "--checkpoint", str(sound)]
    elif path[1] == "finetune":
        args = [a for a in args if a != str(sound) and a != "--checkpoint" and a != "x.edf"]
    elif path[1] == "evaluate":
        args = [a for a in args if a not in ("--out", "o", "x.edf")]
    elif path[1] == "embed":
        args = [a for a in args if a != "x.edf"]
    line = assert_one_error(CliRunner().invoke(ROOTS[path[0]], args))
    assert "Invalid value for '--task'" in line and len(line) < 400, line
    assert "\x1b" not in line and not Path("o").exists(), line


def test_the_library_refuses_it_too() -> None:
    from labram.data.tasks import get_task

    with pytest.raises(UsageError, match="over the 255") as err:
        get_task("label:" + "k" * 300)
    assert len(str(err.value)) < 400


def test_a_label_key_of_255_characters_is_still_a_task_name() -> None:
    from labram.command_options import checked_task

    name = "label:" + "k" * 255
    assert checked_task(click.Context(click.Command("x")), None, name) == name
