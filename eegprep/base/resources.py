"""Where the files shipped beside the code lie: the corpus manifests and the docs.

A wheel carries them as package data, ``eegprep/manifests/*.toml`` and ``eegprep/docs/*.md``
(pyproject.toml maps the repository's folders there), found with :mod:`importlib.resources`.
A source checkout (an editable install, the tests) has no such folders inside the package: the
repository's top-level ``manifests/`` and ``docs/`` are used, where the design card puts them.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

_REPO = Path(__file__).resolve().parents[2]


def shipped_dir(name: str) -> Path:
    """The folder of shipped files ``name`` (``"manifests"`` or ``"docs"``) on this installation.

    The installed package's copy wins; in a checkout it is the repository's folder. A wheel
    install whose folder is missing (a broken install) gets a path that does not exist, never a
    folder of the same name that happens to lie beside site-packages.
    """
    installed = resources.files("eegprep").joinpath(name)
    if installed.is_dir():
        return Path(str(installed))
    if (_REPO / "pyproject.toml").is_file():
        return _REPO / name
    return Path(str(installed))


def doc_path(ref: str) -> str:
    """A docs citation (``docs/corpora.md#tuab``) as the file on this installation, anchor kept.

    Anything not under ``docs/`` is returned unchanged.
    """
    if not ref.startswith("docs/"):
        return ref
    file, sep, anchor = ref.removeprefix("docs/").partition("#")
    return str(shipped_dir("docs") / file) + sep + anchor
