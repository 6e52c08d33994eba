"""A run's JSON results carry a checksum that ``labram report`` checks: a flipped bit in a digit
(still JSON: ``0.8125`` read as ``0.8135``) is one line naming the file, never a changed number
on the page. Before, ``metrics.json``, ``results.json`` and ``summary.json`` held none, and
the report showed the changed value."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from eegprep.base import strict_json
from eegprep.base.sealed_json import KEY
from labram.checkpoints.layouts import save_ours
from labram.commands import labram_cli
from labram.model.config import model_config
from labram.model.mem import LaBraMForMEM
from tests.labram.training_stores import write_pretrain_store, write_tuab_like

pytestmark = pytest.mark.slow

TRAIN = ["--size", "tiny", "--batch-size", "8", "--workers", "0", "--device", "cpu"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("sums")
    torch.manual_seed(0)
    save_ours(LaBraMForMEM(model_config("tiny")), root / "model.pt")
    tuab = write_tuab_like(root / "tuab.zarr", n_train=6, n_eval=4, seconds=20)
    pre = write_pretrain_store(root / "pre.zarr", n_subjects=3, seconds=60)
    commands = {
        "ft": ["finetune", "--store", tuab, "--task", "tuab", "--init", str(root / "model.pt"),
               "--max-steps", "2", *TRAIN, "--out", str(root / "ft")],
        "tok": ["tokenizer", "--store", pre, "--max-steps", "2", *TRAIN, "--out",
                str(root / "tok")],
    }  # fmt: skip
    for args in commands.values():
        res = CliRunner().invoke(labram_cli, ["-q", *args])
        assert res.exit_code == 0, res.output
    return {"ft": root / "ft", "tok": root / "tok"}


@pytest.mark.parametrize(
    ("run", "name"),
    [("ft", "results.json"), ("ft", "seed0/metrics.json"), ("tok", "summary.json")],
)
def test_a_digit_flipped_in_a_result_file_is_one_line_naming_it(
    runs: dict[str, Path], tmp_path: Path, run: str, name: str
) -> None:
    folder = shutil.copytree(runs[run], tmp_path / run)
    path = folder / name
    text = path.read_text()
    assert KEY in strict_json.loads(text)
    digit = re.search(r'": -?\d*\.?(\d)', text)  # the first number's first digit
    assert digit is not None
    at = digit.start(1)
    flipped = text[:at] + chr(ord(text[at]) ^ 0x01) + text[at + 1 :]  # 2 <-> 3: still JSON
    path.write_text(flipped)
    assert strict_json.loads(flipped) != strict_json.loads(text)
    res = CliRunner().invoke(labram_cli, ["report", str(folder)])
    assert res.exit_code == 2, res.output
    assert res.output.count("error: ") == 1 and "Traceback" not in res.output
    assert f"error: {path}: its entries do not match its {KEY}" in res.output
    path.write_text(text)  # as written: read as before
    res = CliRunner().invoke(labram_cli, ["report", str(folder)])
    assert res.exit_code == 0, res.output


def test_a_result_file_without_a_checksum_is_read_as_before(
    runs: dict[str, Path], tmp_path: Path
) -> None:
    """An earlier labram's files (or one written by hand) have none: read unchecked."""
    folder = shutil.copytree(runs["ft"], tmp_path / "ft")
    for path in (folder / "results.json", folder / "seed0" / "metrics.json"):
        doc = strict_json.loads(path.read_text())
        del doc[KEY]
        path.write_text(strict_json.dumps(doc, indent=2))
    res = CliRunner().invoke(labram_cli, ["report", str(folder)])
    assert res.exit_code == 0, res.output
