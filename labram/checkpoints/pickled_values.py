"""The values a training script saves beside its weights, rebuilt without running code.

The original LaBraM code saves its command-line arguments (an ``argparse.Namespace``) in every
checkpoint, and training scripts keep more beside the weights: a ``pathlib`` path, a numpy
scalar (``np.float64(0.8)``), array or dtype, a ``frozenset``. PyTorch's weights-only
unpickler refuses them all. This module names, for :func:`~labram.checkpoints.safe_read.
read_checkpoint`, the constructors it may call for them (:data:`SAFE_VALUE_GLOBALS`): each is
ours, takes only the plain values a pickle passes it (strings, numbers, bytes, tuples), checks
them and builds the value through numpy's or pathlib's public constructors; none imports,
calls or looks up anything a file names. Under the names numpy's own pickles use
(``numpy.dtype``, ``numpy._core.multiarray._reconstruct``, ``...scalar``) numpy's private
helpers and ``__setstate__`` are never called: a dtype or array is a placeholder
(:class:`PickledDtype`, :class:`PickledArray`) until the pickle gives its state, which is
checked and then made a real dtype or array by :func:`finished`.

Refused, with :class:`RefusedValue` naming the type and the key path of the value (a
constructor that refuses leaves a :class:`Refused` in the value's place, and the walk after the
load names where it lies): numpy arrays and scalars of object dtype
(their items are whatever the file says), structured (``V``) dtypes, and dtype or array states
that are not what numpy writes.
"""

from __future__ import annotations

import functools
import math
import os
import pathlib
import re
from collections.abc import Callable
from typing import Any

import numpy as np


class RefusedValue(ValueError):
    """A value a checkpoint holds beside its weights that labram does not rebuild (the
    message says which and why; ``where``, the key path of the value, where known:
    :mod:`labram.checkpoints.key_paths`); raised before any of it is used."""

    def __init__(self, why: str, where: str | None = None) -> None:
        super().__init__(why)
        self.why = why
        self.where = where


class Refused:
    """What a constructor of ours refused, in the place of the value while the pickle is read
    (the unpickler does not know where a value goes): the walk after the load finds it and
    names its key path (:func:`refusal`; :func:`labram.checkpoints.contents.check_contents`)."""

    __slots__ = ("why",)

    def __init__(self, why: str) -> None:
        self.why = why


def refusing(build: Callable[..., Any]) -> Callable[..., Any]:
    """``build``, returning a :class:`Refused` where it refuses its arguments."""

    @functools.wraps(build)
    def checked(*args: Any, **kwargs: Any) -> Any:
        try:
            return build(*args, **kwargs)
        except RefusedValue as exc:
            return Refused(exc.why)

    return checked


def refusal(obj: Any) -> str | None:
    """Why ``obj`` was refused while the pickle was read (a :class:`Refused`, a dtype or array
    placeholder that refused its state), or None."""
    if isinstance(obj, Refused):
        return obj.why
    if isinstance(obj, PickledDtype | PickledArray):
        why = getattr(obj, "refused", None)
        if why is None and isinstance(obj, PickledDtype) and getattr(obj, "dtype", None) is None:
            why = "a numpy value whose dtype is not what numpy writes"  # (made by NEWOBJ)
        if why is None and isinstance(obj, PickledArray) and getattr(obj, "array", None) is None:
            why = "a numpy array without its values"  # (made by NEWOBJ, or given no state)
        return why
    return None


_KINDS = "biufcmMUS"
"""The numpy dtype kinds rebuilt: bool, integers, floats, complex, datetimes and timedeltas,
strings and bytes. Not ``O`` (objects: anything) nor ``V`` (structured records, raw bytes)."""
_SPEC = re.compile(r"[a-zA-Z]\d{0,10}")  # numpy's pickled spec: 'f8', 'U20', 'M8', 'b1'
_UNIT = re.compile(r"(Y|M|W|D|h|m|s|ms|us|μs|ns|ps|fs|as|generic)")


class PickledDtype:
    """A numpy dtype as a pickle builds it: ``numpy.dtype(spec, align, copy)``, then its state
    (byte order; a datetime's unit). Made a :class:`numpy.dtype` by :func:`finished`."""

    __slots__ = ("dtype", "refused")

    def __init__(self, spec: Any, align: Any = False, copy: Any = True) -> None:
        self.refused: str | None = None
        try:
            self._build(spec)
        except RefusedValue as exc:
            self.refused = exc.why

    def _build(self, spec: Any) -> None:
        if not isinstance(spec, str) or not _SPEC.fullmatch(spec):
            raise RefusedValue(f"a numpy dtype named {spec!r}, which numpy never writes")
        try:
            dtype = np.dtype(spec)
        except (TypeError, ValueError) as exc:
            raise RefusedValue(f"a numpy dtype named {spec!r}, which numpy has not") from exc
        _check_kind(dtype)
        self.dtype = dtype

    def __setstate__(self, state: Any) -> None:
        if getattr(self, "refused", None) is None:
            try:
                self._set(state)
            except RefusedValue as exc:
                self.refused = exc.why

    def _set(self, state: Any) -> None:
        dtype = _dtype_of(self)
        if not isinstance(state, tuple) or len(state) not in (8, 9) or state[0] not in (3, 4):
            raise RefusedValue("a numpy dtype whose state is not what numpy writes")
        _, order, subarray, names, fields, elsize, alignment = state[:7]
        if subarray is not None or names is not None or fields is not None:
            raise RefusedValue("a structured numpy dtype (fields or a subarray)")
        if order not in ("<", ">", "|", "=") or elsize not in (-1, dtype.itemsize):
            raise RefusedValue("a numpy dtype whose state is not what numpy writes")
        if alignment not in (-1, dtype.alignment):
            raise RefusedValue("a numpy dtype whose state is not what numpy writes")
        if dtype.kind in "mM" and len(state) == 9:
            try:
                dtype = np.dtype(f"{dtype.str}[{_unit(state[8])}]")
            except TypeError as exc:  # (a unit numpy's parser refuses)
                raise RefusedValue("a numpy datetime dtype of a unit numpy has not") from exc
        self.dtype = dtype.newbyteorder(order) if order in "<>" else dtype


def _dtype_of(obj: Any) -> np.dtype[Any]:
    """The dtype of a :class:`PickledDtype` (refused if not one, or one a pickle made with
    ``NEWOBJ``, which skips its constructor)."""
    why = refusal(obj)
    if why is not None:  # (an array or scalar of a dtype refused: refused for it)
        raise RefusedValue(why)
    dtype = getattr(obj, "dtype", None) if isinstance(obj, PickledDtype) else None
    if dtype is None:
        raise RefusedValue("a numpy value whose dtype is not what numpy writes")
    return dtype


def _check_kind(dtype: np.dtype[Any]) -> None:
    if dtype.kind not in _KINDS:
        what = "object" if dtype.kind == "O" else f"{dtype.kind!r} (structured or raw bytes)"
        raise RefusedValue(
            f"a numpy value of dtype {what}: labram rebuilds numpy values of numbers, "
            "booleans, dates and strings only"
        )


def _unit(meta: Any) -> str:
    """A datetime dtype's unit (``ms``, ``10s``) from its pickled metadata
    ``(None, (b'ms', 1, 1, 1))``."""
    pair = meta[1] if isinstance(meta, tuple) and len(meta) == 2 else None
    unit, num = pair[:2] if isinstance(pair, tuple) and len(pair) >= 2 else (None, None)
    if isinstance(unit, bytes):
        unit = unit.decode("utf-8", "replace")
    if (
        not isinstance(unit, str)
        or not _UNIT.fullmatch(unit)
        or type(num) is not int
        or not 0 < num < 2**31
    ):
        raise RefusedValue("a numpy datetime dtype whose unit is not what numpy writes")
    return unit if num == 1 or unit == "generic" else f"{num}{unit}"


class PickledArray:
    """A numpy array as a pickle builds it: ``_reconstruct(ndarray, (0,), b'b')``, then its
    state ``(1, shape, dtype, fortran_order, raw_bytes)``. Made a :class:`numpy.ndarray` by
    :func:`finished`; the bytes must be exactly the shape's and dtype's."""

    __slots__ = ("array", "refused")

    def __init__(self, *, refused: str | None = None) -> None:
        self.array: np.ndarray[Any, Any] | None = None
        self.refused = refused

    def __setstate__(self, state: Any) -> None:
        if getattr(self, "refused", None) is not None:
            return
        parts = state if isinstance(state, tuple) else ()
        self.refused = next((why for p in parts if (why := refusal(p)) is not None), None)
        if self.refused is None:  # (a dtype refused: the array is refused for it)
            try:
                self._set(state)
            except RefusedValue as exc:
                self.refused = exc.why

    def _set(self, state: Any) -> None:
        if isinstance(state, tuple) and len(state) == 5 and state[0] == 1:
            state = state[1:]
        if not isinstance(state, tuple) or len(state) != 4:
            raise RefusedValue("a numpy array whose state is not what numpy writes")
        shape, dtype, fortran, raw = state
        if (
            not isinstance(shape, tuple)
            or not all(type(n) is int and n >= 0 for n in shape)
            or type(fortran) is not bool
            or not isinstance(raw, bytes | bytearray)
        ):
            raise RefusedValue("a numpy array whose state is not what numpy writes")
        dt = _dtype_of(dtype)
        if len(raw) != math.prod(shape) * dt.itemsize or (dt.itemsize == 0 and math.prod(shape)):
            raise RefusedValue(
                f"a numpy array of shape {shape} and dtype {dt} stored in {len(raw)} bytes"
            )
        flat = np.frombuffer(bytes(raw), dtype=dt) if dt.itemsize else np.empty(0, dt)
        self.array = flat.reshape(shape, order="F" if fortran else "C").copy(order="K")


def _reconstruct(cls: Any, shape: Any, typecode: Any) -> PickledArray:
    """What numpy's pickles call first to make an array: an empty one, of class ``ndarray``."""
    if cls is not PickledArray:
        why = f"a numpy array of class {type(cls).__name__}: only ndarray is rebuilt"
        return PickledArray(refused=why)
    return PickledArray()


def _scalar(dtype: Any, data: Any = None) -> Any:
    """A numpy scalar (``np.float64(0.1)``, ``np.int64(3)``, ``np.str_('a')``) from its dtype
    and its bytes, as numpy's pickles give them."""
    dt = _dtype_of(dtype)
    if not isinstance(data, bytes):
        raise RefusedValue("a numpy scalar whose state is not what numpy writes")
    if len(data) != dt.itemsize:
        raise RefusedValue(f"a numpy scalar of dtype {dt} stored in {len(data)} bytes")
    if not dt.itemsize:  # (an empty np.str_ or np.bytes_: no bytes to read it from)
        return dt.type()
    return np.frombuffer(data, dtype=dt)[0]


def _path(cls: type[pathlib.PurePath]) -> Callable[..., pathlib.PurePath]:
    """A path's constructor from its parts (strings only). A concrete path of the other
    operating system's kind (a ``WindowsPath`` read on Linux), which cannot be made here, is
    made its pure kind (``PureWindowsPath``)."""
    windows = issubclass(cls, pathlib.PureWindowsPath)
    if issubclass(cls, pathlib.Path) and windows != (os.name == "nt"):
        cls = pathlib.PureWindowsPath if windows else pathlib.PurePosixPath

    def build(*parts: Any) -> pathlib.PurePath:
        if not all(isinstance(p, str) for p in parts):
            raise RefusedValue("a path whose parts are not strings")
        return cls(*parts)

    return build


def _bytes(*args: Any) -> bytes:
    """``bytes()``: how a pickle of protocol 2 writes ``b''`` (the raw bytes of an empty
    numpy array); anything else it could be called with (a size to fill) is refused."""
    if args:
        raise RefusedValue("a call of bytes() with arguments, which a pickle never writes")
    return b""


_PATHS = (
    pathlib.PurePath, pathlib.PurePosixPath, pathlib.PureWindowsPath, pathlib.Path,
    pathlib.PosixPath, pathlib.WindowsPath,
)  # fmt: skip

_PATH_BUILDS = {c: refusing(_path(c)) for c in _PATHS}
_SCALAR, _RECONSTRUCT, _BYTES = refusing(_scalar), refusing(_reconstruct), refusing(_bytes)

SAFE_VALUE_GLOBALS: list[tuple[Any, str]] = [
    *((_PATH_BUILDS[c], f"{m}.{c.__name__}") for m in ("pathlib", "pathlib._local")
      for c in _PATHS),
    (PickledDtype, "numpy.dtype"),
    (PickledArray, "numpy.ndarray"),
    *((_SCALAR, f"{m}.multiarray.scalar") for m in ("numpy.core", "numpy._core")),
    *((_RECONSTRUCT, f"{m}.multiarray._reconstruct") for m in ("numpy.core", "numpy._core")),
    (frozenset, "builtins.frozenset"),
    (_BYTES, "builtins.bytes"),
]  # fmt: skip
"""``(constructor, the name pickles give it)`` for :func:`torch.serialization.safe_globals`:
paths (``pathlib`` up to Python 3.12, ``pathlib._local`` in 3.13), numpy dtypes, arrays and
scalars (numpy 1's ``numpy.core`` and numpy 2's ``numpy._core``), ``frozenset``, and ``b''``."""


def finished(obj: Any) -> Any:
    """``obj`` made its value if it is a placeholder of this module (a dtype, an array),
    else ``obj`` itself; a refused one raises :class:`RefusedValue` (without its place: the
    walk before names it, :func:`labram.checkpoints.contents.check_contents`)."""
    why = refusal(obj)
    if why is not None:
        raise RefusedValue(why)
    if isinstance(obj, PickledDtype):
        return _dtype_of(obj)
    if isinstance(obj, PickledArray):
        array = getattr(obj, "array", None)
        if array is None:
            raise RefusedValue("a numpy array without its values")
        return array
    return obj


PLACEHOLDERS = (PickledDtype, PickledArray, Refused)

__all__ = [
    "PLACEHOLDERS",
    "SAFE_VALUE_GLOBALS",
    "Refused",
    "RefusedValue",
    "finished",
    "refusal",
    "refusing",
]
