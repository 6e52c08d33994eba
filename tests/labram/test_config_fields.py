"""Every config field a checkpoint gives is checked as one rule: a count (a width, a depth, a
table's rows, a codebook's size, ``n_outputs``) is an int, not a bool or a float such as
``2.0``, from 1 to ``MAX_COUNT``; a float a number (not a bool, not text), finite and within
its range (``FLOAT_RANGES``); the config a table of known fields. A file breaking it is refused
in one line naming the file and the field (labram/model/config.py)."""

from __future__ import annotations

from dataclasses import fields

import pytest
import torch

from labram.checkpoints.errors import CheckpointError
from labram.checkpoints.layouts import save_ours
from labram.checkpoints.load import load_model
from labram.model.classifier import LaBraMClassifier
from labram.model.config import (
    FLOAT_RANGES,
    MAX_COUNT,
    MODEL_PRESETS,
    TOKENIZER_PRESETS,
    ModelConfig,
    TokenizerConfig,
    model_config,
    tokenizer_config,
)
from labram.model.tokenizer import VQNSPTokenizer

BAD_COUNTS = [True, 2.0, 0, -1, MAX_COUNT + 1, 10**9, "2"]


@pytest.fixture(scope="module")
def sound(tmp_path_factory):
    """``sound(kind)``: a fresh copy (top level and config) of the saved file of a tiny
    ``"classifier"`` (2 outputs) or ``"tokenizer"``, each built and saved once per module: a tiny
    model's initialisation (``trunc_normal_``) was ~0.2-0.5 CPU s, most of this module's time
    when every case built its own. The weights are shared; the edits touch only the dicts."""
    saved: dict[str, dict] = {}

    def copy(kind):
        if kind not in saved:
            model = (LaBraMClassifier(model_config("tiny"), 2) if kind == "classifier"
                     else VQNSPTokenizer(tokenizer_config("tiny")))  # fmt: skip
            path = tmp_path_factory.mktemp(kind) / "ok.pt"
            save_ours(model, path)
            saved[kind] = torch.load(path, weights_only=True)
        obj = dict(saved[kind])
        obj["config"] = dict(obj["config"])
        return obj

    return copy


def _saved(tmp_path, model, edit):
    """Write ``model`` (an nn.Module, or a saved file's dict from ``sound``) edited by ``edit``."""
    if isinstance(model, dict):
        obj = model
    else:
        save_ours(model, tmp_path / "ok.pt")
        obj = torch.load(tmp_path / "ok.pt", weights_only=True)
        obj["config"] = dict(obj["config"])
    edit(obj)
    torch.save(obj, tmp_path / "bad.pt")
    return tmp_path / "bad.pt"


def _refused(path, field, value):
    with pytest.raises(CheckpointError) as info:
        load_model(path)
    message = str(info.value)
    assert "\n" not in message and str(path) in message and f"`{field}`" in message
    assert repr(value) in message or str(value) in message
    assert "empty()" not in message and "operand" not in message


@pytest.mark.parametrize("value", BAD_COUNTS)
def test_n_outputs_must_be_a_count(tmp_path, sound, value):
    path = _saved(tmp_path, sound("classifier"), lambda o: o.__setitem__("n_outputs", value))
    _refused(path, "n_outputs", value)


@pytest.mark.parametrize("field", ["dim", "depth", "n_heads", "conv_channels", "n_spatial",
                                   "n_time", "n_codes"])  # fmt: skip
@pytest.mark.parametrize("value", [True, 4.0, 0, -1, 10**9])
def test_every_model_count_is_checked(tmp_path, sound, field, value):
    path = _saved(tmp_path, sound("classifier"), lambda o: o["config"].__setitem__(field, value))
    _refused(path, field, value)


@pytest.mark.parametrize("field", ["encoder_depth", "decoder_depth", "n_codes", "code_dim",
                                   "kmeans_iters", "dead_after"])  # fmt: skip
@pytest.mark.parametrize("value", [True, 1.0, 0, 10**9])
def test_every_tokenizer_count_is_checked(tmp_path, sound, field, value):
    path = _saved(tmp_path, sound("tokenizer"), lambda o: o["config"].__setitem__(field, value))
    _refused(path, field, value)


@pytest.mark.parametrize(("field", "value"), [("drop_path", 1.0), ("drop_path", -0.1),
                                              ("drop_path", 5.0)])  # fmt: skip
def test_bounded_floats_are_checked(tmp_path, sound, field, value):
    path = _saved(tmp_path, sound("classifier"), lambda o: o["config"].__setitem__(field, value))
    _refused(path, field, value)


def test_sound_counts_still_load(tmp_path):
    model = LaBraMClassifier(model_config("tiny"), 3)
    path = _saved(tmp_path, model, lambda o: None)
    assert load_model(path).model.n_outputs == 3


@pytest.mark.parametrize(("field", "value"), [
    ("init_std", -1), ("init_std", 0.0), ("init_std", 5.0), ("init_std", "0.02"),
    ("layer_scale_init", -7.0), ("layer_scale_init", 1e30), ("layer_scale_init", True),
    ("norm_eps", 0.0), ("norm_eps", 1e30), ("mlp_ratio", 1e-9), ("mlp_ratio", 1000.0),
    ("mlp_ratio", float("nan")), ("drop_path", float("inf")),
])  # fmt: skip
def test_every_model_float_is_checked(tmp_path, sound, field, value):
    path = _saved(tmp_path, sound("classifier"), lambda o: o["config"].__setitem__(field, value))
    _refused(path, field, value)


@pytest.mark.parametrize(("field", "value"), [
    ("decay", -0.5), ("decay", 2.0), ("beta", -1.0), ("beta", 1e9), ("beta", None),
    ("init_std", -0.02), ("norm_eps", -1e-6), ("mlp_ratio", 0),
])  # fmt: skip
def test_every_tokenizer_float_is_checked(tmp_path, sound, field, value):
    path = _saved(tmp_path, sound("tokenizer"), lambda o: o["config"].__setitem__(field, value))
    _refused(path, field, value)


@pytest.mark.parametrize("cls", [ModelConfig, TokenizerConfig])
def test_every_float_field_has_a_range(cls):
    floats = {f.name for f in fields(cls) if str(f.type) == "float"}
    assert floats <= set(FLOAT_RANGES)


def test_an_int_float_field_and_the_presets_still_load(tmp_path):
    model = LaBraMClassifier(model_config("tiny", layer_scale_init=0.0), 2)
    path = _saved(tmp_path, model, lambda o: o["config"].__setitem__("mlp_ratio", 4))
    assert load_model(path).model.config.mlp_ratio == 4
    for size in MODEL_PRESETS:
        model_config(size)
    for size in TOKENIZER_PRESETS:
        tokenizer_config(size)


@pytest.mark.parametrize("kind", ["classifier", "tokenizer"])
def test_an_unknown_key_is_named_with_the_known_ones(tmp_path, sound, kind):
    path = _saved(tmp_path, sound(kind), lambda o: o["config"].__setitem__("zzz", 1))
    with pytest.raises(CheckpointError) as info:
        load_model(path)
    message = str(info.value)
    assert "\n" not in message and str(path) in message
    assert "`zzz`: not a field of this model; known: dim, " in message
    assert "keyword argument" not in message


@pytest.mark.parametrize("config", [[1, 2], "dim=100", None])
def test_a_config_that_is_not_a_table_is_named(tmp_path, sound, config):
    path = _saved(tmp_path, sound("classifier"), lambda o: o.__setitem__("config", config))
    with pytest.raises(CheckpointError) as info:
        load_model(path)
    message = str(info.value)
    assert "\n" not in message and str(path) in message
    assert f"a {type(config).__name__}, not a table of fields" in message
    assert "argument after **" not in message
