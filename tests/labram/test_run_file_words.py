"""`labram report` names a run file's wrong value in JSON's words.

A run file is JSON, and its refusal named Python's types in a wrong article: "a seed's 'seed'
is a JSON float, not a int", "its 'task' is a JSON dict, not a str". It says "a JSON number,
not an integer", "a JSON object, not a string", as JSON names them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cli import labram_cli
from eegprep.base import strict_json

T = {"balanced_accuracy": 0.5}


def _run(root: Path, results: Any) -> Path:
    """A fine-tuning run folder of one seed whose results.json is ``results``."""
    seed = root / "run" / "seed0"
    seed.mkdir(parents=True)
    (seed / "metrics.json").write_text(strict_json.dumps({"seed": 0, "test": T, "val": T}))
    (seed / "log.csv").write_text("step,loss\n1,0.5\n")
    (root / "run" / "results.json").write_text(strict_json.dumps(results))
    return root / "run"


SEED = {"seed": 0, "test": T, "val": T}
CASES: dict[str, tuple[Any, str]] = {
    "a float seed": ({"seeds": [{**SEED, "seed": 0.5}]}, "a seed's 'seed' is a JSON number, "
                     "not an integer"),
    "a task table": ({"task": {"name": "x"}}, "its 'task' is a JSON object, not a string"),
    "a seed number": ({"seeds": [1]}, "an item of its 'seeds' is a JSON integer, not an object"),
    "stores as text": ({"stores": "a.zarr"}, "its 'stores' is a JSON string, not an array"),
    "a metric number": ({"test": {"auroc": 5}}, "its test metric 'auroc' is a JSON integer, "
                        "not {mean, std, values}"),
    "a list": ([1], "it is a JSON array, not an object"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_wrong_value_is_named_in_json_s_words(case: str, tmp_path: Path) -> None:
    change, says = CASES[case]
    base = {"task": "tuab", "stores": [], "seeds": [SEED], "test": {}}
    run = _run(tmp_path, {**base, **change} if isinstance(change, dict) else change)
    res = CliRunner().invoke(labram_cli, ["report", str(run)])
    assert res.exit_code == 2, (res.exit_code, res.output)
    (line,) = res.stderr.strip().splitlines()
    assert line.startswith(f"error: {run / 'results.json'}: {says}: not a labram run file"), line
