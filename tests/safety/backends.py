"""One test store on the two kinds of backend: a local folder and fsspec's ``memory://``."""

from __future__ import annotations

import shutil
from pathlib import Path


class Backend:
    """A test store on a local disk (``kind`` "local") or copied into fsspec's ``memory://``
    (``kind`` "memory", under ``/{name}-memory/``): its url, and the reading, writing and
    deleting of one of its objects by its path from the store root."""

    def __init__(self, store: Path, kind: str, name: str) -> None:
        import fsspec

        self.kind, self.local = kind, store
        self.fs = fsspec.filesystem("memory")
        self.base = f"/{name}-{kind}/s.zarr"
        self.url = str(store) if kind == "local" else f"memory://{self.base}"
        if kind == "memory":
            for p in sorted(store.rglob("*")):
                if p.is_file() and p.name != "lock.flock":
                    self.fs.pipe_file(
                        f"{self.base}/{p.relative_to(store).as_posix()}", p.read_bytes()
                    )

    def read(self, rel: str) -> bytes:
        if self.kind == "local":
            return (self.local / rel).read_bytes()
        return bytes(self.fs.cat_file(f"{self.base}/{rel}"))

    def write(self, rel: str, blob: bytes) -> None:
        if self.kind == "local":
            (self.local / rel).write_bytes(blob)
        else:
            self.fs.pipe_file(f"{self.base}/{rel}", blob)

    def delete(self, rel: str) -> None:
        if self.kind == "local":
            path = self.local / rel
            shutil.rmtree(path) if path.is_dir() else path.unlink()
        else:
            self.fs.rm(f"{self.base}/{rel}", recursive=True)

    def close(self) -> None:
        if self.kind == "memory" and self.fs.exists(self.base):
            self.fs.rm(self.base, recursive=True)
