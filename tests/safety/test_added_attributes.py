"""Promise: attributes another program adds to a store are read past, never taken for damage,
and never hide damage to eegprep's own.

zarr-python's ``root.attrs["note"] = "x"`` (or a recording group's) rewrites that group's
``zarr.json`` with one more key. Before, every reader refused such a root (its CRC-32C covered
every attribute) and ``validate`` called both damage. Now a key that is none of eegprep's is
left out of the root's checksum and of the comparison of a group's attributes with its index
record, and ``validate`` names it on a ``note:`` line. A key of eegprep's whose name a flipped
bit changed is still missing where eegprep looks for it: damage, with an added key beside it
too. Local stores and fsspec's ``memory://``.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import zarr
from click.testing import CliRunner

from cli import eegprep_cli
from eegprep import open_store
from eegprep.base.errors import StoreFormatError
from eegprep.store.validate import check_store
from tests.safety.backends import Backend
from tests.safety.corpus import ingest_folder, write_edf

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # numcodecs' zarr3 codecs

GROUP = "recordings/folder/a"
ROOT_NOTE = (
    "zarr.json: attribute note added by another program (not eegprep's): ignored, not damage"
)
GROUP_NOTE = (
    f"{GROUP}/zarr.json: attributes qc_by, reviewed added by another program (not eegprep's): "
    "ignored, not damage"
)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("added")
    for seed, name in enumerate(["a.edf", "b.edf"], start=1):
        write_edf(root / "src", name, seed=seed)
    ingest_folder(root / "src", root / "s.zarr")
    return root / "s.zarr"


@pytest.fixture(params=["local", "memory"])
def backend(request: pytest.FixtureRequest, store: Path, tmp_path: Path) -> Iterator[Backend]:
    copy = tmp_path / "s.zarr"
    shutil.copytree(store, copy)
    b = Backend(copy, request.param, "added")
    yield b
    b.close()


def add_attributes(b: Backend) -> None:
    """What another program does with zarr-python: one attribute on the root, two on a
    recording group."""
    root = zarr.open_group(b.url, mode="r+")
    root.attrs["note"] = "checked by hand"
    group = zarr.open_group(f"{b.url}/{GROUP}", mode="r+")
    group.attrs.update({"qc_by": "me", "reviewed": True})


def flip(b: Backend, rel: str, old: bytes, new: bytes) -> None:
    """Replace ``old`` (once) in object ``rel`` by ``new``: one flipped bit, said by the test."""
    blob = b.read(rel)
    assert blob.count(old) == 1, (rel, old)
    assert sum(bin(x ^ y).count("1") for x, y in zip(old, new, strict=True)) == 1
    b.write(rel, blob.replace(old, new))


def test_added_attributes_are_notes_and_the_store_reads_as_before(backend: Backend) -> None:
    """Before: ``validate`` found 3 problems (the root's CRC-32C, its key list, the group's
    attributes against its record) and every reader refused the root."""
    want = open_store(backend.url).read("folder/a")
    add_attributes(backend)
    assert json.loads(backend.read("zarr.json"))["attributes"]["note"] == "checked by hand"
    result = check_store(backend.url)
    assert result.problems == []
    assert result.notes == [ROOT_NOTE, GROUP_NOTE]
    np.testing.assert_array_equal(open_store(backend.url).read("folder/a"), want)
    res = CliRunner().invoke(eegprep_cli, ["stats", backend.url])
    assert res.exit_code == 0 and "error" not in res.output, res.output


@pytest.mark.parametrize(
    ("rel", "old", "new", "says"),
    [
        ("zarr.json", b'"recipe_hash"', b'"recipe_hasi"', "no recipe_hash"),  # a key renamed
        ("zarr.json", b'"crc32c"', b'"crc32b"', "its checksum key is damaged ('crc32b')"),
        ("zarr.json", b'"unit": "uV"', b'"unit": "uW"', "fail their CRC-32C"),  # a value
        (f"{GROUP}/zarr.json", b'"n_samples"', b'"o_samples"', "differ in n_samples"),
        (f"{GROUP}/zarr.json", b'"part"', b'"past"', "differ in part"),  # a null value's key
    ],
)
def test_a_flipped_bit_in_eegprep_attributes_is_damage_beside_added_ones(
    backend: Backend, rel: str, old: bytes, new: bytes, says: str
) -> None:
    """A key another program added does not make a renamed or changed key of eegprep's pass
    for one of its own: the damage is a problem (and the reader's one line); the keys added to
    the other group are still a note."""
    add_attributes(backend)
    flip(backend, rel, old, new)
    result = check_store(backend.url)
    where = "zarr.json: " if rel == "zarr.json" else "folder/a: "
    assert result.problems and all(p.startswith(where) for p in result.problems), result
    assert any(says in p for p in result.problems), result.problems
    if rel == "zarr.json":  # no note of a damaged group's keys: one may be eegprep's, renamed
        assert result.notes == [GROUP_NOTE]
        with pytest.raises(StoreFormatError, match="the root's attributes are damaged"):
            open_store(backend.url)
    else:
        assert result.notes == [ROOT_NOTE]
        with pytest.raises(StoreFormatError, match=says):
            open_store(backend.url).read("folder/a")


def renamed(name: str) -> Iterator[str]:
    """Every name one flipped bit makes of ``name`` (UTF-8 that still decodes)."""
    raw = name.encode()
    for i in range(len(raw)):
        for bit in range(8):
            try:
                yield (raw[:i] + bytes([raw[i] ^ (1 << bit)]) + raw[i + 1 :]).decode()
            except UnicodeDecodeError:
                continue


def test_every_renamed_key_fails_beside_added_ones(store: Path) -> None:
    """Each single-bit rename of each key of the sealed root (its checksum's too) and of each
    key of a recording group's attributes is damage, with keys another program added beside
    it; the added keys alone are none (the seal checks what it checked before them)."""
    from eegprep.store.group_attrs import differing_keys
    from eegprep.store.reader import root_seal_problem

    root = json.loads((store / "zarr.json").read_bytes())["attributes"]
    group = json.loads((store / GROUP / "zarr.json").read_bytes())["attributes"]
    added = {"note": "x", "zz": [1, 2], "sfreq_hz": 200}
    assert root_seal_problem({**root, **added}) is None
    assert differing_keys({**group, **added}, group) == []
    n = 0
    for key in root:
        for new in renamed(key):
            if new in root:
                continue
            attrs = {(new if k == key else k): v for k, v in root.items()}
            assert root_seal_problem({**attrs, **added}) is not None, (key, new)
            n += 1
    for key in group:
        for new in renamed(key):
            if new in group:
                continue
            attrs = {(new if k == key else k): v for k, v in group.items()}
            assert key in differing_keys({**attrs, **added}, group), (key, new)
            n += 1
    assert n > 1000


def test_the_keys_eegprep_knows_are_the_keys_it_writes() -> None:
    """A root key the writer adds but :data:`ROOT_KEYS` lacks would be taken for another
    program's, left out of the checksum: the two lists must be one."""
    from eegprep.base.sealed import KEY
    from eegprep.pipeline.recipe import Recipe
    from eegprep.store.reader import ROOT_KEYS
    from eegprep.store.writer import root_attrs

    assert set(root_attrs(Recipe())) - {KEY} == ROOT_KEYS


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e400", "9" * 30])
def test_a_value_strict_json_refuses_in_an_added_attribute_is_read_past(
    backend: Backend, value: str
) -> None:
    """zarr-python writes ``attrs["x"] = float("nan")`` as ``NaN`` (Python's json): before, that
    one value made the root unreadable to every command ("the root zarr.json is damaged") and
    a group's ``zarr.json`` damage to ``validate``. It is read past, as the attribute is; the
    same value in one of eegprep's own attributes is still damage."""
    want = open_store(backend.url).read("folder/a")
    for rel, key in (("zarr.json", "note"), (f"{GROUP}/zarr.json", "qc_by")):
        doc = json.loads(backend.read(rel))
        doc["attributes"][key] = "@@"
        backend.write(rel, json.dumps(doc).replace('"@@"', value).encode())
    result = check_store(backend.url)
    assert result.problems == [], result.problems
    assert result.notes == [ROOT_NOTE, GROUP_NOTE.replace("qc_by, reviewed", "qc_by").replace(
        "attributes", "attribute", 1)]  # fmt: skip
    np.testing.assert_array_equal(open_store(backend.url).read("folder/a"), want)
    res = CliRunner().invoke(eegprep_cli, ["stats", backend.url])
    assert res.exit_code == 0 and "error" not in res.output, res.output
    for rel, key in (("zarr.json", "sfreq"), (f"{GROUP}/zarr.json", "n_samples")):
        blob = backend.read(rel)
        doc = json.loads(blob)  # (Python's json reads the added value)
        doc["attributes"][key] = "@@"  # one of eegprep's own: damage
        backend.write(rel, json.dumps(doc).replace('"@@"', value).encode())
        problems = check_store(backend.url).problems
        assert any(rel in p and ("JSON" in p or "64-bit" in p) for p in problems), problems
        backend.write(rel, blob)


def test_attributes_added_to_the_groups_above_the_recordings_are_notes(backend: Backend) -> None:
    """``recordings/``, a corpus group and ``_eegprep/`` hold documents eegprep knows whole:
    an attribute another program added there (one a NaN) was "damaged (not the group document
    eegprep writes)"; it is a note, and a renamed key of eegprep's beside it is still damage."""
    for rel, value in (("recordings", "1"), ("recordings/folder", "NaN"), ("_eegprep", '"x"')):
        doc = json.loads(backend.read(f"{rel}/zarr.json"))
        doc["attributes"]["mine"] = "@@"
        backend.write(f"{rel}/zarr.json", json.dumps(doc).replace('"@@"', value).encode())
    result = check_store(backend.url)
    assert result.problems == [], result.problems
    assert sorted(result.notes) == sorted(
        f"{rel}/zarr.json: attribute mine added by another program (not eegprep's): ignored, "
        "not damage"
        for rel in ("recordings", "recordings/folder", "_eegprep")
    )
    flip(backend, "_eegprep/zarr.json", b'"description"', b'"descriptioo"')
    problems = check_store(backend.url).problems
    assert any(p.startswith("_eegprep/zarr.json: damaged") for p in problems), problems
