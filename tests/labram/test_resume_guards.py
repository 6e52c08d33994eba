"""`--resume` misused: changed options, a folder of another stage, a folder another run is
writing. Each is one `error:` line naming the conflict, and the folder is left as it was."""

from __future__ import annotations

import fcntl
import json
from pathlib import Path

import pytest

from eegprep.base.sealed_json import KEY
from tests.labram.cli_runs import one_error, run_labram, tuab_finetune
from tests.labram.test_run_guards import TINY, TOKENIZER_STAGE, _files
from tests.machine_paths import shown


@pytest.fixture(scope="module")
def tok_run(store: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("r") / "tok"
    code, output = run_labram("tokenizer", "--store", store, *TINY, "--out", out)
    assert code == 0, output
    return out


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (["--seed", "1"], "seed was 0, now 1"),
        (["--lr", "0.01"], "lr was"),
        # (base's tokenizer at batch 4 peaks at 1.6e-6, under its min_lr 1e-5: refused alone)
        (["--size", "base", "--set", "min_lr=1e-6"], "size was 'tiny', now 'base'"),
    ],
)
def test_resume_with_changed_options_is_refused_and_keeps_the_config(
    store: str, tok_run: Path, change: list[str], named: str
) -> None:
    before = _files(tok_run)
    code, output = run_labram("tokenizer", "--store", store, *TINY, *change, "--out", tok_run,
                        "--resume")  # fmt: skip
    one_error(code, output, f"cannot resume {tok_run}", named, "another --out")
    assert _files(tok_run) == before  # config.json still says what the run was made with


def test_resume_with_the_same_options_or_more_workers_continues(store: str, tok_run: Path) -> None:
    code, output = run_labram("tokenizer", "--store", store, *TINY, "--ckpt-every", "7", "--out",
                        tok_run, "--resume")  # fmt: skip
    assert code == 0, output


def test_resume_into_another_stage_s_folder_is_refused(
    store: str, tuab: str, tok_run: Path, tmp_path: Path
) -> None:
    pre = tmp_path / "pre"
    pre.mkdir()
    (pre / "config.json").write_text(json.dumps({"mem": {"stage": "pretrain"}, "tokenizer": {}}))
    before = _files(pre)
    one_error(*run_labram("tokenizer", "--store", store, *TINY, "--out", pre, "--resume"),
               "holds a `labram pretrain` run, not a `labram tokenizer` one")  # fmt: skip
    assert _files(pre) == before
    before = _files(tok_run)
    one_error(
        *run_labram(
            *tuab_finetune(tuab, TINY),
            "--out",
            tok_run,
            "--resume",
        ),
        "holds a `labram tokenizer` run",
    )
    one_error(*run_labram("pretrain", "--store", store, *TINY, "--out", tok_run, "--resume"),
               "holds a `labram tokenizer` run")  # fmt: skip
    assert _files(tok_run) == before  # no splits.json, mem/ or config.json written into it


def test_finetune_resume_with_another_split_seed_keeps_splits_json(
    tuab: str, tmp_path: Path
) -> None:
    out = tmp_path / "ft"
    args = [*tuab_finetune(tuab, TINY), "--out", out]
    code, output = run_labram(*args)
    assert code == 0, output
    before = _files(out)
    one_error(*run_labram(*args, "--split-seed", "5", "--resume"), "cannot resume", "split_seed")
    assert _files(out) == before


def test_finetune_resume_with_another_seed_keeps_the_run_s_results(
    tuab: str, tmp_path: Path
) -> None:
    """``--resume --seed 3`` over a run of seed 0 trained seed 3 beside it and rewrote
    results.json with seed 3 alone: the two runs mixed and seed 0's results dropped. More seeds
    than the run's (``--seeds 2``: 0 and 1) still continue it."""
    out = tmp_path / "ft"
    (out / "seed0").mkdir(parents=True)
    (out / "seed0" / "last.pt").write_bytes(b"a run of seed 0")
    (out / "fold1" / "seed2").mkdir(parents=True)
    (out / "fold1" / "seed2" / "notes.txt").write_text("no run file: not a run")
    before = _files(out)
    args = [
        *tuab_finetune(tuab, TINY),
        "--out",
        out,
        "--resume",
    ]
    one_error(*run_labram(*args, "--seed", "3"),
              f"cannot resume {out}: it holds the run of seed 0, and this command runs "
              "seed 3, without 0", "--seed and --seeds")  # fmt: skip
    one_error(*run_labram(*args, "--seed", "1", "--seeds", "2"), "seeds 1, 2, without 0")
    assert {k: v for k, v in _files(out).items() if k != ".labram.lock"} == before


@pytest.mark.parametrize("resume", [False, True])
def test_a_folder_another_run_is_writing_is_refused(
    store: str, tmp_path: Path, resume: bool
) -> None:
    out = tmp_path / "busy"
    out.mkdir()
    with (out / ".labram.lock").open("w") as held:  # what a running command holds
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        flag = ["--resume"] if resume else []
        one_error(*run_labram("tokenizer", "--store", store, *TINY, "--out", out, *flag),
                   f"{out}: another labram run is writing this folder")  # fmt: skip
    assert sorted(p.name for p in out.iterdir()) == [".labram.lock"]


# --- labram report on a run killed and not resumed ----------------------------------------------

LOG = "step,epoch,loss\n10,0,1.5\n"


def test_report_says_what_a_killed_pretraining_run_lacks(tmp_path: Path) -> None:
    tok = tmp_path / "tok"  # labram tokenizer, killed before tokenizer.pt
    tok.mkdir()
    (tok / "config.json").write_text(json.dumps({"stage": "tokenizer"}))
    (tok / "log.csv").write_text(LOG)
    code, output = run_labram("report", tok)
    assert code == 0, output
    assert "unfinished: no tokenizer.pt" in output and "--resume" in output
    pre = tmp_path / "pre"  # labram pretrain, killed after the tokenizer stage
    (pre / "tokenizer").mkdir(parents=True)
    (pre / "config.json").write_text(json.dumps({"mem": {}, "tokenizer": {}}))
    (pre / "tokenizer" / "log.csv").write_text(LOG)
    (pre / "tokenizer" / "tokenizer.pt").write_bytes(b"")
    code, output = run_labram("report", pre)
    assert code == 0, output
    assert "mem: no log (unfinished: not started)" in output
    assert "tokenizer: 1 log row," in output and "no tokenizer.pt" not in output


def test_report_names_a_killed_finetune_run_s_unfinished_seeds(tmp_path: Path) -> None:
    ft = tmp_path / "ft"
    (ft / "seed0").mkdir(parents=True)
    (ft / "splits.json").write_text("{}")
    (ft / "seed0" / "log.csv").write_text(LOG)
    one_error(*run_labram("report", ft), "unfinished labram finetune run", "seed0", "--resume")


# --- log.csv read back on resume ----------------------------------------------------------------


def test_resume_drops_a_log_row_cut_by_the_kill(tmp_path: Path) -> None:
    from labram.train.runlog import RunLog

    path = tmp_path / "log.csv"  # killed while appending the row of step 30: "3" is left
    path.write_text("step,epoch,loss\n10,0,1.5\n20,0,1.25\n3")
    log = RunLog(path, total=40, resume_step=20)
    log.close()
    assert [r["step"] for r in log.rows] == ["10", "20"]
    lines = path.read_text().splitlines()  # (rewritten with each row's checksum)
    assert [line.rsplit(",", 1)[0] for line in lines] == [
        "step,epoch,loss",
        "10,0,1.5",
        "20,0,1.25",
    ]
    assert lines[0].endswith(",row_crc32")


def test_a_kill_while_resume_rewrites_the_log_keeps_its_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from labram.train.runlog import RunLog

    path = tmp_path / "log.csv"
    text = "step,epoch,loss\n10,0,1.5\n20,0,1.25\n"
    path.write_text(text)

    def killed(self: object, row: object) -> None:  # (while its rows are written)
        raise KeyboardInterrupt

    monkeypatch.setattr(RunLog, "_sealed", killed)
    with pytest.raises(KeyboardInterrupt):
        RunLog(path, total=40, resume_step=20)
    assert path.read_text() == text  # not emptied: the next --resume still has them
    assert [p.name for p in tmp_path.iterdir()] == ["log.csv"]


@pytest.mark.real_plots  # (a real plot's size: over the file-size limit below)
def test_a_failed_plot_write_keeps_the_previous_curves(tmp_path: Path) -> None:
    import resource
    import signal

    from eegprep.base.errors import OutputError
    from labram.train.runlog import plot_curves

    rows = [{"step": s, "epoch": 0, "loss": 1.0 / s, "lr": 1e-3} for s in range(1, 30)]
    path = plot_curves(rows, tmp_path / "curves.png")
    before = path.read_bytes()
    assert len(before) > 4_000
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit: EFBIG
    resource.setrlimit(resource.RLIMIT_FSIZE, (4_000, hard))
    try:  # (savefig wrote straight to the path: a cut plot replaced the previous one)
        with pytest.raises(OutputError, match=r"curves\.png: cannot write it"):
            plot_curves(rows[:10], path)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, handler)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["curves.png"]


# --- last.pt is never missing ---------------------------------------------------------------------


def test_a_kill_between_the_renames_of_a_checkpoint_leaves_last_pt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    import torch

    from labram.train.checkpoint import atomic_save

    last = tmp_path / "last.pt"
    atomic_save({"step": 1}, last)
    real = os.replace

    def killed_before_last(src: object, dst: object) -> None:
        if Path(str(dst)) == last:  # the kill comes just before the new last.pt is in place
            raise KeyboardInterrupt
        real(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "replace", killed_before_last)
    with pytest.raises(KeyboardInterrupt):
        atomic_save({"step": 2}, last)
    monkeypatch.undo()
    assert torch.load(last, weights_only=True) == {"step": 1}  # --resume continues from it
    # previous.pt changes only once the new last.pt is in place: none yet, none now
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.pt"]
    atomic_save({"step": 3}, last)
    assert torch.load(last, weights_only=True) == {"step": 3}
    assert torch.load(tmp_path / "previous.pt", weights_only=True) == {"step": 1}


def test_a_run_folder_that_cannot_be_written_is_one_line(tuab: str, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")  # as a read-only folder (root passes chmod): EPERM-like
    out = tmp_path / "file" / "run"
    one_error(
        *run_labram(*tuab_finetune(tuab, TINY), "--out", out),
        f"{out}: cannot write into the run folder",
    )


def test_a_refused_resume_leaves_the_run_s_config_json(
    store: str, tok_run: Path, tmp_path: Path
) -> None:
    """``--resume --max-steps 9`` over a damaged ``last.pt`` was refused, yet the run's
    config.json said 9 steps from then on (a resume may change max_steps, and rewrote the file
    before it read last.pt)."""
    import shutil

    run = tmp_path / "tok"
    shutil.copytree(tok_run, run)
    (run / "last.pt").write_bytes(b"")
    before = {k: v for k, v in _files(run).items() if k != ".labram.lock"}
    one_error(*run_labram("tokenizer", "--store", store, *TINY, "--max-steps", "9", "--out", run,
                          "--resume"), "last.pt: truncated or corrupt")  # fmt: skip
    assert {k: v for k, v in _files(run).items() if k != ".labram.lock"} == before


def test_a_run_folder_that_is_a_dangling_link_is_named_so(tuab: str, tmp_path: Path) -> None:
    """``--out`` a symbolic link to a folder that is gone said "cannot write into the run
    folder (File exists)": a folder that does not exist, refused as if it did."""
    out = tmp_path / "run"
    out.symlink_to(tmp_path / "gone")
    one_error(
        *run_labram(*tuab_finetune(tuab, TINY), "--out", out),
        f"{shown(out)}: a symbolic link to {shown(tmp_path / 'gone')}, which does not exist: "
        "give its target itself",
    )
    assert out.is_symlink() and not (tmp_path / "gone").exists()


def test_a_kill_between_the_tokenizer_s_last_files_keeps_its_summary(
    store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A resumed `labram pretrain` skips a tokenizer stage whose tokenizer.pt exists: a kill
    after that file but before summary.json left the stage without its summary for good. The
    summary is written first now; a kill between the two reruns the stage's end on resume."""
    import labram.stages.train_tokenizer as tt

    out = tmp_path / "pt"
    real = tt.save_model

    def killed(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(tt, "save_model", killed)
    code, _ = run_labram("pretrain", "--store", store, *TINY, *TOKENIZER_STAGE, "--out", out)
    assert code == 130
    assert (out / "tokenizer" / "summary.json").is_file()
    assert not (out / "tokenizer" / "tokenizer.pt").exists()
    monkeypatch.setattr(tt, "save_model", real)
    code, output = run_labram("pretrain", "--store", store, *TINY, *TOKENIZER_STAGE, "--out", out,
                              "--resume")  # fmt: skip
    assert code == 0, output
    assert (out / "tokenizer" / "tokenizer.pt").is_file()
    assert (out / "tokenizer" / "summary.json").is_file()


def _as_an_older_version_wrote_it(config: Path, **old: object) -> None:
    """Rewrite a run's ``config.json`` as labram wrote it before stored configs named their
    form: no ``config_format``, and ``old`` values (``label_smoothing: 0.0`` for the task's)."""
    record = json.loads(config.read_text())
    record.pop("config_format", None)
    record.pop(KEY, None)  # (nor a checksum)
    config.write_text(json.dumps({**record, **old}, indent=2))


def test_a_folder_an_older_version_wrote_resumes_with_the_same_options(
    store: str, tok_run: Path, tmp_path: Path
) -> None:
    """Older versions stored `label_smoothing: 0.0` for the task's own (now `null`) and
    `grad_clip: 0` for no clipping (now `null`): a resume with the run's own options was
    refused as 'label_smoothing was 0.0, now None'."""
    import shutil

    out = tmp_path / "tok"
    shutil.copytree(tok_run, out)
    _as_an_older_version_wrote_it(out / "config.json", label_smoothing=0.0, grad_clip=0)
    code, output = run_labram("tokenizer", "--store", store, *TINY, "--out", out, "--resume")
    assert code == 0, output
    record = json.loads((out / "config.json").read_text())  # rewritten in this version's form
    assert record["config_format"] == 2
    assert record["label_smoothing"] is None and record["grad_clip"] is None
    # a setting that does differ is still named
    _as_an_older_version_wrote_it(out / "config.json", label_smoothing=0.2)
    one_error(*run_labram("tokenizer", "--store", store, *TINY, "--out", out, "--resume"),
               "label_smoothing was 0.2, now None")  # fmt: skip


def test_an_older_pretrain_folder_resumes_and_a_new_explicit_zero_stays_zero(
    tmp_path: Path,
) -> None:
    """Both stage configs of `labram pretrain`'s config.json are read in this version's form;
    `label_smoothing: 0.0` written by this version (smoothing turned off) is not the task's."""
    from eegprep.base.errors import UsageError
    from labram.train.config import train_config
    from labram.train.run import write_run_config

    mem, tok = (train_config(s, "tiny").to_dict() for s in ("pretrain", "tokenizer"))
    old = {k: v for k, v in mem.items() if k != "config_format"} | {"label_smoothing": 0.0}
    folder = tmp_path / "pre"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"mem": old, "tokenizer": tok}))
    write_run_config(folder, {"mem": mem, "tokenizer": tok}, resume=True)
    off = train_config("finetune", "tiny", label_smoothing=0.0).to_dict()
    write_run_config(tmp_path, off, resume=False)
    with pytest.raises(UsageError, match=r"label_smoothing was 0\.0, now None"):
        write_run_config(tmp_path, train_config("finetune", "tiny").to_dict(), resume=True)
    newer = {**off, "config_format": 3}
    (tmp_path / "config.json").write_text(json.dumps(newer))
    with pytest.raises(UsageError, match=r"config.json: `config_format` 3: a config stored in a"):
        write_run_config(tmp_path, off, resume=True)


def test_an_older_label_smoothing_of_0_trains_with_the_task_s_own() -> None:
    """What the older code did with `label_smoothing: 0` (`cfg.label_smoothing or the task's`)
    is what a config it stored means now: TUEV's 0.1; this version's explicit 0 turns it off."""
    from labram.data.tasks import get_task
    from labram.stages.scoring import with_smoothing
    from labram.train.config import TrainConfig, train_config

    tuev = get_task("tuev")
    new = train_config("finetune", "tiny", label_smoothing=0.0).to_dict()
    old = {k: v for k, v in new.items() if k != "config_format"}
    assert with_smoothing(tuev, TrainConfig.from_dict(old)).label_smoothing == 0.1
    assert with_smoothing(tuev, TrainConfig.from_dict(new)).label_smoothing == 0.0
