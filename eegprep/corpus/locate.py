"""Where a recording's sidecar files are: same-stem suffixes and root-relative templates.

``[sidecar] suffixes`` name files that share the recording's stem (``.rec``, ``.csv_bi``,
``_seiz.csv``). ``[sidecar] files`` name files relative to the corpus root, formatted with the
path fields (``{dir}`` is the recording's folder, plus the pattern's named groups) and then
globbed: Siena's per-patient ``"{dir}/Seizures-list-{subject}.txt"``, Inria's one
``"TrainLabels.csv"``. Both lists keep the manifest's order.
"""

from __future__ import annotations

import glob
import os
import re
from typing import Any

from eegprep.base.errors import SourceError, UsageError
from eegprep.base.path_limits import shown_path
from eegprep.base.regular_files import open_regular, special_file
from eegprep.base.shown_text import quoted_path
from eegprep.base.wording import counted
from eegprep.corpus.manifest import Manifest
from eegprep.readers.companions import fold


def wanted_sidecars(manifest: Manifest, root: str, path: str, fields: dict[str, str]) -> list[str]:
    """Every sidecar path (or glob) the manifest asks for, absolute, in order."""
    base = os.path.splitext(path)[0]
    out = [base + s for s in manifest.sidecar_suffixes]
    for template in manifest.sidecar_files:
        try:
            rel = template.format(**fields)
        except (KeyError, IndexError, ValueError) as exc:
            raise UsageError(
                f"{shown_path(manifest.file)}: sidecar.files entry {template!r} uses {exc} which "
                "the path pattern does not capture"
            ) from None
        out.append(os.path.normpath(os.path.join(root, rel.lstrip("/"))))
    return list(dict.fromkeys(out))


_FIELD = re.compile(r"^\{([A-Za-z_]\w*)\}$")


def sidecar_options(m: Manifest, fields: dict[str, str]) -> dict[str, Any]:
    """The manifest's ``[sidecar.options]`` for one recording: a value that is exactly
    ``"{field}"`` replaced by that path field (``UsageError`` when the pattern captures none)."""
    out: dict[str, Any] = {}
    for key, value in m.sidecar_options:
        hit = _FIELD.match(value) if isinstance(value, str) else None
        if hit and hit.group(1) not in fields:
            raise UsageError(
                f"{shown_path(m.file)}: sidecar.options.{key} is {value!r} but the path pattern "
                f"does not capture {hit.group(1)!r}"
            )
        out[key] = fields[hit.group(1)] if hit else value
    return out


def find_sidecars(
    manifest: Manifest, root: str, path: str, fields: dict[str, str], *, required: bool = True
) -> list[str]:
    """Existing sidecar files of the recording at ``path``, in the manifest's order
    (``required=False``: none is no error even where the manifest requires one, for a command
    that reads no labels).

    Raises
    ------
    SourceError
        When a sidecar's name holds something that is no file (a FIFO, a device, a folder),
        and when the sidecar is required and none exists (naming the files looked for, relative to
        the corpus root).
    """
    wanted = wanted_sidecars(manifest, root, path, fields)
    for p in wanted:
        for hit in sorted(glob.glob(p)) if glob.has_magic(p) else [p]:
            kind = special_file(hit)
            if kind is not None:  # a FIFO would be waited on, a device read without end
                raise SourceError(
                    path,
                    f"sidecar {quoted_path(os.path.relpath(hit, root))} is {kind}, not a file: its "
                    "labels and events cannot be read; put the file itself there",
                )
        if not glob.has_magic(p) and os.path.isfile(p):
            _check_no_other_copy(path, root, p)
        several = [] if glob.has_magic(p) or os.path.isfile(p) else _any_case(p)
        if len(several) > 1:
            listed = ", ".join(quoted_path(os.path.basename(h)) for h in several)
            raise SourceError(
                path,
                f"sidecar {quoted_path(os.path.relpath(p, root))} is not there, and "
                f"{counted(len(several), 'file')} "
                f"beside it differ from it in letter case alone ({listed}): which holds the "
                "labels is unknown; keep one",
            )
    found = existing_sidecars(wanted)
    if not found and required and manifest.sidecar_required:
        names = " or ".join(os.path.relpath(p, root) for p in wanted)
        raise SourceError(path, f"missing sidecar {names}: labels and events come from it")
    return found


def _check_no_other_copy(path: str, root: str, sidecar: str) -> None:
    """Refuse a recording whose sidecar has a twin differing in letter case alone and in its
    bytes (``x.csv_bi`` and ``x.CSV_BI``, as two copies merged on a case-sensitive disk
    leave them): the one spelled as the manifest asks was read, the other passed over, and
    which holds the right labels is unknown. A twin of the same bytes is the same file."""
    others = [h for h in _any_case(sidecar) if h != sidecar and not _same_bytes(sidecar, h)]
    if others:
        listed = ", ".join(quoted_path(os.path.basename(h)) for h in others)
        raise SourceError(
            path,
            f"sidecar {quoted_path(os.path.relpath(sidecar, root))} has "
            f"{counted(len(others), 'copy')} beside it "
            f"differing in letter case alone and in content ({listed}): which holds the labels "
            "is unknown; keep one",
        )


def _same_bytes(a: str, b: str) -> bool:
    """Whether the regular files ``a`` and ``b`` hold the same bytes (1 MiB reads)."""
    if os.path.getsize(a) != os.path.getsize(b):
        return False
    with open_regular(a, buffering=-1) as fa, open_regular(b, buffering=-1) as fb:
        while chunk := fa.read(1 << 20):
            if chunk != fb.read(len(chunk)):
                return False
    return True


def sidecar_twins(wanted: list[str]) -> list[str]:
    """The files :func:`find_sidecars` compares with a sidecar found under its exact name:
    those beside it whose names differ from it in letter case alone (``x.CSV_BI`` beside
    ``x.csv_bi``), which refuse the recording when their bytes differ. They are read, so they
    enter the fingerprint: a twin that appears, or is changed to other bytes, is judged
    again."""
    out: list[str] = []
    for p in wanted:
        if not glob.has_magic(p) and os.path.isfile(p):
            out += [h for h in _any_case(p) if h != p and h not in out]
    return out


def existing_sidecars(wanted: list[str]) -> list[str]:
    """The files that exist among ``wanted`` (paths or globs), in order, without repeats.

    A path that does not exist as written is also looked for in any letter case of its file
    name (``X.CSV_BI`` beside ``X.EDF``), as archives copied through case-folding systems have
    them.
    """
    found: list[str] = []
    for pattern in wanted:
        hits = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
        for p in hits:
            for hit in [p] if os.path.isfile(p) else _any_case(p):
                if hit not in found:
                    found.append(hit)
    return found


def _any_case(path: str) -> list[str]:
    """The files beside ``path`` whose names differ from its name in letter case (or Unicode
    form) alone, sorted: several are all given (their bytes all enter the fingerprint;
    :func:`find_sidecars` refuses them), never the first taken silently."""
    folder, name = os.path.split(path)
    try:
        entries = os.listdir(folder or ".")
    except OSError:
        return []
    matches = sorted(e for e in entries if fold(e) == fold(name))
    return [os.path.join(folder, m) for m in matches if os.path.isfile(os.path.join(folder, m))]
