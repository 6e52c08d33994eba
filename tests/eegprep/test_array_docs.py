"""eegprep.store.array_docs: the document eegprep writes for each array of a recording group,
and the one line saying what in a found one differs."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from eegprep.store.array_docs import document_problem, expected_documents

RECORD: dict[str, Any] = {
    "encoding": "float32",
    "quantum_uv": None,
    "sfreq": 200.0,
    "n_samples": 2000,
    "channels": ["FP1", "CZ"],
    "targets": ["joints"],
}


def _target(rows: int = 3) -> dict[str, Any]:
    docs = expected_documents(RECORD, "joints", {"shape": [rows, 2000]})
    assert docs is not None
    return copy.deepcopy(docs[0])


@pytest.mark.parametrize("name", ["data", "channel", "time", "joints"])
def test_what_eegprep_writes_and_its_earlier_forms_are_no_problem(name: str) -> None:
    docs = expected_documents(RECORD, name, {"shape": [3, 2000]})
    assert docs and len(docs) >= 2  # (the current form, then those without crc32c ...)
    for doc in docs:
        assert document_problem(RECORD, name, doc) is None


@pytest.mark.parametrize(
    ("edit", "says"),
    [
        (lambda d: d.update(data_type="int32"), "data_type 'int32', eegprep writes 'float32'"),
        (
            lambda d: d["codecs"][1]["configuration"].update(cname="lz5"),
            "codecs[1].configuration.cname 'lz5', eegprep writes 'lz4'",
        ),
        (lambda d: d.pop("fill_value"), "no fill_value"),
        (lambda d: d.update(extra=1), "extra, which eegprep does not write"),
        (
            lambda d: d.update(shape=[7, 2000]),
            "shape [7, 2000] and chunk_shape [3, 12000] disagree on the rows",
        ),
        (
            lambda d: d["chunk_grid"]["configuration"].update(chunk_shape=[3, 12001]),
            "chunk_grid.configuration.chunk_shape[1] 12001, eegprep writes 12000",
        ),
        (
            lambda d: d.update(dimension_names=["joints_channel"]),
            "dimension_names of 1 items, eegprep writes 2",
        ),
    ],
)
def test_what_differs_is_named(edit: Any, says: str) -> None:
    doc = _target()
    edit(doc)
    assert document_problem(RECORD, "joints", doc) == says


def test_nothing_is_said_where_eegprep_cannot_tell() -> None:
    """A record of a version that states no encoding (its writer's documents unknown), a
    record whose own fields are damaged (their checks report it) and an array the record does
    not name are not compared."""
    junk = {"data_type": "int8"}
    for record in (
        {k: v for k, v in RECORD.items() if k != "encoding"},
        {**RECORD, "sfreq": None},
        {**RECORD, "n_samples": "2000"},
    ):
        assert document_problem(record, "joints", junk) is None
    assert document_problem(RECORD, "other", junk) is None
