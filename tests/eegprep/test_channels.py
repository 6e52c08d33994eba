from __future__ import annotations

import warnings

import pytest

from eegprep.base.errors import UsageError
from eegprep.pipeline.channels import (
    N_ADDRESSABLE,
    VOCABULARY,
    classify_channel,
    map_channels,
    normalize_label,
    vocabulary_index,
)


def test_vocabulary_is_labrams_order() -> None:
    assert len(VOCABULARY) == 136
    assert len(set(VOCABULARY)) == 136
    assert VOCABULARY[:3] == ("FP1", "FPZ", "FP2")
    assert VOCABULARY[88:92] == ("T3", "T5", "T4", "T6")
    assert VOCABULARY[120] == "FP1-F7" and VOCABULARY[-1] == "P4-O2"
    assert N_ADDRESSABLE == 128 and VOCABULARY[127] == "P8-O2"


@pytest.mark.parametrize(
    ("label", "name"),
    [
        ("EEG FP1-REF", "FP1"),
        ("EEG FP1-LE", "FP1"),
        ("EEG Fp1", "FP1"),
        ("Fp1.", "FP1"),
        ("FP1", "FP1"),
        ("Fp1-Ref", "FP1"),
        ("Fc5.", "FC5"),
        ("Cz..", "CZ"),
        ("T10.", "T10"),
        ("EEG T3-REF", "T3"),
        ("EEG OZ-LE", "OZ"),
        ("Afz", "AFZ"),
        ("Iz..", "IZ"),
        ("EEG A1-REF", "A1"),
        ("FP1-F7", "FP1-F7"),
        ("CFC7", "CFC7"),
        ("EEG Cp5", "CP5"),
    ],
)
def test_spellings_map_to_the_vocabulary(label: str, name: str) -> None:
    m = classify_channel(label)
    assert m.kind == "eeg"
    assert m.name == name
    assert m.index == VOCABULARY.index(name)


@pytest.mark.parametrize(
    "label",
    [
        "EEG EKG1-REF",
        "ECG EKG-REF",
        "EKG EKG",
        "EEG ROC-REF",
        "EEG LOC-REF",
        "PHOTIC-REF",
        "PHOTIC PH",
        "IBI",
        "BURSTS",
        "SUPPR",
        "EMG-REF",
        "EEG RESP1-REF",
        "RESP ABDOMEN-REF",
        "PULSE RATE",
        "SPO2",
        "HR",
        "MK",
        "DC1-DC",
        "EDF Annotations",
        "VEO",
        "HEO",
        "Status",
        "EEG SP1-REF",
        "EEG PG1-REF",
    ],
)
def test_non_eeg_is_recognised(label: str) -> None:
    assert classify_channel(label).kind == "non_eeg"


@pytest.mark.parametrize("label", ["1", "2", "FOO", "EEG XYZ-REF"])
def test_unknown_is_not_guessed(label: str) -> None:
    m = classify_channel(label)
    assert m.kind == "unknown" and m.index is None


def test_old_and_new_names_stay_distinct() -> None:
    assert classify_channel("T3").index != classify_channel("T7").index


def test_map_channels_drops_and_reports() -> None:
    labels = ["EEG FP1-REF", "EEG EKG1-REF", "EEG XYZ-REF", "EEG FP1-LE", "EEG CZ-REF"]
    m = map_channels(labels)
    assert m.names == ("FP1", "CZ")
    assert m.source_indices == (0, 4)
    reasons = dict(m.dropped)
    assert reasons["EEG EKG1-REF"].startswith("non-EEG")
    assert reasons["EEG XYZ-REF"].startswith("unknown")
    assert "duplicate" in reasons["EEG FP1-LE"]
    with pytest.raises(UsageError, match="XYZ-REF"):
        map_channels(labels, on_unknown="raise")
    with pytest.warns(UserWarning, match="XYZ-REF"):
        map_channels(labels, on_unknown="warn")


@pytest.mark.parametrize("n", [20, 26, 100, 128])
@pytest.mark.parametrize("form", ["EEG {n}-REF", "EEG {n}-LE"])
def test_tuh_numbered_inputs_are_non_eeg_without_a_warning(form: str, n: int) -> None:
    """TUH's numbered headbox inputs (docs/corpora.md#the-tuh-family) name no site: dropped as
    non-EEG, like its EKG and PHOTIC channels, not reported file by file as unknown."""
    label = form.format(n=n)
    assert classify_channel(label).detail == "numbered input"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = map_channels(["EEG FP1-REF", label], on_unknown="warn")
    assert m.names == ("FP1",) and dict(m.dropped)[label] == "non-EEG (numbered input)"


def test_map_channels_rename_and_exclude() -> None:
    m = map_channels(["TP9", "Cz", "Pz"], rename={"TP9": ""}, exclude=["PZ"])
    assert m.names == ("CZ",)
    m = map_channels(["E1", "E2"], rename={"E1": "Fp1", "E2": "Fp2"})
    assert m.names == ("FP1", "FP2")


def test_bad_option_and_lookup_messages() -> None:
    with pytest.raises(UsageError, match="allowed 'raise', 'warn', 'ignore'; got 'loud'"):
        map_channels(["Cz"], on_unknown="loud")  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="Did you mean 'FP1'"):
        vocabulary_index("FPP1")


def test_normalize_label() -> None:
    assert normalize_label("  EEG Fp1 - F7 ") == "FP1-F7"
    assert normalize_label("EEG C3-AVG") == "C3"


def _banks(letters: str) -> list[str]:
    return [f"{bank}{n}" for bank in letters for n in range(1, 33)]


@pytest.mark.parametrize("letters", ["AB", "ABCD", "ABCDEFGH"], ids=["64", "128", "256"])
def test_a_biosemi_cap_s_banks_map_to_no_site(letters: str) -> None:
    """BioSemi names a cap's electrodes by bank (A1..A32, B1..B32, ...): A1 and A2 were mapped
    to the ear electrodes, C1..C6 (a 128 cap's bank C) and F1..F10 (a 256 cap's bank F) to the
    10-10 sites of those names, every one a place on the cap it is not. They are dropped, with
    the reason, unless the manifest renames them."""
    labels = [*_banks(letters), "EXG1", "Status"]
    mapping = map_channels(labels)
    assert mapping.names == ()
    assert dict(mapping.dropped)["A1"].startswith("unknown: a BioSemi cap electrode")
    assert mapping.unknown() == [*_banks(letters), "EXG1"]
    renamed = map_channels(labels, rename={"A1": "Fp1", "B16": "Cz"})
    assert renamed.names == ("FP1", "CZ")


@pytest.mark.parametrize(
    ("labels", "names"),
    [
        (["EEG C3-M2", "EEG C4-M1", "E1-M2", "E2-M1", "F3-M2", "O1-M2"], "C3 C4 F3 O1"),  # AASM
        (
            ["Fp1", "Fp2", "C3", "A1", "A2", "F9", "F10", "C1", "E1", "E2"],
            "FP1 FP2 C3 A1 A2 F9 F10 C1",
        ),
    ],
    ids=["sleep montage", "10-20 with ears"],
)
def test_sites_named_like_a_bank_in_a_file_of_sites_are_sites(
    labels: list[str], names: str
) -> None:
    """A file with a few such names (a sleep recording's E1, E2 eye electrodes) is no cap of
    banks: its sites map as ever."""
    assert map_channels(labels).names == tuple(names.split())
