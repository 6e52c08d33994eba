"""Side files (marker files, label files, event tables) over the bound of events, or with a
line no such file holds, are refused in one line naming the file, in memory that does not grow
with the file: each is read a chunk or a line at a time, never whole, until its count is known.

Measured before (2 cores): a BrainVision marker file of 1,000,000 markers (30 MB) was read whole
and decoded to count them (the ingest's peak 173 MiB; docs/benchmarks.md, section 12).
"""

from __future__ import annotations

import io
import re
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from eegprep.base.errors import SourceError
from eegprep.readers import event_count

JUNK_BYTES = 8 * 2**20  # a side file's bulk: what a whole read would hold (twice, as text)
PEAK_BYTES = 4 * 2**20  # a chunk or a line at a time stays under this


def _peak(read: Callable[[], Any]) -> tuple[str, int]:
    """``read``'s one-line refusal and the most bytes Python held while it ran."""
    tracemalloc.start()
    try:
        with pytest.raises(SourceError) as err:
            read()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    said = str(err.value)
    assert "\n" not in said, said
    return said, peak


# -- BrainVision marker files -------------------------------------------------------------------

_VMRK_HEAD = (
    "Brain Vision Data Exchange Marker File, Version 1.0\n[Common Infos]\nCodepage=UTF-8\n"
    "DataFile=r.eeg\n"
)


def test_a_marker_file_over_the_bound_is_refused_without_reading_it_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # was: the whole file read and decoded (here 16 MB held) before its Mk lines were counted
    from eegprep.readers import vmrk

    monkeypatch.setattr(event_count, "MAX_EVENTS", 5)
    path = tmp_path / "r.vmrk"
    marks = "".join(f"Mk{k}=Stimulus,S  1,{k},1,0\n" for k in range(1, 7))
    path.write_text(f"{_VMRK_HEAD}; {'x' * JUNK_BYTES}\n[Marker Infos]\n{marks}", "utf-8")
    said, peak = _peak(lambda: vmrk.read_vmrk("r.vhdr", str(path), n_channels=4))
    assert said == (
        "r.vhdr: its marker file r.vmrk gives 6 events, over the 5 a recording may store: "
        "split the recording into shorter files, or thin its markers"
    )
    assert peak < PEAK_BYTES, f"{peak / 2**20:.1f} MiB held to refuse it"


_MK = re.compile(r"^Mk(\d+)=(.*)", re.MULTILINE)  # as MNE (and read_vmrk) find marker lines


@pytest.mark.parametrize("chunk", [1, 2, 5, 64, 1 << 20])
def test_markers_counted_a_chunk_at_a_time_are_those_of_the_text(
    monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    from eegprep.readers import vmrk

    monkeypatch.setattr(vmrk, "_CHUNK_BYTES", chunk)
    long_number = "Mk" + "1" * 90 + "=Stimulus,S  1,5,1,0"
    for text in (
        "Mk1=a,b,1,1\n[Marker Infos]\nMk1=a,b,1,1\r\nMk2=a,b,2,1",  # one before the section
        "[marker infos]Mk1=a,b,1,1\nMk\nMk2\n Mk3=a\nxMk4=a\n\nMk5=" + "y" * 300,
        f"[Marker Infos]\n{long_number}\n{'z' * 200}Mk6=a\nMk7=a,b,7,1\n",
        "no section\nMk1=a,b,1,1\n",
    ):
        hit = re.search(r"\[Marker Infos\]", text, re.IGNORECASE)
        want = 0 if hit is None else len(_MK.findall(text[hit.end() :]))
        assert vmrk._counted_markers(io.BytesIO(text.encode())) == want, text
