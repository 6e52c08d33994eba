"""Promise: random damage to any object of a store is reported by `eegprep validate`, and never
read as other samples.

A small store holding every kind of object (listed recordings, a version retired by a
re-ingest, a group retired by ``--prune``, a base index segment with its fields file and a
later segment, the retired list, the seen-files cache, an ingest report, every group's and
array's ``zarr.json``, shards, coordinate chunks) gets, one object at a time, seeded flipped
bits, a cut at a random length and a deletion. After each: ``eegprep validate`` exits 1 with a
line naming the object; ``open_store`` and each recording's read give the original samples or
one ``StoreFormatError`` line; ``eegprep stats`` prints or fails in one line; and a reader of
the index from before the re-ingest reads the retired versions' original samples or fails in
one line. This found a renamed ``null`` key (``"part"``), retired groups not read at all, the
``channel``/``time`` arrays' files not named, ``removed.json`` not checked, a lost
``retired.json`` reported as groups an ingest left, a lost root that an object store took
for no store at all, and a retired group's ``record.json`` deleted alone, taken for a group an
earlier version retired (the retired list now states its checksum).
"""

from __future__ import annotations

import json
import random
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from cli import eegprep_cli
from eegprep import open_store
from eegprep.base.errors import RecordingNotFoundError, StoreFormatError
from tests.safety.backends import Backend
from tests.safety.corpus import ingest_folder, write_edf

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # numcodecs' zarr3 codecs

NOT_DAMAGE = {
    ".fields": "the index's fields file is derived from the base segment: a store without one "
    "is read as before and gains one at its next ingest",
    "_eegprep/reports/": "ingest reports are a log: nothing lists them",
    "/seen.json": "a cache: without it the next ingest compares files by content",
    "/index/head.json": "the index's head names the last commit's segment: a store without one "
    "(written before it) is read as before and gains one at its next ingest",
}
"""Objects whose deletion is no damage (each may be missing in a sound store), by a part of
their path, and why."""


def _deletion_is_damage(rel: str) -> bool:
    return not any(part in f"/{rel}" for part in NOT_DAMAGE)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("damage")
    src, out = root / "src", root / "s.zarr"
    for i in range(3):
        write_edf(src, f"r{i}.edf", seed=i, seconds=6)
    ingest_folder(src, out)
    shutil.copytree(out / "_eegprep" / "index", root / "old-index")  # an older reader's index
    write_edf(src, "r0.edf", seed=9, seconds=6)  # re-ingested: recordings/folder/r0 retired
    ingest_folder(src, out)
    (src / "r2.edf").unlink()
    ingest_folder(src, out, prune=True)  # recordings/folder/r2 retired, removed.json in it
    write_edf(src, "r3.edf", seed=3, seconds=6)
    with pytest.MonkeyPatch.context() as mp:  # r3 listed in a later segment, not compacted
        mp.setattr("eegprep.store.writer.compact", lambda loc: None)
        ingest_folder(src, out)
    assert sorted(p.name for p in (out / "_eegprep" / "index").iterdir()) == [
        "0000000001.fields", "0000000001.jsonl", "0000000002.jsonl", "head.json"
    ]  # fmt: skip
    return root


def _samples(store: Path) -> dict[str, np.ndarray]:
    s = open_store(store)
    return {r.id: s.read(r.id) for r in s}


def _damages(
    blob: bytes, rel: str, flips: int, rng: random.Random
) -> Iterator[tuple[str, bytes | None]]:
    for _ in range(flips):
        bit = rng.randrange(len(blob) * 8)
        changed = bytearray(blob)
        changed[bit // 8] ^= 1 << (bit % 8)
        if not _same_values(rel, blob, bytes(changed)):
            yield f"bit {bit} flipped", bytes(changed)
    cut = rng.randrange(len(blob))
    yield f"cut to {cut} bytes", blob[:cut]
    if _deletion_is_damage(rel):
        yield "deleted", None


def _same_values(rel: str, good: bytes, blob: bytes) -> bool:
    """Whether JSON ``blob`` holds the values ``good`` holds: the last of 17 digits of a float
    flipped to one that rounds to the same double ("0.0019073777370870527" and "...526") is no
    damage; no reader can tell the two."""
    if not rel.endswith((".json", ".jsonl")):
        return False
    try:
        return [json.loads(x) for x in blob.split(b"\n") if x.strip()] == [
            json.loads(x) for x in good.split(b"\n") if x.strip()
        ]
    except ValueError:
        return False


def _named(rel: str, problems: list[str], deleted: bool) -> bool:
    """A line names the object: its path, or (an index segment) its name. A lost index is
    'index missing'; a lost later segment, the groups it listed that the index does not list
    (as after an ingest stopped before writing it)."""
    name = rel.rsplit("/", 1)[-1]
    index = rel.startswith("_eegprep/index/")
    lost = ("index missing", "the index does not list") if deleted else ()
    return any(rel in p or (index and (name in p or any(w in p for w in lost))) for p in problems)


def _one_line_or_same(read: Callable[[], np.ndarray], want: np.ndarray, what: str) -> None:
    """The original samples, or one line: the damage found, or (a lost index segment, which
    ``validate`` reports) the recording not listed."""
    try:
        got = read()
    except (StoreFormatError, RecordingNotFoundError) as exc:
        assert "\n" not in str(exc), what
        return
    assert np.array_equal(got, want), what


def _reported_and_never_read(
    runner: CliRunner, url: str, rel: str, deleted: bool, want: dict[str, np.ndarray], case: str
) -> None:
    """``validate`` names the damaged object ``rel`` (exit status 1), and the store either
    refuses to open in one line or gives each recording of ``want`` whole or not at all."""
    res = runner.invoke(eegprep_cli, ["validate", url, "--json"])
    problems = json.loads(res.output)["problems"] if res.exit_code != 2 else []
    named = _named(rel, problems, deleted)
    assert res.exit_code == 1 and named, (case, res.output[-600:])
    try:
        store = open_store(url)
    except StoreFormatError as exc:
        assert "\n" not in str(exc), case
    else:
        for rid, x in want.items():
            _one_line_or_same(lambda r=rid, s=store: s.read(r), x, f"{case} ({rid})")


def _sweep(root: Path, flips: int, seed: int) -> int:
    out, old_index = root / "s.zarr", root / "old-index"
    index = out / "_eegprep" / "index"
    runner = CliRunner()
    assert json.loads(runner.invoke(eegprep_cli, ["validate", str(out), "--json"]).output) == {
        "store": str(out), "checked": 3, "retired_checked": 2, "problems": [], "notes": []
    }  # fmt: skip
    want = _samples(out)
    shutil.move(index, root / "new-index")
    shutil.copytree(old_index, index)
    old = _samples(out)  # r0's first version and r2, as a reader of the older index has them
    shutil.rmtree(index)
    shutil.move(root / "new-index", index)
    rng = random.Random(seed)
    objects = [p for p in sorted(out.rglob("*")) if p.is_file() and p.name != "lock.flock"]
    kinds = {p.relative_to(out).as_posix().split("/")[-1] for p in objects}
    assert {"c.0.0", "c.0", "zarr.json", "record.json", "removed.json", "retired.json",
            "seen.json", "0000000001.jsonl", "0000000002.jsonl", "0000000001.fields",
            "head.json"} <= kinds  # fmt: skip
    done = 0
    for path in objects:
        rel = path.relative_to(out).as_posix()
        good = path.read_bytes()
        for what, blob in _damages(good, rel, flips, rng):
            case = f"{rel}: {what}"
            if blob is None:
                path.unlink()
            else:
                path.write_bytes(blob)
            _reported_and_never_read(runner, str(out), rel, blob is None, want, case)
            stats = runner.invoke(eegprep_cli, ["stats", str(out)])
            assert stats.exit_code in (0, 2, 3) and "Traceback" not in stats.output, (
                case,
                stats.output,
            )
            if stats.exit_code == 2:  # refused: one line; 3: the others tabulated, it named
                assert stats.output.count("\n") == 1, (case, stats.output)
            if stats.exit_code == 3:
                assert "left out: " in stats.output, (case, stats.output)
            if not rel.startswith("_eegprep/index/"):  # the older reader: its own index
                shutil.move(index, root / "new-index")
                shutil.copytree(old_index, index)
                try:
                    for rid, x in old.items():
                        _one_line_or_same(
                            lambda rid=rid: open_store(out).read(rid), x, f"{case} (old {rid})"
                        )
                finally:
                    shutil.rmtree(index)
                    shutil.move(root / "new-index", index)
            path.write_bytes(good)
            done += 1
    assert (
        json.loads(runner.invoke(eegprep_cli, ["validate", str(out), "--json"]).output)["problems"]
        == []
    )
    return done


def test_random_damage_to_every_object_is_reported_and_never_read(
    built: Path, tmp_path: Path
) -> None:
    shutil.copytree(built, tmp_path / "d")
    assert _sweep(tmp_path / "d", flips=3, seed=1) > 200


@pytest.mark.slow
@pytest.mark.parametrize("seed", [2, 3])
def test_much_random_damage_to_every_object_is_reported_and_never_read(
    built: Path, tmp_path: Path, seed: int
) -> None:
    shutil.copytree(built, tmp_path / "d")
    assert _sweep(tmp_path / "d", flips=30, seed=seed) > 1500


@pytest.mark.slow  # over 5 s on two cores
def test_random_damage_in_an_object_store_is_reported_and_never_read(built: Path) -> None:
    """The same on ``memory://``, whose reads and listings go through fsspec: a lost root
    ``zarr.json`` was taken there for no store at all (`no eegprep store here; create one`,
    and an ingest of another recipe re-created it over the recordings)."""
    store = Backend(built / "s.zarr", "memory", "damage")
    runner = CliRunner()
    rng = random.Random(4)
    try:
        want = _samples(store.url)  # type: ignore[arg-type]
        for key in sorted(store.fs.find(store.base)):
            rel = key.split(f"{store.base}/", 1)[1]
            good = store.read(rel)
            for what, blob in _damages(good, rel, 1, rng):
                if blob is None:
                    store.delete(rel)
                else:
                    store.write(rel, blob)
                case = f"{rel}: {what}"
                _reported_and_never_read(runner, store.url, rel, blob is None, want, case)
                store.write(rel, good)
    finally:
        store.close()
