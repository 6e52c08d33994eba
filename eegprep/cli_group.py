"""What both command-line groups share: every error as one line, and the verbosity flags.

:class:`OneLineErrors` is the click group class of ``eegprep`` (the repository's ``cli.py``)
and ``labram`` (:mod:`labram.commands`): an error is one line on stderr starting ``error:``,
with credentials hidden; exit status 2 for what eegprep and labram raise on purpose and for
click's usage errors, 1 for an unexpected exception (a bug); ``-v`` adds the traceback.
docs/cli.md.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import sys
import traceback
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, NoReturn

import click

from eegprep.base.errors import EegprepError
from eegprep.base.files import UNSHOWN
from eegprep.base.ranks import prints_error
from eegprep.base.shown_text import shown_path
from eegprep.base.wording import of_total
from eegprep.cli_paths import LocalPath as LocalPath  # (the command modules import them here)
from eegprep.cli_paths import LocalText as LocalText
from eegprep.cli_paths import StoreLocation as StoreLocation
from eegprep.rerun_hints import RERUN_HINTS as RERUN_HINTS  # (kept importable from here)
from eegprep.rerun_hints import again_hint, rerun_hint

EXIT_USAGE = 2
EXIT_INTERNAL = 1


@contextlib.contextmanager
def click_output_named() -> Iterator[None]:
    """While click parses a command line it writes ``--help`` and ``--version`` to the standard
    output itself, past :func:`say`, and so does a command that writes its results as CSV rows
    (``labram predict --csv``, :class:`labram.stages.predictions.CsvRows`): an ``OSError`` of
    such a write (a full device) is raised again naming the standard output's file, as
    :func:`say` names it (a reader gone, a ``BrokenPipeError``, is left as it is). The CSV
    rows gave ``cannot write it (No space left on device)``, naming no file."""
    try:
        yield
    except BrokenPipeError:
        raise
    except OSError as exc:
        if exc.filename is not None or exc.errno is None:
            raise
        raise OSError(exc.errno, exc.strerror, _output_name(False)) from exc


class CitingCommand(click.Command):
    """A command whose help, where it cites a page under ``docs/``, ends with where those pages are
    on this installation: a wheel carries them inside the package (``eegprep/docs/``), not in a
    ``docs/`` folder beside where the user runs; its ``--help`` written to a full device names
    the standard output (:func:`click_output_named`)."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        with click_output_named():
            return super().make_context(info_name, args, parent=parent, **extra)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        from eegprep.cli_repeats import repeated_options

        for line in repeated_options(self, args):  # (click keeps the last value unsaid)
            warnings.warn(line, UserWarning, stacklevel=2)
        return super().parse_args(ctx, args)

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_epilog(ctx, formatter)
        cited = [self.help or "", *(str(getattr(p, "help", None) or "") for p in self.params)]
        if any("docs/" in text for text in cited):
            from eegprep.base.resources import shipped_dir

            formatter.write_paragraph()
            formatter.write_text(f"The docs/ pages cited above are in {shipped_dir('docs')}.")


class OneLineErrors(click.Group):
    """A click group that turns every error into one line starting ``error:``, with every
    credential hidden (:func:`eegprep.base.redact.redact`).

    Our errors and click's usage errors exit with status 2; an unexpected exception (a bug)
    with status 1, its line saying so. ``-v`` adds the traceback (also redacted) before the
    line.
    """

    command_class = CitingCommand

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        argv = [info_name or "", *args]  # as given, before click consumes them
        try:
            with click_output_named():
                ctx = super().make_context(info_name, args, parent=parent, **extra)
            if parent is None:
                ctx.meta["argv"] = argv  # what a run folder records (command.txt)
            return ctx
        except click.exceptions.NoArgsIsHelpError:
            raise
        except click.ClickException as exc:  # the group's own options: `eegprep --bogus`
            click_error(exc)
        except OSError as exc:  # `eegprep --help` or `--version` written where it cannot be
            if parent is not None:
                raise  # (a subgroup's: the group above says it)
            output_failed(exc)

    def _main_shell_completion(
        self, ctx_args: Any, prog_name: str, complete_var: str | None = None
    ) -> None:
        """click's shell completion, a value of its variable that it cannot answer refused in
        one line first (:mod:`eegprep._completion`)."""
        from eegprep._completion import completion_problem, completion_variable

        problem = completion_problem(completion_variable(prog_name, complete_var))
        if problem is not None:
            say(f"error: {one_line(problem)}", err=True)
            sys.exit(EXIT_USAGE)
        super()._main_shell_completion(ctx_args, prog_name, complete_var)

    def invoke(self, ctx: click.Context) -> Any:
        with stop_on_signals():  # Ctrl-C, `kill`, a closed terminal: one line, work kept
            try:
                result = self._invoke(ctx)
            except SystemExit as exc:
                # any status but a signal's own: a command that went on past its inputs'
                # errors (exit 3), or a damage report (validate's 1), may have met a signal a
                # library swallowed, its items' lines then no items' errors
                if exc.code not in SIGNAL_STATUSES:
                    _exit_if_stopped(ctx)
                raise
            _exit_if_stopped(ctx)  # a library swallowed the KeyboardInterrupt: still stopped
            return result

    def _invoke(self, ctx: click.Context) -> Any:
        from eegprep.base.redact import redact

        try:
            return super().invoke(ctx)
        except click.exceptions.NoArgsIsHelpError:
            raise  # `eegprep config`: click prints the help
        except click.ClickException as exc:
            # an option's missing value (`ingest tuh --out`) is raised by click's parser with
            # no context: the subcommand being parsed is the one whose help to name
            sub = ctx.invoked_subcommand
            click_error(exc, f"{ctx.command_path} {sub}" if sub else ctx.command_path)
        except EegprepError as exc:
            _exit_if_stopped(ctx)
            line = rerun_hint(one_line(str(exc)), ctx.invoked_subcommand)
            if not prints_error(exc):  # another rank prints the same line (eegprep.base.ranks)
                leave_to_the_printing_rank(f"error: {line}", EXIT_USAGE)
            if ctx.meta.get("verbose"):
                say_lines(redact(traceback.format_exc()).rstrip().splitlines(), err=True)
            say(f"error: {line}", err=True)
            sys.exit(EXIT_USAGE)
        except (click.exceptions.Exit, click.Abort):
            raise
        except KeyboardInterrupt as exc:  # Ctrl-C: not click's "Aborted!" with a bug's status 1
            _stopped(ctx, exc.name if isinstance(exc, Terminated) else "SIGINT")
        except BrokenPipeError:  # `eegprep ingest ... | head -1`: the reader left, not a bug
            output_failed(BrokenPipeError())
        except OSError as exc:
            _exit_if_stopped(ctx)  # what a signal became on its way up (a library wrapped it)
            said = place_problem(exc, ctx.invoked_subcommand)
            if said is None:
                raise_bug(ctx, exc)
            if ctx.meta.get("verbose"):
                say_lines(redact(traceback.format_exc()).rstrip().splitlines(), err=True)
            say(f"error: {one_line(said)}", err=True)
            sys.exit(EXIT_USAGE)
        except ModuleNotFoundError as exc:  # the environment lacks a module: not a bug
            from eegprep.base.missing_modules import missing_module_line

            command = " ".join(filter(None, [ctx.command_path, ctx.invoked_subcommand]))
            if (missing := missing_module_line(exc, command)) is None:
                raise_bug(ctx, exc)
            if ctx.meta.get("verbose"):
                say_lines(redact(traceback.format_exc()).rstrip().splitlines(), err=True)
            say(f"error: {missing}", err=True)
            sys.exit(EXIT_USAGE)
        except Exception as exc:  # a bug: one line; -v: the traceback too, credentials hidden
            _exit_if_stopped(ctx)  # what a signal became on its way up (a library wrapped it)
            known = self.known_error(exc)
            if known is None:
                raise_bug(ctx, exc)
            _say_known(ctx, known)

    def known_error(self, exc: Exception) -> EegprepError | None:
        """What this group's commands know of ``exc``, a library's exception that is no bug
        (a subclass's: labram's, a torchrun rank that ended): said in one line, this process's
        own, then the command's hint of what its stop kept; ``None`` (here): a bug."""
        return None


def _say_known(ctx: click.Context, known: EegprepError) -> NoReturn:
    """Say ``known`` (:meth:`OneLineErrors.known_error`), then what the command kept and what
    to run (:data:`INTERRUPTED_HINTS`), and exit with status 2. A signal coming after it (the
    SIGTERM torchrun sends the other ranks once one has ended) adds no second line."""
    import signal

    from eegprep.base.redact import redact

    with contextlib.suppress(ValueError):  # (not the main thread: nothing to catch there)
        for name in ("SIGINT", "SIGTERM", "SIGHUP"):
            if hasattr(signal, name):
                signal.signal(getattr(signal, name), signal.SIG_IGN)
    if ctx.meta.get("verbose"):
        say_lines(redact(traceback.format_exc()).rstrip().splitlines(), err=True)
    hint = INTERRUPTED_HINTS.get(ctx.invoked_subcommand or "", "")
    say(f"error: {one_line(str(known))}{hint}", err=True)
    sys.exit(EXIT_USAGE)


def raise_bug(ctx: click.Context, exc: BaseException) -> NoReturn:
    """An unexpected exception (a bug): one line, exit status 1; ``-v``: the traceback too,
    credentials hidden."""
    from eegprep.base.redact import redact

    if ctx.meta.get("verbose"):
        say_lines(redact(traceback.format_exc()).rstrip().splitlines(), err=True)
    where = "" if ctx.meta.get("verbose") else "run it again with -v for the traceback, "
    say(
        f"error: internal error (a bug): {type(exc).__name__}: {one_line(str(exc))} "
        f"({where}and report it)",
        err=True,
    )
    sys.exit(EXIT_INTERNAL)


def place_problem(exc: OSError, command: str | None = None) -> str | None:
    """One line for ``exc`` when the place being written refused it (:data:`PLACE_ERRORS`):
    the file, what happened, what to do; or no temporary folder could be written anywhere
    (:mod:`eegprep.base.temp_folders`); ``None`` for any other ``OSError`` (a bug).
    Every whole-file write names its file (:func:`eegprep.base.files.named_error`).
    ``command``: the subcommand that met it; a training command's line says ``--resume`` (the
    same command again is refused: its folder holds a run)."""
    from eegprep.base.files import as_text
    from eegprep.base.temp_folders import no_temporary_folder
    from eegprep.base.write_errors import PLACE_ERRORS, landed, reason

    if (line := no_temporary_folder(exc)) is not None:
        return line
    todo = PLACE_ERRORS.get(exc.errno or 0)
    if todo is None:
        return None
    why = reason(exc) if exc.strerror else os.strerror(exc.errno or 0)
    where = f"{as_text(os.fspath(exc.filename))}: " if exc.filename is not None else ""
    # a permission or the device may refuse a read as well as a write: the others are writes
    used = (errno.EACCES, errno.EPERM, errno.EIO)
    what = "cannot use it" if exc.errno in used else "cannot write it"
    if landed(exc):  # the file is in place, new: only its folder's flush failed
        what = "written, but its folder could not be flushed to the disk"
    return f"{where}{what} ({why}); {todo} and {again_hint(command, in_place=landed(exc))}"


def exit_if_stopped() -> None:
    """Exit as :func:`_stopped` does when a signal came while the current command ran but
    never reached it: for a command that goes on past its inputs' errors (a file's line), where
    what the signal became on its way up (a library swallowed it mid-import, leaving a module
    half made) is taken for a file's error. Call it before the command's summary."""
    _exit_if_stopped(click.get_current_context())


def _exit_if_stopped(ctx: click.Context) -> None:
    """Exit as :func:`_stopped` does when a signal stopped the command, whatever the error it
    became on its way up (a KeyboardInterrupt raised inside a class's creation is a
    RuntimeError, a loader worker's end the DataLoader's) or when a library swallowed it."""
    if _STOPPING and _STOPPING[-1]:
        _stopped(ctx, _STOPPING[-1])


def _stopped(ctx: click.Context, name: str) -> NoReturn:
    """The one line of a command a signal stopped, saying what was kept and what to run, and
    its status: 128 + the signal's number, as a shell shows it."""
    from eegprep.base.ranks import says_signal_stops

    status = {"SIGINT": EXIT_INTERRUPTED, "SIGHUP": EXIT_HANGUP}.get(name, EXIT_TERMINATED)
    if not says_signal_stops():  # under torchrun: the first process of the machine says it
        sys.exit(status)
    hint = INTERRUPTED_HINTS.get(ctx.invoked_subcommand or "", "")
    said = "interrupted (Ctrl-C)" if name == "SIGINT" else f"stopped ({name})"
    say(f"error: {said}{hint}", err=True)
    sys.exit(status)


EXIT_INTERRUPTED = 130
"""The exit status of a command stopped by Ctrl-C (128 + SIGINT, as a shell reports it)."""

EXIT_TERMINATED = 143
"""The exit status of a command stopped by SIGTERM (128 + SIGTERM): ``kill``, ``timeout``, a
job scheduler or a container stopping."""


EXIT_HANGUP = 129
"""The exit status of a command stopped by SIGHUP (128 + SIGHUP): its terminal was closed."""

SIGNAL_STATUSES = (EXIT_INTERRUPTED, EXIT_TERMINATED, EXIT_HANGUP)
"""The statuses a command stopped by a signal ends with (:func:`_stopped`)."""


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised where the process is (:func:`stop_on_signals`): the command
    winds down as on Ctrl-C (an ingest commits what finished, a training run keeps its last
    checkpoint) instead of dying mid-way. ``name`` is the signal's, ``status`` 128 + its
    number."""

    def __init__(self, name: str = "SIGTERM", status: int = EXIT_TERMINATED) -> None:
        super().__init__(name)
        self.name = name
        self.status = status


_STOPPING: list[str] = []
"""The signal that began the wind-down in progress (empty when none): a second Ctrl-C, or a
SIGTERM after it, while the first one's ``finally`` blocks run is ignored rather than cutting
them short (a lock left, a temporary file not removed, a traceback)."""


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """While in this block, the first SIGINT raises :class:`KeyboardInterrupt` and the first
    SIGTERM or SIGHUP :class:`Terminated` in the main thread; the second, during the wind-down,
    is ignored (a third raises again: the user insists). The previous handlers are restored
    after. Processes forked inside reset the signals themselves (``eegprep.ingestion.workers``,
    ``labram.data.loader``). Nested blocks (a subgroup's inside its group's) leave the outer
    one in charge.

    A signal whose exception Python cannot pass on, because it came while a ``__del__`` or a
    weak reference's callback ran ("Exception ignored in ..."), is delivered again at once
    (:func:`_lost_stops`): the command winds down then, not at the end of its work with the
    next Ctrl-C taken for one during the wind-down and ignored."""
    import signal

    if _STOPPING:  # an outer block is in charge
        yield
        return

    seen = [0]

    def stop(signum: int, frame: Any) -> None:
        seen[0] += 1
        if seen[0] == 2:
            return  # winding down already: let it finish (a third signal insists)
        name = signal.Signals(signum).name
        _STOPPING[-1] = _STOPPING[-1] or name
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        raise Terminated(name, EXIT_HANGUP if signum == signal.SIGHUP else EXIT_TERMINATED)

    wanted = [signal.SIGINT, signal.SIGTERM]
    if hasattr(signal, "SIGHUP"):  # not on Windows
        wanted.append(signal.SIGHUP)
    previous: dict[signal.Signals, Any] = {}
    try:
        for sig in wanted:
            previous[sig] = signal.signal(sig, stop)
    except ValueError:  # not the main thread: leave the signals as they are
        yield
        return
    _STOPPING.append("")
    hook = sys.unraisablehook
    sys.unraisablehook = _lost_stops(seen, hook)
    try:
        yield
    finally:
        sys.unraisablehook = hook
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        _STOPPING.pop()


def _lost_stops(seen: list[int], hook: Any) -> Any:
    """An ``unraisablehook`` for :func:`stop_on_signals`: the first signal's exception, lost
    where Python calls this hook instead of raising it, is counted as not seen and the signal
    sent again to the main thread, by a thread of its own 10 ms later (sent from here, its
    handler would run inside this hook, and be lost again; a real signal, not
    ``_thread.interrupt_main``, so that a blocking call returns to take it), at most 100
    times; everything else goes to ``hook``."""
    import _thread
    import signal
    import threading
    import time

    again = [0]

    def send(signum: signal.Signals, main: int) -> None:
        time.sleep(0.01)
        if not _STOPPING or seen[0]:  # the block has ended, or the signal came meanwhile
            return
        if hasattr(signal, "pthread_kill"):
            signal.pthread_kill(main, signum)
        else:  # (Windows: the handler runs at the main thread's next instruction)
            _thread.interrupt_main(signum)

    def lost(unraisable: Any) -> None:
        exc = unraisable.exc_value
        if (
            isinstance(exc, KeyboardInterrupt)
            and _STOPPING
            and _STOPPING[-1]
            and seen[0] == 1
            and again[0] < 100
        ):
            again[0] += 1
            seen[0] = 0
            main = threading.main_thread().ident
            signum = signal.Signals[_STOPPING[-1]]
            threading.Thread(target=send, args=(signum, main), daemon=True).start()
            return
        hook(unraisable)

    return lost


INTERRUPTED_HINTS = {
    "ingest": ": the recordings committed so far are kept; run the same command again to finish",
    "tokenizer": ": run the same command with --resume to continue from its last checkpoint",
    "pretrain": ": run the same command with --resume to continue from its last checkpoint",
    "finetune": ": run the same command with --resume to continue from its last checkpoint",
    "embed": ": the chunks written so far are kept; run the same command again to finish",
    "evaluate": ": nothing was written; run the same command again",
    "predict": ": nothing was written; run the same command again",
    "export": ": no file was left half-written; run the same command again",
    "convert": ": no file was left half-written; run the same command again",
    "report": ": no file was left half-written; run the same command again",
}
"""What a Ctrl-C leaves, for the commands that keep their work (docs/cli.md)."""

EXIT_BROKEN_PIPE = 141
"""The exit status of a command whose output's reader went away (128 + SIGPIPE, as a shell
reports a process killed by it)."""


def output_failed(exc: OSError) -> NoReturn:
    """End a command whose standard output failed before its group could say so (click's own
    ``--help`` or ``--version``): a reader gone is a quiet exit with status 141; a write the
    place refused (a full device) one ``error:`` line naming it, status 2; anything else a bug.
    """
    if isinstance(exc, BrokenPipeError):
        _quiet_stdout()
        sys.exit(EXIT_BROKEN_PIPE)
    line = place_problem(exc)
    if line is None:
        raise exc
    say(f"error: {one_line(line)}", err=True)
    sys.exit(EXIT_USAGE)


def _quiet_stdout() -> None:
    """Point stdout at the null device, so that the interpreter's final flush of what is left
    for the closed pipe raises nothing more."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


_CONTROL = re.compile(f"[\\x00-\\x1f{UNSHOWN}]")
"""Characters a terminal does not show as themselves: C0 and C1 controls (escape sequences,
carriage returns, backspaces), and the invisible and direction-changing format characters
(zero-width spaces, bidirectional overrides) that make text read other than it is."""
_CONTROL_IN_LINES = re.compile(f"[\\x00-\\x08\\x0b-\\x1f{UNSHOWN}]")  # newline and tab kept


def _escape(match: re.Match[str]) -> str:
    return repr(match.group())[1:-1]


_LINE_BREAK = re.compile(r"[ \t]*(?:\r\n|[\n\r\v\f\x1c-\x1e\x85\u2028\u2029])\s*")
"""A line break with the spaces around it (a message's continuation lines and their indent)."""


def one_line(text: str) -> str:
    """``text`` on one line, credentials hidden: each line break, with the spaces and indent
    around it, becomes one space, the ends are stripped, and other control characters (a tab
    too) become escapes, so that a file name holding a newline or a terminal escape sequence
    cannot break or colour the output. Spaces inside a line are kept as they are: a path or a
    marker with two spaces in a row (``/data/my  eeg``, BrainVision's ``S  1``) is named
    exactly, not as another one with one space."""
    from eegprep.base.redact import redact

    flat = _LINE_BREAK.sub(" ", redact(text)).strip()
    return _CONTROL.sub(_escape, flat)


def shown(text: str) -> str:
    """``text`` as printed: lines and tabs kept, every other character of :data:`_CONTROL` as
    its Python escape (``\\x1b``, ``\\r``, ``\\u202e``), so that a file or channel name
    can neither colour, move, overwrite nor reorder what the terminal shows."""
    return _CONTROL_IN_LINES.sub(_escape, text)


def shown_line(text: str) -> str:
    """``text`` as one printed line: :func:`shown`, with a newline shown as ``\\n`` too (every
    other line break, ``\\r``, NEL and the Unicode separators, :func:`shown` escapes already),
    so that a name holding one cannot make what follows it read as a line of its own. A path's
    bytes that are not UTF-8 are shown as ``\\xNN`` (:func:`eegprep.base.files.as_text`)."""
    from eegprep.base.files import as_text

    return shown(as_text(text)).replace("\n", "\\n")


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&])")
"""ASCII punctuation that can start Markdown structure inside a line: emphasis, code spans,
links and images, raw HTML and entities, table cells, strike-through. (``#``, ``-``, ``+`` and
digits only do at the start of a line, where user text never stands.)"""


def markdown_line(text: object) -> str:
    """``text`` as literal Markdown inline text: one line (:func:`shown_line`: a newline is
    shown as ``\\n``, so user text cannot start a heading, list or table row of its own),
    with every character that could start Markdown or HTML structure backslash-escaped
    (CommonMark renders ``\\|`` as ``|``), so a task, class or file name shows as written."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", shown_line(str(text)))


def quiet() -> bool:
    """Whether the running command was given ``-q``: it prints errors and its results alone,
    no summary, note, warning or path of a file written (docs/cli.md)."""
    ctx = click.get_current_context(silent=True)
    return bool(ctx is not None and ctx.meta.get("quiet"))


def say(text: object = "", *, err: bool = False, info: bool = False) -> None:
    """Print ``text`` as ONE line (:func:`shown_line`: a newline in it is shown as ``\\n``):
    every command's output goes through here or :func:`say_lines`. ``info``: a summary, a
    note or the path of a file written, not an error nor the result the command exists to
    print; ``-q`` leaves it out."""
    if info and quiet():
        return
    try:
        click.echo(_encodable(shown_line(str(text)), err), err=err)
    except OSError as exc:
        if err:  # a standard error that cannot be written (a full device, a reader gone):
            if not isinstance(exc, BlockingIOError):  # (a full non-blocking pipe: this line)
                _quiet_stderr()  # nothing can be said; the exit status still tells
            return
        if isinstance(exc, BrokenPipeError):
            raise
        if exc.filename is not None or exc.errno is None:
            raise
        raise OSError(exc.errno, exc.strerror, _output_name(err)) from exc  # (a full disk)


LINES_SHOWN = 100
"""The most lines naming one item each (a file skipped, a recording left out) that a command over
many items prints without ``-v``; one more line counts the rest. (A refusal that names several
problems in its one line names :data:`eegprep.store.reader.NAMED`.)"""


def say_capped(tag: str, lines: Sequence[str], *, where: str = "") -> None:
    """``TAG: LINE`` on stderr for each of ``lines``, the first :data:`LINES_SHOWN` (all with
    ``-v``), then one ``TAG: N more not shown (WHERE; -v shows them all)`` line counting the
    rest; ``where``: where else they are all named (the ingest's report), or empty."""
    ctx = click.get_current_context(silent=True)
    everything = ctx is not None and ctx.meta.get("verbose")
    shown = lines if everything else lines[:LINES_SHOWN]
    for line in shown:
        say(f"{tag}: {one_line(line)}", err=True)
    if len(shown) < len(lines):  # 50,000 bad files: the summary stays on the screen
        also = f"{where}; " if where else ""
        say(f"{tag}: {len(lines) - len(shown)} more not shown ({also}-v shows them all)", err=True)


WARNINGS_SHOWN = 20
"""The most ``warning:`` lines a command's summary prints without ``-v`` (an ingest of 10,000
files that each warn keeps its summary on the screen); one more line counts the rest."""


def say_warnings(per_item: Mapping[str, Sequence[str]], *, where: str = "") -> None:
    """``warning: ITEM: TEXT`` on stderr for each warning of ``per_item`` (item, a file's
    path, -> its warnings), each (item, text) once, the first :data:`WARNINGS_SHOWN` (all with
    ``-v``), then ``warning: ... and N more (WHERE; -v shows them all)``; ``where``: where every
    one is written (the ingest's report). ``-q`` leaves them out, as the summary that counts
    them."""
    said = (f"{shown_path(item)}: {text}" for item, texts in per_item.items() for text in texts)
    lines = list(dict.fromkeys(said))  # (a file read twice warns twice: said once)
    ctx = click.get_current_context(silent=True)
    shown = lines if ctx is not None and ctx.meta.get("verbose") else lines[:WARNINGS_SHOWN]
    for line in shown:
        say(f"warning: {one_line(line)}", err=True, info=True)
    if len(shown) < len(lines):
        also = f"{where}; " if where else ""
        more = len(lines) - len(shown)
        say(f"warning: ... and {more} more ({also}-v shows them all)", err=True, info=True)


NOTE_SHOWN = 72
"""Characters of a kind's first line that its ``... and N more like`` line quotes."""


def say_notes(tag: str, lines: Sequence[str], *, info: bool = False, err: bool = True) -> None:
    """``TAG: LINE`` on stderr (``err`` False: stdout) for each of ``lines``, at most
    :data:`eegprep.cli_notes.SHOWN_PER_KIND` of one kind (all with ``-v``), then for each kind
    with more one ``TAG: ... and N more like 'FIRST' (-v shows them all)`` line; ``info``: as
    :func:`say`'s (``-q`` leaves them out)."""
    from eegprep.cli_notes import capped_by_kind

    ctx = click.get_current_context(silent=True)
    if ctx is not None and ctx.meta.get("verbose"):
        capped = capped_by_kind(lines, most=len(lines))
    else:
        capped = capped_by_kind(lines)
    for line in capped.shown:
        say(f"{tag}: {one_line(line)}", err=err, info=info)
    _say_more(tag, capped.more, info=info, err=err)


def _say_more(
    tag: str, more: Sequence[tuple[str, int]], *, info: bool = False, err: bool = True
) -> None:
    """One ``TAG: ... and N more like 'FIRST' (-v shows them all)`` line per kind held back."""
    for first, n in more:
        like = one_line(first)
        like = like if len(like) <= NOTE_SHOWN else f"{like[:NOTE_SHOWN].rstrip()}..."
        say(f"{tag}: ... and {n} more like '{like}' (-v shows them all)", err=err, info=info)


def say_skipped(lines: list[str], *, total: int, noun: str, then: str) -> None:
    """One ``skipped: LINE`` on stderr for each of ``lines`` (:func:`say_capped`), then one
    closing line: how many of the ``total`` ``noun`` (singular, ``"file"``) were skipped and
    ``then``, what to run. Nothing when ``lines`` is empty. The other items are done: the
    caller exits 3."""
    if not lines:
        return
    say_capped("skipped", lines)
    done = "the others done" if len(lines) < total else "none done"
    say(f"{of_total(len(lines), total, noun)} skipped, {done}: {then}", err=True)


def _encodable(text: str, err: bool) -> str:
    """``text`` with each character its stream's encoding cannot write as its escape
    (``\\xe9``, ``\\u65e5``), as Python writes them on the standard error: under
    ``PYTHONIOENCODING=latin-1`` or an ASCII locale a folder name holding Japanese was a
    ``UnicodeEncodeError``, an internal error."""
    stream = sys.stderr if err else sys.stdout
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return text.encode(encoding, "backslashreplace").decode(encoding)
    except LookupError:
        pass
    return text


def _quiet_stderr() -> None:
    """Point the standard error at the null device: what is left of a line that could not be
    written is dropped, and neither a later line nor the interpreter's final flush fails
    (Python would end with status 120, or print a traceback of the failure there)."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stderr.fileno())
        os.close(null)
    except (OSError, ValueError, AttributeError):
        pass


def _output_name(err: bool) -> str:
    """What the standard output (or error) is, to name it in a line: its file where the system
    says (``/proc/self/fd``), else the stream's name."""
    stream = "standard error" if err else "standard output"
    try:
        return f"{os.readlink(f'/proc/self/fd/{2 if err else 1}')} ({stream})"
    except OSError:
        return f"the {stream}"


def say_lines(lines: Iterable[object], *, err: bool = False, info: bool = False) -> None:
    """Print each of ``lines`` as one line (:func:`say`): a table, a JSON document split at
    its line breaks. A value inside a line that holds a newline is escaped, never a line."""
    for line in lines:
        say(line, err=err, info=info)


class _ShownFormatter(logging.Formatter):
    """Log lines as :func:`shown` gives them, each message on one line: a logged name can
    neither move the terminal nor add a log line."""

    def format(self, record: logging.LogRecord) -> str:
        """The message on one line (a logged name's newline escaped); a traceback attached to
        the record keeps its lines."""
        import copy

        one = copy.copy(record)
        one.msg, one.args = shown_line(record.getMessage()), None
        return shown(super().format(one))


def click_error(exc: click.ClickException, command_path: str | None = None) -> NoReturn:
    """click's own errors (bad option values, missing arguments, unknown commands) as one
    ``error:`` line naming the command's help (the error's own command, else
    ``command_path``), with click's exit status (2 for usage)."""
    ctx = getattr(exc, "ctx", None)
    path = ctx.command_path if ctx is not None else command_path
    hint = f" (see `{path} --help`)" if path else ""
    message, dash = one_line(exc.format_message()), _dash_hint(exc)
    line = f"error: {message.rstrip('.') if dash else message}{dash}{hint}"
    if not prints_error(exc):  # under torchrun: every process parsed the same command line
        leave_to_the_printing_rank(line, exc.exit_code)
    say(line, err=True)
    sys.exit(exc.exit_code)


def _dash_hint(exc: click.ClickException) -> str:
    """For an unknown option of a command that takes paths as arguments, where the option is
    the start of a path (``eegprep stats -s.zarr``): how to pass that path
    (:func:`eegprep.cli_paths.dash_path_hint`); else an empty string."""
    from eegprep.cli_paths import dash_path_hint

    ctx = getattr(exc, "ctx", None)
    if not isinstance(exc, click.NoSuchOption) or ctx is None:
        return ""
    if not any(isinstance(p, click.Argument) for p in ctx.command.params):
        return ""
    return dash_path_hint(exc.option_name, ctx.meta.get("argv", ()))


def leave_to_the_printing_rank(line: str, status: int) -> NoReturn:
    """Exit with ``status``, leaving ``line`` to the process of the run that prints it
    (:mod:`eegprep.base.ranks`): after waiting for torchrun to end this one once that process
    has exited, in silence; if nothing ends it in time, the line is said here after all."""
    from eegprep.base import ranks

    if not ranks.printing_rank_ended():
        say(line, err=True)
    sys.exit(status)


def verbosity_options(fn: Any) -> Any:
    """The ``-v``/``-q`` flags of both groups; the group passes them to :func:`set_verbosity`."""
    verbose = click.option("-v", "--verbose", count=True, help="More output; tracebacks on errors.")
    quiet = click.option(
        "-q",
        "--quiet",
        is_flag=True,
        help="Only errors and results: no summaries, notes or warnings.",
    )
    return verbose(quiet(fn))


def set_verbosity(ctx: click.Context, verbose: int, quiet: bool) -> None:
    ctx.meta["verbose"] = verbose > 0
    ctx.meta["quiet"] = quiet
    level = logging.WARNING - 10 * verbose if not quiet else logging.ERROR
    handler = logging.StreamHandler()
    handler.setFormatter(_ShownFormatter("%(levelname)s %(name)s: %(message)s"))
    if not verbose:  # 5 log lines of one kind (a store given twice, ...), then a count
        from eegprep.cli_notes import KindCounter

        logged, warned = KindCounter(), KindCounter()
        handler.addFilter(lambda record: logged.admit(record.getMessage()))
        ctx.meta["warned"] = warned

        def held_back() -> None:
            _say_more("WARNING", logged.more())
            _say_more("warning", warned.more())

        ctx.call_on_close(held_back)
    logging.basicConfig(level=level, handlers=[handler])
    warnings.showwarning = _quiet_warning if quiet else _warning_line


def _warning_line(
    message: Warning | str, category: type[Warning], filename: str, lineno: int,
    file: Any = None, line: str | None = None,
) -> None:  # fmt: skip
    """A Python warning as a command prints it: one ``warning:`` line, not Python's two lines
    with the source file, line number and code that raised it; at most
    :data:`eegprep.cli_notes.SHOWN_PER_KIND` of one kind without ``-v`` (the rest counted when
    the command ends)."""
    ctx = click.get_current_context(silent=True)
    warned = ctx.meta.get("warned") if ctx is not None else None
    if warned is not None and not warned.admit(str(message)):
        return
    say(f"warning: {one_line(str(message))}", err=True)


def _quiet_warning(*args: Any, **kwargs: Any) -> None:
    """``-q``: only errors, no warnings."""
