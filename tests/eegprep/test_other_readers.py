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


HEADS = {"mat": b"MATLAB 5.0 MAT-file" + bytes(109), "edf": b"0       " + b" " * 248}
"""First bytes of each reader's format (the hint names a reader for files that look so)."""


def _folder(tmp: Path, suffix: str, n: int = 3, text: bytes | None = None) -> Path:
    src = tmp / "src"
    src.mkdir()
    for i in range(n):
        head = HEADS.get(SUFFIXES[suffix], b"1,2\n3,4\n") if text is None else text
        (src / f"rec{i}{suffix}").write_bytes(head)
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


PROSE = [
    b"This corpus holds the EEG of 20 subjects, recorded at 500 Hz.\n\nSee LICENSE.\n",
    b"MIT License\n\nCopyright (c) 2018 A. Person\n\nPermission is hereby granted, free\n",
    b"notes\n1. electrode Cz loose in run 2\n2019\n",
    "Notizen: 64 Kanäle\r\n".encode("utf-16"),
]


@pytest.mark.parametrize("text", PROSE)
@pytest.mark.parametrize("suffix", OTHERS)
def test_prose_under_their_suffix_is_not_hinted_as_their_format(
    tmp_path: Path, suffix: str, text: bytes
) -> None:
    """A ``README.txt``, ``notes.txt`` or licence in a corpus folder was hinted as a table for
    the ``csv`` reader (a text ``.rec`` or ``.mat`` as EDF or MATLAB data): it is said to be
    no recording, and no reader is named for it."""
    src = _folder(tmp_path, suffix, text=text)
    report = ingest_folder(src, tmp_path / "s.zarr", include=(f"**/*{suffix}",))
    assert len(report.unmatched) == 3
    for line in report.unmatched:
        assert "reader" not in line and "manifest-format.md" not in line
        assert f"a {suffix} file that holds no " in line and "not a recording" in line
    with pytest.raises(UsageError) as info:  # (none included: the folder's own message)
        ingest_folder(src, tmp_path / "t.zarr")
    assert "reader" not in str(info.value)


def test_prose_beside_tables_leaves_the_tables_hinted(tmp_path: Path) -> None:
    src = _folder(tmp_path, ".csv", n=2)
    (src / "README.txt").write_bytes(PROSE[0])
    report = ingest_folder(src, tmp_path / "s.zarr", include=("**/*.csv", "**/*.txt"))
    said = dict(line.split(": ", 1) for line in report.unmatched)
    assert "2 .csv files" in said["rec0.csv"] and ".txt" not in said["rec0.csv"]
    assert "holds no table of numbers" in said["README.txt"]


@pytest.mark.parametrize(
    ("suffix", "head", "looks"),
    [(".set", HEADS["mat"], True), (".set", PROSE[0], False),
     (".gdf", b"GDF 2.20" + bytes(8), True), (".gdf", PROSE[1], False),
     (".edf", b"0\0\0\0\0\0\0\0" + b" " * 248, True),
     (".bdf", b"\xffBIOSEMI" + b" " * 248, True), (".rec", b"0,1.0,2.0,6\n", False),
     (".mat", bytes(20) + b"x", True), (".vhdr", PROSE[0], True)],
)  # fmt: skip
def test_a_file_looks_like_its_suffix_s_format_by_its_first_bytes(
    tmp_path: Path, suffix: str, head: bytes, looks: bool
) -> None:
    """Each signature checked reads what its reader accepts (an EDF version field padded with
    NULs, a MAT v4 header); a suffix of many writers (BrainVision) is not judged."""
    from eegprep.corpus.other_readers import looks_like

    path = tmp_path / f"x{suffix}"
    path.write_bytes(head)
    assert looks_like(str(path), suffix) is looks
