"""The record text rule (eegprep.base.field_text) through real corpus layouts: a subject,
session, subject key or label from a file name or a sidecar is NFC-normalised and stripped, or
refused in one line naming the file and the field, while the rest of the corpus ingests; and
the text an earlier version stored without the rule is shown escaped."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from cli import eegprep_cli
from eegprep import open_store
from eegprep.base.errors import ManifestError
from eegprep.base.field_text import MAX_CHARS, clean_text, text_problem
from eegprep.corpus.manifest import MANIFEST_DIR, load_manifest
from eegprep.corpus.sidecars import SIDECAR_PARSERS, SidecarResult
from eegprep.ingestion.driver import IngestConfig, ingest
from eegprep.pipeline.recipe import Recipe
from eegprep.store.writer import StoreWriter
from eegprep.tools.stats import store_stats
from tests.conftest import write_tuh_edf
from tests.labram.training_stores import put
from tests.machine_paths import shown

SERIAL = IngestConfig(workers=0, progress=False, mains=60)
TAIL = "a record's text is one line of at most 255 printable characters"


def _manifest(tmp_path: Path, extra: str) -> Path:
    """The shipped ``folder`` manifest (subject: the file's folder) with ``extra`` lines."""
    text = (MANIFEST_DIR / "folder.toml").read_text()
    text = text.replace('subject = "{parent}"\n', 'subject = "{parent}"\n' + extra)
    path = tmp_path / "lab.toml"
    path.write_text(text)
    return path


def _edfs(root: Path, folders: list[str]) -> None:
    for i, folder in enumerate(folders):
        write_tuh_edf(root / folder / f"r{i}.edf", sfreq=250, seconds=4, seed=i)


def test_hostile_subjects_are_one_line_each_and_spellings_of_one_subject_are_one(
    tmp_path: Path,
) -> None:
    hostile = {
        "a\nb": "subject 'a\\nb' holds the control character U+000A at 2",
        "a\x1b[31mb": "subject 'a\\x1b[31mb' holds the control character U+001B at 2",
        "a\u202eb": "subject 'a\\u202eb' holds the invisible format character U+202E at 2",
        "a\u200bb": "subject 'a\\u200bb' holds the invisible format character U+200B at 2",
    }
    good = ["aaaaaaac", "1_20131027", " S01 ", "S01", "s01", "e\u0301x", "\u00e9x"]
    root = tmp_path / "src"
    _edfs(root, [*good, *hostile])
    path = _manifest(tmp_path, 'subject_key = "lab:{parent}"\n')
    rep = ingest(path, src=root, out=tmp_path / "s.zarr", config=SERIAL)
    assert rep.n_ingested == len(good), rep.failed
    assert len(rep.failed) == len(hostile)
    for line in rep.failed:
        assert "\n" not in line and TAIL in line, line
    for why in hostile.values():
        assert sum(why in line for line in rep.failed) == 1, (why, rep.failed)
    store = open_store(tmp_path / "s.zarr")
    subjects = sorted(r.subject for r in store.recordings)
    # the real ids unchanged; " S01 " is S01, NFD e-acute one subject with NFC; case kept
    assert subjects == sorted(["1_20131027", "S01", "S01", "aaaaaaac", "s01", "\u00e9x", "\u00e9x"])
    assert {r.subject_key for r in store.recordings} == {f"lab:{s}" for s in subjects}
    assert store_stats(store)["corpora"]["folder"]["subjects"] == 5


def test_a_subject_key_over_the_length_is_refused_naming_the_file(tmp_path: Path) -> None:
    root = tmp_path / "src"
    deep = "/".join(["d" * 200, "e" * 100])  # two folders: {dir} is 301 characters
    _edfs(root, ["ok", deep])
    rep = ingest(
        _manifest(tmp_path, 'subject_key = "lab:{dir}"\n'),
        src=root,
        out=tmp_path / "s.zarr",
        config=SERIAL,
    )
    assert rep.n_ingested == 1
    (line,) = rep.failed
    assert line.startswith(f"{shown(deep + '/r1.edf')}: subject_key 'lab:ddd")  # (its ends)
    assert f"is {len('lab:' + deep)} characters long, over the {MAX_CHARS}" in line


def _label_lines(paths: list[str], header: object, options: dict[str, Any]) -> SidecarResult:
    """A sidecar of one label per file, read as a careless parser would (bytes that are not
    UTF-8 kept as lone surrogates); a line ``list:`` gives a list label."""
    text = Path(paths[0]).read_bytes().decode("utf-8", "surrogateescape")
    if text.startswith("list:"):
        return SidecarResult(labels={"trials": text[5:].split(",")})
    return SidecarResult(labels={" condition ": text})


def test_sidecar_labels_are_cleaned_or_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(SIDECAR_PARSERS, "label_lines", _label_lines)
    root = tmp_path / "src"
    _edfs(root, ["s1", "s2", "s3", "s4", "s5"])
    sidecars = {
        "s1/r0": b"  left\r\n",
        "s2/r1": b"l\xffeft",
        "s3/r2": b"x" * 300,
        "s4/r3": b"list:a,b\x00",
        "s5/r4": b"list:a,b",
    }
    for stem, data in sidecars.items():
        (root / f"{stem}.txt").write_bytes(data)
    extra = '\n[sidecar]\nparser = "label_lines"\nsuffixes = [".txt"]\n'
    path = _manifest(tmp_path, "")
    path.write_text(path.read_text() + extra)
    rep = ingest(path, src=root, out=tmp_path / "s.zarr", config=SERIAL)
    assert rep.n_ingested == 2, rep.failed
    lines = sorted(rep.failed)
    assert lines[0].startswith("s2/r1.edf: label condition 'l\\udcffeft' holds a lone surrogate")
    assert lines[1].startswith("s3/r2.edf: label condition 'xxx")
    assert "is 300 characters long" in lines[1]
    assert lines[2].startswith("s4/r3.edf: label trials[1] 'b\\x00' holds the control character")
    labels = {r.subject: r.labels for r in open_store(tmp_path / "s.zarr").recordings}
    assert labels == {"s1": {"condition": "left"}, "s5": {"trials": ["a", "b"]}}


def test_a_label_map_finds_the_nfd_or_spaced_spelling_of_its_key(tmp_path: Path) -> None:
    """A folder named ``é`` in NFD (as macOS names it) or ``" left"`` was "not in" a map of
    ``é`` and ``left``: the file refused."""
    root = tmp_path / "src"
    _edfs(root, ["e\u0301t\u00e9", " left"])
    rule = '\n[labels.mood]\nfrom = "parent"\nmap = { "\u00e9t\u00e9" = 1, left = 2 }\n'
    path = _manifest(tmp_path, "")
    path.write_text(path.read_text() + rule)
    rep = ingest(path, src=root, out=tmp_path / "s.zarr", config=SERIAL)
    assert rep.n_ingested == 2, rep.failed
    got = {r.subject: r.labels for r in open_store(tmp_path / "s.zarr").recordings}
    assert got == {"\u00e9t\u00e9": {"mood": 1}, "left": {"mood": 2}}


@pytest.mark.parametrize("value", [2**70, -(2**64)])
def test_a_manifest_label_beyond_int64_is_refused_when_loaded(tmp_path: Path, value: int) -> None:
    path = _manifest(tmp_path, "")
    rule = f'\n[labels.size]\nfrom = "parent"\nmap = {{ big = {value}, small = 1 }}\n'
    path.write_text(path.read_text() + rule)
    with pytest.raises(ManifestError, match=rf"labels\.size\.map\.big is {value}, which a store"):
        load_manifest(path)


def test_the_rule_keeps_real_ids_and_joiners() -> None:
    for real in ("aaaaaaac", "1_20131027", "S001", "PN00", "chb01", "sub-01", "ses 1"):
        assert clean_text(real) == real and text_problem(real) is None
    assert text_problem("\u0645\u06cc\u200c\u062e\u0648\u0627\u0645") is None  # Persian ZWNJ
    assert text_problem("a\u00a0b") is None  # a no-break space inside: shown as it is
    assert text_problem("x" * MAX_CHARS) is None
    assert clean_text("\u3000S01\t") == "S01"


def test_text_an_earlier_version_stored_is_shown_escaped(tmp_path: Path) -> None:
    url = tmp_path / "old.zarr"
    x = np.zeros((2, 400), np.float32)
    hostile = "<b>a\x1b[31m\u202eb"
    with StoreWriter(str(url), Recipe(encoding="float32")) as w:
        put(w, "lab/a", x, ["FP1", "FP2"], subject=hostile, labels={"cond": hostile})
    (rec,) = open_store(url).recordings  # such a record still opens
    assert rec.subject == hostile
    runner = CliRunner()
    res = runner.invoke(eegprep_cli, ["stats", str(url)])
    assert res.exit_code == 0, res.output
    assert "\x1b" not in res.output and "\u202e" not in res.output
    assert "<b>a\\x1b[31m\\u202eb" in res.output
    res = runner.invoke(eegprep_cli, ["stats", str(url), "--json"])
    assert json.loads(res.output)["corpora"]["lab"]["labels"]["cond"] == {hostile: 1}
    page = tmp_path / "r.html"
    res = runner.invoke(eegprep_cli, ["stats", str(url), "--html", str(page)])
    assert res.exit_code == 0, res.output
    assert "<b>a" not in page.read_text() and "&lt;b&gt;a" in page.read_text()


def test_a_sidecar_option_beyond_int64_is_refused_when_the_manifest_loads(tmp_path: Path) -> None:
    # was: loaded, then every file refused ("sidecar field labels.level[1] is 1180591620717...")
    path = _manifest(tmp_path, "")
    table = '\n[sidecar]\nparser = "trial_labels"\nalways = true\n'
    table += f'options = {{ name = "level", labels = {{ a = [1, {2**70}] }} }}\n'
    path.write_text(path.read_text() + table)
    with pytest.raises(ManifestError) as err:
        load_manifest(path)
    assert str(err.value) == (
        f"{path}: sidecar.options.labels.a[1] is {2**70}, an integer beyond int64 (-2**63 to "
        "2**63-1), which no sidecar option takes and a store cannot hold: fix the manifest"
    )
    path.write_text(path.read_text().replace(str(2**70), str(2**63 - 1)))
    assert load_manifest(path).sidecar_options[0] == ("labels", {"a": [1, 2**63 - 1]})


@pytest.mark.parametrize(
    ("option", "at", "shown"),
    [
        ('name = "level", labels = { a = [1, nan] }', "labels.a[1]", "nan"),
        ('name = "level", labels = [1, 2], starts = [0, -inf]', "starts[1]", "-inf"),
        ("duration = inf", "duration", "inf"),
    ],
)
def test_a_sidecar_option_not_finite_is_refused_when_the_manifest_loads(
    tmp_path: Path, option: str, at: str, shown: str
) -> None:
    # was: loaded, then each file refused (a trial label NaN) or an event of infinite length
    path = _manifest(tmp_path, "")
    table = f'\n[sidecar]\nparser = "trial_labels"\nalways = true\noptions = {{ {option} }}\n'
    path.write_text(path.read_text() + table)
    with pytest.raises(ManifestError) as err:
        load_manifest(path)
    assert str(err.value) == (
        f"{path}: sidecar.options.{at} is {shown}, not a finite number, which no sidecar option "
        "takes (its times, durations and scales are finite) and a store cannot hold: write a "
        "finite number, or leave the option out"
    )
    path.write_text(path.read_text().replace(shown, "2.5"))
    assert load_manifest(path).sidecar_parser == "trial_labels"
