"""No window across a join: a record's ``joins`` split it into stretches that every window
index (pre-training, fine-tuning by recording label, by event, by trials) tiles alone; a stretch
shorter than a window gives none, an event window across a join is dropped."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from eegprep.pipeline.recipe import Recipe
from eegprep.store.reader import open_store
from eegprep.store.writer import StoreWriter
from labram.data.joins import crosses_join, split_at_joins, tiled_starts
from labram.data.tasks import Task, _windows
from labram.data.windows import WindowConfig, build_pretrain_index
from tests.labram.training_stores import TUAB_ORDER, eeg, put

CHANNELS = TUAB_ORDER[:19]  # 19 channels: 13 s pre-training windows (256 // 19)
JOINS = {"t/a": (), "t/b": (1000, 5000), "t/c": (100,)}
SECONDS = {"t/a": 60, "t/b": 60, "t/c": 30}
EVENTS = [[3.0, 0.0, "SPSW", ""], [6.0, 0.0, "GPED", ""], [20.0, 0.0, "SPSW", ""]]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = str(tmp_path_factory.mktemp("joins") / "s.zarr")
    rng = np.random.default_rng(0)
    with StoreWriter(url, Recipe()) as w:
        for rid, joins in JOINS.items():
            put(w, rid, eeg(rng, len(CHANNELS), SECONDS[rid]), CHANNELS, joins=joins,
                subject=rid, subject_key=rid, split="train", labels={"abnormal": 1},
                events=EVENTS)  # fmt: skip
    return url


def _crossing(starts: np.ndarray, length: int, joins: tuple[int, ...]) -> list[int]:
    return [int(s) for s in starts if any(s < j < s + length for j in joins)]


def test_pretraining_windows_start_again_at_each_stretch(store: str) -> None:
    index = build_pretrain_index([store])
    n = 13 * 200
    got = {}
    for r, plan in enumerate(index.recordings):
        got[plan.id] = index.start[index.rec == r].tolist()
    assert got == {
        "t/a": list(range(0, 12000 - n + 1, n)),  # no joins: as before
        "t/b": [1000, 5000, 5000 + n],  # the first 5 s stretch is shorter than a window
        "t/c": [100, 100 + n],
    }
    assert (index.n_patches == 13).all()


@pytest.mark.parametrize("stride", [1.0, 0.5])
def test_overlapping_windows_cross_no_join(store: str, stride: float) -> None:
    index = build_pretrain_index([store], WindowConfig(stride_seconds=stride))
    for r, plan in enumerate(index.recordings):
        starts = index.start[index.rec == r]
        assert _crossing(starts, 13 * 200, JOINS[plan.id]) == []
        n = open_store(store).recording(plan.id).n_samples
        assert starts.tolist() == tiled_starts(n, JOINS[plan.id], 2600, round(stride * 200))


def test_task_windows_by_label_and_by_event(store: str) -> None:
    opened = open_store(store)
    rec = opened.recording("t/b")
    by_label = Task(name="tuab", kind="binary", classes=("normal", "abnormal"),
                    label_key="abnormal", window_seconds=10)  # fmt: skip
    starts, labels = _windows(opened, rec, by_label, 10)
    assert starts == [1000, 3000, 5000, 7000, 9000] and len(labels) == 5
    # event windows: 5 s from 2 s before each event; those of the events at 3 s and 6 s span
    # the join at 5 s (samples 200-1200, 800-1800) and are dropped, as edge events are
    by_event = Task(name="tuev", kind="multiclass", classes=("SPSW", "GPED"), events=True,
                    window_seconds=5)  # fmt: skip
    starts, labels = _windows(opened, rec, by_event, 5)
    assert starts == [3600] and labels == [[0.0]]
    assert _windows(opened, rec, by_event, 5, "wrap")[0] == [3600]
    a = opened.recording("t/a")
    assert _windows(opened, a, by_event, 5)[0] == [200, 800, 3600]  # no joins: all three


def test_trial_windows_tile_each_stretch_of_an_event(tmp_path: Path) -> None:
    url = str(tmp_path / "s.zarr")
    with StoreWriter(url, Recipe()) as w:
        x = eeg(np.random.default_rng(1), len(CHANNELS), 30)
        put(w, "t/d", x, CHANNELS, joins=(2200,), events=[[2.0, 20.0, "trial_1", ""]])
    rec = open_store(url).recording("t/d")
    task = Task(name="seed", kind="multiclass", classes=("0", "1"), event_prefix="trial_",
                window_seconds=4)  # fmt: skip
    starts, _ = _windows(open_store(url), rec, task, 4)
    assert starts == [400, 1200, 2200, 3000]  # 2-11 s, then 11-22 s


def test_join_helpers() -> None:
    assert tiled_starts(100, (), 30, 30) == [0, 30, 60]
    assert tiled_starts(100, (40,), 30, 30) == [0, 40, 70]
    assert tiled_starts(100, (20, 40), 30, 30) == [40, 70]  # 0-20 and 20-40: too short
    assert crosses_join(30, 20, 100, (40,)) and not crosses_join(40, 20, 100, (40,))
    assert not crosses_join(20, 20, 100, (40,))  # ends at the join
    assert crosses_join(-10, 20, 100, (95,)) and not crosses_join(-10, 20, 100, (50,))
    lengths, owner, offset = split_at_joins(np.array([10, 20, 30]), {1: [5, 12]})
    assert lengths.tolist() == [10, 5, 7, 8, 30]
    assert owner.tolist() == [0, 1, 1, 1, 2] and offset.tolist() == [0, 0, 5, 12, 0]


def test_predicted_windows_of_a_recording_with_joins_start_again_at_each_stretch() -> None:
    """``labram predict`` cuts a recording read from its source as fine-tuning cut the
    store's: tiled stretch by stretch, each window the samples at its start."""
    from eegprep.ingestion.inmemory import Preprocessed
    from eegprep.pipeline.channels import vocabulary_index
    from labram.data.block_reader import to_model_units
    from labram.stages.predict import cut_windows

    data = np.random.default_rng(2).standard_normal((19, 3000)).astype(np.float32)
    rows = [vocabulary_index(c) for c in CHANNELS]
    rec = Preprocessed("r.edf", data, CHANNELS, rows, 200.0, joins=(500,))
    task = Task(name="tuab", kind="binary", classes=("normal", "abnormal"), window_seconds=2)
    w = cut_windows(rec, task)
    assert w.starts.tolist() == [0, 500, 900, 1300, 1700, 2100, 2500]
    scaled = to_model_units(data.copy())
    for k, s in enumerate(w.starts):
        np.testing.assert_array_equal(w.x[k].reshape(19, -1), scaled[:, s : s + 400])
    plain = cut_windows(Preprocessed("r.edf", data, CHANNELS, rows, 200.0), task)
    assert plain.starts.tolist() == list(range(0, 2601, 400))


def test_an_event_reaching_over_a_gap_covers_the_samples_either_side(tmp_path: Path) -> None:
    """An EDF+D's event that starts before a gap and ends after it was stored with its
    duration on the recording's clock (the gap's 4 s included), so on the samples stored it
    ran 4 s into the next stretch, and trial windows tiled samples outside the trial; one
    starting inside the gap was dropped though it covers samples after it. Each now covers the
    samples kept that it covered (an onset in the gap moves to the join), trial windows tile
    each stretch of it alone, and an event window across the join is dropped."""
    from eegprep.testing.edf_writer import write_edf
    from tests.safety.corpus import ingest_folder

    src = tmp_path / "src"
    src.mkdir()
    x = 20 * np.random.default_rng(4).standard_normal((3, 20 * 250))
    onsets = [*range(8), *(k + 4 for k in range(8, 14)), *(k + 10 for k in range(14, 20))]
    events = [(7.0, 7.0, "trial_1"), (11.0, 4.0, "trial_0"), (3.0, None, "SPSW")]
    write_edf(src / "g.edf", list(x), labels=["Fp1", "Cz", "O1"], sfreqs=250, edf_plus=True,
              annotations=events, reserved="EDF+D", record_onsets=onsets)  # fmt: skip
    report = ingest_folder(src, tmp_path / "s.zarr")
    assert report.failed == [] and "inside a gap" not in report.warnings["g.edf"][0]
    store = open_store(str(tmp_path / "s.zarr"))
    rec = store.recording("folder/g")
    assert rec.joins == (1600, 2800)  # 8 s and 14 s of samples kept
    # real 7-14 s: 7-8 s, the gap (8-12 s), 12-14 s; real 11-15 s: the gap's last second, 12-15 s
    assert [(e.onset, e.duration, e.label) for e in rec.events] == [
        (3.0, 0.0, "SPSW"),
        (7.0, 3.0, "trial_1"),
        (8.0, 3.0, "trial_0"),
    ]
    trials = Task(name="trials", kind="multiclass", classes=("0", "1"), event_prefix="trial_",
                  window_seconds=1)  # fmt: skip
    starts, labels = _windows(store, rec, trials, 1)
    assert starts == [1400, 1600, 1800, 1600, 1800, 2000]  # 7-8 s | 8-10 s; 8-11 s
    assert labels == [[1.0]] * 3 + [[0.0]] * 3
    by_event = Task(name="ev", kind="multiclass", classes=("SPSW", "trial_1", "trial_0"),
                    events=True, window_seconds=5)  # fmt: skip
    assert _windows(store, rec, by_event, 5)[0] == [200]  # 5-10 s and 6-11 s cross 8 s


def test_predicted_window_times_are_the_file_s_own_after_its_gaps(tmp_path: Path) -> None:
    """``labram predict`` gives each window's start and stop in seconds of the file: an
    EDF+D's window after a 6 s gap starts 6 s later than the samples kept put it (before, the
    stretches' end-to-end times, so every window after a gap named seconds of other data)."""
    import torch

    from eegprep.testing.edf_writer import write_edf
    from labram.checkpoints.layouts import save_ours
    from labram.checkpoints.safe_read import read_checkpoint
    from labram.model.classifier import LaBraMClassifier
    from labram.model.config import model_config
    from labram.stages.predict import predict_files
    from labram.train.checkpoint import atomic_save

    stretches = [(0.0, 9), (15.0, 7), (30.0, 8)]  # (the file's time of its first record, s)
    onsets = [start + k for start, n in stretches for k in range(n)]
    x = 20 * np.random.default_rng(5).standard_normal((3, len(onsets) * 250))
    path = tmp_path / "g.edf"
    write_edf(path, list(x), labels=["Fp1", "Cz", "O1"], sfreqs=250, edf_plus=True,
              reserved="EDF+D", record_onsets=onsets)  # fmt: skip
    ckpt = tmp_path / "best.pt"
    save_ours(LaBraMClassifier(model_config("tiny"), 2), ckpt)
    obj = read_checkpoint(ckpt)
    obj["task"] = {"name": "label:state", "kind": "multiclass", "classes": ["a", "b"],
                   "channels": None, "window_seconds": 2, "stride_seconds": None}  # fmt: skip
    atomic_save(obj, ckpt, keep_previous=False)
    torch.manual_seed(0)

    res = predict_files([path], ckpt, corpus="folder", mains=50.0, device="cpu")
    assert res["failed"] == [], res["failed"]
    got = [t for w in res["recordings"][0]["windows"] for t in (w["start_s"], w["stop_s"])]
    expected = [t for start, n in stretches for k in range(0, n - 1, 2)
                for t in (start + k, start + k + 2)]  # fmt: skip
    assert got == pytest.approx(expected), got


@pytest.mark.parametrize("joins", [(), (700, 1400)])
def test_a_recording_too_short_for_a_window_is_said_in_numbers_that_agree(
    joins: tuple[int, ...],
) -> None:
    """One sample short of a 10 s window was '10.0 s long, shorter than one 10 s window', and
    a recording whose stretches are each shorter than a window but together longer was called
    shorter than one by its whole length. The line now gives the length to the sample and,
    with joins, the longest stretch, each below the window."""
    import re
    from itertools import pairwise

    from eegprep.base.errors import SourceError
    from eegprep.ingestion.inmemory import Preprocessed
    from eegprep.pipeline.channels import vocabulary_index
    from labram.model.config import PATCH_SIZE
    from labram.stages.predict_windows import plan_windows

    task = Task(name="tuab", kind="binary", classes=("normal", "abnormal"), window_seconds=10)
    n_samples = 10 * PATCH_SIZE - 1 if not joins else 2100  # 3 stretches of 3.5 s
    data = np.zeros((len(CHANNELS), n_samples), np.float32)
    rows = [vocabulary_index(c) for c in CHANNELS]
    with pytest.raises(SourceError) as info:
        plan_windows(Preprocessed("r.edf", data, CHANNELS, rows, 200.0, joins=joins), task)
    line = str(info.value)
    said = [float(x) for x in re.findall(r"([\d.]+) s\b", line.split("shorter than")[0])]
    bounds = [0, *joins, n_samples]
    longest = max(b - a for a, b in pairwise(bounds)) / PATCH_SIZE
    assert said[-1] == longest < 10, line  # (the stretch's, or the recording's own length)
    assert said[0] == n_samples / PATCH_SIZE, line
    assert ("stretch" in line) == bool(joins), line
