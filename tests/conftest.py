"""Shared fixtures: small corpora written in their real on-disk layouts."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")
"""The tests' torch computes on one thread (set before any test module imports torch; child
processes inherit it; a value the user set is kept). Its tiny models' ops are too small to gain
from a second thread, and OpenMP's waiting threads spun: test_config_fields.py took 37 CPU s on
a 2-core machine shared with other jobs, 6.6 s on one thread. Tests of threads set their own."""

TUH_AR = [
    "FP1",
    "FP2",
    "F3",
    "F4",
    "C3",
    "C4",
    "P3",
    "P4",
    "O1",
    "O2",
    "F7",
    "F8",
    "T3",
    "T4",
    "T5",
    "T6",
    "A1",
    "A2",
    "FZ",
    "CZ",
    "PZ",
]


HARNESS_VARIABLES = frozenset({"EEGPREP_REAL_CACHE", "EEGPREP_REAL_REQUIRED"})
"""The variables of this test suite's own (tests/real/fetch.py), not the library's: kept."""

TORCHRUN_VARIABLES = ("WORLD_SIZE", "RANK", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "GROUP_RANK",
                      "MASTER_ADDR", "MASTER_PORT", "TORCHELASTIC_RUN_ID")  # fmt: skip


def user_settings(environ: dict[str, str] | os._Environ[str]) -> list[str]:
    """The names in ``environ`` that would change what eegprep or labram do in a test: every
    ``EEGPREP_*`` and ``LABRAM_*`` (in any case, as eegprep reads ``EEGPREP_{NAME}_DIR``) but
    this suite's own, and torchrun's (a test run inside a torchrun job would be rank N of M)."""
    prefixes = ("EEGPREP_", "LABRAM_")
    return sorted(
        name
        for name in environ
        if (name.upper().startswith(prefixes) and name not in HARNESS_VARIABLES)
        or name in TORCHRUN_VARIABLES
    )


@pytest.fixture(autouse=True, scope="session")
def no_user_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Every test runs as on a clean machine, whatever the user running pytest has set: no
    ``EEGPREP_*``/``LABRAM_*`` variable (a user's ``EEGPREP_TUH_DIR`` or ``EEGPREP_CONFIG``
    changed what ``eegprep ingest tuh`` with no ``--src`` did), no config file of the user's
    (``XDG_CONFIG_HOME`` an empty folder; tests of the config file's place set their own), and
    help text wrapped at 80 columns whatever ``COLUMNS`` the terminal gave. Child processes
    inherit the same."""
    with pytest.MonkeyPatch.context() as patch:
        for name in user_settings(os.environ):
            patch.delenv(name)
        patch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("config-home")))
        patch.setenv("COLUMNS", "80")
        patch.delenv("LINES", raising=False)
        yield


@pytest.fixture(autouse=True, scope="session")
def ingests_come_later(no_user_settings: None) -> Iterator[None]:
    """Every ingest of a test runs as if an hour after the test wrote its files. A file
    stamped within seconds of an ingest is racy (eegprep/ingestion/racy_stamps.py): its stamps
    are not noted and the next run reads it again, and the task hashes it once more before
    reading it, so a test's counts would depend on how long it took to write its corpus. For
    the session, so that module-scoped fixtures' ingests run so too; tests of that rule put
    their own clock."""
    from eegprep.ingestion import racy_stamps

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(racy_stamps, "clock", lambda: time.time_ns() + 3600 * 10**9)
        # (and a test's child processes, which the clock above does not reach, take no window:
        # a store made in a child within 3 s of its corpus would leave those files out of its
        # seen-files cache, and differ from one made here)
        patch.setenv(racy_stamps.WINDOW_VARIABLE, "0")
        yield


def _tiny_png() -> bytes:
    """A valid 1 x 1 PNG (one grey pixel): signature, IHDR, IDAT, IEND."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)  # 1 x 1, 8-bit greyscale
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\x80"))
        + chunk(b"IEND", b"")
    )


TINY_PNG = _tiny_png()
"""What a training run of a test draws as its ``curves.png`` (:func:`quick_training_curves`)."""
_DRAWN: dict[str, object] = {}  # labram.train.runlog.curves_png itself, for real_plots tests


@pytest.fixture(autouse=True, scope="session")
def quick_training_curves() -> Iterator[None]:
    """A training run in this process draws its ``curves.png`` as :data:`TINY_PNG` (written as
    the real one is: whole, through the same checks): matplotlib's drawing took ~0.3-1 s of
    CPU per run, a minute or more of the suite's. Tests of the drawing itself are marked
    ``real_plots`` (:func:`drawn_curves_when_marked`); child processes draw as users'."""
    from labram.train import runlog

    _DRAWN["curves_png"] = runlog.curves_png
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(runlog, "curves_png", lambda rows: TINY_PNG)
        yield


@pytest.fixture(autouse=True)
def drawn_curves_when_marked(
    request: pytest.FixtureRequest, quick_training_curves: None
) -> Iterator[None]:
    """A test marked ``real_plots`` draws ``curves.png`` with matplotlib, as a user's run."""
    if request.node.get_closest_marker("real_plots") is None:
        yield
        return
    from labram.train import runlog

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(runlog, "curves_png", _DRAWN["curves_png"])
        yield


def write_tuh_edf(
    path: Path,
    *,
    sfreq: float,
    seconds: int,
    montage: str = "01_tcp_ar",
    extra: tuple[str, ...] = ("EEG EKG1-REF", "PHOTIC-REF", "IBI", "BURSTS", "EEG 26-REF"),
    seed: int = 0,
    line_hz: float = 60.0,
) -> list[str]:
    """Write a TUH-style EDF with pyedflib (not with project code). Returns the labels."""
    import pyedflib

    rng = np.random.default_rng(seed)
    suffix = "-LE" if "le" in montage else "-REF"
    sites = [s for s in TUH_AR if not (montage.endswith("_a") and s in ("A1", "A2"))]
    if "le" in montage:
        sites.append("OZ")
    labels = [f"EEG {s}{suffix}" for s in sites] + list(extra)
    signals, headers = [], []
    for i, label in enumerate(labels):
        rate = 1 if label in ("IBI", "BURSTS", "SUPPR") else sfreq
        n = int(rate * seconds)
        t = np.arange(n) / rate
        x = (
            15 * np.sin(2 * np.pi * (9 + 0.1 * i) * t)
            + 8 * np.sin(2 * np.pi * line_hz * t)
            + 10 * rng.standard_normal(n)
            + 40
        )
        signals.append(x)
        headers.append(
            {
                "label": label,
                "dimension": "uV",
                "sample_frequency": rate,
                "physical_max": 1000.0,
                "physical_min": -1000.0,
                "digital_max": 32767,
                "digital_min": -32768,
            }
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    pyedflib.highlevel.write_edf(str(path), signals, headers, file_type=pyedflib.FILETYPE_EDF)
    return labels


@pytest.fixture
def tuh_corpus(tmp_path: Path) -> Path:
    """A TUEG-layout corpus: 3 recordings in 3 montages and both session-folder forms."""
    root = tmp_path / "tuh_eeg"
    write_tuh_edf(
        root / "edf/000/aaaaaaaa/s001_2015_12_30/01_tcp_ar/aaaaaaaa_s001_t000.edf",
        sfreq=250,
        seconds=40,
        seed=1,
    )
    write_tuh_edf(
        root / "edf/000/aaaaaaab/s002_2015/02_tcp_le/aaaaaaab_s002_t001.edf",
        sfreq=256,
        seconds=30,
        montage="02_tcp_le",
        seed=2,
    )
    write_tuh_edf(
        root / "edf/001/aaaaaaac/s001_2016_01_02/03_tcp_ar_a/aaaaaaac_s001_t000.edf",
        sfreq=512,
        seconds=25,
        montage="03_tcp_ar_a",
        seed=3,
    )
    return root
