"""Strict JSON: values that every JSON reader accepts, checked where they enter.

Python's ``json`` writes ``NaN``, ``Infinity`` and integers of any size; strict readers (orjson,
browsers, most other languages) refuse them. One such value in a recording's record would make
the whole index unreadable. So every value that comes from a source file, a sidecar or a
manifest is checked before it enters a record (:func:`check_values`, a one-line error naming the
file and the field), and every JSON eegprep writes is written with ``allow_nan=False``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from eegprep.base.errors import SourceError
from eegprep.base.text import line_at

INT_RANGE = (-(2**63), 2**63 - 1)  # what orjson (and int64 everywhere) reads back

ZERO_FILLED = "zero bytes alone (zero-filled: its bytes never reached the disk before a crash?)"
"""What :func:`loads` says of a document of NUL bytes alone, what a file system may leave of
a file written just before a power loss."""


def loads(data: str | bytes, *, unique_keys: bool = False) -> Any:
    """:func:`json.loads` of strict JSON: ``NaN``, ``Infinity``, a number that overflows a
    float (``1e400``), a number not zero that a float reads as 0 (``1e-400``, which would be
    taken as a ``0`` nobody wrote; a subnormal such as ``5e-324`` is a float and is read), an
    integer beyond int64, and input nested deeper than Python recurses (a crafted or corrupt
    file) are each a :class:`json.JSONDecodeError` like any other bad JSON. Python's parser
    takes all but the last, which no other JSON reader does. So is a document of NUL bytes
    alone (:data:`ZERO_FILLED`). ``unique_keys``: an
    object that names one key twice is one too (:class:`DuplicateKeyError`): readers differ on
    which of the two counts (Python's and Rust's take the last, others the first or refuse), so
    a file read for what it claims (a checkpoint's header, a model card) must not hold one.

    A UTF-8 byte-order mark starting ``data`` (a file saved by Notepad) is read as no part of
    it, whether ``data`` is text or bytes: Python's parser read it so from bytes, but refused
    text that starts with U+FEFF ("Unexpected UTF-8 BOM"), so one file read as text (a run's
    ``results.json``, a model card, an embedding store's progress) was called unreadable or
    damaged, and read as bytes was read."""
    hook = _unique if unique_keys else None
    if isinstance(data, str) and data.startswith("\ufeff"):
        data = data[1:]
    if data and not (data.strip("\0") if isinstance(data, str) else data.strip(b"\0")):
        # (a crash's zeros: Python's parser guessed UTF-32 from them, "'utf-32-be' codec ...")
        raise ZeroFilledError(ZERO_FILLED, "", 0)
    try:
        return json.loads(
            data,
            parse_constant=_refused,
            parse_float=_finite,
            parse_int=_int64,
            object_pairs_hook=hook,
        )
    except RecursionError:
        raise json.JSONDecodeError("nested too deep", "", 0) from None
    except json.JSONDecodeError as exc:
        raise _editor_position(exc) from None


def _editor_position(exc: json.JSONDecodeError) -> json.JSONDecodeError:
    """``exc`` citing the line and column an editor shows: Python's parser counts ``\\n``
    alone, so a document whose lines end in ``\\r`` alone was cited as line 1 throughout."""
    if isinstance(exc, StrictJSONError) or "\r" not in exc.doc[: exc.pos]:
        return exc
    line = line_at(exc.doc, exc.pos)
    start = max(exc.doc.rfind("\n", 0, exc.pos), exc.doc.rfind("\r", 0, exc.pos)) + 1
    out = json.JSONDecodeError(exc.msg, exc.doc, exc.pos)
    out.lineno, out.colno = line, exc.pos - start + 1
    out.args = (f"{exc.msg}: line {line} column {out.colno} (char {exc.pos})",)
    return out


_READ_PAST = ("attributes", "consolidated_metadata")
"""The keys of a ``zarr.json`` where another program's values are read loosely: the attributes
(those another program added, below) and zarr's consolidated metadata (copies of every node's
metadata, other programs' attributes included: eegprep reads past it, ``consolidated.py``)."""


def loads_zarr_json(
    data: str | bytes, foreign: Callable[[Mapping[str, Any]], Iterable[str]]
) -> Any:
    """:func:`loads` of a Zarr ``zarr.json`` document, except inside the attributes that
    ``foreign(attributes)`` names: those another program added (eegprep reads past them), where
    a value strict JSON refuses (zarr-python writes ``NaN`` and ``Infinity`` as Python's json
    does; a number beyond a float or int64, or one a float reads as 0 though it is not) is read
    as ``None``, so that one such value does
    not make the whole document unreadable; and so inside zarr's consolidated metadata. Anywhere
    else (eegprep's own attributes, the
    document's other keys) it is refused as :func:`loads` refuses it."""
    try:
        return loads(data)
    except StrictJSONError as exc:
        refusal = exc
    try:
        doc = json.loads(
            data, parse_constant=_Loose, parse_float=_loose_float, parse_int=_loose_int
        )
        attrs = doc.get("attributes") if isinstance(doc, dict) else None  # (a key renamed)
        if not isinstance(attrs, dict) or any(
            _holds_loose(v) for k, v in doc.items() if k not in _READ_PAST
        ):
            raise refusal
        theirs = set(foreign(attrs))
        for key, value in attrs.items():
            if _holds_loose(value):
                if key not in theirs:
                    raise refusal
                attrs[key] = None
        return doc
    except RecursionError:
        raise json.JSONDecodeError("nested too deep", "", 0) from None


class _Loose:
    """A value strict JSON refuses, as the lenient parse of :func:`loads_zarr_json` reads it."""

    def __init__(self, token: str) -> None:
        self.token = token


def _loose_float(text: str) -> Any:
    value = float(text)
    return value if math.isfinite(value) and not underflows(text, value) else _Loose(text)


def _loose_int(text: str) -> Any:
    value = int(text)
    return value if INT_RANGE[0] <= value <= INT_RANGE[1] else _Loose(text)


def _holds_loose(value: Any) -> bool:
    if isinstance(value, _Loose):
        return True
    if isinstance(value, dict):
        return any(_holds_loose(v) for v in value.values())
    if isinstance(value, list):
        return any(_holds_loose(v) for v in value)
    return False


class StrictJSONError(json.JSONDecodeError):
    """A value Python's parser takes but strict JSON does not (no position: the parser does
    not pass it on)."""

    def __init__(self, msg: str) -> None:
        super().__init__(msg, "", 0)

    def __str__(self) -> str:
        return self.msg


class ZeroFilledError(json.JSONDecodeError):
    """A document of NUL bytes alone (:data:`ZERO_FILLED`; no position: it has no first value
    to point at). Not a :class:`StrictJSONError`: no looser reading takes it."""

    def __str__(self) -> str:
        return self.msg


class DuplicateKeyError(StrictJSONError):
    """An object of the document names one key twice (:func:`loads` with ``unique_keys``)."""


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise DuplicateKeyError(f"the key {key[:80]!r} appears twice in one object")
        obj[key] = value
    return obj


def _refused(token: str) -> Any:
    raise StrictJSONError(f"{token} is not JSON (strict JSON has no NaN or infinities)")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise StrictJSONError(f"{_cut(text)} overflows a 64-bit float")
    if underflows(text, value):
        raise StrictJSONError(f"{_cut(text)} {UNDERFLOW}")
    return value


UNDERFLOW = "is not zero, yet a 64-bit float reads it as 0 (it underflows)"
"""The words of every refusal of such a number (JSON, TOML, a sidecar's cell)."""


def underflows(text: str, value: float) -> bool:
    """Whether the number ``text`` (JSON's, TOML's or a table cell's spelling, digits and
    ``_`` before an exponent), which a float reads as ``value``, is not zero yet ``value`` is 0
    (``1e-400``, ``-1e-999``, ``0.`` then 400 zeros and a ``1``): the float took it as a ``0``
    nobody wrote. A subnormal (``5e-324``, ``2.5e-320``) is a float: not this."""
    if value != 0.0:
        return False
    digits = text.split("e")[0].split("E")[0]
    return any(c in "123456789" for c in digits)


TINY_SPELLING = re.compile(rb"[eE]-0*[1-9][0-9]{2}|0{100}")
"""Bytes that may spell a number :func:`underflows` takes for 0: one below 1e-323 has an
exponent of -100 or below, or else 100 zeros in a row (``0.`` then 250 zeros, ``1e-99``).
A fast look at a whole file or line (one regular expression), before a closer one."""


def _cut(text: str) -> str:
    """A number's text for a message: its first 30 characters (one of 400 zeros is a line)."""
    return text if len(text) <= 30 else text[:27] + "..."


def _int64(text: str) -> int:
    value = int(text)
    if not INT_RANGE[0] <= value <= INT_RANGE[1]:
        raise StrictJSONError(f"{text[:30]} is beyond a 64-bit integer")
    return value


def find_unsafe(value: Any, where: str = "", *, text: bool = True) -> tuple[str, Any] | None:
    """The first value that strict JSON cannot hold, as ``(field path, value)``; else ``None``.

    Refused: non-finite floats (NaN, +-inf, and ``1e309`` which parses as inf), integers
    outside int64, text (a value or a key) holding a lone surrogate (a name whose bytes are
    not UTF-8, as :func:`os.fsdecode` gives it: Python's json writes it as ``"\\udcff"``,
    which orjson and every other reader refuse, so the index line holding it was unreadable),
    and any object that is not a str, bool, int, float, None, list, tuple or dict with str keys.
    ``text=False``: text is not judged (where a rule of its own judges it later: a sidecar's
    labels and events, :mod:`eegprep.base.field_text`).
    """
    if isinstance(value, str):
        return (where, value) if text and _lone_surrogate(value) else None
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return None if INT_RANGE[0] <= value <= INT_RANGE[1] else (where, value)
    if isinstance(value, float):
        return None if math.isfinite(value) else (where, value)
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str) or (text and _lone_surrogate(k)):
                return (f"{where}[{k!r}]", k)
            hit = find_unsafe(v, f"{where}.{k}" if where else k, text=text)
            if hit:
                return hit
        return None
    if isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            hit = find_unsafe(v, f"{where}[{i}]", text=text)
            if hit:
                return hit
        return None
    if hasattr(value, "item") and getattr(value, "shape", None) == ():  # a numpy scalar
        return find_unsafe(value.item(), where, text=text)
    return (where, value)


def _lone_surrogate(text: str) -> bool:
    """Whether ``text`` holds a lone surrogate (no UTF-8 text can: no JSON reader but Python's
    reads one)."""
    if text.isascii():  # (the common case, in C)
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def find_beyond_int64(value: Any, where: str = "") -> tuple[str, int] | None:
    """The first integer outside int64 in ``value`` (nested dicts, lists and tuples), as
    ``(field path, value)``; else ``None``. Unlike :func:`find_unsafe`, only integers: for
    values (a manifest's options) whose other numbers are never stored as they are."""
    return _find_number(value, where, _beyond_int64)


def find_not_finite(value: Any, where: str = "") -> tuple[str, float] | None:
    """The first float that is NaN or an infinity in ``value`` (nested dicts, lists and
    tuples), as ``(field path, value)``; else ``None``. Only floats, as
    :func:`find_beyond_int64` only integers."""
    return _find_number(value, where, _not_finite)


def _beyond_int64(value: Any) -> bool:
    return (
        isinstance(value, int)
        and not isinstance(value, bool)
        and not INT_RANGE[0] <= value <= INT_RANGE[1]
    )


def _not_finite(value: Any) -> bool:
    return isinstance(value, float) and not math.isfinite(value)


def _find_number(value: Any, where: str, bad: Callable[[Any], bool]) -> tuple[str, Any] | None:
    """The first value of ``value`` (nested dicts, lists and tuples) that ``bad`` picks, as
    ``(field path, value)``; else ``None``."""
    if isinstance(value, dict):
        items: Any = ((f"{where}.{k}" if where else str(k), v) for k, v in value.items())
    elif isinstance(value, list | tuple):
        items = ((f"{where}[{i}]", v) for i, v in enumerate(value))
    else:
        return (where, value) if bad(value) else None
    for at, v in items:
        found = _find_number(v, at, bad)
        if found is not None:
            return found
    return None


def unsafe_words(field: str, value: Any) -> str:
    """What :func:`find_unsafe` found (``value`` at ``field``), in words for one line."""
    if isinstance(value, str):
        return (
            f"field {field or '(value)'} is {ascii(value)[:80]}, text that is not UTF-8 (a lone "
            "surrogate: a name or text whose bytes are not UTF-8), which no JSON reader reads back"
        )
    return (
        f"field {field or '(value)'} is {value!r}, which the store cannot hold (NaN, "
        "infinities, integers beyond 64 bits and non-JSON objects are refused)"
    )


def json_problem(value: Any) -> str | None:
    """Why ``value`` cannot be written as strict UTF-8 JSON (NaN or an infinity, text holding
    a lone surrogate, an object JSON has no form for), in words (:func:`unsafe_words`); None
    when it can. One C-speed ``json.dumps`` where all is well (a record of 10^6 events: 0.5 s,
    where :func:`find_unsafe` takes 3 s); integers beyond int64 are not judged here (they are
    where a value enters, :func:`check_values`, and by every read of the index)."""
    try:
        json.dumps(value, allow_nan=False, ensure_ascii=False).encode("utf-8")
    except (ValueError, TypeError, RecursionError) as exc:  # (UnicodeEncodeError: a ValueError)
        hit = find_unsafe(value)
        return unsafe_words(*hit) if hit is not None else f"value is not JSON ({exc})"
    return None


def check_values(value: Any, path: str, what: str, *, text: bool = True) -> None:
    """Raise :class:`SourceError` naming ``path`` and the field when ``value`` is not strict JSON.

    ``what`` says where the value came from (``"sidecar"``, ``"record"``, ...); ``text``: as
    :func:`find_unsafe` takes it.
    """
    hit = find_unsafe(value, text=text)
    if hit is not None:
        words = isinstance(hit[1], str)
        fix = "rename the file, or save the text as UTF-8" if words else "fix the value in the file"
        raise SourceError(path, f"{what} {unsafe_words(*hit)}; {fix}")


def finite_or_null(value: Any) -> Any:
    """``value`` with every non-finite float replaced by ``None`` (JSON ``null``), recursively.

    For results where "undefined" is a legitimate outcome (an AUROC on a one-class set, a loss
    that diverged): they are written as ``null``, never as ``NaN``.
    """
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite_or_null(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_or_null(v) for v in value]
    if hasattr(value, "item") and getattr(value, "shape", None) == ():  # a numpy scalar
        return finite_or_null(value.item())
    return value


def dumps(value: Any, **kwargs: Any) -> str:
    """``json.dumps`` that writes strict JSON: non-finite floats become ``null``, and a path's
    bytes that are not UTF-8 ``\\xNN`` text (a lone surrogate is no JSON reader's text)."""
    import json

    from eegprep.base.files import as_text_all

    return json.dumps(as_text_all(finite_or_null(value)), allow_nan=False, **kwargs)
