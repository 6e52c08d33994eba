"""A file rewritten with the same size within one timestamp tick of the moment its bytes were
read keeps every stamp (size, mtime, ctime, inode). Before, the seen-files cache noted those
stamps all the same, and the next run took the changed file as current by them alone: "a
changed data file was reported current"; and a rewrite in that tick while the file was being
ingested, or between two parses of it in one process, left a record of one version's samples
or labels with another's hash. Now stamps within ``RACY_NS`` of the ingest's start are not
noted (the next run compares the file by content), a task hashes such files before parsing
them and refuses a digest that moved, and the readers' caches start empty.

No test sleeps: the file system's tick is played by a stat function that rounds the real
stamps down to it (2 s, a whole second, a 10 ms jiffy), the moment of the ingest by the
racy-stamps clock."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from eegprep import open_store
from eegprep.base.errors import ConfigError
from eegprep.corpus import sources
from eegprep.corpus.sources import FileStamp
from eegprep.ingestion import racy_stamps
from eegprep.ingestion.driver import IngestConfig, ingest
from eegprep.ingestion.racy_stamps import RACY_NS, racy
from eegprep.ingestion.seen_files import SeenFiles
from eegprep.store.validate import validate
from eegprep.testing.fixtures.tuh import write_tusz

SERIAL = IngestConfig(workers=0, progress=False)


@pytest.fixture(autouse=True)
def default_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """The window a user gets (tests/conftest.py sets none for the suite's child processes)."""
    monkeypatch.delenv(racy_stamps.WINDOW_VARIABLE, raising=False)


RID = "tusz/aaaaaaae_s001_t000"
T0 = 1_700_000_000_400_000_000  # ns: every file's mtime, set with os.utime
HOUR = 3600 * 10**9


def _coarse_stat(tick_ns: int) -> Callable[[str], tuple[int, int, int, int]]:
    """A file system whose times tick every ``tick_ns``: mtime rounded down to it, and the
    ctime of the same write (which a rewrite in the same tick would repeat)."""

    def file_version(path: str) -> tuple[int, int, int, int]:
        st = os.stat(path)
        t = st.st_mtime_ns // tick_ns * tick_ns
        return t, st.st_size, t, st.st_ino

    return file_version


def _date_all(root: Path, mtime_ns: int) -> None:
    for path in root.rglob("*"):
        if path.is_file():
            os.utime(path, ns=(mtime_ns, mtime_ns))


def _rewrite_same_size(path: Path, mtime_ns: int) -> None:
    """Flip bytes in the middle of ``path``, as a write at ``mtime_ns`` would leave it."""
    data = bytearray(path.read_bytes())
    for i in range(len(data) // 2, len(data) // 2 + 64):
        data[i] ^= 0x40
    path.write_bytes(bytes(data))
    os.utime(path, ns=(mtime_ns, mtime_ns))


def _at(monkeypatch: pytest.MonkeyPatch, now_ns: int) -> None:
    monkeypatch.setattr(racy_stamps, "clock", lambda: now_ns)


@pytest.mark.parametrize(
    ("tick_ns", "hashed", "rewritten"),
    [
        (10**9, 300_000_000, 500_000_000),  # a whole-second file system (ext3, HFS+, NFS)
        (2 * 10**9, 1_000_000_000, 1_500_000_000),  # FAT's 2 s
        (10_000_000, 4_000_000, 6_000_000),  # an older kernel's 10 ms jiffy
    ],
)
def test_a_file_rewritten_in_the_tick_it_was_hashed_in_is_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tick_ns: int, hashed: int, rewritten: int
) -> None:
    """The ingest hashes the files ``hashed`` ns after their last write; a same-size rewrite
    ``rewritten`` ns after it lands in the same tick, so every stamp is what was noted. The
    next run must read the file, not vouch for its old bytes by stamps."""
    src = write_tusz(tmp_path)
    out = tmp_path / "s.zarr"
    _date_all(src, T0)
    monkeypatch.setattr(sources, "file_version", _coarse_stat(tick_ns))
    target = next(src.rglob("aaaaaaae_s001_t000.edf"))
    _at(monkeypatch, T0 + hashed)
    first = ingest("tusz", src=src, out=out, config=SERIAL)
    assert (first.n_ingested, first.failed) == (3, [])
    before = open_store(out).read(RID)
    stamps_before = sources.stamp_files(str(src), [str(target.relative_to(src))])
    _rewrite_same_size(target, T0 + rewritten)
    assert sources.stamp_files(str(src), [str(target.relative_to(src))]) == stamps_before

    _at(monkeypatch, T0 + HOUR)  # the rewrite is noticed later
    rep = ingest("tusz", src=src, out=out, config=SERIAL)
    assert (rep.n_ingested, rep.n_current, rep.n_checked, rep.failed) == (1, 2, 2, [])
    assert not np.array_equal(open_store(out).read(RID), before)
    assert open_store(out).index_rows()[RID]["source_blake3"] == sources.file_digest(str(target))

    again = ingest("tusz", src=src, out=out, config=SERIAL)  # stamps now old enough: noted
    assert (again.n_ingested, again.n_current, again.n_checked) == (0, 3, 0)


def test_a_re_run_right_after_an_ingest_reads_the_new_files_but_ingests_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Files written seconds before an ingest are hashed once more by the next run (their
    stamps are racy), which finds them current; their stamps are noted once the files are
    older than a run's start by ``RACY_NS``, and later runs read nothing."""
    src = write_tusz(tmp_path)
    out = tmp_path / "s.zarr"
    newest = max(
        max(st.st_mtime_ns, st.st_ctime_ns)
        for st in (p.stat() for p in src.rglob("*") if p.is_file())
    )
    seen = out / "_eegprep" / "seen.json"
    _at(monkeypatch, newest + 10**8)  # a tenth of a second after the corpus was written
    assert ingest("tusz", src=src, out=out, config=SERIAL).n_ingested == 3
    assert not seen.exists()  # nothing vouched for: every stamp racy

    rep = ingest("tusz", src=src, out=out, config=SERIAL)
    assert (rep.n_ingested, rep.n_current, rep.n_checked) == (0, 3, 3)
    assert not seen.exists()
    assert validate(str(out)) == (3, [])  # a cache without those entries is sound

    _at(monkeypatch, newest + RACY_NS + 1)
    rep = ingest("tusz", src=src, out=out, config=SERIAL)
    assert (rep.n_ingested, rep.n_current, rep.n_checked) == (0, 3, 3)
    assert sorted(json.loads(seen.read_text())["recordings"]) == sorted(
        open_store(out).index_rows()
    )

    def no_reads(*args: object) -> str:
        raise AssertionError("a vouched file was read")

    monkeypatch.setattr(sources, "file_digest", no_reads)
    rep = ingest("tusz", src=src, out=out, config=SERIAL)
    assert (rep.n_ingested, rep.n_current, rep.n_checked) == (0, 3, 0)


def test_a_sidecar_rewritten_in_its_tick_while_it_is_ingested_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The task parsed the labels, then the sidecar was rewritten (same size) in the tick it
    was read in, before it was hashed: its stamps after reading are those of the plan, so the
    record held the old labels and the new bytes' hash, and every later run found it current.
    A file racy when the task begins is hashed before it is parsed; a digest that moved by the
    end refuses the recording, and the next run ingests the file as it is."""
    import eegprep.ingestion.task as task_module

    src = write_tusz(tmp_path)
    out = tmp_path / "s.zarr"
    _date_all(src, T0)
    monkeypatch.setattr(sources, "file_version", _coarse_stat(10**9))
    target = next(src.rglob("aaaaaaae_s001_t000.csv_bi"))
    real = task_module.fingerprint

    def rewrite_then_hash(root, stamps, known=None):  # type: ignore[no-untyped-def]
        if any(s.path.endswith(target.name) for s in stamps) and "seiz" in target.read_text():
            target.write_text(target.read_text().replace("seiz", "bckg", 1))
            os.utime(target, ns=(T0 + 500_000_000, T0 + 500_000_000))  # the same second
        return real(root, stamps, known)

    monkeypatch.setattr(task_module, "fingerprint", rewrite_then_hash)
    _at(monkeypatch, T0 + 300_000_000)
    rep = ingest("tusz", src=src, out=out, config=SERIAL)
    assert rep.n_ingested == 2
    (line,) = rep.failed
    assert "changed while it was being ingested" in line and target.name in line

    _at(monkeypatch, T0 + HOUR)
    rep = ingest("tusz", src=src, out=out, config=SERIAL)
    assert (rep.n_ingested, rep.n_current, rep.failed) == (1, 2, [])
    fresh = tmp_path / "fresh.zarr"
    assert ingest("tusz", src=src, out=fresh, config=SERIAL).n_ingested == 3
    assert open_store(out).recording(RID).labels == open_store(fresh).recording(RID).labels


def test_a_second_ingest_in_one_process_parses_a_file_rewritten_in_its_tick_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CSV reader keeps parsed tables in the process, keyed by the file's stamps, which a
    same-size rewrite in the tick it was parsed in keeps. A notebook's second ingest found the
    file changed (by its hash), ingested it again, and stored the table parsed the first time
    under the new bytes' hash: the new samples never reached the store. Every ingest now
    starts with the readers' caches empty."""
    from eegprep.readers import csv_table
    from eegprep.testing.fixtures.bci import write_grasp_lift

    src = write_grasp_lift(tmp_path)
    out, fresh = tmp_path / "s.zarr", tmp_path / "fresh.zarr"
    _date_all(src, T0)
    for module in (sources, csv_table):  # the stamps of the plan, and the tables' cache key
        monkeypatch.setattr(module, "file_version", _coarse_stat(10**9))
    target = next(src.rglob("subj1_series2_data.csv"))
    _at(monkeypatch, T0 + 300_000_000)
    assert ingest("grasp_lift", src=src, out=out, config=SERIAL).n_ingested == 3
    head, rows = target.read_text().split("\n", 1)
    target.write_text(head + "\n" + rows.replace("1", "2"))  # same size, other samples
    os.utime(target, ns=(T0 + 500_000_000, T0 + 500_000_000))  # in the same second

    _at(monkeypatch, T0 + HOUR)
    rep = ingest("grasp_lift", src=src, out=out, config=SERIAL)
    assert (rep.n_ingested, rep.failed) == (1, [])
    csv_table.clear_cache()
    assert ingest("grasp_lift", src=src, out=fresh, config=SERIAL).n_ingested == 3
    (rid,) = [r for r in open_store(out).index_rows() if "series2" in r]
    assert np.array_equal(open_store(out).read(rid), open_store(fresh).read(rid))


def test_a_task_parses_again_a_file_this_ingest_parsed_under_racy_stamps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Within one ingest a reader's cache may hold a file's parse from an earlier task (a
    file read by two tasks, a task run again), under stamps that were racy then: a same-size
    rewrite in that tick keeps them, and a task that began later (its stamps no longer racy)
    took the old parse with the new bytes' hash. Racy stamps are judged from the ingest's
    start, and a task with racy stamps begins with the readers' caches empty."""
    import dataclasses

    from eegprep.corpus.discover import discover
    from eegprep.corpus.manifest import load_manifest
    from eegprep.ingestion.driver import IngestReport, _plan
    from eegprep.ingestion.task import run_task
    from eegprep.readers import csv_table
    from eegprep.store.writer import StoreWriter
    from eegprep.testing.fixtures.bci import write_grasp_lift

    src = write_grasp_lift(tmp_path)
    _date_all(src, T0)
    for module in (sources, csv_table):
        monkeypatch.setattr(module, "file_version", _coarse_stat(10**9))
    manifest = load_manifest("grasp_lift")
    with StoreWriter(str(tmp_path / "s.zarr"), SERIAL.recipe) as writer:
        seen = SeenFiles(since_ns=T0 + 300_000_000)  # the ingest began then
        tasks = _plan(
            manifest, discover(manifest, src), writer, SERIAL, IngestReport("", "", ""), seen
        )
        (task,) = [t for t in tasks if "series2" in t.rid]
        staged = [dataclasses.replace(task, staging=writer.staging_path()) for _ in range(3)]
    first = run_task(staged[0])
    target = next(src.rglob("subj1_series2_data.csv"))
    head, rows = target.read_text().split("\n", 1)
    target.write_text(head + "\n" + rows.replace("1", "2"))  # same size, other samples
    os.utime(target, ns=(T0 + 500_000_000, T0 + 500_000_000))  # in the same second
    _at(monkeypatch, T0 + HOUR)  # the task runs later in the ingest
    again = run_task(staged[1])
    csv_table.clear_cache()
    fresh = run_task(staged[2])
    assert first.record and again.record and fresh.record
    assert first.record.qc != fresh.record.qc  # the rewrite moved the samples
    assert again.record.to_dict() == {**fresh.record.to_dict(), "group": again.record.group}


def _stamp(mtime_ns: int, ctime_ns: int) -> FileStamp:
    return FileStamp("a.edf", 10, mtime_ns, ctime_ns, 7)


def test_racy_stamps_are_those_within_the_bound_of_the_start_or_after_it() -> None:
    since = T0
    old = since - RACY_NS
    assert not racy([_stamp(old, old)], since)
    assert racy([_stamp(old + 1, old)], since)  # mtime or ctime alike
    assert racy([_stamp(old, old + 1)], since)
    assert racy([_stamp(since + HOUR, old)], since)  # dated in the future
    whole = since // 10**9 * 10**9  # a whole-second stamp of the second the run began in
    assert whole % 10**9 == 0 and racy([_stamp(whole, whole)], since)
    assert racy([_stamp(old, old), _stamp(since, since)], since)  # any file of the recording


def test_racy_stamps_are_not_noted_and_drop_an_earlier_entry() -> None:
    record = {"id": "c/r", "group": "recordings/c/r", "source_files": [{"blake3": "ab" * 32}]}
    settled = (_stamp(T0 - RACY_NS, T0 - RACY_NS),)
    fresh = (_stamp(T0 - RACY_NS, T0 - 1),)
    seen = SeenFiles(since_ns=T0)
    seen.note(record, settled)
    assert seen.vouches(record, settled)
    seen.changed = False
    seen.note(record, fresh)
    assert seen.changed
    assert not seen.vouches(record, fresh) and not seen.vouches(record, settled)


def test_the_window_is_the_users_to_widen_or_refused_in_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``EEGPREP_RACY_SECONDS`` widens the window (a file server's clock further behind) or
    sets it to 0; a value that is no window is refused before the store is created."""
    stamp = (FileStamp("x", 1, 10 * HOUR - 5 * 10**9, 10 * HOUR - 5 * 10**9, 1),)
    assert not racy(stamp, 10 * HOUR)  # 5 s old: outside the 3 s window
    monkeypatch.setenv(racy_stamps.WINDOW_VARIABLE, "10")
    assert racy(stamp, 10 * HOUR)
    monkeypatch.setenv(racy_stamps.WINDOW_VARIABLE, "0")
    assert not racy(stamp, 10 * HOUR)
    src = write_tusz(tmp_path / "c")
    for bad in ("-1", "nan", "inf", "3s", "1e9"):
        monkeypatch.setenv(racy_stamps.WINDOW_VARIABLE, bad)
        with pytest.raises(ConfigError, match="EEGPREP_RACY_SECONDS") as caught:
            ingest("tusz", src=src, out=tmp_path / "s.zarr", config=SERIAL)
        assert "\n" not in str(caught.value)
        assert not (tmp_path / "s.zarr").exists()


def _older_versions_seen_file(out: Path, src: Path) -> None:
    """``seen.json`` as versions before ``window_ns`` wrote it: each listed recording's files
    noted as stamped now (racy or not), entries of ``group``, ``hashes`` and ``files``."""
    from eegprep.base.sealed import seal

    recordings = {}
    for rid, record in open_store(out).index_rows().items():
        rels = [f["path"] for f in sources.listed_files(record)]
        recordings[rid] = {
            "group": record["group"],
            "hashes": sources.listed_hashes(record),
            "files": [s.row() for s in sources.stamp_files(str(src), rels)],
        }
    doc = seal({"version": 1, "recordings": recordings})
    (out / "_eegprep" / "seen.json").write_text(json.dumps(doc))


def test_an_older_versions_entry_does_not_vouch_for_a_file_rewritten_in_its_tick(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Versions before ``window_ns`` noted racy stamps as any other: their entry for a file
    rewritten with the same size in the tick it was hashed in vouched for the old bytes, and
    every later run reported the changed file current unread. Such entries vouch for nothing:
    the next run hashes their files once, ingests the changed one, and notes the rest anew."""
    src = write_tusz(tmp_path)
    out = tmp_path / "s.zarr"
    _date_all(src, T0)
    monkeypatch.setattr(sources, "file_version", _coarse_stat(10**9))
    _at(monkeypatch, T0 + 300_000_000)
    assert ingest("tusz", src=src, out=out, config=SERIAL).n_ingested == 3
    _older_versions_seen_file(out, src)  # as an older eegprep's ingest left it
    target = next(src.rglob("aaaaaaae_s001_t000.edf"))
    before = open_store(out).read(RID)
    _rewrite_same_size(target, T0 + 500_000_000)  # in the tick: every stamp as noted

    _at(monkeypatch, T0 + HOUR)
    rep = ingest("tusz", src=src, out=out, config=SERIAL)
    assert (rep.n_ingested, rep.n_current, rep.n_checked, rep.failed) == (1, 2, 2, [])
    assert not np.array_equal(open_store(out).read(RID), before)
    entries = json.loads((out / "_eegprep" / "seen.json").read_text())["recordings"]
    assert sorted(entries) == sorted(open_store(out).index_rows())
    assert {e["window_ns"] for e in entries.values()} == {RACY_NS}  # all in today's form
    assert validate(str(out)) == (3, [])
    again = ingest("tusz", src=src, out=out, config=SERIAL)
    assert (again.n_ingested, again.n_current, again.n_checked) == (0, 3, 0)


def test_an_entry_vouches_only_under_a_window_as_wide_as_the_one_in_force(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An entry states the racy window its stamps were judged under: one an older version
    wrote (no ``window_ns``) vouches for nothing, nor does one judged under a narrower window
    than the one in force (``EEGPREP_RACY_SECONDS`` widened since)."""
    record = {"id": "c/r", "group": "recordings/c/r", "source_files": [{"blake3": "ab" * 32}]}
    settled = (_stamp(T0 - 5 * 10**9, T0 - 5 * 10**9),)
    seen = SeenFiles(since_ns=T0)
    seen.note(record, settled)
    assert seen.vouches(record, settled)
    entry = seen._entries["c/r"]
    assert entry["window_ns"] == RACY_NS
    monkeypatch.setenv(racy_stamps.WINDOW_VARIABLE, "10")
    assert not seen.vouches(record, settled)
    monkeypatch.setenv(racy_stamps.WINDOW_VARIABLE, "1")
    assert seen.vouches(record, settled)
    monkeypatch.delenv(racy_stamps.WINDOW_VARIABLE)
    without = {k: v for k, v in entry.items() if k != "window_ns"}
    for older in (without, {**entry, "window_ns": True}, {**entry, "window_ns": float(RACY_NS)}):
        assert not SeenFiles({"c/r": older}, since_ns=T0).vouches(record, settled)


@pytest.mark.parametrize("tiny", ["1e-400", "1e-10", "0.0000000001", "-1e-400"])
def test_a_window_not_zero_yet_below_a_nanosecond_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, tiny: str
) -> None:
    """``1e-400`` (a float reads it as 0.0) and ``1e-10`` (0 ns once rounded) turned the racy
    window off, unsaid: the rewrites it exists to catch went unseen. Now refused in one line
    before the store is created; ``0`` and ``1e-9`` still mean what they say."""
    monkeypatch.setenv(racy_stamps.WINDOW_VARIABLE, tiny)
    with pytest.raises(ConfigError, match=r"^EEGPREP_RACY_SECONDS=.*below a nanosecond"):
        ingest("tusz", src=write_tusz(tmp_path / "c"), out=tmp_path / "s.zarr", config=SERIAL)
    assert not (tmp_path / "s.zarr").exists()
    for fine, ns in (("0", 0), ("0.0", 0), ("1e-9", 1), ("-0", 0)):
        monkeypatch.setenv(racy_stamps.WINDOW_VARIABLE, fine)
        assert racy_stamps.window_ns() == ns
