"""One self-contained HTML page about a store: what a person wants to read after an ingest.

Hours and subjects per corpus, channel coverage drawn on a 10-20 head, sampling-rate and
duration histograms, mean spectra per corpus (the stored data) beside the line-noise peaks
measured in the sources, and every file the last ingest skipped with its reason. Figures are
PNG embedded as base64: the page needs no other file and no network.
"""

from __future__ import annotations

import base64
import html
import io
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from eegprep.base.field_text import listed_text
from eegprep.base.files import as_text, shown_name, write_output
from eegprep.base.wording import counted, noun
from eegprep.store.reader import Store
from eegprep.tools.plot_backend import pyplot
from eegprep.tools.plot_text import plot_text
from eegprep.tools.stats import Spectra, blocks_cell, corpus_spectra, joins_cell, store_stats


def page_text(value: object) -> str:
    """``value`` as text of a page eegprep or labram writes (``eegprep stats --html``, ``labram
    report --html``): one line with each control and invisible character as the terminal shows
    it (:func:`~eegprep.base.files.shown_name`: ``\\n``, ``\\x1b``, ``\\u202e``; a bidi
    override would show what follows it reversed), then HTML-escaped (``<``, ``&``, quotes), so
    that a store path, corpus, label or file name reads as written and makes no markup. The
    one rule of both pages."""
    return html.escape(shown_name(str(value)))


def png_data_uri(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    plt = pyplot()

    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _head_positions() -> dict[str, tuple[float, float]]:
    """2-D positions (azimuthal projection) of the 10-20/10-10 sites, upper-cased names."""
    from eegprep.tools.interop import standard_montage

    pos = standard_montage().get_positions()["ch_pos"]
    out = {}
    for name, (x, y, z) in pos.items():
        r = np.sqrt(x * x + y * y + z * z)
        theta = np.arccos(np.clip(z / r, -1, 1))  # angle from the vertex
        phi = np.arctan2(y, x)
        out[name.upper()] = (theta * np.cos(phi), theta * np.sin(phi))
    return out


def coverage_head(store: Store) -> str:
    """Channel coverage on a head: each site coloured by the share of recordings that have it."""
    plt = pyplot()

    counts = Counter(c for r in store.recordings for c in r.channels)
    n = max(len(store), 1)
    pos = _head_positions()
    fig, ax = plt.subplots(figsize=(5.2, 5.2))
    ax.add_patch(plt.Circle((0, 0), np.pi / 2, fill=False, lw=2))
    ax.plot([-0.15, 0, 0.15], [np.pi / 2 - 0.01, np.pi / 2 + 0.18, np.pi / 2 - 0.01], "k", lw=2)
    names = [p for p in pos if p in counts]
    absent = [p for p in pos if p not in counts]
    if absent:
        xy = np.array([pos[p] for p in absent])
        ax.scatter(xy[:, 0], xy[:, 1], s=12, c="lightgrey")
    if names:
        share = [counts[p] / n for p in names]
        xy = np.array([pos[p] for p in names])
        sc = ax.scatter(
            xy[:, 0],
            xy[:, 1],
            s=160,
            c=share,
            cmap="viridis",
            vmin=0,
            vmax=1,
            edgecolors="k",
        )
        for p in names:
            ax.annotate(p, pos[p], ha="center", va="center", fontsize=5.5, color="white")
        fig.colorbar(sc, ax=ax, shrink=0.7, label="share of recordings")
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title("Channel coverage (10-20 head, nose up)")
    return png_data_uri(fig)


def _histograms(store: Store) -> str:
    plt = pyplot()

    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.2))
    rates: Counter[str] = Counter()
    for r in store.recordings:
        orig = r.meta.get("orig_sfreq")
        for v in orig if isinstance(orig, list) else [orig]:
            # a record written without it (not by an ingest), as `stats` counts it
            rates["unknown" if v is None else f"{v:g}"] += 1
    keys = sorted(rates, key=lambda k: (k == "unknown", float(k) if k != "unknown" else 0.0))
    a.bar(keys, [rates[k] for k in keys], color="tab:orange")
    a.set_title("Original sampling rates")
    a.set_xlabel("Hz")
    a.set_ylabel("recordings")
    b.hist([r.duration / 60 for r in store.recordings], bins=20, color="tab:purple")
    b.set_title("Durations")
    b.set_xlabel("minutes")
    fig.tight_layout()
    return png_data_uri(fig)


def _spectra(store: Store, corpora: list[str], spectra: Spectra) -> str:
    plt = pyplot()

    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.4))
    for c in corpora:
        recs = [r for r in store.recordings if r.corpus == c]
        f, p = spectra[c]
        if f.size:
            a.semilogy(f, p, label=plot_text(c))
        peaks = [r.qc.get("line_noise_db", {}) for r in recs]
        for mains, style in (("50", "o"), ("60", "s")):
            vals = [pk[mains] for pk in peaks if mains in pk]
            if vals:
                label = f"{plot_text(c)} {mains} Hz"
                b.plot(np.arange(len(vals)), sorted(vals), style, ms=3, label=label)
    a.set_title("Mean spectrum of stored data (after notch)")
    a.set_xlabel("Hz")
    a.set_ylabel("uV^2/Hz")
    for panel in (a, b):  # (a panel with nothing drawn: no legend, and no warning of it)
        if panel.get_legend_handles_labels()[0]:
            panel.legend(fontsize=7)
    b.set_title("Line-noise peak in the sources (before)")
    b.set_xlabel("recordings, sorted")
    b.set_ylabel("dB above neighbourhood")
    if not b.get_legend_handles_labels()[0]:
        b.text(0.5, 0.5, "no line-noise peak recorded", ha="center", va="center",
               transform=b.transAxes)  # fmt: skip
    fig.tight_layout()
    return png_data_uri(fig)


def _hours(stats: dict[str, Any]) -> str:
    plt = pyplot()

    corpora = list(stats["corpora"])
    fig, ax = plt.subplots(figsize=(max(4, 1 + 0.7 * len(corpora)), 3))
    x = range(len(corpora))  # (positions: two names drawn alike stay two bars)
    ax.bar(x, [stats["corpora"][c]["hours"] for c in corpora])
    ax.set_xticks(list(x), [plot_text(c) for c in corpora])
    ax.set_ylabel("hours")
    ax.set_title("Hours per corpus")
    fig.tight_layout()
    return png_data_uri(fig)


def _table(stats: dict[str, Any]) -> str:
    rows = []
    joined = any(c["joins"]["joins"] for c in stats["corpora"].values())  # a column only then
    for name, c in stats["corpora"].items():
        labels = "; ".join(
            f"{listed_text(k)}: {', '.join(f'{listed_text(a)} {b}' for a, b in v.items())}"
            for k, v in c["labels"].items()
        )
        joins = f"<td>{page_text(joins_cell(c['joins']))}</td>" if joined else ""
        rows.append(
            f"<tr><td>{page_text(name)}</td><td>{c['recordings']}</td><td>{c['subjects']}</td>"
            f"<td>{c['hours']:.2f}</td><td>{page_text(blocks_cell(c['block_seconds']))}</td>"
            f"<td>{c['qc']['with_flat_channels']}</td>"
            f"<td>{c['qc']['with_clipped_channels']}</td>{joins}<td>{page_text(labels)}</td>"
            "</tr>"
        )
    head = (
        "<tr><th>corpus</th><th>recordings</th><th>subjects</th><th>hours</th>"
        "<th>blocks (s x recordings)</th><th>with flat channels</th><th>with clipped channels</th>"
        + ("<th>joins (in recordings)</th>" if joined else "")
        + "<th>labels</th></tr>"
    )
    return f"<table>{head}{''.join(rows)}</table>"


def _failures(store: Store) -> str:
    reports = store.reports()
    if not reports:
        return "<p>No ingest report in the store.</p>"
    last = reports[-1]
    lines = list(last.get("failed", [])) + list(last.get("unmatched", []))
    if not lines:
        return "<p>The last ingest skipped no file.</p>"
    return f"<p>The last ingest skipped {counted(len(lines), 'file')}:</p><ul>{_items(lines)}</ul>"


def _items(lines: Sequence[str]) -> str:
    """``lines`` as HTML list items, each escaped for HTML and with the characters no page shows
    as themselves escaped as the terminal shows them (:func:`~eegprep.base.files.shown_name`:
    a bidi override U+202E would show a file name reversed; an earlier ingest's report holds
    such names raw)."""
    return "".join(f"<li><code>{page_text(line)}</code></li>" for line in lines)


CSS = """body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1000px;color:#222}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;font-size:13px}
th{background:#f3f3f3}img{max-width:100%}code{font-size:12px}h2{margin-top:1.6em}"""


def _left_out(left_out: Sequence[tuple[str, str]], unread: list[str]) -> str:
    """The recordings the page leaves out, one item each (none: nothing)."""
    lines = [problem for _, problem in left_out] + unread
    if not lines:
        return ""
    return (
        f"<h2>Left out</h2><p>{counted(len(lines), 'recording')} could not be read "
        f"and {noun(len(lines), 'is')} left out of the figures above (run <code>eegprep "
        f"validate</code>):</p><ul>{_items(lines)}</ul>"
    )


def write_html_report(
    store: Store,
    path: str | Path,
    *,
    left_out: Sequence[tuple[str, str]] = (),
    unread: list[str] | None = None,
    spectra: Spectra | None = None,
) -> Path:
    """Write the report page; returns its path. ``left_out``: the (id, problem) of each
    recording left out of ``store`` (:func:`~eegprep.store.readable.split_readable`), named on
    the page; ``unread``: as :func:`~eegprep.tools.stats.mean_spectrum`'s, and named too;
    ``spectra``: :func:`~eegprep.tools.stats.corpus_spectra` of the store's corpora, computed
    here when None."""
    stats = store_stats(store, left_out)
    unread = [] if unread is None else unread
    corpora = list(stats["corpora"])
    if spectra is None:
        spectra = corpus_spectra(store, corpora, unread=unread)
    t = stats["total"]
    body = [
        f"<h1>eegprep store report</h1><p><code>{page_text(store.display)}</code>: "
        f"{counted(t['recordings'], 'recording')}, {t['hours']:.2f} hours, {store.sfreq:g} Hz, "
        f"recipe <code>{store.recipe_hash}</code> ({store.recipe['l_freq']}-"
        f"{store.recipe['h_freq']} Hz, mode {store.recipe['mode']})</p>",
        "<h2>Corpora</h2>",
        _table(stats),
        f'<img alt="hours" src="{_hours(stats)}">',
        "<h2>Channel coverage</h2>",
        f'<img alt="coverage" src="{coverage_head(store)}">',
        "<h2>Sampling rates and durations</h2>",
        f'<img alt="hist" src="{_histograms(store)}">',
        "<h2>Spectra and line noise</h2>",
        f'<img alt="spectra" src="{_spectra(store, corpora, spectra)}">',
        "<h2>Quality control: skipped files</h2>",
        _failures(store),
    ]
    body.append(_left_out(left_out, unread))
    page = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>eegprep report</title>"
        f"<style>{CSS}</style></head><body>{''.join(body)}</body></html>"
    )
    out = Path(path)
    # whole or not at all: a kill keeps the old page; a store path's bytes that are not UTF-8
    # are shown as \xNN
    write_output(out, as_text(page).encode("utf-8"))
    return out
