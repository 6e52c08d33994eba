"""Every numeric field of every public config, fed absurd values from Python: refused when built.

A notebook builds configs without the command line's option types in the way. Before,
``TrainConfig(epochs=nan)``, ``TrainConfig(batch_size=True)``, ``IngestConfig(commit_every=0)``
(no check at all until ``ingest()`` ran, and none for ``commit_every``), ``Limits(memory_bytes=
10**30)``, ``Recipe(sfreq=1e30)`` and ``EmbedConfig(batch_size=True)`` were taken, to fail deep
in a run or never; ``ModelConfig(depth=np.int64(2))``, a valid value from numpy, was refused.
Each field is checked against its entry of :data:`eegprep.base.bounds.BOUNDS` (the table the
command lines' option types are made from, docs/cli.md "Numeric options"): each of ``0``,
``-1``, NaN, infinity, ``10**30``, ``True`` and ``10**400`` (no float: an OverflowError
before) is refused at construction with a ValueError
naming the field and its range, unless inside the range; a numpy scalar of a valid value and
the valid value itself are taken, and kept as a plain Python number.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import numpy as np
import pytest

from eegprep.base.bounds import BOUNDS, Bound, bound_of
from eegprep.base.limits import Limits
from eegprep.ingestion.options import NUMBERS as INGEST_NUMBERS
from eegprep.ingestion.options import IngestConfig
from eegprep.pipeline.recipe import Recipe
from labram.data.loader import WindowDataset, make_loader
from labram.data.sampler import BatchPlan
from labram.data.windows import WINDOW_NUMBERS, RecordingPlan, WindowIndex, WindowSettings
from labram.model.classifier import LaBraMClassifier
from labram.model.config import ModelConfig, TokenizerConfig, model_config
from labram.model.mem import random_mask
from labram.model.quantizer import NormEMAQuantizer
from labram.stages.embed import EmbedConfig
from labram.train.config import NUMBERS as TRAIN_NUMBERS
from labram.train.config import TrainConfig
from labram.train.optim import param_groups

ABSURD: list[Any] = [0, -1, math.nan, math.inf, 10**30, True, 10**400]
"""The values every field is fed (each refused unless inside the field's range)."""

TINY = {"dim": 100, "depth": 2, "n_heads": 4, "conv_channels": 4}


def _index() -> WindowIndex:
    plans = [RecordingPlan(0, f"{c}/r", c, f"s{c}", np.arange(19), np.arange(19)) for c in "cd"]
    rec = np.repeat(np.arange(2), 4)
    n = len(rec)
    return WindowIndex(["s.zarr"], plans, rec, np.tile(np.arange(4) * 800, 2), np.full(n, 4),
                       np.zeros(n, int), np.zeros((n, 1), np.float32))  # fmt: skip


def _plan(**kw: Any) -> BatchPlan:
    return BatchPlan(_index(), **{"batch_size": 2, **kw})


class _Kept:
    """The result of an entry function that keeps no field of the value's name, with the
    values given (a valid value's test then checks that it was taken, not how it is kept)."""

    def __init__(self, result: Any, given: dict[str, Any]) -> None:
        self.result = result
        for name, value in given.items():
            setattr(self, name, value)


def _groups(lr: Any = 1e-3, weight_decay: Any = 0.05, **kw: Any) -> list[dict[str, Any]]:
    return param_groups(LaBraMClassifier(model_config("tiny"), 2), lr, weight_decay, **kw)


def _loader(**kw: Any) -> Any:
    loader = make_loader(WindowDataset(_plan()), **kw)
    loader.close()
    return loader


Build = Callable[..., Any]
CASES: list[tuple[str, Build, str, Any, Bound]] = []
"""(config, its builder, field, a valid value, the field's bounds)."""


def _add(name: str, build: Build, field: str, valid: Any, key: str | None = None) -> None:
    CASES.append((name, build, field, valid, bound_of(key or field)))


_TRAIN_VALID = {"lr": 1e-3, "lr_batch": 128, "min_lr": 1e-5, "warmup_epochs": 2.0, "epochs": 3,
                "max_steps": 10, "batch_size": 16, "weight_decay": 0.05, "grad_clip": 3.0,
                "layer_decay": 0.65, "drop_path": 0.1, "label_smoothing": 0.1, "num_workers": 2,
                "seed": 7, "ckpt_every": 50, "log_every": 5, "dead_after": 10, "threads": 2,
                "split_seed": 4523}  # fmt: skip
_WINDOW_VALID = {"token_budget": 128, "max_seconds": 8, "max_channels": 64,
                 "stride_seconds": 2.0, "block_seconds": 60}  # fmt: skip
for _f in TRAIN_NUMBERS:
    _add("TrainConfig", TrainConfig, _f, _TRAIN_VALID[_f])
for _f in WINDOW_NUMBERS:
    _add("TrainConfig", TrainConfig, _f, _WINDOW_VALID[_f])
    _add("WindowSettings", WindowSettings, _f, _WINDOW_VALID[_f])
_add("TrainConfig", lambda betas: TrainConfig(betas=(betas, 0.98)), "betas", 0.9)
_add("TrainConfig", lambda w: TrainConfig(corpus_weights={"tuh": w}), "w", 2.0, "corpus_weights")
_add("EmbedConfig", EmbedConfig, "chunk_windows", 256)
_add("EmbedConfig", EmbedConfig, "batch_size", 32)
for _f, _v in {"sfreq": 250.0, "l_freq": 0.5, "h_freq": 40.0, "block_seconds": 60.0}.items():
    _add("Recipe", Recipe, _f, _v, f"recipe.{_f}")
_add("Limits", Limits, "memory_bytes", 2**30, "file_memory_limit")
_add("Limits", Limits, "seconds", 60.0, "file_time_limit")
_INGEST_VALID = {"workers": 2, "limit": 5, "commit_every": 8, "prune_max": 0.25,
                 "keep_replaced": 60.0, "file_memory_limit": 2**30,
                 "file_time_limit": 30.0}  # fmt: skip
for _f in INGEST_NUMBERS:
    _add("IngestConfig", IngestConfig, _f, _INGEST_VALID[_f])
_add("BatchPlan", _plan, "batch_size", 2)
_add("BatchPlan", _plan, "seed", 3)
_add("BatchPlan", _plan, "pool_batches", 4)
_add("BatchPlan", lambda w: _plan(weights={"c": w}), "w", 1.5, "corpus_weights")
_MODEL_COUNTS = {"depth": 2, "n_spatial": 65, "n_time": 8, "n_codes": 512}
for _f, _v in _MODEL_COUNTS.items():
    _add("ModelConfig", lambda **kw: ModelConfig(**{**TINY, **kw}), _f, _v, "model.count")
for _f, _v in {"mlp_ratio": 2.0, "layer_scale_init": 0.1, "norm_eps": 1e-5, "drop_path": 0.1,
               "init_std": 0.02}.items():  # fmt: skip
    _add("ModelConfig", lambda **kw: ModelConfig(**{**TINY, **kw}), _f, _v, f"model.{_f}")
_TOKENIZER = {"encoder_depth": 2, "decoder_depth": 1, "code_dim": 16, "kmeans_iters": 3,
              "dead_after": 50}  # fmt: skip
for _f, _v in _TOKENIZER.items():
    _add("TokenizerConfig", TokenizerConfig, _f, _v, "model.count")
for _f, _v in {"decay": 0.9, "beta": 0.5}.items():
    _add("TokenizerConfig", TokenizerConfig, _f, _v, f"model.{_f}")
_QUANTIZER = {"n_codes": 16, "code_dim": 8, "kmeans_iters": 3, "dead_after": 20}
for _f, _v in _QUANTIZER.items():
    _add("NormEMAQuantizer", NormEMAQuantizer, _f, _v, "model.count")
for _f, _v in {"decay": 0.9, "beta": 0.5}.items():
    _add("NormEMAQuantizer", NormEMAQuantizer, _f, _v, f"model.{_f}")
_add("LaBraMClassifier", lambda **kw: LaBraMClassifier(model_config("tiny"), **kw), "n_outputs", 3)
_add("LaBraMClassifier", lambda **kw: _Kept(LaBraMClassifier(model_config("tiny"), **kw), kw),
     "head_init_scale", 0.01)  # fmt: skip
for _f, _v in {"lr": 1e-3, "weight_decay": 0.05, "layer_decay": 0.65, "n_layers": 4}.items():
    _add("param_groups", lambda **kw: _Kept(_groups(**kw), kw), _f, _v,
         "peak_lr" if _f == "lr" else None)  # fmt: skip
_add("WindowDataset", lambda **kw: _Kept(WindowDataset(_plan(), **kw), kw), "cache_mb", 64.0)
_add("WindowDataset", lambda **kw: _Kept(WindowDataset(_plan(), **kw), kw), "group_mb", 32.0)
_add("make_loader", lambda **kw: _loader(**kw), "num_workers", 2)
_MASK = {"batch_size": 2, "n_tokens": 6, "ratio": 0.5}
for _f, _v in _MASK.items():
    _add("random_mask", lambda **kw: _Kept(random_mask(**{**_MASK, **kw}), kw), _f, _v,
         "mask_ratio" if _f == "ratio" else None)  # fmt: skip


IDS = [f"{name}.{field}" for name, _, field, _, _ in CASES]


def _inside(bound: Bound, value: Any) -> bool:
    """Whether ``value`` (an int or float, not a bool) is a number the field takes."""
    if isinstance(value, bool) or (bound.whole and not isinstance(value, int)):
        return False
    return (isinstance(value, int) or math.isfinite(value)) and bound.holds(value)


def _field_value(obj: Any, field: str) -> Any:
    if field == "betas":
        return obj.betas[0]
    if field == "w":
        return next(iter((getattr(obj, "weights", None) or obj.corpus_weights).values()))
    return getattr(obj, field)


def test_the_sweep_covers_every_public_config() -> None:
    names = {name for name, *_ in CASES}
    assert names == {"TrainConfig", "WindowSettings", "EmbedConfig", "Recipe", "Limits",
                     "IngestConfig", "BatchPlan", "ModelConfig", "TokenizerConfig",
                     "NormEMAQuantizer", "LaBraMClassifier", "param_groups", "WindowDataset",
                     "make_loader", "random_mask"}  # fmt: skip
    assert len(CASES) >= 80


@pytest.mark.parametrize("value", ABSURD, ids=["0", "-1", "nan", "inf", "1e30", "True", "1e400"])
@pytest.mark.parametrize(("name", "build", "field", "valid", "bound"), CASES, ids=IDS)
def test_an_absurd_value_is_refused_when_the_config_is_built(
    name: str, build: Build, field: str, valid: Any, bound: Bound, value: Any
) -> None:
    if _inside(bound, value):
        assert _field_value(build(**{field: value}), field) == value
        return
    shown = {"betas": "betas[0]", "w": "corpus_weights["}.get(field, field)
    if name == "Limits":
        shown = {"memory_bytes": "file_memory_limit", "seconds": "file_time_limit"}[field]
    with pytest.raises(ValueError, match="Invalid value for `") as err:
        build(**{field: value})
    line = str(err.value)
    assert shown in line and "\n" not in line, line
    if not name.endswith(("ModelConfig", "TokenizerConfig")) or not bound.whole:
        assert bound.words().removeprefix("an integer ").removeprefix("a number ") in line, line


@pytest.mark.parametrize(("name", "build", "field", "valid", "bound"), CASES, ids=IDS)
def test_a_valid_value_is_taken_plain_or_from_numpy(
    name: str, build: Build, field: str, valid: Any, bound: Bound
) -> None:
    assert _field_value(build(**{field: valid}), field) == valid
    scalar = np.int64(valid) if bound.whole else np.float32(valid)
    built = build(**{field: scalar})
    if isinstance(built, _Kept):  # (taken; kept nowhere to look at)
        return
    got = _field_value(built, field)
    assert got == pytest.approx(float(scalar))
    assert type(got) is (int if bound.whole else float), type(got)  # (so that it writes to JSON)


def test_a_config_built_from_numpy_writes_to_json() -> None:
    cfg = TrainConfig(epochs=np.int64(3), lr=np.float32(1e-3), betas=(np.float64(0.9), 0.98))
    json.dumps(cfg.to_dict())
    json.dumps(asdict(ModelConfig(**{**TINY, "depth": np.int64(2)})))
    json.dumps(Recipe(sfreq=np.float64(250.0)).to_dict())


def test_the_command_line_options_read_the_same_table() -> None:
    """The option types are made from :data:`BOUNDS`: a field and its option take the same."""
    from eegprep.cli_numbers import Amount, bounded

    for key, bound in BOUNDS.items():
        t = bounded(key)
        assert (t.min, t.max) == (bound.low, bound.high), key
        assert isinstance(t, Amount) == (not bound.whole), key


def _predict(value: Any, tmp: Any) -> Any:
    from labram.stages.predict import predict_files

    return predict_files([], tmp / "absent.pt", batch_size=value)


def _evaluate(field: str) -> Callable[[Any, Any], Any]:
    def run(value: Any, tmp: Any) -> Any:
        from labram.stages.evaluate import evaluate

        return evaluate([], "tuab", tmp / "absent.pt", **{field: value})

    return run


def _finetune(field: str) -> Callable[[Any, Any], Any]:
    def run(value: Any, tmp: Any) -> Any:
        from labram.stages.finetune import finetune

        cfg = TrainConfig(stage="finetune", size="tiny")
        return finetune([], "tuab", cfg, tmp / "run", **{field: value})

    return run


ENTRIES: list[tuple[str, Callable[[Any, Any], Any], str, Any, Bound]] = [
    ("predict_files", _predict, "batch_size", 8, bound_of("batch_size")),
    ("evaluate", _evaluate("batch_size"), "batch_size", 8, bound_of("batch_size")),
    ("evaluate", _evaluate("split_seed"), "split_seed", 4523, bound_of("split_seed")),
    ("finetune", _finetune("n_seeds"), "n_seeds", 2, bound_of("seeds")),
    ("finetune", _finetune("split_seed"), "split_seed", 4523, bound_of("split_seed")),
]
"""(entry function, a call of it with the value, the parameter, a valid value, its bounds):
each checks its numbers in its first lines, before it reads or writes anything."""


@pytest.mark.parametrize("value", [*ABSURD, "valid", "numpy"])
@pytest.mark.parametrize(("name", "call", "field", "valid", "bound"), ENTRIES,
                         ids=[f"{e[0]}.{e[2]}" for e in ENTRIES])  # fmt: skip
def test_an_entry_function_checks_its_numbers_first(
    tmp_path: Any, name: str, call: Any, field: str, valid: Any, bound: Bound, value: Any
) -> None:
    if value in ("valid", "numpy"):
        value = valid if value == "valid" else np.int64(valid)
    try:
        call(value, tmp_path)
    except (ValueError, OSError) as exc:  # (a valid value goes on, to the absent checkpoint)
        said = str(exc)
    else:
        said = ""
    refused = f"Invalid value for `{field}`" in said
    assert refused != _inside(bound, value if not isinstance(value, np.integer) else int(value))
    if refused:
        assert bound.words() in said and "\n" not in said, said
        assert not (tmp_path / "run").exists()


AMOUNTS = [case for case in CASES if not case[4].whole]
"""The cases whose field is an amount (a float), not a count."""


@pytest.mark.parametrize("value", [5e-324, -5e-324, 1e-310, np.float64(2e-320)],
                         ids=["5e-324", "-5e-324", "1e-310", "numpy"])  # fmt: skip
@pytest.mark.parametrize(("name", "build", "field", "valid", "bound"), AMOUNTS,
                         ids=[f"{c[0]}.{c[2]}" for c in AMOUNTS])  # fmt: skip
def test_a_denormal_is_refused_in_one_line_naming_the_field(
    name: str, build: Build, field: str, valid: Any, bound: Bound, value: Any
) -> None:
    """A denormal (subnormal) float, neither zero nor a normal float (under 2.2e-308), was taken
    wherever the range starts at 0 (a weight decay, a dropout, a duration of ``5e-324``): it
    is one line naming the field and what to write."""
    with pytest.raises(ValueError, match="Invalid value for `") as err:
        build(**{field: value})
    line = str(err.value)
    assert "denormal" in line and "\n" not in line, line
    assert {"betas": "betas[0]", "w": "corpus_weights["}.get(field, field) in line or name in (
        "Limits",
    ), line


@pytest.mark.parametrize(("name", "build", "field", "valid", "bound"), AMOUNTS,
                         ids=[f"{c[0]}.{c[2]}" for c in AMOUNTS])  # fmt: skip
def test_minus_zero_is_zero_or_refused_as_zero(
    name: str, build: Build, field: str, valid: Any, bound: Bound
) -> None:
    """``-0.0`` is the field's 0.0 where 0 is in its range (kept as ``0.0``: a config wrote
    ``-0.0`` to its JSON), and refused as 0 is where it is not (no amount's sign means
    anything: every range starts at 0 or above)."""
    assert bound.low >= 0
    if not bound.holds(0.0):
        with pytest.raises(ValueError, match="Invalid value for `"):
            build(**{field: -0.0})
        return
    built = build(**{field: -0.0})
    if isinstance(built, _Kept):
        return
    got = _field_value(built, field)
    assert got == 0.0 and math.copysign(1.0, got) == 1.0, got


@pytest.mark.parametrize("budget", [1])
def test_a_token_budget_under_two_tokens_is_a_warning(budget: int) -> None:
    """``token_budget=1`` asks windows of one token (a window holds 1 s of each channel at
    least, two tokens is the least masked modelling splits): taken without a word, though
    no window keeps it. It is one warning naming the setting; 2 and up are not."""
    with pytest.warns(
        UserWarning, match=r"^token_budget 1 is under 2: a window is of no use under 2 tokens"
    ) as caught:
        WindowSettings(token_budget=budget)
    assert len(caught) == 1 and "\n" not in str(caught[0].message)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        WindowSettings(token_budget=2)
        TrainConfig(token_budget=256)
