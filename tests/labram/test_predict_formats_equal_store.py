"""`labram predict FILE` scores the windows an ingest of the same file stores, for every format.

One recording (35 s at 250 Hz, microvolts to 0.1 uV) written in each format a folder ingest
reads (EDF+ with annotations, BDF, GDF 1.25 and 2.20, CNT with events, BrainVision binary,
text, and binary with a second segment, FIF and EEGLAB with eog/emg-typed channels labelled as
sites), a BIDS BrainVision file whose ``channels.tsv`` marks one channel bad and types another
EOG (``--corpus bids``), and a CSV table read through a manifest of the ``csv`` reader. Its
labels hold both T3 and T7 (one site) and an ``EOG``. Each folder is ingested by its manifest
and the store embedded by a ``label:KEY`` classifier (``labram embed`` keeps its logits); the
same files are predicted with ``--corpus`` that manifest. Per file: the same channels, the same
window starts, the same probabilities to float32 round-off.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import zarr

from eegprep import open_store
from eegprep.base.errors import UsageError
from eegprep.corpus.manifest import load_manifest
from eegprep.ingestion.driver import IngestConfig, ingest
from eegprep.testing.edf_writer import write_edf
from eegprep.testing.fixtures.cnt_writer import write_cnt
from eegprep.testing.fixtures.gdf_writer import write_gdf
from labram.checkpoints.layouts import save_ours
from labram.checkpoints.safe_read import read_checkpoint
from labram.model.classifier import LaBraMClassifier
from labram.model.config import model_config
from labram.stages.embed import EmbedConfig, embed
from labram.stages.predict import predict_files
from labram.train.checkpoint import atomic_save
from tests.eegprep.test_reader_set_semantics import _write_set

SFREQ = 250
LABELS = ["Fp1", "Fp2", "C3", "Cz", "T3", "T7", "O1", "O2", "EOG"]
TYPES = ["eog", "eeg", "eeg", "eeg", "eeg", "eeg", "eeg", "emg", "eog"]  # (FIF, EEGLAB)
CLASSES = ["a", "b", "c"]
X = np.round(
    np.random.default_rng(0).normal(0, 20, (len(LABELS), SFREQ * 35))
    + 30 * np.sin(2 * np.pi * 10 * np.arange(SFREQ * 35) / SFREQ),
    1,
)


def _brainvision(folder: Path, name: str, *, text: bool = False, segment: int = 0) -> Path:
    """``name.vhdr`` of :data:`X`: float32 or text samples; a second segment from
    sample ``segment`` (1-based) when given."""
    binary = "[Binary Infos]\nBinaryFormat=IEEE_FLOAT_32\n"
    layout = "[ASCII Infos]\nDecimalSymbol=.\n" if text else binary
    (folder / f"{name}.vhdr").write_text(
        "Brain Vision Data Exchange Header File Version 1.0\n[Common Infos]\nCodepage=UTF-8\n"
        f"DataFile={name}.eeg\nMarkerFile={name}.vmrk\nDataFormat={'ASCII' if text else 'BINARY'}"
        f"\nDataOrientation=MULTIPLEXED\nNumberOfChannels={len(LABELS)}\nSamplingInterval="
        f"{1_000_000 // SFREQ}\n{layout}[Channel Infos]\n"
        + "".join(f"Ch{i + 1}={c},,1,µV\n" for i, c in enumerate(LABELS)),
        encoding="utf-8",
    )
    if text:
        rows = (" ".join(f"{v:.1f}" for v in row) + "\n" for row in X.T)
        (folder / f"{name}.eeg").write_text("".join(rows))
    else:
        (folder / f"{name}.eeg").write_bytes(X.T.astype("<f4").tobytes())
    more = f"Mk3=New Segment,,{segment},1,0\n" if segment else ""
    (folder / f"{name}.vmrk").write_text(
        "Brain Vision Data Exchange Marker File, Version 1.0\n[Common Infos]\nCodepage=UTF-8\n"
        f"DataFile={name}.eeg\n[Marker Infos]\nMk1=New Segment,,1,1,0,20180302102030000000\n"
        f"Mk2=Stimulus,S  1,500,1,0\n{more}",
        encoding="utf-8",
    )
    return folder / f"{name}.vhdr"


def _folder(src: Path) -> list[Path]:
    """One recording of :data:`X` in each format the ``folder`` manifest reads."""
    import mne

    src.mkdir()
    edf = dict(labels=LABELS, sfreqs=SFREQ, physical_min=-500.0, physical_max=500.0)
    write_edf(src / "a.edf", list(X), edf_plus=True, annotations=[(3.0, 1.0, "x")], **edf)
    write_edf(src / "b.bdf", list(X), bdf=True, **edf)
    write_gdf(src / "g1.gdf", X, LABELS, SFREQ)
    write_gdf(src / "g2.gdf", X, LABELS, SFREQ, version="2.20")
    write_cnt(src / "c.cnt", X, LABELS, SFREQ, events=[(100, 1), (900, 2)])
    _brainvision(src, "v")
    _brainvision(src, "v_text", text=True)
    _brainvision(src, "v_segments", segment=SFREQ * 17)
    info = mne.create_info(LABELS, float(SFREQ), TYPES)
    mne.io.RawArray(X * 1e-6, info, verbose=False).save(src / "f_raw.fif", verbose=False)
    locs = np.zeros((1, len(LABELS)), dtype=[("labels", object), ("type", object)])
    for i, (label, kind) in enumerate(zip(LABELS, TYPES, strict=True)):
        locs[0, i] = (label, kind.upper())
    _write_set(src, X, struct=True, chanlocs=locs, srate=float(SFREQ), name="s")
    return sorted(p for p in src.iterdir() if p.suffix not in (".eeg", ".vmrk"))


def _bids(src: Path) -> list[Path]:
    """A BIDS recording whose channels.tsv marks Fp2 bad and types C3 EOG."""
    folder = src / "sub-01" / "eeg"
    folder.mkdir(parents=True)
    path = _brainvision(folder, "sub-01_task-rest_eeg")
    kinds = {"C3": ("EOG", "good"), "Fp2": ("EEG", "bad")}
    rows = "".join("{}\t{}\t{}\n".format(c, *kinds.get(c, ("EEG", "good"))) for c in LABELS)
    (folder / "sub-01_task-rest_channels.tsv").write_text("name\ttype\tstatus\n" + rows)
    return [path]


def _table(src: Path) -> tuple[list[Path], Path]:
    """A CSV table of :data:`X` and the manifest that reads it (the ``csv`` reader)."""
    src.mkdir()
    with open(src / "t.csv", "w") as fh:
        fh.write(",".join(LABELS) + "\n")
        np.savetxt(fh, X.T, delimiter=",", fmt="%.1f")
    text = Path(load_manifest("folder").file).read_text()
    text = text.replace('name = "folder"', 'name = "tables"')
    text = text.replace('name = "mne"', f'name = "csv"\noptions = {{ sfreq = {SFREQ} }}')
    text = text.replace('include = ["**/*.edf"', 'include = ["**/*.csv", "**/*.edf"')
    text = text.replace("(?i:edf|", "(?i:csv|edf|")
    manifest = src.parent / "tables.toml"
    manifest.write_text(text)
    return [src / "t.csv"], manifest


def _classifier(path: Path) -> Path:
    torch.manual_seed(0)
    clf = LaBraMClassifier(model_config("tiny"), len(CLASSES))
    torch.nn.init.normal_(clf.head.weight, std=0.5)  # probabilities away from 1/3
    save_ours(clf, path)
    obj = read_checkpoint(path)
    obj["task"] = {"name": "label:state", "kind": "multiclass", "classes": CLASSES,
                   "channels": None, "window_seconds": None, "stride_seconds": None}  # fmt: skip
    atomic_save(obj, path, keep_previous=False)
    return path


def _embedded(store: Path, ckpt: Path, out: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``labram embed`` of ``store`` into ``out``: each window's recording id, start (s) and
    class probabilities (the softmax of its logits, float64)."""
    embed([str(store)], ckpt, out, cfg=EmbedConfig(), device="cpu")
    e = zarr.open_group(str(out), mode="r")
    logits = np.asarray(e["logits"][:], np.float64)
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    return np.array([str(r) for r in e["recording"][:]]), np.asarray(e["start_s"][:]), probs


def _stored(src: Path, corpus: str, ckpt: Path, out: Path) -> dict[str, dict[str, Any]]:
    """Per source file (relative to ``src``): the store's channels, and the window starts and
    probabilities ``labram embed`` gives its recording."""
    config = IngestConfig(workers=0, progress=False, mains=50)
    rep = ingest(corpus, src=src, out=out / "s.zarr", config=config)
    assert rep.failed == [], rep.failed
    ids, starts, probs = _embedded(out / "s.zarr", ckpt, out / "e.zarr")
    return {
        rec.source: {
            "channels": list(rec.channels),
            "starts": starts[ids == rec.id].tolist(),
            "probabilities": probs[ids == rec.id],
        }
        for rec in open_store(out / "s.zarr").recordings
    }


@pytest.fixture(scope="module")
def compared(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[dict, dict]]:
    """Per file name: (what ``labram predict`` gave it, what its store gave it)."""
    tmp = tmp_path_factory.mktemp("formats")
    ckpt = _classifier(tmp / "best.pt")
    files, manifest = _table(tmp / "tables")
    corpora = [("folder", _folder(tmp / "folder"), tmp / "folder"),
               ("bids", _bids(tmp / "bids"), tmp / "bids"),
               (str(manifest), files, tmp / "tables")]  # fmt: skip
    out: dict[str, tuple[dict, dict]] = {}
    for n, (corpus, paths, src) in enumerate(corpora):
        (tmp / f"out{n}").mkdir()
        stored = _stored(src, corpus, ckpt, tmp / f"out{n}")
        res = predict_files(paths, ckpt, corpus=corpus, mains=50.0, device="cpu")
        assert res["failed"] == [], res["failed"]
        for path, rec in zip(paths, res["recordings"], strict=True):
            out[path.name] = (rec, stored[path.relative_to(src).as_posix()])
    return out


CASES = ["a.edf", "b.bdf", "g1.gdf", "g2.gdf", "c.cnt", "v.vhdr", "v_text.vhdr",
         "v_segments.vhdr", "f_raw.fif", "s.set", "sub-01_task-rest_eeg.vhdr", "t.csv"]  # fmt: skip


@pytest.mark.parametrize("name", CASES)
def test_predict_scores_the_windows_the_store_of_the_same_file_gives(
    compared: dict[str, tuple[dict, dict]], name: str
) -> None:
    predicted, stored = compared[name]
    assert predicted["channels"] == stored["channels"]
    assert [w["start_s"] for w in predicted["windows"]] == stored["starts"]
    p = np.array([[w["probabilities"][c] for c in CLASSES] for w in predicted["windows"]])
    np.testing.assert_allclose(p, stored["probabilities"], atol=2e-6)
    assert np.abs(p - 1 / 3).max() > 1e-3  # (a model whose outputs differ by window)


def test_the_cases_hold_what_they_are_meant_to(compared: dict[str, tuple[dict, dict]]) -> None:
    """The files hold what the cases test: typed channels and a channels.tsv left out, one
    site of T3 and T7, a second segment's windows tiled apart."""
    assert set(compared) == set(CASES)
    channels = {name: got[1]["channels"] for name, got in compared.items()}
    assert channels["a.edf"] == ["FP1", "FP2", "C3", "CZ", "T3", "O1", "O2"]
    assert channels["f_raw.fif"] == channels["s.set"] == ["FP2", "C3", "CZ", "T3", "O1"]
    assert channels["sub-01_task-rest_eeg.vhdr"] == ["FP1", "CZ", "T3", "O1", "O2"]
    assert compared["v_segments.vhdr"][1]["starts"] != compared["v.vhdr"][1]["starts"]


def test_the_later_parts_of_a_split_fif_given_with_its_first_are_no_files_of_their_own(
    tmp_path: Path,
) -> None:
    """``labram predict alice/*.fif`` over a recording MNE split in three parts: one
    recording, predicted whole from its first part, as the ingest of the folder stores it,
    and exit status 0 (each later part was a `skipped:` line, status 3); the parts left out
    are named in a note."""
    from click.testing import CliRunner

    from labram.commands import labram_cli
    from tests.eegprep.test_fif_split_parts import _split_fif

    folder = tmp_path / "src" / "alice"
    names = _split_fif(folder)
    ckpt = _classifier(tmp_path / "best.pt")
    paths = [str(folder / n) for n in names]  # (rec_raw-1.fif, rec_raw-2.fif, rec_raw.fif)
    res = predict_files(paths, ckpt, corpus="folder", mains=50.0, device="cpu")
    assert res["failed"] == []
    assert [r["file"] for r in res["recordings"]] == [paths[2]]
    assert res["later_parts"] == [{"file": p, "part_of": paths[2]} for p in paths[:2]]
    stored = _stored(tmp_path / "src", "folder", ckpt, tmp_path)
    starts = [w["start_s"] for w in res["recordings"][0]["windows"]]
    assert starts == stored["alice/rec_raw.fif"]["starts"] and len(starts) == 22
    run = CliRunner().invoke(labram_cli, ["predict", *paths, "--checkpoint", str(ckpt),
                                          "--corpus", "folder", "--mains", "50"])  # fmt: skip
    assert run.exit_code == 0, run.output
    assert "left out 2 later parts of FIF recordings split in parts" in run.output


def _seed_mat(src: Path) -> Path:
    """A SEED ``.mat`` of three recordings (``djc_eeg1`` .. ``djc_eeg3``: 62 channels at 200 Hz,
    microvolts, each of another length), where the ``seed`` manifest finds it."""
    from scipy.io import savemat

    from eegprep.testing.fixtures.seed import SEED_CHANNELS
    from eegprep.testing.synth import eeg_like

    folder = src / "Preprocessed_EEG"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(3)
    trials = {
        f"djc_eeg{k}": eeg_like(62, 200 * (14 + 5 * k), 200.0, rng=rng, labels=SEED_CHANNELS,
                                line_hz=None, dtype=np.float64)
        for k in (1, 2, 3)
    }  # fmt: skip
    savemat(folder / "1_20131027.mat", trials)
    return folder / "1_20131027.mat"


def test_each_recording_of_a_multi_recording_mat_predicts_as_its_store_embeds(
    tmp_path: Path,
) -> None:
    """`labram predict 1_20131027.mat --corpus seed`: one result per variable (the store's
    recordings, each with its ``part``), in every output form, each equal to what the store
    gives that part. Before, the file was one `skipped:` line ("matches 3 variables: read each
    with part=<variable>") and exit status 3."""
    import csv
    import io
    import json

    from click.testing import CliRunner

    from labram.commands import labram_cli
    from labram.stages.predictions import read_predictions

    mat = _seed_mat(tmp_path / "src")
    ckpt = _classifier(tmp_path / "best.pt")
    config = IngestConfig(workers=0, progress=False)
    assert ingest("seed", src=tmp_path / "src", out=tmp_path / "s.zarr", config=config).failed == []
    ids, starts, p_store = _embedded(tmp_path / "s.zarr", ckpt, tmp_path / "e.zarr")
    recs = open_store(tmp_path / "s.zarr").recordings
    stored = {r.record.part: (starts[ids == r.id].tolist(), p_store[ids == r.id]) for r in recs}
    assert sorted(stored) == ["djc_eeg1", "djc_eeg2", "djc_eeg3"]

    res = predict_files([mat], ckpt, corpus="seed", device="cpu")
    assert res["failed"] == [] and res["n_recordings"] == 3
    assert [r["part"] for r in res["recordings"]] == sorted(stored)
    for rec in res["recordings"]:
        starts, probs = stored[rec["part"]]
        assert [w["start_s"] for w in rec["windows"]] == starts
        p = np.array([[w["probabilities"][c] for c in CLASSES] for w in rec["windows"]])
        np.testing.assert_allclose(p, probs, atol=2e-6)
    assert len({len(r["windows"]) for r in res["recordings"]}) == 3  # (three recordings apart)

    base = ["predict", str(mat), "--checkpoint", str(ckpt), "--corpus", "seed"]
    runs = {form: CliRunner().invoke(labram_cli, [*base, *form.split()])
            for form in ("", "--windows", "--json", "--csv", "--csv --windows")}  # fmt: skip
    assert {form: run.exit_code for form, run in runs.items()} == dict.fromkeys(runs, 0)
    lines = runs[""].output.splitlines()
    assert [line.split("  ")[0] for line in lines] == [f"{mat}:{p}" for p in sorted(stored)]
    n_lines = sum(len(s) for s, _ in stored.values()) + len(stored)
    assert len(runs["--windows"].output.splitlines()) == n_lines
    back = json.loads(runs["--json"].output)
    assert [(r["file"], r["part"]) for r in back["recordings"]] == [(str(mat), p) for p in stored]
    rows = list(csv.DictReader(io.StringIO(runs["--csv --windows"].output, newline="")))
    for part, (starts, probs) in stored.items():
        mine = [r for r in rows if r["file"] == str(mat) and r["part"] == part]
        assert [float(r["start_s"]) for r in mine] == starts
        p = np.array([[float(r[f"p_{c}"]) for c in CLASSES] for r in mine])
        np.testing.assert_allclose(p, probs, atol=2e-6)
    per_file = list(csv.DictReader(io.StringIO(runs["--csv"].output, newline="")))
    assert [(r["part"], int(r["n_windows"])) for r in per_file] == [
        (p, len(s)) for p, (s, _) in stored.items()
    ]
    table = tmp_path / "predictions.csv"  # (the report's reader names it as no file of its own)
    table.write_text(runs["--csv --windows"].output)
    with pytest.raises(UsageError, match=r"predictions.csv: not a predictions file.*'part'"):
        read_predictions(table)


def test_a_part_that_cannot_be_predicted_is_its_own_line_and_the_others_are_predicted(
    tmp_path: Path,
) -> None:
    """A SEED file whose second variable is shorter than one window: that part's `skipped:`
    line names it (``FILE:djc_eeg2``), the count is of recordings, and the other parts are
    predicted (exit status 3)."""
    from click.testing import CliRunner
    from scipy.io import savemat

    from labram.commands import labram_cli

    mat = _seed_mat(tmp_path / "src")
    eeg = np.random.default_rng(5).normal(0, 20, (62, 200 * 20))  # 20 s at 200 Hz
    savemat(mat, {"djc_eeg1": eeg, "djc_eeg2": eeg[:, :400], "djc_eeg3": eeg[::-1]})
    ckpt = _classifier(tmp_path / "best.pt")
    run = CliRunner().invoke(labram_cli, ["predict", str(mat), "--checkpoint", str(ckpt),
                                          "--corpus", "seed"])  # fmt: skip
    assert run.exit_code == 3, run.output
    skipped = [line for line in run.output.splitlines() if line.startswith("skipped:")]
    assert len(skipped) == 1 and skipped[0].startswith(f"skipped: {mat}:djc_eeg2: "), skipped
    assert "shorter than one" in skipped[0]
    assert "1 of 3 recordings skipped, the others done" in run.output
    predicted = [line.split("  ")[0] for line in run.output.splitlines() if "windows)" in line]
    assert predicted == [f"{mat}:djc_eeg1", f"{mat}:djc_eeg3"]


def test_a_part_the_record_rule_refuses_is_refused_as_its_ingest_refuses_it(
    tmp_path: Path,
) -> None:
    """A variable named with an escape sequence or over 255 characters is no recording of a
    store (the ingest's one line, the file's other parts stored); `labram predict` gives the
    same line for it, naming the file once, and predicts the other parts."""
    import h5py

    folder = tmp_path / "src" / "Preprocessed_EEG"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    with h5py.File(folder / "1_20131027.mat", "w") as f:
        for name in ["djc_eeg1", "x\x1b[31m_eeg2", "z" * 300 + "_eeg4"]:
            f[name] = rng.standard_normal((4000, 62)) * 20  # (h5py: MATLAB's order reversed)
    text = (Path(__file__).parents[2] / "manifests" / "seed.toml").read_text()
    manifest = tmp_path / "m.toml"
    manifest.write_text(text.replace("data = '[A-Za-z]+_eeg\\d+'", "data = '[^_]+_eeg\\d+'"))
    config = IngestConfig(workers=0, progress=False)
    rep = ingest(str(manifest), src=tmp_path / "src", out=tmp_path / "s.zarr", config=config)
    ingested = sorted(line.split(": ", 1)[1] for line in rep.failed)
    assert len(ingested) == 2 and rep.n_ingested == 1
    mat = folder / "1_20131027.mat"
    res = predict_files([mat], _classifier(tmp_path / "best.pt"), corpus=str(manifest))
    assert sorted(line.removeprefix(f"{mat}: ") for line in res["failed"]) == ingested
    assert [r["part"] for r in res["recordings"]] == ["djc_eeg1"] and res["n_recordings"] == 3
