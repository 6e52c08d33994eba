"""Promise: a file or folder name a user chose is shown by one rule in every line a command
prints (:func:`eegprep.base.path_limits.shown_path`): a newline or tab in it as ``\\n`` /
``\\t``, bytes that are not UTF-8 as ``\\xNN``, a path over 300 characters by its two ends,
so that each problem is one line, of bounded length, that still names the file exactly.

Before: a message that put a raw path into its text printed a newline in a name as a space
(naming another file) and a path of 4,000 characters whole, in one error line of thousands.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import eegprep_cli, labram_cli
from eegprep.base.files import shown_name
from eegprep.base.path_limits import SHOWN_CHARS
from tests.test_cli_errors import _isolated  # noqa: F401 (autouse: cwd, config file, variables)

LONGEST_LINE = 3 * SHOWN_CHARS + 800
"""Characters a line may take: two paths shown by the rule, and the message's own words (a
problem text is clipped at 600 characters)."""

HOSTILE = {
    "newline and tab": "a\nb\tc",
    "400 characters": "/".join(f"{k}" + "d" * 99 for k in range(4)),
    "non-UTF-8 bytes": os.fsdecode(b"caf\xe9"),
}
"""A folder (or nested folders) every case puts its file or folder in."""

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\udc80-\udcff]")


def _garbage(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"not what it should be\n" * 3)


def _folder(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    (path / "stray.txt").write_text("x")


def _absent(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)


def _store(path: Path) -> None:
    """An ingested store at ``path`` (of a corpus of one good and one broken recording)."""
    from tests.safety.corpus import ingest_folder, write_edf

    write_edf(Path("corpus"), "edf/good.edf")  # (pyedflib cannot write a non-UTF-8 name)
    _garbage(Path("corpus/edf/broken.edf"))
    path.parent.mkdir(parents=True, exist_ok=True)
    ingest_folder(Path("corpus"), path)


def _beside_a_corpus(path: Path) -> None:
    """Nothing at ``path`` yet; a corpus in ``src`` of a good and a broken recording."""
    _corpus(Path("src/edf/broken.edf"))
    path.parent.mkdir(parents=True, exist_ok=True)


def _corpus(path: Path) -> None:
    """A corpus in ``src`` holding ``path``, a broken recording, beside a good one."""
    from tests.safety.corpus import write_edf

    write_edf(Path("src"), "edf/good.edf")
    _garbage(path)


class Made:
    """What a case's arguments name besides its file: a store, a fine-tuned classifier."""

    def __init__(self, store: str, classifier: str) -> None:
        self.store, self.classifier = store, classifier


# (command, where the file goes ({h}: the hostile folder), how it is made, the arguments)
Case = tuple[str, str, Callable[[Path], None], Callable[[str, Made], list[str]]]
INGEST = ["ingest", "tuh", "--src", "src", "--out", "o.zarr"]
CASES: list[Case] = [
    ("eegprep", "{h}/s.zarr", _absent, lambda p, m: ["validate", p]),
    ("eegprep", "{h}/s.zarr", _folder, lambda p, m: ["validate", p]),
    ("eegprep", "{h}/s.zarr", _store, lambda p, m: ["validate", p]),
    ("eegprep", "{h}/s.zarr", _folder, lambda p, m: ["stats", p]),
    ("eegprep", "{h}/s.zarr", _store, lambda p, m: ["stats", p]),
    ("eegprep", "{h}/src", _absent, lambda p, m: ["ingest", "tuh", "--src", p, "--out", "o.zarr"]),
    ("eegprep", "src/edf/{h}/broken.edf", _corpus, lambda p, m: INGEST),
    ("eegprep", "{h}/o.zarr", _garbage, lambda p, m: [*INGEST[:-1], p]),
    ("eegprep", "{h}/o.zarr", _beside_a_corpus, lambda p, m: [*INGEST[:-1], p]),
    ("eegprep", "{h}/src", _absent, lambda p, m: ["config", "set", "tuh", p]),
    ("labram", "{h}/run", _absent, lambda p, m: ["report", p]),
    ("labram", "{h}/run", _folder, lambda p, m: ["report", p]),
    ("labram", "{h}/bad.pt", _garbage, lambda p, m: ["convert", p, "out.pt"]),
    ("labram", "{h}/bad.pt", _garbage, lambda p, m: ["export", p]),
    ("labram", "{h}/bad.pt", _garbage, lambda p, m: ["predict", "r.edf", "--checkpoint", p]),
    ("labram", "{h}/r.edf", _garbage,
     lambda p, m: ["predict", p, "--checkpoint", m.classifier, "--task", "tuab"]),
    ("labram", "{h}/bad.pt", _garbage,
     lambda p, m: ["evaluate", "--store", m.store, "--task", "tuab", "--checkpoint", p]),
    ("labram", "{h}/bad.pt", _garbage,
     lambda p, m: ["embed", "--store", m.store, "--checkpoint", p, "--out", "emb.zarr"]),
    ("labram", "{h}/emb.zarr", _garbage,
     lambda p, m: ["embed", "--store", m.store, "--checkpoint", m.classifier, "--out", p]),
    ("labram", "{h}/bad.pt", _garbage,
     lambda p, m: ["finetune", "--store", m.store, "--task", "tuab", "--init", p, "--size",
                   "tiny", "--out", "run"]),
    ("labram", "{h}/splits.json", _garbage,
     lambda p, m: ["finetune", "--store", m.store, "--task", "tuab", "--splits", p, "--size",
                   "tiny", "--out", "run"]),
    ("labram", "{h}/bad.pt", _garbage,
     lambda p, m: ["pretrain", "--store", m.store, "--tokenizer", p, "--size", "tiny", "--out",
                   "run"]),
    ("labram", "{h}/run", _garbage,
     lambda p, m: ["tokenizer", "--store", m.store, "--size", "tiny", "--out", p]),
]  # fmt: skip


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Made:
    from labram.checkpoints.layouts import save_ours
    from labram.model.classifier import LaBraMClassifier
    from labram.model.config import model_config
    from tests.labram.training_stores import write_pretrain_store

    folder = tmp_path_factory.mktemp("made")
    store = write_pretrain_store(folder / "s.zarr", n_subjects=1, seconds=20)
    save_ours(LaBraMClassifier(model_config("tiny"), 1), folder / "best.pt")
    return Made(store, str(folder / "best.pt"))


def check_lines(output: str, named: str) -> list[str]:
    """Every line of ``output`` one line of bounded length with no raw control character; the
    lines that name ``named`` (as the rule shows it) returned."""
    lines = [x for x in output.split("\n") if x.strip()]
    assert lines, "the command printed nothing"
    for line in lines:
        assert not _CONTROL.search(line), line
        assert len(line) <= LONGEST_LINE, (len(line), line[:200])
    assert sum(x.startswith("error: ") for x in lines) <= 1, lines  # one line per problem
    return [x for x in lines if named in x]


@pytest.mark.parametrize("hostile", sorted(HOSTILE), ids=str)
@pytest.mark.parametrize(
    "case",
    CASES,
    ids=[f"{c[0]} {c[3]('P', Made('S', 'C'))[0]} {c[1]} {c[2].__name__[1:]}" for c in CASES],
)
def test_every_line_shows_a_hostile_name_by_the_rule(case: Case, hostile: str, made: Made) -> None:
    root, where, make, argv = case
    path = where.format(h=HOSTILE[hostile])
    make(Path(path))
    res = CliRunner().invoke({"eegprep": eegprep_cli, "labram": labram_cli}[root], argv(path, made))
    assert "Traceback" not in res.output, res.output
    assert res.exit_code != 0 or make in (_store, _beside_a_corpus), res.output
    named = where.split("{h}")[1]
    naming = check_lines(res.output, shown_name((HOSTILE[hostile] + named)[-100:]))
    if make is not _store:  # (a store found sound is named by no line of validate)
        assert naming, res.output
    if len(path) > SHOWN_CHARS:
        assert all("more characters" in x for x in naming), naming


PATH_WORDS = re.compile(
    r"(^|_)(path|file|filename|folder|dir|src|source|store|root|relpath|rel|checkpoint|ckpt|"
    r"run_dir|dest|dst|target|display|out|splits|splits_file|config_file|weights|card|card_json|"
    r"log|plot|page|tokenizer|html|html_out|stores|paths|files)$"
)
"""Names of variables (attributes, dict keys) that hold a path, in eegprep's and labram's code."""

OS_PATH = {"basename", "dirname", "abspath", "relpath", "realpath", "normpath", "join"}

RAW_ON_PURPOSE = {
    ("eegprep/cli_group.py", "path"): "click's command path (`eegprep ingest`), not a file",
    ("eegprep/cli_group.py", "ctx.command_path"): "click's command path, not a file",
    ("eegprep/corpus/folders.py", "folder"): "a config value that is no folder name (a number, "
    "a table, empty text), shown as its repr",
    ("eegprep/readers/edf.py", "path"): "cuts the raw path pyedflib put into its own message",
    ("eegprep/readers/mne_problems.py", "left_out"): "a phrase (' and N more'), not a path",
    ("eegprep/testing/demo_labelled.py", "rel"): "the demo's own names, written into its README",
    ("eegprep/tools/interop.py", "s.display"): "the description an exported file carries",
    ("eegprep/tools/interop.py", "rec.source"): "the description an exported file carries",
    ("labram/stages/finetune.py", "cfg.drop_path"): "a rate (stochastic depth), not a path",
}
"""(file, expression): why the path is put into the text as it is."""


def _names_a_path(e: ast.expr) -> bool:
    """Whether ``e`` is a path by its name: ``path``, ``self.out``, ``rec['file']``,
    ``os.path.basename(path)``, ``str(root)``, ``redact(url)``, ``path.parent``."""
    if isinstance(e, ast.Call):
        f = e.func
        if isinstance(f, ast.Attribute) and f.attr in OS_PATH:
            return isinstance(f.value, ast.Attribute) and f.value.attr == "path"
        wraps = isinstance(f, ast.Name) and f.id in ("str", "redact", "repr", "list", "sorted")
        wraps |= isinstance(f, ast.Attribute) and f.attr == "fspath"
        return wraps and bool(e.args) and _names_a_path(e.args[0])
    if isinstance(e, ast.Attribute) and e.attr in ("name", "parent", "stem"):
        return _names_a_path(e.value)
    if isinstance(e, ast.Subscript) and isinstance(e.slice, ast.Constant):
        return isinstance(e.slice.value, str) and bool(PATH_WORDS.search(e.slice.value.lower()))
    name = e.id if isinstance(e, ast.Name) else e.attr if isinstance(e, ast.Attribute) else ""
    constant = name.isupper()  # (a path of the code's own, _KEEP_WEIGHTS)
    return bool(PATH_WORDS.search(name.lower())) and not name.startswith("shown") and not constant


LOG_CALLS = {"debug", "info", "warning", "error", "exception", "critical"}


def _put_into_text(node: ast.AST) -> list[ast.expr]:
    """The values ``node`` puts into the words of a message: an f-string's (one with a space
    in its text), and a log call's ``%s`` arguments."""
    if isinstance(node, ast.JoinedStr):
        text = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
        values = [v for v in node.values if isinstance(v, ast.FormattedValue)]
        return [v.value for v in values] if " " in text else []  # (`!r` too: no shortening)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args:
        first = node.args[0]
        if node.func.attr in LOG_CALLS and isinstance(first, ast.Constant):
            return node.args[1:] if "%s" in str(first.value) else []
    return []


def raw_paths(root: Path) -> list[str]:
    """Every value that a message puts into its words as a path other than by
    :func:`~eegprep.base.path_limits.shown_path`, as ``file:line: {expression}``."""
    found = []
    files = [root / "cli.py", *sorted((root / "eegprep").rglob("*.py"))]
    for path in [*files, *sorted((root / "labram").rglob("*.py"))]:
        rel = path.relative_to(root).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            for value in _put_into_text(node):
                said = ast.unparse(value)
                if _names_a_path(value) and (rel, said) not in RAW_ON_PURPOSE:
                    found.append(f"{rel}:{value.lineno}: {{{said}}}")
    return found


def test_no_message_puts_a_raw_path_into_its_text() -> None:
    assert raw_paths(Path(__file__).resolve().parents[1]) == []


def test_the_scan_finds_a_raw_path(tmp_path: Path) -> None:
    (tmp_path / "eegprep").mkdir()
    (tmp_path / "labram").mkdir()
    (tmp_path / "cli.py").write_text(
        'def f(path, rec, out):\n'
        '    a = f"{path}: not found"\n'
        '    b = f"{shown_path(path)}: not found"\n'
        '    c = f"wrote {rec[\'file\']} and {os.path.basename(out)}"\n'
        '    d = f"{path!r} is {shown_store} ok"\n'
        '    log.warning("%s: damaged (%s)", out, shown_path(path))\n'
        '    e = f"stores {list(stores)} and {repr(rec.file)} hold none"\n'
    )  # fmt: skip
    assert raw_paths(tmp_path) == [
        "cli.py:2: {path}", "cli.py:4: {rec['file']}", "cli.py:4: {os.path.basename(out)}",
        "cli.py:5: {path}", "cli.py:6: {out}", "cli.py:7: {list(stores)}",
        "cli.py:7: {repr(rec.file)}",
    ]  # fmt: skip
