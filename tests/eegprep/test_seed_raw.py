"""SEED's raw release (``seed_raw``): ``SEED_RAW_EEG/{sub}_{session}.cnt`` with one
``time.txt`` of trial bounds in samples; a ``time.txt`` of a shape not known is refused in one
line naming it, never read by guess (docs/corpora.md#seed_raw)."""

from __future__ import annotations

from pathlib import Path

import pytest

from eegprep import open_store
from eegprep.base.errors import SourceError
from eegprep.corpus.sidecars.seed import read_time_txt
from eegprep.ingestion.driver import IngestConfig, ingest
from eegprep.testing.fixtures import write_fixture
from eegprep.testing.fixtures.seed import SEED_RAW_STARTS, time_txt

SERIAL = IngestConfig(workers=0, progress=False)


def test_the_raw_folder_ingests_with_trial_events_and_no_warning(tmp_path: Path) -> None:
    """SEED's raw folder matched no manifest: `seed` reads Preprocessed_EEG/*.mat only."""
    root = write_fixture("seed_raw", tmp_path / "src")
    rep = ingest("seed_raw", src=root, out=tmp_path / "s.zarr", config=SERIAL)
    assert (rep.failed, rep.unmatched, rep.warnings, rep.n_ingested) == ([], [], {}, 2)
    (r, _) = sorted(open_store(tmp_path / "s.zarr").recordings, key=lambda r: r.id)
    assert (r.id, r.subject, r.session, r.subject_key) == ("seed_raw/1_1", "1", "1", "seed:1")
    assert [e.label for e in r.events][:3] == ["emotion/1", "emotion/0", "emotion/-1"]


BAD_SHAPES = [
    ("27000 262000\n290000 523000\n", r"line 1: expected start_point_list = \[n, n, \.\.\.\]"),
    ("start_point_list = [1, 2]\nend = [3, 4]\nstop_point_list = [5, 6]\n",
     r"line 3: list 'stop_point_list' is neither the starts nor the ends"),
    ("start_point_list = [1, 2]\nstart = [3, 4]\n", "line 2: a second list of trial starts"),
    ("start_point_list = [1, 2.5]\nend_point_list = [3, 4]\n",
     r"line 1: value 2, '2.5', is not a sample number"),
    ("start_point_list = [1, 2]\n", "no list of trial ends"),
    ("start_point_list = []\nend_point_list = [3]\n", "line 1: the list is empty"),
    ("start_point_list = [1, 2]\nend_point_list = [3]\n", "2 trial starts but 1 end"),
    ("start_point_list = [1, 2]\nend_point_list = [3,\n4\n", "line 2: the list opened here is"),
]  # fmt: skip


def test_a_list_over_several_lines_is_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "time.txt"
    path.write_text("# SEED\nstart_point_list = [27000,\n  290000];\n\nend_point_list = [\n"
                    "262000 523000\n]\n")  # fmt: skip
    assert read_time_txt(str(path)) == ([27000, 290000], [262000, 523000])


@pytest.mark.parametrize(("text", "match"), BAD_SHAPES)
def test_an_unknown_time_txt_shape_is_one_line(tmp_path: Path, text: str, match: str) -> None:
    path = tmp_path / "time.txt"
    path.write_text(text)
    with pytest.raises(SourceError, match=match) as err:
        read_time_txt(str(path))
    assert "\n" not in str(err.value) and "time.txt" in str(err.value)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("0 1000\n", "time.txt: line 1: expected start_point_list"),
        (time_txt(SEED_RAW_STARTS[:14], tuple(a + 1 for a in SEED_RAW_STARTS[:14])),
         "time.txt: 14 trials, but the manifest labels 15"),
        (time_txt((500, *SEED_RAW_STARTS[1:]), (400, *SEED_RAW_STARTS[1:])),
         "time.txt: trial 1 ends at sample 400, not after its start at sample 500"),
    ],
)  # fmt: skip
def test_a_bad_time_txt_refuses_its_recordings_in_one_line(
    tmp_path: Path, text: str, match: str
) -> None:
    root = write_fixture("seed_raw", tmp_path / "src")
    (root / "SEED_RAW_EEG" / "time.txt").write_text(text)
    rep = ingest("seed_raw", src=root, out=tmp_path / "s.zarr", config=SERIAL)
    assert rep.n_ingested == 0 and len(rep.failed) == 2
    for line in rep.failed:
        assert "\n" not in line and match in line, line


def test_a_missing_time_txt_is_one_line(tmp_path: Path) -> None:
    root = write_fixture("seed_raw", tmp_path / "src")
    (root / "SEED_RAW_EEG" / "time.txt").unlink()
    rep = ingest("seed_raw", src=root, out=tmp_path / "s.zarr", config=SERIAL)
    assert rep.failed == [
        f"SEED_RAW_EEG/1_{k}.cnt: missing sidecar SEED_RAW_EEG/time.txt or time.txt: labels "
        "and events come from it"
        for k in (1, 2)
    ]


def test_a_time_txt_at_the_root_is_read_and_two_that_differ_are_refused(tmp_path: Path) -> None:
    root = write_fixture("seed_raw", tmp_path / "src")
    (root / "SEED_RAW_EEG" / "time.txt").rename(root / "time.txt")
    rep = ingest("seed_raw", src=root, out=tmp_path / "s.zarr", config=SERIAL)
    assert (rep.failed, rep.n_ingested) == ([], 2)
    ends = tuple(a + 500 for a in SEED_RAW_STARTS)
    (root / "SEED_RAW_EEG" / "time.txt").write_text(time_txt(SEED_RAW_STARTS, ends))
    rep = ingest("seed_raw", src=root, out=tmp_path / "t.zarr", config=SERIAL)
    assert rep.n_ingested == 0 and len(rep.failed) == 2
    assert rep.failed[0].endswith(
        "time.txt: gives other trial bounds than SEED/time.txt: which is right is unknown; keep one"
    )
