"""Promise: a training run goes on past a window whose samples cannot be read, and stops when
too many cannot.

A flipped bit in a stored chunk of a recording whose record vouches for its samples (the
quantized encoding: not read before training) stopped ``labram pretrain`` when the loader
reached it, maybe hours in, and ``--resume`` stopped at the same batch again. Each such window
is now replaced by the next readable window of its batch (the same choice on every run given
the same damage, in one process or in loader workers), the recording is named once in a warning
with what to do, the checkpoint records it, and more than 1% unreadable stops the run in one
line.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

import labram.data.unreadable as U
from eegprep.base.errors import StoreFormatError
from eegprep.pipeline.recipe import Recipe
from eegprep.store.reader import open_store
from eegprep.store.writer import StoreWriter
from labram.checkpoints.safe_read import read_checkpoint
from labram.data.block_reader import BlockReader
from labram.data.finite_windows import nonfinite_recordings, vouched
from labram.data.windows import WindowConfig, build_pretrain_index
from labram.stages.train_tokenizer import window_config
from labram.train.config import train_config
from tests.labram.cli_runs import run_labram
from tests.labram.training_stores import TUAB_ORDER, eeg, put, write_pretrain_store
from tests.safety.test_integrity import _chunk_spans, _flip, _shard

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # numcodecs' zarr3 codecs

BAD = "tuh/s001_r0"
TINY = ["--size", "tiny", "--max-steps", "3", "--batch-size", "4", "--device", "cpu",
        "--set", "token_budget=40", "--set", "max_channels=8"]  # fmt: skip
"""A few steps on small windows (8 channels x 5 s)."""


def _flip_chunk(store: Path, rid: str, chunk: int) -> None:
    """Two bits flipped in chunk ``chunk`` of recording ``rid`` (its CRC-32C then fails)."""
    shard = _shard(store, rid)
    blob = shard.read_bytes()
    offset, _ = _chunk_spans(blob)[chunk]
    shard.write_bytes(_flip(blob, offset + 7, 2))


def _flipped(store: Path, n_subjects: int, seconds: int, *, chunk: int) -> Path:
    """A quantized pre-training store of ``n_subjects`` recordings of ``seconds`` (s), two bits
    flipped in chunk ``chunk`` of :data:`BAD` (its CRC-32C then fails)."""
    write_pretrain_store(store, n_subjects=n_subjects, seconds=seconds, adc_step_uv=0.1)
    _flip_chunk(store, BAD, chunk)
    return store


@pytest.fixture(scope="module")
def damaged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three quantized 130-s recordings (three 60-s chunks each; vouched for, so not read
    before training); a flipped bit in the second chunk of :data:`BAD` (12 of its 26 windows)."""
    return _flipped(tmp_path_factory.mktemp("unreadable") / "s.zarr", 3, 130, chunk=1)


def _index(store: Path):  # type: ignore[no-untyped-def]
    return build_pretrain_index([str(store)], WindowConfig(token_budget=40, max_channels=8))


def test_an_unreadable_window_is_replaced_by_the_next_readable_one_of_its_batch(
    damaged: Path,
) -> None:
    index = _index(damaged)
    reader = BlockReader(index)
    bad_rec = next(i for i, plan in enumerate(index.recordings) if plan.id == BAD)
    ids = np.flatnonzero(index.rec == bad_rec)  # its windows: 60-s chunk 1 cannot be read
    good = np.flatnonzero(index.rec != bad_rec)[:2]
    batch = np.concatenate([ids, good])
    out = np.zeros((len(batch), 8, 1000), np.float32)
    (filled,), (found,) = U.fill_readable(reader, [batch], [out])
    chunk = 60 * 200
    unreadable = [
        j for j, w in enumerate(batch)
        if index.rec[w] == bad_rec and index.start[w] < 2 * chunk and index.start[w] + 1000 > chunk
    ]  # fmt: skip
    assert [w for w, _, _ in found] == [int(batch[j]) for j in unreadable]
    assert {rid for _, rid, _ in found} == {BAD} and "CRC-32C" in found[0][2]
    readable = [j for j in range(len(batch)) if j not in unreadable]
    for j in unreadable:  # the next readable one, counting on from it
        k = next(k % len(batch) for k in range(j + 1, j + len(batch)) if k % len(batch) in readable)
        assert filled[j] == batch[k]
        np.testing.assert_array_equal(out[j], out[k])
    for j in readable:  # the others as they read
        assert filled[j] == batch[j]
        alone = reader.batch(batch[j : j + 1])["x"].numpy().reshape(out[j].shape)
        np.testing.assert_array_equal(out[j], alone)


def test_a_batch_of_nothing_readable_stops_in_one_line(damaged: Path) -> None:
    """Left as it is by the fill (a loader worker raises nothing), refused where it is counted."""
    index = _index(damaged)
    bad_rec = next(i for i, plan in enumerate(index.recordings) if plan.id == BAD)
    ids = np.flatnonzero((index.rec == bad_rec) & (index.start >= 12000) & (index.start < 23000))
    out = np.zeros((len(ids), 8, 1000), np.float32)
    (filled,), (found,) = U.fill_readable(BlockReader(index), [ids], [out])
    assert list(filled) == list(ids) and [w for w, _, _ in found] == list(ids)
    counted = U.Unreadable(10**6, "labram pretrain")
    with pytest.raises(U.UnreadableError, match=r"no window of a batch can be read.*--repair"):
        counted.add(found, len(ids))


@pytest.fixture(scope="module")
def half(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two quantized 50-s recordings, the whole (one chunk) of :data:`BAD` unreadable."""
    return _flipped(tmp_path_factory.mktemp("half") / "s.zarr", 2, 50, chunk=0)


@pytest.mark.parametrize("workers", [0, 2])
def test_a_batch_of_nothing_readable_is_one_line_from_loader_workers_too(
    half: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    """A worker raising it sent the command its traceback, flattened into the error line."""
    monkeypatch.setattr(U, "MOST_SHARE", 0.99)  # (the share allowed: the batch is what stops)
    out = tmp_path / "run"
    code, output = run_labram(
        "tokenizer",
        "--store",
        half,
        *TINY[:-2],  # (its --set max_channels=8: this run sets 32)
        "--set",
        f"num_workers={workers}",
        "--set",
        "max_channels=32",
        "--out",
        out,
    )  # fmt: skip  (every channel: the two recordings' windows differ in shape, never batched)
    assert code == 2 and output.startswith("error: labram tokenizer: no window of a batch"), output
    assert len(output.strip().splitlines()) == 1 and "Traceback" not in output, output


@pytest.mark.slow  # 5-11 s each: a few steps of a tiny tokenizer
@pytest.mark.parametrize("workers", [0, 2])
def test_training_goes_on_and_names_the_recording_once(
    damaged: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    workers: int,
) -> None:
    """With the share allowed (12 of 78 windows here: 15%), the run ends, the recording named
    in one warning line (from loader workers as from one process), its checkpoint records it."""
    monkeypatch.setattr(U, "MOST_SHARE", 0.5)
    out = tmp_path / "run"
    code, output = run_labram(
        "tokenizer", "--store", damaged, *TINY, "--set", f"num_workers={workers}", "--out", out
    )
    assert code == 0, output
    named = [r.getMessage() for r in caplog.records if "cannot be read" in r.getMessage()]
    assert len(named) == 1 and BAD in named[0] and "CRC-32C" in named[0], output
    assert "eegprep validate" in named[0] and "--repair" in named[0]
    saved = read_checkpoint(out / "last.pt")["extra"][U.KEY]
    assert json.loads((out / "summary.json").read_text())[U.KEY] == saved  # and the result
    cfg = train_config("tokenizer", "tiny", batch_size=4, token_budget=40, max_channels=8)
    index = build_pretrain_index([str(damaged)], window_config(cfg))  # the run's windows
    assert list(saved["recordings"]) == [BAD] and saved["n_windows"] == len(index)
    assert {index.recordings[int(index.rec[w])].id for w in saved["windows"]} == {BAD}


def test_a_run_with_too_many_unreadable_windows_stops_in_one_line(
    damaged: Path, tmp_path: Path
) -> None:
    code, output = run_labram("tokenizer", "--store", damaged, *TINY, "--out", tmp_path / "r")
    assert code == 2 and output.startswith("error:"), output
    error = [line for line in output.splitlines() if line.startswith("error:")]
    assert len(error) == 1 and "more than 1%" in error[0] and BAD in error[0], output
    assert "--repair" in error[0]


def test_what_a_checkpoint_records_is_restored() -> None:
    found = U.Unreadable(200, "labram pretrain")
    found.add([(7, "a/r0", "why")])
    back = U.Unreadable.restored(200, "labram pretrain", found.as_dict())
    assert back == found
    with pytest.raises(U.UnreadableError, match="3 of the 200 windows"):
        back.add([(8, "a/r0", "why"), (9, "b/r0", "other")])


@pytest.fixture(scope="module")
def unvouched(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """As :func:`damaged`, float32 and without ``qc`` (a store another tool wrote): read by
    the check before training."""
    store = tmp_path_factory.mktemp("unvouched") / "s.zarr"
    rng = np.random.default_rng(3)
    with StoreWriter(str(store), Recipe()) as w:
        for k in range(3):
            put(w, f"tuh/s{k:03d}_r0", eeg(rng, 19, 130), list(TUAB_ORDER[:19]),
                subject=f"s{k}", subject_key=f"tuh:s{k}", split="train")  # fmt: skip
    assert not vouched(open_store(str(store)), open_store(str(store)).recording(BAD))
    _flip_chunk(store, BAD, 1)
    return store


def test_the_check_before_training_counts_what_the_loader_would_replace(
    unvouched: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """It refused the whole run at an unreadable chunk of a recording it reads, where the
    loader replaces the same window of a vouched one: now both count the same windows, name
    the recording in the same warning, and stop past the same share."""
    index = _index(unvouched)
    reader = BlockReader(index)
    lost = 0
    for w in range(len(index)):  # the windows the loader cannot read, one by one
        try:
            reader.batch(np.array([w]))
        except StoreFormatError:
            lost += 1
    assert 0 < lost < len(index)
    monkeypatch.setattr(U, "MOST_SHARE", lost / len(index))  # just enough: it goes on
    assert nonfinite_recordings(index, what="labram pretrain") == []
    named = [r.getMessage() for r in caplog.records if "cannot be read" in r.getMessage()]
    assert len(named) == 1 and BAD in named[0] and named[0].startswith("labram pretrain: ")
    monkeypatch.setattr(U, "MOST_SHARE", (lost - 1) / len(index))  # one window too many
    with pytest.raises(U.UnreadableError, match=f"{lost} of the {len(index)} windows"):
        nonfinite_recordings(index, what="labram pretrain")


def test_what_the_check_named_the_index_keeps_for_the_loop(
    unvouched: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The check before training keeps the recordings it named on the index; the loop's count
    (made with them) counts their windows and names none of them again, others it does."""
    monkeypatch.setattr(U, "MOST_SHARE", 0.5)
    index = _index(unvouched)
    assert nonfinite_recordings(index, what="labram pretrain") == []
    assert index.named_unreadable == {BAD}
    counted = U.Unreadable.restored(len(index), "labram pretrain", None,
                                    named=index.named_unreadable)  # fmt: skip
    caplog.clear()
    counted.add([(5, BAD, "why"), (6, "tuh/s000_r0", "other")], 4)
    named = [r.getMessage() for r in caplog.records if "cannot be read" in r.getMessage()]
    assert len(named) == 1 and "tuh/s000_r0" in named[0], named
    assert counted.windows == {5, 6} and set(counted.recordings) == {BAD, "tuh/s000_r0"}


@pytest.mark.slow  # 5-11 s: a few steps of a tiny tokenizer
def test_a_recording_the_check_named_is_not_named_again_by_the_loader(
    unvouched: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    """A recording not vouched for was named by the check before training, then again when the
    loader met its windows: now once a run, its windows still counted and recorded."""
    monkeypatch.setattr(U, "MOST_SHARE", 0.5)
    out = tmp_path / "run"
    code, output = run_labram("tokenizer", "--store", unvouched, *TINY, "--out", out)
    assert code == 0, output
    saved = read_checkpoint(out / "last.pt")["extra"][U.KEY]
    assert list(saved["recordings"]) == [BAD] and saved["windows"]  # the loader met it
    named = [r.getMessage() for r in caplog.records if "cannot be read" in r.getMessage()]
    assert len(named) == 1 and BAD in named[0], named


def test_scoring_stops_where_a_window_was_replaced(damaged: Path) -> None:
    """A validation or test window stands for itself: where the loader replaced one, the
    scoring stops in one line (its row kept zeros, scored as a real output)."""
    from labram.stages.scoring import predict

    index = _index(damaged)
    with pytest.raises(U.UnreadableError, match=f"of the test split of recording {BAD}"):
        predict(torch.nn.Identity(), index, batch_size=len(index), device=torch.device("cpu"),
                where=" of the test split")  # fmt: skip


class _Killed(Exception):
    pass


def _tokenizer_run(store: Path, out: Path, *, kill_at: int | None = None,
                   resume: bool = False) -> dict:  # type: ignore[type-arg]  # fmt: skip
    """8 steps of a tiny tokenizer (checkpoint at step 4), killed in step ``kill_at``."""
    from labram.model.config import tokenizer_config
    from labram.model.tokenizer import VQNSPTokenizer
    from labram.stages.train_tokenizer import pretrain_dataset, tokenizer_step
    from labram.train.distributed import setup
    from labram.train.loop import train
    from labram.train.run import Run

    cfg = train_config("tokenizer", "tiny", max_steps=8, ckpt_every=4, log_every=1,
                       batch_size=4, token_budget=40, max_channels=8)  # fmt: skip
    dinfo = setup("cpu")
    ds = pretrain_dataset([str(store)], cfg, dinfo, set())
    torch.manual_seed(cfg.seed)
    model = VQNSPTokenizer(tokenizer_config("tiny"))
    calls = [0]

    def step(m: torch.nn.Module, batch: dict, g: torch.Generator):  # type: ignore[no-untyped-def,type-arg]
        calls[0] += 1
        if kill_at is not None and calls[0] >= kill_at:
            raise _Killed
        return tokenizer_step(m, batch, g)

    run = Run(cfg, ds, out, dinfo, model.config.to_dict(), "tokenizer")
    return train(run, model, step, resume=resume)


def _losses(run_dir: Path) -> list[str]:
    import csv

    with (run_dir / "log.csv").open() as fh:
        return [r["loss"] for r in csv.DictReader(fh)]


@pytest.mark.slow  # 6-10 s: two runs of 8 steps of a tiny tokenizer
def test_a_resumed_run_makes_the_same_choice(
    damaged: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed after its checkpoint and resumed, a run replaces the same windows by the same
    ones as a run never stopped (the same losses, bit for bit) and counts on from the windows
    its checkpoint recorded."""
    monkeypatch.setattr(U, "MOST_SHARE", 0.5)
    straight = _tokenizer_run(damaged, tmp_path / "a")
    assert straight[U.KEY]["windows"], "the fixture's damaged chunk must be met in 8 steps"
    with pytest.raises(_Killed):
        _tokenizer_run(damaged, tmp_path / "b", kill_at=6)
    saved = read_checkpoint(tmp_path / "b" / "last.pt")
    assert saved["step"] == 4
    before = set(saved["extra"][U.KEY]["windows"])  # met before the checkpoint, and after it
    assert before and before < set(straight[U.KEY]["windows"])
    resumed = _tokenizer_run(damaged, tmp_path / "b", resume=True)
    assert _losses(tmp_path / "b") == _losses(tmp_path / "a")
    assert resumed[U.KEY] == straight[U.KEY]


def test_an_unreadable_chunk_of_a_scored_split_is_refused_before_training(
    unvouched: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A validation or test window is never replaced (its score would be another's): found
    by the check, it refuses the run before its first step, not after its last epoch."""
    from labram.data.finite_windows import check_finite_splits

    monkeypatch.setattr(U, "MOST_SHARE", 0.5)  # (a training split would go on)
    index = _index(unvouched)
    check_finite_splits({"train": index}, what="labram finetune")
    for name in ("test", "fold 2 val"):
        with pytest.raises(
            U.UnreadableError, match=f"labram finetune: {name}: windows of recording {BAD}"
        ):
            check_finite_splits({"train": index, name: index}, what="labram finetune")


RANKS_SCRIPT = """
import json, sys
from pathlib import Path
import torch
import labram.data.unreadable as U
from labram.checkpoints.safe_read import read_checkpoint
from labram.model.config import tokenizer_config
from labram.model.tokenizer import VQNSPTokenizer
from labram.stages.train_tokenizer import pretrain_dataset, tokenizer_step
from labram.train import distributed
from labram.train.config import train_config
from labram.train.loop import train
from labram.train.run import Run

store, out, low = sys.argv[1], Path(sys.argv[2]), float(sys.argv[3])
dinfo = distributed.setup("cpu")
doc = {}

class Killed(Exception):
    pass

def run(name, share, kill_at=None, resume=False):
    U.MOST_SHARE = share
    cfg = train_config("tokenizer", "tiny", max_steps=8, ckpt_every=4, log_every=1,
                       batch_size=4, token_budget=40, max_channels=8)
    ds = pretrain_dataset([store], cfg, dinfo, set())
    torch.manual_seed(cfg.seed)
    model = VQNSPTokenizer(tokenizer_config("tiny"))
    calls = [0]
    def step(m, batch, g):
        calls[0] += 1
        if kill_at is not None and calls[0] >= kill_at:
            raise Killed
        return tokenizer_step(m, batch, g)
    try:
        res = train(Run(cfg, ds, out / name, dinfo, model.config.to_dict(), "tokenizer"),
                    model, step, resume=resume)
        doc[name] = {"result": res[U.KEY],
                     "saved": read_checkpoint(out / name / "last.pt")["extra"].get(U.KEY)}
    except U.UnreadableError as exc:
        doc[name] = {"error": str(exc), "steps": calls[0]}
    except Killed:
        doc[name] = {"killed": calls[0]}

run("whole", 0.5)
run("cut", 0.5, kill_at=6)
run("cut", 0.5, resume=True)
run("stop", low)
(out / f"rank{dinfo.rank}.json").write_text(json.dumps(doc))
distributed.teardown()
"""


@pytest.fixture(scope="module")
def damaged_long(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """As :func:`damaged`, 190-s recordings: the damaged windows fall in both ranks' first
    batches of two (the sampler keeps a recording's blocks together)."""
    return _flipped(tmp_path_factory.mktemp("unreadable_long") / "s.zarr", 3, 190, chunk=1)


def _unreadable_windows(index) -> set[int]:  # type: ignore[no-untyped-def]
    """The windows of ``index`` that cannot be read, each read alone."""
    reader, lost = BlockReader(index), set()
    for w in range(len(index)):
        try:
            reader.batch(np.array([w]))
        except StoreFormatError:
            lost.add(w)
    return lost


@pytest.mark.slow  # 15-30 s: torchrun, two ranks, four runs of 8 steps of a tiny tokenizer
def test_under_torchrun_every_rank_counts_every_rank_and_stops_at_one_step(
    damaged_long: Path, tmp_path: Path
) -> None:
    """Each rank counted its own unreadable windows: one rank past the share raised while the
    other waited in the next all-reduce, and ``last.pt`` held the main rank's count alone (a
    resumed rank 1 counted from rank 0's). Now the ranks' counts are one: the share is of
    their windows together, every rank stops at the same step with the same line, and the
    checkpoint holds every rank's windows, so that a resume counts on exactly."""
    from labram.data.sampler import BatchPlan
    from tests.labram.test_torchrun import _torchrun

    cfg = train_config("tokenizer", "tiny", batch_size=4, token_budget=40, max_channels=8)
    index = build_pretrain_index([str(damaged_long)], window_config(cfg))
    lost = _unreadable_windows(index)
    met = [  # the unreadable windows each rank's 8 batches hold
        lost & {int(w) for b in BatchPlan(index, batch_size=4, seed=cfg.seed, rank=r,
                                          world_size=2, weights=cfg.corpus_weights
                                          ).batches(0)[:8] for w in b}
        for r in range(2)
    ]  # fmt: skip
    assert met[0] and met[1], "the damaged windows must fall in both ranks' batches"
    # a share no rank passes alone, which the two pass together
    low = max(len(m) for m in met) / len(index)
    script = tmp_path / "ranks.py"
    script.write_text(RANKS_SCRIPT)
    res = _torchrun([str(script), str(damaged_long), str(tmp_path), str(low)], tmp_path)
    assert res.returncode == 0, res.stderr[-3000:]
    r0, r1 = (json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(2))
    whole = sorted(met[0] | met[1])
    for got in (r0, r1):  # every rank counted both ranks' windows, the checkpoint holds them
        assert got["whole"]["result"]["windows"] == whole
        assert got["whole"]["saved"] == got["whole"]["result"]
        assert got["cut"]["result"] == got["whole"]["result"]  # resumed: counted on exactly
    assert r0["stop"]["error"] == r1["stop"]["error"]  # one line, at one step, on every rank
    assert r0["stop"]["steps"] == r1["stop"]["steps"] <= 8
    assert f"of the {len(index)} windows" in r0["stop"]["error"] and BAD in r0["stop"]["error"]
    # named by rank 0 alone, once a run: the whole, the cut and the stopped one (the resumed
    # one restored it from its checkpoint)
    named = [line for line in res.stderr.splitlines() if "cannot be read (" in line]
    assert len(named) == 3 and all(BAD in line for line in named), res.stderr[-3000:]


def test_a_wrapped_window_is_unreadable_where_any_chunk_of_its_recording_is(
    tmp_path: Path,
) -> None:
    """A window read wrapped round its recording (TUEV's ``edge_events="wrap"``) reads the
    whole recording (:mod:`labram.data.block_reader`), so a damaged chunk anywhere in it is
    one the loader meets. The check before training looked only at the chunks the window's
    own samples lie in: a test window read wrapped passed it and was refused only when scored,
    after the training."""
    from labram.data.tasks import build_task_indexes, get_task
    from tests.labram.training_stores import write_tuab_like

    url = write_tuab_like(tmp_path / "s.zarr", n_train=2, n_eval=1, seconds=130, seed=4,
                          events=[[129.0, 1.0, "SPSW", ""]])  # fmt: skip
    rid = "tuab/e000_s001_t000"
    _flip_chunk(Path(url), rid, 1)  # 60-120 s: no sample of the window (127-132 s)
    test = build_task_indexes([url], get_task("tuev"), edge_events="wrap")["test"]
    assert test.start.tolist() == [127 * 200] and test.recordings[0].id == rid
    with pytest.raises(StoreFormatError):  # what the loader meets
        BlockReader(test).batch(np.array([0]))
    with pytest.raises(U.UnreadableError, match=f"windows of recording {rid} cannot be read"):
        nonfinite_recordings(test, what="labram finetune: test", scored=True)


def test_a_chunk_read_through_zarr_is_counted_as_the_loader_counts_it(
    unvouched: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store whose arrays are not laid out as eegprep writes them is read through zarr
    (:meth:`~eegprep.store.reader.Store.iter_chunks` reads the range when called, not when
    iterated). The check before training met the damaged chunk outside the guard that counts
    it, and refused the whole run, where the loader replaces its windows."""
    from eegprep.store.shard_reader import ShardReader

    monkeypatch.setattr(ShardReader, "open", classmethod(lambda cls, loc, path: None))
    monkeypatch.setattr(U, "MOST_SHARE", 0.5)
    index = _index(unvouched)
    with pytest.raises(StoreFormatError):  # what the loader meets, and replaces
        BlockReader(index).batch(np.flatnonzero(index.rec == _rec(index, BAD)))
    assert nonfinite_recordings(index, what="labram pretrain") == []
    assert index.named_unreadable == {BAD}


def _rec(index, rid: str) -> int:  # type: ignore[no-untyped-def]
    return next(i for i, plan in enumerate(index.recordings) if plan.id == rid)


@pytest.mark.slow  # 10-30 s: a few steps of a tiny tokenizer, then of masked modelling
def test_the_mem_stage_writes_the_windows_it_replaced_in_its_summary(
    damaged: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only mem/last.pt held them, where the tokenizer's summary.json and finetune's
    metrics.json list theirs: mem/summary.json now does, as last.pt records them."""
    monkeypatch.setattr(U, "MOST_SHARE", 0.5)
    out = tmp_path / "pt"
    code, output = run_labram("pretrain", "--store", damaged, *TINY, "--out", out)
    assert code == 0, output
    saved = read_checkpoint(out / "mem" / "last.pt")["extra"][U.KEY]
    summary = json.loads((out / "mem" / "summary.json").read_text())
    assert summary[U.KEY] == saved and list(saved["recordings"]) == [BAD]
    assert summary["steps"] == 3 and set(summary["metrics"]) >= {"loss"}


def _codebook_of_readable(store: Path, max_channels: int) -> tuple[int, int]:
    """Check the tokens :func:`codebook_report` counts over ``store`` (up to its last batch
    holding a window that cannot be read) against those of the windows that read; the batches
    some of whose windows read, and none of whose."""
    from labram.model.config import PATCH_SIZE, tokenizer_config
    from labram.model.tokenizer import VQNSPTokenizer
    from labram.stages.train_tokenizer import codebook_report, pretrain_dataset
    from labram.train.distributed import setup

    cfg = train_config("tokenizer", "tiny", batch_size=4, token_budget=40,
                       max_channels=max_channels)  # fmt: skip
    ds = pretrain_dataset([str(store)], cfg, setup("cpu"), set())
    lost = list(_unreadable_windows(ds.plan.index))
    batches = ds.plan.batches(0)
    upto = 1 + max(i for i, ids in enumerate(batches) if np.isin(ids, lost).any())
    torch.manual_seed(0)
    model = VQNSPTokenizer(tokenizer_config("tiny")).eval()
    report = codebook_report(model, ds, torch.device("cpu"), max_batches=upto)
    n_tokens = n_some = n_none = 0
    for ids in batches[:upto]:
        n_read = int((~np.isin(ids, lost)).sum())
        n_some += 0 < n_read < len(ids)
        n_none += n_read == 0
        _, n_channels, n_times = ds.reader.batch_buffer(ids).shape
        n_tokens += n_read * n_channels * (n_times // PATCH_SIZE)
    assert report["n_tokens"] == n_tokens
    return n_some, n_none


def test_the_codebook_report_leaves_replaced_windows_out(damaged: Path, half: Path) -> None:
    """A replaced window (a copy of the next readable one of its batch, or zeros where none
    reads) counted in the codes used and perplexity of the tokenizer's summary: its stand-in's
    codes twice, or the codes of zeros. The report is now of the windows that read."""
    n_some, _ = _codebook_of_readable(damaged, 8)
    assert n_some, "the fixture's batches must hold some unreadable windows"
    _, n_none = _codebook_of_readable(half, 32)  # (every channel: a batch is one recording's)
    assert n_none, "the fixture's batches must hold one that none of reads"
