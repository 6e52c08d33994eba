"""What the commands need of the user's folders: a home, XDG folders and a temporary folder
that may be unset, read-only or missing (a cluster's read-only home, a container's user with
no home). Matplotlib's config and cache folder is the one the figures need: where it cannot
be written, one ``warning:`` line; where no temporary folder can be made instead, one
``error:`` line (eegprep/tools/plot_backend.py)."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import eegprep_cli

REPO = Path(__file__).resolve().parents[1]

# Run as the code a user runs: a fresh interpreter (matplotlib not yet imported), no folder of
# matplotlib's set, a HOME that is a file (no folder can be made in it, by root neither).
_PLOT_CURVES = (
    "from pathlib import Path; from labram.train.runlog import plot_curves; "
    "plot_curves([{'step': 1, 'loss': 2.0}, {'step': 2, 'loss': 1.0}], Path('curves.png'))"
)
_NO_TEMPORARY = (
    "import sys, tempfile\n"
    "def refused(*args, **kwargs):\n"
    "    raise FileNotFoundError(2, 'No usable temporary directory found')\n"
    "tempfile.mkdtemp = refused\n"
    "sys.argv = ['eegprep', *sys.argv[1:]]\n"
    "from eegprep._console import eegprep_main\n"
    "eegprep_main()\n"
)
# No folder tempfile may use: as where $TMPDIR, /tmp, /var/tmp and the working folder are all
# read-only (root writes them all, so the list of folders tried is emptied instead).
_NO_TEMPORARY_FOLDER = (
    "import sys, tempfile\n"
    "tempfile._candidate_tempdir_list = lambda: []\n"
    "sys.argv = [sys.argv[1], *sys.argv[2:]]\n"
    "from eegprep import _console\n"
    "getattr(_console, sys.argv[0] + '_main')()\n"
)


def _env(home: Path) -> dict[str, str]:
    """The environment of a command run with ``home`` for HOME; without the folders a user
    may set, nor ``TORCHINDUCTOR_CACHE_DIR``, which torch sets in the test process itself the
    first time a test there makes an optimizer (a child given it asks for no temporary folder:
    a test after such a test saw the run succeed)."""
    unset = ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "MPLCONFIGDIR", "MPLBACKEND",
             "TORCHINDUCTOR_CACHE_DIR")  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k not in unset}
    return {**env, "HOME": str(home), "PYTHONPATH": str(REPO), "PYTHONWARNINGS": ""}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = tmp_path_factory.mktemp("store")
    runner = CliRunner()
    assert runner.invoke(eegprep_cli, ["demo", "--out", str(where / "d")]).exit_code == 0
    args = ["ingest", "tuh", "--src", str(where / "d" / "tuh"), "--out", str(where / "s.zarr")]
    res = runner.invoke(eegprep_cli, [*args, "--workers", "0"])
    assert res.exit_code == 0, res.output
    return where / "s.zarr"


@pytest.fixture
def home_file(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.write_text("a file, not a folder\n")
    return home


def test_only_the_backend_module_imports_matplotlib() -> None:
    """Every figure of both packages gets pyplot from eegprep/tools/plot_backend.py, so that
    every command that draws says the same one line about matplotlib's folder."""
    found = []
    for path in [*REPO.glob("eegprep/**/*.py"), *REPO.glob("labram/**/*.py"), REPO / "cli.py"]:
        if path == REPO / "eegprep" / "tools" / "plot_backend.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names] if isinstance(node, ast.Import)
                else [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            )  # fmt: skip
            if any(n == "matplotlib" or n.startswith("matplotlib.") for n in names):
                found.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert found == []


@pytest.mark.parametrize("command", ["eegprep stats --plots", "labram training curves"])
def test_a_folder_matplotlib_cannot_write_is_one_warning_line(
    command: str, store: Path, home_file: Path, tmp_path: Path
) -> None:
    if command.startswith("eegprep"):
        argv = [sys.executable, "-m", "eegprep", "stats", str(store), "--plots", "plots"]
        made = tmp_path / "plots" / "mean_spectrum.png"
    else:
        argv = [sys.executable, "-c", _PLOT_CURVES]
        made = tmp_path / "curves.png"
    res = subprocess.run(argv, cwd=tmp_path, env=_env(home_file), capture_output=True,
                         text=True, timeout=300)  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert made.is_file()
    assert "Matplotlib created a temporary" not in res.stderr, res.stderr
    assert "mkdir -p failed" not in res.stderr, res.stderr
    said = [line for line in res.stderr.splitlines() if "matplotlib cannot write" in line]
    assert len(said) == 1, res.stderr
    assert str(home_file / ".config" / "matplotlib") in said[0]
    assert "Not a directory" in said[0] and "set MPLCONFIGDIR" in said[0]
    if command.startswith("eegprep"):  # the command line's warnings: one line, nothing else
        assert said[0].startswith("warning: matplotlib cannot write ")
        assert res.stderr == said[0] + "\n"


def test_no_folder_for_matplotlib_at_all_is_one_error_line(
    store: Path, home_file: Path, tmp_path: Path
) -> None:
    """Matplotlib's own OSError (no temporary folder either) was an internal error."""
    argv = [sys.executable, "-c", _NO_TEMPORARY, "stats", str(store), "--plots", "plots"]
    res = subprocess.run(argv, cwd=tmp_path, env=_env(home_file), capture_output=True,
                         text=True, timeout=300)  # fmt: skip
    assert res.returncode == 2, res.stderr
    assert res.stderr.startswith("error: matplotlib cannot write "), res.stderr
    assert res.stderr.count("\n") == 1, res.stderr
    assert "no temporary folder can be made" in res.stderr
    assert "set MPLCONFIGDIR to a folder you can write" in res.stderr


def test_no_temporary_folder_anywhere_is_one_error_line(
    store: Path, home_file: Path, tmp_path: Path
) -> None:
    """torch makes its compile cache's name from the temporary folder when the first optimizer
    is made, even if nothing is compiled: with none writable anywhere a training run was an
    internal error (FileNotFoundError); now one line names TMPDIR (any command, the one
    handler of OSErrors: eegprep/base/temp_folders.py)."""
    argv = [sys.executable, "-c", _NO_TEMPORARY_FOLDER, "labram", "pretrain", "--store",
            str(store), "--size", "tiny", "--out", "r", "--tokenizer-max-steps", "1",
            "--max-steps", "1"]  # fmt: skip
    env = {**_env(home_file), "MPLCONFIGDIR": str(tmp_path), "TMPDIR": str(tmp_path / "gone")}
    res = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=300)  # fmt: skip
    assert res.returncode == 2, res.stderr
    assert res.stderr == (
        f"error: no temporary folder can be written (TMPDIR is {str(tmp_path / 'gone')!r}; "
        "tried []); set TMPDIR to a folder you can write and run the same command again\n"
    )
