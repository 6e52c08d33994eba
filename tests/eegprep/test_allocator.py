"""eegprep.base.allocator: glibc's thresholds raised once per process, and the switch to turn it
off."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CODE = "from eegprep.base.allocator import reuse_freed_memory as r; print(r(), r())"


def _run(env_value: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "EEGPREP_MALLOC_TUNING"}
    if env_value is not None:
        env["EEGPREP_MALLOC_TUNING"] = env_value
    out = subprocess.run(
        [sys.executable, "-c", CODE], capture_output=True, text=True, check=True, env=env, cwd=ROOT
    )
    return out.stdout.strip()


@pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc only"
)
def test_thresholds_set_once_on_glibc():
    assert _run(None) == "True True"  # the second call is a no-op that still reports success


def test_switched_off_by_the_environment():
    assert _run("0") == "False False"


@pytest.mark.parametrize("value", ["false", "off", "No", " 0 ", "OFF"])
def test_every_word_for_off_turns_it_off(value: str) -> None:
    """Was: only ``0`` was off; ``false``, ``off``, ``no``, `` 0`` left it on, unsaid."""
    assert _run(value) == "False False"


@pytest.mark.parametrize("value", ["", "  ", "1", "yes", "True"])
@pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc only"
)
def test_unset_empty_or_on_leaves_it_on(value: str) -> None:
    assert _run(value) == "True True"


@pytest.mark.parametrize("value", ["2", "nan", "disable", "-1", "\u00a0x"])
def test_a_value_neither_on_nor_off_is_one_line_before_an_ingest(
    value: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Neither on nor off: one line naming the variable from the command, before any store is
    made (was: on, unsaid)."""
    from click.testing import CliRunner

    from cli import eegprep_cli

    src = tmp_path / "src"
    src.mkdir()
    monkeypatch.setenv("EEGPREP_MALLOC_TUNING", value)
    out = tmp_path / "s.zarr"
    res = CliRunner().invoke(eegprep_cli, ["ingest", "tuh", "--src", str(src), "--out", str(out)])
    assert res.exit_code == 2, res.output
    assert res.output == (
        f"error: EEGPREP_MALLOC_TUNING={value.strip()!r} is neither on nor off: set it to 1 (on: "
        "raise glibc's mmap and trim thresholds) or 0 (off), or unset it for on\n"
    )
    assert not out.exists()
