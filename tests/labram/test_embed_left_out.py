"""Promise: ``labram embed`` goes on past a window whose samples cannot be read.

A flipped bit in one chunk of the input store stopped the run at its first window of that
recording, and every re-run stopped there again. The other windows are now embedded; each
window that cannot be read keeps NaN, its output chunk is not recorded as done, its recording
is named (``left out:`` lines, the progress file, ``--json``), and the command exits 3; once the
recording is repaired the same command fills the windows.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
import xarray as xr

import labram.stages.embed as E
from labram.checkpoints.layouts import save_ours
from labram.data.block_reader import BlockReader
from labram.model.config import model_config
from labram.model.mem import LaBraMForMEM
from labram.stages.embed_left_out import LeftOut, readable_batches
from tests.labram.cli_runs import run_labram
from tests.labram.training_stores import write_pretrain_store
from tests.safety.test_integrity import _chunk_spans, _flip, _shard
from tests.safety.test_record_copies import _damage_index_line

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # numcodecs' zarr3 codecs

BAD = "tuh/s001_r0"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("embed-store")
    return Path(write_pretrain_store(root / "pre.zarr", n_subjects=2, seconds=20))


def _damaged(store: Path, tmp_path: Path) -> tuple[Path, Path, bytes]:
    """A copy of ``store`` with a flipped bit in the first chunk of :data:`BAD`; its shard
    and the shard's sound bytes."""
    copy = tmp_path / "pre.zarr"
    shutil.copytree(store, copy)
    shard = _shard(copy, BAD)
    good = shard.read_bytes()
    offset, _ = _chunk_spans(good)[0]
    shard.write_bytes(_flip(good, offset + 7, 2))
    return copy, shard, good


def test_a_batch_is_read_window_by_window_when_a_sample_cannot_be_read(
    store: Path, tmp_path: Path
) -> None:
    copy, _, _ = _damaged(store, tmp_path)
    index, _ = E.window_index([str(copy)], E.EmbedConfig())
    buckets = index.buckets()
    ids = np.flatnonzero(buckets == buckets[np.flatnonzero(
        [index.recordings[r].id == BAD for r in index.rec])[0]])  # fmt: skip
    left = LeftOut()
    read = readable_batches(BlockReader(index), ids, left)
    kept = np.concatenate([part for part, _ in read]) if read else np.zeros(0, int)
    assert list(left.recordings) == [BAD] and "CRC-32C" in left.recordings[BAD]
    assert left.n_windows == len(ids) - len(kept) >= 1
    assert {index.recordings[r].id for r in index.rec[np.setdiff1d(ids, kept)]} == {BAD}


@pytest.fixture(scope="module")
def files(store: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("embed-left-out")
    torch.manual_seed(0)
    save_ours(LaBraMForMEM(model_config("tiny")), root / "model.pt")
    clean = root / "clean.zarr"
    code, output = _embed(store, root / "model.pt", clean)
    assert code == 0, output
    return {"root": root, "store": store, "clean": clean}


def _embed(store: Path, model: Path, out: Path, *more: str) -> tuple[int, str]:
    return run_labram("embed", "--store", store, "--checkpoint", model, "--out", out,
                      "--chunk-windows", 4, "--device", "cpu", *more)  # fmt: skip


def _embedding(out: Path) -> tuple[np.ndarray, np.ndarray]:
    with xr.open_zarr(out) as ds:
        return ds.embedding.values, ds.recording.values


@pytest.mark.slow  # 7 s: four embed runs of a tiny model
def test_the_other_windows_are_embedded_and_the_bad_ones_named(
    files: dict[str, Path], tmp_path: Path
) -> None:
    store, shard, good = _damaged(files["store"], tmp_path)
    out = tmp_path / "emb.zarr"

    code, output = _embed(store, files["root"] / "model.pt", out)
    assert code == 3, output
    left = [line for line in output.splitlines() if line.startswith("left out: ")]
    assert len(left) == 1 and BAD in left[0] and "CRC-32C" in left[0], output
    assert re.search(r"\b1 window of 1 recording left out", output), output
    assert "--repair" in output
    got, recording = _embedding(out)
    want, _ = _embedding(files["clean"])
    lost = np.isnan(got).all(axis=1)
    assert lost.any() and set(recording[lost]) == {BAD}  # only windows of the damaged one
    np.testing.assert_allclose(got[~lost], want[~lost], atol=1e-5)  # the others, as ever
    progress = json.loads((out / "_labram" / "progress" / "rank0.json").read_text())
    assert list(progress["left_out"]) == [BAD]

    code, output = _embed(store, files["root"] / "model.pt", out, "--json")
    res = json.loads(output)
    assert code == 3 and res["computed"] >= 1 and not res["complete"]  # never taken as done
    assert list(res["recordings_left_out"]) == [BAD] and res["windows_left_out"] == lost.sum()

    shard.write_bytes(good)  # repaired: the same command fills the windows left out
    code, output = _embed(store, files["root"] / "model.pt", out)
    assert code == 0 and "left out" not in output, output
    got, _ = _embedding(out)
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_the_main_rank_names_what_every_rank_left_out(
    files: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under torchrun each rank wrote its own left-out windows to its progress file and rank 0
    reported its own only: a damaged recording in rank 1's chunks was never named, and the run
    merely read as incomplete. The ranks run one after another here (the barrier a no-op):
    rank 0 creates the store, rank 1 meets the damaged chunk, rank 0 again reports it."""
    from labram.train.distributed import DistInfo

    store, _, _ = _damaged(files["store"], tmp_path)
    out = tmp_path / "emb.zarr"
    cfg = E.EmbedConfig(chunk_windows=4)
    index, _ = E.window_index([str(store)], cfg)
    n_chunks = -(-len(index) // cfg.chunk_windows)
    first_bad = min(np.flatnonzero([index.recordings[r].id == BAD for r in index.rec]))
    world = 2
    bad_chunk = first_bad // cfg.chunk_windows
    bad_rank = next(r for r in range(world) if bad_chunk in E.chunks_of_rank(n_chunks, r, world))
    assert bad_rank == 1, "the fixture's damaged recording must fall in rank 1's chunks"
    monkeypatch.setattr(E, "barrier", lambda: None)

    def as_rank(rank: int) -> dict:  # type: ignore[type-arg]
        monkeypatch.setattr(E, "setup", lambda device: DistInfo(rank, rank, world,
                                                                torch.device("cpu")))  # fmt: skip
        return E.embed([str(store)], files["root"] / "model.pt", out, cfg=cfg, device="cpu")

    assert as_rank(0)["recordings_left_out"] == {}  # (rank 1 has not run yet)
    mine = as_rank(1)
    assert list(mine["recordings_left_out"]) == [BAD] and mine["windows_left_out"] >= 1
    whole = as_rank(0)
    assert list(whole["recordings_left_out"]) == [BAD]
    assert whole["windows_left_out"] == mine["windows_left_out"] and not whole["complete"]


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda r: r.update(channels="FP1"), id="malformed"),  # left out at opening
        pytest.param(lambda r: r.update(n_samples=-1), id="a value wrong"),  # at its parsing
    ],
)
def test_recordings_whose_records_cannot_be_read_are_left_out_then_filled(
    files: dict[str, Path], tmp_path: Path, damage: Callable[[dict], None]
) -> None:
    """A store whose index holds a damaged record was refused whole, where ``eegprep stats``
    tabulates the rest: the other recordings are now embedded, the damaged one named as the
    windows left out are (``left out:``, the progress file, ``--json``, exit 3), a re-run
    resumes, and once the record is repaired the store is made again with its windows."""
    store = tmp_path / "pre.zarr"
    shutil.copytree(files["store"], store)
    segment = next((store / "_eegprep" / "index").glob("*.jsonl"))
    sound = segment.read_bytes()
    _damage_index_line(store, BAD, damage)
    out = tmp_path / "emb.zarr"

    code, output = _embed(store, files["root"] / "model.pt", out)
    assert code == 3, output
    left = [line for line in output.splitlines() if line.startswith("left out: ")]
    assert len(left) == 1 and BAD in left[0], output
    assert "1 recording whose index records cannot be read" in output and "--repair" in output
    got, recording = _embedding(out)
    want, everyone = _embedding(files["clean"])
    assert BAD not in set(recording) and set(recording) == set(everyone) - {BAD}
    np.testing.assert_allclose(got, want[everyone != BAD], atol=1e-5)
    progress = json.loads((out / "_labram" / "progress" / "rank0.json").read_text())
    assert list(progress["left_out"]) == [BAD]

    code, output = _embed(store, files["root"] / "model.pt", out, "--json")  # resumed
    res = json.loads(output)
    assert code == 3 and res["computed"] == 0 and res["records_left_out"] == 1
    assert list(res["recordings_left_out"]) == [BAD] and res["windows_left_out"] == 0

    segment.write_bytes(sound)  # repaired: the same command makes the store again, whole
    code, output = _embed(store, files["root"] / "model.pt", out)
    assert code == 0 and "left out" not in output, output
    got, recording = _embedding(out)
    assert list(recording) == list(everyone)
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_a_record_damaged_after_its_windows_were_embedded_is_said_so(
    files: dict[str, Path], tmp_path: Path
) -> None:
    """A store embedded whole, then a record of its input damaged: the re-run was refused as
    written with other arguments (``windows``), which the user never changed. It is refused
    naming the recording and the repair, and nothing of the store is lost."""
    store = tmp_path / "pre.zarr"
    shutil.copytree(files["store"], store)
    out = tmp_path / "emb.zarr"
    code, output = _embed(store, files["root"] / "model.pt", out)
    assert code == 0, output
    before, _ = _embedding(out)
    _damage_index_line(store, BAD, lambda r: r.update(channels="FP1"))
    code, output = _embed(store, files["root"] / "model.pt", out)
    assert code == 2 and output.startswith("error:"), output
    assert BAD in output and "--repair" in output and "other arguments" not in output, output
    after, _ = _embedding(out)
    np.testing.assert_array_equal(after, before)


@pytest.mark.slow  # 10-20 s: torchrun, two ranks, one embed run of a tiny model
def test_under_torchrun_every_rank_leaves_out_the_same_and_rank_0_names_each_once(
    files: dict[str, Path], tmp_path: Path
) -> None:
    """A real two-rank run (gloo): a recording whose index record cannot be read is left out
    by every rank alike (none of its windows in the store, on either rank's progress file), a
    damaged chunk met by rank 1 alone is named by rank 0, and rank 0 names each recording
    once, on one ``left out:`` line each; the other rank prints nothing."""
    from tests.labram.test_torchrun import _torchrun

    store = tmp_path / "pre.zarr"
    write_pretrain_store(store, n_subjects=3, seconds=20)
    gone = "tuh/s000_r0"
    cfg = E.EmbedConfig(chunk_windows=1)  # (a window a chunk: each rank has chunks to do)
    index, _ = E.window_index([str(store)], cfg)
    index = index.subset(index.rec != [p.id for p in index.recordings].index(gone))
    n_chunks = -(-len(index) // cfg.chunk_windows)
    first = E.chunks_of_rank(n_chunks, 1, 2)[0] * cfg.chunk_windows
    rank1 = [index.recordings[r].id for r in index.rec[first:]]
    bad = rank1[-1]  # a recording whose windows rank 1 embeds, rank 0 not all of them
    shard = _shard(store, bad)
    blob = shard.read_bytes()
    offset, _ = _chunk_spans(blob)[0]
    shard.write_bytes(_flip(blob, offset + 7, 2))
    _damage_index_line(store, gone, lambda r: r.update(channels="FP1"))
    runner = tmp_path / "labram_main.py"
    runner.write_text("from cli import labram_cli\nlabram_cli()\n")
    out = tmp_path / "emb.zarr"
    res = _torchrun(
        [str(runner), "embed", "--store", str(store), "--checkpoint",
         str(files["root"] / "model.pt"), "--out", str(out), "--chunk-windows", "1",
         "--device", "cpu"], tmp_path,
    )  # fmt: skip
    assert res.returncode != 0, res.stderr[-3000:]  # rank 0 exits 3: something left out
    left = [line for line in res.stderr.splitlines() if line.startswith("left out: ")]
    assert len(left) == 2 and gone in left[0] + left[1] and bad in left[0] + left[1], res.stderr
    assert res.stderr.count("1 recording whose index records cannot be read") == 1
    assert res.stderr.count(f"'{gone}'") == 1 and res.stderr.count(f"of recordings/{bad}") == 1
    for r in range(2):
        progress = json.loads((out / "_labram" / "progress" / f"rank{r}.json").read_text())
        assert gone in progress["left_out"], progress  # every rank left it out
        assert (bad in progress["left_out"]) == (r == 1), progress  # rank 1 met the chunk
    _, recording = _embedding(out)
    assert gone not in set(recording)


def test_a_repair_does_not_hide_a_record_damaged_since(
    files: dict[str, Path], tmp_path: Path
) -> None:
    """Written with one recording left out for its record; that one repaired, another's record
    damaged since: the store was made again, the second recording's embedded windows lost,
    where a record damaged since alone is refused to keep them. It is refused the same way."""
    other = "tuh/s000_r0"
    store = tmp_path / "pre.zarr"
    shutil.copytree(files["store"], store)
    segment = next((store / "_eegprep" / "index").glob("*.jsonl"))
    sound = segment.read_bytes()
    _damage_index_line(store, BAD, lambda r: r.update(channels="FP1"))
    out = tmp_path / "emb.zarr"
    code, output = _embed(store, files["root"] / "model.pt", out)
    assert code == 3, output
    before, recording = _embedding(out)
    assert other in set(recording) and BAD not in set(recording)
    segment.write_bytes(sound)  # BAD repaired, then the other's record damaged
    _damage_index_line(store, other, lambda r: r.update(channels="FP1"))
    code, output = _embed(store, files["root"] / "model.pt", out)
    assert code == 2 and output.startswith("error:"), output
    assert other in output and "--repair" in output, output
    after, _ = _embedding(out)
    np.testing.assert_array_equal(after, before)  # nothing of the store lost
