"""Every config field a checkpoint gives is checked as one rule: a count (a width, a depth, a
table's rows, a codebook's size, ``n_outputs``) is an int, not a bool or a float such as
``2.0``, from 1 to ``MAX_COUNT``; a bounded float (``drop_path``) within its range. A file
breaking it is refused in one line naming the file and the field (labram/model/config.py)."""

from __future__ import annotations

import pytest
import torch

from labram.checkpoints.errors import CheckpointError
from labram.checkpoints.layouts import save_ours
from labram.checkpoints.load import load_model
from labram.model.classifier import LaBraMClassifier
from labram.model.config import MAX_COUNT, model_config, tokenizer_config
from labram.model.tokenizer import VQNSPTokenizer

BAD_COUNTS = [True, 2.0, 0, -1, MAX_COUNT + 1, 10**9, "2"]


def _saved(tmp_path, model, edit):
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
def test_n_outputs_must_be_a_count(tmp_path, value):
    model = LaBraMClassifier(model_config("tiny"), 2)
    path = _saved(tmp_path, model, lambda o: o.__setitem__("n_outputs", value))
    _refused(path, "n_outputs", value)


@pytest.mark.parametrize("field", ["dim", "depth", "n_heads", "conv_channels", "n_spatial",
                                   "n_time", "n_codes"])  # fmt: skip
@pytest.mark.parametrize("value", [True, 4.0, 0, -1, 10**9])
def test_every_model_count_is_checked(tmp_path, field, value):
    model = LaBraMClassifier(model_config("tiny"), 2)
    path = _saved(tmp_path, model, lambda o: o["config"].__setitem__(field, value))
    _refused(path, field, value)


@pytest.mark.parametrize("field", ["encoder_depth", "decoder_depth", "n_codes", "code_dim",
                                   "kmeans_iters", "dead_after"])  # fmt: skip
@pytest.mark.parametrize("value", [True, 1.0, 0, 10**9])
def test_every_tokenizer_count_is_checked(tmp_path, field, value):
    model = VQNSPTokenizer(tokenizer_config("tiny"))
    path = _saved(tmp_path, model, lambda o: o["config"].__setitem__(field, value))
    _refused(path, field, value)


@pytest.mark.parametrize(("field", "value"), [("drop_path", 1.0), ("drop_path", -0.1),
                                              ("drop_path", 5.0)])  # fmt: skip
def test_bounded_floats_are_checked(tmp_path, field, value):
    model = LaBraMClassifier(model_config("tiny"), 2)
    path = _saved(tmp_path, model, lambda o: o["config"].__setitem__(field, value))
    _refused(path, field, value)


def test_sound_counts_still_load(tmp_path):
    model = LaBraMClassifier(model_config("tiny"), 3)
    path = _saved(tmp_path, model, lambda o: None)
    assert load_model(path).model.n_outputs == 3
