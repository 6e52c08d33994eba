"""What the commands refuse or report before they spend or lose anything: a run folder that
holds a run, a file converted onto itself, out-of-range config values, an unreadable report
file, an exclusion that leaves nothing, a store given twice, recordings too short to embed."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from cli import labram_cli
from eegprep.base.errors import ConfigError
from eegprep.pipeline.recipe import Recipe
from eegprep.store.writer import StoreWriter
from labram.checkpoints.layouts import save_ours
from labram.data.windows import WindowConfig, build_pretrain_index
from labram.model.config import model_config
from labram.model.mem import LaBraMForMEM
from labram.train.config import STAGES, train_config
from tests.labram.cli_runs import fixed_windows, one_error, run_labram, tuab_finetune
from tests.labram.training_stores import TUAB_ORDER, eeg, put

TINY = ["--size", "tiny", "--max-steps", "2", "--batch-size", "4", "--device", "cpu",
        "--set", "token_budget=40", "--set", "max_channels=8"]  # fmt: skip
"""A few steps on small windows (8 channels x 5 s): seconds per run."""
TOKENIZER_STAGE = ["--tokenizer-max-steps", "2"]
"""The tokenizer stage of a `labram pretrain` (without --tokenizer) as short as TINY's: TINY's
--max-steps sets the masked-modelling stage alone, and the tokenizer stage ran the tiny preset's
epochs (10-40 s a run on the test stores). (Its --tokenizer-batch-size stays the preset's: its
codebook report reads the store in batches of that size, slower in batches of 4.)"""


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


# --- 1. a run folder that holds a run --------------------------------------------------------


def test_tokenizer_twice_into_one_folder_is_refused_unless_resumed(
    store: str, tmp_path: Path
) -> None:
    out = tmp_path / "tok"
    code, output = run_labram("tokenizer", "--store", store, *TINY, "--out", out)
    assert code == 0, output
    before = _files(out)
    code, output = run_labram("tokenizer", "--store", store, *TINY, "--out", out)
    one_error(code, output, str(out), "--resume", "another --out")
    assert _files(out) == before  # tokenizer.pt, last.pt, log.csv, config.json untouched
    code, output = run_labram("tokenizer", "--store", store, *TINY, "--out", out, "--resume")
    assert code == 0, output


@pytest.mark.parametrize("command", ["tokenizer", "pretrain", "finetune"])
@pytest.mark.parametrize("marker", ["config.json", "seed0/best.pt", "mem/last.pt"])
def test_every_training_command_refuses_a_folder_holding_a_run(
    store: str, tmp_path: Path, command: str, marker: str
) -> None:
    out = tmp_path / "run"
    (out / marker).parent.mkdir(parents=True)
    (out / marker).write_text("the finished run")
    before = _files(out)
    task = ["--task", "label:abnormal"] if command == "finetune" else []
    code, output = run_labram(command, "--store", store, *task, *TINY, "--out", out)
    one_error(code, output, f"{out}: holds a run already", "--resume")
    assert _files(out) == before


def test_a_failing_finetune_leaves_the_finished_run_alone(tuab: str, tmp_path: Path) -> None:
    out = tmp_path / "ft"
    args = [*tuab_finetune(tuab, TINY), "--out", out]
    code, output = run_labram(*args)
    assert code == 0, output
    before = _files(out)
    one_error(*run_labram(*args, "--set", "drop_path=1.5"), "drop_path", "1.5")
    one_error(*run_labram(*args), "holds a run already")
    assert _files(out) == before  # best.pt, log.csv, config.json, results.json as they were


def test_a_new_or_empty_folder_is_used(tuab: str, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    for out in (tmp_path / "empty", tmp_path / "new"):
        code, output = run_labram(*tuab_finetune(tuab, TINY), "--out", out)
        assert code == 0, output


# --- 2. a file converted or exported onto itself ---------------------------------------------


def test_convert_and_export_refuse_to_write_over_their_source(tmp_path: Path) -> None:
    src = tmp_path / "model.pt"
    save_ours(LaBraMForMEM(model_config("tiny")), src)
    (tmp_path / "link.pt").symlink_to(src)
    os.link(src, tmp_path / "hard.pt")
    before = src.read_bytes()
    for dst in (src, tmp_path / "." / "model.pt", tmp_path / "link.pt", tmp_path / "hard.pt"):
        one_error(*run_labram("convert", src, dst), str(src), "itself")
    assert src.read_bytes() == before
    st = tmp_path / "m.safetensors"
    code, output = run_labram("export", src, "--out", st)
    assert code == 0, output
    (tmp_path / "st-link.safetensors").symlink_to(st)
    saved = st.read_bytes()
    one_error(*run_labram("export", st), "itself")  # the default --out is the file itself
    one_error(*run_labram("export", st, "--out", tmp_path / "st-link.safetensors"), "itself")
    assert st.read_bytes() == saved


# --- 3. out-of-range config values ------------------------------------------------------------

OUT_OF_RANGE = [
    ("lr", 0, "[1e-08, 10]"),
    ("lr", -1e-3, "[1e-08, 10]"),
    ("lr", 1e300, "[1e-08, 10]"),  # overflowed float32: an internal error inside the first step
    ("lr", 1e-30, "[1e-08, 10]"),  # every step rounded away: trained nothing, without a word
    ("layer_decay", 1e-30, "[0.1, 1]"),  # froze all but the head, as 0 did
    ("grad_clip", 1e-20, "[0.001, 1,000,000]"),  # each step ~1e-12 of lr (Adam's eps)
    ("layer_decay", 0, "[0.1, 1]"),
    ("layer_decay", 5, "[0.1, 1]"),
    ("grad_clip", 0, "[0.001, 1,000,000]"),
    ("grad_clip", -1, "[0.001, 1,000,000]"),
    ("grad_clip", 1e300, "[0.001, 1,000,000]"),
    ("drop_path", 1.5, "[0, 1)"),
    ("drop_path", 1, "[0, 1)"),
    ("drop_path", -0.1, "[0, 1)"),
    ("label_smoothing", 1.5, "[0, 1)"),
    ("label_smoothing", -0.5, "[0, 1)"),
    ("betas", [2, -1], "`betas[0]`"),
    ("betas", [0.9, 1], "`betas[1]`"),
    ("corpus_weights", {"tuh": -1}, "`corpus_weights[tuh]`"),
    ("corpus_weights", {"tuh": 1e308}, "[0, 1000]"),  # an epoch of 1e308 x its windows
    ("min_lr", -1, "[0, 10]"),
    ("min_lr", 1e300, "[0, 10]"),
    ("weight_decay", -0.1, "[0, 10]"),
    ("warmup_epochs", -1, "[0, 2,147,483,647]"),
    ("warmup_epochs", 1e23, "[0, 2,147,483,647]"),
    # the absurd: internal errors (numpy's seed range, torch's threads, int64 overflows) deep
    # in a run, after its folder was made
    ("seed", -5, "from 0 to 2,147,483,647"),
    ("seed", 2**32, "from 0 to 2,147,483,647"),
    ("split_seed", -1, "from 0 to 2,147,483,647"),
    ("threads", 100_000, "from 1 to 1,024"),
    ("num_workers", 100_000, "from 0 to 256"),
    ("num_workers", -1, "from 0 to 256"),
    ("dead_after", 10**21, "from 1 to 1,048,576"),
    ("epochs", 10**11, "from 1 to 2,147,483,647"),
    ("max_steps", 10**20, "from 1 to 2,147,483,647"),
    ("batch_size", 2**31, "from 1 to 65,536"),
    ("token_budget", 10**11, "from 1 to 2,147,483,647"),
    ("stride_seconds", 1e-9, "[0.005, 10,737,418]"),  # was taken as one sample silently
    ("stride_seconds", 1e300, "[0.005, 10,737,418]"),  # overflowed int64: an internal error, after
    ("stride_seconds", 1e18, "[0.005, 10,737,418]"),  # the run folder was made
]


@pytest.mark.parametrize(("name", "value", "says"), OUT_OF_RANGE)
def test_out_of_range_values_are_refused_naming_field_value_and_range(
    name: str, value: object, says: str
) -> None:
    with pytest.raises(ConfigError, match=rf"Invalid value for `{name}") as err:
        train_config("finetune", "tiny", **{name: value})
    assert says in str(err.value)


def test_in_range_values_pass_and_an_old_grad_clip_0_reads_as_none() -> None:
    cfg = train_config("finetune", "tiny", layer_decay=1, drop_path=0, label_smoothing=0.1,
                       betas=[0, 0.999], grad_clip="none", corpus_weights={"tuh": 0})  # fmt: skip
    assert cfg.grad_clip is None and cfg.layer_decay == 1.0
    saved = {**cfg.to_dict(), "grad_clip": 0}  # a config.json of an older version
    assert type(cfg).from_dict(saved).grad_clip is None


def test_out_of_range_set_is_one_line_before_the_folder(store: str, tmp_path: Path) -> None:
    out = tmp_path / "run"
    for item, says in [("betas=[2,-1]", "betas[0]"), ("drop_path=1.5", "drop_path"),
                       ("label_smoothing=1.5", "label_smoothing")]:  # fmt: skip
        code, output = run_labram("pretrain", "--store", store, *TINY, "--set", item, "--out", out)
        one_error(code, output, says)
    assert not out.exists()


def test_corpus_weights_of_0_for_every_corpus_name_the_weights(store: str, tmp_path: Path) -> None:
    """Every corpus weighted 0 leaves no window: the line blamed the batch size ("the stores
    are too small for this batch size (lower --batch-size)")."""
    out = tmp_path / "run"
    code, output = run_labram("tokenizer", "--store", store, *TINY, "--set",
                              "corpus_weights={tuh=0}", "--out", out)  # fmt: skip
    one_error(code, output, "every corpus of the stores (tuh) has weight 0", "above 0")
    assert "--batch-size" not in output and not out.exists()


def test_an_index_larger_than_memory_is_refused_before_anything_is_made(
    store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stride of one sample over a large store is 10^10 windows: the index's arrays were
    allocated until the machine ran out of memory. It is now refused in one line naming the
    setting, from the number of windows alone."""
    from labram.data import windows

    monkeypatch.setattr(windows, "_physical_memory", lambda: 2_000_000)  # 2 MB "machine"
    out = tmp_path / "run"
    code, output = run_labram("pretrain", "--store", store, *TINY, "--set", "stride_seconds=0.005",
                        "--out", out)  # fmt: skip
    one_error(code, output, "stride_seconds=0.005 gives", "windows, whose index would take",
               "raise stride_seconds")  # fmt: skip
    assert not out.exists()
    code, output = run_labram("pretrain", "--store", store, *TINY, *TOKENIZER_STAGE, "--out", out)
    assert code == 0, output  # (the default 1 s stride fits)


def test_a_refusal_after_set_up_leaves_no_run_behind(store: str, tmp_path: Path) -> None:
    """A batch larger than the stores is found after the run's config.json and
    excluded_subjects.json were written: the folder then "held a run already" and the
    corrected command was refused. What the command wrote goes; what was there stays."""
    out = tmp_path / "run"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    huge = ["--set", "tokenizer.batch_size=65536"]  # (a stage --batch-size does not set)
    code, output = run_labram("pretrain", "--store", store, *TINY, *huge, "--out", out)
    one_error(code, output, "no complete batch of 65536 windows")
    left = {k: v for k, v in _files(out).items() if k != ".labram.lock"}  # (marks no run)
    assert left == {"notes.txt": b"mine"} and set(os.listdir(out)) <= {"notes.txt", ".labram.lock"}
    code, output = run_labram("pretrain", "--store", store, *TINY, *TOKENIZER_STAGE, "--out", out)
    assert code == 0, output


def test_a_store_without_windows_says_why(tmp_path: Path) -> None:
    """An empty store (every file of the corpus skipped) read "no complete batch of 16
    windows ... (lower --batch-size)", which no batch size could fix."""
    from tests.labram.training_stores import write_pretrain_store, write_tuab_like

    empty = str(tmp_path / "empty.zarr")
    with StoreWriter(empty, Recipe()):
        pass
    held = write_tuab_like(tmp_path / "held.zarr", n_train=0, n_eval=2, seconds=20)
    short = write_pretrain_store(tmp_path / "short.zarr", n_subjects=2, seconds=2)
    for store, says in [
        (empty, "the store holds no recordings; ingest a corpus into it first"),
        (held, "all 2 recordings are held out"),
        (short, "each of its 2 recordings is shorter than a window"),
    ]:
        out = tmp_path / "run"
        code, output = run_labram("pretrain", "--store", store, *TINY, "--out", out)
        one_error(code, output, f"{store}: no pre-training windows: {says}")
        assert not out.exists()


def test_seeds_past_the_largest_are_refused_before_the_folder(tuab: str, tmp_path: Path) -> None:
    out = tmp_path / "ft"
    code, output = run_labram(
        *tuab_finetune(tuab, TINY),
        "--seed",
        "2147483646",
        "--seeds",
        "3",
        "--out",
        out,
    )
    one_error(code, output, "--seeds 3 from seed 2147483646 reaches seed 2147483648")
    assert not out.exists()


# --- 4. report: files that are not UTF-8 -----------------------------------------------------


@pytest.mark.parametrize(
    "name", ["seed0/log.csv", "seed0/command.txt", "seed0/config.json", "seed0/predictions.csv"]
)
def test_report_names_a_file_that_is_not_utf8(tmp_path: Path, name: str) -> None:
    run = tmp_path / "run"
    (run / "seed0").mkdir(parents=True)
    (run / "seed0" / "metrics.json").write_text('{"test": {"accuracy": 0.5}}')
    (run / "seed0" / "log.csv").write_text("step,loss\n1,0.5\n")
    (run / name).write_bytes(b"garbage\x00\xff\n")
    code, output = run_labram("report", run / "seed0")
    one_error(code, output, str(run / name), "not UTF-8")


# --- 5. an exclusion that leaves no window ---------------------------------------------------


@pytest.mark.parametrize("command", ["pretrain", "tokenizer"])
def test_excluding_every_subject_is_said_before_the_folder(
    store: str, tmp_path: Path, command: str
) -> None:
    out = tmp_path / "run"
    copy = tmp_path / "copy.zarr"  # its subjects, not the store itself (refused on its own)
    shutil.copytree(store, copy)
    code, output = run_labram(command, "--store", store, "--exclude-subjects-of", copy, *TINY,
                        "--out", out)  # fmt: skip
    one_error(code, output, "--exclude-subjects-of", "every recording", "excluded")
    assert "batch" not in output
    assert not out.exists()


# --- 6. a store given twice --------------------------------------------------------------------


def test_a_store_given_twice_is_read_once(
    store: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    link = tmp_path / "link.zarr"
    link.symlink_to(store)
    cfg = WindowConfig(token_budget=40, max_channels=8)
    once = build_pretrain_index([store], cfg)
    again = str(Path(store).parent / "." / Path(store).name)
    with caplog.at_level(logging.WARNING):
        twice = build_pretrain_index([store, again, str(link)], cfg)
    assert len(twice) == len(once) and twice.urls == once.urls
    assert sum("given twice" in r.getMessage() for r in caplog.records) == 2
    out = tmp_path / "run"
    code, output = run_labram(
        "tokenizer", "--store", store, "--store", str(link), *TINY, "--out", out
    )
    assert code == 0, output
    assert (out / "config.json").is_file()


# --- 7. embed: recordings too short for a window -----------------------------------------------


def test_embed_counts_and_names_recordings_too_short_for_a_window(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = str(tmp_path / "s.zarr")
    rng = np.random.default_rng(0)
    ch = list(TUAB_ORDER[:19])
    with StoreWriter(url, Recipe()) as w:
        for rid, seconds in (("tuh/long_r0", 30.0), ("tuh/short_r0", 2.0)):
            put(w, rid, eeg(rng, 19, seconds), ch, subject=rid[4:9], split="train")
    torch.manual_seed(0)
    save_ours(LaBraMForMEM(model_config("tiny")), tmp_path / "model.pt")
    args = ["embed", "--store", url, "--checkpoint", tmp_path / "model.pt", "--device", "cpu"]
    with caplog.at_level(logging.WARNING):
        code, output = run_labram(*args, "--out", tmp_path / "e.zarr")
    assert code == 0, output
    assert "skipped: 1 recording that gives" in output
    assert any("tuh/short_r0" in r.getMessage() for r in caplog.records)
    code, output = run_labram(*args, "--out", tmp_path / "e.zarr", "--json")
    assert '"recordings_skipped": 1' in output and "tuh/short_r0" in output


@pytest.mark.parametrize("marker", ["config.json", "mem/model.pt", "seed0/best.pt"])
def test_the_python_api_refuses_a_folder_holding_a_run_too(tmp_path: Path, marker: str) -> None:
    """The guard is in the stage functions a notebook calls, not only in the command line."""
    from eegprep.base.errors import UsageError
    from labram.stages.finetune import finetune
    from labram.stages.pretrain import pretrain
    from labram.stages.train_tokenizer import train_tokenizer

    out = tmp_path / "run"
    (out / marker).parent.mkdir(parents=True, exist_ok=True)
    (out / marker).write_bytes(b"kept")
    cfg = {stage: train_config(stage, "tiny", max_steps=1) for stage in STAGES}
    calls = [
        lambda: train_tokenizer(["missing.zarr"], cfg["tokenizer"], out),
        lambda: pretrain(["missing.zarr"], cfg["pretrain"], out, tokenizer_cfg=cfg["tokenizer"]),
        lambda: finetune(["missing.zarr"], "tuab", cfg["finetune"], out),
    ]
    for call in calls:
        with pytest.raises(UsageError, match="holds a run already"):
            call()
    assert (out / marker).read_bytes() == b"kept"


@pytest.mark.parametrize("command", ["tokenizer", "pretrain", "finetune"])
@pytest.mark.parametrize("inside", ["", "run"])
def test_a_run_folder_in_a_store_is_refused(
    store: str, tmp_path: Path, command: str, inside: str
) -> None:
    """`--out` that is a `--store` (or a folder inside one) would write checkpoints, logs and
    config.json among the store's own objects: refused in one line before anything is written."""
    import shutil

    mine = tmp_path / "a.zarr"
    shutil.copytree(store, mine)
    before = _files(mine)
    out = mine / inside if inside else mine
    task = ["--task", "tuab"] if command == "finetune" else []
    tiny = fixed_windows(TINY) if task else TINY
    code, output = run_labram(command, "--store", mine, *task, "--out", out, *tiny)
    one_error(code, output, f"--out {out}", "inside the store", "pick another --out")
    assert _files(mine) == before


def test_finetune_refuses_an_init_of_another_size_than_size_asks(tuab: str, tmp_path: Path) -> None:
    """`--size base --init tiny-model.pt` fine-tuned the tiny model and wrote `base` into the
    run's config; without --size the model is the checkpoint's, as before."""
    init = tmp_path / "tiny.pt"
    save_ours(LaBraMForMEM(model_config("tiny")), init)
    out = tmp_path / "run"
    args = ["-q", "finetune", "--store", tuab, "--task", "tuab", "--init", str(init),
            "--out", str(out), "--size", "base", "--max-steps", "1"]  # fmt: skip
    res = CliRunner().invoke(labram_cli, args)
    assert res.exit_code == 2, (res.exit_code, res.output)
    (line,) = res.stderr.strip().splitlines()
    assert str(init) in line and "holds a tiny model" in line and "--size base" in line, line
    assert not out.exists()


def test_embed_of_a_task_no_recording_has_says_so_not_too_short(tmp_path: Path) -> None:
    """Long recordings without the task's label: the error blamed their length."""
    url = str(tmp_path / "s.zarr")
    with StoreWriter(url, Recipe()) as w:
        put(w, "tuh/a_r0", eeg(np.random.default_rng(0), 23, 30.0), list(TUAB_ORDER),
            subject="a", split="eval")  # fmt: skip
    save_ours(LaBraMForMEM(model_config("tiny")), tmp_path / "model.pt")
    args = ["--checkpoint", tmp_path / "model.pt", "--task", "tuab", "--device", "cpu"]
    code, output = run_labram("embed", "--store", url, *args, "--out", tmp_path / "e.zarr")
    assert code == 2 and "no recording gives a window of task 'tuab'" in output, output
    assert "too short?" not in output
