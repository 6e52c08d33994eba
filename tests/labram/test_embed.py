"""`labram embed`: windows -> vectors in a Zarr store xarray opens; resumable; sharded by rank."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
import xarray as xr
from click.testing import CliRunner

import labram.stages.embed as E
from eegprep.base.errors import UsageError
from eegprep.ingestion.driver import IngestConfig, ingest
from eegprep.testing.demo_labelled import write_tuab_demo
from labram.checkpoints.layouts import save_official, save_ours
from labram.data.block_reader import BlockReader
from labram.model.classifier import LaBraMClassifier
from labram.model.config import model_config
from labram.model.mem import LaBraMForMEM
from labram.train.distributed import DistInfo
from tests.labram.training_stores import write_pretrain_store


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("embed")
    torch.manual_seed(0)
    save_ours(LaBraMForMEM(model_config("tiny")), root / "model.pt")
    save_official(LaBraMForMEM(model_config("tiny")), root / "labram-base.pth")
    save_ours(LaBraMClassifier(model_config("tiny"), 1), root / "best.pt")
    store = write_pretrain_store(root / "pre.zarr", n_subjects=3, seconds=40)
    demo = write_tuab_demo(root / "demo", n_subjects=1, seed=0, minutes=0.5)
    ingest("tuab", src=demo, out=root / "tuab.zarr", config=IngestConfig(workers=0, progress=False))
    return {"root": root, "store": Path(store), "tuab": root / "tuab.zarr"}


def _open(path: Path) -> xr.Dataset:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # consolidated, readable: no warning on the way
        return xr.open_zarr(path)


@pytest.mark.parametrize("world", [1, 2, 3, 5])
def test_rank_slices_are_disjoint_and_complete(world: int) -> None:
    for n in range(12):
        parts = [list(E.chunks_of_rank(n, r, world)) for r in range(world)]
        assert sorted(c for p in parts for c in p) == list(range(n))
        assert max(map(len, parts)) - min(map(len, parts)) <= 1
        assert all(p == list(range(p[0], p[-1] + 1)) for p in parts if p)  # contiguous


@pytest.mark.parametrize(
    ("field", "value"), [("chunk_windows", 0), ("chunk_windows", 10**20), ("batch_size", 10**20)]
)
def test_absurd_chunk_and_batch_sizes_are_one_line(field: str, value: int) -> None:
    """A chunk of 10^20 windows was numpy's internal error when the output was created."""
    from eegprep.base.errors import UsageError

    expected = "expected an integer from 1 to 65,536"
    with pytest.raises(UsageError, match=rf"Invalid value for `{field}`: {expected}"):
        E.EmbedConfig(**{field: value})


def test_embeddings_open_in_xarray_with_coordinates(files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "emb.zarr"
    cfg = E.EmbedConfig(chunk_windows=4, per_patch=True, batch_size=3)
    res = E.embed([str(files["store"])], files["root"] / "model.pt", out, cfg=cfg, device="cpu")
    assert res["complete"] and res["computed"] == res["n_chunks"]
    ds = _open(out)
    index, _ = E.window_index([str(files["store"])], cfg)
    assert ds.sizes["window"] == len(index) == res["n_windows"]
    assert ds.sizes["feature"] == 100 and not np.isnan(ds.embedding.values).any()
    ids = [index.recordings[r].id for r in index.rec]
    assert list(ds.recording.values) == ids
    assert np.array_equal(ds.start_s.values, index.start / 200)
    assert set(ds.subject.values) == {"s000", "s001", "s002"} and set(ds.split.values) == {"train"}
    # window 5 computed on its own gives the stored vector
    model = LaBraMForMEM(model_config("tiny"))
    model.load_state_dict(torch.load(files["root"] / "model.pt", weights_only=True)["model"])
    batch = BlockReader(index).batch(np.array([5]))
    feats = E.features(model.eval(), batch["x"], batch["channels"])
    np.testing.assert_allclose(ds.embedding.values[5], feats["pooled"][0].numpy(), atol=1e-5)
    # per patch: channel-major tokens, NaN past the window's patches
    n_tok = int(ds.n_channels.values[5] * ds.duration_s.values[5])
    np.testing.assert_allclose(ds.patch_embedding.values[5, :n_tok], feats["patches"][0], atol=1e-5)
    assert np.isnan(ds.patch_embedding.values[5, n_tok:]).all()
    assert (ds.patch_channel.values[5, n_tok:] == -1).all()
    assert list(ds.patch_second.values[5, :3]) == [0, 1, 2]


def test_resume_and_ranks(files: dict[str, Path], tmp_path: Path, monkeypatch) -> None:
    """Rank 0 of 2 alone, then rank 1, gives the single-process store; a re-run computes
    nothing; other arguments are refused."""
    stores, ckpt = [str(files["store"])], files["root"] / "model.pt"
    cfg = E.EmbedConfig(chunk_windows=3)
    whole = tmp_path / "whole.zarr"
    E.embed(stores, ckpt, whole, cfg=cfg, device="cpu")
    out = tmp_path / "ranks.zarr"
    for rank in (0, 1):
        info = DistInfo(rank, rank, 2, torch.device("cpu"))
        monkeypatch.setattr(E, "setup", lambda device, info=info: info)
        res = E.embed(stores, ckpt, out, cfg=cfg, device="cpu")
        assert res["complete"] == (rank == 1)
    assert np.array_equal(_open(out).embedding.values, _open(whole).embedding.values)
    monkeypatch.undo()
    again = E.embed(stores, ckpt, out, cfg=cfg, device="cpu")
    assert again["computed"] == 0 and again["skipped"] == again["n_chunks"]
    # a killed run: drop one chunk from the progress record, it alone is computed again
    prog = out / "_labram" / "progress" / "rank0.json"
    chunks = json.loads(prog.read_text())["chunks"]
    prog.write_text(json.dumps({"chunks": chunks[1:]}))
    assert E.embed(stores, ckpt, out, cfg=cfg, device="cpu")["computed"] == 1
    with pytest.raises(UsageError, match="other arguments: chunk_windows"):
        E.embed(stores, ckpt, out, cfg=E.EmbedConfig(chunk_windows=4), device="cpu")
    with pytest.raises(UsageError, match="checkpoint_sha256"):
        E.embed(stores, files["root"] / "labram-base.pth", out, cfg=cfg, device="cpu")


def test_checkpoint_kinds_on_the_demo_tuab_corpus(files: dict[str, Path], tmp_path: Path) -> None:
    """Our model.pt, the released layout and a fine-tuned classifier with the task's windows."""
    from cli import labram_cli

    runner = CliRunner()
    for name in ("model.pt", "labram-base.pth"):
        out = tmp_path / f"{name}.zarr"
        args = ["embed", "--store", str(files["tuab"]), "--checkpoint", str(files["root"] / name)]
        res = runner.invoke(labram_cli, [*args, "--out", str(out), "--device", "cpu"])
        assert res.exit_code == 0, res.output
        ds = _open(out)
        assert set(ds.label_abnormal.values) == {0.0, 1.0}
        assert set(ds.split.values) == {"train", "eval"}
    out = tmp_path / "clf.zarr"
    args = ["embed", "--store", str(files["tuab"]), "--checkpoint", str(files["root"] / "best.pt")]
    res = runner.invoke(labram_cli, [*args, "--task", "tuab", "--out", str(out), "--device", "cpu"])
    assert res.exit_code == 0, res.output
    ds = _open(out)
    assert ds.logits.shape == (ds.sizes["window"], 1) and set(ds.duration_s.values) == {10.0}
    assert np.array_equal(ds.label.values, ds.label_abnormal.values)
    assert ds.attrs["classes"] == ["normal", "abnormal"]
    # a tokenizer, or a folder that is not ours, is one line and exit 2
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "x.txt").write_text("mine")
    res = runner.invoke(labram_cli, [*args, "--out", str(tmp_path / "other")])
    assert res.exit_code == 2 and "not a labram embedding store" in res.output
    assert res.output.count("\n") == 1


def test_a_released_classifier_without_head_gives_no_logits(
    files: dict[str, Path], tmp_path: Path
) -> None:
    """Its head is freshly initialised on load: logits from random weights are not written;
    a spatial table too small for the store's channels is one line naming the file."""
    from labram.checkpoints.errors import CheckpointError

    torch.manual_seed(0)
    sd = dict(torch.load(_released_classifier(tmp_path), weights_only=True)["model"])
    del sd["head.weight"], sd["head.bias"]
    torch.save({"model": sd}, tmp_path / "headless.pth")
    cfg = E.EmbedConfig(task="tuab")
    with pytest.warns(UserWarning, match="head"):
        E.embed([str(files["tuab"])], tmp_path / "headless.pth", tmp_path / "e.zarr", cfg=cfg,
                device="cpu")  # fmt: skip
    ds = _open(tmp_path / "e.zarr")
    assert "embedding" in ds and "logits" not in ds
    sd["pos_embed"] = sd["pos_embed"][:, :50]
    torch.save({"model": sd}, tmp_path / "small.pth")
    with (
        pytest.warns(UserWarning, match="head"),
        pytest.raises(CheckpointError, match=r"small\.pth: its spatial table has 50 rows"),
    ):
        E.embed([str(files["tuab"])], tmp_path / "small.pth", tmp_path / "s.zarr", cfg=cfg,
                device="cpu")  # fmt: skip


def _released_classifier(tmp_path: Path) -> Path:
    save_official(LaBraMClassifier(model_config("tiny"), 1), tmp_path / "rel.pth")
    return tmp_path / "rel.pth"


@pytest.mark.slow
def test_a_kill_while_creating_the_output_then_the_same_command_finishes_it(
    files: dict[str, Path], tmp_path: Path
) -> None:
    """SIGKILL at each write that makes the output's root, its bookkeeping or clears it (and at
    the first chunk), then the same command: it finishes, equal to an uninterrupted run. A kill
    after the root ``zarr.json`` was written without its ``format`` attribute (zarr wrote it,
    then the attributes) left a folder every later run refused as "not a labram embedding
    store"."""
    import shutil

    from tests.safety.killing import KILLED, run, run_killed, write_calls

    def args(out: Path) -> list[str]:
        return ["embed", "--store", str(files["tuab"]), "--checkpoint",
                str(files["root"] / "model.pt"), "--out", str(out), "--chunk-windows", "16",
                "--device", "cpu"]  # fmt: skip

    whole = tmp_path / "whole.zarr"
    assert run(args(whole), command="labram").returncode == 0
    out = tmp_path / "e.zarr"
    calls = write_calls(args(out), out, tmp_path / "calls.txt", command="labram")
    shutil.rmtree(out)
    points = [k for k, c in enumerate(calls, 1)
              if c.endswith(" zarr.json") or "_labram" in c or c.startswith("rmtree")]  # fmt: skip
    points.append(next(k for k, c in enumerate(calls, 1) if "embedding/c" in c))
    points = sorted(p for p in set(points) if p <= points[-1])  # creation and the first chunk
    assert len(points) >= 6, calls
    for k in points:
        killed = run_killed(args(out), out, k, command="labram")
        assert killed.returncode == KILLED, (k, calls[k - 1], killed.stderr)
        again = run(args(out), command="labram")
        assert again.returncode == 0, (k, calls[k - 1], again.stderr)
        a, b = _open(out), _open(whole)
        assert np.array_equal(a.embedding.values, b.embedding.values), (k, calls[k - 1])
        assert not list((out / E.META_DIR).glob("creating*")), k  # no marker left behind
        shutil.rmtree(out)


def test_a_resume_removes_what_killed_or_failed_zarr_writes_left(
    files: dict[str, Path], tmp_path: Path
) -> None:
    """zarr writes each object through ``NAME.<hex>.partial``: a kill (or a write still in
    flight when another failed and the process exited) leaves it for good. The next run on the
    same embedding store removes them and nothing else; a folder that is not ours keeps its
    own, the run refused."""
    stores, ckpt = [str(files["store"])], files["root"] / "model.pt"
    cfg = E.EmbedConfig(chunk_windows=3)
    out = tmp_path / "e.zarr"
    E.embed(stores, ckpt, out, cfg=cfg, device="cpu")
    left = [out / "zarr.0123456789abcdef0123456789abcdef.partial",
            out / "embedding" / "c" / "1.fedcba9876543210fedcba9876543210.partial"]  # fmt: skip
    for p in left:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"half a chunk")
    kept = out / "notes.partial"  # not zarr's name: not ours to remove
    kept.write_bytes(b"x")
    assert E.embed(stores, ckpt, out, cfg=cfg, device="cpu")["computed"] == 0
    assert not any(p.exists() for p in left) and kept.exists()
    assert _open(out).embedding.shape[0] > 0
    foreign = tmp_path / "other"
    theirs = foreign / "a.0123456789abcdef0123456789abcdef.partial"
    foreign.mkdir()
    theirs.write_bytes(b"y")
    with pytest.raises(UsageError, match="not a labram embedding store"):
        E.embed(stores, ckpt, foreign, cfg=cfg, device="cpu")
    assert theirs.exists()


def test_a_failed_zarr_write_waits_for_the_others_and_leaves_no_partial(
    files: dict[str, Path], tmp_path: Path, monkeypatch
) -> None:
    """When one of zarr's writes fails, the others of the call may still be running when the
    error returns; they are waited for and their temporary files removed before the one line."""
    import asyncio

    from zarr.storage import LocalStore

    stores, ckpt = [str(files["store"])], files["root"] / "model.pt"
    out = tmp_path / "e.zarr"
    real = LocalStore._set
    state = {"in_flight": 0, "failed": 0, "concurrent": 0}

    async def slow_or_full(self, key, value, exclusive=False):  # type: ignore[no-untyped-def]
        state["in_flight"] += 1
        try:
            if state["in_flight"] > 1:
                state["concurrent"] += 1
                if not state["failed"]:
                    state["failed"] = 1
                    raise OSError(28, "No space left on device")
            part = Path(self.root) / f"{key}.0123456789abcdef0123456789abcdef.partial"
            part.parent.mkdir(parents=True, exist_ok=True)
            part.write_bytes(b"")  # zarr's temporary file, there while the write runs
            await asyncio.sleep(0.3)
            await real(self, key, value, exclusive)
            part.unlink()
        finally:
            state["in_flight"] -= 1

    monkeypatch.setattr(LocalStore, "_set", slow_or_full)
    with pytest.raises((OSError, UsageError), match="No space left"):  # creating or filling
        E.embed(stores, ckpt, out, cfg=E.EmbedConfig(chunk_windows=3), device="cpu")
    assert state["failed"] and state["concurrent"] >= 1  # writes ran together, one failed
    assert not list(out.rglob("*.partial"))


def test_a_second_embed_into_an_out_being_written_is_refused_and_touches_nothing(
    files: dict[str, Path], tmp_path: Path
) -> None:
    """Two embeds into one --out at once: the second cleared the first's creation under way
    (its marker reads as "a creation cut short") and swept the temporary files of the first's
    writes in flight. Now the first holds an flock on the folder for its whole run (another
    process, as flock sees it: its own open descriptor) and the second is one line, before it
    reads or writes anything there; once the first is done, the same command runs."""
    import fcntl
    import os

    from cli import labram_cli

    out = tmp_path / "e.zarr"
    (out / E.META_DIR).mkdir(parents=True)
    marker = out / E.META_DIR / E.CREATING  # the first's creation, under way
    marker.write_text('{"format": "labram-embeddings"}')
    inflight = out / "embedding.0123456789abcdef0123456789abcdef.partial"
    inflight.write_bytes(b"a write in flight")
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    fd = os.open(out, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    args = ["embed", "--store", str(files["tuab"]), "--checkpoint",
            str(files["root"] / "model.pt"), "--out", str(out), "--device", "cpu"]  # fmt: skip
    try:
        res = CliRunner().invoke(labram_cli, args)
    finally:
        os.close(fd)
    assert res.exit_code == 2, res.output
    assert res.output.strip().splitlines() == [
        f"error: --out {out}: another labram embed is writing it now: wait for that one to end "
        "(run the same command again then: it resumes), or give another --out"
    ]
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before
    assert inflight.read_bytes() == b"a write in flight"
    res = CliRunner().invoke(labram_cli, args)  # the first is gone: this one runs
    assert res.exit_code == 0, res.output
    assert not marker.exists() and not inflight.exists()
    assert np.isfinite(_open(out).embedding.values).all()
