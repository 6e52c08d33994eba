"""The results page of ``labram report --html``: one self-contained HTML file, runs side by
side, then per run its metrics, confusion matrix, per-subject scores, curves, command line and
config.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from eegprep.base import strict_json
from eegprep.base.field_text import listed_text
from eegprep.base.files import write_output
from eegprep.base.wording import counted
from eegprep.tools.plot_backend import pyplot
from eegprep.tools.plot_text import plot_text
from eegprep.tools.report import CSS, page_text, png_data_uri
from labram.stages.backbone_used import KEY as BACKBONE_KEY
from labram.stages.backbone_used import describe as describe_backbone
from labram.stages.predictions import FILENAME as PREDICTIONS
from labram.stages.report import (
    RunFolder,
    confusion,
    fmt_value,
    headline,
    is_finite,
    made_by_text,
    mean_std,
    odd_lines,
    part_word,
    protocol_text,
    seeds_text,
    subject_scores,
)
from labram.stages.tokenizer_used import describe as describe_tokenizer

MAX_PANELS = 24
"""The most ``log.csv`` columns drawn as curves (a training run logs about a dozen): a file with
thousands took minutes and gigabytes to draw (300 columns: 37 s, 560 MB), so the rest are
named under the figure instead."""
MAX_MATRIX_CLASSES = 200
"""The most classes a confusion matrix is drawn for (40,000 cells): a ``predictions.csv`` of
260 kB with 3,000 ``p_`` columns made a 500 MB page; above it the page says so instead."""


def _e(x: Any) -> str:
    """``x`` as page text (:func:`eegprep.tools.report.page_text`, the rule of both pages): a
    class name or path holding a newline, an escape sequence or a direction override (which
    reverses what follows it) shows those as ``\\n``, ``\\x1b``, ``\\u202e``, never reads as
    other text."""
    return page_text(x)


def _table(head: list[str], rows: list[list[Any]]) -> str:
    th = "".join(f"<th>{_e(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><tr>{th}</tr>{body}</table>"


def _side_by_side(runs: list[RunFolder]) -> str:
    ft = [r for r in runs if r.kind == "finetune"]
    if not ft:
        return "<p>No fine-tuning run among these folders.</p>"
    metrics = headline(ft)
    rows = []
    for r in ft:
        s = r.summary
        rows.append([r.path, r.results.get("task", "?") + protocol_text(r.results),
                     seeds_text(r), *(mean_std(s.get(m)) for m in metrics)])  # fmt: skip
    return _table(["run", "task", "seeds", *metrics], rows) + (
        "<p>Test metrics of the validation-selected model, mean +- std (population) over "
        "seeds (every fold x seed run under a protocol of folds); (n): the runs averaged.</p>"
    )


def _metrics_html(run: RunFolder) -> str:
    metrics = headline([run])
    head = ["metric", "mean +- std", *(p.name for p in run.parts)]
    s = run.summary
    rows = [
        [
            m,
            mean_std(s.get(m)),
            *(fmt_value((p.metrics.get("test") or {}).get(m)) for p in run.parts),
        ]
        for m in metrics
    ]
    val = [
        [p.name, p.metrics.get("best_epoch", "-"),
         *(fmt_value((p.metrics.get("val") or {}).get(m)) for m in metrics)]
        for p in run.parts
    ]  # fmt: skip
    return (
        _table(head, rows)
        + "<p>Validation (the selected epoch):</p>"
        + _table(["seed", "best epoch", *metrics], val)
    )


def _confusion_html(run: RunFolder) -> str:
    with_preds = [p for p in run.parts if p.predictions is not None]
    if not with_preds:
        return (
            f"<p>No <code>{PREDICTIONS}</code> in the seed folders: the run saved no per-window "
            f"predictions. <code>labram report {_e(run.path)} --predict</code> runs each "
            "<code>best.pt</code> again on the test windows and saves them.</p>"
        )
    first = with_preds[0].predictions or {}
    if first["kind"] != "classification":
        return "<p>A regression task: no confusion matrix (per-subject scores below).</p>"
    classes = first["classes"]
    if len(classes) > MAX_MATRIX_CLASSES:
        return (
            f"<p>{counted(len(classes), 'class', sep=',')}: too many for a confusion matrix (at "
            f"most {MAX_MATRIX_CLASSES}); per-subject scores below.</p>"
        )
    m = sum(confusion(p.predictions or first) for p in with_preds)
    m = np.asarray(m)
    share = m / np.maximum(m.sum(axis=1, keepdims=True), 1)
    head = "<tr><th>true \\ predicted</th>" + "".join(f"<th>{_e(c)}</th>" for c in classes)
    body = []
    for i, c in enumerate(classes):
        cells = "".join(
            f"<td style='background:rgba(31,119,180,{share[i, j]:.2f})'>{m[i, j]} "
            f"({100 * share[i, j]:.0f}%)</td>"
            for j in range(len(classes))
        )
        body.append(f"<tr><th>{_e(c)}</th>{cells}</tr>")
    names = ", ".join(p.name for p in with_preds)
    return (
        f"<table class='cm'>{head}</tr>{''.join(body)}</table><p>Test windows, summed over "
        f"{counted(len(with_preds), part_word(run))} ({_e(names)}); the predicted class is the "
        "most probable one; % of the true class's windows.</p>"
    )


def _subjects_html(run: RunFolder) -> str:
    with_preds = [p for p in run.parts if p.predictions is not None]
    if not with_preds:
        return "<p>Needs the per-window predictions (above).</p>"
    per_seed = {p.name: subject_scores(p.predictions or {}) for p in with_preds}
    subjects = sorted({s for scores in per_seed.values() for s in scores})
    kind = (with_preds[0].predictions or {})["kind"]
    key = "accuracy" if kind == "classification" else "rmse"
    rows = []
    for s in subjects:
        vals = [per_seed[n].get(s, {}).get(key, math.nan) for n in per_seed]
        anyone = next(per_seed[n][s] for n in per_seed if s in per_seed[n])
        extra = ([", ".join(map(listed_text, anyone["labels"])), fmt_value(anyone["p_true"])]
                 if kind == "classification" else [fmt_value(anyone["pearson_r"])])  # fmt: skip
        mean = float(np.nanmean(vals)) if any(is_finite(v) for v in vals) else math.nan
        rows.append([s, anyone["windows"], *extra, fmt_value(mean), *(fmt_value(v) for v in vals)])
    rows.sort(key=lambda r: (float(r[-len(per_seed) - 1]) if r[-len(per_seed) - 1] != "-"
                             else math.inf))  # fmt: skip
    if kind == "regression":
        rows.reverse()  # the largest error first
    extra_head = (["labels", f"p(true), {with_preds[0].name}"] if kind == "classification"
                  else [f"pearson r, {with_preds[0].name}"])  # fmt: skip
    table = _table(["subject", "windows", *extra_head, f"mean {key}", *per_seed], rows)
    worst = "lowest accuracy" if kind == "classification" else "largest RMSE"
    text = f"<p>{counted(len(subjects), 'test subject')}, {worst} first.</p>"
    if len(rows) > 25:
        return f"{text}<details><summary>all subjects</summary>{table}</details>"
    return text + table


def _curves(run: RunFolder) -> str | None:
    """One panel per logged column (loss, lr, ...) against the step, a line per seed/stage."""
    plt = pyplot()

    parts = [p for p in run.parts if p.log]
    if not parts:
        return None
    names = [k for k in dict.fromkeys(k for p in parts for k in p.log[0]) if k not in
             ("step", "epoch")]  # fmt: skip
    names = names[:MAX_PANELS]  # (the rest: named under the figure, _undrawn)
    cols = min(3, max(len(names), 1))
    nrows = (len(names) + cols - 1) // cols
    fig, axes = plt.subplots(nrows, cols, figsize=(4 * cols, 2.8 * nrows), squeeze=False)
    for ax, name in zip(axes.flat, names):
        for p in parts:
            steps = [r.get("step", i) for i, r in enumerate(p.log)]
            ax.plot(steps, [r.get(name, math.nan) for r in p.log], lw=1.2, marker=".",
                    label=plot_text(p.name))  # fmt: skip
        ax.set_title(plot_text(name), fontsize=9)
        ax.set_xlabel("step", fontsize=8)
        ax.tick_params(labelsize=7)
        vals = [r.get(name, math.nan) for p in parts for r in p.log]
        if (name == "loss" or name.endswith("_loss")) and all(v > 0 for v in vals if is_finite(v)):
            ax.set_yscale("log")
        if len(parts) > 1:
            ax.legend(fontsize=6)
    for ax in list(axes.flat)[len(names) :]:
        ax.axis("off")
    fig.tight_layout()
    return png_data_uri(fig)


def _undrawn(run: RunFolder) -> str:
    """The ``log.csv`` columns past :data:`MAX_PANELS`, named (the first few) and counted."""
    names = [k for k in dict.fromkeys(k for p in run.parts if p.log for k in p.log[0])
             if k not in ("step", "epoch")]  # fmt: skip
    rest = names[MAX_PANELS:]
    if not rest:
        return ""
    shown = ", ".join(map(listed_text, rest[:5])) + (", ..." if len(rest) > 5 else "")
    return (
        f"<p>{len(rest):,} more columns of log.csv not drawn (at most {MAX_PANELS} "
        f"panels): {_e(shown)}</p>"
    )


def _command_html(run: RunFolder) -> str:
    if run.command is None:
        return (
            "<p>The run folder records no command line (no <code>command.txt</code>, no "
            "<code>command</code>/<code>argv</code> in its config).</p>"
        )
    note = (
        "<p>Recorded by the run.</p>" if run.command_recorded else
        "<p>The run did not record its command line; an equivalent one, rebuilt from "
        "<code>results.json</code> and <code>config.json</code> (fields that differ from the "
        "preset as <code>--set</code>; a <code>--config</code> file or flags read the same):</p>"
    )  # fmt: skip
    return f"{note}<pre>{_e(run.command)}</pre>"


def _config_html(run: RunFolder) -> str:
    out = []
    for p in run.parts[:1] if run.kind == "finetune" else run.parts:
        if p.config is None:
            continue
        cfg = {k: v for k, v in p.config.items() if k != "seed"} if run.kind == "finetune" \
            else p.config  # fmt: skip
        rows = [[k, strict_json.dumps(v)] for k, v in cfg.items()]
        label = "every seed's (seed aside)" if run.kind == "finetune" else p.name
        out.append(f"<details><summary>{_e(label)}: {counted(len(rows), 'field')}</summary>"
                   f"{_table(['field', 'value'], rows)}</details>")  # fmt: skip
    return "".join(out) or "<p>No config.json in the run folder.</p>"


def _run_html(k: int, run: RunFolder) -> str:
    r = run.results
    facts = []
    if run.kind == "finetune":
        facts = [f"task <code>{_e(r.get('task', '?'))}</code>{_e(protocol_text(r))}",
                 seeds_text(run),
                 f"init <code>{_e(r.get('init'))}</code>"]  # fmt: skip
        if r.get("windows"):
            facts.append("windows " + ", ".join(f"{_e(a)} {_e('-' if b is None else b)}"
                                                for a, b in r["windows"].items()))  # fmt: skip
        if r.get("stores"):
            facts.append("stores " + ", ".join(f"<code>{_e(s)}</code>" for s in r["stores"]))
    parts = [f"<h2 id='run{k}'>{_e(run.path)}</h2><p>{_e(run.kind)}: {'; '.join(facts)}</p>"]
    made = made_by_text(run)  # the labram that wrote its files (none: an earlier one's)
    if made is not None:
        parts.append(f"<p>labram version: <code>{_e(made)}</code></p>")
    if run.kind == "finetune" and BACKBONE_KEY in r:  # where the backbone came from
        parts.append("<p>Initial weights (fine-tuned from): "
                     f"<code>{_e(describe_backbone(r[BACKBONE_KEY]))}</code></p>")  # fmt: skip
    if r.get("leakage"):
        parts.append(f"<p>Leakage check: {_e(r['leakage'])}</p>")
    if run.kind == "finetune":
        parts += ["<h3>Test metrics</h3>", _metrics_html(run),
                  "<h3>Confusion matrix</h3>", _confusion_html(run),
                  "<h3>Per-subject scores</h3>", _subjects_html(run)]  # fmt: skip
    else:
        if run.pretrain_root:  # the tokenizer whose codes are the masked model's targets
            parts.append("<p>Tokenizer (targets): "
                         f"<code>{_e(describe_tokenizer(run.tokenizer))}</code></p>")  # fmt: skip
        for p in run.parts:
            if p.metrics:
                rows = [[k2, strict_json.dumps(v)] for k2, v in p.metrics.items()]
                parts.append(f"<h3>{_e(p.name)} summary</h3>{_table(['', ''], rows)}")
    curves = _curves(run)
    parts.append("<h3>Training curves</h3>")
    parts.append(f'<img alt="curves" src="{curves}">' if curves else "<p>No log.csv.</p>")
    parts.append(_undrawn(run))
    parts += ["<h3>Command</h3>", _command_html(run), "<h3>Config</h3>", _config_html(run)]
    return "".join(parts)


def _odd_html(runs: list[RunFolder]) -> str:
    """The run files holding values that are no result, each in one line: those values are
    shown as ``-`` (:mod:`labram.stages.report_values`)."""
    lines = odd_lines(runs)
    if not lines:
        return ""
    items = "".join(f"<li>{_e(line)}</li>" for line in lines)
    return f"<h2>Values not shown</h2><p>No result: shown as -.</p><ul>{items}</ul>"


def write_html(runs: list[RunFolder], path: str | Path) -> Path:
    """Write the results page for ``runs``; returns its path."""
    toc = "".join(f"<li><a href='#run{k}'>{_e(r.path)}</a></li>" for k, r in enumerate(runs))
    body = [
        f"<h1>labram results</h1><ul>{toc}</ul>",
        "<h2>Runs side by side</h2>",
        _side_by_side(runs),
        _odd_html(runs),
        *(_run_html(k, r) for k, r in enumerate(runs)),
    ]
    css = CSS + "pre{white-space:pre-wrap;background:#f6f6f6;padding:8px}.cm td{text-align:center}"
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>labram results</title>"
        f"<style>{css}</style></head><body>{''.join(body)}</body></html>"
    )
    out = Path(path)
    write_output(out, page.encode("utf-8"))  # whole or not at all: a kill keeps the old page
    return out
