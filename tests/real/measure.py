"""Print each real recording's relative RMS against its time-exact MNE reference, per source
rate: the numbers in docs/real-recordings.md's table.

Run ``python -m tests.real.measure`` after ``python -m tests.real.fetch``; the computation is
the one ``tests/real/test_real_files.py`` asserts on (its helpers are used as they are).
"""

from __future__ import annotations

import sys
import tempfile
import warnings
from pathlib import Path

from tests.real import test_real_files as real


def measure(name: str, tmp: Path) -> dict[float, float]:
    """Relative RMS of the stored samples against the reference, per source rate."""
    import mne

    from eegprep import open_store
    from eegprep.ingestion.driver import IngestConfig, ingest
    from eegprep.pipeline.channels import VOCABULARY

    reader, labels, h_freq = real.CASES[name]
    sites = [s for s in VOCABULARY if "-" not in s][: len(labels)]
    src = tmp / "src"
    src.mkdir()
    for part in [name, *real.COMPANIONS.get(name, [])]:
        (src / part).symlink_to(real._file(part))
    manifest = real._manifest(tmp, reader, dict(zip(labels, sites)), h_freq)
    cfg = IngestConfig(workers=0, progress=False, mains=real.MAINS)
    ingest(manifest, src=src, out=tmp / "s.zarr", config=cfg)
    store = open_store(tmp / "s.zarr")
    (rec,) = store.recordings
    x = store.read(rec.id)
    path = real._file(name)
    raw = mne.io.read_raw(path, preload=False, verbose="error")
    picks = [raw.ch_names.index(lab) for lab in labels]
    rates = real._rates(path, labels)
    out = {}
    for rate in sorted(set(rates)):
        rows = [i for i, r in enumerate(rates) if r == rate]
        ref = real._mne_time_exact(real._source_uv(path, [picks[i] for i in rows], rate), rate,
                                   h_freq or 75.0)  # fmt: skip
        out[rate] = real._rel(x[rows], ref)
    return out


def main() -> int:
    warnings.simplefilter("ignore")
    for name in real.CASES:
        if name in real.NO_EXACT_REFERENCE or real.cached(name) is None:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            errors = measure(name, Path(tmp))
        print(name, " ".join(f"{rate:g} Hz: {e:.2g}" for rate, e in errors.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
