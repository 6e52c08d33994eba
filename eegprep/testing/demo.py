"""Small synthetic corpora laid out exactly as the real ones, for the README demo and for tests.

``write_demo_corpus(out)`` writes a TUEG-like corpus (the TUH EEG umbrella corpus) in a few
seconds: real folder and file names, real channel labels of the three TCP montages, the real
non-EEG channels (EKG, ROC/LOC, PHOTIC, numbered spares, and IBI/BURSTS/SUPPR at 1 Hz, so one
file mixes sampling rates), rates mixed across files (250/256/400/512 Hz), TUH-style headers,
60 Hz mains, blinks, and a few flat or saturated channels. The same seed gives byte-identical
files.

Adding a corpus: write ``_write_<name>(root, *, n_subjects, seed, minutes) -> Path`` and add it
to :data:`CORPORA` (TUAB and TUEV, with their layouts, sidecars and a planted class signal such
as :func:`eegprep.testing.synth.focal_slowing`, are planned).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np

from eegprep.base.errors import UsageError
from eegprep.base.files import TMP_MARK, is_temporary_name, write_atomically
from eegprep.base.path_limits import shown_path
from eegprep.base.regular_files import not_a_folder
from eegprep.base.validation import check_choice, check_min, invalid_value
from eegprep.testing.demo_labelled import write_tuab_demo, write_tuev_demo
from eegprep.testing.edf_writer import edf_date, write_edf
from eegprep.testing.synth import clip_channel, ecg_like, eeg_like, flat_channel
from eegprep.testing.tuh_edf import (
    DIG_LIMIT,
    PHYS_LIMIT,
    SLOW_CHANNELS,
    TUH_RESERVED,
    TUH_SITES,
    subject_id,
)

__all__ = ["CORPORA", "write_demo_corpus"]

MONTAGES = ("01_tcp_ar", "02_tcp_le", "03_tcp_ar_a")
RATES = (250.0, 256.0, 400.0, 512.0)


@dataclass(frozen=True)
class _Recording:
    """One planned TUEG file (all choices made up front, so the plan alone fixes the bytes)."""

    index: int
    subject: str
    group: str
    session: int
    session_folder: str
    token: int
    montage: str
    sfreq: float
    start: datetime
    n_seconds: int
    sex: str
    birth_year: int
    defect: str  # "", "flat" or "clipped"

    @property
    def relpath(self) -> str:
        name = f"{self.subject}_s{self.session:03d}_t{self.token:03d}.edf"
        return f"edf/{self.group}/{self.subject}/{self.session_folder}/{self.montage}/{name}"


def write_demo_corpus(
    out: str | os.PathLike[str],
    *,
    corpus: str = "tuh",
    n_subjects: int = 4,
    seed: int = 0,
    minutes: float = 2.0,
) -> Path:
    """Write a small synthetic corpus in the real layout of ``corpus``.

    Parameters
    ----------
    out : path-like
        Parent folder; the corpus goes to ``out/<corpus>``: created, or an earlier demo's
        (its files are overwritten); a folder that holds anything else is refused.
    corpus : {'tuh', 'tuab', 'tuev'}
        Which corpus layout to imitate (:data:`CORPORA`). ``'tuh'``: TUEG v2,
        ``edf/{NNN}/{subj}/{sSSS_YYYY[_MM_DD]}/{montage}/{subj}_sSSS_tTTT.edf``; ``'tuab'``
        and ``'tuev'``: those corpora's layouts, labelled (``eegprep.testing.demo_labelled``).
    n_subjects : int
        Number of subjects (``'tuh'``: 4 gives 8 files, 1-2 sessions each, 1-2 tokens per
        session; the labelled corpora: see their writers).
    seed : int
        Seed of every random choice; the same seed gives byte-identical files.
    minutes : float
        Mean file duration in minutes (each file 0.75-1.25x, whole seconds).

    Returns
    -------
    Path
        The corpus root, ``out/<corpus>``.

    Raises
    ------
    UsageError
        For a corpus with no demo or a non-positive size (also a ``ValueError``), and for an
        ``out/<corpus>`` that holds files but is no demo corpus (its files are kept).
    """
    check_choice("corpus", corpus, CORPORA)
    check_min("n_subjects", n_subjects, 1)
    if not minutes > 0:
        raise invalid_value("minutes", minutes, expected="> 0")
    root = Path(out) / corpus
    _check_ours(root)
    _check_no_links(root)
    root.mkdir(parents=True, exist_ok=True)
    mark = b"written by `eegprep demo`: it may overwrite this folder\n"
    write_atomically(root / DEMO_MARK, mark)
    return CORPORA[corpus](root, n_subjects=n_subjects, seed=seed, minutes=minutes)


DEMO_MARK = ".eegprep-demo"
"""The file that marks a folder as a demo corpus, which a later demo may overwrite."""


def _check_ours(root: Path) -> None:
    """Refuse ``root`` when it holds anything and is not a demo corpus (no :data:`DEMO_MARK`):
    the demo's files carry real TUH names (``aaaaaaaa_s001_t000.edf``, ``AAREADME.txt``) and
    would overwrite a real corpus's files of the same name; and a ``root`` that is no folder
    (a file, a FIFO, a link to nothing), named for what it is."""
    kind = not_a_folder(root)
    if kind is not None:
        raise UsageError(
            f"{shown_path(root)}: {kind}, not a folder; the demo corpus goes in a folder of that "
            "name: pick another --out"
        )
    try:
        taken = root.exists() and (
            not root.is_dir() or any(not _marker_left(e.name) for e in root.iterdir())
        )
    except OSError as exc:
        raise UsageError(f"{shown_path(root)}: cannot look into it ({exc.strerror})") from None
    if taken and not (root / DEMO_MARK).is_file():
        raise UsageError(
            f"{shown_path(root)}: already holds files and is not a demo corpus (no {DEMO_MARK}); "
            "the demo would overwrite files of the same names: pick another --out"
        )


def _marker_left(name: str) -> bool:
    """Whether ``name`` is a temporary file of :data:`DEMO_MARK`: what a demo killed before
    the marker's rename leaves, alone, in the folder it made (the next demo went on to refuse
    that folder as another's, and no demo could be written there again)."""
    return is_temporary_name(name) and name.startswith(DEMO_MARK + TMP_MARK)


def _check_no_links(root: Path) -> None:
    """Refuse an earlier demo corpus at ``root`` that holds a symbolic link, and remove the
    temporary files of the writes a kill cut short
    (:func:`~eegprep.base.files.is_temporary_name`).

    The demo makes no link: one in its folder is another's, and the demo would write through
    it (a link named ``AAREADME.txt`` had its target overwritten, a folder link took the EDF
    files out of the folder). ``root`` itself may be a link, as the user named it."""
    for folder, dirs, files in os.walk(root):  # folder links are listed, never entered
        for name in [*dirs, *files]:
            path = os.path.join(folder, name)
            if os.path.islink(path):
                raise UsageError(
                    f"{shown_path(path)}: a symbolic link in the demo corpus {shown_path(root)}; "
                    "the demo makes none and would write through it: remove it, or pick another "
                    "--out"
                )
            if name in files and is_temporary_name(name):
                os.unlink(path)


# ---------------------------------------------------------------------------------------------
# TUEG (TUH EEG v2)


def _write_tueg(root: Path, *, n_subjects: int, seed: int, minutes: float) -> Path:
    """Write the TUEG-layout corpus under ``root``; see :func:`write_demo_corpus`."""
    plan = _plan_tueg(n_subjects, seed, minutes)
    for rec in plan:
        path = root / rec.relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_tueg_file(path, rec, np.random.default_rng([seed, rec.index]))
    write_atomically(root / "AAREADME.txt", _tueg_readme(plan, seed).encode("ascii"))
    return root


def _plan_tueg(n_subjects: int, seed: int, minutes: float) -> list[_Recording]:
    """Every file of the corpus. Montages, rates and defects cycle so all appear from 4 files."""
    rng = np.random.default_rng(seed)
    plan: list[_Recording] = []
    n_sessions_done = 0
    for k in range(n_subjects):
        subj = subject_id(k)
        sex, birth_year = ("M", "F")[int(rng.integers(2))], int(rng.integers(1935, 2000))
        day = date(2003, 1, 1) + timedelta(days=int(rng.integers(0, 5000)))
        for s in range(1 + k % 2):
            day += timedelta(days=int(rng.integers(30, 400))) if s else timedelta(0)
            # both real forms of session folders: s001_2015_12_30 and s001_2015
            folder = f"s{s + 1:03d}_{day:%Y_%m_%d}" if k % 2 == 0 else f"s{s + 1:03d}_{day:%Y}"
            montage = MONTAGES[n_sessions_done % len(MONTAGES)]
            n_sessions_done += 1
            start = datetime(day.year, day.month, day.day, int(rng.integers(7, 17)))
            start += timedelta(seconds=int(rng.integers(0, 3600)))
            for t in range(1 + (k + s) % 2):
                i = len(plan)
                n_seconds = max(10, round(minutes * 60 * rng.uniform(0.75, 1.25)))
                defect = ("", "flat", "clipped", "")[i % 4]
                plan.append(
                    _Recording(
                        i, subj, f"{k // 2:03d}", s + 1, folder, t, montage,
                        RATES[i % len(RATES)], start, n_seconds, sex, birth_year, defect,
                    )
                )  # fmt: skip
                start += timedelta(seconds=n_seconds + int(rng.integers(5, 60)))
    return plan


def tueg_labels(montage: str, *, rng: np.random.Generator) -> list[str]:
    """Channel labels of one TUEG file of ``montage``, with TUH's real non-EEG channels.

    T1/T2 and 0-3 numbered spare channels (``EEG 26-REF``...) are present at random.
    """
    ref = "LE" if montage == "02_tcp_le" else "REF"
    sites = [s for s in TUH_SITES if not (montage == "03_tcp_ar_a" and s in ("A1", "A2"))]
    if montage == "02_tcp_le":
        sites.append("OZ")
    labels = [f"EEG {s}-{ref}" for s in sites]
    if montage == "02_tcp_le":
        labels += ["EEG EKG-LE", "EEG SP1-LE", "EEG SP2-LE"]
    else:
        labels += ["EEG ROC-REF", "EEG LOC-REF", "EEG EKG1-REF"]
    if rng.random() < 0.5:
        labels += [f"EEG T1-{ref}", f"EEG T2-{ref}"]
    if montage == "03_tcp_ar_a":
        labels += ["EEG C3P-REF", "EEG C4P-REF"]
    labels += [f"EEG {26 + j}-{ref}" for j in range(int(rng.integers(0, 4)))]
    labels += ["PHOTIC PH" if montage == "02_tcp_le" else "PHOTIC-REF", *SLOW_CHANNELS]
    return labels


def _write_tueg_file(path: Path, rec: _Recording, rng: np.random.Generator) -> None:
    labels = tueg_labels(rec.montage, rng=rng)
    signals = _tueg_signals(labels, rec, rng)
    age = rec.start.year - rec.birth_year
    write_edf(
        path,
        signals,
        labels=labels,
        sfreqs=[1.0 if lab in SLOW_CHANNELS else rec.sfreq for lab in labels],
        physical_min=-PHYS_LIMIT,
        physical_max=PHYS_LIMIT,
        digital_min=-DIG_LIMIT,
        digital_max=DIG_LIMIT,
        record_duration=1.0,
        patient=f"{rec.subject} {rec.sex} 01-JAN-{rec.birth_year} {rec.subject} Age:{age}",
        recording=(
            f"Startdate {edf_date(rec.start)} {rec.subject}_s{rec.session:03d} "
            f"{int(rng.integers(0, 20)):02d} X"
        ),
        start=rec.start,
        transducer="Unknown",
        reserved=TUH_RESERVED,
    )


def _tueg_signals(labels: list[str], rec: _Recording, rng: np.random.Generator) -> list[np.ndarray]:
    """One array per label, in uV: EEG-like on electrodes, ECG, photic pulses, zeros at 1 Hz."""
    n_samples = int(rec.n_seconds * rec.sfreq)
    electrode = [
        i
        for i, lab in enumerate(labels)
        if lab.startswith("EEG ") and "EKG" not in lab and not lab[4:6].isdigit()
    ]
    eeg = eeg_like(
        len(electrode), n_samples, rec.sfreq, rng=rng, labels=[labels[i] for i in electrode],
        background_uv=float(rng.uniform(20, 45)), alpha_hz=float(rng.uniform(8.5, 11.5)),
        line_hz=60.0, line_uv=float(rng.uniform(2, 15)), dtype=np.float64,
    )  # fmt: skip
    # defects land on the 21 standard sites, so that QC downstream sees them on kept channels
    scalp = [j for j, i in enumerate(electrode) if labels[i][4:].split("-")[0] in TUH_SITES]
    if rec.defect == "flat":
        eeg = flat_channel(eeg, int(rng.choice(scalp)))
    elif rec.defect == "clipped":
        eeg = clip_channel(eeg, int(rng.choice(scalp)), limit_uv=PHYS_LIMIT, fraction=0.02)
    out: list[np.ndarray] = []
    rows = dict(zip(electrode, eeg, strict=True))
    for i, lab in enumerate(labels):
        if i in rows:
            out.append(rows[i])
        elif "EKG" in lab:
            out.append(ecg_like(n_samples, rec.sfreq, rng=rng, heart_rate_hz=rng.uniform(0.9, 1.6)))
        elif lab.startswith("PHOTIC"):
            out.append(_photic(n_samples, rec.sfreq, rng))
        elif lab in SLOW_CHANNELS:
            out.append(np.zeros(rec.n_seconds))
        else:  # numbered spare inputs: unconnected, a little amplifier noise
            out.append(rng.normal(0.0, 1.5, n_samples))
    return out


def _photic(n_samples: int, sfreq: float, rng: np.random.Generator) -> np.ndarray:
    """Photic stimulator trace: flat, or 10-s trains of flashes at 1-20 Hz (uV units as TUH)."""
    out = np.zeros(n_samples)
    if rng.random() < 0.5 or n_samples < 40 * sfreq:
        return out
    t = np.arange(n_samples) / sfreq
    first = float(rng.uniform(0.2, 0.5)) * t[-1]
    for j, freq in enumerate((1.0, 3.0, 5.0, 10.0, 15.0, 20.0)):
        lo, hi = first + 12.0 * j, first + 12.0 * j + 10.0
        on = (t >= lo) & (t < hi) & (((t - lo) * freq) % 1.0 < 0.1)
        out[on] = 1000.0
    return out


def _tueg_readme(plan: list[_Recording], seed: int) -> str:
    subjects = sorted({r.subject for r in plan})
    hours = sum(r.n_seconds for r in plan) / 3600
    return f"""File: AAREADME.txt
Database: TUH EEG Corpus (TUEG) -- SYNTHETIC DEMO, not patient data
Version: v2.0.1-demo (eegprep.testing.demo, seed {seed})
-------------------------------------------------------------------------------

This folder imitates the layout of the TUH EEG Corpus v2.0.x so that
tools can be tried without the real data. Every signal is synthetic
(eegprep.testing.synth): 1/f background, alpha, 60 Hz mains, blinks, drift.

Layout:
 edf/{{NNN}}/{{subject}}/{{session}}/{{montage}}/{{subject}}_sSSS_tTTT.edf

 NNN      three-digit group folder (000, 001, ...)
 subject  eight lowercase letters (aaaaaaaa, aaaaaaab, ...)
 session  sSSS_YYYY_MM_DD or sSSS_YYYY (both forms exist in the corpus)
 montage  01_tcp_ar   (average reference, labels "EEG FP1-REF")
          02_tcp_le   (linked ears, labels "EEG FP1-LE", adds OZ)
          03_tcp_ar_a (average reference without A1/A2)
 tTTT     token: one piece of a session's recording

Files are plain EDF, 1 s records, sampled at 250, 256, 400 or 512 Hz;
IBI, BURSTS and SUPPR are sampled at 1 Hz. Some files hold a flat or a
saturated (clipped) channel on purpose.

Statistics:
 subjects: {len(subjects)}
 files:    {len(plan)}
 hours:    {hours:.2f}
"""


CORPORA: dict[str, Callable[..., Path]] = {
    "tuh": _write_tueg,
    "tuab": write_tuab_demo,
    "tuev": write_tuev_demo,
}
"""Corpus name -> writer ``(root, *, n_subjects, seed, minutes) -> root``; add new ones here."""
