"""What holding the files MNE opens costs: BrainVision and EEGLAB (``.set`` + ``.fdt``) corpora.

Writes ``--recordings`` BrainVision and EEGLAB recordings (20 channels, 60 s at 250 Hz) into a
temporary folder, then, in this one process and interleaved round by round, with MNE given
held descriptors (eegprep/readers/mne_held.py) and given the checked paths (its path off Linux,
the code before held descriptors): the time to name a recording's files for MNE, to read a
header (MNE's open included), and to ingest each corpus (``--workers 0``) into a new store.
Prints the least and the median of each, as JSON.

Run: ``python benchmarks/mne_opens.py [--recordings 12] [--rounds 16]``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

FIRST = {"bv": "vhdr", "set": "set"}  # the file a recording is named by
LABELS = "Fp1 Fp2 F3 F4 C3 C4 P3 P4 O1 O2 F7 F8 T7 T8 P7 P8 Fz Cz Pz Oz".split()


def write_corpora(root: Path, n: int) -> None:
    """``n`` BrainVision recordings in ``root/bv``, ``n`` EEGLAB ones in ``root/set``."""
    import pybv
    import scipy.io
    from eeglabio.raw import export_set

    for i in range(n):
        x = np.random.default_rng(i).normal(0, 20e-6, (len(LABELS), 250 * 60))
        bv, eeglab = root / "bv" / f"s{i:02d}", root / "set" / f"s{i:02d}"
        bv.mkdir(parents=True)
        eeglab.mkdir(parents=True)
        pybv.write_brainvision(data=x, sfreq=250.0, ch_names=LABELS, fname_base="r",
                               folder_out=str(bv), unit="µV", overwrite=True)  # fmt: skip
        export_set(str(eeglab / "x.set"), x, 250.0, LABELS)
        fields = {k: v for k, v in scipy.io.loadmat(eeglab / "x.set").items() if k[0] != "_"}
        (eeglab / "x.set").unlink()
        np.asarray(fields["data"], "<f4").T.tofile(eeglab / "r.fdt")
        fields["data"] = "r.fdt"
        scipy.io.savemat(eeglab / "r.set", fields)


def one_round(paths: list[str], src: Path, out: Path) -> dict[str, float]:
    """Seconds per recording to name its files and to read its header, and seconds to ingest
    the corpus ``src``."""
    from eegprep.corpus.manifest import load_manifest
    from eegprep.ingestion.driver import IngestConfig, ingest
    from eegprep.readers.mne_formats import MneReader, clear_cache
    from eegprep.readers.mne_held import names_for_mne

    t = time.perf_counter()
    for p in paths:
        with names_for_mne(p):
            pass
    names = (time.perf_counter() - t) / len(paths)
    t = time.perf_counter()
    for p in paths:
        clear_cache()
        MneReader.read_header(p)
    header = (time.perf_counter() - t) / len(paths)
    shutil.rmtree(out, ignore_errors=True)
    cfg = IngestConfig(workers=0, progress=False, mains=50.0)
    t = time.perf_counter()
    rep = ingest(str(load_manifest("folder").file), src=src, out=out, config=cfg)
    assert rep.n_ingested == len(paths) and not rep.failed, rep.failed
    return {"names_ms": names * 1e3, "header_ms": header * 1e3, "ingest_s": time.perf_counter() - t}


def main() -> None:
    import eegprep.readers.mne_held as mne_held
    from eegprep.base import held_files

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--recordings", type=int, default=12)
    ap.add_argument("--rounds", type=int, default=16)
    args = ap.parse_args()
    ways = {"checked paths": lambda: False, "held descriptors": held_files.supported}
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_corpora(root, args.recordings)
        for kind in ("bv", "set"):
            paths = sorted(str(p) for p in (root / kind).glob(f"*/r.{FIRST[kind]}"))
            got: dict[str, list[dict[str, float]]] = {w: [] for w in ways}
            for r in range(args.rounds):  # alternate which goes first
                for way in list(ways)[:: 1 if r % 2 else -1]:
                    mne_held.supported = ways[way]
                    got[way].append(one_round(paths, root / kind, root / "out.zarr"))
            results[kind] = {
                way: {
                    key: {"min": round(min(v), 4), "median": round(statistics.median(v), 4)}
                    for key in rounds[0]
                    for v in [[r[key] for r in rounds]]
                }
                for way, rounds in got.items()
            }
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
