"""`labram predict rec/*` over BrainVision and EEGLAB recordings: the files a header reads its
samples or markers from (``.eeg``, ``.vmrk``, ``.fdt``) are no recordings of their own.

Each was a `skipped:` line (no reader takes its suffix) and the command exited 3, though every
recording was predicted; an ingest of the folder lists the headers alone. They are left out in
one note; a companion given without its header is still its line.
"""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from labram.commands import labram_cli
from labram.stages.predict import predict_files
from tests.eegprep.test_reader_set_semantics import _write_set
from tests.labram.test_predict_formats_equal_store import X, _brainvision, _classifier


def _folder(tmp_path: Path) -> tuple[Path, list[str]]:
    """A BrainVision and an EEGLAB recording with a ``.fdt``, every file of the folder sorted as
    a shell's ``*`` lists them, and a classifier."""
    src = tmp_path / "rec"
    src.mkdir()
    _brainvision(src, "v")
    _write_set(src, X[:3], struct=True, fdt=True, srate=250.0, name="s")
    return _classifier(tmp_path / "best.pt"), sorted(str(p) for p in src.iterdir())


def test_a_headers_companions_given_with_it_are_read_with_it(tmp_path: Path) -> None:
    ckpt, files = _folder(tmp_path)
    assert [Path(f).suffix for f in files] == [".fdt", ".set", ".eeg", ".vhdr", ".vmrk"]
    res = predict_files(files, ckpt, corpus="folder", mains=50.0, device="cpu")
    assert res["failed"] == []
    assert [r["file"] for r in res["recordings"]] == [files[1], files[3]]
    pairs = [(c["file"], c["read_with"]) for c in res["companions"]]
    assert pairs == [(files[0], files[1]), (files[2], files[3]), (files[4], files[3])]
    alone = predict_files(files[1:2], ckpt, corpus="folder", mains=50.0, device="cpu")
    assert alone["recordings"][0]["probabilities"] == res["recordings"][0]["probabilities"]
    run = CliRunner().invoke(labram_cli, ["predict", *files, "--checkpoint", str(ckpt),
                                          "--corpus", "folder", "--mains", "50"])  # fmt: skip
    assert run.exit_code == 0, run.output
    assert (
        "note: left out 3 files that a recording given reads its samples or markers" in run.output
    )
    assert "skipped:" not in run.output


def test_a_companion_without_its_header_is_its_own_line(tmp_path: Path) -> None:
    ckpt, files = _folder(tmp_path)
    res = predict_files([files[0], files[3], files[4]], ckpt, corpus="folder", mains=50.0,
                        device="cpu")  # fmt: skip
    assert [r["file"] for r in res["recordings"]] == [files[3]]
    assert [c["file"] for c in res["companions"]] == [files[4]]
    assert len(res["failed"]) == 1 and res["failed"][0].startswith(f"{files[0]}: ")
