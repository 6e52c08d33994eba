"""Every rank's random generators in a training checkpoint: a resumed torchrun run draws what
each of its ranks drew.

Only the main rank writes ``last.pt``, and it held the main rank's generators alone (Python's,
numpy's, torch's and the run's mask generator, :mod:`labram.train.rng`); a resume set every
rank's generators to them, so from there rank 1 drew rank 0's masks (and dropout), and a run
killed and resumed under torchrun ended on other weights than one never stopped.
:func:`rng_of_ranks` hands the main rank each rank's state at a checkpoint (strict JSON,
gathered: nothing is unpickled), written as the checkpoint's ``rng_ranks``;
:func:`own_rng_state` picks this rank's on a resume.
"""

from __future__ import annotations

from typing import Any

import torch

from labram.train.distributed import gather_json
from labram.train.rng import rng_state

KEY = "rng_ranks"
"""The checkpoint's entry holding each rank's generators (a list in rank order; absent in a
checkpoint of one process)."""


def _plain(state: dict[str, Any]) -> dict[str, Any]:
    """``state`` (:func:`~labram.train.rng.rng_state`) in JSON's types: byte tensors as hex."""
    version, words, gauss = state["python"]
    doc = {
        "python": [int(version), [int(w) for w in words], gauss],
        "numpy": {**state["numpy"], "key": [int(k) for k in state["numpy"]["key"].tolist()]},
        "torch": bytes(state["torch"].numpy()).hex(),
        "generator": bytes(state["generator"].numpy()).hex(),
    }
    if "cuda" in state:
        doc["cuda"] = [bytes(t.numpy()).hex() for t in state["cuda"]]
    return doc


def _tensor(text: str) -> torch.Tensor:
    return torch.frombuffer(bytearray(bytes.fromhex(text)), dtype=torch.uint8).clone()


def _state(doc: dict[str, Any]) -> dict[str, Any]:
    """:func:`_plain`'s ``doc`` back in :func:`~labram.train.rng.rng_state`'s types."""
    version, words, gauss = doc["python"]
    numpy_doc = doc["numpy"]
    state: dict[str, Any] = {
        "python": (int(version), tuple(int(w) for w in words), gauss),
        "numpy": {**numpy_doc, "key": torch.tensor(numpy_doc["key"], dtype=torch.int64)},
        "torch": _tensor(doc["torch"]),
        "generator": _tensor(doc["generator"]),
    }
    if "cuda" in doc:
        state["cuda"] = [_tensor(t) for t in doc["cuda"]]
    return state


def rng_of_ranks(gen: torch.Generator, device: torch.device) -> list[dict[str, Any]] | None:
    """Each rank's generators now (``gen``: this rank's mask generator), in rank order, as
    :func:`~labram.train.rng.rng_state` gives them; ``None`` in one process (the checkpoint's
    ``rng`` is its own). Collective: every rank calls it at each checkpoint. ``device``: the
    rank's."""
    if not torch.distributed.is_initialized() or torch.distributed.get_world_size() == 1:
        return None
    return [_state(doc) for doc in gather_json(_plain(rng_state(gen)), device)]


def own_rng_state(ck: dict[str, Any], rank: int, world_size: int) -> dict[str, Any]:
    """The generators rank ``rank`` of ``world_size`` resumes with from checkpoint ``ck``: its
    own (``rng_ranks``) where the checkpoint holds every rank's, else the main rank's
    (``rng``: a checkpoint of one process, or one written before ``rng_ranks``)."""
    ranks = ck.get(KEY)
    if world_size > 1 and isinstance(ranks, list) and len(ranks) == world_size:
        return dict(ranks[rank])
    return dict(ck["rng"])


__all__ = ["KEY", "own_rng_state", "rng_of_ranks"]
