"""Writing eegprep stores: create, lock, stage a recording, commit it.

A worker writes one recording's group (:func:`write_recording`) under a staging name; the
driver commits it (:meth:`StoreWriter.commit`): on a local disk a rename moves the complete group
into ``recordings/{corpus}/{name}``, then the index lists it. A killed ingest leaves at most an
unlisted staging group, removed by the next run: a recording is complete and listed, or absent.

Concurrency contract: one :class:`StoreWriter` per store at a time (a lock object refuses a
second); :func:`write_recording` may run in any number of worker processes at once, each on
its own staging name.
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from eegprep import __version__
from eegprep.channels import VOCABULARY
from eegprep.errors import StoreFormatError, StoreLockedError
from eegprep.recipe import Recipe
from eegprep.store import FORMAT, FORMAT_VERSION, read_root_attrs
from eegprep.store_fs import Location
from eegprep.store_index import append, compact, read_index
from eegprep.zarr_direct import Layout, ShardWriter, put, write_group, zarr_compressors

CHUNK_SECONDS = 60  # one chunk = all channels x 60 s: one read call serves many windows
SHARD_CHUNKS = 30  # one shard object = 30 chunks (30 min): few files per recording
STAGING = ("_eegprep", "staging")
LOCK = ("_eegprep", "lock")


def group_json(attrs: dict[str, Any]) -> bytes:
    """A group's ``zarr.json``, compact (json's C encoder; an indent needs the Python one)."""
    meta = {"zarr_format": 3, "node_type": "group", "attributes": attrs}
    return json.dumps(meta, sort_keys=True).encode()


def root_attrs(recipe: Recipe) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "sfreq": recipe.sfreq,
        "unit": "uV",
        "recipe": recipe.to_dict(),
        "recipe_hash": recipe.hash(),
        "vocabulary": list(VOCABULARY),
        "eegprep_version": __version__,
        "layout": {
            "recordings": "recordings/{corpus}/{name}",
            "index": "_eegprep/index/*.jsonl",
            "chunk_seconds": CHUNK_SECONDS,
            "shard_chunks": SHARD_CHUNKS,
        },
    }


class StoreWriter:
    """The single writer of a store during an ingest. Use as a context manager."""

    def __init__(self, url: str | os.PathLike[str], recipe: Recipe) -> None:
        self.loc = Location.parse(url)
        self.recipe = recipe
        self._locked = False

    def __enter__(self) -> StoreWriter:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> None:
        attrs = read_root_attrs(self.loc)
        if attrs is None:
            self._create()
        elif attrs.get("recipe_hash") != self.recipe.hash():
            raise StoreFormatError(
                f"{self.loc.url}: written with recipe {attrs.get('recipe_hash')} "
                f"({_describe(attrs.get('recipe', {}))}), this ingest uses {self.recipe.hash()} "
                f"({_describe(self.recipe.to_dict())}): use the same options or a new --out"
            )
        self._lock()
        for name in self.loc.list(*STAGING):  # what a killed run left: never listed, remove
            self.loc.remove(*STAGING, name)

    def _create(self) -> None:
        loc = self.loc
        if loc.local:
            os.makedirs(loc.root, exist_ok=True)
        loc.write_bytes(group_json({}), "recordings", "zarr.json")
        loc.write_bytes(group_json({"description": "eegprep bookkeeping"}), "_eegprep", "zarr.json")
        loc.write_bytes(group_json(root_attrs(self.recipe)), "zarr.json")

    def _lock(self) -> None:
        me = {"host": socket.gethostname(), "pid": os.getpid(), "since": time.time()}
        if self.loc.exists(*LOCK):
            other = json.loads(self.loc.read_bytes(*LOCK) or b"{}")
            if not _is_stale(other):
                since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(other.get("since", 0)))
                raise StoreLockedError(
                    f"{self.loc.url}: another ingest (pid {other.get('pid')} on "
                    f"{other.get('host')}, since {since}) is writing this store; wait for it, "
                    f"or delete {self.loc.path(*LOCK)} if that process is gone"
                )
        if self.loc.local:
            path = self.loc.path(*LOCK)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            if os.path.exists(path):
                os.unlink(path)  # stale: its process is gone
            try:
                fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                raise StoreLockedError(
                    f"{self.loc.url}: another ingest took the lock just now"
                ) from None
            with os.fdopen(fd, "w") as fh:
                json.dump(me, fh)
        else:
            self.loc.write_bytes(json.dumps(me).encode(), *LOCK)
        self._locked = True

    def close(self) -> None:
        if not self._locked:
            return
        compact(self.loc)
        self.loc.remove(*LOCK)
        self._locked = False

    def existing(self) -> dict[str, dict[str, Any]]:
        return read_index(self.loc)

    def staging_path(self) -> str:
        """A fresh staging location (relative to the store root) for one recording."""
        return "/".join([*STAGING, uuid.uuid4().hex])

    def final_path(self, group: str) -> str:
        return group

    def commit(self, items: list[tuple[str, dict[str, Any]]]) -> None:
        """Move staged groups into place and list them in the index, in one index segment.

        ``items``: ``(staged path, index record)``; the record's ``group`` is the final path.
        """
        for staged, record in items:
            final = record["group"]
            corpus_group = final.rsplit("/", 1)[0]
            if not self.loc.exists(corpus_group, "zarr.json"):
                self.loc.write_bytes(group_json({}), corpus_group, "zarr.json")
            if staged != final:
                self.loc.remove(final)  # an unlisted leftover, or the outdated version
                if self.loc.local:
                    os.replace(self.loc.path(staged), self.loc.path(final))
                else:
                    self.loc.fs.mv(self.loc.path(staged), self.loc.path(final), recursive=True)
        append(self.loc, [record for _, record in items])

    def remove(self, ids: Iterable[str], groups: Iterable[str]) -> None:
        append(self.loc, [{"id": rid, "deleted": True} for rid in ids])
        for g in groups:
            self.loc.remove(g)

    def save_report(self, report: dict[str, Any]) -> str:
        name = time.strftime("ingest-%Y%m%dT%H%M%S", time.gmtime()) + f"-{os.getpid()}.json"
        self.loc.write_bytes(json.dumps(report, indent=2).encode(), "_eegprep", "reports", name)
        return self.loc.path("_eegprep", "reports", name)


def _describe(recipe: dict[str, Any]) -> str:
    keys = ("l_freq", "h_freq", "sfreq", "mode", "encoding")
    return ", ".join(f"{k}={recipe.get(k)}" for k in keys)


def _is_stale(lock: dict[str, Any]) -> bool:
    """A lock held by a process on this host that no longer runs."""
    if lock.get("host") != socket.gethostname():
        return False
    pid = int(lock.get("pid", 0))
    if pid <= 0:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


QUANTUM_FRACTION = 8  # quantized encoding: step = source ADC resolution / 8
FLOAT_SOURCE_QUANTUM_UV = 1e-3  # step for sources that store floats (no ADC resolution known)


def quantum_uv(resolutions: list[float]) -> float:
    """The quantized encoding's step (uV): the finest source resolution / QUANTUM_FRACTION."""
    known = [r for r in resolutions if r > 0]
    return min(known) / QUANTUM_FRACTION if known else FLOAT_SOURCE_QUANTUM_UV


def write_recording(
    url: str,
    path: str,
    *,
    attrs: dict[str, Any] | None,
    channels: list[str],
    n_samples: int,
    blocks: Iterator[np.ndarray],
    sfreq: float,
    encoding: str = "float32",
    quantum: float | None = None,
    targets: dict[str, np.ndarray] | None = None,
) -> dict[str, Any]:
    """Write one recording group at ``path`` (relative to the store root) from output blocks.

    Parameters
    ----------
    attrs : dict or None
        The group's attributes; ``None`` leaves them empty, for a caller that writes the final
        ones itself once the samples are in.
    blocks : iterator of ndarray, shape (n_channels, n)
        float32 microvolts at ``sfreq``, in order, ``n_samples`` in all.
    quantum : float, optional
        Step in uV of the ``quantized`` encoding (see :func:`quantum_uv`).
    targets : dict of str to ndarray, optional
        Other time series at ``sfreq`` (``(n_targets, n_samples)``), stored beside ``data``.

    Returns
    -------
    dict
        Per-channel statistics over the written samples: ``rms`` (uV), ``n_nonfinite``.
    """
    loc = Location.parse(url)
    chunk = int(CHUNK_SECONDS * sfreq)
    quantum = quantum if encoding == "quantized" else None
    layout = Layout(len(channels), sfreq, encoding, quantum, chunk, chunk * SHARD_CHUNKS)
    writer = write_group(loc, path, layout, channels, n_samples)
    stats = _write_blocks(writer, blocks, len(channels), n_samples)
    if targets:
        import zarr

        put(loc, f"{path}/zarr.json", [group_json({})])  # replaced by the attributes
        root = zarr.open_group(loc.zarr_store(path), mode="r+")
        for name, values in targets.items():
            arr = root.create_array(
                name,
                shape=values.shape,
                chunks=(values.shape[0], chunk),
                dtype=np.float32,
                compressors=zarr_compressors("float32"),
                dimension_names=(f"{name}_channel", "time"),
            )
            arr[...] = values.astype(np.float32)
    # the attributes last, in one write, once the samples are in
    put(loc, f"{path}/zarr.json", [group_json(attrs or {})])
    return stats


def _write_blocks(
    writer: ShardWriter, blocks: Iterator[np.ndarray], n_ch: int, n_samples: int
) -> dict[str, Any]:
    """Hand the blocks to the shard writer, taking per-channel statistics on the way."""
    sumsq = np.zeros(n_ch, dtype=np.float64)
    nonfinite = np.zeros(n_ch, dtype=np.int64)
    for block in blocks:
        # float32 dot products (BLAS), summed over blocks in float64: relative error ~1e-7
        block_sumsq = np.vecdot(block, block).astype(np.float64)
        bad = ~np.isfinite(block_sumsq)  # NaN and inf propagate (and float32 overflow): recount
        if bad.any():
            finite = np.isfinite(block[bad])
            nonfinite[bad] += block.shape[1] - finite.sum(axis=1)
            block_sumsq[bad] = np.square(np.where(finite, block[bad], 0), dtype=np.float64).sum(
                axis=1
            )
        sumsq += block_sumsq
        writer.append(block)
    writer.close()
    rms = np.sqrt(sumsq / max(n_samples, 1))
    return {"rms": [round(float(v), 4) for v in rms], "n_nonfinite": nonfinite.tolist()}
