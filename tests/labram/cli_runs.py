"""Running a ``labram`` command in this process, and the one-line refusal its tests expect."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from cli import labram_cli


def run_labram(*args: object) -> tuple[int, str]:
    """``labram ARGS...`` (each made text): its exit status and output."""
    res = CliRunner().invoke(labram_cli, [str(a) for a in args])
    return res.exit_code, res.output


def one_error(code: int, output: str, *says: str) -> None:
    """Exit status 2 and one ``error:`` line holding each of ``says``."""
    assert code == 2 and output.startswith("error:"), output
    assert len(output.strip().splitlines()) == 1, output
    for text in says:
        assert text in output, output


WINDOW_SETS = ("token_budget=", "max_seconds=", "max_channels=")
"""The ``--set`` items of a window's length and channel cap."""


def fixed_windows(args: list[str]) -> list[str]:
    """``args`` without their ``--set`` items of :data:`WINDOW_SETS`: a task of fixed windows and
    channels (``tuab``, ``tuev``) reads none of them, and ``labram finetune`` refuses them."""
    out: list[str] = []
    for arg in args:
        if out and out[-1] == "--set" and arg.startswith(WINDOW_SETS):
            out.pop()
            continue
        out.append(arg)
    return out


def tuab_finetune(store: object, args: list[str]) -> list[object]:
    """``labram finetune --store STORE --task tuab`` with ``args`` less what TUAB's fixed windows
    refuse (:func:`fixed_windows`): the start of a fine-tuning command line."""
    return ["finetune", "--store", store, "--task", "tuab", *fixed_windows(args)]


def pretrained_tuab_demo(root: Path, tiny: list[str]) -> dict[str, Path]:
    """The TUAB demo corpus (1 subject per class, 30 s files) under ``root``, ingested into
    ``root/tuab.zarr``, and a tiny masked model pre-trained on it into ``root/pt`` with
    ``tiny``'s options and 2 tokenizer steps (its model.pt and last.pt hold the tokenizer's
    record): ``{"root", "src", "store", "pt"}``."""
    from eegprep.ingestion.driver import IngestConfig, ingest
    from eegprep.testing.demo_labelled import write_tuab_demo

    src = write_tuab_demo(root / "demo", n_subjects=1, seed=0, minutes=0.5)
    store = root / "tuab.zarr"
    ingest("tuab", src=src, out=store, config=IngestConfig(workers=0, progress=False))
    code, output = run_labram("pretrain", "--store", store, *tiny, "--tokenizer-max-steps", "2",
                              "--out", root / "pt")  # fmt: skip
    assert code == 0, output
    return {"root": root, "src": src, "store": store, "pt": root / "pt"}
