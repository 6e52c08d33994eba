"""Distributed setup from the environment: one code path for 1 or N processes.

torchrun sets ``RANK``, ``LOCAL_RANK`` and ``WORLD_SIZE``; without them this is one process and
no process group is created. The backend is NCCL on CUDA and gloo on CPU.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.distributed as dist

from eegprep.base import strict_json
from eegprep.base.errors import EegprepError
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
        check_rendezvous()
        dist.init_process_group(backend="nccl" if use_cuda else "gloo")
    if dist.is_initialized():
        rank, world = dist.get_rank(), dist.get_world_size()
    return DistInfo(rank, local, world, dev)


def check_rendezvous() -> None:
    """Refuse, before the process group is made, a ``MASTER_ADDR`` or ``MASTER_PORT`` (which
    torchrun sets, and torch's ``env://`` rendezvous reads) that no process group can meet at.

    torch failed on them as an internal error (``invalid literal for int()``, ``port must have
    value from 0 to 65535``, ``MASTER_ADDR expected, but not set``), and ``MASTER_PORT=0`` (a
    port the system picks, which no other rank can know) waited for the other ranks for ever,
    deaf to Ctrl-C and SIGTERM.

    Raises
    ------
    UsageError
        One line naming the variable, its value and what torchrun sets it to.
    """
    from eegprep.base.errors import UsageError

    todo = "run under torchrun (which sets it), or unset WORLD_SIZE to run one process"
    addr = os.environ.get("MASTER_ADDR", "").strip()
    if not addr:
        state = "empty" if "MASTER_ADDR" in os.environ else "not set"
        raise UsageError(f"MASTER_ADDR is {state} (WORLD_SIZE is above 1): the host name of the "
                         f"first rank; {todo}")  # fmt: skip
    text = os.environ.get("MASTER_PORT", "").strip()
    port = int(text) if re.fullmatch(r"[0-9]{1,5}", text) else 0
    if not 1 <= port <= MAX_PORT:
        raise UsageError(
            f"MASTER_PORT={text[:40]!r} is not a port the ranks can meet at (a whole number from 1 "
            f"to {MAX_PORT}, in ASCII digits); {todo}"
        )


MAX_PORT = 65535
"""The largest TCP port."""


class RankLostError(EegprepError, RuntimeError):
    """Another process of this torchrun run ended (killed, out of memory, its machine gone) or
    stopped answering while this one waited for it in a collective (an all-reduce, a barrier,
    DDP's gradients)."""


PEER_ENDED = ("closed by peer", "reset by peer", "broken pipe", "remote process exited",
              "communicator was aborted", "connection refused")  # fmt: skip
"""What gloo's and NCCL's errors say when the process at the other end of a collective ended
(its sockets closed by the system: seen within a second of a SIGKILL)."""

TIMED_OUT = ("timed out", "timeout")
"""What they say when it stopped answering for the process group's timeout (torch's default:
30 min; a machine gone without closing its sockets)."""


def lost_rank_error(exc: BaseException) -> RankLostError | None:
    """``exc`` said as a rank lost, when it is a collective's failure for want of another
    process of this torchrun run (:data:`PEER_ENDED`, :data:`TIMED_OUT`), naming that rank
    when there are two; else ``None``. Reads the ranks from the environment (they outlive the
    process group)."""
    try:
        rank, _, world = torchrun_place()
    except EegprepError:
        return None
    text = " ".join(str(exc).split()).lower()
    collective = isinstance(exc, dist.DistError) or "gloo" in text or "nccl" in text
    if world <= 1 or not isinstance(exc, RuntimeError) or not collective:
        return None
    other = f"rank {1 - rank} of 2" if world == 2 else f"another of the {world} ranks"
    if any(words in text for words in PEER_ENDED):
        return RankLostError(
            f"{other} of this torchrun run ended (its process was killed or died; torchrun's "
            f"report names it) while rank {rank} waited for it"
        )
    if any(words in text for words in TIMED_OUT):
        return RankLostError(
            f"{other} of this torchrun run did not answer within the process group's timeout "
            f"while rank {rank} waited for it (its process hangs, or its machine is gone)"
        )
    return None


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


SPACE = 0x20
"""The byte a rank's shorter JSON is padded with (JSON reads it as whitespace)."""


def gather_json(doc: Any, device: torch.device) -> list[Any]:
    """Every rank's ``doc`` (plain data: strict JSON in a byte tensor, gathered; nothing is
    unpickled), in rank order; ``[doc]`` in one process. Collective: every rank calls it at the
    same point. ``device``: the rank's (NCCL gathers CUDA tensors only)."""
    if not dist.is_initialized() or dist.get_world_size() == 1:
        return [doc]
    data = strict_json.dumps(doc).encode()
    size = torch.tensor([len(data)], dtype=torch.int64, device=device)
    dist.all_reduce(size, op=dist.ReduceOp.MAX)
    buf = torch.full((int(size.item()),), SPACE, dtype=torch.uint8, device=device)
    buf[: len(data)] = torch.from_numpy(np.frombuffer(data, np.uint8).copy()).to(device)
    parts = [torch.empty_like(buf) for _ in range(dist.get_world_size())]
    dist.all_gather(parts, buf)
    return [strict_json.loads(p.cpu().numpy().tobytes().decode("utf-8")) for p in parts]


def teardown() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()
