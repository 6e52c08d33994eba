"""The store encodings: quantized (1/8 of the source's ADC step) and float16, against float32."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from eegprep import open_store
from eegprep.ingest import IngestConfig, ingest
from eegprep.recipe import Recipe


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
    ingest("tuh", src=tuh_corpus, out=ref_out, config=IngestConfig(workers=0, progress=False))
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
