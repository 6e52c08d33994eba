"""The user's home folder, for the places a setting finds through it (the config file under
``~/.config``, a ``~`` in a folder the user configured), or one line of error naming ``HOME``.

``$HOME`` when it is an absolute path; when it is unset or empty, the password database's
home of this user (as ``ssh`` and the shells do); a relative ``HOME`` (``HOME=me``) is refused,
as the XDG specification ignores a relative ``XDG_CONFIG_HOME``: the config file would move with
the folder eegprep runs in, and ``config set`` write one there. Python alone took a relative or
empty ``HOME`` as it is (an empty one gave ``/.config/eegprep/config.toml``) and raised
``RuntimeError`` where no home could be found (a container's user without a password entry).
"""

from __future__ import annotations

import os
from pathlib import Path

from eegprep.base.errors import ConfigError


def home_folder(needed_for: str, fix: str) -> Path:
    """The home folder (module docstring); :class:`ConfigError` when there is none, its line
    saying what it was ``needed_for`` (``"the config file ~/.config/eegprep/config.toml"``)
    and how to do without (``fix``: ``"set EEGPREP_CONFIG to the config file"``)."""
    home = os.environ.get("HOME")
    if home:
        if os.path.isabs(home):
            return Path(home)
        raise ConfigError(
            f"HOME is {home!r}, not an absolute path: {needed_for} would be looked for in the "
            f"folder eegprep runs in; set HOME to your home folder, or {fix}"
        )
    found = _password_home()
    if found is not None:
        return found
    state = "empty" if home is not None else "not set"
    raise ConfigError(
        f"HOME is {state} and this user (id {_uid()}) has no home folder in the password "
        f"database: {needed_for} cannot be found; set HOME to your home folder, or {fix}"
    )


def expand_home(text: str, needed_for: str, fix: str, *, strict: bool = True) -> str:
    """``text`` with a leading ``~`` or ``~/`` replaced by :func:`home_folder` (``~user``: that
    user's home, as :func:`os.path.expanduser` finds it; anything else unchanged).

    A ``~user`` of a user this machine does not have is a :class:`ConfigError` (unless not
    ``strict``: a folder the command line gave, that exists as written): left as it was, it
    was a relative path, ``~ghost/tuh`` looked for under the folder eegprep runs in (or the
    config file's), and the line refusing it spoke of a relative path, not of the user."""
    if text == "~" or text.startswith("~/"):
        return str(home_folder(needed_for, fix)) + text[1:]
    if not text.startswith("~"):
        return text
    expanded = os.path.expanduser(text)
    if expanded == text and strict:
        user = text[1:].split("/", 1)[0]
        raise ConfigError(
            f"{text}: this machine has no user {user!r}, so {needed_for} cannot be found; {fix}"
        )
    return expanded


def _password_home() -> Path | None:
    """This user's home folder in the password database (None where there is none, or no
    such database: Windows, where Python's own lookup is used)."""
    try:
        import pwd
    except ImportError:
        try:
            return Path.home()
        except RuntimeError:
            return None
    try:
        folder = pwd.getpwuid(os.getuid()).pw_dir
    except KeyError:
        return None
    return Path(folder) if folder and os.path.isabs(folder) else None


def _uid() -> int | str:
    return os.getuid() if hasattr(os, "getuid") else "?"
