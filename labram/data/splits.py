"""What a recording's ``split`` (the store's field, from the corpus's folders or the manifest)
means to labram: held out for testing, or for training.

A recording whose split is ``eval`` or ``test`` is the official test set: left out of
pre-training (unless ``pretrain_test_splits``) and of a task's train/validation subjects. The
names are compared without case and surrounding spaces, so a manifest that writes ``Eval`` or
``TEST`` (a folder named so) holds those recordings out as ``eval`` does; before, they were
trained on. A split that is neither a test name nor one of :data:`TRAINING_SPLITS` (``holdout``,
``evaluation``) is read as training data, with one warning naming it when a command opens its
stores (:func:`unknown_splits_warning`), since only the user knows what it meant.
"""

from __future__ import annotations

from collections.abc import Iterable

from eegprep.base.path_limits import shown_path

TEST_SPLITS = ("eval", "test")
"""Splits held out for testing, compared by :func:`split_name`."""

TRAINING_SPLITS = (
    "", "train", "training", "dev", "val", "valid", "validation", "calib", "calibration",
)  # fmt: skip
"""Splits read as training data without a word: no split, and the names corpora give their
training and development parts (TUSZ ``dev``, BCI Competition IV ``calib``)."""


def split_name(split: str | None) -> str:
    """``split`` as labram compares it: without surrounding spaces, case folded (``''`` for
    None)."""
    return (split or "").strip().casefold()


def is_test_split(split: str | None) -> bool:
    """Whether a recording of ``split`` is held out for testing (one of :data:`TEST_SPLITS`,
    by :func:`split_name`)."""
    return split_name(split) in TEST_SPLITS


def unknown_splits_warning(splits: Iterable[str | None], store: str) -> str | None:
    """One line naming the splits of ``store`` (its name as shown) that labram reads as
    training data without knowing them (neither :data:`TEST_SPLITS` nor
    :data:`TRAINING_SPLITS`), or None when there is none."""
    known = {*TEST_SPLITS, *TRAINING_SPLITS}
    odd = sorted({str(s) for s in splits if split_name(s) not in known})
    if not odd:
        return None
    shown = ", ".join(repr(s) for s in odd[:5]) + (", ..." if len(odd) > 5 else "")
    return (
        f"{shown_path(store)}: split {shown} is neither a test split ({'/'.join(TEST_SPLITS)}) nor "
        "a training one: its recordings are read as training data (pre-training and a task's "
        "train/validation subjects); if they are a test set, set the manifest's `split` to `eval` "
        "or `test` and ingest again"
    )
