"""What a checkpoint may hold, checked both ways: on what a reader loaded, and before writing.

:func:`check_contents` refuses what no checkpoint holds (more objects than any has, a tensor
that claims more bytes than it stores, a sparse, complex or non-finite one) in what
:func:`~labram.checkpoints.safe_read.read_checkpoint` or
:func:`~labram.checkpoints.safetensors_files.read_safetensors` loaded. :func:`check_loadable` is
what every writer checks before saving (:func:`save_checkpoint`), so that what labram writes
it can read back without running code.
"""

from __future__ import annotations

import argparse
import os
from collections import OrderedDict
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from eegprep.base.files import written_through
from eegprep.base.path_limits import shown_path
from labram.checkpoints.errors import CorruptCheckpointError
from labram.checkpoints.export_journal import weights_replaced
from labram.checkpoints.key_paths import shown, step
from labram.checkpoints.output_paths import writing
from labram.checkpoints.pickled_values import PickledArray, RefusedValue, refusal

CKPT_FORMAT = "labram-train"
"""The ``format`` of a training checkpoint (``last.pt``: :mod:`labram.train.checkpoint`)."""
OURS_FORMAT = "labram-checkpoint"
"""The ``format`` of our own model files (:func:`labram.checkpoints.layouts.save_ours`)."""
CKPT_VERSION = 2  # 2: numpy's RNG state as a tensor and plain values (was an ndarray)


MAX_OBJECTS = 1_000_000
"""The most objects (containers, values, tensors) a checkpoint's contents may expand to, counting
an object as often as it is referred to: a released LaBraM file has a few thousand. A pickle
stores a shared object once, so a crafted file of a few kB can refer to one list 2^40 times."""


def check_contents(path: Path, obj: Any, *, claims: bool = False) -> None:
    """Refuse contents no checkpoint has: more than :data:`MAX_OBJECTS` objects once shared
    references are counted as often as they occur; a tensor whose shape claims more bytes than
    its storage holds (a zero stride: one stored float standing for a GB), or reaches past it;
    a complex tensor; a floating-point tensor with NaN or infinite values; a tensor on PyTorch's
    ``meta`` device, which holds no values (saved so, it loaded as a weight the model kept its
    fresh random values for, unsaid).

    ``claims``: ``obj`` is what a file claims, its tensors on ``meta`` by design (a header or
    pickle judged before any tensor byte is read): their values are not checked."""
    sizes: dict[int, int] = {}
    tensors: dict[int, tuple[str, Tensor]] = {}

    def count(o: Any, where: str) -> int:
        key = id(o)
        if key in sizes:
            return sizes[key]
        sizes[key] = 1  # (a cycle counts once)
        _check_value(o, where)
        if isinstance(o, Tensor):
            tensors[key] = (where, o)
            n = 1
        elif isinstance(o, argparse.Namespace):
            n = 1 + sum(count(v, step(where, k, attribute=True)) for k, v in vars(o).items())
        elif isinstance(o, dict):
            for k in o:  # (a refused key: a dtype, a tuple holding one)
                _check_key(k, where)
            n = 1 + sum(count(v, step(where, k)) for k, v in o.items())
        elif isinstance(o, list | tuple | set | frozenset):
            n = 1 + sum(count(v, step(where, i)) for i, v in enumerate(o))
        else:
            n = 1
        sizes[key] = n
        return n

    if count(obj, "") > MAX_OBJECTS:
        raise CorruptCheckpointError(
            f"{shown_path(path)}: not a checkpoint: its contents expand to more than "
            f"{MAX_OBJECTS:,} objects (one object referred to over and over: a crafted file)"
        )
    for where, t in tensors.values():
        _check_tensor(path, shown(where), t, claims=claims)


def _check_value(o: Any, where: str) -> None:
    """Raise :class:`RefusedValue` naming ``where`` (the key path) for a value the reader
    refused while the pickle was read, or a numpy array in a set (numpy never writes one)."""
    why = refusal(o)
    if why is not None:
        raise RefusedValue(why, shown(where))
    if isinstance(o, set | frozenset) and any(isinstance(v, PickledArray) for v in o):
        raise RefusedValue("a numpy array inside a set", shown(where))


def _check_key(k: Any, where: str) -> None:
    """:func:`_check_value` of a dict's key (and of what a tuple key holds)."""
    for part in k if type(k) is tuple else (k,):
        why = refusal(part)
        if why is not None:
            raise RefusedValue(why, f"a key of {shown(where)}")


STORED_DTYPES = frozenset((
    torch.float16, torch.bfloat16, torch.float32, torch.float64, torch.bool, torch.uint8,
    torch.int8, torch.int16, torch.int32, torch.int64,
))  # fmt: skip
"""The element types a checkpoint's tensors may have: floating-point weights, and the integer
and boolean entries of the records (subject hashes, counters, flags). Quantized, float8 and
complex types are no LaBraM weight's, and most of torch's checks are not implemented for them."""


def _check_layout(path: Path, where: str, t: Tensor) -> None:
    """Refuse a tensor that is not dense (sparse, nested) or whose element type is not one of
    :data:`STORED_DTYPES`, before anything reads its storage."""
    if t.is_nested or t.layout != torch.strided:
        layout = "nested" if t.is_nested else str(t.layout).removeprefix("torch.")
        raise CorruptCheckpointError(
            f"{shown_path(path)}: tensor {where} is {layout}: LaBraM weights are dense tensors "
            "(save them with .to_dense())"
        )
    if t.dtype not in STORED_DTYPES:
        kind = "complex" if t.is_complex() else str(t.dtype).removeprefix("torch.")
        raise CorruptCheckpointError(
            f"{shown_path(path)}: tensor {where} is {kind}: no LaBraM weight is (they are float32, "
            "float16 or bfloat16)"
        )


def _check_tensor(path: Path, where: str, t: Tensor, *, claims: bool) -> None:
    _check_layout(path, where, t)
    stored = t.untyped_storage().nbytes()
    size = t.element_size()
    if t.numel():
        last = t.storage_offset() + sum((n - 1) * st for n, st in zip(t.shape, t.stride()))
        if min(t.stride(), default=1) < 0 or (last + 1) * size > stored:
            raise CorruptCheckpointError(
                f"{shown_path(path)}: tensor {where} reaches past its storage ({stored:,} bytes): "
                "a crafted or damaged file"
            )
    if t.numel() * size > stored:
        raise CorruptCheckpointError(
            f"{shown_path(path)}: tensor {where} claims shape {tuple(t.shape)} "
            f"({t.numel() * size:,} bytes) but the file stores {stored:,} bytes of it: a crafted "
            "file"
        )
    if t.is_meta and claims:  # (a header's claims, judged before the bytes are read)
        return
    if t.is_meta:  # (saved from a model built on ``meta``: a shape and no value)
        raise CorruptCheckpointError(
            f"{shown_path(path)}: tensor {where} holds no values: it was saved from PyTorch's meta "
            "device (a model built without its weights), so there are no weights to load: save it "
            "again from the trained model"
        )
    if t.is_floating_point() and t.numel() and not bool(torch.isfinite(t).all()):
        raise CorruptCheckpointError(
            f"{shown_path(path)}: tensor {where} holds NaN or infinite values: the weights are "
            "damaged (or come from a run that diverged)"
        )


_SCALARS = (str, int, float, bool, type(None))  # exact types: numpy scalars subclass float


def check_loadable(obj: Any, where: str = "checkpoint") -> None:
    """Raise ``TypeError`` if ``obj`` holds anything :func:`read_checkpoint` would refuse.

    Our writers call it before saving, so that a checkpoint they write can always be read back:
    tensors, dict / OrderedDict with str or int keys, list, tuple, str, int, float, bool, None.
    """
    if type(obj) in _SCALARS or isinstance(obj, Tensor | torch.dtype | torch.device):
        return
    if type(obj) in (dict, OrderedDict):
        for k, v in obj.items():
            if type(k) not in (str, int):
                raise TypeError(f"{where}: key {k!r} is a {type(k).__name__} (str or int only)")
            check_loadable(v, step(where, k))
        return
    if type(obj) in (list, tuple, torch.Size):
        for i, v in enumerate(obj):
            check_loadable(v, step(where, i))
        return
    raise TypeError(
        f"{where} is a {type(obj).__module__}.{type(obj).__qualname__}: a checkpoint holds only "
        "tensors, dicts, lists, tuples, str, int, float, bool and None (convert it on save)"
    )


def save_checkpoint(obj: Any, path: str | os.PathLike[str]) -> None:
    """``torch.save`` atomically, after checking that :func:`read_checkpoint` can read it back
    (:func:`check_loadable`): what labram writes it can always read without unpickling code.
    An export at ``path`` is replaced with its cards as a unit, and the name of an export's
    card refused (:func:`~labram.checkpoints.export_journal.weights_replaced`)."""
    check_loadable(obj, Path(path).name)
    with writing(path), weights_replaced(path) as tmp, written_through(tmp) as fh:
        torch.save(obj, fh)  # a full disk: the OSError, not the zip writer's RuntimeError
