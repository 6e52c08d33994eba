"""Leads named against one common reference (``Fp1-POz``, ``C3-Cz``): a referential montage
written as pairs maps to its first sites, a bipolar montage stays as it was, through every
reader (docs/corpora.md, "Channel names")."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from eegprep import open_store
from eegprep.corpus.manifest import load_manifest
from eegprep.pipeline.channels import (
    MIN_REFERENCED_LEADS,
    REFERENCE_SHARE,
    classify_channel,
    map_channels,
    normalize_label,
)

SITES = ["Fp1", "Fp2", "F3", "F4", "C3", "C4", "P3", "P4", "O1", "O2", "F7", "F8", "T7", "T8"]
TCP = (
    "FP1-F7 F7-T3 T3-T5 T5-O1 FP2-F8 F8-T4 T4-T6 T6-O2 A1-T3 T3-C3 C3-CZ CZ-C4 C4-T4 T4-A2 "
    "FP1-F3 F3-C3 C3-P3 P3-O1 FP2-F4 F4-C4 C4-P4 P4-O2"
).split()
CHB_MIT = (
    "FP1-F7 F7-T7 T7-P7 P7-O1 FP1-F3 F3-C3 C3-P3 P3-O1 FP2-F4 F4-C4 C4-P4 P4-O2 FP2-F8 F8-T8 "
    "T8-P8 P8-O2 FZ-CZ CZ-PZ P7-T7 T7-FT9 FT9-FT10 FT10-T8 T8-P8"
).split()


def _one_by_one(labels: list[str]) -> tuple[str, ...]:
    """The names each label maps to alone (no file-level rule), duplicates after the first
    left out: what a file's mapping was before the common reference was read."""
    names: list[str] = []
    for label in labels:
        name = classify_channel(label).name
        if name is not None and name not in names:
            names.append(name)
    return tuple(names)


@pytest.mark.parametrize("ref", ["POz", "Cz", "FCz", "Pz"])
def test_leads_to_one_site_map_to_their_first_site(ref: str) -> None:
    labels = [f"{site}-{ref}" for site in SITES] + ["ECG", ref]
    m = map_channels(labels)
    assert m.names == (*(normalize_label(s) for s in SITES), normalize_label(ref))
    assert m.reference == normalize_label(ref) and m.referenced == tuple(labels[: len(SITES)])
    assert _one_by_one(labels) == (normalize_label(ref),)  # each lead was unknown alone


@pytest.mark.parametrize("montage", [TCP, CHB_MIT], ids=["tuh-tcp", "chb-mit"])
def test_a_double_banana_maps_as_before(montage: list[str]) -> None:
    for labels in (montage, [f"EEG {x}-REF" for x in montage], montage[:6]):
        m = map_channels(labels)
        assert m.names == _one_by_one(labels) and m.reference == "" and m.referenced == ()


def test_a_common_reference_needs_nearly_every_pair_and_a_few_leads() -> None:
    n = MIN_REFERENCED_LEADS
    few = [f"{site}-Cz" for site in SITES[: n - 1]]
    assert map_channels(few).reference == ""
    to_cz = [f"{site}-Cz" for site in SITES]
    n_other = int(len(to_cz) / REFERENCE_SHARE) - len(to_cz)  # the most others it admits
    mixed = to_cz + TCP[:n_other]
    m = map_channels(mixed)
    assert m.reference == "CZ" and m.referenced == tuple(to_cz)
    assert m.names[: len(SITES)] == tuple(normalize_label(s) for s in SITES)
    assert set(m.names[len(SITES) :]) <= set(_one_by_one(TCP[:n_other]))  # as before
    assert map_channels(to_cz + TCP[: n_other + 2]).reference == ""


def test_the_manifest_s_rename_comes_first() -> None:
    labels = [f"{site}-POz" for site in SITES]
    m = map_channels(labels, rename={"Fp1-POz": "", "Fp2-POz": "AF8"})
    assert m.names[0] == "AF8" and m.names[1:] == tuple(s.upper() for s in SITES[2:])
    assert m.referenced == tuple(labels[2:])


def _edf(path: Path, labels: list[str]) -> None:
    from eegprep.testing.edf_writer import write_edf

    signals = [np.random.default_rng(i).normal(0, 20, 256 * 20) for i in range(len(labels))]
    write_edf(path, signals, labels=labels, sfreqs=256, edf_plus=True)


def _mat(path: Path, labels: list[str]) -> None:
    import scipy.io

    data = np.random.default_rng(1).normal(0, 20, (len(labels), 256 * 20))
    labels_cell = np.array(labels, dtype=object)
    scipy.io.savemat(path, {"data": data, "label": labels_cell, "fs": 256.0})


def _mat_manifest(tmp: Path) -> Path:
    text = Path(load_manifest("folder").file).read_text()
    text = text.replace('name = "folder"', 'name = "mats"').replace(
        'name = "mne"',
        'name = "mat"\noptions = { data = "data", sfreq_variable = "fs", '
        'channels_variable = "label" }',
    )
    text = re.sub(r"include = \[.*\]", 'include = ["*.mat"]', text)
    text = re.sub(r"pattern = '''.*'''", r"pattern = '''^(?P<path>.+)\\.mat$'''", text)
    path = tmp / "mats.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("suffix", [".edf", ".mat"])
def test_the_cli_ingest_stores_the_leads_and_says_the_reference(
    tmp_path: Path, suffix: str
) -> None:
    """Every lead of such a file was unknown: the file was refused as having no EEG channel."""
    from cli import eegprep_cli

    labels = [f"EEG {site}-POz" for site in SITES] + ["ECG"]
    src = tmp_path / "src"
    src.mkdir()
    (_edf if suffix == ".edf" else _mat)(src / f"rec{suffix}", labels)
    args = ["ingest", "folder", "--src", str(src), "--out", str(tmp_path / "s.zarr")]
    args += ["--mains", "50"]
    if suffix == ".mat":
        args += ["--manifest", str(_mat_manifest(tmp_path))]
    res = CliRunner().invoke(eegprep_cli, args)
    assert res.exit_code == 0, res.output
    [rec] = open_store(tmp_path / "s.zarr").recordings
    assert rec.channels == tuple(normalize_label(s) for s in SITES)
    said = [line for line in res.output.splitlines() if "common reference" in line]
    assert len(said) == 1 and "POZ" in said[0] and f"{len(SITES)} channels" in said[0]
