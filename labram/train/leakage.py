"""Which subjects a model was pre-trained on, and the check that keeps them out of test sets.

Every pre-training checkpoint (``tokenizer.pt``, ``model.pt``, each ``last.pt``) records the
``subject_key`` of every recording it trained on, under ``pretrain_subjects``; fine-tuning
carries the record into ``best.pt``. ``labram finetune`` and ``labram evaluate`` compare a task's
test subjects with it and refuse a test set that overlaps (``--allow-seen-subjects`` to go on).

The record is plain data (it reads back with ``weights_only=True``): ``n`` and either ``keys``,
the sorted keys, or, above :data:`MAX_LISTED` keys, ``sha256_64``, a sorted int64 tensor of the
first 8 bytes of each key's SHA-256 (a false match needs a 64-bit collision). ``sources_64``, the
same hashes of each recording's source identity (its source file's content digest and part,
:func:`labram.data.tasks.source_identity`), catches a test recording whose file was pre-trained
on under another subject key (another corpus's manifest, a store with no subject keys); records
written before it have none, and only their subject keys are checked. ``complete`` is
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
from eegprep.base.path_limits import shown_path
from eegprep.base.wording import counted, noun, of_total
from labram.data.subjects import subject_key

KEY = "pretrain_subjects"
MAX_LISTED = 50_000
"""Above this many subjects the record holds 64-bit hashes rather than the keys."""


def _hash64(key: str) -> int:
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "little", signed=True)


SOURCES = "sources_64"
"""The record's entry of hashed source identities."""


def _hashes(values: Iterable[str | int]) -> torch.Tensor:
    """Sorted distinct 64-bit hashes (:func:`_hash64` of strings; ints are hashes already)."""
    uniq = {v if isinstance(v, int) else _hash64(v) for v in values}
    return torch.tensor(sorted(uniq), dtype=torch.int64)


def make_record(
    keys: Iterable[str], *, complete: bool = True, sources: Iterable[str] | None = None
) -> dict[str, Any]:
    """The record of the subject keys ``keys`` (plain types only); with ``sources``, also of the
    recordings' source identities (``""``: unknown, left out)."""
    uniq = sorted(set(keys))
    if len(uniq) <= MAX_LISTED:
        rec: dict[str, Any] = {"n": len(uniq), "keys": uniq, "complete": complete}
    else:
        rec = {"n": len(uniq), "sha256_64": _hashes(uniq), "complete": complete}
    if sources is not None:
        rec[SOURCES] = _hashes(s for s in sources if s)
    return rec


def trained_record(index: Any) -> dict[str, Any]:
    """The record of the subjects whose recordings give ``index`` (a
    :class:`~labram.data.windows.WindowIndex`) its windows. Incomplete when any of those
    recordings has no ``subject_key``: whose it is cannot be told, so neither can leakage."""
    from labram.data.windows import recordings_used

    used = recordings_used(index)
    keys = [plan.subject_key or "" for plan in used]
    return make_record({k for k in keys if k}, complete=all(keys), sources=_sources(index, used))


def _sources(index: Any, used: list[Any]) -> list[str]:
    """The source identity of each recording in ``used`` (plans of ``index``), read from its
    store's index lines (:meth:`~eegprep.store.reader.Store.source_identities`: no record is
    parsed; the window index keeps none); ``""`` where a record states none or cannot be read
    (that recording is then checked by its subject key alone)."""
    from eegprep.store.reader import open_store

    by_store: dict[int, list[Any]] = {}
    for plan in used:
        by_store.setdefault(plan.store, []).append(plan)
    found: list[str] = []
    for i, plans in by_store.items():
        known = [p.source for p in plans if p.source]
        if len(known) == len(plans):
            found.extend(known)
            continue
        try:  # the stores the index was built from, else opened again
            store = index.opened[i] if index.opened is not None else open_store(index.urls[i])
            ids = store.source_identities()
        except Exception:  # (it was read for training: a store gone since then)
            continue
        found.extend(p.source or ids.get(p.id, "") for p in plans)
    return found


def merge(*records: dict[str, Any] | None, extra: Iterable[str] = ()) -> dict[str, Any]:
    """One record of the subjects of every record and of ``extra``; a None record (unknown
    subjects) makes the result incomplete. Listed keys are merged as the record text rule
    cleans them (:func:`~labram.data.subjects.subject_key`: an earlier version's checkpoint may
    list ``"tuh:s01 "``), so that one subject is counted once and, past :data:`MAX_LISTED`,
    hashed as :func:`seen` compares it."""
    keys = {k for k in map(subject_key, extra) if k}
    hashes: set[int] = set()
    sources: set[int] | None = None
    complete = True
    for rec in records:
        if rec is None:
            complete = False
            continue
        complete = complete and bool(rec.get("complete", True))
        if "keys" in rec:
            keys.update(k for k in map(subject_key, rec["keys"]) if k)
        else:
            hashes.update(int(h) for h in rec["sha256_64"].tolist())
        if SOURCES in rec:
            sources = (sources or set()) | {int(h) for h in rec[SOURCES].tolist()}
    if not hashes:
        out = make_record(keys, complete=complete)
    else:
        hashes.update(_hash64(k) for k in keys)
        out = {"n": len(hashes), "sha256_64": _hashes(hashes), "complete": complete}
    if sources is not None:
        out[SOURCES] = _hashes(sources)
    return out


def seen(record: dict[str, Any], keys: Iterable[str]) -> set[str]:
    """The keys among ``keys`` that ``record`` holds; a listed key as the record text rule
    cleans it (:func:`~labram.data.subjects.subject_key`: a checkpoint an earlier version wrote
    may list ``"tuh:s01 "``). Hashed keys are compared as recorded."""
    keys = set(keys)
    if "keys" in record:
        return keys & {subject_key(k) for k in record["keys"]}
    known = set(record["sha256_64"].tolist())
    return {k for k in keys if _hash64(k) in known}


def seen_sources(record: dict[str, Any], sources: Iterable[str]) -> set[str]:
    """The source identities among ``sources`` that ``record`` holds (none when it records no
    sources)."""
    if SOURCES not in record:
        return set()
    known = set(record[SOURCES].tolist())
    return {s for s in sources if s and _hash64(s) in known}


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
        raise UsageError(
            f"{shown_path(source)}: its record of pre-training subjects ({KEY}) {problem}"
        )
    return rec


def _malformed(rec: Any) -> str | None:
    """What is wrong with a subject record, or None."""
    if not isinstance(rec, dict):
        return f"is a {type(rec).__name__}, not a dict"
    if not isinstance(rec.get("complete", True), bool):
        return "has a 'complete' that is not true or false"
    sources = rec.get(SOURCES)
    if SOURCES in rec and not _int64_vector(sources):
        return f"has a '{SOURCES}' that is not a 1-D int64 tensor"
    if "keys" in rec:
        keys = rec["keys"]
        if not isinstance(keys, list | tuple) or not all(isinstance(k, str) for k in keys):
            return "has 'keys' that are not a list of subject keys"
        return None
    if not _int64_vector(rec.get("sha256_64")):
        return "has neither a list of 'keys' nor a 1-D int64 tensor 'sha256_64'"
    return None


def _int64_vector(value: Any) -> bool:
    return isinstance(value, torch.Tensor) and value.dtype == torch.int64 and value.ndim == 1


def check_test_subjects(
    record: dict[str, Any] | None,
    test_keys: Iterable[str],
    *,
    allow: bool,
    source: str,
    test_sources: Iterable[str] = (),
    unkeyed: int = 0,
    split: str = "test",
) -> str:
    """The line "k of N test subjects were seen in pre-training" for ``source``'s record, and
    how many test recordings' source files were pre-trained on under another subject key
    (``test_sources``: their source identities; a record without ``sources_64`` checks none);
    ``unkeyed``: test recordings without a ``subject_key``, which the count of subjects leaves
    out (the line says how many).

    ``split``: the split whose subjects ``test_keys`` are, named in the line (``labram evaluate
    --split val`` counts the validation subjects: it said "test subjects" of them). Only a
    ``test`` split is refused; of another the line is information: the training and
    validation subjects are often pre-trained on by design (:data:`INFORMATION`).

    Raises
    ------
    UsageError
        When k > 0 or such a file is found, the split is ``test``, and not ``allow`` (one line;
        the CLI exits with status 2).
    """
    test = set(test_keys)
    if record is None:
        return (
            f"{shown_path(source)} records no pre-training subjects (made from weights that carry "
            "no record, such as the released LaBraM weights, or by an earlier version): cannot "
            f"check the {counted(len(test), f'{split} subject')} for leakage"
        )
    k = len(seen(record, test))
    files = set(test_sources) - {""}
    m = len(seen_sources(record, files))
    line = _leakage_line(record, len(test), k, (m, len(files)), unkeyed, split, source)
    if split != "test":
        return f"{line} ({INFORMATION})"
    if (k or m) and not allow:
        fix = (
            "pre-train without them (--exclude-subjects-of)"
            if k
            else ("pre-train without those files")
        )
        raise UsageError(
            f"{line}: their test metrics would be optimistic; {fix} or pass --allow-seen-subjects"
        )
    return line


def _leakage_line(
    record: dict[str, Any],
    n_test: int,
    k: int,
    files_seen: tuple[int, int],
    unkeyed: int,
    split: str,
    source: str,
) -> str:
    """:func:`check_test_subjects`'s line: ``k`` of ``n_test`` subjects of ``split`` seen in
    ``source``'s pre-training (or an incomplete record's caveat), the recordings without a
    subject key, and ``files_seen`` (m of n source files pre-trained on)."""
    recordings = f"{split} recording"
    m, n_files = files_seen
    line = (
        f"{of_total(k, n_test, f'{split} subject', 'was seen')} in pre-training "
        f"({shown_path(source)})"
    )
    if not record.get("complete", True):
        line = (
            f"cannot tell whether the {counted(n_test, f'{split} subject')} "
            f"{noun(n_test, 'was', 'were')} seen in pre-training: the record of "
            f"{shown_path(source)} is incomplete (part of the model came without one, or trained "
            "on recordings without a subject_key); "
            f"{of_total(k, n_test, f'{split} subject', 'is', the=True)} in it"
        )
    if unkeyed:
        line += (
            f"; {counted(unkeyed, recordings)} {noun(unkeyed, 'has')} no subject_key and "
            f"{noun(unkeyed, 'is')} not in that count "
            "(the check of source files, where the record has one, covers them)"
        )
    if m:
        line += (
            f"; {of_total(m, n_files, f'{recordings} source file', 'was', the=True)} "
            "pre-trained on "
            "(the same file's content, whatever its subject key)"
        )
    return line


INFORMATION = (
    "information, not a refusal: only the test split's are refused; training and validation "
    "subjects are often pre-trained on by design"
)
"""What the line of a split other than ``test`` adds (:func:`check_test_subjects`)."""
