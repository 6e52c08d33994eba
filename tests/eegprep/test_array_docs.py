"""eegprep.store.array_docs: the document eegprep writes for each array of a recording group,
and the one line saying what in a found one differs."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from eegprep.store.array_docs import PAST_FORMS, document_problem, expected_documents

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


@pytest.mark.parametrize(
    ("name", "n_forms"), [("data", 2), ("channel", 3), ("time", 2), ("joints", 1)]
)
def test_what_eegprep_writes_and_its_earlier_forms_are_no_problem(name: str, n_forms: int) -> None:
    """The current document, then each form earlier commits wrote (:data:`PAST_FORMS`)."""
    docs = expected_documents(RECORD, name, {"shape": [3, 2000]})
    assert docs and len(docs) == n_forms
    for doc in docs:
        assert document_problem(RECORD, name, doc) is None


def test_the_past_forms_are_those_earlier_commits_wrote() -> None:
    """Commits 829cebd..a2ec6fd wrote chunk keys with ``/``, and until fcca6d2 the channel
    names compressed with zstd; nothing else changed beside a record stating its encoding."""
    docs = {
        n: expected_documents(RECORD, n, {"shape": [3, 2000]}) or [] for n in ("data", "channel")
    }
    assert docs["data"][1]["chunk_key_encoding"]["configuration"] == {"separator": "/"}
    slash_zstd, zstd = docs["channel"][1:]
    assert slash_zstd["chunk_key_encoding"]["configuration"] == {"separator": "/"}
    assert [c["name"] for c in zstd["codecs"]] == ["vlen-utf8", "zstd", "crc32c"]
    assert [(f.first, f.last) for f in PAST_FORMS] == [
        ("829cebd", "a2ec6fd"),
        ("829cebd", "a2ec6fd"),
        ("364340a", "fcca6d2"),
    ]


def _blosc(doc: dict[str, Any]) -> dict[str, Any]:
    """The Blosc codec's configuration in ``doc`` (a target's, or inside ``data``'s shard)."""
    codecs = doc["codecs"]
    if codecs[0]["name"] == "sharding_indexed":
        codecs = codecs[0]["configuration"]["codecs"]
    return next(c for c in codecs if c["name"] == "blosc")["configuration"]


def _no_crc(doc: dict[str, Any]) -> None:
    codecs = doc["codecs"]
    if codecs[0]["name"] == "sharding_indexed":
        codecs = codecs[0]["configuration"]["codecs"]
    codecs.remove({"name": "crc32c"})


@pytest.mark.parametrize(
    ("name", "record", "edit", "says"),
    [  # what commits before 829cebd wrote, beside records that state no encoding
        ("joints", RECORD, lambda d: _blosc(d).update(cname="zstd"), "cname 'zstd'"),
        ("joints", RECORD, lambda d: _blosc(d).update(clevel=3), "clevel 3, eegprep writes 5"),
        ("joints", RECORD, _no_crc, "of 2 items, eegprep writes 3"),
        ("data", RECORD, _no_crc, "of 2 items, eegprep writes 3"),
        (
            "data",
            {**RECORD, "encoding": "quantized", "quantum_uv": 0.1},
            lambda d: _blosc(d).update(cname="zstd", clevel=3),
            "cname 'zstd', eegprep writes 'lz4'",
        ),
    ],
)
def test_a_form_no_commit_wrote_beside_an_encoding_is_a_difference(
    name: str, record: dict[str, Any], edit: Any, says: str
) -> None:
    """Blosc zstd (level 5 for every array until 4b16c42, level 3 for quantized samples until
    a53d00a) and arrays without a CRC-32C (until e613381) were written only beside records
    that state no encoding (not compared): beside one that states it, they are damage. They
    were accepted before, as if any commit might have written them."""
    docs = expected_documents(record, name, {"shape": [3, 2000]})
    assert docs is not None
    doc = copy.deepcopy(docs[0])
    edit(doc)
    problem = document_problem(record, name, doc)
    assert problem is not None and says in problem


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
            "dimension_names of 1 item, eegprep writes 2",
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
