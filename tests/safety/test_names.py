"""Promise: no file name or manifest name can reach outside its corpus's folder of the store,
and every source file keeps one name for good, whatever files arrive later."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from eegprep import open_store
from eegprep.base.errors import ManifestError, StoreFormatError
from eegprep.corpus.discover import check_name
from eegprep.ingestion.driver import NAMES_KEPT, ingest
from eegprep.store.validate import validate
from eegprep.store.writer import check_group
from tests.safety.corpus import FOLDER, files_under, ingest_folder, write_edf

HOSTILE = [
    "_.._.edf",
    "_._.edf",
    "..edf",
    "...edf",
    ".hidden.edf",
    "_.edf",
    "a b.edf",
    "-rf.edf",
    "ü ñ.edf",
    "x\u200b.edf",
    "$(touch pwned).edf",
    "back\\slash.edf",
    "semi;colon.edf",
    "~tilde.edf",
    "a@2.edf",
    "zarr.json.edf",
    "ZARR.JSON.edf",
]
SAFE_GROUP = re.compile(r"recordings/folder/[A-Za-z0-9+-][A-Za-z0-9._+~-]*(@\d+)?")


def test_hostile_file_names_stay_inside_their_corpus(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "s.zarr"
    write_edf(src, "first.edf", seed=1)
    assert ingest_folder(src, out).n_ingested == 1
    before = open_store(out).read("folder/first")
    sibling = tmp_path / "sibling.txt"
    sibling.write_text("keep me")
    for i, name in enumerate(HOSTILE):
        write_edf(src, name, seed=10 + i)
    rep = ingest_folder(src, out)
    assert rep.failed == [] and rep.n_ingested == len(HOSTILE)
    store = open_store(out)
    assert len(store) == len(HOSTILE) + 1
    assert {r.source for r in store} == {"first.edf", *HOSTILE}
    for rec in store:
        assert SAFE_GROUP.fullmatch(rec.group), rec.group
        assert (out / rec.group / "zarr.json").is_file()
    np.testing.assert_array_equal(store.read("folder/first"), before)
    assert sibling.read_text() == "keep me"
    assert validate(str(out)) == (len(HOSTILE) + 1, [])
    assert ingest_folder(src, out).n_current == len(HOSTILE) + 1


def test_a_second_corpus_with_hostile_names_leaves_the_first_alone(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "s.zarr"
    write_edf(src, "a.edf")
    ingest_folder(src, out)
    snapshot = files_under(out / "recordings" / "folder")
    other = tmp_path / "other.toml"
    text = (Path(__file__).parents[2] / "manifests" / "folder.toml").read_text()
    other.write_text(text.replace('name = "folder"', 'name = "other"', 1))
    src2 = tmp_path / "src2"
    for name in ("_.._.edf", "_._.edf", "..edf"):
        write_edf(src2, name)
    rep = ingest(str(other), src=src2, out=out, config=FOLDER)
    assert rep.n_ingested == 3, rep.failed
    assert files_under(out / "recordings" / "folder") == snapshot
    assert len(open_store(out)) == 4


@pytest.mark.parametrize(
    "name", ["../..", "..", ".", "a/b", "", ".hidden", "x" * 65, "a b", "é", "TUH", "Tuh"]
)
def test_a_manifest_name_that_is_not_a_plain_folder_name_is_refused(
    tmp_path: Path, name: str
) -> None:
    manifest = tmp_path / "m.toml"
    text = (Path(__file__).parents[2] / "manifests" / "folder.toml").read_text()
    manifest.write_text(text.replace('name = "folder"', f"name = {name!r}".replace("'", '"'), 1))
    (tmp_path / "src").mkdir()
    write_edf(tmp_path / "src", "a.edf")
    out = tmp_path / "deep" / "s.zarr"
    with pytest.raises(ManifestError, match="key name"):
        ingest(str(manifest), src=tmp_path / "src", out=out, config=FOLDER)
    assert not (tmp_path / "deep").exists()


@pytest.mark.parametrize(
    "name", ["..", ".", "a/b", "", ".x", "a\\b", "a b", "..~abcdef12", "zarr.json", "Zarr.JSON"]
)
def test_the_last_guards_refuse_unsafe_names_and_groups(name: str) -> None:
    with pytest.raises(StoreFormatError):
        check_name(name)
    with pytest.raises(StoreFormatError):
        check_group(f"recordings/c/{name}")
    with pytest.raises(StoreFormatError):
        check_group(f"recordings/{name}/x")


def test_names_stay_put_when_colliding_files_arrive_later(tmp_path: Path) -> None:
    """``a b.edf`` then ``a_b.edf``; ``x/s.edf`` then ``y/s.edf`` (same stem): each source is
    listed once, under the name it was first listed with."""
    src, out = tmp_path / "src", tmp_path / "s.zarr"
    manifest = tmp_path / "stem.toml"
    text = (Path(__file__).parents[2] / "manifests" / "folder.toml").read_text()
    manifest.write_text(
        text.replace('name = "folder"', 'name = "stems"', 1).replace(
            'name = "{path}"', 'name = "{stem}"'
        )
    )
    write_edf(src, "a b.edf", seed=1)
    write_edf(src, "x/s.edf", seed=2)
    ingest(str(manifest), src=src, out=out, config=FOLDER)
    first = {r.source: r.id for r in open_store(out)}
    write_edf(src, "a_b.edf", seed=3)
    write_edf(src, "y/s.edf", seed=4)
    rep = ingest(str(manifest), src=src, out=out, config=FOLDER)
    assert (rep.n_ingested, rep.n_current) == (2, 2), rep.failed
    store = open_store(out)
    sources = [r.source for r in store]
    assert sorted(sources) == sorted(set(sources)) == ["a b.edf", "a_b.edf", "x/s.edf", "y/s.edf"]
    now = {r.source: r.id for r in store}
    assert {k: now[k] for k in first} == first
    assert ingest(str(manifest), src=src, out=out, config=FOLDER).n_current == 4


def test_rewording_a_manifest_does_not_reingest(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "s.zarr"
    write_edf(src, "a.edf")
    manifest = tmp_path / "m.toml"
    text = (Path(__file__).parents[2] / "manifests" / "folder.toml").read_text()
    manifest.write_text(text)
    ingest(str(manifest), src=src, out=out, config=FOLDER)
    manifest.write_text(text.replace("Any folder of EEG files", "Any folder at all"))
    assert ingest(str(manifest), src=src, out=out, config=FOLDER).n_current == 1
    manifest.write_text(text.replace('on_unknown = "warn"', 'on_unknown = "ignore"'))
    assert ingest(str(manifest), src=src, out=out, config=FOLDER).n_ingested == 1


def test_a_changed_name_rule_keeps_the_listed_names_and_says_so(tmp_path: Path) -> None:
    """A manifest whose ``[path] name`` rule changed gives its listed sources other names; a
    source keeps the name it was listed under for good (no second copy of each under the new
    name), and every ingest says the new rule has no effect on them (it said nothing, and the
    recordings were ingested again under the old names). A source first listed now takes the
    new rule's name; a clash's ``~`` suffix is no change of rule."""
    src, out = tmp_path / "src", tmp_path / "s.zarr"
    for k, rel in enumerate(("a.edf", "b.edf", "sub/a.edf")):
        write_edf(src, rel, seed=k)
    manifest = tmp_path / "m.toml"
    text = (Path(__file__).parents[2] / "manifests" / "folder.toml").read_text()
    manifest.write_text(text.replace('name = "{path}"', 'name = "{stem}"'))
    first = ingest(str(manifest), src=src, out=out, config=FOLDER)
    assert first.n_ingested == 3 and not any("name" in k for k in first.warnings)
    manifest.write_text(text.replace('name = "{path}"', 'name = "x_{stem}"'))
    write_edf(src, "c.edf", seed=7)
    rep = ingest(str(manifest), src=src, out=out, config=FOLDER)
    assert (rep.n_ingested, rep.n_current) == (4, 0)  # (the manifest changed: all again)
    (line,) = rep.warnings[NAMES_KEPT]
    assert line.startswith("3 listed recordings keep their names")
    assert "folder/b (the rule gives x_b)" in line
    ids = set(open_store(out).index_rows())
    assert len(ids) == 4 and "folder/x_c" in ids and "folder/b" in ids
    assert validate(str(out))[1] == []


@pytest.mark.parametrize("target", ["../../evil", "data", "a/b", ".x", "time"])
def test_a_target_name_cannot_leave_or_replace_the_recording_s_arrays(
    tmp_path: Path, target: str
) -> None:
    from eegprep.testing.fixtures.misc import write_mobi

    src = write_mobi(tmp_path)
    manifest = tmp_path / "mobi.toml"
    text = (Path(__file__).parents[2] / "manifests" / "mobi.toml").read_text()
    assert 'name = "joints"' in text
    manifest.write_text(text.replace('name = "joints"', f"name = {target!r}"))
    out = tmp_path / "s.zarr"
    from eegprep.ingestion.driver import IngestConfig

    rep = ingest(str(manifest), src=src, out=out, config=IngestConfig(workers=0, progress=False))
    assert rep.n_ingested == 0 and rep.failed and all("target name" in f for f in rep.failed)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([src.name, "mobi.toml", "s.zarr"])


def test_control_characters_in_file_names_neither_hide_files_nor_break_output(
    tmp_path: Path,
) -> None:
    """A newline or a terminal escape in a file name: the file is ingested (or skipped) like
    any other, and every output line stays one line with the escape shown, not executed."""
    from click.testing import CliRunner

    from cli import eegprep_cli

    src, out = tmp_path / "src", tmp_path / "s.zarr"
    write_edf(src, "good\nline.edf", seed=1)
    (src / "bad\nname.edf").write_bytes(b"")
    (src / "bad\x1b[31mred.edf").write_bytes(b"x" * 300)
    args = ["ingest", "folder", "--src", str(src), "--out", str(out), "--mains", "60"]
    res = CliRunner().invoke(eegprep_cli, [*args, "--workers", "0"])
    assert res.exit_code == 3, res.output
    skipped = [line for line in res.output.splitlines() if line.startswith("skipped: ")]
    assert len(skipped) == 2 and all("\x1b" not in line for line in skipped)
    assert any("\\x1b[31mred.edf" in line for line in skipped)
    assert any(line.startswith("skipped: bad\\nname.edf: ") for line in skipped)  # exactly
    assert [r.source for r in open_store(out)] == ["good\nline.edf"]


def test_very_long_names_are_cut_and_one_refused_move_fails_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Names longer than 128 characters are cut and take their source's hash (a folder name
    must fit in 255 bytes); a recording the file system still refuses to move into place
    fails alone, the rest of the commit is listed."""
    import errno
    import os

    from eegprep.corpus.discover import MAX_NAME_LENGTH

    src, out = tmp_path / "src", tmp_path / "s.zarr"
    write_edf(src, "a" * 248 + " b.edf", seed=1)
    write_edf(src, "c" * 251 + ".edf", seed=2)
    write_edf(src, "short.edf", seed=3)
    rep = ingest_folder(src, out)
    assert (rep.n_ingested, rep.failed) == (3, [])
    names = sorted(r.name for r in open_store(out))
    assert all(len(n) <= MAX_NAME_LENGTH for n in names) and "short" in names
    assert len({n.split("~")[0] for n in names}) == 3
    real = os.replace

    def refuse(src_path: str, dst: str) -> None:  # a name the file system will not take
        if "recordings/folder/other" in str(dst):
            raise OSError(errno.ENAMETOOLONG, "File name too long", dst)
        real(src_path, dst)

    monkeypatch.setattr("eegprep.store.writer.os.replace", refuse)
    write_edf(src, "other.edf", seed=4)
    write_edf(src, "fine.edf", seed=5)
    rep = ingest_folder(src, out)
    assert rep.n_ingested == 1 and len(rep.failed) == 1 and "other.edf" in rep.failed[0]
    assert "File name too long" in rep.failed[0]
    assert sorted(r.source for r in open_store(out))[-2:] == ["fine.edf", "short.edf"]
    assert validate(str(out)) == (4, [])


def test_names_differing_only_in_case_never_share_a_folder(tmp_path: Path) -> None:
    """``A.edf`` then ``a.edf`` (and both at once): one folder on a case-insensitive file
    system, so the newcomer takes its hash; nothing listed is replaced."""
    src, out = tmp_path / "src", tmp_path / "s.zarr"
    write_edf(src, "x/Rec.edf", seed=1)
    ingest_folder(src, out)
    write_edf(src, "x/rec.edf", seed=2)
    write_edf(src, "y/REC.edf", seed=3)
    write_edf(src, "y/Rec2.edf", seed=4)
    write_edf(src, "y/rec2.edf", seed=5)
    assert ingest_folder(src, out).n_ingested == 4
    names = [r.name for r in open_store(out)]
    folded = [n.casefold() for n in names]
    assert len(set(folded)) == len(folded) == 5 and "x_Rec" in names


@pytest.mark.parametrize("link", ["recordings/folder", "_eegprep/staging", "recordings"])
def test_a_symbolic_link_in_the_store_cannot_take_a_write_outside(
    tmp_path: Path, link: str
) -> None:
    """A folder of the store replaced by a link to elsewhere (recordings/folder -> /elsewhere)
    was written through: new recordings landed outside the store, and validate passed. The
    writer now refuses before writing anything, and nothing outside changes."""
    src, out = tmp_path / "src", tmp_path / "s.zarr"
    write_edf(src, "a.edf")
    ingest_folder(src, out)
    elsewhere = tmp_path / "elsewhere"
    (out / link).rename(elsewhere)
    (out / link).symlink_to(elsewhere, target_is_directory=True)
    before = files_under(elsewhere)
    write_edf(src, "b.edf", seed=1)
    with pytest.raises(StoreFormatError, match="leads out of the store through a symbolic link"):
        ingest_folder(src, out)
    assert files_under(elsewhere) == before


def _not_utf8(path: Path, name: bytes) -> Path:
    """``path / name`` for a name whose bytes are not UTF-8 (as :func:`os.fsdecode` gives it)."""
    import os

    return path / os.fsdecode(name)


def test_names_that_are_not_utf8_are_skipped_and_every_output_stays_text(
    tmp_path: Path,
) -> None:
    """A file or folder name in Latin-1 is one ``skipped:`` line with its bytes as ``\\xNN``
    (the rest ingests); a store path that is not UTF-8 ingests, and its report, ``stats``
    (table, JSON, HTML) and ``validate`` hold valid UTF-8; such a ``--src`` is one error line."""
    from click.testing import CliRunner

    from cli import eegprep_cli

    src, runner = tmp_path / "src", CliRunner()
    write_edf(src, "good.edf")
    write_edf(tmp_path, "w1.edf").rename(_not_utf8(src, b"caf\xe9.edf"))
    _not_utf8(src, b"d\xe9").mkdir()
    write_edf(tmp_path, "w2.edf").rename(_not_utf8(src, b"d\xe9") / "a.edf")
    out = _not_utf8(tmp_path, b"s\xe9.zarr")
    args = ["ingest", "folder", "--src", str(src), "--out", str(out), "--mains", "60"]
    res = runner.invoke(eegprep_cli, [*args, "--workers", "0", "--json"])
    assert res.exit_code == 3, res.output
    report = json.loads(res.stdout.encode("utf-8"))
    assert report["n_ingested"] == 1 and report["store"].endswith("s\\xe9.zarr")
    assert [u.split(":")[0] for u in report["unmatched"]] == ["caf\\xe9.edf", "d\\xe9/a.edf"]
    assert [r.source for r in open_store(out)] == ["good.edf"]
    for path in (out / "_eegprep" / "reports").iterdir():
        json.loads(path.read_bytes().decode("utf-8"))


def test_a_store_path_that_is_not_utf8_is_shown_as_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``stats`` (table, JSON, HTML) and ``validate`` of a store whose path is not UTF-8 print
    and write valid UTF-8 (its bytes as ``\\xNN``); such a ``--src`` is one error line."""
    from click.testing import CliRunner

    from cli import eegprep_cli
    from eegprep.tools import report

    for figure in ("_hours", "coverage_head", "_histograms", "_spectra"):  # text only: fast
        monkeypatch.setattr(report, figure, lambda *a: "data:,")

    src, runner = tmp_path / "src", CliRunner()
    write_edf(src, "good.edf")
    out = _not_utf8(tmp_path, b"s\xe9.zarr")
    args = ["ingest", "folder", "--src", str(src), "--out", str(out), "--mains", "60"]
    assert runner.invoke(eegprep_cli, [*args, "--workers", "0"]).exit_code == 0
    html = tmp_path / "r.html"
    for cmd in (["stats", str(out), "--html", str(html)], ["stats", str(out), "--json"]):
        res = runner.invoke(eegprep_cli, cmd)
        assert res.exit_code == 0, res.output
        shown = json.loads(res.output)["store"] if "--json" in cmd else res.output
        assert "s\\xe9.zarr" in shown
    assert "s\\xe9.zarr" in html.read_bytes().decode("utf-8")
    assert runner.invoke(eegprep_cli, ["validate", str(out), "--json"]).exit_code == 0
    bad_src = _not_utf8(tmp_path, b"c\xe9")
    src.rename(bad_src)
    res = runner.invoke(eegprep_cli, [*args[:3], str(bad_src), *args[4:], "--workers", "0"])
    assert res.exit_code == 2 and "c\\xe9: the corpus folder's path is not UTF-8" in res.output


def test_what_a_glob_matches_that_is_no_file_is_named_not_dropped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A FIFO, a socket, a link to nothing and a link loop named ``*.edf`` were left out of the
    plan without a word (the report listed no reason); each is one ``skipped:`` line now, and
    the files beside them ingest."""
    import os
    import socket

    src = tmp_path / "src"
    write_edf(src, "good.edf")
    os.mkfifo(src / "fifo.edf")
    sock = socket.socket(socket.AF_UNIX)
    monkeypatch.chdir(src)  # a relative name: a socket's path may hold only ~100 bytes
    sock.bind("sock.edf")
    (src / "dangling.edf").symlink_to(tmp_path / "gone.edf")
    (src / "loop1.edf").symlink_to("loop2.edf")
    (src / "loop2.edf").symlink_to("loop1.edf")
    try:
        rep = ingest_folder(src, tmp_path / "s.zarr")
    finally:
        sock.close()
    assert rep.n_ingested == 1 and rep.n_files == 6 and rep.exit_code == 3
    why = {line.split(": ", 1)[0]: line.split(": ", 1)[1] for line in rep.unmatched}
    assert sorted(why) == ["dangling.edf", "fifo.edf", "loop1.edf", "loop2.edf", "sock.edf"]
    assert why["fifo.edf"].startswith("a FIFO, not a file")
    assert why["sock.edf"].startswith("a socket, not a file")
    assert why["dangling.edf"].startswith("a link that leads to no file")
