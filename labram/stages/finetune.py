"""``labram finetune``: a task on a labelled store, over several seeds.

Reads top to bottom: task and splits, then per seed: model from ``--init``, the loop with a
validation pass after every epoch (the best epoch on validation is kept as ``best.pt``), the test
metrics of the best model. Seeds report mean +- std (``results.json``, ``results.md``).
``labram evaluate`` (:mod:`labram.stages.evaluate`) scores a saved classifier again.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from eegprep.base.bounds import MOST_SEEDS, check_number
from eegprep.base.errors import ConfigError, UsageError
from eegprep.base.files import write_atomically
from eegprep.base.path_limits import shown_path
from eegprep.base.ranks import end_own_work
from eegprep.base.sealed_json import sealed
from eegprep.base.shown_text import shown_paths
from eegprep.base.unchanged_reads import NamedVersion
from eegprep.base.wording import counted
from eegprep.cli_group import markdown_line
from eegprep.store.reader import Store
from labram.checkpoints.contents import CKPT_FORMAT
from labram.checkpoints.errors import ChangedCheckpointError, CheckpointError
from labram.checkpoints.layouts import (
    check_weight_types,
    first_mismatch,
    is_ours,
    load_ours,
    official_from,
    ours_from,
)
from labram.checkpoints.load import check_index_fits
from labram.checkpoints.made_by import stamped
from labram.checkpoints.meta_models import built
from labram.checkpoints.safe_read import read_checkpoint
from labram.checkpoints.wrappers import plain_state_dict
from labram.data.finite_windows import check_finite_splits
from labram.data.loader import WindowDataset
from labram.data.protocols import (
    SPLITS_FILE,
    Protocol,
    TaskWindows,
    check_split_leakage,
    fold_indexes,
    labels_digest,
    make_folds,
    read_splits,
    splits_record,
    write_splits,
)
from labram.data.sampler import BatchPlan
from labram.data.store_set import given_names
from labram.data.task_records import task_record
from labram.data.tasks import Task, get_task
from labram.data.unreadable import KEY as UNREADABLE
from labram.data.windows import MAX_COUNT, WindowIndex, open_stores
from labram.model.classifier import LaBraMClassifier
from labram.model.config import MODEL_PRESETS, ModelConfig, model_config
from labram.model.mem import LaBraMForMEM
from labram.model.original_init import original_init
from labram.stages import backbone_used
from labram.stages.finetune_resume import check_backbone, check_resumed_seeds, check_resumed_splits
from labram.stages.finetune_warnings import (
    warn_no_validation,
    warn_single_class,
    warn_untrained_classes,
)
from labram.stages.predictions import write_predictions
from labram.stages.scoring import (
    no_window_error,
    predict,
    score,
    selection_metric,
    task_loss,
    task_splits,
    with_smoothing,
)
from labram.stages.tokenizer_used import read_run_record
from labram.train import metrics as M
from labram.train.checkpoint import save_model
from labram.train.config import TrainConfig
from labram.train.distributed import is_main_process, setup
from labram.train.leakage import KEY as SUBJECTS_KEY
from labram.train.leakage import check_test_subjects, make_record, record_of
from labram.train.loop import train
from labram.train.run import (
    Run,
    check_resume_stage,
    check_run_folder,
    run_lock,
    write_run_config,
)
from labram.train.run_folders import check_run_folders, make_run_folder
from labram.train.set_scope import check_split_seed
from labram.train.stage_checks import check_stage_config

log = logging.getLogger(__name__)


def _from_state(
    sd: Any, cfg: ModelConfig, n_outputs: int, source: str = "initial weights"
) -> LaBraMClassifier:
    if not isinstance(sd, dict) or not all(isinstance(v, Tensor) for v in sd.values()):
        what = f"a {type(sd).__name__}" if not isinstance(sd, dict) else "a dict of non-tensors"
        raise CheckpointError(f"{shown_path(source)} are {what}, not a state dict (name -> tensor)")
    try:  # (saved from a DDP or compiled model: the module's own names)
        sd = plain_state_dict(sd)
    except CheckpointError as exc:
        raise CheckpointError(f"{shown_path(source)}: {exc}") from None
    backbone = {k: v for k, v in sd.items() if isinstance(k, str) and k.startswith("backbone.")}
    model = built(lambda: LaBraMClassifier(cfg, n_outputs), backbone, source, cfg, n_outputs)
    check_weight_types(model, backbone, source=source)
    try:
        missing, unexpected = model.load_state_dict(backbone, strict=False)
    except RuntimeError as exc:  # a tensor of another shape
        raise CheckpointError(
            f"{shown_path(source)} do not fit the backbone: {first_mismatch(exc)}"
        ) from None
    bad = [k for k in missing if k.startswith("backbone.")] + list(unexpected)
    if bad:
        raise CheckpointError(f"{shown_path(source)} do not fit the backbone: {bad[:5]}")
    return model


def init_classifier(
    init: str | Path | None, task_outputs: int, size: str, drop_path: float
) -> LaBraMClassifier:
    """The classifier to fine-tune: a fresh head on the backbone of ``init``.

    ``init``: our checkpoint (pre-training ``model.pt``, a training ``last.pt``, a fine-tuned
    classifier), the released ``labram-base.pth``, or None (random weights of ``size``).
    """
    if init is None:
        return LaBraMClassifier(model_config(size, drop_path=drop_path), task_outputs)
    path = Path(init)
    obj = read_checkpoint(path, what="--init checkpoint")  # runs no code from the file
    if isinstance(obj, dict) and obj.get("format") == CKPT_FORMAT:  # a training checkpoint
        if obj.get("kind") == "tokenizer":
            raise CheckpointError(f"{shown_path(path)}: a tokenizer checkpoint, not a LaBraM model")
        try:
            cfg = replace(ModelConfig.from_dict(obj["model_config"]), drop_path=drop_path)
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckpointError(f"{shown_path(path)}: invalid model config ({exc})") from exc
        return _from_state(obj["model"], cfg, task_outputs, f"{shown_path(path)}: its weights")
    if is_ours(obj):
        model = ours_from(obj, source=str(path))
    else:  # (its own head, whatever its outputs: only the backbone is kept)
        model = official_from(obj, "classifier", source=str(path))
    if not isinstance(model, LaBraMClassifier | LaBraMForMEM):
        raise CheckpointError(f"{shown_path(path)}: holds no LaBraM backbone")
    cfg = replace(model.config, drop_path=drop_path)
    return _from_state(model.state_dict(), cfg, task_outputs)


def check_init_size(init: str | Path, size: str) -> None:
    """Refuse an ``init`` checkpoint whose backbone is not the ``size`` preset's (width,
    depth, heads): ``--size tiny --init labram-base.pth`` fine-tuned a base model and recorded
    ``tiny`` in the run's config.

    Raises
    ------
    CheckpointError
        Naming the file, both shapes, and what to do.
    """
    have = init_classifier(init, 1, size, 0.0).config
    want = model_config(size)
    shape = ("dim", "depth", "n_heads")
    if all(getattr(have, k) == getattr(want, k) for k in shape):
        return
    sizes = [n for n, c in MODEL_PRESETS.items() if all(getattr(c, k) == getattr(have, k)
                                                        for k in shape)]  # fmt: skip
    what = f"a {sizes[0]} model" if sizes else "a model of no preset"
    raise CheckpointError(
        f"{init}: holds {what} (dim {have.dim}, depth {have.depth}, {have.n_heads} heads), not "
        f"--size {size} (dim {want.dim}, depth {want.depth}, {want.n_heads} heads): leave "
        "--size out to fine-tune the checkpoint's model, or pass a checkpoint of that size"
    )


def pretrain_record(init: str | Path | None) -> tuple[dict[str, Any] | None, str]:
    """The subjects ``init`` was pre-trained on (None if it records none) and its name."""
    if init is None:
        return make_record([]), "random initial weights"
    return record_of(read_checkpoint(Path(init), what="--init checkpoint"), str(init)), str(init)


def test_subjects(index: WindowIndex) -> set[str]:
    """Subject keys of the recordings that give test windows."""
    return {p.subject_key for p in index.recordings if p.subject_key}


def unkeyed_tests(*indexes: WindowIndex) -> int:
    """How many distinct recordings of ``indexes`` (test splits) have no ``subject_key``."""
    return len({p.id for index in indexes for p in index.recordings if not p.subject_key})


def test_sources(index: WindowIndex) -> set[str]:
    """Source identities (content digest and part) of the recordings that give test windows."""
    return {p.source for p in index.recordings if p.source}


def _one_seed(
    task: Task,
    splits: dict[str, WindowIndex],
    cfg: TrainConfig,
    init: Any,
    run_dir: Path,
    resume: bool,
    device: str | None,
    *,
    probe: bool = False,
    split: dict[str, Any] | None = None,
    backbone: dict[str, Any],
    pin: NamedVersion,
) -> dict[str, Any]:
    """One seed of one fold. ``probe``: train the head alone (linear probe); ``split``: the
    fold, saved in ``best.pt`` so that ``labram evaluate`` cuts the same windows;
    ``backbone``: the record of ``init`` (:func:`labram.stages.backbone_used.record`), kept in
    the seed's ``config.json``, ``last.pt`` and ``best.pt``; ``pin``: the version of ``init``
    that record is of, which this seed's reads of it must be (checked before training)."""
    end_own_work()  # the previous seed returned: until this one trains, checks are every rank's
    dinfo = setup(device)
    model = _seed_model(task, splits, cfg, init, probe)
    plan = BatchPlan(
        splits["train"],
        batch_size=cfg.batch_size,
        seed=cfg.seed,
        rank=dinfo.rank,
        world_size=dinfo.world_size,
    )
    ds = WindowDataset(plan)
    saved = read_run_record(run_dir) if resume else None
    if isinstance(saved, dict) and isinstance(saved.get(backbone_used.KEY), dict):
        backbone = saved[backbone_used.KEY]  # the run's own record, checked (check_backbone)
    subjects = pretrain_record(init)[0]
    pin.check()  # (the weights and subjects just read are those the record describes)
    extra = {
        "best": -math.inf,
        "best_epoch": -1,
        backbone_used.KEY: backbone,
        # what evaluate, predict and embed read of a last.pt as of a best.pt: its classes and
        # windows, its fold, the subjects its initial weights saw
        "task": task_record(task),
        **({"split": split} if split else {}),
        **({SUBJECTS_KEY: subjects} if subjects is not None else {}),
    }

    def same_backbone(saved: dict[str, Any]) -> None:  # last.pt's record (config.json lost)
        backbone_used.check_resume(run_dir, saved, backbone)

    run = Run(cfg, ds, run_dir, dinfo, model.config.to_dict(), "classifier", extra=extra,
              check_extra=same_backbone)  # fmt: skip
    task = with_smoothing(task, cfg)
    run.on_epoch_end = _KeepBest(task, splits["val"], run, subjects, split)
    if dinfo.is_main:
        make_run_folder(run_dir)
        record = {**cfg.to_dict(), backbone_used.KEY: backbone}
        write_run_config(run_dir, record, resume=resume, apart=(backbone_used.KEY,))
    result = train(run, model, _task_step(task), resume=resume)
    return _seed_results(run, model, task, splits, result)


def _seed_model(
    task: Task, splits: dict[str, WindowIndex], cfg: TrainConfig, init: Any, probe: bool
) -> LaBraMClassifier:
    """The classifier a seed starts from, seeded by ``cfg.seed``: ``init``'s weights (checked
    to fit the windows of ``splits``) or the initialisation ``cfg.init`` names; ``probe``:
    its backbone frozen."""
    n_out = splits["train"].labels.shape[1] if task.kind == "regression" else task.n_outputs
    torch.manual_seed(cfg.seed)
    model = init_classifier(init, n_out, cfg.size, cfg.drop_path)
    if init is None and cfg.init == "original":  # from scratch: the authors' initialisation
        original_init(model)  # (it was never applied: `--recipe original` kept ours)
    if init is not None:  # (its tables may be smaller than the task's windows need)
        check_index_fits(model, splits.values(), source=str(init))
    if probe:
        model.freeze_backbone()
    return model


def _task_step(task: Task) -> Any:
    """The training step of ``task``: its loss on a batch (``x (B, N, A, 200)`` in 0.1 mV)."""

    def step_fn(
        m: nn.Module, batch: dict[str, Tensor], _g: torch.Generator
    ) -> tuple[Tensor, dict[str, Any]]:
        return task_loss(task, m(batch["x"], batch["channels"]), batch["y"]), {}

    return step_fn


def _seed_results(
    run: Run,
    model: nn.Module,
    task: Task,
    splits: dict[str, WindowIndex],
    result: dict[str, Any],
) -> dict[str, Any]:
    """A trained seed's summary: its best epoch, its ``best.pt`` (or last weights) scored on
    the test split, its log and the training windows replaced; the main rank writes it as
    the seed's ``metrics.json``."""
    run_dir = run.run_dir
    best = load_ours(run_dir / "best.pt") if (run_dir / "best.pt").exists() else model
    out = {
        "seed": run.cfg.seed,
        "best_epoch": run.extra["best_epoch"],
        **_test(best, task, splits, run),
    }
    out["log"] = str(result["log"])
    if result[UNREADABLE]["windows"]:  # training windows replaced: their samples unreadable
        out[UNREADABLE] = result[UNREADABLE]
    if run.dist.is_main:
        write_atomically(run_dir / "metrics.json", sealed(stamped(out)), durable=True, tidy=True)
    return out


@dataclass
class _KeepBest:
    """The validation pass after every epoch: scores the model on ``val`` and saves it as
    ``best.pt`` when it beats the best so far (``run.extra``: ``best``, ``best_epoch``) under
    the run's selection metric and tie rule; with no validation window, after every epoch, so
    that the last epoch's model is kept. ``best.pt`` carries the task (what ``labram
    predict`` needs), the fold (``split``: evaluate cuts the same windows) and the subjects the
    initial weights saw (``record``: evaluate checks the test subjects against them)."""

    task: Task
    val: WindowIndex
    run: Run
    record: dict[str, Any] | None
    split: dict[str, Any] | None

    def __call__(self, m: nn.Module, epoch: int, step: int) -> dict[str, Any]:
        cfg, dinfo, extra = self.run.cfg, self.run.dist, self.run.extra
        metric = selection_metric(self.task, cfg)
        outputs = predict(
            m, self.val, batch_size=cfg.batch_size, device=dinfo.device,
            source=f"{shown_path(self.run.run_dir)}: epoch {epoch}'s model",
            where=" of the val split",
        )  # fmt: skip
        value = score(self.task, *outputs).get(metric, math.nan)
        if math.isnan(value):  # undefined (AUROC of one class): it selects nothing, so until
            # an epoch's is defined each replaces best.pt, as with no validation window; it
            # kept the first epoch's model, the least trained, by a comparison with NaN
            chosen = extra["best"] == -math.inf
        elif cfg.selection_ties == "later":
            chosen = value >= extra["best"]
        else:
            chosen = value > extra["best"]
        last = len(self.val) == 0  # nothing selects: every epoch replaces best.pt, the last stays
        if dinfo.is_main and (chosen or extra["best_epoch"] < 0 or last):
            extra.update(best=value if not math.isnan(value) else -math.inf, best_epoch=epoch)
            saved = {
                "task": task_record(self.task),
                **({"split": self.split} if self.split else {}),
                backbone_used.KEY: extra.get(backbone_used.KEY),  # where the backbone came from
            }
            save_model(m, self.run.run_dir / "best.pt", cfg, self.record, extra=saved)
        shown = "undefined" if math.isnan(value) else f"{value:.4f}"
        log.info("epoch %d: validation %s = %s", epoch, metric, shown)
        return {f"val_{metric}": value}


def _test(best: nn.Module, task: Task, splits: dict[str, WindowIndex], run: Run) -> dict[str, Any]:
    """The best model's test and validation scores; on the main process its per-window test
    outputs go to ``predictions.csv`` (the confusion matrix and per-subject scores of
    ``labram report``)."""
    cfg, dinfo = run.cfg, run.dist
    best.to(dinfo.device)
    source = str(run.run_dir / "best.pt")
    test_outputs, test_labels = predict(
        best, splits["test"], batch_size=cfg.batch_size, device=dinfo.device, source=source,
        where=" of the test split",
    )  # fmt: skip
    test = score(task, test_outputs, test_labels)
    val_outputs = predict(
        best, splits["val"], batch_size=cfg.batch_size, device=dinfo.device, source=source,
        where=" of the val split",
    )  # fmt: skip
    val = score(task, *val_outputs)
    if dinfo.is_main:
        write_predictions(run.run_dir / "predictions.csv", task, splits["test"], test_outputs)
    return {"test": test, "val": val, "checkpoint": str(run.run_dir / "best.pt")}


MAX_SEEDS = MOST_SEEDS
"""The most seeds one ``labram finetune`` runs (papers report 3 to 10)."""


def finetune(
    stores: Sequence[str | Store],
    task_name: str,
    cfg: TrainConfig,
    out: str | Path,
    *,
    init: str | Path | None = None,
    n_seeds: int = 1,
    split_seed: int | None = None,
    resume: bool = False,
    device: str | None = None,
    allow_seen_subjects: bool = False,
    protocol: Protocol | None = None,
    splits_file: str | Path | None = None,
    size_given: bool = False,
    checked: bool = False,
) -> dict[str, Any]:
    """Fine-tune over ``n_seeds`` seeds (``cfg.seed``, ``cfg.seed + 1``, ...) on every fold of
    ``protocol`` (:mod:`labram.data.protocols`; default ``full``); test metrics of the
    validation-selected model, mean +- std over folds x seeds, in ``out/results.{json,md}``,
    the folds in ``out/splits.json``. ``splits_file``: re-run the folds of a ``splits.json``
    (its protocol and split seed win).

    The test subjects are compared with those ``init`` was pre-trained on first: any overlap
    is a :class:`~eegprep.base.errors.UsageError` unless ``allow_seen_subjects``.
    ``split_seed`` overrides ``cfg.split_seed``. An ``out`` that holds a run already is refused
    unless ``resume`` (:func:`labram.train.run.check_run_folder`). With ``init``, the model is
    the checkpoint's; ``size_given`` (``--size`` on the command line): a checkpoint of another
    size is refused (:func:`check_init_size`) instead of fine-tuned in place of the one asked.

    ``cfg`` is refused as the command line refuses its options, before the folder is touched
    (:func:`labram.train.stage_checks.check_stage_config`): a config of another stage, a field
    set that the task, ``protocol``, ``splits_file`` or ``init`` leaves unread, ``split_seed``
    with ``splits_file``, a schedule that breaks the run; ``checked``: the command line, which
    refused its own ``--set`` items in their words.
    """
    out = Path(out)
    cfg, n_seeds = _checked_config(
        cfg, task_name, n_seeds, split_seed, protocol, splits_file, init, checked
    )
    check_run_folder(out, resume=resume)
    if resume:
        check_resume_stage(out, "finetune")
    pin = NamedVersion(init, ChangedCheckpointError)  # (read by name again and again: the same)
    if init is not None and size_given:
        check_init_size(init, cfg.size)
    with run_lock(out):
        return _finetune(
            stores, task_name, cfg, out, init, n_seeds, split_seed, resume, device,
            allow_seen_subjects, protocol, splits_file, pin=pin,
        )  # fmt: skip


def _checked_config(
    cfg: TrainConfig,
    task_name: str,
    n_seeds: int,
    split_seed: int | None,
    protocol: Protocol | None,
    splits_file: str | Path | None,
    init: str | Path | None,
    checked: bool,
) -> tuple[TrainConfig, int]:
    """:func:`finetune`'s arguments checked before its folder is touched; returns the config
    (with ``split_seed``) and the number of seeds."""
    # at most MAX_SEEDS, each a whole run with its folder (2^31 seeds: a run that never ended)
    n_seeds = int(check_number("n_seeds", n_seeds, key="seeds", error=ConfigError))
    name = None if protocol is None else protocol.name
    check_stage_config(cfg, "finetune", checked=checked, task_name=task_name, protocol=name,
                       splits=splits_file, init=init)  # fmt: skip
    if splits_file is not None and not checked:
        what = f"finetune with splits_file={shown_path(str(splits_file))}"
        check_split_seed(split_seed, splits_file, named="split_seed", what=what)
    if split_seed is not None:  # checked with the rest, before the folder is touched
        cfg = replace(cfg, split_seed=split_seed)
    last = cfg.seed + n_seeds - 1
    if last > MAX_COUNT:
        raise ConfigError(
            f"--seeds {n_seeds} from seed {cfg.seed} reaches seed {last}, above "
            f"{MAX_COUNT:,}: lower --seed"
        )
    return cfg, n_seeds


def _finetune(
    stores: Sequence[str | Store],
    task_name: str,
    cfg: TrainConfig,
    out: Path,
    init: str | Path | None,
    n_seeds: int,
    split_seed: int | None,
    resume: bool,
    device: str | None,
    allow_seen_subjects: bool,
    protocol: Protocol | None,
    splits_file: str | Path | None,
    *,
    pin: NamedVersion,
) -> dict[str, Any]:
    """The run under its lock: the folds, every check before a step (subjects seen in
    pre-training, empty or non-finite splits), the run's ``splits.json``, then each seed of
    each fold; returns :func:`finetune`'s summary."""
    opened = open_stores(stores)  # once: every fold and seed reads these
    stores = given_names(opened)  # as the command was given them, for the run's records
    task = get_task(task_name, opened)
    table = TaskWindows.build(opened, task, cfg)
    protocol, cfg, folds = _folds(table, task, cfg, protocol, splits_file)
    if protocol.default_split and protocol.name != "few-shot" and splits_file is None:
        # the task's split, cut as always (its recordings that give no window: said by the
        # table's cut above)
        fold_splits = [task_splits(opened, task, cfg, quiet=True)]
    else:
        fold_splits = [fold_indexes(table, f) for f in folds]
    record, source = pretrain_record(init)
    backbone = backbone_used.read(init)  # the file, its SHA-256, the tokenizer it records
    pin.check()  # (the file whose size, subjects and SHA-256 were checked)
    tested = set().union(*(test_subjects(s["test"]) for s in fold_splits))
    files = set().union(*(test_sources(s["test"]) for s in fold_splits))
    leakage = check_test_subjects(
        record,
        tested,
        allow=allow_seen_subjects,
        source=source,
        test_sources=files,
        unkeyed=unkeyed_tests(*(s["test"] for s in fold_splits)),
    )
    log.info("%s", leakage)
    _check_folds(task_name, stores, task, cfg, folds, fold_splits, allow_seen_subjects)
    check_run_folders(out, _seed_folders(folds, cfg.seed, n_seeds))
    if is_main_process():
        record = splits_record(protocol, task, stores, cfg, folds, labels_digest(table, task))
        if resume:
            check_resumed_splits(out / SPLITS_FILE, record)
            check_resumed_seeds(out, range(cfg.seed, cfg.seed + n_seeds))
            check_backbone(out, backbone)
        write_splits(out / SPLITS_FILE, record)
    runs = _all_seeds(task, cfg, out, init, n_seeds, resume, device, protocol, folds,
                      fold_splits, backbone=backbone, pin=pin)  # fmt: skip
    return _write_results(
        out, task, stores, init, cfg, protocol, leakage, folds, fold_splits, runs, n_seeds,
        backbone,
    )  # fmt: skip


def _all_seeds(
    task: Task,
    cfg: TrainConfig,
    out: Path,
    init: str | Path | None,
    n_seeds: int,
    resume: bool,
    device: str | None,
    protocol: Protocol,
    folds: list[dict[str, Any]],
    fold_splits: list[dict[str, WindowIndex]],
    *,
    backbone: dict[str, Any],
    pin: NamedVersion,
) -> list[dict[str, Any]]:
    """Train ``n_seeds`` seeds (``cfg.seed`` on) of each fold, in order, each in its folder
    (``out/seed<s>``, or ``out/fold<f>/seed<s>`` for several folds); returns their summaries,
    each with its fold."""
    places = iter(_seed_folders(folds, cfg.seed, n_seeds))
    runs = []
    for fold, splits in zip(folds, fold_splits, strict=True):
        for i in range(n_seeds):
            run = _one_seed(
                task,
                splits,
                replace(cfg, seed=cfg.seed + i),
                init,
                out / next(places),
                resume,
                device,
                probe=protocol.name == "linear-probe",
                split=None if protocol.name in ("full", "linear-probe") else fold,
                backbone=backbone,
                pin=pin,
            )
            runs.append({"fold": fold["fold"], **run})
    return runs


def _seed_folders(folds: list[dict[str, Any]], seed: int, n_seeds: int) -> list[str]:
    """The folder of each seed of each fold, relative to the run folder, in the order they run:
    ``seed<s>`` for one fold, ``fold<f>/seed<s>`` for several."""
    above = [""] if len(folds) == 1 else [f"fold{fold['fold']}/" for fold in folds]
    return [f"{where}seed{seed + i}" for where in above for i in range(n_seeds)]


def _folds(
    table: TaskWindows,
    task: Task,
    cfg: TrainConfig,
    protocol: Protocol | None,
    splits_file: str | Path | None,
) -> tuple[Protocol, TrainConfig, list[dict[str, Any]]]:
    """The run's protocol, its config (the split seed of ``splits_file``; no drop path under
    a linear probe) and its folds: those of ``splits_file``, or cut from ``table`` now."""
    asked, protocol = protocol, protocol or Protocol()
    if splits_file is not None:
        saved = read_splits(splits_file, task, table)
        protocol = Protocol(**_protocol_args(saved))
        if asked is not None and asked != protocol:
            raise UsageError(
                f"--protocol {asked.name}: {shown_path(splits_file)} holds the folds of "
                f"{protocol.to_dict()}; leave --protocol out to re-run them"
            )
        cfg = replace(cfg, split_seed=int(saved.get("split_seed", cfg.split_seed)))
        folds = saved["folds"]
    else:
        folds = make_folds(protocol, table, task, cfg)
    if protocol.name == "linear-probe" and cfg.drop_path:
        log.info("linear probe: drop_path %s -> 0 (the frozen backbone runs as evaluated)",
                 cfg.drop_path)  # fmt: skip
        cfg = replace(cfg, drop_path=0.0)
    return protocol, cfg, folds


def _check_folds(
    task_name: str,
    stores: Sequence[str],
    task: Task,
    cfg: TrainConfig,
    folds: list[dict[str, Any]],
    fold_splits: list[dict[str, WindowIndex]],
    allow_seen_subjects: bool,
) -> None:
    """Before any step: no subject in two splits of a fold (unless allowed), a train and a
    test window in every fold, warnings for what training will not learn, every window
    finite."""
    for fold, s in zip(folds, fold_splits, strict=True):
        calibration = fold.get("calibration") or []
        check_split_leakage(s, allow=allow_seen_subjects, calibration=calibration)
    for s in fold_splits:
        if len(s["train"]) == 0:
            raise M_error(task_name, stores)
        if len(s["test"]) == 0:
            raise no_window_error(task_name, "test", stores)
    warn_no_validation(fold_splits)
    warn_single_class(task, fold_splits, selection=selection_metric(task, cfg))
    warn_untrained_classes(task, fold_splits)
    for fold, s in zip(folds, fold_splits, strict=True):  # (before a step: not after the epochs)
        head = "" if len(folds) == 1 else f"fold {fold['fold']} "
        check_finite_splits({f"{head}{k}": v for k, v in s.items()}, what="labram finetune")


def _protocol_args(saved: dict[str, Any]) -> dict[str, Any]:
    p = saved.get("protocol")
    p = p if isinstance(p, dict) else {}
    return {"name": p.get("name", "full"), "n_folds": p.get("folds"), "shots": p.get("shots")}


def _write_results(
    out: Path,
    task: Task,
    stores: Sequence[str],
    init: Any,
    cfg: TrainConfig,
    protocol: Protocol,
    leakage: str,
    folds: list[dict[str, Any]],
    fold_splits: list[dict[str, WindowIndex]],
    runs: list[dict[str, Any]],
    n_seeds: int,
    backbone: dict[str, Any],
) -> dict[str, Any]:
    """``results.json`` (the keys ``labram report`` reads, plus ``protocol``, ``folds`` and
    the initial weights' record, :mod:`labram.stages.backbone_used`) and
    ``results.md`` (mean +- std over folds x seeds, then one row per fold)."""
    sizes = {k: sum(len(s[k]) for s in fold_splits) for k in ("train", "val", "test")}
    per_fold = []
    for fold, splits in zip(folds, fold_splits, strict=True):
        mine = [r["test"] for r in runs if r["fold"] == fold["fold"]]
        per_fold.append({
            "fold": fold["fold"],
            "subjects": {k: len(fold[k]) for k in ("train", "val", "test")},
            "calibration_windows": len(fold.get("calibration") or []),
            "windows": {k: len(v) for k, v in splits.items()},
            "test": M.summarise(mine),
        })  # fmt: skip
    summary = M.summarise([r["test"] for r in runs])
    table = M.format_table(summary, task.report_metrics)
    results = {
        "task": task.name,
        "stores": list(stores),
        "init": str(init) if init else None,
        backbone_used.KEY: backbone,
        "protocol": protocol.to_dict(),
        "windows": sizes,
        "split_seed": cfg.split_seed,
        "splits": str(out / SPLITS_FILE),
        "leakage": leakage,
        "seeds": runs,
        "test": summary,
        "folds": per_fold,
    }
    if not is_main_process():
        return {**results, "table": table, "run_dir": out}
    out.mkdir(parents=True, exist_ok=True)
    write_atomically(out / "results.json", sealed(stamped(results)), durable=True, tidy=True)
    what = (
        f"{counted(len(folds), 'fold')} x {counted(n_seeds, 'seed')}"
        if len(folds) > 1
        else f"{counted(n_seeds, 'seed')}"
    )
    title = f"{markdown_line(task.name)}: test metrics, protocol {protocol.name}, {what}"
    text = f"# {title}\n\n{table}\n"
    if len(folds) > 1:
        text += "\n" + fold_table(per_fold, task.report_metrics) + "\n"
    write_atomically(out / "results.md", text.encode(), durable=True, tidy=True)
    return {**results, "table": table, "run_dir": out}


def fold_table(per_fold: list[dict[str, Any]], metrics: list[str]) -> str:
    """A Markdown table: one row per fold (test subjects, windows, mean +- std over seeds)."""
    have = [m for m in metrics if any(m in f["test"] for f in per_fold)]
    lines = ["| fold | test subjects | test windows | " + " | ".join(have) + " |",
             "|---" * (3 + len(have)) + "|"]  # fmt: skip
    for f in per_fold:
        cells = [M.mean_std_text(f["test"][m]) if m in f["test"] else "-" for m in have]
        lines.append(f"| {f['fold']} | {f['subjects']['test']} | {f['windows']['test']} | "
                     + " | ".join(cells) + " |")  # fmt: skip
    return "\n".join(lines)


def M_error(task_name: str, stores: Sequence[str]) -> Exception:
    return UsageError(
        f"task {task_name!r}: no labelled training window in {shown_paths(stores)} "
        "(check the task's label and channels)"
    )
