"""A path or a file name inside a message is shown as every path is (``shown_path``: whole up
to 300 characters, else its two ends and a count; control characters escaped), never as
Python's ``repr`` nor a list's.

Before: ``its samples file '<4,000 characters>' (DataFile= in it) is not beside it``, ``the
test split of ['/a/s1.zarr', ...] holds no window`` (every store's repr, however many), ``no
recording '<the id, whole>'``, and ``eegprep demo`` printed its folder as ``str(root)``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import eegprep_cli
from eegprep.base.errors import SourceError
from eegprep.readers.mne_formats import MneReader, clear_cache
from tests.machine_paths import shown

LONG = "d" * 1000 + ".eeg"


def _header(folder: Path, data_file: str) -> str:
    lines = ["Brain Vision Data Exchange Header File Version 1.0", "[Common Infos]",
             f"DataFile={data_file}", "DataFormat=BINARY", "DataOrientation=MULTIPLEXED",
             "NumberOfChannels=1", "SamplingInterval=2000", "[Binary Infos]",
             "BinaryFormat=INT_16", "[Channel Infos]", "Ch1=Fp1,,0.1,µV"]  # fmt: skip
    (folder / "rec.vhdr").write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    clear_cache()
    return str(folder / "rec.vhdr")


def _refusal(path: str) -> str:
    """The one line :meth:`MneReader.read_header` refuses ``path`` with."""
    with pytest.raises(SourceError) as caught:
        MneReader.read_header(path)
    return str(caught.value)


def test_a_samples_file_named_at_length_is_shortened(tmp_path: Path) -> None:
    said = _refusal(_header(tmp_path, LONG))
    assert f"its samples file '{shown(LONG)}' (DataFile= in it)" in said
    assert LONG not in said and len(said) < 900


def test_a_samples_file_with_a_control_character_is_escaped(tmp_path: Path) -> None:
    said = _refusal(_header(tmp_path, "a\x1bb.eeg"))
    assert "its samples file 'a\\x1bb.eeg'" in said


def test_a_list_of_stores_is_shown_as_paths_and_capped(tmp_path: Path) -> None:
    from labram.stages.scoring import no_window_error

    stores = [str(tmp_path / f"{'s' * 400}{i}.zarr") for i in range(8)]
    said = str(no_window_error("tuab", "test", stores))
    assert f"the test split of {shown(stores[0])}, " in said
    assert said.count("more characters") == 5 and " and 3 more holds no window" in said
    assert "[" not in said and stores[0] not in said


def test_the_demo_prints_its_folder_as_a_path_is_shown(tmp_path: Path) -> None:
    out = tmp_path / ("a" * 150) / ("b" * 150)
    res = CliRunner().invoke(eegprep_cli, ["demo", "--out", str(out), "--corpus", "tuab"])
    assert res.exit_code == 0, res.output
    [printed] = res.output.splitlines()
    root = out / "tuab"
    assert root.is_dir() and printed == shown(root) != str(root)
