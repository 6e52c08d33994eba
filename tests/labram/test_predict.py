"""`labram predict`: raw files through eegprep's pipeline in memory, then the classifier."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

import eegprep
from eegprep.base.errors import UsageError
from eegprep.corpus.manifest import load_manifest
from eegprep.ingestion.driver import IngestConfig, ingest
from eegprep.ingestion.inmemory import read_preprocessed
from eegprep.testing.demo_labelled import write_tuab_demo
from labram.checkpoints.layouts import save_ours
from labram.data.task_records import task_record
from labram.data.tasks import get_task
from labram.model.classifier import LaBraMClassifier
from labram.model.config import model_config
from labram.model.mem import LaBraMForMEM
from labram.stages.predict import predict_files


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    root = tmp_path_factory.mktemp("predict")
    src = write_tuab_demo(root / "demo", n_subjects=1, seed=0, minutes=0.5)
    store = root / "tuab.zarr"
    ingest("tuab", src=src, out=store, config=IngestConfig(workers=0, progress=False))
    torch.manual_seed(0)
    clf = LaBraMClassifier(model_config("tiny"), 1)
    torch.nn.init.normal_(clf.head.weight, std=0.5)  # outputs away from 0.5
    ckpt = root / "run" / "seed0" / "best.pt"
    save_ours(clf, ckpt)
    (root / "run" / "results.json").write_text(json.dumps({"task": "tuab"}))
    files = sorted(Path(src).rglob("*.edf"))
    return {"root": root, "store": store, "ckpt": ckpt, "files": files}


def test_in_memory_samples_equal_the_store(demo: dict) -> None:
    store = eegprep.open_store(str(demo["store"]))
    by_name = {r.id.split("/")[-1]: r for r in store.recordings}
    manifest = load_manifest("tuab")
    for f in demo["files"][:3]:
        rec = by_name[f.stem]
        p = read_preprocessed(f, manifest)
        assert p.channels == list(rec.channels) and p.channel_index == list(rec.channel_index)
        assert np.array_equal(p.data, store.read(rec.id, 0, rec.n_samples))


def test_predictions_equal_those_on_the_store(demo: dict) -> None:
    """Same windows, same logits as `labram evaluate` computes from the ingested store."""
    from labram.checkpoints.load import load_model
    from labram.data.tasks import build_task_indexes
    from labram.stages.scoring import predict

    res = predict_files(demo["files"], demo["ckpt"], device="cpu")  # task from results.json
    assert res["task"] == "tuab" and res["classes"] == ["normal", "abnormal"] and not res["failed"]
    assert res["corpus"] == "tuab" and len(res["recordings"]) == len(demo["files"])
    splits = build_task_indexes([str(demo["store"])], get_task("tuab"))
    model = load_model(demo["ckpt"]).model
    n_compared = 0
    for split in splits.values():
        outs, _ = predict(model, split, batch_size=8, device=torch.device("cpu"))
        p_store = 1 / (1 + np.exp(-outs[:, 0].astype(np.float64)))
        for rec in res["recordings"]:
            stem = Path(rec["file"]).stem
            rows = [i for i, r in enumerate(split.rec) if split.recordings[r].id.endswith(stem)]
            if not rows:
                continue
            mine = [w["probabilities"]["abnormal"] for w in rec["windows"]]
            np.testing.assert_allclose(mine, p_store[rows], atol=1e-5)
            assert rec["probabilities"]["abnormal"] == pytest.approx(np.mean(mine), abs=1e-6)
            assert rec["label"] == ("abnormal" if np.mean(mine) >= 0.5 else "normal")
            assert [w["start_s"] for w in rec["windows"]] == [10.0 * k for k in range(len(rows))]
            n_compared += 1
    assert n_compared == len(demo["files"])


def test_bad_files_are_one_line_each_and_the_rest_is_predicted(demo: dict, tmp_path: Path) -> None:
    from cli import labram_cli

    garbage = tmp_path / "garbage.edf"
    garbage.write_bytes(b"0       not an EDF at all")
    good = [str(f) for f in demo["files"][:2]]
    vhdr = tmp_path / "rec.vhdr"  # a format the task's corpus (TUAB: EDF) does not list
    vhdr.write_text("Brain Vision Data Exchange Header File Version 1.0\n")
    args = ["predict", good[0], str(garbage), str(tmp_path / "missing.edf"), str(vhdr), good[1]]
    res = CliRunner().invoke(labram_cli, [*args, "--checkpoint", str(demo["ckpt"])])
    assert res.exit_code == 3, res.output
    skipped = [line for line in res.output.splitlines() if line.startswith("skipped:")]
    assert len(skipped) == 3 and "garbage.edf: EDF header" in skipped[0]
    assert "missing.edf: no such file" in skipped[1] and "--corpus" not in skipped[0]
    assert skipped[2].endswith("(the tuab corpus reads .edf files: give --corpus folder to read "
                               "this one by its suffix)")  # fmt: skip
    table = [line for line in res.output.splitlines() if "abnormal: " in line]
    assert len(table) == 2 and "windows)" in table[0]  # "FILE  abnormal: 0.93  -> ..."


def test_json_and_csv(demo: dict) -> None:
    from cli import labram_cli

    runner = CliRunner()
    base = ["predict", str(demo["files"][0]), "--checkpoint", str(demo["ckpt"])]
    res = runner.invoke(labram_cli, [*base, "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    rec = out["recordings"][0]
    assert set(rec["probabilities"]) == {"normal", "abnormal"} and rec["n_windows"] >= 2
    res = runner.invoke(labram_cli, [*base, "--csv", "--windows"])
    rows = list(csv.DictReader(io.StringIO(res.output)))
    assert len(rows) == rec["n_windows"] and rows[0]["start_s"] == "0.0"
    first = rec["windows"][0]["probabilities"]["abnormal"]
    assert float(rows[0]["p_abnormal"]) == pytest.approx(first)
    res = runner.invoke(labram_cli, [*base, "--windows"])
    assert res.output.count(" s  abnormal: ") == rec["n_windows"]
    res = runner.invoke(labram_cli, [*base, "--json", "--csv"])  # not JSON alone, silently
    assert res.exit_code == 2 and "--json and --csv" in res.output


def test_a_two_output_regression_shows_both_outputs() -> None:
    """The text table shows every output of a regression task, whatever its name (only a
    binary task's table shows the positive class alone)."""
    from labram.stages.predict import table_lines

    rec = {"file": "a.edf", "n_windows": 3, "outputs": {"valence": 0.1, "arousal": 0.7}}
    res = {"task": "label:mood", "kind": "regression", "classes": ["valence", "arousal"],
           "recordings": [rec]}  # fmt: skip
    assert "valence: 0.10  arousal: 0.70" in table_lines(res)[0]
    binary = {**res, "kind": "binary", "recordings": [{**rec, "label": "x"}]}
    assert "valence" not in table_lines(binary)[0]


def test_task_comes_from_the_checkpoint_or_the_flag(demo: dict, tmp_path: Path) -> None:
    from cli import labram_cli

    lone = tmp_path / "lone.pt"
    save_ours(LaBraMClassifier(model_config("tiny"), 1), lone)
    with pytest.raises(UsageError, match="pass --task"):
        predict_files(demo["files"][:1], lone)
    assert predict_files(demo["files"][:1], lone, task="tuab", device="cpu")["task"] == "tuab"
    with pytest.raises(UsageError, match=r"its head has 1 output, but task 'tuev' needs 6"):
        predict_files(demo["files"][:1], lone, task="tuev")
    # a checkpoint that records its task (what `labram finetune` can attach)
    from labram.checkpoints.safe_read import read_checkpoint
    from labram.train.checkpoint import atomic_save

    obj = read_checkpoint(lone)
    obj["task"] = task_record(get_task("tuab"))
    atomic_save(obj, lone, keep_previous=False)
    assert predict_files(demo["files"][:1], lone, device="cpu")["task"] == "tuab"
    # a pre-trained model cannot predict
    save_ours(LaBraMForMEM(model_config("tiny")), tmp_path / "model.pt")
    res = CliRunner().invoke(
        labram_cli, ["predict", str(demo["files"][0]), "--checkpoint", str(tmp_path / "model.pt")]
    )
    assert res.exit_code == 2 and "not a fine-tuned classifier" in res.output
    assert res.output.count("\n") == 1


@pytest.mark.parametrize("stride", [1e-9, 1e300])
def test_a_task_record_of_an_absurd_stride_is_one_line(
    demo: dict, tmp_path: Path, stride: float
) -> None:
    """A crafted checkpoint's task record whose stride is below one sample (0 samples: a
    ZeroDivisionError) or past int64 (an OverflowError) gave each file an "internal error"
    line; the record is refused in one line, naming the field and its range."""
    from labram.checkpoints.safe_read import read_checkpoint
    from labram.train.checkpoint import atomic_save

    crafted = tmp_path / "best.pt"
    obj = read_checkpoint(demo["ckpt"])
    obj["task"] = {"name": "label:k", "kind": "binary", "classes": ["a", "b"], "channels": None,
                   "window_seconds": None, "stride_seconds": stride}  # fmt: skip
    atomic_save(obj, crafted, keep_previous=False)
    said = f"stride_seconds {stride!r} is not a number of seconds from 0.005 (one sample at 200 Hz)"
    with pytest.raises(UsageError, match=re.escape(f"{said} to 10,737,418")):
        predict_files(demo["files"][:1], crafted, device="cpu")


def test_predict_reads_an_exported_classifier(demo: dict, tmp_path: Path) -> None:
    from labram.stages.export import export

    weights = export(demo["ckpt"], tmp_path / "tuab.safetensors")["weights"]
    a = predict_files(demo["files"][:1], weights, device="cpu")  # the task travels with it
    b = predict_files(demo["files"][:1], demo["ckpt"], device="cpu")
    assert a["recordings"][0]["probabilities"] == b["recordings"][0]["probabilities"]


def test_windows_follow_the_settings_the_model_was_fine_tuned_with() -> None:
    """A token-budget task: window length and channel subset come from the saved settings
    (as fine-tuning cut them), not from the defaults."""
    import numpy as np

    from eegprep.ingestion.inmemory import Preprocessed
    from eegprep.pipeline.channels import VOCABULARY
    from labram.data.tasks import Task
    from labram.data.windows import WindowSettings
    from labram.stages.predict import cut_windows

    names = list(VOCABULARY[:40])
    rec = Preprocessed("x.edf", np.zeros((40, 200 * 60), np.float32), names, list(range(40)), 200.0)
    task = Task(name="label:k", kind="binary", classes=("a", "b"), window_seconds=None)
    default = cut_windows(rec, task)
    assert default.x.shape[1:3] == (40, 256 // 40)
    tuned = cut_windows(rec, task, WindowSettings(token_budget=128, max_channels=16))
    assert tuned.x.shape[1:3] == (16, 128 // 16)
    assert list(tuned.channels) == [round(i * 39 / 15) for i in range(16)]


def _released_without(demo: dict, tmp_path: Path, edit: str) -> Path:
    """The demo classifier in the released layout, with one defect (``edit``)."""
    from labram.checkpoints.layouts import convert_file

    rel = tmp_path / "rel.pth"
    convert_file(demo["ckpt"], rel, force=True)  # (a test may have made it)
    sd = torch.load(rel, weights_only=True)["model"]
    if edit == "head":
        del sd["head.weight"], sd["head.bias"]
    elif edit == "spatial":
        sd["pos_embed"] = sd["pos_embed"][:, :50]
    elif edit == "time":
        sd["time_embed"] = sd["time_embed"][:, :5]
    out = tmp_path / f"rel-{edit}.pth"
    torch.save({"model": sd}, out)
    return out


def test_a_released_classifier_without_its_head_is_refused(demo: dict, tmp_path: Path) -> None:
    """Its head would be freshly initialised: predictions from random weights, exit 0."""
    from labram.checkpoints.errors import CheckpointError

    ckpt = _released_without(demo, tmp_path, "head")
    with pytest.warns(UserWarning), pytest.raises(CheckpointError, match="no classifier head"):
        predict_files(demo["files"][:1], ckpt, task="tuab", device="cpu")


@pytest.mark.parametrize("edit", ["spatial", "time"])
def test_tables_too_small_for_the_windows_are_one_line(
    demo: dict, tmp_path: Path, edit: str
) -> None:
    """A checkpoint whose spatial (time) table lacks rows for the task's channels (seconds):
    one line naming the checkpoint, not an 'internal error' per file."""
    from labram.checkpoints.errors import CheckpointError

    ckpt = _released_without(demo, tmp_path, edit)
    words = "no position embedding" if edit == "spatial" else "at most 5 s, not 10 s"
    with pytest.raises(CheckpointError, match=words):
        predict_files(demo["files"][:2], ckpt, task="tuab", device="cpu")


def test_a_flat_channel_is_reported_as_an_ingest_would(demo: dict, tmp_path: Path) -> None:
    """An ingest reports 'flat channels: F4'; predict said nothing (its warnings were only in
    --json, and the QC warnings were never computed)."""
    from cli import labram_cli
    from eegprep.testing.edf_writer import write_edf

    names = "FP1 FP2 F3 F4 C3 C4 P3 P4 O1 O2 F7 F8 T3 T4 T5 T6 A1 A2 FZ CZ PZ T1 T2".split()
    rng = np.random.default_rng(0)
    t = np.arange(250 * 25) / 250
    signals = [20 * (rng.standard_normal(t.size) + np.sin(2 * np.pi * 10 * t)) for _ in names]
    signals[3] = np.zeros_like(t)  # F4 disconnected
    f = write_edf(tmp_path / "flat.edf", signals, labels=[f"EEG {n}-REF" for n in names],
                  sfreqs=250)  # fmt: skip
    res = predict_files([f], demo["ckpt"], device="cpu")
    assert res["recordings"][0]["warnings"] == ["flat channels: F4"]
    out = CliRunner().invoke(labram_cli, ["predict", str(f), "--checkpoint", str(demo["ckpt"])])
    assert out.exit_code == 0, out.output
    assert f"warning: {f}: flat channels: F4" in out.output


def test_a_file_too_slow_for_the_low_pass_is_not_told_to_lower_it(
    demo: dict, tmp_path: Path
) -> None:
    """A 128 Hz file cannot carry the 75 Hz low-pass. An ingest's line says to lower
    ``h_freq`` in the manifest; predict said the same, which would feed the model samples
    filtered unlike its training data. Now it says the file cannot be predicted."""
    from eegprep.testing.edf_writer import write_edf

    names = "FP1 FP2 F3 F4 C3 C4 P3 P4 O1 O2 F7 F8 T3 T4 T5 T6 A1 A2 FZ CZ PZ T1 T2".split()
    x = 20 * np.random.default_rng(0).standard_normal((len(names), 128 * 25))
    f = write_edf(tmp_path / "slow.edf", list(x), labels=[f"EEG {n}-REF" for n in names],
                  sfreqs=128)  # fmt: skip
    res = predict_files([f], demo["ckpt"], device="cpu")
    (line,) = res["failed"]
    assert "128 Hz cannot carry the 75 Hz low-pass" in line and "cannot be predicted" in line
    assert "manifest" not in line and "h_freq" not in line


def test_evaluate_reads_a_released_classifier_and_refuses_a_headless_one(
    demo: dict, tmp_path: Path
) -> None:
    """`labram evaluate` said 'not a fine-tuned classifier (use labram finetune)' of a released
    fine-tuned file (and of finetune's own last.pt); one without a head is refused."""
    from labram.checkpoints.errors import CheckpointError
    from labram.checkpoints.layouts import convert_file
    from labram.stages.evaluate import evaluate

    rel = tmp_path / "rel.pth"
    convert_file(demo["ckpt"], rel)
    ours = evaluate([str(demo["store"])], "tuab", demo["ckpt"], split="train", device="cpu")
    theirs = evaluate([str(demo["store"])], "tuab", rel, split="train", device="cpu")
    assert theirs["metrics"] == pytest.approx(ours["metrics"])
    headless = _released_without(demo, tmp_path, "head")
    with pytest.warns(UserWarning), pytest.raises(CheckpointError, match="no classifier head"):
        evaluate([str(demo["store"])], "tuab", headless, split="train", device="cpu")


def test_missing_old_names_present_under_new_ones_say_how_to_map_them(
    demo: dict, tmp_path: Path
) -> None:
    """A file in 10-10 names (T7 for T3) lacked the TUAB channels with no hint of why; the
    manifest rename the line suggests makes it predictable."""
    from eegprep.corpus.manifest import MANIFEST_DIR
    from eegprep.testing.edf_writer import write_edf

    new = {"T3": "T7", "T4": "T8", "T5": "P7", "T6": "P8"}
    names = "FP1 FP2 F3 F4 C3 C4 P3 P4 O1 O2 F7 F8 T3 T4 T5 T6 A1 A2 FZ CZ PZ T1 T2".split()
    rng = np.random.default_rng(0)
    signals = [20 * rng.standard_normal(250 * 12) for _ in names]
    f = write_edf(tmp_path / "t7.edf", signals, labels=[new.get(n, n) for n in names],
                  sfreqs=250)  # fmt: skip
    res = predict_files([f], demo["ckpt"], device="cpu")
    assert len(res["failed"]) == 1 and "T7, T8, P7, P8, the 10-10 names of" in res["failed"][0]
    assert "[channels] rename" in res["failed"][0]
    toml = (MANIFEST_DIR / "tuab.toml").read_text()  # the TUAB manifest with the renames
    toml = toml.replace(
        'on_unknown = "warn"',
        'on_unknown = "warn"\nrename = { T7 = "T3", T8 = "T4", P7 = "T5", P8 = "T6" }',
    )
    (tmp_path / "mine.toml").write_text(toml)
    res = predict_files([f], demo["ckpt"], corpus=str(tmp_path / "mine.toml"), device="cpu")
    assert not res["failed"] and res["recordings"][0]["n_windows"] == 1


def test_a_python_warning_is_one_warning_line(demo: dict, tmp_path: Path) -> None:
    """A warning raised inside a command (here converting a released classifier without its
    head) prints as one ``warning:`` line, not Python's two lines with the source code that
    raised it; ``-q`` (only errors) prints none."""
    import subprocess
    import sys

    src = _released_without(demo, tmp_path, "head")
    code = (
        "import sys; from eegprep._console import labram_main; "
        "sys.argv[0] = 'labram'; labram_main()"
    )
    for quiet in ([], ["-q"]):
        out = tmp_path / f"c{len(quiet)}.pt"
        done = subprocess.run(
            [sys.executable, "-c", code, *quiet, "convert", str(src), str(out)],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
        if quiet:
            assert lines == []
        else:
            assert lines and all(ln.startswith("warning: ") for ln in lines), lines
            assert "freshly initialised" in lines[0] and "warnings.warn" not in done.stderr


def test_a_file_is_named_once_in_its_line(demo: dict, tmp_path: Path) -> None:
    """A reader's message that names the file already was prefixed with it again ("x.eeg:
    x.eeg: the mne reader reads ...")."""
    from cli import labram_cli

    odd = tmp_path / "rec.eeg"
    odd.write_bytes(b"\0" * 64)
    args = ["predict", str(odd), "--corpus", "folder", "--mains", "50"]
    res = CliRunner().invoke(labram_cli, [*args, "--checkpoint", str(demo["ckpt"])])
    skipped = [line for line in res.output.splitlines() if line.startswith("skipped:")]
    assert len(skipped) == 1 and skipped[0].count("rec.eeg") == 1, skipped


def test_every_unusable_file_argument_is_its_own_line(demo: dict, tmp_path: Path) -> None:
    """FILE arguments that name no readable file (a folder, an empty path, a NUL, a name no
    file system takes, a link to nothing, a link loop, a path through a file, a FIFO, a file
    URL naming another host) each give
    their own ``skipped:`` line and the other files are still predicted; a folder or an empty
    path used to stop the whole command before any file was read."""
    import os

    from cli import labram_cli

    folder = tmp_path / "recs.edf"
    folder.mkdir()
    broken = tmp_path / "gone.edf"
    broken.symlink_to(tmp_path / "nothing.edf")
    loop = tmp_path / "loop.edf"  # (was "a symbolic link to nothing")
    loop.symlink_to(tmp_path / "back.edf")
    (tmp_path / "back.edf").symlink_to(loop)
    fifo = tmp_path / "pipe.edf"
    os.mkfifo(fifo)
    latin1 = os.fsdecode(bytes(tmp_path) + b"/caf\xe9.edf")
    Path(latin1).write_bytes(Path(demo["files"][0]).read_bytes())
    good = [str(f) for f in demo["files"][:2]]
    url = "file:///" + good[1].lstrip("/").replace(" ", "%20")  # a usable URL: predicted
    bad = {
        str(folder): "a folder, not a file",
        "": "an empty path",
        "a\x00b.edf": "NUL",
        "x" * 300 + ".edf": "304 bytes long",
        str(broken): "a symbolic link to nothing",
        str(loop): "a symbolic link loop (or a path through one)",
        good[0] + "/inner.edf": "a path through a file, as if it were a folder",  # (no such)
        str(fifo): "a FIFO, not a file: nothing to read",
        "file://elsewhere/r.edf": "names the host",
        latin1: "its name is not UTF-8",
    }
    args = ["predict", good[0], *bad, url, "--checkpoint", str(demo["ckpt"])]
    res = CliRunner().invoke(labram_cli, args)
    assert res.exit_code == 3, res.output
    skipped = [line for line in res.output.splitlines() if line.startswith("skipped:")]
    assert len(skipped) == len(bad), skipped
    for line, why in zip(skipped, bad.values(), strict=True):
        assert why in line and "internal error" not in line, line
    assert str(folder) in skipped[0] and str(broken) in skipped[4]
    table = [line for line in res.output.splitlines() if "abnormal: " in line]
    assert [t.split("  ")[0] for t in table] == good


def test_a_recording_given_twice_is_predicted_once(
    demo: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same file by the same path, `./x` for `x`, a symbolic link, a hard link, a
    `file:` URL, a trailing slash and `..` on its folder: predicted once, the others named on
    one `note:` line (by device and inode, not by spelling); a file that cannot be looked up
    keeps its own `skipped:` line."""
    from cli import labram_cli

    first = Path(demo["files"][0])
    folder = tmp_path / "recs"
    folder.mkdir()
    rec = folder / "rec.edf"
    rec.write_bytes(first.read_bytes())
    (folder / "link.edf").symlink_to(rec)
    (folder / "hard.edf").hardlink_to(rec)
    other = str(demo["files"][1])
    monkeypatch.chdir(folder)
    repeats = ["rec.edf", "./rec.edf", "link.edf", "hard.edf", rec.as_uri(),
               f"{folder}/../recs/rec.edf", f"{folder}//rec.edf"]  # fmt: skip
    args = ["predict", *repeats[:1], other, *repeats[1:], "missing.edf"]
    res = CliRunner().invoke(labram_cli, [*args, "--checkpoint", str(demo["ckpt"])])
    assert res.exit_code == 3, res.output
    notes = [line for line in res.output.splitlines() if line.startswith("note:")]
    assert len(notes) == 1 and "dropped 6 duplicate recordings" in notes[0]
    for spelling in repeats[1:]:
        assert f"{spelling} = rec.edf" in notes[0]
    assert next(line for line in res.output.splitlines() if "abnormal: " in line).startswith(
        "rec.edf"
    )
    assert sum("abnormal: " in line for line in res.output.splitlines()) == 2
    assert sum(line.startswith("skipped:") for line in res.output.splitlines()) == 1
    out = predict_files([other, *repeats], demo["ckpt"])  # the Python function alike
    assert [r["file"] for r in out["recordings"]] == [other, "rec.edf"]
    assert out["duplicates"][0] == {"file": "./rec.edf", "same_as": "rec.edf"}
    assert len(out["duplicates"]) == 6


def test_a_run_folder_given_twice_is_reported_once(tmp_path: Path) -> None:
    """`labram report A A/ ./A LINK`: one report, one note naming the others."""
    from cli import labram_cli

    run = tmp_path / "pre"
    (run / "mem").mkdir(parents=True)
    (run / "mem" / "log.csv").write_text("step,loss\n1,2.0\n")
    (tmp_path / "link").symlink_to(run)
    res = CliRunner().invoke(labram_cli, ["report", str(run), f"{run}/", str(tmp_path / "link")])
    assert res.exit_code == 0, res.output
    assert res.output.count("(pre-training;") == 1
    assert "note: dropped 2 duplicate run folders" in res.output


def test_a_skipped_file_is_named_as_it_is_spelled(demo: dict, tmp_path: Path) -> None:
    """A FILE holding a newline was named with a space instead (`skipped: a b.edf`, another
    file's name), one of spaces alone as nothing (`skipped: : no such file`); a header that
    cannot be read named its file raw too."""
    from cli import labram_cli

    garbled = tmp_path / "x\ty.edf"
    garbled.write_bytes(b"0" * 10)
    bad = {
        "a\nb.edf": "skipped: a\\nb.edf: no such file",
        "   ": "skipped: (a name of 3 spaces): no such file",
        "\x1b[2Jc.edf": "skipped: \\x1b[2Jc.edf: no such file",
        str(garbled): f"skipped: {tmp_path}/x\\ty.edf: ",
    }
    args = ["predict", *bad, "--checkpoint", str(demo["ckpt"])]
    res = CliRunner().invoke(labram_cli, args)
    assert res.exit_code == 3, res.output
    skipped = [line for line in res.output.splitlines() if line.startswith("skipped:")]
    for line, want in zip(skipped, bad.values(), strict=True):
        assert line.startswith(want), line
    assert "\x1b" not in res.output


def test_a_recordings_warning_lines_name_it_as_its_problem_line_does() -> None:
    """The warning lines (``recording_name``) named a file of spaces alone as nothing, where
    its problem line counts the spaces: one file, one name on every line."""
    from labram.stages.predict import _problem, recording_name

    for part in (None, "djc_eeg3"):
        shown = recording_name("   ", part)
        assert shown.startswith("(a name of 3 spaces)"), shown
        assert _problem("   ", MemoryError(), part).startswith(f"{shown}: "), shown
