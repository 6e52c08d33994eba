"""Writing one recording's group: its samples as checksummed shards, its targets, its attributes.

A worker writes the group (:func:`write_recording`) under the staging name the driver gave it,
and the record last (:func:`write_group_attrs`): a group whose attributes hold its record is
complete. Committing it into the store is the driver's (:class:`eegprep.store.writer.StoreWriter`).

Concurrency contract: :func:`write_recording` may run in any number of worker processes at once,
each on its own staging name.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import numpy as np

from eegprep.store.chunk_sums import listed, values_crc
from eegprep.store.fs import Location
from eegprep.store.record import RecordingRecord
from eegprep.store.shards import (
    CHUNK_SECONDS,
    SHARD_CHUNKS,
    Layout,
    ShardWriter,
    put,
    write_group,
    zarr_compressors,
)


def group_json(attrs: dict[str, Any]) -> bytes:
    """A group's ``zarr.json``, compact (json's C encoder; an indent needs the Python one)."""
    meta = {"zarr_format": 3, "node_type": "group", "attributes": attrs}
    return json.dumps(meta, sort_keys=True, allow_nan=False).encode()


def write_group_attrs(url: str, group_path: str, record: RecordingRecord | None) -> None:
    """Write a recording group's ``zarr.json`` at ``group_path`` (from the store root), in one
    write: its attributes are ``record`` (empty for ``None``).

    The last write of a recording: a group whose attributes hold its record is complete.
    """
    attrs = record.to_dict() if record is not None else {}
    put(Location.parse(url), f"{group_path}/zarr.json", [group_json(attrs)])


def write_recording(
    url: str,
    path: str,
    *,
    record: RecordingRecord | None,
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
    record : RecordingRecord or None
        The group's attributes; ``None`` writes no group ``zarr.json`` (with ``targets``, one
        with no attributes), for a caller that writes the final one itself once the samples
        are in (:func:`write_group_attrs`): each file of a group is created once, and on this
        project's machine each creation costs ~0.45 ms of system time.
    blocks : iterator of ndarray, shape (n_channels, n)
        float32 microvolts at ``sfreq``, in order, ``n_samples`` in all.
    quantum : float, optional
        Step in uV of the ``quantized`` encoding (see :func:`quantum_uv`).
    targets : dict of str to ndarray, optional
        Other time series at ``sfreq`` (``(n_targets, n_samples)``), stored beside ``data``.

    Returns
    -------
    dict
        Per-channel statistics over the written samples: ``rms`` (uV), ``n_nonfinite``; and
        ``chunk_crc32c``, each chunk's CRC-32C in order, the record's field of that name, and
        with ``targets``, ``target_crc32c``, the CRC-32C of each one's values by name.
    """
    loc = Location.parse(url)
    chunk = int(CHUNK_SECONDS * sfreq)
    quantum = quantum if encoding == "quantized" else None
    layout = Layout(len(channels), sfreq, encoding, quantum, chunk, chunk * SHARD_CHUNKS)
    writer = write_group(loc, path, layout, channels, n_samples)
    stats = _write_blocks(writer, blocks, len(channels), n_samples)
    if targets:
        stats["target_crc32c"] = _write_targets(loc, path, targets, chunk)
    if record is not None:  # the attributes last, once the samples are in
        write_group_attrs(url, path, record)
    return stats


def _write_targets(
    loc: Location, path: str, targets: dict[str, np.ndarray], chunk: int
) -> dict[str, str]:
    """Write each of ``targets`` (``(n_targets, n_samples)``) as a float32 array of the group
    at ``path`` (a group ``zarr.json`` first, which the attributes replace), in chunks of
    ``chunk`` samples; returns the CRC-32C of each one's values (8 hex digits), by name."""
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
    return {name: values_crc(v) for name, v in targets.items()}


def _write_blocks(
    writer: ShardWriter, blocks: Iterator[np.ndarray], n_ch: int, n_samples: int
) -> dict[str, Any]:
    """Hand the blocks to the shard writer, taking per-channel statistics on the way."""
    sums = ChannelSums(n_ch)
    for block in blocks:
        block_sumsq, bad = sums.add(block)
        # no sample exceeds the root of its row's sum of squares: the encoder's range check
        # then costs nothing for ordinary EEG (1% for the float32 sums' round-off)
        peak = float(np.sqrt(block_sumsq.max())) * 1.01 if n_ch and not bad else None
        writer.append(block, peak)
    writer.close()
    return {**sums.stats(n_samples), "chunk_crc32c": listed(writer.crcs)}  # (by place)


class ChannelSums:
    """Per-channel statistics of a recording's samples, block by block, as an ingest records
    them: the sum of squares and the count of non-finite samples (``labram predict`` takes
    them from the same blocks, so it judges a file by the same numbers)."""

    def __init__(self, n_channels: int) -> None:
        self.sumsq = np.zeros(n_channels, dtype=np.float64)
        self.nonfinite = np.zeros(n_channels, dtype=np.int64)

    def add(self, block: np.ndarray) -> tuple[np.ndarray, bool]:
        """Count ``block`` (n_channels, n) in; its rows' sums of squares, and whether a row
        held a sample that is not finite (or its float32 sum overflowed)."""
        # float32 dot products (BLAS), summed over blocks in float64: relative error ~1e-7; an
        # overflow is recounted below, without numpy's warning on the terminal
        with np.errstate(over="ignore", invalid="ignore"):
            block_sumsq = np.vecdot(block, block).astype(np.float64)
        bad = ~np.isfinite(block_sumsq)  # NaN and inf propagate (and float32 overflow): recount
        if bad.any():
            finite = np.isfinite(block[bad])
            self.nonfinite[bad] += block.shape[1] - finite.sum(axis=1)
            block_sumsq[bad] = np.square(np.where(finite, block[bad], 0), dtype=np.float64).sum(
                axis=1
            )
        self.sumsq += block_sumsq
        return block_sumsq, bool(bad.any())

    def stats(self, n_samples: int) -> dict[str, Any]:
        """``rms`` (uV, per channel, 4 decimals) and ``n_nonfinite``, as the record keeps them."""
        rms = np.sqrt(self.sumsq / max(n_samples, 1))
        return {"rms": [round(float(v), 4) for v in rms], "n_nonfinite": self.nonfinite.tolist()}
