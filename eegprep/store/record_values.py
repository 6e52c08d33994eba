"""The values of a store that every reader computes with, checked before any is used.

An index record and its group's attributes are JSON that no checksum covers, and a store
written or edited by another program may hold any JSON there. Opening a store checks only that
the keys a reader needs are present (:data:`eegprep.store.reader.REQUIRED`); the values below
are what turn samples into windows and seconds, so one that no eegprep store holds would give
silently wrong windows or an internal error far from its cause (``sfreq`` 0 divided by zero in
``eegprep stats``; ``channel_index`` -1 reached the model's position table; ``n_samples`` -5 or
``1000.5`` dropped the recording from training unsaid; a ``split`` of ``5`` failed a sort).
:func:`record_problem` names the first such value of a record in words for one line (with
:func:`group_problem`, a ``group`` that is not a version of ``recordings/{id}``, and
:func:`is_stored_target_name`, the names of target series a record may list, looser than
:func:`is_target_name`, those an ingest gives them today);
:func:`fields_problem` checks the fields opening reads of many records, each distinct
``channel_index`` once; :func:`root_value_problem` a root's rate and vocabulary. For an array
zarr reads (one not in eegprep's own layout), :func:`samples_type_problem` and
:func:`chunk_problem` refuse samples of a type no eegprep store holds and chunks too large to
decode at once.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from eegprep.base.wording import counted

MAX_SAMPLES = 2**31
"""The most samples a recording can have: its ``time`` coordinate holds int32 sample numbers
``0 .. n_samples - 1`` (docs/store-format.md, "One recording")."""


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value))  # fmt: skip


def _vocabulary(given: Sequence[str] | None) -> Sequence[str]:
    """``given``, or eegprep's channel vocabulary when None."""
    if given is not None:
        return given
    from eegprep.pipeline.channels import VOCABULARY

    return VOCABULARY


TEXT = ("id", "group", "corpus", "name", "subject", "session", "split", "subject_key", "source")
"""Record fields that are text whenever a record holds them (:class:`~eegprep.store.record.
RecordingRecord`): readers sort, hash and compare them as text."""

OBJECTS = ("labels", "qc")
"""Record fields that are JSON objects (``qc`` may be null)."""


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def kinds_problem(record: Mapping[str, Any]) -> str | None:
    """The first field of ``record`` whose JSON type no eegprep record has, in words: a
    ``split`` of ``5``, a ``subject_key`` that is an object, ``labels`` that are a list, a
    ``qc`` that is text, ``targets`` that are no list of names (readers sorted, hashed and
    looked into them: an internal error or a traceback far from the record), an event that is
    not ``[onset_s, duration_s, label, channel]``; None: sound."""
    for key in TEXT:
        if key in record and not isinstance(record[key], str):
            return f"{key} {_shown(record[key])} is not text"
    for key in OBJECTS:
        value = record.get(key)
        if value is not None and not isinstance(value, dict):
            return f"{key} {_shown(value)} is not an object"
    part = record.get("part")
    if part is not None and not isinstance(part, str):  # (an ingest matches sources by it)
        return f"part {_shown(part)} is neither text nor null"
    events = record.get("events")
    if events is not None:
        bad = _event_problem(events)
        if bad:
            return bad
    targets = record.get("targets")
    if targets is not None and not (
        isinstance(targets, list) and all(map(is_stored_target_name, targets))
    ):
        return (
            f"targets {_shown(targets)} is not a list of names of arrays beside data (one "
            "name each, no '/', not data, channel or time)"
        )
    return None


TARGET_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
"""A target series' name, the name of its array in the recording's group."""


def is_target_name(name: Any) -> bool:
    """Whether ``name`` can name a target series: :data:`TARGET_NAME`, and not one of the
    group's own arrays (``data``, ``channel``, ``time``). Another (``../t000/data``) would have
    ``eegprep validate`` read another recording's array as this one's target."""
    return (
        isinstance(name, str)
        and TARGET_NAME.fullmatch(name) is not None
        and name not in ("data", "channel", "time")
    )


def is_stored_target_name(name: Any) -> bool:
    """Whether a record may list ``name`` as a target series: the name of one array beside
    ``data`` in its group (text of 1-255 bytes, printable, no ``/`` or ``\\``, not ``.`` or
    ``..``, not ``data``, ``channel`` or ``time``). Looser than :func:`is_target_name`, the rule
    an ingest writes by since 2026-12-01: a store an earlier version wrote under another name
    (``joint-angles``) stays readable, while a name that would reach another recording's array
    (``../t000/data``) or the samples is refused."""
    return (
        isinstance(name, str)
        and 0 < len(name.encode("utf-8", "surrogatepass")) <= 255
        and name.isprintable()
        and not any(c in name for c in "/\\")
        and name not in (".", "..", "data", "channel", "time")
    )


_GROUP_OF = re.compile(r"recordings/(([^/@]+)/[^/@]+)(?:@[1-9][0-9]*)?")
"""A recording group's path: ``recordings/{id}`` or ``recordings/{id}@{k}`` (``{id}`` is
``{corpus}/{name}``)."""


def group_problem(record: Mapping[str, Any]) -> str | None:
    """What is wrong with the record's ``group`` (the path of its samples' group), or None: it
    must be a version of ``recordings/{id}``, ``id`` being ``{corpus}/{name}``. Another path
    (``recordings/tuab/t000`` in ``tuab/t001``'s record, both copies edited) would have every
    read take another recording's samples as this one's."""
    group, rid = record.get("group"), record.get("id")
    hit = _GROUP_OF.fullmatch(group) if type(group) is str else None
    if hit is not None and hit[1] == rid:
        corpus, name = record.get("corpus"), record.get("name", hit[1].split("/", 1)[1])
        if hit[2] != corpus:
            return f"corpus {_shown(corpus)} is not its id's {hit[2]!r}"
        if f"{corpus}/{name}" != rid:  # (an ingest names a source's recording by it)
            return f"name {_shown(name)} is not its id's {hit[1].split('/', 1)[1]!r}"
        return None
    return (
        f"group {_shown(group)} is not a version of recordings/{rid} (recordings/{{corpus}}/"
        "{name}, @k after a re-ingest)"
    )


def _event_problem(events: Any) -> str | None:
    """What is wrong with a record's ``events`` (``[[onset_s, duration_s, label, channel],
    ...]``, ``channel`` optional), or None."""
    if not isinstance(events, list):
        return f"events {_shown(events)} is not a list"
    for i, event in enumerate(events):
        if not (
            isinstance(event, list)
            and len(event) in (3, 4)
            and _is_number(event[0])
            and _is_number(event[1])
            and all(isinstance(v, str) for v in event[2:])
        ):
            return f"events[{i}] {_shown(event)} is not [onset_s, duration_s, label, channel]"
    return None


def samples_problem(n_samples: Any) -> str | None:
    """What is wrong with ``n_samples`` (samples per channel), or None."""
    if _is_int(n_samples) and 0 <= n_samples <= MAX_SAMPLES:
        return None
    return (
        f"n_samples {n_samples!r} is not a number of samples (a whole number from 0 to "
        f"{MAX_SAMPLES}, the int32 time coordinate's)"
    )


def joins_problem(joins: Any, n_samples: Any) -> str | None:
    """What is wrong with a record's ``joins`` (the first stored sample of each continuous
    stretch after the first) for its ``n_samples``, or None: absent (a continuous recording,
    or a record of an earlier version) or a list of whole numbers, strictly ascending, each
    ``0 < j < n_samples``. Another (unsorted, ``0``, past the end, ``1.5``, text) would have
    the window index cut windows across a join or none where there is signal."""
    if joins is None:
        return None
    if (
        isinstance(joins, list)
        and all(_is_int(j) for j in joins)
        and all(a < b for a, b in itertools.pairwise(joins))
        and (not joins or (joins[0] > 0 and _is_int(n_samples) and joins[-1] < n_samples))
    ):
        return None
    return (
        f"joins {_shown(joins)} is not a list of stored samples where stretches start "
        f"(whole numbers, ascending, each above 0 and below n_samples {n_samples!r})"
    )


def rate_problem(sfreq: Any, store_sfreq: float | None) -> str | None:
    """What is wrong with a record's ``sfreq`` (Hz) in a store of rate ``store_sfreq`` (Hz;
    None: any positive rate), or None. Every recording of a store is at the store's rate."""
    if _is_number(sfreq) and sfreq > 0 and (store_sfreq is None or sfreq == store_sfreq):
        return None
    wanted = f"the store's rate, {store_sfreq:g} Hz" if store_sfreq else "a rate in Hz above 0"
    return f"sfreq {sfreq!r} is not {wanted}: its samples would be timed wrongly"


def channels_problem(
    channels: Any, channel_index: Any, vocabulary: Sequence[str] | None = None
) -> str | None:
    """What is wrong with ``channels`` (canonical names, in row order) and ``channel_index``
    (each one's row of ``vocabulary``, the store's; eegprep's when None: the model's position
    table), or None."""
    vocabulary = _vocabulary(vocabulary)
    if not isinstance(channels, list) or not all(isinstance(c, str) for c in channels):
        return "channels is not a list of channel names"
    if not isinstance(channel_index, list) or not all(_is_int(i) for i in channel_index):
        return "channel_index is not a list of whole numbers"
    if len(channel_index) != len(channels):
        n = counted(len(channel_index), "entry")
        return f"channel_index has {n} for its {counted(len(channels), 'channel')}"
    for name, i in zip(channels, channel_index, strict=True):
        if not 0 <= i < len(vocabulary) or vocabulary[i].upper() != name.upper():
            where = [k for k, v in enumerate(vocabulary) if v.upper() == name.upper()]
            at = f"has it at {where[0]}" if where else "does not hold it"
            return (
                f"channel_index gives {name} the position {i}, where the store's channel "
                f"vocabulary {at}: its windows would be placed at other sites"
            )
    return None


def record_problem(
    record: Mapping[str, Any],
    store_sfreq: float | None,
    vocabulary: Sequence[str] | None = None,
    *,
    seen: dict[tuple[Any, ...], str | None] | None = None,
) -> str | None:
    """The first value of ``record`` (an index record or group's attributes, parsed) that no
    eegprep store holds, in words (``sfreq 0.0 is not the store's rate, 200 Hz: ...``); None
    when ``n_samples``, ``sfreq``, the types of its fields (:func:`kinds_problem`), its
    ``channels`` and ``channel_index`` are sound.

    ``seen``: the answers of :func:`channels_problem` for the pairs of channel list and rows
    met so far in one store (a store's records share a few dozen), filled here."""
    found = (
        samples_problem(record.get("n_samples"))
        or joins_problem(record.get("joins"), record.get("n_samples"))
        or rate_problem(record.get("sfreq"), store_sfreq)
        or kinds_problem(record)
        or group_problem(record)
    )
    if found:
        return found
    channels, index = record.get("channels"), record.get("channel_index")
    if seen is None or not (isinstance(channels, list) and isinstance(index, list)):
        return channels_problem(channels, index, vocabulary)
    try:
        key = (tuple(channels), tuple(index))
        hash(key)
    except TypeError:  # (a list inside: no eegprep record's)
        return channels_problem(channels, index, vocabulary)
    if key not in seen:
        seen[key] = channels_problem(channels, index, vocabulary)
    return seen[key]


def fields_problem(
    ids: Sequence[str],
    fields: Sequence[Any],
    store_sfreq: float,
    vocabulary: Sequence[str] | None = None,
) -> tuple[str, str] | None:
    """The first of records ``ids`` of one store holding a value no eegprep store holds in
    ``fields`` (for each, what opening read of it: an object with the attributes
    ``n_samples``, ``sfreq``, ``channel_index``, ``corpus``, ``split`` and ``subject_key``,
    an :class:`~eegprep.store.index_fields.IndexFields`), and that value in words; None: all
    sound.

    The checks of :func:`record_problem` of those fields: ``n_samples``, ``sfreq``
    (``store_sfreq``, Hz), ``corpus``, ``split`` and ``subject_key`` text, and ``channel_index``
    a list of rows of ``vocabulary`` (the store's; eegprep's when None). Checked column by
    column (the types as sets, the lengths' range by ``min`` and ``max``, each distinct
    ``channel_index`` once: 0.5-1 us a record;
    the first record at fault is looked for only when a column is. That the rows are the
    positions of the record's ``channels`` is checked when a recording is built from its
    whole record (:func:`record_problem`), before any of its samples is read."""
    if not fields:
        return None
    n_rows = len(_vocabulary(vocabulary))
    n_samples = [f.n_samples for f in fields]
    sound = (
        set(map(type, n_samples)) == {int}  # (not a bool either)
        and min(n_samples) >= 0
        and max(n_samples) <= MAX_SAMPLES
        and set(map(type, sfreqs := [f.sfreq for f in fields])) <= {float, int}
        and set(sfreqs) == {store_sfreq}
        and set(map(type, [f.corpus for f in fields])) == {str}
        and set(map(type, [f.split for f in fields])) == {str}
        and set(map(type, [f.subject_key for f in fields])) == {str}
        and _distinct_rows_sound([f.channel_index for f in fields], n_rows)
        and _joins_sound(fields)
    )
    return None if sound else _first_problem(ids, fields, store_sfreq, n_rows)


def _joins_sound(fields: Sequence[Any]) -> bool:
    """Whether the ``joins`` of every record of ``fields`` that states them is sound
    (:func:`joins_problem`); a record without joins (most) costs one attribute read."""
    unset = msgspec.UNSET
    return all(joins_problem(f.joins, f.n_samples) is None for f in fields if f.joins is not unset)


def _distinct_rows_sound(indexes: list[Any], n_rows: int) -> bool:
    """Whether every ``channel_index`` of ``indexes`` is a list of rows of a vocabulary of
    ``n_rows`` names, each distinct one checked once: by object first (the index's fields
    file shares them), then by value (records parsed from their lines do not; True is 1 in
    the key, and the same row of the table: no harm)."""
    objects = list({id(index): index for index in indexes}.values())
    if any(type(index) is not list for index in objects):
        return False
    return all(_rows_problem(list(key), n_rows) is None for key in set(map(tuple, objects)))


def _first_problem(
    ids: Sequence[str], fields: Sequence[Any], store_sfreq: float, n_rows: int
) -> tuple[str, str]:
    """The first of records ``ids`` at fault in ``fields`` (:func:`fields_problem` found one),
    and why."""
    for rid, f in zip(ids, fields, strict=True):
        texts = {"corpus": f.corpus, "split": f.split, "subject_key": f.subject_key}
        index = f.channel_index
        found = (
            samples_problem(f.n_samples)
            or (None if f.joins is msgspec.UNSET else joins_problem(f.joins, f.n_samples))
            or rate_problem(f.sfreq, store_sfreq)
            or kinds_problem(texts)
            or (
                _rows_problem(index, n_rows)
                if type(index) is list
                else "channel_index is not a list of whole numbers"
            )
        )
        if found:
            return rid, found
    raise AssertionError("fields_problem found a problem that no record holds")


def _rows_problem(channel_index: list[Any], n_rows: int) -> str | None:
    """What is wrong with ``channel_index`` as rows of a vocabulary of ``n_rows`` names."""
    if not all(_is_int(i) for i in channel_index):
        return "channel_index is not a list of whole numbers"
    outside = [i for i in channel_index if not 0 <= i < n_rows]
    if outside:
        return (
            f"channel_index holds {outside[0]}, not a row of the store's channel vocabulary "
            f"(0 to {n_rows - 1})"
        )
    return None


def root_value_problem(attrs: Mapping[str, Any]) -> str | None:
    """What a root's attributes (``sfreq`` a number and ``recipe`` an object: checked before)
    hold that no eegprep store does, in words: a rate that is not its recipe's, or no rate at
    all (``0``, ``-200``); a unit other than ``uV`` (``mV`` samples were read as microvolts,
    a thousandth of their size); a channel vocabulary that is no list of names (one that is another
    list is told apart where stores are read together). None: sound. For a root without its
    checksum (a store of an earlier version, or one another program wrote or edited)."""
    sfreq, recipe = attrs["sfreq"], attrs["recipe"]
    if rate_problem(sfreq, None) is not None or recipe.get("sfreq", sfreq) != sfreq:
        return f"sfreq {sfreq!r} is not its recipe's {recipe.get('sfreq')!r} Hz"
    unit = attrs.get("unit", "uV")
    if unit != "uV":  # (every eegprep store's samples are microvolts, and read as such)
        return f"unit {_shown(unit)} is not uV, the unit every reader takes the samples in"
    vocabulary = attrs.get("vocabulary")
    if vocabulary is not None and (
        not isinstance(vocabulary, list) or not all(isinstance(v, str) for v in vocabulary)
    ):
        return "its channel vocabulary is not a list of channel names"
    return None


def samples_type_problem(dtype: Any) -> str | None:
    """What is wrong with a ``data`` array whose samples zarr reads as ``dtype`` (a numpy data
    type), or None. eegprep stores hold float32 or float16 microvolts (the quantized integers
    read as float32); an array another program wrote of another type (float64, whose values
    float32 may not hold; integers, of unknown unit) is refused, never read as other numbers."""
    if dtype.kind == "f" and dtype.itemsize in (2, 4):
        return None
    return (
        f"samples of data type {dtype.name}, where an eegprep store holds float32 or float16 "
        "microvolts"
    )


MAX_CHUNK_BYTES = 256 * 2**20
"""The most bytes one chunk of a ``data`` array that zarr reads (one not in eegprep's own
layout) may decode to: every read of a window decodes each chunk it touches whole. eegprep
writes chunks of 60 s (6.5 MB at 136 channels); a chunk of a whole day of 23 channels in float32
is 159 MiB. A larger one (a store another program wrote as one chunk, or a few bytes of
compressed zeros claiming 2^31 samples) would take its size of memory in every loader worker."""


def chunk_problem(chunks: Sequence[int], itemsize: int) -> str | None:
    """What is wrong with a ``data`` array that zarr reads in chunks of shape ``chunks`` (the
    inner chunks of a sharded array) of ``itemsize`` bytes a sample, or None."""
    size = itemsize
    for n in chunks:
        size *= int(n)
    if size <= MAX_CHUNK_BYTES:
        return None
    return (
        f"chunks of {list(chunks)} samples, {size / 2**20:.0f} MiB each decoded, over the "
        f"{MAX_CHUNK_BYTES // 2**20} MiB a read may decode at once"
    )


__all__ = [
    "MAX_CHUNK_BYTES",
    "MAX_SAMPLES",
    "OBJECTS",
    "TARGET_NAME",
    "TEXT",
    "channels_problem",
    "chunk_problem",
    "fields_problem",
    "group_problem",
    "is_stored_target_name",
    "is_target_name",
    "joins_problem",
    "kinds_problem",
    "rate_problem",
    "record_problem",
    "root_value_problem",
    "samples_problem",
    "samples_type_problem",
]
