"""Files of absurd size in a run folder or beside a checkpoint: refused in one line naming the
file, before they are read whole.

`labram report` read every run file whole (`read_text`), so a 2 GB `metrics.json` took 4 GB
of memory before it was refused as "not JSON"; `labram predict`, `export` and `evaluate` read
the `results.json` / `config.json` beside a checkpoint the same way. The files here are sparse
(`truncate`): a few bytes on disk whatever size they claim.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from eegprep.base import strict_json
from eegprep.base.errors import UsageError
from labram.checkpoints.layouts import save_ours
from labram.commands import labram_cli
from labram.model.classifier import LaBraMClassifier
from labram.model.config import model_config

JSON_LIMIT = 16 * 2**20  # a run's JSON or command file (docs/training.md, "Results page")
TABLE_LIMIT = 64 * 2**20  # a run's log.csv or predictions.csv


def _run(root: Path) -> Path:
    """A fine-tuning run folder of one seed, as `labram finetune` leaves it."""
    seed = root / "run" / "seed0"
    seed.mkdir(parents=True)
    test = {"balanced_accuracy": 0.5}
    metrics = {"seed": 0, "test": test, "val": test}
    (seed / "metrics.json").write_text(strict_json.dumps(metrics))
    (seed / "config.json").write_text(strict_json.dumps({"stage": "finetune"}))
    (seed / "log.csv").write_text("step,loss\n1,0.5\n")
    results = {"task": "tuab", "seeds": [metrics], "test": {}}
    (root / "run" / "results.json").write_text(strict_json.dumps(results))
    return root / "run"


def _sparse(path: Path, size: int) -> None:
    """``path`` replaced by a file of ``size`` bytes that takes no space (a hole)."""
    path.unlink(missing_ok=True)
    with path.open("wb") as fh:
        fh.truncate(size)


@pytest.mark.parametrize(
    ("name", "size"),
    [
        ("results.json", JSON_LIMIT + 1),
        ("seed0/metrics.json", 2 * 2**30),  # the 2 GB metrics file
        ("seed0/config.json", JSON_LIMIT + 1),
        ("command.txt", JSON_LIMIT + 1),
        ("seed0/log.csv", TABLE_LIMIT + 1),
        ("seed0/predictions.csv", TABLE_LIMIT + 1),
    ],
)
def test_report_refuses_a_run_file_of_absurd_size_in_one_line(
    tmp_path: Path, name: str, size: int
) -> None:
    run = _run(tmp_path)
    _sparse(run / name, size)
    page = tmp_path / "page.html"
    res = CliRunner().invoke(labram_cli, ["report", str(run), "--html", str(page)])
    assert res.exit_code == 2, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {run / name}: larger than "), lines
    assert "is it the right file?" in lines[0] and not page.exists()


def test_a_run_file_within_the_limits_is_still_reported(tmp_path: Path) -> None:
    run = _run(tmp_path)
    (run / "command.txt").write_text("labram finetune --task tuab\n")
    res = CliRunner().invoke(labram_cli, ["report", str(run)])
    assert res.exit_code == 0, res.output
    assert "balanced_accuracy" in res.output


def _padded(path: Path, doc: dict, size: int) -> None:
    """``doc`` as strict JSON padded with spaces to ``size`` bytes: valid, and absurdly large."""
    text = json.dumps(doc)
    path.write_text(text + " " * (size - len(text)))


@pytest.fixture(scope="module")
def classifier(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    ckpt = tmp_path_factory.mktemp("clf") / "run" / "seed0" / "best.pt"
    save_ours(LaBraMClassifier(model_config("tiny"), 1), ckpt)
    return ckpt


def test_predict_does_not_read_an_absurd_results_json_beside_the_checkpoint(
    classifier: Path, tmp_path: Path
) -> None:
    """The task comes from the run folder's results.json: one of 16 MiB and more is not read
    (the checkpoint then says no task, one line)."""
    from labram.stages.predict import predict_files

    results = classifier.parent.parent / "results.json"
    _padded(results, {"task": "tuab"}, JSON_LIMIT + 1)
    try:
        with pytest.raises(UsageError, match="does not say which task"):
            predict_files([], classifier, device="cpu")
    finally:
        results.unlink()


def test_export_leaves_an_absurd_results_json_out_of_the_card(
    classifier: Path, tmp_path: Path
) -> None:
    from labram.stages.export import export

    results = classifier.parent.parent / "results.json"
    _padded(results, {"task": "tuab", "stores": ["tuab.zarr"]}, JSON_LIMIT + 1)
    try:
        res = export(classifier, tmp_path / "m.safetensors")
    finally:
        results.unlink()
    card = strict_json.loads(Path(res["card_json"]).read_text())
    assert card["task"] is None and card["data"]["stores"] is None


def test_evaluate_refuses_an_absurd_config_json_beside_the_checkpoint(
    classifier: Path, tmp_path: Path
) -> None:
    """A checkpoint without its own train_config (an older labram's) takes the run's
    config.json beside it: one of 16 MiB and more is one line, not read."""
    from labram.stages.scoring import run_config

    config = tmp_path / "config.json"
    _padded(config, {"stage": "finetune"}, JSON_LIMIT + 1)
    with pytest.raises(UsageError, match=r"config\.json: larger than 16 MiB"):
        run_config(tmp_path / "best.pt", {})


def _png_height(page: str) -> int:
    """The height in pixels of the first PNG embedded in ``page`` (its IHDR chunk)."""
    import base64
    import re
    import struct

    data = re.search(r"data:image/png;base64,([A-Za-z0-9+/=]+)", page)
    assert data is not None
    png = base64.b64decode(data.group(1))
    return int(struct.unpack(">I", png[20:24])[0])


def test_a_log_of_many_columns_draws_a_bounded_figure(tmp_path: Path) -> None:
    """One panel per log.csv column: 300 columns took 37 s and 560 MB to draw, and a 64 MiB
    file holds tens of thousands. At most 24 panels are drawn (8 rows of 3); the page names
    the rest."""
    run = _run(tmp_path)
    names = ["step", *(f"c{i}" for i in range(60))]
    rows = [",".join(names), *(",".join(str(j + i / 100) for i in range(61)) for j in range(3))]
    (run / "seed0" / "log.csv").write_text("\n".join(rows) + "\n")
    page = tmp_path / "page.html"
    res = CliRunner().invoke(labram_cli, ["report", str(run), "--html", str(page)])
    assert res.exit_code == 0, res.output
    text = page.read_text()
    assert "36 more columns of log.csv not drawn (at most 24 panels): c24, c25, c26" in text
    assert _png_height(text) <= 8 * 280  # 8 rows of 2.8 in at 100 dpi (60 columns: 20 rows)


def test_a_confusion_matrix_of_absurdly_many_classes_is_not_drawn(tmp_path: Path) -> None:
    """A 260 kB predictions.csv of 3,000 classes made a 500 MB page (every cell of the
    matrix); above 200 classes the page says so instead."""
    run = _run(tmp_path)
    n = 300
    head = ["split", "recording", "subject", "start_s", "duration_s", "label"]
    rows = [",".join([*head, *(f"p_{i}" for i in range(n))])]
    rows += [",".join(["test", "r", f"s{j}", "0", "10", str(j), *["0.1"] * n]) for j in range(3)]
    (run / "seed0" / "predictions.csv").write_text("\n".join(rows) + "\n")
    page = tmp_path / "page.html"
    res = CliRunner().invoke(labram_cli, ["report", str(run), "--html", str(page)])
    assert res.exit_code == 0, res.output
    text = page.read_text()
    assert "300 classes: too many for a confusion matrix (at most 200)" in text
    assert "class='cm'" not in text and "s2" in text  # per-subject scores still there
