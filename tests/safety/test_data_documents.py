"""Promise: a flipped bit in a recording's ``data/zarr.json`` that JSON still parses is one line
naming the group and the field on every path that reads samples, never other samples.

No checksum covers an array's ``zarr.json``. ``validate`` and ``read_target`` compared it whole
with what eegprep writes for the group's record (:mod:`eegprep.store.array_docs`), but
``Store.read`` and every reader built on it (the labram loader, ``to_mne``, ``eegprep stats``)
checked only the shape and the quantizer: a changed fill value, a codec's level, a chunk shape
or a data type read on (a data type sent the read through zarr, decoding the checksummed bytes
as another type). Local stores, fsspec's ``memory://`` and a zipped store.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from eegprep import open_store, to_mne
from eegprep.base.errors import StoreFormatError
from eegprep.store.reader import Store
from eegprep.tools.stats import mean_spectrum
from labram.data.loader import WindowDataset
from labram.data.sampler import BatchPlan
from labram.data.windows import build_pretrain_index
from tests.labram.training_stores import write_pretrain_store
from tests.safety.backends import Backend

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # numcodecs' zarr3 codecs

RID = "tuh/s000_r0"
GROUP = f"recordings/{RID}"
DOC = f"{GROUP}/data/zarr.json"

FLIPS = [  # (what is in the document, what a flipped bit or a changed field makes of it, says)
    (b'"fill_value": 0.0', b'"fill_value": 1.0', "fill_value 1.0, eegprep writes 0.0"),
    (b'"clevel": 5', b'"clevel": 4', "clevel 4, eegprep writes 5"),
    (b'"data_type": "float32"', b'"data_type": "int32"', "data_type 'int32'"),
    (b'"chunk_shape": [19, 12000]', b'"chunk_shape": [19, 12001]', "chunk_shape[1] 12001"),
    (b'"cname": "lz4"', b'"cname": "lz5"', "cname 'lz5', eegprep writes 'lz4'"),
]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small pre-training store: three recordings of 40 s, quantized (their records state
    their encoding, as every ingest's since the quantized encoding)."""
    root = tmp_path_factory.mktemp("data-docs")
    write_pretrain_store(root / "s.zarr", n_subjects=3, seconds=40, adc_step_uv=0.1)
    return root / "s.zarr"


@pytest.fixture(params=["local", "memory", "zip"])
def damaged(
    request: pytest.FixtureRequest, store: Path, tmp_path: Path
) -> Iterator[Callable[[bytes, bytes], str]]:
    """``damage(old, new)``: a copy of the store with ``old`` replaced by ``new`` in
    ``data/zarr.json`` of recording :data:`RID`, on the backend; its url."""
    copy = tmp_path / "s.zarr"
    shutil.copytree(store, copy)
    backends: list[Backend] = []

    def damage(old: bytes, new: bytes) -> str:
        blob = (copy / DOC).read_bytes()
        assert blob.count(old) == 1, old
        (copy / DOC).write_bytes(blob.replace(old, new))
        if request.param == "zip":
            return shutil.make_archive(
                str(tmp_path / "s"), "zip", root_dir=tmp_path, base_dir="s.zarr"
            )
        backends.append(Backend(copy, request.param, "data-docs"))
        return backends[-1].url

    yield damage
    for b in backends:
        b.close()


def _readers(store: Store) -> dict[str, Callable[[], Any]]:
    """Every way a program reads recording :data:`RID`'s samples."""
    return {
        "read": lambda: store.read(RID, 0, 100),
        "iter_chunks": lambda: list(store.iter_chunks(RID, 0, 1)[0]),
        "chunk_samples": lambda: store.chunk_samples(RID),
        "array": lambda: store.array(RID),
        "to_mne": lambda: to_mne(store, RID),
        "stats": lambda: mean_spectrum(store, [store.recording(RID)]),
    }


@pytest.mark.parametrize(("old", "new", "says"), FLIPS)
def test_a_changed_data_document_is_one_line_on_every_read_path(
    damaged: Callable[[bytes, bytes], str], old: bytes, new: bytes, says: str
) -> None:
    url = damaged(old, new)
    for name, read in _readers(open_store(url)).items():
        with pytest.raises(StoreFormatError) as caught:
            read()
        text = str(caught.value)
        assert "\n" not in text and DOC in text and says in text, (name, text)
        assert "not the metadata eegprep writes" in text, (name, text)
    others = open_store(url)  # the other recordings read on
    assert others.read("tuh/s001_r0", 0, 10).shape[1] == 10


@pytest.mark.parametrize(("old", "new", "says"), FLIPS[:2])
def test_the_loader_refuses_a_changed_data_document(
    store: Path, tmp_path: Path, old: bytes, new: bytes, says: str
) -> None:
    """The labram loader's batches (``WindowDataset``, through ``Store.iter_chunks``): each
    window of the recording whose document changed is listed as unreadable, with the
    document's one line, for the training loop to replace, name and count
    (:mod:`labram.data.unreadable`); no window of it is read as samples."""
    from labram.data.unreadable import FOUND

    copy = tmp_path / "s.zarr"
    shutil.copytree(store, copy)
    (copy / DOC).write_bytes((copy / DOC).read_bytes().replace(old, new))
    dataset = WindowDataset(BatchPlan(build_pretrain_index([str(copy)]), batch_size=3, seed=3))
    dataset.set_epoch(0)
    found = [w for batch in dataset for w in batch.get(FOUND, [])]
    assert found, "no window of the changed recording was listed"
    assert {r for _, r, _ in found} == {RID}
    assert all(f"{DOC}: not the metadata" in why and says in why for _, _, why in found)


def test_the_document_is_read_once_per_group_and_open_store(
    store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check costs one read of ``data/zarr.json`` per recording for the open store (the
    direct shard reader reads it once more, as before), not one per read."""
    from eegprep.store import array_docs

    opened = open_store(store)
    calls: list[str] = []
    problem = array_docs.document_problem

    def counted(record: dict[str, Any], name: str, found: Any) -> str | None:
        calls.append(name)
        return problem(record, name, found)

    monkeypatch.setattr(array_docs, "document_problem", counted)
    want = opened.read(RID)
    for start in range(0, 4000, 100):
        np.testing.assert_array_equal(
            opened.read(RID, start, start + 100), want[:, start : start + 100]
        )
    list(opened.iter_chunks(RID, 0, 1)[0])
    assert calls == ["data"]


def test_a_store_as_earlier_commits_wrote_it_validates_and_reads(
    store: Path, tmp_path: Path
) -> None:
    """Commits 829cebd..a2ec6fd wrote ``data`` and ``time`` with zarr's default chunk keys
    (``c/0/0``: a ``/`` separator), beside records that state their encoding; ``validate``
    called each such array damage (and so would every read, now that reads compare
    ``data``'s document). They validate clean and read the same samples."""

    from eegprep.store.validate import check_store

    copy = tmp_path / "s.zarr"
    shutil.copytree(store, copy)
    want = open_store(copy).read(RID)
    before = check_store(str(copy)).problems  # (a hand-written store: no recipe hash)
    assert not any("zarr.json" in p for p in before)
    for name in ("data", "time"):
        folder = copy / GROUP / name
        doc = json.loads((folder / "zarr.json").read_text())
        doc["chunk_key_encoding"]["configuration"]["separator"] = "/"
        (folder / "zarr.json").write_text(json.dumps(doc))
        for chunk in folder.glob("c.*"):
            to = folder.joinpath(*chunk.name.split("."))
            to.parent.mkdir(parents=True, exist_ok=True)
            chunk.rename(to)
    assert (copy / GROUP / "data" / "c" / "0" / "0").is_file()
    assert check_store(str(copy)).problems == before
    reopened = open_store(copy)
    np.testing.assert_array_equal(reopened.read(RID), want)
    assert reopened.chunk_samples(RID) == 12000


def test_a_record_stating_no_encoding_reads_its_float16_or_quantized_data(
    store: Path, tmp_path: Path
) -> None:
    """Records written before 829cebd state no ``encoding`` (their store's recipe does), a
    quantized one its ``quantum_uv``: every read refused their float16 and quantized arrays
    ("a quantizer, but the record says float32"). A quantizer of the record's step, or either
    float type, is taken; a quantizer of another step is still refused."""
    from eegprep.store.fs import Location
    from eegprep.store.shard_reader import ShardReader

    loc = Location.parse(str(store))
    record = dict(open_store(store).index_rows()[RID])
    reader = ShardReader.open(loc, f"{GROUP}/data")
    assert reader is not None and reader.filters  # (quantized)
    assert reader.decoding_problem(None, record["quantum_uv"]) is None
    wrong = reader.decoding_problem(None, 2 * record["quantum_uv"])
    assert wrong is not None and "is not the record's step" in wrong
    assert reader.decoding_problem("float32", None) is not None  # (a record that says so)
    copy = tmp_path / "f16.zarr"
    write_pretrain_store(copy, n_subjects=1, seconds=40)
    doc = json.loads((copy / DOC).read_text())
    assert doc["data_type"] == "float32"
    doc["data_type"] = "float16"  # (the reader's check of the layout reads no sample)
    (copy / DOC).write_text(json.dumps(doc))
    f16 = ShardReader.open(Location.parse(str(copy)), f"{GROUP}/data")
    assert f16 is not None and f16.decoding_problem(None, None) is None
    assert f16.decoding_problem("float32", None) is not None


SHARD_INDEX_FLIPS = [  # (what is in the document, what another program made of every one)
    (b'"endian": "little"', b'"endian": "big"'),  # (the samples' and the shard index's)
    (b'"index_location": "end"', b'"index_location": "start"'),
]


@pytest.mark.parametrize(("old", "new"), SHARD_INDEX_FLIPS)
def test_validate_names_a_changed_shard_index_once_and_reads_nothing_by_it(
    store: Path, tmp_path: Path, old: bytes, new: bytes
) -> None:
    """A shard index read by another byte order or from the other end gives zarr byte ranges
    of exabytes: ``validate`` named the document, and then read the samples by it anyway
    (``samples from 0 unreadable: MemoryError``, zarr having asked for the range whole)."""
    from eegprep.store.validate import check_store

    copy = tmp_path / "s.zarr"
    shutil.copytree(store, copy)
    blob = (copy / DOC).read_bytes()
    assert old in blob, blob
    (copy / DOC).write_bytes(blob.replace(old, new))
    problems = [p for p in check_store(str(copy)).problems if p.startswith(f"{RID}: ")]
    named = [p for p in problems if f"{GROUP}/data/zarr.json is not the metadata" in p]
    assert len(named) == 1 and not [p for p in problems if "unreadable" in p], problems
