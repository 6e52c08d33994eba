"""What a task trains on means what the corpus's documentation says its labels mean.

The facts, in our words (docs/corpora.md#tuev, #the-seed-family): TUEV's ``.rec`` codes are
1 spsw, 2 gped, 3 pled, 4 eyem, 5 artf, 6 bckg, and LaBraM trains class ``code - 1``; there is
no code 0. The SEED corpora code emotions by numbers whose meaning is the corpus's own: SEED's
-1/0/1 are negative/neutral/positive, SEED-IV's 0-3 neutral/sad/fear/happy, SEED-V's 0-4
disgust/fear/sad/neutral/happy, so the same number names different emotions in different
corpora.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from eegprep import open_store
from eegprep.pipeline.recipe import Recipe
from eegprep.store.recording_writer import write_recording
from eegprep.store.writer import StoreWriter
from eegprep.testing.records import hand_record
from labram.data.tasks import _windows, get_task

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
