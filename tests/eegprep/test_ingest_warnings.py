"""``eegprep ingest`` prints its warnings, each naming its file, not only their count.

Before: ``folder: 3 files found, 3 ingested, ..., 3 warnings; ...`` and nothing else; the
texts (``channel 'C3' holds no samples (0 per record): left out``) were only in the report
JSON.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from cli import eegprep_cli
from eegprep.testing.edf_writer import write_edf
from tests.eegprep.test_empty_channels import _with_empty_signal

WARNED = "channel 'C3' holds no samples (0 per record): left out"


def _corpus(src: Path, n: int) -> list[str]:
    """``n`` EDFs (10 s, 3 channels) each with an empty signal C3: one warning each."""
    src.mkdir()
    rng = np.random.default_rng(1)
    names = [f"rec{i}.edf" for i in range(n)]
    for name in names:
        write_edf(
            src / name, list(rng.normal(0, 20, (3, 256 * 10))), labels=["Fp1", "Fp2", "Cz"],
            sfreqs=256, physical_min=-500.0, physical_max=500.0,
        )  # fmt: skip
        _with_empty_signal(src / name, 1, "C3")
    return names


def _ingest(src: Path, out: Path, *first: str) -> tuple[int, list[str]]:
    args = [*first, "ingest", "folder", "--src", str(src), "--out", str(out), "--workers", "0",
            "--mains", "50"]  # fmt: skip
    res = CliRunner().invoke(eegprep_cli, args)
    return res.exit_code, res.output.splitlines()


def test_each_warning_is_printed_naming_its_file(tmp_path: Path) -> None:
    names = _corpus(tmp_path / "src", 2)
    code, lines = _ingest(tmp_path / "src", tmp_path / "s.zarr")
    assert code == 0, lines
    warned = [x for x in lines if x.startswith("warning: ")]
    assert warned == [f"warning: {name}: {WARNED}" for name in names]
    assert any("2 warnings;" in x for x in lines)  # (the summary still counts them)


def test_quiet_leaves_them_out(tmp_path: Path) -> None:
    _corpus(tmp_path / "src", 1)
    code, lines = _ingest(tmp_path / "src", tmp_path / "s.zarr", "-q")
    assert code == 0 and not [x for x in lines if x.startswith("warning")], lines


def test_many_are_capped_and_the_rest_counted_with_the_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import eegprep.cli_group as group

    monkeypatch.setattr(group, "WARNINGS_SHOWN", 2)
    names = _corpus(tmp_path / "src", 3)
    code, lines = _ingest(tmp_path / "src", tmp_path / "s.zarr")
    assert code == 0, lines
    warned = [x for x in lines if x.startswith("warning: ")]
    [report] = [x.removeprefix("report: ") for x in lines if x.startswith("report: ")]
    assert warned[:2] == [f"warning: {name}: {WARNED}" for name in names[:2]]
    assert warned[2:] == [f"warning: ... and 1 more (each is in the report {report}; -v shows "
                          "them all)"]  # fmt: skip
    in_report = json.loads(Path(report).read_text(encoding="utf-8"))["warnings"]
    assert sorted(in_report) == names
    code, lines = _ingest(tmp_path / "src", tmp_path / "t.zarr", "-v")
    assert len([x for x in lines if x.startswith("warning: rec")]) == 3
