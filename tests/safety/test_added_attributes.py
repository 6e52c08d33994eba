"""Promise: attributes another program adds to a store are read past, never taken for damage,
and never hide damage to eegprep's own.

zarr-python's ``root.attrs["note"] = "x"`` (or a recording group's) rewrites that group's
``zarr.json`` with one more key. Before, every reader refused such a root (its CRC-32C covered
every attribute) and ``validate`` called both damage. Now a key that is none of eegprep's is
left out of the root's checksum and of the comparison of a group's attributes with its index
record, and ``validate`` names it on a ``note:`` line. A key of eegprep's whose name a flipped
bit changed is still missing where eegprep looks for it: damage, with an added key beside it
too. A recording's arrays (``data``, ``channel``, ``time``, a target series: xarray's
``_ARRAY_DIMENSIONS``, ``array.attrs["note"]``) and a retired group's take added keys the same
way, and a flipped bit anywhere in what eegprep wrote of an array is still damage. Local
stores and fsspec's ``memory://`` (and a zipped store, for the arrays).
"""

from __future__ import annotations

import json
import random
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import zarr
from click.testing import CliRunner

from cli import eegprep_cli
from eegprep import open_store
from eegprep.base.errors import StoreFormatError
from eegprep.ingestion.driver import IngestConfig, ingest
from eegprep.store.fs import Location
from eegprep.store.validate import check_store
from eegprep.store.validate_recording import recording_problems
from eegprep.testing.fixtures import write_fixture
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


RETIRED = "recordings/folder/b"  # b's first version, retired when a changed b.edf is ingested
ARRAYS = ("data", "channel", "time")  # every recording's arrays; a target series beside them


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("added")
    for seed, name in enumerate(["a.edf", "b.edf"], start=1):
        write_edf(root / "src", name, seed=seed)
    ingest_folder(root / "src", root / "s.zarr")
    write_edf(root / "src", "b.edf", seed=9)
    ingest_folder(root / "src", root / "s.zarr")
    assert open_store(root / "s.zarr").recording("folder/b").group == f"{RETIRED}@2"
    return root / "s.zarr"


@pytest.fixture(scope="module")
def targets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store whose two recordings hold a target series (``joints``) beside their arrays."""
    root = tmp_path_factory.mktemp("added-targets")
    src = write_fixture("mobi", root / "src")
    ingest("mobi", src=src, out=root / "s.zarr", config=IngestConfig(workers=0, progress=False))
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
    from eegprep.store.root_attrs import root_seal_problem

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
    from eegprep.store.root_attrs import ROOT_KEYS
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


def note(path: str, keys: str) -> str:
    """The note ``validate`` writes of attributes ``keys`` (``a, b``) added to ``path``."""
    many = "s" if "," in keys else ""
    return (f"{path}: attribute{many} {keys} added by another program (not eegprep's): "
            "ignored, not damage")  # fmt: skip


def add_to_arrays(b: Backend, group: str, names: tuple[str, ...], odd: str = '"x"') -> None:
    """What xarray and a user of zarr-python do to arrays: ``_ARRAY_DIMENSIONS`` and a note,
    through zarr-python; then one more attribute whose value is ``odd`` as written (``NaN``,
    ``1e400``: what Python's json writes, or a number beyond a float)."""
    for name in names:
        array = zarr.open_array(f"{b.url}/{group}/{name}", mode="r+")
        dims = list(array.metadata.dimension_names or ())
        array.attrs.update({"_ARRAY_DIMENSIONS": dims, "note": "checked by hand", "odd": "@@"})
        rel = f"{group}/{name}/zarr.json"
        b.write(rel, b.read(rel).replace(b'"@@"', odd.encode()))


def zipped(folder: Path, to: Path) -> str:
    """``zip -r to folder``: the store folder zipped whole."""
    with zipfile.ZipFile(to, "w") as zf:
        for p in sorted(folder.rglob("*")):
            if p.is_file():
                zf.write(p, p.relative_to(folder.parent).as_posix())
    return str(to)


ODD = ("NaN", "Infinity", "1e400", "-Infinity")


@pytest.mark.parametrize("kind", ["local", "memory", "zip"])
def test_attributes_added_to_every_array_are_notes(
    targets: Path, tmp_path: Path, kind: str
) -> None:
    """Before: each of ``data``, ``channel`` and ``time`` with an attribute another program
    added was "not the metadata eegprep writes" (damage; ``--repair`` rewrote the recording);
    a NaN among them made ``data`` "not valid JSON" to every reader and a target series'
    ``zarr.json`` damaged. Each is a note now; the store reads as before."""
    copy = tmp_path / "s.zarr"
    shutil.copytree(targets, copy)
    b = Backend(copy, "local" if kind == "zip" else kind, "added-arrays")
    try:
        before = open_store(b.url)
        want = {r.id: (before.read(r.id), before.read_target(r.id, "joints")) for r in before}
        groups = sorted(r.group for r in before)
        names = (*ARRAYS, "joints")
        for group in groups:
            for name, odd in zip(names, ODD, strict=True):
                add_to_arrays(b, group, (name,), odd)
        url = zipped(copy, tmp_path / "s.zip") if kind == "zip" else b.url
        result = check_store(url)
        assert result.problems == []
        assert sorted(result.notes) == sorted(
            note(f"{g}/{n}/zarr.json", "_ARRAY_DIMENSIONS, note, odd")
            for g in groups
            for n in names
        )
        res = CliRunner().invoke(eegprep_cli, ["-v", "validate", url])  # (-v: every note)
        assert res.exit_code == 0, res.output
        assert res.output.count("note: ") == len(groups) * len(names), res.output
        after = open_store(url)
        for rid, (data, joints) in want.items():
            np.testing.assert_array_equal(after.read(rid), data)
            np.testing.assert_array_equal(after.read_target(rid, "joints"), joints)
    finally:
        b.close()


def test_attributes_added_to_a_retired_group_are_notes_as_a_listed_ones(backend: Backend) -> None:
    """A retired group (a replaced version kept for readers of an older index) is read as a
    listed one: before, the attributes added to its group went unsaid and those added to its
    arrays were damage. Each is a note, as a listed group's; without the ``record.json`` an
    earlier version did not write, its attributes are its record and eegprep cannot tell
    another program's from the record's fields: nothing is said of them, its arrays' are
    noted."""
    zarr.open_group(f"{backend.url}/{RETIRED}", mode="r+").attrs["qc_by"] = "me"
    add_to_arrays(backend, RETIRED, ARRAYS)
    result = check_store(backend.url)
    assert result.problems == []
    arrays = [note(f"{RETIRED}/{n}/zarr.json", "_ARRAY_DIMENSIONS, note, odd") for n in ARRAYS]
    assert result.notes == [note(f"{RETIRED}/zarr.json", "qc_by"), *arrays]
    backend.delete(f"{RETIRED}/record.json")  # what an earlier version left
    doc = json.loads(backend.read("_eegprep/retired.json"))
    rows = [row[:2] for row in doc["retired"]]
    from eegprep.base.sealed import seal

    backend.write("_eegprep/retired.json", json.dumps(seal({"retired": rows})).encode())
    result = check_store(backend.url)
    assert result.problems == [] and result.retired == 1
    assert result.notes == arrays


def test_the_array_keys_eegprep_knows_are_the_keys_it_writes() -> None:
    """A key the writer puts on an array but :data:`ARRAY_KEYS` lacks would be taken for
    another program's (a NaN in it read past): the two must agree, for every encoding."""
    from eegprep.store.added_attrs import ARRAY_KEYS
    from eegprep.store.shards import Layout, metadata_documents

    written: dict[str, set[str]] = {name: set() for name in ARRAYS}
    for encoding, quantum in (("float32", None), ("float16", None), ("quantized", 0.1)):
        layout = Layout(3, 200.0, encoding, quantum, 200, 400)
        for name, doc in metadata_documents(layout, 10).items():
            written[name] |= set(doc["attributes"])
    assert written == {name: set(keys) for name, keys in ARRAY_KEYS.items()}


def test_no_renamed_array_key_is_taken_for_an_added_one() -> None:
    """Each single-bit rename of each attribute key eegprep writes on an array is not taken
    for another program's key: the key it was is missing beside it (damage)."""
    from eegprep.store.added_attrs import ARRAY_KEYS, foreign_keys

    n = 0
    for keys in ARRAY_KEYS.values():
        for key in keys:
            for new in renamed(key):
                if new not in keys:
                    attrs = {k: 1 for k in keys if k != key} | {new: 1, "note": "x"}
                    assert foreign_keys(attrs, keys) == ["note"], (key, new)
                    n += 1
    assert n > 300


ADDED = b'"_ARRAY_DIMENSIONS": ["channel", "time"], "note": "x", "odd": NaN'


def with_added(blob: bytes) -> tuple[bytes, int, int]:
    """``blob`` (an array's ``zarr.json`` as eegprep writes it) with :data:`ADDED` first in its
    attributes, and where the added text starts and ends."""
    at = blob.index(b'"attributes": {') + len(b'"attributes": {')
    text = ADDED + (b"" if blob[at : at + 1] == b"}" else b", ")
    return blob[:at] + text + blob[at:], at, at + len(text)


def test_a_flipped_bit_in_what_eegprep_wrote_of_an_array_is_damage_beside_added_ones(
    store: Path, tmp_path: Path
) -> None:
    """100 single bits, drawn at random (seeded) from what eegprep wrote in the ``zarr.json``
    of ``data``, ``channel`` or ``time`` (keys, values, shape, data type, codecs, chunking:
    all but the attributes another program added beside them), each flipped alone: every one
    is damage to the recording, and no note is made of the damaged document's keys."""
    copy = tmp_path / "s.zarr"
    shutil.copytree(store, copy)
    loc = Location.parse(str(copy))
    record = dict(open_store(copy).index_rows()["folder/a"])
    docs = {}
    for name in ARRAYS:
        docs[name] = with_added((copy / GROUP / name / "zarr.json").read_bytes())
        (copy / GROUP / name / "zarr.json").write_bytes(docs[name][0])
    notes: list[str] = []
    assert recording_problems(loc, record, notes=notes) == []
    assert len(notes) == 3
    rng = random.Random(73)
    for _ in range(100):
        name = rng.choice(ARRAYS)
        blob, lo, hi = docs[name]
        at = rng.randrange(len(blob) - (hi - lo))
        at += (hi - lo) if at >= lo else 0  # (outside the added text)
        flipped = bytearray(blob)
        flipped[at] ^= 1 << rng.randrange(8)
        path = copy / GROUP / name / "zarr.json"
        path.write_bytes(bytes(flipped))
        notes = []
        problems = recording_problems(loc, record, notes=notes)
        case = (name, at, bytes(flipped[max(at - 20, 0) : at + 20]))
        assert problems and all(p.startswith("folder/a: ") for p in problems), case
        assert not any(f"{GROUP}/{name}/" in n for n in notes), (case, notes)
        path.write_bytes(blob)


TARGET = "joints"  # the mobi fixture's target series


def test_a_flipped_bit_in_what_eegprep_wrote_of_a_target_is_damage_beside_added_ones(
    targets: Path, tmp_path: Path
) -> None:
    """100 single bits, drawn at random (seeded) from what eegprep wrote in a target series'
    ``zarr.json`` (its data type, codecs, chunk grid, chunk key separator, fill value, shape,
    dimension names: all but the attributes another program added beside them), each flipped
    alone: every one is damage to the recording, and ``read_target`` refuses it in one line.
    Before, only the shape's last number was compared: a flipped separator or row count read
    zeros in place of the samples, unsaid."""
    copy = tmp_path / "s.zarr"
    shutil.copytree(targets, copy)
    loc = Location.parse(str(copy))
    store = open_store(copy)
    rid = sorted(r.id for r in store)[0]
    record, group = dict(store.index_rows()[rid]), store.recording(rid).group
    path = copy / group / TARGET / "zarr.json"
    blob, lo, hi = with_added(path.read_bytes())
    path.write_bytes(blob)
    notes: list[str] = []
    assert recording_problems(loc, record, notes=notes) == []
    assert notes == [note(f"{group}/{TARGET}/zarr.json", "_ARRAY_DIMENSIONS, note, odd")]
    rng = random.Random(77)
    for _ in range(100):
        at = rng.randrange(len(blob) - (hi - lo))
        at += (hi - lo) if at >= lo else 0  # (outside the added text)
        flipped = bytearray(blob)
        flipped[at] ^= 1 << rng.randrange(8)
        path.write_bytes(bytes(flipped))
        notes = []
        problems = recording_problems(loc, record, notes=notes)
        case = (at, bytes(flipped[max(at - 20, 0) : at + 20]))
        assert problems and all(p.startswith(f"{rid}: ") for p in problems), case
        assert not any(f"{group}/{TARGET}/" in n for n in notes), (case, notes)
        with pytest.raises(StoreFormatError) as caught:
            open_store(copy).read_target(rid, TARGET)
        assert "\n" not in str(caught.value) and TARGET in str(caught.value), case
    path.write_bytes(blob)


@pytest.mark.parametrize(
    ("old", "new", "says"),
    [
        (
            b'"data_type": "float32"',
            b'"data_type": "int32"',
            "data_type 'int32', eegprep writes 'float32'",
        ),
        (b'"endian": "little"', b'"endian": "big"', "endian 'big', eegprep writes 'little'"),
    ],
)
def test_a_target_of_another_data_type_or_codec_is_damage_and_never_read(
    targets: Path, tmp_path: Path, old: bytes, new: bytes, says: str
) -> None:
    """A target whose ``zarr.json`` states another data type or byte order: zarr decodes its
    (intact, checksummed) chunk as that and ``read_target`` returned other numbers; ``validate``
    said nothing. Now ``validate`` names the array and what differs, and exits 1, and
    ``read_target`` raises one line."""
    copy = tmp_path / "s.zarr"
    shutil.copytree(targets, copy)
    store = open_store(copy)
    rid = sorted(r.id for r in store)[0]
    group = store.recording(rid).group
    rel = copy / group / TARGET / "zarr.json"
    rel.write_bytes(rel.read_bytes().replace(old, new))
    res = CliRunner().invoke(eegprep_cli, ["validate", str(copy)])
    assert res.exit_code == 1, res.output
    lines = [ln for ln in res.output.splitlines() if f"{group}/{TARGET}/zarr.json" in ln]
    assert len(lines) == 1 and says in lines[0], res.output
    with pytest.raises(StoreFormatError, match=f"{TARGET}/zarr.json: not the metadata") as caught:
        open_store(copy).read_target(rid, TARGET)
    assert "\n" not in str(caught.value) and says in str(caught.value)


def test_read_target_refuses_a_name_the_record_does_not_name(targets: Path) -> None:
    """``read_target(rid, "data")`` read the EEG through zarr as if it were a target; a name
    that is no target is a usage error naming the record's targets."""
    from eegprep.base.errors import UsageError

    store = open_store(targets)
    rid = sorted(r.id for r in store)[0]
    for name in ("data", "time", "nope"):
        with pytest.raises(UsageError, match=f"no target '{name}'; its record names 'joints'"):
            store.read_target(rid, name)


def test_a_target_in_a_form_no_version_wrote_beside_its_record_is_damage(
    targets: Path, tmp_path: Path
) -> None:
    """Commits 969b895..5046c7b wrote targets with Blosc zstd level 5 and no ``crc32c`` codec,
    but beside records that state no ``encoding`` (which are not compared); every commit whose
    records state it wrote the current form (:data:`eegprep.store.array_docs.PAST_FORMS`).
    Such a document beside this record was accepted as an earlier form (any codec without a
    CRC was); it is damage now: ``validate`` names it, ``read_target`` refuses it."""
    from zarr.codecs import BloscCodec

    copy = tmp_path / "s.zarr"
    shutil.copytree(targets, copy)
    store = open_store(copy)
    rid = sorted(r.id for r in store)[0]
    group, want = store.recording(rid).group, store.read_target(rid, TARGET)
    shutil.rmtree(copy / group / TARGET)
    array = zarr.open_group(str(copy / group), mode="r+").create_array(
        TARGET,
        shape=want.shape,
        chunks=(want.shape[0], 12000),
        dtype=np.float32,
        compressors=[BloscCodec(cname="zstd", clevel=5, shuffle="bitshuffle")],
        dimension_names=(f"{TARGET}_channel", "time"),
    )
    array[...] = want
    assert "crc32c" not in (copy / group / TARGET / "zarr.json").read_text()
    problems = check_store(str(copy)).problems
    assert len(problems) == 1 and f"{group}/{TARGET}/zarr.json" in problems[0], problems
    with pytest.raises(StoreFormatError, match="cname 'zstd', eegprep writes 'lz4'"):
        open_store(copy).read_target(rid, TARGET)
