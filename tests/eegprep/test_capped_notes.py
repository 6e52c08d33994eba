"""Per-item notes and warnings are capped by kind in every command that prints them
(eegprep/cli_notes.py): 5 of each kind, then one line counting the rest; `-v` and `--json`
give them all."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
import zarr
from click.testing import CliRunner

from cli import eegprep_cli
from eegprep import open_store
from eegprep.cli_notes import SHOWN_PER_KIND, capped_by_kind, note_kind
from tests.labram.training_stores import write_pretrain_store
from tests.safety.corpus import ingest_folder, write_edf

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # numcodecs' zarr3 codecs

N = SHOWN_PER_KIND + 3


def test_lines_of_one_kind_differ_only_in_subject_numbers_quotes_and_details() -> None:
    a = "recordings/tuh/s1/zarr.json: zarr's consolidated metadata (4 nodes), added by zarr"
    b = "recordings/s22/zarr.json: zarr's consolidated metadata (stale: 1 (x)), added by zarr"
    assert note_kind(a) == note_kind(b)
    assert note_kind("g1: attribute 'k' added by another program") == note_kind(
        "g2: attributes 'a', 'b' added by another program"
    )
    assert note_kind(a) != note_kind("g1: holds no record")


def test_the_first_of_each_kind_are_kept_in_order_and_the_rest_counted() -> None:
    lines = [f"g{k}: same thing ({k} nodes)" for k in range(N)] + ["h: another thing"]
    capped = capped_by_kind(lines)
    assert capped.shown == [*lines[:SHOWN_PER_KIND], "h: another thing"]
    assert capped.more == [(lines[0], N - SHOWN_PER_KIND)]
    assert capped_by_kind(lines[:SHOWN_PER_KIND]).more == []


@pytest.fixture
def consolidated_groups(tmp_path: Path) -> Path:
    """A store of N recordings, each group holding zarr's consolidated metadata: N notes of
    one kind."""
    src, store = tmp_path / "src", tmp_path / "s.zarr"
    for k in range(N):
        write_edf(src, f"site/r{k}.edf", seed=k)
    assert ingest_folder(src, store).n_ingested == N
    for rec in open_store(str(store)).recordings:
        zarr.consolidate_metadata(str(store), path=rec.group)
    return store


def test_validate_prints_five_notes_of_a_kind_then_counts_the_rest(
    consolidated_groups: Path,
) -> None:
    """Before: one `note:` line per group, with no cap."""
    res = CliRunner().invoke(eegprep_cli, ["validate", str(consolidated_groups)])
    assert res.exit_code == 0, res.output
    notes = [line for line in res.output.splitlines() if line.startswith("note: ")]
    assert len(notes) == SHOWN_PER_KIND + 1, res.output
    assert notes[-1].startswith(f"note: ... and {N - SHOWN_PER_KIND} more like '")
    assert notes[-1].endswith("(-v shows them all)")
    assert res.output.splitlines()[-1] == f"{N} recordings checked, 0 problems"

    every = CliRunner().invoke(eegprep_cli, ["-v", "validate", str(consolidated_groups)])
    assert sum(line.startswith("note: ") for line in every.output.splitlines()) == N
    doc = json.loads(
        CliRunner().invoke(eegprep_cli, ["validate", "--json", str(consolidated_groups)]).output
    )
    assert len(doc["notes"]) == N


def test_stats_caps_its_notes_of_damaged_reports(tmp_path: Path) -> None:
    store = Path(write_pretrain_store(tmp_path / "s.zarr", n_subjects=1, seconds=4))
    reports = store / "_eegprep" / "reports"
    reports.mkdir(parents=True, exist_ok=True)
    for k in range(N):
        (reports / f"ingest-{k}-20260101T000000-1.json").write_text("{not json")
    res = CliRunner().invoke(eegprep_cli, ["stats", str(store)])
    notes = [line for line in res.output.splitlines() if line.startswith("note: ")]
    assert len(notes) == SHOWN_PER_KIND + 1, res.output
    assert f"... and {N - SHOWN_PER_KIND} more like" in notes[-1], notes


def test_predict_caps_its_warnings_of_a_kind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each recording's warnings (a flat channel, ...) were one line each for every file."""
    import labram.stages.predict
    from labram.commands import labram_cli

    def predicted(files: list[str], *args: object, **kwargs: object) -> dict[str, object]:
        recs = [
            {"file": f, "n_windows": 1, "probabilities": {"a": 0.5, "b": 0.5}, "label": "a",
             "warnings": [f"channel T{k} flat (0.0 uV) for the whole recording"]}
            for k, f in enumerate(files)
        ]  # fmt: skip
        return {"classes": ["a", "b"], "recordings": recs, "failed": [], "duplicates": []}

    monkeypatch.setattr(labram.stages.predict, "predict_files", predicted)
    (tmp_path / "c.pt").write_bytes(b"")
    files = [str(tmp_path / f"r{k}.edf") for k in range(N)]
    res = CliRunner().invoke(
        labram_cli, ["predict", *files, "--checkpoint", str(tmp_path / "c.pt")]
    )
    assert res.exit_code == 0, res.output
    warned = [line for line in res.output.splitlines() if line.startswith("warning: ")]
    assert len(warned) == SHOWN_PER_KIND + 1, res.output
    assert f"... and {N - SHOWN_PER_KIND} more like" in warned[-1]
    assert sum(line.endswith("(1 window)") for line in res.output.splitlines()) == N


def _warning_group() -> click.Group:
    """A group as both command lines make theirs, with one command that warns and logs N
    times of one kind."""
    import logging
    import warnings

    from eegprep.cli_group import OneLineErrors, set_verbosity, verbosity_options

    @click.group(cls=OneLineErrors)
    @verbosity_options
    @click.pass_context
    def group(ctx: click.Context, verbose: int, quiet: bool) -> None:
        set_verbosity(ctx, verbose, quiet)

    @group.command()
    @click.argument("run")
    def warn(run: str) -> None:  # (RUN: Python shows a warning's text once per process)
        for k in range(N):
            warnings.warn(f"recording r{k}: channel T{k} flat in run {run}", RuntimeWarning,
                          stacklevel=1)  # fmt: skip
            logging.getLogger("eegprep.x").warning("store s%d.zarr given twice", k)
        warnings.warn("another kind", RuntimeWarning, stacklevel=1)

    return group


@pytest.mark.filterwarnings("default::RuntimeWarning")
def test_python_warnings_and_log_warnings_are_capped_by_kind(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Before: each was its own line, without end."""
    import logging

    monkeypatch.setattr(logging.root, "handlers", [])  # (as in a command: pytest adds its own)
    res = CliRunner().invoke(_warning_group(), ["warn", "1"])
    lines = res.output.splitlines()
    warned = [line for line in lines if line.startswith("warning: recording")]
    logged = [line for line in lines if line.startswith("WARNING eegprep.x: store")]
    assert len(warned) == len(logged) == SHOWN_PER_KIND, res.output
    assert "warning: another kind" in lines
    more = N - SHOWN_PER_KIND
    assert (
        f"warning: ... and {more} more like 'recording r0: channel T0 flat in run 1' "
        "(-v shows them all)" in lines
    )
    assert (
        f"WARNING: ... and {more} more like 'store s0.zarr given twice' (-v shows them all)"
        in lines
    )
    monkeypatch.setattr(logging.root, "handlers", [])
    every = CliRunner().invoke(_warning_group(), ["-v", "warn", "2"]).output
    assert every.count("warning: recording") == N and "more like" not in every, every
    assert every.count("WARNING eegprep.x: store") == N
