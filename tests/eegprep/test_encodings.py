"""The store encodings: quantized (1/8 of the source's ADC step) and float16, against float32."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from eegprep import open_store
from eegprep.ingestion.driver import IngestConfig, ingest
from eegprep.pipeline.recipe import Recipe


def _bytes(store: Path) -> int:
    return sum(p.stat().st_size for p in (store / "recordings").rglob("*") if p.is_file())


@pytest.mark.parametrize(
    ("encoding", "ratio", "max_err_uv"),
    [
        ("quantized", 0.62, None),  # bound: 1/16 of the ADC step (checked below)
        ("float16", 0.62, 0.2),
    ],
)
def test_encodings_shrink_the_store_within_their_error(
    tuh_corpus: Path, tmp_path: Path, encoding: str, ratio: float, max_err_uv: float | None
) -> None:
    ref_out, out = tmp_path / "f32.zarr", tmp_path / f"{encoding}.zarr"
    f32 = IngestConfig(workers=0, progress=False, recipe=Recipe(encoding="float32"))
    ingest("tuh", src=tuh_corpus, out=ref_out, config=f32)
    cfg = IngestConfig(workers=0, progress=False, recipe=Recipe(encoding=encoding))  # type: ignore[arg-type]
    ingest("tuh", src=tuh_corpus, out=out, config=cfg)
    ref, got = open_store(ref_out), open_store(out)
    assert got.attrs["recipe"]["encoding"] == encoding
    assert ref.recipe_hash != got.recipe_hash  # a store never mixes encodings
    for rec in ref.recordings:
        a, b = ref.read(rec.id), got.read(rec.id)
        assert b.dtype == np.float32
        err = float(np.abs(a - b).max())
        if encoding == "quantized":
            q = got.recording(rec.id).meta["quantum_uv"]
            assert 0 < q < 0.05  # pyedflib fixture: 2000 uV over 65535 steps -> 0.0305 / 8
            assert err <= q / 2 + 1e-4
        else:
            assert max_err_uv is not None and err <= max_err_uv
    assert _bytes(out) < ratio * _bytes(ref_out)


def test_quantized_store_opens_with_zarr_and_xarray(tuh_corpus: Path, tmp_path: Path) -> None:
    import xarray as xr
    import zarr

    out = tmp_path / "q.zarr"
    cfg = IngestConfig(workers=0, progress=False, recipe=Recipe(encoding="quantized"))
    ingest("tuh", src=tuh_corpus, out=out, config=cfg)
    rec = open_store(out).recordings[0]
    with pytest.warns(Warning):  # numcodecs says its zarr3 codecs are not in the spec yet
        arr = zarr.open_group(out, mode="r")[f"{rec.group}/data"]
    x = np.asarray(arr[:, :400])
    np.testing.assert_array_equal(x, open_store(out).read(rec.id, 0, 400))
    ds = xr.open_zarr(out, group=rec.group, consolidated=False)
    assert ds["data"].dtype == np.float32 and ds["data"].shape == (rec.n_channels, rec.n_samples)


def test_auto_quantizes_integer_sources_and_states_the_bound(
    tuh_corpus: Path, tmp_path: Path
) -> None:
    """The default: quantized where every channel has an ADC step (EDF), with the step and the
    error bound in each record; the same samples as an explicit ``quantized`` store."""
    out, q_out = tmp_path / "auto.zarr", tmp_path / "q.zarr"
    ingest("tuh", src=tuh_corpus, out=out, config=IngestConfig(workers=0, progress=False))
    cfg = IngestConfig(workers=0, progress=False, recipe=Recipe(encoding="quantized"))
    ingest("tuh", src=tuh_corpus, out=q_out, config=cfg)
    got, ref = open_store(out), open_store(q_out)
    assert got.attrs["recipe"]["encoding"] == "auto"
    for rec in got.recordings:
        meta = rec.meta
        assert meta["encoding"] == "quantized" and 0 < meta["quantum_uv"] < 0.05
        assert meta["max_error_uv"] == meta["quantum_uv"] / 2
        np.testing.assert_array_equal(got.read(rec.id), ref.read(rec.id))


def test_auto_is_float32_where_a_channel_has_no_adc_step() -> None:
    from eegprep.store.encoding import choose_encoding

    none = {"encoding": "float32", "quantum_uv": None, "max_error_uv": None}
    assert choose_encoding("auto", [0.15, 0.0]) == none  # a float channel: no step to keep
    assert choose_encoding("auto", []) == none
    assert choose_encoding("float16", [0.15]) == {**none, "encoding": "float16"}
    got = choose_encoding("auto", [0.2, 0.4])
    assert got == {"encoding": "quantized", "quantum_uv": 0.025, "max_error_uv": 0.0125}


def test_an_ingest_naming_no_encoding_keeps_the_stores(tuh_corpus: Path, tmp_path: Path) -> None:
    """A float32 store of an earlier version is extended in float32 when no encoding is named;
    an explicit different one is refused."""
    from eegprep.base.errors import StoreFormatError

    out = tmp_path / "f32.zarr"
    f32 = IngestConfig(workers=0, progress=False, recipe=Recipe(encoding="float32"), limit=1)
    ingest("tuh", src=tuh_corpus, out=out, config=f32)
    report = ingest("tuh", src=tuh_corpus, out=out, config=IngestConfig(workers=0, progress=False))
    store = open_store(out)
    assert report.n_current == 1 and report.n_ingested == len(store) - 1
    assert store.attrs["recipe"]["encoding"] == "float32"
    assert {r.meta["encoding"] for r in store.recordings} == {"float32"}
    q = IngestConfig(workers=0, progress=False, recipe=Recipe(encoding="quantized"))
    with pytest.raises(StoreFormatError, match="written with recipe"):
        ingest("tuh", src=tuh_corpus, out=out, config=q)


@pytest.mark.parametrize("direct", (True, False))
def test_stored_chunks_are_what_read_returns(
    tuh_corpus: Path, tmp_path: Path, direct: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``Store.iter_chunks``: the quantized store's integers and their divisor, whether the
    shards are read directly or (any other layout) through zarr (float32 uV, no divisor)."""
    from eegprep.store.shard_reader import ShardReader

    out = tmp_path / "q.zarr"
    cfg = IngestConfig(workers=0, progress=False, recipe=Recipe(encoding="quantized"))
    ingest("tuh", src=tuh_corpus, out=out, config=cfg)
    if not direct:
        monkeypatch.setattr(ShardReader, "open", classmethod(lambda cls, loc, path: None))
    store = open_store(out)
    for rec in store.recordings:
        chunk = store.chunk_samples(rec.id)
        n_chunks = -(-rec.n_samples // chunk)
        chunks, divisor = store.iter_chunks(rec.id, 0, n_chunks)
        parts = list(chunks)
        stored = np.concatenate(parts, axis=1)
        assert stored.shape == (rec.n_channels, rec.n_samples)
        if direct:
            assert stored.dtype == np.int32 and divisor == 1 / rec.meta["quantum_uv"]
            values = np.empty(stored.shape, np.float32)
            np.divide(stored, divisor, out=values, dtype=np.float64, casting="same_kind")
        else:
            assert stored.dtype == np.float32 and divisor is None
            values = stored
        np.testing.assert_array_equal(values, store.read(rec.id))
    with pytest.raises(Exception, match="outside the recording"):
        store.iter_chunks(rec.id, 0, n_chunks + 1)
