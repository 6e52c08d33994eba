"""Damage outside the chunks: every object of a store is found by `eegprep validate`.

A store holds more than chunks and the index: the groups' and arrays' ``zarr.json``, the
ingest reports and the seen-files cache. A flipped bit in the codec settings of ``data`` went
unreported (it can change how zarr and xarray decode every sample) and some reached readers as
a raw ``KeyError``/``TypeError``; a flipped bit in the two top groups' metadata, the root's
``layout`` or ``unit``, or in ``seen.json`` went unreported; a damaged ingest report made
``eegprep stats`` an internal error. Each is now a problem naming the file, a read is a
:class:`StoreFormatError`, and ``stats`` leaves the report out with a ``note:`` line.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from cli import eegprep_cli
from eegprep import open_store
from eegprep.base.errors import StoreFormatError
from eegprep.base.sealed import seal
from eegprep.ingestion.driver import IngestConfig, ingest
from eegprep.pipeline.recipe import Recipe
from eegprep.store.validate import validate

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # numcodecs' zarr3 codecs

REC = "tuh/aaaaaaaa_s001_t000"


@pytest.fixture
def store(tuh_corpus: Path, tmp_path: Path) -> Path:
    out = tmp_path / "s.zarr"
    cfg = IngestConfig(workers=0, progress=False, recipe=Recipe(encoding="quantized"))  # type: ignore[arg-type]
    report = ingest("tuh", src=tuh_corpus, out=out, config=cfg)
    assert report.n_ingested == 3 and not report.failed
    assert validate(str(out))[1] == []
    return out


def _flips(path: Path, n: int, seed: int) -> list[bytes]:
    good = path.read_bytes()
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        bit = rng.randrange(len(good) * 8)
        blob = bytearray(good)
        blob[bit // 8] ^= 1 << (bit % 8)
        out.append(bytes(blob))
    return out


@pytest.mark.parametrize("name", ["data", "channel", "time"])
def test_a_flipped_bit_in_array_metadata_is_reported_or_refused(store: Path, name: str) -> None:
    """Also the flip that renamed ``chunk_shape``: `labram pretrain` ended in an internal error
    (zarr's ``TypeError`` from ``Store.chunk_samples``)."""
    group = open_store(store).recording(REC).group
    path = store / group / name / "zarr.json"
    good = path.read_bytes()
    want = open_store(store).read(REC)
    renamed = good.replace(b'"chunk_shape"', b'"chunK_shape"', 1)  # one bit: zarr's TypeError
    for blob in [renamed, *_flips(path, 40, seed=len(name))]:
        path.write_bytes(blob)
        problems = validate(str(store))[1]
        assert any(f"{group}/{name}" in p for p in problems), blob
        try:  # labram's loader asks for the chunk length first, then the chunks
            s = open_store(store)
            s.chunk_samples(REC)
            chunks, _ = s.iter_chunks(REC, 0, 1)
            list(chunks)
        except StoreFormatError:
            pass  # any other type is a failure
        try:
            got = open_store(store).read(REC)
        except StoreFormatError:
            continue
        assert np.array_equal(got, want)
    path.write_bytes(good)


@pytest.mark.parametrize(
    "rel", ["_eegprep/zarr.json", "recordings/zarr.json", "recordings/tuh/zarr.json"]
)
def test_a_flipped_bit_in_a_top_group_document_is_reported(store: Path, rel: str) -> None:
    path = store / rel
    for blob in _flips(path, 25, seed=len(rel)):
        path.write_bytes(blob)
        problems = validate(str(store))[1]
        assert any(p.startswith(rel) for p in problems), blob


def test_the_root_layout_and_unit_are_checked(store: Path) -> None:
    path = store / "zarr.json"
    good = path.read_bytes()
    doc = json.loads(good)
    doc["attributes"]["layout"]["chunk_seconds"] = 61
    doc["attributes"]["unit"] = "uW"
    path.write_text(json.dumps(doc))
    text = "\n".join(validate(str(store))[1])
    assert "zarr.json: damaged (layout" in text and "zarr.json: damaged (unit 'uW'" in text
    for flip in (b'"recipe":', b'"zarr_format"'):  # one bit: a key of another name
        at = good.index(flip) + 2
        path.write_bytes(good[:at] + bytes([good[at] ^ 1]) + good[at + 1 :])
        assert any(p.startswith("zarr.json: damaged") for p in validate(str(store))[1]), flip


def test_every_flipped_bit_in_the_root_document_is_reported(store: Path) -> None:
    """A flipped digit of ``eegprep_version`` (or of any attribute no other check covers)
    passed ``validate``; the root's attributes now carry a CRC-32C."""
    path = store / "zarr.json"
    good = path.read_bytes()
    version = good.index(b'"eegprep_version": "') + len(b'"eegprep_version": "')
    flipped = good[:version] + bytes([good[version] ^ 2]) + good[version + 1 :]  # "0" -> "2"
    for blob in [flipped, *_flips(path, 60, seed=7)]:
        path.write_bytes(blob)
        problems = validate(str(store))[1]
        assert any(p.startswith("zarr.json") for p in problems), blob
    doc = json.loads(good)  # a store written before the seal: no checksum, no problem
    del doc["attributes"]["crc32c"]
    path.write_text(json.dumps(doc))
    assert validate(str(store))[1] == []
    path.write_bytes(good)


def test_a_flipped_bit_in_the_root_attributes_is_refused_by_readers(store: Path) -> None:
    """A flipped letter of the root's ``sfreq`` key made `eegprep stats` a ``KeyError``
    traceback, and a flipped digit or name (``sfreq`` 200.0 -> 600.0, a vocabulary channel)
    reached readers as the store's value: validate saw them, reads did not check. A read now
    refuses a root whose attributes fail their CRC-32C (or lack what it uses), in one line."""
    path = store / "zarr.json"
    good = path.read_bytes()
    attrs = open_store(store).attrs
    key = good.rindex(b'"sfreq": ') + 5  # the root's own (the recipe's comes first): q -> p
    path.write_bytes(good[:key] + bytes([good[key] ^ 1]) + good[key + 1 :])
    with pytest.raises(StoreFormatError, match=r"zarr\.json: the root's attributes are damaged"):
        open_store(store)
    result = CliRunner().invoke(eegprep_cli, ["stats", str(store)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.output.count("\n") == 1 and "root's attributes are damaged" in result.output
    for blob in _flips(path, 60, seed=11):
        path.write_bytes(blob)
        try:
            opened = open_store(store)
        except StoreFormatError:
            continue
        assert opened.attrs == attrs  # a flip outside the attributes (not read)
    doc = json.loads(good)
    del doc["attributes"]["sfreq"], doc["attributes"]["crc32c"]  # an earlier store, no sfreq
    path.write_text(json.dumps(doc))
    with pytest.raises(StoreFormatError, match="sfreq missing or not of its type"):
        open_store(store)
    path.write_bytes(good)


def test_every_flipped_bit_in_the_retired_list_is_reported(store: Path) -> None:
    """A flipped digit in a retired group's time (when a later ingest deletes it) passed
    ``validate``: the file is now sealed; the bare list earlier versions wrote is still read."""
    from eegprep.store.retired_list import RetiredEntry
    from eegprep.store.writer import StoreWriter, retired_document

    with StoreWriter(store, Recipe(encoding="quantized")) as writer:  # retire a stray copy
        group = open_store(store).recording(REC).group
        shutil.copytree(store / group, store / "recordings" / "tuh" / "stray")
        writer._retire(["recordings/tuh/stray"], when=1_000_000_000.0)
    path = store / "_eegprep" / "retired.json"
    good = path.read_bytes()
    assert good == retired_document([RetiredEntry("recordings/tuh/stray", 1_000_000_000.0)])
    assert validate(str(store))[1] == []
    when = good.index(b"1000000000")
    flipped = good[:when] + b"3" + good[when + 1 :]  # a time 2 * 10^9 s later: never deleted
    for blob in [flipped, *_flips(path, 60, seed=11)]:
        path.write_bytes(blob)
        problems = validate(str(store))[1]
        assert any(p.startswith("_eegprep/retired.json: damaged") for p in problems), blob
    path.write_text(json.dumps([["recordings/tuh/stray", 1e9]]))  # the earlier form
    assert validate(str(store))[1] == []


def test_a_damaged_seen_files_cache_is_reported_and_a_stale_entry_is_not(store: Path) -> None:
    path = store / "_eegprep" / "seen.json"
    good = json.loads(path.read_text())
    doc = json.loads(path.read_text())
    entry = doc["recordings"][REC]
    entry["hashes"] = [h[:-1] + ("0" if h[-1] != "0" else "1") for h in entry["hashes"]]
    path.write_text(json.dumps(seal(doc)))  # a checksum that vouches: the entry is still wrong
    assert any("seen.json: damaged" in p and REC in p for p in validate(str(store))[1])
    path.write_bytes(path.read_bytes()[:50])
    assert any("seen.json: damaged" in p for p in validate(str(store))[1])
    doc = json.loads(json.dumps(good))
    doc["recordings"][REC]["group"] = "recordings/tuh/aaaaaaaa_s001_t000@7"  # an older version's
    path.write_text(json.dumps(seal(doc)))
    assert validate(str(store))[1] == []


@pytest.mark.parametrize("damage", ["cut", "zeros", "list", "failed-not-list"])
def test_a_damaged_ingest_report_is_named_and_left_out(store: Path, damage: str) -> None:
    path = next((store / "_eegprep" / "reports").glob("*.json"))
    blob = path.read_bytes()
    path.write_bytes(
        {
            "cut": blob[: len(blob) // 2],
            "zeros": bytes(len(blob)),
            "list": b"[1, 2]",
            "failed-not-list": json.dumps({**json.loads(blob), "failed": 3}).encode(),
        }[damage]
    )
    problems = validate(str(store))[1]
    assert [p for p in problems if p.startswith(f"_eegprep/reports/{path.name}: damaged")]
    s = open_store(store)
    assert s.reports() == [] and len(s.report_problems) == 1
    result = CliRunner().invoke(eegprep_cli, ["stats", str(store)])
    assert result.exit_code == 0, result.output
    assert f"note: _eegprep/reports/{path.name}: damaged ingest report" in result.output
    assert "internal error" not in result.output
    shutil.rmtree(store / "_eegprep" / "reports")
    assert validate(str(store))[1] == []


@pytest.mark.parametrize("rel", ["_eegprep/seen.json", "report"])
def test_every_flipped_bit_in_a_report_or_the_seen_files_cache_is_reported(
    store: Path, rel: str
) -> None:
    """Both carry a CRC-32C (``crc32c``, eegprep.base.sealed): a flip that leaves valid JSON (a
    digit of a ctime, a letter of a skipped file's line) went unreported."""
    path = next((store / "_eegprep" / "reports").glob("*.json")) if rel == "report" else store / rel
    good = path.read_bytes()
    assert b'"crc32c"' in good
    shown = f"_eegprep/reports/{path.name}" if rel == "report" else rel
    for blob in _flips(path, 60, seed=len(rel)):
        path.write_bytes(blob)
        problems = validate(str(store))[1]
        assert any(p.startswith(f"{shown}: damaged") for p in problems), blob
    path.write_bytes(good)
    assert validate(str(store))[1] == []


def test_reports_and_caches_of_earlier_versions_have_no_checksum_and_pass(store: Path) -> None:
    for path in [store / "_eegprep" / "seen.json", *(store / "_eegprep" / "reports").glob("*")]:
        doc = json.loads(path.read_text())
        del doc["crc32c"]
        path.write_text(json.dumps(doc))
    assert validate(str(store))[1] == []
    assert len(open_store(store).reports()) == 1


def test_a_seen_files_cache_in_an_earlier_version_s_form_is_a_note(
    store: Path, tuh_corpus: Path
) -> None:
    """Versions before fcca6d2 wrote entries of ``group`` and ``files`` without the content
    hashes, and no checksum: ``validate`` called a store they wrote damaged (exit status 1).
    Such entries vouch for nothing; the next ingest reads those files once and writes them in
    today's form."""
    from eegprep.store.validate import check_store

    path = store / "_eegprep" / "seen.json"
    doc = json.loads(path.read_text())
    del doc["crc32c"]
    for entry in doc["recordings"].values():
        del entry["hashes"], entry["window_ns"]
    path.write_text(json.dumps(doc))
    found = check_store(str(store))
    assert found.problems == []
    assert [n for n in found.notes if n.startswith("_eegprep/seen.json: 3 entries in an earlier")]
    _reingest_reads_each_file_once(store, tuh_corpus)
    doc = json.loads(path.read_text())
    doc["recordings"][REC]["hashes"] = 7  # today's form with a wrong field: still damage
    path.write_text(json.dumps(seal(doc)))
    assert any("seen.json: damaged" in p for p in validate(str(store))[1])


def _reingest_reads_each_file_once(store: Path, tuh_corpus: Path) -> None:
    """An ingest over ``store`` whose seen-files entries vouch for nothing: every file is read
    once (checked, none re-ingested) and the store is left valid, its entries in today's form."""
    from eegprep.store.validate import check_store

    cfg = IngestConfig(workers=0, progress=False, recipe=Recipe(encoding="quantized"))  # type: ignore[arg-type]
    report = ingest("tuh", src=tuh_corpus, out=store, config=cfg)
    assert (report.n_ingested, report.n_checked) == (0, 3)  # read once, not trusted
    found = check_store(str(store))
    assert found.problems == [] and not [n for n in found.notes if "seen.json" in n]


def test_seen_entries_without_window_ns_are_a_note_and_read_once(
    store: Path, tuh_corpus: Path
) -> None:
    """Versions before ``window_ns`` wrote entries of ``group``, ``hashes`` and ``files``,
    sealed, noting racy stamps too: they vouch for nothing (a note, not damage), and the next
    ingest reads those files once and writes them in today's form; a ``window_ns`` that is no
    integer is damage."""
    from eegprep.store.validate import check_store

    path = store / "_eegprep" / "seen.json"
    doc = json.loads(path.read_text())
    for entry in doc["recordings"].values():
        del entry["window_ns"]
    path.write_text(json.dumps(seal(doc)))
    found = check_store(str(store))
    assert found.problems == []
    assert [
        n for n in found.notes if n.startswith("_eegprep/seen.json: 3 entries") and "window_ns" in n
    ]
    _reingest_reads_each_file_once(store, tuh_corpus)
    doc = json.loads(path.read_text())
    doc["recordings"][REC]["window_ns"] = "3000000000"
    path.write_text(json.dumps(seal(doc)))
    assert any("seen.json: damaged" in p for p in validate(str(store))[1])


def test_a_damaged_seen_files_cache_is_not_trusted(store: Path, tuh_corpus: Path) -> None:
    path = store / "_eegprep" / "seen.json"
    doc = json.loads(path.read_text())
    doc["crc32c"] = "00000000"
    path.write_text(json.dumps(doc))
    cfg = IngestConfig(workers=0, progress=False, recipe=Recipe(encoding="quantized"))  # type: ignore[arg-type]
    report = ingest("tuh", src=tuh_corpus, out=store, config=cfg)
    assert report.n_checked == 3  # every file read again: the cache vouched for none
    assert validate(str(store))[1] == []  # and written again, sound


def test_channel_names_written_with_zstd_by_earlier_versions_validate(store: Path) -> None:
    """Earlier versions compressed each group's channel names with zstd; such a group is no
    damage (its document is one of the accepted forms) and reads the same names."""
    import zarr
    from numcodecs import VLenUTF8, Zstd

    from eegprep.store.shards import with_crc

    group = next((store / "recordings" / "tuh").glob("aaaaaaaa_s001_t000*"))
    doc_path = group / "channel" / "zarr.json"
    doc = json.loads(doc_path.read_text())
    names = list(zarr.open_array(str(group / "channel"), mode="r")[:])
    doc["codecs"].insert(1, {"name": "zstd", "configuration": {"level": 0, "checksum": False}})
    doc_path.write_text(json.dumps(doc))
    blob = Zstd(level=0, checksum=False).encode(VLenUTF8().encode(np.array(names, dtype=object)))
    (group / "channel" / "c.0").write_bytes(b"".join(with_crc(bytes(blob))))
    assert list(zarr.open_array(str(group / "channel"), mode="r")[:]) == names
    assert validate(str(store))[1] == []
    doc["codecs"][1]["configuration"]["level"] = 5  # not a form any version wrote
    doc_path.write_text(json.dumps(doc))
    assert any("channel/zarr.json" in p for p in validate(str(store))[1])
