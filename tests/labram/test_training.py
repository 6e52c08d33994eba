"""Training stages on CPU: reproducible losses, exact resume, learning, leakage control."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

import pytest
import torch

from labram.data.sampler import ResumeError
from labram.model.config import model_config, tokenizer_config
from labram.model.mem import LaBraMForMEM
from labram.model.tokenizer import VQNSPTokenizer
from labram.stages.pretrain import make_mem_step, pretrain
from labram.stages.train_tokenizer import pretrain_dataset, tokenizer_step
from labram.train.checkpoint import load_checkpoint
from labram.train.config import train_config
from labram.train.distributed import setup
from labram.train.loop import train
from labram.train.run import Run
from labram.train.runlog import CHECK_COLUMN
from tests.labram.training_stores import write_pretrain_store, write_tuab_like


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    return write_pretrain_store(tmp_path_factory.mktemp("s") / "a.zarr", n_subjects=3, seconds=60)


def _losses(run_dir: Path) -> list[str]:
    with (run_dir / "log.csv").open() as fh:
        return [r["loss"] for r in csv.DictReader(fh)]


class Killed(Exception):
    pass


def _tokenizer_run(store: str, out: Path, *, kill_at: int | None = None, resume: bool = False,
                   **over: Any) -> dict[str, Any]:  # fmt: skip
    over = {"batch_size": 4, **over}
    cfg = train_config(
        "tokenizer", "tiny", max_steps=6, ckpt_every=3, log_every=1, dead_after=2, **over
    )
    dinfo = setup("cpu")
    ds = pretrain_dataset([store], cfg, dinfo, set())
    torch.manual_seed(cfg.seed)
    model = VQNSPTokenizer(tokenizer_config("tiny", dead_after=2))
    calls = [0]

    def step(m: torch.nn.Module, batch: dict[str, torch.Tensor], g: torch.Generator) -> Any:
        calls[0] += 1
        if kill_at is not None and calls[0] > kill_at:
            raise Killed
        return tokenizer_step(m, batch, g)

    return train(
        Run(cfg, ds, out, dinfo, model.config.to_dict(), "tokenizer"), model, step, resume=resume
    )


def test_same_seed_same_losses_and_resume_is_exact(store: str, tmp_path: Path) -> None:
    _tokenizer_run(store, tmp_path / "a")
    _tokenizer_run(store, tmp_path / "b")
    straight = _losses(tmp_path / "a")
    assert len(straight) == 6 and straight == _losses(tmp_path / "b")  # bit for bit
    with pytest.raises(Killed):
        _tokenizer_run(store, tmp_path / "c", kill_at=4)  # dies after the step-3 checkpoint
    assert load_checkpoint(tmp_path / "c" / "last.pt")["step"] == 3
    _tokenizer_run(store, tmp_path / "c", resume=True)
    assert _losses(tmp_path / "c") == straight
    other = _tokenizer_run(store, tmp_path / "d", seed=1)
    assert _losses(tmp_path / "d") != straight and other["step"] == 6


def test_a_non_finite_loss_stops_the_run_with_one_line_saying_what_to_do(
    store: str, tmp_path: Path
) -> None:
    from eegprep.base.errors import EegprepError
    from labram.train.loop import DivergedError

    cfg = train_config("tokenizer", "tiny", max_steps=4, ckpt_every=1, log_every=1, batch_size=4)
    dinfo = setup("cpu")
    ds = pretrain_dataset([store], cfg, dinfo, set())
    calls = [0]

    def step(m: torch.nn.Module, batch: dict[str, torch.Tensor], g: torch.Generator) -> Any:
        calls[0] += 1
        loss, metrics = tokenizer_step(m, batch, g)
        return (loss * float("nan") if calls[0] == 3 else loss), metrics

    model = VQNSPTokenizer(tokenizer_config("tiny"))
    with pytest.raises(DivergedError) as err:
        train(Run(cfg, ds, tmp_path / "r", dinfo, model.config.to_dict(), "tokenizer"), model, step)
    assert isinstance(err.value, EegprepError)  # the CLI's one line, not "internal error"
    message = str(err.value)
    assert "loss is nan at step 2" in message and "--lr" in message and "--resume" in message
    assert load_checkpoint(tmp_path / "r" / "last.pt")["step"] == 2  # the two steps before it


# Slow (25 s on 2 cores): the loop's exact resume (sampler, generator, optimizer) is the same for
# every stage, and test_same_seed_same_losses_and_resume_is_exact keeps it in the default run.
@pytest.mark.slow
def test_mem_resume_is_exact(store: str, tmp_path: Path) -> None:
    tok = VQNSPTokenizer(tokenizer_config("tiny")).eval()
    tok.quantizer.initted.fill_(1.0)
    torch.nn.init.normal_(tok.quantizer.codebook)

    def run(out: Path, kill_at: int | None = None, resume: bool = False) -> None:
        cfg = train_config("pretrain", "tiny", max_steps=5, ckpt_every=2, log_every=1,
                           batch_size=4)  # fmt: skip
        dinfo = setup("cpu")
        ds = pretrain_dataset([store], cfg, dinfo, set())
        torch.manual_seed(0)
        model = LaBraMForMEM(model_config("tiny", n_codes=256))
        inner = make_mem_step(tok)
        calls = [0]

        def step(m: torch.nn.Module, b: dict[str, torch.Tensor], g: torch.Generator) -> Any:
            calls[0] += 1
            if kill_at is not None and calls[0] > kill_at:
                raise Killed
            return inner(m, b, g)

        train(Run(cfg, ds, out, dinfo, model.config.to_dict(), "mem"), model, step, resume=resume)

    run(tmp_path / "a")
    with pytest.raises(Killed):
        run(tmp_path / "b", kill_at=3)
    run(tmp_path / "b", resume=True)
    assert _losses(tmp_path / "b") == _losses(tmp_path / "a")


def test_corrupt_checkpoint_is_refused(store: str, tmp_path: Path) -> None:
    _tokenizer_run(store, tmp_path / "a")
    ckpt = tmp_path / "a" / "last.pt"
    assert (tmp_path / "a" / "previous.pt").exists()
    ckpt.write_bytes(ckpt.read_bytes()[:1000])
    with pytest.raises(ResumeError, match=r"truncated or corrupt.*previous"):
        _tokenizer_run(store, tmp_path / "a", resume=True)
    with pytest.raises(ResumeError, match="batch_size was 4, now 2"):  # (last.pt's config)
        (tmp_path / "a" / "previous.pt").replace(ckpt)
        _tokenizer_run(store, tmp_path / "a", resume=True, batch_size=2)


def test_exclusion_is_by_subject_key_and_recorded(tmp_path: Path) -> None:
    pre = write_pretrain_store(tmp_path / "p.zarr", n_subjects=3, seconds=40)
    ev = write_pretrain_store(tmp_path / "e.zarr", corpus="tuab", n_subjects=1, seconds=20)
    from labram.data.windows import build_pretrain_index
    from labram.stages.pretrain import exclusions

    # same person, another corpus: subject_key "tuab:s000" differs from "tuh:s000"
    assert exclusions([pre], tmp_path / "r", [ev], True) == {"tuab:s000"}
    shared = write_pretrain_store(tmp_path / "s.zarr", n_subjects=2, seconds=20)  # s000, s001
    keys = exclusions([pre], tmp_path / "r", [shared], True)
    assert build_pretrain_index([pre], exclude_subjects=keys).meta["n_recordings_excluded"] == 2
    record = json.loads((tmp_path / "r" / "excluded_subjects.json").read_text())
    assert record["n_subjects"] == 2 and record["evaluation_stores"] == [shared]


@pytest.mark.slow
def test_pretrain_learns_and_excludes_evaluation_subjects(tmp_path: Path) -> None:
    pre = write_pretrain_store(tmp_path / "p.zarr", n_subjects=3, seconds=240)
    # an "evaluation" store that shares subject s001 (same subject_key) with the pre-training one
    ev = write_pretrain_store(tmp_path / "e.zarr", n_subjects=2, seconds=30)
    tok_cfg = train_config("tokenizer", "tiny", max_steps=60, log_every=5)
    mem_cfg = train_config("pretrain", "tiny", max_steps=60, log_every=5, lr=2e-3)
    res = pretrain([pre], mem_cfg, tmp_path / "run", tokenizer_cfg=tok_cfg,
                   exclude_subjects_of=[ev])  # fmt: skip
    record = json.loads((tmp_path / "run" / "excluded_subjects.json").read_text())
    assert record["subject_keys"] == ["tuh:s000", "tuh:s001"]
    with (tmp_path / "run" / "mem" / "log.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    first, last = float(rows[0]["loss"]), float(rows[-1]["loss"])
    assert last < first - 0.5, (first, last)  # the masked-code loss falls
    cb = res["tokenizer_stage"]["codebook"]
    assert cb["codes_used"] >= 0.25 * cb["n_codes"] and cb["perplexity"] > 16, cb
    assert res["checkpoint"].exists() and res["plot"].exists()


@pytest.mark.slow
def test_finetune_beats_chance_on_planted_signal(tmp_path: Path) -> None:
    from labram.stages.evaluate import evaluate
    from labram.stages.finetune import finetune

    url = write_tuab_like(tmp_path / "tuab.zarr")
    cfg = train_config("finetune", "tiny")
    res = finetune([url], "tuab", cfg, tmp_path / "ft", n_seeds=1)
    assert res["test"]["balanced_accuracy"]["mean"] > 0.7, res["table"]
    ev = evaluate([url], "tuab", tmp_path / "ft" / "seed0" / "best.pt")
    assert ev["n_windows"] == 36 and ev["metrics"]["auroc"] > 0.7


def test_a_split_of_one_class_is_warned_once_and_its_metrics_are_null(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, recwarn: pytest.WarningsRecorder
) -> None:
    import numpy as np

    from eegprep.pipeline.recipe import Recipe
    from eegprep.store.writer import StoreWriter
    from labram.stages.finetune import finetune
    from tests.labram.training_stores import TUAB_ORDER, eeg, put

    url, rng = str(tmp_path / "one.zarr"), np.random.default_rng(0)
    with StoreWriter(url, Recipe()) as w:
        for split, n in (("train", 6), ("eval", 3)):
            for k in range(n):
                label = k % 2 if split == "train" else 0  # every test recording normal
                subj = f"{split[0]}{k:03d}"
                put(w, f"tuab/{subj}_s001_t000", eeg(rng, 23, 20, label), list(TUAB_ORDER),
                    subject=subj, subject_key=f"tuh:{subj}", split=split,
                    labels={"abnormal": label})  # fmt: skip
    cfg = train_config("finetune", "tiny", epochs=1, warmup_epochs=0.5, batch_size=4)
    with caplog.at_level("WARNING", logger="labram.stages.finetune"):
        res = finetune([url], "tuab", cfg, tmp_path / "ft", n_seeds=1)
    said = [r.getMessage() for r in caplog.records if "one class only" in r.getMessage()]
    assert said == [
        "the test windows hold one class only (normal): AUROC, AUC-PR and kappa are undefined "
        "(null) and the rest say little; check the task's labels and splits"
    ]
    assert math.isnan(res["test"]["auroc"]["mean"])
    assert not [w for w in recwarn if "sklearn" in w.filename]  # no library warnings besides


def test_an_invalid_recorded_fine_tuning_config_is_refused_not_replaced(tmp_path: Path) -> None:
    """A best.pt whose recorded config was damaged (split_seed NaN, a string where a number
    goes) was evaluated with the tiny preset's windows and splits, after a warning; the metrics
    were of other windows. It is refused now; a checkpoint with no config keeps the warning."""
    from eegprep.base.errors import UsageError
    from labram.data.windows import TRAIN_CONFIG_KEY
    from labram.stages.scoring import run_config

    good = train_config("finetune", "tiny").to_dict()
    assert run_config(tmp_path / "best.pt", {TRAIN_CONFIG_KEY: good}).split_seed == 0
    for field, value in (("split_seed", float("nan")), ("epochs", "ten"), ("window", 1)):
        bad = {**good, field: value}
        with pytest.raises(UsageError, match="fine-tuning config is not valid"):
            run_config(tmp_path / "best.pt", {TRAIN_CONFIG_KEY: bad})
    (tmp_path / "config.json").write_text('{"split_seed": NaN}')
    with pytest.raises(UsageError, match="unreadable run config"):
        run_config(tmp_path / "best.pt", {})


def test_quiet_pretraining_prints_its_results_and_no_file_written(
    store: str, tmp_path: Path
) -> None:
    """`labram -q pretrain` printed `tokenizer: ... -> OUT/tokenizer/tokenizer.pt`, the path of a
    file written, which `-q` leaves out (docs/cli.md); the stages' results stay."""
    from tests.labram.cli_runs import run_labram

    args = ["pretrain", "--store", store, "--size", "tiny", "--max-steps", "1",
            "--tokenizer-max-steps", "1", "--batch-size", "4", "--device", "cpu"]  # fmt: skip
    code, output = run_labram("-q", *args, "--out", tmp_path / "q")
    assert code == 0, output
    lines = output.splitlines()
    assert [line.split(":")[0] for line in lines] == ["tokenizer", "masked modelling"], output
    assert " -> " not in output and "tokenizer.pt" not in output
    code, output = run_labram(*args, "--out", tmp_path / "loud")
    said = [line for line in output.splitlines() if line.startswith("tokenizer: ")]
    assert code == 0 and said[0].endswith(" -> " + str(tmp_path / "loud/tokenizer/tokenizer.pt"))


@pytest.mark.real_plots
def test_a_training_run_draws_a_panel_per_logged_column(store: str, tmp_path: Path) -> None:
    """curves.png as a user's run draws it (the tests' own runs draw a 1x1 placeholder,
    tests/conftest.py): one 4 x 2.8 in panel per column of log.csv but step and epoch, three
    to a row, at 100 dpi."""
    import struct

    res = _tokenizer_run(store, tmp_path / "t")
    png = (tmp_path / "t" / "curves.png").read_bytes()
    with (tmp_path / "t" / "log.csv").open() as fh:
        columns = [c for c in next(csv.reader(fh)) if c not in ("step", "epoch")]
    columns = [c for c in columns if c != CHECK_COLUMN]  # (each row's checksum: not drawn)
    width, height = struct.unpack(">II", png[16:24])
    rows = -(-len(columns) // 3)
    assert png.startswith(b"\x89PNG") and res["plot"] == tmp_path / "t" / "curves.png"
    assert (width, height) == (1200, round(280 * rows)), (width, height, columns)
