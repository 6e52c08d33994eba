"""Names we did not choose (file, folder, store, channel names) cannot colour, move, overwrite
or reorder the terminal: every line the commands print, and every log line, shows control and
invisible format characters as escapes."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from cli import eegprep_cli
from eegprep.cli_group import _ShownFormatter, one_line, shown
from eegprep.pipeline.recipe import Recipe
from eegprep.store.writer import StoreWriter
from tests.labram.training_stores import put
from tests.safety.corpus import write_edf

REPO = Path(__file__).resolve().parents[2]
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")
HOSTILE = "s\x1b[2J\x1b]0;title\x07\r\u202efdz.\u200b\x08zarr"


def test_every_command_prints_through_say() -> None:
    """The class, not the example: no command module prints past :func:`say`."""
    modules = [REPO / "cli.py", *sorted((REPO / "labram").rglob("*.py"))]
    modules += [p for p in sorted((REPO / "eegprep").rglob("*.py")) if p.name != "cli_group.py"]
    offenders = [
        f"{p.relative_to(REPO)}:{n}"
        for p in modules
        for n, line in enumerate(p.read_text().splitlines(), 1)
        if re.search(r"\bclick\.(echo|secho)\(|(?<![\w.])print\(", line)
    ]
    assert offenders == []


def test_shown_keeps_lines_and_tabs_and_escapes_the_rest() -> None:
    assert shown("a\tb\nc") == "a\tb\nc"
    out = shown(HOSTILE)
    assert RAW.search(out) is None
    assert "\\x1b[2J" in out and "\\r" in out and "\\u202e" in out and "\\u200b" in out


def test_ingest_and_stats_lines_escape_a_hostile_store_name(tmp_path: Path) -> None:
    src = tmp_path / "src"
    write_edf(src, "r.edf")
    out = tmp_path / HOSTILE
    out.mkdir()  # (such a new name is refused; the user's own folder is taken: cli_paths.py)
    runner = CliRunner()
    args = ["ingest", "folder", "--src", str(src), "--out", str(out), "--mains", "60"]
    res = runner.invoke(eegprep_cli, [*args, "--workers", "0"])
    assert res.exit_code == 0, res.output
    assert "1 ingested" in res.output and RAW.search(res.output) is None
    assert "\\x1b[2J" in res.output
    for cmd in (["stats", str(out)], ["validate", str(out)]):
        res = runner.invoke(eegprep_cli, cmd)
        assert res.exit_code == 0, res.output
        assert RAW.search(res.output) is None


def test_log_lines_are_escaped() -> None:
    fmt = _ShownFormatter("%(levelname)s %(name)s: %(message)s")
    rec = logging.LogRecord("eegprep", logging.WARNING, __file__, 1, "%s: odd", (HOSTILE,), None)
    line = fmt.format(rec)
    assert line.startswith("WARNING eegprep: s\\x1b[2J") and RAW.search(line) is None


def _label_manifest(tmp_path: Path) -> Path:
    """The ``folder`` manifest, with each file's folder as its label ``cls`` and its split."""
    text = (REPO / "manifests" / "folder.toml").read_text()
    text = text.replace('name = "folder"', 'name = "lab"', 1)
    text = text.replace(
        "pattern = '''^(?P<path>", "split = \"{cls}\"\npattern = '''^(?P<cls>[^/]+)/(?P<path>"
    )
    text = text.replace("[channels]", '[labels]\ncls = { from = "cls" }\n\n[channels]')
    manifest = tmp_path / "lab.toml"
    manifest.write_text(text)
    return manifest


def test_a_newline_in_a_name_never_makes_a_line_of_its_own(tmp_path: Path) -> None:
    """A store path, a label (a folder name) and a plot folder holding a newline: every
    command prints each of its lines whole, the newline shown as ``\\n``, never a line that
    starts with what followed it. The ingest refuses the label (eegprep.base.field_text) in
    one line; a store an earlier version wrote with it shows it escaped."""
    src = tmp_path / "src"
    write_edf(src, "x\nforged: a/r.edf")
    write_edf(src, "ok/r.edf")
    out, plots = tmp_path / "s\nforged: b.zarr", tmp_path / "p\nforged: c"
    old = tmp_path / "old\nforged: d.zarr"
    with StoreWriter(str(old), Recipe(encoding="float32")) as w:  # as an earlier version
        put(w, "lab/r", np.zeros((2, 400), np.float32), ["FP1", "FP2"],
            labels={"cls": "x\nforged: a"}, split="x\nforged: a")  # fmt: skip
    out.mkdir()  # (new names holding a newline are refused; the user's own folders are taken)
    plots.mkdir()
    runner = CliRunner()
    ingest = ["ingest", str(_label_manifest(tmp_path)), "--src", str(src), "--out", str(out)]
    runs = [runner.invoke(eegprep_cli, [*ingest, "--mains", "60", "--workers", "0"])]
    assert runs[0].exit_code == 3 and "subject 'x\\nforged: a' holds" in runs[0].output
    runs.append(runner.invoke(eegprep_cli, ["stats", str(old), "--plots", str(plots)]))
    runs.append(runner.invoke(eegprep_cli, ["validate", str(out), "--json"]))
    for res in runs:
        assert res.exit_code in (0, 3), res.output
        assert "forged" in res.output
        assert not any(line.startswith("forged") for line in res.output.splitlines())
    assert runs[1].exit_code == runs[2].exit_code == 0
    assert 'label cls: "x\\nforged: a": 1' in runs[1].output


def test_log_messages_stay_one_line() -> None:
    fmt = _ShownFormatter("%(levelname)s %(name)s: %(message)s")
    rec = logging.LogRecord("eegprep", logging.WARNING, __file__, 1, "%s: odd", ("a\nb",), None)
    assert fmt.format(rec) == "WARNING eegprep: a\\nb: odd"


def test_a_bidi_override_in_a_failed_file_name_is_escaped_in_the_report_and_page(
    tmp_path: Path,
) -> None:
    """The failed-file lines of an ingest report (its JSON, the ``stats --html`` page) named a
    file with the escapes of control characters but its bidi override (U+202E) raw, so the
    page showed ``bad\\u202efdz.edf`` as ``badfde.zdf`` reversed: now escaped as the terminal
    escapes it."""
    from eegprep import open_store
    from eegprep.tools.report import write_html_report
    from tests.safety.corpus import ingest_folder

    src = tmp_path / "src"
    write_edf(src, "lab/ok.edf")
    (src / "lab" / "bad\u202efdz.edf").write_bytes(b"0       not an EDF header")
    report = ingest_folder(src, tmp_path / "s.zarr")
    (line,) = report.failed
    assert line.startswith("lab/bad\\u202efdz.edf: ") and not RAW.search(line), line
    store = open_store(tmp_path / "s.zarr")
    assert store.reports()[-1]["failed"] == [line]  # the report JSON as the terminal's line
    page = write_html_report(store, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "lab/bad\\u202efdz.edf: " in page and not RAW.search(page)
    # an earlier ingest's report holds the override raw: the page escapes it all the same
    from types import SimpleNamespace

    from eegprep.tools import report as page_of

    earlier = SimpleNamespace(reports=lambda: [{"failed": ["lab/bad\u202efdz.edf: damaged"]}])
    assert "<code>lab/bad\\u202efdz.edf: damaged</code>" in page_of._failures(earlier)  # type: ignore[arg-type]


def test_the_stats_page_escapes_a_store_path_and_labels_as_the_terminal_does(
    tmp_path: Path,
) -> None:
    """``eegprep stats --html`` wrote the store's path, the corpus table's label names and
    values and the joins cell HTML-escaped alone: an ESC or a bidi override (U+202E) in a path,
    or in the labels of a store an earlier version wrote, reached the page raw, and showed
    what followed it reversed. Every text of the page is now shown as the terminal shows it."""
    from eegprep import open_store
    from eegprep.tools.report import write_html_report

    old = tmp_path / "old\u202efdz\x1b[2J.zarr"
    with StoreWriter(str(old), Recipe(encoding="float32")) as w:  # as an earlier version
        put(w, "lab/r", np.zeros((2, 400), np.float32), ["FP1", "FP2"],
            labels={"c\u202els": "x\u202eforged <b>", "k\x1b[2J": 1})  # fmt: skip
    page = write_html_report(open_store(old), tmp_path / "r.html").read_text(encoding="utf-8")
    assert RAW.search(page) is None
    assert "old\\u202efdz\\x1b[2J.zarr" in page
    assert "c\\u202els: x\\u202eforged &lt;b&gt; 1" in page and "k\\x1b[2J: 1 1" in page


FORGING = {"cls": "a: 5, b", "k: x": "y 7; z", "blank": ""}
"""Label names and values holding the separators of the labels list (``: ``, ``, ``, ``; ``)
or nothing: shown bare they read as other labels and counts (``cls: a: 5, b: 1`` as ``a`` 5
times and ``b`` once)."""


def test_a_label_holding_the_list_separators_is_shown_quoted(tmp_path: Path) -> None:
    """``eegprep stats`` (its table and ``--html``) listed label values as ``value: count``
    joined by ``, ``: a value ``a: 5, b`` (a folder name, a sidecar's text) read as two values
    and a count nobody counted. A name or value holding a separator, a quote or nothing is now
    shown quoted; ``--json`` holds them as they are."""
    from eegprep import open_store
    from eegprep.tools.report import write_html_report

    store = tmp_path / "s.zarr"
    with StoreWriter(str(store), Recipe(encoding="float32")) as w:
        put(w, "lab/r", np.zeros((2, 400), np.float32), ["FP1", "FP2"], labels=FORGING)
    res = CliRunner().invoke(eegprep_cli, ["stats", str(store)])
    assert res.exit_code == 0, res.output
    assert '  label cls: "a: 5, b": 1' in res.output
    assert '  label "k: x": "y 7; z": 1' in res.output
    assert '  label blank: "": 1' in res.output
    page = write_html_report(open_store(store), tmp_path / "r.html").read_text(encoding="utf-8")
    assert "cls: &quot;a: 5, b&quot; 1" in page and "&quot;k: x&quot;: &quot;y 7; z&quot; 1" in page


def test_validate_names_another_programs_attribute_keys_in_short_quoted_form(
    tmp_path: Path,
) -> None:
    """``eegprep validate``'s ``note:`` line listed the attribute keys another program added to
    a ``zarr.json`` as they were, joined by ``, ``: a key ``a, b`` read as two keys, and one of
    100,000 characters made a line of 100 kB. Each key is now cut to 80 characters and listed
    by the rule of every list a line shows (a separator in it: quoted)."""
    import zarr

    store = tmp_path / "s.zarr"
    with StoreWriter(str(store), Recipe(encoding="float32")) as w:
        put(w, "lab/r", np.zeros((2, 400), np.float32), ["FP1", "FP2"])
    root = zarr.open_group(str(store), mode="r+")
    root.attrs["a, b"] = 1
    root.attrs["K" * 100_000] = 2
    res = CliRunner().invoke(eegprep_cli, ["validate", str(store)])
    (note,) = [line for line in res.output.splitlines() if line.startswith("note: zarr.json")]
    assert note.startswith(f'note: zarr.json: attributes {"K" * 77}..., "a, b" added by')
    assert len(note) < 300


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("/data/my  eeg: does not exist", "/data/my  eeg: does not exist"),  # two spaces kept
        ("marker 'S  1' unknown", "marker 'S  1' unknown"),
        ("a\tb", "a\\tb"),  # a tab is a control character: its escape, not a space
        ("first line\n    indented continuation\n", "first line indented continuation"),
        ("one\r\ntwo\u2028three", "one two three"),
        ("  padded  ", "padded"),
    ],
)
def test_an_error_line_keeps_the_spaces_inside_it(text: str, line: str) -> None:
    """The one-line form of a message folds its line breaks (and their indent) into one space,
    never a run of spaces inside the line: '/data/my  eeg' was printed as '/data/my eeg',
    another folder."""
    assert one_line(text) == line
