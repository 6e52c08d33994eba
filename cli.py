"""Command-line entry points: the `eegprep` and `labram` click groups.

Thin by design: parse, call the library, print. No logic lives here.
"""

from __future__ import annotations

import click


@click.group()
@click.version_option(package_name="labram", prog_name="eegprep")
def eegprep_cli() -> None:
    """eegprep: EEG corpora -> resampled, filtered, chunked Zarr stores."""


@click.group()
@click.version_option(package_name="labram", prog_name="labram")
def labram_cli() -> None:
    """labram: LaBraM tokenizer, pre-training and fine-tuning on eegprep stores."""


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
