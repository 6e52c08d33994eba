"""Command-line entry points: the `eegprep` click group, and `labram`'s (:mod:`labram.commands`).

Thin by design: parse, call the library, print. Every error is one line on stderr starting
``error:`` (:mod:`eegprep.cli_group`): exit status 2 for what eegprep raises on purpose (usage,
configuration, store) and for click's usage errors, 1 for an unexpected exception (a bug); `-v`
adds the traceback. `eegprep ingest` exits 3 when some files failed (the rest is ingested).
docs/cli.md.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

import click

from eegprep.base import strict_json
from eegprep.base.path_limits import shown_path
from eegprep.base.wording import counted
from eegprep.cli_group import (
    LocalPath,
    LocalText,
    OneLineErrors,
    StoreLocation,
    exit_if_stopped,
    one_line,
    say,
    say_capped,
    say_lines,
    say_notes,
    say_warnings,
    set_verbosity,
    verbosity_options,
)
from eegprep.cli_numbers import ByteSize, bounded
from labram.commands import labram_cli

if TYPE_CHECKING:
    from eegprep.store.readable import Readable

__all__ = ["eegprep_cli", "labram_cli"]


@click.group(cls=OneLineErrors)
@click.version_option(package_name="labram", prog_name="eegprep")
@verbosity_options
@click.pass_context
def eegprep_cli(ctx: click.Context, verbose: int, quiet: bool) -> None:
    """eegprep: EEG corpora -> resampled, filtered, chunked Zarr stores.

    \b
    Examples:
      eegprep demo --out demo
      eegprep ingest tuh --src demo/tuh --out demo.zarr
      eegprep stats demo.zarr --plots demo-plots
    """
    set_verbosity(ctx, verbose, quiet)


@eegprep_cli.command()
@click.argument("corpus", type=LocalText("a corpus name or a local manifest file"))
@click.option("--src", type=LocalPath(file_okay=False), help="Corpus folder (else from config).")
@click.option("--out", required=True, type=StoreLocation(output=True),
              help="Store: a local path or an fsspec URL.")  # fmt: skip
@click.option("--workers", type=bounded("workers"), default=None,
              help="Most worker processes (0: in this process; a pool starts only when "
                   "the plan is large enough to gain from one; docs/cli.md).")  # fmt: skip
@click.option("--scheduler", default=None, metavar="tcp://HOST:PORT",
              help="Address of a dask.distributed scheduler.")  # fmt: skip
@click.option("--limit", type=bounded("limit"), default=None,
              help="Ingest at most N files (sorted order).")  # fmt: skip
@click.option("--mode", type=click.Choice(["fast", "mne"]), default="fast", show_default=True,
              help="fast: streamed, time-exact; mne: LaBraM's MNE calls.")  # fmt: skip
@click.option("--encoding", type=click.Choice(["auto", "float32", "float16", "quantized"]),
              default="auto", show_default=True,
              help="auto: quantized (1/8 of the source ADC step) where every channel has "
                   "one, else float32; an existing store keeps its own.")  # fmt: skip
@click.option("--verify-checksums", is_flag=True,
              help="Hash every source file (BLAKE3), not only those whose ctime or inode "
                   "changed.")  # fmt: skip
@click.option("--commit-every", type=bounded("commit_every"), default=16, show_default=True,
              help="Finished recordings per index commit (also every 2 s).")  # fmt: skip
@click.option("--manifest", type=LocalPath(dir_okay=False, exists=True),
              help="Use this manifest file instead of the shipped one.")  # fmt: skip
@click.option(
    "--mains",
    type=click.Choice(["50", "60"]),
    default=None,
    help="Mains frequency of the recording site (overrides the manifest's).",
)
@click.option(
    "--include",
    multiple=True,
    metavar="GLOB",
    help="Files to ingest, relative to --src (repeatable; replaces the manifest's).",
)
@click.option("--repair", is_flag=True,
              help="Also re-ingest listed recordings that validate finds damaged.")  # fmt: skip
@click.option("--prune", is_flag=True,
              help="Remove listed recordings whose source file is gone (renamed, moved, "
                   "deleted).")  # fmt: skip
@click.option("--prune-max", type=bounded("prune_max"), default=0.5, show_default=True,
              metavar="FRACTION",
              help="Prune nothing when more than this share of the corpus is gone.")  # fmt: skip
@click.option("--keep-replaced", type=bounded("keep_replaced"), default=86_400.0,
              show_default=True, metavar="SECONDS",
              help="Keep replaced recording versions this long for open readers.")  # fmt: skip
@click.option("--file-memory-limit", type=ByteSize(), default="2G", show_default=True,
              metavar="SIZE",
              help="Most memory one file may take at once (512M, 2G).")  # fmt: skip
@click.option("--file-time-limit", type=bounded("file_time_limit"), default=None,
              metavar="SECONDS", help="Refuse a file whose ingest takes longer.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def ingest(ctx: click.Context, corpus: str, src: str | None, out: str, workers: int | None,
           scheduler: str | None, limit: int | None, mode: str, encoding: str,
           verify_checksums: bool, commit_every: int, manifest: str | None, mains: str | None,
           include: tuple[str, ...], repair: bool, prune: bool, prune_max: float,
           keep_replaced: float,
           file_memory_limit: int, file_time_limit: float | None,
           as_json: bool) -> None:  # fmt: skip
    """Ingest CORPUS (a name from `eegprep corpora`, or a manifest .toml) into a store.

    \b
    Examples:
      eegprep ingest tuh --out tuh.zarr              # folder from EEGPREP_TUH_DIR or config
      eegprep ingest tuab --src /data/tuab --out tuab.zarr --workers 8
      eegprep ingest my_corpus.toml --src /data/mine --out mine.zarr
      eegprep ingest tuh --manifest my_tuh.toml --src /data/tuh_eeg --out tuh.zarr
      eegprep ingest folder --src /data/lab --mains 50 --include '**/*.vhdr' --out lab.zarr
    """
    from eegprep.base.limits import parse_size
    from eegprep.ingestion.driver import IngestConfig
    from eegprep.ingestion.driver import ingest as run_ingest
    from eegprep.pipeline.recipe import Recipe

    if manifest is not None:  # (CORPUS was ignored beside --manifest, a typo's too)
        from eegprep.corpus.manifest import check_replaced

        check_replaced(corpus, manifest)
    recipe = Recipe(mode=mode, encoding=encoding)  # type: ignore[arg-type]
    cfg = IngestConfig(
        workers=workers,
        scheduler=scheduler,
        limit=limit,
        recipe=recipe,
        verify_checksums=verify_checksums,
        commit_every=commit_every,
        progress=not ctx.meta.get("quiet"),
        mains=float(mains) if mains else None,
        include=include or None,
        repair=repair,
        prune=prune,
        prune_max=prune_max,
        keep_replaced=keep_replaced,
        file_memory_limit=parse_size(file_memory_limit),
        file_time_limit=file_time_limit,
    )
    report = run_ingest(manifest or corpus, src=src, out=out, config=cfg)  # (signals: the group)
    exit_if_stopped()  # (a signal a library swallowed: its files' lines are no files' errors)
    if as_json:
        say_lines(strict_json.dumps(report.to_dict(), indent=2).split("\n"))
    else:
        _print_report(report)
    sys.exit(report.exit_code)


def _print_report(report: Any) -> None:
    from eegprep.base.redact import redact
    from eegprep.ingestion.driver import GONE
    from eegprep.store.group_repair import METADATA

    skipped = report.failed + report.unmatched
    written = shown_path(redact(report.report_path)) if report.report_path else "(not written)"
    named = f"each is named in the report {written}"
    say_capped("skipped", skipped, where=named)
    n_warn = sum(len(w) for w in report.warnings.values())
    say_notes("note", report.warnings.get(GONE, []), info=True)  # (10,000 files renamed)
    say_notes("note", report.warnings.get(METADATA, []), info=True)  # (--repair's, or its hint)
    warned = {k: texts for k, texts in report.warnings.items() if k not in (GONE, METADATA)}
    say_warnings(warned, where=f"each is in the report {written}")  # (they were only counted)
    checked = f" ({report.n_checked} by content)" if report.n_checked else ""
    removed = f"{report.n_removed} removed, " if report.n_removed else ""
    say(
        f"{report.corpus}: {counted(report.n_files, 'file')} found, {report.n_ingested} ingested, "
        f"{report.n_current} already current{checked}, "
        f"{removed}{len(report.failed) + len(report.unmatched)} skipped, "
        f"{counted(n_warn, 'warning')}; {report.hours_written:.3f} h written in "
        f"{report.seconds:.1f} s -> {shown_path(redact(report.store))}",
        info=True,
    )
    # which folder was read and what named it (--src, EEGPREP_TUH_DIR or the config file's entry)
    say(f"source: {shown_path(report.root)} ({report.root_from})", info=True)
    say(f"report: {shown_path(redact(report.report_path))}", info=True)


@eegprep_cli.command()
@click.argument("store", type=StoreLocation())
@click.option("--json", "as_json", is_flag=True, help="Print the statistics as JSON.")
@click.option(
    "--plots", type=LocalPath(file_okay=False, output=True), help="Write PNG plots to this folder."
)
@click.option("--html", "html_out", type=LocalPath(dir_okay=False, output=True),
              help="Write a self-contained HTML report to this file.")  # fmt: skip
def stats(store: str, as_json: bool, plots: str | None, html_out: str | None) -> None:
    """Per-corpus statistics of a STORE: recordings, subjects, hours, channels, rates, QC, labels.

    \b
    Examples:
      eegprep stats demo.zarr
      eegprep stats demo.zarr --json
      eegprep stats demo.zarr --plots plots/
      eegprep stats demo.zarr --html report.html
    """
    from eegprep.base.files import check_outside_stores
    from eegprep.store.readable import split_readable
    from eegprep.store.reader import open_store
    from eegprep.tools.stats import corpus_spectra, format_table, plot_stats, store_stats

    for path, what in ((plots, "a plots folder"), (html_out, "an HTML report")):
        if path:  # refused before anything is printed or written
            check_outside_stores(path, what)
    if html_out:
        from eegprep.base.files import check_page_replaceable

        check_page_replaceable(html_out)
    readable = split_readable(open_store(store, leave_out_malformed=True))
    s = readable.store  # one damaged record must not hide the summary of all the others
    st = store_stats(s, readable.left_out)
    # a damaged report is left out of the statistics
    say_notes("note", [f"{p}; left out (run `eegprep validate`)" for p in s.report_problems])
    say_lines(strict_json.dumps(st, indent=2).split("\n") if as_json else format_table(st))
    unread: list[str] = []  # recordings whose samples the spectra could not read
    spectra = corpus_spectra(s, list(st["corpora"]), unread=unread) if plots or html_out else None
    if plots:
        for p in plot_stats(s, st, plots, unread=unread, spectra=spectra):
            say(f"plot: {p}", err=as_json, info=True)
    if html_out:
        from eegprep.tools.report import write_html_report

        page = write_html_report(
            s, html_out, left_out=readable.left_out, unread=unread, spectra=spectra
        )
        say(f"report: {shown_path(page)}", err=as_json, info=True)
    _left_out_end(readable, unread, s.display)


def _left_out_end(readable: Readable, unread: list[str], shown_store: str) -> None:
    """Name each recording a summary left out (capped), close with their count and what to
    run, and exit 3 (as an ingest that skipped files); nothing left out: return."""
    if not readable.left_out and not unread:
        return
    exit_if_stopped()  # (a signal a library swallowed: those reads failed on its damage)
    say_capped("left out", [problem for _, problem in readable.left_out])
    say_capped("left out of the spectrum", unread)
    n = len(readable.left_out)
    parts = [
        f"{n} of {counted(readable.n_listed, 'recording')} left out (index record unreadable)"
    ] * (n > 0)
    if unread:
        parts.append(
            f"{counted(len(unread), 'recording')} left out of the spectrum (samples unreadable)"
        )
    said = "; ".join(parts)
    say(
        f"{said}: run `eegprep validate {shown_store}` to list every problem, then `eegprep "
        f"ingest CORPUS --out {shown_store} --repair` to write those recordings again",
        err=True,
    )
    sys.exit(3)


@eegprep_cli.command()
@click.argument("store", type=StoreLocation())
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def validate(store: str, as_json: bool) -> None:
    """Read every byte of the STORE and check it against its index.

    Reports, one line each: chunks that fail their checksum or do not decode, missing or
    truncated shards, damaged shard indexes, recordings whose group, shape, channels or time
    differ from the index, non-finite samples, a missing or damaged root or index, and groups
    on disk that the index does not list. Retired groups (replaced versions kept for readers
    of an older index) are read too, their problems starting `retired group`. Groups that hold
    no record (what a stopped ingest leaves; the next ingest retires them), attributes
    another program added to the root or a recording group, and files or folders it put in a
    recording group, are named on `note:` lines, which are no problem (a chunk of an array that
    no read sees, outside its chunk grid, is). STORE may be a store zipped into one file.
    Exits 1 when any problem is found (`eegprep ingest CORPUS --out STORE --repair`
    re-ingests the listed recordings named), 2 when STORE holds no eegprep store.

    \b
    Example:
      eegprep validate demo.zarr
    """
    from eegprep.base.redact import redact, redact_all
    from eegprep.store.validate import check_store

    result = check_store(store)
    exit_if_stopped()  # (a signal a library swallowed: what it broke is no damage of the store)
    problems, notes = redact_all(result.problems), redact_all(result.notes)
    if as_json:
        doc = {
            "store": redact(store),
            "checked": result.checked,
            "retired_checked": result.retired,
            "problems": problems,
            "notes": notes,
        }
        say_lines(strict_json.dumps(doc, indent=2).split("\n"))
    else:
        say_notes("problem", problems)  # 5 of each kind (a damaged store can list 10^6), -v all
        say_notes("note", notes)  # 5 of each kind (5,000 groups can hold the same addition)
        retired = f", {result.retired} retired groups checked" if result.retired else ""
        say(
            f"{counted(result.checked, 'recording')} checked{retired}, "
            f"{counted(len(problems), 'problem')}",
            info=True,
        )
        in_retired = len(result.retired_problems)
        if in_retired:
            say(
                f"{in_retired} of the problems are in retired groups (replaced versions kept for "
                "readers of an older index, which fail on them; the listed recordings do not use "
                "them, and --repair cannot write them again: they go after --keep-replaced)",
                info=True,
            )
    sys.exit(1 if problems else 0)


@eegprep_cli.command()
@click.option("--out", required=True, type=LocalPath(file_okay=False, output=True),
              help="Output folder.")  # fmt: skip
@click.option("--corpus", default="tuh", show_default=True,
              help="Which demo corpus to write: tuh, tuab or tuev.")  # fmt: skip
@click.option("--seed", type=bounded("seed"), default=0, show_default=True,
              help="Seed of every random choice (same seed, same bytes).")  # fmt: skip
def demo(out: str, corpus: str, seed: int) -> None:
    """Write a small demo corpus in a real corpus layout (synthetic EEG-like signals).

    \b
    Example:
      eegprep demo --out demo && eegprep ingest tuh --src demo/tuh --out demo.zarr
    """
    from eegprep.base.errors import OutputError, UsageError
    from eegprep.base.files import as_text, enclosing_store, write_problem
    from eegprep.testing.demo import write_demo_corpus

    store = enclosing_store(out)  # never into an eegprep store
    if store is not None:
        raise UsageError(
            f"--out {shown_path(out)}: inside the eegprep store {shown_path(store)}; a demo corpus "
            "goes to a folder of its own: pick another --out"
        )
    whole = os.path.abspath(out)
    if as_text(whole) != whole:  # (ingest reads no corpus under such a folder: refused there)
        raise UsageError(
            f"--out {shown_path(whole)}: the path is not UTF-8 (bytes shown as \\xNN), and "
            "`eegprep ingest` reads no corpus under such a folder: pick a UTF-8 name (and rename "
            "any folder above it whose name is not UTF-8)"
        )
    try:
        root = write_demo_corpus(out, corpus=corpus, seed=seed)
    except OSError as exc:  # a read-only or missing place, a file in the path, a full disk
        from eegprep.base.write_errors import then_again

        # the file that failed (a full disk, a file size limit) and what to do about it
        other = exc.filename and str(exc.filename) != str(out)
        at = f" at {shown_path(exc.filename)}" if other else ""
        todo = then_again(exc) or ": pick a folder you can write"
        raise OutputError(
            f"--out {shown_path(out)}: cannot write the demo corpus "
            f"({write_problem(out, exc)}{at}){todo}"
        ) from None
    say(shown_path(root))  # (a 4,000-character folder, a newline in it: as every path)


@eegprep_cli.group(cls=OneLineErrors)
def config() -> None:
    """Where each corpus lives on this machine (so `--src` can be left out).

    \b
    Examples:
      eegprep config set tuh /data/tuh_eeg
      eegprep config show
    """


@config.command("set")
@click.argument("corpus")
@click.argument("folder", type=LocalPath(exists=True, file_okay=False))
@click.option("--custom", is_flag=True,
              help="CORPUS is named in a manifest of your own, not shipped.")  # fmt: skip
def config_set(corpus: str, folder: str, custom: bool) -> None:
    """Record FOLDER as the location of CORPUS (a name from `eegprep corpora`).

    \b
    Examples:
      eegprep config set tuh /data/tuh_eeg
      eegprep config set my_lab /data/lab --custom     # the name in my_lab.toml
    """
    import os
    import warnings

    from eegprep.base.validation import check_choice, invalid_value
    from eegprep.corpus.folders import env_var, set_corpus_dir
    from eegprep.corpus.manifest import CORPUS_NAME, available

    if not custom:
        check_choice("corpus", corpus, available(),
                     hint="(a corpus of your own manifest: add --custom)")  # fmt: skip
    elif not CORPUS_NAME.fullmatch(corpus):  # no manifest can have it: the entry would be dead
        raise invalid_value("corpus", corpus, expected="a corpus name as a manifest's name key "
                            "has it: a lower-case letter or digit, then lower-case letters, "
                            "digits, '_' and '-' (at most 64 characters)")  # fmt: skip
    say(f"wrote {set_corpus_dir(corpus, folder)}", info=True)
    variable = env_var(corpus)
    value = os.environ.get(variable)
    if value and not value.strip():  # not a folder: every command refuses it, this entry unused
        warnings.warn(
            f"{variable} is set to {value!r}, whitespace alone, which every command refuses: "
            "unset it for this entry to take effect",
            UserWarning,
            stacklevel=1,
        )
    elif value:  # the entry has no effect while the variable is set
        warnings.warn(
            f"{variable} is set ({value}) and wins over the config file: unset it "
            f"for this entry to take effect",
            UserWarning,
            stacklevel=1,
        )


NO_CONFIG_YET = " (no config file yet: make one with eegprep config set CORPUS DIR)"
"""What ``config show`` adds to its first line, the config file's path, when there is no such
file: the path alone read as a file that exists."""


@config.command("show")
def config_show() -> None:
    """Print the configured corpus folders and where they come from.

    \b
    Example:
      eegprep config show      # tuh = /data/tuh_eeg   # from EEGPREP_TUH_DIR
    """
    import os
    import re

    from eegprep.corpus.folders import (
        config_path,
        configured_names,
        corpus_dirs,
        env_var,
        folder_problem,
    )
    from eegprep.corpus.manifest import CORPUS_NAME, available

    in_file = configured_names()
    path = config_path()
    # (a comment, as every line but the entries: the output stays a TOML file; the path escaped,
    # as a newline in it would end the comment and break that)
    missing = "" if os.path.lexists(path) else NO_CONFIG_YET
    say(f"# {shown_path(os.path.abspath(path))}{missing}")
    shipped = set(available())
    # a corpus of one's own manifest too, named in the file or by its own variable (env_var)
    by_env = {
        m.group(1).lower()
        for var in os.environ
        if (m := re.fullmatch(r"EEGPREP_(.+)_DIR", var)) and env_var(m.group(1).lower()) == var
    }
    named = shipped | {n for n in (*in_file, *by_env) if CORPUS_NAME.fullmatch(n)}
    from_env = {n for n in named if os.environ.get(env_var(n))}
    folders = corpus_dirs(sorted(set(in_file) | from_env))  # the file read once
    for name, folder in folders.items():
        if isinstance(folder, Exception):  # a setting that can name no folder: say why
            say(f"{name} = ?   # {one_line(str(folder))}")
            continue
        notes = [f"from {env_var(name)}"] if name in from_env else []
        if name not in shipped:
            notes.append("not a shipped corpus: a manifest of your own, or a misspelling?")
        if (problem := folder_problem(folder)) is not None:
            notes.append(problem)
        say(f"{name} = {shown_path(folder)}" + (f"   # {'; '.join(notes)}" if notes else ""))


@eegprep_cli.command()
@click.argument("name", required=False,
                type=LocalText("a corpus name or a local manifest file"))  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def corpora(name: str | None, as_json: bool) -> None:
    """List the corpora eegprep knows (name, formats, hours, labels), or show NAME in full.

    \b
    Examples:
      eegprep corpora
      eegprep corpora tuh
      eegprep corpora --json
    """
    from eegprep.corpus.catalogue import as_dict, describe, summary_line
    from eegprep.corpus.manifest import available, load_manifest

    manifests = [load_manifest(n) for n in ([name] if name is not None else available())]
    if as_json:
        out = [as_dict(m) for m in manifests]
        say_lines(strict_json.dumps(out[0] if name is not None else out, indent=2).split("\n"))
    elif name is None:
        for m in manifests:
            say(summary_line(m))
    else:
        lines = describe(manifests[0])
        say_lines(lines)
        if any("docs/" in line for line in lines):  # as --help says it (CitingCommand)
            from eegprep.base.resources import shipped_dir

            say(f"The docs/ pages cited above are in {shipped_dir('docs')}.")


if __name__ == "__main__":  # pragma: no cover
    eegprep_cli()
