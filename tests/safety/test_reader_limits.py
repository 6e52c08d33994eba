"""Bounded resources: a file that would take more memory than the per-file budget is refused in
one line before anything is allocated (zlib bombs, absurd header claims), and a file that takes
longer than ``--file-time-limit`` is refused; a genuine file is not."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import scipy.io
from click.testing import CliRunner

from cli import eegprep_cli
from eegprep import open_store
from eegprep.base import limits
from eegprep.base.errors import SourceError, UsageError
from eegprep.base.limits import Limits, parse_size
from eegprep.ingestion.driver import IngestConfig, ingest
from eegprep.readers.matlab import MatReader
from eegprep.readers.matlab_files import clear_cache
from eegprep.testing.edf_writer import write_edf

MiB = 1024**2
LABELS = ["EEG FP1-REF", "EEG FP2-REF", "EEG C3-REF", "EEG C4-REF"]
REL = "edf/000/{s}/s001_2015/01_tcp_ar/{s}_s001_t000.edf"


def _tuh_edf(root: Path, subject: str, **kw: object) -> Path:
    path = root / REL.format(s=subject)
    path.parent.mkdir(parents=True, exist_ok=True)
    sfreq = float(kw.pop("sfreq", 250.0))  # type: ignore[arg-type]
    seconds = float(kw.pop("seconds", 20.0))  # type: ignore[arg-type]
    labels = list(kw.pop("labels", LABELS))  # type: ignore[call-overload]
    rng = np.random.default_rng(0)
    t = np.arange(int(sfreq * seconds)) / sfreq
    signals = [20 * np.sin(2 * np.pi * 10 * t) + 5 * rng.standard_normal(t.size) for _ in labels]
    write_edf(path, signals, labels=labels, sfreqs=sfreq, **kw)  # type: ignore[arg-type]
    return path


def _bomb(path: Path) -> None:
    """64 MB of zeros in one compressed MAT v5 variable: a ~64 KB file."""
    scipy.io.savemat(path, {"x": np.zeros((16, 500_000)), "fs": 250.0}, do_compression=True)


def test_mat_zlib_bomb_is_refused_before_inflating(tmp_path: Path) -> None:
    path = tmp_path / "bomb.mat"
    _bomb(path)
    assert path.stat().st_size < 1 * MiB
    clear_cache()
    over = r"variable 'x' needs 122 MiB, over the per-file"
    with limits.activated(Limits(memory_bytes=16 * MiB)), pytest.raises(SourceError, match=over):
        MatReader.read_header(str(path), data="x", sfreq=250)  # (its memory: the next test)


def test_mat_zlib_bomb_leaves_memory_flat(tmp_path: Path) -> None:
    """Measured in a fresh process: the refused read does not raise the peak RSS by 32 MiB."""
    path = tmp_path / "bomb.mat"
    _bomb(path)
    code = f"""
import sys
from eegprep.base import limits
from tests import peak_memory
from eegprep.base.errors import SourceError
from eegprep.readers.matlab import MatReader
before = peak_memory.start()
with limits.activated(limits.Limits(memory_bytes=64 * 1024**2)):
    try:
        MatReader.read_header({str(path)!r}, data="x", sfreq=250)
    except SourceError as exc:
        print(exc)
print((peak_memory.peak() - before) // 1024**2)
"""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    message, grown_mib = out.stdout.strip().splitlines()
    assert "over the per-file memory limit of 64 MiB" in message
    assert int(grown_mib) < 32, out.stdout


def test_mat_stream_that_inflates_past_its_declared_size_is_refused(tmp_path: Path) -> None:
    import zlib

    path = tmp_path / "small.mat"
    scipy.io.savemat(path, {"x": np.arange(8.0).reshape(2, 4)}, do_compression=True)
    data = path.read_bytes()
    inner = zlib.decompress(data[136:])
    fat = zlib.compress(inner + bytes(4 * MiB))  # 4 MiB more than the element declares
    tag = (15).to_bytes(4, "little") + len(fat).to_bytes(4, "little")
    path.write_bytes(data[:128] + tag + fat)
    clear_cache()
    with pytest.raises(SourceError, match=r"zlib stream inflates past the \d+ bytes it declares"):
        MatReader.read_header(str(path), data="x", sfreq=250)


def test_mat_v73_dataset_over_the_budget_is_refused(tmp_path: Path) -> None:
    import h5py

    path = tmp_path / "big.mat"
    with h5py.File(path, "w", userblock_size=512) as f:
        ds = f.create_dataset("x", shape=(4_000_000, 8), dtype="f8", chunks=(500_000, 8))
        ds.attrs["MATLAB_class"] = b"double"
    with open(path, "r+b") as fh:
        fh.write(b"MATLAB 7.3 MAT-file".ljust(116) + bytes(8) + b"\x00\x02IM")
    over = r"one HDF5 chunk of 'x' needs 30.5 MiB"
    with limits.activated(Limits(memory_bytes=16 * MiB)), pytest.raises(SourceError, match=over):
        MatReader.read_header(str(path), data="x", sfreq=250)


def test_mat_v73_shape_claiming_more_than_the_file_stores_is_refused(tmp_path: Path) -> None:
    """A small variable whose (flipped) shape claims 400 MB that the 100 kB file does not
    hold: h5py read it whole, as fill values, under the budget (only the data variable was
    checked against the chunks written); now every variable read is checked against the bytes
    the file stores for it."""
    import h5py

    path = tmp_path / "claims.mat"
    with h5py.File(path, "w", userblock_size=512) as f:
        x = f.create_dataset("x", data=np.zeros((2500, 4)))
        x.attrs["MATLAB_class"] = b"double"
        fs = f.create_dataset("fs", shape=(50_000_000, 1), dtype="f8", chunks=(1000, 1))
        fs[0] = 250.0  # one chunk of 50,000 written
        fs.attrs["MATLAB_class"] = b"double"
    with open(path, "r+b") as fh:
        fh.write(b"MATLAB 7.3 MAT-file".ljust(116) + bytes(8) + b"\x00\x02IM")
    said = (
        r"claims.mat: variable 'fs' declares shape \(1, 50000000\) \(400,000,000 bytes\) but "
        r"the file stores 8,000 bytes of it \(file size [\d,]+\): its HDF5 header is damaged"
    )
    clear_cache()
    with limits.activated(Limits(memory_bytes=512 * MiB)), pytest.raises(SourceError, match=said):
        MatReader.read_header(str(path), data="x", sfreq_variable="fs")


def test_edf_claiming_99999999_records_is_refused_at_once(tmp_path: Path) -> None:
    root = tmp_path / "tuh"
    path = _tuh_edf(root, "aaaaaaaa")
    data = bytearray(path.read_bytes())
    data[236:244] = b"99999999"
    path.write_bytes(bytes(data))
    t0 = time.perf_counter()
    rep = ingest("tuh", src=root, out=tmp_path / "s.zarr", config=IngestConfig(workers=0))
    assert time.perf_counter() - t0 < 60  # (a guard: reading 99999999 records would hang)
    (line,) = rep.failed
    assert "file is truncated: its header claims 99999999 data records" in line
    assert "\n" not in line


def test_edf_claiming_500_khz_is_refused_before_allocating(tmp_path: Path) -> None:
    root = tmp_path / "tuh"
    labels = [f"EEG {s}-REF" for s in "FP1 FP2 F3 F4 C3 C4 P3 P4 O1 O2 F7 F8 T3 T4".split()]
    labels += [f"EEG {s}-REF" for s in "T5 T6 FZ CZ PZ".split()]  # 19 channels
    _tuh_edf(root, "aaaaaaaa", sfreq=500_000.0, seconds=1.0, labels=labels, record_duration=0.01)
    t0 = time.perf_counter()
    rep = ingest("tuh", src=root, out=tmp_path / "s.zarr", config=IngestConfig(workers=0))
    assert time.perf_counter() - t0 < 60  # (a guard against a hang, not a speed measure)
    (line,) = rep.failed
    assert "block of 19 channels at 500000 Hz needs" in line
    assert "over the per-file memory limit of 2 GiB" in line and "--file-memory-limit" in line


def test_a_tight_budget_shortens_blocks_and_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from eegprep.pipeline import preprocess

    root = tmp_path / "tuh"
    _tuh_edf(root, "aaaaaaaa", seconds=30.0)
    default = ingest("tuh", src=root, out=tmp_path / "a.zarr", config=IngestConfig(workers=0))
    blocks: list[float] = []
    real_stream = preprocess.stream

    def spy(read, n_channels, n_in, sfreq_in, mains, recipe):  # type: ignore[no-untyped-def]
        blocks.append(recipe.block_seconds)
        return real_stream(read, n_channels, n_in, sfreq_in, mains, recipe)

    monkeypatch.setattr(preprocess, "stream", spy)
    # 4 channels x 250 Hz x 24 B = 24 kB per second; a 120 s block and its ~42 s of margins
    # need 3.9 MB, a 60 s block 2.4 MB, a 30 s block 1.7 MB
    tight = IngestConfig(workers=0, file_memory_limit=2 * MiB)
    rep = ingest("tuh", src=root, out=tmp_path / "b.zarr", config=tight)
    assert blocks == [30.0]
    assert default.n_ingested == rep.n_ingested == 1, rep.failed
    a, b = open_store(tmp_path / "a.zarr"), open_store(tmp_path / "b.zarr")
    (ra,), (rb,) = a.recordings, b.recordings
    np.testing.assert_allclose(b.read(rb.id), a.read(ra.id), atol=1e-3)


def test_time_limit_refuses_a_slow_file(tmp_path: Path) -> None:
    root = tmp_path / "tuh"
    _tuh_edf(root, "aaaaaaaa")
    cfg = IngestConfig(workers=0, file_time_limit=1e-6)
    (line,) = ingest("tuh", src=root, out=tmp_path / "s.zarr", config=cfg).failed
    assert line.endswith("took longer than the per-file limit of 1e-06 s (--file-time-limit)")


def test_sizes_parse_and_bad_ones_are_usage_errors(tmp_path: Path) -> None:
    assert parse_size("2G") == 2 * 1024**3
    assert parse_size("512M") == 512 * MiB
    assert parse_size("1.5GiB") == 3 * 512 * MiB
    assert parse_size("4096") == 4096
    for bad in ("", "2X", "-1G", "0"):
        with pytest.raises(UsageError, match="Invalid size"):
            parse_size(bad)
    with pytest.raises(UsageError, match="file_time_limit"):
        Limits(seconds=0.0)
    out = CliRunner().invoke(
        eegprep_cli,
        ["ingest", "tuh", "--src", str(tmp_path), "--out", str(tmp_path / "s.zarr"),
         "--file-memory-limit", "lots"],
    )  # fmt: skip
    assert out.exit_code == 2
    assert "Invalid value for '--file-memory-limit': 'lots'" in out.output


def test_a_huge_sidecar_is_refused_before_it_is_read(tmp_path: Path) -> None:
    """Sidecars are text parsed whole: their size counts against the per-file budget."""
    from eegprep.ingestion.driver import IngestConfig, ingest
    from eegprep.testing.fixtures.tuh import write_tusz

    src = write_tusz(tmp_path)
    big = next(src.rglob("aaaaaaae_s001_t000.csv"))
    with open(big, "a") as fh:
        fh.write("# padding\n" * 300_000)  # 3 MB of comments
    cfg = IngestConfig(workers=0, progress=False, file_memory_limit=16 * 1024**2)
    rep = ingest("tusz", src=src, out=tmp_path / "s.zarr", config=cfg)
    assert rep.n_ingested == 2 and len(rep.failed) == 1
    assert "aaaaaaae_s001_t000.csv" in rep.failed[0] and "sidecar" in rep.failed[0]


HUGE = "missing entries at indices [" + ", ".join(map(str, range(1_000_000))) + "]"  # ~7 MB


def test_a_library_message_of_megabytes_becomes_one_short_line() -> None:
    """A reader library's message can be huge (MNE lists every missing index of a header that
    claims 10^8 channels): the error line keeps its start and says how much was cut."""
    from eegprep.readers.base import exception_summary

    summary = exception_summary(RuntimeError(HUGE))
    assert summary.startswith("RuntimeError: missing entries at indices [0, 1, 2")
    assert len(summary) < 700 and "more characters)" in summary
    err = SourceError("x.vhdr", "MNE cannot read this file: " + HUGE)
    assert len(str(err)) < 800 and "\n" not in str(err)


def test_a_library_message_that_opens_with_a_traceback_gives_its_cause() -> None:
    """MNE's CNT reader raises messages that start with a traceback (a path inside MNE): the
    line names the error inside it instead."""
    from eegprep.readers.base import exception_summary

    message = (
        '\n  File "/site-packages/mne/io/cnt/_utils.py", line 188, in _compute_robust_sizes\n'
        "    raise RuntimeError(\n\nRuntimeError: Could not automatically compute number of "
        "bytes per sample as the number of samples (according to header) is 0.  set "
        "data_format manually.\n\nWARNING: mne.io.read_raw_cnt supports Neuroscan CNT files only."
    )
    summary = exception_summary(RuntimeError(message))
    assert summary.startswith("RuntimeError: Could not automatically compute number of bytes")
    assert "site-packages" not in summary and "\n" not in summary
    # a traceback with no error line inside keeps the first line, as before
    assert exception_summary(RuntimeError('File "x.py", line 1\n  y')) == (
        'RuntimeError: File "x.py", line 1'
    )


@pytest.mark.parametrize("raised", [RuntimeError, SourceError, UsageError])
def test_a_huge_message_fails_one_file_quickly(
    raised: type[Exception], tuh_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever a reader raises with a message of megabytes (a bug's exception, a source error,
    a usage error), the ingest reports one short line for that file, its report's traceback is
    clipped too, and the run takes seconds, not the minutes that redacting 10^9 characters
    would (the class of the fuzz case NumberOfChannels=99999999)."""
    from eegprep.readers.edf import EdfReader

    original = EdfReader.read_header.__func__  # type: ignore[attr-defined]

    def header(cls: type, path: str, **kw: object) -> object:
        if path.endswith("aaaaaaaa_s001_t000.edf"):
            raise raised(path, HUGE) if raised is SourceError else raised(HUGE)
        return original(cls, path, **kw)

    monkeypatch.setattr(EdfReader, "read_header", classmethod(header))
    t0 = time.perf_counter()
    rep = ingest("tuh", src=tuh_corpus, out=tmp_path / "s.zarr", config=IngestConfig(workers=0))
    assert time.perf_counter() - t0 < 60  # (a guard against a hang, not a speed measure)
    assert len(rep.failed) == 1 and rep.n_ingested >= 1, rep.failed
    assert len(rep.failed[0]) < 1000 and "more characters)" in rep.failed[0]
    saved = open_store(tmp_path / "s.zarr").reports()[-1]
    assert len(str(saved)) < 200_000


def test_csv_line_longer_than_4_mib_is_refused_before_it_is_read(tmp_path: Path) -> None:
    """A 500 MB line (line ends lost, or not a table) took over 4 GB in Python's split and
    numpy's tokenizer whatever --file-memory-limit said; a line over 4 MiB is now refused from
    a streamed scan, wherever it is. A table ended by ``\\r`` (old Mac exports) reads as before."""
    from eegprep.readers.csv_table import CsvReader, clear_cache

    rows = "\n".join(f"{i % 7},{i % 5}" for i in range(1000))
    for where, text in (
        ("first data row", "Fp1,Fp2\n" + "1.0," * 1_400_000 + "1\n" + rows),
        ("a later row", "Fp1,Fp2\n" + rows + "\n" + "1.0," * 1_400_000 + "1\n"),
        ("no line ends", "Fp1,Fp2\t" + "1.0\t" * 1_400_000),
    ):
        path = tmp_path / "long.csv"
        path.write_text(text)
        clear_cache()
        too_long = r"the line from byte \d+ is longer than 4 MiB"
        with pytest.raises(SourceError, match=too_long) as err:
            CsvReader.read_header(str(path), sfreq=250)
        assert "\n" not in str(err.value), where
    path = tmp_path / "mac.csv"
    path.write_text("Fp1,Fp2\r" + "\r".join(f"{i % 7}.25,{i % 5}.5" for i in range(700_000)) + "\r")
    assert path.stat().st_size > 4 * MiB
    clear_cache()
    header = CsvReader.read_header(str(path), sfreq=250)
    assert [s.n_samples for s in header.signals] == [700_000, 700_000]
