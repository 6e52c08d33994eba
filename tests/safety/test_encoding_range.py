"""A sample beyond what the store's encoding holds is never written as another value: the
quantizer's int32 codes would wrap, float16 would overflow to infinity. ``auto`` stores such a
recording as float32 (and says so); a named encoding refuses it with the one line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from eegprep import open_store
from eegprep.corpus.manifest import load_manifest
from eegprep.ingestion.driver import IngestConfig, ingest
from eegprep.ingestion.inmemory import read_preprocessed
from eegprep.pipeline.recipe import Recipe
from eegprep.store.encoding import INT32_CODES, EncodingRangeError, as_stored, limit_uv
from eegprep.store.fs import Location
from eegprep.store.shards import Layout, write_group
from eegprep.testing.edf_writer import write_edf

SITES = ["FP1", "FP2", "C3", "C4", "O1"]


def _writer(tmp_path: Path, encoding: str, quantum: float | None = None, n: int = 24000):
    layout = Layout(2, 200.0, encoding, quantum, 12000, 12000 * 30)
    return write_group(Location.parse(str(tmp_path)), "g", layout, ["A", "B"], n)


@pytest.mark.parametrize(
    ("encoding", "quantum", "big"),
    [("quantized", 0.01, INT32_CODES * 0.01 * 1.0001), ("float16", None, 70000.0)],
)
def test_the_shard_writer_refuses_a_sample_its_encoding_cannot_hold(
    tmp_path, encoding, quantum, big
) -> None:
    x = np.zeros((2, 24000), np.float32)
    x[1, 15000] = -big
    w = _writer(tmp_path, encoding, quantum)
    w.append(x[:, :12000])  # the first chunk is in range
    with pytest.raises(EncodingRangeError, match=r"beyond the .* encoding's \+-"):
        w.append(x[:, 12000:])
    # a partial chunk is checked when it is completed or closed, whoever filled it
    w = _writer(tmp_path / "b", encoding, quantum, n=16000)
    w.append(x[:, :14000], peak=1.0)  # a bound the samples keep: no check needed
    w.append(x[:, 14000:16000])  # no bound: the last, partial chunk is checked at close
    with pytest.raises(EncodingRangeError):
        w.close()


def test_samples_inside_the_range_are_kept_and_float32_has_no_limit(tmp_path) -> None:
    assert limit_uv("float32") == float("inf")
    quantum = 0.01
    x = np.zeros((2, 24000), np.float32)
    x[0, 5] = INT32_CODES * quantum * 0.999  # the largest code, almost
    w = _writer(tmp_path, "quantized", quantum)
    w.append(x)
    w.close()
    with pytest.raises(EncodingRangeError):
        as_stored(x * 1.01, {"encoding": "quantized", "quantum_uv": quantum})
    back = as_stored(x, {"encoding": "quantized", "quantum_uv": quantum})
    assert back[0, 5] == pytest.approx(x[0, 5], rel=1e-6)


def _corpus(root: Path, huge_uv: float) -> Path:
    """A TUH-like corpus: one ordinary file, and one whose C4 channel has a converter range of
    +-1e9 uV (a step of ~30,500 uV, far coarser than the others' 0.1 uV) carrying
    ``huge_uv``: beyond the quantized range at the finest step's 1/8 (2.7e7 uV)."""
    rng = np.random.default_rng(0)
    labels = [f"EEG {s}-REF" for s in SITES]
    for name, big in (("aaaaaaaa", None), ("aaaaaaab", huge_uv)):
        x = rng.normal(scale=20.0, size=(len(SITES), 250 * 30))
        lo, hi = [-3276.7] * len(SITES), [3276.7] * len(SITES)
        dims = ["uV"] * len(SITES)
        if big is not None:  # in volts: +-1000 V, as an 8-character EDF field holds it
            x[3] = big * 1e-6 * np.sin(2 * np.pi * 3.0 * np.arange(x.shape[1]) / 250)
            lo[3], hi[3], dims[3] = -1000.0, 1000.0, "V"
        path = root / f"edf/000/{name}/s001_2015/01_tcp_ar/{name}_s001_t000.edf"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_edf(path, list(x), labels=labels, sfreqs=250, physical_min=lo, physical_max=hi,
                  physical_dims=dims)  # fmt: skip
    return root


def test_auto_stores_an_out_of_range_recording_as_float32_and_says_so(tmp_path) -> None:
    src = _corpus(tmp_path / "src", huge_uv=1e8)
    rep = ingest("tuh", src=src, out=tmp_path / "auto.zarr", config=IngestConfig(workers=0))
    assert rep.failed == [] and rep.n_ingested == 2
    relpath = "edf/000/aaaaaaab/s001_2015/01_tcp_ar/aaaaaaab_s001_t000.edf"
    (note,) = [w for w in rep.warnings[relpath] if "float32" in w]
    assert note.startswith("stored as float32, not quantized: samples reach 1")
    store = open_store(tmp_path / "auto.zarr")
    kinds = {r.name: r.meta["encoding"] for r in store.recordings}
    assert sorted(kinds.values()) == ["float32", "quantized"]
    # the values are float32's, to the bit: no wrapped code
    cfg = IngestConfig(workers=0, recipe=Recipe(encoding="float32"))
    ingest("tuh", src=src, out=tmp_path / "f32.zarr", config=cfg)
    ref = open_store(tmp_path / "f32.zarr")
    for rec in store.recordings:
        if rec.meta["encoding"] == "float32":
            (same,) = [r for r in ref.recordings if r.name == rec.name]
            np.testing.assert_array_equal(store.read(rec.id), ref.read(same.id))
            assert np.abs(store.read(rec.id)).max() > 5e7
    # in memory (labram predict) alike
    pre = read_preprocessed(src / relpath, load_manifest("tuh"))
    assert any(w.startswith("stored as float32") for w in pre.warnings)
    big = next(r for r in ref.recordings if r.name == "aaaaaaab_s001_t000")
    np.testing.assert_array_equal(pre.data, ref.read(big.id))


def test_a_named_quantized_encoding_refuses_the_recording_and_goes_on(tmp_path) -> None:
    src = _corpus(tmp_path / "src", huge_uv=1e8)
    cfg = IngestConfig(workers=0, recipe=Recipe(encoding="quantized"))
    rep = ingest("tuh", src=src, out=tmp_path / "q.zarr", config=cfg)
    assert rep.n_ingested == 1 and len(rep.failed) == 1
    line = rep.failed[0] if isinstance(rep.failed[0], str) else str(rep.failed[0])
    assert "aaaaaaab_s001_t000.edf" in line
    assert "beyond the quantized encoding's +-" in line and "--encoding float32" in line
    (rec,) = open_store(tmp_path / "q.zarr").recordings
    assert rec.meta["encoding"] == "quantized"
    path = src / "edf/000/aaaaaaab/s001_2015/01_tcp_ar/aaaaaaab_s001_t000.edf"
    with pytest.raises(Exception, match="beyond the quantized encoding"):
        read_preprocessed(path, load_manifest("tuh"), recipe=Recipe(encoding="quantized"))


def test_a_large_but_representable_channel_stays_quantized(tmp_path) -> None:
    """1e6 uV on the coarse channel fits the int32 codes: quantized, no note."""
    src = _corpus(tmp_path / "src", huge_uv=1e6)
    rep = ingest("tuh", src=src, out=tmp_path / "s.zarr", config=IngestConfig(workers=0))
    assert rep.failed == [] and not any("float32" in w for ws in rep.warnings.values() for w in ws)
    kinds = {r.meta["encoding"] for r in open_store(tmp_path / "s.zarr").recordings}
    assert kinds == {"quantized"}


def test_a_recording_longer_than_the_time_axis_counts_is_refused() -> None:
    """The time axis numbers samples in int32: a recording of 2^31 samples or more (124 days
    at 200 Hz) is refused with one line, not stored with wrapped sample numbers."""
    from types import SimpleNamespace

    from eegprep.base.errors import SourceError
    from eegprep.ingestion.task import MAX_STORED_SAMPLES, output_length

    task = SimpleNamespace(recipe=Recipe())
    header = SimpleNamespace(duration=0.0, joins=())  # (one stretch)
    fits = [(250.0, [0], -(-MAX_STORED_SAMPLES * 5 // 4))]  # 250 Hz: 2^31 - 1 at 200 Hz
    assert output_length(task, "x.edf", header, fits) == MAX_STORED_SAMPLES  # type: ignore[arg-type]
    over = [(250.0, [0], (MAX_STORED_SAMPLES + 1) * 5 // 4)]
    with pytest.raises(SourceError, match=r"recording too long: 2147483648 samples at 200 Hz"):
        output_length(task, "x.edf", header, over)  # type: ignore[arg-type]
