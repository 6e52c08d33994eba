"""Ingest a corpus into a store: discover, skip what is current, run one task per recording,
commit finished recordings from the driver, and report.

Tasks run in this process, on local worker processes when the plan is large enough for them
to pay for themselves (:mod:`eegprep.ingestion.workers`), or on an existing dask.distributed
cluster when
given a scheduler address. The driver alone touches the index; workers only write their own
staging groups.
"""

from __future__ import annotations

import errno
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from eegprep.base.errors import EegprepError, StoreError, StoreExistsError, UsageError
from eegprep.base.limits import DEFAULT_MEMORY_BYTES, Limits
from eegprep.base.redact import redact, redact_all
from eegprep.base.validation import invalid_value
from eegprep.corpus.discover import Discovery, discover, resolve_names
from eegprep.corpus.folders import corpus_dir
from eegprep.corpus.manifest import Manifest, load_manifest
from eegprep.corpus.sources import FileStamp, is_unchanged, recording_files, stamp_files
from eegprep.ingestion.task import IngestResult, IngestTask, run_task
from eegprep.pipeline.recipe import Recipe
from eegprep.store.fs import Location
from eegprep.store.writer import KEEP_REPLACED_SECONDS, StoreWriter

EXIT_OK = 0
EXIT_SOME_FAILED = 3
COMMIT_SECONDS = 2.0  # finished recordings wait at most this long to be listed
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
        encoding, the default, takes the existing store's: :func:`store_encoding`).
    verify_checksums : bool
        Decide what is current by SHA-256 of each source instead of its size and mtime.
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
    keep_replaced: float = KEEP_REPLACED_SECONDS
    file_memory_limit: int = DEFAULT_MEMORY_BYTES
    file_time_limit: float | None = None


@dataclass
class IngestReport:
    """What an ingest did; ``to_dict()`` is saved in the store under ``_eegprep/reports``.

    ``store`` is the store's URL without credentials (:func:`eegprep.base.redact.redact`), and
    ``to_dict()`` redacts every string it holds: the report is shown and saved as it is.
    """

    corpus: str
    store: str
    root: str
    n_files: int = 0
    n_recordings: int = 0
    n_ingested: int = 0
    n_current: int = 0
    failed: list[str] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)
    warnings: dict[str, list[str]] = field(default_factory=dict)
    hours_written: float = 0.0
    seconds: float = 0.0
    details: dict[str, str] = field(default_factory=dict)
    report_path: str = ""

    @property
    def exit_code(self) -> int:
        return EXIT_SOME_FAILED if (self.failed or self.unmatched) else EXIT_OK

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = redact_all(
            {k: v for k, v in self.__dict__.items() if k != "report_path"}
        )
        return out


def ingest(
    corpus: str | os.PathLike[str],
    *,
    out: str | os.PathLike[str],
    src: str | os.PathLike[str] | None = None,
    config: IngestConfig | None = None,
) -> IngestReport:
    """Ingest one corpus into a store (created when missing).

    Parameters
    ----------
    corpus : str or path
        A shipped manifest's name (``"tuh"``) or the path of a manifest TOML file.
    out : str or path
        The store: a local path or an fsspec URL.
    src : str or path, optional
        The corpus folder; when omitted, taken from the user's configuration
        (:mod:`eegprep.corpus.folders`).
    config : IngestConfig, optional
        Workers, limit, recipe, ...
    """
    cfg = config or IngestConfig()
    t0 = time.perf_counter()
    from eegprep.readers.mne_formats import clear_cache

    clear_cache()  # files may have changed in place since an earlier ingest in this process
    check_config(cfg)  # every misuse is refused here, before the store is created or locked
    manifest = apply_overrides(load_manifest(corpus), mains=cfg.mains, include=cfg.include)
    check_globs(manifest.include, f"{manifest.file}: files.include")
    loc = _writable_location(out)
    found = discover(manifest, corpus_dir(manifest.name, src), limit=cfg.limit)
    report = IngestReport(manifest.name, loc.display, str(found.root))
    report.n_files = found.n_files
    report.n_recordings = len(found.items)
    report.unmatched = [f"{rel}: {why}" for rel, why in found.unmatched]
    cfg = store_encoding(cfg, loc)
    try:
        with StoreWriter(out, cfg.recipe, keep_replaced=cfg.keep_replaced) as writer:
            tasks = _plan(manifest, found, writer, cfg, report)
            _run(tasks, writer, cfg, report)
            report.seconds = round(time.perf_counter() - t0, 3)
            report.report_path = writer.loc.shown(writer.save_report(report.to_dict()))
    except EegprepError:
        raise
    except OSError as exc:  # the store's disk or service, not a bug: one line, exit 2
        raise StoreError(_store_os_error(loc, exc)) from exc
    return report


def store_encoding(cfg: IngestConfig, loc: Location) -> IngestConfig:
    """``cfg`` with the existing store's encoding when its recipe's is ``auto`` (the default).

    An ingest that names no encoding extends a store in the encoding it was written with
    (float32 stores of earlier versions included); an explicit, different one is refused by
    the writer ("written with recipe ..."). A new store, or a store whose recipe differs in
    anything else, is left to the writer too.
    """
    from dataclasses import replace

    from eegprep.store.reader import read_root_attrs

    if cfg.recipe.encoding != "auto":
        return cfg
    try:
        attrs = read_root_attrs(loc)
    except (EegprepError, OSError):  # not a store, unreadable: the writer says so
        return cfg
    stored = attrs.get("recipe") if attrs else None
    if attrs is None or not isinstance(stored, dict) or stored.get("encoding") in (None, "auto"):
        return cfg
    try:
        adopted = cfg.recipe.with_(encoding=stored["encoding"])
    except EegprepError:  # an encoding this version does not know: the writer refuses it
        return cfg
    return replace(cfg, recipe=adopted) if adopted.hash() == attrs["recipe_hash"] else cfg


def check_config(cfg: IngestConfig) -> None:
    """Refuse option values that cannot work (:class:`UsageError`, one line each).

    ``workers`` and ``limit`` must be counts, every ``include`` glob relative to the corpus
    root, and ``scheduler`` the address of a dask scheduler that answers within
    :data:`SCHEDULER_TIMEOUT` seconds.
    """
    if cfg.workers is not None and (isinstance(cfg.workers, bool) or cfg.workers < 0):
        raise invalid_value(
            "workers", cfg.workers, expected="0 (this process) or more worker processes"
        )
    if cfg.limit is not None and (isinstance(cfg.limit, bool) or cfg.limit < 1):
        raise invalid_value(
            "limit", cfg.limit,
            expected="a number of files, 1 or more (leave it out for all files)",
        )  # fmt: skip
    if cfg.include is not None:
        check_globs(cfg.include, "--include")
    if cfg.scheduler is not None:
        check_scheduler(cfg.scheduler)


def check_globs(globs: tuple[str, ...], where: str) -> None:
    """Each glob must be non-empty and relative, and stay inside the corpus root (no ``..``)."""
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


def _writable_location(out: str | os.PathLike[str]) -> Location:
    """The store's location, refused when it cannot be a store we may write.

    A regular file is not a store; on a local disk the store folder (or the nearest folder
    above it that exists) must be writable. Nothing is created here.
    """
    if not os.fspath(out).strip():
        raise invalid_value("--out", "", expected="a store path or URL")
    loc = Location.parse(out)
    if not loc.local:
        try:
            info = loc.fs.info(loc.root)
        except FileNotFoundError:
            info = {}  # a new store
        except Exception as exc:  # any refusal of the service (no bucket, a bad name, no access)
            why = " ".join(redact(str(exc) or type(exc).__name__).split())
            raise StoreError(f"{loc.display}: cannot reach the store: {why}") from None
        if info.get("type") == "file":
            raise StoreExistsError(
                f"{loc.display}: a file, not a store (a store is a folder): choose another --out"
            )
        return loc
    existing = loc.root
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        what = "" if existing == loc.root else f" ({existing} is a file)"
        raise StoreExistsError(
            f"{loc.display}: a file, not a store{what}; a store is a folder: choose another --out"
        )
    for folder in (existing, os.path.join(existing, "_eegprep")):
        if os.path.isdir(folder) and not os.access(folder, os.W_OK | os.X_OK):
            raise StoreError(
                f"{loc.display}: cannot write the store: {folder} is read-only for this user "
                "(permission denied); choose another --out or fix its permissions"
            )
    return loc


def _store_os_error(loc: Location, exc: OSError) -> str:
    """One line for an operating-system error met while writing the store."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return (
            f"{loc.display}: no space left on device while writing the store; free some space "
            "and run the same command again (what was committed is kept)"
        )
    why = exc.strerror or redact(str(exc)) or type(exc).__name__
    where = f" ({loc.shown(str(exc.filename))})" if exc.filename else ""
    return f"{loc.display}: cannot write the store: {why}{where}"


def apply_overrides(
    manifest: Manifest, *, mains: float | None = None, include: tuple[str, ...] | None = None
) -> Manifest:
    """The manifest with the command line's ``--mains`` / ``--include`` in place of its own.

    The overrides enter the manifest's hash, so a store knows what it was ingested with.
    """
    import dataclasses

    raw = dict(manifest.raw)
    changes: dict[str, Any] = {}
    if mains is not None:
        if not mains > 0:
            raise invalid_value("mains", mains, expected="50 or 60 (Hz)")
        changes["mains"] = raw["mains"] = float(mains)
    if include:
        changes["include"] = tuple(include)
        raw["files"] = {**raw.get("files", {}), "include": list(include)}
    if changes:
        manifest = dataclasses.replace(manifest, raw=raw, **changes)
    if not manifest.mains:
        raise UsageError(
            f"{manifest.file}: the mains frequency of corpus {manifest.name!r} is unknown "
            "(mains = 0): pass --mains 50 or --mains 60"
        )
    return manifest


def _plan(
    manifest: Manifest,
    found: Discovery,
    writer: StoreWriter,
    cfg: IngestConfig,
    report: IngestReport,
) -> list[IngestTask]:
    existing = writer.existing()
    for problem in writer.index_problems:  # their recordings are listed or ingested again
        report.warnings.setdefault("(store index)", []).append(problem)
    for rid in writer.relisted:
        report.warnings.setdefault("(store index)", []).append(
            f"{rid}: listed again from its complete group (the index had lost it)"
        )
    mine = {rid: r for rid, r in existing.items() if r.get("corpus") == manifest.name}
    root = str(found.root)
    tasks = []
    for item in resolve_names(found.items, mine):
        try:
            stamps = stamp_files(root, recording_files(manifest, root, item))
        except OSError as exc:
            report.failed.append(f"{item.relpath}: cannot stat: {exc.strerror}")
            continue
        rid = f"{manifest.name}/{item.name}"
        record = existing.get(rid)
        if _is_current(record, root, stamps, manifest, cfg):
            damage = _damage(writer, record) if cfg.repair and record else []
            if not damage:
                report.n_current += 1
                continue
            report.warnings.setdefault(item.relpath, []).extend(f"repaired: {d}" for d in damage)
        group = writer.next_group(manifest.name, item.name)
        staging = writer.staging_path() if writer.loc.local else group
        main = stamps[0]
        tasks.append(
            IngestTask(
                manifest,
                root,
                item,
                writer.loc.url,
                staging,
                cfg.recipe,
                (main.size, main.mtime_ns),
                group_path=group,
                sources=stamps,
                limits=Limits(memory_bytes=cfg.file_memory_limit, seconds=cfg.file_time_limit),
            )
        )
    return tasks


def _damage(writer: StoreWriter, record: dict[str, Any]) -> list[str]:
    """What ``eegprep validate`` finds wrong with a listed recording (``--repair``)."""
    from eegprep.store.validate import recording_problems

    return recording_problems(writer.loc, record)


def _is_current(
    record: dict[str, Any] | None,
    root: str,
    stamps: tuple[FileStamp, ...],
    manifest: Manifest,
    cfg: IngestConfig,
) -> bool:
    """Listed with the same recipe and manifest, from exactly the same files (size and mtime,
    or SHA-256 with ``verify_checksums``)."""
    if record is None:
        return False
    if record.get("recipe_hash") != cfg.recipe.hash():
        return False
    if record.get("manifest_hash") != manifest.hash():
        return False
    return is_unchanged(record, root, stamps, checksums=cfg.verify_checksums)


def _run(
    tasks: list[IngestTask], writer: StoreWriter, cfg: IngestConfig, report: IngestReport
) -> None:
    pending: list[tuple[str, dict[str, Any]]] = []
    last_commit = time.monotonic()
    bar = _progress(len(tasks), cfg.progress, f"ingest {report.corpus}")
    try:
        for res in _results(tasks, cfg):
            bar.update(1)
            if res.warnings:
                report.warnings[res.relpath] = res.warnings
            if res.record is None:
                report.failed.append(res.error or f"{res.relpath}: failed")
                if res.detail:
                    report.details[res.relpath] = res.detail
                writer.loc.remove(res.staging)  # a staging name or an unlisted new version
                continue
            pending.append((res.staging, res.record))
            report.n_ingested += 1
            report.hours_written += res.record["n_samples"] / res.record["sfreq"] / 3600.0
            if len(pending) >= cfg.commit_every or time.monotonic() - last_commit > COMMIT_SECONDS:
                _commit(writer, pending, report)
                pending, last_commit = [], time.monotonic()
    finally:
        _commit(writer, pending, report)  # also on Ctrl-C: what finished is kept
        bar.close()
    report.hours_written = round(report.hours_written, 4)


def _commit(
    writer: StoreWriter, pending: list[tuple[str, dict[str, Any]]], report: IngestReport
) -> None:
    """Commit finished recordings; one that cannot be moved into place fails alone."""
    records = {str(rec["id"]): rec for _, rec in pending}
    for rid, problem in writer.commit(pending):
        rec = records[rid]
        report.failed.append(f"{rec.get('source', rid)}: {problem}")
        report.n_ingested -= 1
        report.hours_written -= rec["n_samples"] / rec["sfreq"] / 3600.0


def _results(tasks: list[IngestTask], cfg: IngestConfig) -> Iterator[IngestResult]:
    """Run ``tasks``: on the ``--scheduler``'s cluster, on a local pool when one pays for
    itself (:func:`eegprep.ingestion.workers.pool_size`), else in this process."""
    from eegprep.ingestion import workers

    if not tasks:
        return
    if cfg.scheduler is not None:
        yield from _distributed(tasks, cfg)
        return
    n_workers = workers.pool_size(cfg.workers, tasks)
    if n_workers:
        yield from workers.run_pool(tasks, n_workers)
        return
    yield from (run_task(t) for t in tasks)


def _distributed(tasks: list[IngestTask], cfg: IngestConfig) -> Iterator[IngestResult]:
    """Run ``tasks`` on the existing dask.distributed cluster at ``cfg.scheduler``."""
    import logging

    from distributed import Client, as_completed

    assert cfg.scheduler is not None
    logging.getLogger("distributed").setLevel(logging.ERROR)
    try:
        client = Client(cfg.scheduler, timeout=SCHEDULER_TIMEOUT)
    except (OSError, ValueError) as exc:
        raise UsageError(
            f"--scheduler {redact(cfg.scheduler)}: cannot connect: {redact(str(exc))}"
        ) from None
    try:
        futures = client.map(run_task, tasks, pure=False, key=[f"ingest-{t.rid}" for t in tasks])
        for fut in as_completed(futures):
            yield fut.result()
            fut.release()
    finally:
        client.close()


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def _progress(total: int, enabled: bool, desc: str) -> Any:
    import sys

    if not enabled or not sys.stderr.isatty():
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="rec", leave=False)
