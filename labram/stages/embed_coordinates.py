"""The per-window coordinates of ``labram embed``'s output: which recording, subject, corpus
and split each window is of, where it starts, and each recording label as an array named
:func:`label_array_name` (numbers, or names in the canonical form the tasks read)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from eegprep.store.reader import Store
from labram.data.label_forms import is_numeric, label_text
from labram.data.windows import WindowIndex, open_stores
from labram.model.config import PATCH_SIZE


def _label_values(values: list[Any]) -> np.ndarray:
    """One recording label over the windows, in the canonical form the tasks read
    (:func:`~labram.data.label_forms.label_text`): float64 (NaN where absent or no single
    value) when every value is a number (``True``, ``"1.0"`` and ``1`` all 1.0), else strings
    NFC-normalised and stripped ('' where absent)."""
    numeric = is_numeric(values)
    texts = [label_text(v, numeric=numeric) for v in values]
    if numeric:
        return np.array([np.nan if t is None else float(t) for t in texts], np.float64)
    return np.array(["" if t is None else t for t in texts], dtype=object)


NAME_BYTES = 200
"""The longest array name written (a file name's limit is 255 bytes on most file systems)."""


def label_array_name(key: str) -> str:
    """The array name of recording label ``key``: ``label_<key>``, where every character of
    ``key`` that cannot stand in a Zarr node name or a CF ``coordinates`` list (``/``, ``\\``,
    whitespace, control and other unprintable characters) is written as ``%XX`` per UTF-8
    byte, ``%`` too; a name that would be longer than :data:`NAME_BYTES` is cut and ends in
    ``~`` and 16 hex digits of the key's SHA-256. Keys of letters, digits, ``_``, ``-`` and
    ``.`` keep their name. A store's label keys come from its sidecars and manifests: ``a/b``
    made a nested group, ``../x`` a Zarr error after part of the output was written, a space
    a data variable instead of a coordinate (its array keeps the key as attribute
    ``label_key``)."""

    def part(c: str) -> str:
        if c.isprintable() and not c.isspace() and c not in "/\\%":
            return c
        return "".join(f"%{b:02X}" for b in c.encode("utf-8", "surrogatepass"))

    name = "label_" + "".join(part(c) for c in key)
    if len(name.encode("utf-8", "surrogatepass")) <= NAME_BYTES:
        return name
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    head = name.encode("utf-8", "surrogatepass")[: NAME_BYTES - 17].decode("utf-8", "ignore")
    return f"{head}~{digest}"


def coordinates(
    index: WindowIndex, stores: Sequence[str | Store], label_keys: dict[str, str] | None = None
) -> dict[str, np.ndarray]:
    """The per-window coordinates (recording, subject, ..., ``label_<key>``:
    :func:`label_array_name`); ``label_keys``, when given, gets each label array's key by
    name."""
    opened = open_stores(list(stores))
    recs = [opened[p.store].recording(p.id) for p in index.recordings]
    r = index.rec
    out: dict[str, np.ndarray] = {}
    for name, attr in (
        ("recording", "id"),
        ("subject", "subject"),
        ("subject_key", "subject_key"),
        ("corpus", "corpus"),
        ("split", "split"),
    ):
        per_rec = np.array([str(getattr(x, attr) or "") for x in recs], dtype=object)
        out[name] = per_rec[r] if len(r) else np.zeros(0, object)
    out["start_s"] = index.start / PATCH_SIZE
    out["duration_s"] = index.n_patches.astype(np.float64)
    out["n_channels"] = index.n_channels
    for key in sorted({k for x in recs for k in x.labels}):
        values = _label_values([x.labels.get(key) for x in recs])
        name = label_array_name(key)
        out[name] = values[r] if len(r) else values[:0]
        if label_keys is not None:
            label_keys[name] = key
    return out
