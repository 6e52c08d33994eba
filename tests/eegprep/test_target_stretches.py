"""Promise: a target stored beside a recording with joins lies beside its EEG, stretch by stretch.

The EEG of a recording whose samples do not follow on in time is resampled stretch by stretch
(:mod:`eegprep.pipeline.stretches`), each stretch's output length rounded alone; a target
(a per-sample series a sidecar gives, as SEED's continuous labels) was resampled as one
series over the joins, so each stretch's rounding moved it against the EEG: by the third
stretch its samples were one sample early. Now it is resampled by the same stretches
(:func:`eegprep.ingestion.labels.on_stretches`): a step placed at one time in the target and
in the EEG lands on the same stored sample in every stretch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from eegprep.corpus.sidecars import SidecarResult
from eegprep.ingestion.labels import stored_targets
from tests.eegprep.test_sidecar_gaps import ingest_one_with_target

SFREQ = 250
N_SAMPLES = 5000  # 20 s
# New Segment markers (samples counted from 1): stretches of 1002, 1502 and 2496 samples,
# 801.6, 1201.6 and 1996.8 samples at 200 Hz: each stretch's rounding moves the next one
SEGMENTS = (1003, 2505)
STEP_AT = 251  # source samples into each stretch: the EEG and target step (1.004 s)
STEP_UV = 400.0


def _stretch_starts() -> list[int]:
    return [0, *(p - 1 for p in SEGMENTS)]


def _brainvision(eeg: Path, stem: str) -> None:
    """``{stem}.vhdr``/``.vmrk``/``.eeg``: 3 channels at 250 Hz, each stretch flat at its own
    level with a step of :data:`STEP_UV` at :data:`STEP_AT` samples into it."""
    eeg.mkdir(parents=True, exist_ok=True)
    header = ["Brain Vision Data Exchange Header File Version 1.0", "[Common Infos]",
              f"DataFile={stem}.eeg", f"MarkerFile={stem}.vmrk", "DataFormat=BINARY",
              "DataOrientation=MULTIPLEXED", "NumberOfChannels=3", "SamplingInterval=4000",
              "[Binary Infos]", "BinaryFormat=IEEE_FLOAT_32", "[Channel Infos]",
              "Ch1=Fp1,,1,µV", "Ch2=Cz,,1,µV", "Ch3=O1,,1,µV"]  # fmt: skip
    (eeg / f"{stem}.vhdr").write_text("\r\n".join(header) + "\r\n", encoding="utf-8")
    x = np.zeros(N_SAMPLES, dtype=np.float64)
    starts = _stretch_starts()
    for k, a in enumerate(starts):
        x[a:] = 100.0 * (k % 2)  # each stretch its own level: a DC step at each join
        x[a + STEP_AT :] += STEP_UV
    data = np.repeat(x[:, None], 3, axis=1).astype("<f4")
    (eeg / f"{stem}.eeg").write_bytes(data.tobytes())
    markers = [f"Mk{i}=New Segment,,{p},1,0" for i, p in enumerate((1, *SEGMENTS), 1)]
    lines = ["Brain Vision Data Exchange Marker File, Version 1.0", "[Common Infos]",
             "Codepage=UTF-8", f"DataFile={stem}.eeg", "[Marker Infos]", *markers]  # fmt: skip
    (eeg / f"{stem}.vmrk").write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")


def _step_target(paths: list[str], header: Any, options: dict[str, Any]) -> SidecarResult:
    """A target at the EEG's rate on its samples: 0, then 1 from :data:`STEP_AT` samples into
    each stretch (the header's joins give where each starts) to its end."""
    n = header.signals[0].n_samples
    starts = [0, *(round(t * SFREQ) for t in header.joins)]
    values = np.zeros(n, dtype=np.float32)
    for a, b in zip(starts, [*starts[1:], n], strict=True):
        values[a + STEP_AT : b] = 1.0
    return SidecarResult(targets={"step": (values[None, :], float(SFREQ))}, on_samples=True)


def _rise(x: np.ndarray) -> int:
    """The stored sample at which ``x`` (one stretch's) steps up: after its steepest rise."""
    return int(np.argmax(np.diff(x))) + 1


def test_a_target_steps_on_the_eeg_s_sample_in_every_stretch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from eegprep.corpus import sidecars

    monkeypatch.setitem(sidecars.load_parsers(), "step_target", _step_target)
    src = tmp_path / "src"
    _brainvision(src, "r")
    store, rec = ingest_one_with_target(tmp_path, src, "step_target", "step")
    eeg = np.asarray(store.read(rec.id))[0]
    target = np.asarray(store.read_target(rec.id, "step"))[0]
    assert target.shape == eeg.shape == (802 + 1202 + 1997,)  # each stretch rounded alone
    joins = list(rec.joins)
    assert joins == [802, 2004]
    edges = list(zip([0, *joins], [*joins, eeg.size], strict=True))
    # (the EEG's clear of the stretch's filtered edges)
    eeg_steps = [a + 20 + _rise(eeg[a + 20 : b - 20]) for a, b in edges]
    assert eeg_steps == [a + 201 for a, _ in edges]  # 1.004 s in: after 1.000 s, at 1.005 s
    assert [a + _rise(target[a:b]) for a, b in edges] == eeg_steps  # was [201, 1002, 2204]
    for a, b in edges:
        assert target[a] == 0.0 and target[b - 1] == 1.0  # nothing across a join


def test_each_stretch_is_resampled_alone_with_the_eeg_s_lengths() -> None:
    """Without the ingest: a target whose value is its time on the samples read, at 250 Hz,
    stored at 200 Hz over stretches of 801.6, 1201.6 and 1996.8 output samples (rounded to
    802, 1202, 1997, as the EEG's): each output sample holds its stretch's start plus its
    place in it; a continuous recording's target is as before, one stretch."""
    from eegprep.ingestion.labels import on_stretches

    times = np.arange(N_SAMPLES, dtype=np.float64)[None, :] / SFREQ
    starts = [a / SFREQ for a in _stretch_starts()]
    spans = list(zip(starts, (802, 1202, 1997), strict=True))
    out = on_stretches(times, SFREQ, 200.0, spans)[0]
    at = 0
    for k, (start, length) in enumerate(spans):
        expected = start + np.arange(length) / 200.0
        stop = starts[k + 1] if k + 1 < len(starts) else N_SAMPLES / SFREQ
        last = stop - 1 / SFREQ  # (its last sample's value held past it: none from the next)
        np.testing.assert_allclose(out[at : at + length], np.minimum(expected, last), atol=1e-5)
        at += length
    one = stored_targets(SidecarResult(targets={"t": (times, float(SFREQ))}), 4000, 200.0)["t"]
    np.testing.assert_allclose(one[0], np.arange(4000) / 200.0, atol=1e-5)
    short = stored_targets(SidecarResult(targets={"t": (times[:, :2500], 250.0)}), 4000, 200.0)
    assert (short["t"][0, 2000:] == 0).all() and short["t"][0, 1999] > 0  # zeros past its end
