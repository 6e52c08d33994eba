"""Names drawn in figures (a corpus in ``eegprep stats --plots`` / ``--html``, a column of a run's
``log.csv`` in ``labram report --html`` and ``curves.png``): matplotlib parses text between two
``$`` as mathtext, so ``$\\foo$`` failed the whole figure (``ValueError: Unknown symbol``) and
``$x^2$`` was drawn as a formula. Every such name is now drawn as written
(:func:`eegprep.tools.plot_text.plot_text`)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from eegprep.base import strict_json
from eegprep.tools.plot_text import plot_text

MATH = "$\\foo$"
"""A name matplotlib's mathtext cannot parse: the figure's savefig raised."""
NAMES = (MATH, "x$^2$", "a\nb\x1b[2J", "\u202eevil", "_hidden", "L" * 100_000)


def test_plot_text_is_literal_and_one_line() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.cbook import is_math_text

    for name in NAMES:
        text = plot_text(name)
        assert "\n" not in text and "\x1b" not in text and "\u202e" not in text
        assert len(text) <= 90
        assert not is_math_text(text)
    assert plot_text("x$^2$") == "x\\$^2\\$"
    fig, ax = plt.subplots()
    ax.set_title(plot_text(MATH))
    for name in ("_hidden", "shown"):  # a legend left out a name starting with "_"
        ax.plot([0, 1], [0, 1], label=plot_text(name))
    legend = ax.legend()
    assert [t.get_text() for t in legend.get_texts()] == [" _hidden", "shown"]
    fig.canvas.draw()
    plt.close(fig)


def test_stats_plots_draw_a_corpus_named_as_mathtext(tmp_path: Path) -> None:
    from eegprep.tools.report import _hours, _spectra
    from eegprep.tools.stats import plot_stats

    corpora = {MATH: {"hours": 1.0}, "x$^2$": {"hours": 2.0}}
    spectra = {c: (np.arange(1.0, 5.0), np.arange(1.0, 5.0)) for c in corpora}
    store: Any = SimpleNamespace(recordings=[])
    paths = plot_stats(store, {"corpora": corpora}, tmp_path / "plots", spectra=spectra)
    assert all(p.stat().st_size > 0 for p in paths)
    assert _hours({"corpora": corpora}).startswith("data:image/png;base64,")
    assert _spectra(store, list(corpora), spectra).startswith("data:image/png;base64,")


@pytest.mark.real_plots
def test_curves_png_draws_a_logged_column_named_as_mathtext(tmp_path: Path) -> None:
    from labram.train.runlog import plot_curves

    rows = [{"step": 1, "loss": 1.0, MATH: 0.5}, {"step": 2, "loss": 0.5, MATH: 0.4}]
    assert plot_curves(rows, tmp_path / "curves.png").stat().st_size > 0


def test_report_html_draws_a_log_column_named_as_mathtext(tmp_path: Path) -> None:
    from labram.commands import labram_cli

    run = tmp_path / "run"
    seed = run / "seed0"
    seed.mkdir(parents=True)
    (seed / "log.csv").write_text(f"step,loss,{MATH},x$^2$\n1,1.0,0.5,1\n2,0.5,0.4,2\n")
    test = {"balanced_accuracy": 0.5}
    metrics = {"seed": 0, "test": test, "val": test, "checkpoint": str(seed / "best.pt")}
    (seed / "metrics.json").write_text(strict_json.dumps(metrics))
    results = {"task": "tuab", "stores": ["s.zarr"], "seeds": [metrics], "windows": {"test": 1}}
    (run / "results.json").write_text(strict_json.dumps(results))
    page = tmp_path / "page.html"
    res = CliRunner().invoke(labram_cli, ["report", str(run), "--html", str(page)])
    assert res.exit_code == 0, res.output
    assert "data:image/png;base64," in page.read_text(encoding="utf-8")


def test_the_spectra_figure_of_a_store_without_line_noise_peaks_warns_nothing() -> None:
    """A store whose recordings hold no line-noise peak (no mains given) drew an empty panel
    and matplotlib's ``No artists with labels found to put in legend`` on every
    ``stats --html``; the panel now says there is nothing to draw, and no legend is asked."""
    import warnings

    from eegprep.tools.report import _spectra

    recs = [SimpleNamespace(corpus="tuh", qc={}) for _ in range(3)]
    store: Any = SimpleNamespace(recordings=recs)
    f = np.linspace(1, 90, 50)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _spectra(store, ["tuh"], {"tuh": (f, 1.0 / f)}).startswith("data:image/png")
