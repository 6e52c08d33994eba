"""``file:`` URLs (RFC 8089) wherever a path or a store URL is taken: decoded, or refused in one
line, never taken literally and never let out of the folder they name."""

from __future__ import annotations

import os
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from cli import eegprep_cli, labram_cli
from eegprep.base.errors import UsageError
from eegprep.base.file_urls import file_url_path, is_file_url, local_path
from eegprep.cli_group import LocalPath
from eegprep.store.fs import Location


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("file:///tmp/a%20b/s.zarr", "/tmp/a b/s.zarr"),
        ("file://localhost/tmp/x", "/tmp/x"),
        ("file://LOCALHOST/tmp/x", "/tmp/x"),
        ("file:/tmp/x", "/tmp/x"),
        ("FILE:///tmp/x", "/tmp/x"),
        ("file:///tmp/caf%C3%A9", "/tmp/café"),
        ("file:///tmp/100%25", "/tmp/100%"),
        ("file:///tmp/a/%2E%2E/b", "/tmp/a/../b"),  # the dot segment the URL's path holds
    ],
)
def test_a_file_url_is_decoded(url: str, path: str) -> None:
    assert is_file_url(url)
    assert file_url_path(url) == path
    assert Location.parse(url).root == os.path.abspath(path)


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("file:///tmp/x%2F..%2F..%2Fesc.zarr", "an escaped '/' (%2F)"),
        ("file:///tmp/x%2f..", "an escaped '/' (%2F)"),
        ("file:///tmp/a%00b", "NUL"),
        ("file:///tmp/caf%E9", "not UTF-8"),
        ("file:///tmp/a%zz", "written %25"),
        ("file:///tmp/a%4", "written %25"),
        ("file://server/share/x", "the host 'server'"),
        ("file:///tmp/a?b=1", "a query"),
        ("file:///tmp/a#b", "a fragment"),
        ("file://", "no path"),
    ],
)
def test_a_file_url_that_names_no_usable_path_is_refused(url: str, says: str) -> None:
    for parse in (file_url_path, local_path, Location.parse):
        with pytest.raises(UsageError, match="not a usable file URL") as info:
            parse(url)
        assert says in str(info.value) and url in str(info.value)


def test_paths_and_other_urls_are_left_alone() -> None:
    assert local_path("a%20b/s.zarr") == "a%20b/s.zarr"  # a path: its % is a character
    assert local_path("file:a") == "file:a"  # a relative name, not a URL
    assert local_path("s3://b/a%20b.zarr") == "s3://b/a%20b.zarr"  # fsspec's to read


def _one_error(res: object, says: str) -> None:
    output = getattr(res, "output", "")
    lines = [line for line in output.splitlines() if line.strip()]
    assert getattr(res, "exit_code", None) == 2, output
    assert len(lines) == 1 and lines[0].startswith("error: ") and says in lines[0], output
    assert "Traceback" not in output


def test_ingest_writes_the_folder_the_url_names(
    tuh_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    src = f"file://{tuh_corpus.as_posix().replace('tuh_eeg', 'tuh%5Feeg')}"
    out = f"file://{tmp_path.as_posix()}/a%20b/s.zarr"
    args = ["-q", "ingest", "tuh", "--src", src, "--out", out, "--limit", "1", "--workers", "0"]
    res = CliRunner().invoke(eegprep_cli, args)
    assert res.exit_code == 0, res.output
    assert (tmp_path / "a b" / "s.zarr" / "zarr.json").is_file()
    assert not (tmp_path / "a%20b").exists() and not Path("file:").exists()
    res = CliRunner().invoke(eegprep_cli, ["validate", out])
    assert res.exit_code == 0, res.output


@pytest.mark.parametrize("escape", ["x%2F..%2F..%2Fesc.zarr", "a%00.zarr", "caf%E9.zarr"])
def test_an_escape_never_leaves_the_folder(
    tuh_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, escape: str
) -> None:
    inner = tmp_path / "inner"
    inner.mkdir()
    monkeypatch.chdir(inner)
    before = sorted(p.name for p in tmp_path.iterdir())
    for option in ("--out", "--src"):
        good = {"--out": "o.zarr", "--src": str(tuh_corpus)}
        args = ["ingest", "tuh", "--workers", "0", *(x for k, v in good.items() if k != option
                                                     for x in (k, v))]  # fmt: skip
        res = CliRunner().invoke(eegprep_cli, [*args, option, f"file://{inner}/{escape}"])
        _one_error(res, "not a usable file URL")
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert list(inner.iterdir()) == []


def test_every_store_and_path_option_decodes_file_urls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    bad = f"file://{tmp_path}/x%2F..%2Fy"
    cases = [
        (eegprep_cli, ["demo", "--out", bad]),
        (eegprep_cli, ["stats", bad]),
        (eegprep_cli, ["validate", bad]),
        (eegprep_cli, ["corpora", bad + ".toml"]),
        (labram_cli, ["export", bad]),
        (labram_cli, ["tokenizer", "--store", bad, "--size", "tiny", "--out", "run"]),
        (labram_cli, ["embed", "--store", "s.zarr", "--checkpoint", "c.pt", "--out", bad]),
    ]
    for group, args in cases:
        _one_error(CliRunner().invoke(group, args), "not a usable file URL")
    assert list(tmp_path.iterdir()) == []
    res = CliRunner().invoke(eegprep_cli, ["-q", "demo", "--out", f"file://{tmp_path}/d%20x"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "d x" / "tuh").is_dir()


def _commands(group: click.Group) -> list[click.Command]:
    out: list[click.Command] = []
    for cmd in group.commands.values():
        out.extend(_commands(cmd) if isinstance(cmd, click.Group) else [cmd])
    return out


def test_every_path_parameter_takes_file_urls() -> None:
    """The class, not the examples: a new path option must decode file URLs too."""
    for cmd in _commands(eegprep_cli) + _commands(labram_cli):
        for param in cmd.params:
            if isinstance(param.type, click.Path):
                assert isinstance(param.type, LocalPath), (cmd.name, param.name)
