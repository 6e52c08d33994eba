"""The user's configuration: where each corpus lives on this machine.

Looked up in order:

1. ``--src DIR`` on the command line;
2. the environment variable ``EEGPREP_{NAME}_DIR`` (``EEGPREP_TUH_DIR=/data/tuh_eeg``);
3. the config file (``$EEGPREP_CONFIG``, else ``~/.config/eegprep/config.toml``)::

       [corpora]
       tuh = "/data/tuh_eeg"
       tuab = "/data/tuh_eeg_abnormal/v3.0.1"

``eegprep config set tuh /data/tuh_eeg`` writes that file.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from eegprep.base.errors import ConfigError


def config_path() -> Path:
    env = os.environ.get("EEGPREP_CONFIG")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "eegprep" / "config.toml"


def env_var(corpus: str) -> str:
    return f"EEGPREP_{corpus.upper().replace('-', '_')}_DIR"


def read_config() -> dict[str, str]:
    path = config_path()
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, RecursionError) as exc:  # (nested deeper than it recurses)
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    corpora = data.get("corpora", {})
    if not isinstance(corpora, dict):
        raise ConfigError(f'{path}: [corpora] must be a table of name = "folder"')
    return {str(k): str(v) for k, v in corpora.items()}


def corpus_dir(corpus: str, src: str | os.PathLike[str] | None = None) -> Path:
    """The folder of ``corpus``: ``src`` if given, else the environment, else the config file."""
    if src is not None:
        return Path(src).expanduser()
    env = os.environ.get(env_var(corpus))
    if env:
        return Path(env).expanduser()
    configured = read_config().get(corpus)
    if configured:
        return Path(configured).expanduser()
    raise ConfigError(
        f"no folder for corpus {corpus!r}: pass --src DIR, set {env_var(corpus)}=DIR, "
        f"or run `eegprep config set {corpus} DIR` (writes {config_path()})"
    )


def set_corpus_dir(corpus: str, folder: str | os.PathLike[str]) -> Path:
    """Record ``corpus = folder`` in the config file; return the file's path."""
    path = config_path()
    corpora = read_config()
    corpora[corpus] = str(Path(folder).expanduser().resolve())
    lines = ["[corpora]"] + [f'{k} = "{v}"' for k, v in sorted(corpora.items())]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
