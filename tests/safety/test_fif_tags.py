"""Promise: a FIF file's tags are found as MNE finds them, by eegprep's own walk, and a file
whose chain of tags loops is one line, not an ingest that hangs.

MNE follows a FIF's chain of tags from its start (when the file points to no tag directory, as
the files MNE writes do) without looking where it goes: one 20 kB file whose chain leads back
to a tag it passed hung ``eegprep ingest`` for ever, MNE's list of tags growing until memory
ran out. The names of a split file's next parts, checked before MNE opens the file, were read
with MNE's private ``mne._fiff`` functions, which may move in any MNE release.
"""

from __future__ import annotations

import signal
import struct
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mne
import numpy as np
import pytest

from eegprep import open_store
from eegprep.base.errors import SourceError
from eegprep.ingestion.driver import IngestConfig, ingest
from eegprep.readers.fif_refs import check_next_parts, next_part_names
from tests.safety.test_files_mne_opens import _split_naming

HEADER = struct.Struct(">iIii")


class Hung(Exception):
    pass


@pytest.fixture
def no_hang() -> Iterator[None]:
    """Fail, rather than hang, a test whose code would walk a looping chain for ever."""

    def stop(signum: int, frame: Any) -> None:
        raise Hung("walked a looping chain of tags")

    old = signal.signal(signal.SIGALRM, stop)
    signal.alarm(60)  # (a guard; an ingest, MNE imported first, on a loaded machine)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _fif(path: Path, seed: int = 0) -> list[tuple[int, int, int, int, int]]:
    """A 10 s, 2-channel FIF as MNE writes it; its tags (position, kind, type, size, next)."""
    x = np.random.default_rng(seed).normal(0, 20e-6, (2, 2500))
    raw = mne.io.RawArray(x, mne.create_info(["Fp1", "Fp2"], 250.0, "eeg"), verbose="error")
    raw.save(path, overwrite=True, verbose="error")
    data, tags, pos = path.read_bytes(), [], 0
    while pos + 16 <= len(data):
        kind, type_, size, next_ = HEADER.unpack_from(data, pos)
        tags.append((pos, kind, type_, size, next_))
        if next_ != 0:
            break
        pos += 16 + size
    return tags


def _set_next(path: Path, at: int, next_: int) -> None:
    data = bytearray(path.read_bytes())
    data[at + 12 : at + 16] = struct.pack(">i", next_)
    path.write_bytes(bytes(data))


def test_a_looping_chain_of_tags_is_one_line_and_the_rest_ingests(
    tmp_path: Path, no_hang: None
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    tags = _fif(corpus / "a_raw.fif")
    assert tags[1][1] == 101 and tags[1][3] == 4  # the directory pointer: -1, none
    _set_next(corpus / "a_raw.fif", tags[6][0], tags[3][0])  # tag 6 leads back to tag 3
    _fif(corpus / "b_raw.fif", seed=1)
    cfg = IngestConfig(workers=0, progress=False, mains=50)
    rep = ingest("folder", src=corpus, out=tmp_path / "s.zarr", config=cfg)
    assert rep.n_ingested == 1, rep.failed
    (line,) = [line for line in rep.failed if "a_raw.fif" in line]
    assert "chain of FIF tags loops" in line and "\n" not in line
    assert len(open_store(tmp_path / "s.zarr").recordings) == 1


def test_a_pointer_back_to_a_tag_not_yet_passed_is_followed(tmp_path: Path) -> None:
    """Only a loop is refused: a chain that jumps ahead and then back to tags it skipped, and
    ends, is walked as MNE walks it."""
    from eegprep.readers.fif_tags import check_fif_chain

    path = tmp_path / "r_raw.fif"
    tags = _fif(path)
    _set_next(path, tags[2][0], tags[8][0])  # 2 -> 8 .. 10 -> 3 .. 7 -> the end
    _set_next(path, tags[10][0], tags[3][0])
    _set_next(path, tags[7][0], -1)
    check_fif_chain(str(path))
    assert next_part_names(str(path)) == []


def test_a_split_file_s_next_part_is_checked_without_mne_s_private_functions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With ``mne._fiff`` gone (as a release of MNE may move it), a continuation outside the
    file's folder is still refused and a plain one still read."""
    monkeypatch.setitem(sys.modules, "mne._fiff.open", None)
    monkeypatch.setitem(sys.modules, "mne._fiff.tag", None)
    path = _split_naming(tmp_path, "../outside/p.fif")
    with pytest.raises(SourceError, match="outside its folder"):
        check_next_parts(str(path), "corpus/r_raw.fif")
    plain = tmp_path / "plain"
    plain.mkdir()
    base = "r" * 150 + "_raw.fif"
    x = np.random.default_rng(0).normal(0, 20e-6, (64, 250 * 200))
    mne.io.RawArray(x, mne.create_info(64, 250.0, "eeg"), verbose="error").save(
        plain / base, split_size="10MB", fmt="single", verbose="error"
    )
    assert next_part_names(str(plain / base)) == ["r" * 150 + "_raw-1.fif"]
    check_next_parts(str(plain / base), base)


def test_a_name_written_with_character_references_is_read_as_mne_reads_it(
    tmp_path: Path,
) -> None:
    """MNE unescapes numeric character references in a string tag: ``..&#000047;x`` is
    ``../x`` to it, and so to the check."""
    path = _split_naming(tmp_path, "..&#000047;outside&#000047;p.fif")
    names = next_part_names(str(path))
    assert any(name.endswith("../outside/p.fif") for name in names), names
    with pytest.raises(SourceError, match="outside its folder"):
        check_next_parts(str(path), "corpus/r_raw.fif")
