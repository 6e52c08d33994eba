"""``MASTER_ADDR`` and ``MASTER_PORT`` (torchrun's, read by torch's ``env://`` rendezvous) set
to values no process group can meet at.

Before: an internal error from torch (``invalid literal for int()``, ``port must have value
from 0 to 65535``, ``MASTER_PORT expected, but not set``) after the run folder was made, and
``MASTER_PORT=0`` or ``MASTER_PORT=٥`` (read by torch's ``int`` as 5) waited for the other
ranks for ever, deaf to Ctrl-C and SIGTERM (those two are checked without a process group).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from eegprep.base.errors import UsageError
from tests.labram.cli_runs import one_error, run_labram
from tests.labram.test_run_guards import TINY

PORTS = ["", "  ", "nan", "-1", "0", "70000", "\u0665", "5x", "x" * 5000]
"""Values of MASTER_PORT no rank can meet at (``\\u0665``: an Arabic-Indic digit 5)."""


@pytest.fixture
def two_ranks(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """This process as rank 0 of 2, its rendezvous at localhost:29555 (never reached here)."""
    for name, value in (("WORLD_SIZE", "2"), ("RANK", "0"), ("LOCAL_RANK", "0"),
                        ("MASTER_ADDR", "localhost"), ("MASTER_PORT", "29555")):  # fmt: skip
        monkeypatch.setenv(name, value)
    return monkeypatch


@pytest.mark.parametrize("port", PORTS)
def test_a_port_no_rank_can_meet_at_is_refused(two_ranks: pytest.MonkeyPatch, port: str) -> None:
    from labram.train.distributed import check_rendezvous

    two_ranks.setenv("MASTER_PORT", port)
    with pytest.raises(UsageError, match=r"MASTER_PORT=.* from 1 to 65535") as err:
        check_rendezvous()
    assert len(str(err.value)) < 300 and "\n" not in str(err.value)


@pytest.mark.parametrize("addr", [None, "", "   "])
def test_no_master_address_is_refused(two_ranks: pytest.MonkeyPatch, addr: str | None) -> None:
    from labram.train.distributed import check_rendezvous

    if addr is None:
        two_ranks.delenv("MASTER_ADDR")
    else:
        two_ranks.setenv("MASTER_ADDR", addr)
    with pytest.raises(UsageError, match=r"MASTER_ADDR is (not set|empty)"):
        check_rendezvous()


def test_a_port_torchrun_gives_passes(two_ranks: pytest.MonkeyPatch) -> None:
    from labram.train.distributed import check_rendezvous

    for port in ("29500", " 1 ", "65535"):
        two_ranks.setenv("MASTER_PORT", port)
        check_rendezvous()


FAILING = [("MASTER_PORT", "nan"), ("MASTER_PORT", "70000"), ("MASTER_PORT", ""),
           ("MASTER_ADDR", None)]  # fmt: skip
"""Values torch refused as an internal error (none of them waits for the other ranks)."""


@pytest.mark.parametrize(("name", "value"), FAILING)
@pytest.mark.parametrize("command", ["evaluate", "tokenizer"])
def test_a_command_says_it_in_one_line_and_leaves_nothing(
    two_ranks: pytest.MonkeyPatch,
    store: str,
    tuab: str,
    sound: Path,
    tmp_path: Path,
    command: str,
    name: str,
    value: str | None,
) -> None:
    if value is None:
        two_ranks.delenv(name)
    else:
        two_ranks.setenv(name, value)
    out = tmp_path / "run"
    if command == "evaluate":
        args = ["evaluate", "--store", tuab, "--task", "tuab", "--checkpoint", sound,
                "--device", "cpu"]  # fmt: skip
    else:
        args = ["tokenizer", "--store", store, *TINY, "--out", out]
    one_error(*run_labram(*args), f"{name} is" if value is None else f"{name}={value!r}")
    assert not out.exists()
