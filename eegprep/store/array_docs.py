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
"""

from __future__ import annotations

from typing import Any

ENCODINGS = ("float32", "float16", "quantized")
"""The encodings a record states; a record stating none (or another) is of an earlier version."""


def expected_documents(record: dict[str, Any], name: str, found: Any) -> list[Any] | None:
    """The documents eegprep writes for the array ``name`` of ``record``'s group: the current
    one first, then the forms earlier versions wrote (:func:`_variants`); None when eegprep
    cannot say (a record that states no ``encoding``, a name that is none of its arrays).

    ``found`` (the document in the store, less added attributes) gives a target's row count.
    """
    if record.get("encoding") not in ENCODINGS or not _usable(record):
        return None
    if name in ("data", "channel", "time"):
        return _variants(_documents(record)[name])
    if name not in (record.get("targets") or []):
        return None
    from eegprep.store.shards import CHUNK_SECONDS, target_document

    shape = found.get("shape") if isinstance(found, dict) else None
    rows = shape[0] if isinstance(shape, list) and shape and isinstance(shape[0], int) else -1
    chunk = int(CHUNK_SECONDS * float(record["sfreq"]))
    return _variants(target_document(name, rows, int(record["n_samples"]), chunk))


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
    wanted = expected_documents(record, name, found)
    if wanted is None or found in wanted:
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
            return f"{path} of {len(found)} items, eegprep writes {len(want)}"
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


def _variants(doc: dict[str, Any]) -> list[Any]:
    """``doc`` and the forms earlier eegprep versions wrote of it: no CRC-32C codecs, Blosc
    zstd level 3 (the quantized encoding, before lz4), the channel names compressed."""

    def edit(node: Any, crc: bool, zstd: bool) -> Any:
        if isinstance(node, dict):
            if zstd and node.get("name") == "blosc":
                return {**node, "configuration": {**node["configuration"], "cname": "zstd",
                                                  "clevel": 3}}  # fmt: skip
            return {k: edit(v, crc, zstd) for k, v in node.items()}
        if isinstance(node, list):
            return [edit(x, crc, zstd) for x in node if crc or x != {"name": "crc32c"}]
        return node

    forms = [edit(doc, crc, zstd) for crc in (True, False) for zstd in (False, True)]
    return forms + [_names_zstd(form) for form in forms if _names_zstd(form) != form]


_VLEN = {"name": "vlen-utf8", "configuration": {}}
_NAMES_ZSTD = {"name": "zstd", "configuration": {"level": 0, "checksum": False}}


def _names_zstd(doc: dict[str, Any]) -> dict[str, Any]:
    """The ``channel`` array's document as earlier versions wrote it: its names compressed with
    zstd after ``vlen-utf8`` (the other arrays' documents are returned unchanged)."""
    codecs = doc.get("codecs")
    if not isinstance(codecs, list) or codecs[:1] != [_VLEN]:
        return doc
    return {**doc, "codecs": [_VLEN, _NAMES_ZSTD, *codecs[1:]]}
