"""`labram report` counts a run of folds as folds x seeds, as its `results.md` does.

`labram finetune --protocol cross-subject --folds 4` (one seed) wrote `4 folds x 1 seed` in
`results.md`, and `labram report` said `protocol cross-subject (4 folds), 4 seeds` and
`predictions: 4 of 4 seeds saved predictions.csv`: each fold's run was counted as a seed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from labram.stages.report import Part, RunFolder, load_run, summary_lines
from labram.stages.report_html import _confusion_html, _run_html, _side_by_side

PREDICTIONS = {
    "kind": "classification",
    "classes": ["normal", "abnormal"],
    "rows": [{"label": "normal", "probs": [0.9, 0.1]}],
}


def _run(n_folds: int, seeds: list[int]) -> RunFolder:
    """A fine-tuning run folder of ``n_folds`` folds (1: no protocol of folds) x ``seeds``."""
    parts = [
        Part(
            f"fold{k}/seed{s}" if n_folds > 1 else f"seed{s}",
            Path("run"),
            metrics={"seed": s, "test": {"auroc": 0.5}},
        )
        for k in range(n_folds)
        for s in seeds
    ]
    results = {"task": "tuab", "test": {"auroc": {"mean": 0.5, "std": 0.0}}}
    if n_folds > 1:
        results |= {"protocol": {"name": "cross-subject"}, "folds": [{}] * n_folds}
    return RunFolder(Path("run"), "finetune", results, parts)


def test_a_run_of_folds_is_counted_as_folds_and_seeds() -> None:
    lines = summary_lines([_run(4, [0])])
    assert lines[0] == "run (finetune tuab, protocol cross-subject (4 folds), 1 seed)"
    assert lines[-1] == "  predictions: 0 of 4 fold x seed runs saved predictions.csv"
    lines = summary_lines([_run(3, [0, 1])])
    assert lines[0] == "run (finetune tuab, protocol cross-subject (3 folds), 2 seeds)"
    assert lines[-1] == "  predictions: 0 of 6 fold x seed runs saved predictions.csv"


def test_a_run_without_folds_counts_its_seeds_as_before() -> None:
    lines = summary_lines([_run(1, [0, 1, 2])])
    assert lines[0] == "run (finetune tuab, 3 seeds)"
    assert lines[-1] == "  predictions: 0 of 3 seeds saved predictions.csv"


def test_the_page_sums_the_confusion_matrix_over_fold_x_seed_runs() -> None:
    run = _run(2, [0])
    for part in run.parts:
        part.predictions = PREDICTIONS
    assert "summed over 2 fold x seed runs (fold0/seed0, fold1/seed0)" in _confusion_html(run)
    run = _run(1, [0, 1])
    for part in run.parts:
        part.predictions = PREDICTIONS
    assert "summed over 2 seeds (seed0, seed1)" in _confusion_html(run)


def test_the_page_counts_folds_and_seeds_too() -> None:
    run = _run(4, [0])
    side = _side_by_side([run])
    assert "<td>tuab, protocol cross-subject (4 folds)</td><td>1 seed</td>" in side
    assert "task <code>tuab</code>, protocol cross-subject (4 folds); 1 seed;" in _run_html(0, run)
    assert "<td>tuab</td><td>3 seeds</td>" in _side_by_side([_run(1, [0, 1, 2])])


def test_a_seed_folder_of_a_fold_names_its_run_s_task(tmp_path: Path) -> None:
    """`labram report RUN/fold1/seed0` read no results.json (it lies two levels up) and said
    `(finetune ?, 1 seed)`; it reads the run's task and protocol, not its folds' sums."""
    results = {
        "task": "tuab",
        "protocol": {"name": "cross-subject"},
        "folds": [{}, {}],
        "windows": {"train": 9, "val": 2, "test": 4},
    }
    seed = tmp_path / "run" / "fold1" / "seed0"
    seed.mkdir(parents=True)
    (tmp_path / "run" / "results.json").write_text(json.dumps(results))
    (seed / "metrics.json").write_text(json.dumps({"seed": 0, "test": {"auroc": 0.5}}))
    lines = summary_lines([load_run(seed)])
    assert lines[0] == f"{seed} (finetune tuab, protocol cross-subject, 1 seed)"


@pytest.mark.parametrize("below", ["seed0", "fold1/seed0"])
def test_a_seed_folder_shows_the_command_its_run_recorded(tmp_path: Path, below: str) -> None:
    """The page showed a seed folder's command rebuilt, with `--out` the seed folder and a
    fold's `--splits FOLD/SEED/splits.json`, which is not there: its run's `command.txt` lies
    in the run folder, which it now shows, as recorded."""
    seed = tmp_path / "run" / below
    seed.mkdir(parents=True)
    results = {"task": "tuab", "stores": ["s.zarr"], "protocol": {"name": "cross-subject"}}
    (tmp_path / "run" / "results.json").write_text(json.dumps(results))
    (tmp_path / "run" / "command.txt").write_text("labram finetune --task tuab --out run\n")
    (seed / "metrics.json").write_text(json.dumps({"seed": 0, "test": {"auroc": 0.5}}))
    (seed / "config.json").write_text(json.dumps({"stage": "finetune", "size": "tiny"}))
    run = load_run(seed)
    assert (run.command, run.command_recorded) == ("labram finetune --task tuab --out run", True)
