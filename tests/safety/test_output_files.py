"""The files `eegprep stats` writes outside the store (`--plots`, `--html`) are written whole or
not at all.

They were written in place (matplotlib's ``savefig`` to the path, ``Path.write_text``): a
full disk, a file size limit or a kill in the middle left the previous plot cut short and lost,
and the command ended in ``internal error (a bug): OSError: [Errno 27] File too large`` naming
no file. Now each is written beside and renamed into place, and a failure is one ``error:``
line naming the file, exit status 2, with what the file held before unchanged.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from eegprep.ingestion.driver import IngestConfig, ingest

REPO = Path(__file__).resolve().parents[2]
LIMIT = 20_000  # bytes any one write may reach: the plots and the page are larger


def _stats(store: Path, out: Path, *, limited: bool) -> subprocess.CompletedProcess[str]:
    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit: EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, LIMIT))

    code = "import sys; from cli import eegprep_cli; sys.exit(eegprep_cli())"
    args = ["stats", str(store), "--html", str(out / "report.html"), "--plots", str(out / "p")]
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO), "MPLBACKEND": "Agg"},
        preexec_fn=limit if limited else None,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_a_failed_write_keeps_the_previous_plots_and_page(tuh_corpus: Path, tmp_path: Path) -> None:
    store = tmp_path / "s.zarr"
    ingest("tuh", src=tuh_corpus, out=store, config=IngestConfig(workers=0, progress=False))
    out = tmp_path / "out"
    first = _stats(store, out, limited=False)
    assert first.returncode == 0, first.stderr
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert len(before) == 4 and any(len(b) > LIMIT for b in before.values())
    second = _stats(store, out, limited=True)
    assert second.returncode == 2, second.stderr
    (line,) = second.stderr.splitlines()
    assert line.startswith(f"error: {out}") and "cannot write it (File too large)" in line
    assert "internal error" not in line
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before  # no tmp files


def _hashes(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` with its bytes (links not followed)."""
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_no_output_lands_inside_a_store(tmp_path: Path) -> None:
    """``stats --html`` onto a store's own ``zarr.json`` made the store unreadable; ``--plots``,
    ``demo --out`` and ``ingest --out`` (a store inside a store's recordings folder, which the
    outer store's ingests may overwrite) wrote into it too. Each is one ``error:`` line now,
    also through a link, and the store's bytes are unchanged."""
    from click.testing import CliRunner

    from cli import eegprep_cli
    from tests.safety.corpus import ingest_folder, write_edf

    src, store = tmp_path / "src", tmp_path / "s.zarr"
    write_edf(src, "a.edf")
    ingest_folder(src, store)
    (tmp_path / "link").symlink_to(store / "recordings")
    before = _hashes(store)
    runner, nested = CliRunner(), store / "recordings" / "folder" / "x.zarr"
    for args in (
        ["stats", str(store), "--html", str(store / "zarr.json")],
        ["stats", str(store), "--html", str(tmp_path / "link" / "r.html")],
        ["stats", str(store), "--plots", str(store / "recordings" / "plots")],
        ["demo", "--out", str(store / "_eegprep" / "demo")],
        ["ingest", "folder", "--src", str(src), "--out", str(nested),
         "--mains", "60", "--workers", "0"],
        ["ingest", "folder", "--src", str(src), "--out", str(tmp_path / "link" / "y.zarr"),
         "--mains", "60", "--workers", "0"],
    ):  # fmt: skip
        res = runner.invoke(eegprep_cli, args)
        assert res.exit_code == 2, (args, res.output)
        assert f"inside the eegprep store {store}" in res.output
        assert res.output.count("\n") == 1, res.output
    assert _hashes(store) == before


def test_an_output_never_replaces_a_file_of_another_kind(tmp_path: Path) -> None:
    """``labram report RUN --html RUN/results.json`` wrote the page over the run's results (and
    ``eegprep stats --html``/``--plots`` over any file named): an existing file is replaced only
    by one of its kind (an earlier page, an earlier plot). Anything else is one ``error:``
    line naming it, exit 2, its bytes unchanged; an earlier page is still replaced."""
    from click.testing import CliRunner

    from cli import eegprep_cli, labram_cli
    from tests.labram.test_report import _finetune_run
    from tests.safety.corpus import ingest_folder, write_edf

    src, store = tmp_path / "src", tmp_path / "s.zarr"
    write_edf(src, "a.edf")
    ingest_folder(src, store)
    run = _finetune_run(tmp_path / "run", with_predictions=True)
    plots = tmp_path / "plots"
    plots.mkdir()
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n")
    runner = CliRunner()
    first = runner.invoke(eegprep_cli, ["stats", str(store), "--plots", str(plots)])
    assert first.exit_code == 0, first.output
    png = sorted(plots.glob("*.png"))[0]
    png.write_bytes(b"%PDF-1.4 a document the user keeps here\n")
    cases = [
        (labram_cli, ["report", str(run), "--html", str(run / "results.json")]),
        (labram_cli, ["report", str(run), "--html", str(run / "seed0" / "predictions.csv")]),
        (labram_cli, ["report", str(run), "--html", str(notes)]),
        (eegprep_cli, ["stats", str(store), "--html", str(notes)]),
        (eegprep_cli, ["stats", str(store), "--plots", str(plots)]),
    ]
    for cli, args in cases:
        before = _hashes(tmp_path)
        res = runner.invoke(cli, args)
        assert res.exit_code == 2, (args, res.output)
        errors = [line for line in res.output.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and "exists and is not a" in errors[0], (args, res.output)
        assert _hashes(tmp_path) == before, args
    page = tmp_path / "page.html"
    for _ in range(2):  # an earlier page is replaced
        res = runner.invoke(labram_cli, ["report", str(run), "--html", str(page)])
        assert res.exit_code == 0, res.output
        res = runner.invoke(eegprep_cli, ["stats", str(store), "--html", str(page)])
        assert res.exit_code == 0, res.output
