"""A recording with many events (tens of thousands, under the bound of
:data:`~eegprep.readers.event_count.MAX_EVENTS`) is read once, in memory that grows with its
count by a bounded amount per event, and its events are the file's (docs/corpora.md,
"Events")."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from eegprep.readers import get_reader, vmrk
from eegprep.readers.mne_formats import clear_cache
from tests import peak_memory

N_EVENTS = 20_000
BYTES_PER_EVENT = 4_000  # MNE's annotation (a dict of extras each), eegprep's, their text
BASE_BYTES = 64e6  # what a header read takes with no events (MNE's Raw, numpy buffers)


def _brainvision(folder: Path, n_events: int, sfreq: int = 200) -> str:
    """A 2-channel float32 BrainVision recording of ``n_events`` + 200 samples whose marker
    file holds a ``New Segment`` at the first sample and then a stimulus marker at each
    sample from the second; the header's path."""
    folder.mkdir(parents=True)
    n_samples = n_events + 200
    (folder / "rec.eeg").write_bytes(np.zeros((n_samples, 2), "<f4").tobytes())
    (folder / "rec.vhdr").write_text(
        "Brain Vision Data Exchange Header File Version 1.0\n[Common Infos]\nCodepage=UTF-8\n"
        "DataFile=rec.eeg\nMarkerFile=rec.vmrk\nDataFormat=BINARY\n"
        f"DataOrientation=MULTIPLEXED\nNumberOfChannels=2\nSamplingInterval={1e6 / sfreq:g}\n"
        "[Binary Infos]\nBinaryFormat=IEEE_FLOAT_32\n[Channel Infos]\nCh1=Fp1,,0.1,µV\n"
        "Ch2=Fp2,,0.1,µV\n",
        encoding="utf-8",
    )
    codes = ("S  1", "S  2", "R  7")
    lines = [
        "Brain Vision Data Exchange Marker File, Version 1.0\n[Common Infos]\nCodepage=UTF-8\n"
        "DataFile=rec.eeg\n[Marker Infos]\nMk1=New Segment,,1,1,0\n",
        *(f"Mk{k + 2}=Stimulus,{codes[k % 3]},{k + 2},1,0\n" for k in range(n_events)),
    ]
    (folder / "rec.vmrk").write_text("".join(lines), encoding="utf-8")
    clear_cache()
    return str(folder / "rec.vhdr")


def test_a_marker_file_is_parsed_once_per_header_in_bounded_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # was: the check, the segment starts, the segment dates and the leading markers each
    # parsed the marker file again (4 parses: ~60% of a 100,000-marker header's 10 s)
    pytest.importorskip("mne")
    path = _brainvision(tmp_path / "bv", N_EVENTS)
    parses: list[str] = []
    real = vmrk._markers

    def counted(*args: object, **kwargs: object) -> object:
        parses.append(str(args[1]))
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(vmrk, "_markers", counted)
    before = peak_memory.start()
    header = get_reader("mne").read_header(path)
    grown = peak_memory.peak() - before
    assert parses == ["rec.vmrk"]
    assert grown < BASE_BYTES + BYTES_PER_EVENT * N_EVENTS, f"{grown / 1e6:.0f} MB"
    codes = ("S  1", "S  2", "R  7")
    assert [(a.onset, a.duration, a.description) for a in header.annotations] == [
        ((k + 1) / 200, 1 / 200, f"Stimulus/{codes[k % 3]}") for k in range(N_EVENTS)
    ]
