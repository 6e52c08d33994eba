"""Recordings whose samples do not follow on in time: kept, stretch by stretch.

An EDF+D with gaps was refused whole (the recording lost); its stretches are now stored end
to end, each filtered and resampled alone (a DC step between two stretches leaves no ringing
next to the join), the record lists the joins at the store rate, and its events sit on the
samples kept. (BrainVision ``New Segment`` and EEGLAB ``boundary``: test_foreign_files.py.)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from eegprep import open_store
from eegprep.pipeline import preprocess
from eegprep.pipeline.recipe import Recipe
from eegprep.pipeline.stretches import plan
from eegprep.readers.edf import EdfReader
from eegprep.testing.edf_writer import write_edf
from tests.safety.corpus import ingest_folder

SFREQ = 250
LABELS = ["Fp1", "Cz", "O1"]
# 20 records of 1 s: stretches of 8, 6 and 6 records, after gaps of 4 s and 6 s
ONSETS = [*range(8), *(k + 4 for k in range(8, 14)), *(k + 10 for k in range(14, 20))]
STEPS = (0.0, 500.0, -300.0)  # uV added to each stretch: a DC step at each join
EVENTS = [(1.5, 0.5, "blink"), (9.0, None, "in the first gap"), (13.5, None, "late")]


def _stretches(rng: np.random.Generator) -> list[np.ndarray]:
    """The three stretches' samples, (3, n) uV each, a DC offset apart."""
    sizes = (8 * SFREQ, 6 * SFREQ, 6 * SFREQ)
    return [20 * rng.standard_normal((len(LABELS), n)) + s for n, s in zip(sizes, STEPS)]


@pytest.fixture(scope="module")
def gapped(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[np.ndarray], object]:
    """An EDF+D with two gaps, ingested: (store, the stretches written, the report)."""
    root = tmp_path_factory.mktemp("gapped")
    src = root / "src"
    src.mkdir()
    parts = _stretches(np.random.default_rng(0))
    joined = np.concatenate(parts, axis=1)
    write_edf(src / "g.edf", list(joined), labels=LABELS, sfreqs=SFREQ, edf_plus=True,
              annotations=EVENTS, reserved="EDF+D", record_onsets=ONSETS)  # fmt: skip
    report = ingest_folder(src, root / "s.zarr")
    return root / "s.zarr", parts, report


def test_an_edf_plus_d_with_two_gaps_is_ingested_with_its_joins(gapped: tuple) -> None:
    store_path, _, report = gapped
    assert report.failed == []
    (line,) = report.warnings["g.edf"]  # one line for the file
    assert line == (
        "discontinuous: 2 gaps (4 s, 6 s) between data records; its 3 stretches are kept "
        "separately (filtered each alone, no window across a join), stored end to end with "
        "joins at 8 s, 14 s; 1 event inside a gap dropped"
    )
    rec = open_store(store_path).recording("folder/g")
    assert rec.n_samples == 20 * 200
    assert rec.joins == (8 * 200, 14 * 200) and rec.record.joins == rec.joins
    # the late event at 13.5 s of the recording's clock lies 4 s after the first gap's end
    assert [(e.onset, e.duration, e.label) for e in rec.events] == [
        (1.5, 0.5, "blink"),
        (9.5, 0.0, "late"),
    ]


def test_each_stretch_is_filtered_alone(gapped: tuple) -> None:
    """The stored samples are those of each stretch preprocessed on its own, to the store's
    round-off; filtering the joined samples as one would ring at each DC step (shown)."""
    store_path, _, _ = gapped
    store = open_store(store_path)
    rec = store.recording("folder/g")
    stored = store.read(rec.id)
    recipe = Recipe.from_dict(store.recipe)
    header = EdfReader.read_header(str(store_path.parent / "src" / "g.edf"))
    source = EdfReader.read_segment(header, [0, 1, 2], 0, 20 * SFREQ)  # as the EDF holds them
    parts = np.split(source, [8 * SFREQ, 14 * SFREQ], axis=1)
    alone = np.concatenate([preprocess.process(p, SFREQ, 60.0, recipe) for p in parts], axis=1)
    step = float(rec.meta.get("max_error_uv") or 0.0)
    assert np.abs(stored - alone).max() <= step + 1e-3
    across = preprocess.process(np.concatenate(parts, axis=1), SFREQ, 60.0, recipe)
    near = slice(rec.joins[0] - 100, rec.joins[0] + 100)  # 0.5 s either side of the join
    assert np.abs(across[:, near] - alone[:, near]).max() > 50  # the ringing that is gone


def test_a_stretch_plan_lines_up_rate_groups_and_skips_empty_stretches() -> None:
    """Two rate groups split at the same seconds give the same output lengths; a join at the
    start or the end joins nothing."""
    cut = plan((0.0, 2.0, 5.0), [(250.0, 1250), (500.0, 2500)], 200.0)
    assert cut.bounds == (((0, 0), (0, 500), (500, 1250), (1250, 1250)),
                          ((0, 0), (0, 1000), (1000, 2500), (2500, 2500)))  # fmt: skip
    assert cut.lengths == (0, 400, 600, 0) and cut.n_out == 1000
    assert cut.joins == (400,)
    assert plan((), [(256.0, 2560)], 200.0).joins == ()


def _store_with_joins(path: Path, joins: object, n_samples: int = 2000) -> str:
    """A store of one recording whose record states ``joins`` (written as given)."""
    from eegprep.store.writer import StoreWriter
    from tests.labram.training_stores import put

    with StoreWriter(str(path), Recipe()) as w:
        x = np.zeros((2, n_samples), np.float32)
        put(w, "c/r", x, ["FP1", "CZ"], joins=joins)
    return str(path)


@pytest.mark.parametrize(
    "joins",
    [(300, 200), (0, 500), (500, 2000), (500, 500), (1.5,), ("200",), (True,)],
    ids=["unsorted", "at 0", "at the end", "repeated", "fraction", "text", "bool"],
)
def test_malformed_joins_are_refused_by_every_reader(tmp_path: Path, joins: tuple) -> None:
    """Joins out of order, outside ``0 < j < n_samples`` or no whole numbers would cut windows
    across a join or none where there is signal: one line naming the record and the value,
    from the window index's fields and from the whole record alike."""
    from eegprep.base.errors import StoreFormatError
    from eegprep.store.validate import validate

    url = _store_with_joins(tmp_path / "s.zarr", joins)
    said = r"c/r: its index record is not one eegprep writes \(joins \["
    with pytest.raises(StoreFormatError, match=said):
        open_store(url).index_fields()
    with pytest.raises(StoreFormatError, match=said):
        open_store(url).recording("c/r")
    _, problems = validate(url)  # eegprep validate names it the same way
    assert [p for p in problems if "joins [" in p] == [
        f"c/r: the index record (in _eegprep/index/0000000001.jsonl): joins {list(joins)!r} is "
        "not a list of stored samples where "
        "stretches start (whole numbers, ascending, each above 0 and below n_samples 2000)"
    ]


def test_sound_joins_read_back_from_the_fields_file_and_the_lines(tmp_path: Path) -> None:
    """Joins reach the window index whether opening takes the fields from the compacted
    fields file or parses the index lines; a fields file an earlier eegprep wrote (no joins
    column) is not taken for a base that states joins."""
    import msgspec

    from eegprep.store import index_fields

    url = _store_with_joins(tmp_path / "s.zarr", (500, 1500))
    assert open_store(url).index_fields()["c/r"].joins == [500, 1500]
    (fields_file,) = (tmp_path / "s.zarr").rglob("*.fields")
    base = fields_file.with_suffix(".jsonl").read_bytes()
    decoded = index_fields.decode(fields_file.read_bytes(), base)
    assert decoded is not None and decoded[0][0].joins == [500, 1500]
    blob = fields_file.read_bytes()
    columns = msgspec.msgpack.Decoder(index_fields._Columns).decode(blob[:-4])
    old = msgspec.msgpack.encode(msgspec.structs.astuple(columns)[:-1])  # no joins column
    assert index_fields.decode(old + index_fields.google_crc32c.value(old).to_bytes(4, "little"),
                               base) is None  # fmt: skip
    fields_file.unlink()  # the lines parsed instead
    assert open_store(url).index_fields()["c/r"].joins == [500, 1500]
    assert open_store(url).recording("c/r").joins == (500, 1500)


def test_an_acquisition_skip_and_an_edge_are_joins_of_any_mne_format(tmp_path: Path) -> None:
    """MNE's ``BAD_ACQ_SKIP`` (samples it filled in: left out, a join where they were) and
    ``EDGE boundary`` (recordings it concatenated), here in a FIF, follow the rule of every
    reader: joins on the header (on the samples kept), one warning line."""
    mne = pytest.importorskip("mne")
    from eegprep.readers.mne_formats import MneReader

    info = mne.create_info(LABELS, 250.0, "eeg")
    raw = mne.io.RawArray(np.zeros((3, 2500)), info, verbose="error")
    kinds = ["BAD_ACQ_SKIP", "EDGE boundary", "stim"]
    raw.set_annotations(mne.Annotations([4.0, 8.0, 1.0], [2.0, 0.0, 0.0], kinds))
    raw.save(tmp_path / "r_raw.fif", verbose="error")
    header = MneReader.read_header(str(tmp_path / "r_raw.fif"))
    assert header.joins == (4.0, 6.0)  # the edge at 8 s lies 2 s of skip later: 6 s kept
    assert header.warnings == (
        "discontinuous: MNE 'BAD_ACQ_SKIP', MNE 'EDGE boundary' markers where the samples do "
        "not follow on in time; its 3 stretches are kept separately (filtered each alone, no "
        "window across a join), stored end to end with joins at 4 s, 6 s; 1 span MNE filled "
        "in where none were acquired (BAD_ACQ_SKIP, 2 s) left out",
    )


def _fif_with_a_skip(path: Path, x: np.ndarray) -> None:
    """``x`` (3, 2500) uV at 250 Hz saved as a FIF whose samples 1000-1500 (4-6 s) are an
    acquisition skip (MNE writes no samples there and reads zeros), with events before,
    inside, across and after it."""
    import mne

    raw = mne.io.RawArray(x * 1e-6, mne.create_info(LABELS, 250.0, "eeg"), verbose="error")
    raw.set_annotations(mne.Annotations(
        [4.0, 1.0, 5.0, 3.5, 7.0], [2.0, 0.0, 0.5, 1.0, 2.0],
        ["BAD_ACQ_SKIP", "before", "inside", "into the skip", "after"]))  # fmt: skip
    raw.save(path, verbose="error")


def test_the_samples_mne_fills_in_at_an_acquisition_skip_are_not_stored(tmp_path: Path) -> None:
    """A FIF's acquisition skip reads as zeros through MNE; they were kept as a stretch of
    their own (a span one window long gave pre-training windows of zeros and counted as flat
    channels). They are left out as an EDF+D's gaps are: the stretches either side end to end
    with a join, later events moved back by the skip, those inside it dropped and counted."""
    mne = pytest.importorskip("mne")
    from eegprep.readers.mne_formats import MneReader

    x = 20 * np.random.default_rng(3).standard_normal((3, 2500)) + 5
    path = tmp_path / "k_raw.fif"
    _fif_with_a_skip(path, x)
    filled = mne.io.read_raw_fif(path, verbose="error").get_data()
    assert (filled[:, 1000:1500] == 0).all()  # what MNE reads in the skip
    header = MneReader.read_header(str(path))
    assert header.duration == 8.0 and [s.n_samples for s in header.signals] == [2000] * 3
    assert header.joins == (4.0,)
    assert [(a.onset, a.duration, a.description) for a in header.annotations] == [
        (1.0, 0.0, "before"),
        (3.5, 0.5, "into the skip"),  # its half in the skip is no sample kept
        (5.0, 2.0, "after"),
    ]
    assert header.warnings[-1].endswith("(BAD_ACQ_SKIP, 2 s) left out, 1 event inside them "
                                        "dropped")  # fmt: skip
    kept = np.concatenate([x[:, :1000], x[:, 1500:]], axis=1)
    np.testing.assert_allclose(MneReader.read_segment(header, [0, 1, 2], 0, 2000), kept,
                               atol=1e-3)  # fmt: skip
    across = MneReader.read_segment(header, [0, 1, 2], 990, 1010)  # read around the skip
    np.testing.assert_allclose(across, x[:, [*range(990, 1000), *range(1500, 1510)]], atol=1e-3)


def test_an_edf_plus_d_read_through_mne_gives_what_the_edf_reader_gives(gapped: tuple) -> None:
    """MNE 1.13 reads an EDF+D's records end to end with no word of its gaps, and times its
    events on the recording's clock: read with an MNE option, the gapped file gave no joins
    (windows across both), the event after the first gap 4 s late, and one in the last
    stretch dropped as past the end. The mne reader now finds the gaps as the EDF reader does:
    the same samples, joins, events and warning from either."""
    from eegprep.corpus.manifest import load_manifest
    from eegprep.ingestion.inmemory import read_preprocessed
    from eegprep.readers.mne_formats import MneReader

    store_path, _, _ = gapped
    path = str(store_path.parent / "src" / "g.edf")
    own = EdfReader.read_header(path)
    through = MneReader.read_header(path, infer_types=False)  # an option: MNE reads it
    assert (own.reader, through.reader) == ("edf", "mne")
    assert through.joins == own.joins == (8.0, 14.0)
    assert through.annotations == own.annotations
    assert through.warnings == own.warnings
    np.testing.assert_allclose(MneReader.read_segment(through, [0, 1, 2], 0, 20 * SFREQ),
                               EdfReader.read_segment(own, [0, 1, 2], 0, 20 * SFREQ),
                               atol=1e-3)  # fmt: skip
    import dataclasses

    folder = dataclasses.replace(load_manifest("folder"), mains=60.0)
    by_mne = dataclasses.replace(folder, reader="mne", reader_options=(("infer_types", False),))
    a = read_preprocessed(path, dataclasses.replace(folder, reader="edf"))
    b = read_preprocessed(path, by_mne)
    assert a.joins == b.joins == (8 * 200, 14 * 200)
    np.testing.assert_allclose(a.data, b.data, atol=1e-2)


def test_a_skip_at_the_end_is_left_out_without_a_join() -> None:
    """A skip reaching the last sample (MNE cannot save one in a FIF; another format's
    annotation may say so) leaves no join, and the warning still says what was left out."""
    mne = pytest.importorskip("mne")
    from eegprep.readers.mne_gaps import Skips, skip_spans
    from eegprep.readers.mne_problems import joins

    raw = mne.io.RawArray(np.ones((3, 2500)), mne.create_info(LABELS, 250.0, "eeg"),
                          verbose="error")  # fmt: skip
    raw.set_annotations(mne.Annotations([8.0, 8.0], [2.0, 1.0], ["BAD_ACQ_SKIP"] * 2))
    skips = Skips(skip_spans(raw, 2500), 2500)
    assert skips.spans == ((2000, 2500),) and skips.n_kept == 2000  # the two spans merged
    assert skips.pieces(1990, 2000) == [(1990, 2000)] and skips.joins == ()
    assert joins(raw, None, skips) == ((), "1 span MNE filled in where none were acquired "
                                       "(BAD_ACQ_SKIP, 2 s) left out at the samples' start or "
                                       "end (no join)")  # fmt: skip


def test_a_record_whose_joins_or_targets_are_null_builds_as_one_without(tmp_path: Path) -> None:
    """``"joins": null`` and ``"targets": null`` pass the record checks as none (as the window
    index and :attr:`Recording.joins` read them), so the typed record reads them as none too:
    it raised a bare TypeError (``'NoneType' object is not iterable``) on such a store, which
    ``eegprep validate`` called sound."""
    from eegprep.store.validate import validate

    url = _store_with_joins(tmp_path / "s.zarr", (500,))
    index = tmp_path / "s.zarr" / "_eegprep" / "index"
    for f in index.iterdir():  # another program's writer: null for an empty list
        if f.suffix == ".jsonl" and b'"joins":[500]' in f.read_bytes():
            line = f.read_bytes().replace(b'"joins":[500]', b'"joins":null')
            f.write_bytes(line.replace(b'"targets":[]', b'"targets":null'))
        elif f.suffix == ".fields":
            f.unlink()
    attrs = tmp_path / "s.zarr" / "recordings" / "c" / "r" / "zarr.json"  # the record's copy
    text = attrs.read_text(encoding="utf-8")
    text = text.replace('"joins": [500]', '"joins": null')
    text = text.replace('"targets": []', '"targets": null')
    attrs.write_text(text, encoding="utf-8")
    rec = open_store(url).recording("c/r")
    assert rec.joins == () and open_store(url).index_fields()["c/r"].joins is None
    assert rec.record.joins == () and rec.record.targets == ()
    _, problems = validate(url)
    assert not [p for p in problems if "joins" in p or "targets" in p]
