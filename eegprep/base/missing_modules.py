"""A module a command needs that this environment lacks: one line naming what to install.

A dependency pyproject.toml declares can still be missing where a command runs: installed with
``pip install --no-deps``, uninstalled to put another build in its place (torch), or an
optional extra's module. Said as what to install, not as a bug; a module of eegprep or labram
themselves is not this (a bug, or a damaged installation). Standard library only: it runs where
the command's own imports failed (the console scripts' first import, click's included).
"""

from __future__ import annotations

import re
import sys

from eegprep.base.shown_text import shown_path

IMPORT_TO_DISTRIBUTION = {
    "sklearn": "scikit-learn",
    "google_crc32c": "google-crc32c",
    "tomli_w": "tomli-w",
    "mne_bids": "mne-bids",
}
"""Import names that are not their distribution's name with ``_`` as ``-``."""

OWN = ("eegprep", "labram", "cli")
"""Top-level modules of this installation (``cli``: a checkout's root ``cli.py``)."""


def _normal(name: str) -> str:
    """``name`` in PEP 503's normal form (``Google_CRC32C`` -> ``google-crc32c``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement(distribution: str) -> str:
    """What labram's metadata requires of ``distribution`` (``torch>=2.6,<3``), without an
    extra's marker; the bare name where it names none (or labram's metadata is missing)."""
    import importlib.metadata

    try:
        requires = importlib.metadata.requires("labram") or []
    except importlib.metadata.PackageNotFoundError:
        requires = []
    for req in requires:
        name = re.match(r"[A-Za-z0-9._-]+", req)
        if name and _normal(name[0]) == _normal(distribution):
            return req.partition(";")[0].strip()
    return distribution


def missing_module_line(exc: ModuleNotFoundError, command: str) -> str | None:
    """The line for ``exc``, met by ``command`` (``labram pretrain``): the module, the Python
    that lacks it, what to install; ``None`` for one of this installation's own modules or an
    exception naming no module (a bug)."""
    top = (exc.name or "").partition(".")[0]
    if not top or top in OWN:
        return None
    distribution = IMPORT_TO_DISTRIBUTION.get(top, top.replace("_", "-"))
    return (
        f"{command} needs the module '{top}', which this Python ({shown_path(sys.executable)}) "
        f"cannot import: install it (pip install '{_requirement(distribution)}') and run the "
        "same command again"
    )
