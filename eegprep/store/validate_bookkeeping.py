"""Check what a store holds beside its recordings; report every problem on one line.

The index and its fields file (:func:`index_records`), the recording groups on disk that the
index does not list (:func:`unlisted_groups`), the two top groups' metadata, the ingest reports
and the seen-files cache (:func:`bookkeeping_problems`). A group that holds no record (what a
stopped ingest leaves) is no damage: a note line (:func:`no_record_notes`).

Concurrency contract: read-only; safe while an ingest writes: the groups it is committing,
not listed yet, and the folder of a corpus it is starting (its ``zarr.json`` not yet written)
are not reported while it holds the lock.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from eegprep.base import strict_json
from eegprep.base.files import TMP_MARK
from eegprep.base.path_limits import described, shown_path
from eegprep.base.sealed import KEY, seal_problem
from eegprep.base.wording import counted, noun
from eegprep.store.added_attrs import added_notes, without_added
from eegprep.store.consolidated import consolidated_note, without_consolidated
from eegprep.store.fs import Location
from eegprep.store.group_attrs import holds_no_record
from eegprep.store.group_path import CORPUS_FOLDER, foreign_folder, groups_on_disk
from eegprep.store.index import INDEX_DIR, fields_file_problem, read_index_checked
from eegprep.store.index_head import read_head
from eegprep.store.lock_file import ingest_running
from eegprep.store.retired_list import RECORD, RETIRED
from eegprep.store.validate_recording import MAX_LINES
from eegprep.store.validate_retired import RETIRED_PREFIX


def no_record_notes(groups: list[str], *, retired: bool) -> list[str]:
    """A ``note`` line for each group that holds no record (at most :data:`MAX_LINES`)."""
    what = "no zarr.json, or empty attributes: what a stopped ingest leaves of a group it never "
    if retired:
        prefix = RETIRED_PREFIX
        what += "listed, or a deletion cut short); nothing to check: an ingest deletes it after "
    else:
        prefix = ""
        what += "listed); not damage: the next ingest retires it, and deletes it after "
    lines = [f"{prefix}{g}: holds no record ({what}--keep-replaced" for g in groups]
    if len(lines) > MAX_LINES:
        more = len(lines) - MAX_LINES
        lines = [*lines[:MAX_LINES], f"recordings: {more} more groups that hold no record"]
    return lines


def index_records(loc: Location, problems: list[str]) -> dict[str, dict[str, Any]]:
    """The index's records by id: each damaged line, a stale or damaged fields file, the
    segment the index's head names lost (:mod:`eegprep.store.index_head`) and a damaged head,
    a line in ``problems``; none when the index cannot be read (a line too)."""
    try:
        records, damaged = read_index_checked(loc)
    except Exception as exc:
        problems.append(f"{'/'.join(INDEX_DIR)}: unreadable ({described(exc)})")
        return {}
    problems += damaged
    try:
        stale = fields_file_problem(loc)
    except Exception as exc:
        stale = f"{'/'.join(INDEX_DIR)}: fields file unreadable ({described(exc)})"
    if stale:
        problems.append(stale)
    damaged_head = read_head(loc)[1]
    if damaged_head:
        problems.append(
            f"{damaged_head}: the index's last segment is not checked against it; the next "
            "ingest writes it again"
        )
    return records


def same_source_problems(records: dict[str, dict[str, Any]]) -> list[str]:
    """One line for each index record that names the source of an earlier one (by id) in the
    same corpus: the same ``source`` path (relative to the corpus's root) and ``part``, or the
    same content digest and ``part`` (:func:`~eegprep.store.record.source_identity`). An
    ingest lists a corpus's source once (a file under two names once, each other name a line
    of its own): two such records are one recording listed twice (another program's index, a
    store merged by hand), which the training windows would read twice."""
    from eegprep.store.record import source_identity

    first: dict[tuple[Any, str], str] = {}
    lines = []
    for rid, record in records.items():
        corpus, part, path = record.get("corpus"), record.get("part"), record.get("source")
        digest = source_identity(record.get("source_blake3") or record.get("source_sha256"), part)
        named = f"{path}\0{part}" if isinstance(path, str) and path else ""
        for key, what in ((named, f"file {shown_path(str(path))}"), (digest, f"(digest {digest})")):
            if key and (corpus, key) in first:
                lines.append(
                    f"{first[(corpus, key)]} and {rid}: index records of the same source {what}"
                )
                break
            if key:
                first[(corpus, key)] = rid
    return lines


def unlisted_groups(
    loc: Location,
    records: dict[str, dict[str, Any]],
    retired: set[str],
    problems: list[str],
    notes: list[str],
) -> None:
    """Recording groups on disk that the index does not list (nor lists as retired): a
    problem each, but for those that hold no record (what a stopped ingest leaves), a note."""
    try:
        groups = _listed_groups(records)
        on_disk = _groups_on_disk(loc, problems, notes, groups)
        listed = set(groups) | retired
        unlisted = [g for g in on_disk if g not in listed]
        has_index = any(n.endswith(".jsonl") for n in loc.list(*INDEX_DIR))
    except Exception as exc:
        problems.append(f"recordings: cannot be listed ({described(exc)})")
        return
    if not unlisted or ingest_running(loc):
        return  # (a running ingest's groups: on object stores it writes them in place)
    foreign = [g for g in unlisted if foreign_folder(loc, g)]
    notes += [f"{g}: {_FOREIGN}" for g in foreign[:MAX_LINES]]
    unlisted = [g for g in unlisted if g not in set(foreign)]
    empty = [g for g in unlisted if holds_no_record(loc, g)]
    notes += no_record_notes(empty, retired=False)
    unlisted = [g for g in unlisted if g not in set(empty)]
    if not unlisted:
        return
    if not records:
        what = "index lists none of them" if has_index else "index missing"
        problems.append(
            f"{what}: {len(unlisted)} recording groups under recordings/ are not listed"
        )
        return
    for group in unlisted[:MAX_LINES]:
        if loc.exists(group, RECORD):  # only a retired group holds one
            problems.append(
                f"{group}: a retired group (it holds {RECORD}) that {'/'.join(RETIRED)} "
                "does not list (that list lost or damaged): the next ingest retires it again"
            )
            continue
        problems.append(
            f"{group}: recording group on disk that the index does not list (an ingest stopped "
            "mid-commit, or its index line damaged or its segment lost: the next ingest lists "
            "it again from the group, or retires it)"
        )
    if len(unlisted) > MAX_LINES:
        problems.append(f"recordings: {len(unlisted) - MAX_LINES} more unlisted groups")


def _listed_groups(records: dict[str, dict[str, Any]]) -> list[str]:
    """The group paths (from the store root) that the index's records name."""
    return [g for g in (r.get("group") for r in records.values()) if isinstance(g, str)]


def _groups_on_disk(
    loc: Location, problems: list[str], notes: list[str], listed: list[str]
) -> list[str]:
    """``recordings/{corpus}/{name}`` folders; a corpus group whose ``zarr.json`` is missing or
    damaged is a problem. Entries there that no ingest writes (a file, a ``.DS_Store``, a
    NAS's ``@eaDir``) are a note each, as every ingest passes over them: not damage."""
    groups, stray = groups_on_disk(loc)
    for corpus in sorted({g.split("/")[1] for g in groups} | _corpus_folders(loc)):
        if loc.exists("recordings", corpus, "zarr.json") or not ingest_running(loc):
            _group_doc(loc, ("recordings", corpus), {}, problems, notes, listed)
        # (else a running ingest made the folder a moment ago and writes its zarr.json next)
    notes += [f"{shown_path(path)}: {_FOREIGN}" for path in stray[:MAX_LINES]]
    if len(stray) > MAX_LINES:
        notes.append(f"recordings: {len(stray) - MAX_LINES} more entries that are no group")
    return [g for g in groups if TMP_MARK not in g.rsplit("/", 1)[1]]


_FOREIGN = (
    "not a recording group eegprep writes (a file, a name no group has, or a folder holding "
    "what no group holds); no ingest reads, changes or deletes it (not damage)"
)


def _corpus_folders(loc: Location) -> set[str]:
    """The corpus folders under ``recordings/``, those that hold no group yet included."""
    return {
        name
        for name, folder in loc.entries("recordings")
        if folder and CORPUS_FOLDER.fullmatch(name) and TMP_MARK not in name
    }


# The attributes of the groups that hold no recording: each group's whole ``zarr.json`` is known,
# so a flipped bit anywhere in it is a difference (no single-bit flip of JSON's whitespace is
# whitespace).
_GROUP_ATTRS: dict[tuple[str, ...], dict[str, Any]] = {
    ("recordings",): {},
    ("_eegprep",): {"description": "eegprep bookkeeping"},
}


def _group_doc(
    loc: Location,
    parts: tuple[str, ...],
    attrs: dict[str, Any],
    problems: list[str],
    notes: list[str],
    listed: Collection[str] = (),
) -> None:
    """A group's ``zarr.json`` must be exactly the group eegprep writes there, but for
    attributes another program added (zarr-python's ``group.attrs["x"] = 1``): a ``note:``
    line, unless a key one bit from one of eegprep's that is missing (damage); and but for
    zarr's consolidated metadata: a ``note:`` line, saying whether it lacks any of the
    ``listed`` recording groups (paths from the store root) below it."""
    where = "/".join((*parts, "zarr.json"))
    try:
        doc, added = without_added(loc.read_bytes(*parts, "zarr.json"), attrs)
    except FileNotFoundError:
        problems.append(f"{where}: missing (a group of the store)")
        return
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        problems.append(f"{where}: damaged ({described(exc, named=True)})")
        return
    doc, nodes = without_consolidated(doc)
    want = {"zarr_format": 3, "node_type": "group", "attributes": attrs}
    if doc != want:
        problems.append(f"{where}: damaged (not the group document eegprep writes: {want})")
    else:
        notes += added_notes(where, added)
        if nodes is not None:  # (each listed group below, by its path from this group)
            top = "/".join(parts) + "/"
            below = [g[len(top) :] for g in listed if g.startswith(top)]
            notes.append(consolidated_note(where, nodes, below))


def group_documents(loc: Location) -> list[tuple[tuple[str, ...], dict[str, Any]]]:
    """Each group that holds no recording and the attributes eegprep writes on it (its whole
    ``zarr.json`` is known): ``recordings``, ``_eegprep`` and every corpus group that
    ``validate`` judges (a corpus folder under ``recordings/``). Not the root: its attributes
    hold the recipe. Found by listing ``recordings/`` alone, not every recording group: an
    ingest asks this of a store of 100,000 recordings too."""
    corpora = sorted(_corpus_folders(loc))
    return [*_GROUP_ATTRS.items(), *((("recordings", c), {}) for c in corpora)]


def group_doc_problem(loc: Location, parts: tuple[str, ...], attrs: dict[str, Any]) -> str | None:
    """The line ``validate`` gives for the ``zarr.json`` of the group ``parts``, whose
    attributes eegprep writes as ``attrs``; None when it is sound."""
    problems: list[str] = []
    _group_doc(loc, parts, attrs, problems, [])
    return problems[0] if problems else None


def bookkeeping_problems(
    loc: Location,
    records: dict[str, dict[str, Any]],
    problems: list[str],
    notes: list[str] | None = None,
) -> None:
    """The objects beside the recordings: the two top groups' metadata, the ingest reports and
    the seen-files cache (which the next ingest ignores when damaged, but which is named here)."""
    from eegprep.store.reports import read_reports

    try:
        for parts, attrs in _GROUP_ATTRS.items():
            if parts == ("_eegprep",) and not loc.exists("_eegprep"):
                continue
            shown = [] if notes is None else notes
            _group_doc(loc, parts, attrs, problems, shown, _listed_groups(records))
        problems += read_reports(loc)[1]
        _seen_problems(loc, records, problems, [] if notes is None else notes)
    except Exception as exc:  # never a traceback: a line
        problems.append(f"_eegprep: cannot be checked ({described(exc)})")


def _seen_problems(
    loc: Location, records: dict[str, dict[str, Any]], problems: list[str], notes: list[str]
) -> None:
    """``_eegprep/seen.json``: strict JSON of its layout, each entry for the current version of
    a listed recording stating that record's content hashes and files (paths and sizes; the
    mtimes may be later ones, of files that ``--verify-checksums`` found to hold the record's
    bytes after they were touched). An entry for another group or id is stale (a killed
    ingest writes none: the next one drops it), never trusted; any other flipped bit fails the
    file's ``crc32c`` (earlier versions wrote none). Entries as versions before fcca6d2 wrote
    them (``group`` and ``files``, no ``hashes``) vouch for nothing (the next ingest checks
    those files by content and writes them anew): a ``note:`` line, no damage; so do entries
    without ``window_ns`` (the racy window their stamps were judged under), which versions
    before it wrote for racy stamps too (:mod:`eegprep.ingestion.seen_files`)."""
    from eegprep.store.writer import SEEN

    where = "/".join(SEEN)
    doc = _seen_doc(loc, where, problems)
    if doc is None:
        return
    bad, earlier, unracy = [], 0, 0
    for rid, entry in doc["recordings"].items():
        kind = _seen_entry(entry, records.get(rid), KEY in doc)
        if kind == "earlier":
            earlier += 1
        elif kind == "unracy":
            unracy += 1
        elif kind == "bad":
            bad.append(rid)
    if bad:
        problems.append(
            f"{where}: damaged ({counted(len(bad), 'entry')} {noun(len(bad), 'does')} not match "
            f"the index, first {bad[0]!r}); "
            "a cache, ignored for them"
        )
    if earlier:
        notes.append(
            f"{where}: {counted(earlier, 'entry')} in an earlier version's form (no content "
            "hashes): they vouch for nothing; the next ingest checks those files by content once"
        )
    if unracy:
        notes.append(
            f"{where}: {counted(unracy, 'entry')} in an earlier version's form (no window_ns: "
            "racy stamps noted too): they vouch for nothing; the next ingest checks those files "
            "by content once"
        )


def _seen_doc(loc: Location, where: str, problems: list[str]) -> dict[str, Any] | None:
    """The seen-files document ``where`` names, or None (absent; or damaged: a line in
    ``problems``) when it is not a sealed document of its layout."""
    from eegprep.store.writer import SEEN

    if not loc.exists(*SEEN):
        return None
    try:
        doc = strict_json.loads(loc.read_bytes(*SEEN))
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        problems.append(f"{where}: damaged ({described(exc, named=True)}); a cache, ignored")
        return None
    entries = doc.get("recordings") if isinstance(doc, dict) else None
    if (
        not isinstance(doc, dict)
        or not {"version", "recordings"} <= set(doc) <= {"version", "recordings", KEY}
        or doc.get("version") != 1
        or not isinstance(entries, dict)
    ):
        problems.append(f"{where}: damaged (not a seen-files document); a cache, ignored")
        return None
    damaged = seal_problem(doc)
    if damaged:
        problems.append(f"{where}: damaged ({damaged}); a cache, ignored")
        return None
    return doc


def _seen_entry(entry: Any, record: dict[str, Any] | None, sealed: bool) -> str:
    """What one entry of a seen-files document (``sealed``: it has a checksum) is beside its
    recording's index ``record``: ``"earlier"`` or ``"unracy"`` (an earlier version's form),
    ``"bad"``, ``"stale"`` (for another group or id) or ``"ok"``."""
    from eegprep.corpus.sources import listed_files, listed_hashes

    if isinstance(entry, dict) and set(entry) == {"group", "files"} and not sealed:
        return "earlier"  # (the form before fcca6d2: trusted for nothing)
    if isinstance(entry, dict) and set(entry) == {"group", "hashes", "files"}:
        return "unracy"  # (the form before window_ns: racy stamps noted too, trusted for nothing)
    if (
        not isinstance(entry, dict)
        or set(entry) != {"group", "hashes", "files", "window_ns"}
        or not isinstance(entry["window_ns"], int)
        or isinstance(entry["window_ns"], bool)
    ):
        return "bad"
    if record is None or entry["group"] != record.get("group"):
        return "stale"  # vouches for nothing
    files = entry["files"]
    listed = [[f.get("path"), f.get("size")] for f in listed_files(record)]
    ok = (
        entry["hashes"] == listed_hashes(record)
        and isinstance(files, list)
        and all(
            isinstance(row, list)
            and len(row) == 5
            and all(isinstance(x, int) and not isinstance(x, bool) for x in row[1:])
            for row in files
        )
        and [row[:2] for row in files] == listed
    )
    return "ok" if ok else "bad"
