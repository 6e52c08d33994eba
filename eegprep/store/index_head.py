"""The index's head: which segment the store's last commit wrote, its size and CRC-32C, in
``_eegprep/index/head.json`` (a sealed JSON document: :mod:`eegprep.base.sealed`).

Without it the last segment lost (deleted, cut at a line's end, replaced by an older copy)
reads as an ingest stopped before that commit: a shorter, valid index, the recordings it listed
gone unsaid. With it, that is damage (:func:`head_problems`): readers refuse the store in one
line, ``validate`` reports it, and the next ingest lists those recordings again from their
groups.

The head also states what the segment lists: how many lines, and a CRC-32C of their ids (and
which are deletion marks). A segment of another size that lists just those (values another
program edited, a group among them) is judged record by record, as before (the record
against its group's copy), and so is one of the head's size (a flipped bit); one that lists
others (cut at a line's end, an older copy of another commit) is damage.

Written after the segment it names, each whole (a temporary name and a rename) and flushed:
a kill between the two leaves the head naming the segment before, and a segment after the one
the head names is a commit it does not name yet (sound). A compaction writes it for its new
base before deleting the older segments, and again once the base has its canonical name
(``0000000001.jsonl``): a kill between that rename and the write leaves a head naming the base
by its number before the rename, whose size and CRC-32C the base under the canonical name has.
A store written before the head has none: it is read as before, and gains one at its next
commit or compaction.

Concurrency contract: written by the store's one writer; a reader reads the head before it
lists the segments (a commit's segment is then listed), and reads it again when it finds a
problem: a head changed meanwhile (a commit, a compaction) means the index is read again.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass

import google_crc32c

from eegprep.base import strict_json
from eegprep.base.errors import StoreAccessError
from eegprep.base.path_limits import described
from eegprep.base.sealed import seal, seal_problem
from eegprep.base.wording import counted
from eegprep.store.fs import Location

INDEX_FOLDER = ("_eegprep", "index")
"""The index's folder (``eegprep.store.index.INDEX_DIR``)."""
HEAD = (*INDEX_FOLDER, "head.json")
"""Where the head lies: in the index's folder, so that the folder copied whole (a backup, a
reader's older copy) keeps the head of its own segments (no segment: it ends ``.json``)."""

_VERSION = 1
_SEGMENT = re.compile(r"[0-9]{10}\.jsonl")
_KEYS = {"version", "segment", "size", "segment_crc32c", "records", "records_crc32c", "crc32c"}


@dataclass(frozen=True)
class Head:
    """The newest committed segment: its name, its size in bytes and its CRC-32C (8 hex
    digits)."""

    segment: str
    size: int
    crc32c: str
    records: int
    records_crc32c: str

    def holds(self, blob: bytes) -> bool:
        """Whether ``blob`` is the segment this head names, byte for byte (size and CRC)."""
        return len(blob) == self.size and _crc(blob) == self.crc32c


def _crc(blob: bytes) -> str:
    return f"{google_crc32c.value(blob):08x}"


def listing(rid: str, deleted: object) -> str:
    """What a segment line lists, as the head's ``records_crc32c`` covers it: its id, and
    whether it is a deletion mark."""
    return f"{rid}\tdeleted" if deleted else rid


def _listed_crc(listed: list[str]) -> str:
    return _crc("\n".join(listed).encode("utf-8", "surrogatepass"))


def head_document(name: str, blob: bytes, listed: list[str]) -> bytes:
    """The head's bytes for segment ``name`` holding ``blob``, whose lines list ``listed``
    (:func:`listing`, in line order): the same for the same segment (a store's bytes do not
    depend on its commit history once compacted)."""
    doc = {
        "version": _VERSION,
        "segment": name,
        "size": len(blob),
        "segment_crc32c": _crc(blob),
        "records": len(listed),
        "records_crc32c": _listed_crc(listed),
    }
    return json.dumps(seal(doc), allow_nan=False).encode()


def write_head(loc: Location, name: str, blob: bytes, listed: list[str]) -> None:
    """Name segment ``name`` (bytes ``blob``, in place already, listing ``listed``) the newest
    committed one. Writer only; raises ``OSError`` as any write does."""
    loc.write_bytes(head_document(name, blob, listed), *HEAD)


def read_head(loc: Location) -> tuple[Head | None, str | None]:
    """The head and ``None``; ``(None, None)`` when the store has none (written before it);
    ``(None, what is wrong)`` when it is damaged (its index is then not checked by it)."""
    where = "/".join(HEAD)
    try:
        doc = strict_json.loads(loc.read_bytes(*HEAD))
    except FileNotFoundError:
        return None, None
    except StoreAccessError:  # (the file system's refusal, not damage: its own line)
        raise
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        return None, f"{where}: damaged ({described(exc, named=True)})"
    if (
        not isinstance(doc, dict)
        or set(doc) != _KEYS
        or doc["version"] != _VERSION
        or not isinstance(doc["segment"], str)
        or not _SEGMENT.fullmatch(doc["segment"])
        or not isinstance(doc["size"], int)
        or isinstance(doc["size"], bool)
        or not isinstance(doc["segment_crc32c"], str)
        or not isinstance(doc["records"], int)
        or not isinstance(doc["records_crc32c"], str)
    ):
        return None, f"{where}: damaged (not an index head document)"
    problem = seal_problem(doc)
    if problem:
        return None, f"{where}: damaged ({problem})"
    fields = ("segment", "size", "segment_crc32c", "records", "records_crc32c")
    return Head(*(doc[k] for k in fields)), None


def head_problems(
    head: Head | None,
    names: list[str],
    blob_of: Callable[[str], bytes],
    listed_of: Callable[[str], list[str]],
    found: list[str],
) -> list[str]:
    """A line when the index's segments ``names`` (in name order) lack the one ``head``
    names, or hold it listing other records: the last commit's segment deleted, cut at a
    line's end, or replaced by an older copy. None when there is no head or no segment (the
    index lost whole: judged apart), when a later segment is there (a commit the head does not
    name yet; a gap is another check's line), or when ``found``, the problems found so far,
    name the segment already (emptied, a damaged line: its readers judge it by those, as
    before). ``blob_of(name)``: a segment's bytes; ``listed_of(name)``: what its lines list
    (:func:`listing`). A segment of the head's size is taken for it: a CRC of a 129 MB base
    took 30-70 ms, a tenth of opening a store, and a flipped bit is judged by each record's
    own checks (every reader and ``validate`` alike); the CRC names the base a compaction
    renamed."""
    if head is None or not names:
        return []
    seq = int(head.segment[:10])
    if any(n[:10].isdigit() and n[:10].isascii() and int(n[:10]) > seq for n in names):
        return []
    shown = "/".join((*INDEX_FOLDER, head.segment))
    if head.segment in names:
        if len(blob_of(head.segment)) == head.size or any(
            p.startswith((f"{shown}:", f"{shown} ")) for p in found
        ):
            return []
        listed = listed_of(head.segment)
        if len(listed) == head.records and _listed_crc(listed) == head.records_crc32c:
            return []  # (values edited, a flipped bit: each record is judged by its checks)
        other = ", other ones" if len(listed) == head.records else ""
        return [
            f"{shown}: not the segment the last commit wrote (it lists "
            f"{counted(len(listed), 'record')}{other}; {'/'.join(HEAD)} names "
            f"{head.records}): cut short or replaced "
            "by an older copy (what the commit listed is lost: read so, the index would be "
            "an older one)"
        ]
    base = f"{1:010d}.jsonl"  # a compaction's base renamed, the head not yet written again
    if base in names and head.holds(blob_of(base)):
        return []
    return [
        f"{shown} missing: the last commit wrote it ({'/'.join(HEAD)} names it), and the index "
        f"ends at {names[-1]} "
        "(what it listed is lost: read without it, the index would be an older one)"
    ]
