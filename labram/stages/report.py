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

import copy
import csv
import math
import os
import re
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any

import numpy as np

from eegprep.base import strict_json
from eegprep.base.errors import ChangedFileError, UsageError
from eegprep.base.path_limits import shown_path, unmatched_pattern
from eegprep.base.sealed_json import unsealed
from eegprep.base.user_files import USER_FILE_LIMIT, read_user_file
from eegprep.base.wording import counted
from labram.checkpoints import made_by
from labram.stages.backbone_used import KEY as BACKBONE_KEY
from labram.stages.backbone_used import describe as describe_backbone
from labram.stages.predictions import FILENAME as PREDICTIONS
from labram.stages.predictions import read_predictions, read_table
from labram.stages.provenance_records import checked
from labram.stages.report_values import odd_line, screened
from labram.stages.tokenizer_used import KEY as TOKENIZER_KEY
from labram.stages.tokenizer_used import describe as describe_tokenizer
from labram.train.runlog import checked_rows, whole_rows

if TYPE_CHECKING:
    from eegprep.store.reader import Store

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
    unfinished: str | None = None  # what a stage killed before its end lacks (its model file)


@dataclass
class RunFolder:
    """What one run folder holds."""

    path: Path
    kind: str  # finetune | pretrain
    results: dict[str, Any] = field(default_factory=dict)
    parts: list[Part] = field(default_factory=list)
    command: str | None = None
    command_recorded: bool = False
    pretrain_root: bool = False  # a `labram pretrain` folder (both stages), not one stage's
    tokenizer: Any = None  # its tokenizer record (tokenizer_used), when it has one
    odd: list[str] = field(default_factory=list)  # a line per run file with values not shown

    @property
    def summary(self) -> dict[str, dict[str, Any]]:
        """metric -> {mean, std, values} over seeds (``results.json``'s, else computed)."""
        saved = self.results.get("test")
        if isinstance(saved, dict) and saved:
            return saved
        from labram.train.metrics import summarise

        tests = [p.metrics.get("test") or {} for p in self.parts]
        return summarise([{k: v for k, v in t.items() if is_finite(v)} for t in tests if t])


def is_finite(v: Any) -> bool:
    """Whether ``v`` is a finite number (``true`` in a JSON file is not one)."""
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


RUN_FILE_LIMIT = USER_FILE_LIMIT
"""The largest JSON or command file of a run read, bytes (16 MiB; a ``results.json`` of 5 seeds
and 10 folds is a few kB): one of gigabytes is refused in one line, never read whole."""

UNREADABLE = (OSError, ValueError, csv.Error)
"""What reading a run's file can raise (a ``UnicodeDecodeError`` is a ``ValueError``): each
becomes one line naming the file (:func:`_unreadable`)."""


def _unreadable(path: Path, exc: BaseException) -> UsageError:
    if isinstance(exc, UnicodeDecodeError):
        why = f"not UTF-8 text: byte 0x{exc.object[exc.start]:02x} at offset {exc.start}"
    else:
        why = " ".join(str(exc).split()) or type(exc).__name__
    return UsageError(f"{shown_path(path)}: unreadable ({why})")


def _text(path: Path) -> str:
    raw = read_user_file(path, "run file", UsageError, limit=RUN_FILE_LIMIT)
    try:
        return raw.decode("utf-8")
    except UNREADABLE as exc:
        raise _unreadable(path, exc) from None


def _json(path: Path) -> Any:
    text = _text(path)
    try:
        return strict_json.loads(text)
    except ValueError as exc:
        raise _unreadable(path, exc) from None


class RunFiles:
    """The files of the run folders one report reads, each read and parsed once: a file read
    twice (a ``config.json`` that says whether the folder is a ``labram pretrain`` run, then
    gives its tokenizer; a ``results.json`` of a run and of its seed folder, both named) could
    be replaced between the reads, and the page mixed two versions. Each read is through
    :func:`~eegprep.base.user_files.read_user_file` (a file rewritten while read is refused in
    one line); an error is kept and raised again for each later use, a JSON value copied."""

    def __init__(self) -> None:
        self._read: dict[tuple[str, str], tuple[bool, Any]] = {}
        self.odd: dict[str, str] = {}
        """Run file -> the line saying which of its values are not shown (no result,
        :mod:`labram.stages.report_values`): one per file, however many runs read it."""
        self.odd_read: list[str] = []  # the run files with such values the last run read

    def once(self, kind: str, path: Path, read: Callable[[Path], Any]) -> Any:
        """``read(path)`` (``kind``: what it parses), the first time this report reads it."""
        key = (kind, os.path.realpath(path))
        if key not in self._read:
            try:
                self._read[key] = (True, read(path))
            except UsageError as exc:
                self._read[key] = (False, exc)
        ok, value = self._read[key]
        if not ok:
            raise value
        return copy.deepcopy(value) if kind == "json" else value

    def json(self, path: Path) -> Any:
        return self.once("json", path, _json)

    def text(self, path: Path) -> str:
        return str(self.once("text", path, _text))


_RESTORE = "restore it from a copy"


def _log(path: Path) -> list[dict[str, float]]:
    if not path.is_file():
        return []
    rows = []
    try:
        text = whole_rows(read_table(path, "training log", _RESTORE))  # (a cut last row: none)
        for r in checked_rows(path, text, _RESTORE):  # (a flipped digit)
            row = {}
            for k, v in r.items():
                try:
                    row[k] = float(v)
                except (TypeError, ValueError):
                    row[k] = math.nan
            rows.append(row)
    except UsageError:  # (too large: its own line)
        raise
    except UNREADABLE as exc:
        raise _unreadable(path, exc) from None
    return rows


def _predictions(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        return read_predictions(path)
    except UsageError:  # not a predictions file: its own line
        raise
    except UNREADABLE as exc:
        raise _unreadable(path, exc) from None


SHAPES: dict[str, dict[str, type]] = {
    "results.json": {"task": str, "stores": list, "seeds": list, "test": dict, "windows": dict,
                     "protocol": dict, "folds": list},
    "metrics.json": {"test": dict, "val": dict, "seed": int, "checkpoint": str},
    "summary.json": {},
    "config.json": {},
}  # fmt: skip
"""The entries of a run's JSON files the report reads, and their types (``null`` is taken as
absent): a file edited or written by something else is one line naming the entry. A
``config.json`` is only required to be an object."""
_ITEMS: dict[str, type] = {"stores": str, "seeds": dict, "folds": dict}
"""Lists whose items must be of one type."""


def _run_json(path: Path, files: RunFiles) -> dict[str, Any]:
    """A run's JSON file (:data:`SHAPES` names it), refused in one line unless it is an object
    whose entries the report reads have their types."""
    obj = files.json(path)
    if not isinstance(obj, dict):
        raise _not_a_run_file(path, "it", obj, "an object")
    obj = unsealed(path, obj)  # (a flipped bit in a digit is still JSON: its checksum says)
    obj = _checked(path, obj, SHAPES.get(path.name, {}), "its")
    if path.name == "results.json":  # each seed's entry joins that seed's metrics.json
        obj["seeds"] = [_checked(path, s, SHAPES["metrics.json"], "a seed's") for s in
                        obj.get("seeds", [])]  # fmt: skip
        for m, v in (obj.get("test") or {}).items():
            if not isinstance(v, dict):
                raise _not_a_run_file(path, f"its test metric {m!r}", v, "{mean, std, values}")
    if path.name in ("results.json", "metrics.json", "summary.json"):
        obj, said = screened(path.name, obj)  # (values that are no result: not shown, said)
        if said:
            files.odd[str(path)] = odd_line(path, said)
            files.odd_read.append(str(path))
    return obj


def _checked(path: Path, obj: dict[str, Any], shapes: dict[str, type], whose: str) -> dict:
    """``obj`` without the ``null`` entries of ``shapes`` (absent, as older runs have them),
    once each such entry it has is of its type (a list's items too, where :data:`_ITEMS`
    names theirs)."""
    obj = {k: v for k, v in obj.items() if v is not None or k not in shapes}
    for key, want in shapes.items():
        value = obj.get(key)
        if value is not None and (not isinstance(value, want) or isinstance(value, bool)):
            raise _not_a_run_file(path, f"{whose} {key!r}", value, _a(want))
        item = _ITEMS.get(key, object)
        for v in value if isinstance(value, list) else []:
            if not isinstance(v, item):
                raise _not_a_run_file(path, f"an item of {whose} {key!r}", v, _a(item))
    return obj


_JSON_NAMES = {dict: "object", list: "array", str: "string", int: "integer", float: "number",
               bool: "boolean", type(None): "null"}  # fmt: skip
"""JSON's names of what a parse gives (a run file is JSON: "a JSON dict, not a int" named
Python's types, in the wrong article)."""


def _a(kind: type) -> str:
    """``kind`` in JSON's words, with its article: ``an integer``, ``an object``."""
    name = _JSON_NAMES.get(kind, kind.__name__)
    return f"{'an' if name[0] in 'aeiou' else 'a'} {name}"


def _not_a_run_file(path: Path, what: str, value: Any, want: str) -> UsageError:
    return UsageError(
        f"{shown_path(path)}: {what} is a JSON "
        f"{_JSON_NAMES.get(type(value), type(value).__name__)}, not {want}: not a labram run file "
        "(edited, or written by something else)"
    )


def _part(name: str, path: Path, metrics_file: str, files: RunFiles) -> Part:
    cfg = _run_json(path / "config.json", files) if (path / "config.json").is_file() else None
    metrics = _run_json(path / metrics_file, files) if (path / metrics_file).is_file() else {}
    log = files.once("log", path / "log.csv", _log)
    return Part(name, path, log, cfg, metrics, files.once("predictions", path / PREDICTIONS,
                                                          _predictions))  # fmt: skip


def _part_name(run: Path, folder: Path) -> str:
    """``seed0``, or ``fold1/seed0`` for a protocol with folds (labram.data.protocols)."""
    try:
        return folder.relative_to(run).as_posix()
    except ValueError:
        return folder.name


def load_run(path: str | Path, files: RunFiles | None = None) -> RunFolder:
    """Read a run folder (see the module docstring); a folder that is none of those is a
    UsageError naming it. ``files``: what the report read already (one per report: each file
    read once, :class:`RunFiles`)."""
    path, files = Path(path), files if files is not None else RunFiles()
    files.odd_read = []
    root: Path | None = None  # a seed folder's run, whose command it takes
    if not path.is_dir():
        hint = "" if os.path.lexists(path) else unmatched_pattern(path)
        raise UsageError(f"{shown_path(path)}: no such run folder{hint}")
    if (path / "results.json").is_file():
        results = _run_json(path / "results.json", files)
        if BACKBONE_KEY in results:  # (a malformed record: warned, shown as such)
            results[BACKBONE_KEY] = checked(
                str(path / "results.json"), BACKBONE_KEY, results[BACKBONE_KEY]
            )
        parts = []
        for s in results.get("seeds", []):
            folder = _seed_folder(path, s.get("seed"), s.get("checkpoint"))
            part = _part(_part_name(path, folder), folder, "metrics.json", files)
            part.metrics = {**s, **part.metrics}
            parts.append(part)
        run = RunFolder(path, "finetune", results, parts)
    elif (path / "metrics.json").is_file():
        run, root = _one_seed_run(path, files)
    else:
        stages = [d for d in (path / "tokenizer", path / "mem") if (d / "log.csv").is_file()]
        if not stages and (path / "log.csv").is_file():
            stages = [path]
        if not stages:
            _refuse_unfinished_finetune(path)
            raise UsageError(
                f"{shown_path(path)}: not a labram run folder (expected results.json of labram "
                "finetune, metrics.json of one seed, or log.csv of a pre-training stage)"
            )
        parts = [_part(d.name, d, "summary.json", files) for d in stages]
        run = RunFolder(path, "pretrain", {}, parts)
        for part in run.parts:
            final = "model.pt" if part.name == "mem" else "tokenizer.pt"
            if part.path == path and (path / "model.pt").is_file():
                final = "model.pt"
            if not (part.path / final).is_file():
                part.unfinished = f"no {final}"
        run.pretrain_root = _is_pretrain_root(path, files)
        if [p.name for p in run.parts] == ["tokenizer"] and run.pretrain_root:
            run.parts.append(Part("mem", path / "mem", unfinished="not started"))
        if run.pretrain_root:  # which tokenizer's codes the masked model predicts
            raw = _run_json(path / "config.json", files).get(TOKENIZER_KEY)
            run.tokenizer = checked(str(path / "config.json"), TOKENIZER_KEY, raw)
    run.command, run.command_recorded = command_line(run, files)
    if root is not None and not run.command_recorded:  # a seed folder: its run's command
        found = recorded_command(root, files=files)
        run.command, run.command_recorded = (found, True) if found else (run.command, False)
    run.odd = [files.odd[p] for p in dict.fromkeys(files.odd_read)]
    return run


def _one_seed_run(path: Path, files: RunFiles) -> tuple[RunFolder, Path | None]:
    """The run of one seed folder, and the folder of its run's ``results.json`` (None where
    there is none): beside ``seed<N>/``, or above ``fold<k>/seed<N>/``, whose folds' sums
    (``windows``, ``folds``) are no one seed folder's and are left out."""
    fold = re.fullmatch(r"fold\d+", path.parent.name) is not None
    root = path.parent.parent if fold else path.parent
    found = (root / "results.json").is_file()
    results = _run_json(root / "results.json", files) if found else {}
    left = ("seeds", "test", "folds", "windows") if fold else ("seeds", "test")
    results = {k: v for k, v in results.items() if k not in left}
    part = _part(path.name, path, "metrics.json", files)
    return RunFolder(path, "finetune", results, [part]), root if found else None


def _seed_folder(run: Path, seed: Any, checkpoint: Any) -> Path:
    """The folder of one seed of the fine-tuning run folder ``run``: ``seed<N>``, else the
    folder of the seed's ``checkpoint`` as it lies in ``run`` (``fold<k>/seed<N>``: its last
    components, wherever the run was written or moved to). Never a folder outside ``run``: a
    ``results.json`` from elsewhere named any path (``/home/you/other-run/seed0/best.pt``), and
    the files there were read into the page."""
    plain = run / f"seed{seed}"
    if plain.is_dir() or not isinstance(checkpoint, str):
        return plain
    parts = PurePath(checkpoint).parent.parts
    for k in (2, 1):  # fold<k>/seed<N>, then seed<N>
        tail = parts[-k:] if len(parts) >= k else ()
        if tail and all(p not in ("", ".", "..") and "/" not in p and "\\" not in p
                        for p in tail):  # fmt: skip
            folder = run.joinpath(*tail)
            if folder.is_dir():
                return folder
    return plain


def _is_pretrain_root(path: Path, files: RunFiles) -> bool:
    """Whether ``path`` is a ``labram pretrain`` folder (its config.json holds both stages).
    A config.json rewritten while read is that line, not "no such folder"."""
    try:
        record = files.json(path / "config.json")
    except ChangedFileError:
        raise
    except UsageError:
        return False
    return isinstance(record, dict) and "mem" in unsealed(path / "config.json", record)


def _refuse_unfinished_finetune(path: Path) -> None:
    """A fine-tuning folder killed before its ``results.json``: one line saying what it lacks."""
    seeds = sorted(
        d for d in (*path.glob("seed*"), *path.glob("fold*/seed*")) if (d / "log.csv").is_file()
    )
    if not seeds and not (path / "splits.json").is_file():
        return
    done = [d for d in seeds if (d / "metrics.json").is_file()]
    what = ", ".join(_part_name(path, d) for d in seeds if d not in done) or "no seed started"
    raise UsageError(
        f"{shown_path(path)}: an unfinished labram finetune run (no results.json; unfinished: "
        f"{what}; {counted(len(done), 'seed')} done): run the same command with --resume to finish "
        "it"
    )


def add_predictions(
    run: RunFolder, *, stores: Sequence[str | Store] | None = None, device: str | None = None
) -> list[Path]:
    """For each seed of a fine-tuning run without ``predictions.csv``: run its ``best.pt`` again
    on the test windows of ``stores`` (default: those ``results.json`` names) and save them
    (:func:`labram.stages.predictions.predict_checkpoint`). Returns the files written."""
    from labram.data.windows import open_stores
    from labram.stages.predictions import predict_checkpoint

    if run.kind != "finetune":
        return []
    stores = list(stores or run.results.get("stores") or [])
    task = run.results.get("task")
    if not stores or not task:
        raise UsageError(
            f"{shown_path(run.path)}: --predict needs the run's task and stores (results.json "
            "names none; give --store)"
        )
    written = []
    labels = _recorded_labels(run.path)
    for part in run.parts:
        best = part.path / "best.pt"
        if part.predictions is not None or not best.is_file():
            continue
        stores = open_stores(stores)  # once for every seed (a list it returned passes through)
        path = predict_checkpoint(best, stores, str(task), device=device, labels=labels)
        part.predictions = read_predictions(path)
        written.append(path)
    return written


def _recorded_labels(run: Path) -> str | None:
    """The digest of the task's labels a fine-tuning run's ``splits.json`` records
    (:func:`~labram.data.protocols.labels_digest`); None where it records none (an earlier
    labram's run, a seed folder given alone)."""
    from labram.train.run import read_run_json

    record = read_run_json(run / "splits.json") if (run / "splits.json").is_file() else None
    labels = record.get("labels") if isinstance(record, dict) else None
    return labels if isinstance(labels, str) else None


def recorded_command(
    folder: Path, *jsons: dict[str, Any] | None, files: RunFiles | None = None
) -> str | None:
    """The command line a run recorded: ``command.txt``, or a ``command`` / ``argv`` entry of
    its config or results; None if it recorded none."""
    for name in COMMAND_FILES:
        if (folder / name).is_file():
            return (files or RunFiles()).text(folder / name).strip()
    for obj in jsons:
        for key in COMMAND_KEYS:
            value = obj.get(key) if isinstance(obj, dict) else None
            if isinstance(value, list):
                return shlex.join(str(v) for v in value)
            if isinstance(value, str) and value:
                return value
    return None


def command_line(run: RunFolder, files: RunFiles | None = None) -> tuple[str | None, bool]:
    """(command, recorded): what the run recorded, else one rebuilt from results.json and the
    config (an equivalent command: every config field that differs from the preset as --set)."""
    first = run.parts[0] if run.parts else None
    found = recorded_command(run.path, run.results, first.config if first else None, files=files)
    if found is None and first is not None and first.path != run.path:
        found = recorded_command(first.path, first.config, files=files)
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


def _rebuilt_finetune(run: RunFolder, cfg: dict[str, Any]) -> str:
    from labram.train.config import FORMAT_KEY, current_form, train_config

    try:  # an older version's form of a setting as this one writes it (label_smoothing 0)
        cfg = current_form(cfg)
    except ValueError:
        pass  # (a form this version does not know: compared as it stands)
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
    skip = {"stage", "size", "recipe", "seed", FORMAT_KEY}
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


def fmt_value(v: Any) -> str:
    """A metric as shown: 4 decimals, in exponent form from 1e9 on (a number read from a run
    file may have 300 digits), ``-`` when it is no finite number."""
    if not is_finite(v):
        return "-"
    return f"{v:.4f}" if abs(v) < 1e9 else f"{v:.4e}"


def mean_std(s: dict[str, Any] | None) -> str:
    """``mean +- std (n)`` of a metric's table over seeds; what a table does not state as a
    number (a std missing, null or text in a run file edited by hand) is left out, never an
    error."""
    if not isinstance(s, dict) or not is_finite(s.get("mean")):
        return "-"
    values = s.get("values")
    n = len(values) if isinstance(values, list) else 0
    std = f" +- {fmt_value(s['std'])}" if is_finite(s.get("std")) else ""
    return fmt_value(s["mean"]) + std + (f" ({n})" if n > 1 else "")


def protocol_text(results: dict[str, Any]) -> str:
    """``, protocol cross-subject (5 folds)``; empty for ``full`` and older runs."""
    p = results.get("protocol")
    if not isinstance(p, dict) or p.get("name", "full") == "full":
        return ""
    n = len(results.get("folds") or [])
    return f", protocol {p['name']}" + (f" ({counted(n, 'fold')})" if n > 1 else "")


def seeds_text(run: RunFolder) -> str:
    """``3 seeds``: the seeds a fine-tuning run trained; a run of folds (cross-subject, loso)
    ran each seed on every fold, and counts them once (``protocol_text`` counts its folds)."""
    n_folds = len(run.results.get("folds") or [])
    if n_folds < 2:
        return counted(len(run.parts), "seed")
    seeds = {s for p in run.parts if isinstance(s := p.metrics.get("seed"), int)}
    return counted(len(seeds) or max(1, len(run.parts) // n_folds), "seed")


def part_word(run: RunFolder) -> str:
    """What one part of a fine-tuning run is called: ``seed``, or ``fold x seed run`` for a
    run of folds (its parts ``fold<i>/seed<N>``)."""
    return "fold x seed run" if len(run.results.get("folds") or []) > 1 else "seed"


def headline(runs: list[RunFolder]) -> list[str]:
    have = {k for r in runs for k in r.summary}
    return [m for m in METRICS if m in have]


def text_summary(runs: list[RunFolder]) -> str:
    """:func:`summary_lines` joined by newlines."""
    return "\n".join(summary_lines(runs))


def summary_lines(runs: list[RunFolder]) -> list[str]:
    """A few lines per run: what it is, its test metrics (mean +- std), what the page lacks.

    A list, not text to split: a run folder's path or task name may hold a newline, which
    must stay inside its line (:func:`eegprep.cli_group.say` shows it as ``\\n``)."""
    lines = []
    for run in runs:
        if run.kind == "pretrain":
            stages = ", ".join(
                (f"{p.name}: {counted(len(p.log), 'log row')}, last loss "
                 f"{fmt_value(p.log[-1].get('loss'))}"
                 if p.log else f"{p.name}: no log")
                + (f" (unfinished: {p.unfinished})" if p.unfinished else "")
                for p in run.parts
            )  # fmt: skip
            lines.append(f"{shown_path(run.path)} (pre-training; {stages})")
            lines += [f"  labram version: {said}" for said in [made_by_text(run)] if said]
            if run.pretrain_root:
                lines.append(f"  tokenizer (targets): {describe_tokenizer(run.tokenizer)}")
            if any(p.unfinished for p in run.parts):
                lines.append("  unfinished: run the same command with --resume to finish it")
            continue
        r = run.results
        win = r.get("windows") or {}
        wtext = " / ".join(f"{k} {'-' if v is None else v}" for k, v in win.items())
        lines.append(
            f"{shown_path(run.path)} (finetune {r.get('task', '?')}{protocol_text(r)}, "
            f"{seeds_text(run)}" + (f"; windows {wtext}" if wtext else "") + ")"
        )  # fmt: skip
        lines += [f"  labram version: {said}" for said in [made_by_text(run)] if said]
        if BACKBONE_KEY in r:  # (a run of an older labram records none: nothing said)
            said = describe_backbone(r[BACKBONE_KEY])
            lines.append(f"  initial weights (fine-tuned from): {said}")
        summary = run.summary
        for m in headline([run]):
            lines.append(f"  {m:<18} {mean_std(summary.get(m))}")
        n_pred = sum(p.predictions is not None for p in run.parts)
        lines.append(
            f"  predictions: {n_pred} of {counted(len(run.parts), part_word(run))} saved "
            f"{PREDICTIONS}"
        )
    lines += [f"not shown: {line}" for line in odd_lines(runs)]
    return lines


def made_by_text(run: RunFolder) -> str | None:
    """The labram version a run's files record (:mod:`labram.checkpoints.made_by`): its
    ``results.json``'s, else a part's ``metrics.json`` / ``summary.json``, else its
    ``config.json``; with the versions that wrote a part before a resume by another. None
    when none records one (a run of an earlier labram: nothing said)."""
    docs = [run.results, *(p.metrics for p in run.parts), *(p.config or {} for p in run.parts)]
    version = next((v for d in docs if (v := made_by.recorded(d)) is not None), None)
    earlier = list(dict.fromkeys(v for p in run.parts for v in made_by.earlier(p.config)))
    if version is None and not earlier:
        return None
    return made_by.describe(version, earlier)


def odd_lines(runs: list[RunFolder]) -> list[str]:
    """The line of each run file holding values that are no result (not shown), once each."""
    return list(dict.fromkeys(line for run in runs for line in run.odd))


# ---- scores from predictions -----------------------------------------------------------------


def confusion(preds: dict[str, Any]) -> np.ndarray:
    """Counts, shape (n_classes, n_classes): rows the true class, columns the predicted (the
    most probable) class, in ``preds["classes"]`` order; test windows only, those whose
    probabilities are no numbers at all (empty cells of an edited file) left out."""
    classes = preds["classes"]
    m = np.zeros((len(classes), len(classes)), np.int64)
    for row in _test_rows(preds):
        p = np.array([row.get(f"p_{c}", math.nan) for c in classes], np.float64)
        if row.get("label") in classes and not np.isnan(p).all():  # (no number: no prediction)
            m[classes.index(row["label"]), _predicted(p)] += 1
    return m


def _predicted(p: np.ndarray) -> int:
    """The predicted class of one window's probabilities (n_classes,), some of them NaN
    (empty cells): as the metrics call it (:func:`labram.train.metrics.predicted_class`: a
    tie of two goes to the second) where every one is a number, else the most probable."""
    if np.isnan(p).any():
        return int(np.nanargmax(p))
    from labram.train.metrics import predicted_class

    return int(predicted_class(p[None])[0])


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
            ok = (true >= 0) & ~np.isnan(probs).all(axis=1)  # a window with no probability: none
            hit = np.array([_predicted(q) for q in probs[ok]]) == true[ok]
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
