"""OPENBLAS_NUM_THREADS as the ``eegprep`` command leaves it (eegprep/_console.py): 1, unless
the user set a count OpenBLAS takes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CODE = (
    "import os, sys; sys.argv = ['eegprep', '--version']; import eegprep._console as c\n"
    "try:\n    c.eegprep_main()\nexcept SystemExit:\n    pass\n"
    "print(repr(os.environ.get('OPENBLAS_NUM_THREADS')), file=sys.stderr)"
)


def _seen(value: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    if value is not None:
        env["OPENBLAS_NUM_THREADS"] = value
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, env=env,
                         cwd=ROOT, timeout=120)  # fmt: skip
    return out.stderr.strip().splitlines()[-1]


@pytest.mark.parametrize("value", [None, "", " ", "0", "-2", "auto", "nan", "\u0663", "1e3"])
def test_a_count_openblas_would_not_take_is_one_thread(value: str | None) -> None:
    """Was: an empty value, 0 or no number was kept, and OpenBLAS started a thread per core."""
    assert _seen(value) == "'1'"


@pytest.mark.parametrize("value", ["1", "4", " 8 "])
def test_a_users_own_count_is_kept(value: str) -> None:
    assert _seen(value) == repr(value)
