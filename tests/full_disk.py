"""A folder on a file system of a given size, or a read-only one, for the tests of what every
command does when the place it writes to is full or refuses writes.

:func:`small_disk` gives a :class:`Disk`: as root, where mounting works, a real ``tmpfs`` of
that size mounted on a fresh folder under the test's ``tmp_path`` (remounted read-only, or
larger to "free space", as the test asks; always unmounted on the way out, and at exit should
the test be interrupted); anywhere else an emulation in this process, in which every write
under the folder that would take its contents past the size fails with ``ENOSPC`` and, when
read-only, every write, folder made, rename or removal fails with ``EROFS``. The emulation
patches the lowest writes eegprep and labram make (``os.open``/``os.write``, ``open`` in a
writing mode, ``os.replace``/``os.rename``, ``os.mkdir``, ``os.unlink``): a file written whole
through :func:`eegprep.base.files.replaced_atomically` is refused at its rename, its temporary
file removed, as a full disk refuses one of its writes. ``Disk.real`` says which it is, and a
test that needs the real one (worker processes, safetensors' own writer) says so in its skip
reason, never silently.
"""

from __future__ import annotations

import atexit
import builtins
import contextlib
import errno
import io
import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

PAGE = 4096


def can_mount() -> bool:
    """Whether this process may mount a tmpfs (root, and the kernel lets it; ``EMULATE_DISK=1``
    in the environment tests the emulation instead)."""
    if os.geteuid() != 0 or os.environ.get("EMULATE_DISK") == "1":
        return False
    probe = Path(f"/tmp/full-disk-probe-{uuid.uuid4().hex[:8]}")
    probe.mkdir()
    try:
        ok = _mount(probe, PAGE * 4)
        if ok:
            _umount(probe)
        return ok
    finally:
        with contextlib.suppress(OSError):
            probe.rmdir()


def _mount(path: Path, size: int, inodes: int | None = None) -> bool:
    options = f"size={size}" + (f",nr_inodes={inodes}" if inodes else "")
    cmd = ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)]
    return subprocess.run(cmd, capture_output=True).returncode == 0


def _umount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], capture_output=True)


def _remount(path: Path, options: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{options}", str(path)], check=True)


class Disk:
    """A folder on a small file system (:func:`small_disk`)."""

    def __init__(self, path: Path, size: int, real: bool, inodes: int | None = None) -> None:
        self.path = path
        self.size = size
        self.inodes = inodes  # the most files and folders it holds (its root counts one)
        self.real = real
        self.read_only = False

    def resize(self, size: int) -> None:
        """Make the file system ``size`` bytes (more: space freed)."""
        self.size = size
        if self.real:
            _remount(self.path, f"size={size}")

    def set_read_only(self, read_only: bool = True) -> None:
        """Refuse every write (``EROFS``), or take them again."""
        self.read_only = read_only
        if self.real:
            _remount(self.path, "ro" if read_only else "rw")

    def n_entries(self) -> int:
        """Files and folders on it, its root included (what ``inodes`` bounds)."""
        return 1 + sum(len(dirs) + len(files) for _, dirs, files in os.walk(self.path))

    def used(self) -> int:
        """The bytes of every file under the folder, each rounded up to a page as tmpfs counts."""
        total = 0
        for folder, _, files in os.walk(self.path):
            for name in files:
                with contextlib.suppress(OSError):
                    size = os.lstat(os.path.join(folder, name)).st_size
                    total += -(-size // PAGE) * PAGE
        return total


@contextlib.contextmanager
def small_disk(
    tmp_path: Path, size: int, *, read_only: bool = False, inodes: int | None = None
) -> Iterator[Disk]:
    """A folder on a file system of ``size`` bytes (read-only when asked; ``inodes``: holding
    at most that many files and folders, its own root included) under ``tmp_path``."""
    path = Path(tmp_path) / f"disk-{uuid.uuid4().hex[:8]}"
    path.mkdir()
    real = can_mount() and _mount(path, size, inodes)
    disk = Disk(path, size, real, inodes)
    if real:
        unmount = atexit.register(_umount, path)  # an interrupted test leaves no mount behind
        try:
            if read_only:
                disk.set_read_only()
            yield disk
        finally:
            _umount(path)
            atexit.unregister(unmount)
        return
    with _emulated(disk):
        if read_only:
            disk.set_read_only()
        yield disk


def _inside(disk: Disk, path: Any) -> bool:
    try:
        full = os.path.abspath(os.fsdecode(path))
    except TypeError:  # a file descriptor
        return False
    return full == str(disk.path) or full.startswith(str(disk.path) + os.sep)


def _refuse(code: int, path: Any) -> OSError:
    return OSError(code, os.strerror(code), os.fsdecode(path))


@contextlib.contextmanager
def _emulated(disk: Disk) -> Iterator[None]:
    """Patch the lowest writes so that ``disk.path`` behaves as a small (or read-only) disk."""
    real_open, real_os_open, real_write = builtins.open, os.open, os.write
    real_replace, real_rename, real_mkdir, real_unlink = os.replace, os.rename, os.mkdir, os.unlink
    tracked: set[int] = set()
    writing = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND

    def check_ro(path: Any) -> None:
        if disk.read_only and _inside(disk, path):
            raise _refuse(errno.EROFS, path)

    def check_inode(path: Any) -> None:
        new = _inside(disk, path) and not os.path.lexists(os.fsdecode(path))
        if new and disk.inodes is not None and disk.n_entries() >= disk.inodes:
            raise _refuse(errno.ENOSPC, path)

    def fake_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if any(c in mode for c in "wax+"):
            check_ro(file)
            check_inode(file)
            if _inside(disk, file) and disk.used() >= disk.size:
                raise _refuse(errno.ENOSPC, file)
        return real_open(file, mode, *args, **kwargs)

    def fake_os_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if flags & writing:
            check_ro(path)
            check_inode(path)
        fd = real_os_open(path, flags, *args, **kwargs)
        if flags & writing and _inside(disk, path):
            tracked.add(fd)
        return fd

    def fake_write(fd: int, data: Any) -> int:
        if fd in tracked and disk.used() + len(memoryview(data)) > disk.size:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, data)

    def fake_replace(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
        check_ro(dst)
        if _inside(disk, dst) and disk.used() > disk.size:
            with contextlib.suppress(OSError):
                if os.path.isfile(src):
                    real_unlink(src)  # the bytes that did not fit
            raise _refuse(errno.ENOSPC, dst)
        real_replace(src, dst, *args, **kwargs)

    def fake_rename(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
        check_ro(dst)
        real_rename(src, dst, *args, **kwargs)

    def fake_mkdir(path: Any, *args: Any, **kwargs: Any) -> None:
        check_ro(path)
        check_inode(path)
        real_mkdir(path, *args, **kwargs)

    def fake_unlink(path: Any, *args: Any, **kwargs: Any) -> None:
        check_ro(path)
        real_unlink(path, *args, **kwargs)

    patches = [
        (builtins, "open", fake_open),
        (io, "open", fake_open),
        (os, "open", fake_os_open),
        (os, "write", fake_write),
        (os, "replace", fake_replace),
        (os, "rename", fake_rename),
        (os, "mkdir", fake_mkdir),
        (os, "unlink", fake_unlink),
    ]
    saved = [(mod, name, getattr(mod, name)) for mod, name, _ in patches]
    for mod, name, fake in patches:
        setattr(mod, name, fake)
    try:
        yield
    finally:
        for mod, name, original in saved:
            setattr(mod, name, original)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (relative name -> bytes): what a failed command must leave."""
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(Path(folder).rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def temporaries(folder: Path) -> list[str]:
    """The temporary files left anywhere under ``folder``: ours (``NAME.tmp-XXXXXXXX``),
    zarr's (``NAME.HEX.partial``) and safetensors' (``.tmpXXXXXX``)."""
    return [
        str(p)
        for p in Path(folder).rglob("*")
        if ".tmp-" in p.name or p.name.endswith(".partial") or p.name.startswith(".tmp")
    ]


def sizes(need: int, n: int = 20) -> list[int]:
    """About ``n`` file-system sizes from one page up to just under ``need`` bytes (what the job
    takes), closer together near the top, where the last and largest writes fail."""
    top = max(PAGE, need - PAGE)
    out = {PAGE * k for k in (1, 2, 3)}  # the first writes: a lock, a folder, a config
    out |= {need // PAGE * PAGE - PAGE * k for k in (1, 2, 3)}  # the last: a chunk, progress
    for i in range(n):
        out.add(max(PAGE, int(top * (i + 1) / n) // PAGE * PAGE))
    return sorted(s for s in out if PAGE <= s < need)


def used_by(folder: Path) -> int:
    """The bytes ``folder``'s files take on a tmpfs (each rounded up to a page)."""
    return sum(-(-p.stat().st_size // PAGE) * PAGE for p in Path(folder).rglob("*") if p.is_file())
