"""Reading a user's TOML file (a manifest, the corpus folders, a training config) with one
line of error for every way it can fail: missing, a folder, a pipe or device, too large,
unreadable, not UTF-8 (nor UTF-16 with its byte-order mark) (:mod:`eegprep.base.user_files`),
not TOML, or holding a number that is not zero yet a float reads as 0 (``1e-400``: tomllib
takes it as ``0.0``, a value nobody wrote; :func:`eegprep.base.strict_json.underflows`).
A file as Windows tools save it (a byte-order mark, ``\\r\\n`` line ends, a Ctrl-Z ending it)
reads as the plain UTF-8 file."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from eegprep.base.errors import ConfigError, UsageError
from eegprep.base.strict_json import UNDERFLOW, underflows
from eegprep.base.user_files import read_user_text


class TomlUnderflowError(ValueError):
    """A TOML document holds a float that underflows to 0 (:func:`loads_toml`); ``key`` is its
    path in the document (``reader.options.scale``, ``labels[2]``), ``text`` its spelling."""

    def __init__(self, key: str, text: str) -> None:
        shown = text if len(text) <= 30 else text[:27] + "..."
        super().__init__(f"`{key}` is {shown}, a number that {UNDERFLOW}")
        self.key, self.text = key, text


class _Underflow:
    """A float of the document that underflows, as the parse marks it (then refused)."""

    def __init__(self, text: str) -> None:
        self.text = text


def _parse_float(text: str) -> Any:
    value = float(text)
    return _Underflow(text) if underflows(text, value) else value


def loads_toml(text: str) -> dict[str, Any]:
    """:func:`tomllib.loads`, refusing a float that is not zero yet reads as 0.

    Raises
    ------
    tomllib.TOMLDecodeError
        Not TOML.
    TomlUnderflowError
        The first such float, naming its key path.
    """
    doc = tomllib.loads(text, parse_float=_parse_float)
    found = _first_underflow(doc, "")
    if found is not None:
        raise TomlUnderflowError(*found)
    return doc


def _first_underflow(value: Any, where: str) -> tuple[str, str] | None:
    if isinstance(value, _Underflow):
        return where, value.text
    if isinstance(value, dict):
        items: Any = ((f"{where}.{k}" if where else str(k), v) for k, v in value.items())
    elif isinstance(value, list):
        items = ((f"{where}[{i}]", v) for i, v in enumerate(value))
    else:
        return None
    for at, v in items:
        found = _first_underflow(v, at)
        if found is not None:
            return found
    return None


def load_toml(path: str | Path, what: str, error: type[UsageError] = ConfigError) -> dict[str, Any]:
    """The TOML document at ``path``, or ``error`` with one line naming the file and the
    problem. ``what`` names the file's role in that line (``"config file"``)."""
    from eegprep.base.path_limits import shown_path

    p = Path(path)
    # A byte-order mark (UTF-8 or UTF-16, as Windows editors save), \r\n line ends and a Ctrl-Z
    # ending it (a DOS tool's end of text) are no part of the document (:func:`user_text`).
    text = read_user_text(p, what, error)
    named = shown_path(str(p))  # (a newline in the path escaped: a space named another file)
    try:
        return loads_toml(text)
    except TomlUnderflowError as exc:
        raise error(f"{named}: {exc}: write 0, or a number a float holds") from None
    except (tomllib.TOMLDecodeError, RecursionError) as exc:  # (nested deeper than it recurses)
        bare = "\r" in text  # (classic Mac OS line ends; every \r\n is \n by now)
        hint = (
            f": its lines end in \\r alone, which TOML does not allow: save the {what} with "
            "\\n line ends"
        )
        raise error(f"{named}: not valid TOML: {exc}{hint if bare else ''}") from None
