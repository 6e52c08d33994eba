"""Finding identifying words (a name, a code, a birth year) in what a test wrote or was shown,
as whole words: ``1951`` inside a file's ``mtime_ns`` or a blake3 digest, or in a pytest
folder (``pytest-1951``) once the test's own paths are taken out, is chance, not a leak."""

from __future__ import annotations

import re
from collections.abc import Iterable

from tests.machine_paths import without_paths


def found_in(text: str | bytes, words: Iterable[str | bytes], *, paths: Iterable[str] = ()) -> list:
    """The ``words`` standing in ``text`` as whole words (no letter or digit either side), after
    every string of ``paths`` (the test's own temporary folders) is removed from it."""
    body = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    body = without_paths(body, paths)
    found = []
    for word in words:
        plain = word.decode() if isinstance(word, bytes) else word
        if re.search(rf"(?<![0-9A-Za-z]){re.escape(plain)}(?![0-9A-Za-z])", body):
            found.append(word)
    return found
