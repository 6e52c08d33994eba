"""A training run never loses what it wrote: weights that are not finite are never saved (a
step with NaN gradients stops before its update, a loss made non-finite by a store's samples
names them), and ``--resume`` refuses in one line what it cannot check (a damaged or lost
record of the run's options, a lost ``last.pt`` beside a finished stage, a damaged log)
instead of overwriting it."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from eegprep.pipeline.recipe import Recipe
from eegprep.store.writer import StoreWriter
from labram.checkpoints.safe_read import read_checkpoint
from labram.model.config import tokenizer_config
from labram.model.tokenizer import VQNSPTokenizer
from labram.stages.train_tokenizer import pretrain_dataset, tokenizer_step
from labram.train.checkpoint import DivergedError, atomic_save, load_checkpoint, save_model
from labram.train.config import train_config
from labram.train.distributed import setup
from labram.train.loop import train
from labram.train.run import Run
from tests.labram.cli_runs import one_error, run_labram
from tests.labram.training_stores import TUAB_ORDER, eeg, put

TINY = ["--size", "tiny", "--max-steps", "3", "--batch-size", "4", "--device", "cpu",
        "--set", "token_budget=40", "--set", "max_channels=8", "--ckpt-every", "1"]  # fmt: skip


def _files(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` but the run lock (which a run folder keeps)."""
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in folder.rglob("*")
        if p.is_file() and p.name != ".labram.lock"
    }


def _loud_store(path: Path, value: float) -> str:
    """Three 19-channel recordings of 40 s; the second holds ``value`` uV for 2 s."""
    rng = np.random.default_rng(0)
    with StoreWriter(str(path), Recipe()) as w:
        for k in range(3):
            x = eeg(rng, 19, 40)
            if k == 1:
                x[:, 1000:1400] = value
            put(w, f"tuh/s{k:03d}", x, TUAB_ORDER[:19], subject=f"s{k:03d}",
                subject_key=f"tuh:s{k:03d}", split="train")  # fmt: skip
    return str(path)


# --- weights that are not finite are never written --------------------------------------------


class _NanGradient(torch.autograd.Function):
    """The identity, whose gradient is NaN: a finite loss that the update would make NaN."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor) -> torch.Tensor:
        return x.clone()

    @staticmethod
    def backward(ctx: Any, g: torch.Tensor) -> torch.Tensor:
        return g * float("nan")


def test_nan_gradients_stop_before_the_update_and_last_pt_stays_readable(
    store: str, tmp_path: Path
) -> None:
    cfg = train_config("tokenizer", "tiny", max_steps=5, ckpt_every=1, log_every=1, batch_size=4)
    dinfo = setup("cpu")
    ds = pretrain_dataset([store], cfg, dinfo, set())
    calls = [0]

    def step(m: torch.nn.Module, batch: dict[str, torch.Tensor], g: torch.Generator) -> Any:
        calls[0] += 1
        loss, metrics = tokenizer_step(m, batch, g)
        return (_NanGradient.apply(loss) if calls[0] == 3 else loss), metrics

    model = VQNSPTokenizer(tokenizer_config("tiny"))
    with pytest.raises(DivergedError, match="the gradients are nan at step 2"):
        train(Run(cfg, ds, tmp_path / "r", dinfo, model.config.to_dict(), "tokenizer"), model, step)
    assert all(bool(torch.isfinite(p).all()) for p in model.parameters())  # no update made
    ck = load_checkpoint(tmp_path / "r" / "last.pt")  # readable: its weights are finite
    assert ck["step"] == 2


def test_weights_holding_nan_are_never_saved_over_a_checkpoint(tmp_path: Path) -> None:
    model = VQNSPTokenizer(tokenizer_config("tiny"))
    cfg = train_config("tokenizer", "tiny")
    good = tmp_path / "tokenizer.pt"
    save_model(model, good, cfg)
    before = good.read_bytes()
    with torch.no_grad():
        next(model.parameters())[0].fill_(float("inf"))
    with pytest.raises(DivergedError, match="not written"):
        save_model(model, good, cfg)
    last = tmp_path / "last.pt"
    atomic_save({"model": {"w": torch.ones(2)}}, last)
    with pytest.raises(DivergedError, match=r"weight w holds NaN"):
        atomic_save({"model": {"w": torch.tensor([1.0, float("nan")])}}, last)
    assert good.read_bytes() == before and read_checkpoint(last)["model"]["w"].tolist() == [1, 1]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.pt", "tokenizer.pt"]


def test_checkpoints_reach_the_disk_before_their_name_replaces_the_last(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every training file (``last.pt``, ``tokenizer.pt``/``model.pt``/``best.pt``) is flushed
    before the rename: after a power cut, a renamed file whose bytes were never written would
    be an empty ``last.pt`` in place of a good one."""
    import os

    events: list[tuple[str, str]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        events.append(("fsync", os.path.basename(os.readlink(f"/proc/self/fd/{fd}"))))
        real_fsync(fd)

    def replace(src: Any, dst: Any) -> None:
        events.append(("replace", os.path.basename(src)))
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    last = tmp_path / "last.pt"
    atomic_save({"model": {"w": torch.ones(2)}}, last)
    save_model(VQNSPTokenizer(tokenizer_config("tiny")), tmp_path / "tokenizer.pt",
               train_config("tokenizer", "tiny"))  # fmt: skip
    renamed = [name for kind, name in events if kind == "replace" and ".tmp-" in name]
    assert len(renamed) == 2
    for name in renamed:  # each temporary file flushed, then renamed
        assert events.index(("fsync", name)) < events.index(("replace", name))
    assert read_checkpoint(last)["model"]["w"].tolist() == [1, 1]


@pytest.mark.parametrize(
    ("value", "says"),
    [(3e38, ["the windows of pre-training: 1 recording, 3e+38 uV in", "nothing was trained"]),
     (np.inf, ["NaN or infinite samples in tuh/s001", "nothing was trained"])],
)  # fmt: skip
def test_a_store_whose_samples_break_the_loss_is_named_not_the_learning_rate(
    tmp_path: Path, value: float, says: list[str]
) -> None:
    """Finite samples too loud for float32's loss, and infinite ones, are found before the
    first step (the windows are checked for NaN, infinities and samples past 10^8 uV)."""
    store = _loud_store(tmp_path / "loud.zarr", value)
    wide = [*TINY[:8], "--ckpt-every", "1", "--set", "token_budget=200", "--set", "max_channels=19"]
    code, output = run_labram("tokenizer", "--store", store, *wide, "--out", tmp_path / "run")
    one_error(code, output, *says, "tuh/s001", "eegprep validate")
    assert "--lr" not in output
    assert not (tmp_path / "run" / "last.pt").exists()


# --- --resume refuses what it cannot check ---------------------------------------------------


@pytest.fixture(scope="module")
def finished(store: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished tokenizer run (3 steps, a checkpoint each: last.pt and previous.pt)."""
    out = tmp_path_factory.mktemp("fin") / "tok"
    code, output = run_labram("tokenizer", "--store", store, *TINY, "--out", out)
    assert code == 0, output
    return out


def _copy(finished: Path, tmp_path: Path) -> Path:
    out = tmp_path / "tok"
    shutil.copytree(finished, out)
    return out


@pytest.mark.parametrize(
    "damage",
    [b'{"stage": "tokenizer", "lr": NaN}', b'{"stage": "tok', b"", b"[1, 2]", b"\xff\xfe"],
    ids=["nan", "cut", "empty", "list", "binary"],
)
@pytest.mark.parametrize("name", ["config.json", "excluded_subjects.json"])
def test_resume_refuses_a_damaged_record_of_the_run_and_keeps_it(
    store: str, finished: Path, tmp_path: Path, name: str, damage: bytes
) -> None:
    out = _copy(finished, tmp_path)
    (out / name).write_bytes(damage)
    before = _files(out)
    code, output = run_labram("tokenizer", "--store", store, *TINY, "--out", out, "--resume",
                        "--lr", "0.1")  # fmt: skip
    one_error(code, output, f"cannot resume {out}", name, "damaged")
    assert _files(out) == before


def test_resume_compares_last_pt_s_own_options_when_config_json_is_gone(
    store: str, finished: Path, tmp_path: Path
) -> None:
    out = _copy(finished, tmp_path)
    (out / "config.json").unlink()
    before = _files(out)
    code, output = run_labram("tokenizer", "--store", store, *TINY, "--out", out, "--resume",
                        "--lr", "0.1")  # fmt: skip
    one_error(code, output, str(out / "last.pt"), "lr was 0.0005, now 0.1")
    assert _files(out) == before
    code, output = run_labram("tokenizer", "--store", store, *TINY, "--out", out, "--resume")
    assert code == 0, output  # the run's own options: it continues (here: it was complete)


@pytest.mark.parametrize("kept", ["tokenizer.pt", "previous.pt", "summary.json"])
def test_resume_without_last_pt_never_retrains_over_a_finished_stage(
    store: str, finished: Path, tmp_path: Path, kept: str
) -> None:
    out = _copy(finished, tmp_path)
    (out / "last.pt").unlink()
    for name in {"tokenizer.pt", "previous.pt", "summary.json"} - {kept}:
        (out / name).unlink()
    before = _files(out)
    code, output = run_labram("tokenizer", "--store", store, *TINY, "--out", out, "--resume")
    one_error(code, output, f"cannot resume {out}", kept, "no last.pt")
    assert _files(out) == before


def test_resume_before_the_first_checkpoint_starts_at_step_0(
    store: str, finished: Path, tmp_path: Path
) -> None:
    out = _copy(finished, tmp_path)  # as a kill before the first checkpoint leaves it
    for name in ("last.pt", "previous.pt", "tokenizer.pt", "summary.json", "curves.png"):
        (out / name).unlink()
    code, output = run_labram("tokenizer", "--store", store, *TINY, "--out", out, "--resume")
    assert code == 0, output
    assert load_checkpoint(out / "last.pt")["step"] == 3


@pytest.mark.parametrize("damage", [b"step,loss\n1,0.5\n\xff\xfe\x00garbage\n", b"\x00\xff" * 64])
def test_resume_with_a_log_that_is_not_text_is_one_line_and_keeps_it(
    store: str, finished: Path, tmp_path: Path, damage: bytes
) -> None:
    out = _copy(finished, tmp_path)
    (out / "log.csv").write_bytes(damage)
    code, output = run_labram("tokenizer", "--store", store, *TINY, "--out", out, "--resume")
    one_error(code, output, str(out / "log.csv"), "not UTF-8 text", "cannot resume")
    assert (out / "log.csv").read_bytes() == damage


# --- hostile sizes and config files ---------------------------------------------------------


def test_a_batch_larger_than_memory_is_refused_before_it_is_allocated(
    store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import labram.data.windows as windows

    # 8 channels x 5 s windows: 32 kB each, and a machine of 128 kB: batches of 2 at most
    monkeypatch.setattr(windows, "_physical_memory", lambda: 4 * 32_000)
    code, output = run_labram("tokenizer", "--store", store, *TINY, "--batch-size", "2",
                        "--out", tmp_path / "run")  # fmt: skip
    assert code == 0, output
    code, output = run_labram("tokenizer", "--store", store, *TINY, "--out", tmp_path / "big")
    one_error(code, output, "batch_size=4", "take 125 KiB", "half of this machine's memory")
    assert not (tmp_path / "big").exists()


@pytest.mark.parametrize(
    ("text", "says"),
    [("lr = nan", "`lr`"), ("[tokenizer]\nbatch_size = 1e400", "`batch_size`"),
     ("[tokenizer]\nepochs = -1", "`epochs`"), ("[tokenizer.x]\na = 1", "'x'"),
     ("size = 'base'", "`size`")],
)  # fmt: skip
def test_a_config_file_s_bad_value_names_the_file_and_the_field(
    store: str, tmp_path: Path, text: str, says: str
) -> None:
    config = tmp_path / "my config.toml"
    config.write_text(text + "\n")
    code, output = run_labram("tokenizer", "--store", store, *TINY, "--config", config,
                        "--out", tmp_path / "run")  # fmt: skip
    one_error(code, output, f"error: {config}: ", says)
    assert not (tmp_path / "run").exists()


def test_a_pretrain_run_s_stage_folder_is_resumed_only_by_its_run(
    store: str, tmp_path: Path
) -> None:
    out = tmp_path / "pt"
    stage = [*TINY, "--tokenizer-max-steps", "3", "--tokenizer-batch-size", "4"]
    code, output = run_labram("pretrain", "--store", store, *stage, "--out", out)
    assert code == 0, output
    before = _files(out)
    code, output = run_labram("tokenizer", "--store", store, *TINY, "--max-steps", "6",
                        "--out", out / "tokenizer", "--resume")  # fmt: skip
    one_error(code, output, f"cannot resume {out / 'tokenizer'}", "labram pretrain --resume")
    assert _files(out) == before  # the tokenizer the masked model was trained with is kept
    # the run itself, killed in its tokenizer stage, resumes it
    for name in ("tokenizer/tokenizer.pt", "tokenizer/summary.json"):
        (out / name).unlink()
    shutil.rmtree(out / "mem")
    code, output = run_labram("pretrain", "--store", store, *stage, "--out", out, "--resume")
    assert code == 0, output
    assert (out / "mem" / "model.pt").is_file()
