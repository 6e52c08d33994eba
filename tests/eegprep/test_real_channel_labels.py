"""Channel labels as real recording systems write them, mapped onto the vocabulary as an EEG
researcher reads them (docs/corpora.md#channel-names): a channel the file types as no EEG is
no site whatever its label says; the old and new 10-20 names of one site in one file are one
channel stored once, the other reported; padding of blanks and NULs in any order goes; every
spelling of an eye channel is an eye channel."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from eegprep.corpus.manifest import Manifest, load_manifest, parse_manifest
from eegprep.ingestion.source_channels import open_source
from eegprep.pipeline.channels import classify_channel, map_channels

# Types that MNE gives a channel (a FIF file's kinds, an EEGLAB file's chanlocs.type) and that
# are no EEG: a label naming a site does not make such a channel one.
NON_EEG_TYPES = ["eog", "ecg", "emg", "stim", "resp", "bio", "seeg"]


@pytest.mark.parametrize("kind", NON_EEG_TYPES)
@pytest.mark.parametrize("label", ["Fp1", "EEG Fp2-REF", "Cz"])
def test_a_channel_typed_non_eeg_is_no_site(label: str, kind: str) -> None:
    m = map_channels(["Pz", label], kinds=["eeg", kind])
    assert m.names == ("PZ",)
    assert dict(m.dropped)[label] == f"non-EEG (typed {kind} in the file)"


@pytest.mark.parametrize("kind", ["", "eeg", "misc"])
def test_untyped_eeg_and_misc_channels_go_by_their_label(kind: str) -> None:
    """A format that types no channel (EDF, CSV), an EEG type, and MNE's ``misc`` (a channel
    whose unit it does not know, as BrainVision's): the label decides."""
    m = map_channels(["Pz", "Fp1"], kinds=["eeg", kind])
    assert m.names == ("PZ", "FP1")


def test_a_typed_channel_the_manifest_renames_is_mapped() -> None:
    m = map_channels(["Pz", "EOG1"], kinds=["eeg", "eog"], rename={"EOG1": "Fp1"})
    assert m.names == ("PZ", "FP1")


def test_a_typed_channel_is_no_duplicate_of_the_eeg_one() -> None:
    """An EOG channel labelled ``Fp1`` before the EEG ``Fp1`` no longer takes its place."""
    m = map_channels(["Fp1", "FP1", "Cz"], kinds=["eog", "eeg", "eeg"])
    assert m.names == ("FP1", "CZ") and m.source_indices == (1, 2)


def _manifest(reader: str) -> Manifest:
    raw = dict(load_manifest("folder").raw)
    raw["reader"] = {"name": reader, "options": {}}
    return parse_manifest(raw, "my.toml")


def test_a_fif_file_s_typed_channels_are_left_out_and_reported(tmp_path: Path) -> None:
    mne = pytest.importorskip("mne")
    labels = ["Fp1", "Fp2", "Cz", "F7", "Pz"]
    types = ["eog", "eog", "eeg", "emg", "stim"]
    info = mne.create_info(labels, 256.0, types)
    raw = mne.io.RawArray(np.random.default_rng(0).normal(size=(5, 2560)) * 1e-5, info)
    path = tmp_path / "typed_raw.fif"
    raw.save(path, verbose="error")
    _, mapping, warnings = open_source(str(path), _manifest("mne"), None)
    assert mapping.names == ("CZ",)
    said = [w for w in warnings if "as no EEG, though" in w]
    assert len(said) == 1
    for label, kind in zip(labels, types, strict=True):
        assert (f"{label} ({kind})" in said[0]) == (kind != "eeg")


OLD_NEW = [("T3", "T7"), ("T4", "T8"), ("T5", "P7"), ("T6", "P8")]


@pytest.mark.parametrize(("old", "new"), OLD_NEW)
@pytest.mark.parametrize("old_first", [True, False])
@pytest.mark.parametrize("form", ["{}", "EEG {}-REF"])
def test_old_and_new_names_of_one_site_are_one_channel(
    old: str, new: str, old_first: bool, form: str
) -> None:
    first, second = (old, new) if old_first else (new, old)
    labels = ["Cz", form.format(first), form.format(second)]
    m = map_channels(labels)
    assert m.names == ("CZ", first) and m.source_indices == (0, 1)
    why = dict(m.dropped)[labels[2]]
    assert why.startswith(f"duplicate of {labels[1]!r}")
    assert old in why and new in why


def test_old_and_new_names_of_one_site_are_reported_in_one_line(tmp_path: Path) -> None:
    from eegprep.testing.edf_writer import write_edf

    labels = ["EEG T3-REF", "EEG T7-REF", "EEG T5-REF", "EEG P7-REF", "EEG CZ-REF"]
    path = tmp_path / "both.edf"
    values = [np.sin(np.arange(512) / (7.0 + i)) * 20 for i in range(len(labels))]
    write_edf(path, values, labels=labels, sfreqs=256.0, physical_min=-500.0, physical_max=500.0)
    _, mapping, warnings = open_source(str(path), _manifest("edf"), None)
    assert mapping.names == ("T3", "T5", "CZ")
    said = [w for w in warnings if w.startswith("duplicate channels")]
    assert len(said) == 1 and "EEG T7-REF" in said[0] and "EEG P7-REF" in said[0]


@pytest.mark.parametrize(
    "label",
    ["Cz\x00 \x00", "\x00 \x00Cz", "Cz \x00\t\x00", "EEG Cz-REF\x00 \x00", "Cz.\x00 \x00"],
)
def test_blanks_and_nuls_padding_a_label_in_any_order_go(label: str) -> None:
    m = classify_channel(label)
    assert (m.kind, m.name) == ("eeg", "CZ")


@pytest.mark.parametrize("label", ["LEOG", "REOG", "HEOG_L", "EEG LEOG-REF"])
def test_every_spelling_of_an_eye_channel_is_an_eye_channel(label: str) -> None:
    m = classify_channel(label)
    assert (m.kind, m.detail) == ("non_eeg", "eog")


def test_an_eeglab_file_s_typed_channels_are_left_out(tmp_path: Path) -> None:
    """EEGLAB's ``chanlocs.type`` (``EOG``, ``ECG``) as MNE reads it: an eye electrode placed
    at Fp1 and labelled so is the eye channel the file says."""
    from tests.eegprep.test_reader_set_semantics import _write_set

    locs = np.zeros((1, 3), dtype=[("labels", object), ("type", object)])
    for i, (label, kind) in enumerate([("Fp1", "EOG"), ("Cz", "EEG"), ("O1", "ECG")]):
        locs[0, i] = (label, kind)
    data = np.random.default_rng(1).normal(0, 25, (3, 200))
    path = _write_set(tmp_path, data, struct=True, chanlocs=locs)
    _, mapping, warnings = open_source(path, _manifest("mne"), None)
    assert mapping.names == ("CZ",)
    said = [w for w in warnings if "as no EEG, though" in w]
    assert len(said) == 1 and "Fp1 (eog)" in said[0] and "O1 (ecg)" in said[0]


@pytest.mark.parametrize("target", ["Fp1x", "Cz'", "F p1", "T3-T5"])
def test_a_rename_to_no_site_is_refused_with_the_closest(target: str) -> None:
    """A typo'd target made its channel unknown in every file (dropped unsaid under
    ``on_unknown = "ignore"``): the manifest is refused in one line naming it."""
    from eegprep.base.errors import ManifestError

    raw = dict(load_manifest("folder").raw)
    raw["channels"] = {"rename": {"E1": target}}
    with pytest.raises(ManifestError) as caught:
        parse_manifest(raw, "my.toml")
    line = str(caught.value)
    assert "\n" not in line and "my.toml" in line and "E1" in line and target in line
    assert "did you mean 'FP1'" in line or not target.upper().startswith("F")


@pytest.mark.parametrize(
    ("label", "name"),
    [
        ("\ufeffFp1", "FP1"),  # a byte-order mark left at a header's start
        ("Fp1\u200b", "FP1"),  # a zero-width space from a copy
        ("\uff26\uff50\uff11", "FP1"),  # full-width letters and digits (a Japanese IME)
        ("Fp1\u2013Ref", "FP1"),  # an en dash before the reference
        ("Fp1 \u2212 REF", "FP1"),  # a minus sign
        ("FP1\u2010F7", "FP1-F7"),  # a Unicode hyphen in a bipolar pair
    ],
)
def test_unicode_spellings_of_a_site_are_the_site(label: str, name: str) -> None:
    m = classify_channel(label)
    assert (m.kind, m.name) == ("eeg", name)
