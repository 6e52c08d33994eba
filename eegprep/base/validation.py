"""Validation helpers that make good messages, shared by every module that checks user input.

One wording everywhere (MNE's): ``Invalid value for `montage`: allowed 'a', 'b', 'c'; got 'd'.``,
with a difflib suggestion when a text value is close to an allowed one (``Did you mean 'b'?``),
or ``expected X; got Y`` when the allowed values are not a short list. The helpers return the
exception (a :class:`~eegprep.base.errors.UsageError` unless another class is asked for) so that the
caller raises it and the traceback points at the caller.

:func:`parse_field` parses a configuration value (text from ``--set FIELD=VALUE``, a TOML value,
a flag's value) against the type of a dataclass field, so that ``epochs=abc`` or ``lr=fast`` is an
error naming the field instead of a ``TypeError`` later or a silent string.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import numbers
import re
import types
import typing
from collections.abc import Iterable
from typing import Any

from eegprep.base.errors import UsageError
from eegprep.base.strict_json import underflows

NONE_WORDS = ("none", "null")
"""Text that sets an optional field to None (``--set max_steps=none``)."""

_DIGITS = r"[0-9](?:_?[0-9]){0,399}"  # (an underscore between two digits, as TOML writes them)
WHOLE_TEXT = re.compile(rf"[+-]?{_DIGITS}")
DECIMAL_TEXT = re.compile(
    rf"[+-]?(?:{_DIGITS}(?:\.(?:{_DIGITS})?)?|\.{_DIGITS})(?:[eE][+-]?{_DIGITS})?"
)
"""How text writes a whole number and a number that :func:`parse_field` reads: ASCII digits,
spaces around allowed. Python's ``int`` and ``float`` also read other scripts' digits and
stray underscores: ``--set epochs=３`` (a full-width 3), ``٣`` (an Arabic-Indic 3) and
``1__0`` were taken as 3, 3 and 10, where the flags refuse them (:mod:`eegprep.cli_numbers`)."""


OTHER_DIGITS = "digits other than ASCII 0-9"
"""Why a number in a file written in another script's digits (``٣``, ``３``) is refused:
Python's ``\\d``, ``int`` and ``float`` read them as 3, where no file format means them so."""


def other_digits(text: str) -> bool:
    """Whether ``text`` holds a digit other than ASCII ``0``-``9`` (an Arabic-Indic ``٣``, a
    full-width ``３``, a superscript ``²``)."""
    return any(c.isdigit() and not c.isascii() for c in text)


def _show(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def did_you_mean(got: object, allowed: Iterable[object]) -> str:
    """`` Did you mean 'x'?`` when ``got`` is text close to one of ``allowed``, else ``''``."""
    if not isinstance(got, str):
        return ""
    names = [a for a in allowed if isinstance(a, str)]
    close = difflib.get_close_matches(got, names, n=1) or difflib.get_close_matches(
        got.lower(), [n.lower() for n in names], n=1
    )
    if not close:
        return ""
    match = next((n for n in names if n.lower() == close[0].lower()), close[0])
    return f" Did you mean {match!r}?"


def invalid_value(
    name: str,
    got: object,
    allowed: Iterable[object] | None = None,
    *,
    expected: str | None = None,
    hint: str = "",
    error: type[Exception] = UsageError,
) -> Exception:
    """The error for ``got`` given to ``name`` (raise it).

    Parameters
    ----------
    name : str
        The option, field or key as the user wrote it (``corpus``, ``--scheduler``).
    got : object
        The value given.
    allowed : iterable, optional
        The allowed values (``allowed 'a', 'b'; got 'c'``), with a suggestion for close text.
    expected : str, optional
        What was expected, when it is not a list (``expected an integer >= 1; got 0``).
    hint : str
        What to do, appended as its own sentence.
    error : type
        The exception class (a UsageError by default).
    """
    if allowed is not None:
        options = list(allowed)
        what = f"allowed {', '.join(_show(a) for a in options)}"
        suggestion = did_you_mean(got, options)
    else:
        what = f"expected {expected or 'another value'}"
        suggestion = ""
    message = f"Invalid value for `{name}`: {what}; got {_show(got)}.{suggestion}"
    if hint:
        message += f" {hint.strip()}"
    return error(message)


def check_choice(name: str, value: object, allowed: Iterable[object], **kw: Any) -> None:
    """Raise :func:`invalid_value` unless ``value`` is one of ``allowed``."""
    options = list(allowed)
    if value not in options:
        raise invalid_value(name, value, options, **kw)


def check_min(name: str, value: float | None, minimum: float, **kw: Any) -> None:
    """Raise unless ``value`` is None or at least ``minimum``."""
    if value is not None and value < minimum:
        raise invalid_value(name, value, expected=f">= {minimum}", **kw)


def unknown_names(
    given: Iterable[str], known: Iterable[str], *, what: str = "config field", hint: str = ""
) -> UsageError | None:
    """A UsageError naming every name of ``given`` not in ``known`` (with suggestions)."""
    known = sorted(known)
    unknown = sorted(set(given) - set(known))
    if not unknown:
        return None
    names = ", ".join(repr(u) for u in unknown)
    plural = "s" if len(unknown) > 1 else ""
    tips = "".join(did_you_mean(u, known) for u in unknown)
    return UsageError(f"unknown {what}{plural} {names}.{tips} {hint}".rstrip())


# --- typed configuration values -----------------------------------------------------------


def field_types(cls: type) -> dict[str, Any]:
    """The resolved type of each field of dataclass ``cls`` (string annotations evaluated)."""
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def parse_field(cls: type, name: str, value: Any) -> Any:
    """``value`` as the type of field ``name`` of dataclass ``cls``.

    Accepts what the type says, and text for it (``"3"`` for an int, ``"1e-3"`` for a float,
    ``"true"`` for a bool, ``"none"`` for an optional field); an int where a float is expected
    becomes a float; a list for a tuple becomes a tuple.

    Raises
    ------
    UsageError
        An unknown field, or a value that is not of the field's type, naming the field:
        ``Invalid value for `epochs`: expected an integer; got 'abc'.``
    """
    types_ = field_types(cls)
    if name not in types_:
        raise unknown_names([name], types_) or UsageError(name)
    return parse_value(name, value, types_[name])


def parse_value(name: str, value: Any, tp: Any) -> Any:
    """``value`` converted to type ``tp`` (see :func:`parse_field`); ``name`` for messages."""
    ok, out = _convert(value, tp)
    if not ok:
        other = isinstance(value, str) and other_digits(value)
        hint = "(numbers are written in ASCII digits 0-9)" if other else ""
        raise invalid_value(name, value, expected=describe_type(tp), hint=hint)
    return out


def describe_type(tp: Any) -> str:
    """Words for a type: ``an integer``, ``a number or none``, ``a list of 2 numbers``."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        words = " or ".join(describe_type(a) for a in inner)
        return f"{words} or none" if type(None) in args else words
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return f"a list of {_plural(args[0])}"
        return f"a list of {len(args)} {_plural(args[0])}"
    if origin is dict:
        return f"a table of {_plural(args[1])}" if args else "a table"
    return {
        bool: "true or false",
        int: "an integer",
        float: "a number",
        str: "text",
    }.get(tp, getattr(tp, "__name__", str(tp)))


def check_kinds(obj: object, *, error: type[Exception] = UsageError) -> None:
    """Refuse a field of the frozen dataclass ``obj`` whose value is not of its declared kind:
    a bool that is no ``True`` / ``False`` (``amp=float("nan")``, ``progress="no"``: a
    notebook's value, taken as true), text that is no ``str``, a tuple of names with another
    item, a config of another class; each an ``error`` naming the field, the value and the kind
    (one line). Numbers are bounded by :func:`eegprep.base.bounds.check_fields`, choices by
    :func:`check_choice`; a numpy bool becomes a plain one."""
    for name, tp in field_types(type(obj)).items():
        value = getattr(obj, name)
        ok, plain = _holds(value, tp)
        if not ok:
            raise invalid_value(name, value, expected=describe_type(tp), error=error)
        if plain is not value:
            object.__setattr__(obj, name, plain)


def _holds(value: Any, tp: Any) -> tuple[bool, Any]:
    """Whether ``value`` is of kind ``tp`` as :func:`check_kinds` reads it, and its plain form
    (numbers, literals, tables and anything else: taken here, checked elsewhere)."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return type(None) in args, value
        held = [_holds(value, a) for a in args if a is not type(None)]
        return next((h for h in held if h[0]), (False, value))
    if tp is bool:
        if type(value).__module__ == "numpy" and type(value).__name__ in ("bool_", "bool"):
            return True, bool(value)
        return isinstance(value, bool), value
    if tp is str:
        return isinstance(value, str), value
    if origin is tuple and args and args[0] is str:
        items = isinstance(value, tuple | list) and all(isinstance(v, str) for v in value)
        return items, value
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return isinstance(value, tp), value
    return True, value


def _plural(tp: Any) -> str:
    return {int: "integers", float: "numbers", str: "names", bool: "booleans"}.get(tp, "values")


def _convert(value: Any, tp: Any) -> tuple[bool, Any]:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None or (
            type(None) in args and isinstance(value, str) and value.strip().lower() in NONE_WORDS
        ):
            return type(None) in args, None
        for arg in args:
            if arg is type(None):
                continue
            ok, out = _convert(value, arg)
            if ok:
                return True, out
        return False, None
    if origin is tuple:
        return _convert_tuple(value, args)
    if origin is dict:
        if not isinstance(value, dict):
            return False, None
        key_t, val_t = args or (str, Any)
        out = {}
        for k, v in value.items():
            ok_k, kk = _convert(k, key_t)
            ok_v, vv = _convert(v, val_t)
            if not (ok_k and ok_v):
                return False, None
            out[kk] = vv
        return True, out
    return _convert_scalar(value, tp)


def _convert_tuple(value: Any, args: tuple[Any, ...]) -> tuple[bool, Any]:
    if isinstance(value, str):
        value = [v for v in value.replace(",", " ").split() if v]
    if not isinstance(value, list | tuple):
        return False, None
    item_types = [args[0]] * len(value) if len(args) == 2 and args[1] is Ellipsis else list(args)
    if len(item_types) != len(value):
        return False, None
    out = []
    for v, t in zip(value, item_types):
        ok, item = _convert(v, t)
        if not ok:
            return False, None
        out.append(item)
    return True, tuple(out)


def _convert_scalar(value: Any, tp: Any) -> tuple[bool, Any]:
    if tp is Any:
        return True, value
    if tp is bool:
        if isinstance(value, bool):
            return True, value
        text = str(value).strip().lower() if isinstance(value, str) else None
        if text in ("true", "yes", "on", "1"):
            return True, True
        if text in ("false", "no", "off", "0"):
            return True, False
        return False, None
    if tp is int:
        if isinstance(value, numbers.Integral) and not isinstance(value, bool):
            return True, int(value)
        if isinstance(value, str) and WHOLE_TEXT.fullmatch(value.strip()):
            return True, int(value.strip().replace("_", ""))
        return False, None
    if tp is float:
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            f = float(value)
            return (True, f) if math.isfinite(f) else (False, None)
        if isinstance(value, str) and DECIMAL_TEXT.fullmatch(value.strip()):
            text = value.strip().replace("_", "")
            f = float(text)
            # (``1e-400`` is no 0: refused as ``1e400`` is, never read as the 0 a float makes)
            return (True, f) if math.isfinite(f) and not underflows(text, f) else (False, None)
        return False, None
    if tp is str:
        return (True, value) if isinstance(value, str) else (False, None)
    return (True, value) if isinstance(tp, type) and isinstance(value, tp) else (False, None)
