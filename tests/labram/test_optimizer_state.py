"""A ``last.pt`` whose optimiser state does not fit the model: one line on resume, not a crash
at the first step or a NaN loss blamed on the learning rate."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch

from labram.checkpoints.errors import CheckpointError
from labram.checkpoints.safe_read import read_checkpoint
from labram.model.classifier import LaBraMClassifier
from labram.model.config import model_config
from labram.train.config import train_config
from labram.train.optim import make_optimizer
from labram.train.optimizer_state import load_optimizer_state
from tests.labram.cli_runs import one_error, run_labram, tuab_finetune
from tests.labram.test_run_guards import TINY


def _trained() -> tuple[LaBraMClassifier, torch.optim.Optimizer]:
    torch.manual_seed(0)
    model = LaBraMClassifier(model_config("tiny"), 2)
    opt = make_optimizer(model, train_config("finetune", "tiny"), 1e-3)
    x = torch.randn(2, 3, 2, 200)
    chans = torch.arange(1, 4)
    model(x, chans).sum().backward()
    opt.step()
    return model, opt


def _first(sd: dict[str, Any]) -> dict[str, Any]:
    return sd["state"][0]


MUTATIONS: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "moment of one element": (
        lambda sd: _first(sd).__setitem__("exp_avg", torch.zeros(1)),
        "exp_avg of backbone.patch_embed.conv1.weight has shape (1,)",
    ),
    "moment of another shape": (
        lambda sd: _first(sd).__setitem__("exp_avg_sq", torch.zeros(3, 5)),
        "exp_avg_sq of backbone.patch_embed.conv1.weight has shape (3, 5)",
    ),
    "integer moment": (
        lambda sd: _first(sd).__setitem__("exp_avg", _first(sd)["exp_avg"].long()),
        "is int64, not floating point",
    ),
    "negative step": (
        lambda sd: _first(sd).__setitem__("step", torch.tensor(-5.0)),
        "step of backbone.patch_embed.conv1.weight is -5, not a count of steps",
    ),
    "fractional step": (
        lambda sd: _first(sd).__setitem__("step", torch.tensor(2.5)),
        "is 2.5, not a count of steps",
    ),
    "negative mean of squares": (
        lambda sd: _first(sd).__setitem__("exp_avg_sq", -torch.ones_like(_first(sd)["exp_avg"])),
        "holds negative values",
    ),
}


@pytest.mark.parametrize("case", sorted(MUTATIONS))
def test_a_state_that_does_not_fit_the_model_is_one_line(case: str) -> None:
    model, opt = _trained()
    saved = copy.deepcopy(opt.state_dict())
    mutate, says = MUTATIONS[case]
    mutate(saved)
    fresh = make_optimizer(model, train_config("finetune", "tiny"), 1e-3)
    with pytest.raises(CheckpointError, match="cannot resume from it") as err:
        load_optimizer_state(fresh, saved, model=model, source="run/last.pt")
    assert str(err.value).startswith("run/last.pt: ")
    assert says in str(err.value)
    assert not fresh.state  # nothing of it taken


def test_a_sound_state_loads_and_the_run_keeps_its_own_hyperparameters() -> None:
    model, opt = _trained()
    saved = copy.deepcopy(opt.state_dict())
    for group in saved["param_groups"]:  # (what a crafted file would change)
        group.update(betas=(2.0, 5.0), eps=-1.0, weight_decay=1e6, lr_scale=float("nan"))
    fresh = make_optimizer(model, train_config("finetune", "tiny"), 1e-3)
    own = [{k: v for k, v in g.items() if k != "params"} for g in fresh.param_groups]
    load_optimizer_state(fresh, saved, model=model, source="last.pt")
    assert [{k: v for k, v in g.items() if k != "params"} for g in fresh.param_groups] == own
    for key, state in opt.state_dict()["state"].items():
        for name, value in state.items():
            assert torch.equal(fresh.state_dict()["state"][key][name], value)


def test_resume_from_such_a_last_pt_is_one_line(tuab: str, tmp_path: Path) -> None:
    out = tmp_path / "ft"
    args = [*tuab_finetune(tuab, TINY), "--out", out]
    code, output = run_labram(*args)
    assert code == 0, output
    last = out / "seed0" / "last.pt"
    ck = read_checkpoint(last)
    next(iter(ck["optimizer"]["state"].values()))["exp_avg"] = torch.zeros(1)
    torch.save(ck, last)
    more = [a if a != "2" else "4" for a in args]  # (--max-steps 4: it trains on)
    one_error(*run_labram(*more, "--resume"), f"{last}: cannot resume from it",
              "has shape (1,)")  # fmt: skip
