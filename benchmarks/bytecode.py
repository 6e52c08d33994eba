"""Compile eegprep's and labram's bytecode before timing fresh processes.

A fresh process imports ~100 of the project's modules. Where Python may not write bytecode
(``PYTHONDONTWRITEBYTECODE``, set on this project's machines) or the checkout's ``__pycache__``
is stale (a fresh clone has none; an editable install writes none), every run compiles each
module again: ~0.1 CPU s that a user, whose first run (or ``pip install``) leaves the bytecode,
does not pay twice. The start-up and cold-ingest benchmarks call :func:`compile_project` first,
as ``pip install`` does, and say so.
"""

from __future__ import annotations

import compileall
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def compile_project() -> None:
    """Write current bytecode for the project's packages and ``cli.py`` (quietly)."""
    for name in ("eegprep", "labram"):
        compileall.compile_dir(ROOT / name, quiet=1)
    compileall.compile_file(ROOT / "cli.py", quiet=1)
