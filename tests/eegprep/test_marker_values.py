"""Marker values in text sidecars: an event column holding anything but 0 and 1 (Grasp-and-Lift
``*_events.csv``) and a trigger position float64 cannot hold exactly (beyond 2^53) are one
line naming the file, never an event at a ``nan`` or a silently rounded sample."""

from __future__ import annotations

from pathlib import Path

import pytest

from eegprep.base.errors import SourceError
from eegprep.corpus.sidecars.bci import event_columns_csv
from eegprep.corpus.sidecars.misc import marker_file
from tests.eegprep.test_mat_sidecars import _header


@pytest.mark.parametrize(("value", "shown"), [("nan", "nan"), ("2", "2"), ("-1", "-1"),
                                              ("0.5", "0.5")])  # fmt: skip
def test_an_event_column_holding_other_than_0_or_1_is_one_line(
    tmp_path: Path, value: str, shown: str
) -> None:
    path = tmp_path / "subj1_series1_events.csv"
    rows = ["id,HandStart,LiftOff"] + [f"s_{i},0,{1 if 3 <= i < 6 else 0}" for i in range(10)]
    rows[5] = f"s_4,{value},1"
    path.write_text("\n".join(rows) + "\n")
    with pytest.raises(SourceError) as caught:
        event_columns_csv([str(path)], _header(path, 100.0, 10), {})
    line = str(caught.value)
    assert line == (
        f"{path}: event column 'HandStart' holds {shown} on line 6: expected 0 or 1 (1 while "
        "the event lasts); fix the file"
    )


def test_sound_event_columns_still_give_their_runs(tmp_path: Path) -> None:
    path = tmp_path / "subj1_series1_events.csv"
    rows = ["id,HandStart"] + [f"s_{i},{1 if 3 <= i < 6 else 0}" for i in range(10)]
    path.write_text("\n".join(rows) + "\n")
    out = event_columns_csv([str(path)], _header(path, 100.0, 10), {})
    assert out.events == [[0.03, 0.03, "HandStart", ""]]


def test_a_trigger_position_beyond_2_53_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "rec.bdf.mrk"
    path.write_text(f"100 7\n{2**53 + 1} 8\n")
    with pytest.raises(SourceError, match=r"trigger position 9007199254740993 is beyond 2\^53"):
        marker_file([str(path)], _header(path, 100.0, 1000), {})
    path.write_text(f"100 7\n{2**53} 8\n")
    assert len(marker_file([str(path)], _header(path, 100.0, 1000), {}).events) == 2
