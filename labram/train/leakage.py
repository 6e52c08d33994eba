"""Which subjects a model was pre-trained on, and the check that keeps them out of test sets.

Every pre-training checkpoint (``tokenizer.pt``, ``model.pt``, each ``last.pt``) records the
``subject_key`` of every recording it trained on, under ``pretrain_subjects``; fine-tuning
carries the record into ``best.pt``. ``labram finetune`` and ``labram evaluate`` compare a task's
test subjects with it and refuse a test set that overlaps (``--allow-seen-subjects`` to go on).

The record is plain data (it reads back with ``weights_only=True``): ``n`` and either ``keys``,
the sorted keys, or, above :data:`MAX_LISTED` keys, ``sha256_64``, a sorted int64 tensor of the
first 8 bytes of each key's SHA-256 (a false match needs a 64-bit collision). ``complete`` is
False when part of the model came from elsewhere with no record (e.g. the released
``vqnsp.pth`` as the tokenizer), or when it trained on a recording without a ``subject_key``:
the leakage check then says it cannot tell. The released LaBraM weights carry no record at all.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

import torch

from eegprep.base.errors import UsageError

KEY = "pretrain_subjects"
MAX_LISTED = 50_000
"""Above this many subjects the record holds 64-bit hashes rather than the keys."""


def _hash64(key: str) -> int:
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "little", signed=True)


def make_record(keys: Iterable[str], *, complete: bool = True) -> dict[str, Any]:
    """The record of the subject keys ``keys`` (plain types only)."""
    uniq = sorted(set(keys))
    if len(uniq) <= MAX_LISTED:
        return {"n": len(uniq), "keys": uniq, "complete": complete}
    hashes = torch.tensor(sorted({_hash64(k) for k in uniq}), dtype=torch.int64)
    return {"n": len(uniq), "sha256_64": hashes, "complete": complete}


def trained_record(index: Any) -> dict[str, Any]:
    """The record of the subjects whose recordings give ``index`` (a
    :class:`~labram.data.windows.WindowIndex`) its windows. Incomplete when any of those
    recordings has no ``subject_key``: whose it is cannot be told, so neither can leakage."""
    from labram.data.windows import recordings_used

    keys = [plan.subject_key or "" for plan in recordings_used(index)]
    return make_record({k for k in keys if k}, complete=all(keys))


def merge(*records: dict[str, Any] | None, extra: Iterable[str] = ()) -> dict[str, Any]:
    """One record of the subjects of every record and of ``extra``; a None record (unknown
    subjects) makes the result incomplete."""
    keys = set(extra)
    hashes: set[int] = set()
    complete = True
    for rec in records:
        if rec is None:
            complete = False
            continue
        complete = complete and bool(rec.get("complete", True))
        if "keys" in rec:
            keys.update(rec["keys"])
        else:
            hashes.update(int(h) for h in rec["sha256_64"].tolist())
    if not hashes:
        return make_record(keys, complete=complete)
    hashes.update(_hash64(k) for k in keys)
    tensor = torch.tensor(sorted(hashes), dtype=torch.int64)
    return {"n": len(hashes), "sha256_64": tensor, "complete": complete}


def seen(record: dict[str, Any], keys: Iterable[str]) -> set[str]:
    """The keys among ``keys`` that ``record`` holds."""
    keys = set(keys)
    if "keys" in record:
        return keys & set(record["keys"])
    known = set(record["sha256_64"].tolist())
    return {k for k in keys if _hash64(k) in known}


def record_of(obj: Any, source: str = "the checkpoint") -> dict[str, Any] | None:
    """The record in a checkpoint already read (ours, or a training checkpoint), or None.

    Raises
    ------
    UsageError
        The record is not one :func:`make_record` writes (a damaged or crafted file), naming
        ``source``.
    """
    if not isinstance(obj, dict):
        return None
    rec = obj.get(KEY)
    if rec is None and isinstance(obj.get("extra"), dict):
        rec = obj["extra"].get(KEY)
    if rec is None:
        return None
    problem = _malformed(rec)
    if problem:
        raise UsageError(f"{source}: its record of pre-training subjects ({KEY}) {problem}")
    return rec


def _malformed(rec: Any) -> str | None:
    """What is wrong with a subject record, or None."""
    if not isinstance(rec, dict):
        return f"is a {type(rec).__name__}, not a dict"
    if not isinstance(rec.get("complete", True), bool):
        return "has a 'complete' that is not true or false"
    if "keys" in rec:
        keys = rec["keys"]
        if not isinstance(keys, list | tuple) or not all(isinstance(k, str) for k in keys):
            return "has 'keys' that are not a list of subject keys"
        return None
    hashes = rec.get("sha256_64")
    if not isinstance(hashes, torch.Tensor) or hashes.dtype != torch.int64 or hashes.ndim != 1:
        return "has neither a list of 'keys' nor a 1-D int64 tensor 'sha256_64'"
    return None


def check_test_subjects(
    record: dict[str, Any] | None, test_keys: Iterable[str], *, allow: bool, source: str
) -> str:
    """The line "k of N test subjects were seen in pre-training" for ``source``'s record.

    Raises
    ------
    UsageError
        When k > 0 and not ``allow`` (one line; the CLI exits with status 2).
    """
    test = set(test_keys)
    if record is None:
        return (
            f"{source} records no pre-training subjects (made from weights that carry no "
            "record, such as the released LaBraM weights, or by an earlier version): cannot "
            f"check the {len(test)} test subjects for leakage"
        )
    k = len(seen(record, test))
    line = f"{k} of {len(test)} test subjects were seen in pre-training ({source})"
    if not record.get("complete", True):
        line = (
            f"cannot tell whether the {len(test)} test subjects were seen in pre-training: the "
            f"record of {source} is incomplete (part of the model came without one, or trained "
            f"on recordings without a subject_key); {k} of them are in it"
        )
    if k and not allow:
        raise UsageError(
            f"{line}: their test metrics would be optimistic; pre-train without them "
            "(--exclude-subjects-of) or pass --allow-seen-subjects"
        )
    return line
