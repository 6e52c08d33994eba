"""A checkpoint's header claims are judged before its tensor bytes are read.

A sparse file of 1 MB on disk whose header claims 1.5 GB of tensors took 4.2 GB of memory
(safetensors, a ``torch.save`` archive, the released ``.pth`` layout alike) before it was
refused for its keys. Each reader now compares the claims with the model the file describes
(:mod:`labram.checkpoints.claims`) and refuses such a file in one line, having read none of
it: measured in a fresh
process (``tests/peak_memory.py``: its ``ru_maxrss`` starts at the test process's own peak),
against what its imports alone take.
"""

from __future__ import annotations

import functools
import json
import os
import struct
import subprocess
import sys
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from labram.checkpoints.claims import check_claims
from labram.checkpoints.errors import CheckpointError, CorruptCheckpointError
from labram.checkpoints.layouts import ours_dict, save_ours
from labram.checkpoints.load import load_model
from labram.checkpoints.released_sizes import UNRELEASED_VARIABLE
from labram.checkpoints.safe_read import read_checkpoint
from labram.model.classifier import LaBraMClassifier
from labram.model.config import model_config
from labram.model.mem import LaBraMForMEM
from tests.labram.labram_layouts import classifier_layout, fabricate, mem_layout, tokenizer_layout

REPO = Path(__file__).resolve().parents[2]
CLAIMED = 600_000_000
"""Bytes each crafted file claims (150 M float32): what reading it would cost, at least."""
BUDGET_MB = 100
"""The most a refusal may add to the peak memory of a process that has imported labram."""

_PEAK = """
import json, sys
import labram.checkpoints.load
from labram.checkpoints.errors import CheckpointError
from tests import peak_memory
before = peak_memory.start()
try:
    labram.checkpoints.load.load_model(sys.argv[1])
    said = None
except CheckpointError as exc:
    said = str(exc)
after = peak_memory.peak()
print(json.dumps({"said": said, "added_mb": (after - before) / 1024**2}))
"""


def _load_in_a_process(path: Path) -> dict:
    """``load_model(path)`` in a fresh process: what it said, and the peak memory it added."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run(
        [sys.executable, "-c", _PEAK, str(path)], capture_output=True, text=True, env=env,
        check=True, cwd=REPO,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def _sparse_safetensors(path: Path, tensors: dict[str, list[int]], meta: dict | None) -> Path:
    """A safetensors file whose header claims float32 ``tensors`` (name -> shape) one after
    another; only the header is written, the rest is a hole (zeros when read)."""
    header: dict = {"__metadata__": meta} if meta else {}
    at = 0
    for name, shape in tensors.items():
        n = 4 * int(torch.Size(shape).numel())
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [at, at + n]}
        at += n
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    with path.open("wb") as fh:
        fh.write(struct.pack("<Q", len(raw)) + raw)
        fh.truncate(8 + len(raw) + at)
    return path


@functools.cache
def _zeros_crc(size: int) -> int:
    """The CRC-32 of ``size`` zero bytes. Computed once a size: the crafted archives of the
    tests here repeat their 600 MB tensor, and each computation took 1-4 s."""
    zeros = memoryview(bytes(1 << 24))
    crc, left = 0, size
    while left > 0:
        step = min(left, len(zeros))
        crc, left = zlib.crc32(zeros[:step], crc), left - step
    return crc


def _sparse_archive(path: Path, obj: dict) -> Path:
    """``torch.save(obj)`` without writing its tensors' bytes (a sparse file of zeros), each
    member's CRC-32 then set to that of its zeros: a file that is whole by every check."""
    with torch.serialization.skip_data():
        torch.save(obj, path)
    with zipfile.ZipFile(path) as archive:
        infos, start = archive.infolist(), archive.start_dir
    with path.open("r+b") as fh:
        fh.seek(start)
        central = fh.read()
        for info in infos:
            if "/data/" not in info.filename:
                continue
            crc = _zeros_crc(info.file_size)
            fh.seek(info.header_offset + 14)
            fh.write(struct.pack("<I", crc))
            entry = central.find(b"PK\x01\x02")  # (each central directory entry in turn)
            while entry >= 0:
                n = struct.unpack("<H", central[entry + 28 : entry + 30])[0]
                if central[entry + 46 : entry + 46 + n].decode() == info.filename:
                    fh.seek(start + entry + 16)
                    fh.write(struct.pack("<I", crc))
                    break
                entry = central.find(b"PK\x01\x02", entry + 4)
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None  # (the crafted file passes every CRC-32)
    return path


def _crafted(kind: str, tmp_path: Path) -> Path:
    n = CLAIMED // 4
    if kind == "safetensors, no layout":
        return _sparse_safetensors(tmp_path / "x.safetensors", {"cls_token": [n]}, None)
    if kind == "safetensors, a config":  # our export: a tiny model, one tensor of 150 M
        info = ours_dict(LaBraMClassifier(model_config("tiny"), 2))
        meta = {"labram": json.dumps({k: v for k, v in info.items() if k != "model"})}
        shapes = {k: list(v.shape) for k, v in info["model"].items()}
        shapes["head.weight"] = [n // 100, 100]
        return _sparse_safetensors(tmp_path / "x.safetensors", shapes, meta)
    if kind == "torch.save, no layout":
        return _sparse_archive(tmp_path / "x.pt", {"model": {"cls_token": torch.empty(n)}})
    if kind.endswith("an unreleased size"):  # every tensor fits: a model of 640 MB of its own
        shapes = mem_layout(UNRELEASED)
        if kind.startswith("released safetensors"):
            listed = {k: list(v) for k, v in shapes.items()}
            return _sparse_safetensors(tmp_path / "labram-big.safetensors", listed, None)
        sd = {k: torch.empty(v) for k, v in shapes.items()}  # (never written: no page touched)
        return _sparse_archive(tmp_path / "labram-big.pth", {"model": sd, "epoch": 3})
    sd = fabricate(mem_layout("tiny", n_codes=64))  # the released layout
    if kind == "released .pth, a table beside":
        sd["student.extra_table"] = torch.empty(n)
    else:  # its spatial table as large as the file: the model its shapes make is that large
        sd["student.pos_embed"] = torch.empty(1, n // 100, 100)
    return _sparse_archive(tmp_path / "labram-base.pth", {"model": sd, "epoch": 3})


UNRELEASED = (400, 80, 16, 16)
"""(dim, depth, conv channels, heads) of no released architecture: LaBraM-Large's width at 80
blocks, 160 M parameters in the released pre-training layout."""
KINDS = ["safetensors, no layout", "safetensors, a config", "torch.save, no layout",
         "released .pth, a table beside", "released .pth, its own table",
         "released .pth, an unreleased size",
         "released safetensors, an unreleased size"]  # fmt: skip
SAID = {
    "safetensors, no layout": "describes no LaBraM model",
    "safetensors, a config": r"tensor model\['head\.weight'\] claims shape \(1500000, 100\) "
    r"where the classifier model its config describes has \(2, 100\)",
    "torch.save, no layout": "describes no LaBraM model",
    "released .pth, a table beside": "more than the mem model its keys and shapes describe",
    "released .pth, its own table": "describes no LaBraM model",
    "released .pth, an unreleased size": r"\(dim 400, depth 80, MLP 1600; 160,[\d,]+ parameters\) "
    "is none of the released architectures",
    "released safetensors, an unreleased size": "is none of the released architectures",
}


@pytest.fixture(scope="module")
def crafted(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """The crafted file of a kind, made once for the module's tests (each only reads it:
    making one, its 600 MB of zeros checked by ``testzip``, took 2-5 s)."""
    made: dict[str, Path] = {}

    def get(kind: str) -> Path:
        if kind not in made:
            made[kind] = _crafted(kind, tmp_path_factory.mktemp("crafted"))
        return made[kind]

    return get


@pytest.mark.parametrize("kind", KINDS)
def test_a_file_claiming_more_than_its_model_is_refused_before_it_is_read(
    kind: str, crafted: Callable[[str], Path]
) -> None:
    path = crafted(kind)
    assert path.stat().st_size > CLAIMED and path.stat().st_blocks * 512 < 8 * 2**20  # sparse
    with pytest.raises(CorruptCheckpointError, match=SAID[kind]) as info:
        read_checkpoint(path)
    assert str(info.value).startswith(f"{path}: ") and "\n" not in str(info.value)
    assert str(info.value).endswith("none of it was read")


@pytest.mark.parametrize(
    "kind",
    [pytest.param(k, marks=pytest.mark.slow) if "unreleased" in k else k for k in KINDS],
)  # (the unreleased sizes: 4-8 s each, a sparse file of 640 MB made and a process started)
def test_refusing_it_takes_no_memory_of_what_it_claims(
    kind: str, crafted: Callable[[str], Path]
) -> None:
    """Measured in a fresh process: before, each took 2.5-7x the bytes it claimed."""
    got = _load_in_a_process(crafted(kind))
    assert got["added_mb"] < BUDGET_MB, got
    assert got["said"] is not None and "none of it was read" in got["said"], got


@pytest.mark.parametrize("suffix", [".pt", ".safetensors"])
def test_genuine_files_load_as_before(suffix: str, tmp_path: Path) -> None:
    """Our files (a training state beside the weights too) pass their claims and load the same
    weights, each tensor read into the one returned."""
    torch.manual_seed(0)
    clf = LaBraMClassifier(model_config("tiny"), 2)
    save_ours(clf, tmp_path / f"m{suffix}")
    got = read_checkpoint(tmp_path / f"m{suffix}")["model"]
    assert sorted(got) == sorted(clf.state_dict())
    for key, value in clf.state_dict().items():
        assert torch.equal(got[key], value), key
    moments = {k: torch.zeros_like(v) for k, v in clf.state_dict().items()}
    state = {**ours_dict(clf), "optimizer": {"exp_avg": moments, "exp_avg_sq": dict(moments)}}
    torch.save(state, tmp_path / "with_state.pt")
    assert set(read_checkpoint(tmp_path / "with_state.pt")["optimizer"]) == {
        "exp_avg",
        "exp_avg_sq",
    }


def test_a_legacy_file_larger_than_any_state_beside_weights_is_not_read(tmp_path: Path) -> None:
    """A ``torch.save`` file of PyTorch before 1.6 (no zip) is read as it is unpickled: its
    claims cannot be judged first. One larger than 64 MiB is refused unread (a sparse one of
    100 MB here); a small one still loads."""
    small = tmp_path / "old.pt"
    torch.save({"model": {"w": torch.ones(3)}}, small, _use_new_zipfile_serialization=False)
    assert not zipfile.is_zipfile(small)
    assert torch.equal(read_checkpoint(small)["model"]["w"], torch.ones(3))
    big = tmp_path / "big.pt"
    big.write_bytes(small.read_bytes())
    os.truncate(big, 100_000_000)  # (what follows the pickle is never looked at)
    with pytest.raises(CorruptCheckpointError, match=r"before 1\.6.*none of it was read"):
        read_checkpoint(big)


def test_a_safetensors_header_longer_or_listing_more_than_any_checkpoint_s_is_refused(
    tmp_path: Path,
) -> None:
    """A 60 MB header of empty tensors took 2.4 GB and minutes to parse: a header over 8 MiB
    is refused unread, and one listing more than 20,000 tensors once parsed (a LaBraM-Huge
    model lists about 1,000)."""
    many = {f"t{i}": [0] for i in range(20_001)}
    path = _sparse_safetensors(tmp_path / "many.safetensors", many, None)
    with pytest.raises(CorruptCheckpointError, match="lists 20,001 tensors, where a LaBraM"):
        read_checkpoint(path)
    long = _sparse_safetensors(tmp_path / "long.safetensors", {}, {"x": " " * 9 * 2**20})
    with pytest.raises(CorruptCheckpointError, match=r"header is 9,437,\d+ bytes long"):
        read_checkpoint(long)


def _on_meta(shapes: dict[str, tuple[int, ...]]) -> dict:
    """A released file's skeleton as the readers judge it: its tensors' shapes, no bytes."""
    return {"model": {k: torch.empty(v, device="meta") for k, v in shapes.items()}, "epoch": 3}


@pytest.mark.parametrize(
    "layout",
    [lambda: mem_layout("base"), lambda: mem_layout("huge"), lambda: tokenizer_layout(),
     lambda: classifier_layout("large", n_outputs=6)],
    ids=["LaBraM-Base", "LaBraM-Huge", "VQ-NSP", "LaBraM-Large, 6 outputs"],
)  # fmt: skip
def test_every_released_architecture_passes_its_claims_at_its_size(layout, tmp_path) -> None:
    """LaBraM-Huge's pre-training file holds 376 M parameters, 15 times the limit for another
    architecture: its claims pass, as Base's, the tokenizer's and a fine-tuned Large's do."""
    check_claims(tmp_path / "released.pth", _on_meta(layout()))


def test_an_unreleased_size_within_the_limit_loads_and_the_variable_names_another(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A small model of no released architecture (the tiny one) loads; the limit the user sets
    in LABRAM_UNRELEASED_PARAMETERS holds instead of the default, and a value that is no
    number is one line."""
    path = tmp_path / "labram-tiny.pth"
    torch.save({"model": fabricate(mem_layout("tiny", n_codes=64))}, path)
    assert isinstance(load_model(path).model, LaBraMForMEM)
    monkeypatch.setenv(UNRELEASED_VARIABLE, "100000")
    with pytest.raises(CorruptCheckpointError, match=r"larger than 100,000 parameters.*none of"):
        load_model(path)
    big = _on_meta(mem_layout(UNRELEASED))
    with pytest.raises(CorruptCheckpointError, match="none of the released architectures"):
        check_claims(tmp_path / "big.pth", big)
    monkeypatch.setenv(UNRELEASED_VARIABLE, "200_000_000")
    check_claims(tmp_path / "big.pth", big)
    monkeypatch.setenv(UNRELEASED_VARIABLE, "lots")
    with pytest.raises(CheckpointError) as info:
        load_model(path)
    assert str(info.value).startswith(f"{path}: {UNRELEASED_VARIABLE}='lots' is not a number")
    assert "\n" not in str(info.value)
