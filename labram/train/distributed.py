"""Distributed setup from the environment: one code path for 1 or N processes.

torchrun sets ``RANK``, ``LOCAL_RANK`` and ``WORLD_SIZE``; without them this is one process and
no process group is created. The backend is NCCL on CUDA and gloo on CPU.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistInfo:
    rank: int
    local_rank: int
    world_size: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def setup(device: str | None = None) -> DistInfo:
    """Read the environment, init the process group when ``WORLD_SIZE > 1``, pick the device.

    ``device``: 'cpu', 'cuda' or None (CUDA when available).
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = torch.cuda.is_available() if device is None else device.startswith("cuda")
    dev = torch.device(f"cuda:{local}") if use_cuda else torch.device("cpu")
    if use_cuda:
        torch.cuda.set_device(dev)
    if world > 1 and not dist.is_initialized():
        dist.init_process_group(backend="nccl" if use_cuda else "gloo")
    if dist.is_initialized():
        rank, world = dist.get_rank(), dist.get_world_size()
    return DistInfo(rank, local, world, dev)


def is_main_process() -> bool:
    return not dist.is_initialized() or dist.get_rank() == 0


def barrier() -> None:
    if dist.is_initialized():
        dist.barrier()


def all_reduce_mean(x: torch.Tensor) -> torch.Tensor:
    """Mean over ranks (identity in one process)."""
    if dist.is_initialized():
        x = x.clone()
        dist.all_reduce(x)
        x /= dist.get_world_size()
    return x


def all_reduce_sum(x: torch.Tensor) -> torch.Tensor:
    """Sum over ranks (identity in one process)."""
    if dist.is_initialized():
        x = x.clone()
        dist.all_reduce(x)
    return x


def teardown() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()
