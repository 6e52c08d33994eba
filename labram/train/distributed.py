"""Distributed setup from the environment: one code path for 1 or N processes.

torchrun sets ``RANK``, ``LOCAL_RANK`` and ``WORLD_SIZE``; without them this is one process and
no process group is created. The backend is NCCL on CUDA and gloo on CPU.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.distributed as dist

from eegprep.base.ranks import torchrun_place
from eegprep.base.wording import counted


@dataclass(frozen=True)
class DistInfo:
    rank: int
    local_rank: int
    world_size: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0


DEVICES = ("cpu", "cuda")
"""What ``--device`` takes (``cuda:N`` too): the backends labram trains and predicts on."""


def _ascii_whole(text: str) -> bool:
    """Whether ``text`` is a whole number in ASCII digits (``isdigit`` also passes ``²``, on
    which ``int`` fails, and ``٣``, which it reads as 3)."""
    return text.isascii() and text.isdigit()


def check_device(device: str | None) -> str | None:
    """``device`` (``--device``) if this process can use it, else a :class:`UsageError` that
    says what to pass: ``cpu``, ``cuda`` or ``cuda:N`` (N an index below the CUDA device count;
    not under torchrun, where each process takes the GPU of its ``LOCAL_RANK``). ``None``:
    CUDA when available."""
    from eegprep.base.errors import UsageError
    from eegprep.base.validation import invalid_value

    if device is None:
        return None
    kind, colon, index = device.partition(":")
    if kind not in DEVICES or (colon and (kind != "cuda" or not _ascii_whole(index))):
        raise invalid_value("--device", device, DEVICES, hint="(cuda:N: the GPU of index N)")
    if kind == "cuda" and not torch.cuda.is_available():
        raise UsageError(
            f"--device {device}: CUDA is not available here (torch {torch.__version__}, "
            f"{'built without CUDA' if torch.version.cuda is None else 'no GPU visible'}): "
            "pass --device cpu, or leave --device out"
        )
    if colon and torchrun_place()[2] > 1:
        raise UsageError(
            f"--device {device}: under torchrun each process uses the GPU of its LOCAL_RANK; "
            "pass --device cuda"
        )
    if colon and int(index) >= torch.cuda.device_count():
        n = torch.cuda.device_count()
        raise UsageError(
            f"--device {device}: this machine has {counted(n, 'CUDA device')}, cuda:0 to "
            f"cuda:{n - 1}"
        )
    return device


def setup(device: str | None = None) -> DistInfo:
    """Read the environment, init the process group when ``WORLD_SIZE > 1``, pick the device.

    ``device``: 'cpu', 'cuda', 'cuda:N' (one process only) or None (CUDA when available);
    anything else is refused (:func:`check_device`).
    """
    check_device(device)
    rank, local, world = torchrun_place()
    use_cuda = torch.cuda.is_available() if device is None else device.startswith("cuda")
    explicit = device is not None and ":" in device  # one process: the GPU asked for
    gpu = int(device.partition(":")[2]) if explicit and device else local
    dev = torch.device(f"cuda:{gpu}") if use_cuda else torch.device("cpu")
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
