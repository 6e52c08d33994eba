"""TUH label rows as NEDC's tools and the corpora write them: ``.tse`` rows of several labels,
TUEV ``.rec`` rows of float fields, and NEDC's whole vocabulary in ``.csv`` labels."""

from __future__ import annotations

from pathlib import Path

import pytest

from eegprep.base.errors import SourceError
from eegprep.corpus.sidecars import load_parsers
from eegprep.readers.base import Header, Signal

STEM = "00000077_s003_t000"


def _header(tmp_path: Path) -> Header:
    sites = ("FP1", "F7", "T3", "T5", "C3")
    signals = tuple(
        Signal(label=f"EEG {s}-REF", sfreq=250.0, n_samples=2500, unit="uV", to_uv=1.0,
               resolution=0.1)
        for s in sites
    )  # fmt: skip
    return Header(path=str(tmp_path / f"{STEM}.edf"), reader="edf", signals=signals, duration=10.0)


def _parse(tmp_path: Path, suffix: str, text: str, parser: str = "tuh_csv") -> tuple[list, list]:
    path = tmp_path / f"{STEM}{suffix}"
    path.write_text(text, newline="")
    res = load_parsers()[parser]([str(path)], _header(tmp_path), {})
    return res.events, res.problems


# NEDC's tse writer puts every label of a stretch on its line, each followed by its
# probability (a .lbl converted to .tse, a machine's hypothesis); CRLF, as copied from Windows.
TSE_PAIRS = (
    "version = tse_v1.0.0\r\n\r\n"
    "0.0000 2.5000 bckg 1.0000\r\n"
    "2.5000 7.0000 cpsz 0.8000 bckg 0.2000\r\n"
    "7.0000 10.0000 bckg 1.0000\r\n"
)


def test_a_tse_row_of_several_labels_is_one_event_each(tmp_path: Path) -> None:
    """``start stop label probability [label probability ...]``: the row of two labels was
    refused ("line 4 has 6 fields, the first row 4")."""
    events, problems = _parse(tmp_path, ".tse", TSE_PAIRS)
    assert events == [
        [0.0, 2.5, "bckg", ""], [2.5, 4.5, "cpsz", ""], [2.5, 4.5, "bckg", ""],
        [7.0, 3.0, "bckg", ""],
    ]  # fmt: skip
    assert problems == []


@pytest.mark.parametrize(
    ("row", "said"),
    [
        ("2.5000 7.0000 cpsz 0.8000 bckg", r"line 4: expected start_time stop_time "
         r"label \[probability\] \[label probability \.\.\.\]; got"),
        ("2.5000 7.0000 cpsz 0.8000 bckg high", r"line 4: the probability of 'bckg' is "
         r"'high', not a number from 0 to 1"),
        ("2.5000 7.0000 cpsz 1.5000", r"line 4: the probability of 'cpsz' is '1\.5000'"),
    ],
)  # fmt: skip
def test_a_tse_row_without_its_probabilities_is_one_line(
    tmp_path: Path, row: str, said: str
) -> None:
    """NEDC's reader wants each label's probability: a row of labels one of which lacks it, or
    whose probability is no number from 0 to 1 (stored as if it were one), refuses the
    recording naming the line and what was expected (it said "a cut row?")."""
    text = TSE_PAIRS.replace("2.5000 7.0000 cpsz 0.8000 bckg 0.2000", row)
    with pytest.raises(SourceError, match=said) as err:
        _parse(tmp_path, ".tse", text)
    assert "\n" not in str(err.value) and f"{STEM}.tse: line 4" in str(err.value)


def test_a_tse_of_rows_with_and_without_probabilities_is_read(tmp_path: Path) -> None:
    """A row of one label may give no probability, in a file whose other rows give theirs (a
    mix was refused: "line 4 has 4 fields, the first row 3")."""
    bare = "version = tse_v1.0.0\n\n0.0000 2.5000 bckg\n2.5000 10.0000 seiz\n"
    assert _parse(tmp_path, ".tse", bare)[0] == [[0.0, 2.5, "bckg", ""], [2.5, 7.5, "seiz", ""]]
    mixed = bare.replace("10.0000 seiz", "10.0000 seiz 1.0000")
    assert _parse(tmp_path, ".tse", mixed) == _parse(tmp_path, ".tse", bare)


def test_a_tuev_rec_of_float_fields_reads_as_one_of_ints(tmp_path: Path) -> None:
    """TUEV rows ``channel,start,stop,label`` in ints or floats: ``7.0`` as a channel was
    refused ("channel '7.0' is not a channel number")."""
    ints, _ = _parse(tmp_path, ".rec", "7,226,227,6\r\n3,0,1,4\r\n", "tuev_rec")
    floats, _ = _parse(tmp_path, ".rec", "7.0,226.0,227.0,6.0\r\n3.0,0.0,1.0,4.0\r\n", "tuev_rec")
    assert floats == ints == [[226.0, 1.0, "bckg", "7"], [0.0, 1.0, "eyem", "3"]]
    with pytest.raises(SourceError, match=r"line 1: channel '7\.5' is not a channel number"):
        _parse(tmp_path, ".rec", "7.5,226.0,227.0,6.0\n", "tuev_rec")


# A TUAR-style .csv naming NEDC's classes eybl (eye blink), hphs and trip beside an artifact
# combination: every one is in the symbols line NEDC's .lbl files carry.
TUAR_CSV = """# version = csv_v1.0.0
# bname = 00000077_s003_t000
# duration = 10.0000 secs
# montage_file = $NEDC_NFC/lib/nedc_eas_default_montage.txt
#
channel,start_time,stop_time,label,confidence
FP1-F7,0.0000,2.0000,eybl,1.0000
F7-T3,2.0000,4.0000,eyem_chew,1.0000
T3-T5,4.0000,6.0000,hphs,1.0000
T5-C3,6.0000,8.0000,trip,1.0000
"""


def test_nedc_class_names_are_not_reported_as_unknown(tmp_path: Path) -> None:
    """eybl, hphs and trip were said to be "a label TUH does not define"."""
    events, problems = _parse(tmp_path, ".csv", TUAR_CSV)
    assert [e[2] for e in events] == ["eybl", "eyem_chew", "hphs", "trip"]
    assert problems == []
