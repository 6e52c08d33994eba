"""A masked-modelling run records the tokenizer checkpoint that gave its targets (path as
given, SHA-256, the tokenizer's config) in its config.json, its checkpoints, an export's cards
and `labram report`; `--resume` refuses, in one line, a tokenizer file that changed and a
`--tokenizer` that names another file (labram/stages/tokenizer_used.py)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest

from labram.checkpoints.safe_read import read_checkpoint
from tests.labram.cli_runs import one_error, run_labram
from tests.labram.test_run_guards import TINY, TOKENIZER_STAGE

KEY = "tokenizer_used"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def tokenizers(store: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two tokenizers of the same size trained with other seeds: other bytes, other codes."""
    root = tmp_path_factory.mktemp("tok")
    made = []
    for seed in ("0", "1"):
        out = root / f"run{seed}"
        code, output = run_labram("tokenizer", "--store", store, *TINY, "--seed", seed,
                                  "--out", out)  # fmt: skip
        assert code == 0, output
        made.append(out / "tokenizer.pt")
    assert _sha256(made[0]) != _sha256(made[1])
    return made[0], made[1]


def test_a_given_tokenizer_is_recorded_everywhere_the_model_is_described(
    store: str, tokenizers: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tok = tmp_path / "tok.pt"
    shutil.copy(tokenizers[0], tok)
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "pt"
    code, output = run_labram("pretrain", "--store", store, *TINY, "--tokenizer", "tok.pt",
                              "--out", out)  # fmt: skip
    assert code == 0, output
    rec = json.loads((out / "config.json").read_text())[KEY]
    assert rec["path"] == "tok.pt" and rec["resolved"] == str(tok.resolve())
    assert rec["sha256"] == _sha256(tok) and rec["trained_by_run"] is False
    assert rec["config"] == read_checkpoint(tok)["config"]  # the tokenizer's own
    assert read_checkpoint(out / "mem" / "model.pt")[KEY] == rec
    assert read_checkpoint(out / "mem" / "last.pt")["extra"][KEY] == rec
    code, output = run_labram(
        "export", out / "mem" / "model.pt", "--out", tmp_path / "m.safetensors"
    )
    assert code == 0, output
    assert f"tokenizer (targets): tok.pt (--tokenizer), SHA-256 {rec['sha256'][:16]}" in output
    assert json.loads((tmp_path / "m.card.json").read_text())[KEY] == rec
    card = (tmp_path / "m.card.md").read_text()
    assert f"| tokenizer (targets) | tok.pt (--tokenizer), SHA-256 {rec['sha256'][:16]}" in card
    exported = read_checkpoint(tmp_path / "m.safetensors")  # its metadata: re-exported too
    assert exported[KEY] == rec
    code, output = run_labram("report", out)
    assert code == 0, output
    assert f"tokenizer (targets): tok.pt (--tokenizer), SHA-256 {rec['sha256'][:16]}" in output
    code, output = run_labram("report", out, "--html", tmp_path / "r.html")
    assert code == 0, output
    assert f"SHA-256 {rec['sha256'][:16]}" in (tmp_path / "r.html").read_text()


def test_resume_refuses_a_changed_or_other_tokenizer(
    store: str, tokenizers: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tok, other = tmp_path / "tok.pt", tmp_path / "other.pt"
    shutil.copy(tokenizers[0], tok)
    shutil.copy(tokenizers[1], other)
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "pt"
    code, output = run_labram("pretrain", "--store", store, *TINY, "--tokenizer", "tok.pt",
                              "--out", out)  # fmt: skip
    assert code == 0, output
    before = (out / "config.json").read_bytes()

    def resume(*tokenizer: object) -> tuple[int, str]:
        return run_labram("pretrain", "--store", store, *TINY, *tokenizer, "--out", out,
                          "--resume", "--max-steps", "3")  # fmt: skip

    one_error(*resume("--tokenizer", other), f"cannot resume {out}", "--tokenizer tok.pt",
              f"--tokenizer {other} is another file")  # fmt: skip
    one_error(*resume(), "--tokenizer tok.pt; without --tokenizer a new tokenizer would be trained")
    shutil.copy(other, tok)  # the same path, other bytes
    one_error(*resume("--tokenizer", "tok.pt"), "the tokenizer tok.pt changed since the run began",
              "SHA-256")  # fmt: skip
    assert (out / "config.json").read_bytes() == before  # refused before anything is written
    shutil.copy(tokenizers[0], tok)  # put back: the same file, by other spellings, resumes
    os.symlink(tok, tmp_path / "link.pt")
    os.link(tok, tmp_path / "hard.pt")
    for spelling in ("./tok.pt", tmp_path / "link.pt", tmp_path / "hard.pt"):
        code, output = resume("--tokenizer", spelling)
        assert code == 0, output
    assert json.loads((out / "config.json").read_text())[KEY]["path"] == "tok.pt"


def test_a_tokenizer_the_run_trained_is_recorded_and_checked_on_resume(
    store: str, tokenizers: tuple[Path, Path], tmp_path: Path
) -> None:
    out = tmp_path / "pt"
    code, output = run_labram("pretrain", "--store", store, *TINY, *TOKENIZER_STAGE, "--out", out)
    assert code == 0, output
    made = out / "tokenizer" / "tokenizer.pt"
    rec = json.loads((out / "config.json").read_text())[KEY]
    assert rec["path"] == str(made) and rec["sha256"] == _sha256(made)
    assert rec["trained_by_run"] is True and rec["config"]["n_codes"] > 0
    assert read_checkpoint(out / "mem" / "model.pt")[KEY] == rec
    one_error(*run_labram("pretrain", "--store", store, *TINY, "--out", out, "--resume",
                          "--tokenizer", tokenizers[0]),
              "the tokenizer it trained", f"not --tokenizer {tokenizers[0]}")  # fmt: skip
    shutil.copy(tokenizers[1], made)  # replaced after the run recorded it
    one_error(*run_labram("pretrain", "--store", store, *TINY, *TOKENIZER_STAGE, "--out", out,
                          "--resume"),
              f"the tokenizer {made} changed since the run began")  # fmt: skip


def test_a_changed_tokenizer_is_refused_by_last_pt_when_config_json_is_lost(
    store: str, tokenizers: tuple[Path, Path], tmp_path: Path
) -> None:
    """Every mem/last.pt holds the record too: a run whose config.json was deleted still
    cannot resume with other targets."""
    tok = tmp_path / "tok.pt"
    shutil.copy(tokenizers[0], tok)
    out = tmp_path / "pt"
    code, output = run_labram("pretrain", "--store", store, *TINY, "--tokenizer", tok, "--out", out)
    assert code == 0, output
    (out / "config.json").unlink()
    shutil.copy(tokenizers[1], tok)
    one_error(*run_labram("pretrain", "--store", store, *TINY, "--tokenizer", tok, "--out", out,
                          "--resume", "--max-steps", "3"),
              f"the tokenizer {tok} changed since the run began")  # fmt: skip
