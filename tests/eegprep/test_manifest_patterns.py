"""The path fields every file gets (eegprep.corpus.patterns), as PurePosixPath gives them."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest

from eegprep.corpus.patterns import path_fields

NAMES = [
    "a.edf", "x/a.edf", "edf/000/aaaaaaaa/s001_2015/01_tcp_ar/aaaaaaaa_s001_t000.edf",
    "a.tar.gz", "d/.hidden", "d/.hidden.edf", "d/a.", "d/a..", "d/..a", "noext", "d/e/noext",
    "Pre-SART EEG/s 1.mat", "sub-01/eeg/sub-01_task-rest_eeg.vhdr", "d/ä.é.EDF", "d.d/e",
    "a\nb/c.edf", "d/ .edf", "d/a. b",
]  # fmt: skip


@pytest.mark.parametrize("relpath", NAMES)
def test_file_fields_are_pure_posix_paths(relpath: str) -> None:
    p = PurePosixPath(relpath)
    assert path_fields((), relpath) == {
        "stem": p.stem,
        "suffix": p.suffix,
        "parent": p.parent.name,
        "dir": str(p.parent),
        "relpath": relpath,
    }


def test_pattern_groups_join_the_file_fields() -> None:
    got = path_fields((r"(?P<subject>[^/]+)/s(?P<session>\d+)?_",), "ab/s_1.edf")
    assert got is not None and got["subject"] == "ab" and got["session"] == ""
    assert got["stem"] == "s_1" and got["dir"] == "ab"
    assert path_fields((r"^nomatch",), "ab/s_1.edf") is None


def _with_excludes(tmp_path: Path, patterns: list[str]) -> Path:
    """The ``folder`` manifest with ``files.exclude`` set to ``patterns``."""
    text = (Path(__file__).parents[2] / "manifests" / "folder.toml").read_text()
    listed = ", ".join(f'"{p}"' for p in patterns)
    path = tmp_path / "m.toml"
    path.write_text(text.replace("[files]\n", f"[files]\nexclude = [{listed}]\n", 1))
    return path


def test_exclude_patterns_are_matched_at_once_and_bounded(tmp_path: Path) -> None:
    """A manifest of 10^6 exclude patterns ran for minutes per file (each pattern compiled
    again for each file); the patterns are now one expression, at most 1,000 of them, and the
    file name still matches in any letter case."""
    from eegprep.base.errors import ManifestError, UsageError
    from eegprep.corpus.discover import discover
    from eegprep.corpus.manifest import load_manifest
    from eegprep.ingestion.options import check_globs
    from tests.safety.corpus import write_edf

    src = tmp_path / "src"
    for name in ("keep.edf", "drop/A.EDF", "x1.edf", "sub/x999.edf"):
        write_edf(src, name, seconds=1)
    patterns = [f"x{i}.edf" for i in range(999)] + ["drop/a.edf"]
    found = discover(load_manifest(str(_with_excludes(tmp_path, patterns))), src)
    assert [it.relpath for it in found.items] == ["keep.edf", "sub/x999.edf"]
    with pytest.raises(ManifestError, match=r"m.toml: files.exclude holds 1001 patterns"):
        load_manifest(str(_with_excludes(tmp_path, [*patterns, "y.edf"])))
    with pytest.raises(UsageError, match="--include holds 1001 patterns, more than 1000"):
        check_globs(tuple([*patterns, "y.edf"]), "--include")
