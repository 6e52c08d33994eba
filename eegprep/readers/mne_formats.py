"""Every format MNE-Python reads (BrainVision, EEGLAB, Neuroscan CNT, GDF, FIF), read lazily.

The header comes from ``mne.io.read_raw(path, preload=False)``; segments from
``raw.get_data(picks, start, stop)``. MNE returns SI units (volts), so every voltage channel
(EEG, EOG, ECG, EMG, ...) gets ``to_uv = 1e6``; the file's own unit, where MNE keeps it
(``raw._orig_units``), is reported as :attr:`Signal.unit`.

Concurrency contract: headers are pure data (they pickle). Each process keeps a small LRU of
opened ``Raw`` objects keyed by path, options and the file's size and mtime, so reading many
segments of one file parses its header once; a changed file is re-opened. ``Raw`` objects read
from disk on every ``get_data`` call and hold no state between calls, so nothing is shared
between processes.
"""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import Mapping, Sequence
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

import numpy as np

from eegprep.errors import SourceError, UsageError
from eegprep.readers.base import (
    Annotation,
    Header,
    Reader,
    Signal,
    check_option_names,
    check_readable,
    check_segment,
    check_sfreq,
    exception_summary,
    frozen_options,
    unit_to_uv,
)

if TYPE_CHECKING:
    from mne.io import BaseRaw

# suffix -> (MNE reader function, format name for messages)
_FORMATS: dict[str, tuple[str, str]] = {
    ".vhdr": ("read_raw_brainvision", "BrainVision"),
    ".set": ("read_raw_eeglab", "EEGLAB"),
    ".cnt": ("read_raw_cnt", "Neuroscan CNT"),
    ".gdf": ("read_raw_gdf", "GDF"),
    ".fif": ("read_raw_fif", "FIF"),
    ".edf": ("read_raw_edf", "EDF"),
    ".bdf": ("read_raw_bdf", "BDF"),
}
# Parameters of the MNE reader functions that the reader sets itself.
_RESERVED = frozenset({"input_fname", "fname", "preload", "verbose"})
_FIFF_UNIT_V = 107  # mne.io.constants.FIFF.FIFF_UNIT_V: the channel's data are volts
_VOLTAGE_TYPES = frozenset({"eeg", "eog", "ecg", "emg", "seeg", "ecog", "dbs", "bio"})
_RAW_CACHE_SIZE = 8


class MneReader(Reader):
    """Reader for the formats of ``mne.io.read_raw``.

    Options
    -------
    **options
        Passed to the format's MNE reader, e.g. ``eog=["HEOG", "VEOG"]``, ``misc=[...]`` for
        ``read_raw_brainvision``; ``data_format="int32"``, ``date_format="dd/mm/yy"`` for
        ``read_raw_cnt`` (SEED's Neuroscan files). Names are checked against that function's
        signature: an unknown one raises :class:`~eegprep.errors.UsageError`. ``preload`` is
        always ``False`` (passing ``preload=False`` is allowed, anything else is refused).
    """

    name = "mne"
    extensions = (".vhdr", ".set", ".cnt", ".gdf", ".fif")

    @classmethod
    def read_header(cls, path: str, *, part: str | None = None, **options: Any) -> Header:
        """Parse the header through MNE; see :meth:`Reader.read_header`."""
        check_readable(path)
        options = _check_options(path, options)
        raw = _raw(path, frozen_options(options))
        sfreq = float(raw.info["sfreq"])
        check_sfreq(path, sfreq)
        n_times = int(raw.n_times)
        orig_units: dict[str, str] = dict(getattr(raw, "_orig_units", None) or {})
        signals = tuple(
            _signal(ch, kind, sfreq, n_times, orig_units.get(ch["ch_name"], ""))
            for ch, kind in zip(raw.info["chs"], raw.get_channel_types(), strict=True)
        )
        return Header(
            path=path,
            reader=cls.name,
            signals=signals,
            duration=n_times / sfreq,
            annotations=_annotations(raw),
            part=part,
            meta=_meta(path, raw),
            options=frozen_options(options),
        )

    @classmethod
    def read_segment(
        cls, header: Header, picks: Sequence[int], start: int, stop: int
    ) -> np.ndarray:
        """Samples ``[start, stop)`` of ``picks`` in microvolts, float32, shape (n_picks, n)."""
        check_segment(header, picks, start, stop)
        if start == stop:  # MNE refuses empty ranges
            return np.empty((len(picks), 0), dtype=np.float32)
        check_readable(header.path)
        raw = _raw(header.path, header.options)
        if raw.n_times != header.signals[0].n_times or raw.ch_names != header.labels:
            raise SourceError(
                header.path, "the file changed since its header was read: read the header again"
            )
        try:
            data = raw.get_data(picks=list(picks), start=start, stop=stop)
        except Exception as exc:
            raise SourceError(
                header.path, f"MNE cannot read samples: {exception_summary(exc)}"
            ) from exc
        factors = np.array([header.signals[p].to_uv for p in picks], dtype=np.float64)
        return (data * factors[:, None]).astype(np.float32)


def _format(path: str) -> tuple[str, str]:
    suffix = PurePath(path).suffix.lower()
    if suffix not in _FORMATS:
        known = ", ".join(sorted(_FORMATS))
        raise UsageError(f"{path}: the mne reader reads {known}; got suffix {suffix!r}")
    return _FORMATS[suffix]


def _check_options(path: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """Options for the format's MNE reader, checked against its signature; ``preload`` dropped."""
    import mne

    func, fmt = _format(path)
    options = dict(options)
    if options.pop("preload", False) is not False:
        raise UsageError("Invalid value for `preload`: the mne reader always reads lazily.")
    allowed = set(inspect.signature(getattr(mne.io, func)).parameters) - _RESERVED
    check_option_names(options, allowed, f"mne reader ({fmt}, mne.io.{func})")
    return options


def _raw(path: str, options: tuple[tuple[str, Any], ...]) -> BaseRaw:
    """The opened Raw for ``path``, from this process's cache when the file is unchanged."""
    st = os.stat(path)
    return _open_raw(path, options, (st.st_mtime_ns, st.st_size))


@functools.lru_cache(maxsize=_RAW_CACHE_SIZE)
def _open_raw(path: str, options: tuple[tuple[str, Any], ...], stamp: tuple[int, int]) -> BaseRaw:
    import mne

    _, fmt = _format(path)
    try:
        return mne.io.read_raw(path, preload=False, verbose="error", **dict(options))
    except Exception as exc:
        raise SourceError(
            path, f"MNE cannot read this {fmt} file: {exception_summary(exc)}; check it is complete"
        ) from exc


def _signal(ch: Mapping[str, Any], kind: str, sfreq: float, n_times: int, orig_unit: str) -> Signal:
    """One channel: MNE's volts become microvolts; stim and other kinds stay as they are.

    A channel counts as a voltage when MNE stores it in volts and it is of a voltage type
    (EEG, EOG, ECG, EMG, ...) or a misc channel whose unit in the file is a voltage.
    """
    volts = int(ch["unit"]) == _FIFF_UNIT_V and (
        kind in _VOLTAGE_TYPES or (kind == "misc" and unit_to_uv(orig_unit) is not None)
    )
    unit = orig_unit or ("V" if volts else "")
    return Signal(
        label=str(ch["ch_name"]),
        sfreq=sfreq,
        n_times=n_times,
        unit=unit,
        to_uv=1e6 if volts else 1.0,
    )


def _annotations(raw: BaseRaw) -> tuple[Annotation, ...]:
    """MNE annotations with onsets in seconds from the first sample of the recording."""
    ann = raw.annotations
    first = float(raw.first_time)
    out = []
    for onset, duration, desc, chans in zip(
        ann.onset, ann.duration, ann.description, ann.ch_names, strict=True
    ):
        out.append(
            Annotation(
                onset=float(onset) - first,
                duration=float(duration),
                description=str(desc),
                channel=",".join(chans),
            )
        )
    return tuple(out)


def _meta(path: str, raw: BaseRaw) -> tuple[tuple[str, str], ...]:
    import mne

    info = raw.info
    date = info["meas_date"]
    return (
        ("format", _format(path)[1]),
        ("meas_date", date.isoformat() if date is not None else ""),
        ("ch_types", ",".join(raw.get_channel_types())),
        ("bads", ",".join(info["bads"])),
        ("highpass", f"{info['highpass']:g}"),
        ("lowpass", f"{info['lowpass']:g}"),
        ("first_samp", str(raw.first_samp)),
        ("mne_version", mne.__version__),
    )


def clear_cache() -> None:
    """Forget every cached Raw of this process (tests, or after files were replaced)."""
    _open_raw.cache_clear()
