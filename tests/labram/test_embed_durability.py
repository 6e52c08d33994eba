"""`labram embed` puts what it wrote on the disk before the record that calls it done.

zarr writes each chunk to a temporary file and renames it into place, with no ``fsync``; the
progress file that records the chunk as done was flushed, so after a power cut it could survive
while the chunk did not, and a resume skipped the chunk: NaN windows in a run called complete.
Every call of ``os.fsync`` and ``os.replace`` is recorded here, and each record (a progress
file, ``embed.json``) must come after the flush of the data it vouches for and of the folders
naming that data, and be followed by the flush of its own folder.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import torch

from eegprep.base import strict_json
from labram.checkpoints.layouts import save_ours
from labram.model.config import model_config
from labram.model.mem import LaBraMForMEM
from labram.stages.embed import EmbedConfig, embed


def _recorded(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    """Every ``fsync`` (of the path its descriptor names) and ``replace`` (with what a
    progress or ``embed.json`` file being renamed holds), in order."""
    events: list[tuple[Any, ...]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        events.append(("fsync", os.path.realpath(os.readlink(f"/proc/self/fd/{fd}"))))
        real_fsync(fd)

    def replace(src: Any, dst: Any, *a: Any, **kw: Any) -> None:
        dst_path = os.path.realpath(os.fspath(dst))
        body = None
        if dst_path.endswith(".json") and "_labram" in dst_path:
            body = strict_json.loads(Path(src).read_bytes())
        real_replace(src, dst, *a, **kw)
        events.append(("replace", dst_path, body))

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    return events


def _last(events: list[tuple[Any, ...]], before: int, kind: str, path: str) -> int:
    """The position of the last ``kind`` event of ``path`` before position ``before``; -1."""
    return max((i for i, e in enumerate(events[:before]) if e[:2] == (kind, path)), default=-1)


def _flushed_after_written(events: list[tuple[Any, ...]], at: int, path: str) -> bool:
    """Whether ``path`` was flushed after its last rename into place and before ``at``."""
    return _last(events, at, "fsync", path) > _last(events, at, "replace", path)


def _embed_recorded(
    store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, list[tuple[Any, ...]], dict[str, Any]]:
    """Embed ``store`` with a tiny model into ``e.zarr``, recording every flush and rename:
    the output folder, the events and embed's result."""
    torch.manual_seed(0)
    save_ours(LaBraMForMEM(model_config("tiny")), tmp_path / "model.pt")
    out = Path(os.path.realpath(tmp_path)) / "e.zarr"
    events = _recorded(monkeypatch)
    res = embed([store], tmp_path / "model.pt", out, cfg=EmbedConfig(chunk_windows=4),
                device="cpu")  # fmt: skip
    monkeypatch.undo()
    return out, events, res


def test_each_chunk_and_its_folders_are_flushed_before_its_progress_record(
    store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, events, res = _embed_recorded(store, tmp_path, monkeypatch)
    assert res["complete"] and res["n_chunks"] >= 2
    progress = str(out / "_labram" / "progress" / "rank0.json")
    records = [(i, e[2]) for i, e in enumerate(events) if e[:2] == ("replace", progress)]
    assert len(records) == res["n_chunks"]
    for at, doc in records:
        for c in doc["chunks"]:
            chunk = out / "embedding" / "c" / str(c) / "0"
            assert _last(events, at, "replace", str(chunk)) >= 0, chunk
            assert _flushed_after_written(events, at, str(chunk)), f"chunk {c} not flushed"
            for folder in (chunk.parent, chunk.parent.parent, out / "embedding", out):
                done = _last(events, at, "fsync", str(folder))
                assert done > _last(events, at, "replace", str(chunk)), f"{folder} not flushed"
        assert any(e == ("fsync", os.path.dirname(progress)) for e in events[at + 1 :])


def test_the_store_s_metadata_is_flushed_before_embed_json_says_it_is_made(
    store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, events, _ = _embed_recorded(store, tmp_path, monkeypatch)
    made = str(out / "_labram" / "embed.json")
    at = next(i for i, e in enumerate(events) if e[:2] == ("replace", made))
    docs = [p for p in out.rglob("zarr.json") if "_labram" not in p.parts]
    assert len(docs) >= 3
    for doc in docs:
        assert _flushed_after_written(events, at, str(doc)), f"{doc} not flushed"
        assert _last(events, at, "fsync", str(doc.parent)) > _last(events, at, "replace", str(doc))
    assert any(e == ("fsync", os.path.dirname(made)) for e in events[at + 1 :])


def test_a_chunk_zarr_never_wrote_has_no_folder_to_flush_and_is_no_error(tmp_path: Path) -> None:
    """Windows left out (their samples unreadable) leave a chunk all fill value, which zarr does
    not write: its folder may not exist. Flushing it raised FileNotFoundError, which ended a
    two-rank embed run as an internal error."""
    import zarr

    from labram.stages.embed_sync import sync_chunks

    out = tmp_path / "e.zarr"
    group = zarr.create_group(str(out))
    arr = group.create_array("embedding", shape=(8, 4), chunks=(2, 4), dtype="float32")
    assert not (out / "embedding" / "c").exists()
    sync_chunks(out, {"embedding": arr}, 2, 4)  # nothing written: no error
