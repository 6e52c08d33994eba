"""Promise: a flipped bit in the name of a result file's checksum entry is found, not read as a
file of an older labram (which holds none and is read unchecked).

``metrics.json``, ``results.json``, ``summary.json``, an embedding store's ``_labram/embed.json``
and its progress files end in ``content_sha256``; one changed character in that key
(``content_sha257``) made the reader take the file for one written before checksums, and its
entries, a flipped digit among them, were read as they were.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from eegprep.base import strict_json
from eegprep.base.errors import UsageError
from eegprep.base.sealed_json import KEY, sealed, unsealed
from labram.stages.embed_existing import json_file
from labram.stages.embed_progress import recorded


def _renamed(doc: bytes, new: str) -> dict:
    parsed = strict_json.loads(doc)
    parsed[new] = parsed.pop(KEY)
    return parsed


@pytest.mark.parametrize("new", ["content_sha257", "Content_sha256", "content-sha256"])
def test_a_result_file_whose_checksum_key_changed_is_refused(tmp_path: Path, new: str) -> None:
    doc = _renamed(sealed({"auroc": 0.8125, "n": 3}), new)
    doc["auroc"] = 0.8135  # the digit the checksum would have caught
    path = tmp_path / "metrics.json"
    with pytest.raises(UsageError, match=f"{new!r} is its {KEY} changed"):
        unsealed(path, doc)


def test_a_file_without_a_checksum_and_keys_of_its_own_reads_as_it_is(tmp_path: Path) -> None:
    doc = {"auroc": 0.8125, "content_type_x": 1, "sha256": "0" * 64}
    assert unsealed(tmp_path / "metrics.json", doc) == doc


def test_an_embed_json_whose_checksum_key_changed_is_damaged(tmp_path: Path) -> None:
    path = tmp_path / "embed.json"
    path.write_text(strict_json.dumps(_renamed(sealed({"n_windows": 7}), "content_sha25f")))
    with pytest.raises(UsageError, match="damaged"):
        json_file(path)


def test_a_progress_file_whose_checksum_key_changed_records_nothing(tmp_path: Path) -> None:
    path = tmp_path / "rank0.json"
    path.write_text(strict_json.dumps(_renamed(sealed({"chunks": [0, 1]}), "content_sha255")))
    assert recorded(path, 4, warn=False) == set()
    path.write_bytes(sealed({"chunks": [0, 1]}))
    assert recorded(path, 4, warn=False) == {0, 1}
