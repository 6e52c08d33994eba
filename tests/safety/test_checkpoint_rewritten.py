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
from labram.model.mem import LaBraMForMEM
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


# -- a file read by name in two passes: its entries, then its SHA-256 for the run's record ----


def test_an_init_replaced_between_its_read_and_its_hash_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """backbone_used recorded the SHA-256 of another file than the one whose entries (the
    tokenizer it records, its own backbone record) it recorded beside it."""
    from labram.stages import backbone_used

    path = tmp_path / "model.pt"
    _classifier(path, seed=1)
    other = tmp_path / "other.pt"
    _classifier(other, seed=7)
    real = backbone_used.file_sha256

    def hashed_after_replace(p: Any, **kwargs: Any) -> str:
        if other.exists():
            os.replace(other, path)  # (a run's next model.pt, an export with --force)
        return real(p, **kwargs)

    monkeypatch.setattr(backbone_used, "file_sha256", hashed_after_replace)
    with pytest.raises(ChangedCheckpointError) as err:
        backbone_used.read(path)
    assert str(err.value) == f"{path}: {CHANGED}"
    monkeypatch.undo()
    assert backbone_used.read(path)["sha256"] == cards.file_sha256(path)  # (unchanged: read)


def test_a_tokenizer_rewritten_between_its_read_and_its_hash_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from labram.model.config import tokenizer_config
    from labram.model.tokenizer import VQNSPTokenizer
    from labram.stages import pretrain, tokenizer_used

    path = tmp_path / "tokenizer.pt"
    torch.manual_seed(0)
    model = VQNSPTokenizer(tokenizer_config("tiny"))
    with torch.no_grad():
        model.quantizer.codebook.normal_()  # (a trained one's: no collapse warning)
    save_ours(model, path)
    os.utime(path, ns=(PAST_NS, PAST_NS))
    real = tokenizer_used.file_sha256

    def hashed_after_rewrite(p: Any, **kwargs: Any) -> str:
        with open(path, "r+b") as w:  # (in place: the same inode)
            w.seek(0, os.SEEK_END)
            w.write(b"\0")
        return real(p, **kwargs)

    monkeypatch.setattr(tokenizer_used, "file_sha256", hashed_after_rewrite)
    with pytest.raises(ChangedCheckpointError) as err:  # (the tokenizer is read first)
        pretrain._pretrain([], None, tmp_path / "run", None, path, [], False, "cpu")  # type: ignore[arg-type]
    assert str(err.value) == f"{path}: {CHANGED}"


# -- commands that read one checkpoint by name more than once -----------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The TUAB demo (1 subject) ingested, a fresh tiny masked model as --init, and a
    fine-tuning run from it (its seed0/last.pt: a training checkpoint)."""
    from eegprep.ingestion.driver import IngestConfig, ingest
    from eegprep.testing.demo_labelled import write_tuab_demo
    from labram.model.mem import LaBraMForMEM
    from tests.labram.cli_runs import run_labram, tuab_finetune
    from tests.labram.test_run_guards import TINY

    root = tmp_path_factory.mktemp("rewritten")
    src = write_tuab_demo(root / "demo", n_subjects=1, seed=0, minutes=0.5)
    store = root / "tuab.zarr"
    ingest("tuab", src=src, out=store, config=IngestConfig(workers=0, progress=False))
    torch.manual_seed(0)
    save_ours(LaBraMForMEM(model_config("tiny")), root / "model.pt")
    code, output = run_labram(*tuab_finetune(store, TINY),
                              "--init", root / "model.pt", "--out", root / "ft")  # fmt: skip
    assert code == 0, output
    return {"root": root, "store": store, "init": root / "model.pt", "ft": root / "ft"}


def _replaced_before(monkeypatch: pytest.MonkeyPatch, module: Any, name: str, path: Path) -> None:
    """Rename a copy of ``path`` over it (another file, the same bytes: only its name is the
    same) right before ``module.name`` runs, the first time."""
    import shutil

    other = path.with_name(f"other-{path.name}")
    shutil.copyfile(path, other)
    real = getattr(module, name)

    def replaced_first(*args: Any, **kwargs: Any) -> Any:
        if other.exists():
            os.replace(other, path)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, replaced_first)


def test_finetune_refuses_an_init_replaced_between_its_reads(
    demo: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """finetune reads --init by name once per step (its size, its subjects, its SHA-256 for
    the record, each seed's weights): a file renamed over it in between (a pre-training run
    writing its model.pt) was fine-tuned while the record and the subject check described the
    file first read."""
    from labram.stages import finetune
    from tests.labram.cli_runs import one_error, run_labram, tuab_finetune
    from tests.labram.test_run_guards import TINY

    init = tmp_path / "model.pt"
    torch.manual_seed(1)
    save_ours(LaBraMForMEM(model_config("tiny")), init)
    _replaced_before(monkeypatch, finetune, "setup", init)  # (the first thing a seed does)
    out = tmp_path / "ft"
    code, output = run_labram(
        *tuab_finetune(demo["store"], TINY),
        "--init",
        init,
        "--out",
        out,
    )
    one_error(code, output, f"{init}: {CHANGED}")
    assert not (out / "results.json").exists() and not (out / "seed0" / "best.pt").exists()


def test_embed_refuses_a_checkpoint_replaced_between_its_load_and_its_hash(
    demo: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The SHA-256 an embedding store records (and a resume matches) was of another file than
    the weights it embedded with."""
    import shutil

    from labram.stages import embed
    from tests.labram.cli_runs import one_error, run_labram

    checkpoint = tmp_path / "model.pt"
    shutil.copyfile(demo["init"], checkpoint)
    _replaced_before(monkeypatch, embed, "window_index", checkpoint)
    out = tmp_path / "emb.zarr"
    code, output = run_labram("embed", "--store", demo["store"], "--checkpoint", checkpoint,
                              "--out", out, "--device", "cpu")  # fmt: skip
    one_error(code, output, f"{checkpoint}: {CHANGED}")
    assert not out.exists()


def test_evaluate_refuses_a_last_pt_replaced_between_its_two_reads(
    demo: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A training last.pt is read for its subjects, task and fold, then again for its model:
    the subject check was of one file and the scores of another."""
    import shutil

    from labram.stages import evaluate
    from tests.labram.cli_runs import one_error, run_labram

    last = tmp_path / "last.pt"
    shutil.copyfile(demo["ft"] / "seed0" / "last.pt", last)
    _replaced_before(monkeypatch, evaluate, "check_split_leakage", last)
    code, output = run_labram("evaluate", "--store", demo["store"], "--task", "tuab",
                              "--checkpoint", last, "--device", "cpu")  # fmt: skip
    one_error(code, output, f"{last}: {CHANGED}")
