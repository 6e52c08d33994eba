"""One meaning per setting: ``max_steps`` is a cap, window settings are defined once and travel
in the checkpoint, config values are parsed against their field types."""

from __future__ import annotations

import csv
import shutil
from dataclasses import fields
from pathlib import Path

import pytest

from eegprep.base.errors import ConfigError, UsageError
from labram.checkpoints.safe_read import read_checkpoint
from labram.data.windows import WindowConfig, WindowSettings, saved_windows
from labram.model.config import ModelConfigError, model_config, tokenizer_config
from labram.train.config import TrainConfig, train_config
from labram.train.optim import lr_at, schedule_steps
from tests.labram.training_stores import write_pretrain_store, write_tuab_like


def test_max_steps_caps_the_run_and_the_cosine_spans_it() -> None:
    cfg = train_config("pretrain", "tiny", epochs=2, warmup_epochs=0.5)
    assert schedule_steps(cfg, 10) == (20, 5)
    long = train_config("pretrain", "tiny", epochs=2, warmup_epochs=0.5, max_steps=1000)
    assert schedule_steps(long, 10) == (20, 5)  # the epochs end first: not 1000 steps
    short = train_config("pretrain", "tiny", epochs=2, warmup_epochs=0.5, max_steps=8)
    total, warmup = schedule_steps(short, 10)
    assert (total, warmup) == (8, 2)
    last = lr_at(total - 1, total=total, warmup=warmup, peak=1.0, floor=0.0)
    assert 0 < last < 0.1  # the cosine ends with the run (over 20 steps it would be at 0.8)
    assert lr_at(total - 1, total=20, warmup=5, peak=1.0, floor=0.0) > 0.8


def test_a_run_ends_after_its_epochs_whatever_max_steps(tmp_path: Path) -> None:
    from labram.model.tokenizer import VQNSPTokenizer
    from labram.stages.train_tokenizer import pretrain_dataset, tokenizer_step
    from labram.train.distributed import setup
    from labram.train.loop import train
    from labram.train.run import Run

    store = write_pretrain_store(tmp_path / "s.zarr", n_subjects=1, seconds=20)
    cfg = train_config("tokenizer", "tiny", epochs=2, max_steps=1000, batch_size=2, log_every=1)
    dinfo = setup("cpu")
    ds = pretrain_dataset([store], cfg, dinfo, set())
    per_epoch = len(ds.plan.batches(0))
    res = train(
        Run(cfg, ds, tmp_path / "run", dinfo, {}, "tokenizer"),
        VQNSPTokenizer(tokenizer_config("tiny")),
        tokenizer_step,
    )
    assert res["step"] == 2 * per_epoch < 1000
    with (tmp_path / "run" / "log.csv").open() as fh:
        assert len(list(csv.DictReader(fh))) == 2 * per_epoch


def test_window_fields_are_defined_once() -> None:
    window = {f.name for f in fields(WindowSettings)}
    assert window == {"token_budget", "max_seconds", "max_channels", "stride_seconds",
                      "block_seconds"}  # fmt: skip
    assert issubclass(TrainConfig, WindowSettings) and issubclass(WindowConfig, WindowSettings)
    own = set(TrainConfig.__annotations__) | set(WindowConfig.__annotations__)
    assert not own & window  # neither subclass declares a window field again
    cfg = train_config("tokenizer", "tiny", token_budget=128)
    assert cfg.window_settings() == WindowSettings(
        token_budget=128, stride_seconds=2.0, block_seconds=cfg.block_seconds
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("epochs", "abc", r"Invalid value for `epochs`: expected an integer; got 'abc'"),
        ("lr", "fast", r"Invalid value for `lr`: expected a number; got 'fast'"),
        ("stride_seconds", "often", r"`stride_seconds`: expected a number or none"),
        ("corpus_weights", {"tuh": "x"}, r"`corpus_weights`: expected a table of numbers"),
        ("max_seconds", 17, r"`max_seconds`: expected an integer from 1 to 16"),
        ("patience", 3, r"`patience`: expected none"),
        ("size", "tiny", r"`size` chooses the preset"),
        ("lrr", 1.0, r"unknown config field 'lrr'. Did you mean 'lr'\?"),
    ],
)
def test_config_values_are_parsed_against_their_types(
    field: str, value: object, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        train_config("pretrain", "tiny", **{field: value})


def test_text_values_of_the_right_type_are_accepted() -> None:
    cfg = train_config("pretrain", "tiny", epochs="3", lr="1e-3", amp="false",
                       max_steps="none", betas=[0.9, 0.95], warmup_epochs=1)  # fmt: skip
    assert (cfg.epochs, cfg.lr, cfg.amp, cfg.max_steps) == (3, 1e-3, False, None)
    assert cfg.betas == (0.9, 0.95) and isinstance(cfg.warmup_epochs, float)


def test_model_config_errors_name_the_field() -> None:
    with pytest.raises(ModelConfigError, match=r"`dim`: expected 25 \* conv_channels = 100"):
        model_config("tiny", dim=200)
    with pytest.raises(UsageError, match=r"`n_heads`: expected a divisor of dim"):
        model_config("tiny", n_heads=3)
    with pytest.raises(UsageError, match=r"`depth`: expected an integer; got 'two'"):
        model_config("tiny", depth="two")
    with pytest.raises(UsageError, match=r"`size`: allowed .* got 'hugee'. Did you mean 'huge'"):
        model_config("hugee")


def test_evaluate_uses_the_windows_saved_in_the_checkpoint(tmp_path: Path) -> None:
    """A label:KEY task fine-tuned with its own token budget and channel cap is evaluated on
    the same windows, from best.pt alone (copied away from its run folder)."""
    from labram.stages.evaluate import evaluate
    from labram.stages.finetune import finetune

    url = write_tuab_like(tmp_path / "tuab.zarr", n_train=4, n_eval=2, seconds=30)
    cfg = train_config("finetune", "tiny", token_budget=40, max_channels=8, batch_size=4,
                       epochs=1, warmup_epochs=0.5, max_steps=2)  # fmt: skip
    res = finetune([url], "label:abnormal", cfg, tmp_path / "ft")
    # 8 channels x 5 s = 40 tokens: 6 windows per 30 s test recording (the defaults: 23 x 11 s)
    assert res["windows"]["test"] == 12
    best = tmp_path / "ft" / "seed0" / "best.pt"
    saved = read_checkpoint(best)
    assert saved_windows(saved) == WindowSettings(token_budget=40, max_channels=8)
    assert saved["train_config"]["split_seed"] == cfg.split_seed
    assert saved["task"]["name"] == "label:abnormal"  # labram predict reads it back
    away = tmp_path / "elsewhere" / "model.pt"
    away.parent.mkdir()
    shutil.copy(best, away)
    ev = evaluate([url], "label:abnormal", away, device="cpu")
    assert ev["n_windows"] == 12
