"""The stores one command reads together: each store once, each recording once, one sampling
rate and one channel vocabulary, and a word for what else they disagree in.

Every command that reads stores opens them through :func:`labram.data.windows.open_stores`,
which applies these rules (docs/training.md, "Several stores"):

- **The same store given twice** (the same path, another spelling of it, a ``file:`` URL of
  it, a symlink to it, another mount of it: by device and inode): read once, one warning naming
  both arguments (:func:`unique_stores`).
- **The same recording in two stores** (two stores ingested from the same source files, say
  with two recipes, or TUAB's files inside a TUEG store): two records are the same recording
  when their :func:`~eegprep.store.record.source_identity` (the source file's content digest
  and part) is equal. The recording is read from the first store that holds it and left out of
  the others, so that it is not drawn twice per epoch; one warning per store pair says how many
  and names one. Task splits, ``--exclude-subjects-of`` and the seen-subjects check then see
  each recording once. Records stating no digest are never taken as copies.
- **Another sampling rate, another channel vocabulary**: refused in one line (a LaBraM patch is
  200 samples, one second only at the rate the model was built for; a ``channel_index`` names
  a channel of its own store's vocabulary).
- **Another preprocessing recipe** (``recipe_hash``: filters, ``mode``, encoding): one warning
  per store naming the recipe fields that differ from the first store's, since the model then
  sees samples of two recipes mixed.

A command opens and reconciles its stores once (:func:`labram.data.windows.open_stores`) and
hands the :class:`Store` objects to its stages: a set this module reconciled is recognised
when it comes back (:func:`is_reconciled`, by identity) and passes through as it is, and each
store keeps the name it was given as (:func:`given_name`), which runs record.

Cost: the root attributes, and with two stores or more each recording's source identity,
decoded from the index lines already in memory (:meth:`eegprep.store.reader.Store.
source_identities`); no record is parsed and no group opened.
"""

from __future__ import annotations

import logging
import os
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eegprep.base.errors import UsageError
from eegprep.base.file_urls import is_remote_url, local_path
from eegprep.base.files import as_text
from eegprep.base.redact import redact
from eegprep.base.same_files import identity
from eegprep.base.wording import counted
from eegprep.store.reader import Store

log = logging.getLogger(__name__)

IGNORED_RECIPE_FIELDS = ("block_seconds", "filter_design")
"""Recipe fields not compared: ``block_seconds`` changes no sample (it is outside the recipe's
hash); ``filter_design`` is prose that follows ``mode`` and ``version``, which are compared."""


_GIVEN: weakref.WeakKeyDictionary[Store, str] = weakref.WeakKeyDictionary()
"""The name each store opened here was given as (a local path as typed, not made absolute)."""

_SETS: weakref.WeakKeyDictionary[Store, tuple[weakref.ref[Store], ...]] = (
    weakref.WeakKeyDictionary()
)
"""The reconciled set each store was returned in (weak references: no store is kept alive)."""


def remember(stores: Sequence[Store], names: Sequence[str], *, reconciled: bool) -> None:
    """Note ``names``, the arguments ``stores`` were opened from, and, when ``reconciled``,
    that ``stores`` are one set :func:`reconcile` returned (:func:`is_reconciled`)."""
    members = tuple(weakref.ref(s) for s in stores)
    for store, name in zip(stores, names, strict=True):
        _GIVEN[store] = name
        if reconciled:
            _SETS[store] = members


def is_reconciled(stores: Sequence[str | Store]) -> bool:
    """Whether ``stores`` are, in order, the very objects of one set :func:`reconcile` returned
    (opening and reconciling them again would give them back unchanged)."""
    if not stores or not all(isinstance(s, Store) for s in stores):
        return False
    members = _SETS.get(stores[0])  # type: ignore[arg-type]
    if members is None or len(members) != len(stores):
        return False
    return all(ref() is s for ref, s in zip(members, stores, strict=True))


def given_name(store: str | Store) -> str:
    """A store argument as runs record it: a URL or path as given; a :class:`Store` by the
    argument it was opened from here (its URL when it was opened elsewhere)."""
    if isinstance(store, Store):
        return _GIVEN.get(store, store.url)
    return os.fspath(store)


def given_names(stores: Sequence[str | Store]) -> list[str]:
    """:func:`given_name` of each of ``stores``."""
    return [given_name(s) for s in stores]


def same_stores(first: Any, second: Any) -> bool:
    """Whether two lists of store arguments (a run's record, ``first``, and a command's,
    ``second``) name the same stores in the same order, each spelled as given or another way
    (a trailing ``/``, ``./``, a symbolic link to it, a ``file:`` URL: :func:`store_key`). A copy
    of a store at another path is another store. False when either is no list of text."""
    if not (isinstance(first, list) and isinstance(second, list)) or len(first) != len(second):
        return False
    if not all(isinstance(u, str) for u in [*first, *second]):
        return False
    # (a record holds a name whose bytes are not UTF-8 \xNN-escaped: as_text, as it wrote it)
    return all(
        a in (b, as_text(b)) or store_key(a) == store_key(b)
        for a, b in zip(first, second, strict=True)
    )


def unique_stores(urls: Sequence[str | Store]) -> list[str | Store]:
    """``urls`` without a store given again (by the same path, another spelling of it, a
    ``file:`` URL or a symlink to it), with a warning for each naming both: its windows would
    be drawn twice."""
    seen: dict[str, str | Store] = {}
    for u in urls:
        key = store_key(u.url if isinstance(u, Store) else os.fspath(u))
        if key in seen:
            first = seen[key]
            log.warning(
                "%s: the same store as %s, given twice; it is read once", shown(u), shown(first)
            )
            continue
        seen[key] = u
    return list(seen.values())


def store_key(url: str) -> str:
    """What tells two store URLs apart: a local folder's device and inode (another mount of
    it too: :func:`eegprep.base.same_files.identity`), else its resolved path; a remote URL
    without a trailing ``/``."""
    if not is_remote_url(url):
        path = local_path(url)
        found = identity(path)
        return f"inode {found[0]} {found[1]}" if found else os.path.realpath(path)
    return url.rstrip("/")


def shown(store: str | Store) -> str:
    """A store argument as messages show it: as given, credentials hidden."""
    return redact(given_name(store))


def reconcile(
    stores: Sequence[Store], *, names: Sequence[str] | None = None, warn: bool = False
) -> list[Store]:
    """``stores`` (opened, each once) read together: refused when they cannot be (another
    sampling rate or channel vocabulary), each recording kept in the first store that holds it
    only; ``warn``: one warning line per recipe difference and per store pair sharing
    recordings (a command says them once, when it first opens its stores). ``names``: the
    stores as messages show them (as given; default: their URLs).

    Raises
    ------
    UsageError
        Two stores of different sampling rates or channel vocabularies.
    """
    names = list(names) if names is not None else [s.display for s in stores]
    check_compatible(stores, names)
    if warn:
        for line in recipe_differences(stores, names):
            log.warning("%s", line)
    if len(stores) < 2:
        return list(stores)
    shared = shared_recordings(stores, names)
    if warn:
        for pair in shared:
            log.warning("%s", pair.message())
    drop: dict[int, list[str]] = {}
    for pair in shared:
        drop.setdefault(pair.later, []).extend(pair.ids)
    return [s.without(drop.get(i, ())) for i, s in enumerate(stores)]


def check_compatible(stores: Sequence[Store], names: Sequence[str]) -> None:
    """Refuse, in one line naming both stores, two whose sampling rates differ, or whose
    channel vocabularies disagree (one may be a shorter, older version of the other's)."""
    if not stores:
        return
    first = stores[0]
    for other, name in zip(stores[1:], names[1:], strict=True):
        if other.sfreq != first.sfreq:
            raise UsageError(
                f"{name}: sampled at {other.sfreq:g} Hz, {names[0]} at "
                f"{first.sfreq:g} Hz; one run reads one rate (a patch is {first.sfreq:g} samples "
                "of the first): give stores of one rate"
            )
    vocabularies = [(n, s.attrs.get("vocabulary")) for s, n in zip(stores, names, strict=True)]
    known = [(n, v) for n, v in vocabularies if isinstance(v, list)]
    for name, vocab in known[1:]:
        base_name, base = known[0]
        n = min(len(base), len(vocab))
        if base[:n] != vocab[:n]:
            at = next(i for i in range(n) if base[i] != vocab[i])
            raise UsageError(
                f"{name}: its channel vocabulary differs from {base_name}'s "
                f"(channel {at}: {vocab[at]!r}, not {base[at]!r}), so a channel index "
                "would name two channels: re-ingest it with this eegprep"
            )


def recipe_differences(stores: Sequence[Store], names: Sequence[str]) -> list[str]:
    """One warning line for each store whose recipe (``recipe_hash``) is not the first store's,
    naming the fields that differ and their values."""
    if not stores:
        return []
    first = stores[0]
    lines = []
    for other, name in zip(stores[1:], names[1:], strict=True):
        if other.recipe_hash == first.recipe_hash:
            continue
        a, b = first.recipe, other.recipe
        keys = sorted((set(a) | set(b)) - set(IGNORED_RECIPE_FIELDS))
        diff = [f"{k} {b.get(k)!r} vs {a.get(k)!r}" for k in keys if a.get(k) != b.get(k)]
        what = "; ".join(diff) or "recipe_hash only"
        lines.append(
            f"{name}: made with another preprocessing recipe than {names[0]} "
            f"({what}): the model sees samples of both recipes mixed; ingest the stores with "
            "one recipe to train on one"
        )
    return lines


@dataclass(frozen=True)
class SharedRecordings:
    """Recordings of store ``later`` that store ``first`` (given before it) holds too."""

    stores: tuple[str, str]  # (later, first), as messages show them
    later: int  # position of the store holding the copies
    ids: tuple[str, ...]  # their ids in that store, in its order
    example: tuple[str, str]  # one of them: (its id in later, its id in first)
    n_recordings: int  # recordings of the later store

    def message(self) -> str:
        """The one-line warning: how many, one example, what it means and what to do."""
        later, first = self.stores
        rid, first_rid = self.example
        as_first = "" if rid == first_rid else f" as {first_rid}"
        return (
            f"{later}: {len(self.ids)} of its {counted(self.n_recordings, 'recording')} are also "
            f"in {first} (the same source files, e.g. {rid}{as_first}); they are read from {first} "
            "alone, not twice per epoch; give one of the two stores to silence this"
        )


def shared_recordings(stores: Sequence[Store], names: Sequence[str]) -> list[SharedRecordings]:
    """For each pair of stores, the recordings of the later one whose source identity a store
    given before it holds (each copy is ascribed to the first store holding the recording);
    copies inside one store are not this function's (an ingest warns of them)."""
    owner: dict[str, tuple[int, str]] = {}  # source identity -> (store, id) first holding it
    found: dict[tuple[int, int], list[tuple[str, str]]] = {}
    for i, store in enumerate(stores):
        for rid, ident in store.source_identities().items():
            if not ident:
                continue
            held = owner.setdefault(ident, (i, rid))
            if held[0] != i:
                found.setdefault((i, held[0]), []).append((rid, held[1]))
    return [
        SharedRecordings(
            stores=(names[i], names[j]),
            later=i,
            ids=tuple(rid for rid, _ in pairs),
            example=pairs[0],
            n_recordings=len(stores[i]),
        )
        for (i, j), pairs in sorted(found.items())
    ]
