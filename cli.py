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


if __name__ == "__main__":  # pragma: no cover
    eegprep_cli()
