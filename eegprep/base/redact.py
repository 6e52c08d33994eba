"""Credentials out of everything eegprep shows or records.

A store URL may carry credentials: ``s3://KEY:SECRET@bucket/x.zarr`` (user information) or
``https://host/x.zarr?X-Amz-Signature=...`` (a signed or token query). eegprep passes the URL
as given to fsspec, and shows everywhere else (messages, printed summaries, the ingest report
saved in the store, ``--json``) the form :func:`redact` returns, where each secret is ``***``.

Redaction errs on the side of hiding: user information is removed whole (user names of object
stores are access key ids), and a query parameter is hidden when its name looks like a secret.
"""

from __future__ import annotations

import re
from typing import Any

MASK = "***"

# scheme://userinfo@ : the userinfo ends at the last "@" of the authority. A secret may hold a
# "/" (AWS secret keys do, unescaped), so an "@" after a "/" also ends userinfo when a ":" came
# before it (user:password form); a plain "path@v2" is left alone.
_USERINFO = re.compile(
    r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)"
    r"(?P<info>[^\s/?#@'\"<>]*@|[^\s/?#@'\"<>:]*:[^\s@'\"<>]*@)"
)
# The same without a scheme, as fsspec shows a path ("/user:secret@bucket/x"): only in the
# user:password form, at the start of a word or after a "/" (and not a scheme's "://").
_BARE_USERINFO = re.compile(r"(?:(?<=^)|(?<=[\s'\"(/=]))[^\s/?#@'\"<>:]+:(?!//)[^\s@'\"<>]*@")
# A query parameter whose name says it is a secret: token, key, secret, password, signature,
# credential, auth; and every AWS / Google signing parameter (X-Amz-*, X-Goog-*).
_SECRET_NAME = (
    r"[A-Za-z0-9_.-]*(?:token|key|secret|passw|pwd|sig|credential|auth)[A-Za-z0-9_.-]*"
    r"|x-amz-[A-Za-z0-9_.-]+|x-goog-[A-Za-z0-9_.-]+"
)
_QUERY = re.compile(rf"(?P<lead>[?&;](?:{_SECRET_NAME})=)(?P<value>[^&;#\s'\"<>]*)", re.IGNORECASE)


def redact(text: str) -> str:
    """``text`` (a URL, a message, a traceback) with every credential replaced by ``***``.

    Examples
    --------
    >>> redact("s3://AKIA:wJal/rXU@bucket/tuh.zarr")
    's3://***@bucket/tuh.zarr'
    >>> redact("https://host/s.zarr?X-Amz-Signature=abc&part=1")
    'https://host/s.zarr?X-Amz-Signature=***&part=1'
    """
    if "@" not in text and "=" not in text:
        return text
    text = _USERINFO.sub(lambda m: f"{m['scheme']}{MASK}@", text)
    text = _BARE_USERINFO.sub(f"{MASK}@", text)
    return _QUERY.sub(lambda m: f"{m['lead']}{MASK}", text)


def redact_all(value: Any) -> Any:
    """A copy of ``value`` with :func:`redact` applied to every string in it, keys included
    (dicts, lists and tuples are walked; other values are returned as they are)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact_all(k): redact_all(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact_all(v) for v in value)
    return value
