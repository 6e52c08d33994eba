"""An update that leaves a weight or an optimizer moment not finite stops every training
command with one line naming the stage and the step, before anything of it is saved or
validated: ``last.pt`` stays the last good checkpoint, and ``--resume`` continues from it.

The loss check of each step sees only what the loss uses: an update can poison the rest (a
learning rate times weight decay above 2 grows every weight, unused rows too; a moment that
is infinite freezes its parameter with a finite loss), which ``last.pt`` then held, or which
the save refused with a line naming a file and a weight, not the stage, the step or a fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from labram.train import loop
from labram.train.checkpoint import DivergedError, atomic_save, load_checkpoint
from tests.labram.cli_runs import fixed_windows, one_error, run_labram, tuab_finetune

TINY = ["--size", "tiny", "--max-steps", "6", "--batch-size", "4", "--device", "cpu",
        "--set", "token_budget=40", "--set", "max_channels=8", "--ckpt-every", "1"]  # fmt: skip


def _poison(monkeypatch: pytest.MonkeyPatch, *, update: int, what: str) -> None:
    """Each optimizer the loop makes sets one value of its first parameter (``weight``) or of
    that parameter's second moment (``moment``) to infinity right after its ``update``-th
    update (1 for the first)."""
    real = loop.make_optimizer

    def make(model: torch.nn.Module, cfg: Any, peak: float) -> torch.optim.Optimizer:
        opt = real(model, cfg, peak)
        step, calls = opt.step, [0]

        def poisoned(*args: Any, **kwargs: Any) -> Any:
            out = step(*args, **kwargs)
            calls[0] += 1
            if calls[0] == update:
                p = next(p for g in opt.param_groups for p in g["params"])
                with torch.no_grad():
                    (p if what == "weight" else opt.state[p]["exp_avg_sq"]).view(-1)[0] = float(
                        "inf"
                    )
            return out

        opt.step = poisoned  # type: ignore[method-assign]
        return opt

    monkeypatch.setattr(loop, "make_optimizer", make)


def _command(name: str, store: str, tuab: str) -> tuple[list[str], str, str]:
    """The command line, the stage its line names and the folder of its ``last.pt``."""
    if name == "tokenizer":
        return ["tokenizer", "--store", store], "tokenizer", "."
    if name == "pretrain":  # (the masked-modelling stage: 2 tokenizer steps, then 6)
        return ["pretrain", "--store", store, "--tokenizer-max-steps", "2"], "pretrain", "mem"
    return ["finetune", "--store", tuab, "--task", "tuab"], "finetune", "seed0"


def _tiny(name: str) -> list[str]:
    """:data:`TINY` as command ``name`` reads it (finetune on TUAB: no window settings)."""
    return fixed_windows(TINY) if name == "finetune" else TINY


# Each stage once and each poisoned value once in the default run (the check is the loop's, one
# for every stage; finetune's moment is also test_..._stops_before_the_validation's); the other
# three cases (10-15 s each on 2 cores) are slow.
CASES = [
    pytest.param("tokenizer", "weight", marks=pytest.mark.slow, id="tokenizer-weight"),
    pytest.param("tokenizer", "moment", id="tokenizer-moment"),
    pytest.param("pretrain", "weight", id="pretrain-weight"),
    pytest.param("pretrain", "moment", marks=pytest.mark.slow, id="pretrain-moment"),
    pytest.param("finetune", "weight", id="finetune-weight"),
    pytest.param("finetune", "moment", marks=pytest.mark.slow, id="finetune-moment"),
]


@pytest.mark.parametrize(("name", "what"), CASES)
def test_an_update_that_poisons_the_state_stops_the_run_and_resume_goes_on(
    store: str,
    tuab: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    what: str,
) -> None:
    args, stage, folder = _command(name, store, tuab)
    out = tmp_path / "run"
    with monkeypatch.context() as m:  # (pretrain: its tokenizer's optimizer makes 2 updates)
        _poison(m, update=3, what=what)
        code, output = run_labram(*args, *_tiny(name), "--out", out)
    one_error(code, output, f"error: {stage}: ", "is NaN or infinite after the update of step 2",
              "--lr", "weight_decay", "--resume")  # fmt: skip
    assert ("the optimizer's exp_avg_sq" in output) == (what == "moment"), output
    last = out / folder / "last.pt"
    assert load_checkpoint(last)["step"] == 2  # the last good one, readable
    code, output = run_labram(*args, *_tiny(name), "--out", out, "--resume")
    assert code == 0, output
    assert load_checkpoint(last)["step"] == 6


def test_an_update_that_poisons_the_state_stops_before_the_validation(
    tuab: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a checkpoint due, the end of an epoch (finetune's validation, which saves
    ``best.pt``) checks first: no ``best.pt`` of poisoned weights, no error blaming them."""
    _poison(monkeypatch, update=2, what="moment")  # (8 training windows: 2 steps an epoch)
    out = tmp_path / "ft"
    code, output = run_labram(
        *tuab_finetune(tuab, TINY[:-2]),
        "--ckpt-every",
        "50",
        "--out",
        out,
    )
    one_error(code, output, "error: finetune: the optimizer's exp_avg_sq",
              "after the update of step 1")  # fmt: skip
    assert not (out / "seed0" / "best.pt").exists()
    assert not (out / "seed0" / "last.pt").exists()


def test_a_checkpoint_with_optimizer_moments_not_finite_is_never_written(tmp_path: Path) -> None:
    """The writer's own check covers the optimizer state too: ``--resume`` refuses such a
    ``last.pt`` as damaged, so writing it over a good one lost the run."""
    last = tmp_path / "last.pt"
    good = {
        "model": {"w": torch.ones(2)},
        "optimizer": {"state": {0: {"exp_avg_sq": torch.ones(2)}}},
    }
    atomic_save(good, last)
    before = last.read_bytes()
    for value in (float("nan"), float("inf")):
        bad = {"model": {"w": torch.ones(2)},
               "optimizer": {"state": {0: {"exp_avg_sq": torch.tensor([1.0, value])}}}}  # fmt: skip
        with pytest.raises(DivergedError, match="optimizer's exp_avg_sq of parameter 0 holds"):
            atomic_save(bad, last)
    assert last.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.pt"]


def test_every_rank_stops_alike_and_one_says_it(tmp_path: Path) -> None:
    """Under DDP every rank holds the same weights and moments: each raises the same line,
    marked as decided by every rank, so that rank 0 alone prints it (not once per rank)."""
    from types import SimpleNamespace

    model = torch.nn.Linear(2, 1)
    opt = torch.optim.AdamW(model.parameters())
    run = SimpleNamespace(cfg=SimpleNamespace(stage="finetune"), run_dir=tmp_path)
    loop._check_state(run, model, opt, 4)  # type: ignore[arg-type]  # finite: nothing
    with torch.no_grad():
        model.bias.fill_(float("nan"))
    with pytest.raises(DivergedError, match="finetune: weight bias is NaN") as err:
        loop._check_state(run, model, opt, 4)  # type: ignore[arg-type]
    assert err.value.every_rank is True
