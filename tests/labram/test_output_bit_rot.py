"""Bit rot in what labram writes for later reading: a flipped bit in an embedding store's chunk
or in an export's weights is an error, never another value read unsaid.

Before: an embedding store's chunks held Zstandard without a checksum (about 96% of single
flips decoded, to other embeddings), and an export's safetensors file none at all (a flipped
bit in a weight loaded as another weight; its export id, a digest of its contents, was never
compared on read)."""

from __future__ import annotations

import random
import struct
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
import zarr

import labram.stages.embed as E
from labram.checkpoints.errors import CorruptCheckpointError
from labram.checkpoints.layouts import save_ours
from labram.checkpoints.safe_read import read_checkpoint
from labram.model.classifier import LaBraMClassifier
from labram.model.config import model_config
from labram.stages.export import export
from tests.labram.training_stores import write_pretrain_store

N_FLIPS = 12


def _flips(n_bytes: int, seed: int, first: int = 0) -> list[int]:
    """Seeded bit positions of a file of ``n_bytes``, from byte ``first`` on."""
    return random.Random(seed).sample(range(first * 8, n_bytes * 8), N_FLIPS)


def _values(out: Path, name: str) -> np.ndarray:
    """Array ``name`` of the embedding store ``out``, read whole through zarr (as xarray does)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.asarray(zarr.open_array(str(out / name), mode="r")[...])


def _flipped(path: Path, bit: int) -> bytes:
    raw = path.read_bytes()
    changed = bytearray(raw)
    changed[bit // 8] ^= 1 << (bit % 8)
    path.write_bytes(bytes(changed))
    return raw


def test_a_flipped_bit_in_any_chunk_of_an_embedding_store_is_an_error(tmp_path: Path) -> None:
    torch.manual_seed(0)
    ckpt = tmp_path / "best.pt"
    save_ours(LaBraMClassifier(model_config("tiny"), 2), ckpt)
    store = write_pretrain_store(tmp_path / "pre.zarr", n_subjects=2, seconds=20)
    out = tmp_path / "emb.zarr"
    res = E.embed([store], ckpt, out, cfg=E.EmbedConfig(chunk_windows=4), device="cpu")
    assert res["complete"]
    group = zarr.open_group(str(out), mode="r")
    chunks = {name: sorted(p for p in (out / name).rglob("c/**/*") if p.is_file())
              for name in group.array_keys()}  # fmt: skip
    names = sorted(name for name, files in chunks.items() if files)  # (a chunk of fill: none)
    assert {"embedding", "logits", "recording", "subject"} <= set(names)
    whole = {name: _values(out, name) for name in names}
    for k, name in enumerate(names):
        chunk = chunks[name][0]
        for bit in _flips(chunk.stat().st_size, k):
            raw = _flipped(chunk, bit)
            try:
                got = _values(out, name)
            except ValueError:  # the CRC-32C's "checksum do not match", or a codec's own
                pass
            else:
                pytest.fail(f"{name}: bit {bit} flipped read as {got!r}, not {whole[name]!r}")
            finally:
                chunk.write_bytes(raw)
    assert all(np.array_equal(_values(out, n), whole[n]) for n in names)


def test_a_flipped_bit_in_an_export_s_weights_is_refused_in_one_line(tmp_path: Path) -> None:
    torch.manual_seed(0)
    ckpt = tmp_path / "best.pt"
    save_ours(LaBraMClassifier(model_config("tiny"), 1), ckpt)
    weights = Path(export(ckpt, tmp_path / "m.safetensors")["weights"])
    whole = read_checkpoint(weights)["model"]
    header = 8 + struct.unpack("<Q", weights.read_bytes()[:8])[0]
    for bit in _flips(weights.stat().st_size, 0, first=header):
        raw = _flipped(weights, bit)
        try:
            with pytest.raises(CorruptCheckpointError, match="differ from what its export id") as e:
                read_checkpoint(weights)
            assert str(e.value).startswith(f"{weights}: ") and "\n" not in str(e.value)
        finally:
            weights.write_bytes(raw)
    back = read_checkpoint(weights)["model"]
    assert all(torch.equal(back[k], whole[k]) for k in whole)
