"""Checkpoint files, read and written safely: the one reader and the writers' check.

:func:`read_checkpoint` is the only way labram reads a checkpoint: ``torch.load`` with
``weights_only=True`` (nothing in the file can run), or a safetensors file, which holds no
code at all. :func:`check_loadable` is what every writer checks before saving, so that what
labram writes it can read back that way. What the files mean (layouts, conversion, models) is
:mod:`labram.checkpoints.layouts`.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import pickle
import pickletools
import re
import warnings
import zipfile
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from eegprep.base import strict_json
from eegprep.base.errors import OutputError, UsageError
from eegprep.base.files import enclosing_zarr
from labram.checkpoints.cards import EXPORT_ID, CardDamaged, read_card
from labram.checkpoints.export_journal import (
    card_paths,
    check_not_card_name,
    export_cards,
    finish_or_warn,
    weights_replaced,
)

CKPT_FORMAT = "labram-train"
"""The ``format`` of a training checkpoint (``last.pt``: :mod:`labram.train.checkpoint`)."""
CKPT_VERSION = 2  # 2: numpy's RNG state as a tensor and plain values (was an ndarray)


class CheckpointError(UsageError):
    """A checkpoint cannot be read or does not fit the model (names the file and the keys)."""


class UnsafeCheckpointError(CheckpointError):
    """The file asks for something a checkpoint never needs (an import, a call): refused
    before any of it ran."""


class CorruptCheckpointError(CheckpointError):
    """The file is truncated, empty, or not a PyTorch checkpoint at all."""


# Reading checkpoints: never runs code from the file.
#
# Every checkpoint labram reads goes through :func:`read_checkpoint`, which is
# ``torch.load(weights_only=True)``: the unpickler only rebuilds tensors and plain containers
# (dict, OrderedDict, list, tuple, str, int, float, bool, None) and refuses any other import or
# call *before* making it. One class is allow-listed: ``argparse.Namespace``, because the
# original LaBraM code saves its command-line arguments under ``args`` in every checkpoint it
# writes (``utils.save_model``). A Namespace is a bare attribute bag: creating one and setting
# its attributes runs no code of the file's choosing, and its values must themselves be allowed
# types. It is turned into a dict right after loading.
SAFE_GLOBALS: tuple[type, ...] = (argparse.Namespace,)
_NOT_RUN = "checkpoints are loaded without running code: none from this file was run"
_KEEP_WEIGHTS = (
    "If you trust where it came from, keep only its weights: torch.save({'model': "
    "torch.load(FILE, weights_only=False)['model']}, NEW_FILE)"
)  # (what a training script adds beside the weights: numpy scalars, paths, its own classes)


@contextlib.contextmanager
def _allow_listed() -> Iterator[None]:
    ctx = getattr(torch.serialization, "safe_globals", None)  # torch >= 2.5
    if ctx is None:  # older torch: no allow-list, a file with a Namespace is refused
        yield
        return
    with ctx(list(SAFE_GLOBALS)):
        yield


def _plain(obj: Any) -> Any:
    """``obj`` with every ``argparse.Namespace`` replaced by a dict (containers walked)."""
    if isinstance(obj, argparse.Namespace):
        return {k: _plain(v) for k, v in vars(obj).items()}
    if isinstance(obj, dict):
        for k, v in obj.items():
            if isinstance(v, argparse.Namespace | dict | list | tuple):
                obj[k] = _plain(v)
        return obj
    if isinstance(obj, list):
        return [_plain(v) for v in obj]
    if type(obj) is tuple:
        return tuple(_plain(v) for v in obj)
    return obj


_STRING_OPS = frozenset(
    ("SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE", "STRING", "BINSTRING",
     "SHORT_BINSTRING")
)  # fmt: skip


def _pickle_imports(path: Path) -> list[str]:
    """The globals the file's pickle names, read with :mod:`pickletools` (a disassembler: it
    decodes opcodes and executes nothing). Best effort, for the error message only."""
    names: list[str] = []
    strings: list[str] = []
    try:
        with contextlib.ExitStack() as stack:
            if zipfile.is_zipfile(path):
                archive = stack.enter_context(zipfile.ZipFile(path))
                member = next(n for n in archive.namelist() if n.endswith("data.pkl"))
                fh = stack.enter_context(archive.open(member))
            else:
                fh = stack.enter_context(path.open("rb"))
            for op, arg, _ in pickletools.genops(fh):
                if op.name in ("GLOBAL", "INST") and isinstance(arg, str):
                    names.append(arg.replace(" ", "."))
                elif op.name == "STACK_GLOBAL" and len(strings) >= 2:
                    names.append(f"{strings[-2]}.{strings[-1]}")
                elif op.name in _STRING_OPS and isinstance(arg, str | bytes):
                    strings.append(arg if isinstance(arg, str) else arg.decode("latin-1"))
    except Exception:  # a damaged pickle: report what was decoded before the damage
        pass
    return names


def _foreign_import(path: Path) -> str | None:
    """The first global in the file that a weights-only load does not allow, if any is seen."""
    try:
        from torch._weights_only_unpickler import _get_allowed_globals

        allowed: set[str] | None = set(_get_allowed_globals())
    except Exception:  # private in torch: fall back to "anything outside torch"
        allowed = None
    ours = {f"{c.__module__}.{c.__qualname__}" for c in SAFE_GLOBALS}
    for name in _pickle_imports(path):
        known = name in allowed if allowed is not None else name.startswith("torch.")
        if not known and name not in ours:
            return name
    return None


def _why_refused(path: Path, exc: pickle.UnpicklingError) -> str:
    """One line: what the weights-only unpickler refused, in the file's terms."""
    text = str(exc)
    found = re.search(r"GLOBAL ([\w.]+)", text)
    name = found.group(1) if found else _foreign_import(path)
    if name:
        return f"it asks to import `{name}`"
    detail = re.search(
        r"(Unsupported operand \d+|Can only [^.\n]+|Trying to call reduce[^\n]*)", text
    )
    return "it holds pickle instructions outside tensors and plain containers" + (
        f" ({detail.group(1).strip()})" if detail else ""
    )


def _first_sentence(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return (text.split(". ")[0].rstrip(".") or type(exc).__name__)[:200]


def check_not_source(
    src: str | os.PathLike[str], dst: str | os.PathLike[str], *, what: str = "DST"
) -> None:
    """Refuse to write ``dst`` when it is the file ``src`` (the same path, another spelling of
    it, a symlink or a hard link): writing would replace the source before it is read whole.

    Raises
    ------
    UsageError
        ``dst`` is ``src``, naming both.
    """
    try:
        same = os.path.samefile(src, dst)
    except OSError:  # one of them does not exist (yet): compare where they would be
        # (realpath, not Path.resolve: that raises on a link that loops)
        same = os.path.realpath(src) == os.path.realpath(dst)
    if same:
        raise UsageError(
            f"{what} {os.fspath(dst)} is the file {os.fspath(src)} itself: writing it would "
            f"replace the source; give {what} another name"
        )


def check_output(path: str | os.PathLike[str], *, force: bool = False, what: str = "--out") -> None:
    """Refuse to write a model file at ``path`` where that would lose or spoil something.

    The rule of every command that writes a model file (``labram export``, ``labram convert``):
    a folder there is refused; a path inside a Zarr hierarchy (an eegprep store, an embeddings
    store) is refused, since its readers own every object in it; an existing file (or link) is
    refused unless ``force``, and then replaced whole once the new file is complete (a link is
    replaced by the file, its target left as it was).

    Raises
    ------
    UsageError
        One line naming ``path`` and what to do.
    """
    path = Path(path)
    if path.is_dir():
        raise UsageError(f"{what} {path} is a folder: give a file name inside it")
    zarr_root = enclosing_zarr(path)
    if zarr_root is not None:
        raise UsageError(
            f"{what} {path}: inside the Zarr store {zarr_root}; a model file must not be written "
            "among a store's objects: pick a path outside it"
        )
    if os.path.lexists(path) and not force:
        raise UsageError(
            f"{what} {path} exists: pass --force to replace it (whole, once the new file is "
            "complete), or give another name"
        )


def check_weights_output(
    path: str | os.PathLike[str], *, force: bool = False, what: str = "DST"
) -> None:
    """:func:`check_output` for a writer of the weights alone (``labram convert``): writing
    ``NAME.safetensors`` replaces an export there as a unit, so its cards (``NAME.card.md``,
    ``NAME.card.json``), which would describe other weights, are deleted with it
    (:func:`~labram.checkpoints.export_journal.weights_replaced`); without ``force`` a card
    there is refused as the weights are, even when the weights themselves are gone. A card's
    own name is refused, even with ``force``
    (:func:`~labram.checkpoints.export_journal.check_not_card_name`).

    Raises
    ------
    UsageError
        One line naming ``path``, the card, and what to do.
    """
    check_not_card_name(path, what=what)
    check_output(path, force=force, what=what)
    for card in export_cards(path):
        if card.is_dir():
            raise UsageError(
                f"{what} {os.fspath(path)}: its model card {card} is a folder: move it away, or "
                "give another name"
            )
        if not force:
            raise UsageError(
                f"{what} {os.fspath(path)}: the model card {card} of an export of that name is "
                "there: pass --force to replace the export (its cards are deleted: they would "
                "describe other weights), or give another name"
            )


@contextlib.contextmanager
def writing(path: str | os.PathLike[str]) -> Iterator[None]:
    """Turn a failed write of ``path`` (no permission, a full disk, a file size limit) into one
    :class:`OutputError` line naming it; what ``path`` held before is unchanged (every writer
    here writes beside it and renames). ``torch.save`` reports such a failure as a
    ``RuntimeError`` of its zip writer, safetensors as a ``SafetensorError``."""
    from safetensors import SafetensorError

    try:
        yield
    except (OSError, RuntimeError, SafetensorError) as exc:
        why = getattr(exc, "strerror", None) or _first_sentence(exc)
        raise OutputError(
            f"{os.fspath(path)}: cannot write it ({why}); what it held before is unchanged"
        ) from exc


def read_checkpoint(path: str | os.PathLike[str], *, what: str = "checkpoint") -> Any:
    """Read a checkpoint file without running code from it (the one reader of labram).

    ``torch.load(path, map_location="cpu", weights_only=True)``, with ``argparse.Namespace``
    allow-listed (the released LaBraM files keep their arguments under ``args``; returned as a
    dict). Everything else a pickle can ask for (an import, a call) is refused before it
    happens. A ``.safetensors`` file (recognised by its header, whatever its name) holds no
    pickle at all: :func:`read_safetensors` returns the same structure. An export of ``path``
    that a kill interrupted between its renames is completed first
    (:func:`labram.checkpoints.export_journal.finish_or_warn`).

    Raises
    ------
    CheckpointError
        Not found (``what`` names the role, e.g. ``--init checkpoint``).
    UnsafeCheckpointError
        The file asks for an import or call a checkpoint never needs; names it.
    CorruptCheckpointError
        Truncated, empty, or not a PyTorch checkpoint.
    """
    path = Path(path)
    finish_or_warn(path, [p.name for p in (path, *card_paths(path))])  # a killed export's
    if not path.is_file():
        raise CheckpointError(_not_a_file(path, what))
    if is_safetensors(path):
        info = read_safetensors(path)
        export_id = info.get(EXPORT_ID)
        check_cards(path, export_id if isinstance(export_id, str) else None)
        return info
    _check_archive(path)
    try:
        with _allow_listed(), warnings.catch_warnings(), path.open("rb") as fh:
            # torch warns about pickle protocols above 2 before refusing them: the one line
            # below says what matters
            warnings.filterwarnings("ignore", message="Detected pickle protocol")
            # (a file object: given a path ending in .safetensors, torch.load reads it as
            # safetensors, whatever it holds)
            obj = torch.load(fh, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if "Weights only load failed" not in str(exc):  # a damaged pickle, not a refusal
            raise CorruptCheckpointError(
                f"{path}: truncated or corrupt ({_first_sentence(exc)})"
            ) from exc
        raise UnsafeCheckpointError(
            f"{path}: not a checkpoint this version can read safely: {_why_refused(path, exc)}; "
            f"{_NOT_RUN}. {_KEEP_WEIGHTS}"
        ) from exc
    except Exception as exc:  # torch raises many types for unreadable files
        raise CorruptCheckpointError(f"{path}: {_damage(path, exc)}") from exc
    try:
        _check_contents(path, obj)
        obj = _plain(obj)
    except RecursionError:  # (a crafted pickle nests as deep as it likes: it builds iteratively)
        raise CorruptCheckpointError(
            f"{path}: not a checkpoint: its objects nest deeper than any checkpoint does"
        ) from None
    check_cards(path, None)  # (a torch.save file named NAME.safetensors, an export's cards)
    return obj


def _not_a_file(path: Path, what: str) -> str:
    """Why ``path`` (which :meth:`Path.is_file` refused) cannot be read as a checkpoint: one line
    that tells a folder, a link that leads nowhere and a FIFO or device from a missing file."""
    if path.is_dir():
        return f"{what} {path} is a folder, not a checkpoint file: give the file inside it"
    if path.is_symlink() and not path.exists():
        return (
            f"{what} {path} is a link that leads to no file (dangling, or looping back to "
            "itself): give the checkpoint file itself"
        )
    if path.exists():
        return (
            f"{what} {path} is not a regular file (a FIFO, socket or device): copy the "
            "checkpoint to a file first"
        )
    return f"{what} not found: {path}"


MAX_OBJECTS = 1_000_000
"""The most objects (containers, values, tensors) a checkpoint's contents may expand to, counting
an object as often as it is referred to: a released LaBraM file has a few thousand. A pickle
stores a shared object once, so a crafted file of a few kB can refer to one list 2^40 times."""

ZIP_INFLATION_LIMIT = (100, 64 * 2**20)
"""A zip member that inflates more than 100-fold to more than 64 MiB is refused: ``torch.save``
stores its members uncompressed, and a deflated one of that ratio is a zip bomb."""


def _check_archive(path: Path) -> None:
    """A zip checkpoint's members against their CRC-32 (``torch.load`` does not check them, so
    a flipped bit would load as a changed weight) and against zip bombs."""
    if not zipfile.is_zipfile(path):
        return
    try:
        with zipfile.ZipFile(path) as archive:
            ratio, floor = ZIP_INFLATION_LIMIT
            for info in archive.infolist():
                if info.file_size > floor and info.file_size > ratio * max(info.compress_size, 1):
                    raise CorruptCheckpointError(
                        f"{path}: not written by torch.save: its member {info.filename} "
                        f"inflates from {info.compress_size:,} to {info.file_size:,} bytes"
                    )
            bad = archive.testzip()
    except CorruptCheckpointError:
        raise
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
        raise CorruptCheckpointError(
            f"{path}: truncated or corrupt ({_first_sentence(exc)})"
        ) from exc
    if bad is not None:
        raise CorruptCheckpointError(
            f"{path}: damaged: its member {bad} fails its CRC-32 check (bit rot, or an "
            "incomplete copy): copy the file again"
        )


def _check_contents(path: Path, obj: Any) -> None:
    """Refuse contents no checkpoint has: more than :data:`MAX_OBJECTS` objects once shared
    references are counted as often as they occur; a tensor whose shape claims more bytes than
    its storage holds (a zero stride: one stored float standing for a GB), or reaches past it;
    a complex tensor; a floating-point tensor with NaN or infinite values."""
    sizes: dict[int, int] = {}
    tensors: dict[int, tuple[str, Tensor]] = {}

    def count(o: Any, where: str) -> int:
        key = id(o)
        if key in sizes:
            return sizes[key]
        sizes[key] = 1  # (a cycle counts once)
        if isinstance(o, Tensor):
            tensors[key] = (where, o)
            n = 1
        elif isinstance(o, argparse.Namespace | dict):
            items = vars(o).items() if isinstance(o, argparse.Namespace) else o.items()
            n = 1 + sum(count(v, f"{where}.{k}" if where else str(k)) for k, v in items)
        elif isinstance(o, list | tuple):
            n = 1 + sum(count(v, f"{where}[{i}]") for i, v in enumerate(o))
        else:
            n = 1
        sizes[key] = n
        return n

    if count(obj, "") > MAX_OBJECTS:
        raise CorruptCheckpointError(
            f"{path}: not a checkpoint: its contents expand to more than {MAX_OBJECTS:,} "
            "objects (one object referred to over and over: a crafted file)"
        )
    for where, t in tensors.values():
        _check_tensor(path, where or "(the file)", t)


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
            f"{path}: tensor {where} is {layout}: LaBraM weights are dense tensors (save "
            "them with .to_dense())"
        )
    if t.dtype not in STORED_DTYPES:
        kind = "complex" if t.is_complex() else str(t.dtype).removeprefix("torch.")
        raise CorruptCheckpointError(
            f"{path}: tensor {where} is {kind}: no LaBraM weight is (they are float32, "
            "float16 or bfloat16)"
        )


def _check_tensor(path: Path, where: str, t: Tensor) -> None:
    _check_layout(path, where, t)
    stored = t.untyped_storage().nbytes()
    size = t.element_size()
    if t.numel():
        last = t.storage_offset() + sum((n - 1) * st for n, st in zip(t.shape, t.stride()))
        if min(t.stride(), default=1) < 0 or (last + 1) * size > stored:
            raise CorruptCheckpointError(
                f"{path}: tensor {where} reaches past its storage ({stored:,} bytes): a crafted "
                "or damaged file"
            )
    if t.numel() * size > stored:
        raise CorruptCheckpointError(
            f"{path}: tensor {where} claims shape {tuple(t.shape)} ({t.numel() * size:,} bytes) "
            f"but the file stores {stored:,} bytes of it: a crafted file"
        )
    if t.is_floating_point() and t.numel() and not bool(torch.isfinite(t).all()):
        raise CorruptCheckpointError(
            f"{path}: tensor {where} holds NaN or infinite values: the weights are damaged "
            "(or come from a run that diverged)"
        )


def _damage(path: Path, exc: Exception) -> str:
    with path.open("rb") as fh:
        head = fh.read(4)
    if not head:
        return "truncated or corrupt (an empty file)"
    if head == b"PK\x03\x04":
        if not zipfile.is_zipfile(path):
            return "truncated or corrupt (an incomplete zip archive: no central directory)"
        return f"truncated or corrupt, or not written by torch.save ({_first_sentence(exc)})"
    return (
        "truncated or corrupt: neither a zip archive written by torch.save nor a legacy "
        f"PyTorch file ({type(exc).__name__}: {_first_sentence(exc)})"
    )


# safetensors: tensors and a string -> string header, no code at all. Our files keep the state
# dict as the tensors (under the model's own names, so ``safetensors.torch.load_file`` gives a
# dict that ``model.load_state_dict`` takes) and every other entry of the checkpoint as strict
# JSON under the metadata key ``labram``; a tensor inside those entries (the leakage record's
# hashes) is written as ``{"__tensor__": dtype, "shape": [...], "data": [...]}``.
SAFETENSORS_KEY = "labram"


def is_safetensors(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` starts like a safetensors file (an 8-byte header length, then ``{``).
    A file cut inside its header is one too (read as one, it is refused as truncated)."""
    with Path(path).open("rb") as fh:
        head = fh.read(9)
    return len(head) == 9 and head[8:9] == b"{"


def _to_json(obj: Any) -> Any:
    if isinstance(obj, Tensor):
        return {
            "__tensor__": str(obj.dtype).removeprefix("torch."),
            "shape": list(obj.shape),
            "data": obj.detach().cpu().reshape(-1).tolist(),
        }
    if isinstance(obj, Mapping):
        return {str(k): _to_json(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_to_json(v) for v in obj]
    return obj


def _from_json(obj: Any) -> Any:
    if isinstance(obj, dict) and "__tensor__" in obj:
        dtype = getattr(torch, str(obj["__tensor__"]), None)
        if not isinstance(dtype, torch.dtype):
            raise ValueError(f"unknown tensor dtype {obj['__tensor__']!r}")
        return torch.tensor(obj["data"], dtype=dtype).reshape(obj["shape"])
    if isinstance(obj, dict):
        return {k: _from_json(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_from_json(v) for v in obj]
    return obj


def read_safetensors(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A ``.safetensors`` checkpoint as :func:`read_checkpoint` returns a ``.pt`` one.

    Ours (metadata ``labram``): the checkpoint dict, with the tensors under ``model``. Any other
    (a released layout someone converted): ``{"model": tensors, "metadata": header metadata}``,
    which the released-layout loaders take as they take ``{"model": ...}``.

    Raises
    ------
    CorruptCheckpointError
        Truncated, or a header that is not what it claims.
    """
    from safetensors import safe_open

    path = Path(path)
    try:
        with safe_open(str(path), framework="pt") as fh:
            meta = dict(fh.metadata() or {})
            tensors = {k: fh.get_tensor(k) for k in fh.keys()}  # noqa: SIM118 - not a dict
    except Exception as exc:  # safetensors raises its own error type from Rust
        raise CorruptCheckpointError(
            f"{path}: truncated or corrupt safetensors file ({_first_sentence(exc)})"
        ) from exc
    _check_contents(path, tensors)
    text = meta.get(SAFETENSORS_KEY)
    if text is None:
        return {"model": tensors, "metadata": meta}
    try:
        info = _from_json(strict_json.loads(text))
    except (ValueError, TypeError, RecursionError, RuntimeError) as exc:
        raise CorruptCheckpointError(
            f"{path}: its '{SAFETENSORS_KEY}' metadata is not valid ({_first_sentence(exc)})"
        ) from exc
    if not isinstance(info, dict):
        raise CorruptCheckpointError(f"{path}: its '{SAFETENSORS_KEY}' metadata is not an object")
    info["model"] = tensors
    return info


# EXPORT_ID (imported): the entry of an export's metadata (and of its two cards) that ties the
# three files together: :func:`content_digest` of what the weights file holds.


def content_digest(obj: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of a checkpoint dict as :func:`save_safetensors` writes it: every tensor of
    ``obj["model"]`` (name, dtype, shape, bytes, in name order) and the other entries' strict
    JSON. The same checkpoint gives the same digest; any other weights or metadata another."""
    h = hashlib.sha256()
    for key in sorted(obj["model"]):
        t = obj["model"][key].detach().cpu().contiguous().reshape(-1)
        h.update(f"{key}\0{t.dtype}\0{tuple(obj['model'][key].shape)}\0".encode())
        h.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    rest = {k: v for k, v in obj.items() if k not in ("model", EXPORT_ID)}
    h.update(strict_json.dumps(_to_json(rest), sort_keys=True).encode())
    return h.hexdigest()


def check_cards(weights: Path, export_id: str | None) -> None:
    """Warn, naming both, when a model card beside ``weights`` does not describe them; warn,
    naming it, when a card is damaged (:func:`~labram.checkpoints.cards.read_card`: not strict
    JSON with a card's fields, a Markdown card without the rows every card states).

    ``export_id``: the weights' own (an export's), which each of its cards states; a card
    stating another (or none) describes another export (copied from elsewhere, or left by a
    version whose exports a kill between two renames could split). None: weights that are no
    export of this labram (``labram convert``'s, another tool's, an older labram's export),
    whose cards, if any are there (:func:`~labram.checkpoints.export_journal.export_cards`),
    must state the weights' SHA-256 (an older export's do); else they are an export's whose
    weights were replaced. A card that is missing or unreadable is not compared: weights may be
    shared alone. Each card is one warning line at most.
    """
    cards = card_paths(weights) if export_id is not None else export_cards(weights)
    digest = export_id
    for card in cards:
        try:
            ids = read_card(card)
        except OSError:  # no card (weights shared alone) or unreadable: nothing to compare
            continue
        except CardDamaged as exc:
            warnings.warn(
                f"{card}: damaged ({exc}): it cannot say which weights it describes; run "
                f"`labram export ... --force` to write {weights.name} and its cards again, or "
                "delete the card",
                stacklevel=3,
            )
            continue
        if export_id is not None:
            if ids.export_id != export_id:
                warnings.warn(
                    f"{card} describes other weights than {weights} (its export id is not "
                    f"{export_id[:12]}...: a card from elsewhere, or an export an older labram "
                    "left half done); run `labram export ... --force` again to rewrite the "
                    "three files",
                    stacklevel=3,
                )
            continue
        digest = digest or file_sha256(weights)
        if ids.sha256 != digest:
            warnings.warn(
                f"{card} describes other weights than {weights} (its SHA-256 is not "
                f"{digest[:12]}...: the card of an export whose weights were replaced, e.g. by "
                "`labram convert`); delete the cards, or run `labram export ... --force` to "
                "write weights and cards again",
                stacklevel=3,
            )


def file_sha256(path: Path) -> str:
    """SHA-256 (hex) of a file's bytes, read in 4 MiB blocks."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


def save_safetensors(
    obj: Mapping[str, Any],
    path: str | os.PathLike[str],
    *,
    at: str | os.PathLike[str] | None = None,
) -> None:
    """Write a checkpoint dict as safetensors, atomically (temporary name, then rename; an
    export at ``path`` is replaced with its cards as a unit:
    :func:`~labram.checkpoints.export_journal.weights_replaced`).

    ``obj["model"]`` (name -> tensor) becomes the file's tensors; every other entry goes, as
    strict JSON, under the metadata key ``labram`` (plus ``format: pt``, the convention of the
    Hugging Face tools; a state dict alone, ``{"model": sd}``, has no ``labram`` key). Tensors
    that share memory are written as copies (safetensors refuses aliases). ``at``: write the
    file there instead, directly: a temporary name of ``path``
    (:func:`~eegprep.base.files.temporary_name`) that the caller renames to ``path`` itself,
    and removes on failure (a failure still names ``path``; a temporary of that temporary, left
    by a kill, would match no cleanup's pattern). The name of an export's card is refused
    (:func:`~labram.checkpoints.export_journal.check_not_card_name`).
    """
    from safetensors.torch import save_file

    check_not_card_name(path)
    path = Path(path)
    seen: set[tuple[int, int]] = set()
    tensors: dict[str, Tensor] = {}
    for key, value in obj["model"].items():
        t = value.detach().cpu().contiguous()
        ref = (t.untyped_storage().data_ptr(), t.untyped_storage().nbytes())
        tensors[key] = t.clone() if ref in seen and t.numel() else t
        seen.add(ref)
    rest = {k: v for k, v in obj.items() if k != "model"}
    meta = {"format": "pt"}
    if rest:  # (a state dict alone, a released layout: no metadata of ours)
        meta[SAFETENSORS_KEY] = strict_json.dumps(_to_json(rest))
    with writing(path), weights_replaced(path) if at is None else _given(at) as tmp:
        save_file(tensors, str(tmp), metadata=meta)
        os.chmod(tmp, 0o666 & ~_umask())  # safetensors creates its file 0600: as any other


@contextlib.contextmanager
def _given(path: str | os.PathLike[str]) -> Iterator[Path]:
    """``path`` itself, its folder made (the ``at`` of :func:`save_safetensors`)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    yield path


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


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
            check_loadable(v, f"{where}.{k}")
        return
    if type(obj) in (list, tuple, torch.Size):
        for i, v in enumerate(obj):
            check_loadable(v, f"{where}[{i}]")
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
    with writing(path), weights_replaced(path) as tmp:
        torch.save(obj, tmp)
