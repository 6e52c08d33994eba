"""Command-line entry points: the `eegprep` and `labram` click groups.

Thin by design: parse, call the library, print. Errors eegprep raises on purpose become one
line on stderr and exit status 2 (usage, configuration, store) without a traceback; `-v` shows
the traceback. `eegprep ingest` exits 3 when some files failed (the rest is ingested).
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

import click

from eegprep.errors import EegprepError

EXIT_USAGE = 2


class _Group(click.Group):
    """A click group that turns our errors into one line and exit status 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except EegprepError as exc:
            if ctx.meta.get("verbose"):
                raise
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_USAGE)


def _verbosity(ctx: click.Context, verbose: int, quiet: bool) -> None:
    ctx.meta["verbose"] = verbose > 0
    ctx.meta["quiet"] = quiet
    level = logging.WARNING - 10 * verbose if not quiet else logging.ERROR
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


@click.group(cls=_Group)
@click.version_option(package_name="labram", prog_name="eegprep")
@click.option("-v", "--verbose", count=True, help="More output; tracebacks on errors.")
@click.option("-q", "--quiet", is_flag=True, help="Only errors.")
@click.pass_context
def eegprep_cli(ctx: click.Context, verbose: int, quiet: bool) -> None:
    """eegprep: EEG corpora -> resampled, filtered, chunked Zarr stores.

    \b
    Examples:
      eegprep demo --out demo
      eegprep ingest tuh --src demo/tuh --out demo.zarr
      eegprep stats demo.zarr --plots demo-plots
    """
    _verbosity(ctx, verbose, quiet)


@eegprep_cli.command()
@click.argument("corpus")
@click.option("--src", type=click.Path(file_okay=False), help="Corpus folder (else from config).")
@click.option("--out", required=True, help="Store: a local path or an fsspec URL.")
@click.option("--workers", type=int, default=None, help="Worker processes (0: in this process).")
@click.option("--scheduler", default=None, help="Address of a dask.distributed scheduler.")
@click.option("--limit", type=int, default=None, help="Ingest at most N files (sorted order).")
@click.option("--mode", type=click.Choice(["fast", "mne"]), default="fast", show_default=True)
@click.option("--encoding", type=click.Choice(["float32", "float16"]), default="float32")
@click.option("--verify-checksums", is_flag=True, help="Compare SHA-256 instead of size+mtime.")
@click.option("--commit-every", type=click.IntRange(min=1), default=16, show_default=True,
              help="Finished recordings per index commit (also every 2 s).")  # fmt: skip
@click.option("--manifest", type=click.Path(dir_okay=False, exists=True),
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
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def ingest(ctx: click.Context, corpus: str, src: str | None, out: str, workers: int | None,
           scheduler: str | None, limit: int | None, mode: str, encoding: str,
           verify_checksums: bool, commit_every: int, manifest: str | None, mains: str | None,
           include: tuple[str, ...], as_json: bool) -> None:  # fmt: skip
    """Ingest CORPUS (a name from `eegprep corpora`, or a manifest .toml) into a store.

    \b
    Examples:
      eegprep ingest tuh --out tuh.zarr              # folder from EEGPREP_TUH_DIR or config
      eegprep ingest tuab --src /data/tuab --out tuab.zarr --workers 8
      eegprep ingest my_corpus.toml --src /data/mine --out mine.zarr
      eegprep ingest tuh --manifest my_tuh.toml --src /data/tuh_eeg --out tuh.zarr
      eegprep ingest folder --src /data/lab --mains 50 --include '**/*.vhdr' --out lab.zarr
    """
    from eegprep.ingest import IngestConfig
    from eegprep.ingest import ingest as run_ingest
    from eegprep.recipe import Recipe

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
    )
    report = run_ingest(manifest or corpus, src=src, out=out, config=cfg)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
    elif not ctx.meta.get("quiet"):
        _print_report(report)
    sys.exit(report.exit_code)


def _print_report(report: Any) -> None:
    for line in report.failed + report.unmatched:
        click.echo(f"skipped: {line}", err=True)
    n_warn = sum(len(w) for w in report.warnings.values())
    click.echo(
        f"{report.corpus}: {report.n_files} files found, {report.n_ingested} ingested, "
        f"{report.n_current} already current, {len(report.failed) + len(report.unmatched)} "
        f"skipped, {n_warn} warnings; {report.hours_written:.3f} h written in "
        f"{report.seconds:.1f} s -> {report.store}"
    )
    click.echo(f"report: {report.report_path}")


@eegprep_cli.command()
@click.argument("store")
@click.option("--json", "as_json", is_flag=True, help="Print the statistics as JSON.")
@click.option("--plots", type=click.Path(file_okay=False), help="Write PNG plots to this folder.")
@click.option("--html", "html_out", type=click.Path(dir_okay=False),
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
    from eegprep.stats import format_table, plot_stats, store_stats
    from eegprep.store import open_store

    s = open_store(store)
    st = store_stats(s)
    click.echo(json.dumps(st, indent=2) if as_json else format_table(st))
    if plots:
        for p in plot_stats(s, st, plots):
            click.echo(f"plot: {p}", err=as_json)
    if html_out:
        from eegprep.report import write_html_report

        click.echo(f"report: {write_html_report(s, html_out)}", err=as_json)


@eegprep_cli.command()
@click.argument("store")
def validate(store: str) -> None:
    """Check that every recording the STORE lists opens, matches the index, and is finite.

    Exits 1 when any problem is found, listing each on one line.

    \b
    Example:
      eegprep validate demo.zarr
    """
    from eegprep.validate import validate as run_validate

    n, problems = run_validate(store)
    for p in problems:
        click.echo(f"problem: {p}", err=True)
    click.echo(f"{n} recordings checked, {len(problems)} problems")
    sys.exit(1 if problems else 0)


@eegprep_cli.command()
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Output folder.")
@click.option("--corpus", default="tuh", show_default=True, help="Which demo corpus to write.")
@click.option("--seed", type=int, default=0, show_default=True)
def demo(out: str, corpus: str, seed: int) -> None:
    """Write a small demo corpus in a real corpus layout (synthetic EEG-like signals).

    \b
    Example:
      eegprep demo --out demo && eegprep ingest tuh --src demo/tuh --out demo.zarr
    """
    from eegprep.demo import write_demo_corpus

    root = write_demo_corpus(out, corpus=corpus, seed=seed)
    click.echo(str(root))


@eegprep_cli.group(cls=_Group)
def config() -> None:
    """Where each corpus lives on this machine (so `--src` can be left out)."""


@config.command("set")
@click.argument("corpus")
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
def config_set(corpus: str, folder: str) -> None:
    """Record FOLDER as the location of CORPUS.

    \b
    Example:
      eegprep config set tuh /data/tuh_eeg
    """
    from eegprep.config import set_corpus_dir

    click.echo(f"wrote {set_corpus_dir(corpus, folder)}")


@config.command("show")
def config_show() -> None:
    """Print the configured corpus folders and where they come from."""
    from eegprep.config import config_path, read_config

    click.echo(f"# {config_path()}")
    for name, folder in sorted(read_config().items()):
        click.echo(f"{name} = {folder}")


@eegprep_cli.command()
@click.argument("name", required=False)
def corpora(name: str | None) -> None:
    """List the corpora eegprep knows (name, formats, hours, labels), or show NAME in full.

    \b
    Examples:
      eegprep corpora
      eegprep corpora tuh
    """
    from eegprep.corpora import describe, summary_line
    from eegprep.manifest import available, load_manifest

    if name is None:
        for n in available():
            click.echo(summary_line(load_manifest(n)))
        return
    for line in describe(load_manifest(name)):
        click.echo(line)


@click.group(cls=_Group)
@click.version_option(package_name="labram", prog_name="labram")
@click.option("-v", "--verbose", count=True, help="More output; tracebacks on errors.")
@click.option("-q", "--quiet", is_flag=True, help="Only errors.")
@click.pass_context
def labram_cli(ctx: click.Context, verbose: int, quiet: bool) -> None:
    """labram: LaBraM tokenizer, pre-training and fine-tuning on eegprep stores."""
    _verbosity(ctx, verbose, quiet)


@labram_cli.command("convert")
@click.argument("src", type=click.Path(dir_okay=False))
@click.argument("dst", type=click.Path(dir_okay=False))
@click.option(
    "--kind",
    type=click.Choice(["mem", "classifier", "tokenizer"]),
    default=None,
    help="What to build from a released-layout file (default: what the file holds).",
)
@click.option("--size", default=None, help="Model preset; default: inferred from the shapes.")
@click.option(
    "--n-outputs", type=int, default=None, help="Classifier outputs (default: the head's)."
)
def labram_convert(
    src: str, dst: str, kind: str | None, size: str | None, n_outputs: int | None
) -> None:
    """Convert a checkpoint: released LaBraM layout <-> labram checkpoint (either direction)."""
    from labram.checkpoints import CheckpointError, convert_file

    try:
        done = convert_file(src, dst, kind=kind, size=size, n_outputs=n_outputs)
    except (CheckpointError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(done)


if __name__ == "__main__":  # pragma: no cover
    eegprep_cli()
