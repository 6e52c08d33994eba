"""No function of the product grows past :data:`LIMIT` lines (docstring included).

A maintainer reads a function whole: one that holds a command's whole logic (embed's 153
lines, the trainer's 81) hides which step does what and where a change belongs. Each is
split into named steps instead (docs/architecture.md); the few kept longer are listed in
:data:`ALLOWED`, each with its reason, and an entry that no longer applies must go.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

LIMIT = 60
"""Lines of a function from its ``def`` to its last line, docstring included, decorators not
(``end_lineno - lineno + 1``, as a reviewer's AST walk counts them)."""

_TABLE = "a flat table of click option declarations: one entry per flag reads best"
_KIT = "test kit (eegprep/testing): the numpydoc of its many parameters is the length; code < 60"

ALLOWED: dict[str, str] = {
    "labram/command_options.py:train_options": _TABLE,  # (16 flags, 87 lines of declarations)
    "eegprep/testing/edf_writer.py:write_edf": _KIT,
    "eegprep/testing/edf_writer.py:edf_header_bytes": _KIT,
    "eegprep/testing/synth.py:eeg_like": _KIT,
    "eegprep/testing/fixtures/cnt_writer.py:write_cnt": _KIT,
    "eegprep/testing/fixtures/gdf_writer.py:write_gdf": _KIT,
}
"""``path:function`` -> why it stays longer than :data:`LIMIT`."""


def function_lengths(root: Path) -> dict[str, int]:
    """``path:function`` -> the longest length of a function of that name in that file, for
    every function (methods and nested ones too) of eegprep, labram and cli.py."""
    files = [root / "cli.py", *sorted((root / "eegprep").rglob("*.py"))]
    files += sorted((root / "labram").rglob("*.py"))
    out: dict[str, int] = {}
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                assert node.end_lineno is not None
                key = f"{path.relative_to(root).as_posix()}:{node.name}"
                out[key] = max(out.get(key, 0), node.end_lineno - node.lineno + 1)
    return out


def test_no_function_is_longer_than_the_limit() -> None:
    long = {k: n for k, n in function_lengths(REPO).items() if n > LIMIT and k not in ALLOWED}
    assert not long, (
        f"functions over {LIMIT} lines (split them into named steps, or list one in ALLOWED "
        f"with its reason): {dict(sorted(long.items(), key=lambda kv: -kv[1]))}"
    )


def test_every_allowed_entry_still_applies() -> None:
    lengths = function_lengths(REPO)
    stale = sorted(k for k in ALLOWED if lengths.get(k, 0) <= LIMIT)
    assert not stale, f"ALLOWED entries no longer over {LIMIT} lines (delete them): {stale}"


def test_the_count_catches_a_long_function(tmp_path: Path) -> None:
    """The walk sees a long method of a class in a subpackage (the check is not vacuous)."""
    for folder in ("eegprep/sub", "labram"):
        (tmp_path / folder).mkdir(parents=True)
    body = "\n".join(f"        x{i} = {i}" for i in range(LIMIT))
    (tmp_path / "eegprep/sub/m.py").write_text(f"class C:\n    def f(self):\n{body}\n")
    (tmp_path / "cli.py").write_text("def main():\n    pass\n")
    lengths = function_lengths(tmp_path)
    assert lengths == {"eegprep/sub/m.py:f": LIMIT + 1, "cli.py:main": 2}
