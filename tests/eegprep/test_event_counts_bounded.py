"""A reader counts a file's events before it builds them (:mod:`eegprep.readers.event_count`):
more than :data:`~eegprep.readers.event_count.MAX_EVENTS` refuse the file in one line naming
the file and where the events are, before one ~200-byte event object is allocated. Scaled down
here (the limit patched to 5); the memory each bound saves is measured in docs/benchmarks.md."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from eegprep.base.errors import SourceError
from eegprep.ingestion import events as event_rule
from eegprep.readers import csv_table, event_count
from eegprep.readers.csv_table import CsvReader


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The limit at 5 events, and the list of every event the csv reader builds."""
    monkeypatch.setattr(event_count, "MAX_EVENTS", 5)
    made: list[object] = []
    real = csv_table.Annotation

    def counted(*args: object, **kwargs: object) -> object:
        made.append(args)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(csv_table, "Annotation", counted)
    csv_table.clear_cache()
    return made


def _csv(tmp_path: Path, codes: list[int], flags: list[int]) -> str:
    rows = ["Fp1,code,flag"] + [f"{i % 7},{c},{f}" for i, (c, f) in enumerate(zip(codes, flags))]
    path = tmp_path / "r.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return str(path)


def test_a_noisy_marker_column_is_refused_before_its_events_are_built(
    tmp_path: Path, built: list[object]
) -> None:
    # a marker column alternating 1, 2 changes at every sample: 40 events from 40 samples;
    # was: all built (10^8 for a long file), then refused by the count only at the ingest
    path = _csv(tmp_path, [1 + i % 2 for i in range(40)], [0] * 40)
    with pytest.raises(SourceError) as err:
        CsvReader.read_header(path, sfreq=10, marker_column="code")
    assert str(err.value) == (
        f"{path}: its marker column 'code' (40) gives 40 events, over the 5 a recording may "
        "store: is a column of noise or samples read as markers? check the reader's "
        "`marker_column` / `event_columns`, or thin the file's markers"
    )
    assert built == []  # refused before one event was allocated


def test_event_and_marker_columns_count_together(tmp_path: Path, built: list[object]) -> None:
    codes = [0, 3, 3, 0, 4, 0, 0, 0]  # 2 changes to non-zero
    flags = [1, 0, 1, 0, 1, 1, 0, 1]  # 4 runs
    path = _csv(tmp_path, codes, flags)
    with pytest.raises(SourceError, match=r"its event column 'flag' \(4\) and its marker "
                       r"column 'code' \(2\) gives 6 events, over the 5"):  # fmt: skip
        CsvReader.read_header(path, sfreq=10, marker_column="code", event_columns=["flag"])
    assert built == []
    # at the limit the file reads, each event built once
    header = CsvReader.read_header(path, sfreq=10, marker_column="code")
    assert [(a.onset, a.description) for a in header.annotations] == [
        (0.1, "code/3"),
        (0.4, "code/4"),
    ]
    assert len(built) == 2


def _gdf_with_events(path: Path, n_events: int) -> tuple[str, int]:
    """A 10 s GDF 1.25 file (2 channels, 100 Hz) whose event table (mode 1, at 100 Hz) holds
    ``n_events`` events of code 1, one a sample from the first; and the table's byte offset."""
    import struct

    import numpy as np

    from eegprep.testing.fixtures.gdf_writer import write_gdf

    write_gdf(path, np.zeros((2, 1000)), ["Fp1", "Fp2"], 100)
    body = path.read_bytes()[:-8]  # the writer's empty table
    head = struct.pack("<B3sI", 1, (100).to_bytes(3, "little"), n_events)
    positions = np.arange(1, n_events + 1, dtype="<u4").tobytes()
    path.write_bytes(body + head + positions + np.ones(n_events, "<u2").tobytes())
    return str(path), len(body)


def test_a_gdf_event_table_over_the_limit_is_refused_before_mne_reads_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # was: MNE read the table whole and eegprep built an annotation per event (10^7 in a 120 MB
    # file), refused only by the ingest's count
    from eegprep.readers import get_reader

    monkeypatch.setattr(event_count, "MAX_EVENTS", 5)
    path, at = _gdf_with_events(tmp_path / "x.gdf", 6)
    with pytest.raises(SourceError) as err:
        get_reader("mne").read_header(path)
    assert str(err.value) == (
        f"{path}: its event table (byte {at}) gives 6 events, over the 5 a recording may "
        "store: split the recording into shorter files, or re-download it if the count is "
        "damaged"
    )
    path, _ = _gdf_with_events(tmp_path / "y.gdf", 5)
    assert len(get_reader("mne").read_header(path).annotations) == 5


def _brainvision(tmp_path: Path, n_more: int) -> str:
    """The bids fixture's oddball run (3 markers, 6 s at 250 Hz) with ``n_more`` stimulus
    markers appended to its marker file; the header's path."""
    from eegprep.testing.fixtures import write_fixture

    src = write_fixture("bids", tmp_path / "src")
    (vmrk,) = src.glob("**/sub-01_ses-02_task-oddball_eeg.vmrk")
    with vmrk.open("a", encoding="utf-8") as fh:
        fh.writelines(f"Mk{k}=Stimulus,S  3,{10 * k},1,0\n" for k in range(4, 4 + n_more))
    return str(vmrk.with_suffix(".vhdr"))


def test_a_marker_file_over_the_limit_is_refused_before_its_markers_are_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # was: every Mk line built as a marker (10^7 of them) before any bound was checked
    from eegprep.readers import get_reader, vmrk

    pytest.importorskip("mne_bids")
    monkeypatch.setattr(event_count, "MAX_EVENTS", 5)
    built: list[object] = []
    real = vmrk._marker
    monkeypatch.setattr(vmrk, "_marker", lambda *a, **k: built.append(a) or real(*a, **k))
    path = _brainvision(tmp_path / "over", 3)
    with pytest.raises(SourceError) as err:
        get_reader("mne").read_header(path)
    assert str(err.value) == (
        f"{path}: its marker file sub-01_ses-02_task-oddball_eeg.vmrk gives 6 events, over the "
        "5 a recording may store: split the recording into shorter files, or thin its markers"
    )
    assert built == []
    path = _brainvision(tmp_path / "at", 2)
    assert len(get_reader("mne").read_header(path).annotations) == 5


def test_matlab_event_onsets_over_the_limit_are_refused_before_the_labels_are_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # was: the labels read as one object each and an event built per onset first
    import numpy as np
    import scipy.io

    from eegprep.readers import matlab
    from eegprep.readers.matlab import MatReader

    monkeypatch.setattr(event_count, "MAX_EVENTS", 5)
    read: list[str] = []
    real = matlab._event_labels
    monkeypatch.setattr(
        matlab, "_event_labels", lambda p, v, n, k: read.append(n) or real(p, v, n, k)
    )
    path = str(tmp_path / "r.mat")
    pos = np.arange(1.0, 7.0)[None, :]
    scipy.io.savemat(path, {"x": np.zeros((1, 100)), "pos": pos, "y": pos})
    spec = {"onsets": "pos", "labels": "y"}
    with pytest.raises(SourceError) as err:
        MatReader.read_header(path, data="x", sfreq=10.0, events=spec)
    assert str(err.value) == (
        f"{path}: its event onset variable 'pos' gives 6 events, over the 5 a recording may store: "
        "check the reader's `events` option names the onsets, or split the recording"
    )
    assert read == []
    scipy.io.savemat(path, {"x": np.zeros((1, 100)), "pos": pos[:, :5], "y": pos[:, :5]})
    header = MatReader.read_header(path, data="x", sfreq=10.0, events=spec)
    assert [a.description for a in header.annotations] == ["1", "2", "3", "4", "5"]


def _eeglab(folder: Path, n_events: int, *, struct: bool) -> str:
    """A 2-channel, 10 s, 100 Hz EEGLAB ``.set`` with ``n_events`` events, one a sample from
    latency 1; as one ``EEG`` struct or as top-level variables (EEGLAB's two layouts)."""
    import numpy as np
    import scipy.io

    from eegprep.readers.mne_formats import clear_cache

    folder.mkdir(parents=True)
    locs = np.zeros((1, 2), dtype=[("labels", object)])
    locs[0, 0], locs[0, 1] = ("Fp1",), ("Fp2",)
    events = np.zeros((1, n_events), dtype=[("type", object), ("latency", object)])
    for i in range(n_events):
        events[0, i] = ("stim", float(i + 1))
    eeg = {
        "setname": "rec", "nbchan": 2.0, "trials": 1.0, "pnts": 1000.0, "srate": 100.0,
        "xmin": 0.0, "xmax": 9.99, "data": np.zeros((2, 1000)), "chanlocs": locs,
        "event": events, "urevent": np.zeros((0, 0)), "ref": "common",
    }  # fmt: skip
    path = folder / "rec.set"
    scipy.io.savemat(path, {"EEG": eeg} if struct else eeg, oned_as="row")
    clear_cache()
    return str(path)


@pytest.mark.parametrize("struct", [True, False], ids=["EEG-struct", "variables"])
def test_an_eeglab_event_array_over_the_limit_is_refused_before_mne_reads_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, struct: bool
) -> None:
    # was: MNE built an annotation per EEG.event entry, then eegprep an event each
    from eegprep.readers import get_reader

    monkeypatch.setattr(event_count, "MAX_EVENTS", 5)
    path = _eeglab(tmp_path / "over", 6, struct=struct)
    with pytest.raises(SourceError) as err:
        get_reader("mne").read_header(path)
    assert str(err.value) == (
        f"{path}: its EEG.event gives 6 events, over the 5 a recording may store: split the "
        "recording into shorter datasets"
    )
    path = _eeglab(tmp_path / "at", 5, struct=struct)
    assert len(get_reader("mne").read_header(path).annotations) == 5


def test_the_event_count_refusal_names_an_option_a_manifest_accepts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # was: `sidecar.annotations = "drop"`, which every manifest loader refuses ("must be
    # 'keep' or 'replace'")
    from eegprep.corpus.manifest import load_manifest

    monkeypatch.setattr(event_rule, "MAX_EVENTS", 1)
    with pytest.raises(SourceError) as err:
        event_rule.settle_events([[0.0, 0.0, "a", ""], [1.0, 0.0, "b", ""]], 400, 200.0, "r.edf")
    (value,) = re.findall(r'sidecar\.annotations = "(\w+)"', str(err.value))
    text = (Path(__file__).parents[2] / "manifests" / "eegmmidb.toml").read_text("utf-8")
    assert 'annotations = "replace"' in text
    (tmp_path / "m.toml").write_text(text.replace('"replace"', f'"{value}"'), "utf-8")
    assert load_manifest(tmp_path / "m.toml").sidecar_annotations == value


def test_mat_sidecar_flags_and_cues_over_the_limit_are_refused_before_they_are_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # was: an event built per rising flag (a noisy column: one every other sample) or per cue
    import numpy as np
    import scipy.io

    from eegprep.corpus.sidecars.bci import bci_markers, mat_flag_columns
    from eegprep.readers.base import Header, Signal

    monkeypatch.setattr(event_count, "MAX_EVENTS", 5)
    header = Header(
        path=str(tmp_path / "r.mat"), reader="mat", duration=10.0,
        signals=(Signal("C3", 100.0, 1000, "uV", 1.0, 0.0),),
    )  # fmt: skip
    data = np.zeros((1000, 3))
    data[0:12:2, -1] = 1.0  # 6 rises
    path = str(tmp_path / "b.mat")
    scipy.io.savemat(path, {"DATA": data})
    with pytest.raises(SourceError) as err:
        mat_flag_columns([path], header, {"columns": {"target": -1}})
    assert str(err.value) == (
        f"{path}: the flag columns of variable 'DATA' gives 6 events, over the 5 a recording "
        "may store: check the sidecar's `columns` option names flag columns, or thin the flags"
    )
    data[10, -1] = 0.0  # 5 rises
    scipy.io.savemat(path, {"DATA": data})
    out = mat_flag_columns([path], header, {"columns": {"target": -1}})
    assert [e[0] for e in out.events] == [0.0, 0.02, 0.04, 0.06, 0.08]
    path = str(tmp_path / "c.mat")
    mrk = {"pos": np.arange(1.0, 7.0)[None, :], "y": np.ones((1, 6))}
    scipy.io.savemat(path, {"mrk": mrk, "nfo": {"fs": 100.0, "classes": ["left", "foot"]}})
    with pytest.raises(SourceError, match=r"its cue positions mrk\.pos gives 6 events, over"):
        bci_markers([path], header, {})


def test_the_merged_count_is_of_distinct_events(monkeypatch: pytest.MonkeyPatch) -> None:
    # was: counted before exact repeats were dropped: a file's own markers and a BIDS
    # events.tsv repeating them (BIDS keeps both) counted twice, and the recording was refused
    monkeypatch.setattr(event_rule, "MAX_EVENTS", 3)
    own = [[float(t), 0.0, f"m{t}", ""] for t in range(3)]
    tsv = [list(e) for e in own]  # the same three, from events.tsv
    settled = event_rule.settle_events(own + tsv, 800, 200.0, "r.edf")
    assert settled.events == own and settled.warnings == []
    with pytest.raises(SourceError) as err:
        event_rule.settle_events(own + tsv + [[3.0, 0.0, "m3", ""]], 800, 200.0, "r.edf")
    assert str(err.value) == (
        "r.edf: 4 distinct events, over the 3 a recording may store: thin the label file, or "
        'leave the file\'s own annotations out (sidecar.annotations = "replace")'
    )


@pytest.mark.parametrize("bdf", [False, True], ids=["EDF+", "BDF+"])
def test_edf_annotations_are_counted_as_the_tal_parser_reads_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bdf: bool
) -> None:
    # was: every TAL built (pyedflib's C library and an Annotation each) before any count
    import numpy as np

    from eegprep.readers import edf
    from eegprep.readers.edf import EdfReader
    from eegprep.testing.edf_writer import write_edf

    monkeypatch.setattr(event_count, "MAX_EVENTS", 7)
    opened: list[str] = []
    real = edf._open

    def counted(p: str) -> object:
        opened.append(p)
        return real(p)

    monkeypatch.setattr(edf, "_open", counted)
    annotations = [(0.5, 1.25, "eyes closed"), (0.5, None, "b"), (2.0, 0.0, "")]
    annotations += [(3.25, None, "c" * 40), (4.0, 2.0, "d"), (4.5, None, "e"), (5.0, None, "f")]
    path = str(tmp_path / ("r.bdf" if bdf else "r.edf"))

    def write(kept: list[tuple[float, float | None, str]]) -> None:
        write_edf(path, [np.zeros(600)], labels=["Fp1"], sfreqs=100.0, edf_plus=True, bdf=bdf,
                  annotations=kept)  # fmt: skip

    write(annotations)  # 7 (pyedflib gives the empty text as one), each record's first TAL
    header = EdfReader.read_header(path)  # the time-keeping one; the empty text marks no event
    assert [a.description for a in header.annotations] == ["eyes closed", "b", "c" * 40,
                                                           "d", "e", "f"]  # fmt: skip
    write([*annotations, (5.5, None, "g")])
    opened.clear()
    with pytest.raises(SourceError) as err:
        EdfReader.read_header(path)
    assert str(err.value) == (
        f"{path}: its annotation signal (EDF+ TALs) gives 8 events, over the 7 a recording may "
        "store: split the recording into shorter files, or thin its annotations"
    )
    assert opened == []  # refused before pyedflib opened it
