"""Promise: a manifest's hash changes with what shapes the stored data, not with how its
tables are written down.

TOML gives a table's keys no order, so a manifest whose ``[path]`` or ``[reader.options]`` keys
are reordered is the same manifest: its corpus is not re-ingested (it was, whole). A store an
earlier version wrote, whose records state the hash of the same manifest computed the old way,
is current too.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from eegprep.corpus.manifest import (
    DESCRIPTIVE_KEYS,
    Manifest,
    _digest,
    _sorted_tables,
    load_manifest,
)
from eegprep.ingestion.driver import IngestConfig, ingest

SERIAL = IngestConfig(workers=0, progress=False)
SHIPPED = Path(__file__).resolve().parents[2] / "manifests" / "tuh.toml"


def _reordered(tmp_path: Path) -> tuple[Path, Path]:
    """The shipped TUH manifest, and the same with its ``[path]`` keys in reverse order."""
    text = SHIPPED.read_text(encoding="utf-8")
    head, _, rest = text.partition("[path]\n")
    table, sep, tail = rest.partition("\n\n")
    lines = table.splitlines()
    keys = [line for line in lines if "=" in line and not line.startswith("#")]
    assert len(keys) >= 4, table
    reordered = head + "[path]\n" + "\n".join(reversed(keys)) + sep + tail
    a, b = tmp_path / "a.toml", tmp_path / "b.toml"
    a.write_text(text, encoding="utf-8")
    b.write_text(reordered, encoding="utf-8")
    assert load_manifest(a).raw["path"] == load_manifest(b).raw["path"]  # the same table
    assert list(load_manifest(a).raw["path"]) != list(load_manifest(b).raw["path"])
    return a, b


def test_reordered_table_keys_keep_the_hash(tmp_path: Path) -> None:
    a, b = _reordered(tmp_path)
    assert load_manifest(a).hash() == load_manifest(b).hash()


def test_a_changed_value_or_list_order_changes_the_hash(tmp_path: Path) -> None:
    m = load_manifest(SHIPPED)
    other = load_manifest(SHIPPED)
    other.raw["path"] = {**m.raw["path"], "subject": "x{subject}"}
    assert other.hash() != m.hash()
    listed = load_manifest(SHIPPED)
    listed.raw["sidecar"] = {"parser": "tuh_csv", "suffixes": [".csv_bi", ".csv"]}
    swapped = load_manifest(SHIPPED)
    swapped.raw["sidecar"] = {"parser": "tuh_csv", "suffixes": [".csv", ".csv_bi"]}
    assert listed.hash() != swapped.hash()  # a list is taken in its order


def test_the_files_chosen_leave_the_hash_as_it_is() -> None:
    """``[files]`` (and ``--include``, which replaces its ``include``) chooses which files are
    ingested, and shapes nothing stored of any of them."""
    m = load_manifest(SHIPPED)
    other = load_manifest(SHIPPED)
    other.raw["files"] = {"include": ["edf/000/**/*.edf"], "exclude": ["**/x*.edf"]}
    assert other.hash() == m.hash()


def test_ingesting_part_of_a_corpus_then_all_of_it_re_ingests_nothing(tmp_path: Path) -> None:
    from eegprep.testing.fixtures import write_fixture

    root, out = write_fixture("tuab", tmp_path / "src"), tmp_path / "s.zarr"
    part = IngestConfig(workers=0, progress=False, include=("edf/train/**/*.edf",))
    assert ingest("tuab", src=root, out=out, config=part).n_ingested == 2
    rep = ingest("tuab", src=root, out=out, config=SERIAL)
    assert (rep.n_ingested, rep.n_current) == (2, 2)
    rep = ingest("tuab", src=root, out=out, config=part)
    assert (rep.n_ingested, rep.n_current) == (0, 2)


def test_a_reordered_manifest_does_not_re_ingest_its_corpus(
    tuh_corpus: Path, tmp_path: Path
) -> None:
    a, b = _reordered(tmp_path)
    out = tmp_path / "s.zarr"
    assert ingest(str(a), src=tuh_corpus, out=out, config=SERIAL).n_ingested == 3
    rep = ingest(str(b), src=tuh_corpus, out=out, config=SERIAL)
    assert (rep.n_ingested, rep.n_current) == (0, 3)


def _old_hash(self: Manifest) -> str:
    """The hash earlier versions wrote: the top-level keys sorted, the tables as written."""
    shaping = {k: v for k, v in self.raw.items() if k not in DESCRIPTIVE_KEYS}
    return hashlib.sha256(repr(sorted(shaping.items())).encode()).hexdigest()[:12]


def test_a_store_written_with_the_old_hash_is_current(
    tuh_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    m = load_manifest(SHIPPED)
    assert _old_hash(m) != m.hash()  # the shipped [path] table is not in sorted order
    out = tmp_path / "s.zarr"
    with monkeypatch.context() as patched:
        patched.setattr(Manifest, "hash", _old_hash)
        assert ingest("tuh", src=tuh_corpus, out=out, config=SERIAL).n_ingested == 3
    rep = ingest("tuh", src=tuh_corpus, out=out, config=SERIAL)
    assert (rep.n_ingested, rep.n_current) == (0, 3)
    again = ingest(str(_reordered(tmp_path)[1]), src=tuh_corpus, out=out, config=SERIAL)
    assert again.n_ingested == 3  # reordered and old: the old hash cannot tell; ingested once


def _hash_with_files(self: Manifest) -> str:
    """The hash the version before this one wrote: ``[files]`` in, every table sorted."""
    shaping = {k: v for k, v in self.raw.items() if k not in DESCRIPTIVE_KEYS}
    return _digest(sorted((k, _sorted_tables(v)) for k, v in shaping.items()))


def test_a_store_written_with_the_files_in_its_hash_is_current(
    tuh_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    m = load_manifest(SHIPPED)
    assert _hash_with_files(m) != m.hash()
    out = tmp_path / "s.zarr"
    with monkeypatch.context() as patched:
        patched.setattr(Manifest, "hash", _hash_with_files)
        assert ingest("tuh", src=tuh_corpus, out=out, config=SERIAL).n_ingested == 3
    rep = ingest("tuh", src=tuh_corpus, out=out, config=SERIAL)
    assert (rep.n_ingested, rep.n_current) == (0, 3)
