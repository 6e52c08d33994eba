"""Promise: zarr's consolidated metadata, added to a store by ``zarr.consolidate_metadata``, is
read past and named, never damage, and never left by an ingest to go stale.

Before: in a recording group (or in ``recordings``, a corpus group, ``_eegprep``) it was damage
to ``validate`` and refused every read of that recording; an ingest left the root's copy as it
was, so zarr-python and xarray, which trust it, did not find the new version of a re-ingested
recording (``KeyError: ... not found in consolidated metadata``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import zarr
from click.testing import CliRunner

from cli import eegprep_cli
from eegprep import open_store
from tests.safety.corpus import ingest_folder
from tests.safety.test_handled_stores import change, sound_notes, two_recordings

pytestmark = [
    pytest.mark.filterwarnings("ignore::UserWarning"),  # numcodecs' zarr3 codecs
    pytest.mark.filterwarnings("ignore:Failed to open Zarr store with consolidated:RuntimeWarning"),
]


def _reads_everything(store: Path) -> None:
    """Every listed recording reads through eegprep, zarr-python and xarray as each opens a
    store by default (zarr's consolidated metadata trusted where there is some)."""
    import xarray as xr

    opened = open_store(str(store))
    root = zarr.open_group(str(store), mode="r")
    for rec in opened.recordings:
        want = opened.read(rec.id, 0, 200)
        data = root[f"{rec.group}/data"]
        assert isinstance(data, zarr.Array) and data.shape[1] == rec.n_samples
        with xr.open_zarr(str(store), group=rec.group) as ds:
            assert ds["data"].shape == (len(rec.channels), rec.n_samples)
        assert want.shape == (len(rec.channels), 200)


GROUPS = ["", "recordings", "recordings/folder", "recordings/folder/a", "_eegprep"]


@pytest.mark.parametrize("group", GROUPS)
def test_consolidated_metadata_in_any_group_is_read_past_and_noted(
    tmp_path: Path, group: str
) -> None:
    """Before: in any group but the root, a ``validate`` problem (``not the group document
    eegprep writes``, ``not a Zarr v3 group``), and a recording group's refused its reads."""
    _, store = two_recordings(tmp_path)
    zarr.consolidate_metadata(str(store), path=group or None)
    notes = sound_notes(store)
    where = f"{group}/zarr.json".lstrip("/")
    assert [n for n in notes if "consolidated" in n] == [
        n for n in notes if n.startswith(f"{where}: zarr's consolidated metadata (")
    ] and any(n.startswith(f"{where}: zarr's consolidated") for n in notes), notes
    _reads_everything(store)
    res = CliRunner().invoke(eegprep_cli, ["stats", "--json", str(store)])
    assert res.exit_code == 0 and json.loads(res.output)["total"]["recordings"] == 2, res.output


def test_a_stale_copy_is_named_stale(tmp_path: Path) -> None:
    _, store = two_recordings(tmp_path)
    zarr.consolidate_metadata(str(store))
    doc = json.loads((store / "zarr.json").read_bytes())
    del doc["consolidated_metadata"]["metadata"]["recordings/folder/b"]
    (store / "zarr.json").write_text(json.dumps(doc))
    notes = sound_notes(store)
    assert any("stale: it lacks 1 listed recording group (recordings/folder/b)" in n
               for n in notes), notes  # fmt: skip


@pytest.mark.parametrize("groups", [[""], ["", "recordings", "recordings/folder"]])
def test_an_ingest_leaves_no_consolidated_metadata_to_go_stale(
    tmp_path: Path, groups: list[str]
) -> None:
    """Before: the root's copy stayed, and zarr and xarray did not find ``b@2``."""
    src, store = two_recordings(tmp_path)
    for group in groups:
        zarr.consolidate_metadata(str(store), path=group or None)
    attrs = json.loads((store / "zarr.json").read_bytes())["attributes"]
    change(src, "b")
    assert ingest_folder(src, store).n_ingested == 1
    for group in groups:
        doc = json.loads((store / group / "zarr.json").read_bytes())
        assert "consolidated_metadata" not in doc, group
    assert json.loads((store / "zarr.json").read_bytes())["attributes"] == attrs
    assert open_store(str(store)).recording("folder/b").group == "recordings/folder/b@2"
    assert not any("consolidated" in n for n in sound_notes(store))
    _reads_everything(store)
