"""A CRC-32C inside the JSON objects eegprep writes outside the chunks and the index: the ingest
reports and the seen-files cache. JSON that stays valid after a flipped bit (a digit, a letter
in a name) is otherwise undetectable, and ``eegprep validate`` promises to find every one.

The checksum is the ``crc32c`` key: 8 hex digits of the CRC-32C (Castagnoli) of the object's
other keys in canonical form (``json.dumps(sort_keys=True, separators=(",", ":"),
ensure_ascii=False)``, UTF-8), so it survives any re-indentation. An object without the key
was written by an earlier eegprep and is taken as it is, unless one of its keys is the key
with one bit flipped.
"""

from __future__ import annotations

import json
from typing import Any

import google_crc32c

KEY = "crc32c"


def _body(doc: dict[str, Any]) -> bytes:
    rest = {k: v for k, v in doc.items() if k != KEY}
    return json.dumps(
        rest, sort_keys=True, separators=(",", ":"), allow_nan=False, ensure_ascii=False
    ).encode()


def _checksum(doc: dict[str, Any]) -> str:
    return f"{google_crc32c.value(_body(doc)):08x}"


def seal(doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` with its checksum (the ``crc32c`` key, last)."""
    return {**{k: v for k, v in doc.items() if k != KEY}, KEY: _checksum(doc)}


def one_bit_apart(a: str, b: str) -> bool:
    """Whether key ``a`` is key ``b`` with one bit of its UTF-8 flipped (a key renamed by
    damage, not one another program chose)."""
    x, y = a.encode("utf-8", "surrogatepass"), b.encode("utf-8", "surrogatepass")
    return len(x) == len(y) and sum(bin(i ^ j).count("1") for i, j in zip(x, y)) == 1


def _one_bit_from_key(name: str) -> bool:
    return one_bit_apart(name, KEY)


def seal_problem(doc: dict[str, Any]) -> str | None:
    """Why ``doc``'s checksum does not vouch for it (``None``: it does, or ``doc`` is of an
    earlier version and has none)."""
    if KEY not in doc:
        near = [k for k in doc if _one_bit_from_key(k)]
        return f"its checksum key is damaged ({near[0]!r})" if near else None
    want = _checksum(doc)
    if doc[KEY] != want:
        return f"its contents fail their CRC-32C (stored {doc[KEY]!r}, computed {want!r})"
    return None
