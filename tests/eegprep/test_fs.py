"""A local store location answers with the operating system what fsspec's local filesystem
would answer, without importing fsspec."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import fsspec
import pytest

from eegprep.store.fs import Location


def test_local_operations_answer_as_fsspec_does(tmp_path: Path) -> None:
    (tmp_path / "g" / "sub").mkdir(parents=True)
    (tmp_path / "g" / "zarr.json").write_bytes(b'{"a": 1}')
    (tmp_path / "g" / ".hidden").write_bytes(b"")
    (tmp_path / "g" / "link").symlink_to(tmp_path / "g" / "zarr.json")
    (tmp_path / "g" / "broken").symlink_to(tmp_path / "nowhere")
    loc, fs = Location.parse(tmp_path), fsspec.filesystem("file")
    for parts in [("g",), ("g", "zarr.json"), ("g", "sub"), ("g", "link"), ("g", "broken"),
                  ("missing",), ("g", "missing")]:  # fmt: skip
        path = loc.path(*parts)
        assert loc.exists(*parts) == fs.exists(path), parts
        try:
            theirs = sorted(e.rstrip("/").rsplit("/", 1)[-1] for e in fs.ls(path, detail=False))
        except FileNotFoundError:
            theirs = []
        assert loc.list(*parts) == theirs, parts
    assert loc.read_bytes("g", "zarr.json") == fs.cat_file(loc.path("g", "zarr.json"))
    with pytest.raises(FileNotFoundError):
        loc.read_bytes("g", "missing")
    assert loc.fs.exists(loc.path("g"))  # fsspec's filesystem, when asked for


def test_a_local_location_imports_no_fsspec(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from eegprep.store.fs import Location\n"
        f"loc = Location.parse({str(tmp_path)!r})\n"
        "loc.write_bytes(b'x', 'a', 'b.json')\n"
        "assert loc.exists('a', 'b.json') and loc.list('a') == ['b.json']\n"
        "assert loc.read_bytes('a', 'b.json') == b'x'\n"
        "loc.rename(('a',), ('c',)); loc.remove('c')\n"
        "print('fsspec' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=os.environ.copy()
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


@pytest.mark.parametrize("piece", [1, 3, 8 * 2**20])
@pytest.mark.parametrize("remote", [False, True])
def test_read_capped_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, piece: int, remote: bool
) -> None:
    """Each line longer than the cap is its mark (its newline and the lines after it kept),
    however the pieces read fall; an object within the cap is read as it is."""
    import eegprep.store.fs as store_fs

    monkeypatch.setattr(store_fs, "_PIECE", piece)
    lines = [b"short", b"x" * 13, b"", b"y" * 12, b"z" * 40]
    data = b"\n".join(lines)
    if remote:
        fs = fsspec.filesystem("memory")
        fs.pipe("/capped/seg.jsonl", data)
        loc = Location.parse("memory://capped")
    else:
        (tmp_path / "seg.jsonl").write_bytes(data)
        loc = Location.parse(str(tmp_path))
    try:
        read = loc.read_capped_lines(12, lambda n: b"<%d>" % n, "seg.jsonl")
        assert read.split(b"\n") == [b"short", b"<13>", b"", b"y" * 12, b"<40>"]
        assert loc.read_capped_lines(len(data), lambda n: b"", "seg.jsonl") == data
    finally:
        if remote:
            fs.rm("/capped", recursive=True)
