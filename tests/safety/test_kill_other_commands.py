"""Promise: a SIGKILL, or a Ctrl-C (SIGINT), at any write of an eegprep command that writes but
is not a plain ingest (``ingest --repair``, ``ingest --prune``: ``test_kill_during_prune.py``,
``config set``, ``demo --out``, ``stats --html`` / ``--plots``) leaves what the user had whole
(a store ``validate`` finds no worse, a config file that parses, the old page or plot) or the
new state whole; the same command run again completes, and leaves no temporary file.

``eegprep demo --out D`` killed after its marker's temporary file was written, before its
rename, left ``D/tuh`` holding that file alone: every later demo refused the folder as
another's ("already holds files and is not a demo corpus"), for good. A folder holding nothing
but such a file is now the demo's own, and the file is removed.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import tomllib
from pathlib import Path

import numpy as np
import pytest

from eegprep import open_store
from eegprep.base.files import TMP_MARK
from eegprep.store.validate import validate
from tests.safety.corpus import ingest_folder, write_edf
from tests.safety.killing import KILLED, run, run_killed, write_calls

INTERRUPTED = 130  # the CLI's status for Ctrl-C


def _temporaries(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob(f"*{TMP_MARK}*"))


def _hashes(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in folder.rglob("*")
        if p.is_file()
    }


def _stopped(args: list[str], where: Path, at: int | tuple[str, str], sig: str) -> None:
    """Run ``eegprep ARGS`` stopped by ``sig`` at write ``at`` in ``where``: a kill ends it
    there; a Ctrl-C ends it with status 130, one line and no traceback."""
    done = run_killed(args, where, at, sig=sig)
    if sig == "SIGKILL":
        assert done.returncode == KILLED, (at, done.stderr)
    else:
        assert done.returncode == INTERRUPTED, (at, done.stderr)
        assert "Traceback" not in done.stderr and len(done.stderr.splitlines()) <= 1, done.stderr


def _stops(calls: list[str], every_sigint: int) -> list[tuple[int, str, str]]:
    """Every write with SIGKILL, every ``every_sigint``-th with SIGINT: ``(k, sig, call)``."""
    kills = [(k, "SIGKILL", c) for k, c in enumerate(calls, start=1)]
    ints = [(k, "SIGINT", c) for k, c in enumerate(calls, start=1) if k % every_sigint == 0]
    return kills + ints


# ---------------------------------------------------------------------------------------------
# eegprep demo --out


def _demo(out: Path) -> list[str]:
    return ["-q", "demo", "--out", str(out)]


def test_a_demo_killed_before_its_marker_s_rename_runs_again(tmp_path: Path) -> None:
    clean = tmp_path / "clean"
    assert run(_demo(clean)).returncode == 0
    out = tmp_path / "d"
    out.mkdir()
    _stopped(_demo(out), out, ("replace", r"\.eegprep-demo\.tmp-"), "SIGKILL")
    (left,) = (out / "tuh").iterdir()
    assert left.name.startswith(".eegprep-demo.tmp-")
    again = run(_demo(out))
    assert again.returncode == 0, again.stderr
    assert _temporaries(out) == [] and _hashes(out) == _hashes(clean)


def test_a_folder_of_other_files_beside_a_marker_temporary_is_still_refused(
    tmp_path: Path,
) -> None:
    root = tmp_path / "d" / "tuh"
    root.mkdir(parents=True)
    (root / f".eegprep-demo{TMP_MARK}0123abcd").write_bytes(b"")
    (root / "notes.txt").write_text("the user's own\n")
    done = run(_demo(tmp_path / "d"))
    assert done.returncode == 2 and "is not a demo corpus" in done.stderr
    assert (root / "notes.txt").read_text() == "the user's own\n"


@pytest.mark.slow
@pytest.mark.parametrize("over", ["nothing", "an earlier demo"])
def test_a_stop_at_every_write_of_a_demo(tmp_path: Path, over: str) -> None:
    clean = tmp_path / "clean"
    assert run(_demo(clean)).returncode == 0
    want = _hashes(clean)
    counted = tmp_path / "counted"
    shutil.copytree(clean, counted) if over != "nothing" else counted.mkdir()
    calls = write_calls(_demo(counted), counted, tmp_path / "calls.log")
    for k, sig, call in _stops(calls, 9):
        out = tmp_path / "d"
        shutil.rmtree(out, ignore_errors=True)
        shutil.copytree(clean, out) if over != "nothing" else out.mkdir()
        _stopped(_demo(out), out, k, sig)
        if over != "nothing":  # each file the old one or the new one: the same bytes
            now = _hashes(out)
            assert {p: now.get(p) for p in want} == want, (sig, call)
        again = run(_demo(out))
        assert again.returncode == 0, (sig, call, again.stderr)
        assert _temporaries(out) == [] and _hashes(out) == want, (sig, call)


# ---------------------------------------------------------------------------------------------
# eegprep config set, stats --html / --plots


@pytest.mark.slow
def test_a_stop_at_every_write_of_config_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src, folder = tmp_path / "src", tmp_path / "cfg"
    src.mkdir()
    config = folder / "config.toml"
    monkeypatch.setenv("EEGPREP_CONFIG", str(config))
    args = ["config", "set", "tuh", str(src)]
    assert run(["config", "set", "tuab", str(src)]).returncode == 0
    old = config.read_bytes()
    calls = write_calls(args, folder, tmp_path / "calls.log")
    for k, sig, call in _stops(calls, 2):
        config.write_bytes(old)
        _stopped(args, folder, k, sig)
        held = tomllib.loads(config.read_text())["corpora"]  # parses: old or new, whole
        assert config.read_bytes() == old or held == {"tuab": str(src), "tuh": str(src)}
        again = run(args)
        assert again.returncode == 0, (sig, call, again.stderr)
        assert _temporaries(folder) == [], (sig, call)
        assert tomllib.loads(config.read_text())["corpora"] == {"tuab": str(src), "tuh": str(src)}


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("option", ["--html", "--plots"])
def test_a_stop_at_every_write_of_stats_outputs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, option: str
) -> None:
    monkeypatch.setenv("MPLBACKEND", "Agg")
    src, store, folder = tmp_path / "src", tmp_path / "s.zarr", tmp_path / "out"
    for k in range(2):
        write_edf(src, f"r{k}.edf", seed=k)
    ingest_folder(src, store)
    target = folder / "report.html" if option == "--html" else folder / "plots"
    args = ["stats", str(store), option, str(target)]
    assert run(args).returncode == 0
    old = _hashes(folder)
    calls = write_calls(args, folder, tmp_path / "calls.log")
    assert sum(c.startswith("replace ") for c in calls) == (1 if option == "--html" else 3)
    for k, sig, call in _stops(calls, 2):
        _stopped(args, folder, k, sig)
        now = _hashes(folder)
        assert {p: now.get(p) for p in old} == old, (sig, call)  # whole, never cut short
        again = run(args)
        assert again.returncode == 0, (sig, call, again.stderr)
        assert _temporaries(folder) == [] and _hashes(folder) == old, (sig, call)


# ---------------------------------------------------------------------------------------------
# eegprep ingest --repair, --prune


def _ingest(src: Path, out: Path, flag: str) -> list[str]:
    """``eegprep ingest`` of ``src`` into ``out`` with ``flag`` (none when empty)."""
    return ["-q", "ingest", "folder", "--mains", "60", "--src", str(src), "--out", str(out),
            "--workers", "0", *([flag] if flag else [])]  # fmt: skip


def _three(tmp_path: Path) -> tuple[Path, Path, dict[str, np.ndarray]]:
    """A store of three 6-s recordings (``folder/r0`` to ``r2``): the corpus, the store, and
    each recording's samples as ingested."""
    src, out = tmp_path / "src", tmp_path / "base.zarr"
    for k in range(3):
        write_edf(src, f"r{k}.edf", seed=k, seconds=6)
    ingest_folder(src, out)
    store = open_store(out)
    return src, out, {r.id: store.read(r.id) for r in store}


def _index_lost(tmp_path: Path) -> tuple[Path, Path, dict[str, np.ndarray]]:
    """A store of three recordings whose index is lost: ``--repair`` (any ingest) lists them
    again from their groups."""
    src, out, original = _three(tmp_path)
    shutil.rmtree(out / "_eegprep" / "index")
    return src, out, original


UNLISTED = "recording group on disk that the index does not list (an ingest stopped mid-commit"


def _problems(out: Path, like: Path) -> set[str]:
    """What validate finds in ``out``, its paths written as of store ``like``; less the groups
    a commit cut short left unlisted, which the next ingest lists (as after a killed ingest:
    ``test_kill_at_every_write.py``)."""
    return {p.replace(str(out), str(like)) for p in validate(str(out))[1] if UNLISTED not in p}


def _listed_whole(out: Path, original: dict[str, np.ndarray], call: str) -> None:
    """Every recording ``out`` lists and validate finds sound reads as it was ingested."""
    try:
        store = open_store(out)
    except Exception as exc:  # a lost index, not yet written again: one line
        assert "index missing" in str(exc) and "\n" not in str(exc), call
        return
    flagged = {p.split(":", 1)[0] for p in validate(str(out))[1]}
    for r in store:
        if r.id not in flagged:
            np.testing.assert_array_equal(store.read(r.id), original[r.id], err_msg=call)


@pytest.mark.slow
def test_a_stop_at_every_write_of_a_repair_of_a_lost_index(tmp_path: Path) -> None:
    src, base, original = _index_lost(tmp_path)
    before = _problems(base, base)
    assert before
    counted = tmp_path / "counted.zarr"
    shutil.copytree(base, counted)
    calls = write_calls(_ingest(src, counted, "--repair"), counted, tmp_path / "calls.log")
    for k, sig, call in _stops(calls, 7):
        out = tmp_path / "t.zarr"
        shutil.rmtree(out, ignore_errors=True)
        shutil.copytree(base, out)
        _stopped(_ingest(src, out, "--repair"), out, k, sig)
        assert _problems(out, base) <= before, (sig, call)  # no new damage
        _listed_whole(out, original, f"{sig} {call}")
        again = run(_ingest(src, out, "--repair"))
        assert again.returncode == 0, (sig, call, again.stderr)
        assert validate(str(out)) == (3, []) and _temporaries(out) == [], (sig, call)
        store = open_store(out)
        for rid, x in original.items():
            np.testing.assert_array_equal(store.read(rid), x, err_msg=f"{sig} {call}")


def _damaged(tmp_path: Path) -> tuple[Path, Path, dict[str, np.ndarray]]:
    """A store of three recordings, a bit flipped in ``folder/r1``'s samples and
    ``folder/r2``'s shard lost: what ``--repair`` writes again."""
    src, out, original = _three(tmp_path)
    shards = [
        sorted((out / "recordings" / "folder" / n / "data").glob("c.*"))[0] for n in ("r1", "r2")
    ]
    data = bytearray(shards[0].read_bytes())
    data[len(data) // 3] ^= 0x10
    shards[0].write_bytes(bytes(data))
    shards[1].unlink()
    return src, out, original


def _repaired_after(src: Path, base: Path, tmp_path: Path, at: int | tuple[str, str],
                    again: str, original: dict[str, np.ndarray]) -> None:  # fmt: skip
    """Kill ``ingest --repair`` of ``base`` (a copy) at write ``at``; run ``ingest again``
    (``--repair`` or a plain one): the store is sound (the damaged versions, superseded by
    new ones the kill left unlisted, retired as repaired), every recording as ingested."""
    out = tmp_path / "t.zarr"
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(base, out)
    assert run_killed(_ingest(src, out, "--repair"), out, at).returncode == KILLED, at
    done = run(_ingest(src, out, again))
    assert done.returncode == 0, (at, done.stderr)
    if again == "--repair":  # (a plain ingest leaves a damage the kill came before: r2's)
        assert validate(str(out)) == (3, []), at
        store = open_store(out)
        for rid, x in original.items():
            np.testing.assert_array_equal(store.read(rid), x, err_msg=str(at))
    retired = json.loads((out / "recordings" / "folder" / "r1" / "record.json").read_text())
    assert retired["reason"] == "repaired" and retired["damage"], (at, retired)
    problems = [p for p in validate(str(out))[1] if "retired group" in p]
    assert problems == [], (at, problems)


@pytest.mark.parametrize("again", ["--repair", ""], ids=["--repair", "plain"])
@pytest.mark.parametrize(
    "at",
    [("replace", r"-> recordings/folder/r1/record\.json$"),  # (renamed in from staging)
     ("replace", r"-> _eegprep/index/0000000002\.jsonl$")],
    ids=["before the retirement record", "before the index segment"],
)  # fmt: skip
def test_a_repair_killed_after_its_new_version_s_rename_retires_the_damaged_one_as_repaired(
    tmp_path: Path, at: tuple[str, str], again: str
) -> None:
    """``ingest --repair`` killed between a repaired recording's new version's rename and its
    index segment: the next ingest lists the new version again and retires the damaged one.
    It retired it as ``replaced`` (the killed process alone knew it was damaged; where it had
    written ``repaired``, that was written over), and ``validate`` reported the retired
    group's damage (exit 1) until it was deleted, 24 hours later."""
    src, base, original = _damaged(tmp_path)
    _repaired_after(src, base, tmp_path, at, again, original)


@pytest.mark.slow
def test_a_kill_at_every_write_of_a_repair_s_commit(tmp_path: Path) -> None:
    """The same, at every write from the first new version's rename to the index segment."""
    src, base, original = _damaged(tmp_path)
    counted = tmp_path / "counted.zarr"
    shutil.copytree(base, counted)
    calls = write_calls(_ingest(src, counted, "--repair"), counted, tmp_path / "calls.log")
    first = next(k for k, c in enumerate(calls, 1) if re.search(r"-> recordings/.*@2$", c))
    last = next(k for k, c in enumerate(calls, 1) if re.search(r"-> _eegprep/index/", c))
    assert first < last, calls
    for k in range(first + 1, last + 1):
        _repaired_after(src, base, tmp_path, k, "--repair", original)


@pytest.mark.slow
def test_ctrl_c_at_writes_of_a_prune(tmp_path: Path) -> None:
    """SIGINT at every third write of a prune (its kills: ``test_kill_during_prune.py``)."""
    src, base = tmp_path / "src", tmp_path / "base.zarr"
    for k in range(3):
        write_edf(src, f"site/r{k}.edf", seed=k)
    ingest_folder(src, base)
    (src / "site" / "r0.edf").unlink()
    counted = tmp_path / "counted.zarr"
    shutil.copytree(base, counted)
    calls = write_calls(_ingest(src, counted, "--prune"), counted, tmp_path / "calls.log")
    for k, _, call in _stops(calls, 3)[len(calls) :]:
        out = tmp_path / "t.zarr"
        shutil.rmtree(out, ignore_errors=True)
        shutil.copytree(base, out)
        _stopped(_ingest(src, out, "--prune"), out, k, "SIGINT")
        assert _problems(out, out) == set(), call
        again = run(_ingest(src, out, "--prune"))
        assert again.returncode == 0, (call, again.stderr)
        assert validate(str(out)) == (2, []) and _temporaries(out) == [], call
