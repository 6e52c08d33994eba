"""What a TUH label file's rows may name: its class names and its montage's channel pairs.

A row whose label TUH does not define (``se``: a file cut inside ``seiz``; ``sez``: a typo)
or whose channel pair names an electrode the recording does not have (``FP1-ZZ``, a TUAR row
of another montage) is stored as written, but never unsaid: the report gets one line per file
and kind, with the count and the first rows' lines (:func:`strange_rows`).
"""

from __future__ import annotations

import os

from eegprep.base.path_limits import shown_path
from eegprep.base.wording import counted
from eegprep.pipeline.channels import normalize_label
from eegprep.readers.base import Header

TUH_CLASSES = frozenset(
    # TUSZ's seizure types, and background
    "bckg seiz fnsz gnsz spsz cpsz absz tnsz cnsz tcsz atsz mysz nesz "
    # TUAR's artifacts (joined by "_" in combinations: eyem_musc), TUEV's and TUSL's classes
    "eyem chew shiv musc elec elpp elst artf spsw gped pled slow "
    # NEDC's other annotation names (eybl, an eye blink; hphs and trip: the symbols line of
    # its .lbl files lists them beside the classes above)
    "null intr calb eybl hphs trip".split()
)
"""The class names of the NEDC annotation files (lower case), as the TUH corpora use them."""


def known_tuh_label(label: str) -> bool:
    """Whether ``label`` (lower case) is a TUH class or a combination of them
    (``eyem_musc``)."""
    return bool(label) and all(part in TUH_CLASSES for part in label.split("_"))


def recording_sites(header: Header) -> frozenset[str] | None:
    """The sites the recording's channels record (``EEG FP1-REF`` -> ``FP1``), upper case;
    None where the header lists no channels (nothing to check against)."""
    if not header.signals:
        return None
    return frozenset(normalize_label(s.label) for s in header.signals)


def pair_in(channel: str, sites: frozenset[str] | None) -> bool:
    """Whether each electrode of the montage channel ``channel`` (``FP1-F7``) is one of
    ``sites``; True where there are no sites to check against."""
    if sites is None:
        return True
    return all(part in sites for part in normalize_label(channel).split("-"))


_SAID = {
    "labels": "with a label TUH does not define (stored as written: a typo, or a file cut "
    "inside a label?)",
    "channels": "naming a channel the recording does not have (stored as written: a label "
    "file of another recording or montage?)",
}


def strange_rows(path: str, strange: dict[str, list[str]]) -> list[str]:
    """The report's lines on ``strange`` rows (``"labels"`` / ``"channels"`` -> each row's
    value and line, already shown), one line per kind with the count and the first three."""
    out = []
    for kind, rows in strange.items():
        if rows:
            more = f" and {len(rows) - 3} more" if len(rows) > 3 else ""
            out.append(
                f"{shown_path(os.path.basename(path))}: {counted(len(rows), 'row')} {_SAID[kind]}: "
                f"{', '.join(rows[:3])}{more}"
            )
    return out
