"""The user's configuration: where each corpus lives on this machine.

Looked up in order:

1. ``--src DIR`` on the command line;
2. the environment variable ``EEGPREP_{NAME}_DIR``, the name upper-cased and nothing else
   changed (``EEGPREP_TUH_DIR=/data/tuh_eeg``; ``my-lab``: ``EEGPREP_MY-LAB_DIR``), so that
   no two corpora share one (:func:`env_var`);
3. the config file (``$EEGPREP_CONFIG``, else ``$XDG_CONFIG_HOME/eegprep/config.toml``, else
   ``~/.config/eegprep/config.toml``; a relative ``XDG_CONFIG_HOME`` is ignored, as the XDG
   base directory specification says, and a relative ``HOME``, or none, is one line naming it:
   :mod:`eegprep.base.home`)::

       [corpora]
       tuh = "/data/tuh_eeg"
       tuab = "/data/tuh_eeg_abnormal/v3.0.1"

``eegprep config set tuh /data/tuh_eeg`` writes that file.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eegprep.base.errors import ConfigError, UsageError
from eegprep.base.file_urls import local_path, url_problem
from eegprep.base.files import (
    check_outside_stores,
    remove_stale_temporaries,
    shown_name,
    write_atomically,
    write_problem,
)
from eegprep.base.home import expand_home, home_folder
from eegprep.base.path_limits import check_path, path_problem, shown_path
from eegprep.base.toml_files import load_toml
from eegprep.base.write_errors import failed_write, landed
from eegprep.corpus.manifest import CORPUS_NAME, available


def config_path() -> Path:
    """The config file's path (module docstring); a :class:`ConfigError` naming the variable
    when none can be found: ``EEGPREP_CONFIG`` set to whitespace alone, no usable home
    folder (:func:`~eegprep.base.home.home_folder`)."""
    env = _variable("EEGPREP_CONFIG", "the config file's path")
    fix = "set EEGPREP_CONFIG to the config file"
    if env and env.endswith(("/", os.sep)):  # (a Path drops the slash: `config set` then
        raise ConfigError(  # wrote a file by the folder's name)
            f"EEGPREP_CONFIG is {shown_path(env)}, a folder's name (it ends in '/'): it names the "
            f"config file itself; set it to a file ({shown_path(env.rstrip('/' + os.sep) or '/')}"
            "/config.toml)"
        )
    if env:
        return Path(expand_home(env, f"the home folder of EEGPREP_CONFIG ({env!r})", fix))
    # The XDG base directory specification: a relative XDG_CONFIG_HOME is invalid and ignored
    # (otherwise the config file would move with the folder eegprep runs in).
    xdg = os.environ.get("XDG_CONFIG_HOME")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "eegprep" / "config.toml"
    home = home_folder("the config file ~/.config/eegprep/config.toml", fix)
    return home / ".config" / "eegprep" / "config.toml"


def _variable(name: str, what: str) -> str | None:
    """The value of the environment variable ``name`` (``what`` it names), None when it is
    unset or empty; a :class:`ConfigError` when it is whitespace alone (``EEGPREP_CONFIG=' '``
    named a file ``' '`` in the folder eegprep runs in, and its lines showed no path)."""
    value = os.environ.get(name)
    if value and not value.strip():
        raise ConfigError(
            f"{name} is set to {value!r}, whitespace alone, not {what}: unset it, or set it "
            "to what it should name"
        )
    return value or None


def env_var(corpus: str) -> str:
    """The variable naming ``corpus``'s folder: ``EEGPREP_{NAME}_DIR``, the name upper-cased.

    One corpus per variable: a corpus name is lower case
    (:data:`~eegprep.corpus.manifest.CORPUS_NAME`), so upper-casing keeps every two names
    apart, and a ``-`` stays a ``-`` (``my-lab``: ``EEGPREP_MY-LAB_DIR``, which ``env`` sets; a
    shell's ``export`` takes no ``-``). Writing it ``_`` gave ``my-lab`` the variable of
    ``my_lab``, and one corpus silently the other's folder (:func:`_other_corpus_variable`).
    """
    return f"EEGPREP_{corpus.upper()}_DIR"


def _other_corpus_variable(corpus: str) -> str | None:
    """The variable of another corpus that is set and that an older eegprep read for
    ``corpus`` (``EEGPREP_MY_LAB_DIR``, ``my_lab``'s, for ``my-lab``); None when none is."""
    if "-" not in corpus:
        return None
    other = env_var(corpus.replace("-", "_"))
    return other if os.environ.get(other) else None


def _misspelt_variable(corpus: str) -> str | None:
    """Why a set variable that differs from ``corpus``'s only in case (``EEGPREP_tuh_DIR``,
    ``eegprep_tuh_dir``) is not read: a variable's name is exact, and it was ignored unsaid;
    None when none is set."""
    own = env_var(corpus)
    for name in sorted(os.environ):
        if name != own and name.upper() == own and os.environ[name]:
            return (
                f"{name} is set, but a variable's name is exact: the variable of {corpus!r} "
                f"is {own}"
            )
    return None


def _not_ours(corpus: str, variable: str) -> str:
    """Why ``variable`` (:func:`_other_corpus_variable`) does not name ``corpus``'s folder."""
    owner = corpus.replace("-", "_")
    return (
        f"{variable} is set, but it is the variable of corpus {owner!r}, not of {corpus!r} "
        f"('-' and '_' name two corpora; the variable of {corpus!r} is {env_var(corpus)}, "
        "which `env` sets)"
    )


def _document() -> dict[str, Any]:
    """The whole config file (empty when there is none; a link to nothing is an error, not
    an empty file: the user meant a file to be there; so is a path no file system takes, which
    read as no config file, unsaid, until `config set` could not write it)."""
    path = config_path()
    problem = path_problem(path)
    if problem is not None:
        raise ConfigError(
            f"the config file that {_config_setting()} gives, {shown_path(str(path))}, can be "
            f"no file: {problem} (or set EEGPREP_CONFIG to another file)"
        )
    try:
        os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return {}
    except OSError:  # (a folder above it that may not be searched: not "no config file",
        pass  # which ignored the user's file unsaid; the read below names the problem)
    try:
        return load_toml(path, "config file")
    except ConfigError as exc:  # (a folder, unreadable, not UTF-8, not TOML, too large, ...)
        raise ConfigError(
            f"{exc} (the config file that {_config_setting()} gives: correct it, or set "
            "EEGPREP_CONFIG to another file)"
        ) from None


def _shown_config() -> str:
    """The config file's path as a message names it: in full (a relative ``EEGPREP_CONFIG``
    from the folder eegprep runs in) and exactly, a newline or other control character escaped
    (shown as a space, it named another file)."""
    return shown_path(os.path.abspath(config_path()))


def _shown_cwd() -> str:
    try:
        return shown_path(os.getcwd())
    except OSError:  # (the folder eegprep runs in was removed)
        return "which is gone"


def _config_setting() -> str:
    """The variable :func:`config_path` took the config file's place from."""
    if os.environ.get("EEGPREP_CONFIG"):
        return "EEGPREP_CONFIG"
    xdg = os.environ.get("XDG_CONFIG_HOME")
    return "XDG_CONFIG_HOME" if xdg and os.path.isabs(xdg) else "HOME"


def _corpora_table(data: dict[str, Any]) -> dict[str, Any]:
    corpora = data.get("corpora", {})
    if not isinstance(corpora, dict):
        raise ConfigError(f'{_shown_config()}: [corpora] must be a table of name = "folder"')
    return corpora


def read_config() -> dict[str, str]:
    """Each configured corpus's folder as the file gives it (a relative folder is relative to
    the file's own folder: :func:`corpus_dir`); an entry that is not a folder in quotes is a
    :class:`ConfigError` naming it."""
    out = {}
    for name, folder in _entries().items():
        if isinstance(folder, ConfigError):
            raise folder
        out[name] = folder
    return out


def configured_names() -> list[str]:
    """The names the config file's ``[corpora]`` table holds, good entries and bad."""
    return list(_entries())


def _entries() -> dict[str, str | ConfigError]:
    """Each ``[corpora]`` entry's folder text, or the error saying why it is none (a number, a
    list, a table, an empty string, a key that is no corpus name: ``TUH``, whose variable
    would be ``tuh``'s): one bad entry spoils only its own corpus."""
    out: dict[str, str | ConfigError] = {}
    for name, folder in _corpora_table(_document()).items():
        if not CORPUS_NAME.fullmatch(name):
            near = name.lower()
            fix = f"write {near!r}" if CORPUS_NAME.fullmatch(near) else "correct the key"
            out[name] = ConfigError(
                f"{_shown_config()}: corpora.{shown_name(name)} is not a corpus name (lower-case "
                f"letters, digits, '_' and '-', as a manifest's name key has it): {fix}"
            )
        elif isinstance(folder, str) and folder:
            out[name] = folder
        else:
            out[name] = ConfigError(
                f"{_shown_config()}: corpora.{name} must be a folder in quotes ({name} = "
                f'"/data/{name}"), not {folder!r}'
            )
    return out


@dataclass(frozen=True)
class CorpusFolder:
    """A corpus's folder and the ``setting`` that named it, as a line names it: ``--src``,
    the variable (``EEGPREP_TUH_DIR``) or the entry and its file (``corpora.tuh in
    /home/me/.config/eegprep/config.toml``). The ingest says which one it used, and a line
    about a wrong folder blames that setting, not a ``--src`` the user never gave."""

    path: Path
    setting: str


def corpus_dir(
    corpus: str, src: str | os.PathLike[str] | None = None, *, check: bool = False
) -> Path:
    """The folder of ``corpus``: ``src`` if given, else the environment, else the config file
    (:func:`corpus_folder`, whose ``path`` it is)."""
    return corpus_folder(corpus, src, check=check).path


def corpus_folder(
    corpus: str, src: str | os.PathLike[str] | None = None, *, check: bool = False
) -> CorpusFolder:
    """The folder of ``corpus`` and its setting: ``src`` if given, else the environment, else
    the config file (where a relative folder is relative to the file's folder, not to where
    eegprep runs).

    With ``check``, a folder that the environment or the config file names but that is missing
    or not a folder is a :class:`ConfigError` naming that setting (the variable, or the entry
    and its file), so that the user knows what to fix.
    """
    if src is not None:
        return CorpusFolder(_usable(os.fspath(src), "--src"), "--src")
    variable = env_var(corpus)
    if CORPUS_NAME.fullmatch(corpus) and _variable(variable, f"the folder of corpus {corpus!r}"):
        # The variable wins over the file, which is then not read: a config file that cannot
        # be read (or a HOME that places none) stopped the ingest the variable had set up.
        folder = _checked(_usable(os.environ[variable], variable), variable, check)
        return CorpusFolder(folder, variable)
    return _corpus_dir(corpus, _entries(), check=check)


def corpus_dirs(corpora: Iterable[str]) -> dict[str, Path | ConfigError]:
    """:func:`corpus_dir` of each of ``corpora`` (without ``src`` or ``check``), the config
    file read once: ``eegprep config show`` of a file of n entries reads it once, not n times.
    A setting that can name no folder (:func:`_usable`) gives its error in place of the folder,
    so that one bad entry does not hide the others."""
    configured = _entries()
    out: dict[str, Path | ConfigError] = {}
    for name in corpora:
        try:
            out[name] = _corpus_dir(name, configured, check=False).path
        except ConfigError as exc:
            out[name] = exc
    return out


def _corpus_dir(
    corpus: str, configured: dict[str, str | ConfigError], *, check: bool
) -> CorpusFolder:
    """The folder of ``corpus`` from the environment, else from ``configured`` (the config
    file's entries, :func:`_entries`); a :class:`ConfigError` when neither names one."""
    entry = configured.get(corpus)
    if isinstance(entry, ConfigError) and not CORPUS_NAME.fullmatch(corpus):
        raise entry  # a key no corpus has (`TUH`): no variable of its own either
    env = _variable(env_var(corpus), f"the folder of corpus {corpus!r}")
    if env:
        return CorpusFolder(_checked(_usable(env, env_var(corpus)), env_var(corpus), check),
                            env_var(corpus))  # fmt: skip
    other = _other_corpus_variable(corpus)
    folder_text = entry
    if isinstance(folder_text, ConfigError):
        raise folder_text
    misspelt = _misspelt_variable(corpus)
    if folder_text:
        setting = f"corpora.{corpus} in {_shown_config()}"
        folder = config_path().parent / _usable(folder_text, setting)
        for said in (_not_ours(corpus, other) if other else None, misspelt):
            if said:
                warnings.warn(f"{said}: the folder comes from {setting}", UserWarning,
                              stacklevel=2)  # fmt: skip
        return CorpusFolder(_checked(folder, setting, check), setting)
    what = "".join(f"{said}: " for said in (_not_ours(corpus, other) if other else None,
                                            misspelt) if said)  # fmt: skip
    unwritable = _no_place_for(config_path())
    if unwritable is not None:  # (`config set` would fail: not a way out to offer)
        raise ConfigError(
            f"no folder for corpus {corpus!r}: {what}pass --src DIR or set "
            f"{env_var(corpus)}=DIR; the config file that {_config_setting()} gives, "
            f"{_shown_config()}, can hold none: {unwritable} (set EEGPREP_CONFIG to a file "
            "you can write, for `eegprep config set`)"
        )
    raise ConfigError(
        f"no folder for corpus {corpus!r}: {what}pass --src DIR, set {env_var(corpus)}=DIR, "
        f"or run `eegprep config set {corpus} DIR{_custom(corpus)}` (writes {_shown_config()})"
        + _near_miss(corpus)
    )


def _no_place_for(path: Path) -> str | None:
    """Why no config file can be written at ``path``, which holds none: it is the null device
    (``EEGPREP_CONFIG=/dev/null``, which `config set` never writes over), or a folder above it
    is a file (``XDG_CONFIG_HOME`` or ``HOME`` naming one); None when it can be made."""
    if os.path.lexists(path):
        return f"{_shown_config()} is the null device" if _is_null(path) else None
    above = Path(os.path.abspath(path)).parent
    while not os.path.lexists(above) and above.parent != above:
        above = above.parent
    if os.path.isdir(above):
        return None
    return f"{shown_path(str(above))} is a file, not a folder"


def _is_null(path: Path) -> bool:
    try:
        return os.path.samefile(path, os.devnull)
    except OSError:
        return False


def _custom(corpus: str) -> str:
    """`` --custom`` for a corpus no shipped manifest has (`config set` asks for it)."""
    return "" if corpus in available() else " --custom"


def _near_miss(corpus: str) -> str:
    """A hint naming what in the config file looks like a misplaced entry for ``corpus``: a
    misspelt entry (``tuhh = ...`` for ``tuh``), the entry outside the ``[corpora]`` table
    (above it, or in a misspelt table such as ``[corpus]``); empty when nothing does."""
    import difflib

    def folded(name: str) -> str:
        return name.lower().replace("-", "_")

    alike = [k for k in _entries() if k != corpus and folded(k) == folded(corpus)]
    if alike:  # `TUH`, or `my_lab` for `my-lab`: another corpus's entry, not this one's
        return (f"; {_shown_config()} names {alike[0]!r}, not {corpus!r} (a corpus name is exact: "
                "lower case, and '-' and '_' name two corpora)")  # fmt: skip
    close = difflib.get_close_matches(corpus, list(_entries()), n=1, cutoff=0.6)
    if close:
        return f"; {_shown_config()} names {close[0]!r}: a misspelling of {corpus!r}?"
    document = _document()
    if corpus in document:
        return f"; {_shown_config()} names {corpus!r} outside the [corpora] table: move it there"
    for table, entries in document.items():
        if table != "corpora" and isinstance(entries, dict) and corpus in entries:
            return (f"; {_shown_config()} names {corpus!r} in a table [{table}]: the folders go in "
                    "[corpora]")  # fmt: skip
    return ""


def _usable(text: str, setting: str) -> Path:
    """The folder ``text`` names, a ``file:`` URL decoded and ``~`` expanded; a
    :class:`ConfigError` naming ``setting`` (``--src``, a variable, a config entry) when it can
    name no folder (a bad file URL, a NUL, a name or path past the system's limits)."""
    given = setting if setting == "--src" else f"{setting} names"
    problem = url_problem(  # (it was "/here/s3:/b/x: corpus folder not found")
        text, what="a local folder", taker=setting, fix="copy the corpus to this machine and "
        "name its folder" + ("" if setting == "--src" else ", or pass --src DIR"),
    )  # fmt: skip
    if problem is not None:
        raise ConfigError(problem)
    try:
        local = local_path(text)
    except UsageError as exc:
        raise _unusable(exc, given, setting) from None
    # (no home folder for a `~`: a line of its own, naming HOME)
    path = Path(expand_home(local, f"the home folder of {text!r} ({setting})", _FULL))
    try:
        check_path(path, given)
    except UsageError as exc:
        raise _unusable(exc, given, setting) from None
    return path


def _unusable(exc: UsageError, given: str, setting: str) -> ConfigError:
    """``exc`` (a bad file URL, a path no file system takes) as the line naming ``setting``."""
    fix = "" if setting == "--src" else ": correct that setting, or pass --src DIR"
    return ConfigError(f"{exc}{fix}" if str(exc).startswith(given) else f"{given} {exc}{fix}")


_FULL = "write the folder out in full"


def folder_problem(folder: Path) -> str | None:
    """What `config show` notes beside a corpus folder that is not one: ``no such folder``,
    ``not a folder``, or that it cannot be looked up (a folder above it that may not be
    searched, which stopped the command whole); None for a folder."""
    try:
        if folder.is_dir():
            return None
        return "not a folder" if folder.exists() else "no such folder"
    except OSError as exc:
        return f"cannot be looked up ({exc.strerror or exc})"


def _checked(folder: Path, setting: str, check: bool) -> Path:
    if not check:
        return folder
    try:
        if folder.is_dir():
            return folder
        problem = "is not a folder" if folder.exists() else "does not exist"
    except OSError as exc:  # (a folder above it that may not be searched: EACCES)
        raise ConfigError(
            f"{shown_path(str(folder))}: the corpus folder that {setting} names cannot be looked "
            f"up ({exc.strerror or exc}): fix the permissions of the folders above it, correct "
            "that setting, or pass --src DIR"
        ) from None
    text = str(folder)
    hint = " (environment variables such as $HOME are not expanded there)" if "$" in text else ""
    if text != text.strip():  # (a line shows no space at its start or end)
        hint += f" (it starts or ends with whitespace: {text!r})"
    if not os.path.isabs(text):  # (a variable's: `rel/tuh` said nothing of where it looked)
        hint += f" (a relative path, taken from the folder eegprep runs in, {_shown_cwd()})"
    raise ConfigError(
        f"{shown_path(text)}: the corpus folder that {setting} names {problem}{hint}: correct "
        "that setting, or pass --src DIR"
    )


def _check_outside_stores(target: Path) -> None:
    """A :class:`ConfigError` when the config file ``target`` would be written inside a store
    (``EEGPREP_CONFIG``, ``XDG_CONFIG_HOME`` or ``HOME`` naming a place in one): the write
    replaced whatever file was there, a store's lock file (``_eegprep/lock.flock``, empty, so
    read as a config file without entries) included, which broke a running ingest's lock."""
    from eegprep.base.errors import OutputError

    try:
        check_outside_stores(target, "the config file")
    except OutputError as exc:
        raise ConfigError(
            f"{exc}; nothing was written: set EEGPREP_CONFIG to a file outside every store"
        ) from None


def _check_a_file(path: Path, target: Path) -> None:
    """A :class:`ConfigError` when the config file ``target`` is there and no regular file:
    the null device (``EEGPREP_CONFIG=/dev/null``), which reads as no config file, is the one
    such place :func:`_document` reads; the write would have renamed a file over it (run as
    root: ``/dev/null`` replaced by a file for the whole system)."""
    import stat

    try:
        st = os.stat(target)
    except OSError:
        return  # (none there yet; or the write says what is wrong there)
    if not stat.S_ISREG(st.st_mode):
        raise ConfigError(
            f"{shown_path(path)}: a device, not a file `config set` can write (it reads as no "
            "config file); nothing was written: set EEGPREP_CONFIG to a file"
        )


def set_corpus_dir(corpus: str, folder: str | os.PathLike[str]) -> Path:
    """Record ``corpus = folder`` (made absolute) in the config file, keeping the rest of the
    file's settings, and return the file's path. The file is replaced whole, never left half
    written, its bytes on the disk before they take its name; the temporary files a killed
    ``config set`` left beside it are removed once it is written."""
    import tomli_w

    path = config_path()
    # Through a link (a config file kept with the user's other dotfiles): its target is the
    # file; the link stays.
    target = Path(os.path.realpath(path))
    data = _document()  # (first: a place no file system takes is one line naming its variable)
    _check_outside_stores(target)
    _check_a_file(path, target)
    _corpora_table(data)
    given = os.fspath(folder)
    # (FOLDER exists as written: click checked it; a `~ghost` folder is then a folder)
    resolved = Path(expand_home(given, f"the home folder of {given!r}", _FULL, strict=False))
    resolved = resolved.resolve()
    data.setdefault("corpora", {})[corpus] = str(resolved)
    try:
        encoded = tomli_w.dumps(data).encode("utf-8")
    except UnicodeEncodeError:
        raise ConfigError(
            f"{os.fsencode(resolved)!r}: a folder whose name is not UTF-8 cannot be written to "
            f"the config file; set {env_var(corpus)} instead, or rename the folder"
        ) from None
    try:  # on the disk before it takes the name: a power cut leaves the old file, not an empty one
        write_atomically(target, encoded, durable=True)
    except OSError as exc:
        raise ConfigError(
            f"{shown_path(path)}: cannot write the config file ({write_problem(target, exc)}); "
            "what it held before is unchanged: set EEGPREP_CONFIG to a file you can write, or fix "
            "this one"
            if not landed(exc)
            else f"{failed_write(path, write_problem(target, exc), exc)}; set EEGPREP_CONFIG to "
            "a file on a sound disk, or check this one"
        ) from None
    remove_stale_temporaries(target)  # what a `config set` killed before its rename left
    return path
