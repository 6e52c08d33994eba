"""64-bit integers of an EEGLAB ``.set`` that float64 cannot hold (beyond 2^53) are named, never
rounded: in the fields eegprep checks itself (``srate``, ``nbchan``, ``pnts``, ``trials``; both
layouts, MAT v5 and v7.3) and in every field MNE reads (``EEG.event(k).latency``, ...)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from eegprep.base.errors import SourceError
from eegprep.readers.mne_formats import MneReader
from tests.safety.test_hostile_set import _fields, _write

BIG = 2**53 + 1  # float64 rounds it to 2^53


def _events(latencies: list[Any]) -> np.ndarray:
    ev = np.zeros((1, len(latencies)), dtype=[("type", "O"), ("latency", "O"), ("duration", "O")])
    for k, latency in enumerate(latencies):
        ev[0, k] = (f"e{k}", latency, np.int64(0))
    return ev


@pytest.mark.parametrize("struct", [False, True], ids=["variables", "EEG-struct"])
@pytest.mark.parametrize("kind", [np.int64, np.uint64])
@pytest.mark.parametrize("field", ["srate", "nbchan", "pnts", "trials"])
def test_a_count_or_rate_beyond_2_53_is_named_exactly(
    tmp_path: Path, struct: bool, kind: type, field: str
) -> None:
    fields = _fields()
    fields[field] = kind(BIG)
    path = _write(tmp_path / "r.set", fields, struct=struct)
    with pytest.raises(SourceError) as caught:
        MneReader.read_header(str(path))
    said = str(caught.value)
    assert f"EEG.{field} is {BIG}, beyond 2^53" in said and "\n" not in said
    assert str(BIG - 1) not in said  # never the rounded value


@pytest.mark.parametrize("struct", [False, True], ids=["variables", "EEG-struct"])
def test_an_event_latency_beyond_2_53_is_named_not_rounded(tmp_path: Path, struct: bool) -> None:
    fields = _fields()
    fields["event"] = _events([np.int64(100), np.int64(BIG)])
    path = _write(tmp_path / "r.set", fields, struct=struct)
    with pytest.raises(SourceError) as caught:
        MneReader.read_header(str(path))
    said = str(caught.value)
    assert said.startswith(f"{path}: EEG.event(2).latency is {BIG}, beyond 2^53") and "MNE" in said


@pytest.mark.parametrize("struct", [False, True], ids=["variables", "EEG-struct"])
def test_64_bit_integers_within_2_53_still_read(tmp_path: Path, struct: bool) -> None:
    fields = _fields()
    fields |= {"srate": np.int64(250), "nbchan": np.uint64(13), "pnts": np.int64(500)}
    fields["event"] = _events([np.int64(100), np.uint64(400)])
    path = _write(tmp_path / "r.set", fields, struct=struct)
    header = MneReader.read_header(str(path))
    assert header.signals[0].sfreq == 250.0 and header.signals[0].n_samples == 500
    assert [a.onset for a in header.annotations] == [99 / 250, 399 / 250]


def test_struct_fields_keep_64_bit_integers_exact(tmp_path: Path) -> None:
    import scipy.io

    from eegprep.readers.mat_fields import struct_fields

    scipy.io.savemat(tmp_path / "s.mat", {"s": {"a": np.int64(BIG), "b": np.uint64(2**64 - 1)}})
    got = struct_fields(str(tmp_path / "s.mat"), "s", frozenset({"a", "b"}))
    assert got is not None
    assert int(got["a"].value.reshape(())) == BIG and int(got["b"].value.reshape(())) == 2**64 - 1


def test_mat73_fields_and_cells_are_named_exactly(tmp_path: Path) -> None:
    from eegprep.readers.mat_exact import first_inexact
    from eegprep.readers.set_header import read_set_fields
    from tests.eegprep.test_reader_matlab import write_mat73

    path = tmp_path / "r.set"
    eeg = {"srate": 250.0, "nbchan": 13.0, "pnts": np.array([[BIG]], dtype=np.int64)}
    write_mat73(path, {"EEG": eeg})
    fields = read_set_fields(str(path))
    assert fields is not None and int(np.asarray(fields.values["pnts"]).reshape(())) == BIG
    assert first_inexact(str(path), "7.3") == ("EEG.pnts", BIG)
    from eegprep.testing.mat73_writer import write_mat73 as write_cells

    write_cells(path, {"x": {"c": [np.array([[1, BIG]], dtype=np.uint64)]}})
    assert first_inexact(str(path), "7.3") == ("x.c{1}", BIG)


def _nested(name: str, big: int) -> dict[str, Any]:
    """Variables where the structure check walks each kind of array, the one ``name`` holding
    ``big`` (the others 7): a struct array's plain field (``event``), a cell inside a struct
    (``s``), a struct inside a cell inside a struct (``t``), and a top-level array over 1 MiB
    (``w``, read in pieces; ``big`` last)."""

    def v(key: str) -> int:
        return big if key == name else 7

    events = np.zeros((1, 3), dtype=[("type", "O"), ("latency", "O")])
    for k in range(3):
        events[0, k] = (f"e{k}", np.int64(v("event") if k == 2 else k))
    cell = np.empty((1, 2), dtype=object)
    cell[0, 0], cell[0, 1] = np.int64(1), np.array([[2, v("s")]], dtype=np.uint64)
    inner = np.empty((1, 1), dtype=object)
    inner[0, 0] = {"deep": np.array([[v("t")]], dtype=np.int64)}
    wide = np.zeros((1, 300_000), dtype=np.int64)
    wide[0, -1] = v("w")
    return {"event": events, "s": {"c": cell}, "t": {"x": inner}, "w": wide}


@pytest.mark.parametrize("compressed", [False, True], ids=["plain", "compressed"])
@pytest.mark.parametrize(
    ("name", "expected"),
    [("event", "event(3).latency"), ("s", "s.c{2}"), ("t", "t.x{1}.deep"), ("w", "w")],
)
def test_the_structure_walk_names_a_mat5_integer_beyond_2_53_as_matlab_does(
    tmp_path: Path, compressed: bool, name: str, expected: str
) -> None:
    # was a second walk of every element (mat_exact's own, ~14 of ~75 CPU s of a
    # 900,000-event .set); the structure check's one pass names it now, as that walk did
    import scipy.io

    from eegprep.readers.mat_exact import first_inexact
    from eegprep.readers.mat_v5_structure import check_v5_structure

    path = tmp_path / "x.mat"
    big = {"event": BIG, "s": 2**64 - 1, "t": -BIG, "w": BIG}[name]
    scipy.io.savemat(path, _nested(name, big), do_compression=compressed)
    assert check_v5_structure(str(path), exact=True) == (expected, big)
    assert first_inexact(str(path), "5") == (expected, big)
    assert check_v5_structure(str(path)) is None  # (only when asked)
    scipy.io.savemat(path, _nested(name, 2**53), do_compression=compressed)
    assert check_v5_structure(str(path), exact=True) is None
