"""A checkpoint's tensors become its model's own (the model built on ``meta``): the same model,
value for value, as a copy gave (its memory: tests/safety/test_checkpoint_memory.py)."""

from __future__ import annotations

import pytest
import torch
from labram_layouts import classifier_layout, fabricate, tokenizer_layout

import labram
from labram.checkpoints.errors import CheckpointError
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


def _odd_storage(sd: dict[str, torch.Tensor], how: str) -> dict[str, torch.Tensor]:
    """``sd`` with its weights stored as files in the wild store them: in another floating-point
    type, transposed (not contiguous), or as views into one storage at offsets."""
    if how in ("bfloat16", "float64"):
        return {k: v.to(getattr(torch, how)) for k, v in sd.items()}
    if how == "transposed":
        return {k: v.t().contiguous().t() if v.ndim == 2 else v for k, v in sd.items()}
    pool = torch.cat([torch.zeros(7), *(v.flatten() for v in sd.values())])
    out, at = {}, 7
    for k, v in sd.items():
        out[k] = pool[at : at + v.numel()].view(v.shape)
        at += v.numel()
    return out


@pytest.mark.parametrize("how", ["bfloat16", "float64", "transposed", "views at offsets"])
def test_weights_stored_oddly_load_value_for_value(how, tmp_path):
    sd = fabricate(classifier_layout("tiny", n_outputs=2))
    odd = _odd_storage(sd, how)
    path = tmp_path / "odd.pth"
    torch.save({"model": odd}, path)
    model = load_model(path).model
    assert {t.dtype for t in model.state_dict().values()} == {torch.float32}
    assert not _aliases(model)
    got = to_official(model)
    assert all(torch.equal(v.float(), got[k]) for k, v in odd.items())


@pytest.mark.parametrize("value", [1e39, -1e300])
def test_a_float64_weight_beyond_float32_is_refused_naming_it(value, tmp_path):
    """A float64 weight that is finite but beyond float32's range became an infinite weight
    when the model (float32) took it: the file loaded, and every output was NaN. Refused, in
    one line naming the file and the tensor under the file's own name."""
    sd = {k: v.double() for k, v in fabricate(classifier_layout("tiny", n_outputs=2)).items()}
    sd["blocks.1.mlp.fc1.weight"][3, 4] = value
    path = tmp_path / "wide.pth"
    torch.save({"model": sd}, path)
    with pytest.raises(CheckpointError) as info:
        load_model(path)
    said = str(info.value)
    assert said.startswith(f"{path}: tensor blocks.1.mlp.fc1.weight ") and "\n" not in said
    assert "float32" in said and f"{value:.3g}" in said


@pytest.mark.parametrize("bad", ["int64", "float64 beyond float32"])
def test_finetune_init_from_a_training_checkpoint_refuses_weights_it_cannot_take(bad, tmp_path):
    """``finetune --init last.pt`` loaded the backbone with ``load_state_dict``: an integer
    tensor was cast to float and a float64 value beyond float32's range became infinite,
    without a word. Both are one line naming the file and the tensor."""
    from labram.checkpoints.contents import CKPT_FORMAT
    from labram.stages.finetune import init_classifier

    model = LaBraMForMEM(model_config("tiny"))
    sd = dict(model.state_dict())
    if bad == "int64":
        sd["backbone.blocks.0.attn.proj.weight"] = torch.ones(100, 100, dtype=torch.int64)
    else:
        sd["backbone.blocks.0.attn.proj.weight"] = torch.full((100, 100), 1e39, dtype=torch.float64)
    path = tmp_path / "last.pt"
    state = {"format": CKPT_FORMAT, "kind": "mem", "model_config": model.config.to_dict()}
    torch.save({**state, "model": sd}, path)
    with pytest.raises(CheckpointError) as info:
        init_classifier(path, 1, "tiny", 0.0)
    said = str(info.value)
    assert said.startswith(f"{path}: ") and "\n" not in said
    assert "tensor backbone.blocks.0.attn.proj.weight " in said


def test_weights_stored_as_views_of_one_storage_keep_only_their_own_values(tmp_path):
    """A file whose weights are views into one storage (a flat buffer, as some optimisers keep
    them): the first weight became the model's as it was, a view holding the whole buffer, so
    the model kept it alive and ``labram convert`` wrote it whole, a file twice the weights'
    size. Each weight now holds its own values only."""
    sd = fabricate(classifier_layout("tiny", n_outputs=2))
    path = tmp_path / "pooled.pth"
    torch.save({"model": _odd_storage(sd, "views at offsets")}, path)
    model = load_model(path).model
    for name, t in model.state_dict().items():
        assert t.untyped_storage().nbytes() == t.numel() * t.element_size(), name
    plain = tmp_path / "plain.pth"
    torch.save({"model": sd}, plain)
    labram.convert_file(path, tmp_path / "pooled.pt")
    labram.convert_file(plain, tmp_path / "plain.pt")
    assert (tmp_path / "pooled.pt").stat().st_size == (tmp_path / "plain.pt").stat().st_size
