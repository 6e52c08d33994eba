"""``labram embed`` resumed after a recording of its store was ingested again.

The windows' fingerprint holds ids, starts and lengths: a recording ingested again from a
changed source between a killed run and its resume (a new version group, as many samples) gave
the same fingerprint, and the resume kept the chunks of the old samples beside chunks of the
new ones, called complete. Now the output records each recording's version (its source's
digest), and such a resume is refused in one line; ``eegprep ingest --repair`` (the same
source written again) still resumes, and a store written before the record resumes as before.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import zarr

import labram.stages.embed as E
from eegprep.base.errors import UsageError
from eegprep.base.sealed_json import sealed
from eegprep.pipeline.recipe import Recipe
from eegprep.store.recording_writer import write_recording
from eegprep.store.writer import StoreWriter
from eegprep.testing.records import hand_record
from labram.checkpoints.layouts import save_ours
from labram.model.config import model_config
from labram.model.mem import LaBraMForMEM
from labram.stages.embed_existing import recordings_changed
from tests.labram.training_stores import TUAB_ORDER, eeg

CHANNELS = TUAB_ORDER[:19]  # 13-s windows: 3 of a 40-s recording
CFG = E.EmbedConfig(chunk_windows=2)
VERSIONS = "recording_versions"  # (labram.stages.embed_existing.VERSIONS)


def _version(url: str, rid: str, x: np.ndarray, digest: str, version: int, **fields: Any) -> None:
    """Write recording ``rid`` (samples ``x``) from a source of content ``digest``, as an
    ingest writes version ``version`` of it (``@k`` from the second on); ``fields``: record
    fields other than the defaults (subject, training split)."""
    fields = {"subject": rid[4:], "split": "train", **fields}
    rec = hand_record(rid, CHANNELS, x.shape[1], subject_key=f"tuh:{rid[4:]}",
                      source_blake3=digest, **fields)  # fmt: skip
    if version > 1:
        rec = rec.replace(group=f"recordings/{rid}@{version}")
    with StoreWriter(url, Recipe()) as w:
        staged = w.staging_path()
        write_recording(w.loc.url, staged, record=rec, channels=CHANNELS,
                        n_samples=x.shape[1], blocks=iter([x]), sfreq=200.0,
                        encoding="float32", quantum=None)  # fmt: skip
        w.commit([(staged, rec)])


def _embedding(out: Path) -> np.ndarray:
    return np.asarray(zarr.open_array(str(out / "embedding"), mode="r")[...])


@pytest.fixture
def made(tmp_path: Path) -> dict[str, object]:
    torch.manual_seed(0)
    save_ours(LaBraMForMEM(model_config("tiny")), tmp_path / "model.pt")
    url = str(tmp_path / "a.zarr")
    rng = np.random.default_rng(0)
    samples = {f"tuh/s{k}": eeg(rng, len(CHANNELS), 40) for k in range(3)}
    for k, (rid, x) in enumerate(samples.items()):
        _version(url, rid, x, f"{k:064x}", 1)
    out = tmp_path / "e.zarr"
    E.embed([url], tmp_path / "model.pt", out, cfg=CFG, device="cpu")
    whole = _embedding(out)
    progress = out / "_labram" / "progress" / "rank0.json"
    progress.write_text(sealed({"chunks": [0, 1]}).decode())  # killed after two chunks
    return {"url": url, "out": out, "model": tmp_path / "model.pt", "whole": whole,
            "samples": samples, "progress": progress}  # fmt: skip


def test_a_resume_after_a_recording_was_ingested_from_a_changed_source_is_refused(
    made: dict, tmp_path: Path
) -> None:
    x = eeg(np.random.default_rng(9), len(CHANNELS), 40)  # s1's source changed: other samples
    _version(made["url"], "tuh/s1", x, "f" * 64, 2)
    meta = made["out"] / "_labram" / "embed.json"
    before = meta.read_bytes(), made["progress"].read_bytes()
    with pytest.raises(UsageError, match=rf"other arguments: {VERSIONS} .*ingested again"):
        E.embed([made["url"]], made["model"], made["out"], cfg=CFG, device="cpu")
    assert (meta.read_bytes(), made["progress"].read_bytes()) == before  # nothing changed
    # (before: resumed, window 3, the old s1's, kept beside windows 4-5 of the new s1)


def test_a_repair_from_the_same_source_still_resumes_to_the_whole_run(made: dict) -> None:
    _version(made["url"], "tuh/s1", made["samples"]["tuh/s1"], f"{1:064x}", 2)  # same source
    res = E.embed([made["url"]], made["model"], made["out"], cfg=CFG, device="cpu")
    assert res["complete"] and res["computed"] == res["n_chunks"] - 2
    assert _embedding(made["out"]).tobytes() == made["whole"].tobytes()


def test_a_store_written_before_the_versions_were_recorded_resumes(made: dict) -> None:
    meta = made["out"] / "_labram" / "embed.json"
    doc = json.loads(meta.read_text())
    doc.pop("content_sha256")
    doc.pop(VERSIONS)
    meta.write_text(sealed(doc).decode())
    res = E.embed([made["url"]], made["model"], made["out"], cfg=CFG, device="cpu")
    assert res["complete"] and res["computed"] == res["n_chunks"] - 2


def test_a_resume_after_the_store_grew_says_so_and_what_to_do(made: dict) -> None:
    _version(made["url"], "tuh/s3", made["samples"]["tuh/s1"], f"{3:064x}", 1)  # appended
    with pytest.raises(UsageError) as caught:
        E.embed([made["url"]], made["model"], made["out"], cfg=CFG, device="cpu")
    line = str(caught.value)
    assert "the stores hold 1 recording more (tuh/s3) since it was written" in line
    assert "pass another --out (or remove" in line and "\n" not in line
    assert "then," not in line  # (before: "windows ('...' then, '...' now); ...ingested again")
    gone = recordings_changed(made["out"], ["tuh/s0"])
    assert gone == "2 recordings it embedded are no longer in them (tuh/s1, tuh/s2)"
    assert recordings_changed(made["out"], ["tuh/s0", "tuh/s1"]) == (
        "1 recording it embedded is no longer in them (tuh/s2)"
    )
