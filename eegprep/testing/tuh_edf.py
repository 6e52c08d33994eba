"""One TUH-style EDF file: the header conventions, channel labels and signals of the TUH family.

Shared by the demo corpora (:mod:`eegprep.testing.demo`, :mod:`eegprep.testing.demo_labelled`)
and the TUH fixture corpora (:mod:`eegprep.testing.fixtures.tuh`): 1-s records, ``EDF`` in the
reserved field, the NEDC patient and recording fields, ``EEG FP1-REF`` labels, the non-EEG
channels (EKG, ROC/LOC, PHOTIC, IBI/BURSTS/SUPPR at 1 Hz), and TUH's physical and digital
ranges (one step is 0.1526 uV).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from eegprep.testing.edf_writer import edf_date, write_edf
from eegprep.testing.synth import ecg_like, eeg_like

# The 21 sites of every TUH recording, in the order TUH files store them.
TUH_SITES = (
    *("FP1", "FP2", "F3", "F4", "C3", "C4", "P3", "P4", "O1", "O2"),
    *("F7", "F8", "T3", "T4", "T5", "T6", "A1", "A2", "FZ", "CZ", "PZ"),
)
# Physical and digital range of TUH channels: one step is 0.1526 uV, and 0 uV is exact.
PHYS_LIMIT, DIG_LIMIT = 4999.84, 32767
# The NEDC example header (TUH's own README) has "EDF" in the reserved field: plain EDF.
TUH_RESERVED = "EDF"
SLOW_CHANNELS = ("IBI", "BURSTS", "SUPPR")  # 1 sample per 1-s record, as in real TUH files


def subject_id(index: int) -> str:
    """TUH-style subject id: 8 lowercase letters (0 -> ``aaaaaaaa``, 1 -> ``aaaaaaab``)."""
    letters = []
    for _ in range(8):
        index, rem = divmod(index, 26)
        letters.append(chr(ord("a") + rem))
    return "".join(reversed(letters))


def tuh_labels(montage: str, *, temporal: bool = False) -> list[str]:
    """Channel labels of a TUH file of ``montage``, with the usual non-EEG channels.

    ``*_le*`` montages use ``-LE`` and add OZ; ``*_a`` montages lack A1/A2; ``temporal`` adds
    T1/T2 (LaBraM's TUAB/TUEV channel set).
    """
    le = "_le" in montage
    ref = "LE" if le else "REF"
    sites = [s for s in TUH_SITES if not (montage.endswith("_a") and s in ("A1", "A2"))]
    sites += ["T1", "T2"] if temporal else []
    sites += ["OZ"] if le else []
    labels = [f"EEG {s}-{ref}" for s in sites]
    if le:
        labels += ["EEG EKG-LE", "PHOTIC PH"]
    else:
        labels += ["EEG ROC-REF", "EEG LOC-REF", "EEG EKG1-REF", "PHOTIC-REF"]
    return labels + list(SLOW_CHANNELS)


def tuh_signals(
    labels: Sequence[str], seconds: int, sfreq: float, rng: np.random.Generator, **eeg: Any
) -> np.ndarray:
    """Signals for ``labels`` in uV, shape (n_labels, seconds * sfreq), float64.

    EEG rows (``-REF``/``-LE``) come from :func:`eegprep.testing.synth.eeg_like` (60 Hz mains;
    keyword
    arguments go to it), EKG rows from :func:`eegprep.testing.synth.ecg_like`; PHOTIC and the 1-Hz
    IBI/BURSTS/SUPPR rows are zero (the writer keeps ``seconds`` samples of the latter).
    """
    n_samples = int(seconds * sfreq)
    eeg_rows = [i for i, lab in enumerate(labels) if lab.endswith(("-REF", "-LE"))]
    eeg.setdefault("line_hz", 60.0)
    out = np.zeros((len(labels), n_samples))
    out[eeg_rows] = eeg_like(
        len(eeg_rows), n_samples, sfreq, rng=rng, labels=[labels[i] for i in eeg_rows],
        dtype=np.float64, **eeg,
    )  # fmt: skip
    for i, lab in enumerate(labels):
        if "EKG" in lab:
            out[i] = ecg_like(n_samples, sfreq, rng=rng)
    return out


def write_tuh_signals(
    path: Path,
    data: np.ndarray,
    labels: Sequence[str],
    *,
    sfreq: float,
    subject: str,
    session: str,
    start: datetime = datetime(2010, 3, 4, 10, 0, 0),
) -> Path:
    """Write ``data`` (n_labels, n_samples) uV as a TUH EDF: 1-s records, NEDC header fields."""
    seconds = int(data.shape[1] // sfreq)
    signals = [row[:seconds] if lab in SLOW_CHANNELS else row for row, lab in zip(data, labels)]
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_edf(
        path, signals, labels=list(labels),
        sfreqs=[1.0 if lab in SLOW_CHANNELS else sfreq for lab in labels],
        physical_min=-PHYS_LIMIT, physical_max=PHYS_LIMIT,
        digital_min=-DIG_LIMIT, digital_max=DIG_LIMIT, record_duration=1.0,
        patient=f"0 {subject} M 01-JAN-1961 {subject} Age:49",
        recording=f"Startdate {edf_date(start)} {subject}_{session} 02 X",
        start=start, transducer="Unknown", reserved=TUH_RESERVED,
    )  # fmt: skip


def write_tuh_edf(
    path: Path,
    *,
    montage: str,
    sfreq: float,
    seconds: int,
    seed: Sequence[int],
    temporal: bool = False,
) -> list[str]:
    """Write one TUH-style EDF named ``{subject}_{session}...edf``; return its labels."""
    labels = tuh_labels(montage, temporal=temporal)
    data = tuh_signals(labels, seconds, sfreq, np.random.default_rng(list(seed)))
    subject, session = path.stem.split("_")[:2]
    write_tuh_signals(path, data, labels, sfreq=sfreq, subject=subject, session=session)
    return labels
