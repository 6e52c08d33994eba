from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from cli import eegprep_cli
from eegprep import open_store
from eegprep.base.errors import ConfigError
from eegprep.ingestion.driver import IngestConfig, ingest
from eegprep.pipeline.channels import VOCABULARY
from eegprep.store.validate import validate

SERIAL = IngestConfig(workers=0, progress=False)


def test_tuh_corpus_ingests_to_the_contract(tuh_corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "s.zarr"
    rep = ingest("tuh", src=tuh_corpus, out=out, config=SERIAL)
    assert (rep.n_files, rep.n_ingested, rep.failed, rep.unmatched) == (3, 3, [], [])
    s = open_store(out)
    recs = {r.id: r for r in s.recordings}
    a = recs["tuh/aaaaaaaa_s001_t000"]
    assert a.subject == "aaaaaaaa" and a.session == "s001" and a.subject_key == "tuh:aaaaaaaa"
    assert a.labels == {"montage": "01_tcp_ar"}
    assert a.n_samples == 40 * 200 and a.sfreq == 200
    assert a.channels[:2] == ("FP1", "FP2") and "T3" in a.channels and "A1" in a.channels
    assert all(VOCABULARY[i] == n for n, i in zip(a.channels, a.channel_index))
    le = recs["tuh/aaaaaaab_s002_t001"]
    assert "OZ" in le.channels and le.n_samples == 30 * 200
    ar_a = recs["tuh/aaaaaaac_s001_t000"]
    assert "A1" not in ar_a.channels and ar_a.n_samples == 25 * 200
    x = s.read(a.id)
    assert x.shape == (21, 8000) and x.dtype == np.float32
    # the 40 uV offset is gone (0.1 Hz high-pass), the 9 Hz rhythm is there
    assert abs(float(np.median(x[:, 2000:-2000]))) < 2.0
    assert 10 < float(np.std(x)) < 30
    dropped = dict(tuple(d) for d in a.meta["dropped_channels"])
    assert dropped["EEG 26-REF"] == "non-EEG (numbered input)"  # TUH's numbered inputs
    assert dropped["IBI"].startswith("non-EEG")
    assert a.meta["qc"]["line_noise_db"]["60"] > 6


def test_rerun_writes_nothing(tuh_corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "s.zarr"
    ingest("tuh", src=tuh_corpus, out=out, config=SERIAL)
    before = {p: p.stat().st_mtime_ns for p in (out / "recordings").rglob("*") if p.is_file()}
    rep = ingest("tuh", src=tuh_corpus, out=out, config=SERIAL)
    assert (rep.n_ingested, rep.n_current) == (0, 3)
    after = {p: p.stat().st_mtime_ns for p in (out / "recordings").rglob("*") if p.is_file()}
    assert before == after
    verified = IngestConfig(workers=0, progress=False, verify_checksums=True)
    assert ingest("tuh", src=tuh_corpus, out=out, config=verified).n_current == 3
    # a changed source is re-ingested
    f = next(tuh_corpus.rglob("aaaaaaab_s002_t001.edf"))
    os.utime(f, ns=(f.stat().st_atime_ns, f.stat().st_mtime_ns + 10**9))
    rep = ingest("tuh", src=tuh_corpus, out=out, config=SERIAL)
    assert (rep.n_ingested, rep.n_current) == (1, 2), rep.failed


def test_bad_files_are_reported_and_the_rest_ingests(tuh_corpus: Path, tmp_path: Path) -> None:
    bad = tuh_corpus / "edf/002/aaaaaaad/s001_2015/01_tcp_ar/aaaaaaad_s001_t000.edf"
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"not an edf at all" * 40)
    empty = tuh_corpus / "edf/002/aaaaaaae/s001_2015/01_tcp_ar/aaaaaaae_s001_t000.edf"
    empty.parent.mkdir(parents=True)
    empty.write_bytes(b"")
    stray = tuh_corpus / "edf/notes.edf"
    stray.write_bytes(b"")
    out = tmp_path / "s.zarr"
    rep = ingest("tuh", src=tuh_corpus, out=out, config=SERIAL)
    assert rep.n_ingested == 3 and rep.exit_code == 3
    text = "\n".join(rep.failed)
    assert "aaaaaaad_s001_t000.edf: not an EDF/BDF file" in text
    assert "aaaaaaae_s001_t000.edf: file is empty" in text
    assert rep.unmatched == ["edf/notes.edf: path matches no rule of tuh's path.pattern"]
    assert len(open_store(out)) == 3
    saved = open_store(out).reports()[-1]
    assert saved["failed"] == rep.failed


def test_root_one_level_up_or_down(tuh_corpus: Path, tmp_path: Path) -> None:
    down = ingest("tuh", src=tuh_corpus / "edf", out=tmp_path / "a.zarr", config=SERIAL)
    up = ingest("tuh", src=tuh_corpus.parent, out=tmp_path / "b.zarr", config=SERIAL)
    assert down.n_ingested == up.n_ingested == 3


def test_distributed_run_equals_serial(
    tuh_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        "eegprep.ingestion.workers.POOL_START_SECONDS", 0.0
    )  # a pool even for 3 files
    ingest("tuh", src=tuh_corpus, out=tmp_path / "a.zarr", config=SERIAL)
    rep = ingest(
        "tuh",
        src=tuh_corpus,
        out=tmp_path / "b.zarr",
        config=IngestConfig(workers=2, progress=False),
    )
    assert rep.n_ingested == 3
    a, b = open_store(tmp_path / "a.zarr"), open_store(tmp_path / "b.zarr")
    for r in a.recordings:
        np.testing.assert_array_equal(a.read(r.id), b.read(r.id))
    # (by name: a folder lists its files in the file system's order, which may be the order
    # they were made in, and the two stores' ingests made them in different orders)
    idx_a = sorted((tmp_path / "a.zarr/_eegprep/index").iterdir())
    idx_b = sorted((tmp_path / "b.zarr/_eegprep/index").iterdir())
    assert [p.name for p in idx_a] == [p.name for p in idx_b]
    assert [p.read_bytes() for p in idx_a] == [p.read_bytes() for p in idx_b]


def test_matches_the_mne_path_on_a_real_layout_file(tmp_path: Path) -> None:
    import mne

    from tests.conftest import write_tuh_edf

    root = tmp_path / "tuh"
    rel = "edf/000/aaaaaaab/s002_2015/02_tcp_le/aaaaaaab_s002_t001.edf"
    write_tuh_edf(root / rel, sfreq=256, seconds=120, montage="02_tcp_le", seed=5)
    out = tmp_path / "s.zarr"
    ingest("tuh", src=root, out=out, config=SERIAL)
    s = open_store(out)
    rec = s.recording("tuh/aaaaaaab_s002_t001")  # 256 Hz: MNE's resampling keeps time here
    raw = mne.io.read_raw_edf(root / rel, preload=True, verbose="error")
    raw.pick([f"EEG {c}-LE" for c in rec.channels])
    raw.filter(0.1, 75.0, verbose="error")
    raw.notch_filter(60.0, verbose="error")
    raw.resample(200, verbose="error")
    ref = raw.get_data(units="uV")
    ours = s.read(rec.id)
    assert ours.shape == ref.shape
    inner = slice(2000, -2000)  # the first and last 10 s differ more: docs/preprocessing.md
    err = np.sqrt(np.mean((ours[:, inner] - ref[:, inner]) ** 2)) / np.std(ref[:, inner])
    assert err < 0.005


def test_cli_ingest_stats_and_exit_codes(tuh_corpus: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    out = str(tmp_path / "s.zarr")
    res = runner.invoke(
        eegprep_cli, ["ingest", "tuh", "--src", str(tuh_corpus), "--out", out, "--workers", "0"]
    )
    assert res.exit_code == 0, res.output
    assert "3 ingested" in res.output
    res = runner.invoke(eegprep_cli, ["stats", out, "--json"])
    assert res.exit_code == 0 and '"recordings": 3' in res.output
    assert json.loads(res.output)["corpora"]["tuh"]["encodings"] == {"quantized": 3}
    res = runner.invoke(eegprep_cli, ["stats", out])
    assert res.exit_code == 0 and "stored" in res.output and "quantizedx3" in res.output
    res = runner.invoke(eegprep_cli, ["stats", out, "--plots", str(tmp_path / "plots")])
    assert res.exit_code == 0
    assert {p.name for p in (tmp_path / "plots").iterdir()} == {
        "hours_per_corpus.png",
        "channel_coverage.png",
        "mean_spectrum.png",
    }
    res = runner.invoke(eegprep_cli, ["ingest", "tuhh", "--out", out])
    assert res.exit_code == 2 and "Did you mean 'tuh'" in res.output
    res = runner.invoke(eegprep_cli, ["stats", str(tmp_path / "nothing.zarr")])
    assert res.exit_code == 2 and res.output.count("\n") == 1


def test_src_from_environment_or_config(
    tuh_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EEGPREP_CONFIG", str(tmp_path / "cfg.toml"))
    monkeypatch.delenv("EEGPREP_TUH_DIR", raising=False)
    runner = CliRunner()
    res = runner.invoke(eegprep_cli, ["ingest", "tuh", "--out", str(tmp_path / "a.zarr")])
    assert res.exit_code == 2 and "EEGPREP_TUH_DIR" in res.output
    with pytest.raises(ConfigError, match="eegprep config set tuh"):
        ingest("tuh", out=tmp_path / "a.zarr", config=SERIAL)
    res = runner.invoke(eegprep_cli, ["config", "set", "tuh", str(tuh_corpus)])
    assert res.exit_code == 0
    assert ingest("tuh", out=tmp_path / "b.zarr", config=SERIAL).n_ingested == 3
    monkeypatch.setenv("EEGPREP_TUH_DIR", str(tmp_path / "elsewhere"))
    with pytest.raises(Exception, match="elsewhere"):
        ingest("tuh", out=tmp_path / "c.zarr", config=SERIAL)


def test_qc_head_is_kept_from_the_first_block(
    tuh_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The QC head (the first seconds of every channel) is kept from the first block's read,
    not read again; a head read on its own gives the same QC."""
    import eegprep.ingestion.task as task_module

    cfg = IngestConfig(workers=0, progress=False)
    reads: list[str] = []
    real_read_head = task_module._read_head

    def counting_read_head(*args, **kwargs):  # type: ignore[no-untyped-def]
        reads.append("head")
        return real_read_head(*args, **kwargs)

    monkeypatch.setattr(task_module, "_read_head", counting_read_head)
    ingest("tuh", src=tuh_corpus, out=tmp_path / "kept.zarr", config=cfg)
    assert reads == []  # every head came from the first block
    real_blocks = task_module.preprocessed_blocks
    monkeypatch.setattr(  # no head left by the first block: each is read on its own
        task_module,
        "preprocessed_blocks",
        lambda *args, **kw: real_blocks(*args[:6], None),
    )
    ingest("tuh", src=tuh_corpus, out=tmp_path / "read.zarr", config=cfg)
    kept, read = open_store(tmp_path / "kept.zarr"), open_store(tmp_path / "read.zarr")
    assert len(reads) == len(kept) > 0
    for rid, row in kept.index_rows().items():
        assert row["qc"] == read.index_rows()[rid]["qc"]


def test_line_noise_of_non_finite_samples_is_quiet() -> None:
    """A source with NaN/inf samples is refused in one line after preprocessing; the line-noise
    check of its head before that prints no numpy warnings beside it."""
    import warnings

    from eegprep.pipeline.qc import line_noise_db

    x = np.random.default_rng(0).normal(0, 20, (4, 250 * 10))
    x[1, 100] = np.nan
    x[2, 200] = np.inf
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert set(line_noise_db(x, 250.0)) <= {"50", "60"}


def test_a_noise_free_signal_shows_no_line_noise() -> None:
    """Pure sines (synthetic data, a calibration file): the neighbourhood of 50/60 Hz is
    round-off, and a round-off peak over it is not hundreds of dB of line noise."""
    from eegprep.pipeline.qc import LINE_PEAK_DB, check_mains, line_noise_db

    t = np.arange(int(40 * 400)) / 400.0
    x = np.stack([np.sin(2 * np.pi * 10 * t), np.sin(2 * np.pi * 7 * t)]) * 30.0
    db = line_noise_db(x, 400.0)
    assert all(v < LINE_PEAK_DB for v in db.values()), db
    assert check_mains(db, 60.0) is None
    noisy = x + 5.0 * np.sin(2 * np.pi * 50 * t)  # real 50 Hz interference is still seen
    assert line_noise_db(noisy, 400.0)["50"] >= LINE_PEAK_DB


def test_a_periodic_signal_s_harmonic_at_the_other_mains_is_not_line_noise() -> None:
    """A calibration square wave of 10 Hz has lines at 10, 30 and 50 Hz: the 50 Hz one is its
    fifth harmonic, and a corpus whose manifest says 60 Hz gets no "line noise peaks at 50 Hz"
    warning for it; a mains line taller than anything below it still gets one."""
    from eegprep.pipeline.qc import check_head, summarize

    fs = 256.0
    t = np.arange(int(40 * fs)) / fs
    rng = np.random.default_rng(3)
    square = 50.0 * np.sign(np.sin(2 * np.pi * 10 * t)) + rng.normal(0, 0.01, t.size)
    labels = ["FP1", "FP2", "C3", "C4"]
    head = check_head(np.tile(square, (4, 1)), labels, fs)
    assert head.line_noise_db["50"] > 20 and head.line_harmonics == ("50",)
    assert not [w for w in summarize([30.0] * 4, labels, head, 60.0)[1] if "line noise" in w]

    hum = rng.normal(0, 10, (4, t.size)) + 40.0 * np.sin(2 * np.pi * 50 * t) + square
    head = check_head(hum, labels, fs)
    assert head.line_harmonics == ()
    warnings = summarize([30.0] * 4, labels, head, 60.0)[1]
    assert any("line noise peaks at 50 Hz" in w for w in warnings), warnings


def test_a_touched_corpus_verified_once_stays_current(tuh_corpus: Path, tmp_path: Path) -> None:
    """Files rewritten with the same bytes and new mtimes (a second `eegprep demo`, `touch`)
    are re-ingested by a plain run, but once `--verify-checksums` has found their bytes
    unchanged, the next plain run takes them as current: it re-ingested every one of them,
    right after being told they were all current."""
    out = tmp_path / "s.zarr"
    ingest("tuh", src=tuh_corpus, out=out, config=SERIAL)
    for f in tuh_corpus.rglob("*.edf"):
        os.utime(f, ns=(f.stat().st_atime_ns, f.stat().st_mtime_ns + 10**9))
    verified = IngestConfig(workers=0, progress=False, verify_checksums=True)
    rep = ingest("tuh", src=tuh_corpus, out=out, config=verified)
    assert (rep.n_ingested, rep.n_current) == (0, 3)
    rep = ingest("tuh", src=tuh_corpus, out=out, config=SERIAL)
    assert (rep.n_ingested, rep.n_current) == (0, 3), rep.failed
    assert validate(str(out)) == (3, [])  # the noted stamps are no damage of the cache
    f = next(tuh_corpus.rglob("aaaaaaab_s002_t001.edf"))  # touched again: not verified
    os.utime(f, ns=(f.stat().st_atime_ns, f.stat().st_mtime_ns + 10**9))
    rep = ingest("tuh", src=tuh_corpus, out=out, config=SERIAL)
    assert (rep.n_ingested, rep.n_current) == (1, 2), rep.failed
