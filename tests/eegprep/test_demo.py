"""The demo TUEG corpus: real layout, readable files, real labels and rates, reproducible bytes."""

from __future__ import annotations

import re
import time
from datetime import date
from pathlib import Path

import numpy as np
import pyedflib
import pytest

from eegprep.pipeline.channels import map_channels
from eegprep.testing.demo import SLOW_CHANNELS, subject_id, write_demo_corpus

TUEG_PATH = re.compile(
    r"^edf/(?P<group>\d{3})/(?P<subj>[a-z]{8})/"
    r"(?P<session>s(?P<sss>\d{3})_(?P<year>\d{4})(?:_(?P<month>\d{2})_(?P<day>\d{2}))?)/"
    r"(?P<montage>01_tcp_ar|02_tcp_le|03_tcp_ar_a)/"
    r"(?P=subj)_s(?P=sss)_t(?P<token>\d{3})\.edf$"
)
PATIENT = re.compile(
    r"^(?P<subj>[a-z]{8}) [MF] 01-JAN-(?P<birth>\d{4}) (?P=subj) Age:(?P<age>\d+)$"
)
RECORDING = re.compile(r"^Startdate (\d{2})-([A-Z]{3})-(\d{4}) (?P<subj>[a-z]{8})_s\d{3} \d{2} X$")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, float]:
    out = tmp_path_factory.mktemp("demo")
    t0 = time.perf_counter()
    root = write_demo_corpus(out, seed=0)
    return root, time.perf_counter() - t0


def _edfs(root: Path) -> list[Path]:
    return sorted(root.rglob("*.edf"))


def test_layout_matches_tueg(corpus: tuple[Path, float]) -> None:
    root, _ = corpus
    assert root.name == "tuh"
    assert (root / "AAREADME.txt").read_text().startswith("File: AAREADME.txt")
    files = _edfs(root)
    assert 6 <= len(files) <= 10
    matches = [TUEG_PATH.match(p.relative_to(root).as_posix()) for p in files]
    assert all(matches), [p for p, m in zip(files, matches, strict=True) if not m]
    montages = {m["montage"] for m in matches if m}
    assert montages == {"01_tcp_ar", "02_tcp_le", "03_tcp_ar_a"}
    long_form = {m["month"] is not None for m in matches if m}
    assert long_form == {True, False}  # s001_2015_12_30 and s001_2015 both present
    assert {m["group"] for m in matches if m} == {"000", "001"}
    assert {m["subj"] for m in matches if m} == {subject_id(i) for i in range(4)}


def test_every_file_opens_with_real_labels_and_rates(corpus: tuple[Path, float]) -> None:
    root, _ = corpus
    rates = set()
    for path in _edfs(root):
        m = TUEG_PATH.match(path.relative_to(root).as_posix())
        assert m is not None
        with pyedflib.EdfReader(str(path)) as f:
            labels = f.getSignalLabels()
            fs = dict(zip(labels, f.getSampleFrequencies(), strict=True))
            _check_montage(m["montage"], labels)
            for lab in SLOW_CHANNELS:
                assert fs[lab] == 1.0  # mixed rates inside one file
            rate = fs[labels[0]]
            assert all(v == rate for k, v in fs.items() if k not in SLOW_CHANNELS)
            rates.add(rate)
            assert f.datarecord_duration == 1.0
            _check_header(f, m)
        mapping = map_channels(labels)
        assert mapping.n_channels >= 19
        assert not [lab for lab, why in mapping.dropped if "duplicate" in why]
    assert rates == {250.0, 256.0, 400.0, 512.0}


def _check_montage(montage: str, labels: list[str]) -> None:
    ref = "-LE" if montage == "02_tcp_le" else "-REF"
    eeg = [lab for lab in labels if lab.startswith("EEG ")]
    assert all(lab.endswith(ref) for lab in eeg)
    assert labels[0] == f"EEG FP1{ref}"
    has_a1 = f"EEG A1{ref}" in labels
    assert has_a1 == (montage != "03_tcp_ar_a")
    assert ("EEG OZ-LE" in labels) == (montage == "02_tcp_le")
    assert any(lab.startswith("PHOTIC") for lab in labels)
    assert any("EKG" in lab for lab in labels)


def _check_header(f: pyedflib.EdfReader, m: re.Match) -> None:
    patient = PATIENT.match(f.patient.decode("ascii").rstrip())
    assert patient is not None and patient["subj"] == m["subj"]
    recording = RECORDING.match(f.recording.decode("ascii").rstrip())
    assert recording is not None and recording["subj"] == m["subj"]
    start = f.getStartdatetime()
    assert str(start.year) == m["year"]
    if m["month"]:
        assert start.date() == date(int(m["year"]), int(m["month"]), int(m["day"]))
    assert int(patient["age"]) == start.year - int(patient["birth"])


def test_flat_and_clipped_channels_present(corpus: tuple[Path, float]) -> None:
    root, _ = corpus
    flat, clipped = [], []
    for path in _edfs(root):
        with pyedflib.EdfReader(str(path)) as f:
            for i, lab in enumerate(f.getSignalLabels()):
                if not lab.startswith("EEG ") or "EKG" in lab:
                    continue
                d = f.readSignal(i, digital=True)
                if np.ptp(d) == 0:
                    flat.append((path.name, lab))
                if np.mean(np.abs(d) == f.getDigitalMaximum(i)) > 0.005:
                    clipped.append((path.name, lab))
    assert flat and clipped


def test_size(corpus: tuple[Path, float]) -> None:
    """Small enough for a test's corpus (its time is benchmarks/'s: a bound of 5 s measured
    the machine, and a loaded one missed it)."""
    root, _ = corpus
    size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    assert size < 30e6


def test_same_seed_same_bytes_other_seed_differs(
    corpus: tuple[Path, float], tmp_path: Path
) -> None:
    root, _ = corpus
    again = write_demo_corpus(tmp_path / "again", seed=0)
    other = write_demo_corpus(tmp_path / "other", seed=1, n_subjects=2, minutes=0.5)
    files = sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())
    for rel in files:
        assert (root / rel).read_bytes() == (again / rel).read_bytes(), rel
    first = _edfs(other)[0]
    same_name = root / first.relative_to(other)
    assert not same_name.exists() or same_name.read_bytes() != first.read_bytes()
    assert all(TUEG_PATH.match(p.relative_to(other).as_posix()) for p in _edfs(other))


def test_unknown_corpus_and_bad_sizes(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"allowed 'tuh', 'tuab', 'tuev'; got 'tuxx'"):
        write_demo_corpus(tmp_path, corpus="tuxx")
    with pytest.raises(ValueError, match="n_subjects"):
        write_demo_corpus(tmp_path, n_subjects=0)
    assert not list(tmp_path.iterdir())


def test_subject_id() -> None:
    assert subject_id(0) == "aaaaaaaa"
    assert subject_id(1) == "aaaaaaab"
    assert subject_id(26) == "aaaaaaba"


def test_mne_opens_a_mixed_rate_file(corpus: tuple[Path, float]) -> None:
    mne = pytest.importorskip("mne")
    path = _edfs(corpus[0])[0]
    raw = mne.io.read_raw_edf(path, verbose="error")
    with pyedflib.EdfReader(str(path)) as f:
        assert raw.ch_names == f.getSignalLabels()
        assert raw.info["sfreq"] == f.getSampleFrequency(0)


def test_the_demo_never_overwrites_a_folder_that_is_not_a_demo(tmp_path: Path) -> None:
    """``eegprep demo --out /data`` beside a real ``/data/tuh`` overwrote its ``AAREADME.txt``
    and any recording named as a demo file (real TUH names: ``aaaaaaaa_s001_t000.edf``). A
    folder that holds files and no demo mark is refused, its bytes unchanged; a demo's own
    folder is written again."""
    from click.testing import CliRunner

    from cli import eegprep_cli

    real = tmp_path / "data" / "tuh"
    rel = "edf/000/aaaaaaaa/s001_2009_12_30/01_tcp_ar/aaaaaaaa_s001_t000.edf"
    (real / rel).parent.mkdir(parents=True)
    (real / rel).write_bytes(b"a real recording")
    (real / "AAREADME.txt").write_text("the real readme")
    res = CliRunner().invoke(eegprep_cli, ["demo", "--out", str(tmp_path / "data")])
    assert res.exit_code == 2 and "is not a demo corpus" in res.output, res.output
    assert (real / rel).read_bytes() == b"a real recording"
    assert (real / "AAREADME.txt").read_text() == "the real readme"
    assert sorted(p.name for p in real.rglob("*") if p.is_file()) == [
        "AAREADME.txt", "aaaaaaaa_s001_t000.edf"
    ]  # fmt: skip
    for _ in range(2):  # a demo folder of its own: made, then written again
        res = CliRunner().invoke(eegprep_cli, ["demo", "--out", str(tmp_path / "demo")])
        assert res.exit_code == 0, res.output


def test_quiet_demo_prints_the_folder_the_next_command_takes(tmp_path: Path) -> None:
    """docs/cli.md: ``eegprep -q demo`` prints its result, the corpus folder, and nothing else,
    so that ``src=$(eegprep -q demo --out d)`` gives the ingest's ``--src``."""
    from click.testing import CliRunner

    from cli import eegprep_cli

    out = tmp_path / "d"
    res = CliRunner().invoke(eegprep_cli, ["-q", "demo", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert res.output.splitlines() == [str(out / "tuh")]
