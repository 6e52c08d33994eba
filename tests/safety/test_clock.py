"""Clocks and file times: a source file's times are never a reason to refuse or mis-order
anything. A file dated past 2262 (its mtime in ns beyond 64 bits, which ext4 and btrfs hold)
is ingested like any other and found current on the next run; the store's ingest reports stay
one per ingest, in the order the ingests ran, when the system clock goes back between two
ingests or two start within one second under one process id (a container's)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from eegprep import open_store
from eegprep.store.validate import validate
from tests.safety.corpus import ingest_folder, write_edf


@pytest.mark.parametrize("seconds", [15_032_385_535])  # (2446: ext4's last second)
def test_a_file_dated_beyond_64_bit_nanoseconds_is_ingested(tmp_path: Path, seconds: int) -> None:
    src, out = tmp_path / "src", tmp_path / "s.zarr"
    path = write_edf(src, "a.edf")
    try:
        os.utime(path, ns=(seconds * 10**9, seconds * 10**9))
    except (OSError, OverflowError):
        pytest.skip("this file system cannot hold that time")
    if os.stat(path).st_mtime_ns != seconds * 10**9:
        pytest.skip("this file system clamps that time")
    report = ingest_folder(src, out)
    assert report.n_ingested == 1 and not report.failed, report.failed
    assert validate(str(out)) == (1, [])
    again = ingest_folder(src, out)
    assert again.n_ingested == 0 and again.n_current == 1 and not again.failed


def _report_names(out: Path) -> list[str]:
    return sorted(p.name for p in (out / "_eegprep" / "reports").iterdir())


def test_reports_keep_the_order_of_the_ingests_when_the_clock_goes_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each ingest's report is kept, and the last one read is the last ingest's, whatever the
    clock and the process id say (a container gives every run the same pid)."""
    src, out = tmp_path / "src", tmp_path / "s.zarr"
    write_edf(src, "a.edf")
    monkeypatch.setattr(os, "getpid", lambda: 7)
    times, real = [2_000_000_000, 1_000_000_000], time.gmtime  # the clock set 32 years back

    def gmtime(*args: object) -> time.struct_time:
        return real(times[0] if len(times) == 1 else times.pop(0))

    monkeypatch.setattr(time, "gmtime", gmtime)
    ingest_folder(src, out)
    write_edf(src, "b.edf", seed=1)
    ingest_folder(src, out)
    write_edf(src, "c.edf", seed=2)
    ingest_folder(src, out)
    assert len(_report_names(out)) == 3
    reports = open_store(out).reports()
    assert [r["n_ingested"] for r in reports] == [1, 1, 1]
    assert [r["n_current"] for r in reports] == [0, 1, 2]


def test_a_group_retired_under_a_clock_since_set_back_is_kept_from_now_not_until_then(
    tmp_path: Path,
) -> None:
    """A version retired while the clock ran 10 years ahead (then corrected) was kept until
    the clock reached that date, whatever `--keep-replaced` said: its keep period restarts now
    (never shorter: readers of the old index keep it as long as any other)."""
    import json

    from eegprep.store.retired_list import RETIRED, RetiredEntry, retired_document, retired_entries

    src, out = tmp_path / "src", tmp_path / "s.zarr"
    write_edf(src, "a.edf")
    ingest_folder(src, out)
    write_edf(src, "a.edf", seed=1)  # changed: re-ingested, the first version retired
    ingest_folder(src, out)
    path = out.joinpath(*RETIRED)
    rows, _ = retired_entries(json.loads(path.read_bytes()))
    (old,) = rows
    ahead = time.time() + 10 * 365 * 86400
    path.write_bytes(retired_document([RetiredEntry(old.group, ahead, old.record)]))
    ingest_folder(src, out, keep_replaced=3600.0)  # a later run, the clock set right
    (kept,) = retired_entries(json.loads(path.read_bytes()))[0]
    assert kept.group == old.group and time.time() - 60 < kept.when <= time.time()
    assert (out / old.group).is_dir()
    ingest_folder(src, out, keep_replaced=0.0)
    assert not (out / old.group).exists() and validate(str(out)) == (1, [])


def test_a_clock_set_forward_never_makes_a_live_writers_lock_stale() -> None:
    """A process's start time is computed from the boot time, which moves with the wall clock:
    set forward by more than a minute (NTP stepping, a VM resumed) while an ingest into an
    object store ran, the writer itself looked started after its lock was taken, and a second
    ingest on the host took its lock over (two writers). Here the clock's step is made by
    dating the lock's `since` an hour back."""
    import json

    from eegprep.base.errors import StoreLockedError
    from eegprep.pipeline.recipe import Recipe
    from eegprep.store.fs import Location
    from eegprep.store.lock_file import LOCK
    from eegprep.store.writer import StoreWriter

    url = "memory://clock-steps/s.zarr"
    loc = Location.parse(url)
    try:
        first = StoreWriter(url, Recipe())
        first._lock()
        held = json.loads(loc.read_bytes(*LOCK))
        loc.write_bytes(json.dumps({**held, "since": held["since"] - 3600}).encode(), *LOCK)
        with pytest.raises(StoreLockedError, match="another ingest"):
            StoreWriter(url, Recipe())._lock()
    finally:
        loc.fs.rm(loc.root, recursive=True)
