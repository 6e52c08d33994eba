"""The system's shared memory (``/dev/shm``) is needed by loader workers alone: training in one
process (``--workers 0``, the default) runs where it cannot be written (a read-only or full
``/dev/shm``: some containers and clusters), and workers there are one line naming it."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from eegprep.base.errors import UsageError
from labram.data.loader import WindowDataset, make_loader
from labram.data.sampler import BatchPlan
from labram.data.windows import build_pretrain_index


def _refused(self: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
    """What torch raises where ``/dev/shm`` is read-only."""
    raise RuntimeError(
        "unable to open shared memory object </torch_1_2_0> in read-write mode: "
        "Read-only file system (30)"
    )


@pytest.fixture
def unshared(stores: list[str], monkeypatch: pytest.MonkeyPatch) -> WindowDataset:
    """A dataset made where the system's shared memory cannot be used."""
    plan = BatchPlan(build_pretrain_index(stores), batch_size=4, seed=1)
    monkeypatch.setattr(torch.Tensor, "share_memory_", _refused)
    return WindowDataset(plan)


def test_one_process_reads_without_shared_memory(unshared: WindowDataset) -> None:
    ds, plan = unshared, unshared.plan
    for epoch, start in ((0, 0), (1, 1)):
        ds.set_epoch(epoch, start)
        got = [b["ids"].tolist() for b in make_loader(ds)]
        assert got == [b.tolist() for b in plan.batches(epoch)[start:]]


def test_workers_without_shared_memory_are_one_line(unshared: WindowDataset) -> None:
    ds = unshared
    with pytest.raises(UsageError, match=r"^/dev/shm: loader workers need .*Read-only file "
                       r"system \(30\)\); run with --workers 0") as err:  # fmt: skip
        make_loader(ds, num_workers=2)
    assert "\n" not in str(err.value)
