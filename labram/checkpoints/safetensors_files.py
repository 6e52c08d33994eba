"""safetensors checkpoints: read, written, and the digest that ties an export's files together.

A safetensors file holds tensors and a string header, no code at all: what
:func:`~labram.checkpoints.safe_read.read_checkpoint` returns for one is
:func:`read_safetensors`'s. :func:`save_safetensors` writes a checkpoint dict so (``labram
export``, ``labram convert``), and :func:`content_digest` is the export id of what it writes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import struct
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO

import torch
from torch import Tensor

from eegprep.base import strict_json
from eegprep.base.files import as_text, named_error
from eegprep.base.path_limits import shown_path
from eegprep.base.unchanged_reads import unchanged_while_read
from eegprep.base.wording import counted
from labram.checkpoints.cards import EXPORT_ID
from labram.checkpoints.claims import check_claims
from labram.checkpoints.contents import check_contents
from labram.checkpoints.errors import (
    ChangedCheckpointError,
    CheckpointError,
    CorruptCheckpointError,
    first_sentence,
)
from labram.checkpoints.export_journal import check_not_card_name, weights_replaced
from labram.checkpoints.output_paths import writing

# safetensors: tensors and a string -> string header, no code at all. Our files keep the state
# dict as the tensors (under the model's own names, so ``safetensors.torch.load_file`` gives a
# dict that ``model.load_state_dict`` takes) and every other entry of the checkpoint as strict
# JSON under the metadata key ``labram``; a tensor inside those entries (the leakage record's
# hashes) is written as ``{"__tensor__": dtype, "shape": [...], "data": [...]}``.
SAFETENSORS_KEY = "labram"


def is_safetensors(source: str | os.PathLike[str] | BinaryIO) -> bool:
    """Whether ``source`` (a path, or a file open for reading) starts like a safetensors file
    (an 8-byte header length, then ``{``). A file cut inside its header is one too (read as
    one, it is refused as truncated)."""
    with contextlib.ExitStack() as stack:
        if isinstance(source, str | os.PathLike):
            fh: BinaryIO = stack.enter_context(Path(source).open("rb"))
        else:
            fh = source
            fh.seek(0)
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


def read_safetensors(
    path: str | os.PathLike[str], *, opened: BinaryIO | None = None
) -> dict[str, Any]:
    """A ``.safetensors`` checkpoint as :func:`read_checkpoint` returns a ``.pt`` one.

    Ours (metadata ``labram``): the checkpoint dict, with the tensors under ``model``. Any other
    (a released layout someone converted): ``{"model": tensors, "metadata": header metadata}``,
    which the released-layout loaders take as they take ``{"model": ...}``.

    The header's claims (names, element types, shapes, the ``labram`` config) are judged first
    (:func:`~labram.checkpoints.claims.check_claims`: no more bytes than the model the file
    describes), before any tensor byte is read; then each tensor's bytes are read once, straight
    into the tensor returned (no mapping of the file, no second copy).

    ``opened``: ``path`` open for reading, the file every byte is read from (the header, the
    tensors): a file renamed over ``path`` while it is read is refused, never read in part.
    One rewritten in place while it is read is refused too (here when ``opened`` is None, else
    by the caller that opened it: :func:`~labram.checkpoints.safe_read.read_checkpoint`).

    Raises
    ------
    CorruptCheckpointError
        Truncated, a header that is not what it claims, or claims no model of its own holds.
    ChangedCheckpointError
        The file was rewritten in place while it was read.
    """
    path = Path(path)
    try:
        if opened is not None:
            return _read_open(path, opened)
        with path.open("rb") as fh, unchanged_while_read(fh, path, ChangedCheckpointError):
            return _read_open(path, fh)
    except OSError as exc:  # (a read's error names no file: the disk's, EIO, said so)
        if exc.filename is not None:  # (a card beside it, named already)
            raise
        raise named_error(exc, path) from exc


def _read_open(path: Path, fh: BinaryIO) -> dict[str, Any]:
    """:func:`read_safetensors` of ``path``, open as ``fh``."""
    from safetensors import safe_open

    header = _check_unique_keys(path, fh)
    try:  # (safetensors checks the header: offsets in order, inside the file; reads no tensor)
        with safe_open(_openable_name(path, fh), framework="pt") as named:  # (see below)
            meta = dict(named.metadata() or {})
            specs = {}
            for k in named.keys():  # noqa: SIM118 - not a dict
                part = named.get_slice(k)  # (its dtype and shape: no byte read)
                specs[k] = (part.get_dtype(), part.get_shape())
    except Exception as exc:  # safetensors raises its own error type from Rust
        raise CorruptCheckpointError(
            f"{shown_path(path)}: truncated or corrupt safetensors file ({first_sentence(exc)})"
        ) from exc
    listed = _check_same_file(path, header, specs, meta)
    claimed = {k: _meta_tensor(path, k, dtype, shape) for k, (dtype, shape) in specs.items()}
    check_contents(path, claimed, claims=True)
    info = _labram_entries(path, meta)
    check_claims(path, {**info, "model": claimed})
    check_contents(path, info)  # (the tensors of its metadata too: a complex one loaded)
    tensors = _read_tensors(path, fh, listed, claimed)
    check_contents(path, tensors)  # (named as the file names them)
    info["model"] = tensors
    _check_export_id(path, info)
    return info


def _openable_name(path: Path, fh: BinaryIO) -> str:
    """The name safetensors opens ``path`` (open as ``fh``) by: its own, or where it is not
    UTF-8 (which safetensors takes a path as: an export written under such a name was
    refused as "truncated or corrupt ... is not valid UTF-8"), the open file's entry in
    ``/proc/self/fd`` or ``/dev/fd``; a CheckpointError naming it where there is none."""
    name = str(path)
    if as_text(name) == name:
        return name
    for folder in ("/proc/self/fd", "/dev/fd"):
        entry = f"{folder}/{fh.fileno()}"
        if os.path.exists(entry):
            return entry
    raise CheckpointError(
        f"{as_text(name)}: its name is not UTF-8 (bytes shown as \\xNN), which safetensors "
        "cannot open here: rename the file"
    )


def _check_export_id(path: Path, info: dict[str, Any]) -> None:
    """Refuse an export whose weights or metadata are not those its export id was computed
    from (:func:`content_digest`): safetensors stores no checksum, so a flipped bit in a
    weight read as another weight, and the model gave other outputs unsaid. Files without an
    export id (``labram convert``'s, another tool's) are not checked here."""
    export_id = info.get(EXPORT_ID)
    if not isinstance(export_id, str):
        return
    if content_digest(info) != export_id:
        raise CorruptCheckpointError(
            f"{shown_path(path)}: its weights or metadata differ from what its export id "
            f"{export_id[:12]}... was computed from (bytes changed since the export: a flipped "
            "bit, a bad copy): run `labram export ... --force` again from the checkpoint"
        )


_DTYPES = {
    "F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
    "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8,
    "U8": torch.uint8, "BOOL": torch.bool, "U16": torch.uint16, "U32": torch.uint32,
    "U64": torch.uint64, "F8_E4M3": torch.float8_e4m3fn, "F8_E5M2": torch.float8_e5m2,
    "C64": torch.complex64,
}  # fmt: skip
"""safetensors' element types as torch's (those no weight has are refused by name by
:func:`~labram.checkpoints.contents.check_contents`)."""


def _meta_tensor(path: Path, name: str, dtype: str, shape: list[int]) -> Tensor:
    """What the header claims for tensor ``name``, on the ``meta`` device (nothing read)."""
    if dtype not in _DTYPES:
        raise CorruptCheckpointError(
            f"{shown_path(path)}: tensor {name} is {dtype}: no LaBraM weight is (they are float32, "
            "float16 or bfloat16)"
        )
    return torch.empty(shape, dtype=_DTYPES[dtype], device="meta")


def _labram_entries(path: Path, meta: dict[str, str]) -> dict[str, Any]:
    """The checkpoint's entries besides its tensors: our ``labram`` metadata decoded, else
    ``{"metadata": meta}`` (a released layout someone converted)."""
    text = meta.get(SAFETENSORS_KEY)
    if text is None:
        return {"metadata": meta}
    try:
        info = _from_json(strict_json.loads(text, unique_keys=True))
    except (ValueError, TypeError, RecursionError, RuntimeError) as exc:
        raise CorruptCheckpointError(
            f"{shown_path(path)}: its '{SAFETENSORS_KEY}' metadata is not valid "
            f"({first_sentence(exc)})"
        ) from exc
    if not isinstance(info, dict):
        raise CorruptCheckpointError(
            f"{shown_path(path)}: its '{SAFETENSORS_KEY}' metadata is not an object"
        )
    return info


def _check_same_file(
    path: Path, header: dict[str, Any] | None, specs: dict[str, Any], meta: dict[str, str]
) -> dict[str, Any]:
    """Refuse a file whose header, read from the open file, differs from what safetensors
    read by its name: another file was renamed over ``path`` in between (a model written
    again, an export replaced), and its offsets are not those of the tensors read."""
    if header is None:  # (strict JSON refused what safetensors' parser took)
        raise CorruptCheckpointError(
            f"{shown_path(path)}: its safetensors header is not strict JSON: a crafted or damaged "
            "file"
        )
    listed = {k: (v.get("dtype"), v.get("shape")) for k, v in header.items()
              if k != "__metadata__" and isinstance(v, dict)}  # fmt: skip
    seen = {k: (dtype, list(shape)) for k, (dtype, shape) in specs.items()}
    if listed != seen or (header.get("__metadata__") or {}) != meta:
        raise CorruptCheckpointError(
            f"{shown_path(path)}: the file changed while it was read (another file was written in "
            "its place): read it again once it is written"
        )
    return header


def _read_tensors(
    path: Path, fh: BinaryIO, header: dict[str, Any], claimed: dict[str, Tensor]
) -> dict[str, Tensor]:
    """Each tensor's bytes read once from the open file ``fh``, into the tensor returned
    (little-endian, as safetensors stores them), in the order they lie in it."""
    order = sorted(claimed, key=lambda k: header[k]["data_offsets"][0])
    out: dict[str, Tensor] = {}
    fh.seek(0)
    start = 8 + struct.unpack("<Q", fh.read(8))[0]  # (the tensors follow the header)
    for name in order:
        begin, end = header[name]["data_offsets"]
        want = claimed[name]
        if end - begin != want.numel() * want.element_size():
            raise CorruptCheckpointError(
                f"{shown_path(path)}: tensor {name} spans {end - begin:,} bytes where its shape "
                f"{tuple(want.shape)} needs {want.numel() * want.element_size():,}: a crafted or "
                "damaged file"
            )
        raw = torch.empty(end - begin, dtype=torch.uint8)
        fh.seek(start + begin)
        view, got = raw.numpy().data, 0
        while got < len(view):
            n = fh.readinto(view[got:])  # type: ignore[attr-defined]  # (a buffered file)
            if not n:
                raise CorruptCheckpointError(
                    f"{shown_path(path)}: truncated while it was read (tensor {name}): copy it "
                    "again"
                )
            got += n
        out[name] = raw.view(want.dtype).reshape(want.shape)
    return {k: out[k] for k in claimed}  # (the header's order)


MAX_HEADER_BYTES = 8 * 2**20
"""The longest safetensors header labram reads (safetensors' own limit: 100 MB). A LaBraM-Huge
model's lists its ~1,000 tensors in ~100 kB, and the subject record of a corpus of 100,000
subjects adds ~2 MB; a crafted header of 60 MB of empty tensors took 2.4 GB to parse (8 MiB of
them: under 100 MB)."""
MAX_TENSORS = 20_000
"""The most tensors a safetensors header may list (a LaBraM-Huge model: ~1,000)."""


def _check_unique_keys(path: Path, fh: BinaryIO) -> dict[str, Any] | None:
    """The header, refused when it names one tensor (or ``__metadata__``, or a metadata key)
    twice: safetensors keeps the last of two entries without a word, while another reader of
    the same file may take the first, so the file holds two models. Any other damage is left to
    safetensors, which names it (None is returned then)."""
    fh.seek(0)
    head = fh.read(8)
    if len(head) < 8:
        return None
    (n,) = struct.unpack("<Q", head)
    if n > os.fstat(fh.fileno()).st_size - 8:  # (safetensors says it is cut short)
        return None
    if n > MAX_HEADER_BYTES:
        raise CorruptCheckpointError(
            f"{shown_path(path)}: its safetensors header is {n:,} bytes long, more than any "
            f"checkpoint's ({MAX_HEADER_BYTES:,}): a crafted or damaged file; none of it was read"
        )
    raw = fh.read(n)
    try:
        doc = strict_json.loads(raw, unique_keys=True)
    except strict_json.DuplicateKeyError as exc:
        raise CorruptCheckpointError(
            f"{shown_path(path)}: a crafted or damaged safetensors header: {exc}, so readers "
            "differ on what the file holds"
        ) from None
    except ValueError:  # (safetensors says what else is wrong)
        return None
    listed = len(doc) - ("__metadata__" in doc) if isinstance(doc, dict) else 0
    if listed > MAX_TENSORS:
        raise CorruptCheckpointError(
            f"{shown_path(path)}: its safetensors header lists "
            f"{counted(listed, 'tensor', sep=',')}, where a LaBraM checkpoint has about 1,000 (at "
            f"most {MAX_TENSORS:,}): a crafted or damaged file; none of it was read"
        )
    return doc if isinstance(doc, dict) else None


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
        _sort_header(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # safetensors creates its file 0600: as any other


def _sort_header(path: str | os.PathLike[str]) -> None:
    """Write the header of the safetensors file ``path`` again with its keys sorted, in place.

    safetensors keeps the metadata in a hash map whose order changes from one process to the
    next, so the same model gave files that differed in their header's bytes; sorted, one model
    gives one file. The header is the same JSON in another order (same length: compact, non-ASCII
    kept, as safetensors writes it), the tensors' offsets unchanged."""
    with open(path, "r+b") as fh:
        (n,) = struct.unpack("<Q", fh.read(8))
        raw = fh.read(n)
        text = raw.rstrip(b" ")
        again = json.dumps(
            strict_json.loads(text),
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
            allow_nan=False,
        ).encode()
        if len(again) != len(text):  # (an escape written otherwise: keep safetensors' own)
            return
        fh.seek(8)
        fh.write(again + raw[len(text) :])


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
