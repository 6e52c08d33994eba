"""Seeded mutations of every format the project writes fixtures for, as a class: each gives an
ingested recording of finite samples or one line naming the file.

``test_reader_fuzz.py`` sets one header field of EDF, BDF, GDF and CNT files to a nasty value
and a BrainVision key's value to one. This file covers what it does not: random byte flips
inside the binary headers (EDF, BDF, GDF, CNT), BrainVision headers cut at any byte, with bytes
flipped, lines dropped, repeated or swapped and absurd numbers in ``[Common Infos]``,
``[Channel Infos]`` and ``[Coordinates]``; BrainVision marker files (``.vmrk``) cut, with bytes
flipped, lines dropped, repeated or swapped, junk inserted (NUL bytes, codepages, absurd
positions, sizes and dates, decimal commas), re-encoded or grown to thousands of markers,
whose failure lines must name the marker file in eegprep's words; EEGLAB ``.set`` files of
both layouts (top-level variables, one ``EEG`` struct, compressed or not, samples in a
``.fdt``) with a field set to an absurd value or another shape, cut, or bytes flipped; CSV
tables and MATLAB v5 and v7.3 files likewise. Each mutated file is ingested alone
(workers=0) under a time limit and a 512 MiB per-file memory budget; the process's peak
memory may not grow by more than 1 GiB. The default run takes one seed of each kind (and one
of each mutation of a marker file); ``-m slow`` runs all of them.
"""

from __future__ import annotations

import random
import re
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from eegprep import open_store
from eegprep.corpus.manifest import load_manifest
from eegprep.ingestion.driver import IngestConfig, ingest
from eegprep.testing.edf_writer import write_edf
from tests import peak_memory
from tests.safety.test_reader_fuzz import (
    LIMIT_S,
    _check_store,
    _cnt_seed,
    _gdf_seed,
    _time_limit,
    _vhdr_seed,
)

N_ALL = 1000
MiB = 1024**2
CONFIG = IngestConfig(workers=0, progress=False, mains=50.0, file_memory_limit=512 * MiB)
LABELS = ["Fp1", "Fp2", "Cz", "Oz"]
_NUMBERS = ["0", "-1", "1", "1e308", "-1e308", "1e-320", "nan", "inf", "-inf",
            "99999999999999999999", "2147483648", "-2147483649", "1e12", "0.0", "", " ", "abc",
            "0,1", "1.5.2", "0x10", "1_000", "+1", "--1", "\x00"]  # fmt: skip
_UNITS = ["µV", "\u03bcV", "uV", "mV", "V", "nV", "microvolts", "n/a", "C", "", "µ", "%"]
_VALUES: list[Any] = [0.0, -1.0, 1.0, 1e308, -1e308, float("nan"), float("inf"), 2.0**53,
                      1e12, 1.5, "abc", "", np.zeros((0, 0)), np.array([[250.0, 500.0]]),
                      np.array([[1.0 + 2.0j]]), np.array([[True]]), np.int16(-5),
                      np.array([["a", "b"]], dtype=object)]  # fmt: skip


# -- byte-level mutations, for every format -------------------------------------------------


def _flip(blob: bytes, rng: random.Random, lo: int, hi: int) -> tuple[bytes, str]:
    """1-8 bytes of ``blob[lo:hi]`` replaced (a random byte, one bit flipped, or a digit)."""
    out = bytearray(blob)
    hi = min(hi, len(out))
    done = []
    for _ in range(rng.randint(1, 8)):
        at = rng.randrange(lo, hi)
        kind = rng.random()
        if kind < 0.4:
            out[at] = rng.randrange(256)
        elif kind < 0.7:
            out[at] ^= 1 << rng.randrange(8)
        else:
            out[at] = ord(rng.choice("0123456789-.e "))
        done.append(at)
    return bytes(out), f"bytes {sorted(done)} changed"


def _cut(blob: bytes, rng: random.Random) -> tuple[bytes, str]:
    at = rng.randrange(0, len(blob))
    return blob[:at], f"cut at {at} of {len(blob)}"


def _binary(seed: bytes, header_bytes: int, rng: random.Random) -> tuple[bytes, str]:
    """Bytes flipped in the header (80%) or anywhere, or the file cut."""
    kind = rng.random()
    if kind < 0.6:
        return _flip(seed, rng, 0, header_bytes)
    if kind < 0.8:
        return _flip(seed, rng, 0, len(seed))
    return _cut(seed, rng)


def _edf_seed(tmp: Path, bdf: bool) -> bytes:
    """An EDF+ (or BDF) file of LABELS at 250 Hz, 10 s, one annotation: it ingests as it is."""
    x = np.random.default_rng(0).normal(0, 20, (len(LABELS), 2500))
    path = tmp / ("seed.bdf" if bdf else "seed.edf")
    write_edf(path, list(x), labels=[f"EEG {c}" for c in LABELS], sfreqs=250.0, bdf=bdf,
              edf_plus=not bdf, annotations=[(1.0, None, "a")] if not bdf else ())  # fmt: skip
    return path.read_bytes()


def _edf_header_bytes(blob: bytes) -> int:
    return int(blob[184:192].decode("ascii").strip())


# -- BrainVision text -------------------------------------------------------------------------


def mutate_vhdr_text(text: str, rng: random.Random) -> tuple[bytes, str]:
    """A header cut, with bytes flipped, a line dropped, repeated, swapped or junk added, or
    one field of a ``key=value`` line set to an absurd number or unit."""
    lines = text.splitlines()
    kind = rng.randrange(7)
    if kind == 0:
        return _cut(text.encode("utf-8"), rng)
    if kind == 1:
        return _flip(text.encode("utf-8"), rng, 0, len(text.encode("utf-8")))
    i = rng.randrange(len(lines))
    if kind == 2:
        what = f"line {i + 1} dropped ({lines[i]!r})"
        del lines[i]
    elif kind == 3:
        what = f"line {i + 1} repeated ({lines[i]!r})"
        lines.insert(i, lines[i])
    elif kind == 4:
        j = rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
        what = f"lines {i + 1} and {j + 1} swapped"
    elif kind == 5:
        junk = rng.choice(["junk", "  indented", "[Weird]", "=x", "Ch0=X,,1,µV", "Ch99=X,,1,µV",
                           "[Comment]", "[DEFAULT]", "Codepage=XYZ", "; comment"])  # fmt: skip
        lines.insert(i, junk)
        what = f"{junk!r} inserted at line {i + 1}"
    else:
        keyed = [k for k, line in enumerate(lines) if "=" in line and not line.startswith(";")]
        i = rng.choice(keyed)
        key, _, value = lines[i].partition("=")
        parts = value.split(",")
        j = rng.randrange(len(parts) + 1)
        new = rng.choice(_UNITS if j == 3 else _NUMBERS)
        parts[j:j + 1] = [new]  # fmt: skip
        lines[i] = f"{key}={','.join(parts)}"
        what = f"{key}[{j}]={new!r}"
    return ("\n".join(lines) + "\n").encode("utf-8"), what


# -- BrainVision markers (.vmrk) --------------------------------------------------------------

_VMRK_JUNK = ["\x00", "\x00\x00 \x00", "[Marker Infos]", "[Comment]", "Codepage=XYZ",
              "Codepage=ANSI", "Codepage=utf-16", "Codepage=idna", "Mk9=Comment,a",
              "Mk9=Stimulus,S  1,101,5,1,0", "Mk9=Stimulus,S\x00 1,101,1,0",
              "Mk9=New Segment,,1,1,0,20241399000000000000", "Mk9=Stimulus,S µ1,5,1,0",
              "Mk0=New Segment,,1,1,0,20240230000000000000", "Mk9=Stimulus,x,5,\u00b2,0",
              "Mk9=Stimulus,x," + "9" * 400 + ",1,0", "Mk9=Stimulus,x,-50,1,0",
              "Mk9=Stimulus,x,0,1,0", "Mk9=Stimulus,x,1_0,1,0", "Mk9=Stimulus,x,10,1,1,0,1",
              "Mk9=Stimulus,x,10,99999999999999999999,0", "Mk9=Stimulus,x,10.5,1,0",
              "Mk9=Stimulus," + "x" * 5000 + ",10,1,0"]  # fmt: skip


def _vmrk_seed(folder: Path) -> Path:
    """The BrainVision recording of :func:`_vhdr_seed`, its marker file opened by a dated
    ``New Segment`` marker as BrainVision Recorder writes it."""
    vmrk = _vhdr_seed(folder).with_suffix(".vmrk")
    text = vmrk.read_text(encoding="utf-8").replace("Mk2=", "Mk3=").replace("Mk1=", "Mk2=")
    text = text.replace("Mk2=", "Mk1=New Segment,,1,1,0,20240102030405000000\nMk2=")
    vmrk.write_text(text, encoding="utf-8")
    return vmrk


def mutate_vmrk_text(text: str, rng: random.Random) -> tuple[bytes, str]:
    """A marker file cut, with bytes flipped, a line dropped, repeated or swapped, junk
    inserted (NUL bytes, codepages, absurd positions, dates and fields), a field of a marker
    set to an absurd number, re-encoded, or grown to many markers."""
    lines = text.splitlines()
    kind = rng.randrange(8)
    if kind == 0:
        return _cut(text.encode("utf-8"), rng)
    if kind == 1:
        return _flip(text.encode("utf-8"), rng, 0, len(text.encode("utf-8")))
    i = rng.randrange(len(lines))
    marks = [k for k, line in enumerate(lines) if line.startswith("Mk")]
    if kind == 2:
        j = rng.randrange(len(lines))
        what = rng.choice(["dropped", "repeated", "swapped"])
        if what == "dropped":
            del lines[i]
        elif what == "repeated":
            lines.insert(i, lines[i])
        else:
            lines[i], lines[j] = lines[j], lines[i]
        what = f"line {i + 1} {what}"
    elif kind == 3:
        junk = rng.choice(_VMRK_JUNK)
        lines.insert(i, junk)
        what = f"{junk[:40]!r} inserted at line {i + 1}"
    elif kind in (4, 5):
        i = rng.choice(marks)
        key, _, value = lines[i].partition("=")
        parts = value.split(",")
        j = rng.randrange(len(parts) + 1)
        new = rng.choice([*_NUMBERS, "²", "٣", "20241301000000000000", "-0", "9" * 30])
        parts[j:j + 1] = [new]  # fmt: skip
        lines[i] = f"{key}={','.join(parts)}"
        what = f"{key}[{j}]={new!r}"
    elif kind == 6:
        encoding = rng.choice(["utf-16", "latin-1", "cp1252", "utf-8-sig"])
        body = "\n".join(lines).replace("S  1", "S µ1") + "\n"
        if rng.random() < 0.5:
            body = body.replace("Codepage=UTF-8", "Codepage=ANSI")
        return body.encode(encoding), f"written in {encoding}"
    else:
        n = rng.choice([500, 5000])
        lines += [f"Mk{k}=Stimulus,S{k % 7},{k % 2400 + 1},1,0" for k in range(4, n)]
        what = f"{n} markers"
    return ("\n".join(lines) + "\n").encode("utf-8"), what


# -- EEGLAB .set ----------------------------------------------------------------------------


def _set_variables(n_times: int = 2500) -> dict[str, Any]:
    """The variables eeglabio writes for a 250 Hz recording of LABELS."""
    import tempfile
    import warnings

    import scipy.io
    from eeglabio.raw import export_set

    data = np.random.default_rng(0).normal(0, 20e-6, (len(LABELS), n_times))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with tempfile.TemporaryDirectory() as tmp:
            export_set(f"{tmp}/x.set", data, 250.0, LABELS)
            return {k: v for k, v in scipy.io.loadmat(f"{tmp}/x.set").items() if k[0] != "_"}


def mutate_set(folder: Path, rng: random.Random) -> tuple[str, str]:
    """An EEGLAB dataset in one of its layouts with one field absurd or reshaped, the .set
    (or .fdt) cut, or bytes of the .set flipped. Returns the .set's name and what was done."""
    import scipy.io

    fields = _set_variables()
    layout = rng.choice(["variables", "struct", "struct-compressed", "fdt"])
    if layout == "fdt":
        np.asarray(fields["data"], "<f4").T.tofile(folder / "r.fdt")
        fields["data"] = "r.fdt"
    kind = rng.random()
    what = layout
    if kind < 0.55:
        name = rng.choice(["srate", "nbchan", "pnts", "trials", "xmin", "data", "chanlocs"])
        if name == "data" and layout != "fdt":
            value: Any = rng.choice([
                fields["data"].T, fields["data"][:-1], fields["data"][:, :10], "nofile.fdt",
                fields["data"].astype(np.int16), fields["data"][..., None].repeat(2, 2),
                fields["data"] * np.inf, np.zeros((0, 0)), fields["data"] * 1e300,
            ])  # fmt: skip
        elif name == "chanlocs":
            value = rng.choice([fields["chanlocs"][:, :2], np.zeros((0, 0)), "abc", 1.0])
        else:
            value = rng.choice(_VALUES)
        fields[name] = value
        what += f" {name}={value if np.size(value) < 4 else np.shape(value)!r}"
    content = {"EEG": fields} if layout.startswith("struct") else fields
    path = folder / "r.set"
    scipy.io.savemat(path, content, do_compression=layout == "struct-compressed")
    if kind >= 0.55:
        target = folder / ("r.fdt" if layout == "fdt" and rng.random() < 0.3 else "r.set")
        blob = target.read_bytes()
        if kind < 0.75:
            blob, did = _cut(blob, rng)
        else:
            blob, did = _flip(blob, rng, 0, min(len(blob), 4096))
        target.write_bytes(blob)
        what += f" {target.name} {did}"
    return path.name, what


# -- CSV --------------------------------------------------------------------------------------


def mutate_csv(rng: random.Random) -> tuple[bytes, str]:
    """A table of a time column and LABELS, cut, with bytes flipped, a cell set to an absurd
    value, a row's cell dropped or added, or the header row changed."""
    x = np.random.default_rng(0).normal(0, 20, (2500, len(LABELS)))
    rows = [["Time", *LABELS]] + [[f"{i / 250:.4f}", *(f"{v:.3f}" for v in row)]
                                  for i, row in enumerate(x)]  # fmt: skip
    kind = rng.randrange(6)
    if kind == 3:
        r, c = rng.randrange(len(rows)), rng.randrange(len(LABELS) + 1)
        rows[r][c] = rng.choice([*_NUMBERS, "1e999", "-0", "Fp1"])
        what = f"cell ({r}, {c}) = {rows[r][c]!r}"
    elif kind == 4:
        r = rng.randrange(1, len(rows))
        rows[r] = rows[r][:-1] if rng.random() < 0.5 else [*rows[r], "1"]
        what = f"row {r} has {len(rows[r])} cells"
    elif kind == 5:
        heads = [["Time", "Fp1", "Fp1", "Cz", "Oz"], ["", *LABELS], ["Time", *LABELS[:3]],
                 ["1", "2", "3", "4", "5"], ["Time"]]  # fmt: skip
        rows[0] = rng.choice(heads)
        what = f"header row {rows[0]}"
    text = ("\n".join(",".join(row) for row in rows) + "\n").encode("utf-8")
    if kind == 0:
        return _cut(text, rng)
    if kind in (1, 2):
        return _flip(text, rng, 0, 200 if kind == 1 else len(text))
    return text, what


# -- MATLAB -----------------------------------------------------------------------------------


def mutate_mat(folder: Path, rng: random.Random) -> tuple[str, str]:
    """``eeg`` (4 x 2500 uV) and ``fs`` in a MAT v5 file (compressed or not) or a v7.3 one: a
    variable set to an absurd value or shape, the file cut, or bytes flipped."""
    import scipy.io

    from tests.eegprep.test_reader_matlab import write_mat73

    eeg = np.random.default_rng(0).normal(0, 20, (len(LABELS), 2500))
    variables: dict[str, Any] = {"eeg": eeg, "fs": 250.0, "labels": list(LABELS)}
    version = rng.choice(["5", "5-compressed", "7.3"])
    kind = rng.random()
    what = f"MAT {version}"
    if kind < 0.5:
        name = rng.choice(["eeg", "fs", "labels"])
        if name == "labels":
            value = rng.choice([LABELS[:3], [*LABELS, "X"], ["Fp1"] * 4, 1.0, "Fp1", []])
        elif name == "fs":
            value: Any = rng.choice([v for v in _VALUES if not isinstance(v, np.ndarray)
                                     or v.dtype.kind != "O"])  # fmt: skip
        else:
            value = rng.choice([eeg.T, eeg[:, :3], eeg[None], eeg * np.nan, eeg * 1e300,
                                np.zeros((0, 0)), eeg.astype(np.int8), "abc", 1.0])  # fmt: skip
        variables[name] = value
        what += f" {name}={value if np.size(value) < 4 else np.shape(value)!r}"
    path = folder / "r.mat"
    if version == "7.3":
        write_mat73(path, variables)
    else:
        scipy.io.savemat(path, variables, do_compression=version == "5-compressed")
    if kind >= 0.5:
        blob = path.read_bytes()
        if kind < 0.75:
            blob, did = _cut(blob, rng)
        elif version != "7.3":
            blob, did = _flip(blob, rng, 0, min(len(blob), 1024))
        else:  # HDF5's metadata (superblock, object headers, B-trees, heaps) or anywhere
            blob, did = _flip(blob, rng, 0, len(blob) if rng.random() < 0.3 else 512 + 8192)
        path.write_bytes(blob)
        what += f" {did}"
    return path.name, what


def mutate_mat73(folder: Path, rng: random.Random) -> tuple[str, str]:
    """The MAT v7.3 file of :func:`mutate_mat` with 1-8 bytes flipped in its HDF5 metadata
    (superblock, object headers, B-trees, heaps: the first 8 kB) or anywhere."""
    from tests.eegprep.test_reader_matlab import write_mat73

    eeg = np.random.default_rng(0).normal(0, 20, (len(LABELS), 2500))
    path = folder / "r.mat"
    write_mat73(path, {"eeg": eeg, "fs": 250.0, "labels": list(LABELS)})
    blob = path.read_bytes()
    blob, did = _flip(blob, rng, 0, len(blob) if rng.random() < 0.3 else 512 + 8192)
    path.write_bytes(blob)
    return path.name, f"MAT 7.3 {did}"


def _retyped(value: Any, kind: str, version: str) -> Any:
    """``value`` as another MATLAB type: complex (with an imaginary part, or all zeros),
    logical, int16, a cell array or a struct holding it, or an empty array of its type."""
    arr = np.asarray(value)
    if kind == "cell" and version == "7.3":
        return [value]  # write_mat73's cell
    if kind == "cell":
        cell = np.empty((1, 1), dtype=object)
        cell[0, 0] = value
        return cell
    if kind == "struct":
        return {"value": value}
    if arr.dtype.kind not in "biufc":
        return value  # text: the other kinds say nothing new about it
    return {
        "complex": arr + 1j,
        "complex0": arr.astype(np.complex128),
        "logical": arr != 0,
        "int16": np.clip(arr, -3e4, 3e4).astype(np.int16),
        "empty": np.zeros((0, 0), dtype=arr.dtype),
    }[kind]


_TYPES = ["complex", "complex0", "logical", "int16", "cell", "struct", "empty"]


def mutate_mat_types(folder: Path, rng: random.Random) -> tuple[str, str]:
    """The MAT file of :func:`mutate_mat`, with event positions ``pos`` and labels ``y``, one
    variable of it saved as another type (:func:`_retyped`) by scipy or as MATLAB 7.3 does."""
    import scipy.io

    from tests.eegprep.test_reader_matlab import write_mat73

    eeg = np.random.default_rng(0).normal(0, 20, (len(LABELS), 2500))
    variables: dict[str, Any] = {"eeg": eeg, "fs": 250.0, "labels": list(LABELS)}
    variables |= {"pos": np.array([[1.0, 500.0, 900.0]]), "y": np.array([[1.0, 2.0, 1.0]])}
    version = rng.choice(["5", "5-compressed", "7.3"])
    name, kind = rng.choice(list(variables)), rng.choice(_TYPES)
    variables[name] = _retyped(variables[name], kind, version)
    path = folder / "r.mat"
    if version == "7.3":
        write_mat73(path, variables)
    else:
        scipy.io.savemat(path, variables, do_compression=version == "5-compressed")
    return path.name, f"MAT {version} type {name}={kind}"


_LIBRARY_WORDS = re.compile(r"\b[A-Z]\w*Error\b|Unable to|codec can't")
"""What a library's or Python's own message looks like (``KeyError: 'Unable to synchronously
open object ...'``): never in a line about a marker file or a MAT v7.3 file."""


# -- running one ----------------------------------------------------------------------------


_KINDS = ["edf", "bdf", "gdf", "cnt", "vhdr", "set", "csv", "mat", "vmrk"]
_OPTIONS = {
    "csv": '[reader]\nname = "csv"\n\n[reader.options]\ntime_column = "Time"\n',
    "mat": '[reader]\nname = "mat"\n\n[reader.options]\ndata = "eeg"\nsfreq_variable = "fs"\n'
    'channels_variable = "labels"\n',
}
_OPTIONS["mat73"] = _OPTIONS["mat"]
_OPTIONS["mattypes"] = _OPTIONS["mat"] + 'events = { onsets = "pos", labels = "y" }\n'


def _manifest(tmp: Path, kind: str) -> Path:
    """The folder manifest, reading ``kind``'s files with the reader that takes them."""
    text = Path(load_manifest("folder").file).read_text()
    text = text.replace('name = "folder"', f'name = "fuzz_{kind}"')
    reader = {"edf": "edf", "bdf": "edf"}.get(kind, "mne")
    text = text.replace(
        '[reader]\nname = "mne"\n', _OPTIONS.get(kind, f'[reader]\nname = "{reader}"\n')
    )
    text = text.replace("edf|bdf|vhdr|set|fif|gdf|cnt", "edf|bdf|vhdr|set|fif|gdf|cnt|csv|mat")
    text = text.replace('"**/*.cnt"]', '"**/*.cnt", "**/*.csv", "**/*.mat"]')
    path = tmp / f"fuzz_{kind}.toml"
    path.write_text(text)
    return path


def _mutated(kind: str, src: Path, tmp: Path, rng: random.Random) -> tuple[str, str]:
    """Write the mutated recording of ``kind`` into ``src``: its file name, what was done."""
    writers: dict[str, Callable[[], tuple[bytes, str]]] = {
        "edf": lambda: _binary(edf := _edf_seed(tmp, False), _edf_header_bytes(edf), rng),
        "bdf": lambda: _binary(bdf := _edf_seed(tmp, True), _edf_header_bytes(bdf), rng),
        "gdf": lambda: _binary(_gdf_seed(tmp, rng.choice(["1.25", "2.20"])), 256 * 5, rng),
        "cnt": lambda: _binary(_cnt_seed(tmp), 900 + 75 * 4, rng),
        "csv": lambda: mutate_csv(rng),
    }
    if kind in writers:
        blob, what = writers[kind]()
        name = f"r.{kind}"
        (src / name).write_bytes(blob)
        return name, what
    if kind == "vhdr":
        vhdr = _vhdr_seed(src)
        blob, what = mutate_vhdr_text(vhdr.read_text(encoding="utf-8"), rng)
        vhdr.write_bytes(blob)
        return vhdr.name, what
    if kind == "vmrk":
        vmrk = _vmrk_seed(src)
        blob, what = mutate_vmrk_text(vmrk.read_text(encoding="utf-8"), rng)
        vmrk.write_bytes(blob)
        return vmrk.with_suffix(".vhdr").name, f"{vmrk.name} {what}"
    if kind == "mat73":
        return mutate_mat73(src, rng)
    if kind == "mattypes":
        return mutate_mat_types(src, rng)
    return mutate_set(src, rng) if kind == "set" else mutate_mat(src, rng)


def _check_outcome(rep: Any, name: str, what: str) -> None:
    """One recording ingested, or one line naming the file: a failure, or (a MATLAB file,
    whose recordings are listed before any is read) a file whose recordings cannot be
    listed."""
    lines = [*rep.failed, *rep.unmatched]
    assert rep.n_ingested + len(lines) == 1, (what, lines)
    for line in lines:
        assert "\n" not in line and line.startswith(f"{name}: "), (what, line)
        assert "internal error" not in line and "Traceback" not in line, (what, line)
        if ".vmrk " in what:  # the marker file named, in eegprep's words, never MNE's
            assert "its marker file seed.vmrk" in line and "MNE" not in line, (what, line)
        if ".vmrk " in what or "MAT 7.3 bytes" in what or " type " in what:
            assert not _LIBRARY_WORDS.search(line), (what, line)
        if " type " in what:  # the variable named, or (text left as it was) none retyped
            retyped = what.split(" type ")[1].split("=")[0]
            assert f"'{retyped}'" in line, (what, line)


def _check_finite(store: Path) -> None:
    s = open_store(store)
    for rec in s.recordings:
        x = s.read(rec.id)
        assert np.isfinite(x).all(), (rec.id, "non-finite samples stored")


def _run(seed: int, tmp_path: Path, kind: str | None = None) -> None:
    rng = random.Random(seed)
    kind = kind or _KINDS[seed % len(_KINDS)]
    src = tmp_path / "src"
    src.mkdir()
    name, what = _mutated(kind, src, tmp_path, rng)
    store = tmp_path / "s.zarr"
    before = peak_memory.start()  # (ru_maxrss: this process's peak so far, hiding growth)
    with (
        _time_limit(LIMIT_S, f"seed {seed} ({kind}: {what})"),
        warnings.catch_warnings(record=True) as caught,
    ):
        warnings.simplefilter("always")
        rep = ingest(_manifest(tmp_path, kind), src=src, out=store, config=CONFIG)
    if kind.startswith("mat"):  # numpy's own words (ComplexWarning) never reach the terminal
        said = [f"{w.category.__name__}: {w.message}" for w in caught]
        assert not [w for w in said if "Complex" in w or "cast" in w], (what, said)
    grew = peak_memory.peak() - before
    assert grew < 1024 * MiB, f"seed {seed} ({kind}: {what}): peak memory grew {grew / MiB:.0f} MiB"
    _check_outcome(rep, name, f"seed {seed}: {kind} {what}")
    _check_store(store)
    _check_finite(store)


@pytest.mark.parametrize("seed", range(len(_KINDS)))
def test_each_format_mutated_gives_finite_samples_or_one_line(seed: int, tmp_path: Path) -> None:
    _run(seed, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(len(_KINDS), N_ALL))
def test_each_format_mutated_gives_finite_samples_or_one_line_all(
    seed: int, tmp_path: Path
) -> None:
    _run(seed, tmp_path)


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 5, 6, 7, 9])  # one of each mutation
def test_a_mutated_marker_file_gives_events_or_one_line_naming_it(
    seed: int, tmp_path: Path
) -> None:
    _run(seed, tmp_path, "vmrk")


# fs: complex, all-zero imaginary (7.3), logical (7.3), cell; pos complex, y logical; samples:
# struct, logical (7.3), complex (7.3)
@pytest.mark.parametrize("seed", [22, 58, 20, 28, 0, 9, 18, 29, 42])
@pytest.mark.filterwarnings("error::numpy.exceptions.ComplexWarning")
def test_a_mat_variable_of_another_type_gives_samples_or_one_line_naming_it(
    seed: int, tmp_path: Path
) -> None:
    _run(seed, tmp_path, "mattypes")


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(300))
def test_a_mat_variable_of_another_type_gives_samples_or_one_line_naming_it_all(
    seed: int, tmp_path: Path
) -> None:
    _run(seed, tmp_path, "mattypes")


@pytest.mark.parametrize("seed", [26, 81, 113, 256, 383, 392])  # h5py's errors, before
def test_a_mat73_file_with_bytes_flipped_gives_samples_or_one_line(
    seed: int, tmp_path: Path
) -> None:
    _run(seed, tmp_path, "mat73")


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(400))
def test_a_mat73_file_with_bytes_flipped_gives_samples_or_one_line_all(
    seed: int, tmp_path: Path
) -> None:
    _run(seed, tmp_path, "mat73")


def test_the_mutations_are_seeded(tmp_path: Path) -> None:
    text = _vhdr_seed(tmp_path).read_text(encoding="utf-8")
    assert mutate_vhdr_text(text, random.Random(3)) == mutate_vhdr_text(text, random.Random(3))
    assert mutate_csv(random.Random(5)) == mutate_csv(random.Random(5))
    text = _vmrk_seed(tmp_path).read_text(encoding="utf-8")
    assert mutate_vmrk_text(text, random.Random(3)) == mutate_vmrk_text(text, random.Random(3))
