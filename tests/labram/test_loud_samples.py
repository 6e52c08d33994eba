"""A store (or file) whose samples no EEG has, met by a sound model: the line names the
recording, not the checkpoint.

NaN or infinite samples in one test recording made every command that runs a model blame the
checkpoint ("its weights overflow float32 (the largest, 1, ...)": use another checkpoint), and
`finetune` stopped after its training with an internal error (sklearn's "Input contains NaN").
Each is now one line naming the recording and the second, and what to do about the store."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from labram.commands import labram_cli
from labram.data.sample_peaks import SamplesError, window_peaks
from tests.labram.training_stores import write_tuab_like

BAD = "tuab/e001_s001_t000"


def _store(path: Path, value: float) -> str:
    """A TUAB-like store (4 train, 2 eval subjects of 20 s) whose eval recording ``BAD`` holds
    ``value`` uV from 5 s to 7 s."""

    def plant(rid: str, x: np.ndarray) -> None:
        if rid == BAD:
            x[:, 1000:1400] = value

    return write_tuab_like(path, n_train=4, n_eval=2, seconds=20, plant=plant)


def _says_the_recording(text: str, ckpt: object) -> None:
    assert f"{ckpt}: the model's outputs are not finite" in text, text
    assert f"samples no EEG has (NaN or infinite samples in {BAD} at " in text, text
    assert "eegprep validate" in text and "the checkpoint is not the cause" in text, text
    assert "weights overflow" not in text, text


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_every_command_names_the_recording_not_the_checkpoint(
    sound: Path, tmp_path: Path, value: float
) -> None:
    from labram.stages.predictions import FILENAME, predict_checkpoint

    store = _store(tmp_path / "s.zarr", value)
    with pytest.raises(SamplesError) as err:
        predict_checkpoint(sound, [store], "tuab", device="cpu")
    _says_the_recording(str(err.value), sound)
    assert not (sound.parent / FILENAME).exists()
    common = ["--store", store, "--task", "tuab", "--checkpoint", str(sound), "--device", "cpu"]
    for args in (["evaluate", *common], ["embed", *common, "--out", str(tmp_path / "e.zarr")]):
        res = CliRunner().invoke(labram_cli, ["-q", *args])
        assert res.exit_code == 2, (args[0], res.output)
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), (args[0], lines)
        _says_the_recording(lines[0], sound)


def predict_one(sound: Path, value: float | None = None) -> Callable[[], dict]:
    """``predict_recording`` of a 30 s recording of sound EEG at 200 Hz (three 10 s windows)
    with the classifier ``sound``; ``value`` written into every channel at 12 s (the second
    window only) when given."""
    from eegprep.ingestion.inmemory import Preprocessed
    from eegprep.pipeline.channels import VOCABULARY
    from labram.checkpoints.layouts import ours_from
    from labram.checkpoints.safe_read import read_checkpoint
    from labram.data.tasks import get_task
    from labram.model.classifier import LaBraMClassifier
    from labram.stages.predict import predict_recording

    model = ours_from(read_checkpoint(sound, what="checkpoint"), source=str(sound))
    assert isinstance(model, LaBraMClassifier)
    task = get_task("tuab")
    names = list(task.channels or ())
    x = 30 * np.random.default_rng(0).standard_normal((len(names), 200 * 30)).astype(np.float32)
    if value is not None:
        x[:, 200 * 12] = value
    rec = Preprocessed("r.edf", x, names, [VOCABULARY.index(n) for n in names], 200.0)
    return lambda: predict_recording(model, task, rec, source=str(sound))


def test_predict_names_the_file_and_the_second(sound: Path) -> None:
    with pytest.raises(SamplesError, match=r"on 1 of 3 windows: .* in r\.edf at 10 s;"):
        predict_one(sound, np.inf)()


def test_finetune_stops_in_one_line_naming_the_test_recording(tmp_path: Path) -> None:
    store = _store(tmp_path / "s.zarr", np.nan)
    out = tmp_path / "ft"
    res = CliRunner().invoke(labram_cli, ["-q", "finetune", "--store", store, "--task", "tuab",
                                          "--size", "tiny", "--max-steps", "2", "--batch-size",
                                          "4", "--device", "cpu", "--out", str(out)])  # fmt: skip
    assert res.exit_code == 2, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert f"test: 1 recording, NaN or infinite samples in {BAD} at 5 s" in lines[0], lines
    assert "nothing was trained" in lines[0] and "eegprep validate" in lines[0], lines
    assert not (out / "seed0").exists()  # found before the first step, not after the epochs


def test_window_peaks_are_the_largest_magnitude_or_inf() -> None:
    x = np.zeros((3, 2, 1, 4), np.float32)
    x[0, 1, 0, 2] = -7
    x[1, 0, 0, 0] = np.nan
    x[2, 0, 0, 3] = 2
    assert window_peaks(x).tolist() == [7.0, np.inf, 2.0]
    assert window_peaks(torch.from_numpy(x)).tolist() == [7.0, np.inf, 2.0]
