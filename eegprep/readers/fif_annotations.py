"""A FIF file's annotations counted from its tags before MNE reads them.

MNE reads a FIF's annotations whole when it opens the file (their onsets, ends and the text of
every description, joined in one tag), builds an ``Annotations`` object of them, and eegprep an
event each: 2 million annotations took 198 s and 2.6 GB. Their count is the length of one tag,
the onsets' (``FIFF_MNE_BASELINE_MIN``, float32 or float64) in the annotations block, so it is
read from the tags' 16-byte heads alone, stepping over their data, before MNE opens the file.

The tags are those MNE passes following the file's chain of tags
(:func:`eegprep.readers.fif_tags.chain`, which also refuses a chain that loops); a block opens
with a ``FIFF_BLOCK_START`` tag whose data is the block's kind.

Concurrency contract: read-only; nothing is cached.
"""

from __future__ import annotations

import struct

from eegprep.base.regular_files import open_regular
from eegprep.readers.event_count import check_event_count
from eegprep.readers.fif_tags import chain, header
from eegprep.readers.read_once import once

_BLOCK_START, _BLOCK_END = 104, 105  # FIFF_BLOCK_START, FIFF_BLOCK_END
_ANNOTATIONS = 3810  # FIFFB_MNE_ANNOTATIONS
_ONSETS = 3568  # FIFF_MNE_BASELINE_MIN: one onset per annotation
_ITEM_BYTES = {4: 4, 5: 8}  # FIFFT_FLOAT, FIFFT_DOUBLE; another type counts 4 bytes an entry


@once(named=False)  # (MNE's held link to a part is the part: counted once per read)
def fif_annotation_count(path: str) -> int:
    """Annotations the FIF file ``path`` holds: the entries of the onsets tag of each
    annotations block, from the tags' heads. Where the chain of tags ends early (a cut file)
    the count so far is returned, and MNE names what is wrong when it opens the file.

    Raises
    ------
    SourceError
        The chain of tags loops, or is longer than any file's
        (:func:`~eegprep.readers.fif_tags.chain`).
    """
    n_events = 0
    inside = False
    with open_regular(path, buffering=-1) as fh:
        for kind, pos in chain(fh, path):
            if kind not in (_BLOCK_START, _BLOCK_END, _ONSETS):
                continue
            tag = header(fh, pos)
            if tag is None:  # (chain read it a moment ago)
                break
            _kind, kind_of_data, n_bytes, _next = tag
            if kind == _ONSETS:
                if inside:
                    n_events += max(n_bytes, 0) // _ITEM_BYTES.get(kind_of_data, 4)
                continue
            raw = fh.read(4) if n_bytes >= 4 else b""  # (header left fh at the tag's data)
            if len(raw) == 4 and struct.unpack(">i", raw)[0] == _ANNOTATIONS:
                inside = kind == _BLOCK_START
    return n_events


def check_fif_annotations(path: str) -> None:
    """Refuse a FIF file holding more than :data:`~eegprep.readers.event_count.MAX_EVENTS`
    annotations (:func:`fif_annotation_count`), before MNE builds them."""
    check_event_count(
        path,
        fif_annotation_count(path),
        "its annotations block",
        "split the recording into shorter files, or thin its annotations",
    )


__all__ = ["check_fif_annotations", "fif_annotation_count"]
