"""TUH family (TUAB, TUEV, TUSZ, TUAR, TUEP, TUSL), Siena and EEGMMIDB: manifests, sidecar
parsers and layout-true fixtures, ingested end to end."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from eegprep import open_store
from eegprep.base.errors import ManifestError, SourceError
from eegprep.corpus.manifest import load_manifest, parse_manifest
from eegprep.corpus.sidecars import load_parsers
from eegprep.corpus.sidecars.physionet import read_seizure_list
from eegprep.corpus.sidecars.tuh import read_tuh_csv
from eegprep.ingestion.driver import IngestConfig, IngestReport, ingest
from eegprep.pipeline.channels import VOCABULARY
from eegprep.readers.base import Header
from eegprep.store.recording import Recording
from eegprep.testing.fixtures import write_fixture

SERIAL = IngestConfig(workers=0, progress=False)
CORPORA = ("tuab", "tuev", "tusz", "tuar", "tuep", "tusl", "siena", "eegmmidb")
LABRAM_23 = (
    *("FP1", "FP2", "F3", "F4", "C3", "C4", "P3", "P4", "O1", "O2", "F7", "F8"),
    *("T3", "T4", "T5", "T6", "A1", "A2", "FZ", "CZ", "PZ", "T1", "T2"),
)

Ingested = tuple[IngestReport, dict[str, Recording]]


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Ingested]:
    """Every corpus's fixture, ingested serially once for the module."""
    out: dict[str, Ingested] = {}
    for name in CORPORA:
        tmp = tmp_path_factory.mktemp(name)
        root = write_fixture(name, tmp / "src")
        rep = ingest(name, src=root, out=tmp / "s.zarr", config=SERIAL)
        out[name] = rep, {r.id: r for r in open_store(tmp / "s.zarr").recordings}
    return out


def _events(rec: Recording) -> list[list[Any]]:
    return [e.to_list() for e in rec.events]


def _check_channels(rec: Recording, expected: tuple[str, ...] | None = None) -> None:
    assert rec.channel_index == tuple(VOCABULARY.index(n) for n in rec.channels)
    if expected is not None:
        assert rec.channels == expected


@pytest.mark.parametrize("name", CORPORA)
def test_manifest_validates_and_fixture_ingests_cleanly(
    name: str, stores: dict[str, Ingested]
) -> None:
    m = load_manifest(name)
    assert m.name == name and m.quirks and m.title and m.include
    assert m.subject_key.startswith("tuh:" if name.startswith("tu") else f"{name}:")
    rep, recs = stores[name]
    assert rep.failed == [] and rep.unmatched == [] and rep.warnings == {}
    assert rep.n_ingested == rep.n_files == len(recs) >= 2
    for rec in recs.values():
        _check_channels(rec)
        assert rec.sfreq == 200 and rec.n_samples % 200 == 0


def test_tuab_split_label_subject_and_labram_channels(stores: dict[str, Ingested]) -> None:
    _, recs = stores["tuab"]
    got = {
        r.id.split("/")[1]: (r.split, r.labels["abnormal"], r.subject, r.session)
        for r in recs.values()
    }
    assert got == {
        "aaaaaaaa_s001_t000": ("train", 0, "aaaaaaaa", "s001"),
        "aaaaaaab_s002_t001": ("train", 1, "aaaaaaab", "s002"),
        "aaaaaaac_s001_t000": ("eval", 0, "aaaaaaac", "s001"),
        "aaaaaaad_s001_t002": ("eval", 1, "aaaaaaad", "s001"),
    }
    for rec in recs.values():
        assert rec.subject_key == f"tuh:{rec.subject}" and rec.events == ()
        _check_channels(rec, LABRAM_23)
        assert rec.n_samples == 10 * 200
    assert recs["tuab/aaaaaaab_s002_t001"].meta["orig_sfreq"] == 256.0


def test_tuev_rec_events_train_and_eval_names(stores: dict[str, Ingested]) -> None:
    _, recs = stores["tuev"]
    train = recs["tuev/aaaaaaar_00000001"]
    assert (train.split, train.subject, train.subject_key) == ("train", "aaaaaaar", "tuh:aaaaaaar")
    assert _events(train) == [
        [3.0, 1.0, "spsw", "12"], [4.0, 1.0, "spsw", "12"], [7.0, 1.0, "bckg", "0"]
    ]  # fmt: skip
    assert train.labels["event_codes"] == {
        "spsw": 1, "gped": 2, "pled": 3, "eyem": 4, "artf": 5, "bckg": 6
    }  # fmt: skip
    pled = recs["tuev/pled_001_a_2"]
    assert (pled.split, pled.subject, pled.subject_key) == ("eval", "001", "tuh:001")
    assert _events(pled) == [
        [2.0, 1.0, "pled", "7"], [6.0, 1.0, "artf", "15"], [8.0, 1.0, "gped", "8"]
    ]  # fmt: skip
    bckg = recs["tuev/bckg_000_a"]  # bckg_000_a_.edf: an empty k
    assert bckg.source == "edf/eval/000/bckg_000_a_.edf" and bckg.subject == "000"
    assert _events(bckg) == [[1.0, 1.0, "bckg", "3"], [5.0, 1.0, "eyem", "4"]]
    _check_channels(train, LABRAM_23)


def test_tusz_csv_and_csv_bi_events(stores: dict[str, Ingested]) -> None:
    _, recs = stores["tusz"]
    a = recs["tusz/aaaaaaac_s001_t000"]
    assert (a.split, a.subject, a.session, a.subject_key) == (
        "train", "aaaaaaac", "s001", "tuh:aaaaaaac"
    )  # fmt: skip
    assert _events(a) == [
        [3.5, 4.75, "cpsz", "FP1-F7"], [3.5, 4.75, "seiz", ""], [4.0, 4.25, "cpsz", "F7-T3"]
    ]  # fmt: skip
    assert a.n_samples == 12 * 200 and a.labels == {"montage": "01_tcp_ar"}
    dev = recs["tusz/aaaaaaad_s002_t001"]
    assert dev.split == "dev" and dev.events == () and "OZ" in dev.channels
    ev = recs["tusz/aaaaaaae_s001_t000"]
    assert ev.split == "eval" and "A1" not in ev.channels and ev.meta["orig_sfreq"] == 400.0
    assert _events(ev) == [[1.0, 5.0, "fnsz", "T4-T6"], [1.0, 5.0, "seiz", ""]]
    _check_channels(ev, tuple(s for s in LABRAM_23[:21] if s not in ("A1", "A2")))


def test_tuab_v2_nested_layout(tmp_path: Path) -> None:
    """TUAB v2.0.0 kept group/subject/session folders below the montage folder: split, label,
    subject and session still come from the path (docs/corpora.md#tuab)."""
    from eegprep.testing.fixtures.tuh import write_tuab_v2

    root = write_tuab_v2(tmp_path / "src")
    rep = ingest("tuab", src=root, out=tmp_path / "s.zarr", config=SERIAL)
    assert (rep.failed, rep.unmatched, rep.n_ingested) == ([], [], 2), rep.details
    got = {
        r.id: (r.split, r.subject, r.session, r.labels["abnormal"])
        for r in open_store(tmp_path / "s.zarr").recordings
    }
    assert got == {
        "tuab/00000016_s004_t000": ("train", "00000016", "s004", 1),
        "tuab/00000258_s002_t000": ("eval", "00000258", "s002", 0),
    }


def test_tusz_v15_layout_and_tse_events(tmp_path: Path) -> None:
    """TUSZ v1.5 (docs/corpora.md#tusz): montage and group folders above the subject, and
    term-based .tse / .tse_bi label files; it was refused whole (no path rule matched)."""
    from eegprep.testing.fixtures.tuh import write_tusz_v15

    root = write_tusz_v15(tmp_path / "src")
    rep = ingest("tusz", src=root, out=tmp_path / "s.zarr", config=SERIAL)
    assert (rep.failed, rep.unmatched, rep.n_ingested) == ([], [], 2), rep.details
    recs = {r.id: r for r in open_store(tmp_path / "s.zarr").recordings}
    a, dev = recs["tusz/00000077_s003_t000"], recs["tusz/00001027_s001_t002"]
    assert (a.split, a.subject, a.session, a.subject_key) == (
        "train", "00000077", "s003", "tuh:00000077"
    )  # fmt: skip
    assert a.labels == {"montage": "01_tcp_ar"} and dev.labels == {"montage": "02_tcp_le"}
    assert sorted(_events(a)) == [
        [2.5, 4.5, "cpsz", ""], [2.5, 4.5, "cpsz", "FP1-F7"], [2.5, 4.5, "seiz", ""],
        [3.0, 3.5, "cpsz", "F7-T3"],
    ]  # fmt: skip
    assert dev.split == "dev" and dev.events == () and "OZ" in dev.channels
    assert rep.warnings == {}


def test_tusz_v15_lbl_events_are_stored_as_v2_csv_channel_events(tmp_path: Path) -> None:
    """A v1.5 .lbl (lbl_v1.0.0) says which montage channels a seizure was on, as v2's .csv
    does: its rows are stored on the channel's name, as a .csv row is; it was not read."""
    from eegprep.testing.fixtures.tuh import write_tusz_v15

    root = write_tusz_v15(tmp_path / "src")
    for tse in root.rglob("*.tse*"):
        tse.unlink()  # only the per-channel files left
    v2 = write_fixture("tusz", tmp_path / "v2")
    rep = ingest("tusz", src=root, out=tmp_path / "s.zarr", config=SERIAL)
    assert (rep.failed, rep.n_ingested) == ([], 2), rep.details
    ingest("tusz", src=v2, out=tmp_path / "v2.zarr", config=SERIAL)
    (a,) = (r for r in open_store(tmp_path / "s.zarr").recordings if r.events)
    assert _events(a) == [[2.5, 4.5, "cpsz", "FP1-F7"], [3.0, 3.5, "cpsz", "F7-T3"]]
    v2a = {r.id: r for r in open_store(tmp_path / "v2.zarr").recordings}["tusz/aaaaaaac_s001_t000"]
    channel_events = [e for e in _events(v2a) if e[3]]  # v2's .csv: the same shape of row
    assert {type(c) for e in channel_events for c in e} == {type(c) for e in _events(a) for c in e}


def test_tusz_v15_lbl_and_tse_that_disagree_are_both_kept_and_said(tmp_path: Path) -> None:
    """A .lbl seizure at no time of the .tse's, and a .tse seizure on no channel: both files'
    rows are stored as given, and the report says they disagree (the .tse is the answer)."""
    from eegprep.testing.fixtures.tuh import lbl_v1, write_tusz_v15

    root = write_tusz_v15(tmp_path / "src")
    lbl = next(root.rglob("00000077_s003_t000.lbl"))
    lbl.write_text(lbl_v1([(0, 2.5, 7.0, "cpsz"), (3, 8.0, 9.0, "cpsz")]))
    dev = next(root.rglob("00001027_s001_t002.tse"))
    dev.write_text(dev.read_text().replace("10.0000 bckg", "10.0000 gnsz"))
    rep = ingest("tusz", src=root, out=tmp_path / "s.zarr", config=SERIAL)
    assert (rep.failed, rep.n_ingested) == ([], 2)
    assert {k.rpartition("/")[2]: v for k, v in rep.warnings.items()} == {
        "00000077_s003_t000.edf": [
            "00000077_s003_t000.lbl: its per-channel and term-based (.tse) events disagree: 1 "
            "per-channel event at no time of a term-based event; both are stored as given, "
            "the term-based rows are the recording's answer"
        ],
        "00001027_s001_t002.edf": [
            "00001027_s001_t002.lbl: its per-channel and term-based (.tse) events disagree: 1 "
            "term-based event on no channel; both are stored as given, the term-based rows "
            "are the recording's answer"
        ],
    }
    recs = {r.id: r for r in open_store(tmp_path / "s.zarr").recordings}
    assert [8.0, 1.0, "cpsz", "T5-O1"] in _events(recs["tusz/00000077_s003_t000"])
    assert _events(recs["tusz/00001027_s001_t002"]) == [[0.0, 10.0, "gnsz", ""]]


@pytest.mark.parametrize(
    ("line", "match"),
    [
        ("montage = FP1-F7: EEG FP1-REF -- EEG F7-REF", r"line 3: expected montage = INDEX"),
        ("symbols[0] = {0: null}", r"line 3: expected symbols\[LEVEL\]"),
        ("label = {0, 0, 2.5, 7.0, [0.0, 1.0]}", r"line 3: expected label = \{level"),
        ("label = {0, 0, 7.0, 2.5, 0, [0.0, 1.0]}", r"line 3: the event stops \(2.5 s\) before"),
        ("label = {0, 0, 2.5, 7.0, 9, [0.0, 1.0]}", r"line 3: channel 9 is not one of .* \(0\)"),
        ("label = {0, 0, 2.5, x, 0, [0.0, 1.0]}", r"line 3: expected start and stop times"),
        ("label = {0, 0, 2.5, 7.0, 0, [0.0, 0.0]}", r"line 3: no symbol has a probability"),
        ("label = {0, 0, 2.5, 7.0, 0, [0.0, 0.0, 1]}", r"line 3: the vector has 3 entries"),
        ("label = {1, 0, 2.5, 7.0, 0, [0.0, 1.0]}", r"line 3: level 1 has no symbols\[1\] line"),
        ("label = {0, 0, 2.5, 7.0, 0, [0.0, 2.0]}", r"line 3: the probabilities are not numbers"),
        ("garbage", r"line 3: expected KEY = VALUE; got 'garbage'"),
    ],
)
def test_a_damaged_lbl_line_is_one_line(tmp_path: Path, line: str, match: str) -> None:
    lbl = tmp_path / "00000077_s003_t000.lbl"
    head = "version = lbl_v1.0.0\nmontage = 0, FP1-F7: EEG FP1-REF -- EEG F7-REF\n"
    lbl.write_text(f"{head}{line}\nsymbols[0] = {{0: '(null)', 1: 'seiz'}}\n")
    parse = load_parsers()["tuh_csv"]
    header = _header(tmp_path / "00000077_s003_t000.edf", 10.0)
    with pytest.raises(SourceError, match=match) as err:
        parse([str(lbl)], header, {})
    assert "\n" not in str(err.value) and "00000077_s003_t000.lbl" in str(err.value)
    lbl.write_text(head)
    with pytest.raises(SourceError, match="no label lines"):
        parse([str(lbl)], header, {})


def test_a_damaged_tse_row_is_one_line(tmp_path: Path) -> None:
    tse = tmp_path / "aaaaaaac_s001_t000.tse"
    tse.write_text("version = tse_v1.0.0\n\n0.0000 2.0000 bckg 1.0000\n2.0000 1.5000 seiz 1.0\n")
    parse = load_parsers()["tuh_csv"]
    header = _header(tmp_path / "aaaaaaac_s001_t000.edf", 10.0)
    with pytest.raises(SourceError, match=r"line 4: the event stops \(1.5 s\) before it starts"):
        parse([str(tse)], header, {})  # (left out, its stretch would be background)
    tse.write_text("version = tse_v1.0.0\n\n0.0000 bckg\n")
    with pytest.raises(SourceError, match="line 3: expected start_time stop_time label"):
        parse([str(tse)], header, {})


def test_tuar_tuep_tusl_events_and_labels(stores: dict[str, Ingested]) -> None:
    _, tuar = stores["tuar"]
    assert _events(tuar["tuar/aaaaaaaf_s001_t000"]) == [
        [1.0, 1.5, "eyem", "FP1-F7"], [4.0, 2.0, "eyem_musc", "T3-T5"], [7.0, 2.0, "seiz", ""]
    ]  # fmt: skip
    assert tuar["tuar/aaaaaaag_s003_t002"].session == "s003"
    _, tuep = stores["tuep"]
    epi, no = tuep["tuep/aaaaaaah_s001_t000"], tuep["tuep/aaaaaaai_s002_t000"]
    assert (epi.labels["epilepsy"], epi.labels["diagnosis"]) == (1, "epilepsy")
    assert (no.labels["epilepsy"], no.labels["diagnosis"]) == (0, "no_epilepsy")
    assert _events(epi) == [[2.0, 3.0, "seiz", ""]] and no.events == ()
    assert no.labels["montage"] == "04_tcp_le_a" and "A1" not in no.channels
    assert "OZ" in no.channels and no.subject_key == "tuh:aaaaaaai"
    _, tusl = stores["tusl"]
    assert _events(tusl["tusl/aaaaaaaj_s001_t000"]) == [[0.0, 10.0, "slow", ""]]
    assert _events(tusl["tusl/aaaaaaak_s001_t001"]) == [[10.0, 10.0, "seiz", ""]]
    assert tusl["tusl/aaaaaaaj_s001_t000"].n_samples == 20 * 200


def test_an_older_tusl_release_reads_its_tse_agg_and_lbl_agg(tmp_path: Path) -> None:
    """Older TUSL releases ship .tse_agg / .lbl_agg (NEDC tse / lbl formats) instead of .csv,
    in TUSZ v1.5's folder layout: each recording was refused for its missing .csv."""
    from eegprep.testing.fixtures.tuh import write_tusl_agg

    root = write_tusl_agg(tmp_path / "src")
    rep = ingest("tusl", src=root, out=tmp_path / "s.zarr", config=SERIAL)
    assert (rep.failed, rep.unmatched, rep.warnings, rep.n_ingested) == ([], [], {}, 1)
    (rec,) = open_store(tmp_path / "s.zarr").recordings
    assert (rec.subject, rec.session, rec.labels) == ("00000258", "s002", {"montage": "01_tcp_ar"})
    assert sorted(_events(rec)) == [[0.0, 10.0, "slow", ""], [0.0, 10.0, "slow", "T3-C3"]]


def test_siena_seizures_midnight_and_typos(stores: dict[str, Ingested]) -> None:
    _, recs = stores["siena"]
    got = {r.id.split("/")[1]: (r.subject, r.subject_key, _events(r)) for r in recs.values()}
    assert got == {
        "PN00-1": ("PN00", "siena:PN00", [[5.0, 7.0, "seizure", ""]]),
        "PN00-2": ("PN00", "siena:PN00", [[12.0, 4.0, "seizure", ""]]),  # past midnight
        "PN06-1": ("PN06", "siena:PN06", [[3.0, 6.0, "seizure", ""]]),  # "PNO6-1.edf"
        "PN01-1": ("PN01", "siena:PN01", [[11.0, 6.0, "seizure", ""]]),  # "PN01.edf"
    }
    rec = recs["siena/PN00-1"]
    assert len(rec.channels) == 29 and rec.channels[:3] == ("FP1", "F3", "C3")
    assert {"T3", "FC1", "CP5", "F9", "F10"} <= set(rec.channels)
    _check_channels(rec)
    dropped = dict(tuple(d) for d in rec.meta["dropped_channels"])
    assert set(dropped) == {"EKG EKG", "SPO2", "HR", "1", "2", "MK"}
    assert rec.n_samples == 20 * 200 and rec.labels == {"n_seizures": 1}


def test_eegmmidb_runs_relabel_annotations(stores: dict[str, Ingested]) -> None:
    _, recs = stores["eegmmidb"]
    r03, r06, r01 = (recs[f"eegmmidb/{n}"] for n in ("S001R03", "S002R06", "S001R01"))
    assert r03.labels == {"run": 3, "task": "left_right_fist", "condition": "execution"}
    assert r06.labels == {"run": 6, "task": "fists_feet", "condition": "imagery"}
    assert r01.labels["condition"] == "eyes_open" and r01.subject == "S001"
    assert [e.label for e in r03.events] == ["rest", "right_fist", "rest"]
    assert [e.label for e in r06.events] == ["rest", "both_fists", "both_feet"]
    assert [e.onset for e in r06.events] == pytest.approx([0.0, 4.2, 8.3])
    assert [e.duration for e in r06.events] == pytest.approx([4.2, 4.1, 1.7])
    assert r06.subject_key == "eegmmidb:S002" and r06.n_samples == 10 * 200
    assert len(r03.channels) == 64 and r03.channels[:4] == ("FC5", "FC3", "FC1", "FCZ")
    assert {"T10", "IZ", "AFZ", "POZ"} <= set(r03.channels)
    _check_channels(r03)


def test_tusz_duration_mismatch_is_a_warning(tmp_path: Path) -> None:
    root = write_fixture("tusz", tmp_path / "src")
    bi = next(root.rglob("aaaaaaae_s001_t000.csv_bi"))
    bi.write_text(bi.read_text().replace("# duration = 10.00 secs", "# duration = 301.00 secs"))
    rep = ingest("tusz", src=root, out=tmp_path / "s.zarr", config=SERIAL)
    assert rep.failed == [] and rep.n_ingested == 3
    (source, warnings), = rep.warnings.items()  # fmt: skip
    assert source.endswith("aaaaaaae_s001_t000.edf")
    assert warnings == [
        "aaaaaaae_s001_t000.csv_bi: sidecar duration 301.00 s disagrees with the "
        "recording's 10.00 s"
    ]


def test_missing_required_sidecar_is_one_clear_line(tmp_path: Path) -> None:
    root = write_fixture("tuev", tmp_path / "src")
    (root / "edf/eval/001/pled_001_a_2.rec").unlink()
    rep = ingest("tuev", src=root, out=tmp_path / "s.zarr", config=SERIAL)
    assert rep.n_ingested == 2
    assert rep.failed == [
        "edf/eval/001/pled_001_a_2.edf: missing sidecar edf/eval/001/pled_001_a_2.rec: "
        "labels and events come from it"
    ]
    shutil.rmtree(root / "edf/eval")
    (root / "edf/eval/7").mkdir(parents=True)
    (root / "edf/eval/7/notes.edf").write_bytes(b"")
    rep = ingest("tuev", src=root, out=tmp_path / "t.zarr", config=SERIAL)
    assert rep.unmatched == ["edf/eval/7/notes.edf: path matches no rule of tuev's path.pattern"]


def test_siena_list_missing_names_the_file(tmp_path: Path) -> None:
    root = write_fixture("siena", tmp_path / "src")
    (root / "PN06/Seizures-list-PN06.txt").unlink()
    rep = ingest("siena", src=root, out=tmp_path / "s.zarr", config=SERIAL)
    assert rep.failed == [
        "PN06/PN06-1.edf: missing sidecar PN06/Seizures-list-PN06.txt or PN06/*eizure*ist*.txt: "
        "labels and events come from it"
    ]


def _header(path: Path, duration: float, start: str = "") -> Header:
    meta = (("start", start),) if start else ()
    return Header(path=str(path), reader="edf", signals=(), duration=duration, meta=meta)


# The TUSZ example of docs/corpora.md#tusz, as NEDC writes it: text no code of ours wrote.
REAL_CSV_BI = """# version = csv_v1.0.0
# bname = aaaaaaac_s001_t000
# duration = 301.00 secs
# montage_file = $NEDC_NFC/lib/nedc_eas_default_montage.txt
#
channel,start_time,stop_time,label,confidence
TERM,311.0255,333.0172,seiz,1.0000
"""
REAL_CSV_ROW = "FP1-F7,36.8868,112.0000,cpsz,1.0000\n"
# The Siena example of docs/corpora.md#siena, one per line as the list files hold them.
REAL_SIENA = """Seizure n 1
File name: PN00-1.edf
Registration start time: 19.39.33
Registration end time: 20.22.58
Seizure start time: 19.58.36
Seizure end time: 19.59.46
"""


def test_real_world_csv_v1_text(tmp_path: Path) -> None:
    bi = tmp_path / "aaaaaaac_s001_t000.csv_bi"
    bi.write_text(REAL_CSV_BI)
    csv = tmp_path / "aaaaaaac_s001_t000.csv"
    csv.write_text("channel,start_time,stop_time,label,confidence\n" + REAL_CSV_ROW)  # no comments
    meta, rows = read_tuh_csv(str(bi))
    assert meta["version"] == "csv_v1.0.0" and meta["duration"] == "301.00 secs"
    assert rows == [[311.0255, 333.0172, "seiz", "TERM"]]
    parse = load_parsers()["tuh_csv"]
    res = parse([str(bi), str(csv)], _header(tmp_path / "aaaaaaac_s001_t000.edf", 301.0), {})
    assert res.events == [
        [311.0255, pytest.approx(21.9917), "seiz", ""],
        [36.8868, pytest.approx(75.1132), "cpsz", "FP1-F7"],
    ]
    # the example's own seizure lies past its stated duration: passed on whole, for the one
    # rule of events to cut and report once (test_event_warnings_once.py), not said here too
    assert res.problems == []


def test_real_world_siena_list_and_typo_forms(tmp_path: Path) -> None:
    folder = tmp_path / "PN00"
    folder.mkdir()
    (folder / "PN00-1.edf").write_bytes(b"")
    listing = folder / "Seizures-list-PN00.txt"
    listing.write_text(REAL_SIENA)
    parse = load_parsers()["siena_seizures"]
    res = parse([str(listing)], _header(folder / "PN00-1.edf", 2605.0), {})
    assert res.events == [[1143.0, 70.0, "seizure", ""]] and res.problems == []
    typo = REAL_SIENA.replace("PN00-1.edf", "PN00.edf").replace("Seizure start", "Start")
    typo = typo.replace("19.58.36", "00.01.00").replace("19.59.46", "00.02.00")
    listing.write_text(typo)
    blocks = read_seizure_list(str(listing))
    assert [(b.file, b.start, b.end) for b in blocks] == [("PN00.edf", 60.0, 120.0)]
    res = parse([str(listing)], _header(folder / "PN00-1.edf", 20000.0), {})
    assert res.events == [[(24 * 3600 - (19 * 3600 + 39 * 60 + 33)) + 60.0, 60.0, "seizure", ""]]


def test_foreign_tuh_header_with_verbatim_csv_bi(tmp_path: Path) -> None:
    """A TUSZ file written by pyedflib (not our writer), 02_tcp_le, with the docs' csv_bi."""
    from tests.conftest import write_tuh_edf

    rel = "edf/dev/aaaaaaac/s001_2015/02_tcp_le/aaaaaaac_s001_t000.edf"
    write_tuh_edf(tmp_path / "tusz" / rel, sfreq=256, seconds=340, montage="02_tcp_le")
    (tmp_path / "tusz" / rel).with_suffix(".csv_bi").write_text(REAL_CSV_BI)
    rep = ingest("tusz", src=tmp_path / "tusz", out=tmp_path / "s.zarr", config=SERIAL)
    assert rep.failed == [] and rep.n_ingested == 1
    (warnings,) = rep.warnings.values()
    assert any("sidecar duration 301.00 s disagrees with the recording's 340.00 s" in w
               for w in warnings)  # fmt: skip
    (rec,) = open_store(tmp_path / "s.zarr").recordings
    assert _events(rec) == [[311.0255, pytest.approx(21.9917), "seiz", ""]]
    assert rec.split == "dev" and "OZ" in rec.channels and rec.n_samples == 340 * 200


def test_schema_extensions_fail_with_file_and_key() -> None:
    base = load_manifest("tuev").raw
    bad = {**base, "path": {**base["path"], "pattern": ["edf/(?P<x>a)", "edf/(unclosed"]}}
    with pytest.raises(ManifestError, match=r"my\.toml: key path\.pattern\[1\] is not a valid"):
        parse_manifest(bad, "my.toml")
    bad = {**base, "sidecar": {**base["sidecar"], "annotations": "merge"}}
    with pytest.raises(ManifestError, match=r"my\.toml: key sidecar\.annotations must be"):
        parse_manifest(bad, "my.toml")
    bad = {**base, "sidecar": {**base["sidecar"], "fils": ["x"]}}
    with pytest.raises(ManifestError, match=r"unknown key sidecar\.'fils' \(did you mean 'files"):
        parse_manifest(bad, "my.toml")


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        (b"\xff\xfe,3.0,4.0,6", "is not a channel number"),
        (b"-1,3.0,4.0,6", "is not a channel number"),
        (b"12,4.0,0.0,6", r"line 2: the event stops \(0 s\) before it starts \(4 s\)"),
        (b"999,3.0,4.0,6", r"channel 999 is not one of the montage's 0\.\.21"),
        (b"12,3.0,4.0,1.9", r"line 2: class code '1\.9' is not one of 1\.\.6"),  # was class 1
        (b"12,3.0,4.0,inf", r"line 2: class code 'inf' is not one of 1\.\.6"),  # was a traceback
        (b"12,3.0,4.0,1e-400", r"line 2: class code '1e-400' is not one of 1\.\.6"),
    ],
)
def test_a_tuev_rec_row_no_event_can_be_is_refused(
    tmp_path: Path, row: bytes, problem: str
) -> None:
    """A .rec row with a channel that is not a number of the montage, or an event that stops
    before it starts, was stored as an event without a word; the file is now refused."""
    from eegprep.corpus.sidecars.tuh import tuev_rec
    from eegprep.readers.base import Signal

    path = tmp_path / "x.rec"
    path.write_bytes(b"0,1.0,2.0,6\n" + row + b"\n")
    sig = Signal(label="EEG FP1-REF", sfreq=250.0, n_samples=2500, unit="uV", to_uv=1.0,
                 resolution=0.1)  # fmt: skip
    header = Header(path=str(path), reader="edf", signals=(sig,), duration=10.0)
    with pytest.raises(SourceError, match=problem):
        tuev_rec([str(path)], header, {})


@pytest.mark.parametrize("bad", ["25.10.00", "19.61.00", "19.58.61", "99.99.99"])
def test_a_siena_time_that_is_no_time_of_day_is_one_line(tmp_path: Path, bad: str) -> None:
    """``25.61.61`` was read as 26:02:01 and placed the seizure at a wrong onset, silently:
    refused in one line naming the list, its line and the field."""
    from eegprep.base.errors import SourceError

    listing = tmp_path / "Seizures-list-PN00.txt"
    listing.write_text(REAL_SIENA.replace("19.58.36", bad))
    with pytest.raises(SourceError) as err:
        read_seizure_list(str(listing))
    said = str(err.value)
    assert said.startswith(f"{listing}: line ") and "no time of day" in said, said
    assert "\n" not in said and ("start time " + bad.replace(".", ":")) in said
