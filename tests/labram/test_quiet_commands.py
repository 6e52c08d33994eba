"""`labram -q COMMAND` prints errors and the results the command exists to print, nothing else.

docs/cli.md: ``-q`` prints only errors (``error:``, ``skipped:``, ``problem:`` lines) and the
results (a table, metrics, predictions), no summaries, notes, warnings or paths of files
written. Each command is run as a user runs it (a child process: its log and Python warnings
reach the standard error too), and every line it prints, on either stream, must be one of its
results. Before, ``labram -q finetune`` printed its leakage line and ``windows: {...}``,
``labram -q evaluate`` its leakage line and its notes, and ``labram -q predict`` a ``warning:``
line for each file an ingest would warn of.
"""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.labram.training_stores import write_pretrain_store, write_tuab_like
from tests.safety.killing import run

pytestmark = pytest.mark.slow

TRAIN = ["--size", "tiny", "--batch-size", "8", "--workers", "0", "--device", "cpu"]
ERRORS = re.compile(r"^(error|skipped|problem): ")

RESULTS: dict[str, list[str]] = {
    "tokenizer": [r"^codebook: \d+ of \d+ codes used, perplexity [\d.]+$"],
    "pretrain": [r"^tokenizer: \d+ of \d+ codes used, perplexity [\d.]+$",
                 r"^masked modelling: loss [\d.]+, masked-code accuracy [\d.]+ after \d+ steps?$"],
    "finetune": [r"^\|.*\|$"],  # the metrics table
    "evaluate": [r"^tuab \(test, \d+ windows?\)$", r"^  [a-z_0-9]+ +(undefined|[\d.]+)$"],
    "embed": [],
    "export": [],
    "convert": [],
    "predict": [r"^\S+\.vhdr  a: [\d.]+  b: [\d.]+  c: [\d.]+  -> [abc]  \(\d+ windows?\)$"],
    "report": [r"^\S+ \(finetune tuab, 1 seed; ", r"^  \S"],
}  # fmt: skip
"""Per command: the lines of its results (each line it prints under -q must match one)."""


def _labram(*args: object) -> subprocess.CompletedProcess[str]:
    done = run([str(a) for a in args], command="labram")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[str, str]]:
    """Per command: (stdout, stderr) of it run with -q, and ``predict-loud`` without."""
    from tests.labram.test_predict_formats_equal_store import _brainvision, _classifier

    tmp = tmp_path_factory.mktemp("quiet")
    pre = write_pretrain_store(tmp / "pre.zarr", n_subjects=3, seconds=60)
    tuab = write_tuab_like(tmp / "tuab.zarr", n_train=6, n_eval=4, seconds=20)
    (tmp / "raw").mkdir()
    vhdr = _brainvision(tmp / "raw", "v")  # (T3 and T7: an ingest warns of a duplicate)
    clf = _classifier(tmp / "clf.pt")
    q = "-q"
    commands: dict[str, list[object]] = {
        "tokenizer": [q, "tokenizer", "--store", pre, "--max-steps", "2", *TRAIN,
                      "--out", tmp / "tok"],
        "pretrain": [q, "pretrain", "--store", pre, "--tokenizer-max-steps", "2",
                     "--tokenizer-batch-size", "8", "--max-steps", "2", *TRAIN, "--out",
                     tmp / "pt"],
        "finetune": [q, "finetune", "--store", tuab, "--task", "tuab", "--init",
                     tmp / "pt" / "mem" / "model.pt", "--max-steps", "2", *TRAIN, "--out",
                     tmp / "ft"],
        "evaluate": [q, "evaluate", "--store", tuab, "--task", "tuab", "--checkpoint",
                     tmp / "ft" / "seed0" / "best.pt", "--device", "cpu"],
        "embed": [q, "embed", "--store", pre, "--checkpoint", tmp / "pt" / "mem" / "model.pt",
                  "--out", tmp / "e.zarr", "--device", "cpu"],
        "export": [q, "export", tmp / "ft" / "seed0" / "best.pt", "--out",
                   tmp / "x.safetensors"],
        "convert": [q, "convert", tmp / "ft" / "seed0" / "best.pt", tmp / "released.pth"],
        "predict": [q, "predict", vhdr, "--checkpoint", clf, "--corpus", "folder", "--mains",
                    "50"],
        "report": [q, "report", tmp / "ft"],
    }  # fmt: skip
    out = {}
    for name, args in commands.items():
        done = _labram(*args)
        out[name] = (done.stdout, done.stderr)
    loud = _labram(*commands["predict"][1:])
    out["predict-loud"] = (loud.stdout, loud.stderr)
    return out


@pytest.mark.parametrize("command", list(RESULTS))
def test_quiet_prints_the_results_alone(printed: dict[str, tuple[str, str]], command: str) -> None:
    stdout, stderr = printed[command]
    patterns = [re.compile(p) for p in RESULTS[command]]
    lines = [*stdout.splitlines(), *stderr.splitlines()]
    extra = [
        line
        for line in lines
        if not ERRORS.match(line) and not any(p.match(line) for p in patterns)
    ]
    assert extra == [], extra
    for p in patterns:  # (each result is there: the patterns are those of lines printed)
        assert any(p.match(line) for line in stdout.splitlines()), (p.pattern, stdout)


def test_the_predicted_file_warns_without_q(printed: dict[str, tuple[str, str]]) -> None:
    """(What -q leaves out of `predict` is there without it.)"""
    stdout, stderr = printed["predict-loud"]
    assert "warning: " in stderr and "duplicate channels" in stderr
    assert stdout.splitlines() == printed["predict"][0].splitlines()
