"""``labram report``: what a person wants to read after training, from the run folders alone.

Several run folders side by side (a table of their headline test metrics, mean +- std over
seeds), then per run: the test metrics per seed, a confusion matrix and per-subject scores (from
each seed's ``predictions.csv``, :mod:`labram.stages.predictions`), the training curves from
``log.csv``, the command line and the resolved config. One self-contained HTML page in the
style of ``eegprep stats --html`` (figures as base64 PNG, no script, no network), or a short
text summary.

Run folders read (docs/training.md): a ``labram finetune`` folder (``results.json`` and
``seed<N>/``), one of its seed folders (``metrics.json``), or a ``labram pretrain`` /
``labram tokenizer`` folder (``tokenizer/``, ``mem/``, or ``log.csv`` itself). Nothing is
written to them.
"""

from __future__ import annotations

import csv
import html
import json
import math
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from eegprep.base import strict_json
from eegprep.base.errors import UsageError
from eegprep.tools.report import _CSS, _png
from labram.stages.predictions import FILENAME as PREDICTIONS
from labram.stages.predictions import read_predictions

METRICS = ("balanced_accuracy", "auroc", "auc_pr", "cohen_kappa", "weighted_f1", "accuracy",
           "pearson_r", "r2", "rmse")  # fmt: skip
"""Headline metrics in the order shown (those a run has)."""
COMMAND_FILES = ("command.txt",)
COMMAND_KEYS = ("command", "argv")
FLAGS = {"epochs": "--epochs", "max_steps": "--max-steps", "batch_size": "--batch-size",
         "lr": "--lr", "num_workers": "--workers", "ckpt_every": "--ckpt-every"}  # fmt: skip
"""Config fields with a flag of their own on `labram finetune` (the others: --set)."""


@dataclass
class Part:
    """One seed of a fine-tuning run, or one stage (tokenizer, mem) of a pre-training run."""

    name: str
    path: Path
    log: list[dict[str, float]] = field(default_factory=list)
    config: dict[str, Any] | None = None
    metrics: dict[str, Any] = field(default_factory=dict)  # metrics.json / summary.json
    predictions: dict[str, Any] | None = None


@dataclass
class Run:
    """What one run folder holds."""

    path: Path
    kind: str  # finetune | pretrain
    results: dict[str, Any] = field(default_factory=dict)
    parts: list[Part] = field(default_factory=list)
    command: str | None = None
    command_recorded: bool = False

    @property
    def summary(self) -> dict[str, dict[str, Any]]:
        """metric -> {mean, std, values} over seeds (``results.json``'s, else computed)."""
        saved = self.results.get("test")
        if isinstance(saved, dict) and saved:
            return saved
        from labram.train.metrics import summarise

        tests = [p.metrics.get("test") or {} for p in self.parts]
        return summarise([{k: v for k, v in t.items() if _finite(v)} for t in tests if t])


def _finite(v: Any) -> bool:
    return isinstance(v, int | float) and math.isfinite(v)


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path}: unreadable ({exc})") from exc


def _log(path: Path) -> list[dict[str, float]]:
    if not path.is_file():
        return []
    rows = []
    with path.open(newline="") as fh:
        for r in csv.DictReader(fh):
            row = {}
            for k, v in r.items():
                try:
                    row[k] = float(v)
                except (TypeError, ValueError):
                    row[k] = math.nan
            rows.append(row)
    return rows


def _part(name: str, path: Path, metrics_file: str) -> Part:
    cfg = _json(path / "config.json") if (path / "config.json").is_file() else None
    metrics = _json(path / metrics_file) if (path / metrics_file).is_file() else {}
    preds = read_predictions(path / PREDICTIONS) if (path / PREDICTIONS).is_file() else None
    return Part(name, path, _log(path / "log.csv"), cfg, metrics, preds)


def _part_name(run: Path, folder: Path) -> str:
    """``seed0``, or ``fold1/seed0`` for a protocol with folds (labram.data.protocols)."""
    try:
        return folder.relative_to(run).as_posix()
    except ValueError:
        return folder.name


def load_run(path: str | Path) -> Run:
    """Read a run folder (see the module docstring); a folder that is none of those is a
    UsageError naming it."""
    path = Path(path)
    if not path.is_dir():
        raise UsageError(f"{path}: no such run folder")
    if (path / "results.json").is_file():
        results = _json(path / "results.json")
        parts = []
        for s in results.get("seeds", []):
            folder = path / f"seed{s.get('seed')}"
            if not folder.is_dir() and s.get("checkpoint"):
                folder = Path(s["checkpoint"]).parent
            part = _part(_part_name(path, folder), folder, "metrics.json")
            part.metrics = {**s, **part.metrics}
            parts.append(part)
        run = Run(path, "finetune", results, parts)
    elif (path / "metrics.json").is_file():
        parent = path.parent / "results.json"
        results = _json(parent) if parent.is_file() else {}
        results = {k: v for k, v in results.items() if k not in ("seeds", "test")}
        run = Run(path, "finetune", results, [_part(path.name, path, "metrics.json")])
    else:
        stages = [d for d in (path / "tokenizer", path / "mem") if (d / "log.csv").is_file()]
        if not stages and (path / "log.csv").is_file():
            stages = [path]
        if not stages:
            raise UsageError(
                f"{path}: not a labram run folder (expected results.json of labram finetune, "
                "metrics.json of one seed, or log.csv of a pre-training stage)"
            )
        run = Run(path, "pretrain", {}, [_part(d.name, d, "summary.json") for d in stages])
    run.command, run.command_recorded = command_line(run)
    return run


def add_predictions(
    run: Run, *, stores: list[str] | None = None, device: str | None = None
) -> list[Path]:
    """For each seed of a fine-tuning run without ``predictions.csv``: run its ``best.pt`` again
    on the test windows of ``stores`` (default: those ``results.json`` names) and save them
    (:func:`labram.stages.predictions.predict_checkpoint`). Returns the files written."""
    from labram.stages.predictions import predict_checkpoint

    if run.kind != "finetune":
        return []
    stores = stores or list(run.results.get("stores") or [])
    task = run.results.get("task")
    if not stores or not task:
        raise UsageError(
            f"{run.path}: --predict needs the run's task and stores (results.json names none; "
            "give --store)"
        )
    written = []
    for part in run.parts:
        best = part.path / "best.pt"
        if part.predictions is not None or not best.is_file():
            continue
        path = predict_checkpoint(best, stores, str(task), device=device)
        part.predictions = read_predictions(path)
        written.append(path)
    return written


def recorded_command(folder: Path, *jsons: dict[str, Any] | None) -> str | None:
    """The command line a run recorded: ``command.txt``, or a ``command`` / ``argv`` entry of
    its config or results; None if it recorded none."""
    for name in COMMAND_FILES:
        if (folder / name).is_file():
            return (folder / name).read_text(encoding="utf-8").strip()
    for obj in jsons:
        for key in COMMAND_KEYS:
            value = obj.get(key) if isinstance(obj, dict) else None
            if isinstance(value, list):
                return shlex.join(str(v) for v in value)
            if isinstance(value, str) and value:
                return value
    return None


def command_line(run: Run) -> tuple[str | None, bool]:
    """(command, recorded): what the run recorded, else one rebuilt from results.json and the
    config (an equivalent command: every config field that differs from the preset as --set)."""
    first = run.parts[0] if run.parts else None
    found = recorded_command(run.path, run.results, first.config if first else None)
    if found is None and first is not None and first.path != run.path:
        found = recorded_command(first.path, first.config)
    if found is not None:
        return found, True
    if run.kind != "finetune" or not run.results.get("task") or first is None:
        return None, False
    return _rebuilt_finetune(run, first.config or {}), False


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "none"
    if isinstance(v, list | tuple):
        return "[" + ",".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ",".join(f"{k}={_toml_value(x)}" for k, x in v.items()) + "}"
    return str(v)


def _rebuilt_finetune(run: Run, cfg: dict[str, Any]) -> str:
    from labram.train.config import train_config

    r = run.results
    size, recipe = cfg.get("size", "base"), cfg.get("recipe", "default")
    args = ["labram", "finetune"]
    for s in r.get("stores", []):
        args += ["--store", str(s)]
    args += ["--task", str(r["task"])]
    if r.get("init"):
        args += ["--init", str(r["init"])]
    seeds = sorted({s for p in run.parts if isinstance(s := p.metrics.get("seed"), int)})
    if len(seeds) > 1:
        args += ["--seeds", str(len(seeds))]
    proto = r.get("protocol")
    if isinstance(proto, dict) and proto.get("name", "full") != "full":
        args += ["--splits", str(run.path / "splits.json")]  # the folds, exactly
    args += ["--size", str(size), "--out", str(run.path)]
    if recipe != "default":
        args += ["--recipe", str(recipe)]
    if seeds and min(seeds) != 0:
        args += ["--seed", str(min(seeds))]
    try:
        preset = train_config("finetune", size, recipe=recipe).to_dict()
    except (ValueError, TypeError):
        preset = {}
    skip = {"stage", "size", "recipe", "seed"}
    for k, v in cfg.items():
        if k in skip or k not in preset or _toml_value(preset[k]) == _toml_value(v):
            continue
        if k == "deterministic" and v is True:
            args.append("--deterministic")
        elif k in FLAGS and v is not None:
            args += [FLAGS[k], _toml_value(v)]
        else:
            args += ["--set", f"{k}={_toml_value(v)}"]
    return shlex.join(args)


# ---- text ------------------------------------------------------------------------------------


def _fmt(v: Any) -> str:
    return f"{v:.4f}" if _finite(v) else "-"


def _mean_std(s: dict[str, Any] | None) -> str:
    if not s or not _finite(s.get("mean")):
        return "-"
    n = len(s.get("values", []))
    return f"{s['mean']:.4f} +- {s['std']:.4f}" + (f" ({n})" if n > 1 else "")


def _protocol_text(results: dict[str, Any]) -> str:
    """``, protocol cross-subject (5 folds)``; empty for ``full`` and older runs."""
    p = results.get("protocol")
    if not isinstance(p, dict) or p.get("name", "full") == "full":
        return ""
    n = len(results.get("folds") or [])
    return f", protocol {p['name']}" + (f" ({n} folds)" if n > 1 else "")


def _headline(runs: list[Run]) -> list[str]:
    have = {k for r in runs for k in r.summary}
    return [m for m in METRICS if m in have]


def text_summary(runs: list[Run]) -> str:
    """A few lines per run: what it is, its test metrics (mean +- std), what the page lacks."""
    lines = []
    for run in runs:
        if run.kind == "pretrain":
            stages = ", ".join(
                f"{p.name}: {len(p.log)} log rows, last loss {_fmt(p.log[-1].get('loss'))}"
                if p.log else f"{p.name}: no log"
                for p in run.parts
            )  # fmt: skip
            lines.append(f"{run.path} (pre-training; {stages})")
            continue
        r = run.results
        win = r.get("windows") or {}
        wtext = " / ".join(f"{k} {v}" for k, v in win.items())
        lines.append(
            f"{run.path} (finetune {r.get('task', '?')}{_protocol_text(r)}, {len(run.parts)} "
            "seed(s)" + (f"; windows {wtext}" if wtext else "") + ")"
        )  # fmt: skip
        summary = run.summary
        for m in _headline([run]):
            lines.append(f"  {m:<18} {_mean_std(summary.get(m))}")
        n_pred = sum(p.predictions is not None for p in run.parts)
        lines.append(f"  predictions: {n_pred} of {len(run.parts)} seed(s) saved {PREDICTIONS}")
    return "\n".join(lines)


# ---- scores from predictions -----------------------------------------------------------------


def confusion(preds: dict[str, Any]) -> np.ndarray:
    """Counts, shape (n_classes, n_classes): rows the true class, columns the predicted (the
    most probable) class, in ``preds["classes"]`` order; test windows only."""
    classes = preds["classes"]
    m = np.zeros((len(classes), len(classes)), np.int64)
    for row in _test_rows(preds):
        if row.get("label") in classes:
            p = [row.get(f"p_{c}", math.nan) for c in classes]
            m[classes.index(row["label"]), int(np.nanargmax(p))] += 1
    return m


def _test_rows(preds: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in preds["rows"] if r.get("split", "test") in ("test", "")]


def subject_scores(preds: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per subject: windows, true labels, and accuracy and mean probability of the true class
    (classification) or RMSE and Pearson r over the subject's windows (regression)."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in _test_rows(preds):
        groups.setdefault(row.get("subject") or "(none)", []).append(row)
    out = {}
    for subject, rows in sorted(groups.items()):
        if preds["kind"] == "classification":
            classes = preds["classes"]
            probs = np.array([[r.get(f"p_{c}", math.nan) for c in classes] for r in rows])
            true = np.array([classes.index(r["label"]) if r["label"] in classes else -1
                             for r in rows])  # fmt: skip
            ok = true >= 0
            hit = probs[ok].argmax(axis=1) == true[ok] if ok.any() else np.zeros(0, bool)
            out[subject] = {
                "windows": len(rows),
                "labels": sorted({r["label"] for r in rows}),
                "accuracy": float(hit.mean()) if hit.size else math.nan,
                "p_true": float(probs[ok, true[ok]].mean()) if ok.any() else math.nan,
            }
        else:
            t = np.array([[v for k, v in r.items() if k.startswith("target_")] for r in rows])
            p = np.array([[v for k, v in r.items() if k.startswith("pred_")] for r in rows])
            from labram.train.metrics import regression

            out[subject] = {"windows": len(rows), **regression(t, p)}
    return out


# ---- html ------------------------------------------------------------------------------------


def _e(x: Any) -> str:
    return html.escape(str(x))


def _table(head: list[str], rows: list[list[Any]]) -> str:
    th = "".join(f"<th>{_e(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><tr>{th}</tr>{body}</table>"


def _side_by_side(runs: list[Run]) -> str:
    ft = [r for r in runs if r.kind == "finetune"]
    if not ft:
        return "<p>No fine-tuning run among these folders.</p>"
    metrics = _headline(ft)
    rows = []
    for r in ft:
        s = r.summary
        rows.append([r.path, r.results.get("task", "?"), len(r.parts),
                     *(_mean_std(s.get(m)) for m in metrics)])  # fmt: skip
    return _table(["run", "task", "seeds", *metrics], rows) + (
        "<p>Test metrics of the validation-selected model, mean +- std (population) over "
        "seeds; (n): seeds.</p>"
    )


def _metrics_html(run: Run) -> str:
    metrics = _headline([run])
    head = ["metric", "mean +- std", *(p.name for p in run.parts)]
    s = run.summary
    rows = [
        [m, _mean_std(s.get(m)), *(_fmt((p.metrics.get("test") or {}).get(m)) for p in run.parts)]
        for m in metrics
    ]
    val = [
        [p.name, p.metrics.get("best_epoch", "-"),
         *(_fmt((p.metrics.get("val") or {}).get(m)) for m in metrics)]
        for p in run.parts
    ]  # fmt: skip
    return (
        _table(head, rows)
        + "<p>Validation (the selected epoch):</p>"
        + _table(["seed", "best epoch", *metrics], val)
    )


def _confusion_html(run: Run) -> str:
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
        f"{len(with_preds)} seed(s) ({_e(names)}); the predicted class is the most probable "
        "one; % of the true class's windows.</p>"
    )


def _subjects_html(run: Run) -> str:
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
        extra = ([", ".join(anyone["labels"]), _fmt(anyone["p_true"])]
                 if kind == "classification" else [_fmt(anyone["pearson_r"])])  # fmt: skip
        mean = float(np.nanmean(vals)) if any(_finite(v) for v in vals) else math.nan
        rows.append([s, anyone["windows"], *extra, _fmt(mean), *(_fmt(v) for v in vals)])
    rows.sort(key=lambda r: (float(r[-len(per_seed) - 1]) if r[-len(per_seed) - 1] != "-"
                             else math.inf))  # fmt: skip
    if kind == "regression":
        rows.reverse()  # the largest error first
    extra_head = (["labels", f"p(true), {with_preds[0].name}"] if kind == "classification"
                  else [f"pearson r, {with_preds[0].name}"])  # fmt: skip
    table = _table(["subject", "windows", *extra_head, f"mean {key}", *per_seed], rows)
    worst = "lowest accuracy" if kind == "classification" else "largest RMSE"
    text = f"<p>{len(subjects)} test subjects, {worst} first.</p>"
    if len(rows) > 25:
        return f"{text}<details><summary>all subjects</summary>{table}</details>"
    return text + table


def _curves(run: Run) -> str | None:
    """One panel per logged column (loss, lr, ...) against the step, a line per seed/stage."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    parts = [p for p in run.parts if p.log]
    if not parts:
        return None
    names = [k for k in dict.fromkeys(k for p in parts for k in p.log[0]) if k not in
             ("step", "epoch")]  # fmt: skip
    cols = min(3, max(len(names), 1))
    nrows = (len(names) + cols - 1) // cols
    fig, axes = plt.subplots(nrows, cols, figsize=(4 * cols, 2.8 * nrows), squeeze=False)
    for ax, name in zip(axes.flat, names):
        for p in parts:
            steps = [r.get("step", i) for i, r in enumerate(p.log)]
            ax.plot(steps, [r.get(name, math.nan) for r in p.log], lw=1.2, marker=".",
                    label=p.name)  # fmt: skip
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("step", fontsize=8)
        ax.tick_params(labelsize=7)
        vals = [r.get(name, math.nan) for p in parts for r in p.log]
        if (name == "loss" or name.endswith("_loss")) and all(v > 0 for v in vals if _finite(v)):
            ax.set_yscale("log")
        if len(parts) > 1:
            ax.legend(fontsize=6)
    for ax in list(axes.flat)[len(names) :]:
        ax.axis("off")
    fig.tight_layout()
    return _png(fig)


def _command_html(run: Run) -> str:
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


def _config_html(run: Run) -> str:
    out = []
    for p in run.parts[:1] if run.kind == "finetune" else run.parts:
        if p.config is None:
            continue
        cfg = {k: v for k, v in p.config.items() if k != "seed"} if run.kind == "finetune" \
            else p.config  # fmt: skip
        rows = [[k, strict_json.dumps(v)] for k, v in cfg.items()]
        label = "every seed's (seed aside)" if run.kind == "finetune" else p.name
        out.append(f"<details><summary>{_e(label)}: {len(rows)} fields</summary>"
                   f"{_table(['field', 'value'], rows)}</details>")  # fmt: skip
    return "".join(out) or "<p>No config.json in the run folder.</p>"


def _run_html(k: int, run: Run) -> str:
    r = run.results
    facts = []
    if run.kind == "finetune":
        facts = [f"task <code>{_e(r.get('task', '?'))}</code>{_e(_protocol_text(r))}",
                 f"{len(run.parts)} seed(s)", f"init <code>{_e(r.get('init'))}</code>"]  # fmt: skip
        if r.get("windows"):
            facts.append("windows " + ", ".join(f"{_e(a)} {_e(b)}" for a, b in
                                                r["windows"].items()))  # fmt: skip
        if r.get("stores"):
            facts.append("stores " + ", ".join(f"<code>{_e(s)}</code>" for s in r["stores"]))
    parts = [f"<h2 id='run{k}'>{_e(run.path)}</h2><p>{_e(run.kind)}: {'; '.join(facts)}</p>"]
    if r.get("leakage"):
        parts.append(f"<p>Leakage check: {_e(r['leakage'])}</p>")
    if run.kind == "finetune":
        parts += ["<h3>Test metrics</h3>", _metrics_html(run),
                  "<h3>Confusion matrix</h3>", _confusion_html(run),
                  "<h3>Per-subject scores</h3>", _subjects_html(run)]  # fmt: skip
    else:
        for p in run.parts:
            if p.metrics:
                rows = [[k2, strict_json.dumps(v)] for k2, v in p.metrics.items()]
                parts.append(f"<h3>{_e(p.name)} summary</h3>{_table(['', ''], rows)}")
    curves = _curves(run)
    parts.append("<h3>Training curves</h3>")
    parts.append(f'<img alt="curves" src="{curves}">' if curves else "<p>No log.csv.</p>")
    parts += ["<h3>Command</h3>", _command_html(run), "<h3>Config</h3>", _config_html(run)]
    return "".join(parts)


def write_html(runs: list[Run], path: str | Path) -> Path:
    """Write the results page for ``runs``; returns its path."""
    toc = "".join(f"<li><a href='#run{k}'>{_e(r.path)}</a></li>" for k, r in enumerate(runs))
    body = [
        f"<h1>labram results</h1><ul>{toc}</ul>",
        "<h2>Runs side by side</h2>",
        _side_by_side(runs),
        *(_run_html(k, r) for k, r in enumerate(runs)),
    ]
    css = _CSS + "pre{white-space:pre-wrap;background:#f6f6f6;padding:8px}.cm td{text-align:center}"
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>labram results</title>"
        f"<style>{css}</style></head><body>{''.join(body)}</body></html>"
    )
    out = Path(path)
    out.write_text(page, encoding="utf-8")
    return out
