"""Output names whose bytes are not UTF-8 (Linux hands them to Python as lone surrogates): what
a command writes under them reads back, or the command refuses them in one line first.

Before: `labram pretrain --out run<0xff>` trained, then stopped with an internal error
(`UnicodeEncodeError`) writing `command.txt`; `--resume` with the same `--store st<0xff>.zarr`
was refused (the run's record holds the name `\\xff`-escaped, compared with the raw one); an
export to `exp<0xff>.safetensors` was written and then refused by every reader as "truncated or
corrupt ... not valid UTF-8" (safetensors opens a file by a UTF-8 name only), and its card
warned that it named another file; `eegprep demo --out demo<0xff>` wrote a corpus `eegprep
ingest` refuses to read.
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import eegprep_cli, labram_cli
from labram.checkpoints.safe_read import read_checkpoint
from tests.labram.test_run_guards import TOKENIZER_STAGE
from tests.labram.training_stores import write_pretrain_store

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="names of any bytes: Linux")

TINY = ["--size", "tiny", "--max-steps", "2", "--batch-size", "4", "--device", "cpu",
        "--set", "token_budget=40", "--set", "max_channels=8"]  # fmt: skip


def _name(text: str) -> str:
    """``text`` with the byte 0xff, as Python gets such a name from the command line."""
    return os.fsdecode(text.encode() + b"\xff")


def _labram(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(labram_cli, list(args))
    return res.exit_code, res.output


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("names")
    store = str(write_pretrain_store(root / _name("st"), n_subjects=2, seconds=40))
    out = root / _name("run")
    code, output = _labram("pretrain", "--store", store, *TINY, *TOKENIZER_STAGE, "--out", str(out))
    assert code == 0, output
    return out, store


def test_a_run_under_such_a_name_records_its_command_as_text(
    run: tuple[Path, str], tmp_path: Path
) -> None:
    out, _ = run
    text = (out / "command.txt").read_bytes().decode("utf-8")  # (was never written)
    assert "\\xff" in text and text.startswith("labram pretrain --store ")
    page = tmp_path / "page.html"
    code, output = _labram("report", str(out), "--html", str(page))
    assert code == 0 and "labram pretrain --store" in page.read_text(), output


def test_it_resumes_with_the_same_store(run: tuple[Path, str]) -> None:
    out, store = run
    args = [*(a if a != "2" else "3" for a in TINY), *TOKENIZER_STAGE]  # (one step more)
    code, output = _labram("pretrain", "--store", store, *args, "--out", str(out), "--resume")
    assert code == 0, output


def test_an_export_under_such_a_name_reads_back(run: tuple[Path, str], tmp_path: Path) -> None:
    out, _ = run
    export = tmp_path / _name("exp") / "model.safetensors"  # (the folder's name, too)
    export.parent.mkdir()
    for target in (export, tmp_path / (_name("exp") + ".safetensors")):
        code, output = _labram("export", str(out / "mem" / "model.pt"), "--out", str(target))
        assert code == 0, output
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # (no "names the weights file ..., not ...")
            assert read_checkpoint(target)["model"]
        code, output = _labram("convert", str(target), str(tmp_path / "back.pt"), "--force")
        assert code == 0 and "warning" not in output, output


def test_a_demo_corpus_ingest_cannot_read_is_refused(tmp_path: Path) -> None:
    out = tmp_path / _name("demo")
    res = CliRunner().invoke(eegprep_cli, ["demo", "--out", str(out)])
    assert res.exit_code == 2, res.output
    (line,) = res.output.splitlines()
    assert line.startswith("error: --out ") and "not UTF-8" in line and "\\xff" in line, line
    assert not out.exists()
