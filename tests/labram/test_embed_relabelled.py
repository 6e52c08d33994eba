"""``labram embed`` resumed after only the labels or metadata of a recording changed.

An edited label sidecar re-ingests a recording from the same source: the same version
(``recording_versions``), the same windows, so the resume kept the old ``label`` and
``label_<key>`` coordinates and a probe read the wrong labels. Now each resume writes the
changed coordinates again (the embeddings kept), and a change the sealed metadata names (a
label key added, the task's classes) is refused in one line.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import torch
import zarr

import labram.stages.embed as E
from eegprep.base.errors import UsageError
from eegprep.base.sealed_json import sealed
from labram.checkpoints.layouts import save_ours
from labram.model.config import model_config
from labram.model.mem import LaBraMForMEM
from tests.labram.test_embed_versions import _version
from tests.labram.training_stores import TUAB_ORDER, eeg

CHANNELS = TUAB_ORDER[:19]  # 13-s windows: 3 of a 40-s recording
CFG = E.EmbedConfig(chunk_windows=2, task="label:grade")
LABELS = {"tuh/s0": "low", "tuh/s1": "high", "tuh/s2": "low"}


def _ingest(url: str, rid: str, x: np.ndarray, version: int, labels: dict, subject: str) -> None:
    """Write recording ``rid`` from its one source (the same digest every version), as an
    ingest after its sidecars were edited writes version ``version`` of it. Every recording is
    of the evaluation split: no validation split, whose subjects follow the labels, moves a
    window."""
    digest = f"{int(rid[-1]):064x}"
    _version(url, rid, x, digest, version, subject=subject, split="eval", labels=labels)


def _read(out: Path, name: str) -> np.ndarray:
    values = np.asarray(zarr.open_array(str(out / name), mode="r")[...])
    return values if values.dtype.kind == "f" else np.array(values.tolist(), dtype=object)


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    tmp = tmp_path_factory.mktemp("relabel")
    torch.manual_seed(0)
    save_ours(LaBraMForMEM(model_config("tiny")), tmp / "model.pt")
    url = str(tmp / "a.zarr")
    rng = np.random.default_rng(0)
    samples = {rid: eeg(rng, len(CHANNELS), 40) for rid in LABELS}
    for rid, x in samples.items():
        _ingest(url, rid, x, 1, {"grade": LABELS[rid]}, rid[4:])
    out = tmp / "e.zarr"
    E.embed([url], tmp / "model.pt", out, cfg=CFG, device="cpu")
    progress = out / "_labram" / "progress" / "rank0.json"
    progress.write_text(sealed({"chunks": [0, 1]}).decode())  # killed after two chunks
    return {"url": url, "out": out, "model": tmp / "model.pt", "samples": samples}


def test_a_resume_after_a_label_changed_writes_the_new_labels(
    made: dict, caplog: pytest.LogCaptureFixture
) -> None:
    out, url = made["out"], made["url"]
    before = _read(out, "embedding")[:4]
    _ingest(url, "tuh/s2", made["samples"]["tuh/s2"], 2, {"grade": "high"}, "S2")  # sidecars
    with caplog.at_level(logging.WARNING):
        res = E.embed([url], made["model"], out, cfg=CFG, device="cpu")
    assert res["complete"] and res["computed"] == res["n_chunks"] - 2
    rec = _read(out, "recording")
    s2 = rec == "tuh/s2"
    # classes by name: high (0), low (1); s2 was low (1), is high (0) now
    assert _read(out, "label")[s2].tolist() == [0.0] * int(s2.sum())
    assert set(_read(out, "label_grade")[s2]) == {"high"}
    assert set(_read(out, "subject")[s2]) == {"S2"}
    assert _read(out, "label")[~s2].tolist() == [0.0 if r == "tuh/s1" else 1.0 for r in rec[~s2]]
    assert np.array_equal(_read(out, "embedding")[:4], before)  # the chunks done: kept
    assert "of 1 recording changed" in caplog.text and "tuh/s2 (subject, label_grade, label)" in (
        caplog.text
    )
    # (before: the label of s2 stayed 1.0 (low), its subject s2, the run called complete)
    caplog.clear()
    with caplog.at_level(logging.WARNING):  # current now: nothing written again
        E.embed([url], made["model"], out, cfg=CFG, device="cpu")
    assert "changed since" not in caplog.text


def test_a_label_key_added_since_is_refused_in_one_line(made: dict) -> None:
    out, url = made["out"], made["url"]
    _ingest(url, "tuh/s0", made["samples"]["tuh/s0"], 2, {"grade": "low", "age": 40}, "s0")
    label = _read(out, "label").tobytes()
    with pytest.raises(UsageError, match=r"other labels \(label_age added\).*pass another --out"):
        E.embed([url], made["model"], out, cfg=CFG, device="cpu")
    assert _read(out, "label").tobytes() == label
