"""TUSZ v1.5 / TUSL ``.lbl`` files (NEDC lbl_v1.0.0) as NEDC writes them: a ``symbols`` line whose
numbers have gaps (``30: 'elec', 100: 'eyem_chew'``), and term-based labels on channel -1.

NEDC's own reader and writer pair entry i of a label's probability vector with the i-th symbol
the line lists (one entry per symbol); a vector of one entry per number (largest + 1) is read by
number. A vector that fits neither, or both with readings that differ, is refused in one line.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from eegprep import open_store
from eegprep.base.errors import SourceError
from eegprep.corpus.sidecars import load_parsers
from eegprep.ingestion.driver import IngestConfig, ingest
from eegprep.readers.base import Header

# The symbols line of TUSZ v1.5's .lbl files: NEDC's classes 0..30, then its artifact
# combinations from 100 (41 symbols, numbered up to 109).
NEDC_SYMBOLS = (
    "{0: '(null)', 1: 'spsw', 2: 'gped', 3: 'pled', 4: 'eybl', 5: 'artf', 6: 'bckg', "
    "7: 'seiz', 8: 'fnsz', 9: 'gnsz', 10: 'spsz', 11: 'cpsz', 12: 'absz', 13: 'tnsz', "
    "14: 'cnsz', 15: 'tcsz', 16: 'atsz', 17: 'mysz', 18: 'nesz', 19: 'intr', 20: 'slow', "
    "21: 'eyem', 22: 'chew', 23: 'shiv', 24: 'musc', 25: 'elpp', 26: 'elst', 27: 'calb', "
    "28: 'hphs', 29: 'trip', 30: 'elec', 100: 'eyem_chew', 101: 'eyem_shiv', "
    "102: 'eyem_musc', 103: 'eyem_elec', 104: 'chew_shiv', 105: 'chew_musc', "
    "106: 'chew_elec', 107: 'shiv_musc', 108: 'shiv_elec', 109: 'musc_elec'}"
)
NAMES = [part.split("'")[1] for part in NEDC_SYMBOLS.split(", ")]
HEAD = (
    "\nversion = lbl_v1.0.0\n\n"
    "montage = 0, FP1-F7: EEG FP1-REF -- EEG F7-REF\n"
    "montage = 1, F7-T3: EEG F7-REF -- EEG T3-REF\n\n"
    "number_of_levels = 1\n\nlevel[0] = 1\n\n"
    f"symbols[0] = {NEDC_SYMBOLS}\n\n"
)


def _vector(size: int, hot: int) -> str:
    return ", ".join("1.0" if i == hot else "0.0" for i in range(size))


def _label(channel: int | str, start: float, stop: float, size: int, hot: int) -> str:
    return f"label = {{0, 0, {start:.4f}, {stop:.4f}, {channel}, [{_vector(size, hot)}]}}\n"


def _parse(tmp_path: Path, text: str, name: str = "00000077_s003_t000.lbl") -> list[list]:
    path = tmp_path / name
    path.write_text(text.replace("\n", "\r\n"), newline="")  # NEDC's files: CRLF or LF
    header = Header(
        path=str(tmp_path / "00000077_s003_t000.edf"), reader="edf", signals=(), duration=10.0
    )
    return load_parsers()["tuh_csv"]([str(path)], header, {}).events


def test_a_vector_of_one_entry_per_symbol_is_read_in_the_symbols_order(tmp_path: Path) -> None:
    """41 entries for 41 symbols numbered up to 109: entry 31 is the 32nd symbol listed,
    eyem_chew (number 100); the file was refused ("symbol 31, which symbols[0] does not
    name")."""
    size, combo = len(NAMES), NAMES.index("eyem_chew")
    text = HEAD + _label(0, 0.0, 4.0, size, 6) + _label(0, 4.0, 10.0, size, 7)
    text += _label(1, 0.0, 10.0, size, combo)
    assert _parse(tmp_path, text) == [
        [0.0, 4.0, "bckg", "FP1-F7"], [4.0, 6.0, "seiz", "FP1-F7"],
        [0.0, 10.0, "eyem_chew", "F7-T3"],
    ]  # fmt: skip
    # one entry per number (110) reads the same rows by number
    by_number = HEAD + _label(0, 0.0, 4.0, 110, 6) + _label(0, 4.0, 10.0, 110, 7)
    by_number += _label(1, 0.0, 10.0, 110, 100)
    assert _parse(tmp_path, by_number) == _parse(tmp_path, text)
    # by number, an entry at a gap in the numbers names no symbol
    gap = HEAD + _label(0, 0.0, 10.0, 110, 50)
    with pytest.raises(SourceError, match=r"line 13: probability given to symbol 50, which "):
        _parse(tmp_path, gap)


@pytest.mark.parametrize(
    ("symbols", "label", "said"),
    [
        (NEDC_SYMBOLS, _label(0, 0.0, 10.0, 50, 7),
         r"line 13: the vector has 50 entries but symbols\[0\] lists 41 symbols numbered "
         r"up to 109: expected 41 \(one per symbol\) or 110 \(one per symbol number\)$"),
        ("{1: 'seiz', 0: 'bckg'}", _label(0, 0.0, 10.0, 2, 0),
         r"line 13: entry 0 of the vector is 'seiz' in the order symbols\[0\] lists them but "
         r"'bckg' by number: ambiguous"),
    ],
)  # fmt: skip
def test_a_vector_that_no_reading_or_two_fit_is_one_line(
    tmp_path: Path, symbols: str, label: str, said: str
) -> None:
    """50 entries for 41 symbols numbered up to 109 fits neither reading: it was read by number
    unsaid; keys 0..1 listed out of order fit both, which disagree: it was read by number."""
    text = HEAD.replace(NEDC_SYMBOLS, symbols) + label
    with pytest.raises(SourceError, match=said) as err:
        _parse(tmp_path, text)
    assert "\n" not in str(err.value) and "00000077_s003_t000.lbl: " in str(err.value)


def test_a_label_on_channel_minus_one_is_on_the_whole_recording(tmp_path: Path) -> None:
    """NEDC's tools write a .tse converted to .lbl with no montage lines and its labels on
    channel -1 (read back as "all"): stored as a term-based row (empty channel); the file was
    refused ("the channel is not a whole number")."""
    text = (
        "\nversion = lbl_v1.0.0\n\n\nnumber_of_levels = 1\n\nlevel[0] = 1\n\n"
        "symbols[0] = {0: 'bckg', 1: 'seiz'}\n\n"
        "label = {0, 0, 0.0000, 2.5000, -1, [1.0, 0.0]}\n"
        "label = {0, 0, 2.5000, 7.0000, all, [0.0, 1.0]}\n"
    )
    assert _parse(tmp_path, text) == [[0.0, 2.5, "bckg", ""], [2.5, 4.5, "seiz", ""]]
    with pytest.raises(SourceError, match=r"line 11: the channel is not a whole number"):
        _parse(tmp_path, text.replace(", -1, [", ", -2, [").replace(", all, [", ", -2, ["))


def test_a_tusz_v15_lbl_of_gapped_symbols_ingests(tmp_path: Path) -> None:
    """End to end: the TUSZ v1.5 fixture's .lbl rewritten with NEDC's full symbols line."""
    from eegprep.testing.fixtures.tuh import write_tusz_v15

    root = write_tusz_v15(tmp_path / "src")
    for other in {*root.rglob("*.tse*"), *root.rglob("00001027_s001_t002.*")}:
        other.unlink()
    lbl = next(root.rglob("00000077_s003_t000.lbl"))
    cpsz = NAMES.index("cpsz")
    combo = NAMES.index("musc_elec")  # (the 41st symbol, number 109)
    lbl.write_text(HEAD + _label(1, 0.0, 3.0, 41, 6) + _label(1, 3.0, 6.5, 41, cpsz)
                   + _label(0, 0.0, 10.0, 41, combo))  # fmt: skip
    rep = ingest(
        "tusz", src=root, out=tmp_path / "s.zarr", config=IngestConfig(workers=0, progress=False)
    )
    assert (rep.failed, rep.n_ingested) == ([], 1), rep.details
    (rec,) = open_store(tmp_path / "s.zarr").recordings
    assert sorted(e.to_list() for e in rec.events) == [
        [0.0, 10.0, "musc_elec", "FP1-F7"], [3.0, 3.5, "cpsz", "F7-T3"]
    ]  # fmt: skip
