"""The exception hierarchy of eegprep.

Every error a user can cause derives from :class:`EegprepError` and, where one fits, from the
matching built-in as well (a missing file is also a ``FileNotFoundError``), so callers can catch
either. Messages name the file or value, what was expected, and what to do. ``assert`` is kept
for internal invariants only.
"""

from __future__ import annotations

from eegprep.base.shown_text import shown_path

MAX_MESSAGE_CHARS = 600
"""The longest problem text an error line carries; a library's message can be huge (MNE lists
every missing index of a header that claims 10^8 channels: 1 GB of text)."""


def clip_message(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """``text`` cut to ``limit`` characters, saying how much was left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit:,} more characters)"


class EegprepError(Exception):
    """Base class of every error eegprep raises on purpose.

    Attributes
    ----------
    every_rank : bool
        Whether every process of a torchrun run raises this error alike, with the same line
        (a decision the ranks took together, such as a training run stopped for too many
        unreadable windows): the command line prints it on the main rank alone
        (:class:`eegprep.cli_group.OneLineErrors`), the others exit with the same status in
        silence. False: each process that raises it prints it (it may be its own), except
        before its own share of the work, when every process of a machine raises it alike and
        the first of them prints it (:func:`eegprep.base.ranks.prints_error`).
    """

    every_rank: bool = False


class UsageError(EegprepError, ValueError):
    """An invalid option, argument or configuration value (exit status 2 in the CLI)."""


class ChangedFileError(UsageError):
    """A file was rewritten in place while it was read (:mod:`eegprep.base.unchanged_reads`):
    what was read mixes two versions; nothing is wrong with the file the writer leaves, so it
    is never taken for a damaged one."""


class ConfigError(UsageError):
    """The user configuration (corpus folders) is missing or invalid."""


class ManifestError(UsageError):
    """A corpus manifest is invalid: names the file and the key."""


class SourceError(EegprepError):
    """One source file cannot be ingested; the rest of the corpus goes on.

    Parameters
    ----------
    path : str
        The source file, as the user knows it (relative to the corpus root where possible).
    problem : str
        One line saying what is wrong and, where possible, what to do.
    """

    def __init__(self, path: str, problem: str) -> None:
        self.path = str(path)
        self.problem = clip_message(problem.strip()).replace("\n", " ")
        super().__init__(f"{shown_path(self.path)}: {self.problem}")


class OutputError(EegprepError):
    """A file a command writes outside the store (a plot, a report) could not be written: a full
    disk, no permission. What the file held before is kept."""


class StoreError(EegprepError):
    """A store cannot be opened or written."""


class StoreNotFoundError(StoreError, FileNotFoundError):
    """No store at the given location."""


class StoreExistsError(StoreError, FileExistsError):
    """Something that is not an eegprep store is already at the given location."""


class StoreFormatError(StoreError, ValueError):
    """The location holds a store of another format or version, or a recipe that differs."""


class StoreAccessError(StoreError, OSError):
    """A store's object or folder that its file system refused or failed to list, check, read,
    write, rename or delete (an fsspec backend's service: no access, a connection reset, an
    exception of the backend's own class; a local folder that cannot be listed). Not damage of
    the store: the message names the object once, says what failed and what to do, and the
    command stops with it (:meth:`eegprep.store.fs.Location.refused`). ``errno`` is the
    backend's, or ``None``.

    Made from one message, it is the one raised in another process and raised again here from
    its text (torch's loader workers: ``Caught StoreAccessError in DataLoader worker process
    0. Original Traceback ...``, which torch made a ``RuntimeError``, an internal error, when
    the class took no single message): its line is the last line of that text."""

    def __init__(self, *args: object) -> None:
        if len(args) == 1:  # (another process's, in its traceback's text)
            line = str(args[0]).strip().rsplit("\n", 1)[-1]
            args = (None, line.split(f"{type(self).__name__}: ", 1)[-1], None)
        super().__init__(*args)

    def __str__(self) -> str:  # (OSError's would add the errno and name the object again)
        return str(self.strerror)


class StoreLockedError(StoreError, RuntimeError):
    """Another ingest holds the store's write lock."""


class RecordingNotFoundError(StoreError, KeyError):
    """The store lists no recording with the given id (also a ``KeyError``)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""
