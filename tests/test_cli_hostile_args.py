"""Hostile names and values on both command lines, walked over click's own command tree.

A path whose name starts with '-' (click takes it for an option), and paths no command can use
as given: each is one ``error:`` line naming the path as it can be read, exit status 2, no
traceback, nothing written. (tests/test_cli_errors.py holds the missing inputs, typos and
values of the wrong type.)
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from eegprep.cli_group import LocalPath, StoreLocation
from tests.machine_paths import shown
from tests.test_cli_errors import (  # _isolated: the same autouse fixture, for these tests too
    COMMANDS,
    ROOTS,
    _isolated,  # noqa: F401
    assert_one_error,
    run,
)


@pytest.fixture(autouse=True)
def _close_sockets() -> Iterator[None]:
    yield
    while _SOCKETS:
        _SOCKETS.pop().close()


def _arguments(cmd: click.Command) -> list[click.Argument]:
    return [p for p in cmd.params if isinstance(p, click.Argument)]


ARGUMENT_CASES = [
    (path, i) for path, cmd in sorted(COMMANDS.items()) for i in range(len(_arguments(cmd)))
]
"""(command, position) of every positional argument of every command (a corpus name too: it
may be a manifest file)."""


def test_the_walk_finds_the_path_arguments() -> None:
    named = {(" ".join(p), _arguments(COMMANDS[p])[i].name) for p, i in ARGUMENT_CASES}
    assert {("eegprep stats", "store"), ("labram convert", "dst"), ("labram predict", "files"),
            ("eegprep config set", "folder"), ("labram report", "run_dirs")} <= named  # fmt: skip


@pytest.mark.parametrize(("path", "position"), ARGUMENT_CASES,
                         ids=lambda v: " ".join(v) if isinstance(v, tuple) else str(v))  # fmt: skip
@pytest.mark.parametrize("exists", [True, False], ids=["existing", "new"])
def test_a_path_starting_with_a_dash_says_how_to_pass_it(
    tmp_path: Path, path: tuple[str, ...], position: int, exists: bool
) -> None:
    """`eegprep stats -s.zarr`: click's "No such option: -s" alone left the user guessing."""
    name = "-s.zarr"
    if exists:
        (tmp_path / name).mkdir()
    before = sorted(tmp_path.iterdir())
    args = [*path[1:], *["x"] * position, name]
    line = assert_one_error(CliRunner().invoke(ROOTS[path[0]], args))
    assert "No such option '-s'" in line or "No such option: -s" in line, line  # (8.2: -s)
    assert f"write it ./{name} or put -- before it" in line, line
    assert sorted(tmp_path.iterdir()) == before
    # as the line says: the path reaches the command (whatever it then says of it)
    for given in ([*path[1:], *["x"] * position, "--", name], [*args[:-1], f"./{name}"]):
        out = CliRunner().invoke(ROOTS[path[0]], given).output
        assert "No such option" not in out, out


@pytest.mark.parametrize("path", sorted(COMMANDS), ids=" ".join)
def test_an_unknown_option_that_names_no_path_gets_no_path_hint(path: tuple[str, ...]) -> None:
    res = CliRunner().invoke(ROOTS[path[0]], [*path[1:], "-k"])
    line = assert_one_error(res, says="No such option")
    assert "starts with '-'" not in line, line


def _path_params() -> list[tuple[tuple[str, ...], str, str]]:
    """(command, option or argument name, kind) of every path and store parameter; kind is
    'file', 'folder' or 'store' (a folder or a zipped store)."""
    out = []
    for path, cmd in sorted(COMMANDS.items()):
        for p in cmd.params:
            if isinstance(p.type, StoreLocation):
                kind = "store"
            elif isinstance(p.type, LocalPath):
                kind = "folder" if not p.type.file_okay else "file"
            else:
                continue
            name = max(p.opts, key=len) if isinstance(p, click.Option) else p.name or ""
            out.append((path, name, kind))
    return out


PATH_PARAMS = _path_params()


def _argv(path: tuple[str, ...], name: str, value: str) -> list[str]:
    """The command line that gives ``value`` to the option or argument ``name``, the other
    required values missing files (each refused after it: click converts in the given order)."""
    cmd = COMMANDS[path]
    if name.startswith("--"):
        return [*path[1:], name, value]
    args = _arguments(cmd)
    position = [a.name for a in args].index(name)
    return [*path[1:], *["x"] * position, value]


def _hostile(tmp_path: Path, case: str, kind: str) -> tuple[str, str]:
    """(value, what the line must say) for a hostile path ``case`` given where a ``kind`` is
    taken, made under ``tmp_path``."""
    import socket

    if case == "spaces":
        return "   ", "a name of blanks alone (3 spaces)"
    if case == "dash":
        return "-", "write ./- for that file"
    if case == "loop":
        os.symlink(tmp_path / "l2", tmp_path / "l1")
        os.symlink(tmp_path / "l1", tmp_path / "l2")
        return str(tmp_path / "l1"), "a symbolic link loop"
    if case == "dangling":
        os.symlink(tmp_path / "nowhere", tmp_path / "dang")
        return str(tmp_path / "dang"), "which does not exist"
    if case == "fifo":
        os.mkfifo(tmp_path / "fifo")
        return str(tmp_path / "fifo"), "a FIFO, not a"
    if case == "socket":
        sock = socket.socket(socket.AF_UNIX)
        with contextlib.chdir(tmp_path):  # a relative name: a socket's path holds ~100 bytes,
            sock.bind("sock")  # and a machine's temporary folder may take most of them
        _SOCKETS.append(sock)
        return str(tmp_path / "sock"), "a socket, not a"
    if case == "device":
        return "/dev/zero", "a device, not a"
    assert case == "wrong", case
    if kind == "folder":
        (tmp_path / "afile").write_text("x\n")
        return str(tmp_path / "afile"), "a file, not a folder"
    (tmp_path / "adir").mkdir()
    return str(tmp_path / "adir"), "a folder, not a file"


_SOCKETS: list[socket.socket] = []
CASES = ["spaces", "dash", "loop", "dangling", "fifo", "socket", "device", "wrong"]


@pytest.mark.parametrize(
    ("path", "name", "kind", "case"),
    [(*p, case) for p in PATH_PARAMS for case in CASES if (p[2], case) != ("store", "wrong")],
    ids=lambda v: " ".join(v) if isinstance(v, tuple) else v,
)  # (a store is a folder or a zip file: no wrong kind)
def test_a_path_no_command_can_use_is_refused_as_it_is_parsed(
    tmp_path: Path, path: tuple[str, ...], name: str, kind: str, case: str
) -> None:
    """Before: a FIFO, socket or device given for a folder (`config set tuh FIFO` recorded it;
    `stats --plots FIFO` printed the statistics, then failed), a link loop (an internal error
    in `ingest --src`, `pretrain --store`, `--out`, `--tokenizer`), a dangling link (written
    through, creating its target elsewhere), '-' (a folder or file named '-' made) and spaces
    alone (`checkpoint not found:` naming nothing visible)."""
    value, says = _hostile(tmp_path, case, kind)
    if kind == "store" and case in ("loop", "dangling"):
        says = "a link to nothing or a link loop, not a store"
    elif kind == "store" and case in ("fifo", "socket", "device"):
        says = says.replace("not a", "not a store")
    before = sorted(p.name for p in tmp_path.iterdir())
    line = assert_one_error(CliRunner().invoke(ROOTS[path[0]], _argv(path, name, value)))
    assert says in line and shown(value.strip()) in line, line  # (cut past 80 characters)
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def _param(path: tuple[str, ...], name: str) -> click.Parameter:
    cmd = COMMANDS[path]
    return next(p for p in cmd.params if name in (*p.opts, p.name))


OUTPUTS = [p[:2] for p in PATH_PARAMS if getattr(_param(*p[:2]).type, "output", False)]
"""Every path parameter a command writes to."""


def test_every_output_is_marked_as_one() -> None:
    """A new output option must be marked, so that its new names are checked."""
    written = {("out",), ("dst",), ("plots",), ("html_out",)}
    for path, cmd in COMMANDS.items():
        for p in cmd.params:
            if (p.name,) in written:
                assert getattr(p.type, "output", False), (path, p.name)
    assert len(OUTPUTS) == 11, OUTPUTS


NEW_NAMES = {
    "newline": "a\nb",
    "tab": "a\tb",
    "escape": "\x1b[2Jx",
    "bidi": "x\u202etxt.exe",
}


@pytest.mark.parametrize(("path", "name"), OUTPUTS,
                         ids=lambda v: " ".join(v) if isinstance(v, tuple) else v)  # fmt: skip
@pytest.mark.parametrize("case", sorted(NEW_NAMES))
def test_an_output_name_no_terminal_shows_is_refused(
    tmp_path: Path, path: tuple[str, ...], name: str, case: str
) -> None:
    """Before: `demo --out $'a\\nb'`, `convert C $'\\x1b[2Jx'`, `ingest --out` of such a name
    wrote it. (A name that is not UTF-8 is taken: tests/safety/test_names.py.)"""
    value = str(tmp_path / "new" / NEW_NAMES[case])
    line = assert_one_error(CliRunner().invoke(ROOTS[path[0]], _argv(path, name, value)))
    assert "the new name" in line and "\x1b" not in line, line
    assert list(tmp_path.iterdir()) == []


def test_only_the_names_an_output_creates_are_checked(tmp_path: Path) -> None:
    from eegprep.cli_paths import new_name_problem

    (tmp_path / "a\nb").mkdir()  # the user's own folder: taken as it is
    assert new_name_problem(str(tmp_path / "a\nb" / "out")) is None
    assert new_name_problem(str(tmp_path / "a\nb")) is None
    problem = new_name_problem(str(tmp_path / "c\td" / "out"))
    assert problem is not None and "the new name c\\td holds \\t" in problem, problem


@pytest.mark.parametrize("args", [["ingest", "LONG", "--out", "o.zarr"], ["corpora", "LONG"]])
def test_a_corpus_name_past_the_file_systems_limit_is_an_unknown_corpus(args: list[str]) -> None:
    """Before: an internal error (OSError: File name too long) from the shipped manifests'
    folder."""
    argv = ["x" * 5000 if a == "LONG" else a for a in args]
    line = assert_one_error(CliRunner().invoke(ROOTS["eegprep"], argv), says="unknown corpus x")
    assert shown("x" * 5000) in line and "(4760 more characters)" in line, line
    assert len(line) < 1000, line


def test_a_refused_run_into_an_existing_empty_folder_leaves_it_empty(tmp_path: Path) -> None:
    """Before: the run's `.labram.lock` stayed in an --out that was there (empty) before."""
    from tests.labram.training_stores import write_pretrain_store

    store = write_pretrain_store(tmp_path / "s.zarr", n_subjects=1, seconds=20)
    (tmp_path / "run").mkdir()
    args = ["tokenizer", "--store", store, "--size", "tiny", "--out", str(tmp_path / "run")]
    assert_one_error(CliRunner().invoke(ROOTS["labram"], args), says="no complete batch")
    assert list((tmp_path / "run").iterdir()) == []


def test_seeds_past_what_any_study_runs_are_refused(tmp_path: Path) -> None:
    """Before: `finetune --seeds 2147483648` passed every check and ran one whole fine-tuning
    after another, for ever. (The option's range refuses it now; the library's own check,
    for callers of ``finetune()``, stays.)"""
    from tests.labram.training_stores import write_pretrain_store

    store = write_pretrain_store(tmp_path / "s.zarr", n_subjects=1, seconds=20)
    for n in ("1001", "2147483648"):
        args = ["finetune", "--store", store, "--task", "tuab", "--size", "tiny", "--seeds", n,
                "--out", str(tmp_path / "run")]  # fmt: skip
        line = assert_one_error(CliRunner().invoke(ROOTS["labram"], args))
        assert "Invalid value for '--seeds'" in line and "1<=x<=1000" in line, line
        assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("root", ["eegprep", "labram"])
def test_an_html_page_over_a_file_that_is_no_page_is_refused_before_any_output(
    tmp_path: Path, root: str
) -> None:
    """Before: `stats --html notes.txt` printed the whole table, then refused the page."""
    from tests.labram.training_stores import write_pretrain_store

    (tmp_path / "notes.txt").write_text("my notes\n")
    if root == "eegprep":
        store = write_pretrain_store(tmp_path / "s.zarr", n_subjects=1, seconds=4)
        args = ["stats", store, "--html", str(tmp_path / "notes.txt")]
    else:
        (tmp_path / "run").mkdir()
        args = ["report", str(tmp_path / "run"), "--html", str(tmp_path / "notes.txt")]
    line = assert_one_error(CliRunner().invoke(ROOTS[root], args))
    assert "notes.txt: exists and is not an HTML page" in line, line
    assert (tmp_path / "notes.txt").read_text() == "my notes\n"


def _store_of_kind(folder: Path, kind: str) -> Path:
    """A store path under ``folder`` that is no store: a plain file, a FIFO or a link loop."""
    folder.mkdir(parents=True)
    path = folder / f"{kind}.zarr"
    if kind == "file":
        path.write_text("not a store\n")
    elif kind == "fifo":
        os.mkfifo(path)
    else:
        os.symlink(path, path)
    return path


STORE_COMMANDS = [
    ["eegprep", "stats", "STORE"],
    ["eegprep", "validate", "STORE"],
    ["eegprep", "ingest", "tuh", "--src", "corpus", "--out", "STORE"],
    ["labram", "pretrain", "--store", "STORE", "--size", "tiny", "--out", "run"],
]


@pytest.mark.parametrize("depth", ["long", "very long"])
@pytest.mark.parametrize("kind", ["file", "fifo", "loop"])
@pytest.mark.parametrize("argv", STORE_COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_a_store_path_is_named_by_one_rule_whatever_it_is(
    tmp_path: Path, argv: list[str], kind: str, depth: str
) -> None:
    """Before: a store path that is a plain file was named in full, one that is a FIFO or a
    link loop cut after 80 characters, which hid the file's own name. Now every kind is named
    alike: whole up to 300 characters; a longer path by its two ends, the name still there."""
    (tmp_path / "corpus").mkdir()
    names = ["d" * 100] if depth == "long" else ["d" * 200, "e" * 200]
    store = _store_of_kind(tmp_path.joinpath(*names), kind)
    args = [str(store) if a == "STORE" else a for a in argv]
    line = assert_one_error(run((args[0],), args[1:]))
    assert shown(store) in line, line
    if depth == "long":
        assert str(store) in line, line
    else:
        assert f"{'e' * 100}/{kind}.zarr" in line and len(line) < 600, line
