"""Tests run as on a clean machine, whatever the user running pytest has set (tests/conftest.py,
``no_user_settings``): a developer's ``EEGPREP_TUH_DIR``, config file, torchrun job or narrow
terminal made tests pass on one machine and fail on another."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# Run under the suite's conftest in a child pytest, the user's settings in its environment.
_INNER = """
import os
import shutil

import pytest

from eegprep.base.errors import ConfigError
from eegprep.corpus.folders import config_path, corpus_dir


def test_inner() -> None:
    from tests.conftest import HARNESS_VARIABLES

    # (the suite's own: its harness's, kept whatever CI sets of them, and the racy window it sets)
    own = {*HARNESS_VARIABLES, "EEGPREP_RACY_SECONDS"}
    leaked = sorted(n for n in os.environ if n.upper().startswith(("EEGPREP_", "LABRAM_"))
                    or n in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_PORT"))
    assert [n for n in leaked if n not in own] == [], leaked
    assert "EEGPREP_REAL_CACHE" in leaked  # set by the test below: the harness's stays
    assert not config_path().exists(), config_path()
    with pytest.raises(ConfigError):
        corpus_dir("tuh")
    assert shutil.get_terminal_size().columns == 80
"""


def test_a_user_s_settings_do_not_reach_a_test(tmp_path: Path) -> None:
    """Before: ``EEGPREP_TUH_DIR``, ``EEGPREP_CONFIG``, a config file under ``XDG_CONFIG_HOME``,
    ``WORLD_SIZE``/``RANK`` and ``COLUMNS`` of the user's reached every test (no conftest took
    them out): an ingest with no ``--src`` found the user's corpus, help wrapped at another
    width. The suite's own ``EEGPREP_REAL_CACHE`` stays."""
    config = tmp_path / "xdg" / "eegprep" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(f'[corpora]\ntuh = "{tmp_path}"\n')
    (tmp_path / "test_inner.py").write_text(_INNER)
    user = {
        "EEGPREP_TUH_DIR": str(tmp_path),
        "eegprep_tuh_dir": str(tmp_path),
        "EEGPREP_CONFIG": str(config),
        "EEGPREP_MALLOC_TUNING": "off",
        "LABRAM_UNRELEASED_PARAMETERS": "1",
        "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
        "WORLD_SIZE": "2",
        "RANK": "1",
        "LOCAL_RANK": "1",
        "MASTER_PORT": "29500",
        "COLUMNS": "40",
        "EEGPREP_REAL_CACHE": str(tmp_path / "real"),
    }
    env = {**os.environ, **user, "PYTHONPATH": str(REPO)}
    args = ["-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "tests.conftest"]
    proc = subprocess.run(
        [sys.executable, *args, "--rootdir", str(tmp_path), str(tmp_path / "test_inner.py")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
