"""Legal variations of real corpora's text files: a UTF-8 byte-order mark (Excel and Windows
editors write one) in every text file a reader or sidecar parser opens; BIDS events whose
trial_type is n/a; and the BIDS folders that are not raw data."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from eegprep import open_store
from eegprep.ingestion.driver import IngestConfig, ingest
from eegprep.testing.fixtures import write_fixture

SERIAL = IngestConfig(workers=0, progress=False)
BIDS = IngestConfig(workers=0, progress=False, mains=50.0)
BOM = b"\xef\xbb\xbf"

# corpus -> glob of the text files its readers or sidecar parsers open
TEXT_FILES = {
    "tusz": "**/*.csv_bi",
    "tuar": "**/*.csv",
    "tuev": "**/*.rec",
    "grasp_lift": "**/*.csv",
    "inria_bci": "**/*.csv",
    "mobi": "**/*.txt",
    "emobrain": "**/*.mrk",
    "siena": "**/*.txt",
    "bids": "**/*.tsv",
}


def _utf8_bom(data: bytes) -> bytes:
    return BOM + data


def _utf16(data: bytes) -> bytes:
    """Excel's "Unicode Text" and Windows' "Unicode": UTF-16 LE with its byte-order mark."""
    return data.decode("utf-8").encode("utf-16")


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """``plain(corpus)``: its fixture folder, the store of its plain text files and their
    ingest's report, written once per module for both recodings (read, never changed)."""
    made: dict[str, tuple[Path, Path, Any]] = {}

    def get(corpus: str) -> tuple[Path, Path, Any]:
        if corpus not in made:
            root = tmp_path_factory.mktemp(corpus)
            src = write_fixture(corpus, root / "plain")
            cfg = BIDS if corpus == "bids" else SERIAL
            rep = ingest(corpus, src=src, out=root / "plain.zarr", config=cfg)
            made[corpus] = (src, root / "plain.zarr", rep)
        return made[corpus]

    return get


@pytest.mark.parametrize("recode", [_utf8_bom, _utf16], ids=["utf8-bom", "utf16"])
@pytest.mark.parametrize("corpus", sorted(TEXT_FILES))
def test_a_byte_order_mark_changes_nothing(
    tmp_path: Path, plain: Any, corpus: str, recode: Any
) -> None:
    """Every text file a reader or sidecar parser opens, saved with a UTF-8 byte-order mark or
    as UTF-16: the same labels and events. (UTF-16 label files had no line a sidecar parser
    knew: a TUH label file was refused, a BIDS events.tsv had "no 'onset' column", and a
    marker file gave no events at all, the recording stored unlabelled.)"""
    if corpus == "bids":
        pytest.importorskip("mne_bids")
    src, plain_store, plain_report = plain(corpus)
    cfg = BIDS if corpus == "bids" else SERIAL
    marked = tmp_path / "recoded"
    shutil.copytree(src, marked)
    files = sorted(marked.glob(TEXT_FILES[corpus]))
    assert files, f"no {TEXT_FILES[corpus]} in the {corpus} fixture"
    for f in files:
        f.write_bytes(recode(f.read_bytes()))
    rep = ingest(corpus, src=marked, out=tmp_path / "bom.zarr", config=cfg)
    assert (rep.failed, rep.n_ingested) == ([], plain_report.n_ingested)
    a, b = open_store(plain_store), open_store(tmp_path / "bom.zarr")
    for rid in a.index_rows():
        ra, rb = a.recording(rid), b.recording(rid)
        assert [(e.onset, e.label) for e in ra.events] == [(e.onset, e.label) for e in rb.events]
        assert ra.meta.get("labels") == rb.meta.get("labels")


def test_bids_sourcedata_and_derivatives_are_not_ingested(tmp_path: Path) -> None:
    pytest.importorskip("mne_bids")
    src = write_fixture("bids", tmp_path)
    first = ingest("bids", src=src, out=tmp_path / "a.zarr", config=BIDS)
    names = sorted(open_store(tmp_path / "a.zarr").index_rows())
    for folder in ("sourcedata", "derivatives/clean", "code", "stimuli"):
        shutil.copytree(src / "sub-02", src / folder / "sub-02")
    again = ingest("bids", src=src, out=tmp_path / "b.zarr", config=BIDS)
    assert again.n_ingested == first.n_ingested
    assert sorted(open_store(tmp_path / "b.zarr").index_rows()) == names


def test_bids_events_with_an_na_trial_type_keep_their_value(tmp_path: Path) -> None:
    pytest.importorskip("mne_bids")
    src = write_fixture("bids", tmp_path)
    (tsv,) = src.glob("sub-02/**/*_events.tsv")
    lines = tsv.read_text().splitlines()
    head = lines[0].split("\t")
    assert "trial_type" in head and "value" in head
    row = ["n/a"] * len(head)
    row[head.index("onset")], row[head.index("value")] = "3.25", "7"
    lines.append("\t".join(row))
    row = ["n/a"] * len(head)
    row[head.index("onset")] = "5.0"
    lines.append("\t".join(row))
    tsv.write_bytes(("\r\n".join(lines) + "\r\n").encode())
    rep = ingest("bids", src=src, out=tmp_path / "s.zarr", config=BIDS)
    assert rep.failed == []
    rec = next(r for r in open_store(tmp_path / "s.zarr").recordings if "sub-02" in r.id)
    events = {(e.onset, e.label) for e in rec.events}
    assert (3.25, "7") in events and (5.0, "n/a") in events
    assert {"standard", "target"} <= {label for _, label in events}


def test_tuh_labels_in_upper_case_are_the_same_labels(tmp_path: Path) -> None:
    """``SEIZ``/``BCKG`` are TUH's ``seiz``/``bckg``: stored as such, and ``bckg`` skipped."""
    src = write_fixture("tusz", tmp_path / "a")
    ingest("tusz", src=src, out=tmp_path / "a.zarr", config=SERIAL)
    for f in src.rglob("*.csv*"):
        text = f.read_text()
        f.write_text(text.replace(",seiz,", ",SEIZ,").replace(",bckg,", ",BCKG,"))
    ingest("tusz", src=src, out=tmp_path / "b.zarr", config=SERIAL)
    a, b = open_store(tmp_path / "a.zarr"), open_store(tmp_path / "b.zarr")
    for rid in a.index_rows():
        assert [e.label for e in a.recording(rid).events] == [
            e.label for e in b.recording(rid).events
        ]
    assert "bckg" not in {e.label for r in b.recordings for e in r.events}


@pytest.mark.parametrize(
    ("unit", "factor"),
    [("uV", 1.0), ("µV", 1.0), ("microvolts", 1.0), ("mV", 1e3), ("mVolt", 1e3),
     ("millivolts", 1e3), ("V", 1e6), ("Volts", 1e6), ("nV", 1e-3), ("nanovolt", 1e-3)],
)  # fmt: skip
def test_every_spelling_of_volts_is_known(unit: str, factor: float) -> None:
    from eegprep.readers.base import unit_to_uv

    assert unit_to_uv(unit) == factor
    assert unit_to_uv("k" + unit) is None  # an unknown prefix is not guessed


def _header(path: Path) -> Any:
    from eegprep.readers.base import Header, Signal

    signal = Signal("Fp1", 100.0, 6000, "uV", 1.0)
    return Header(path=str(path), reader="edf", signals=(signal,), duration=60.0)


@pytest.mark.parametrize(
    ("parser", "name", "text", "label"),
    [
        ("bids_events", "x_events.tsv", "onset\tduration\ttrial_type\n1.5\t0\tMüdigkeit\n",
         "Müdigkeit"),
        ("marker_file", "x.bdf.mrk", "150 Müde\n", "trigger/Müde"),
    ],
)  # fmt: skip
def test_a_latin1_label_is_the_label_not_replacement_characters(
    tmp_path: Path, parser: str, name: str, text: str, label: str
) -> None:
    """A label file saved in Latin-1 / cp1252 (older Windows exports): its ``ü`` was stored
    as the replacement character U+FFFD, a label that no other file's ``Müdigkeit`` matched."""
    from eegprep.corpus.sidecars import load_parsers

    path = tmp_path / name
    path.write_bytes(text.encode("latin-1"))
    got = load_parsers()[parser]([str(path)], _header(tmp_path / "x.edf"), {})
    assert [(e[0], e[2]) for e in got.events] == [(1.5, label)]
