"""Record values edited by hand to values no eegprep ingest writes: those only some readers
compute with (the stored encoding and its step, the source's rate, the QC, event times), target
names, the group and id, a root's unit; and the channel rows, checked by one check with one
message everywhere. Every consumer (the window indexes and the loader, ``eegprep stats``,
``eegprep validate``) refuses such a record in one line naming the store, the recording and the
field; the values eegprep writes, this version's and earlier ones', are read as before. Label
values the tasks cannot read as a class (NaN as text, a list under TUAB's ``abnormal``) are
named in the tasks' warning, never left out unsaid."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from eegprep.base.errors import EegprepError, StoreFormatError
from eegprep.store.encoding import choose_encoding
from eegprep.store.reader import open_store
from eegprep.store.record_details import details_problem
from eegprep.store.record_values import channels_problem
from eegprep.testing.records import hand_record
from labram.data.tasks import build_task_indexes, get_task
from labram.data.windows import open_stores
from tests.eegprep.test_record import OLD_RECORD
from tests.labram.test_label_tasks import KEY, write_labelled
from tests.labram.training_stores import TUAB_ORDER, eeg, put
from tests.safety.test_foreign_stores import (
    RID,
    _cli,
    _edit_record,
    _edit_root,
    _read_windows,
    _refused_everywhere,
    _write,
)


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A TUAB-like store whose records state their encoding (float32), as ingested."""
    return _write(tmp_path_factory.mktemp("details") / "base.zarr", encoding="float32")


def _edited(base: Path, tmp_path: Path, **values: Any) -> Path:
    url = tmp_path / "s.zarr"
    shutil.copytree(base, url)
    _edit_record(url, **values)
    if "id" in values:  # what the index lists, edited: another program's index, which has no
        (url / "_eegprep" / "index" / "head.json").unlink()  # head (it names the ids listed)
    return url


RECORDS: dict[str, tuple[dict[str, Any], str]] = {
    "encoding unknown": ({"encoding": "zstd"}, "encoding 'zstd' is not one eegprep writes"),
    "encoding a number": ({"encoding": 32}, "encoding 32 is not one eegprep writes"),
    "quantized step 0": (
        {"encoding": "quantized", "quantum_uv": 0, "max_error_uv": 0},
        "quantum_uv 0 is not the quantized encoding's step",
    ),
    "quantized step as text": (
        {"encoding": "quantized", "quantum_uv": "x", "max_error_uv": None},
        "quantum_uv 'x' is not the quantized encoding's step",
    ),
    "float32 with a step": (
        {"quantum_uv": 0.5, "max_error_uv": 0.25},
        "quantum_uv 0.5 is stated for the float32 encoding",
    ),
    "orig_sfreq as text": ({"orig_sfreq": "250"}, "orig_sfreq '250' is not a rate"),
    "orig_sfreq negative": ({"orig_sfreq": -250.0}, "orig_sfreq -250.0 is not a rate"),
    "orig_sfreq true": ({"orig_sfreq": True}, "orig_sfreq True is not a rate"),
    "orig_sfreq empty list": ({"orig_sfreq": []}, "orig_sfreq [] is not a rate"),
    "qc of another program": ({"qc": {"ok": 1}}, "qc holds no median_rms_uv"),
    "qc rms as text": ({"qc": {"median_rms_uv": "20"}}, "qc holds no median_rms_uv"),
    "qc flat channels as text": (
        {"qc": {"median_rms_uv": 20.0, "flat_channels": "FP1"}},
        "qc.flat_channels 'FP1' is not a list of channel names",
    ),
    "qc line noise as text": (
        {"qc": {"median_rms_uv": 20.0, "line_noise_db": {"60": "high"}}},
        "qc.line_noise_db {'60': 'high'} is not an object of dB",
    ),
    "event beyond any time axis": (
        {"events": [[1e300, 1.0, "SPSW", ""]]},
        "events[0] at 1e+300 s for 1 s is beyond any recording's time axis",
    ),
    "target outside its group": (
        {"targets": ["../t000/data"]},
        "targets ['../t000/data'] is not a list of names of arrays",
    ),
    "target named data": ({"targets": ["data"]}, "targets ['data'] is not a list of names"),
    "id not corpus/name": (
        {"id": "t001"},
        "group 'recordings/tuab/t001' is not a version of recordings/t001",
    ),
    "corpus not the id's": ({"corpus": "tuev"}, "corpus 'tuev' is not its id's 'tuab'"),
    "name not the id's": ({"name": "t000"}, "name 't000' is not its id's 't001'"),
    "part a list": ({"part": [1]}, "part [1] is neither text nor null"),
    "event lasting beyond any time axis": (
        {"events": [[1.0, -1e12, "SPSW", ""]]},
        "events[0] at 1 s for -1e+12 s is beyond any recording's time axis",
    ),
}


@pytest.mark.parametrize("case", list(RECORDS))
def test_record_details_no_ingest_writes(base: Path, tmp_path: Path, case: str) -> None:
    """Before: an unknown encoding was read as float32 without a word, a quantized step of 0 or
    text an internal error on the first read, a float32 record's step ignored; a rate as text
    an internal error in ``eegprep stats``, a negative one or a boolean tabulated; a ``qc`` no
    ingest writes vouched for finite samples (the NaN check read nothing); an event at 1e300 s
    passed every reader and validate; a target named ``../t000/data`` had validate read
    another recording's array, ``data`` the samples as a target; an id that is not
    ``corpus/name`` or a corpus other than its id's was read unsaid (``stats`` tabulated the
    recording under the other corpus). Now one line from each, naming the field."""
    values, says = RECORDS[case]
    url = _edited(base, tmp_path, **values)
    _refused_everywhere(url, values.get("id", RID), says)


def test_an_event_beyond_any_time_axis_stops_no_task_with_a_traceback(
    base: Path, tmp_path: Path
) -> None:
    """TUEV's windows are cut around each event: ``round((onset - 2) * 200)`` of an onset of
    1e307 s was ``OverflowError: cannot convert float infinity to integer``."""
    url = _edited(base, tmp_path, events=[[1e307, 1.0, "SPSW", ""]])
    with pytest.raises(EegprepError) as err:
        build_task_indexes([str(url)], get_task("tuev"))
    assert str(url) in str(err.value) and f"{RID}: " in str(err.value)
    assert "events[0] at 1e+307 s" in str(err.value)


def test_the_channel_rows_are_one_check_with_one_message(base: Path, tmp_path: Path) -> None:
    """validate said ``channel_index [..] does not give the vocabulary's positions of its
    channels (first wrong: FP1, FP2)``, the readers ``channel_index gives FP1 the position ..``:
    two checks of one field. Now validate says what the readers say, once."""
    rows = list(open_store(base).recording(RID).channel_index)
    url = _edited(base, tmp_path, channel_index=[rows[1], rows[0], *rows[2:]])
    said = channels_problem(list(open_store(base).recording(RID).channels), [rows[1], rows[0],
                            *rows[2:]])  # fmt: skip
    assert said is not None and said.startswith("channel_index gives FP1 the position")
    with pytest.raises(EegprepError) as err:
        open_store(url).recording(RID)
    assert said in str(err.value)
    code, out = _cli("validate", str(url))
    lines = [ln for ln in out.splitlines() if "channel_index" in ln]
    assert code == 1 and len(lines) == 1 and said in lines[0], out


def _written_records() -> list[dict[str, Any]]:
    """Records as eegprep writes them: each encoding :func:`choose_encoding` gives (an integer
    source's quantized step, float sources' float32 and float16), with the QC an ingest
    states, a source of several rates, events at both ends; and a record of an earlier version
    (no encoding, a ``null`` step, a QC of the median alone)."""
    qc = {"flat_channels": ["O2"], "median_rms_uv": 0.0, "line_noise_db": {"60": 19.9},
          "clipped_channels": [], "rms_uv": [0.0, 31.5]}  # fmt: skip
    events = [[0.0, 0.0, "start", ""], [1.5, 0.5, "SPSW", "FP1"], [2.005, 0.0, "end", ""]]
    out = [dict(OLD_RECORD)]
    for encoding, steps in (("auto", [0.0305, 0.0610]), ("auto", [0.0]), ("float16", [0.1])):
        record = hand_record("tuh/a", ["FP1", "FP2"], 400, orig_sfreq=(250.0, 500.0), qc=qc,
                             events=events, **choose_encoding(encoding, steps))  # fmt: skip
        out.append(record.to_dict())
    return out


def test_values_eegprep_writes_pass() -> None:
    """Every value above as an ingest (this version's or an earlier one's) writes it passes."""
    records = _written_records()
    assert {r.get("encoding") for r in records} == {None, "quantized", "float32", "float16"}
    for record in records:
        assert details_problem(record, 200.0) is None, record


@pytest.mark.parametrize(
    "edit",
    [
        {"qc": {"median_rms_uv": 20.0, "flat_channels": None}},
        {"qc": {"median_rms_uv": 20.0, "clipped_channels": {}}},
        {"qc": {"median_rms_uv": 20.0, "line_noise_db": []}},
        {"qc": {"median_rms_uv": float("nan")}},
        {"qc": {"median_rms_uv": 20.0, "line_noise_db": {"60": float("inf")}}},
        {"encoding": "quantized", "quantum_uv": 0.01, "max_error_uv": 0.01},
        {"encoding": "float16", "quantum_uv": None, "max_error_uv": 0.05},
        {"encoding": None, "quantum_uv": -0.1},
        {"orig_sfreq": [250.0, float("inf")]},
        {"orig_sfreq": [250.0, "500"]},
    ],
    ids=repr,
)
def test_every_value_is_checked_whatever_else_the_record_holds(edit: dict[str, Any]) -> None:
    """Values no ingest writes, each in a record that is otherwise as an ingest writes it (the
    checks take a shortcut for such records): each is named."""
    for record in _written_records()[1:]:
        edited = {**record, **edit}
        said = details_problem(edited, 200.0)
        assert said is not None and said.split(" ")[0].split(".")[0] in {*edit, "max_error_uv"}


def test_a_tuab_label_of_a_list_a_table_or_null_is_warned(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """TUAB's ``abnormal`` of ``[1]``, ``{"v": 1}`` or null: the recording gave no window
    without a word (a value that is a class was warned of, these were not). Now the warning
    counts them with the others."""
    from eegprep.pipeline.recipe import Recipe
    from eegprep.store.writer import StoreWriter

    url = tmp_path / "odd.zarr"
    with StoreWriter(str(url), Recipe()) as w:
        for k, value in enumerate([0, 1, [1], {"v": 1}, None, "yes"]):
            put(w, f"tuab/t{k}", eeg(np.random.default_rng(k), 23, 20), list(TUAB_ORDER),
                subject=f"t{k}", subject_key=f"tuh:t{k}", split="train",
                labels={"abnormal": value})  # fmt: skip
    with caplog.at_level("WARNING", logger="labram.data.tasks"):
        split = build_task_indexes([str(url)], get_task("tuab"))
    assert {p.id for s in split.values() for p in s.recordings} == {"tuab/t0", "tuab/t1"}
    said = [r.getMessage() for r in caplog.records if "no class of the task" in r.getMessage()]
    assert len(said) == 1 and said[0].startswith(
        "tuab: 4 recordings hold a value of label 'abnormal' that is no class of the task (e.g. "
        "tuab/t2: [1];"
    ), said


@pytest.mark.parametrize("nan", ["nan", "NaN", " -inf", "Infinity"])
def test_nan_spelled_as_text_is_no_class_of_a_numeric_label(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, nan: str
) -> None:
    """A label of numbers 2, 3, 10 with one recording's value ``"nan"`` (a CSV's missing
    number): the label became one of names, ``"nan"`` a class trained on, the classes in text
    order (10, 2, 3, nan). Now it is no label, as a NaN number is: classes 2, 3, 10, by value,
    and the recording warned of and left out."""
    url = write_labelled(tmp_path / "nan.zarr", [2, 3, 10, nan], [2, 3, 10])
    with caplog.at_level("WARNING", logger="labram.data.tasks"):
        task = get_task(f"label:{KEY}", open_stores([url]))
    assert task.classes == ("2", "3", "10")
    assert f"1 recording holds a value of label '{KEY}' that is not a single value" in caplog.text
    assert repr(nan) in caplog.text
    split = build_task_indexes([url], task)
    assert "lab/t003_r0" not in {p.id for s in split.values() for p in s.recordings}


@pytest.mark.parametrize("unit", ["mV", "V", 1])
def test_a_root_without_its_checksum_in_another_unit(
    base: Path, tmp_path: Path, unit: object
) -> None:
    """A root (without its checksum: an earlier version's, or another program's) stating its
    samples in mV: every reader took them as microvolts, a thousandth of their size, and only
    validate said so. Now every reader refuses it in one line naming the root."""
    url = tmp_path / "s.zarr"
    shutil.copytree(base, url)
    _edit_root(url, unit=unit)
    with pytest.raises(
        EegprepError,
        match=f"zarr.json: the root's attributes are damaged \\(unit {unit!r} is not uV",
    ):
        _read_windows(str(url))
    code, out = _cli("stats", str(url))
    assert code == 2 and len(out.strip().splitlines()) == 1 and f"unit {unit!r}" in out, out
    code, out = _cli("validate", str(url))
    assert code == 1 and f"unit {unit!r}, not 'uV'" in out, out


@pytest.mark.parametrize("group", ["../elsewhere.zarr/recordings/tuab/t001", "recordings/tuab/x"])
def test_a_group_not_the_record_s_own_is_named_and_not_opened(
    base: Path, tmp_path: Path, group: str
) -> None:
    """An index line whose ``group`` is no version of ``recordings/{id}`` (only that copy
    edited) was compared with the ``zarr.json`` at the path it names, outside the store or
    another recording's: the reader opened that file and said it was missing ("a replaced
    version deleted after --keep-replaced"). Now the group is named, as by validate."""
    url = tmp_path / "s.zarr"
    shutil.copytree(base, url)
    outside = tmp_path / "elsewhere.zarr" / "recordings" / "tuab" / "t001"
    outside.mkdir(parents=True)  # (a group there, with the record's own attributes)
    shutil.copy(url / "recordings" / RID / "zarr.json", outside / "zarr.json")
    index = url / "_eegprep" / "index" / "0000000001.jsonl"
    lines = [json.loads(line) for line in index.read_text().splitlines()]
    for line in lines:
        if line.get("id") == RID:
            line["group"] = group
    index.write_text("".join(json.dumps(line) + "\n" for line in lines))
    (url / "_eegprep" / "index" / "0000000001.fields").unlink(missing_ok=True)
    with pytest.raises(StoreFormatError) as refused:
        open_store(url).recording(RID)
    said = str(refused.value)
    assert f"group {group!r} is not a version of recordings/{RID}" in said, said
    assert "zarr.json" not in said and "--keep-replaced" not in said  # (no file named)


@pytest.mark.parametrize("name", ["joint-angles", "Joints 2", "x" * 100, "émg"])
def test_a_target_name_an_earlier_ingest_wrote_is_still_read(
    base: Path, tmp_path: Path, name: str
) -> None:
    """Ingests since 2026-12-01 name target series by a stricter rule (a letter, then letters,
    digits and '_'); a store written before under another name (``joint-angles``) was refused
    by every reader once the records' target names were checked. A name that stays inside the
    group is read; one that leaves it (above) is still refused."""
    url = _edited(base, tmp_path, targets=[name])
    assert list(open_store(url).recording(RID).record.targets) == [name]
    for bad in ("a/b", "..", "", "tab\there", "data"):
        with pytest.raises(StoreFormatError, match="is not a list of names of arrays"):
            open_store(_edited(base, tmp_path / f"b{bad.encode().hex()}", targets=[bad])).recording(
                RID
            )


SOURCES = {  # values only an ingest uses: the name a source keeps, the source it is matched by
    "name of another recording": {"name": "b"},
    "name of none": {"name": "zz"},
    "name a number": {"name": 5},
    "source a number": {"source": 5},
    "source another recording's": {"source": "b.edf"},
    "part a list": {"part": [1]},
}


@pytest.mark.parametrize("case", list(SOURCES))
def test_an_ingest_reads_a_listed_record_by_its_id(tmp_path: Path, case: str) -> None:
    """A recording's source changed, its record edited by hand (both copies): the next ingest
    writes it again as itself, ``folder/a``, and leaves ``folder/b`` as it was. Before, the
    record's ``name`` named the new version (``b``: recording b replaced by a's samples; ``zz``
    or ``5``: a second recording of a.edf beside the stale one), a ``source`` of a number or
    of b's made a.edf a new recording ``a~hash`` beside the old one, and a ``part`` of a list
    was an internal error (``unhashable type: 'list'``); validate passed the names."""
    from tests.safety.test_handled_stores import _ingest, change, two_recordings

    src, store = two_recordings(tmp_path)
    _edit_folder_record(store, "folder/a", **SOURCES[case])
    if case != "source another recording's":  # (a source two records name: not checked)
        code, out = _cli("validate", str(store))
        assert code == 1 and "problem: folder/a: " in out, out
    kept = {p: p.read_bytes() for p in (store / "recordings/folder/b").rglob("*") if p.is_file()}
    change(src, "a")
    code, out = _ingest(src, store)
    assert code == 0 and "1 ingested" in out, out
    assert sorted(r.id for r in open_store(str(store)).recordings) == ["folder/a", "folder/b"]
    assert {p: p.read_bytes() for p in (store / "recordings/folder/b").rglob("*")
            if p.is_file()} == kept  # fmt: skip
    np.testing.assert_array_equal(
        open_store(str(store)).read("folder/a"), _ingested_alone(src, tmp_path)
    )


def _edit_folder_record(store: Path, rid: str, **values: Any) -> None:
    """``values`` set in recording ``rid``'s group attributes and its index line."""
    attrs = store / "recordings" / rid / "zarr.json"
    doc = json.loads(attrs.read_text())
    doc["attributes"].update(values)
    attrs.write_text(json.dumps(doc))
    for segment in (store / "_eegprep" / "index").glob("*.jsonl"):
        lines = [json.loads(line) for line in segment.read_text().splitlines()]
        for line in lines:
            line.update(values) if line.get("id") == rid else None
        segment.write_text("".join(json.dumps(line) + "\n" for line in lines))
    for fields in (store / "_eegprep" / "index").glob("*.fields"):
        fields.unlink()


def _ingested_alone(src: Path, tmp_path: Path) -> np.ndarray:
    """Recording a's samples as an ingest of its source alone into a new store writes them."""
    from tests.safety.corpus import ingest_folder

    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(src / "a.edf", alone / "a.edf")
    ingest_folder(alone, tmp_path / "alone.zarr")
    return open_store(str(tmp_path / "alone.zarr")).read("folder/a")
