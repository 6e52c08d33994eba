from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from eegprep import open_store
from eegprep.base.errors import StoreFormatError, StoreLockedError, StoreNotFoundError
from eegprep.pipeline.recipe import Recipe
from eegprep.store.fs import Location
from eegprep.store.index import COMPACT_AFTER, append, compact, read_index
from eegprep.store.record import RecordingRecord
from eegprep.store.recording_writer import write_recording
from eegprep.store.writer import StoreWriter
from eegprep.testing.records import hand_record


def _put(writer: StoreWriter, rid: str, x: np.ndarray, **extra: object) -> RecordingRecord:
    rec = hand_record(rid, ["FP1", "CZ"], x.shape[1], **extra)
    assert rec.channel_index == (0, 41)
    staged = writer.staging_path()
    blocks = iter(np.array_split(x, 3, axis=1))
    write_recording(
        writer.loc.url,
        staged,
        record=rec,
        channels=list(rec.channels),
        n_samples=x.shape[1],
        blocks=blocks,
        sfreq=200.0,
    )
    writer.commit([(staged, rec)])
    return rec


@pytest.fixture
def store_with_two(tmp_path: Path) -> tuple[str, np.ndarray]:
    url = str(tmp_path / "s.zarr")
    x = np.random.default_rng(0).standard_normal((2, 150_000)).astype(np.float32)
    with StoreWriter(url, Recipe()) as w:
        _put(w, "tuh/a", x, subject="a", labels={"abnormal": 1}, events=[[1.0, 2.0, "seiz", ""]])
        _put(w, "tuh/b", x[:, :5000], subject="b")
    return url, x


def test_round_trip_and_metadata(store_with_two: tuple[str, np.ndarray]) -> None:
    url, x = store_with_two
    s = open_store(url)
    assert [r.id for r in s.recordings] == ["tuh/a", "tuh/b"]
    a = s.recording("tuh/a")
    assert a.channels == ("FP1", "CZ") and a.channel_index == (0, 41)
    assert a.labels == {"abnormal": 1} and a.events[0].label == "seiz"
    assert a.duration == pytest.approx(750.0)
    np.testing.assert_array_equal(s.read("tuh/a"), x)
    np.testing.assert_array_equal(s.read("tuh/a", 119_990, 120_010), x[:, 119_990:120_010])
    assert s.read("tuh/b").dtype == np.float32
    assert s.attrs["sfreq"] == 200 and s.attrs["unit"] == "uV"
    assert len(s.attrs["vocabulary"]) == 136
    with pytest.raises(KeyError, match="Did you mean 'tuh/a'"):
        s.recording("tuh/aa")


def test_opens_with_plain_zarr_and_xarray(store_with_two: tuple[str, np.ndarray]) -> None:
    import xarray as xr
    import zarr

    url, x = store_with_two
    root = zarr.open_group(url, mode="r")
    arr = root["recordings/tuh/a/data"]
    assert arr.shape == (2, 150_000) and arr.dtype == np.float32
    assert arr.metadata.dimension_names == ("channel", "time")
    assert arr.chunks == (2, 12_000)  # all channels in one chunk, 60 s along time
    ds = xr.open_zarr(url, group="recordings/tuh/a", consolidated=False)
    assert ds["data"].dims == ("channel", "time")
    assert list(ds["channel"].values) == ["FP1", "CZ"]
    assert float(ds["time"][200]) == pytest.approx(1.0)
    np.testing.assert_array_equal(ds["data"].values, x)


def test_few_files_per_recording(store_with_two: tuple[str, np.ndarray]) -> None:
    url, _ = store_with_two
    group = Path(url, "recordings/tuh/a")
    files = [p for p in group.rglob("*") if p.is_file()]
    # group, data, channel, time metadata + one shard each (12.5 min < one 30 min shard)
    assert len(files) == 7, files
    # chunk keys with the "." separator: no folder below the arrays' own
    folders = sorted(str(p.relative_to(group)) for p in group.rglob("*") if p.is_dir())
    assert folders == ["channel", "data", "time"]


def _to_slash_keys(array: Path) -> None:
    """Rewrite one array as earlier versions wrote it: chunk keys ``c/0/k``."""
    doc = json.loads((array / "zarr.json").read_text())
    doc["chunk_key_encoding"]["configuration"]["separator"] = "/"
    (array / "zarr.json").write_text(json.dumps(doc))
    for chunk in array.glob("c.*"):
        target = array.joinpath(*chunk.name.split("."))
        target.parent.mkdir(parents=True, exist_ok=True)
        chunk.rename(target)


def test_recordings_written_with_slash_chunk_keys_read_the_same(
    store_with_two: tuple[str, np.ndarray],
) -> None:
    """Stores of earlier versions (chunk keys ``c/0/k``) and stores mixing both key
    separators read as before, on the fast path, and validate clean."""
    import xarray as xr

    from eegprep.store.shard_reader import ShardReader
    from eegprep.store.validate import validate

    url, x = store_with_two
    before = validate(url)  # (hand-made records carry no recipe hash: one line each)
    assert before[0] == 2 and all("recipe hash" in line for line in before[1])
    for name in ("data", "channel", "time"):
        _to_slash_keys(Path(url, "recordings/tuh/a", name))
    assert Path(url, "recordings/tuh/a/data/c/0/0").is_file()
    assert Path(url, "recordings/tuh/b/data/c.0.0").is_file()  # the other stays as written
    s = open_store(url)
    assert ShardReader.open(Location.parse(url), "recordings/tuh/a/data") is not None
    np.testing.assert_array_equal(s.read("tuh/a"), x)
    np.testing.assert_array_equal(s.read("tuh/b"), x[:, :5000])
    assert validate(url) == before
    ds = xr.open_zarr(url, group="recordings/tuh/a", consolidated=False)
    assert list(ds["channel"].values) == ["FP1", "CZ"]
    np.testing.assert_array_equal(ds["data"].values, x)


def test_unlisted_group_is_invisible_and_cleaned(tmp_path: Path) -> None:
    url = str(tmp_path / "s.zarr")
    x = np.ones((2, 400), dtype=np.float32)
    with StoreWriter(url, Recipe()) as w:
        staged = w.staging_path()
        write_recording(
            url,
            staged,
            record=None,
            channels=["FP1", "CZ"],
            n_samples=400,
            blocks=iter([x]),
            sfreq=200.0,
        )
        # killed before commit: never listed
    assert len(open_store(url)) == 0
    with StoreWriter(url, Recipe()):
        assert not Location.parse(url).list("_eegprep", "staging")


def test_refuses_other_recipe_and_foreign_folders(tmp_path: Path) -> None:
    url = str(tmp_path / "s.zarr")
    with StoreWriter(url, Recipe()):
        pass
    with pytest.raises(StoreFormatError, match="recipe"), StoreWriter(url, Recipe(h_freq=40.0)):
        pass
    other = tmp_path / "other"
    other.mkdir()
    (other / "x.txt").write_text("hi")
    with pytest.raises(StoreFormatError, match="not an eegprep store"):
        open_store(other)
    with pytest.raises(StoreNotFoundError, match="eegprep ingest"):
        open_store(tmp_path / "missing.zarr")


def test_second_writer_is_refused(tmp_path: Path) -> None:
    url = str(tmp_path / "s.zarr")
    with (
        StoreWriter(url, Recipe()),
        pytest.raises(StoreLockedError, match="another ingest"),
        StoreWriter(url, Recipe()),
    ):
        pass
    with StoreWriter(url, Recipe()):  # released on exit
        pass


def test_stale_lock_of_dead_process_is_taken_over(tmp_path: Path) -> None:
    import socket

    url = str(tmp_path / "s.zarr")
    with StoreWriter(url, Recipe()):
        pass
    lock = Path(url, "_eegprep", "lock")
    lock.write_text(json.dumps({"host": socket.gethostname(), "pid": 2**22 + 12345, "since": 0}))
    with StoreWriter(url, Recipe()):
        pass
    assert not lock.exists()


def test_a_lock_judged_stale_by_two_ingests_is_taken_by_one(tmp_path: Path) -> None:
    """Taking over a stale JSON lock was: see it stale, delete it, create one. A second ingest
    that had judged the same lock stale could delete the first one's new lock and take its
    own: two writers (25 of 100 trials of a tight race). The kernel's flock, held for the
    writer's life and freed when its process dies, lets one alone through."""
    url = str(tmp_path / "s.zarr")
    lock = Path(url, "_eegprep", "lock")
    with StoreWriter(url, Recipe()):
        lock.unlink()  # what the other ingest's stale take-over deleted
        with pytest.raises(StoreLockedError, match=r"holds .*lock\.flock"):
            StoreWriter(url, Recipe()).open()
    with StoreWriter(url, Recipe()):  # released on exit; a refused open held nothing
        pass


def test_a_failed_open_leaves_no_lock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = str(tmp_path / "s.zarr")
    with StoreWriter(url, Recipe()):
        pass

    def broken(*args: object) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(StoreWriter, "_sweep_temporaries", broken)
    with pytest.raises(OSError, match="Input/output"):
        StoreWriter(url, Recipe()).open()
    assert not Path(url, "_eegprep", "lock").exists()
    monkeypatch.undo()
    with StoreWriter(url, Recipe()):
        pass


def test_index_appends_and_compacts(tmp_path: Path) -> None:
    loc = Location.parse(str(tmp_path / "s.zarr"))
    for i in range(COMPACT_AFTER + 5):
        append(loc, [{"id": f"c/{i:03d}", "v": i}])
    append(loc, [{"id": "c/000", "deleted": True}, {"id": "c/001", "v": -1}])
    idx = read_index(loc)
    assert "c/000" not in idx and idx["c/001"]["v"] == -1 and len(idx) == COMPACT_AFTER + 4
    segments = loc.list("_eegprep", "index")
    assert len(segments) < COMPACT_AFTER  # compaction kept the count bounded
    compact(loc)
    assert loc.list("_eegprep", "index") == ["0000000001.jsonl", "head.json"]  # (and its head)
    assert read_index(loc) == idx
    assert list(read_index(loc)) == sorted(idx)


def test_memory_filesystem_store() -> None:
    url = "memory://eegprep-test/s.zarr"
    x = np.arange(800, dtype=np.float32).reshape(2, 400)
    with StoreWriter(url, Recipe()) as w:
        _put(w, "c/r", x)
    np.testing.assert_array_equal(open_store(url).read("c/r"), x)


def test_recordings_are_built_when_used_and_a_bad_record_fails_in_one_line(
    store_with_two: tuple[str, np.ndarray],
) -> None:
    """Opening reads the index without building a Recording per record (a store of 10^5
    opens in well under a second); a record missing a required key still fails the open, and
    one whose other fields are malformed fails, in one line, where it is first used."""
    url, _ = store_with_two
    store = open_store(url)
    assert store._recordings == {}  # nothing built yet
    rows = store.index_rows()
    assert list(rows) == ["tuh/a", "tuh/b"] and rows["tuh/a"]["subject"] == "a"
    with pytest.raises(TypeError):
        rows["tuh/c"] = {}  # type: ignore[index]
    assert store.recording("tuh/a").labels == {"abnormal": 1}
    assert list(store._recordings) == ["tuh/a"]
    assert [r.id for r in store] == ["tuh/a", "tuh/b"] and len(store) == 2

    loc = Location.parse(url)
    bad = {**rows["tuh/b"], "id": "tuh/c", "events": [[1.0]]}  # an event of one field
    append(loc, [bad])
    store = open_store(url)  # opens: the record has every required key
    assert store.recording("tuh/a").subject == "a"
    with pytest.raises(StoreFormatError, match="index record 'tuh/c' is incomplete") as err:
        store.recording("tuh/c")
    assert "\n" not in str(err.value)

    missing = {k: v for k, v in rows["tuh/b"].items() if k != "n_samples"}
    append(loc, [{**missing, "id": "tuh/d"}])
    with pytest.raises(StoreFormatError, match="index record 'tuh/d' is incomplete"):
        open_store(url)


def test_window_index_from_rows_equals_the_one_from_recordings(
    store_with_two: tuple[str, np.ndarray],
) -> None:
    """The pre-training window index reads the index rows, not Recordings: the same windows,
    channels and recordings as cutting each Recording."""
    from labram.data.windows import WindowConfig, build_pretrain_index, select_channels

    url, _ = store_with_two
    store = open_store(url)
    index = build_pretrain_index([store], WindowConfig(exclude_splits=()))
    assert store._recordings == {}  # built from the rows alone
    for plan in index.recordings:
        rows, idx = select_channels(store.recording(plan.id), 128)
        assert np.array_equal(plan.rows, rows) and np.array_equal(plan.channels, idx)
        assert plan.subject_key == store.recording(plan.id).subject_key
    assert [p.id for p in index.recordings] == ["tuh/a", "tuh/b"]


def test_opening_judges_every_index_line_as_the_index_does() -> None:
    """The fields opening decodes (msgspec, skipping the rest) come from exactly the lines the
    index reader (orjson) takes, with the same problems for the others: hostile lines
    included (nested deeper than one parser goes, bad UTF-8 where the fast decoder skips,
    NaN, not an object, no id)."""
    import orjson

    from eegprep.store.index import _parse, _parse_entries

    rec = {"id": "tuh/a", "group": "g", "corpus": "tuh", "channels": ["FP1"],
           "channel_index": [0], "n_samples": 400, "sfreq": 200.0}  # fmt: skip
    head = orjson.dumps(rec)[:-1]
    lines = [
        orjson.dumps(rec),
        head.replace(b"tuh/a", b"tuh/deep") + b',"qc":' + b"[" * 1010 + b"]" * 1010 + b"}",
        head.replace(b"tuh/a", b"tuh/deeper") + b',"qc":' + b"[" * 1100 + b"]" * 1100 + b"}",
        head.replace(b"tuh/a", b"tuh/utf") + b',"source":"\xff"}',
        head.replace(b"tuh/a", b"tuh/nan") + b',"qc":{"x":NaN}}',
        b"[1, 2]",
        b'{"group": "g"}',
        orjson.dumps({"id": "tuh/gone", "deleted": True}),
    ]
    for base in (False, True):
        blob = (b'{"_base": true}\n' if base else b"") + b"\n".join(lines) + b"\n"
        _, rows, problems = _parse(blob, "0000000001.jsonl")
        _, entries, same = _parse_entries(blob, "0000000001.jsonl")
        assert [r["id"] for r in rows] == [f.id for f, _ in entries]
        assert [r["id"] for r in rows] == ["tuh/a", "tuh/deep", "tuh/gone"]
        assert same == problems and len(problems) == 5
        for row, (fields, line) in zip(rows, entries, strict=True):
            # (the ids only: a 1,010-deep row is too deep for Python's == to compare)
            assert orjson.loads(line)["id"] == row["id"]
            assert fields.deleted == row.get("deleted", False)
            if not fields.deleted:
                assert orjson.loads(bytes(fields.channels)) == row["channels"]
                assert (fields.channel_index, fields.n_samples) == (
                    row["channel_index"], row["n_samples"]
                )  # fmt: skip


def test_a_file_system_without_flock_still_takes_the_lock_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Some network mounts refuse flock (ENOLCK): that is not another ingest; the lock file
    alone guards the store there, as on object stores."""
    import fcntl

    def refused(fd: int, op: int) -> None:
        raise OSError(37, "No locks available")

    monkeypatch.setattr(fcntl, "flock", refused)
    url = str(tmp_path / "s.zarr")
    with StoreWriter(url, Recipe()):
        assert Path(url, "_eegprep", "lock").exists()
        with pytest.raises(StoreLockedError, match="another ingest"):
            StoreWriter(url, Recipe()).open()


def test_a_second_ingest_is_told_who_holds_the_lock(tmp_path: Path) -> None:
    """The kernel's flock refuses a second writer before it reads the lock file; its one line
    named only ``lock.flock``. It names the holder (pid, host, start) as the lock file states."""
    import os
    import socket

    url = str(tmp_path / "s.zarr")
    with StoreWriter(url, Recipe()), pytest.raises(StoreLockedError) as refused:
        StoreWriter(url, Recipe()).open()
    message = str(refused.value)
    assert f"pid {os.getpid()} on {socket.gethostname()}, since " in message
    assert "lock.flock" in message and "\n" not in message


@pytest.mark.parametrize(
    "content",
    [
        {"pid": "abc"},
        {"pid": 10**30},
        {"pid": True},
        {"pid": -3},
        {"pid": 2**22 + 12345, "since": "yesterday"},
        {"pid": 2**22 + 12345, "since": 1e300},
        [1, 2],
    ],
)
def test_a_damaged_lock_is_taken_over_not_an_internal_error(
    tmp_path: Path, content: object, caplog: pytest.LogCaptureFixture
) -> None:
    """A lock file that is valid JSON but whose fields are not a host, a process id and a
    time (a flipped bit, a hand edit) ended the ingest with an internal error (``int('abc')``,
    an overflow in ``os.kill`` or ``localtime``): it is damaged, and taken over with a line."""
    import os
    import socket

    url = str(tmp_path / "s.zarr")
    with StoreWriter(url, Recipe()):
        pass
    lock = Path(url, "_eegprep", "lock")
    if isinstance(content, dict):
        content = {"host": socket.gethostname(), **content}
    lock.write_text(json.dumps(content))
    os.utime(lock, (1, 1))  # written long ago
    with StoreWriter(url, Recipe()):
        pass
    assert not lock.exists()
    assert "took over" in caplog.text


def test_a_live_lock_of_another_host_with_a_damaged_time_is_refused(tmp_path: Path) -> None:
    url = str(tmp_path / "s.zarr")
    with StoreWriter(url, Recipe()):
        pass
    lock = Path(url, "_eegprep", "lock")
    lock.write_text(json.dumps({"host": "elsewhere", "pid": 5, "since": 1e20}))
    with pytest.raises(StoreLockedError, match=r"pid 5 on elsewhere\) is writing"):
        StoreWriter(url, Recipe()).open()
    assert lock.exists()  # not stolen


def test_taking_over_a_stale_lock_says_so(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A writer killed with SIGKILL leaves its lock; the next ingest took it over silently."""
    import socket

    url = str(tmp_path / "s.zarr")
    with StoreWriter(url, Recipe()):
        pass
    lock = Path(url, "_eegprep", "lock")
    holder = {"host": socket.gethostname(), "pid": 2**22 + 12345, "since": 0}
    lock.write_text(json.dumps(holder))
    with StoreWriter(url, Recipe()):
        pass
    assert f"took over the lock of an ingest that no longer runs (pid {2**22 + 12345}" in (
        caplog.text
    )


def _lock_of_a_reused_pid_is_taken_over(url: str, host: str) -> None:
    """A lock naming ``host`` and a live process started after it (its pid, the writer's, now
    reused) is taken over by the next writer, which removes it when done."""
    import subprocess
    import sys
    import time

    lock = Path(url, "_eegprep", "lock")
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        lock.write_text(json.dumps({"host": host, "pid": other.pid, "since": time.time() - 3600}))
        with StoreWriter(url, Recipe()):
            pass
        assert not lock.exists()
    finally:
        other.kill()
        other.wait()


def test_a_killed_writers_lock_is_stale_when_its_pid_is_reused(tmp_path: Path) -> None:
    """After ``kill -9`` of a writer its pid is free, and another process (or the same
    container restarted) may get it: the lock then named a live process and every later
    ingest was refused until the lock was deleted by hand. The flock, which every writer on
    this host holds for its life, says no writer runs."""
    import socket

    url = str(tmp_path / "s.zarr")
    with StoreWriter(url, Recipe()):
        pass
    # the killed writer's pid, an hour ago, now another live process's
    _lock_of_a_reused_pid_is_taken_over(url, socket.gethostname())


def test_without_flock_a_reused_pid_is_told_by_its_start_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where there is no flock (object stores, some network mounts), a live process that
    started after the lock was taken is not its writer; one that started before is."""
    import fcntl
    import os
    import socket
    import time

    if not Path("/proc/self/stat").exists():
        pytest.skip("no /proc")

    def refused(fd: int, op: int) -> None:
        raise OSError(37, "No locks available")

    monkeypatch.setattr(fcntl, "flock", refused)
    url = str(tmp_path / "s.zarr")
    with StoreWriter(url, Recipe()):
        pass
    lock = Path(url, "_eegprep", "lock")
    host = socket.gethostname()
    lock.write_text(json.dumps({"host": host, "pid": os.getpid(), "since": time.time()}))
    with pytest.raises(StoreLockedError, match="another ingest"):
        StoreWriter(url, Recipe()).open()  # this process started before: a live writer
    _lock_of_a_reused_pid_is_taken_over(url, host)
