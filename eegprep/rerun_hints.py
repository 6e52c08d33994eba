"""How the line of a failed write says to run the command again, where "run the same command
again" would be refused.

:func:`eegprep.cli_group.place_problem` and the group's handler of
:class:`~eegprep.base.errors.EegprepError` close a failed write's line with what to run next:
a training command's folder refuses the same command once it holds a run (``--resume``), and
``export`` / ``convert`` refuse an output already there unless ``--force``, which a failed
write's new file is once it is in place (only its folder's flush failed) or once the next
command completes an export's journal.
"""

from __future__ import annotations

SAME = "run the same command again"
"""The close of a failed write's line where the command is not known
(:func:`eegprep.base.write_errors.then_again`)."""

RERUN_HINTS = dict.fromkeys(
    ("tokenizer", "pretrain", "finetune"), "run the same command with --resume"
)
"""How to run again a command whose write failed, where it is not the same command again: a
training run's folder holds a run once it has begun (and ``--resume`` starts at step 0 from
a folder that never had a checkpoint)."""


REFUSE_EXISTING = ("export", "convert")
"""Commands that refuse an output file already there unless ``--force``."""

FORCED_AGAIN = " with --force"
"""What the closing "run the same command again" of :data:`REFUSE_EXISTING`'s commands adds
when the failed write's new file is in place (only its folder's flush failed) or will be (an
export's journal, which the next command completes): the same command was then refused,
"DST ... exists: pass --force"."""

IN_PLACE = ("written, but its folder could not be flushed", "the next command that reads or")
"""What a failed write's line says when its new file is in place, or will be
(:func:`eegprep.base.write_errors.failed_write`, an export's journal)."""


def rerun_hint(line: str, command: str | None) -> str:
    """``line`` with its closing "run the same command again" (a failed write's, worded where
    the command is not known: :func:`eegprep.base.write_errors.then_again`) made the
    ``command``'s own (:data:`RERUN_HINTS`): a training run's plot that could not be written
    told the user to run again what its folder then refuses; and, for a command that refuses
    an output already there, ``--force`` once the new file is in place (:data:`FORCED_AGAIN`)."""
    same = SAME
    if not line.endswith(same):
        return line
    hint = RERUN_HINTS.get(command or "")
    if hint:
        return line[: -len(same)] + hint
    if command in REFUSE_EXISTING and any(text in line for text in IN_PLACE):
        return line + FORCED_AGAIN
    return line


def again_hint(command: str | None, *, in_place: bool = False) -> str:
    """What to run again after a failed write of ``command`` (:data:`RERUN_HINTS`, else
    :data:`SAME`); ``in_place``: the write's new file is in place (:data:`FORCED_AGAIN`)."""
    hint = RERUN_HINTS.get(command or "")
    if hint:
        return hint
    return SAME + (FORCED_AGAIN if in_place and command in REFUSE_EXISTING else "")


__all__ = ["FORCED_AGAIN", "IN_PLACE", "REFUSE_EXISTING", "RERUN_HINTS", "again_hint", "rerun_hint"]
