"""Store size and training-window reads: our store and dataset against LaBraM's HDF5 layout.

Builds one corpus (``--recordings`` x ``--minutes`` of 23-channel EEG-like signal at 200 Hz)
twice: as an eegprep store and as LaBraM's pre-training layout (one float64 HDF5 dataset per
recording, channels x samples, uncompressed, contiguous: the fastest way to lay out LaBraM's
files, so the harder reference; LaBraM's own writer chunks them by (channels, 200), which is
also timed). Then prints

1. bytes per hour of EEG, and the ratio: the default store (``auto``: TUH's EDF files have an
   ADC step, so the quantized integers) and float32;
2. warm page cache: random 23 x 800 (4 s) windows per second read with h5py, against our
   dataset delivering the same 4 s windows through the training pipeline (shuffled, bucketed
   batches of 64) from the default store and from float32, in one process (two threads) and
   with 0, 1 and 2 dataloader workers (persistent: started once), in turn, three rounds, the
   fastest of each. Each loader's first epoch (imports, workers' start-up) is untimed and
   printed beside it for workers; the fastest of the next epochs counts, with a 64 MB chunk
   cache, a quarter of the corpus, so that each epoch reads and decodes again (a real corpus
   does not fit in memory). Also our default
   256-token windows; 4 s windows sampled in 120 s blocks (``block_seconds``; the default is
   300 s) with pools of 8 batches, the previous defaults; one thread instead of two; and a
   later epoch of a corpus the default 512 MB cache holds;
3. storage-bound: bytes read from storage per window (h5py: the window's own bytes; ours: the
   compressed blocks read, over a whole shuffled epoch);
4. the time to open a store listing 100,000 recordings (records shaped as a TUH ingest writes
   them, ~1.4 kB each) and build its window index, in a fresh process (as a training run
   starts), fastest of three.

Run: ``python benchmarks/loader.py [--recordings 24] [--minutes 10]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

N_CH, SFREQ = 23, 200
SITES = "FP1 FP2 F3 F4 C3 C4 P3 P4 O1 O2 F7 F8 T3 T4 T5 T6 A1 A2 FZ CZ PZ T1 T2".split()


def _dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


TUH_RESOLUTION_UV = 9999.68 / 65535  # TUH EDF: +-4999.84 uV over 16 bits, ~0.153 uV per step


def build(work: Path, n_rec: int, minutes: float) -> tuple[Path, Path, Path]:
    import h5py

    from eegprep.pipeline.recipe import Recipe
    from eegprep.store.encoding import choose_encoding
    from eegprep.store.recording_writer import write_recording
    from eegprep.store.writer import StoreWriter
    from eegprep.testing.records import hand_record
    from eegprep.testing.synth import eeg_like

    store, h5 = work / "store.zarr", work / "labram.h5"
    qstore = work / "quantized.zarr"
    rng = np.random.default_rng(0)
    n = int(minutes * 60 * SFREQ)
    quantized = choose_encoding("auto", [TUH_RESOLUTION_UV] * N_CH)  # TUH's EDF: quantized
    with (
        StoreWriter(str(store), Recipe(encoding="float32")) as w,
        StoreWriter(str(qstore), Recipe()) as wq,  # the default, auto: quantized for TUH's EDF
        h5py.File(h5, "w") as f,
        h5py.File(h5.with_name("labram_chunked.h5"), "w") as fc,
    ):
        for i in range(n_rec):
            x = eeg_like(N_CH, n, SFREQ, rng=rng, labels=SITES, line_hz=None)
            rid, name = f"bench/rec{i:04d}", f"rec{i:04d}"
            rec = hand_record(
                rid, SITES, n, sfreq=float(SFREQ), subject=name, subject_key=f"bench:{name}"
            )
            plain = rec.replace(**choose_encoding("float32", []))
            for writer, url, r in ((w, store, plain), (wq, qstore, rec.replace(**quantized))):
                staged = writer.staging_path()
                blocks = iter(np.array_split(x, max(1, n // 12000), axis=1))
                write_recording(
                    str(url),
                    staged,
                    record=r,
                    channels=SITES,
                    n_samples=n,
                    blocks=blocks,
                    sfreq=float(SFREQ),
                    encoding=r.encoding,
                    quantum=r.quantum_uv,
                )
                writer.commit([(staged, r)])
            f.create_dataset(name, data=x.astype(np.float64))
            # LaBraM's writer as released: a group per file, dataset "eeg", (C, 200) chunks
            fc.create_group(name).create_dataset(
                "eeg", data=x.astype(np.float64), chunks=(N_CH, SFREQ)
            )
    return store, qstore, h5


def h5_windows_per_s(h5: Path, n_windows: int = 20000, dataset: str = "") -> float:
    """Random 23 x 800 windows per second; ``dataset``: the name inside each group, if any."""
    import h5py

    rng = np.random.default_rng(1)
    with h5py.File(h5, "r") as f:
        dsets = [f[k][dataset] if dataset else f[k] for k in sorted(f)]
        n = dsets[0].shape[1]
        picks = rng.integers(0, len(dsets), n_windows)
        starts = rng.integers(0, n - 800, n_windows)
        t0 = time.perf_counter()
        for d, s in zip(picks, starts):
            x = dsets[d][:, s : s + 800]
        assert x.shape == (N_CH, 800)
        return n_windows / (time.perf_counter() - t0)


CACHE_MB = 64.0
"""The chunk cache of the timed datasets, MB: a quarter of the corpus's decoded samples, so that
every epoch reads and decodes its chunks again, as with a corpus larger than memory."""


def ours_windows_per_s(
    store: Path,
    token_budget: int,
    workers: int,
    block_seconds: int | None = None,
    helper_thread: bool = True,
    repeat: int = 3,
) -> tuple[float, float, int, float]:
    """(windows/s, bytes read per window, windows, first epoch's windows/s) of one loader: the
    fastest of ``repeat`` epochs after its first (untimed, as it starts any workers; imports
    done), with a :data:`CACHE_MB` chunk cache; the training defaults unless ``block_seconds``
    is given (then with the pool size that mixes as many blocks per pool as the defaults
    do)."""
    from labram.data.loader import WindowDataset, make_loader
    from labram.data.sampler import BatchPlan
    from labram.data.windows import WindowConfig, build_pretrain_index

    default = WindowConfig(token_budget=token_budget)
    seconds = default.block_seconds if block_seconds is None else block_seconds
    cfg = WindowConfig(token_budget=token_budget, block_seconds=seconds)
    pool = max(1, round(20 * seconds / default.block_seconds))  # 20: BatchPlan's default
    index = build_pretrain_index([str(store)], cfg)
    plan = BatchPlan(index, batch_size=64, seed=0, pool_batches=pool)
    ds = WindowDataset(plan, helper_thread=helper_thread, cache_mb=CACHE_MB)
    loader = make_loader(ds, num_workers=workers)
    n, secs = _timed_epoch(ds, loader, 0)
    first, best, total = n / secs, 0.0, n
    for epoch in range(1, repeat + 1):
        n, secs = _timed_epoch(ds, loader, epoch)
        best, total = max(best, n / secs), total + n
    per_window = float("nan")
    if workers == 0:
        data_bytes = _dir_bytes(store / "recordings")
        total_samples = sum(p.n_samples for p in _recordings(store))
        per_window = ds.reader.samples_read / total_samples * data_bytes / max(total, 1)
    return best, per_window, n, first


def _timed_epoch(ds: Any, loader: Any, epoch: int) -> tuple[int, float]:
    """Windows of epoch ``epoch`` through ``loader``, and the seconds they took."""
    ds.set_epoch(epoch)
    t0 = time.perf_counter()
    n = sum(batch["x"].shape[0] for batch in loader)
    return n, time.perf_counter() - t0


def cached_windows_per_s(store: Path, token_budget: int) -> float:
    """Windows/s of a later epoch when the whole corpus fits in the reader's chunk cache (the
    third epoch of one dataset: every chunk decoded once, in the first)."""
    from labram.data.loader import WindowDataset, make_loader
    from labram.data.sampler import BatchPlan
    from labram.data.windows import WindowConfig, build_pretrain_index

    index = build_pretrain_index([str(store)], WindowConfig(token_budget=token_budget))
    ds = WindowDataset(BatchPlan(index, batch_size=64, seed=0))
    loader = make_loader(ds)
    rate = 0.0
    for epoch in range(3):
        n, secs = _timed_epoch(ds, loader, epoch)
        rate = n / secs
    if ds.reader.samples_read > sum(p.n_samples for p in _recordings(store)):
        return float("nan")  # it did not fit
    return rate


def _recordings(store: Path) -> list:
    from eegprep import open_store

    return open_store(store).recordings


def _tuh_like_record(i: int) -> Any:
    """Recording ``i``'s index record as an ingest of a 20-minute TUH EDF file writes it: its
    source file's size, time and BLAKE3 hash, per-channel QC, labels (~1.4 kB of JSON)."""
    from eegprep.testing.records import hand_record

    name, subject = f"r{i:06d}", f"s{i // 10:05d}"
    digest = f"{i:064x}"
    source = f"edf/000/{subject}/s001_2015/01_tcp_ar/{name}.edf"
    return hand_record(
        f"big/{name}", SITES, 240_000, subject=subject, subject_key=f"big:{subject}",
        session="s001", labels={"montage": "01_tcp_ar"}, source=source,
        source_size=8_400_000, source_mtime_ns=1_700_000_000_000_000_000 + i,
        source_files=[{"path": source, "size": 8_400_000, "blake3": digest,
                       "mtime_ns": 1_700_000_000_000_000_000 + i}],
        orig_sfreq=250.0, orig_duration_s=1200.0, mains_hz=60.0, encoding="quantized",
        quantum_uv=0.01907316700999466, max_error_uv=0.00953658350499733,
        recipe_hash="ca562e07e438a0db", band_hz=(0.1, 75.0), manifest_hash="1a557eec9251",
        qc={"clipped_channels": [], "flat_channels": [], "median_rms_uv": 37.163,
            "line_noise_db": {"50": 1.1, "60": 19.99},
            "rms_uv": [round(30.0 + (7 * i + c) % 29, 4) for c in range(len(SITES))]},
    )  # fmt: skip


def open_100k(work: Path) -> tuple[float, int]:
    """Seconds to open a store listing 100,000 recordings and build its window index."""
    from eegprep.pipeline.recipe import Recipe
    from eegprep.store.index import append, compact
    from eegprep.store.writer import StoreWriter

    url = work / "big.zarr"
    with StoreWriter(str(url), Recipe()) as w:
        rows = [_tuh_like_record(i) for i in range(100_000)]
        for k in range(0, len(rows), 10_000):
            append(w.loc, rows[k : k + 10_000])
        compact(w.loc)
    # timed in a fresh process, as a training run starting on the store (imports untimed)
    code = (
        "import sys, time, json; from eegprep.store.reader import open_store; "
        "from labram.data.windows import build_pretrain_index; t0 = time.perf_counter(); "
        "index = build_pretrain_index([open_store(sys.argv[1])]); "
        "print(json.dumps([time.perf_counter() - t0, len(index)]))"
    )
    runs = []
    for _ in range(3):
        out = subprocess.run(
            [sys.executable, "-c", code, str(url)], capture_output=True, text=True, check=True
        )
        runs.append(json.loads(out.stdout))
    return min(r[0] for r in runs), runs[0][1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--recordings", type=int, default=24)
    ap.add_argument("--minutes", type=float, default=10.0)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="eegprep-loader-"))
    try:
        run(work, args.recordings, args.minutes)
    finally:  # the stores, the HDF5 files and the 100k-recording store: ~1.4 GB
        shutil.rmtree(work, ignore_errors=True)


def run(work: Path, recordings: int, minutes: float) -> None:
    """Build the corpora under ``work`` and print the four sections."""
    store, qstore, h5 = build(work, recordings, minutes)
    hours = recordings * minutes / 60
    ours_b, h5_b = _dir_bytes(store / "recordings") / hours, h5.stat().st_size / hours
    q_b = _dir_bytes(qstore / "recordings") / hours
    print(f"\n1. size, {hours:.1f} h of 23-channel EEG at 200 Hz")
    print(f"   LaBraM HDF5 float64:        {h5_b / 1e6:8.1f} MB/h")
    print(f"   eegprep default (TUH ADC):  {q_b / 1e6:8.1f} MB/h   ratio {q_b / h5_b:.3f}")
    print(f"   eegprep float32:            {ours_b / 1e6:8.1f} MB/h   ratio {ours_b / h5_b:.3f}")
    print("\n2. warm page cache, windows per second (one process unless stated)")
    # the references and our default, alternating three times: the fastest of each
    h5_rate = chunked = ours_default = 0.0
    for _ in range(3):
        h5_rate = max(h5_rate, h5_windows_per_s(h5))
        chunked = max(chunked, h5_windows_per_s(h5.with_name("labram_chunked.h5"), dataset="eeg"))
        ours_default = max(ours_default, ours_windows_per_s(qstore, N_CH * 4, 0, repeat=1)[0])
    print(f"   {'reader':<52}{'windows/s':>10}{'vs h5py':>9}{'vs LaBraM':>11}")
    row = h5_rate / chunked
    print(f"   {'h5py, random 23 x 800 float64':<52}{h5_rate:>10.0f}{1.0:>9.2f}{row:>11.2f}")
    name = "h5py, same, LaBraM's (23, 200)-chunked files"
    print(f"   {name:<52}{chunked:>10.0f}{chunked / h5_rate:>9.2f}{1.0:>11.2f}")
    storage: dict[str, float] = {}
    # 0, 1 and 2 workers in turn, three rounds: the fastest of each (the VM's speed drifts)
    best = {0: ours_default, 1: 0.0, 2: 0.0}
    firsts: dict[int, float] = {}
    for _ in range(3):
        for workers in (0, 1, 2):
            rate, per_w, _, first = ours_windows_per_s(qstore, N_CH * 4, workers)
            best[workers] = max(best[workers], rate)
            firsts.setdefault(workers, first)
            storage.setdefault("q4s", per_w)
    for workers, rate in best.items():
        name = f"eegprep dataset, 23 x 800 default, {workers} workers"
        started = f"   (first epoch, starting them: {firsts[workers]:.0f})" if workers else ""
        print(f"   {name:<52}{rate:>10.0f}{rate / h5_rate:>9.2f}{rate / chunked:>11.2f}{started}")
    rate = ours_windows_per_s(qstore, N_CH * 4, 0, helper_thread=False)[0]
    name = "eegprep dataset, same, 0 workers, one thread"
    print(f"   {name:<52}{rate:>10.0f}{rate / h5_rate:>9.2f}{rate / chunked:>11.2f}")
    rate = cached_windows_per_s(qstore, N_CH * 4)
    name = "eegprep dataset, same, later epoch, corpus cached"
    print(f"   {name:<52}{rate:>10.0f}{rate / h5_rate:>9.2f}{rate / chunked:>11.2f}")
    rate, storage["4s"], _, _ = ours_windows_per_s(store, N_CH * 4, 0)
    name = "eegprep dataset, 23 x 800 float32, 0 workers"
    print(f"   {name:<52}{rate:>10.0f}{rate / h5_rate:>9.2f}{rate / chunked:>11.2f}")
    rate, per_w, _, _ = ours_windows_per_s(qstore, 256, 0)
    storage["11s"] = per_w
    name = "eegprep dataset, 256-token (23 x 2200), 0 workers"
    print(f"   {name:<52}{rate:>10.0f}{rate / h5_rate:>9.2f}{rate / chunked:>11.2f}")
    rate, _, _, _ = ours_windows_per_s(qstore, N_CH * 4, 0, block_seconds=120)
    name = "eegprep dataset, 23 x 800, 0 workers, 120 s blocks"
    print(f"   {name:<52}{rate:>10.0f}{rate / h5_rate:>9.2f}{rate / chunked:>11.2f}")
    h5_per = N_CH * 800 * 8
    print("\n3. storage-bound: bytes read per window")
    print(f"   h5py, 23 x 800 float64:            {h5_per / 1e3:8.1f} kB")
    print(
        f"   eegprep default, 4 s windows:      {storage['q4s'] / 1e3:8.1f} kB   "
        f"ratio {storage['q4s'] / h5_per:.3f}"
    )
    print(f"   eegprep default, 11 s windows:     {storage['11s'] / 1e3:8.1f} kB")
    print(
        f"   eegprep float32, 4 s windows:      {storage['4s'] / 1e3:8.1f} kB   "
        f"ratio {storage['4s'] / h5_per:.3f}"
    )
    secs, n_win = open_100k(work)
    print(
        f"\n4. open a 100,000-recording store and build its window index: {secs:.2f} s "
        f"({n_win:,} windows; fastest of 3 fresh processes)"
    )


if __name__ == "__main__":
    main()
