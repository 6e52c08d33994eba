"""Promise: a quantized store returns each computed float32 sample within the record's
``max_error_uv`` (half the quantum), whatever the sample's size, up to float32's own rounding
of the value returned (half its spacing there, ``|x| * 2^-24``).

The quantizer multiplied ``x * scale`` in float32, as numcodecs' ``FixedScaleOffset`` does: the
product's own rounding is ``|code| * 2^-24`` codes, 4 codes at a 24-bit BDF's full scale (2^26
codes at 1/8 of its step), so that a full-scale square wave in a BDF came back 14 times
``max_error_uv`` away from the float32 store's samples (0.031 uV against 0.0022). A code of
2^16 or more is now computed in float64, where such a sample comes back as computed.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import zarr
from click.testing import CliRunner

from cli import eegprep_cli
from eegprep import open_store
from eegprep.store.encoding import EXACT_CODES, as_stored
from eegprep.store.fs import Location
from eegprep.store.shards import Layout, Quantizer, write_group
from eegprep.testing.edf_writer import write_edf

QUANTUM = 600000 / (2**24 - 1) / 8  # 1/8 of the step of a BDF of +-300,000 uV (no power of 2)


def _within(got: np.ndarray, x: np.ndarray, max_error: float) -> float:
    """The largest error of ``got`` against ``x`` over its allowance: ``max_error``, the float32
    product's 1/512 of a code below :data:`EXACT_CODES` and half float32's spacing at ``x``."""
    err = np.abs(got.astype(np.float64) - x.astype(np.float64))
    allowed = max_error * (1 + 2.0**-8) + np.spacing(np.abs(x)).astype(np.float64) / 2
    return float((err / allowed).max())


def _samples(low_code: float) -> np.ndarray:
    rng = np.random.default_rng(int(low_code))
    codes = rng.uniform(low_code, 2 * low_code, 20000) * rng.choice([-1, 1], 20000)
    return (codes * QUANTUM).astype(np.float32)


@pytest.mark.parametrize("low_code", [2.0**10, 2.0**15, 2.0**20, 2.0**23, 2.0**26, 2.0**29])
def test_as_stored_keeps_every_size_within_the_bound(low_code: float) -> None:
    x = _samples(low_code)
    enc = {"encoding": "quantized", "quantum_uv": QUANTUM, "max_error_uv": QUANTUM / 2}
    assert _within(as_stored(x, enc), x, QUANTUM / 2) <= 1.0


@pytest.mark.parametrize("low_code", [2.0**10, 2.0**20, 2.0**26])
def test_the_shard_writer_stores_what_as_stored_gives(tmp_path: Path, low_code: float) -> None:
    """The store and ``labram predict``'s in-memory samples stay equal to the bit."""
    x = _samples(low_code).reshape(2, 10000)
    writer = write_group(
        Location.parse(str(tmp_path)), "g", Layout(2, 200.0, "quantized", QUANTUM, 4000, 8000),
        ["A", "B"], 10000,
    )  # fmt: skip
    writer.append(x)
    writer.close()
    got = zarr.open_array(str(tmp_path / "g" / "data"), mode="r")[:]
    enc = {"encoding": "quantized", "quantum_uv": QUANTUM, "max_error_uv": QUANTUM / 2}
    np.testing.assert_array_equal(got, as_stored(x, enc))
    codec = Quantizer(offset=0, scale=1 / QUANTUM, dtype="<f4", astype="<i4")
    decoded = (codec.encode(x).reshape(x.shape) / (1 / QUANTUM)).astype(np.float32)
    np.testing.assert_array_equal(decoded, got)


def test_small_codes_stay_numcodecs_own() -> None:
    """Below :data:`EXACT_CODES` the integers are numcodecs', halves rounded to even."""
    from numcodecs import FixedScaleOffset

    params = {"offset": 0, "scale": 1 / QUANTUM, "dtype": "<f4", "astype": "<i4"}
    x = np.concatenate([_samples(2.0**10), ((np.arange(-60, 60) + 0.5) * QUANTUM)])
    x = x.astype(np.float32)
    assert np.abs(x / QUANTUM).max() < EXACT_CODES
    ref = FixedScaleOffset(**params).encode(x)
    np.testing.assert_array_equal(Quantizer(**params).encode(x), ref)


def _bdf(folder: Path) -> None:
    """A BDF of +-300,000 uV whose Fp1 is a full-scale square wave, the rest EEG."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 250 * 60)) * 30
    x[0] = np.where((np.arange(x.shape[1]) / 250) % 4 < 2, -300000.0, 300000.0)
    folder.mkdir(parents=True)
    write_edf(
        folder / "a.bdf", list(x), labels=["Fp1", "Fp2", "C3", "C4"], sfreqs=250, bdf=True,
        physical_min=-300000, physical_max=300000,
    )  # fmt: skip


def test_a_full_scale_bdf_square_wave_is_stored_within_the_bound(tmp_path: Path) -> None:
    src = tmp_path / "src"
    _bdf(src)
    got = {}
    for encoding in ("float32", "quantized", "auto"):
        out = tmp_path / f"{encoding}.zarr"
        args = ["ingest", "folder", "--src", str(src), "--mains", "50", "--out", str(out)]
        result = CliRunner().invoke(eegprep_cli, [*args, "--encoding", encoding, "--workers", "0"])
        assert result.exit_code == 0, result.output
        store = open_store(out)
        (rec,) = store.recordings
        got[encoding] = (store.read(rec.id), rec.record)
        assert CliRunner().invoke(eegprep_cli, ["validate", str(out)]).exit_code == 0
        stats = CliRunner().invoke(eegprep_cli, ["stats", str(out), "--json"])
        json.loads(stats.stdout, parse_constant=lambda c: pytest.fail(f"stats JSON holds {c}"))
    x = got["float32"][0]
    assert np.abs(x).max() > 4e5  # the square wave's edges overshoot its rails
    for encoding in ("quantized", "auto"):
        y, record = got[encoding]
        assert record.encoding == "quantized" and record.max_error_uv == record.quantum_uv / 2
        assert _within(y, x, record.max_error_uv) <= 1.0, encoding
