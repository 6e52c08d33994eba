"""Promise: under torchrun, an error every rank raises alike is printed once, by rank 0.

A training run that stops because too many of its windows cannot be read stops on every rank
at the same step with the same line (:mod:`labram.train.unreadable_ranks`), and every rank
printed that line: N copies of one error for N processes. The ranks run here one after
another, as torchrun would start them (``RANK`` set, no process group: nothing to wait on),
through the command line: rank 0 prints the line, the others exit with the same status and
print nothing. An error a rank may raise alone is still printed by whichever rank raises it.
"""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from eegprep.base.errors import StoreFormatError
from eegprep.base.ranks import printing_rank_ended
from eegprep.cli_group import OneLineErrors
from labram.data.finite_windows import check_finite_splits
from labram.data.unreadable import UnreadableError
from labram.data.windows import WindowConfig, build_pretrain_index
from tests.labram.test_unreadable_windows import BAD, TINY, _flip_chunk, _flipped
from tests.labram.training_stores import write_pretrain_store

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # numcodecs' zarr3 codecs


@pytest.fixture(autouse=True)
def _torchrun_ends_the_silent_ranks(monkeypatch: pytest.MonkeyPatch) -> None:
    """The ranks here run one after another, with no torchrun to end a silent one once the
    printing one has exited: its wait (``printing_rank_ended``) ends at once, as torchrun's
    SIGTERM would end it."""
    monkeypatch.setattr("eegprep.base.ranks.printing_rank_ended", lambda seconds=0.0: True)


@pytest.fixture(scope="module")
def damaged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three quantized 130-s recordings, 12 of :data:`BAD`'s windows unreadable (15%)."""
    return _flipped(tmp_path_factory.mktemp("rank_errors") / "s.zarr", 3, 130, chunk=1)


def test_a_run_stopped_for_unreadable_windows_is_said_by_rank_0_alone(
    damaged: Path, tmp_path: Path
) -> None:
    """Two ranks under torchrun stop at one step with one line: printed once, by rank 0."""
    from tests.labram.test_torchrun import _torchrun

    out = tmp_path / "r"
    args = ["-m", "labram", "tokenizer", "--store", str(damaged), *TINY, "--out", str(out)]
    res = _torchrun(args, tmp_path)
    errors = [line for line in res.stderr.splitlines() if "error:" in line]
    assert res.returncode != 0, res.stderr[-3000:]
    assert len(errors) == 1, res.stderr[-3000:]
    assert "more than 1%" in errors[0] and BAD in errors[0], res.stderr[-3000:]


def test_the_check_before_training_is_every_rank_s_alike(tmp_path: Path) -> None:
    """Every rank checks every window before training (``check_finite_splits``): what it
    refuses, it refuses on every rank alike (here a scored split's unreadable chunk, in a
    float32 store: read before training), so its line too is the main rank's alone."""
    store = tmp_path / "s.zarr"
    write_pretrain_store(store, n_subjects=3, seconds=130)
    _flip_chunk(store, BAD, 1)
    index = build_pretrain_index([str(store)], WindowConfig(token_budget=40, max_channels=8))
    with pytest.raises(UnreadableError, match=BAD) as caught:
        check_finite_splits({"val": index}, what="labram finetune")
    assert caught.value.every_rank


def test_the_scoring_of_a_split_is_every_rank_s_alike(damaged: Path) -> None:
    """Fine-tuning scores the validation and test splits on every rank over every window:
    where it stops, it stops on every rank with one line, printed by the main rank."""
    import torch

    from labram.stages.scoring import predict

    index = build_pretrain_index([str(damaged)], WindowConfig(token_budget=40, max_channels=8))
    with pytest.raises(UnreadableError, match=BAD) as caught:
        predict(torch.nn.Identity(), index, batch_size=len(index), device=torch.device("cpu"),
                where=" of the test split")  # fmt: skip
    assert caught.value.every_rank


def _group(exc: Exception) -> click.Group:
    @click.group(cls=OneLineErrors)
    def group() -> None:
        pass

    @group.command()
    def stop() -> None:
        raise exc

    return group


@pytest.mark.parametrize("every_rank", [True, False])
@pytest.mark.parametrize("rank", ["0", "1"])
def test_the_command_line_prints_an_every_rank_error_on_rank_0_alone(
    monkeypatch: pytest.MonkeyPatch, every_rank: bool, rank: str
) -> None:
    from click.testing import CliRunner

    monkeypatch.setenv("RANK", rank)
    monkeypatch.setenv("WORLD_SIZE", "2")
    exc = StoreFormatError("s.zarr: the same line on every rank")
    exc.every_rank = every_rank
    res = CliRunner().invoke(_group(exc), ["stop"])
    assert res.exit_code == 2
    said = rank == "0" or not every_rank  # a rank's own error is printed by that rank
    assert res.output == ("error: s.zarr: the same line on every rank\n" if said else "")


@pytest.fixture
def before_own_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """This process has begun no rank's own work (a training test before may have)."""
    monkeypatch.setattr("eegprep.base.ranks._OWN_WORK", [False])


def _refusals(root: Path) -> dict[str, list[str]]:
    """Command lines each refused before any rank's own work: by every process alike."""
    store = root / "s.zarr"
    write_pretrain_store(store, n_subjects=3, seconds=60)
    bad = root / "bad.zarr"
    bad.mkdir()
    (bad / "zarr.json").write_text("{", encoding="utf-8")
    not_pt = root / "x.pt"
    not_pt.write_bytes(b"not a checkpoint")
    tiny = ["--size", "tiny"]
    return {
        "a bad flag": ["pretrain", "--store", str(store), "--size", "bogus"],
        "a missing store": ["tokenizer", "--store", str(root / "none.zarr"), *tiny],
        "a damaged store": ["tokenizer", "--store", str(bad), *tiny, "--out", str(root / "o")],
        "a refused --init": [
            "finetune",
            "--store",
            str(store),
            "--task",
            "tuab",
            "--init",
            str(not_pt),
            *tiny,
            "--out",
            str(root / "f"),
        ],
        "a task with no windows": [
            "finetune",
            "--store",
            str(store),
            "--task",
            "tuab",
            *tiny,
            "--out",
            str(root / "g"),
        ],
        "a refused checkpoint": [
            "evaluate",
            "--store",
            str(store),
            "--task",
            "tuab",
            "--checkpoint",
            str(not_pt),
        ],
        "an unknown embed flag": ["embed", "--store", str(store), "--bogus"],
    }


@pytest.mark.usefixtures("before_own_work")
def test_an_error_before_the_ranks_own_work_is_printed_once_per_machine(tmp_path: Path) -> None:
    """Two machines of two processes each, run one after another as torchrun would start
    them: what every process refuses alike before its own share of the work (a bad flag, a
    missing or damaged store, a refused checkpoint, a task with no windows) is printed by the
    first process of each machine (``LOCAL_RANK`` 0), the others exiting with the same status
    in silence. Before, each of the four printed it."""
    from click.testing import CliRunner

    from labram.commands import labram_cli

    for name, args in _refusals(tmp_path).items():
        lines, codes = [], set()
        for rank in range(4):
            env = {"RANK": str(rank), "LOCAL_RANK": str(rank % 2), "WORLD_SIZE": "4"}
            res = CliRunner().invoke(labram_cli, args, env=env)
            codes.add(res.exit_code)
            said = [line for line in res.output.splitlines() if line.startswith("error:")]
            assert len(said) == (1 if rank % 2 == 0 else 0), (name, rank, res.output)
            lines += said
        assert codes == {2}, (name, codes)
        assert lines[0] == lines[1], name  # the same line on each machine


@pytest.mark.usefixtures("before_own_work")
@pytest.mark.parametrize("began", [False, True])
def test_an_error_of_a_rank_s_own_work_is_printed_by_that_rank(
    monkeypatch: pytest.MonkeyPatch, began: bool
) -> None:
    """Once a process works on its own share (its training loop, its windows to embed), an
    error it raises may be its own alone: rank 1 prints it (were it silent, the line would be
    lost: rank 0 may not raise it). An every-rank decision stays rank 0's."""
    from click.testing import CliRunner

    from eegprep.base.ranks import begin_own_work

    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("LOCAL_RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "2")
    exc = StoreFormatError("s.zarr: chunk 3 of rank 1's windows cannot be read")

    @click.group(cls=OneLineErrors)
    def group() -> None:
        pass

    @group.command()
    def stop() -> None:
        if began:
            begin_own_work()
        raise exc

    res = CliRunner().invoke(group, ["stop"])
    assert res.exit_code == 2
    assert res.output == (f"error: {exc}\n" if began else "")
    exc.every_rank = True
    assert CliRunner().invoke(group, ["stop"]).output == ""


def test_the_training_loop_and_embedding_begin_the_rank_s_own_work() -> None:
    """The places each rank starts on its own windows say so (a refactor that drops the call
    would silence a rank's own errors on the other ranks)."""
    import inspect

    from labram.stages import embed
    from labram.train import loop

    assert "begin_own_work()" in inspect.getsource(loop.train)
    assert "begin_own_work()" in inspect.getsource(embed)


def test_a_missing_store_under_torchrun_is_said_once(tmp_path: Path) -> None:
    """Two processes under torchrun on one machine, both refusing a store that is not there:
    one ``error:`` line (it was two)."""
    from tests.labram.test_torchrun import _torchrun

    missing = tmp_path / "none.zarr"
    args = ["-m", "labram", "tokenizer", "--store", str(missing), *TINY, "--out", str(tmp_path)]
    res = _torchrun(args, tmp_path)
    errors = [line for line in res.stderr.splitlines() if "error:" in line]
    assert res.returncode != 0, res.stderr[-3000:]
    assert len(errors) == 1 and "no eegprep store here" in errors[0], res.stderr[-3000:]


@pytest.mark.parametrize("every_rank", [True, False])
def test_a_process_alone_prints_its_errors_whatever_rank_a_shell_left(
    monkeypatch: pytest.MonkeyPatch, every_rank: bool
) -> None:
    """``RANK=1`` left set in a shell, no ``WORLD_SIZE``: the process is alone, the main one
    of its run; its errors are printed (an every-rank error was silent: exit 2, no line)."""
    from click.testing import CliRunner

    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("LOCAL_RANK", "1")
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    exc = StoreFormatError("s.zarr: said by the process alone")
    exc.every_rank = every_rank
    res = CliRunner().invoke(_group(exc), ["stop"])
    assert (res.exit_code, res.output) == (2, "error: s.zarr: said by the process alone\n")


def test_a_process_alone_guards_its_run_folder_whatever_rank_a_shell_left(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A stray ``RANK=1`` without ``WORLD_SIZE`` made a lone process skip the check of its
    ``--out`` (rank 0's job under torchrun): a second command replaced a finished run."""
    from eegprep.base.errors import UsageError
    from labram.train.run import check_run_folder

    (tmp_path / "last.pt").write_bytes(b"a finished run's checkpoint")
    monkeypatch.setenv("RANK", "1")
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    with pytest.raises(UsageError, match="holds a run already"):
        check_run_folder(tmp_path, resume=False)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"WORLD_SIZE": "two"}, "WORLD_SIZE='two' is not a whole number"),
        ({"WORLD_SIZE": "0"}, "WORLD_SIZE=0 is below 1"),
        ({"WORLD_SIZE": "2", "RANK": "x1"}, "RANK='x1' is not a whole number"),
        ({"WORLD_SIZE": "2", "RANK": "--1"}, "RANK='--1' is not a whole number"),
        ({"WORLD_SIZE": "2", "RANK": "2"}, "RANK=2 is outside 0 to 1"),
        ({"WORLD_SIZE": "2", "RANK": "-1"}, "RANK=-1 is outside 0 to 1"),
        ({"WORLD_SIZE": "2", "RANK": "1", "LOCAL_RANK": "1.5"}, "LOCAL_RANK='1.5' is not"),
        ({"WORLD_SIZE": "2", "RANK": "1", "LOCAL_RANK": "-1"}, "LOCAL_RANK=-1 is negative"),
    ],
)
def test_torchrun_variables_that_name_no_process_are_one_line(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], named: str
) -> None:
    """Each training command reads torchrun's variables through one function; one that names
    no process of a run is one line naming it (``int()``'s ValueError escaped as a traceback,
    or a RANK past WORLD_SIZE ran as no rank of the run)."""
    from eegprep.base.errors import UsageError
    from labram.train.distributed import setup

    for name in ("RANK", "LOCAL_RANK", "WORLD_SIZE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(UsageError, match=re.escape(named)):
        setup("cpu")


def test_a_malformed_world_size_is_one_line_on_the_command_line(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from labram.commands import labram_cli

    store = tmp_path / "s.zarr"
    write_pretrain_store(store, n_subjects=2, seconds=40)
    args = ["tokenizer", "--store", str(store), *TINY, "--out", str(tmp_path / "o")]
    res = CliRunner().invoke(labram_cli, args, env={"WORLD_SIZE": "2x", "RANK": "0"})
    assert res.exit_code == 2, res.output
    assert res.output.splitlines()[-1].startswith("error: WORLD_SIZE='2x' is not a whole number")
    assert "Traceback" not in res.output


@pytest.mark.usefixtures("before_own_work")
def test_each_seed_s_checks_are_every_rank_s_again() -> None:
    """A fine-tune of several folds or seeds: once the first had trained, an error before the
    next one's training (every rank's alike) was printed by every rank. Each seed starts
    with the ranks' shared checks again."""
    from eegprep.base.errors import UsageError
    from eegprep.base.ranks import begin_own_work, own_work_began
    from labram.stages import finetune

    begin_own_work()  # the seed before trained
    with pytest.raises(UsageError, match="--device"):
        finetune._one_seed(None, {}, None, None, Path("x"), False, "bogus", backbone={}, pin=None)  # type: ignore[arg-type]
    assert not own_work_began()


def test_a_silent_rank_says_the_line_itself_when_nothing_ends_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A rank that leaves an every-rank line to rank 0 waits for torchrun to end it; if
    nothing does (rank 0 never said it), the line is said by that rank after all, not lost."""
    from click.testing import CliRunner

    monkeypatch.setattr("eegprep.base.ranks.printing_rank_ended", lambda seconds=0.0: False)
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "2")
    exc = StoreFormatError("s.zarr: the same line on every rank")
    exc.every_rank = True
    res = CliRunner().invoke(_group(exc), ["stop"])
    assert (res.exit_code, res.output) == (2, "error: s.zarr: the same line on every rank\n")


def test_the_wait_for_the_printing_rank_ends_on_a_signal_or_in_time() -> None:
    """``printing_rank_ended``: a SIGTERM during the wait ends it (``True``: its time, 600 s,
    is not up); with no signal it returns ``False`` once its time is up; the signals' handlers
    are as before. The SIGTERM is sent once the wait's handler is in place, not after a fixed
    0.2 s: on a loaded machine that came before it, and killed the test process."""
    import os
    import signal
    import threading
    import time

    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    stop = threading.Event()

    def terminate_once_waiting() -> None:
        deadline = time.monotonic() + 60
        while signal.getsignal(signal.SIGTERM) == before[signal.SIGTERM]:
            if stop.wait(0.01) or time.monotonic() > deadline:
                return
        os.kill(os.getpid(), signal.SIGTERM)

    sender = threading.Thread(target=terminate_once_waiting, daemon=True)
    sender.start()
    try:  # (the module's own, not the fixture's stand-in)
        assert printing_rank_ended(600.0) is True
    finally:
        stop.set()
        sender.join(60)
    assert printing_rank_ended(0.05) is False
    assert {s: signal.getsignal(s) for s in before} == before


@pytest.mark.parametrize(("local", "said"), [("0", True), ("1", False)])
@pytest.mark.parametrize("signal_name", ["SIGINT", "SIGTERM"])
def test_a_signal_s_stop_line_is_the_first_process_s_of_a_machine(
    monkeypatch: pytest.MonkeyPatch, local: str, said: bool, signal_name: str
) -> None:
    """torchrun passes a Ctrl-C or SIGTERM to each of its processes, and ends the others with
    SIGTERM when one exits on an error: the "stopped" line is said by ``LOCAL_RANK`` 0 alone
    (each process said it; a process ended because another refused its store said "stopped
    (SIGTERM): run the same command with --resume" below that refusal). Status as before."""
    from click.testing import CliRunner

    from eegprep.cli_group import EXIT_INTERRUPTED, EXIT_TERMINATED, Terminated

    monkeypatch.setenv("RANK", local)
    monkeypatch.setenv("LOCAL_RANK", local)
    monkeypatch.setenv("WORLD_SIZE", "2")
    exc = KeyboardInterrupt() if signal_name == "SIGINT" else Terminated("SIGTERM")
    res = CliRunner().invoke(_group(exc), ["stop"])
    status = EXIT_INTERRUPTED if signal_name == "SIGINT" else EXIT_TERMINATED
    line = "interrupted (Ctrl-C)" if signal_name == "SIGINT" else "stopped (SIGTERM)"
    assert (res.exit_code, res.output) == (status, f"error: {line}\n" if said else "")


ALIKE_SCRIPT = """
import os, sys, time
import click
from eegprep.base.errors import StoreFormatError
from eegprep.cli_group import OneLineErrors

@click.group(cls=OneLineErrors)
def group():
    pass

@group.command()
def stop():
    if os.environ["LOCAL_RANK"] == sys.argv[1]:
        time.sleep(8)  # this process comes to the refusal late (a loaded machine's seconds)
    raise StoreFormatError("s.zarr: refused alike by every process")

group(["stop"])
"""


@pytest.mark.parametrize("late", ["0", "1"])
def test_an_alike_error_under_torchrun_is_said_once_whichever_process_comes_first(
    tmp_path: Path, late: str
) -> None:
    """Two processes under torchrun refuse alike, one of them 8 s after the other: the
    refusal is said once, and nothing else. Rank 1 first: it exited in silence and torchrun
    stopped rank 0 before it said anything (a bare "stopped (SIGTERM)" line); rank 0 first:
    rank 1, stopped by torchrun, said "stopped (SIGTERM)" below the refusal. 8 s: processes
    started together come to one refusal seconds apart on a loaded machine; rank 1's wait of
    5 s ran out first, and it said the line, then rank 0 "stopped (SIGTERM)"."""
    from tests.labram.test_torchrun import _torchrun

    script = tmp_path / "alike.py"
    script.write_text(ALIKE_SCRIPT, encoding="utf-8")
    res = _torchrun([str(script), late], tmp_path)
    errors = [line for line in res.stderr.splitlines() if "error:" in line]
    assert res.returncode != 0, res.stderr[-3000:]
    assert errors == ["error: s.zarr: refused alike by every process"], res.stderr[-3000:]
