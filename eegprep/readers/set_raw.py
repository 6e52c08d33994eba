"""An EEGLAB ``.set`` opened through MNE once, its ``boundary`` events kept as the file gives them.

MNE's Raw keeps a dataset's events cut to its samples: a ``boundary`` before the first sample
is dropped or cut to start there, one reaching past the end is cut, a NaN duration becomes 0.
eegprep needs them as the file gives them (:func:`~eegprep.readers.mne_lead.eeglab_lead`,
:func:`~eegprep.readers.mne_pauses.uncut_boundaries`), and had them by parsing the file a second
time (``mne.read_annotations``): for a legal set of 900,000 events, ~17 of ~60 CPU s of its
header and a second 1.3 GB peak. :func:`read_raw_eeglab` opens the file as
``mne.io.read_raw_eeglab`` does, as :class:`RawEEGLABKept`, which keeps the ``boundary`` events
of the annotations MNE builds from ``EEG.event`` as MNE sets them, before it cuts them: one
parse gives both.

Imports MNE: import this module only where MNE is wanted (the mne reader's opening of a file).

Concurrency contract: each Raw keeps its own; nothing is shared.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from mne.io.eeglab.eeglab import RawEEGLAB

from eegprep.readers.mne_lead import BOUNDARY
from eegprep.readers.mne_pauses import KEPT


class RawEEGLABKept(RawEEGLAB):
    """MNE's ``RawEEGLAB``, keeping ``(onset s, duration s)`` of each ``boundary`` event of
    ``EEG.event`` as MNE read it, uncut (attribute :data:`~eegprep.readers.mne_pauses.KEPT`;
    None where MNE set no annotations while opening the file)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._eegprep_opening = True
        try:
            super().__init__(*args, **kwargs)
        finally:
            self._eegprep_opening = False

    def set_annotations(self, annotations: Any, *args: Any, **kwargs: Any) -> Any:
        if annotations is not None and getattr(self, "_eegprep_opening", False):
            # MNE's own, from EEG.event, before it cuts them to the samples
            is_boundary = np.asarray(annotations.description, dtype=object) == BOUNDARY
            kept = zip(
                np.asarray(annotations.onset)[is_boundary],
                np.asarray(annotations.duration)[is_boundary],
                strict=True,
            )
            setattr(self, KEPT, [(float(t), float(d)) for t, d in kept])
        return super().set_annotations(annotations, *args, **kwargs)


def read_raw_eeglab(path: str, **options: Any) -> RawEEGLABKept:
    """``mne.io.read_raw_eeglab(path, **options)``, as :class:`RawEEGLABKept`."""
    return RawEEGLABKept(path, **options)
