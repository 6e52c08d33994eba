"""Reading a user's TOML file (a manifest, the corpus folders, a training config) with one
line of error for every way it can fail: missing, a folder, a pipe or device, too large,
unreadable (:mod:`eegprep.base.user_files`), not UTF-8, not TOML. A UTF-8 byte-order mark at
the start is skipped."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from eegprep.base.errors import ConfigError, UsageError
from eegprep.base.user_files import read_user_file


def load_toml(path: str | Path, what: str, error: type[UsageError] = ConfigError) -> dict[str, Any]:
    """The TOML document at ``path``, or ``error`` with one line naming the file and the
    problem. ``what`` names the file's role in that line (``"config file"``)."""
    p = Path(path)
    raw = read_user_file(p, what, error)
    try:
        # A byte-order mark, which Windows editors write at the start of UTF-8 files, is no part
        # of the document; tomllib would call it an 'Invalid statement (at line 1, column 1)'.
        return tomllib.loads(raw.decode("utf-8").removeprefix("\ufeff"))
    except UnicodeDecodeError as exc:
        bad = exc.object[exc.start : exc.start + 1].hex()
        raise error(
            f"{p}: not UTF-8 text (byte 0x{bad} at byte offset {exc.start}): save the {what} "
            "as UTF-8"
        ) from None
    except (tomllib.TOMLDecodeError, RecursionError) as exc:  # (nested deeper than it recurses)
        raise error(f"{p}: not valid TOML: {exc}") from None
