"""The values of a run's JSON files that ``labram report`` shows as results, checked against
what each can be: a metric of the wrong type (text, a list, ``true``) or outside its range (a
balanced accuracy of 1e308, an AUROC of -3, a negative loss, a count of 2.5) is no result. It is
taken out of what the report shows (a ``-`` in its cell) and said once, in one line per file
naming each key and what it holds (:func:`screened`); the rest of the report goes on. Before, a
value of the wrong type was left out with nothing said, and one out of range shown as a result.

``null`` is no value (AUROC on windows of one class is undefined, written as ``null``): shown as
``-`` as before, and not said.
"""

from __future__ import annotations

import math
from typing import Any

from eegprep.base.path_limits import shown_path
from eegprep.base.wording import counted

UNIT = ("balanced_accuracy", "auroc", "auc_pr", "weighted_f1", "accuracy", "f1", "precision",
        "recall", "sensitivity", "specificity")  # fmt: skip
"""Metrics in [0, 1]: fractions of windows, areas under curves."""
SIGNED_UNIT = ("cohen_kappa", "pearson_r")
"""Metrics in [-1, 1]: agreement beyond chance, a correlation."""
AT_MOST_ONE = ("r2",)
"""Metrics of at most 1 (the coefficient of determination: any worse fit is below 0)."""
COUNTS = ("best_epoch", "epoch", "epochs", "step", "steps", "windows", "codes_used", "n_codes")
"""Entries that count (besides every ``n_*``): whole numbers, at least 0."""
NON_NEGATIVE = ("rmse", "mae", "mse", "perplexity", "lr", "std")
"""Entries of at least 0 (besides every loss: ``loss`` and ``*_loss``)."""
TABLES = ("test", "val", "metrics", "codebook")
"""The objects of a run file whose entries are metrics (``results.json``'s ``test`` holds a
``{mean, std, values}`` object per metric instead)."""


def value_problem(name: str, value: Any) -> str | None:
    """What is wrong with ``value`` as the metric or count ``name``; None when it is a result
    (or ``null``, no value)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"is {_kind(value)}, not a number"
    if not math.isfinite(value):  # (strict JSON holds none: a value given in Python)
        return f"is {value}, not a finite number"
    low, high, whole = _range(name)
    if whole and value != int(value):
        return f"is {_shown(value)}, not a whole number"
    if value < low:
        return f"is {_shown(value)}, below {_shown(low)}" + _of(low, high)
    if value > high:
        return f"is {_shown(value)}, above {_shown(high)}" + _of(low, high)
    return None


def _of(low: float, high: float) -> str:
    """`` (of [0, 1])``: the range, where it is bounded on both sides."""
    return f" (of [{_shown(low)}, {_shown(high)}])" if math.isfinite(low + high) else ""


def _range(name: str) -> tuple[float, float, bool]:
    """(lowest, highest, whole) of the entry ``name``; any finite number where it is none
    this module knows."""
    if name in UNIT:
        return 0.0, 1.0, False
    if name in SIGNED_UNIT:
        return -1.0, 1.0, False
    if name in AT_MOST_ONE:
        return -math.inf, 1.0, False
    if name in COUNTS or name.startswith("n_"):
        return 0.0, math.inf, True
    if name in NON_NEGATIVE or name == "loss" or name.endswith("_loss"):
        return 0.0, math.inf, False
    return -math.inf, math.inf, False


def _shown(v: float) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def _kind(value: Any) -> str:
    if isinstance(value, str):
        text = value if len(value) <= 40 else value[:37] + "..."
        return f"the text {text!r}"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, list):
        return f"a list of {counted(len(value), 'item')}"
    if isinstance(value, dict):
        return f"an object of {counted(len(value), 'entry', 'entries')}"
    return f"a {type(value).__name__}"


def screened(name: str, obj: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """``obj`` (the run file ``name``: ``results.json``, ``metrics.json``, ``summary.json``)
    with each value that is no result replaced by ``null`` (shown as ``-``), and what each
    was, as ``KEY WHAT`` (``test.auroc is -3, outside [0, 1]``)."""
    said: list[str] = []
    results = name == "results.json"
    obj = _screened_tables(obj, "", said, skip=("test",) if results else ())
    if results:
        obj["seeds"] = [
            _screened_tables(s, f"seeds[{i}].", said) if isinstance(s, dict) else s
            for i, s in enumerate(obj.get("seeds") or [])
        ]
        obj["test"] = {m: _screened_summary(m, s, said) for m, s in (obj.get("test") or {}).items()}
    return obj, said


def _screened_tables(
    obj: dict[str, Any], where: str, said: list[str], *, skip: tuple[str, ...] = ()
) -> dict[str, Any]:
    """``obj`` with its counts (``best_epoch``, ``steps``, ...) and the entries of its metric
    tables (:data:`TABLES`, but those ``skip`` names) checked."""
    out = dict(obj)
    for key, value in obj.items():
        if key in skip:
            continue
        if key in TABLES and isinstance(value, dict):
            out[key] = {k: _checked(k, v, f"{where}{key}.{k}", said) for k, v in value.items()}
        elif key in COUNTS or key.startswith("n_"):
            out[key] = _checked_count(key, value, f"{where}{key}", said)
    return out


def _checked_count(name: str, value: Any, where: str, said: list[str]) -> Any:
    """A count, or an object of counts (``results.json``'s ``windows``: one per split), each
    entry checked as the count ``name``. Before, labram's own ``windows`` object was called no
    result ("edited, damaged or written by something else") and left out of the report."""
    if isinstance(value, dict) and value:
        return {k: _checked(name, v, f"{where}.{k}", said) for k, v in value.items()}
    return _checked(name, value, where, said)


def _checked(name: str, value: Any, where: str, said: list[str]) -> Any:
    problem = value_problem(name, value)
    if problem is None:
        return value
    said.append(f"{where} {problem}")
    return None


def _screened_summary(metric: str, summary: Any, said: list[str]) -> Any:
    """One metric's ``{mean, std, values}`` of ``results.json``, each part that is no result
    ``null`` (a ``values`` that is no list: left out)."""
    if not isinstance(summary, dict):
        return summary
    where, out = f"test.{metric}", dict(summary)
    if "mean" in out:
        out["mean"] = _checked(metric, out["mean"], f"{where}.mean", said)
    if "std" in out:
        out["std"] = _checked_std(metric, out["std"], f"{where}.std", said)
    values = out.get("values")
    if isinstance(values, list):
        out["values"] = [_checked(metric, v, f"{where}.values[{i}]", said)
                         for i, v in enumerate(values)]  # fmt: skip
    elif values is not None:
        said.append(f"{where}.values {_kind_is(values)}, not a list")
        del out["values"]
    return out


def _checked_std(metric: str, value: Any, where: str, said: list[str]) -> Any:
    """A standard deviation over seeds of ``metric``: at least 0, and at most half its range
    where that is bounded (values in [0, 1] spread by 0.5 at most)."""
    value = _checked("std", value, where, said)
    low, high, _ = _range(metric)
    if value is None or not math.isfinite(high - low) or value <= (high - low) / 2:
        return value
    said.append(
        f"{where} is {_shown(value)}, above {_shown((high - low) / 2)} (the most values in "
        f"[{_shown(low)}, {_shown(high)}] spread)"
    )
    return None


def _kind_is(value: Any) -> str:
    return f"is {_kind(value)}"


def odd_line(path: Any, said: list[str]) -> str:
    """The one line of the run file ``path`` whose values ``said`` names are not shown."""
    return (
        f"{shown_path(path)}: {counted(len(said), 'value')} not shown, no result (edited, damaged "
        f"or written by something else): {'; '.join(said)}"
    )
