"""The ``labram`` command group: convert, train (tokenizer, pretrain, finetune), evaluate,
embed, predict, export, report.

Thin by design: parse, call :mod:`labram.stages`, print. Errors are one line
(:class:`eegprep.cli_group.OneLineErrors`). The console script reaches this group through the
repository's ``cli.py``, which re-exports it beside ``eegprep``'s; docs/cli.md.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from eegprep.base import strict_json
from eegprep.base.errors import EegprepError
from eegprep.cli_group import (
    LocalPath,
    OneLineErrors,
    StoreLocation,
    one_line,
    say,
    say_lines,
    set_verbosity,
    verbosity_options,
)

if TYPE_CHECKING:
    from eegprep.store.reader import Store


class Device(click.ParamType):
    """``--device``: ``cpu``, ``cuda`` or ``cuda:N``, refused in one line naming the option when
    this machine cannot use it (:func:`labram.train.distributed.check_device`), before any
    command writes anything."""

    name = "text"  # the help's metavar stays TEXT

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """``value`` if this process can use that device."""
        from labram.train.distributed import check_device

        return check_device(str(value))  # a UsageError: one line (OneLineErrors), exit 2


@click.group(cls=OneLineErrors)
@click.version_option(package_name="labram", prog_name="labram")
@verbosity_options
@click.pass_context
def labram_cli(ctx: click.Context, verbose: int, quiet: bool) -> None:
    """labram: LaBraM tokenizer, pre-training and fine-tuning on eegprep stores."""
    set_verbosity(ctx, verbose, quiet)


@labram_cli.command("convert")
@click.argument("src", type=LocalPath(dir_okay=False))
@click.argument("dst", type=LocalPath(dir_okay=False))
@click.option(
    "--kind",
    type=click.Choice(["mem", "classifier", "tokenizer"]),
    default=None,
    help="What to build from a released-layout file (default: what the file holds).",
)
@click.option("--size", type=click.Choice(["tiny", "base", "large", "huge"]), default=None,
              help="Model preset of a released-layout SRC (default: from the shapes).")  # fmt: skip
@click.option(
    "--n-outputs",
    type=click.IntRange(min=1),
    default=None,
    help="Classifier outputs (default: the head's).",
)
@click.option("--force", is_flag=True, help="Replace DST if it exists (whole, once written; "
              "the model cards of a labram export there are deleted).")  # fmt: skip
def labram_convert(
    src: str, dst: str, kind: str | None, size: str | None, n_outputs: int | None, force: bool
) -> None:
    """Convert a checkpoint: released LaBraM layout <-> labram checkpoint (either direction).

    The file is read without running code from it (weights only); a file that asks for more is
    refused with one line naming it (exit status 2). An existing DST is kept unless --force;
    over a `labram export` (DST.safetensors and its cards DST.card.md, DST.card.json), --force
    deletes the cards with the old weights, as they would describe other weights. A card's
    own name (NAME.card.md, NAME.card.json) is refused as DST, even with --force.
    """
    from labram.checkpoints.errors import CheckpointError
    from labram.checkpoints.layouts import convert_file

    try:
        done = convert_file(src, dst, kind=kind, size=size, n_outputs=n_outputs, force=force)
    except EegprepError:
        raise  # one line, exit status 2 (OneLineErrors)
    except ValueError as exc:  # e.g. shapes that make no valid model config
        raise CheckpointError(f"{src}: {exc}") from exc
    say(done)  # one line: a path's newline is shown as \n, never a line of its own


def _unique(
    _ctx: click.Context, _param: click.Parameter, stores: tuple[str, ...]
) -> tuple[str, ...]:
    """--store (or --exclude-subjects-of) values without a store given twice (one warning
    each, naming both: its windows would be drawn twice):
    :func:`labram.data.store_set.unique_stores`."""
    from labram.data.store_set import unique_stores

    return tuple(str(u) for u in unique_stores(stores))


def _store_option(text: str, *, required: bool = True) -> Any:
    """The repeatable ``--store`` option of every command that reads stores, each store once
    (:func:`_unique`)."""
    return click.option(
        "--store", "stores", type=StoreLocation(), multiple=True, required=required,
        callback=_unique, help=text,
    )  # fmt: skip


def _train_options(fn: Any) -> Any:
    """Flags every training command takes (each overrides the preset; see docs/training.md)."""
    opts = [
        click.option(
            "--size",
            type=click.Choice(["tiny", "base", "large", "huge"]),
            default="base",
            show_default=True,
            help="Model preset (tiny: CPU demo).",
        ),
        click.option(
            "--out",
            type=LocalPath(file_okay=False),
            default=None,
            help="Run folder (default: runs/<command>).",
        ),
        click.option("--seed", type=int, default=None, help="Seed (default 0)."),
        click.option(
            "--max-steps",
            type=click.IntRange(min=1),
            default=None,
            help="At most N steps: the run ends at N or after its epochs, whichever is first.",
        ),
        click.option(
            "--epochs", type=click.IntRange(min=1), default=None, help="Epochs (else the preset's)."
        ),
        click.option(
            "--batch-size",
            type=click.IntRange(min=1),
            default=None,
            help="Windows per step per process.",
        ),
        click.option(
            "--lr", type=click.FloatRange(min=0), default=None, help="Peak learning rate."
        ),
        click.option(
            "--workers",
            "num_workers",
            type=click.IntRange(min=0),
            default=None,
            help="Dataloader workers per process (default 0: this process reads with two "
            "threads; workers fill each batch group together and leave the training process "
            "free, worth it with cores to spare; docs/training.md).",
        ),
        click.option(
            "--ckpt-every",
            type=click.IntRange(min=1),
            default=None,
            help="Steps between checkpoints.",
        ),
        click.option(
            "--config",
            "config_file",
            type=LocalPath(dir_okay=False),
            default=None,
            help="TOML file of config overrides (flags win).",
        ),
        click.option(
            "--set",
            "sets",
            multiple=True,
            metavar="FIELD=VALUE",
            help="Override any config field, e.g. --set warmup_epochs=2 (pretrain: "
            "--set tokenizer.lr=1e-4 or --set mem.lr=1e-3 for one stage).",
        ),
        click.option(
            "--device",
            type=Device(),
            default=None,
            help="cpu, cuda or cuda:N (default: cuda if available).",
        ),
        click.option("--resume", is_flag=True, help="Continue from the run folder's last.pt."),
        click.option(
            "--recipe",
            type=click.Choice(["default", "original"]),
            default="default",
            show_default=True,
            help="original: every choice of the authors' code (docs/model.md, Recipes).",
        ),
        click.option(
            "--deterministic",
            is_flag=True,
            default=None,
            help="Same seed, same losses bit for bit (pins threads; docs/training.md).",
        ),
    ]
    for opt in reversed(opts):
        fn = opt(fn)
    return fn


def _config(stage: str, kw: dict[str, Any], *, stage_flags: dict[str, Any] | None = None) -> Any:
    """The stage's TrainConfig from a training command's options (``stage_flags``: the stage's
    own --lr/--batch-size/--epochs/--max-steps, when they are not the command's)."""
    from labram.train.config import STAGE_FLAGS, config_from_options

    flags = {k: kw.get(k) for k in STAGE_FLAGS} if stage_flags is None else dict(stage_flags)
    for name in ("seed", "num_workers", "ckpt_every"):
        flags[name] = kw.get(name)
    flags["deterministic"] = kw.get("deterministic") or None  # absent: the config's
    return config_from_options(
        stage,
        kw["size"],
        recipe=kw.get("recipe") or "default",
        config_file=kw.get("config_file"),
        sets=kw.get("sets", ()),
        flags=flags,
    )


def _open_stores(
    stores: tuple[str, ...], excluded: tuple[str, ...] = ()
) -> tuple[list[Store], list[Store]]:
    """Open every store a command names, once (one ``error:`` line for the first that is
    missing, damaged, or of another rate or channel vocabulary than the others) before the
    command writes anything, and say once what its ``stores`` share and how their recipes
    differ (:mod:`labram.data.store_set`). A store given both as --store and
    --exclude-subjects-of is refused: every recording of it would be left out.

    Returns the ``stores`` opened and reconciled, and the ``excluded`` opened each on its own:
    the command hands these to its stages, which open nothing again (a stage reading them
    again by URL repeated the opening and the check of shared recordings, ~1 s for two stores
    of 10^5 recordings, at each stage)."""
    from eegprep.base.errors import UsageError
    from labram.data.store_set import store_key
    from labram.data.windows import open_each, open_stores

    opened = open_stores(stores, warn=True)
    given = {store_key(s): s for s in stores}
    for url in excluded:
        if store_key(url) in given:
            raise UsageError(
                f"--exclude-subjects-of {url}: the same store as --store {given[store_key(url)]}; "
                "every recording of it would be excluded from pre-training: give it to one of the "
                "two options"
            )
    return opened, open_each(excluded)


def _command_stores(stores: tuple[str, ...]) -> list[str] | list[Store]:
    """For a command that reads stores without training (evaluate, embed):
    when it names more than one, open them first, say once what they share
    (:func:`_open_stores`) and hand them to the stage; one store is left to the stage to open
    (once), which names any problem with it the same way, after its own checks (the
    checkpoint's)."""
    if len(stores) > 1:
        return _open_stores(stores)[0]
    return list(stores)


def _run_folder(kw: dict[str, Any], default: str, *stores: tuple[str, ...], stage: str) -> Path:
    """The command's run folder (``--out``, else ``default``), refused when it holds a run
    already and ``--resume`` is not given (:func:`labram.train.run.check_run_folder`), or when
    it is one of the command's ``stores`` or lies inside one (the run's checkpoints and logs
    would be written among the store's own objects)."""
    from labram.train.run import check_resume_stage, check_run_folder

    out = Path(kw["out"] or default)
    _refuse_out_in_store(out, [s for group in stores for s in group])
    check_run_folder(out, resume=kw["resume"])
    if kw["resume"]:  # a folder of another command's run is not this one to continue
        check_resume_stage(out, stage)
    return out


def _refuse_out_in_store(out: Path, stores: list[str]) -> None:
    """Refuse a run folder that is or lies in one of ``stores``, or in any other Zarr hierarchy
    (an eegprep store not given, an embeddings store: a folder at or above it holds a
    ``zarr.json``)."""
    from eegprep.base.errors import UsageError
    from eegprep.base.file_urls import is_remote_url, local_path
    from eegprep.base.files import enclosing_zarr

    where = out.expanduser().resolve()
    for store in stores:
        if is_remote_url(store):  # never a local run folder's parent
            continue
        root = Path(local_path(store)).expanduser().resolve()
        if where == root or root in where.parents:
            raise UsageError(
                f"--out {out}: inside the store {store} (--store); a run folder must not be "
                "written into a store: pick another --out"
            )
    zarr_root = enclosing_zarr(out.expanduser() / "_")  # out itself and every folder above it
    if zarr_root is not None:
        raise UsageError(
            f"--out {out}: inside the Zarr store {zarr_root}; a run folder must not be written "
            "among a store's objects: pick another --out"
        )


def _given(name: str) -> bool:
    """Whether the option ``name`` of the running command was given on the command line (not
    its default)."""
    ctx = click.get_current_context()
    return ctx.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE


def _record_command(run_dir: Any) -> None:
    """Write the command line that made a run into its folder (``command.txt``), for the
    record and for ``labram report``."""
    import shlex

    argv = click.get_current_context().meta.get("argv") or ["labram", *sys.argv[1:]]
    path = Path(run_dir) / "command.txt"
    from eegprep.base.files import write_atomically

    write_atomically(path, (shlex.join(["labram", *argv[1:]]) + "\n").encode())


def _print_run(result: dict[str, Any], what: str) -> None:
    from labram.train.distributed import is_main_process

    if is_main_process():
        _record_command(result["run_dir"])
        say(f"run folder: {result['run_dir']}", info=True)
        say(f"{what}: {result['checkpoint']}", info=True)
        say(f"log: {result['log']}", info=True)
        if result.get("plot"):
            say(f"plot: {result['plot']}", info=True)


@labram_cli.command("tokenizer")
@_store_option("A store (repeatable).")
@click.option(
    "--exclude-subjects-of",
    type=StoreLocation(),
    multiple=True,
    callback=_unique,
    help="Keep these stores' subjects out.",
)
@_train_options
def labram_tokenizer(
    stores: tuple[str, ...], exclude_subjects_of: tuple[str, ...], **kw: Any
) -> None:
    """Train the VQ-NSP tokenizer alone (the first stage of `labram pretrain`).

    \b
    Examples:
      labram tokenizer --store demo.zarr --size tiny --max-steps 100
      torchrun --nproc-per-node 8 $(which labram) tokenizer --store tueg.zarr --out runs/tok
    """
    from labram.stages.pretrain import exclusions
    from labram.stages.train_tokenizer import train_tokenizer

    cfg = _config("tokenizer", kw)
    out = _run_folder(kw, "runs/tokenizer", stores, exclude_subjects_of, stage="tokenizer")
    opened, of = _open_stores(stores, exclude_subjects_of)
    from labram.train.run import run_lock

    exclusions(opened, out, of, False)  # before the folder is made
    with run_lock(out):  # taken before excluded_subjects.json is written
        excluded = exclusions(opened, out, of, True, resume=kw["resume"])
        res = train_tokenizer(
            opened, cfg, out, resume=kw["resume"], exclude_subjects=excluded, device=kw["device"]
        )
    from labram.train.distributed import is_main_process

    cb = res["codebook"]  # summed over ranks
    if is_main_process():
        say(
            f"codebook: {cb['codes_used']} of {cb['n_codes']} codes used, perplexity "
            f"{cb['perplexity']:.1f}"
        )
    _print_run({**res, "checkpoint": res["tokenizer"]}, "tokenizer")


@labram_cli.command("pretrain")
@_store_option("A store (repeatable).")
@click.option(
    "--tokenizer",
    type=LocalPath(dir_okay=False, exists=True),
    default=None,
    help="A trained tokenizer (ours or vqnsp.pth); trained first when not given.",
)
@click.option(
    "--exclude-subjects-of",
    type=StoreLocation(),
    multiple=True,
    callback=_unique,
    help="An evaluation store whose subjects are kept out (repeatable).",
)
@click.option("--tokenizer-max-steps", type=click.IntRange(min=1), default=None,
              help="Tokenizer stage: at most N steps.")  # fmt: skip
@click.option("--tokenizer-epochs", type=click.IntRange(min=1), default=None,
              help="Tokenizer stage: epochs.")  # fmt: skip
@click.option("--tokenizer-batch-size", type=click.IntRange(min=1), default=None,
              help="Tokenizer stage: windows per step.")  # fmt: skip
@click.option("--tokenizer-lr", type=click.FloatRange(min=0), default=None,
              help="Tokenizer stage: peak lr.")  # fmt: skip
@_train_options
def labram_pretrain(
    stores: tuple[str, ...],
    tokenizer: str | None,
    exclude_subjects_of: tuple[str, ...],
    tokenizer_max_steps: int | None,
    tokenizer_epochs: int | None,
    tokenizer_batch_size: int | None,
    tokenizer_lr: float | None,
    **kw: Any,
) -> None:
    """Pre-train LaBraM: the tokenizer (unless --tokenizer), then masked EEG modelling.

    \b
    Examples:
      labram pretrain --store demo.zarr --size tiny                  # CPU demo, ~2 min
      labram pretrain --store tuh.zarr --store seed.zarr --exclude-subjects-of tuab.zarr
      labram pretrain --store tuh.zarr --out runs/pt --resume        # continue a killed run
      torchrun --nproc-per-node 8 $(which labram) pretrain --store tuh.zarr --size base

    --lr, --batch-size, --epochs and --max-steps set the masked-modelling stage; the tokenizer
    stage has its own (--tokenizer-lr, ...), or --set tokenizer.FIELD=VALUE.
    """
    from labram.stages.pretrain import pretrain
    from labram.train.distributed import is_main_process

    mem_cfg = _config("pretrain", kw)
    tok_flags = {
        "max_steps": tokenizer_max_steps,
        "epochs": tokenizer_epochs,
        "batch_size": tokenizer_batch_size,
        "lr": tokenizer_lr,
    }
    tok_cfg = _config("tokenizer", kw, stage_flags=tok_flags)
    out = _run_folder(kw, "runs/pretrain", stores, exclude_subjects_of, stage="pretrain")
    opened, of = _open_stores(stores, exclude_subjects_of)
    res = pretrain(
        opened,
        mem_cfg,
        out,
        tokenizer_cfg=tok_cfg,
        tokenizer=tokenizer,
        exclude_subjects_of=of,
        resume=kw["resume"],
        device=kw["device"],
    )
    m = res["mem_stage"]["metrics"]  # means over ranks
    if not is_main_process():
        return
    if "tokenizer_stage" in res:
        cb = res["tokenizer_stage"]["codebook"]
        say(
            f"tokenizer: {cb['codes_used']} of {cb['n_codes']} codes used, perplexity "
            f"{cb['perplexity']:.1f} -> {res['tokenizer']}"
        )
    say(
        f"masked modelling: loss {m.get('loss', float('nan')):.4f}, masked-code accuracy "
        f"{m.get('accuracy', float('nan')):.4f} after {res['mem_stage']['step']} steps"
    )
    _print_run(res, "checkpoint")


@labram_cli.command("finetune")
@_store_option("A labelled store.")
@click.option("--task", required=True, help="tuab, tuev, seed_v, mobi, or label:KEY.")
@click.option(
    "--init",
    type=LocalPath(dir_okay=False, exists=True),
    default=None,
    help="Pre-trained weights: our model.pt / last.pt, or labram-base.pth (weights only: "
    "a file that asks to run code is refused).",
)
@click.option("--seeds", type=click.IntRange(min=1), default=1, show_default=True,
              help="Seeds to run.")  # fmt: skip
@click.option(
    "--split-seed",
    type=int,
    default=None,
    help="Seed of the 80/20 train/validation subject split (the recipe's: 0, original 4523).",
)
@click.option(
    "--allow-seen-subjects",
    is_flag=True,
    help="Go on when test subjects were seen in pre-training, or the task's splits share a "
    "subject, a recording or samples (a warning then; their metrics are optimistic).",
)
@click.option(
    "--protocol",
    type=click.Choice(["full", "linear-probe", "cross-subject", "loso", "few-shot"]),
    default=None,
    help="Evaluation protocol (default full; docs/training.md, Protocols).",
)
@click.option("--folds", type=click.IntRange(min=2), default=None,
              help="cross-subject: folds over the subjects (default 5).")  # fmt: skip
@click.option("--shots", type=click.IntRange(min=1), default=None,
              help="few-shot: calibration windows per class and test subject.")  # fmt: skip
@click.option(
    "--splits",
    "splits_file",
    type=LocalPath(dir_okay=False, exists=True),
    default=None,
    help="Re-run the folds of a run's splits.json exactly (its protocol and split seed).",
)
@_train_options
def labram_finetune(
    stores: tuple[str, ...],
    task: str,
    init: str | None,
    seeds: int,
    split_seed: int | None,
    allow_seen_subjects: bool,
    protocol: str | None,
    folds: int | None,
    shots: int | None,
    splits_file: str | None,
    **kw: Any,
) -> None:
    """Fine-tune on a task; test metrics of the validation-selected model, mean +- std.

    \b
    Examples:
      labram finetune --store tuab.zarr --task tuab --init runs/pretrain/mem/model.pt --seeds 5
      labram finetune --store tuev.zarr --task tuev --init labram-base.pth
      labram finetune --store mine.zarr --task label:condition --size tiny --max-steps 200
      labram finetune --store tuab.zarr --task tuab --protocol cross-subject --folds 5 --seeds 3
      labram finetune --store tuab.zarr --task tuab --splits runs/cv/splits.json --out runs/cv2
    """
    from labram.data.protocols import parse_protocol
    from labram.stages.finetune import finetune

    cfg = _config("finetune", kw)
    proto = None
    if splits_file is None or protocol is not None:
        proto = parse_protocol(protocol, folds=folds, shots=shots)
    out = _run_folder(kw, f"runs/finetune-{task}", stores, stage="finetune")
    opened, _ = _open_stores(stores)
    res = finetune(
        opened,
        task,
        cfg,
        out,
        init=init,
        n_seeds=seeds,
        split_seed=split_seed,
        resume=kw["resume"],
        device=kw["device"],
        allow_seen_subjects=allow_seen_subjects,
        protocol=proto,
        splits_file=splits_file,
        size_given=_given("size"),
    )
    from labram.train.distributed import is_main_process

    if not is_main_process():
        return
    _record_command(res["run_dir"])
    say(res["leakage"])  # one line (it names the --init file: a newline in it stays shown)
    say(f"windows: {res['windows']}")
    say_lines(str(res["table"]).split("\n"))
    say(f"results: {res['run_dir'] / 'results.json'}", info=True)


@labram_cli.command("evaluate")
@_store_option("A labelled store.")
@click.option("--task", required=True, help="tuab, tuev, seed_v, mobi, or label:KEY.")
@click.option(
    "--checkpoint",
    required=True,
    type=LocalPath(dir_okay=False),
    help="A fine-tuned classifier (best.pt of a finetune run).",
)
@click.option(
    "--split", type=click.Choice(["train", "val", "test"]), default="test", show_default=True
)
@click.option(
    "--split-seed", type=int, default=None, help="Default: the one the checkpoint was tuned with."
)
@click.option("--device", type=Device(), default=None,
              help="cpu, cuda or cuda:N (default: cuda if available).")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON.")
@click.option(
    "--allow-seen-subjects",
    is_flag=True,
    help="Go on when test subjects were seen in pre-training, or the task's splits share a "
    "subject, a recording or samples (a warning then; their metrics are optimistic).",
)
def labram_evaluate(
    stores: tuple[str, ...],
    task: str,
    checkpoint: str,
    split: str,
    split_seed: int | None,
    device: str | None,
    as_json: bool,
    allow_seen_subjects: bool,
) -> None:
    """Metrics of a fine-tuned checkpoint on a task's test (or val/train) windows, cut with the
    window and split settings saved in the checkpoint.

    \b
    Example:
      labram evaluate --store tuab.zarr --task tuab --checkpoint runs/finetune-tuab/seed0/best.pt
    """
    from labram.stages.finetune import evaluate

    res = evaluate(
        _command_stores(stores),
        task,
        checkpoint,
        split=split,
        split_seed=split_seed,
        device=device,
        allow_seen_subjects=allow_seen_subjects,
    )
    if as_json:
        say_lines(strict_json.dumps(res, indent=2).split("\n"))
        return
    say(res["leakage"])
    say(f"{res['task']} ({res['split']}, {res['n_windows']} windows)")
    for k, v in res["metrics"].items():
        say(f"  {k:<18} {'undefined' if math.isnan(v) else f'{v:.4f}'}")
    for note in res.get("notes", []):
        say(f"note: {note}")


@labram_cli.command("embed")
@_store_option("A store (repeatable).")
@click.option(
    "--checkpoint",
    required=True,
    type=LocalPath(dir_okay=False),
    help="model.pt, a fine-tuned best.pt, labram-base.pth or a .safetensors export.",
)
@click.option("--out", required=True, type=LocalPath(file_okay=False), help="Output Zarr.")
@click.option("--per-patch", is_flag=True, help="Also every patch token (large).")
@click.option("--task", default=None, help="A task's windows and target (default: every "
              "recording in token-budget windows).")  # fmt: skip
@click.option("--chunk-windows", type=click.IntRange(min=1), default=512, show_default=True,
              help="Windows per resumable chunk.")  # fmt: skip
@click.option("--batch-size", type=click.IntRange(min=1), default=64, show_default=True)
@click.option("--device", type=Device(), default=None,
              help="cpu, cuda or cuda:N (default: cuda if available).")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def labram_embed(stores: tuple[str, ...], checkpoint: str, out: str, per_patch: bool,
                 task: str | None, chunk_windows: int, batch_size: int, device: str | None,
                 as_json: bool) -> None:  # fmt: skip
    """Write one vector per window (and per patch) of every recording to a Zarr store that
    xarray.open_zarr opens; re-running with the same arguments resumes.

    \b
    Examples:
      labram embed --store tuab.zarr --checkpoint runs/demo/mem/model.pt --out emb.zarr
      labram embed --store tuab.zarr --task tuab --checkpoint labram-base.pth --out emb.zarr
      torchrun --nproc-per-node 8 $(which labram) embed --store tuh.zarr --checkpoint C --out E
    """
    from labram.stages.embed import EmbedConfig, embed
    from labram.train.distributed import is_main_process

    cfg = EmbedConfig(per_patch=per_patch, task=task, chunk_windows=chunk_windows,
                      batch_size=batch_size)  # fmt: skip
    res = embed(_command_stores(stores), checkpoint, out, cfg=cfg, device=device)
    if not is_main_process():
        return
    if as_json:
        say_lines(strict_json.dumps(res, indent=2).split("\n"))
        return
    say(
        f"{res['n_windows']} windows in {res['n_chunks']} chunks: {res['computed']} computed, "
        f"{res['skipped']} already done ({res['windows_per_s']:.0f} windows/s) -> {res['out']}",
        info=True,
    )
    if res["recordings_skipped"]:
        say(f"skipped: {res['recordings_skipped']} recording(s) that give no window", info=True)
    if not res["complete"]:
        say("incomplete: run the same command again to finish", err=True)


@labram_cli.command("predict")
@click.argument("files", nargs=-1, required=True)  # each checked on its own: one line apiece
@click.option(
    "--checkpoint",
    required=True,
    type=LocalPath(dir_okay=False),
    help="A fine-tuned classifier (best.pt of labram finetune, or its .safetensors export).",
)
@click.option("--task", default=None,
              help="Default: what the checkpoint or its run folder records.")  # fmt: skip
@click.option("--corpus", default=None, help="How to read the files: a corpus name or a "
              "manifest .toml (default: the task's corpus, else 'folder').")  # fmt: skip
@click.option("--mains", type=click.Choice(["50", "60"]), default=None,
              help="Mains frequency, for a corpus that does not state it.")  # fmt: skip
@click.option("--windows", "per_window", is_flag=True, help="Also one line per window.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (recordings and windows).")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV (per window with --windows).")
@click.option("--batch-size", type=click.IntRange(min=1), default=64, show_default=True)
@click.option("--device", type=Device(), default=None,
              help="cpu, cuda or cuda:N (default: cuda if available).")  # fmt: skip
def labram_predict(files: tuple[str, ...], checkpoint: str, task: str | None, corpus: str | None,
                   mains: str | None, per_window: bool, as_json: bool, as_csv: bool,
                   batch_size: int, device: str | None) -> None:  # fmt: skip
    """Predict raw EEG FILES with a fine-tuned classifier: eegprep's pipeline in memory (no
    store), the task's windows, the mean of the windows' probabilities per recording.

    A file that cannot be read gets one line on stderr; the others are predicted (exit 3).

    \b
    Examples:
      labram predict rec1.edf rec2.edf --checkpoint runs/tuab/seed0/best.pt
      labram predict *.edf --checkpoint best.safetensors --windows --csv > windows.csv
    """
    from eegprep.base.errors import UsageError
    from labram.stages.predict import predict_files, table_lines, write_csv

    if as_json and as_csv:
        raise UsageError("--json and --csv: give one (both print to standard output)")
    res = predict_files(list(files), checkpoint, task=task, corpus=corpus,
                        mains=float(mains) if mains else None, batch_size=batch_size,
                        device=device)  # fmt: skip
    for line in res["failed"]:
        say(f"skipped: {one_line(line)}", err=True)
    if not as_json:  # --json holds them per recording
        for rec in res["recordings"]:  # what an ingest would report: flat channels, ...
            for warning in rec.get("warnings", []):
                say(f"warning: {one_line(rec['file'])}: {one_line(warning)}", err=True)
    if as_json:
        say_lines(strict_json.dumps(res, indent=2).split("\n"))
    elif as_csv:
        write_csv(res, sys.stdout, per_window=per_window)
    else:
        for line in table_lines(res, per_window=per_window):
            say(line)
    sys.exit(3 if res["failed"] else 0)


@labram_cli.command("export")
@click.argument("checkpoint", type=LocalPath(dir_okay=False))
@click.option("--out", type=LocalPath(dir_okay=False), default=None,
              help="NAME.safetensors (default: the checkpoint's, that suffix).")  # fmt: skip
@click.option("--format", "fmt", type=click.Choice(["safetensors"]), default="safetensors",
              show_default=True)  # fmt: skip
@click.option("--force", is_flag=True,
              help="Replace NAME.safetensors and its cards if they exist.")  # fmt: skip
def labram_export(checkpoint: str, out: str | None, fmt: str, force: bool) -> None:
    """Export CHECKPOINT's weights as safetensors (no pickle), with a model card beside them
    (NAME.card.md, NAME.card.json). Every labram command reads the file back. Existing files
    are kept unless --force.

    \b
    Example:
      labram export runs/tuab/seed0/best.pt --out tuab-tiny.safetensors
    """
    from labram.stages.export import export

    res = export(checkpoint, out, fmt=fmt, force=force)
    say(f"{res['kind']}, {res['n_parameters']:,} parameters -> {res['weights']}")
    say(f"model card: {res['card']} ({res['card_json']})", info=True)


@labram_cli.command("report")
@click.argument("run_dirs", nargs=-1, required=True, type=LocalPath(file_okay=False))
@click.option("--html", "html_out", type=LocalPath(dir_okay=False), default=None,
              help="Write one self-contained HTML page to this file.")  # fmt: skip
@click.option("--predict", is_flag=True, help="Seeds without predictions.csv: run best.pt "
              "again on the test windows and save them (for confusion matrices).")  # fmt: skip
@_store_option("With --predict: the stores (default: those results.json names).",
               required=False)  # fmt: skip
@click.option("--device", type=Device(), default=None, help="With --predict: cpu, cuda or cuda:N.")
def labram_report(run_dirs: tuple[str, ...], html_out: str | None, predict: bool,
                  stores: tuple[str, ...], device: str | None) -> None:  # fmt: skip
    """Results of RUN_DIRS (finetune, seed or pretrain folders) side by side: test metrics
    (mean +- std over seeds), confusion matrices, per-subject scores, training curves, the
    command and the config; a short summary, or one page with --html. A folder that cannot
    be read gets one line and the others are reported (exit 3).

    \b
    Examples:
      labram report runs/tuab
      labram report runs/tuab runs/tuab-linear --html results.html
      labram report runs/tuab --predict --html results.html
    """
    from labram.stages.report import add_predictions, load_run, summary_lines
    from labram.stages.report_html import write_html

    runs: list[Any] = []
    bad: list[EegprepError] = []
    for d in run_dirs:  # a damaged folder is one line; the others are still reported
        try:
            runs.append(load_run(d))
        except EegprepError as exc:
            bad.append(exc)
    if not runs:  # nothing to report: each is an error
        for problem in bad[:-1]:
            say(f"error: {one_line(str(problem))}", err=True)
        raise bad[-1]
    for problem in bad:
        say(f"skipped: {one_line(str(problem))}", err=True)
    if predict:
        from labram.data.windows import open_stores

        # opened once for every run; not warned of: the run predicted again said it
        given = open_stores(stores) if stores else None
        for run in runs:
            for path in add_predictions(run, stores=given, device=device):
                say(f"predictions: {path}", err=True, info=True)
    say_lines(summary_lines(runs))
    if html_out:
        say(f"report: {write_html(runs, html_out)}", info=True)
    if bad:
        sys.exit(3)
