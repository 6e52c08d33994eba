"""The errors of reading a checkpoint, and the one-line reason every message quotes.

:class:`CheckpointError` is a :class:`~eegprep.base.errors.UsageError`: the command line turns
it into one line naming the file. Its kinds say why a file was refused: it asks for code
(:class:`UnsafeCheckpointError`), it is damaged (:class:`CorruptCheckpointError`), or it was
rewritten in place while it was read (:class:`ChangedCheckpointError`).
"""

from __future__ import annotations

from eegprep.base.errors import ChangedFileError, UsageError


class CheckpointError(UsageError):
    """A checkpoint cannot be read or does not fit the model (names the file and the keys)."""


class UnsafeCheckpointError(CheckpointError):
    """The file asks for something a checkpoint never needs (an import, a call): refused
    before any of it ran."""


class CorruptCheckpointError(CheckpointError):
    """The file is truncated, empty, or not a PyTorch checkpoint at all."""


class ChangedCheckpointError(CheckpointError, ChangedFileError):
    """The file (weights, or a model card beside them) changed while it was read: a writer
    rewrote it in place (:mod:`eegprep.base.unchanged_reads`); what was read is a mix of two
    versions, none of it used. Nothing is wrong with the file the writer leaves."""


def first_sentence(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return (text.split(". ")[0].rstrip(".") or type(exc).__name__)[:200]
