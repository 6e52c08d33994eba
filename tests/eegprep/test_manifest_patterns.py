"""The path fields every file gets (eegprep.corpus.patterns), as PurePosixPath gives them."""

from __future__ import annotations

from pathlib import PurePosixPath

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
