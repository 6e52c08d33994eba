"""Every command that goes on past its items' errors, stopped by a signal a library swallowed.

A SIGHUP (SIGTERM, Ctrl-C) raised while a module is being imported inside the per-item work can
be caught and dropped by the library on its way up, leaving the module half made; the next use
fails, and the command's per-item handler takes that for the item's own error. `labram
predict` then said `skipped: rec.edf: internal error AttributeError: module 'numpy' has no
attribute 'matrix'` and exited 3 (found by tests/labram/test_interrupt_sweep.py's predict case,
SIGHUP after 0.35 s); `eegprep validate` would have listed damage the store does
not have and exited 1, `eegprep ingest` counted files failed, `labram embed` recordings left
out. Each now ends as a stopped command: its one ``error: stopped`` line and 128 + the
signal's number, before any summary of items that the signal, not the input, broke. The group
does the same for any status but a signal's own, for a command that has no such check.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner

from cli import eegprep_cli, labram_cli

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="no SIGHUP")


def _swallow_a_hangup() -> None:
    """A SIGHUP that arrives in the work and that a library catches and drops."""
    assert signal.getsignal(signal.SIGHUP) not in (signal.SIG_DFL, signal.SIG_IGN, None)
    try:
        os.kill(os.getpid(), signal.SIGHUP)
        for _ in range(1000):  # (the handler runs between bytecodes: raised in here)
            pass
    except BaseException:  # (the library swallowing it, as this test plays one)
        pass


def _damaged_store(swallow: bool) -> Any:
    def check_store(store: str) -> SimpleNamespace:
        if swallow:
            _swallow_a_hangup()
        problem = "recordings/r1/data: chunk 0 fails its checksum (No module named 'numpy.ma')"
        return SimpleNamespace(
            problems=[problem], notes=[], checked=1, retired=0, retired_problems=[]
        )

    return check_store


def _results(swallow: bool, result: Any) -> Any:
    def run(*args: Any, **kwargs: Any) -> Any:
        if swallow:
            _swallow_a_hangup()
        return result

    return run


def _invoke(group: Any, args: list[object]) -> tuple[int, str]:
    res = CliRunner().invoke(group, [str(a) for a in args])
    return res.exit_code, res.output


def _stopped(code: int, output: str) -> None:
    assert code == 128 + signal.SIGHUP, output
    assert output.strip().splitlines() == [output.strip().splitlines()[0]], output
    assert output.startswith("error: stopped (SIGHUP)"), output


@pytest.mark.parametrize("swallow", [True, False])
def test_validate_reports_the_stop_not_damage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, swallow: bool
) -> None:
    monkeypatch.setattr("eegprep.store.validate.check_store", _damaged_store(swallow))
    (tmp_path / "s.zarr").mkdir()
    code, output = _invoke(eegprep_cli, ["validate", tmp_path / "s.zarr"])
    if swallow:
        _stopped(code, output)
        assert "checksum" not in output, output
    else:  # the same result with no signal: the damage it reports
        assert code == 1 and "fails its checksum" in output, output


def test_ingest_reports_the_stop_not_failed_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = SimpleNamespace(exit_code=3, failed=["a.edf: internal error"], to_dict=dict)
    monkeypatch.setattr("eegprep.ingestion.driver.ingest", _results(True, report))
    (tmp_path / "src").mkdir()
    args = ["ingest", "tuh", "--src", tmp_path / "src", "--out", tmp_path / "s.zarr", "--json"]
    _stopped(*_invoke(eegprep_cli, args))


def test_embed_reports_the_stop_not_recordings_left_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    left = {"r1": "r1: samples unreadable (internal error)"}
    res = {"recordings_left_out": left, "windows_left_out": 3, "records_left_out": 0}
    monkeypatch.setattr("labram.stages.embed.embed", _results(True, res))
    (tmp_path / "s.zarr").mkdir()
    (tmp_path / "model.pt").write_bytes(b"")
    args = ["embed", "--store", tmp_path / "s.zarr", "--checkpoint", tmp_path / "model.pt"]
    _stopped(
        *_invoke(labram_cli, [*args, "--out", tmp_path / "e.zarr", "--device", "cpu", "--json"])
    )


def test_the_group_reports_the_stop_for_any_status_but_a_signals(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A command with no check of its own that exits 3 (or 1, 2) after a swallowed signal."""

    def check_store(store: str) -> None:
        _swallow_a_hangup()
        sys.exit(3)

    monkeypatch.setattr("eegprep.store.validate.check_store", check_store)
    (tmp_path / "s.zarr").mkdir()
    _stopped(*_invoke(eegprep_cli, ["validate", tmp_path / "s.zarr"]))


def test_predict_reports_the_stop_not_skipped_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    line = "rec.edf: internal error AttributeError: module 'numpy' has no attribute 'matrix'"
    res = {"failed": [line], "recordings": [], "duplicates": []}
    monkeypatch.setattr("labram.stages.predict.predict_files", _results(True, res))
    rec, ckpt = tmp_path / "rec.edf", tmp_path / "best.pt"
    rec.write_bytes(b"")
    ckpt.write_bytes(b"")
    code, output = _invoke(labram_cli, ["predict", rec, "--checkpoint", ckpt, "--device", "cpu"])
    _stopped(code, output)
    assert "skipped" not in output, output
