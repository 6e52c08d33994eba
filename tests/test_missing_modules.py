"""A module a command needs that the environment lacks (a declared dependency uninstalled, an
install with ``--no-deps``): one ``error:`` line naming it and what to install, status 2.

Before, a labram command without torch ended in two tracebacks (the error handler imported
torch too), a drawing command without matplotlib said "internal error (a bug)", and a missing
click failed the console script's first import with a traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _run(argv: list[str], cwd: Path, blocked: str | None = None) -> subprocess.CompletedProcess:
    """``eegprep``/``labram`` ARGV run from this checkout, with ``blocked`` made unimportable."""
    code = (
        "import sys\n"
        f"if {blocked!r}: sys.modules[{blocked!r}] = None\n"
        "sys.argv = sys.argv[1:]\n"
        "from eegprep import _console\n"
        "getattr(_console, sys.argv[0] + '_main')()\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO), "MPLBACKEND": "Agg"}
    return subprocess.run([sys.executable, "-c", code, *argv], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)  # fmt: skip


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the demo corpus and its store ``s.zarr``."""
    work = tmp_path_factory.mktemp("missing")
    for argv in (["eegprep", "demo", "--out", "d"],
                 ["eegprep", "ingest", "tuh", "--src", "d/tuh", "--out", "s.zarr",
                  "--workers", "0"]):  # fmt: skip
        res = _run(argv, work)
        assert res.returncode == 0, res.stderr
    return work


STORE = ["--store", "s.zarr", "--size", "tiny"]


@pytest.mark.parametrize(
    ("blocked", "argv"),
    [
        ("torch", ["labram", "pretrain", *STORE, "--out", "r1", "--max-steps", "1"]),
        ("torch", ["labram", "tokenizer", *STORE, "--out", "r2", "--max-steps", "1"]),
        ("torch", ["labram", "finetune", *STORE, "--task", "tuab", "--out", "r3"]),
        ("matplotlib", ["eegprep", "stats", "s.zarr", "--plots", "p"]),
        ("click", ["eegprep", "--version"]),
        ("click", ["labram", "--help"]),
    ],
)
def test_a_missing_module_is_one_line(blocked: str, argv: list[str], work: Path) -> None:
    res = _run(argv, work, blocked)
    assert res.returncode == 2, (res.stdout, res.stderr)
    lines = res.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in res.stderr, res.stderr
    assert lines[0].startswith(f"error: {argv[0]}") and f"'{blocked}'" in lines[0], lines
    assert f"pip install '{blocked}" in lines[0], lines


def test_the_line_names_the_distribution_to_install() -> None:
    """Import names that are not their distribution's, a submodule, an extra's module (its
    requirement without the marker), a module nobody declares, and one of this installation
    (None: a bug or a damaged install, not a missing dependency)."""
    from eegprep.base.missing_modules import missing_module_line

    line = missing_module_line(ModuleNotFoundError(name="sklearn.metrics"), "labram finetune")
    assert line is not None and line.startswith("labram finetune needs the module 'sklearn'")
    assert "pip install 'scikit-learn" in line and sys.executable in line
    crc = missing_module_line(ModuleNotFoundError(name="google_crc32c"), "eegprep ingest")
    assert crc is not None and "pip install 'google-crc32c" in crc
    s3 = missing_module_line(ModuleNotFoundError(name="s3fs"), "eegprep ingest")
    assert s3 is not None and "pip install 's3fs>=" in s3 and "extra" not in s3
    other = missing_module_line(ModuleNotFoundError(name="nosuchmodule"), "eegprep stats")
    assert other is not None and "pip install 'nosuchmodule'" in other
    for own in ("eegprep.store.nosuch", "labram.nosuch", "cli"):
        assert missing_module_line(ModuleNotFoundError(name=own), "eegprep stats") is None
    assert missing_module_line(ModuleNotFoundError("no name"), "eegprep stats") is None


def test_a_file_whose_reader_lacks_its_module_says_what_to_install(tmp_path: Path) -> None:
    """An ingest goes on past a file whose reader needs a module the environment lacks (a
    FIF file without mne), its line naming what to install, not "internal error"."""
    from eegprep.testing.fixtures import write_fixture

    root = write_fixture("folder", tmp_path / "fx")
    argv = [
        "eegprep",
        "ingest",
        "folder",
        "--src",
        str(root),
        "--out",
        "f.zarr",
        "--workers",
        "0",
        "--mains",
        "50",
    ]
    res = _run(argv, tmp_path, "mne")
    assert res.returncode == 3, (res.stdout, res.stderr)
    assert "internal error" not in res.stdout + res.stderr
    said = [line for line in (res.stdout + res.stderr).splitlines() if ".fif" in line]
    assert said and all("reading it needs the module 'mne'" in line for line in said), said
    assert all("pip install 'mne>=" in line for line in said), said


def test_labram_predict_says_it_of_the_file_too() -> None:
    """``labram predict``'s line for a file whose reader lacks its module (the same words)."""
    from labram.stages.predict import _problem

    line = _problem("a.vhdr", ModuleNotFoundError("no mne", name="mne"))
    assert line.startswith("a.vhdr: reading it needs the module 'mne'") and "internal" not in line
    assert "internal error" in _problem(
        "a.vhdr", ModuleNotFoundError("no eegprep.x", name="eegprep.x")
    )
