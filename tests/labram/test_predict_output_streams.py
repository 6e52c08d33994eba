"""`labram predict`'s results written to a standard output that fails: one line naming it.

Each output form (the table, ``--csv``, ``--json``) written to a full device (``> /dev/full``)
is one ``error:`` line naming the standard output's file, exit status 2, as every other output
line of a command (:func:`eegprep.cli_group.say`); ``--csv``'s rows, written past ``say``,
gave ``error: cannot write it (No space left on device)`` naming nothing. A standard output
closed at start (``>&-``) lost the results of the files predicted without a word when another
file was skipped (status 3, whose line says the others were done): that is said too, status 2,
as a success that lost its output is.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from eegprep.testing.edf_writer import write_edf
from tests.labram.test_predict_formats_equal_store import LABELS, SFREQ, X, _classifier


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """A classifier, and a recording it predicts beside one too short for a window."""
    tmp = tmp_path_factory.mktemp("streams")
    edf = dict(labels=LABELS, sfreqs=SFREQ, physical_min=-500.0, physical_max=500.0)
    write_edf(tmp / "rec.edf", list(X), **edf)
    write_edf(tmp / "short.edf", list(X[:, : 2 * SFREQ]), **edf)
    return _classifier(tmp / "best.pt"), [str(tmp / "rec.edf"), str(tmp / "short.edf")]


def _predict(ckpt: Path, paths: list[str], *extra: str, shell: str = "") -> tuple[int, str]:
    """``labram predict`` of ``paths`` in a shell with the redirection ``shell``: its status
    and standard error."""
    args = [sys.executable, "-m", "labram", "predict", *paths, "--checkpoint", str(ckpt),
            "--corpus", "folder", "--mains", "50", "--device", "cpu", *extra]  # fmt: skip
    line = " ".join(f"'{a}'" for a in args) + f" {shell}"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    run = subprocess.run(["sh", "-c", line], capture_output=True, env=env, timeout=300)
    return run.returncode, run.stderr.decode()


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
@pytest.mark.parametrize("form", [(), ("--csv",), ("--json",), ("--windows", "--csv")])
def test_results_to_a_full_device_are_one_line_naming_it(
    files: tuple[Path, list[str]], form: tuple[str, ...]
) -> None:
    ckpt, paths = files
    status, err = _predict(ckpt, paths[:1], *form, shell="> /dev/full")
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert status == 2, err
    assert errors == [errors[0]] and errors[0].startswith("error: /dev/full (standard output): ")
    assert "No space left on device" in errors[0] and "Traceback" not in err


@pytest.mark.parametrize("form", [(), ("--csv",)])
def test_results_lost_to_a_closed_output_are_said_though_a_file_was_skipped(
    files: tuple[Path, list[str]], form: tuple[str, ...]
) -> None:
    ckpt, paths = files
    status, err = _predict(ckpt, paths, *form, shell=">&-")
    assert status == 2, err
    assert "skipped: " in err and "short.edf" in err  # (the skip is still said)
    assert "the standard output was closed when labram started" in err


def test_the_partly_done_status_is_the_ingests() -> None:
    from eegprep._std_streams import EXIT_PARTLY_DONE
    from eegprep.ingestion.driver import EXIT_SOME_FAILED

    assert EXIT_PARTLY_DONE == EXIT_SOME_FAILED
