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


@pytest.mark.slow  # over 5 s on two cores
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


@pytest.mark.slow  # over 5 s on two cores
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


_KILLED_AT_RENAME = """
import os, signal, sys
from cli import eegprep_cli

target, args = sys.argv[1], sys.argv[2:]
synced, real_fsync, real_replace = set(), os.fsync, os.replace

def fsync(fd):
    synced.add(os.fstat(fd).st_ino)
    return real_fsync(fd)

def replace(src, dst, *rest, **kw):
    if os.fspath(dst) == target:  # the write is whole under its temporary name: killed here
        print("synced" if os.stat(src).st_ino in synced else "not synced", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    return real_replace(src, dst, *rest, **kw)

os.fsync, os.replace = fsync, replace
if args[0] == "write_output":  # what `stats --html`/`--plots` and `labram report --html` call
    from eegprep.base.files import write_output

    write_output(target, args[1].encode())
sys.exit(eegprep_cli(args))
"""


def _killed_at_rename(target: Path, *args: str | Path) -> str:
    """``eegprep ARGS`` (or ``write_output`` of ``target`` and text) run in a child that is
    killed (SIGKILL) when it renames its temporary file onto ``target``; whether that file had
    been flushed to the disk (``fsync``) then."""
    res = subprocess.run(
        [sys.executable, "-c", _KILLED_AT_RENAME, str(target), *map(str, args)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO), "MPLBACKEND": "Agg"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == -signal.SIGKILL, res.stderr
    return res.stdout.splitlines()[-1]  # (after what the command printed)


def _temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*.tmp-*"))


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_a_kill_before_an_output_s_rename_keeps_it_and_the_next_write_clears_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A kill while a page or plot (``write_output``) or the config file (``config set``) is
    written keeps the file whole under its name, with its bytes flushed before the rename (they
    were not: a power cut could leave the new name on an empty file); the temporary file the
    kill left beside it stayed there for good, and is now removed by the next write of it."""
    from click.testing import CliRunner

    from cli import eegprep_cli
    from eegprep.base.files import write_output

    src = tmp_path / "src"
    src.mkdir()
    page, config = tmp_path / "out" / "report.html", tmp_path / "cfg" / "config.toml"
    monkeypatch.setenv("EEGPREP_CONFIG", str(config))
    runner = CliRunner()
    write_output(page, b"<!doctype html>first")
    assert runner.invoke(eegprep_cli, ["config", "set", "tuh", str(src)]).exit_code == 0
    before = {page: page.read_bytes(), config: config.read_bytes()}
    for target, args in {
        page: ["write_output", "<!doctype html>second"],
        config: ["config", "set", "tuab", str(src)],
    }.items():
        assert _killed_at_rename(target, *args) == "synced", target
        assert target.read_bytes() == before[target]  # the old file, whole
        assert len(_temporaries(target.parent)) == 1  # (what the kill left)
        if target == page:
            write_output(page, b"<!doctype html>second")
        else:
            assert runner.invoke(eegprep_cli, args).exit_code == 0
        assert _temporaries(target.parent) == [], target
    assert "tuab" in config.read_text() and page.read_bytes() == b"<!doctype html>second"


def test_an_output_where_no_file_stands_is_one_line_and_kept(tmp_path: Path) -> None:
    """``stats --html`` onto a FIFO (or a device: ``/dev/null`` as root) renamed the page over
    it without a word, and ``--plots`` so over a FIFO named as a plot: now one ``error:``
    line, exit status 2, and it stays what it was; a folder there is one line too. A link named
    as the output is replaced by the file, never written through."""
    from click.testing import CliRunner

    from cli import eegprep_cli
    from eegprep.base.errors import OutputError
    from eegprep.base.files import write_output
    from tests.safety.corpus import ingest_folder, write_edf

    src, store, plots = tmp_path / "src", tmp_path / "s.zarr", tmp_path / "plots"
    write_edf(src, "a.edf")
    ingest_folder(src, store)
    plots.mkdir()
    os.mkfifo(plots / "hours_per_corpus.png")  # the first plot written
    res = CliRunner().invoke(eegprep_cli, ["stats", str(store), "--plots", str(plots)])
    assert res.exit_code == 2, res.output
    (line,) = [line for line in res.output.splitlines() if line.startswith("error:")]
    assert line == (
        f"error: {plots / 'hours_per_corpus.png'}: exists and is a FIFO, not a file: it is "
        "kept; give another path for the output"
    )
    assert (plots / "hours_per_corpus.png").is_fifo()
    fifo, folder = tmp_path / "fifo.html", tmp_path / "folder.html"
    os.mkfifo(fifo)
    folder.mkdir()
    for path, what in ((fifo, "a FIFO"), (folder, "a folder")):
        with pytest.raises(OutputError, match=f"exists and is {what}, not a file"):
            write_output(path, b"<!doctype html>page")
    assert fifo.is_fifo() and folder.is_dir() and not any(folder.iterdir())
    elsewhere = tmp_path / "elsewhere.html"
    elsewhere.write_bytes(b"<!doctype html><p>the user's own page</p>")
    link = tmp_path / "link.html"
    link.symlink_to(elsewhere)
    write_output(link, b"<!doctype html>page")
    assert elsewhere.read_bytes() == b"<!doctype html><p>the user's own page</p>"
    assert not link.is_symlink() and link.read_bytes() == b"<!doctype html>page"


def test_demo_never_writes_through_a_link_and_clears_what_a_kill_left(tmp_path: Path) -> None:
    """``eegprep demo --out D`` again over an earlier demo wrote its ``AAREADME.txt`` through a
    link of that name (its target overwritten), and its EDF files through a linked folder
    (out of the corpus): a link in the demo corpus is one line now, nothing written. The
    temporary files a killed demo left (every file is written whole, then renamed) are removed
    by the next demo."""
    from click.testing import CliRunner

    from cli import eegprep_cli

    out, runner = tmp_path / "d", CliRunner()
    assert runner.invoke(eegprep_cli, ["-q", "demo", "--out", str(out)]).exit_code == 0
    root = out / "tuh"
    clean = _hashes(root)
    victim, outside = tmp_path / "victim.txt", tmp_path / "outside"
    victim.write_text("the user's own file\n")
    outside.mkdir()
    readme = root / "AAREADME.txt"
    readme.unlink()
    readme.symlink_to(victim)
    folder = next(p for p in (root / "edf").iterdir() if p.is_dir())
    moved = tmp_path / "moved"
    folder.rename(moved)
    folder.symlink_to(outside)
    for link in (readme, folder):
        res = runner.invoke(eegprep_cli, ["-q", "demo", "--out", str(out)])
        assert res.exit_code == 2, res.output
        (line,) = res.output.splitlines()
        assert line.startswith(f"error: {root / 'edf'}" if link == folder else f"error: {readme}")
        assert "a symbolic link in the demo corpus" in line
        assert victim.read_text() == "the user's own file\n" and not any(outside.iterdir())
        link.unlink()
    moved.rename(folder)
    _killed_at_rename(readme, "-q", "demo", "--out", out)
    (left,) = _temporaries(root)
    assert left.startswith("AAREADME.txt.tmp-")
    assert runner.invoke(eegprep_cli, ["-q", "demo", "--out", str(out)]).exit_code == 0
    assert _temporaries(root) == [] and _hashes(root) == clean


def test_demo_where_its_corpus_folder_is_no_folder_names_what_is_there(tmp_path: Path) -> None:
    """``demo --out D`` where ``D/tuh`` is a FIFO or a file said it "already holds files", and a
    link to nothing "File exists": each is now named for what it is, in one line, and kept."""
    from click.testing import CliRunner

    from cli import eegprep_cli

    cases = {"a FIFO": os.mkfifo, "a file": lambda p: p.write_text("x")}
    cases["a link to nothing or a link loop"] = lambda p: p.symlink_to(tmp_path / "none")
    for i, (kind, make) in enumerate(cases.items()):
        out = tmp_path / str(i)
        out.mkdir()
        make(out / "tuh")
        res = CliRunner().invoke(eegprep_cli, ["demo", "--out", str(out)])
        assert res.exit_code == 2 and res.output.count("\n") == 1, res.output
        assert res.output.startswith(f"error: {out / 'tuh'}: {kind}, not a folder;"), res.output
        assert os.path.lexists(out / "tuh") and not (out / "tuh").is_dir()


def test_a_link_planted_at_a_temporary_name_is_passed_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every atomic write (pages, plots, checkpoints, predictions, the config file) goes through
    a temporary name beside its file; one where a link stood was written through, into the
    link's target, before being renamed. The name is now created by the write itself, and one
    already taken is passed over for another."""
    from eegprep.base import files

    target = tmp_path / "elsewhere.txt"
    target.write_bytes(b"not yours\n")
    out = tmp_path / "report.html"
    planted = out.with_name(out.name + files.TMP_MARK + "0badc0de")
    planted.symlink_to(target)
    names = iter([planted, out.with_name(out.name + files.TMP_MARK + "00000001")])
    monkeypatch.setattr(files, "temporary_name", lambda path, folder=None: next(names))
    files.write_atomically(out, b"<html></html>\n")
    assert out.read_bytes() == b"<html></html>\n"
    assert target.read_bytes() == b"not yours\n"
    assert planted.is_symlink()  # not ours: left as it stood


def test_a_weights_file_s_temporary_name_is_never_a_planted_link(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same for a ``.safetensors`` put in place through the export journal (``labram
    convert``, ``export``), which names its temporary files itself."""
    from eegprep.base import files
    from labram.checkpoints import export_journal

    target = tmp_path / "elsewhere.bin"
    target.write_bytes(b"not yours\n")
    out = tmp_path / "model.safetensors"
    planted = out.with_name(out.name + files.TMP_MARK + "0badc0de")
    planted.symlink_to(target)
    fresh = files.temporary_name
    first = [planted]  # the weights' first temporary name is the link; every other is fresh

    def named(path: Path, folder: Path | None = None) -> Path:
        return first.pop() if first and path == out else fresh(path, folder)

    monkeypatch.setattr(files, "temporary_name", named)
    # wherever a module took the name for itself (the journal did, before it claimed its own)
    monkeypatch.setattr(export_journal, "temporary_name", named, raising=False)
    with export_journal.weights_replaced(out) as tmp:
        tmp.write_bytes(b"weights")
    assert out.read_bytes() == b"weights"
    assert target.read_bytes() == b"not yours\n"
