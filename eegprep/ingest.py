"""Ingest a corpus into a store: discover, skip what is current, run one task per recording,
commit finished recordings from the driver, and report.

Tasks run on dask.distributed: a local cluster of worker processes by default, an existing
cluster when given a scheduler address, or in this process (``workers=0``, for debugging). The
driver alone touches the index; workers only write their own staging groups.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eegprep.config import corpus_dir
from eegprep.discover import Discovery, discover
from eegprep.errors import UsageError
from eegprep.manifest import Manifest, load_manifest
from eegprep.recipe import Recipe
from eegprep.recording import Task, TaskResult, run_task
from eegprep.store_write import StoreWriter

EXIT_OK = 0
EXIT_SOME_FAILED = 3
COMMIT_SECONDS = 2.0  # finished recordings wait at most this long to be listed


@dataclass(frozen=True, kw_only=True)
class IngestConfig:
    """Options of one ingest.

    Attributes
    ----------
    workers : int or None
        Worker processes of the local cluster; ``None``: one per core; ``0``: run in this process.
    scheduler : str or None
        Address of an existing dask.distributed scheduler (``tcp://host:8786``); overrides
        ``workers``.
    limit : int or None
        Ingest at most this many files (the first in sorted order): quick trials.
    recipe : Recipe
        Preprocessing recipe; must equal the store's when the store exists.
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


@dataclass
class IngestReport:
    """What an ingest did; ``to_dict()`` is saved in the store under ``_eegprep/reports``."""

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
        return {k: v for k, v in self.__dict__.items() if k != "report_path"}


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
        (:mod:`eegprep.config`).
    config : IngestConfig, optional
        Workers, limit, recipe, ...
    """
    cfg = config or IngestConfig()
    t0 = time.perf_counter()
    manifest = apply_overrides(load_manifest(corpus), mains=cfg.mains, include=cfg.include)
    found = discover(manifest, corpus_dir(manifest.name, src), limit=cfg.limit)
    report = IngestReport(manifest.name, os.fspath(out), str(found.root))
    report.n_files = found.n_files
    report.n_recordings = len(found.items)
    report.unmatched = [f"{rel}: {why}" for rel, why in found.unmatched]
    with StoreWriter(out, cfg.recipe) as writer:
        tasks = _plan(manifest, found, writer, cfg, report)
        _run(tasks, writer, cfg, report)
        report.seconds = round(time.perf_counter() - t0, 3)
        report.report_path = writer.save_report(report.to_dict())
    return report


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
            raise UsageError(f"Invalid value for `mains`: expected 50 or 60 (Hz); got {mains!r}.")
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
) -> list[Task]:
    existing = writer.existing()
    tasks = []
    for item in found.items:
        path = found.root / item.relpath
        try:
            st = path.stat()
        except OSError as exc:
            report.failed.append(f"{item.relpath}: cannot stat: {exc.strerror}")
            continue
        stat = (st.st_size, st.st_mtime_ns)
        rid = f"{manifest.name}/{item.name}"
        if _is_current(existing.get(rid), stat, path, manifest, cfg):
            report.n_current += 1
            continue
        staging = writer.staging_path() if writer.loc.local else f"recordings/{rid}"
        tasks.append(
            Task(manifest, str(found.root), item, writer.loc.url, staging, cfg.recipe, stat)
        )
    return tasks


def _is_current(
    record: dict[str, Any] | None,
    stat: tuple[int, int],
    path: Path,
    manifest: Manifest,
    cfg: IngestConfig,
) -> bool:
    if record is None:
        return False
    if record.get("recipe_hash") != cfg.recipe.hash():
        return False
    if record.get("manifest_hash") != manifest.hash():
        return False
    if cfg.verify_checksums:
        from eegprep.recording import file_sha256

        return bool(record.get("source_sha256") == file_sha256(str(path)))
    return (record.get("source_size"), record.get("source_mtime_ns")) == stat


def _run(tasks: list[Task], writer: StoreWriter, cfg: IngestConfig, report: IngestReport) -> None:
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
                if res.staging.startswith("_eegprep/"):
                    writer.loc.remove(res.staging)
                continue
            pending.append((res.staging, res.record))
            report.n_ingested += 1
            report.hours_written += res.record["n_samples"] / res.record["sfreq"] / 3600.0
            if len(pending) >= cfg.commit_every or time.monotonic() - last_commit > COMMIT_SECONDS:
                writer.commit(pending)
                pending, last_commit = [], time.monotonic()
    finally:
        writer.commit(pending)  # also on Ctrl-C: what finished is kept
        bar.close()
    report.hours_written = round(report.hours_written, 4)


def _results(tasks: list[Task], cfg: IngestConfig) -> Iterator[TaskResult]:
    if not tasks:
        return
    if cfg.scheduler is None and cfg.workers == 0:
        yield from (run_task(t) for t in tasks)
        return
    yield from _distributed(tasks, cfg)


def _distributed(tasks: list[Task], cfg: IngestConfig) -> Iterator[TaskResult]:
    import logging

    from distributed import Client, LocalCluster, as_completed

    logging.getLogger("distributed").setLevel(logging.ERROR)
    cluster = None
    if cfg.scheduler is not None:
        client = Client(cfg.scheduler)
    else:
        n = cfg.workers or os.cpu_count() or 1
        cluster = LocalCluster(
            n_workers=min(n, len(tasks)),
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )
        client = Client(cluster)
    try:
        futures = client.map(run_task, tasks, pure=False, key=[f"ingest-{t.rid}" for t in tasks])
        for fut in as_completed(futures):
            yield fut.result()
            fut.release()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


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
