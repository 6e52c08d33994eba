"""Every JSON file labram reads back reads the same with a UTF-8 byte-order mark before it.

A user who opens one of labram's own files in Notepad (a run's ``results.json`` or
``config.json``, a model card, an embedding store's progress or bookkeeping file) and saves it
gets a file that starts with the mark. Before, a reader that took the file as text refused it:
``labram report`` called the run's ``results.json`` "unreadable (Unexpected UTF-8 BOM (decode
using utf-8-sig) ...)", a model card was "damaged", a progress file "damaged" (its chunks
computed again), an embedding store's file "damaged: pick another --out"; readers that took the
same file as bytes read it. Now each reads it as if the mark were not there.
"""

from __future__ import annotations

import codecs
import logging
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from eegprep.base import strict_json
from labram.checkpoints.cards import read_card
from labram.checkpoints.layouts import save_ours
from labram.model.classifier import LaBraMClassifier
from labram.model.config import model_config
from labram.stages.embed_existing import json_file
from labram.stages.embed_left_out import LeftOut, with_other_ranks
from labram.stages.embed_progress import recorded
from labram.stages.export import export
from labram.stages.scoring import run_config
from labram.train.config import TrainConfig
from labram.train.run import read_run_json

BOM = codecs.BOM_UTF8


def _marked(path: Path) -> None:
    """``path`` as Notepad saves it: a byte-order mark before its bytes."""
    path.write_bytes(BOM + path.read_bytes())


@pytest.mark.parametrize("doc", ['{"a": [1, 2.5, "x"]}', "[1]", '"text"', "3"])
def test_strict_json_reads_a_mark_before_text_as_before_bytes(doc: str) -> None:
    want = strict_json.loads(doc)
    assert strict_json.loads("\ufeff" + doc) == want == strict_json.loads(BOM + doc.encode())


def test_a_mark_inside_the_text_is_still_refused() -> None:
    with pytest.raises(ValueError):
        strict_json.loads('{"a": 1}\ufeff')
    with pytest.raises(ValueError):
        strict_json.loads("\ufeff\ufeff{}")


def test_a_run_folder_saved_by_notepad_reports_as_before(tmp_path: Path) -> None:
    from labram.commands import labram_cli

    outputs = []
    for name, mark in (("plain", False), ("marked", True)):
        seed = tmp_path / name / "seed0"
        seed.mkdir(parents=True)
        (seed.parent / "results.json").write_text(
            '{"task": "tuab", "stores": ["gone.zarr"], "seeds": [{"seed": 0}]}'
        )
        (seed / "metrics.json").write_text('{"seed": 0, "test": {"auroc": 0.75}}')
        if mark:
            _marked(seed.parent / "results.json")
            _marked(seed / "metrics.json")
        run = CliRunner().invoke(labram_cli, ["report", str(seed.parent)])
        assert run.exit_code == 0, run.output
        outputs.append(run.output.replace(name, "RUN"))
    assert outputs[0] == outputs[1] and "0.75" in outputs[1]


def test_model_cards_saved_by_notepad_are_read_as_written(tmp_path: Path) -> None:
    torch.manual_seed(0)
    ckpt = tmp_path / "best.pt"
    save_ours(LaBraMClassifier(model_config("tiny"), 1), ckpt)
    res = export(ckpt, tmp_path / "m.safetensors")
    for card in (Path(res["card"]), Path(res["card_json"])):
        want = read_card(card)
        _marked(card)
        assert read_card(card) == want


def test_run_files_and_configs_saved_by_notepad_are_read(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(strict_json.dumps(TrainConfig().to_dict()))
    want = read_run_json(config)
    _marked(config)
    assert read_run_json(config) == want is not None
    assert run_config(tmp_path / "best.pt") == TrainConfig.from_dict(want)


def test_embedding_store_files_saved_by_notepad_are_read(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    progress = tmp_path / "rank0.json"
    progress.write_text('{"chunks": [0, 2]}')
    _marked(progress)
    with caplog.at_level(logging.WARNING):
        assert recorded(progress, 3) == {0, 2}
    assert "damaged" not in caplog.text
    (tmp_path / "rank1.json").write_text(
        '{"chunks": [1], "left_out": {"c/r": "why"}, "windows_left_out": 4}'
    )
    _marked(tmp_path / "rank1.json")
    got = with_other_ranks(tmp_path, 0, 2, LeftOut({}, 0))
    assert got.recordings == {"c/r": "why"} and got.n_windows == 4
    meta = tmp_path / "embed.json"
    meta.write_text('{"checkpoint": "m.pt", "n_windows": 7}')
    _marked(meta)
    assert json_file(meta) == {"checkpoint": "m.pt", "n_windows": 7}
