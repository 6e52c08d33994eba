"""CUBLAS_WORKSPACE_CONFIG under a deterministic run (labram/train/rng.py): a value torch
refuses on a GPU is one line before the first step; an empty one is the default."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import torch

from eegprep.base.errors import UsageError
from labram.train.config import TrainConfig
from labram.train.rng import set_determinism

GPU = torch.device("cuda", 0)


@pytest.fixture(autouse=True)
def _restore() -> Iterator[None]:
    threads = torch.get_num_threads()
    yield
    torch.use_deterministic_algorithms(False)
    torch.backends.cudnn.deterministic = False
    torch.set_num_threads(threads)


@pytest.mark.parametrize("value", [":4096:2", "garbage", " :4096:8", ":4096:8 ", "nan"])
def test_a_value_torch_refuses_is_one_line_on_a_gpu(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Was: kept, and torch's RuntimeError at the first matrix product on the GPU."""
    monkeypatch.setenv("CUBLAS_WORKSPACE_CONFIG", value)
    with pytest.raises(UsageError, match=r"^CUBLAS_WORKSPACE_CONFIG=.*needs :4096:8 or :16:8"):
        set_determinism(TrainConfig(deterministic=True), GPU)
    assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == value
    assert not torch.are_deterministic_algorithms_enabled()


@pytest.mark.parametrize("value", ["", "  ", None])
def test_empty_or_unset_is_the_default(value: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Was: an empty value kept (torch refuses it as any other)."""
    if value is None:
        monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    else:
        monkeypatch.setenv("CUBLAS_WORKSPACE_CONFIG", value)
    set_determinism(TrainConfig(deterministic=True), GPU)
    assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":4096:8"
    assert torch.are_deterministic_algorithms_enabled()


@pytest.mark.parametrize("value", [":16:8", ":4096:8"])
def test_the_values_torch_takes_are_kept(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUBLAS_WORKSPACE_CONFIG", value)
    set_determinism(TrainConfig(deterministic=True), GPU)
    assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == value


def test_on_a_cpu_or_without_determinism_any_value_is_left_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CUBLAS_WORKSPACE_CONFIG", "garbage")
    set_determinism(TrainConfig(deterministic=True), torch.device("cpu"))
    set_determinism(TrainConfig(deterministic=False), GPU)
    assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == "garbage"
