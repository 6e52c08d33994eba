"""Matplotlib for every figure eegprep and labram write: :func:`pyplot`, on the Agg backend.

Matplotlib keeps its settings and its font cache in a folder of the user's (``$MPLCONFIGDIR``,
else ``$XDG_CONFIG_HOME/matplotlib`` or ``~/.config/matplotlib``, and ``~/.cache/matplotlib``).
Where that folder cannot be written (``HOME`` unset or read-only, a cluster's read-only home, a
container's user with no home), it makes a temporary one for the run and said so in two log
warnings of ~300 characters each, on every command that draws; where no temporary folder could
be made either, its import raised ``OSError``, which the command line showed as an internal
error. Here the first is one ``warning:`` line naming the folder and ``MPLCONFIGDIR``, the
second one error line (:class:`~eegprep.base.errors.ConfigError`) saying the same.
"""

from __future__ import annotations

import logging
import warnings
from types import ModuleType

from eegprep.base.errors import ConfigError

_NO_FOLDER = ("mkdir -p failed for path %s: %s", "%s is not a writable directory")
"""Matplotlib's log messages (templates) for a config or cache folder it cannot write."""
_TEMPORARY = "Matplotlib created a temporary cache directory at"
"""The start of its message for the temporary folder it made instead."""
_NO_TEMPORARY = "Matplotlib requires access to a writable cache directory"
"""The start of its ``OSError`` when no temporary folder could be made either."""


class _UnwritableFolder(logging.Filter):
    """Holds back matplotlib's warnings about a folder it cannot write, keeping the folder
    and the reason (the first one) for :func:`pyplot`'s own line."""

    def __init__(self) -> None:
        super().__init__()
        self.problem: str | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg in _NO_FOLDER:
            if self.problem is None:
                args = record.args if isinstance(record.args, tuple) else ()
                why = args[1] if len(args) > 1 else "not a writable folder"
                reason = f" ({getattr(why, 'strerror', None) or why})"
                self.problem = f"{args[0] if args else 'its folder'}{reason}"
            return False
        if str(record.msg).startswith(_TEMPORARY):
            if self.problem is None:  # no home folder: matplotlib tried no folder of its own
                self.problem = "its config folder (no home folder found)"
            return False
        return True


def pyplot() -> ModuleType:
    """``matplotlib.pyplot`` on the Agg backend (no display needed); a folder matplotlib
    cannot write is one warning line, no usable folder at all one :class:`ConfigError`
    (module docstring)."""
    held = _UnwritableFolder()
    log = logging.getLogger("matplotlib")
    log.addFilter(held)
    # what matplotlib's own code calls deprecated (pyparsing 3.3 names the calls of matplotlib
    # before 3.10.7, from matplotlib's frames or its own: some 270 warnings a figure) is for
    # matplotlib's makers, not for a user
    warnings.filterwarnings(
        "ignore", category=DeprecationWarning, module=r"(matplotlib|pyparsing)(\.|$)"
    )
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except OSError as exc:
        if not str(exc).startswith(_NO_TEMPORARY):
            raise
        where = held.problem or "its folder (no home folder)"
        raise ConfigError(
            f"matplotlib cannot write {where} and no temporary folder can be made "
            f"({exc.__cause__ or exc}); set MPLCONFIGDIR to a folder you can write"
        ) from exc
    finally:
        log.removeFilter(held)
    if held.problem is not None:
        warnings.warn(
            f"matplotlib cannot write {held.problem}: its font cache is made anew in a "
            "temporary folder on each run (slower); set MPLCONFIGDIR to a folder you can "
            "write to keep it",
            RuntimeWarning,
            stacklevel=2,
        )
    return plt
