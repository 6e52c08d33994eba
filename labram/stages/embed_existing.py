"""What an existing ``--out`` of ``labram embed`` holds, and what the run does with it.

An embedding store written with this run's parameters is resumed; one whose only difference is
its window axis, because a recording it left out for its index record reads now (repaired, or
ingested again), is made again with those windows; a creation of ours cut short is made again;
anything else (other arguments, a folder that is no embedding store, a damaged parameter file,
attributes that do not match their checksum: :mod:`labram.stages.embed_attributes`) is refused
in one line naming ``--out``. :func:`open_existing` decides; :mod:`labram.stages.embed`
writes.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from eegprep.base import strict_json
from eegprep.base.errors import UsageError
from eegprep.base.path_limits import shown_path
from eegprep.base.sealed_json import KEY, digest, near_key
from eegprep.base.wording import counted, noun, some_of
from labram.stages import backbone_used, tokenizer_used
from labram.stages.embed_attributes import SEALED, check_attributes
from labram.stages.embed_progress import META_DIR

log = logging.getLogger(__name__)

CREATING = "creating.json"
"""The marker in ``META_DIR`` from the first write of a creation to its last."""

RECORDS_LEFT_OUT = "records_left_out"
"""The parameter listing the recordings left out for their index records (ids, sorted)."""

UNCOMPARED = (
    "checkpoint", "stores", "n_windows", tokenizer_used.KEY, backbone_used.KEY, RECORDS_LEFT_OUT
)  # fmt: skip
"""Parameters a resumed run may state otherwise: names, and what ``checkpoint_sha256`` fixes
already (the records the checkpoint holds; an older labram's store states none), and the
recordings left out for their records (compared by :func:`readable_changed`)."""


VERSIONS = "recording_versions"
"""The parameter fixing which version of each recording the windows were cut from
(:func:`recording_versions`); an earlier labram's store states none and is compared without."""


def readable_changed(
    out: Path, saved: dict[str, Any], now: dict[str, Any], diff: list[str]
) -> bool:
    """Whether the store ``out`` (its parameters ``saved``; ``diff``: how they differ from this
    run's, ``now``) differs from this run only by its windows because a recording it left
    out for its index record reads now (repaired, or ingested again): its window axis is not
    this run's, so it is made again, those windows included.

    Raises
    ------
    UsageError
        The store differs only by its windows because recordings it embedded cannot be read
        now (their index records damaged since): made again, it would lose their windows.
    """
    # (a repaired record may come with a new version: the store is made again whole anyway)
    if [k for k in _keys(diff) if k != VERSIONS] != ["windows"]:
        return False
    then = saved.get(RECORDS_LEFT_OUT)
    then = set(then) if isinstance(then, list) else set()
    lost = sorted(set(now[RECORDS_LEFT_OUT]) - then)
    if lost:  # (first: another recording repaired meanwhile would not keep these windows)
        raise UsageError(
            f"{shown_path(out)}: its windows include those of {some_of(lost)}, whose index records "
            "cannot be read now: run `eegprep validate` on the store, then `eegprep ingest ... "
            "--repair`, to resume it, or pass another --out"
        )
    return bool(then - set(now[RECORDS_LEFT_OUT]))


def recording_versions(index: Any) -> str:
    """A digest of the version of every recording ``index`` (a
    :class:`~labram.data.windows.WindowIndex`) reads: its store's position, its id, its
    channels and length, and its source's content digest (``source_blake3`` and ``part``),
    which an ingest of a changed source changes; a record that states no digest, by its group,
    which every re-ingest makes anew (``@1``, ``@2``...). ``eegprep ingest --repair`` writes a
    damaged recording again from the same source: the same version, so the windows left out
    for its samples are filled by the resume.

    The windows' fingerprint holds ids, starts and lengths only: a recording ingested again
    between a killed run and its resume, with as many samples, gave the same fingerprint, and
    the resume kept the chunks computed from the old samples beside chunks of the new ones,
    called complete."""
    import hashlib

    h = hashlib.sha256()
    for plan in index.recordings:
        store = index.opened[plan.store]
        fields = store.index_fields()[plan.id]
        version = store.source_identities().get(plan.id) or f"group {fields.group}"
        chans = ",".join(str(int(c)) for c in fields.channel_index)
        h.update(f"{plan.store}\t{plan.id}\t{chans}\t{fields.n_samples}\t{version}\n".encode())
    return h.hexdigest()[:16]


def _keys(diff: list[str]) -> list[str]:
    """The parameter names of the lines of :func:`differences`."""
    return [d.split(" ", 1)[0] for d in diff]


def recordings_changed(out: Path, recordings: Sequence[str] | None) -> str | None:
    """The recordings added to the stores, and those gone from them, since the embedding store
    ``out`` was written (its ``recording`` coordinate), against ``recordings`` (this run's), in
    words (``"the stores hold 2 recordings more (a, b)"``); None when they are the same (or
    unknown: no ``recordings``, a coordinate that cannot be read)."""
    if recordings is None:
        return None
    try:
        import zarr

        stored = zarr.open_array(str(out / "recording"), mode="r")[...]
    except (OSError, ValueError, LookupError, RuntimeError):  # (damaged: the other line)
        return None
    then = {str(v) for v in np.asarray(stored).ravel().tolist()}
    now = set(recordings)
    added, gone = sorted(now - then), sorted(then - now)
    parts = []
    if added:
        parts.append(f"the stores hold {counted(len(added), 'recording')} more ({some_of(added)})")
    if gone:
        n = len(gone)
        parts.append(
            f"{counted(n, 'recording')} it embedded {noun(n, 'is')} no longer in them "
            f"({some_of(gone)})"
        )
    return " and ".join(parts) or None


def differences(saved: dict[str, Any], now: dict[str, Any]) -> list[str]:
    keys = [k for k in now if k not in UNCOMPARED and saved.get(k) != now[k]]
    if VERSIONS not in saved:  # (written before the versions were recorded: read as before)
        keys = [k for k in keys if k != VERSIONS]
    return [_difference(k, saved.get(k), now[k]) for k in keys]


def _difference(key: str, then: Any, now: Any) -> str:
    if key == VERSIONS:
        return (
            f"{key} ({then!r} then, {now!r} now: recordings of the stores were ingested again "
            "from changed sources since, so its finished windows are of samples the stores no "
            "longer hold)"
        )
    if key == "windows":  # (the same recordings: recordings_changed names added ones)
        return (
            f"{key} ({then!r} then, {now!r} now: the stores' recordings give other windows, or "
            "in another order, than when it was written; a task's validation subjects follow "
            "its labels)"
        )
    return f"{key} ({then!r} then, {now!r} now)"


def open_existing(
    out: Path, params: dict[str, Any], recordings: Sequence[str] | None = None
) -> bool:
    """True when ``out`` holds an embedding store of these arguments (resume); raises when it
    holds anything else; False when there is nothing (or an unfinished creation) to keep.
    ``recordings``: the ids of the recordings this run embeds, which name the recordings added
    to the stores (or gone from them) since ``out`` was written when its windows differ."""
    meta = out / META_DIR / "embed.json"
    if meta.is_file():
        saved = json_file(meta)
        diff = differences(saved, params)
        if diff and readable_changed(out, saved, params, diff):
            n_then, n_now = len(saved[RECORDS_LEFT_OUT]), len(params[RECORDS_LEFT_OUT])
            log.warning(
                "%s: written with %s left out for their index records, now %d: its windows "
                "are not this run's, and it is made again",
                shown_path(out), counted(n_then, "recording"), n_now,
            )  # fmt: skip
            return False
        grown = recordings_changed(out, recordings) if "windows" in _keys(diff) else None
        if grown:
            raise UsageError(
                f"{shown_path(out)}: {grown} since it was written, so its windows are not the "
                f"stores' now: pass another --out (or remove {shown_path(out)}) to embed the "
                "stores as they are now"
            )
        if diff:
            raise UsageError(
                f"{shown_path(out)}: an embedding store written with other arguments: "
                f"{'; '.join(diff)}; pass the same arguments to resume it, or another --out"
            )
        if saved.get(SEALED) is True:  # (a store written before holds none: read as before)
            check_attributes(out, json_file)  # (a flipped letter in its classes, its checkpoint)
        (out / META_DIR / CREATING).unlink(missing_ok=True)  # killed just before its removal
        return True
    root = out / "zarr.json"
    if out.exists() and any(out.iterdir()):
        if creation_started(out):
            return False  # a creation of ours cut short anywhere: made again
        attrs = json_file(root).get("attributes", {}) if root.is_file() else {}
        if attrs.get("format") != params["format"]:  # not a creation of ours that was cut short
            raise UsageError(
                f"{shown_path(out)} exists and is not a labram embedding store: pick another --out"
            )
    return False


def creation_started(out: Path) -> bool:
    """Whether ``out`` holds a creation of ours cut short: the marker, or (killed while
    writing it) nothing but the marker's folder and its temporary file."""
    meta = out / META_DIR
    if (meta / CREATING).is_file():
        return True
    if [e.name for e in out.iterdir()] != [META_DIR] or not meta.is_dir() or meta.is_symlink():
        return False
    from eegprep.base.files import TMP_MARK

    return all(e.name.startswith(CREATING + TMP_MARK) and e.is_file() for e in meta.iterdir())


def json_file(path: Path) -> dict[str, Any]:
    """A JSON object file of an embedding store, or one line naming it when damaged."""
    try:
        doc = strict_json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(
            f"{shown_path(path)}: unreadable ({exc}): the embedding store is damaged; pick another "
            "--out"
        ) from None
    if not isinstance(doc, dict):
        raise UsageError(f"{shown_path(path)}: not a JSON object: the embedding store is damaged")
    if (KEY in doc and doc[KEY] != digest(doc)) or near_key(doc) is not None:  # (a flipped bit)
        raise UsageError(
            f"{shown_path(path)}: its entries do not match its {KEY} (changed since labram wrote "
            "it: a flipped bit, a bad copy): the embedding store is damaged; pick another --out"
        )
    return {k: v for k, v in doc.items() if k != KEY}


__all__ = [
    "CREATING",
    "RECORDS_LEFT_OUT",
    "UNCOMPARED",
    "VERSIONS",
    "creation_started",
    "open_existing",
    "recording_versions",
    "recordings_changed",
]
