"""A FIF file's annotations counted from its tags before MNE reads them.

MNE reads a FIF's annotations whole when it opens the file (their onsets, ends and the text of
every description, joined in one tag), builds an ``Annotations`` object of them, and eegprep an
event each: 2 million annotations took 198 s and 2.6 GB. Their count is the length of one tag,
the onsets' (``FIFF_MNE_BASELINE_MIN``, float32 or float64) in the annotations block, so it is
read from the tags' 16-byte heads alone, stepping over their data, before MNE opens the file.

A FIF file is a chain of tags: kind, type, size and next (big-endian int32 each), then ``size``
bytes of data; ``next`` is 0 for the tag that follows, a byte position, or -1 at the end. A
block opens with a ``FIFF_BLOCK_START`` tag whose data is the block's kind.

Concurrency contract: read-only; nothing is cached.
"""

from __future__ import annotations

import os
import struct

from eegprep.base.limits import check_time
from eegprep.base.regular_files import open_regular
from eegprep.readers.event_count import check_event_count

_TAG = struct.Struct(">iiii")  # kind, type, size, next
_BLOCK_START, _BLOCK_END = 104, 105  # FIFF_BLOCK_START, FIFF_BLOCK_END
_ANNOTATIONS = 3810  # FIFFB_MNE_ANNOTATIONS
_ONSETS = 3568  # FIFF_MNE_BASELINE_MIN: one onset per annotation
_ITEM_BYTES = {4: 4, 5: 8}  # FIFFT_FLOAT, FIFFT_DOUBLE; another type counts 4 bytes an entry
_TIME_CHECK_TAGS = 4096  # tags walked between two looks at the task's clock


def fif_annotation_count(path: str) -> int:
    """Annotations the FIF file ``path`` holds: the entries of the onsets tag of each
    annotations block, from the tags' heads. Where the chain of tags breaks (a damaged or cut
    file) the count so far is returned, and MNE names what is wrong when it opens the file."""
    size = os.path.getsize(path)
    n_events, pos, n_tags = 0, 0, 0
    inside = False
    with open_regular(path, buffering=-1) as fh:
        while 0 <= pos <= size - _TAG.size:
            n_tags += 1
            if n_tags % _TIME_CHECK_TAGS == 0:
                check_time(path)
            fh.seek(pos)
            kind, kind_of_data, n_bytes, after = _TAG.unpack(fh.read(_TAG.size))
            if n_bytes < 0:
                break
            if kind in (_BLOCK_START, _BLOCK_END) and n_bytes >= 4:
                (block,) = struct.unpack(">i", fh.read(4))
                if block == _ANNOTATIONS:
                    inside = kind == _BLOCK_START
            elif inside and kind == _ONSETS:
                n_events += n_bytes // _ITEM_BYTES.get(kind_of_data, 4)
            if after == 0:
                pos += _TAG.size + n_bytes
            elif after > pos:
                pos = after
            else:  # -1: the last tag (or a pointer back: no chain)
                break
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
