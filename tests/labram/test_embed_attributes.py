"""The attributes of an embedding store's Zarr nodes carry a checksum that labram checks when it
opens the store again: a flipped character in a ``zarr.json`` (the task's ``classes``, the
``checkpoint``, an array's ``coordinates``, a coordinate's ``label_key``, or their copy in the
root's consolidated metadata, which xarray reads) is one line naming the file. Before, a resume
took such a store as its own and called it complete, every reader seeing the other names."""

from __future__ import annotations

import json
import re
import shutil
import warnings
from pathlib import Path

import pytest
import torch
import xarray as xr

import labram.stages.embed as E
from eegprep.base.errors import UsageError
from eegprep.base.sealed_json import KEY, sealed
from labram.checkpoints.layouts import save_ours
from labram.model.classifier import LaBraMClassifier
from labram.model.config import model_config
from labram.stages.embed_attributes import SEALED
from tests.labram.training_stores import write_tuab_like

CFG = E.EmbedConfig(task="tuab", chunk_windows=8)


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("attrs")
    torch.manual_seed(0)
    save_ours(LaBraMClassifier(model_config("tiny"), 1), root / "best.pt")
    store = write_tuab_like(root / "tuab.zarr", n_train=4, n_eval=2, seconds=30)
    out = root / "emb.zarr"
    assert E.embed([store], root / "best.pt", out, cfg=CFG, device="cpu")["complete"]
    return {"ckpt": root / "best.pt", "store": Path(store), "out": out}


def _again(files: dict[str, Path], out: Path) -> dict:
    return E.embed([str(files["store"])], files["ckpt"], out, cfg=CFG, device="cpu")


def _flip_after(path: Path, pattern: str) -> None:
    """Flip the lowest bit of the first letter after the first match of ``pattern``."""
    text = path.read_text()
    at = re.search(pattern, text)
    assert at is not None, pattern
    i = at.end()
    assert text[i].isalpha()
    path.write_text(text[:i] + chr(ord(text[i]) ^ 1) + text[i + 1 :])


CASES = {
    # (the file, the text just before the flipped letter)
    "the root's classes": ("zarr.json", r'"classes": \[\s*"'),
    "the root's checkpoint": ("zarr.json", r'"checkpoint": "[^"]*best\.'),
    "the root's checkpoint kind": ("zarr.json", r'"checkpoint_kind": "'),
    "an array's coordinates": ("embedding/zarr.json", r'"coordinates": "'),
    "an array's coordinates, consolidated copy": ("zarr.json", r'"coordinates": "'),
    "a coordinate's label_key": ("label_abnormal/zarr.json", r'"label_key": "'),
    "its checksum itself": ("label_abnormal/zarr.json", rf'"{KEY}": "[0-9]*'),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_flipped_letter_in_an_attribute_is_named_on_resume(
    written: dict[str, Path], tmp_path: Path, case: str
) -> None:
    name, pattern = CASES[case]
    out = tmp_path / "emb.zarr"
    shutil.copytree(written["out"], out)
    _flip_after(out / name, pattern)
    with pytest.raises(UsageError) as err:
        _again(written, out)
    line = str(err.value)
    assert line.startswith(f"{out / name}: ") and "\n" not in line
    assert "the embedding store is damaged" in line


def test_attributes_are_sealed_and_xarray_still_reads_them(written: dict[str, Path]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = xr.open_zarr(str(written["out"]))
    assert list(ds.attrs["classes"]) == ["normal", "abnormal"] and KEY in ds.attrs
    assert "recording" in ds.coords and ds["embedding"].dims == ("window", "feature")


def test_a_store_written_before_without_checksums_resumes_as_before(
    written: dict[str, Path], tmp_path: Path
) -> None:
    """A store of an earlier labram (no checksum in its attributes, no :data:`SEALED` in its
    ``embed.json``) is resumed as it was: every chunk done, none computed again."""
    out = tmp_path / "emb.zarr"
    shutil.copytree(written["out"], out)
    for doc_path in [out / "zarr.json", *out.glob("*/zarr.json")]:
        doc = json.loads(doc_path.read_text())
        doc.get("attributes", {}).pop(KEY, None)
        for meta in doc.get("consolidated_metadata", {}).get("metadata", {}).values():
            meta.get("attributes", {}).pop(KEY, None)
        doc_path.write_text(json.dumps(doc, indent=2))
    meta = out / "_labram" / "embed.json"
    params = {k: v for k, v in json.loads(meta.read_text()).items() if k not in (KEY, SEALED)}
    meta.write_bytes(sealed(params))
    again = _again(written, out)
    assert again["complete"] and again["computed"] == 0
