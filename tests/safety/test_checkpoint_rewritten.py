"""A checkpoint (or a card, or the file a record hashes) rewritten in place, the same file
truncated and written again, while it is read: refused in one line naming the file, never
loaded as a mix of two versions. The rewrite is made from a hook on one read step; the file's
mtime is set in the past first, so the rewrite always changes a stamp (no timing race)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from click.testing import CliRunner

from cli import labram_cli
from labram.checkpoints import cards, safe_read, safetensors_files
from labram.checkpoints.errors import ChangedCheckpointError
from labram.checkpoints.layouts import save_ours
from labram.checkpoints.safe_read import read_checkpoint
from labram.data.sampler import ResumeError
from labram.model.classifier import LaBraMClassifier
from labram.model.config import model_config
from labram.train.checkpoint import load_checkpoint

CHANGED = "changed while it was read; read it again when the writer is done"
PAST_NS = 10**18  # 2001-09-09: the file's stamps before the rewrite


def _classifier(path: Path, seed: int) -> dict[str, torch.Tensor]:
    torch.manual_seed(seed)
    model = LaBraMClassifier(model_config("tiny"), 2)
    save_ours(model, path)
    return model.state_dict()


def _rewrite_during(
    monkeypatch: pytest.MonkeyPatch, module: Any, name: str, path: Path, data: bytes
) -> list[int]:
    """Rewrite ``path`` in place (truncated, ``data`` written: the same inode) right before
    ``module.name`` (a step of the read) runs, the first time. Returns the count of rewrites."""
    os.utime(path, ns=(PAST_NS, PAST_NS))
    original: Callable[..., Any] = getattr(module, name)
    done: list[int] = []

    def rewritten_first(*args: Any, **kwargs: Any) -> Any:
        if not done:
            done.append(1)
            with open(path, "r+b") as fh:
                fh.truncate(0)
                fh.write(data)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, rewritten_first)
    return done


def _other_version(tmp_path: Path, suffix: str) -> bytes:
    """Another classifier's file of the same size (other weights, the same shapes)."""
    other = tmp_path / f"other{suffix}"
    _classifier(other, seed=7)
    return other.read_bytes()


CASES = {
    # (file name, module, step): each step reads the open file after one pass judged it
    "pt: tensors read after the claims were judged": ("best.pt", safe_read, "_check_crcs"),
    "pt: unpickled": ("model.pt", safe_read, "_unpickled"),
    "pth: released layout": ("labram-base.pth", safe_read, "_unpickled"),
    "safetensors: tensors read after the header": (
        "best.safetensors", safetensors_files, "_read_tensors"),
    "safetensors: header checked": ("best.safetensors", safetensors_files, "_check_same_file"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CASES))
def test_a_checkpoint_rewritten_in_place_while_read_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    name, module, step = CASES[case]
    path = tmp_path / name
    suffix = ".safetensors" if name.endswith(".safetensors") else ".pt"
    _classifier(path, seed=1)
    data = _other_version(tmp_path, suffix)
    assert len(data) == path.stat().st_size  # (a same-size rewrite: the size tells nothing)
    done = _rewrite_during(monkeypatch, module, step, path, data)
    with pytest.raises(ChangedCheckpointError) as err:
        read_checkpoint(path)
    assert done and str(err.value) == f"{path}: {CHANGED}"


def test_a_checkpoint_rewritten_shorter_is_refused_not_called_corrupt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cut short mid-read, torch's error ("truncated or corrupt") blamed a sound file."""
    path = tmp_path / "best.pt"
    _classifier(path, seed=1)
    _rewrite_during(monkeypatch, safe_read, "_check_crcs", path, path.read_bytes()[:1000])
    with pytest.raises(ChangedCheckpointError, match=CHANGED):
        read_checkpoint(path)


def test_a_legacy_pickle_rewritten_in_place_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "old.pt"
    sd = {"w": torch.ones(4)}
    torch.save({"model": sd}, path, _use_new_zipfile_serialization=False)
    other = tmp_path / "other.pt"
    torch.save({"model": {"w": torch.zeros(4)}}, other, _use_new_zipfile_serialization=False)
    _rewrite_during(monkeypatch, safe_read, "check_unjudged", path, other.read_bytes())
    with pytest.raises(ChangedCheckpointError, match=CHANGED):
        read_checkpoint(path)


def test_a_standalone_safetensors_read_refuses_a_rewrite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "best.safetensors"
    _classifier(path, seed=1)
    data = _other_version(tmp_path, ".safetensors")
    _rewrite_during(monkeypatch, safetensors_files, "_read_tensors", path, data)
    with pytest.raises(ChangedCheckpointError, match=CHANGED):
        safetensors_files.read_safetensors(path)


def test_a_card_rewritten_while_read_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "best.safetensors"
    _classifier(path, seed=1)
    card = tmp_path / "best.card.json"
    card.write_text('{"file": "best.safetensors"}')
    _rewrite_during(monkeypatch, cards, "_read_head", card, b'{"file": "other.safetensors"}')
    with pytest.raises(ChangedCheckpointError) as err:
        read_checkpoint(path)
    assert str(err.value) == f"{card}: {CHANGED}"


def test_a_file_rewritten_while_hashed_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The SHA-256 a run records of its --init or --tokenizer file (backbone_used,
    tokenizer_used) was of no version of the file."""
    path = tmp_path / "model.pt"
    _classifier(path, seed=1)
    expected = cards.file_sha256(path)
    _rewrite_during(monkeypatch, cards, "_sha256", path, _other_version(tmp_path, ".pt"))
    with pytest.raises(ChangedCheckpointError, match=CHANGED):
        cards.file_sha256(path)
    monkeypatch.undo()
    assert cards.file_sha256(path) != expected  # (the writer's version, hashed whole)


def test_resume_from_a_last_pt_rewritten_while_read_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not "truncated or corrupt ... the previous checkpoint may be intact": nothing is wrong
    with the file the writer leaves."""
    path = tmp_path / "last.pt"
    _classifier(path, seed=1)
    (tmp_path / "previous.pt").write_bytes(path.read_bytes())
    _rewrite_during(monkeypatch, safe_read, "_check_crcs", path, path.read_bytes()[:1000])
    with pytest.raises(ResumeError) as err:
        load_checkpoint(path)
    assert str(err.value) == f"cannot resume: {path}: {CHANGED}"


def test_the_command_line_says_it_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "best.pt"
    _classifier(path, seed=1)
    _rewrite_during(monkeypatch, safe_read, "_check_crcs", path, _other_version(tmp_path, ".pt"))
    result = CliRunner().invoke(labram_cli, ["export", str(path), "--out", str(tmp_path / "e")])
    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines() == [f"error: {path}: {CHANGED}"]
    assert not (tmp_path / "e").exists()


# -- the settings and run files labram reads (splits.json, config.json) -----------------------


class _RewrittenOnRead:
    """A file object whose first read rewrites its file in place first (a writer saving it
    while it is read)."""

    def __init__(self, fh: Any, path: Path, data: bytes) -> None:
        self._fh, self._path, self._data = fh, path, data

    def read(self, n: int = -1) -> bytes:
        with open(self._path, "r+b") as w:
            w.truncate(0)
            w.write(self._data)
        return bytes(self._fh.read(n))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._fh, name)

    def __enter__(self) -> _RewrittenOnRead:
        return self

    def __exit__(self, *exc: object) -> None:
        self._fh.close()


def test_a_splits_file_rewritten_while_read_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every small file labram reads by name (--splits, a run's config.json, --config) goes
    through read_user_file: the start of one version and the end of another could parse."""
    from eegprep.base import user_files
    from eegprep.base.errors import UsageError
    from labram.data.protocols import read_splits

    path = tmp_path / "splits.json"
    path.write_text('{"format": "labram-splits", "folds": []}')
    os.utime(path, ns=(PAST_NS, PAST_NS))
    real = user_files.open_user_file

    def opened(*args: Any, **kwargs: Any) -> Any:
        return _RewrittenOnRead(real(*args, **kwargs), path, b'{"format": "labram-splits"}')

    monkeypatch.setattr(user_files, "open_user_file", opened)
    with pytest.raises(UsageError) as err:
        read_splits(path, None, None)  # type: ignore[arg-type]  # (refused before they count)
    assert str(err.value) == f"{path}: {CHANGED}"
