"""`labram predict` streams each file: its windows are cut from the preprocessed blocks as they
come, so a file holds one block and a batch in memory, whatever its length.

Before, each file was read whole into memory (its samples, then a scaled copy of its rows):
a 2 h recording of 64 channels at 1 kHz held 1.33 GB, and memory grew with the file's length
until the kernel killed the command, every other file's prediction lost with it. The results
are the same, to the bit, as those of the whole recording in memory: windows across block
boundaries, overlapping windows, a recording whose stretches join, a sample beyond the
store's encoding (streamed again as float32, as an ingest stores it).
"""

from __future__ import annotations

import tracemalloc
from functools import partial
from pathlib import Path

import numpy as np
import pytest
import torch

from eegprep.corpus.manifest import load_manifest
from eegprep.ingestion.inmemory import read_preprocessed
from eegprep.ingestion.options import apply_overrides
from eegprep.testing.edf_writer import write_edf
from labram.checkpoints.layouts import save_ours
from labram.checkpoints.load import load_model
from labram.checkpoints.safe_read import read_checkpoint
from labram.model.classifier import LaBraMClassifier
from labram.model.config import model_config
from labram.stages.predict import predict_files, predict_recording, resolve_task
from labram.train.checkpoint import atomic_save

SITES = ["Fp1", "Fp2", "C3", "C4", "O1", "O2", "Cz", "Pz"]


def _classifier(path: Path, *, window: int | None = None, stride: float | None = None) -> Path:
    """A tiny 3-class ``label:state`` classifier whose outputs differ by window."""
    torch.manual_seed(0)
    clf = LaBraMClassifier(model_config("tiny"), 3)
    torch.nn.init.normal_(clf.head.weight, std=0.5)
    save_ours(clf, path)
    obj = read_checkpoint(path)
    obj["task"] = {"name": "label:state", "kind": "multiclass", "classes": ["a", "b", "c"],
                   "channels": None, "window_seconds": window,
                   "stride_seconds": stride}  # fmt: skip
    atomic_save(obj, path, keep_previous=False)
    return path


def _edf(path: Path, minutes: float, sfreq: int = 250, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    n = int(minutes * 60 * sfreq)
    t = np.arange(n) / sfreq
    x = rng.normal(0, 20, (len(SITES), n)) + 30 * np.sin(2 * np.pi * 10 * t)
    return write_edf(path, list(x), labels=SITES, sfreqs=sfreq, physical_min=-3000.0,
                     physical_max=3000.0)  # fmt: skip


def _in_memory(
    path: Path, ckpt: Path, manifest_name: str = "folder", *, batch_size: int = 64
) -> dict:
    """The whole recording in memory, then its windows: the reference, in batches of the
    streamed run's size (a CPU's matrix kernels may round a batch of 8 windows otherwise
    than the same windows among 64: AMX/AVX-512 machines do, in the 6th decimal)."""
    loaded = load_model(ckpt)
    task = resolve_task(loaded, None)
    manifest = apply_overrides(load_manifest(manifest_name), mains=50.0)
    rec = read_preprocessed(path, manifest)
    return predict_recording(loaded.model.eval(), task, rec, source=str(ckpt),  # type: ignore[arg-type]
                             batch_size=batch_size)  # fmt: skip


def _same(streamed: dict, whole: dict) -> None:
    assert streamed["windows"] == whole["windows"]  # starts, stops, probabilities: to the bit
    assert streamed["probabilities"] == whole["probabilities"]
    assert streamed["label"] == whole["label"] and streamed["warnings"] == whole["warnings"]


def _peak(rec: Path, ckpt: Path, *, warm: bool = True) -> tuple[dict, int]:
    """``predict_files``' result and the most bytes it held at once (tracemalloc, which numpy
    reports its buffers to), the imports and the checkpoint's first load done before (by a
    run of ``rec`` first, unless ``warm`` is false: an earlier run of another file of the
    same rate did them); batches of 8 windows, which the short file fills too."""
    run = partial(predict_files, [rec], ckpt, corpus="folder", mains=50.0, device="cpu",
                  batch_size=8)  # fmt: skip
    if warm:
        run()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        res = run()
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    return res, peak


def test_a_long_file_holds_one_block_not_the_recording(tmp_path: Path) -> None:
    """40 min of 8 channels (15.4 MB of float32 at 200 Hz) costs what 4 min cost: a block of
    120 s and a batch. Read whole, the file held its samples and a scaled copy of them: 28
    MB more than 4 min."""
    ckpt = _classifier(tmp_path / "best.pt")
    short = _edf(tmp_path / "short.edf", minutes=4)
    long = _edf(tmp_path / "long.edf", minutes=40)
    recording_bytes = len(SITES) * 40 * 60 * 200 * 4
    _, short_peak = _peak(short, ckpt)
    res, long_peak = _peak(long, ckpt, warm=False)  # (the short file's runs warmed up)
    assert res["failed"] == [] and res["recordings"][0]["n_windows"] == 150
    assert long_peak - short_peak < recording_bytes / 8, (long_peak, short_peak)
    _same(res["recordings"][0], _in_memory(long, ckpt, batch_size=8))


@pytest.mark.parametrize(("window", "stride"), [(16, 5.0), (7, None), (None, None)])
def test_windows_across_blocks_are_those_of_the_whole_recording(
    tmp_path: Path, window: int | None, stride: float | None
) -> None:
    """Overlapping 16-s windows every 5 s, 7-s windows and the token budget's, over 120-s
    blocks (a window across each block boundary): the same windows and probabilities."""
    ckpt = _classifier(tmp_path / "best.pt", window=window, stride=stride)
    rec = _edf(tmp_path / "rec.edf", minutes=5.5, sfreq=256, seed=1)
    res = predict_files([rec], ckpt, corpus="folder", mains=50.0, device="cpu", batch_size=7)
    assert res["failed"] == []
    whole = _in_memory(rec, ckpt, batch_size=7)
    _same(res["recordings"][0], whole)
    starts = [w["start_s"] for w in whole["windows"]]
    assert any(s < 120 < s + (window or 16) for s in starts)  # (a window across a boundary)


def test_a_recording_whose_stretches_join_is_tiled_as_in_memory(tmp_path: Path) -> None:
    """A BrainVision recording with a second ``New Segment`` at 150 s: each stretch filtered
    and tiled alone, as the whole recording in memory is."""
    from tests.labram.brainvision_files import write_brainvision
    from tests.labram.test_predict_task_flag import CHANNELS

    ckpt = _classifier(tmp_path / "best.pt", window=16, stride=None)
    eeg = np.random.default_rng(2).normal(0, 20, (len(CHANNELS), 500 * 290))
    vhdr = write_brainvision(tmp_path, "joined", CHANNELS, eeg)
    vmrk = tmp_path / "joined.vmrk"
    vmrk.write_text(vmrk.read_text() + "Mk2=New Segment,,75001,1,0,20180302102300000000\n")
    res = predict_files([vhdr], ckpt, corpus="folder", mains=50.0, device="cpu")
    assert res["failed"] == []
    whole = _in_memory(vhdr, ckpt)
    starts = [w["start_s"] for w in whole["windows"]]
    assert {128.0, 150.0} <= set(starts) and 144.0 not in starts  # (again at the join)
    _same(res["recordings"][0], whole)


def test_a_sample_beyond_the_encoding_streams_again_as_float32(tmp_path: Path) -> None:
    """A channel reaching 5 x 10^7 uV is beyond the quantized store's int32 codes (2.7e7 uV)
    and below the samples no EEG has (10^8 uV, which predict refuses): an ingest stores the
    recording as float32 and says so; predict streams it again so, with the same warning and
    the probabilities of the whole float32 recording."""
    from tests.safety.test_encoding_range import _corpus

    src = _corpus(tmp_path / "src", huge_uv=5e7)
    rec = src / "edf/000/aaaaaaab/s001_2015/01_tcp_ar/aaaaaaab_s001_t000.edf"
    ckpt = _classifier(tmp_path / "best.pt", window=4)
    res = predict_files([rec], ckpt, corpus="tuh", device="cpu")
    assert res["failed"] == []
    (got,) = res["recordings"]
    assert any(w.startswith("stored as float32, not quantized") for w in got["warnings"])
    whole = _in_memory(rec, ckpt, "tuh")
    # the same samples; with 5e5 model units in a channel the model's round-off differs in
    # the 6th decimal between the two paths' batch tensors (to the bit for ordinary EEG above)
    assert [w["start_s"] for w in got["windows"]] == [w["start_s"] for w in whole["windows"]]
    assert got["probabilities"] == pytest.approx(whole["probabilities"], abs=2e-6)
    assert got["label"] == whole["label"] and got["warnings"] == whole["warnings"]
