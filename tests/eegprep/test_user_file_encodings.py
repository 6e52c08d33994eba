"""Every settings file a user writes and hands to a command, as Windows Notepad and Excel save
it: the corpus config file (``EEGPREP_CONFIG``), a manifest (``eegprep ingest my.toml``,
``--manifest``), a training ``--config`` file and a ``--splits`` file (``labram finetune``).

A UTF-8 or UTF-16 byte-order mark, ``\\r\\n`` line ends, a Ctrl-Z ending the file, no final
newline or a blank line after the last each read as the plain UTF-8 file does (``\\r`` alone,
which TOML does not allow, is one line saying how to save the file). A broken file (binary
junk, a NUL byte, a byte that is not UTF-8, a file of a gigabyte, a pipe, a folder) is one line
naming the file, and the line an editor shows where the fault is on one.

Before: a UTF-8 byte-order mark or a Ctrl-Z ending a ``--splits`` file made it "unreadable",
a UTF-16 file was "not UTF-8 text (byte 0xff at byte offset 0)" or "unreadable", and a byte
that is not UTF-8 was cited by its byte offset, never by its line."""

from __future__ import annotations

import codecs
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from eegprep.base.errors import UsageError
from tests.labram.test_run_file_checksums import _splits

ROOT = Path(__file__).resolve().parents[2]

CONFIG = '# my folders\n[corpora]\ntuh = "/data/tuh"\nseed = "D:/eeg/seed"\n'
TRAIN = "# my run\nlr = 1e-4\nepochs = 3\n\n[finetune]\nwarmup_epochs = 2\n"


def _read_config(path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    from eegprep.corpus.folders import read_config

    monkeypatch.setenv("EEGPREP_CONFIG", str(path))
    return read_config()


def _read_manifest(path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    from eegprep.corpus.manifest import load_manifest

    return load_manifest(path)


def _read_train(path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    from labram.train.config import read_toml

    return read_toml(path, "finetune")


def _splits_reader(tmp: Path) -> tuple[str, Callable[[Path, pytest.MonkeyPatch], Any]]:
    from labram.data.protocols import read_splits

    path, _, task, table = _splits(tmp)
    return path.read_text(encoding="utf-8"), lambda p, _m: read_splits(p, task, table)


def _kind(kind: str, tmp: Path) -> tuple[str, str, Callable[[Path, pytest.MonkeyPatch], Any]]:
    """The plain text of a file of ``kind``, its name, and the command's reader of it."""
    if kind == "config file":
        return CONFIG, "config.toml", _read_config
    if kind == "manifest":
        return (ROOT / "manifests" / "folder.toml").read_text(), "my.toml", _read_manifest
    if kind == "training config":
        return TRAIN, "train.toml", _read_train
    text, reader = _splits_reader(tmp)
    return text, "splits.json", reader


KINDS = ["config file", "manifest", "training config", "splits file"]
_LE = codecs.BOM_UTF16_LE
VARIANTS: dict[str, Callable[[str], bytes]] = {
    "UTF-8 with BOM": lambda t: codecs.BOM_UTF8 + t.encode(),
    "UTF-16 LE with BOM": lambda t: _LE + t.encode("utf-16-le"),
    "UTF-16 BE with BOM": lambda t: codecs.BOM_UTF16_BE + t.encode("utf-16-be"),
    "Notepad Unicode (UTF-16 LE, CRLF)": lambda t: _LE + t.replace("\n", "\r\n").encode("utf-16le"),
    "CRLF": lambda t: t.replace("\n", "\r\n").encode(),
    "BOM and CRLF": lambda t: codecs.BOM_UTF8 + t.replace("\n", "\r\n").encode(),
    "Ctrl-Z": lambda t: t.encode() + b"\x1a",
    "CRLF and Ctrl-Z": lambda t: t.replace("\n", "\r\n").encode() + b"\x1a",
    "no final newline": lambda t: t.rstrip("\n").encode(),
    "trailing blank line": lambda t: t.encode() + b"\n",
    "trailing blank CRLF lines": lambda t: t.replace("\n", "\r\n").encode() + b"\r\n\r\n",
}


def _placed(kind: str, tmp: Path) -> tuple[str, Path, Callable[[Path, pytest.MonkeyPatch], Any]]:
    """:func:`_kind`'s text and reader, and the path the file of ``kind`` is written to (its
    folder made)."""
    text, name, read = _kind(kind, tmp)
    path = tmp / "in" / name
    path.parent.mkdir()
    return text, path, read


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("kind", KINDS)
def test_a_file_saved_by_windows_tools_reads_as_the_plain_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, variant: str
) -> None:
    text, path, read = _placed(kind, tmp_path)
    path.write_bytes(text.encode())
    plain = read(path, monkeypatch)
    path.write_bytes(VARIANTS[variant](text))
    assert read(path, monkeypatch) == plain


@pytest.mark.parametrize("kind", KINDS)
def test_cr_line_ends_read_as_the_plain_file_or_say_how_to_save_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """JSON takes ``\\r`` as blank space; TOML allows no ``\\r`` alone (one line)."""
    text, path, read = _placed(kind, tmp_path)
    path.write_bytes(text.encode())
    plain = read(path, monkeypatch)
    path.write_bytes(text.replace("\n", "\r").encode())
    if path.suffix == ".json":
        assert read(path, monkeypatch) == plain
        return
    line = _refusal(path, read, monkeypatch)
    assert "\\n line ends" in line, line


def _refusal(path: Path, read: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> str:
    with pytest.raises(UsageError) as caught:
        read(path, monkeypatch)
    line = str(caught.value)
    assert "\n" not in line and path.name in line, line
    return line


BROKEN_LINES = {
    "binary junk": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xd8", 1),
    "a NUL byte": (b"\n\n \x00\n", 3),
    "a Latin-1 byte": (b"\n\n \xb5V\n", 3),
    "a Latin-1 byte after CR ends": (b"\r\r \xb5V\r", 3),
    "a Latin-1 byte after a UTF-8 mark": (codecs.BOM_UTF8 + b"\r\n\r\n \xb5V\r\n", 3),
    "a UTF-16 file cut short": (_LE + "\n\n".encode("utf-16-le") + b"\x00", 3),
}


@pytest.mark.parametrize("broken", BROKEN_LINES)
@pytest.mark.parametrize("kind", KINDS)
def test_a_broken_file_is_one_line_naming_it_and_the_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, broken: str
) -> None:
    _, path, read = _placed(kind, tmp_path)
    data, line_number = BROKEN_LINES[broken]
    path.write_bytes(data)
    line = _refusal(path, read, monkeypatch)
    assert f"line {line_number}" in line, line


@pytest.mark.parametrize("what", ["a 1 GB file", "a FIFO", "a folder"])
@pytest.mark.parametrize("kind", KINDS)
def test_a_file_that_is_none_is_refused_before_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, what: str
) -> None:
    _, path, read = _placed(kind, tmp_path)
    if what == "a folder":
        path.mkdir()
    elif what == "a FIFO":
        os.mkfifo(path)
    else:
        with open(path, "wb") as fh:
            fh.truncate(2**30)  # (sparse: no gigabyte written)
    _refusal(path, read, monkeypatch)
