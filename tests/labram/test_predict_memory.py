"""The in-memory path (:func:`~eegprep.ingestion.inmemory.read_preprocessed`,
:func:`~labram.stages.predict.cut_windows`) holds a recording about twice (its samples, then the
task's rows in model units), whatever its length: measured with tracemalloc, which numpy
reports its buffers to. (``labram predict`` itself streams: tests/labram/test_predict_streamed.py.)

Before, each step made whole-recording temporaries: the blocks listed then concatenated (2x),
the store's rounding through float64 (4x), the RMS of float64 squares (3x; now the ingest's
block statistics), the windows stacked from a scaled copy (3x): a 3 h recording of 23
channels took 1.3 GB (0.88 GB then), 5.0 MB per minute (2.3 MB then).
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from eegprep.ingestion.inmemory import Preprocessed
from eegprep.pipeline.channels import VOCABULARY
from eegprep.store.encoding import as_stored
from eegprep.store.recording_writer import ChannelSums
from labram.data.block_reader import to_model_units
from labram.data.tasks import TASKS, Task
from labram.stages.predict import cut_windows

N_CHANNELS, N_SAMPLES = 23, 200 * 60 * 32  # 32 min at 200 Hz: 34 MiB of float32


def _recording(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((N_CHANNELS, N_SAMPLES), np.float32) * 30).astype(np.float32)


def _peak(call: Callable[[], Any]) -> tuple[Any, int]:
    """``call()``'s result and the most bytes it held at once beyond what it returned."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        out = call()
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    return out, peak


def test_the_store_s_rounding_is_done_in_place_in_small_blocks() -> None:
    x = _recording()
    encoding = {"encoding": "quantized", "quantum_uv": 0.0625}
    expected = x.copy()  # the whole-array steps, as before: the same values to the bit
    scale = 1.0 / encoding["quantum_uv"]
    ints = np.rint(np.multiply(expected, np.float32(scale), dtype=np.float32)).astype("<i4")
    expected = np.divide(ints, scale, dtype=np.float64).astype(np.float32)
    out, peak = _peak(lambda: as_stored(x, encoding, in_place=True))
    assert out is x and np.array_equal(out, expected)
    assert peak < x.nbytes / 4, peak  # (whole-array: 4 times the recording)
    y = _recording(1)
    half = as_stored(y, {"encoding": "float16"})
    assert np.array_equal(half, y.astype(np.float16).astype(np.float32))


def test_the_checks_of_an_ingest_make_no_copy_of_the_recording() -> None:
    """The statistics an ingest (and predict) judges a recording by, taken block by block
    (:class:`~eegprep.store.recording_writer.ChannelSums`): float32 dot products, no float64
    squares of the block (twice its size)."""
    x = _recording()
    sums = ChannelSums(N_CHANNELS)
    _, peak = _peak(lambda: sums.add(x))
    stats = sums.stats(N_SAMPLES)
    want = np.sqrt(np.vecdot(x, x).astype(np.float64) / N_SAMPLES)
    assert stats["rms"] == [round(float(v), 4) for v in want]
    assert stats["n_nonfinite"] == [0] * N_CHANNELS
    assert peak < x.nbytes / 4, peak


def test_blocks_are_gathered_into_one_array() -> None:
    from eegprep.ingestion.inmemory import _gathered

    x = _recording()
    blocks = (x[:, a : a + 24_000].copy() for a in range(0, N_SAMPLES, 24_000))
    out, peak = _peak(lambda: _gathered(blocks, N_CHANNELS, N_SAMPLES))
    assert np.array_equal(out, x)
    assert peak < 1.25 * x.nbytes, peak  # the result and a block (listed, then joined: 2x)


@pytest.mark.parametrize("task_name", ["tuab", "mobi"])  # windows apart; 2 s every 1 s
def test_windows_are_views_of_one_scaled_copy(task_name: str) -> None:
    task: Task = TASKS[task_name]
    names = list(task.channels or VOCABULARY[:N_CHANNELS])[:N_CHANNELS]
    x = _recording()[: len(names)]
    rec = Preprocessed("x.edf", x, names, [VOCABULARY.index(n) for n in names], 200.0)
    w, peak = _peak(lambda: cut_windows(rec, task))
    rows = to_model_units(x[[names.index(n) for n in w.names]])
    n = w.x.shape[2] * 200
    step = n if task.stride_seconds is None else round(task.stride_seconds * 200)
    for k in (0, 1, len(w.starts) - 1):
        assert w.starts[k] == k * step
        window = rows[:, w.starts[k] : w.starts[k] + n].reshape(len(w.names), -1, 200)
        assert np.array_equal(w.x[k], window)
    assert len(w.starts) == (N_SAMPLES - n) // step + 1
    assert peak < 1.1 * rows.nbytes, peak  # (a scaled copy, then the windows stacked: 3x)
    assert not w.x.flags.writeable


@pytest.mark.parametrize("n_seconds", [16, 32])  # one window exactly; two, batch of one
def test_the_model_gets_a_writable_copy_of_read_only_windows(n_seconds: int) -> None:
    """A recording exactly one window long (or a batch of one window of one channel) is a
    contiguous read-only view: it went to ``torch.from_numpy`` as it was, and PyTorch printed
    "The given NumPy array is not writable ..." as a `warning:` line naming no file."""
    import torch

    from labram.stages.predict import run_model

    names = ["FP1"]
    x = _recording()[:1, : n_seconds * 200].copy()
    rec = Preprocessed("x.edf", x, names, [VOCABULARY.index("FP1")], 200.0)
    task = Task(name="label:k", kind="binary", classes=("a", "b"), window_seconds=16,
                label_key="k")  # fmt: skip
    w = cut_windows(rec, task)
    assert not w.x.flags.writeable
    seen: list[torch.Tensor] = []

    def model(batch: torch.Tensor, channels: torch.Tensor) -> torch.Tensor:
        seen.append(batch)
        return torch.zeros(len(batch), 1)

    logits, _ = run_model(model, w, batch_size=1, device=torch.device("cpu"))  # type: ignore[arg-type]
    assert len(logits) == len(w.x) == n_seconds // 16
    for k, batch in enumerate(seen):
        assert not np.shares_memory(batch.numpy(), w.x)
        assert np.array_equal(batch.numpy(), w.x[k : k + 1])
