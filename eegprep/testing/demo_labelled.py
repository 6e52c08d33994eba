"""Labelled demo corpora in the real TUAB and TUEV layouts, with a planted, learnable signal.

``eegprep demo --corpus tuab`` writes ``edf/{train|eval}/{normal|abnormal}/01_tcp_ar/*.edf``:
"abnormal" recordings carry focal slowing (2-4 Hz delta on three neighbouring channels of one
temporal region) and a weaker, slower alpha rhythm; "normal" ones a clear 9.5-11 Hz alpha.
``eegprep demo --corpus tuev`` writes ``edf/train/{subj}/{subj}_{NNNNNNNN}.edf`` and
``edf/eval/{NNN}/{label}_{NNN}_a_{k}.edf`` with ``.rec`` sidecars whose events' 5-s windows
(LaBraM: start - 2 s to end + 2 s) hold a class pattern: spike-and-wave (spsw), generalized
periodic discharges (gped), lateralized periodic discharges (pled), eye movements (eyem),
muscle artifact (artf) or nothing (bckg). A tiny model learns either task on a laptop CPU in
minutes. The same seed gives byte-identical files. Sizes at the defaults (``n_subjects=4``,
``minutes=2``): TUAB 32 files, ~40 MB; TUEV 24 files, ~20 MB; a few seconds to write.

In ``.rec`` rows the channel number is the EDF channel index of the pattern's main channel (the
real corpus's meaning of that number is uncertain; see ``manifests/tuev.toml``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from eegprep.base.files import write_atomically
from eegprep.corpus.sidecars.tuh import TUEV_CLASSES as TUEV_CODES
from eegprep.testing.synth import focal_slowing
from eegprep.testing.tuh_edf import subject_id, tuh_labels, tuh_signals, write_tuh_signals

__all__ = ["write_tuab_demo", "write_tuev_demo"]

MONTAGE = "01_tcp_ar"
FOCI = (("T3", "F7", "T5"), ("T4", "F8", "T6"), ("C3", "P3", "T3"), ("C4", "P4", "T4"))
"""Focal-slowing regions of the TUAB demo: three neighbouring sites each."""


def _index(labels: list[str]) -> dict[str, int]:
    """Site name -> row, for ``EEG XX-REF`` labels."""
    return {lab[4:-4]: i for i, lab in enumerate(labels) if lab.endswith("-REF")}


def _start(rng: np.random.Generator) -> datetime:
    return datetime(2005, 1, 1, 8) + timedelta(days=int(rng.integers(0, 4000)),
                                               seconds=int(rng.integers(0, 30000)))  # fmt: skip


def write_tuab_demo(root: Path, *, n_subjects: int, seed: int, minutes: float) -> Path:
    """TUAB v3 layout; ``n_subjects`` units of 8 subjects (train 3+3, eval 1+1), one file each.

    Files last ``minutes`` x 0.5-1.0 (whole seconds, at least 20 s), at 250 Hz (every fifth
    at 256 Hz).
    """

    labels = tuh_labels(MONTAGE, temporal=True)
    cells = [("train", "normal")] * 3 + [("train", "abnormal")] * 3
    cells += [("eval", "normal"), ("eval", "abnormal")]
    lines = []
    for k in range(8 * n_subjects):
        split, cls = cells[k % 8]
        rng = np.random.default_rng([seed, k])
        subject = subject_id(1000 + k)
        sfreq = 256.0 if k % 5 == 4 else 250.0
        seconds = max(20, round(minutes * 60 * rng.uniform(0.5, 1.0)))
        data = _tuab_signals(labels, seconds, sfreq, rng, abnormal=cls == "abnormal")
        rel = f"edf/{split}/{cls}/{MONTAGE}/{subject}_s001_t000.edf"
        _write(root / rel, data, labels, sfreq, subject, "s001", _start(rng))
        lines.append(f"{rel} {cls} {seconds} s")
    _readme(root, "TUAB", seed, lines)
    return root


def _tuab_signals(
    labels: list[str], seconds: int, sfreq: float, rng: np.random.Generator, *, abnormal: bool
) -> np.ndarray:

    alpha = dict(alpha_hz=float(rng.uniform(9.5, 11.0)), alpha_uv=float(rng.uniform(16, 24)))
    if abnormal:
        alpha = dict(alpha_hz=float(rng.uniform(7.5, 8.5)), alpha_uv=float(rng.uniform(5, 9)))
    data = tuh_signals(labels, seconds, sfreq, rng, background_uv=float(rng.uniform(20, 35)),
                       **alpha)  # fmt: skip
    if abnormal:
        site = _index(labels)
        focus = [site[s] for s in FOCI[int(rng.integers(len(FOCI)))]]
        data = focal_slowing(data, focus, sfreq, rng=rng, band=(2.0, 4.0),
                             amplitude_uv=float(rng.uniform(35, 55)))  # fmt: skip
    return data


TUEV_CLASSES = tuple(name for _, name in sorted(TUEV_CODES.items()))  # code order 1..6
"""TUEV classes in code order (code = position + 1)."""


def write_tuev_demo(root: Path, *, n_subjects: int, seed: int, minutes: float) -> Path:
    """TUEV v2 layout: ``2 * n_subjects`` train subjects and ``n_subjects`` eval patients, two
    files each, of ``minutes`` / 2 (at least 30 s) at 250 Hz, with events every ~6 s."""

    labels = tuh_labels(MONTAGE, temporal=True)
    seconds = max(30, round(minutes * 30))
    lines = []
    for k in range(3 * n_subjects * 2):
        person, part = divmod(k, 2)
        rng = np.random.default_rng([seed, 7, k])
        data, rows = _tuev_file(labels, seconds, 250.0, rng, first=k % len(TUEV_CLASSES))
        if person < 2 * n_subjects:
            subject = subject_id(2000 + person)
            rel = f"edf/train/{subject}/{subject}_{part + 1:08d}.edf"
        else:
            subject = f"{person - 2 * n_subjects:03d}"
            name = f"{TUEV_CLASSES[rows[0][3] - 1]}_{subject}_a_{part + 1 if part else ''}"
            rel = f"edf/eval/{subject}/{name}.edf"
        _write(root / rel, data, labels, 250.0, subject, f"{part + 1:08d}", _start(rng))
        rec = "".join(f"{ch},{a:.4f},{b:.4f},{code}\n" for ch, a, b, code in rows)
        write_atomically((root / rel).with_suffix(".rec"), rec.encode("ascii"))
        lines.append(f"{rel} {len(rows)} event rows")
    _readme(root, "TUEV", seed, lines)
    return root


def _tuev_file(
    labels: list[str], seconds: int, sfreq: float, rng: np.random.Generator, *, first: int
) -> tuple[np.ndarray, list[tuple[int, float, float, int]]]:
    """Background EEG with one planted pattern per event; ``.rec`` rows (ch, start, stop, code)."""

    data = tuh_signals(labels, seconds, sfreq, rng, background_uv=float(rng.uniform(18, 30)),
                       blink_rate_hz=0.02)  # fmt: skip
    site = _index(labels)
    rows = []
    for j, t in enumerate(np.arange(3.0, seconds - 4.0, 6.0)):
        cls = (first + j) % len(TUEV_CLASSES) if j < 3 else int(rng.integers(len(TUEV_CLASSES)))
        main = _PATTERNS[TUEV_CLASSES[cls]](data, site, float(t), sfreq, rng)
        rows.append((main, float(t), float(t) + 1.0, cls + 1))
    return data, rows


def _bump(n: int, kind: str) -> np.ndarray:
    """Unit waveforms: a triangle ``spike`` or a half-cosine ``wave`` of ``n`` samples."""
    if kind == "spike":
        return 1.0 - np.abs(np.linspace(-1.0, 1.0, n))
    return np.sin(np.linspace(0.0, np.pi, n))


def _add(data: np.ndarray, rows: list[int], t: float, sfreq: float, wave: np.ndarray,
         gains: list[float]) -> None:  # fmt: skip
    a = int(t * sfreq)
    b = min(a + wave.size, data.shape[1])
    for r, g in zip(rows, gains, strict=True):
        data[r, a:b] += g * wave[: b - a]


def _spsw(data: np.ndarray, site: dict[str, int], t: float, sfreq: float,
          rng: np.random.Generator) -> int:  # fmt: skip
    """Focal spike-and-wave complexes (70 ms spike, 250 ms slow wave) on three channels."""
    chans = [site[s] for s in FOCI[int(rng.integers(len(FOCI)))]]
    spike = -_bump(int(0.07 * sfreq), "spike") * 160.0
    complex_ = np.concatenate([spike, _bump(int(0.25 * sfreq), "wave") * 70.0])
    for dt in (0.0, 0.9):
        _add(data, chans, t + dt, sfreq, complex_, [1.0, 0.7, 0.5])
    return chans[0]


def _periodic(data: np.ndarray, rows: list[int], t: float, sfreq: float, amp: float) -> None:
    """Sharp periodic discharges every ~1 s over the event's 5-s window."""
    wave = np.concatenate([-_bump(int(0.08 * sfreq), "spike") * amp,
                           _bump(int(0.2 * sfreq), "wave") * 0.5 * amp])  # fmt: skip
    for dt in np.arange(-1.8, 2.6, 1.1):
        _add(data, rows, t + dt, sfreq, wave, [1.0] * len(rows))


def _gped(data: np.ndarray, site: dict[str, int], t: float, sfreq: float,
          rng: np.random.Generator) -> int:  # fmt: skip
    rows = [site[s] for s in site]
    _periodic(data, rows, t, sfreq, float(rng.uniform(90, 130)))
    return site["FZ"]


def _pled(data: np.ndarray, site: dict[str, int], t: float, sfreq: float,
          rng: np.random.Generator) -> int:  # fmt: skip
    side = ("1", "3", "5", "7") if rng.random() < 0.5 else ("2", "4", "6", "8")
    rows = [i for s, i in site.items() if s[-1] in side]
    _periodic(data, rows, t, sfreq, float(rng.uniform(100, 150)))
    return rows[0]


def _eyem(data: np.ndarray, site: dict[str, int], t: float, sfreq: float,
          rng: np.random.Generator) -> int:  # fmt: skip
    """Lateral eye movements: slow, large, opposite polarity at F7 and F8, strong at FP1/FP2."""
    wave = _bump(int(0.8 * sfreq), "wave") * float(rng.uniform(150, 220))
    rows = [site[s] for s in ("FP1", "FP2", "F7", "F8")]
    for dt, sign in ((-0.5, 1.0), (0.6, -1.0)):
        _add(data, rows, t + dt, sfreq, sign * wave, [0.8, 0.8, 1.0, -1.0])
    return site["F7"]


def _artf(data: np.ndarray, site: dict[str, int], t: float, sfreq: float,
          rng: np.random.Generator) -> int:  # fmt: skip
    """Muscle artifact: 20-70 Hz noise bursts on temporal channels for ~3 s."""
    n = int(3.0 * sfreq)
    spec = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1.0 / sfreq)
    burst = np.fft.irfft(spec * ((freqs > 20) & (freqs < 70)), n)
    burst *= float(rng.uniform(40, 70)) / burst.std() * _bump(n, "wave")
    rows = [site[s] for s in ("T3", "T4", "F7", "F8", "T5", "T6")]
    _add(data, rows, t - 1.0, sfreq, burst, [1.0, 0.9, 0.8, 0.7, 0.5, 0.5])
    return site["T3"]


def _bckg(data: np.ndarray, site: dict[str, int], t: float, sfreq: float,
          rng: np.random.Generator) -> int:  # fmt: skip
    return int(rng.choice(list(site.values())))


_PATTERNS: dict[str, Callable[..., int]] = {
    "spsw": _spsw, "gped": _gped, "pled": _pled, "eyem": _eyem, "artf": _artf, "bckg": _bckg,
}  # fmt: skip


def _write(path: Path, data: np.ndarray, labels: list[str], sfreq: float, subject: str,
           session: str, start: datetime) -> None:  # fmt: skip
    write_tuh_signals(path, data, labels, sfreq=sfreq, subject=subject, session=session,
                      start=start)  # fmt: skip


def _readme(root: Path, corpus: str, seed: int, lines: list[str]) -> None:
    text = (
        f"File: AAREADME.txt\nDatabase: {corpus} -- SYNTHETIC DEMO, not patient data\n"
        f"Written by eegprep.testing.demo_labelled (seed {seed}); see its docstring for the "
        f"planted class signal.\n\nFiles:\n" + "".join(f" {line}\n" for line in lines)
    )
    write_atomically(root / "AAREADME.txt", text.encode("ascii"))
