"""Cost of the pre-training stages' up-front check for samples that are not finite.

``labram pretrain`` and ``labram tokenizer`` look for NaN and infinite samples in their windows
before their first step (``labram.stages.train_tokenizer.pretrain_windows``). A recording whose
record vouches for its samples (an ingest's ``qc``, the quantized encoding) is not read; any
other is read, chunk by chunk. This writes float32 stores of ``--recordings`` 23-channel noise
recordings of ``--seconds`` each, once with ``qc`` and once without (a store written by another
tool), and prints, as JSON, the seconds the window index and the check take on each (and on
``--store``, an ingested store such as the demo's, when given).

Run: ``python benchmarks/finite_check.py [--recordings 24 --seconds 1800] [--store demo.zarr]``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

SITES = "FP1 FP2 F3 F4 C3 C4 P3 P4 O1 O2 F7 F8 T3 T4 T5 T6 A1 A2 FZ CZ PZ T1 T2".split()


def write_store(url: Path, n: int, seconds: float, *, qc: bool) -> str:
    """``n`` float32 recordings of 20 uV noise, ``seconds`` long; with an ingest's ``qc`` and
    ``encoding`` or with neither."""
    from eegprep.pipeline.recipe import Recipe
    from eegprep.store.recording_writer import write_recording
    from eegprep.store.writer import StoreWriter
    from eegprep.testing.records import hand_record

    rng = np.random.default_rng(0)
    # with qc: as an ingest writes it (its encoding stated); without: as another tool might
    qc_entry = {"median_rms_uv": 20.0, "rms_uv": [20.0] * len(SITES)}  # (bounds the samples)
    extra: dict[str, Any] = {"qc": qc_entry, "encoding": "float32"} if qc else {}
    with StoreWriter(str(url), Recipe()) as w:
        for k in range(n):
            x = (20 * rng.standard_normal((len(SITES), int(seconds * 200)))).astype(np.float32)
            rec = hand_record(f"tuh/s{k:05d}", SITES, x.shape[1], subject=f"s{k}",
                              subject_key=f"tuh:s{k}", split="train", **extra)  # fmt: skip
            staged = w.staging_path()
            write_recording(w.loc.url, staged, record=rec, channels=SITES, n_samples=x.shape[1],
                            blocks=iter([x]), sfreq=200.0, encoding="float32",
                            quantum=None)  # fmt: skip
            w.commit([(staged, rec)])
    return str(url)


def measure(url: str) -> dict[str, float]:
    """Seconds to build the base-size pre-training index of ``url``, and to check it."""
    from labram.data.finite_windows import check_finite_splits
    from labram.data.windows import build_pretrain_index
    from labram.stages.train_tokenizer import window_config
    from labram.train.config import train_config

    t = time.perf_counter()
    index = build_pretrain_index([url], window_config(train_config("pretrain", "base")))
    built = time.perf_counter() - t
    t = time.perf_counter()
    check_finite_splits({"pre-training": index}, what="benchmark")
    checked = time.perf_counter() - t
    hours = sum(int(r.n_samples) for r in index.opened[0].recordings) / 200 / 3600
    return {"recordings": len(index.recordings), "hours": round(hours, 3), "windows": len(index),
            "index_s": round(built, 4), "check_s": round(checked, 4)}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--recordings", type=int, default=24)
    ap.add_argument("--seconds", type=float, default=1800.0)
    ap.add_argument("--store", help="an ingested store to measure too (the demo's)")
    args = ap.parse_args()
    out: dict[str, Any] = {}
    if args.store:
        out["given"] = measure(args.store)
    tmp = Path(tempfile.mkdtemp(prefix="finite-check-"))
    try:
        for qc in (True, False):
            url = write_store(tmp / f"qc{qc}.zarr", args.recordings, args.seconds, qc=qc)
            out["with_qc" if qc else "without_qc"] = measure(url)
    finally:
        shutil.rmtree(tmp)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
