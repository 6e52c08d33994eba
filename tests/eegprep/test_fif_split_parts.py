"""A FIF recording MNE split in parts (``rec_raw.fif``, ``rec_raw-1.fif``, ``rec_raw-2.fif``):
one recording, read whole from its first part. Every part matched ``**/*.fif``, and each later
part, read again alone, was refused as naming "its next part" outside its folder (the previous
part's absolute path, which MNE writes in it): a sound corpus ended with a failure per part and
exit code 3. Now the later parts a first part reaches are no recordings of their own; a later
part whose first part is missing is one line saying so."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from eegprep import open_store
from eegprep.base.errors import SourceError
from eegprep.ingestion.driver import IngestConfig, ingest
from eegprep.readers.fif_refs import LATER_PART, is_later_part
from eegprep.readers.mne_formats import MneReader, clear_cache

SERIAL = IngestConfig(workers=0, progress=False, mains=50.0)
SECONDS = 360


def _split_fif(folder: Path) -> list[str]:
    """``rec_raw.fif`` and its later parts, 8 channels of 360 s at 250 Hz in 2 MB parts (MNE
    keeps 1 MB of each for its end tags)."""
    import mne

    folder.mkdir(parents=True, exist_ok=True)
    info = mne.create_info(["Fp1", "Fp2", "C3", "C4", "P3", "P4", "O1", "O2"], 250.0, "eeg")
    rng = np.random.default_rng(0)
    raw = mne.io.RawArray(rng.normal(0, 20e-6, (8, 250 * SECONDS)), info, verbose="error")
    raw.save(folder / "rec_raw.fif", split_size="2MB", verbose="error")
    names = sorted(os.listdir(folder))
    assert names == ["rec_raw-1.fif", "rec_raw-2.fif", "rec_raw.fif"], names
    return names


def test_a_split_recording_is_one_recording_read_whole(tmp_path: Path) -> None:
    _split_fif(tmp_path / "src" / "alice")
    rep = ingest("folder", src=tmp_path / "src", out=tmp_path / "s.zarr", config=SERIAL)
    assert rep.failed == [] and rep.unmatched == [], (rep.failed, rep.unmatched)
    assert rep.n_ingested == 1 and rep.exit_code == 0
    (recording,) = open_store(tmp_path / "s.zarr").recordings
    assert recording.source.endswith("alice/rec_raw.fif"), recording.source
    assert recording.duration == pytest.approx(SECONDS)


def test_a_later_part_alone_is_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "src" / "alice"
    _split_fif(folder)
    assert [is_later_part(str(folder / n)) for n in ("rec_raw.fif", "rec_raw-1.fif")] == [
        False,
        True,
    ]
    clear_cache()
    with pytest.raises(SourceError, match="a later part of a FIF recording split in parts"):
        MneReader.read_header(str(folder / "rec_raw-2.fif"))
    (folder / "rec_raw.fif").unlink()  # the first part lost: its later parts are refused
    rep = ingest("folder", src=tmp_path / "src", out=tmp_path / "s.zarr", config=SERIAL)
    assert rep.n_ingested == 0
    assert sorted(rep.failed) == [
        f"alice/rec_raw-1.fif: {LATER_PART}",
        f"alice/rec_raw-2.fif: {LATER_PART}",
    ]
