"""BrainVision recordings for the tests that put a model to use (``labram predict``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def write_brainvision(
    folder: Path, name: str, channels: list[str], eeg: np.ndarray, sfreq: int = 500
) -> Path:
    """``folder/name.vhdr`` (with its ``.eeg`` and ``.vmrk``): ``eeg`` (n_channels, n_times) in
    microvolts as multiplexed float32 at ``sfreq`` Hz, one row a name of ``channels``."""
    rows = "".join(f"Ch{i + 1}={c},,1,µV\n" for i, c in enumerate(channels))
    (folder / f"{name}.vhdr").write_text(
        "Brain Vision Data Exchange Header File Version 1.0\n[Common Infos]\nCodepage=UTF-8\n"
        f"DataFile={name}.eeg\nMarkerFile={name}.vmrk\nDataFormat=BINARY\n"
        f"DataOrientation=MULTIPLEXED\nNumberOfChannels={len(channels)}\n"
        f"SamplingInterval={1_000_000 // sfreq}\n[Binary Infos]\nBinaryFormat=IEEE_FLOAT_32\n"
        f"[Channel Infos]\n{rows}",
        encoding="utf-8",
    )
    (folder / f"{name}.eeg").write_bytes(eeg.T.astype("<f4").tobytes())
    (folder / f"{name}.vmrk").write_text(
        "Brain Vision Data Exchange Marker File, Version 1.0\n[Common Infos]\nCodepage=UTF-8\n"
        f"DataFile={name}.eeg\n[Marker Infos]\nMk1=New Segment,,1,1,0,20180302102030000000\n"
    )
    return folder / f"{name}.vhdr"
