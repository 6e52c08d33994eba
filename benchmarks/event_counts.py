"""What a recording's own events cost an ingest, in every format that carries them.

Writes one recording per format (2 channels at 200 Hz, ``N`` + 200 samples rounded up to whole
seconds, an event at each sample from the second, labels cycling over three) with each of
``--counts`` events: EDF+ and BDF+
annotations (TALs), a GDF event table, FIF annotations, a Neuroscan CNT event table, a
BrainVision marker file and an EEGLAB ``.set`` (MAT v5, ``EEG.event`` with type, latency and
duration), and two sidecars beside an EDF without annotations: a TUH label file (``.csv_bi``,
ingested as ``tusz``) and a BIDS ``events.tsv`` (ingested as ``bids``), a row per event. Then
ingests each alone (``eegprep ingest folder --workers 0``) in a fresh process
and prints its wall time, its peak resident memory (``VmHWM``) and what the ingest said
(``ingested`` where the recording was stored, ``nothing ingested`` where it was not and no
line said why, or the line refusing the file). A count over
:data:`~eegprep.readers.event_count.MAX_EVENTS` is refused from the file's own count.

Run: ``python benchmarks/event_counts.py [--counts 100000 1000000] [--formats edf gdf ...]``.
"""

from __future__ import annotations

import argparse
import json
import resource
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SFREQ = 200
LABELS = ["Fp1", "Fp2"]
FORMATS = ("edf", "bdf", "gdf", "fif", "cnt", "vhdr", "set", "tuh-csv", "bids-tsv")
CORPUS = {"tuh-csv": "tusz", "bids-tsv": "bids"}  # the rest: "folder"
_PEAK = (
    "import atexit, runpy, sys\n"
    "def peak():\n"
    "    with open('/proc/self/status') as fh:\n"
    "        kb = [line.split()[1] for line in fh if line.startswith('VmHWM:')][0]\n"
    "    print('VMHWM_KB', kb, file=sys.stderr)\n"
    "atexit.register(peak)\n"
    "sys.argv = ['eegprep', *sys.argv[1:]]\n"
    "runpy.run_module('eegprep', run_name='__main__')\n"
)


def write(fmt: str, n: int, folder: Path) -> None:
    """One recording of ``fmt`` with ``n`` events in ``folder``."""
    folder.mkdir(parents=True)
    n_samples = (n // SFREQ + 2) * SFREQ  # whole 1 s records (EDF, GDF)
    x = np.random.default_rng(0).standard_normal((2, n_samples)) * 10
    names = ("stim", "resp", "7")
    if fmt in ("edf", "bdf"):
        from eegprep.testing.edf_writer import write_edf

        notes = [((i + 2) / SFREQ, None if i % 2 else 0.02, names[i % 3]) for i in range(n)]
        write_edf(folder / f"rec.{fmt}", list(x), labels=LABELS, sfreqs=SFREQ, edf_plus=True,
                  bdf=fmt == "bdf", annotations=notes)  # fmt: skip
    elif fmt == "gdf":
        from eegprep.testing.fixtures.gdf_writer import write_gdf

        path = write_gdf(folder / "rec.gdf", x, LABELS, SFREQ)
        body = path.read_bytes()[:-8]  # the writer's empty event table
        head = struct.pack("<B3sI", 1, SFREQ.to_bytes(3, "little"), n)
        positions = np.arange(1, n + 1, dtype="<u4").tobytes()
        codes = (np.arange(n) % 3 + 1).astype("<u2").tobytes()
        path.write_bytes(body + head + positions + codes)
    elif fmt == "fif":
        import mne

        raw = mne.io.RawArray(x * 1e-6, mne.create_info(LABELS, float(SFREQ), "eeg"), verbose=0)
        onsets = (np.arange(n) + 2) / SFREQ
        raw.set_annotations(mne.Annotations(onsets, np.zeros(n), np.array(names)[np.arange(n) % 3]))
        raw.save(folder / "rec_raw.fif", verbose="error")
    elif fmt == "cnt":
        from eegprep.testing.fixtures.cnt_writer import write_cnt

        write_cnt(
            folder / "rec.cnt", x, LABELS, SFREQ, events=[(i + 1, i % 3 + 1) for i in range(n)]
        )
    elif fmt == "vhdr":
        _write_brainvision(folder, x, n)
    elif fmt in CORPUS:
        _write_sidecar(fmt, folder, x, n, names)
    else:
        _write_set(folder, x, n, names)


def _write_brainvision(folder: Path, x: np.ndarray, n: int) -> None:
    """A float32 BrainVision recording whose marker file holds a ``New Segment`` at the first
    sample and ``n - 1`` stimulus markers (``n`` markers in all)."""
    (folder / "rec.eeg").write_bytes(x.T.astype("<f4").tobytes())
    (folder / "rec.vhdr").write_text(
        "Brain Vision Data Exchange Header File Version 1.0\n[Common Infos]\nCodepage=UTF-8\n"
        "DataFile=rec.eeg\nMarkerFile=rec.vmrk\nDataFormat=BINARY\nDataOrientation=MULTIPLEXED\n"
        f"NumberOfChannels=2\nSamplingInterval={1e6 / SFREQ:g}\n[Binary Infos]\n"
        "BinaryFormat=IEEE_FLOAT_32\n[Channel Infos]\nCh1=Fp1,,1,µV\nCh2=Fp2,,1,µV\n",
        encoding="utf-8",
    )
    codes = ("S  1", "S  2", "R  7")
    head = "Brain Vision Data Exchange Marker File, Version 1.0\n[Common Infos]\nCodepage=UTF-8\n"
    lines = [head + "DataFile=rec.eeg\n[Marker Infos]\nMk1=New Segment,,1,1,0\n"]
    lines += [f"Mk{k + 2}=Stimulus,{codes[k % 3]},{k + 2},1,0\n" for k in range(n - 1)]
    (folder / "rec.vmrk").write_text("".join(lines), encoding="utf-8")


def _write_sidecar(fmt: str, folder: Path, x: np.ndarray, n: int, names: tuple[str, ...]) -> None:
    """An EDF without annotations and a sidecar of ``n`` rows, each an event at a sample from
    the second: a TUH ``.csv_bi`` in TUSZ's layout, or a BIDS ``events.tsv``."""
    from eegprep.testing.edf_writer import write_edf

    onsets = (np.arange(n) + 2) / SFREQ
    if fmt == "tuh-csv":
        stem = folder / "edf/train/aaaaaaaa/s001_2020/01_tcp_ar/aaaaaaaa_s001_t000"
        rows = [
            f"TERM,{t:.4f},{t + 0.0025:.4f},{names[i % 2]},1.0000\n" for i, t in enumerate(onsets)
        ]
        head = "# version = csv_v1.0.0\n#\nchannel,start_time,stop_time,label,confidence\n"
        labels = ["EEG FP1-REF", "EEG FP2-REF"]
    else:
        stem = folder / "sub-01/eeg/sub-01_task-rest_eeg"
        rows = [f"{t:.4f}\t0\t{names[i % 3]}\n" for i, t in enumerate(onsets)]
        head = "onset\tduration\ttrial_type\n"
        labels = LABELS
    stem.parent.mkdir(parents=True)
    write_edf(stem.with_suffix(".edf"), list(x), labels=labels, sfreqs=SFREQ)
    side = stem.with_suffix(".csv_bi") if fmt == "tuh-csv" else Path(f"{stem}"[:-4] + "_events.tsv")
    side.write_text(head + "".join(rows), encoding="utf-8")


def _write_set(folder: Path, x: np.ndarray, n: int, names: tuple[str, ...]) -> None:
    """An EEGLAB ``.set`` (MAT v5, top-level variables, samples inside) with ``n`` events."""
    import scipy.io

    locs = np.zeros((1, 2), dtype=[("labels", object)])
    locs[0, 0], locs[0, 1] = ("Fp1",), ("Fp2",)
    events = np.zeros((1, n), dtype=[("type", object), ("latency", object), ("duration", object)])
    for i in range(n):  # a numeric type (7) as EEGLAB stores codes, text otherwise
        events[0, i] = (names[i % 3] if i % 3 < 2 else 7.0, float(i + 2), 0.0)
    eeg = {
        "setname": "rec", "nbchan": 2.0, "trials": 1.0, "pnts": float(x.shape[1]),
        "srate": float(SFREQ), "xmin": 0.0, "xmax": (x.shape[1] - 1) / SFREQ,
        "data": x.astype(np.float32), "chanlocs": locs, "event": events,
        "urevent": np.zeros((0, 0)), "ref": "common",
    }  # fmt: skip
    scipy.io.savemat(folder / "rec.set", eeg, oned_as="row")


def ingest(src: Path, store: Path, corpus: str = "folder") -> dict[str, object]:
    """Ingest ``src`` as ``corpus`` alone in a fresh process: wall s, CPU s (user + system),
    peak MB and what it said."""
    args = ["ingest", corpus, "--src", str(src), "--out", str(store), "--workers", "0", "--json"]
    args += [] if corpus == "tusz" else ["--mains", "50"]  # (TUSZ: 60 Hz, its manifest says)
    start = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run([sys.executable, "-c", _PEAK, *args], capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    peak_kb = [int(w.split()[1]) for w in done.stderr.splitlines() if w.startswith("VMHWM_KB")]
    report = json.loads(done.stdout) if done.stdout.strip().startswith("{") else {}
    said = done.stderr.strip()[-200:] or f"exit status {done.returncode}, no report"
    if report:  # "ingested" only where the recording was stored: a skip is no measurement
        stored = report.get("n_ingested") == 1
        said = (report.get("failed") or ["ingested" if stored else "nothing ingested"])[0]
    return {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
            "peak_mb": peak_kb[0] // 1024 if peak_kb else None, "said": said}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--formats", nargs="+", choices=FORMATS, default=list(FORMATS))
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="eegprep-events-") as tmp:
        print(f"{'format':8} {'events':>10} {'wall s':>7} {'CPU s':>6} {'peak MB':>8}  result")
        for n in opts.counts:
            for fmt in opts.formats:
                src = Path(tmp) / f"{fmt}-{n}"
                write(fmt, n, src)
                row = ingest(src, Path(tmp) / f"{fmt}-{n}.zarr", CORPUS.get(fmt, "folder"))
                print(f"{fmt:8} {n:>10,} {row['wall_s']:>7} {row['cpu_s']:>6} "
                      f"{row['peak_mb']!s:>8}  {row['said']}")  # fmt: skip


if __name__ == "__main__":
    main()
