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
