"""``labram predict`` reads no file outside a BrainVision header's own folder.

An ingest refuses a header that names a samples or marker file outside its corpus
(``tests/safety/test_hostile_folders.py``); ``labram predict`` read them: ``DataFile=/etc/x``
or ``MarkerFile=../../x.vmrk`` in a header someone sent gave that file's bytes as samples or
events. A recording given alone is held to its header's folder now: one ``skipped:`` line,
none of its files read, the other recordings predicted (exit status 3, as for any file that
gives no prediction).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
import torch
from click.testing import CliRunner, Result

import labram.stages.predict as predict_module
from cli import labram_cli
from eegprep.base.errors import SourceError
from eegprep.base.wording import counted
from eegprep.corpus.manifest import load_manifest
from eegprep.ingestion.inmemory import open_preprocessed, read_preprocessed
from labram.checkpoints.layouts import save_ours
from labram.model.classifier import LaBraMClassifier
from labram.model.config import model_config
from tests.safety.test_hostile_vhdr import MARKERS, _int16, _vhdr

# (a task of any channels: label:KEY; the folder corpus reads BrainVision by its suffix)
OPTIONS = ["--task", "label:x", "--corpus", "folder", "--mains", "50", "--device", "cpu"]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("ckpt") / "best.pt"
    save_ours(LaBraMClassifier(model_config("tiny"), 1), path)
    return path


def _recording(folder: Path, seed: int = 0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "r.vhdr").write_text(_vhdr(), encoding="utf-8")
    (folder / "r.eeg").write_bytes(_int16(seed))
    (folder / "r.vmrk").write_text(MARKERS)
    return folder / "r.vhdr"


def _naming(header: Path, key: str, named: str) -> None:
    suffix = {"DataFile": "eeg", "MarkerFile": "vmrk"}[key]
    text = header.read_text(encoding="utf-8").replace(f"{key}=r.{suffix}", f"{key}={named}")
    header.write_text(text, encoding="utf-8")


def _predict(
    header: Path, checkpoint: Path, monkeypatch: pytest.MonkeyPatch, *others: Path
) -> tuple[Result, list[str]]:
    """``labram predict HEADER OTHERS...``, noting every recording the streamed reader was
    given."""
    read: list[str] = []

    def noted(path: Any, *args: Any, **kwargs: Any) -> Any:
        read.append(str(path))
        return open_preprocessed(path, *args, **kwargs)

    monkeypatch.setattr(predict_module, "open_preprocessed", noted)
    res = CliRunner().invoke(
        labram_cli,
        ["predict", str(header), *map(str, others), "--checkpoint", str(checkpoint), *OPTIONS],
    )
    return res, read


def _refused(res: Result, header: Path, outside: Path, others: tuple[Path, ...] = ()) -> None:
    """``header`` skipped in one line, each of ``others`` predicted."""
    assert res.exit_code == 3, (res.exit_code, res.output)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 2 and lines[1].startswith(
        f"1 of {counted(1 + len(others), 'file')} skipped"
    ), lines
    assert lines[0] == (
        f"skipped: {header}: it names {outside}, which lies outside the header's folder, where "
        "labram predict reads nothing: copy it beside the header"
    )
    printed = res.stdout.splitlines()
    assert [line.split("  ")[0] for line in printed] == [str(o) for o in others], printed


@pytest.mark.parametrize("where", ["absolute", "relative"])
@pytest.mark.parametrize("key", ["DataFile", "MarkerFile"])
def test_a_header_naming_a_file_outside_its_folder_is_refused(
    tmp_path: Path, checkpoint: Path, monkeypatch: pytest.MonkeyPatch, key: str, where: str
) -> None:
    header = _recording(tmp_path / "in" / "h")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "x.eeg").write_bytes(_int16(seed=9))
    (elsewhere / "x.vmrk").write_text(MARKERS + "Mk2=Stimulus,SECRET42,500,1,0\n")
    suffix = {"DataFile": "eeg", "MarkerFile": "vmrk"}[key]
    named = {"absolute": str(elsewhere), "relative": "../../elsewhere"}[where] + f"/x.{suffix}"
    _naming(header, key, named)
    good = _recording(tmp_path / "in" / "g")
    res, read = _predict(header, checkpoint, monkeypatch, good)
    _refused(res, header, elsewhere / f"x.{suffix}", (good,))
    assert read == [str(good)]  # refused before the reader saw it; the other one predicted
    with pytest.raises(SourceError, match="outside the header's folder, where eegprep reads"):
        read_preprocessed(header, load_manifest("folder"))  # the reader itself refuses it too


def test_a_header_behind_a_linked_folder_is_held_to_the_link_s_folder(
    tmp_path: Path, checkpoint: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``given/link/r.vhdr`` (``link -> /elsewhere/dir``) naming ``../r.eeg``: the look-up
    takes the ``..`` as text (``given/r.eeg``), outside the folder the header was given in;
    neither that file nor the link target's neighbour (``/elsewhere/r.eeg``) is read."""
    header = _recording(tmp_path / "elsewhere" / "dir")
    _naming(header, "DataFile", "../r.eeg")
    (tmp_path / "elsewhere" / "r.eeg").write_bytes(_int16(seed=5))  # what the link's `..` is
    given = tmp_path / "given"
    given.mkdir()
    (given / "r.eeg").write_bytes(_int16(seed=6))  # what the `..` is as text
    (given / "link").symlink_to(tmp_path / "elsewhere" / "dir", target_is_directory=True)
    res, read = _predict(given / "link" / "r.vhdr", checkpoint, monkeypatch)
    _refused(res, given / "link" / "r.vhdr", given / "r.eeg")
    assert read == []


def test_files_in_the_header_s_folder_or_below_are_read(
    tmp_path: Path, checkpoint: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The boundary is the header's folder: a subfolder is inside it, and a link inside it is
    the user's (a DataLad dataset keeps every file as a link into its annex), as in an ingest."""
    header = _recording(tmp_path / "h")
    (tmp_path / "h" / "raw").mkdir()
    os.replace(tmp_path / "h" / "r.eeg", tmp_path / "h" / "raw" / "r.eeg")
    _naming(header, "DataFile", "raw/r.eeg")
    annex = tmp_path / "annex"
    annex.mkdir()
    shutil.move(tmp_path / "h" / "r.vmrk", annex / "MD5E-s1--x.vmrk")
    (tmp_path / "h" / "r.vmrk").symlink_to(annex / "MD5E-s1--x.vmrk")
    res, read = _predict(header, checkpoint, monkeypatch)
    assert res.exit_code == 0, res.output
    assert read == [str(header)] and res.stdout.startswith(f"{header}  1: ")
