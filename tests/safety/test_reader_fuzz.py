"""Seeded mutations of real headers through the readers: an ingested recording or one line.

Seeds: EDF+ and BDF files other software wrote (pyedflib ships them: an XLTEK clinical export
and EDFbrowser's test generator), a BrainVision header pybv writes, GDF 1.25 and 2.20 files
and a Neuroscan CNT file (``eegprep.testing.fixtures``: MNE reads GDF and CNT but cannot write
them). Each mutation changes one header field (counts, ranges, labels, the reserved field,
rates, lengths, sample types, calibrations) or the file's length, and is ingested alone
(workers=0) under a time limit. Every outcome must be an ingested, listed recording or one
failure line that names the file: no internal error, no traceback, no hang, no staging
leftover, and the store still validates.

The default run takes a small subset; ``-m slow`` runs all of them.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import signal
import struct
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from eegprep.base.errors import SourceError
from eegprep.corpus.manifest import load_manifest
from eegprep.ingestion.driver import IngestConfig, ingest
from eegprep.readers.mne_formats import MneReader
from eegprep.store.validate import validate

N_FAST, N_ALL = 12, 300
LIMIT_S = 60  # a guard against a hang: one ingest of a ~200 kB file takes well under a second
SERIAL = IngestConfig(workers=0, progress=False, mains=50.0)

# EDF main header fields (offset, width) and per-signal fields (width), by the EDF spec.
_MAIN = {"version": (0, 8), "header_bytes": (184, 8), "reserved": (192, 44),
         "n_records": (236, 8), "record_s": (244, 8), "n_signals": (252, 4)}  # fmt: skip
_SIGNAL = ["label", "transducer", "unit", "pmin", "pmax", "dmin", "dmax", "prefilter",
           "n_samples", "reserved"]  # fmt: skip
_WIDTH = dict(zip(_SIGNAL, [16, 80, 8, 8, 8, 8, 8, 80, 8, 32]))
_NASTY = ["0", "-1", "1", "99999999", "-9999999", "1e308", "nan", "inf", "abc", "", " 1 2",
          "EDF+C", "EDF+D", "BIOSEMI", "24BIT", "\x00\x00", "0.0001", "EEG Fp1", "Fp1",
          "EDF Annotations", "uV", "mV", "V", "-32768", "32767", "8388607"]  # fmt: skip


def _seeds() -> dict[str, bytes]:
    import pyedflib

    data = Path(pyedflib.__file__).parent / "tests" / "data"
    return {
        "edf": (data / "test_subsecond.edf").read_bytes(),
        "bdf": (data / "test_generator_datarec_generator_2.bdf").read_bytes(),
    }


def _field(blob: bytearray, rng: random.Random) -> str:
    """Overwrite one header field with a nasty value; returns what was done."""
    n_signals = int(blob[252:256].decode("ascii", "replace").strip() or 0)
    value = rng.choice(_NASTY)
    if rng.random() < 0.4 or n_signals <= 0:
        name = rng.choice(list(_MAIN))
        offset, width = _MAIN[name]
    else:
        name = rng.choice(_SIGNAL)
        i = rng.randrange(n_signals)
        offset = 256 + sum(_WIDTH[f] * n_signals for f in _SIGNAL[: _SIGNAL.index(name)])
        offset, width = offset + i * _WIDTH[name], _WIDTH[name]
        name = f"{name}[{i}]"
    blob[offset : offset + width] = value.encode("latin-1")[:width].ljust(width)
    return f"{name}={value!r}"


def mutate_edf(seed: bytes, rng: random.Random) -> tuple[bytes, str]:
    blob = bytearray(seed)
    kind = rng.random()
    if kind < 0.7:
        what = _field(blob, rng)
    elif kind < 0.85:  # cut the file: a truncated download
        cut = rng.randrange(1, len(blob))
        what, blob = f"cut at {cut}", blob[:cut]
    else:  # extra bytes after the last record
        extra = rng.randrange(1, 5000)
        what = f"{extra} bytes appended"
        blob += bytes(rng.randrange(256) for _ in range(extra))
    return bytes(blob), what


def _vhdr_seed(folder: Path) -> Path:
    import pybv

    x = np.random.default_rng(0).normal(0, 20e-6, (4, 2500))
    pybv.write_brainvision(data=x, sfreq=250.0, ch_names=["Fp1", "Fp2", "Cz", "Oz"],
                           fname_base="seed", folder_out=str(folder), unit="µV",
                           events=np.array([[100, 1], [900, 2]]), overwrite=True)  # fmt: skip
    return folder / "seed.vhdr"


def mutate_vhdr(text: str, rng: random.Random) -> tuple[str, str]:
    lines = text.splitlines()
    keyed = [i for i, line in enumerate(lines) if "=" in line and not line.startswith(";")]
    i = rng.choice(keyed)
    key, _, value = lines[i].partition("=")
    parts = value.split(",")
    j = rng.randrange(len(parts))
    parts[j] = rng.choice(_NASTY)
    lines[i] = f"{key}={','.join(parts)}"
    return "\n".join(lines) + "\n", f"{key}[{j}]={parts[j]!r}"


def _gdf_seed(folder: Path, version: str = "1.25") -> bytes:
    from eegprep.testing.fixtures.gdf_writer import write_gdf

    x = np.random.default_rng(0).normal(0, 20, (4, 2500))
    labels = ["FP1", "FP2", "CZ", "OZ"]
    return write_gdf(folder / "seed.gdf", x, labels, 250, version=version).read_bytes()


_GDF_INTS = [0, -1, 1, 255, 65535, 2**31 - 1, -(2**31), 10**12, 2**63 - 1]
_GDF_FLOATS = [0.0, -0.0, -1.0, 1e-300, 1e308, float("nan"), float("inf")]
# the seed's binary fields: (name, offset of channel 0's, struct format), 4 channels; GDF 2
# holds some in narrower or float fields at the same places (written over with these formats)
_GDF_MAIN = [("header_bytes", 184, "<q"), ("n_records", 236, "<q"), ("record_num", 244, "<I"),
             ("record_den", 248, "<I"), ("n_signals", 252, "<I")]  # fmt: skip
_GDF_SIGNAL = [("pmin", 256 + 4 * 104, "<d"), ("pmax", 256 + 4 * 112, "<d"),
               ("dmin", 256 + 4 * 120, "<q"), ("dmax", 256 + 4 * 128, "<q"),
               ("n_samples", 256 + 4 * 216, "<i"), ("type", 256 + 4 * 220, "<i")]  # fmt: skip


def mutate_gdf(seed: bytes, rng: random.Random) -> tuple[bytes, str]:
    """One binary header field of the GDF seed set to a nasty value, or the file cut."""
    return _mutate_fields(
        seed, rng, _GDF_MAIN, _GDF_SIGNAL, 0.4, lambda i, at, fmt: at + i * struct.calcsize(fmt)
    )


def _cnt_seed(folder: Path) -> bytes:
    from eegprep.testing.fixtures.cnt_writer import write_cnt

    x = np.random.default_rng(0).normal(0, 20, (4, 2000))
    labels = ["FP1", "FP2", "CZ", "OZ"]
    path = write_cnt(folder / "seed.cnt", x, labels, 200, events=[(100, 1), (900, 2)])
    return path.read_bytes()


# the CNT seed's binary fields: SETUP's (name, offset, struct format), then each channel's
# ELECTLOC (offset within its 75 bytes after the 900-byte SETUP)
_CNT_MAIN = [
    ("n_channels", 370, "<H"),
    ("rate", 376, "<H"),
    ("n_samples", 864, "<i"),
    ("event_table", 886, "<i"),
    ("seconds", 890, "<f"),
    ("continuous", 894, "<i"),
]
_CNT_CHANNEL = [("baseline", 47, "<h"), ("sensitivity", 59, "<f"), ("calibration", 71, "<f")]


def mutate_cnt(seed: bytes, rng: random.Random) -> tuple[bytes, str]:
    """One binary header field of the CNT seed set to a nasty value, or the file cut."""
    return _mutate_fields(
        seed, rng, _CNT_MAIN, _CNT_CHANNEL, 0.5, lambda i, at, fmt: 900 + 75 * i + at
    )


_Field = tuple[str, int, str]  # name, offset, struct format


def _mutate_fields(
    seed: bytes,
    rng: random.Random,
    main: list[_Field],
    channel: list[_Field],
    main_share: float,
    place: Callable[[int, int, str], int],
) -> tuple[bytes, str]:
    """The file cut (15%), or one field set to a nasty value: of the main header (a share
    ``main_share`` of the rest) or of one of the seed's 4 channels, found at ``place(channel,
    offset, format)``."""
    blob = bytearray(seed)
    if rng.random() < 0.15:
        cut = rng.randrange(1, len(blob))
        return bytes(blob[:cut]), f"cut at {cut}"
    if rng.random() < main_share:
        name, offset, fmt = rng.choice(main)
    else:
        name, offset, fmt = rng.choice(channel)
        i = rng.randrange(4)
        name, offset = f"{name}[{i}]", place(i, offset, fmt)
    return _packed(blob, name, offset, fmt, rng)


def _packed(
    blob: bytearray, name: str, offset: int, fmt: str, rng: random.Random
) -> tuple[bytes, str]:
    """``blob`` with a nasty value of ``fmt`` (a float, or an integer wrapped to its width)
    packed at ``offset``; and what was done."""
    bits = 8 * struct.calcsize(fmt)
    value: float | int
    if fmt == "<d":
        value = rng.choice(_GDF_FLOATS)
    elif fmt == "<f":  # float32's extremes
        value = rng.choice([0.0, -0.0, -1.0, 1e-40, 3e38, float("nan"), float("inf")])
    elif fmt.isupper():  # unsigned
        value = rng.choice(_GDF_INTS) % 2**bits
    else:
        value = (rng.choice(_GDF_INTS) + 2 ** (bits - 1)) % 2**bits - 2 ** (bits - 1)
    struct.pack_into(fmt, blob, offset, value)
    return bytes(blob), f"{name}={value!r}"


@contextlib.contextmanager
def _time_limit(seconds: int, what: str) -> Iterator[None]:
    """A ``TimeoutError`` naming ``what`` in this (main) thread after ``seconds``: a hang fails
    the test."""

    def stop(signum: int, frame: object) -> None:
        raise TimeoutError(f"{what}: ran over {seconds} s (a hang)")

    old = signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _manifest(tmp: Path, reader: str) -> Path:
    text = Path(load_manifest("folder").file).read_text()
    text = text.replace('name = "folder"', f'name = "fuzz_{reader}"')
    text = text.replace('name = "mne"', f'name = "{reader}"')
    path = tmp / f"fuzz_{reader}.toml"
    path.write_text(text)
    return path


def _check_outcome(rep: object, name: str, what: str) -> None:
    failed = rep.failed  # type: ignore[attr-defined]
    assert rep.n_ingested + len(failed) == 1, (what, failed)  # type: ignore[attr-defined]
    for line in failed:
        assert "\n" not in line and line.startswith(name), (what, line)
        assert "internal error" not in line and "Traceback" not in line, (what, line)


def _check_store(store: Path) -> None:
    _, problems = validate(str(store))
    assert problems == [], problems
    staging = store / "_eegprep" / "staging"
    assert not staging.exists() or not any(staging.iterdir()), list(staging.iterdir())


def _cases(n: int) -> list[int]:
    return list(range(n))


# Seeds whose mutation exposes a reader defect; each is reported to the readers' owner.
KNOWN: dict[int, str] = {}


def _run(seed: int, tmp_path: Path) -> None:
    rng = random.Random(seed)
    src = tmp_path / "src"
    src.mkdir()
    fmt = ("edf", "bdf", "vhdr", "gdf", "cnt")[seed % 5]
    if fmt == "cnt":
        blob, what = mutate_cnt(_cnt_seed(tmp_path), rng)
        name, reader = f"m{seed}.cnt", "mne"
        (src / name).write_bytes(blob)
    elif fmt == "gdf":
        version = ("1.25", "2.20")[seed // 5 % 2]
        blob, what = mutate_gdf(_gdf_seed(tmp_path, version), rng)
        what = f"GDF {version} {what}"
        name, reader = f"m{seed}.gdf", "mne"
        (src / name).write_bytes(blob)
    elif fmt == "vhdr":
        _vhdr_seed(src)
        vhdr = src / "seed.vhdr"
        text, what = mutate_vhdr(vhdr.read_text(encoding="utf-8"), rng)
        vhdr.write_text(text, encoding="utf-8")
        name, reader = "seed.vhdr", "mne"
    else:
        blob, what = mutate_edf(_seeds()[fmt], rng)
        name, reader = f"m{seed}.{fmt}", "edf"
        (src / name).write_bytes(blob)
    store = tmp_path / "s.zarr"
    with _time_limit(LIMIT_S, f"ingest of seed {seed} ({what})"):
        rep = ingest(_manifest(tmp_path, reader), src=src, out=store, config=SERIAL)
    _check_outcome(rep, name, f"seed {seed}: {fmt} {what}")
    _check_store(store)


def _param(seed: int) -> object:
    if seed in KNOWN:
        return pytest.param(seed, marks=pytest.mark.xfail(strict=True, reason=KNOWN[seed]))
    return seed


@pytest.mark.parametrize("seed", [_param(s) for s in _cases(N_FAST)])
def test_mutated_header_gives_a_recording_or_one_line(seed: int, tmp_path: Path) -> None:
    _run(seed, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [_param(s) for s in range(N_FAST, N_ALL)])
def test_mutated_header_gives_a_recording_or_one_line_all(seed: int, tmp_path: Path) -> None:
    _run(seed, tmp_path)


def test_mutations_are_seeded() -> None:
    a = mutate_edf(_seeds()["edf"], random.Random(7))
    assert a == mutate_edf(_seeds()["edf"], random.Random(7))
    assert os.path.basename(__file__) == "test_reader_fuzz.py"


def test_a_header_claiming_absurd_channel_counts_is_refused_from_its_text(tmp_path: Path) -> None:
    """NumberOfChannels=99999999 with 4 channels listed: refused in well under a second, from
    the header itself (MNE would first build a 1 GB message), one line naming the file."""
    import time

    _vhdr_seed(tmp_path)
    vhdr = tmp_path / "seed.vhdr"
    text = vhdr.read_text(encoding="utf-8")
    for claim, expected in (("99999999", "lists"), ("0", "lists"), ("many", "whole number")):
        lines = [
            f"NumberOfChannels={claim}" if line.startswith("NumberOfChannels=") else line
            for line in text.splitlines()
        ]
        vhdr.write_text("\n".join(lines) + "\n", encoding="utf-8")
        t0 = time.perf_counter()
        with pytest.raises(SourceError) as err:
            MneReader.read_header(str(vhdr))
        assert time.perf_counter() - t0 < 60  # (a guard against a walk of 10^8 channels)
        assert expected in str(err.value) and str(vhdr) in str(err.value)
        assert "\n" not in str(err.value)


def _gdf_with(tmp_path: Path, version: str, **fields: object) -> Path:
    """The GDF seed with binary fields set: ``name=(offset, format, value)``."""
    blob = bytearray(_gdf_seed(tmp_path, version))
    for offset, fmt, value in fields.values():  # type: ignore[misc]
        struct.pack_into(fmt, blob, offset, value)
    path = tmp_path / f"bad{version}.gdf"
    path.write_bytes(bytes(blob))
    return path


_TYPES, _NSAMP = 256 + 4 * 220, 256 + 4 * 216  # the seed's 4 channels' fields


@pytest.mark.parametrize("version", ["1.25", "2.20"])
@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"type": (_TYPES, "<i", 9)}, r"channel 'FP1' has sample type code 9, not one GDF"),
        ({"type": (_TYPES + 4, "<i", 279)}, r"channel 'FP2' has sample type code 279"),
        ({"type": (_TYPES + 8, "<i", 5)}, r"truncated: its header claims .* data record"),
        ({"n": (_NSAMP + 4, "<i", -3)}, r"channel 'FP2' has -3 samples per record"),
        ({"records": (236, "<q", -2)}, r"record count is -2: the header is damaged"),
        ({"records": (236, "<q", -(2**40))}, r"record count is -1099511627776"),
        ({"den": (248, "<I", 0)}, r"record duration is 1/0 seconds"),
        ({"n": (_NSAMP + 4, "<i", 125)}, r"^(?!.*MNE cannot)"),
    ],
)
def test_gdf_header_fields_mne_fails_on_are_named(
    version: str, fields: dict[str, object], expected: str, tmp_path: Path
) -> None:
    """Fields MNE's GDF reader fails on (IndexError, AssertionError, OSError: [Errno 22],
    ZeroDivisionError, or annotations of unequal lengths from an event table read inside the
    data), or reads as it should not (a channel of -3 samples per record): one line naming
    the field, before MNE opens the file."""
    path = _gdf_with(tmp_path, version, **fields)
    try:
        header = MneReader.read_header(str(path))
    except SourceError as err:
        message = str(err)
        assert str(path) in message and "\n" not in message
        assert re.search(expected, message.split(": ", 1)[1]), message
    else:  # GDF 1.x, 125 samples: the bytes after the shorter records are no event table
        assert version == "1.25" and "n" in fields, header
        assert any("not an event table (mode" in w for w in header.warnings), header.warnings


@pytest.mark.parametrize("version", ["1.25", "2.20"])
def test_gdf_header_length_and_channel_count_are_named(version: str, tmp_path: Path) -> None:
    """A header length that disagrees with the channel count (MNE: a bare AssertionError), and
    no channels (GDF 2: a TypeError from numpy), are refused by name."""
    wide = (184, "<q", 1536) if version == "1.25" else (184, "<H", 6)
    path = _gdf_with(tmp_path, version, length=wide)
    with pytest.raises(SourceError, match=r"length field says 1536 bytes, but .* take 1280"):
        MneReader.read_header(str(path))
    count = (252, "<I", 0) if version == "1.25" else (252, "<H", 0)
    path = _gdf_with(tmp_path, version, count=count)
    with pytest.raises(SourceError, match=r"the header lists no channels"):
        MneReader.read_header(str(path))


@pytest.mark.parametrize("version", ["1.25", "2.20"])
def test_gdf_event_table_counting_more_events_than_the_file_holds(
    version: str, tmp_path: Path
) -> None:
    """An event table whose count outruns the file is refused with both numbers (MNE: `Length
    of duration (N) must match ...`); bytes after a whole table are a warning."""
    blob = bytearray(_gdf_seed(tmp_path, version))
    table = len(blob) - 8
    if version == "1.25":
        struct.pack_into("<I", blob, table + 4, 1000)
    else:
        blob[table + 1 : table + 4] = (1000).to_bytes(3, "little")
    path = tmp_path / "events.gdf"
    path.write_bytes(bytes(blob))
    with pytest.raises(SourceError, match=r"counts 1000 events \(6008 bytes\), but only 8 bytes"):
        MneReader.read_header(str(path))
    path.write_bytes(_gdf_seed(tmp_path, version) + bytes(100))
    header = MneReader.read_header(str(path))
    assert any("108 bytes follow" in w and "takes 8" in w for w in header.warnings)


def _fast_gdf(tmp: Path) -> Path:
    return _gdf_with(tmp, "2.20", den=(248, "<I", 2**32 - 1))  # 250 samples per 2^-32 s


def _fast_vhdr(tmp: Path) -> Path:
    vhdr = _vhdr_seed(tmp)
    text = vhdr.read_text(encoding="utf-8")
    lines = [
        "SamplingInterval=1e-9" if line.startswith("SamplingInterval=") else line
        for line in text.splitlines()
    ]
    vhdr.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return vhdr


def _fast_mat(tmp: Path) -> Path:
    import scipy.io

    path = tmp / "fast.mat"
    x = np.random.default_rng(0).normal(0, 20, (4, 2500))
    scipy.io.savemat(path, {"eeg": x, "fs": 1e12})
    return path


def _fast_csv(tmp: Path) -> Path:
    path = tmp / "fast.csv"
    rows = [f"{i * 1e-9:.12f},{i % 7},{i % 5}" for i in range(2500)]
    path.write_text("Time,Fp1,Fp2\n" + "\n".join(rows) + "\n")
    return path


@pytest.mark.parametrize(
    ("make", "reader", "options"),
    [
        (_fast_gdf, "mne", {}),
        (_fast_vhdr, "mne", {}),
        (_fast_mat, "mat", {"data": "eeg", "sfreq_variable": "fs"}),
        (_fast_csv, "csv", {"time_column": "Time"}),
    ],
)
def test_a_rate_above_a_megahertz_is_refused_by_every_reader(
    make: Callable[[Path], Path], reader: str, options: dict[str, str], tmp_path: Path
) -> None:
    """A damaged rate field read as 10^9..10^15 Hz was refused by the EDF reader alone; the
    others said "recording too short: 0.00 s" (blaming the length) after reading it."""
    from eegprep.readers import get_reader

    path = make(tmp_path)
    with pytest.raises(SourceError, match=r"a sampling rate of \S+ Hz, above 1e\+06 Hz"):
        get_reader(reader).read_header(str(path), **options)


def _cnt_with(tmp_path: Path, *fields: tuple[int, str, object]) -> Path:
    """The CNT seed with binary fields set: ``(offset, format, value)``."""
    blob = bytearray(_cnt_seed(tmp_path))
    for offset, fmt, value in fields:
        struct.pack_into(fmt, blob, offset, value)
    path = tmp_path / "bad.cnt"
    path.write_bytes(bytes(blob))
    return path


_CNT_TABLE = 900 + 75 * 4 + 4 * 2000 * 4  # the seed's event table: 4 channels, 2000 int32


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (((376, "<H", 0),), r"sampling rate \(byte 376\) is 0 Hz"),
        (((370, "<H", 0),), r"channel count \(byte 370\) is 0"),
        (((900 + 75 * 2 + 59, "<f", 0.0),), r"channel 'CZ' has sensitivity 0 and calibration 1"),
        (((900 + 71, "<f", float("nan")),), r"channel 'FP1' has sensitivity 20\.48 and .*nan"),
        (((_CNT_TABLE, "<B", 255),), r"event table at byte 33200 is of type 255, not 1, 2 or 3"),
        (((_CNT_TABLE + 1, "<i", -(2**31)),), r"holds -2147483648 bytes, not whole events of 19"),
        (((_CNT_TABLE + 1, "<i", 18),), r"holds 18 bytes, not whole events of 19 bytes"),
        (((894, "<i", 12000),), r"block size \(ChannelOffset, byte 894\) is 12000 bytes, 3000"),
    ],
)
def test_cnt_header_fields_mne_fails_on_are_named(
    fields: tuple[tuple[int, str, object], ...], expected: str, tmp_path: Path
) -> None:
    """Fields MNE's CNT reader fails on in its own terms (`float division by zero`, `Bad cals
    for channels {np.int64(2): 'CZ'}`, `unknown CNT even type 255`, `read length must be
    non-negative`, `iterative unpacking requires a buffer of a multiple of 19 bytes`, `cannot
    reshape array` when the samples are read): one line naming the field, before MNE."""
    path = _cnt_with(tmp_path, *fields)
    with pytest.raises(SourceError, match=expected) as err:
        MneReader.read_header(str(path))
    assert str(path) in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("keypad", "expected"),
    [
        ((0xC0,), r"event 1 of the event table opens a rejected span .* that no accept marker"),
        ((0xC0, 0xD0, 0xC0), r"event 3 of the event table opens a rejected span .* no accept"),
        ((0xC0, 0xC0, 0xD0, 0xD0), r"event 2 .* opens a rejected span .* while the one event 1"),
        ((0xC0, 0xD0, 0xD0), r"event 3 .* closes a rejected span \(KeyPad_Accept 0xD0\) that none"),
    ],
)
def test_cnt_rejected_spans_mne_cannot_pair_are_named(
    keypad: tuple[int, ...], expected: str, tmp_path: Path
) -> None:
    """A rejected span (KeyPad_Accept 0xC0) that no accept marker (0xD0) closes was an internal
    error (MNE: `IndexError: list index out of range`); two opened in a row got wrong spans
    without a word. Now one line naming the event; paired spans read as MNE pairs them."""
    from eegprep.testing.fixtures.cnt_writer import write_cnt

    data = np.random.default_rng(0).normal(0, 20, (3, 1000))
    events = [(100 * (i + 1), 1) for i in range(len(keypad))]
    path = write_cnt(tmp_path / "r.cnt", data, ["FP1", "FP2", "CZ"], 250, events=events,
                     keypad=keypad)  # fmt: skip
    with pytest.raises(SourceError, match=expected) as err:
        MneReader.read_header(str(path))
    assert str(err.value).startswith(f"{path}: ") and "\n" not in str(err.value)
    events = [(100, 1), (200, 1), (300, 1)]
    path = write_cnt(tmp_path / "ok.cnt", data, ["FP1", "FP2", "CZ"], 250, events=events,
                     keypad=(0xD0, 0xC0, 0xD0))  # fmt: skip
    (span,) = MneReader.read_header(str(path)).annotations
    assert span.description == "BAD_1"  # the span events 2 and 3 mark, samples 200-300
    assert (span.onset, span.duration) == pytest.approx((0.8, 0.4))
