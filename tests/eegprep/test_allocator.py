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
