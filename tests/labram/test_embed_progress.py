"""`labram embed` resuming into an output store another program damaged.

A rank's progress file (``_labram/progress/rank0.json``) cut short, holding NaN, a chunk
``"0"`` or chunks past the last: one warning naming it, its chunks computed again, the run
complete and every window finite. Before, these were a warning and then an error contradicting
it, an internal error (``TypeError``), or a run that said "incomplete" after every re-run. A
chunk object removed after it was recorded read as NaN windows of a run called complete.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
import zarr

from labram.checkpoints.layouts import save_ours
from labram.model.config import model_config
from labram.model.mem import LaBraMForMEM
from labram.stages.embed import EmbedConfig, embed

CFG = EmbedConfig(chunk_windows=4)


@pytest.fixture(scope="module")
def done(store: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A finished embedding store of the 3-recording store, in chunks of 4 windows."""
    root = tmp_path_factory.mktemp("emb")
    torch.manual_seed(0)
    save_ours(LaBraMForMEM(model_config("tiny")), root / "model.pt")
    res = embed([store], root / "model.pt", root / "e.zarr", cfg=CFG, device="cpu")
    assert res["complete"] and res["n_chunks"] >= 2
    return {"model": root / "model.pt", "out": root / "e.zarr"}


def _resume(store: str, done: dict[str, Path], tmp_path: Path, damage: str) -> tuple[dict, Path]:
    out = tmp_path / "e.zarr"
    shutil.copytree(done["out"], out)
    (out / "_labram" / "progress" / "rank0.json").write_text(damage)
    return embed([store], done["model"], out, cfg=CFG, device="cpu"), out


def _embedding(out: Path) -> np.ndarray:
    return np.asarray(zarr.open_group(str(out), mode="r")["embedding"][:])


@pytest.mark.parametrize(
    "damage",
    ['{"chunks": [0', '{"chunks": [NaN]}', '{"chunks": ["0"]}', '{"chunks": [0, 99]}', "[]",
     '{"chunks": [true]}'],
)  # fmt: skip
def test_a_damaged_progress_file_is_computed_again_and_completes(
    store: str,
    done: dict[str, Path],
    tmp_path: Path,
    damage: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level("WARNING"):
        res, out = _resume(store, done, tmp_path, damage)
    assert res["complete"] and res["computed"] == res["n_chunks"]
    warned = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warned) == 1 and "rank0.json: damaged progress file" in warned[0], warned
    assert "its chunks are computed again" in warned[0]
    np.testing.assert_allclose(_embedding(out), _embedding(done["out"]), atol=1e-5)
    again = embed([store], done["model"], out, cfg=CFG, device="cpu")  # now whole: nothing to do
    assert again["complete"] and again["computed"] == 0


def test_a_chunk_recorded_but_missing_is_computed_again(
    store: str, done: dict[str, Path], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    out = tmp_path / "e.zarr"
    shutil.copytree(done["out"], out)
    (out / "embedding" / "c" / "1" / "0").unlink()
    assert np.isnan(_embedding(out)[CFG.chunk_windows]).all()  # what readers saw: NaN windows
    with caplog.at_level("WARNING"):
        res = embed([store], done["model"], out, cfg=CFG, device="cpu")
    assert res["complete"] and res["computed"] == 1
    assert "1 chunk recorded as written is missing (chunk 1, ...)" in caplog.text
    np.testing.assert_allclose(_embedding(out), _embedding(done["out"]), atol=1e-5)
