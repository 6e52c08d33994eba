"""A BrainVision recording's events are the same under every locale.

MNE reads the marker file once as text in the system's encoding (for the date); where that
read fails, the reader gives MNE a copy. The copy was written in the system's encoding with
unwritable characters replaced, so a description such as ``Reiz ü€`` was stored as
``Reiz ??`` under an ASCII locale (or a Japanese one on Windows) and as written under UTF-8:
the same files gave two stores."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
HEADER = [
    "Brain Vision Data Exchange Header File Version 1.0",
    "[Common Infos]",
    "DataFile=rec.eeg",
    "MarkerFile=rec.vmrk",
    "DataFormat=BINARY",
    "DataOrientation=MULTIPLEXED",
    "NumberOfChannels=2",
    "SamplingInterval=2000",
    "[Binary Infos]",
    "BinaryFormat=INT_16",
    "[Channel Infos]",
    "Ch1=Fp1,,1,µV",
    "Ch2=Cz,,1,µV",
]
# (codepage line or None, encoding of the file's bytes): UTF-8 by default, UTF-8 named, ANSI
MARKER_FILES = {"utf-8 unnamed": (None, "utf-8"), "utf-8": ("UTF-8", "utf-8"),
                "ansi": ("ANSI", "cp1252")}  # fmt: skip
DESCRIPTIONS = ["Reiz \u00fc\u20ac a+b", "caf\u00e9 ~\\ \u00b0"]
READ = (
    "import sys\n"
    "from eegprep.readers.mne_formats import MneReader\n"
    "h = MneReader.read_header(sys.argv[1])\n"
    "print(ascii([(a.onset, a.description) for a in h.annotations]))\n"
    "print(ascii(h.meta_dict().get('meas_date', '')))\n"
)


def _write(folder: Path, codepage: str | None, encoding: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "rec.vhdr").write_text("\r\n".join(HEADER) + "\r\n", encoding="utf-8")
    (folder / "rec.eeg").write_bytes(np.arange(200, dtype="<i2").tobytes())
    lines = ["Brain Vision Data Exchange Marker File, Version 1.0", "[Common Infos]"]
    lines += [f"Codepage={codepage}"] if codepage else []
    lines += ["DataFile=rec.eeg", "[Marker Infos]", "Mk1=New Segment,,1,1,0,20240102030405000000"]
    lines += [f"Mk{i}=Comment,{d},{10 * i},1,0" for i, d in enumerate(DESCRIPTIONS, start=2)]
    (folder / "rec.vmrk").write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return folder / "rec.vhdr"


def _read(path: Path, env: dict[str, str]) -> str:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "LANG", "PYTHON"))}
    full = {**base, "PYTHONPATH": str(REPO), **env}
    done = subprocess.run(
        [sys.executable, "-c", READ, str(path)], env=full, capture_output=True, text=True,
        timeout=120, encoding="ascii",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("case", sorted(MARKER_FILES))
def test_descriptions_and_start_are_the_same_under_an_ascii_locale(
    tmp_path: Path, case: str
) -> None:
    path = _write(tmp_path / "rec", *MARKER_FILES[case])
    utf8 = _read(path, {"LC_ALL": "C.UTF-8", "PYTHONUTF8": "1"})
    ascii_locale = {"LC_ALL": "POSIX", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"}
    assert _read(path, ascii_locale) == utf8
    for text in DESCRIPTIONS:  # as written, not replaced
        assert ascii(text)[1:-1] in utf8
    assert "2024-01-02T03:04:05" in utf8
