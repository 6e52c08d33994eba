"""The options of an ingest, checked before the store is created or locked.

Counts and globs must make sense, a ``--scheduler`` must be a dask scheduler that answers, the
store's location must be one we may write, and the command line's ``--mains`` / ``--include``
take the manifest's place; an ``auto`` encoding takes the existing store's. The driver
(:mod:`eegprep.ingestion.driver`) calls these before it creates or locks the store; every misuse
they find is one line (exit 2).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from eegprep.base.bounds import check_fields
from eegprep.base.cores import usable_cores as n_cores
from eegprep.base.errors import EegprepError, StoreError, StoreExistsError, UsageError
from eegprep.base.files import as_text, enclosing_store
from eegprep.base.limits import DEFAULT_MEMORY_BYTES
from eegprep.base.path_limits import shown_path
from eegprep.base.redact import redact
from eegprep.base.regular_files import not_a_folder
from eegprep.base.validation import check_kinds, invalid_value
from eegprep.corpus.manifest import Manifest, too_many_patterns
from eegprep.pipeline.recipe import Recipe
from eegprep.store.fs import Location
from eegprep.store.writer import KEEP_REPLACED_SECONDS

SCHEDULER_TIMEOUT = 5.0  # seconds to reach a --scheduler before giving up (one line, exit 2)
SCHEDULER_SCHEMES = ("tcp", "tls", "ws", "wss", "ucx")  # dask comm schemes with a host:port


@dataclass(frozen=True, kw_only=True)
class IngestConfig:
    """Options of one ingest.

    Attributes
    ----------
    workers : int or None
        Most local worker processes; ``None``: one per core; ``0``: run in this process. A pool
        starts only when the plan is large enough to gain from it
        (:mod:`eegprep.ingestion.workers`).
    scheduler : str or None
        Address of an existing dask.distributed scheduler (``tcp://host:8786``); overrides
        ``workers``.
    limit : int or None
        Ingest at most this many files (the first in sorted order): quick trials.
    recipe : Recipe
        Preprocessing recipe; must equal the store's when the store exists (an ``auto``
        encoding, the default, takes the existing store's:
        :func:`~eegprep.ingestion.options.store_encoding`).
    verify_checksums : bool
        Compare every file's content hash (BLAKE3) with its record's; otherwise only files
        whose size, mtime, ctime or inode changed since they were last hashed are read
        (:mod:`eegprep.ingestion.seen_files`).
    commit_every : int
        Finished recordings per index commit (one small object each time); a commit also
        happens when :data:`COMMIT_SECONDS` have passed since the last.
    progress : bool
        Show a progress bar (only on a terminal).
    mains : float or None
        Mains frequency (Hz) that overrides the manifest's (``--mains``); required for a
        manifest whose ``mains`` is 0 (unknown, e.g. the generic ``folder`` corpus).
    include : tuple of str or None
        Globs (relative to the corpus root) that replace the manifest's ``files.include``
        (``--include``).
    repair : bool
        Also re-ingest listed, current recordings in which ``eegprep validate`` finds damage
        (``--repair``); reads every byte of the corpus's recordings.
    prune : bool
        Remove from the store the corpus's listed recordings whose source file is no longer
        under the corpus folder (renamed, moved or deleted: ``--prune``); without it they are
        kept and named in a warning.
    prune_max : float
        The largest share (0 to 1) of the corpus's listed recordings that ``prune`` removes at
        once (``--prune-max``, default 0.5); beyond it nothing is removed and a note says why.
    keep_replaced : float
        Seconds a replaced recording version stays in the store for readers that opened it
        before the replacement (``--keep-replaced``); a later ingest deletes it.
    file_memory_limit : int
        Bytes a reader or the preprocessing may allocate at once for one file
        (``--file-memory-limit``; :mod:`eegprep.base.limits`): a file that needs more is refused.
    file_time_limit : float or None
        Seconds one file's ingest may take (``--file-time-limit``); ``None``: no limit.
    """

    workers: int | None = None
    scheduler: str | None = None
    limit: int | None = None
    recipe: Recipe = field(default_factory=Recipe)
    verify_checksums: bool = False
    commit_every: int = 16
    progress: bool = True
    mains: float | None = None
    include: tuple[str, ...] | None = None
    repair: bool = False
    prune: bool = False
    prune_max: float = 0.5
    keep_replaced: float = KEEP_REPLACED_SECONDS
    file_memory_limit: int = DEFAULT_MEMORY_BYTES
    file_time_limit: float | None = None

    def __post_init__(self) -> None:
        # each count and amount in the range of its option (eegprep/base/bounds.py), when the
        # config is built: a notebook's commit_every=0, limit=True or keep_replaced=nan was
        # taken, and refused (if at all) only once ingest() ran
        check_fields(self, NUMBERS)
        check_kinds(self)  # (progress="no" was true, a recipe of another class failed late)
        mains = self.mains
        if mains is not None and (isinstance(mains, bool) or mains not in (50, 60)):
            raise invalid_value("mains", mains, expected="50 or 60 (Hz)")  # (inf, nan and 55)


NUMBERS = (
    "workers", "limit", "commit_every", "prune_max", "keep_replaced", "file_memory_limit",
    "file_time_limit",
)  # fmt: skip
"""The numeric fields of :class:`IngestConfig`, each bounded by its option's entry of
:data:`eegprep.base.bounds.BOUNDS`."""


WORKERS_PER_CORE = 4
"""The most ``--workers`` per core this machine has: ingest is CPU-bound, so more processes
than cores only compete for them (a few more help a store on a slow network)."""


def check_config(cfg: IngestConfig) -> None:
    """Refuse option values that cannot work (:class:`UsageError`, one line each).

    The numbers were checked when ``cfg`` was built (:class:`IngestConfig`); ``workers`` must
    be at most :data:`WORKERS_PER_CORE` per core, every ``include`` glob relative to the corpus
    root, and ``scheduler`` the address of a dask scheduler that answers within
    :data:`SCHEDULER_TIMEOUT` seconds.
    """
    most = WORKERS_PER_CORE * n_cores()
    if cfg.workers is not None and cfg.workers > most:  # (10^5 forked that many processes)
        raise invalid_value(
            "workers", cfg.workers,
            expected=f"at most {WORKERS_PER_CORE} per core ({most} here): processes beyond "
            "the cores only compete for them",
        )  # fmt: skip
    if cfg.include is not None:
        check_globs(cfg.include, "--include")
    if cfg.scheduler is not None:
        check_scheduler(cfg.scheduler)


def check_globs(globs: tuple[str, ...], where: str) -> None:
    """Each glob must be non-empty and relative, and stay inside the corpus root (no ``..``);
    there are at most :data:`~eegprep.corpus.manifest.MAX_PATTERNS`."""
    problem = too_many_patterns(where, len(globs))
    if problem:
        raise UsageError(problem)
    for glob in globs:
        parts = glob.replace("\\", "/").split("/")
        if not glob.strip():
            problem = "an empty pattern matches nothing"
        elif glob.startswith(("/", "\\", "~")) or (len(glob) > 1 and glob[1] == ":"):
            problem = "an absolute pattern; give it relative to the corpus folder (--src)"
        elif ".." in parts:
            problem = "'..' leaves the corpus folder; give --src the folder that holds the files"
        else:
            continue
        raise UsageError(f"Invalid glob {glob!r} in {where}: {problem}.")


def check_scheduler(address: str) -> None:
    """``address`` must be ``[SCHEME://]HOST:PORT`` of a dask scheduler that answers.

    The scheduler is asked who it is and must say so within :data:`SCHEDULER_TIMEOUT`
    seconds, so a wrong or unreachable address fails in seconds, before the store is touched.
    """
    from urllib.parse import urlsplit

    shown = redact(address)
    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    try:
        host, port = parts.hostname, parts.port
    except ValueError:  # a port that is not a number in 0-65535
        host = port = None
    if parts.scheme not in SCHEDULER_SCHEMES or not host or not port or parts.path.strip("/"):
        raise invalid_value(
            "--scheduler", shown,
            expected=f"SCHEME://HOST:PORT (SCHEME one of {', '.join(SCHEDULER_SCHEMES)}; "
            "e.g. tcp://10.0.0.5:8786)",
        )  # fmt: skip
    try:
        kind = _scheduler_identity(address).get("type")
        why = "" if kind == "Scheduler" else f"it answers as {kind!r}, not as a dask scheduler"
    except OSError:  # refused or timed out
        why = f"nothing answered within {SCHEDULER_TIMEOUT:g} s"
    except Exception:  # something answered, but not in dask's protocol
        why = "what answers there does not speak dask's protocol"
    if why:
        raise UsageError(
            f"--scheduler {shown}: no dask scheduler there ({why}): start one "
            "(`dask scheduler`) or check the address"
        )


def _scheduler_identity(address: str) -> dict[str, Any]:
    """What the dask server at ``address`` says it is (its ``identity``); asked from a thread
    of its own, so that a caller's running event loop (Jupyter) does not matter."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from distributed.core import rpc

    async def ask() -> dict[str, Any]:
        async with rpc(address, timeout=SCHEDULER_TIMEOUT) as remote:
            answer = await asyncio.wait_for(remote.identity(), SCHEDULER_TIMEOUT)
        return dict(answer) if isinstance(answer, dict) else {}

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, ask()).result()


def writable_location(out: str | os.PathLike[str]) -> Location:
    """The store's location, refused when it cannot be a store we may write.

    A regular file is not a store; on a local disk the store folder (or the nearest folder
    above it that exists) must be writable. Nothing is created here.
    """
    if not os.fspath(out).strip():
        raise invalid_value("--out", "", expected="a store path or URL")
    loc = Location.parse(out)
    if loc.zipped:
        raise StoreError(
            f"{loc.named}: a zip file, which eegprep reads but never writes: unzip it to a "
            "folder and ingest into that, or choose another --out"
        )
    if not loc.local:
        _check_remote_place(loc)
        return loc
    outer = enclosing_store(os.path.dirname(os.path.realpath(loc.root)))
    if outer is not None:
        raise UsageError(
            f"--out {loc.named}: inside the eegprep store {as_text(str(outer))}, whose "
            "ingests would take it for damage or overwrite it; a store goes to a folder of its "
            "own, outside every other store: pick another --out"
        )
    broken = not_a_folder(loc.root)
    if broken is not None and not os.path.exists(loc.root):  # mkdir would say "File exists"
        raise StoreExistsError(f"{loc.named}: {broken}, not a store: fix the link or choose "
                               "another --out")  # fmt: skip
    existing = loc.root
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    _check_path_room(loc, existing)
    kind = not_a_folder(existing)
    if kind is not None:
        what = "" if existing == loc.root else f" ({shown_path(existing)} is {kind})"
        head = kind if existing == loc.root else "a file"
        raise StoreExistsError(
            f"{loc.named}: {head}, not a store{what}; a store is a folder: choose another --out"
        )
    _check_writable(loc, existing)
    return loc


def _check_remote_place(loc: Location) -> None:
    """Refuse a remote ``--out`` that is a file (a missing one is a new store)."""
    try:
        with loc.calling("check", listing=True):  # (no bucket, a bad name, no access)
            info = loc.fs.info(loc.root)
    except FileNotFoundError:
        info = {}  # a new store
    if info.get("type") == "file":
        raise StoreExistsError(
            f"{loc.named}: a file, not a store (a store is a folder): choose another --out"
        )


def _check_writable(loc: Location, existing: str) -> None:
    """Refuse a local store whose nearest existing folder ``existing`` (or its ``_eegprep``)
    is on a read-only mount or not writable by this user."""
    for folder in (existing, os.path.join(existing, "_eegprep")):
        if not os.path.isdir(folder):
            continue
        if _read_only_mount(folder):  # the mount's own flag, whatever access() makes of it
            raise StoreError(
                f"{loc.named}: cannot write the store: {shown_path(folder)} is on a read-only file "
                "system (Read-only file system); choose another --out or mount it writable"
            )
        if not os.access(folder, os.W_OK | os.X_OK):
            raise StoreError(
                f"{loc.named}: cannot write the store: {shown_path(folder)} is read-only for this "
                "user (permission denied); choose another --out or fix its permissions"
            )


def _read_only_mount(folder: str) -> bool:
    """Whether ``folder`` lies on a file system mounted read-only (not a permission: no
    ``chmod`` helps)."""
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):  # no statvfs (Windows)
        return False


STORE_PATH_ROOM = 320
"""Bytes the store's own objects add below its folder at most: ``recordings/{corpus, <= 64}/
{name, <= 128 + ~hash}@{version}/channel/zarr.json`` and a temporary name's suffix."""


def _check_path_room(loc: Location, existing: str) -> None:
    """Refuse a local ``--out`` so long that the store's deepest objects would pass the file
    system's path limit (4096 bytes on Linux): the ingest would make the store's skeleton and
    then fail on every recording and on its report."""
    try:
        limit = os.pathconf(existing, "PC_PATH_MAX")
    except (OSError, ValueError):
        limit = 4096
    n = len(os.fsencode(os.path.abspath(loc.root)))
    if n + STORE_PATH_ROOM > limit:
        raise UsageError(
            f"--out {as_text(loc.display)}: a path of {n} bytes; the store's own files add up "
            f"to {STORE_PATH_ROOM} more, past this file system's limit of {limit} bytes: pick a "
            "shorter --out"
        )


def apply_overrides(
    manifest: Manifest, *, mains: float | None = None, include: tuple[str, ...] | None = None
) -> Manifest:
    """The manifest with the command line's ``--mains`` / ``--include`` in place of its own.

    ``--mains`` enters the manifest's hash (it shapes the samples: the notch), so a recording
    ingested under another is ingested again; ``--include`` does not (it only chooses files:
    :data:`~eegprep.corpus.manifest.SELECTING_KEYS`).
    """
    import dataclasses

    raw = dict(manifest.raw)
    changes: dict[str, Any] = {}
    if mains is not None:
        if isinstance(mains, bool) or mains not in (50, 60):  # (inf, nan and 55 too)
            raise invalid_value("mains", mains, expected="50 or 60 (Hz)")
        changes["mains"] = raw["mains"] = float(mains)
    if include:
        changes["include"] = tuple(include)
        raw["files"] = {**raw.get("files", {}), "include": list(include)}
    if changes:
        manifest = dataclasses.replace(manifest, raw=raw, **changes)
    if not manifest.mains:
        raise UsageError(
            f"{shown_path(manifest.file)}: the mains frequency of corpus {manifest.name!r} is "
            "unknown (mains = 0): pass --mains 50 or --mains 60"
        )
    return manifest


def store_encoding(cfg: IngestConfig, loc: Location) -> IngestConfig:
    """``cfg`` with the existing store's encoding when its recipe's is ``auto`` (the default).

    An ingest that names no encoding extends a store in the encoding it was written with
    (float32 stores of earlier versions included); an explicit, different one is refused by
    the writer ("written with recipe ..."). A new store, or a store whose recipe differs in
    anything else, is left to the writer too.
    """
    from dataclasses import replace

    from eegprep.store.root_attrs import read_root_attrs

    if cfg.recipe.encoding != "auto":
        return cfg
    try:
        attrs = read_root_attrs(loc)
    except (EegprepError, OSError):  # not a store, unreadable: the writer says so
        return _stated_encoding(cfg, loc) if cfg.repair else cfg
    stored = attrs.get("recipe") if attrs else None
    if attrs is None or not isinstance(stored, dict) or stored.get("encoding") in (None, "auto"):
        return cfg
    try:
        adopted = cfg.recipe.with_(encoding=stored["encoding"])
    except EegprepError:  # an encoding this version does not know: the writer refuses it
        return cfg
    return replace(cfg, recipe=adopted) if adopted.hash() == attrs["recipe_hash"] else cfg


def _stated_encoding(cfg: IngestConfig, loc: Location) -> IngestConfig:
    """``cfg`` with the encoding whose recipe hash the store's records state, for a repair of
    a store whose root cannot be read (:mod:`eegprep.store.root_repair` writes it again)."""
    from dataclasses import replace

    from eegprep.store.root_repair import stated_recipe

    try:
        found = stated_recipe(loc, cfg.recipe)
    except (EegprepError, OSError):  # (an index that cannot be read: the writer says so)
        return cfg
    return cfg if found is None else replace(cfg, recipe=found)


def check_apart(loc: Location, folder: os.PathLike[str] | str) -> None:
    """Refuse a local store that is the corpus folder (its root, which may be a level below or
    above ``--src``: :func:`eegprep.corpus.discover.resolve_root`), lies inside it, or holds it.

    A store inside its corpus is listed by every later ingest of that corpus (its chunk files
    walked, and read as sources by a manifest whose globs match them); a corpus inside its
    store mixes source files with the store's objects. Nothing is written before this check.
    """
    if not loc.local:
        return
    from pathlib import Path

    store = Path(os.path.realpath(loc.root))
    src = Path(os.path.realpath(folder))
    if store == src or src in store.parents:
        where = "is the corpus folder" if store == src else "lies inside the corpus folder"
    elif store in src.parents:
        where = "holds the corpus folder"
    else:
        return
    raise UsageError(
        f"--out {loc.named}: the store {where} {shown_path(folder)}: keep the store and the corpus "
        "apart (pick an --out outside the corpus folder)"
    )
