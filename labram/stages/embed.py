"""``labram embed``: one vector per window (optionally per patch) of every recording of stores.

Reads top to bottom: the model, the windows (deterministic, no shuffling), the output store
(created once, or re-opened when the arguments match), then this rank's chunks of windows,
each computed, written and recorded as done.

Output (a Zarr v3 group that ``xarray.open_zarr`` opens; docs/training.md, "Using a trained
model"):

- ``embedding (window, feature)`` float32: the pooled features. A fine-tuned classifier: its
  head's input (mean of the patch tokens, then ``fc_norm``: timm's ``pre_logits``). A
  pre-trained model (ours or ``labram-base.pth``): the mean of its patch tokens after its final
  LayerNorm (CLS excluded, as fine-tuning pools).
- ``patch_embedding (window, patch, feature)`` with ``--per-patch``: every patch token
  (channel-major: patch ``c * n_seconds + s``), NaN past a window's ``n_channels x n_seconds``;
  ``patch_channel`` / ``patch_second (window, patch)`` say which (-1 past the end).
- ``logits (window, output)`` for a classifier.
- coordinates along ``window``: ``recording``, ``subject``, ``subject_key``, ``corpus``,
  ``split``, ``start_s``, ``duration_s``, ``n_channels``, one ``label_<key>`` per recording
  label of the stores (:func:`label_array_name`), and ``label`` (the task's target) with
  ``--task``.
- the root group's attributes: the checkpoint, its kind, the stores, the task, and where the
  model came from as its file records it (:func:`provenance`: ``tokenizer_used``,
  ``backbone_used``), also in ``_labram/embed.json`` beside the checkpoint's SHA-256.

Resumable: windows are written in chunks of ``chunk_windows`` (whole Zarr chunks); each rank
records the chunks it finished in ``_labram/progress/rank<r>.json``; a re-run with the same
arguments skips them, one with other arguments is refused; each resume writes again the
coordinates whose values the stores give otherwise now (labels ingested again from the same
source: :mod:`labram.stages.embed_relabel`). A window whose samples cannot be
read is left out (NaN), its chunk not recorded as done and its recording named
(:mod:`labram.stages.embed_left_out`); so is a recording whose index record cannot be read,
whose windows are then not in the store: it records those recordings, and a run after their
repair makes it again (:mod:`labram.stages.embed_existing`). Under torchrun each rank takes a
contiguous, disjoint slice of the chunks (:func:`chunks_of_rank`); no two ranks write one Zarr
chunk. The metadata is written (and consolidated) before any chunk, so a reader can open the
store while it fills: chunks not written yet read as NaN.

Concurrency contract: one ``labram embed`` (one torchrun job) per output store at a time; ranks
write disjoint chunks and their own progress file; rank 0 alone creates the store, before a
barrier.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from eegprep.base import strict_json
from eegprep.base.bounds import BOUNDS, check_fields
from eegprep.base.disk_sync import sync_folder, sync_tree
from eegprep.base.errors import UsageError
from eegprep.base.files import named_error, replaced_atomically, write_problem
from eegprep.base.path_limits import shown_path
from eegprep.base.ranks import begin_own_work
from eegprep.base.sealed_json import sealed
from eegprep.base.shown_text import shown_paths
from eegprep.base.unchanged_reads import NamedVersion
from eegprep.base.validation import check_kinds
from eegprep.base.write_errors import then_again
from eegprep.store.reader import Store
from labram.checkpoints.cards import file_sha256
from labram.checkpoints.errors import ChangedCheckpointError
from labram.checkpoints.load import (
    Loaded,
    backbone_model,
    check_finite_outputs,
    check_windows_fit,
    load_model,
)
from labram.data.block_reader import BlockReader
from labram.data.sample_peaks import blame_samples, index_place, refuse_loud, window_peaks
from labram.data.store_set import given_names
from labram.data.task_records import check_outputs
from labram.data.windows import (
    WindowIndex,
    open_stores,
    saved_windows,
)
from labram.model.classifier import LaBraMClassifier
from labram.model.mem import LaBraMForMEM
from labram.stages import backbone_used, tokenizer_used
from labram.stages.embed_attributes import SEALED, final_metadata
from labram.stages.embed_coordinates import coordinates
from labram.stages.embed_existing import (
    CREATING,
    RECORDS_LEFT_OUT,
    VERSIONS,
    open_existing,
    recording_versions,
)
from labram.stages.embed_left_out import (
    LeftOut,
    readable_batches,
    readable_stores,
    with_other_ranks,
)
from labram.stages.embed_progress import META_DIR, completed, recorded, written
from labram.stages.embed_relabel import refresh_coordinates, task_label
from labram.stages.embed_sync import sync_chunks
from labram.stages.embed_windows import (
    skipped_recordings,
    warn_skipped,
    why_no_window,
    window_index,
)
from labram.stages.out_lock import writing_alone
from labram.stages.zarr_partials import remove_partials, settle
from labram.train.distributed import barrier, setup

log = logging.getLogger(__name__)

FORMAT = "labram-embeddings"
FORMAT_VERSION = 1
PATCH_CHUNK_BYTES = 16_000_000  # a per-patch Zarr chunk stays under this


@dataclass(frozen=True, kw_only=True)
class EmbedConfig:
    """What ``labram embed`` computes; every field but ``batch_size`` is part of the output's
    identity (a re-run with another value is refused)."""

    per_patch: bool = False  # also every patch token (large: n_patches x the pooled size)
    task: str | None = None  # a task's windows and target; None: token-budget windows
    chunk_windows: int = 512  # windows per resumable unit (and per Zarr chunk)
    batch_size: int = 64  # windows per forward pass (does not change the output)

    def __post_init__(self) -> None:
        # (10^20 was numpy's internal error; True was a batch of 1)
        check_fields(self, ("chunk_windows", "batch_size"))
        check_kinds(self)  # (per_patch="no" was true, task=3 failed deep inside)


MAX_CHUNK_WINDOWS = int(BOUNDS["chunk_windows"].high)
"""The most windows in one chunk: its embeddings are held in memory and written as one Zarr
chunk (65,536 x 200 float32 features: 52 MB)."""


def chunks_of_rank(n_chunks: int, rank: int, world_size: int) -> range:
    """The contiguous, disjoint slice of chunk numbers rank ``rank`` of ``world_size`` takes
    (sizes differ by at most one; together they are ``range(n_chunks)``)."""
    if not 0 <= rank < world_size:
        raise UsageError(f"Invalid rank {rank} for world size {world_size}")
    lo = n_chunks * rank // world_size
    return range(lo, n_chunks * (rank + 1) // world_size)


# --- features ----------------------------------------------------------------------------


@torch.no_grad()
def features(
    model: LaBraMClassifier | LaBraMForMEM, x: Tensor, channels: Tensor
) -> dict[str, Tensor]:
    """Pooled features ``(B, D)``, patch tokens ``(B, N*A, D)`` and, for a classifier,
    logits ``(B, n_outputs)`` of a batch ``x (B, N, A, 200)`` in 0.1 mV."""
    if isinstance(model, LaBraMClassifier):
        tokens = model.forward_features(x, channels)  # (B, 1+N*A, D), CLS first
        pooled = model.forward_head(tokens, pre_logits=True)  # (B, D)
        return {"pooled": pooled, "patches": tokens[:, 1:], "logits": model.head(pooled)}
    tokens = model.forward_features(x, channels, None)  # (B, 1+N*A, D), after the final norm
    return {"pooled": tokens[:, 1:].mean(dim=1), "patches": tokens[:, 1:]}


# --- the output store --------------------------------------------------------------------


def _atomic_write(path: Path, text: str) -> None:
    with replaced_atomically(path, durable=True, tidy=True) as tmp:
        tmp.write_text(text)


def output_folder(out: str | os.PathLike[str]) -> Path:
    """The folder ``--out`` names, refused in one line where writing it would spoil something.

    Inside a Zarr hierarchy (an eegprep store, another embedding store: a folder above it holds
    a ``zarr.json``) it is refused, since that hierarchy's readers own every object in it. A
    symbolic link stands for its target (the folder written, checked as ``--out`` itself is):
    Zarr neither writes through a link to a folder nor creates one's target.
    """
    from eegprep.base.files import enclosing_zarr

    path = Path(out)
    if path.is_symlink():
        path = Path(os.path.realpath(path))
    if path.exists() and not path.is_dir():
        raise UsageError(
            f"--out {shown_path(out)} is a file: give a folder for the embedding store"
        )
    root = enclosing_zarr(path)
    if root is not None:
        raise UsageError(
            f"--out {shown_path(out)}: inside the Zarr store {shown_path(root)}; an embedding "
            "store must not be written among another store's objects: pick a folder outside it"
        )
    return path


def _params(
    loaded: Loaded,
    checkpoint: str,
    stores: Sequence[str | Store],
    index: WindowIndex,
    cfg: EmbedConfig,
) -> dict[str, Any]:
    """What the output depends on: a re-run must match it to resume."""
    spec = asdict(cfg)
    spec.pop("batch_size")
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "checkpoint": str(checkpoint),
        "checkpoint_sha256": file_sha256(checkpoint),
        "checkpoint_kind": loaded.kind,
        **provenance(loaded),
        "stores": given_names(stores),
        "windows": index.fingerprint(),
        VERSIONS: recording_versions(index),  # (the samples behind them: a re-ingest)
        "n_windows": len(index),
        **spec,
    }


def provenance(loaded: Loaded) -> dict[str, Any]:
    """Where the model came from, as its file records it: the tokenizer whose codes a masked
    model predicts (:mod:`labram.stages.tokenizer_used`) and the initial weights a fine-tuned
    one started from (:mod:`labram.stages.backbone_used`); None for what it records not."""
    return {
        tokenizer_used.KEY: tokenizer_used.found_in(loaded.info, source=loaded.source),
        backbone_used.KEY: backbone_used.found_in(loaded.info, source=loaded.source),
    }


def _array(
    group: Any,
    name: str,
    data_or_shape: Any,
    dims: tuple[str, ...],
    chunks: tuple[int, ...],
    dtype: Any = None,
) -> Any:
    """A Zarr array with xarray's dimension names; filled from ``data_or_shape`` if an array.
    Every chunk carries its CRC-32C (:func:`_compressors`)."""
    if isinstance(data_or_shape, np.ndarray):
        data = data_or_shape
        kind = str if data.dtype == object else data.dtype
        arr = group.create_array(
            name,
            shape=data.shape,
            chunks=chunks,
            dtype=kind,
            dimension_names=dims,
            compressors=_compressors(),
        )
        if data.size:
            arr[...] = data.astype(str) if data.dtype == object else data
        return arr
    fill = np.nan if np.dtype(dtype).kind == "f" else -1
    return group.create_array(
        name,
        shape=data_or_shape,
        chunks=chunks,
        dtype=dtype,
        dimension_names=dims,
        fill_value=fill,
        compressors=_compressors(),
    )


def _compressors() -> list[Any]:
    """Zstandard (zarr's default), then the CRC-32C of its output: zarr checks every chunk
    before decoding it, so a flipped bit in an embedding, a logit or a coordinate is an error
    naming the chunk, not another value (about 96% of single flips in a Zstandard chunk of
    embeddings decoded, to other numbers, before the checksum)."""
    from zarr.codecs import Crc32cCodec, ZstdCodec

    return [ZstdCodec(level=0, checksum=False), Crc32cCodec()]


def create_store(
    out: Path,
    index: WindowIndex,
    coords: dict[str, np.ndarray],
    *,
    dim: int,
    n_outputs: int | None,
    task: Any,
    params: dict[str, Any],
    label_keys: dict[str, str] | None = None,
) -> None:
    """Create the output group, its coordinates and empty (NaN) data arrays. A marker
    (``_labram/creating.json``) is written first and removed after the parameters file, which
    is written last: a creation cut short at any write (before the root ``zarr.json`` names
    the format, or while clearing) is known as ours and started again. ``label_keys``: the
    recording label key of each ``label_*`` coordinate (:func:`coordinates`), kept as its
    array's attribute ``label_key``."""
    import zarr

    marker = out / META_DIR / CREATING
    _atomic_write(marker, strict_json.dumps({"format": FORMAT}))  # first: known as ours
    _clear_except(out, marker)  # what a creation cut short left
    group = zarr.create_group(
        str(out), zarr_format=3, attributes={"format": FORMAT, "format_version": FORMAT_VERSION}
    )
    names = _coordinate_arrays(group, index, coords, task, label_keys)
    data_vars = _data_arrays(group, index, dim, n_outputs, params, names)
    for name in data_vars:  # CF: xarray makes these coordinates
        group[name].attrs["coordinates"] = " ".join(names)
    group.attrs.update(_root_attributes(params, task))
    final_metadata(group, out)  # sealed and consolidated: only chunks come later
    sync_tree(out, skip=[META_DIR])  # (on the disk before the record that says it is made)
    _atomic_write(out / META_DIR / "embed.json", sealed({**params, SEALED: True}).decode())
    marker.unlink()
    sync_folder(marker.parent)


def _coordinate_arrays(
    group: Any,
    index: WindowIndex,
    coords: dict[str, np.ndarray],
    task: Any,
    label_keys: dict[str, str] | None,
) -> list[str]:
    """Write the per-window coordinates (and the task's ``label``) into ``group``; returns
    their names, in order."""
    n = len(index)
    names = list(coords)
    for name, values in coords.items():
        arr = _array(group, name, values, ("window",), (max(n, 1),))
        if label_keys and name in label_keys:
            arr.attrs["label_key"] = label_keys[name]
    if task is not None:
        label = task_label(index)
        dims = ("window",) if label.ndim == 1 else ("window", "target")
        _array(group, "label", label, dims, (max(n, 1), *label.shape[1:]))
        names.append("label")
    return names


def _data_arrays(
    group: Any,
    index: WindowIndex,
    dim: int,
    n_outputs: int | None,
    params: dict[str, Any],
    names: list[str],
) -> list[str]:
    """Create the empty (NaN) data arrays, ``dim`` features per window, in chunks of
    ``chunk_windows`` windows (per-patch ones under :data:`PATCH_CHUNK_BYTES`); returns the
    data variables' names and appends the per-patch coordinates' to ``names``."""
    n, cw = len(index), params["chunk_windows"]
    _array(group, "embedding", (n, dim), ("window", "feature"), (cw, dim), "float32")
    data_vars = ["embedding"]
    if n_outputs:
        _array(group, "logits", (n, n_outputs), ("window", "output"), (cw, n_outputs), "float32")
        data_vars.append("logits")
    if params["per_patch"]:
        P = int((index.n_channels * index.n_patches).max()) if n else 1
        per_chunk = 2 ** max(0, int(math.log2(max(1, PATCH_CHUNK_BYTES // (P * dim * 4)))))
        zc = math.gcd(cw, per_chunk)
        _array(
            group,
            "patch_embedding",
            (n, P, dim),
            ("window", "patch", "feature"),
            (zc, P, dim),
            "float32",
        )
        for name in ("patch_channel", "patch_second"):
            _array(group, name, (n, P), ("window", "patch"), (cw, P), "int16")
        data_vars.append("patch_embedding")
        names += ["patch_channel", "patch_second"]
    return data_vars


def _root_attributes(params: dict[str, Any], task: Any) -> dict[str, Any]:
    """The root group's attributes: where the model came from, the stores and the task."""
    return {
        "checkpoint": params["checkpoint"],
        "checkpoint_kind": params["checkpoint_kind"],
        tokenizer_used.KEY: params[tokenizer_used.KEY],
        backbone_used.KEY: params[backbone_used.KEY],
        "stores": params["stores"],
        "task": task.name if task is not None else None,
        "classes": list(task.classes) if task is not None else [],
        "pooling": "classifier: fc_norm(mean of patch tokens) (pre_logits); pre-trained: "
        "mean of the patch tokens after the final LayerNorm",
    }


def _clear_except(out: Path, keep: Path) -> None:
    """Delete everything in ``out`` (an embedding store being created) but ``keep`` and the
    folders above it: zarr's ``mode="w"`` would delete the marker with the rest, and a kill
    after it would leave a folder no later run could call ours."""
    import shutil

    for entry in out.iterdir():
        if entry in keep.parents:
            _clear_except(entry, keep)
        elif entry != keep:
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()


# --- the run -----------------------------------------------------------------------------


def _place_in(index: WindowIndex, part: np.ndarray) -> Callable[[int], tuple[str, float]]:
    """Where the ``i``-th window of ``part`` (window numbers of ``index``) is: its recording
    and start, in seconds."""
    in_index = index_place(index)
    return lambda i: in_index(int(part[i]))


def _embed_chunk(
    model: LaBraMClassifier | LaBraMForMEM,
    reader: BlockReader,
    ids: np.ndarray,
    buckets: np.ndarray,
    cfg: EmbedConfig,
    device: torch.device,
    arrays: dict[str, Any],
    source: str = "the checkpoint",
    left_out: LeftOut | None = None,
) -> int:
    """Compute and write the windows ``ids`` (one chunk, consecutive); ``source``: the
    checkpoint, named when its outputs are not finite (nothing of the chunk is written).
    A window whose samples cannot be read keeps the fill value and is counted in
    ``left_out`` (:mod:`labram.stages.embed_left_out`). Returns how many were left out."""
    c0, n = int(ids[0]), len(ids)
    left_out = LeftOut() if left_out is None else left_out
    before = left_out.n_windows
    bufs: dict[str, np.ndarray] = {
        name: np.full((n, *arr.shape[1:]), arr.fill_value, arr.dtype)
        for name, arr in arrays.items()
    }
    for b in np.unique(buckets[ids]):
        same = ids[buckets[ids] == b]
        for k in range(0, len(same), cfg.batch_size):
            for part, batch in readable_batches(reader, same[k : k + cfg.batch_size], left_out):
                _embed_batch(model, reader, part, batch, c0, bufs, device, source)
    for name, arr in arrays.items():
        arr[c0 : c0 + n] = bufs[name]
    return left_out.n_windows - before


def _embed_batch(
    model: LaBraMClassifier | LaBraMForMEM,
    reader: BlockReader,
    part: np.ndarray,
    batch: dict[str, torch.Tensor],
    c0: int,
    bufs: dict[str, np.ndarray],
    device: torch.device,
    source: str,
) -> None:
    """Put the outputs of ``batch`` (windows ``part``) into the chunk's buffers ``bufs``
    (their rows: window number - ``c0``)."""
    out = features(model, batch["x"].to(device), batch["channels"].to(device))
    peaks, place = window_peaks(batch["x"]), _place_in(reader.index, part)
    samples = blame_samples(peaks, place)
    for name in ("pooled", "logits"):  # (NaN would also read as "not computed yet")
        if name in out:
            check_finite_outputs(model, out[name], source=source, samples=samples)
    refuse_loud(peaks, place, source=source, done="embedded")
    rows = part - c0
    bufs["embedding"][rows] = out["pooled"].float().cpu().numpy()
    if "logits" in bufs:
        bufs["logits"][rows] = out["logits"].float().cpu().numpy()
    if "patch_embedding" in bufs:
        L = out["patches"].shape[1]  # N*A
        A = batch["x"].shape[2]
        bufs["patch_embedding"][rows, :L] = out["patches"].float().cpu().numpy()
        chans = batch["channels"].numpy()  # (B, N) vocabulary indices
        bufs["patch_channel"][rows, :L] = np.repeat(chans, A, axis=1)
        bufs["patch_second"][rows, :L] = np.tile(np.arange(A), L // A)


@dataclass(frozen=True)
class _Run:
    """What the checks before the first write settle, for the steps that write: the model,
    its windows, the output's parameters (its identity) and this process's place."""

    given: str  # ``--out`` as the user wrote it (named in messages and the result)
    out: Path  # the folder written (:func:`output_folder`)
    checkpoint: str
    dinfo: Any  # this process's rank, world size and device (:func:`setup`)
    loaded: Loaded
    model: LaBraMClassifier | LaBraMForMEM
    stores: list[Store]
    index: WindowIndex
    task: Any
    other_task: str | None  # the task the checkpoint was fine-tuned for, when not ``task``
    skipped: list[str]  # recordings that give no window
    records_left: dict[str, str]  # recording id -> why its index record cannot be read
    params: dict[str, Any]


def _prepare(
    stores: Sequence[str | Store], checkpoint: str | Path, out: str | Path, cfg: EmbedConfig,
    device: str | None,
) -> _Run:  # fmt: skip
    """Load the model and the windows, check they fit each other, warn of the recordings
    that give no window and settle the output's parameters; nothing is written yet."""
    given, out = str(out), output_folder(out)
    dinfo = setup(device)
    pin = NamedVersion(checkpoint, ChangedCheckpointError)  # (loaded, then hashed by name)
    loaded = load_model(checkpoint)
    model = backbone_model(loaded).to(dinfo.device).eval()
    # once: the windows, the skipped and the coordinates read them; a recording whose index
    # record cannot be read is left out, named as the windows whose samples cannot be
    readable, records_left = readable_stores(stores)
    stores = open_stores(readable, warn=dinfo.is_main and len(readable) > 1)
    index, task = window_index(
        stores, cfg, saved_windows(loaded.info, str(checkpoint)), loaded.info, str(checkpoint)
    )
    if len(index) == 0:
        raise UsageError(
            f"no window to embed in {shown_paths(given_names(stores))}: {why_no_window(cfg.task)}"
        )
    other_task = _fine_tuned_for_another(loaded, task)  # (its head: no logits kept, below)
    n_outputs = model.n_outputs if isinstance(model, LaBraMClassifier) else None
    if task is not None and n_outputs and not loaded.head_untrained and other_task is None:
        check_outputs(n_outputs, task, source=str(checkpoint))  # logits beside its labels
    used = np.unique(np.concatenate([r.channels for r in index.recordings]))
    check_windows_fit(model, used, int(index.n_patches.max()), source=str(checkpoint))
    skipped = skipped_recordings(stores, index)
    if dinfo.is_main:
        warn_skipped(skipped, f"{int(index.n_patches.min())}-{int(index.n_patches.max())} s")
    params = _params(loaded, str(checkpoint), stores, index, cfg)
    pin.check()  # (the SHA-256 a resume matches is of the weights loaded)
    params[RECORDS_LEFT_OUT] = sorted(records_left)
    return _Run(
        given=given, out=out, checkpoint=str(checkpoint), dinfo=dinfo, loaded=loaded,
        model=model, stores=stores, index=index, task=task, other_task=other_task,
        skipped=skipped, records_left=records_left, params=params,
    )  # fmt: skip


def _logits_kept(run: _Run, cfg: EmbedConfig) -> int | None:
    """How many logits per window the new store keeps: the classifier's outputs, or None
    (with a warning) for a pre-trained model, a head never trained or one of another task."""
    n_out = run.model.n_outputs if isinstance(run.model, LaBraMClassifier) else None
    if run.loaded.head_untrained:  # a released backbone without its head: no logits to keep
        log.warning(
            "%s has no classifier head (%s): features only, no logits",
            shown_path(run.checkpoint),
            ", ".join(run.loaded.untrained),
        )
        n_out = None
    if run.other_task is not None and n_out is not None:
        log.warning(
            "%s was fine-tuned for task %r, not %r: its logits do not score these "
            "windows' labels: features only, no logits",
            shown_path(run.checkpoint), run.other_task, cfg.task,
        )  # fmt: skip
        n_out = None
    return n_out


def _open_output(run: _Run, cfg: EmbedConfig) -> list[str]:
    """On the main rank: resume the output (sweep what a kill left, refresh the coordinates)
    when it is ours with these parameters, else create it. Returns the recording ids checked
    (every rank checks the store against them after the barrier)."""
    out, index = run.out, run.index
    rec_ids = [plan.id for plan in index.recordings]  # (named where the stores grew since)
    resumed = run.dinfo.is_main and open_existing(out, run.params, rec_ids)
    if resumed:  # ours: what a kill or a failed write left (the other ranks wait below)
        remove_partials(out)
        now = coordinates(index, run.stores)  # (labels re-ingested from the same source)
        task = run.task
        refresh_coordinates(out, {**now, **({"label": task_label(index)} if task else {})}, task)
    if run.dinfo.is_main and not resumed:
        n_out = _logits_kept(run, cfg)
        keys: dict[str, str] = {}
        coords = coordinates(index, run.stores, keys)
        try:
            create_store(
                out, index, coords, dim=run.model.config.dim, n_outputs=n_out, task=run.task,
                params=run.params, label_keys=keys,
            )  # fmt: skip
        except OSError as exc:  # a read-only or missing place, a file in the path, a full disk
            _left_behind(out)
            raise UsageError(_cannot_write(run.given, out, exc)) from None
    return rec_ids


@dataclass(frozen=True)
class _Chunks:
    """This rank's share of the output's chunks: all of them (``n_chunks``), its own
    (``mine``), those still to compute (``todo``) and those it finished (``own``)."""

    n_chunks: int
    mine: range
    todo: list[int]
    own: set[int]
    progress: Path  # this rank's progress file


def _chunks_to_do(run: _Run, cfg: EmbedConfig, arrays: dict[str, Any]) -> _Chunks:
    """Which of this rank's chunks are written and recorded already, and which are not."""
    out = run.out
    n_chunks = -(-len(run.index) // cfg.chunk_windows)
    mine = chunks_of_rank(n_chunks, run.dinfo.rank, run.dinfo.world_size)
    progress = out / META_DIR / "progress" / f"rank{run.dinfo.rank}.json"
    done = written(out, arrays["embedding"], completed(out, n_chunks))
    own = recorded(progress, n_chunks, warn=False) & done if progress.is_file() else set()
    todo = [c for c in mine if c not in done]
    return _Chunks(n_chunks=n_chunks, mine=mine, todo=todo, own=own, progress=progress)


def _write_chunks(run: _Run, cfg: EmbedConfig, arrays: dict[str, Any], chunks: _Chunks) -> LeftOut:
    """Compute, write, flush and record each chunk still to do, in order; returns the
    windows and recordings left out (with the recordings whose records cannot be read)."""
    reader = BlockReader(run.index)
    buckets = run.index.buckets()
    # windows whose samples cannot be read (their chunks stay undone), and the recordings
    # whose records cannot be (none of their windows in this store: a run after the
    # repair makes it again, :func:`~labram.stages.embed_existing.open_existing`)
    left_out = LeftOut(dict(run.records_left))
    n, out, own = len(run.index), run.out, chunks.own
    for c in chunks.todo:
        ids = np.arange(c * cfg.chunk_windows, min(n, (c + 1) * cfg.chunk_windows))
        try:
            n_left = _embed_chunk(
                run.model, reader, ids, buckets, cfg, run.dinfo.device, arrays, run.checkpoint,
                left_out,
            )  # fmt: skip
            sync_chunks(out, arrays, int(ids[0]), int(ids[-1]) + 1)  # before its record
        except OSError as exc:  # zarr's chunk writes name no file: the store is the place
            if run.dinfo.world_size == 1:  # (other ranks' writes in flight: their resume sweeps)
                _left_behind(out)
            raise named_error(exc, out) from exc  # the chunks recorded before are kept
        if not n_left:
            own.add(c)
        doc = {"chunks": sorted(own), "left_out": left_out.recordings,
               "windows_left_out": left_out.n_windows}  # fmt: skip
        _atomic_write(chunks.progress, sealed(doc).decode())
    return left_out


def embed(
    stores: Sequence[str | Store],
    checkpoint: str | Path,
    out: str | Path,
    *,
    cfg: EmbedConfig | None = None,
    device: str | None = None,
) -> dict[str, Any]:
    """Embed every window of ``stores`` with the model of ``checkpoint`` into ``out``.

    Returns
    -------
    dict
        ``out``, ``n_windows``, ``n_chunks``, ``computed`` (chunks this rank wrote now),
        ``skipped`` (this rank's chunks already done), ``recordings_skipped`` and
        ``recordings_skipped_ids`` (recordings that give no window: :func:`skipped_recordings`),
        ``seconds``, ``windows_per_s``, ``complete`` (every chunk of every rank written),
        ``windows_left_out`` and ``recordings_left_out`` (id -> why: windows whose samples
        cannot be read, :mod:`labram.stages.embed_left_out`; this rank's, and on the main rank
        under torchrun every rank's; with the recordings whose index records cannot be read,
        ``records_left_out`` of them, none of whose windows is in ``out``).
    """
    import zarr

    cfg = EmbedConfig() if cfg is None else cfg
    if not isinstance(cfg, EmbedConfig):  # (a TrainConfig's fields were read as if its own)
        raise UsageError(f"embed cfg: a {type(cfg).__name__}, not an EmbedConfig")
    t0 = time.perf_counter()
    run = _prepare(stores, checkpoint, out, cfg, device)
    dinfo, out = run.dinfo, run.out
    with contextlib.ExitStack() as alone:  # one embed at a time into one --out
        if dinfo.is_main:
            try:
                alone.enter_context(writing_alone(out, command="labram embed", given=run.given))
            except OSError as exc:  # a read-only or missing place, a file in the path
                raise UsageError(_cannot_write(run.given, out, exc)) from None
        rec_ids = _open_output(run, cfg)
        barrier()
        if not dinfo.is_main:
            open_existing(out, run.params, rec_ids)  # the same check on every rank
        group = zarr.open_group(str(out), mode="r+")
        names = ("embedding", "logits", "patch_embedding", "patch_channel", "patch_second")
        arrays = {k: group[k] for k in names if k in group}
        chunks = _chunks_to_do(run, cfg, arrays)
        begin_own_work()  # errors from here on may be this rank's own (eegprep.base.ranks)
        left_out = _write_chunks(run, cfg, arrays, chunks)
        barrier()
        if dinfo.is_main and dinfo.world_size > 1:  # the whole run's, named by this rank
            progress = chunks.progress
            left_out = with_other_ranks(progress.parent, dinfo.rank, dinfo.world_size, left_out)
        complete = len(completed(out, chunks.n_chunks)) == chunks.n_chunks
        return _result(run, cfg, chunks, left_out, complete, time.perf_counter() - t0)


def _result(
    run: _Run, cfg: EmbedConfig, chunks: _Chunks, left_out: LeftOut, complete: bool,
    seconds: float,
) -> dict[str, Any]:  # fmt: skip
    """The summary :func:`embed` returns (its docstring says each key)."""
    n, cw, todo = len(run.index), cfg.chunk_windows, chunks.todo
    n_now = sum(min(n, (c + 1) * cw) - c * cw for c in todo)
    return {
        "out": run.given,
        "n_windows": n,
        "n_chunks": chunks.n_chunks,
        "computed": len(todo),
        "skipped": len(chunks.mine) - len(todo),
        "recordings_skipped": len(run.skipped),  # recordings that give no window
        "recordings_skipped_ids": run.skipped,
        "windows_computed": n_now,
        "seconds": seconds,
        "windows_per_s": n_now / seconds if seconds > 0 else 0.0,
        "complete": complete,
        "windows_left_out": left_out.n_windows,  # samples unreadable: rows NaN, not done
        "recordings_left_out": left_out.recordings,
        "records_left_out": len(run.records_left),  # of those: index records unreadable
        "rank": run.dinfo.rank,
        "world_size": run.dinfo.world_size,
    }


def _cannot_write(given: str, out: Path, exc: OSError) -> str:
    """The line of an embedding store that cannot be created: the file that failed and what
    to do (an I/O error or a full disk: "pick a folder you can write" said nothing of it)."""
    at = (
        f" at {shown_path(exc.filename)}"
        if exc.filename and os.fspath(exc.filename) != os.fspath(out)
        else ""
    )
    todo = then_again(exc) or ": pick a folder you can write"
    return f"--out {given}: cannot write the embedding store ({write_problem(out, exc)}{at}){todo}"


__all__ = ["EmbedConfig", "chunks_of_rank", "completed", "embed", "features", "window_index"]


def _fine_tuned_for_another(loaded: Loaded, task: Any) -> str | None:
    """The task a classifier records (its ``task`` entry) when ``task`` (``--task``) is
    another one, else None. Such a head's logits sat beside the labels of ``--task`` as if
    they scored them (a 3-class head beside 3 other classes passed the outputs check)."""
    record = tokenizer_used.found_in(loaded.info, "task", source=loaded.source)
    name = record.get("name") if record is not None else None
    if task is None or not isinstance(name, str) or name == task.name:
        return None
    return name


def _left_behind(out: Path) -> None:
    """After a failed write: wait for zarr's other writes of the same call, still in flight,
    then remove the temporary files the failed ones left in ``out``."""
    settle()
    if out.is_dir():
        remove_partials(out)
