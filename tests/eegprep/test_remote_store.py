"""Stores at fsspec URLs: an S3-compatible server on loopback (moto's server mode), written by
an ingest and read back, byte for byte equal to a local store's arrays."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from eegprep import open_store
from eegprep.ingestion.driver import IngestConfig, ingest

SERIAL = IngestConfig(workers=0, progress=False)


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A moto S3 server on 127.0.0.1 with one bucket; yields the bucket URL."""
    pytest.importorskip("s3fs")
    server_mod = pytest.importorskip("moto.server")
    # port 0: the system picks a free one as the server binds it (a port found free, then
    # bound by the server, could be taken between the two on a shared machine: moto's start
    # then waited for ever)
    server = server_mod.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    port = server.get_host_and_port()[1]
    endpoint = f"http://127.0.0.1:{port}"
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": endpoint,
        "FSSPEC_S3_ENDPOINT_URL": endpoint,
    }.items():
        monkeypatch.setenv(key, value)
    import boto3

    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket="eeg")
    import s3fs

    s3fs.S3FileSystem.clear_instance_cache()  # a cached client would call an older server
    try:
        yield "s3://eeg"
    finally:
        server.stop()
        s3fs.S3FileSystem.clear_instance_cache()


def test_ingest_to_s3_and_read_back(tuh_corpus: Path, tmp_path: Path, s3: str) -> None:
    url = f"{s3}/stores/tuh.zarr"
    rep = ingest("tuh", src=tuh_corpus, out=url, config=SERIAL)
    assert rep.n_ingested == 3 and not rep.failed
    local = tmp_path / "local.zarr"
    ingest("tuh", src=tuh_corpus, out=local, config=SERIAL)
    remote, ref = open_store(url), open_store(local)
    assert [r.id for r in remote.recordings] == [r.id for r in ref.recordings]
    for rec in ref.recordings:
        np.testing.assert_array_equal(remote.read(rec.id), ref.read(rec.id))
    assert ingest("tuh", src=tuh_corpus, out=url, config=SERIAL).n_current == 3


def test_ingest_to_a_local_fsspec_url_makes_its_folders(tuh_corpus: Path, tmp_path: Path) -> None:
    """``local://`` is fsspec's own folder tree: an object under ``a/b`` needs ``a/b``, which
    fsspec makes only when asked; the store's first object failed (``No such file or
    directory``) before its folders were made as they are needed."""
    from eegprep.store.validate import validate

    url = f"local://{tmp_path / 'nested' / 'tuh.zarr'}"
    rep = ingest("tuh", src=tuh_corpus, out=url, config=SERIAL)
    assert rep.n_ingested == 3 and not rep.failed
    ref_path = tmp_path / "plain.zarr"
    ingest("tuh", src=tuh_corpus, out=ref_path, config=SERIAL)
    store, ref = open_store(url), open_store(ref_path)
    assert [r.id for r in store.recordings] == [r.id for r in ref.recordings]
    for rec in ref.recordings:
        np.testing.assert_array_equal(store.read(rec.id), ref.read(rec.id))
    assert validate(url) == (3, [])
    assert validate(str(tmp_path / "nested" / "tuh.zarr")) == (3, [])  # the same folders


def test_reingest_on_s3_writes_a_new_version_and_a_failed_one_changes_nothing(
    tuh_corpus: Path, s3: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On an object store too: a re-ingest writes beside the listed group, a task that dies
    mid-write leaves the listed recording as it was (and its partial group is removed), and a
    reader holding the old index keeps reading the old bytes."""
    import os

    import fsspec

    from eegprep.store import recording_writer
    from eegprep.store.validate import validate

    url = f"{s3}/stores/v.zarr"
    ingest("tuh", src=tuh_corpus, out=url, config=SERIAL)
    before = open_store(url)
    rid = "tuh/aaaaaaab_s002_t001"
    old = before.read(rid)
    f = next(tuh_corpus.rglob("aaaaaaab_s002_t001.edf"))
    os.utime(f, ns=(f.stat().st_atime_ns, f.stat().st_mtime_ns + 10**9))
    real = recording_writer._write_blocks
    calls = [0]

    def dies_mid_write(writer, blocks, n_ch, n_samples):  # type: ignore[no-untyped-def]
        calls[0] += 1
        next(iter(blocks))  # some samples reach the new group's shard, then the task dies
        raise OSError("connection reset while writing")

    monkeypatch.setattr(recording_writer, "_write_blocks", dies_mid_write)
    rep = ingest("tuh", src=tuh_corpus, out=url, config=SERIAL)
    assert calls[0] == 1 and len(rep.failed) == 1 and rep.n_current == 2
    fs = fsspec.filesystem("s3")
    fs.invalidate_cache()
    assert not fs.exists("eeg/stores/v.zarr/recordings/tuh/aaaaaaab_s002_t001@2")
    np.testing.assert_array_equal(open_store(url).read(rid), old)
    monkeypatch.setattr(recording_writer, "_write_blocks", real)
    assert ingest("tuh", src=tuh_corpus, out=url, config=SERIAL).n_ingested == 1
    after = open_store(url)
    assert after.recording(rid).group == "recordings/tuh/aaaaaaab_s002_t001@2"
    np.testing.assert_array_equal(before.read(rid), old)  # the old snapshot still reads
    assert validate(url) == (3, [])


def _race_for_the_lock(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two writers of one object store whose lock checks both ran before either wrote: the
    second's check is made to miss the first's lock (what a check-then-write lock allows)."""
    from eegprep.base.errors import StoreLockedError
    from eegprep.pipeline.recipe import Recipe
    from eegprep.store.fs import Location
    from eegprep.store.writer import StoreWriter

    first = StoreWriter(url, Recipe())
    first.open()
    real = Location.exists

    def missed(self: Location, *parts: str) -> bool:
        return False if parts == ("_eegprep", "lock") else real(self, *parts)

    monkeypatch.setattr(Location, "exists", missed)
    try:
        with pytest.raises(StoreLockedError, match="another ingest took the lock just now"):
            StoreWriter(url, Recipe()).open()
    finally:
        monkeypatch.setattr(Location, "exists", real)
        first.close()
    with StoreWriter(url, Recipe()):  # the lock was given back: the next writer takes it
        pass


def test_two_writers_never_both_take_an_object_stores_lock(
    s3: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lock on an object store was written by a check, then a put: two ingests starting at
    once could both pass the check and both write the store. It is an exclusive put now (S3's
    If-None-Match), read back after."""
    _race_for_the_lock(f"{s3}/race.zarr", monkeypatch)


def test_two_writers_never_both_take_a_memory_stores_lock(monkeypatch: pytest.MonkeyPatch) -> None:
    _race_for_the_lock("memory://race.zarr", monkeypatch)
