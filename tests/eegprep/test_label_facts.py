"""The codes corpora label with, as each corpus documents them, are what the store holds.

The facts, in our words (docs/corpora.md, "The SEED family"): SEED codes a clip's emotion -1
negative, 0 neutral, 1 positive, in the clip order of its label.mat (the same list for every
session; the raw release's clips too); SEED-IV 0 neutral, 1 sad, 2 fear, 3 happy, in an order
of its own per session (the session being the folder); SEED-V 0 disgust, 1 fear, 2 sad,
3 neutral, 4 happy, per session; SEED-GER and SEED-FRA use SEED's -1/0/1. The same number
means different emotions in different corpora, so each recording carries its corpus's code
book (``emotion_codes``, name -> code) beside the numbers. Inria's ``TrainLabels.csv`` codes each
feedback's ``Prediction`` 1 when the feedback was right (good), 0 when it was an error.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from eegprep import open_store
from eegprep.base.errors import UsageError
from eegprep.corpus.sidecars.seed import code_book
from eegprep.ingestion.driver import IngestConfig, ingest
from eegprep.store.reader import Store
from eegprep.testing.fixtures import write_fixture

SEED = {"negative": -1, "neutral": 0, "positive": 1}
SEED_CLIPS = [1, 0, -1, -1, 0, 1, -1, 0, 1, 1, 0, -1, 0, 1, -1]
SEED_IV = {"neutral": 0, "sad": 1, "fear": 2, "happy": 3}
SEED_IV_CLIPS = {
    "1": [1, 2, 3, 0, 2, 0, 0, 1, 0, 1, 2, 1, 1, 1, 2, 3, 2, 2, 3, 3, 0, 3, 0, 3],
    "2": [2, 1, 3, 0, 0, 2, 0, 2, 3, 3, 2, 3, 2, 0, 1, 1, 2, 1, 0, 3, 0, 1, 3, 1],
}
SEED_V = {"disgust": 0, "fear": 1, "sad": 2, "neutral": 3, "happy": 4}
SEED_V_FIRST = {"1": 4, "2": 2}  # the first clip of sessions 1 and 2
BOOKS = {"seed": SEED, "seed_raw": SEED, "seed_iv": SEED_IV, "seed_v": SEED_V}


def _store(name: str, tmp: Path) -> Store:
    root = write_fixture(name, tmp / "src")
    ingest(name, src=root, out=tmp / "s.zarr", config=IngestConfig(workers=0, progress=False))
    return open_store(tmp / "s.zarr")


@pytest.mark.parametrize("name", sorted(BOOKS))
def test_seed_family_recordings_carry_their_corpus_code_book(name: str, tmp_path: Path) -> None:
    store = _store(name, tmp_path)
    assert len(store) > 0
    for r in store.recordings:
        assert r.labels["emotion_codes"] == BOOKS[name], r.id
        if name == "seed":
            assert r.labels["emotion"] == SEED_CLIPS[r.labels["trial"] - 1]
        elif name == "seed_iv":
            assert r.labels["emotion"] == SEED_IV_CLIPS[r.session][r.labels["trial"] - 1]
        trials = [e.label for e in r.events if e.label.startswith("emotion/")]
        if name == "seed_v":
            assert trials == [f"emotion/{SEED_V_FIRST[r.session]}"]
        elif name == "seed_raw":
            assert trials == [f"emotion/{v}" for v in SEED_CLIPS]


@pytest.mark.parametrize("name", ["seed_ger", "seed_fra"])
def test_seed_ger_and_fra_clip_lists_carry_seeds_code_book(name: str) -> None:
    """Their clip lists use SEED's codes (stored whole, as ``clip_labels``)."""
    with open(Path(__file__).parents[2] / "manifests" / f"{name}.toml", "rb") as fh:
        options = tomllib.load(fh)["sidecar"]["options"]
    assert code_book(options, "clip_labels") == {"clip_labels_codes": SEED}


def test_a_code_book_must_name_every_code_of_the_lists() -> None:
    options = {"labels": {"1": [0, 1], "2": [2, 1]}, "names": {"0": "a", "1": "b"}}
    with pytest.raises(UsageError, match="names no code 2 of `labels`"):
        code_book(options, "emotion")
    with pytest.raises(UsageError, match="no code of its own name"):
        code_book({"labels": [0, 1], "names": {"0": "a", "1": "a"}}, "emotion")


def test_inria_feedback_codes_are_its_predictions(tmp_path: Path) -> None:
    store = _store("inria_bci", tmp_path)
    for r in store.recordings:
        assert r.labels["feedback_codes"] == {"error": 0, "good": 1}, r.id
    train = next(r for r in store.recordings if r.split == "train")
    # the fixture's TrainLabels.csv: FB001 1, FB002 0, FB003 1
    assert [e.label for e in train.events if e.label.startswith("feedback/")] == [
        "feedback/1", "feedback/0", "feedback/1",
    ]  # fmt: skip
