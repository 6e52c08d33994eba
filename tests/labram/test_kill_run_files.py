"""SIGKILL just before the rename of each file a labram command writes whole (a run folder's
JSON, CSV and Markdown files, an embedding store's bookkeeping), then the same command again
(``--resume`` for training): it completes, gives the results of a run never killed, and leaves
no temporary file behind.

Before, only checkpoints, pages and plots removed what a killed write of them had left: a
``metrics.json.tmp-1f0c9a2e``, ``results.json.tmp-...``, ``predictions.csv.tmp-...`` (as large
as the predictions), ``splits.json.tmp-...``, ``summary.json.tmp-...`` or an embedding store's
``_labram/progress/rank0.json.tmp-...`` stayed in the folder for good. The child kills itself
at the chosen ``os.replace`` (:mod:`tests.safety.killing`): no clean-up runs after it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

from eegprep.base import strict_json
from labram.checkpoints.layouts import save_ours
from labram.model.config import model_config
from labram.model.mem import LaBraMForMEM
from tests.labram.training_stores import write_pretrain_store, write_tuab_like
from tests.safety.killing import KILLED, run, run_killed

pytestmark = pytest.mark.slow

TRAIN = ["--size", "tiny", "--batch-size", "8", "--workers", "0", "--device", "cpu"]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return run_inputs(tmp_path_factory.mktemp("killrun"))


def run_inputs(root: Path) -> dict[str, Path]:
    """A tiny model (``model``), a pre-training store (``pre``) and a TUAB-like one (``tuab``)
    under ``root``."""
    torch.manual_seed(0)
    save_ours(LaBraMForMEM(model_config("tiny")), root / "model.pt")
    return {
        "model": root / "model.pt",
        "pre": Path(write_pretrain_store(root / "pre.zarr", n_subjects=3, seconds=60)),
        "tuab": Path(write_tuab_like(root / "tuab.zarr", n_train=6, n_eval=4, seconds=20)),
    }


def _finetune(inputs: dict[str, Path], out: Path) -> list[str]:
    return ["-q", "finetune", "--store", str(inputs["tuab"]), "--task", "tuab", "--init",
            str(inputs["model"]), "--max-steps", "4", "--ckpt-every", "2", *TRAIN, "--out",
            str(out)]  # fmt: skip


def _pretrain(inputs: dict[str, Path], out: Path) -> list[str]:
    return ["-q", "pretrain", "--store", str(inputs["pre"]), "--tokenizer-max-steps", "2",
            "--tokenizer-batch-size", "8", "--max-steps", "2", "--ckpt-every", "2", *TRAIN,
            "--out", str(out)]  # fmt: skip


def _embed(inputs: dict[str, Path], out: Path) -> list[str]:
    return ["-q", "embed", "--store", str(inputs["pre"]), "--checkpoint", str(inputs["model"]),
            "--out", str(out), "--chunk-windows", "2", "--device", "cpu"]  # fmt: skip


def _temporaries(out: Path) -> list[str]:
    return sorted(str(p.relative_to(out)) for p in out.rglob("*.tmp-*"))


def _killed_then_again(args: list[str], out: Path, name: str, again: list[str]) -> None:
    """Kill the command before it renames its file ``name`` into place, then run ``again``."""
    killed = run_killed(args, out, ("replace", rf"-> {re.escape(name)}$"), command="labram")
    assert killed.returncode == KILLED, killed.stderr[-2000:]
    assert _temporaries(out), "the kill left no temporary file: it was not before the rename"
    done = run(again, command="labram")
    assert done.returncode == 0, done.stderr[-2000:]
    assert (out / name).is_file()
    assert _temporaries(out) == []


@pytest.fixture(scope="module")
def finetuned(inputs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ref") / "ft"
    done = run(_finetune(inputs, out), command="labram")
    assert done.returncode == 0, done.stderr[-2000:]
    return out


@pytest.mark.parametrize(
    "name",
    ["splits.json", "seed0/config.json", "seed0/predictions.csv", "seed0/metrics.json",
     "results.json", "results.md", "command.txt"],
)  # fmt: skip
def test_finetune_killed_before_a_file_s_rename_resumes_and_leaves_no_temporary(
    inputs: dict[str, Path], finetuned: Path, tmp_path: Path, name: str
) -> None:
    out = tmp_path / "ft"
    args = _finetune(inputs, out)
    _killed_then_again(args, out, name, [*args, "--resume"])
    got = strict_json.loads((out / "results.json").read_text())
    want = strict_json.loads((finetuned / "results.json").read_text())
    assert got["test"] == want["test"]
    assert (out / "seed0" / "predictions.csv").read_bytes() == (
        finetuned / "seed0" / "predictions.csv"
    ).read_bytes()


@pytest.mark.parametrize(
    "name", ["excluded_subjects.json", "tokenizer/summary.json", "mem/summary.json"]
)
def test_pretrain_killed_before_a_file_s_rename_resumes_and_leaves_no_temporary(
    inputs: dict[str, Path], tmp_path: Path, name: str
) -> None:
    out = tmp_path / "pt"
    args = _pretrain(inputs, out)
    _killed_then_again(args, out, name, [*args, "--resume"])
    assert (out / "mem" / "model.pt").is_file()


@pytest.mark.parametrize("name", ["_labram/embed.json", "_labram/progress/rank0.json"])
def test_embed_killed_before_a_file_s_rename_finishes_and_leaves_no_temporary(
    inputs: dict[str, Path], tmp_path: Path, name: str
) -> None:
    out = tmp_path / "emb.zarr"
    args = _embed(inputs, out)
    _killed_then_again(args, out, name, args)
    assert strict_json.loads((out / name).read_text())


def test_convert_flushes_its_output_before_the_rename(
    inputs: dict[str, Path], tmp_path: Path
) -> None:
    """``labram convert`` to a ``.pt`` or ``.pth`` renamed its temporary file into place without
    flushing it to the disk (every other weights file is): a power cut could leave the new
    name holding no bytes. Its temporary file is now synced before the rename."""
    from tests.safety.killing import write_calls

    out = tmp_path / "o"
    out.mkdir()
    calls = write_calls(["convert", str(inputs["model"]), str(out / "c.pth")], out,
                        tmp_path / "log", command="labram")  # fmt: skip
    names = [re.sub(r"\.tmp-[0-9a-f]{8}", ".tmp-X", c) for c in calls]
    assert "fsync c.pth.tmp-X" in names, names
    assert names.index("fsync c.pth.tmp-X") < names.index("replace c.pth.tmp-X -> c.pth")
