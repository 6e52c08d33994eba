"""Promise: what a corpus folder holds in place of a file (a FIFO, a device, a folder) is named
for what it is, by every reader and for every file a recording is made of, and never waited on.

A FIFO or a device where a BrainVision header's samples or marker file should be was "not
beside it" / "missing" (the fix it gave, "copy it there, or re-download", was wrong: it is
there); a FIFO swapped in for a recording after listing was "empty (0 bytes): re-download it";
a sidecar that is a FIFO was left out silently (its labels missing); and a companion swapped
for a FIFO while the recording was ingested hung the ingest, its hash waiting for a writer.
"""

from __future__ import annotations

import os
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import eegprep.ingestion.driver as driver
import eegprep.ingestion.task as task_module
from eegprep import open_store
from eegprep.base.errors import SourceError
from eegprep.corpus.sources import file_digest
from eegprep.ingestion.driver import IngestConfig, ingest
from tests.machine_paths import shown
from tests.safety.corpus import ingest_folder, write_edf
from tests.safety.test_hostile_vhdr import MARKERS, _int16, _vhdr


@pytest.fixture
def no_hang() -> Iterator[None]:
    """Fail, rather than hang, a test whose code under test waits on a FIFO for ever (the
    alarm interrupts the blocked ``open``); no duration is asserted."""

    def stop(signum: int, frame: Any) -> None:
        raise TimeoutError("waited on a FIFO")

    old = signal.signal(signal.SIGALRM, stop)
    signal.alarm(60)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _brainvision(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "r.vhdr").write_text(_vhdr(), encoding="utf-8")
    (folder / "r.eeg").write_bytes(_int16())
    (folder / "r.vmrk").write_text(MARKERS)
    return folder


def _replace(path: Path, kind: str) -> None:
    """``path`` replaced by a FIFO, a folder or a link to ``/dev/zero``."""
    path.unlink()
    if kind == "a FIFO":
        os.mkfifo(path)
    elif kind == "a folder":
        path.mkdir()
    else:
        path.symlink_to("/dev/zero")


@pytest.mark.parametrize("kind", ["a FIFO", "a folder", "a device"])
def test_a_samples_file_that_is_no_file_is_named_for_what_it_is(
    tmp_path: Path, kind: str, no_hang: None
) -> None:
    src = tmp_path / "src"
    write_edf(src, "good.edf")
    _replace(_brainvision(src / "v") / "r.eeg", kind)
    rep = ingest_folder(src, tmp_path / "s.zarr")
    assert rep.n_ingested == 1
    assert rep.failed == [
        f"v/r.vhdr: its samples file 'r.eeg' (DataFile= in it) is {kind}, not a file: nothing "
        "to read (only regular files are ingested); put the recording's samples file there"
    ]


def test_a_marker_file_that_is_a_fifo_is_named_as_one(tmp_path: Path, no_hang: None) -> None:
    src = _brainvision(tmp_path / "src")
    _replace(src / "r.vmrk", "a FIFO")
    rep = ingest_folder(src, tmp_path / "s.zarr")
    assert rep.n_ingested == 1
    assert sorted(rep.warnings["r.vhdr"]) == [
        "its marker file r.vmrk (named in the header) is a FIFO, not a file: no events were read"
    ]


@pytest.mark.parametrize("kind", ["a FIFO", "a device", "a folder"])
def test_a_recording_swapped_after_listing_is_named_not_called_empty(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, no_hang: None
) -> None:
    src = tmp_path / "src"
    write_edf(src, "a.edf")
    write_edf(src, "b.edf", seed=1)
    listed = driver.discover

    def swap(*args: Any, **kwargs: Any) -> Any:
        found = listed(*args, **kwargs)
        _replace(src / "a.edf", kind)
        return found

    monkeypatch.setattr(driver, "discover", swap)
    rep = ingest_folder(src, tmp_path / "s.zarr")
    assert rep.n_ingested == 1 and len(rep.failed) == 1
    expected = "is a directory, expected a file" if kind == "a folder" else f"{kind}, not a file"
    assert rep.failed[0].startswith(f"a.edf: {expected}"), rep.failed


def test_a_companion_swapped_for_a_fifo_while_ingested_is_not_waited_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_hang: None
) -> None:
    """The marker file is replaced by a FIFO after the samples were read, before the
    recording's files are hashed: the recording fails as changed, the ingest goes on."""
    src = _brainvision(tmp_path / "src")
    write_edf(src, "good.edf")
    real = task_module.write_recording

    def then_swap(*args: Any, **kwargs: Any) -> Any:
        out = real(*args, **kwargs)
        if (src / "r.vmrk").is_file():
            _replace(src / "r.vmrk", "a FIFO")
        return out

    monkeypatch.setattr(task_module, "write_recording", then_swap)
    rep = ingest_folder(src, tmp_path / "s.zarr")
    assert rep.n_ingested == 1 and len(rep.failed) == 1
    assert rep.failed[0].startswith("r.vhdr: r.vmrk changed while it was being ingested")


def test_hashing_refuses_what_is_no_regular_file(tmp_path: Path, no_hang: None) -> None:
    os.mkfifo(tmp_path / "f.edf")
    with pytest.raises(SourceError, match="a FIFO, not a file"):
        file_digest(str(tmp_path / "f.edf"))
    (tmp_path / "z.edf").symlink_to("/dev/zero")
    with pytest.raises(SourceError, match="a device, not a file"):
        file_digest(str(tmp_path / "z.edf"))


def test_a_sidecar_that_is_a_fifo_is_named_not_skipped(tmp_path: Path, no_hang: None) -> None:
    from eegprep.testing.fixtures import write_fixture

    src = write_fixture("tuev", tmp_path / "c")
    rec = sorted(src.rglob("*.rec"))[0]
    _replace(rec, "a FIFO")
    cfg = IngestConfig(workers=0, progress=False)
    rep = ingest("tuev", src=src, out=tmp_path / "s.zarr", config=cfg)
    assert len(rep.failed) == 1, rep.failed
    rel = rec.relative_to(src).as_posix()
    assert rep.failed[0].startswith(rel.replace(".rec", ".edf"))
    assert f"sidecar {rel!r} is a FIFO, not a file" in rep.failed[0]


def test_a_linked_folder_is_followed_by_every_glob_and_keeps_the_link_s_path(
    tmp_path: Path,
) -> None:
    """``**/*.edf`` did not follow a link to a folder (``*/*/*.edf`` did): a corpus assembled
    with links (``train -> /mnt/disk2/train``) lost those files without a word. Both follow
    it now, and the store names the files by the link's path, never the folder outside."""
    src, elsewhere = tmp_path / "src", tmp_path / "elsewhere"
    write_edf(src, "real/s1/a.edf")
    write_edf(elsewhere, "s2/b.edf", seed=1)
    (src / "linked").symlink_to(elsewhere, target_is_directory=True)
    for include in ("**/*.edf", "*/*/*.edf"):
        out = tmp_path / f"s{len(include)}.zarr"
        rep = ingest_folder(src, out, include=(include,))
        assert (rep.failed, rep.unmatched) == ([], []), include
        sources = sorted(r.source for r in open_store(out))
        assert sources == ["linked/s2/b.edf", "real/s1/a.edf"], include
        for path in out.rglob("*"):
            if path.is_file() and "reports" not in path.parts:  # a report names --src
                assert b"elsewhere" not in path.read_bytes(), path


def test_folder_link_loops_and_second_names_are_named_and_not_followed(tmp_path: Path) -> None:
    """A link to its own folder or one above it (``sub -> ..``, ``self -> .``,
    ``a/b -> ../a``) and a second name of a listed folder (``alias -> real``, and a second
    link to an outside folder): one line each, the walk ends, every file listed once under
    its own folder's name."""
    src, elsewhere = tmp_path / "src", tmp_path / "elsewhere"
    write_edf(src, "real/x.edf")
    write_edf(elsewhere, "y.edf", seed=1)
    (src / "sub").symlink_to("..")
    (src / "self").symlink_to(".")
    (src / "real" / "back").symlink_to("../real")
    (src / "alias").symlink_to("real")
    (src / "out1").symlink_to(elsewhere)
    (src / "out2").symlink_to(elsewhere)
    (elsewhere / "deeper").mkdir()
    (src / "in").symlink_to(elsewhere / "deeper")  # walked first: out1/deeper is its 2nd name
    for include in ("**/*.edf", "*/*.edf"):
        out = tmp_path / f"s{len(include)}.zarr"
        rep = ingest_folder(src, out, include=(include,))
        assert sorted(r.source for r in open_store(out)) == ["out1/y.edf", "real/x.edf"]
        why = dict(line.split(": ", 1) for line in rep.unmatched)
        loop = "a link to its own folder or to one above it (a loop): not followed"
        assert why == {
            "real/back/": loop,
            "self/": loop,
            "sub/": loop,
            "alias/": "a second name of real/, whose files are listed under that name: not "
            "followed (each file once)",
            "out2/": "a second name of out1/, whose files are listed under that name: not "
            "followed (each file once)",
            "out1/deeper/": "a second name of in/, whose files are listed under that name: not "
            "followed (each file once)",
        }, include


def test_one_file_under_two_names_is_ingested_once(tmp_path: Path) -> None:
    """A hard link (``s2/same.edf``), a link to a listed file, and a DataLad-like layout (a
    recording's name a link into ``.git/annex/objects``) were each ingested twice: twice the
    hours, the same samples under two subjects. Each file is ingested once, under its name
    outside hidden folders, and every other name is one line naming the kept one."""
    src = tmp_path / "src"
    write_edf(src, "s1/rec.edf")
    (src / "s2").mkdir()
    os.link(src / "s1" / "rec.edf", src / "s2" / "same.edf")
    (src / "s3").mkdir()
    (src / "s3" / "alias.edf").symlink_to("../s1/rec.edf")
    annexed = write_edf(src, ".git/annex/objects/Xx/Yy/MD5E-s1--0a.edf/MD5E-s1--0a.edf", seed=1)
    (src / "sub-01").mkdir()
    (src / "sub-01" / "x.edf").symlink_to(os.path.relpath(annexed, src / "sub-01"))
    rep = ingest_folder(src, tmp_path / "s.zarr")
    assert sorted(r.source for r in open_store(tmp_path / "s.zarr")) == [
        "s1/rec.edf",
        "sub-01/x.edf",
    ]
    twice = "(a hard link, or a link to it): ingested once, under that name"
    assert sorted(rep.unmatched) == [  # (.git is not walked: the annex object is not listed)
        f"s2/same.edf: the same file as s1/rec.edf {twice}",
        f"s3/alias.edf: the same file as s1/rec.edf {twice}",
    ]
    assert rep.n_files == 4 and rep.n_ingested == 2


def test_hidden_and_excluded_folders_are_never_listed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hidden folders (``.git``, ``.Trash-1000``) and folders ``exclude`` leaves out were
    walked whole, their files dropped afterwards: a DataLad ``.git/annex`` of 10^6 objects or
    a ``derivatives/`` folder cost the walk of every one. They are not listed now (no
    ``scandir`` of them, counted here), while a link into ``.git/annex`` (DataLad's
    ``x.edf -> .git/annex/objects/...``) is read, and a hidden folder an include glob names
    is walked."""
    from eegprep.corpus.discover import discover
    from eegprep.corpus.manifest import load_manifest
    from tests.eegprep.test_manifest_patterns import _with_excludes

    src = tmp_path / "src"
    write_edf(src, "keep/a.edf", seconds=1)
    annexed = write_edf(src, ".git/annex/objects/Xx/MD5E-s1--0a.edf/MD5E-s1--0a.edf", seconds=1)
    (src / "sub-01").mkdir()
    (src / "sub-01" / "x.edf").symlink_to(os.path.relpath(annexed, src / "sub-01"))
    for rel in (".Trash-1000/old/a.edf", "derivatives/deep/b.edf", "Derivatives/c.edf"):
        write_edf(src, rel, seconds=1)
    (src / "keep" / ".snap").symlink_to("../derivatives")  # a hidden link to a folder
    (src / "keep" / "deriv").symlink_to("../derivatives")  # a link excluded by its own path
    listed: list[str] = []
    scandir = os.scandir

    def counted(path: Any) -> Any:
        listed.append(os.path.relpath(path, src))
        return scandir(path)

    monkeypatch.setattr(os, "scandir", counted)
    manifest = load_manifest(str(_with_excludes(tmp_path, ["derivatives/*", "keep/deriv*"])))
    found = discover(manifest, src)
    assert sorted(listed) == [".", "keep", "sub-01"]
    assert [it.relpath for it in found.items] == ["keep/a.edf", "sub-01/x.edf"]
    assert found.unmatched == [] and found.n_files == 2
    listed.clear()
    data = write_edf(src, ".data/d.edf", seconds=1)
    (src / ".data" / ".inner").mkdir()
    dotted = _with_excludes(tmp_path, ["derivatives/*"]).read_text()
    (tmp_path / "m.toml").write_text(dotted.replace('"**/*.edf"', '".data/*.edf", "**/*.edf"'))
    found = discover(load_manifest(str(tmp_path / "m.toml")), src)
    assert ".data" in listed and ".data/.inner" not in listed and ".git" not in listed
    assert data.relative_to(src).as_posix() in [it.relpath for it in found.items]


def test_a_folder_of_many_bad_files_keeps_its_summary_on_the_screen(tmp_path: Path) -> None:
    """50,000 empty ``.edf`` files printed 50,000 ``skipped:`` lines, the summary lost above
    them; at most 100 are printed now and one line counts the rest and names the report,
    which lists every one (``-v`` prints them all)."""
    import json

    from click.testing import CliRunner

    from cli import eegprep_cli
    from eegprep.cli_group import LINES_SHOWN

    src, out = tmp_path / "src", tmp_path / "s.zarr"
    write_edf(src, "good.edf")
    n_bad = LINES_SHOWN + 30
    for i in range(n_bad):
        (src / f"e{i:03d}.edf").write_bytes(b"")
    args = ["ingest", "folder", "--src", str(src), "--out", str(out), "--mains", "60"]
    res = CliRunner().invoke(eegprep_cli, [*args, "--workers", "0"])
    assert res.exit_code == 3, res.output
    skipped = [line for line in res.output.splitlines() if line.startswith("skipped: ")]
    assert len(skipped) == LINES_SHOWN + 1
    report = next((out / "_eegprep" / "reports").iterdir())
    assert skipped[-1] == (
        f"skipped: 30 more not shown (each is named in the report {report}; -v shows them all)"
    )
    assert len(json.loads(report.read_text())["failed"]) == n_bad
    res = CliRunner().invoke(eegprep_cli, ["-v", *args, "--workers", "0"])
    assert sum(line.startswith("skipped: ") for line in res.output.splitlines()) == n_bad


def test_an_eeglab_samples_file_that_is_a_fifo_is_named_as_one(
    tmp_path: Path, no_hang: None
) -> None:
    from tests.safety.test_hostile_set import _fields, _write

    src = tmp_path / "src"
    src.mkdir()
    fields = _fields(250 * 20)
    fields["data"] = "r.fdt"
    _write(src / "r.set", fields, struct=False)
    os.mkfifo(src / "r.fdt")
    rep = ingest_folder(src, tmp_path / "s.zarr")
    assert rep.failed == [
        "r.set: its samples file 'r.fdt' (EEG.data in it) is a FIFO, not a file: nothing to "
        "read (only regular files are ingested); put the recording's samples file there"
    ]


def test_a_sidecar_a_glob_finds_that_is_a_fifo_is_named_not_skipped(
    tmp_path: Path, no_hang: None
) -> None:
    """Siena's seizure lists are also found by a glob of ``[sidecar] files``
    (``{dir}/*eizure*ist*.txt``): a FIFO it found was passed over in silence."""
    from eegprep.testing.fixtures import write_fixture

    src = write_fixture("siena", tmp_path / "c")
    listing = sorted(src.rglob("Seizures-list-*.txt"))[0].with_name("old_seizure_list.txt")
    os.mkfifo(listing)
    cfg = IngestConfig(workers=0, progress=False)
    rep = ingest("siena", src=src, out=tmp_path / "s.zarr", config=cfg)
    rel = listing.relative_to(src).as_posix()
    assert rep.failed and all(f"sidecar {rel!r} is a FIFO, not a file" in f for f in rep.failed)


def test_a_store_met_in_the_corpus_is_not_searched_and_a_store_given_as_corpus_is_refused(
    tmp_path: Path,
) -> None:
    """A link to a store beside the corpus had its chunk files walked by every glob that
    follows links; ``--src`` naming a store (``--src`` and ``--out`` swapped) or a folder in
    it was "no file matches ...; found only 38 .json", and a FIFO "got a file"."""
    from eegprep.base.errors import UsageError

    src, out = tmp_path / "src", tmp_path / "s.zarr"
    write_edf(src, "a.edf")
    ingest_folder(src, out)
    (src / "store").symlink_to(out)
    rep = ingest_folder(src, tmp_path / "other.zarr", include=("**/*.edf", "*/*/*.json"))
    assert rep.unmatched == [
        "store/: an eegprep store (the output of an ingest): its files are no sources, not searched"
    ]
    assert rep.n_files == 1 and rep.n_ingested == 1
    for given, inside in ((out, ""), (out / "recordings", "inside ")):
        with pytest.raises(UsageError, match="did you swap --src and --out") as caught:
            ingest_folder(given, tmp_path / "third.zarr")
        assert f"the corpus folder is {inside}the eegprep store {out}," in str(caught.value)
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(UsageError, match="expected the corpus folder, got a FIFO"):
        ingest_folder(tmp_path / "fifo", tmp_path / "third.zarr")
    assert not (tmp_path / "third.zarr").exists()


@pytest.mark.parametrize("kind", ["a FIFO", "a device", "a loop", "a file"])
def test_a_store_path_that_is_no_folder_is_named_for_what_it_is(
    tmp_path: Path, kind: str, no_hang: None
) -> None:
    """``stats``/``validate`` of a FIFO or ``/dev/zero`` said "no eegprep store here; create one
    with `eegprep ingest CORPUS --out /dev/zero`", a fix that cannot work; ``ingest --out`` a
    FIFO said "a file", a link loop "cannot write the store: File exists"."""
    from click.testing import CliRunner

    from cli import eegprep_cli

    store = tmp_path / "s"
    words = {"a loop": "a link to nothing or a link loop"}.get(kind, kind)
    if kind == "a FIFO":
        os.mkfifo(store)
    elif kind == "a device":
        store.symlink_to("/dev/zero")
    elif kind == "a loop":
        store.symlink_to(tmp_path / "t")
        (tmp_path / "t").symlink_to(store)
    else:
        store.write_bytes(b"not a zip")
    src = tmp_path / "src"
    write_edf(src, "a.edf")
    runner = CliRunner()
    # (refused as the argument is parsed, the path is cut past 80 characters, as a machine's
    # temporary folder may make it; a file is refused by the store's opener, which names it whole)
    named = store if kind == "a file" else shown(store)
    for args in (["stats", str(store)], ["validate", str(store)]):
        res = runner.invoke(eegprep_cli, args)
        assert res.exit_code == 2
        assert res.output == f"error: {named}: {words}, not a store (a store is a folder)\n"
    args = ["ingest", "folder", "--src", str(src), "--out", str(store), "--mains", "60"]
    res = runner.invoke(eegprep_cli, [*args, "--workers", "0"])
    assert res.exit_code == 2
    assert res.output.startswith(f"error: {named}: {words}, not a store"), res.output


def test_names_inside_the_walk_s_lines_are_shown_escaped(tmp_path: Path) -> None:
    """The kept name a second name's line gives (a file's, a folder's) reached the report and
    the JSON output raw (a terminal escape, a newline): it is escaped as the line's own."""
    import json

    src = tmp_path / "src"
    write_edf(src, "a\x1b[31m\nred/x.edf")
    os.link(src / "a\x1b[31m\nred" / "x.edf", src / "z.edf")
    (src / "zz").symlink_to("a\x1b[31m\nred")
    rep = ingest_folder(src, tmp_path / "s.zarr")
    text = json.dumps(rep.unmatched, ensure_ascii=False)
    assert "\x1b" not in text and "\\n" not in text.replace("\\\\n", ""), text
    assert sorted(rep.unmatched) == [
        "z.edf: the same file as a\\x1b[31m\\nred/x.edf (a hard link, or a link to it): "
        "ingested once, under that name",
        "zz/: a second name of a\\x1b[31m\\nred/, whose files are listed under that name: not "
        "followed (each file once)",
    ]


@pytest.mark.parametrize("where", ["absolute", "relative"])
@pytest.mark.parametrize("key", ["DataFile", "MarkerFile"])
def test_a_brainvision_header_pulls_no_file_from_outside_the_corpus(
    tmp_path: Path, where: str, key: str
) -> None:
    """``DataFile=/elsewhere/x.eeg`` or ``../elsewhere/x.eeg`` read that file, wherever it
    was on the machine, into the store, and its path and hash into the record, without a word;
    a ``MarkerFile=`` there gave the events. The recording is one line now, nothing read; a
    file in another folder of the corpus (``../raw/rec.eeg``) is still read."""
    src, elsewhere = tmp_path / "src", tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "x.eeg").write_bytes(_int16(seed=9))
    (elsewhere / "x.vmrk").write_text(MARKERS + "Mk2=Stimulus,SECRET42,500,1,0\n")
    _brainvision(src / "h")
    named = {"absolute": str(elsewhere), "relative": "../../elsewhere"}[where]
    suffix = {"DataFile": "eeg", "MarkerFile": "vmrk"}[key]
    header = (src / "h" / "r.vhdr").read_text(encoding="utf-8")
    header = header.replace(f"{key}=r.{suffix}", f"{key}={named}/x.{suffix}")
    (src / "h" / "r.vhdr").write_text(header, encoding="utf-8")
    rep = ingest_folder(src, tmp_path / "s.zarr")
    assert rep.n_ingested == 0 and rep.failed == [
        f"h/r.vhdr: ../elsewhere/x.{suffix} lies outside the corpus folder, where eegprep "
        "reads nothing: copy it into the corpus folder"
    ]
    for path in (tmp_path / "s.zarr").rglob("*"):
        if path.is_file() and "reports" not in path.parts:  # a report quotes the line
            assert b"SECRET42" not in path.read_bytes() and b"elsewhere" not in path.read_bytes()
    (src / "raw").mkdir()
    shutil.copy(elsewhere / f"x.{suffix}", src / "raw" / f"x.{suffix}")
    (src / "h" / "r.vhdr").write_text(header.replace(named, "../raw"), encoding="utf-8")
    rep = ingest_folder(src, tmp_path / "s.zarr")
    assert rep.n_ingested == 1, rep.failed


def test_a_header_behind_a_linked_folder_reads_the_file_its_fingerprint_covers(
    tmp_path: Path,
) -> None:
    """``link/r.vhdr`` (``link -> /elsewhere/dir``) naming ``../r.eeg``: the look-up took it
    as text (the corpus's ``r.eeg``, fingerprinted) while MNE opened it through the link
    (``/elsewhere/r.eeg``): samples of a file outside the corpus under another file's hash,
    and a change to them never noticed. MNE is given the file the look-up found."""
    src, elsewhere = tmp_path / "src", tmp_path / "elsewhere"
    _brainvision(elsewhere / "dir")
    header = (elsewhere / "dir" / "r.vhdr").read_text(encoding="utf-8")
    header = header.replace("=r.eeg", "=../r.eeg").replace("=r.vmrk", "=../r.vmrk")
    (elsewhere / "dir" / "r.vhdr").write_text(header, encoding="utf-8")
    (elsewhere / "r.eeg").write_bytes(_int16(seed=5))  # what the link's `..` leads to
    (elsewhere / "r.vmrk").write_text(MARKERS)
    _brainvision(tmp_path / "plain")  # seed 0's samples: the corpus's r.eeg holds them too
    src.mkdir()
    shutil.copy(tmp_path / "plain" / "r.eeg", src / "r.eeg")
    shutil.copy(tmp_path / "plain" / "r.vmrk", src / "r.vmrk")
    (src / "link").symlink_to(elsewhere / "dir")
    rep = ingest_folder(src, tmp_path / "s.zarr")
    assert rep.n_ingested == 1, rep.failed
    (rec,) = open_store(tmp_path / "s.zarr")
    assert [f["path"] for f in rec.record.source_files] == ["link/r.vhdr", "r.eeg", "r.vmrk"]
    assert ingest_folder(tmp_path / "plain", tmp_path / "plain.zarr").n_ingested == 1
    (plain,) = open_store(tmp_path / "plain.zarr")
    np.testing.assert_array_equal(
        open_store(tmp_path / "s.zarr").read(rec.id),
        open_store(tmp_path / "plain.zarr").read(plain.id),
    )


def test_macos_metadata_files_are_named_as_such_not_as_damaged_recordings(
    tmp_path: Path,
) -> None:
    """A corpus copied from a Mac holds a ``._x.edf`` (AppleDouble) beside each file: every
    reader called it a damaged file of its format ("not an EDF/BDF file: version field is
    b'\\x00\\x05\\x16\\x07...'"), sending users to re-download a whole corpus. It is one line
    saying what it is; a real recording whose name starts ``._`` still ingests."""
    import struct

    src = tmp_path / "src"
    write_edf(src, "rec.edf")
    write_edf(src, "._real.edf", seed=1)
    header = struct.pack(">IIH", 0x00051607, 0x00020000, 0) + b"Mac OS X        "
    for name in ("._rec.edf", "._r.vhdr"):
        (src / name).write_bytes(header.ljust(4096, b"\0"))
    rep = ingest_folder(src, tmp_path / "s.zarr")
    assert rep.n_ingested == 2 and rep.failed == []
    why = "a macOS metadata file (AppleDouble, written beside each file copied from a Mac)"
    assert sorted(rep.unmatched) == [
        f"._r.vhdr: {why}, not a recording: nothing to read; remove them (`dot_clean DIR` on a "
        "Mac, or `find DIR -name '._*' -delete`)",
        f"._rec.edf: {why}, not a recording: nothing to read; remove them (`dot_clean DIR` on "
        "a Mac, or `find DIR -name '._*' -delete`)",
    ]


def test_a_corpus_of_compressed_recordings_is_named_so(tmp_path: Path) -> None:
    """A folder of ``.edf.gz`` files said "found only 2 .gz file(s): pass --include 'GLOB'",
    and a glob for them would have read gzip bytes as EDF: it says they are compressed."""
    import gzip

    from eegprep.base.errors import UsageError

    src = tmp_path / "src"
    for name in ("a", "b"):
        raw = write_edf(tmp_path / "raw", f"{name}.edf").read_bytes()
        (src / "sub").mkdir(parents=True, exist_ok=True)
        (src / "sub" / f"{name}.edf.gz").write_bytes(gzip.compress(raw))
    with pytest.raises(UsageError, match=r"found 2 \.edf\.gz files, compressed, which "):
        ingest_folder(src, tmp_path / "s.zarr")


def test_a_file_system_giving_every_file_inode_0_loses_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Some network and FUSE mounts give every file inode 0: by device and inode alone every
    folder was "a second name" of the first and every file "the same file" as the first. The
    real path tells them apart there; a link to a listed file is still one file."""
    src = tmp_path / "src"
    write_edf(src, "a/x.edf")
    write_edf(src, "b/y.edf", seed=1)
    (src / "c").mkdir()
    (src / "c" / "alias.edf").symlink_to("../a/x.edf")
    real_stat = os.stat

    def no_inodes(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
        st = real_stat(path, *args, **kwargs)
        times = {k: getattr(st, k) for k in ("st_atime_ns", "st_mtime_ns", "st_ctime_ns")}
        return os.stat_result((st.st_mode, 0, *tuple(st)[2:]), times)

    monkeypatch.setattr(os, "stat", no_inodes)
    rep = ingest_folder(src, tmp_path / "s.zarr")
    assert rep.n_ingested == 2, rep.failed
    assert rep.unmatched == [
        "c/alias.edf: the same file as a/x.edf (a hard link, or a link to it): ingested once, "
        "under that name"
    ]


def test_the_walk_s_lines_obey_the_manifest_s_exclude(tmp_path: Path) -> None:
    """A loop the manifest excludes (``latest``, or under ``derivatives/**``) is no line."""
    manifest = tmp_path / "m.toml"
    text = (Path(__file__).parents[2] / "manifests" / "folder.toml").read_text()
    manifest.write_text(
        text.replace('name = "folder"', 'name = "mine"', 1).replace(
            "[reader]", 'exclude = ["latest", "derivatives/**"]\n\n[reader]', 1
        )
    )
    src = tmp_path / "src"
    write_edf(src, "a.edf")
    (src / "latest").symlink_to(".")
    (src / "derivatives").symlink_to(".")  # its line is `derivatives/`
    (src / "other").symlink_to(".")
    cfg = IngestConfig(workers=0, progress=False, mains=60.0)
    rep = ingest(str(manifest), src=src, out=tmp_path / "s.zarr", config=cfg)
    assert rep.n_ingested == 1
    assert rep.unmatched == [
        "other/: a link to its own folder or to one above it (a loop): not followed"
    ]


def test_a_file_is_ingested_under_the_name_that_can_be_listed(tmp_path: Path) -> None:
    """Kept under the name sorted first, a file was lost under both names when that one could
    not be listed (not UTF-8; matching no rule of the path pattern) and the other was "the
    same file" as it. Only names that can be listed are weighed."""
    from eegprep.corpus.discover import NOT_UTF8

    manifest = tmp_path / "m.toml"
    text = (Path(__file__).parents[2] / "manifests" / "folder.toml").read_text()
    pattern = r"^(?P<path>.+)\.(?i:edf|bdf|vhdr|set|fif|gdf|cnt|ahdr)$"
    assert pattern in text
    text = text.replace(pattern, r"^(?P<path>sub-[0-9]+/.+)\.edf$")
    manifest.write_text(text.replace('name = "folder"', 'name = "subs"', 1))
    src = tmp_path / "src"
    write_edf(src, "sub-01/z.edf")
    os.link(src / "sub-01" / "z.edf", src / "a.edf")  # sorts first, matches no rule
    os.link(src / "sub-01" / "z.edf", src / os.fsdecode(b"a\xff.edf"))  # not UTF-8
    cfg = IngestConfig(workers=0, progress=False, mains=60.0)
    rep = ingest(str(manifest), src=src, out=tmp_path / "s.zarr", config=cfg)
    assert [r.source for r in open_store(tmp_path / "s.zarr")] == ["sub-01/z.edf"]
    assert rep.unmatched == [
        "a.edf: path matches no rule of subs's path.pattern",
        f"a\\xff.edf: {NOT_UTF8}",
    ]


_SWAPPED_KINDS = ["edf", "vhdr", "csv", "mat", "mat73"]


def _recording(kind: str, src: Path, stem: str) -> str:
    """A sound recording of ``kind`` named ``stem`` in ``src`` (four channels, 10 s at 250
    Hz, as the fuzz tests' manifests read them): its file name."""
    import scipy.io

    from tests.eegprep.test_reader_matlab import write_mat73
    from tests.safety.test_reader_fuzz_formats import LABELS

    x = np.random.default_rng(0).normal(0, 20, (len(LABELS), 2500))
    if kind == "edf":
        write_edf(src, f"{stem}.edf")
    elif kind == "vhdr":
        folder = _brainvision(src / stem)
        return f"{folder.name}/r.vhdr"
    elif kind == "csv":
        rows = [",".join(["Time", *LABELS])]
        rows += [
            ",".join([f"{i / 250:.4f}", *(f"{v:.3f}" for v in row)]) for i, row in enumerate(x.T)
        ]
        (src / f"{stem}.csv").write_text("\n".join(rows) + "\n")
    else:
        variables = {"eeg": x, "fs": 250.0, "labels": list(LABELS)}
        if kind == "mat73":
            write_mat73(src / f"{stem}.mat", variables)
        else:
            scipy.io.savemat(src / f"{stem}.mat", variables)
    return f"{stem}.{'mat' if kind == 'mat73' else kind}"


@pytest.mark.parametrize("kind", _SWAPPED_KINDS)
def test_a_file_swapped_for_a_fifo_after_its_check_is_not_waited_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """A recording replaced by a FIFO between the reader's check of it and its open: every
    reader opened the file blocking (its own ``open``, pyedflib, h5py, scipy and MNE by
    name), and waited for a writer for ever. Now every open is of a descriptor checked to be
    a regular file (``open_regular``; a library that opens by name gets ``/proc/self/fd/N``):
    that recording fails in one line, the other is ingested, within seconds."""
    import eegprep.readers.base as base
    from tests.safety.test_reader_fuzz_formats import CONFIG, _manifest

    src = tmp_path / "src"
    src.mkdir()
    target, other = _recording(kind, src, "a"), _recording(kind, src, "b")
    real = base.check_readable
    swapped: list[str] = []

    def check_then_swap(path: str) -> None:
        real(path)
        if not swapped and path.endswith(target):
            swapped.append(path)
            _replace(Path(path), "a FIFO")

    for module in ("edf", "mne_formats", "csv_table", "matlab"):
        monkeypatch.setattr(f"eegprep.readers.{module}.check_readable", check_then_swap)

    def stop(signum: int, frame: Any) -> None:
        raise TimeoutError(f"waited on the FIFO that replaced {target}")

    old = signal.signal(signal.SIGALRM, stop)
    signal.alarm(60)  # (a guard: the ingest, MNE imported first, on a loaded machine)
    try:
        rep = ingest(_manifest(tmp_path, kind), src=src, out=tmp_path / "s.zarr", config=CONFIG)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    assert swapped, "the reader did not check the file"
    lines = [*rep.failed, *rep.unmatched]
    assert len(lines) == 1 and lines[0].startswith(f"{target}: "), lines
    assert "\n" not in lines[0] and "a FIFO, not a file" in lines[0], lines
    assert [r.source for r in open_store(tmp_path / "s.zarr")] == [other]


def test_a_table_swapped_for_a_fifo_before_numpy_parses_it_is_not_waited_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_hang: None
) -> None:
    """A CSV recording replaced by a FIFO after the reader read its header, before numpy
    parsed its rows: ``numpy.loadtxt`` was given the path and opened it by name, waiting for
    a writer for ever. Now it is given the file opened without waiting and checked: that
    recording fails in one line, the other is ingested."""
    import eegprep.readers.csv_rows as csv_rows
    from tests.safety.test_reader_fuzz_formats import CONFIG, _manifest

    src = tmp_path / "src"
    src.mkdir()
    target, other = _recording("csv", src, "a"), _recording("csv", src, "b")
    real = csv_rows.numbers_text
    swapped: list[str] = []

    def swap_then_open(path: str, dialect: Any) -> Any:
        if not swapped and path.endswith(target):
            swapped.append(path)
            _replace(Path(path), "a FIFO")
        return real(path, dialect)

    monkeypatch.setattr(csv_rows, "numbers_text", swap_then_open)
    rep = ingest(_manifest(tmp_path, "csv"), src=src, out=tmp_path / "s.zarr", config=CONFIG)
    assert swapped, "numpy never parsed the table"
    assert len(rep.failed) == 1 and rep.failed[0].startswith(f"{target}: "), rep.failed
    assert "a FIFO, not a file" in rep.failed[0], rep.failed
    assert [r.source for r in open_store(tmp_path / "s.zarr")] == [other]


@pytest.mark.parametrize("module", ["misc", "bci"])
def test_a_sidecar_table_swapped_for_a_fifo_before_numpy_parses_it_is_not_waited_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, module: str, no_hang: None
) -> None:
    """A sidecar table (``misc``'s whitespace table, ``bci``'s event columns) replaced by a
    FIFO after its encoding was read, before numpy parsed it: numpy opened it by name and
    waited for ever. Now the sidecar is one line naming the FIFO. (``misc`` reads its table a
    line at a time through :func:`eegprep.base.text.open_text`, which reads the encoding
    first, then opens the file: the swap lands between the two.)"""
    import importlib

    mod = importlib.import_module(f"eegprep.corpus.sidecars.{module}")
    path = tmp_path / "t.csv"
    path.write_text("id,a,b\n1,0,1\n2,1,0\n" if module == "bci" else "h\nh\n1 2\n3 4\n5 6\n")
    if module == "misc":
        mod = importlib.import_module("eegprep.base.text")
    real = mod.text_encoding

    def then_swap(name: Any) -> str:
        encoding = str(real(name))
        _replace(path, "a FIFO")
        return encoding

    monkeypatch.setattr(mod, "text_encoding", then_swap)
    with pytest.raises(SourceError, match="a FIFO, not a file"):
        if module == "bci":
            mod.event_columns_csv([str(path)], None, {})
        else:
            importlib.import_module("eegprep.corpus.sidecars.misc")._read_table(str(path), 2)
