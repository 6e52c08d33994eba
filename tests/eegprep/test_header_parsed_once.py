"""A recording's header file is read and parsed once per read of its header
(:mod:`eegprep.readers.read_once`): a BrainVision ``.vhdr`` and an EDF read through MNE (given
MNE options), whatever number of checks need it; a file changed between two reads is parsed
again, and nothing is kept once a read is done."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from eegprep.readers import companions, edf, edf_header, read_once, vhdr
from eegprep.readers.mne_formats import MneReader, clear_cache
from eegprep.testing.edf_writer import write_edf

VHDR_LINES = [
    "Brain Vision Data Exchange Header File Version 1.0",
    "[Common Infos]",
    "DataFile=rec.eeg",
    "MarkerFile=rec.vmrk",
    "DataFormat=BINARY",
    "DataOrientation=MULTIPLEXED",
    "NumberOfChannels=3",
    "SamplingInterval=2000",
    "[Binary Infos]",
    "BinaryFormat=INT_16",
    "[Channel Infos]",
    "Ch1=Fp1,,0.1,µV",
    "Ch2=Cz,,0.1,µV",
    "Ch3=O1,,0.1,µV",
]
VMRK_LINES = [
    "Brain Vision Data Exchange Marker File, Version 1.0",
    "[Common Infos]",
    "DataFile=rec.eeg",
    "[Marker Infos]",
    "Mk1=New Segment,,1,1,0,20240102030405000000",
    "Mk2=Stimulus,S  1,20,1,0",
]


def _brainvision(folder: Path) -> str:
    """``rec.vhdr`` (3 channels of 40 samples at 500 Hz), ``rec.vmrk`` and ``rec.eeg``."""
    (folder / "rec.vhdr").write_text("\r\n".join(VHDR_LINES) + "\r\n", encoding="utf-8")
    (folder / "rec.vmrk").write_text("\r\n".join(VMRK_LINES) + "\r\n", encoding="utf-8")
    (folder / "rec.eeg").write_bytes(np.arange(120, dtype="<i2").tobytes())
    clear_cache()
    return str(folder / "rec.vhdr")


def _counted(
    monkeypatch: pytest.MonkeyPatch, module: Any, name: str, counts: Counter[str], path: str
) -> None:
    """``module.name`` counting its calls on ``path`` (its first argument) in ``counts[name]``."""
    real = getattr(module, name)

    def counting(*args: Any, **kwargs: Any) -> Any:
        counts[name] += args[0] == path
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, counting)


def _opens_of(monkeypatch: pytest.MonkeyPatch, path: str, modules: list[Any]) -> Counter[str]:
    """The opens of ``path`` through each module's ``open_regular``, by module name."""
    counts: Counter[str] = Counter()
    for module in modules:
        real = module.open_regular

        def counting(
            name: str, *args: Any, _real: Any = real, _mod: Any = module, **kw: Any
        ) -> Any:
            if os.path.abspath(name) == os.path.abspath(path):
                counts[_mod.__name__] += 1
            return _real(name, *args, **kw)

        monkeypatch.setattr(module, "open_regular", counting)
    return counts


def test_a_brainvision_header_is_read_and_parsed_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _brainvision(tmp_path)
    opens = _opens_of(monkeypatch, path, [companions, vhdr])
    parses: Counter[str] = Counter()
    _counted(monkeypatch, vhdr, "_config", parses, path)  # (not MNE's copy: another file)
    header = MneReader.read_header(path, scale=1.0)  # (an MNE option: MNE reads it)
    assert [s.label for s in header.signals] == ["Fp1", "Cz", "O1"]
    assert sum(opens.values()) == 1, opens
    assert parses["_config"] == 1


def test_an_edf_read_through_mne_has_its_header_parsed_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = str(tmp_path / "rec.edf")
    write_edf(path, [np.zeros(500), np.ones(500)], labels=["Fp1", "Cz"], sfreqs=250.0)
    clear_cache()
    counts: Counter[str] = Counter()
    _counted(monkeypatch, edf, "counted_records", counts, path)  # (once per header read)
    _counted(monkeypatch, edf_header, "_signal_fields", counts, path)  # (once per parse)
    header = MneReader.read_header(path, eog=["Cz"])  # MNE options: MNE reads it
    assert header.reader == "mne"
    assert counts == {"counted_records": 1, "_signal_fields": 1}


def test_a_file_changed_between_reads_is_parsed_again(tmp_path: Path) -> None:
    path = _brainvision(tmp_path)
    assert vhdr.read_vhdr(path).n_channels == 3
    with read_once.one_read():
        assert vhdr.read_vhdr(path).interval == "2000"
        text = Path(path).read_text(encoding="utf-8").replace("=2000", "=4000")
        Path(path).write_text(text, encoding="utf-8")
        os.utime(path, ns=(1, 1))  # (another identity even on a coarse clock)
        assert vhdr.read_vhdr(path).interval == "4000"


def test_nothing_is_kept_once_a_read_is_done(tmp_path: Path) -> None:
    path = _brainvision(tmp_path)
    with read_once.one_read():
        vhdr.read_vhdr(path)
        with read_once.one_read():  # (a nested read shares the outer one's parses)
            vhdr.read_vhdr(path)
        assert read_once.n_kept() > 0
    assert read_once.n_kept() == 0


def _opened_per_read(monkeypatch: pytest.MonkeyPatch, path: str, **options: Any) -> int:
    """How many times eegprep's readers open ``path`` in one ``MneReader.read_header``."""
    import importlib
    import pkgutil

    import eegprep.readers

    clear_cache()
    MneReader.read_header(path, **options)  # (MNE's and eegprep's imports done)
    clear_cache()
    names = [f"eegprep.readers.{m.name}" for m in pkgutil.iter_modules(eegprep.readers.__path__)]
    modules = [importlib.import_module(name) for name in names]
    opens = _opens_of(monkeypatch, path, [m for m in modules if hasattr(m, "open_regular")])
    MneReader.read_header(path, **options)
    return sum(opens.values())


@pytest.mark.parametrize(
    ("kind", "most"),
    [("gdf", 8), ("set", 9), ("cnt", 2)],  # (one per parser of its parts; were 14, 29, 3)
)
def test_each_part_of_other_headers_is_read_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, most: int
) -> None:
    from tests.eegprep.test_reader_cnt_semantics import _cnt
    from tests.eegprep.test_reader_gdf_semantics import _gdf
    from tests.eegprep.test_reader_set_semantics import _write_set

    path = str(tmp_path / f"rec.{kind}")
    if kind == "gdf":
        _gdf(Path(path), "GDF 2.20", ["uV", "uV"], np.zeros((2, 2, 100), dtype=int))
    elif kind == "set":
        path = _write_set(tmp_path, np.zeros((2, 200)), struct=True)
    else:
        ones = [1.0, 1.0]
        codes = np.zeros((2, 100), dtype=int)
        _cnt(Path(path), codes, width=2, baselines=[0, 0], sensitivities=ones, calibrations=ones)
    opened = _opened_per_read(monkeypatch, path)
    assert opened <= most, opened


def test_the_shared_header_bytes_hold_any_header_read_whole() -> None:
    """One byte more than the largest header read: a longer file is seen to be longer."""
    assert companions.VHDR_READ_BYTES == vhdr.VHDR_MAX_BYTES + 1
