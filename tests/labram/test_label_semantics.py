"""What a task trains on means what the corpus's documentation says its labels mean.

The facts, in our words (docs/corpora.md#tuev, #the-seed-family): TUEV's ``.rec`` codes are
1 spsw, 2 gped, 3 pled, 4 eyem, 5 artf, 6 bckg, and LaBraM trains class ``code - 1``; there is
no code 0. The SEED corpora code emotions by numbers whose meaning is the corpus's own: SEED's
-1/0/1 are negative/neutral/positive, SEED-IV's 0-3 neutral/sad/fear/happy, SEED-V's 0-4
disgust/fear/sad/neutral/happy, so the same number names different emotions in different
corpora.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from eegprep import open_store
from eegprep.base.errors import UsageError
from eegprep.pipeline.recipe import Recipe
from eegprep.store.recording_writer import write_recording
from eegprep.store.writer import StoreWriter
from eegprep.testing.records import hand_record
from labram.data.tasks import _windows, build_task_indexes, get_task

N = 2000  # 10 s at 200 Hz


def _store(tmp_path: Path, recs: list[tuple[str, dict[str, Any]]]) -> str:
    """A store of 10 s recordings ``(id, record fields)``."""
    url = str(tmp_path / "s.zarr")
    x = np.random.default_rng(0).standard_normal((2, N)).astype(np.float32) * 20
    with StoreWriter(url, Recipe()) as w:
        done = []
        for rid, fields in recs:
            rec = hand_record(rid, ["FP1", "FP2"], N, **fields)
            staged = w.staging_path()
            write_recording(url, staged, record=rec, channels=list(rec.channels), n_samples=N,
                            blocks=iter([x]), sfreq=200.0)  # fmt: skip
            done.append((staged, rec))
        w.commit(done)
    return url


def test_tuev_numbers_are_its_codes_1_to_6_and_0_is_none(tmp_path: Path) -> None:
    """TUEV's codes start at 1 (1 spsw .. 6 bckg, LaBraM's class code - 1): an event numbered
    0 is no TUEV class (it was taken as SPSW, as code 1 is)."""
    events = [[3.0, 1.0, "0", ""], [4.0, 1.0, "1", ""], [5.0, 1.0, "6", ""],
              [6.0, 1.0, "eyem", ""]]  # fmt: skip
    store = open_store(_store(tmp_path, [("c/r", {"events": events})]))
    (rec,) = store.recordings
    task = get_task("tuev")
    starts, labels = _windows(store, rec, task, 5)
    named = {s / 200 + 2: task.classes[int(c[0])] for s, c in zip(starts, labels)}
    assert named == {4.0: "SPSW", 5.0: "BCKG", 6.0: "EYEM"}


SEED = {"negative": -1, "neutral": 0, "positive": 1}
SEED_IV = {"neutral": 0, "sad": 1, "fear": 2, "happy": 3}
SEED_V = {"disgust": 0, "fear": 1, "sad": 2, "neutral": 3, "happy": 4}


def _trial(rid: str, emotion: int, book: dict[str, int] | None, k: int) -> tuple[str, dict]:
    labels: dict[str, Any] = {"emotion": emotion}
    if book is not None:
        labels["emotion_codes"] = book
    return rid, {"labels": labels, "subject": f"s{k}", "subject_key": f"x:{rid}"}


def test_a_label_coded_differently_by_two_corpora_is_refused(tmp_path: Path) -> None:
    """SEED codes positive as 1, SEED-IV codes sad as 1: label:emotion over both stores made
    them one class; each corpus alone, or recordings stating no code book, still train."""
    recs = [_trial("seed/a", 1, SEED, 0), _trial("seed/b", -1, SEED, 1),
            _trial("seed_iv/c", 1, SEED_IV, 2), _trial("seed_iv/d", 3, SEED_IV, 3)]  # fmt: skip
    mixed = open_store(_store(tmp_path / "mixed", recs))
    with pytest.raises(UsageError, match=r"codes 1 as 'positive' in seed/a but as 'sad' in "):
        get_task("label:emotion", [mixed])
    alone = open_store(_store(tmp_path / "alone", recs[2:]))
    assert get_task("label:emotion", [alone]).classes == ("1", "3")
    old = [_trial("seed/a", 1, None, 0), _trial("seed_iv/c", 2, None, 2)]  # no books: as before
    assert get_task("label:emotion", [open_store(_store(tmp_path / "old", old))]).classes == (
        "1", "2",
    )  # fmt: skip


def test_seed_v_trains_only_on_trials_coded_as_seed_v_codes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """SEED-V's 0 is disgust and 1 fear; SEED's raw trials ``emotion/0`` (neutral) and
    ``emotion/1`` (positive) were trained as those: a recording whose code book gives a
    SEED-V code another meaning gives no window, said once."""
    trials = [[0.0, 4.0, "emotion/0", ""], [4.0, 4.0, "emotion/1", ""]]
    recs = [
        ("seed_v/a", {"events": trials, "labels": {"emotion_codes": SEED_V}}),
        ("seed_raw/b", {"events": trials, "labels": {"emotion_codes": SEED}}),
        ("mine/c", {"events": trials}),  # no book: read as before
    ]
    store = open_store(_store(tmp_path, recs))
    with caplog.at_level(logging.WARNING, logger="labram.data.tasks"):
        idx = build_task_indexes([store], get_task("seed_v"), split_seed=0)
    used = {idx[s].recordings[int(r)].id for s in idx for r in idx[s].rec}
    assert used == {"seed_v/a", "mine/c"}
    said = [r.getMessage() for r in caplog.records if "other codes" in r.getMessage()]
    assert len(said) == 1 and "seed_raw/b" in said[0] and "0 disgust" in said[0]
