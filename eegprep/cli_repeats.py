"""An option that takes one value, given twice on one command line with two values.

click keeps the last value without a word: ``labram tokenizer --out runs/a ... --out runs/b``
trained into ``runs/b``, and ``labram evaluate --checkpoint A --checkpoint B`` scored ``B``,
the first value dropped silently. The last still wins (a shell alias's option overridden on
the command line is a common idiom), with one warning naming both values, as a repeated
``--set`` has (:func:`labram.train.config.repeated_sets`). Options that name a file, folder or
store are checked: a dropped one means another file read or written. (A number or a choice
given twice is recorded as run, in a run's ``config.json``.)
"""

from __future__ import annotations

from collections.abc import Sequence

import click

from eegprep.cli_paths import LocalText, StoreLocation

PATHS = (click.Path, LocalText, StoreLocation)
"""The option types that name a file, a folder or a store (``LocalPath`` is a ``click.Path``)."""


def _options(command: click.Command) -> tuple[dict[str, click.Option], set[str]]:
    """(each name of an option of ``command`` that takes one path (:data:`PATHS`) -> the
    option; every name of an option that takes a value, repeatable ones included)."""
    single: dict[str, click.Option] = {}
    valued: set[str] = set()
    for p in command.params:
        if not isinstance(p, click.Option) or p.is_flag or p.count:
            continue
        valued.update(p.opts)
        if not p.multiple and p.nargs == 1 and isinstance(p.type, PATHS):
            single.update(dict.fromkeys(p.opts, p))
    return single, valued


def repeated_options(command: click.Command, args: Sequence[str]) -> list[str]:
    """One line for each option of ``command`` that takes one path and that ``args`` (the
    command's arguments, as given) give more than once with another value: ``--out given twice
    (runs/a, then runs/b): the last wins; give it once``. Values are read as click reads them
    (``--out X`` and ``--out=X``; nothing after ``--``)."""
    single, valued = _options(command)
    given: dict[str, list[tuple[str, str]]] = {}
    i = 0
    while i < len(args):
        name, eq, value = args[i].partition("=") if args[i].startswith("--") else (args[i], "", "")
        if args[i] == "--":
            break
        if name in valued and not eq:
            if i + 1 >= len(args):
                break
            i, value = i + 1, args[i + 1]
        if name in single:
            given.setdefault(single[name].name or name, []).append((name, value))
        i += 1
    lines = []
    for items in given.values():
        values = list(dict.fromkeys(v for _, v in items))
        if len(values) > 1:
            shown = ", then ".join(repr(v)[1:-1][:80] for v in values)
            times = "twice" if len(items) == 2 else f"{len(items)} times"
            lines.append(f"{items[-1][0]} given {times} ({shown}): the last wins; give it once")
    return lines


__all__ = ["repeated_options"]
