"""Writing a local file so that readers see the old bytes or the new ones, never a part.

Every local file eegprep and labram write whole (checkpoints, embeddings' progress files,
predictions, store objects on a local disk) goes through :func:`replaced_atomically`.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def replaced_atomically(path: str | os.PathLike[str]) -> Iterator[Path]:
    """A temporary path beside ``path`` to write; renamed over ``path`` when the block ends.

    The folder is created if needed. If the block raises (or the process is interrupted), the
    temporary file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
