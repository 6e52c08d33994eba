"""The SEED family, the BCI-style corpora, the single corpora and the generic ``bids`` and
``folder``: each fixture (real layout) ingests to the expected recordings, subjects, sessions,
splits, labels, events, targets and channel indices; broken manifests and inputs get clear
messages."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from cli import eegprep_cli
from eegprep import open_store
from eegprep.base.errors import ManifestError, SourceError, UsageError
from eegprep.corpus.manifest import available, load_manifest
from eegprep.corpus.sidecars.misc import check_channel_order
from eegprep.ingestion.driver import IngestConfig, IngestReport, ingest
from eegprep.pipeline.channels import VOCABULARY
from eegprep.readers import get_reader
from eegprep.store.reader import Store
from eegprep.store.recording import Recording
from eegprep.testing.fixtures import write_fixture

SERIAL = IngestConfig(workers=0, progress=False)
MAINS = {"bids": 50.0, "folder": 50.0}  # generic corpora: mains from the command line


def _by_id(store: Store) -> dict[str, Recording]:
    return {r.id: r for r in store.recordings}


def _labels(store: Store, key: str) -> dict[str, Any]:
    return {r.name: r.labels.get(key) for r in (Rec(r) for r in store.recordings)}


class Rec:
    """A recording with its short name (the part after the corpus)."""

    def __init__(self, r: Recording) -> None:
        self.name, self.labels = r.id.split("/", 1)[1], r.labels


def _events(r: Recording) -> list[tuple[float, float, str]]:
    return [(round(e.onset, 3), round(e.duration, 3), e.label) for e in r.events]


# -- per-corpus checks ------------------------------------------------------------------------


def check_seed(s: Store) -> None:
    recs = _by_id(s)
    a = recs["seed/1_20131027_djc_eeg3"]
    book = {"emotion_codes": {"negative": -1, "neutral": 0, "positive": 1}}  # SEED's codes
    assert a.labels == {"emotion": -1, "trial": 3, **book} and a.subject_key == "seed:1"
    assert recs["seed/jianglin_20140404_jl_eeg15"].labels == {"emotion": -1, "trial": 15, **book}
    assert a.n_samples == 300 + 20 * 3  # already at 200 Hz: same length


def check_seed_iv(s: Store) -> None:
    recs = _by_id(s)
    assert recs["seed_iv/s1_1_20160518_cz_eeg2"].labels["emotion"] == 2
    assert recs["seed_iv/s2_1_20161125_cz_eeg2"].labels["emotion"] == 1
    assert recs["seed_iv/s2_1_20161125_cz_eeg24"].labels["emotion"] == 1


def check_seed_v(s: Store) -> None:
    r1, r2 = _by_id(s)["seed_v/1_1_20180804"], _by_id(s)["seed_v/1_2_20180814"]
    assert (30.0, 1.0, "emotion/4") in _events(r1) and (30.0, 0.0, "1") in _events(r1)
    assert (30.0, 1.0, "emotion/2") in _events(r2)
    assert "M1" not in r1.channels and "VEO" not in r1.channels and r1.n_samples == 31 * 200


def check_seed_raw(s: Store) -> None:
    r1, r2 = _by_id(s)["seed_raw/1_1"], _by_id(s)["seed_raw/1_2"]
    labels = (1, 0, -1, -1, 0, 1, -1, 0, 1, 1, 0, -1, 0, 1, -1)  # seed's 15-clip list
    want = [(round(0.5 + 1.2 * k, 3), 1.0, f"emotion/{v}") for k, v in enumerate(labels)]
    assert _events(r1) == _events(r2) == want  # time.txt's samples at 1000 Hz
    assert r1.subject_key == "seed:1"  # the subject of seed/1_20131027_*
    assert r1.labels == {"emotion_codes": {"negative": -1, "neutral": 0, "positive": 1}}
    assert "M1" not in r1.channels and "VEO" not in r1.channels and len(r1.channels) == 62
    assert r1.n_samples == 19 * 200 and r1.meta["orig_sfreq"] == 1000.0


def check_seed_lang(s: Store) -> None:
    r = next(iter(s.recordings))
    assert len(r.labels["clip_labels"]) in (20, 21)
    assert _events(r)[:2] == [(1.0, 0.0, "1"), (4.0, 0.0, "2")]


def check_bciciv1(s: Store) -> None:
    calib, ev = _by_id(s)["bciciv1/calib_ds1a"], _by_id(s)["bciciv1/eval_ds1c"]
    # the 6 s file's "foot" cue (3 s + 4 s) is cut at the recording's end (clip_events)
    assert _events(calib) == [(1.0, 4.0, "left"), (3.0, 3.0, "foot")]
    assert calib.labels == {"artificial": 0} and ev.labels == {"artificial": 1}
    assert ev.events == () and calib.meta["orig_sfreq"] == 1000
    assert "CFC7" in calib.channels and "CCP8" in calib.channels
    # int16 counts x 0.1 -> microvolts: EEG-sized amplitudes
    assert 5 < calib.meta["qc"]["median_rms_uv"] < 200


def check_grasp_lift(s: Store) -> None:
    r = _by_id(s)["grasp_lift/subj1_series1"]
    assert _events(r)[0] == (0.4, 0.3, "HandStart") and len(r.events) == 6
    assert _by_id(s)["grasp_lift/subj1_series9"].events == ()
    assert {"TP9", "TP10", "PO9", "PO10"} <= set(r.channels)


def check_inria_bci(s: Store) -> None:
    tr, te = _by_id(s)["inria_bci/S02_Sess01"], _by_id(s)["inria_bci/S01_Sess01"]
    fb = [e for e in _events(tr) if e[2].startswith("feedback/")]
    assert fb == [(2.0, 0.0, "feedback/1"), (4.5, 0.0, "feedback/0"), (7.5, 0.0, "feedback/1")]
    assert [e[2] for e in _events(te)] == ["FeedBackEvent/1"] * 2
    assert "EOG" not in tr.channels and tr.session == "01"
    # Prediction 1: the feedback was right, 0: an error (Kaggle's description)
    assert tr.labels == te.labels == {"feedback_codes": {"error": 0, "good": 1}}


def check_target_nontarget(s: Store) -> None:
    r = _by_id(s)["target_nontarget/subject_01_session_01"]
    labels = [e[2] for e in _events(r)]
    assert labels.count("target") == 2 and labels.count("nontarget") == 3
    assert _events(r)[1] == (round(600 / 512, 3), 0.0, "target")


def check_emobrain(s: Store) -> None:
    r = _by_id(s)["emobrain/Part1_IAPS_SES1_EEG_fNIRS_03082006"]
    assert r.channels[:3] == ("FP1", "AF7", "AF3") and "A1" not in r.channels  # A1 = Fp1
    assert _events(r) == [(1.0, 0.0, "trigger/1"), (3.0, 0.0, "trigger/2")]


def check_trujillo_raw(s: Store) -> None:
    assert _labels(s, "condition") == {
        "EEG_Cat_Study4_II_II_S1": "II_II",
        "EEG_Cat_Study4_RB_S2": "RB",
    }


def check_trujillo_rest(s: Store) -> None:
    r = _by_id(s)["trujillo_rest/EEG_Cat_Study4_Resting_S1"]
    assert _events(r) == [(0.0, 6.0, "eyes_closed")] and len(r.channels) == 64


def check_spis(s: Store) -> None:
    ec, eo = _by_id(s)["spis/S02_restingPre_EC"], _by_id(s)["spis/S02_restingPre_EO"]
    assert ec.labels == {"eyes": "closed"} and eo.labels == {"eyes": "open"}
    assert ec.channels == eo.channels and "IZ" in ec.channels and "AFZ" in ec.channels


def check_mobi(s: Store) -> None:
    r = _by_id(s)["mobi/SL01-T01"]
    assert not {"TP9", "TP10", "FT9", "FT10"} & set(r.channels) and len(r.channels) == 60
    assert r.meta["band_hz"] == [0.1, 45.0] and r.meta["targets"] == ["joints"]
    joints = s.read_target(r.id, "joints")
    assert joints.shape == (12, r.n_samples) == (12, 2000)
    np.testing.assert_allclose(joints[:, 100:-100].mean(axis=1), 10 * np.arange(12), atol=2.0)
    # conductor.txt's events, on eeg.txt's clock (its first time is 1001.000)
    assert _events(r) == [(1.0, 0.0, "start walking"), (8.5, 0.0, "stop walking")]


def check_bids(s: Store) -> None:
    recs = _by_id(s)
    odd = recs["bids/sub-01_ses-02_task-oddball"]
    assert odd.labels == {"task": "oddball"} and odd.session == "02"
    assert (2.5, 0.5, "target") in _events(odd)
    assert recs["bids/sub-02_task-oddball"].session == "" and "EOG1" not in odd.channels


def check_folder(s: Store) -> None:
    assert {r.subject for r in s.recordings} == {"alice", "bob"}
    assert all(r.meta["mains_hz"] == 50.0 for r in s.recordings)


# name -> (recordings, subjects, sessions, splits, check)
EXPECTED: dict[str, tuple[int, set[str], set[str], set[str], Callable[[Store], None]]] = {
    "seed": (30, {"1", "jianglin"}, {"20131027", "20140404"}, {""}, check_seed),
    "seed_iv": (48, {"1"}, {"1", "2"}, {""}, check_seed_iv),
    "seed_v": (2, {"1"}, {"1", "2"}, {""}, check_seed_v),
    "seed_raw": (2, {"1"}, {"1", "2"}, {""}, check_seed_raw),
    "seed_ger": (2, {"1", "2"}, {"1"}, {""}, check_seed_lang),
    "seed_fra": (2, {"1", "2"}, {"1"}, {""}, check_seed_lang),
    "bciciv1": (2, {"a", "c"}, {""}, {"calib", "eval"}, check_bciciv1),
    "grasp_lift": (
        3,
        {"1"},
        {"series1", "series2", "series9"},
        {"train", "test"},
        check_grasp_lift,
    ),
    "inria_bci": (2, {"S01", "S02"}, {"01"}, {"train", "test"}, check_inria_bci),
    "target_nontarget": (2, {"01"}, {"01", "02"}, {""}, check_target_nontarget),
    "emobrain": (2, {"1", "2"}, {"1"}, {""}, check_emobrain),
    "trujillo_raw": (2, {"1", "2"}, {"II_II", "RB"}, {""}, check_trujillo_raw),
    "trujillo_rest": (2, {"1", "2"}, {""}, {""}, check_trujillo_rest),
    "spis": (2, {"S02"}, {"Pre"}, {""}, check_spis),
    "mobi": (2, {"SL01"}, {"T01", "T02"}, {""}, check_mobi),
    "bids": (3, {"01", "02"}, {"01", "02", ""}, {""}, check_bids),
    "folder": (2, {"alice", "bob"}, {""}, {""}, check_folder),
}


@pytest.fixture(scope="module")
def ingested(
    tmp_path_factory: pytest.TempPathFactory,
) -> Callable[[str], tuple[IngestReport, Store]]:
    cache: dict[str, tuple[IngestReport, Store]] = {}

    def get(name: str) -> tuple[IngestReport, Store]:
        if name not in cache:
            tmp = tmp_path_factory.mktemp(name)
            root = write_fixture(name, tmp / "src")
            cfg = IngestConfig(workers=0, progress=False, mains=MAINS.get(name))
            rep = ingest(name, src=root, out=tmp / "s.zarr", config=cfg)
            cache[name] = (rep, open_store(tmp / "s.zarr"))
        return cache[name]

    return get


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_ingests(name: str, ingested: Callable[[str], tuple[IngestReport, Store]]) -> None:
    rep, s = ingested(name)
    n, subjects, sessions, splits, check = EXPECTED[name]
    assert (rep.failed, rep.unmatched) == ([], []), rep.details
    assert rep.n_ingested == len(s) == n
    assert {r.subject for r in s.recordings} == subjects
    assert {r.session for r in s.recordings} == sessions
    assert {r.split for r in s.recordings} == splits
    for r in s.recordings:
        assert r.corpus == name and r.sfreq == 200 and r.channels
        assert all(VOCABULARY[i] == c for c, i in zip(r.channels, r.channel_index))
        assert r.n_samples == round(r.meta["orig_duration_s"] * 200)
        assert all(0 <= e.onset < r.duration for e in r.events)
    check(s)


def test_bids_ingests_without_mne_bids(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A wheel installed without extras ingests a BIDS dataset, events.tsv and channels.tsv
    included: eegprep reads the sidecars itself, mne-bids (the `bids` extra) only writes the
    fixture (docs/install.md, manifests/bids.toml)."""
    root = write_fixture("bids", tmp_path / "src")
    monkeypatch.setitem(sys.modules, "mne_bids", None)  # any import of it fails
    cfg = IngestConfig(workers=0, progress=False, mains=MAINS["bids"])
    rep = ingest("bids", src=root, out=tmp_path / "s.zarr", config=cfg)
    assert (rep.failed, rep.n_ingested) == ([], 3), rep.details
    check_bids(open_store(tmp_path / "s.zarr"))


def test_every_manifest_validates_and_has_a_fixture() -> None:
    from eegprep.testing.fixtures import load_fixtures

    names = available()
    assert set(EXPECTED) <= set(names) and set(EXPECTED) <= set(load_fixtures())
    for name in names:
        m = load_manifest(name)
        assert m.name == name and m.title and m.include and m.labels_summary, name
        assert m.quirks and all(src for _, src in m.quirks), name


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda t: t.replace("[files]", "colour = 1\n[files]"), r"unknown key 'colour'"),
        (lambda t: t.replace("mains = 60", 'mains = "60"'), r"key 'mains' must be int/float"),
        (
            lambda t: t.replace("pattern = '''", "pattern = '''(?P<x"),
            r"path.pattern is not a valid",
        ),
        (
            lambda t: t.replace('parser = "mobi_joints"', 'parser = "mobi_joint"'),
            r"sidecar.parser is 'mobi_joint'",
        ),
        (
            lambda t: t.replace("required = true", 'required = "yes"'),
            r"key sidecar.'required' must be bool",
        ),
    ],
)
def test_broken_manifest_names_file_and_key(
    tmp_path: Path, edit: Callable[[str], str], match: str
) -> None:
    bad = tmp_path / "my_mobi.toml"
    bad.write_text(
        edit(load_manifest("mobi").file and Path(load_manifest("mobi").file).read_text())
    )
    with pytest.raises(ManifestError, match=match) as info:
        load_manifest(bad)
    assert str(bad) in str(info.value)
    res = CliRunner().invoke(
        eegprep_cli,
        [
            "ingest",
            "mobi",
            "--manifest",
            str(bad),
            "--src",
            str(tmp_path),
            "--out",
            str(tmp_path / "s"),
        ],
    )
    assert res.exit_code == 2 and str(bad) in res.output and res.output.count("\n") == 1


def test_unmatched_file_and_missing_sidecar_are_reported(tmp_path: Path) -> None:
    root = write_fixture("mobi", tmp_path / "src")
    (root / "SL01-T02/joints.txt").unlink()
    (root / "SL01-T03").mkdir()
    shutil.copy(root / "SL01-T01/eeg.txt", root / "SL01-T03/eeg.txt")
    (root / "SL01-T03/joints.txt").write_text("x\n")  # damaged: one line, no numbers
    stray = write_fixture("seed", tmp_path / "seed") / "Preprocessed_EEG/label_backup.mat"
    shutil.copy(stray.parent / "label.mat", stray)
    rep = ingest("mobi", src=root, out=tmp_path / "m.zarr", config=SERIAL)
    assert rep.n_ingested == 1 and rep.exit_code == 3
    text = "\n".join(rep.failed)
    assert "SL01-T02/eeg.txt: missing sidecar SL01-T02/joints.txt" in text
    assert "SL01-T03/eeg.txt:" in text and "joints.txt" in text
    rep = ingest("seed", src=stray.parent.parent, out=tmp_path / "s.zarr", config=SERIAL)
    assert rep.unmatched == [
        "Preprocessed_EEG/label_backup.mat: path matches no rule of seed's path.pattern"
    ]


def _swap_listed(path: Path, a: str, b: str) -> None:
    """Swap two names in a MoBI impedance list (the trial's channel order)."""
    rows = path.read_text().split("\n")
    names = {a: b, b: a}
    for k, row in enumerate(rows):
        fields = row.split("\t")
        if len(fields) == 4 and fields[1] in names:
            rows[k] = "\t".join([fields[0], names[fields[1]], *fields[2:]])
    path.write_text("\n".join(rows))


@pytest.mark.parametrize("listed", ["impedances-before.txt", "impedances-after.txt"])
def test_mobi_columns_in_another_order_than_the_impedance_list_are_refused(
    tmp_path: Path, listed: str
) -> None:
    """docs/corpora.md#mobi: the impedance lists give each trial's channel order; a trial whose
    list disagrees with the manifest's channel_names was stored with sites swapped, unsaid.
    (-after is read where -before is missing.)"""
    root = write_fixture("mobi", tmp_path / "src")
    trial = root / "SL01-T02"
    if listed == "impedances-after.txt":
        (trial / "impedances-before.txt").unlink()
    _swap_listed(trial / listed, "C3", "Cz")
    rep = ingest("mobi", src=root, out=tmp_path / "m.zarr", config=SERIAL)
    assert rep.n_ingested == 1 and len(rep.failed) == 1, rep.details
    line = rep.failed[0]
    assert "\n" not in line and line.startswith(f"SL01-T02/eeg.txt: {listed}: ")
    assert "channel 8 is 'Cz' here but 'C3'" in line
    assert [r.id for r in open_store(tmp_path / "m.zarr").recordings] == ["mobi/SL01-T01"]


def test_mobi_impedance_list_is_read_by_channel_number(tmp_path: Path) -> None:
    """Rows in any line order, a column-name line and Ref / Gnd rows (no channel number) give
    the same order; a list of other length is refused; one with no rows is said, not refused."""
    trial = write_fixture("mobi", tmp_path / "src") / "SL01-T01"
    options = dict(load_manifest("mobi").reader_options)
    header = get_reader("csv").read_header(str(trial / "eeg.txt"), **options)
    listed = trial / "impedances-before.txt"
    lines = listed.read_text().split("\n")
    head, rows = lines[:21], [row for row in lines[21:] if row]
    names = "PhysChn\tName\tLabelSet\tImpedanceValue"
    ends = ["Ref\tRef\tactiCAP\t3", "Gnd\tGnd\tactiCAP\t2"]
    listed.write_text("\n".join([*head, names, *reversed(rows), *ends]) + "\n")
    assert check_channel_order(header, {}) is None
    eog = [r.replace("\tTP9\t", "\tVEOU\t").replace("\tFT10\t", "\tHEOR\t") for r in rows]
    listed.write_text("\n".join([*head, *eog]) + "\n")  # the EOG's own names: no mismatch
    assert check_channel_order(header, {"order_unchecked": ["TP9", "FT10"]}) is None
    with pytest.raises(SourceError, match="channel 10 is 'VEOU' here but 'TP9'"):
        check_channel_order(header, {})
    listed.write_text("\n".join([*head, *rows[:-1]]) + "\n")
    with pytest.raises(SourceError, match="lists 63 channels, the manifest's channel_names 64"):
        check_channel_order(header, {})
    listed.write_text("\n".join(head) + "\n")
    note = check_channel_order(header, {})
    assert note is not None and note.startswith("impedances-before.txt: no channel rows")


@pytest.mark.parametrize(
    ("name", "folders"),
    [
        ("target_nontarget", ["subject_01"]),
        ("grasp_lift", ["train", "test"]),
        ("inria_bci", ["train", "test"]),  # TrainLabels.csv stays beside the archives
    ],
)
def test_a_corpus_as_downloaded_in_zip_archives_is_told_to_unpack(
    tmp_path: Path, name: str, folders: list[str]
) -> None:
    """Brain Invaders ships subject_XX_mat.zip, Kaggle train.zip / test.zip (docs/corpora.md):
    their names say nothing of .mat or .csv, and the run said "found only 2 .zip files: pass
    --include 'GLOB' or another corpus"."""
    import zipfile

    root = write_fixture(name, tmp_path / "src")
    for folder in folders:
        pack = root / (f"{folder}_mat.zip" if name == "target_nontarget" else f"{folder}.zip")
        with zipfile.ZipFile(pack, "w") as z:
            for f in sorted((root / folder).rglob("*")):
                z.write(f, f.relative_to(root).as_posix())
        shutil.rmtree(root / folder)
    n = len(folders)
    with pytest.raises(UsageError, match=rf"found {n} \.zip archives?, .*unpack them .*unzip"):
        ingest(name, src=root, out=tmp_path / "s.zarr", config=SERIAL)


def test_mobi_conductor_events_outside_the_eeg_are_said(tmp_path: Path) -> None:
    root = write_fixture("mobi", tmp_path / "src")
    (root / "SL01-T02/conductor.txt").write_text(
        "Time\tEvent\n990.0\tbefore\n1004.5\tturn\n2000.0\tafter\n"
    )
    rep = ingest("mobi", src=root, out=tmp_path / "m.zarr", config=SERIAL)
    assert rep.failed == [] and rep.n_ingested == 2
    r = _by_id(open_store(tmp_path / "m.zarr"))["mobi/SL01-T02"]
    assert _events(r) == [(2.5, 0.0, "turn")]  # eeg.txt's first time is 1002.000
    said = [w for ws in rep.warnings.values() for w in ws]
    assert any("conductor.txt: 2 events outside the EEG's time, left out: line 2, line 4" in w
               for w in said), said  # fmt: skip


def test_low_rate_source_without_h_freq_is_explained(tmp_path: Path) -> None:
    root = write_fixture("mobi", tmp_path / "src")
    text = Path(load_manifest("mobi").file).read_text().replace("h_freq = 45", "")
    own = tmp_path / "mobi_no_hfreq.toml"
    own.write_text(text)
    rep = ingest(own, src=root, out=tmp_path / "s.zarr", config=SERIAL)
    assert rep.n_ingested == 0
    assert "source rate 100 Hz cannot carry the 75 Hz low-pass: set `h_freq`" in rep.failed[0]


def test_folder_needs_mains_and_takes_include_from_the_cli(tmp_path: Path) -> None:
    root = write_fixture("folder", tmp_path / "src")
    with pytest.raises(UsageError, match="pass --mains 50 or --mains 60"):
        ingest("folder", src=root, out=tmp_path / "a.zarr", config=SERIAL)
    out = str(tmp_path / "b.zarr")
    args = ["ingest", "folder", "--src", str(root), "--out", out, "--workers", "0"]
    res = CliRunner().invoke(eegprep_cli, [*args, "--mains", "60", "--include", "alice/*.edf"])
    assert res.exit_code == 0, res.output
    (r,) = open_store(out).recordings
    assert r.id == "folder/alice_rest" and r.meta["mains_hz"] == 60.0


def _corpora_folder_section() -> str:
    text = (Path(__file__).parents[2] / "docs" / "corpora.md").read_text(encoding="utf-8")
    return text.split("### folder\n", 1)[1].split("\n## ", 1)[0]


def test_folder_lists_every_suffix_its_reader_reads_and_says_why_it_leaves_others_out(
    tmp_path: Path,
) -> None:
    """The ``folder`` manifest lists a file of every suffix its reader (``mne``) reads, in any
    letter case; ``.ahdr`` (BrainVision Analyzer's export, read as ``.vhdr``) was left out.
    Every other suffix of the reader table is named in docs/corpora.md's ``folder`` section,
    which says why it is not listed."""
    from eegprep.corpus.discover import discover
    from eegprep.readers import SUFFIXES, get_reader
    from eegprep.readers.mne_formats import _FORMATS

    manifest = load_manifest("folder")
    assert get_reader(manifest.reader).__name__ == "MneReader"
    for suffix in {*SUFFIXES, *_FORMATS}:
        for spelled in (suffix, suffix.upper()):
            (tmp_path / "s" / f"r{spelled[1:]}{spelled}").parent.mkdir(exist_ok=True)
            (tmp_path / "s" / f"r{spelled[1:]}{spelled}").write_bytes(b"")
    found = discover(manifest, tmp_path)
    assert not found.unmatched
    listed = {PurePosixPath(i.relpath).suffix for i in found.items}
    assert listed == {*_FORMATS, *(s.upper() for s in _FORMATS)}
    section = _corpora_folder_section()
    for suffix in sorted(set(SUFFIXES) - set(_FORMATS)):
        assert f"`{suffix}`" in section, f"docs/corpora.md#folder: {suffix} not named"


def test_folder_ingests_a_brainvision_analyzer_export(tmp_path: Path) -> None:
    """An ``.ahdr`` header (its data hold one channel more than it lists) in a folder corpus
    is ingested as its ``.vhdr`` twin would be: it was not listed at all."""
    from pybv import write_brainvision

    x = np.random.default_rng(0).normal(0, 20e-6, (5, 2500))
    folder = tmp_path / "src" / "carol"
    write_brainvision(data=x, sfreq=250.0, ch_names=["Fp1", "Fp2", "Cz", "Oz", "X"],
                      fname_base="rest", folder_out=str(folder), unit="µV")  # fmt: skip
    vhdr = (folder / "rest.vhdr").read_text(encoding="utf-8")
    lines = vhdr.replace("NumberOfChannels=5", "NumberOfChannels=4").splitlines()
    (folder / "rest.ahdr").write_text("\n".join(v for v in lines if not v.startswith("Ch5=")))
    (folder / "rest.vhdr").unlink()
    cfg = IngestConfig(workers=0, progress=False, mains=50.0)
    rep = ingest("folder", src=tmp_path / "src", out=tmp_path / "s.zarr", config=cfg)
    assert rep.n_ingested == 1 and not rep.failed and not rep.unmatched, rep
    (r,) = open_store(tmp_path / "s.zarr").recordings
    assert r.id == "folder/carol_rest" and r.subject == "carol"
    assert sorted(r.channels) == ["CZ", "FP1", "FP2", "OZ"], r.channels


def test_corpora_lists_every_corpus_and_shows_one() -> None:
    runner = CliRunner()
    res = runner.invoke(eegprep_cli, ["corpora"])
    assert res.exit_code == 0
    lines = {line.split()[0]: line for line in res.output.splitlines() if line.strip()}
    assert set(EXPECTED) <= set(lines)
    assert "MAT v5" in lines["seed"] and "emotion" in lines["seed"]
    assert "1138.53 h" in lines["tusz"]  # hours where LaBraM published them
    res = runner.invoke(eegprep_cli, ["corpora", "mobi"])
    assert res.exit_code == 0
    for text in ("SL*-T*/eeg.txt", "mains: 60 Hz", "low-pass: 45 Hz", "TP9", "quirk", "joints"):
        assert text in res.output, text
