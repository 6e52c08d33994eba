"""Promise: a number that is not zero yet a 64-bit float reads as 0 (``1e-400``, ``-1e-999``,
``0.`` then 400 zeros and a ``1``) is refused where it enters, as ``1e400`` is, never taken as
a ``0`` nobody wrote: in strict JSON, in the lenient parse of a ``zarr.json`` (read as null in
another program's attributes), in a user's TOML file (a manifest, a training config), in a
``--set`` value and in the index. A subnormal a float holds (``5e-324``) is a number."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eegprep.base import strict_json, toml_files
from eegprep.base.errors import ConfigError, ManifestError
from eegprep.base.validation import parse_field
from eegprep.corpus.manifest import MANIFEST_DIR, load_manifest

UNDER = ["1e-400", "-1e-999", "0." + "0" * 400 + "1", "1E-400", "12.5e-400"]
"""Spellings of a number not zero that a float reads as 0."""
NOT_UNDER = ["5e-324", "2.5e-320", "0.0", "-0.0", "0e5", "0.000e-999", "1e-300"]


@pytest.mark.parametrize("text", UNDER)
def test_strict_loads_refuses_a_number_that_underflows(text: str) -> None:
    for doc in (text, f'{{"label": {text}}}', f"[1, {text}]"):
        with pytest.raises(json.JSONDecodeError, match="not zero, yet a 64-bit float reads it"):
            strict_json.loads(doc)


@pytest.mark.parametrize("text", NOT_UNDER)
def test_strict_loads_keeps_zero_and_subnormals(text: str) -> None:
    assert strict_json.loads(text) == float(text)
    assert str(strict_json.loads("5e-324")) == "5e-324"


def test_zarr_json_reads_an_underflow_as_null_only_in_another_program_s_attributes() -> None:
    doc = '{"zarr_format": 3, "attributes": {"theirs": {"eps": 1e-400}, "ours": 1}}'
    got = strict_json.loads_zarr_json(doc, lambda attrs: ["theirs"])
    assert got["attributes"] == {"theirs": None, "ours": 1}
    ours = '{"zarr_format": 3, "attributes": {"theirs": 1, "ours": -1e-999}}'
    with pytest.raises(json.JSONDecodeError, match="-1e-999 is not zero"):
        strict_json.loads_zarr_json(ours, lambda attrs: ["theirs"])
    outside = '{"zarr_format": 1e-400, "attributes": {}}'
    with pytest.raises(json.JSONDecodeError, match="underflows"):
        strict_json.loads_zarr_json(outside, lambda attrs: [])


@pytest.mark.parametrize("text", UNDER)
def test_toml_refuses_a_number_that_underflows_naming_its_key(text: str) -> None:
    with pytest.raises(ValueError, match=r"^`a\.b\[1\]\.c` is .*, a number that is not"):
        toml_files.loads_toml(f"[a]\nb = [1.0, {{ c = {text} }}]\n")
    assert toml_files.loads_toml("x = 5e-324\ny = 0.0\nz = nan")["x"] == 5e-324


def test_a_config_file_with_an_underflow_is_one_line_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[tokenizer]\nlr = 1e-400\n")
    with pytest.raises(ConfigError) as err:
        toml_files.load_toml(path, "config file")
    assert str(err.value) == (
        f"{path}: `tokenizer.lr` is 1e-400, a number that is not zero, yet a 64-bit float reads "
        "it as 0 (it underflows): write 0, or a number a float holds"
    )


MANIFEST_TABLES = {
    "reader.options": '[reader]\nname = "mne"\noptions = { scale = 1e-400 }\n',
    "sidecar.options": (
        '[sidecar]\nparser = "trial_labels"\nalways = true\n'
        'options = { name = "x", labels = [1, 1e-400] }\n'
    ),
    "labels.mood.map": '[labels.mood]\nfrom = "parent"\nmap = { a = 1e-400 }\n',
}


@pytest.mark.parametrize("table", sorted(MANIFEST_TABLES))
def test_a_manifest_with_an_underflow_is_refused_when_it_loads(tmp_path: Path, table: str) -> None:
    """``scale = 1e-400`` in any of a manifest's tables was a scale of 0, a label a ``0``."""
    text = (MANIFEST_DIR / "folder.toml").read_text().replace('[reader]\nname = "mne"\n', "")
    path = tmp_path / "m.toml"
    path.write_text(text + "\n" + MANIFEST_TABLES[table])
    if table != "reader.options":
        path.write_text(path.read_text() + '[reader]\nname = "mne"\n')
    with pytest.raises(ManifestError) as err:
        load_manifest(path)
    assert str(err.value).startswith(f"{path}: `{table}.")
    assert "is 1e-400, a number that is not zero, yet a 64-bit float reads it as 0" in str(
        err.value
    )
    path.write_text(path.read_text().replace("1e-400", "2.5"))
    assert load_manifest(path).reader == "mne"


def test_a_set_value_or_a_field_text_that_underflows_is_refused() -> None:
    from labram.train.config import TrainConfig, parse_sets

    with pytest.raises(ConfigError, match=r"`--set lr`: expected a number a float holds \(1e-400"):
        parse_sets(["lr=1e-400"])
    assert parse_sets(["lr=5e-324"]) == {"lr": 5e-324}
    with pytest.raises(ValueError, match="Invalid value for `lr`: expected a number; got '1e-400'"):
        parse_field(TrainConfig, "lr", "1e-400")
    assert parse_field(TrainConfig, "lr", "0.0") == 0.0


def test_an_index_label_that_underflows_is_refused_never_read_as_zero(tmp_path: Path) -> None:
    """orjson reads ``1e-400`` as ``0.0``: a label another program wrote so was class 0. Its
    line is one problem of validate, its recording one line when read; ``0.0`` is a label."""
    import numpy as np

    from eegprep import open_store
    from eegprep.base.errors import StoreFormatError
    from eegprep.pipeline.recipe import Recipe
    from eegprep.store.validate import validate
    from eegprep.store.writer import StoreWriter
    from tests.labram.training_stores import put

    url = tmp_path / "s.zarr"
    with StoreWriter(str(url), Recipe(encoding="float32")) as w:
        for i in range(2):
            put(w, f"lab/r{i}", np.zeros((2, 400), np.float32), ["FP1", "FP2"], labels={"y": 1.5})
    segment = next((url / "_eegprep" / "index").glob("*.jsonl"))
    text = segment.read_text()
    assert text.count('"y":1.5') == 2, text
    tiny = "0." + "0" * 250 + "1e-99"  # (1e-350: no exponent of -100 or below)
    segment.write_text(text.replace('"y":1.5', f'"y":{tiny}', 1).replace('"y":1.5', '"y":0.0'))
    _, problems = validate(str(url))
    assert any(
        f"{segment.name} line 2: holds a number that underflows ({tiny[:27]}... is not" in p
        for p in problems
    ), problems
    store = open_store(url)
    with pytest.raises(
        StoreFormatError, match=r"holds a number that underflows \(0\.0+\.\.\. is not zero"
    ):
        store.recording("lab/r0")
    assert store.recording("lab/r1").labels == {"y": 0.0}
