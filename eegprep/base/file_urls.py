"""``file:`` URLs (RFC 8089) given where a local path is accepted: decoded once, or refused.

Every option that takes a path or a store URL (``--out``, ``--store``, ``--src``, a STORE
argument, every click path option) accepts ``file:///data/my%20corpus`` for the folder
``/data/my corpus``: the URL's path with its percent-escapes decoded as UTF-8. Refused, each
with one line naming the URL and what to write instead:

- another host than ``localhost`` (``file://server/x``): only this machine's files are read;
- a query or a fragment (``?``, ``#``): a file URL has none; a name holding one escapes it;
- an escaped ``/`` (``%2F``): inside one name it would let ``a%2F..%2F..`` climb out of the
  folder the URL names, and no file name can hold a ``/``;
- an escaped NUL (``%00``), which no path can hold;
- a ``%`` not followed by two hex digits, and escapes whose bytes are not UTF-8 text.

Dot segments (``..``, also escaped as ``%2E%2E``) mean what they mean in the URL's own path,
as RFC 3986 resolves them: the same folder as that path written out.
"""

from __future__ import annotations

import os
import re
from typing import Any, NoReturn
from urllib.parse import unquote_to_bytes

from eegprep.base.errors import UsageError

_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})|%2[Ff]|%00")
"""The first percent sign that is no escape, an escaped ``/``, or an escaped NUL."""

_REFUSED_ESCAPES = {
    "%2f": "an escaped '/' (%2F): no file name can hold a '/'; write each folder as its own "
    "path segment",
    "%00": "an escaped NUL byte (%00): no path can hold one",
}


def is_file_url(text: str) -> bool:
    """Whether ``text`` is a ``file:`` URL: the scheme ``file`` (any letter case), then the
    absolute path or the ``//`` of an authority (``file:/x``, ``file:///x``,
    ``file://localhost/x``)."""
    return text[:5].lower() == "file:" and text[5:6] == "/"


def is_remote_url(text: str) -> bool:
    """Whether ``text`` names a location through fsspec (``s3://``, ``memory://``, ...) and
    not a local path or a ``file:`` URL."""
    return "://" in text and not is_file_url(text)


def local_path(text: str) -> str:
    """``text`` as a local path: a ``file:`` URL decoded (:func:`file_url_path`), anything
    else unchanged."""
    return file_url_path(text) if is_file_url(text) else text


def file_url_path(url: str) -> str:
    """The absolute local path that the ``file:`` URL ``url`` names (RFC 8089).

    Raises
    ------
    UsageError
        One line naming ``url`` when it names another host, has a query or a fragment, or
        holds an escape that cannot be part of a path (module docstring).
    """
    rest = url[len("file:") :]
    if rest.startswith("//"):
        host, slash, path = rest[2:].partition("/")
        if host.lower() not in ("", "localhost"):
            _refuse(url, f"it names the host {host!r}; only this machine's files are read "
                    "(file:///PATH)")  # fmt: skip
        path = slash + path
    else:
        path = rest
    if not path:
        _refuse(url, "it names no path (file:///PATH)")
    for mark, name in (("?", "a query"), ("#", "a fragment")):
        if mark in path:
            _refuse(url, f"{name} ({mark!r}), which a file URL does not have; a {mark!r} in a "
                    f"file name is written %{ord(mark):02X}")  # fmt: skip
    return _decoded(url, path)


def _decoded(url: str, path: str) -> str:
    """``path`` (a file URL's path part) with its percent-escapes decoded as UTF-8."""
    bad = _ESCAPE.search(path)
    if bad is not None:
        found = path[bad.start() : bad.start() + 3].lower()
        why = _REFUSED_ESCAPES.get(found) or (
            f"a '%' that starts no escape ({path[bad.start() : bad.start() + 3]!r}): a '%' in "
            "a file name is written %25"
        )
        _refuse(url, why)
    raw = unquote_to_bytes(path.encode("utf-8", "surrogateescape"))
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        _refuse(url, f"its escapes decode to bytes that are not UTF-8 text (byte "
                f"0x{raw[exc.start]:02x}): give the path itself instead of a URL")  # fmt: skip


def _refuse(url: str, why: str) -> NoReturn:
    from eegprep.base.path_limits import shown_path

    raise UsageError(f"{shown_path(url)}: not a usable file URL: {why}")


URL_TAKERS = "only a store, `--store`, `ingest --out` and a STORE argument, may be a URL"
"""The parameters that take a URL, as a refusal of one elsewhere names them."""


def url_problem(
    value: Any,
    *,
    output: bool = False,
    what: str = "a local path",
    taker: str = "this option",
    fix: str = "copy it to this machine first and give its local path",
) -> str | None:
    """Why ``value``, a URL other than ``file:`` (``s3://b/x``), cannot be given to ``taker``
    (an option, argument or setting that takes ``what``: a local path, or a name), or ``None``:
    it was taken as a local path (``--src s3://b/x``: "corpus folder not found", ``--out``: the
    folders ``./s3:/b/``). A local path of that name that really exists is taken (``s3:`` can
    be a folder's name). ``output``: a path the command writes (the fix is then to copy the
    result); ``fix``: what to do, for an input."""
    if not isinstance(value, str) or not is_remote_url(value) or os.path.lexists(value):
        return None
    from eegprep.base.redact import redact

    if output:  # (it was taken as a local path: `--out s3://b/x` wrote the folders ./s3:/b/)
        return (
            f"{redact(value)}: a URL, and {taker} takes {what} ({URL_TAKERS}): give a local "
            "path, then copy the result where it should go"
        )
    return f"{redact(value)}: a URL, and {taker} takes {what}, not a URL ({URL_TAKERS}): {fix}"
