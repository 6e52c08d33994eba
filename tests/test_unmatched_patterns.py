"""A path argument that is a shell pattern which matched no file (``labram predict *.edf`` in a
folder without one: bash passes ``*.edf`` on as it is) says so in its one line.

Each said "no such file" (``labram predict``'s ``skipped:`` line, a checkpoint, a manifest, a
click path), "no such run folder" (``labram report``), "corpus folder not found" (``eegprep
ingest --src``), or, for a store, "no eegprep store here; create one with `eegprep ingest CORPUS
--out s*.zarr`", advice to make a store named by the pattern itself.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from eegprep.base.path_limits import unmatched_pattern
from eegprep.cli_group import shown_line
from eegprep.testing.edf_writer import write_edf

SAID = "a shell pattern that matched no file"


@pytest.mark.parametrize(
    ("path", "pattern"),
    [("*.edf", True), ("runs/*/best.pt", True), ("rec?.edf", True), ("rec[0-9].edf", True),
     ("rec.edf", False), ("a[b.edf", False), ("runs/seed0/best.pt", False)],
)  # fmt: skip
def test_a_pattern_is_told_from_a_name(path: str, pattern: bool) -> None:
    assert (SAID in unmatched_pattern(path)) is pattern
    assert pattern or unmatched_pattern(path) == ""


def _cli(group: str, args: list[str]) -> tuple[int, str]:
    from cli import eegprep_cli, labram_cli

    run = CliRunner().invoke(labram_cli if group == "labram" else eegprep_cli, args)
    return run.exit_code, run.output


@pytest.mark.parametrize(
    ("group", "args"),
    [("labram", ["report", "runs/*"]),
     ("labram", ["export", "runs/*/best.pt"]),
     ("labram", ["predict", "x.edf", "--checkpoint", "runs/*/best.pt"]),
     ("labram", ["embed", "--store", "s*.zarr", "--checkpoint", "b.pt", "--out", "e.zarr"]),
     ("eegprep", ["stats", "s*.zarr"]),
     ("eegprep", ["validate", "s[0-9].zarr"]),
     ("eegprep", ["ingest", "folder", "--mains", "50", "--src", "src*", "--out", "x.zarr"]),
     ("eegprep", ["ingest", "m*.toml", "--src", ".", "--out", "x.zarr"])],
)  # fmt: skip
def test_each_command_says_a_pattern_matched_nothing(
    group: str, args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    if "b.pt" in args:  # (a checkpoint that reads: the store is what is looked for)
        from tests.labram.test_predict_formats_equal_store import _classifier

        _classifier(tmp_path / "b.pt")
    status, out = _cli(group, args)
    errors = [line for line in out.splitlines() if line.startswith("error:")]
    assert status == 2 and len(errors) == 1, out
    assert SAID in errors[0] and "create one" not in errors[0]


def test_predict_says_it_on_the_files_line_and_predicts_the_others(tmp_path: Path) -> None:
    from labram.stages.predict import predict_files
    from tests.labram.test_predict_formats_equal_store import LABELS, SFREQ, X, _classifier

    ckpt = _classifier(tmp_path / "best.pt")
    edf = dict(labels=LABELS, sfreqs=SFREQ, physical_min=-500.0, physical_max=500.0)
    write_edf(tmp_path / "rec.edf", list(X), **edf)
    files = [str(tmp_path / "rec[0-9].edf"), str(tmp_path / "rec.edf"), str(tmp_path / "x.edf")]
    res = predict_files(files, ckpt, corpus="folder", mains=50.0, device="cpu")
    assert [r["file"] for r in res["recordings"]] == [files[1]]
    first, last = res["failed"]
    assert shown_line(first).endswith(f"rec[0-9].edf: no such file ({SAID}: the shell passed it "
                                      "on as it is)")  # fmt: skip
    assert last.endswith("x.edf: no such file")
