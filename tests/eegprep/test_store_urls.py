"""A store URL whose protocol fsspec does not know, or whose package is not installed
(`s3://` without `pip install 'labram[s3]'`, as the README's example is run from a fresh
wheel), is one line naming the URL and the fix, exit status 2, at every option and argument
that takes a store: it was an internal error ("a bug", exit 1). A URL given to an output that
only a local path can be (`labram export --out`, `embed --out`, `stats --plots`) is refused
the same way: it was written to local folders named `s3:/bucket/`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import click
import fsspec
import pytest
from fsspec.registry import known_implementations

from eegprep.base.errors import UsageError
from eegprep.cli_group import LocalPath, StoreLocation
from eegprep.store.fs import Location
from tests.test_cli_errors import BASE, COMMANDS, _base, assert_one_error, run

MISSING_PACKAGE = "eegprepnopkg"
"""A protocol registered with fsspec whose implementation's package is not installed."""


@pytest.fixture(autouse=True)
def _a_protocol_without_its_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EEGPREP_CONFIG", str(tmp_path / "eegprep-config.toml"))
    fsspec.register_implementation(
        MISSING_PACKAGE, "eegprep_no_such_package.FileSystem", errtxt="install no-such-package"
    )
    yield
    known_implementations.pop(MISSING_PACKAGE, None)


def _store_cases() -> Iterator[tuple[tuple[str, ...], list[str], int]]:
    """(command, its arguments, index of a store value among them) for every store parameter
    of every command (tests/test_cli_errors.py's arguments, the option added where left out)."""
    for path, args in sorted((p, a) for p, a in BASE.items() if a is not None):
        for param in COMMANDS[path].params:
            if not isinstance(param.type, StoreLocation):
                continue
            names = [o for o in param.opts if o.startswith("--")]
            if not names:  # an argument: the one ending in .zarr
                yield path, args, next(i for i, a in enumerate(args) if a.endswith(".zarr"))
            elif names[0] in args:
                yield path, args, args.index(names[0]) + 1
            else:
                yield path, [*args, names[0], "-"], len(args) + 1


CASES = list(_store_cases())


def test_every_store_parameter_is_checked() -> None:
    walked = {" ".join(path) for path, _, _ in CASES}
    assert {"eegprep ingest", "eegprep stats", "eegprep validate", "labram pretrain"} <= walked
    assert len(CASES) == sum(
        isinstance(p.type, StoreLocation) for path, c in COMMANDS.items() for p in c.params
    )


@pytest.mark.parametrize(("path", "args", "at"), CASES, ids=lambda v: str(v).replace(" ", "_"))
@pytest.mark.parametrize(
    ("url", "says"),
    [
        (f"{MISSING_PACKAGE}://bucket/s.zarr", "not installed: fsspec says: install no-such-"),
        (f"zip::{MISSING_PACKAGE}://bucket/s.zip", f"reads {MISSING_PACKAGE}:// URLs"),
        ("nosuchprotocol://bucket/s.zarr", "no file system has the protocol 'nosuchprotocol'"),
    ],
)
def test_a_store_url_fsspec_cannot_open_is_one_line(
    tmp_path: Path, path: tuple[str, ...], args: list[str], at: int, url: str, says: str
) -> None:
    argv = [*args[:at], url, *args[at + 1 :]]
    before = sorted(tmp_path.iterdir())
    line = assert_one_error(run(path, argv), says=says)
    assert url in line, line
    assert sorted(tmp_path.iterdir()) == before  # refused before anything is written


def test_the_fix_names_the_extra_that_installs_the_package(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`s3://` and `gs://` name the distribution's extras (docs/install.md), whether or not
    s3fs is installed here: their class is made to fail its import as a missing one does."""

    def missing(protocol: str) -> type:
        raise ImportError(f"Install the package of {protocol}")

    monkeypatch.setattr(fsspec, "get_filesystem_class", missing)
    for url, extra in [("s3://b/s.zarr", "s3"), ("gs://b/s.zarr", "gcs"), ("gcs://b/x", "gcs")]:
        with pytest.raises(UsageError, match=rf"^{url}: .* pip install 'labram\[{extra}\]'$"):
            Location.parse(url)


def test_a_credential_in_the_url_is_not_shown() -> None:
    with pytest.raises(UsageError) as caught:
        Location.parse(f"{MISSING_PACKAGE}://user:secret@host/s.zarr")
    assert "secret" not in str(caught.value)


def test_a_protocol_fsspec_has_still_opens() -> None:
    assert Location.parse("memory://urls/s.zarr").root == "/urls/s.zarr"


def _output_cases() -> Iterator[tuple[tuple[str, ...], list[str]]]:
    """(command, arguments giving a URL) for every local output path of every command (an
    option first, so that click converts it before the others)."""
    for path, cmd in sorted(COMMANDS.items()):
        args = _base(path)
        for param in cmd.params:
            if not (isinstance(param.type, LocalPath) and param.type.output):
                continue
            if isinstance(param, click.Option):
                given = [i for i, a in enumerate(args) if a in param.opts]
                rest = [a for i, a in enumerate(args) if not any(i - g in (0, 1) for g in given)]
                yield path, [param.opts[0], "s3://bucket/out", *rest]
            else:  # an argument: its place among the positional arguments given
                at = [p.name for p in cmd.params if isinstance(p, click.Argument)].index(param.name)
                yield path, [*args[:at], "s3://bucket/out", *args[at + 1 :]]


@pytest.mark.parametrize(("path", "args"), list(_output_cases()), ids=str)
def test_a_url_where_a_local_output_goes_is_refused(
    tmp_path: Path, path: tuple[str, ...], args: list[str]
) -> None:
    """`labram export CKPT --out s3://bucket/x.safetensors` wrote the local folders
    ./s3:/bucket/ and said it had written s3:/bucket/x.safetensors; every output that only a
    local path can be now refuses a URL in one line, before anything is written."""
    line = assert_one_error(run(path, args), says="s3://bucket/out: a URL, and this option")
    assert list(tmp_path.iterdir()) == [], line
