"""Stores at fsspec URLs: an S3-compatible server on loopback (moto's server mode), written by
an ingest and read back, byte for byte equal to a local store's arrays."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from eegprep import open_store
from eegprep.ingest import IngestConfig, ingest

SERIAL = IngestConfig(workers=0, progress=False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A moto S3 server on 127.0.0.1 with one bucket; yields the bucket URL."""
    pytest.importorskip("s3fs")
    server_mod = pytest.importorskip("moto.server")
    port = _free_port()
    server = server_mod.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
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
    import fsspec

    fsspec.filesystem("s3").invalidate_cache()
    try:
        yield "s3://eeg"
    finally:
        server.stop()


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
