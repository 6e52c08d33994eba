"""The time between an EDF's start and its first sample: the first record's time-keeping onset.

EDF+ counts every TAL onset from the header's start date and time, and stamps each data record
with its onset (its time-keeping annotation). The first record's onset says when the first
sample was taken: ``+0.25`` a quarter of a second after the start (the header states whole
seconds; EDF+ gives the fraction so), ``+5`` five seconds after it, in an ``EDF+C`` as in an
``EDF+D``. The time before the first sample holds no sample, so it is the same kind of time as
that removed before a recording's first sample in other formats
(:mod:`eegprep.readers.mne_lead`), with the same meaning:

- no join and no gap: nothing lies before the first stretch;
- the recording's clock, by which its events and a sidecar's are timed, starts at the first
  sample (the EDF reader, pyedflib and MNE all give onsets from it);
- the recording's start (``Header.meta``'s ``start``, the ``mne`` reader's ``meas_date``) is
  the header's start moved by that onset: where the first sample was taken;
- one warning line says it when the onset is a second or more (or before the start): under a
  second it is only the start's fraction of a second, as EDF+ means it.

Used by :mod:`eegprep.readers.edf` and, for a file MNE opens, :mod:`eegprep.readers.mne_gaps`.
"""

from __future__ import annotations

from eegprep.base.regular_files import open_regular
from eegprep.readers.edf_records import RecordLayout, parse_tals


def first_record_onset(path: str, layout: RecordLayout) -> float:
    """The first data record's time-keeping onset, s from the header's start (0 where the file
    has no annotation signal, no whole first record, or no time-keeping TAL in it). Reads one
    record."""
    if not layout.annotation_spans or layout.n_records <= 0 or layout.record_bytes <= 0:
        return 0.0
    with open_regular(path, buffering=-1) as fh:
        fh.seek(layout.header_bytes)
        row = fh.read(layout.record_bytes)
    if len(row) < layout.record_bytes:
        return 0.0
    for off, n in layout.annotation_spans:
        a, b = off * layout.sample_bytes, (off + n) * layout.sample_bytes
        _, stamp = parse_tals(row[a:b])
        if stamp is not None:
            return stamp
    return 0.0


def lead_warning(lead: float) -> str | None:
    """The header's one line on a first record that starts ``lead`` s after the header's start
    (before it, where negative); None under a second (EDF+'s fraction of the start)."""
    if -1.0 < lead < 1.0:
        return None
    way = "after" if lead > 0 else "before"
    later = "later" if lead > 0 else "earlier"
    return (
        f"the first data record starts {abs(lead):g} s {way} the header's start time (its "
        "time-keeping annotation): no join and no gap; the times of its events and its "
        f"sidecar's count from the first sample, and the recording's start is moved "
        f"{abs(lead):g} s {later}"
    )


__all__ = ["first_record_onset", "lead_warning"]
