"""Released LaBraM checkpoints in and out: strict loading, models built from files, our own
format, file conversion.

Files are read through :mod:`labram.checkpoints.safe_read` (no code from a file runs) and
written through :mod:`labram.checkpoints.contents` and :mod:`~labram.checkpoints.safetensors_files`;
the released layouts' names are converted by the pure functions of
:mod:`labram.checkpoints.official_keys`. Loading is strict: any missing or unexpected key is an
error that lists them.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import warnings
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

import torch
from torch import Tensor, nn

from eegprep.base.files import remove_stale_temporaries
from eegprep.base.path_limits import shown_path
from eegprep.base.validation import check_choice
from eegprep.base.version import __version__
from eegprep.base.wording import counted
from labram.checkpoints.assign import assign_weights, on_meta
from labram.checkpoints.contents import CKPT_FORMAT, OURS_FORMAT, save_checkpoint
from labram.checkpoints.errors import CheckpointError
from labram.checkpoints.export_journal import card_paths, check_not_card_name, finish_or_warn
from labram.checkpoints.made_by import KEY as MADE_BY
from labram.checkpoints.meta_models import built, model_for
from labram.checkpoints.official_keys import (
    KINDS,
    Kind,
    StateDict,
    check_whole_heads,
    detect_kind,
    infer_model_config,
    infer_tokenizer_config,
    official_name,
    official_to_ours,
    ours_to_official,
    released_state,
)
from labram.checkpoints.output_paths import check_not_source, check_weights_output
from labram.checkpoints.safe_read import read_checkpoint
from labram.checkpoints.safetensors_files import save_safetensors
from labram.checkpoints.wrappers import plain_state_dict, unwrap
from labram.model.classifier import LaBraMClassifier
from labram.model.config import (
    CONV_WIDTH,
    MODEL_PRESETS,
    TOKENIZER_PRESETS,
    ModelConfig,
    TokenizerConfig,
    model_config,
    tokenizer_config,
)
from labram.model.mem import LaBraMForMEM
from labram.model.tokenizer import VQNSPTokenizer

log = logging.getLogger(__name__)

FORMAT = OURS_FORMAT
FORMAT_VERSION = 1


def load_strict(
    model: nn.Module,
    sd: Mapping[str, Tensor],
    *,
    source: str = "state dict",
    kind: Kind | None = None,
    fresh: Callable[[], nn.Module] | None = None,
    take: bool = False,
    prefix: str = "",
) -> None:
    """``model.load_state_dict(sd, strict=True)``, with missing/unexpected keys in the error.

    With ``kind``, keys are reported under their names in the released layout (``prefix``
    before them: ``student.``, a classifier's backbone read from a pre-training file), as the
    file names them. A ``model``
    built on the ``meta`` device (:func:`~labram.checkpoints.meta_models.built` with
    ``on_meta``) takes the tensors of ``sd`` (copies of them, unless ``take``: read from a
    file for it) as its own, with no second copy
    (:func:`~labram.checkpoints.assign.assign_weights`; ``fresh`` builds it on the CPU, for
    initial values of what ``sd`` lacks).
    """
    check_weight_types(model, sd, source=source, kind=kind)
    try:
        if on_meta(model):
            assert fresh is not None, "a model built on meta needs `fresh` for what sd lacks"
            result = assign_weights(model, sd, fresh, take=take)
        else:
            result = model.load_state_dict(dict(sd), strict=False)
    except RuntimeError as exc:  # a tensor of another shape (load_state_dict lists them all)
        raise CheckpointError(
            f"{shown_path(source)} does not fit {type(model).__name__}: "
            f"{first_mismatch(exc, lambda key: prefix + _file_name(key, kind))}"
        ) from None
    if not (result.missing_keys or result.unexpected_keys):
        return

    def names(keys: list[str]) -> str:
        shown = [prefix + _file_name(k, kind) for k in keys[:10]]
        return f"{shown}{'...' if len(keys) > 10 else ''}"

    raise CheckpointError(
        f"{shown_path(source)} does not fit {type(model).__name__}: missing "
        f"{names(result.missing_keys)}, unexpected "
        f"{names(result.unexpected_keys)}{'' if result.unexpected_keys else _LACKS_WEIGHTS}"
    )


_LACKS_WEIGHTS = (
    ": the file lacks these weights, and none can be filled from another name (no LaBraM model "
    "ties two names to one tensor, so safetensors.torch.save_model drops no name of ours): "
    "save the model's whole state dict again (labram convert of the full file, or "
    "safetensors.torch.save_file(model.state_dict(), FILE))"
)
"""What a file that lacks some of its model's weights, and has no other, is told to do."""


def check_weight_types(
    model: nn.Module, sd: Mapping[str, Any], *, source: str, kind: Kind | None = None
) -> None:
    """Refuse, in one line naming ``source`` and the tensor (under the file's name: the
    released layout's, with ``kind``), a tensor of ``sd`` that ``model``'s floating-point
    weight of that name cannot take as it is (:func:`_check_convertible`): loading would cast
    it without a word."""
    expected = dict(model.state_dict())
    for key, value in sd.items():
        want = expected.get(key)
        if isinstance(value, Tensor) and want is not None and want.is_floating_point():
            _check_convertible(
                value, want, f"{shown_path(source)}: tensor {_file_name(key, kind)}", model
            )


def _file_name(key: str, kind: Kind | None) -> str:
    """Our parameter ``key`` under the name the file gives it (the released layout's, with
    ``kind``)."""
    return (official_name(key, kind) if kind else None) or key


def _check_convertible(value: Tensor, want: Tensor, what: str, model: nn.Module) -> None:
    """Refuse a tensor that the model's weight ``want`` cannot take as it is: not floating
    point (an integer or boolean tensor), or of a wider floating-point type (float64) with a
    value beyond the range of ``want``'s, which the conversion would make infinite. ``what``
    starts the line (the file and the tensor)."""
    have, model_type = (str(t.dtype).removeprefix("torch.") for t in (value, want))
    if not value.is_floating_point():
        raise CheckpointError(
            f"{what} is {have}, where {type(model).__name__} has {model_type} weights"
        )
    most = torch.finfo(want.dtype).max
    if value.is_meta or not value.numel() or torch.finfo(value.dtype).max <= most:
        return
    flat = value.detach().flatten()
    top = float(flat[flat.abs().argmax()])
    if abs(top) > most:
        raise CheckpointError(
            f"{what} holds {top:.3g}: beyond {most:.3g}, the largest {model_type} value, so "
            f"as {type(model).__name__}'s {model_type} weight it would be infinite: the weights "
            "are damaged (or come from a run that diverged)"
        )


_SHAPES = re.compile(
    r"shape torch\.Size\(\[([^\]]*)\]\) from checkpoint, the shape in current model is "
    r"torch\.Size\(\[([^\]]*)\]\)"
)
"""The two shapes of a mismatch in ``load_state_dict``'s words."""


def first_mismatch(exc: RuntimeError, name: Callable[[str], str] = str) -> str:
    """The first of the shape mismatches ``load_state_dict`` reports, and how many there are:
    the tensor under the name the file gives it (``name`` of the model's key: a released
    layout's ``student.blocks.0...``, not the model's ``backbone.blocks.0...``, which no file
    holds), its shape in the file and in the model."""
    found = re.findall(r"size mismatch for ([^:]+): (.+?)(?=\n|$)", str(exc))
    if not found:
        return " ".join(str(exc).split())[:300]
    key, what = found[0]
    shapes = _SHAPES.search(what)
    said = (
        f"its shape is ({shapes.group(1)}) in the file, ({shapes.group(2)}) in the model"
        if shapes
        else what.strip().rstrip(".")
    )
    more = f" (and {counted(len(found) - 1, 'more tensor')})" if len(found) > 1 else ""
    return f"tensor {name(key)}: {said}{more}"


def _read(source: str | os.PathLike[str] | Mapping[str, Any]) -> tuple[Any, str]:
    if isinstance(source, Mapping):
        return source, "state dict"
    return read_checkpoint(source), shown_path(source)  # (the file as messages name it)


def _check_kind(kind: str) -> Kind:
    check_choice("kind", kind, KINDS, error=CheckpointError)
    return kind  # type: ignore[return-value]


BAD_CONTENT = (KeyError, TypeError, ValueError, IndexError, ArithmeticError, AttributeError,
               RuntimeError)  # fmt: skip
"""What building a model from a file's keys, shapes and config raises when they make no valid
model (a crafted or damaged file): turned into one :class:`CheckpointError` naming the file."""


@contextlib.contextmanager
def content_errors(what: str) -> Iterator[None]:
    """Turn what building a model from a file raises (:data:`BAD_CONTENT`) into one
    :class:`CheckpointError`: ``what``, then the exception's type and first 300 characters."""
    try:
        yield
    except CheckpointError:
        raise
    except BAD_CONTENT as exc:
        text = " ".join(str(exc).split())[:300]
        raise CheckpointError(f"{what} ({type(exc).__name__}: {text})") from exc


@contextlib.contextmanager
def naming(source: str) -> Iterator[None]:
    """Give a :class:`CheckpointError` raised inside that does not name ``source`` (the file's
    keys, shapes or kind judged without it) the file as its first words, so that every
    refusal names the file."""
    try:
        yield
    except CheckpointError as exc:
        if str(exc).startswith(shown_path(source)):
            raise
        raise CheckpointError(f"{shown_path(source)}: {exc}") from exc


def build_official(
    sd: Mapping[str, Tensor],
    kind: Kind,
    *,
    size: str | None = None,
    n_outputs: int | None = None,
    source: str = "state dict",
    take: bool = False,
) -> nn.Module:
    """Build our model for an official state dict (size from ``size`` or the shapes) and load
    it strictly (``take``: the tensors of ``sd`` become the model's, uncopied: they were read
    from a file for it, :func:`load_strict`)."""
    with (
        naming(source),
        content_errors(f"{shown_path(source)}: its weights make no LaBraM {kind} model"),
    ):
        return _build_official(sd, kind, size=size, n_outputs=n_outputs, source=source, take=take)


_MODEL_SHAPE = ("dim", "depth", "n_heads")
_TOKENIZER_SHAPE = ("dim", "encoder_depth", "decoder_depth", "n_codes", "code_dim")
_C = TypeVar("_C", ModelConfig, TokenizerConfig)


def _preset_of_file_size(
    size: str,
    preset: Callable[[str], _C],
    inferred: Callable[[], _C],
    fields: tuple[str, ...],
    source: str,
) -> _C:
    """The ``size`` preset, refused in one line naming both shapes when the file's tensors are
    of another size (``--size base`` with a tiny checkpoint listed 50 mismatched tensors)."""
    want = preset(size)
    try:
        have = inferred()
    except CheckpointError:  # shapes too odd to read a size from: the strict load reports them
        return want
    if all(getattr(have, f) == getattr(want, f) for f in fields):
        return want
    sizes = [n for n in (MODEL_PRESETS if isinstance(want, ModelConfig) else TOKENIZER_PRESETS)
             if all(getattr(preset(n), f) == getattr(have, f) for f in fields)]  # fmt: skip
    what = f"a {sizes[0]} model" if sizes else "a model of no preset"

    def shape(c: _C) -> str:
        return ", ".join(f"{f} {getattr(c, f)}" for f in fields)

    raise CheckpointError(
        f"{shown_path(source)}: holds {what} ({shape(have)}), not --size {size} ({shape(want)}): "
        "leave --size out to take the file's own size"
    )


def _build_official(
    sd: Mapping[str, Tensor],
    kind: Kind,
    *,
    size: str | None,
    n_outputs: int | None,
    source: str,
    take: bool,
) -> nn.Module:
    model: nn.Module
    make: Callable[[], nn.Module]
    check_whole_heads(sd)
    prefix = ""  # (where the file's keys of the model begin: student. in a pre-training file)
    if kind == "tokenizer":
        tcfg = infer_tokenizer_config(sd) if not size else _preset_of_file_size(
            size, tokenizer_config, lambda: infer_tokenizer_config(sd), _TOKENIZER_SHAPE, source
        )  # fmt: skip
        make = lambda: VQNSPTokenizer(tcfg)  # noqa: E731
        model = built(make, sd, source, tcfg, on_meta=True)
    else:
        prefix = "student." if detect_kind(sd) == "mem" else ""
        cfg = infer_model_config(sd, prefix) if not size else _preset_of_file_size(
            size, model_config, lambda: infer_model_config(sd, prefix), _MODEL_SHAPE, source
        )  # fmt: skip
        if kind == "mem":
            if prefix != "student.":
                raise CheckpointError(
                    f"{shown_path(source)}: a MEM model needs a pre-training checkpoint"
                )
            make = lambda: LaBraMForMEM(cfg)  # noqa: E731
            model = built(make, sd, source, cfg, on_meta=True)
        else:
            if n_outputs is None:
                n_outputs = sd["head.weight"].shape[0] if "head.weight" in sd else 1
            outputs = n_outputs
            make = lambda: LaBraMClassifier(cfg, outputs)  # noqa: E731
            model = built(make, sd, source, cfg, outputs, on_meta=True)
            if prefix:  # pre-training dict -> fine-tuning: keep the student's backbone only
                _check_pretraining_keys(sd, source)
                drop = ("student.norm.", "student.mask_token", "student.lm_head.")
                sd = {k[len(prefix) :]: v for k, v in sd.items() if k.startswith(prefix)}
                sd = {k: v for k, v in sd.items() if not f"student.{k}".startswith(drop)}
                log.info(
                    "%s: classifier from the pre-training student (norm and lm_head dropped)",
                    shown_path(source),
                )
    converted = official_to_ours(sd, model, kind)
    shown = prefix if kind == "classifier" else ""  # (mem: official names hold student.)
    load_strict(model, converted, source=source, kind=kind, fresh=make, take=take, prefix=shown)
    return model


_PRETRAINING_PREFIXES = ("student.", "lm_head.", "projection_head.")
"""Where every key of a released pre-training state dict begins."""


def _check_pretraining_keys(sd: Mapping[str, Tensor], source: str) -> None:
    """Refuse, in one line, keys of a pre-training state dict outside its layout (a
    ``teacher.*`` copy, a prefix we do not remove): a classifier keeps the student's backbone
    only, and would otherwise have dropped them without a word, as if they were its heads."""
    other = sorted(k for k in sd if not k.startswith(_PRETRAINING_PREFIXES))
    if other:
        shown = f"{other[:10]}{'...' if len(other) > 10 else ''}"
        raise CheckpointError(
            f"{shown_path(source)} does not fit LaBraMClassifier: unexpected {shown} (a "
            "pre-training state dict holds student.*, lm_head.* and projection_head.* only): save "
            "the model's own state dict alone"
        )


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
    return official_from(
        obj, kind, source=name, size=size, n_outputs=n_outputs, take=not isinstance(source, Mapping)
    )


def official_from(
    obj: Any,
    kind: str,
    *,
    source: str = "state dict",
    size: str | None = None,
    n_outputs: int | None = None,
    take: bool = False,
) -> nn.Module:
    """:func:`load_official` on a checkpoint already read (``source`` names it in errors;
    ``take``: its tensors become the model's, uncopied, :func:`load_strict`)."""
    with naming(source):
        k = _check_kind(kind)
        sd = released_state(obj)
        if k == "tokenizer" and detect_kind(sd) != "tokenizer":
            raise CheckpointError(
                f"{shown_path(source)}: not a tokenizer checkpoint (no 'quantize.*' keys)"
            )
        model = build_official(sd, k, size=size, n_outputs=n_outputs, source=source, take=take)
        return model.eval()


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


def save_official(model: nn.Module, path: str | os.PathLike[str]) -> None:
    """Write ``model`` as the original code saves it: ``{'model': state_dict}``; a
    ``.safetensors`` path gets that state dict as safetensors (its tensors, no pickle:
    :func:`save_safetensors`), which every reader takes as it takes ``{'model': ...}``."""
    if Path(path).suffix == ".safetensors":
        save_safetensors({"model": to_official(model)}, path)
    else:
        save_checkpoint({"model": to_official(model)}, path)


def ours_dict(model: nn.Module) -> dict[str, Any]:
    """Our checkpoint of ``model``: format, version, kind, resolved config, state dict, and
    the labram that wrote it (:mod:`labram.checkpoints.made_by`)."""
    config = getattr(model, "config")  # noqa: B009 - every model of ours has one
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        MADE_BY: __version__,
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
        save_checkpoint(ours_dict(model), path)


def load_ours(source: str | os.PathLike[str] | Mapping[str, Any]) -> nn.Module:
    """Rebuild a model saved by :func:`save_ours` (strict load)."""
    obj, name = _read(source)
    return ours_from(obj, source=name, take=not isinstance(source, Mapping))


def is_ours(obj: Any) -> bool:
    """Whether a checkpoint already read was written by :func:`save_ours`."""
    return isinstance(obj, Mapping) and obj.get("format") == FORMAT


def ours_from(obj: Any, *, source: str = "state dict", take: bool = False) -> nn.Module:
    """:func:`load_ours` on a checkpoint already read (``source`` names it in errors;
    ``take``: its tensors become the model's, uncopied, :func:`load_strict`)."""
    with naming(source):
        return _ours_from(obj, source, take)


def _ours_from(obj: Any, name: str, take: bool) -> nn.Module:
    if not is_ours(obj):
        raise CheckpointError(f"{name}: not a {FORMAT} file (no 'format' entry)")
    if obj.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(
            f"{name}: format version {obj.get('format_version')}; this labram reads "
            f"{FORMAT_VERSION}"
        )
    kind = _check_kind(obj.get("kind", ""))
    sd = plain_state_dict(obj.get("model"), where="model")  # (from DDP or compiled: its names)
    with content_errors(f"{name}: invalid {kind} config"):
        model, make = model_for(kind, obj["config"], sd, name, obj.get("n_outputs"))
    load_strict(model, sd, source=name, fresh=make, take=take)
    return model


def is_training(obj: Any) -> bool:
    """Whether a checkpoint already read is a training checkpoint (``last.pt``)."""
    return isinstance(obj, Mapping) and obj.get("format") == CKPT_FORMAT


def training_from(obj: Any, *, source: str = "state dict", take: bool = False) -> nn.Module:
    """The model of a training checkpoint already read (``last.pt``), rebuilt from its
    ``model_config`` (strict load; ``take``: :func:`load_strict`)."""
    with naming(source):
        kind = obj.get("kind")
        if kind not in KINDS:
            raise CheckpointError(
                f"{shown_path(source)}: a training checkpoint of unknown kind {kind!r}"
            )
        sd = plain_state_dict(obj.get("model"), where="model")  # (saved from DDP or compiled)
        n_outputs = int(sd["head.weight"].shape[0]) if kind == "classifier" else None
        model, make = model_for(kind, obj["model_config"], sd, source, n_outputs)
        load_strict(model, sd, source=source, fresh=make, take=take)
        return model


_BUILDS: dict[str, tuple[Kind, ...]] = {
    "mem": ("mem", "classifier"),
    "classifier": ("classifier",),
    "tokenizer": ("tokenizer",),
}
"""What each released layout can be built into (a pre-training file: the MEM model, or a
classifier on its student's backbone)."""


def _kind_for(sd: Mapping[str, Tensor], kind: str | None) -> Kind:
    """``kind`` (default: the file's own), refused in one line when the file's layout cannot
    make it (``--kind tokenizer`` on a pre-training file)."""
    have = detect_kind(sd)
    if kind is None:
        return have
    k = _check_kind(kind)
    if k not in _BUILDS[have]:
        raise CheckpointError(
            f"holds a {have} checkpoint, which makes no {k} model (it makes: "
            f"{', '.join(_BUILDS[have])}): leave --kind out, or pass a {k} checkpoint"
        )
    return k


def convert_file(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    *,
    kind: str | None = None,
    size: str | None = None,
    n_outputs: int | None = None,
    force: bool = False,
) -> str:
    """Convert a checkpoint file in either direction; returns what was done, in words.

    A file in a released layout becomes our checkpoint (:func:`save_ours`); our checkpoint
    becomes the released layout (:func:`save_official`). ``kind`` defaults to what the file
    holds (a pre-training file -> 'mem'). ``dst`` may not be ``src`` (:func:`check_not_source`)
    nor an existing file unless ``force`` (:func:`check_weights_output`). An export of ``dst``
    that a kill interrupted is completed first, so that its journal never renames older files
    over this one later; an export there (``NAME.safetensors`` and its cards) is replaced as a
    unit: the cards, which would describe other weights, are deleted as the new weights are
    put in place (:func:`labram.checkpoints.export_journal.weights_replaced`). A ``dst`` named
    as an export's card (``NAME.card.md``, ``NAME.card.json``) is refused first, even with
    ``force``.
    """
    check_not_card_name(dst, what="DST")
    check_not_source(src, dst)
    finish_or_warn(dst, [p.name for p in (Path(dst), *card_paths(dst))])
    check_weights_output(dst, force=force, what="DST")
    obj, name = _read(src)
    if is_ours(obj) or is_training(obj):  # (a last.pt: its own config, not its shapes')
        model = (ours_from if is_ours(obj) else training_from)(obj, source=name, take=True)
        _warn_unused(name, kind=kind, size=size, n_outputs=n_outputs)
        save_official(model, dst)
        remove_stale_temporaries(dst)  # what a convert killed before its rename left
        return f"{name} (labram, {kind_of(model)}) -> {shown_path(dst)} (released layout)"
    with naming(name), content_errors(f"{name}: not a LaBraM checkpoint this labram can use"):
        sd = released_state(obj)
        k = _kind_for(sd, kind)
    model = build_official(sd, k, size=size, n_outputs=n_outputs, source=name, take=True)
    save_ours(model, dst)
    remove_stale_temporaries(dst)
    return f"{name} (released layout) -> {shown_path(dst)} (labram, {k})"


def _warn_unused(name: str, **options: Any) -> None:
    """Warn that ``options`` given (not None) have no effect: a labram checkpoint states its
    own kind, size and outputs, so converting it to the released layout uses none of them."""
    given = [f"--{k.replace('_', '-')}" for k, v in options.items() if v is not None]
    if given:
        warnings.warn(
            f"{name}: {', '.join(given)} ignored: a labram checkpoint states its own kind, size "
            "and outputs (those options shape a released-layout SRC)",
            stacklevel=3,
        )


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
    "backbone_parameters",
    "build_official",
    "check_weight_types",
    "convert_file",
    "count_parameters",
    "detect_kind",
    "is_ours",
    "kind_of",
    "load_official",
    "load_ours",
    "official_from",
    "official_to_ours",
    "ours_dict",
    "ours_from",
    "ours_to_official",
    "save_official",
    "save_ours",
    "to_official",
    "unwrap",
]
