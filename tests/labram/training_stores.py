"""Small stores for the training tests, written with eegprep's store writer directly."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from eegprep.pipeline.recipe import Recipe
from eegprep.store.encoding import choose_encoding
from eegprep.store.reader import Store
from eegprep.store.recording_writer import write_recording
from eegprep.store.writer import StoreWriter
from eegprep.testing.records import hand_record

TUAB_ORDER = "FP1 FP2 F3 F4 C3 C4 P3 P4 O1 O2 F7 F8 T3 T4 T5 T6 A1 A2 FZ CZ PZ T1 T2".split()


def put(
    writer: StoreWriter,
    rid: str,
    x: np.ndarray,
    channels: list[str],
    *,
    adc_step_uv: float | None = None,
    **extra: Any,
) -> None:
    """Write one recording: float32, or with ``adc_step_uv`` the default encoding of a source
    with that ADC step (the quantized integers)."""
    rec = hand_record(rid, channels, x.shape[1], **extra)
    if adc_step_uv is not None:
        rec = rec.replace(**choose_encoding("auto", [adc_step_uv] * len(channels)))
    staged = writer.staging_path()
    write_recording(
        writer.loc.url,
        staged,
        record=rec,
        channels=channels,
        n_samples=x.shape[1],
        blocks=iter([x]),
        sfreq=200.0,
        encoding=rec.encoding or "float32",  # as the ingest task writes it
        quantum=rec.quantum_uv,
    )
    writer.commit([(staged, rec)])


def eeg(rng: np.random.Generator, n_ch: int, seconds: float, abnormal: int = 0) -> np.ndarray:
    """Noise plus alpha; 'abnormal' adds strong 2 Hz slowing on the left channels."""
    n = int(seconds * 200)
    t = np.arange(n) / 200
    x = 20 * rng.standard_normal((n_ch, n)) + 15 * np.sin(
        2 * np.pi * 10 * t + rng.uniform(0, 6, (n_ch, 1))
    )
    if abnormal:
        x[: n_ch // 2] += 60 * np.sin(2 * np.pi * 2 * t + rng.uniform(0, 6, (n_ch // 2, 1)))
    return x.astype(np.float32)


def write_pretrain_store(
    path: Path,
    *,
    corpus: str = "tuh",
    n_subjects: int = 4,
    seconds: float = 120,
    seed: int = 0,
    adc_step_uv: float | None = None,
) -> str:
    """Recordings of 19 / 23 / 32 channels (three window shapes), one per subject; float32, or
    quantized for a source with ADC step ``adc_step_uv``."""
    rng = np.random.default_rng(seed)
    url = str(path)
    layouts = [
        TUAB_ORDER[:19],
        TUAB_ORDER,
        [*TUAB_ORDER, "CP1", "CP2", "CP5", "CP6", "FC1", "FC2", "FC5", "FC6", "POZ"],
    ]
    with StoreWriter(url, Recipe()) as w:
        for k in range(n_subjects):
            ch = list(layouts[k % 3])
            subj = f"s{k:03d}"
            put(
                w,
                f"{corpus}/{subj}_r0",
                eeg(rng, len(ch), seconds),
                ch,
                subject=subj,
                subject_key=f"{corpus}:{subj}",
                split="train",
                adc_step_uv=adc_step_uv,
            )
    return url


def write_tuab_like(
    path: Path,
    *,
    n_train: int = 16,
    n_eval: int = 6,
    seconds: float = 60,
    seed: int = 1,
    plant: Callable[[str, np.ndarray], None] | None = None,
    **extra: Any,
) -> str:
    """A TUAB-like store: 23 channels, label ``abnormal`` with a planted slowing signal;
    recordings ``tuab/{t|e}{k:03d}_s001_t000``. ``plant(rid, x)`` may change each recording's
    samples ``x`` (23, n) uV before it is written; ``extra``: more record fields."""
    rng = np.random.default_rng(seed)
    url = str(path)
    with StoreWriter(url, Recipe()) as w:
        for split, n in (("train", n_train), ("eval", n_eval)):
            for k in range(n):
                label = k % 2
                subj = f"{split[0]}{k:03d}"
                rid = f"tuab/{subj}_s001_t000"
                x = eeg(rng, 23, seconds, label)
                if plant is not None:
                    plant(rid, x)
                put(
                    w,
                    rid,
                    x,
                    list(TUAB_ORDER),
                    subject=subj,
                    subject_key=f"tuh:{subj}",
                    split=split,
                    labels={"abnormal": label},
                    **extra,
                )
    return url


def chunk_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The recordings whose chunks are read from now on (:meth:`Store.iter_chunks`), one entry
    per call, in order: to check what a step reads and what it takes on trust."""
    reads: list[str] = []
    real = Store.iter_chunks

    def counting(self: Store, rid: str, first: int, last: int):  # type: ignore[no-untyped-def]
        reads.append(rid)
        return real(self, rid, first, last)

    monkeypatch.setattr(Store, "iter_chunks", counting)
    return reads
