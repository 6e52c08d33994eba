"""What a source says must reach the store as it says it (issue 13, items 2, 5, 7 and 8):
file names of any case, channels in source order at every rate mix, BIDS channel status, events
inside the recording, and a clipping flag that only clipping raises."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from cli import eegprep_cli
from eegprep import open_store
from eegprep.base.errors import UsageError
from eegprep.corpus.discover import _any_case_name
from eegprep.corpus.manifest import load_manifest
from eegprep.ingestion.driver import IngestConfig, ingest
from eegprep.pipeline.preprocess import process
from eegprep.pipeline.qc import clipped_channels
from eegprep.pipeline.recipe import Recipe
from eegprep.testing.synth import clip_channel, eeg_like

SERIAL = IngestConfig(workers=0, progress=False, mains=50.0)


def _edf(path: Path, labels: list[str], rates: list[float], seconds: int, seed: int = 0) -> list:
    """Write an EDF+ with pyedflib (not project code); returns the signals written (uV)."""
    import pyedflib

    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    signals = [rng.normal(0, 20, int(r * seconds)) for r in rates]
    with pyedflib.EdfWriter(str(path), len(labels), file_type=pyedflib.FILETYPE_EDFPLUS) as w:
        w.setSignalHeaders(
            [
                {
                    "label": lab,
                    "dimension": "uV",
                    "sample_frequency": r,
                    "physical_min": -500.0,
                    "physical_max": 500.0,
                    "digital_min": -32768,
                    "digital_max": 32767,
                }
                for lab, r in zip(labels, rates)
            ]
        )
        w.writeSamples(signals)
        w.writeAnnotation(1.0, 2.0, "inside")
        w.writeAnnotation(seconds - 1.0, 3.0, "straddles the end")
        w.writeAnnotation(seconds + 5.0, 1.0, "after the end")
    return signals


# -- item 2: discovery ---------------------------------------------------------------------------


def test_upper_case_extensions_are_found(tmp_path: Path) -> None:
    root = tmp_path / "src"
    for name in ("a.EDF", "b.Edf", "sub/c.edf"):
        _edf(root / name, ["Fp1", "Fp2"], [200.0, 200.0], 4)
    rep = ingest("folder", src=root, out=tmp_path / "s.zarr", config=SERIAL)
    assert (rep.n_files, rep.n_ingested, rep.failed, rep.unmatched) == (3, 3, [], [])
    assert sorted(r.source for r in open_store(tmp_path / "s.zarr").recordings) == [
        "a.EDF",
        "b.Edf",
        "sub/c.edf",
    ]


def test_a_manifest_pattern_written_for_lower_case_takes_upper_case(
    tuh_corpus: Path, tmp_path: Path
) -> None:
    for f in list(tuh_corpus.rglob("*.edf")):
        f.rename(f.with_suffix(".EDF"))
    rep = ingest("tuh", src=tuh_corpus, out=tmp_path / "s.zarr", config=SERIAL)
    assert rep.n_ingested == rep.n_files > 0 and (rep.failed, rep.unmatched) == ([], [])


def test_glob_letters_match_any_case_in_the_file_name_only() -> None:
    assert _any_case_name("edf/**/*.edf") == "edf/**/*.[eE][dD][fF]"
    assert _any_case_name("[!a-c]?.x") == "[!a-cA-Ca-c]?.[xX]"


def test_no_file_found_is_a_usage_error_naming_root_globs_and_near_misses(tmp_path: Path) -> None:
    root = tmp_path / "src"
    (root / "deep" / "er").mkdir(parents=True)
    (root / "notes.txt").write_text("x")
    with pytest.raises(UsageError, match=r"no file matches bids's files.include \(\*\*/eeg/"):
        ingest("bids", src=root, out=tmp_path / "s.zarr", config=SERIAL)
    _edf(root / "deep/er/x_eeg.EDF", ["Fp1"], [200.0], 2)
    with pytest.raises(UsageError, match=r"found 1 \.EDF file in folders the globs do"):
        ingest("bids", src=root, out=tmp_path / "s.zarr", config=SERIAL)
    res = CliRunner().invoke(
        eegprep_cli,
        [
            "ingest",
            "folder",
            "--src",
            str(root),
            "--out",
            str(tmp_path / "t.zarr"),
            "--mains",
            "50",
            "--include",
            "*.vhdr",
        ],
    )
    assert res.exit_code == 2, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and str(root) in lines[0]
    assert "*.vhdr" in lines[0] and "found only" in lines[0] and "Traceback" not in res.output


# -- item 5: source order at mixed rates ---------------------------------------------------------


def _edf_folder(tmp_path: Path) -> Path:
    """The ``folder`` manifest read by eegprep's own EDF reader (MNE's resamples mixed rates)."""
    text = Path(load_manifest("folder").file).read_text()
    text = text.replace('name = "folder"', 'name = "edf_folder"').replace(
        'name = "mne"', 'name = "edf"'
    )
    path = tmp_path / "edf_folder.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("reader", ["edf", "mne"])
def test_interleaved_rates_are_stored_in_source_order(tmp_path: Path, reader: str) -> None:
    """Through either reader: the ``mne`` reader hands EDF/BDF to eegprep's own, since MNE
    resamples the slower channels of a mixed-rate file itself (0.2% off inside, 60% at the end)."""
    import pyedflib

    labels = ["Fp1", "Fp2", "F3", "F4", "C3", "ECG", "C4"]
    rates = [256.0, 512.0, 256.0, 500.0, 512.0, 256.0, 256.0]
    _edf(tmp_path / "src/mixed.edf", labels, rates, 60, seed=3)
    manifest = _edf_folder(tmp_path) if reader == "edf" else "folder"
    cfg = dataclasses.replace(SERIAL, mains=50.0)
    ingest(manifest, src=tmp_path / "src", out=tmp_path / "s.zarr", config=cfg)
    with pyedflib.EdfReader(str(tmp_path / "src/mixed.edf")) as f:  # the samples as stored
        signals = [f.readSignal(i) for i in range(len(labels))]
    s = open_store(tmp_path / "s.zarr")
    (r,) = s.recordings
    assert r.channels == ("FP1", "FP2", "F3", "F4", "C3", "C4")
    x = s.read(r.id)
    keep = [0, 1, 2, 3, 4, 6]
    for row, src in enumerate(keep):  # every row is its own source channel, resampled
        ref = process(signals[src][None].astype(np.float32), rates[src], 50.0, Recipe())[0]
        n = min(ref.size, x.shape[1])
        err = np.sqrt(np.mean((x[row, :n] - ref[:n]) ** 2)) / np.sqrt(np.mean(ref[:n] ** 2))
        assert err < 1e-3, (row, labels[src], err)


# -- item 7: BIDS channels.tsv -------------------------------------------------------------------


def _bids_with_status(root: Path) -> Path:
    import mne
    from mne_bids import BIDSPath, write_raw_bids

    chans = ["Fp1", "Fz", "Cz", "Pz", "O1", "F7"]
    x = eeg_like(len(chans), 8 * 250, 250.0, rng=np.random.default_rng(0), labels=chans)
    raw = mne.io.RawArray(x.astype(np.float64) * 1e-6, mne.create_info(chans, 250.0, "eeg"))
    raw.set_channel_types({"F7": "eog"}, verbose="error")  # a cap site used for EOG
    raw.info["bads"] = ["Pz"]
    path = BIDSPath(subject="01", task="rest", datatype="eeg", root=root / "ds")
    write_raw_bids(raw, path, format="BrainVision", allow_preload=True, verbose="error")
    return root / "ds"


def test_bids_bad_and_non_eeg_channels_are_left_out_with_the_reason(tmp_path: Path) -> None:
    ds = _bids_with_status(tmp_path)
    tsv = next(ds.rglob("*_channels.tsv")).read_text()
    assert "Pz\tEEG" in tsv and "\tbad" in tsv and "F7\tEOG" in tsv  # mne-bids wrote them
    rep = ingest("bids", src=ds, out=tmp_path / "s.zarr", config=SERIAL)
    assert rep.n_ingested == 1 and rep.failed == []
    (r,) = open_store(tmp_path / "s.zarr").recordings
    assert r.channels == ("FP1", "FZ", "CZ", "O1")
    dropped = dict(tuple(d) for d in r.meta["dropped_channels"])
    assert dropped["Pz"].startswith("bad in channels.tsv")
    assert dropped["F7"] == "non-EEG (channels.tsv type EOG)"
    assert any("Pz" in w and "F7" in w for w in rep.warnings[r.source])


# -- item 8: events outside the recording, clipping flag -----------------------------------------


def test_events_past_the_end_are_dropped_and_straddling_ones_cut(tmp_path: Path) -> None:
    _edf(tmp_path / "src/rec.edf", ["Fp1", "Fp2"], [250.0, 250.0], 20)
    # eegprep's EDF reader passes the file's annotations on as they are (MNE's crops them)
    rep = ingest(
        _edf_folder(tmp_path), src=tmp_path / "src", out=tmp_path / "s.zarr", config=SERIAL
    )
    (r,) = open_store(tmp_path / "s.zarr").recordings
    assert [(e.onset, e.duration, e.label) for e in r.events] == [
        (1.0, 2.0, "inside"),
        (19.0, 1.0, "straddles the end"),
    ]
    text = " | ".join(rep.warnings[r.source])
    assert "1 event outside the stored 0-20 s dropped: 'after the end' at 25 s" in text
    assert "cut at the recording's ends: 'straddles the end' at 19 s" in text


def test_clipping_flag_needs_a_pile_up_at_the_extreme() -> None:
    rng = np.random.default_rng(0)
    noise = rng.normal(0, 20, 24_000)
    coarse = np.round(noise / 15) * 15  # few ADC steps: the extremes recur, nothing is clipped
    square = np.where(np.sin(np.arange(24_000) / 40) >= 0, 100.0, -100.0)  # calibration signal
    square[::400] = 0.0  # a few samples in between, as a real square wave's edges
    ramp = (np.arange(24_000) % 250).astype(float)
    rows = np.stack([noise, coarse, square, ramp, noise])
    rows = clip_channel(rows, 4, limit_uv=35.0, fraction=0.02)
    assert clipped_channels(rows, ["noise", "coarse", "square", "ramp", "clipped"]) == ["clipped"]


def test_with_a_known_physical_range_only_the_rails_count() -> None:
    """A pile-up far inside the converter's range (a software limit, a plateau) is not clipping;
    the same pile-up at the physical range is."""
    rng = np.random.default_rng(1)
    noise = rng.normal(0, 20, 24_000)
    rows = clip_channel(np.stack([noise, noise]), 0, limit_uv=35.0, fraction=0.02)
    rows = clip_channel(rows, 1, limit_uv=35.0, fraction=0.02)
    step = 1000 / 65535
    rails = [(-500.0, 500.0, step), (-35.0, 35.0, step)]
    assert clipped_channels(rows, ["inside", "at the rail"], rails) == ["at the rail"]
    assert clipped_channels(rows, ["a", "b"]) == ["a", "b"]  # range unknown: the pile-up


def test_edf_clipping_flag_uses_the_physical_range(tmp_path: Path) -> None:
    import pyedflib

    rng = np.random.default_rng(2)
    x = np.clip(rng.normal(0, 40, 256 * 30), -35, 35)  # clipped 38% of the time
    path = tmp_path / "src" / "c.edf"
    path.parent.mkdir()
    labels = ["Fp1", "Fp2"]
    with pyedflib.EdfWriter(str(path), 2, file_type=pyedflib.FILETYPE_EDFPLUS) as w:
        w.setSignalHeaders(
            [
                {"label": lab, "dimension": "uV", "sample_frequency": 256.0,
                 "physical_min": -lim, "physical_max": lim,
                 "digital_min": -32768, "digital_max": 32767}
                for lab, lim in zip(labels, [500.0, 35.0])
            ]
        )  # fmt: skip
        w.writeSamples([x, x])
    ingest(_edf_folder(tmp_path), src=tmp_path / "src", out=tmp_path / "s.zarr", config=SERIAL)
    (r,) = open_store(tmp_path / "s.zarr").recordings
    assert r.qc["clipped_channels"] == ["FP2"]


def _clipped_reference(x, labels, rails=None):
    """clipped_channels as its docstring states it, channel by channel, without shortcuts."""
    out = []
    for i, (row, label) in enumerate(zip(x, labels)):
        lo, hi = row.min(), row.max()
        inside = np.count_nonzero((row > lo) & (row < hi))
        if hi == lo or inside < 0.05 * row.size:
            continue
        rail = rails[i] if rails is not None else None
        for edge, inner, at in ((hi, row < hi, 1), (lo, row > lo, 0)):
            n_edge = np.count_nonzero(row == edge)
            if rail is not None:
                near = abs(float(edge) - rail[at]) <= 1.5 * rail[2] + 1e-6 * abs(rail[at])
                if near and n_edge / row.size > 0.01:
                    out.append(label)
                    break
                continue
            rest = row[inner]
            n_next = np.count_nonzero(rest == (rest.max() if edge == hi else rest.min()))
            if n_edge / row.size > 0.01 and n_edge >= 3 * n_next:
                out.append(label)
                break
    return out


@pytest.mark.parametrize("seed", range(6))
def test_clipped_channels_is_the_plain_rule(seed):
    """The vectorised check flags exactly what the rule, applied channel by channel, flags:
    rails or none, clipped at either rail, two-level, coarse, flat, NaN rows (never flagged)."""
    rng = np.random.default_rng(seed)
    n = 3000
    rows, rails = [], []
    for k in range(24):
        step = float(rng.choice([0.153, 0.5, 2.0]))
        kind = k % 8
        scale = 600 if kind in (1, 2) else 50 if kind == 6 else rng.choice([5, 50, 400])
        x = np.round(rng.standard_normal(n) * scale / step) * step
        rail = (-500.0, 500.0, step)
        if kind == 1:
            x = np.clip(x, -np.inf, 500.0)  # pinned at the high rail
        elif kind == 2:
            x = np.clip(x, -500.0, np.inf)
        elif kind == 3:
            x = np.where(rng.random(n) < 0.5, -500.0, 500.0)  # two levels
        elif kind == 4:
            x = np.full(n, 3.0)
        elif kind == 5:
            x[rng.integers(0, n)] = np.nan
        elif kind == 6:
            x = np.clip(x, -40.0, 40.0)  # pinned, but far inside the rails
        rows.append(x)
        rails.append(rail)
    x = np.asarray(rows, dtype=np.float32)
    labels = [f"ch{i}" for i in range(len(rows))]
    with_rails = clipped_channels(x, labels, rails)
    assert with_rails == _clipped_reference(x, labels, rails)
    pinned = {f"ch{k}" for k in range(24) if k % 8 in (1, 2)}
    assert set(with_rails) == pinned  # pinned far inside the rails (ch6, ...): not clipped
    without = clipped_channels(x, labels)
    assert without == _clipped_reference(x, labels)
    assert pinned | {"ch6", "ch14", "ch22"} <= set(without)  # no rails: any pile-up is
