"""Ingest throughput: eegprep against LaBraM's MNE path, same files, one core each.

Writes a TUH-layout corpus of EDF files (19-64 channels, 250-1000 Hz, >= 1 hour in total),
then times

- reference: for each file ``mne.io.read_raw_edf(preload=True)``, pick EEG, ``filter(0.1, 75)``,
  ``notch_filter(60)``, ``resample(200)``, ``get_data(units="uV")``, written to HDF5 as float64
  (LaBraM's pre-training files); one process, files in a loop (interpreter start-up excluded);
- ours: ``eegprep.ingest`` with ``workers=0`` (one process) into a fresh store;

with BLAS/FFT threads pinned to one, and prints a table with hours of EEG per second per core
and the ratio, plus the relative RMS difference of the outputs (interior: 20 s from the edges
excluded, see docs/preprocessing.md) where MNE's resampling keeps time.

Run: ``python benchmarks/ingest.py [--hours 1.0] [--keep DIR]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import numpy as np  # noqa: E402

# (channels, rate Hz): the mix of rates and montages of real corpora
PLAN = [(21, 250), (23, 256), (33, 256), (19, 400), (64, 512), (31, 1000), (22, 250), (64, 500)]


def write_corpus(root: Path, hours: float, seed: int = 0) -> list[Path]:
    from eegprep.demo import subject_id
    from eegprep.edf_writer import write_edf
    from eegprep.synth import eeg_like

    sites = ("FP1 FP2 F3 F4 C3 C4 P3 P4 O1 O2 F7 F8 T3 T4 T5 T6 FZ CZ PZ A1 A2 FPZ OZ AF3 AF4 "
             "F1 F2 F5 F6 FC1 FC2 FC3 FC4 FC5 FC6 C1 C2 C5 C6 CP1 CP2 CP3 CP4 CP5 CP6 P1 P2 P5 "
             "P6 PO3 PO4 PO7 PO8 POZ FT7 FT8 TP7 TP8 AFZ FCZ CPZ O9 O10 IZ").split()  # fmt: skip
    rng = np.random.default_rng(seed)
    per_file = hours * 3600 / len(PLAN)
    paths = []
    for i, (n_ch, sfreq) in enumerate(PLAN):
        subj = subject_id(i)
        rel = f"edf/000/{subj}/s001_2015/01_tcp_ar/{subj}_s001_t000.edf"
        labels = [f"EEG {s}-REF" for s in sites[:n_ch]]
        n = int(per_file * sfreq)
        x = eeg_like(n_ch, n, sfreq, rng=rng, labels=labels)
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        write_edf(path, list(x.astype(np.float64)), labels=labels, sfreqs=[sfreq] * n_ch)
        paths.append(path)
    return paths


def reference(paths: list[Path], out: Path) -> tuple[float, dict[str, np.ndarray]]:
    import h5py
    import mne

    mne.set_log_level("error")
    keep: dict[str, np.ndarray] = {}
    t0 = time.perf_counter()
    with h5py.File(out, "w") as h5:
        for path in paths:
            raw = mne.io.read_raw_edf(path, preload=True)
            raw.pick("eeg")
            raw.filter(0.1, 75.0)
            raw.notch_filter(60.0)
            raw.resample(200)
            data = raw.get_data(units="uV")
            h5.create_dataset(path.stem, data=data)  # float64, as LaBraM's files
            keep[path.stem] = data[:4]
    return time.perf_counter() - t0, keep


def ours(root: Path, store: Path) -> float:
    from eegprep.ingest import IngestConfig, ingest

    t0 = time.perf_counter()
    rep = ingest("tuh", src=root, out=store, config=IngestConfig(workers=0, progress=False))
    elapsed = time.perf_counter() - t0
    if rep.failed or rep.n_ingested != len(PLAN):
        raise SystemExit(f"ingest failed: {rep.failed}")
    return elapsed


def compare(store: Path, keep: dict[str, np.ndarray]) -> dict[str, float]:
    from eegprep import open_store

    s = open_store(store)
    errs = {}
    for rec in s.recordings:
        ref = keep[rec.name]
        x = s.read(rec.id)[: ref.shape[0]]
        inner = slice(4000, -4000)
        d = x[:, inner] - ref[:, inner]
        errs[rec.name] = float(np.sqrt(np.mean(d**2)) / np.std(ref[:, inner]))
    return errs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=float, default=1.0, help="hours of EEG in the corpus")
    ap.add_argument("--keep", type=Path, help="write (or reuse) the corpus here")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="eegprep-bench-"))
    root = args.keep or work / "corpus"
    if not (root / "edf").exists():
        print(f"writing {args.hours} h corpus to {root} ...", flush=True)
        write_corpus(root, args.hours)
    paths = sorted(root.rglob("*.edf"))
    hours = args.hours
    t_ref, keep = reference(paths, work / "labram.h5")
    t_ours = ours(root, work / "store.zarr")
    errs = compare(work / "store.zarr", keep)
    rate_ref, rate_ours = hours / t_ref, hours / t_ours
    print(f"\n{'path':<34}{'seconds':>9}{'h EEG / s / core':>18}{'ratio':>8}")
    print(f"{'reference (MNE, LaBraM recipe)':<34}{t_ref:>9.2f}{rate_ref:>18.3f}{1.0:>8.2f}")
    print(f"{'eegprep ingest (1 process)':<34}{t_ours:>9.2f}{rate_ours:>18.3f}"
          f"{rate_ours / rate_ref:>8.2f}")  # fmt: skip
    print("\nrelative RMS difference to the reference (interior), per file:")
    for (n_ch, sfreq), path in zip(PLAN, paths):
        note = "" if sfreq in (256, 400, 512) else "  (MNE's FFT resampling stretches time here)"
        print(f"  {path.stem:<22}{n_ch:>3} ch {sfreq:>5} Hz  {errs[path.stem]:.2e}{note}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
