"""Switches read from the environment: one parser, so that every reader takes the same words
and refuses the same mistakes in one line naming the variable.

A switch that read only ``0`` as off (``EEGPREP_MALLOC_TUNING``) took ``false``, ``off``, ``no``
or `` 0`` for on, in silence: the user's setting ignored while it looked applied.
"""

from __future__ import annotations

import os

from eegprep.base.errors import ConfigError

_ON = frozenset({"1", "true", "yes", "on"})
_OFF = frozenset({"0", "false", "no", "off"})


def env_flag(name: str, *, default: bool, what: str) -> bool:
    """Whether the switch ``name`` is on: ``1``, ``true``, ``yes``, ``on`` or ``0``, ``false``,
    ``no``, ``off`` (any case, spaces around ignored); ``default`` when it is unset, empty or
    spaces alone. ``what`` says what the switch turns on, for the error line.

    Raises
    ------
    ConfigError
        Any other value, in one line naming the variable and the words it takes.
    """
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    word = text.lower()
    if word in _ON or word in _OFF:
        return word in _ON
    raise ConfigError(
        f"{name}={text[:40]!r} is neither on nor off: set it to 1 (on: {what}) or 0 (off), or "
        f"unset it for {'on' if default else 'off'}"
    )


__all__ = ["env_flag"]
