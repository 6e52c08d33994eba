"""Released layouts in and out: strict loading for every size, exact round trips, files."""

from __future__ import annotations

import pytest
import torch
from click.testing import CliRunner
from labram_layouts import classifier_layout, fabricate, mem_layout, tokenizer_layout

import labram
from labram.checkpoints.errors import CheckpointError
from labram.checkpoints.layouts import (
    build_official,
    convert_file,
    load_ours,
    save_official,
    save_ours,
    to_official,
)
from labram.checkpoints.official_keys import detect_kind
from labram.checkpoints.wrappers import unwrap
from labram.model.classifier import LaBraMClassifier
from labram.model.config import model_config, tokenizer_config
from labram.model.mem import LaBraMForMEM
from labram.model.tokenizer import VQNSPTokenizer

LAYOUTS = {
    "mem": lambda: mem_layout("tiny"),
    "classifier": lambda: classifier_layout("tiny", n_outputs=2),
    "tokenizer": lambda: tokenizer_layout(100, 2, 4, 4, n_codes=256, code_dim=16, decoder_depth=1),
}


def _same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("kind", sorted(LAYOUTS))
def test_official_round_trip_is_exact(kind):
    sd = fabricate(LAYOUTS[kind](), seed=1)
    model = labram.load_official(sd, kind)
    assert _same(to_official(model), sd)
    again = labram.load_official(to_official(model), kind)
    assert _same(again.state_dict(), model.state_dict())


@pytest.mark.parametrize("size", ["base", "large", "huge"])
@pytest.mark.parametrize("kind", ["mem", "classifier"])
def test_every_size_loads_strictly(size, kind):
    layout = mem_layout(size) if kind == "mem" else classifier_layout(size)
    sd = {k: torch.empty(shape, device="meta") for k, shape in layout.items()}
    with torch.device("meta"):
        model = build_official(sd, kind)  # type: ignore[arg-type]
    assert model.config == model_config(size)  # type: ignore[union-attr]
    out = to_official(model)
    assert {k: tuple(v.shape) for k, v in out.items()} == layout


def test_released_tokenizer_layout_loads_strictly():
    sd = {k: torch.empty(s, device="meta") for k, s in tokenizer_layout().items()}
    with torch.device("meta"):
        tok = build_official(sd, "tokenizer")
    assert tok.config == tokenizer_config("base")  # type: ignore[union-attr]


@pytest.mark.parametrize(("size", "depth"), [("base", 12), ("large", 24)])
def test_tokenizer_presets_export_the_released_layout(size, depth):
    """A tokenizer built from a preset (not loaded from a file) writes every released key, at
    its shape: encoder and decoder blocks, both tables, the quantizer's buffers, the heads."""
    with torch.device("meta"):
        tok = VQNSPTokenizer(tokenizer_config(size))
    out = {k: tuple(v.shape) for k, v in to_official(tok).items()}
    assert out == tokenizer_layout(depth=depth)


def test_unexpected_and_missing_keys_are_reported():
    sd = fabricate(LAYOUTS["classifier"](), seed=2)
    sd["blocks.0.attn.extra"] = torch.zeros(1)
    with pytest.raises(CheckpointError, match=r"unexpected \['blocks.0.attn.extra'\]"):
        labram.load_official(sd, "classifier")
    sd = fabricate(LAYOUTS["classifier"](), seed=2)
    del sd["blocks.1.mlp.fc1.bias"]
    with pytest.raises(CheckpointError, match=r"missing.*blocks\.1\.mlp\.fc1\.bias"):
        labram.load_official(sd, "classifier")


def test_mem_without_top_level_head_is_reinitialised_with_a_warning():
    sd = fabricate(LAYOUTS["mem"](), seed=3)
    for key in ("lm_head.weight", "lm_head.bias"):
        del sd[key]
    with pytest.warns(UserWarning, match="lm_head.weight.*freshly initialised"):
        model = labram.load_official(sd, "mem")
    assert isinstance(model, LaBraMForMEM)
    assert not torch.equal(model.lm_head.weight, sd["student.lm_head.weight"])


def test_a_file_refused_for_other_keys_is_not_said_to_be_loaded_with_a_fresh_head():
    """A mem file without its top-level head that the strict load then refuses (a backbone
    key missing, or one it does not know) said 'freshly initialised here (train before use)'
    before the error, as though it had loaded: only the error is said now."""
    import warnings

    for change in ("drop", "add"):
        sd = fabricate(LAYOUTS["mem"](), seed=3)
        for key in ("lm_head.weight", "lm_head.bias"):
            del sd[key]
        if change == "drop":
            del sd["student.blocks.0.norm1.bias"]
        else:
            sd["student.fc_norm.weight"] = torch.ones(200)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with pytest.raises(CheckpointError, match=r"missing|unexpected"):
                labram.load_official(sd, "mem")
        assert not [w for w in caught if "freshly initialised" in str(w.message)], change


def test_classifier_from_pretraining_checkpoint():
    sd = fabricate(LAYOUTS["mem"](), seed=4)
    with pytest.warns(UserWarning, match="head"):
        clf = labram.load_official({"model": sd}, "classifier", n_outputs=6)
    assert isinstance(clf, LaBraMClassifier) and clf.n_outputs == 6
    torch.testing.assert_close(clf.backbone.spatial_embed, sd["student.pos_embed"])


def test_unwrap_and_detect():
    sd = fabricate(LAYOUTS["classifier"](), seed=5)
    assert unwrap({"module": {f"module.{k}": v for k, v in sd.items()}}).keys() == sd.keys()
    assert detect_kind(sd) == "classifier"
    with pytest.raises(CheckpointError, match="sentinel"):
        detect_kind({"foo": torch.zeros(1)})
    with pytest.raises(CheckpointError, match="not a tokenizer"):
        labram.load_official(sd, "tokenizer")
    with pytest.raises(CheckpointError, match="allowed 'mem', 'classifier', 'tokenizer'"):
        labram.load_official(sd, "bert")


def test_files_both_directions(tmp_path):
    sd = fabricate(LAYOUTS["mem"](), seed=6)
    official = tmp_path / "labram-tiny.pth"
    torch.save({"model": sd}, official)
    ours, back = tmp_path / "ours.pt", tmp_path / "back.pth"
    assert "labram, mem" in convert_file(official, ours)
    assert "released layout" in convert_file(ours, back)
    assert _same(torch.load(back, weights_only=True)["model"], sd)
    model = load_ours(ours)
    assert isinstance(model, LaBraMForMEM)
    with pytest.raises(CheckpointError, match="not found"):
        labram.load_official(tmp_path / "missing.pth", "mem")


def test_save_official_and_ours(tmp_path):
    tok = VQNSPTokenizer(tokenizer_config("tiny"))
    save_official(tok, tmp_path / "vqnsp.pth")
    loaded = labram.load_official(tmp_path / "vqnsp.pth", "tokenizer")
    assert _same(loaded.state_dict(), tok.state_dict())
    clf = LaBraMClassifier(model_config("tiny"), 3)
    save_ours(clf, tmp_path / "clf.pt")
    assert _same(load_ours(tmp_path / "clf.pt").state_dict(), clf.state_dict())


def test_cli_convert(tmp_path):
    from cli import labram_cli

    sd = fabricate(LAYOUTS["tokenizer"](), seed=7)
    torch.save({"model": sd}, tmp_path / "vqnsp.pth")
    runner = CliRunner()
    res = runner.invoke(
        labram_cli, ["convert", str(tmp_path / "vqnsp.pth"), str(tmp_path / "t.pt")]
    )
    assert res.exit_code == 0, res.output
    assert "labram, tokenizer" in res.output
    res = runner.invoke(labram_cli, ["convert", str(tmp_path / "nope.pth"), str(tmp_path / "x")])
    assert res.exit_code != 0 and "not found" in res.output
    assert "Traceback" not in res.output


def test_convert_of_our_checkpoint_says_which_options_it_ignores(tmp_path):
    """Our checkpoint states its kind, size and outputs: --size/--kind/--n-outputs given with
    it had no effect without a word (the house rule: warn when an option does nothing)."""
    from cli import labram_cli

    save_ours(LaBraMClassifier(model_config("tiny"), 3), tmp_path / "clf.pt")
    args = ["convert", str(tmp_path / "clf.pt"), str(tmp_path / "out.pth")]
    res = CliRunner().invoke(labram_cli, [*args, "--size", "huge", "--n-outputs", "5"])
    assert res.exit_code == 0, res.output
    warning = [line for line in res.output.splitlines() if line.startswith("warning:")]
    assert len(warning) == 1 and "--size, --n-outputs ignored" in warning[0], res.output
    res = CliRunner().invoke(labram_cli, [*args, "--force"])
    assert res.exit_code == 0 and "warning" not in res.output, res.output


def test_variants_are_inferred_from_the_keys():
    """Fine-tuned with the original's qkv_bias=True and init_values=0: still loads strictly."""
    layout = classifier_layout("tiny")
    layout = {k: v for k, v in layout.items() if ".gamma_" not in k}
    for b in range(2):
        layout[f"blocks.{b}.attn.q_bias"] = (100,)
        layout[f"blocks.{b}.attn.v_bias"] = (100,)
    model = labram.load_official(fabricate(layout), "classifier")
    assert model.config.qv_bias and model.config.layer_scale_init == 0  # type: ignore[union-attr]


def test_a_claimed_size_the_file_cannot_hold_is_refused_before_it_is_built():
    """A crafted key (blocks.99999.*) or config (depth 10^6) claims a model far larger than the
    weights in the file: refused in one line, without allocating it (built on 'meta' first)."""
    import time

    sd = fabricate(LAYOUTS["mem"](), seed=3)
    sd["student.blocks.99999.gamma_1"] = torch.zeros(1)
    t0 = time.perf_counter()
    with pytest.raises(CheckpointError, match=r"describes a (model|LaBraMForMEM) of [\d,]+ param"):
        labram.load_official(sd, "mem")
    from labram.checkpoints.layouts import ours_dict, ours_from

    obj = ours_dict(LaBraMForMEM(model_config("tiny")))
    obj["config"] = {**obj["config"], "depth": 10**6}  # a count in range, too large a model
    with pytest.raises(CheckpointError, match="parameters or more, but the file holds"):
        ours_from(obj, source="crafted.pt")
    obj["config"] = {**obj["config"], "depth": 10**7}  # beyond any count: the field is named
    with pytest.raises(CheckpointError, match=r"crafted.pt: .*`depth`: expected an integer"):
        ours_from(obj, source="crafted.pt")
    assert time.perf_counter() - t0 < 60  # (a guard: a depth of 10^7 built, even on 'meta': hours)


def test_a_tensor_of_another_shape_is_one_line_naming_it():
    sd = fabricate(LAYOUTS["classifier"](), seed=2)
    sd["blocks.0.attn.qkv.weight"] = sd["blocks.0.attn.qkv.weight"][:, :-1].clone()
    with pytest.raises(CheckpointError, match=r"its shape is \(300, 99\) in the file") as err:
        labram.load_official(sd, "classifier")
    assert "\n" not in str(err.value) and "blocks.0.attn.qkv.weight" in str(err.value)


SHAPE_CASES = {  # (layout, kind loaded as, two 2-D weights of the file made one column short)
    "mem": ("mem", "mem", ("student.blocks.1.mlp.fc2.weight", "lm_head.weight")),
    "classifier from mem": ("mem", "classifier", ("student.blocks.0.attn.proj.weight",
                                                  "student.blocks.1.mlp.fc1.weight")),
    "classifier": ("classifier", "classifier", ("blocks.1.attn.proj.weight", "head.weight")),
    "tokenizer": ("tokenizer", "tokenizer", ("encoder.blocks.0.mlp.fc2.weight",
                                             "decoder.blocks.0.mlp.fc2.weight")),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(SHAPE_CASES))
def test_a_tensor_of_another_shape_is_named_as_the_file_names_it(case):
    """The line named the model's key (``backbone.blocks.1...``), which no file holds, and
    said "(and 1 more tensors)": it names the file's key, both shapes, and counts the rest."""
    layout, kind, keys = SHAPE_CASES[case]
    sd = fabricate(LAYOUTS[layout](), seed=2)
    shapes = {}
    for key in keys:
        sd[key] = sd[key][:, :-1].clone()
        shapes[key] = sd[key].shape
    with pytest.raises(CheckpointError) as err:
        labram.load_official(sd, kind)
    line = str(err.value)
    named = next((k for k in keys if f"tensor {k}: " in line), None)
    assert named is not None, line
    rows, cols = shapes[named]
    said = f"its shape is ({rows}, {cols}) in the file, ({rows}, {cols + 1}) in the model"
    assert f"tensor {named}: {said} (and 1 more tensor)" in line, line
    assert "backbone." not in line and "\n" not in line


def _prefixed(sd: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    return {prefix + k: v for k, v in sd.items()}


def _student(sd: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k[len("student.") :]: v for k, v in sd.items() if k.startswith("student.")}


WRAPPED = {  # how a user's real checkpoint may wrap a released layout
    "model. prefix": lambda sd: {"model": _prefixed(sd, "model.")},
    "module. prefix (DDP)": lambda sd: {"model": _prefixed(sd, "module.")},
    "DDP around a wrapper": lambda sd: {"state_dict": _prefixed(sd, "module.model.")},
    "torch.compile": lambda sd: _prefixed(sd, "_orig_mod."),
    "Lightning": lambda sd: {"state_dict": _prefixed(sd, "model."), "epoch": 3},
    "nested model": lambda sd: {"model": {"model": sd}},
    "bare, prefixed": lambda sd: _prefixed(sd, "model."),
    "the authors' save_model": lambda sd: {
        "model": sd, "optimizer": {"state": {}, "param_groups": []}, "epoch": 9,
        "scaler": {"scale": 65536.0}, "args": __import__("argparse").Namespace(lr=5e-4),
    },
}  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "wrap"),
    [*(("classifier", w) for w in sorted(WRAPPED)), ("mem", "model. prefix"),
     ("tokenizer", "DDP around a wrapper")],
)  # fmt: skip
def test_wrapped_and_prefixed_checkpoints_load_as_the_plain_one(kind, wrap, tmp_path):
    sd = fabricate(LAYOUTS[kind](), seed=8)
    path = tmp_path / "wrapped.pth"
    torch.save(WRAPPED[wrap](sd), path)
    model = labram.load_official(path, kind)
    assert _same(to_official(model), sd)


@pytest.mark.parametrize("nest", [lambda s: {"student": s}, lambda s: {"model": {"student": s}}])
def test_a_student_saved_alone_loads_as_the_pretraining_model(nest):
    sd = fabricate(LAYOUTS["mem"](), seed=9)
    student = {k: v for k, v in sd.items() if k.startswith("student.")}
    with pytest.warns(UserWarning, match="lm_head.weight.*freshly initialised"):
        model = labram.load_official(nest(_student(sd)), "mem")
    assert _same({k: v for k, v in to_official(model).items() if k.startswith("student.")},
                 student)  # fmt: skip


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        (lambda sd: {"model": sd, "state_dict": sd}, r"under each of 'model', 'state_dict'"),
        (
            lambda sd: {"model": {**_prefixed(sd, "model."), "x": torch.zeros(1)}},
            r"of its \d+ keys start with 'model\.' and the others do not \('x'",
        ),
        (lambda sd: {"model": {**sd, "head.bias": None}}, r"`model\['head\.bias'\]` is a NoneType"),
        (lambda sd: {"model": {**sd, "cls_token": [1.0, 2.0]}}, r"`model\.cls_token` is a list"),
    ],
    ids=["two wrappers", "prefix on some keys", "None weight", "list weight"],
)
def test_ambiguous_or_non_tensor_state_dicts_are_one_line(obj, message, tmp_path):
    path = tmp_path / "odd.pth"
    torch.save(obj(fabricate(LAYOUTS["classifier"](), seed=10)), path)
    with pytest.raises(CheckpointError, match=message) as info:
        labram.load_official(path, "classifier")
    assert "\n" not in str(info.value) and str(info.value).startswith(str(path))


def test_finetune_init_from_a_released_classifier_with_another_head(tmp_path):
    """A released fine-tuned classifier (2 outputs) as --init of a 1-output task: only its
    backbone is kept, but it was built with the task's head and refused as not fitting."""
    from labram.stages.finetune import init_classifier

    sd = fabricate(LAYOUTS["classifier"](), seed=11)
    torch.save({"model": sd}, tmp_path / "tuev-finetuned.pth")
    model = init_classifier(tmp_path / "tuev-finetuned.pth", 1, "tiny", 0.0)
    assert model.n_outputs == 1
    torch.testing.assert_close(model.backbone.spatial_embed, sd["pos_embed"])


def test_finetune_init_from_a_training_checkpoint_without_a_state_dict(tmp_path):
    from labram.checkpoints.contents import CKPT_FORMAT
    from labram.stages.finetune import init_classifier

    cfg = model_config("tiny").to_dict()
    for weights, what in (
        ([1, 2], "a list"),
        ({"backbone.cls_token": 1.0}, "a dict of non-tensors"),
    ):
        path = tmp_path / "last.pt"
        torch.save({"format": CKPT_FORMAT, "kind": "mem", "model_config": cfg, "model": weights},
                   path)  # fmt: skip
        with pytest.raises(CheckpointError, match=f"last.pt: its weights are {what}"):
            init_classifier(path, 1, "tiny", 0.0)


@pytest.mark.parametrize(("kind", "size"), [("classifier", "base"), ("tokenizer", "base")])
def test_a_size_other_than_the_files_names_both(kind, size):
    """`convert --size base` of a tiny file listed the first of ~50 mismatched tensors."""
    sd = fabricate(LAYOUTS[kind](), seed=12)
    with pytest.raises(CheckpointError, match=rf"holds a tiny model \(dim 100.*not --size {size} "
                       r"\(dim 200.*leave --size out"):  # fmt: skip
        labram.load_official(sd, kind, size=size)
    assert labram.load_official(sd, kind, size="tiny") is not None  # the file's own: as before


@pytest.mark.parametrize(("have", "kind"), [("mem", "tokenizer"), ("classifier", "mem"),
                                            ("tokenizer", "classifier")])  # fmt: skip
def test_convert_to_a_kind_the_layout_cannot_make_is_one_line(have, kind, tmp_path):
    torch.save({"model": fabricate(LAYOUTS[have](), seed=13)}, tmp_path / "in.pth")
    with pytest.raises(CheckpointError, match=f"holds a {have} checkpoint, which makes no {kind}"):
        convert_file(tmp_path / "in.pth", tmp_path / "out.pt", kind=kind)
    assert not (tmp_path / "out.pt").exists()
