"""Every random number generator a run uses: seeding, determinism, and their saved state.

A checkpoint holds the state of Python's, numpy's and torch's global generators (and CUDA's),
plus the run's own ``torch.Generator`` (masks), in plain types and tensors only, so that it
reads back with ``weights_only=True`` and a resumed run draws the same numbers.
"""

from __future__ import annotations

import os
import random
from typing import Any

import numpy as np
import torch

from eegprep.base.bounds import bound_of
from eegprep.base.cores import usable_cores
from labram.train.config import TrainConfig


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


CUBLAS_VARIABLE = "CUBLAS_WORKSPACE_CONFIG"
DETERMINISTIC_CUBLAS = (":4096:8", ":16:8")
"""The values of :data:`CUBLAS_VARIABLE` under which torch runs cuBLAS deterministically; under
``torch.use_deterministic_algorithms(True)`` it refuses every other one (a ``RuntimeError`` at
the first matrix product on a GPU, once the run has started)."""


def set_determinism(cfg: TrainConfig, device: torch.device | None = None) -> None:
    """Threads and kernels for ``cfg.deterministic`` (docs/training.md, "Reproducibility").

    Deterministic: ``torch.use_deterministic_algorithms(True)`` (an op with no deterministic
    kernel raises instead of varying), cuDNN autotuning off, cuBLAS's fixed workspace
    (``CUBLAS_WORKSPACE_CONFIG=:4096:8``, if not already set: :func:`_deterministic_cublas`;
    ``device``, the run's, says whether cuBLAS will be used) and the intra-op CPU threads
    pinned to ``cfg.threads`` (1 by default): parallel reductions split their sums by thread
    count, so the thread count is part of what makes a run's bits.
    """
    threads = cfg.threads if cfg.threads is not None else (1 if cfg.deterministic else None)
    if threads is not None:
        torch.set_num_threads(threads)
    if cfg.deterministic:
        _deterministic_cublas(device)
        torch.use_deterministic_algorithms(True)
        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.deterministic = True


def resumed_threads(cfg: TrainConfig, saved: object) -> int | None:
    """Pin the intra-op CPU threads of a run resumed from a checkpoint saved at ``saved``
    threads (its ``threads`` entry, :func:`labram.train.checkpoint.checkpoint_dict`), so that
    it computes as the run it continues did, bit for bit.

    Without ``threads`` or ``deterministic`` in ``cfg`` the count is torch's default, the cores
    of the process's CPU affinity: a resume under another affinity, in another container or on
    another machine split every parallel reduction otherwise (docs/training.md,
    "Reproducibility"). A count ``cfg`` pins is its own (a resume under another is refused),
    and a checkpoint of an earlier version records none: both are left as they are. So is a
    count above the cores this process may use (:func:`usable_cores`): more threads than
    cores would slow every step many times over for bits no other resume could give.

    Returns the count set, or None where nothing changed.
    """
    if cfg.threads is not None or cfg.deterministic:
        return None
    if (
        isinstance(saved, bool)
        or not isinstance(saved, int)
        or not bound_of("threads").holds(saved)
        or saved > usable_cores()
    ):
        return None
    if saved == torch.get_num_threads():
        return None
    torch.set_num_threads(saved)
    return saved


def _deterministic_cublas(device: torch.device | None) -> None:
    """:data:`CUBLAS_VARIABLE` set to ``:4096:8`` when it is unset, empty or spaces alone (an
    empty value was kept, and torch refused it as any other); a value torch refuses
    (:data:`DETERMINISTIC_CUBLAS`) is one line naming it when the run is on a GPU (``device``),
    before its first step, and is left alone on a CPU, where cuBLAS is not used."""
    value = os.environ.get(CUBLAS_VARIABLE, "")
    if not value.strip():
        os.environ[CUBLAS_VARIABLE] = DETERMINISTIC_CUBLAS[0]
    elif value not in DETERMINISTIC_CUBLAS and device is not None and device.type == "cuda":
        from eegprep.base.errors import UsageError

        raise UsageError(
            f"{CUBLAS_VARIABLE}={value[:40]!r}: a deterministic run on a GPU needs "
            f"{' or '.join(DETERMINISTIC_CUBLAS)} (torch refuses any other value at the first "
            "matrix product): set one of them, or unset it"
        )


def _numpy_state() -> dict[str, Any]:
    """numpy's global RNG state in plain types (a weights-only load refuses ndarrays)."""
    st: dict[str, Any] = np.random.get_state(legacy=False)  # type: ignore[assignment]
    return {
        "bit_generator": str(st["bit_generator"]),
        "key": torch.from_numpy(st["state"]["key"].astype(np.int64)),  # uint32, exact in int64
        "pos": int(st["state"]["pos"]),
        "has_gauss": int(st["has_gauss"]),
        "gauss": float(st["gauss"]),
    }


def _set_numpy_state(state: dict[str, Any]) -> None:
    key = state["key"].numpy().astype(np.uint32)
    np.random.set_state(
        {
            "bit_generator": state["bit_generator"],
            "state": {"key": key, "pos": state["pos"]},
            "has_gauss": state["has_gauss"],
            "gauss": state["gauss"],
        }
    )


def rng_state(gen: torch.Generator) -> dict[str, Any]:
    state = {
        "python": random.getstate(),
        "numpy": _numpy_state(),
        "torch": torch.get_rng_state(),
        "generator": gen.get_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any], gen: torch.Generator) -> None:
    random.setstate(state["python"])
    _set_numpy_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    gen.set_state(state["generator"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
