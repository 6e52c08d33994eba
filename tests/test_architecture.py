"""The layers of docs/architecture.md, enforced: imports go down, never up, never round.

Every import of an eegprep or labram module is read from the source (module level, inside
functions and under ``TYPE_CHECKING`` alike), plus the module names the registries import by
string. A module may import its own layer or a layer listed before it in :data:`LAYERS`; the
import graph has no cycle; and every package is declared in pyproject.toml, so that the wheel
holds what the checkout holds.
"""

from __future__ import annotations

import ast
import importlib
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

LAYERS = (
    "eegprep.base",
    "eegprep.readers",
    "eegprep.pipeline",
    "eegprep.corpus",
    "eegprep.store",
    "eegprep.ingestion",
    "eegprep.tools",
    "eegprep.testing",
    "eegprep",  # the package face, the console-script shim, the command groups' error handling
    "labram.model",
    "labram.checkpoints",
    "labram.data",
    "labram.train",
    "labram.stages",
    "labram",  # the package face and the labram command group
    "cli",
)
"""Lowest first. eegprep never imports labram; labram may import any eegprep layer."""

# Registries that import modules by name: (module, regex for the names it imports).
STRING_IMPORTS = {
    "eegprep.readers": r'"(eegprep\.readers\.\w+):\w+"',
    "eegprep.ingestion.workers": r'"(eegprep(?:\.\w+)+)"',
}


def modules(root: Path) -> dict[str, Path]:
    """Dotted name -> file of every module of eegprep and labram under ``root``, and cli."""
    out = {"cli": root / "cli.py"}
    for pkg in ("eegprep", "labram"):
        for path in sorted((root / pkg).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path
    return out


def imports(name: str, path: Path, known: dict[str, Path]) -> Iterator[tuple[str, int]]:
    """(imported module, line) for every eegprep/labram import in ``path``'s source."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = node.module or ""
            targets = [
                f"{source}.{a.name}" if f"{source}.{a.name}" in known else source
                for a in node.names
            ]
        else:
            continue
        for target in targets:
            if target.split(".")[0] in ("eegprep", "labram", "cli"):
                yield target, node.lineno
    pattern = STRING_IMPORTS.get(name)
    if pattern:
        text = path.read_text(encoding="utf-8")
        for hit in re.finditer(pattern, text):
            if hit.group(1) in known:
                yield hit.group(1), text.count("\n", 0, hit.start()) + 1


FACES = {
    "eegprep": (
        "eegprep",
        "eegprep.__main__",
        "eegprep._completion",
        "eegprep._console",
        "eegprep._std_streams",
        "eegprep.cli_group",
        "eegprep.cli_paths",
        "eegprep.cli_notes",
        "eegprep.cli_numbers",
        "eegprep.cli_repeats",
        "eegprep.rerun_hints",
    ),
    "labram": ("labram", "labram.__main__", "labram.command_options", "labram.commands"),
    "cli": ("cli",),
}
"""The face layers hold these modules only; a new subpackage must be placed in a layer."""


def layer_of(name: str) -> int:
    """Index in :data:`LAYERS` of the longest layer that holds ``name``; -1 for none."""
    best = -1
    for i, layer in enumerate(LAYERS):
        holds = name in FACES[layer] if layer in FACES else name.startswith(layer + ".")
        if (name == layer or holds) and (best < 0 or len(layer) > len(LAYERS[best])):
            best = i
    return best


def problems(root: Path) -> list[str]:
    """Every climbing import, every cycle and every module outside a layer, one line each."""
    known = modules(root)
    graph: dict[str, set[str]] = {}
    out = []
    for name, path in known.items():
        if layer_of(name) < 0:
            out.append(f"{name}: in no layer (add its package to LAYERS)")
        graph[name] = set()
        for target, line in imports(name, path, known):
            if target == name:
                continue
            graph[name].add(target)
            if layer_of(target) > layer_of(name):
                rel = path.relative_to(root)
                out.append(
                    f"{rel}:{line}: {name} ({LAYERS[layer_of(name)]}) imports {target} "
                    f"({LAYERS[layer_of(target)]}), a layer above it"
                )
    out += [f"import cycle: {' -> '.join(c)}" for c in cycles(graph)]
    return out


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (as a closed path) per strongly connected group of more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in graph:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(_closed_path(sorted(group), graph))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _closed_path(group: list[str], graph: dict[str, set[str]]) -> list[str]:
    """A path from the group's first module back to itself, inside the group (for the message)."""
    members, start = set(group), group[0]
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(graph[v] & members):
                if w == start:
                    return [*paths[v], start]
                if w not in paths:
                    paths[w] = [*paths[v], w]
                    nxt.append(w)
        frontier = nxt
    return group


def test_no_import_climbs_a_layer_and_none_goes_round() -> None:
    assert problems(REPO) == []


def test_the_product_never_imports_the_test_kits() -> None:
    """eegprep.testing (synthetic corpora) is imported by the tests and the `demo` command only."""
    known = modules(REPO)
    users = sorted(
        f"{name} -> {target}"
        for name, path in known.items()
        for target, _ in imports(name, path, known)
        if target.startswith("eegprep.testing") and not name.startswith("eegprep.testing")
    )
    assert {u.split(" -> ")[0] for u in users} <= {"cli"}, users


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


BASE_TREE = {
    "cli.py": "",
    "eegprep/__init__.py": "",
    "eegprep/base/__init__.py": "",
    "eegprep/base/errors.py": "",
    "eegprep/store/__init__.py": "",
    "eegprep/store/reader.py": "from eegprep.base.errors import X\n",
    "labram/__init__.py": "",
}


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        # a module-level climb
        ({"eegprep/base/errors.py": "from eegprep.store.reader import open_store\n"}, "above it"),
        # a climb hidden in a function
        ({"eegprep/base/errors.py": "def f():\n    from eegprep.store import reader\n"}, "above"),
        # a relative import that climbs
        ({"eegprep/base/errors.py": "from ..store import reader\n"}, "above it"),
        # a cycle inside one layer, one side inside a function
        (
            {
                "eegprep/store/index.py": "from eegprep.store.reader import f\n",
                "eegprep/store/reader.py": "def g():\n    from eegprep.store import index\n",
            },
            "import cycle: eegprep.store.index -> eegprep.store.reader -> eegprep.store.index",
        ),
        # eegprep importing labram
        ({"eegprep/store/reader.py": "import labram\n"}, "a layer above it"),
        # a new package nobody placed
        ({"eegprep/extras/__init__.py": ""}, "in no layer"),
    ],
)
def test_the_check_catches(tmp_path: Path, extra: dict[str, str], expected: str) -> None:
    """The checker itself: each kind of violation, planted in a small tree, is reported."""
    _write(tmp_path, {**BASE_TREE, **extra})
    found = problems(tmp_path)
    assert any(expected in p for p in found), found
    _write(tmp_path / "clean", BASE_TREE)
    assert problems(tmp_path / "clean") == []


def test_every_package_is_in_the_wheel() -> None:
    """pyproject.toml lists its packages by hand: a new folder must be added there."""
    declared = set(
        tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    on_disk = {
        ".".join(p.parent.relative_to(REPO).parts)
        for pkg in ("eegprep", "labram")
        for p in (REPO / pkg).rglob("__init__.py")
    }
    assert on_disk - declared == set()
    folders = {
        ".".join(d.relative_to(REPO).parts)
        for pkg in ("eegprep", "labram")
        for d in [REPO / pkg, *(REPO / pkg).rglob("*")]
        if d.is_dir() and d.name != "__pycache__" and any(d.glob("*.py"))
    }
    assert folders <= on_disk, f"folders with modules but no __init__.py: {folders - on_disk}"


def test_string_registries_name_real_modules() -> None:
    """The module names the registries import by string exist (a rename cannot orphan one)."""
    known = modules(REPO)
    for name, pattern in STRING_IMPORTS.items():
        text = known[name].read_text(encoding="utf-8")
        names = [m.group(1) for m in re.finditer(pattern, text)]
        assert names, name
        for target in names:
            if target.startswith(("eegprep", "labram")):
                importlib.import_module(target)


def test_no_module_imports_another_modules_private_names() -> None:
    """A name that starts with ``_`` is its module's own: one another module needs is made
    public (and documented) where it lives."""
    found = []
    for name, path in modules(REPO).items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in (
                "eegprep",
                "labram",
            ):
                private = [a.name for a in node.names if a.name.startswith("_")]
                private = [p for p in private if not p.startswith("__")]
                if private:
                    found.append(f"{name}:{node.lineno} imports {private} from {node.module}")
    assert found == []


def test_the_architecture_page_names_every_module() -> None:
    """docs/architecture.md's table lists each module of each layer: a new module is placed
    there too (the fixture corpora and sidecar parsers are named by their folder)."""
    doc = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    missing = [
        str(path.relative_to(REPO))
        for pkg in ("eegprep", "labram")
        for path in sorted((REPO / pkg).rglob("*.py"))
        if path.name != "__init__.py"
        and path.parent.name not in ("fixtures", "sidecars")
        and f"`{path.stem}`" not in doc
    ]
    assert missing == []
    for layer in LAYERS:
        if layer not in FACES:
            assert f"`{layer.replace('.', '/')}/`" in doc, layer


def test_one_atomic_write_helper() -> None:
    """Only eegprep/base/files.py makes temporary names to write a file and rename it: every
    whole-file write of the product goes through replaced_atomically / write_atomically."""
    found = []
    for name, path in modules(REPO).items():
        if name == "eegprep.base.files":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            text = node.value if isinstance(node, ast.Constant) else None
            if isinstance(text, str) and ".tmp" in text:
                found.append(f"{name}:{node.lineno}: a temporary name {text!r}")
            if isinstance(node, ast.Attribute) and node.attr in (
                "mkstemp",
                "NamedTemporaryFile",
            ):
                found.append(f"{name}:{node.lineno}: tempfile.{node.attr}")
    assert found == []
