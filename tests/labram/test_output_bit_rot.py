"""Bit rot in what labram writes for later reading: a flipped bit in an embedding store's chunk
or in an export's weights is an error, never another value read unsaid.

Before: an embedding store's chunks held Zstandard without a checksum (about 96% of single
flips decoded, to other embeddings), and an export's safetensors file none at all (a flipped
bit in a weight loaded as another weight; its export id, a digest of its contents, was never
compared on read)."""

from __future__ import annotations

import json
import random
import re
import struct
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
import zarr

import labram.stages.embed as E
from eegprep.base.errors import UsageError
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


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("embedded")
    torch.manual_seed(0)
    save_ours(LaBraMClassifier(model_config("tiny"), 2), root / "best.pt")
    store = write_pretrain_store(root / "pre.zarr", n_subjects=3, seconds=60)
    return {"root": root, "ckpt": root / "best.pt", "store": Path(store)}


def _embed_again(files: dict[str, Path], out: Path) -> dict:
    cfg = E.EmbedConfig(chunk_windows=2)
    return E.embed([str(files["store"])], files["ckpt"], out, cfg=cfg, device="cpu")


def test_a_flipped_bit_in_a_progress_file_never_skips_a_chunk_left_out(
    embedded: dict[str, Path], tmp_path: Path
) -> None:
    """A run left a window of chunk 2 out (NaN, the chunk not recorded as done: progress
    ``[0, 1, 3, ...]``); a bit flipped in that file (``0`` -> ``2``) recorded chunk 2 and
    dropped chunk 0, so the next run recomputed chunk 0, skipped chunk 2 and called the store
    complete with its NaN window. The file's checksum now fails: every chunk is computed
    again."""
    from eegprep.base.sealed_json import sealed

    out = tmp_path / "emb.zarr"
    first = _embed_again(embedded, out)
    assert first["complete"] and first["n_chunks"] >= 4
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        zarr.open_array(str(out / "embedding"), mode="r+")[4] = np.nan  # (chunk 2)
    progress = out / "_labram" / "progress" / "rank0.json"
    doc = json.loads(progress.read_text())
    doc["chunks"] = [c for c in doc["chunks"] if c != 2]
    text = sealed(doc).decode()
    at = re.search(r'"chunks": \[\s*(0)', text)
    assert at is not None
    progress.write_text(text[: at.start(1)] + "2" + text[at.end(1) :])  # 0x30 ^ 0x02
    again = _embed_again(embedded, out)
    assert again["complete"]
    assert not np.isnan(_values(out, "embedding")).any()


def test_a_flipped_bit_in_embed_json_is_named_as_damage(
    embedded: dict[str, Path], tmp_path: Path
) -> None:
    """A digit flipped in ``_labram/embed.json`` (``chunk_windows`` 2 -> 3) was taken for
    another run's arguments; now it is one line naming the file as damaged."""
    out = tmp_path / "emb.zarr"
    assert _embed_again(embedded, out)["complete"]
    meta = out / "_labram" / "embed.json"
    text = meta.read_text()
    at = text.index('"chunk_windows": 2') + len('"chunk_windows": ')
    meta.write_text(text[:at] + "3" + text[at + 1 :])  # 0x32 ^ 0x01
    with pytest.raises(UsageError, match=r"embed.json: its entries do not match its content_sha"):
        _embed_again(embedded, out)
