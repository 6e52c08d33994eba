"""Stores eegprep did not write as they are: arrays rewritten by zarr-python (other codecs,
chunks, shards, byte order, data types, fill values, a shorter array), records edited by hand
with values no eegprep store holds (a rate of 0 or -200, a length that is negative, fractional
or beyond the int32 time axis, channel rows outside the vocabulary or at another channel's
position, fewer channels than the array), a root without its checksum holding such values, and a
Zarr v2 copy. Every consumer (``eegprep stats``, ``eegprep validate``, the pre-training and the
fine-tuning window indexes and the loader that reads their windows) either reads the store
correctly or refuses it in one line naming the store, the recording and the problem: never a
traceback, never windows of other samples, never an index sized by a damaged length."""

from __future__ import annotations

import json
import os
import shutil
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import zarr
from click.testing import CliRunner

from cli import eegprep_cli
from eegprep.base.errors import EegprepError
from eegprep.pipeline.recipe import Recipe
from eegprep.store.writer import StoreWriter
from labram.data.finite_windows import check_finite_splits
from labram.data.loader import WindowDataset
from labram.data.sampler import BatchPlan
from labram.data.tasks import build_task_indexes, get_task
from labram.data.unreadable import FOUND, Unreadable
from labram.data.windows import build_pretrain_index
from tests.labram.training_stores import TUAB_ORDER, eeg, put

RID = "tuab/t001"
"""The recording each case changes; the others stay sound."""


def _write(path: Path, **extra: Any) -> Path:
    """A TUAB-like store of 4 float32 recordings of 20 s (2 train, 2 eval), as ingested (with
    ``qc``: vouched finite); ``extra``: more record fields."""
    rng = np.random.default_rng(7)
    qc = {"median_rms_uv": 20.0, "flat_channels": [], "rms_uv": [20.0] * 23}
    with StoreWriter(str(path), Recipe()) as w:
        for split, n in (("train", 2), ("eval", 2)):
            for k in range(n):
                rid = f"tuab/{split[0]}{k:03d}"
                put(w, rid, eeg(rng, 23, 20, k % 2), list(TUAB_ORDER), subject=rid[5:],
                    subject_key=f"tuh:{rid[5:]}", split=split, labels={"abnormal": k % 2},
                    qc=qc, recipe_hash=Recipe().hash(), **extra)  # fmt: skip
    return path


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Records that state their encoding, as every ingest since 829cebd writes them."""
    return _write(tmp_path_factory.mktemp("foreign") / "base.zarr", encoding="float32")


@pytest.fixture(scope="module")
def old(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Records that state no encoding (earlier versions'): their arrays are not compared with
    a document, and one not in eegprep's own layout is read by zarr."""
    return _write(tmp_path_factory.mktemp("foreign") / "old.zarr")


def _copy(base: Path, tmp_path: Path) -> Path:
    out = tmp_path / "s.zarr"
    shutil.copytree(base, out)
    return out


def _read_windows(url: str) -> np.ndarray:
    """What the training commands read of ``url``, in this process: the pre-training windows
    (checked for NaN up front, as ``labram pretrain`` does, then every one read through the
    loader, a window it could not read refused as the training loop refuses it) and every
    fine-tuning split (checked, as ``labram finetune`` does, then each of its recordings read
    whole). Returns recording RID's samples as read, (23, 4000) uV."""
    index = build_pretrain_index([url])
    check_finite_splits({"pre-training": index}, what="pretrain")
    counted = Unreadable(len(index), "pretrain")  # what the training loop refuses
    for batch in WindowDataset(BatchPlan(index, batch_size=1, seed=0)):
        counted.add(batch.get(FOUND) or [], len(batch["ids"]))  # type: ignore[arg-type]
        assert np.isfinite(np.asarray(batch["x"])).all()
    splits = build_task_indexes([url], get_task("tuab"))
    check_finite_splits(splits, what="finetune")
    read = {}
    for split in splits.values():
        for plan in split.recordings:
            read[plan.id] = split.opened[plan.store].read(plan.id)  # type: ignore[index]
    return read.get(RID, np.zeros(0))


def _cli(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(eegprep_cli, list(args))
    assert res.exception is None or isinstance(res.exception, SystemExit), res.output
    return res.exit_code, res.output


def _refused_everywhere(url: Path, *says: str, stats_reads: bool = True) -> None:
    """The loader and the window indexes refuse ``url`` in one line naming it and ``says``;
    ``eegprep validate`` names the problem; ``eegprep stats`` tabulates the other recordings
    and names that one on a ``left out:`` line (exit 3), or (``stats_reads`` False: a problem
    of samples, which its table does not read) tabulates it."""
    with pytest.raises(EegprepError) as err:
        _read_windows(str(url))
    line = str(err.value)
    assert "\n" not in line and str(url) in line, line
    for text in says:
        assert text in line, line
    code, out = _cli("validate", str(url))
    assert code != 0 and "Traceback" not in out, out
    assert any(all(t in ln for t in says) for ln in out.splitlines()), out
    code, out = _cli("stats", str(url))
    assert "Traceback" not in out, out
    if stats_reads:
        left = [ln for ln in out.splitlines() if ln.startswith("left out: ")]
        assert code == 3 and "tuab" in out and len(left) == 1, out
        assert str(url) in left[0] and all(t in left[0] for t in says), out
    else:
        assert code == 0 and "tuab" in out, out


def test_an_untouched_copy_is_read_whole(base: Path, old: Path, tmp_path: Path) -> None:
    """The harness reads every window of a sound store (the cases below change one thing)."""
    for store in (base, old):
        url = _copy(store, tmp_path / store.name)
        assert _read_windows(str(url)).shape == (23, 4000)
        assert _cli("validate", str(url)) == (0, "4 recordings checked, 0 problems\n")


# --- arrays written by zarr-python ------------------------------------------------------------


def _rewrite(make: Callable[[Any, np.ndarray], None]) -> Callable[[Path], None]:
    """A case: recording RID's ``data`` deleted and made again by ``make(group, samples)``."""

    def apply(store: Path) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            group = zarr.open_group(str(store), mode="r+")[f"recordings/{RID}"]
            x = np.asarray(group["data"][:])
            del group["data"]
            make(group, x)

    return apply


DIMS = {"dimension_names": ["channel", "time"]}
ARRAYS = {
    "gzip": lambda g, x: g.create_array("data", data=x, compressors=[zarr.codecs.GzipCodec()]),
    "zstd (zarr's default)": lambda g, x: g.create_array("data", data=x, **DIMS),
    "no compression": lambda g, x: g.create_array("data", data=x, compressors=None),
    "other chunks": lambda g, x: g.create_array("data", data=x, chunks=(23, 1000)),
    "other shards": lambda g, x: g.create_array(
        "data", data=x, chunks=(23, 500), shards=(23, 2000)
    ),
    "big-endian": lambda g, x: g.create_array("data", data=x.astype(">f4")),
    "float64": lambda g, x: g.create_array("data", data=x.astype("f8")),
    "float16": lambda g, x: g.create_array("data", data=x.astype("f2")),
    "int32": lambda g, x: g.create_array("data", data=x.astype("i4")),
    "NaN fill, no chunk": lambda g, x: g.create_array(
        "data", shape=x.shape, dtype="f4", fill_value=float("nan")
    ),
    "shorter than the record": lambda g, x: g.create_array("data", data=x[:, : x.shape[1] // 2]),
}


@pytest.mark.parametrize("case", list(ARRAYS))
def test_arrays_zarr_python_wrote(base: Path, tmp_path: Path, case: str) -> None:
    """Beside a record that states its encoding: refused by every reader of samples, in one
    line naming the array's zarr.json; stats' table (records only) is unchanged."""
    url = _copy(base, tmp_path)
    _rewrite(ARRAYS[case])(url)
    _refused_everywhere(url, RID, "data/zarr.json", stats_reads=False)


READ_AS_WRITTEN = ["gzip", "zstd (zarr's default)", "no compression", "other chunks",
                   "other shards", "big-endian", "float16"]  # fmt: skip
REFUSED = {
    "float64": ("data type float64", "data type float64"),
    "int32": ("data type int32", "data type int32"),
    "NaN fill, no chunk": ("NaN or infinite samples in tuab/t001 at 0 s", "non-finite samples"),
    "shorter than the record": ("data/zarr.json: shape [23, 2000]", "data shape (23, 2000)"),
}


@pytest.mark.parametrize("case", READ_AS_WRITTEN)
def test_old_records_arrays_are_read_as_zarr_reads_them(
    old: Path, tmp_path: Path, case: str
) -> None:
    """Beside a record of an earlier version (no encoding), an array of another layout holding
    float32 or float16 microvolts is read by zarr: the same samples."""
    url = _copy(old, tmp_path)
    before = _read_windows(str(url))
    _rewrite(ARRAYS[case])(url)
    after = _read_windows(str(url))
    rtol = 2.0**-11 if case == "float16" else 0.0  # (float16: 11 significant bits)
    np.testing.assert_allclose(after, before, rtol=rtol, atol=rtol)
    assert _cli("validate", str(url))[0] == 0


@pytest.mark.parametrize("case", list(REFUSED))
def test_old_records_arrays_that_cannot_be_read_as_they_are(
    old: Path, tmp_path: Path, case: str
) -> None:
    """Beside a record of an earlier version: samples of a type an eegprep store never holds
    (float64, whose values float32 may not hold; integers of unknown unit), chunks never
    written read as a NaN fill value (its record's ``qc`` vouches for the array its ingest
    wrote, not this one), an array shorter than the record: one line naming the recording.
    Before, the NaN windows and the float64 and int32 samples were read and trained on."""
    url = _copy(old, tmp_path)
    _rewrite(ARRAYS[case])(url)
    loader, validate = REFUSED[case]
    with pytest.raises(EegprepError) as err:
        _read_windows(str(url))
    line = str(err.value)
    assert "\n" not in line and RID in line and loader in line, line
    code, out = _cli("validate", str(url))
    assert code == 1 and f"problem: {RID}: " in out and validate in out, out


# --- records edited by hand (the group's attributes and the index line alike) ---------------


def _edit_record(store: Path, rid: str = RID, **values: Any) -> None:
    """Set ``values`` in recording ``rid``'s group attributes and index line (the fields file,
    a derived cache, goes: another program would not know to write it)."""
    attrs = store / "recordings" / rid / "zarr.json"
    doc = json.loads(attrs.read_text())
    doc["attributes"].update(values)
    attrs.write_text(json.dumps(doc))
    base = store / "_eegprep" / "index" / "0000000001.jsonl"
    lines = [json.loads(ln) for ln in base.read_text().splitlines()]
    for line in lines:
        if line.get("id") == rid:
            line.update(values)
    base.write_text("".join(json.dumps(ln) + "\n" for ln in lines))
    (store / "_eegprep" / "index" / "0000000001.fields").unlink(missing_ok=True)


SWAPPED = list(range(23))
RECORDS: dict[str, tuple[dict[str, Any], str]] = {
    "sfreq 0": ({"sfreq": 0.0}, "sfreq 0.0 is not the store's rate"),
    "sfreq -200": ({"sfreq": -200.0}, "sfreq -200.0 is not the store's rate"),
    "sfreq as text": ({"sfreq": "200"}, "sfreq '200' is not the store's rate"),
    "sfreq huge": ({"sfreq": 1e300}, "sfreq 1e+300 is not the store's rate"),
    "n_samples negative": ({"n_samples": -5}, "n_samples -5 is not a number of samples"),
    "n_samples fractional": ({"n_samples": 4000.5}, "n_samples 4000.5"),
    "n_samples true": ({"n_samples": True}, "n_samples True is not a number of samples"),
    "n_samples beyond int32": ({"n_samples": 10**12}, "n_samples 1000000000000"),
    "channel_index -1": ({"channel_index": [-1] * 23}, "channel_index"),
    "channel_index huge": ({"channel_index": [10**9] * 23}, "channel_index"),
    "channel_index text": ({"channel_index": "0,1"}, "channel_index"),
    "channels text": ({"channels": "FP1"}, "channels"),
    "split a number": ({"split": 5}, "split 5 is not text"),
    "split a list": ({"split": ["train"]}, "split ['train'] is not text"),
    "subject_key an object": ({"subject_key": {"a": 1}}, "subject_key {'a': 1} is not text"),
    "subject_key a number": ({"subject_key": 123}, "subject_key 123 is not text"),
    "corpus a number": ({"corpus": 5}, "corpus 5 is not text"),
    "subject a list": ({"subject": [1]}, "subject [1] is not text"),
    "labels a list": ({"labels": [1]}, "labels [1] is not an object"),
    "qc text": ({"qc": "yes"}, "qc 'yes' is not an object"),
    "events text": ({"events": "x"}, "events 'x' is not a list"),
    "events cut short": ({"events": [[1, 2]]}, "events[0] [1, 2] is not"),
    "targets text": ({"targets": "joints"}, "targets 'joints' is not a list of names"),
}


@pytest.fixture(scope="module")
def positions(base: Path) -> list[int]:
    return list(json.loads((base / "recordings" / RID / "zarr.json").read_text())
                ["attributes"]["channel_index"])  # fmt: skip


@pytest.mark.parametrize("case", list(RECORDS))
def test_record_values_no_eegprep_store_holds(base: Path, tmp_path: Path, case: str) -> None:
    """One line from every consumer naming the store, the recording and the value: before,
    sfreq 0 was an internal error in stats, channel_index -1 a traceback in the loader, a
    negative or fractional length dropped the recording from training unsaid, a length of
    10^12 an index of 27 GiB refused without naming the recording; a split, corpus, labels
    or qc of another type an internal error in stats, a subject_key of another type a
    traceback in the loader; and validate passed them all."""
    url = _copy(base, tmp_path)
    values, says = RECORDS[case]
    _edit_record(url, **values)
    _refused_everywhere(url, RID, says.split(" is ")[0])


def test_channel_rows_at_another_channels_position(
    base: Path, tmp_path: Path, positions: list[int]
) -> None:
    """Rows of the vocabulary, but two swapped: FP1's samples would be placed at FP2's site
    (silently). Refused before a sample of the recording is read."""
    url = _copy(base, tmp_path)
    swapped = [positions[1], positions[0], *positions[2:]]
    _edit_record(url, channel_index=swapped)
    _refused_everywhere(url, RID, "channel_index")
    with pytest.raises(EegprepError, match="gives FP1 the position"):
        _read_windows(str(url))


def test_fewer_channels_than_the_array(base: Path, tmp_path: Path, positions: list[int]) -> None:
    """A channel list shorter than the array (its rows would be misnamed): refused where the
    array's shape meets the record."""
    url = _copy(base, tmp_path)
    _edit_record(url, channels=["FP1", "FP2"], channel_index=positions[:2])
    _refused_everywhere(url, RID, "zarr.json", stats_reads=False)


@pytest.mark.parametrize("key", ["qc", "labels", "events"])
def test_a_missing_optional_attribute_is_read(base: Path, tmp_path: Path, key: str) -> None:
    """Attributes a reader can do without (an ingest's ``qc``, labels, events), missing from
    both copies: the store is read whole (without ``qc``, the NaN check reads the samples)."""
    url = _copy(base, tmp_path)
    for path in (url / "recordings" / RID / "zarr.json",):
        doc = json.loads(path.read_text())
        doc["attributes"].pop(key, None)
        path.write_text(json.dumps(doc))
    index = url / "_eegprep" / "index" / "0000000001.jsonl"
    lines = [json.loads(ln) for ln in index.read_text().splitlines()]
    for line in lines:
        line.pop(key, None) if line.get("id") == RID else None
    index.write_text("".join(json.dumps(ln) + "\n" for ln in lines))
    (url / "_eegprep" / "index" / "0000000001.fields").unlink(missing_ok=True)
    assert _read_windows(str(url)).shape == ((0,) if key == "labels" else (23, 4000))


# --- the root, and a Zarr v2 copy -------------------------------------------------------------


def _edit_root(store: Path, **values: Any) -> None:
    """Root attributes ``values``, its checksum removed (as in a store of an earlier version,
    or one another program wrote)."""
    path = store / "zarr.json"
    doc = json.loads(path.read_text())
    doc["attributes"].pop("crc32c", None)
    doc["attributes"].update(values)
    path.write_text(json.dumps(doc))


@pytest.mark.parametrize(
    ("values", "says"),
    [
        ({"sfreq": 0}, "sfreq 0 is not"),
        ({"sfreq": -200.0}, "sfreq -200.0 is not"),
        ({"vocabulary": 5}, "vocabulary"),
    ],
)
def test_a_root_without_its_checksum_holding_no_rate(
    base: Path, tmp_path: Path, values: dict[str, Any], says: str
) -> None:
    """Before, a rate of 0 or -200 (or a vocabulary that is a number) in a root without a
    checksum was read by stats and the loader; validate alone said so."""
    url = _copy(base, tmp_path)
    _edit_root(url, **values)
    with pytest.raises(EegprepError, match=f"zarr.json: the root's attributes are damaged.*{says}"):
        _read_windows(str(url))
    code, out = _cli("stats", str(url))
    assert code == 2 and len(out.strip().splitlines()) == 1 and says in out, out
    code, out = _cli("validate", str(url))
    assert code == 1 and "problem: zarr.json: damaged" in out, out


def test_a_zarr_v2_copy(base: Path, tmp_path: Path) -> None:
    """The same names and attributes written by zarr-python as Zarr v2: one line saying so,
    from every consumer (it was "its root zarr.json is missing ... restore zarr.json from a
    backup", and validate listed every group as missing)."""
    url = tmp_path / "v2.zarr"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        src = zarr.open_group(str(base), mode="r")
        dst = zarr.open_group(str(url), mode="w", zarr_format=2)
        dst.attrs.update({k: v for k, v in src.attrs.asdict().items() if k != "crc32c"})
        group = dst.require_group(f"recordings/{RID}")
        group.attrs.update(src[f"recordings/{RID}"].attrs.asdict())
        group.create_array("data", data=np.asarray(src[f"recordings/{RID}/data"][:]))
    shutil.copytree(base / "_eegprep", url / "_eegprep")
    with pytest.raises(EegprepError, match=r"a Zarr v2 hierarchy \(\.zgroup, no zarr\.json\)"):
        _read_windows(str(url))
    for command in ("stats", "validate"):
        code, out = _cli(command, str(url))
        assert code == 2 and len(out.strip().splitlines()) == 1, out
        assert str(url) in out and "Zarr v2" in out, out


def test_old_records_array_of_chunks_too_large_to_decode(old: Path, tmp_path: Path) -> None:
    """An array another program wrote as one chunk of 3,000,000 samples x 23 channels (263 MiB
    decoded; on disk, a fill value and no chunk at all): every read of a window would decode
    the whole chunk in each loader worker. Refused in one line naming its size (before, read)."""
    url = _copy(old, tmp_path)
    n = 3_000_000
    _edit_record(url, n_samples=n)
    _rewrite(lambda g, x: g.create_array("data", shape=(23, n), chunks=(23, n), dtype="f4"))(url)
    with pytest.raises(EegprepError) as err:
        _read_windows(str(url))
    line = str(err.value)
    assert "\n" not in line and RID in line and "263 MiB each decoded" in line, line
    code, out = _cli("validate", str(url))
    assert code == 1 and f"problem: {RID}: " in out and "263 MiB each decoded" in out, out


# --- metadata documents no eegprep store holds ------------------------------------------------


def _sparse(path: Path) -> None:
    """``path`` made a 3 GiB file (sparse: its document, then NULs), as no eegprep store has."""
    with open(path, "r+b") as fh:
        fh.truncate(3 * 2**30)


def _fifo(path: Path) -> None:
    path.unlink()
    os.mkfifo(path)


DOCUMENTS = {
    "data's zarr.json of 3 GiB": (f"recordings/{RID}/data/zarr.json", _sparse),
    "data's zarr.json a FIFO": (f"recordings/{RID}/data/zarr.json", _fifo),
    "the group's zarr.json of 3 GiB": (f"recordings/{RID}/zarr.json", _sparse),
}


@pytest.mark.parametrize("case", list(DOCUMENTS))
def test_a_metadata_document_no_store_holds(base: Path, tmp_path: Path, case: str) -> None:
    """Every reader refuses it in one line naming the file, reading none of it.
    Before, a 3 GiB document was read whole and parsed (6 GiB of memory, half a minute, for
    each reader), and data's, too large or a FIFO, was an ``OSError`` traceback out of the
    loader, which ``labram embed`` took for a write of its own output failing."""
    from tests.peak_memory import peak, start

    url = _copy(base, tmp_path)
    rel, make = DOCUMENTS[case]
    make(url / rel)
    before = start()
    with pytest.raises(EegprepError) as err:
        _read_windows(str(url))
    line = str(err.value)
    assert "\n" not in line and rel in line and RID in line, line
    code, out = _cli("validate", str(url))
    assert code == 1 and any(rel in ln and ln.startswith("problem: ") for ln in out.splitlines())
    assert peak() - before < 2**30  # (a 3 GiB document read whole: 6 GiB more)


def test_a_metadata_document_too_large_on_an_object_store(monkeypatch: pytest.MonkeyPatch) -> None:
    """On an object store (``memory://``), read in one request of at most the limit and one
    byte, and named as no document eegprep wrote (not a refusal of the service's: no "check
    the connection")."""
    import fsspec

    import eegprep.store.fs as store_fs

    fs = fsspec.filesystem("memory")
    fs.pipe("/big-doc/g/zarr.json", b"{}" + b" " * 98)
    fs.pipe("/big-doc/g/other.bin", b"x" * 100)
    monkeypatch.setattr(store_fs, "MAX_DOCUMENT_BYTES", 99)
    loc = store_fs.Location.parse("memory://big-doc")
    try:
        with pytest.raises(EegprepError, match=r"big-doc/g/zarr\.json: more than the 0 MiB"):
            loc.read_bytes("g", "zarr.json")
        assert len(loc.read_bytes("g", "other.bin")) == 100  # (no document: read whole)
    finally:
        fs.rm("/big-doc", recursive=True)


def test_an_ingest_report_of_gigabytes(tmp_path: Path) -> None:
    """A report (a JSON document of the store's bookkeeping) of 3 GiB: ``eegprep stats``
    leaves it out on a ``note:`` line, ``validate`` names it, neither reading it (both read it
    whole before: 6 GiB of memory each)."""
    from tests.peak_memory import peak, start
    from tests.safety.test_handled_stores import two_recordings

    _, store = two_recordings(tmp_path)
    report = next((store / "_eegprep" / "reports").glob("*.json"))
    _sparse(report)
    before = start()
    code, out = _cli("stats", str(store))
    notes = [ln for ln in out.splitlines() if ln.startswith("note: ")]
    assert code == 0 and len(notes) == 1 and report.name in notes[0], out
    code, out = _cli("validate", str(store))
    assert code == 1 and f"problem: _eegprep/reports/{report.name}: damaged" in out, out
    assert peak() - before < 2**30  # (over what the test process held already)


# --- index segments no eegprep store holds ----------------------------------------------------


SEGMENT_BYTES = 5 * 2**28
"""1.25 GiB: more than the longest index line read (512 MiB), and few enough to read in a test
(each reader reads it through)."""


def _sparse_segment(seg: Path) -> str:
    """The base segment made 1.25 GiB: its lines, then NULs (one line of ~1.25 GiB, its last)."""
    lines = seg.read_bytes().count(b"\n")
    with open(seg, "r+b") as fh:
        fh.truncate(SEGMENT_BYTES)
    return f"{seg.name} line {lines + 1}: "


def _huge_line(seg: Path) -> str:
    """A line of ~1.25 GiB (a string of NULs, sparse) put before the base segment's last line,
    which is read after it."""
    lines = seg.read_bytes().splitlines(keepends=True)
    with open(seg, "wb") as fh:
        fh.write(b"".join(lines[:-1]) + b'{"id": "tuab/huge", "pad": "')
        fh.seek(SEGMENT_BYTES)
        fh.write(b'"}\n' + lines[-1])
    return f"{seg.name} line {len(lines)}: "


INDEX_SEGMENTS = {"a sparse segment": _sparse_segment, "a line of gigabytes": _huge_line}


@pytest.mark.slow
@pytest.mark.parametrize("case", list(INDEX_SEGMENTS))
def test_an_index_segment_of_gigabytes(base: Path, tmp_path: Path, case: str) -> None:
    """The over-long line is a damaged index line, read no further than the cap: the windows
    refuse the store in one line naming it, ``validate`` names it, ``stats`` leaves it out and
    tabulates the 4 recordings. Before, each reader read the segment whole and split it into
    lines (12 to 15 GB of memory for 3 GiB; over 1.5 GiB for this one)."""
    from tests.peak_memory import peak, start

    url = _copy(base, tmp_path)
    named = INDEX_SEGMENTS[case](url / "_eegprep" / "index" / "0000000001.jsonl")
    before = start()
    with pytest.raises(EegprepError) as err:
        _read_windows(str(url))
    line = str(err.value)
    assert "\n" not in line and named in line and "longer than any index record" in line, line
    code, out = _cli("validate", str(url))
    problems = [ln for ln in out.splitlines() if ln.startswith("problem: ")]
    assert code == 1 and len(problems) == 1 and named in problems[0], out
    code, out = _cli("stats", str(url))
    left = [ln for ln in out.splitlines() if ln.startswith("left out: ")]
    assert code == 3 and "tuab       4" in out and len(left) == 1 and named in left[0], out
    assert peak() - before < 2**30  # (over what the test process held already)


@pytest.mark.parametrize(
    ("field", "says"),
    [("source", "the same source file x/a.edf"), ("source_blake3", "the same source (digest ")],
)
def test_two_records_of_one_source(base: Path, tmp_path: Path, field: str, says: str) -> None:
    """``validate`` names two index records of one source (its path in the corpus, or its
    content) in one line naming both; a source of another corpus is no such pair. Before,
    it passed such a store."""
    url = _copy(base, tmp_path)
    value = "x/a.edf" if field == "source" else "ab" * 32
    _edit_record(url, **{field: value})
    code, out = _cli("validate", str(url))
    assert code == 0, out  # (one record of it)
    other = "tuab/e000"
    _edit_record(url, other, **{field: value})
    code, out = _cli("validate", str(url))
    lines = [ln for ln in out.splitlines() if ln.startswith("problem: ")]
    assert code == 1 and len(lines) == 1, out
    assert f"{other} and {RID}: " in lines[0] and says in lines[0], out
    _edit_record(url, other, corpus="other")  # (one of them in another corpus)
    code, out = _cli("validate", str(url))
    assert "the same source" not in out, out


def test_a_record_of_no_samples_beside_its_samples(base: Path, tmp_path: Path) -> None:
    """``n_samples: 0`` in both copies of a record whose array holds 4000: the windows, which
    read none of its samples, refuse it in one line as every read does (before, the recording
    gave no window and was left out of training unsaid)."""
    url = _copy(base, tmp_path)
    _edit_record(url, n_samples=0)
    _refused_everywhere(url, RID, "shape[1] 4000, eegprep writes 0", stats_reads=False)
