"""A file a header names (EEGLAB ``EEG.data``, BrainVision ``DataFile=`` / ``MarkerFile=``) in
another letter case than the file beside it is found as EEGLAB and BrainVision find it on a
case-insensitive system, in the header's folder alone: one match is read, several are one line
naming them, and no name in a ``.set`` makes MNE read samples outside the set's folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import scipy.io

from eegprep.base.errors import SourceError
from eegprep.readers.companions import data_files
from eegprep.readers.mne_formats import MneReader, clear_cache
from tests.eegprep.test_foreign_files import _brainvision, _rename_header_entries
from tests.safety.test_hostile_set import _fields

SET_CASES = [  # (the .set's name, EEG.data, the samples file on disk)
    ("rec.set", "Sub01.fdt", "sub01.fdt"),
    ("rec.set", "rec.FDT", "rec.fdt"),
    ("rec.set", "rec.FDT", "rec.FDT"),
    ("rec.set", "rec.fdt", "rec.FDT"),
    ("REC.SET", "rec.fdt", "REC.FDT"),
    ("rec.SET", "Rec.Fdt", "other.fdt"),  # renamed: the set's own stem, in no case of it
    ("rec.set", "C:\\data\\Sub01.FDT", "sub01.fdt"),
    ("rec.set", "rec.fdt  ", "rec.fdt"),  # a char matrix's padding: MNE refused '.fdt  '
    ("rec.set", " Sub01.FDT", "sub01.fdt"),
]


def _set(folder: Path, name: str, named: str, *, struct: bool, compressed: bool) -> np.ndarray:
    fields = _fields()
    data = fields["data"]
    fields["data"] = named
    scipy.io.savemat(folder / name, {"EEG": fields} if struct else fields,
                     do_compression=compressed)  # fmt: skip
    clear_cache()
    return data


@pytest.mark.parametrize("layout", ["variables", "EEG-struct", "compressed-struct"])
@pytest.mark.parametrize(("name", "named", "on_disk"), SET_CASES)
def test_a_set_naming_its_fdt_in_another_case_is_read(
    tmp_path: Path, layout: str, name: str, named: str, on_disk: str
) -> None:
    if on_disk == "other.fdt":
        on_disk = "REC.fdt"
    data = _set(tmp_path, name, named, struct=layout != "variables",
                compressed=layout == "compressed-struct")  # fmt: skip
    data.astype("<f4").T.tofile(tmp_path / on_disk)
    path = str(tmp_path / name)
    header = MneReader.read_header(path)
    got = MneReader.read_segment(header, range(len(header.signals)), 0, 500)
    np.testing.assert_allclose(got, data, rtol=1e-5)
    assert data_files(path) == [str(tmp_path / on_disk)]  # fingerprinted: the file read


def test_several_fdt_files_matching_in_case_alone_are_one_line(tmp_path: Path) -> None:
    data = _set(tmp_path, "rec.set", "Sub01.fdt", struct=False, compressed=False)
    for name in ("sub01.fdt", "SUB01.FDT"):
        data.astype("<f4").T.tofile(tmp_path / name)
    with pytest.raises(SourceError) as caught:
        MneReader.read_header(str(tmp_path / "rec.set"))
    line = str(caught.value)
    assert "EEG.data names 'Sub01.fdt'" in line and "'SUB01.FDT', 'sub01.fdt'" in line
    assert "\n" not in line


@pytest.mark.parametrize("named", ["../x.fdt", "{parent}/x.fdt", "sub/../../x.FDT"])
def test_a_set_never_reads_samples_outside_its_folder(tmp_path: Path, named: str) -> None:
    """MNE joined EEG.data to the set's folder: ``../x.fdt`` read a file beside the folder
    while the fingerprint covered the set's own ``rec.fdt``."""
    folder = tmp_path / "rec"
    folder.mkdir()
    data = _set(folder, "rec.set", named.format(parent=tmp_path), struct=False, compressed=False)
    data.astype("<f4").T.tofile(folder / "rec.fdt")
    (data * 0 + 7).astype("<f4").T.tofile(tmp_path / "x.fdt")  # a decoy outside the folder
    header = MneReader.read_header(str(folder / "rec.set"))
    np.testing.assert_allclose(MneReader.read_segment(header, range(13), 0, 500), data, rtol=1e-5)
    assert data_files(str(folder / "rec.set")) == [str(folder / "rec.fdt")]


@pytest.mark.parametrize("suffix", [".vhdr", ".ahdr"])
@pytest.mark.parametrize("key", ["DataFile=", "MarkerFile="])
def test_several_brainvision_files_matching_in_case_alone_are_one_line(
    tmp_path: Path, suffix: str, key: str
) -> None:
    vhdr, _ = _brainvision(tmp_path, "rec")
    if suffix == ".ahdr":
        vhdr = vhdr.rename(vhdr.with_suffix(".ahdr"))
    _rename_header_entries(vhdr, "REC.EEG", "REC.VMRK")
    other = "rec.eeg" if key == "DataFile=" else "rec.vmrk"
    shutil.copy(tmp_path / other, tmp_path / other.capitalize())
    clear_cache()
    with pytest.raises(SourceError) as caught:
        MneReader.read_header(str(vhdr))
    line = str(caught.value)
    named = "REC.EEG" if key == "DataFile=" else "REC.VMRK"
    assert f"{key} names {named!r}" in line
    assert f"{other.capitalize()!r}, {other!r}" in line and "\n" not in line


def test_stray_fdt_files_beside_a_set_holding_its_samples_are_no_question(tmp_path: Path) -> None:
    from tests.safety.test_hostile_set import _write

    fields = _fields()
    path = _write(tmp_path / "rec.set", fields, struct=False)
    for name in ("Rec.fdt", "REC.FDT"):
        (tmp_path / name).write_bytes(b"\0" * 64)
    header = MneReader.read_header(str(path))
    np.testing.assert_allclose(
        MneReader.read_segment(header, range(13), 0, 500), fields["data"], rtol=1e-6
    )


def test_files_named_in_another_unicode_form_are_found(tmp_path: Path) -> None:
    """macOS writes 'é' decomposed (e + U+0301): a header naming 'données' in the composed form
    (Windows, Linux) did not find its files copied from a Mac."""
    import unicodedata

    vhdr, truth = _brainvision(tmp_path, "rec")
    decomposed = unicodedata.normalize("NFD", "données")
    for ext in (".eeg", ".vmrk"):
        (tmp_path / f"rec{ext}").rename(tmp_path / f"{decomposed}{ext}")
    _rename_header_entries(vhdr, "données.eeg", "données.vmrk")
    header = MneReader.read_header(str(vhdr))
    np.testing.assert_allclose(MneReader.read_segment(header, range(5), 0, 500), truth * 1e6,
                               atol=1e-3)  # fmt: skip
    assert len(header.annotations) == 2
    data = _set(tmp_path, "s.set", "Données.fdt", struct=False, compressed=False)
    data.astype("<f4").T.tofile(tmp_path / f"{decomposed}.fdt")
    header = MneReader.read_header(str(tmp_path / "s.set"))
    np.testing.assert_allclose(MneReader.read_segment(header, range(13), 0, 500), data, rtol=1e-5)


def test_a_mat73_set_naming_an_fdt_in_capitals_is_given_to_mne_renamed(tmp_path: Path) -> None:
    """MNE reads a v7.3 .set only with pymatreader; the copy it is given names the .fdt found."""
    import h5py

    from eegprep.readers.set_files import openable_set
    from tests.eegprep.test_reader_matlab import write_mat73

    write_mat73(tmp_path / "rec.set", {"srate": 250.0, "nbchan": 2.0, "data": "REC.FDT"})
    (tmp_path / "rec.fdt").write_bytes(b"\0" * 16)
    opened = Path(openable_set(str(tmp_path / "rec.set")))
    assert opened != tmp_path / "rec.set" and opened.name == "rec.set"
    with h5py.File(opened, "r") as f:
        assert "".join(map(chr, f["data"][()].ravel())) == "REC.fdt"
    assert (opened.parent / "REC.fdt").resolve() == (tmp_path / "rec.fdt").resolve()
    with h5py.File(tmp_path / "rec.set", "r") as f:  # the source is untouched
        assert "".join(map(chr, f["data"][()].ravel())) == "REC.FDT"
