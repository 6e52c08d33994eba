"""The ``zarr.json`` eegprep writes for each array of a recording group, derived from the record
the group carries; the forms earlier versions wrote of it; and what in a found one differs.

No checksum covers an array's ``zarr.json``, and zarr decodes every chunk as it says: a flipped
bit in its data type, a codec's settings, its chunk grid, its chunk key separator or its shape
can change the values read (a byte order, a row count), or read the fill value in place of
chunks, and fail no CRC. So ``eegprep validate`` (:mod:`eegprep.store.validate_recording`,
every array of a group: ``data``, ``channel``, ``time`` and each target series the record
names) and ``Store.read_target`` compare the whole document, less the attributes another
program added (:mod:`eegprep.store.added_attrs`), with what eegprep writes for the record.

A target series' row count is not in the record: it is taken from the found document's
``shape``, and its chunk grid (eegprep writes one chunk row of all the rows) must agree, so one
flipped bit in either is a difference. Records of versions that state no ``encoding`` are not
compared (their writers' documents are not known here).

The documents earlier versions wrote are accepted exactly as they wrote them, no other:
:data:`PAST_FORMS` lists each, with the commits that wrote it. No release was tagged and the
version never left 0.1.0, so every commit that wrote a store counts; records state their
``encoding`` from 829cebd (2026-12-01) on, and the forms are those every commit since writes,
found by ingesting one corpus (the ``mobi`` fixture: ``data``, ``channel``, ``time`` and a
target, in each encoding) under each commit that changed the store's writer. Blosc zstd
(level 5 for every array until 4b16c42, level 3 for the quantized encoding until a53d00a) and
arrays without the ``crc32c`` codec (until e613381) were written only beside records that state
no ``encoding``: under a record that states one, they are damage.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eegprep.base.path_limits import shown_path
from eegprep.base.wording import counted

ENCODINGS = ("float32", "float16", "quantized")
"""The encodings a record states; a record stating none (or another) is of an earlier version."""


def expected_documents(record: dict[str, Any], name: str, found: Any) -> list[Any] | None:
    """The documents eegprep writes for the array ``name`` of ``record``'s group: the current
    one first, then the forms earlier versions wrote of it (:data:`PAST_FORMS`); None when
    eegprep cannot say (a record that states no ``encoding``, a name that is none of its
    arrays).

    ``found`` (the document in the store, less added attributes) gives a target's row count.
    """
    current = _current(record, name, found)
    return None if current is None else _with_past_forms(current, name)


def _with_past_forms(current: dict[str, Any], name: str) -> list[Any]:
    """``current`` (array ``name``'s document now) and the :data:`PAST_FORMS` of it."""
    kind = name if name in ("data", "channel", "time") else "target"
    return [current, *(form.edit(current) for form in PAST_FORMS if kind in form.arrays)]


def _current(record: dict[str, Any], name: str, found: Any) -> dict[str, Any] | None:
    """The document eegprep writes now for the array ``name`` of ``record``'s group (None:
    eegprep cannot say, :func:`expected_documents`)."""
    if record.get("encoding") not in ENCODINGS or not _usable(record):
        return None
    if name in ("data", "channel", "time"):
        return _documents(record)[name]
    if name not in (record.get("targets") or []):
        return None
    from eegprep.store.shards import CHUNK_SECONDS, target_document

    shape = found.get("shape") if isinstance(found, dict) else None
    rows = shape[0] if isinstance(shape, list) and shape and isinstance(shape[0], int) else -1
    chunk = int(CHUNK_SECONDS * float(record["sfreq"]))
    return target_document(name, rows, int(record["n_samples"]), chunk)


def _usable(record: dict[str, Any]) -> bool:
    """Whether the record's fields the documents are built from have their types (a record
    whose own fields are damaged is reported by the checks that read them)."""
    sfreq, n_samples, channels = (
        record.get("sfreq"),
        record.get("n_samples"),
        record.get("channels"),
    )
    return (
        isinstance(sfreq, (int, float))
        and not isinstance(sfreq, bool)
        and sfreq > 0
        and isinstance(n_samples, int)
        and not isinstance(n_samples, bool)
        and n_samples >= 0
        and isinstance(channels, list)
    )


def document_problem(record: dict[str, Any], name: str, found: Any) -> str | None:
    """What in ``found`` (array ``name``'s ``zarr.json``, less added attributes) differs from
    what eegprep writes for ``record`` (``data_type 'int32', eegprep writes 'float32'``), from
    the nearest of its forms; None when it is one of them, or eegprep cannot say."""
    current = _current(record, name, found)
    if current is None or found == current:  # (what every read of a sound store meets)
        return None
    wanted = _with_past_forms(current, name)
    if found in wanted:
        return None
    shape, chunk = _at(found, "shape"), _at(found, "chunk_grid", "configuration", "chunk_shape")
    rows = [shape[0] if isinstance(shape, list) and shape else None]
    rows.append(chunk[0] if isinstance(chunk, list) and chunk else None)
    if name not in ("data", "channel", "time") and rows[0] != rows[1]:
        return f"shape {shape} and chunk_shape {chunk} disagree on the rows"  # (one chunk row)
    nearest = min(wanted, key=lambda want: _n_differing(found, want))
    return _difference(found, nearest, "") or "its layout"


def _at(doc: Any, *keys: str) -> Any:
    """``doc[k1][k2]...``, or None where a level is missing or not an object."""
    for key in keys:
        doc = doc.get(key) if isinstance(doc, dict) else None
    return doc


def _n_differing(found: Any, want: dict[str, Any]) -> int:
    """The number of top-level keys in which ``found`` and ``want`` differ."""
    if not isinstance(found, dict):
        return len(want) + 1
    return sum(found.get(k) != want.get(k) or (k in found) != (k in want) for k in {*found, *want})


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _difference(found: Any, want: Any, path: str) -> str | None:
    """The first place, in ``want``'s key order, where ``found`` differs from ``want``:
    ``codecs[1].configuration.cname 'lz5', eegprep writes 'lz4'``; None when equal."""
    if isinstance(want, dict) and isinstance(found, dict):
        for key in want:
            where = f"{path}.{key}" if path else key
            if key not in found:
                return f"no {where}"
            inner = _difference(found[key], want[key], where)
            if inner:
                return inner
        extra = sorted(str(k) for k in found if k not in want)
        if extra:
            where = f"{path}.{extra[0]}" if path else extra[0]
            return f"{where}, which eegprep does not write"
        return None
    if isinstance(want, list) and isinstance(found, list):
        for i, (f, w) in enumerate(zip(found, want, strict=False)):
            inner = _difference(f, w, f"{path}[{i}]")
            if inner:
                return inner
        if len(found) != len(want):
            return (
                f"{shown_path(path)} of {counted(len(found), 'item')}, eegprep writes {len(want)}"
            )
        return None
    differs = f"{path or 'the document'} {_shown(found)}, eegprep writes {_shown(want)}"
    if type(found) is not type(want) and not {type(found), type(want)} <= {int, float}:
        return differs
    return None if found == want else differs


def _documents(record: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The ``zarr.json`` documents eegprep writes for ``record``'s ``data``, ``channel`` and
    ``time`` (:func:`~eegprep.store.shards.metadata_documents`); the record states an encoding."""
    from eegprep.store.shards import CHUNK_SECONDS, SHARD_CHUNKS, Layout, metadata_documents

    encoding = str(record["encoding"])
    sfreq = float(record["sfreq"])
    chunk = int(CHUNK_SECONDS * sfreq)
    quantum = record.get("quantum_uv") if encoding == "quantized" else None
    layout = Layout(len(record["channels"]), sfreq, encoding, quantum, chunk, chunk * SHARD_CHUNKS)
    return metadata_documents(layout, int(record["n_samples"]))


def _slash_keys(doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` with zarr's default chunk key separator, ``/`` (``c/0/3``), for ``.``."""
    keys = doc["chunk_key_encoding"]
    return {**doc, "chunk_key_encoding": {**keys, "configuration": {"separator": "/"}}}


_VLEN = {"name": "vlen-utf8", "configuration": {}}
_NAMES_ZSTD = {"name": "zstd", "configuration": {"level": 0, "checksum": False}}


def _names_zstd(doc: dict[str, Any]) -> dict[str, Any]:
    """The ``channel`` array's document with its names compressed by zstd after
    ``vlen-utf8`` (zarr's default for strings)."""
    codecs = doc["codecs"]
    return {**doc, "codecs": [_VLEN, _NAMES_ZSTD, *codecs[1:]]}


@dataclass(frozen=True)
class PastForm:
    """A form of an array's ``zarr.json`` that earlier commits of eegprep 0.1.0 wrote.

    Attributes
    ----------
    first, last : str
        The first and the last commit that wrote it.
    arrays : tuple of str
        The arrays it applies to: ``data``, ``channel``, ``time``, ``target`` (every target
        series).
    edit : callable
        The current document -> this form of it (a new dict).
    """

    first: str
    last: str
    arrays: tuple[str, ...]
    edit: Callable[[dict[str, Any]], dict[str, Any]]


PAST_FORMS: tuple[PastForm, ...] = (
    # chunk keys with zarr's default "/" until 364340a, for the arrays eegprep writes itself
    PastForm("829cebd", "a2ec6fd", ("data", "time"), _slash_keys),
    PastForm("829cebd", "a2ec6fd", ("channel",), lambda d: _names_zstd(_slash_keys(d))),
    # the channel names compressed with zstd until 63d470f
    PastForm("364340a", "fcca6d2", ("channel",), _names_zstd),
)
"""Every form of an array's document that an earlier commit wrote beside a record stating its
``encoding`` (829cebd, 2026-12-01, onwards), and the commits that wrote it; a target series'
document has not changed since."""
