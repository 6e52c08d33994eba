"""Text files from other systems: which encoding their bytes are in.

Tables and sidecars exported on Windows or by older software are often Latin-1 / cp1252 (a
micro sign in ``Fp1 [µV]`` is the one byte ``0xB5``), where eegprep's own files and newer
exports are UTF-8. Reading a Latin-1 file as UTF-8 fails on its first such byte; reading it
with replacement characters garbles its labels.
"""

from __future__ import annotations

import codecs
import os

from eegprep.base.regular_files import open_regular

_CHUNK_BYTES = 1 << 20


def text_encoding(path: str | os.PathLike[str]) -> str:
    """``'utf-8-sig'`` when every byte of the file is valid UTF-8 (with or without a byte-order
    mark), else ``'latin-1'`` (every byte one character, as the older writers' code pages).

    The file is read once, 1 MiB at a time (memory does not grow with it).
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    with open_regular(os.fspath(path), buffering=-1) as fh:
        try:
            while chunk := fh.read(_CHUNK_BYTES):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "latin-1"
    return "utf-8-sig"
