"""A URL given where only a local input can be is one line saying so, at every such parameter.

Before: ``eegprep ingest tuh --src s3://b/x`` said "/here/s3:/b/x: corpus folder not found",
``--manifest s3://b/m.toml`` "no such file", ``labram report s3://b/run`` "s3:/b/run: no such
run folder", ``labram predict s3://b/x.edf`` skipped the file as missing: each took the URL for
a local path that is not there, and the user looked for a typo in a path. Outputs were refused
already (tests/eegprep/test_store_urls.py); stores take URLs.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from eegprep.cli_group import LocalPath, LocalText, StoreLocation
from tests.test_cli_errors import COMMANDS, _base, assert_one_error, run

URL = "s3://bucket/in"


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # (a relative s3:/bucket/in is made here by a test below)
    monkeypatch.setenv("EEGPREP_CONFIG", str(tmp_path / "eegprep-config.toml"))
    for var in ("EEGPREP_TUH_DIR", "WORLD_SIZE", "RANK"):
        monkeypatch.delenv(var, raising=False)


def _takes_local_input(param: click.Parameter) -> bool:
    kind = param.type
    return (isinstance(kind, LocalPath) and not kind.output) or isinstance(kind, LocalText)


def _input_cases() -> Iterator[tuple[str, str, list[str]]]:
    """(command, parameter, arguments giving it the URL) for every parameter of every command
    that takes a local input (an option first, so that click converts it before the others)."""
    for path, cmd in sorted(COMMANDS.items()):
        args = _base(path)
        positional = [p.name for p in cmd.params if isinstance(p, click.Argument)]
        for param in cmd.params:
            if not _takes_local_input(param):
                continue
            if isinstance(param, click.Option):
                given = [i for i, a in enumerate(args) if a in param.opts]
                rest = [a for i, a in enumerate(args) if not any(i - g in (0, 1) for g in given)]
                yield " ".join(path), str(param.name), [param.opts[0], URL, *rest]
            else:  # an argument: its place among the positional arguments given
                at = positional.index(param.name)
                yield " ".join(path), str(param.name), [*args[:at], URL, *args[at + 1 :]]


CASES = list(_input_cases())


def test_every_local_input_is_walked() -> None:
    walked = {(cmd, name) for cmd, name, _ in CASES}
    assert {
        ("eegprep ingest", "src"),
        ("eegprep ingest", "manifest"),
        ("eegprep ingest", "corpus"),
        ("eegprep corpora", "name"),
        ("eegprep config set", "folder"),
        ("labram report", "run_dirs"),
        ("labram predict", "files"),
        ("labram predict", "corpus"),
        ("labram predict", "checkpoint"),
        ("labram evaluate", "checkpoint"),
        ("labram embed", "checkpoint"),
        ("labram export", "checkpoint"),
        ("labram convert", "src"),
        ("labram finetune", "init"),
        ("labram finetune", "splits_file"),
        ("labram finetune", "config_file"),
        ("labram pretrain", "tokenizer"),
        ("labram pretrain", "config_file"),
        ("labram tokenizer", "config_file"),
    } <= walked


NAMES_ONLY = {("eegprep config set", "corpus")}
"""Arguments that take a name and never a path."""


def test_every_argument_says_whether_it_takes_a_url() -> None:
    """A new positional argument must pick its type: a store (a URL allowed), a local path,
    or a name or local path (a URL refused)."""
    for path, cmd in COMMANDS.items():
        for param in cmd.params:
            if isinstance(param, click.Argument) and (" ".join(path), param.name) not in NAMES_ONLY:
                assert isinstance(param.type, LocalPath | StoreLocation | LocalText), param.name


@pytest.mark.parametrize(("command", "name", "args"), CASES, ids=lambda v: str(v))
def test_a_url_given_to_a_local_input_is_one_line(
    tmp_path: Path, command: str, name: str, args: list[str]
) -> None:
    line = assert_one_error(run(tuple(command.split()), args), says=f"{URL}: a URL, and this ")
    assert "not a URL" in line and "copy it to this machine first" in line, line
    param = next(p for p in COMMANDS[tuple(command.split())].params if p.name == name)
    shown = param.opts[0] if isinstance(param, click.Option) else name.upper()
    assert line.startswith("error: Invalid value for '") and shown in line, line  # (named)
    assert list(tmp_path.iterdir()) == [], line  # refused before anything is written


@pytest.mark.parametrize(("command", "name", "args"), CASES, ids=lambda v: str(v))
def test_a_local_path_of_that_name_is_still_taken(
    tmp_path: Path, command: str, name: str, args: list[str]
) -> None:
    """``s3:`` can be a folder's name: where ``s3:/bucket/in`` exists, it is that path."""
    cmd = COMMANDS[tuple(command.split())]
    param = next(p for p in cmd.params if p.name == name)
    local = tmp_path / "s3:" / "bucket" / "in"
    if isinstance(param.type, LocalPath) and not param.type.file_okay:
        local.mkdir(parents=True)
    else:
        local.parent.mkdir(parents=True)
        local.write_text("")
    res = run(tuple(command.split()), args)
    assert "a URL" not in res.output, res.output


def test_a_corpus_folder_setting_that_is_a_url_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    """EEGPREP_TUH_DIR=s3://... was "corpus folder not found" too."""
    monkeypatch.setenv("EEGPREP_TUH_DIR", "gs://bucket/tuh")
    line = assert_one_error(run(("eegprep", "ingest"), ["tuh", "--out", "out.zarr"]))
    assert line.startswith("error: gs://bucket/tuh: a URL, and EEGPREP_TUH_DIR takes a local "
                           "folder, not a URL"), line  # fmt: skip
