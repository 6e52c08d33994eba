"""Plain data of Python's standard library a checkpoint may hold beside its weights, rebuilt
without running code: slices, ranges, decimals, dates and times, defaultdicts.

Training scripts keep these in their arguments or beside the weights (a ``slice`` of channels,
a ``range`` of epochs, a ``Decimal`` learning rate, the ``datetime`` a run started, a
``defaultdict(list)`` of metrics). PyTorch's weights-only unpickler refuses each as an import.
Each is data: this module names, for :func:`~labram.checkpoints.safe_read.read_checkpoint`,
a constructor of ours under the name a pickle gives the type (:data:`STDLIB_VALUE_GLOBALS`);
it takes only the plain values the pickle passes (ints, strings, the bytes of a date's state),
checks their types and builds the value with the type's own constructor. A ``defaultdict``'s
factory is one of the built-in types that make an empty or zero value (``int``, ``list``,
``dict``, ...): under their names stand markers (:class:`BuiltinType`) that refuse to be
called, and a marker left as a value is made its type by :func:`finished_type`.

Refused, with :class:`~labram.checkpoints.pickled_values.RefusedValue` naming the type and
the key path of the value (a :class:`~labram.checkpoints.pickled_values.Refused` stands in its
place until the walk after the load names it): a
slice or range of anything but integers (and None for a slice), a decimal not given as text,
a date or time whose state is not what Python writes, a time zone other than a fixed offset
(``zoneinfo``'s and ``pytz``'s are looked up by name: refused as the import they ask for),
and a defaultdict whose factory is anything else (a function, a lambda, a class of a script).
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import contextvars
import datetime
import decimal
from collections.abc import Callable, Iterator
from typing import Any

from labram.checkpoints.pickled_values import Refused, RefusedValue, refusing


def _ints(what: str, args: tuple[Any, ...], *, none: bool) -> None:
    if not 1 <= len(args) <= 3 or not all(type(a) is int or (none and a is None) for a in args):
        kinds = "integers or None" if none else "integers"
        raise RefusedValue(f"a {what} whose bounds are not 1 to 3 {kinds}")


def _slice(*args: Any) -> slice:
    """``slice(start, stop, step)``, as a pickle writes one."""
    _ints("slice", args, none=True)
    return slice(*args)


def _range(*args: Any) -> range:
    """``range(start, stop, step)`` (ints only, the step not 0)."""
    _ints("range", args, none=False)
    if len(args) == 3 and args[2] == 0:
        raise RefusedValue("a range whose step is 0")
    return range(*args)


def _decimal(value: Any = "0", context: Any = None) -> decimal.Decimal:
    """``decimal.Decimal(text)``: how a decimal pickles itself (its string)."""
    if type(value) is not str or context is not None or len(value) > 4096:
        raise RefusedValue("a decimal.Decimal not given as its text (of at most 4,096 characters)")
    try:
        return decimal.Decimal(value)
    except (decimal.InvalidOperation, ValueError, ArithmeticError):
        raise RefusedValue(f"a decimal.Decimal of the text {value[:40]!r}") from None


_STATE_BYTES = {datetime.date: 4, datetime.time: 6, datetime.datetime: 10}
"""The length of the state a date, time or datetime pickles itself as (its packed fields)."""


def _dated(cls: type[Any]) -> Any:
    """The constructor of ``cls`` (date, time, datetime) from its pickled state: the packed
    bytes, and for a time or datetime a fixed-offset time zone or None."""

    def build(state: Any, tz: Any = None) -> Any:
        if type(state) is not bytes or len(state) != _STATE_BYTES[cls]:
            raise RefusedValue(f"a datetime.{cls.__name__} whose state is not what Python writes")
        if tz is not None and (cls is datetime.date or type(tz) is not datetime.timezone):
            raise RefusedValue(
                f"a datetime.{cls.__name__} whose time zone is not a fixed offset "
                "(datetime.timezone)"
            )
        try:
            return cls(state) if tz is None else cls(state, tz)
        except (TypeError, ValueError, OverflowError):
            raise RefusedValue(
                f"a datetime.{cls.__name__} whose state is not what Python writes"
            ) from None

    return build


def _timedelta(days: Any = 0, seconds: Any = 0, microseconds: Any = 0) -> datetime.timedelta:
    """``datetime.timedelta(days, seconds, microseconds)``, as one pickles itself."""
    if not all(type(v) is int for v in (days, seconds, microseconds)):
        raise RefusedValue("a datetime.timedelta whose fields are not integers")
    try:
        return datetime.timedelta(days, seconds, microseconds)
    except OverflowError:
        raise RefusedValue("a datetime.timedelta beyond Python's range") from None


def _timezone(offset: Any, name: Any = None) -> datetime.timezone:
    """``datetime.timezone(offset[, name])``: a fixed offset (``datetime.timezone.utc``)."""
    if type(offset) is not datetime.timedelta or not (name is None or type(name) is str):
        raise RefusedValue("a datetime.timezone whose offset or name is not what Python writes")
    try:
        return datetime.timezone(offset) if name is None else datetime.timezone(offset, name)
    except ValueError:
        raise RefusedValue("a datetime.timezone of an offset of a day or more") from None


class BuiltinType:
    """What a pickle gets under a built-in type's name (``builtins.int``): the type as a
    ``defaultdict``'s factory, or as a value (:func:`finished_type`); never called."""

    __slots__ = ("type",)

    def __init__(self, kind: type) -> None:
        self.type = kind

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return Refused(f"a call of {self.type.__name__}(), which no checkpoint's value needs")


MARKERS = {kind: BuiltinType(kind) for kind in (int, float, str, bool, list, tuple, dict)}
"""The built-in types a pickle gets as markers (the others below torch, or
:mod:`~labram.checkpoints.pickled_values`, allow-lists as themselves)."""
_FACTORIES = (*MARKERS, complex, set, frozenset, bytearray, collections.OrderedDict,
              collections.Counter)  # fmt: skip
"""The factories a defaultdict may have: types that make an empty or zero value when called
without arguments."""


_MADE: contextvars.ContextVar[dict[int, tuple[dict[Any, Any], Any]] | None] = (
    contextvars.ContextVar("labram_defaultdicts_made", default=None)
)
"""For the load in progress (:func:`defaultdicts_made`): each dict :func:`_defaultdict` gave
the pickle, by id, with its factory (the dict itself kept, so no other object takes its id)."""


def _defaultdict(factory: Any = None) -> dict[Any, Any]:
    """A ``collections.defaultdict(factory)``, as a plain dict for the pickle to fill (torch
    sets items on a dict, an OrderedDict or a Counter only), made a defaultdict when the load
    ends (:func:`defaultdicts_made`)."""
    kind = factory.type if isinstance(factory, BuiltinType) else factory
    table = _MADE.get()
    if table is None:
        raise RefusedValue("a collections.defaultdict read outside labram's checkpoint reader")
    made: dict[Any, Any] = {}
    if kind is not None and kind not in _FACTORIES:  # (a dict for the pickle to fill, made a
        # Refused when the load ends: the walk after it names where it lies)
        what = getattr(kind, "__qualname__", type(kind).__name__)
        kind = Refused(
            f"a collections.defaultdict whose factory is {what}: labram rebuilds those of a "
            "built-in type (int, list, dict, ...) or none"
        )
    table[id(made)] = (made, kind)
    return made


@contextlib.contextmanager
def defaultdicts_made() -> Iterator[Callable[[Any], Any]]:
    """Around one ``torch.load``: gives the function that makes each dict
    :func:`_defaultdict` gave the pickle the defaultdict it stands for, in what the load
    returned (walked where anything was made; containers changed in place, tuples rebuilt)."""
    table: dict[int, tuple[dict[Any, Any], Any]] = {}
    token = _MADE.set(table)
    try:
        yield lambda obj: _restored(obj, table, {}) if table else obj
    finally:
        _MADE.reset(token)


def _restored(obj: Any, table: dict[int, tuple[dict[Any, Any], Any]], done: dict[int, Any]) -> Any:
    key = id(obj)
    if key in done:  # (shared, or a cycle)
        return done[key]
    if isinstance(obj, argparse.Namespace):
        done[key] = obj
        for name, value in vars(obj).items():
            setattr(obj, name, _restored(value, table, done))
        return obj
    if isinstance(obj, dict):
        entry = table.get(key)
        if entry and entry[0] is obj and isinstance(entry[1], Refused):
            done[key] = entry[1]
            return entry[1]
        out = collections.defaultdict(entry[1]) if entry and entry[0] is obj else obj
        done[key] = out
        items = [(k, _restored(v, table, done)) for k, v in obj.items()]
        out.update(items)
        return out
    if isinstance(obj, list):
        done[key] = obj
        obj[:] = [_restored(v, table, done) for v in obj]
        return obj
    if type(obj) is tuple:
        done[key] = rebuilt = tuple(_restored(v, table, done) for v in obj)
        return rebuilt
    return obj


def finished_type(obj: Any) -> Any:
    """``obj`` made the built-in type it stands for if it is a :class:`BuiltinType` marker,
    else ``obj`` itself."""
    return obj.type if isinstance(obj, BuiltinType) else obj


STDLIB_VALUE_GLOBALS: list[tuple[Any, str]] = [
    (refusing(_slice), "builtins.slice"),
    (refusing(_range), "builtins.range"),
    (refusing(_decimal), "decimal.Decimal"),
    *((refusing(_dated(c)), f"datetime.{c.__name__}") for c in _STATE_BYTES),
    (refusing(_timedelta), "datetime.timedelta"),
    (refusing(_timezone), "datetime.timezone"),
    (_defaultdict, "collections.defaultdict"),
    *((marker, f"builtins.{kind.__name__}") for kind, marker in MARKERS.items()),
]
"""``(constructor, the name pickles give it)`` for :func:`torch.serialization.safe_globals`,
beside :data:`~labram.checkpoints.pickled_values.SAFE_VALUE_GLOBALS` (torch maps Python 2's
names, ``__builtin__.xrange`` and ``__builtin__.long``, which protocol 2 writes, onto these)."""

__all__ = [
    "MARKERS",
    "STDLIB_VALUE_GLOBALS",
    "BuiltinType",
    "defaultdicts_made",
    "finished_type",
]
