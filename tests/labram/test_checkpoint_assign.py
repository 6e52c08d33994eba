"""A checkpoint's tensors become its model's own (the model built on ``meta``): the same model,
value for value, as a copy gave (its memory: tests/safety/test_checkpoint_memory.py)."""

from __future__ import annotations

import pytest
import torch
from labram_layouts import classifier_layout, fabricate, tokenizer_layout

import labram
from labram.checkpoints.layouts import load_ours, save_ours, to_official
from labram.checkpoints.load import load_model
from labram.model.classifier import LaBraMClassifier
from labram.model.config import model_config, tokenizer_config
from labram.model.mem import LaBraMForMEM
from labram.model.tokenizer import VQNSPTokenizer


def _aliases(model: torch.nn.Module) -> bool:
    seen: set[int] = set()
    for t in model.state_dict().values():
        ptr = t.untyped_storage().data_ptr()
        if t.numel() and ptr in seen:
            return True
        seen.add(ptr)
    return False


def test_a_file_that_stores_two_weights_in_one_tensor_gives_two(tmp_path):
    """Two names for one tensor in the file: the model's two weights do not share memory."""
    sd = fabricate(classifier_layout("tiny", n_outputs=2))
    sd["blocks.0.norm2.bias"] = sd["blocks.0.norm1.bias"]
    path = tmp_path / "shared.pth"
    torch.save({"model": sd}, path)
    model = load_model(path).model
    assert not _aliases(model)
    assert torch.equal(to_official(model)["blocks.0.norm2.bias"], sd["blocks.0.norm1.bias"])


def test_a_state_dict_handed_over_is_copied_not_taken():
    """``load_official(sd)`` with the caller's dict: training the model leaves the dict as is."""
    sd = fabricate(classifier_layout("tiny", n_outputs=2))
    kept = {k: v.clone() for k, v in sd.items()}
    model = labram.load_official(sd, "classifier")
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)
    assert all(torch.equal(sd[k], kept[k]) for k in sd)


def test_a_float16_file_loads_as_float32_weights(tmp_path):
    sd = {k: v.half() for k, v in fabricate(classifier_layout("tiny", n_outputs=2)).items()}
    path = tmp_path / "half.pth"
    torch.save({"model": sd}, path)
    model = load_model(path).model
    assert {t.dtype for t in model.state_dict().values()} == {torch.float32}
    assert all(torch.equal(v.float(), to_official(model)[k]) for k, v in sd.items())


@pytest.mark.parametrize(
    "make",
    [
        lambda: LaBraMForMEM(model_config("tiny")),
        lambda: LaBraMClassifier(model_config("tiny"), 3),
        lambda: VQNSPTokenizer(tokenizer_config("tiny")),
    ],
)
def test_every_loaded_tensor_is_on_the_cpu_and_buffers_no_file_holds_start_at_zero(make, tmp_path):
    """The rule the loader gives a non-persistent buffer (zeros, labram/checkpoints/assign.py)
    is each model's own at construction; and no tensor of a loaded model is left on ``meta``."""
    model = make()
    persistent = set(model.state_dict())
    for name, buf in model.named_buffers():
        if name not in persistent:
            assert not buf.any(), name
    save_ours(model, tmp_path / "m.pt")
    again = load_ours(tmp_path / "m.pt")
    tensors = {**dict(again.named_parameters()), **dict(again.named_buffers())}
    assert all(t.device.type == "cpu" for t in tensors.values())
    want = {**dict(model.named_parameters()), **dict(model.named_buffers())}
    assert all(torch.equal(tensors[k], want[k]) for k in want)


def test_a_released_tokenizer_file_loads_every_tensor(tmp_path):
    sd = fabricate(tokenizer_layout(100, 2, 4, 4, n_codes=256, code_dim=16, decoder_depth=1))
    path = tmp_path / "vqnsp.pth"
    torch.save({"model": sd}, path)
    model = load_model(path).model
    assert not any(t.is_meta for t in model.state_dict().values())
    assert all(torch.equal(to_official(model)[k], v) for k, v in sd.items())
