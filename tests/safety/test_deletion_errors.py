"""A deletion (``os.unlink``/``remove``/``rmdir``, each file and folder of a
``shutil.rmtree``) or a folder's creation (``os.mkdir``: ``makedirs``, ``Path.mkdir``) that
the disk refuses (``EIO``, ``EACCES``, ``EROFS``; ``ENOSPC`` for a new folder), at each such
call of every command that deletes or makes folders (tests/io_faults.py): one ``error:`` line
naming the path and what to do, exit status 2, nothing already written lost, and the same
command again ends as a run that never failed (a store: ``validate`` passes and its bytes are
an uninterrupted run's).

Found so far:

- a retired group's deletion (``--keep-replaced``, ``--prune``'s groups once kept long enough)
  that failed part way said nothing, exit 0: its entry left ``retired.json`` and the rest of
  the group stayed for good, a folder ``validate`` calls "not a recording group eegprep
  writes" that no ingest deletes (``shutil.rmtree(..., ignore_errors=True)``);
- a store's lock that could not be deleted kept its ``flock`` for as long as the process ran:
  the next ingest of the store in that process was refused ("another ingest (pid ...) is
  writing this store", naming itself);
- an export's old card that could not be deleted said "cannot rename the export's files into
  place", and its journal "written, but its folder could not be flushed to the disk";
- a run folder the disk could not make (``EIO``) said "make it writable", of a writable one.

The write-side calls (``write``, ``fsync``, ``replace``): test_io_errors.py,
test_io_errors_labram.py; a SIGKILL at each deletion: test_kill_during_deletion.py.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.full_disk import snapshot, temporaries
from tests.io_faults import DELETE_OPS, FOLDER_OPS, failing_calls, nth
from tests.safety.corpus import ingest_folder, write_edf
from tests.safety.test_io_errors import one_line, run_eegprep, store_bytes

TODO = {
    errno.EIO: "check the disk",
    errno.EACCES: "fix its permissions",
    errno.EROFS: "make it writable",
    errno.ENOSPC: "free some space",
}
"""Each error a sweep injects, and what its line must say to do."""

OPS = {"deletion": DELETE_OPS, "folder": FOLDER_OPS}


def settled(store: Path) -> dict[str, Any]:
    """:func:`store_bytes` with the times a run stamps (when a group was retired or removed)
    left out of ``retired.json`` and each ``removed.json``."""
    out: dict[str, Any] = dict(store_bytes(store))
    for name, raw in out.items():
        if name == "_eegprep/retired.json":
            out[name] = [(row[0], row[2]) for row in json.loads(raw)["retired"]]
        elif name.endswith("/removed.json"):
            out[name] = json.loads(raw)["id"]
    return out


def _ingest(src: Path, out: Path, *more: str) -> Any:
    return run_eegprep("ingest", "folder", "--mains", "60", "--src", src, "--out", out,
                       "--workers", "0", *more)  # fmt: skip


JOBS = {
    "new store": (),
    "prune": ("--prune",),
    "retired deleted": ("--keep-replaced", "0"),
}
"""Each ingest the sweep runs, with its flags, over :func:`_base`'s store for it."""


def _base(root: Path, job: str) -> tuple[Path, Path | None]:
    """The source folder of ``job`` and the store it runs over (None: a new store): for
    ``prune``, one whose first source is gone; for ``retired deleted``, one holding a retired
    version of ``r0`` (re-ingested), whose entry states its ``record.json``."""
    src = root / "src"
    for k in range(3):
        write_edf(src, f"site/r{k}.edf", seed=k)
    if job == "new store":
        return src, None
    base = root / "base.zarr"
    ingest_folder(src, base)
    if job == "prune":
        (src / "site" / "r0.edf").unlink()
    else:
        write_edf(src, "site/r0.edf", seed=7)
        ingest_folder(src, base)
        assert json.loads((base / "_eegprep" / "retired.json").read_text())["retired"]
    return src, base


def _copy(base: Path | None, out: Path) -> None:
    shutil.rmtree(out, ignore_errors=True)
    if base is not None:
        shutil.copytree(base, out)


def _failed_then_finished(
    job: str, src: Path, out: Path, clean: Path, k: int, code: int, ops: tuple[str, ...]
) -> None:
    """Run ``job`` into ``out`` with its ``k``-th call of ``ops`` failing with ``code``: a line
    naming the path and what to do (exit 2), or each recording it could not write skipped
    (exit 3), or nothing said (a folder already there: ``makedirs`` passes); no traceback;
    every recording of before there (but the retired version being deleted); a store that
    validates; no temporary file but one whose deletion failed; and the same command again
    ends as ``clean``."""
    before = snapshot(out / "recordings") if out.exists() else {}
    with failing_calls(nth(k), code=code, ops=ops, under=out) as calls:
        res = _ingest(src, out, *JOBS[job])
    failed = calls[k - 1].split(" ", 1)[1] if len(calls) >= k else ""
    said = res.output
    assert "Traceback" not in said and "internal error" not in said, said
    assert res.exit_code in (0, 2, 3), said
    if res.exit_code == 2:
        line = one_line(2, said, str(out), TODO[code])
        assert os.strerror(code).lower() in line.lower(), line
    elif res.exit_code == 3:  # (each line names the store or the folder)
        skipped = [x for x in said.splitlines() if x.startswith("skipped:")]
        assert skipped and all(str(out) in x and TODO[code] in x for x in skipped), said
    after = snapshot(out / "recordings")
    doomed = "folder/site_r0/"  # (the retired version a deletion may take)
    kept = {n: b for n, b in before.items() if job != "retired deleted" or doomed not in n}
    assert all(after.get(n) == b for n, b in kept.items()), (failed, said)
    if (out / "zarr.json").exists():
        check = run_eegprep("validate", out)
        assert check.exit_code == 0, (failed, check.output)
    left = [t for t in temporaries(out) if t != failed]
    assert not left, (failed, left)
    again = _ingest(src, out, *JOBS[job])
    assert again.exit_code == 0, (failed, again.output)
    assert settled(out) == settled(clean), failed
    assert run_eegprep("validate", out).exit_code == 0, failed


def test_a_retired_groups_deletion_that_fails_part_way_is_finished_by_the_next_ingest(
    tmp_path: Path,
) -> None:
    """It was exit 0 and nothing said; the group's rest stayed for good, listed nowhere."""
    src, base = _base(tmp_path, "retired deleted")
    clean, out = tmp_path / "clean.zarr", tmp_path / "s.zarr"
    _copy(base, clean)
    _copy(base, out)
    assert _ingest(src, clean, *JOBS["retired deleted"]).exit_code == 0
    chunk = out / "recordings" / "folder" / "site_r0" / "data" / "c.0.0"
    assert chunk.exists()
    res = _ingest_failing(src, out, f"unlink {chunk}")
    rel = "recordings/folder/site_r0/data/c.0.0"  # (named once: relative to the store named)
    line = one_line(res.exit_code, res.output, str(out), f"while deleting {rel};",
                    "Input/output error", "check the disk")  # fmt: skip
    assert line.count(rel) == 1, line
    assert line.endswith("run the same command again (what was committed is kept)"), line
    assert run_eegprep("validate", out).exit_code == 0
    assert _ingest(src, out, *JOBS["retired deleted"]).exit_code == 0
    assert not (out / "recordings" / "folder" / "site_r0").exists()
    assert settled(out) == settled(clean)


def _ingest_failing(src: Path, out: Path, call: str) -> Any:
    with failing_calls(lambda n, c: c == call, ops=DELETE_OPS, under=out) as calls:
        res = _ingest(src, out, *JOBS["retired deleted"])
    assert call in calls, calls
    return res


def test_a_lock_the_disk_will_not_delete_leaves_the_next_ingest_free(tmp_path: Path) -> None:
    """The store's ``flock`` stayed held by the failed ingest's process: the next ingest in
    it was refused, "another ingest (pid <its own>) is writing this store"."""
    src, base = _base(tmp_path, "retired deleted")
    out = tmp_path / "s.zarr"
    _copy(base, out)
    lock = out / "_eegprep" / "lock"
    res = _ingest_failing(src, out, f"unlink {lock}")
    line = one_line(res.exit_code, res.output, str(out), "Input/output error", "check the disk")
    assert line.count("_eegprep/lock") == 1, line  # (it was named twice: relative, and whole)
    again = _ingest(src, out, *JOBS["retired deleted"])
    assert again.exit_code == 0, again.output
    assert not lock.exists()


@pytest.mark.parametrize(
    ("folder", "code", "todo"),
    [(("recordings", "folder"), errno.EIO, "check the disk"),
     (("_eegprep", "staging"), errno.EACCES, "fix its permissions"),
     (("_eegprep", "staging"), errno.EPERM, "fix its permissions")],
)  # fmt: skip
def test_a_recording_whose_folder_cannot_be_made_is_skipped_saying_what_to_do(
    tmp_path: Path, folder: tuple[str, ...], code: int, todo: str
) -> None:
    """The corpus folder (an I/O error: ``cannot be moved into place: Input/output error
    (PATH)``) or the staging folder (a refused permission: ``cannot write the store (...):
    Permission denied (PATH)``) the disk would not make: the line said nothing of what to do."""
    src, _ = _base(tmp_path, "new store")
    out = tmp_path / "s.zarr"
    made = f"mkdir {out.joinpath(*folder)}"
    with failing_calls(
        lambda n, c: c == made and calls.index(c) == n - 1, code=code, ops=FOLDER_OPS, under=out
    ) as calls:  # (its first making only)
        res = _ingest(src, out)  # fmt: skip
    skipped = [x for x in res.output.splitlines() if x.startswith("skipped:")]
    assert res.exit_code == 3 and len(skipped) == 1, res.output
    # the folder named once: relative to the store, which the line names (it was named
    # twice, relative and then whole)
    assert str(out) in skipped[0] and skipped[0].count("/".join(folder)) == 1, skipped
    assert str(out.joinpath(*folder)) not in skipped[0], skipped
    assert todo in skipped[0], skipped
    assert skipped[0].endswith("or pick another place and run the same command again"), skipped
    assert _ingest(src, out).exit_code == 0


def test_an_ingest_whose_every_recording_is_taken_back_wrote_zero_hours(tmp_path: Path) -> None:
    """Each recording's hours, added and then subtracted when its commit could not move it
    into place, left a rounding error below zero: "-0.000 h written", and -0.0 in the
    report."""
    src, _ = _base(tmp_path, "new store")
    out = tmp_path / "s.zarr"
    corpus = f"mkdir {out / 'recordings' / 'folder'}"
    with failing_calls(lambda n, c: c == corpus, ops=FOLDER_OPS, under=out):
        res = _ingest(src, out)
    assert res.exit_code == 3 and "3 skipped" in res.output, res.output
    assert "; 0.000 h written in " in res.output, res.output
    report = json.loads(next((out / "_eegprep" / "reports").glob("ingest-*.json")).read_text())
    assert str(report["hours_written"]) == "0.0", report["hours_written"]


def _only(call: str) -> Callable[[int, str], bool]:
    """For :func:`~tests.io_faults.failing_calls`: each ``call`` fails, no other."""
    return lambda n, c: c == call


@pytest.mark.parametrize("code", sorted(TODO), ids=errno.errorcode.get)
def test_a_plots_folder_the_disk_cannot_make_says_what_to_do(tmp_path: Path, code: int) -> None:
    """``stats --plots DIR``: "cannot make the plots folder (Input/output error)", and nothing
    of what to do (each of its parents, in turn)."""
    src, _ = _base(tmp_path, "new store")
    store, plots = tmp_path / "s.zarr", tmp_path / "out" / "plots"
    ingest_folder(src, store)
    for folder in (plots, plots.parent):
        fails = _only(f"mkdir {folder}")
        with failing_calls(fails, code=code, ops=FOLDER_OPS, under=tmp_path / "out"):
            res = run_eegprep("stats", store, "--plots", plots)
        line = one_line(res.exit_code, res.output, f"{plots}: cannot make the plots folder")
        assert str(folder) in line and TODO[code] in line, line
        assert line.endswith("run the same command again"), line
    assert run_eegprep("stats", store, "--plots", plots).exit_code == 0


CASES = [
    *[("new store", "folder", code) for code in TODO],
    *[("prune", "folder", code) for code in TODO],
    *[(job, "deletion", code) for job in ("prune", "retired deleted") for code in TODO
      if code != errno.ENOSPC],  # (a deletion never needs space)
]  # fmt: skip


@pytest.mark.slow
@pytest.mark.sweep
@pytest.mark.parametrize(("job", "kind", "code"), CASES,
                         ids=[f"{j}-{k}-{errno.errorcode[c]}" for j, k, c in CASES])  # fmt: skip
def test_ingest_sweep_of_a_failed_deletion_or_folder(
    tmp_path: Path, job: str, kind: str, code: int
) -> None:
    """Each deletion, or each folder's creation, of an ingest failing in turn
    (:func:`_failed_then_finished`)."""
    src, base = _base(tmp_path, job)
    clean = tmp_path / "clean.zarr"
    _copy(base, clean)
    with failing_calls(lambda n, c: False, ops=OPS[kind], under=clean) as calls:
        assert _ingest(src, clean, *JOBS[job]).exit_code == 0
    assert len(calls) >= 2, calls
    for k in range(1, len(calls) + 1):
        out = tmp_path / f"s{k}.zarr"
        _copy(base, out)
        _failed_then_finished(job, src, out, clean, k, code, OPS[kind])
        shutil.rmtree(out)
