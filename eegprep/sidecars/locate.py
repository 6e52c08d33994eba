"""Where a recording's sidecar files are: same-stem suffixes and folder-relative templates.

``[sidecar] suffixes`` name files that share the recording's stem (``.rec``, ``.csv_bi``,
``_seiz.csv``). ``[sidecar] paths`` name files relative to the recording's folder, formatted
with the path pattern's named groups and then globbed (Siena's per-patient list,
``"Seizures-list-{subject}.txt"``). Both lists keep the manifest's order.
"""

from __future__ import annotations

import glob
import os

from eegprep.errors import SourceError
from eegprep.manifest import Manifest


def find_sidecars(manifest: Manifest, path: str, fields: dict[str, str]) -> list[str]:
    """Existing sidecar files of the recording at ``path``, in the manifest's order.

    Raises
    ------
    SourceError
        When the sidecar is required and none exists (naming the files looked for).
    """
    base = os.path.splitext(path)[0]
    found = [base + s for s in manifest.sidecar_suffixes if os.path.exists(base + s)]
    wanted = [os.path.basename(base + s) for s in manifest.sidecar_suffixes]
    folder = os.path.dirname(path)
    for template in manifest.sidecar_paths:
        try:
            rel = template.format(**fields)
        except KeyError as exc:
            raise SourceError(
                path, f"sidecar.paths {template!r} uses {exc} which the path pattern lacks"
            ) from None
        target = os.path.normpath(os.path.join(folder, rel))
        wanted.append(os.path.relpath(target, folder))
        found += [
            p for p in sorted(glob.glob(glob.escape(folder) + os.sep + rel)) if p not in found
        ]
    if not found and manifest.sidecar_required:
        raise SourceError(
            path, f"missing sidecar {' or '.join(wanted)}: labels and events come from it"
        )
    return found
