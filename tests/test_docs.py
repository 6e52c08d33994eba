"""The Python snippets in docs/*.md run as written (in a folder holding the demo store)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from eegprep.ingestion.driver import IngestConfig, ingest
from eegprep.testing.demo import write_demo_corpus

DOCS = Path(__file__).resolve().parents[1] / "docs"
RUNNABLE = ["interop.md"]


def _snippets(name: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", (DOCS / name).read_text(), flags=re.S)


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("docs")
    src = write_demo_corpus(root / "demo")
    ingest("tuh", src=src, out=root / "demo.zarr", config=IngestConfig(workers=0, progress=False))
    return root


@pytest.mark.parametrize("name", RUNNABLE)
def test_doc_snippets_run(name: str, demo_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import matplotlib

    matplotlib.use("Agg")
    monkeypatch.chdir(demo_dir)
    snippets = _snippets(name)
    assert snippets
    for code in snippets:
        exec(compile(code, f"{name} snippet", "exec"), {})


def _resolves(dotted: str) -> bool:
    """``eegprep.store.reader.open_store``: a module, then attributes of it, that exist."""
    import importlib

    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        try:
            for name in parts[i:]:
                obj = getattr(obj, name)
        except AttributeError:
            return False
        return True
    return False


def test_every_dotted_name_in_the_docs_exists() -> None:
    """A module or function the docs and the README name in code (`eegprep.store.reader`,
    `labram.train.optim.param_groups`) exists under that name: a move cannot strand one."""
    root = Path(__file__).resolve().parents[1]
    pages = [*sorted((root / "docs").glob("*.md")), root / "README.md"]
    missing = sorted(
        {
            f"{page.name}: {hit.group(1)}"
            for page in pages
            for hit in re.finditer(
                r"`((?:eegprep|labram)(?:\.[A-Za-z_]\w*)+)(?:\(\))?`", page.read_text()
            )
            if not _resolves(hit.group(1))
        }
    )
    assert missing == []
