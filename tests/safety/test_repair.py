"""Promise: `eegprep ingest --repair` re-ingests exactly the recordings `eegprep validate`
flags, and an ingest over a lost or damaged index lists every recording again."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
from click.testing import CliRunner

from cli import eegprep_cli
from eegprep import open_store
from eegprep.store.validate import validate
from tests.safety.corpus import ingest_folder, write_edf


def _corpus(tmp_path: Path) -> tuple[Path, Path, dict[str, np.ndarray]]:
    src, out = tmp_path / "src", tmp_path / "s.zarr"
    for i in range(4):
        write_edf(src, f"r{i}.edf", seed=i, seconds=6)
    ingest_folder(src, out)
    store = open_store(out)
    return src, out, {r.id: store.read(r.id) for r in store}


def _shard(out: Path, name: str) -> Path:
    shards = sorted((out / "recordings" / "folder" / name / "data").glob("c.*"))
    assert shards, name
    return shards[0]


def test_repair_reingests_exactly_what_validate_flags(tmp_path: Path) -> None:
    src, out, original = _corpus(tmp_path)
    shard = _shard(out, "r1")
    data = bytearray(shard.read_bytes())
    data[len(data) // 3] ^= 0x10  # one flipped bit inside a compressed chunk
    shard.write_bytes(bytes(data))
    _shard(out, "r2").unlink()
    n, problems = validate(str(out))
    flagged = sorted({p.split(":", 1)[0] for p in problems})
    assert n == 4 and flagged == ["folder/r1", "folder/r2"], problems
    assert ingest_folder(src, out).n_current == 4  # without --repair nothing is read
    rep = ingest_folder(src, out, repair=True)
    assert (rep.n_ingested, rep.n_current, rep.failed) == (2, 2, [])
    assert sorted(rep.warnings) == ["r1.edf", "r2.edf"]
    assert validate(str(out)) == (4, [])
    store = open_store(out)
    for rid, x in original.items():
        np.testing.assert_array_equal(store.read(rid), x)
    assert store.recording("folder/r0").group == "recordings/folder/r0"  # untouched
    assert store.recording("folder/r1").group == "recordings/folder/r1@2"


def test_repair_from_the_command_line(tmp_path: Path) -> None:
    src, out, _ = _corpus(tmp_path)
    _shard(out, "r3").unlink()
    runner = CliRunner()
    args = ["ingest", "folder", "--src", str(src), "--out", str(out), "--mains", "60"]
    res = runner.invoke(eegprep_cli, ["validate", str(out)])
    assert res.exit_code == 1 and "folder/r3" in res.output
    res = runner.invoke(eegprep_cli, [*args, "--workers", "0", "--repair", "--json"])
    assert res.exit_code == 0, res.output
    assert runner.invoke(eegprep_cli, ["validate", str(out)]).exit_code == 0


def test_a_group_whose_source_changed_is_relisted_then_reingested(tmp_path: Path) -> None:
    src, out, _ = _corpus(tmp_path)
    shutil.rmtree(out / "_eegprep" / "index")
    write_edf(src, "r0.edf", seed=99, seconds=6)  # changed while the index was lost
    rep = ingest_folder(src, out)
    assert (rep.n_ingested, rep.n_current) == (1, 3)
    assert open_store(out).recording("folder/r0").group == "recordings/folder/r0@2"
    assert validate(str(out)) == (4, [])


def test_a_lost_index_is_rebuilt_by_the_next_ingest(tmp_path: Path) -> None:
    """Each complete group carries its record: the next ingest lists them again, unread."""
    src, out, original = _corpus(tmp_path)
    shutil.rmtree(out / "_eegprep" / "index")
    n, problems = validate(str(out))
    assert n == 0 and any("not listed" in p or "index" in p for p in problems), problems
    rep = ingest_folder(src, out, keep_replaced=0.0)
    assert (rep.n_ingested, rep.n_current) == (0, 4)
    assert len(rep.warnings["(store index)"]) == 4
    assert validate(str(out)) == (4, [])
    store = open_store(out)
    for rid, x in original.items():
        np.testing.assert_array_equal(store.read(rid), x)


def test_a_damaged_index_line_is_skipped_reported_and_its_recording_relisted(
    tmp_path: Path,
) -> None:
    src, out, original = _corpus(tmp_path)
    seg = next((out / "_eegprep" / "index").glob("*.jsonl"))
    lines = seg.read_text().splitlines()
    victim = next(i for i, line in enumerate(lines) if '"folder/r2"' in line)
    lines[victim] = lines[victim][: len(lines[victim]) // 2]  # cut short
    seg.write_text("\n".join(lines) + "\n")
    _, problems = validate(str(out))
    assert any(seg.name in p for p in problems), problems
    rep = ingest_folder(src, out)
    assert (rep.n_ingested, rep.n_current) == (0, 4)
    notes = rep.warnings["(store index)"]
    assert any(seg.name in w for w in notes) and any("folder/r2: listed again" in w for w in notes)
    assert validate(str(out)) == (4, [])
    np.testing.assert_array_equal(open_store(out).read("folder/r2"), original["folder/r2"])


def test_a_group_relisted_as_it_holds_its_record(tmp_path: Path) -> None:
    """A group's attributes were relisted through a typed record, which leaves out a
    provenance field stated as null (as a record may be by an earlier version): the index line
    then lacked a key the group holds, and every read of the relisted recording was refused
    as damaged. The index now lists the attributes as the group holds them."""
    import json

    src, out, original = _corpus(tmp_path)
    meta = out / "recordings" / "folder" / "r0" / "zarr.json"
    doc = json.loads(meta.read_text())
    doc["attributes"]["mains_hz"] = None  # not stated
    meta.write_text(json.dumps(doc, sort_keys=True))
    shutil.rmtree(out / "_eegprep" / "index")
    rep = ingest_folder(src, out)
    assert rep.n_ingested == 0 and "folder/r0: listed again" in str(rep.warnings)
    np.testing.assert_array_equal(open_store(out).read("folder/r0"), original["folder/r0"])
    assert validate(str(out)) == (4, [])


def test_repair_reingests_a_recording_whose_target_metadata_is_damaged(tmp_path: Path) -> None:
    """A target series' ``zarr.json`` stating another byte order (its chunk intact) is damage
    that ``validate`` flags; ``--repair`` writes that recording again, and its target reads as
    it was ingested."""
    from eegprep.ingestion.driver import IngestConfig, ingest
    from eegprep.testing.fixtures import write_fixture

    src, out = write_fixture("mobi", tmp_path / "src"), tmp_path / "s.zarr"
    ingest("mobi", src=src, out=out, config=IngestConfig(workers=0, progress=False))
    store = open_store(out)
    original = {r.id: store.read_target(r.id, "joints") for r in store}
    rid = sorted(original)[0]
    meta = out / store.recording(rid).group / "joints" / "zarr.json"
    meta.write_bytes(meta.read_bytes().replace(b'"little"', b'"big"'))
    n, problems = validate(str(out))
    assert n == 2 and [p.split(":", 1)[0] for p in problems] == [rid], problems
    config = IngestConfig(workers=0, progress=False, repair=True)
    rep = ingest("mobi", src=src, out=out, config=config)
    assert (rep.n_ingested, rep.n_current, rep.failed) == (1, 1, [])
    assert validate(str(out)) == (2, [])
    store = open_store(out)
    for rid, joints in original.items():
        np.testing.assert_array_equal(store.read_target(rid, "joints"), joints)
