"""Promise: a read never trusts an index record that its recording's group does not hold.

A recording's record is stored twice, as an index line and as its group's attributes, and no
checksum covers either: a flipped bit that JSON still parses changes a value. A read used the
index line alone: a longer ``n_samples`` crashed with a ``ValueError``, a shorter one cut the
recording silently, a ``group`` flipped to another recording's read that recording's samples,
a flipped ``channel_index`` or label went to training as it was. The first read of a
recording now compares the two copies and refuses, in one line naming the group's
``zarr.json``, when they differ; a ``data`` array whose shape is not the record's is refused too.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from eegprep import open_store
from eegprep.base.errors import StoreFormatError
from tests.safety.corpus import ingest_folder, write_edf

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # numcodecs' zarr3 codecs

REC, OTHER = "folder/a", "folder/b"

DAMAGE: dict[str, Callable[[dict], None]] = {
    "n_samples + 1": lambda r: r.update(n_samples=r["n_samples"] + 1),
    "n_samples - 1": lambda r: r.update(n_samples=r["n_samples"] - 1),
    "channel_index": lambda r: r["channel_index"].__setitem__(0, r["channel_index"][0] + 1),
    "labels": lambda r: r.update(labels={"abnormal": 1}),
    "group": lambda r: r.update(group=r["group"].replace("/a", "/b")),
    "a null key renamed": lambda r: r.__setitem__("past", r.pop("part")),  # one flipped bit
}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("copies")
    for seed, name in enumerate(["a.edf", "b.edf"], start=1):
        write_edf(root / "src", name, seed=seed)  # equal lengths: b's samples fit a's record
    ingest_folder(root / "src", root / "s.zarr")
    return root / "s.zarr"


def _copy(store: Path, tmp_path: Path) -> Path:
    out = tmp_path / "s.zarr"
    shutil.copytree(store, out)
    return out


def _damage_index_line(out: Path, rid: str, change: Callable[[dict], None]) -> None:
    segment = out / "_eegprep" / "index" / "0000000001.jsonl"
    lines = segment.read_bytes().split(b"\n")
    for i, line in enumerate(lines):
        if line.startswith(b"{") and json.loads(line).get("id") == rid:
            record = json.loads(line)
            change(record)
            lines[i] = json.dumps(record, sort_keys=True, separators=(",", ":")).encode()
    segment.write_bytes(b"\n".join(lines))


def _damage_group_attrs(out: Path, rid: str, change: Callable[[dict], None]) -> None:
    path = out / open_store(out).recording(rid).group / "zarr.json"
    doc = json.loads(path.read_text())
    change(doc["attributes"])
    path.write_text(json.dumps(doc, sort_keys=True))


@pytest.mark.parametrize("where", ["index line", "group attributes"])
@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_record_its_group_does_not_hold_is_refused_by_reads(
    store: Path, tmp_path: Path, where: str, damage: str
) -> None:
    out = _copy(store, tmp_path)
    edit = _damage_index_line if where == "index line" else _damage_group_attrs
    edit(out, REC, DAMAGE[damage])
    s = open_store(out)
    differ = r"zarr\.json: its attributes and the index record differ in .*run `eegprep validate`"
    if damage == "group" and where == "index line":  # (another recording's group: not read)
        differ = r"group 'recordings/folder/b' is not a version of recordings/folder/a"
    with pytest.raises(StoreFormatError, match=differ) as refused:
        s.read(REC)
    assert "\n" not in str(refused.value)
    with pytest.raises(StoreFormatError, match=differ):
        open_store(out).iter_chunks(REC, 0, 1)
    np.testing.assert_array_equal(s.read(OTHER), open_store(store).read(OTHER))  # untouched


def test_a_data_shape_that_is_not_the_records_is_refused(store: Path, tmp_path: Path) -> None:
    out = _copy(store, tmp_path)
    meta = out / open_store(out).recording(REC).group / "data" / "zarr.json"
    doc = json.loads(meta.read_text())
    doc["shape"][1] -= 1  # both copies of the record agree; the array's metadata does not
    meta.write_text(json.dumps(doc))
    says = r"data/zarr\.json: not the metadata eegprep writes .*\(shape\[1\] \d+, eegprep writes"
    with pytest.raises(StoreFormatError, match=says):  # (the whole document is compared)
        open_store(out).read(REC)


@pytest.mark.parametrize(
    ("good", "bad"),
    [
        (b'"node_type": "group"', b'"node_type": "grmup"'),
        (b'"zarr_format": 3', b'"zarr_format": 2'),
    ],
)
def test_a_recording_group_that_is_no_zarr_group_is_reported_and_refused(
    store: Path, tmp_path: Path, good: bytes, bad: bytes
) -> None:
    """A flipped bit outside the attributes of a recording group's ``zarr.json`` passed
    ``validate`` (only the attributes were compared), and zarr and xarray cannot open the
    group then."""
    from eegprep.store.validate import validate

    out = _copy(store, tmp_path)
    meta = out / open_store(out).recording(REC).group / "zarr.json"
    assert good in meta.read_bytes()
    meta.write_bytes(meta.read_bytes().replace(good, bad))
    problems = validate(str(out))[1]
    assert len(problems) == 1 and "zarr.json damaged (not a Zarr v3 group" in problems[0]
    with pytest.raises(StoreFormatError, match=r"zarr\.json: damaged \(not a Zarr v3 group"):
        open_store(out).read(REC)


@pytest.mark.parametrize("where", ["index line", "group attributes"])
def test_a_renamed_key_of_a_null_value_is_reported(store: Path, tmp_path: Path, where: str) -> None:
    """One flipped bit renamed ``"part": null`` to ``"past": null`` in one copy of a record:
    the copies were compared value by value, ``None`` against ``None``, and nothing was
    reported (a key present in one copy only differs)."""
    from eegprep.store.validate import validate

    out = _copy(store, tmp_path)
    assert (
        b'"part": null' in (out / open_store(out).recording(REC).group / "zarr.json").read_bytes()
    )
    edit = _damage_index_line if where == "index line" else _damage_group_attrs
    edit(out, REC, DAMAGE["a null key renamed"])
    problems = validate(str(out))[1]
    assert any(f"{REC}: " in p and "differ in part, past" in p for p in problems), problems
