"""A training run's outputs record which labram made them (``labram_version``, the version
``labram --version`` prints): its checkpoints (``last.pt``, ``best.pt``, ``model.pt``,
``tokenizer.pt``), its run files (``config.json``, ``summary.json``, ``metrics.json``,
``results.json``) and exports (the safetensors metadata, both cards); ``labram report`` and
``labram export`` say it. A file an earlier labram wrote holds none and is read, resumed and
exported as before; a run resumed by another version records the versions before it
(labram/checkpoints/made_by.py)."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pytest
import torch

from eegprep.base import strict_json
from eegprep.base.sealed_json import sealed
from eegprep.base.version import __version__
from labram.checkpoints.safe_read import read_checkpoint
from labram.model.config import tokenizer_config
from labram.model.tokenizer import VQNSPTokenizer
from labram.stages.export import export
from labram.train.config import train_config
from labram.train.run import write_run_config
from tests.labram.cli_runs import pretrained_tuab_demo, run_labram, tuab_finetune
from tests.labram.test_run_guards import TINY

KEY = "labram_version"
EARLIER = "earlier_labram_versions"


def _json(path: Path) -> dict:
    return json.loads(path.read_text())


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A tiny pre-training run and a tiny fine-tuning run from its model, on the TUAB demo."""
    made = pretrained_tuab_demo(tmp_path_factory.mktemp("version"), TINY)
    root, store = made["root"], made["store"]
    code, output = run_labram(*tuab_finetune(store, TINY), "--init", root / "pt" / "mem" /
                              "model.pt", "--out", root / "ft")  # fmt: skip
    assert code == 0, output
    return {"root": root, "store": store, "pt": root / "pt", "ft": root / "ft"}


@pytest.mark.parametrize(
    "name",
    ["tokenizer/tokenizer.pt", "tokenizer/last.pt", "mem/model.pt", "mem/last.pt"],
)
def test_each_pretraining_checkpoint_records_the_version(runs: dict, name: str) -> None:
    assert read_checkpoint(runs["pt"] / name)[KEY] == __version__


@pytest.mark.parametrize("name", ["seed0/best.pt", "seed0/last.pt"])
def test_each_finetuning_checkpoint_records_the_version(runs: dict, name: str) -> None:
    assert read_checkpoint(runs["ft"] / name)[KEY] == __version__


@pytest.mark.parametrize(
    "where, name",
    [("pt", "config.json"), ("pt", "tokenizer/config.json"), ("pt", "mem/config.json"),
     ("pt", "tokenizer/summary.json"), ("pt", "mem/summary.json"), ("ft", "results.json"),
     ("ft", "seed0/config.json"), ("ft", "seed0/metrics.json")],
)  # fmt: skip
def test_each_run_file_records_the_version(runs: dict, where: str, name: str) -> None:
    doc = _json(runs[where] / name)
    assert doc[KEY] == __version__ and EARLIER not in doc  # (one version made it)


@pytest.mark.parametrize("where", ["pt", "ft"])
def test_the_report_says_the_version(runs: dict, where: str, tmp_path: Path) -> None:
    code, output = run_labram("report", runs[where], "--html", tmp_path / "r.html")
    assert code == 0, output
    assert f"  labram version: {__version__}" in output
    assert f"labram version: <code>{__version__}</code>" in (tmp_path / "r.html").read_text()


def test_an_export_records_its_version_and_its_checkpoints(runs: dict, tmp_path: Path) -> None:
    weights = tmp_path / "clf.safetensors"
    code, output = run_labram("export", runs["ft"] / "seed0" / "best.pt", "--out", weights)
    assert code == 0, output
    assert f"labram version: {__version__} (export); the checkpoint's: {__version__}" in output
    meta = read_checkpoint(weights)
    assert meta[KEY] == __version__ and meta["source_labram_version"] == __version__
    card = _json(tmp_path / "clf.card.json")
    assert card[KEY] == __version__ and card["source"][KEY] == __version__
    assert KEY not in (card["training_config"] or {})  # (the config, not the run's record)
    assert (
        f"| labram version | {__version__} (export); {__version__} (the checkpoint) |"
        in (tmp_path / "clf.card.md").read_text()
    )


def _tiny_tokenizer_file(path: Path) -> Path:
    """A model file as an earlier labram wrote it: no ``labram_version``."""
    from labram.checkpoints.layouts import ours_dict

    torch.manual_seed(0)
    obj = ours_dict(VQNSPTokenizer(tokenizer_config("tiny")))
    obj.pop(KEY, None)
    torch.save(obj, path)
    return path


def test_an_older_model_file_without_it_still_exports(tmp_path: Path) -> None:
    src = _tiny_tokenizer_file(tmp_path / "old.pt")
    res = export(src, tmp_path / "old.safetensors")
    assert res[KEY] == __version__ and res["source"][KEY] is None
    meta = read_checkpoint(tmp_path / "old.safetensors")
    assert meta[KEY] == __version__ and "source_labram_version" not in meta
    assert "(the checkpoint) |" not in (tmp_path / "old.card.md").read_text()


def _config(tmp_path: Path) -> dict:
    return train_config("tokenizer", "tiny").to_dict()


def test_a_fresh_config_json_records_the_version(tmp_path: Path) -> None:
    write_run_config(tmp_path, _config(tmp_path), resume=False)
    doc = _json(tmp_path / "config.json")
    assert doc[KEY] == __version__ and EARLIER not in doc


@pytest.mark.parametrize(
    "before, earlier",
    [(None, [None]), ("0.0.1", ["0.0.1"]), (__version__, None)],
)
def test_a_resume_by_another_version_goes_on_and_records_both(
    tmp_path: Path, before: str | None, earlier: list | None
) -> None:
    cfg = _config(tmp_path)
    old = dict(cfg) if before is None else {**cfg, KEY: before}  # None: an earlier labram's
    (tmp_path / "config.json").write_bytes(sealed(old))
    write_run_config(tmp_path, cfg, resume=True)
    doc = strict_json.loads((tmp_path / "config.json").read_text())
    assert doc[KEY] == __version__ and doc.get(EARLIER) == earlier
    write_run_config(tmp_path, cfg, resume=True)  # resumed again by this version: kept
    assert strict_json.loads((tmp_path / "config.json").read_text()).get(EARLIER) == earlier


def test_scoring_reads_a_config_json_that_records_versions(tmp_path: Path) -> None:
    from labram.stages.scoring import run_config

    cfg = train_config("finetune", "tiny").to_dict()
    (tmp_path / "config.json").write_bytes(sealed({**cfg, KEY: "0.0.1", EARLIER: [None]}))
    assert run_config(tmp_path / "best.pt", {}).to_dict() == cfg


def test_a_run_of_an_earlier_labram_resumes_and_says_so(
    runs: dict, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A fine-tuning run whose config.json and last.pt hold no version (an earlier labram's)
    resumes; its config.json then records this version and that an earlier one ran it."""
    out = tmp_path / "ft"
    shutil.copytree(runs["ft"], out)
    config = strict_json.loads((out / "seed0" / "config.json").read_text())
    config.pop(KEY)
    (out / "seed0" / "config.json").write_bytes(sealed(config))
    last = read_checkpoint(out / "seed0" / "last.pt")
    last.pop(KEY)
    torch.save(last, out / "seed0" / "last.pt")
    caplog.set_level(logging.INFO, logger="labram")
    code, output = run_labram(*tuab_finetune(runs["store"], TINY), "--init", runs["pt"] / "mem" /
                              "model.pt", "--out", out, "--resume", "--max-steps", "3")  # fmt: skip
    assert code == 0, output
    assert "saved by an earlier labram (no version recorded)" in caplog.text
    doc = _json(out / "seed0" / "config.json")
    assert doc[KEY] == __version__ and doc[EARLIER] == [None]
    assert read_checkpoint(out / "seed0" / "last.pt")[KEY] == __version__
    code, output = run_labram("report", out)
    assert code == 0, output
    assert f"  labram version: {__version__} (resumed; earlier: one that recorded none)" in output
