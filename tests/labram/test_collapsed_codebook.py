"""A tokenizer whose codebook's rows are all equal (all zero: saved before k-means ran) maps
every window to one code: ``labram pretrain --tokenizer`` warns in one line naming the file
(labram/model/quantizer.py ``collapsed``, labram/stages/pretrain.py)."""

from __future__ import annotations

import warnings

import pytest
import torch

from labram.checkpoints.errors import CorruptCheckpointError
from labram.checkpoints.layouts import ours_dict, save_ours
from labram.model.config import tokenizer_config
from labram.model.quantizer import collapsed, l2norm
from labram.model.tokenizer import VQNSPTokenizer
from labram.stages.pretrain import load_tokenizer


def _tokenizer(codebook: str) -> VQNSPTokenizer:
    model = VQNSPTokenizer(tokenizer_config("tiny"))
    q = model.quantizer
    n, d = q.codebook.shape
    if codebook == "sound":
        q.codebook.copy_(l2norm(torch.randn(n, d, generator=torch.Generator().manual_seed(0))))
    elif codebook == "equal":
        q.codebook.copy_(l2norm(torch.ones(n, d)))
    if codebook != "zero":
        q.initted.fill_(1.0)
    return model


def _warnings_of(path) -> list[str]:
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        load_tokenizer(path)
    return [str(w.message) for w in got if "codebook" in str(w.message)]


@pytest.mark.parametrize(("codebook", "says"), [("zero", "all zero"), ("equal", "all equal")])
def test_a_collapsed_codebook_is_warned_naming_the_file(tmp_path, codebook, says):
    path = tmp_path / "tok.pt"
    save_ours(_tokenizer(codebook), path)
    got = _warnings_of(path)
    assert len(got) == 1, got
    assert got[0].startswith(f"{path}: its codebook's 256 rows are {says}")
    assert "every window would map to one code" in got[0] and "\n" not in got[0]


def test_a_sound_codebook_is_not_warned(tmp_path):
    path = tmp_path / "tok.pt"
    save_ours(_tokenizer("sound"), path)
    assert _warnings_of(path) == []


def test_a_non_finite_codebook_is_refused_on_read(tmp_path):
    model = _tokenizer("sound")
    model.quantizer.codebook[3, 0] = float("nan")
    path = tmp_path / "tok.pt"
    torch.save(ours_dict(model), path)
    with pytest.raises(CorruptCheckpointError, match=r"tok.pt: tensor .*codebook.* NaN"):
        load_tokenizer(path)


@pytest.mark.parametrize(
    ("codebook", "says"),
    [
        (torch.zeros(4, 3), "rows are all zero"),
        (torch.ones(4, 3), "rows are all equal"),
        (torch.ones(1, 3), "holds 1 code"),
        (torch.full((4, 3), float("inf")), "NaN or infinite"),
    ],
)
def test_collapsed_says_why(codebook, says):
    assert says in (collapsed(codebook) or "")
    assert collapsed(torch.eye(4, 3)) is None
