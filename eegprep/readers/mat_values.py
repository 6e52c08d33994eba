"""Numbers taken from MATLAB files, checked as one class: a value of a MAT v4/v5/v7.3 file that is
meant as numbers (a sampling rate, event positions, labels, counts, flag columns) is refused in
one line naming the file, the variable and the problem when it is not one.

Refused: text; a struct or a cell array; a sparse matrix; a logical (true/false) value, unless
the caller takes flags; a complex value; an int64/uint64 value beyond 2^53 (float64 would round
it: sample ``2^53 + 1`` became ``2^53``); an empty value, unless the caller takes an empty
list; a non-finite value (``nan``, ``inf``) where a finite one is needed; a value out of the
caller's range; several values where one is meant. A complex value is refused even when its
imaginary part is all zeros (MATLAB's ``complex(250, 0)``): MATLAB keeps a value complex only
when told to, MNE cannot read such a field of an EEGLAB ``.set`` (``float() argument must be ... not
'complex'``), and one rule for every MATLAB value is simpler to keep true; the fix is
``real(x)`` in MATLAB. numpy's own words never reach the terminal: no cast here drops an
imaginary part, so no ``ComplexWarning`` is raised.

The readers (:mod:`eegprep.readers.matlab`, :mod:`eegprep.readers.set_header`) and the corpus
sidecar parsers (:mod:`eegprep.corpus.sidecars.bci`) take every such value through
:func:`mat_numbers` or :func:`mat_number`; a data variable's samples are checked by class
instead (:func:`~eegprep.readers.matlab_files.data_info`).

Concurrency contract: pure functions.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from eegprep.base.errors import SourceError
from eegprep.base.wording import counted
from eegprep.readers.mat_fields import MatField

_NOT_A_NUMBER = {"struct", "cell", "object", "sparse", "function", "opaque", "char"}
_HINTS = {"sparse": " (save it full in MATLAB: full(x))"}


def mat_numbers(
    path: str,
    name: str,
    value: Any,
    *,
    what: str,
    cls: str = "",
    finite: bool = True,
    low: float | None = None,
    high: float | None = None,
    above: bool = False,
    whole: bool = False,
    flags: bool = False,
    empty: bool = False,
) -> np.ndarray:
    """``value`` of the variable ``name`` of ``path`` as a float64 array of its shape.

    Parameters
    ----------
    what : str
        What the variable should hold, for the message (``'one sampling rate in Hz'``).
    cls : str
        The variable's MATLAB class where known (``'logical'``: scipy loads those as uint8).
    finite, low, high, above, whole : optional
        Every value finite; at least ``low`` (above it when ``above``) and at most ``high``;
        a whole number.
    flags, empty : bool
        Accept logical values; accept an empty value (an empty list of events).

    Raises
    ------
    SourceError
        One line: ``variable 'nfo.fs' is complex (1+2j): expected one sampling rate in Hz``.
    """
    problem = _not_numbers(value, cls, flags)
    if problem is None:
        arr = _real(np.asarray(value.value if isinstance(value, MatField) else value))
        if arr is None:
            problem = f"is complex ({_first_complex(np.asarray(_unwrap(value)))}), not real"
        else:
            problem = _out_of_range(arr, finite, low, high, above, whole, empty)
            if problem is None:
                return arr.astype(np.float64)
    raise SourceError(
        path, f"variable {name!r} {problem}: expected {what}; fix the file or name another one"
    )


def mat_number(path: str, name: str, value: Any, *, what: str, **checks: Any) -> float:
    """One number (:func:`mat_numbers`'s checks, keywords ``checks``); several values are
    refused."""
    arr = mat_numbers(path, name, value, what=what, **checks)
    if arr.size != 1:
        raise SourceError(
            path,
            f"variable {name!r} holds {counted(arr.size, 'value')} of shape {arr.shape}: expected "
            f"{what}; fix the file or name another one",
        )
    return float(arr.reshape(()))


def number_or_none(value: Any, cls: str = "") -> float | None:
    """``value`` as one real number (possibly non-finite), else None: text, a struct or cell,
    a logical value, a complex one, empty, several values, or a 64-bit integer beyond 2^53
    (float64 would round it)."""
    if _not_numbers(value, cls, flags=False) is not None:
        return None
    arr = _real(np.asarray(_unwrap(value)))
    if arr is None or arr.size != 1 or _beyond_float64(arr) is not None:
        return None  # a 64-bit integer float64 would round: not taken as that number
    return float(arr.reshape(()))


def describe(value: Any, cls: str = "") -> str:
    """A MATLAB value for a message: a number as it is, text quoted, logical and complex values
    named, an array by its shape (``'complex (1+2j), not real'``, ``'empty'``)."""
    problem = _not_numbers(value, cls, flags=False)
    if problem is not None:
        return problem.removeprefix("is ")
    arr = np.asarray(_unwrap(value))
    if arr.size == 0:
        return "empty"
    if arr.size != 1:
        return f"an array of shape {arr.shape}"
    real = _real(arr)
    if real is None:
        return f"complex ({_first_complex(arr)}), not real"
    inexact = _beyond_float64(real)
    if inexact is not None:  # shown exactly, never as the float64 it would round to
        return f"{inexact}, beyond 2^53: not exact as a number (float64)"
    return f"{float(real.reshape(())):g}"


def _unwrap(value: Any) -> Any:
    return value.value if isinstance(value, MatField) else value


def _not_numbers(value: Any, cls: str, flags: bool) -> str | None:
    """What ``value`` is when it is no numbers at all (text, struct, cell, logical...)."""
    if isinstance(value, MatField):
        cls = cls or value.cls
        if value.value is None or value.cls in _NOT_A_NUMBER:
            shape = " x ".join(map(str, value.shape))
            return f"is a MATLAB {value.cls} of shape {shape}" + _HINTS.get(value.cls, "")
    if isinstance(value, str | bytes):
        return f"is text ({str(value)[:40]!r})"
    if type(value).__module__.startswith("scipy.sparse"):  # scipy loads MATLAB sparse so
        shape = " x ".join(map(str, value.shape))
        return f"is a MATLAB sparse of shape {shape}" + _HINTS["sparse"]
    if isinstance(value, dict):
        return "is a MATLAB struct"
    if isinstance(value, list | tuple):
        return "is a MATLAB cell array"
    arr = np.asarray(_unwrap(value))
    if arr.dtype.names:  # scipy's struct (array) when not simplified
        return "is a MATLAB struct"
    if arr.dtype.kind == "O":
        return "is a MATLAB cell array"
    if arr.dtype.kind in "US":
        return f"is text ({str(arr.ravel()[0])[:40]!r})" if arr.size else "is empty text"
    if (cls == "logical" or arr.dtype.kind == "b") and not flags:
        shown = "" if arr.size != 1 else f" {str(bool(arr.reshape(()))).lower()}"
        return f"is logical{shown} (true/false), not a number"
    if arr.dtype.kind not in "biufc":
        return f"is of type {arr.dtype}, not a number"
    return None


def _real(arr: np.ndarray) -> np.ndarray | None:
    """``arr`` as it is; None when it is complex (see the module docstring)."""
    return None if arr.dtype.kind == "c" else arr


def _first_complex(arr: np.ndarray) -> str:
    """The first value of a complex array with an imaginary part (else its first), as text."""
    flat = arr.ravel()
    if flat.size == 0:
        return "empty"
    hit = np.flatnonzero(flat.imag != 0)
    return f"{complex(flat[hit[0] if hit.size else 0])}".strip("()")


_EXACT = 2**53


def _beyond_float64(arr: np.ndarray) -> int | None:
    """The first integer of an int64/uint64 array that float64 cannot hold exactly (beyond
    2^53: ``2^53 + 1`` becomes ``2^53``), else None. Smaller integer types always fit."""
    if arr.dtype.kind not in "iu" or arr.dtype.itemsize < 8:
        return None
    flat = arr.ravel()
    big = flat > _EXACT if arr.dtype.kind == "u" else (flat > _EXACT) | (flat < -_EXACT)
    hits = np.flatnonzero(big)
    return int(flat[hits[0]]) if hits.size else None


def _out_of_range(
    arr: np.ndarray,
    finite: bool,
    low: float | None,
    high: float | None,
    above: bool,
    whole: bool,
    empty: bool,
) -> str | None:
    """What is wrong with a real numeric array's values, if anything."""
    if arr.size == 0:
        return None if empty else "is empty"
    verb = "is" if arr.size == 1 else "holds"
    inexact = _beyond_float64(arr)
    if inexact is not None:
        return f"{verb} {inexact}, beyond 2^53: not exact as a number (float64)"
    values = arr.astype(np.float64).ravel()
    bad = values[~np.isfinite(values)]
    if finite and bad.size:
        return f"{verb} {bad[0]:g}, not a finite number"
    out = np.zeros(values.shape, dtype=bool)
    if low is not None:
        out |= values <= low if above else values < low
    if high is not None:
        out |= values > high
    if whole:
        out |= np.isfinite(values) & (values != np.round(values))
    for hit in np.flatnonzero(out)[:1]:
        return f"{verb} {values[hit]:g}, out of range"
    return None


def one_hot_classes(
    path: str, name: str, value: Any, n: int, cls: str = ""
) -> list[int | None] | None:
    """The class of each of ``n`` trials when ``value`` is a one-hot classes x trials matrix
    (MATLAB's BBCI layout of ``mrk.y``: a 0/1 or logical matrix, one column per trial), else
    None: a value of ``n`` entries is a vector of class codes, whatever its shape (MATLAB pairs
    entry k with trial k). Each class is a row index (0 = the first class); a column of zeros
    is a trial of no class (``None``: an unlabelled, test-set trial). Accepted as stored
    (classes x trials), as its transpose (trials x classes, when that is not also square),
    and as the k-vector MATLAB's k x 1 becomes once its single dimension is dropped (one
    trial). A column with several 1s, or a value other than 0 or 1, is refused in one line.
    """
    if _not_numbers(value, cls, flags=True) is not None:
        return None
    arr = np.asarray(_unwrap(value))
    if arr.dtype.kind not in "biuf" or arr.size == n or n == 0:
        return None
    if arr.ndim == 1 and n == 1 and arr.size >= 2:
        arr = arr[:, None]
    elif arr.ndim == 2 and arr.shape[1] != n and arr.shape[0] == n:
        arr = arr.T  # trials x classes
    if arr.ndim != 2 or arr.shape[1] != n or arr.shape[0] < 2:
        return None
    values = arr.astype(np.float64) if arr.dtype.kind != "b" else arr.astype(np.uint8)
    bad = np.flatnonzero(~np.isin(values.ravel("F"), (0, 1)))
    if bad.size:
        k = int(bad[0])
        raise SourceError(
            path,
            f"variable {name!r} is a one-hot classes x trials matrix ({arr.shape[0]} x {n}) but "
            f"holds {values.ravel('F')[k]:g} (trial {k // arr.shape[0] + 1}): expected 0 or 1; "
            "fix the file",
        )
    ones = values.sum(axis=0)
    several = np.flatnonzero(ones > 1)
    if several.size:
        k = int(several[0])
        raise SourceError(
            path,
            f"variable {name!r} is a one-hot classes x trials matrix ({arr.shape[0]} x {n}) but "
            f"trial {k + 1} has {counted(int(ones[k]), 'class')} (1s in its column): expected one "
            "1, or none for an unlabelled trial; fix the file",
        )
    return [int(np.argmax(values[:, k])) if ones[k] else None for k in range(n)]
