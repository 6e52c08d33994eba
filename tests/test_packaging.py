"""Packaging: what the product cites exists, the corpora ship, one version, a wheel that works.

The fast tests read the checkout. The slow one builds the sdist and the wheel, checks what they
hold, installs the wheel into a folder outside the repository and runs the commands from there.
"""

from __future__ import annotations

import ast
import fnmatch
import importlib.metadata
import os
import re
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import eegprep
import labram
from cli import eegprep_cli, labram_cli
from eegprep.corpus.manifest import MANIFEST_DIR, load_manifest

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
MANIFESTS = sorted(p.stem for p in (REPO / "manifests").glob("*.toml"))

# A cited path: a repository folder, then a file with one of these suffixes, maybe an #anchor.
CITATION = re.compile(
    r"(?<![\w./-])((?:docs|manifests|eegprep|labram|tests|benchmarks)/[\w./-]*?\w\.(?:md|toml|py|txt))"
    r"(#[\w-]+)?"
)
# Where the product's citations live (CHANGELOG.md is history: it may name removed files).
CITING = [
    *sorted((REPO / "eegprep").rglob("*.py")),
    *sorted((REPO / "labram").rglob("*.py")),
    REPO / "cli.py",
    *sorted((REPO / "manifests").glob("*.toml")),
    *sorted((REPO / "docs").glob("*.md")),
    REPO / "README.md",
]
SKIP_DIRS = {".git", ".venv", "__pycache__", "build", "dist", "runs", "demo"}
TEXT_SUFFIXES = {".py", ".md", ".toml", ".txt", ".cfg", ".ini", ".yml", ".yaml", ".sh", ""}


def _wheel_prefixes() -> dict[str, str]:
    """Installed path prefix -> repository folder, from pyproject's package-dir
    (``eegprep/docs/`` -> ``docs/``): a citation of an installed path resolves there."""
    mapping = PYPROJECT["tool"]["setuptools"]["package-dir"]
    return {
        pkg.replace(".", "/") + "/": (d.strip("./") + "/" if d != "." else "")
        for pkg, d in mapping.items()
    }


def _resolve(cited: str) -> Path:
    for installed, folder in _wheel_prefixes().items():
        if cited.startswith(installed):
            return REPO / (folder + cited.removeprefix(installed))
    return REPO / cited


def _slug(heading: str) -> str:
    """GitHub's anchor of a Markdown heading: lower case, punctuation dropped, spaces -> '-'."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(md: Path) -> set[str]:
    out, fenced = set(), False
    for line in md.read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced and (m := re.match(r"#{1,6} (.+)", line)):
            out.add(_slug(m.group(1)))
    return out


def _repo_text_files() -> list[Path]:
    out = []
    for root, dirs, files in os.walk(REPO):
        dirs[:] = [
            d
            for d in dirs
            if d not in SKIP_DIRS and not d.endswith((".egg-info", ".zarr", "_cache"))
        ]
        out += [Path(root) / f for f in files if Path(f).suffix in TEXT_SUFFIXES]
    return out


SHIPPED_FOLDERS = ("eegprep", "labram", "manifests", "docs")
"""The repository's folders whose every file the wheel holds (under ``eegprep/`` for the last
two: pyproject's package-dir), with ``cli.py`` (its ``py-modules``)."""


def _tracked() -> list[str]:
    """The repository's files of a release under :data:`SHIPPED_FOLDERS` and ``cli.py``, as
    POSIX paths: what git tracks there, or in a folder git does not know (an unpacked sdist)
    every file but compiled ones."""
    try:
        argv = ["git", "ls-files", "-z", "--", *SHIPPED_FOLDERS, "cli.py"]
        out = subprocess.run(argv, cwd=REPO, capture_output=True, check=True, timeout=60).stdout
        return sorted(p for p in out.decode("utf-8").split("\0") if p)
    except (OSError, subprocess.CalledProcessError):
        pass
    found = [REPO / "cli.py"]
    for folder in SHIPPED_FOLDERS:
        found += [p for p in (REPO / folder).rglob("*") if p.is_file()]
    return sorted(
        p.relative_to(REPO).as_posix()
        for p in found
        if "__pycache__" not in p.parts and p.suffix != ".pyc"
    )


def _glob_matches(rel: str, pattern: str) -> bool:
    """Whether the path ``rel`` (relative to a package's folder) is one that ``pattern`` of
    package-data takes: a glob, segment by segment (``*.toml`` takes no ``sub/x.toml``)."""
    parts, globs = rel.split("/"), pattern.split("/")
    return len(parts) == len(globs) and all(map(fnmatch.fnmatchcase, parts, globs))


def _installed(repo_path: str) -> str | None:
    """Where the repository's file ``repo_path`` lands in the wheel, by pyproject's packages,
    package-dir, py-modules and package-data (as setuptools reads them: a module is taken in
    its package's folder, any other file only when a package-data glob of its package, or of
    one above it, or of ``*`` takes it); None when the wheel does not hold it."""
    setup = PYPROJECT["tool"]["setuptools"]
    package_dir: dict[str, str] = setup.get("package-dir", {})
    for module in setup.get("py-modules", []):
        package, _, name = module.rpartition(".")
        folder = package_dir.get(package, package.replace(".", "/")).strip("./")
        if repo_path == "/".join(filter(None, [folder, f"{name}.py"])):
            return module.replace(".", "/") + ".py"
    folders = {}  # the repository folder of each package -> the package
    for package in setup["packages"]:
        outer = next((p for p in sorted(package_dir, key=len, reverse=True)
                      if package == p or package.startswith(p + ".")), None)  # fmt: skip
        if outer is None:
            folders[package.replace(".", "/")] = package
        else:
            rest = package.removeprefix(outer).lstrip(".").replace(".", "/")
            folders["/".join(filter(None, [package_dir[outer].strip("./"), rest]))] = package
    globs: dict[str, list[str]] = setup.get("package-data", {})
    parts = repo_path.split("/")
    for i in range(len(parts) - 1, 0, -1):  # its own folder first, then those above it
        package = folders.get("/".join(parts[:i]))
        if package is None:
            continue
        rel = "/".join(parts[i:])
        taken = (
            rel.endswith(".py") and "/" not in rel
            if repo_path.endswith(".py")
            else any(_glob_matches(rel, g) for g in [*globs.get(package, []), *globs.get("*", [])])
        )
        if taken:
            return package.replace(".", "/") + "/" + rel
    return None


def test_every_file_of_the_packages_ships() -> None:
    """Every file of eegprep/, labram/, manifests/ and docs/ (of any kind: a manifest, a
    channel table, a template, a preset, py.typed) and cli.py is one the wheel takes, by
    pyproject's own tables: a data file no package-data glob names is left out of the wheel
    unsaid (a wheel once shipped without the corpora manifests), and a folder of data no
    package lists too. The slow test checks the same list against a built wheel."""
    tracked = _tracked()
    assert "cli.py" in tracked and any(p.startswith("manifests/") for p in tracked)
    left_out = [p for p in tracked if _installed(p) is None]
    assert not left_out, (
        "not in the wheel (add the folder to [tool.setuptools] packages, or a glob that takes "
        f"the file to [tool.setuptools.package-data]): {left_out}"
    )


def test_both_packages_say_they_are_typed() -> None:
    """eegprep and labram carry their annotations to the user's type checker (PEP 561's
    py.typed marker, in the wheel): without it mypy takes ``import eegprep`` in the user's
    code as untyped ('missing library stubs or py.typed marker')."""
    tracked = _tracked()
    for package in ("eegprep", "labram"):
        assert f"{package}/py.typed" in tracked
        assert _installed(f"{package}/py.typed") == f"{package}/py.typed"


def test_cited_paths_resolve_inside_the_repository() -> None:
    """Every docs/, manifests/, eegprep/, labram/, tests/ path cited in code, manifests and docs
    is a file of the repository (or of the installed package: eegprep/docs/... is docs/...), and
    every #anchor is a heading of that Markdown file."""
    bad, n = [], 0
    for file in CITING:
        for m in CITATION.finditer(file.read_text(encoding="utf-8")):
            n += 1
            cited, anchor = m.group(1), m.group(2)
            target = _resolve(cited)
            where = f"{file.relative_to(REPO)}: {m.group(0)}"
            if not target.is_file():
                bad.append(f"{where} (no such file)")
            elif anchor and anchor[1:] not in _anchors(target):
                bad.append(f"{where} (no heading with that anchor)")
    assert n > 100, n  # the scan sees the citations
    assert not bad, "\n".join(bad)


def test_no_file_cites_a_folder_outside_the_repository() -> None:
    outside = re.compile(r"\.\./" + "shared|" + r"\b(?:labram-facts|DESIGN|STYLE)\.md")
    hits = [
        f"{p.relative_to(REPO)}:{i}: {line.strip()}"
        for p in _repo_text_files()
        for i, line in enumerate(p.read_text(encoding="utf-8", errors="replace").splitlines(), 1)
        if outside.search(line)
    ]
    assert not hits, "\n".join(hits)


def test_corpora_lists_every_shipped_manifest() -> None:
    res = CliRunner().invoke(eegprep_cli, ["corpora"])
    assert res.exit_code == 0, res.output
    assert [line.split()[0] for line in res.output.splitlines()] == MANIFESTS
    assert len(MANIFESTS) >= 25


@pytest.mark.parametrize("name", MANIFESTS)
def test_every_corpus_has_its_section_in_the_docs(name: str) -> None:
    """`eegprep corpora NAME` points at the corpus's section of docs/corpora.md on this
    installation, and every docs citation of its quirks is a heading there."""
    assert name in _anchors(REPO / "docs" / "corpora.md")
    res = CliRunner().invoke(eegprep_cli, ["corpora", name])
    assert res.exit_code == 0, res.output
    notes = [line for line in res.output.splitlines() if line.startswith("notes: ")]
    assert notes == [f"notes: {REPO / 'docs' / 'corpora.md'}#{name}"]
    assert all(src for _, src in load_manifest(name).quirks)  # every quirk names its source


@pytest.mark.parametrize("name", MANIFESTS)
def test_docs_a_corpus_cites_are_found_where_it_says(name: str) -> None:
    """A quirk's source cites docs/NAME.md by its repository path; the description ends, as a
    --help that cites docs does, with the folder those pages are in on this installation (a
    wheel has no docs/ beside the folder the user runs in)."""
    text = CliRunner().invoke(eegprep_cli, ["corpora", name]).output
    cited = set(re.findall(r"docs/([\w-]+\.md)", text))
    where = re.search(r"^The docs/ pages cited above are in (\S+)\.$", text, re.MULTILINE)
    assert bool(cited) == bool(where), text[-300:]
    for page in cited:
        assert where and (Path(where.group(1)) / page).is_file(), (name, page)


def test_shipped_files_are_found_in_a_checkout() -> None:
    from eegprep.base.resources import doc_path, shipped_dir

    assert MANIFEST_DIR == REPO / "manifests"
    assert shipped_dir("docs") == REPO / "docs"
    assert doc_path("docs/corpora.md#tuh") == f"{REPO / 'docs' / 'corpora.md'}#tuh"
    assert doc_path("SEED readme.txt") == "SEED readme.txt"


def test_one_version() -> None:
    """The version is written once (eegprep/base/version.py); pyproject and both packages read it
    there."""
    project = PYPROJECT["project"]
    assert "version" not in project and "version" in project["dynamic"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {
        "attr": "eegprep.base.version.__version__"
    }
    literals = [
        p
        for pkg in ("eegprep", "labram")
        for p in (REPO / pkg).rglob("*.py")
        if re.search(r"^__version__\s*=", p.read_text(encoding="utf-8"), flags=re.M)
    ]
    assert literals == [REPO / "eegprep" / "base" / "version.py"]
    assert labram.__version__ == eegprep.__version__
    # what `eegprep --version` prints: the installed distribution's metadata
    assert importlib.metadata.version("labram") == eegprep.__version__


def _declared(requirements: list[str]) -> set[str]:
    """The distribution names ``requirements`` list, in PEP 503's normal form."""
    return {
        re.sub(r"[-_.]+", "-", re.match(r"[A-Za-z0-9._-]+", r)[0]).lower()  # type: ignore[index]
        for r in requirements
    }


def test_every_imported_distribution_is_declared() -> None:
    """Each third-party module the product imports comes from a distribution pyproject.toml
    declares (a dependency, or an extra's for optional imports): one that arrived only through
    another package's requirements vanishes with that package's release (google-crc32c, which
    newer zarr brings and zarr 3.1.3 does not, left every store module unimportable)."""
    import ast

    project = PYPROJECT["project"]
    declared = _declared(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        declared |= _declared(extra)
    owners = importlib.metadata.packages_distributions()
    undeclared = {}
    for path in [
        *(REPO / "eegprep").rglob("*.py"),
        *(REPO / "labram").rglob("*.py"),
        REPO / "cli.py",
    ]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for top in {m.split(".")[0] for m in modules} - {"eegprep", "labram", "cli"}:
                if top in sys.stdlib_module_names:
                    continue
                names = _declared(owners.get(top, [top]))
                if not names & declared:
                    undeclared[top] = path.relative_to(REPO).as_posix()
    assert not undeclared, f"imported, not declared in pyproject.toml: {undeclared}"


def test_the_bids_extra_declares_what_the_bids_fixture_imports() -> None:
    """``pip install 'labram[bids]'`` brought mne-bids alone, and writing the fixture failed
    (``pybv >= 0.7.3 is required``): mne-bids writes BrainVision with pybv, not requiring it."""
    import ast
    import inspect

    from eegprep.testing.fixtures.misc import write_bids

    project = PYPROJECT["project"]
    extra = _declared(project["dependencies"]) | _declared(project["optional-dependencies"]["bids"])
    owners = importlib.metadata.packages_distributions()
    tree = ast.parse(inspect.getsource(write_bids).lstrip())
    tops = {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    tops |= {
        a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names
    }
    assert {"mne_bids", "pybv"} <= tops
    missing = {t for t in tops if not _declared(owners.get(t, [t])) & extra}
    assert not missing, f"the bids fixture imports, and the bids extra lacks: {missing}"


@pytest.mark.parametrize("module", ["mne_bids", "pybv"])
def test_the_bids_fixture_without_its_extra_is_one_line(
    module: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without mne-bids (or pybv) the fixture was a ModuleNotFoundError traceback."""
    from eegprep.base.errors import UsageError
    from eegprep.testing.fixtures import write_fixture

    monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(
        UsageError, match=rf"{module} is not installed: pip install 'labram\[bids\]'$"
    ):
        write_fixture("bids", tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("package", ["eegprep", "labram"])
def test_python_m_runs_the_command(package: str, tmp_path: Path) -> None:
    """``python -m eegprep`` / ``python -m labram`` (a virtual environment used without
    activating it, Windows, ``torchrun -m labram``) are the console scripts."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    res = subprocess.run([sys.executable, "-m", package, "--version"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert res.stdout == f"{package}, version {eegprep.__version__}\n"


@pytest.mark.parametrize("package", [eegprep, labram], ids=["eegprep", "labram"])
def test_lazy_exports_are_typed(package: Any) -> None:
    """Both packages export their API lazily (a module ``__getattr__``): a user's type checker
    sees only the names ``if TYPE_CHECKING:`` imports, and took every other name of
    ``__all__`` as Any (labram's 20: ``labram.model_config`` revealed "Any" to mypy)."""
    tree = ast.parse(Path(package.__file__).read_text(encoding="utf-8"))
    declared: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            for stmt in ast.walk(node):
                if isinstance(stmt, ast.ImportFrom):
                    declared |= {alias.asname or alias.name for alias in stmt.names}
    assert set(package.__all__) - declared == set()
    assert set(getattr(package, "_EXPORTS", {})) - set(package.__all__) == set()
    for name in package.__all__:
        getattr(package, name)  # and served at run time


def test_the_licence_text_is_shipped() -> None:
    """pyproject.toml declares MIT, whose text asks that it travel with every copy: the
    LICENSE file is in the repository and named as the distribution's licence file."""
    meta = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert meta["license"] == "MIT" and meta["license-files"] == ["LICENSE"]
    assert (REPO / "LICENSE").read_text().startswith("MIT License\n")


def test_the_classifiers_say_what_the_release_is() -> None:
    """The index's filters read the classifiers: the distribution had none, so a search for
    typed packages (both ship ``py.typed``) or for a Python version did not find it. Typed,
    Python 3 only, the lowest Python ``requires-python`` accepts among those named, and the
    licence said once, by its SPDX expression (setuptools refuses a licence classifier beside
    it)."""
    meta = PYPROJECT["project"]
    classifiers = meta.get("classifiers", [])
    assert "Typing :: Typed" in classifiers
    assert "Programming Language :: Python :: 3 :: Only" in classifiers
    lowest = meta["requires-python"].removeprefix(">=")
    minors = [c.rpartition(" :: ")[2] for c in classifiers
              if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)]  # fmt: skip
    assert minors and minors[0] == lowest and minors == sorted(minors, key=lambda v: int(v[2:]))
    assert not [c for c in classifiers if c.startswith("License ::")]
    assert len(set(classifiers)) == len(classifiers)


def test_console_scripts_need_no_generic_module() -> None:
    """The console scripts target eegprep._console, which runs the checkout's root cli.py here
    (a wheel installs it as eegprep._cli.cli)."""
    import signal

    import cli

    kept = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        from eegprep import _console
    finally:  # (importing it takes the signals over, for the console scripts: not pytest's)
        for sig, handler in kept.items():
            signal.signal(sig, handler)

    scripts = PYPROJECT["project"]["scripts"]
    assert scripts == {
        "eegprep": "eegprep._console:eegprep_main",
        "labram": "eegprep._console:labram_main",
    }
    assert "cli" not in PYPROJECT["tool"]["setuptools"].get("py-modules", [])
    assert _console._cli_module() is cli


def _run(cmd: list[str], cwd: Path, env: dict[str, str]) -> str:
    res = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, f"{cmd}:\n{res.stdout[-2000:]}\n{res.stderr[-3000:]}"
    return res.stdout


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The wheel and the sdist, built once for the module's slow tests (the wheel from the
    sdist, as ``python -m build`` does)."""
    pytest.importorskip("build")
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env.pop("PYTHONPATH", None)
    dist = tmp_path_factory.mktemp("dist")
    # --no-isolation: this environment's setuptools
    _run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist), str(REPO)],
         dist, env)  # fmt: skip
    (wheel,) = dist.glob("labram-*.whl")
    (sdist,) = dist.glob("labram-*.tar.gz")
    return wheel, sdist


@pytest.mark.slow
def test_wheel_works_outside_the_repository(tmp_path: Path, built: tuple[Path, Path]) -> None:
    """Check what the sdist and the wheel hold, install the wheel (no dependencies: this
    environment has them) into a folder outside the repository and run it from there."""
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "MPLBACKEND": "Agg"}
    env.pop("PYTHONPATH", None)
    wheel, sdist = built

    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
    top = {n.split("/")[0] for n in names}
    assert top == {"eegprep", "labram", f"labram-{eegprep.__version__}.dist-info"}, top
    # every file of the packages, manifests and docs, of any kind, where the fast test's
    # reading of pyproject puts it, and nothing else
    info = f"labram-{eegprep.__version__}.dist-info/"
    expected = {_installed(p) for p in _tracked()}
    assert {n for n in names if not n.startswith(info)} == expected
    for name in MANIFESTS:
        assert f"eegprep/manifests/{name}.toml" in names
    assert {"eegprep/py.typed", "labram/py.typed"} <= set(names)
    assert "eegprep/_cli/cli.py" in names and "cli.py" not in names
    with tarfile.open(sdist) as tf:
        members = {m.split("/", 1)[-1] for m in tf.getnames()}
    assert {"pyproject.toml", "README.md", "cli.py", "docs/corpora.md"} <= members
    # the release, not the repository: no part of the test suite (setuptools' default took
    # five of its files, without the helpers they import), no benchmarks, no CI script
    assert not [m for m in members if m.split("/")[0] in {"tests", "benchmarks", ".ci"}]
    assert {"LICENSE", "CHANGELOG.md"} <= members
    assert f"labram-{eegprep.__version__}.dist-info/licenses/LICENSE" in names
    assert {f"manifests/{name}.toml" for name in MANIFESTS} <= members
    if importlib.util.find_spec("twine"):
        _run([sys.executable, "-m", "twine", "check", "--strict", str(wheel), str(sdist)],
             tmp_path, env)  # fmt: skip

    site = tmp_path / "site"
    _run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--target",
          str(site), str(wheel)], tmp_path, env)  # fmt: skip
    env["PYTHONPATH"] = str(site)
    work = tmp_path / "work"
    work.mkdir()
    bin_ = site / "bin"
    assert eegprep.__version__ in _run([str(bin_ / "eegprep"), "--version"], work, env)
    assert eegprep.__version__ in _run([str(bin_ / "labram"), "--version"], work, env)
    for package in ("eegprep", "labram"):
        shown = _run([sys.executable, "-m", package, "--version"], work, env)
        assert shown == f"{package}, version {eegprep.__version__}\n"
    listed = _run([str(bin_ / "eegprep"), "corpora"], work, env)
    assert [line.split()[0] for line in listed.splitlines()] == MANIFESTS
    shown = _run([str(bin_ / "eegprep"), "corpora", "tusz"], work, env)
    notes = next(line for line in shown.splitlines() if line.startswith("notes: "))
    doc = Path(notes.removeprefix("notes: ").partition("#")[0])
    assert doc == site / "eegprep" / "docs" / "corpora.md" and doc.is_file()
    assert f"The docs/ pages cited above are in {site / 'eegprep' / 'docs'}." in shown
    probe = (
        "import importlib.util as u, eegprep, eegprep._console as c, eegprep.corpus.manifest as m;"
        "print(eegprep.__file__); print(c._cli_module().__file__); print(m.MANIFEST_DIR);"
        "print(u.find_spec('cli'))"
    )
    where = _run([sys.executable, "-c", probe], work, env).split()
    assert where[:3] == [
        str(site / "eegprep" / "__init__.py"),
        str(site / "eegprep" / "_cli" / "cli.py"),
        str(site / "eegprep" / "manifests"),
    ]
    assert where[3] == "None"  # no top-level `cli` module installed
    # the demo corpus and an ingest, by the installed code
    _run([str(bin_ / "eegprep"), "demo", "--out", "demo"], work, env)
    _run([str(bin_ / "eegprep"), "ingest", "tuh", "--src", "demo/tuh", "--out", "demo.zarr",
          "--workers", "0"], work, env)  # fmt: skip
    assert "tuh" in _run([str(bin_ / "eegprep"), "stats", "demo.zarr"], work, env)
    _every_corpus_ingests(bin_ / "eegprep", work, env, site / "eegprep" / "docs")


BARE_DOC = re.compile(r"(?<![\w./-])docs/[\w-]+\.md")
"""A docs page cited by its repository path, which a wheel user has no folder for."""


def _every_corpus_ingests(eegprep_: Path, work: Path, env: dict[str, str], docs: Path) -> None:
    """From the installed wheel: each corpus's fixture, written by the installed kit
    (``tuh``: the demo's), ingested by the installed command; a message that cites a docs page
    names the installed file (the warning of a recording whose blocks would differ cited
    ``docs/store-format.md``)."""
    kit = (
        "from eegprep.testing.fixtures import load_fixtures, write_fixture\n"
        "for name in sorted(load_fixtures()): print(name, write_fixture(name, f'fx/{name}'))"
    )
    roots = dict(
        line.split(" ", 1) for line in _run([sys.executable, "-c", kit], work, env).splitlines()
    )
    assert sorted({*roots, "tuh"}) == MANIFESTS
    said = []
    for name, root in roots.items():
        argv = [str(eegprep_), "ingest", name, "--src", root, "--out", f"{name}.zarr",
                "--workers", "0", "--mains", "50"]  # fmt: skip
        res = subprocess.run(argv, cwd=work, env=env, capture_output=True, text=True, timeout=600)
        assert res.returncode == 0, f"{name}: {res.stdout[-1000:]}{res.stderr[-2000:]}"
        assert f"{name}: " in res.stdout and " 0 skipped" in res.stdout, (name, res.stdout)
        said += (res.stdout + res.stderr).splitlines()
    again = [str(eegprep_), "ingest", "tuh", "--src", "demo/tuh", "--out", "demo.zarr",
             "--workers", "0", "--file-memory-limit", "24M"]  # fmt: skip
    res = subprocess.run(again, cwd=work, env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    said += res.stderr.splitlines()
    assert [line for line in said if BARE_DOC.search(line)] == []
    cited = {m.partition("#")[0] for m in re.findall(r"\((/\S+\.md[#\w-]*)\)", res.stderr)}
    assert cited == {str(docs / "store-format.md")} and Path(next(iter(cited))).is_file()


def test_docs_cited_in_error_messages_are_files_of_this_installation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A message that sends the user to a doc names a file that exists wherever they run
    (a wheel install has no docs/ beside the working folder: eegprep/docs/ in the package)."""
    from types import SimpleNamespace

    from eegprep.base.errors import ConfigError
    from eegprep.ingestion.driver import _blocks_note
    from eegprep.ingestion.options import IngestConfig
    from eegprep.ingestion.source_channels import _no_eeg_problem
    from labram.train.config import train_config

    monkeypatch.chdir(tmp_path)  # far from the repository's docs/
    signal = SimpleNamespace(label="X1", kind="misc")
    messages = [_no_eeg_problem(SimpleNamespace(signals=[signal], labels=["X1"]))]  # type: ignore[arg-type]
    # the warning of a recording ingested again because its blocks would differ
    messages.append(_blocks_note((240.0, 10.0), IngestConfig(file_memory_limit=2**20)))
    with pytest.raises(ConfigError) as err:
        train_config("finetune", "tiny", epochz=3)
    messages.append(str(err.value))
    for message in messages:
        cited = re.findall(r"\((\S+\.md)", message)
        assert cited, message
        for ref in cited:
            assert Path(ref).is_absolute() and Path(ref).is_file(), message


def _message_literals(path: Path) -> list[tuple[int, str]]:
    """The string literals of a module that can reach a user as a message: every one but the
    docstrings (of the module, a class, a function or an attribute: a bare string statement),
    the help text of an option or command (``help=``, ``epilog=``: --help ends with where the
    docs are, :class:`eegprep.cli_group.CitingCommand`) and the arguments of ``doc_path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            skipped.add(id(node.value))
        elif isinstance(node, ast.keyword) and node.arg in ("help", "epilog", "short_help"):
            skipped.update(id(n) for n in ast.walk(node.value))
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "doc_path":
            skipped.update(id(n) for n in ast.walk(node))
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
        and id(node) not in skipped
    ]  # fmt: skip


def test_messages_cite_docs_through_the_installed_folder() -> None:
    """A message (an error, a warning, a note, a report's line) that cites docs/NAME.md names
    that page through :func:`eegprep.base.resources.doc_path`: a user of the wheel has no
    docs/ folder beside the working folder ("docs/store-format.md" sent them nowhere)."""
    bare = [
        f"{path.relative_to(REPO)}:{line}: {text[:80]!r}"
        for path in CITING
        if path.suffix == ".py"
        for line, text in _message_literals(path)
        if re.search(r"docs/[\w-]+\.md", text)
    ]
    assert bare == []


def test_help_that_cites_docs_says_where_they_are_installed() -> None:
    """Every command whose --help cites docs/NAME.md ends with the folder those pages are in
    on this installation, and each page it cites is there."""

    def commands(group: Any, path: list[str]) -> list[tuple[Any, list[str]]]:
        out = []
        for name, cmd in group.commands.items():
            sub = [*path, name]
            out += commands(cmd, sub) if hasattr(cmd, "commands") else [(cmd, sub)]
        return out

    citing = 0
    for root in (eegprep_cli, labram_cli):
        for _, argv in commands(root, []):
            text = CliRunner().invoke(root, [*argv, "--help"]).output
            cited = set(re.findall(r"docs/([\w-]+\.md)", text))
            if not cited:
                continue
            citing += 1
            where = re.search(r"The docs/ pages cited above are in (\S+)\.\n", text)
            assert where, (argv, text[-300:])
            for page in cited:
                assert (Path(where.group(1)) / page).is_file(), (argv, page)
    assert citing >= 3


def _tree(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file and folder under ``folder``: its (size, modification time in ns)."""
    out = {}
    for root, dirs, files in os.walk(folder):
        for name in [*dirs, *files]:
            st = os.lstat(os.path.join(root, name))
            out[os.path.relpath(os.path.join(root, name), folder)] = (st.st_size, st.st_mtime_ns)
    return out


@pytest.mark.slow
def test_the_installed_wheel_writes_nothing_beside_itself(
    tmp_path: Path, built: tuple[Path, Path]
) -> None:
    """Every command a user runs first, from an installed wheel, with no usable home, XDG or
    temporary folder of the user's (a cluster's read-only install and home): each works,
    writes nothing in the installation (no cache, lock, compiled file, index or default),
    and says at most one line about what it missed (matplotlib's folder)."""
    wheel, _ = built
    site = tmp_path / "site"
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env.pop("PYTHONPATH", None)
    _run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--target",
          str(site), str(wheel)], tmp_path, env)  # fmt: skip
    home = tmp_path / "home"
    home.write_text("a file: no folder can be made in it, by root neither\n")
    for name in ("MPLCONFIGDIR", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "MPLBACKEND"):
        env.pop(name, None)
    missing = str(home / "missing")  # (inside a file: no one can make it)
    env.update(PYTHONPATH=str(site), HOME=str(home), XDG_CONFIG_HOME=missing,
               XDG_CACHE_HOME=missing, TMPDIR=missing)  # fmt: skip
    work = tmp_path / "work"
    work.mkdir()
    before = _tree(site)
    eegprep_, labram_ = str(site / "bin" / "eegprep"), str(site / "bin" / "labram")
    commands = [[eegprep_, "--help"], [labram_, "--help"]]
    for cli_, group in ((eegprep_, eegprep_cli), (labram_, labram_cli)):
        for name, cmd in group.commands.items():
            commands.append([cli_, name, "--help"])
            commands += [[cli_, name, sub, "--help"] for sub in getattr(cmd, "commands", {})]
    commands += [
        [eegprep_, "corpora"],
        [eegprep_, "corpora", "tusz"],
        [eegprep_, "config", "show"],
        [eegprep_, "demo", "--out", "d"],
        [eegprep_, "ingest", "tuh", "--src", "d/tuh", "--out", "s.zarr"],
        [eegprep_, "stats", "s.zarr", "--plots", "p", "--html", "s.html"],
        [eegprep_, "validate", "s.zarr"],
        [labram_, "pretrain", "--store", "s.zarr", "--size", "tiny", "--out", "r",
         "--tokenizer-max-steps", "2", "--max-steps", "2"],
        [labram_, "export", "r/mem/model.pt", "--out", "m.safetensors"],
        [labram_, "report", "r", "--html", "r.html"],
        [sys.executable, "-m", "eegprep", "--version"],
        [sys.executable, "-m", "labram", "--help"],
    ]  # fmt: skip
    said = []
    for cmd in commands:
        res = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, timeout=600)
        assert res.returncode == 0, f"{cmd}:\n{res.stdout[-2000:]}\n{res.stderr[-3000:]}"
        said += [(cmd[1:], line) for line in res.stderr.splitlines() if line.strip()]
    allowed = ("warning: matplotlib cannot write ", "note: ")

    def about_a_recording(line: str) -> bool:
        """A data-quality warning (flat or clipped leads in the demo's recordings), which
        names a demo file: not something the environment made the command say."""
        name = line.removeprefix("warning: ").split(": ", 1)[0]
        return line.startswith("warning: ") and (work / "d" / "tuh" / name).is_file()

    unexpected = [s for s in said if not s[1].startswith(allowed) and not about_a_recording(s[1])]
    assert unexpected == []
    drew = [s for s in said if s[1].startswith(allowed[0])]
    assert drew and all(f"{missing}/matplotlib" in line for _, line in drew), drew
    assert _tree(site) == before
    assert (work / "m.safetensors").is_file() and (work / "r.html").is_file()
