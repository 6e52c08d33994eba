"""A ``last.pt`` whose counters say where the run stands (step, epoch, the loader's place, the
best score so far) hold what no run writes: one line on resume, not an internal error."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch

from labram.checkpoints.safe_read import read_checkpoint
from tests.labram.cli_runs import one_error, run_labram, tuab_finetune
from tests.labram.test_run_guards import TINY


@pytest.fixture(scope="module")
def run(tuab: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    out = tmp_path_factory.mktemp("r") / "ft"
    args = [*tuab_finetune(tuab, TINY), "--out", str(out)]
    code, output = run_labram(*args)
    assert code == 0, output
    return out, args


def _set(*keys: str, to: Any) -> Callable[[dict[str, Any]], None]:
    def change(ck: dict[str, Any]) -> None:
        held = ck
        for key in keys[:-1]:
            held = held[key]
        held[keys[-1]] = to

    return change


CASES = {
    "negative step": (_set("step", to=-5), "its step is -5, not a count"),
    "step of no int": (_set("step", to=True), "its step is True, not a count"),
    "huge loader epoch": (_set("loader", "epoch", to=10**30), "its loader epoch is 1000"),
    "negative batch": (_set("loader", "batch_in_epoch", to=-4), "batch_in_epoch is -4"),
    "batch past the epoch": (
        _set("loader", "batch_in_epoch", to=10**6),
        "is batch 1000000, but the epoch has",
    ),
    "best score of text": (
        _set("extra", "best", to="x"),
        "its best validation score is 'x', not a number",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_counters_no_run_writes_are_one_line(
    case: str, run: tuple[Path, list[str]], tmp_path: Path
) -> None:
    out, args = run
    copy = tmp_path / "ft"
    shutil.copytree(out, copy)
    last = copy / "seed0" / "last.pt"
    ck = read_checkpoint(last)
    change, says = CASES[case]
    change(ck)
    torch.save(ck, last)
    more = [str(copy) if a == str(out) else "4" if a == "2" else a for a in args]
    one_error(*run_labram(*more, "--resume"), "cannot resume", says, "a damaged or crafted")
