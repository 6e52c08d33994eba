"""Promise: a command that summarises many recordings goes on past a bad one.

``eegprep stats`` raised at the first recording whose index record was damaged: one bad record
hid the summary of all the others. It now tabulates the readable records, names each
unreadable one on a ``left out:`` line (capped), says so in its JSON, closes with their count
and what to run, and exits 3 (as an ingest that skipped files). ``eegprep validate`` already
went on and listed every problem.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import eegprep_cli
from eegprep import open_store
from eegprep.store.readable import split_readable
from tests.safety.corpus import ingest_folder, write_edf
from tests.safety.test_integrity import _chunk_spans, _flip, _shard
from tests.safety.test_record_copies import _damage_index_line

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # numcodecs' zarr3 codecs

GOOD, BAD, WORSE = "folder/a", "folder/b", "folder/c"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("many")
    for seed, name in enumerate(["a.edf", "b.edf", "c.edf"], start=1):
        write_edf(root / "src", name, seed=seed)
    ingest_folder(root / "src", root / "s.zarr")
    return root / "s.zarr"


@pytest.fixture
def damaged(store: Path, tmp_path: Path) -> Path:
    """The store with two of its three index records damaged: a ``split`` of 5 (no text)
    and ``n_samples`` negative (no count of samples)."""
    out = tmp_path / "s.zarr"
    shutil.copytree(store, out)
    _damage_index_line(out, BAD, lambda r: r.update(split=5))
    _damage_index_line(out, WORSE, lambda r: r.update(n_samples=-1))
    return out


def test_stats_tabulates_the_readable_records_and_names_the_others(damaged: Path) -> None:
    res = CliRunner().invoke(eegprep_cli, ["stats", str(damaged)])
    assert res.exit_code == 3, res.output
    table = res.stdout.splitlines()
    assert table[-1].split()[:2] == ["total", "1"]  # the sound record, tabulated
    left = [line for line in res.stderr.splitlines() if line.startswith("left out: ")]
    assert len(left) == 2 and BAD in left[0] and WORSE in left[1]
    closing = res.stderr.splitlines()[-1]
    assert closing.startswith("2 of 3 recordings left out")
    assert "eegprep validate" in closing and "--repair" in closing


def test_stats_json_says_which_were_left_out(damaged: Path, tmp_path: Path) -> None:
    page = tmp_path / "r.html"
    res = CliRunner().invoke(eegprep_cli, ["stats", str(damaged), "--json", "--html", str(page)])
    assert res.exit_code == 3, res.output
    doc = json.loads(res.stdout)
    assert doc["total"]["recordings"] == 1 and doc["total"]["left_out"] == 2
    assert [x["id"] for x in doc["left_out"]] == [BAD, WORSE]
    assert all("\n" not in x["problem"] for x in doc["left_out"])
    text = page.read_text()
    assert "Left out" in text and BAD in text and WORSE in text


def test_a_sound_store_prints_no_left_out_line_and_exits_0(store: Path) -> None:
    res = CliRunner().invoke(eegprep_cli, ["stats", str(store), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["left_out"] == [] and "left out" not in res.stderr


def test_the_left_out_lines_are_capped_and_the_rest_counted(
    damaged: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every command names left-out or skipped items under one cap, with one line counting the
    rest and ``-v`` naming them all (``stats`` named 20 and offered no ``-v``; ``skipped:``
    lines 100)."""
    import eegprep.cli_group

    readable = split_readable(open_store(damaged))
    assert list(readable.store.index_rows()) == [GOOD] and readable.n_listed == 3
    monkeypatch.setattr(eegprep.cli_group, "LINES_SHOWN", 1)
    res = CliRunner().invoke(eegprep_cli, ["stats", str(damaged)])
    left = [line for line in res.stderr.splitlines() if line.startswith("left out: ")]
    assert len(left) == 2 and BAD in left[0]
    assert left[1] == "left out: 1 more not shown (-v shows them all)"
    res = CliRunner().invoke(eegprep_cli, ["-v", "stats", str(damaged)])
    left = [line for line in res.stderr.splitlines() if line.startswith("left out: ")]
    assert len(left) == 2 and BAD in left[0] and WORSE in left[1]


def _unreadable_copy(store: Path, tmp_path: Path) -> Path:
    """A copy of ``store`` whose recording :data:`BAD` fails the CRC-32C of its first chunk."""
    out = tmp_path / "s.zarr"
    shutil.copytree(store, out)
    shard = _shard(out, BAD)
    offset, _ = _chunk_spans(shard.read_bytes())[0]
    shard.write_bytes(_flip(shard.read_bytes(), offset + 5, 3))
    return out


def test_the_spectra_leave_out_a_recording_whose_samples_cannot_be_read(
    store: Path, tmp_path: Path
) -> None:
    out = _unreadable_copy(store, tmp_path)
    plots = tmp_path / "plots"
    res = CliRunner().invoke(eegprep_cli, ["stats", str(out), "--plots", str(plots)])
    assert res.exit_code == 3, res.output
    total = [x.split()[:2] for x in res.stdout.splitlines() if x.startswith("total")]
    assert total == [["total", "3"]]  # the index is sound: every record tabulated
    unread = [x for x in res.stderr.splitlines() if x.startswith("left out of the spectrum: ")]
    assert len(unread) == 1 and BAD in unread[0] and "CRC-32C" in unread[0]
    assert (plots / "mean_spectrum.png").stat().st_size > 0
    closing = res.stderr.splitlines()[-1]
    assert closing.startswith("1 recording left out of the spectrum (samples unreadable): run")


def test_the_html_page_names_a_recording_left_out_of_the_spectra_once(
    store: Path, tmp_path: Path
) -> None:
    """With ``--plots`` and ``--html`` the spectra are computed twice, both passes adding the
    unreadable recording to one list: the page named it twice ("2 recording(s) could not be
    read") where the closing line, deduplicated, counted 1."""
    out = _unreadable_copy(store, tmp_path)
    page = tmp_path / "r.html"
    args = ["stats", str(out), "--plots", str(tmp_path / "plots"), "--html", str(page)]
    res = CliRunner().invoke(eegprep_cli, args)
    assert res.exit_code == 3, res.output
    text = page.read_text()
    assert "<p>1 recording could not be read and is left out" in text, text[text.find("Left out") :]
    assert text.count(f"recordings/{BAD}/") == 1
    assert res.stderr.splitlines()[-1].startswith("1 recording left out of the spectrum")


def test_plots_and_html_read_each_recordings_samples_once(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--plots`` and ``--html`` each computed the mean spectra, reading every sampled
    recording's first minute twice (a store on object storage paid for each read twice)."""
    from eegprep.store.reader import Store

    reads: list[str] = []
    real = Store.read

    def counted(self: Store, rid: str, *args: object, **kwargs: object) -> object:
        reads.append(rid)
        return real(self, rid, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Store, "read", counted)
    args = ["stats", str(store), "--plots", str(tmp_path / "p"), "--html", str(tmp_path / "r.html")]
    res = CliRunner().invoke(eegprep_cli, args)
    assert res.exit_code == 0, res.output
    assert sorted(reads) == [GOOD, BAD, WORSE]  # each once, and every one drawn
    assert "spectra" in (tmp_path / "r.html").read_text()
    assert (tmp_path / "p" / "mean_spectrum.png").stat().st_size > 0


def test_an_index_line_that_is_no_json_is_left_out_by_stats(store: Path, tmp_path: Path) -> None:
    """``open_store`` refuses a damaged index line (every reader does); ``stats`` opened the
    store so too, and one broken line hid every record."""
    out = tmp_path / "s.zarr"
    shutil.copytree(store, out)
    segment = next((out / "_eegprep" / "index").glob("*.jsonl"))
    lines = segment.read_bytes().split(b"\n")
    where = next(i for i, line in enumerate(lines) if f'"id":"{BAD}"'.encode() in line)
    lines[where] = lines[where].replace(b'"id":', b'"id"', 1)  # no JSON
    segment.write_bytes(b"\n".join(lines))
    res = CliRunner().invoke(eegprep_cli, ["stats", str(out), "--json"])
    assert res.exit_code == 3, res.output
    doc = json.loads(res.stdout)
    assert doc["total"]["recordings"] == 2 and doc["total"]["left_out"] == 1
    assert doc["left_out"][0]["id"] == f"_eegprep/index/{segment.name} line {where + 1}"
    assert "not valid JSON" in doc["left_out"][0]["problem"]


@pytest.mark.parametrize("cut", ["emptied", "cut at a line"])
def test_an_index_segment_cut_short_is_refused_not_counted_as_one_record(
    store: Path, tmp_path: Path, cut: str
) -> None:
    """A segment emptied or cut short loses every record it listed after the cut, and no line
    names them: ``stats`` counted it as one recording left out ("1 of 1", ``total.left_out``
    1) and tabulated a store of the rest as if that were all. It is refused, as every reader
    refuses it, naming the segment (a line that is no JSON is still left out, above)."""
    out = tmp_path / "s.zarr"
    shutil.copytree(store, out)
    segment = next((out / "_eegprep" / "index").glob("*.jsonl"))
    if cut == "emptied":
        segment.write_bytes(b"")
    else:  # (the base and its first record kept; its fields file says 3 records)
        segment.write_bytes(b"\n".join(segment.read_bytes().split(b"\n")[:2]) + b"\n")
    res = CliRunner().invoke(eegprep_cli, ["stats", str(out), "--json"])
    assert res.exit_code == 2 and not res.stdout, res.output
    assert "damaged index" in res.stderr and segment.name in res.stderr
    assert "left out" not in res.stderr


def test_validate_goes_on_and_lists_every_damaged_record(damaged: Path) -> None:
    res = CliRunner().invoke(eegprep_cli, ["validate", str(damaged)])
    assert res.exit_code == 1
    problems = [line for line in res.stderr.splitlines() if line.startswith("problem: ")]
    assert any(BAD in p for p in problems) and any(WORSE in p for p in problems)


def test_skipped_lines_are_capped_and_closed_by_a_count() -> None:
    """``labram predict`` over 50,000 bad files printed 50,000 lines and no count; ``report``
    over many run folders no count either."""
    import click

    from eegprep.cli_group import LINES_SHOWN, say_skipped

    @click.command()
    @click.option("-v", "verbose", is_flag=True)
    @click.pass_context
    def many(ctx: click.Context, verbose: bool) -> None:
        ctx.meta["verbose"] = verbose  # (as the groups' -v sets it)
        say_skipped([f"f{k}.edf: bad" for k in range(LINES_SHOWN + 5)], total=200,
                    noun="file", then="fix them")  # fmt: skip

    lines = CliRunner().invoke(many, []).stderr.splitlines()
    assert len(lines) == LINES_SHOWN + 2
    assert lines[-2] == "skipped: 5 more not shown (-v shows them all)"
    assert lines[-1] == "105 of 200 files skipped, the others done: fix them"
    assert len(CliRunner().invoke(many, ["-v"]).stderr.splitlines()) == LINES_SHOWN + 6
