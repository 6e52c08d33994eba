"""`labram report`: run folders -> a text summary or one self-contained HTML page.

The run folders are fabricated with the files `labram finetune` / `labram pretrain` write
(results.json, seed<N>/{config.json, metrics.json, log.csv}, tokenizer/ and mem/), except one
slow test that runs a real tiny finetune and `--predict`.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from eegprep.base import strict_json
from labram.command_options import stage_config
from labram.commands import labram_cli, labram_finetune
from labram.data.tasks import TASKS
from labram.data.windows import RecordingPlan, WindowIndex
from labram.stages.predictions import read_predictions, write_predictions
from labram.stages.report import confusion, load_run, subject_scores
from labram.train.config import train_config
from labram.train.metrics import classification, summarise

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or ""
SUBJECTS = ["tuh:e000", "tuh:e001", "tuh:e002", "tuh:e003"]


def _index(n_per_subject: int = 3) -> WindowIndex:
    """Test windows of 4 subjects (labels 0, 1, 0, 1), 10 s each, one recording per subject."""
    plans = [
        RecordingPlan(0, f"tuab/{s[4:]}_s001_t000", "tuab", s, np.arange(23), np.arange(23))
        for s in SUBJECTS
    ]
    rec = np.repeat(np.arange(4), n_per_subject)
    start = np.tile(np.arange(n_per_subject) * 2000, 4)
    labels = (rec % 2).astype(np.float32)[:, None]
    n = len(rec)
    return WindowIndex(["s.zarr"], plans, rec, start, np.full(n, 10), np.zeros(n, int), labels)


def _seed_folder(folder: Path, seed: int, cfg: dict, logits: np.ndarray | None) -> dict:
    folder.mkdir(parents=True)
    index = _index()
    y = index.labels[:, 0].astype(int)
    test = classification(y, 1 / (1 + np.exp(-logits[:, 0]))) if logits is not None else {
        "balanced_accuracy": 0.5 + 0.1 * seed, "auroc": 0.6}  # fmt: skip
    metrics = {"seed": seed, "best_epoch": 2, "test": test, "val": test,
               "checkpoint": str(folder / "best.pt"), "log": str(folder / "log.csv")}  # fmt: skip
    (folder / "config.json").write_text(strict_json.dumps({**cfg, "seed": seed}, indent=2))
    (folder / "metrics.json").write_text(strict_json.dumps(metrics, indent=2))
    rows = ["step,epoch,lr,loss,tokens_per_s"]
    rows += [f"{s},{s // 10},0.001,{1 / (s + seed + 1)},1300.5" for s in range(10, 60, 10)]
    (folder / "log.csv").write_text("\n".join(rows) + "\n")
    if logits is not None:
        write_predictions(folder / "predictions.csv", TASKS["tuab"], index, logits)
    return metrics


def _finetune_run(out: Path, *, with_predictions: bool, command: str | None = None) -> Path:
    cfg = train_config("finetune", "tiny", epochs=3, batch_size=8, val_split="subject").to_dict()
    # per subject (labels normal, abnormal, normal, abnormal): right, 2 of 3 right, wrong, right
    logits = np.array([-1, -1, -1, -1, 1, 1, 1, 1, 1, 1, 1, 1], float)[:, None]
    seeds = [_seed_folder(out / f"seed{s}", s, cfg, logits if with_predictions else None)
             for s in (0, 1)]  # fmt: skip
    results = {"task": "tuab", "stores": ["tuab.zarr"], "init": None,
               "windows": {"train": 40, "val": 10, "test": 12}, "split_seed": 0,
               "leakage": "0 of 4 test subjects were seen in pre-training (random initial weights)",
               "seeds": seeds, "test": summarise([s["test"] for s in seeds])}  # fmt: skip
    (out / "results.json").write_text(strict_json.dumps(results, indent=2))
    if command:
        (out / "command.txt").write_text(command + "\n")
    return out


def _pretrain_run(out: Path) -> Path:
    for stage, cols in (("tokenizer", "loss,amp_loss,codes_used"), ("mem", "loss,mem_acc")):
        d = out / stage
        d.mkdir(parents=True)
        n = len(cols.split(","))
        lines = [f"step,epoch,lr,{cols}"] + [f"{s},0,0.001," + ",".join(["0.5"] * n)
                                             for s in (10, 20)]  # fmt: skip
        (d / "log.csv").write_text("\n".join(lines) + "\n")
        (d / "config.json").write_text(strict_json.dumps({"stage": stage, "size": "tiny"}))
    (out / "tokenizer" / "summary.json").write_text(strict_json.dumps({"codes_used": 100}))
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("report")
    return {
        "ft": _finetune_run(root / "ft", with_predictions=True),
        "bare": _finetune_run(
            root / "bare", with_predictions=False, command="labram finetune --task tuab --seeds 2"
        ),
        "pt": _pretrain_run(root / "pt"),
    }


@pytest.fixture(scope="module")
def page(runs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("page") / "results.html"
    args = ["report", str(runs["ft"]), str(runs["bare"]), str(runs["pt"]), "--html", str(out)]
    res = CliRunner().invoke(labram_cli, args)
    assert res.exit_code == 0, res.output
    assert f"report: {out}" in res.output
    return out


class _Sections(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.headings: list[str] = []
        self.tags: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append(tag)
        self._in = tag if tag in ("h1", "h2", "h3") else None

    def handle_data(self, data: str) -> None:
        if self._in:
            self.headings.append(data.strip())
            self._in = None


def test_page_has_every_section_and_is_self_contained(page: Path, runs: dict[str, Path]) -> None:
    text = page.read_text()
    parser = _Sections()
    parser.feed(text)
    for h in ("labram results", "Runs side by side", "Test metrics", "Confusion matrix",
              "Per-subject scores", "Training curves", "Command", "Config"):  # fmt: skip
        assert h in parser.headings, h
    assert parser.headings.count("Confusion matrix") == 2  # one per fine-tuning run
    assert str(runs["pt"]) in parser.headings
    assert text.count("data:image/png;base64,") == 3  # curves of each run
    assert "http://" not in text and "https://" not in text and "<script" not in text
    assert "<link" not in text and "src='/" not in text


def test_page_numbers(page: Path, runs: dict[str, Path]) -> None:
    text = page.read_text()
    # the side-by-side table: mean +- std over the two seeds, as results.json holds them
    assert "0.5500 +- 0.0500 (2)" in text  # the run without predictions
    # confusion matrix summed over the two seeds: [[3, 3], [1, 5]] each
    assert re.search(r"<th>normal</th><td[^>]*>6 \(50%\)</td><td[^>]*>6 \(50%\)</td>", text)
    assert re.search(r"<th>abnormal</th><td[^>]*>2 \(17%\)</td><td[^>]*>10 \(83%\)</td>", text)
    assert "4 test subjects, lowest accuracy first" in text
    # a recorded command is shown as it is; a missing one is rebuilt and says so
    assert "labram finetune --task tuab --seeds 2</pre>" in text
    assert "did not record its command line" in text
    assert "labram report " in text and "--predict" in text  # how to get the missing matrix


def test_confusion_and_subject_scores_from_predictions(runs: dict[str, Path]) -> None:
    preds = read_predictions(runs["ft"] / "seed0" / "predictions.csv")
    assert preds["classes"] == ["normal", "abnormal"]
    m = confusion(preds)
    assert m.tolist() == [[3, 3], [1, 5]]
    scores = subject_scores(preds)
    assert list(scores) == SUBJECTS
    assert [scores[s]["accuracy"] for s in SUBJECTS] == pytest.approx([1, 2 / 3, 0, 1])
    assert scores["tuh:e003"]["labels"] == ["abnormal"] and scores["tuh:e003"]["windows"] == 3
    row = preds["rows"][1]
    assert row["recording"] == "tuab/e000_s001_t000" and row["start_s"] == 10.0
    assert row["p_normal"] + row["p_abnormal"] == pytest.approx(1.0)


def test_rebuilt_command_gives_the_saved_config(runs: dict[str, Path]) -> None:
    run = load_run(runs["ft"])
    assert not run.command_recorded and run.command
    args = run.command.split()
    assert args[:2] == ["labram", "finetune"] and "--seeds" in args
    ctx = labram_finetune.make_context("finetune", args[2:])
    rebuilt = stage_config("finetune", ctx.params).to_dict()
    saved = run.parts[0].config
    assert saved is not None and rebuilt == saved


def test_rebuilt_command_of_an_older_version_s_folder_gives_its_settings(tmp_path: Path) -> None:
    """An older version stored `label_smoothing: 0.0` for the task's own and `grad_clip: 0`
    for no clipping: the rebuilt command said `--set label_smoothing=0.0` (now: smoothing
    off) and `--set grad_clip=0` (now refused)."""
    from labram.train.config import current_form

    out = _finetune_run(tmp_path / "old", with_predictions=False)
    for path in out.glob("seed*/config.json"):
        record = strict_json.loads(path.read_text())
        record.pop("config_format", None)
        path.write_text(strict_json.dumps({**record, "label_smoothing": 0.0, "grad_clip": 0}))
    run = load_run(out)
    assert run.command and "label_smoothing" not in run.command and "grad_clip" not in run.command
    ctx = labram_finetune.make_context("finetune", run.command.split()[2:])
    saved = run.parts[0].config
    assert saved is not None
    assert stage_config("finetune", ctx.params).to_dict() == current_form(saved)


def test_text_summary_and_seed_and_pretrain_folders(runs: dict[str, Path]) -> None:
    res = CliRunner().invoke(labram_cli, ["report", str(runs["ft"] / "seed1"), str(runs["pt"])])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert lines[0].startswith(f"{runs['ft'] / 'seed1'} (finetune tuab, 1 seed")
    assert any(re.match(r"\s+balanced_accuracy\s+0\.\d{4} \+- 0\.0000$", x) for x in lines)
    assert "predictions: 1 of 1 seed saved predictions.csv" in res.output
    assert "tokenizer: 2 log rows, last loss 0.5000" in res.output


def test_the_windows_finetune_counts_per_split_are_shown_not_called_damaged(
    runs: dict[str, Path], page: Path
) -> None:
    """``results.json``'s ``windows`` is an object of counts, one per split, as finetune writes
    it. Before, the report called it "no result (edited, damaged or written by something
    else)" and left the counts out of the run's line and page."""
    res = CliRunner().invoke(labram_cli, ["report", str(runs["ft"])])
    assert res.exit_code == 0, res.output
    assert not [x for x in res.output.splitlines() if x.startswith("not shown: ")], res.output
    wrote = strict_json_load(runs["ft"] / "results.json")["windows"]
    said = " / ".join(f"{k} {v}" for k, v in wrote.items())
    assert res.output.splitlines()[0].endswith(f"; windows {said})"), res.output
    assert "windows " + ", ".join(f"{k} {v}" for k, v in wrote.items()) in page.read_text()
    assert "Values not shown" not in page.read_text()


def test_not_a_run_folder_is_one_line(tmp_path: Path) -> None:
    res = CliRunner().invoke(labram_cli, ["report", str(tmp_path)])
    assert res.exit_code == 2
    assert res.output.strip().splitlines() == [
        f"error: {tmp_path}: not a labram run folder (expected results.json of labram "
        "finetune, metrics.json of one seed, or log.csv of a pre-training stage)"
    ]
    (tmp_path / "results.json").write_text("{not json")
    res = CliRunner().invoke(labram_cli, ["report", str(tmp_path)])
    assert res.exit_code == 2 and res.output.startswith(f"error: {tmp_path / 'results.json'}: ")


@pytest.mark.skipif(not CHROMIUM, reason="headless Chromium not installed")
def test_page_renders_in_headless_chromium(page: Path, tmp_path: Path) -> None:
    import matplotlib.image as mpimg

    shot = tmp_path / "shot.png"
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
           "--no-first-run", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", f"--user-data-dir={tempfile.mkdtemp()}", "--window-size=1100,4000",
           f"--screenshot={shot}", page.as_uri()]  # fmt: skip
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    rgb = mpimg.imread(shot)[..., :3]
    assert rgb.shape[:2] == (4000, 1100)
    assert (rgb.mean(axis=2) < 0.9).mean() > 0.03  # not blank
    assert (np.ptp(rgb, axis=2) > 0.2).mean() > 0.002  # colour: the matrix, the curves (0.004)


@pytest.mark.slow
def test_predict_on_a_real_finetune_reproduces_its_metrics(tmp_path: Path) -> None:
    from tests.labram.training_stores import write_tuab_like

    url = write_tuab_like(tmp_path / "tuab.zarr", n_train=6, n_eval=4, seconds=30)
    out = tmp_path / "ft"
    args = ["finetune", "--store", url, "--task", "tuab", "--size", "tiny", "--epochs", "1",
            "--set", "warmup_epochs=0.5", "--max-steps", "2", "--batch-size", "8",
            "--out", str(out)]  # fmt: skip
    assert CliRunner().invoke(labram_cli, args).exit_code == 0
    res = CliRunner().invoke(labram_cli, ["report", str(out), "--predict"])
    assert res.exit_code == 0, res.output
    assert "not shown: " not in res.output  # (every value finetune writes is a result)
    preds = read_predictions(out / "seed0" / "predictions.csv")
    y = np.array([preds["classes"].index(r["label"]) for r in preds["rows"]])
    p = np.array([r["p_abnormal"] for r in preds["rows"]])
    saved = strict_json_load(out / "seed0" / "metrics.json")["test"]
    assert classification(y, p) == pytest.approx(saved)
    run = load_run(out)
    assert run.command and f"--out {out}" in run.command


def strict_json_load(path: Path) -> dict:
    import json

    return json.loads(path.read_text())


def test_a_failed_html_write_keeps_the_previous_page(
    page: Path, runs: dict[str, Path], tmp_path: Path
) -> None:
    import resource
    import signal

    out = tmp_path / "results.html"
    out.write_bytes(page.read_bytes())
    before = out.read_bytes()
    args = ["report", str(runs["ft"]), "--html", str(out)]
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit: EFBIG
    resource.setrlimit(resource.RLIMIT_FSIZE, (10_000, hard))
    try:  # (the page was written in place: a cut page replaced the previous one)
        res = CliRunner().invoke(labram_cli, args)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, handler)
    assert res.exit_code == 2, res.output
    assert f"error: {out}: cannot write it (File too large)" in res.output
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.html"]


ODD_ENTRIES = [  # (file, entry, value): JSON of the right syntax and the wrong shape
    ("results.json", None, [1, 2]),
    ("results.json", "seeds", 7),
    ("results.json", "seeds", [1]),
    ("results.json", "test", {"auroc": [1]}),
    ("results.json", "stores", "tuab.zarr"),
    ("seed0/metrics.json", "test", [1]),
    ("seed0/metrics.json", "val", "x"),
]


@pytest.mark.parametrize(("name", "entry", "value"), ODD_ENTRIES)
def test_a_run_file_of_another_shape_is_one_line(
    runs: dict[str, Path], tmp_path: Path, name: str, entry: str | None, value: object
) -> None:
    """An edited results.json or metrics.json (a list, an int where a list or table is read)
    stopped `labram report` with an internal error (AttributeError, TypeError)."""
    import shutil

    run = tmp_path / "run"
    shutil.copytree(runs["ft"], run)
    obj = strict_json_load(run / name)
    (run / name).write_text(strict_json.dumps(value if entry is None else {**obj, entry: value}))
    res = CliRunner().invoke(labram_cli, ["report", str(run), "--html", str(tmp_path / "p.html")])
    assert res.exit_code == 2, res.output
    lines = res.output.strip().splitlines()
    assert (
        len(lines) == 1
        and lines[0].startswith(f"error: {run / name}: ")
        and "not a labram run file" in lines[0]
    )


ODD_TABLES = [  # (a test metric's table, what the summary line shows for it)
    ({"mean": 0.5, "std": "x"}, "0.5000"),
    ({"mean": 0.5, "std": 0.1, "values": 5}, "0.5000 +- 0.1000"),
    ({"mean": 0.5}, "0.5000"),
    ({"mean": 0.5, "std": None}, "0.5000"),
    ({"mean": True, "std": 0}, "-"),
    ({"mean": 1e300, "std": 1e300, "values": [1e300, 1e300]}, "-"),  # (an AUROC of 1e300: none)
    ({"mean": 0.5, "std": 0.6, "values": [0.5, 0.5]}, "0.5000 (2)"),  # (above 0.5: none)
]


@pytest.mark.parametrize(("table", "shown"), ODD_TABLES)
def test_a_metric_table_holding_odd_entries_is_shown_as_far_as_it_is_numbers(
    tmp_path: Path, table: dict, shown: str
) -> None:
    """A test metric's {mean, std} table without its std, with a std that is text or null,
    ``values`` that is no list: `labram report` stopped with an internal error (a format of a
    str or None, len() of an int); a number of 300 digits filled 300 columns; ``true`` read as
    1.0. Each entry is shown when it is a finite number in its range, left out otherwise
    (tests/labram/test_report_values.py: and said)."""
    run = tmp_path / "run"
    run.mkdir()
    (run / "results.json").write_text(strict_json.dumps({"task": "tuab", "test": {"auroc": table}}))
    page = tmp_path / "p.html"
    res = CliRunner().invoke(labram_cli, ["report", str(run), "--html", str(page)])
    assert res.exit_code == 0, res.output
    assert f"  auroc              {shown}\n" in res.output
    assert f"<td>{shown}</td>" in page.read_text()


def test_windows_without_probabilities_are_left_out_of_the_scores(tmp_path: Path) -> None:
    """predictions.csv rows whose p_ cells are empty or not numbers (an edited file): the
    confusion matrix stopped the report with an internal error (numpy's All-NaN slice)."""
    seed = tmp_path / "run" / "seed0"
    seed.mkdir(parents=True)
    (seed.parent / "results.json").write_text('{"task": "tuab", "seeds": [{"seed": 0}]}')
    (seed / "metrics.json").write_text('{"seed": 0, "test": {"auroc": 0.5}}')
    (seed / "predictions.csv").write_text(
        "split,recording,subject,start_s,duration_s,label,p_normal,p_abnormal\n"
        "test,r,s1,0,10,normal,,\ntest,r,s1,10,10,abnormal,x,nan\n"
        "test,r,s2,0,10,normal,0.2,0.8\ntest,r,s2,10,10,normal,0.9,\n"
    )
    with pytest.warns(UserWarning, match=r"1 cell is no number \(line 3, column p_normal"):
        run = load_run(seed.parent)  # (the "x"; an empty cell is no damage, "nan" a number)
    preds = run.parts[0].predictions
    assert confusion(preds).tolist() == [[1, 1], [0, 0]]
    scores = subject_scores(preds)
    assert scores["s2"]["accuracy"] == 0.5 and np.isnan(scores["s1"]["accuracy"])
    res = CliRunner().invoke(labram_cli, ["report", str(seed.parent), "--html",
                                          str(tmp_path / "p.html")])  # fmt: skip
    assert res.exit_code == 0, res.output


@pytest.mark.parametrize(
    ("line", "where"),
    [(2, b",0."), (2, b",normal,"), (0, b"p_normal"), (12, b"tuab/"), (0, b"p_abnormal")],
    ids=["a probability", "a label", "a class name", "a recording", "the check's name"],
)
def test_a_flipped_bit_in_predictions_is_refused_in_one_line(
    runs: dict[str, Path], tmp_path: Path, line: int, where: bytes
) -> None:
    """A bit flipped in predictions.csv (a probability ``0.7310`` read as ``0.7311``, a label,
    a class name in the header) changed the confusion matrix and subject scores unsaid, or
    (``0.w310``) left its window out of them; each row now carries a CRC-32 with the header
    (``row_crc32``), and a row that does not match it is one line naming the file."""
    run = shutil.copytree(runs["ft"], tmp_path / "ft")
    csv_path = run / "seed1" / "predictions.csv"
    lines = csv_path.read_bytes().split(b"\n")
    changed = bytearray(lines[line])
    changed[lines[line].index(where) + len(where) + 1] ^= 0x01  # (one bit: 3 -> 2, a -> `)
    lines[line] = bytes(changed)
    csv_path.write_bytes(b"\n".join(lines))
    res = CliRunner().invoke(labram_cli, ["report", str(run), "--html", str(tmp_path / "p.html")])
    assert res.exit_code == 2, res.output
    assert res.output.count("error: ") == 1 and "Traceback" not in res.output
    if where == b"p_abnormal":  # (the next column's name: row_crc32 -> sow_crc32)
        assert f"{csv_path}: its header's last column is 'sow_crc32', not 'row_crc32'" in res.output
    else:
        assert f"{csv_path}: line {max(line, 1) + 1} does not match its row_crc32" in res.output
    assert not (tmp_path / "p.html").exists()


def test_a_log_row_a_kill_cut_is_no_row(tmp_path: Path) -> None:
    """A kill (or a full disk) while log.csv was appended can leave its last row cut inside its
    last field, every field still there (``1300.5`` cut to ``13``): the report drew it, and
    a resume at that step kept it. A last row without its line break is dropped by both."""
    from labram.train.runlog import _read_rows

    seed = tmp_path / "run" / "seed0"
    seed.mkdir(parents=True)
    (seed.parent / "results.json").write_text('{"task": "tuab", "seeds": [{"seed": 0}]}')
    (seed / "metrics.json").write_text('{"seed": 0, "test": {"auroc": 0.5}}')
    log = seed / "log.csv"
    log.write_text("step,epoch,loss,tokens_per_s\n10,0,0.9,1300.5\n20,0,0.8,13")  # cut
    rows = load_run(seed.parent).parts[0].log
    assert [r["step"] for r in rows] == [10.0]
    assert [r["step"] for r in _read_rows(log, 20)] == ["10"]
    log.write_text("step,epoch,loss,tokens_per_s\n10,0,0.9,1300.5\n20,0,0.8,1301.5\n")
    assert [r["tokens_per_s"] for r in load_run(seed.parent).parts[0].log] == [1300.5, 1301.5]
    assert len(_read_rows(log, 20)) == 2


def test_damaged_run_folders_are_one_line_each_and_the_rest_is_reported(
    runs: dict[str, Path], tmp_path: Path
) -> None:
    """A damaged or missing results.json, a metrics file holding NaN, a folder that is no run:
    one ``skipped:`` line each, and the page holds the other runs (exit 3). One bad folder
    among several used to stop the whole report with nothing written."""
    damaged = shutil.copytree(runs["ft"], tmp_path / "damaged")
    (damaged / "results.json").write_text('{"task": ')
    unfinished = shutil.copytree(runs["ft"], tmp_path / "unfinished")
    (unfinished / "results.json").unlink()
    nan = shutil.copytree(runs["ft"], tmp_path / "nan")
    metrics = nan / "seed1" / "metrics.json"
    metrics.write_text(metrics.read_text().replace('"auroc": ', '"auroc": NaN, "was": ', 1))
    empty = tmp_path / "empty"
    empty.mkdir()
    bad = [damaged, unfinished, nan, empty]
    page = tmp_path / "p.html"
    args = ["report", str(bad[0]), str(runs["ft"]), *map(str, bad[1:]), str(runs["pt"])]
    res = CliRunner().invoke(labram_cli, [*args, "--html", str(page)])
    assert res.exit_code == 3, res.output
    skipped = [line for line in res.output.splitlines() if line.startswith("skipped: ")]
    assert len(skipped) == len(bad)
    for line, folder in zip(skipped, bad, strict=True):
        assert line.startswith(f"skipped: {folder}"), (line, folder)
    assert "4 of 6 run folders skipped, the others done: " in res.output  # and what to do
    assert "error:" not in res.output and "Traceback" not in res.output
    text = page.read_text()
    assert str(runs["ft"]) in text and str(runs["pt"]) in text
    assert all(f">{b}<" not in text for b in bad)
    # nothing left to report: each is an error line, exit 2, no page
    res = CliRunner().invoke(labram_cli, ["report", *map(str, bad), "--html", str(tmp_path / "q")])
    assert res.exit_code == 2 and res.output.count("error: ") == 4, res.output
    assert not (tmp_path / "q").exists()


def test_a_run_predict_cannot_predict_is_reported_without_and_the_others_too(
    runs: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--predict`` over several runs stopped the whole report at the first run whose store
    could not be opened; that run is now reported without predictions, named, exit 3."""
    lost = shutil.copytree(runs["bare"], tmp_path / "lost")
    seeds = sorted(p for p in lost.iterdir() if p.name.startswith("seed"))
    (seeds[0] / "best.pt").write_bytes(b"")  # a seed to predict; its store, tuab.zarr, is gone
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(labram_cli, ["report", str(runs["ft"]), str(lost), "--predict"])
    assert res.exit_code == 3, res.output
    said = [line for line in res.output.splitlines() if line.startswith("no predictions: ")]
    assert len(said) == 1 and "tuab.zarr" in said[0], res.output
    assert "1 of 2 run folders was reported without the predictions" in res.output
    assert str(runs["ft"]) in res.stdout and str(lost) in res.stdout  # both summarised


def test_a_seed_s_checkpoint_path_never_leads_the_report_out_of_its_run_folder(
    tmp_path: Path,
) -> None:
    """A results.json from elsewhere whose seed has no seed<N>/ folder: the report read that
    seed's files (metrics, config, command, log) from the folder of whatever path its
    ``checkpoint`` named, into the page. Now a seed folder is looked for inside the run only,
    by the checkpoint's last components: a fold's ``fold1/seed0`` is found there even after
    the run was moved (it was looked for where the run had been)."""
    other = tmp_path / "someone-elses" / "seed7"
    other.mkdir(parents=True)
    (other / "metrics.json").write_text('{"seed": 7, "test": {"auroc": 0.123456}}')
    (other / "command.txt").write_text("labram finetune --secret-flag\n")
    run = tmp_path / "run"
    (run / "fold1" / "seed0").mkdir(parents=True)
    (run / "fold1" / "seed0" / "metrics.json").write_text('{"seed": 0, "test": {"auroc": 0.75}}')
    seeds = [
        {"seed": 7, "checkpoint": str(other / "best.pt")},
        {"seed": 0, "checkpoint": "/where/it/was/trained/fold1/seed0/best.pt"},
        {"seed": 9, "checkpoint": "../../someone-elses/seed7/best.pt"},
    ]
    (run / "results.json").write_text(strict_json.dumps({"task": "tuab", "seeds": seeds}))
    loaded = load_run(run)
    folders = [p.path for p in loaded.parts]
    assert folders == [run / "seed7", run / "fold1" / "seed0", run / "seed9"]
    page = tmp_path / "p.html"
    res = CliRunner().invoke(labram_cli, ["report", str(run), "--html", str(page)])
    assert res.exit_code == 0, res.output
    text = page.read_text()
    assert "0.1235" not in text and "secret-flag" not in text
    assert "0.7500" in text
