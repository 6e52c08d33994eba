"""A folder of files that the manifest's reader cannot open (``.mat`` files given to the
``folder`` corpus): one line says which reader they need and that they need a manifest of
their own, not ``pass --include`` (which cannot help) nor one bare line per file."""

from __future__ import annotations

from pathlib import Path

import pytest

from eegprep.base.errors import UsageError
from eegprep.corpus.manifest import load_manifest
from eegprep.corpus.other_readers import needed_reader
from eegprep.readers import SUFFIXES
from tests.safety.corpus import ingest_folder

FOLDER = load_manifest("folder")
OTHERS = [s for s in SUFFIXES if FOLDER.fields(f"x{s}") is None]


def test_every_suffix_folder_cannot_list_names_its_reader() -> None:
    """The table of what each reader opens agrees with the folder manifest's pattern."""
    assert OTHERS  # .mat, .csv, ... : formats that need a manifest of their own
    for suffix in SUFFIXES:
        need = needed_reader(FOLDER.reader, suffix)
        assert (need is None) == (suffix not in OTHERS), suffix
        assert need in (None, SUFFIXES[suffix])


def _folder(tmp: Path, suffix: str, n: int = 3) -> Path:
    src = tmp / "src"
    src.mkdir()
    for i in range(n):
        (src / f"rec{i}{suffix}").write_bytes(b"1,2\n3,4\n")
    return src


@pytest.mark.parametrize("suffix", OTHERS)
def test_a_folder_of_them_says_which_reader_and_manifest(tmp_path: Path, suffix: str) -> None:
    src = _folder(tmp_path, suffix)
    with pytest.raises(UsageError) as info:
        ingest_folder(src, tmp_path / "s.zarr")
    line = str(info.value)
    assert "\n" not in line and "--include" not in line
    assert f"3 {suffix} files" in line and f"`{SUFFIXES[suffix]}` reader" in line
    assert "--manifest" in line and "manifest-format.md" in line


@pytest.mark.parametrize("suffix", OTHERS)
def test_included_they_are_skipped_with_the_hint_once(tmp_path: Path, suffix: str) -> None:
    src = _folder(tmp_path, suffix)
    report = ingest_folder(src, tmp_path / "s.zarr", include=(f"**/*{suffix}",))
    assert report.n_ingested == 0 and len(report.unmatched) == 3
    assert [line.split(": ", 1)[0] for line in report.unmatched] == [
        f"rec{i}{suffix}" for i in range(3)
    ]
    hinted = [line for line in report.unmatched if "manifest-format.md" in line]
    assert len(hinted) == 1 and f"`{SUFFIXES[suffix]}` reader" in hinted[0]
    assert not any("path.pattern" in line for line in report.unmatched)
