"""Named sidecar parsers: labels and events that live beside a recording, not in it.

A manifest names one parser (``[sidecar] parser = "tuh_csv"``) and the suffixes of the files
it reads (``suffixes = [".csv_bi"]``). Behaviour that a manifest cannot express lives here, in
small functions registered by name, never in per-corpus branches elsewhere.

A parser is called as ``parser(sidecars, header, options)``: ``sidecars`` the existing sidecar
paths for one recording (in the manifest's suffix order), ``header`` the recording's
:class:`~eegprep.readers.base.Header`, ``options`` the manifest's ``[sidecar.options]``. It
returns a :class:`SidecarResult` or raises :class:`~eegprep.base.errors.SourceError` naming the
file.

A parser that reads files besides its sidecars and the recording (a MoBI trial's
``conductor.txt`` and impedance list, found beside ``eeg.txt`` by its options), or whose result
depends on which files a folder holds (a Siena seizure block naming its file only as ``PN00-``
belongs to whichever EDF files of the patient's folder the prefix matches), registers with it a
function naming those files, ``reads(path, options, sidecars) -> [existing absolute paths]``
(:func:`register`'s ``reads``), and finds them by that same function: the recording's
fingerprint (:func:`eegprep.corpus.sources.recording_files`) takes in every file it names, so
that a change to any of them, or one more or one fewer, re-ingests the recording, and one that
is not named is never read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from eegprep.readers.base import Header


@dataclass
class SidecarResult:
    """What a sidecar adds to a recording.

    Attributes
    ----------
    labels : dict
        Recording-level labels.
    events : list of [onset s, duration s, label, channel]
        Events in the source's time base: seconds from the recording's first sample, counted
        as the data file's own time counts them (a BIDS onset): on its clock, gaps included,
        where the file's time counts its gaps (an EDF+D's, a FIF's skips), which the ingest
        moves onto the samples kept (:attr:`~eegprep.readers.base.Header.sidecar_gaps`); on
        the samples stored where it only states them (a BrainVision pause, an EEGLAB cut);
        unless ``on_samples``.
    targets : dict of str to (ndarray, float)
        Time series to store beside the EEG: ``name -> (values (n, n_times), sfreq Hz)``,
        sampled from the recording's first sample on the same time as the events, whose gaps
        the ingest cuts out as the EEG has none there
        (:attr:`~eegprep.readers.base.Header.sidecar_gaps`); unless ``on_samples``.
    problems : list of str
        Non-fatal findings for the report (a duration that disagrees with the EDF, say).
    channels : dict of str to (str, str, str)
        What the sidecar says of the source's channels: ``label -> (type, status,
        status description)`` as in a BIDS ``channels.tsv`` (``"EEG"``, ``"bad"``, ...; ``""``
        where it says nothing). The ingest leaves out a channel typed other than EEG, or marked
        bad, and lists it in ``dropped_channels`` with the reason.
    units : dict of str to str
        The unit a sidecar gives each channel, as written (a BIDS ``channels.tsv``'s ``units``:
        ``uV``, ``µV``, ``mV``, ``V``; no entry where it says ``n/a`` or nothing). The data
        file's own unit wins; a channel whose file states none takes it
        (:mod:`eegprep.ingestion.sidecar_units`).
    units_file : str
        The base name of the file :attr:`units` come from, for the report's lines.
    on_samples : bool
        The events are timed on the samples the reader gives, as the header's annotations they
        were taken from are, and the targets sampled there (on the header's samples, not its
        clock): not moved or cut again by the recording's gaps.
    """

    labels: dict[str, Any] = field(default_factory=dict)
    events: list[list[Any]] = field(default_factory=list)
    targets: dict[str, tuple[np.ndarray, float]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    channels: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    units_file: str = ""
    on_samples: bool = False


SidecarParser = Callable[[list[str], Header, dict[str, Any]], SidecarResult]
SIDECAR_PARSERS: dict[str, SidecarParser] = {}

SidecarReads = Callable[[str, dict[str, Any], list[str]], list[str]]
"""``reads(path, options, sidecars)``: the files (absolute, existing) that a parser reads, or
whose presence its result depends on, for the recording at ``path`` besides its sidecars and
the recording itself, with the manifest's ``[sidecar.options]`` (path fields filled in) and
the recording's existing sidecar files ``sidecars`` (as the parser is given them)."""
SIDECAR_READS: dict[str, SidecarReads] = {}

# Modules that register parsers, one per corpus family; imported when the registry is first used.
_MODULES: tuple[str, ...] = ("tuh", "physionet", "seed", "bci", "misc")


def load_parsers() -> dict[str, SidecarParser]:
    """The registry, with every parser module imported."""
    import importlib

    for mod in _MODULES:
        importlib.import_module(f"eegprep.corpus.sidecars.{mod}")
    return SIDECAR_PARSERS


def register(
    name: str, *, reads: SidecarReads | None = None
) -> Callable[[SidecarParser], SidecarParser]:
    """Decorator: register a sidecar parser under ``name``, with ``reads`` naming the other
    files it reads (:data:`SidecarReads`) when there are any."""

    def deco(fn: SidecarParser) -> SidecarParser:
        SIDECAR_PARSERS[name] = fn
        if reads is not None:
            SIDECAR_READS[name] = reads
        return fn

    return deco


def other_reads(name: str, path: str, options: dict[str, Any], sidecars: list[str]) -> list[str]:
    """The files the parser ``name`` reads, or depends on the presence of, for the recording
    at ``path`` besides its ``sidecars`` and the recording (:data:`SidecarReads`); none for a
    parser that declares none."""
    reads = (SIDECAR_READS if name in load_parsers() else {}).get(name)
    return [] if reads is None else reads(path, options, sidecars)
