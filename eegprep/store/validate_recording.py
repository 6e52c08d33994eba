"""Check one recording byte by byte against its index record; report every problem on one line.

:func:`recording_problems` reads every byte of a recording, without a Store: the group and its
metadata (its attributes equal to the record), every shard (present, whole, its index's
CRC-32C), every chunk (its CRC-32C where the store has them, decoded to a whole chunk, finite
samples), the ``channel`` and ``time`` coordinates and any target series, and every other
entry of the group (:mod:`eegprep.store.group_members`: a chunk no read sees is damage).
``eegprep validate`` (:mod:`eegprep.store.validate`) runs it on each listed recording and,
through :mod:`eegprep.store.validate_retired`, on each retired group; ``eegprep ingest
--repair`` runs it on the records it is given.

Each problem is one line starting with the recording's id (or the name it is given); nothing
raised while checking escapes (it becomes a line too).

Concurrency contract: read-only; safe while an ingest writes.
"""

from __future__ import annotations

import functools
import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from eegprep.base import strict_json
from eegprep.base.errors import StoreFormatError
from eegprep.base.path_limits import described, shown_path
from eegprep.store.added_attrs import added_notes, array_keys, shown_keys, without_added
from eegprep.store.array_docs import document_problem
from eegprep.store.chunk_sums import TARGETS, target_problem
from eegprep.store.consolidated import consolidated_note, without_consolidated
from eegprep.store.fs import Location
from eegprep.store.group_attrs import added_keys, differing_keys, not_a_group
from eegprep.store.group_members import FOLDER_AT_KEY, member_findings
from eegprep.store.record_details import block_problem, details_problem
from eegprep.store.record_values import (
    channels_problem,
    chunk_problem,
    group_problem,
    is_stored_target_name,
    joins_problem,
    kinds_problem,
    rate_problem,
    samples_problem,
    samples_type_problem,
)
from eegprep.store.shard_reader import ShardReader


@dataclass(frozen=True)
class _StoreFacts:
    """What a recording is checked against: its store's recipe hash, rate (Hz) and channel
    vocabulary, each None when not known (eegprep's vocabulary then)."""

    recipe_hash: str | None
    sfreq: float | None
    vocabulary: Sequence[str] | None


_KEY_NAME = re.compile(r"c([./][0-9]+)*")  # a chunk's file (or its key's first folder)
BLOCK = 360_000  # samples per read of an array not in eegprep's own layout (one shard)
MAX_LINES = 20  # problems listed per recording (and unlisted groups per store), then a count
REPAIR = "`eegprep ingest --repair` writes the recording again"


def recording_problems(
    loc: Location,
    record: dict[str, Any],
    *,
    recipe_hash: str | None = None,
    name: str | None = None,
    source: str | Callable[[], str] = "the index record",
    notes: list[str] | None = None,
    sfreq: float | None = None,
    vocabulary: Sequence[str] | None = None,
) -> list[str]:
    """Everything wrong with one listed recording, reading every byte of it (no Store needed).

    Parameters
    ----------
    loc : Location
        The store.
    record : dict
        The recording's index record.
    recipe_hash : str, optional
        The store's recipe hash; the record's must equal it when given.
    name : str, optional
        What each line starts with; the record's id when not given.
    source : str or callable, optional
        Where ``record`` comes from, as a line naming it says (or a function giving it, asked
        only then).
    notes : list of str, optional
        Where to add a ``note:`` line for each ``zarr.json`` of the recording (its group's,
        its arrays') that holds attributes another program added (:mod:`.added_attrs`),
        and for each file or folder another program put in the group
        (:mod:`.group_members`): no damage. None of a document that is damaged.
    sfreq : float, optional
        The store's rate (Hz); the record's must equal it when given (else: be above 0).
    vocabulary : sequence of str, optional
        The store's channel vocabulary, whose rows the record's ``channel_index`` gives
        (eegprep's when not given).

    Returns
    -------
    list of str
        One line per problem, each starting with ``name``; empty when it is sound.
    """
    rid = name if name is not None else str(record.get("id", "?"))
    out: list[str] = []
    with warnings.catch_warnings():  # numcodecs' zarr3 codecs (quantized encoding)
        warnings.simplefilter("ignore")
        try:
            store = _StoreFacts(recipe_hash, sfreq, vocabulary)
            _check_recording(loc, record, rid, store, out, source, notes)
        except Exception as exc:  # a check must never crash validate: report and go on
            out.append(f"{rid}: cannot be checked: {described(exc)}")
    if len(out) > MAX_LINES:
        out = [*out[:MAX_LINES], f"{rid}: {len(out) - MAX_LINES} more problems"]
    return out


def _check_recording(
    loc: Location,
    record: dict[str, Any],
    rid: str,
    store: _StoreFacts,
    out: list[str],
    source: str | Callable[[], str],
    notes: list[str] | None,
) -> None:
    recipe_hash = store.recipe_hash
    group, channels, n_samples = (
        record.get("group"),
        record.get("channels"),
        record.get("n_samples"),
    )

    def src() -> str:
        return source() if callable(source) else source

    value = _value_problem(record, store)
    if not (isinstance(group, str) and isinstance(channels, list) and isinstance(n_samples, int)):
        out.append(f"{rid}: {src()} lacks a valid 'group', 'channels' or 'n_samples'")
        out += [f"{rid}: {src()}: {value}"] if value else []  # (what else is wrong, in words)
        return
    if value:
        out.append(f"{rid}: {src()}: {value}")
    misplaced = group_problem(record)
    if misplaced:
        out.append(f"{rid}: {src()}: {misplaced} (damaged)")
        return  # (not read: it may be another recording's)
    if recipe_hash is not None and record.get("recipe_hash") != recipe_hash:
        out.append(
            f"{rid}: recipe hash {record.get('recipe_hash')} in {src()} differs from the store's "
            f"{recipe_hash}"
        )
    noted: list[str] = []  # (the notes of this recording, added to ``notes`` at the end)
    if not _group_metadata(loc, rid, group, record, out, src, noted):
        return
    checks: list[tuple[str, Callable[..., None]]] = [
        ("data", _data),
        ("channel", _channel),
        ("time", _time),
        ("targets", _targets),
        ("metadata", functools.partial(_array_documents, notes=noted)),
        ("members", functools.partial(_members, notes=noted)),
    ]
    for name, check in checks:
        try:
            check(loc, rid, group, record, out)
        except StoreFormatError as exc:  # (names the file)
            out.append(f"{rid}: {exc}")
        except Exception as exc:
            out.append(f"{rid}: {group}/{name} unreadable: {described(exc)}")
    if notes is not None:
        notes += noted


def _value_problem(record: dict[str, Any], store: _StoreFacts) -> str | bool | None:
    """The first problem of a record's values (its length, joins, rate beside the store's,
    kinds, details, block length, channels), in words; a falsy value when it has none."""
    channels, n_samples = record.get("channels"), record.get("n_samples")
    rate = record.get("sfreq")  # (each reader refuses a record with such a value)
    return (
        (n_samples is not None and samples_problem(n_samples))
        or joins_problem(record.get("joins"), n_samples)
        or (rate is not None and rate_problem(rate, store.sfreq))
        or kinds_problem(record)
        or details_problem(record, rate if rate_problem(rate, None) is None else None)
        or block_problem(record.get("block_seconds"))
        or (
            isinstance(channels, list)
            and channels_problem(channels, record.get("channel_index"), store.vocabulary)
        )
    )


def _group_metadata(
    loc: Location,
    rid: str,
    group: str,
    record: dict[str, Any],
    out: list[str],
    source: str | Callable[[], str],
    notes: list[str],
) -> bool:
    """The group's ``zarr.json`` parses and agrees with the record (a note in ``notes`` of the
    attributes another program added to it); False when it is missing."""
    try:
        blob = loc.read_bytes(group, "zarr.json")
    except FileNotFoundError:
        other = source() if callable(source) else source
        out.append(f"{rid}: recording group {group} missing (no {group}/zarr.json), as "
                   f"{other} names it")  # fmt: skip
        return False
    try:
        doc = strict_json.loads_zarr_json(blob, lambda a: added_keys(a, record))
        attrs = doc["attributes"]
    except (ValueError, KeyError, TypeError) as exc:
        out.append(f"{rid}: {group}/zarr.json damaged ({described(exc, named=True)})")
        return True
    if not isinstance(attrs, dict):
        out.append(f"{rid}: {group}/zarr.json damaged (its attributes are not an object)")
        return True
    node = not_a_group(doc)
    if node:
        out.append(f"{rid}: {group}/zarr.json damaged ({node})")
    # the attributes are the whole record, written with it: any difference is damage to one
    differ = differing_keys(attrs, record)
    if differ:
        shown, other = shown_keys(differ), source() if callable(source) else source
        out.append(
            f"{rid}: {group}/zarr.json attributes and {other} differ in {shown}: one of them is "
            f"damaged ({REPAIR})"
        )
    elif not node:  # (a key that looks added to a damaged document may be a record's, renamed)
        notes += added_notes(f"{group}/zarr.json", added_keys(attrs, record))
    nodes = without_consolidated(doc)[1]
    if not node and nodes is not None:  # (its members never change: never stale)
        notes.append(consolidated_note(f"{group}/zarr.json", nodes))
    return True


def _data(loc: Location, rid: str, group: str, record: dict[str, Any], out: list[str]) -> None:
    expected = (len(record["channels"]), record["n_samples"])
    reader = ShardReader.open(loc, f"{group}/data")
    if reader is None:  # not in eegprep's own layout: zarr reads it
        if not _document_differs(loc, group, "data", record):  # (else that is named, unread:
            _data_with_zarr(loc, rid, group, expected, out)  # zarr allocated what it said)
        return
    if (reader.n_channels, reader.n_samples) != expected:
        shape = (reader.n_channels, reader.n_samples)
        out.append(f"{rid}: data shape {shape}, index says {expected}")
        return
    problem = reader.decoding_problem(record.get("encoding"), record.get("quantum_uv"))
    if problem:
        out.append(f"{rid}: {problem}")
    problem = reader.expect(record.get("chunk_crc32c"))  # each chunk at its own place
    if problem:
        out.append(f"{rid}: {problem}")
    nonfinite = None
    for start, stop, samples in reader.scan():
        if isinstance(samples, StoreFormatError):
            out.append(f"{rid}: {samples}")
        elif nonfinite is None and not np.isfinite(samples).all():
            nonfinite = (start, stop)
    if nonfinite is not None:
        out.append(f"{rid}: non-finite samples in [{nonfinite[0]}, {nonfinite[1]})")


def _array_documents(
    loc: Location,
    rid: str,
    group: str,
    record: dict[str, Any],
    out: list[str],
    *,
    notes: list[str],
) -> None:
    """Each array's ``zarr.json`` less the attributes another program added (a note in
    ``notes``, none of a document found damaged) must be the document eegprep writes for the
    record (:mod:`eegprep.store.array_docs`: ``data``, ``channel``, ``time`` and each target
    series; no checksum covers them, and a flipped bit in a codec's settings can change how
    zarr and xarray decode every sample). Records of versions that state no ``encoding`` are
    not compared (:func:`_targets` checks their targets' shape)."""
    for name in ["data", "channel", "time", *_target_names(record)]:
        where = f"{group}/{name}/zarr.json"
        if any(where in p or f"target {name!r}" in p for p in out):
            continue  # named already, more precisely
        try:
            doc, added = without_added(loc.read_bytes(group, name, "zarr.json"), array_keys(name))
        except (OSError, ValueError, UnicodeDecodeError, RecursionError):
            continue  # the check of that array reports it
        differs = document_problem(record, name, doc)
        if differs is not None:
            out.append(f"{rid}: {where} is not the metadata eegprep writes for this record: "
                       f"{differs} (damaged; {REPAIR})")  # fmt: skip
        else:
            notes += added_notes(where, added)


def _members(
    loc: Location,
    rid: str,
    group: str,
    record: dict[str, Any],
    out: list[str],
    *,
    notes: list[str],
) -> None:
    """What lies in the group beside what eegprep writes (:mod:`eegprep.store.group_members`):
    a chunk-named entry that no read of its array sees is damage, anything else another
    program's addition (a note in ``notes``)."""
    arrays = ["data", "channel", "time", *_target_names(record)]
    unjudged = {  # (their metadata or shape is named: its grid may not be the record's)
        a
        for a in arrays
        if any(f"{group}/{a}/zarr.json" in p or f"target {a!r}" in p for p in out)
        or (a == "data" and any(p.startswith(f"{rid}: data shape ") for p in out))
    }
    damage, added = member_findings(loc, group, arrays, unjudged=unjudged)
    for line in (d for d in damage if d.endswith(FOLDER_AT_KEY)):  # (its read's line said it
        where = f"{line[: -len(FOLDER_AT_KEY) - 2]}: a folder where a"  # too: one line each)
        out[:] = [p for p in out if not (p.startswith(f"{rid}: ") and where in p)]
    out += [f"{rid}: {line} (damaged; {REPAIR})" for line in damage]
    notes += added[:MAX_LINES]
    if len(added) > MAX_LINES:  # (a tool's folder of thousands: named once, counted)
        notes.append(f"{group}: {len(added) - MAX_LINES} more entries eegprep does not write")


def _data_with_zarr(
    loc: Location, rid: str, group: str, expected: tuple[int, int], out: list[str]
) -> None:
    data = _zarr_array(loc, f"{group}/data")
    if data.shape != expected:
        out.append(f"{rid}: data shape {data.shape}, index says {expected}")
        return
    problem = samples_type_problem(data.dtype) or chunk_problem(data.chunks, data.dtype.itemsize)
    if problem:
        out.append(f"{rid}: {group}/data/zarr.json: {problem}")
        return
    for start in range(0, expected[1], BLOCK):
        try:
            block = np.asarray(data[:, start : start + BLOCK])
        except Exception as exc:
            out.append(f"{rid}: samples from {start} unreadable: {described(exc)}")
            continue
        if not np.isfinite(block).all():
            out.append(f"{rid}: non-finite samples in [{start}, {start + block.shape[1]})")
            return


def _chunk_missing(loc: Location, array: str) -> bool:
    """Whether a one-chunk coordinate array's chunk file is gone (zarr would read its fill
    value in its place: empty names, zeros)."""
    return not (loc.exists(array, "c.0") or loc.exists(array, "c", "0"))


def _channel(loc: Location, rid: str, group: str, record: dict[str, Any], out: list[str]) -> None:
    if record["channels"] and _chunk_missing(loc, f"{group}/channel"):
        out.append(f"{rid}: {group}/channel/c.0 missing (the channel names)")
        return
    names = [str(c) for c in _small_array(loc, f"{group}/channel")]
    if names != list(record["channels"]):
        out.append(f"{rid}: channel coordinate {names} differs from the index {record['channels']}")


def _time(loc: Location, rid: str, group: str, record: dict[str, Any], out: list[str]) -> None:
    n = record["n_samples"]
    if n and _chunk_missing(loc, f"{group}/time"):
        out.append(f"{rid}: {group}/time/c.0 missing (the sample numbers)")
        return
    time = _small_array(loc, f"{group}/time")
    if time.shape != (n,):
        out.append(f"{rid}: time coordinate shape {time.shape}, index says ({n},)")
    elif not np.array_equal(time, np.arange(n)):
        out.append(f"{rid}: time coordinate is not the sample numbers 0 .. {n - 1}")


def _targets(loc: Location, rid: str, group: str, record: dict[str, Any], out: list[str]) -> None:
    for name in _target_names(record):
        values = _small_array(loc, f"{group}/{name}")
        if values.shape[-1:] != (record["n_samples"],):
            out.append(f"{rid}: target {name!r} shape {values.shape}, not n_samples long")
            continue
        problem = target_problem(record.get(TARGETS), name, values)
        if problem and not _document_differs(loc, group, name, record):  # (else that is named)
            out.append(f"{rid}: target {name!r} ({group}/{name}): {problem}")


def _document_differs(loc: Location, group: str, name: str, record: dict[str, Any]) -> bool:
    """Whether array ``name``'s ``zarr.json`` is not what eegprep writes for ``record``
    (:func:`_array_documents` names it: values it decodes otherwise are no other damage)."""
    try:
        doc, _ = without_added(loc.read_bytes(group, name, "zarr.json"), array_keys(name))
    except (OSError, ValueError, UnicodeDecodeError, RecursionError):
        return True
    return document_problem(record, name, doc) is not None


def _target_names(record: dict[str, Any]) -> list[str]:
    """The record's target names that can name an array of its group (another, ``../x`` or
    ``data``, is reported with the record's values, and no file is read for it)."""
    targets = record.get("targets")
    return [t for t in targets if is_stored_target_name(t)] if isinstance(targets, list) else []


def _small_array(loc: Location, path: str) -> Any:
    """All of an array that is not ``data`` (``channel``, ``time``, a target: small), read by
    zarr; a :class:`StoreFormatError` naming the file when it cannot be: its ``zarr.json``
    (missing, not JSON, not an array zarr opens) or its chunk (failing its CRC-32C, cut)."""
    meta = f"{path}/zarr.json"
    try:
        without_added(loc.read_bytes(*meta.split("/")), array_keys(path.rsplit("/", 1)[-1]))
    except FileNotFoundError:
        raise StoreFormatError(f"{meta}: missing (the array's metadata)") from None
    except (OSError, ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise StoreFormatError(f"{meta}: damaged ({described(exc, named=True)})") from None
    try:
        array = _zarr_array(loc, path)
    except Exception as exc:
        raise StoreFormatError(f"{meta}: damaged ({described(exc, named=True)})") from None
    try:
        return np.asarray(array[...])
    except Exception as exc:
        chunks = [n for n in loc.list(*path.split("/")) if _KEY_NAME.fullmatch(n)]
        one = len(chunks) == 1
        where = f"{shown_path(path)}/{chunks[0]}" if one else f"{shown_path(path)} (its chunks)"
        what = "fails its CRC-32C check" if "checksum" in str(exc) else "cannot be decoded"
        raise StoreFormatError(
            f"{where}: {what}, corrupt or cut short ({described(exc, named=True)})"
        ) from None


def _zarr_array(loc: Location, path: str) -> Any:
    import zarr

    return zarr.open_array(loc.zarr_store(path, read_only=True), mode="r")
