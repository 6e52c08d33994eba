"""Released LaBraM checkpoints in and out: pure converters, strict loading, file conversion.

Three layouts of the original code (names in tests/labram/data/labram-checkpoint-layout.txt):

- pre-training (``labram-base.pth``): ``student.*`` + top-level ``lm_head`` + ``projection_head``;
- fine-tuning: the student's names without the prefix, ``fc_norm`` and ``head``;
- tokenizer (``vqnsp.pth``): ``encoder.*``, ``decoder.*``, ``quantize.*``, task layers.

The converters are pure functions ``(state_dict, model) -> state_dict``: rename by a list of
(old prefix, new prefix) pairs, reshape where our layer differs (the decoder's 1x1 convolution is
a Linear here), and fill the few tensors a layout lacks from the model, saying so. Loading is then
strict: any other missing or unexpected key is an error that lists them.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import pickle
import pickletools
import re
import tempfile
import warnings
import zipfile
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

import torch
from torch import Tensor, nn

from eegprep import strict_json
from eegprep.errors import UsageError
from eegprep.validation import check_choice
from labram.classifier import LaBraMClassifier
from labram.config import (
    CONV_WIDTH,
    MODEL_PRESETS,
    TOKENIZER_PRESETS,
    ModelConfig,
    TokenizerConfig,
    model_config,
    tokenizer_config,
)
from labram.mem import LaBraMForMEM
from labram.tokenizer import VQNSPTokenizer

log = logging.getLogger(__name__)

Kind = Literal["mem", "classifier", "tokenizer"]
KINDS: tuple[str, ...] = ("mem", "classifier", "tokenizer")
StateDict = dict[str, Tensor]
FORMAT = "labram-checkpoint"
FORMAT_VERSION = 1


class CheckpointError(UsageError):
    """A checkpoint cannot be read or does not fit the model (names the file and the keys)."""


class UnsafeCheckpointError(CheckpointError):
    """The file asks for something a checkpoint never needs (an import, a call): refused
    before any of it ran."""


class CorruptCheckpointError(CheckpointError):
    """The file is truncated, empty, or not a PyTorch checkpoint at all."""


# (official prefix, our prefix); first match wins, so specific entries come first.
_BACKBONE = [
    ("pos_embed", "spatial_embed"),
    ("cls_token", "cls_token"),
    ("time_embed", "time_embed"),
    ("patch_embed.", "patch_embed."),
    ("blocks.", "blocks."),
]
MEM_RENAMES: list[tuple[str, str]] = [
    ("student.mask_token", "mask_token"),
    ("student.norm.", "norm."),
    ("student.lm_head.weight", "legacy_student_lm_head_weight"),
    ("student.lm_head.bias", "legacy_student_lm_head_bias"),
    ("projection_head.0.weight", "legacy_projection_head_weight"),
    ("projection_head.0.bias", "legacy_projection_head_bias"),
    ("lm_head.", "lm_head."),
    *((f"student.{a}", f"backbone.{b}") for a, b in _BACKBONE),
]
CLASSIFIER_RENAMES: list[tuple[str, str]] = [
    ("fc_norm.", "fc_norm."),
    ("head.", "head."),
    *((a, f"backbone.{b}") for a, b in _BACKBONE),
]
TOKENIZER_RENAMES: list[tuple[str, str]] = [
    ("encoder.fc_norm.", "encoder_norm."),
    ("decoder.fc_norm.", "decoder_norm."),
    ("decoder.patch_embed.proj.", "decoder_in."),
    ("quantize.embedding.weight", "quantizer.codebook"),
    ("quantize.embedding.cluster_size", "quantizer.legacy_cluster_size"),
    ("quantize.embedding.embed_avg", "quantizer.legacy_embed_avg"),
    ("quantize.embedding.initted", "quantizer.initted"),
    ("quantize.cluster_size", "quantizer.cluster_size"),
    ("encode_task_layer.", "to_code."),
    ("decode_task_layer_angle.", "phase_head."),
    ("decode_task_layer.", "amplitude_head."),
    *((f"encoder.{a}", f"encoder.{b}") for a, b in _BACKBONE),
    *((f"decoder.{a}", f"decoder.{b}") for a, b in _BACKBONE),
]
RENAMES: dict[str, list[tuple[str, str]]] = {
    "mem": MEM_RENAMES,
    "classifier": CLASSIFIER_RENAMES,
    "tokenizer": TOKENIZER_RENAMES,
}
# Official keys a file may lack: filled from the model (freshly initialised), with a warning.
_OPTIONAL_OFFICIAL: dict[str, tuple[str, ...]] = {
    "mem": ("lm_head.", "student.lm_head.", "projection_head."),
    "classifier": ("fc_norm.", "head."),
    "tokenizer": (),
}


def _rename(key: str, pairs: list[tuple[str, str]]) -> str | None:
    for old, new in pairs:
        if key.startswith(old):
            return new + key[len(old) :]
    return None


def unwrap(obj: Any) -> StateDict:
    """The state dict inside a loaded checkpoint: unwraps 'model' / 'module' / 'state_dict'
    and a DDP ``module.`` key prefix."""
    for _ in range(3):
        if isinstance(obj, Mapping) and not any(isinstance(v, Tensor) for v in obj.values()):
            for key in ("model", "module", "state_dict"):
                if key in obj:
                    obj = obj[key]
                    break
            else:
                break
    if not isinstance(obj, Mapping):
        raise CheckpointError(f"expected a state dict (name -> tensor); got {type(obj).__name__}")
    sd = {k: v for k, v in obj.items() if isinstance(v, Tensor)}
    if sd and all(k.startswith("module.") for k in sd):
        sd = {k[len("module.") :]: v for k, v in sd.items()}
    return sd


def detect_kind(sd: Mapping[str, Tensor]) -> Kind:
    """Which official layout a state dict is in, from sentinel keys."""
    if "student.cls_token" in sd:
        return "mem"
    if "encoder.cls_token" in sd and "quantize.embedding.weight" in sd:
        return "tokenizer"
    if "cls_token" in sd and "blocks.0.norm1.weight" in sd:
        return "classifier"
    raise CheckpointError(
        "not a LaBraM checkpoint in a released layout: none of the sentinel keys "
        "'student.cls_token' (pre-training), 'encoder.cls_token' + 'quantize.embedding.weight' "
        f"(tokenizer), 'cls_token' (fine-tuning) found; first keys: {sorted(sd)[:5]}"
    )


def _depth(sd: Mapping[str, Tensor], prefix: str) -> int:
    pattern = re.compile(re.escape(prefix) + r"blocks\.(\d+)\.")
    ids = [int(m.group(1)) for k in sd if (m := pattern.match(k))]
    return max(ids) + 1 if ids else 0


def infer_model_config(sd: Mapping[str, Tensor], prefix: str = "") -> ModelConfig:
    """A :class:`ModelConfig` from the shapes of an official pre-training / fine-tuning dict."""
    try:
        dim = sd[f"{prefix}cls_token"].shape[-1]
        head_dim = sd[f"{prefix}blocks.0.attn.q_norm.weight"].shape[0]
        return ModelConfig(
            dim=dim,
            depth=_depth(sd, prefix),
            n_heads=dim // head_dim,
            mlp_ratio=sd[f"{prefix}blocks.0.mlp.fc1.weight"].shape[0] / dim,
            conv_channels=sd[f"{prefix}patch_embed.conv1.weight"].shape[0],
            n_spatial=sd[f"{prefix}pos_embed"].shape[1],
            n_time=sd[f"{prefix}time_embed"].shape[1],
            n_codes=sd["lm_head.weight"].shape[0] if "lm_head.weight" in sd else 8192,
            layer_scale_init=0.1 if f"{prefix}blocks.0.gamma_1" in sd else 0.0,
            qv_bias=f"{prefix}blocks.0.attn.q_bias" in sd,  # the original's qkv_bias option
        )
    except (KeyError, ValueError) as exc:
        raise CheckpointError(f"cannot infer the model size from the checkpoint: {exc}") from exc


def infer_tokenizer_config(sd: Mapping[str, Tensor]) -> TokenizerConfig:
    """A :class:`TokenizerConfig` from the shapes of an official tokenizer dict.

    Head counts are not visible in the tokenizer's tensors (no QK-norm): they are taken from the
    preset of the same width (10 heads at width 200, 4 at 100).
    """
    try:
        dim = sd["encoder.cls_token"].shape[-1]
        heads = {p.dim: p.n_heads for p in TOKENIZER_PRESETS.values()}
        if dim not in heads:
            raise CheckpointError(
                f"tokenizer width {dim} has no preset: pass a TokenizerConfig (n_heads)"
            )
        n_codes, code_dim = sd["quantize.embedding.weight"].shape
        return TokenizerConfig(
            dim=dim,
            encoder_depth=_depth(sd, "encoder."),
            decoder_depth=_depth(sd, "decoder."),
            n_heads=heads[dim],
            mlp_ratio=sd["encoder.blocks.0.mlp.fc1.weight"].shape[0] / dim,
            conv_channels=sd["encoder.patch_embed.conv1.weight"].shape[0],
            n_spatial=sd["encoder.pos_embed"].shape[1],
            n_time=sd["encoder.time_embed"].shape[1],
            n_codes=n_codes,
            code_dim=code_dim,
        )
    except KeyError as exc:
        raise CheckpointError(
            f"cannot infer the tokenizer size from the checkpoint: {exc}"
        ) from exc


def official_to_ours(sd: Mapping[str, Tensor], model: nn.Module, kind: Kind) -> StateDict:
    """Convert an official state dict to ``model``'s names (pure: returns a new dict).

    Tensors our model has and the official layout lacks (our persistent state the original does
    not keep, or an absent optional head) are taken from ``model``; an absent optional head is
    reported with a warning. Unknown official keys are kept under their own names so that the
    strict load reports them.
    """
    pairs = RENAMES[kind]
    ours = model.state_dict()
    out: StateDict = {}
    for key, value in sd.items():
        new = _rename(key, pairs)
        if new is None:
            out[key] = value
            continue
        if new in ours and value.ndim != ours[new].ndim and value.numel() == ours[new].numel():
            value = value.reshape(ours[new].shape)  # 1x1 conv <-> linear
        out[new] = value
    official_names = set(ours_to_official(ours, kind))
    filled: list[str] = []
    for key in sorted(official_names - set(sd)):
        if not key.startswith(_OPTIONAL_OFFICIAL[kind]):
            continue  # reported as missing by the strict load
        new = _rename(key, pairs)
        assert new is not None
        out[new] = ours[new]
        if not new.startswith("legacy_"):
            filled.append(key)
    if filled:
        warnings.warn(
            f"checkpoint has no {', '.join(filled)}: freshly initialised here (train before use)",
            stacklevel=3,
        )
    return out


def ours_to_official(sd: Mapping[str, Tensor], kind: Kind) -> StateDict:
    """Convert our state dict to the official names and shapes (pure)."""
    inverse = [(new, old) for old, new in RENAMES[kind]]
    out: StateDict = {}
    for key, value in sd.items():
        old = _rename(key, inverse)
        if old is None:
            raise CheckpointError(f"no official name for '{key}' ({kind})")
        if old == "decoder.patch_embed.proj.weight" and value.ndim == 2:
            value = value.reshape(*value.shape, 1, 1)  # our Linear -> their 1x1 Conv2d
        out[old] = value
    return out


def load_strict(
    model: nn.Module,
    sd: Mapping[str, Tensor],
    *,
    source: str = "state dict",
    kind: Kind | None = None,
) -> None:
    """``model.load_state_dict(sd, strict=True)``, with missing/unexpected keys in the error.

    With ``kind``, keys are reported under their names in the released layout.
    """
    result = model.load_state_dict(dict(sd), strict=False)
    if not (result.missing_keys or result.unexpected_keys):
        return
    inverse = [(new, old) for old, new in RENAMES[kind]] if kind else []

    def names(keys: list[str]) -> str:
        shown = [(_rename(k, inverse) or k) for k in keys[:10]]
        return f"{shown}{'...' if len(keys) > 10 else ''}"

    raise CheckpointError(
        f"{source} does not fit {type(model).__name__}: missing {names(result.missing_keys)}, "
        f"unexpected {names(result.unexpected_keys)}"
    )


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


def read_checkpoint(path: str | os.PathLike[str], *, what: str = "checkpoint") -> Any:
    """Read a checkpoint file without running code from it (the one reader of labram).

    ``torch.load(path, map_location="cpu", weights_only=True)``, with ``argparse.Namespace``
    allow-listed (the released LaBraM files keep their arguments under ``args``; returned as a
    dict). Everything else a pickle can ask for (an import, a call) is refused before it
    happens. A ``.safetensors`` file (recognised by its header, whatever its name) holds no
    pickle at all: :func:`read_safetensors` returns the same structure.

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
    if not path.is_file():
        raise CheckpointError(f"{what} not found: {path}")
    if is_safetensors(path):
        return read_safetensors(path)
    try:
        with _allow_listed(), warnings.catch_warnings():
            # torch warns about pickle protocols above 2 before refusing them: the one line
            # below says what matters
            warnings.filterwarnings("ignore", message="Detected pickle protocol")
            obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if "Weights only load failed" not in str(exc):  # a damaged pickle, not a refusal
            raise CorruptCheckpointError(
                f"{path}: truncated or corrupt ({_first_sentence(exc)})"
            ) from exc
        raise UnsafeCheckpointError(
            f"{path}: not a checkpoint this version can read safely: {_why_refused(path, exc)}; "
            f"{_NOT_RUN}"
        ) from exc
    except Exception as exc:  # torch raises many types for unreadable files
        raise CorruptCheckpointError(f"{path}: {_damage(path, exc)}") from exc
    return _plain(obj)


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
    """Whether ``path`` starts like a safetensors file (an 8-byte header length, then ``{``)."""
    path = Path(path)
    with path.open("rb") as fh:
        head = fh.read(9)
    if len(head) < 9 or head[8:9] != b"{":
        return False
    return 8 + int.from_bytes(head[:8], "little") <= path.stat().st_size


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
    text = meta.get(SAFETENSORS_KEY)
    if text is None:
        return {"model": tensors, "metadata": meta}
    try:
        info = _from_json(json.loads(text))
    except (ValueError, TypeError) as exc:
        raise CorruptCheckpointError(
            f"{path}: its '{SAFETENSORS_KEY}' metadata is not valid ({_first_sentence(exc)})"
        ) from exc
    if not isinstance(info, dict):
        raise CorruptCheckpointError(f"{path}: its '{SAFETENSORS_KEY}' metadata is not an object")
    info["model"] = tensors
    return info


def save_safetensors(obj: Mapping[str, Any], path: str | os.PathLike[str]) -> None:
    """Write a checkpoint dict as safetensors, atomically (temporary name, then rename).

    ``obj["model"]`` (name -> tensor) becomes the file's tensors; every other entry goes, as
    strict JSON, under the metadata key ``labram`` (plus ``format: pt``, the convention of the
    Hugging Face tools). Tensors that share memory are written as copies (safetensors refuses
    aliases).
    """
    from safetensors.torch import save_file

    path = Path(path)
    seen: set[tuple[int, int]] = set()
    tensors: dict[str, Tensor] = {}
    for key, value in obj["model"].items():
        t = value.detach().cpu().contiguous()
        ref = (t.untyped_storage().data_ptr(), t.untyped_storage().nbytes())
        tensors[key] = t.clone() if ref in seen and t.numel() else t
        seen.add(ref)
    rest = {k: v for k, v in obj.items() if k != "model"}
    meta = {"format": "pt", SAFETENSORS_KEY: strict_json.dumps(_to_json(rest))}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        save_file(tensors, tmp, metadata=meta)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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


def _read(source: str | os.PathLike[str] | Mapping[str, Any]) -> tuple[Any, str]:
    if isinstance(source, Mapping):
        return source, "state dict"
    return read_checkpoint(source), str(source)


def _check_kind(kind: str) -> Kind:
    check_choice("kind", kind, KINDS, error=CheckpointError)
    return kind  # type: ignore[return-value]


def build_official(
    sd: Mapping[str, Tensor],
    kind: Kind,
    *,
    size: str | None = None,
    n_outputs: int | None = None,
    source: str = "state dict",
) -> nn.Module:
    """Build our model for an official state dict (size from ``size`` or the shapes) and load
    it strictly."""
    model: nn.Module
    if kind == "tokenizer":
        tcfg = tokenizer_config(size) if size else infer_tokenizer_config(sd)
        model = VQNSPTokenizer(tcfg)
    else:
        prefix = "student." if detect_kind(sd) == "mem" else ""
        cfg = model_config(size) if size else infer_model_config(sd, prefix)
        if kind == "mem":
            if prefix != "student.":
                raise CheckpointError(f"{source}: a MEM model needs a pre-training checkpoint")
            model = LaBraMForMEM(cfg)
        else:
            if n_outputs is None:
                n_outputs = sd["head.weight"].shape[0] if "head.weight" in sd else 1
            model = LaBraMClassifier(cfg, n_outputs)
            if prefix:  # pre-training dict -> fine-tuning: keep the student's backbone only
                keep = ("student.norm.", "student.mask_token", "student.lm_head.")
                sd = {k[len(prefix) :]: v for k, v in sd.items() if k.startswith(prefix)}
                sd = {k: v for k, v in sd.items() if not f"student.{k}".startswith(keep)}
                log.info(
                    "%s: classifier from the pre-training student (norm and lm_head dropped)",
                    source,
                )
    load_strict(model, official_to_ours(sd, model, kind), source=source, kind=kind)
    return model


def load_official(
    source: str | os.PathLike[str] | Mapping[str, Any],
    kind: str,
    *,
    size: str | None = None,
    n_outputs: int | None = None,
) -> nn.Module:
    """Load a released LaBraM checkpoint into our module.

    Parameters
    ----------
    source : path or state dict
        ``labram-base.pth`` (pre-training), a fine-tuned checkpoint, or ``vqnsp.pth``; a dict
        may be the checkpoint (``{'model': ...}``) or the state dict itself.
    kind : {'mem', 'classifier', 'tokenizer'}
        What to build: :class:`LaBraMForMEM`, :class:`LaBraMClassifier` (from a fine-tuning
        dict, or from a pre-training dict with a fresh head), :class:`VQNSPTokenizer`.
    size : str, optional
        A preset name; inferred from the tensor shapes when not given.
    n_outputs : int, optional
        Classifier outputs; default the checkpoint's head, else 1.

    Returns
    -------
    nn.Module
        In eval mode.
    """
    obj, name = _read(source)
    return official_from(obj, kind, source=name, size=size, n_outputs=n_outputs)


def official_from(
    obj: Any,
    kind: str,
    *,
    source: str = "state dict",
    size: str | None = None,
    n_outputs: int | None = None,
) -> nn.Module:
    """:func:`load_official` on a checkpoint already read (``source`` names it in errors)."""
    k = _check_kind(kind)
    sd = unwrap(obj)
    if k == "tokenizer" and detect_kind(sd) != "tokenizer":
        raise CheckpointError(f"{source}: not a tokenizer checkpoint (no 'quantize.*' keys)")
    return build_official(sd, k, size=size, n_outputs=n_outputs, source=source).eval()


def kind_of(model: nn.Module) -> Kind:
    if isinstance(model, LaBraMForMEM):
        return "mem"
    if isinstance(model, LaBraMClassifier):
        return "classifier"
    if isinstance(model, VQNSPTokenizer):
        return "tokenizer"
    raise CheckpointError(f"no official layout for {type(model).__name__}")


def to_official(model: nn.Module) -> StateDict:
    """``model``'s state dict in the released layout."""
    return ours_to_official(model.state_dict(), kind_of(model))


def _atomic_save(obj: Any, path: str | os.PathLike[str]) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    check_loadable(obj, path.name)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        torch.save(obj, tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_official(model: nn.Module, path: str | os.PathLike[str]) -> None:
    """Write ``model`` as the original code saves it: ``{'model': state_dict}``."""
    _atomic_save({"model": to_official(model)}, path)


def ours_dict(model: nn.Module) -> dict[str, Any]:
    """Our checkpoint of ``model``: format, version, kind, resolved config, state dict."""
    config = getattr(model, "config")  # noqa: B009 - every model of ours has one
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "kind": kind_of(model),
        "config": config.to_dict(),
        "n_outputs": getattr(model, "n_outputs", None),
        "model": model.state_dict(),
    }


def save_ours(model: nn.Module, path: str | os.PathLike[str]) -> None:
    """Write our checkpoint (:func:`ours_dict`); a ``.safetensors`` path is written as
    safetensors (:func:`save_safetensors`), anything else with ``torch.save``."""
    if Path(path).suffix == ".safetensors":
        save_safetensors(ours_dict(model), path)
    else:
        _atomic_save(ours_dict(model), path)


def load_ours(source: str | os.PathLike[str] | Mapping[str, Any]) -> nn.Module:
    """Rebuild a model saved by :func:`save_ours` (strict load)."""
    obj, name = _read(source)
    return ours_from(obj, source=name)


def is_ours(obj: Any) -> bool:
    """Whether a checkpoint already read was written by :func:`save_ours`."""
    return isinstance(obj, Mapping) and obj.get("format") == FORMAT


def ours_from(obj: Any, *, source: str = "state dict") -> nn.Module:
    """:func:`load_ours` on a checkpoint already read (``source`` names it in errors)."""
    name = source
    if not is_ours(obj):
        raise CheckpointError(f"{name}: not a {FORMAT} file (no 'format' entry)")
    if obj.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(
            f"{name}: format version {obj.get('format_version')}; this labram reads "
            f"{FORMAT_VERSION}"
        )
    kind = _check_kind(obj.get("kind", ""))
    model: nn.Module
    try:
        if kind == "tokenizer":
            model = VQNSPTokenizer(TokenizerConfig.from_dict(obj["config"]))
        elif kind == "mem":
            model = LaBraMForMEM(ModelConfig.from_dict(obj["config"]))
        else:
            model = LaBraMClassifier(ModelConfig.from_dict(obj["config"]), obj["n_outputs"])
    except CheckpointError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{name}: invalid {kind} config ({exc})") from exc
    load_strict(model, obj["model"], source=name)
    return model


def convert_file(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    *,
    kind: str | None = None,
    size: str | None = None,
    n_outputs: int | None = None,
) -> str:
    """Convert a checkpoint file in either direction; returns what was done, in words.

    A file in a released layout becomes our checkpoint (:func:`save_ours`); our checkpoint
    becomes the released layout (:func:`save_official`). ``kind`` defaults to what the file
    holds (a pre-training file -> 'mem').
    """
    obj, name = _read(src)
    if is_ours(obj):
        model = ours_from(obj, source=name)
        save_official(model, dst)
        return f"{name} (labram, {kind_of(model)}) -> {dst} (released layout)"
    sd = unwrap(obj)
    k = _check_kind(kind) if kind else detect_kind(sd)
    model = build_official(sd, k, size=size, n_outputs=n_outputs, source=name)
    save_ours(model, dst)
    return f"{name} (released layout) -> {dst} (labram, {k})"


def count_parameters(model: nn.Module, *, trainable_only: bool = True) -> int:
    """Number of parameters (trainable ones by default; buffers never count)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def backbone_parameters(config: ModelConfig) -> int:
    """Parameters of the LaBraM backbone as the paper counts them, computed analytically.

    Patch encoder, CLS, spatial and time tables, and the blocks: the fine-tuning model without
    its ``fc_norm``/head and the pre-training model without mask token, final norm and
    ``lm_head`` (5.82 M / 46.1 M / 369 M for base / large / huge).
    """
    D, C, H = config.dim, config.conv_channels, config.mlp_hidden
    conv = (C * 15 + C) + 2 * (C * C * 3 + C) + 3 * 2 * C
    tables = D + config.n_spatial * D + config.n_time * D
    attn = 3 * D * D + (D * D + D) + (4 * config.head_dim if config.qk_norm else 0)
    attn += 2 * D if config.qv_bias else 0
    block = 2 * 2 * D + attn + (D * H + H) + (H * D + D)
    block += 2 * D if config.layer_scale_init > 0 else 0
    assert D == CONV_WIDTH * C
    return conv + tables + config.depth * block


__all__ = [
    "MODEL_PRESETS",
    "CheckpointError",
    "CorruptCheckpointError",
    "UnsafeCheckpointError",
    "backbone_parameters",
    "build_official",
    "check_loadable",
    "convert_file",
    "count_parameters",
    "detect_kind",
    "is_ours",
    "is_safetensors",
    "kind_of",
    "load_official",
    "load_ours",
    "official_from",
    "official_to_ours",
    "ours_dict",
    "ours_from",
    "ours_to_official",
    "read_checkpoint",
    "read_safetensors",
    "save_official",
    "save_ours",
    "save_safetensors",
    "to_official",
    "unwrap",
]
