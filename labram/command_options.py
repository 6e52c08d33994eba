"""What the ``labram`` commands share: the ``--device`` type, the ``--store`` option, the
training options and the run configuration they build, opening a command's stores once, the
run folder and its refusals, and the lines a training command prints
(:mod:`labram.commands` declares the commands themselves)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from eegprep.base.path_limits import shown_path
from eegprep.cli_group import LocalPath, StoreLocation, say
from eegprep.cli_numbers import bounded

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


def unique_stores_given(
    _ctx: click.Context, _param: click.Parameter, stores: tuple[str, ...]
) -> tuple[str, ...]:
    """--store (or --exclude-subjects-of) values without a store given twice (one warning
    each, naming both: its windows would be drawn twice):
    :func:`labram.data.store_set.unique_stores`."""
    from labram.data.store_set import unique_stores

    return tuple(str(u) for u in unique_stores(stores))


def store_option(text: str, *, required: bool = True) -> Any:
    """The repeatable ``--store`` option of every command that reads stores, each store once
    (:func:`unique_stores_given`)."""
    return click.option(
        "--store", "stores", type=StoreLocation(), multiple=True, required=required,
        callback=unique_stores_given, help=text,
    )  # fmt: skip


def _sets_given(
    _ctx: click.Context, _param: click.Parameter, sets: tuple[str, ...]
) -> tuple[str, ...]:
    """--set items as given, with one warning for each that a later one of its field
    overrides (:func:`labram.train.config.repeated_sets`: the last wins)."""
    import warnings

    from labram.train.config import repeated_sets

    for line in repeated_sets(sets):
        warnings.warn(line, stacklevel=2)
    return sets


FLAG_NAMES = {"num_workers": "--workers"}
"""Flags not spelt ``--FIELD`` (``_`` as ``-``), for the warning of one that overrides a --set."""


def train_options(fn: Any) -> Any:
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
            type=LocalPath(file_okay=False, output=True),
            default=None,
            help="Run folder (default: runs/<command>; finetune: runs/finetune-<task>).",
        ),
        click.option("--seed", type=bounded("seed"), default=None, help="Seed (default 0)."),
        click.option(
            "--max-steps",
            type=bounded("max_steps"),
            default=None,
            help="At most N steps: the run ends at N or after its epochs, whichever is first.",
        ),
        click.option(
            "--epochs", type=bounded("epochs"), default=None, help="Epochs (else the preset's)."
        ),
        click.option(
            "--batch-size",
            type=bounded("batch_size"),
            default=None,
            help="Windows per step per process.",
        ),
        click.option("--lr", type=bounded("lr"), default=None, help="Peak learning rate."),
        click.option(
            "--workers",
            "num_workers",
            type=bounded("num_workers"),
            default=None,
            help="Dataloader workers per process (default 0: this process reads with two "
            "threads; workers fill each batch group together and leave the training process "
            "free, worth it with cores to spare; docs/training.md).",
        ),
        click.option(
            "--ckpt-every",
            type=bounded("ckpt_every"),
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
            callback=_sets_given,
            help="Override any config field, e.g. --set warmup_epochs=2 (pretrain: "
            "--set tokenizer.lr=1e-4 or --set mem.lr=1e-3 for one stage); a flag of the same "
            "field wins, with a warning; a field no stage of the command reads is refused.",
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


def stage_config(
    stage: str,
    kw: dict[str, Any],
    *,
    stage_flags: dict[str, Any] | None = None,
    stages: tuple[str, ...] | None = None,
    what: str | None = None,
) -> Any:
    """The stage's TrainConfig from a training command's options (``stage_flags``: the stage's
    own --lr/--batch-size/--epochs/--max-steps, when they are not the command's; ``stages``:
    the stages the command trains, ``what`` its name, for the refusal of a --set item none of
    them reads: :func:`labram.train.set_scope.check_set_scope`)."""
    from labram.train.config import STAGE_FLAGS, config_from_options

    flags = {k: kw.get(k) for k in STAGE_FLAGS} if stage_flags is None else dict(stage_flags)
    if stages is None and stage_flags is not None:  # a stage of `labram pretrain`'s two
        stages = ("tokenizer", "pretrain")
    names = dict(FLAG_NAMES)
    if stage_flags is not None:  # (pretrain's tokenizer stage: --tokenizer-lr, ...)
        names.update({k: f"--{stage}-{k.replace('_', '-')}" for k in stage_flags})
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
        flag_names=names,
        stages=stages,
        what=what,
    )


def refuse_init_set(sets: tuple[str, ...], init: str | None) -> None:
    """Refuse ``labram finetune --set init=...`` given with ``--init``
    (:func:`labram.train.set_scope.check_init_set`)."""
    from labram.train.config import set_items
    from labram.train.set_scope import check_init_set

    check_init_set(set_items(sets), init)


def refuse_task_sets(
    sets: tuple[str, ...],
    task: str,
    protocol: str | None,
    *,
    splits: str | None = None,
    split_seed: int | None = None,
) -> None:
    """Refuse a ``labram finetune --set`` item the task, the protocol or ``--splits FILE``
    leaves unread (:func:`labram.train.set_scope.check_finetune_sets`), and ``--split-seed``
    with ``--splits`` (the file's seed wins)."""
    from labram.train.config import set_items
    from labram.train.set_scope import check_finetune_sets, check_split_seed

    what = f"labram finetune --splits {shown_path(splits)}" if splits is not None else ""
    check_split_seed(split_seed, splits, named="--split-seed", what=what)
    check_finetune_sets(set_items(sets), task, protocol, splits=splits)


def refuse_tokenizer_flags(flags: dict[str, Any]) -> None:
    """Refuse a ``--tokenizer-*`` flag of ``labram pretrain`` given with ``--tokenizer``: the
    tokenizer stage is then not trained, and the flag was dropped without a word."""
    from eegprep.base.errors import UsageError

    for name, value in flags.items():
        if value is not None:
            flag = f"--tokenizer-{name.replace('_', '-')}"
            raise UsageError(
                f"{flag} {value}: labram pretrain with --tokenizer trains no tokenizer stage, so "
                f"the setting would never be read; give {flag} without --tokenizer, or drop it"
            )


def open_command_stores(
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


def command_stores(stores: tuple[str, ...]) -> list[str] | list[Store]:
    """For a command that reads stores without training (evaluate, embed):
    when it names more than one, open them first, say once what they share
    (:func:`open_command_stores`) and hand them to the stage; one store is left to the stage to open
    (once), which names any problem with it the same way, after its own checks (the
    checkpoint's)."""
    if len(stores) > 1:
        return open_command_stores(stores)[0]
    return list(stores)


def run_folder(kw: dict[str, Any], default: str, *stores: tuple[str, ...], stage: str) -> Path:
    """The command's run folder (``--out``, else ``default``), refused when it holds a run
    already and ``--resume`` is not given (:func:`labram.train.run.check_run_folder`), or when
    it is one of the command's ``stores`` or lies inside one (the run's checkpoints and logs
    would be written among the store's own objects)."""
    from labram.train.run import check_resume_stage, check_run_folder

    out = Path(kw["out"] or default)
    refuse_out_in_store(out, [s for group in stores for s in group])
    check_run_folder(out, resume=kw["resume"])
    if kw["resume"]:  # a folder of another command's run is not this one to continue
        check_resume_stage(out, stage)
    return out


def refuse_out_in_store(out: Path, stores: list[str]) -> None:
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
                f"--out {shown_path(out)}: inside the store {shown_path(store)} (--store); a run "
                "folder must not be written into a store: pick another --out"
            )
    zarr_root = enclosing_zarr(out.expanduser() / "_")  # out itself and every folder above it
    if zarr_root is not None:
        raise UsageError(
            f"--out {shown_path(out)}: inside the Zarr store {shown_path(zarr_root)}; a run folder "
            "must not be written among a store's objects: pick another --out"
        )


def checked_task(_ctx: click.Context, _param: click.Parameter | None, name: str | None) -> Any:
    """``--task``, refused in the usage line when no store's task can be named so (a label key
    past 255 characters, or holding a control character:
    :func:`labram.data.tasks.task_name_problem`), before anything is read."""
    from labram.data.tasks import task_name_problem

    problem = None if name is None else task_name_problem(name)
    if problem is not None:
        raise click.BadParameter(problem, ctx=_ctx, param=_param)
    return name


def option_given(name: str) -> bool:
    """Whether the option ``name`` of the running command was given on the command line (not
    its default)."""
    ctx = click.get_current_context()
    return ctx.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE


def record_command(run_dir: Any) -> None:
    """Write the command line that made a run into its folder (``command.txt``), for the
    record and for ``labram report``."""
    import shlex

    argv = click.get_current_context().meta.get("argv") or ["labram", *sys.argv[1:]]
    path = Path(run_dir) / "command.txt"
    from eegprep.base.files import as_text, write_atomically

    # (as_text: an argument whose bytes are not UTF-8, a --store or --out so named, is written
    # \xNN-escaped, as every record of a run writes a name; encoding it failed after training)
    line = as_text(shlex.join(["labram", *argv[1:]]))
    write_atomically(path, (line + "\n").encode(), durable=True, tidy=True)


def print_run(result: dict[str, Any], what: str) -> None:
    from labram.train.distributed import is_main_process

    if is_main_process():
        record_command(result["run_dir"])
        say(f"run folder: {shown_path(result['run_dir'])}", info=True)
        say(f"{what}: {shown_path(result['checkpoint'])}", info=True)
        say(f"log: {shown_path(result['log'])}", info=True)
        if result.get("plot"):
            say(f"plot: {shown_path(result['plot'])}", info=True)
