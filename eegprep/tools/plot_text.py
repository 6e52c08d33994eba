"""The one rule for text drawn in a figure (a title, a legend entry, a tick label) that comes
from data eegprep or labram did not make: a corpus or run folder name, a column of a run's
``log.csv``.

Matplotlib reads text between two ``$`` as mathtext: ``loss $x^2$`` is drawn as a formula, and
``$\\foo$`` (an unknown command) fails the whole figure at ``savefig`` with a ``ValueError``, so
``eegprep stats --plots`` / ``--html`` or ``labram report --html`` stopped on a name holding
it. :func:`plot_text` gives text that is drawn as it is written.
"""

from __future__ import annotations

from eegprep.base.files import shown_name

MAX_CHARS = 80
"""The most characters drawn of one name (a figure's panel is a few inches wide)."""


def plot_text(text: object) -> str:
    """``text`` as literal figure text: one line, each control or invisible character as its
    escape (:func:`eegprep.base.files.shown_name`: a newline as ``\\n``, a bidi override as
    ``\\u202e``), over :data:`MAX_CHARS` characters cut there and ending in ``...``, and each
    ``$`` escaped (``\\$``, which matplotlib draws as ``$``), so that no mathtext is parsed; a
    leading ``_`` after a space (a legend leaves out every entry whose label starts with
    ``_``: a line would be drawn with no name)."""
    shown = shown_name(str(text))
    if len(shown) > MAX_CHARS:
        shown = shown[: MAX_CHARS - 3] + "..."
    return (" " if shown.startswith("_") else "") + shown.replace("$", r"\$")


__all__ = ["MAX_CHARS", "plot_text"]
