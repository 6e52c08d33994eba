"""A run folder holding, where the run keeps a folder of its own or writes a file, something
of the user's.

Before: a file, a FIFO or a link to nothing standing at ``seed0``, ``mem`` or ``fold0`` (where a
training command makes its folders) was an internal error (``FileExistsError``,
``NotADirectoryError``) after ``splits.json`` or ``config.json`` was written, which then made
the folder "hold a run already" (``labram pretrain`` trained its whole tokenizer stage first);
at ``tokenizer`` it read "cannot write into the run folder (File exists); make it writable".
And a folder holding the user's own ``results.md`` or ``command.txt`` (names no check looked
for) was taken for a new run's, and those files replaced.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from eegprep.base.errors import UsageError
from labram.train.run import LOCK_FILE
from tests.labram.cli_runs import one_error, run_labram, tuab_finetune
from tests.labram.test_run_guards import TINY, TOKENIZER_STAGE, _files


def _plant(path: Path, kind: str) -> None:
    """Something that is no folder at ``path``: a file, a FIFO or a link to nothing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "file":
        path.write_text("mine\n")
    elif kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to(path.parent / "nowhere")


SAYS = {"file": "a file, not a folder", "fifo": "a FIFO, not a folder",
        "link": "a link to nothing, not a folder"}  # fmt: skip


def _command(command: str, store: str, tuab: str) -> list[object]:
    if command == "finetune":
        return tuab_finetune(tuab, TINY)
    if command == "cross-subject":
        return [*tuab_finetune(tuab, TINY), "--protocol", "cross-subject", "--folds", "2"]
    return ["pretrain", "--store", store, *TINY, *TOKENIZER_STAGE]


CASES = [("pretrain", "mem"), ("pretrain", "tokenizer"), ("finetune", "seed0"),
         ("cross-subject", "fold0"), ("cross-subject", "fold1/seed0")]  # fmt: skip


@pytest.mark.parametrize("kind", sorted(SAYS))
@pytest.mark.parametrize(("command", "name"), CASES)
def test_no_folder_where_the_run_keeps_one_is_one_line_before_any_work(
    store: str, tuab: str, tmp_path: Path, command: str, name: str, kind: str
) -> None:
    out = tmp_path / "run"
    _plant(out / name, kind)
    before = sorted(str(p.relative_to(out)) for p in out.rglob("*"))
    code, output = run_labram(*_command(command, store, tuab), "--out", out)
    one_error(code, output, f"{out / name}: {SAYS[kind]}", "move it away", "another --out")
    assert "trained" not in output and "codebook" not in output, output  # no stage ran
    after = sorted(str(p.relative_to(out)) for p in out.rglob("*"))
    assert [p for p in after if p != LOCK_FILE] == before  # (the lock file marks no run)


def test_a_resumed_run_whose_seed_folder_became_a_file_is_one_line(
    tuab: str, tmp_path: Path
) -> None:
    out = tmp_path / "ft"
    args = [*tuab_finetune(tuab, TINY), "--out", out]
    code, output = run_labram(*args)
    assert code == 0, output
    shutil.rmtree(out / "seed0")
    (out / "seed0").write_text("mine\n")
    before = _files(out)
    one_error(*run_labram(*args, "--resume"), f"{out / 'seed0'}: a file, not a folder")
    assert _files(out) == before


OWN_FILES = ["command.txt", "results.md", "curves.png", "metrics.json", "predictions.csv",
             "seed0/metrics.json", "mem/curves.png"]  # fmt: skip
"""Names a training command writes in its run folder that no check looked for."""


@pytest.mark.parametrize("command", ["tokenizer", "finetune"])
@pytest.mark.parametrize("name", OWN_FILES)
def test_a_folder_holding_a_file_a_run_writes_is_not_taken_for_a_new_run(
    store: str, tuab: str, tmp_path: Path, command: str, name: str
) -> None:
    out = tmp_path / "mine"
    (out / name).parent.mkdir(parents=True, exist_ok=True)
    (out / name).write_text("my own notes\n")
    args = tuab_finetune(tuab, TINY) if command == "finetune" else ["tokenizer", "--store", store,
                                                                    *TINY]  # fmt: skip
    one_error(*run_labram(*args, "--out", out), f"{out}: holds a run already ({name})")
    assert _files(out) == {name: b"my own notes\n"}


def test_the_run_lock_reads_no_deeper_than_a_run_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lock listed every file under ``--out`` to undo a refused command's own: ``--out .``
    in a folder of stores and corpora walked each of their files (140,000 entries of /usr:
    5.7 s, every path kept in memory). A run writes three levels down at most
    (``fold0/seed0/best.pt``); what lies deeper is never its own."""
    from labram.train import run

    out = tmp_path / "data"
    (out / "a" / "b" / "c" / "d").mkdir(parents=True)
    (out / "a" / "b" / "c" / "d" / "deep.bin").write_bytes(b"x")
    walked: list[str] = []
    real = os.walk

    def walk(top: str, *args: object, **kw: object):  # type: ignore[no-untyped-def]
        for item in real(top, *args, **kw):  # type: ignore[arg-type]
            walked.append(os.path.relpath(item[0], out))
            yield item

    monkeypatch.setattr(os, "walk", walk)
    with run.run_lock(out):
        (out / "seed0").mkdir()
        (out / "seed0" / "config.json").write_text("{}")
    assert walked and max(p.count(os.sep) + (p != ".") for p in walked) <= 2, walked
    with pytest.raises(UsageError), run.run_lock(out):
        (out / "fold0" / "seed0").mkdir(parents=True)
        (out / "fold0" / "seed0" / "config.json").write_text("{}")
        raise UsageError("refused")
    assert not (out / "fold0").exists()  # (what the refused command made, three levels down)
    assert (out / "a" / "b" / "c" / "d" / "deep.bin").read_bytes() == b"x"


def test_a_folder_at_the_lock_file_s_name_is_named_so(store: str, tmp_path: Path) -> None:
    """It read "cannot write into the run folder (Is a directory); make it writable", of a
    folder that was writable."""
    out = tmp_path / "run"
    (out / LOCK_FILE).mkdir(parents=True)
    code, output = run_labram("tokenizer", "--store", store, *TINY, "--out", out)
    one_error(code, output, f"its {LOCK_FILE} is a folder, not a lock file", "move that folder")
    assert "make it writable" not in output
    assert sorted(p.name for p in out.iterdir()) == [LOCK_FILE]
