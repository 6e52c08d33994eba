"""The shell-completion variable (``_EEGPREP_COMPLETE``, ``_LABRAM_COMPLETE``) checked before
click acts on it.

click reads ``_{PROG}_COMPLETE`` before it parses the command line: ``bash_source`` (and
``zsh_source``, ``fish_source``) prints the completion script (docs/cli.md, "Shell
completion"); ``bash_complete`` and its kind, which that script sets with ``COMP_WORDS`` and
``COMP_CWORD``, print completions. Any other value left in a shell (``_EEGPREP_COMPLETE=1``, a
misspelt shell or instruction) made click exit with status 1 in silence, the command not run;
an ``*_complete`` without ``COMP_WORDS``, or with a ``COMP_CWORD`` that is no whole number, was
a traceback. Such a value is one line naming the variable, exit status 2.
"""

from __future__ import annotations

import os

_SOURCES = "bash_source, zsh_source or fish_source"


def completion_variable(prog_name: str, complete_var: str | None = None) -> str:
    """The variable click reads for ``prog_name`` (``eegprep``: ``_EEGPREP_COMPLETE``), as
    click names it."""
    if complete_var is not None:
        return complete_var
    name = prog_name.replace("-", "_").replace(".", "_")
    return f"_{name}_COMPLETE".upper()


def completion_problem(variable: str) -> str | None:
    """Why the value of ``variable`` is no request click can answer (one line, naming the
    variable and what to do); None when it is unset, empty, or a request click answers."""
    from click.shell_completion import get_completion_class

    value = os.environ.get(variable)
    if not value:
        return None
    shown = f"{variable}={value[:40]!r}"
    shell, _, action = value.partition("_")
    if get_completion_class(shell) is None or action not in ("source", "complete"):
        return (
            f"{shown} is no shell-completion request ({_SOURCES} prints the completion "
            "script, which asks for completions itself): unset it to run the command"
        )
    if action == "source":
        return None
    missing = [n for n in ("COMP_WORDS", "COMP_CWORD") if n not in os.environ]
    if missing:
        verb = "is" if len(missing) == 1 else "are"
        return (
            f"{shown} asks for completions, but {' and '.join(missing)} {verb} not set (the "
            f"completion script sets both): unset {variable} to run the command, or print "
            f"the script with {shell}_source"
        )
    cword = os.environ["COMP_CWORD"]
    number = cword.strip()  # (ASCII alone: click's int() failed on ``²``, which isdigit passes)
    if shell != "fish" and not (number.isascii() and number.isdigit()):  # (fish's: a word)
        return (
            f"{shown} asks for completions, but COMP_CWORD={cword[:40]!r} is no word number "
            f"(the completion script sets it): unset {variable} to run the command"
        )
    return None


__all__ = ["completion_problem", "completion_variable"]
