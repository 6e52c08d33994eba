"""Peak memory of ingesting one long recording: eegprep against LaBraM's MNE path.

Writes one EDF of ``--hours`` (default 2) x 64 channels x 1000 Hz in the TUH layout (written
record block by record block, so the generator stays small), then runs, each in a fresh
process, ``eegprep ingest`` (one process) and, with ``--with-mne``, the MNE path
(``read_raw_edf(preload=True)``, ``filter``, ``notch_filter``, ``resample``, ``get_data``), and
prints each one's peak resident memory (``ru_maxrss``) and wall time.

Run: ``python benchmarks/memory.py [--hours 2] [--with-mne] [--keep DIR]``.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SITES = (
    "FP1 FP2 F3 F4 C3 C4 P3 P4 O1 O2 F7 F8 T3 T4 T5 T6 FZ CZ PZ FPZ OZ AF3 AF4 F1 F2 F5 F6 "
    "FC1 FC2 FC3 FC4 FC5 FC6 C1 C2 C5 C6 CP1 CP2 CP3 CP4 CP5 CP6 P1 P2 P5 P6 PO3 PO4 PO7 "
    "PO8 POZ FT7 FT8 TP7 TP8 AFZ FCZ CPZ O9 O10 IZ A1 A2"
).split()
REL = "edf/000/aaaaaaaa/s001_2015/01_tcp_ar/aaaaaaaa_s001_t000.edf"


def write_long_edf(path: Path, hours: float, n_ch: int = 64, sfreq: int = 1000) -> None:
    from eegprep.testing.edf_writer import edf_header_bytes
    from eegprep.testing.synth import eeg_like

    labels = [f"EEG {s}-REF" for s in SITES[:n_ch]]
    n_records = int(hours * 3600)
    head = edf_header_bytes(
        labels=labels,
        samples_per_record=[sfreq] * n_ch,
        n_records=n_records,
        physical_min=[-3276.8] * n_ch,
        physical_max=[3276.7] * n_ch,
        digital_min=[-32768] * n_ch,
        digital_max=[32767] * n_ch,
    )
    rng = np.random.default_rng(0)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(head)
        for _ in range(0, n_records, 60):  # one minute of records at a time
            x = eeg_like(n_ch, 60 * sfreq, sfreq, rng=rng, labels=labels)
            dig = np.clip(np.round(x * 10), -32768, 32767).astype("<i2")  # 0.1 uV per count
            # records: (60, n_ch, sfreq) in file order
            fh.write(dig.reshape(n_ch, 60, sfreq).transpose(1, 0, 2).tobytes())


OURS = """
import sys
from eegprep.ingestion.driver import IngestConfig, ingest
cfg = IngestConfig(workers=0, progress=False)
rep = ingest("tuh", src=sys.argv[1], out=sys.argv[2], config=cfg)
assert rep.n_ingested == 1, rep.failed
"""

MNE = """
import sys, mne
raw = mne.io.read_raw_edf(sys.argv[1] + "/" + sys.argv[3], preload=True, verbose="error")
raw.filter(0.1, 75.0, verbose="error")
raw.notch_filter(60.0, verbose="error")
raw.resample(200, verbose="error")
x = raw.get_data(units="uV")
"""


def measure(code: str, *args: str) -> tuple[float, float]:
    """(peak RSS in MB, wall seconds) of ``python -c code args`` in a fresh process."""
    t0 = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    subprocess.run([sys.executable, "-c", code, *args], check=True)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if peak <= before:
        raise RuntimeError("ru_maxrss did not change: run one measurement per process")
    return peak / 1024, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=float, default=2.0)
    ap.add_argument("--with-mne", action="store_true", help="also measure the MNE path")
    ap.add_argument("--keep", type=Path, help="write (or reuse) the corpus here")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="eegprep-mem-"))
    try:  # the corpus (unless --keep) and the store: ~1.1 GB for 2 h
        root = args.keep or work / "corpus"
        if not (root / REL).exists():
            print(f"writing {args.hours} h x 64 ch x 1000 Hz EDF ...", flush=True)
            write_long_edf(root / REL, args.hours)
        size_gb = (root / REL).stat().st_size / 1e9
        rows = [("eegprep ingest (1 process)", *measure(OURS, str(root), str(work / "s.zarr")))]
        if args.with_mne:
            # RUSAGE_CHILDREN keeps the largest child so far: measure MNE last
            rows.append(("MNE path (LaBraM recipe)", *measure(MNE, str(root), "", REL)))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"\none EDF: {args.hours:g} h x 64 ch x 1000 Hz, {size_gb:.2f} GB")
    print(f"{'path':<30}{'peak RSS (MB)':>15}{'seconds':>10}")
    for name, rss, secs in rows:
        print(f"{name:<30}{rss:>15.0f}{secs:>10.1f}")


if __name__ == "__main__":
    main()
