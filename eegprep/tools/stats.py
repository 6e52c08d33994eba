"""Summaries of a store: per corpus recordings, subjects, hours, channels, rates, preprocessing
block lengths, encodings, QC, joins and labels.

Everything but the spectrum comes from the index alone (no sample is read). ``plots`` reads up
to a minute from a sample of recordings per corpus for the mean spectrum.
"""

from __future__ import annotations

import io
import math
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from eegprep.base.errors import OutputError, StoreFormatError
from eegprep.base.field_text import listed_text
from eegprep.base.files import check_outside_stores, write_output, write_problem
from eegprep.base.path_limits import shown_path
from eegprep.base.write_errors import then_again
from eegprep.store.event_span import events_inside
from eegprep.store.reader import Store
from eegprep.store.recording import Recording
from eegprep.tools.plot_backend import pyplot
from eegprep.tools.plot_text import plot_text


def natural_order(counts: dict[str, int]) -> dict[str, int]:
    """``counts`` with its keys in natural order: those that spell a finite number by value
    (``2``, ``10``, ``250``, ``1000``), then the others as text. Text order listed label 10
    before 2 (unlike the classes labram numbers them by) and 1000 Hz before 250 Hz."""

    def key(text: str) -> tuple[int, float, str]:
        try:
            value = float(text)
        except ValueError:
            return (1, 0.0, text)
        return (0, value, text) if math.isfinite(value) else (1, 0.0, text)

    return dict(sorted(counts.items(), key=lambda kv: key(kv[0])))


def _label_counts(recs: list[Recording]) -> dict[str, dict[str, int]]:
    out: dict[str, Counter[str]] = {}
    for r in recs:
        for k, v in r.labels.items():
            out.setdefault(k, Counter())[str(v)] += 1
        for e in events_inside(r):  # an earlier store's events outside it are not counted
            out.setdefault("events", Counter())[str(e.label)] += 1
    return {k: natural_order(c) for k, c in sorted(out.items())}


def block_counts(recs: Sequence[Recording], absent: str = "unknown") -> dict[str, int]:
    """How many of ``recs`` were preprocessed in blocks of each length (s, the record's
    ``block_seconds``: 240, or shorter where ``--file-memory-limit`` halved it), in natural
    order; ``absent`` counts those that state none (``"unknown"``: a record of an earlier
    version; ``"none"``: the ``mne`` mode cuts no blocks), ``"invalid"`` a value that is no
    length (another program's: ``eegprep validate`` names it)."""
    counts: Counter[str] = Counter()
    for r in recs:
        b = r.meta.get("block_seconds")
        if b is None:
            counts[absent] += 1
        elif isinstance(b, int | float) and not isinstance(b, bool) and math.isfinite(b):
            counts[f"{b:g}"] += 1
        else:
            counts["invalid"] += 1
    return natural_order(counts)


def blocks_cell(counts: dict[str, int]) -> str:
    """A table's words for :func:`block_counts`: ``"240x12 30x2"`` (seconds x recordings)."""
    return " ".join(f"{k}x{v}" for k, v in counts.items())


def corpus_stats(recs: list[Recording], *, blocks_absent: str = "unknown") -> dict[str, Any]:
    rates: Counter[str] = Counter()
    for r in recs:
        orig = r.meta.get("orig_sfreq")
        if orig is None:  # a record written without it (not by an ingest)
            key = "unknown"
        elif isinstance(orig, list):
            key = ",".join(f"{x:g}" for x in orig)
        else:
            key = f"{orig:g}"
        rates[key] += 1
    # how the samples are stored (records of versions before the field: float32)
    stored = Counter(str(r.meta.get("encoding") or "float32") for r in recs)
    qc_flat = sum(1 for r in recs if r.qc.get("flat_channels"))
    qc_clip = sum(1 for r in recs if r.qc.get("clipped_channels"))
    return {
        "recordings": len(recs),
        "subjects": len({r.subject_key or f"{r.corpus}:{r.subject}" for r in recs}),
        "hours": round(sum(r.duration for r in recs) / 3600.0, 4),
        "channels_histogram": natural_order(Counter(str(r.n_channels) for r in recs)),
        "orig_sfreq": natural_order(rates),
        "splits": dict(sorted(Counter(r.split or "-" for r in recs).items())),
        "encodings": dict(sorted(stored.items())),
        "block_seconds": block_counts(recs, blocks_absent),
        "qc": {"with_flat_channels": qc_flat, "with_clipped_channels": qc_clip},
        "joins": join_counts(recs),
        "labels": _label_counts(recs),
    }


def join_counts(recs: Sequence[Recording]) -> dict[str, int]:
    """How many of ``recs`` have joins (samples that do not follow on in time: each stored
    as its stretches end to end, docs/store-format.md ``joins``) and how many joins they have
    in all."""
    return {
        "recordings_with_joins": sum(1 for r in recs if r.joins),
        "joins": sum(len(r.joins) for r in recs),
    }


def joins_cell(counts: dict[str, int]) -> str:
    """A table's words for :func:`join_counts`: ``"3 in 2 recs"``, ``"-"`` for none."""
    if not counts["joins"]:
        return "-"
    return f"{counts['joins']} in {counts['recordings_with_joins']} recs"


def store_stats(store: Store, left_out: Sequence[tuple[str, str]] = ()) -> dict[str, Any]:
    """Per-corpus statistics and totals, from the index, of ``store``'s recordings (every record
    must build: :func:`~eegprep.store.readable.split_readable` gives a store of those that do);
    ``left_out``: the (id, problem) of each recording left out of them, listed under
    ``"left_out"`` and counted in ``total.left_out``."""
    by_corpus: dict[str, list[Recording]] = {}
    for r in store.recordings:
        by_corpus.setdefault(r.corpus, []).append(r)
    failed = sum(len(rep.get("failed", [])) for rep in store.reports()[-1:])
    absent = "none" if store.recipe.get("mode") == "mne" else "unknown"  # (mne: no blocks)
    return {
        "store": store.display,
        "sfreq": store.sfreq,
        "recipe_hash": store.recipe_hash,
        "corpora": {
            c: corpus_stats(rs, blocks_absent=absent) for c, rs in sorted(by_corpus.items())
        },
        "total": {
            "recordings": len(store),
            "hours": round(sum(r.duration for r in store.recordings) / 3600.0, 4),
            "failed_in_last_ingest": failed,
            "left_out": len(left_out),
            **join_counts(store.recordings),
        },
        "left_out": [{"id": rid, "problem": problem} for rid, problem in left_out],
    }


def format_table(stats: dict[str, Any]) -> list[str]:
    """A plain-text table of the per-corpus numbers (columns sized to their contents), as its
    lines: a label or store name holding a newline stays inside its line (printed escaped)."""
    header: tuple[str, ...] = ("corpus", "recs", "subj", "hours", "channels", "orig Hz",
                               "block s", "stored", "qc")  # fmt: skip
    rows: list[tuple[str, ...]] = []
    extra: dict[str, list[str]] = {}
    for name, c in stats["corpora"].items():
        rows.append((
            name, str(c["recordings"]), str(c["subjects"]), f"{c['hours']:.3f}",
            " ".join(f"{k}x{v}" for k, v in c["channels_histogram"].items()),
            " ".join(f"{k}x{v}" for k, v in c["orig_sfreq"].items()),
            blocks_cell(c["block_seconds"]),
            " ".join(f"{k}x{v}" for k, v in c["encodings"].items()),
            f"flat {c['qc']['with_flat_channels']}, clipped {c['qc']['with_clipped_channels']}",
        ))  # fmt: skip
        extra[name] = [
            f"  label {listed_text(label)}: "
            + ", ".join(f"{listed_text(k)}: {v}" for k, v in list(counts.items())[:8])
            for label, counts in c["labels"].items()
        ]
    t = stats["total"]
    rows.append(("total", str(t["recordings"]), "", f"{t['hours']:.3f}", "", "", "", "", ""))
    if any(c["joins"]["joins"] for c in stats["corpora"].values()):  # a column only then
        header += ("joins",)
        cells = [joins_cell(c["joins"]) for c in stats["corpora"].values()]
        rows = [(*r, cell) for r, cell in zip(rows, [*cells, joins_cell(t)], strict=True)]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    right = {1, 2, 3}

    def fmt(row: tuple[str, ...]) -> str:
        cells = [
            v.rjust(w) if i in right else v.ljust(w) for i, (v, w) in enumerate(zip(row, widths))
        ]
        return "  ".join(cells).rstrip()

    title = (
        f"store {shown_path(stats['store'])}  ({stats['sfreq']:g} Hz, recipe "
        f"{stats['recipe_hash']})"
    )
    lines = [title, fmt(header)]
    for row in rows:
        lines.append(fmt(row))
        lines += extra.get(row[0], []) if row[0] != "total" else []
    return lines


def mean_spectrum(
    store: Store,
    recs: list[Recording],
    *,
    max_recordings: int = 20,
    seconds: float = 60.0,
    unread: list[str] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Welch spectrum (uV^2/Hz) averaged over channels and a sample of recordings. A recording
    whose samples cannot be read raises :class:`StoreFormatError`; with ``unread`` given, it
    is left out of the mean and its one-line problem appended there instead (once)."""
    from scipy import signal as sps

    spectra = []
    for r in recs[:max_recordings]:
        n = min(r.n_samples, int(seconds * r.sfreq))
        if n < 2 * r.sfreq:
            continue
        try:
            x = store.read(r.id, 0, n)
        except StoreFormatError as exc:
            if unread is None:
                raise
            if str(exc) not in unread:  # (once, however many callers share ``unread``)
                unread.append(str(exc))
            continue
        f, p = sps.welch(x, fs=r.sfreq, nperseg=int(2 * r.sfreq), axis=-1)
        spectra.append(p.mean(axis=0))
    if not spectra:
        return np.zeros(0), np.zeros(0)
    return f, np.mean(spectra, axis=0)


Spectra = dict[str, tuple[np.ndarray, np.ndarray]]
"""Each corpus's mean spectrum, ``(frequencies (Hz), PSD (uV^2/Hz))``, by corpus name."""


def corpus_spectra(store: Store, corpora: list[str], *, unread: list[str] | None = None) -> Spectra:
    """:func:`mean_spectrum` of each of ``corpora`` (its empty arrays for a corpus with no
    recording long enough), computed once for every output that draws them: ``--plots`` and
    ``--html`` each read the same samples before. ``unread``: as :func:`mean_spectrum`'s."""
    by_corpus: dict[str, list[Recording]] = {c: [] for c in corpora}
    for r in store.recordings:
        if r.corpus in by_corpus:
            by_corpus[r.corpus].append(r)
    return {c: mean_spectrum(store, recs, unread=unread) for c, recs in by_corpus.items()}


def _save(fig: Any, path: Path) -> None:
    """A figure's PNG, written whole or not at all (a kill or a full disk keeps the old one)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    write_output(path, buf.getvalue())


def plot_stats(
    store: Store,
    stats: dict[str, Any],
    out_dir: str | Path,
    *,
    unread: list[str] | None = None,
    spectra: Spectra | None = None,
) -> list[Path]:
    """Write PNG plots: hours per corpus, channel coverage, mean spectrum. Returns the paths.
    ``unread``: as :func:`mean_spectrum`'s (recordings whose samples cannot be read);
    ``spectra``: :func:`corpus_spectra` of ``stats``' corpora, computed here when None."""
    plt = pyplot()
    out = Path(out_dir)
    check_outside_stores(out, "a plots folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(  # (it said nothing of what to do: an I/O error, a permission)
            f"{shown_path(out)}: cannot make the plots folder "
            f"({write_problem(out, exc)}){then_again(exc)}"
        ) from exc
    corpora = list(stats["corpora"])
    paths = [_plot_hours(plt, stats, corpora, out), _plot_coverage(plt, store, out)]
    if spectra is None:
        spectra = corpus_spectra(store, corpora, unread=unread)
    paths.append(_plot_spectra(plt, spectra, corpora, out))
    return paths


def _plot_hours(plt: Any, stats: dict[str, Any], corpora: list[str], out: Path) -> Path:
    """``out/hours_per_corpus.png``: one bar per corpus, its hours."""
    fig, ax = plt.subplots(figsize=(max(4, 1 + 0.6 * len(corpora)), 3.5))
    x = range(len(corpora))  # (positions: two names drawn alike stay two bars)
    ax.bar(x, [stats["corpora"][c]["hours"] for c in corpora], color="tab:blue")
    ax.set_xticks(list(x), [plot_text(c) for c in corpora])
    ax.set_ylabel("hours")
    ax.set_title("Hours per corpus")
    fig.tight_layout()
    path = out / "hours_per_corpus.png"
    _save(fig, path)
    plt.close(fig)
    return path


def _plot_coverage(plt: Any, store: Store, out: Path) -> Path:
    """``out/channel_coverage.png``: per vocabulary channel, the recordings that hold it."""
    from eegprep.pipeline.channels import VOCABULARY

    cover = Counter(i for r in store.recordings for i in r.channel_index)
    idx = sorted(cover)
    fig, ax = plt.subplots(figsize=(max(6, 0.22 * len(idx)), 3.5))
    ax.bar([VOCABULARY[i] for i in idx], [cover[i] for i in idx], color="tab:green")
    ax.set_ylabel("recordings")
    ax.set_title("Channel coverage (vocabulary order)")
    ax.tick_params(axis="x", rotation=90, labelsize=7)
    fig.tight_layout()
    path = out / "channel_coverage.png"
    _save(fig, path)
    plt.close(fig)
    return path


def _plot_spectra(plt: Any, spectra: Spectra, corpora: list[str], out: Path) -> Path:
    """``out/mean_spectrum.png``: each corpus's mean spectrum (uV^2/Hz), log scale."""
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for c in corpora:
        f, p = spectra[c]
        if f.size:
            ax.semilogy(f, p, label=plot_text(c))
    ax.set_xlabel("frequency (Hz)")
    ax.set_ylabel("PSD (uV^2/Hz)")
    ax.set_title("Mean spectrum of stored data")
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = out / "mean_spectrum.png"
    _save(fig, path)
    plt.close(fig)
    return path
