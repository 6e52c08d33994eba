"""What eegprep keeps of an EDF/BDF header's identification: the start and the sex, no more.

The main header's ``startdate`` (``dd.mm.yy``) and ``starttime`` (``hh.mm.ss``) give the start
of the recording; years ``85``-``99`` are 1985-1999 and ``00``-``84`` are 2000-2084 (the EDF
specification's clipping). An EDF+ recording field that opens with ``Startdate dd-MMM-yyyy``
gives the full year (after 2084 the main header holds ``yy``); months in any letter case. Other
writers' spellings are read where they can only mean one date: any of ``.``, ``:``, ``/``,
``-`` or spaces between the numbers, a four-digit year. A field with letters, numbers no date
or time has (``31.02.20``, ``25.61.61``, ``00.00.00``), or an EDF+ date that is not the main
header's is unknown: no start, never a guess.

The patient's code, name and birthdate, the admin code and the technician are identifying and
are not kept at all (``docs/store-format.md``, "What a header gives"); the EDF+ patient field's
sex subfield (``M``, ``F``) and the recording field's equipment are.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from eegprep.base.errors import SourceError

_SEP = r"\s*[.:/\- ]\s*"
# re.ASCII: digits 0-9 alone (str's \d also takes other scripts' digits, "١.١.20")
_DATE = re.compile(rf"\s*(\d{{1,2}}){_SEP}(\d{{1,2}}){_SEP}(\d{{2}}|\d{{4}}|yy)\s*", re.I | re.A)
_TIME = re.compile(rf"\s*(\d{{1,2}}){_SEP}(\d{{1,2}}){_SEP}(\d{{1,2}})\s*", re.A)
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_PLUS_DATE = re.compile(r"(\d{1,2})-([A-Za-z]{3})-(\d{4})", re.A)
_BIRTH = re.compile(r"X|\d{1,2}-[A-Za-z]{3}-\d{4}", re.I | re.A)


def edf_start(startdate: str, starttime: str, recording: str) -> datetime | None:
    """The recording's start as the header states it (naive: EDF has no time zone), or None
    when the header does not state one date and time (module docstring)."""
    d, t = _DATE.fullmatch(startdate), _TIME.fullmatch(starttime)
    if d is None or t is None:
        return None
    day, month, yy = int(d[1]), int(d[2]), d[3]
    plus = plus_startdate(recording)
    if yy.lower() == "yy":  # after 2084: the EDF+ recording field alone has the year
        if plus is None or (plus.day, plus.month) != (day, month):
            return None
        year = plus.year
    elif len(yy) == 4:
        year = int(yy)
    else:
        year = int(yy) + (1900 if int(yy) >= 85 else 2000)
        if plus is not None and (plus.day, plus.month, plus.year % 100) == (day, month, int(yy)):
            year = plus.year  # EDF+: the full year
    if plus is not None and (plus.day, plus.month, plus.year) != (day, month, year):
        return None  # two dates: which one is true is unknown
    try:
        return datetime(year, month, day, int(t[1]), int(t[2]), int(t[3]))
    except ValueError:
        return None


def started(start: datetime | None, lead: float) -> datetime | None:
    """The start ``start`` moved by ``lead`` s (an EDF+ first record's time-keeping onset:
    :mod:`eegprep.readers.edf_lead`): when the first sample was taken; None where unknown, or
    where it would be no date (a damaged onset of 10^12 s)."""
    if start is None or not lead:
        return start
    try:
        return start + timedelta(seconds=lead)
    except (OverflowError, ValueError):
        return None


def plus_startdate(recording: str) -> datetime | None:
    """The date of an EDF+ recording field's ``Startdate dd-MMM-yyyy`` subfield; None when the
    field has none, states ``X`` (unknown), or states no date (``31-FEB-2002``)."""
    words = recording.split()
    if len(words) < 2 or words[0].lower() != "startdate":
        return None
    m = _PLUS_DATE.fullmatch(words[1])
    if m is None or m[2].upper() not in _MONTHS:
        return None
    try:
        return datetime(int(m[3]), _MONTHS.index(m[2].upper()) + 1, int(m[1]))
    except ValueError:
        return None


def edf_meta(
    startdate: str, starttime: str, patient: str, recording: str, lead: float = 0.0
) -> tuple[tuple[str, str], ...]:
    """:attr:`~eegprep.readers.base.Header.meta` of an EDF/BDF file: ``start`` (ISO 8601, no
    time zone) when known, moved by ``lead`` s (the first record's time-keeping onset: when
    the first sample was taken), ``sex`` (``M`` or ``F``, any letter case in the file) when the EDF+
    patient field states it, ``equipment`` when the EDF+ recording field names it (its
    ``_`` read as spaces)."""
    out: list[tuple[str, str]] = []
    start = started(edf_start(startdate, starttime, recording), lead)
    if start is not None:
        out.append(("start", start.isoformat()))
    sub = patient.split()  # EDF+: code, sex, birthdate (dd-MMM-yyyy or X), name, ...
    if len(sub) >= 4 and sub[1].upper() in ("M", "F") and _BIRTH.fullmatch(sub[2]):
        out.append(("sex", sub[1].upper()))
    rec = recording.split()  # EDF+: Startdate, its date, admin code, technician, equipment
    if len(rec) >= 5 and rec[0].lower() == "startdate" and rec[4].upper() != "X":
        out.append(("equipment", rec[4].replace("_", " ")))  # EDF+ writes spaces as "_"
    return tuple(out)


def check_mne_patient_field(path: str, patient: str) -> None:
    """Refuse an EDF+ patient field MNE's EDF reader fails on: a subfield after the fourth with
    more than one ``=`` (MNE splits each at ``=`` into one key and one value and stops with
    ``too many values to unpack``). Its text is not shown: it may identify the patient."""
    words = patient.split(" ")
    if len(words) < 4:
        return
    for k, word in enumerate(words[4:], start=5):
        if word.count("=") > 1:
            raise SourceError(
                path,
                f"the EDF+ patient field's subfield {k} holds {word.count('=')} '=' signs, one "
                "at most in MNE's reading of it (its text is not shown: it may identify the "
                "patient): blank the field, or read the file without MNE options",
            )
