"""Promise: a value strict JSON cannot hold (NaN, infinities, huge integers) never reaches the
store; it is refused where it enters, in one line naming the file and the field."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import numpy as np
import orjson
import pytest

from eegprep import open_store
from eegprep.base.errors import ManifestError, SourceError, UsageError
from eegprep.base.strict_json import check_values, find_unsafe
from eegprep.ingestion.driver import IngestConfig, ingest
from eegprep.pipeline.recipe import Recipe
from eegprep.store.validate import validate
from eegprep.testing.fixtures.tuh import write_tusz
from eegprep.tools.stats import store_stats
from tests.safety.corpus import FOLDER, write_edf

SERIAL = IngestConfig(workers=0, progress=False)


@pytest.mark.parametrize("token", ["nan", "NaN", "inf", "-inf", "Infinity", "1e309", "-1e400"])
def test_a_non_finite_sidecar_time_is_refused_and_the_store_stays_readable(
    tmp_path: Path, token: str
) -> None:
    src = write_tusz(tmp_path)
    bad = next(src.rglob("aaaaaaae_s001_t000.csv_bi"))
    bad.write_text(bad.read_text().replace("TERM,1.0000,6.0000", f"TERM,{token},6.0000"))
    out = tmp_path / "s.zarr"
    rep = ingest("tusz", src=src, out=out, config=SERIAL)
    assert rep.n_ingested == 2 and len(rep.failed) == 1
    line = rep.failed[0]
    assert "\n" not in line and "aaaaaaae_s001_t000.csv_bi" in line and "line 7" in line
    store = open_store(out)  # the index, the reports and every record stay strict JSON
    assert len(store) == 2
    assert validate(str(out)) == (2, [])
    assert store_stats(store)["total"]["recordings"] == 2
    for doc in out.rglob("*.json*"):  # strict parse: NaN/Infinity tokens raise
        for line in doc.read_text().splitlines() if doc.suffix == ".jsonl" else [doc.read_text()]:
            orjson.loads(line)
    # fixed on disk, the next run ingests it
    bad.write_text(bad.read_text().replace(f"TERM,{token},6.0000", "TERM,1.0000,6.0000"))
    rep = ingest("tusz", src=src, out=out, config=SERIAL)
    assert (rep.n_ingested, rep.failed) == (1, [])


@pytest.mark.parametrize(
    ("line", "shown"),
    [
        ("mains = nan", "key mains must be 50, 60 or 0 (unknown), got nan"),
        ("mains = inf", "key mains must be 50, 60 or 0 (unknown), got inf"),
        ("mains = -inf", "key mains must be 50, 60 or 0 (unknown), got -inf"),
        ("mains = 1e309", "key mains must be 50, 60 or 0 (unknown), got inf"),
        ("mains = 55", "key mains must be 50, 60 or 0 (unknown), got 55"),
        ("mains = 60\nh_freq = inf", "key h_freq must be a positive number of Hz, got inf"),
        ("mains = 60\nhours = nan", "key hours must be a number of hours >= 0, got nan"),
        ("mains = 60\nhours = -inf", "key hours must be a number of hours >= 0, got -inf"),
    ],
)
def test_a_non_finite_manifest_number_is_refused_once_naming_the_manifest(
    tmp_path: Path, line: str, shown: str
) -> None:
    """A manifest's ``mains = nan`` (TOML has ``nan`` and ``inf``) was refused by every file
    it reached, one ``skipped:`` line each naming that file ('fix the value in the file'), and
    ``mains = 55`` notched every recording at 55 Hz; ``h_freq = inf`` and ``hours = nan`` were
    taken as they were. Each is one line naming the manifest, before any file is read."""
    src = tmp_path / "src"
    write_edf(src, "a.edf")
    manifest = tmp_path / "m.toml"
    text = (Path(__file__).parents[2] / "manifests" / "folder.toml").read_text()
    manifest.write_text(text.replace("mains = 0 ", line + " ", 1))
    with pytest.raises(ManifestError, match=re.escape(f"m.toml: {shown}")):
        ingest(str(manifest), src=src, out=tmp_path / "s.zarr", config=FOLDER)
    assert not (tmp_path / "s.zarr").exists()  # refused when loaded, before any file


@pytest.mark.parametrize("mains", [float("nan"), float("inf"), 55.0, 1e309, True])
def test_a_mains_override_that_is_no_mains_is_refused(tmp_path: Path, mains: float) -> None:
    """``IngestConfig(mains=inf)`` (the Python form of ``--mains``) passed its check (``> 0``)
    and reached every record as ``mains_hz``, each file refused in turn; 55 notched at 55 Hz."""
    src = tmp_path / "src"
    write_edf(src, "a.edf")
    with pytest.raises(UsageError, match="Invalid value for `mains`: expected 50 or 60"):
        config = dataclasses.replace(FOLDER, mains=mains)  # (refused as the config is built)
        ingest("folder", src=src, out=tmp_path / "s.zarr", config=config)
    assert not (tmp_path / "s.zarr").exists()


@pytest.mark.parametrize(
    ("field", "value", "shown"),
    [
        (
            "block_seconds",
            float("nan"),
            "`block_seconds`: expected a number in [10, 10,000,000]; got nan",
        ),
        (
            "block_seconds",
            float("inf"),
            "`block_seconds`: expected a number in [10, 10,000,000]; got inf",
        ),
        ("sfreq", float("inf"), "`sfreq`: expected a number in (0, 100,000]; got inf"),
        ("sfreq", 1e309, "`sfreq`: expected a number in (0, 100,000]; got inf"),
    ],
)
def test_a_recipe_value_the_store_cannot_hold_is_refused_before_the_store_is_made(
    tmp_path: Path, field: str, value: float, shown: str
) -> None:
    """``Recipe(block_seconds=nan)`` (``nan < 10`` is false) and ``Recipe(sfreq=inf)`` (the
    band check passes) were taken: the ingest then made the store's folders and stopped on a
    bare ``ValueError: Out of range float values are not JSON compliant`` writing its root,
    leaving the beginning of a store. Now one line naming the field, and no store."""
    src = tmp_path / "src"
    write_edf(src, "a.edf")
    with pytest.raises(UsageError, match=re.escape(shown)):
        recipe = Recipe(**{field: value})  # type: ignore[arg-type]
        config = dataclasses.replace(FOLDER, recipe=recipe)
        ingest("folder", src=src, out=tmp_path / "s.zarr", config=config)
    assert not (tmp_path / "s.zarr").exists()


@pytest.mark.parametrize(
    "bad", [float("nan"), float("inf"), 10**30, {"nested": [1.0, float("-inf")]}]
)
def test_any_parser_s_unsafe_value_is_caught_before_the_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bad: object
) -> None:
    """The net under every sidecar parser: one that lets a NaN through is still caught."""
    from eegprep.corpus.sidecars import SIDECAR_PARSERS, SidecarResult, load_parsers

    load_parsers()
    monkeypatch.setitem(
        SIDECAR_PARSERS,
        "tuh_csv",
        lambda files, header, options: SidecarResult(
            labels={"score": bad}, events=[[1.0, 0.5, "x", ""]]
        ),
    )
    src = write_tusz(tmp_path)
    rep = ingest("tusz", src=src, out=tmp_path / "s.zarr", config=SERIAL)
    assert rep.n_ingested == 0 and len(rep.failed) == 3
    for line in rep.failed:
        assert "sidecar (" in line and ".csv_bi" in line and "labels.score" in line


def test_a_non_finite_manifest_label_is_refused_naming_the_field(tmp_path: Path) -> None:
    src = tmp_path / "src"
    write_edf(src, "good/a.edf")
    manifest = tmp_path / "m.toml"
    text = (Path(__file__).parents[2] / "manifests" / "folder.toml").read_text()
    manifest.write_text(
        text.replace('name = "folder"', 'name = "labelled"', 1)
        + '\n[labels.score]\nfrom = "parent"\nmap = { good = nan }\n'
    )
    with pytest.raises(ManifestError, match=r"m\.toml: labels\.score\.map\.good is nan"):
        ingest(str(manifest), src=src, out=tmp_path / "s.zarr", config=FOLDER)
    assert not (tmp_path / "s.zarr").exists()  # refused when loaded, before any file


@pytest.mark.parametrize(
    ("value", "field"),
    [
        ({"a": [1.0, float("nan")]}, "a[1]"),
        ({"a": {"b": float("inf")}}, "a.b"),
        ({"n": 2**64}, "n"),
        ({"n": -(2**63) - 1}, "n"),
        ({"x": np.float32("nan")}, "x"),
        ({"x": object()}, "x"),
        ({1: "int key"}, "[1]"),
    ],
)
def test_find_unsafe_names_the_field(value: object, field: str) -> None:
    hit = find_unsafe(value)
    assert hit is not None and hit[0] == field
    with pytest.raises(SourceError, match=r"f\.tsv: .*field " + field.replace("[", r"\[")):
        check_values(value, "f.tsv", "sidecar")


def test_strict_values_pass() -> None:
    ok = {"a": [1, 2.5, "x", None, True, {"b": -(2**63)}], "c": np.float64(3.0)}
    assert find_unsafe(ok) is None
    json.dumps(ok, allow_nan=False, default=float)


def test_results_write_undefined_metrics_as_null() -> None:
    """labram's metrics, summaries and configs: an undefined value is ``null``, never NaN."""
    from eegprep.base.strict_json import dumps

    text = dumps({"auroc": float("nan"), "loss": [1.0, float("inf")], "n": np.float32(2.5)})
    assert orjson.loads(text) == {"auroc": None, "loss": [1.0, None], "n": 2.5}


def test_labram_writes_json_only_through_the_strict_writer() -> None:
    import ast

    root = Path(__file__).parents[2]
    offenders = []
    for path in [*sorted((root / "labram").rglob("*.py")), root / "cli.py"]:
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("dump", "dumps")
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "json"
                and not any(k.arg == "allow_nan" for k in node.keywords)
            ):
                offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == []


@pytest.mark.parametrize(
    "text",
    ["NaN", '{"eps": NaN}', "[Infinity]", "-Infinity", "1e400", "-1e999", "99999999999999999999"],
)
def test_strict_loads_refuses_what_only_python_reads(text: str) -> None:
    """Every JSON file eegprep and labram read (a store's metadata, a run's config.json, a
    checkpoint's safetensors metadata) goes through strict_json.loads: a value other JSON
    readers refuse is a JSONDecodeError there too, not a NaN passed on."""
    import json

    from eegprep.base import strict_json

    with pytest.raises(json.JSONDecodeError) as err:
        strict_json.loads(text)
    assert "line 1" not in str(err.value)  # no made-up position
    assert strict_json.loads('{"a": [1.5, -2, 1e300, 9223372036854775807]}') == {
        "a": [1.5, -2, 1e300, 9223372036854775807]
    }


@pytest.mark.parametrize(
    "text", ['{"a": 1, "a": 2}', '{"x": [{"b": 1, "c": 2, "b": 3}]}', '{"a": {"a": 1}, "a": 2}']
)
def test_unique_keys_refuses_an_object_naming_a_key_twice(text: str) -> None:
    """Readers differ on which of two entries of one name counts (Python's json and Rust's
    serde keep the last, others the first or refuse): a file read for what it claims names
    each key once."""
    from eegprep.base import strict_json

    assert strict_json.loads(text) is not None  # (what Python alone reads: the last wins)
    with pytest.raises(strict_json.DuplicateKeyError, match="appears twice in one object"):
        strict_json.loads(text, unique_keys=True)
    nested = '{"a": {"a": 1}, "b": [{"a": 2}, {"a": 3}]}'  # one name in several objects: fine
    assert strict_json.loads(nested, unique_keys=True) == json.loads(nested)
