"""Ingest throughput: eegprep against LaBraM's MNE path, same files, one core each.

Writes a TUH-layout corpus of EDF files (by default 8 files of 19-64 channels at 250-1000 Hz;
``--corpus tuh``: TUH's own, 10-minute files of 22-33 channels at 250 and 256 Hz), then times

- reference: for each file ``mne.io.read_raw_edf(preload=True)``, ``filter(0.1, 75)``,
  ``notch_filter(60)``, ``resample(200)``, ``get_data(units="uV")``, written as LaBraM writes its
  pre-training files (one HDF5 group per recording, dataset ``eeg``, float64, chunks of
  ``(n_channels, 200)``, attributes ``lFreq``, ``hFreq``, ``rsFreq``, ``chOrder``); one process,
  files in a loop;
- ours: ``eegprep.ingestion.driver`` with ``workers=0`` (one process) into a fresh store;
- the physical limit: only what no ingest can avoid, in the same run: read and decode the same
  EDF files (eegprep's EDF reader, every sample once, in 120 s blocks, to float32 uV) and write
  the same bytes as our run's store (its files, held in memory beforehand) into a fresh folder;

each run in a fresh Python process pinned to one CPU (``sched_setaffinity``), BLAS/FFT threads
set to one. In that process the path first makes one untimed pass over the same corpus (into
another output), as the first files of any long ingest do: imports, one-time set-up (per-rate
filter designs) and the allocator's first growth are then out of the figure for both, which
measures the steady state of a corpus of thousands of files; ``--no-warmup`` times a cold
process instead. The two paths run ``--repeat`` times, alternating, and the fastest run of each
is reported. Prints hours of EEG per second per core and the ratio, the fraction of the
physical limit we reach (its time over ours), the store's size against the reference's HDF5
file, and the relative RMS difference of the outputs (interior: 20 s from the edges excluded,
see docs/preprocessing.md). The EDF files state TUH's physical range (+-4999.84 uV over 16 bits,
a 0.153 uV ADC step), which sets the default (``auto``) encoding's quantum.

Run: ``python benchmarks/ingest.py [--hours 1.0] [--repeat 3] [--no-warmup] [--keep DIR]
[--corpus mixed|tuh] [--encoding auto|float32|float16|quantized]`` (our store's encoding;
``auto`` by default: the quantized integers for these EDF files).
``--scaling`` prints instead the table of 0, 1 and 2 workers (wall and CPU) and the pool's
start-up (``benchmarks/ingest_scaling.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # inherited by the timed child processes

import numpy as np  # noqa: E402

# (channels, rate Hz): the mix of rates and montages of real corpora
PLAN = [(21, 250), (23, 256), (33, 256), (19, 400), (64, 512), (31, 1000), (22, 250), (64, 500)]
# TUH's own files: its montages' channel counts at 250 and 256 Hz, 10 minutes each (``--corpus
# tuh``: as many files as the hours need, these six in turn)
TUH_FILES = [(23, 250), (33, 256), (23, 256), (31, 250), (22, 250), (33, 256)]
TUH_FILE_MINUTES = 10.0
TUH_RANGE_UV = 4999.84  # TUH EDF files' physical maximum (and minus it, the minimum), uV
LIMIT_BLOCK_SECONDS = 120.0  # the physical limit's read blocks (our pipeline's output blocks)


def plan_for(corpus: str, hours: float) -> list[tuple[int, int]]:
    """The files of a corpus, ``(channels, rate Hz)`` each: ``mixed``, :data:`PLAN`; ``tuh``,
    :data:`TUH_FILES` in turn, one per :data:`TUH_FILE_MINUTES` of the ``hours``."""
    if corpus == "mixed":
        return list(PLAN)
    n = max(1, round(hours * 60 / TUH_FILE_MINUTES))
    return [TUH_FILES[i % len(TUH_FILES)] for i in range(n)]


def write_corpus(
    root: Path, hours: float, seed: int = 0, plan: list[tuple[int, int]] | None = None
) -> list[Path]:
    """The files of ``plan`` (default :data:`PLAN`), ``hours`` of EEG in all."""
    plan = PLAN if plan is None else plan
    from eegprep.testing.edf_writer import write_edf
    from eegprep.testing.synth import eeg_like
    from eegprep.testing.tuh_edf import subject_id

    sites = ("FP1 FP2 F3 F4 C3 C4 P3 P4 O1 O2 F7 F8 T3 T4 T5 T6 FZ CZ PZ A1 A2 FPZ OZ AF3 AF4 "
             "F1 F2 F5 F6 FC1 FC2 FC3 FC4 FC5 FC6 C1 C2 C5 C6 CP1 CP2 CP3 CP4 CP5 CP6 P1 P2 P5 "
             "P6 PO3 PO4 PO7 PO8 POZ FT7 FT8 TP7 TP8 AFZ FCZ CPZ O9 O10 IZ").split()  # fmt: skip
    rng = np.random.default_rng(seed)
    # whole seconds per file: an EDF holds whole 1 s records (--hours 0.05 gave 22.5 s files)
    per_file = max(1, int(hours * 3600 / len(plan)))
    paths = []
    for i, (n_ch, sfreq) in enumerate(plan):
        subj = subject_id(i)
        rel = f"edf/000/{subj}/s001_2015/01_tcp_ar/{subj}_s001_t000.edf"
        labels = [f"EEG {s}-REF" for s in sites[:n_ch]]
        n = int(per_file * sfreq)
        x = eeg_like(n_ch, n, sfreq, rng=rng, labels=labels)
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        write_edf(  # TUH's range: +-4999.84 uV over the 16-bit codes, 0.153 uV per step
            path,
            list(x.astype(np.float64)),
            labels=labels,
            sfreqs=[sfreq] * n_ch,
            physical_min=-TUH_RANGE_UV,
            physical_max=TUH_RANGE_UV,
        )
        paths.append(path)
    return paths


def reference(paths: list[Path], out: Path) -> float:
    import h5py
    import mne

    mne.set_log_level("error")
    t0 = time.perf_counter()
    with h5py.File(out, "w") as h5:
        for path in paths:
            raw = mne.io.read_raw_edf(path, preload=True)
            raw.filter(0.1, 75.0)
            raw.notch_filter(60.0)
            raw.resample(200)
            data = raw.get_data(units="uV")
            # LaBraM's layout (shock/utils h5Dataset): group per file, float64, (C, 200) chunks
            dset = h5.create_group(path.stem).create_dataset(
                "eeg", data=data, chunks=(data.shape[0], 200)
            )
            for key, value in (("lFreq", 0.1), ("hFreq", 75.0), ("rsFreq", 200)):
                dset.attrs[key] = value
            dset.attrs["chOrder"] = [name.upper() for name in raw.ch_names]
    return time.perf_counter() - t0


def physical_limit(paths: list[Path], store: Path, out: Path) -> float:
    """Seconds to read and decode every EDF file once and write ``store``'s bytes to ``out``
    (the files are read into memory first, untimed)."""
    from eegprep.readers.edf import EdfReader

    files = {p.relative_to(store): p.read_bytes() for p in sorted(store.rglob("*")) if p.is_file()}
    t0 = time.perf_counter()
    for path in paths:
        header = EdfReader.read_header(str(path))
        by_rate: dict[float, list[int]] = {}
        for i, sig in enumerate(header.signals):
            by_rate.setdefault(sig.sfreq, []).append(i)
        for sfreq, picks in by_rate.items():
            n = header.signals[picks[0]].n_samples
            step = int(LIMIT_BLOCK_SECONDS * sfreq)
            for a in range(0, n, step):
                EdfReader.read_segment(header, picks, a, min(n, a + step))
    for rel, blob in files.items():
        target = out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(blob)
    return time.perf_counter() - t0


def ours(root: Path, store: Path, encoding: str = "auto") -> float:
    from eegprep.ingestion.driver import IngestConfig, ingest
    from eegprep.pipeline.recipe import Recipe

    config = IngestConfig(workers=0, progress=False, recipe=Recipe(encoding=encoding))
    t0 = time.perf_counter()
    rep = ingest("tuh", src=root, out=store, config=config)
    elapsed = time.perf_counter() - t0
    if rep.failed or rep.n_ingested != len(list(root.rglob("*.edf"))):
        raise SystemExit(f"ingest failed: {rep.failed}")
    return elapsed


def compare(store: Path, h5_path: Path) -> dict[str, float]:
    import h5py

    from eegprep import open_store

    s = open_store(store)
    errs = {}
    with h5py.File(h5_path, "r") as h5:
        for rec in s.recordings:
            ref = h5[rec.name]["eeg"][:4]
            x = s.read(rec.id)[: ref.shape[0]]
            inner = slice(4000, -4000)
            d = x[:, inner] - ref[:, inner]
            errs[rec.name] = float(np.sqrt(np.mean(d**2)) / np.std(ref[:, inner]))
    return errs


def child(path_name: str, corpus: Path, out: Path, warmup: bool, encoding: str) -> None:
    """One timed run in this (fresh) process, after an untimed pass over the same corpus when
    ``warmup``; prints wall, user and system seconds as JSON."""
    if hasattr(os, "sched_setaffinity"):  # one core (Linux)
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

    def go(root: Path, target: Path) -> float:
        if path_name == "reference":
            return reference(sorted(root.rglob("*.edf")), target)
        if path_name == "limit":  # the bytes of our run's store, beside ``out``
            return physical_limit(sorted(root.rglob("*.edf")), out.with_name("store.zarr"), target)
        return ours(root, target, encoding)

    if warmup:
        go(corpus, out.with_name(out.name + ".warmup"))
    before = resource.getrusage(resource.RUSAGE_SELF)
    seconds = go(corpus, out)
    after = resource.getrusage(resource.RUSAGE_SELF)
    user, system = after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime
    print(json.dumps({"seconds": seconds, "user": user, "system": system}))


def _timed(
    path_name: str, corpus: Path, out: Path, warmup: bool, encoding: str
) -> dict[str, float]:
    """One run in a fresh process: wall ``seconds`` and CPU ``user`` and ``system`` seconds."""
    for f in (out, out.with_name(out.name + ".warmup")):
        shutil.rmtree(f, ignore_errors=True) if f.is_dir() else f.unlink(missing_ok=True)
    cmd = [sys.executable, __file__, "--child", path_name, "--keep", str(corpus), "--out", str(out)]
    cmd += ["--encoding", encoding]
    if not warmup:
        cmd.append("--no-warmup")
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{path_name} run failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _line(run: dict[str, float]) -> str:
    return f"{run['seconds']:.2f} s (cpu {run['user']:.2f} user + {run['system']:.2f} sys)"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=float, default=1.0, help="hours of EEG in the corpus")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each path; the fastest counts")
    ap.add_argument("--no-warmup", action="store_true", help="time imports and set-up too")
    ap.add_argument(
        "--encoding",
        default="auto",
        choices=("auto", "float32", "float16", "quantized"),
        help="our store's sample encoding",
    )
    ap.add_argument("--keep", type=Path, help="write (or reuse) the corpus here")
    ap.add_argument(
        "--corpus",
        default="mixed",
        choices=("mixed", "tuh"),
        help="mixed: 8 files of 19-64 channels at 250-1000 Hz; tuh: TUH's own, 10-minute "
        "files of 22-33 channels at 250 and 256 Hz",
    )
    ap.add_argument(
        "--scaling",
        action="store_true",
        help="instead: 0, 1 and 2 workers, wall and CPU, and the pool's start-up "
        "(benchmarks/ingest_scaling.py)",
    )
    ap.add_argument("--child", choices=("reference", "ours", "limit"), help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.keep, args.out, not args.no_warmup, args.encoding)
        return
    work = Path(tempfile.mkdtemp(prefix="eegprep-bench-"))
    try:  # the corpus (unless --keep), the stores and the HDF5 file: ~0.6 GB an hour
        run(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(args: argparse.Namespace, work: Path) -> None:
    """Write the corpus under ``work`` (unless ``--keep``) and print the tables."""
    root = args.keep or work / "corpus"
    if not (root / "edf").exists():
        print(f"writing {args.hours} h corpus to {root} ...", flush=True)
        write_corpus(root, args.hours, plan=plan_for(args.corpus, args.hours))
    if args.scaling:
        from ingest_scaling import scaling

        scaling(root, work, args.hours, args.repeat)
        return
    paths = sorted(root.rglob("*.edf"))
    hours = args.hours
    warm = not args.no_warmup
    t_ref = t_ours = t_lim = float("inf")
    for run in range(args.repeat):
        ref = _timed("reference", root, work / "labram.h5", warm, args.encoding)
        our = _timed("ours", root, work / "store.zarr", warm, args.encoding)
        lim = _timed("limit", root, work / "limit", warm, args.encoding)
        t_ref, t_ours = min(t_ref, ref["seconds"]), min(t_ours, our["seconds"])
        t_lim = min(t_lim, lim["seconds"])
        print(
            f"run {run + 1}: reference {_line(ref)}, eegprep {_line(our)}, limit {_line(lim)}",
            flush=True,
        )
    errs = compare(work / "store.zarr", work / "labram.h5")
    rate_ref, rate_ours = hours / t_ref, hours / t_ours
    print(f"\n{'path':<44}{'seconds':>9}{'h EEG / s / core':>18}{'ratio':>8}")
    print(f"{'reference (MNE, LaBraM recipe)':<44}{t_ref:>9.2f}{rate_ref:>18.3f}{1.0:>8.2f}")
    print(f"{'eegprep ingest (' + args.encoding + ')':<44}{t_ours:>9.2f}{rate_ours:>18.3f}"
          f"{rate_ours / rate_ref:>8.2f}")  # fmt: skip
    name = "physical limit (decode EDF, write the bytes)"
    print(f"{name:<44}{t_lim:>9.2f}{hours / t_lim:>18.3f}{t_ref / t_lim:>8.2f}")
    print(f"\neegprep reaches {t_lim / t_ours:.2f} of the physical limit (its time / ours)")
    size = sum(
        p.stat().st_size for p in (work / "store.zarr" / "recordings").rglob("*") if p.is_file()
    )
    h5_size = (work / "labram.h5").stat().st_size
    print(f"store size: {size / 1e6:.1f} MB, {size / h5_size:.3f} of the reference's float64 "
          f"HDF5 ({h5_size / 1e6:.1f} MB)")  # fmt: skip
    print("\nrelative RMS difference to the reference (interior), per file:")
    for (n_ch, sfreq), path in zip(plan_for(args.corpus, hours), paths, strict=True):
        note = "" if sfreq in (256, 400, 512) else "  (MNE's FFT resampling stretches time here)"
        print(f"  {path.stem:<22}{n_ch:>3} ch {sfreq:>5} Hz  {errs[path.stem]:.2e}{note}")


if __name__ == "__main__":
    main()
