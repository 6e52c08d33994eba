"""Every rank's unreadable training windows, known to every rank: one decision under torchrun.

Each rank's loader replaces the windows of its own batches that cannot be read
(:mod:`labram.data.unreadable`). Counted by each rank alone, one rank passed the share allowed
and stopped while the others waited in the next all-reduce, and only the main rank's count
reached ``last.pt``. :func:`found_by_ranks` hands every rank what each rank replaced at one
step: one all-reduce of one number a step (0 on every rank, the usual case: nothing more), and
where a rank replaced something, its list as strict JSON in a byte tensor, gathered (nothing is
unpickled). Every rank then counts the same windows, stops at the same step with the same
line, and the checkpoint holds the whole run's.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.distributed as dist

from eegprep.base import strict_json
from labram.data.unreadable import Found

SPACE = 0x20
"""The byte a rank's shorter JSON is padded with (JSON reads it as whitespace)."""


def found_by_ranks(found: Found, device: torch.device) -> list[Found]:
    """What each rank's batch of this step replaced (``found``: this rank's), in rank order;
    ``[found]`` in one process. Collective: every rank calls it once a step. ``device``: the
    rank's (NCCL reduces CUDA tensors only)."""
    if not dist.is_initialized() or dist.get_world_size() == 1:
        return [found]
    data = strict_json.dumps([[int(w), str(rid), str(why)] for w, rid, why in found]).encode()
    size = torch.tensor([len(data) if found else 0], dtype=torch.int64, device=device)
    dist.all_reduce(size, op=dist.ReduceOp.MAX)
    most = int(size.item())
    if most == 0:  # no rank replaced a window
        return [[] for _ in range(dist.get_world_size())]
    buf = torch.full((most,), SPACE, dtype=torch.uint8, device=device)
    buf[: len(data)] = torch.from_numpy(np.frombuffer(data, np.uint8).copy()).to(device)
    parts = [torch.empty_like(buf) for _ in range(dist.get_world_size())]
    dist.all_gather(parts, buf)
    out: list[Found] = []
    for part in parts:
        doc = strict_json.loads(part.cpu().numpy().tobytes().decode("utf-8"))
        out.append([(int(w), str(rid), str(why)) for w, rid, why in doc])
    return out


__all__ = ["found_by_ranks"]
