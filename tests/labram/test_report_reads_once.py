"""`labram report` reads each run file once per report: a file read twice could be replaced
between the reads, and the page mixed two versions of it. A ``labram pretrain`` folder's
``config.json`` was read to tell whether it is one, then again for its tokenizer; a
fine-tuning run's ``results.json`` and its seed folder's files again when the seed folder was
named too."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from eegprep.base import strict_json
from labram.commands import labram_cli
from labram.stages import report
from labram.stages.report import load_run
from labram.stages.tokenizer_used import record


def _pretrain_folder(out: Path, tokenizer: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """A `labram pretrain` folder; returns two tokenizer records (its own, another)."""
    for stage in ("tokenizer", "mem"):
        (out / stage).mkdir(parents=True)
        (out / stage / "log.csv").write_text("step,epoch,lr,loss\n10,0,0.001,0.5\n")
        (out / stage / "config.json").write_text(strict_json.dumps({"stage": stage}))
    tokenizer.write_bytes(b"one tokenizer")
    own = record(tokenizer, {"n_codes": 8192, "code_dim": 32}, trained=False)
    tokenizer.write_bytes(b"another tokenizer")
    other = record(tokenizer, {"n_codes": 512, "code_dim": 64}, trained=False)
    (out / "config.json").write_text(
        strict_json.dumps({"mem": {"stage": "mem"}, "tokenizer_used": own})
    )
    return own, other


def _finetune_folder(out: Path) -> None:
    (out / "seed0").mkdir(parents=True)
    metrics = {"seed": 0, "test": {"auroc": 0.75}, "val": {"auroc": 0.7},
               "checkpoint": str(out / "seed0" / "best.pt")}  # fmt: skip
    (out / "seed0" / "metrics.json").write_text(strict_json.dumps(metrics))
    (out / "seed0" / "config.json").write_text(strict_json.dumps({"stage": "finetune"}))
    (out / "seed0" / "log.csv").write_text("step,epoch,lr,loss\n10,0,0.001,0.5\n")
    (out / "command.txt").write_text("labram finetune --task tuab\n")
    results = {"task": "tuab", "stores": ["tuab.zarr"], "seeds": [metrics],
               "test": {"auroc": {"mean": 0.75, "std": 0.0, "values": [0.75]}}}  # fmt: skip
    (out / "results.json").write_text(strict_json.dumps(results))


def _counted_reads(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    reads: Counter[str] = Counter()
    original = report.read_user_file

    def counted(path: Any, *args: Any, **kwargs: Any) -> bytes:
        reads[os.path.realpath(path)] += 1
        return original(path, *args, **kwargs)

    monkeypatch.setattr(report, "read_user_file", counted)
    return reads


def test_a_config_replaced_after_its_first_read_is_not_mixed_into_the_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The folder's ``config.json`` is replaced (renamed over) right after the report's first
    read of it: the page shows the version it judged, not the tokenizer of the next one."""
    own, other = _pretrain_folder(tmp_path / "pt", tmp_path / "tok.pt")
    config = tmp_path / "pt" / "config.json"
    replacement = tmp_path / "next.json"
    replacement.write_text(strict_json.dumps({"mem": {}, "tokenizer_used": other}))
    original = report.read_user_file

    def replaced_after(path: Any, *args: Any, **kwargs: Any) -> bytes:
        raw = original(path, *args, **kwargs)
        if Path(path) == config and replacement.exists():
            os.replace(replacement, config)  # (a writer's atomic rename)
        return raw

    monkeypatch.setattr(report, "read_user_file", replaced_after)
    run = load_run(tmp_path / "pt")
    assert not replacement.exists()  # (replaced once the first read was done)
    assert run.pretrain_root and run.tokenizer == own


def test_each_run_file_is_read_once_per_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every run file of a report of a pretrain folder, a fine-tuning run and its seed
    folder (its files shown twice) is read once."""
    _pretrain_folder(tmp_path / "pt", tmp_path / "tok.pt")
    _finetune_folder(tmp_path / "ft")
    reads = _counted_reads(monkeypatch)
    folders = [tmp_path / "pt", tmp_path / "ft", tmp_path / "ft" / "seed0"]
    res = CliRunner().invoke(labram_cli, ["report", *map(str, folders)])
    assert res.exit_code == 0, res.output
    assert os.path.realpath(tmp_path / "pt" / "config.json") in reads
    assert os.path.realpath(tmp_path / "ft" / "results.json") in reads
    assert {p: n for p, n in reads.items() if n != 1} == {}
