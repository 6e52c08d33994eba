"""Label files whose recording is not there: said in the report, never passed over unsaid.

A TUH ``.csv_bi`` or TUEV ``.rec`` whose EDF is missing (a download that stopped, a copy that
left it out) holds the labels of a recording the store will not have. Nothing wrong is stored,
but the corpus is silently smaller than its labels say: the report lists each such file among
the files skipped, with the recording it was looked for beside.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable

from eegprep.corpus.manifest import Manifest
from eegprep.readers.companions import fold

_EXTENSION = re.compile(r"\*(\.[^/*?\[\]]+)$")
"""The extension an include glob's last name gives its recordings (``edf/**/*.edf``)."""


def orphan_sidecars(
    manifest: Manifest,
    entries: Iterable[str],
    recordings: Iterable[str],
    listable: Callable[[str], bool],
) -> list[tuple[str, str]]:
    """``(rel, why)`` for each of the walk's ``entries`` (paths relative to the corpus root)
    named as one of the manifest's same-stem sidecars (``[sidecar] suffixes``, in any case)
    beside no file of ``recordings`` (the included files), where a recording of that stem
    would be listed (``listable`` of its path: included, not excluded, matched by the path
    pattern): not a file of another kind that merely ends the same (a ``DOCS/x.csv``)."""
    suffixes = [fold(s) for s in manifest.sidecar_suffixes]
    extensions = [m.group(1) for p in manifest.include if (m := _EXTENSION.search(p))]
    if not suffixes or not extensions:
        return []
    stems = {fold(os.path.splitext(rel)[0]) for rel in recordings}
    out = []
    for rel in entries:
        name = fold(rel)
        bases = [
            rel[: len(rel) - len(s)] for s in suffixes if name.endswith(s) and len(rel) > len(s)
        ]
        if not bases or any(fold(base) in stems for base in bases):
            continue
        wanted = [base + ext for base in bases for ext in extensions]
        missing = next((path for path in wanted if listable(path)), None)
        if missing is not None:
            out.append((rel, _why(missing)))
    return out


def _why(missing: str) -> str:
    return (
        f"a label file of no recording: {missing.rpartition('/')[2]} is not beside it, so its "
        "labels are not read (a download or copy that left the recording out?)"
    )
