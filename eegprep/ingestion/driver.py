"""Ingest a corpus into a store: check the options, discover, skip what is current, run one
task per recording, commit finished recordings from the driver, and report.

The options are checked first (:mod:`eegprep.ingestion.options`), before the store is created
or locked. Tasks run in this process, on local worker processes when the plan is large enough
for them to pay for themselves (:mod:`eegprep.ingestion.workers`), or on an existing
dask.distributed cluster when given a scheduler address. The driver alone touches the index;
workers only write their own staging groups.
"""

from __future__ import annotations

import errno
import logging
import math
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from eegprep.base import allocator, held_files
from eegprep.base.errors import EegprepError, StoreError, UsageError
from eegprep.base.files import as_text_all
from eegprep.base.limits import Limits, format_bytes
from eegprep.base.path_limits import shown_path
from eegprep.base.redact import redact, redact_all
from eegprep.base.resources import doc_path
from eegprep.base.wording import counted, noun, of_total, some_of
from eegprep.base.write_errors import PLACE_ERRORS, names_its_file
from eegprep.corpus.discover import Discovery, SourceItem, discover, resolve_names
from eegprep.corpus.folders import corpus_folder
from eegprep.corpus.manifest import Manifest, load_manifest
from eegprep.corpus.sources import (
    FileStamp,
    is_unchanged,
    outside_root,
    recording_files,
    stamp_files,
)
from eegprep.ingestion import options, racy_stamps
from eegprep.ingestion.block_lengths import block_change
from eegprep.ingestion.options import IngestConfig
from eegprep.ingestion.record_gaps import unstated, unstated_note
from eegprep.ingestion.seen_files import SeenFiles
from eegprep.ingestion.source_presence import GONE as GONE_STATE
from eegprep.ingestion.source_presence import (
    SourcePresence,
    elsewhere_note,
    held_elsewhere,
    hidden_note,
    moved_sources,
    second_names,
    twin_note,
)
from eegprep.ingestion.task import IngestResult, IngestTask, recipe_for_manifest, run_task
from eegprep.readers import clear_caches
from eegprep.store.fs import Location
from eegprep.store.record import RecordingRecord, source_identity
from eegprep.store.writer import StoreWriter

EXIT_OK = 0
EXIT_SOME_FAILED = 3
COMMIT_SECONDS = 2.0  # finished recordings wait at most this long to be listed
log = logging.getLogger(__name__)


@dataclass
class IngestReport:
    """What an ingest did; ``to_dict()`` is saved in the store under ``_eegprep/reports``.

    ``store`` is the store's URL without credentials (:func:`eegprep.base.redact.redact`), and
    ``to_dict()`` redacts every string it holds, and shows a path's bytes that are not UTF-8 as
    ``\\xNN`` (:func:`eegprep.base.files.as_text`): the report is shown and saved as it is.
    """

    corpus: str
    store: str
    root: str
    root_from: str = "--src"
    """What named ``root``: ``--src``, the variable (``EEGPREP_TUH_DIR``) or the config file's
    entry (``corpora.tuh in PATH``): :class:`~eegprep.corpus.folders.CorpusFolder`."""
    n_files: int = 0
    n_recordings: int = 0
    n_ingested: int = 0
    n_current: int = 0
    n_removed: int = 0
    """Listed recordings removed because their source file is gone (``--prune``)."""
    n_checked: int = 0
    """Of ``n_current``, those whose files were read to compare their content hashes: a file's
    ctime or inode had changed since its bytes were last hashed (a copy, a restore, a rewrite
    with its mtime set back), or ``--verify-checksums``."""
    failed: list[str] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)
    warnings: dict[str, list[str]] = field(default_factory=dict)
    hours_written: float = 0.0
    seconds: float = 0.0
    details: dict[str, str] = field(default_factory=dict)
    processes: int = 1
    """Local processes that ran the recordings: 1, this one; ``n``, this one and a pool of
    ``n - 1`` workers (:func:`eegprep.ingestion.workers.pool_size`); 0, an existing dask
    cluster (``--scheduler``)."""
    report_path: str = ""

    @property
    def exit_code(self) -> int:
        return EXIT_SOME_FAILED if (self.failed or self.unmatched) else EXIT_OK

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = redact_all(
            {k: v for k, v in self.__dict__.items() if k != "report_path"}
        )
        return dict(as_text_all(out))  # a --src or --out whose name is not UTF-8: \xNN


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
    clear_caches()  # files may have changed in place since an earlier ingest in this process
    options.check_config(cfg)  # every misuse is refused here, before the store is created or locked
    racy_stamps.window_ns()  # (a value of EEGPREP_RACY_SECONDS that is no window: refused)
    allocator.tuning_wanted()  # (an EEGPREP_MALLOC_TUNING neither on nor off: refused)
    held_files.sweep_left()  # what killed ingests left in /dev/shm (one scandir when nothing)
    manifest = options.apply_overrides(load_manifest(corpus), mains=cfg.mains, include=cfg.include)
    options.check_globs(manifest.include, f"{shown_path(manifest.file)}: files.include")
    loc = options.writable_location(out)
    given = corpus_folder(manifest.name, src, check=True)
    found = discover(manifest, given.path, limit=cfg.limit, setting=given.setting)
    options.check_apart(loc, found.root)  # the corpus root, as discovery settled it
    report = IngestReport(manifest.name, loc.display, str(found.root), given.setting)
    report.n_files = found.n_files
    report.n_recordings = len(found.items)
    report.unmatched = [f"{shown_path(rel)}: {why}" for rel, why in found.unmatched]
    cfg = options.store_encoding(cfg, loc)
    try:
        with _writer(out, cfg) as writer:
            seen = SeenFiles.load(writer.loc)
            try:
                _repair_bookkeeping(writer, cfg, report)
                tasks = _plan(manifest, found, writer, cfg, report, seen)
                now = {t.rid for t in tasks}  # (a source moved, its name kept, is not gone)
                gone = _sources_gone(manifest, found, writer, cfg, report, now)
                listed = _run(tasks, writer, cfg, report, seen)
                _note_renamed(gone, listed, writer, report, manifest.name)
            except BaseException:
                _save_seen(seen, writer, quiet=True)  # the error that stopped it is the line
                raise
            _save_seen(seen, writer)
            report.seconds = round(time.perf_counter() - t0, 3)
            report.report_path = writer.loc.shown(writer.save_report(report.to_dict()))
    except EegprepError:
        raise
    except OSError as exc:  # the store's disk or service, not a bug: one line, exit 2
        raise StoreError(_store_os_error(loc, exc)) from exc
    return report


def _writer(out: str | os.PathLike[str], cfg: IngestConfig) -> StoreWriter:
    """The ingest's store writer (``--repair`` writes a damaged root again: it is told)."""
    return StoreWriter(out, cfg.recipe, keep_replaced=cfg.keep_replaced, repair=cfg.repair)


def _repair_bookkeeping(writer: StoreWriter, cfg: IngestConfig, report: IngestReport) -> None:
    """Write again the damaged group documents that hold no recording and set damaged ingest
    reports aside (``--repair``; without it one line says what it would do): each a line under
    :data:`~eegprep.store.group_repair.METADATA` in ``report``."""
    from eegprep.store.group_repair import METADATA, repair_bookkeeping

    lines = [writer.root_repaired] if writer.root_repaired else []
    lines += repair_bookkeeping(writer.loc, repair=cfg.repair)
    if lines:
        report.warnings.setdefault(METADATA, []).extend(lines)


def _store_os_error(loc: Location, exc: OSError) -> str:
    """One line for an operating-system error met while writing the store."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return (
            f"{loc.named}: no space left on device while writing the store; free some space "
            "and run the same command again (what was committed is kept)"
        )
    why = exc.strerror or redact(str(exc)) or type(exc).__name__
    named = exc.filename and not names_its_file(exc)  # (its message names it: not twice)
    where = f" ({loc.shown(str(exc.filename))})" if named else ""
    todo = PLACE_ERRORS.get(exc.errno or 0)  # (the disk's failure, a file size limit, ...)
    then = f"; {todo} and run the same command again (what was committed is kept)" if todo else ""
    return f"{loc.named}: cannot write the store: {why}{where}{then}"


def _plan(
    manifest: Manifest,
    found: Discovery,
    writer: StoreWriter,
    cfg: IngestConfig,
    report: IngestReport,
    seen: SeenFiles | None = None,
) -> list[IngestTask]:
    """The recordings of ``found`` to ingest now, each an :class:`IngestTask` in the order
    found; the current ones counted in ``report``, those that cannot be read named in it."""
    seen = seen or SeenFiles()
    existing = writer.existing()
    _index_warnings(writer, report)
    root = str(found.root)
    mine = _moved_here(_corpus_records(writer, manifest), found, root, report)
    tasks = []
    resolved = resolve_names(found.items, mine)
    _note_names_kept(found.items, resolved, manifest, report)
    for item in resolved:
        stamps = _stamped(manifest, root, item, report)
        if stamps is None:
            continue
        rid = f"{manifest.name}/{item.name}"
        record = existing.get(rid)
        current, again = _is_current(record, root, stamps, manifest, cfg, seen)
        if again is not None:  # the same files, ingested again: why
            report.warnings.setdefault(item.relpath, []).append(again)
        if current:
            damage = _damage(writer, record) if cfg.repair and record else []
            if not damage:
                report.n_current += 1
                report.n_checked += current == "content"
                continue
            report.warnings.setdefault(item.relpath, []).extend(f"repaired: {d}" for d in damage)
            if record is not None:  # (damage is found in a record only)
                writer.note_damaged(str(record.get("group")), damage)  # its retired copy says so
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
                since_ns=seen.since_ns,
            )
        )
    return tasks


def _moved_here(
    mine: dict[str, dict[str, Any]], found: Discovery, root: str, report: IngestReport
) -> dict[str, dict[str, Any]]:
    """The corpus's records ``mine`` as naming goes by: a listed recording whose source was
    moved under another folder of ``root`` (its name and bytes kept:
    :func:`~eegprep.ingestion.source_presence.moved_sources`) names the new path, so that the
    file keeps the recording's name and is ingested again as it, with a line in ``report``."""
    moved = moved_sources(found.items, mine, root)
    out = dict(mine)
    for (relpath, _part), rid in moved.items():
        old = mine[rid]
        out[rid] = {**old, "source": relpath}
        report.warnings.setdefault(relpath, []).append(
            f"moved from {shown_path(str(old.get('source')))}: the bytes of {rid}'s source, "
            f"ingested again as {rid} (its fields from the new path)"
        )
    return out


NAMES_KEPT = "(names kept)"
"""The report's warnings key for listed recordings whose manifest now names them otherwise."""


def _note_names_kept(
    items: list[SourceItem], resolved: list[SourceItem], manifest: Manifest, report: IngestReport
) -> None:
    """One line in ``report`` when listed recordings keep names the manifest no longer gives
    (its ``[path] name`` rule changed): a source keeps its name in a store for good
    (:func:`~eegprep.corpus.discover.resolve_names`), and the new rule had no effect unsaid. A
    name given a ``~`` suffix where two sources share one is no such change."""
    kept = [
        (now.name, it.name)
        for it, now in zip(items, resolved)
        if now.name != it.name and now.name.split("~", 1)[0] != it.name
    ]
    if not kept:
        return
    first = [f"{manifest.name}/{old} (the rule gives {new})" for old, new in kept]
    keep = noun(len(kept), "keeps its name", "keep their names")
    report.warnings.setdefault(NAMES_KEPT, []).append(
        f"{counted(len(kept), 'listed recording')} {keep}, "
        f"which the manifest's name rule no longer gives ({some_of(first, 3)}): a source keeps "
        "its name in a store for good; ingest into a new --out to take the new names"
    )


def _index_warnings(writer: StoreWriter, report: IngestReport) -> None:
    """Put the store index's problems, and the recordings listed again from their complete
    group, in ``report``'s warnings (their recordings are listed or ingested again)."""
    for problem in writer.index_problems:  # their recordings are listed or ingested again
        report.warnings.setdefault("(store index)", []).append(problem)
    for rid in writer.relisted:
        report.warnings.setdefault("(store index)", []).append(
            f"{rid}: listed again from its complete group (the index had lost it, or an "
            "ingest was stopped before listing it)"
        )


def _stamped(
    manifest: Manifest, root: str, item: SourceItem, report: IngestReport
) -> tuple[FileStamp, ...] | None:
    """The size and mtime of each file of the recording ``item`` (its main file first), or
    None with a line in ``report.failed``: a file outside ``root``, or one that cannot be
    stat'ed."""
    try:
        rels = recording_files(manifest, root, item)
        outside = outside_root(rels)
        if outside:  # never read: the store holds the corpus, and nothing else
            report.failed.append(
                f"{shown_path(item.relpath)}: {shown_path(', '.join(outside))} "
                f"{'lie' if len(outside) > 1 else 'lies'} outside the corpus folder, where "
                "eegprep reads nothing: copy it into the corpus folder"
            )
            return None
        return stamp_files(root, rels)
    except OSError as exc:
        report.failed.append(f"{shown_path(item.relpath)}: cannot stat: {exc.strerror}")
        return None


def _corpus_records(writer: StoreWriter, manifest: Manifest) -> dict[str, dict[str, Any]]:
    """The listed records of ``manifest``'s corpus, by id."""
    return {rid: r for rid, r in writer.existing().items() if r.get("corpus") == manifest.name}


GONE = "(sources gone)"
"""The report's warnings key for listed recordings whose source file is gone."""


def _sources_gone(
    manifest: Manifest,
    found: Discovery,
    writer: StoreWriter,
    cfg: IngestConfig,
    report: IngestReport,
    ingesting: set[str] | frozenset[str] = frozenset(),
) -> dict[str, tuple[str, str]]:
    """Prune, or name in a note, the corpus's listed recordings whose source file is no longer
    under ``root`` (renamed, moved or deleted). Returns the kept ones by their source's content
    hash: ``{hash: (id, source)}``.

    A source is gone only when the file system says it does not exist
    (:mod:`eegprep.ingestion.source_presence`): a folder that cannot be read, a stale mount or
    an I/O error is not proof, nor is a folder of its path that hides what it held (a link to
    nothing, an empty folder, a mount point with nothing on it: a disk not mounted), and keeps
    its recordings, named on a note line (one per such folder). A recording this run ingests
    (``ingesting``: ids; a source moved to another folder, its name kept) has one, and a
    source now a second name of another file is gone (:func:`second_names`). Nothing is pruned
    when more than ``cfg.prune_max`` of the corpus's listed recordings (or all of them) are
    gone: a wrong ``--src``, a partial copy or a half-mounted share far more often than a
    corpus that lost that much.
    """
    root = str(found.root)
    mine = _corpus_records(writer, manifest)
    gone, unsure, hidden = _presence(
        {r: rec for r, rec in mine.items() if r not in ingesting}, root
    )
    twinned = second_names(mine, found, set(gone) | set(ingesting))
    gone.update({rid: rec for rid, (rec, _) in twinned.items()})
    roots = _other_roots(writer, manifest.name, root) if gone else []
    sources = {r: str(rec.get("source")) for r, rec in mine.items()}
    here = [src for r, src in sources.items() if r not in gone]
    elsewhere = held_elsewhere({r: sources[r] for r in gone}, here, roots)
    for rid in (rid for ids in elsewhere.values() for rid in ids):
        del gone[rid]
    said = gone or unsure or hidden or elsewhere
    notes = report.warnings.setdefault(GONE, []) if said else []
    if unsure:
        notes.append(
            f"{len(unsure)} listed recordings' sources could not be checked, kept: "
            + ", ".join(unsure[:3])
            + (", ..." if len(unsure) > 3 else "")
        )
    notes.extend(_hidden_notes(hidden))
    notes.extend(twin_note(r, *twin) for r, twin in twinned.items() if r in gone)
    notes.extend(
        elsewhere_note(other, ids, root, report.root_from) for other, ids in elsewhere.items()
    )
    if not gone:
        return {}
    share = len(gone) / len(mine)
    if cfg.prune and len(gone) < len(mine) and share <= cfg.prune_max:
        report.n_removed = len(writer.remove(list(gone)))
        notes.append(
            f"{counted(report.n_removed, 'recording')} removed: their source is gone (--prune)"
        )
        return {}
    notes.extend(_kept_notes(cfg, gone, twinned, len(mine), root, report.root_from))
    return _by_source_hash(gone)


def _kept_notes(
    cfg: IngestConfig,
    gone: dict[str, dict[str, Any]],
    twinned: dict[str, Any],
    n_mine: int,
    root: str,
    setting: str,
) -> list[str]:
    """:func:`_kept_note` on the ``gone`` recordings kept, those whose source is a second name
    of another file (``twinned``, named on lines of their own) left out unless ``--prune``
    refused them all."""
    rest = {r: rec for r, rec in gone.items() if r not in twinned}
    return [_kept_note(cfg, rest or gone, n_mine, root, setting)] if rest or cfg.prune else []


def _other_roots(writer: StoreWriter, corpus: str, root: str) -> list[str]:
    """The other folders ``corpus`` was ingested from into the store (its reports' ``root``),
    newest first, that are folders here; ``root`` and the same folder by another path (a link)
    left out."""
    from eegprep.store.reports import read_reports

    here = os.path.realpath(root)
    out: list[str] = []
    for rep in reversed(read_reports(writer.loc)[0]):
        other = rep.get("root")
        if rep.get("corpus") != corpus or not isinstance(other, str) or other in out:
            continue
        if os.path.realpath(other) != here and os.path.isdir(other):
            out.append(other)
    return out


def _presence(
    mine: dict[str, dict[str, Any]], root: str
) -> tuple[dict[str, dict[str, Any]], list[str], dict[tuple[str, str], list[str]]]:
    """The listed recordings ``mine`` whose source under ``root`` is gone (id -> record),
    those that could not be checked (``"id (why)"``) and those kept because a folder of their
    path hides what it held (``(folder, what it is) -> ids``), in id order."""
    presence = SourcePresence(root)
    gone: dict[str, dict[str, Any]] = {}
    unsure: list[str] = []
    hidden: dict[tuple[str, str], list[str]] = {}  # (folder, what it is) -> recordings kept
    for rid, rec in sorted(mine.items()):
        source = rec.get("source")
        state = presence.state(source)
        missing = state == GONE_STATE and isinstance(source, str) and source
        hides = presence.hiding_folder(str(source)) if missing else None
        if hides:
            hidden.setdefault(hides, []).append(rid)
        elif state == GONE_STATE:
            gone[rid] = rec
        elif state:
            unsure.append(f"{rid} ({state})")
    return gone, unsure, hidden


def _kept_note(
    cfg: IngestConfig, gone: dict[str, dict[str, Any]], n_mine: int, root: str, setting: str
) -> str:
    """The note on the listed recordings whose source is ``gone`` (of ``n_mine``) and which
    stay in the store: not pruned (all gone, or more than ``--prune-max``), or no ``--prune``;
    ``setting`` named ``root`` (:attr:`IngestReport.root_from`)."""
    names = ", ".join(list(gone)[:3]) + (", ..." if len(gone) > 3 else "")
    if cfg.prune and len(gone) == n_mine:
        return (
            f"not pruned: no source of the {counted(n_mine, 'listed recording')} is under "
            f"{shown_path(root)}: is {setting} the folder they were ingested from?"
        )
    if cfg.prune:
        return (
            f"not pruned: {of_total(len(gone), n_mine, 'listed recording', 'has', the=True)} no "
            f"source under {shown_path(root)} (more than --prune-max {cfg.prune_max:g} of them): "
            f"is {setting} the folder they were ingested from, and all of it there? Raise "
            "--prune-max if they are gone"
        )
    return (
        f"{counted(len(gone), 'listed recording')} {noun(len(gone), 'has', 'have')} no source "
        f"under {shown_path(root)} now (renamed, moved or deleted): {names}; "
        f"{noun(len(gone), 'it stays', 'they stay')} in the store, --prune removes "
        f"{noun(len(gone), 'it', 'them')}"
    )


def _by_source_hash(gone: dict[str, dict[str, Any]]) -> dict[str, tuple[str, str]]:
    """The recordings ``gone`` by their source's identity (content digest and part:
    :func:`~eegprep.store.record.source_identity`): ``{identity: (id, source)}``."""
    out = {}
    for rid, rec in gone.items():
        identity = _identity(rec)
        if identity:
            out[identity] = (rid, str(rec.get("source")))
    return out


def _identity(record: dict[str, Any]) -> str:
    """What makes ``record`` the same recording as another: its source's digest and part."""
    digest = record.get("source_blake3") or record.get("source_sha256")
    return source_identity(digest, record.get("part"))


def _hidden_notes(hidden: dict[tuple[str, str], list[str]]) -> list[str]:
    """One note line per folder that hides its listed sources, the first
    :data:`_HIDDEN_LINES`; one more line sums up the others."""
    folders = sorted(hidden, key=lambda f: (-len(hidden[f]), f))
    lines = [hidden_note(f, what, hidden[(f, what)]) for f, what in folders[:_HIDDEN_LINES]]
    rest = folders[_HIDDEN_LINES:]
    if rest:
        n = sum(len(hidden[f]) for f in rest)
        lines.append(
            f"{n} more listed recordings kept, their sources under {len(rest)} more such "
            f"folders: " + ", ".join(f for f, _ in rest[:3]) + (", ..." if len(rest) > 3 else "")
        )
    return lines


_HIDDEN_LINES = 5
"""How many folders that hide listed sources get a note line of their own."""


def _note_renamed(
    gone: dict[str, tuple[str, str]],
    listed: list[str],
    writer: StoreWriter,
    report: IngestReport,
    corpus: str,
) -> None:
    """Warn about each recording just listed whose source has the bytes of another listed
    recording's of the corpus (a gone one's: renamed or moved; or one still there: a copy):
    the same recording is then in the store twice, which `eegprep validate` reports and a
    split can put on both sides."""
    records = writer.existing()
    others: dict[str, list[str]] = {}
    for rid, rec in records.items():
        if rec.get("corpus") == corpus and _identity(rec):
            others.setdefault(_identity(rec), []).append(rid)
    gone_ids = {rid for rid, _ in gone.values()}
    for rid in listed:
        rec = records.get(rid, {})
        identity = _identity(rec)
        lines = []
        old = gone.get(identity)
        if old is not None and old[0] != rid:
            lines.append(
                f"the same bytes as {old[0]} (from {old[1]}, which is gone: renamed or moved?); "
                f"both are in the store: --prune removes {old[0]}"
            )
        for twin in (o for o in others.get(identity, []) if o != rid and o not in gone_ids):
            lines.append(
                f"the same bytes as {twin} (from {records[twin].get('source')}, also listed): "
                "one recording under two names, which `eegprep validate` reports and a split "
                "can put on both sides; remove one of the files, or leave it out (--include)"
            )
        if lines:
            report.warnings.setdefault(str(rec.get("source") or rid), []).extend(lines)


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
    seen: SeenFiles,
) -> tuple[Literal["", "stamps", "content"], str | None]:
    """Whether a recording is listed with the same recipe and manifest, from exactly the same
    files, and the report's line when it is ingested again although its files are the same.

    The first item: ``"stamps"`` when ``seen`` vouches for every file's size, mtime, ctime and
    inode, ``"content"`` when the same sizes and mtimes hold the bytes the record's hashes state
    (every file hashed with ``verify_checksums``; noted in ``seen`` unless racy), ``""`` when
    not current. The second: why a recording is not current all the same: this run would cut
    it into other preprocessing blocks, or the record states no block and some block could cut
    it (its bytes may differ: :mod:`eegprep.ingestion.block_lengths`), or the record (of an
    earlier version) states no recipe hash, manifest hash or content hash to tell by
    (:mod:`eegprep.ingestion.record_gaps`); None otherwise."""
    if record is None:
        return "", None
    gap = unstated(record)
    if gap is not None:
        return "", unstated_note(gap)
    if record.get("recipe_hash") != cfg.recipe.hash():
        return "", None
    stated = record.get("manifest_hash")
    if not isinstance(stated, str) or stated not in manifest.hashes():
        return "", None
    vouched = not cfg.verify_checksums and seen.vouches(record, stamps)
    if not is_unchanged(record, root, stamps, checksums=cfg.verify_checksums, vouched=vouched):
        return "", None
    recipe = recipe_for_manifest(cfg.recipe, manifest)
    change = block_change(record, recipe, manifest.mains, cfg.file_memory_limit)
    if change is not None:  # the same files, other bytes
        return "", _blocks_note(change, cfg)
    if vouched:
        return "stamps", None
    seen.note(record, stamps)
    return "content", None


def _blocks_note(change: tuple[float | None, float], cfg: IngestConfig) -> str:
    """The report's line on a recording ingested again because its blocks would differ:
    ``change`` is the record's (None: not stated) and this run's block lengths, s
    (:func:`~eegprep.ingestion.block_lengths.block_change`)."""
    stated, planned = change
    if stated is None:
        was = "blocks its record does not state (written by an earlier eegprep, which cut "
        was += "blocks of 10 s or more, shorter under a tighter --file-memory-limit)"
    elif math.isfinite(stated):
        was = f"{stated:g} s blocks"
    else:
        was = "blocks of no valid length"
    will = f"{planned:g} s" if math.isfinite(planned) else "planned from its source file"
    return (
        f"ingested again: its samples were computed in {was}, this run's would be "
        f"{will} (--file-memory-limit {format_bytes(cfg.file_memory_limit)}), which can "
        f"move quantized samples by one step ({doc_path('docs/store-format.md#reproducibility')})"
    )


def _save_seen(seen: SeenFiles, writer: StoreWriter, *, quiet: bool = False) -> None:
    """Keep what this run verified (a failure only costs a content check next time; a warning
    line unless ``quiet``: the ingest is stopping with the error line that says why)."""
    listed = [(rid, r.get("group")) for rid, r in writer.existing().items()]
    try:
        seen.save(writer.loc, listed)
    except OSError as exc:
        if not quiet:
            log.warning(
                "%s: cannot save the source files' stamps: %s", shown_path(writer.loc.display), exc
            )


def _run(
    tasks: list[IngestTask],
    writer: StoreWriter,
    cfg: IngestConfig,
    report: IngestReport,
    seen: SeenFiles,
) -> list[str]:
    """Run the tasks and commit what finishes; returns the ids listed."""
    stamps = {t.rid: t.sources for t in tasks}
    listed: list[str] = []

    def commit(batch: list[tuple[str, RecordingRecord]]) -> None:
        records = writer.existing()
        for rid in _commit(writer, batch, report):
            listed.append(rid)
            if stamps[rid]:
                seen.note(records[rid], stamps[rid])

    pending: list[tuple[str, RecordingRecord]] = []
    last_commit = time.monotonic()
    bar = _progress(len(tasks), cfg.progress, f"ingest {report.corpus}")
    try:
        for res in _results(tasks, cfg, report):
            bar.update(1)
            if res.warnings:
                report.warnings[res.relpath] = res.warnings
            if res.record is None:
                report.failed.append(res.error or f"{shown_path(res.relpath)}: failed")
                if res.detail:
                    report.details[res.relpath] = res.detail
                writer.loc.remove(res.staging)  # a staging name or an unlisted new version
                if res.store_errno is not None:  # a full or read-only store: stop, one line
                    raise OSError(res.store_errno, os.strerror(res.store_errno))
                continue
            pending.append((res.staging, res.record))
            writer.flush_early(res.staging)  # on the disk while the next file runs
            report.n_ingested += 1
            report.hours_written += res.record.n_samples / res.record.sfreq / 3600.0
            if len(pending) >= cfg.commit_every or time.monotonic() - last_commit > COMMIT_SECONDS:
                # handed over before committing: a commit that Ctrl-C cuts short is not run
                # again below (a second commit would move a listed recording again)
                batch, pending = pending, []
                commit(batch)
                last_commit = time.monotonic()
    finally:
        commit(pending)  # also on Ctrl-C: what finished is kept
        bar.close()
    # (each recording a commit took back is subtracted: all of them left -1e-19, "-0.000 h")
    report.hours_written = max(0.0, round(report.hours_written, 4))
    return listed


def _commit(
    writer: StoreWriter, pending: list[tuple[str, RecordingRecord]], report: IngestReport
) -> list[str]:
    """Commit finished recordings; one that cannot be moved into place fails alone. Returns
    the ids listed."""
    records = {rec.id: rec for _, rec in pending}
    for rid, problem in writer.commit(pending):
        rec = records.pop(rid)
        report.failed.append(f"{shown_path(rec.source or rid)}: {problem}")
        report.n_ingested -= 1
        report.hours_written -= rec.n_samples / rec.sfreq / 3600.0
    return list(records)


def _results(
    tasks: list[IngestTask], cfg: IngestConfig, report: IngestReport
) -> Iterator[IngestResult]:
    """Run ``tasks``: on the ``--scheduler``'s cluster, on a local pool beside this process
    when one pays for itself (:func:`eegprep.ingestion.workers.pool_size`), else in this
    process; ``report.processes`` says which."""
    from eegprep.ingestion import workers

    if not tasks:
        return
    if cfg.scheduler is not None:
        report.processes = 0
        yield from _distributed(tasks, cfg)
        return
    n_workers = workers.pool_size(cfg.workers, tasks)
    if n_workers:
        report.processes = n_workers
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
        client = Client(cfg.scheduler, timeout=options.SCHEDULER_TIMEOUT)
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
