"""`labram predict` stopped by a signal that a library swallowed on its way up.

A SIGHUP (or SIGTERM, Ctrl-C) that came while a module was being imported inside the per-file
work raised there and was swallowed, leaving the module half made (numpy without ``matrix``);
the next use of it failed, and predict's per-file handler took that for the file's own error:
``skipped: rec.edf: internal error AttributeError: module 'numpy' has no attribute 'matrix'``,
a count line, exit 3, as if the file were bad and no signal had come (found by
tests/labram/test_interrupt_sweep.py's predict case, SIGHUP after 0.35 s). The command now
ends as a stopped one: its one ``error: stopped`` line and 128 + the signal's number.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import pytest

from tests.labram.cli_runs import run_labram


def _swallowing(*args: Any, **kwargs: Any) -> dict[str, Any]:
    """``predict_files`` meeting a SIGHUP that a library swallows, then failing the file on
    the damage it left."""
    assert signal.getsignal(signal.SIGHUP) not in (signal.SIG_DFL, signal.SIG_IGN, None)
    try:
        os.kill(os.getpid(), signal.SIGHUP)
        for _ in range(1000):  # (the handler runs between bytecodes: raised in here)
            pass
    except BaseException:  # (the library swallowing it, as this test plays one)
        pass
    line = "rec.edf: internal error AttributeError: module 'numpy' has no attribute 'matrix'"
    return {"failed": [line], "recordings": [], "duplicates": []}


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="no SIGHUP")
def test_a_swallowed_signal_stops_predict_instead_of_skipping_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("labram.stages.predict.predict_files", _swallowing)
    rec, ckpt = tmp_path / "rec.edf", tmp_path / "best.pt"
    rec.write_bytes(b"")
    ckpt.write_bytes(b"")
    code, output = run_labram("predict", rec, "--checkpoint", ckpt, "--device", "cpu")
    assert code == 128 + signal.SIGHUP, output
    assert output.startswith("error: stopped (SIGHUP)"), output
    assert len(output.strip().splitlines()) == 1 and "skipped" not in output, output
