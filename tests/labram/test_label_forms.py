"""Spellings of one label value are one class: ``"1.0"`` beside ``1.0``, NFC beside NFD, names
with white space around them, booleans; two spellings of one number among names are refused."""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from eegprep.base.errors import UsageError
from eegprep.pipeline.recipe import Recipe
from eegprep.store.writer import StoreWriter
from labram.data.label_forms import is_numeric, label_text
from labram.data.task_records import checkpoint_task, task_record
from labram.data.tasks import build_task_indexes, get_task
from labram.data.windows import open_stores
from labram.stages.embed_coordinates import coordinates
from tests.labram.training_stores import TUAB_ORDER, eeg, put

NFC = unicodedata.normalize("NFC", "état")
NFD = unicodedata.normalize("NFD", "état")


def _store(path: Path, values: list[Any], *, key: str = "state") -> str:
    """One 11-s, 23-channel recording per value; the first two are the test split."""
    url = str(path)
    with StoreWriter(url, Recipe()) as w:
        for k, value in enumerate(values):
            split = "eval" if k < 2 else "train"
            put(w, f"lab/s{k:02d}", eeg(np.random.default_rng(k), 23, 11), list(TUAB_ORDER),
                subject=f"s{k:02d}", subject_key=f"x:s{k:02d}", split=split,
                labels={key: value})  # fmt: skip
    return url


def _labels(url: str, task_name: str) -> dict[str, float]:
    """Each recording's class number over every split."""
    task = get_task(task_name, open_stores([url]))
    out = {}
    for index in build_task_indexes([url], task).values():
        for i, plan in enumerate(index.recordings):
            out[plan.id] = float(index.labels[index.rec == i, 0][0])
    return out


@pytest.mark.parametrize(
    ("value", "numeric", "text"),
    [
        (1.0, True, "1"),
        ("1.0", True, "1"),
        (" 2 ", True, "2"),
        ("1e0", True, "1"),
        (-0.0, True, "0"),
        (0.5, True, "0.5"),
        ("0.50", True, "0.5"),
        (True, False, "1"),
        (False, True, "0"),
        ("1.0", False, "1.0"),
        (NFD + "  ", False, NFC),
        ("nan", True, None),  # (NaN as text: no label, as NaN is; it was the name "nan")
        (" -Inf", False, None),
        ("nanny", False, "nanny"),
        (float("nan"), True, None),
        (None, True, None),
        (["x"], False, None),
    ],
)
def test_label_text_is_one_form_per_value(value: Any, numeric: bool, text: str | None) -> None:
    assert label_text(value, numeric=numeric) == text


def test_a_number_as_text_beside_the_number_is_one_class(tmp_path: Path) -> None:
    """``"1.0"`` (a CSV column read as text) beside ``1.0`` and ``1`` made classes "1" and
    "1.0": a three-class task of a binary label."""
    url = _store(tmp_path / "n.zarr", ["1.0", 0, 1.0, "0", 1, " 0.0 ", True, False])
    task = get_task("label:state", open_stores([url]))
    assert task.classes == ("0", "1") and task.kind == "binary"
    got = _labels(url, "label:state")
    assert got == {f"lab/s{k:02d}": float(v) for k, v in enumerate([1, 0, 1, 0, 1, 0, 1, 0])}


def test_whole_numbers_past_float64_are_exact_classes(tmp_path: Path) -> None:
    """``"9007199254740993"`` (a label read as text, from a file name or a CSV column) was
    rounded through float64 to 9007199254740992: one class with that label, the integer
    9007199254740993 of another recording a class of its own."""
    big = 2**53 + 1
    url = _store(tmp_path / "b.zarr", [str(big), big - 1, big, f"{big}.0", -big, str(1 - big)])
    task = get_task("label:state", open_stores([url]))
    assert task.classes == (str(-big), str(1 - big), str(big - 1), str(big))
    got = _labels(url, "label:state")
    assert [got[f"lab/s{k:02d}"] for k in range(6)] == [3, 2, 3, 3, 0, 1]


def test_numbers_float64_cannot_hold_as_written_keep_its_shortest_repr(tmp_path: Path) -> None:
    """``1e300`` (as a number or as text) was the class ``str(int(1e300))``: 301 digits nobody
    wrote, ending ...0526. A whole number beyond int64 is its float's shortest repr now, one
    class whichever way it is spelled; a whole one within int64 stays its integer."""
    assert label_text(1e300, numeric=True) == label_text("1e300", numeric=True) == "1e+300"
    assert label_text("1.0e300", numeric=True) == label_text(1e300 * 1.0, numeric=True)
    assert label_text(9.3e18, numeric=True) == label_text("9.3e18", numeric=True) == "9.3e+18"
    assert label_text(1e18, numeric=True) == label_text("1e18", numeric=True) == str(10**18)
    url = _store(tmp_path / "h.zarr", ["1e300", 1e300, 2, 1e18])
    task = get_task("label:state", open_stores([url]))
    assert task.classes == ("2", str(10**18), "1e+300")
    assert _labels(url, "label:state") == {"lab/s00": 2, "lab/s01": 2, "lab/s02": 0, "lab/s03": 1}


def test_a_label_text_that_underflows_to_zero_is_refused_in_one_line(tmp_path: Path) -> None:
    """``"1e-400"`` read through float64 is 0.0: it became class ``0``, one with the recordings
    labelled 0 (while ``"1e400"`` was refused as beyond float64). Now one line names it; a
    subnormal float64 holds (``"1e-320"``) stays a class of its own, and a zero spelled
    ``"0e5"`` is 0."""
    url = _store(tmp_path / "z.zarr", [0, 1, " 1e-400", 1])
    with pytest.raises(UsageError) as err:
        get_task("label:state", open_stores([url]))
    assert str(err.value) == (
        "task 'label:state': label 'state' of lab/s02 is '1e-400', a number not zero yet below "
        "float64's smallest (4.9e-324), which reads it as 0 (one class with a label 0): write "
        "a number float64 holds, or 0, in the stores (the manifest's label rule or sidecar)"
    )
    assert label_text("1e-400", numeric=True) != "0"
    fine = _store(tmp_path / "f.zarr", [0, "1e-320", "0e5", 1])
    assert get_task("label:state", open_stores([fine])).classes == ("0", "1e-320", "1")


def test_nfc_nfd_and_white_space_are_one_class(tmp_path: Path) -> None:
    """``"état"`` composed, decomposed (macOS file names) and with a space after it were three
    classes."""
    url = _store(tmp_path / "u.zarr", [NFC, "calme", NFD, " calme", NFC + " ", "calme\t"])
    task = get_task("label:state", open_stores([url]))
    assert task.classes == ("calme", NFC)
    assert sorted(_labels(url, "label:state").values()) == [0, 0, 0, 1, 1, 1]


def test_two_spellings_of_one_number_among_names_are_refused(tmp_path: Path) -> None:
    """Names with ``"1"`` and ``"1.0"``: neither two classes nor silently one."""
    url = _store(tmp_path / "a.zarr", ["left", "1", "right", "1.0"])
    with pytest.raises(UsageError) as err:
        get_task("label:state", open_stores([url]))
    line = str(err.value)
    assert "\n" not in line
    assert "'1' (e.g. lab/s01), '1.0' (e.g. lab/s03) spell one number 1" in line


def test_a_checkpoints_old_spellings_still_match(tmp_path: Path) -> None:
    """A checkpoint whose classes read "1.0" (or a name in NFD) scores stores holding 1 / NFC."""
    url = _store(tmp_path / "c.zarr", [NFC, "x", NFC, "x"])
    record = {**task_record(get_task("label:state", open_stores([url]))), "classes": [NFD, "x"]}
    task = checkpoint_task("label:state", open_stores([url]), record, source="best.pt")
    test = build_task_indexes([url], task)["test"]
    assert sorted(test.labels[:, 0].tolist()) == [0.0, 1.0]
    nums = _store(tmp_path / "d.zarr", [0, 1, "1", 0.0])
    base = task_record(get_task("label:state", open_stores([nums])))
    record = {**base, "classes": ["0.0", "1.0"]}
    task = checkpoint_task("label:state", open_stores([nums]), record, source="best.pt")
    assert len(build_task_indexes([nums], task)["train"]) == 2


def test_tuab_reads_booleans_and_numbers_as_text(tmp_path: Path) -> None:
    """TUAB's abnormal of ``True`` / ``"1"`` (a sidecar's JSON true, a CSV) gave no window."""
    url = _store(tmp_path / "t.zarr", [True, "0", "1.0", False], key="abnormal")
    task = get_task("tuab")
    classes = {}
    for index in build_task_indexes([url], task).values():
        for i, plan in enumerate(index.recordings):
            classes[plan.id] = float(index.labels[index.rec == i, 0][0])
    assert classes == {"lab/s00": 1.0, "lab/s01": 0.0, "lab/s02": 1.0, "lab/s03": 0.0}


def test_embed_writes_the_canonical_values(tmp_path: Path) -> None:
    """``labram embed``'s label coordinates: numbers where every value is one, else names in
    NFC without surrounding white space."""
    url = _store(tmp_path / "e.zarr", ["1.0", 0, True, " 2 "])
    index = build_task_indexes([url], get_task("label:state", open_stores([url])))["train"]
    assert coordinates(index, [url])["label_state"].tolist() == [1.0, 2.0]
    names = _store(tmp_path / "f.zarr", [NFD, "x ", "x", NFC])
    index = build_task_indexes([names], get_task("label:state", open_stores([names])))["train"]
    assert coordinates(index, [names])["label_state"].tolist() == ["x", NFC]
    assert is_numeric([1, "2", None, ["x"]]) and not is_numeric([1, "a"])
