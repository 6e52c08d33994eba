"""Names we did not choose (file, folder, store, channel names) cannot colour, move, overwrite
or reorder the terminal: every line the commands print, and every log line, shows control and
invisible format characters as escapes."""

from __future__ import annotations

import logging
import re
from pathlib import Path

from click.testing import CliRunner

from cli import eegprep_cli
from eegprep.cli_group import _ShownFormatter, shown
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
