"""Locales and output encodings: a name holding characters the output's encoding cannot write
is printed with those characters as escapes (`\\u65e5`), as Python prints them on the standard
error, never an internal error; a path the process's file system encoding cannot write (Python
outside UTF-8 mode under an ASCII locale) is one line naming it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.safety.corpus import ingest_folder, write_edf

REPO = Path(__file__).resolve().parents[2]
NAME = "caf\u00e9_\u65e5\u672c"


def _eegprep(tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[bytes]:
    config = tmp_path / "config.toml"
    config.write_text(f'[corpora]\ntuh = "/data/{NAME}"\n', encoding="utf-8")
    base = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "LANG", "PYTHON"))}
    full = {**base, "PYTHONPATH": str(REPO), "EEGPREP_CONFIG": str(config), **env}
    cmd = [sys.executable, "-m", "eegprep", *args]
    return subprocess.run(cmd, cwd=REPO, env=full, capture_output=True, timeout=120)


def test_an_output_encoding_that_cannot_write_a_name_shows_escapes(tmp_path: Path) -> None:
    res = _eegprep(tmp_path, {"PYTHONIOENCODING": "latin-1"}, "config", "show")
    assert res.returncode == 0, res.stderr
    assert "tuh = /data/caf\u00e9_\\u65e5\\u672c" in res.stdout.decode("latin-1")
    res = _eegprep(tmp_path, {"PYTHONIOENCODING": "latin-1"}, "ingest", "tuh", "--out", "s.zarr")
    assert res.returncode == 2 and b"internal error" not in res.stderr, res.stderr


def test_a_path_an_ascii_file_system_encoding_cannot_write_is_one_line(tmp_path: Path) -> None:
    ascii_only = {"LC_ALL": "POSIX", "PYTHONUTF8": "0"}
    probe = [sys.executable, "-c", "import sys; print(sys.getfilesystemencoding())"]
    env = {**os.environ, **ascii_only}
    assert subprocess.run(probe, env=env, capture_output=True, text=True).stdout.strip() == "ascii"
    res = _eegprep(tmp_path, ascii_only, "config", "show")
    assert res.returncode == 0, res.stderr
    assert b"tuh = ?   # " in res.stdout and b"file system encoding (ascii)" in res.stdout
    res = _eegprep(tmp_path, ascii_only, "ingest", "tuh", "--out", str(tmp_path / "s"))
    assert res.returncode == 2 and res.stderr.count(b"\n") == 1, res.stderr
    assert b"file system encoding (ascii)" in res.stderr and b"internal error" not in res.stderr


def test_a_corpus_is_not_read_while_file_names_decode_as_other_than_utf8(tmp_path: Path) -> None:
    """Under Python's ascii (or a latin-1 locale's) file name decoding, a UTF-8 name was
    skipped as 'not UTF-8' (or stored as mojibake, another name than under UTF-8)."""
    src = tmp_path / "src"
    write_edf(src, f"{NAME}.edf")
    args = ["ingest", "folder", "--mains", "60", "--src", str(src), "--out", str(tmp_path / "s")]
    res = _eegprep(tmp_path, {"LC_ALL": "POSIX", "PYTHONUTF8": "0"}, *args)
    assert res.returncode == 2 and res.stderr.count(b"\n") == 1, res.stderr
    assert b"reads file names as ascii, not UTF-8" in res.stderr and b"PYTHONUTF8=1" in res.stderr
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
def test_json_output_stays_json_whatever_the_output_encoding(tmp_path: Path, encoding: str) -> None:
    """`--json` output is ASCII (JSON's own escapes), so that read in any encoding it is the same
    document: a Python escape of a character the encoding cannot write (`\\xe9`) would make
    it no JSON at all."""
    import json

    src, store = tmp_path / "src", tmp_path / f"{NAME}\U0001f600.zarr"
    write_edf(src, "a.edf")
    ingest_folder(src, store)
    res = _eegprep(tmp_path, {"PYTHONIOENCODING": encoding}, "stats", str(store), "--json")
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout.decode(encoding))["store"] == str(store)
