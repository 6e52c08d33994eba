"""A channel no scalp can produce is refused, not stored.

One damaged value in a float source (``1e30`` in a CSV cell; CSV, MATLAB float arrays, EEGLAB
and FIF store floats with no stated range to check it against) was ingested with exit status 0
and no warning: the filters spread it over the whole channel (every stored sample above 1e6 uV,
up to 3e28 uV) and the median-RMS unit check, which looks at all channels together, did not see
one. Now a channel whose source states no range and whose RMS after filtering is above 1 V
refuses the recording in one line naming the file and the channel, in an ingest and in memory
(`labram predict`); the rest of the corpus goes on. (A stated range is checked by its reader:
EDF refuses one beyond 1e15 uV; a channel within it is stored as the header says.) numpy's
overflow warning (the float32 sums of squares of such a channel) no longer reaches the terminal
either.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from cli import eegprep_cli
from eegprep import open_store
from eegprep.base.errors import SourceError
from eegprep.corpus.manifest import load_manifest
from eegprep.ingestion.driver import IngestConfig, ingest
from eegprep.ingestion.inmemory import read_preprocessed
from eegprep.pipeline.recipe import Recipe

CHANNELS = ["Fp1", "Fp2", "F3", "F4", "C3", "C4", "P3", "P4", "O1", "O2", "Fz", "Cz", "Pz"]


def _table(path: Path, x: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = "".join(
        f"s_{i}," + ",".join(f"{v:.6g}" for v in row) + "\n" for i, row in enumerate(x.T)
    )
    path.write_text("id," + ",".join(CHANNELS) + "\n" + rows)


@pytest.mark.parametrize("mode", ["fast", "mne"])
@pytest.mark.parametrize("value", [1e30, 1e12])
def test_one_absurd_value_in_a_float_source_refuses_the_recording(
    tmp_path: Path, mode: str, value: float
) -> None:
    rng = np.random.default_rng(0)
    src = tmp_path / "gl"
    good = rng.standard_normal((len(CHANNELS), 500 * 20)) * 200
    bad = good.copy()
    bad[2, 4000] = value  # F3
    _table(src / "train" / "subj1_series1_data.csv", bad)
    _table(src / "train" / "subj1_series2_data.csv", good)
    out = tmp_path / "s.zarr"
    cfg = IngestConfig(workers=0, progress=False, recipe=Recipe(mode=mode))  # type: ignore[arg-type]
    report = ingest("grasp_lift", src=src, out=out, config=cfg)
    assert len(report.failed) == 1 and report.n_ingested == 1, report.failed
    line = report.failed[0]
    assert "subj1_series1_data.csv" in line and "channel F3: RMS up to" in line, line
    assert "beyond any scalp potential" in line and "\n" not in line
    store = open_store(out)
    assert [r.id for r in store.recordings] == ["grasp_lift/subj1_series2"]
    assert np.abs(store.read("grasp_lift/subj1_series2")).max() < 1e4
    with pytest.raises(SourceError, match=r"channel F3: RMS up to .* beyond any scalp potential"):
        read_preprocessed(src / "train" / "subj1_series1_data.csv", load_manifest("grasp_lift"))


def test_the_command_prints_one_line_for_it(tmp_path: Path) -> None:
    bad = np.random.default_rng(1).standard_normal((len(CHANNELS), 500 * 10)) * 200
    bad[0, 3000] = 1e30  # its float32 square overflows
    _table(tmp_path / "gl" / "train" / "subj1_series1_data.csv", bad)
    args = ["ingest", "grasp_lift", "--src", str(tmp_path / "gl"), "--out", str(tmp_path / "s")]
    result = CliRunner().invoke(eegprep_cli, [*args, "--workers", "0"])
    assert result.exit_code == 3, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        "skipped: train/subj1_series1_data.csv: channel FP1"
    )


@pytest.mark.parametrize("encoding", ["quantized", "float16"])
def test_a_named_encoding_refuses_a_loud_channel_as_loud(tmp_path: Path, encoding: str) -> None:
    """Under a named encoding the line was the encoding's (``samples reach 6.679e+29 uV,
    beyond the quantized encoding's ...: ingest with --encoding float32``), whose advice led to
    the loud channel's refusal on the next run: the whole recording's checks come first."""
    bad = np.random.default_rng(2).standard_normal((len(CHANNELS), 500 * 20)) * 200
    bad[2, 4000] = 1e30  # F3
    path = tmp_path / "gl" / "train" / "subj1_series1_data.csv"
    _table(path, bad)
    recipe = Recipe(encoding=encoding)  # type: ignore[arg-type]
    cfg = IngestConfig(workers=0, progress=False, recipe=recipe)
    report = ingest("grasp_lift", src=tmp_path / "gl", out=tmp_path / "s.zarr", config=cfg)
    (line,) = report.failed
    assert "channel F3: RMS up to" in line and "beyond any scalp potential" in line, line
    assert "--encoding float32" not in line
    with pytest.raises(SourceError, match=r"channel F3: RMS up to .* beyond any scalp potential"):
        read_preprocessed(path, load_manifest("grasp_lift"), recipe=recipe)
