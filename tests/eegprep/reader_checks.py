"""The one reader test helper that every format runs.

:func:`check_reader` reads a header and checks the reader contract on it: the header pickles
and is deterministic, labels/rates/lengths are consistent, every segment read lazily equals the
full read sliced (exactly, for random picks in random order), samples are float32 of the right
shape, out-of-range requests are refused, and, given a reference, amplitudes are microvolts.
:func:`check_source_error` and :func:`check_usage_error` check error paths by message.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from eegprep.base.errors import SourceError, UsageError
from eegprep.readers.base import Header, Reader

# Amplitude tolerance against a reference in microvolts: float32 keeps ~7 significant digits,
# so 1e-3 uV is far below any EEG signal of interest and far above float32 rounding of
# signals up to ~1000 uV (~6e-5 uV).
REFERENCE_ATOL_UV = 1e-3


def read_whole(
    reader_cls: type[Reader], path: str | Path, clear_cache: Callable[[], None], **options: Any
) -> tuple[Header, np.ndarray]:
    """A fresh read of ``path`` (the reader's cache cleared first): its header and every
    sample, ``(n_signals, n_samples)`` microvolts."""
    clear_cache()
    header = reader_cls.read_header(str(path), **options)
    n = header.signals[0].n_samples
    return header, reader_cls.read_segment(header, range(len(header.signals)), 0, n)


def check_reader(
    reader_cls: type[Reader],
    path: str,
    *,
    part: str | None = None,
    expected_labels: Sequence[str] | None = None,
    expected_sfreq: float | None = None,
    expected_n_samples: int | None = None,
    reference_uv: np.ndarray | None = None,
    atol: float = REFERENCE_ATOL_UV,
    n_segments: int = 8,
    seed: int = 0,
    **options: Any,
) -> tuple[Header, np.ndarray]:
    """Check ``reader_cls`` on one file; return its header and full read.

    Parameters
    ----------
    reader_cls : type of Reader
        The reader under test.
    path : str
        The fixture file.
    part : str or None
        Which recording inside the file (``Reader.parts``).
    expected_labels, expected_sfreq, expected_n_samples
        What the header must say, when given.
    reference_uv : ndarray, shape (n_channels, n_samples), microvolts, optional
        What the full read must equal within ``atol`` (absolute, microvolts).
    atol : float
        Tolerance against ``reference_uv`` in microvolts.
    n_segments : int
        How many random segments (random picks, random order) to compare with the full read.
    seed : int
        Seed of the random segments.
    **options
        Reader options.

    Returns
    -------
    header : Header
    full : ndarray, shape (n_channels, n_samples), float32, microvolts
    """
    header = reader_cls.read_header(path, part=part, **options)
    _check_header(reader_cls, header, path, part, options)
    if expected_labels is not None:
        assert header.labels == list(expected_labels)
    sfreq = header.signals[0].sfreq
    n_samples = header.signals[0].n_samples
    if expected_sfreq is not None:
        assert sfreq == pytest.approx(expected_sfreq)
    if expected_n_samples is not None:
        assert n_samples == expected_n_samples

    n_channels = len(header.signals)
    all_picks = list(range(n_channels))
    full = reader_cls.read_segment(header, all_picks, 0, n_samples)
    assert full.dtype == np.float32
    assert full.shape == (n_channels, n_samples)
    assert np.isfinite(full).all()
    if reference_uv is not None:
        np.testing.assert_allclose(full, reference_uv, rtol=0, atol=atol)

    _check_segments(reader_cls, header, full, n_segments, seed)
    _check_bad_segments(reader_cls, header, n_samples)
    return header, full


def _check_header(
    reader_cls: type[Reader], header: Header, path: str, part: str | None, options: dict
) -> None:
    assert header.reader == reader_cls.name
    assert header.path == path
    assert header.part == part
    assert pickle.loads(pickle.dumps(header)) == header
    assert reader_cls.read_header(path, part=part, **options) == header, "header not repeatable"
    assert header.signals, "no signals"
    rates = {s.sfreq for s in header.signals}
    lengths = {s.n_samples for s in header.signals}
    assert len(rates) == 1 and len(lengths) == 1, "one rate and one length for all signals"
    (sfreq,) = rates
    (n_samples,) = lengths
    assert sfreq > 0 and n_samples > 0
    assert header.duration == pytest.approx(n_samples / sfreq)
    for s in header.signals:
        assert isinstance(s.label, str) and isinstance(s.unit, str)
        assert s.to_uv > 0 and s.resolution >= 0
    for a in header.annotations:
        assert 0 <= a.onset <= header.duration and a.duration >= 0
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in header.meta)


def _check_segments(
    reader_cls: type[Reader], header: Header, full: np.ndarray, n_segments: int, seed: int
) -> None:
    """Lazy reads (random picks in random order, edge segments) equal the full read sliced."""
    rng = np.random.default_rng(seed)
    n_channels, n_samples = full.shape
    clone = pickle.loads(pickle.dumps(header))
    bounds = [(0, 1), (n_samples - 1, n_samples), (0, n_samples), (n_samples // 2, n_samples // 2)]
    bounds += [(1, min(2, n_samples)), (min(1, n_samples), max(n_samples - 1, 1))]
    for _ in range(n_segments):
        start, stop = sorted(int(v) for v in rng.integers(0, n_samples + 1, size=2))
        bounds.append((start, stop))
    for i, (start, stop) in enumerate(bounds):
        n_picks = int(rng.integers(1, n_channels + 1))
        picks = [int(p) for p in rng.permutation(n_channels)[:n_picks]]
        reader = header if i % 2 else clone
        seg = reader_cls.read_segment(reader, picks, start, stop)
        assert seg.dtype == np.float32
        assert seg.shape == (len(picks), stop - start)
        np.testing.assert_array_equal(seg, full[picks, start:stop])
        # read_into: the same samples, written into a view of a larger array, nothing else
        wide = np.full((len(picks), stop - start + 7), -123.0, dtype=np.float32)
        reader_cls.read_into(reader, picks, start, stop, wide[:, 3 : 3 + stop - start])
        np.testing.assert_array_equal(wide[:, 3 : 3 + stop - start], seg)
        assert (wide[:, :3] == -123.0).all() and (wide[:, 3 + stop - start :] == -123.0).all()


def _check_bad_segments(reader_cls: type[Reader], header: Header, n_samples: int) -> None:
    with pytest.raises(ValueError, match="outside"):
        reader_cls.read_segment(header, [0], 0, n_samples + 1)
    with pytest.raises(ValueError, match="outside"):
        reader_cls.read_segment(header, [0], -1, 1)
    with pytest.raises(ValueError, match="no channels"):
        reader_cls.read_segment(header, [], 0, 1)


def check_source_error(
    reader_cls: type[Reader], path: str, match: str, *, part: str | None = None, **options: Any
) -> SourceError:
    """Reading the header raises a one-line :class:`SourceError` naming ``path``."""
    with pytest.raises(SourceError, match=match) as info:
        reader_cls.read_header(path, part=part, **options)
    err = info.value
    assert err.path == str(path)
    assert "\n" not in str(err)
    return err


def check_usage_error(
    reader_cls: type[Reader], path: str, match: str, **options: Any
) -> UsageError:
    """Reading the header with bad options raises a :class:`UsageError` (also a ValueError)."""
    with pytest.raises(UsageError, match=match) as info:
        reader_cls.read_header(path, **options)
    assert isinstance(info.value, ValueError)
    return info.value
