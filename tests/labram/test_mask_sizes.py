"""Masked modelling's mask sizes are checked before anything trains.

Before: ``random_mask(ratio=0)`` or ``ratio=1`` (accepted: the check was ``0 <= ratio <= 1``),
a ratio that masks every token of a short sample (0.9 of 4 tokens), a sample of one token and a
``mask`` given to ``mem_loss`` that masks all of a sample or none left one of the two passes
without a token: the loss was NaN, with no word of why.
"""

from __future__ import annotations

import pytest
import torch

from eegprep.base.errors import UsageError
from labram.model.config import model_config, tokenizer_config
from labram.model.mem import LaBraMForMEM, mem_loss, random_mask
from labram.model.tokenizer import VQNSPTokenizer


@pytest.mark.parametrize(
    ("kw", "says"),
    [({"ratio": 0.0}, "`ratio`: expected a number in (0, 1)"),
     ({"ratio": 1.0}, "`ratio`: expected a number in (0, 1)"),
     ({"ratio": 1.5}, "`ratio`: expected a number in (0, 1)"),
     ({"ratio": float("nan")}, "`ratio`: expected a number in (0, 1)"),
     ({"ratio": 0.9, "n_tokens": 4}, "`ratio`: expected a number in (0, 0.75] for 4 tokens"),
     ({"ratio": 1e-20, "n_tokens": 4}, "it masks 0 of them"),
     ({"n_tokens": 1}, "`n_tokens`: expected an integer from 2"),
     ({"n_tokens": 0}, "`n_tokens`: expected an integer from 2"),
     ({"batch_size": 0}, "`batch_size`: expected an integer from 1")],
)  # fmt: skip
def test_a_mask_size_out_of_range_is_refused_in_one_line(kw: dict[str, float], says: str) -> None:
    args = {"batch_size": 2, "n_tokens": 6, **kw}
    with pytest.raises(UsageError, match="Invalid value for ") as err:
        random_mask(args.pop("batch_size"), args.pop("n_tokens"), **args)  # type: ignore[arg-type]
    assert says in str(err.value) and "\n" not in str(err.value), err.value


@pytest.mark.parametrize(("n_tokens", "ratio", "masked"), [(2, 0.5, 1), (6, 0.5, 3), (4, 0.75, 3),
                                                           (5, 0.5, 3), (4, 0.1, 1)])  # fmt: skip
def test_a_mask_in_range_masks_one_at_least_and_keeps_one(
    n_tokens: int, ratio: float, masked: int
) -> None:
    mask = random_mask(3, n_tokens, ratio=ratio, generator=torch.Generator().manual_seed(0))
    assert mask.sum(dim=1).tolist() == [masked] * 3


def test_a_given_mask_that_leaves_a_pass_empty_is_refused() -> None:
    torch.manual_seed(0)
    tok = VQNSPTokenizer(tokenizer_config("tiny"))
    x, channels = torch.randn(2, 3, 2, 200), torch.tensor([0, 17, 41])
    tok.train()(x, channels)  # (k-means init)
    tok.eval()
    model = LaBraMForMEM(model_config("tiny", n_codes=256))
    for mask, says in [(torch.ones(2, 6, dtype=torch.bool), "sample 0 masks 6 of 6 tokens"),
                       (torch.zeros(2, 6, dtype=torch.bool), "sample 0 masks 0 of 6 tokens"),
                       (torch.ones(2, 5, dtype=torch.bool), "of shape (2, 5)"),
                       (torch.ones(2, 6), "torch.float32")]:  # fmt: skip
        with pytest.raises(UsageError, match="Invalid value for `mask`") as err:
            mem_loss(model, tok, x, channels, mask=mask)
        assert says in str(err.value), err.value
    half = torch.zeros(2, 6, dtype=torch.bool)
    half[:, :3] = True
    assert torch.isfinite(mem_loss(model, tok, x, channels, mask=half)["loss"])
