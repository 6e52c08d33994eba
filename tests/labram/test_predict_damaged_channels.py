"""`labram predict FILE` on a file whose dropped channel (a ``Status``) has a damaged header
field predicts from its EEG, as the ingest stores it, with at most one warning naming the
channel; the same damage on a kept EEG channel is the file's one ``skipped`` line, naming it
(tests/eegprep/test_dropped_channel_damage.py: the ingest's side)."""

from __future__ import annotations

from pathlib import Path

from labram.stages.predict import predict_files
from tests.eegprep.test_dropped_channel_damage import VHDR_DAMAGE, _file, _gdf, _vhdr
from tests.labram.test_predict_streamed import _classifier


def _files(root: Path, channel: int) -> list[Path]:
    """A BDF (physical minimum ``n/a``), a GDF 2.20 (digital minimum equal to its maximum) and
    a BrainVision file (resolution ``abc``), each damaged at ``channel`` (3: ``Status``)."""
    made = []
    for name, write in (
        ("bdf", lambda d: _file(d, ".bdf", channel, "text")),
        ("gdf", lambda d: _gdf(d, "2.20", channel, "digital equal")),
        ("vhdr", lambda d: _vhdr(d, channel, VHDR_DAMAGE["resolution text"])),
    ):
        (root / name).mkdir(parents=True)
        made.append(write(root / name))
    return made


def test_predict_reads_the_eeg_beside_a_damaged_dropped_channel(tmp_path: Path) -> None:
    files = _files(tmp_path / "dropped", 3)
    ckpt = _classifier(tmp_path / "best.pt", window=4)
    res = predict_files(files, ckpt, corpus="folder", mains=50.0, device="cpu")
    assert res["failed"] == []
    assert [r["file"] for r in res["recordings"]] == [str(f) for f in files]
    for rec in res["recordings"]:
        assert rec["channels"] == ["FP1", "CZ", "O1"] and rec["n_windows"] > 0
        assert len([w for w in rec["warnings"] if "Status" in w]) == 1, rec["warnings"]


def test_predict_refuses_a_damaged_kept_channel_in_one_line(tmp_path: Path) -> None:
    files = _files(tmp_path / "kept", 1)
    ckpt = _classifier(tmp_path / "best.pt", window=4)
    res = predict_files(files, ckpt, corpus="folder", mains=50.0, device="cpu")
    assert res["recordings"] == []
    assert len(res["failed"]) == len(files)
    for line, path in zip(res["failed"], files, strict=True):
        assert line.startswith(f"{path}: ") and "'Cz'" in line and "\n" not in line, line


def test_predict_says_a_gdf_event_channel_beyond_the_channels(tmp_path: Path) -> None:
    """A GDF event table whose event names channel 9 (CHN) of a file of 3 channels: predict's
    warning line for the file names the number, as the ingest's does
    (tests/eegprep/test_events_differential.py); the event was kept unsaid for no channel."""
    from tests.eegprep.test_event_times_differential import _gdf as _gdf_events
    from tests.eegprep.test_events_differential import _channel_table

    table = _channel_table(250.0, [(11, 1, 2, 0), (21, 2, 9, 0)])
    path = _gdf_events(tmp_path / "r.gdf", "GDF 2.20", table)
    ckpt = _classifier(tmp_path / "best.pt", window=4)
    res = predict_files([path], ckpt, corpus="folder", mains=50.0, device="cpu")
    assert res["failed"] == []
    (rec,) = res["recordings"]
    said = [w for w in rec["warnings"] if "channel 9" in w]
    assert len(said) == 1 and "3 channels" in said[0] and "\n" not in said[0], rec["warnings"]
