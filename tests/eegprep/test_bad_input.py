"""The bad-input suite: a corpus that mixes good recordings with every kind of broken input.

Each broken file must give exactly one clear line naming the file and the problem, and the good
recordings must still be ingested. Files are written by pyedflib (good ones) and by our byte-level
EDF writer (broken ones), in the TUH layout.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from eegprep import open_store
from eegprep.base.errors import SourceError
from eegprep.corpus.sidecars import SIDECAR_PARSERS, SidecarResult
from eegprep.ingestion.driver import IngestConfig, ingest
from eegprep.testing.edf_writer import field_span, write_edf
from tests.conftest import write_tuh_edf

SERIAL = IngestConfig(workers=0, progress=False)
LABELS = ["EEG FP1-REF", "EEG FP2-REF", "EEG C3-REF", "EEG C4-REF", "EEG O1-REF", "EEG O2-REF"]


def _rel(subject: str) -> str:
    return f"edf/000/{subject}/s001_2015/01_tcp_ar/{subject}_s001_t000.edf"


def _eeg(n_ch: int, seconds: float, sfreq: float, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sfreq)) / sfreq
    return [20 * np.sin(2 * np.pi * 10 * t) + 10 * rng.standard_normal(t.size) for _ in range(n_ch)]


def _patch(path: Path, field: str, value: bytes, *, channel: int | None = None) -> None:
    data = bytearray(path.read_bytes())
    n_signals = int(data[252:256])
    span = field_span(field, n_signals=n_signals, channel=channel)
    data[span] = value.ljust(span.stop - span.start)
    path.write_bytes(bytes(data))


def _write(root: Path, subject: str, **kw: object) -> Path:
    path = root / _rel(subject)
    path.parent.mkdir(parents=True, exist_ok=True)
    labels = kw.pop("labels", LABELS)
    signals = kw.pop("signals", None) or _eeg(len(labels), 20, 250)  # type: ignore[arg-type]
    write_edf(path, signals, labels=labels, sfreqs=kw.pop("sfreqs", 250), **kw)  # type: ignore[arg-type]
    return path


def _good_bytes(tmp: Path) -> bytes:
    return _write(tmp, "zzzzzzzz").read_bytes()


def _broken_corpus(root: Path, tmp: Path) -> dict[str, str]:
    """Write the broken files; return {subject: expected message fragment}."""
    good = _good_bytes(tmp)
    ns = len(LABELS)
    record = (len(good) - 256 * (ns + 1)) // 20
    expect: dict[str, str] = {}

    def raw(subject: str, data: bytes, message: str) -> Path:
        path = root / _rel(subject)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        expect[subject] = message
        return path

    raw("baaaaaaa", b"", "file is empty")
    raw("baaaaaab", np.random.default_rng(1).bytes(4000), "not an EDF/BDF file")
    raw("baaaaaac", good[:200], "header truncated")
    raw("baaaaaad", good[: len(good) - 3 * record], "truncated")
    p = raw("baaaaaae", good, "truncated")
    _patch(p, "n_records", b"99999999")  # absurd record count
    p = raw("baaaaaaf", good, "claims 9999 signals")
    _patch(p, "n_signals", b"9999")
    p = raw("baaaaaag", good, "malformed signal count")
    _patch(p, "n_signals", b"\xe9\xe9")  # non-ASCII
    p = raw("baaaaaah", good, "signal 'EEG C3-REF': physical minimum equals maximum (-1000.0)")
    _patch(p, "physical_max", b"-1000", channel=2)
    _patch(p, "physical_min", b"-1000", channel=2)
    _write(root, "baaaaaai", labels=["EEG EKG1-REF", "PHOTIC-REF", "EEG ROC-REF"])
    expect["baaaaaai"] = "no EEG channel in the vocabulary"
    flat = [np.full(20 * 250, 12.5) for _ in LABELS]
    _write(root, "baaaaaaj", signals=flat)
    expect["baaaaaaj"] = "every EEG channel is constant"
    volts = [x * 1e-6 for x in _eeg(len(LABELS), 20, 250)]  # volts, header says uV
    _write(root, "baaaaaak", signals=volts)
    expect["baaaaaak"] = "probably in volts"
    _write(root, "baaaaaal", signals=_eeg(len(LABELS), 20, 100), sfreqs=100)
    expect["baaaaaal"] = "cannot carry the 75 Hz low-pass"
    p = raw("baaaaaam", good, "EDF header field record duration is 'abc', not a number")
    _patch(p, "record_duration", b"abc")
    return expect


def test_every_broken_file_is_one_clear_line_and_the_rest_ingests(tmp_path: Path) -> None:
    root = tmp_path / "tuh"
    write_tuh_edf(root / _rel("aaaaaaaa"), sfreq=250, seconds=20, seed=1)
    write_tuh_edf(root / _rel("aaaaaaab"), sfreq=256, seconds=20, seed=2)
    dupes = _write(root, "aaaaaaac", labels=[*LABELS, "EEG FP1-REF"], signals=_eeg(7, 20, 250))
    expect = _broken_corpus(root, tmp_path / "scratch")
    (root / "edf" / "stray.edf").write_bytes(b"0")  # matches no rule
    rep = ingest("tuh", src=root, out=tmp_path / "s.zarr", config=SERIAL)
    assert rep.n_ingested == 3, rep.failed
    assert {r.subject for r in open_store(tmp_path / "s.zarr").recordings} == {
        "aaaaaaaa", "aaaaaaab", "aaaaaaac"}  # fmt: skip
    lines = {line.split("/")[2]: line for line in rep.failed}
    assert set(lines) == set(expect), sorted(set(lines) ^ set(expect))
    for subject, fragment in expect.items():
        line = lines[subject]
        assert line.startswith(_rel(subject) + ": "), line
        assert fragment in line, (subject, line)
        assert "\n" not in line and "internal error" not in line
    assert rep.unmatched == ["edf/stray.edf: path matches no rule of tuh's path.pattern"]
    warn = rep.warnings[str(dupes.relative_to(root))]
    assert any("duplicate channels" in w and "'EEG FP1-REF'" in w for w in warn)
    assert rep.exit_code == 3


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "tuh"
    write_tuh_edf(root / _rel("aaaaaaaa"), sfreq=250, seconds=10)
    locked = root / _rel("aaaaaaab")
    write_tuh_edf(locked, sfreq=250, seconds=10)
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, m: real_access(p, m) and str(p) != str(locked))
    rep = ingest("tuh", src=root, out=tmp_path / "s.zarr", config=SERIAL)
    assert rep.n_ingested == 1
    assert rep.failed == [
        f"{_rel('aaaaaaab')}: permission denied: the file is not readable by this user"
    ]


def _sidecar_manifest(tmp_path: Path) -> Path:
    from eegprep.corpus.manifest import MANIFEST_DIR

    text = (MANIFEST_DIR / "tuh.toml").read_text()
    text += '\n[sidecar]\nparser = "test_lines"\nsuffixes = [".txt"]\nrequired = true\n'
    path = tmp_path / "tuh_with_sidecar.toml"
    path.write_text(text)
    return path


def _test_lines(paths: list[str], header: object, options: dict) -> SidecarResult:
    text = Path(paths[0]).read_text()
    try:
        onset, label = text.split(",")
        return SidecarResult(events=[[float(onset), 1.0, label.strip(), ""]])
    except ValueError:
        raise SourceError(paths[0], f"cannot parse sidecar line {text.strip()!r}") from None


def test_missing_and_broken_sidecars(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(SIDECAR_PARSERS, "test_lines", _test_lines)
    root = tmp_path / "tuh"
    for subject in ("aaaaaaaa", "aaaaaaab", "aaaaaaac"):
        write_tuh_edf(root / _rel(subject), sfreq=250, seconds=10)
    (root / _rel("aaaaaaaa")).with_suffix(".txt").write_text("2.5, seiz\n")
    (root / _rel("aaaaaaab")).with_suffix(".txt").write_text("garbage\n")
    rep = ingest(_sidecar_manifest(tmp_path), src=root, out=tmp_path / "s.zarr", config=SERIAL)
    assert rep.n_ingested == 1
    text = "\n".join(rep.failed)
    assert (
        f"{_rel('aaaaaaab')}: aaaaaaab_s001_t000.txt: cannot parse sidecar line 'garbage'" in text
    )
    sidecar = _rel("aaaaaaac").replace(".edf", ".txt")
    assert f"{_rel('aaaaaaac')}: missing sidecar {sidecar}" in text
    (rec,) = open_store(tmp_path / "s.zarr").recordings
    assert rec.events[0].label == "seiz" and rec.events[0].onset == 2.5


def test_the_suite_leaves_nothing_half_written(tmp_path: Path) -> None:
    root = tmp_path / "tuh"
    write_tuh_edf(root / _rel("aaaaaaaa"), sfreq=250, seconds=10)
    _broken_corpus(root, tmp_path / "scratch")
    out = tmp_path / "s.zarr"
    ingest("tuh", src=root, out=out, config=SERIAL)
    assert os.listdir(out / "_eegprep" / "staging") == []
    groups = sorted(p.name for p in (out / "recordings" / "tuh").iterdir() if p.is_dir())
    assert groups == ["aaaaaaaa_s001_t000"]
    shutil.rmtree(tmp_path / "scratch")


def test_a_sidecar_no_parser_can_read_is_one_line_naming_it(tmp_path: Path) -> None:
    """An ``events.tsv`` cell longer than the csv module's 128 KiB limit was ``internal error
    Error: field larger than field limit``, naming neither the sidecar nor the fix. Any
    exception a sidecar parser raises on a malformed sidecar is now one line naming it, and the
    rest of the corpus ingests."""
    from eegprep.testing.fixtures.misc import write_bids

    root = write_bids(tmp_path / "b")
    events = root / "sub-02" / "eeg" / "sub-02_task-oddball_events.tsv"
    header = events.read_text().splitlines()[0]
    events.write_text(f'{header}\n1.0\t0.5\t"{"A" * 200_000}"\t1\t250\n')
    cfg = IngestConfig(workers=0, progress=False, mains=50.0)
    rep = ingest("bids", src=root, out=tmp_path / "s.zarr", config=cfg)
    assert rep.n_ingested == rep.n_recordings - 1 and len(rep.failed) == 1
    (line,) = rep.failed
    assert line.startswith("sub-02/eeg/sub-02_task-oddball_eeg.vhdr: sidecar (")
    assert "sub-02_task-oddball_events.tsv" in line and "cannot be read: field larger" in line
    assert "internal error" not in line and "\n" not in line
