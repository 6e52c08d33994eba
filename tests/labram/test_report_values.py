"""`labram report` and metric values that are no result: text, a list or a boolean where a
number belongs, or a number outside the metric's range (a balanced accuracy of 1e308, an AUROC
of -3, a negative loss, a count of 2.5). Before, one of the wrong type was left out with nothing
said, and one out of range shown as a result. Each is shown as ``-``, and the page and the
terminal say once, in one line per file, which file holds which key with what; the rest of the
report goes on."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from eegprep.base import strict_json
from labram.commands import labram_cli
from labram.stages.report_values import screened, value_problem

GOOD = {"balanced_accuracy": 0.75, "auroc": 0.8, "cohen_kappa": -0.2, "r2": -4.0, "rmse": 2.0}

HOSTILE = [  # (metric, value, what the line says of it)
    ("balanced_accuracy", 1e308, "is 1e+308, above 1 (of [0, 1])"),
    ("auroc", -3, "is -3, below 0 (of [0, 1])"),
    ("auc_pr", "0.9", "is the text '0.9', not a number"),
    ("accuracy", [0.5], "is a list of 1 item, not a number"),
    ("weighted_f1", True, "is the boolean true, not a number"),
    ("cohen_kappa", 1.5, "is 1.5, above 1 (of [-1, 1])"),
    ("pearson_r", {"r": 1}, "is an object of 1 entry, not a number"),
    ("r2", 2.0, "is 2, above 1"),
    ("rmse", -0.1, "is -0.1, below 0"),
]


def _run(tmp_path: Path, seed1_test: dict, summary: dict | None = None) -> Path:
    """A fine-tuning run of 2 seeds: seed 0's metrics all results, seed 1's ``seed1_test``."""
    run = tmp_path / "run"
    seeds = []
    for seed, test in ((0, GOOD), (1, seed1_test)):
        (run / f"seed{seed}").mkdir(parents=True)
        metrics = {"seed": seed, "best_epoch": 2, "test": test, "val": GOOD}
        (run / f"seed{seed}" / "metrics.json").write_text(strict_json.dumps(metrics))
        seeds.append({"seed": seed})
    results: dict[str, Any] = {"task": "tuab", "seeds": seeds}
    if summary is not None:
        results["test"] = summary
    (run / "results.json").write_text(strict_json.dumps(results))
    return run


def _report(run: Path, tmp_path: Path) -> tuple[list[str], str]:
    page = tmp_path / "p.html"
    res = CliRunner().invoke(labram_cli, ["report", str(run), "--html", str(page)])
    assert res.exit_code == 0, res.output
    return res.output.splitlines(), page.read_text()


@pytest.mark.parametrize(("metric", "value", "said"), HOSTILE)
def test_a_seed_s_metric_that_is_no_result_is_said_and_not_shown(
    tmp_path: Path, metric: str, value: object, said: str
) -> None:
    run = _run(tmp_path, {**GOOD, metric: value})
    lines, page = _report(run, tmp_path)
    file = run / "seed1" / "metrics.json"
    noted = [x for x in lines if x.startswith("not shown: ")]
    assert noted == [f"not shown: {file}: 1 value not shown, no result (edited, damaged or "
                     f"written by something else): test.{metric} {said}"], lines  # fmt: skip
    assert page.count(f"test.{metric} {said}".replace("'", "&#x27;")) == 1, page
    # its cell is "-"; the mean over seeds is seed 0's alone, never the odd value's
    row = re.search(rf"<tr><td>{metric}</td>(.*?)</tr>", page)
    if metric in GOOD:
        assert row is not None, page
        assert re.findall(r"<td>(.*?)</td>", row.group(1)) == [
            f"{GOOD[metric]:.4f} +- 0.0000",
            f"{GOOD[metric]:.4f}",
            "-",
        ]
    else:  # no seed has a result of it: no row
        assert row is None, page
    for m in GOOD:  # the rest of the report goes on
        if m != metric:
            assert any(x.startswith(f"  {m} ") for x in lines), lines


def test_every_odd_value_of_a_file_is_one_line_and_each_file_is_said_once(
    tmp_path: Path,
) -> None:
    summary = {"auroc": {"mean": -3, "std": "x", "values": [0.8, "NaN"]},
               "balanced_accuracy": {"mean": 0.75, "std": 0.0, "values": [0.75, 0.75]}}  # fmt: skip
    run = _run(tmp_path, {"auroc": 1e308, "balanced_accuracy": 0.75, "loss": "NaN"}, summary)
    (run / "seed0" / "metrics.json").write_text(
        strict_json.dumps({"seed": 0, "best_epoch": 2.5, "test": GOOD})
    )
    page_path = tmp_path / "p.html"
    res = CliRunner().invoke(  # the run and one of its seed folders: each file said once
        labram_cli, ["report", str(run), str(run / "seed1"), "--html", str(page_path)]
    )
    assert res.exit_code == 0, res.output
    noted = [x for x in res.output.splitlines() if x.startswith("not shown: ")]
    assert noted == [
        f"not shown: {run / 'results.json'}: 3 values not shown, no result (edited, damaged or "
        "written by something else): test.auroc.mean is -3, below 0 (of [0, 1]); "
        "test.auroc.std is the text 'x', not a number; test.auroc.values[1] is the text 'NaN', "
        "not a number",
        f"not shown: {run / 'seed0' / 'metrics.json'}: 1 value not shown, no result (edited, "
        "damaged or written by something else): best_epoch is 2.5, not a whole number",
        f"not shown: {run / 'seed1' / 'metrics.json'}: 2 values not shown, no result (edited, "
        "damaged or written by something else): test.auroc is 1e+308, above 1 (of [0, 1]); "
        "test.loss is the text 'NaN', not a number",
    ], res.output
    page = page_path.read_text()
    assert page.count("<h2>Values not shown</h2>") == 1
    assert page.count("3 values not shown") == page.count("2 values not shown") == 1
    assert "1e+308" not in page.replace("is 1e+308", "") and "-3.0000" not in page
    assert "  auroc              -\n" in res.output  # its mean: no result
    assert "  balanced_accuracy  0.7500 +- 0.0000 (2)\n" in res.output


def test_a_pretraining_summary_s_odd_values_are_said(tmp_path: Path) -> None:
    stage = tmp_path / "tokenizer"
    stage.mkdir()
    (stage / "log.csv").write_text("step,loss\n10,0.5\n")
    summary = {"metrics": {"loss": -2.0}, "codebook": {"codes_used": 3.5, "n_codes": 8192},
               "steps": 10}  # fmt: skip
    (stage / "summary.json").write_text(strict_json.dumps(summary))
    lines, page = _report(stage, tmp_path)
    assert [x for x in lines if x.startswith("not shown: ")] == [
        f"not shown: {stage / 'summary.json'}: 2 values not shown, no result (edited, damaged "
        "or written by something else): metrics.loss is -2, below 0; codebook.codes_used is "
        "3.5, not a whole number"
    ], lines
    assert "-2.0" not in page.replace("is -2,", "")


def test_results_and_null_are_no_problem() -> None:
    fine = [("auroc", None), ("loss", 0), ("n_windows", 12), ("accuracy", 1),
            ("cohen_kappa", -1), ("some_new_metric", -5.5)]  # fmt: skip
    for name, value in [*GOOD.items(), *fine]:
        assert value_problem(name, value) is None, (name, value)
    assert value_problem("n_windows", -1) == "is -1, below 0"
    assert value_problem("train_loss", -1e-9) == "is -1e-09, below 0"
    assert value_problem("epochs", 2.5) == "is 2.5, not a whole number"


def test_a_std_beyond_half_the_range_is_no_result() -> None:
    """Values in [0, 1] spread by 0.5 at most: a larger std over seeds is none."""
    obj, said = screened("results.json", {"test": {"auroc": {"mean": 0.5, "std": 0.6}}})
    assert obj["test"]["auroc"] == {"mean": 0.5, "std": None}
    assert said == ["test.auroc.std is 0.6, above 0.5 (the most values in [0, 1] spread)"]
    assert screened("results.json", {"test": {"rmse": {"mean": 3.0, "std": 9.0}}})[1] == []


def test_each_count_of_an_object_of_counts_is_checked() -> None:
    """``windows`` holds one count per split: each is a count, and each odd one is named."""
    counts = {"train": 190, "val": 28, "test": 61}
    assert screened("results.json", {"windows": counts}) == ({"windows": counts, "seeds": [],
                                                              "test": {}}, [])  # fmt: skip
    obj, said = screened("results.json", {"windows": {**counts, "val": -2, "test": "x"}})
    assert obj["windows"] == {"train": 190, "val": None, "test": None}
    assert said == ["windows.val is -2, below 0", "windows.test is the text 'x', not a number"]
