"""Checkpoints as training code really saves them, through every reader of weights.

A state dict saved from a DDP-wrapped (``module.``), compiled (``_orig_mod.``) or doubly
wrapped model, in float16 or bfloat16, from CUDA tensors, with the original code's optimizer,
epoch, scaler, ``args`` and EMA copy beside it, as safetensors: each loads to the model the
plain file gives (the same output bits), or is refused in one line naming the file; never a
model with weights silently missing.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from labram_layouts import classifier_layout, fabricate, mem_layout
from torch import Tensor, nn

import labram
from labram.checkpoints.contents import CKPT_FORMAT
from labram.checkpoints.errors import CheckpointError
from labram.checkpoints.layouts import convert_file, load_ours, ours_dict
from labram.checkpoints.load import load_model
from labram.checkpoints.safetensors_files import save_safetensors
from labram.model.classifier import LaBraMClassifier
from labram.model.config import model_config, tokenizer_config
from labram.model.mem import LaBraMForMEM
from labram.model.tokenizer import VQNSPTokenizer
from labram.stages.finetune import init_classifier

PREFIXES = ["module.", "_orig_mod.", "module._orig_mod."]
X = torch.randn(2, 3, 2, 200, generator=torch.Generator().manual_seed(0))
CHANNELS = torch.tensor([0, 5, 9])


def _prefixed(sd: dict[str, Tensor], prefix: str) -> dict[str, Tensor]:
    return {prefix + k: v for k, v in sd.items()}


def _outputs(model: nn.Module) -> Tensor:
    with torch.no_grad():
        if isinstance(model, LaBraMClassifier):
            return model.eval()(X, CHANNELS)
        return model.eval().backbone(X, CHANNELS)  # type: ignore[operator]


def _classifier() -> LaBraMClassifier:
    torch.manual_seed(3)
    return LaBraMClassifier(model_config("tiny"), 2).eval()


def _training(model: LaBraMClassifier, sd: dict[str, Tensor]) -> dict[str, Any]:
    """A ``last.pt`` as our trainer writes it, holding ``sd``."""
    return {"format": CKPT_FORMAT, "kind": "classifier",
            "model_config": model.config.to_dict(), "model": sd}  # fmt: skip


def _save(obj: dict[str, Any], path: Path) -> Path:
    if path.suffix == ".safetensors":
        save_safetensors(obj, path)
    else:
        torch.save(obj, path)
    return path


def _backbone(model: nn.Module) -> dict[str, Tensor]:
    return {k: v for k, v in model.state_dict().items() if k.startswith("backbone.")}


def _same(a: dict[str, Tensor], b: dict[str, Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def _via_convert(path: Path) -> nn.Module:
    """``labram convert`` of ``path``: the model the file it writes holds."""
    out = path.with_name(f"converted-{path.stem}.pth")
    convert_file(path, out)
    return load_model(out).model


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize("form", ["ours.pt", "ours.safetensors", "last.pt"])
def test_our_files_saved_from_a_wrapped_model_load_as_the_plain_one(prefix, form, tmp_path):
    """Before: our ``best.pt``/``model.pt``/``last.pt`` whose weights came from a DDP or
    compiled model were refused (a list of 70 missing and 70 unexpected keys), by every
    reader."""
    model = _classifier()
    want = _outputs(model)
    sd = _prefixed(model.state_dict(), prefix)
    obj = _training(model, sd) if form == "last.pt" else {**ours_dict(model), "model": sd}
    path = _save(obj, tmp_path / f"wrapped-{form}")
    assert torch.equal(_outputs(load_model(path).model), want)
    assert _same(_backbone(init_classifier(path, 1, "tiny", 0.0)), _backbone(model))
    if form != "last.pt":  # (convert takes our model files and released layouts)
        assert torch.equal(_outputs(_via_convert(path)), want)


@contextlib.contextmanager
def _saved_on_cuda() -> Iterator[None]:
    """``torch.save`` as on a GPU: every storage's location recorded as ``cuda:0`` (what a
    CPU-only machine cannot restore unless the reader maps it to the CPU)."""
    from torch import serialization

    def tag(storage: Any) -> str:
        return "cuda:0"

    serialization.register_package(-100, tag, lambda obj, location: None)
    try:
        yield
    finally:
        registry = serialization._package_registry
        registry[:] = [entry for entry in registry if entry[1] is not tag]


def _official_sd() -> dict[str, Tensor]:
    return fabricate(classifier_layout("tiny", n_outputs=2), seed=21)


ARGS = argparse.Namespace(model="labram_base_patch200_200", lr=5e-4, output_dir="out")
RELEASED: dict[str, Callable[[dict[str, Tensor]], dict[str, Any]]] = {
    **{f"{p} keys": lambda sd, p=p: {"model": _prefixed(sd, p)} for p in PREFIXES},
    "the original's save_model, EMA beside": lambda sd: {
        "model": sd, "optimizer": {"state": {}, "param_groups": [{"lr": 1e-3, "params": [0]}]},
        "epoch": 29, "scaler": {"scale": 65536.0, "growth_factor": 2.0}, "args": ARGS,
        "model_ema": {k: v + 1.0 for k, v in sd.items()},
    },
    "EMA copy alone": lambda sd: {"model_ema": sd, "epoch": 29},
    "non-contiguous": lambda sd: {"model": {k: v.t().contiguous().t() if v.ndim == 2 else v
                                            for k, v in sd.items()}},
}  # fmt: skip


def _readers() -> dict[str, Callable[[Path], nn.Module]]:
    return {
        "load_official": lambda p: labram.load_official(p, "classifier"),
        "load_model": lambda p: load_model(p).model,
        "convert": _via_convert,
    }


@pytest.mark.parametrize(
    ("reader", "on_cuda"), [*((r, False) for r in sorted(_readers())), ("load_model", True)]
)
@pytest.mark.parametrize("variant", sorted(RELEASED))
def test_released_layouts_as_training_code_saves_them(variant, reader, on_cuda, tmp_path):
    """Before: an EMA copy saved alone was refused as "'model_ema' is a dict: every weight
    must be a tensor"."""
    sd = _official_sd()
    want = _outputs(labram.load_official({"model": sd}, "classifier"))
    path = tmp_path / "checkpoint-best.pth"
    with _saved_on_cuda() if on_cuda else contextlib.nullcontext():
        torch.save(RELEASED[variant](sd), path)
    assert torch.equal(_outputs(_readers()[reader](path)), want)
    init = init_classifier(path, 1, "tiny", 0.0)
    assert torch.equal(init.backbone.spatial_embed, sd["pos_embed"])


@pytest.mark.parametrize("prefix", ["", *PREFIXES])
def test_safetensors_with_the_keys_of_wrapped_models(prefix, tmp_path):
    from safetensors.torch import save_file

    sd = _official_sd()
    want = _outputs(labram.load_official({"model": sd}, "classifier"))
    path = tmp_path / "weights.safetensors"
    save_file(_prefixed(sd, prefix), str(path))
    for read in _readers().values():
        assert torch.equal(_outputs(read(path)), want)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("form", ["released", "ours", "last.pt", "ours.safetensors"])
def test_half_precision_weights_give_a_float32_model_of_their_values(dtype, form, tmp_path):
    """Weights saved after ``model.half()`` or under bf16 training: the model is float32 and
    holds exactly the file's values (each widened, none changed)."""
    if form == "released":
        sd = {k: v.to(dtype) for k, v in _official_sd().items()}
        plain = labram.load_official({"model": {k: v.float() for k, v in sd.items()}},
                                     "classifier")  # fmt: skip
        obj: dict[str, Any] = {"model": sd}
    else:
        plain = _classifier()
        for p in plain.parameters():
            p.data = p.data.to(dtype).float()
        sd = {k: v.to(dtype) for k, v in plain.state_dict().items()}
        obj = _training(plain, sd) if form == "last.pt" else {**ours_dict(plain), "model": sd}
    path = _save(obj, tmp_path / ("w.safetensors" if "safetensors" in form else "w.pt"))
    model = load_model(path).model
    assert {t.dtype for t in model.state_dict().values()} == {torch.float32}
    assert _same(model.state_dict(), plain.state_dict())
    assert torch.equal(_outputs(model), _outputs(plain))
    init = init_classifier(path, 1, "tiny", 0.0)
    assert init.backbone.cls_token.dtype == torch.float32
    assert _same(_backbone(init), _backbone(plain))


def test_tied_weights_load_as_separate_copies_of_their_values(tmp_path):
    """Two names for one tensor (tied weights): the model gets the values under both names,
    in memory of its own each. (safetensors keeps such a storage under one name only, as
    ``save_model`` writes it: the other is then missing, refused by name below.)"""
    from safetensors.torch import save_file

    sd = _official_sd()
    sd["blocks.1.attn.proj.weight"] = sd["blocks.0.attn.proj.weight"]  # (the same tensor)
    want = _outputs(labram.load_official({"model": {k: v.clone() for k, v in sd.items()}},
                                         "classifier"))  # fmt: skip
    torch.save({"model": sd}, tmp_path / "tied.pth")
    model = load_model(tmp_path / "tied.pth").model
    assert torch.equal(_outputs(model), want)
    blocks = model.backbone.blocks  # type: ignore[union-attr]
    a, b = blocks[0].attn.proj.weight, blocks[1].attn.proj.weight
    assert torch.equal(a, b) and a.data_ptr() != b.data_ptr()
    path = tmp_path / "deduplicated.safetensors"
    save_file({k: v for k, v in sd.items() if k != "blocks.1.attn.proj.weight"}, str(path))
    with pytest.raises(CheckpointError, match=r"missing \['blocks\.1\.attn\.proj\.weight'\]"):
        load_model(path)


@pytest.mark.parametrize("suffix", [".safetensors", ".pth"])
@pytest.mark.parametrize(
    ("kind", "drop", "says"),
    [("tokenizer", "quantizer.codebook", "'encoder.cls_token' but not "
      "'quantize.embedding.weight' (ours: 'quantizer.codebook')"),
     ("classifier", "backbone.blocks.0.norm1.weight", "'cls_token' but not "
      "'blocks.0.norm1.weight'")],
)  # fmt: skip
def test_a_file_lacking_a_sentinel_weight_names_it(
    kind: str, drop: str, says: str, suffix: str, tmp_path: Path
) -> None:
    """Before: a file lacking the one key its layout is told by (a tokenizer's codebook) was
    "not a LaBraM checkpoint in a released layout: none of the sentinel keys ... found",
    naming no missing key; another model's file (no LaBraM time table) still is."""
    from safetensors.torch import save_file

    sd = {k: v.contiguous() for k, v in _our_model(kind).state_dict().items() if k != drop}
    path = tmp_path / f"lacking{suffix}"
    save_file(sd, str(path)) if suffix == ".safetensors" else torch.save({"model": sd}, path)
    with pytest.raises(CheckpointError) as info:
        load_model(path)
    msg = str(info.value)
    assert "\n" not in msg and msg.startswith(f"{path}: a LaBraM {kind} checkpoint that lacks")
    assert says in msg and "save the model's whole state dict again" in msg, msg
    other = {k: v for k, v in sd.items() if "time_embed" not in k}  # (no LaBraM file)
    torch.save({"model": other}, path)
    with pytest.raises(CheckpointError, match="not a LaBraM checkpoint in a released layout"):
        load_model(path)


def _every_model() -> Iterator[tuple[str, nn.Module]]:
    """Every model labram builds, at every preset, on ``meta`` (no memory)."""
    from labram.model.config import MODEL_PRESETS, TOKENIZER_PRESETS

    with torch.device("meta"):
        for size in MODEL_PRESETS:
            yield f"classifier {size}", LaBraMClassifier(model_config(size), 4)
            yield f"mem {size}", LaBraMForMEM(model_config(size))
        for size in TOKENIZER_PRESETS:
            yield f"tokenizer {size}", VQNSPTokenizer(tokenizer_config(size))


def test_no_model_of_labram_ties_weights() -> None:
    """The one way a PyTorch model shares a tensor between two names is one Parameter or
    buffer held in two places: none of our models does, so a safetensors file of one (which
    ``save_model`` writes without the second name of a shared tensor) holds every name, and a
    missing name is a missing weight, never one to fill from its tied partner."""
    for name, model in _every_model():
        params = [n for n, _ in model.named_parameters(remove_duplicate=False)]
        buffers = [n for n, _ in model.named_buffers(remove_duplicate=False)]
        assert params == [n for n, _ in model.named_parameters()], name
        assert buffers == [n for n, _ in model.named_buffers()], name


@pytest.mark.parametrize("kind", ["classifier", "mem", "tokenizer"])
def test_safetensors_save_model_of_our_models_loads_bit_for_bit(kind: str, tmp_path: Path) -> None:
    """``safetensors.torch.save_model`` (which drops the names of shared tensors) writes every
    name of ours: the file loads to the same weights and outputs."""
    from safetensors.torch import save_model

    model = _our_model(kind)
    path = tmp_path / "saved_model.safetensors"
    save_model(model, str(path))
    loaded = load_model(path).model
    assert type(loaded) is type(model) and _same(loaded.state_dict(), model.state_dict())
    if kind != "tokenizer":
        assert torch.equal(_outputs(loaded), _outputs(model))


@pytest.mark.parametrize("suffix", [".safetensors", ".pth"])
def test_a_file_lacking_a_weight_names_it_and_says_what_to_do(suffix: str, tmp_path: Path) -> None:
    """Before: ``... missing ['blocks.1.attn.proj.weight'], unexpected []`` and nothing more."""
    from safetensors.torch import save_file

    sd = {k: v.contiguous() for k, v in _official_sd().items() if k != "blocks.1.attn.proj.weight"}
    path = tmp_path / f"lacking{suffix}"
    save_file(sd, str(path)) if suffix == ".safetensors" else torch.save({"model": sd}, path)
    with pytest.raises(CheckpointError) as info:
        load_model(path)
    msg = str(info.value)
    assert "\n" not in msg and msg.startswith(f"{path} does not fit LaBraMClassifier"), msg
    assert "missing ['blocks.1.attn.proj.weight']" in msg and "lacks these weights" in msg, msg
    assert "no LaBraM model ties two names to one tensor" in msg, msg
    assert "save the model's whole state dict again" in msg, msg


@pytest.mark.parametrize("form", ["ours", "last.pt"])
def test_our_files_saved_on_cuda_load_on_the_cpu(form, tmp_path):
    model = _classifier()
    obj = _training(model, model.state_dict()) if form == "last.pt" else ours_dict(model)
    with _saved_on_cuda():
        torch.save(obj, tmp_path / "best.pt")
    assert torch.equal(_outputs(load_model(tmp_path / "best.pt").model), _outputs(model))
    if form == "ours":
        assert torch.equal(_outputs(load_ours(tmp_path / "best.pt")), _outputs(model))


def _pretraining_with(extra: str) -> dict[str, Tensor]:
    sd = fabricate(mem_layout("tiny"), seed=22)
    sd[extra] = sd["student.cls_token"].clone()
    return sd


@pytest.mark.parametrize(
    "read",
    [
        lambda p: labram.load_official(p, "classifier"),
        lambda p: init_classifier(p, 1, "tiny", 0.0),
        lambda p: convert_file(p, p.with_name("out.pt"), kind="classifier"),
    ],
    ids=["load_official", "finetune --init", "convert --kind classifier"],
)
def test_a_classifier_from_a_pretraining_file_drops_no_unknown_key(read, tmp_path):
    """Before: a classifier built from a pre-training state dict kept ``student.*`` and
    dropped every other key without a word: a ``teacher.*`` copy, or keys under a prefix we
    do not remove, loaded "successfully"."""
    path = tmp_path / "labram-base.pth"
    torch.save({"model": _pretraining_with("teacher.cls_token")}, path)
    with pytest.raises(CheckpointError, match=r"unexpected \['teacher\.cls_token'\]") as err:
        read(path)
    assert str(err.value).startswith(str(path)) and "\n" not in str(err.value)


@pytest.mark.parametrize("form", ["released", "ours", "last.pt"])
def test_a_prefix_we_do_not_remove_is_refused_never_dropped(form, tmp_path):
    """``net.`` is no wrapper's prefix: the file is refused in one line naming it, never
    loaded as a model whose weights were left at their initial values."""
    if form == "released":
        obj: dict[str, Any] = {"model": _prefixed(_official_sd(), "net.")}
    else:
        model = _classifier()
        sd = _prefixed(model.state_dict(), "net.")
        obj = _training(model, sd) if form == "last.pt" else {**ours_dict(model), "model": sd}
    path = _save(obj, tmp_path / "odd.pt")
    for read in (lambda p: load_model(p), lambda p: init_classifier(p, 1, "tiny", 0.0)):
        with pytest.raises(CheckpointError) as err:
            read(path)
        assert str(err.value).startswith(str(path)) and "\n" not in str(err.value)


def _our_model(kind: str) -> nn.Module:
    torch.manual_seed(4)
    if kind == "tokenizer":
        tokenizer = VQNSPTokenizer(tokenizer_config("tiny")).eval()
        with torch.no_grad():  # (a trained codebook: an all-zero one is warned about)
            codebook = tokenizer.quantizer.codebook
            codebook.copy_(nn.functional.normalize(torch.randn_like(codebook), dim=-1))
        return tokenizer
    return _classifier() if kind == "classifier" else LaBraMForMEM(model_config("tiny")).eval()


@pytest.mark.parametrize("kind", ["classifier", "mem", "tokenizer"])
@pytest.mark.parametrize(
    ("suffix", "wrap"),
    [(".pt", ""), (".pt", "module._orig_mod."), (".pt", "lightning"),
     (".safetensors", "module._orig_mod.")],
)  # fmt: skip
def test_our_models_state_dict_saved_by_a_users_own_loop(kind, wrap, suffix, tmp_path):
    """``torch.save(model.state_dict())`` of our model (DDP-wrapped, compiled, in a Lightning
    module) holds no config: before, it was refused as "not a LaBraM checkpoint in a
    released layout"; now its keys and shapes give its model, as a released file's do."""
    from safetensors.torch import save_file

    model = _our_model(kind)
    sd = model.state_dict()
    if wrap == "lightning":
        obj: dict[str, Any] = {"state_dict": _prefixed(sd, "model."), "epoch": 2}
    else:
        obj = {"model": _prefixed(sd, wrap)} if wrap else _prefixed(sd, wrap)
    path = tmp_path / f"mine{suffix}"
    if suffix == ".safetensors":
        save_file(_prefixed(sd, "model." if wrap == "lightning" else wrap), str(path))
    else:
        torch.save(obj, path)
    loaded = load_model(path).model
    assert type(loaded) is type(model) and _same(loaded.state_dict(), sd)
    if kind != "tokenizer":
        assert torch.equal(_outputs(loaded), _outputs(model))
        assert _same(_backbone(init_classifier(path, 1, "tiny", 0.0)), _backbone(model))
    else:
        from labram.stages.pretrain import load_tokenizer

        assert _same(load_tokenizer(path).state_dict(), sd)


@pytest.mark.parametrize("prefix", ["", "module._orig_mod."])
def test_convert_of_a_training_checkpoint_is_built_from_its_config(prefix, tmp_path):
    """``convert last.pt`` took the training checkpoint's state dict for one in our names
    that states no config and rebuilt its model from the shapes, dropping the config the
    file states; it is converted as our other files are: its model, built from its
    ``model_config``, written in the released layout."""
    from labram.checkpoints.layouts import to_official

    model = _classifier()
    path = _save(_training(model, _prefixed(model.state_dict(), prefix)), tmp_path / "last.pt")
    said = convert_file(path, tmp_path / "released.pth")
    assert "(labram, classifier)" in said and said.endswith("(released layout)")
    written = torch.load(tmp_path / "released.pth", weights_only=True)["model"]
    assert _same(written, to_official(model))
