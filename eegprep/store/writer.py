"""Writing eegprep stores: create, lock, commit a staged recording.

A worker writes one recording's group (:func:`~eegprep.store.recording_writer.write_recording`)
under a staging name; the driver commits it (:meth:`StoreWriter.commit`): on a local disk a
rename moves the complete group into its final place, then the index lists it. A killed ingest
leaves at most an unlisted staging group, removed by the next run: a recording is complete and
listed, or absent.

Recording groups are versioned: the first version of ``{corpus}/{name}`` lives in
``recordings/{corpus}/{name}``, a re-ingested one in ``recordings/{corpus}/{name}@2``, ``@3``,
... The new version is written beside the old one and the index switches to it in one commit;
the old group is *retired* (``_eegprep/retired.json``) and deleted by a later ingest once it has
been retired for ``keep_replaced`` seconds, so a reader holding an older index keeps reading the
bytes it listed. Nothing listed is ever changed in place or deleted.

Concurrency contract: one :class:`StoreWriter` per store at a time (a lock object refuses a
second); :func:`~eegprep.store.recording_writer.write_recording` may run in any number of
worker processes at once, each on its own staging name.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from eegprep.base import strict_json
from eegprep.base.disk_sync import sync_file, sync_folders
from eegprep.base.errors import StoreAccessError, StoreFormatError, StoreLockedError
from eegprep.base.files import TMP_MARK, remove_stale_temporaries
from eegprep.base.path_limits import shown_path
from eegprep.base.sealed import seal
from eegprep.base.strict_json import find_unsafe, json_problem
from eegprep.base.version import __version__
from eegprep.base.write_errors import landed, names_its_file, then_again
from eegprep.pipeline.channels import VOCABULARY
from eegprep.pipeline.recipe import Recipe
from eegprep.store.consolidated import drop_consolidated
from eegprep.store.early_flush import EarlyFlush
from eegprep.store.fs import Location
from eegprep.store.group_attrs import not_record_keys
from eegprep.store.group_path import (
    check_group,
    foreign_folder,
    group_version,
    groups_on_disk,
    version_group,
)
from eegprep.store.index import INDEX_DIR, append, compact, read_index_checked
from eegprep.store.lock_file import (
    LOCK,
    create_remote_lock,
    describe_holder,
    exclusive_put,
    link_new,
    lock_holder,
    lock_is_stale,
    own_start,
    sweep_claims,
    take_over_remote_lock,
)
from eegprep.store.own_flock import take_flock
from eegprep.store.record import RecordingRecord
from eegprep.store.recording_writer import group_json
from eegprep.store.reports import REPORTS, next_report_name
from eegprep.store.retired_list import (
    RECORD,
    RETIRED,
    RetiredEntry,
    record_seal,
    retired_document,
    retired_entries,
    retired_record,
)
from eegprep.store.root_attrs import (
    FORMAT,
    FORMAT_VERSION,
    unfinished_creation,
)
from eegprep.store.root_repair import opened_root
from eegprep.store.shards import CHUNK_SECONDS, SHARD_CHUNKS

STAGING = ("_eegprep", "staging")
FLOCK = ("_eegprep", "lock.flock")  # held with flock while a local store is written
REMOVED = "removed.json"  # in a recording group: removed by --prune, never relisted
SEEN = ("_eegprep", "seen.json")  # the ingest's seen-files cache (eegprep.ingestion.seen_files)
_STORE_WIDE = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM}
"""Errors that concern the whole store, not one recording: a commit stops on them."""
KEEP_REPLACED_SECONDS = 86_400.0  # how long a replaced version stays for readers of old indexes

log = logging.getLogger(__name__)


def root_attrs(recipe: Recipe) -> dict[str, Any]:
    """The root group's attributes, sealed (:mod:`eegprep.base.sealed`): ``validate`` finds a
    flipped bit in any of them, ``eegprep_version`` included, which no other check covers."""
    return seal(
        {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "sfreq": recipe.sfreq,
            "unit": "uV",
            "recipe": recipe.to_dict(),
            "recipe_hash": recipe.hash(),
            "vocabulary": list(VOCABULARY),
            "eegprep_version": __version__,
            "layout": {
                "recordings": "recordings/{corpus}/{name}",
                "versions": "recordings/{corpus}/{name}@{k}",
                "index": "_eegprep/index/*.jsonl",
                "chunk_seconds": CHUNK_SECONDS,
                "shard_chunks": SHARD_CHUNKS,
            },  # eegprep.store.validate_root.LAYOUT checks it
        }
    )


class StoreWriter:
    """The single writer of a store during an ingest. Use as a context manager.

    Parameters
    ----------
    url : str or path
        The store.
    recipe : Recipe
        Must equal the store's when it exists.
    keep_replaced : float
        Seconds a replaced or orphaned recording group is kept before an ingest deletes it.
    """

    def __init__(
        self,
        url: str | os.PathLike[str],
        recipe: Recipe,
        *,
        keep_replaced: float = KEEP_REPLACED_SECONDS,
        repair: bool = False,
    ) -> None:
        self.loc = Location.parse(url)
        self.repair = repair  # a damaged root written again (eegprep.store.root_repair)
        self.root_repaired: str | None = None  # its line
        self.recipe = recipe
        self.keep_replaced = keep_replaced
        self.index_problems: list[str] = []
        self.relisted: list[str] = []  # ids listed again from their groups (see _relist)
        self._locked = False
        self._records: dict[str, dict[str, Any]] = {}  # id -> JSON record, as the index lists it
        self._listed: dict[str, str] = {}  # id -> group
        self._groups: set[str] = set()  # every listed group
        self._retired_damaged = False  # retired.json had entries to drop (rewritten once)
        self._damaged: dict[str, list[str]] = {}  # group -> its damage, found by --repair
        self._flock_fd: int | None = None  # the flock of a local store's writer
        self._early = EarlyFlush()  # finished groups flushed while the next file runs

    def __enter__(self) -> StoreWriter:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> None:
        """Take the store's lock (creating the store if needed) and read its index; whatever
        fails here gives the lock back (it is not left behind for the next ingest to judge)."""
        try:
            self._open()
        except BaseException:
            try:
                if self._locked:
                    self._locked = False
                    self.loc.remove(*LOCK)
            finally:  # (a lock the disk would not delete: its holder's process ends)
                self._release_flock()
            raise

    def _open(self) -> None:
        for parts in (("_eegprep",), STAGING, INDEX_DIR, ("recordings",)):
            self._check_inside("/".join(parts))
        attrs = None if unfinished_creation(self.loc) else opened_root(self, root_attrs)
        if attrs is None:
            if self.loc.local:
                os.makedirs(self.loc.root, exist_ok=True)
            self._lock()
            self._create()
        else:
            if attrs.get("recipe_hash") != self.recipe.hash():
                raise StoreFormatError(
                    f"{self.loc.named}: written with recipe {attrs.get('recipe_hash')} "
                    f"({_describe(attrs.get('recipe', {}))}), this ingest uses "
                    f"{self.recipe.hash()} ({_describe(self.recipe.to_dict())}): use the same "
                    "options or a new --out"
                )
            if not self._locked:  # (a root written again: locked first)
                self._lock()
        for name in self.loc.list(*STAGING):  # what a killed run left: never listed, remove
            self.loc.remove(*STAGING, name)
        self._sweep_temporaries()
        for where in drop_consolidated(self.loc):  # (before any change would make it stale)
            log.warning("%s: zarr's consolidated metadata removed (it would go stale as the "
                        "store changes; run zarr.consolidate_metadata after the ingest to have "
                        "it back)", self.loc.shown(self.loc.path(where)))  # fmt: skip
        records, self.index_problems = read_index_checked(self.loc)
        self._records = {}
        self._note_listed(records.values())
        self._collect()

    def _sweep_temporaries(self) -> None:
        """Remove the temporary files of atomic writes a killed writer left (an index segment,
        the retired list, a report, a ``zarr.json`` being replaced: names holding
        :data:`~eegprep.base.files.TMP_MARK`). Readers never see them; this writer holds the
        lock, so none is being written."""
        if not self.loc.local:
            return  # object stores write whole objects: nothing temporary
        folders = [(), ("_eegprep",), INDEX_DIR, REPORTS, ("recordings",)]
        folders += [
            ("recordings", c)
            for c in self.loc.list("recordings")
            if os.path.isdir(self.loc.path("recordings", c))
        ]
        for parts in folders:
            for name in self.loc.list(*parts):
                if TMP_MARK in name and os.path.isfile(self.loc.path(*parts, name)):
                    self.loc.remove(*parts, name)

    def _create(self) -> None:
        """Write a new store's skeleton; the root ``zarr.json`` last (it makes it a store)."""
        loc = self.loc
        loc.write_bytes(group_json({}), "recordings", "zarr.json")
        loc.write_bytes(group_json({"description": "eegprep bookkeeping"}), "_eegprep", "zarr.json")
        loc.write_bytes(group_json(root_attrs(self.recipe)), "zarr.json")

    def _lock(self) -> None:
        """Take the store's lock file (and, for a local store, its ``flock`` first): refused
        while another ingest holds it; taken over, with a warning once it is ours, from one
        killed or gone."""
        me = {
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "since": time.time(),
            "token": uuid.uuid4().hex,  # this writer's own bytes, whoever shares its pid
            **own_start(),  # (tells this process from a pid's reuse, whatever the clock does)
        }
        if self.loc.local:
            self._hold_flock()
        seen: bytes | None = None
        if self.loc.exists(*LOCK):
            with contextlib.suppress(FileNotFoundError):  # (given back just now)
                seen = self.loc.read_bytes(*LOCK)
        # the warning, once the lock is ours (a live holder is refused here)
        took_over = None if seen is None else self._judged_lock(seen)
        if self.loc.local:
            self._write_local_lock(me)
        else:
            self._write_remote_lock(me, seen)
        self._locked = True
        if took_over is not None:
            log.warning(*took_over)

    def _judged_lock(self, seen: bytes) -> tuple[Any, ...] | None:
        """The lock file another ingest left (``seen``, its bytes): refused while its holder
        runs or writes it; else the warning (arguments to ``log.warning``) of taking it over."""
        other = lock_holder(seen)
        if other is None:
            # cut short by a kill (stale), unless it is being written this very moment
            fresh = self.loc.local and time.time() - os.path.getmtime(self.loc.path(*LOCK)) < 5
            if fresh:
                raise StoreLockedError(
                    f"{self.loc.named}: another ingest is taking the lock just now "
                    f"({self.loc.shown(self.loc.path(*LOCK))}); wait for it"
                )
            return (
                "%s: took over a damaged lock file (%s) left by an ingest that was killed",
                self.loc.display,
                self.loc.shown(self.loc.path(*LOCK)),
            )
        elif not lock_is_stale(other, flocked=self._flock_fd is not None):
            raise StoreLockedError(
                f"{self.loc.named}: another ingest ({describe_holder(other)}) is "
                f"writing this store; wait for it, or delete "
                f"{self.loc.shown(self.loc.path(*LOCK))} if that process is gone"
            )
        else:
            return (
                "%s: took over the lock of an ingest that no longer runs (%s): its "
                "unlisted work is removed, and this ingest redoes it",
                self.loc.display,
                describe_holder(other),
            )

    def _write_local_lock(self, me: dict[str, Any]) -> None:
        """Replace a stale local lock file by ``me``, whole or absent at any kill."""
        path = self.loc.path(*LOCK)
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            if os.path.exists(path):
                os.unlink(path)  # stale: its process is gone
        except OSError as exc:
            raise self.loc.failed(exc, "deleting the stale lock", *LOCK) from exc
        try:  # (whole or absent at any kill: never an empty lock under its name)
            link_new(path, json.dumps(me).encode())
        except FileExistsError:
            raise StoreLockedError(
                f"{self.loc.named}: another ingest took the lock just now"
            ) from None
        except OSError as exc:
            raise self.loc.failed(exc, "writing the lock", *LOCK) from exc

    def _write_remote_lock(self, me: dict[str, Any], seen: bytes | None) -> None:
        """Create the lock file ``me`` on a remote store, or take over the stale one ``seen``
        (claimed first: one writer alone replaces it)."""
        if not exclusive_put(self.loc):
            log.warning(
                "%s: this file system cannot create the lock exclusively; two ingests "
                "started at the same moment could both write the store: run one at a time",
                shown_path(self.loc.display),
            )
        if seen is not None:  # claimed first: one writer alone replaces it
            take_over_remote_lock(self.loc, seen, json.dumps(me).encode())
        else:
            create_remote_lock(self.loc, json.dumps(me).encode())
        self._locked = True
        sweep_claims(self.loc)  # what writers killed mid-takeover left

    def _hold_flock(self) -> None:
        """Hold an exclusive ``flock`` on ``_eegprep/lock.flock`` while writing (a local store).

        The JSON lock file says who writes; taking it over from a process that is gone is
        judged from its contents, and two ingests judging the same stale lock at once could
        both take it (one deleting the lock the other had just made). The kernel's lock is
        released when its process dies, so one ingest alone passes here, and the stale-lock
        judgement below runs in one process at a time. The file stays (deleting it would let
        a second lock start on a new file); one that a hard-linked copy of the store shares is
        replaced, while held, by a file of this store's own (:mod:`eegprep.store.own_flock`)."""
        path = self.loc.path(*FLOCK)
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            fd, taken = take_flock(path)  # (a file of this store's own: never a hard-linked copy's)
        except OSError as exc:
            raise self.loc.failed(exc, "locking", *FLOCK) from exc
        if taken.state == "busy":
            os.close(fd)
            holder = None
            with contextlib.suppress(OSError):
                holder = lock_holder(self.loc.read_bytes(*LOCK))
            who = "another ingest"
            if holder is not None and not lock_is_stale(holder):
                who += f" ({describe_holder(holder)})"
            raise StoreLockedError(
                f"{self.loc.named}: {who} is writing this store (it holds {shown_path(path)}); "
                "wait for it to finish"
            )
        if taken.state == "unsupported":  # a file system without flock (some network mounts):
            os.close(fd)  # the lock file alone guards, as on object stores
            log.warning("%s: no flock on this file system (%s)", shown_path(path), taken.reason)
            return
        self._flock_fd = fd

    def _release_flock(self) -> None:
        if self._flock_fd is not None:
            os.close(self._flock_fd)  # (closing the file releases its lock)
            self._flock_fd = None

    def flush_early(self, staged: str) -> None:
        """Begin putting the finished staged group ``staged`` on the disk now, in a thread,
        so that its commit finds it flushed (:mod:`eegprep.store.early_flush`); local stores
        only (an object store's writes are durable when they return)."""
        if self.loc.local:
            self._early.start(self.loc.path(staged))

    def close(self) -> None:
        self._early.close()
        if not self._locked:
            self._release_flock()
            return
        try:
            compact(self.loc)  # a failure (disk full) leaves the segments, all still readable
        finally:
            self._locked = False
            try:
                self.loc.remove(*LOCK)
            finally:  # a lock the disk would not delete held its holder's flock for as long
                self._release_flock()  # as the process ran: the next ingest in it was refused

    def existing(self) -> dict[str, dict[str, Any]]:
        """Every record the index lists, as its JSON object: as read when the writer opened
        (damaged index lines skipped and kept in :attr:`index_problems`; a record that lacks
        a field is kept, for ``--repair`` to judge), with what it has listed since."""
        return self._records

    def _note_listed(self, records: Iterable[dict[str, Any]]) -> None:
        """Keep the writer's view of the index in step with what it lists (JSON records)."""
        for rec in records:
            old = self._listed.get(rec["id"])
            if old is not None:
                self._groups.discard(old)
            self._records[rec["id"]] = rec
            self._listed[rec["id"]] = str(rec["group"])
            self._groups.add(str(rec["group"]))

    def _check_inside(self, path: str) -> None:
        """Refuse to write at ``path`` (relative to the store) when a symbolic link on the way
        takes it out of the store: no path may leave it."""
        outside = self.loc.leaves_store(*path.split("/"))
        if outside is not None:
            raise StoreFormatError(
                f"{self.loc.named}: {shown_path(path)} leads out of the store through a symbolic "
                f"link (to {outside}): eegprep writes only inside the store; replace the link with "
                "a folder"
            )

    def staging_path(self) -> str:
        """A fresh staging location (relative to the store root) for one recording."""
        return "/".join([*STAGING, uuid.uuid4().hex])

    def next_group(self, corpus: str, name: str) -> str:
        """Where a new version of ``{corpus}/{name}`` goes: beside every group a reader may hold.

        The version after the listed one (1 for a new recording), skipping versions that are
        retired but not yet deleted. A group already at that path is an unlisted leftover of a
        killed run, which :meth:`commit` replaces.
        """
        listed = self._listed.get(f"{corpus}/{name}")
        version = group_version(listed) + 1 if listed else 1
        retired = self._retired()
        while version_group(corpus, name, version) in retired:
            version += 1
        return version_group(corpus, name, version)

    def commit(self, items: list[tuple[str, RecordingRecord]]) -> list[tuple[str, str]]:
        """Move staged groups into place and list them in the index, in one index segment.

        ``items``: ``(staged path, index record)``; the record's ``group`` is the final path,
        a version no index lists (:meth:`next_group`). The versions they replace are retired,
        never deleted here.

        Returns ``(record id, problem)`` for each recording that could not be moved into place
        (a name the file system refuses, say) or whose record strict JSON cannot hold
        (:func:`~eegprep.base.strict_json.json_problem`: a lone surrogate, NaN; the index line
        would be unreadable, and dropped unsaid when the index is next compacted): it is left
        out and its staged group removed, while the others are listed. A full or read-only disk
        stops the commit (``OSError``).
        """
        if not items:
            return []
        replaced: list[str] = []
        done: list[RecordingRecord] = []
        failed: list[tuple[str, str]] = []
        renamed_into: set[str] = set()  # folders whose entries the renames changed
        appending = False
        try:
            for staged, record in items:
                refused = self._not_committed(record)
                if refused is not None:
                    failed.append((record.id, refused))
                    self._remove_staged(staged)
                    continue
                try:
                    old = self._move_into_place(staged, record, renamed_into)
                except OSError as exc:
                    if exc.errno in _STORE_WIDE or isinstance(exc, StoreAccessError):
                        raise  # (the service's refusal: no later recording would move either)
                    where = f" ({self.loc.shown(str(exc.filename))})" if exc.filename else ""
                    if names_its_file(exc):  # (relative to the store: the store, not it again)
                        where = f" (in {self.loc.named})"
                    why = f"{exc.strerror}{where}{then_again(exc)}"  # (EIO: check the disk)
                    failed.append((record.id, f"cannot be moved into place: {why}"))
                    self._remove_staged(staged)
                    continue
                done.append(record)
                if old is not None:
                    replaced.append(old)
            if replaced:  # before the index switches: a kill in between retires nothing listed
                self._retire(replaced)
            # the renames on the disk before the index lists them (a power cut spares them)
            try:
                sync_folders(sorted(renamed_into))
            except OSError as exc:  # (the folder it names, relative to the store)
                raise self.loc.failed(exc, "flushing the renames in") from exc
            appending = True
            append(self.loc, done)  # one file written whole, or not at all
        except OSError as exc:
            if appending and landed(exc):  # the segment is in place (its folder's flush
                self._note_listed(r.to_dict() for r in done)  # failed): they are listed
            else:
                self._unplace(done, [check_group(r.group) for _, r in items])
            raise
        self._note_listed(r.to_dict() for r in done)
        return failed

    def _unplace(self, records: list[RecordingRecord], groups: list[str]) -> None:
        """Remove the groups a commit moved into place and could not list (its index segment
        not written: a full or read-only disk), and a corpus folder it made whose ``zarr.json``
        it could not write (``groups``: every group of the commit): the store is left as the
        last commit left it, which ``validate`` finds sound, and the next ingest writes them
        again. (A kill there leaves them for the next ingest to list again, :meth:`_relist`.)"""
        for record in records:
            with contextlib.suppress(OSError):
                self.loc.remove(check_group(record.group))
        for corpus_group in sorted({g.rsplit("/", 1)[0] for g in groups}):
            if self.loc.local and not self.loc.exists(corpus_group, "zarr.json"):
                with contextlib.suppress(OSError):  # only an empty one: never a listed group
                    os.rmdir(self.loc.path(corpus_group))

    def note_damaged(self, group: str, damage: list[str]) -> None:
        """``group`` (listed) is damaged, and is being written again (``--repair``): when it is
        retired, its :data:`RECORD` says so (``validate`` does not report it again)."""
        self._damaged[group] = list(damage)

    def remove(self, rids: list[str]) -> list[str]:
        """Unlist recordings (one index segment of deletion marks) and retire their groups,
        which later ingests delete like any replaced version (``keep_replaced``). Each group
        first gets a :data:`REMOVED` object, so that it is never listed again as an orphan
        (the index's deletion marks do not outlive a compaction, nor ``retired.json`` damage).
        Its temporary file is written in the staging folder, which the next writer empties,
        so that a kill before its rename leaves nothing in the group (:meth:`_mark_removed`).
        Returns the ids removed (those listed)."""
        rids = [rid for rid in rids if rid in self._listed]
        if not rids:
            return []
        for rid in rids:  # a new object in each group, never relisted from then on
            self._mark_removed(rid, self._listed[rid])
        self._retire([self._listed[rid] for rid in rids], reason="removed")  # before the switch
        append(self.loc, [{"id": rid, "deleted": True} for rid in rids])
        for rid in rids:
            self._groups.discard(self._listed.pop(rid))
            self._records.pop(rid, None)
        return rids

    def _mark_removed(self, rid: str, group: str) -> None:
        """Write ``group``'s :data:`REMOVED` object. Its temporary file lies under
        :data:`STAGING` (emptied when a writer opens the store), not in the group, which no
        sweep lists: in earlier versions a kill before the rename left that temporary in the
        group for good; such leftovers are removed here, as the group is pruned again."""
        marker = json.dumps(seal({"id": rid, "removed_at": time.time()}), allow_nan=False)
        self.loc.check_no_link(group, REMOVED)  # (the sweep below would delete through one)
        if self.loc.local:
            remove_stale_temporaries(self.loc.path(group, REMOVED))
        self.loc.write_bytes(marker.encode(), group, REMOVED, scratch=STAGING)

    def _move_into_place(
        self, staged: str, record: RecordingRecord, renamed_into: set[str]
    ) -> str | None:
        """Rename one staged group to its version path; the listed group it replaces, if any.
        The local folders whose entries the rename changed are added to ``renamed_into`` (the
        commit syncs them once, before the index lists the group)."""
        final = check_group(record.group)
        if final in self._groups:
            raise StoreFormatError(f"{self.loc.named}: {final} is listed; refusing to replace it")
        corpus_group = final.rsplit("/", 1)[0]
        for path in (corpus_group, final, staged):
            self._check_inside(path)
        if not self.loc.exists(corpus_group, "zarr.json"):
            self.loc.write_bytes(group_json({}), corpus_group, "zarr.json")
            if self.loc.local:
                try:
                    sync_file(self.loc.path(corpus_group, "zarr.json"))
                except OSError as exc:
                    raise self.loc.failed(exc, "flushing", corpus_group, "zarr.json") from exc
        if staged != final:
            if not self.loc.exists(staged, "zarr.json"):  # never clear the place for nothing
                raise FileNotFoundError(errno.ENOENT, "the staged group is missing", staged)
            self.loc.remove(final)  # an unlisted leftover of a killed run
            if self.loc.local:  # (on the disk before the index lists it: a power cut spares it)
                self._early.wait(self.loc.path(staged))  # (flushed since its task ended)
                self.loc.rename(tuple(staged.split("/")), tuple(final.split("/")))
                renamed_into.update((self.loc.path(corpus_group), self.loc.path("recordings")))
            else:
                with self.loc.calling("rename", *staged.split("/"), to=tuple(final.split("/"))):
                    self.loc.fs.mv(self.loc.path(staged), self.loc.path(final), recursive=True)
        old = self._listed.get(record.id)
        return old if old is not None and old != final else None

    def _not_committed(self, record: RecordingRecord) -> str | None:
        """Why the commit leaves ``record`` out, before moving its group: a value that would
        make its index line unreadable (and dropped), or a symbolic link on the way to the
        listed group it replaces (:meth:`~eegprep.store.fs.Location.check_no_link`: retiring
        that group would write and delete through the link); None when neither."""
        unsafe = json_problem(record.to_dict())
        if unsafe is not None:
            return f"its record's {unsafe}: not listed"
        listed = self._listed.get(record.id)
        if listed is None:
            return None
        try:
            self.loc.check_no_link(listed)
        except StoreFormatError as exc:
            return f"not replaced: {str(exc).removeprefix(self.loc.named + ': ')}"
        return None

    def _remove_staged(self, staged: str) -> None:
        """Remove a staged group the commit leaves out (its flush, if any, ended first)."""
        if self.loc.local:
            self._early.forget(self.loc.path(staged))
        self.loc.remove(staged)

    def _retired(self) -> dict[str, RetiredEntry]:
        """The retired groups, each with when it was retired and its ``record.json``'s
        checksum; entries that are not a recording group path and a time (a damaged file) are
        left out, so that they block nothing: the groups they stood for are found again as
        orphans."""
        if not self.loc.exists(*RETIRED):
            return {}
        try:
            good, bad = retired_entries(strict_json.loads(self.loc.read_bytes(*RETIRED)))
        except ValueError:  # damaged: forget it; orphans are found again
            good, bad = [], ["not JSON"]
        if bad:
            log.warning("%s: %d damaged entries ignored", "/".join(RETIRED), len(bad))
            self._retired_damaged = True
        return {e.group: e for e in good}

    def _retire(
        self, groups: list[str], when: float | None = None, *, reason: str = "replaced"
    ) -> None:
        """List ``groups`` in ``retired.json``; each listed one first gets its :data:`RECORD`,
        the index record it was listed with (a second copy of its attributes, sealed, which
        ``validate`` checks them by), and its entry that file's ``crc32c``: a ``record.json``
        lost later is damage, not a group retired by an earlier version."""
        now = time.time() if when is None else when
        by_group = {g: rid for rid, g in self._listed.items()}
        sealed: dict[str, str | None] = {}
        for g in groups:
            rid = by_group.get(g)
            if rid in self._records and self.loc.exists(check_group(g), "zarr.json"):
                why = "repaired" if g in self._damaged else reason
                doc = retired_record(self._records[rid], why, self._damaged.get(g))
                # replaced whole by a rename, its temporary file in the staging folder (none
                # in a recording group): a record.json a kill left here (in a group still
                # listed) may be a hard link shared with a copy of the store (`cp -al`), which
                # writing it in place would change too
                self.loc.write_bytes(doc, check_group(g), RECORD, scratch=STAGING)
                sealed[g] = record_seal(doc)
        rows = self._retired()
        for g in groups:
            old = rows.get(check_group(g))
            record = sealed.get(g) or (old.record if old else None) or self._found_record(g)
            rows[g] = RetiredEntry(g, old.when if old else now, record)
        self.loc.write_bytes(retired_document(rows.values()), *RETIRED)

    def _found_record(self, group: str) -> str | None:
        """The checksum of the :data:`RECORD` an orphan already holds (retired before, its
        entry lost with a damaged ``retired.json``), or None when it holds none (or one too
        damaged to state it: validate reports that one while it is there)."""
        try:
            return record_seal(self.loc.read_bytes(group, RECORD))
        except FileNotFoundError:
            return None

    def _collect(self) -> None:
        """Retire orphaned groups (on disk, listed nowhere) and delete expired retired ones.

        Orphans are what a kill between a commit's rename and its index segment leaves, or what
        a lost index no longer lists; the complete ones newer than the listed version are listed
        again (:meth:`_relist`), the others kept ``keep_replaced`` seconds like any replaced
        version, since a reader may still hold an index that lists them.
        """
        listed = self._groups
        retired = self._retired()
        orphans = [g for g in self._groups_on_disk() if g not in listed and g not in retired]
        orphans = [g for g in orphans if not foreign_folder(self.loc, g)]  # (not ours: kept)
        orphans = self._relist(orphans)  # (which retires the versions it supersedes)
        if orphans:
            self._retire(orphans)
        retired = self._restarted(self._retired())
        limit = time.time() - self.keep_replaced
        expired = [g for g, e in retired.items() if e.when <= limit or g in listed]
        doomed = [g for g in expired if g not in listed]
        if any(retired[g].record for g in doomed):
            # first their entries stop saying that a record.json is there: a deletion cut short
            # by a kill leaves a group that validate takes for one being deleted, not damage
            rows = [replace(e, record=None) if e.group in doomed else e for e in retired.values()]
            self.loc.write_bytes(retired_document(rows), *RETIRED)
        for g in doomed:  # its records first: a deletion cut short leaves none to check
            self.loc.remove(check_group(g), RECORD)
            self.loc.remove(g, "zarr.json")
            self.loc.remove(g)
        if expired or self._retired_damaged:  # damaged entries are dropped from the file
            keep = [e for g, e in retired.items() if g not in expired]
            self.loc.write_bytes(retired_document(keep), *RETIRED)
            self._retired_damaged = False

    def _restarted(self, retired: dict[str, RetiredEntry]) -> dict[str, RetiredEntry]:
        """``retired`` with each entry dated after now (retired while the clock ran ahead, and
        set back since) dated now, and the list written so when there are any: its keep
        period restarts now, never shorter than any other's, instead of lasting until the
        clock reaches that date (years, for a clock a year ahead), whatever ``keep_replaced``
        says."""
        now = time.time()
        ahead = [g for g, e in retired.items() if e.when > now]
        if not ahead:
            return retired
        restarted = {g: replace(e, when=now) if g in ahead else e for g, e in retired.items()}
        self.loc.write_bytes(retired_document(restarted.values()), *RETIRED)
        return restarted

    def _relist(self, orphans: list[str]) -> list[str]:
        """List again the complete orphans newer than what the index lists; the rest, returned.

        A group's attributes are its full index record, written only once its samples are in,
        so an orphan holding a record for this recipe, whose id no index lists (a lost or
        damaged index) or whose version is newer than the listed one (a kill between the rename
        of a re-ingested recording's new version and its index segment), is a complete
        recording: it is listed again (the newest version of each id) rather than retired,
        the listed version it supersedes is retired as a commit retires it, and
        :attr:`relisted` names it for the report.
        """
        best: dict[str, tuple[int, dict[str, Any]]] = {}
        for group in orphans:
            record = self._group_record(group)
            version = group_version(group)
            if record is None or version <= self._listed_version(record["id"]):
                continue
            if record["id"] not in best or version > best[record["id"]][0]:
                best[record["id"]] = (version, record)
        records = [rec for _, rec in sorted(best.values(), key=lambda vr: vr[1]["id"])]
        if records:
            replaced = [self._listed[r["id"]] for r in records if r["id"] in self._listed]
            if replaced:  # before the index switches, as in a commit
                self._note_damage_found(replaced)
                self._retire(replaced)
            append(self.loc, records)  # as the group holds it: the two copies stay equal
            self._note_listed(records)
            self.relisted += [r["id"] for r in records]
        back = {r["group"] for r in records}
        return [g for g in orphans if g not in back]

    def _note_damage_found(self, groups: list[str]) -> None:
        """Note what is damaged in the listed ``groups`` a relisted version supersedes
        (:meth:`note_damaged`), so that each is retired as ``repaired``: the kill that left
        the new version unlisted may have cut short an ``ingest --repair`` before it retired
        the damaged one (its process alone knew), and a damaged group retired as ``replaced``
        is damage ``validate`` reports until it is deleted. Reads every byte of those groups
        (only after such a kill)."""
        from eegprep.store.validate_recording import recording_problems

        by_group = {g: rid for rid, g in self._listed.items()}
        for group in groups:
            record = self._records.get(by_group.get(group, ""))
            damage = recording_problems(self.loc, record) if record is not None else []
            if damage:
                self.note_damaged(group, damage)

    def _listed_version(self, rid: str) -> int:
        """The version of the group the index lists for ``rid`` (0 when it lists none)."""
        listed = self._listed.get(rid)
        return 0 if listed is None else group_version(listed)

    def _group_record(self, group: str) -> dict[str, Any] | None:
        """The index record a complete group carries in its attributes (as it holds it, a
        valid :class:`RecordingRecord`), else ``None`` (also for a group a prune removed)."""
        if self.loc.exists(group, REMOVED):
            return None
        try:
            meta = strict_json.loads_zarr_json(
                self.loc.read_bytes(group, "zarr.json"), not_record_keys
            )
            record = meta["attributes"]
        except (OSError, ValueError, KeyError, TypeError):
            return None
        corpus, name = group.split("/")[1], group.split("/")[2].split("@")[0]
        needed = ("channels", "channel_index", "n_samples", "sfreq", "qc", "source")
        if (
            not isinstance(record, dict)
            or record.get("id") != f"{corpus}/{name}"
            or record.get("group") != group
            or record.get("recipe_hash") != self.recipe.hash()
            or any(k not in record for k in needed)
            or find_unsafe(record) is not None
        ):
            return None
        try:
            RecordingRecord.from_dict(record)
        except (KeyError, TypeError, ValueError, IndexError):  # a field of the wrong shape
            return None
        return record

    def _groups_on_disk(self) -> list[str]:
        return groups_on_disk(self.loc)[0]  # (other entries are not the store's: left alone)

    def save_report(self, report: dict[str, Any]) -> str:
        name = next_report_name(self.loc)
        data = json.dumps(seal(report), indent=2, allow_nan=False).encode()  # validate checks it
        self.loc.write_bytes(data, *REPORTS, name)
        return self.loc.path(*REPORTS, name)


def _describe(recipe: dict[str, Any]) -> str:
    keys = ("l_freq", "h_freq", "sfreq", "mode", "encoding")
    return ", ".join(f"{k}={recipe.get(k)}" for k in keys)
