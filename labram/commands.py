"""The ``labram`` command group: convert, train (tokenizer, pretrain, finetune), evaluate,
embed, predict, export, report.

Thin by design: parse, call :mod:`labram.stages`, print. Errors are one line
(:class:`eegprep.cli_group.OneLineErrors`). The console script reaches this group through the
repository's ``cli.py``, which re-exports it beside ``eegprep``'s; docs/cli.md.
"""

from __future__ import annotations

import math
import sys
from typing import TYPE_CHECKING, Any

import click

from eegprep.base import strict_json
from eegprep.base.errors import EegprepError
from eegprep.base.path_limits import shown_path
from eegprep.base.wording import counted, noun, of_total
from eegprep.cli_group import (
    LocalPath,
    LocalText,
    OneLineErrors,
    StoreLocation,
    click_output_named,
    exit_if_stopped,
    one_line,
    quiet,
    say,
    say_capped,
    say_lines,
    say_notes,
    say_skipped,
    set_verbosity,
    verbosity_options,
)
from eegprep.cli_numbers import bounded
from labram.command_options import (
    Device,
    checked_task,
    command_stores,
    open_command_stores,
    option_given,
    print_run,
    record_command,
    refuse_init_set,
    refuse_task_sets,
    refuse_tokenizer_flags,
    run_folder,
    stage_config,
    store_option,
    train_options,
    unique_stores_given,
)

if TYPE_CHECKING:
    pass


class _LabramErrors(OneLineErrors):
    """eegprep's one-line errors, and the end of another torchrun rank said as such (a bug's
    "internal error" before: gloo's "Connection closed by peer" as a ``RuntimeError``)."""

    def known_error(self, exc: Exception) -> EegprepError | None:
        try:
            from labram.train.distributed import lost_rank_error
        except ModuleNotFoundError:  # no torch: no rank was lost (the bug is said as one)
            return None

        return lost_rank_error(exc)


@click.group(cls=_LabramErrors)
@click.version_option(package_name="labram", prog_name="labram")
@verbosity_options
@click.pass_context
def labram_cli(ctx: click.Context, verbose: int, quiet: bool) -> None:
    """labram: LaBraM tokenizer, pre-training and fine-tuning on eegprep stores.

    \b
    Examples:
      labram pretrain --store demo.zarr --size tiny --out runs/demo
      labram finetune --store tuab.zarr --task tuab --init runs/demo/mem/model.pt --size tiny
      labram evaluate --store tuab.zarr --task tuab --checkpoint runs/finetune-tuab/seed0/best.pt
    """
    set_verbosity(ctx, verbose, quiet)


@labram_cli.command("convert")
@click.argument("src", type=LocalPath(dir_okay=False))
@click.argument("dst", type=LocalPath(dir_okay=False, output=True))
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
    type=bounded("n_outputs"),
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

    \b
    Examples:
      labram convert labram-base.pth labram-base.pt        # released -> ours
      labram convert labram-base.pth clf.pt --kind classifier --n-outputs 6
      labram convert labram-base.pt labram-base-again.pth  # ours -> released layout
    """
    from labram.checkpoints.errors import CheckpointError
    from labram.checkpoints.layouts import convert_file

    try:
        done = convert_file(src, dst, kind=kind, size=size, n_outputs=n_outputs, force=force)
    except EegprepError:
        raise  # one line, exit status 2 (OneLineErrors)
    except ValueError as exc:  # e.g. shapes that make no valid model config
        raise CheckpointError(f"{shown_path(src)}: {exc}") from exc
    say(done, info=True)  # one line (a path's newline shown as \n); the file written: not -q's


@labram_cli.command("tokenizer")
@store_option("A store (repeatable).")
@click.option(
    "--exclude-subjects-of",
    type=StoreLocation(),
    multiple=True,
    callback=unique_stores_given,
    help="Keep these stores' subjects out.",
)
@train_options
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

    cfg = stage_config("tokenizer", kw)
    out = run_folder(kw, "runs/tokenizer", stores, exclude_subjects_of, stage="tokenizer")
    opened, of = open_command_stores(stores, exclude_subjects_of)
    from labram.train.run import run_lock

    exclusions(opened, out, of, False)  # before the folder is made
    with run_lock(out):  # taken before excluded_subjects.json is written
        excluded = exclusions(opened, out, of, True, resume=kw["resume"])
        res = train_tokenizer(
            opened, cfg, out, resume=kw["resume"], exclude_subjects=excluded,
            device=kw["device"], checked=True,  # (the --set items, by stage_config)
        )  # fmt: skip
    from labram.train.distributed import is_main_process

    cb = res["codebook"]  # summed over ranks
    if is_main_process():
        say(
            f"codebook: {of_total(cb['codes_used'], cb['n_codes'], 'code')} used, perplexity "
            f"{cb['perplexity']:.1f}"
        )
    print_run({**res, "checkpoint": res["tokenizer"]}, "tokenizer")


@labram_cli.command("pretrain")
@store_option("A store (repeatable).")
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
    callback=unique_stores_given,
    help="An evaluation store whose subjects are kept out (repeatable).",
)
@click.option("--tokenizer-max-steps", type=bounded("max_steps"), default=None,
              help="Tokenizer stage: at most N steps.")  # fmt: skip
@click.option("--tokenizer-epochs", type=bounded("epochs"), default=None,
              help="Tokenizer stage: epochs.")  # fmt: skip
@click.option("--tokenizer-batch-size", type=bounded("batch_size"), default=None,
              help="Tokenizer stage: windows per step.")  # fmt: skip
@click.option("--tokenizer-lr", type=bounded("lr"), default=None,
              help="Tokenizer stage: peak lr.")  # fmt: skip
@train_options
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

    tok_flags = {
        "max_steps": tokenizer_max_steps,
        "epochs": tokenizer_epochs,
        "batch_size": tokenizer_batch_size,
        "lr": tokenizer_lr,
    }
    stages: tuple[str, ...] = ("tokenizer", "pretrain")
    what = "labram pretrain"
    if tokenizer is not None:  # the tokenizer stage is not trained: its settings are never read
        stages, what = ("pretrain",), "labram pretrain with --tokenizer"
        refuse_tokenizer_flags(tok_flags)
    mem_cfg = stage_config("pretrain", kw, stages=stages, what=what)
    tok_cfg = stage_config("tokenizer", kw, stage_flags=tok_flags, stages=stages, what=what)
    out = run_folder(kw, "runs/pretrain", stores, exclude_subjects_of, stage="pretrain")
    opened, of = open_command_stores(stores, exclude_subjects_of)
    res = pretrain(
        opened,
        mem_cfg,
        out,
        tokenizer_cfg=tok_cfg,
        tokenizer=tokenizer,
        exclude_subjects_of=of,
        resume=kw["resume"],
        device=kw["device"],
        checked=True,  # (the --set items and --tokenizer-* flags, above)
    )
    _say_pretrained(res)


def _say_pretrained(res: dict[str, Any]) -> None:
    """On the main process, the lines of a finished pre-training: the tokenizer's codes used
    (when this run trained it), the masked modelling's loss and accuracy, the run's files."""
    from labram.train.distributed import is_main_process

    m = res["mem_stage"]["metrics"]  # means over ranks
    if not is_main_process():
        return
    if "tokenizer_stage" in res:
        cb = res["tokenizer_stage"]["codebook"]
        # (its codebook's use is a result; the file it wrote is a path -q leaves out)
        written = "" if quiet() else f" -> {shown_path(res['tokenizer'])}"
        say(
            f"tokenizer: {of_total(cb['codes_used'], cb['n_codes'], 'code')} used, perplexity "
            f"{cb['perplexity']:.1f}{written}"
        )
    say(
        f"masked modelling: loss {m.get('loss', float('nan')):.4f}, masked-code accuracy "
        f"{m.get('accuracy', float('nan')):.4f} after {counted(res['mem_stage']['step'], 'step')}"
    )
    print_run(res, "checkpoint")


@labram_cli.command("finetune")
@store_option("A labelled store.")
@click.option(
    "--task", required=True, callback=checked_task, help="tuab, tuev, seed_v, mobi, or label:KEY."
)
@click.option(
    "--init",
    type=LocalPath(dir_okay=False, exists=True),
    default=None,
    help="Pre-trained weights: our model.pt / last.pt, or labram-base.pth (weights only: "
    "a file that asks to run code is refused).",
)
@click.option("--seeds", type=bounded("seeds"), default=1, show_default=True,
              help="Seeds to run.")  # fmt: skip
@click.option(
    "--split-seed",
    type=bounded("split_seed"),
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
@click.option("--folds", type=bounded("folds"), default=None,
              help="cross-subject: folds over the subjects (default 5).")  # fmt: skip
@click.option("--shots", type=bounded("shots"), default=None,
              help="few-shot: calibration windows per class and test subject.")  # fmt: skip
@click.option(
    "--splits",
    "splits_file",
    type=LocalPath(dir_okay=False, exists=True),
    default=None,
    help="Re-run the folds of a run's splits.json exactly (its protocol and split seed).",
)
@train_options
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
      labram finetune --store tuab.zarr --task tuab --protocol cross-subject --folds 5 --out runs/cv
      labram finetune --store tuab.zarr --task tuab --splits runs/cv/splits.json --out runs/cv2
    """
    from labram.data.protocols import parse_protocol
    from labram.stages.finetune import finetune

    cfg = stage_config("finetune", kw)
    refuse_init_set(kw["sets"], init)
    refuse_task_sets(kw["sets"], task, protocol, splits=splits_file, split_seed=split_seed)
    proto = None
    if splits_file is None or protocol is not None:
        proto = parse_protocol(protocol, folds=folds, shots=shots)
    out = run_folder(kw, f"runs/finetune-{task}", stores, stage="finetune")
    opened, _ = open_command_stores(stores)
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
        size_given=option_given("size"),
        checked=True,  # (the --set items, --init and --splits, above)
    )
    from labram.train.distributed import is_main_process

    if not is_main_process():
        return
    record_command(res["run_dir"])
    say(res["leakage"], info=True)  # a note, then a summary: not the results (not -q's)
    say(f"windows: {res['windows']}", info=True)
    say_lines(str(res["table"]).split("\n"))
    say(f"results: {res['run_dir'] / 'results.json'}", info=True)


@labram_cli.command("evaluate")
@store_option("A labelled store.")
@click.option(
    "--task", required=True, callback=checked_task, help="tuab, tuev, seed_v, mobi, or label:KEY."
)
@click.option(
    "--checkpoint",
    required=True,
    type=LocalPath(dir_okay=False),
    help="A fine-tuned classifier (best.pt of a finetune run).",
)
@click.option("--split", type=click.Choice(["train", "val", "test"]), default="test",
              show_default=True, help="Which of the task's splits to score.")  # fmt: skip
@click.option(
    "--split-seed",
    type=bounded("split_seed"),
    default=None,
    help="Default: the one the checkpoint was tuned with.",
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
    from labram.stages.evaluate import evaluate

    res = evaluate(
        command_stores(stores),
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
    say(res["leakage"], info=True)  # a note on the metrics, not them (-q leaves it out)
    say(f"{res['task']} ({res['split']}, {counted(res['n_windows'], 'window')})")
    for k, v in res["metrics"].items():
        say(f"  {k:<18} {'undefined' if math.isnan(v) else f'{v:.4f}'}")
    say_notes("note", res.get("notes", []), err=False, info=True)  # 5 of each kind, -v all


@labram_cli.command("embed")
@store_option("A store (repeatable).")
@click.option(
    "--checkpoint",
    required=True,
    type=LocalPath(dir_okay=False),
    help="model.pt, a fine-tuned best.pt, labram-base.pth or a .safetensors export.",
)
@click.option("--out", required=True, type=LocalPath(file_okay=False, output=True),
              help="Output Zarr.")  # fmt: skip
@click.option("--per-patch", is_flag=True, help="Also every patch token (large).")
@click.option("--task", default=None, callback=checked_task,
              help="A task's windows and target (default: every recording in token-budget "
              "windows).")  # fmt: skip
@click.option("--chunk-windows", type=bounded("chunk_windows"), default=512, show_default=True,
              help="Windows per resumable chunk.")  # fmt: skip
@click.option("--batch-size", type=bounded("batch_size"), default=64, show_default=True,
              help="Windows per forward pass.")  # fmt: skip
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
      labram embed --store tuab.zarr --task tuab --checkpoint labram-base.pth --out emb-tuab.zarr
      torchrun --nproc-per-node 8 $(which labram) embed --store tuh.zarr --checkpoint C --out E
    """
    from labram.stages.embed import EmbedConfig, embed
    from labram.train.distributed import is_main_process

    cfg = EmbedConfig(per_patch=per_patch, task=task, chunk_windows=chunk_windows,
                      batch_size=batch_size)  # fmt: skip
    # the stores are opened by the stage, each leaving out the recordings whose index records
    # cannot be read (named with the windows left out), after the checkpoint's checks
    res = embed(list(stores), checkpoint, out, cfg=cfg, device=device)
    exit_if_stopped()  # (a signal a library swallowed: its recordings' lines are no errors)
    if not is_main_process():
        return
    if as_json:
        say_lines(strict_json.dumps(res, indent=2).split("\n"))
        sys.exit(3 if res["recordings_left_out"] else 0)
    say(
        f"{counted(res['n_windows'], 'window')} in {counted(res['n_chunks'], 'chunk')}: "
        f"{res['computed']} computed, {res['skipped']} already done ({res['windows_per_s']:.0f} "
        f"windows/s) -> {shown_path(res['out'])}",
        info=True,
    )
    if res["recordings_skipped"]:
        n_skipped = res["recordings_skipped"]
        gives = noun(n_skipped, "gives", "give")
        say(f"skipped: {counted(n_skipped, 'recording')} that {gives} no window", info=True)
    left = res["recordings_left_out"]
    if left:
        _embed_left_out(left, res["windows_left_out"], res["records_left_out"])
    if not res["complete"]:
        say("incomplete: run the same command again to finish", err=True)


def _embed_left_out(left: dict[str, str], n_windows: int, n_records: int = 0) -> None:
    """Name each recording whose windows ``labram embed`` left out (capped), close with their
    count and what to run, and exit 3 (as an ingest that skipped files). ``n_records``: how
    many of them were left out whole, for their index records."""
    say_capped("left out", [problem for _, problem in sorted(left.items())])
    what = f"{counted(n_windows, 'window')} of {counted(len(left) - n_records, 'recording')}"
    if n_records:
        what = f"{counted(n_records, 'recording')} whose index records cannot be read and " + what
    say(
        f"{what} left out (samples unreadable; their rows read NaN, not recorded as done): run "
        "`eegprep validate` on the store, `eegprep ingest ... --repair`, then this command "
        "again to fill them",
        err=True,
    )
    sys.exit(3)


@labram_cli.command("predict")
# FILES: each checked on its own (one line apiece); a URL, which no FILE can be, is refused
# before any work (exit 2)
@click.argument("files", nargs=-1, required=True, type=LocalText("local files"))
@click.option(
    "--checkpoint",
    required=True,
    type=LocalPath(dir_okay=False),
    help="A fine-tuned classifier (best.pt of labram finetune, or its .safetensors export).",
)
@click.option("--task", default=None, callback=checked_task,
              help="Default: what the checkpoint or its run folder records.")  # fmt: skip
@click.option("--corpus", type=LocalText("a corpus name or a local manifest file"), default=None,
              help="How to read the files: a corpus name or a "
              "manifest .toml (default: the task's corpus, else 'folder').")  # fmt: skip
@click.option("--mains", type=click.Choice(["50", "60"]), default=None,
              help="Mains frequency, for a corpus that does not state it.")  # fmt: skip
@click.option("--windows", "per_window", is_flag=True, help="Also one line per window.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (recordings and windows).")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV (per window with --windows).")
@click.option("--batch-size", type=bounded("batch_size"), default=64, show_default=True,
              help="Windows per forward pass.")  # fmt: skip
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
    from labram.stages.predict import predict_files, recording_name, table_lines, write_csv

    if as_json and as_csv:
        raise UsageError("--json and --csv: give one (both print to standard output)")
    res = predict_files(list(files), checkpoint, task=task, corpus=corpus,
                        mains=float(mains) if mains else None, batch_size=batch_size,
                        device=device)  # fmt: skip
    exit_if_stopped()  # (a signal a library swallowed: its files' lines are no files' errors)
    total, what = len(files), "file"
    if "n_recordings" in res:  # files of several recordings: counted by recording
        total, what = res["n_recordings"], "recording"
    say_skipped(list(res["failed"]), total=total, noun=what, then="each `skipped:` "
                "line names the file and why; predict them again once fixed")  # fmt: skip
    _say_left_out(res)
    if not as_json:  # --json holds them per recording; what an ingest would report: flat
        warned = [
            f"{recording_name(rec['file'], rec.get('part'))}: {w}"
            for rec in res["recordings"]
            for w in rec.get("warnings", [])
        ]
        say_notes("warning", warned, info=True)  # channels, ...: 5 of each kind; not -q's
    if as_json:
        say_lines(strict_json.dumps(res, indent=2).split("\n"))
    elif as_csv:  # (rows written past `say`: a failed write names the standard output too)
        with click_output_named():
            write_csv(res, sys.stdout, per_window=per_window)
            sys.stdout.flush()  # (the rows still buffered fail here, named, not at the exit)
    else:
        for line in table_lines(res, per_window=per_window):
            say(line)
    sys.exit(3 if res["failed"] else 0)


def _say_left_out(res: dict[str, Any]) -> None:
    """The notes of ``labram predict``'s files left out: each recording given twice, the
    later parts of split FIF recordings, the files a header given reads from."""
    from eegprep.base.same_files import repeats_line

    if res["duplicates"]:  # one line for them all: each recording is predicted once
        pairs = [(d["file"], d["same_as"]) for d in res["duplicates"]]
        say(f"note: {repeats_line(pairs, 'recording')}", err=True, info=True)
    if res.get("later_parts"):  # as an ingest of their folder: no recordings of their own
        parts = ", ".join(
            f"{shown_path(d['file'])} (of {shown_path(d['part_of'])})" for d in res["later_parts"]
        )
        n = len(res["later_parts"])
        say(f"note: left out {counted(n, 'later part')} of FIF recordings split in parts, "
            f"each predicted whole from its first part: {parts}", err=True, info=True)  # fmt: skip
    if res.get("companions"):  # a header's samples and markers: read with it, as an ingest does
        read = ", ".join(
            f"{shown_path(d['file'])} (of {shown_path(d['read_with'])})" for d in res["companions"]
        )
        say(f"note: left out {counted(len(res['companions']), 'file')} that a recording given "
            f"reads its samples or markers from: {read}", err=True, info=True)  # fmt: skip


@labram_cli.command("export")
@click.argument("checkpoint", type=LocalPath(dir_okay=False))
@click.option("--out", type=LocalPath(dir_okay=False, output=True), default=None,
              help="NAME.safetensors (default: the checkpoint's, that suffix).")  # fmt: skip
@click.option("--format", "fmt", type=click.Choice(["safetensors"]), default="safetensors",
              show_default=True, help="The weights' file format (only safetensors).")  # fmt: skip
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
    from labram.checkpoints import made_by
    from labram.stages import backbone_used
    from labram.stages.export import export
    from labram.stages.tokenizer_used import KEY, MODEL_WITHOUT, describe

    res = export(checkpoint, out, fmt=fmt, force=force)
    say(
        f"{res['kind']}, {res['n_parameters']:,} parameters -> {shown_path(res['weights'])}",
        info=True,
    )
    theirs = made_by.describe(made_by.recorded(res["source"]))  # the labram of the checkpoint
    say(f"labram version: {res[made_by.KEY]} (export); the checkpoint's: {theirs}", info=True)
    if res["kind"] == "mem":  # the tokenizer whose codes it predicts
        say(f"tokenizer (targets): {describe(res.get(KEY), MODEL_WITHOUT)}", info=True)
    if res["kind"] == "classifier":  # the model it was fine-tuned from
        said = backbone_used.describe(res.get(backbone_used.KEY))
        say(f"initial weights (fine-tuned from): {said}", info=True)
    say(f"model card: {shown_path(res['card'])} ({shown_path(res['card_json'])})", info=True)


def _predicted_again(runs: list[Any], stores: tuple[str, ...], device: str | None) -> list[str]:
    """Add to each run the predictions ``--predict`` computes (each file written named on a
    line); returns the errors of the runs it could not predict, each said on a line."""
    from labram.data.windows import open_stores
    from labram.stages.report import add_predictions

    unpredicted: list[str] = []  # runs reported without the predictions they lack
    # opened once for every run; not warned of: the run predicted again said it
    given = open_stores(stores) if stores else None
    for run in runs:
        try:
            for path in add_predictions(run, stores=given, device=device):
                say(f"predictions: {shown_path(path)}", err=True, info=True)
        except EegprepError as exc:  # (its store gone or damaged: the others go on)
            unpredicted.append(str(exc))
            say(f"no predictions: {one_line(str(exc))}", err=True)
    return unpredicted


@labram_cli.command("report")
@click.argument("run_dirs", nargs=-1, required=True, type=LocalPath(file_okay=False))
@click.option("--html", "html_out", type=LocalPath(dir_okay=False, output=True), default=None,
              help="Write one self-contained HTML page to this file.")  # fmt: skip
@click.option("--predict", is_flag=True, help="Seeds without predictions.csv: run best.pt "
              "again on the test windows and save them (for confusion matrices).")  # fmt: skip
@store_option("With --predict: the stores (default: those results.json names).",
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
    from eegprep.base.same_files import repeats_line, without_repeats
    from labram.stages.report import RunFiles, load_run, summary_lines
    from labram.stages.report_html import write_html

    if html_out:  # an existing file that is no page: refused before the summary is printed
        from eegprep.base.files import check_page_replaceable

        check_page_replaceable(html_out)
    runs: list[Any] = []
    bad: list[EegprepError] = []
    folders, repeats = without_repeats(run_dirs)  # (a folder given twice: reported once)
    if repeats:
        say(f"note: {repeats_line(repeats, 'run folder', thing='folder')}", err=True, info=True)
    files = RunFiles()  # each file read once, for every folder that shows it
    for d in folders:  # a damaged folder is one line; the others are still reported
        try:
            runs.append(load_run(d, files))
        except EegprepError as exc:
            bad.append(exc)
    if not runs:  # nothing to report: each is an error
        for problem in bad[:-1]:
            say(f"error: {one_line(str(problem))}", err=True)
        raise bad[-1]
    exit_if_stopped()  # (a signal a library swallowed: its folders' lines are no errors)
    say_skipped([str(p) for p in bad], total=len(folders), noun="run folder", then="each "
                "`skipped:` line names the folder and why (a run still training has no "
                "results.json yet)")  # fmt: skip
    unpredicted = _predicted_again(runs, stores, device) if predict else []
    say_lines(summary_lines(runs))
    if html_out:
        say(f"report: {write_html(runs, html_out)}", info=True)
    if unpredicted:
        say(f"{of_total(len(unpredicted), len(runs), 'run folder', 'was')} reported without "
            "the predictions --predict could not compute (named above): fix each, then run the "
            "report again", err=True)  # fmt: skip
    if bad or unpredicted:
        sys.exit(3)
