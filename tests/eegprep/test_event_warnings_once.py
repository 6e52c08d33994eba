"""Each event past a recording's end is said once, by the one rule of events
(:mod:`eegprep.ingestion.events`), not again by the sidecar parser that read it: the TUH
label parsers, Siena's seizure list, the SEED trial tables and fixed events each added their own
"ends after the recording" line (one recording, two lines saying the same thing in other
words). A SEED trial table whose end is before its start names the manifest's table, not the
file."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from eegprep import open_store
from eegprep.ingestion.driver import IngestConfig, IngestReport, ingest
from eegprep.testing.fixtures import write_fixture

CONFIG = IngestConfig(workers=0, progress=False)
CUT = "cut at the recording's ends"


def _append(glob: str, text: str) -> Callable[[Path], None]:
    """An edit of a fixture: ``text`` appended to the first file matching ``glob``."""

    def edit(src: Path) -> None:
        path = sorted(src.glob(glob))[0]
        with path.open("a", encoding="utf-8") as fh:
            fh.write(text)

    return edit


def _siena_late(src: Path) -> None:
    """PN00-1's seizure (5 s into its 20 s) now ends at 25 s."""
    path = src / "PN00" / "Seizures-list-PN00.txt"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("Seizure end time: 19.39.45", "Seizure end time: 19.39.58"))


def _run(corpus: str, tmp: Path, edit: Callable[[Path], None] | None) -> IngestReport:
    src = write_fixture(corpus, tmp / "src")
    if edit is not None:
        edit(src)
    return ingest(corpus, src=src, out=tmp / "s.zarr", config=CONFIG)


@pytest.mark.parametrize(
    ("corpus", "edit", "source", "label"),
    [
        ("tuar", _append("**/*_t000.csv", "FP1-F7,9.0,12.0,eyem,1.0\n"),
         "edf/01_tcp_ar/aaaaaaaf_s001_t000.edf", "'eyem' at 9 s"),
        ("tuev", _append("**/bckg_000_a_.rec", "3,9.0,12.0,6\n"),
         "edf/eval/000/bckg_000_a_.edf", "'bckg' at 9 s"),
        ("siena", _siena_late, "PN00/PN00-1.edf", "'seizure' at 5 s"),
    ],
)  # fmt: skip
def test_an_event_past_the_end_is_one_warning_line(
    tmp_path: Path, corpus: str, edit: Callable[[Path], None], source: str, label: str
) -> None:
    # was: two lines, the parser's "1 event(s) end after the recording's 10.00 s" (or Siena's
    # "seizure at 5 s ends after the recording's 20 s") and the rule's "cut" line
    report = _run(corpus, tmp_path, edit)
    assert report.failed == []
    (line,) = report.warnings[source]
    assert re.fullmatch(rf"1 event outside the stored 0-\d+ s {CUT}: {label}", line), line


@pytest.mark.parametrize(
    ("corpus", "source", "cut", "dropped"),
    [
        ("seed_v", "EEG_raw/1_1_20180804.cnt", "'emotion/4' at 30 s",
         "'emotion/1' at 132 s, 'emotion/3' at 287 s, 'emotion/2' at 555 s and 11 more"),
        ("trujillo_rest", "EEG_Cat_Study4_Resting_S1.bdf", "'eyes_closed' at 0 s",
         "'eyes_open' at 240 s"),
    ],
)  # fmt: skip
def test_manifest_trials_past_the_end_are_one_line_per_change(
    tmp_path: Path, corpus: str, source: str, cut: str, dropped: str
) -> None:
    # the fixtures' recordings (31 s, 6 s) are shorter than the manifests' trials; was: the
    # parser's "trial 1 ends at 102 s ...: clipped" and "trials 2, ..., 15 start after ...:
    # dropped" (trujillo: "runs past the end", "is after the end: dropped") beside the rule's
    report = _run(corpus, tmp_path, None)
    assert report.failed == []
    dropped_line, cut_line = report.warnings[source]  # the rule says drops first
    assert re.fullmatch(rf"1 event outside the stored 0-\d+ s {CUT}: {cut}", cut_line)
    n = dropped.count(" at ") + (11 if "more" in dropped else 0)
    assert re.fullmatch(rf"{n} events? outside the stored 0-\d+ s dropped: {dropped}",
                        dropped_line), dropped_line  # fmt: skip


def _seed_v_with(tmp: Path, trial3_end: str) -> Path:
    """A copy of the seed_v manifest whose session-2 trial 3 (548-614 s) ends at
    ``trial3_end`` instead."""
    text = (Path(__file__).parents[2] / "manifests" / "seed_v.toml").read_text(encoding="utf-8")
    old = "2 = [267, 488, 614,"
    assert old in text
    path = tmp / "seed_v.toml"
    path.write_text(text.replace(old, f"2 = [267, 488, {trial3_end},"), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("end", "problem"),
    [
        ("500", "trial 3 ends at 500 s before it starts at 548 s, as the manifest's table "
         'ends."2" and table starts."2" give it (value 3 of each): fix trial 3\'s end or start '
         "in the manifest's [sidecar.options]; the recording itself is not at fault"),
        ('"soon"', "trial 3's bound 'soon' in the manifest's table ends.\"2\" is not a finite "
         "number of seconds: fix value 3 of that list in [sidecar.options]"),
    ],
)  # fmt: skip
def test_a_bad_trial_bound_names_the_manifest_table(tmp_path: Path, end: str, problem: str) -> None:
    # was: "event 'emotion/3' at 548.0 s: its duration -48 s is negative ...: fix the event in
    # the file or its label file" (a NaN: "events[2][1] is nan"), though the times are the
    # manifest's
    src = write_fixture("seed_v", tmp_path / "src")
    manifest = _seed_v_with(tmp_path, end)
    report = ingest(manifest, src=src, out=tmp_path / "s.zarr", config=CONFIG)
    assert report.failed == [f"EEG_raw/1_2_20180814.cnt: {problem}"]
    # the session-1 recording, whose table is right, went on
    assert [r.name for r in open_store(tmp_path / "s.zarr").recordings] == ["1_1_20180804"]


def test_a_trial_bound_nan_refuses_the_manifest_when_it_loads(tmp_path: Path) -> None:
    # was: loaded, then each recording of that table refused in its own line (a NaN is no
    # number of seconds any sidecar option takes)
    from eegprep.corpus.manifest import ManifestError, load_manifest

    path = _seed_v_with(tmp_path, "nan")
    with pytest.raises(ManifestError, match=r"sidecar\.options\.ends\.2\[2\] is nan, not a finite"):
        load_manifest(path)
