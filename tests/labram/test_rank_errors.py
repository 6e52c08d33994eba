"""Promise: under torchrun, an error every rank raises alike is printed once, by rank 0.

A training run that stops because too many of its windows cannot be read stops on every rank
at the same step with the same line (:mod:`labram.train.unreadable_ranks`), and every rank
printed that line: N copies of one error for N processes. The ranks run here one after
another, as torchrun would start them (``RANK`` set, no process group: nothing to wait on),
through the command line: rank 0 prints the line, the others exit with the same status and
print nothing. An error a rank may raise alone is still printed by whichever rank raises it.
"""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from eegprep.base.errors import StoreFormatError
from eegprep.cli_group import OneLineErrors
from labram.data.finite_windows import check_finite_splits
from labram.data.unreadable import UnreadableError
from labram.data.windows import WindowConfig, build_pretrain_index
from tests.labram.test_unreadable_windows import BAD, TINY, _flip_chunk, _flipped
from tests.labram.training_stores import write_pretrain_store

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # numcodecs' zarr3 codecs


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
    exc = StoreFormatError("s.zarr: the same line on every rank")
    exc.every_rank = every_rank
    res = CliRunner().invoke(_group(exc), ["stop"])
    assert res.exit_code == 2
    said = rank == "0" or not every_rank  # a rank's own error is printed by that rank
    assert res.output == ("error: s.zarr: the same line on every rank\n" if said else "")
